//! The command tree, built at run time with clap's builder API: the global options, the
//! hand-written commands ([`crate::commands`]) and one command per catalog method.
//!
//! Building all 226 method commands costs a few milliseconds, so a normal run builds only the one
//! it needs ([`Methods::One`]); completion scripts and suggestions use the whole tree.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Command};
use voipms_sdk::catalog::{self, Method, ParamKind};

use crate::commands;
use crate::exit::EXIT_CODES_HELP;
use crate::output::Format;
use crate::params::{long_aliases, long_name};

/// Id of the free arguments (`key=value` and positional shortcuts) of a method command.
pub const FREE: &str = "@free";

/// Which method commands to build.
#[derive(Debug, Clone, Copy)]
pub enum Methods {
    /// None (a hand-written command runs).
    None,
    /// Just this one (it is the command being run).
    One(&'static Method),
    /// All of them, visible, with enum values (completion scripts).
    All,
}

/// The global options, valid before or after the command name.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    /// `--format`.
    pub format: Option<Format>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--api-url`.
    pub api_url: Option<String>,
    /// `--sandbox` or `VOIPMS_SANDBOX=1`.
    pub sandbox: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--yes`.
    pub yes: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `--retries`.
    pub retries: Option<u32>,
}

/// Global options that take a value (the pre-scan of the arguments skips their values).
pub const GLOBAL_VALUE_OPTIONS: &[&str] = &[
    "--format",
    "--output-format",
    "--profile",
    "--config",
    "--api-url",
    "--retries",
];

const G_FORMAT: &str = "@format";
const G_PROFILE: &str = "@profile";
const G_CONFIG: &str = "@config";
const G_API_URL: &str = "@api-url";
const G_SANDBOX: &str = "@sandbox";
const G_DRY_RUN: &str = "@dry-run";
const G_YES: &str = "@yes";
const G_VERBOSE: &str = "@verbose";
const G_RETRIES: &str = "@retries";

fn global_args() -> Vec<Arg> {
    vec![
        Arg::new(G_FORMAT)
            .long("format")
            .alias("output-format")
            .value_name("FORMAT")
            .value_parser(PossibleValuesParser::new(Format::NAMES))
            .ignore_case(true)
            .hide_possible_values(true)
            .help(
                "Output: pretty, json, raw, table or csv (default: see Output formats in voipms --help)",
            )
            .help_heading("Global options"),
        Arg::new(G_DRY_RUN)
            .long("dry-run")
            .action(ArgAction::SetTrue)
            .help("Print the exact request (password masked) and send nothing")
            .help_heading("Global options"),
        Arg::new(G_YES)
            .short('y')
            .long("yes")
            .action(ArgAction::SetTrue)
            .help("Send calls that change the account or spend money without asking")
            .help_heading("Global options"),
        Arg::new(G_SANDBOX)
            .long("sandbox")
            .action(ArgAction::SetTrue)
            .help("Use the simulated account kept on this machine (also VOIPMS_SANDBOX=1)")
            .help_heading("Global options"),
        Arg::new(G_PROFILE)
            .long("profile")
            .value_name("NAME")
            .help("Profile of the config file to use (also VOIPMS_PROFILE)")
            .help_heading("Global options"),
        Arg::new(G_CONFIG)
            .long("config")
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Config file (also VOIPMS_CONFIG; default: voipms/config.toml in the config dir)")
            .help_heading("Global options"),
        Arg::new(G_API_URL)
            .long("api-url")
            .value_name("URL")
            .help("API endpoint, e.g. an allow-listed proxy (also VOIPMS_API_URL)")
            .help_heading("Global options"),
        Arg::new(G_RETRIES)
            .long("retries")
            .value_name("N")
            .value_parser(clap::value_parser!(u32).range(0..=10))
            .help("Retries of a failed read (default 3; changes are never repeated blindly)")
            .help_heading("Global options"),
        Arg::new(G_VERBOSE)
            .short('v')
            .long("verbose")
            .action(ArgAction::Count)
            .help("Log what happens on stderr (-vv for more); never logs the password")
            .help_heading("Global options"),
    ]
}

