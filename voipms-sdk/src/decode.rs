//! Lenient decoding of VoIP.ms responses into typed values.
//!
//! The body is parsed once into a [`serde_json::Value`]; typed responses are read out of it by
//! generated straight-line code calling the [`Reader`] here. That keeps the generated code cheap to
//! compile (no serde derive per struct) and every error carries the JSON path that failed.
//!
//! Scalars are lenient the way the wire needs: strings, numbers and bools are all accepted where
//! the meaning is clear (`"1"`, `1`, `true`), `""`/`null`/absent mean "not set", and the date
//! placeholders `0000-00-00` and `false` read as `None`. Lists accept a single bare object.
//!
//! **One odd value costs its field, never the envelope.** A scalar that does not read as its
//! declared type (a date `2026-13-45`, an integer `"n/a"`) decodes as `None`; its text is kept in
//! the struct's `unreadable` set ([`Unreadable::get`] by wire key) and in the response's
//! [`Drift`], and every other field and row decodes. Only a *shape* that cannot be read (an object
//! where a list is declared, a list where a scalar is) fails, with the JSON path.
//!
//! **Drift is visible.** While decoding, the keys of the body that no declared field read are
//! recorded as [`Drift::unread`] (cheaply: a key count per object, the key names only when the
//! count differs), and the unreadable values as [`Drift::unreadable`].

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::scalars::{Date, DateOrPeriod, DateTime, Decimal, Limit};

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
        render_path(self.path.iter().rev().map(|seg| match seg {
            Segment::Key(k) => Seg::Key(k),
            Segment::Index(i) => Seg::Index(*i),
        }))
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

/// Where the decoder is in the body, and the drift it has seen so far.
#[derive(Debug, Default)]
pub struct Cx<'v> {
    path: Vec<Seg<'v>>,
    drift: Drift,
    unread_patterns: HashSet<String>,
}

#[derive(Debug, Clone, Copy)]
enum Seg<'v> {
    Key(&'v str),
    Index(usize),
}

impl<'v> Cx<'v> {
    /// A fresh context at the root of a body.
    pub fn new() -> Self {
        Cx::default()
    }

    /// The drift recorded so far.
    pub fn into_drift(self) -> Drift {
        self.drift
    }

    fn path_with(&self, last: Option<&str>) -> String {
        render_path(self.path.iter().copied().chain(last.map(Seg::Key)))
    }

    /// Records a key of the body that no declared field read. Only the first path of each shape
    /// (`$.cdr[].ip`) is kept, so 10,000 rows with one new key give one entry.
    fn unread(&mut self, key: &str) {
        let path = self.path_with(Some(key));
        let pattern = pattern_of(&path);
        if self.unread_patterns.insert(pattern) {
            self.drift.unread.push(path);
        }
    }

    fn unreadable(&mut self, key: Option<&str>, expected: &'static str, value: &Value) {
        self.drift.unreadable.push(UnreadableValue {
            path: self.path_with(key),
            expected,
            text: scalar_text(value),
        });
    }
}

/// `$.cdr[3].ip` from its segments, outermost first.
fn render_path<'a>(segs: impl Iterator<Item = Seg<'a>>) -> String {
    let mut s = String::from("$");
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

/// `$.cdr[3].ip` → `$.cdr[].ip`.
fn pattern_of(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a typed decode could not account for: keys it did not read and values it could not read.
///
/// Empty when the body matches the spec exactly. Available on every typed
/// [`Response`](crate::Response) and from [`decode_by_name`](crate::api::decode_by_name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    unread: Vec<String>,
    unreadable: Vec<UnreadableValue>,
}

impl Drift {
    /// JSON paths of keys that no declared field read (`$.cdr[0].ip`), the first of each shape.
    pub fn unread(&self) -> &[String] {
        &self.unread
    }

    /// Values that did not read as their declared type (each such field decoded as `None`), and
    /// values outside a closed set (each such field holds the enum's `Other(text)`).
    pub fn unreadable(&self) -> &[UnreadableValue] {
        &self.unreadable
    }

    /// Neither unread keys nor unreadable values.
    pub fn is_empty(&self) -> bool {
        self.unread.is_empty() && self.unreadable.is_empty()
    }
}

/// A value that did not read as its declared type, kept as the text VoIP.ms sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableValue {
    /// JSON path (`$.cdr[1].date`).
    pub path: String,
    /// What the spec declares there.
    pub expected: &'static str,
    /// The value as sent (a JSON number or bool as its JSON text).
    pub text: String,
}

