//! The hand-written commands, in one registry, and the runner of the catalog's method commands.
//!
//! A hand-written command is a [`Builtin`]: a clap [`Command`] and the function that runs it.
//! The friendly commands over the helper layer (`balance`, `phonebook …`, `spam …`, `sms send`,
//! …) are built the same way, on what [`crate::friendly`] shares. A built-in name takes
//! precedence over a catalog alias of the same name (`balance` is the friendly command, not the
//! catalog's alias of getBalance; `voipms getBalance` still is).

use clap::{ArgMatches, Command};
use voipms_sdk::catalog::{self, Method};

use crate::ctx::{Ctx, Invocation};
use crate::exit::{Code, Failure};
use crate::output;
use crate::params::{self, Given};

pub mod balance;
pub mod call;
pub mod cdr;
pub mod completion;
pub mod decode;
pub mod doctor;
pub mod filters;
pub mod help;
pub mod list;
pub mod mcp;
pub mod mcp_oauth;
pub mod phonebook;
pub mod recordings;
pub mod sandbox;
pub mod sms;
pub mod spam;
pub mod transcripts;
pub mod voicemail;

/// A hand-written command.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name.
    pub name: &'static str,
    /// Its clap definition (the global options are added by the tree builder).
    pub command: fn() -> Command,
    /// Runs it.
    pub run: fn(&mut Ctx, &ArgMatches) -> Result<(), Failure>,
    /// It needs every method command in the tree (completion scripts).
    pub needs_all_methods: bool,
}

/// Every hand-written command, in `voipms --help` order.
pub const BUILTINS: &[Builtin] = &[
    list::BUILTIN,
    help::BUILTIN,
    balance::BUILTIN,
    phonebook::BUILTIN,
    spam::BUILTIN,
    cdr::BUILTIN,
    sms::BUILTIN,
    sms::MMS,
    recordings::BUILTIN,
    transcripts::BUILTIN,
    voicemail::BUILTIN,
    filters::BUILTIN,
    call::BUILTIN,
    doctor::BUILTIN,
    decode::BUILTIN,
    sandbox::BUILTIN,
    mcp::BUILTIN,
    mcp::AUDIT,
    completion::BUILTIN,
];

/// The hand-written command named `name` (exact).
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// A method by wire name (any case), kebab or snake name, or catalog alias. Names of hand-written
/// commands are not aliases (`cdr` is the friendly command, not getCDR).
pub fn resolve_method(name: &str) -> Option<&'static Method> {
    catalog::find_method(name).or_else(|| {
        if find(name).is_some() {
            return None;
        }
        catalog::METHODS
            .iter()
            .find(|m| m.cli.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
    })
}

/// "unknown command" with the closest names.
pub fn unknown_command(name: &str) -> Failure {
    let lower = name.to_ascii_lowercase();
    let mut scored: Vec<(f64, String)> = Vec::new();
    for b in BUILTINS {
        scored.push((strsim::jaro_winkler(&lower, b.name), b.name.to_owned()));
    }
    for m in catalog::METHODS {
        let by_name = strsim::jaro_winkler(&lower, &m.name.to_ascii_lowercase());
        let by_kebab = strsim::jaro_winkler(&lower, &m.kebab_name());
        scored.push((by_name.max(by_kebab), m.name.to_owned()));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let close: Vec<String> = scored
        .iter()
        .filter(|(s, _)| *s > 0.85)
        .take(3)
        .map(|(_, n)| format!("`{n}`"))
        .collect();
    let hint = if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", close.join(" or "))
    };
    Failure::usage(format!(
        "unknown command `{name}`{hint}\n`voipms list` shows every API method (`voipms list \
         --search WORD` to look one up); `voipms call {name} key=value…` sends a method the spec \
         does not know."
    ))
}

/// Prints a clap error or help (help and version to stdout) and returns the matching failure.
pub fn clap_failure(e: clap::Error) -> Failure {
    let text = e.render().ansi().to_string();
    if e.exit_code() == 0 {
        output::stdout_str(&text);
        Failure::printed(Code::Usage)
    } else {
        output::stderr_str(&text);
        Failure::printed(Code::Usage)
    }
}

/// Runs the command of catalog method `m`.
pub fn run_method(ctx: &mut Ctx, m: &'static Method, sub: &ArgMatches) -> Result<(), Failure> {
    let params = method_params(m, sub, params::today())?;
    ctx.invoke_and_print(&Invocation::of(m, params))
}

/// The wire parameters of a call of `m` from its parsed command line: the flags and the free
/// `key=value`/positional arguments, validated and encoded (`today` resolves relative dates).
pub fn method_params(
    m: &'static Method,
    sub: &ArgMatches,
    today: chrono::NaiveDate,
) -> Result<voipms_sdk::Params, Failure> {
    let mut flags = Vec::new();
    for p in m.params {
        if let Ok(Some(values)) = sub.try_get_many::<String>(p.name) {
            for v in values {
                flags.push(Given {
                    param: p,
                    value: v.clone(),
                });
            }
        }
    }
    let free: Vec<String> = sub
        .try_get_many::<String>(crate::cli::FREE)
        .ok()
        .flatten()
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    params::collect(m, flags, &free, today)
}
