//! The layout rules of ARCHITECTURE.md, checked on the sources: only the command-line front end
//! touches the terminal; the core imports no front end; the MCP front end does not import the
//! command line's modules; commands never import the entry point.

use std::path::{Path, PathBuf};

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under src/{dir}");
    out
}

/// The command line's modules: everything at the top of `src/` but the core and the MCP server.
const CLI_MODULES: &[&str] = &[
    "crate::app",
    "crate::cli",
    "crate::commands",
    "crate::ctx",
    "crate::doctor",
    "crate::friendly",
    "crate::help",
    "crate::output",
    "crate::params",
    "crate::transport",
    "crate::errln",
    "crate::outln",
];

/// What touches the terminal.
const TERMINAL: &[&str] = &[
    "println!",
    "print!(",
    "eprintln!",
    "eprint!(",
    "outln!",
    "errln!",
    "io::stdout()",
    "io::stderr()",
    "io::stdin()",
    "is_terminal",
    "dbg!(",
];

#[track_caller]
fn forbid(dir: &str, words: &[&str], why: &str) {
    for (path, text) in sources(dir) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for w in words {
                assert!(
                    !code.contains(w),
                    "{}:{}: `{w}` — {why}\n  {line}",
                    path.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn only_the_command_line_touches_the_terminal() {
    forbid(
        "core",
        TERMINAL,
        "only the command-line front end touches the terminal",
    );
    forbid(
        "mcp",
        TERMINAL,
        "over stdio, stdout is the protocol: the server never prints",
    );
}

#[test]
fn the_core_imports_no_front_end() {
    let mut words = CLI_MODULES.to_vec();
    words.push("crate::mcp");
    forbid("core", &words, "nothing in the core imports a front end");
    forbid(
        "mcp",
        CLI_MODULES,
        "the MCP front end stands on the core, not on the command line",
    );
}

#[test]
fn commands_never_import_the_entry_point() {
    forbid(
        "commands",
        &["crate::app"],
        "the registry is consulted from the top, not the reverse",
    );
}

/// Whether `s` holds a Rust path such as `SmsLength::Split` or `Verdict::Blocked`.
fn has_rust_path(s: &str) -> bool {
    s.match_indices("::").any(|(i, _)| {
        let before = s[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>();
        let after = s[i + 2..].chars().next();
        before
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_uppercase())
            && after.is_some_and(|c| c.is_ascii_uppercase())
    })
}

/// The string literals of one line (escaped quotes kept inside, good enough for messages).
fn literals(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if c == '"' && prev != '\\' {
            match start.take() {
                Some(s) => out.push(&line[s..i]),
                None => start = Some(i + 1),
            }
        }
        prev = c;
    }
    out
}

/// Internal names never reach a user: the operation names the SDK's helpers put in their errors
/// are words, and no message of the helpers or the command line spells a Rust path
/// (`SmsLength::Split`).
#[test]
fn messages_name_no_rust_identifiers() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../voipms-sdk/src");
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&sdk)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    files.extend(sources(""));
    let mut found = Vec::new();
    for (path, text) in &files {
        // Unit tests sit at the end of a file, after `#[cfg(test)]`.
        let body = text.split("#[cfg(test)]").next().unwrap_or(text);
        let mut continued = false;
        for (n, line) in body.lines().enumerate() {
            let code = line.trim_start();
            // A line continuing a string literal (`\` at the end of the one before): its text
            // runs to the first quote.
            let was_continued = std::mem::replace(&mut continued, code.ends_with('\\'));
            if was_continued && has_rust_path(code.split('"').next().unwrap_or(code)) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
            if code.starts_with("//") || code.starts_with("#[") {
                continue;
            }
            let at = || format!("{}:{}: {}", path.display(), n + 1, line.trim());
            if let Some(rest) = code.split("Session::new(").nth(1)
                && let Some(name) = literals(rest).first()
                && name.contains('_')
            {
                found.push(at());
            }
            if literals(code).iter().any(|l| has_rust_path(l)) {
                found.push(at());
            }
        }
    }
    assert!(
        found.is_empty(),
        "internal names in messages:\n{}",
        found.join("\n")
    );
}
