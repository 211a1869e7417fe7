//! `voipms mcp --http` over raw HTTP/1.1 on loopback: authentication, Host and Origin checks,
//! CORS, sessions, notifications, streams, protocol versions, the legacy SSE transport, limits,
//! and the token never reaching a log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Env, free_port};

const TOKEN: &str = "Sentinel-token-0123456789abcdef";

struct Http {
    child: Child,
    port: u16,
}

impl Drop for Http {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(env: &Env, extra: &[&str]) -> Http {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let audit = env.dir.join("audit.jsonl").display().to_string();
    let mut args = vec!["--sandbox", "mcp", "--http", &addr, "--audit-log", &audit];
    args.extend_from_slice(extra);
    // The access log goes to a file: a pipe nobody reads would fill and stall the server.
    let log = std::fs::File::create(env.dir.join(format!("server-{port}.log"))).unwrap();
    let child = env
        .cmd(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(30));
    }
    Http { child, port }
}

fn env() -> Env {
    let e = Env::new();
    let state = e.dir.join("sandbox.json").display().to_string();
    e.var("VOIPMS_SANDBOX_STATE", &state)
        .var("MCP_AUTH_TOKEN", TOKEN)
}

/// One answer: status, headers (lower-case names), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC message in the body (plain JSON or the data line of an SSE event).
    fn message(&self) -> Value {
        if let Ok(v) = serde_json::from_str(&self.body) {
            return v;
        }
        let line = self
            .body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .find(|d| d.starts_with('{'))
            .unwrap_or_else(|| panic!("no message in {:?}", self.body));
        serde_json::from_str(line).unwrap()
    }
}

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
const JSON: (&str, &str) = ("Content-Type", "application/json");

fn auth() -> (&'static str, String) {
    ("Authorization", format!("Bearer {TOKEN}"))
}

fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse(&String::from_utf8_lossy(&raw))
}

fn parse(raw: &str) -> Answer {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            out.push_str(&rest[..rest.len().min(n)]);
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn init_body(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {},
                      "clientInfo": {"name": "http-test", "version": "1"}}})
    .to_string()
}

/// Opens a session: its id.
fn initialize(port: u16, version: &str) -> (String, Answer) {
    let a = auth();
    let r = request(
        port,
        "POST",
        "/mcp",
        &[ACCEPT, JSON, (a.0, &a.1)],
        &init_body(version),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let id = r.header("mcp-session-id").unwrap_or("").to_owned();
    (id, r)
}

#[test]
fn authentication_and_the_token_in_no_log() {
    let env = env();
    let s = start(&env, &[]);
    let body = init_body("2025-06-18");
    let r = request(s.port, "POST", "/mcp", &[ACCEPT, JSON], &body);
    assert_eq!(r.status, 401);
    assert!(
        r.header("www-authenticate").unwrap().starts_with("Bearer"),
        "{r:?}"
    );
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[
            ACCEPT,
            JSON,
            ("Authorization", "Bearer nope-nope-nope-nope"),
        ],
        &body,
    );
    assert_eq!(r.status, 401);
    // A query token is refused unless allowed.
    let r = request(
        s.port,
        "POST",
        &format!("/mcp?token={TOKEN}"),
        &[ACCEPT, JSON],
        &body,
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("--allow-query-token"), "{r:?}");
    let (id, _) = initialize(s.port, "2025-06-18");
    assert!(!id.is_empty());
    // /health needs no token and tells no secret.
    let r = request(s.port, "GET", "/health", &[], "");
    assert_eq!(r.status, 200);
    let h: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["account"], "sandbox");
    assert!(!r.body.contains(TOKEN));
    drop(s);

    let s = start(&env, &["--allow-query-token"]);
    let r = request(
        s.port,
        "POST",
        &format!("/mcp?token={TOKEN}"),
        &[ACCEPT, JSON],
        &body,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let port = s.port;
    drop(s);
    let log = std::fs::read_to_string(env.dir.join(format!("server-{port}.log"))).unwrap();
    assert!(
        log.contains("POST /mcp 200"),
        "the access log has the request: {log}"
    );
    assert!(
        !log.contains(TOKEN) && !log.contains("token="),
        "the token leaked: {log}"
    );
}

