//! How a call reaches VoIP.ms: a small object-safe [`Transport`] trait, and [`HttpTransport`], the
//! real one over HTTPS.
//!
//! The client decides everything else (encoding, spacing, retries, status handling), so a
//! transport only moves one request and its answer. Other transports plug in through
//! [`ClientBuilder::transport`](crate::ClientBuilder::transport): an in-process sandbox, a dry-run
//! recorder, a test double.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Url;

use crate::client::Credentials;
use crate::error::Error;
use crate::wire::Params;

/// One request, as the client hands it to a [`Transport`].
#[derive(Debug, Clone, Copy)]
pub struct WireRequest<'a> {
    /// The endpoint (`https://voip.ms/api/v1/rest.php`), without credentials or parameters.
    pub url: &'a str,
    /// The API method (`getBalance`).
    pub method: &'a str,
    /// The method's parameters, without credentials.
    pub params: &'a Params,
    /// The credentials to send as `api_username` and `api_password`.
    pub credentials: &'a Credentials,
    /// How to put it on the wire.
    pub encoding: Encoding,
}

/// How a request goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `GET` with everything in the query string.
    Get,
    /// `POST` with a `multipart/form-data` body (large or base64 payloads). VoIP.ms does not
    /// reliably accept `application/x-www-form-urlencoded`, so that is never used.
    Multipart,
}

impl Encoding {
    /// `get` or `multipart`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Get => "get",
            Encoding::Multipart => "multipart",
        }
    }
}

/// The answer to one request: whatever status and body arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireResponse {
    /// The HTTP status code.
    pub http_status: u16,
    /// The body as received.
    pub body: Bytes,
}

/// Why a request got no answer. Messages never contain the URL, the query string or credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection could be made, so the request was never sent (safe to retry any call).
    #[error("connection failed: {0}")]
    Connect(String),
    /// The answer did not arrive in time; the request may have been processed.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The server answered with a redirect, which is not followed.
    #[error("{0}")]
    Redirect(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Moves one request to VoIP.ms (or something standing in for it) and returns the answer.
///
/// Implementations must not log or echo the credentials, and must not follow redirects.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `req` and returns the raw answer.
    fn execute<'a>(
        &'a self,
        req: WireRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>>;

    /// The server's wall clock now (see [`dates`](crate::dates)), when the transport stands in
    /// for a server that keeps its own: the sandbox answers the simulated account's clock.
    /// `None`, the default, means the system clock ([`Client::server_now`](crate::Client::server_now)
    /// converts it).
    fn server_now(&self) -> Option<chrono::NaiveDateTime> {
        None
    }
}

/// The default `User-Agent`: `voipms-sdk/<version>`.
pub const USER_AGENT: &str = concat!("voipms-sdk/", env!("CARGO_PKG_VERSION"));

/// The real transport: HTTPS through `reqwest` with rustls.
///
/// `GET` puts `api_username`, `api_password`, `method` and the parameters in the query string;
/// [`Encoding::Multipart`] sends the same fields as a `multipart/form-data` `POST`. Redirects are
/// never followed (a `3xx` becomes [`TransportError::Redirect`]).
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport").finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport with its own `reqwest` client: the given timeouts and user agent, no redirects,
    /// rustls with the system's trusted roots.
    pub fn new(
        timeout: Duration,
        connect_timeout: Duration,
        user_agent: &str,
    ) -> Result<Self, Error> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                Error::Config(format!(
                    "could not set up the HTTP client: {}",
                    error_chain(&e.without_url())
                ))
            })?;
        Ok(HttpTransport { client })
    }

    /// A transport over a `reqwest::Client` you configured (proxy, custom roots, …).
    ///
    /// Give it `redirect(Policy::none())`: VoIP.ms redirects drop POST bodies, and a followed
    /// redirect can copy the query string (with the password) to another host.
    pub fn from_client(client: reqwest::Client) -> Self {
        HttpTransport { client }
    }

    async fn run(&self, req: WireRequest<'_>) -> Result<WireResponse, TransportError> {
        let password = req.credentials.expose_password();
        let masked = req.credentials.password_to_mask();
        let mut url = Url::parse(req.url)
            .map_err(|e| TransportError::Other(format!("the base URL is not a valid URL ({e})")))?;
        let builder = match req.encoding {
            Encoding::Get => {
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("api_username", req.credentials.username());
                    q.append_pair("api_password", password);
                    q.append_pair("method", req.method);
                    for (name, value) in req.params.iter() {
                        q.append_pair(name, value);
                    }
                }
                self.client.get(url)
            }
            Encoding::Multipart => {
                let mut form = reqwest::multipart::Form::new()
                    .text("api_username", req.credentials.username().to_owned())
                    .text("api_password", password.to_owned())
                    .text("method", req.method.to_owned());
                for (name, value) in req.params.iter() {
                    form = form.text(name.to_owned(), value.to_owned());
                }
                self.client.post(url).multipart(form)
            }
        };
        let response = builder
            .send()
            .await
            .map_err(|e| map_reqwest_error(e, masked))?;
        let status = response.status();
        if status.is_redirection() {
            let target = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| Url::parse(v).ok())
                .and_then(|u| u.host_str().map(str::to_owned));
            let to = target.map(|h| format!(" to host {h}")).unwrap_or_default();
            return Err(TransportError::Redirect(format!(
                "VoIP.ms redirected the request{to} (HTTP {}), which is not followed (use host \
                 voip.ms, not www.voip.ms)",
                status.as_u16()
            )));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| map_reqwest_error(e, masked))?;
        Ok(WireResponse {
            http_status: status.as_u16(),
            body,
        })
    }
}

impl Transport for HttpTransport {
    fn execute<'a>(
        &'a self,
        req: WireRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>> {
        Box::pin(self.run(req))
    }
}

/// Makes `ring` the process's rustls crypto provider unless one is installed already.
///
/// This crate builds reqwest without a provider of its own, and reqwest panics when it builds a
/// client with none installed. [`HttpTransport::new`] calls this; call it yourself before building
/// a `reqwest::Client` for [`ClientBuilder::reqwest_client`](crate::ClientBuilder::reqwest_client).
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Maps a reqwest error to a [`TransportError`] whose message has no URL and no password.
fn map_reqwest_error(err: reqwest::Error, password: &str) -> TransportError {
    let err = err.without_url();
    let message = redact(&error_chain(&err), password);
    if err.is_connect() {
        TransportError::Connect(message)
    } else if err.is_timeout() {
        TransportError::Timeout(message)
    } else if err.is_redirect() {
        TransportError::Redirect(format!(
            "VoIP.ms redirected the request, which is not followed (use host voip.ms, not \
             www.voip.ms): {message}"
        ))
    } else {
        TransportError::Other(message)
    }
}

/// An error and its sources as one line (`error sending request: client error (Connect): …`).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Removes `secret`, in every form it can take in text (see [`crate::redact`]), from `text`.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    crate::redact::mask_secret(text, secret, "[redacted]").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_plain_and_encoded_secret() {
        let text = "failed for http://h/?api_password=p%40ss+w%26rd and p@ss w&rd";
        let out = redact(text, "p@ss w&rd");
        assert!(!out.contains("p%40ss"), "{out}");
        assert!(!out.contains("p@ss"), "{out}");
        assert_eq!(redact("abc", ""), "abc");
    }

    #[test]
    fn http_transport_debug_is_opaque() {
        let t =
            HttpTransport::new(Duration::from_secs(1), Duration::from_secs(1), USER_AGENT).unwrap();
        assert_eq!(format!("{t:?}"), "HttpTransport { .. }");
    }
}
