//! The built-in OAuth 2.1 authorization server (`voipms mcp --http --oauth --public-url URL`), so
//! hosted clients (grok.com, ChatGPT, Claude.ai connectors) connect with no third party:
//! protected-resource metadata (RFC 9728), authorization-server metadata (RFC 8414), dynamic
//! client registration (RFC 7591) and client ID metadata documents, a consent page answered with
//! the owner passphrase, PKCE S256, the code and rotating refresh-token grants, revocation
//! (RFC 7009), and opaque audience-bound tokens kept hashed in SQLite ([`store`]).

mod authorize;
pub mod clients;
mod pages;
pub mod pkce;
pub mod scopes;
pub mod store;
mod token;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use url::Url;

use super::guard::Principal;
use store::Store;

/// How the authorization server runs.
#[derive(Clone)]
pub struct OAuthSettings {
    /// The server's public base URL (`https://mcp.example.com`, or loopback http).
    pub public_url: Url,
    /// The owner passphrase the consent form asks for.
    pub passphrase: String,
    /// The SQLite store.
    pub store: PathBuf,
    /// Access-token lifetime, seconds.
    pub access_ttl: i64,
    /// Refresh-token lifetime, seconds.
    pub refresh_ttl: i64,
}

impl std::fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("public_url", &self.public_url.as_str())
            .field("passphrase", &crate::core::secrets::MASK)
            .field("store", &self.store)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish()
    }
}

/// Default access-token lifetime: one hour.
pub const ACCESS_TTL: i64 = 3600;
/// Default refresh-token lifetime: thirty days (each refresh starts a new one).
pub const REFRESH_TTL: i64 = 30 * 86_400;
/// The shortest owner passphrase accepted.
pub const MIN_PASSPHRASE: usize = 12;

/// Checks a `--public-url`: https, or http on a loopback address; no path, query or fragment.
pub fn public_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| {
        format!("--public-url `{text}` is not a URL ({e}): give it like https://mcp.example.com")
    })?;
    let ok_scheme = match url.scheme() {
        "https" => true,
        "http" => clients::loopback_host(&url),
        _ => false,
    };
    if !ok_scheme || url.host_str().is_none() {
        return Err(format!(
            "--public-url `{text}` must be https (behind a TLS proxy or tunnel), or http on a \
             loopback address for local use"
        ));
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(format!(
            "--public-url `{text}` must be the server's origin only, e.g. https://mcp.example.com \
             (the MCP endpoint is /mcp below it)"
        ));
    }
    Ok(url)
}

/// The authorization server.
pub struct OAuth {
    issuer: String,
    resource: String,
    host: String,
    passphrase: [u8; 32],
    store: Store,
    http: reqwest::Client,
    limits: authorize::Limits,
    access_ttl: i64,
    refresh_ttl: i64,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("issuer", &self.issuer)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

/// The paths the authorization server answers (no bearer token needed).
const PATHS: &[&str] = &["/register", "/authorize", "/token", "/revoke"];

impl OAuth {
    /// Opens the store and sets the server up.
    pub fn new(settings: &OAuthSettings) -> Result<OAuth, String> {
        let issuer = settings
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let host = match settings.public_url.port() {
            Some(p) => format!("{}:{p}", settings.public_url.host_str().unwrap_or_default()),
            None => settings
                .public_url
                .host_str()
                .unwrap_or_default()
                .to_owned(),
        };
        Ok(OAuth {
            resource: format!("{issuer}/mcp"),
            issuer,
            host,
            passphrase: pkce::raw_digest(&settings.passphrase),
            store: Store::open(&settings.store)?,
            http: clients::http_client()?,
            limits: authorize::Limits::default(),
            access_ttl: settings.access_ttl,
            refresh_ttl: settings.refresh_ttl,
        })
    }

    /// The public host (with its port when one is given), for the Host check.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The public origin, for the Origin check (the consent form posts from it).
    pub fn origin(&self) -> &str {
        &self.issuer
    }

    /// The MCP endpoint's URL: the audience of every token.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Whether `path` belongs to the authorization server (answered without a bearer token).
    pub fn owns(path: &str) -> bool {
        path.starts_with("/.well-known/") || PATHS.contains(&path)
    }

    /// The `WWW-Authenticate` value of a 401 (`invalid`: a token was given and refused).
    pub fn challenge(&self, invalid: bool) -> HeaderValue {
        let error = if invalid {
            "error=\"invalid_token\", "
        } else {
            ""
        };
        HeaderValue::from_str(&format!(
            "Bearer {error}resource_metadata=\"{}/.well-known/oauth-protected-resource\", \
             scope=\"{}\"",
            self.issuer,
            scopes::ALL
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
    }

    /// The client holding the access token `token`, if it is live and meant for this server.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let access = match self.store.access(token) {
            Ok(a) => a?,
            Err(e) => {
                tracing::error!(target: "voipms::oauth", "{e}");
                return None;
            }
        };
        // Audience: a token issued for another URL (another --public-url) is not ours.
        if access.resource != self.resource {
            return None;
        }
        Some(Principal {
            can_write: scopes::can_write(&access.scope),
            name: format!("oauth:{}", &access.grant_id[..8]),
        })
    }
}

/// The routes of the authorization server.
pub fn routes(oauth: Arc<OAuth>) -> Router {
    Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(resource_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(resource_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(server_metadata),
        )
        .route("/register", post(token::register))
        .route("/authorize", get(authorize::show).post(authorize::answer))
        .route("/token", post(token::token))
        .route("/revoke", post(token::revoke))
        .with_state(oauth)
}

fn metadata(body: serde_json::Value) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

/// RFC 9728: what this resource is and who issues its tokens.
async fn resource_metadata(State(o): State<Arc<OAuth>>) -> Response {
    metadata(json!({
        "resource": o.resource,
        "authorization_servers": [o.issuer],
        "scopes_supported": [scopes::READ, scopes::WRITE],
        "bearer_methods_supported": ["header"],
        "resource_name": "VoIP.ms (voipms mcp)",
    }))
}

/// RFC 8414: the authorization server's endpoints and abilities.
async fn server_metadata(State(o): State<Arc<OAuth>>) -> Response {
    let i = &o.issuer;
    metadata(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "registration_endpoint": format!("{i}/register"),
        "revocation_endpoint": format!("{i}/revoke"),
        "scopes_supported": [scopes::READ, scopes::WRITE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
    }))
}
