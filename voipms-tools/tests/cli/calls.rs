//! API calls end to end: methods of every category, names and aliases, flags, key=value and
//! positional shortcuts, validation, dry run, output formats, safe writes and exit codes.

use serde_json::Value;
use voipms_sdk::catalog::{self, Effect, Method};

use crate::support::{Env, Mock, Request, example_answer};

const PW: &str = "test-api-password";

/// Arguments giving every required parameter its example value.
fn required_args(m: &Method) -> Option<Vec<String>> {
    let mut args = Vec::new();
    for p in m.params.iter().filter(|p| p.required) {
        let example = p.example?;
        args.push(format!("--{}", p.name.replace('_', "-")));
        args.push(example.to_owned());
    }
    Some(args)
}

fn check_call(env: &Env, mock: &Mock, m: &'static Method) {
    let mut args = vec!["--format".to_owned(), "json".to_owned(), m.name.to_owned()];
    args.extend(required_args(m).expect("has examples"));
    if m.effect.is_mutating() {
        args.push("--yes".into());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let before = mock.count();
    let out = env.run(&argv);
    out.code(0);
    assert_eq!(mock.count(), before + 1, "{}: one request", m.name);
    let req = mock.last();
    assert_eq!(req.method(), m.name);
    assert_eq!(req.get("api_username"), Some("me@example.com"));
    assert_eq!(req.get("api_password"), Some(PW));
    for p in m.params.iter().filter(|p| p.required) {
        assert!(
            req.get(p.name).is_some(),
            "{}: {} was not sent",
            m.name,
            p.name
        );
    }
    let expected: Value = serde_json::from_str(m.example).unwrap();
    assert_eq!(out.json(), expected, "{}", m.name);
    let base64 = m
        .params
        .iter()
        .any(|p| p.kind == catalog::ParamKind::Base64);
    assert_eq!(req.verb, if base64 { "POST" } else { "GET" }, "{}", m.name);
}

#[test]
fn a_read_and_a_change_of_every_category() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let mut done = 0;
    for c in catalog::CATEGORIES {
        let ms: Vec<&'static Method> = catalog::METHODS
            .iter()
            .filter(|m| m.category == c.slug && required_args(m).is_some())
            .collect();
        let read = ms.iter().find(|m| m.effect == Effect::Read);
        let change = ms.iter().find(|m| m.effect.is_mutating());
        for m in read.into_iter().chain(change) {
            check_call(&env, &mock, m);
            done += 1;
        }
    }
    assert!(done >= 50, "only {done} methods exercised");
}

#[test]
fn names_any_case_kebab_and_aliases() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    for name in [
        "getPhonebook",
        "getphonebook",
        "GETPHONEBOOK",
        "get-phonebook",
        "get_phonebook",
    ] {
        env.run(&[name]).code(0);
        assert_eq!(mock.last().method(), "getPhonebook", "{name}");
    }
    env.run(&["balance"]).code(0);
    assert_eq!(mock.last().method(), "getBalance");
    let out = env.run(&["getBalanse"]);
    out.code(2);
    assert!(
        out.stderr.contains("did you mean `getBalance`"),
        "{}",
        out.stderr
    );
}

#[test]
fn flags_key_values_and_positional_shortcuts() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    env.run(&["getPhonebook", "16389"]).code(0);
    assert_eq!(mock.last().params(), [("group", "16389")]);
    env.run(&["getPhonebook", "Spam"]).code(0);
    assert_eq!(mock.last().params(), [("group_name", "Spam")]);
    env.run(&["getPhonebookGroups", "Spam"]).code(0);
    assert_eq!(mock.last().params(), [("name", "Spam")]);
    env.run(&["getVoicemailFolders", "1001", "INBOX"]).code(0);
    assert_eq!(
        mock.last().params(),
        [("folder", "INBOX"), ("mailbox", "1001")]
    );
    // --date_from and --date-from, key=value, a flag as yes/true, an enum by name.
    env.run(&[
        "getCDR",
        "--date_from",
        "2025-06-01",
        "date-to=2025-06-30",
        "--timezone",
        "-5",
        "--answered",
        "yes",
        "busy=false",
    ])
    .code(0);
    assert_eq!(
        mock.last().params(),
        [
            ("date_from", "2025-06-01"),
            ("date_to", "2025-06-30"),
            ("answered", "1"),
            ("busy", "0"),
            ("timezone", "-5")
        ]
    );
    env.run(&["getSMS", "--type", "received", "--limit", "10"])
        .code(0);
    let req = mock.last();
    assert_eq!(req.get("type"), Some("1"));
    assert_eq!(req.get("limit"), Some("10"));
}

