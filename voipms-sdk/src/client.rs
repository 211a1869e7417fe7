//! The client: credentials, transport, call spacing, retries and status handling.
//!
//! Every call, typed or raw, goes through one non-generic core ([`Client::call_with_effect`]), so
//! the per-method generic code stays a thin shim.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::catalog::{self, Effect, Method, ParamKind};
use crate::decode::{self, DecodeError};
use crate::error::{ApiError, BodyProblem, Error, TransportKind, body_excerpt};
use crate::request::{Request, Response};
use crate::status::StatusClass;
use crate::transport::{
    Encoding, HttpTransport, Transport, TransportError, USER_AGENT, WireRequest, WireResponse,
    redact,
};
use crate::wire::Params;

/// The REST/JSON endpoint. Use host `voip.ms`: `www.voip.ms` redirects and drops POST bodies.
pub const DEFAULT_BASE_URL: &str = "https://voip.ms/api/v1/rest.php";

/// Requests whose parameters exceed this many bytes go as a multipart `POST` instead of a `GET`.
pub const MULTIPART_THRESHOLD: usize = 2048;

/// Environment variable holding the API user name (the portal login e-mail).
pub const ENV_USERNAME: &str = "VOIPMS_API_USERNAME";
/// Environment variable holding the API password.
pub const ENV_PASSWORD: &str = "VOIPMS_API_PASSWORD";
/// Environment variable overriding the endpoint URL.
pub const ENV_URL: &str = "VOIPMS_API_URL";

/// The API user name and password. `Debug` never shows the password.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: SecretString,
    /// Whether the password is a secret to mask in errors (not for the sandbox's well-known one).
    secret: bool,
}

impl Credentials {
    /// `username` is the e-mail you log in to the portal with; `password` is the API password set
    /// on the portal's "SOAP & REST/JSON API" page (not the portal login password).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: SecretString::from(password.into()),
            secret: true,
        }
    }

    /// Credentials whose password is public knowledge (the sandbox's `sandbox`): it is still sent
    /// as `api_password`, but errors are not masked for it, so that ordinary words in messages
    /// are not mangled.
    pub fn public(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            secret: false,
            ..Credentials::new(username, password)
        }
    }

    /// What errors must never show: the password, or nothing for [`public`](Self::public) ones.
    pub(crate) fn password_to_mask(&self) -> &str {
        if self.secret {
            self.password.expose_secret()
        } else {
            ""
        }
    }

    /// The API user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The API password in clear text, for a [`Transport`] to put on the wire. Never log it.
    pub fn expose_password(&self) -> &str {
        self.password.expose_secret()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// When and how the client repeats a failed call by itself.
///
/// Only reads ([`Effect::Read`]) are retried after timeouts, server errors (HTTP 5xx, Cloudflare
/// 52x, HTML error pages), rate limits and retryable statuses. Calls that change the account are
/// retried only when the connection could not be made at all, since then the request provably
/// never left: after a timeout VoIP.ms may have applied it, and a repeat could apply it twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (3 by default; 0 disables retrying).
    pub max_retries: u32,
    /// First backoff step (500 ms); doubles per retry, with full jitter.
    pub base_delay: Duration,
    /// Longest backoff step (30 s).
    pub max_delay: Duration,
    /// Wait after `api_limit_exceeded` (60 s, plus up to 25 % jitter): the limit is per minute.
    pub rate_limit_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            rate_limit_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Backoff before retry number `retry` (0-based): uniformly random up to
    /// `min(base_delay * 2^retry, max_delay)` ("full jitter").
    fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        let cap = self.base_delay.saturating_mul(factor).min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }

    /// Wait after a rate limit: `rate_limit_delay` plus up to a quarter more.
    fn rate_limit_wait(&self) -> Duration {
        self.rate_limit_delay + self.rate_limit_delay.mul_f64(fastrand::f64() * 0.25)
    }
}

/// A successful raw call: the body, and whether its status was an "empty list" status of the
/// method (such as `no_cdr` for getCDR) rather than `success`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Outcome {
    /// The whole answer (an empty body is given as `{"status":"success"}`).
    pub body: Value,
    /// The status was one of the method's empty statuses: there is nothing to list.
    pub empty: bool,
}

