//! Masking a secret in text in every form it can take there: as is, URL-encoded (`+` or `%20`
//! for a space, upper- or lower-case hex), JSON-escaped (`\"`, `\/`, `\u0040`) and as HTML
//! entities (`&amp;`, `&#64;`, `&#x40;`) — in any mixture, since a server may echo a request in
//! a JSON string inside an HTML page. Masking happens on the text as received, before anything
//! cuts or unescapes it, so no excerpt can show part of a secret.

use std::borrow::Cow;

/// `text` with every occurrence of `secret`, in any of its encoded forms, replaced by `mask`.
/// An empty secret masks nothing.
///
/// ```
/// use voipms_sdk::redact::mask_secret;
/// let page = "<p>bad password p%40ss+w%26rd or p&#64;ss w&amp;rd or \"p@ss w\\u0026rd\"</p>";
/// assert_eq!(
///     mask_secret(page, "p@ss w&rd", "***"),
///     "<p>bad password *** or *** or \"***\"</p>"
/// );
/// ```
pub fn mask_secret<'a>(text: &'a str, secret: &str, mask: &str) -> Cow<'a, str> {
    let s = secret.as_bytes();
    let t = text.as_bytes();
    if s.is_empty() || t.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < t.len() {
        let starts = t[i] == s[0] || matches!(t[i], b'%' | b'+' | b'\\' | b'&');
        let end = if starts { match_at(t, i, s) } else { None };
        match end {
            Some(end) if end > i && text.is_char_boundary(i) && text.is_char_boundary(end) => {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                o.push_str(&text[copied..i]);
                o.push_str(mask);
                copied = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

/// Where a match of `s` starting at `t[start]` ends, trying at each position the byte as is and
/// what an escape there decodes to.
fn match_at(t: &[u8], start: usize, s: &[u8]) -> Option<usize> {
    // An explicit stack instead of recursion: (position in t, position in s).
    let mut stack = vec![(start, 0usize)];
    let mut steps = 0u32;
    while let Some((i, j)) = stack.pop() {
        if j == s.len() {
            return Some(i);
        }
        steps += 1;
        if i >= t.len() || steps > 10_000 {
            continue;
        }
        if let Some((consumed, bytes, n)) = decode_at(t, i)
            && s[j..].starts_with(&bytes[..n])
        {
            stack.push((i + consumed, j + n));
        }
        // Escapes escaped again (JSON inside JSON, at any depth): a run of backslashes before
        // an escape (`\\\"` for `"`), or a backslash of the secret doubled at each level.
        let run = t[i..].iter().take_while(|&&b| b == b'\\').count();
        if run >= 2 {
            if let Some((consumed, bytes, n)) = decode_at(t, i + run - 1)
                && s[j..].starts_with(&bytes[..n])
            {
                stack.push((i + run - 1 + consumed, j + n));
            }
            if run.is_power_of_two() && s[j] == b'\\' {
                stack.push((i + run, j + 1));
            }
        }
        if t[i] == s[j] {
            stack.push((i + 1, j + 1));
        }
    }
    None
}

/// What an escape at `t[i]` decodes to: (bytes consumed, decoded bytes, their count).
fn decode_at(t: &[u8], i: usize) -> Option<(usize, [u8; 4], usize)> {
    let rest = &t[i..];
    match rest.first()? {
        b'+' => Some((1, [b' ', 0, 0, 0], 1)),
        b'%' => {
            let v = hex(rest.get(1..3)?)?;
            Some((3, [u8::try_from(v).ok()?, 0, 0, 0], 1))
        }
        b'\\' => {
            let c = match rest.get(1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'\'' => '\'',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hi = hex(rest.get(2..6)?)?;
                    if (0xD800..0xDC00).contains(&hi) {
                        let lo = rest
                            .get(6..8)
                            .filter(|p| *p == b"\\u")
                            .and_then(|_| hex(rest.get(8..12)?))
                            .filter(|lo| (0xDC00..0xE000).contains(lo))?;
                        let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?;
                        return Some(utf8(12, c));
                    }
                    return Some(utf8(6, char::from_u32(hi)?));
                }
                _ => return None,
            };
            Some(utf8(2, c))
        }
        b'&' => {
            let semi = rest.iter().take(12).position(|&b| b == b';')?;
            let name = &rest[1..semi];
            let c = match name {
                b"amp" => '&',
                b"lt" => '<',
                b"gt" => '>',
                b"quot" => '"',
                b"apos" => '\'',
                [b'#', b'x' | b'X', digits @ ..] => char::from_u32(hex(digits)?)?,
                [b'#', digits @ ..] if !digits.is_empty() => {
                    let text = std::str::from_utf8(digits).ok()?;
                    if !text.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    char::from_u32(text.parse().ok()?)?
                }
                _ => return None,
            };
            Some(utf8(semi + 1, c))
        }
        _ => None,
    }
}

fn utf8(consumed: usize, c: char) -> (usize, [u8; 4], usize) {
    let mut buf = [0; 4];
    let n = c.encode_utf8(&mut buf).len();
    (consumed, buf, n)
}

fn hex(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// `url` with any user name and password in it (`https://user:pass@host`) replaced by `mask`.
pub fn mask_userinfo<'a>(url: &'a str, mask: &str) -> Cow<'a, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Cow::Borrowed(url);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{scheme}://{mask}@{}", &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}

/// The password in a URL's user-info (`https://user:pass@host` → `pass`), still as written.
pub fn userinfo_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (userinfo, _) = rest[..authority_end].rsplit_once('@')?;
    userinfo
        .split_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "S3ntinel p@ss&word!/<é>\"";

    fn json(s: &str) -> String {
        let q = serde_json::to_string(s).unwrap();
        q[1..q.len() - 1].to_owned()
    }

    #[test]
    fn every_form_is_masked() {
        let form: String = PW
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    char::from(b).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let forms = [
            PW.to_owned(),
            form.clone(),
            form.replace('+', "%20"),
            form.to_lowercase().replace("s3ntinel", "S3ntinel"),
            json(PW),
            json(PW).replace('/', "\\/"),
            PW.chars().map(|c| format!("\\u{:04x}", c as u32)).collect(),
            PW.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;"),
            PW.chars().map(|c| format!("&#{};", c as u32)).collect(),
            PW.chars().map(|c| format!("&#x{:X};", c as u32)).collect(),
        ];
        for f in &forms {
            let text = format!("before {f} after");
            assert_eq!(mask_secret(&text, PW, "#"), "before # after", "form {f}");
        }
        // A surrogate pair, as JSON writes characters outside the BMP.
        assert_eq!(mask_secret("x\\ud83d\\ude00y", "x😀y", "#"), "#");
    }

    /// A JSON string holding JSON (an echoed request inside an error's JSON, printed as JSON)
    /// escapes the escapes again: `\"` becomes `\\\"`, and so on at each level.
    #[test]
    fn escapes_escaped_again_are_masked() {
        let once = json(PW);
        let twice = json(&once);
        let thrice = json(&twice);
        for f in [&twice, &thrice] {
            let text = format!("before {f} after");
            assert_eq!(mask_secret(&text, PW, "#"), "before # after", "form {f}");
        }
        // A secret with a backslash of its own matches as written, escaped once and twice.
        for text in ["x a\\b y", "x a\\\\b y", "x a\\\\\\\\b y"] {
            assert_eq!(mask_secret(text, "a\\b", "#"), "x # y", "{text}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "the sandbox has one; 100% & more + less \\n &amp; &#;";
        assert!(matches!(mask_secret(text, PW, "#"), Cow::Borrowed(_)));
        assert_eq!(mask_secret(text, "", "#"), text);
        // Part of the secret is not the secret.
        assert_eq!(mask_secret("S3ntinel p@ss", PW, "#"), "S3ntinel p@ss");
        // A secret that itself looks encoded is matched as written.
        assert_eq!(mask_secret("a%40b and a%2540b", "a%40b", "#"), "# and #");
    }

    #[test]
    fn userinfo() {
        assert_eq!(
            mask_userinfo("http://u:p@h:1/x?y=a@b", "*"),
            "http://*@h:1/x?y=a@b"
        );
        assert_eq!(mask_userinfo("https://h/x", "*"), "https://h/x");
        assert_eq!(userinfo_password("http://u:p%40ss@h/"), Some("p%40ss"));
        assert_eq!(userinfo_password("http://u@h/"), None);
        assert_eq!(userinfo_password("http://h/a@b"), None);
    }
}
