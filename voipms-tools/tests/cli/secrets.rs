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
        vec![
            "recordings",
            "get",
            "MTAwMDAxLWFiYy1hYmM",
            "--out",
            "rec.mp3",
        ],
        vec![
            "recordings",
            "email",
            "MTAwMDAxLWFiYy1hYmM",
            "--email",
            "a@example.com",
            "--dry-run",
        ],
        vec!["recordings", "delete", "MTAwMDAxLWFiYy1hYmM", "--yes"],
        vec!["sms", "send", "--dst", "5551234567", "hi", "--dry-run"],
        vec![
            "sms",
            "send",
            "--did",
            "5551234567",
            "--dst",
            "5551234567",
            SENTINEL,
            "--dry-run",
        ],
        vec![
            "sms",
            "send",
            "--did",
            "5551234567",
            "--dst",
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
            "--dst",
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

/// A password that every encoding changes: a quote, a slash, a tag, an ampersand, a space.
const TRICKY: &str = "Zq9/\"K<b>&x w'Y";

/// The password in every form a server may echo it in.
fn tricky_forms() -> Vec<String> {
    let url: String = TRICKY
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => char::from(b).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let json = serde_json::to_string(TRICKY).unwrap();
    let json = json[1..json.len() - 1].to_owned();
    vec![
        TRICKY.to_owned(),
        url.clone(),
        url.replace('+', "%20"),
        TRICKY
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => char::from(b).to_string(),
                _ => format!("%{b:02x}"),
            })
            .collect(),
        json.clone(),
        json.replace('/', "\\/"),
        TRICKY
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect(),
        TRICKY
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;"),
        TRICKY.chars().map(|c| format!("&#{};", c as u32)).collect(),
        TRICKY
            .chars()
            .map(|c| format!("&#x{:x};", c as u32))
            .collect(),
    ]
}

#[track_caller]
fn tricky_clean(label: &str, out: &Out) {
    let text = format!("{}\n{}", out.stdout, out.stderr);
    for f in tricky_forms() {
        assert!(
            !text.contains(&f),
            "{label}: the password ({f}) leaked:\n{text}"
        );
    }
    // Not even a part of it, cut by an excerpt or with its tag stripped.
    for part in ["Zq9/", "&x w'Y", "x w'Y", "Zq9%2F", "x+w%27Y"] {
        assert!(
            !text.contains(part),
            "{label}: part of the password ({part}) leaked:\n{text}"
        );
    }
}

#[test]
fn every_encoded_form_is_masked_before_excerpts_are_cut() {
    let mock = Mock::start(|req: &Request| {
        let pw = req.get("api_password").unwrap_or("").to_owned();
        let forms = tricky_forms();
        let pad = "x".repeat(185);
        match req.method() {
            // Every form in a JSON answer printed as received.
            "getIP" => (
                200,
                format!(
                    "{{\"status\":\"success\",\"ip\":\"203.0.113.9\",\"forms\":\"{}\"}}",
                    forms[1..].join(" | ")
                ),
            ),
            // An error page whose excerpt is cut in the middle of the entity-escaped password.
            "getCallTypes" => (500, format!("<html><p>{pad} {}</p></html>", forms[7])),
            // A proxy page with the numeric entities and the tag-bearing password as is.
            "getLanguages" => (200, format!("<p>{} and {pw}</p>", forms[8])),
            // An API error whose message carries the JSON-escaped and URL-encoded forms.
            "getDIDsInfo" => (
                200,
                serde_json::json!({
                    "status": "invalid_credentials",
                    "message": format!("bad password {} / {}", forms[1], forms[9]),
                })
                .to_string(),
            ),
            _ => example_answer(req),
        }
    });
    let env = Env::new().creds(&mock, TRICKY);
    for args in [
        vec!["getIP", "--format", "raw"],
        vec!["getIP", "--format", "json"],
        vec!["getIP", "--format", "pretty"],
        vec!["getCallTypes", "--retries", "0"],
        vec!["getCallTypes", "--retries", "0", "--format", "json"],
        vec!["getLanguages", "--retries", "0"],
        vec!["getLanguages", "--retries", "0", "-vv"],
        vec!["getDIDsInfo", "--did", "5551234567"],
        vec!["getDIDsInfo", "--did", "5551234567", "--format", "json"],
        vec!["doctor", "-v"],
    ] {
        let out = env.run(&args);
        tricky_clean(&format!("{args:?}"), &out);
    }
    // The excerpt is still there, masked.
    let out = env.run(&["getCallTypes", "--retries", "0"]);
    assert!(out.stderr.contains("HTTP 500"), "{}", out.stderr);
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.get("api_password") == Some(TRICKY))
    );
}

#[test]
fn url_userinfo_is_never_printed() {
    let mock = Mock::examples();
    let with_userinfo = mock
        .url
        .replacen("http://", "http://proxyuser:Pr0xyS3cret%21@", 1);
    let env = Env::new()
        .creds(&mock, SENTINEL)
        .var("VOIPMS_API_URL", &with_userinfo);
    let runs: Vec<Vec<&str>> = vec![
        vec!["getBalance", "-vv"],
        vec!["getBalance", "--dry-run"],
        vec!["getBalance", "--dry-run", "--format", "json"],
        vec!["phonebook", "add", "Spam", "5551112222", "--dry-run"],
        vec!["doctor"],
        vec!["doctor", "--format", "json", "-vv"],
        vec!["getBalance", "--api-url", "ftp://u:Pr0xyS3cret%21@h/x"],
        vec!["getBalance", "--api-url", "http://u:Pr0xyS3cret%21@h x/"],
    ];
    for args in runs {
        let out = env.run(&args);
        let text = format!("{}\n{}", out.stdout, out.stderr);
        for leak in ["Pr0xyS3cret", "proxyuser:"] {
            assert!(!text.contains(leak), "{args:?}: {leak} leaked:\n{text}");
        }
        clean(&format!("{args:?}"), &out);
    }
    let out = env.run(&["getBalance", "--dry-run"]);
    assert!(out.stdout.contains("********@127.0.0.1"), "{}", out.stdout);
}

#[test]
fn the_sandbox_password_is_not_masked_in_ordinary_text() {
    let env = Env::new();
    let out = env.run(&["--sandbox", "getCallAccounts", "--client", "1"]);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    assert!(text.contains("the sandbox has one"), "{text}");
    assert!(
        !text.contains("[redacted]") && !text.contains("********"),
        "{text}"
    );
}
