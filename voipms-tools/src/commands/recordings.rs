//! `voipms recordings list|get|email|delete`: call recordings through the SDK's recordings
//! helper (every page and 92-day window listed, the MP3 decoded and written whole or not at all).

use std::path::PathBuf;

use clap::{Arg, ArgMatches, Command};
use serde_json::json;
use voipms_sdk::Recordings;
use voipms_sdk::api::GetCallRecordingsCallType;

use super::Builtin;
use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::friendly::{self, Plan, Report, calls_text, plural};
use crate::output::{BOLD, GREEN, Rows};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "recordings",
    command,
    run,
    needs_all_methods: false,
};

fn account_arg() -> Arg {
    Arg::new("account")
        .long("account")
        .value_name("ACCOUNT")
        .help("Call account the recordings belong to: all (default) or a sub-account such as 100001_VoIP (see getCallAccounts)")
}

fn id_arg() -> Arg {
    Arg::new("id")
        .value_name("ID")
        .required(true)
        .value_parser(recording_id)
        .help("The recording's id (the `id` column of `voipms recordings list`)")
}

/// A recording id as getCallRecordings gives them: an opaque base64 string (at least 16
/// characters of `A-Z a-z 0-9 + / _ - =`), or digits. Anything else is refused before a call.
fn recording_id(text: &str) -> Result<String, String> {
    let id = text.trim();
    let base64 = id.len() >= 16
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/_-=".contains(&b));
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    if base64 || digits {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a recording id: ids are the long opaque strings of the `id` column \
             of `voipms recordings list` (such as MTAwMDAxLTU1NTEy…); nothing was sent"
        ))
    }
}

fn command() -> Command {
    Command::new("recordings")
        .about("Call recordings: list them, save one as MP3, e-mail it, delete it, transcribe them")
        .long_about(
            "Call recordings (of accounts or DIDs with call recording on). `list` covers any \
             date range and every page; `get` writes the MP3 whole (or not at all); `email` \
             has VoIP.ms send it; `delete` removes it (deleting one already gone changes \
             nothing). Times are VoIP.ms server time (the US Eastern wall clock, daylight \
             saving included), as `voipms cdr` shows them. Changes to a real account ask for confirmation (or need --yes); \
             --dry-run prints the request.",
        )
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .about("List the recordings of a date range")
                .arg(account_arg())
                .args(friendly::date_range_options())
                .arg(
                    Arg::new("type")
                        .long("type")
                        .value_name("TYPE")
                        .value_parser(["all", "incoming", "outgoing"])
                        .help("Only incoming or only outgoing calls (default: all)"),
                ),
        )
        .subcommand(
            Command::new("get")
                .about("Save one recording as an MP3 file")
                .arg(id_arg())
                .arg(
                    Arg::new("out")
                        .long("out")
                        .short('o')
                        .value_name("FILE")
                        .required(true)
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("Where to write the MP3 (an existing directory gets ID.mp3)"),
                )
                .arg(account_arg()),
        )
        .subcommand(
            Command::new("email")
                .about("Have VoIP.ms e-mail one recording")
                .arg(id_arg())
                .arg(
                    Arg::new("email")
                        .long("email")
                        .value_name("ADDRESS")
                        .required(true)
                        .help("Where to send it"),
                )
                .arg(account_arg()),
        )
        .subcommand(super::transcripts::transcribe_command().arg(account_arg()))
        .subcommand(
            Command::new("delete")
                .about("Delete one recording")
                .arg(id_arg())
                .arg(account_arg()),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let Some((name, sub)) = m.subcommand() else {
        return Err(Failure::usage(
            "use `voipms recordings list|get|email|delete|transcribe` (voipms help recordings)",
        ));
    };
    let account = sub
        .get_one::<String>("account")
        .cloned()
        .unwrap_or_else(|| "all".into());
    match name {
        "list" => list(ctx, sub, &account),
        "get" => get(ctx, sub, &account),
        "email" => email(ctx, sub, &account),
        "delete" => delete(ctx, sub, &account),
        "transcribe" => super::transcripts::transcribe(ctx, sub, &account),
        other => Err(Failure::usage(format!(
            "unknown recordings command `{other}`"
        ))),
    }
}