#[test]
fn fractional_timezones_are_sent_as_given_and_odd_fractions_refused() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let run = |tz: &str| {
        env.run(&[
            "getCDR",
            "--date-from",
            "2025-06-01",
            "--date-to",
            "2025-06-30",
            "--timezone",
            tz,
            "--answered",
            "1",
        ])
    };
    for (given, sent) in [
        ("5.5", "5.5"),
        ("-3.50", "-3.5"),
        ("9.75", "9.75"),
        ("+4", "4"),
    ] {
        run(given).code(0);
        assert_eq!(mock.last().get("timezone"), Some(sent), "{given}");
    }
    for bad in ["5.3", "13.5", "-12.25", "5,5"] {
        let out = run(bad);
        out.code(2);
        assert!(
            out.stderr
                .contains(&format!("--timezone: `{bad}` is not a UTC offset")),
            "{bad}: {}",
            out.stderr
        );
    }
}

#[test]
fn invalid_values_are_refused_before_sending() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let out = env.run(&[
        "getCDR",
        "--date-from",
        "2025-02-30",
        "--timezone",
        "x",
        "answered=maybe",
    ]);
    out.code(2);
    for needle in [
        "getCDR: 4 problems",
        "--date-from: `2025-02-30` is not a valid date",
        "--timezone: `x` is not a UTC offset",
        "--answered: `maybe` is not a yes/no value",
        "missing required parameter: --date-to <date>",
        "Nothing was sent",
    ] {
        assert!(out.stderr.contains(needle), "{needle}\n{}", out.stderr);
    }
    let out = env.run(&["getSMS", "--type", "both"]);
    out.code(2);
    assert!(
        out.stderr
            .contains("allowed values: 1 (Received), 0 (Sent)"),
        "{}",
        out.stderr
    );
    let out = env.run(&["getBalance", "nope=1"]);
    out.code(2);
    assert!(
        out.stderr.contains("unknown parameter `nope`"),
        "{}",
        out.stderr
    );
    let out = env.run(&["getBalance", "extra"]);
    out.code(2);
    assert!(
        out.stderr.contains("takes no positional argument"),
        "{}",
        out.stderr
    );
    let out = env.run(&["getDIDsInfo", "--did", "1", "did=2"]);
    out.code(2);
    assert!(
        out.stderr.contains("given more than once"),
        "{}",
        out.stderr
    );
    assert_eq!(mock.count(), 0, "nothing may be sent");
}

#[test]
fn cdr_alias_maps_friendly_options() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    env.run(&[
        "cdr",
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-31",
        "--status",
        "answered,busy",
        "--account",
        "100001_VoIP",
        "--did",
        "5551234567",
        "--timezone",
        "-5",
    ])
    .code(0);
    let req = mock.last();
    assert_eq!(req.method(), "getCDR");
    assert_eq!(
        req.params(),
        [
            ("date_from", "2025-01-01"),
            ("date_to", "2025-01-31"),
            ("answered", "1"),
            ("noanswer", "0"),
            ("busy", "1"),
            ("failed", "0"),
            ("timezone", "-5"),
            ("calltype", "5551234567"),
            ("account", "100001_VoIP"),
        ]
    );
    // Defaults: the last 30 days, every status, VoIP.ms server time (-5, as recordings).
    env.run(&["cdr"]).code(0);
    let req = mock.last();
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Days::new(30);
    assert_eq!(req.get("date_to"), Some(today.to_string().as_str()));
    assert_eq!(req.get("date_from"), Some(from.to_string().as_str()));
    for s in ["answered", "noanswer", "busy", "failed"] {
        assert_eq!(req.get(s), Some("1"), "{s}");
    }
    assert_eq!(req.get("timezone"), Some("-5"));
    // A fractional number goes out as given (the live API honours it).
    env.run(&["cdr", "--timezone", "5.5"]).code(0);
    assert_eq!(mock.last().get("timezone"), Some("5.5"));
    // Relative dates start with a hyphen.
    env.run(&["cdr", "--from", "-30d", "--to", "-1d"]).code(0);
    let req = mock.last();
    let yesterday = today - chrono::Days::new(1);
    assert_eq!(req.get("date_from"), Some(from.to_string().as_str()));
    assert_eq!(req.get("date_to"), Some(yesterday.to_string().as_str()));
    // Over 92 days: one getCDR per window, the rows as one answer.
    let before = mock.count();
    let out = env.run(&["cdr", "--from", "2025-01-01", "--to", "2025-06-01"]);
    out.code(0);
    assert_eq!(out.json()["status"], "success");
    // The windows are fetched concurrently, so they may reach the server in any order.
    let mut windows: Vec<(String, String)> = mock.requests()[before..]
        .iter()
        .map(|r| {
            assert_eq!(r.method(), "getCDR");
            (
                r.get("date_from").unwrap().to_owned(),
                r.get("date_to").unwrap().to_owned(),
            )
        })
        .collect();
    windows.sort();
    assert_eq!(
        windows,
        [
            ("2025-01-01".to_owned(), "2025-04-02".to_owned()),
            ("2025-04-03".to_owned(), "2025-06-01".to_owned())
        ]
    );
    let out = env.run(&["cdr", "--from", "2025-06-01", "--to", "2025-01-01"]);
    out.code(2);
    assert!(out.stderr.contains("is after --to"), "{}", out.stderr);
    let out = env.run(&["cdr", "--status", "answered,nope"]);
    out.code(2);
    assert!(
        out.stderr.contains("`nope` is not a call status"),
        "{}",
        out.stderr
    );
}

