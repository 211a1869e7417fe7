//! The curated tools: the prototype's thirteen and the spam tools, each over one of the SDK's
//! helpers (the same helpers and JSON views the CLI's friendly commands use). Their arguments are
//! described with catalog parameter kinds, so schemas and validation come from the shared table.

use serde_json::{Map, Value, json};
use voipms_sdk::catalog::{Effect, Param, ParamKind};
use voipms_sdk::cdr::CdrQuery;
use voipms_sdk::phonebook::OrphanEntries;
use voipms_sdk::recordings::Recordings;
use voipms_sdk::spam::{InspectOptions, SuggestOptions, UnmarkOptions};
use voipms_sdk::{Account, Client, Date, DateRange, Filters, Phonebook, SpamGuard};

use crate::core::transcripts::store::Filter;
use crate::core::transcripts::{Answered, Outcome, Service};
use crate::core::{encode, schema, views};
use crate::mcp::tools::{dry_run_property, object_schema};

/// The curated tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Curated {
    GetBalance,
    GetPhonebookGroups,
    GetPhonebookEntries,
    GetCalleridFilters,
    GetAccounts,
    GetCallAccounts,
    GetCallRecordings,
    GetCallRecording,
    SendCallRecordingEmail,
    GetCallTranscript,
    SearchTranscripts,
    GetRecentCdr,
    AddNumberToPhonebookGroup,
    RemoveNumberFromPhonebookGroup,
    InspectNumber,
    SuggestSpamNumbers,
    MarkNumberAsSpam,
    UnmarkNumberAsSpam,
}

/// One curated tool.
#[derive(Debug)]
pub struct Spec {
    /// Which.
    pub id: Curated,
    /// Tool name.
    pub name: &'static str,
    /// Its toolset.
    pub toolset: &'static str,
    /// The catalog method whose generated tool it replaces, if any.
    pub covers: Option<&'static str>,
    /// Display title.
    pub title: &'static str,
    /// What it does, for the agent.
    pub description: &'static str,
    /// The strongest effect of the calls it makes.
    pub effect: Effect,
    /// Whether calling it twice leaves the account as once.
    pub idempotent: bool,
    /// Its arguments (a mutating tool also takes `dry_run`).
    pub args: &'static [Param],
    /// Whether it pages its list with `limit` and `cursor`.
    pub paged: bool,
    /// The JSON Schema of its structured result.
    pub output: fn() -> Value,
}

const fn arg(
    name: &'static str,
    kind: ParamKind,
    required: bool,
    description: &'static str,
) -> Param {
    Param {
        name,
        rust_name: name,
        kind,
        required,
        description,
        example: None,
        values: &[],
    }
}

const NUMBER: Param = arg(
    "number",
    ParamKind::Phone,
    true,
    "Phone number, 10-digit NANP or E.164",
);
const GROUP: Param = arg(
    "group",
    ParamKind::String,
    true,
    "Phonebook group name (or id)",
);
const REC_ACCOUNT: Param = arg(
    "account",
    ParamKind::String,
    true,
    "Call account from voipms_get_call_accounts, e.g. 100001_VoIP",
);
const REC_ID: Param = arg(
    "id",
    ParamKind::String,
    true,
    "Recording id from voipms_get_call_recordings",
);
const DAYS: Param = arg(
    "days",
    ParamKind::Integer,
    false,
    "How many days back to look, today included (default 90)",
);