#[test]
fn host_origin_and_cors() {
    let env = env();
    let s = start(
        &env,
        &[
            "--allowed-host",
            "mcp.example.com",
            "--allowed-origin",
            "https://app.example.com",
        ],
    );
    let a = auth();
    let body = init_body("2025-06-18");
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[ACCEPT, JSON, (a.0, &a.1), ("Host", "evil.example.net")],
        &body,
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.body.contains("--allowed-host"), "{r:?}");
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[ACCEPT, JSON, (a.0, &a.1), ("Host", "mcp.example.com")],
        &body,
    );
    assert_eq!(r.status, 200, "{r:?}");
    // A foreign Origin is refused whatever else is right; an allowed one gets CORS headers.
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[
            ACCEPT,
            JSON,
            (a.0, &a.1),
            ("Origin", "https://evil.example.net"),
        ],
        &body,
    );
    assert_eq!(r.status, 403, "{r:?}");
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[
            ACCEPT,
            JSON,
            (a.0, &a.1),
            ("Origin", "https://app.example.com"),
        ],
        &body,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let r = request(
        s.port,
        "OPTIONS",
        "/mcp",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, mcp-session-id",
            ),
        ],
        "",
    );
    assert_eq!(r.status, 204, "{r:?}");
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("mcp-session-id")
    );
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("DELETE")
    );
}

#[test]
fn sessions_notifications_streams_and_versions() {
    let env = env();
    let s = start(&env, &[]);
    let a = auth();
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let (id, r) = initialize(s.port, version);
        assert_eq!(r.message()["result"]["protocolVersion"], version, "{r:?}");
        let session = ("Mcp-Session-Id", id.as_str());
        let pv = ("MCP-Protocol-Version", version);
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
        let r = request(
            s.port,
            "POST",
            "/mcp",
            &[ACCEPT, JSON, (a.0, &a.1), session, pv],
            &note,
        );
        assert_eq!(r.status, 202, "{version}: {r:?}");
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                          "params": {"name": "voipms_get_balance", "arguments": {}}})
        .to_string();
        let r = request(
            s.port,
            "POST",
            "/mcp",
            &[ACCEPT, JSON, (a.0, &a.1), session, pv],
            &call,
        );
        assert_eq!(r.message()["result"]["isError"], false, "{version}: {r:?}");
        let r = request(s.port, "DELETE", "/mcp", &[(a.0, &a.1), session, pv], "");
        assert!(matches!(r.status, 200 | 204), "{version}: {r:?}");
        let r = request(
            s.port,
            "POST",
            "/mcp",
            &[ACCEPT, JSON, (a.0, &a.1), session, pv],
            &call,
        );
        assert_eq!(r.status, 404, "a closed session is gone: {r:?}");
    }
    // 2026-07-28: no initialize; server/discover lists the versions.
    let discover = json!({"jsonrpc": "2.0", "id": 9, "method": "server/discover", "params": {
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {},
                  "io.modelcontextprotocol/clientInfo": {"name": "http-test", "version": "1"}}}})
    .to_string();
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[
            ACCEPT,
            JSON,
            (a.0, &a.1),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "server/discover"),
        ],
        &discover,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let versions = r.message()["result"]["supportedVersions"].to_string();
    assert!(
        versions.contains("2026-07-28") && versions.contains("2024-11-05"),
        "{versions}"
    );

    // The standalone GET stream of a session.
    let (id, _) = initialize(s.port, "2025-11-25");
    let mut sock = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        sock,
        "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer {TOKEN}\r\nMcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(sock);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.contains("200"), "{status}");
    let mut saw_sse = false;
    for _ in 0..20 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if line
            .to_ascii_lowercase()
            .starts_with("content-type: text/event-stream")
        {
            saw_sse = true;
            break;
        }
    }
    assert!(saw_sse);
}

#[test]
fn the_legacy_sse_transport() {
    let env = env();
    let s = start(&env, &[]);
    let mut sock = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        sock,
        "GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(sock);
    let mut endpoint = None;
    let mut line = String::new();
    while endpoint.is_none() && reader.read_line(&mut line).unwrap() > 0 {
        if let Some(path) = line.trim().strip_prefix("data: ") {
            endpoint = Some(path.to_owned());
        }
        line.clear();
    }
    let endpoint = endpoint.expect("an endpoint event");
    assert!(endpoint.starts_with("/message?sessionId="), "{endpoint}");
    let a = auth();
    let r = request(
        s.port,
        "POST",
        &endpoint,
        &[JSON, (a.0, &a.1)],
        &init_body("2024-11-05"),
    );
    assert_eq!(r.status, 202, "{r:?}");
    let mut answer = None;
    while answer.is_none() && reader.read_line(&mut line).unwrap() > 0 {
        if let Some(data) = line.trim().strip_prefix("data: ") {
            answer = serde_json::from_str::<Value>(data).ok();
        }
        line.clear();
    }
    let answer = answer.expect("the answer on the stream");
    assert_eq!(answer["result"]["serverInfo"]["name"], "voipms", "{answer}");
    let r = request(
        s.port,
        "POST",
        "/message?sessionId=nope",
        &[JSON, (a.0, &a.1)],
        "{}",
    );
    assert_eq!(r.status, 404);
}