#[test]
fn dry_run_shows_the_exact_request_and_sends_nothing() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let out = env.run(&[
        "--dry-run",
        "--format",
        "pretty",
        "getPhonebook",
        "Spam Calls",
    ]);
    out.code(0);
    assert_eq!(
        out.stdout,
        format!(
            "GET {}?api_username=me%40example.com&api_password=********&method=getPhonebook&\
             group_name=Spam+Calls\n",
            mock.url
        )
    );
    // A change, without --yes: the dry run wins.
    let out = env.run(&[
        "delPhonebook",
        "--phonebook",
        "12",
        "--dry-run",
        "--format",
        "json",
    ]);
    out.code(0);
    let j = out.json();
    assert_eq!(j["http_method"], "GET");
    assert_eq!(j["fields"]["api_password"], "********");
    assert_eq!(j["fields"]["phonebook"], "12");
    // A base64 parameter: multipart POST; @FILE is read and encoded.
    let doc = env.dir.join("fax.pdf");
    std::fs::write(&doc, b"%PDF-1.4 hello").unwrap();
    let file_arg = format!("@{}", doc.display());
    let out = env.run(&[
        "sendFaxMessage",
        "--to-number",
        "5551234567",
        "--from-name",
        "Me",
        "--from-number",
        "5557654321",
        "--file",
        &file_arg,
        "--dry-run",
        "--format",
        "pretty",
    ]);
    out.code(0);
    assert!(
        out.stdout.starts_with(&format!("POST {}\n", mock.url)),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Content-Type: multipart/form-data"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("api_password = ********"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("file"), "{}", out.stdout);
    assert!(
        out.stdout.contains("JVBERi0xLjQgaGVsbG8="),
        "{}",
        out.stdout
    );
    // Without credentials a dry run still works, with a placeholder user name.
    let bare = Env::new();
    let out = bare.run(&["getBalance", "--dry-run", "--format", "pretty"]);
    out.code(0);
    assert!(
        out.stdout.contains("api_username=you%40example.com"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("placeholder"), "{}", out.stderr);
    assert_eq!(mock.count(), 0, "a dry run sends nothing");
}

#[test]
fn base64_files_go_as_multipart() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let doc = env.dir.join("greeting.mp3");
    std::fs::write(&doc, b"ID3 audio").unwrap();
    let file_arg = format!("@{}", doc.display());
    let m = catalog::method("setRecording").unwrap();
    let mut args: Vec<String> = vec!["setRecording".into(), "--yes".into()];
    for p in m.params.iter().filter(|p| p.required && p.name != "file") {
        args.push(format!("{}={}", p.name, p.example.unwrap()));
    }
    args.push(format!("file={file_arg}"));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&argv).code(0);
    let req = mock.last();
    assert_eq!(req.verb, "POST");
    assert!(
        req.content_type.starts_with("multipart/form-data"),
        "{}",
        req.content_type
    );
    assert_eq!(req.get("file"), Some("SUQzIGF1ZGlv"));
    assert_eq!(req.get("api_password"), Some(PW));
}

