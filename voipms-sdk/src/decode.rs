//! Lenient decoding of VoIP.ms responses into typed values.
//!
//! The body is parsed once into a [`serde_json::Value`]; typed responses are read out of it by
//! generated straight-line code calling the functions here. That keeps the generated code cheap to
//! compile (no serde derive per struct) and every error carries the JSON path that failed.
//!
//! Scalars are lenient the way the wire needs: strings, numbers and bools are all accepted where
//! the meaning is clear (`"1"`, `1`, `true`), `""`/`null`/absent mean "not set", and the date
//! placeholders `0000-00-00` and `false` read as `None`. Lists accept a single bare object.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::scalars::{Date, DateTime, Decimal, Limit, is_decimal};

/// A response value that does not have the shape the spec declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    path: Vec<Segment>,
    expected: &'static str,
    found: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl DecodeError {
    /// A new error at the current position.
    pub fn new(expected: &'static str, found: &Value) -> Self {
        DecodeError {
            path: Vec::new(),
            expected,
            found: excerpt(found),
        }
    }

    /// The JSON path of the value that failed, e.g. `$.cdr[3].seconds`.
    pub fn path(&self) -> String {
        let mut s = String::from("$");
        for seg in self.path.iter().rev() {
            match seg {
                Segment::Key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                Segment::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    /// What the spec expected there.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// A short excerpt of what was found.
    pub fn found(&self) -> &str {
        &self.found
    }

    fn at_key(mut self, key: &str) -> Self {
        self.path.push(Segment::Key(key.to_owned()));
        self
    }

    fn at_index(mut self, i: usize) -> Self {
        self.path.push(Segment::Index(i));
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at `{}`: expected {}, found {}",
            self.path(),
            self.expected,
            self.found
        )
    }
}

impl std::error::Error for DecodeError {}

fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(60).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// A value that can be read out of a JSON value. `Ok(None)` means "not set".
pub trait Decode: Sized {
    /// Decodes `value`; `null` and the type's own "not set" forms give `Ok(None)`.
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError>;
}

/// Decodes a whole response body (the object next to `status`) into `T`.
pub fn decode_response<T: Decode + Default>(body: &Value) -> Result<T, DecodeError> {
    Ok(T::decode(body)?.unwrap_or_default())
}

/// Reads the object of a generated struct, or `None` for `null`/`""`/`[]` (VoIP.ms sends those
/// for an absent record).
pub fn object(value: &Value) -> Result<Option<&Map<String, Value>>, DecodeError> {
    match value {
        Value::Object(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::Array(a) if a.is_empty() => Ok(None),
        // A one-item list where a single record is declared.
        Value::Array(a) if a.len() == 1 && a[0].is_object() => Ok(a[0].as_object()),
        other => Err(DecodeError::new("an object", other)),
    }
}

fn lookup<'v>(obj: &'v Map<String, Value>, keys: &[&str]) -> Option<(&'v Value, &'v str)> {
    keys.iter()
        .find_map(|k| obj.get_key_value(*k).map(|(k, v)| (v, k.as_str())))
}

/// An optional field: absent or "not set" gives `None`.
pub fn field<T: Decode>(obj: &Map<String, Value>, keys: &[&str]) -> Result<Option<T>, DecodeError> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((v, k)) => T::decode(v).map_err(|e| e.at_key(k)),
    }
}

/// An optional field whose listed wire values (`-1`, `""`) mean "not set".
pub fn field_none_if<T: Decode>(
    obj: &Map<String, Value>,
    keys: &[&str],
    none_if: &[&str],
) -> Result<Option<T>, DecodeError> {
    match lookup(obj, keys) {
        None => Ok(None),
        Some((v, k)) => {
            let text = match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            if text.is_some_and(|t| none_if.contains(&t.as_str())) {
                return Ok(None);
            }
            T::decode(v).map_err(|e| e.at_key(k))
        }
    }
}

/// A list field: absent or empty gives an empty list; a single item stands for a one-item list.
pub fn list<T: Decode>(obj: &Map<String, Value>, keys: &[&str]) -> Result<Vec<T>, DecodeError> {
    match lookup(obj, keys) {
        None => Ok(Vec::new()),
        Some((v, k)) => decode_list(v).map_err(|e| e.at_key(k)),
    }
}