/// Every curated tool, in list order.
pub static SPECS: &[Spec] = &[
    Spec {
        id: Curated::GetBalance,
        name: "voipms_get_balance",
        toolset: "core",
        covers: Some("getBalance"),
        title: "Account balance",
        description: "The account's balance; with advanced, today's and all-time spending too.",
        effect: Effect::Read,
        idempotent: true,
        args: &[arg(
            "advanced",
            ParamKind::Flag,
            false,
            "Add spending and call totals",
        )],
        paged: false,
        output: || out(&[("balance", "string?")], &["balance"]),
    },
    Spec {
        id: Curated::GetPhonebookGroups,
        name: "voipms_get_phonebook_groups",
        toolset: "core",
        covers: Some("getPhonebookGroups"),
        title: "Phonebook groups",
        description: "Every phonebook group with its member entry ids.",
        effect: Effect::Read,
        idempotent: true,
        args: &[],
        paged: false,
        output: || out(&[("groups", "array")], &["groups"]),
    },
    Spec {
        id: Curated::GetPhonebookEntries,
        name: "voipms_get_phonebook_entries",
        toolset: "core",
        covers: None,
        title: "Phonebook entries",
        description: "Phonebook entries with the groups holding each; only one group's, or one number's, when given.",
        effect: Effect::Read,
        idempotent: true,
        args: &[
            arg(
                "group",
                ParamKind::String,
                false,
                "Only this group's members (name or id)",
            ),
            arg(
                "number",
                ParamKind::Phone,
                false,
                "Only entries for this number",
            ),
        ],
        paged: true,
        output: || out(&[("entries", "array"), ("total", "integer")], &["entries"]),
    },
    Spec {
        id: Curated::GetCalleridFilters,
        name: "voipms_get_callerid_filters",
        toolset: "core",
        covers: None,
        title: "Caller ID filters",
        description: "The Caller ID filter rules (blocking and routing by caller number or phonebook group).",
        effect: Effect::Read,
        idempotent: true,
        args: &[arg(
            "did",
            ParamKind::Phone,
            false,
            "Only rules of this DID",
        )],
        paged: false,
        output: || out(&[("filters", "array")], &["filters"]),
    },
    Spec {
        id: Curated::GetAccounts,
        name: "voipms_get_accounts",
        toolset: "core",
        covers: None,
        title: "Sub-accounts",
        description: "The account's sub-accounts (SIP users) and their settings; passwords are masked.",
        effect: Effect::Read,
        idempotent: true,
        args: &[arg(
            "account",
            ParamKind::String,
            false,
            "Only this sub-account, e.g. 100001_VoIP",
        )],
        paged: false,
        output: || out(&[("accounts", "array")], &["accounts"]),
    },
    Spec {
        id: Curated::GetCallAccounts,
        name: "voipms_get_call_accounts",
        toolset: "core",
        covers: Some("getCallAccounts"),
        title: "Call accounts",
        description: "The values the account filter of recordings and call records takes.",
        effect: Effect::Read,
        idempotent: true,
        args: &[],
        paged: false,
        output: || out(&[("accounts", "array")], &["accounts"]),
    },
    Spec {
        id: Curated::GetCallRecordings,
        name: "voipms_get_call_recordings",
        toolset: "core",
        covers: Some("getCallRecordings"),
        title: "Call recordings",
        description: "Call recordings of an account in a date range (default: the last 30 days), newest first.",
        effect: Effect::Read,
        idempotent: true,
        args: &[
            arg(
                "account",
                ParamKind::String,
                false,
                "Call account from voipms_get_call_accounts (default all)",
            ),
            arg("date_from", ParamKind::Date, false, "First day"),
            arg(
                "date_to",
                ParamKind::Date,
                false,
                "Last day (default today)",
            ),
        ],
        paged: true,
        output: || {
            out(
                &[("recordings", "array"), ("total", "integer")],
                &["recordings"],
            )
        },
    },
    Spec {
        id: Curated::GetCallRecording,
        name: "voipms_get_call_recording",
        toolset: "core",
        covers: Some("getCallRecording"),
        title: "Call recording audio",
        description: "One call recording: its details and the MP3 audio.",
        effect: Effect::Read,
        idempotent: true,
        args: &[REC_ACCOUNT, REC_ID],
        paged: false,
        output: || {
            out(
                &[("recording", "object"), ("bytes", "integer")],
                &["recording"],
            )
        },
    },
    Spec {
        id: Curated::SendCallRecordingEmail,
        name: "voipms_send_call_recording_email",
        toolset: "core",
        covers: Some("sendCallRecordingEmail"),
        title: "E-mail a recording",
        description: "Have VoIP.ms e-mail a call recording with its details.",
        effect: Effect::Write,
        idempotent: false,
        args: &[
            REC_ACCOUNT,
            REC_ID,
            arg("email", ParamKind::Email, true, "Where to send it"),
        ],
        paged: false,
        output: change_output,
    },
    Spec {
        id: Curated::GetCallTranscript,
        name: "voipms_get_call_transcript",
        toolset: "core",
        covers: None,
        title: "Call transcript",
        description: "Transcript of a recorded call, timed segments with speakers: stored before, else VoIP.ms's own, else (if the server allows) the configured provider, which receives the audio. Says which.",
        effect: Effect::Read,
        idempotent: true,
        args: &[
            REC_ACCOUNT,
            REC_ID,
            arg(
                "transcribe",
                ParamKind::Flag,
                false,
                "false: never send the audio to the provider (default true)",
            ),
        ],
        paged: false,
        output: || {
            out(
                &[("found", "boolean"), ("answered_by", "string?")],
                &["found"],
            )
        },
    },
    Spec {
        id: Curated::SearchTranscripts,
        name: "voipms_search_transcripts",
        toolset: "core",
        covers: None,
        title: "Search transcripts",
        description: "Full-text search of the stored call and voicemail transcripts, best match first, with the matching passage.",
        effect: Effect::Read,
        idempotent: true,
        args: &[
            arg(
                "query",
                ParamKind::String,
                true,
                "Words that must all occur; word* for a prefix",
            ),
            arg("date_from", ParamKind::Date, false, "First day of the call"),
            arg("date_to", ParamKind::Date, false, "Last day of the call"),
            arg(
                "caller",
                ParamKind::String,
                false,
                "Only calls with this number",
            ),
        ],
        paged: true,
        output: || out(&[("results", "array"), ("total", "integer")], &["results"]),
    },
    Spec {
        id: Curated::GetRecentCdr,
        name: "voipms_get_recent_cdr",
        toolset: "core",
        covers: None,
        title: "Recent calls",
        description: "Call records of the last days (default 7), newest first, every status.",
        effect: Effect::Read,
        idempotent: true,
        args: &[
            arg(
                "days",
                ParamKind::Integer,
                false,
                "How many days back, today included (default 7)",
            ),
            arg(
                "number",
                ParamKind::Phone,
                false,
                "Only calls from or to this number",
            ),
        ],
        paged: true,
        output: || out(&[("calls", "array"), ("total", "integer")], &["calls"]),
    },
    Spec {
        id: Curated::AddNumberToPhonebookGroup,
        name: "voipms_add_number_to_phonebook_group",
        toolset: "core",
        covers: None,
        title: "Add a number to a phonebook group",
        description: "Add a number to a phonebook group, creating the group and the entry when needed; never duplicates.",
        effect: Effect::Write,
        idempotent: true,
        args: &[
            GROUP,
            NUMBER,
            arg("name", ParamKind::String, false, "Name of a new entry"),
        ],
        paged: false,
        output: change_output,
    },
    Spec {
        id: Curated::RemoveNumberFromPhonebookGroup,
        name: "voipms_remove_number_from_phonebook_group",
        toolset: "core",
        covers: None,
        title: "Remove a number from a phonebook group",
        description: "Take a number's entries out of a phonebook group (entries are kept).",
        effect: Effect::Write,
        idempotent: true,
        args: &[GROUP, NUMBER],
        paged: false,
        output: change_output,
    },
    Spec {
        id: Curated::InspectNumber,
        name: "voipms_inspect_number",
        toolset: "spam",
        covers: None,
        title: "Inspect a number",
        description: "Everything about one number: blocked or not, phonebook entries and groups, matching filters, call statistics, recent calls and messages.",
        effect: Effect::Read,
        idempotent: true,
        args: &[NUMBER, DAYS],
        paged: false,
        output: || {
            out(
                &[("number", "string"), ("verdict", "object")],
                &["number", "verdict"],
            )
        },
    },
    Spec {
        id: Curated::SuggestSpamNumbers,
        name: "voipms_suggest_spam_numbers",
        toolset: "spam",
        covers: None,
        title: "Suggest spam callers",
        description: "Callers ranked by how much they look like spam, with the reasons behind each score; numbers already marked or blocked are left out.",
        effect: Effect::Read,
        idempotent: true,
        args: &[
            DAYS,
            arg(
                "min_score",
                ParamKind::Integer,
                false,
                "Lowest score listed (default 40)",
            ),
        ],
        paged: true,
        output: || {
            out(
                &[("candidates", "array"), ("total", "integer")],
                &["candidates"],
            )
        },
    },
    Spec {
        id: Curated::MarkNumberAsSpam,
        name: "voipms_mark_number_as_spam",
        toolset: "spam",
        covers: None,
        title: "Mark a number as spam",
        description: "Block a number: add it to the Spam phonebook group, which one Caller ID filter rule blocks.",
        effect: Effect::Write,
        idempotent: true,
        args: &[NUMBER],
        paged: false,
        output: change_output,
    },
    Spec {
        id: Curated::UnmarkNumberAsSpam,
        name: "voipms_unmark_number_as_spam",
        toolset: "spam",
        covers: None,
        title: "Unmark a spam number",
        description: "Unblock a number: take it out of the Spam group and remove rules that block it alone.",
        effect: Effect::Write,
        idempotent: true,
        args: &[NUMBER],
        paged: false,
        output: change_output,
    },
];

