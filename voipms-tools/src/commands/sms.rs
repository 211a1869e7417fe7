//! `voipms sms send|list` and `voipms mms send|list`: messages through the SDK's messaging
//! helper (the 160-byte SMS check and `--split`, media files sent as data URIs, listing over any
//! date range).

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::json;
use voipms_sdk::ops::{CallOutcome, OpError};
use voipms_sdk::sms::{Direction, MessageKind, MessageQuery, check_sms};
use voipms_sdk::{Account, Media, Messaging, PhoneNumber, SmsLength};

use super::Builtin;
use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::{Code, Failure};
use crate::friendly::{self, Plan, Report, calls_text, plural};
use crate::output::{BOLD, DIM, GREEN, Rows};

/// Registry entry of `sms`.
pub const BUILTIN: Builtin = Builtin {
    name: "sms",
    command: sms_command,
    run: run_sms,
    needs_all_methods: false,
};

/// Registry entry of `mms`.
pub const MMS: Builtin = Builtin {
    name: "mms",
    command: mms_command,
    run: run_mms,
    needs_all_methods: false,
};

fn did_arg() -> Arg {
    Arg::new("did")
        .long("did")
        .value_name("DID")
        .help("The account's DID to send from (default: the first DID with SMS turned on)")
}

fn send_args(cmd: Command, kind: &str) -> Command {
    // --dst is required unless the old --to is given; the usage names only --dst.
    cmd.override_usage(format!(
        "voipms {kind} send [OPTIONS] --dst <NUMBER> [MESSAGE]"
    ))
    .arg(did_arg())
    .arg(
        Arg::new("dst")
            .long("dst")
            .value_name("NUMBER")
            .required_unless_present("to")
            .conflicts_with("to")
            .allow_hyphen_values(true)
            .help("Destination number"),
    )
    // The old name of --dst, kept working: elsewhere (cdr, sms list, recordings) --to is a
    // date.
    .arg(
        Arg::new("to")
            .long("to")
            .value_name("NUMBER")
            .hide(true)
            .allow_hyphen_values(true),
    )
    .arg(
        Arg::new("message")
            .value_name("MESSAGE")
            .allow_hyphen_values(true)
            .help("The text (or --file, or stdin)"),
    )
    .arg(
        Arg::new("file")
            .long("file")
            .value_name("FILE")
            .conflicts_with("message")
            .help("Read the text from FILE (- for stdin)"),
    )
}

fn list_command(kind: &str) -> Command {
    Command::new("list")
        .about(format!(
            "List the {kind} sent and received over any date range"
        ))
        .long_about(format!(
            "List the {kind} sent and received over any date range. Dates are VoIP.ms server \
             time (the US Eastern wall clock, daylight saving included), the clock `voipms cdr` \
             and `voipms recordings list` show."
        ))
        .arg(
            Arg::new("did")
                .long("did")
                .value_name("DID")
                .help("Only messages on this DID of the account"),
        )
        .args(friendly::date_range_options())
        .arg(
            Arg::new("contact")
                .long("contact")
                .value_name("NUMBER")
                .help("Only messages with this number"),
        )
        .arg(
            Arg::new("direction")
                .long("direction")
                .value_name("WHICH")
                .value_parser(["received", "sent"])
                .help("Only received or only sent messages"),
        )
}

fn sms_command() -> Command {
    Command::new("sms")
        .about("Send an SMS (160-byte check, --split for longer) or list messages")
        .long_about(
            "Send an SMS, or list the SMS of any date range. One SMS carries at most 160 bytes \
             of UTF-8 (accented letters count 2, emoji 4): a longer text is refused before \
             anything is sent, unless --split sends it as several messages. Sending costs \
             money: on a real account it asks for confirmation (or needs --yes); --dry-run \
             prints the requests.",
        )
        .subcommand_required(true)
        .subcommand(
            send_args(
                Command::new("send").about("Send an SMS (text as an argument, --file or stdin)"),
                "sms",
            )
            .arg(
                Arg::new("split")
                    .long("split")
                    .action(ArgAction::SetTrue)
                    .help("Send a text over 160 bytes as several messages"),
            ),
        )
        .subcommand(list_command("SMS"))
}

fn mms_command() -> Command {
    Command::new("mms")
        .about("Send an MMS with media (files or URLs), or list MMS")
        .long_about(
            "Send an MMS with up to three media (local files are sent as data URIs, URLs are \
             fetched by VoIP.ms) and at most 2048 characters of text, or list the MMS of any \
             date range. Sending costs money: on a real account it asks for confirmation (or \
             needs --yes); --dry-run prints the request.",
        )
        .subcommand_required(true)
        .subcommand(
            send_args(
                Command::new("send").about("Send an MMS with media and optional text"),
                "mms",
            )
            .arg(
                Arg::new("media")
                    .long("media")
                    .value_name("PATH_OR_URL")
                    // One value per --media, so the message text after it stays the text.
                    .num_args(1)
                    .action(ArgAction::Append)
                    .help("Media: a local file or an http(s) URL; repeat --media for up to three"),
            ),
        )
        .subcommand(list_command("MMS"))
}

