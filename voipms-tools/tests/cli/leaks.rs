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
    let named: String = secret
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let mut all = vec![
        secret.to_owned(),
        form.clone(),
        form.replace('+', "%20"),
        serde_json::to_string(secret)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
        json_escaped,
        html,
        named,
    ];
    // Base64 (standard and URL-safe, padded or not) of the secret at each of the three
    // alignments it can have inside a longer text: the characters that encode only its bytes.
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    for engine in [STANDARD, URL_SAFE] {
        all.push(engine.encode(secret));
        for offset in 0..3 {
            let mut bytes = vec![b'#'; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let text = engine.encode(&bytes);
            let start = if offset == 0 { 0 } else { 4 };
            let end = bytes.len() / 3 * 4;
            if end >= start + 8 {
                all.push(text[start..end].to_owned());
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|f| seen.insert(f.clone()));
    all
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
            3 => (200, format!("not json {} {} {}", all[4], all[6], all[7])),
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

const TRANSCRIPTION_KEY: &str = "sk-Le4kTranscripti0nSentinel-77aa";

/// How the stand-in misbehaves in one run of the CLI leak scan.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Upstream {
    /// The catalog's example answers, with the request (query, password, authorization) echoed
    /// in an extra key: the friendly commands run their whole flows.
    Examples,
    /// `success` answers that are nothing but the echoed secrets, in every form.
    Echo,
    /// API error statuses whose message echoes the password and the query.
    Status,
    /// An HTML 502 page echoing them.
    Html,
    /// A Cloudflare 522 page echoing the query string.
    Cloudflare,
    /// A page that is not JSON, echoing them base64-encoded.
    NotJson,
    /// Every connection closed before an answer.
    Dropped,
}

fn upstream_answer(mode: Upstream, req: &Request) -> (u16, String) {
    let pw = req.get("api_password").unwrap_or("").to_owned();
    let echo = format!("{} | {} | {pw}", req.query, req.authorization);
    let all = forms(&pw);
    if req.path.ends_with("/audio/transcriptions") {
        // The transcription provider, echoing its key.
        return match mode {
            Upstream::Examples | Upstream::Echo => (
                200,
                json!({"text": format!("hello there {}", req.authorization), "language": "en",
                       "duration": 3.0,
                       "segments": [{"start": 0.0, "end": 3.0, "text": req.authorization.clone()}]})
                .to_string(),
            ),
            Upstream::Status => (
                401,
                json!({"error": {"message": format!("Incorrect API key provided: {}", req.authorization)}})
                    .to_string(),
            ),
            _ => (
                502,
                format!("<html><body>bad gateway {}</body></html>", req.authorization),
            ),
        };
    }
    match mode {
        Upstream::Examples => {
            let (code, body) = example_answer(req);
            let mut v: Value = serde_json::from_str(&body).unwrap_or_else(|_| json!({}));
            if let Some(o) = v.as_object_mut() {
                o.insert("debug_echo".into(), json!(echo));
            }
            (code, v.to_string())
        }
        Upstream::Echo => (
            200,
            json!({"status": "success", "echo": echo, "forms": all}).to_string(),
        ),
        Upstream::Status => (
            200,
            json!({"status": "invalid_credentials",
                   "message": format!("wrong api_password {pw} in {}", req.query)})
            .to_string(),
        ),
        Upstream::Html => (
            502,
            format!(
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1><p>{} {} {}</p></body></html>",
                all[5], all[6], req.query
            ),
        ),
        Upstream::Cloudflare => (
            522,
            format!(
                "<!DOCTYPE html><html><head><title>voip.ms | 522: Connection timed out</title></head><body><p>error code: 522</p><p>{}</p></body></html>",
                req.query
            ),
        ),
        Upstream::NotJson => (
            200,
            format!("Fatal error: {} {} {}", all[7], all.last().unwrap(), echo),
        ),
        Upstream::Dropped => unreachable!("served by a listener that drops every connection"),
    }
}

/// A URL whose server closes every connection at once.
fn dropping_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1/rest.php", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            drop(s);
        }
    });
    url
}

