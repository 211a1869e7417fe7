//! `/register` (RFC 7591), `/token` (the `authorization_code` grant with PKCE, and
//! `refresh_token` with rotation: a rotated-out refresh token presented again revokes its whole
//! grant) and `/revoke` (RFC 7009).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::store::{CodeUse, RefreshUse};
use super::{OAuth, clients, pkce, scopes};

fn no_store(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response(),
    )
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn server_error(e: &str) -> Response {
    tracing::error!(target: "voipms::oauth", "{e}");
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "the server could not save the grant",
    )
}

/// POST /register.
pub async fn register(State(o): State<Arc<OAuth>>, body: Bytes) -> Response {
    if !o.limits.may_register() {
        let mut r = oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many registrations in the last minute; try again later",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                &format!("the body is not JSON: {e}"),
            );
        }
    };
    match clients::register(&o.store, &doc) {
        Ok(answer) => no_store((StatusCode::CREATED, Json(answer)).into_response()),
        Err((status, error, m)) => oauth_error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            error,
            &m,
        ),
    }
}

/// The `resource` of a token request is ours (or absent).
fn resource_ok(o: &OAuth, p: &HashMap<String, String>) -> bool {
    p.get("resource")
        .filter(|r| !r.is_empty())
        .is_none_or(|r| r.trim_end_matches('/') == o.resource)
}

fn wrong_resource(o: &OAuth) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_target",
        &format!("this server issues tokens for {} only", o.resource),
    )
}

fn issued(o: &OAuth, grant_id: &str, scope: &str) -> Response {
    match o
        .store
        .issue_tokens(grant_id, scope, o.access_ttl, o.refresh_ttl)
    {
        Ok(t) => no_store(
            Json(json!({
                "access_token": t.access,
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "refresh_token": t.refresh,
                "scope": scope,
            }))
            .into_response(),
        ),
        Err(e) => server_error(&e),
    }
}

/// POST /token.
pub async fn token(
    State(o): State<Arc<OAuth>>,
    Form(p): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|s| !s.is_empty());
    match get("grant_type") {
        Some("authorization_code") => by_code(&o, &p).await,
        Some("refresh_token") => by_refresh(&o, &p),
        Some(other) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!(
                "grant_type `{other}` is not supported: use authorization_code or refresh_token"
            ),
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is missing",
        ),
    }
}

async fn by_code(o: &OAuth, p: &HashMap<String, String>) -> Response {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|s| !s.is_empty());
    let (Some(code), Some(verifier), Some(client_id)) =
        (get("code"), get("code_verifier"), get("client_id"))
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code, code_verifier and client_id are required",
        );
    };
    if !resource_ok(o, p) {
        return wrong_resource(o);
    }
    let issued_code = match o.store.use_code(code) {
        Ok(CodeUse::Fresh(c)) => c,
        Ok(CodeUse::Reused(grant)) => {
            if let Some(g) = grant {
                if let Err(e) = o.store.revoke_grant(&g) {
                    return server_error(&e);
                }
                tracing::warn!(
                    target: "voipms::oauth",
                    "an authorization code was presented twice: grant {} revoked",
                    &g[..8]
                );
            }
            return invalid_grant("this code was used already; the tokens it gave are revoked");
        }
        Ok(CodeUse::Invalid) => return invalid_grant("the code is unknown or expired"),
        Err(e) => return server_error(&e),
    };
    if issued_code.client_id != client_id {
        return invalid_grant("the code was issued to another client");
    }
    if get("redirect_uri").is_some_and(|r| r != issued_code.redirect_uri) {
        return invalid_grant("redirect_uri differs from the authorization request's");
    }
    if !pkce::verify_s256(verifier, &issued_code.challenge) {
        return invalid_grant("the code_verifier does not match the code_challenge (PKCE)");
    }
    let client = match o.store.client(client_id) {
        Ok(Some(c)) => c,
        Ok(None) => return invalid_grant("the client is no longer registered"),
        Err(e) => return server_error(&e),
    };
    let grant = match o
        .store
        .create_grant(&client, &issued_code.scope, &issued_code.resource)
    {
        Ok(g) => g,
        Err(e) => return server_error(&e),
    };
    if let Err(e) = o.store.link_code(code, &grant) {
        return server_error(&e);
    }
    tracing::info!(
        target: "voipms::oauth",
        "tokens issued to client {:?} (grant {}, `{}`)",
        client.name,
        &grant[..8],
        issued_code.scope
    );
    issued(o, &grant, &issued_code.scope)
}

fn by_refresh(o: &OAuth, p: &HashMap<String, String>) -> Response {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|s| !s.is_empty());
    let Some(refresh) = get("refresh_token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token is missing",
        );
    };
    if !resource_ok(o, p) {
        return wrong_resource(o);
    }
    let grant = match o.store.use_refresh(refresh) {
        Ok(RefreshUse::Valid(g)) => g,
        Ok(RefreshUse::Reused) => {
            tracing::warn!(
                target: "voipms::oauth",
                "a rotated-out refresh token was presented again: its grant is revoked"
            );
            return invalid_grant(
                "this refresh token was used already; every token of its grant is revoked",
            );
        }
        Ok(RefreshUse::Invalid) => {
            return invalid_grant("the refresh token is unknown, expired or revoked");
        }
        Err(e) => return server_error(&e),
    };
    if get("client_id").is_some_and(|c| c != grant.client_id) {
        // The token is spent: a stolen refresh token tried under another client id.
        let _ = o.store.revoke_grant(&grant.id);
        return invalid_grant("the refresh token was issued to another client");
    }
    if grant.resource != o.resource {
        return invalid_grant("the refresh token is for another server URL");
    }
    let scope = match get("scope") {
        None => grant.scope.clone(),
        Some(s) => match scopes::parse(s) {
            Ok(s) if scopes::can_write(&s) && !scopes::can_write(&grant.scope) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "a refresh cannot widen the scope the owner granted",
                );
            }
            Ok(s) => s,
            Err(m) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &m),
        },
    };
    issued(o, &grant.id, &scope)
}

/// POST /revoke (RFC 7009): always 200, whether the token was known or not.
pub async fn revoke(
    State(o): State<Arc<OAuth>>,
    Form(p): Form<HashMap<String, String>>,
) -> Response {
    let Some(token) = p.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        );
    };
    if let Err(e) = o.store.revoke_token(token) {
        return server_error(&e);
    }
    no_store(StatusCode::OK.into_response())
}
