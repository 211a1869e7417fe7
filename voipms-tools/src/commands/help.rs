//! `voipms help [COMMAND]`: the help of the program, a hand-written command or an API method.

use clap::{Arg, ArgMatches, Command};

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::output;

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "help",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("help")
        .about("Show the help of voipms, of a command, or of an API method")
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .help("A command (cdr, doctor, …) or an API method (getCDR, get-cdr, …)"),
        )
        .arg(
            Arg::new("sub")
                .value_name("SUBCOMMAND")
                .help("A subcommand of COMMAND (sandbox serve)"),
        )
}

fn run(_ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let Some(name) = m.get_one::<String>("command") else {
        return print_clap_help(&["--help"]);
    };
    if super::find(name).is_some() {
        let mut args = vec![name.as_str()];
        if let Some(sub) = m.get_one::<String>("sub") {
            args.push(sub);
        }
        args.push("--help");
        return print_clap_help(&args);
    }
    match super::resolve_method(name) {
        Some(method) => {
            output::stdout_str(&crate::help::method_help(method));
            Ok(())
        }
        None => Err(super::unknown_command(name)),
    }
}

/// Prints clap's help for `voipms ARGS…` (ARGS ending in `--help`).
pub fn print_clap_help(args: &[&str]) -> Result<(), Failure> {
    let cmd = crate::cli::build(crate::cli::Methods::None);
    let argv = std::iter::once("voipms").chain(args.iter().copied());
    match cmd.try_get_matches_from(argv) {
        Err(e) if e.exit_code() == 0 => {
            output::stdout_str(&e.render().ansi().to_string());
            Ok(())
        }
        Err(e) => Err(super::clap_failure(e)),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_method_resolves() {
        for m in voipms_sdk::catalog::METHODS {
            assert_eq!(
                crate::commands::resolve_method(&m.kebab_name())
                    .unwrap()
                    .name,
                m.name
            );
        }
    }
}