/// Every command family of the CLI with arguments that make it call the API (for those that
/// do); `true` when it works offline (one upstream is enough for it).
fn cli_commands(dir: &std::path::Path) -> Vec<(Vec<String>, bool)> {
    let answer = dir.join("answer.json");
    std::fs::write(&answer, catalog::method("getBalance").unwrap().example).unwrap();
    let media = dir.join("pic.png");
    std::fs::write(&media, b"\x89PNG\r\n\x1a\n0000").unwrap();
    let audit = dir.join("audit.jsonl");
    std::fs::write(
        &audit,
        format!("{{\"ts\":\"2025-06-01T00:00:00Z\",\"tool\":\"voipms_get_balance\",\"note\":\"{TOKEN}\"}}\n"),
    )
    .unwrap();
    let path = |p: &std::path::Path| p.display().to_string();
    let range = ["--from", "2025-06-01", "--to", "2025-06-01"];
    let with_range = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(range.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let v = |args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).collect() };
    let out_dir = path(&dir.join("out"));
    vec![
        (v(&["balance"]), false),
        (v(&["balance", "--advanced"]), false),
        (v(&["getBalance"]), false),
        (v(&["getDIDsInfo", "--did", "5551234567"]), false),
        (
            v(&["setPhonebook", "--name", "Leak", "--number", "5551112222"]),
            false,
        ),
        (v(&["call", "getIP"]), false),
        (v(&["call", "delPhonebook", "phonebook=1"]), false),
        (with_range(&["cdr"]), false),
        (with_range(&["cdr", "export"]), false),
        (v(&["doctor"]), false),
        (v(&["doctor", "--drift"]), false),
        (v(&["filters", "list"]), false),
        (v(&["filters", "block", "5551112222"]), false),
        (v(&["filters", "unblock", "5551112222"]), false),
        (v(&["phonebook", "groups"]), false),
        (v(&["phonebook", "entries"]), false),
        (v(&["phonebook", "add", "Leaks", "5551112222"]), false),
        (v(&["phonebook", "remove", "Leaks", "5551112222"]), false),
        (with_range(&["recordings", "list"]), false),
        (v(&["recordings", "get", "1", "--out", &out_dir]), false),
        (
            v(&["recordings", "email", "1", "--email", "a@example.com"]),
            false,
        ),
        (v(&["recordings", "delete", "1"]), false),
        (v(&["recordings", "transcribe", "1"]), false),
        (v(&["sms", "send", "--dst", "5551112222", "hello"]), false),
        (with_range(&["sms", "list"]), false),
        (
            v(&[
                "mms",
                "send",
                "--dst",
                "5551112222",
                "--media",
                &path(&media),
                "hi",
            ]),
            false,
        ),
        (with_range(&["mms", "list"]), false),
        (v(&["spam", "inspect", "5551112222"]), false),
        (v(&["spam", "suggest"]), false),
        (v(&["spam", "mark", "5551112222"]), false),
        (v(&["spam", "unmark", "5551112222"]), false),
        (with_range(&["transcripts", "sync"]), false),
        (v(&["transcripts", "show", "1"]), true),
        (v(&["transcripts", "search", "hello"]), true),
        (v(&["transcripts", "export"]), true),
        (v(&["transcripts", "delete", "--all"]), true),
        (v(&["decode", "getBalance", &path(&answer)]), true),
        (v(&["list"]), true),
        (v(&["help", "getBalance"]), true),
        (v(&["help"]), true),
        (v(&["completion", "bash"]), true),
        (v(&["audit", "tail", "--audit-log", &path(&audit)]), true),
        (v(&["mcp", "tokens", "list"]), true),
        (v(&["mcp", "tokens", "revoke", TOKEN]), true),
        (v(&["mcp", "--list-tools"]), true),
        (v(&["--sandbox", "balance"]), true),
        (v(&["sandbox", "reset"]), true),
    ]
}

