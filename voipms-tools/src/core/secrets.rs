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
    let mut forms = forms.to_vec();
    // Base64 of a longer text holding the secret (an echoed request, say) shows it at one of
    // three alignments: the characters that encode only its bytes, at each (long enough to be
    // the secret's, not a chance match).
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        for offset in 0..3 {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let text = engine.encode(&bytes);
            let start = if offset == 0 { 0 } else { 4 };
            let end = bytes.len() / 3 * 4;
            if end >= start + 8 {
                forms.push(text[start..end].to_owned());
            }
        }
    }
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

/// The environment variables that hold secrets, with the shortest value registered from each:
/// the API password, the transcription provider's key, the MCP bearer token, and the OAuth
/// owner's passphrase (one under 12 characters is refused with a message that must stay
/// readable, and never used).
const SECRET_VARS: [(&str, usize); 4] = [
    ("VOIPMS_API_PASSWORD", 0),
    ("VOIPMS_TRANSCRIPTION_KEY", 0),
    ("MCP_AUTH_TOKEN", 0),
    ("VOIPMS_MCP_OWNER_PASSPHRASE", 12),
];

/// Registers every secret the environment holds, whatever the command: one that does not use a
/// secret can still meet it (a file or an answer echoing it) and must not show it.
pub fn add_env_secrets() {
    for (name, shortest) in SECRET_VARS {
        if let Ok(v) = std::env::var(name)
            && v.trim().chars().count() >= shortest
        {
            add_secret(v.trim());
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    /// Base64 of a longer text that holds the secret shows the secret's bytes at any of three
    /// alignments; the characters that encode only its bytes are masked at each.
    #[test]
    fn base64_of_a_text_holding_the_secret_is_masked() {
        let secret = "B64 s3ntinel/pw?";
        add_secret(secret);
        for engine in [STANDARD, URL_SAFE_NO_PAD] {
            for prefix in ["", "a", "ab", "abc", "{\"pw\":\""] {
                let blob = engine.encode(format!("{prefix}{secret}\"}}"));
                let shown = redact(&blob);
                assert!(shown.contains(MASK), "{prefix:?}: {blob} shown as {shown}");
                // What is left around the mask encodes at most two bytes of the secret at
                // either end: never enough to read it.
                let left = shown.replace(MASK, " ");
                for part in left.split(' ') {
                    assert!(part.len() <= 8 + prefix.len() * 2, "{prefix:?}: {shown}");
                }
            }
        }
    }
}
