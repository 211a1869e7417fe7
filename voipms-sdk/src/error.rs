//! The errors a call can end with. Every variant names the method, and its message says what
//! went wrong and what to do about it. No message ever contains the API password or a request URL
//! (GET requests carry the password in their query string).

use std::fmt;

use serde_json::Value;

use crate::catalog::Effect;
use crate::decode::DecodeError;
use crate::status::{StatusClass, status_info};

/// Everything that can go wrong with a call.
///
/// Kept small (big payloads are boxed) so that `Result<T, Error>` stays cheap to move.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// VoIP.ms answered with a status other than `success` (or an empty-list status the method
    /// declares).
    #[error(transparent)]
    Api(Box<ApiError>),

    /// VoIP.ms (or Cloudflare in front of it) answered with an HTTP error status.
    #[error(
        "{method}: VoIP.ms answered HTTP {status} ({}). {}{}",
        http_meaning(*.status),
        http_advice(*.status, .method),
        excerpt_suffix(.excerpt)
    )]
    Http {
        /// The API method called.
        method: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the body, with HTML tags stripped (at most 200 characters).
        excerpt: String,
    },

    /// A 2xx answer whose body is not a VoIP.ms JSON response (a proxy's HTML error page, a SOAP
    /// fault, JSON without `status`).
    #[error(
        "{method}: {}{}",
        .problem.describe(*.http_status, .method),
        excerpt_suffix(.excerpt)
    )]
    NotJson {
        /// The API method called.
        method: String,
        /// The HTTP status code.
        http_status: u16,
        /// What is wrong with the body.
        problem: BodyProblem,
        /// The start of the body, with HTML tags stripped (at most 200 characters).
        excerpt: String,
    },

    /// The request could not be sent or its answer not received.
    #[error("{method}: {}", transport_message(*.kind, .message, .method))]
    Transport {
        /// The API method called.
        method: String,
        /// What kind of failure.
        kind: TransportKind,
        /// What the HTTP stack said (never contains the URL or the credentials).
        message: String,
    },

    /// The call succeeded but its payload did not match the typed response.
    #[error(
        "{method}: the response did not match the typed shape ({error}); use the raw call \
         (`Client::call`) to get the JSON as sent, or report API drift"
    )]
    Decode {
        /// The API method called.
        method: String,
        /// Where and how decoding failed.
        error: Box<DecodeError>,
    },

    /// The request was refused before anything was sent.
    #[error("{method}: invalid request: {message}")]
    InvalidRequest {
        /// The API method called.
        method: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The client is misconfigured (missing credentials, bad base URL, TLS set-up).
    #[error("client configuration: {0}")]
    Config(String),
}

/// Kind of a [`Error::Transport`] failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made: the request was never sent.
    Connect,
    /// No answer arrived in time: the request may or may not have been processed.
    Timeout,
    /// VoIP.ms answered with a redirect, which the client does not follow.
    Redirect,
    /// Any other failure while sending the request or reading the answer.
    Other,
}

impl TransportKind {
    /// Lower-case name: `connect`, `timeout`, `redirect`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Redirect => "redirect",
            TransportKind::Other => "other",
        }
    }
}

/// Why a 2xx body is not a usable VoIP.ms answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyProblem {
    /// The body is not JSON at all (an HTML error page, a SOAP fault).
    NotJson,
    /// The body is JSON but not an object.
    NotObject,
    /// The body is a JSON object without a `status` string.
    NoStatus,
}

impl BodyProblem {
    fn describe(self, http_status: u16, method: &str) -> String {
        match self {
            BodyProblem::NotJson => format!(
                "VoIP.ms answered (HTTP {http_status}) with a non-JSON page instead of an API \
                 response, usually an error page from its proxy during an outage. {}",
                after_lost_reply(method)
            ),
            BodyProblem::NotObject => format!(
                "VoIP.ms answered (HTTP {http_status}) with JSON that is not an object, which is \
                 not an API response; check the base URL."
            ),
            BodyProblem::NoStatus => format!(
                "VoIP.ms answered (HTTP {http_status}) with a JSON object that has no `status` \
                 field, which is not an API response; check the base URL."
            ),
        }
    }
}

/// A status other than `success` in a VoIP.ms answer, with what the status table knows about it.
#[derive(Debug, Clone)]
pub struct ApiError {
    method: String,
    status: String,
    class: Option<StatusClass>,
    meaning: Option<&'static str>,
    hint: Option<&'static str>,
    message: Option<String>,
    retryable: bool,
    raw: Value,
}

impl ApiError {
    /// An API error for `status`; meaning, class and hint come from [`status_info`], `message` is
    /// the free-text `message` VoIP.ms may send next to the status.
    pub fn new(
        method: impl Into<String>,
        status: impl Into<String>,
        message: Option<String>,
        raw: Value,
    ) -> Self {
        let status = status.into();
        let info = status_info(&status);
        ApiError {
            method: method.into(),
            class: info.map(|i| i.class),
            meaning: info.map(|i| i.meaning),
            hint: info.and_then(|i| i.hint),
            retryable: info.is_some_and(|i| i.retryable),
            message: message.filter(|m| !m.trim().is_empty()),
            status,
            raw,
        }
    }

