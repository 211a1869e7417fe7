//! `voipms mcp`: serve the MCP server over stdio (the server itself is `crate::mcp`), and
//! `voipms audit tail`: read its audit log.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::{Builtin, mcp_oauth};
use crate::config;
use crate::core::sandbox::Local;
use crate::core::session::Session;
use crate::ctx::Ctx;
use crate::errln;
use crate::exit::Failure;
use crate::mcp::audit::{self, Audit};
use crate::mcp::curated::TranscriptAccess;
use crate::mcp::http::oauth::OAuth;
use crate::mcp::http::{self, Auth, Guard, HttpOptions};
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
    let cmd = base_command().subcommand(mcp_oauth::tokens_command());
    let cmd = mcp_oauth::args(cmd.next_help_heading("HTTP"));
    cmd.next_help_heading(None).arg(
        Arg::new("list-tools")
            .long("list-tools")
            .action(ArgAction::SetTrue)
            .help("Print the tools/list JSON of this selection and exit"),
    )
}

fn base_command() -> Command {
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
        .arg(
            Arg::new("allow-transcription")
                .long("allow-transcription")
                .action(ArgAction::SetTrue)
                .help("Let voipms_get_call_transcript send recordings VoIP.ms has no transcript of to the configured transcription provider"),
        )
        .arg(audit_log_arg())
        .next_help_heading("HTTP")
        .arg(
            Arg::new("http")
                .long("http")
                .value_name("ADDR")
                .num_args(0..=1)
                .default_missing_value("")
                .help("Serve MCP over HTTP instead of stdio, on ADDR (default MCP_HOST:MCP_PORT, or 127.0.0.1:8787)"),
        )
        .arg(
            Arg::new("stateless")
                .long("stateless")
                .action(ArgAction::SetTrue)
                .requires("http")
                .help("No sessions: each request stands alone (several instances behind a load balancer)"),
        )
        .arg(
            Arg::new("token-file")
                .long("token-file")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .requires("http")
                .help("Clients must send this file's token as `Authorization: Bearer …` (or set MCP_AUTH_TOKEN)"),
        )
        .arg(
            Arg::new("allow-query-token")
                .long("allow-query-token")
                .action(ArgAction::SetTrue)
                .requires("http")
                .help("Also accept the token as ?token=… (for clients that cannot send headers)"),
        )
        .arg(
            Arg::new("no-auth")
                .long("no-auth")
                .action(ArgAction::SetTrue)
                .requires("http")
                .help("Serve a non-loopback address without authentication (forces --read-only)"),
        )
        .arg(
            Arg::new("allowed-host")
                .long("allowed-host")
                .value_name("HOST")
                .action(ArgAction::Append)
                .requires("http")
                .help("A Host header value to accept besides loopback names (repeatable)"),
        )
        .arg(
            Arg::new("allowed-origin")
                .long("allowed-origin")
                .value_name("ORIGIN")
                .action(ArgAction::Append)
                .requires("http")
                .help("A browser Origin to accept besides loopback pages, e.g. https://app.example.com (repeatable)"),
        )
        .arg(
            Arg::new("rate-limit")
                .long("rate-limit")
                .value_name("N")
                .value_parser(clap::value_parser!(u32))
                .requires("http")
                .help("Requests per minute per client (default 6000; 0: no limit)"),
        )
        .arg(
            Arg::new("max-sessions")
                .long("max-sessions")
                .value_name("N")
                .value_parser(clap::value_parser!(usize))
                .requires("http")
                .help("Most open sessions (default 2000)"),
        )
        .arg(
            Arg::new("max-body")
                .long("max-body")
                .value_name("BYTES")
                .value_parser(clap::value_parser!(usize))
                .requires("http")
                .help("Largest request body (default 1048576)"),
        )
        .arg(
            Arg::new("body-timeout")
                .long("body-timeout")
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..))
                .requires("http")
                .help("Time a client has to send a request's body; then 408 (default 30)"),
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
    if let Some(("tokens", sub)) = m.subcommand() {
        return mcp_oauth::run_tokens(ctx, sub);
    }
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
    let transcripts = transcript_access(ctx, m)?;
    let path = audit_path(m)?;
    let log = Audit::open(&path).map_err(|e| {
        Failure::config(format!(
            "cannot open the audit log {}: {e}; give another with --audit-log PATH",
            path.display()
        ))
    })?;
    if m.contains_id("http") {
        let (options, auth, hosts, origins, rate) = http_settings(m)?;
        let oauth = mcp_oauth::settings(m)?;
        let loopback = options.addr.ip().is_loopback();
        let mut policy = policy;
        if matches!(auth, Auth::None) && oauth.is_none() && !loopback {
            if !m.get_flag("no-auth") {
                return Err(Failure::usage(format!(
                    "{} is not a loopback address, and nothing would authenticate clients: set \
                     MCP_AUTH_TOKEN (or --token-file PATH) or use --oauth, or pass --no-auth to serve it \
                     read-only to anyone who can reach it",
                    options.addr
                )));
            }
            policy.read_only = true;
        }
        let tools = if policy.read_only {
            Selection {
                read_only: true,
                ..selection
            }
            .apply(tools::all())
            .map_err(Failure::usage)?
        } else {
            selected
        };
        let mut guard = Guard::new(auth, hosts, origins, rate, options.max_sessions);
        if let Some(settings) = &oauth {
            let server = OAuth::new(settings).map_err(Failure::config)?;
            tracing::info!(
                target: "voipms::oauth",
                "OAuth authorization server on: users connect to {}",
                server.resource()
            );
            guard = guard.with_oauth(std::sync::Arc::new(server));
        }
        tracing::info!(audit = %path.display(), sandbox, addr = %options.addr, "starting the MCP server over HTTP");
        let server =
            VoipmsServer::new(session, tools, policy, Some(log)).with_transcripts(transcripts);
        // The HTTP server serves many clients at once: a runtime with worker threads.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::config(format!("cannot start the async runtime: {e}")))?;
        return rt.block_on(http::run(server, options, guard));
    }
    tracing::info!(audit = %path.display(), sandbox, "starting the MCP server");
    let server =
        VoipmsServer::new(session, selected, policy, Some(log)).with_transcripts(transcripts);
    ctx.rt()?.block_on(crate::mcp::serve_stdio(server))
}