impl Outcome {
    /// The status code of the answer (the nested `error` of a `status: invalid`, see
    /// [`status_of`](crate::status::status_of)).
    pub fn status(&self) -> &str {
        crate::status::status_of(&self.body)
    }

    /// The status as a [`Status`](crate::status::Status), for a compiler-checked `match`.
    pub fn status_code(&self) -> crate::status::Status {
        crate::status::Status::from_wire(self.status())
    }
}

/// A VoIP.ms API client. Cheap to clone: clones share the connection pool and call spacing.
///
/// ```no_run
/// # async fn demo() -> Result<(), voipms_sdk::Error> {
/// let client = voipms_sdk::Client::from_env()?;
/// let body = client.call("getBalance", voipms_sdk::Params::new().with("advanced", "1")).await?;
/// println!("{body}");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: Credentials,
    base_url: String,
    transport: Arc<dyn Transport>,
    min_interval: Option<Duration>,
    last_call: Mutex<Option<Instant>>,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field(
                "base_url",
                &crate::redact::mask_userinfo(&self.inner.base_url, "[redacted]"),
            )
            .field("credentials", &self.inner.credentials)
            .field("transport", &self.inner.transport)
            .field("min_interval", &self.inner.min_interval)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

/// Configures a [`Client`]. Only the credentials are required.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    reqwest_client: Option<reqwest::Client>,
    transport: Option<Arc<dyn Transport>>,
    min_interval: Option<Duration>,
    retry: RetryPolicy,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credentials: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            user_agent: USER_AGENT.to_owned(),
            reqwest_client: None,
            transport: None,
            min_interval: None,
            retry: RetryPolicy::default(),
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults: endpoint [`DEFAULT_BASE_URL`], 60 s timeout, 10 s connect
    /// timeout, [`RetryPolicy::default`], no spacing between calls.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with credentials (and the endpoint, if set) from `VOIPMS_API_USERNAME`,
    /// `VOIPMS_API_PASSWORD` and `VOIPMS_API_URL`.
    pub fn from_env() -> Result<Self, Error> {
        let username = env_var(ENV_USERNAME).ok_or_else(|| {
            Error::Config(format!(
                "{ENV_USERNAME} is not set: set it to the e-mail you log in to the VoIP.ms \
                 portal with"
            ))
        })?;
        let password = env_var(ENV_PASSWORD).ok_or_else(|| {
            Error::Config(format!(
                "{ENV_PASSWORD} is not set: set it to the API password from the portal's \
                 \"SOAP & REST/JSON API\" page (not the portal login password)"
            ))
        })?;
        let mut builder = ClientBuilder::new().credentials(username, password);
        if let Some(url) = env_var(ENV_URL) {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// The API user name (portal login e-mail) and API password.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::new(username, password));
        self
    }

    /// Credentials whose password is not a secret (the sandbox's): see [`Credentials::public`].
    pub fn public_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Credentials::public(username, password));
        self
    }

    /// The endpoint; [`DEFAULT_BASE_URL`] unless set (a sandbox or mock server, for instance).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Limit for a whole request, answer included (60 s by default). Ignored with
    /// [`reqwest_client`](Self::reqwest_client) or [`transport`](Self::transport).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Limit for making the connection (10 s by default). Ignored with
    /// [`reqwest_client`](Self::reqwest_client) or [`transport`](Self::transport).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header (`voipms-sdk/<version>` by default). Ignored with
    /// [`reqwest_client`](Self::reqwest_client) or [`transport`](Self::transport).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sends requests through this `reqwest` client (proxies, custom roots, …) instead of one the
    /// builder makes. Configure it with `redirect(reqwest::redirect::Policy::none())`.
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.reqwest_client = Some(client);
        self
    }

    /// Replaces HTTP entirely (an in-process sandbox, a dry-run recorder, a test double).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Starts calls at least this far apart (shared by all clones of the client). VoIP.ms limits
    /// calls per minute; 250 ms keeps a busy program well clear of it.
    pub fn min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = (!interval.is_zero()).then_some(interval);
        self
    }

    /// When to retry failed calls ([`RetryPolicy::default`] unless set).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Config(format!(
                "no credentials: call ClientBuilder::credentials(username, api_password), or set \
                 {ENV_USERNAME} and {ENV_PASSWORD} and use Client::from_env()"
            ))
        })?;
        if credentials.username().trim().is_empty() {
            return Err(Error::Config(
                "the API user name is empty: use the e-mail you log in to the VoIP.ms portal with"
                    .into(),
            ));
        }
        if credentials.expose_password().is_empty() {
            return Err(Error::Config(
                "the API password is empty: set one on the portal's \"SOAP & REST/JSON API\" page"
                    .into(),
            ));
        }
        let url = Url::parse(&self.base_url).map_err(|e| {
            Error::Config(format!(
                "the base URL `{}` is not a valid URL ({e}); the default is {DEFAULT_BASE_URL}",
                crate::redact::mask_userinfo(&self.base_url, "[redacted]")
            ))
        })?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(Error::Config(format!(
                "the base URL `{}` must use https (the default is {DEFAULT_BASE_URL})",
                crate::redact::mask_userinfo(&self.base_url, "[redacted]")
            )));
        }
        if url.scheme() == "http" && !is_local(&url) && self.transport.is_none() {
            tracing::warn!(
                host = url.host_str().unwrap_or(""),
                "the base URL uses plain http: the API password will cross the network unencrypted"
            );
        }
        let transport: Arc<dyn Transport> = match (self.transport, self.reqwest_client) {
            (Some(t), _) => t,
            (None, Some(c)) => Arc::new(HttpTransport::from_client(c)),
            (None, None) => Arc::new(HttpTransport::new(
                self.timeout,
                self.connect_timeout,
                &self.user_agent,
            )?),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                credentials,
                base_url: self.base_url,
                transport,
                min_interval: self.min_interval,
                last_call: Mutex::new(None),
                retry: self.retry,
            }),
        })
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn is_local(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

type CoreFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send + 'a>>;

impl Client {
    /// A [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from `VOIPMS_API_USERNAME`, `VOIPMS_API_PASSWORD` and, optionally,
    /// `VOIPMS_API_URL`, with every other setting at its default.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The endpoint calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The API user name.
    pub fn username(&self) -> &str {
        self.inner.credentials.username()
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The server's wall clock now ([server time](crate::dates), US Eastern with daylight
    /// saving): the transport's own clock when it keeps one (a sandbox does), else the system
    /// clock converted.
    pub fn server_now(&self) -> chrono::NaiveDateTime {
        self.inner
            .transport
            .server_now()
            .unwrap_or_else(|| crate::dates::utc_to_server_time(crate::dates::utc_now()))
    }

    /// The server's today: the date of [`server_now`](Self::server_now). Date windows such as
    /// [`DateRange::last_days`](crate::DateRange::last_days) end on it.
    pub fn today(&self) -> crate::Date {
        self.server_now().date()
    }

    /// Calls a method by wire name with raw parameters and returns the answer as JSON.
    ///
    /// The method's effect comes from the [catalog](crate::catalog); a name the catalog does not
    /// know is treated as a change to the account ([`Effect::Write`]), so it is never retried
    /// after a timeout. An "empty list" status of the method (`no_cdr` for getCDR) is returned as
    /// `Ok` with the body as sent; any other status but `success` is an [`Error::Api`].
    pub async fn call(&self, method: &str, params: Params) -> Result<Value, Error> {
        let spec = catalog::method(method);
        let effect = spec.map_or(Effect::Write, |m| m.effect);
        Ok(self.core(method, spec, effect, &params).await?.body)
    }

    /// Like [`call`](Self::call) (the arguments in the same order, the effect last), but with the
    /// effect given (it decides what may be retried) and an [`Outcome`] that tells an empty
    /// result from a success.
    ///
    /// ```no_run
    /// # async fn demo(client: voipms_sdk::Client) -> Result<(), voipms_sdk::Error> {
    /// use voipms_sdk::{Params, catalog::Effect};
    /// let params = Params::new().with("advanced", "1");
    /// let outcome = client.call_with_effect("getBalance", &params, Effect::Read).await?;
    /// println!("{}", outcome.status());
    /// # Ok(()) }
    /// ```
    pub async fn call_with_effect(
        &self,
        method: &str,
        params: &Params,
        effect: Effect,
    ) -> Result<Outcome, Error> {
        self.core(method, catalog::method(method), effect, params)
            .await
    }

    /// Sends a typed request and decodes its answer.
    ///
    /// An "empty list" status decodes as an empty response (every list empty, every field
    /// `None`); the raw answer stays available in [`Response::raw`].
    pub async fn send<R: Request>(&self, request: &R) -> Result<Response<R::Response>, Error> {
        let spec = R::spec();
        let params = request.to_params();
        let outcome = self
            .core(R::METHOD, Some(spec), spec.effect, &params)
            .await?;
        let nothing;
        let payload = if outcome.empty {
            nothing = Value::Object(Map::new());
            &nothing
        } else {
            &outcome.body
        };
        let (data, drift) = decode::decode_with_drift::<R::Response>(payload)
            .map_err(|e| decode_error(R::METHOD, e))?;
        if !drift.is_empty() {
            tracing::debug!(
                method = R::METHOD,
                unread = drift.unread().len(),
                unreadable = drift.unreadable().len(),
                "the answer has keys or values the typed response does not read"
            );
        }
        Ok(Response {
            data,
            raw: outcome.body,
            drift,
        })
    }

    /// The non-generic core every call goes through (boxed, so generic callers stay small).
    fn core<'a>(
        &'a self,
        method: &'a str,
        spec: Option<&'static Method>,
        effect: Effect,
        params: &'a Params,
    ) -> CoreFuture<'a> {
        Box::pin(self.run(method, spec, effect, params))
    }

    async fn run(
        &self,
        method: &str,
        spec: Option<&'static Method>,
        effect: Effect,
        params: &Params,
    ) -> Result<Outcome, Error> {
        validate(method, params)?;
        let encoding = choose_encoding(spec, params);
        tracing::debug!(
            method,
            effect = effect.as_str(),
            encoding = encoding.as_str(),
            params = %ParamNames(params),
            "calling VoIP.ms"
        );
        let policy = &self.inner.retry;
        let mut retries = 0u32;
        loop {
            self.pace().await;
            let err = match self.attempt(method, spec, encoding, params).await {
                Ok(outcome) => {
                    tracing::trace!(method, status = outcome.status(), "VoIP.ms answered");
                    return Ok(outcome);
                }
                Err(err) => err,
            };
            let delay = match retry_delay(policy, &err, effect, retries) {
                Some(delay) if retries < policy.max_retries => delay,
                _ => return Err(err),
            };
            retries += 1;
            // Under its own target, so a front end can show retries only when asked (`-v`).
            tracing::warn!(
                target: RETRY_LOG_TARGET,
                method,
                attempt = retries,
                max_retries = policy.max_retries,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                reason = %err,
                "retrying VoIP.ms call"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Waits until `min_interval` has passed since the previous call started.
    async fn pace(&self) {
        let Some(interval) = self.inner.min_interval else {
            return;
        };
        let mut last = self.inner.last_call.lock().await;
        if let Some(prev) = *last {
            tokio::time::sleep_until(prev + interval).await;
        }
        *last = Some(Instant::now());
    }

    async fn attempt(
        &self,
        method: &str,
        spec: Option<&'static Method>,
        encoding: Encoding,
        params: &Params,
    ) -> Result<Outcome, Error> {
        let credentials = &self.inner.credentials;
        let request = WireRequest {
            url: &self.inner.base_url,
            method,
            params,
            credentials,
            encoding,
        };
        let response = self
            .inner
            .transport
            .execute(request)
            .await
            .map_err(|e| transport_error(method, e, credentials.password_to_mask()))?;
        interpret(method, spec, response, credentials.password_to_mask())
    }
}

/// Refuses requests that cannot be right before anything is sent.
fn validate(method: &str, params: &Params) -> Result<(), Error> {
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::InvalidRequest {
            method: method.to_owned(),
            message: "a method name is a camelCase word such as getBalance (see the catalog)"
                .into(),
        });
    }
    for reserved in ["api_username", "api_password", "method"] {
        if params.get(reserved).is_some() {
            return Err(Error::InvalidRequest {
                method: method.to_owned(),
                message: format!(
                    "`{reserved}` is set by the client; remove it from the parameters (credentials \
                     go to ClientBuilder::credentials)"
                ),
            });
        }
    }
    Ok(())
}

/// Multipart `POST` for methods with a base64 parameter and for large requests, `GET` otherwise.
fn choose_encoding(spec: Option<&Method>, params: &Params) -> Encoding {
    let has_base64 = spec.is_some_and(|m| m.params.iter().any(|p| p.kind == ParamKind::Base64));
    if has_base64 || params.encoded_len() > MULTIPART_THRESHOLD {
        Encoding::Multipart
    } else {
        Encoding::Get
    }
}

/// The `tracing` target of the warning logged before each retry (`retrying VoIP.ms call`).
pub const RETRY_LOG_TARGET: &str = "voipms_sdk::retry";

/// How long to wait before retrying after `err`, or `None` when the call must not be repeated.
fn retry_delay(policy: &RetryPolicy, err: &Error, effect: Effect, retry: u32) -> Option<Duration> {
    match err {
        // The connection was never made: nothing reached VoIP.ms, any call may be repeated.
        Error::Transport {
            kind: TransportKind::Connect,
            ..
        } => Some(policy.backoff(retry)),
        // Anything else may have been applied: only reads are repeated.
        _ if effect.is_mutating() => None,
        // A timeout or a connection dropped while sending or reading (reset, truncated body).
        Error::Transport {
            kind: TransportKind::Timeout | TransportKind::Other,
            ..
        } => Some(policy.backoff(retry)),
        Error::Http { status: 429, .. } => Some(policy.rate_limit_wait()),
        Error::Http { status, .. } if (500..=599).contains(status) => Some(policy.backoff(retry)),
        Error::NotJson {
            problem: BodyProblem::NotJson,
            ..
        } => Some(policy.backoff(retry)),
        Error::Api(e) if e.class() == Some(StatusClass::RateLimit) => {
            Some(policy.rate_limit_wait())
        }
        Error::Api(e) if e.is_retryable() => Some(policy.backoff(retry)),
        _ => None,
    }
}

fn transport_error(method: &str, err: TransportError, password: &str) -> Error {
    let (kind, message) = match err {
        TransportError::Connect(m) => (TransportKind::Connect, m),
        TransportError::Timeout(m) => (TransportKind::Timeout, m),
        TransportError::Redirect(m) => (TransportKind::Redirect, m),
        TransportError::Other(m) => (TransportKind::Other, m),
    };
    Error::Transport {
        method: method.to_owned(),
        kind,
        // A custom transport might be careless: make sure the password never leaks.
        message: redact(&message, password),
    }
}

/// Turns an answer into an [`Outcome`] or an error.
fn interpret(
    method: &str,
    spec: Option<&Method>,
    response: WireResponse,
    password: &str,
) -> Result<Outcome, Error> {
    let status = response.http_status;
    // Masked before the excerpt is cut and its entities decoded: no part of the password shows.
    let excerpt = || {
        let text = String::from_utf8_lossy(&response.body);
        body_excerpt(redact(&text, password).as_bytes())
    };
    if !(200..=299).contains(&status) {
        return Err(Error::Http {
            method: method.to_owned(),
            status,
            excerpt: excerpt(),
        });
    }
    let text = response
        .body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&response.body);
    let not_json = |problem| Error::NotJson {
        method: method.to_owned(),
        http_status: status,
        problem,
        excerpt: excerpt(),
    };
    let body = if text.iter().all(u8::is_ascii_whitespace) {
        // VoIP.ms answers some successful calls (delConference) with an empty body.
        serde_json::json!({ "status": "success" })
    } else {
        serde_json::from_slice::<Value>(text).map_err(|_| not_json(BodyProblem::NotJson))?
    };
    let Some(object) = body.as_object() else {
        return Err(not_json(BodyProblem::NotObject));
    };
    if !object.get("status").is_some_and(Value::is_string) {
        return Err(not_json(BodyProblem::NoStatus));
    }
    // `success_test` answers a `test=1` dry run; `status: invalid` may nest the real code.
    let code = crate::status::status_of(&body);
    if crate::status::is_success(code) {
        return Ok(Outcome { body, empty: false });
    }
    if spec.is_some_and(|m| m.is_empty_status(code)) {
        return Ok(Outcome { body, empty: true });
    }
    let message = match object.get("message") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(redact(s, password)),
        Some(other) => Some(redact(&other.to_string(), password)),
    };
    let code = code.to_owned();
    let mut body = body;
    redact_value(&mut body, password);
    Err(ApiError::new(method, code, message, body).into())
}