/// The spec of a curated tool.
pub fn spec(id: Curated) -> &'static Spec {
    SPECS
        .iter()
        .find(|s| s.id == id)
        .expect("every curated tool has a spec")
}

/// An output schema: an object with these typed properties.
fn out(props: &[(&str, &str)], required: &[&str]) -> Value {
    let mut p = Map::new();
    for (name, ty) in props {
        let s = match *ty {
            "array" => json!({"type": "array", "items": {"type": "object"}}),
            "string?" => json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
            t => json!({ "type": t }),
        };
        p.insert((*name).to_owned(), s);
    }
    let mut s = json!({"type": "object", "properties": p});
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    s
}

/// The output of a tool that may change the account: a dry run's plan or what was done.
fn change_output() -> Value {
    out(
        &[
            ("dry_run", "boolean"),
            ("changed", "boolean"),
            ("calls", "array"),
        ],
        &[],
    )
}

/// The input schema of a curated tool.
pub fn input_schema(spec: &Spec) -> Value {
    let mut props = Map::new();
    for a in spec.args {
        props.insert(a.name.to_owned(), schema::param_schema(a));
    }
    if spec.paged {
        props.insert(
            "limit".into(),
            json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE}),
        );
        props.insert(
            "cursor".into(),
            json!({"type": "string", "description": "next_cursor of the previous page"}),
        );
    }
    if spec.effect.is_mutating() {
        props.insert("dry_run".into(), dry_run_property());
    }
    let required: Vec<&str> = spec
        .args
        .iter()
        .filter(|a| a.required)
        .map(|a| a.name)
        .collect();
    object_schema(props, &required)
}

