//! `voipms decode METHOD [FILE|-] [--strict]`: decodes a saved raw answer with METHOD's typed
//! response and prints the typed value with its drift (keys not read, values not readable), or
//! the JSON path whose shape failed (for maintainers chasing API drift).

use std::io::Read;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Value, json};

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::{Code, Failure};
use crate::outln;
use crate::output::{self, Format, GREEN, YELLOW};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "decode",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("decode")
        .about("Check a saved raw answer against a method's typed response")
        .long_about(
            "Decode a saved raw VoIP.ms answer with the typed response of METHOD and print the \
             typed value, the keys it did not read (unread) and the values that did not read as \
             their declared type (unreadable: each costs its own field only). A shape that does \
             not match fails with its JSON path (exit 6); with --strict, unread keys or \
             unreadable values fail too. For maintainers chasing API drift.",
        )
        .arg(
            Arg::new("method")
                .value_name("METHOD")
                .required(true)
                .help("The method that gave the answer"),
        )
        .arg(
            Arg::new("file")
                .value_name("FILE")
                .help("The answer (JSON); - or nothing reads stdin"),
        )
        .arg(
            Arg::new("strict")
                .long("strict")
                .action(ArgAction::SetTrue)
                .help("Exit 6 when a key is unread or a value unreadable"),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let name = m.get_one::<String>("method").expect("required");
    let strict = m.get_flag("strict");
    let method = super::resolve_method(name).ok_or_else(|| super::unknown_command(name))?;
    let mut text = String::new();
    match m.get_one::<String>("file").map(String::as_str) {
        None | Some("-") => std::io::stdin().read_to_string(&mut text).map(|_| ()),
        Some(path) => std::fs::read_to_string(path).map(|t| text = t),
    }
    .map_err(|e| Failure::usage(format!("cannot read the answer: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    let body: Value = if text.trim().is_empty() {
        json!({"status": "success"})
    } else {
        serde_json::from_str(text)
            .map_err(|e| Failure::new(Code::Decode, format!("the answer is not JSON: {e}")))?
    };
    // An "empty list" status decodes as an empty response, as the client does.
    let payload = if method.is_empty_status(voipms_sdk::status::status_of(&body)) {
        json!({})
    } else {
        body.clone()
    };
    let json_out = matches!(ctx.globals.format, Some(Format::Json));
    match voipms_sdk::api::decode_by_name(method.name, &payload) {
        None => Err(Failure::usage(format!(
            "{} has no typed response in this build",
            method.name
        ))),
        Some(Ok(decoded)) => {
            let drift = &decoded.drift;
            let unread = drift.unread();
            let unreadable = drift.unreadable();
            if json_out {
                let paths: Vec<&str> = unreadable.iter().map(|u| u.path.as_str()).collect();
                outln!(
                    "{}",
                    output::json_pretty(&json!({
                        "method": method.name,
                        "ok": true,
                        "data": decoded.value.to_json(),
                        "unread": unread,
                        "unreadable": paths,
                    }))
                );
            } else {
                outln!("{}", output::json_pretty(&decoded.value.to_json()));
                for path in unread {
                    outln!("{YELLOW}unread{YELLOW:#}: {path} (no field of the spec reads it)");
                }
                for u in unreadable {
                    outln!(
                        "{YELLOW}unreadable{YELLOW:#}: {} = {:?} (expected {}; the field is empty, \
                         the rest decoded)",
                        u.path,
                        u.text,
                        u.expected
                    );
                }
                if drift.is_empty() {
                    outln!("{GREEN}ok{GREEN:#}: the answer decodes as {}", method.name);
                } else {
                    outln!(
                        "{GREEN}ok{GREEN:#}: the answer decodes as {}, with {} unread key(s) and \
                         {} unreadable value(s)",
                        method.name,
                        unread.len(),
                        unreadable.len()
                    );
                }
            }
            if strict && !drift.is_empty() {
                return Err(Failure::new(
                    Code::Decode,
                    format!(
                        "--strict: the answer of {} has {} unread key(s) and {} unreadable \
                         value(s); if VoIP.ms changed, update api-spec/ (or report it)",
                        method.name,
                        unread.len(),
                        unreadable.len()
                    ),
                ));
            }
            Ok(())
        }
        Some(Err(e)) => {
            if json_out {
                outln!(
                    "{}",
                    output::json_pretty(&json!({
                        "method": method.name, "ok": false, "path": e.path(),
                        "expected": e.expected(), "found": e.found(),
                    }))
                );
            }
            Err(Failure::new(
                Code::Decode,
                format!(
                    "the answer does not match the typed response of {} {e}; if VoIP.ms changed, \
                     update api-spec/ (or report it)",
                    method.name
                ),
            ))
        }
    }
}
