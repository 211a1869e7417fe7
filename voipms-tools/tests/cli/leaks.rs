//! The leak scan of the MCP server: every tool of every toolset is called — as a dry run and for
//! real, with every permission on — against a stand-in for VoIP.ms that echoes the API password
//! back in every form it can take (as is, URL-encoded, JSON-escaped, as HTML entities, base64) in
//! answers, error statuses and error pages; the HTTP server is driven with its bearer token in the
//! header and in the query string, with `-vv`. Stdout, stderr and the audit log are scanned for the
//! sentinel password and token in any of those encodings: none may be there.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use base64::Engine;
use serde_json::{Value, json};
use voipms_sdk::catalog::{self, ParamKind};

use crate::support::{Env, Mock, Request, example_answer};

const PASSWORD: &str = "Le@k S3ntinel&pw<\"é/";
const TOKEN: &str = "Le4kT0kenSentinel-9f8e7d6c5b4a";

/// The forms a secret can take in text.
fn forms(secret: &str) -> Vec<String> {
    let form: String = secret
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let json_escaped: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\u{:04x}", u32::from(c))
            }
        })
        .collect();
    let html: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("&#{};", u32::from(c))
            }
        })
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        secret.to_owned(),
        form.clone(),
        form.replace('+', "%20"),
        serde_json::to_string(secret)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
        json_escaped,
        html,
        b64.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ]
}

/// A stand-in for VoIP.ms that echoes the password in its answers, in turn.
fn echoing() -> Mock {
    Mock::start(|req: &Request| {
        let pw = req.get("api_password").unwrap_or("").to_owned();
        let all = forms(&pw);
        let n = req.method().len() % 6;
        match n {
            0 => (
                200,
                json!({"status": "success", "echo": pw, "forms": all}).to_string(),
            ),
            1 => (
                200,
                json!({"status": "invalid_credentials", "message": format!("bad password {}", all[1])})
                    .to_string(),
            ),
            2 => (502, format!("<html><body>upstream {} / {}</body></html>", all[5], all[0])),
            3 => (200, format!("not json {} {}", all[4], all[6])),
            _ => example_answer(req),
        }
    })
}

/// Example arguments for a method's tool, from the catalog.
fn example_args(m: &catalog::Method) -> Value {
    let mut args = serde_json::Map::new();
    for p in m.params.iter().filter(|p| p.required) {
        let v = match (p.example, p.kind) {
            (Some(e), _) => e.to_owned(),
            (None, ParamKind::Enum) => p.values.first().map_or("1", |v| v.value).to_owned(),
            (None, ParamKind::Date) => "2025-06-01".into(),
            (None, ParamKind::Integer | ParamKind::TzOffset) => "1".into(),
            (None, ParamKind::Flag | ParamKind::YesNo) => "1".into(),
            (None, ParamKind::Phone) => "5551234567".into(),
            (None, ParamKind::Email) => "a@example.com".into(),
            (None, ParamKind::Routing) => "sys:hangup".into(),
            (None, _) => "x".into(),
        };
        args.insert(p.name.to_owned(), Value::String(v));
    }
    Value::Object(args)
}

fn scan(label: &str, text: &str) {
    for secret in [PASSWORD, TOKEN] {
        for f in forms(secret) {
            assert!(
                !text.contains(&f),
                "{label}: a secret leaked as {f:?}:\n{}",
                &text[text.find(&f).unwrap().saturating_sub(300)..]
                    .chars()
                    .take(700)
                    .collect::<String>()
            );
        }
    }
}