/// The values of one decoded object that did not read as their declared type, by wire key
/// (`date`; `media[2]` for an item of a list field, `media.3` for one of a map field).
///
/// Every generated struct has one, in its `unreadable` field; it is empty unless VoIP.ms sent
/// something odd, and then the field itself is `None` and the text is here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unreadable(Vec<(String, String)>);

impl Unreadable {
    /// The text of the unreadable value under `key`, if there was one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// No value was unreadable.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(key, text)` pairs in body order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// A value that can be read out of a JSON value. `Ok(None)` means "not set".
pub trait Decode: Sized {
    /// A scalar: a JSON scalar that does not read as this type is kept as text (unreadable)
    /// rather than failing the response.
    const SCALAR: bool = false;
    /// Decodes `value`; `null` and the type's own "not set" forms give `Ok(None)`.
    fn decode<'v>(value: &'v Value, cx: &mut Cx<'v>) -> Result<Option<Self>, DecodeError>;

    /// A closed set's catch-all (`Other(text)`): the value is kept, and reported as drift.
    fn is_other(&self) -> bool {
        false
    }
}

/// Reads a scalar of a closed set of values through `from_wire`: a string (trimmed) or a number's
/// text; `""` and `null` give `None`. Used by the generated shared enums.
pub fn closed<T>(
    value: &Value,
    from_wire: impl FnOnce(&str) -> T,
) -> Result<Option<T>, DecodeError> {
    match value {
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(from_wire(s.trim()))),
        Value::Number(n) => Ok(Some(from_wire(&n.to_string()))),
        Value::Null => Ok(None),
        other => Err(DecodeError::new("text", other)),
    }
}

/// Decodes a whole response body (the object with `status`) into `T`, dropping the drift.
pub fn decode_response<T: Decode + Default>(body: &Value) -> Result<T, DecodeError> {
    decode_with_drift(body).map(|(t, _)| t)
}

