//! The static description of every VoIP.ms method, generated from `api-spec/`.
//!
//! The CLI builds its commands from it, the MCP server its tool schemas, the sandbox its request
//! validation. It is plain data (no serde, no typed responses), so it costs almost nothing to
//! compile and is always available, whatever cargo features are enabled.

#[rustfmt::skip]
#[path = "generated/catalog.rs"]
mod data;

pub use data::{CATEGORIES, FAMILIES, METHODS, SANDBOX_WRITES};

/// What calling a method does to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Changes nothing. Safe to retry.
    Read,
    /// Creates or changes something.
    Write,
    /// Deletes or cancels something.
    Destructive,
    /// Spends money or cannot be undone (orders, payments, sending messages).
    Billable,
}

impl Effect {
    /// The spec's spelling: `read`, `write`, `destructive`, `billable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Read => "read",
            Effect::Write => "write",
            Effect::Destructive => "destructive",
            Effect::Billable => "billable",
        }
    }

    /// Whether the call changes the account.
    pub fn is_mutating(self) -> bool {
        self != Effect::Read
    }
}

/// A group of related methods (one spec file, one cargo feature, one CLI group).
#[derive(Debug, Clone, Copy)]
pub struct Category {
    /// Slug: `phonebook`, `cdr`, …
    pub slug: &'static str,
    /// Human title.
    pub title: &'static str,
    /// One or two sentences.
    pub about: &'static str,
}

/// One API method.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    /// Wire name (`getDIDsInfo`).
    pub name: &'static str,
    /// Rust snake-case name (`get_dids_info`).
    pub rust_name: &'static str,
    /// Category slug.
    pub category: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Longer notes; may be empty.
    pub description: &'static str,
    /// What the call does to the account.
    pub effect: Effect,
    /// Documented by VoIP.ms but missing from its WSDL.
    pub rest_only: bool,
    /// Statuses meaning "nothing to list".
    pub empty_statuses: &'static [&'static str],
    /// Parameters, in wire order.
    pub params: &'static [Param],
    /// Payload fields of a successful response.
    pub response: &'static [Field],
    /// A complete example response as JSON text.
    pub example: &'static str,
    /// Command-line hints.
    pub cli: Cli,
}

impl Method {
    /// A parameter by wire name.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether `status` means "nothing to list" for this method.
    pub fn is_empty_status(&self, status: &str) -> bool {
        self.empty_statuses.contains(&status)
    }

    /// The kebab-case command name (`get-dids-info`).
    pub fn kebab_name(&self) -> String {
        self.rust_name.replace('_', "-")
    }
}

/// One request parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Wire name.
    pub name: &'static str,
    /// Rust name of the setter or `new` argument.
    pub rust_name: &'static str,
    /// Value type and encoding.
    pub kind: ParamKind,
    /// VoIP.ms rejects the call without it.
    pub required: bool,
    /// What it is.
    pub description: &'static str,
    /// A realistic value.
    pub example: Option<&'static str>,
    /// Allowed values of an enum parameter.
    pub values: &'static [EnumValue],
}

