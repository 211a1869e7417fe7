//! `voipms decode METHOD [FILE|-]`: checks a saved raw answer against METHOD's typed response and
//! reports success or the JSON path that failed (for maintainers chasing API drift).

use std::io::Read;

use clap::{Arg, ArgMatches, Command};
use serde_json::{Value, json};

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::{Code, Failure};
use crate::outln;
use crate::output::{self, Format, GREEN};

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
            "Decode a saved raw VoIP.ms answer with the typed response of METHOD and report \
             success, or the JSON path that does not match (exit 6). For maintainers chasing \
             API drift.",
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
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let name = m.get_one::<String>("method").expect("required");
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
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("success");
    // An "empty list" status decodes as an empty response, as the client does.
    let payload = if method.is_empty_status(status) {
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
        Some(Ok(_)) => {
            if json_out {
                outln!(
                    "{}",
                    output::json_pretty(&json!({"method": method.name, "ok": true}))
                );
            } else {
                outln!("{GREEN}ok{GREEN:#}: the answer decodes as {}", method.name);
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
