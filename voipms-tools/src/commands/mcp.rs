//! `voipms mcp`: serve the MCP server over stdio (the server itself is `crate::mcp`), and
//! `voipms audit tail`: read its audit log.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::Builtin;
use crate::config;
use crate::core::sandbox::Local;
use crate::core::session::Session;
use crate::ctx::Ctx;
use crate::errln;
use crate::exit::Failure;
use crate::mcp::audit::{self, Audit};
use crate::mcp::server::{Policy, VoipmsServer};
use crate::mcp::tools::{self, CURATED_TOOLSETS, DEFAULT_TOOLSETS, Selection};
use crate::output;

/// Registry entry of `voipms mcp`.
pub const BUILTIN: Builtin = Builtin {
    name: "mcp",
    command,
    run,
    needs_all_methods: false,
};

/// Registry entry of `voipms audit`.
pub const AUDIT: Builtin = Builtin {
    name: "audit",
    command: audit_command,
    run: run_audit,
    needs_all_methods: false,
};

fn list_arg(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .value_name("NAME,…")
        .value_delimiter(',')
        .action(ArgAction::Append)
        .help(help)
}

fn audit_log_arg() -> Arg {
    Arg::new("audit-log")
        .long("audit-log")
        .value_name("PATH")
        .value_parser(clap::value_parser!(PathBuf))
        .help("The audit log (default: mcp-audit.jsonl in the data directory)")
}

