//! `voipms transcripts sync|show|search|delete|export` and `voipms recordings transcribe`: the
//! local transcript store (`core::transcripts`), filled from VoIP.ms's own transcriptions and,
//! when one is configured, an OpenAI-compatible transcription provider.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::Builtin;
use crate::core::transcripts::provider::{Config, OpenAiCompatible, Transcriber};
use crate::core::transcripts::store::{Filter, Store};
use crate::core::transcripts::{self, Outcome, Service, Transcript, native};
use crate::ctx::Ctx;
use crate::exit::{Code, Failure};
use crate::friendly::{self, Report, plural};
use crate::output::{self, BOLD, DIM, GREEN, Rows};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "transcripts",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("transcripts")
        .about("Call and voicemail transcripts kept on this machine: sync, search, show, delete, export")
        .long_about(
            "Transcripts kept in a local SQLite store (transcripts.sqlite3 in the data directory; \
             the sandbox has its own). `sync` pulls VoIP.ms's own transcriptions (DIDs or \
             accounts with transcription on); `voipms recordings transcribe ID` and `voipms \
             voicemail transcribe MAILBOX` fill in the rest with a configured provider. Dates are VoIP.ms's wall-clock time of the call. \
             Nothing leaves this machine except to VoIP.ms and the configured provider.",
        )
        .subcommand_required(true)
        .subcommand(
            Command::new("sync")
                .about("Pull VoIP.ms's own call (and voicemail) transcriptions into the store")
                .arg(
                    Arg::new("account")
                        .long("account")
                        .value_name("ACCOUNT")
                        .help("Call account: all (default) or a sub-account such as 100001_VoIP"),
                )
                .args(friendly::date_range_options())
                .arg(
                    Arg::new("mailbox")
                        .long("mailbox")
                        .value_name("MAILBOX")
                        .action(ArgAction::Append)
                        .help("Also the voicemail transcriptions of this mailbox's INBOX (repeatable)"),
                ),
        )
        .subcommand(
            Command::new("show")
                .about("Show one transcript, segment by segment")
                .arg(key_arg()),
        )
        .subcommand(
            Command::new("search")
                .about("Full-text search, best match first, with the matching passage")
                .arg(
                    Arg::new("words")
                        .value_name("WORDS")
                        .required(true)
                        .num_args(1..)
                        .help("Words that must all occur (a trailing * matches a prefix)"),
                )
                .arg(friendly::date_option("from", "First day of the call (YYYY-MM-DD, -7d, …)"))
                .arg(friendly::date_option("to", "Last day of the call, inclusive"))
                .arg(
                    Arg::new("caller")
                        .long("caller")
                        .value_name("NUMBER")
                        .help("Only calls with this number (any written form)"),
                )
                .arg(
                    Arg::new("limit")
                        .long("limit")
                        .value_name("N")
                        .value_parser(clap::value_parser!(u32).range(1..=1000))
                        .help("At most N results (default 20)"),
                ),
        )
        .subcommand(
            Command::new("delete")
                .about("Delete one transcript, or all of them")
                .arg(
                    Arg::new("key")
                        .value_name("ID")
                        .required_unless_present("all")
                        .help("The transcript's id or its VoIP.ms id (recording id)"),
                )
                .arg(
                    Arg::new("all")
                        .long("all")
                        .action(ArgAction::SetTrue)
                        .conflicts_with("key")
                        .help("Delete every transcript in the store"),
                ),
        )
        .subcommand(
            Command::new("export")
                .about("Every transcript as one JSON document")
                .arg(
                    Arg::new("out")
                        .long("out")
                        .short('o')
                        .value_name("FILE")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("Write to FILE (default: standard output)"),
                ),
        )
}

fn key_arg() -> Arg {
    Arg::new("key")
        .value_name("ID")
        .required(true)
        .help("The transcript's id (see `search`) or its VoIP.ms id (recording id)")
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let Some((name, sub)) = m.subcommand() else {
        return Err(Failure::usage(
            "use `voipms transcripts sync|show|search|delete|export` (voipms help transcripts)",
        ));
    };
    match name {
        "sync" => sync(ctx, sub),
        "show" => show(ctx, sub),
        "search" => search(ctx, sub),
        "delete" => delete(ctx, sub),
        "export" => export(ctx, sub),
        other => Err(Failure::usage(format!(
            "unknown transcripts command `{other}`"
        ))),
    }
}

