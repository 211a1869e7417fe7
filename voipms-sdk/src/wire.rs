//! Request parameters as they go on the wire, and the encoders the generated requests use.
//!
//! VoIP.ms takes every parameter as text. Encoding happens here, once, instead of through serde:
//! flags as `1`/`0` or `yes`/`no`, lists joined with their separator, dates as `YYYY-MM-DD`.

use std::borrow::Cow;
use std::fmt;

/// Ordered wire parameters of one call (without the credentials, which the client adds).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    items: Vec<(Cow<'static, str>, String)>,
}

impl Params {
    /// An empty parameter list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a parameter. A later value for the same name replaces the earlier one.
    pub fn push(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        if let Some(slot) = self.items.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = value;
        } else {
            self.items.push((name, value));
        }
    }

    /// Builder form of [`Params::push`].
    pub fn with(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// The value of a parameter, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Removes a parameter and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let pos = self.items.iter().position(|(n, _)| n == name)?;
        Some(self.items.remove(pos).1)
    }

    /// Parameters in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.items.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Total bytes of names and values: the client switches to a multipart POST for large requests.
    pub fn encoded_len(&self) -> usize {
        self.items.iter().map(|(n, v)| n.len() + v.len() + 2).sum()
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values can be long base64 payloads: show their length instead.
        let mut m = f.debug_map();
        for (n, v) in &self.items {
            if v.len() > 120 {
                m.entry(&n, &format_args!("<{} bytes>", v.len()));
            } else {
                m.entry(&n, v);
            }
        }
        m.finish()
    }
}

impl<K: Into<Cow<'static, str>>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut p = Params::new();
        for (k, v) in iter {
            p.push(k, v);
        }
        p
    }
}

/// Encodes a flag that VoIP.ms spells `1`/`0`.
pub fn flag(v: bool) -> &'static str {
    if v { "1" } else { "0" }
}

/// Encodes a flag that VoIP.ms spells `yes`/`no`.
pub fn yes_no(v: bool) -> &'static str {
    if v { "yes" } else { "no" }
}

/// Joins list items with the separator the parameter uses (`;` or `,`).
pub fn join(items: &[String], separator: &str) -> String {
    items.join(separator)
}

/// Collects list items for a request setter.
pub fn list<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_replaces_and_keeps_order() {
        let mut p = Params::new();
        p.push("a", "1");
        p.push("b", "2");
        p.push("a", "3");
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![("a", "3"), ("b", "2")]);
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.remove("a").as_deref(), Some("3"));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn encoders() {
        assert_eq!(flag(true), "1");
        assert_eq!(flag(false), "0");
        assert_eq!(yes_no(true), "yes");
        assert_eq!(yes_no(false), "no");
        assert_eq!(join(&list(["1", "2", "3"]), ";"), "1;2;3");
    }

    #[test]
    fn debug_shortens_long_values() {
        let p = Params::new().with("file", "x".repeat(500));
        assert_eq!(format!("{p:?}"), r#"{"file": <500 bytes>}"#);
    }
}
