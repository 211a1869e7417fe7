//! What the fuzz targets in `fuzz/` (and the regression tests of what they found) drive in
//! process: the command line's parameter parsing and encoding, and the MCP server's argument
//! validation and JSON-RPC input over the sandbox. Not a stable interface; nothing here prints,
//! reads stdin or touches the network.

use std::path::PathBuf;

use chrono::NaiveDate;
use rmcp::ServiceExt as _;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use voipms_sdk::catalog::Method;
use voipms_sdk::sandbox::{Sandbox, SandboxConfig};

use crate::core::sandbox::Local;
use crate::core::session::Session;
use crate::mcp::server::{Policy, VoipmsServer};
use crate::mcp::tools;

/// The "today" relative dates (`-3d`, `yesterday`) resolve against, fixed so that an input gives
/// the same answer on every run.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default()
}

fn pairs(params: &voipms_sdk::Params) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The catalog method `name` resolves to on the command line (wire, kebab or snake name, alias).
pub fn cli_method(name: &str) -> Option<&'static Method> {
    crate::commands::resolve_method(name)
}

/// Parses `args` as the command line of method `m` (`voipms METHOD ARGS…`: `--flag VALUE`,
/// `--flag=VALUE`, `key=value`, positional shortcuts, global options), then validates and encodes
/// every parameter as the command would before sending: the wire pairs, or the message the user
/// would see. A base64 value written `@FILE` is read from that file, as on the command line.
pub fn cli_params(m: &'static Method, args: &[String]) -> Result<Vec<(String, String)>, String> {
    let argv = std::iter::once(m.name.to_owned()).chain(args.iter().cloned());
    let matches = match crate::cli::method_command(m, false).try_get_matches_from(argv) {
        Ok(matches) => matches,
        Err(e) => {
            return Err(match crate::params::unknown_flag(m, &e) {
                Some(f) => f.message,
                None => e.to_string(),
            });
        }
    };
    crate::commands::method_params(m, &matches, today())
        .map(|p| pairs(&p))
        .map_err(|f| f.message)
}

/// Validates and encodes one value of parameter `name` of `m` by its kind (the core encoder both
/// front ends share); `None` when `m` has no such parameter.
pub fn encode_value(m: &Method, name: &str, raw: &str) -> Option<Result<String, String>> {
    let p = m.param(name)?;
    Some(crate::core::encode::encode(p, raw, today()))
}

/// The wire parameters of a call of catalog method `method` from MCP JSON arguments, as the
/// long-tail tools and `voipms_call_method` validate them before anything is sent.
pub fn mcp_method_params(
    method: &str,
    args: &Map<String, Value>,
) -> Result<Vec<(String, String)>, String> {
    let m = crate::mcp::method::resolve(method)?;
    crate::mcp::method::params(m, args).map(|p| pairs(&p))
}

/// An MCP server over a simulated account in memory, with every tool, writes allowed (as
/// `voipms --sandbox mcp` runs), no audit log and no transcript store.
#[derive(Debug)]
pub struct Mcp {
    rt: tokio::runtime::Runtime,
    server: VoipmsServer,
    sandbox: Sandbox,
    tools: Vec<String>,
}

/// The client's side of the MCP handshake every [`Mcp::session`] starts with.
const HANDSHAKE: &str = concat!(
    r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","#,
    r#""capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}}"#,
    "\n",
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    "\n",
);

