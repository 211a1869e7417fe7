//! The tool table: the curated tools, the three long-tail tools, and one generated tool per
//! catalog method; their toolsets, input and output schemas and annotations; and the selection
//! `--toolsets`, `--tools`, `--exclude-tools` and `--read-only` make of them.
//!
//! Names are a contract with agents and are snapshot-tested (`tests/cli/mcp.rs`).

use std::collections::BTreeSet;
use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use voipms_sdk::catalog::{self, Effect, Method};

use crate::core::schema;
use crate::mcp::curated::{self, Curated};

/// The prefix of every tool name.
pub const PREFIX: &str = "voipms_";

/// The toolsets on when `--toolsets` is not given (and what `default` stands for).
pub const DEFAULT_TOOLSETS: &[&str] = &["core", "spam", "methods"];

/// The curated toolsets, with what each holds.
pub const CURATED_TOOLSETS: &[(&str, &str)] = &[
    (
        "core",
        "balance, phonebook, Caller ID filters, accounts, recordings, recent calls",
    ),
    (
        "spam",
        "inspect numbers, suggest spam callers, mark and unmark",
    ),
    (
        "methods",
        "search, describe and call any of the API's methods",
    ),
];

/// What a tool runs.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A hand-written tool over the SDK's helpers.
    Curated(Curated),
    /// One catalog method, called as it is.
    Method(&'static Method),
    /// `voipms_search_methods`.
    Search,
    /// `voipms_describe_method`.
    Describe,
    /// `voipms_call_method`.
    Call,
}

/// One tool.
#[derive(Debug, Clone)]
pub struct ToolDef {
    /// Its name.
    pub name: String,
    /// The toolsets it belongs to (a curated tool that covers a method is in that method's
    /// category too).
    pub toolsets: Vec<&'static str>,
    /// What calling it may do to the account.
    pub effect: Effect,
    /// What it runs.
    pub kind: Kind,
}

impl ToolDef {
    /// Whether the tool may change the account (hidden by `--read-only`). The long-tail caller
    /// is not: it refuses changes itself in read-only mode.
    pub fn is_mutating(&self) -> bool {
        self.effect.is_mutating() && !matches!(self.kind, Kind::Call)
    }
}

/// The generated tool name of a method: `voipms_get_dids_info`.
pub fn method_tool_name(m: &Method) -> String {
    format!("{PREFIX}{}", m.rust_name)
}

/// Every tool, in the order `tools/list` gives them: curated, long tail, then the methods by
/// category.
pub fn all() -> Vec<ToolDef> {
    let mut out: Vec<ToolDef> = curated::SPECS
        .iter()
        .map(|spec| {
            let mut toolsets = vec![spec.toolset];
            if let Some(m) = spec.covers.and_then(catalog::method) {
                toolsets.push(m.category);
            }
            ToolDef {
                name: spec.name.to_owned(),
                toolsets,
                effect: spec.effect,
                kind: Kind::Curated(spec.id),
            }
        })
        .collect();
    for (name, kind, effect) in [
        ("voipms_search_methods", Kind::Search, Effect::Read),
        ("voipms_describe_method", Kind::Describe, Effect::Read),
        ("voipms_call_method", Kind::Call, Effect::Billable),
    ] {
        out.push(ToolDef {
            name: name.to_owned(),
            toolsets: vec!["methods"],
            effect,
            kind,
        });
    }
    for cat in catalog::CATEGORIES {
        for m in catalog::METHODS.iter().filter(|m| m.category == cat.slug) {
            let name = method_tool_name(m);
            if out.iter().any(|t| t.name == name) {
                // The curated tool of that name covers the method.
                continue;
            }
            out.push(ToolDef {
                name,
                toolsets: vec![m.category],
                effect: m.effect,
                kind: Kind::Method(m),
            });
        }
    }
    out
}

/// Every toolset name: the curated ones, then the catalog's categories.
pub fn toolset_names() -> Vec<&'static str> {
    CURATED_TOOLSETS
        .iter()
        .map(|(n, _)| *n)
        .chain(catalog::CATEGORIES.iter().map(|c| c.slug))
        .collect()
}

/// What the server offers: which toolsets and tools.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--toolsets` (empty: the default ones). `default` and `all` are accepted.
    pub toolsets: Vec<String>,
    /// `--tools`: tools added by name.
    pub tools: Vec<String>,
    /// `--exclude-tools`: tools removed by name (wins over everything).
    pub exclude: Vec<String>,
    /// `--read-only`: every tool that may change the account is hidden.
    pub read_only: bool,
}