    /// The API method called.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The status code VoIP.ms sent (`invalid_daterange`; for `status: invalid`, the code nested
    /// under `error`).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The status as a [`Status`](crate::status::Status), for a compiler-checked `match`.
    pub fn code(&self) -> crate::status::Status {
        crate::status::Status::from_wire(&self.status)
    }

    /// Kind of outcome, when the status is known.
    pub fn class(&self) -> Option<StatusClass> {
        self.class
    }

    /// What the status means, when it is known.
    pub fn meaning(&self) -> Option<&'static str> {
        self.meaning
    }

    /// What to do about it, where something helps.
    pub fn hint(&self) -> Option<&'static str> {
        self.hint
    }

    /// The free-text `message` of the answer, if VoIP.ms sent one.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Whether the same call may succeed later unchanged (per the status table).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The whole answer as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.method, self.status)?;
        match self.meaning {
            Some(meaning) => write!(f, " — {}", meaning.trim_end_matches('.'))?,
            None => write!(
                f,
                " — a status this SDK does not know (check the VoIP.ms documentation)"
            )?,
        }
        if let Some(message) = &self.message {
            write!(f, " ({message})")?;
        }
        f.write_str(".")?;
        if let Some(hint) = self.hint {
            write!(f, " Hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

impl Error {
    /// The VoIP.ms status code of an [`Error::Api`].
    pub fn status(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(e.status()),
            _ => None,
        }
    }

    /// The details of an [`Error::Api`].
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether repeating the same call later may succeed: rate limits, retryable statuses,
    /// server errors (5xx, Cloudflare 52x, HTML error pages), connection failures and timeouts.
    ///
    /// This says nothing about safety: repeating a mutating call after a timeout can apply it
    /// twice. The client retries by itself only where that cannot happen.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.is_retryable(),
            Error::Http { status, .. } => *status == 429 || (500..=599).contains(status),
            Error::NotJson { problem, .. } => *problem == BodyProblem::NotJson,
            Error::Transport { kind, .. } => {
                matches!(kind, TransportKind::Connect | TransportKind::Timeout)
            }
            Error::Decode { .. } | Error::InvalidRequest { .. } | Error::Config(_) => false,
        }
    }

    /// The whole answer of an [`Error::Api`], as received.
    pub fn raw(&self) -> Option<&Value> {
        match self {
            Error::Api(e) => Some(e.raw()),
            _ => None,
        }
    }

    /// The API method the failed call was for (`None` for [`Error::Config`]).
    pub fn method(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(e.method()),
            Error::Http { method, .. }
            | Error::NotJson { method, .. }
            | Error::Transport { method, .. }
            | Error::Decode { method, .. }
            | Error::InvalidRequest { method, .. } => Some(method),
            Error::Config(_) => None,
        }
    }
}

fn http_meaning(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        405 => "method not allowed",
        408 => "request timeout",
        413 => "request too large",
        414 => "URL too long",
        429 => "too many requests",
        500 => "internal server error",
        502 => "bad gateway",
        503 => "service unavailable",
        504 => "gateway timeout",
        520 => "Cloudflare: unknown error from VoIP.ms",
        521 => "Cloudflare: VoIP.ms is down",
        522 => "Cloudflare: connection to VoIP.ms timed out",
        523 => "Cloudflare: VoIP.ms unreachable",
        524 => "Cloudflare: VoIP.ms took too long to answer",
        525 | 526 => "Cloudflare: TLS failure towards VoIP.ms",
        527..=530 => "Cloudflare error",
        _ => match status / 100 {
            3 => "redirect",
            4 => "client error",
            5 => "server error",
            _ => "unexpected status",
        },
    }
}

/// What to do after a call whose answer was lost or unusable, by the method's catalog effect: a
/// read can be repeated; a change may have been applied; a billable call (a message, an order, a
/// payment) must never be repeated blindly. A method outside the catalog counts as a change.
fn after_lost_reply(method: &str) -> &'static str {
    match crate::catalog::method(method).map(|m| m.effect) {
        Some(Effect::Read) => "A read can simply be repeated: try again later.",
        Some(Effect::Billable) => {
            "It may have been carried out (sent, ordered or paid) although the reply was lost, \
             and it is not idempotent: do NOT send it again blindly; check before repeating it \
             that it did not go through."
        }
        _ => "The change may or may not have been applied: check before repeating it.",
    }
}

fn http_advice(status: u16, method: &str) -> String {
    if (500..=599).contains(&status) {
        return format!(
            "This is a problem on VoIP.ms's side. {}",
            after_lost_reply(method)
        );
    }
    http_advice_other(status).to_owned()
}

fn http_advice_other(status: u16) -> &'static str {
    match status {
        404 => "Check the base URL (https://voip.ms/api/v1/rest.php).",
        401 | 403 => {
            "VoIP.ms or Cloudflare refused the request; check the base URL and that this \
             network is not blocked."
        }
        413 | 414 => "The request is too large; send fewer or smaller parameters.",
        429 => "Slow down: space calls out and retry after a minute.",
        _ => "This is not a normal VoIP.ms API answer; check the base URL.",
    }
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(" Body: \"{excerpt}\"")
    }
}

