//! Who may ask for a code: clients registered dynamically (RFC 7591) and clients whose
//! `client_id` is the https URL of their metadata document; and where codes may go — https,
//! loopback http (any port, RFC 8252) and private-use app schemes.

use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use super::store::{Client, Store, now};

/// Most clients kept (registration refuses more).
const MAX_CLIENTS: i64 = 10_000;
/// Most redirect URIs per client.
const MAX_REDIRECTS: usize = 10;
/// Largest client metadata document.
const MAX_DOCUMENT: usize = 64 * 1024;
/// A metadata document is fetched again after this many seconds.
const DOCUMENT_TTL: i64 = 600;

/// Schemes never accepted as redirect targets.
const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "file",
    "vbscript",
    "about",
    "blob",
    "ftp",
    "ws",
    "wss",
    "filesystem",
];

/// A loopback host of a URL (`localhost`, `127.0.0.0/8`, `::1`).
pub fn loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `uri` may receive codes; the reason when not.
pub fn check_redirect(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|e| format!("redirect URI `{uri}` is not a URL: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!(
            "redirect URI `{uri}` has a fragment (#…), which OAuth forbids"
        ));
    }
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" if loopback_host(&url) => Ok(url),
        "http" => Err(format!(
            "redirect URI `{uri}` is plain http to another machine: use https, or http on a \
             loopback address (127.0.0.1, [::1], localhost)"
        )),
        s if FORBIDDEN_SCHEMES.contains(&s) || s == "https" => Err(format!(
            "redirect URI `{uri}` uses a scheme codes may not be sent to"
        )),
        // A private-use scheme of an installed app (`cursor://…`, `com.example.app:/cb`).
        _ => Ok(url),
    }
}

/// `given` is one of `registered`: exact, except that a loopback http URI may use any port.
pub fn redirect_matches(registered: &[String], given: &str) -> bool {
    if registered.iter().any(|r| r == given) {
        return true;
    }
    let Ok(g) = Url::parse(given) else {
        return false;
    };
    if g.scheme() != "http" || !loopback_host(&g) {
        return false;
    }
    registered.iter().any(|r| {
        Url::parse(r).is_ok_and(|mut r| {
            r.scheme() == "http" && loopback_host(&r) && {
                let mut g = g.clone();
                let _ = r.set_port(None);
                let _ = g.set_port(None);
                r == g
            }
        })
    })
}

/// A `client_id` naming its metadata document: https with a path, or loopback http (local use).
pub fn is_document_id(client_id: &str) -> bool {
    Url::parse(client_id).is_ok_and(|u| match u.scheme() {
        "https" => u.path() != "/" && u.host_str().is_some(),
        "http" => loopback_host(&u),
        _ => false,
    })
}

fn text_field(doc: &Value, key: &str, max: usize) -> Option<String> {
    let s = doc.get(key)?.as_str()?;
    let clean: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    let clean = clean.trim().to_owned();
    (!clean.is_empty()).then_some(clean)
}

fn redirect_uris(doc: &Value) -> Result<Vec<String>, (&'static str, String)> {
    let list = doc
        .get("redirect_uris")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or((
            "invalid_redirect_uri",
            "redirect_uris must be a non-empty array".to_owned(),
        ))?;
    if list.len() > MAX_REDIRECTS {
        return Err((
            "invalid_redirect_uri",
            format!("at most {MAX_REDIRECTS} redirect_uris"),
        ));
    }
    list.iter()
        .map(|v| {
            let s = v.as_str().ok_or((
                "invalid_redirect_uri",
                "redirect_uris must be strings".to_owned(),
            ))?;
            check_redirect(s).map_err(|e| ("invalid_redirect_uri", e))?;
            Ok(s.to_owned())
        })
        .collect()
}

/// Checks the grant and response types a client asks for: only the code flow.
fn check_flow(doc: &Value) -> Result<(), (&'static str, String)> {
    if let Some(g) = doc.get("grant_types") {
        let ok = g.as_array().is_some_and(|a| {
            a.iter().any(|x| x == "authorization_code")
                && a.iter()
                    .all(|x| x == "authorization_code" || x == "refresh_token")
        });
        if !ok {
            return Err((
                "invalid_client_metadata",
                "grant_types may be authorization_code and refresh_token only".into(),
            ));
        }
    }
    if let Some(r) = doc.get("response_types")
        && !r.as_array().is_some_and(|a| a.iter().all(|x| x == "code"))
    {
        return Err((
            "invalid_client_metadata",
            "response_types may be [\"code\"] only".into(),
        ));
    }
    Ok(())
}

