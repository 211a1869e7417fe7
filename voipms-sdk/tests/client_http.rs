//! The client against a local mock of `rest.php` over real HTTP: wire encoding, status handling,
//! retries, spacing, and that the API password never shows up in errors, `Debug` or logs.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::any;
use serde_json::{Value, json};
use voipms_sdk::catalog::Effect;
use voipms_sdk::transport::{Encoding, Transport, TransportError, WireRequest, WireResponse};
use voipms_sdk::{
    BodyProblem, Client, ClientBuilder, Error, Params, RetryPolicy, TransportKind, api,
};

const USER: &str = "me@example.com";
const PASSWORD: &str = "S3ntinel-P4ss-XYZ";
/// A parameter value that must not be logged either.
const VALUE_SENTINEL: &str = "V4lue-Sentinel-QRS";

// ---------------------------------------------------------------------------------------------
// Mock server

/// One request the mock received.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    http_method: String,
    content_type: String,
    user_agent: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    at: Instant,
}

impl Hit {
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn form(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the mock answers.
struct Answer {
    status: u16,
    body: String,
    delay: Duration,
    location: Option<String>,
}

impl Answer {
    fn json(v: Value) -> Self {
        Answer::text(200, &v.to_string())
    }

    fn text(status: u16, body: &str) -> Self {
        Answer {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Script = dyn Fn(usize, &Hit) -> Answer + Send + Sync;

#[derive(Clone)]
struct MockState {
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Script>,
}

struct Mock {
    url: String,
    origin: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Mock {
    /// Hits on the API path (not on `/followed`).
    fn hits(&self) -> Vec<Hit> {
        let hits = self.hits.lock().unwrap().clone();
        for h in &hits {
            assert!(
                !h.content_type
                    .starts_with("application/x-www-form-urlencoded"),
                "the client sent an urlencoded body: {h:?}"
            );
        }
        hits.into_iter()
            .filter(|h| h.path == "/api/v1/rest.php")
            .collect()
    }

    fn all_hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

async fn mock(script: impl Fn(usize, &Hit) -> Answer + Send + Sync + 'static) -> Mock {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = MockState {
        hits: Arc::default(),
        script: Arc::new(script),
    };
    let hits = state.hits.clone();
    let app = axum::Router::new()
        .route("/api/v1/rest.php", any(handle))
        .route("/followed", any(handle))
        .with_state(state);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Mock {
        url: format!("http://{addr}/api/v1/rest.php"),
        origin: format!("http://{addr}"),
        hits,
    }
}

async fn handle(State(state): State<MockState>, req: Request) -> Response {
    let (content_type, user_agent, path, http_method, query) = {
        let header_text = |name| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let query = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
            .map(|q| q.0)
            .unwrap_or_default();
        (
            header_text(header::CONTENT_TYPE),
            header_text(header::USER_AGENT),
            req.uri().path().to_owned(),
            req.method().to_string(),
            query,
        )
    };
    let mut form = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, &()).await.unwrap();
        while let Some(field) = multipart.next_field().await.unwrap() {
            let name = field.name().unwrap_or("").to_owned();
            form.push((name, field.text().await.unwrap()));
        }
    }
    let hit = Hit {
        path,
        http_method,
        content_type,
        user_agent,
        query,
        form,
        at: Instant::now(),
    };
    let index = {
        let mut hits = state.hits.lock().unwrap();
        hits.push(hit.clone());
        hits.len() - 1
    };
    let answer = (state.script)(index, &hit);
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let mut response = Response::builder().status(StatusCode::from_u16(answer.status).unwrap());
    if let Some(location) = answer.location {
        response = response.header(header::LOCATION, location);
    }
    response.body(Body::from(answer.body)).unwrap()
}

/// A local port nothing listens on.
async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/api/v1/rest.php")
}

// ---------------------------------------------------------------------------------------------
// Log capture and secret checks

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of this test (tests run on a current-thread runtime, so a
/// thread-local subscriber sees the client's events) and checks errors for secrets.
struct Guard {
    logs: LogBuffer,
    _default: tracing::subscriber::DefaultGuard,
}

impl Guard {
    fn new() -> Self {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let default = tracing::subscriber::set_default(subscriber);
        Guard {
            logs,
            _default: default,
        }
    }

    fn logs(&self) -> String {
        String::from_utf8_lossy(&self.logs.0.lock().unwrap()).into_owned()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let logs = self.logs();
        assert_clean("log output", &logs);
        assert!(
            !logs.contains(VALUE_SENTINEL),
            "a parameter value was logged:\n{logs}"
        );
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "the API password leaked into {what}:\n{text}"
    );
}

/// Checks that neither `Debug` nor `Display` of an error shows the password, and returns it.
fn checked(err: Error) -> Error {
    assert_clean("Debug of an error", &format!("{err:?}"));
    assert_clean("Display of an error", &err.to_string());
    assert_clean("alternate Debug of an error", &format!("{err:#?}"));
    err
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        rate_limit_delay: Duration::from_millis(40),
    }
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .credentials(USER, PASSWORD)
        .base_url(url)
        .timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(1))
        .retry(fast_retry())
}

fn client(url: &str) -> Client {
    let client = builder(url).build().unwrap();
    assert_clean("Debug of the client", &format!("{client:?}"));
    assert_clean("alternate Debug of the client", &format!("{client:#?}"));
    client
}

fn success() -> Answer {
    Answer::json(json!({"status": "success"}))
}

const VARNISH_503: &str = "<!DOCTYPE html>\n<html>\n  <head>\n    <title>503 Backend fetch failed</title>\n  </head>\n  <body>\n    <h1>Error 503 Backend fetch failed</h1>\n    <p>Backend fetch failed</p>\n    <h3>Guru Meditation:</h3>\n    <p>XID: 45326</p>\n    <hr>\n    <p>Varnish cache server</p>\n  </body>\n</html>\n";

// ---------------------------------------------------------------------------------------------
// Encoding

#[tokio::test]
async fn get_carries_credentials_method_and_params() {
    let g = Guard::new();
    let m = mock(|_, _| {
        Answer::json(json!({"status": "success", "balance": {"current_balance": "112.19"}}))
    })
    .await;
    let body = client(&m.url)
        .call(
            "getBalance",
            Params::new()
                .with("advanced", "1")
                .with("note", VALUE_SENTINEL),
        )
        .await
        .unwrap();
    assert_eq!(body["balance"]["current_balance"], "112.19");

    let hits = m.hits();
    assert_eq!(hits.len(), 1);
    let h = &hits[0];
    assert_eq!(h.http_method, "GET");
    assert_eq!(h.content_type, "");
    assert!(h.user_agent.starts_with("voipms-sdk/"), "{}", h.user_agent);
    let names: Vec<&str> = h.query.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["api_username", "api_password", "method", "advanced", "note"]
    );
    assert_eq!(h.query("api_username"), Some(USER));
    assert_eq!(h.query("api_password"), Some(PASSWORD));
    assert_eq!(h.query("method"), Some("getBalance"));
    assert_eq!(h.query("advanced"), Some("1"));
    assert_eq!(h.query("note"), Some(VALUE_SENTINEL));

    let logs = g.logs();
    assert!(logs.contains("calling VoIP.ms"), "{logs}");
    assert!(logs.contains("advanced,note"), "{logs}");
}

#[tokio::test]
async fn reserved_characters_survive_query_encoding() {
    let _g = Guard::new();
    let m = mock(|_, _| success()).await;
    let tricky = "a&b=c d+é;#?%";
    client(&m.url)
        .call("getBalance", Params::new().with("advanced", tricky))
        .await
        .unwrap();
    assert_eq!(m.hits()[0].query("advanced"), Some(tricky));
}

#[tokio::test]
async fn large_request_goes_as_multipart_post() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::json(json!({"status": "success", "phonebook": "42"}))).await;
    let big = "x".repeat(3000);
    let body = client(&m.url)
        .call(
            "setPhonebook",
            Params::new()
                .with("name", "Jane & Co")
                .with("number", "5551234567")
                .with("note", big.clone()),
        )
        .await
        .unwrap();
    assert_eq!(body["phonebook"], "42");

    let hits = m.hits();
    assert_eq!(hits.len(), 1);
    let h = &hits[0];
    assert_eq!(h.http_method, "POST");
    assert!(
        h.content_type.starts_with("multipart/form-data; boundary="),
        "{}",
        h.content_type
    );
    assert!(
        h.query.is_empty(),
        "nothing may go in the URL: {:?}",
        h.query
    );
    assert_eq!(h.form("api_username"), Some(USER));
    assert_eq!(h.form("api_password"), Some(PASSWORD));
    assert_eq!(h.form("method"), Some("setPhonebook"));
    assert_eq!(h.form("name"), Some("Jane & Co"));
    assert_eq!(h.form("note"), Some(big.as_str()));
}