/// Decodes a whole response body into `T`, with the keys it did not read and the values it could
/// not read.
pub fn decode_with_drift<T: Decode + Default>(body: &Value) -> Result<(T, Drift), DecodeError> {
    let mut cx = Cx::new();
    let t = T::decode(body, &mut cx)?.unwrap_or_default();
    Ok((t, cx.into_drift()))
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

/// Reads the fields of one object for a generated struct, counting the keys it finds so that
/// [`finish`](Reader::finish) can tell cheaply whether any key went unread.
pub struct Reader<'a, 'v> {
    obj: &'v Map<String, Value>,
    /// The object's entries in iteration order, and the one a lookup tries first: generated
    /// decoders read their fields in key order, so against a sorted map nearly every lookup is
    /// one comparison with the next entry instead of a search.
    entries: serde_json::map::Iter<'v>,
    next: Option<(&'v String, &'v Value)>,
    cx: &'a mut Cx<'v>,
    seen: usize,
    unreadable: Unreadable,
}

impl fmt::Debug for Reader<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("keys", &self.obj.len())
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

impl<'a, 'v> Reader<'a, 'v> {
    /// A reader over `value`, or `None` when the value is an absent record (see [`object`]).
    pub fn new(value: &'v Value, cx: &'a mut Cx<'v>) -> Result<Option<Self>, DecodeError> {
        Ok(object(value)?.map(|obj| {
            let mut entries = obj.iter();
            let next = entries.next();
            Reader {
                obj,
                entries,
                next,
                cx,
                seen: 0,
                unreadable: Unreadable::default(),
            }
        }))
    }

    fn lookup(&mut self, keys: &[&str]) -> Option<(&'v Value, &'v str)> {
        let first = keys.first().copied().unwrap_or_default();
        // The next entry, or the one after it (a key no field reads in between).
        if let Some((k, v)) = self.next {
            if k == first {
                self.next = self.entries.next();
                self.seen += 1;
                return Some((v, k.as_str()));
            }
            let mut ahead = self.entries.clone();
            if let Some((k, v)) = ahead.next()
                && k == first
            {
                self.next = ahead.next();
                self.entries = ahead;
                self.seen += 1;
                return Some((v, k.as_str()));
            }
        }
        let obj = self.obj;
        let found = keys
            .iter()
            .find_map(|k| obj.get_key_value(*k).map(|(k, v)| (v, k.as_str())));
        if found.is_some() {
            self.seen += 1;
        }
        found
    }

    /// Decodes one item; a scalar that does not read is recorded under `key` and gives `None`.
    fn item<T: Decode>(
        &mut self,
        v: &'v Value,
        key: impl FnOnce() -> String,
        seg: Option<&str>,
    ) -> Result<Option<T>, DecodeError> {
        match T::decode(v, self.cx) {
            Ok(Some(x)) if x.is_other() => {
                self.cx
                    .unreadable(seg, "one of the values the spec lists (kept as `Other`)", v);
                Ok(Some(x))
            }
            Ok(x) => Ok(x),
            Err(e) if T::SCALAR && is_scalar(v) => {
                self.cx.unreadable(seg, e.expected(), v);
                self.unreadable.0.push((key(), scalar_text(v)));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// An optional field: absent or "not set" gives `None`.
    pub fn field<T: Decode>(&mut self, keys: &[&str]) -> Result<Option<T>, DecodeError> {
        let Some((v, k)) = self.lookup(keys) else {
            return Ok(None);
        };
        if T::SCALAR {
            return self
                .item(v, || k.to_owned(), Some(k))
                .map_err(|e| e.at_key(k));
        }
        self.cx.path.push(Seg::Key(k));
        let r = T::decode(v, self.cx);
        self.cx.path.pop();
        r.map_err(|e| e.at_key(k))
    }

    /// An optional scalar field whose listed wire values (`-1`, `""`) mean "not set".
    pub fn field_none_if<T: Decode>(
        &mut self,
        keys: &[&str],
        none_if: &[&str],
    ) -> Result<Option<T>, DecodeError> {
        let Some((v, k)) = self.lookup(keys) else {
            return Ok(None);
        };
        let hit = match v {
            Value::String(s) => none_if.contains(&s.as_str()),
            Value::Number(n) => none_if.contains(&n.to_string().as_str()),
            _ => false,
        };
        if hit {
            return Ok(None);
        }
        self.item(v, || k.to_owned(), Some(k))
            .map_err(|e| e.at_key(k))
    }

    /// A list field: absent or empty gives an empty list; a single item stands for a one-item
    /// list; an unreadable scalar item is left out (and recorded).
    pub fn list<T: Decode>(&mut self, keys: &[&str]) -> Result<Vec<T>, DecodeError> {
        let Some((v, k)) = self.lookup(keys) else {
            return Ok(Vec::new());
        };
        self.cx.path.push(Seg::Key(k));
        let r = self.list_items(v, k);
        self.cx.path.pop();
        r.map_err(|e| e.at_key(k))
    }

    fn list_items<T: Decode>(&mut self, v: &'v Value, k: &str) -> Result<Vec<T>, DecodeError> {
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                self.array_items(items, k, |_, x| out.push(x))?;
                Ok(out)
            }
            Value::Null | Value::Bool(false) => Ok(Vec::new()),
            Value::String(s) if s.is_empty() => Ok(Vec::new()),
            single => Ok(self
                .item(single, || k.to_owned(), None)?
                .into_iter()
                .collect()),
        }
    }

    /// Decodes each item of an array (path `k[i]`), handing the readable ones to `put`.
    fn array_items<T: Decode>(
        &mut self,
        items: &'v [Value],
        k: &str,
        mut put: impl FnMut(usize, T),
    ) -> Result<(), DecodeError> {
        for (i, item) in items.iter().enumerate() {
            self.cx.path.push(Seg::Index(i));
            let r = self.item(item, || format!("{k}[{i}]"), None);
            self.cx.path.pop();
            if let Some(x) = r.map_err(|e| e.at_index(i))? {
                put(i, x);
            }
        }
        Ok(())
    }

    /// A map field whose keys are data (`{"1": "https://…"}`). An array is read as the map keyed
    /// `0`, `1`, … (VoIP.ms sends a map whose keys are `0..n-1` as a JSON array).
    pub fn map<T: Decode>(&mut self, keys: &[&str]) -> Result<BTreeMap<String, T>, DecodeError> {
        let Some((v, k)) = self.lookup(keys) else {
            return Ok(BTreeMap::new());
        };
        self.cx.path.push(Seg::Key(k));
        let r = self.map_items(v, k);
        self.cx.path.pop();
        r.map_err(|e| e.at_key(k))
    }

    fn map_items<T: Decode>(
        &mut self,
        v: &'v Value,
        k: &str,
    ) -> Result<BTreeMap<String, T>, DecodeError> {
        let mut out = BTreeMap::new();
        match v {
            Value::Object(m) => {
                for (key, item) in m {
                    self.cx.path.push(Seg::Key(key));
                    let r = self.item(item, || format!("{k}.{key}"), None);
                    self.cx.path.pop();
                    if let Some(x) = r.map_err(|e| e.at_key(key))? {
                        out.insert(key.clone(), x);
                    }
                }
            }
            Value::Array(items) => {
                self.array_items(items, k, |i, x| {
                    out.insert(i.to_string(), x);
                })?;
            }
            Value::Null | Value::Bool(false) => {}
            Value::String(s) if s.is_empty() => {}
            other => return Err(DecodeError::new("an object keyed by data", other)),
        }
        Ok(out)
    }

    /// Ends the object: records the keys not in `declared` as unread when fewer keys were read
    /// than the object has, and hands back the unreadable values.
    pub fn finish(self, declared: &[&str]) -> Unreadable {
        if self.seen < self.obj.len() {
            for key in self.obj.keys() {
                if !declared.contains(&key.as_str()) {
                    self.cx.unread(key);
                }
            }
        }
        self.unreadable
    }
}

/// Records every key of a status-only answer but `status` as unread.
pub fn status_only<'v>(value: &'v Value, cx: &mut Cx<'v>) {
    if let Value::Object(m) = value {
        for key in m.keys().filter(|k| *k != "status") {
            cx.unread(key);
        }
    }
}

macro_rules! scalar {
    ($t:ty, $v:ident => $body:expr) => {
        impl Decode for $t {
            const SCALAR: bool = true;
            fn decode<'v>($v: &'v Value, _cx: &mut Cx<'v>) -> Result<Option<Self>, DecodeError> {
                $body
            }
        }
    };
}

