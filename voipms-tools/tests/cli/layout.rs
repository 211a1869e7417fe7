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
