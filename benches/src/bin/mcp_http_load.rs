//! A load generator for MCP servers over streamable HTTP: N keep-alive clients (threads), each
//! sending `tools/call` requests one after the other; prints requests per second and latency
//! percentiles. Standard library only, so it costs the measured server as little as possible.
//!
//! ```text
//! cargo run --release -p voipms-benches --bin mcp_http_load -- \
//!     --port 8787 --tool voipms_get_balance --args '{}' --header 'Authorization: Bearer …' \
//!     --calls 20000 --clients 16
//! ```
//! Answers may be JSON (`Content-Length`) or one SSE event (chunked); any answer that is not a
//! 200 with `"isError":false` counts as an error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Options {
    port: u16,
    path: String,
    tool: String,
    args: String,
    headers: Vec<String>,
    calls: usize,
    clients: usize,
}

fn options() -> Options {
    let mut o = Options {
        port: 8787,
        path: "/mcp".into(),
        tool: "voipms_get_balance".into(),
        args: "{}".into(),
        headers: Vec::new(),
        calls: 10_000,
        clients: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => o.port = value.parse().expect("--port N"),
            "--path" => o.path = value,
            "--tool" => o.tool = value,
            "--args" => o.args = value,
            "--header" => o.headers.push(value),
            "--calls" => o.calls = value.parse().expect("--calls N"),
            "--clients" => o.clients = value.parse().expect("--clients N"),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// One client: sends `calls` requests on one connection; the latency of each, and the errors.
fn client(o: &Options, calls: usize) -> (Vec<Duration>, usize) {
    let stream = TcpStream::connect(("127.0.0.1", o.port)).expect("connect");
    stream.set_nodelay(true).ok();
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut reader = BufReader::new(stream);
    let mut latencies = Vec::with_capacity(calls);
    let mut errors = 0;
    for i in 0..calls {
        let body = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"{}\",\"arguments\":{}}}}}",
            o.tool, o.args
        );
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nMCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n",
            o.path,
            o.port,
            body.len()
        );
        for h in &o.headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let started = Instant::now();
        let s = reader.get_mut();
        if s.write_all(head.as_bytes())
            .and_then(|()| s.write_all(body.as_bytes()))
            .is_err()
        {
            errors += calls - i;
            break;
        }
        match read_answer(&mut reader) {
            Some((200, text)) if text.contains("\"isError\":false") => {}
            _ => errors += 1,
        }
        latencies.push(started.elapsed());
    }
    (latencies, errors)
}

fn read_answer(r: &mut BufReader<TcpStream>) -> Option<(u16, String)> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let (mut len, mut chunked) = (0usize, false);
    loop {
        line.clear();
        r.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':')?;
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().ok()?,
            "transfer-encoding" => chunked = v.contains("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).ok()?;
            let n = usize::from_str_radix(line.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(len, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

fn main() {
    let o = options();
    let per_client = o.calls / o.clients;
    let started = Instant::now();
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..o.clients)
            .map(|_| scope.spawn(|| client(&o, per_client)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect()
    });
    let wall = started.elapsed();
    let mut all: Vec<Duration> = results
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    let errors: usize = results.iter().map(|(_, e)| e).sum();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{} clients, {} calls of {}: {:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        o.clients,
        all.len(),
        o.tool,
        all.len() as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        errors
    );
}