#[tokio::test]
async fn base64_method_goes_as_multipart_post() {
    let _g = Guard::new();
    let m = mock(|_, _| success()).await;
    client(&m.url)
        .call(
            "sendFaxMessage",
            Params::new()
                .with("to_number", "5551234567")
                .with("file", "JVBERi0x"),
        )
        .await
        .unwrap();
    let h = &m.hits()[0];
    assert_eq!(h.http_method, "POST");
    assert!(h.content_type.starts_with("multipart/form-data"));
    assert_eq!(h.form("file"), Some("JVBERi0x"));
}

// ---------------------------------------------------------------------------------------------
// Status handling

#[tokio::test]
async fn typed_call_decodes_and_keeps_raw() {
    let _g = Guard::new();
    let m = mock(|_, _| {
        Answer::json(json!({"status": "success", "balance": {"current_balance": "112.192790"}}))
    })
    .await;
    let client = client(&m.url);
    let response = client
        .get_balance()
        .with(|r| r.advanced(true))
        .await
        .unwrap();
    let balance = response.balance.as_ref().unwrap();
    assert_eq!(
        balance.current_balance.as_ref().unwrap().to_string(),
        "112.192790"
    );
    assert_eq!(response.raw["status"], "success");
    assert_eq!(m.hits()[0].query("advanced"), Some("1"));
}

