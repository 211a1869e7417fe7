//! Answers built from the spec's example responses, parsed once.
//!
//! Methods without a simulated domain (queues, IVRs, fax, LNP, reseller, …) are validated and then
//! answered from their example. The answer still follows the request where it can: an id filter
//! that names a field of the listed rows keeps only the matching rows (and gives the method's
//! `no_*` status when none match), and a `set*` call that passes an id gets that id echoed back.

use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::catalog::{METHODS, Method, ParamKind};

use super::validate::{Args, Fail, normalize_phone, plans};

/// One method's example: parsed, and serialized the way the sandbox sends bodies.
#[derive(Debug)]
pub(crate) struct Cached {
    pub(crate) value: Value,
    pub(crate) bytes: Bytes,
}

/// The list fields VoIP.ms sends as a bare object when they hold one item (NOTES §4).
const SINGLE_OBJECT_LISTS: &[(&str, &str)] = &[
    ("getVoicemailMessageFile", "message"),
    ("getRecordingFile", "recordings"),
    ("getConferenceRecordingFile", "recording"),
];

/// Parameters that never filter an example's rows.
const NOT_FILTERS: &[&str] = &[
    "test",
    "limit",
    "client",
    "timezone",
    "all_messages",
    "format",
];

/// Every method's example, indexed like [`METHODS`].
pub(crate) fn cache() -> &'static [Cached] {
    static CACHE: OnceLock<Vec<Cached>> = OnceLock::new();
    CACHE.get_or_init(|| {
        METHODS
            .iter()
            .map(|m| {
                // The spec's examples are checked by `cargo xtask regen`; a broken one still
                // must not take the sandbox down, so it degrades to a bare success.
                let mut value: Value = serde_json::from_str(m.example)
                    .unwrap_or_else(|_| serde_json::json!({"status": "success"}));
                if let Some((_, key)) = SINGLE_OBJECT_LISTS.iter().find(|(n, _)| *n == m.name) {
                    unwrap_single(&mut value, key);
                }
                let bytes = Bytes::from(to_body(&value));
                Cached { value, bytes }
            })
            .collect()
    })
}

/// The parsed example of a method by wire name.
pub(crate) fn example(name: &str) -> &'static Value {
    let i = METHODS
        .binary_search_by(|m| m.name.cmp(name))
        .unwrap_or_else(|_| panic!("{name} is not in the catalog"));
    &cache()[i].value
}

/// Turns a one-element array under `key` into the element itself.
pub(crate) fn unwrap_single(value: &mut Value, key: &str) {
    if let Some(slot) = value.get_mut(key)
        && let Value::Array(items) = slot
        && items.len() == 1
    {
        let one = items.pop().unwrap_or(Value::Null);
        *slot = one;
    }
}

/// Serializes a response object with `status` first, as VoIP.ms writes it.
pub(crate) fn to_body(value: &Value) -> Vec<u8> {
    let Value::Object(map) = value else {
        return serde_json::to_vec(value).unwrap_or_default();
    };
    let status = map
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("success");
    body_with_status(status, map)
}

/// `{"status":STATUS, …map without status…}`.
pub(crate) fn body_with_status(status: &str, map: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"{\"status\":");
    // Serializing a &str or a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, status);
    for (k, v) in map {
        if k == "status" {
            continue;
        }
        out.push(b',');
        let _ = serde_json::to_writer(&mut out, k);
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, v);
    }
    out.push(b'}');
    out
}

