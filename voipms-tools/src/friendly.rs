//! What the friendly commands over the SDK's helpers (`balance`, `phonebook …`, `spam …`,
//! `cdr export`, `recordings …`, `sms …`, `filters …`) share: running a helper, the dry run and
//! the confirmation of helper changes, failures with their exit codes, and printing one result in
//! every output format.
//!
//! - A **read** ([`read`]) runs the helper on the account. With `--dry-run` it runs against a
//!   recorder instead, which answers every call with an empty success: nothing is sent, and the
//!   requests the command starts with are printed (later pages depend on real answers).
//! - A **change** ([`change`]) has the helper's `plan_*` twin. With `--dry-run` the plan is
//!   printed: the reads made to work it out, and every write it would send as the exact request
//!   (password masked), none of them sent. On a real account without `--yes` the plan is shown
//!   and confirmed first (or the change is refused when nobody can answer); the sandbox needs no
//!   confirmation, like every other command. The change itself runs holding the account's
//!   cross-process lock ([`crate::core::lock::account`]), so concurrent `voipms` processes on this
//!   machine change one account one after the other.
//! - Results print as text for `pretty` (the default of these commands) and `table`, as one JSON
//!   document for `json` (and `raw`), and as CSV rows for `csv`.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use voipms_sdk::catalog::{self, Effect};
use voipms_sdk::ops::{ApiCall, CallOutcome, DryRun, OpError, PlannedCall};
use voipms_sdk::{Client, DateRange};

use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::{Code, Failure, code_of};
use crate::output::{self, DIM, Format, Rows, YELLOW};
use crate::transport::{Recorded, Recorder, Render};
use crate::{errln, outln};

/// The output format of a friendly command: text unless `--format` is given.
pub fn format(ctx: &Ctx) -> Format {
    ctx.globals.format.unwrap_or(Format::Pretty)
}

/// One result, ready for every output format.
#[derive(Debug)]
pub struct Report {
    /// The `--format json` document.
    pub json: Value,
    /// The text for `pretty` (and `table` when there are no rows).
    pub text: String,
    /// The rows for `table` and `csv`, when the result is a list.
    pub rows: Option<Rows>,
}

impl Report {
    /// A result shown as `text`, or as `json`.
    pub fn new(json: Value, text: impl Into<String>) -> Self {
        Report {
            json,
            text: text.into(),
            rows: None,
        }
    }

    /// The rows `table` and `csv` show.
    pub fn with_rows(mut self, rows: Rows) -> Self {
        self.rows = Some(rows);
        self
    }

    /// Prints the result in the command's output format.
    pub fn print(self, ctx: &Ctx) {
        match format(ctx) {
            Format::Json | Format::Raw => outln!("{}", output::json_pretty(&self.json)),
            Format::Csv => {
                let rows = self.rows.unwrap_or_else(|| scalar_row(&self.json));
                output::stdout_str(&rows.csv());
            }
            Format::Table => match self.rows {
                Some(rows) => output::stdout_str(
                    &rows.table(output::stdout_is_tty().then(output::text_width)),
                ),
                None => print_text(&self.text),
            },
            Format::Pretty => print_text(&self.text),
        }
    }
}

fn print_text(text: &str) {
    if text.is_empty() {
        return;
    }
    if text.ends_with('\n') {
        output::stdout_str(text);
    } else {
        outln!("{text}");
    }
}

/// The top-level scalars of a JSON object as one CSV/table row (lists joined with `;`).
fn scalar_row(v: &Value) -> Rows {
    let mut row = Map::new();
    if let Value::Object(map) = v {
        for (k, v) in map {
            match v {
                Value::Object(_) => {}
                Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                    let joined: Vec<String> = items.iter().map(output::cell).collect();
                    row.insert(k.clone(), Value::String(joined.join(";")));
                }
                Value::Array(_) => {}
                other => {
                    row.insert(k.clone(), other.clone());
                }
            }
        }
    }
    Rows::from_objects(&[row], &[])
}