#[tokio::test]
async fn empty_status_is_ok_for_a_method_that_lists_it() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::json(json!({"status": "no_cdr"}))).await;
    let client = client(&m.url);
    let params = Params::new()
        .with("date_from", "2025-06-01")
        .with("date_to", "2025-06-30")
        .with("timezone", "-5");

    // Raw: the body as sent.
    let body = client.call("getCDR", params.clone()).await.unwrap();
    assert_eq!(body, json!({"status": "no_cdr"}));

    // Outcome: flagged as empty.
    let outcome = client
        .call_with_effect("getCDR", &params, Effect::Read)
        .await
        .unwrap();
    assert!(outcome.empty);
    assert_eq!(outcome.status(), "no_cdr");

    // Typed: an empty list.
    let date = |d| voipms_sdk::Date::parse_from_str(d, "%Y-%m-%d").unwrap();
    let response = client
        .send(&api::GetCdr::new(
            date("2025-06-01"),
            date("2025-06-30"),
            -5,
        ))
        .await
        .unwrap();
    assert!(response.cdr.is_empty());
    assert_eq!(response.raw["status"], "no_cdr");

    // A method that does not list the status gets an error.
    let err = checked(client.call("getBalance", Params::new()).await.unwrap_err());
    assert_eq!(err.status(), Some("no_cdr"));
    assert_eq!(m.hits().len(), 4);
}

#[tokio::test]
async fn api_error_carries_meaning_hint_and_message() {
    let _g = Guard::new();
    let m = mock(|_, _| {
        Answer::json(json!({"status": "invalid_daterange", "message": "Range too long"}))
    })
    .await;
    let err = checked(
        client(&m.url)
            .call("getCDR", Params::new().with("date_from", "2025-01-01"))
            .await
            .unwrap_err(),
    );
    let Error::Api(api) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(api.method(), "getCDR");
    assert_eq!(api.status(), "invalid_daterange");
    assert!(api.meaning().unwrap().contains("92 days"));
    assert!(api.hint().is_some());
    assert_eq!(api.message(), Some("Range too long"));
    assert_eq!(api.raw()["message"], "Range too long");
    let text = err.to_string();
    assert!(
        text.starts_with("getCDR failed: invalid_daterange — "),
        "{text}"
    );
    assert!(
        text.contains("(Range too long)") && text.contains("Hint: "),
        "{text}"
    );
    assert_eq!(err.method(), Some("getCDR"));
    assert!(!err.is_retryable());
    assert_eq!(m.hits().len(), 1, "a plain API error is not retried");
}