/// The store and provider of this run (the provider when configured; nothing is sent to it
/// unless a command transcribes).
pub fn service(ctx: &Ctx) -> Result<Service, Failure> {
    let path = transcripts::store_path(ctx.globals.sandbox).map_err(Failure::config)?;
    let provider =
        match Config::resolve(&ctx.lookup())? {
            Some(c) => Some(Box::new(OpenAiCompatible::new(c).map_err(Failure::config)?)
                as Box<dyn Transcriber>),
            None => None,
        };
    Ok(Service::new(path, provider))
}

fn store(ctx: &Ctx) -> Result<Store, Failure> {
    let path = transcripts::store_path(ctx.globals.sandbox).map_err(Failure::config)?;
    Store::open(&path).map_err(Failure::config)
}

fn sync(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let range = friendly::date_range(ctx, m, 30)?;
    let account = m
        .get_one::<String>("account")
        .cloned()
        .unwrap_or_else(|| "all".into());
    let mailboxes: Vec<String> = m
        .get_many::<String>("mailbox")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    if ctx.globals.dry_run {
        output::stdout_str(&format!(
            "Dry run: would read getCallTranscriptions for {account} from {} to {} (and \
             getCallRecordings to match them to recordings){}, and store them in the local \
             transcript store. Nothing was sent.\n",
            range.from,
            range.to,
            if mailboxes.is_empty() {
                String::new()
            } else {
                format!(
                    ", and getVoicemailTranscriptions of {}",
                    mailboxes.join(", ")
                )
            }
        ));
        return Ok(());
    }
    let store = store(ctx)?;
    let client = friendly::client(ctx)?;
    let done = friendly::block_on(
        ctx,
        native::sync(&client, &store, &account, range, &mailboxes),
    )?
    .map_err(|e| Failure::new(Code::Api, e))?;
    let mut text = format!(
        "{GREEN}Synced{GREEN:#} VoIP.ms's transcriptions of {account}, {} to {}: {} new, {} updated ({} matched to a recording)",
        range.from, range.to, done.added, done.updated, done.matched
    );
    if !mailboxes.is_empty() {
        text.push_str(&format!(
            ", {}",
            plural(done.voicemails, "voicemail", "voicemails")
        ));
    }
    text.push_str(".\n");
    if done.added + done.updated == 0 {
        text.push_str("VoIP.ms transcribes only calls of DIDs or accounts with transcription on (setDIDInfo transcribe=1); `voipms recordings transcribe ID` uses a configured provider instead.\n");
    }
    let json = json!({
        "account": account,
        "from": range.from.to_string(),
        "to": range.to.to_string(),
        "added": done.added,
        "updated": done.updated,
        "matched_to_recordings": done.matched,
        "voicemails": done.voicemails,
        "store": store.path().display().to_string(),
    });
    Report::new(json, text).print(ctx);
    Ok(())
}

/// A transcript as text: a header and its segments.
pub fn transcript_text(t: &Transcript) -> String {
    let mut s = format!(
        "{BOLD}Transcript {}{BOLD:#} of {} {} ({}){}\n",
        t.id,
        t.source.as_str(),
        t.voipms_ref,
        t.origin,
        t.model
            .as_ref()
            .map(|m| format!(", model {m}"))
            .unwrap_or_default()
    );
    s.push_str(&format!(
        "{DIM}call {}  with {}  account {}  {}{DIM:#}\n",
        t.call_date.as_deref().unwrap_or("(no date)"),
        t.caller.as_deref().unwrap_or("(unknown)"),
        t.account,
        t.duration.map(|d| format!("{d:.0} s")).unwrap_or_default()
    ));
    if t.segments.is_empty() {
        s.push_str(&t.text);
        s.push('\n');
    }
    for seg in &t.segments {
        let who = seg
            .speaker
            .as_deref()
            .map(|w| format!("speaker {w}: "))
            .unwrap_or_default();
        s.push_str(&format!("[{:>6.1}s] {who}{}\n", seg.start, seg.text));
    }
    s
}

fn show(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let key = m.get_one::<String>("key").expect("required");
    let store = store(ctx)?;
    let t = store.get(key).map_err(Failure::config)?.ok_or_else(|| {
        Failure::usage(format!(
            "no transcript has the id `{key}`; `voipms transcripts search WORDS` lists them, \
             `voipms recordings transcribe ID` makes one"
        ))
    })?;
    Report::new(t.to_json(), transcript_text(&t)).print(ctx);
    Ok(())
}