/// Items on a page unless `limit` says otherwise.
pub const DEFAULT_PAGE: usize = 50;
/// The largest page.
pub const MAX_PAGE: usize = 500;

/// A curated tool's arguments, validated against its spec (unknown names refused).
#[derive(Debug)]
pub struct Args {
    values: Map<String, Value>,
}

impl Args {
    /// Checks `given` against `spec`: no unknown names, every required argument, every value of
    /// its kind. All problems are reported together.
    pub fn check(spec: &Spec, given: Map<String, Value>) -> Result<Args, String> {
        let mut problems = Vec::new();
        let today = encode::today();
        let mut values = Map::new();
        for (k, v) in &given {
            let known = spec.args.iter().find(|a| a.name == k);
            match (known, k.as_str()) {
                (Some(p), _) => match value_text(v) {
                    Ok(None) => {}
                    Ok(Some(raw)) => match encode::encode(p, &raw, today) {
                        Ok(text) => {
                            values.insert(k.clone(), Value::String(text));
                        }
                        Err(e) => problems.push(format!("`{k}`: {e}")),
                    },
                    Err(e) => problems.push(format!("`{k}`: {e}")),
                },
                (None, "dry_run") if spec.effect.is_mutating() => match v {
                    Value::Bool(_) | Value::Null => {
                        values.insert(k.clone(), v.clone());
                    }
                    _ => problems.push("`dry_run`: use true or false".to_owned()),
                },
                (None, "limit") if spec.paged => match v.as_u64() {
                    Some(n) if (1..=MAX_PAGE as u64).contains(&n) => {
                        values.insert(k.clone(), v.clone());
                    }
                    _ => problems.push(format!("`limit`: use a whole number from 1 to {MAX_PAGE}")),
                },
                (None, "cursor") if spec.paged => match v.as_str().map(str::parse::<usize>) {
                    Some(Ok(_)) => {
                        values.insert(k.clone(), v.clone());
                    }
                    _ => problems.push(
                        "`cursor`: pass the next_cursor of the previous page as it was".to_owned(),
                    ),
                },
                (None, _) => problems.push(unknown_argument(spec, k)),
            }
        }
        for a in spec.args.iter().filter(|a| a.required) {
            if !values.contains_key(a.name) {
                problems.push(format!("`{}` is required: {}", a.name, schema::accepts(a)));
            }
        }
        if problems.is_empty() {
            Ok(Args { values })
        } else {
            Err(problems.join("; "))
        }
    }

    /// A text argument, as validated.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    /// A required text argument.
    fn required(&self, name: &str) -> &str {
        self.text(name).unwrap_or_default()
    }

    /// A whole-number argument.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.text(name).and_then(|t| t.parse().ok())
    }

    /// Whether the caller asked for the real change (`dry_run: false`).
    pub fn dry_run(&self) -> bool {
        self.values
            .get("dry_run")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// The page asked for: offset and size.
    pub fn page(&self) -> (usize, usize) {
        let offset = self
            .values
            .get("cursor")
            .and_then(Value::as_str)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let size = self
            .values
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_PAGE, |n| n as usize);
        (offset, size)
    }
}

