//! `voipms mcp`: the MCP server front end. It offers the curated tools, the long-tail trio and
//! one tool per catalog method (in toolsets), over the same core as the command line. Nothing in
//! here reads or writes the terminal: over stdio, stdin and stdout carry the protocol and logs go
//! to stderr.

pub mod audit;
pub mod curated;
pub mod http;
pub mod method;
pub mod server;
pub mod tools;

use rmcp::ServiceExt;

use crate::core::exit::{Code, Failure};
use crate::mcp::server::VoipmsServer;

/// Serves MCP over stdin and stdout until the client closes them.
pub async fn serve_stdio(server: VoipmsServer) -> Result<(), Failure> {
    tracing::info!(tools = server.tools().len(), "serving MCP over stdio");
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Failure::new(Code::Network, format!("MCP session failed to start: {e}")))?;
    running.waiting().await.map_err(|e| {
        Failure::new(
            Code::Network,
            format!("MCP session ended with an error: {e}"),
        )
    })?;
    Ok(())
}
