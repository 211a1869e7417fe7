//! Loads `api-spec/` into a validated model. Every problem found is reported, each naming the
//! file, the method and the field, and saying what is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::names;

/// The whole API description.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Categories sorted by slug.
    pub categories: Vec<Category>,
    /// Status codes sorted by code.
    pub statuses: Vec<Status>,
    /// Enums shared across methods (`enums.toml`), sorted by name.
    pub enums: Vec<SharedEnum>,
}

/// An enum declared once in `enums.toml` and referenced by params (`enum = "Name"`) and text
/// response fields: one concept, one Rust type.
#[derive(Debug, Clone)]
pub struct SharedEnum {
    pub name: String,
    pub doc: String,
    pub values: Vec<EnumValue>,
}

impl Spec {
    /// Every method, sorted by wire name.
    pub fn methods(&self) -> Vec<&Method> {
        let mut all: Vec<&Method> = self.categories.iter().flat_map(|c| &c.methods).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

/// One category file.
#[derive(Debug, Clone)]
pub struct Category {
    pub slug: String,
    pub title: String,
    pub about: String,
    pub file: String,
    pub methods: Vec<Method>,
    /// Resource families: the get/set/del methods of one kind of record.
    pub families: Vec<Family>,
}

/// A resource family (`[[family]]`): records one `set*` creates or updates, one `get*` lists and
/// one `del*` deletes. The sandbox keeps the records of every family it does not model by hand.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub get: String,
    pub set: String,
    pub del: Option<String>,
    /// The id parameter of `get`, `set` and `del`.
    pub get_id: String,
    pub set_id: String,
    pub del_id: Option<String>,
    /// The key of `get`'s response that lists the records, and the id field of a record.
    pub list_key: String,
    pub id_field: String,
    /// The key of `set`'s reply that carries the id (`None`: a status-only reply).
    pub reply_key: Option<String>,
    /// The status answered for an id that names no record.
    pub not_found: String,
    /// `set` parameters stored under another record field (`music` → `musiconhold`).
    pub fields: Vec<(String, String)>,
    /// A successful `del` answers an empty body (delConference).
    pub empty_del: bool,
    /// The record each of this family's records belongs to (a queue's members).
    pub parent: Option<Parent>,
}

/// `parent = { family, param, field | list }` on a `[[family]]`: the family's records belong to
/// one record of another family, named by `param` on the methods that take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// The parent family's name.
    pub family: String,
    /// The parameter naming the parent (on `set`; on `get` and `del` where they have it).
    pub param: String,
    /// How the link is kept.
    pub link: ParentLink,
}

/// Where the link between a record and its parent is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentLink {
    /// A field of the child record holds the parent's id (`queue_number` of a static member).
    Field(String),
    /// A field of the parent record lists its children's ids joined by `;` (a conference's
    /// `members`).
    List(String),
}

/// What a call does to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Read,
    Write,
    Destructive,
    Billable,
}

/// One method.
#[derive(Debug, Clone)]
pub struct Method {
    pub name: String,
    pub rust: String,
    pub pascal: String,
    pub category: String,
    pub summary: String,
    pub description: String,
    pub effect: Effect,
    pub rest_only: bool,
    pub empty_status: Vec<String>,
    /// The example response, minified.
    pub example: String,
    pub positional: Vec<(String, String)>,
    pub cli_aliases: Vec<String>,
    pub params: Vec<Param>,
    pub response: Vec<Field>,
    /// Name of the typed response (a struct, or an alias of `Ack` when there are no fields).
    pub response_type: String,
    /// How the sandbox models this write when no `[[family]]` holds it (`sandbox = {…}`).
    pub sandbox: Option<SandboxModel>,
}

/// `sandbox = { model, read, why }` on a mutating method that no `[[family]]` holds: how the
/// sandbox makes the write real and where its effect is seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxModel {
    /// `hand`: a hand-written handler stores what the call says and `read` reads it back;
    /// `action`: an operation whose effect shows in `read` (or, without `read`, cannot be seen
    /// through the API, as `why` says).
    pub model: String,
    /// The read method that shows the write's effect.
    pub read: Option<String>,
    /// Parameters of `read` filled from the write's: (read parameter, write parameter).
    pub read_with: Vec<(String, String)>,
    /// Why the write is not a family's record write (our words).
    pub why: String,
}

/// Parameter types (see api-spec/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Integer,
    Decimal,
    Flag,
    YesNo,
    Date,
    DateTime,
    Enum,
    Routing,
    List,
    Base64,
    Phone,
    Email,
    Url,
    TzOffset,
    Timezone,
}

impl ParamKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "integer" => Self::Integer,
            "decimal" => Self::Decimal,
            "flag" => Self::Flag,
            "yesno" => Self::YesNo,
            "date" => Self::Date,
            "datetime" => Self::DateTime,
            "enum" => Self::Enum,
            "routing" => Self::Routing,
            "list" => Self::List,
            "base64" => Self::Base64,
            "phone" => Self::Phone,
            "email" => Self::Email,
            "url" => Self::Url,
            "tz_offset" => Self::TzOffset,
            "timezone" => Self::Timezone,
            _ => return None,
        })
    }
}

const PARAM_TYPES: &str = "string, integer, decimal, flag, yesno, date, datetime, enum, routing, list, base64, phone, email, url, tz_offset, timezone";

/// One parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub rust: String,
    pub kind: ParamKind,
    pub separator: Option<String>,
    pub required: bool,
    pub description: String,
    pub example: Option<String>,
    pub values: Vec<EnumValue>,
    /// Name of the generated enum, for `enum` params.
    pub enum_type: Option<String>,
    /// The enum is a shared one from `enums.toml` (emitted once, not per method).
    pub shared: bool,
}

/// One allowed value of an enum parameter.
#[derive(Debug, Clone)]
pub struct EnumValue {
    pub value: String,
    pub name: String,
    pub doc: String,
}

/// Scalar response types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Text,
    Int,
    Decimal,
    Flag,
    Date,
    DateTime,
    DateOrPeriod,
    Limit,
    Json,
}

impl Scalar {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Self::Text,
            "int" => Self::Int,
            "decimal" => Self::Decimal,
            "flag" => Self::Flag,
            "date" => Self::Date,
            "datetime" => Self::DateTime,
            "date_or_period" => Self::DateOrPeriod,
            "limit" => Self::Limit,
            "json" => Self::Json,
            _ => return None,
        })
    }
}

/// Element of a list or map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Scalar(Scalar),
    Object,
}