/// Decodes an array, or a single item as a one-item list. `null`, `""` and `false` give an empty list.
pub fn decode_list<T: Decode>(value: &Value) -> Result<Vec<T>, DecodeError> {
    match value {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(v) = T::decode(item).map_err(|e| e.at_index(i))? {
                    out.push(v);
                }
            }
            Ok(out)
        }
        Value::Null | Value::Bool(false) => Ok(Vec::new()),
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        single => Ok(T::decode(single)?.into_iter().collect()),
    }
}

/// A map field whose keys are data (`{"1": "https://…"}`); an array is read as keys `0`, `1`, ….
pub fn map<T: Decode>(
    obj: &Map<String, Value>,
    keys: &[&str],
) -> Result<BTreeMap<String, T>, DecodeError> {
    let Some((v, k)) = lookup(obj, keys) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    match v {
        Value::Object(m) => {
            for (key, item) in m {
                if let Some(x) = T::decode(item).map_err(|e| e.at_key(key).at_key(k))? {
                    out.insert(key.clone(), x);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(x) = T::decode(item).map_err(|e| e.at_index(i).at_key(k))? {
                    out.insert(i.to_string(), x);
                }
            }
        }
        Value::Null => {}
        Value::String(s) if s.is_empty() => {}
        other => return Err(DecodeError::new("an object keyed by data", other).at_key(k)),
    }
    Ok(out)
}

impl Decode for String {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        match value {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::Null => Ok(None),
            other => Err(DecodeError::new("text", other)),
        }
    }
}

impl Decode for i64 {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        match value {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| DecodeError::new("an integer", value)),
            Value::String(s) => {
                let t = s.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                t.parse()
                    .map(Some)
                    .map_err(|_| DecodeError::new("an integer", value))
            }
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            Value::Null => Ok(None),
            other => Err(DecodeError::new("an integer", other)),
        }
    }
}

impl Decode for Decimal {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        match value {
            Value::String(s) => {
                let t = s.trim();
                if t.is_empty() {
                    Ok(None)
                } else if is_decimal(t) {
                    Ok(Some(Decimal::parse(t).expect("checked")))
                } else {
                    Err(DecodeError::new("a decimal number", value))
                }
            }
            Value::Number(n) => {
                Ok(Some(Decimal::parse(&n.to_string()).map_err(|_| {
                    DecodeError::new("a decimal number", value)
                })?))
            }
            Value::Null => Ok(None),
            other => Err(DecodeError::new("a decimal number", other)),
        }
    }
}

impl Decode for bool {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        let expected = "a flag (1/0, yes/no, true/false)";
        match value {
            Value::Bool(b) => Ok(Some(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Ok(Some(true)),
                Some(0) => Ok(Some(false)),
                _ => Err(DecodeError::new(expected, value)),
            },
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "yes" | "y" | "true" | "on" => Ok(Some(true)),
                "0" | "no" | "n" | "false" | "off" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(DecodeError::new(expected, value)),
            },
            Value::Null => Ok(None),
            other => Err(DecodeError::new(expected, other)),
        }
    }
}

fn zero_date(t: &str) -> bool {
    t.is_empty() || t.starts_with("0000-00-00")
}

impl Decode for Date {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        match value {
            Value::String(s) => {
                let t = s.trim();
                if zero_date(t) {
                    return Ok(None);
                }
                let day = t.get(..10).unwrap_or(t);
                Date::parse_from_str(day, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| DecodeError::new("a date (YYYY-MM-DD)", value))
            }
            Value::Null | Value::Bool(false) => Ok(None),
            other => Err(DecodeError::new("a date (YYYY-MM-DD)", other)),
        }
    }
}

impl Decode for DateTime {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        let expected = "a date and time (YYYY-MM-DD HH:MM:SS)";
        match value {
            Value::String(s) => {
                let t = s.trim();
                if zero_date(t) {
                    return Ok(None);
                }
                DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                    .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
                    .or_else(|_| {
                        Date::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_time(Default::default()))
                    })
                    .map(Some)
                    .map_err(|_| DecodeError::new(expected, value))
            }
            Value::Null | Value::Bool(false) => Ok(None),
            other => Err(DecodeError::new(expected, other)),
        }
    }
}

impl Decode for Limit {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        if let Value::String(s) = value
            && s.trim().eq_ignore_ascii_case("unlimited")
        {
            return Ok(Some(Limit::Unlimited));
        }
        i64::decode(value)
            .map(|n| n.map(Limit::Count))
            .map_err(|_| DecodeError::new("a number or `Unlimited`", value))
    }
}