#[test]
fn no_secret_leaves_the_mcp_server_in_any_encoding() {
    let mock = echoing();
    let env = Env::new()
        .creds(&mock, PASSWORD)
        .var("MCP_AUTH_TOKEN", TOKEN);
    let audit = env.dir.join("audit.jsonl");
    let audit_arg = audit.display().to_string();
    let mut child = env
        .cmd(&[
            "-vv",
            "--retries",
            "0",
            "mcp",
            "--toolsets",
            "all",
            "--allow-writes",
            "--allow-billable",
            "--audit-log",
            &audit_arg,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        s
    });
    let mut out = String::new();
    let mut send = |id: u64, method: &str, params: Value| {
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        )
        .unwrap();
        loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "the server stopped"
            );
            out.push_str(&line);
            if serde_json::from_str::<Value>(&line).is_ok_and(|v| v["id"] == json!(id)) {
                return serde_json::from_str::<Value>(&line).unwrap();
            }
        }
    };
    send(
        0,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "leak-scan", "version": "1"}}),
    );
    let tools = send(1, "tools/list", json!({}));
    let names: Vec<String> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.len() > 230, "{}", names.len());
    let mut id = 10;
    let mut calls = 0;
    for m in catalog::METHODS {
        let tool = format!("voipms_{}", m.rust_name);
        let args = if names.contains(&tool) && !tool.contains("recording") {
            example_args(m)
        } else {
            json!({})
        };
        for dry_run in [true, false] {
            let mut a = args.clone();
            if m.effect.is_mutating() {
                a["dry_run"] = json!(dry_run);
            } else if !dry_run {
                continue;
            }
            id += 1;
            send(id, "tools/call", json!({"name": tool, "arguments": a}));
            calls += 1;
        }
        // The same method through the long-tail caller.
        id += 1;
        send(
            id,
            "tools/call",
            json!({"name": "voipms_call_method",
                   "arguments": {"method": m.name, "params": example_args(m), "dry_run": false}}),
        );
        calls += 1;
    }
    for (tool, args) in [
        ("voipms_get_balance", json!({"advanced": true})),
        ("voipms_get_phonebook_entries", json!({})),
        ("voipms_inspect_number", json!({"number": "5551234567"})),
        ("voipms_suggest_spam_numbers", json!({})),
        (
            "voipms_mark_number_as_spam",
            json!({"number": "5551234567", "dry_run": false}),
        ),
        ("voipms_get_recent_cdr", json!({"days": 3})),
        ("voipms_describe_method", json!({"method": "setSubAccount"})),
    ] {
        id += 1;
        send(id, "tools/call", json!({"name": tool, "arguments": args}));
        calls += 1;
    }
    drop(stdin);
    let _ = child.wait();
    let err = err_reader.join().unwrap();
    assert!(calls > 450, "{calls} calls");
    assert!(
        mock.count() > 300,
        "the stand-in saw {} requests",
        mock.count()
    );
    scan("stdout", &out);
    scan("stderr (-vv)", &err);
    scan("audit log", &std::fs::read_to_string(&audit).unwrap());

    // The HTTP server, its token in the header and in the query string, -vv.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(env.dir.join("http.log")).unwrap();
    let mut http = env
        .cmd(&[
            "-vv",
            "mcp",
            "--http",
            &addr,
            "--allow-query-token",
            "--audit-log",
            &audit_arg,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(&addr).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "voipms_call_method", "arguments": {"method": "getIP"}}})
    .to_string();
    for (path, header) in [
        (
            "/mcp".to_owned(),
            format!("Authorization: Bearer {TOKEN}\r\n"),
        ),
        (format!("/mcp?token={}", forms(TOKEN)[1]), String::new()),
        (
            "/mcp".to_owned(),
            "Authorization: Bearer wrong-token-wrong-token\r\n".to_owned(),
        ),
    ] {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{header}Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\nMCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        let _ = std::io::Read::read_to_string(&mut s, &mut answer);
        scan("HTTP answer", &answer);
    }
    let _ = http.kill();
    let _ = http.wait();
    scan(
        "HTTP log (-vv)",
        &std::fs::read_to_string(env.dir.join("http.log")).unwrap(),
    );
    scan("audit log", &std::fs::read_to_string(&audit).unwrap());
}