/// Reads one scalar outside a response (for tests and helpers).
pub fn scalar<T: Decode>(value: &Value) -> Result<Option<T>, DecodeError> {
    T::decode(value, &mut Cx::new())
}

scalar!(String, value => match value {
    Value::String(s) => Ok(Some(s.clone())),
    Value::Number(n) => Ok(Some(n.to_string())),
    Value::Bool(b) => Ok(Some(b.to_string())),
    Value::Null => Ok(None),
    other => Err(DecodeError::new("text", other)),
});

scalar!(i64, value => match value {
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
});

scalar!(Decimal, value => {
    let expected = "a decimal number";
    match value {
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                Ok(None)
            } else {
                Decimal::parse(t).map(Some).map_err(|_| DecodeError::new(expected, value))
            }
        }
        Value::Number(n) => Decimal::parse(&n.to_string())
            .map(Some)
            .map_err(|_| DecodeError::new(expected, value)),
        Value::Null => Ok(None),
        other => Err(DecodeError::new(expected, other)),
    }
});

scalar!(bool, value => {
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
});

fn zero_date(t: &str) -> bool {
    t.is_empty() || t.starts_with("0000-00-00")
}

scalar!(Date, value => {
    let expected = "a date (YYYY-MM-DD)";
    match value {
        Value::String(s) => {
            let t = s.trim();
            if zero_date(t) {
                return Ok(None);
            }
            let day = t.get(..10).unwrap_or(t);
            fast_date(day.as_bytes())
                .or_else(|| Date::parse_from_str(day, "%Y-%m-%d").ok())
                .map(Some)
                .ok_or_else(|| DecodeError::new(expected, value))
        }
        Value::Null | Value::Bool(false) => Ok(None),
        other => Err(DecodeError::new(expected, other)),
    }
});