fn run_sms(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    match m.subcommand() {
        Some(("send", sub)) => send(ctx, sub, MessageKind::Sms),
        Some(("list", sub)) => list(ctx, sub, MessageKind::Sms),
        _ => Err(Failure::usage("use `voipms sms send` or `voipms sms list`")),
    }
}

fn run_mms(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    match m.subcommand() {
        Some(("send", sub)) => send(ctx, sub, MessageKind::Mms),
        Some(("list", sub)) => list(ctx, sub, MessageKind::Mms),
        _ => Err(Failure::usage("use `voipms mms send` or `voipms mms list`")),
    }
}

/// The DID to send from: `--did`, or the account's first DID with SMS turned on.
fn sending_did(ctx: &mut Ctx, m: &ArgMatches) -> Result<String, Failure> {
    if let Some(d) = m.get_one::<String>("did") {
        return Ok(d.clone());
    }
    let client = friendly::client(ctx)?;
    let did = friendly::block_on(ctx, async { Account::new(&client).default_sms_did().await })?
        .map_err(friendly::failure)?;
    friendly::note(&format!("sending from {} (give --did to choose)", did.did));
    Ok(did.did)
}

fn send(ctx: &mut Ctx, m: &ArgMatches, kind: MessageKind) -> Result<(), Failure> {
    let sms = kind == MessageKind::Sms;
    let text = friendly::message_text(
        m.get_one::<String>("message"),
        m.get_one::<String>("file"),
        sms,
    )?;
    let to = match (m.get_one::<String>("dst"), m.get_one::<String>("to")) {
        (Some(dst), _) => dst.clone(),
        (None, Some(to)) => {
            friendly::note(
                "--to is deprecated here: the destination is --dst (in cdr, sms list and \
                 recordings, --to is a date)",
            );
            to.clone()
        }
        (None, None) => return Err(Failure::usage("the destination is missing: --dst NUMBER")),
    };
    friendly::check_number("--dst", &to, friendly::NumberUse::Dialable)?;
    let length = if sms && m.get_flag("split") {
        SmsLength::Split
    } else {
        SmsLength::Refuse
    };
    // Refused before anything is sent, even the DID look-up.
    if sms && length == SmsLength::Refuse {
        check_sms(&text).map_err(friendly::failure)?;
    }
    let media: Vec<Media> = m
        .try_get_many::<String>("media")
        .ok()
        .flatten()
        .into_iter()
        .flatten()
        .map(|s| Media::from_arg(s))
        .collect();
    if !sms && media.is_empty() && text.trim().is_empty() {
        return Err(Failure::usage(
            "the MMS has neither text nor media: give a MESSAGE, --file or --media",
        ));
    }
    let did = sending_did(ctx, m)?;
    let (d, t, x, md) = (&did, &to, &text, &media);
    if sms {
        let Some(r) = friendly::change(
            ctx,
            "sms send",
            Plan::Local,
            async |c| Messaging::new(&c).plan_send_sms(d, t, x, length),
            async |c| Ok(Messaging::new(&c).send_sms(d, t, x, length).await),
        )?
        else {
            return Ok(());
        };
        let r = r.map_err(|e| send_failure(e, kind, &to))?;
        let ids: Vec<String> = r.parts.iter().filter_map(|p| p.id.clone()).collect();
        let mut text = format!(
            "{GREEN}Sent{GREEN:#} {} from {} to {}{}{}.\n",
            plural(r.parts.len(), "SMS", "SMS"),
            r.did,
            r.dst,
            if ids.is_empty() {
                String::new()
            } else {
                format!(" (id {})", ids.join(", "))
            },
            confirmed_note(r.confirmed_after_lost_reply(), kind)
        );
        text.push_str(&calls_text(&r.calls));
        let json = json!({
            "changed": true,
            "did": r.did.to_string(),
            "to": r.dst.to_string(),
            "parts": r.parts.iter().map(|p| json!({"id": p.id, "text": p.text})).collect::<Vec<_>>(),
            "calls": views::calls(&r.calls),
        });
        Report::new(json, text).print(ctx);
    } else {
        let Some(r) = friendly::change(
            ctx,
            "mms send",
            Plan::Local,
            async |c| Messaging::new(&c).plan_send_mms(d, t, x, md).await,
            async |c| Ok(Messaging::new(&c).send_mms(d, t, x, md).await),
        )?
        else {
            return Ok(());
        };
        let r = r.map_err(|e| send_failure(e, kind, &to))?;
        let mut text = format!(
            "{GREEN}Sent{GREEN:#} an MMS from {} to {} with {}{}{}.\n",
            r.did,
            r.dst,
            plural(media.len(), "attachment", "attachments"),
            r.id.as_ref()
                .map(|id| format!(" (id {id})"))
                .unwrap_or_default(),
            confirmed_note(r.confirmed_after_lost_reply(), kind)
        );
        text.push_str(&calls_text(&r.calls));
        let json = json!({
            "changed": true,
            "did": r.did.to_string(),
            "to": r.dst.to_string(),
            "id": r.id,
            "calls": views::calls(&r.calls),
        });
        Report::new(json, text).print(ctx);
    }
    Ok(())
}