/// Redacts `password` from every string of an error body (in case VoIP.ms echoes the request).
fn redact_value(value: &mut Value, password: &str) {
    match value {
        Value::String(s) if !password.is_empty() => *s = redact(s, password),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, password)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_value(v, password)),
        _ => {}
    }
}

fn decode_error(method: &str, error: DecodeError) -> Error {
    Error::Decode {
        method: method.to_owned(),
        error: Box::new(error),
    }
}

/// Displays parameter names only (`did,dst,message`): values may be private.
struct ParamNames<'a>(&'a Params);

impl fmt::Display for ParamNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, _)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// A typed call in the making, returned by the generated `Client` methods
/// (`client.get_balance()`). Adjust the request with [`with`](Self::with), then `.await` it (or
/// call [`send`](Self::send)).
///
/// ```no_run
/// # async fn demo(client: voipms_sdk::Client) -> Result<(), voipms_sdk::Error> {
/// use voipms_sdk::{Call, api::GetBalance};
/// let balance = Call::new(&client, GetBalance::new()).with(|r| r.advanced(true)).await?;
/// # Ok(()) }
/// ```
#[must_use = "a Call does nothing until it is awaited or sent"]
pub struct Call<'a, R: Request> {
    client: &'a Client,
    request: R,
}

impl<R: Request> fmt::Debug for Call<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &R::METHOD)
            .finish_non_exhaustive()
    }
}