#[tokio::test]
async fn ip_not_enabled_points_to_get_ip() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::json(json!({"status": "ip_not_enabled"}))).await;
    let err = checked(client(&m.url).get_balance().await.unwrap_err());
    assert_eq!(err.status(), Some("ip_not_enabled"));
    assert!(err.to_string().contains("getIP"), "{err}");
}

#[tokio::test]
async fn empty_body_is_success() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::text(200, "")).await;
    let body = client(&m.url)
        .call("delConference", Params::new().with("conference", "1"))
        .await
        .unwrap();
    assert_eq!(body, json!({"status": "success"}));
}

#[tokio::test]
async fn html_page_is_not_json_with_excerpt_and_status() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::text(200, VARNISH_503)).await;
    let err = checked(
        client(&m.url)
            .call("setPhonebook", Params::new())
            .await
            .unwrap_err(),
    );
    match &err {
        Error::NotJson {
            method,
            http_status,
            problem,
            excerpt,
        } => {
            assert_eq!(method, "setPhonebook");
            assert_eq!(*http_status, 200);
            assert_eq!(*problem, BodyProblem::NotJson);
            assert!(excerpt.starts_with("503 Backend fetch failed"), "{excerpt}");
            assert!(!excerpt.contains('<'), "{excerpt}");
            assert!(excerpt.chars().count() <= 200);
        }
        other => panic!("expected NotJson, got {other:?}"),
    }
    assert!(err.to_string().contains("non-JSON page"), "{err}");
    assert_eq!(
        m.hits().len(),
        1,
        "a write is not retried after an HTML page"
    );

    // A read is retried, and gives up after max_retries.
    let m = mock(|_, _| Answer::text(200, VARNISH_503)).await;
    let err = checked(
        client(&m.url)
            .call("getBalance", Params::new())
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, Error::NotJson { .. }));
    assert_eq!(m.hits().len(), 4);
}