fn transport_message(kind: TransportKind, message: &str, method: &str) -> String {
    match kind {
        TransportKind::Connect => format!(
            "could not connect to VoIP.ms ({message}); the request was not sent. Check the \
             network, DNS, proxy and firewall, and the base URL"
        ),
        TransportKind::Timeout => format!(
            "VoIP.ms did not answer in time ({message}). {}",
            after_lost_reply(method).trim_end_matches('.')
        ),
        TransportKind::Redirect => message.to_owned(),
        TransportKind::Other => format!(
            "the request failed ({message}). {}",
            after_lost_reply(method).trim_end_matches('.')
        ),
    }
}

/// The most `body_excerpt` keeps, in characters.
const EXCERPT_CHARS: usize = 200;

/// A short, readable excerpt of a response body: HTML tags, comments, scripts and styles removed,
/// common entities decoded, whitespace collapsed, at most 200 characters.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let stripped = strip_tags(&text);
    let mut out = String::new();
    let mut count = 0;
    for word in stripped.split_whitespace() {
        let needed = word.chars().count() + usize::from(!out.is_empty());
        if count + needed > EXCERPT_CHARS {
            let room = EXCERPT_CHARS.saturating_sub(count + usize::from(!out.is_empty()) + 1);
            if room > 0 {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.extend(word.chars().take(room));
            }
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        count += needed;
    }
    out
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        out.push(' ');
        let after = &rest[lt..];
        let lower: String = after
            .chars()
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        let end = if after.starts_with("<!--") {
            after.find("-->").map(|i| i + 3)
        } else if lower.starts_with("<script") || lower.starts_with("<style") {
            let close = if lower.starts_with("<script") {
                "</script"
            } else {
                "</style"
            };
            find_ascii_ci(after, close).and_then(|i| after[i..].find('>').map(|j| i + j + 1))
        } else {
            after.find('>').map(|i| i + 1)
        };
        match end {
            Some(end) => rest = &after[end..],
            None => {
                rest = "";
                break;
            }
        }
        // Stop early: only the first few hundred visible characters matter.
        if out.len() > EXCERPT_CHARS * 8 {
            rest = "";
            break;
        }
    }
    out.push_str(&decode_entities(rest));
    out
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn api_error_display_uses_the_status_table() {
        let raw = json!({"status": "invalid_daterange", "message": "Range too long"});
        let e = Error::from(ApiError::new(
            "getCDR",
            "invalid_daterange",
            Some("Range too long".into()),
            raw.clone(),
        ));
        let text = e.to_string();
        assert!(
            text.starts_with("getCDR failed: invalid_daterange — "),
            "{text}"
        );
        assert!(text.contains("(Range too long)"), "{text}");
        assert!(text.contains("Hint: "), "{text}");
        assert_eq!(e.status(), Some("invalid_daterange"));
        assert_eq!(e.method(), Some("getCDR"));
        assert_eq!(e.raw(), Some(&raw));
        assert!(!e.is_retryable());
        let api = e.api_error().unwrap();
        assert_eq!(api.class(), Some(StatusClass::InvalidInput));
        assert!(api.meaning().is_some());

        let unknown = ApiError::new("getCDR", "weird_status", None, json!({}));
        assert!(unknown.to_string().contains("does not know"));
        assert!(ApiError::new("x", "api_limit_exceeded", None, json!({})).is_retryable());
    }

    #[test]
    fn excerpt_strips_html() {
        let page = b"<!DOCTYPE html><html><head><title>503 Backend fetch failed</title>\
            <style>body { color: red }</style><script>var x = '<b>';</script></head>\
            <body><!-- c --><h1>Error 503 Backend fetch failed</h1><p>Guru &amp; co</p></body></html>";
        assert_eq!(
            body_excerpt(page),
            "503 Backend fetch failed Error 503 Backend fetch failed Guru & co"
        );
        let long = "word ".repeat(200);
        let e = body_excerpt(long.as_bytes());
        assert!(e.chars().count() <= EXCERPT_CHARS, "{}", e.chars().count());
        assert!(e.ends_with('…'));
        assert_eq!(body_excerpt(b"error code: 522"), "error code: 522");
        assert_eq!(body_excerpt(b"<unterminated"), "");
    }

    #[test]
    fn http_and_transport_messages() {
        let e = Error::Http {
            method: "getBalance".into(),
            status: 522,
            excerpt: "error code: 522".into(),
        };
        assert!(e.is_retryable());
        let text = e.to_string();
        assert!(
            text.contains("HTTP 522") && text.contains("Cloudflare"),
            "{text}"
        );
        let e = Error::Transport {
            method: "sendSMS".into(),
            kind: TransportKind::Timeout,
            message: "operation timed out".into(),
        };
        assert!(e.to_string().contains("check before repeating"));
        assert!(Error::Config("x".into()).method().is_none());
    }
}
