//! `voipms sandbox reset|serve`: manage the simulated account.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::json;
use voipms_sdk::sandbox::{FaultParseError, Faults, Sandbox, SandboxConfig, ServeOptions};

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::output::{self, BOLD, DIM, Format, GREEN};
use crate::sandbox::{Local, failure, state_path};
use crate::{errln, outln};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "sandbox",
    command,
    run,
    needs_all_methods: false,
};

/// The port `sandbox serve` uses unless told otherwise.
pub const DEFAULT_PORT: u16 = 8765;

fn command() -> Command {
    Command::new("sandbox")
        .about("Manage the simulated account: reset it, or serve it on loopback")
        .long_about(
            "The sandbox is a simulated VoIP.ms account kept on this machine: numbers, \
             sub-accounts, a phonebook, filters, voicemail, messages and a year of calls. Any \
             command runs against it with --sandbox (or VOIPMS_SANDBOX=1), no credentials \
             needed, nothing real touched; changes persist between commands in sandbox.json \
             in the platform data directory (VOIPMS_SANDBOX_STATE names another file).",
        )
        .subcommand_required(true)
        .subcommand(
            Command::new("reset")
                .about("Put the simulated account back in its seeded state")
                .arg(
                    Arg::new("new")
                        .long("new")
                        .action(ArgAction::SetTrue)
                        .help("Start a brand-new account dated today instead"),
                )
                .arg(
                    Arg::new("seed")
                        .long("seed")
                        .value_name("N")
                        .value_parser(clap::value_parser!(u64))
                        .requires("new")
                        .help("Seed of the new account's generated content (with --new)"),
                ),
        )
        .subcommand(
            Command::new("serve")
                .about("Serve the simulated account over HTTP on loopback, for other clients")
                .long_about(
                    "Serve the simulated account's REST API on 127.0.0.1 until Ctrl-C, for other \
                     programs and SDKs. Prints the URL and the demo credentials. Each change is \
                     saved to the state file before it is answered, and each request acts on the \
                     file's latest state: `voipms --sandbox …` commands and `voipms sandbox \
                     reset` on the same state file act on the same account while it runs.",
                )
                .arg(
                    Arg::new("port")
                        .long("port")
                        .short('p')
                        .value_name("N")
                        .value_parser(clap::value_parser!(u16))
                        .help("Port on 127.0.0.1 (default 8765; 0 picks a free one)"),
                )
                .arg(
                    Arg::new("faults")
                        .long("faults")
                        .value_name("SPEC")
                        .help(
                            "Inject faults, e.g. 'seed=7, latency=20ms, ratelimit=60, \
                             getBalance:503@first=2, sendSMS:lost, *:cf522@p=0.05'",
                        )
                        .long_help(
                            "Inject faults into the answers, to test a client's error handling. \
                             Items separated by commas: seed=N (of the random draws), \
                             latency=DURATION (added to every answer), ratelimit=N (calls per \
                             minute before api_limit_exceeded), and rules METHOD:FAULT[@TRIGGER] \
                             (METHOD * for any). FAULT is 500-599 (HTTP error), cf520-cf530 \
                             (Cloudflare page), varnish, empty, truncated, timeout=30s, lost \
                             (the change is made, the reply lost), drop, latency=100ms or \
                             status=CODE (such as status=api_limit_exceeded). \
                             Triggers: first=N, every=N, p=PROBABILITY (default: always). \
                             Example: --faults 'seed=7, getBalance:503@first=2, sendSMS:lost'",
                        ),
                )
                .arg(
                    Arg::new("body-timeout")
                        .long("body-timeout")
                        .value_name("SECONDS")
                        .value_parser(clap::value_parser!(u64).range(1..))
                        .help(
                            "Time a client has to send a request's body; a slower one is \
                             answered 408 and not executed (default 30)",
                        ),
                ),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    match m.subcommand() {
        Some(("reset", sub)) => reset(ctx, sub),
        Some(("serve", sub)) => serve(ctx, sub),
        _ => Err(Failure::usage(
            "use `voipms sandbox reset` or `voipms sandbox serve`",
        )),
    }
}

fn reset(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let path = state_path()?;
    let _lock = crate::core::lock::sandbox_state(&path)?;
    let sandbox = if m.get_flag("new") {
        let mut config = SandboxConfig::default();
        if let Some(seed) = m.get_one::<u64>("seed") {
            config.seed = *seed;
        }
        Sandbox::new(config)
    } else {
        let sandbox = Sandbox::load(&path, SandboxConfig::default()).map_err(failure)?;
        sandbox.reset();
        sandbox
    };
    sandbox.save(&path).map_err(failure)?;
    if ctx.globals.format == Some(Format::Json) {
        outln!(
            "{}",
            output::json_pretty(&json!({
                "reset": true,
                "state": path.display().to_string(),
                "seed": sandbox.seed(),
                "today": sandbox.today().to_string(),
            }))
        );
    } else {
        outln!(
            "{GREEN}The sandbox account is back to its seeded state{GREEN:#} (seed {}, dated {}).\n\
             {DIM}State: {}{DIM:#}",
            sandbox.seed(),
            sandbox.today(),
            path.display()
        );
    }
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM (how service managers stop a server) on unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                errln!("cannot watch for SIGTERM ({e}); stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn serve(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let port = m.get_one::<u16>("port").copied().unwrap_or(DEFAULT_PORT);
    let local = Local::open_for_server()?;
    let sandbox = local.sandbox().clone();
    if let Some(spec) = m.get_one::<String>("faults") {
        let faults: Faults = spec.parse().map_err(|e: FaultParseError| {
            Failure::usage(format!(
                "--faults: {e} (see `voipms sandbox serve --help` for the syntax)"
            ))
        })?;
        sandbox.set_faults(faults);
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let body_timeout = m.get_one::<u64>("body-timeout").copied();
    let json_out = ctx.globals.format == Some(Format::Json);
    let rt = ctx.rt()?;
    rt.block_on(async {
        let mut options = ServeOptions::default();
        if let Some(secs) = body_timeout {
            options = options.body_timeout(Duration::from_secs(secs));
        }
        let handle = sandbox.serve_with(addr, options).await.map_err(failure)?;
        let url = handle.url();
        if json_out {
            outln!(
                "{}",
                serde_json::to_string(&json!({
                    "url": url,
                    "username": sandbox.username(),
                    "password": sandbox.password(),
                    "state": local.path().display().to_string(),
                }))
                .unwrap_or_default()
            );
        } else {
            outln!("{BOLD}Sandbox serving the VoIP.ms API at {url}{BOLD:#}");
            outln!("  username  {}", sandbox.username());
            outln!("  password  {}", sandbox.password());
            outln!("{DIM}A simulated account: nothing real is touched. Use it from this machine:{DIM:#}");
            outln!(
                "  VOIPMS_API_URL={url} VOIPMS_API_USERNAME={} VOIPMS_API_PASSWORD={} voipms getBalance",
                sandbox.username(),
                sandbox.password()
            );
            outln!(
                "{DIM}State: {} (each change saved as it is made; `voipms --sandbox …` and \
                 `voipms sandbox reset` act on the same account meanwhile){DIM:#}",
                local.path().display()
            );
        }
        // Every change was saved before it was answered: nothing to save on the way out.
        let wait = handle.wait();
        tokio::pin!(wait);
        tokio::select! {
            () = &mut wait => {}
            () = stop_signal() => {}
        }
        Ok::<(), Failure>(())
    })?;
    // What was injected, so a client's test can compare it with what its calls reported.
    let injected = sandbox.faults_injected();
    if json_out {
        outln!(
            "{}",
            serde_json::to_string(&json!({
                "stopped": true,
                "calls": sandbox.total_calls(),
                "faults_injected": injected,
            }))
            .unwrap_or_default()
        );
    } else {
        if !sandbox.faults().is_empty() {
            let total: u64 = injected.values().sum();
            let kinds: Vec<String> = injected.iter().map(|(k, n)| format!("{k} {n}")).collect();
            errln!(
                "Faults injected: {total} in {} calls ({})",
                sandbox.total_calls(),
                if kinds.is_empty() {
                    "none".to_owned()
                } else {
                    kinds.join(", ")
                }
            );
        }
        errln!(
            "{DIM}Sandbox stopped; its state is in {}{DIM:#}",
            local.path().display()
        );
    }
    Ok(())
}
