//! `voipms completion SHELL`: a completion script covering every command, method and flag.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgMatches, Command};
use clap_complete::Shell;

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::output;

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "completion",
    command,
    run,
    needs_all_methods: true,
};

fn command() -> Command {
    Command::new("completion")
        .about("Print a shell completion script (bash, zsh, fish, powershell, elvish)")
        .long_about(
            "Print a completion script for SHELL on stdout, completing commands, API methods and \
             their flags. For example:\n  bash: source <(voipms completion bash)   (or save it \
             in /etc/bash_completion.d/voipms)\n  zsh:  voipms completion zsh > \
             \"${fpath[1]}/_voipms\"\n  fish: voipms completion fish > \
             ~/.config/fish/completions/voipms.fish",
        )
        .arg(
            Arg::new("shell")
                .value_name("SHELL")
                .required(true)
                .value_parser(PossibleValuesParser::new([
                    "bash",
                    "zsh",
                    "fish",
                    "powershell",
                    "elvish",
                ])),
        )
}

fn run(_ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let shell = match m.get_one::<String>("shell").map(String::as_str) {
        Some("bash") => Shell::Bash,
        Some("zsh") => Shell::Zsh,
        Some("fish") => Shell::Fish,
        Some("powershell") => Shell::PowerShell,
        Some("elvish") => Shell::Elvish,
        other => {
            return Err(Failure::usage(format!(
                "no completion for {other:?}; use bash, zsh, fish, powershell or elvish"
            )));
        }
    };
    let mut cmd = crate::cli::completion_tree();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "voipms", &mut buf);
    output::stdout_bytes(&buf);
    Ok(())
}