impl Selection {
    /// The tools selected, in list order, or what is wrong with the names given.
    pub fn apply(&self, every: Vec<ToolDef>) -> Result<Vec<ToolDef>, String> {
        let known_sets = toolset_names();
        let mut sets: BTreeSet<&str> = BTreeSet::new();
        let mut all = false;
        let given: Vec<&str> = if self.toolsets.is_empty() {
            vec!["default"]
        } else {
            self.toolsets.iter().map(String::as_str).collect()
        };
        let mut unknown = Vec::new();
        for s in given {
            match s {
                "all" => all = true,
                "default" => sets.extend(DEFAULT_TOOLSETS),
                s => match known_sets.iter().find(|k| **k == s) {
                    Some(k) => {
                        sets.insert(k);
                    }
                    None => unknown.push(s.to_owned()),
                },
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "unknown toolset{} {}; the toolsets are: default, all, {}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", "),
                known_sets.join(", ")
            ));
        }
        let names: BTreeSet<&str> = every.iter().map(|t| t.name.as_str()).collect();
        let bad: Vec<&str> = self
            .tools
            .iter()
            .chain(&self.exclude)
            .map(String::as_str)
            .filter(|n| !names.contains(n))
            .collect();
        if !bad.is_empty() {
            let hints: Vec<String> = bad
                .iter()
                .filter_map(|b| {
                    names
                        .iter()
                        .map(|n| (strsim::jaro_winkler(b, n), *n))
                        .filter(|(score, _)| *score > 0.9)
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .map(|(_, n)| format!("{b} → {n}?"))
                })
                .collect();
            return Err(format!(
                "unknown tool{} {}{}; `voipms mcp --list-tools --toolsets all` lists every tool name",
                if bad.len() == 1 { "" } else { "s" },
                bad.join(", "),
                if hints.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean: {})", hints.join(", "))
                }
            ));
        }
        Ok(every
            .into_iter()
            .filter(|t| {
                all || t.toolsets.iter().any(|s| sets.contains(s)) || self.tools.contains(&t.name)
            })
            .filter(|t| !self.exclude.contains(&t.name))
            .filter(|t| !(self.read_only && t.is_mutating()))
            .collect())
    }
}

