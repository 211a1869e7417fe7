//! The loopback HTTP server: `rest.php` semantics at `/api/v1/rest.php`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use http_body::Body as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

use super::{Delivery, RequestEncoding, Sandbox, SandboxError, SandboxRequest};

/// The path VoIP.ms serves the REST API at.
pub(crate) const PATH: &str = "/api/v1/rest.php";

/// How the loopback server protects itself from misbehaving clients.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Largest request body read; a larger one is answered HTTP 413 and nothing of it is
    /// executed. Default 32 MiB (base64 fax documents and MMS media are big).
    pub body_limit: usize,
    /// Time a client has to send a request's headers once it has started (and on a kept-alive
    /// connection, the next request's); after it the connection is closed. Default 10 s.
    pub header_timeout: Duration,
    /// Time a client has to send a request's whole body once its headers are in; after it the
    /// request is answered HTTP 408, not executed, and the connection closed. Default 30 s.
    pub body_timeout: Duration,
    /// Connections served at once; one more is answered HTTP 503 and closed. Default 1024 (each
    /// costs at most [`MAX_HEAD`] of buffer while its headers come in).
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            body_limit: 32 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

impl ServeOptions {
    /// The body limit.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The header-read timeout.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// The body-read timeout.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The connection cap (at least 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
}

/// Largest request head (request line and headers) a connection buffers: a larger one is
/// answered HTTP 431. VoIP.ms requests carry their parameters in the query string only up to
/// 2 KB (larger ones go as multipart bodies), so 64 KiB is ample.
pub const MAX_HEAD: usize = 64 * 1024;

/// Bodies up to this size are read at once; larger ones (or chunked ones, of unknown size) wait
/// for one of the guard's few big-body slots, so memory stays bounded however many come at once.
const SMALL_BODY: u64 = 64 * 1024;

/// Reads a request's whole body before the request is handled, within bounds: at most `limit`
/// bytes (else HTTP 413, refused before reading when the declared length says so), within
/// `timeout` of the headers (else HTTP 408: a client that trickles a body or never finishes it
/// holds neither a connection nor a handler), and bodies over 64 KiB a few at a time. Used by
/// the sandbox's server and by `voipms mcp --http`.
#[derive(Debug, Clone)]
pub struct BodyGuard {
    limit: usize,
    timeout: Duration,
    big: Arc<Semaphore>,
}

impl BodyGuard {
    /// A guard with these bounds; `big_at_once` bodies over 64 KiB are read at the same time
    /// (at least 1), the others wait within their timeout.
    pub fn new(limit: usize, timeout: Duration, big_at_once: usize) -> Self {
        BodyGuard {
            limit,
            timeout,
            big: Arc::new(Semaphore::new(big_at_once.max(1))),
        }
    }

    /// The request with its body read whole, or the answer to give instead (413, 408, 503 or
    /// 400 for a body that broke off); nothing of a refused request is handed on.
    pub async fn read(&self, req: Request) -> Result<Request, Response> {
        let (parts, mut body) = req.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let chunked = parts.headers.contains_key(header::TRANSFER_ENCODING);
        if !chunked && declared.unwrap_or(0) == 0 {
            return Ok(Request::from_parts(parts, body));
        }
        if declared.is_some_and(|n| n > self.limit as u64) {
            return Err(refusal(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE));
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let _slot = if chunked || declared.is_some_and(|n| n > SMALL_BODY) {
            match tokio::time::timeout_at(deadline, self.big.clone().acquire_owned()).await {
                Ok(Ok(slot)) => Some(slot),
                _ => return Err(refusal(StatusCode::SERVICE_UNAVAILABLE, BUSY_BODIES)),
            }
        } else {
            None
        };
        let mut data = Vec::with_capacity(declared.unwrap_or(0).min(SMALL_BODY) as usize);
        loop {
            let frame = tokio::time::timeout_at(
                deadline,
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)),
            )
            .await;
            match frame {
                Err(_) => return Err(refusal(StatusCode::REQUEST_TIMEOUT, TOO_SLOW)),
                Ok(None) => break,
                Ok(Some(Err(_))) => return Err(refusal(StatusCode::BAD_REQUEST, BROKEN)),
                Ok(Some(Ok(frame))) => {
                    if let Ok(chunk) = frame.into_data() {
                        if data.len() + chunk.len() > self.limit {
                            return Err(refusal(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE));
                        }
                        data.extend_from_slice(&chunk);
                    }
                }
            }
        }
        Ok(Request::from_parts(parts, Body::from(data)))
    }
}

const TOO_LARGE: &str = "request body too large: nothing was executed\n";
const TOO_SLOW: &str =
    "request body not received in time: nothing was executed; send the whole body at once\n";
const BUSY_BODIES: &str =
    "too many large request bodies at once: nothing was executed; try again soon\n";
const BROKEN: &str = "the request body broke off: nothing was executed\n";

/// An answer that closes the connection (whatever of the body is still coming is not read).
fn refusal(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CONNECTION, "close"),
        ],
        text,
    )
        .into_response()
}