/// Adds the global options to a subcommand, except those whose long name one of its own
/// parameters uses (`getVoicemailMessageFile --format mp3`: there the output format is given
/// before the command name, or as `--output-format`).
pub fn with_globals(mut cmd: Command, taken: &[String]) -> Command {
    cmd = cmd.after_help(
        "Global options (--format, --dry-run, --yes, --sandbox, --profile, --config, --api-url, \
         --retries, --verbose) work here too: voipms --help",
    );
    for a in global_args() {
        // Listed once, in `voipms --help`.
        let a = a.hide(true);
        let clash = a.get_long().is_some_and(|l| taken.iter().any(|t| t == l));
        if clash {
            if a.get_id() == G_FORMAT {
                cmd = cmd.arg(
                    Arg::new(G_FORMAT)
                        .hide(true)
                        .long("output-format")
                        .value_name("FORMAT")
                        .value_parser(PossibleValuesParser::new(Format::NAMES))
                        .ignore_case(true)
                        .help("Output format (here --format is the API parameter)")
                        .help_heading("Global options"),
                );
            }
            continue;
        }
        cmd = cmd.arg(a);
    }
    cmd
}

const ABOUT: &str = "The VoIP.ms API from the command line";

fn root_after_help() -> String {
    format!(
        "API methods:
  Every VoIP.ms API method is a command too, by its name (any case) or its kebab-case name:
    voipms getDIDsInfo --did 5551234567      voipms get-dids-info did=5551234567
  Parameters go as --name VALUE, --name=VALUE or name=VALUE; `voipms list` shows the {} methods
  and `voipms help METHOD` (or METHOD --help) their parameters. Calls that change the account ask
  for confirmation (or need --yes); --dry-run shows the request and sends nothing.

Output formats:
  API method commands and cdr print pretty text on a terminal and JSON when piped or redirected.
  The other friendly commands (balance, phonebook, spam, sms, mms, recordings, filters), list and
  doctor print text even when piped: add --format json (or table, csv) to get data.
  cdr export writes CSV unless --format json (or an --out file ending in .json).

Credentials:
  VOIPMS_API_USERNAME and VOIPMS_API_PASSWORD, or a profile in the config file (chmod 600):
    [profiles.default]
    username = \"you@example.com\"
    password = \"your-api-password\"
  With none, --sandbox works on a simulated account. `voipms doctor` checks the set-up.

{EXIT_CODES_HELP}",
        catalog::METHODS.len()
    )
}

/// The whole command tree for this run.
pub fn build(methods: Methods) -> Command {
    let mut root = Command::new("voipms")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .after_help(root_after_help())
        .disable_help_subcommand(true)
        .subcommand_value_name("COMMAND")
        .arg_required_else_help(true)
        .max_term_width(100)
        .args(global_args());
    for b in commands::BUILTINS {
        let mut cmd = (b.command)();
        let subs: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in subs {
            cmd = cmd.mut_subcommand(name, |s| with_globals(s, &[]));
        }
        root = root.subcommand(with_globals(cmd, &[]));
    }
    match methods {
        Methods::None => {}
        Methods::One(m) => root = root.subcommand(method_command(m, false)),
        Methods::All => {
            for m in catalog::METHODS {
                root = root.subcommand(method_command(m, true));
            }
        }
    }
    root
}

/// The tree a completion script is generated from: the built-in commands, and every method under
/// its name and its kebab-case name with its flags — without descriptions, without the global
/// options repeated per method, and with a value completed only where there is something to offer
/// (an enum's values, a file for a base64 payload), so the scripts stay small.
pub fn completion_tree() -> Command {
    // The global options are completed after `voipms`, not again after every command.
    let mut root = Command::new("voipms")
        .disable_help_subcommand(true)
        .args(global_args());
    for b in commands::BUILTINS {
        root = root.subcommand((b.command)());
    }
    for m in catalog::METHODS {
        let mut cmd = Command::new(m.name)
            .visible_alias(m.kebab_name())
            .disable_help_flag(true);
        for p in m.params {
            let arg = Arg::new(p.name).long(long_name(p.name));
            let arg = match p.kind {
                ParamKind::Enum => {
                    let values: Vec<&'static str> = p.values.iter().map(|v| v.value).collect();
                    arg.value_parser(PossibleValuesParser::new(values))
                }
                ParamKind::Base64 => arg.value_hint(clap::ValueHint::FilePath),
                // The value is typed freely: nothing to complete, no case in the script.
                _ => arg.action(ArgAction::SetTrue),
            };
            cmd = cmd.arg(arg);
        }
        root = root.subcommand(cmd);
    }
    root
}