/// Type and wire encoding of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Free text.
    String,
    /// Whole number.
    Integer,
    /// Exact decimal (money).
    Decimal,
    /// Flag sent as `1`/`0`.
    Flag,
    /// Flag sent as `yes`/`no`.
    YesNo,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS`.
    DateTime,
    /// One of [`Param::values`].
    Enum,
    /// `header:value` routing target.
    Routing,
    /// Items joined with the separator.
    List {
        /// `;` or `,`.
        separator: &'static str,
    },
    /// Base64 payload (sent as multipart POST).
    Base64,
    /// Phone number or DID, kept as text.
    Phone,
    /// E-mail address.
    Email,
    /// URL (or `data:` URI).
    Url,
    /// Hours from -12 to 13, whole or in quarter hours (`5.5`).
    TzOffset,
    /// Named time zone from getTimezones.
    Timezone,
}

impl ParamKind {
    /// The spec's spelling of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Integer => "integer",
            ParamKind::Decimal => "decimal",
            ParamKind::Flag => "flag",
            ParamKind::YesNo => "yesno",
            ParamKind::Date => "date",
            ParamKind::DateTime => "datetime",
            ParamKind::Enum => "enum",
            ParamKind::Routing => "routing",
            ParamKind::List { .. } => "list",
            ParamKind::Base64 => "base64",
            ParamKind::Phone => "phone",
            ParamKind::Email => "email",
            ParamKind::Url => "url",
            ParamKind::TzOffset => "tz_offset",
            ParamKind::Timezone => "timezone",
        }
    }
}

/// An allowed value of an enum parameter.
#[derive(Debug, Clone, Copy)]
pub struct EnumValue {
    /// Wire text.
    pub value: &'static str,
    /// Rust variant name.
    pub name: &'static str,
    /// What it means; may be empty.
    pub doc: &'static str,
}

/// A field of a response (or of an object inside one).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Wire key.
    pub name: &'static str,
    /// Other keys VoIP.ms has used for it.
    pub aliases: &'static [&'static str],
    /// Shape.
    pub kind: FieldKind,
    /// Fields of an object, a list of objects or a map of objects.
    pub fields: &'static [Field],
    /// Wire values that mean "not set".
    pub none_if: &'static [&'static str],
    /// What it is; may be empty.
    pub doc: &'static str,
}

/// Shape of a response field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A single value.
    Scalar(Scalar),
    /// An object with [`Field::fields`].
    Object,
    /// A list (or a single item standing for a one-item list).
    List(Item),
    /// An object whose keys are data.
    Map(Item),
}

/// Element of a list or map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// Scalars.
    Scalar(Scalar),
    /// Objects with [`Field::fields`].
    Object,
}

/// Scalar response types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// Text (ids, phone numbers).
    Text,
    /// Whole number.
    Int,
    /// Exact decimal.
    Decimal,
    /// 1/0 or yes/no.
    Flag,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS`.
    DateTime,
    /// A date, a date and time, or a period `YYYY-MM-DD to YYYY-MM-DD`.
    DateOrPeriod,
    /// Number or `Unlimited`.
    Limit,
    /// Any JSON.
    Json,
}

/// Command-line hints.
#[derive(Debug, Clone, Copy)]
pub struct Cli {
    /// Which parameter a bare positional argument fills.
    pub positional: &'static [Positional],
    /// Extra command names.
    pub aliases: &'static [&'static str],
}

/// A positional shortcut: a bare argument fills `param` when it matches `when`.
#[derive(Debug, Clone, Copy)]
pub struct Positional {
    /// Wire name of the parameter.
    pub param: &'static str,
    /// When the shortcut applies.
    pub when: PositionalWhen,
}

/// Condition of a positional shortcut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionalWhen {
    /// Only ASCII digits.
    Digits,
    /// Anything.
    Any,
}

impl PositionalWhen {
    /// Whether `arg` satisfies the condition.
    pub fn matches(self, arg: &str) -> bool {
        match self {
            PositionalWhen::Digits => !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()),
            PositionalWhen::Any => true,
        }
    }
}

/// A resource family (`[[family]]` in `api-spec/`): the records one `set*` method creates (no id)
/// or updates (an id), one `get*` method lists (or fetches by id) and one `del*` method deletes.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// Name of the family (`call_parking`).
    pub name: &'static str,
    /// The method that lists the records.
    pub get: &'static str,
    /// The method that creates or updates one.
    pub set: &'static str,
    /// The method that deletes one, if any.
    pub del: Option<&'static str>,
    /// The id parameter of `get` (a filter).
    pub get_id: &'static str,
    /// The id parameter of `set` (absent: create).
    pub set_id: &'static str,
    /// The id parameter of `del`.
    pub del_id: Option<&'static str>,
    /// The key of `get`'s response that lists the records.
    pub list_key: &'static str,
    /// The id field of a record.
    pub id_field: &'static str,
    /// The key of `set`'s reply that carries the id (`None`: a status-only reply).
    pub reply_key: Option<&'static str>,
    /// The status VoIP.ms answers for an id that names no record.
    pub not_found: &'static str,
    /// `set` parameters stored under another record field.
    pub fields: &'static [(&'static str, &'static str)],
    /// A successful `del` answers an empty body.
    pub empty_del: bool,
    /// The record each record of this family belongs to (a queue's static members).
    pub parent: Option<Parent>,
}