impl Decode for Value {
    fn decode(value: &Value) -> Result<Option<Self>, DecodeError> {
        match value {
            Value::Null => Ok(None),
            v => Ok(Some(v.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one<T: Decode>(v: Value) -> Result<Option<T>, DecodeError> {
        T::decode(&v)
    }

    #[test]
    fn text_accepts_any_scalar() {
        assert_eq!(one::<String>(json!("99785")).unwrap().unwrap(), "99785");
        assert_eq!(one::<String>(json!(40702183)).unwrap().unwrap(), "40702183");
        assert_eq!(one::<String>(json!(null)).unwrap(), None);
        assert!(one::<String>(json!({"a": 1})).is_err());
    }

    #[test]
    fn ints_and_flags_are_lenient() {
        assert_eq!(one::<i64>(json!("2788")).unwrap(), Some(2788));
        assert_eq!(one::<i64>(json!(5)).unwrap(), Some(5));
        assert_eq!(one::<i64>(json!("")).unwrap(), None);
        assert!(one::<i64>(json!("abc")).is_err());
        for t in [
            json!(1),
            json!("1"),
            json!("yes"),
            json!("Yes"),
            json!(true),
        ] {
            assert_eq!(one::<bool>(t).unwrap(), Some(true));
        }
        for f in [json!(0), json!("0"), json!("no"), json!("No"), json!(false)] {
            assert_eq!(one::<bool>(f).unwrap(), Some(false));
        }
        assert_eq!(one::<bool>(json!("")).unwrap(), None);
        assert!(one::<bool>(json!("maybe")).is_err());
    }

    #[test]
    fn dates_and_placeholders() {
        assert_eq!(
            one::<Date>(json!("2024-02-29")).unwrap(),
            Date::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(one::<Date>(json!("0000-00-00")).unwrap(), None);
        assert_eq!(one::<Date>(json!(false)).unwrap(), None);
        assert!(one::<Date>(json!("2024-13-01")).is_err());
        let dt = one::<DateTime>(json!("2024-10-11 08:48:40"))
            .unwrap()
            .unwrap();
        assert_eq!(dt.to_string(), "2024-10-11 08:48:40");
        assert_eq!(one::<DateTime>(json!("0000-00-00 00:00:00")).unwrap(), None);
    }

    #[test]
    fn decimals_and_limits() {
        assert_eq!(
            one::<Decimal>(json!("112.192790"))
                .unwrap()
                .unwrap()
                .as_str(),
            "112.192790"
        );
        assert_eq!(one::<Decimal>(json!(1.5)).unwrap().unwrap().as_str(), "1.5");
        assert_eq!(
            one::<Limit>(json!("Unlimited")).unwrap(),
            Some(Limit::Unlimited)
        );
        assert_eq!(one::<Limit>(json!("10")).unwrap(), Some(Limit::Count(10)));
    }

    #[test]
    fn lists_accept_single_objects_and_errors_carry_paths() {
        let body = json!({"rows": {"n": "1"}, "bad": [{"n": "1"}, {"n": "x"}]});
        let obj = body.as_object().unwrap();
        #[derive(Debug, Default)]
        struct Row {
            n: Option<i64>,
        }
        impl Decode for Row {
            fn decode(v: &Value) -> Result<Option<Self>, DecodeError> {
                let Some(o) = object(v)? else { return Ok(None) };
                Ok(Some(Row {
                    n: field(o, &["n"])?,
                }))
            }
        }
        let rows: Vec<Row> = list(obj, &["missing", "rows"]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].n, Some(1));
        let err = list::<Row>(obj, &["bad"]).unwrap_err();
        assert_eq!(err.path(), "$.bad[1].n");
        assert_eq!(
            err.to_string(),
            "at `$.bad[1].n`: expected an integer, found \"x\""
        );
        let none: Option<String> =
            field_none_if(json!({"c": "-1"}).as_object().unwrap(), &["c"], &["-1", ""]).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn maps_keyed_by_data() {
        let body = json!({"media": {"1": "https://a", "2": "https://b"}, "arr": ["x"]});
        let m: BTreeMap<String, String> = map(body.as_object().unwrap(), &["media"]).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["2"], "https://b");
        let a: BTreeMap<String, String> = map(body.as_object().unwrap(), &["arr"]).unwrap();
        assert_eq!(a["0"], "x");
    }
}