/// The failure for a helper error: its exit code and a message that says what was changed.
pub fn failure(e: OpError) -> Failure {
    let wrote = e.calls().iter().any(ApiCall::is_write);
    match &e {
        OpError::InvalidNumber(_)
        | OpError::SmsTooLong { .. }
        | OpError::EmptyMessage(_)
        | OpError::BackwardsRange { .. }
        | OpError::Invalid(_)
        | OpError::Io { .. } => Failure::usage(e.to_string()),
        // A write may or may not have been applied: neither a success nor a plain failure.
        _ if e.is_outcome_unknown() => Failure::new(Code::Unknown, e.to_string()),
        // A read that failed: the SDK's own message (status meaning and hint) says it all.
        OpError::Failed(f) if !wrote => Failure::new(code_of(&f.error), f.error.to_string()),
        OpError::Failed(f) => Failure::new(code_of(&f.error), e.to_string()),
        OpError::MembersExceeded(m) => {
            Failure::new(m.error.as_ref().map_or(Code::Usage, code_of), e.to_string())
        }
        _ => Failure::new(Code::Api, e.to_string()),
    }
}

/// Runs a future on the run's runtime.
pub fn block_on<F: Future>(ctx: &mut Ctx, f: F) -> Result<F::Output, Failure> {
    Ok(ctx.rt()?.block_on(f))
}

/// A client that records requests instead of sending them (each is answered with an empty
/// success), with the endpoint and user name a dry run shows.
fn recording_client(ctx: &mut Ctx) -> Result<(Client, Arc<Recorder>), Failure> {
    let (base_url, username) = ctx.dry_run_identity()?;
    crate::core::recorder::recording_client(&base_url, &username)
}

/// The client of the account the command works on.
pub fn client(ctx: &mut Ctx) -> Result<Client, Failure> {
    Ok(ctx.session()?.client().clone())
}

/// Runs a read-only helper operation. With `--dry-run`, prints the requests it starts with and
/// returns `None` (nothing is sent).
pub fn read<T>(
    ctx: &mut Ctx,
    op: impl AsyncFnOnce(Client) -> Result<T, OpError>,
) -> Result<Option<T>, Failure> {
    if ctx.globals.dry_run {
        let (client, recorder) = recording_client(ctx)?;
        let outcome = block_on(ctx, op(client))?;
        let recorded = recorder.take();
        if recorded.is_empty() {
            // Refused before any request (bad input): say why.
            outcome.map_err(failure)?;
        }
        print_requests(ctx, &recorded);
        return Ok(None);
    }
    let client = client(ctx)?;
    block_on(ctx, op(client))?.map(Some).map_err(failure)
}

/// Prints requests a read would send (`--dry-run`).
pub fn print_requests(ctx: &Ctx, recorded: &[Recorded]) {
    match format(ctx) {
        Format::Json | Format::Raw => {
            let list: Vec<Value> = recorded.iter().map(Recorded::to_json).collect();
            outln!(
                "{}",
                output::json_pretty(&json!({"dry_run": true, "reads": [], "would_send": list}))
            );
        }
        _ => {
            for r in recorded {
                output::stdout_str(&r.render());
            }
        }
    }
}

/// Where the plan of a change comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The plan reads the account (credentials or `--sandbox` needed, even for `--dry-run`).
    ReadsAccount,
    /// The plan needs no read (a dry run works without credentials).
    Local,
}

/// Runs a helper change: `plan` is its `plan_*` twin, `run` the change. With `--dry-run`, prints
/// the plan and returns `None`; on a real account without `--yes`, shows the plan and asks first.
pub fn change<T>(
    ctx: &mut Ctx,
    command: &str,
    plan_kind: Plan,
    plan: impl AsyncFnOnce(Client) -> Result<DryRun, OpError>,
    run: impl AsyncFnOnce(Client) -> Result<T, OpError>,
) -> Result<Option<T>, Failure> {
    if ctx.globals.dry_run {
        let client = match plan_kind {
            Plan::ReadsAccount => client(ctx).map_err(|f| needs_account(f, command))?,
            Plan::Local => recording_client(ctx)?.0,
        };
        let dry = block_on(ctx, plan(client))?.map_err(failure)?;
        for w in &dry.warnings {
            warn(ctx, w);
        }
        print_dry_run(ctx, &dry)?;
        return Ok(None);
    }
    let session = ctx.session()?;
    let sandbox = session.is_sandbox();
    let client = session.client().clone();
    if !sandbox && !ctx.globals.yes {
        let dry = block_on(ctx, plan(client.clone()))?.map_err(failure)?;
        for w in &dry.warnings {
            warn(ctx, w);
        }
        if dry.changes_anything() {
            let planned = record_planned(ctx, &dry.planned)?;
            let effect = worst_effect(&dry.planned);
            ctx.confirm_planned(command, &planned, effect)?;
        }
    }
    ctx.note_change();
    // Other voipms processes on this machine wait while this one reads, plans and writes (the
    // sandbox's state file is locked for the whole run already).
    let _lock = if sandbox {
        None
    } else {
        Some(crate::core::lock::account(
            client.base_url(),
            client.username(),
        )?)
    };
    block_on(ctx, run(client))?.map(Some).map_err(failure)
}