/// The transcript store and provider of the transcript tools; `--allow-transcription` needs a
/// configured provider.
fn transcript_access(ctx: &Ctx, m: &ArgMatches) -> Result<TranscriptAccess, Failure> {
    let service = super::transcripts::service(ctx)?;
    let allow = m.get_flag("allow-transcription");
    if allow && service.provider.is_none() {
        return Err(Failure::config(
            "--allow-transcription needs a transcription provider: set VOIPMS_TRANSCRIPTION_URL \
             (and VOIPMS_TRANSCRIPTION_KEY, VOIPMS_TRANSCRIPTION_MODEL) or a [transcription] table \
             with base_url in the profile",
        ));
    }
    if let Some(p) = service.provider.as_ref().filter(|_| allow) {
        tracing::info!(
            provider = p.name(),
            "voipms_get_call_transcript may send recordings to the transcription provider"
        );
    }
    Ok(TranscriptAccess {
        service: Some(service),
        allow_provider: allow,
    })
}

/// The environment variable holding the bearer token clients must send.
const ENV_TOKEN: &str = "MCP_AUTH_TOKEN";

type HttpSettings = (HttpOptions, Auth, Vec<String>, Vec<String>, u32);

fn http_settings(m: &ArgMatches) -> Result<HttpSettings, Failure> {
    let given = m
        .get_one::<String>("http")
        .map(String::as_str)
        .unwrap_or("");
    let addr_text = if given.is_empty() {
        let host = std::env::var("MCP_HOST").unwrap_or_else(|_| "127.0.0.1".into());
        let port = std::env::var("MCP_PORT").unwrap_or_else(|_| "8787".into());
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    } else {
        given.to_owned()
    };
    let addr = addr_text.to_socket_addrs_local().ok_or_else(|| {
        Failure::usage(format!(
            "`{addr_text}` is not an address to listen on: use IP:PORT, e.g. 127.0.0.1:8787 \
                 or 0.0.0.0:8787"
        ))
    })?;
    let token = match m.get_one::<PathBuf>("token-file") {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| {
                    Failure::config(format!("cannot read the token file {}: {e}", p.display()))
                })?
                .trim()
                .to_owned(),
        ),
        None => match std::env::var(ENV_TOKEN) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
            Ok(_) => None,
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Failure::config(format!(
                    "{ENV_TOKEN} is not valid UTF-8: set it to the token's text"
                )));
            }
        },
    };
    let auth = match token {
        Some(t) if t.len() < 16 => {
            return Err(Failure::config(
                "the MCP token is shorter than 16 characters: use a long random one, e.g. \
                 `openssl rand -hex 32`",
            ));
        }
        Some(token) => {
            crate::core::secrets::add_secret(&token);
            Auth::Token {
                token,
                allow_query: m.get_flag("allow-query-token"),
            }
        }
        None => Auth::None,
    };
    let mut options = HttpOptions {
        addr,
        stateless: m.get_flag("stateless"),
        ..HttpOptions::default()
    };
    if let Some(n) = m.get_one::<usize>("max-sessions") {
        options.max_sessions = *n;
    }
    if let Some(n) = m.get_one::<usize>("max-body") {
        options.max_body = *n;
    }
    if let Some(secs) = m.get_one::<u64>("body-timeout") {
        options.body_timeout = std::time::Duration::from_secs(*secs);
    }
    let mut hosts = strings(m, "allowed-host");
    if !addr.ip().is_unspecified() {
        hosts.push(addr.ip().to_string());
    }
    let origins = strings(m, "allowed-origin");
    let rate = m.get_one::<u32>("rate-limit").copied().unwrap_or(6000);
    Ok((options, auth, hosts, origins, rate))
}

/// Parses `IP:PORT` (no name resolution: nothing leaves this machine to look a name up).
trait LocalAddr {
    fn to_socket_addrs_local(&self) -> Option<std::net::SocketAddr>;
}

impl LocalAddr for String {
    fn to_socket_addrs_local(&self) -> Option<std::net::SocketAddr> {
        let s = self.trim();
        if let Some(port) = s.strip_prefix("localhost:") {
            return port
                .parse()
                .ok()
                .map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], p)));
        }
        s.parse().ok()
    }
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