/// The JSON Schema of an object with these properties.
pub fn object_schema(properties: Map<String, Value>, required: &[&str]) -> Value {
    let mut s = Map::new();
    s.insert("type".into(), json!("object"));
    if !properties.is_empty() {
        s.insert("properties".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        s.insert("required".into(), json!(required));
    }
    s.insert("additionalProperties".into(), json!(false));
    Value::Object(s)
}

/// The `dry_run` property every tool that may change the account takes.
pub fn dry_run_property() -> Value {
    json!({
        "type": "boolean",
        "default": true,
        "description": "Only show the API calls it would make (the default). Set false to make them."
    })
}

/// The input schema of a method's generated tool: its parameters, by the kind table.
pub fn method_input_schema(m: &Method) -> Value {
    let mut props = Map::new();
    for p in m.params {
        props.insert(p.name.to_owned(), schema::param_schema(p));
    }
    if m.effect.is_mutating() {
        props.insert("dry_run".into(), dry_run_property());
    }
    let required: Vec<&str> = m
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    object_schema(props, &required)
}

fn long_tail_schema(kind: Kind) -> Value {
    match kind {
        Kind::Search => object_schema(
            [
                (
                    "query".to_owned(),
                    json!({"type": "string", "description": "Words to look for in method names, summaries and parameters, e.g. `voicemail messages`"}),
                ),
                (
                    "limit".to_owned(),
                    json!({"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
                ),
            ]
            .into_iter()
            .collect(),
            &["query"],
        ),
        Kind::Describe => object_schema(
            [(
                "method".to_owned(),
                json!({"type": "string", "description": "Method name, e.g. getDIDsInfo"}),
            )]
            .into_iter()
            .collect(),
            &["method"],
        ),
        _ => object_schema(
            [
                (
                    "method".to_owned(),
                    json!({"type": "string", "description": "Method name, e.g. getDIDsInfo"}),
                ),
                (
                    "params".to_owned(),
                    json!({"type": "object", "description": "Its parameters by name, as voipms_describe_method lists them"}),
                ),
                ("dry_run".to_owned(), dry_run_property()),
            ]
            .into_iter()
            .collect(),
            &["method"],
        ),
    }
}

/// Whether calling a method twice with the same arguments leaves the account as once.
fn idempotent(effect: Effect, wire_name: &str) -> bool {
    match effect {
        Effect::Read => true,
        Effect::Billable => false,
        // set* writes a whole record, del*/cancel*/unset* removes one: doing it again changes
        // nothing more. add*, send*, create*, order*… make something new each time.
        _ => [
            "set", "del", "cancel", "unset", "remove", "reset", "update", "mark",
        ]
        .iter()
        .any(|p| wire_name.starts_with(p)),
    }
}

fn annotations(title: &str, effect: Effect, idempotent: bool, open_world: bool) -> ToolAnnotations {
    let mut a = ToolAnnotations::with_title(title)
        .read_only(effect == Effect::Read)
        .open_world(open_world);
    if effect.is_mutating() {
        a = a
            .destructive(matches!(effect, Effect::Destructive | Effect::Billable))
            .idempotent(idempotent);
    }
    a
}

fn as_object(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(o) => Arc::new(o),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The first sentence of `text`, for short descriptions.
fn first_sentence(text: &str) -> &str {
    let t = text.trim();
    match t.find(". ") {
        Some(i) => &t[..=i],
        None => t,
    }
}

/// A method's display title from its wire name, cut where its snake-case name (which knows the
/// acronyms) cuts it: `getDIDsInfo` → `Get DIDs info`.
fn method_title(m: &Method) -> String {
    let words: Vec<&str> = m.rust_name.split('_').collect();
    let letters: usize = words.iter().map(|w| w.len()).sum();
    let mut out = Vec::with_capacity(words.len());
    if letters == m.name.len() {
        let mut rest = m.name;
        for w in &words {
            let (word, tail) = rest.split_at(w.len());
            rest = tail;
            let acronym = word.chars().filter(char::is_ascii_uppercase).count() > 1;
            out.push(if acronym {
                word.to_owned()
            } else {
                word.to_ascii_lowercase()
            });
        }
    } else {
        out.extend(words.iter().map(|w| (*w).to_owned()));
    }
    let mut title = out.join(" ");
    if let Some(first) = title.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    title
}

/// The MCP form of a tool.
pub fn to_tool(def: &ToolDef) -> Tool {
    match def.kind {
        Kind::Curated(id) => {
            let spec = curated::spec(id);
            Tool::new(
                spec.name,
                spec.description,
                as_object(curated::input_schema(spec)),
            )
            .with_raw_output_schema(as_object((spec.output)()))
            .with_annotations(annotations(
                spec.title,
                spec.effect,
                spec.idempotent,
                true,
            ))
        }
        Kind::Method(m) => {
            let mut description = first_sentence(m.summary).to_owned();
            if m.effect.is_mutating() {
                description.push_str(match m.effect {
                    Effect::Billable => " Spends money or cannot be undone.",
                    Effect::Destructive => " Deletes or cancels.",
                    _ => "",
                });
            }
            Tool::new(
                def.name.clone(),
                description,
                as_object(method_input_schema(m)),
            )
            .with_annotations(annotations(
                &method_title(m),
                m.effect,
                idempotent(m.effect, m.name),
                true,
            ))
        }
        Kind::Search => Tool::new(
            def.name.clone(),
            "Find VoIP.ms API methods by words; returns names and one-line summaries. Use before voipms_describe_method and voipms_call_method.",
            as_object(long_tail_schema(def.kind)),
        )
        .with_annotations(annotations("Search API methods", Effect::Read, true, false)),
        Kind::Describe => Tool::new(
            def.name.clone(),
            "One VoIP.ms API method in full: what it does, its effect, its parameters as a JSON Schema, and its statuses.",
            as_object(long_tail_schema(def.kind)),
        )
        .with_annotations(annotations("Describe an API method", Effect::Read, true, false)),
        Kind::Call => Tool::new(
            def.name.clone(),
            "Call any VoIP.ms API method by name with its parameters, validated first. Changes are dry runs unless dry_run is false, under the server's write permissions.",
            as_object(long_tail_schema(def.kind)),
        )
        .with_annotations(annotations("Call an API method", Effect::Billable, false, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_valid_and_curated_ones_win() {
        let every = all();
        let mut seen = BTreeSet::new();
        for t in &every {
            assert!(seen.insert(t.name.clone()), "duplicate {}", t.name);
            assert!(
                t.name.len() <= 128
                    && t.name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)),
                "{}",
                t.name
            );
        }
        // Every method is reachable: its own tool, or the curated tool that covers it.
        for m in catalog::METHODS {
            let name = method_tool_name(m);
            assert!(seen.contains(&name), "{name}");
        }
        let balance = every
            .iter()
            .find(|t| t.name == "voipms_get_balance")
            .unwrap();
        assert!(matches!(balance.kind, Kind::Curated(_)));
        assert!(balance.toolsets.contains(&"account"));
    }

    #[test]
    fn selection() {
        let every = all;
        let default = Selection::default().apply(every()).unwrap();
        assert!(default.iter().any(|t| t.name == "voipms_call_method"));
        assert!(!default.iter().any(|t| matches!(t.kind, Kind::Method(_))));
        let ro = Selection {
            read_only: true,
            ..Selection::default()
        }
        .apply(every())
        .unwrap();
        assert!(!ro.iter().any(|t| t.name == "voipms_mark_number_as_spam"));
        assert!(ro.iter().any(|t| t.name == "voipms_call_method"));
        let e = Selection {
            toolsets: vec!["nope".into()],
            ..Selection::default()
        }
        .apply(every())
        .unwrap_err();
        assert!(e.contains("phonebook"), "{e}");
        let dids = Selection {
            toolsets: vec!["dids".into()],
            tools: vec!["voipms_get_balance".into()],
            exclude: vec!["voipms_get_dids_info".into()],
            read_only: false,
        }
        .apply(every())
        .unwrap();
        assert!(dids.iter().any(|t| t.name == "voipms_get_balance"));
        assert!(!dids.iter().any(|t| t.name == "voipms_get_dids_info"));
        assert!(dids.iter().any(|t| t.name == "voipms_set_did_info"));
        assert_eq!(
            method_title(catalog::method("getDIDsInfo").unwrap()),
            "Get DIDs info"
        );
    }
}