fn needs_account(f: Failure, command: &str) -> Failure {
    if f.code == Code::Config {
        Failure::config(format!(
            "{}\n(`{command} --dry-run` reads the account to work out what it would change; add \
             --sandbox to try it on the simulated account)",
            f.message
        ))
    } else {
        f
    }
}

/// The catalog effect of a planned call (unknown methods count as writes).
fn effect_of(method: &str) -> Effect {
    catalog::method(method).map_or(Effect::Write, |m| m.effect)
}

/// The strongest effect among planned calls: billable, then destructive, then write.
fn worst_effect(planned: &[PlannedCall]) -> Effect {
    let rank = |e: Effect| match e {
        Effect::Billable => 3,
        Effect::Destructive => 2,
        Effect::Write => 1,
        _ => 0,
    };
    planned
        .iter()
        .map(|p| effect_of(p.method))
        .max_by_key(|e| rank(*e))
        .unwrap_or(Effect::Write)
}

/// Each planned call's one-line form and the exact request it would be (password masked).
fn record_planned(
    ctx: &mut Ctx,
    planned: &[PlannedCall],
) -> Result<Vec<(String, Recorded)>, Failure> {
    let (client, recorder) = recording_client(ctx)?;
    let mut out = Vec::with_capacity(planned.len());
    for p in planned {
        block_on(
            ctx,
            client.call_with_effect(p.method, &p.params, effect_of(p.method)),
        )??;
        let rec = recorder
            .take()
            .pop()
            .ok_or_else(|| Failure::usage(format!("{}: no request was built", p.method)))?;
        out.push((p.to_string(), rec));
    }
    Ok(out)
}

/// The calls an operation made, as a dimmed line of text: `API calls: getPhonebook, …`.
pub fn calls_text(calls: &[ApiCall]) -> String {
    if calls.is_empty() {
        return String::new();
    }
    let names: Vec<String> = calls
        .iter()
        .map(|c| match &c.outcome {
            CallOutcome::Ok => c.method.to_owned(),
            CallOutcome::Refused(status) => format!("{} (refused: {status})", c.method),
            CallOutcome::LostReplyApplied(_) => format!("{} (reply lost, applied)", c.method),
            CallOutcome::LostReplyNotApplied(_) => {
                format!("{} (reply lost, not applied)", c.method)
            }
            CallOutcome::Unconfirmed(_) => format!("{} (unconfirmed)", c.method),
            CallOutcome::Failed(_) => format!("{} (failed)", c.method),
        })
        .collect();
    let writes = calls.iter().filter(|c| c.changed_account()).count();
    format!(
        "{DIM}API calls ({}, {writes} change{}): {}{DIM:#}",
        calls.len(),
        if writes == 1 { "" } else { "s" },
        names.join(", ")
    )
}