/// Shape of a response field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Scalar(Scalar),
    Object,
    List(Item),
    Map(Item),
}

impl FieldType {
    fn parse(s: &str) -> Option<Self> {
        let item = |inner: &str| {
            if inner == "object" {
                Some(Item::Object)
            } else {
                Scalar::parse(inner).map(Item::Scalar)
            }
        };
        if s == "object" {
            return Some(Self::Object);
        }
        if let Some(inner) = s.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
            return item(inner).map(Self::List);
        }
        if let Some(inner) = s.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
            return item(inner).map(Self::Map);
        }
        Scalar::parse(s).map(Self::Scalar)
    }

    /// Whether the field carries nested `fields`.
    pub fn has_fields(self) -> bool {
        matches!(
            self,
            Self::Object | Self::List(Item::Object) | Self::Map(Item::Object)
        )
    }
}

const FIELD_TYPES: &str = "text, int, decimal, flag, date, datetime, limit, json, object, list<T>, map<T> (T a scalar type or object)";

/// One response field.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub rust: String,
    pub aliases: Vec<String>,
    pub ty: FieldType,
    pub fields: Vec<Field>,
    pub none_if: Vec<String>,
    pub doc: String,
    /// Struct name for object-bearing fields.
    pub struct_name: Option<String>,
    /// A shared enum (`enums.toml`) a `text` field decodes to, with `Other` for unknown values.
    pub enum_type: Option<String>,
}

/// One status code.
#[derive(Debug, Clone)]
pub struct Status {
    pub code: String,
    pub class: String,
    pub retryable: bool,
    pub meaning: String,
    pub hint: Option<String>,
}

/// Status classes accepted in statuses.toml.
pub const STATUS_CLASSES: &[&str] = &[
    "success",
    "empty",
    "auth",
    "rate_limit",
    "invalid_input",
    "not_found",
    "conflict",
    "limit",
    "server",
    "state",
    "billing",
];

