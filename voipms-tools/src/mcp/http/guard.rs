//! What stands in front of every HTTP request: the Host check (DNS rebinding), the Origin check
//! and CORS, authentication (bearer token; the query token only when allowed), a per-client rate
//! limit, the open-session cap, and one access-log line per request (no query string, so no
//! token, ever reaches a log). With `--oauth`, access tokens of the built-in authorization
//! server ([`super::oauth`]) are accepted too, and its own endpoints need none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::oauth::OAuth;

/// How clients prove who they are.
#[derive(Clone)]
pub enum Auth {
    /// Nobody: only on loopback, or with `--no-auth` (which forces read-only).
    None,
    /// A shared bearer token (`MCP_AUTH_TOKEN` or `--token-file`).
    Token {
        /// The token.
        token: String,
        /// `?token=` accepted too (`--allow-query-token`).
        allow_query: bool,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Token { allow_query, .. } => f
                .debug_struct("Token")
                .field("token", &crate::core::secrets::MASK)
                .field("allow_query", allow_query)
                .finish(),
        }
    }
}

/// Who made a request, as the server's tools see it (in the request's extensions).
#[derive(Debug, Clone)]
pub struct Principal {
    /// May see and call the tools that change the account.
    pub can_write: bool,
    /// A name for logs and the rate limit (never the token).
    pub name: String,
}

/// The guard's settings and state.
#[derive(Debug)]
pub struct Guard {
    auth: Auth,
    hosts: Vec<String>,
    origins: Vec<String>,
    rate_per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    max_sessions: usize,
    sessions: OnceLock<Arc<LocalSessionManager>>,
    legacy_sessions: std::sync::atomic::AtomicUsize,
    oauth: Option<Arc<OAuth>>,
}

/// Why a request is not authenticated.
struct Refused {
    message: &'static str,
    /// A token was presented and is not good (`error="invalid_token"`).
    invalid: bool,
}

fn refused(message: &'static str, invalid: bool) -> Refused {
    Refused { message, invalid }
}

/// Loopback names, always allowed as Host.
const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "[::1]", "::1"];

impl Guard {
    /// A guard: `hosts` and `origins` are allowed besides loopback ones; `rate_per_minute` is per
    /// client (0: no limit).
    pub fn new(
        auth: Auth,
        hosts: Vec<String>,
        origins: Vec<String>,
        rate_per_minute: u32,
        max_sessions: usize,
    ) -> Guard {
        Guard {
            auth,
            hosts,
            origins: origins
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
            rate_per_minute,
            buckets: Mutex::new(HashMap::new()),
            max_sessions,
            sessions: OnceLock::new(),
            legacy_sessions: std::sync::atomic::AtomicUsize::new(0),
            oauth: None,
        }
    }

    /// Accepts the access tokens of `oauth` too, and lets its public host and origin in.
    pub fn with_oauth(mut self, oauth: Arc<OAuth>) -> Guard {
        self.hosts.push(oauth.host().to_owned());
        self.origins.push(oauth.origin().to_ascii_lowercase());
        self.oauth = Some(oauth);
        self
    }

    /// The authorization server, when `--oauth` is on.
    pub fn oauth(&self) -> Option<Arc<OAuth>> {
        self.oauth.clone()
    }

    /// Every Host value accepted (for rmcp's own check too).
    pub fn allowed_hosts(&self) -> Vec<String> {
        LOOPBACK_HOSTS
            .iter()
            .map(|h| (*h).to_owned())
            .chain(self.hosts.iter().cloned())
            .collect()
    }

    /// `none`, `bearer`, `oauth` or `bearer+oauth`, for `/health`.
    pub fn auth_kind(&self) -> &'static str {
        match (&self.auth, self.oauth.is_some()) {
            (Auth::None, false) => "none",
            (Auth::Token { .. }, false) => "bearer",
            (Auth::None, true) => "oauth",
            (Auth::Token { .. }, true) => "bearer+oauth",
        }
    }

    /// The streamable HTTP sessions, counted against the cap.
    pub fn watch_sessions(&self, manager: Arc<LocalSessionManager>) {
        let _ = self.sessions.set(manager);
    }

    /// A legacy SSE session opens (false: over the cap) or closes.
    pub fn legacy_session(&self, open: bool) -> bool {
        use std::sync::atomic::Ordering;
        if open {
            let n = self.legacy_sessions.fetch_add(1, Ordering::SeqCst);
            if n >= self.max_sessions {
                self.legacy_sessions.fetch_sub(1, Ordering::SeqCst);
                return false;
            }
            true
        } else {
            self.legacy_sessions.fetch_sub(1, Ordering::SeqCst);
            true
        }
    }

    async fn open_sessions(&self) -> usize {
        let streamable = match self.sessions.get() {
            Some(m) => m.sessions.read().await.len(),
            None => 0,
        };
        streamable
            + self
                .legacy_sessions
                .load(std::sync::atomic::Ordering::SeqCst)
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = host_name(&host);
        self.allowed_hosts().iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == host || (!a.contains(':') || a.starts_with('[')) && host_name(&a) == name
        })
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let o = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&o) {
            return true;
        }
        // Pages served from this machine (any port) may call a loopback server.
        let rest = o
            .strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"));
        rest.is_some_and(|r| LOOPBACK_HOSTS.contains(&host_name(r)))
    }

    /// The client, or why it is refused (a 401).
    fn authenticate(&self, req: &Request) -> Result<Principal, Refused> {
        let static_token = match &self.auth {
            Auth::Token { token, allow_query } => Some((token, *allow_query)),
            Auth::None if self.oauth.is_none() => {
                return Ok(Principal {
                    can_write: true,
                    name: "anonymous".into(),
                });
            }
            Auth::None => None,
        };
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
        let query = query_token(req.uri().query());
        let allow_query = static_token.is_some_and(|(_, q)| q);
        let given = match (bearer, query) {
            (Some(b), _) => b.to_owned(),
            (None, Some(q)) if allow_query => q,
            (None, Some(_)) => {
                return Err(refused(
                    "query-string tokens are off: send `Authorization: Bearer TOKEN` (or \
                     start the server with --allow-query-token)",
                    false,
                ));
            }
            (None, None) => {
                return Err(refused(
                    "this server needs `Authorization: Bearer TOKEN`",
                    false,
                ));
            }
        };
        if let Some((token, _)) = static_token
            && bool::from(given.as_bytes().ct_eq(token.as_bytes()))
        {
            return Ok(Principal {
                can_write: true,
                name: "token".into(),
            });
        }
        match &self.oauth {
            Some(oauth) => oauth.authenticate(&given).ok_or(refused(
                "the access token is unknown, expired, revoked or meant for another server: \
                 authorize again",
                true,
            )),
            None => Err(refused("the bearer token is not this server's", true)),
        }
    }

    /// Takes one request from the client's bucket; false when it is empty.
    fn take(&self, client: &str) -> bool {
        if self.rate_per_minute == 0 {
            return true;
        }
        let cap = f64::from(self.rate_per_minute);
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let now = Instant::now();
        let (tokens, at) = buckets.entry(client.to_owned()).or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * cap / 60.0).min(cap);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// `localhost` of `localhost:8787`, `::1` of `[::1]:8787`.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "token").then(|| v.to_owned())
    })
}

