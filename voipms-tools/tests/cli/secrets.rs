//! The API password never appears in any output: not in answers, errors, dry runs, the
//! confirmation refusal, doctor, or `--verbose` logs; whether it comes from the environment or
//! from the config file, and even when the server echoes it back.

use crate::support::{Env, Mock, Out, Request, example_answer};

const SENTINEL: &str = "S3ntinel p@ss&word!";

fn forms() -> [String; 3] {
    let form: String = SENTINEL
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let percent = form.replace('+', "%20");
    [SENTINEL.to_owned(), form, percent]
}

#[track_caller]
fn clean(label: &str, out: &Out) {
    for f in forms() {
        assert!(
            !out.stdout.contains(&f) && !out.stderr.contains(&f),
            "{label}: the password ({f}) leaked:\nstdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    }
}

/// A server that echoes the request (with the password) back in several ways.
fn echoing_mock() -> Mock {
    Mock::start(|req: &Request| {
        let query = req.query.clone();
        let pw = req.get("api_password").unwrap_or("").to_owned();
        match req.method() {
            "getIP" => (
                200,
                serde_json::json!({"status": "success", "ip": "203.0.113.9", "echo": query, "pw": pw})
                    .to_string(),
            ),
            "getDIDsInfo" => (
                200,
                serde_json::json!({"status": "invalid_credentials", "message": format!("bad password {pw}")})
                    .to_string(),
            ),
            "getCallTypes" => (500, format!("<html>error for {query} / {pw}</html>")),
            "getLanguages" => (200, format!("not json {query} {pw}")),
            _ => example_answer(req),
        }
    })
}

fn exercise(env: &Env, label: &str) {
    let runs: Vec<Vec<&str>> = vec![
        vec!["getBalance"],
        vec!["getBalance", "--format", "pretty"],
        vec!["getIP", "--format", "raw"],
        vec!["getIP", "--format", "json"],
        vec!["getIP", "--format", "pretty"],
        vec!["getIP", "--format", "table"],
        vec!["getIP", "--format", "csv"],
        vec!["getDIDsInfo", "--did", "5551234567"],
        vec!["getCallTypes", "--retries", "0"],
        vec!["getLanguages", "--retries", "0"],
        vec!["getBalance", "--dry-run", "--format", "pretty"],
        vec!["getBalance", "--dry-run", "--format", "json"],
        vec![
            "setPhonebook",
            "--name",
            "x",
            "--number",
            "5551234567",
            "--note",
            SENTINEL,
            "--dry-run",
        ],
        vec![
            "sendFaxMessage",
            "--to-number",
            "5551234567",
            "--from-name",
            "a",
            "--from-number",
            "5551234567",
            "--file",
            "QUJD",
            "--dry-run",
            "--format",
            "pretty",
        ],
        vec!["delPhonebook", "--phonebook", "1"],
        vec!["call", "getBalance", "-vv"],
        vec!["-vv", "getIP", "--format", "raw"],
        vec!["-v", "getDIDsInfo", "--did", "5551234567"],
        vec!["doctor"],
        vec!["doctor", "--format", "json", "-vv"],
        vec![
            "getBalance",
            "--api-url",
            "http://127.0.0.1:9/api/v1/rest.php",
            "--retries",
            "0",
            "-vv",
        ],
        vec!["getBalance", "--api-url", "not a url"],
        // The friendly commands over the helpers.
        vec!["balance"],
        vec!["balance", "-a", "--format", "json", "-vv"],
        vec!["balance", "--dry-run"],
        vec!["phonebook", "groups"],
        vec!["phonebook", "entries", "--format", "csv"],
        vec!["phonebook", "add", "Spam", "5551112222", "--name", SENTINEL],
        vec![
            "phonebook",
            "add",
            "Spam",
            "5551112222",
            "--dry-run",
            "--format",
            "json",
        ],
        vec!["phonebook", "add", "Spam", "5551112222", "--yes", "-vv"],
        vec!["phonebook", "remove", "Spam", "5551112222", "--dry-run"],
        vec!["spam", "suggest", "-vv"],
        vec!["spam", "inspect", "5551112222", "--format", "json"],
        vec!["spam", "mark", "5551112222", "--dry-run"],
        vec!["spam", "unmark", "5551112222", "--yes"],
        vec!["cdr", "--from", "-200d", "--format", "json"],
        vec!["cdr", "export", "--from", "-200d"],
        vec!["cdr", "export", "--dry-run", "--format", "json"],
        vec!["recordings", "list"],
        vec!["recordings", "get", "abc", "--out", "rec.mp3"],
        vec![
            "recordings",
            "email",
            "abc",
            "--email",
            "a@example.com",
            "--dry-run",
        ],
        vec!["recordings", "delete", "abc", "--yes"],
        vec!["sms", "send", "--to", "5551234567", "hi", "--dry-run"],
        vec![
            "sms",
            "send",
            "--did",
            "5551234567",
            "--to",
            "5551234567",
            SENTINEL,
            "--dry-run",
        ],
        vec![
            "sms",
            "send",
            "--did",
            "5551234567",
            "--to",
            "5551234567",
            SENTINEL,
            "--yes",
            "--format",
            "json",
        ],
        vec!["sms", "list", "--format", "table"],
        vec![
            "mms",
            "send",
            "--did",
            "5551234567",
            "--to",
            "5551234567",
            "--media",
            "https://example.com/a.png",
            "--yes",
        ],
        vec!["filters", "list"],
        vec!["filters", "block", "0", "--note", SENTINEL, "--yes"],
        vec!["filters", "unblock", "0", "--dry-run", "--format", "json"],
    ];
    for args in runs {
        let out = env.run(&args);
        clean(&format!("{label}: {args:?}"), &out);
    }
}

#[test]
fn never_printed_when_from_the_environment() {
    let mock = echoing_mock();
    let env = Env::new().creds(&mock, SENTINEL);
    exercise(&env, "env");
    // The server did receive it: the tests above would pass vacuously otherwise.
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.get("api_password") == Some(SENTINEL))
    );
}

#[test]
fn never_printed_when_from_the_config_file() {
    let mock = echoing_mock();
    let env = Env::new();
    env.write_config(
        &format!(
            "[profiles.default]\nusername = \"me@example.com\"\npassword = \"{SENTINEL}\"\napi_url = \"{}\"\n",
            mock.url
        ),
        0o600,
    );
    exercise(&env, "config");
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.get("api_password") == Some(SENTINEL))
    );
    // Broken files: a syntax error on the password's line, a readable-by-others file.
    env.write_config(
        &format!("[profiles.default]\npassword = \"{SENTINEL}\" trailing\n"),
        0o600,
    );
    let out = env.run(&["getBalance"]);
    out.code(5);
    clean("bad toml", &out);
    env.write_config(
        &format!("[profiles.default]\nusername = \"u@x.y\"\npassword = \"{SENTINEL}\"\n"),
        0o644,
    );
    let out = env.run(&["doctor"]);
    clean("world-readable", &out);
}