fn unknown_argument(spec: &Spec, name: &str) -> String {
    let mut names: Vec<&str> = spec.args.iter().map(|a| a.name).collect();
    if spec.paged {
        names.extend(["limit", "cursor"]);
    }
    if spec.effect.is_mutating() {
        names.push("dry_run");
    }
    if names.is_empty() {
        format!("unknown argument `{name}`: {} takes none", spec.name)
    } else {
        format!(
            "unknown argument `{name}`: {} takes {}",
            spec.name,
            names.join(", ")
        )
    }
}

/// The text of a JSON argument value (`None` for null): strings as they are, numbers and
/// booleans written out, arrays of scalars joined by `;` for lists.
pub fn value_text(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Array(_) | Value::Object(_) => {
            Err("expected a single value (text, number or true/false)".to_owned())
        }
    }
}

/// One page of `items`, with `total` and, when more follow, `next_cursor`.
pub fn paged(key: &str, items: Vec<Value>, args: &Args, mut doc: Map<String, Value>) -> Value {
    let (offset, size) = args.page();
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let next = offset + page.len();
    doc.insert(key.to_owned(), Value::Array(page));
    doc.insert("total".into(), json!(total));
    if next < total {
        doc.insert("next_cursor".into(), Value::String(next.to_string()));
    }
    Value::Object(doc)
}