impl<'a, R: Request> Call<'a, R> {
    /// A call of `request` through `client`.
    pub fn new(client: &'a Client, request: R) -> Self {
        Call { client, request }
    }

    /// Changes the request, typically to set optional parameters: `.with(|r| r.advanced(true))`.
    pub fn with(self, f: impl FnOnce(R) -> R) -> Self {
        Call {
            client: self.client,
            request: f(self.request),
        }
    }

    /// The request as it stands.
    pub fn request(&self) -> &R {
        &self.request
    }

    /// The request, without sending it.
    pub fn into_request(self) -> R {
        self.request
    }

    /// Sends the request and decodes the answer.
    pub async fn send(self) -> Result<Response<R::Response>, Error> {
        self.client.send(&self.request).await
    }
}

impl<'a, R: Request + 'a> IntoFuture for Call<'a, R> {
    type Output = Result<Response<R::Response>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Cli, Param};
    use bytes::Bytes;
    use serde_json::json;

    fn response(status: u16, body: &str) -> WireResponse {
        WireResponse {
            http_status: status,
            body: Bytes::from(body.to_owned()),
        }
    }

    static CDR: Method = Method {
        name: "getCDR",
        rust_name: "get_cdr",
        category: "cdr",
        summary: "s",
        description: "",
        effect: Effect::Read,
        rest_only: false,
        empty_statuses: &["no_cdr"],
        params: &[],
        response: &[],
        example: "{}",
        cli: Cli {
            positional: &[],
            aliases: &[],
        },
    };

    static FAX: Method = Method {
        name: "sendFaxMessage",
        effect: Effect::Billable,
        empty_statuses: &[],
        params: &[Param {
            name: "file",
            rust_name: "file",
            kind: ParamKind::Base64,
            required: true,
            description: "",
            example: None,
            values: &[],
        }],
        ..CDR
    };

    #[test]
    fn credentials_debug_is_redacted() {
        let c = Credentials::new("me@example.com", "hunter2");
        assert_eq!(
            format!("{c:?}"),
            r#"Credentials { username: "me@example.com", password: "[redacted]" }"#
        );
        assert_eq!(c.expose_password(), "hunter2");
    }

    #[test]
    fn error_excerpts_are_masked_before_they_are_cut_or_unescaped() {
        let pw = "Zq9/\"K<b>&x w'Y";
        let pad = "x".repeat(190);
        let escaped = "Zq9/&quot;K&lt;b&gt;&amp;x w&#39;Y";
        for (status, body) in [
            (500, format!("<p>{pad} {escaped}</p>")),
            (200, format!("<p>{pad} {pw}</p>")),
            (502, format!("<p>{pad} Zq9%2F%22K%3Cb%3E%26x+w%27Y</p>")),
            (
                503,
                format!(
                    "<p>{pad} &#90;&#113;&#57;&#47;&#34;&#75;&#60;&#98;&#62;&#38;&#120;&#32;&#119;&#39;&#89;</p>"
                ),
            ),
        ] {
            let e = interpret("getCDR", None, response(status, &body), pw).unwrap_err();
            let text = e.to_string();
            for part in ["Zq9", "x w'Y", "&#"] {
                assert!(!text.contains(part), "{part} in {text}");
            }
        }
        // JSON-escaped and entity forms inside an API error are masked too.
        let body = serde_json::json!({"status": "invalid_did", "message": "pw Zq9/&quot;K&lt;b&gt;&amp;x w&#39;Y", "echo": "Zq9%2F%22K%3Cb%3E%26x%20w%27Y"});
        let e = interpret("getCDR", None, response(200, &body.to_string()), pw).unwrap_err();
        assert_eq!(e.api_error().unwrap().message(), Some("pw [redacted]"));
        assert!(!e.raw().unwrap().to_string().contains("Zq9"));
        // A public password (the sandbox's) masks nothing.
        let c = Credentials::public("u@example.com", "sandbox");
        assert_eq!(c.password_to_mask(), "");
        assert_eq!(
            Credentials::new("u", "hunter2").password_to_mask(),
            "hunter2"
        );
    }

    #[test]
    fn interpret_statuses() {
        let ok = interpret(
            "getCDR",
            Some(&CDR),
            response(200, r#"{"status":"success","cdr":[]}"#),
            "pw",
        )
        .unwrap();
        assert!(!ok.empty);
        let empty = interpret(
            "getCDR",
            Some(&CDR),
            response(200, r#"{"status":"no_cdr"}"#),
            "pw",
        )
        .unwrap();
        assert!(empty.empty);
        assert_eq!(empty.status(), "no_cdr");
        let blank = interpret("delConference", None, response(200, " \n"), "pw").unwrap();
        assert_eq!(blank.body, json!({"status": "success"}));
        let e = interpret(
            "getDIDsInfo",
            None,
            response(200, r#"{"status":"no_cdr"}"#),
            "pw",
        )
        .unwrap_err();
        assert_eq!(e.status(), Some("no_cdr"));
        let e = interpret(
            "getCDR",
            Some(&CDR),
            response(200, r#"{"status":"invalid_did","message":"bad pw"}"#),
            "pw",
        )
        .unwrap_err();
        assert_eq!(e.api_error().unwrap().message(), Some("bad [redacted]"));
        for (body, problem) in [
            ("<html>oops</html>", BodyProblem::NotJson),
            ("[1,2]", BodyProblem::NotObject),
            (r#"{"balance":1}"#, BodyProblem::NoStatus),
        ] {
            match interpret("getCDR", None, response(200, body), "pw").unwrap_err() {
                Error::NotJson { problem: p, .. } => assert_eq!(p, problem),
                other => panic!("{other:?}"),
            }
        }
        match interpret("getCDR", None, response(503, "<h1>Backend</h1>"), "pw").unwrap_err() {
            Error::Http {
                status, excerpt, ..
            } => {
                assert_eq!(status, 503);
                assert_eq!(excerpt, "Backend");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encoding_choice() {
        let small = Params::new().with("to_number", "5551234567");
        assert_eq!(choose_encoding(Some(&CDR), &small), Encoding::Get);
        assert_eq!(choose_encoding(None, &small), Encoding::Get);
        assert_eq!(choose_encoding(Some(&FAX), &small), Encoding::Multipart);
        let big = Params::new().with("note", "x".repeat(MULTIPART_THRESHOLD));
        assert_eq!(choose_encoding(None, &big), Encoding::Multipart);
    }

    #[test]
    fn retry_rules() {
        let p = RetryPolicy::default();
        let connect = Error::Transport {
            method: "m".into(),
            kind: TransportKind::Connect,
            message: String::new(),
        };
        let timeout = Error::Transport {
            method: "m".into(),
            kind: TransportKind::Timeout,
            message: String::new(),
        };
        let http = |status| Error::Http {
            method: "m".into(),
            status,
            excerpt: String::new(),
        };
        let api = |s: &str| Error::from(ApiError::new("m", s, None, json!({})));
        for effect in [
            Effect::Read,
            Effect::Write,
            Effect::Destructive,
            Effect::Billable,
        ] {
            assert!(retry_delay(&p, &connect, effect, 0).is_some());
        }
        assert!(retry_delay(&p, &timeout, Effect::Read, 0).is_some());
        assert!(retry_delay(&p, &timeout, Effect::Billable, 0).is_none());
        assert!(retry_delay(&p, &http(502), Effect::Read, 0).is_some());
        assert!(retry_delay(&p, &http(522), Effect::Read, 0).is_some());
        assert!(retry_delay(&p, &http(500), Effect::Write, 0).is_none());
        assert!(retry_delay(&p, &http(404), Effect::Read, 0).is_none());
        let wait = retry_delay(&p, &api("api_limit_exceeded"), Effect::Read, 0).unwrap();
        assert!(wait >= p.rate_limit_delay && wait <= p.rate_limit_delay * 5 / 4);
        assert!(retry_delay(&p, &api("api_limit_exceeded"), Effect::Write, 0).is_none());
        assert!(retry_delay(&p, &api("invalid_did"), Effect::Read, 0).is_none());
        assert!(retry_delay(&p, &api("method_maintenance"), Effect::Read, 0).is_some());
    }

    #[test]
    fn backoff_is_capped_full_jitter() {
        let p = RetryPolicy::default();
        for retry in 0..40 {
            let d = p.backoff(retry);
            let cap = p
                .base_delay
                .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX));
            assert!(d <= cap.min(p.max_delay), "{retry}: {d:?}");
        }
        assert_eq!(RetryPolicy::none().max_retries, 0);
    }

    #[test]
    fn validation() {
        assert!(validate("getBalance", &Params::new()).is_ok());
        assert!(matches!(
            validate("get balance", &Params::new()),
            Err(Error::InvalidRequest { .. })
        ));
        assert!(validate("getBalance", &Params::new().with("api_password", "x")).is_err());
    }

    #[test]
    fn builder_requires_credentials() {
        let e = Client::builder().build().unwrap_err();
        assert!(e.to_string().contains("credentials"), "{e}");
        let e = Client::builder()
            .credentials("a@b.c", "pw")
            .base_url("not a url")
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)));
        let client = Client::builder()
            .credentials("a@b.c", "pw")
            .build()
            .unwrap();
        assert_eq!(client.base_url(), DEFAULT_BASE_URL);
        assert!(!format!("{client:?}").contains("\"pw\""));
    }

    #[test]
    fn futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let client = Client::builder()
            .credentials("a@b.c", "pw")
            .build()
            .unwrap();
        let params = Params::new();
        assert_send(&client.call("getBalance", Params::new()));
        assert_send(&client.call_with_effect("getBalance", &params, Effect::Read));
    }
}
