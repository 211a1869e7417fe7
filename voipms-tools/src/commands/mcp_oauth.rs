//! The command line of the built-in OAuth server: the flags of `voipms mcp --http --oauth` and
//! `voipms mcp tokens list|revoke` (the grants in the store; never a token).

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::config;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::mcp::http::oauth::store::{self, Store};
use crate::mcp::http::oauth::{self, OAuthSettings};
use crate::outln;
use crate::output::Format;

/// The environment variable holding the owner passphrase.
const ENV_PASSPHRASE: &str = "VOIPMS_MCP_OWNER_PASSPHRASE";

fn store_arg() -> Arg {
    Arg::new("oauth-db")
        .long("oauth-db")
        .value_name("PATH")
        .value_parser(clap::value_parser!(PathBuf))
        .help("The OAuth store (default: mcp-oauth.sqlite3 in the data directory)")
}

/// The `--oauth` flags of `voipms mcp`.
pub fn args(cmd: Command) -> Command {
    cmd.arg(
        Arg::new("oauth")
            .long("oauth")
            .action(ArgAction::SetTrue)
            .requires("http")
            .requires("public-url")
            .help("Be an OAuth 2.1 authorization server too, for grok.com, ChatGPT and Claude.ai connectors"),
    )
    .arg(
        Arg::new("public-url")
            .long("public-url")
            .value_name("URL")
            .requires("oauth")
            .help("The server's public origin, e.g. https://mcp.example.com (users paste URL/mcp); loopback http for local use"),
    )
    .arg(
        Arg::new("owner-passphrase-file")
            .long("owner-passphrase-file")
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .requires("oauth")
            .help("The passphrase the consent page asks for (or set VOIPMS_MCP_OWNER_PASSPHRASE)"),
    )
    .arg(store_arg().requires("oauth"))
    .arg(
        Arg::new("token-lifetime")
            .long("token-lifetime")
            .value_name("SECONDS")
            .value_parser(clap::value_parser!(u32).range(1..))
            .requires("oauth")
            .help("Lifetime of OAuth access tokens (default 3600; refresh tokens last 30 days)"),
    )
}

/// `voipms mcp tokens`.
pub fn tokens_command() -> Command {
    Command::new("tokens")
        .about("List or revoke what OAuth clients were granted (voipms mcp --oauth)")
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .about("The live grants: id, client, scopes, created, expires, last used (never a token)")
                .arg(store_arg()),
        )
        .subcommand(
            Command::new("revoke")
                .about("Revoke a grant (every token of it) by its ID, or every grant with --all")
                .arg(Arg::new("id").value_name("ID").help("The ID column of `tokens list` (4+ characters)"))
                .arg(
                    Arg::new("all")
                        .long("all")
                        .action(ArgAction::SetTrue)
                        .conflicts_with("id")
                        .help("Revoke every grant"),
                )
                .arg(store_arg()),
        )
}

fn store_path(m: &ArgMatches) -> Result<PathBuf, Failure> {
    if let Some(p) = m.get_one::<PathBuf>("oauth-db") {
        return Ok(p.clone());
    }
    config::data_dir()
        .map(|d| d.join(store::DEFAULT_FILE))
        .ok_or_else(|| {
            Failure::config(
                "this system has no data directory for the OAuth store (is HOME set?); give one \
                 with --oauth-db PATH",
            )
        })
}