#[tokio::test]
async fn json_without_status_is_reported() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::json(json!({"balance": "1"}))).await;
    let err = checked(
        client(&m.url)
            .call("getBalance", Params::new())
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(
            err,
            Error::NotJson {
                problem: BodyProblem::NoStatus,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("no `status`"), "{err}");
}

#[tokio::test]
async fn cloudflare_522_is_an_http_error_retried_for_reads() {
    let _g = Guard::new();
    let m = mock(|i, _| {
        if i == 0 {
            Answer::text(522, "error code: 522")
        } else {
            success()
        }
    })
    .await;
    client(&m.url)
        .call("getBalance", Params::new())
        .await
        .unwrap();
    assert_eq!(m.hits().len(), 2);

    let m = mock(|_, _| Answer::text(522, "error code: 522")).await;
    let err = checked(
        client(&m.url)
            .call("sendSMS", Params::new().with("message", VALUE_SENTINEL))
            .await
            .unwrap_err(),
    );
    match &err {
        Error::Http {
            status, excerpt, ..
        } => {
            assert_eq!(*status, 522);
            assert_eq!(excerpt, "error code: 522");
        }
        other => panic!("expected Http, got {other:?}"),
    }
    assert!(err.to_string().contains("Cloudflare"), "{err}");
    assert!(err.is_retryable());
    assert_eq!(m.hits().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn http_500_is_retried_for_reads_only() {
    let g = Guard::new();
    let m = mock(|i, _| {
        if i < 2 {
            Answer::text(500, "Internal Server Error")
        } else {
            success()
        }
    })
    .await;
    client(&m.url)
        .call("getBalance", Params::new())
        .await
        .unwrap();
    assert_eq!(m.hits().len(), 3);
    let logs = g.logs();
    assert_eq!(logs.matches("retrying VoIP.ms call").count(), 2, "{logs}");
    assert!(logs.contains("getBalance"), "{logs}");

    for method in ["setPhonebook", "sendSMS", "someFutureMethod"] {
        let m = mock(|i, _| {
            if i < 2 {
                Answer::text(500, "Internal Server Error")
            } else {
                success()
            }
        })
        .await;
        let err = checked(
            client(&m.url)
                .call(method, Params::new())
                .await
                .unwrap_err(),
        );
        assert!(matches!(err, Error::Http { status: 500, .. }), "{err:?}");
        assert_eq!(m.hits().len(), 1, "{method} must not be retried");
    }
}

#[tokio::test]
async fn retries_give_up_after_max_retries() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::text(503, "down")).await;
    let client = builder(&m.url)
        .retry(RetryPolicy {
            max_retries: 2,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let err = checked(client.call("getBalance", Params::new()).await.unwrap_err());
    assert!(matches!(err, Error::Http { status: 503, .. }));
    assert_eq!(m.hits().len(), 3);

    let m = mock(|_, _| Answer::text(503, "down")).await;
    let client = builder(&m.url).retry(RetryPolicy::none()).build().unwrap();
    checked(client.call("getBalance", Params::new()).await.unwrap_err());
    assert_eq!(m.hits().len(), 1);
}

#[tokio::test]
async fn rate_limit_is_retried_for_reads_after_the_delay() {
    let _g = Guard::new();
    let m = mock(|i, _| {
        if i == 0 {
            Answer::json(json!({"status": "api_limit_exceeded"}))
        } else {
            success()
        }
    })
    .await;
    let started = Instant::now();
    client(&m.url)
        .call("getBalance", Params::new())
        .await
        .unwrap();
    let hits = m.hits();
    assert_eq!(hits.len(), 2);
    assert!(
        hits[1].at - hits[0].at >= Duration::from_millis(40),
        "waited only {:?}",
        hits[1].at - hits[0].at
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // A billable call is not repeated.
    let m = mock(|_, _| Answer::json(json!({"status": "api_limit_exceeded"}))).await;
    let err = checked(
        client(&m.url)
            .call("sendSMS", Params::new())
            .await
            .unwrap_err(),
    );
    assert_eq!(err.status(), Some("api_limit_exceeded"));
    assert!(err.is_retryable());
    assert_eq!(m.hits().len(), 1);
}

#[tokio::test]
async fn retryable_status_is_retried_for_reads() {
    let _g = Guard::new();
    let m = mock(|i, _| {
        if i == 0 {
            Answer::json(json!({"status": "method_maintenance"}))
        } else {
            success()
        }
    })
    .await;
    client(&m.url)
        .call("getBalance", Params::new())
        .await
        .unwrap();
    assert_eq!(m.hits().len(), 2);
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let _g = Guard::new();
    let location = Arc::new(Mutex::new(String::new()));
    let target = location.clone();
    let m = mock(move |_, _| Answer {
        location: Some(target.lock().unwrap().clone()),
        ..Answer::text(302, "moved")
    })
    .await;
    // The target carries the password, as a server echoing the query string would.
    *location.lock().unwrap() = format!("{}/followed?api_password={PASSWORD}", m.origin);
    for method in ["getBalance", "setPhonebook"] {
        let err = checked(
            client(&m.url)
                .call(method, Params::new())
                .await
                .unwrap_err(),
        );
        match &err {
            Error::Transport { kind, message, .. } => {
                assert_eq!(*kind, TransportKind::Redirect);
                assert!(message.contains("not www.voip.ms"), "{message}");
            }
            other => panic!("expected a redirect error, got {other:?}"),
        }
        assert!(!err.is_retryable());
    }
    assert_eq!(m.hits().len(), 2, "redirects are not retried");
    assert!(
        m.all_hits().iter().all(|h| h.path != "/followed"),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn connect_error_is_retried_even_for_writes() {
    let g = Guard::new();
    let url = closed_port_url().await;
    for method in ["getBalance", "sendSMS"] {
        let err = checked(
            client(&url)
                .call(method, Params::new().with("message", VALUE_SENTINEL))
                .await
                .unwrap_err(),
        );
        match &err {
            Error::Transport {
                kind, method: m, ..
            } => {
                assert_eq!(*kind, TransportKind::Connect);
                assert_eq!(m, method);
            }
            other => panic!("expected a connect error, got {other:?}"),
        }
        assert!(err.to_string().contains("could not connect"), "{err}");
        assert!(!err.to_string().contains("api_password"), "{err}");
    }
    let logs = g.logs();
    assert_eq!(logs.matches("retrying VoIP.ms call").count(), 6, "{logs}");
}

#[tokio::test]
async fn timeout_on_a_write_is_not_retried() {
    let _g = Guard::new();
    let m = mock(|_, _| success().after(Duration::from_secs(3))).await;
    let client = builder(&m.url)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let err = checked(
        client
            .call("sendSMS", Params::new().with("message", VALUE_SENTINEL))
            .await
            .unwrap_err(),
    );
    match &err {
        Error::Transport { kind, .. } => assert_eq!(*kind, TransportKind::Timeout),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("check before repeating"), "{err}");
    assert_eq!(m.hits().len(), 1);

    // A read is retried after a timeout.
    let m = mock(|i, _| {
        if i == 0 {
            success().after(Duration::from_secs(3))
        } else {
            success()
        }
    })
    .await;
    let client = builder(&m.url)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    client.call("getBalance", Params::new()).await.unwrap();
    assert_eq!(m.hits().len(), 2);
}

/// A server that drops the first `drops` connections after reading the request (no answer),
/// then answers success; returns its URL and the count of connections.
async fn dropping_server(drops: usize) -> (String, Arc<Mutex<usize>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/rest.php", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let n = {
                let mut c = seen.lock().unwrap();
                *c += 1;
                *c
            };
            let mut buf = vec![0; 8192];
            let _ = sock.read(&mut buf).await;
            if n > drops {
                let body = r#"{"status":"success","balance":{"current_balance":"1.00"}}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            }
            // Dropped: the connection closes without an answer.
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_reads_only() {
    let _g = Guard::new();
    let (url, count) = dropping_server(1).await;
    client(&url)
        .call("getBalance", Params::new())
        .await
        .unwrap();
    assert_eq!(*count.lock().unwrap(), 2, "the read was sent again");

    let (url, count) = dropping_server(1).await;
    let err = checked(
        client(&url)
            .call("sendSMS", Params::new().with("message", VALUE_SENTINEL))
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(err, Error::Transport { .. }),
        "expected a transport error, got {err:?}"
    );
    assert_eq!(*count.lock().unwrap(), 1, "a write is never sent twice");
}

// ---------------------------------------------------------------------------------------------
// Spacing

#[tokio::test]
async fn min_interval_spaces_calls() {
    let _g = Guard::new();
    let m = mock(|_, _| success()).await;
    let client = builder(&m.url)
        .min_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let started = Instant::now();
    let clone = client.clone();
    for _ in 0..2 {
        client.call("getBalance", Params::new()).await.unwrap();
        clone.call("getBalance", Params::new()).await.unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
    let hits = m.hits();
    assert_eq!(hits.len(), 4);
    // A call cannot arrive before it was sent, and the k-th send waits k intervals; comparing
    // arrivals with each other instead would count the network's jitter against the spacing.
    for (k, hit) in hits.iter().enumerate() {
        let after = hit.at - started;
        let floor = Duration::from_millis(100) * k as u32;
        assert!(after >= floor, "call {k} arrived {after:?} after the start");
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn password_never_leaks() {
    let g = Guard::new();
    let mut errors = Vec::new();

    let dead = closed_port_url().await;
    errors.push(
        client(&dead)
            .call("getBalance", Params::new())
            .await
            .unwrap_err(),
    );
    errors.push(
        client(&dead)
            .call("sendFaxMessage", Params::new().with("file", "AAAA"))
            .await
            .unwrap_err(),
    );

    let slow = mock(|_, _| success().after(Duration::from_secs(3))).await;
    let slow_client = builder(&slow.url)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy {
            max_retries: 1,
            ..fast_retry()
        })
        .build()
        .unwrap();
    errors.push(
        slow_client
            .call("getBalance", Params::new())
            .await
            .unwrap_err(),
    );
    errors.push(
        slow_client
            .call("setPhonebook", Params::new())
            .await
            .unwrap_err(),
    );

    let echo = mock(|i, hit| {
        let echoed = hit.query("api_password").unwrap_or("").to_owned();
        match i % 5 {
            0 => Answer::text(500, &format!("<p>failed for {echoed}</p>")),
            1 => Answer::text(200, &format!("<html>{echoed}</html>")),
            2 => Answer::json(json!({"status": "invalid_credentials", "message": echoed})),
            3 => Answer::text(302, "moved"),
            _ => Answer::json(json!({"status": "weird_status"})),
        }
    })
    .await;
    let echo_client = builder(&echo.url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    for _ in 0..5 {
        errors.push(
            echo_client
                .call("getBalance", Params::new())
                .await
                .unwrap_err(),
        );
    }

    let kinds: Vec<String> = errors
        .iter()
        .map(|e| match e {
            Error::Api(a) => format!("api:{}", a.status()),
            Error::Http { status, .. } => format!("http:{status}"),
            Error::NotJson { .. } => "not_json".into(),
            Error::Transport { kind, .. } => format!("transport:{}", kind.as_str()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "transport:connect",
            "transport:connect",
            "transport:timeout",
            "transport:timeout",
            "http:500",
            "not_json",
            "api:invalid_credentials",
            "transport:redirect",
            "api:weird_status",
        ]
    );
    for err in errors {
        checked(err);
    }
    let client = client(&echo.url);
    assert_clean("Debug of the client", &format!("{client:?}"));
    let builder_debug = format!("{:?}", builder(&echo.url));
    assert_clean("Debug of the builder", &builder_debug);
    assert!(builder_debug.contains("[redacted]"), "{builder_debug}");
    let logs = g.logs();
    assert!(logs.contains("retrying VoIP.ms call"), "{logs}");
    // `Guard::drop` scans the logs.
}

// ---------------------------------------------------------------------------------------------
// Typed decoding errors and pluggable transports

#[tokio::test]
async fn typed_shape_mismatch_is_a_decode_error() {
    let _g = Guard::new();
    let m = mock(|_, _| Answer::json(json!({"status": "success", "balance": 5}))).await;
    let err = checked(client(&m.url).get_balance().await.unwrap_err());
    match &err {
        Error::Decode { method, error } => {
            assert_eq!(method, "getBalance");
            assert_eq!(error.path(), "$.balance");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(err.to_string().contains("raw call"), "{err}");
    assert_eq!(m.hits().len(), 1);
}

/// What the recorder saw of one request: method, encoding, params, user name.
type Seen = (String, Encoding, Vec<(String, String)>, String);

/// A transport that answers from memory and records what it was asked.
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
}

impl Transport for Recorder {
    fn execute<'a>(
        &'a self,
        req: WireRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>> {
        self.seen.lock().unwrap().push((
            req.method.to_owned(),
            req.encoding,
            req.params
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            req.credentials.username().to_owned(),
        ));
        Box::pin(async {
            Ok(WireResponse {
                http_status: 200,
                body: r#"{"status":"success","balance":{"current_balance":"1.50"}}"#.into(),
            })
        })
    }
}

#[tokio::test]
async fn custom_transport_replaces_http() {
    let _g = Guard::new();
    let recorder = Arc::new(Recorder::default());
    let client = Client::builder()
        .credentials(USER, PASSWORD)
        .transport(recorder.clone())
        .build()
        .unwrap();
    assert_clean("Debug of the client", &format!("{client:?}"));
    let balance = client
        .get_balance()
        .with(|r| r.advanced(true))
        .await
        .unwrap();
    assert_eq!(
        balance
            .balance
            .as_ref()
            .unwrap()
            .current_balance
            .as_ref()
            .unwrap()
            .to_string(),
        "1.50"
    );
    client
        .call("sendFaxMessage", Params::new().with("file", "AAAA"))
        .await
        .unwrap();
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(
        seen[0],
        (
            "getBalance".to_owned(),
            Encoding::Get,
            vec![("advanced".to_owned(), "1".to_owned())],
            USER.to_owned()
        )
    );
    assert_eq!(seen[1].1, Encoding::Multipart);
}

#[tokio::test]
async fn custom_reqwest_client_is_used() {
    let _g = Guard::new();
    let m = mock(|_, _| success()).await;
    voipms_sdk::transport::install_crypto_provider();
    let http = reqwest::Client::builder()
        .user_agent("my-app/1.0")
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = builder(&m.url).reqwest_client(http).build().unwrap();
    client.call("getBalance", Params::new()).await.unwrap();
    assert_eq!(m.hits()[0].user_agent, "my-app/1.0");
}