/// The command of one method: a flag per parameter, plus free `key=value`/positional arguments.
/// Nothing is validated by clap (so every problem can be reported at once, whichever way a value
/// was given); its `--help` is intercepted and shows [`crate::help::method_help`].
pub fn method_command(m: &'static Method, complete: bool) -> Command {
    let mut cmd = Command::new(m.name)
        .about(m.summary)
        .disable_help_flag(true)
        .alias(m.kebab_name());
    for a in m.cli.aliases {
        if commands::find(a).is_none() {
            cmd = cmd.alias(*a);
        }
    }
    if !complete {
        cmd = cmd.hide(true);
    }
    let mut taken = Vec::new();
    for p in m.params {
        let long = long_name(p.name);
        let mut arg = Arg::new(p.name)
            .long(long.clone())
            .value_name(p.kind.as_str().to_uppercase())
            .help(p.description)
            .allow_negative_numbers(true)
            // Repeats are collected: lists join them, other kinds report "given twice".
            .action(ArgAction::Append);
        match p.kind {
            // `--advanced` alone means on; `--advanced 0` or `--advanced=no` still work.
            ParamKind::Flag | ParamKind::YesNo => {
                arg = arg.num_args(0..=1).default_missing_value("true");
            }
            // `--date-from -3d`: a relative date is a value, not an option.
            ParamKind::Date | ParamKind::DateTime => arg = arg.allow_hyphen_values(true),
            _ => {}
        }
        for a in long_aliases(p.name) {
            taken.push(a.clone());
            arg = arg.alias(a);
        }
        if complete && p.kind == ParamKind::Enum {
            let values: Vec<&'static str> = p.values.iter().map(|v| v.value).collect();
            arg = arg.value_parser(PossibleValuesParser::new(values));
        }
        taken.push(long);
        cmd = cmd.arg(arg);
    }
    cmd = cmd.arg(
        Arg::new(FREE)
            .num_args(0..)
            .action(ArgAction::Append)
            .allow_negative_numbers(true)
            .value_name("key=value|VALUE")
            .help("Parameters as name=value, or a positional shortcut"),
    );
    with_globals(cmd, &taken)
}

fn one<'a, T: Clone + Send + Sync + 'static>(m: &'a ArgMatches, id: &str) -> Option<&'a T> {
    m.try_get_one::<T>(id).ok().flatten()
}

impl Globals {
    /// The global options from the root matches and, where given there, the subcommand's.
    pub fn from_matches(root: &ArgMatches) -> Globals {
        let mut levels = vec![root];
        if let Some((_, sub)) = root.subcommand() {
            levels.push(sub);
            if let Some((_, subsub)) = sub.subcommand() {
                levels.push(subsub);
            }
        }
        let mut g = Globals::default();
        for m in levels {
            if let Some(f) = one::<String>(m, G_FORMAT) {
                g.format = Format::parse(f);
            }
            if let Some(p) = one::<String>(m, G_PROFILE) {
                g.profile = Some(p.clone());
            }
            if let Some(c) = one::<PathBuf>(m, G_CONFIG) {
                g.config = Some(c.clone());
            }
            if let Some(u) = one::<String>(m, G_API_URL) {
                g.api_url = Some(u.clone());
            }
            if let Some(r) = one::<u32>(m, G_RETRIES) {
                g.retries = Some(*r);
            }
            g.sandbox |= one::<bool>(m, G_SANDBOX).copied().unwrap_or(false);
            g.dry_run |= one::<bool>(m, G_DRY_RUN).copied().unwrap_or(false);
            g.yes |= one::<bool>(m, G_YES).copied().unwrap_or(false);
            g.verbose = g
                .verbose
                .saturating_add(one::<u8>(m, G_VERBOSE).copied().unwrap_or(0));
        }
        if !g.sandbox {
            g.sandbox = std::env::var("VOIPMS_SANDBOX")
                .ok()
                .and_then(|v| crate::params::parse_bool(&v))
                .unwrap_or(false);
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_tree_is_valid() {
        // clap checks names, ids and clashes when it builds a command (debug builds).
        let mut cmd = build(Methods::All);
        cmd.build();
        assert!(cmd.find_subcommand("getDIDsInfo").is_some());
        assert!(cmd.find_subcommand("cdr").is_some());
        let vm = cmd.find_subcommand("getVoicemailMessageFile").unwrap();
        assert!(
            vm.get_arguments()
                .any(|a| a.get_long() == Some("output-format"))
        );
    }

    #[test]
    fn globals_after_the_command() {
        let m = build(Methods::One(catalog::method("getBalance").unwrap()))
            .try_get_matches_from(["voipms", "getBalance", "--format", "csv", "-y", "-v"])
            .unwrap();
        let g = Globals::from_matches(&m);
        assert_eq!(g.format, Some(Format::Csv));
        assert!(g.yes);
        assert_eq!(g.verbose, 1);
    }
}
