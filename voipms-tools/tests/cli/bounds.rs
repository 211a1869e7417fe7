//! The two HTTP servers (`voipms sandbox serve`, `voipms mcp --http`) under slow and oversized
//! requests: many connections trickling their headers a byte at a time, bodies never finished,
//! huge headers, huge bodies, chunked bodies without an end. A probe must still be answered, a
//! body that never finishes must be answered 408 (and close its connection), and an oversized
//! request must be answered 413/431 without being executed. Figures (memory, probe latency
//! under attack) come from `benches/http_bounds.sh`, not from here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{Env, Server, client_of, free_port};

const TOKEN: &str = "bounds-test-token-3f9a1c";

/// A server under test: its port, how to probe it, and how to ask for a change.
struct Target {
    port: u16,
    /// A request line + headers (no blank line) for a cheap request that must answer 200.
    probe: String,
    /// The path changes are posted to.
    path: &'static str,
    /// Extra headers a change needs (authorization).
    auth: String,
    _server: Server,
    env: Env,
}

fn sandbox() -> Target {
    let env = Env::new();
    let state = env.dir.join("sandbox.json").display().to_string();
    let env = env.var("VOIPMS_SANDBOX_STATE", &state);
    let mut server = Server(
        env.cmd(&[
            "--format",
            "json",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--body-timeout",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let client = client_of(&line);
    let url = client.get("VOIPMS_API_URL").unwrap().to_owned();
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Target {
        port,
        probe: format!(
            "GET /api/v1/rest.php?api_username=demo%40example.com&api_password=sandbox&method=getBalance HTTP/1.1\r\nHost: 127.0.0.1:{port}"
        ),
        path: "/api/v1/rest.php",
        auth: String::new(),
        _server: server,
        env,
    }
}

fn mcp() -> Target {
    let env = Env::new();
    let state = env.dir.join("sandbox.json").display().to_string();
    let env = env
        .var("VOIPMS_SANDBOX_STATE", &state)
        .var("MCP_AUTH_TOKEN", TOKEN);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = Server(
        env.cmd(&[
            "--sandbox",
            "mcp",
            "--http",
            &addr,
            "--max-body",
            "65536",
            "--body-timeout",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "the MCP server did not start");
        std::thread::sleep(Duration::from_millis(30));
    }
    Target {
        port,
        probe: format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}"),
        path: "/mcp",
        auth: format!(
            "Authorization: Bearer {TOKEN}\r\nAccept: application/json, text/event-stream\r\n"
        ),
        _server: server,
        env,
    }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// The status of the first answer on `s` (0 when the connection closed without one).
fn status(s: &mut TcpStream) -> u16 {
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got)
        .split(' ')
        .nth(1)
        .and_then(|c| c.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn probe(t: &Target) -> u16 {
    let mut s = connect(t.port);
    s.write_all(format!("{}\r\nConnection: close\r\n\r\n", t.probe).as_bytes())
        .unwrap();
    status(&mut s)
}

/// Slow clients: `headers` connections that trickle a request's headers one byte at a time, and
/// `bodies` that send whole headers and a few bytes of a body that never comes.
fn attack(t: &Target, headers: usize, bodies: usize) -> (Vec<TcpStream>, Vec<TcpStream>) {
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Content-Type: {}\r\nContent-Length: 60000\r\n\r\n{}",
        t.path,
        t.port,
        t.auth,
        content_type(t),
        if t.path == "/mcp" {
            "{\"jsonrpc\":"
        } else {
            "--X\r\nContent-Disposition: form-data; name=\"method\"\r\n\r\n"
        }
    );
    let slow_heads: Vec<TcpStream> = (0..headers)
        .map(|_| {
            let mut s = connect(t.port);
            s.write_all(b"G").unwrap();
            s
        })
        .collect();
    let slow_bodies: Vec<TcpStream> = (0..bodies)
        .map(|_| {
            let mut s = connect(t.port);
            s.write_all(head.as_bytes()).unwrap();
            s
        })
        .collect();
    (slow_heads, slow_bodies)
}

fn trickle(conns: &mut [TcpStream], text: &[u8], from: usize) {
    for s in conns.iter_mut() {
        let _ = s.write_all(&text[from..=from]);
    }
}

fn slow_clients(t: &Target, headers: usize) {
    let (mut heads, mut bodies) = attack(t, headers, 40);
    let text = b"GET /health HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    // While they trickle, a probe is answered.
    for i in 1..6 {
        trickle(&mut heads, text, i);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(probe(t), 200, "a probe during {headers} slow connections");
    // A body that stops coming is answered 408 once the body timeout (1 s) is over, and its
    // connection closed.
    let started = Instant::now();
    let code = status(&mut bodies[0]);
    assert_eq!(code, 408, "a body that never finishes");
    assert!(started.elapsed() < Duration::from_secs(10));
    let mut rest = Vec::new();
    let _ = bodies[0].read_to_end(&mut rest);
    for s in &mut bodies[1..] {
        assert_eq!(status(s), 408);
    }
    assert_eq!(probe(t), 200, "a probe after the attack");
}

/// A change whose body is larger than allowed: refused before it is read, and not executed.
fn oversized(t: &Target, limit: usize, change: &str, unchanged: impl Fn(&Target) -> bool) {
    // Huge headers: 431 (or 400 from a server that reads no further).
    let mut s = connect(t.port);
    let big = "a".repeat(200 * 1024);
    let _ = s.write_all(
        format!(
            "GET /health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-Big: {big}\r\n\r\n",
            t.port
        )
        .as_bytes(),
    );
    assert_eq!(status(&mut s), 431, "huge headers");

    // A declared length over the limit: 413 before the body is sent.
    let mut s = connect(t.port);
    s.write_all(
        format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
            t.path,
            t.port,
            t.auth,
            content_type(t),
            limit * 4
        )
        .as_bytes(),
    )
    .unwrap();
    let _ = s.write_all(change.as_bytes());
    assert_eq!(status(&mut s), 413, "a declared length over the limit");

    // Chunked without an end: 413 once more than the limit has come.
    let mut s = connect(t.port);
    s.write_all(
        format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Content-Type: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{change}\r\n",
            t.path,
            t.port,
            t.auth,
            content_type(t),
            change.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut writer = s.try_clone().unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 8192, "z".repeat(8192));
    let feeder = std::thread::spawn(move || {
        for _ in 0..(limit / 8192 + 64) {
            if writer.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
    });
    assert_eq!(status(&mut s), 413, "a chunked body without end");
    drop(s);
    feeder.join().unwrap();
    assert!(unchanged(t), "an oversized request was executed");
    assert_eq!(probe(t), 200);
}

fn content_type(t: &Target) -> &'static str {
    if t.path == "/mcp" {
        "application/json"
    } else {
        "multipart/form-data; boundary=X"
    }
}

#[test]
fn sandbox_server_outlasts_slow_clients() {
    let t = sandbox();
    // More slow connections than the sandbox used to accept at once (256).
    slow_clients(&t, 300);
}

#[test]
fn mcp_server_outlasts_slow_clients() {
    let t = mcp();
    slow_clients(&t, 300);
}

#[test]
fn sandbox_server_refuses_oversized_requests_unread() {
    let t = sandbox();
    let change = "--X\r\nContent-Disposition: form-data; name=\"api_username\"\r\n\r\ndemo@example.com\r\n--X\r\nContent-Disposition: form-data; name=\"api_password\"\r\n\r\nsandbox\r\n--X\r\nContent-Disposition: form-data; name=\"method\"\r\n\r\nsetPhonebook\r\n--X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nOversized\r\n--X\r\nContent-Disposition: form-data; name=\"number\"\r\n\r\n5553330000\r\n--X\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n";
    oversized(&t, 32 * 1024 * 1024, change, |t| {
        !t.env
            .run(&["--sandbox", "--format", "json", "getPhonebook"])
            .stdout
            .contains("Oversized")
    });
}

#[test]
fn mcp_server_refuses_oversized_requests_unread() {
    let t = mcp();
    let change = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"voipms_set_phonebook","arguments":{"name":"Oversized","number":"5553330000","note":""#;
    oversized(&t, 65536, change, |t| {
        !t.env
            .run(&["--sandbox", "--format", "json", "getPhonebook"])
            .stdout
            .contains("Oversized")
    });
}
