//! Dry runs as data: a transport that records the requests the SDK client would send (nothing
//! is sent; the client's own rule picks GET or multipart), with the password masked.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::{Value, json};
use voipms_sdk::catalog::Effect;
use voipms_sdk::transport::{Encoding, Transport, TransportError, WireRequest, WireResponse};
use voipms_sdk::{Client, Params, RetryPolicy};

use crate::core::exit::Failure;
use crate::core::secrets::{MASK, form_encode, mask_userinfo};

type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>>;

/// One request as it would go on the wire (the password already masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Endpoint without parameters.
    pub url: String,
    /// GET or multipart POST.
    pub encoding: Encoding,
    /// Every field in wire order: `api_username`, `api_password` (masked), `method`, parameters.
    pub fields: Vec<(String, String)>,
}

impl Recorded {
    /// `GET` or `POST`.
    pub fn verb(&self) -> &'static str {
        match self.encoding {
            Encoding::Get => "GET",
            Encoding::Multipart => "POST",
        }
    }

    /// The full URL of a GET (query string included), or the endpoint of a POST.
    pub fn full_url(&self) -> String {
        match self.encoding {
            Encoding::Multipart => self.url.clone(),
            Encoding::Get => {
                let query: Vec<String> = self
                    .fields
                    .iter()
                    .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
                    .collect();
                let sep = if self.url.contains('?') { '&' } else { '?' };
                format!("{}{sep}{}", self.url, query.join("&"))
            }
        }
    }

    /// JSON form for `--format json`.
    pub fn to_json(&self) -> Value {
        let fields: serde_json::Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "dry_run": true,
            "http_method": self.verb(),
            "encoding": self.encoding.as_str(),
            "url": self.full_url(),
            "endpoint": self.url,
            "fields": fields,
        })
    }
}

/// Records requests instead of sending them, and answers each with `{"status":"success"}`.
#[derive(Debug, Default)]
pub struct Recorder {
    seen: Mutex<Vec<Recorded>>,
}

impl Recorder {
    /// The requests recorded so far.
    pub fn take(&self) -> Vec<Recorded> {
        self.seen
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl Transport for Recorder {
    fn execute<'a>(&'a self, req: WireRequest<'a>) -> TransportFuture<'a> {
        let mut fields = vec![
            (
                "api_username".to_owned(),
                req.credentials.username().to_owned(),
            ),
            ("api_password".to_owned(), MASK.to_owned()),
            ("method".to_owned(), req.method.to_owned()),
        ];
        fields.extend(req.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(Recorded {
                url: mask_userinfo(req.url).into_owned(),
                encoding: req.encoding,
                fields,
            });
        }
        Box::pin(async {
            Ok(WireResponse {
                http_status: 200,
                body: Bytes::from_static(b"{\"status\":\"success\"}"),
            })
        })
    }
}

/// A client that records requests instead of sending them (each is answered with an empty
/// success), as `username` at `base_url`; the password is never part of a recording (a
/// placeholder stands in for it).
pub fn recording_client(
    base_url: &str,
    username: &str,
) -> Result<(Client, Arc<Recorder>), Failure> {
    let recorder = Arc::new(Recorder::default());
    let client = Client::builder()
        .credentials(username, MASK)
        .base_url(base_url)
        .retry(RetryPolicy::none())
        .transport(recorder.clone())
        .build()?;
    Ok((client, recorder))
}

/// Builds the exact request the client would send for `method` with `params`, without sending
/// anything: the SDK client runs with a [`Recorder`] in place of HTTP.
pub async fn record(
    base_url: &str,
    username: &str,
    method: &str,
    effect: Effect,
    params: &Params,
) -> Result<Recorded, Failure> {
    let (client, recorder) = recording_client(base_url, username)?;
    client.call_with_effect(method, params, effect).await?;
    recorder
        .take()
        .pop()
        .ok_or_else(|| Failure::usage(format!("{method}: no request was built")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn get_request_is_form_encoded_with_masked_password() {
        let params = Params::new().with("note", "a b&c");
        let r = rt()
            .block_on(record(
                "https://voip.ms/api/v1/rest.php",
                "me@example.com",
                "getBalance",
                Effect::Read,
                &params,
            ))
            .unwrap();
        assert_eq!(r.encoding, Encoding::Get);
        assert_eq!(
            r.full_url(),
            "https://voip.ms/api/v1/rest.php?api_username=me%40example.com&api_password=********\
             &method=getBalance&note=a+b%26c"
        );
    }

    #[test]
    fn base64_methods_and_large_requests_go_multipart() {
        let r = rt()
            .block_on(record(
                "https://voip.ms/api/v1/rest.php",
                "me@example.com",
                "sendFaxMessage",
                Effect::Billable,
                &Params::new().with("file", "AAAA"),
            ))
            .unwrap();
        assert_eq!(r.encoding, Encoding::Multipart);
        assert!(
            r.fields
                .contains(&("api_password".into(), "********".into()))
        );
        let big = Params::new().with("note", "x".repeat(3000));
        let r = rt()
            .block_on(record(
                "https://voip.ms/api/v1/rest.php",
                "me@example.com",
                "setPhonebook",
                Effect::Write,
                &big,
            ))
            .unwrap();
        assert_eq!(r.verb(), "POST");
        assert_eq!(r.fields.last().unwrap().1.len(), 3000);
    }
}
