//! Help, `list` and completion: snapshots of what a reader sees, so changes get reviewed.

use crate::support::{Env, snapshot};

#[test]
fn top_level_help() {
    let env = Env::new();
    let out = env.run(&["--help"]);
    out.code(0);
    snapshot("help", &out.stdout);
    let out = env.run(&["help"]);
    out.code(0);
    snapshot("help", &out.stdout);
    for needle in [
        "0  success",
        "2  usage",
        "3  VoIP.ms",
        "4  network",
        "5  configuration",
        "6  a response",
    ] {
        assert!(out.stdout.contains(needle), "{needle}");
    }
    // No command at all: the help, on stdout, as a success (issue 9).
    let out = env.run(&[]);
    out.code(0);
    assert!(out.stdout.contains("Usage: voipms"), "{}", out.stdout);
}

#[test]
fn help_of_commands() {
    let env = Env::new();
    for cmd in [
        "balance",
        "phonebook",
        "spam",
        "cdr",
        "sms",
        "mms",
        "recordings",
        "transcripts",
        "filters",
        "call",
        "doctor",
        "decode",
        "list",
        "completion",
        "sandbox",
    ] {
        let out = env.run(&["help", cmd]);
        out.code(0);
        let same = env.run(&[cmd, "--help"]);
        assert_eq!(out.stdout, same.stdout, "{cmd}");
        snapshot(&format!("help-{cmd}"), &out.stdout);
    }
    let out = env.run(&["help", "sandbox", "serve"]);
    out.code(0);
    assert_eq!(out.stdout, env.run(&["sandbox", "serve", "--help"]).stdout);
    snapshot("help-sandbox-serve", &out.stdout);
    for (cmd, sub) in [
        ("phonebook", "add"),
        ("phonebook", "remove"),
        ("spam", "suggest"),
        ("spam", "mark"),
        ("cdr", "export"),
        ("sms", "send"),
        ("mms", "send"),
        ("recordings", "get"),
        ("recordings", "transcribe"),
        ("transcripts", "search"),
        ("filters", "block"),
    ] {
        let out = env.run(&["help", cmd, sub]);
        out.code(0);
        assert_eq!(out.stdout, env.run(&[cmd, sub, "--help"]).stdout);
        snapshot(&format!("help-{cmd}-{sub}"), &out.stdout);
    }
}

#[test]
fn help_of_methods_three_ways() {
    let env = Env::new();
    for (m, snap) in [
        ("getCDR", true),
        ("getPhonebook", true),
        ("sendSMS", true),
        ("getBalance", false),
    ] {
        let a = env.run(&["help", m]);
        a.code(0);
        let b = env.run(&[m, "help"]);
        let c = env.run(&[m, "--help"]);
        let d = env.run(&[&m.to_lowercase(), "-h"]);
        assert_eq!(a.stdout, b.stdout, "{m}");
        assert_eq!(a.stdout, c.stdout, "{m}");
        assert_eq!(a.stdout, d.stdout, "{m}");
        if snap {
            snapshot(&format!("method-{m}"), &a.stdout);
        }
    }
    let out = env.run(&["help", "sendSMS"]);
    assert!(out.stdout.contains("spends money"), "{}", out.stdout);
    let out = env.run(&["help", "nonsense"]);
    out.code(2);
}

#[test]
fn list_and_filters() {
    let env = Env::new();
    let out = env.run(&["list"]);
    out.code(0);
    snapshot("list", &out.stdout);
    assert!(out.stdout.contains("226 methods."), "{}", out.stdout);
    let out = env.run(&["list", "--category", "phonebook", "--format", "json"]);
    out.code(0);
    snapshot("list-phonebook-json", &out.stdout);
    let j = out.json();
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .all(|m| m["category"] == "phonebook")
    );
    let out = env.run(&["list", "--search", "sms", "--format", "csv"]);
    out.code(0);
    assert!(out.stdout.starts_with("effect,name,category,summary\n"));
    assert!(out.stdout.contains(",sendSMS,"), "{}", out.stdout);
    let out = env.run(&["list", "fax"]);
    assert!(out.stdout.contains("$ sendFaxMessage"), "{}", out.stdout);
    let out = env.run(&["list", "--category", "nope"]);
    out.code(2);
    assert!(out.stderr.contains("phonebook"), "{}", out.stderr);
}

