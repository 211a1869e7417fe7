//! The README's first command is the project's main job on the sandbox: it must keep working.
//! The test reads the first command of the first ```sh block of the workspace's README.md,
//! checks that it runs this binary (`cargo run … -p voipms-tools -- ARGS`), and runs the built
//! binary with ARGS on a sandbox state of its own.

use std::path::Path;

use crate::support::Env;

/// Splits a shell command line into words (single and double quotes, backslash escapes).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => word.extend(chars.next()),
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                word.extend(chars.next());
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The first command of the first ```sh block.
fn first_command(readme: &str) -> Option<String> {
    let mut in_sh = false;
    for line in readme.lines() {
        let t = line.trim();
        if !in_sh {
            in_sh = t == "```sh" || t == "```bash" || t == "```console";
            continue;
        }
        if t.starts_with("```") {
            return None;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        return Some(t.trim_start_matches("$ ").to_owned());
    }
    None
}

/// The arguments after `--` of `cargo run [options] -p voipms-tools -- ARGS`.
fn voipms_args(command: &str) -> Result<Vec<String>, String> {
    let words = shell_words(command);
    let dashes = words
        .iter()
        .position(|w| w == "--")
        .ok_or_else(|| format!("`{command}` has no `--` before the voipms arguments"))?;
    let (cargo, args) = (&words[..dashes], &words[dashes + 1..]);
    if cargo.len() < 2 || cargo[0] != "cargo" || cargo[1] != "run" {
        return Err(format!("`{command}` is not a `cargo run` command"));
    }
    let package = cargo
        .windows(2)
        .any(|w| (w[0] == "-p" || w[0] == "--package") && w[1] == "voipms-tools")
        || cargo.iter().any(|w| w == "--package=voipms-tools");
    if !package {
        return Err(format!("`{command}` does not run the voipms-tools package"));
    }
    Ok(args.to_vec())
}

#[test]
fn parsing_the_first_command() {
    let md = "# t\n\ntext\n\n```rust\nfn x() {}\n```\n\n```sh\n# comment\n$ cargo run --release -p voipms-tools -- --sandbox spam suggest --days 90\ncargo test\n```\n";
    let cmd = first_command(md).unwrap();
    assert_eq!(
        voipms_args(&cmd).unwrap(),
        ["--sandbox", "spam", "suggest", "--days", "90"]
    );
    assert_eq!(
        shell_words(r#"a 'b c' "d \"e\"" f\ g"#),
        ["a", "b c", "d \"e\"", "f g"]
    );
    assert!(voipms_args("cargo test --workspace").is_err());
    assert!(voipms_args("cargo run -p other -- x").is_err());
}

#[test]
fn the_readme_first_command_runs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let command = first_command(&readme).expect("README.md has a ```sh block with a command");
    let args = voipms_args(&command).unwrap_or_else(|e| panic!("README's first command: {e}"));
    // No credentials here: the command can only reach the sandbox, on a state of its own.
    let env = Env::new();
    let state = env.dir.join("readme-sandbox.json").display().to_string();
    let env = env.var("VOIPMS_SANDBOX_STATE", &state);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args);
    out.code(0);
    assert!(
        !out.stdout.trim().is_empty(),
        "`{command}` printed nothing:\nstderr:\n{}",
        out.stderr
    );
}

#[test]
fn the_readme_says_where_the_sandbox_keeps_its_state_and_its_sdk_snippet_runs_on_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "~/.local/share/voipms/sandbox.json",
        "VOIPMS_SANDBOX_STATE",
        "sandbox reset",
    ] {
        assert!(
            readme.contains(needle),
            "README.md does not mention {needle}"
        );
    }
    // The SDK snippet asks the sandbox for its dates instead of naming a period it may not have.
    let start = readme
        .find("```rust")
        .expect("README.md has a Rust snippet");
    let snippet = &readme[start..readme[start + 7..].find("```").unwrap() + start + 7];
    assert!(snippet.contains("sandbox.today()"), "{snippet}");
    assert!(
        !snippet.contains("\"20"),
        "a fixed date in the snippet:\n{snippet}"
    );
}
