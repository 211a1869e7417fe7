//! The legacy HTTP+SSE transport (protocol 2024-11-05), for clients that still use it:
//! `GET /sse` opens a session and its event stream, whose first event (`endpoint`) names the URL
//! to POST messages to; `POST /message?sessionId=…` carries the client's messages; answers come
//! back on the stream.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::{CancellationToken, PollSender};

use crate::mcp::http::guard::Guard;
use crate::mcp::server::VoipmsServer;

/// The legacy sessions and what they need.
#[derive(Clone, Debug)]
pub struct Legacy {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    server: VoipmsServer,
    guard: Arc<Guard>,
    sessions: Mutex<HashMap<String, mpsc::Sender<ClientJsonRpcMessage>>>,
    ct: CancellationToken,
}

impl Legacy {
    /// No sessions yet.
    pub fn new(server: VoipmsServer, guard: Arc<Guard>, ct: CancellationToken) -> Self {
        Legacy {
            inner: Arc::new(Inner {
                server,
                guard,
                sessions: Mutex::new(HashMap::new()),
                ct,
            }),
        }
    }
}

/// Removes a session when its event stream goes away (the client left).
struct Closer {
    inner: Arc<Inner>,
    id: String,
}

impl Drop for Closer {
    fn drop(&mut self) {
        if let Ok(mut s) = self.inner.sessions.lock()
            && s.remove(&self.id).is_some()
        {
            self.inner.guard.legacy_session(false);
        }
    }
}

/// `GET /sse`: a new session and its event stream.
pub async fn open(State(legacy): State<Legacy>) -> Response {
    let inner = legacy.inner.clone();
    if !inner.guard.legacy_session(true) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many open sessions; try again later",
        )
            .into_response();
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (to_server, from_client) = mpsc::channel::<ClientJsonRpcMessage>(64);
    let (to_client, from_server) = mpsc::channel::<ServerJsonRpcMessage>(64);
    if let Ok(mut s) = inner.sessions.lock() {
        s.insert(id.clone(), to_server);
    }
    let server = inner.server.clone();
    let ct = inner.ct.clone();
    tokio::spawn(async move {
        let transport = (PollSender::new(to_client), ReceiverStream::new(from_client));
        match server.serve_with_ct(transport, ct).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => tracing::debug!("legacy SSE session ended before it started: {e}"),
        }
    });
    let closer = Closer {
        inner: inner.clone(),
        id: id.clone(),
    };
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/message?sessionId={id}"));
    let messages = ReceiverStream::new(from_server).map(move |msg| {
        let _open = &closer;
        let data = serde_json::to_string(&msg).unwrap_or_default();
        Ok::<Event, Infallible>(Event::default().event("message").data(data))
    });
    let stream = futures_util::stream::once(async move { Ok::<Event, Infallible>(endpoint) })
        .chain(messages);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// `POST /message?sessionId=…`: one message of a legacy session.
pub async fn message(
    State(legacy): State<Legacy>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(id) = q.get("sessionId") else {
        return (StatusCode::BAD_REQUEST, "sessionId is missing").into_response();
    };
    let sender = legacy
        .inner
        .sessions
        .lock()
        .ok()
        .and_then(|s| s.get(id).cloned());
    let Some(sender) = sender else {
        return (
            StatusCode::NOT_FOUND,
            "no such session; open one with GET /sse",
        )
            .into_response();
    };
    let msg: ClientJsonRpcMessage = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a JSON-RPC message: {e}"),
            )
                .into_response();
        }
    };
    match sender.send(msg).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "the session has ended").into_response(),
    }
}
