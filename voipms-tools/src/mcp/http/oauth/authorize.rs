//! `/authorize`: the consent page (GET) and its answer (POST). The owner types the owner
//! passphrase; a correct one sends a single-use code to the client's redirect URI. Wrong
//! passphrases are counted: five a minute for one client, or twenty for all, and the form
//! answers 429 until the minute is over.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use super::clients::{self, check_redirect, redirect_matches};
use super::pages::{self, Consent};
use super::store::{Client, Code};
use super::{OAuth, pkce, scopes};

/// A code is good for this many seconds.
const CODE_TTL: i64 = 60;
const WINDOW: Duration = Duration::from_secs(60);
const FAILURES_PER_CLIENT: usize = 5;
const FAILURES_ALL: usize = 20;
const REGISTRATIONS: usize = 30;

/// The consent form's failure counts and the registration rate.
#[derive(Debug, Default)]
pub struct Limits {
    per_client: Mutex<HashMap<String, VecDeque<Instant>>>,
    all: Mutex<VecDeque<Instant>>,
    registrations: Mutex<VecDeque<Instant>>,
}

fn prune(q: &mut VecDeque<Instant>, now: Instant) {
    while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
        q.pop_front();
    }
}

impl Limits {
    fn blocked(&self, client: &str) -> bool {
        let now = Instant::now();
        let all = self.all.lock().map(|mut q| {
            prune(&mut q, now);
            q.len() >= FAILURES_ALL
        });
        let one = self.per_client.lock().map(|mut m| {
            m.retain(|_, q| {
                prune(q, now);
                !q.is_empty()
            });
            m.get(client)
                .is_some_and(|q| q.len() >= FAILURES_PER_CLIENT)
        });
        all.unwrap_or(true) || one.unwrap_or(true)
    }

    fn failed(&self, client: &str) {
        let now = Instant::now();
        if let Ok(mut q) = self.all.lock() {
            q.push_back(now);
        }
        if let Ok(mut m) = self.per_client.lock() {
            m.entry(client.to_owned()).or_default().push_back(now);
        }
    }

