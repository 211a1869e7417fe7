//! Pure encoding of parameter values: one value of a catalog parameter, as text, to its wire
//! form, or a message that says what is accepted. Reading files or stdin is the front ends' job.

use base64::Engine;
use chrono::{Days, NaiveDate, NaiveDateTime};
use voipms_sdk::catalog::{Method, Param, ParamKind};

use crate::core::schema;

/// How a value of `p` may be written, for messages (the CLI adds its own forms).
pub type Hint = fn(&Param) -> String;

/// The parameter named `key` (wire, kebab or snake spelling, any case).
pub fn find_param(m: &'static Method, key: &str) -> Option<&'static Param> {
    m.param(key).or_else(|| {
        let k = norm(key);
        m.params.iter().find(|p| norm(p.name) == k)
    })
}

/// `s` lower-cased without `-` and `_`, for comparing names.
pub fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Today's date on this machine.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Parses a date: `YYYY-MM-DD`, `today`, `yesterday`, or `-Nd` (N days ago).
pub fn parse_date(raw: &str, today: NaiveDate) -> Option<NaiveDate> {
    let s = raw.trim();
    match s.to_ascii_lowercase().as_str() {
        "today" => return Some(today),
        "yesterday" => return today.checked_sub_days(Days::new(1)),
        _ => {}
    }
    if let Some(n) = s.strip_prefix('-').and_then(|r| r.strip_suffix(['d', 'D'])) {
        let n: u64 = n.parse().ok()?;
        return today.checked_sub_days(Days::new(n));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Parses a yes/no value: `1/0`, `true/false`, `yes/no`, `y/n`, `on/off`.
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// Validates one value of `p` and returns its wire text, or what is wrong with it.
pub fn encode(p: &Param, raw: &str, today: NaiveDate) -> Result<String, String> {
    encode_with(p, raw, today, schema::accepts)
}

/// [`encode`], with `hint` describing the accepted forms in messages.
pub fn encode_with(p: &Param, raw: &str, today: NaiveDate, hint: Hint) -> Result<String, String> {
    let bad = |what: &str| {
        format!(
            "`{raw}` is not {what}: use {}{}",
            hint(p),
            p.example
                .map(|e| format!(" (e.g. {e})"))
                .unwrap_or_default()
        )
    };
    let s = raw.trim();
    match p.kind {
        ParamKind::String | ParamKind::Url | ParamKind::Timezone => Ok(raw.to_owned()),
        ParamKind::Flag => parse_bool(s)
            .map(|b| voipms_sdk::wire::flag(b).to_owned())
            .ok_or_else(|| bad("a yes/no value")),
        ParamKind::YesNo => parse_bool(s)
            .map(|b| voipms_sdk::wire::yes_no(b).to_owned())
            .ok_or_else(|| bad("a yes/no value")),
        ParamKind::Integer => s
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| bad("a whole number")),
        ParamKind::Decimal => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
            let ok = !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(digits.contains('.') && frac.is_empty());
            if ok {
                Ok(s.to_owned())
            } else {
                Err(bad("a decimal number"))
            }
        }
        ParamKind::TzOffset => s
            .parse::<voipms_sdk::TzOffset>()
            .map(|tz| tz.to_string())
            .map_err(|_| {
                bad("a UTC offset (hours from -12 to 13, whole or in quarter hours: 5.5, 9.75)")
            }),
        ParamKind::Date => parse_date(s, today)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .ok_or_else(|| bad("a valid date")),
        ParamKind::DateTime => {
            let t = s.replacen('T', " ", 1);
            NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M"))
                .ok()
                .or_else(|| parse_date(s, today).and_then(|d| d.and_hms_opt(0, 0, 0)))
                .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                .ok_or_else(|| bad("a valid date and time"))
        }
        ParamKind::Enum => {
            let n = norm(s);
            p.values
                .iter()
                .find(|v| v.value == s)
                .or_else(|| p.values.iter().find(|v| v.value.eq_ignore_ascii_case(s)))
                .or_else(|| p.values.iter().find(|v| norm(v.name) == n))
                .map(|v| v.value.to_owned())
                .ok_or_else(|| {
                    format!(
                        "`{raw}` is not one of the allowed values: {}",
                        schema::enum_values_text(p)
                    )
                })
        }
        ParamKind::Routing => {
            if s.contains(':') {
                Ok(s.to_owned())
            } else {
                Err(bad("a routing target"))
            }
        }
        ParamKind::Email => {
            if s.contains('@') {
                Ok(s.to_owned())
            } else {
                Err(bad("an e-mail address"))
            }
        }
        ParamKind::Phone => {
            // "(555) 123-4567" → 5551234567; anything else (sip:…, extensions) goes as written.
            let stripped: String = s
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
                .collect();
            let digits = stripped.strip_prefix('+').unwrap_or(&stripped);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(stripped)
            } else {
                Ok(s.to_owned())
            }
        }
        ParamKind::Base64 => {
            if base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .is_ok()
            {
                Ok(s.to_owned())
            } else {
                Err(bad("base64 text"))
            }
        }
        ParamKind::List { .. } => Ok(s.to_owned()),
    }
}

/// Whether `name` is one no caller may set: it normalizes (case, punctuation and brackets
/// dropped) to a credential or the method (`api.password`, `method[]`, `API_USERNAME`).
pub fn is_reserved(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    ["apiusername", "apipassword", "method"].contains(&n.as_str())
}
