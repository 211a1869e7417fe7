//! `voipms doctor [--drift]`: see [`crate::doctor`].

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::Failure;

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "doctor",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("doctor")
        .about("Check credentials, API access and the IP allow-list, with the fix for each problem")
        .long_about(
            "Check the set-up step by step: credentials (environment or config file), the \
             endpoint, the network (getIP: which address VoIP.ms sees), API access and the IP \
             allow-list (getBalance). Each failure comes with its fix; the exit code is that of \
             the first failure.",
        )
        .arg(
            Arg::new("drift")
                .long("drift")
                .action(ArgAction::SetTrue)
                .help(
                    "Also call every read-only method that needs no parameters and report, per \
                     method, keys its typed response does not read, values that do not read as \
                     their type and answers that do not match (exit 6 for any)",
                ),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    crate::doctor::run(ctx, m.get_flag("drift"))
}