fn search(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let words: Vec<String> = m
        .get_many::<String>("words")
        .expect("required")
        .cloned()
        .collect();
    let words = words.join(" ");
    let today = crate::params::today();
    let day = |id: &str| -> Result<Option<String>, Failure> {
        if m.get_one::<String>(id).is_none() {
            return Ok(None);
        }
        friendly::date_value(m, id, today, today)
            .map(|d| Some(d.to_string()))
            .map_err(Failure::usage)
    };
    let filter = Filter {
        from: day("from")?,
        to: day("to")?,
        caller: m.get_one::<String>("caller").cloned(),
        limit: m.get_one::<u32>("limit").map_or(20, |n| *n as usize),
    };
    let store = store(ctx)?;
    let hits = store.search(&words, &filter).map_err(Failure::usage)?;
    let mut text = format!(
        "{BOLD}{}{BOLD:#} for \"{words}\"\n",
        plural(hits.len(), "transcript", "transcripts")
    );
    for h in &hits {
        let t = &h.transcript;
        text.push_str(&format!(
            "{:>4}  {}  {:<14} {}\n      {}\n",
            t.id,
            t.call_date.as_deref().unwrap_or("(no date)"),
            t.caller.as_deref().unwrap_or(""),
            t.source.as_str(),
            h.snippet
        ));
    }
    if !hits.is_empty() {
        text.push_str("Read one: voipms transcripts show ID\n");
    }
    let rows = Rows {
        headers: [
            "id",
            "call_date",
            "caller",
            "source",
            "voipms_id",
            "snippet",
        ]
        .map(String::from)
        .to_vec(),
        rows: hits
            .iter()
            .map(|h| {
                let t = &h.transcript;
                vec![
                    t.id.to_string(),
                    t.call_date.clone().unwrap_or_default(),
                    t.caller.clone().unwrap_or_default(),
                    t.source.as_str().to_owned(),
                    t.voipms_ref.clone(),
                    h.snippet.clone(),
                ]
            })
            .collect(),
    };
    let json = json!({
        "query": words,
        "results": hits.iter().map(|h| {
            let mut v = h.transcript.to_json();
            v["snippet"] = Value::String(h.snippet.clone());
            v
        }).collect::<Vec<_>>(),
    });
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}

fn delete(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let store = store(ctx)?;
    if m.get_flag("all") {
        let n = store.delete_all().map_err(Failure::config)?;
        Report::new(
            json!({"deleted": n}),
            format!(
                "{GREEN}Deleted{GREEN:#} {}.\n",
                plural(n, "transcript", "transcripts")
            ),
        )
        .print(ctx);
        return Ok(());
    }
    let key = m.get_one::<String>("key").expect("required unless --all");
    let deleted = store.delete(key).map_err(Failure::config)?;
    let text = if deleted {
        format!("{GREEN}Deleted{GREEN:#} transcript {key}.\n")
    } else {
        format!("No transcript has the id {key}: nothing changed.\n")
    };
    Report::new(json!({"deleted": usize::from(deleted), "id": key}), text).print(ctx);
    Ok(())
}

fn export(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let store = store(ctx)?;
    let doc = store.export().map_err(Failure::config)?;
    let text = output::json_pretty(&doc);
    match m.get_one::<PathBuf>("out").filter(|p| p.as_os_str() != "-") {
        None => output::stdout_str(&format!("{text}\n")),
        Some(path) => {
            std::fs::write(path, format!("{text}\n"))
                .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
            let n = doc["transcripts"].as_array().map_or(0, Vec::len);
            friendly::note(&format!(
                "Wrote {} to {}",
                plural(n, "transcript", "transcripts"),
                path.display()
            ));
        }
    }
    Ok(())
}

