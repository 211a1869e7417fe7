//! The long tail: any catalog method from JSON arguments (validated by the catalog and the shared
//! kind table before anything is sent), method search, and method descriptions.

use serde_json::{Map, Value, json};
use voipms_sdk::catalog::{self, Method, ParamKind};
use voipms_sdk::{Params, status};

use crate::core::{encode, schema};
use crate::mcp::curated::value_text;
use crate::mcp::tools::method_input_schema;

pub use crate::core::encode::is_reserved;

/// The wire parameters of a call of `m` from JSON arguments (`dry_run` is not one of them).
/// Every problem is reported in one message naming the fields and what they accept.
pub fn params(m: &'static Method, args: &Map<String, Value>) -> Result<Params, String> {
    let today = encode::today();
    let mut problems = Vec::new();
    let mut given: Vec<(&'static catalog::Param, String)> = Vec::new();
    for (k, v) in args {
        if k == "dry_run" {
            continue;
        }
        if is_reserved(k) {
            problems.push(format!(
                "`{k}` cannot be given: the server adds the credentials and the method itself"
            ));
            continue;
        }
        let Some(p) = encode::find_param(m, k) else {
            let names: Vec<&str> = m.params.iter().map(|p| p.name).collect();
            problems.push(if names.is_empty() {
                format!("unknown parameter `{k}`: {} takes none", m.name)
            } else {
                format!(
                    "unknown parameter `{k}`: {} takes {}",
                    m.name,
                    names.join(", ")
                )
            });
            continue;
        };
        let raw = match (p.kind, v) {
            (ParamKind::List { separator }, Value::Array(items)) => {
                let mut texts = Vec::new();
                for item in items {
                    match value_text(item) {
                        Ok(Some(t)) => texts.push(t),
                        Ok(None) => {}
                        Err(e) => problems.push(format!("`{}`: {e}", p.name)),
                    }
                }
                Some(texts.join(separator))
            }
            _ => match value_text(v) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("`{}`: {e}", p.name));
                    continue;
                }
            },
        };
        if let Some(raw) = raw {
            given.push((p, raw));
        }
    }
    let mut out = Params::new();
    for p in m.params {
        match given.iter().find(|(g, _)| g.name == p.name) {
            None if p.required => {
                problems.push(format!("`{}` is required: {}", p.name, schema::accepts(p)))
            }
            None => {}
            Some((_, raw)) if raw.is_empty() && !p.required => out.push(p.name, ""),
            Some((_, raw)) => match encode::encode(p, raw, today) {
                Ok(v) => out.push(p.name, v),
                Err(e) => problems.push(format!("`{}`: {e}", p.name)),
            },
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "{}: {}. Nothing was sent; voipms_describe_method lists its parameters.",
            m.name,
            problems.join("; ")
        ))
    }
}

/// The method `name` names (wire name in any case, kebab or snake name), or a message with the
/// closest names.
pub fn resolve(name: &str) -> Result<&'static Method, String> {
    catalog::find_method(name).ok_or_else(|| {
        let wanted = name.to_ascii_lowercase();
        let mut scored: Vec<(f64, &str)> = catalog::METHODS
            .iter()
            .map(|m| (strsim::jaro_winkler(&wanted, &m.name.to_ascii_lowercase()), m.name))
            .filter(|(score, _)| *score > 0.85)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut close: Vec<&str> = scored.iter().take(3).map(|(_, n)| *n).collect();
        if close.is_empty() {
            close = search(name, 3).iter().map(|m| m.name).collect();
        }
        if close.is_empty() {
            format!("unknown method `{name}`; voipms_search_methods finds methods by words")
        } else {
            format!(
                "unknown method `{name}`; did you mean {}? voipms_search_methods finds methods by words",
                close.join(", ")
            )
        }
    })
}

/// Methods matching the words of `query`, best first.
pub fn search(query: &str, limit: usize) -> Vec<&'static Method> {
    let joined: String = query
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut scored: Vec<(u32, &'static Method)> = catalog::METHODS
        .iter()
        .filter_map(|m| {
            let name = m.name.to_lowercase();
            let summary = m.summary.to_lowercase();
            let cat = m.category.replace('_', " ");
            let mut score = 0;
            if !joined.is_empty() && name.contains(&joined) {
                score += 10;
            }
            for w in &words {
                let stem = w.strip_suffix('s').unwrap_or(w);
                if name == *w {
                    score += 20;
                }
                if name.contains(stem) {
                    score += 6;
                }
                if cat.contains(stem) {
                    score += 3;
                }
                if summary.contains(stem) {
                    score += 2;
                }
                if m.params.iter().any(|p| p.name.contains(stem)) {
                    score += 1;
                }
            }
            (score > 0).then_some((score, m))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(b.1.name)));
    scored.into_iter().take(limit).map(|(_, m)| m).collect()
}

/// A method's one-line listing.
pub fn brief(m: &Method) -> Value {
    json!({"method": m.name, "tool": format!("voipms_{}", m.rust_name), "effect": m.effect.as_str(), "summary": m.summary})
}

/// A method in full: what it does, its effect, its parameters as a JSON Schema, its statuses.
pub fn describe(m: &Method) -> Value {
    let statuses: Vec<Value> = m
        .empty_statuses
        .iter()
        .map(|s| {
            json!({"status": s, "meaning": status::status_info(s).map(|i| i.meaning), "empty_result": true})
        })
        .collect();
    json!({
        "method": m.name,
        "tool": format!("voipms_{}", m.rust_name),
        "category": m.category,
        "summary": m.summary,
        "description": m.description,
        "effect": m.effect.as_str(),
        "input_schema": method_input_schema(m),
        "statuses": statuses,
        "response_fields": m.response.iter().map(|f| f.name).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_validated_by_the_catalog() {
        let m = catalog::method("getCDR").unwrap();
        let mut a = Map::new();
        a.insert("date_from".into(), json!("2025-01-01"));
        a.insert("date_to".into(), json!("2025-01-31"));
        a.insert("timezone".into(), json!(-5));
        a.insert("answered".into(), json!(true));
        let p = params(m, &a).unwrap();
        assert_eq!(p.get("answered"), Some("1"));
        assert_eq!(p.get("timezone"), Some("-5"));
        // Fractions the live API honours, as a JSON number or as text.
        for (tz, sent) in [
            (json!(5.5), "5.5"),
            (json!("-3.5"), "-3.5"),
            (json!(9.75), "9.75"),
        ] {
            a.insert("timezone".into(), tz);
            assert_eq!(params(m, &a).unwrap().get("timezone"), Some(sent));
        }
        a.insert("timezone".into(), json!(5.3));
        assert!(params(m, &a).unwrap_err().contains("`timezone`"));
        a.insert("timezone".into(), json!(40));
        a.insert("api_password".into(), json!("x"));
        a.insert("bogus".into(), json!(1));
        a.remove("date_to");
        let e = params(m, &a).unwrap_err();
        for part in [
            "`timezone`",
            "`api_password` cannot",
            "unknown parameter `bogus`",
            "`date_to` is required",
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
        assert!(is_reserved("method[]") && is_reserved("api.password") && !is_reserved("did"));
    }

    #[test]
    fn search_finds_by_words() {
        let found = search("voicemail messages", 5);
        assert!(
            found.iter().any(|m| m.name == "getVoicemailMessages"),
            "{found:?}"
        );
        assert_eq!(resolve("getdidsinfo").unwrap().name, "getDIDsInfo");
        assert!(resolve("getBalanse").unwrap_err().contains("getBalance"));
    }
}
