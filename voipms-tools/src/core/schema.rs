//! One table of facts per parameter kind: its JSON type, format and pattern, and the forms a
//! value may take. The CLI's help and messages and the MCP input schemas both read it, so what
//! one front end accepts the other documents.

use serde_json::{Map, Value, json};
use voipms_sdk::catalog::{Param, ParamKind};

/// What is known about the values of one parameter kind.
#[derive(Debug, Clone, Copy)]
pub struct KindFacts {
    /// JSON Schema type of the value: `string`, `integer`, `number` or `boolean`.
    pub json_type: &'static str,
    /// JSON Schema `format`, where one fits.
    pub format: Option<&'static str>,
    /// JSON Schema `pattern`, where every accepted value matches it.
    pub pattern: Option<&'static str>,
    /// The accepted forms, in words (for help, messages and schema descriptions).
    pub accepts: &'static str,
}

/// The facts of `kind`. Enum, list and base64 values are described per parameter by
/// [`accepts`].
pub fn facts(kind: ParamKind) -> KindFacts {
    let f = |json_type, format, pattern, accepts| KindFacts {
        json_type,
        format,
        pattern,
        accepts,
    };
    match kind {
        ParamKind::String => f("string", None, None, "text"),
        ParamKind::Integer => f("integer", None, None, "a whole number"),
        ParamKind::Decimal => f(
            "string",
            None,
            Some(r"^-?[0-9]+(\.[0-9]+)?$"),
            "a decimal number such as 10.50",
        ),
        ParamKind::Flag | ParamKind::YesNo => f("boolean", None, None, "1/0, true/false or yes/no"),
        ParamKind::Date => f(
            "string",
            Some("date"),
            None,
            "YYYY-MM-DD, today, yesterday or -Nd (N days ago)",
        ),
        ParamKind::DateTime => f("string", None, None, "YYYY-MM-DD HH:MM:SS"),
        ParamKind::Enum => f("string", None, None, "one of the listed values"),
        ParamKind::Routing => f(
            "string",
            None,
            Some("^[a-z]+:"),
            "header:value, e.g. account:100001_VoIP, vm:101, fwd:1026, sys:hangup, none:",
        ),
        ParamKind::List { .. } => f("string", None, None, "a list of items"),
        ParamKind::Base64 => f("string", None, None, "base64 text"),
        ParamKind::Phone => f("string", None, None, "a phone number (digits)"),
        ParamKind::Email => f("string", Some("email"), None, "an e-mail address"),
        ParamKind::Url => f("string", None, None, "a URL"),
        ParamKind::TzOffset => f(
            "number",
            None,
            None,
            "hours from -12 to 13, whole or in quarter hours (5.5, 9.75)",
        ),
        ParamKind::Timezone => f(
            "string",
            None,
            None,
            "a time zone name from getTimezones, e.g. America/New_York",
        ),
    }
}

/// What a value of `p` may be, in words: the kind's forms, or the enum's values.
pub fn accepts(p: &Param) -> String {
    match p.kind {
        ParamKind::Enum => enum_values_text(p),
        ParamKind::List { separator } => format!("items separated by `{separator}`"),
        kind => facts(kind).accepts.to_owned(),
    }
}

/// `1 (Received), 0 (Sent)`.
pub fn enum_values_text(p: &Param) -> String {
    p.values
        .iter()
        .map(|v| {
            if v.name.eq_ignore_ascii_case(v.value) {
                v.value.to_owned()
            } else {
                format!("{} ({})", v.value, v.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON Schema of one parameter's value.
pub fn param_schema(p: &Param) -> Value {
    let facts = facts(p.kind);
    let mut s = Map::new();
    s.insert("type".into(), json!(facts.json_type));
    if let Some(format) = facts.format {
        s.insert("format".into(), json!(format));
    }
    if let Some(pattern) = facts.pattern {
        s.insert("pattern".into(), json!(pattern));
    }
    match p.kind {
        ParamKind::Enum => {
            s.insert(
                "enum".into(),
                Value::Array(p.values.iter().map(|v| json!(v.value)).collect()),
            );
        }
        ParamKind::TzOffset => {
            s.insert("minimum".into(), json!(-12));
            s.insert("maximum".into(), json!(13));
            // The live API honours fractions; real zones are off the hour by 30 or 45 minutes.
            s.insert("multipleOf".into(), json!(0.25));
        }
        ParamKind::List { .. } => {
            // An array of items, or the items already joined.
            s.remove("type");
            s.insert(
                "anyOf".into(),
                json!([{"type": "array", "items": {"type": "string"}}, {"type": "string"}]),
            );
        }
        _ => {}
    }
    let mut description = p.description.trim().to_owned();
    let enum_docs: Vec<String> = p
        .values
        .iter()
        .filter(|v| !v.name.eq_ignore_ascii_case(v.value))
        .map(|v| format!("{}={}", v.value, v.name))
        .collect();
    if p.kind == ParamKind::Enum && !enum_docs.is_empty() {
        push_sentence(&mut description, &enum_docs.join(", "));
    } else if matches!(
        p.kind,
        ParamKind::Date | ParamKind::DateTime | ParamKind::Routing | ParamKind::Decimal
    ) {
        push_sentence(&mut description, facts.accepts);
    }
    if !description.is_empty() {
        s.insert("description".into(), Value::String(description));
    }
    Value::Object(s)
}

fn push_sentence(text: &mut String, more: &str) {
    if !text.is_empty() && !text.ends_with('.') {
        text.push('.');
    }
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(more);
}

#[cfg(test)]
mod tests {
    use super::*;
    use voipms_sdk::catalog::find_method;

    #[test]
    fn schemas_follow_the_kind_table() {
        let m = find_method("getCDR").unwrap();
        let s = param_schema(m.param("date_from").unwrap());
        assert_eq!(s["type"], "string");
        assert_eq!(s["format"], "date");
        assert!(s["description"].as_str().unwrap().contains("-Nd"));
        let s = param_schema(m.param("answered").unwrap());
        assert_eq!(s["type"], "boolean");
        let s = param_schema(m.param("timezone").unwrap());
        assert_eq!(s["minimum"], -12);
        assert_eq!(s["type"], "number");
        assert_eq!(s["multipleOf"], 0.25);
        let m = find_method("getSMS").unwrap();
        let s = param_schema(m.param("type").unwrap());
        assert_eq!(s["enum"], json!(["1", "0"]));
    }
}