fn json_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": message}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn unauthorized(guard: &Guard, refusal: &Refused) -> Response {
    let mut r = json_error(StatusCode::UNAUTHORIZED, refusal.message);
    let challenge = match &guard.oauth {
        // RFC 9728 §5.1: where the client learns how to get a token.
        Some(oauth) => oauth.challenge(refusal.invalid),
        None => HeaderValue::from_static("Bearer realm=\"voipms\""),
    };
    r.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    r
}

fn cors(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("mcp-session-id, mcp-protocol-version, www-authenticate"),
    );
}

/// The middleware: every request passes here first.
pub async fn check(State(guard): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .chars()
        .take(80)
        .collect::<String>();
    let response = guarded(&guard, &mut req).await;
    let response = match response {
        Ok(()) => {
            let origin = req.headers().get(header::ORIGIN).cloned();
            let mut r = next.run(req).await;
            if let Some(o) = origin {
                cors(r.headers_mut(), &o);
            }
            // Clients expect 200 or 204 for a closed session.
            if method == Method::DELETE && r.status() == StatusCode::ACCEPTED {
                *r.status_mut() = StatusCode::NO_CONTENT;
            }
            r
        }
        Err(r) => r,
    };
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    tracing::info!(
        target: "voipms::access",
        "{method} {path} {} {}ms session={session} client={agent:?}",
        response.status().as_u16(),
        started.elapsed().as_millis(),
    );
    response
}

async fn guarded(guard: &Guard, req: &mut Request) -> Result<(), Response> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !guard.host_allowed(&host) {
        return Err(json_error(
            StatusCode::FORBIDDEN,
            &format!(
                "Host `{host}` is not allowed; start the server with --allowed-host {}",
                host_name(&host)
            ),
        ));
    }
    if let Some(origin) = req.headers().get(header::ORIGIN).cloned() {
        let text = origin.to_str().unwrap_or("");
        if !guard.origin_allowed(text) {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                &format!(
                    "Origin `{text}` is not allowed; start the server with --allowed-origin {text}"
                ),
            ));
        }
        if req.method() == Method::OPTIONS {
            let mut r = StatusCode::NO_CONTENT.into_response();
            let h = r.headers_mut();
            cors(h, &origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "authorization, content-type, accept, mcp-session-id, mcp-protocol-version, \
                     last-event-id, mcp-method, mcp-name",
                ),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            return Err(r);
        }
    }
    let path = req.uri().path();
    if path == "/health" || guard.oauth.is_some() && OAuth::owns(path) {
        return Ok(());
    }
    let principal = guard
        .authenticate(req)
        .map_err(|r| unauthorized(guard, &r))?;
    if !guard.take(&principal.name) {
        let mut r = json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this client; slow down",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Err(r);
    }
    let opens_session = req.method() == Method::POST
        && req.uri().path() == "/mcp"
        && !req.headers().contains_key("mcp-session-id");
    if opens_session && guard.max_sessions > 0 && guard.open_sessions().await >= guard.max_sessions
    {
        let mut r = json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many open sessions; close one (DELETE /mcp) or try again later",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return Err(r);
    }
    req.extensions_mut().insert(principal);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        let g = Guard::new(
            Auth::None,
            vec!["mcp.example.com".into()],
            vec!["https://app.example.com".into()],
            0,
            10,
        );
        for ok in [
            "localhost:8787",
            "127.0.0.1",
            "[::1]:9",
            "mcp.example.com",
            "MCP.example.com:443",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in ["evil.com", "evil.com:8787", "", "127.0.0.1.evil.com"] {
            assert!(!g.host_allowed(bad), "{bad}");
        }
        assert!(g.origin_allowed("https://app.example.com/"));
        assert!(g.origin_allowed("http://localhost:6274"));
        assert!(!g.origin_allowed("https://evil.com"));
        assert!(!g.origin_allowed("null"));
    }

    #[test]
    fn rate_limit_refills() {
        let g = Guard::new(Auth::None, vec![], vec![], 2, 10);
        assert!(g.take("a") && g.take("a"));
        assert!(!g.take("a"));
        assert!(g.take("b"));
    }
}