/// Prints the plan of a change (`--dry-run`).
fn print_dry_run(ctx: &mut Ctx, dry: &DryRun) -> Result<(), Failure> {
    let planned = record_planned(ctx, &dry.planned)?;
    if matches!(format(ctx), Format::Json | Format::Raw) {
        let reads: Vec<Value> = dry
            .reads
            .iter()
            .map(|c| views::call(c.method, &c.params, Some(&c.outcome)))
            .collect();
        let would: Vec<Value> = planned
            .iter()
            .map(|(line, rec)| {
                let mut j = rec.to_json();
                j["call"] = Value::String(line.clone());
                j
            })
            .collect();
        outln!(
            "{}",
            output::json_pretty(&json!({
                "dry_run": true,
                "changes": dry.changes_anything(),
                "reads": reads,
                "would_send": would,
            }))
        );
        return Ok(());
    }
    let mut text = String::from("Dry run: nothing was changed.\n");
    if !dry.reads.is_empty() {
        let names: Vec<&str> = dry.reads.iter().map(|c| c.method).collect();
        text.push_str(&format!(
            "{DIM}Read to work out the plan: {}{DIM:#}\n",
            names.join(", ")
        ));
    }
    if planned.is_empty() {
        text.push_str(
            "Nothing to change: the account is already as asked, so nothing would be sent.\n",
        );
    } else {
        let n = planned.len();
        text.push_str(&format!(
            "Would send {n} request{}:\n",
            if n == 1 { "" } else { "s" }
        ));
        for (i, (line, rec)) in planned.iter().enumerate() {
            text.push_str(&format!("{}. {line}\n", i + 1));
            for l in rec.render().lines() {
                text.push_str(&format!("   {l}\n"));
            }
        }
        if planned
            .iter()
            .any(|(line, _)| line.contains("{id from call "))
        {
            text.push_str(&format!(
                "{DIM}{{id from call N}} stands for the id that request N returns.{DIM:#}\n"
            ));
        }
    }
    output::stdout_str(&text);
    Ok(())
}

/// Reads the text of a message: the argument, `--file` (`-` for stdin), or, for a `required`
/// text, stdin when neither is given and stdin is not a terminal. Trailing line breaks of a file
/// or stdin are dropped.
pub fn message_text(
    arg: Option<&String>,
    file: Option<&String>,
    required: bool,
) -> Result<String, Failure> {
    use std::io::{IsTerminal, Read};
    if let Some(text) = arg {
        return Ok(text.clone());
    }
    let read_stdin = || -> Result<String, Failure> {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::usage(format!("cannot read the message from stdin: {e}")))?;
        Ok(s)
    };
    let text = match file.map(String::as_str) {
        Some("-") => read_stdin()?,
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!(
                "cannot read the message from {path}: {e} (--file takes a UTF-8 text file)"
            ))
        })?,
        // Only a text that must be given is read from stdin unasked (an MMS may have none).
        None if required && !std::io::stdin().is_terminal() => read_stdin()?,
        None if required => {
            return Err(Failure::usage(
                "no message: give it as an argument, with --file FILE, or on stdin",
            ));
        }
        None => String::new(),
    };
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// Prints a warning on stderr.
pub fn note(text: &str) {
    errln!("{DIM}{text}{DIM:#}");
}

/// Prints `warning: TEXT` on stderr, once per run (a plan and its change may both report it).
pub fn warn(ctx: &mut Ctx, text: &str) {
    if ctx.first_warning(text) {
        errln!("{YELLOW}warning{YELLOW:#}: {text}");
    }
}

/// `1 call` / `2 calls`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A `--from`/`--to` date option (values such as `-30d` start with a hyphen).
pub fn date_option(id: &'static str, help: &'static str) -> clap::Arg {
    clap::Arg::new(id)
        .long(id)
        .value_name("DATE")
        .allow_hyphen_values(true)
        .help(help)
}

/// `--from` and `--to`, the date range the listing commands share (default: the last 30 days).
pub fn date_range_options() -> [clap::Arg; 2] {
    [
        date_option(
            "from",
            "First day (YYYY-MM-DD, today, yesterday, -7d); default: 30 days ago",
        ),
        date_option("to", "Last day, inclusive; default: today"),
    ]
}

/// The date of option `id`: YYYY-MM-DD, today, yesterday or -Nd; `default` when not given.
pub fn date_value(
    m: &clap::ArgMatches,
    id: &str,
    default: voipms_sdk::Date,
    today: voipms_sdk::Date,
) -> Result<voipms_sdk::Date, String> {
    match m.try_get_one::<String>(id).ok().flatten() {
        None => Ok(default),
        Some(raw) => crate::params::parse_date(raw, today).ok_or_else(|| {
            format!("--{id}: `{raw}` is not a valid date; use YYYY-MM-DD, today, yesterday or -Nd")
        }),
    }
}

