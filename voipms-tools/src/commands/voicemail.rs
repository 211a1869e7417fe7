//! `voipms voicemail transcribe`: voicemail messages into the local transcript store (the
//! transcripts module does the work; this is the command's place in the tree).

use clap::{ArgMatches, Command};

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::Failure;

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "voicemail",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("voicemail")
        .about("Voicemail messages: transcribe them into the local transcript store")
        .subcommand_required(true)
        .subcommand(super::transcripts::voicemail_transcribe_command())
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    match m.subcommand() {
        Some(("transcribe", sub)) => super::transcripts::voicemail_transcribe(ctx, sub),
        _ => Err(Failure::usage(
            "use `voipms voicemail transcribe MAILBOX [MESSAGE…]` (voipms help voicemail)",
        )),
    }
}
