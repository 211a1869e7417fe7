//! The secrets no output may show (the API password, as is and in its encoded forms) and the
//! mask that stands for them. Every writer of the CLI and every MCP result goes through [`redact`].

use std::borrow::Cow;
use std::sync::RwLock;

/// What stands for a secret in any output.
pub const MASK: &str = "********";

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret that must never be printed. Very short values are not registered (masking
/// every `a` of the output would help no one), but those are never printed by the code either.
/// It is masked in every form it can take in text: as is, URL-encoded, JSON-escaped, as HTML
/// entities (see [`voipms_sdk::redact::mask_secret`]).
pub fn add_secret(secret: &str) {
    if secret.chars().count() < 4 {
        return;
    }
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    // A server may echo a request base64-encoded too (a token in a JWT-like blob, say).
    let forms = [
        secret.to_owned(),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    if let Ok(mut list) = SECRETS.write() {
        for form in forms {
            if !list.contains(&form) {
                list.push(form);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Registers the password of a URL's user-info (`https://user:pass@host`), as written and
/// percent-decoded.
pub fn add_url_secret(url: &str) {
    if let Some(p) = voipms_sdk::redact::userinfo_password(url) {
        add_secret(p);
        let decoded = percent_decode(p);
        if decoded != p {
            add_secret(&decoded);
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every registered secret, in any encoded form, replaced by `********`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let Ok(list) = SECRETS.read() else {
        return Cow::Borrowed(text);
    };
    let mut out = Cow::Borrowed(text);
    for s in list.iter() {
        if let Cow::Owned(masked) = voipms_sdk::redact::mask_secret(&out, s, MASK) {
            out = Cow::Owned(masked);
        }
    }
    out
}

/// `application/x-www-form-urlencoded` form of `s`, as the HTTP transport puts it in a URL.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `url` with any user name and password in it (`https://user:pass@host`) masked.
pub fn mask_userinfo(url: &str) -> Cow<'_, str> {
    voipms_sdk::redact::mask_userinfo(url, MASK)
}