fn list(ctx: &mut Ctx, m: &ArgMatches, account: &str) -> Result<(), Failure> {
    let range = friendly::date_range(ctx, m, 30)?;
    let call_type = match m.get_one::<String>("type").map(String::as_str) {
        Some("incoming") => Some(GetCallRecordingsCallType::Incoming),
        Some("outgoing") => Some(GetCallRecordingsCallType::Outgoing),
        _ => None,
    };
    let Some(found) = friendly::read(ctx, async |c| {
        Recordings::new(&c).list(account, range, call_type).await
    })?
    else {
        return Ok(());
    };
    let list = &found.recordings;
    let rows = Rows {
        headers: [
            "datetime",
            "direction",
            "destination",
            "duration",
            "subaccount",
            "id",
        ]
        .map(String::from)
        .to_vec(),
        rows: list
            .iter()
            .map(|r| {
                vec![
                    r.datetime.map(|t| t.to_string()).unwrap_or_default(),
                    r.direction.clone().unwrap_or_default(),
                    r.destination.clone().unwrap_or_default(),
                    r.duration.clone().unwrap_or_default(),
                    r.subaccount.clone().unwrap_or_default(),
                    r.id.clone(),
                ]
            })
            .collect(),
    };
    let mut text = format!(
        "{BOLD}Call recordings{BOLD:#} of {account}, {} to {}: {}\n",
        range.from,
        range.to,
        plural(list.len(), "recording", "recordings")
    );
    // Ids are long and must stay whole to be copied: one recording per two lines.
    for r in list {
        text.push_str(&format!(
            "{}  {:<8}  {:<12}  {:>8}  {}\n    id {}\n",
            r.datetime.map(|t| t.to_string()).unwrap_or_default(),
            r.direction.as_deref().unwrap_or(""),
            r.destination.as_deref().unwrap_or(""),
            r.duration.as_deref().unwrap_or(""),
            r.subaccount.as_deref().unwrap_or(""),
            r.id
        ));
    }
    if !list.is_empty() {
        text.push_str("Save one: voipms recordings get ID --out FILE.mp3\n");
    }
    let json = json!({
        "account": account,
        "from": range.from.to_string(),
        "to": range.to.to_string(),
        "recordings": list.iter().map(views::recording).collect::<Vec<_>>(),
    });
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}

fn get(ctx: &mut Ctx, m: &ArgMatches, account: &str) -> Result<(), Failure> {
    let id = m.get_one::<String>("id").expect("required").clone();
    let out = m.get_one::<PathBuf>("out").expect("required").clone();
    let (i, o) = (&id, &out);
    let Some(saved) = friendly::read(ctx, async |c| Recordings::new(&c).save(account, i, o).await)?
    else {
        return Ok(());
    };
    let mut text = format!(
        "{GREEN}Saved{GREEN:#} recording {} ({} bytes of MP3) to {}\n",
        saved.info.id,
        saved.bytes,
        saved.path.display()
    );
    text.push_str(&calls_text(&saved.calls));
    let json = json!({
        "path": saved.path.display().to_string(),
        "bytes": saved.bytes,
        "recording": views::recording(&saved.info),
    });
    Report::new(json, text).print(ctx);
    Ok(())
}

fn email(ctx: &mut Ctx, m: &ArgMatches, account: &str) -> Result<(), Failure> {
    let id = m.get_one::<String>("id").expect("required").clone();
    let address = m.get_one::<String>("email").expect("required").clone();
    let (i, e) = (&id, &address);
    let Some(r) = friendly::change(
        ctx,
        "recordings email",
        Plan::Local,
        async |c| Recordings::new(&c).plan_email(account, i, e),
        async |c| Recordings::new(&c).email(account, i, e).await,
    )?
    else {
        return Ok(());
    };
    let mut text = format!(
        "{GREEN}Sent{GREEN:#} recording {id} to {address}{}.\n",
        r.message
            .as_ref()
            .map(|m| format!(" (VoIP.ms: {m})"))
            .unwrap_or_default()
    );
    text.push_str(&calls_text(&r.calls));
    let json = json!({
        "changed": true,
        "id": id,
        "email": address,
        "message": r.message,
        "calls": views::calls(&r.calls),
    });
    Report::new(json, text).print(ctx);
    Ok(())
}

fn delete(ctx: &mut Ctx, m: &ArgMatches, account: &str) -> Result<(), Failure> {
    let id = m.get_one::<String>("id").expect("required").clone();
    let i = &id;
    let Some(r) = friendly::change(
        ctx,
        "recordings delete",
        Plan::Local,
        async |c| Recordings::new(&c).plan_delete(account, i),
        async |c| Recordings::new(&c).delete(account, i).await,
    )?
    else {
        return Ok(());
    };
    let mut text = if r.deleted {
        format!("{GREEN}Deleted{GREEN:#} recording {id}.\n")
    } else {
        format!("Recording {id} was already gone: nothing changed.\n")
    };
    text.push_str(&calls_text(&r.calls));
    let json = json!({
        "changed": r.deleted,
        "id": id,
        "deleted": r.deleted,
        "calls": views::calls(&r.calls),
    });
    Report::new(json, text).print(ctx);
    Ok(())
}