impl Mcp {
    /// A server over a fresh account (fixed seed and "today").
    pub fn new() -> Result<Mcp, String> {
        let sandbox = Sandbox::new(SandboxConfig {
            today: voipms_sdk::Date::from_ymd_opt(2026, 6, 15),
            ..SandboxConfig::default()
        });
        let local = Local::with(sandbox.clone(), PathBuf::new(), None).map_err(|f| f.message)?;
        let every = tools::all();
        let names = every.iter().map(|t| t.name.clone()).collect();
        let server = VoipmsServer::new(
            Session::Sandbox(local),
            every,
            Policy {
                read_only: false,
                allow_writes: true,
                allow_billable: true,
            },
            None,
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        Ok(Mcp {
            rt,
            server,
            sandbox,
            tools: names,
        })
    }

    /// Every tool's name, in table order.
    pub fn tool_names(&self) -> &[String] {
        &self.tools
    }

    /// The input schema of each tool, by name, as `tools/list` gives it.
    pub fn input_schemas(&self) -> Vec<(String, Value)> {
        self.server
            .tools()
            .iter()
            .map(|t| {
                (
                    t.name.to_string(),
                    Value::Object(t.input_schema.as_ref().clone()),
                )
            })
            .collect()
    }

    /// Puts the account back in its seeded state.
    pub fn reset(&self) {
        self.sandbox.reset();
    }

    /// Calls tool `name` with `args` as `tools/call` does after parsing (argument validation,
    /// the write gate, the call); the result as JSON, or `None` for an unknown tool.
    pub fn call_tool(&self, name: &str, args: Map<String, Value>) -> Option<Value> {
        let result = self
            .rt
            .block_on(self.server.call(name, args, None, false))?;
        Some(serde_json::to_value(result).unwrap_or(Value::Null))
    }

    /// One whole MCP session over in-memory pipes: the initialize handshake, then `input` as
    /// the client's bytes (JSON-RPC messages, one per line), then the end of the input. Returns
    /// everything the server wrote.
    pub fn session(&self, input: &[u8]) -> Vec<u8> {
        let mut sent = Vec::with_capacity(HANDSHAKE.len() + input.len() + 1);
        sent.extend_from_slice(HANDSHAKE.as_bytes());
        sent.extend_from_slice(input);
        sent.push(b'\n');
        let server = self.server.clone();
        self.rt.block_on(async move {
            let (mut client_out, server_in) = tokio::io::duplex(sent.len() + 1);
            let (server_out, mut client_in) = tokio::io::duplex(64 * 1024);
            // The whole input fits the pipe: written at once, then closed.
            if client_out.write_all(&sent).await.is_err() {
                return Vec::new();
            }
            drop(client_out);
            let reader = tokio::spawn(async move {
                let mut out = Vec::new();
                let _ = client_in.read_to_end(&mut out).await;
                out
            });
            if let Ok(running) = server.serve((server_in, server_out)).await {
                let _ = running.waiting().await;
            }
            reader.await.unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn method(name: &str) -> &'static Method {
        voipms_sdk::catalog::method(name).unwrap()
    }

    #[test]
    fn the_command_line_entry_parses_validates_and_encodes() {
        let m = method("getCDR");
        let args: Vec<String> = [
            "--date-from",
            "-3d",
            "date_to=2026-06-15",
            "--answered",
            "--timezone",
            "-5",
        ]
        .map(String::from)
        .to_vec();
        let sent = cli_params(m, &args).unwrap();
        assert!(
            sent.contains(&("date_from".into(), "2026-06-12".into())),
            "{sent:?}"
        );
        assert!(sent.contains(&("answered".into(), "1".into())), "{sent:?}");
        let err = cli_params(m, &["--no-such-flag".to_owned()]).unwrap_err();
        assert!(err.contains("unknown parameter"), "{err}");
        assert_eq!(encode_value(m, "answered", "yes"), Some(Ok("1".to_owned())));
        assert_eq!(encode_value(m, "nope", "yes"), None);
    }

    #[test]
    fn the_long_tail_entry_validates_json_arguments() {
        let ok = mcp_method_params("getCDR", json!({"date_from": "2026-06-01", "date_to": "2026-06-02", "timezone": -5, "answered": true}).as_object().unwrap());
        assert!(ok.is_ok(), "{ok:?}");
        let err = mcp_method_params("getCDR", json!({"api_password": "x"}).as_object().unwrap())
            .unwrap_err();
        assert!(err.contains("cannot be given"), "{err}");
    }

    #[test]
    fn the_mcp_entry_serves_sessions_and_tool_calls() {
        let mcp = Mcp::new().unwrap();
        let out = mcp.session(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}\n");
        let lines: Vec<serde_json::Value> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert!(
            lines
                .iter()
                .any(|l| l["id"] == 0 && l["result"]["serverInfo"].is_object()),
            "{lines:?}"
        );
        let listed = lines
            .iter()
            .find(|l| l["id"] == 7)
            .expect("the tools/list answer");
        assert_eq!(
            listed["result"]["tools"].as_array().unwrap().len(),
            mcp.tool_names().len()
        );
        let balance = mcp
            .call_tool("voipms_get_balance", serde_json::Map::new())
            .unwrap();
        assert_eq!(balance["isError"], json!(false), "{balance}");
        assert!(
            mcp.call_tool("voipms_no_such_tool", serde_json::Map::new())
                .is_none()
        );
        assert_eq!(mcp.input_schemas().len(), mcp.tool_names().len());
    }
}