    /// One more registration, unless thirty happened in the last minute.
    pub fn may_register(&self) -> bool {
        let now = Instant::now();
        let Ok(mut q) = self.registrations.lock() else {
            return false;
        };
        prune(&mut q, now);
        if q.len() >= REGISTRATIONS {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// A checked authorization request.
struct Ask {
    client: Client,
    redirect_uri: String,
    challenge: String,
    scope: String,
    state: Option<String>,
    resource: Option<String>,
}

impl Ask {
    fn hidden(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client.id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_challenge", self.challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
            ("scope", self.scope.clone()),
        ];
        if let Some(s) = &self.state {
            h.push(("state", s.clone()));
        }
        if let Some(r) = &self.resource {
            h.push(("resource", r.clone()));
        }
        h
    }
}

/// Sends the browser back to the client with `pairs` (and `state`, `iss`).
fn back(o: &OAuth, redirect_uri: &str, state: Option<&str>, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return pages::error(StatusCode::BAD_REQUEST, "the redirect URI is not a URL");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", &o.issuer);
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refuse(o: &OAuth, redirect_uri: &str, state: Option<&str>, error: &str, why: &str) -> Response {
    back(
        o,
        redirect_uri,
        state,
        &[("error", error), ("error_description", why)],
    )
}

/// Checks an authorization request. What cannot go back to the client (unknown client, bad
/// redirect URI) is an error page; the rest goes back to the client as `error=…`.
async fn check(o: &OAuth, p: &HashMap<String, String>) -> Result<Ask, Response> {
    let bad = |m: &str| pages::error(StatusCode::BAD_REQUEST, m);
    let Some(client_id) = p.get("client_id").filter(|s| !s.is_empty()) else {
        return Err(bad("the request names no client (client_id is missing)"));
    };
    let client = clients::find(&o.store, &o.http, client_id)
        .await
        .map_err(|m| bad(&m))?;
    let redirect_uri = match p.get("redirect_uri").filter(|s| !s.is_empty()) {
        Some(r) => {
            check_redirect(r).map_err(|m| bad(&m))?;
            if !redirect_matches(&client.redirect_uris, r) {
                return Err(bad(&format!(
                    "the redirect URI `{r}` is not one this client registered"
                )));
            }
            r.clone()
        }
        None => match client.redirect_uris.as_slice() {
            [one] => one.clone(),
            _ => {
                return Err(bad(
                    "the request has no redirect_uri, and the client registered several",
                ));
            }
        },
    };
    let state = p.get("state").cloned();
    let no = |error: &str, why: &str| refuse(o, &redirect_uri, state.as_deref(), error, why);
    if p.get("response_type").map(String::as_str) != Some("code") {
        return Err(no(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    let challenge = p.get("code_challenge").cloned().unwrap_or_default();
    if p.get("code_challenge_method").map(String::as_str) != Some("S256")
        || !pkce::valid_challenge(&challenge)
    {
        return Err(no(
            "invalid_request",
            "PKCE is required: send code_challenge (43 characters) with code_challenge_method=S256",
        ));
    }
    let scope = match scopes::parse(p.get("scope").map(String::as_str).unwrap_or("")) {
        Ok(s) => s,
        Err(m) => return Err(no("invalid_scope", &m)),
    };
    let resource = p.get("resource").filter(|r| !r.is_empty()).cloned();
    if let Some(r) = &resource
        && r.trim_end_matches('/') != o.resource
    {
        return Err(no(
            "invalid_target",
            &format!("this server issues tokens for {} only", o.resource),
        ));
    }
    Ok(Ask {
        client,
        redirect_uri,
        challenge,
        scope,
        state,
        resource,
    })
}

fn consent(o: &OAuth, ask: &Ask, status: StatusCode, problem: Option<&str>) -> Response {
    let hidden = ask.hidden();
    pages::consent(
        status,
        &Consent {
            client_name: &ask.client.name,
            client_id: &ask.client.id,
            redirect_uri: &ask.redirect_uri,
            scope: &ask.scope,
            resource: &o.resource,
            hidden: &hidden,
            problem,
        },
    )
}

/// GET /authorize: the consent page.
pub async fn show(
    State(o): State<Arc<OAuth>>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    match check(&o, &p).await {
        Ok(ask) => consent(&o, &ask, StatusCode::OK, None),
        Err(r) => r,
    }
}

/// POST /authorize: the owner's answer.
pub async fn answer(
    State(o): State<Arc<OAuth>>,
    Form(p): Form<HashMap<String, String>>,
) -> Response {
    let ask = match check(&o, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if o.limits.blocked(&ask.client.id) {
        return pages::error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong passphrases in the last minute: wait a minute and try again",
        );
    }
    let state = ask.state.as_deref();
    if p.get("action").map(String::as_str) == Some("deny") {
        return refuse(
            &o,
            &ask.redirect_uri,
            state,
            "access_denied",
            "the owner said no",
        );
    }
    let given = p.get("passphrase").map(String::as_str).unwrap_or("");
    if !pkce::same_secret(given, &o.passphrase) {
        o.limits.failed(&ask.client.id);
        tracing::warn!(
            target: "voipms::oauth",
            "wrong owner passphrase on the consent page for client {:?} ({})",
            ask.client.name,
            ask.client.id
        );
        return consent(
            &o,
            &ask,
            StatusCode::UNAUTHORIZED,
            Some("That is not the owner passphrase. Nothing was granted."),
        );
    }
    // The owner may grant less than asked: reading only.
    let scope = if p.get("grant").map(String::as_str) == Some("read") {
        scopes::READ.to_owned()
    } else {
        ask.scope.clone()
    };
    let code = Code {
        client_id: ask.client.id.clone(),
        redirect_uri: ask.redirect_uri.clone(),
        challenge: ask.challenge.clone(),
        scope: scope.clone(),
        resource: o.resource.clone(),
    };
    match o.store.issue_code(&code, CODE_TTL) {
        Ok(secret) => {
            tracing::info!(
                target: "voipms::oauth",
                "owner consented: client {:?} ({}) may ask for `{scope}`",
                ask.client.name,
                ask.client.id,
            );
            back(&o, &ask.redirect_uri, state, &[("code", &secret)])
        }
        Err(e) => {
            tracing::error!(target: "voipms::oauth", "{e}");
            refuse(
                &o,
                &ask.redirect_uri,
                state,
                "server_error",
                "the server could not save the grant",
            )
        }
    }
}