/// RFC 7591 registration: the client saved and the JSON to answer (201), or an error code and
/// description (400). Every client is public (`token_endpoint_auth_method` `none`): whatever
/// else it asks for, it gets no secret, as RFC 7591 §3.2.1 allows.
pub fn register(store: &Store, doc: &Value) -> Result<Value, (u16, &'static str, String)> {
    if !doc.is_object() {
        return Err((
            400,
            "invalid_client_metadata",
            "the body must be a JSON object".into(),
        ));
    }
    let uris = redirect_uris(doc).map_err(|(c, m)| (400, c, m))?;
    check_flow(doc).map_err(|(c, m)| (400, c, m))?;
    let scope = match doc.get("scope").and_then(Value::as_str) {
        Some(s) => super::scopes::parse(s).map_err(|m| (400, "invalid_client_metadata", m))?,
        None => super::scopes::ALL.to_owned(),
    };
    if store.client_count().map_err(|e| (500, "server_error", e))? >= MAX_CLIENTS {
        return Err((
            503,
            "temporarily_unavailable",
            "this server has registered as many clients as it keeps".into(),
        ));
    }
    let client = Client {
        id: format!("vc_{}", super::pkce::id()),
        name: text_field(doc, "client_name", 100).unwrap_or_else(|| "unnamed client".into()),
        redirect_uris: uris,
        fetched: now(),
    };
    store
        .put_client(&client)
        .map_err(|e| (500, "server_error", e))?;
    tracing::info!(
        target: "voipms::oauth",
        "registered OAuth client {:?} ({})",
        client.name,
        client.id
    );
    Ok(json!({
        "client_id": client.id,
        "client_id_issued_at": client.fetched,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": scope,
    }))
}

/// The client `client_id`: from the store, or (a URL) from its metadata document, fetched when
/// not seen in the last ten minutes.
pub async fn find(
    store: &Store,
    http: &reqwest::Client,
    client_id: &str,
) -> Result<Client, String> {
    let known = store.client(client_id)?;
    if !is_document_id(client_id) {
        return known.ok_or_else(|| {
            "this client is not registered here (its registration may be from another server): \
             remove the connector and add it again"
                .to_owned()
        });
    }
    if let Some(c) = known.filter(|c| now() - c.fetched < DOCUMENT_TTL) {
        return Ok(c);
    }
    let doc = fetch_document(http, client_id).await?;
    if doc.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err("the client's metadata document names another client_id".into());
    }
    let uris =
        redirect_uris(&doc).map_err(|(_, m)| format!("the client's metadata document: {m}"))?;
    check_flow(&doc).map_err(|(_, m)| format!("the client's metadata document: {m}"))?;
    if let Some(m) = doc
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        && m != "none"
    {
        return Err(format!(
            "the client's metadata document asks for token_endpoint_auth_method `{m}`; this \
             server has public clients only (`none`)"
        ));
    }
    let client = Client {
        id: client_id.to_owned(),
        name: text_field(&doc, "client_name", 100).unwrap_or_else(|| {
            Url::parse(client_id)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "unnamed client".into())
        }),
        redirect_uris: uris,
        fetched: now(),
    };
    store.put_client(&client)?;
    Ok(client)
}

/// The HTTP client for metadata documents: short timeouts, no redirects.
pub fn http_client() -> Result<reqwest::Client, String> {
    voipms_sdk::transport::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("voipms-mcp/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {}", e.without_url()))
}

async fn fetch_document(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let mut resp = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot fetch the client's metadata document: {}",
                e.without_url()
            )
        })?;
    if resp.status() != reqwest::StatusCode::OK {
        return Err(format!(
            "the client's metadata document answered HTTP {}",
            resp.status().as_u16()
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        format!(
            "cannot read the client's metadata document: {}",
            e.without_url()
        )
    })? {
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(format!(
                "the client's metadata document is larger than {} KiB",
                MAX_DOCUMENT / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|e| format!("the client's metadata document is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:33418/callback",
            "http://localhost/cb",
            "http://[::1]:9/cb",
            "cursor://anysphere.cursor-retrieval/oauth/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(check_redirect(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.example/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://x.example/cb#frag",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(check_redirect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_ports_may_vary() {
        let reg = vec![
            "http://127.0.0.1:1000/cb".to_owned(),
            "https://a.example/cb".to_owned(),
        ];
        assert!(redirect_matches(&reg, "http://127.0.0.1:2000/cb"));
        assert!(redirect_matches(&reg, "https://a.example/cb"));
        assert!(!redirect_matches(&reg, "http://127.0.0.1:2000/other"));
        assert!(!redirect_matches(&reg, "https://a.example/cb2"));
        assert!(!redirect_matches(&reg, "https://a.example:444/cb"));
    }

    #[test]
    fn document_ids() {
        assert!(is_document_id("https://app.example/oauth/client.json"));
        assert!(is_document_id("http://127.0.0.1:9/client.json"));
        assert!(!is_document_id("https://app.example/"));
        assert!(!is_document_id("http://app.example/client.json"));
        assert!(!is_document_id("vc_0123"));
    }
}