#[test]
fn output_formats() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let example = catalog::method("getPhonebook").unwrap().example;
    // json is the default when stdout is not a terminal.
    let out = env.run(&["getPhonebook"]);
    out.code(0);
    assert_eq!(out.json(), serde_json::from_str::<Value>(example).unwrap());
    let out = env.run(&["getPhonebook", "--format", "raw"]);
    assert_eq!(out.stdout.trim_end(), example.trim_end());
    let out = env.run(&["getPhonebook", "--format", "table"]);
    out.code(0);
    let mut lines = out.stdout.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("PHONEBOOK  "), "{}", out.stdout);
    assert!(header.contains("NAME"), "{}", out.stdout);
    assert!(lines.next().is_some());
    let out = env.run(&["getPhonebook", "--format", "csv"]);
    out.code(0);
    assert!(out.stdout.starts_with("phonebook,"), "{}", out.stdout);
    let rows = serde_json::from_str::<Value>(example).unwrap()["phonebooks"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(out.stdout.lines().count(), rows + 1, "{}", out.stdout);
    let out = env.run(&["getPhonebook", "--format", "pretty"]);
    out.code(0);
    assert!(
        out.stdout
            .starts_with(&format!("phonebooks: {rows} items\n  1. phonebook")),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains('\x1b'), "NO_COLOR: no escapes");
    // A single object as a table: getBalance's balance.
    let out = env.run(&["getBalance", "--format", "csv"]);
    assert!(out.stdout.starts_with("current_balance"), "{}", out.stdout);
    // The output format after a method whose own parameter is called `format`.
    env.run(&[
        "getVoicemailMessageFile",
        "--mailbox",
        "1001",
        "--folder",
        "INBOX",
        "--message-num",
        "1",
        "--format",
        "mp3",
        "--output-format",
        "csv",
    ])
    .code(0);
    assert_eq!(mock.last().get("format"), Some("mp3"));
}