/// Every file under `dir` but the inputs holding a sentinel on purpose, as (path, text).
fn files_under(dir: &std::path::Path, skip: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if !skip.iter().any(|s| p.ends_with(s)) {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((
                    p.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    out
}

fn scan_all(label: &str, text: &str) {
    for secret in [PASSWORD, TOKEN, TRANSCRIPTION_KEY] {
        for f in forms(secret) {
            if let Some(at) = text.find(&f) {
                panic!(
                    "{label}: a secret leaked as {f:?}:\n{}",
                    text[at.saturating_sub(300)..]
                        .chars()
                        .take(700)
                        .collect::<String>()
                );
            }
        }
    }
}

/// The leak scan of the command line: every command family, in every output format, with
/// `-vv`, against stand-ins for VoIP.ms (and the transcription provider) that echo the secrets
/// back or fail in every way; stdout, stderr and every file the runs leave (logs, the audit log,
/// the sandbox state, the transcripts store, the OAuth store, saved recordings) are scanned for
/// the API password, the transcription key and the MCP token in every encoding.
#[test]
fn no_secret_leaves_the_cli_in_any_encoding() {
    const FORMATS: [&str; 5] = ["pretty", "json", "raw", "table", "csv"];
    let modes = [
        Upstream::Examples,
        Upstream::Echo,
        Upstream::Status,
        Upstream::Html,
        Upstream::Cloudflare,
        Upstream::NotJson,
        Upstream::Dropped,
    ];
    let mut runs = Vec::new();
    let mut envs = Vec::new();
    let mut mocks = Vec::new();
    let mut commands = 0;
    for (i, mode) in modes.into_iter().enumerate() {
        let url = if mode == Upstream::Dropped {
            dropping_server()
        } else {
            let mock = Mock::start(move |req: &Request| upstream_answer(mode, req));
            let url = mock.url.clone();
            mocks.push(mock);
            url
        };
        let base = url.trim_end_matches("/api/v1/rest.php").to_owned();
        let env = Env::new()
            .var("VOIPMS_API_USERNAME", "me@example.com")
            .var("VOIPMS_API_PASSWORD", PASSWORD)
            .var("VOIPMS_API_URL", &url)
            .var("VOIPMS_TRANSCRIPTION_URL", &base)
            .var("VOIPMS_TRANSCRIPTION_KEY", TRANSCRIPTION_KEY)
            .var("VOIPMS_TRANSCRIPTION_BACKOFF_MS", "1")
            .var("MCP_AUTH_TOKEN", TOKEN);
        let state = env.dir.join("sandbox.json").display().to_string();
        let env = env.var("VOIPMS_SANDBOX_STATE", &state);
        let list = cli_commands(&env.dir);
        commands = list.len();
        for (args, offline) in list {
            if offline && i > 0 {
                continue;
            }
            for format in FORMATS {
                runs.push((envs.len(), mode, format, args.clone(), false));
            }
            // Changes as dry runs too (what they would send, password masked).
            runs.push((envs.len(), mode, "pretty", args.clone(), true));
        }
        envs.push(env);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outputs = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((e, mode, format, args, dry)) = runs.get(i) else {
                        break;
                    };
                    let mut all = vec!["-vv", "--retries", "0", "--format", format];
                    all.push(if *dry { "--dry-run" } else { "--yes" });
                    all.extend(args.iter().map(String::as_str));
                    let out = envs[*e].cmd(&all).stdin(Stdio::null()).output().unwrap();
                    let label = format!("{mode:?} {}", all.join(" "));
                    outputs.lock().unwrap().push((
                        label,
                        out.status.code().unwrap_or(-1),
                        String::from_utf8_lossy(&out.stdout).into_owned(),
                        String::from_utf8_lossy(&out.stderr).into_owned(),
                    ));
                }
            });
        }
    });
    let outputs = outputs.into_inner().unwrap();
    let mut codes = std::collections::BTreeMap::new();
    for (label, code, stdout, stderr) in &outputs {
        scan_all(&format!("stdout of {label}"), stdout);
        scan_all(&format!("stderr of {label}"), stderr);
        *codes.entry(*code).or_insert(0) += 1;
    }
    let mut files = 0;
    for env in &envs {
        for (path, text) in files_under(&env.dir, &["audit.jsonl"]) {
            scan_all(&path, &text);
            files += 1;
        }
    }
    eprintln!(
        "CLI leak scan: {commands} commands × {} formats (+ dry runs) × {} upstreams: {} runs, \
         exit codes {codes:?}, {files} files scanned, 0 hits",
        FORMATS.len(),
        modes.len(),
        outputs.len()
    );
    // The scan means something only if the runs reached the stand-ins and got past parsing.
    assert!(outputs.len() > 1000, "{} runs", outputs.len());
    assert!(mocks.iter().all(|m| m.count() > 100));
    assert!(codes.get(&0).is_some_and(|n| *n > 100), "{codes:?}");
}
