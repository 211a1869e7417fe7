//! The pages the owner sees in a browser: the consent form and the error page. Everything shown
//! is escaped; the pages load nothing and may not be framed.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::scopes;

/// What the consent page shows and carries back.
#[derive(Debug)]
pub struct Consent<'a> {
    /// The client's own name (unverified).
    pub client_name: &'a str,
    /// The client id (a URL for metadata-document clients).
    pub client_id: &'a str,
    /// Where the code will go.
    pub redirect_uri: &'a str,
    /// The normalised scope.
    pub scope: &'a str,
    /// This server's MCP URL.
    pub resource: &'a str,
    /// The authorization request's parameters, sent back as hidden fields.
    pub hidden: &'a [(&'static str, String)],
    /// A message above the form (a wrong passphrase).
    pub problem: Option<&'a str>,
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;\
padding:0 1rem;color:#222;line-height:1.45}h1{font-size:1.35rem}dt{font-weight:600;margin-top:.7rem}\
dd{margin:0;word-break:break-all}code{background:#f3f3f3;padding:0 .2rem}.problem{background:#fde8e8;\
border:1px solid #e0a0a0;padding:.6rem;border-radius:4px}input[type=password]{width:100%;\
padding:.45rem;font-size:1rem;box-sizing:border-box}button{padding:.45rem 1rem;font-size:1rem;\
margin:.8rem .6rem 0 0}.small{color:#666;font-size:.85rem}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// The consent form (`status` 200, or 401 after a wrong passphrase).
pub fn consent(status: StatusCode, c: &Consent<'_>) -> Response {
    let mut body = String::from("<h1>Connect an AI client to your VoIP.ms account?</h1>");
    if let Some(p) = c.problem {
        body.push_str(&format!("<p class=\"problem\">{}</p>", escape(p)));
    }
    body.push_str(&format!(
        "<p>An application asks to use the VoIP.ms tools of this server \
         (<code>{}</code>) on your behalf.</p><dl>\
         <dt>Application</dt><dd>{} <span class=\"small\">(the name it gives itself)</span></dd>\
         <dt>Client id</dt><dd><code>{}</code></dd>\
         <dt>The answer goes to</dt><dd><code>{}</code></dd><dt>It may</dt>",
        escape(c.resource),
        escape(c.client_name),
        escape(c.client_id),
        escape(c.redirect_uri),
    ));
    for (name, what) in scopes::describe(c.scope) {
        body.push_str(&format!("<dd><code>{name}</code>: {}</dd>", escape(what)));
    }
    body.push_str(
        "</dl><p>Allow it only if you started this connection yourself. You can withdraw it \
         at any time with <code>voipms mcp tokens revoke</code>.</p>\
         <form method=\"post\" action=\"/authorize\">",
    );
    for (k, v) in c.hidden {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
            escape(v)
        ));
    }
    if scopes::can_write(c.scope) {
        body.push_str(
            "<p><label><input type=\"radio\" name=\"grant\" value=\"requested\" checked> \
             Allow what it asks for</label><br><label><input type=\"radio\" name=\"grant\" \
             value=\"read\"> Allow reading only (<code>voipms:read</code>)</label></p>",
        );
    }
    body.push_str(
        "<label for=\"passphrase\">Owner passphrase of this server</label>\
         <input type=\"password\" id=\"passphrase\" name=\"passphrase\" autocomplete=\"current-password\" autofocus>\
         <button type=\"submit\" name=\"action\" value=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></form>\
         <p class=\"small\">The passphrase is the one the server was started with \
         (VOIPMS_MCP_OWNER_PASSPHRASE or --owner-passphrase-file).</p>",
    );
    page(status, "Connect to VoIP.ms", &body)
}

/// An error page, for what cannot be sent back to the client.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>This connection cannot go on</h1><p class=\"problem\">{}</p>\
         <p class=\"small\">Nothing was granted. Start the connection again from the application.</p>",
        escape(message)
    );
    let mut r = page(status, "Connection refused", &body);
    if status == StatusCode::TOO_MANY_REQUESTS {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
