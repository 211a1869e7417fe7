//! `voipms mcp --http`: the same server over HTTP — streamable HTTP at `/mcp` (sessions, or
//! `--stateless`), the legacy HTTP+SSE transport at `/sse` + `/message`, and `/health` — behind
//! the guards of [`guard`]: Host and Origin checks, CORS, bearer tokens, rate limits, body size.
//! Connections are served by hyper with a header-read timeout and a connection cap; SIGTERM
//! stops accepting, lets calls in flight finish, and returns.

pub mod guard;
pub mod oauth;
pub mod sse;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use voipms_sdk::sandbox::{BodyGuard, MAX_HEAD};

use crate::core::exit::{Code, Failure};
use crate::mcp::server::VoipmsServer;

pub use guard::{Auth, Guard, Principal};

/// The address `--http` binds to when none is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8787";

/// How the HTTP server runs.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// No sessions: every request stands alone (several instances behind a load balancer).
    pub stateless: bool,
    /// Largest request body.
    pub max_body: usize,
    /// Most open sessions at once (streamable HTTP and legacy SSE together).
    pub max_sessions: usize,
    /// A session with no traffic for this long is closed.
    pub session_idle: Duration,
    /// Most connections at once.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once its headers are in (then 408).
    pub body_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            addr: DEFAULT_ADDR.parse().expect("a valid address"),
            stateless: false,
            max_body: 1 << 20,
            max_sessions: 2000,
            session_idle: Duration::from_secs(600),
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// What `/health` tells (no secret, no account detail).
#[derive(Debug, Clone)]
struct Health {
    sandbox: bool,
    stateless: bool,
    auth: &'static str,
}

async fn health(State(h): State<Arc<Health>>) -> impl IntoResponse {
    let mut transports = vec!["streamable-http"];
    if !h.stateless {
        transports.push("sse");
    }
    Json(json!({
        "status": "ok",
        "name": "voipms",
        "version": env!("CARGO_PKG_VERSION"),
        "transports": transports,
        "stateless": h.stateless,
        "account": if h.sandbox { "sandbox" } else { "live" },
        "auth": h.auth,
    }))
}

/// The HTTP application: routes and guards (without the listener, for tests and embedding).
pub fn app(
    server: VoipmsServer,
    options: &HttpOptions,
    guard: Arc<Guard>,
    ct: CancellationToken,
) -> Router {
    let hosts = guard.allowed_hosts();
    // Whole bodies, bounded in size and time, a few large ones at a time.
    let bodies = BodyGuard::new(options.max_body, options.body_timeout, 8);
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_max_request_body_bytes(options.max_body)
        .with_cancellation_token(ct.child_token());
    let health_state = Arc::new(Health {
        sandbox: server.is_sandbox(),
        stateless: options.stateless,
        auth: guard.auth_kind(),
    });
    let factory = {
        let server = server.clone();
        move || Ok(server.clone())
    };
    let router: Router = if options.stateless {
        config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
        let svc =
            StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), config);
        Router::new().route_service("/mcp", svc)
    } else {
        let mut manager = LocalSessionManager::default();
        manager.session_config.keep_alive = Some(options.session_idle);
        let manager = Arc::new(manager);
        guard.watch_sessions(manager.clone());
        let svc = StreamableHttpService::new(factory, manager, config);
        let legacy = sse::Legacy::new(server, guard.clone(), ct.child_token());
        Router::new()
            .route_service("/mcp", svc)
            .route("/sse", get(sse::open))
            .route("/message", post(sse::message))
            .with_state(legacy)
    };
    let router = match guard.oauth() {
        Some(oauth) => router.merge(oauth::routes(oauth)),
        None => router,
    };
    router
        .merge(
            Router::new()
                .route("/health", get(health))
                .with_state(health_state),
        )
        // Inside the guard: a refused client's body is never read.
        .layer(axum::middleware::from_fn(
            move |req, next: axum::middleware::Next| {
                let bodies = bodies.clone();
                async move {
                    match bodies.read(req).await {
                        Ok(req) => next.run(req).await,
                        Err(refused) => refused,
                    }
                }
            },
        ))
        .layer(axum::middleware::from_fn_with_state(guard, guard::check))
}

/// Serves `app` on `options.addr` until SIGTERM or Ctrl-C, then lets calls in flight finish.
pub async fn serve(
    app: Router,
    options: &HttpOptions,
    ct: CancellationToken,
) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| {
            Failure::config(format!(
                "cannot listen on {}: {e}; pick another address with --http ADDR",
                options.addr
            ))
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::config(format!("cannot read the listening address: {e}")))?;
    // The address goes to stderr so scripts (and tests) using port 0 learn the port.
    tracing::info!(target: "voipms::access", "MCP server listening on http://{local}/mcp");
    let permits = Arc::new(tokio::sync::Semaphore::new(options.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = stop_signal(ct.clone());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    // Over the connection cap: refuse at once rather than queue.
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let svc = hyper_util::service::TowerToHyperService::new(app.clone());
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(options.header_timeout)
                    .max_buf_size(MAX_HEAD)
                    .serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
        }
    }
    ct.cancel();
    tracing::info!(target: "voipms::access", "MCP server stopping: finishing calls in flight");
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after 10 s; closing them");
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C (or when `ct` is cancelled).
async fn stop_signal(ct: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
        () = ct.cancelled() => {}
    }
}

/// Runs the HTTP server: builds the application and serves it.
pub async fn run(server: VoipmsServer, options: HttpOptions, guard: Guard) -> Result<(), Failure> {
    let ct = CancellationToken::new();
    let guard = Arc::new(guard);
    let app = app(server, &options, guard, ct.clone());
    serve(app, &options, ct).await.map_err(|f| {
        if f.code == Code::Config {
            f
        } else {
            Failure::new(Code::Network, f.message)
        }
    })
}