scalar!(DateTime, value => {
    let expected = "a date and time (YYYY-MM-DD HH:MM:SS)";
    match value {
        Value::String(s) => {
            let t = s.trim();
            if zero_date(t) {
                return Ok(None);
            }
            parse_datetime(t).map(Some).ok_or_else(|| DecodeError::new(expected, value))
        }
        Value::Null | Value::Bool(false) => Ok(None),
        other => Err(DecodeError::new(expected, other)),
    }
});

fn parse_datetime(t: &str) -> Option<DateTime> {
    // The wire's own layout, read without a format string (10,000-row CDR answers are common).
    let b = t.as_bytes();
    if b.len() == 19 && b[10] == b' ' && b[13] == b':' && b[16] == b':' {
        let (h, mi, sec) = (
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
        return fast_date(&b[..10])?.and_hms_opt(h, mi, sec);
    }
    DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
        .or_else(|_| Date::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_time(Default::default())))
        .ok()
}

/// `YYYY-MM-DD` from its bytes; `None` unless it is exactly that and a real day.
fn fast_date(b: &[u8]) -> Option<Date> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = i32::try_from(digits(&b[..4])?).ok()?;
    Date::from_ymd_opt(y, digits(&b[5..7])?, digits(&b[8..10])?)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

scalar!(DateOrPeriod, value => {
    let expected = "a date, a date and time, or a period (YYYY-MM-DD to YYYY-MM-DD)";
    match value {
        Value::String(s) => {
            let t = s.trim();
            if zero_date(t) {
                return Ok(None);
            }
            DateOrPeriod::parse(t).map(Some).ok_or_else(|| DecodeError::new(expected, value))
        }
        Value::Null | Value::Bool(false) => Ok(None),
        other => Err(DecodeError::new(expected, other)),
    }
});

scalar!(Limit, value => {
    if let Value::String(s) = value
        && s.trim().eq_ignore_ascii_case("unlimited")
    {
        return Ok(Some(Limit::Unlimited));
    }
    scalar::<i64>(value)
        .map(|n| n.map(Limit::Count))
        .map_err(|_| DecodeError::new("a number or `Unlimited`", value))
});

impl Decode for Value {
    fn decode<'v>(value: &'v Value, _cx: &mut Cx<'v>) -> Result<Option<Self>, DecodeError> {
        match value {
            Value::Null => Ok(None),
            v => Ok(Some(v.clone())),
        }
    }
}

