//! The run: find the command in the arguments, build the part of the command tree it needs,
//! parse, set up logging and the context, dispatch, and turn the outcome into an exit code.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use voipms_sdk::catalog;

use crate::cli::{self, GLOBAL_VALUE_OPTIONS, Globals, Methods};
use crate::commands::{self, clap_failure, resolve_method, unknown_command};
use crate::ctx::Ctx;
use crate::errln;
use crate::exit::Failure;
use crate::output::{self, DIM, LogWriter, RED};

/// Runs the program with the process's arguments.
pub fn main() -> ExitCode {
    crate::core::secrets::add_env_secrets();
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Output that could not be written fails the run (unless it failed for another reason).
    match run(args).and_then(|()| output::stdout_failure().map_or(Ok(()), Err)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.printed {
                errln!("{RED}error:{RED:#} {}", f.message);
            }
            ExitCode::from(f.code as u8)
        }
    }
}

/// Index of the command name in `args` (after the global options and their values).
fn prescan(args: &[String]) -> Option<usize> {
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            return None;
        }
        if a.starts_with("--") {
            if !a.contains('=') && GLOBAL_VALUE_OPTIONS.contains(&a) {
                i += 1;
            }
        } else if !(a.starts_with('-') && a.len() > 1) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `voipms phonebook help`, `voipms spam mark help`: a last word `help` right after a command's
/// name (and its subcommands' names, nothing else) asks for that command's help, like `--help`.
fn help_word_to_flag(tree: &clap::Command, args: &mut [String], i: usize) {
    let Some((last, path)) = args[i..].split_last() else {
        return;
    };
    if last != "help" || path.is_empty() {
        return;
    }
    let mut cmd = tree;
    for word in path {
        match cmd.find_subcommand(word) {
            Some(sub) => cmd = sub,
            None => return,
        }
    }
    if let Some(l) = args.last_mut() {
        *l = "--help".to_owned();
    }
}

fn wants_method_help(rest: &[String]) -> bool {
    if rest.len() == 1 && rest[0] == "help" {
        return true;
    }
    rest.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h")
}

/// Retries of VoIP.ms calls in this run (each logged only with `-v`).
static RETRIES: AtomicUsize = AtomicUsize::new(0);

/// Counts the SDK's retry warnings, whatever the log level.
struct RetryCounter;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RetryCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == voipms_sdk::RETRY_LOG_TARGET {
            RETRIES.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Without `-v`, the retries of the run as one line at the end instead of one line each.
fn retries_summary(verbose: u8) {
    let n = RETRIES.load(Ordering::Relaxed);
    if verbose == 0 && n > 0 {
        errln!(
            "{DIM}VoIP.ms calls were retried {} (no answer, a dropped connection or the rate \
             limit); -v shows each retry.{DIM:#}",
            if n == 1 {
                "once".to_owned()
            } else {
                format!("{n} times")
            }
        );
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // The HTTP server's access log (one line per request) is on unless -v asks for more.
    let access = if verbose == 0 {
        tracing::Level::INFO
    } else {
        level
    };
    // Each retry is told only with -v; without, one line at the end counts them.
    let retries = if verbose == 0 {
        LevelFilter::OFF
    } else {
        LevelFilter::from_level(level)
    };
    let filter = Targets::new()
        .with_default(level)
        .with_target("voipms::access", access)
        .with_target("voipms::oauth", access)
        .with_target(voipms_sdk::RETRY_LOG_TARGET, retries);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(|| LogWriter)
                .without_time()
                .with_target(verbose > 1)
                .with_filter(filter),
        )
        .with(RetryCounter)
        .try_init();
}

fn run(mut args: Vec<String>) -> Result<(), Failure> {
    let mut methods = Methods::None;
    if let Some(i) = prescan(&args) {
        let token = args[i].clone();
        match commands::find(&token) {
            Some(b) if b.needs_all_methods => methods = Methods::All,
            Some(_) => {}
            None => {
                let m = resolve_method(&token).ok_or_else(|| unknown_command(&token))?;
                if wants_method_help(&args[i + 1..]) {
                    output::stdout_str(&crate::help::method_help(m));
                    return Ok(());
                }
                args[i] = m.name.to_owned();
                methods = Methods::One(m);
            }
        }
    }
    let tree = cli::build(methods);
    if let Some(i) = prescan(&args) {
        help_word_to_flag(&tree, &mut args, i);
    }
    let matches = match tree.try_get_matches_from(&args) {
        Ok(m) => m,
        // Bare `voipms`: the help, on stdout, and success.
        Err(e)
            if args.len() == 1
                && e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            output::stdout_str(&e.render().ansi().to_string());
            return Ok(());
        }
        Err(e) => {
            // An unknown --flag of a method: told like an unknown key= (did you mean, the list).
            if let Methods::One(m) = methods
                && let Some(f) = crate::params::unknown_flag(m, &e)
            {
                return Err(f);
            }
            let ok = e.exit_code() == 0;
            let f = clap_failure(e);
            return if ok { Ok(()) } else { Err(f) };
        }
    };
    let globals = Globals::from_matches(&matches);
    init_logging(globals.verbose);
    let mut ctx = Ctx::new(globals);
    let result = match matches.subcommand() {
        Some((name, sub)) => match commands::find(name) {
            Some(b) => (b.run)(&mut ctx, sub),
            None => match catalog::method(name) {
                Some(m) => commands::run_method(&mut ctx, m, sub),
                None => Err(unknown_command(name)),
            },
        },
        None => commands::help::print_clap_help(&["--help"]),
    };
    // The sandbox's state is saved even after an API error: the calls before it may have
    // changed it.
    let saved = ctx.finish();
    retries_summary(ctx.globals.verbose);
    result.and(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn prescan_skips_global_options() {
        assert_eq!(prescan(&v(&["voipms", "getBalance"])), Some(1));
        assert_eq!(
            prescan(&v(&["voipms", "--format", "json", "-y", "getcdr"])),
            Some(4)
        );
        assert_eq!(prescan(&v(&["voipms", "--format=json", "list"])), Some(2));
        assert_eq!(prescan(&v(&["voipms", "--dry-run"])), None);
        assert_eq!(prescan(&v(&["voipms", "--", "x"])), None);
    }

    #[test]
    fn method_names_resolve() {
        assert_eq!(resolve_method("getdidsinfo").unwrap().name, "getDIDsInfo");
        assert_eq!(resolve_method("get-dids-info").unwrap().name, "getDIDsInfo");
        assert_eq!(resolve_method("get-balance").unwrap().name, "getBalance");
        // Names of friendly commands are not aliases of their methods.
        assert!(resolve_method("balance").is_none());
        assert!(resolve_method("cdr").is_none());
        let f = unknown_command("getBalanse");
        assert!(f.message.contains("`getBalance`"), "{}", f.message);
    }
}