#[test]
fn limits_answer_before_anything_runs() {
    let env = env();
    let s = start(
        &env,
        &[
            "--max-body",
            "2048",
            "--rate-limit",
            "30",
            "--max-sessions",
            "2",
        ],
    );
    let a = auth();
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"x\":\"{}\"}}}}",
        "x".repeat(4096)
    );
    let r = request(s.port, "POST", "/mcp", &[ACCEPT, JSON, (a.0, &a.1)], &big);
    assert_eq!(r.status, 413, "{r:?}");
    initialize(s.port, "2025-06-18");
    initialize(s.port, "2025-06-18");
    let r = request(
        s.port,
        "POST",
        "/mcp",
        &[ACCEPT, JSON, (a.0, &a.1)],
        &init_body("2025-06-18"),
    );
    assert_eq!(r.status, 503, "the session cap: {r:?}");
    let mut limited = false;
    for _ in 0..40 {
        let r = request(s.port, "GET", "/mcp", &[(a.0, &a.1)], "");
        if r.status == 429 {
            assert_eq!(r.header("retry-after"), Some("1"));
            limited = true;
            break;
        }
    }
    assert!(limited, "the rate limit never answered 429");
}

#[test]
fn a_public_address_needs_authentication() {
    let env = Env::new();
    let out = env.run(&["--sandbox", "mcp", "--http", "192.0.2.10:8787"]);
    out.code(2);
    assert!(
        out.stderr.contains("MCP_AUTH_TOKEN") && out.stderr.contains("--no-auth"),
        "{}",
        out.stderr
    );
}

/// A keep-alive HTTP/1.1 connection that posts JSON-RPC and reads `Content-Length` answers.
struct KeepAlive {
    reader: BufReader<TcpStream>,
    port: u16,
}

impl KeepAlive {
    fn new(port: u16) -> KeepAlive {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.set_nodelay(true).unwrap();
        KeepAlive {
            reader: BufReader::new(s),
            port,
        }
    }

    /// Posts `body`; the status, the session header and the body (JSON answers only).
    fn post(&mut self, body: &str, session: Option<&str>) -> (u16, Option<String>, String) {
        let mut head = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n\
             MCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        if let Some(id) = session {
            head.push_str(&format!("Mcp-Session-Id: {id}\r\n"));
        }
        head.push_str("\r\n");
        let s = self.reader.get_mut();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body.as_bytes()).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let (mut len, mut chunked, mut sid) = (0usize, false, None);
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.trim().parse().unwrap_or(0),
                "transfer-encoding" => chunked = v.contains("chunked"),
                "mcp-session-id" => sid = Some(v.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = String::new();
        if chunked {
            // An SSE answer: a request's stream ends after its answer (the zero-size chunk).
            loop {
                line.clear();
                self.reader.read_line(&mut line).unwrap();
                let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk).unwrap();
                let text = String::from_utf8_lossy(&chunk[..n]).into_owned();
                body.push_str(&text);
                if n == 0 {
                    break;
                }
            }
        } else {
            let mut buf = vec![0; len];
            self.reader.read_exact(&mut buf).unwrap();
            body = String::from_utf8_lossy(&buf).into_owned();
        }
        (status, sid, body)
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn load_ten_thousand_calls_from_64_clients_and_a_thousand_sessions() {
    let env = env();
    let s = start(&env, &["--stateless", "--rate-limit", "0"]);
    let port = s.port;
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": "voipms_get_balance", "arguments": {}}})
    .to_string();
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let call = call.clone();
            std::thread::spawn(move || {
                let mut c = KeepAlive::new(port);
                let mut errors = 0;
                for _ in 0..157 {
                    let (status, _, body) = c.post(&call, None);
                    if status != 200 || !body.contains("\"isError\":false") {
                        errors += 1;
                    }
                }
                errors
            })
        })
        .collect();
    let errors: usize = clients.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(errors, 0, "10,048 calls from 64 clients");
    let after_load = rss_kb(s.child.id());
    assert!(
        after_load > 0 && after_load < 300_000,
        "RSS {after_load} kB after the load"
    );
    drop(s);

    // A thousand open sessions on the stateful server.
    let s = start(&env, &["--rate-limit", "0", "--max-sessions", "1200"]);
    let mut c = KeepAlive::new(s.port);
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let (status, sid, body) = c.post(&init_body("2025-06-18"), None);
        assert_eq!(status, 200, "{body}");
        ids.push(sid.expect("a session id"));
    }
    for id in [&ids[0], &ids[999]] {
        let (status, _, body) = c.post(&call, Some(id));
        assert_eq!(status, 200);
        assert!(body.contains("\"isError\":false"), "{body}");
    }
    let with_sessions = rss_kb(s.child.id());
    assert!(
        with_sessions < 400_000,
        "RSS {with_sessions} kB with 1,000 sessions"
    );
    eprintln!(
        "RSS: {after_load} kB after 10,048 stateless calls; {with_sessions} kB with 1,000 sessions"
    );
}
