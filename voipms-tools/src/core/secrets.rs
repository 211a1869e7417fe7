//! The secrets no output may show (the API password, as is and in its encoded forms) and the
//! mask that stands for them. Every writer of the CLI and every MCP result goes through [`redact`].

use std::borrow::Cow;
use std::sync::RwLock;

/// What stands for a secret in any output.
pub const MASK: &str = "********";

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret that must never be printed. Very short values are not registered (masking
/// every `a` of the output would help no one), but those are never printed by the code either.
pub fn add_secret(secret: &str) {
    if secret.chars().count() < 4 {
        return;
    }
    let forms = [
        secret.to_owned(),
        form_encode(secret),
        form_encode(secret).replace('+', "%20"),
    ];
    if let Ok(mut list) = SECRETS.write() {
        for f in forms {
            if !list.contains(&f) {
                list.push(f);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret replaced by `********`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let Ok(list) = SECRETS.read() else {
        return Cow::Borrowed(text);
    };
    let mut out = Cow::Borrowed(text);
    for s in list.iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), MASK));
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
    let Some((scheme, rest)) = url.split_once("://") else {
        return Cow::Borrowed(url);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{scheme}://{MASK}@{}", &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}