/// The typed value as JSON (wire keys, typed values: numbers, bools, exact decimals and dates as
/// text), for tools that print what a response decoded to.
pub trait ToJson {
    /// This value as JSON.
    fn to_json(&self) -> Value;
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}
impl ToJson for i64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}
impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}
impl ToJson for Decimal {
    fn to_json(&self) -> Value {
        Value::String(self.to_string())
    }
}
impl ToJson for Date {
    fn to_json(&self) -> Value {
        Value::String(self.format("%Y-%m-%d").to_string())
    }
}
impl ToJson for DateTime {
    fn to_json(&self) -> Value {
        Value::String(self.format("%Y-%m-%d %H:%M:%S").to_string())
    }
}
impl ToJson for DateOrPeriod {
    fn to_json(&self) -> Value {
        Value::String(self.to_string())
    }
}
impl ToJson for Limit {
    fn to_json(&self) -> Value {
        match self {
            Limit::Unlimited => Value::String("Unlimited".into()),
            Limit::Count(n) => Value::from(*n),
        }
    }
}
impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}
impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToJson::to_json)
    }
}
impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}
impl<T: ToJson> ToJson for BTreeMap<String, T> {
    fn to_json(&self) -> Value {
        Value::Object(self.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
    }
}
impl ToJson for Unreadable {
    fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

/// A decoded response of any method, for tools that pick the method at run time.
pub trait Typed: fmt::Debug + Send + Sync {
    /// The typed value as JSON.
    fn to_json(&self) -> Value;
}

impl<T: ToJson + fmt::Debug + Send + Sync> Typed for T {
    fn to_json(&self) -> Value {
        ToJson::to_json(self)
    }
}

/// What [`decode_by_name`](crate::api::decode_by_name) gives: the typed value and its drift.
#[derive(Debug)]
pub struct Decoded {
    /// The typed response.
    pub value: Box<dyn Typed>,
    /// Keys not read and values not readable.
    pub drift: Drift,
}

/// Decodes `body` as `T` into a [`Decoded`] (used by the generated `decode_by_name`).
pub fn decode_boxed<T: Decode + Default + ToJson + fmt::Debug + Send + Sync + 'static>(
    body: &Value,
) -> Result<Decoded, DecodeError> {
    decode_with_drift::<T>(body).map(|(v, drift)| Decoded {
        value: Box::new(v),
        drift,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one<T: Decode>(v: Value) -> Result<Option<T>, DecodeError> {
        scalar::<T>(&v)
    }

    #[test]
    fn fields_are_found_in_any_order_around_unknown_keys() {
        // Key order, out of order, unknown keys before, between (one and two) and after, an alias.
        let v = json!({"a0": 1, "b": "2", "bb": 0, "c": "3", "cc": 0, "cd": 0, "d": "4",
                       "old_e": "5", "zz": 0});
        for order in [
            ["b", "c", "d", "e"],
            ["d", "c", "b", "e"],
            ["e", "b", "d", "c"],
        ] {
            let mut cx = Cx::new();
            let mut r = Reader::new(&v, &mut cx).unwrap().unwrap();
            let mut got = Vec::new();
            for k in order {
                let keys: &[&str] = if k == "e" { &["e", "old_e"] } else { &[k] };
                got.push((k, r.field::<String>(keys).unwrap()));
            }
            assert_eq!(r.field::<String>(&["missing"]).unwrap(), None);
            r.finish(&["b", "c", "d", "e", "old_e"]);
            for (k, value) in got {
                let want = match k {
                    "b" => "2",
                    "c" => "3",
                    "d" => "4",
                    _ => "5",
                };
                assert_eq!(value.as_deref(), Some(want), "{order:?}: {k}");
            }
            let unread = cx.into_drift().unread().to_vec();
            assert_eq!(
                unread,
                ["$.a0", "$.bb", "$.cc", "$.cd", "$.zz"],
                "{order:?}"
            );
        }
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
        assert!(
            one::<DateOrPeriod>(json!("2026-08-01 to 2026-08-31"))
                .unwrap()
                .is_some()
        );
        assert!(one::<DateOrPeriod>(json!("soon")).is_err());
    }

    #[test]
    fn decimals_and_limits() {
        let d = one::<Decimal>(json!("112.192790")).unwrap().unwrap();
        assert_eq!(d.to_string(), "112.192790");
        assert_eq!(
            one::<Decimal>(json!(1.5)).unwrap().unwrap().to_string(),
            "1.5"
        );
        assert!(one::<Decimal>(json!("1e5")).is_err());
        assert_eq!(
            one::<Limit>(json!("Unlimited")).unwrap(),
            Some(Limit::Unlimited)
        );
        assert_eq!(one::<Limit>(json!("10")).unwrap(), Some(Limit::Count(10)));
    }

    #[derive(Debug, Default, PartialEq)]
    struct Row {
        n: Option<i64>,
        tags: Vec<i64>,
        unreadable: Unreadable,
    }

    impl Decode for Row {
        fn decode<'v>(v: &'v Value, cx: &mut Cx<'v>) -> Result<Option<Self>, DecodeError> {
            let Some(mut r) = Reader::new(v, cx)? else {
                return Ok(None);
            };
            Ok(Some(Row {
                n: r.field(&["n", "number"])?,
                tags: r.list(&["tags"])?,
                unreadable: r.finish(&["n", "number", "tags"]),
            }))
        }
    }

    #[derive(Debug, Default)]
    struct Body {
        rows: Vec<Row>,
        media: BTreeMap<String, String>,
    }

    impl Decode for Body {
        fn decode<'v>(v: &'v Value, cx: &mut Cx<'v>) -> Result<Option<Self>, DecodeError> {
            let Some(mut r) = Reader::new(v, cx)? else {
                return Ok(None);
            };
            let rows = r.list(&["rows"])?;
            let media = r.map(&["media"])?;
            r.finish(&["status", "rows", "media"]);
            Ok(Some(Body { rows, media }))
        }
    }

    #[test]
    fn lists_accept_single_objects_and_errors_carry_paths() {
        let (b, drift) = decode_with_drift::<Body>(&json!({"rows": {"n": "1"}})).unwrap();
        assert_eq!(b.rows.len(), 1);
        assert_eq!(b.rows[0].n, Some(1));
        assert!(drift.is_empty());
        let err = decode_response::<Body>(&json!({"rows": [{"n": "1"}, {"n": {}}]})).unwrap_err();
        assert_eq!(err.path(), "$.rows[1].n");
        assert_eq!(
            err.to_string(),
            "at `$.rows[1].n`: expected an integer, found {}"
        );
    }

    #[test]
    fn unreadable_items_and_unread_keys_are_recorded_with_paths() {
        let body = json!({
            "status": "success",
            "rows": [{"number": "x", "tags": [1, "two", 3], "odd": 1}, {"n": 2, "odd": 2}],
            "media": {"1": "https://a", "2": {"deep": 1}},
        });
        let err = decode_response::<Body>(&body).unwrap_err();
        assert_eq!(err.path(), "$.media.2");
        let body = json!({
            "status": "success",
            "rows": [{"number": "x", "tags": [1, "two", 3], "odd": 1}, {"n": 2, "odd": 2}],
            "media": ["https://a"],
            "later": true,
        });
        let (b, drift) = decode_with_drift::<Body>(&body).unwrap();
        assert_eq!(b.rows[0].n, None);
        assert_eq!(b.rows[0].tags, [1, 3]);
        assert_eq!(b.rows[0].unreadable.get("number"), Some("x"));
        assert_eq!(b.rows[0].unreadable.get("tags[1]"), Some("two"));
        assert_eq!(b.rows[1].n, Some(2));
        assert_eq!(b.media["0"], "https://a");
        assert_eq!(drift.unread(), ["$.rows[0].odd", "$.later"]);
        let paths: Vec<&str> = drift.unreadable().iter().map(|u| u.path.as_str()).collect();
        assert_eq!(paths, ["$.rows[0].number", "$.rows[0].tags[1]"]);
    }
}