/// The `transcribe` subcommand of `voipms recordings`.
pub fn transcribe_command() -> Command {
    Command::new("transcribe")
        .about("Transcribe recordings: VoIP.ms's own transcription, else the configured provider")
        .long_about(
            "Each recording's transcript comes from the local store if it was transcribed before, \
             else from VoIP.ms's own transcription of the call, else from the transcription \
             provider configured in the profile ([transcription]) or VOIPMS_TRANSCRIPTION_URL — \
             which receives the recording's audio. The result is stored; --force transcribes \
             again.",
        )
        .arg(
            Arg::new("id")
                .value_name("ID")
                .required(true)
                .num_args(1..)
                .help("Recording ids (the `id` column of `voipms recordings list`)"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Transcribe again even if the store has a transcript"),
        )
}

/// `voipms recordings transcribe ID… [--force]`.
pub fn transcribe(ctx: &mut Ctx, m: &ArgMatches, account: &str) -> Result<(), Failure> {
    let ids: Vec<String> = m
        .get_many::<String>("id")
        .expect("required")
        .cloned()
        .collect();
    let force = m.get_flag("force");
    let svc = service(ctx)?;
    if ctx.globals.dry_run {
        output::stdout_str(&format!(
            "Dry run: would read {} (getCallRecording, getCallTranscriptions){}. Nothing was sent.\n",
            plural(ids.len(), "recording", "recordings"),
            match &svc.provider {
                Some(p) => format!(
                    " and send the audio VoIP.ms has no transcription of to {}",
                    p.name()
                ),
                None => String::new(),
            }
        ));
        return Ok(());
    }
    let client = friendly::client(ctx)?;
    let bar = progress(ids.len());
    let mut text = String::new();
    let mut results = Vec::new();
    let mut failed = 0;
    for id in &ids {
        if let Some(b) = &bar {
            b.set_message(id.clone());
        }
        let got = friendly::block_on(ctx, svc.call_transcript(&client, account, id, true, force))?;
        if !tell(
            got,
            &format!("recording {id}"),
            json!({"id": id}),
            &mut text,
            &mut results,
        ) {
            failed += 1;
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Report::new(json!({"results": results}), text).print(ctx);
    if failed > 0 {
        return Err(Failure::new(
            Code::Api,
            format!(
                "{failed} of {} not transcribed (see above)",
                plural(ids.len(), "recording", "recordings")
            ),
        ));
    }
    Ok(())
}

/// One transcription's outcome: told in `text` and added to `results` (as `key` with what was
/// found); whether there is a transcript.
fn tell(
    got: Result<Outcome, String>,
    what: &str,
    mut key: Value,
    text: &mut String,
    results: &mut Vec<Value>,
) -> bool {
    let found = match got {
        Ok(Outcome::Found {
            transcript,
            answered,
        }) => {
            text.push_str(&format!(
                "{GREEN}Transcript {}{GREEN:#} of {what} ({}):\n{}\n",
                transcript.id,
                answered.words(),
                one_line(&transcript.text)
            ));
            let mut v = transcript.to_json();
            v["answered_by"] = json!(answered.as_str());
            key["transcript"] = v;
            true
        }
        Ok(Outcome::Missing { reason, recording }) => {
            text.push_str(&format!("No transcript of {what}: {reason}.\n"));
            key["reason"] = json!(reason);
            if let Some(r) = recording {
                key["recording"] = crate::core::views::recording(&r);
            }
            false
        }
        Err(e) => {
            let mut chars = what.chars();
            let what: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            text.push_str(&format!("{what} was not transcribed: {e}\n"));
            key["error"] = json!(e);
            false
        }
    };
    key["found"] = json!(found);
    results.push(key);
    found
}

/// A progress bar on a terminal's stderr when there are several to transcribe.
fn progress(n: usize) -> Option<ProgressBar> {
    (n > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} transcribing {bar:30} {pos}/{len} [{elapsed}] {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    })
}

/// The `transcribe` subcommand of `voipms voicemail`.
pub fn voicemail_transcribe_command() -> Command {
    Command::new("transcribe")
        .about("Transcribe voicemail messages: VoIP.ms's own transcription, else the configured provider")
        .long_about(
            "Each message's transcript comes from the local store if it was transcribed before, \
             else from VoIP.ms's own transcription (mailboxes with transcription on), else from \
             the transcription provider configured in the profile ([transcription]) or \
             VOIPMS_TRANSCRIPTION_URL — which receives the message's audio as WAV. The result is \
             stored; --force transcribes again.",
        )
        .arg(
            Arg::new("mailbox")
                .value_name("MAILBOX")
                .required(true)
                .value_parser(|s: &str| {
                    let t = s.trim();
                    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                        Ok(t.to_owned())
                    } else {
                        Err(format!(
                            "`{s}` is not a mailbox number (such as 1001; see getVoicemails); nothing was sent"
                        ))
                    }
                })
                .help("The mailbox (its number, such as 1001)"),
        )
        .arg(
            Arg::new("message")
                .value_name("MESSAGE")
                .num_args(0..)
                .value_parser(clap::value_parser!(u32).range(1..))
                .help("Message numbers in the folder (default: every message in it)"),
        )
        .arg(
            Arg::new("folder")
                .long("folder")
                .value_name("FOLDER")
                .default_value("INBOX")
                .help("The folder (INBOX, Old, …; see getVoicemailFolders)"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Transcribe again even if the store has a transcript"),
        )
}

/// `voipms voicemail transcribe MAILBOX [MESSAGE…] [--folder F] [--force]`.
pub fn voicemail_transcribe(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let mailbox = m.get_one::<String>("mailbox").expect("required").clone();
    let folder = m.get_one::<String>("folder").expect("default").clone();
    let wanted: Vec<u32> = m
        .get_many::<u32>("message")
        .map(|v| v.copied().collect())
        .unwrap_or_default();
    let force = m.get_flag("force");
    let svc = service(ctx)?;
    let which = if wanted.is_empty() {
        format!("every message of {mailbox}/{folder}")
    } else {
        format!(
            "{} of {mailbox}/{folder}",
            plural(wanted.len(), "message", "messages")
        )
    };
    if ctx.globals.dry_run {
        output::stdout_str(&format!(
            "Dry run: would read {which} (getVoicemailMessages, getVoicemailTranscriptions){}. \
             Nothing was sent.\n",
            match &svc.provider {
                Some(p) => format!(
                    " and send the WAV of those VoIP.ms has no transcription of to {}",
                    p.name()
                ),
                None => String::new(),
            }
        ));
        return Ok(());
    }
    let client = friendly::client(ctx)?;
    let listed = friendly::block_on(
        ctx,
        transcripts::voicemail_messages(&client, &mailbox, &folder),
    )?
    .map_err(|e| Failure::new(Code::Api, e))?;
    let mut todo = Vec::new();
    let mut missing = Vec::new();
    if wanted.is_empty() {
        todo = listed;
    } else {
        for n in &wanted {
            match listed.iter().find(|msg| msg.num == n.to_string()) {
                Some(msg) => todo.push(msg.clone()),
                None => missing.push(*n),
            }
        }
    }
    if todo.is_empty() && missing.is_empty() {
        Report::new(
            json!({"mailbox": mailbox, "folder": folder, "results": []}),
            format!("No messages in {mailbox}/{folder}: nothing to transcribe.\n"),
        )
        .print(ctx);
        return Ok(());
    }
    let bar = progress(todo.len());
    let mut text = String::new();
    let mut results = Vec::new();
    for n in &missing {
        text.push_str(&format!(
            "No message {n} in {mailbox}/{folder} (getVoicemailMessages lists them).\n"
        ));
        results.push(json!({"message_num": n.to_string(), "found": false,
            "reason": format!("no message {n} in {mailbox}/{folder}")}));
    }
    let mut failed = missing.len();
    for msg in &todo {
        if let Some(b) = &bar {
            b.set_message(format!("message {}", msg.num));
        }
        let got = friendly::block_on(ctx, svc.voicemail_transcript(&client, msg, true, force))?;
        let label = format!(
            "message {} from {} at {}",
            msg.num,
            msg.callerid.as_deref().unwrap_or("an unknown caller"),
            msg.date.as_deref().unwrap_or("an unknown time")
        );
        let key = json!({"message_num": msg.num, "message": msg.to_json()});
        if !tell(got, &label, key, &mut text, &mut results) {
            failed += 1;
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let total = todo.len() + missing.len();
    Report::new(
        json!({"mailbox": mailbox, "folder": folder, "results": results}),
        text,
    )
    .print(ctx);
    if failed > 0 {
        return Err(Failure::new(
            Code::Api,
            format!(
                "{failed} of {} not transcribed (see above)",
                plural(total, "message", "messages")
            ),
        ));
    }
    Ok(())
}

/// The first 300 characters of `text`, on one line.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        format!("{}…", flat.chars().take(300).collect::<String>())
    } else {
        flat
    }
}