#[test]
fn empty_results_are_not_errors() {
    let mock = Mock::start(|req: &Request| {
        if req.method() == "getCDR" {
            (200, r#"{"status":"no_cdr"}"#.to_owned())
        } else {
            example_answer(req)
        }
    });
    let env = Env::new().creds(&mock, PW);
    let out = env.run(&["cdr", "--format", "csv"]);
    out.code(0);
    assert!(out.stdout.starts_with("date,callerid,"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 1);
    assert!(out.stderr.contains("no results (no_cdr"), "{}", out.stderr);
    let out = env.run(&["cdr"]);
    out.code(0);
    assert_eq!(out.json()["status"], "no_cdr");
}

#[test]
fn changes_need_yes_without_a_terminal() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let out = env.run(&["delPhonebook", "--phonebook", "12"]);
    out.code(2);
    assert!(
        out.stderr.contains("delPhonebook deletes or cancels"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was sent"), "{}", out.stderr);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    let out = env.run(&[
        "sendSMS",
        "--did",
        "5551234567",
        "--dst",
        "5557654321",
        "--message",
        "hi",
    ]);
    out.code(2);
    assert!(out.stderr.contains("spends money"), "{}", out.stderr);
    assert_eq!(mock.count(), 0);
    env.run(&["delPhonebook", "--phonebook", "12", "-y"])
        .code(0);
    assert_eq!(mock.last().params(), [("phonebook", "12")]);
}

#[test]
fn raw_call_escape_hatch() {
    let mock = Mock::start(|req: &Request| {
        if req.method() == "getNewThing" {
            (200, r#"{"status":"success","thing":"x"}"#.to_owned())
        } else {
            example_answer(req)
        }
    });
    let env = Env::new().creds(&mock, PW);
    let out = env.run(&["call", "getNewThing", "a=1", "b=two words"]);
    out.code(2);
    assert!(out.stderr.contains("not in the spec"), "{}", out.stderr);
    let out = env.run(&["call", "getNewThing", "a=1", "b=two words", "--yes"]);
    out.code(0);
    assert_eq!(out.json()["thing"], "x");
    assert_eq!(mock.last().params(), [("a", "1"), ("b", "two words")]);
    // Known methods keep their effect: a read needs no --yes.
    env.run(&["call", "getbalance", "advanced=1"]).code(0);
    assert_eq!(mock.last().method(), "getBalance");
    env.run(&["call", "getBalance", "oops"]).code(2);
}

#[test]
fn exit_codes() {
    let mock = Mock::start(|req: &Request| match req.method() {
        "getDIDsInfo" => (200, r#"{"status":"invalid_did"}"#.to_owned()),
        "getBalance" => (500, "<html><h1>Internal error</h1></html>".to_owned()),
        "getIP" => (200, "<html>not json</html>".to_owned()),
        _ => example_answer(req),
    });
    let env = Env::new().creds(&mock, PW);
    let out = env.run(&["getDIDsInfo", "--did", "5551234567"]);
    out.code(3);
    assert!(
        out.stderr.contains("getDIDsInfo failed: invalid_did"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let out = env.run(&["getBalance", "--retries", "0"]);
    out.code(4);
    assert!(out.stderr.contains("HTTP 500"), "{}", out.stderr);
    env.run(&["getIP", "--retries", "0"]).code(4);
    let down = Env::new()
        .var("VOIPMS_API_USERNAME", "me@example.com")
        .var("VOIPMS_API_PASSWORD", PW);
    let out = down.run(&[
        "getBalance",
        "--api-url",
        "http://127.0.0.1:9/api/v1/rest.php",
        "--retries",
        "0",
    ]);
    out.code(4);
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    let out = down.run(&["getBalance", "--api-url", "ftp://x"]);
    out.code(5);
    env.run(&["nonsenseCommand"]).code(2);
    env.run(&["getCDR"]).code(2);
    env.run(&["--format", "yaml", "getBalance"]).code(2);
    // A shape that does not match fails with its path.
    let bad = env.dir.join("bad.json");
    std::fs::write(&bad, r#"{"status":"success","balance":"lots"}"#).unwrap();
    let out = env.run(&["decode", "getBalance", bad.to_str().unwrap()]);
    out.code(6);
    assert!(out.stderr.contains("$.balance"), "{}", out.stderr);
    // An odd value costs its field only: reported as unreadable, fatal only with --strict.
    let odd = env.dir.join("odd.json");
    std::fs::write(
        &odd,
        r#"{"status":"success","balance":{"current_balance":"lots","spent_total":"1.50"},"extra":1}"#,
    )
    .unwrap();
    let out = env.run(&[
        "--format",
        "json",
        "decode",
        "getBalance",
        odd.to_str().unwrap(),
    ]);
    out.code(0);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["method"], "getBalance");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["data"]["balance"]["spent_total"], "1.50");
    assert_eq!(
        doc["data"]["balance"]["current_balance"],
        serde_json::Value::Null
    );
    assert_eq!(doc["unread"], serde_json::json!(["$.extra"]));
    assert_eq!(
        doc["unreadable"],
        serde_json::json!(["$.balance.current_balance"])
    );
    let out = env.run(&["decode", "--strict", "getBalance", odd.to_str().unwrap()]);
    out.code(6);
    assert!(
        out.stdout.contains("$.balance.current_balance"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("--strict"), "{}", out.stderr);
    // --strict catches a key the spec does not know.
    let unknown = env.dir.join("unknown.json");
    std::fs::write(
        &unknown,
        r#"{"status":"success","balance":{"current_balance":"1.00","new_key":"x"}}"#,
    )
    .unwrap();
    env.run(&["decode", "getBalance", unknown.to_str().unwrap()])
        .code(0);
    let out = env.run(&[
        "decode",
        "--strict",
        "getBalance",
        unknown.to_str().unwrap(),
    ]);
    out.code(6);
    assert!(out.stdout.contains("$.balance.new_key"), "{}", out.stdout);
    let good = env.dir.join("good.json");
    std::fs::write(&good, catalog::method("getBalance").unwrap().example).unwrap();
    let out = env.run(&["decode", "get-balance", good.to_str().unwrap()]);
    out.code(0);
    assert!(out.stdout.contains("ok"), "{}", out.stdout);
    let out = env.run_stdin(&["decode", "getBalance", "-"], "not json");
    out.code(6);
}

/// Runs `voipms ARGS` on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt.
pub(crate) fn on_a_terminal(env: &Env, args: &[&str], answer: &str) -> Option<crate::support::Out> {
    let script_ok = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !script_ok {
        eprintln!("`script` is not installed: skipping the terminal test");
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_voipms");
    let line = std::iter::once(bin)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    // The answer arrives after the prompt is up.
    Some(env.shell(&format!(
        "(sleep 1; echo {answer}) | script -qec \"{line}\" /dev/null"
    )))
}

#[test]
fn changes_ask_on_a_terminal() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    let sms = [
        "sendSMS",
        "--did",
        "5551234567",
        "--dst",
        "5557654321",
        "--message",
        "hi",
    ];
    let Some(out) = on_a_terminal(&env, &sms, "n") else {
        return;
    };
    out.code(1);
    assert!(
        out.stdout.contains("api_password=********"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("spends money"), "{}", out.stdout);
    assert!(out.stdout.contains("Send it? [y/N]"), "{}", out.stdout);
    assert!(!out.stdout.contains(PW), "{}", out.stdout);
    assert_eq!(mock.count(), 0);
    let out = on_a_terminal(&env, &["delPhonebook", "--phonebook", "7"], "y").unwrap();
    out.code(0);
    assert_eq!(mock.last().params(), [("phonebook", "7")]);
}

#[test]
fn retries_are_told_one_by_one_only_with_verbose() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let failures = std::sync::Arc::new(AtomicUsize::new(0));
    let mock = {
        let failures = failures.clone();
        Mock::start(move |req| {
            // Two getBalance requests out of three fail: two retries per run.
            if req.method() == "getBalance" && failures.fetch_add(1, Ordering::SeqCst) % 3 < 2 {
                (503, "<html>busy</html>".to_owned())
            } else {
                example_answer(req)
            }
        })
    };
    let env = Env::new().creds(&mock, "pw");
    let out = env.run(&["balance"]);
    out.code(0);
    assert!(!out.stderr.contains("retrying"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("retried 2 times") && out.stderr.contains("-v"),
        "{}",
        out.stderr
    );
    let out = env.run(&["-v", "balance"]);
    out.code(0);
    assert_eq!(
        out.stderr.matches("retrying VoIP.ms call").count(),
        2,
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("retried 2 times"), "{}", out.stderr);
}

#[test]
fn an_unknown_flag_is_told_like_an_unknown_key() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, PW);
    for (args, unknown, hint) in [
        (
            &["getCDR", "--date-fro", "2025-01-01"][..],
            "unknown parameter `--date-fro`; did you mean `--date-from`?",
            "getCDR takes: --date-from, --date-to,",
        ),
        (
            &["get-cdr", "--bogus=1"][..],
            "unknown parameter `--bogus`",
            "getCDR takes: --date-from",
        ),
        (
            &["getCDR", "date_fro=2025-01-01"][..],
            "unknown parameter `date_fro`; did you mean `date_from`?",
            "getCDR takes: date_from, date_to,",
        ),
    ] {
        let out = env.run(args);
        out.code(2);
        for needle in [unknown, hint, "Nothing was sent", "voipms help getCDR"] {
            assert!(
                out.stderr.contains(needle),
                "{args:?}: {needle}\n{}",
                out.stderr
            );
        }
    }
    assert_eq!(mock.count(), 0);
}

#[test]
fn cdr_lists_oldest_first_for_every_range_length() {
    // VoIP.ms answers newest first; the rows of each window are given in that order.
    let mock = Mock::start(|req: &Request| {
        if req.method() != "getCDR" {
            return example_answer(req);
        }
        let to = req.get("date_to").unwrap().to_owned();
        let from = req.get("date_from").unwrap().to_owned();
        let row = |day: &str, id: &str| {
            format!(
                r#"{{"date":"{day} 10:00:00","callerid":"<5553334444>","destination":"5551234567","disposition":"ANSWERED","seconds":"5","uniqueid":"{id}"}}"#
            )
        };
        let rows = [
            row(&to, &format!("{to}-b")),
            row(&from, &format!("{from}-a")),
        ];
        (
            200,
            format!(r#"{{"status":"success","cdr":[{}]}}"#, rows.join(",")),
        )
    });
    let env = Env::new().creds(&mock, PW);
    for (from, to) in [("2025-01-01", "2025-01-31"), ("2025-01-01", "2025-06-30")] {
        let out = env.run(&["cdr", "--from", from, "--to", to, "--format", "json"]);
        out.code(0);
        let dates: Vec<String> = out.json()["cdr"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["date"].as_str().unwrap().to_owned())
            .collect();
        let mut sorted = dates.clone();
        sorted.sort();
        assert_eq!(dates, sorted, "{from} to {to}");
        assert!(dates.len() >= 2, "{dates:?}");
    }
}

#[test]
fn cdr_and_recordings_show_the_same_time_for_a_call() {
    // A machine far from VoIP.ms's clock: its offset must not change what cdr shows.
    let env = crate::friendly::sandbox().var("TZ", "Asia/Tokyo");
    let out = env.run(&["recordings", "list", "--from", "-7d", "--format", "json"]);
    out.code(0);
    let rec = out.json()["recordings"][0].clone();
    let when = rec["datetime"]
        .as_str()
        .expect("a seeded recording")
        .to_owned();
    let out = env.run(&["cdr", "--from", "-7d", "--format", "json"]);
    out.code(0);
    let rows = out.json()["cdr"].as_array().unwrap().clone();
    assert!(
        rows.iter().any(|r| r["date"] == when.as_str()),
        "no call at {when} in cdr (recording {rec})"
    );
}

#[test]
fn cdr_shows_server_time_whatever_timezone_is_sent_in_and_out_of_daylight_saving() {
    // One account dated in summer (Eastern daylight time) and one in winter.
    for today in ["2026-07-15", "2026-01-15"] {
        let env = crate::friendly::sandbox();
        let state = env.get("VOIPMS_SANDBOX_STATE").unwrap().to_owned();
        voipms_sdk::sandbox::Sandbox::new(voipms_sdk::sandbox::SandboxConfig {
            today: Some(today.parse().unwrap()),
            ..Default::default()
        })
        .save(std::path::Path::new(&state))
        .unwrap();
        let from = "2026-01-01";
        let out = env.run(&[
            "recordings",
            "list",
            "--from",
            from,
            "--to",
            today,
            "--format",
            "json",
        ]);
        out.code(0);
        let recordings = out.json()["recordings"].as_array().unwrap().clone();
        // A recording well inside the range, so the shifted days cannot leave it out.
        let rec = recordings
            .iter()
            .find(|r| r["datetime"].as_str().unwrap() < &format!("{today} 00")[..])
            .expect("a seeded recording")
            .clone();
        let when = rec["datetime"].as_str().unwrap();
        // Fractional numbers too: the live API honours them (5.5 measured).
        for tz in ["-5", "0", "-4", "10", "5.5", "-3.5", "9.75"] {
            let out = env.run(&[
                "cdr",
                "--from",
                from,
                "--to",
                today,
                "--timezone",
                tz,
                "--format",
                "json",
            ]);
            out.code(0);
            let rows = out.json()["cdr"].as_array().unwrap().clone();
            assert!(
                rows.iter().any(|r| r["date"] == when),
                "{today} --timezone {tz}: no call at {when} in cdr (recording {rec})"
            );
        }
    }
}

#[test]
fn default_ranges_end_on_the_sandbox_accounts_today() {
    let env = crate::friendly::sandbox();
    let state = env.get("VOIPMS_SANDBOX_STATE").unwrap().to_owned();
    voipms_sdk::sandbox::Sandbox::new(voipms_sdk::sandbox::SandboxConfig {
        today: Some("2026-07-15".parse().unwrap()),
        ..Default::default()
    })
    .save(std::path::Path::new(&state))
    .unwrap();
    let in_range = |d: &str| ("2026-06-15".."2026-07-16").contains(&d);
    let out = env.run(&["recordings", "list", "--format", "json"]);
    out.code(0);
    let recordings = out.json()["recordings"].as_array().unwrap().clone();
    assert!(
        !recordings.is_empty(),
        "the account's last 30 days hold recordings"
    );
    assert!(
        recordings
            .iter()
            .all(|r| in_range(r["datetime"].as_str().unwrap()))
    );
    let out = env.run(&["cdr", "--to", "yesterday", "--format", "json"]);
    out.code(0);
    let rows = out.json()["cdr"].as_array().unwrap().clone();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["date"].as_str().unwrap() < "2026-07-15")
    );
    assert!(rows.iter().all(|r| in_range(r["date"].as_str().unwrap())));
}