/// One problem in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    pub method: Option<String>,
    pub item: Option<String>,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(m) = &self.method {
            write!(f, ": method `{m}`")?;
        }
        if let Some(i) = &self.item {
            write!(f, ": {i}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems found, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "api-spec has {} problem(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    category: String,
    title: String,
    about: String,
    #[serde(default)]
    method: Vec<RawMethod>,
    #[serde(default)]
    family: Vec<RawFamily>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFamily {
    name: String,
    get: String,
    set: String,
    del: Option<String>,
    id_param: String,
    get_id: Option<String>,
    del_id: Option<String>,
    list_key: String,
    id_field: String,
    reply_key: Option<String>,
    not_found: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    empty_del: bool,
    parent: Option<RawParent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParent {
    family: String,
    param: String,
    field: Option<String>,
    list: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMethod {
    name: String,
    rust: Option<String>,
    summary: String,
    #[serde(default)]
    description: String,
    effect: String,
    #[serde(default)]
    rest_only: bool,
    #[serde(default)]
    empty_status: Vec<String>,
    example: String,
    #[serde(default)]
    cli: RawCli,
    #[serde(default)]
    param: Vec<RawParam>,
    #[serde(default)]
    response: toml::Table,
    sandbox: Option<RawSandbox>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSandbox {
    model: String,
    read: Option<String>,
    #[serde(default)]
    read_with: BTreeMap<String, String>,
    #[serde(default)]
    why: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCli {
    #[serde(default)]
    positional: Vec<RawPositional>,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPositional {
    param: String,
    when: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    name: String,
    rust: Option<String>,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    description: String,
    example: Option<String>,
    #[serde(default)]
    values: Vec<toml::Value>,
    #[serde(rename = "enum")]
    enum_ref: Option<String>,
    separator: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnums {
    #[serde(rename = "enum", default)]
    enums: Vec<RawEnum>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnum {
    name: String,
    doc: String,
    values: Vec<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatuses {
    status: Vec<RawStatus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    code: String,
    class: String,
    retryable: bool,
    meaning: String,
    hint: Option<String>,
}

/// A source file: name (as shown in errors) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// Reads every `*.toml` of a spec directory (sorted by name).
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = format!(
                "api-spec/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            files.push(SourceFile {
                name,
                text: std::fs::read_to_string(&path)?,
            });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Loads and validates a spec directory.
pub fn load_dir(dir: &Path) -> Result<Spec, SpecErrors> {
    let files = read_dir(dir).map_err(|e| {
        SpecErrors(vec![SpecError {
            file: dir.display().to_string(),
            method: None,
            item: None,
            message: format!("cannot read the spec directory: {e}"),
        }])
    })?;
    parse(&files)
}

struct Ctx {
    errors: Vec<SpecError>,
}

impl Ctx {
    fn err(&mut self, file: &str, method: Option<&str>, item: Option<String>, msg: String) {
        self.errors.push(SpecError {
            file: file.to_owned(),
            method: method.map(str::to_owned),
            item,
            message: msg,
        });
    }
}

/// Parses and validates spec files: `statuses.toml` plus one file per category.
pub fn parse(files: &[SourceFile]) -> Result<Spec, SpecErrors> {
    let mut cx = Ctx { errors: Vec::new() };
    let mut statuses = Vec::new();
    let mut categories = Vec::new();
    let status_file = "api-spec/statuses.toml";
    match files.iter().find(|f| f.name.ends_with("/statuses.toml")) {
        None => cx.err(
            status_file,
            None,
            None,
            "missing: the status table is required".into(),
        ),
        Some(f) => statuses = parse_statuses(&mut cx, f),
    }
    let enums = match files.iter().find(|f| f.name.ends_with("/enums.toml")) {
        Some(f) => parse_enums(&mut cx, f),
        None => Vec::new(),
    };
    let known: BTreeSet<&str> = statuses.iter().map(|s: &Status| s.code.as_str()).collect();
    for f in files
        .iter()
        .filter(|f| !f.name.ends_with("/statuses.toml") && !f.name.ends_with("/enums.toml"))
    {
        if let Some(c) = parse_category(&mut cx, f, &known) {
            categories.push(c);
        }
    }
    categories.sort_by(|a, b| a.slug.cmp(&b.slug));
    resolve_enums(&mut cx, &enums, &mut categories);
    check_global(&mut cx, &categories, &enums);
    if cx.errors.is_empty() {
        Ok(Spec {
            categories,
            statuses,
            enums,
        })
    } else {
        Err(SpecErrors(cx.errors))
    }
}

fn parse_enums(cx: &mut Ctx, f: &SourceFile) -> Vec<SharedEnum> {
    let raw: RawEnums = match toml::from_str(&f.text) {
        Ok(r) => r,
        Err(e) => {
            cx.err(&f.name, None, None, format!("not valid: {e}"));
            return Vec::new();
        }
    };
    let mut out: Vec<SharedEnum> = Vec::new();
    for e in raw.enums {
        let item = Some(format!("enum `{}`", e.name));
        if !names::is_upper_camel_ident(&e.name) {
            cx.err(
                &f.name,
                None,
                item.clone(),
                "the name must be an UpperCamelCase Rust type".into(),
            );
        }
        if out.iter().any(|o| o.name == e.name) {
            cx.err(&f.name, None, item.clone(), "declared twice".into());
        }
        if e.doc.trim().is_empty() {
            cx.err(
                &f.name,
                None,
                item.clone(),
                "missing doc: say in our words what it is".into(),
            );
        }
        let values = parse_values(cx, &f.name, None, &item, &e.values);
        check_variants(cx, &f.name, None, &item, &values);
        if values.iter().any(|v| v.name == "Other") {
            cx.err(
                &f.name,
                None,
                item.clone(),
                "`Other` is the generated variant for unknown values; name the value otherwise"
                    .into(),
            );
        }
        out.push(SharedEnum {
            name: e.name,
            doc: e.doc.trim().to_owned(),
            values,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Fills params that reference a shared enum with its values, and checks every reference.
fn resolve_enums(cx: &mut Ctx, enums: &[SharedEnum], categories: &mut [Category]) {
    for c in categories {
        let file = format!("api-spec/{}.toml", c.slug);
        for m in &mut c.methods {
            let mn = Some(m.name.as_str());
            for p in &mut m.params {
                let Some(name) = p.enum_type.clone().filter(|_| p.shared) else {
                    continue;
                };
                let item = Some(format!("param `{}`", p.name));
                match enums.iter().find(|e| e.name == name) {
                    None => cx.err(
                        &file,
                        mn,
                        item,
                        format!("enum `{name}` is not declared in enums.toml"),
                    ),
                    Some(e) => {
                        p.values = e.values.clone();
                        if let Some(ex) = &p.example
                            && !p.values.iter().any(|v| &v.value == ex)
                        {
                            cx.err(
                                &file,
                                mn,
                                item,
                                format!("example `{ex}` is not one of the values of `{name}`"),
                            );
                        }
                    }
                }
            }
            check_field_enums(cx, &file, mn, enums, "response", &m.response);
        }
    }
}

fn check_field_enums(
    cx: &mut Ctx,
    file: &str,
    mn: Option<&str>,
    enums: &[SharedEnum],
    at: &str,
    fields: &[Field],
) {
    for f in fields {
        let path = format!("{at}.{}", f.name);
        if let Some(name) = &f.enum_type {
            if f.ty != FieldType::Scalar(Scalar::Text) {
                cx.err(
                    file,
                    mn,
                    Some(path.clone()),
                    "`enum` applies to a `text` field".into(),
                );
            }
            if !enums.iter().any(|e| &e.name == name) {
                cx.err(
                    file,
                    mn,
                    Some(path.clone()),
                    format!("enum `{name}` is not declared in enums.toml"),
                );
            }
        }
        check_field_enums(cx, file, mn, enums, &path, &f.fields);
    }
}

/// Enum values: strings, or tables `{ value, name, doc }`.
fn parse_values(
    cx: &mut Ctx,
    file: &str,
    mn: Option<&str>,
    item: &Option<String>,
    raw: &[toml::Value],
) -> Vec<EnumValue> {
    let mut values = Vec::new();
    for v in raw {
        match v {
            toml::Value::String(s) => values.push(EnumValue {
                value: s.clone(),
                name: names::variant(s),
                doc: String::new(),
            }),
            toml::Value::Table(t) => {
                let value = t.get("value").and_then(|v| v.as_str());
                let unknown: Vec<&String> = t
                    .keys()
                    .filter(|k| !["value", "name", "doc"].contains(&k.as_str()))
                    .collect();
                if !unknown.is_empty() {
                    cx.err(
                        file,
                        mn,
                        item.clone(),
                        format!(
                            "enum value table has unknown keys {unknown:?}; use value, name, doc"
                        ),
                    );
                }
                match value {
                    None => cx.err(
                        file,
                        mn,
                        item.clone(),
                        "enum value table needs `value`".into(),
                    ),
                    Some(val) => values.push(EnumValue {
                        value: val.to_owned(),
                        name: t
                            .get("name")
                            .and_then(|n| n.as_str())
                            .map(str::to_owned)
                            .unwrap_or_else(|| names::variant(val)),
                        doc: t
                            .get("doc")
                            .and_then(|n| n.as_str())
                            .unwrap_or("")
                            .trim()
                            .to_owned(),
                    }),
                }
            }
            other => cx.err(
                file,
                mn,
                item.clone(),
                format!(
                    "enum values are strings or tables, not {}",
                    other.type_str()
                ),
            ),
        }
    }
    values
}

/// Enum variants: at least one, distinct, UpperCamelCase.
fn check_variants(
    cx: &mut Ctx,
    file: &str,
    mn: Option<&str>,
    item: &Option<String>,
    values: &[EnumValue],
) {
    if values.is_empty() {
        cx.err(
            file,
            mn,
            item.clone(),
            "an enum needs `values` listing the allowed wire values".into(),
        );
    }
    let mut vn = BTreeSet::new();
    for v in values {
        if !vn.insert(v.name.clone()) {
            cx.err(
                file,
                mn,
                item.clone(),
                format!(
                    "enum variant name `{}` is used twice; give the values distinct `name`s",
                    v.name
                ),
            );
        }
        if !v.name.starts_with(|c: char| c.is_ascii_uppercase())
            || !v.name.chars().all(|c| c.is_ascii_alphanumeric())
        {
            cx.err(
                file,
                mn,
                item.clone(),
                format!("enum variant name `{}` must be UpperCamelCase", v.name),
            );
        }
    }
}

fn parse_statuses(cx: &mut Ctx, f: &SourceFile) -> Vec<Status> {
    let raw: RawStatuses = match toml::from_str(&f.text) {
        Ok(r) => r,
        Err(e) => {
            cx.err(&f.name, None, None, format!("not valid: {e}"));
            return Vec::new();
        }
    };
    let mut seen = BTreeSet::new();
    let mut variants = BTreeMap::new();
    let mut out = Vec::new();
    for s in raw.status {
        let item = Some(format!("status `{}`", s.code));
        let variant = crate::emit::status_variant(&s.code);
        if !seen.insert(s.code.clone()) {
            cx.err(&f.name, None, item.clone(), "duplicate code".into());
        } else if !names::is_upper_camel_ident(&variant) || variant == "Other" {
            cx.err(
                &f.name,
                None,
                item.clone(),
                format!("the code gives the Rust variant `{variant}`, which is not usable"),
            );
        } else if let Some(prev) = variants.insert(variant.clone(), s.code.clone()) {
            cx.err(
                &f.name,
                None,
                item.clone(),
                format!("the code gives the Rust variant `{variant}`, as `{prev}` does"),
            );
        }
        if !STATUS_CLASSES.contains(&s.class.as_str()) {
            cx.err(
                &f.name,
                None,
                item.clone(),
                format!(
                    "unknown class `{}`; use one of: {}",
                    s.class,
                    STATUS_CLASSES.join(", ")
                ),
            );
        }
        if s.meaning.trim().is_empty() {
            cx.err(
                &f.name,
                None,
                item.clone(),
                "missing meaning: say in our words what the status means".into(),
            );
        }
        out.push(Status {
            code: s.code,
            class: s.class,
            retryable: s.retryable,
            meaning: s.meaning.trim().to_owned(),
            hint: s
                .hint
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty()),
        });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out
}

fn parse_category(cx: &mut Ctx, f: &SourceFile, statuses: &BTreeSet<&str>) -> Option<Category> {
    let raw: RawFile = match toml::from_str(&f.text) {
        Ok(r) => r,
        Err(e) => {
            cx.err(&f.name, None, None, format!("not valid: {e}"));
            return None;
        }
    };
    let stem = f
        .name
        .rsplit('/')
        .next()
        .unwrap_or(&f.name)
        .trim_end_matches(".toml");
    if raw.category != stem {
        cx.err(
            &f.name,
            None,
            None,
            format!(
                "category `{}` must equal the file name `{stem}`",
                raw.category
            ),
        );
    }
    if !names::is_snake_ident(&raw.category) {
        cx.err(
            &f.name,
            None,
            None,
            format!(
                "category `{}` must be a lowercase slug ([a-z0-9_])",
                raw.category
            ),
        );
    }
    if raw.title.trim().is_empty() || raw.about.trim().is_empty() {
        cx.err(
            &f.name,
            None,
            None,
            "missing title or about: describe the category".into(),
        );
    }
    let mut methods = Vec::new();
    for m in raw.method {
        methods.push(parse_method(cx, &f.name, &raw.category, m, statuses));
    }
    methods.sort_by(|a, b| a.name.cmp(&b.name));
    let families = raw
        .family
        .into_iter()
        .map(|fam| parse_family(cx, &f.name, &methods, fam, statuses))
        .collect();
    Some(Category {
        slug: raw.category,
        title: raw.title.trim().to_owned(),
        about: raw.about.trim().to_owned(),
        file: f.name.clone(),
        methods,
        families,
    })
}

fn parse_family(
    cx: &mut Ctx,
    file: &str,
    methods: &[Method],
    f: RawFamily,
    statuses: &BTreeSet<&str>,
) -> Family {
    let item = Some(format!("family `{}`", f.name));
    let err = |cx: &mut Ctx, msg: String| cx.err(file, None, item.clone(), msg);
    let find = |name: &str| methods.iter().find(|m| m.name == name);
    let has_param = |cx: &mut Ctx, method: &str, param: &str| match find(method) {
        None => cx.err(
            file,
            None,
            item.clone(),
            format!("`{method}` is not a method of this file"),
        ),
        Some(m) if m.param(param).is_none() => cx.err(
            file,
            Some(method),
            item.clone(),
            format!("has no parameter `{param}`"),
        ),
        Some(_) => {}
    };
    let get_id = f.get_id.clone().unwrap_or_else(|| f.id_param.clone());
    let del_id = f
        .del
        .as_ref()
        .map(|_| f.del_id.clone().unwrap_or_else(|| f.id_param.clone()));
    has_param(cx, &f.get, &get_id);
    has_param(cx, &f.set, &f.id_param);
    if let (Some(del), Some(id)) = (&f.del, &del_id) {
        has_param(cx, del, id);
    }
    if let Some(get) = find(&f.get) {
        match get.response.iter().find(|r| r.name == f.list_key) {
            Some(list) if list.ty == FieldType::List(Item::Object) => {
                if !list.fields.iter().any(|x| x.name == f.id_field) {
                    err(
                        cx,
                        format!(
                            "the records of `{}` have no field `{}`",
                            f.list_key, f.id_field
                        ),
                    );
                }
                for (param, field) in &f.fields {
                    if !list.fields.iter().any(|x| &x.name == field) {
                        err(cx, format!("`fields`: the records have no field `{field}`"));
                    }
                    if find(&f.set).is_some_and(|m| m.param(param).is_none()) {
                        err(
                            cx,
                            format!("`fields`: `{}` has no parameter `{param}`", f.set),
                        );
                    }
                }
            }
            _ => err(
                cx,
                format!(
                    "`{}` has no `list<object>` response key `{}`",
                    f.get, f.list_key
                ),
            ),
        }
    }
    if let (Some(key), Some(set)) = (&f.reply_key, find(&f.set))
        && !set.response.iter().any(|r| &r.name == key)
    {
        err(cx, format!("`{}` has no response key `{key}`", f.set));
    }
    if !statuses.contains(f.not_found.as_str()) {
        err(
            cx,
            format!(
                "`not_found`: status `{}` is not in statuses.toml",
                f.not_found
            ),
        );
    }
    let parent = f.parent.map(|p| {
        has_param(cx, &f.set, &p.param);
        let link = match (p.field, p.list) {
            (Some(field), None) => {
                let listed = find(&f.get)
                    .and_then(|g| g.response.iter().find(|r| r.name == f.list_key))
                    .is_some_and(|l| l.fields.iter().any(|x| x.name == field));
                if !listed {
                    err(
                        cx,
                        format!("`parent.field`: the records have no field `{field}`"),
                    );
                }
                ParentLink::Field(field)
            }
            (None, Some(list)) => ParentLink::List(list),
            _ => {
                err(
                    cx,
                    "`parent` needs exactly one of `field` (the child's field holding the parent id) \
                     or `list` (the parent's field listing child ids)"
                        .into(),
                );
                ParentLink::Field(String::new())
            }
        };
        Parent {
            family: p.family,
            param: p.param,
            link,
        }
    });
    Family {
        name: f.name,
        get: f.get,
        set: f.set,
        del: f.del,
        get_id,
        set_id: f.id_param,
        del_id,
        list_key: f.list_key,
        id_field: f.id_field,
        reply_key: f.reply_key,
        not_found: f.not_found,
        fields: f.fields.into_iter().collect(),
        empty_del: f.empty_del,
        parent,
    }
}

fn parse_method(
    cx: &mut Ctx,
    file: &str,
    category: &str,
    m: RawMethod,
    statuses: &BTreeSet<&str>,
) -> Method {
    let name = m.name.clone();
    let mn = Some(name.as_str());
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        cx.err(
            file,
            mn,
            None,
            "the wire name must be ASCII letters and digits".into(),
        );
    }
    let rust = m.rust.clone().unwrap_or_else(|| names::snake(&name));
    if !names::is_snake_ident(&rust) {
        cx.err(
            file,
            mn,
            None,
            format!("Rust name `{rust}` is not a snake_case identifier"),
        );
    }
    let pascal = heck::ToUpperCamelCase::to_upper_camel_case(rust.as_str());
    if m.summary.trim().is_empty() {
        cx.err(
            file,
            mn,
            None,
            "missing summary: write one line saying what the method does".into(),
        );
    }
    let effect = match m.effect.as_str() {
        "read" => Effect::Read,
        "write" => Effect::Write,
        "destructive" => Effect::Destructive,
        "billable" => Effect::Billable,
        other => {
            cx.err(
                file,
                mn,
                None,
                format!("unknown effect `{other}`; use read, write, destructive or billable"),
            );
            Effect::Write
        }
    };
    for s in &m.empty_status {
        if !statuses.contains(s.as_str()) {
            cx.err(
                file,
                mn,
                None,
                format!("empty_status `{s}` is not in statuses.toml"),
            );
        }
    }
    let sandbox = m.sandbox.map(|sb| {
        let item = Some("sandbox".to_owned());
        if effect == Effect::Read {
            cx.err(
                file,
                mn,
                item.clone(),
                "a read method needs no sandbox model: only writes are modelled".into(),
            );
        }
        match sb.model.as_str() {
            "hand" if sb.read.is_none() => cx.err(
                file,
                mn,
                item.clone(),
                "model `hand` needs `read`: the read method that reads the write back".into(),
            ),
            "hand" | "action" => {}
            other => cx.err(
                file,
                mn,
                item.clone(),
                format!("unknown model `{other}`; use hand or action"),
            ),
        }
        if sb.why.trim().is_empty() {
            cx.err(
                file,
                mn,
                item.clone(),
                "missing why: say why this write is not a family's record write".into(),
            );
        }
        if !sb.read_with.is_empty() && sb.read.is_none() {
            cx.err(
                file,
                mn,
                item.clone(),
                "`read_with` needs `read`: the read whose parameters it fills".into(),
            );
        }
        SandboxModel {
            model: sb.model,
            read: sb.read,
            read_with: sb.read_with.into_iter().collect(),
            why: sb.why.trim().to_owned(),
        }
    });
    // Parameters.
    let mut params = Vec::new();
    let mut seen_wire = BTreeSet::new();
    let mut seen_rust = BTreeSet::new();
    for p in m.param {
        let item = Some(format!("param `{}`", p.name));
        if !seen_wire.insert(p.name.clone()) {
            cx.err(file, mn, item.clone(), "duplicate parameter name".into());
        }
        let prust = match &p.rust {
            Some(r) => r.clone(),
            None => names::snake(&p.name),
        };
        if names::is_keyword(&prust) {
            cx.err(file, mn, item.clone(), format!("`{prust}` is a Rust keyword: add rust = \"...\" with another name (e.g. `kind` for `type`)"));
        } else if !names::is_snake_ident(&prust) {
            cx.err(
                file,
                mn,
                item.clone(),
                format!("Rust name `{prust}` is not a snake_case identifier; set `rust`"),
            );
        }
        if !seen_rust.insert(prust.clone()) {
            cx.err(file, mn, item.clone(), format!("Rust name `{prust}` clashes with another parameter after case conversion; set `rust`"));
        }
        let kind = match ParamKind::parse(&p.ty) {
            Some(k) => k,
            None => {
                cx.err(
                    file,
                    mn,
                    item.clone(),
                    format!("unknown type `{}`; use one of: {PARAM_TYPES}", p.ty),
                );
                ParamKind::String
            }
        };
        if p.description.trim().is_empty() {
            cx.err(
                file,
                mn,
                item.clone(),
                "missing description: say what the value is and its form".into(),
            );
        }
        match (kind, &p.separator) {
            (ParamKind::List, None) => cx.err(
                file,
                mn,
                item.clone(),
                "a list needs `separator` (\";\" or \",\")".into(),
            ),
            (ParamKind::List, Some(s)) if s != ";" && s != "," => cx.err(
                file,
                mn,
                item.clone(),
                format!("separator `{s}` must be \";\" or \",\""),
            ),
            (k, Some(_)) if k != ParamKind::List => cx.err(
                file,
                mn,
                item.clone(),
                "`separator` only applies to type list".into(),
            ),
            _ => {}
        }
        let values = parse_values(cx, file, mn, &item, &p.values);
        let shared = p.enum_ref.is_some();
        if shared {
            if kind != ParamKind::Enum {
                cx.err(
                    file,
                    mn,
                    item.clone(),
                    "`enum` only applies to type enum".into(),
                );
            }
            if !values.is_empty() {
                cx.err(
                    file,
                    mn,
                    item.clone(),
                    "give either `values` or `enum` (a shared enum), not both".into(),
                );
            }
        } else if kind == ParamKind::Enum {
            check_variants(cx, file, mn, &item, &values);
        } else if !values.is_empty() {
            cx.err(
                file,
                mn,
                item.clone(),
                "`values` only applies to type enum".into(),
            );
        }
        if let (Some(ex), ParamKind::Enum, false) = (&p.example, kind, shared)
            && !values.iter().any(|v| &v.value == ex)
        {
            cx.err(
                file,
                mn,
                item.clone(),
                format!("example `{ex}` is not one of the enum values"),
            );
        }
        let enum_type = match &p.enum_ref {
            Some(name) => Some(name.clone()),
            None => (kind == ParamKind::Enum).then(|| format!("{pascal}{}", names::pascal(&prust))),
        };
        params.push(Param {
            name: p.name,
            rust: prust,
            kind,
            separator: p.separator,
            required: p.required,
            description: p.description.trim().to_owned(),
            example: p.example,
            values,
            enum_type,
            shared,
        });
    }
    // CLI hints.
    let mut positional = Vec::new();
    for pos in m.cli.positional {
        if !params.iter().any(|p| p.name == pos.param) {
            cx.err(
                file,
                mn,
                Some("cli.positional".into()),
                format!("`{}` is not a parameter of this method", pos.param),
            );
        }
        if pos.when != "digits" && pos.when != "any" {
            cx.err(
                file,
                mn,
                Some("cli.positional".into()),
                format!("when = `{}` must be \"digits\" or \"any\"", pos.when),
            );
        }
        positional.push((pos.param, pos.when));
    }
    // Response.
    let response = parse_fields(cx, file, &name, &pascal, "response", &m.response);
    let response_type = format!("{pascal}Response");
    // Example.
    let example = match serde_json::from_str::<Json>(&m.example) {
        Err(e) => {
            cx.err(
                file,
                mn,
                Some("example".into()),
                format!("not valid JSON: {e}"),
            );
            String::new()
        }
        Ok(v) => {
            match v.as_object() {
                None => cx.err(
                    file,
                    mn,
                    Some("example".into()),
                    "must be a JSON object".into(),
                ),
                Some(o) => {
                    if o.get("status").and_then(|s| s.as_str()) != Some("success") {
                        cx.err(
                            file,
                            mn,
                            Some("example".into()),
                            "must have \"status\": \"success\"".into(),
                        );
                    }
                    let mut problems = Vec::new();
                    check_object(&response, o, "$", true, &mut problems);
                    for p in problems {
                        cx.err(file, mn, Some("example".into()), p);
                    }
                }
            }
            serde_json::to_string(&v).unwrap_or_default()
        }
    };
    Method {
        name,
        rust,
        pascal,
        category: category.to_owned(),
        summary: m.summary.trim().to_owned(),
        description: m.description.trim().to_owned(),
        effect,
        rest_only: m.rest_only,
        empty_status: m.empty_status,
        example,
        positional,
        cli_aliases: m.cli.aliases,
        params,
        response,
        response_type,
        sandbox,
    }
}

fn parse_fields(
    cx: &mut Ctx,
    file: &str,
    method: &str,
    owner_pascal: &str,
    at: &str,
    table: &toml::Table,
) -> Vec<Field> {
    let mn = Some(method);
    let mut out = Vec::new();
    let mut rust_names = BTreeSet::new();
    for (key, v) in table {
        let item = Some(format!("{at}.{key}"));
        if key == "status" && at == "response" {
            cx.err(
                file,
                mn,
                item.clone(),
                "`status` is the envelope, not a payload field: remove it".into(),
            );
            continue;
        }
        let (ty_text, t): (String, Option<&toml::Table>) = match v {
            toml::Value::String(s) => (s.clone(), None),
            toml::Value::Table(t) => match t.get("type").and_then(|x| x.as_str()) {
                Some(s) => (s.to_owned(), Some(t)),
                None => {
                    cx.err(file, mn, item.clone(), "a field table needs `type`".into());
                    continue;
                }
            },
            other => {
                cx.err(
                    file,
                    mn,
                    item.clone(),
                    format!(
                        "a field is a type string or a table, not {}",
                        other.type_str()
                    ),
                );
                continue;
            }
        };
        let Some(ty) = FieldType::parse(&ty_text) else {
            cx.err(
                file,
                mn,
                item.clone(),
                format!("unknown type `{ty_text}`; use one of: {FIELD_TYPES}"),
            );
            continue;
        };
        let get_str = |k: &str| t.and_then(|t| t.get(k)).and_then(|v| v.as_str());
        let get_list = |k: &str| -> Vec<String> {
            t.and_then(|t| t.get(k))
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(t) = t {
            for k in t.keys() {
                if ![
                    "type",
                    "fields",
                    "aliases",
                    "none_if",
                    "rust",
                    "rust_type",
                    "doc",
                    "enum",
                ]
                .contains(&k.as_str())
                {
                    cx.err(file, mn, item.clone(), format!("unknown key `{k}`; a field table takes type, fields, aliases, none_if, rust, rust_type, doc, enum"));
                }
            }
        }
        let rust = get_str("rust")
            .map(str::to_owned)
            .unwrap_or_else(|| names::snake(key));
        if names::is_keyword(&rust) {
            cx.err(
                file,
                mn,
                item.clone(),
                format!(
                    "`{rust}` is a Rust keyword: write the field as a table with rust = \"...\""
                ),
            );
        } else if !names::is_snake_ident(&rust) {
            cx.err(
                file,
                mn,
                item.clone(),
                format!("Rust name `{rust}` is not a snake_case identifier; set `rust`"),
            );
        } else if rust == "unreadable" {
            cx.err(
                file,
                mn,
                item.clone(),
                "`unreadable` is the generated set of values that did not read; set `rust`"
                    .to_owned(),
            );
        }
        if !rust_names.insert(rust.clone()) {
            cx.err(file, mn, item.clone(), format!("Rust name `{rust}` clashes with another field after case conversion; set `rust`"));
        }
        let sub = t.and_then(|t| t.get("fields"));
        let mut fields = Vec::new();
        let mut struct_name = None;
        if ty.has_fields() {
            let name = get_str("rust_type")
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{owner_pascal}{}", names::pascal(key)));
            if !name.starts_with(|c: char| c.is_ascii_uppercase())
                || !name.chars().all(|c| c.is_ascii_alphanumeric())
            {
                cx.err(
                    file,
                    mn,
                    item.clone(),
                    format!("rust_type `{name}` must be UpperCamelCase"),
                );
            }
            match sub.and_then(|s| s.as_table()) {
                Some(st) if !st.is_empty() => {
                    let at2 = format!("{at}.{key}.fields");
                    fields = parse_fields(cx, file, method, owner_pascal, &at2, st);
                }
                _ => cx.err(
                    file,
                    mn,
                    item.clone(),
                    format!("type `{ty_text}` needs a non-empty `fields` table"),
                ),
            }
            struct_name = Some(name);
        } else if sub.is_some() {
            cx.err(
                file,
                mn,
                item.clone(),
                format!("`fields` does not apply to type `{ty_text}`"),
            );
        }
        if get_str("rust_type").is_some() && !ty.has_fields() {
            cx.err(
                file,
                mn,
                item.clone(),
                "`rust_type` only applies to object-bearing types".into(),
            );
        }
        out.push(Field {
            name: key.clone(),
            rust,
            aliases: get_list("aliases"),
            ty,
            fields,
            none_if: get_list("none_if"),
            doc: get_str("doc").unwrap_or("").trim().to_owned(),
            struct_name,
            enum_type: get_str("enum").map(str::to_owned),
        });
    }
    out
}

/// Checks an example object against declared fields, the way the SDK decodes it.
pub fn check_object(
    fields: &[Field],
    obj: &serde_json::Map<String, Json>,
    path: &str,
    root: bool,
    problems: &mut Vec<String>,
) {
    for (k, v) in obj {
        if root && k == "status" {
            continue;
        }
        let Some(f) = fields
            .iter()
            .find(|f| &f.name == k || f.aliases.iter().any(|a| a == k))
        else {
            problems.push(format!(
                "key `{path}.{k}` is not declared in the response (declare it, or remove it from the example)"
            ));
            continue;
        };
        check_value(f, v, &format!("{path}.{k}"), problems);
    }
}

fn check_value(f: &Field, v: &Json, path: &str, problems: &mut Vec<String>) {
    if let Some(t) = v.as_str().map(str::to_owned).or_else(|| match v {
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }) && f.none_if.contains(&t)
    {
        return;
    }
    match f.ty {
        FieldType::Scalar(s) => check_scalar(s, v, path, problems),
        FieldType::Object => match v {
            Json::Object(o) => check_object(&f.fields, o, path, false, problems),
            Json::Null => {}
            Json::Array(a) if a.is_empty() => {}
            Json::Array(a) if a.len() == 1 && a[0].is_object() => check_object(
                &f.fields,
                a[0].as_object().expect("object"),
                path,
                false,
                problems,
            ),
            Json::String(s) if s.is_empty() => {}
            _ => problems.push(format!("`{path}` should be an object, found {v}")),
        },
        FieldType::List(item) => {
            let items: Vec<&Json> = match v {
                Json::Array(a) => a.iter().collect(),
                Json::Null | Json::Bool(false) => Vec::new(),
                Json::String(s) if s.is_empty() => Vec::new(),
                single => vec![single],
            };
            for (i, x) in items.into_iter().enumerate() {
                check_item(item, &f.fields, x, &format!("{path}[{i}]"), problems);
            }
        }
        FieldType::Map(item) => match v {
            Json::Object(o) => {
                for (k, x) in o {
                    check_item(item, &f.fields, x, &format!("{path}.{k}"), problems);
                }
            }
            Json::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    check_item(item, &f.fields, x, &format!("{path}[{i}]"), problems);
                }
            }
            Json::Null => {}
            _ => problems.push(format!(
                "`{path}` should be an object keyed by data, found {v}"
            )),
        },
    }
}

fn check_item(item: Item, fields: &[Field], v: &Json, path: &str, problems: &mut Vec<String>) {
    match item {
        Item::Scalar(s) => check_scalar(s, v, path, problems),
        Item::Object => match v {
            Json::Object(o) => check_object(fields, o, path, false, problems),
            Json::Null => {}
            _ => problems.push(format!("`{path}` should be an object, found {v}")),
        },
    }
}

fn check_scalar(s: Scalar, v: &Json, path: &str, problems: &mut Vec<String>) {
    let ok = match (s, v) {
        (_, Json::Null) => true,
        (Scalar::Json, _) => true,
        (_, Json::Array(_) | Json::Object(_)) => false,
        (Scalar::Text, _) => true,
        (Scalar::Int, Json::String(t)) => t.trim().is_empty() || t.trim().parse::<i64>().is_ok(),
        (Scalar::Int, Json::Number(n)) => {
            n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        (Scalar::Int, Json::Bool(_)) => true,
        (Scalar::Decimal, Json::String(t)) => t.trim().is_empty() || is_decimal(t.trim()),
        (Scalar::Decimal, Json::Number(_)) => true,
        (Scalar::Decimal, Json::Bool(_)) => false,
        (Scalar::Flag, Json::Bool(_)) => true,
        (Scalar::Flag, Json::Number(n)) => matches!(n.as_i64(), Some(0 | 1)),
        (Scalar::Flag, Json::String(t)) => matches!(
            t.trim().to_ascii_lowercase().as_str(),
            "" | "1" | "0" | "yes" | "no" | "y" | "n" | "true" | "false" | "on" | "off"
        ),
        (Scalar::Date, Json::String(t)) => {
            let t = t.trim();
            t.is_empty() || t.starts_with("0000-00-00") || is_date(t.get(..10).unwrap_or(t))
        }
        (Scalar::DateTime, Json::String(t)) => {
            let t = t.trim();
            t.is_empty() || t.starts_with("0000-00-00") || is_datetime(t)
        }
        (Scalar::DateOrPeriod, Json::String(t)) => {
            let t = t.trim();
            t.is_empty()
                || t.starts_with("0000-00-00")
                || is_datetime(t)
                || t.split_once(" to ")
                    .is_some_and(|(a, b)| is_date(a.trim()) && is_date(b.trim()))
        }
        (Scalar::Date | Scalar::DateTime | Scalar::DateOrPeriod, Json::Bool(b)) => !b,
        (Scalar::Date | Scalar::DateTime | Scalar::DateOrPeriod, Json::Number(_)) => false,
        (Scalar::Limit, Json::String(t)) => {
            t.trim().eq_ignore_ascii_case("unlimited")
                || t.trim().is_empty()
                || t.trim().parse::<i64>().is_ok()
        }
        (Scalar::Limit, Json::Number(n)) => n.is_i64(),
        (Scalar::Limit, Json::Bool(_)) => true,
    };
    if !ok {
        problems.push(format!(
            "`{path}` = {v} does not decode as `{}`",
            scalar_name(s)
        ));
    }
}

fn scalar_name(s: Scalar) -> &'static str {
    match s {
        Scalar::Text => "text",
        Scalar::Int => "int",
        Scalar::Decimal => "decimal",
        Scalar::Flag => "flag",
        Scalar::Date => "date",
        Scalar::DateTime => "datetime",
        Scalar::DateOrPeriod => "date_or_period",
        Scalar::Limit => "limit",
        Scalar::Json => "json",
    }
}

fn is_decimal(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (i, f) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    digits(i) && f.is_none_or(|f| !f.is_empty() && digits(f)) && (!i.is_empty() || f.is_some())
}

fn is_date(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        let s = &t[r];
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse::<u32>().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

fn is_datetime(t: &str) -> bool {
    let (d, rest) = match t.split_once(' ') {
        Some(x) => x,
        None => return is_date(t),
    };
    if !is_date(d) {
        return false;
    }
    let parts: Vec<&str> = rest.split(':').collect();
    let limits = [23u32, 59, 59];
    (parts.len() == 2 || parts.len() == 3)
        && parts.iter().zip(limits).all(|(p, max)| {
            p.len() == 2
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|v| v <= max)
        })
}

fn check_global(cx: &mut Ctx, categories: &[Category], enums: &[SharedEnum]) {
    check_sandbox_models(cx, categories);
    check_parents(cx, categories);
    // Names that share the api module (everything is re-exported at its root).
    let mut types: BTreeMap<String, String> = enums
        .iter()
        .map(|e| (e.name.clone(), "enums.toml".to_owned()))
        .collect();
    let mut wire: BTreeMap<String, String> = BTreeMap::new();
    let mut rust_fns: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |cx: &mut Ctx, file: &str, method: &str, ty: &str| {
        if let Some(prev) = types.insert(ty.to_owned(), method.to_owned()) {
            cx.err(
                file,
                Some(method),
                None,
                format!(
                    "generated type name `{ty}` is also generated for `{prev}`; set `rust_type` or `rust` to tell them apart"
                ),
            );
        }
    };
    for c in categories {
        for m in &c.methods {
            if let Some(prev) = wire.insert(m.name.clone(), c.file.clone()) {
                cx.err(
                    &c.file,
                    Some(&m.name),
                    None,
                    format!("duplicate method: also defined in {prev}"),
                );
            }
            if let Some(prev) = rust_fns.insert(m.rust.clone(), m.name.clone()) {
                cx.err(
                    &c.file,
                    Some(&m.name),
                    None,
                    format!(
                        "Rust name `{}` clashes with `{prev}` after case conversion; set `rust`",
                        m.rust
                    ),
                );
            }
            claim(cx, &c.file, &m.name, &m.pascal);
            claim(cx, &c.file, &m.name, &m.response_type);
            for p in m.params.iter().filter(|p| !p.shared) {
                if let Some(e) = &p.enum_type {
                    claim(cx, &c.file, &m.name, e);
                }
            }
            let mut stack: Vec<&Field> = m.response.iter().collect();
            while let Some(f) = stack.pop() {
                if let Some(s) = &f.struct_name {
                    claim(cx, &c.file, &m.name, s);
                }
                stack.extend(&f.fields);
            }
        }
    }
}

/// A `sandbox` model's `read` names a read method of any file, and a family's methods carry
/// none (the family is their model).
fn check_sandbox_models(cx: &mut Ctx, categories: &[Category]) {
    let all: BTreeMap<&str, &Method> = categories
        .iter()
        .flat_map(|c| &c.methods)
        .map(|m| (m.name.as_str(), m))
        .collect();
    for c in categories {
        for m in &c.methods {
            let Some(sb) = &m.sandbox else { continue };
            let item = Some("sandbox".to_owned());
            if let Some(read) = &sb.read {
                match all.get(read.as_str()) {
                    None => cx.err(
                        &c.file,
                        Some(&m.name),
                        item.clone(),
                        format!("`read`: no method `{read}`"),
                    ),
                    Some(r) if r.effect != Effect::Read => cx.err(
                        &c.file,
                        Some(&m.name),
                        item.clone(),
                        format!("`read`: `{read}` is not a read method"),
                    ),
                    Some(r) => {
                        for (rp, wp) in &sb.read_with {
                            if r.param(rp).is_none() {
                                cx.err(
                                    &c.file,
                                    Some(&m.name),
                                    item.clone(),
                                    format!("`read_with`: `{read}` has no parameter `{rp}`"),
                                );
                            }
                            if m.param(wp).is_none() {
                                cx.err(
                                    &c.file,
                                    Some(&m.name),
                                    item.clone(),
                                    format!("`read_with`: no parameter `{wp}` on this method"),
                                );
                            }
                        }
                    }
                }
            }
            let in_family = categories
                .iter()
                .flat_map(|c| &c.families)
                .any(|f| f.set == m.name || f.del.as_deref() == Some(m.name.as_str()));
            if in_family {
                cx.err(
                    &c.file,
                    Some(&m.name),
                    item,
                    "belongs to a `[[family]]`, which is its model: remove `sandbox`".into(),
                );
            }
        }
    }
}

/// A family's `parent` names another family; a `list` link is a field of that family's records.
fn check_parents(cx: &mut Ctx, categories: &[Category]) {
    let families: BTreeMap<&str, &Family> = categories
        .iter()
        .flat_map(|c| &c.families)
        .map(|f| (f.name.as_str(), f))
        .collect();
    let methods: BTreeMap<&str, &Method> = categories
        .iter()
        .flat_map(|c| &c.methods)
        .map(|m| (m.name.as_str(), m))
        .collect();
    for c in categories {
        for f in &c.families {
            let Some(p) = &f.parent else { continue };
            let item = Some(format!("family `{}`", f.name));
            let Some(parent) = families.get(p.family.as_str()) else {
                cx.err(
                    &c.file,
                    None,
                    item,
                    format!("`parent.family`: no family `{}`", p.family),
                );
                continue;
            };
            if parent.name == f.name {
                cx.err(
                    &c.file,
                    None,
                    item.clone(),
                    "`parent.family`: a family cannot be its own parent".into(),
                );
            }
            if let ParentLink::List(list) = &p.link {
                let listed = methods
                    .get(parent.get.as_str())
                    .and_then(|g| g.response.iter().find(|r| r.name == parent.list_key))
                    .is_some_and(|l| l.fields.iter().any(|x| &x.name == list));
                if !listed {
                    cx.err(
                        &c.file,
                        None,
                        item,
                        format!(
                            "`parent.list`: the records of `{}` have no field `{list}`",
                            parent.name
                        ),
                    );
                }
            }
        }
    }
}

impl Method {
    /// A parameter by wire name.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_dates_must_exist_on_the_calendar() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2024-02-30"));
        assert!(!is_date("2024-13-01"));
        assert!(!is_date("2024-1-01"));
        assert!(is_datetime("2024-02-29 23:59:59"));
        assert!(is_datetime("2024-02-29 08:05"));
        assert!(!is_datetime("2024-02-29 25:99:99"));
        assert!(!is_datetime("2024-02-29 12:60:00"));
    }
}
