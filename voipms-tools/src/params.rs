//! From command-line arguments to wire parameters: flag names, `key=value` arguments, positional
//! shortcuts, and the validation and encoding of every value by its kind.

use std::io::Read;

use base64::Engine;
use chrono::NaiveDate;
use voipms_sdk::Params;
use voipms_sdk::catalog::{Method, Param, ParamKind};

use crate::core::encode::{self as core_encode, norm};
pub use crate::core::encode::{find_param, parse_bool, parse_date, today};
use crate::core::schema;
use crate::exit::Failure;

/// The long flag of a parameter: kebab case of its wire name (`date_from` → `date-from`,
/// `firstName` → `first-name`).
pub fn long_name(wire: &str) -> String {
    let mut out = String::with_capacity(wire.len() + 4);
    let mut prev_lower = false;
    for c in wire.chars() {
        if c == '_' {
            out.push('-');
            prev_lower = false;
        } else if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// Other accepted long flags: the wire name and the snake-case form, where they differ.
pub fn long_aliases(wire: &str) -> Vec<String> {
    let long = long_name(wire);
    let snake = long.replace('-', "_");
    let mut out = Vec::new();
    for a in [wire.to_owned(), snake] {
        if a != long && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// How a value is written on the command line, for messages: `--date-from`.
pub fn flag_of(p: &Param) -> String {
    format!("--{}", long_name(p.name))
}

/// What a value of `p` looks like on the command line, for help and messages: the kind's forms
/// from the shared table, plus the command line's own ways to give files and lists.
pub fn kind_hint(p: &Param) -> String {
    match p.kind {
        ParamKind::List { separator } => {
            format!("items separated by `{separator}`, or the option repeated once per item")
        }
        ParamKind::Base64 => {
            "@FILE to send a file (read and base64-encoded), @- for stdin, or base64 text".into()
        }
        _ => schema::accepts(p),
    }
}

/// Validates one value of `p` as typed on the command line and returns its wire text. A base64
/// value written `@FILE` (or `@-`) is read from the file (or stdin) first.
pub fn encode(p: &Param, raw: &str, today: NaiveDate) -> Result<String, String> {
    if p.kind == ParamKind::Base64
        && let Some(path) = raw.trim().strip_prefix('@')
    {
        let bytes = if path == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            buf
        } else {
            std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?
        };
        return Ok(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    core_encode::encode_with(p, raw, today, kind_hint)
}

/// A value given on the command line, before validation.
#[derive(Debug, Clone)]
pub struct Given {
    /// The parameter.
    pub param: &'static Param,
    /// The text as typed.
    pub value: String,
}

/// Collects the parameters of a call of `m` from its flag values (`flags`, as clap parsed them,
/// in parameter order) and its free arguments (`key=value` and positional shortcuts). Every
/// problem is reported in one error; the result is in the catalog's parameter order.
pub fn collect(
    m: &'static Method,
    flags: Vec<Given>,
    free: &[String],
    today: NaiveDate,
) -> Result<Params, Failure> {
    let mut problems: Vec<String> = Vec::new();
    let mut given: Vec<Given> = flags;
    let mut bare: Vec<&str> = Vec::new();
    for arg in free {
        match arg.split_once('=') {
            Some((k, v)) if looks_like_key(k) => match find_param(m, k) {
                Some(p) => given.push(Given {
                    param: p,
                    value: v.to_owned(),
                }),
                None => problems.push(unknown_param(m, k)),
            },
            _ => bare.push(arg),
        }
    }
    for b in bare {
        let taken = |name: &str| given.iter().any(|g| g.param.name == name);
        let slot = m
            .cli
            .positional
            .iter()
            .find(|pos| !taken(pos.param) && pos.when.matches(b));
        match slot.and_then(|pos| m.param(pos.param)) {
            Some(p) => given.push(Given {
                param: p,
                value: b.to_owned(),
            }),
            None if m.cli.positional.is_empty() => problems.push(format!(
                "unexpected argument `{b}`: {} takes no positional argument; give parameters as \
                 --name VALUE or name=VALUE",
                m.name
            )),
            None => problems.push(format!("unexpected argument `{b}`: {}", positional_text(m))),
        }
    }
    let mut params = Params::new();
    let mut missing = Vec::new();
    for p in m.params {
        let values: Vec<&Given> = given.iter().filter(|g| g.param.name == p.name).collect();
        if values.is_empty() {
            if p.required {
                missing.push(p);
            }
            continue;
        }
        if let ParamKind::List { separator } = p.kind {
            let items: Vec<&str> = values.iter().map(|g| g.value.as_str()).collect();
            params.push(p.name, items.join(separator));
            continue;
        }
        if values.len() > 1 {
            let shown: Vec<String> = values.iter().map(|g| format!("`{}`", g.value)).collect();
            problems.push(format!(
                "{} given more than once ({}); give it once",
                flag_of(p),
                shown.join(", ")
            ));
            continue;
        }
        let raw = &values[0].value;
        if raw.is_empty() && !p.required {
            // An explicit empty value clears a field on some set* methods: send it as is.
            params.push(p.name, "");
            continue;
        }
        match encode(p, raw, today) {
            Ok(v) => params.push(p.name, v),
            Err(e) => problems.push(format!("{}: {e}", flag_of(p))),
        }
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .map(|p| {
                format!(
                    "{} <{}>{}",
                    flag_of(p),
                    p.kind.as_str(),
                    p.example
                        .map(|e| format!(" (e.g. {e})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        problems.push(format!(
            "missing required parameter{}: {}",
            if missing.len() == 1 { "" } else { "s" },
            list.join(", ")
        ));
    }
    if problems.is_empty() {
        return Ok(params);
    }
    let msg = if problems.len() == 1 {
        format!("{}: {}", m.name, problems[0])
    } else {
        let mut s = format!(
            "{}: {} problems with the parameters:",
            m.name,
            problems.len()
        );
        for p in &problems {
            s.push_str("\n  - ");
            s.push_str(p);
        }
        s
    };
    Err(nothing_sent(m, msg))
}

fn nothing_sent(m: &Method, mut msg: String) -> Failure {
    msg.push_str(&format!(
        "\nNothing was sent. `voipms help {}` lists every parameter.",
        m.name
    ));
    Failure::usage(msg)
}

/// The error for an unknown `--flag` on the command of `m`: the same as for an unknown `key=`
/// (did you mean, the parameters it takes), in flag form. `None` for other parse errors.
pub fn unknown_flag(m: &Method, e: &clap::Error) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = arg.split_once('=').map_or(arg.as_str(), |(k, _)| k);
    if !flag.starts_with("--") {
        return None;
    }
    Some(nothing_sent(
        m,
        format!("{}: {}", m.name, unknown_param(m, flag)),
    ))
}

fn looks_like_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An unknown parameter `key` (`key=` form, or `--flag` form when it starts with `--`).
fn unknown_param(m: &Method, key: &str) -> String {
    let as_flag = key.starts_with("--");
    let shown = |name: &str| {
        if as_flag {
            format!("--{}", long_name(name))
        } else {
            name.to_owned()
        }
    };
    let k = norm(key.trim_start_matches('-'));
    let best = m
        .params
        .iter()
        .map(|p| (strsim::jaro_winkler(&norm(p.name), &k), p))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| format!("; did you mean `{}`?", shown(p.name)))
        .unwrap_or_default();
    let names: Vec<String> = m.params.iter().map(|p| shown(p.name)).collect();
    let known = if names.is_empty() {
        format!("{} takes no parameters", m.name)
    } else {
        format!("{} takes: {}", m.name, names.join(", "))
    };
    format!(
        "unknown parameter `{key}`{best} ({known}; `voipms call` sends parameters the spec does \
         not know)"
    )
}

/// The positional shortcuts of `m` in words.
pub fn positional_text(m: &Method) -> String {
    let parts: Vec<String> = m
        .cli
        .positional
        .iter()
        .map(|pos| {
            let what = match pos.when {
                voipms_sdk::catalog::PositionalWhen::Digits => "a number",
                voipms_sdk::catalog::PositionalWhen::Any => "a value",
            };
            format!("{what} fills --{}", long_name(pos.param))
        })
        .collect();
    format!(
        "a bare argument fills the first of these that is still empty: {}",
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use voipms_sdk::catalog::find_method;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
    }

    fn run(method: &str, free: &[&str]) -> Result<Vec<(String, String)>, String> {
        let m = find_method(method).unwrap();
        let free: Vec<String> = free.iter().map(|s| (*s).to_owned()).collect();
        collect(m, Vec::new(), &free, day())
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .map_err(|f| f.message)
    }

    #[test]
    fn names() {
        assert_eq!(long_name("date_from"), "date-from");
        assert_eq!(long_name("firstName"), "first-name");
        assert_eq!(long_name("media1"), "media1");
        assert_eq!(long_aliases("date_from"), ["date_from"]);
        assert_eq!(long_aliases("firstName"), ["firstName", "first_name"]);
        assert!(long_aliases("did").is_empty());
    }

    #[test]
    fn positional_shortcuts() {
        assert_eq!(
            run("getPhonebook", &["16389"]).unwrap(),
            [("group".to_owned(), "16389".to_owned())]
        );
        assert_eq!(
            run("getPhonebook", &["Spam"]).unwrap(),
            [("group_name".to_owned(), "Spam".to_owned())]
        );
        assert_eq!(
            run("getPhonebookGroups", &["Spam"]).unwrap(),
            [("name".to_owned(), "Spam".to_owned())]
        );
        let e = run("getBalance", &["x"]).unwrap_err();
        assert!(e.contains("takes no positional"), "{e}");
    }

    #[test]
    fn values_are_validated_and_encoded() {
        let p = run(
            "getCDR",
            &[
                "date_from=-5d",
                "date-to=today",
                "timezone=-5",
                "answered=yes",
                "busy=false",
            ],
        )
        .unwrap();
        assert_eq!(
            p,
            [
                ("date_from", "2025-06-10"),
                ("date_to", "2025-06-15"),
                ("answered", "1"),
                ("busy", "0"),
                ("timezone", "-5")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let e = run(
            "getCDR",
            &["date_from=2025-13-01", "timezone=20", "answered=maybe"],
        )
        .unwrap_err();
        assert!(e.contains("4 problems"), "{e}");
        assert!(
            e.contains("--date-from: `2025-13-01` is not a valid date"),
            "{e}"
        );
        assert!(
            e.contains("missing required parameter: --date-to <date>"),
            "{e}"
        );
        assert!(e.contains("--timezone"), "{e}");
        let e = run("getSMS", &["type=maybe"]).unwrap_err();
        assert!(e.contains("1 (Received), 0 (Sent)"), "{e}");
        assert_eq!(
            run("getSMS", &["type=received"]).unwrap(),
            [("type".to_owned(), "1".to_owned())]
        );
        let e = run("getCDR", &["frm=1"]).unwrap_err();
        assert!(e.contains("unknown parameter `frm`"), "{e}");
    }

    #[test]
    fn missing_required_are_named_together() {
        let e = run("getCDR", &[]).unwrap_err();
        assert!(
            e.contains("missing required parameters: --date-from <date> (e.g."),
            "{e}"
        );
        assert!(e.contains("--date-to"), "{e}");
        assert!(e.contains("--timezone"), "{e}");
        assert!(e.contains("Nothing was sent"), "{e}");
    }
}