fn command() -> Command {
    let sets: Vec<String> = CURATED_TOOLSETS
        .iter()
        .map(|(n, what)| format!("  {n:<9} {what}"))
        .collect();
    Command::new("mcp")
        .about("Serve the Model Context Protocol over stdio, for AI agents")
        .long_about(format!(
            "Serve MCP over stdin/stdout: an agent (Claude Desktop, Cursor, the MCP Inspector…) \
             starts `voipms mcp` and calls its tools. Nothing but protocol goes to stdout; logs go \
             to stderr (-v for more).\n\n\
             Tools that change the account take dry_run, true by default, and answer with the \
             planned API calls. Real changes need --allow-writes, and those that spend money \
             --allow-billable as well; with --sandbox (the simulated account) both are on. Every \
             call of a tool that may change the account is appended to the audit log \
             (`voipms audit tail`).\n\n\
             Toolsets (default: {}):\n{}\n  and one per API category, each tool a method: {}\n\
             `all` turns every toolset on; the long-tail tools reach every method whatever is on.\n\n\
             Try it: voipms --sandbox mcp",
            DEFAULT_TOOLSETS.join(","),
            sets.join("\n"),
            voipms_sdk::catalog::CATEGORIES
                .iter()
                .map(|c| c.slug)
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .arg(list_arg(
            "toolsets",
            "Toolsets to offer: default, all, or names (see above)",
        ))
        .arg(list_arg("tools", "Tools to offer besides the toolsets"))
        .arg(list_arg(
            "exclude-tools",
            "Tools never to offer (wins over everything)",
        ))
        .arg(
            Arg::new("read-only")
                .long("read-only")
                .action(ArgAction::SetTrue)
                .help("Hide every tool that may change the account; voipms_call_method refuses changes"),
        )
        .arg(
            Arg::new("allow-writes")
                .long("allow-writes")
                .action(ArgAction::SetTrue)
                .conflicts_with("read-only")
                .help("Let tools make real changes when called with dry_run false"),
        )
        .arg(
            Arg::new("allow-billable")
                .long("allow-billable")
                .action(ArgAction::SetTrue)
                .requires("allow-writes")
                .help("Also let them spend money: SMS, orders, payments (needs --allow-writes)"),
        )
        .arg(audit_log_arg())
        .arg(
            Arg::new("list-tools")
                .long("list-tools")
                .action(ArgAction::SetTrue)
                .help("Print the tools/list JSON of this selection and exit"),
        )
}

fn strings(m: &ArgMatches, name: &str) -> Vec<String> {
    m.get_many::<String>(name)
        .map(|v| {
            v.map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn audit_path(m: &ArgMatches) -> Result<PathBuf, Failure> {
    if let Some(p) = m.get_one::<PathBuf>("audit-log") {
        return Ok(p.clone());
    }
    config::data_dir()
        .map(|d| d.join(audit::DEFAULT_FILE))
        .ok_or_else(|| {
            Failure::config(
                "this system has no data directory for the audit log (is HOME set?); give one \
                 with --audit-log PATH",
            )
        })
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let selection = Selection {
        toolsets: strings(m, "toolsets"),
        tools: strings(m, "tools"),
        exclude: strings(m, "exclude-tools"),
        read_only: m.get_flag("read-only"),
    };
    let selected = selection.apply(tools::all()).map_err(Failure::usage)?;
    if m.get_flag("list-tools") {
        let listed: Vec<rmcp::model::Tool> = selected.iter().map(tools::to_tool).collect();
        let json = serde_json::to_string(&serde_json::json!({ "tools": listed }))
            .map_err(|e| Failure::usage(format!("cannot write the tool list: {e}")))?;
        output::stdout_str(&format!("{json}\n"));
        return Ok(());
    }
    // A long-running server shares the sandbox's state file: the lock per request, each change
    // saved before it is answered, so `--sandbox` commands and `sandbox serve` interleave with it.
    let session = if ctx.globals.sandbox {
        Session::Sandbox(Local::open_for_server()?)
    } else {
        ctx.take_session()?
    };
    let sandbox = session.is_sandbox();
    let policy = Policy {
        read_only: selection.read_only,
        allow_writes: !selection.read_only && (sandbox || m.get_flag("allow-writes")),
        allow_billable: !selection.read_only && (sandbox || m.get_flag("allow-billable")),
    };
    let path = audit_path(m)?;
    let log = Audit::open(&path).map_err(|e| {
        Failure::config(format!(
            "cannot open the audit log {}: {e}; give another with --audit-log PATH",
            path.display()
        ))
    })?;
    tracing::info!(audit = %path.display(), sandbox, "starting the MCP server");
    let server = VoipmsServer::new(session, selected, policy, Some(log));
    ctx.rt()?.block_on(crate::mcp::serve_stdio(server))
}

fn audit_command() -> Command {
    Command::new("audit")
        .about("Read the MCP server's audit log")
        .subcommand_required(true)
        .subcommand(
            Command::new("tail")
                .about("Print the last records of the audit log (JSON Lines)")
                .arg(
                    Arg::new("lines")
                        .short('n')
                        .long("lines")
                        .value_name("N")
                        .value_parser(clap::value_parser!(usize))
                        .help("How many records (default 10)"),
                )
                .arg(
                    Arg::new("follow")
                        .short('f')
                        .long("follow")
                        .action(ArgAction::SetTrue)
                        .help("Keep printing records as they are appended, until Ctrl-C"),
                )
                .arg(audit_log_arg()),
        )
}

fn run_audit(_ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let Some(("tail", sub)) = m.subcommand() else {
        return Err(Failure::usage("use `voipms audit tail [-n N] [--follow]`"));
    };
    let path = audit_path(sub)?;
    let n = sub.get_one::<usize>("lines").copied().unwrap_or(10);
    let (lines, torn) = match audit::read_last(&path, Some(n)) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !sub.get_flag("follow") => {
            return Err(Failure::config(format!(
                "there is no audit log at {} yet: `voipms mcp` writes it when a tool that may \
                 change the account is called",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), 0),
        Err(e) => {
            return Err(Failure::config(format!(
                "cannot read the audit log {}: {e}",
                path.display()
            )));
        }
    };
    if torn > 0 {
        errln!(
            "note: {torn} incomplete record{} (a write cut short) left out",
            if torn == 1 { "" } else { "s" }
        );
    }
    for line in &lines {
        output::stdout_str(&format!("{line}\n"));
    }
    if sub.get_flag("follow") {
        follow(&path)?;
    }
    Ok(())
}

/// Prints whole lines appended to `path` from its current end on, until interrupted.
fn follow(path: &std::path::Path) -> Result<(), Failure> {
    let mut offset = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut pending = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let Ok(mut file) = std::fs::File::open(path) else {
            continue;
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len < offset {
            // Replaced or truncated: start over.
            offset = 0;
            pending.clear();
        }
        if len == offset {
            continue;
        }
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_to_end(&mut pending))
            .map_err(|e| Failure::config(format!("cannot read {}: {e}", path.display())))?;
        offset = len;
        while let Some(i) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            output::stdout_bytes(&line);
        }
    }
}