/// The read that settles a lost reply, and the command that lists what was sent.
fn read_and_list(kind: MessageKind) -> (&'static str, &'static str) {
    match kind {
        MessageKind::Sms => ("getSMS", "voipms sms list"),
        MessageKind::Mms => ("getMMS", "voipms mms list"),
    }
}

fn confirmed_note(confirmed: bool, kind: MessageKind) -> String {
    if confirmed {
        format!(
            " (confirmed by {} after the reply was lost)",
            read_and_list(kind).0
        )
    } else {
        String::new()
    }
}

/// A send that failed. When a reply was lost and no read showed the message, it may have been
/// sent: say so, never advise sending again, and exit with the "outcome unknown" code.
fn send_failure(e: OpError, kind: MessageKind, to: &str) -> Failure {
    let Some(lost) = e.unconfirmed_billable() else {
        return friendly::failure(e);
    };
    let (read, list) = read_and_list(kind);
    let calls = e.calls();
    let at = calls
        .iter()
        .position(|c| std::ptr::eq(c, lost))
        .unwrap_or(0);
    let checked = calls[at..]
        .iter()
        .any(|c| c.method == read && c.outcome == CallOutcome::Ok);
    let why = if checked {
        format!("the message is not (yet) visible in {read}")
    } else {
        format!("{read} could not be read to check it")
    };
    let sent_before = calls[..at].iter().filter(|c| c.changed_account()).count();
    let before = if sent_before > 0 {
        format!(
            " The {} before it went out.",
            plural(sent_before, "part", "parts")
        )
    } else {
        String::new()
    };
    let detail = e.api_error().map(ToString::to_string).unwrap_or_default();
    Failure::new(
        Code::Unknown,
        format!(
            "may have been sent: the reply was lost and {why}; do NOT resend blindly, check \
             `{list} --contact {to} --direction sent` first.{before}\n{DIM}{detail}{DIM:#}"
        ),
    )
}

fn list(ctx: &mut Ctx, m: &ArgMatches, kind: MessageKind) -> Result<(), Failure> {
    let range = friendly::date_range(ctx, m, 30)?;
    let mut query = match kind {
        MessageKind::Sms => MessageQuery::sms(range),
        MessageKind::Mms => MessageQuery::mms(range),
    };
    if let Some(d) = m.get_one::<String>("did") {
        query = query.did(d.clone());
    }
    if let Some(c) = m.get_one::<String>("contact") {
        let n = PhoneNumber::parse(c).map_err(|e| Failure::usage(format!("--contact: {e}")))?;
        query = query.contact(n);
    }
    match m.get_one::<String>("direction").map(String::as_str) {
        Some("received") => query = query.direction(Direction::Received),
        Some("sent") => query = query.direction(Direction::Sent),
        _ => {}
    }
    let q = &query;
    let Some(found) = friendly::read(ctx, async |c| Messaging::new(&c).list(q).await)? else {
        return Ok(());
    };
    let mms = kind == MessageKind::Mms;
    let mut headers = vec!["id", "date", "direction", "did", "contact", "text"];
    if mms {
        headers.push("media");
    }
    let rows = Rows {
        headers: headers.into_iter().map(String::from).collect(),
        rows: found
            .messages
            .iter()
            .map(|msg| {
                let mut row = vec![
                    msg.id.clone(),
                    msg.date.map(|t| t.to_string()).unwrap_or_default(),
                    msg.direction
                        .map(views::direction_word)
                        .unwrap_or("")
                        .to_owned(),
                    msg.did.clone(),
                    msg.contact.clone(),
                    msg.text.clone(),
                ];
                if mms {
                    row.push(msg.media.join(" "));
                }
                row
            })
            .collect(),
    };
    let label = if mms { "MMS" } else { "SMS" };
    let mut text = format!(
        "{BOLD}{label}{BOLD:#} from {} to {}: {}\n",
        range.from,
        range.to,
        plural(found.messages.len(), "message", "messages")
    );
    if !found.messages.is_empty() {
        text.push_str(&friendly::table(&rows));
    }
    if !found.truncated_days.is_empty() {
        let days: Vec<String> = found
            .truncated_days
            .iter()
            .map(ToString::to_string)
            .collect();
        text.push_str(&format!(
            "{DIM}These days returned a full page and may hold more: {}{DIM:#}\n",
            days.join(", ")
        ));
    }
    let json = json!({
        "from": range.from.to_string(),
        "to": range.to.to_string(),
        "messages": found.messages.iter().map(views::message).collect::<Vec<_>>(),
        "truncated_days": found.truncated_days.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}