/// The answer of a method without a simulated domain.
pub(crate) fn answer(index: usize, args: &Args<'_>) -> Result<ExampleAnswer, Fail> {
    let m = &METHODS[index];
    let cached = &cache()[index];
    let Value::Object(map) = &cached.value else {
        return Ok(ExampleAnswer::Cached(cached.bytes.clone()));
    };
    let mut out: Option<Map<String, Value>> = None;

    // Filters: optional parameters naming a field of the listed rows.
    if let Some((key, rows)) = map.iter().find_map(|(k, v)| match v {
        Value::Array(rows) if rows.iter().all(Value::is_object) && !rows.is_empty() => {
            Some((k, rows))
        }
        _ => None,
    }) {
        let optional: Vec<_> = m
            .params
            .iter()
            .filter(|p| !p.required && !NOT_FILTERS.contains(&p.name))
            .collect();
        let mut kept: Option<Vec<Value>> = None;
        for p in &optional {
            let Some(wanted) = args.get(p.name) else {
                continue;
            };
            let field = if rows.iter().any(|r| r.get(p.name).is_some()) {
                p.name
            } else if optional.len() == 1 && rows.iter().all(|r| r.get("value").is_some()) {
                "value"
            } else {
                continue;
            };
            let current = kept.take().unwrap_or_else(|| rows.clone());
            let filtered: Vec<Value> = current
                .into_iter()
                .filter(|row| matches(row.get(field), wanted, p.kind))
                .collect();
            if filtered.is_empty() {
                return Err(nothing_matches(m, index, p.name));
            }
            kept = Some(filtered);
        }
        if let Some(rows) = kept {
            let o = out.get_or_insert_with(|| map.clone());
            o.insert(key.clone(), Value::Array(rows));
        }
    }

    // Echo ids: a top-level scalar named like a parameter that was sent (`setQueue?queue=12` →
    // `"queue": "12"`).
    for (k, v) in map {
        if k == "status" || v.is_array() || v.is_object() {
            continue;
        }
        if let Some(given) = args.get(k)
            && m.param(k).is_some()
            && v.as_str() != Some(given)
        {
            let o = out.get_or_insert_with(|| map.clone());
            o.insert(k.clone(), Value::String(given.to_owned()));
        }
    }

    Ok(match out {
        Some(o) => ExampleAnswer::Built(Value::Object(o)),
        None => ExampleAnswer::Cached(cached.bytes.clone()),
    })
}

/// An example-based answer: the cached bytes, or a changed copy.
#[derive(Debug)]
pub(crate) enum ExampleAnswer {
    Cached(Bytes),
    Built(Value),
}

fn matches(field: Option<&Value>, wanted: &str, kind: ParamKind) -> bool {
    let text = match field {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => u8::from(*b).to_string(),
        _ => return false,
    };
    if text == wanted {
        return true;
    }
    match kind {
        ParamKind::Phone => {
            normalize_phone(&text).is_some_and(|a| Some(a) == normalize_phone(wanted))
        }
        ParamKind::Integer => text.trim_start_matches('0') == wanted.trim_start_matches('0'),
        _ => text.eq_ignore_ascii_case(wanted),
    }
}

/// The status for a filter that matched nothing: the method's `no_*` status, else the filter
/// parameter's `invalid_*` status.
pub(crate) fn nothing_matches(m: &Method, index: usize, param: &str) -> Fail {
    if let Some(s) = m.empty_statuses.first() {
        return Fail::new(s);
    }
    let invalid = plans()[index]
        .params
        .iter()
        .find(|p| p.param.name == param)
        .and_then(|p| p.invalid);
    Fail::msg(
        invalid.unwrap_or("missing_params"),
        format!("{}: no record has {param} = the value given", m.name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(name: &str) -> usize {
        METHODS.iter().position(|m| m.name == name).unwrap()
    }

    #[test]
    fn every_example_parses_to_an_object_with_status_first() {
        for (m, c) in METHODS.iter().zip(cache()) {
            assert!(c.value.is_object(), "{}", m.name);
            assert!(c.bytes.starts_with(b"{\"status\":\""), "{}", m.name);
            let back: Value = serde_json::from_slice(&c.bytes).unwrap();
            assert_eq!(back, c.value, "{}", m.name);
        }
        assert!(example("getRecordingFile")["recordings"].is_object());
    }

    #[test]
    fn filters_and_echo() {
        let f = [("queue", "999999")];
        let e = answer(idx("getQueues"), &Args::new(&f)).unwrap_err();
        assert_eq!(e.status, "no_queue");
        let f = [("callparking", "737")];
        assert!(matches!(
            answer(idx("getCallParking"), &Args::new(&f)).unwrap(),
            ExampleAnswer::Built(_)
        ));
        let f = [("callback", "42")];
        let ExampleAnswer::Built(v) = answer(idx("setCallback"), &Args::new(&f)).unwrap() else {
            panic!("expected an echo");
        };
        assert_eq!(v["callback"], "42");
        let f = [("codec", "g729")];
        let ExampleAnswer::Built(v) = answer(idx("getAllowedCodecs"), &Args::new(&f)).unwrap()
        else {
            panic!("expected a filter");
        };
        assert_eq!(v["allowed_codecs"].as_array().unwrap().len(), 1);
    }
}
