//! The loopback HTTP server: `rest.php` semantics at `/api/v1/rest.php`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::serve::ListenerExt as _;
use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Delivery, RequestEncoding, Sandbox, SandboxError, SandboxRequest};

/// The path VoIP.ms serves the REST API at.
pub(crate) const PATH: &str = "/api/v1/rest.php";

/// Largest request body read (base64 fax documents and MMS media are big).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

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
    // Small request/answer pairs on keep-alive connections: never wait for Nagle.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = Router::new()
        .route(PATH, any(rest))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(sandbox);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // The server prints nothing; a failing accept loop just ends the task.
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(ServerHandle {
        addr: local,
        stop: Some(stop),
        task,
    })
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html")],
        super::faults::nginx_page(404),
    )
        .into_response()
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
                if let Ok(mut form) = Multipart::from_request(req, &()).await {
                    // A malformed part ends the form: VoIP.ms reads what it could.
                    while let Ok(Some(field)) = form.next_field().await {
                        let name = field.name().unwrap_or("").to_owned();
                        match field.text().await {
                            Ok(value) => fields.push((name, value)),
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