/// What a connection over the cap is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 60\r\nconnection: close\r\n\r\nsandbox busy: too many connections at once; try again soon.\n";

/// A running loopback server. Dropping it stops the server too.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// The address it listens on (with the actual port when port 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, `http://127.0.0.1:PORT/api/v1/rest.php`.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// Stops accepting connections, lets requests in flight finish (for at most five seconds),
    /// and returns when the server is down.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }

    /// Waits until the server stops (it runs until [`shutdown`](Self::shutdown) or a fatal
    /// error); a CLI typically races this against Ctrl-C.
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

pub(crate) async fn serve(
    sandbox: Sandbox,
    addr: SocketAddr,
    options: ServeOptions,
) -> Result<ServerHandle, SandboxError> {
    if !addr.ip().is_loopback() {
        return Err(SandboxError::NotLoopback { addr });
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind { addr, source })?;
    let guard = BodyGuard::new(options.body_limit, options.body_timeout, 4);
    let app = router(sandbox, options.body_limit).layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let guard = guard.clone();
            async move {
                match guard.read(req).await {
                    Ok(req) => next.run(req).await,
                    Err(refused) => refused,
                }
            }
        },
    ));
    let (stop, stopped) = oneshot::channel::<()>();
    // The server prints nothing; a failing accept is retried after a pause.
    let task = tokio::spawn(accept_loop(listener, app, options, stopped));
    Ok(ServerHandle {
        addr: local,
        stop: Some(stop),
        task,
    })
}

/// The server's routes over `sandbox`, without a listener: what every connection is served by.
/// Public (hidden) so the fuzz targets can drive requests through it in process.
#[doc(hidden)]
pub fn router(sandbox: Sandbox, body_limit: usize) -> Router {
    Router::new()
        .route(PATH, any(rest))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(sandbox)
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    options: ServeOptions,
    mut stopped: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        let (mut tcp, _) = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        // Small request/answer pairs on keep-alive connections: never wait for Nagle.
        let _ = tcp.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt as _;
                let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(BUSY)).await;
                let _ = tcp.shutdown().await;
            });
            continue;
        };
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_timeout)
            .max_buf_size(MAX_HEAD)
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    // Requests in flight finish (the handle bounds the wait).
    graceful.shutdown().await;
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html")],
        super::faults::nginx_page(404),
    )
        .into_response()
}

fn too_large() -> Response {
    refusal(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE)
}

fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

async fn rest(State(sandbox): State<Sandbox>, req: Request) -> Response {
    let mut fields = query_pairs(req.uri());
    let encoding = match *req.method() {
        Method::GET | Method::HEAD => RequestEncoding::Get,
        Method::POST => {
            let ct = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            if ct.starts_with("multipart/form-data") {
                let form = Multipart::from_request(req, &()).await;
                if let Err(rejected) = &form
                    && rejected.status() == StatusCode::PAYLOAD_TOO_LARGE
                {
                    return too_large();
                }
                if let Ok(mut form) = form {
                    // A malformed part ends the form: VoIP.ms reads what it could. A body over
                    // the limit is refused whole: nothing of it is executed.
                    loop {
                        let field = match form.next_field().await {
                            Ok(Some(field)) => field,
                            Ok(None) => break,
                            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                                return too_large();
                            }
                            Err(_) => break,
                        };
                        let name = field.name().unwrap_or("").to_owned();
                        match field.text().await {
                            Ok(value) => fields.push((name, value)),
                            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                                return too_large();
                            }
                            Err(_) => break,
                        }
                    }
                }
                RequestEncoding::Multipart
            } else if ct.starts_with("application/x-www-form-urlencoded") {
                RequestEncoding::UrlEncoded
            } else if ct.is_empty() {
                // A bare POST carries only its query string.
                RequestEncoding::Multipart
            } else {
                RequestEncoding::OtherPost
            }
        }
        _ => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, POST")],
                "",
            )
                .into_response();
        }
    };
    let answer = move |sandbox: Sandbox| {
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        sandbox.handle(SandboxRequest {
            encoding,
            fields: &refs,
        })
    };
    let reply = if sandbox.is_shared() {
        // A shared account waits for its state file's lock: off the async threads.
        match tokio::task::spawn_blocking(move || answer(sandbox)).await {
            Ok(reply) => reply,
            Err(_) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the sandbox failed on this request",
                )
                    .into_response();
            }
        }
    } else {
        answer(sandbox)
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    match reply.delivery {
        Delivery::Answer => {
            let mut resp = Response::new(Body::from(reply.body));
            *resp.status_mut() = StatusCode::from_u16(reply.http_status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(reply.content_type),
            );
            resp
        }
        // A body that fails at once makes the server abort the connection: the client gets no
        // answer (or a broken one), as when VoIP.ms or a proxy drops it.
        Delivery::Drop | Delivery::Hang => Response::new(Body::new(Broken)),
    }
}

/// A response body whose first read fails.
struct Broken;

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))))
    }
}
