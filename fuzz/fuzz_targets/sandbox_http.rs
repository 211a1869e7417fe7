//! The sandbox server's HTTP handling, in process (no sockets): the axum router `voipms sandbox
//! serve` runs, with its query-string and multipart extraction, body limit, and the sandbox's
//! validation and answers behind it.
//!
//! Input: one byte picks the HTTP method, the path and the content type; then the query string,
//! a newline, and the body. Bytes a URI cannot hold are percent-encoded, so almost every input is
//! a request. The multipart boundary of the seeds is `fuzzb`. The body limit is 2 KiB, so both
//! sides of it are reached.
//!
//! Properties: never a panic; the status is one the server gives without faults (200, 404, 405,
//! 413, and 500 for the SOAP fault of a POST that is not multipart); an answer labelled JSON is
//! JSON. The
//! account is put back in its seeded state every 1,000 inputs (writes accumulate otherwise).
#![no_main]

use std::cell::RefCell;

use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;
use voipms_fuzz::{Bytes, param_example, write_seeds};
use voipms_sdk::catalog::METHODS;
use voipms_sdk::sandbox::{Sandbox, SandboxConfig};

const BOUNDARY: &str = "fuzzb";
const BODY_LIMIT: usize = 2048;

struct Harness {
    rt: tokio::runtime::Runtime,
    sandbox: Sandbox,
    router: axum::Router,
    runs: u64,
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

fn harness() -> Harness {
    let sandbox = Sandbox::new(SandboxConfig {
        today: voipms_sdk::Date::from_ymd_opt(2026, 6, 15),
        ..SandboxConfig::default()
    });
    let router = voipms_sdk::sandbox::router(sandbox.clone(), BODY_LIMIT);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    Harness {
        rt,
        sandbox,
        router,
        runs: 0,
    }
}

fn example_fields(m: &voipms_sdk::catalog::Method) -> Vec<(String, String)> {
    let mut f = vec![
        ("api_username".to_owned(), "demo@example.com".to_owned()),
        ("api_password".to_owned(), "sandbox".to_owned()),
        ("method".to_owned(), m.name.to_owned()),
    ];
    for p in m.params {
        let v = param_example(p);
        f.push((p.name.to_owned(), v));
    }
    f
}

fn query_of(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k.as_bytes()), escape(v.as_bytes())))
        .collect::<Vec<_>>()
        .join("&")
}

fn multipart_of(fields: &[(String, String)]) -> String {
    let mut s = String::new();
    for (k, v) in fields {
        s.push_str(&format!(
            "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    s.push_str(&format!("--{BOUNDARY}--\r\n"));
    s
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for m in METHODS {
        let fields = example_fields(m);
        // GET with everything in the query.
        let mut get = vec![0u8];
        get.extend_from_slice(query_of(&fields).as_bytes());
        get.push(b'\n');
        out.push((format!("{}-get", m.name), get));
        // Multipart POST with everything in the body (selector 1: POST, multipart).
        let mut post = vec![1u8];
        post.push(b'\n');
        post.extend_from_slice(multipart_of(&fields).as_bytes());
        out.push((format!("{}-multipart", m.name), post));
    }
    out
}

/// `%XX` for every byte a query string cannot carry as is.
fn escape(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len());
    for &b in raw {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@/?&%".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let mut bytes = Bytes::new(data);
        let sel = bytes.u8();
        let rest = bytes.rest();
        let (query, body) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        let method = ["GET", "POST", "POST", "POST", "HEAD", "PUT", "POST", "DELETE"][usize::from(sel & 7)];
        let content_type = match (sel >> 3) & 7 {
            0 | 1 => Some(format!("multipart/form-data; boundary={BOUNDARY}")),
            2 => Some("application/x-www-form-urlencoded".to_owned()),
            3 => None,
            4 => Some("multipart/form-data".to_owned()),
            5 => Some("text/plain".to_owned()),
            6 => Some(format!("Multipart/Form-Data; boundary=\"{BOUNDARY}\"; charset=utf-8")),
            _ => Some("multipart/form-data; boundary=".to_owned()),
        };
        let path = if sel & 0x40 == 0 { "/api/v1/rest.php" } else { "/api/v1/other.php" };
        let uri = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", escape(query)) };
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let Ok(req) = req.body(Body::from(body.to_vec())) else {
            return;
        };
        HARNESS.with(|h| {
            let mut h = h.borrow_mut();
            let h = h.get_or_insert_with(harness);
            h.runs += 1;
            if h.runs % 1000 == 0 {
                h.sandbox.reset();
            }
            let router = h.router.clone();
            let (status, json, text) = h.rt.block_on(async move {
                let resp = router.oneshot(req).await.expect("the router is infallible");
                let status = resp.status().as_u16();
                let json = resp
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/json"));
                // A dropped-connection fault fails its body: that is an answer too.
                let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap_or_default();
                (status, json, body)
            });
            // 500 is the SOAP fault VoIP.ms gives a POST that is not multipart.
            assert!(
                matches!(status, 200 | 404 | 405 | 413 | 500),
                "unexpected HTTP status {status}"
            );
            if json && !text.is_empty() {
                let parsed = serde_json::from_slice::<serde_json::Value>(&text);
                assert!(parsed.is_ok(), "a JSON answer that is not JSON: {:?}", String::from_utf8_lossy(&text));
            }
        });
    }
);