/// The OAuth settings from the flags, when `--oauth` is given.
pub fn settings(m: &ArgMatches) -> Result<Option<OAuthSettings>, Failure> {
    if !m.get_flag("oauth") {
        return Ok(None);
    }
    let given = m
        .get_one::<String>("public-url")
        .map(String::as_str)
        .unwrap_or("");
    let public_url = oauth::public_url(given).map_err(Failure::usage)?;
    let passphrase = match m.get_one::<PathBuf>("owner-passphrase-file") {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| {
                Failure::config(format!(
                    "cannot read the owner passphrase file {}: {e}",
                    p.display()
                ))
            })?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        None => match std::env::var(ENV_PASSPHRASE) {
            Ok(p) => p,
            Err(std::env::VarError::NotPresent) => {
                return Err(Failure::config(format!(
                    "--oauth needs the owner passphrase the consent page asks for: set \
                     {ENV_PASSPHRASE} or give --owner-passphrase-file PATH"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Failure::config(format!(
                    "{ENV_PASSPHRASE} is not valid UTF-8"
                )));
            }
        },
    };
    if passphrase.chars().count() < oauth::MIN_PASSPHRASE {
        return Err(Failure::config(format!(
            "the owner passphrase is shorter than {} characters: anyone who reaches the consent \
             page may guess it; use a long one, e.g. `openssl rand -base64 24`",
            oauth::MIN_PASSPHRASE
        )));
    }
    crate::core::secrets::add_secret(&passphrase);
    Ok(Some(OAuthSettings {
        public_url,
        passphrase,
        store: store_path(m)?,
        access_ttl: m
            .get_one::<u32>("token-lifetime")
            .map_or(oauth::ACCESS_TTL, |s| i64::from(*s)),
        refresh_ttl: oauth::REFRESH_TTL,
    }))
}

fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

fn open(m: &ArgMatches) -> Result<Store, Failure> {
    let path = store_path(m)?;
    if !path.exists() {
        return Err(Failure::config(format!(
            "there is no OAuth store at {} yet: `voipms mcp --http --oauth` creates it",
            path.display()
        )));
    }
    Store::open(&path).map_err(Failure::config)
}

/// `voipms mcp tokens …`.
pub fn run_tokens(ctx: &Ctx, m: &ArgMatches) -> Result<(), Failure> {
    match m.subcommand() {
        Some(("list", sub)) => {
            let grants = open(sub)?.list().map_err(Failure::config)?;
            if ctx.format == Format::Json {
                let rows: Vec<serde_json::Value> = grants
                    .iter()
                    .map(|g| {
                        serde_json::json!({
                            "id": &g.id[..8], "client": g.client, "scope": g.scope,
                            "created": when(g.created), "expires": when(g.expires),
                            "last_used": g.last_used.map(when),
                        })
                    })
                    .collect();
                outln!("{}", serde_json::Value::Array(rows));
                return Ok(());
            }
            if grants.is_empty() {
                outln!("no live grants");
                return Ok(());
            }
            outln!(
                "{:<8}  {:<24}  {:<24}  {:<20}  {:<20}  LAST USED",
                "ID",
                "CLIENT",
                "SCOPES",
                "CREATED",
                "EXPIRES"
            );
            for g in grants {
                let client: String = g.client.chars().take(24).collect();
                outln!(
                    "{:<8}  {client:<24}  {:<24}  {:<20}  {:<20}  {}",
                    &g.id[..8],
                    g.scope,
                    when(g.created),
                    when(g.expires),
                    g.last_used.map_or_else(|| "never".to_owned(), when)
                );
            }
            Ok(())
        }
        Some(("revoke", sub)) => {
            let store = open(sub)?;
            if sub.get_flag("all") {
                let n = store.revoke_all().map_err(Failure::config)?;
                outln!("revoked {n} grant{}", if n == 1 { "" } else { "s" });
                return Ok(());
            }
            let Some(id) = sub.get_one::<String>("id") else {
                return Err(Failure::usage(
                    "give the grant's ID (from `voipms mcp tokens list`) or --all",
                ));
            };
            let g = store.revoke_prefix(id).map_err(Failure::usage)?;
            outln!("revoked {} ({}, {})", &g.id[..8], g.client, g.scope);
            Ok(())
        }
        _ => Err(Failure::usage(
            "use `voipms mcp tokens list` or `voipms mcp tokens revoke ID|--all`",
        )),
    }
}