#[test]
fn completion_scripts() {
    let env = Env::new();
    // Every method under both its names, its flags, and a script that stays small (they were
    // 525 to 650 KB with every description and the global options repeated per method).
    for (shell, budget_kb) in [
        ("bash", 250),
        ("zsh", 200),
        ("fish", 270),
        ("powershell", 400),
        ("elvish", 180),
    ] {
        let out = env.run(&["completion", shell]);
        out.code(0);
        assert!(out.stdout.contains("getDIDsInfo"), "{shell}");
        assert!(out.stdout.contains("get-dids-info"), "{shell}");
        assert!(out.stdout.contains("date-from"), "{shell}");
        assert!(
            out.stdout.len() <= budget_kb * 1000,
            "{shell}: {} bytes",
            out.stdout.len()
        );
    }
    let has_bash = std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_ok();
    if has_bash {
        let bin = env!("CARGO_BIN_EXE_voipms");
        // Loads the script, then completes each (words, index of the word being completed).
        let complete = |cases: &[(&str, usize)]| {
            let mut script = format!(
                "set -e; source <(NO_COLOR=1 '{bin}' completion bash); complete -p voipms;"
            );
            for (words, cword) in cases {
                let w: Vec<&str> = words.split(' ').collect();
                let prev = if *cword > 0 { w[cword - 1] } else { "" };
                script.push_str(&format!(
                    " COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; \
                     COMP_POINT=${{#COMP_LINE}}; _voipms voipms {} {prev}; \
                     echo \"${{COMPREPLY[@]}}\";",
                    w[*cword]
                ));
            }
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(&script)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "bash could not load the script: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let stdout = complete(&[
            ("voipms getPhon", 1),
            // The kebab-case names complete too, and so do a method's flags after them.
            ("voipms get-phonebook-gr", 1),
            ("voipms get-cdr --date-f", 2),
        ]);
        assert!(stdout.contains("getPhonebook"), "{stdout}");
        assert!(stdout.contains("get-phonebook-groups"), "{stdout}");
        assert!(stdout.contains("--date-from"), "{stdout}");
    }
}

#[test]
fn the_word_help_after_any_command_shows_its_help() {
    let env = Env::new();
    for path in [
        &["balance"][..],
        &["phonebook"],
        &["phonebook", "groups"],
        &["phonebook", "entries"],
        &["phonebook", "add"],
        &["phonebook", "remove"],
        &["spam"],
        &["spam", "inspect"],
        &["spam", "suggest"],
        &["spam", "mark"],
        &["spam", "unmark"],
        &["cdr"],
        &["cdr", "export"],
        &["sms"],
        &["sms", "send"],
        &["sms", "list"],
        &["mms"],
        &["mms", "send"],
        &["recordings"],
        &["recordings", "list"],
        &["recordings", "get"],
        &["recordings", "email"],
        &["recordings", "delete"],
        &["filters"],
        &["filters", "list"],
        &["filters", "block"],
        &["filters", "unblock"],
        &["call"],
        &["doctor"],
        &["decode"],
        &["list"],
        &["completion"],
        &["sandbox"],
        &["sandbox", "serve"],
        &["sandbox", "reset"],
        &["mcp"],
        &["mcp", "tokens"],
        &["audit"],
        &["get-balance"],
    ] {
        let mut args = path.to_vec();
        args.push("help");
        let out = env.run(&args);
        out.code(0);
        args.pop();
        args.push("--help");
        let same = env.run(&args);
        same.code(0);
        assert_eq!(out.stdout, same.stdout, "{path:?}");
    }
    // Anywhere else, `help` is an ordinary value: the text of an SMS here.
    let out = env.run(&["sms", "send", "--dst", "5551234567", "help", "--dry-run"]);
    assert!(!out.stdout.contains("Usage:"), "{}", out.stdout);
}

#[test]
fn the_global_help_states_each_default_format_and_it_holds() {
    let env = crate::friendly::sandbox();
    let help = env.run(&["--help"]).stdout;
    for needle in [
        "API method commands and cdr print pretty text on a terminal and JSON when piped",
        "print text even when piped: add --format json",
        "cdr export writes CSV unless --format json",
    ] {
        assert!(help.contains(needle), "{needle}\n{help}");
    }
    // What it says holds (the tests' stdout is a pipe).
    let method = env.run(&["getBalance"]);
    method.code(0);
    assert!(
        method.stdout.trim_start().starts_with('{'),
        "{}",
        method.stdout
    );
    let cdr = env.run(&["cdr", "--from", "-3d"]);
    cdr.code(0);
    assert!(cdr.stdout.trim_start().starts_with('{'), "{}", cdr.stdout);
    let friendly = env.run(&["balance"]);
    friendly.code(0);
    assert!(
        !friendly.stdout.trim_start().starts_with('{'),
        "{}",
        friendly.stdout
    );
    let export = env.run(&["cdr", "export", "--from", "-3d"]);
    export.code(0);
    assert!(export.stdout.starts_with("date,"), "{}", export.stdout);
}