/// The range of `--from` and `--to` (default: the last `default_days` days up to today).
pub fn date_range(
    ctx: &mut Ctx,
    m: &clap::ArgMatches,
    default_days: u64,
) -> Result<DateRange, Failure> {
    let today = ctx.today();
    let start = today
        .checked_sub_days(chrono::Days::new(default_days))
        .unwrap_or(today);
    let from = date_value(m, "from", start, today).map_err(Failure::usage)?;
    let to = date_value(m, "to", today, today).map_err(Failure::usage)?;
    if from > to {
        return Err(Failure::usage(format!(
            "--from {from} is after --to {to}: give the earlier date first"
        )));
    }
    DateRange::new(from, to).map_err(failure)
}

/// An aligned table for text output, cut to the terminal's width on a terminal.
pub fn table(rows: &Rows) -> String {
    rows.table(output::stdout_is_tty().then(output::text_width))
}

/// Prints the exact requests of planned reads (`--dry-run` of a read whose calls are known up
/// front, such as the windows of a CDR export).
pub fn print_planned_reads(ctx: &mut Ctx, planned: &[PlannedCall]) -> Result<(), Failure> {
    let recorded: Vec<Recorded> = record_planned(ctx, planned)?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    print_requests(ctx, &recorded);
    Ok(())
}

/// What a friendly write takes as a number: checked before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberUse {
    /// A number that calls or is called: NANP or E.164 (`sms send`, `spam mark`).
    Dialable,
    /// A phonebook entry's number: NANP, E.164 or a SIP reference (`sip:2563`).
    Contact,
    /// A Caller ID filter's caller: NANP, E.164 or a token (`0`, `i`, `s`, `sb`, `sc`, `p`,
    /// `p:ID`).
    FilterCaller,
}

/// Checks `text`, given as `what` (`NUMBER`, `--to`), for `usage`: a usage error that says why and
/// what is accepted, so nothing is sent for a number VoIP.ms would refuse or misread.
pub fn check_number(what: &str, text: &str, usage: NumberUse) -> Result<(), Failure> {
    use voipms_sdk::numbers::NumberKind;
    let token = text.trim();
    if usage == NumberUse::FilterCaller
        && (["0", "i", "s", "sb", "sc", "p"].contains(&token)
            || token
                .strip_prefix("p:")
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())))
    {
        return Ok(());
    }
    let accepted = match usage {
        NumberUse::Dialable => {
            "a North American number of 10 digits (5551234567, +1 555 123 4567) or an \
             international one as +<country code><number> (+442079460958)"
        }
        NumberUse::Contact => {
            "a North American number of 10 digits (5551234567, +1 555 123 4567), an \
             international one as +<country code><number> (+442079460958), or a SIP reference \
             (sip:2563)"
        }
        NumberUse::FilterCaller => {
            "a North American number of 10 digits (5551234567), an international one as \
             +<country code><number> (+442079460958), or a token: 0 anonymous, i outside North \
             America, p any phonebook entry, p:ID a phonebook group"
        }
    };
    let number = voipms_sdk::PhoneNumber::parse(text).map_err(|e| {
        Failure::usage(if usage == NumberUse::FilterCaller {
            format!(
                "{what}: `{text}` is neither a phone number nor a filter token ({}); use \
                 {accepted}. Nothing was sent.",
                e.reason
            )
        } else {
            format!("{what}: {e}. Nothing was sent.")
        })
    })?;
    match (number.kind(), usage) {
        (NumberKind::Nanp | NumberKind::International, _) => Ok(()),
        (NumberKind::Sip, NumberUse::Contact) => Ok(()),
        (NumberKind::Short, _) => Err(Failure::usage(format!(
            "{what}: `{text}` is too short for a phone number; use {accepted}. Nothing was sent."
        ))),
        _ => Err(Failure::usage(format!(
            "{what}: `{text}` is not accepted here; use {accepted}. Nothing was sent."
        ))),
    }
}