/// The parent of a [`Family`]'s records: one record of another family, named by `param`.
#[derive(Debug, Clone, Copy)]
pub struct Parent {
    /// The parent family (`queues`).
    pub family: &'static str,
    /// The parameter naming the parent, on `set` and on `get` and `del` where they take it.
    pub param: &'static str,
    /// Where the link is kept.
    pub link: ParentLink,
}

/// Where the link between a record and its parent is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentLink {
    /// This field of the record holds the parent's id.
    Field(&'static str),
    /// This field of the parent record lists its children's ids, joined by `;`.
    List(&'static str),
}

/// How the sandbox makes a write real when no [`Family`] holds it (`sandbox = {…}` in
/// `api-spec/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxModel {
    /// A hand-written handler stores what the call says; the `read` method reads it back.
    Hand,
    /// An operation whose effect shows in the `read` method (a sent SMS in getSMS, an order in
    /// the DIDs and the balance), or that cannot be observed through the API (then `read` is
    /// `None` and `why` says so).
    Action,
}

/// One write's sandbox model.
#[derive(Debug, Clone, Copy)]
pub struct SandboxWrite {
    /// The write method.
    pub method: &'static str,
    /// How it is modelled.
    pub model: SandboxModel,
    /// The read method that shows its effect.
    pub read: Option<&'static str>,
    /// Parameters of `read` filled from the write's: (read parameter, write parameter), such
    /// as getSMS's `sms` from deleteSMS's `id`.
    pub read_with: &'static [(&'static str, &'static str)],
    /// Why it is not a family's record write.
    pub why: &'static str,
}

/// The sandbox model of a write that no family holds.
pub fn sandbox_write(method: &str) -> Option<&'static SandboxWrite> {
    SANDBOX_WRITES
        .binary_search_by(|w| w.method.cmp(method))
        .ok()
        .map(|i| &SANDBOX_WRITES[i])
}

/// The family whose `get`, `set` or `del` method is `method`.
pub fn family_of(method: &str) -> Option<&'static Family> {
    FAMILIES
        .iter()
        .find(|f| f.get == method || f.set == method || f.del == Some(method))
}

/// A method by exact wire name.
pub fn method(name: &str) -> Option<&'static Method> {
    METHODS
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &METHODS[i])
}

/// A method by wire name in any case (`getdidsinfo`), by Rust name (`get_dids_info`) or by
/// kebab name (`get-dids-info`).
pub fn find_method(name: &str) -> Option<&'static Method> {
    method(name).or_else(|| {
        let norm = name.replace('-', "_");
        METHODS
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name) || m.rust_name.eq_ignore_ascii_case(&norm))
    })
}

/// A category by slug.
pub fn category(slug: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_and_complete() {
        assert_eq!(METHODS.len(), 226);
        assert!(METHODS.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(CATEGORIES.len(), 30);
        for m in METHODS {
            assert!(category(m.category).is_some(), "{} has no category", m.name);
            assert!(!m.summary.is_empty(), "{} has no summary", m.name);
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(method("getDIDsInfo").unwrap().rust_name, "get_dids_info");
        assert!(method("getdidsinfo").is_none());
        assert_eq!(find_method("getdidsinfo").unwrap().name, "getDIDsInfo");
        assert_eq!(find_method("get-dids-info").unwrap().name, "getDIDsInfo");
        assert_eq!(
            find_method("set_caller_id_filtering").unwrap().name,
            "setCallerIDFiltering"
        );
        assert_eq!(method("getCDR").unwrap().effect, Effect::Read);
        assert_eq!(method("sendSMS").unwrap().effect, Effect::Billable);
        assert!(PositionalWhen::Digits.matches("16389"));
        assert!(!PositionalWhen::Digits.matches("Spam"));
    }
}