/// What a curated read gives back.
#[derive(Debug)]
pub struct Output {
    /// The structured result.
    pub json: Value,
    /// A short text for the agent.
    pub text: String,
    /// Audio to attach: base64 and MIME type.
    pub audio: Option<(String, &'static str)>,
}

impl Output {
    fn new(json: Value, text: impl Into<String>) -> Self {
        Output {
            json,
            text: text.into(),
            audio: None,
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn op(e: voipms_sdk::OpError) -> String {
    e.to_string()
}

/// What the transcript tools may use: the store (and provider) and whether the server lets the
/// provider receive audio (`voipms mcp --allow-transcription`).
#[derive(Debug, Default)]
pub struct TranscriptAccess {
    /// The store and the configured provider.
    pub service: Option<Service>,
    /// The provider may be sent audio.
    pub allow_provider: bool,
}

/// Runs a curated read tool.
pub async fn read(
    id: Curated,
    args: &Args,
    client: &Client,
    transcripts: &TranscriptAccess,
) -> Result<Output, String> {
    match id {
        Curated::GetBalance => {
            let b = Account::new(client).balance().await.map_err(op)?;
            let advanced = args.text("advanced") == Some("1");
            let json = views::balance(&b, advanced);
            let text = format!(
                "Balance: {}",
                b.current
                    .map_or_else(|| "unknown".to_owned(), |d| d.to_string())
            );
            Ok(Output::new(json, text))
        }
        Curated::GetPhonebookGroups => {
            let groups = Phonebook::new(client).groups().await.map_err(op)?;
            let text = plural(groups.len(), "phonebook group", "phonebook groups");
            Ok(Output::new(
                json!({"groups": groups.iter().map(views::group).collect::<Vec<_>>()}),
                text,
            ))
        }
        Curated::GetPhonebookEntries => {
            let snap = Phonebook::new(client).snapshot().await.map_err(op)?;
            let group = match args.text("group") {
                None => None,
                Some(wanted) => Some(
                    snap.group_named(wanted)
                        .or_else(|| wanted.parse().ok().and_then(|id| snap.group(id)))
                        .ok_or_else(|| {
                            let names: Vec<String> =
                                snap.groups.iter().map(|g| g.name.clone()).collect();
                            format!(
                                "no phonebook group is named `{wanted}` or has that id; the groups are: {}",
                                if names.is_empty() { "(none)".to_owned() } else { names.join(", ") }
                            )
                        })?,
                ),
            };
            let number = match args.text("number") {
                Some(n) => Some(voipms_sdk::PhoneNumber::parse(n).map_err(|e| e.to_string())?),
                None => None,
            };
            let items: Vec<Value> = snap
                .entries
                .iter()
                .filter(|e| group.is_none_or(|g| g.has_member(e.id)))
                .filter(|e| number.as_ref().is_none_or(|n| e.is_number(n)))
                .map(|e| views::entry(e, &snap))
                .collect();
            let text = plural(items.len(), "entry", "entries");
            let mut doc = Map::new();
            doc.insert("group".into(), group.map_or(Value::Null, views::group));
            Ok(Output::new(paged("entries", items, args, doc), text))
        }
        Curated::GetCalleridFilters => {
            let rules = Filters::new(client)
                .list(args.text("did"))
                .await
                .map_err(op)?;
            let text = plural(rules.len(), "filter rule", "filter rules");
            Ok(Output::new(
                json!({"filters": rules.iter().map(views::filter).collect::<Vec<_>>()}),
                text,
            ))
        }
        Curated::GetAccounts => {
            let mut params = voipms_sdk::Params::new();
            if let Some(a) = args.text("account") {
                params.push("account", a);
            }
            let outcome = client
                .call_with_effect("getSubAccounts", &params, Effect::Read)
                .await
                .map_err(|e| e.to_string())?;
            let accounts = outcome
                .body
                .get("accounts")
                .cloned()
                .map(|v| match v {
                    Value::Array(a) => a,
                    Value::Object(_) => vec![v],
                    _ => Vec::new(),
                })
                .unwrap_or_default();
            let text = plural(accounts.len(), "sub-account", "sub-accounts");
            Ok(Output::new(json!({ "accounts": accounts }), text))
        }
        Curated::GetCallAccounts => {
            let list = Recordings::new(client).call_accounts().await.map_err(op)?;
            let text = plural(list.len(), "call account", "call accounts");
            Ok(Output::new(
                json!({"accounts": list.iter().map(|a| json!({"value": a.value, "description": a.description})).collect::<Vec<_>>()}),
                text,
            ))
        }
        Curated::GetCallRecordings => {
            let today = encode::today();
            let date = |name: &str| -> Option<Date> {
                args.text(name).and_then(|t| t.parse::<Date>().ok())
            };
            let to = date("date_to").unwrap_or_else(|| Date::from(today));
            let from =
                date("date_from").unwrap_or_else(|| Date::from(today - chrono::Days::new(29)));
            let range = DateRange::new(from, to).map_err(op)?;
            let account = args.text("account").unwrap_or("all").to_owned();
            let list = Recordings::new(client)
                .list(&account, range, None)
                .await
                .map_err(op)?;
            let items: Vec<Value> = list.recordings.iter().map(views::recording).collect();
            let text = plural(items.len(), "recording", "recordings");
            let mut doc = Map::new();
            doc.insert("account".into(), json!(account));
            doc.insert("from".into(), json!(range.from.to_string()));
            doc.insert("to".into(), json!(range.to.to_string()));
            Ok(Output::new(paged("recordings", items, args, doc), text))
        }
        Curated::GetCallRecording => {
            let file = Recordings::new(client)
                .fetch(args.required("account"), args.required("id"))
                .await
                .map_err(op)?;
            use base64::Engine;
            let json = json!({
                "recording": views::recording(&file.info),
                "bytes": file.audio.len(),
                "mime_type": file.mime(),
                "looks_like_mp3": file.looks_like_mp3,
            });
            let text = format!(
                "Recording {} ({} bytes of {})",
                file.info.id,
                file.audio.len(),
                file.mime()
            );
            let data = base64::engine::general_purpose::STANDARD.encode(&file.audio);
            Ok(Output {
                json,
                text,
                audio: Some((data, file.mime())),
            })
        }
        Curated::GetCallTranscript => transcript(args, client, transcripts).await,
        Curated::SearchTranscripts => search_transcripts(args, transcripts),
        Curated::GetRecentCdr => {
            let days = args.int("days").unwrap_or(7);
            if !(1..=3660).contains(&days) {
                return Err("`days`: use a whole number from 1 to 3660".to_owned());
            }
            let range = DateRange::last_days(client, days as u32);
            let export = CdrQuery::for_range(range)
                .fetch_all(client)
                .await
                .map_err(op)?;
            let number = match args.text("number") {
                Some(n) => Some(voipms_sdk::PhoneNumber::parse(n).map_err(|e| e.to_string())?),
                None => None,
            };
            let matches = |field: &Option<String>| {
                number.as_ref().is_none_or(|n| {
                    field
                        .as_deref()
                        .and_then(|f| voipms_sdk::CallerId::parse(f).number)
                        .is_some_and(|f| &f == n)
                })
            };
            let items: Vec<Value> = export
                .rows
                .iter()
                .rev()
                .filter(|r| matches(&r.callerid) || matches(&r.destination))
                .map(|r| Value::Object(views::cdr_row(r)))
                .collect();
            let text = plural(items.len(), "call", "calls");
            let mut doc = Map::new();
            doc.insert("from".into(), json!(range.from.to_string()));
            doc.insert("to".into(), json!(range.to.to_string()));
            Ok(Output::new(paged("calls", items, args, doc), text))
        }
        Curated::InspectNumber => {
            let days = spam_days(args)?;
            let opts = InspectOptions::new(DateRange::last_days(client, days));
            let guard = SpamGuard::new(client);
            let r = guard
                .inspect_number(args.required("number"), &opts)
                .await
                .map_err(op)?;
            let json = views::number_report(&r, &opts.range);
            let text = format!(
                "{}: {}",
                r.number,
                json["verdict"]["verdict"].as_str().unwrap_or("unknown")
            );
            Ok(Output::new(json, text))
        }
        Curated::SuggestSpamNumbers => {
            let days = spam_days(args)?;
            let mut opts = SuggestOptions::default();
            if let Some(s) = args.int("min_score") {
                opts.min_score = i32::try_from(s).map_err(|_| "`min_score` is too large")?;
            }
            let guard = SpamGuard::new(client);
            let group = guard.options().group.clone();
            let found = guard
                .suggest_spam_numbers(DateRange::last_days(client, days), &opts)
                .await
                .map_err(op)?;
            let doc = views::suggestions(&found, &group);
            let Value::Object(mut doc) = doc else {
                unreachable!("views::suggestions is an object")
            };
            let items = match doc.remove("candidates") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            let text = format!(
                "{} over {} calls",
                plural(items.len(), "likely spam caller", "likely spam callers"),
                found.rows_scanned
            );
            Ok(Output::new(paged("candidates", items, args, doc), text))
        }
        Curated::SendCallRecordingEmail
        | Curated::AddNumberToPhonebookGroup
        | Curated::RemoveNumberFromPhonebookGroup
        | Curated::MarkNumberAsSpam
        | Curated::UnmarkNumberAsSpam => Err("this tool changes the account".to_owned()),
    }
}

fn spam_days(args: &Args) -> Result<u32, String> {
    let days = args.int("days").unwrap_or(90);
    u32::try_from(days)
        .ok()
        .filter(|d| (1..=3660).contains(d))
        .ok_or_else(|| "`days`: use a whole number from 1 to 3660".to_owned())
}

fn service(t: &TranscriptAccess) -> Result<&Service, String> {
    t.service
        .as_ref()
        .ok_or_else(|| "the transcript store is not available on this server".to_owned())
}

/// The transcript of a recorded call: stored → VoIP.ms's own → the provider (when the server
/// allows it and the caller did not opt out).
async fn transcript(args: &Args, client: &Client, t: &TranscriptAccess) -> Result<Output, String> {
    let svc = service(t)?;
    let id = args.required("id");
    let opted_out = args.text("transcribe") == Some("0");
    let use_provider = t.allow_provider && !opted_out;
    match svc
        .call_transcript(client, args.required("account"), id, use_provider, false)
        .await?
    {
        Outcome::Found {
            transcript,
            answered,
        } => {
            let n = transcript.segments.len();
            let mut doc = json!({
                "found": true,
                "answered_by": answered.as_str(),
                "origin": transcript.origin,
                "transcript": transcript.to_json(),
            });
            if let Answered::Provider(p) = &answered {
                doc["provider"] = json!(p);
            }
            Ok(Output::new(
                doc,
                format!(
                    "Transcript of recording {id} ({}): {}",
                    answered.words(),
                    plural(n, "segment", "segments")
                ),
            ))
        }
        Outcome::Missing { reason, recording } => {
            let why = if svc.provider.is_some() && !t.allow_provider {
                format!(
                    "{reason} (a provider is configured, but the server was not started with --allow-transcription)"
                )
            } else if opted_out && t.allow_provider {
                format!("{reason} (transcribe was false)")
            } else {
                reason
            };
            Ok(Output::new(
                json!({"found": false, "answered_by": null,
                       "recording": recording.as_ref().map(views::recording), "reason": why}),
                format!("No transcript of recording {id}: {why}"),
            ))
        }
    }
}

/// Full-text search of the stored transcripts.
fn search_transcripts(args: &Args, t: &TranscriptAccess) -> Result<Output, String> {
    let store = service(t)?.store()?;
    let filter = Filter {
        from: args.text("date_from").map(str::to_owned),
        to: args.text("date_to").map(str::to_owned),
        caller: args.text("caller").map(str::to_owned),
        limit: MAX_PAGE * 4,
    };
    let query = args.required("query");
    let hits = store.search(query, &filter)?;
    let items: Vec<Value> = hits
        .iter()
        .map(|h| {
            let tr = &h.transcript;
            json!({
                "id": tr.id, "source": tr.source.as_str(), "voipms_id": tr.voipms_ref,
                "account": tr.account, "call_date": tr.call_date, "caller": tr.caller,
                "origin": tr.origin, "snippet": h.snippet,
            })
        })
        .collect();
    let text = format!(
        "{} for \"{query}\"",
        plural(items.len(), "transcript", "transcripts")
    );
    let mut doc = Map::new();
    doc.insert("query".into(), json!(query));
    Ok(Output::new(paged("results", items, args, doc), text))
}

/// A change a curated tool makes: its plan, or the change itself.
pub async fn plan(id: Curated, args: &Args, client: &Client) -> Result<voipms_sdk::DryRun, String> {
    let number = args.required("number");
    let group = args.required("group");
    match id {
        Curated::SendCallRecordingEmail => Recordings::new(client)
            .plan_email(
                args.required("account"),
                args.required("id"),
                args.required("email"),
            )
            .map_err(op),
        Curated::AddNumberToPhonebookGroup => Phonebook::new(client)
            .plan_add_number_to_group(group, number, args.text("name"))
            .await
            .map_err(op),
        Curated::RemoveNumberFromPhonebookGroup => Phonebook::new(client)
            .plan_remove_number_from_group(group, number, OrphanEntries::Keep)
            .await
            .map_err(op),
        Curated::MarkNumberAsSpam => SpamGuard::new(client)
            .plan_mark_number_as_spam(number)
            .await
            .map_err(op),
        Curated::UnmarkNumberAsSpam => SpamGuard::new(client)
            .plan_unmark_number_as_spam(number, &UnmarkOptions::default())
            .await
            .map_err(op),
        _ => Err("this tool changes nothing".to_owned()),
    }
}

/// Makes the change of a curated tool; the JSON says what was done (and every call made).
pub async fn change(id: Curated, args: &Args, client: &Client) -> Result<Output, String> {
    let number = args.required("number");
    let group = args.required("group");
    match id {
        Curated::SendCallRecordingEmail => {
            let (i, e) = (args.required("id"), args.required("email"));
            let r = Recordings::new(client)
                .email(args.required("account"), i, e)
                .await
                .map_err(op)?;
            Ok(Output::new(
                json!({"dry_run": false, "changed": true, "id": i, "email": e, "message": r.message, "calls": views::calls(&r.calls)}),
                format!("Recording {i} e-mailed to {e}"),
            ))
        }
        Curated::AddNumberToPhonebookGroup => {
            let r = Phonebook::new(client)
                .add_number_to_group(group, number, args.text("name"))
                .await
                .map_err(op)?;
            let mut json = views::addition(&r, group);
            json["dry_run"] = json!(false);
            let text = if r.changed() {
                format!("Added {} to {group}", r.number)
            } else {
                format!("{} was already in {group}; nothing changed", r.number)
            };
            Ok(Output::new(json, text))
        }
        Curated::RemoveNumberFromPhonebookGroup => {
            let r = Phonebook::new(client)
                .remove_number_from_group(group, number, OrphanEntries::Keep)
                .await
                .map_err(op)?;
            let mut json = views::removal(&r, group);
            json["dry_run"] = json!(false);
            let text = if r.changed() {
                format!("Removed {} from {group}", r.number)
            } else {
                format!("{} was not in {group}; nothing changed", r.number)
            };
            Ok(Output::new(json, text))
        }
        Curated::MarkNumberAsSpam => {
            let guard = SpamGuard::new(client);
            let spam_group = guard.options().group.clone();
            let r = guard.mark_number_as_spam(number).await.map_err(op)?;
            let mut json = views::mark(&r, &spam_group);
            json["dry_run"] = json!(false);
            let text = if r.changed() {
                format!("{} is marked as spam and blocked", r.number)
            } else {
                format!("{} was already marked as spam; nothing changed", r.number)
            };
            Ok(Output::new(json, text))
        }
        Curated::UnmarkNumberAsSpam => {
            let guard = SpamGuard::new(client);
            let spam_group = guard.options().group.clone();
            let r = guard
                .unmark_number_as_spam(number, &UnmarkOptions::default())
                .await
                .map_err(op)?;
            let mut json = views::unmark(&r, &spam_group);
            json["dry_run"] = json!(false);
            let text = if r.changed() {
                format!("{} is no longer marked as spam", r.number)
            } else {
                format!("{} was not marked as spam; nothing changed", r.number)
            };
            Ok(Output::new(json, text))
        }
        _ => Err("this tool changes nothing".to_owned()),
    }
}
