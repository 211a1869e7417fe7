//! What the command line and the MCP server share. Nothing here touches the terminal, prints, or
//! prompts, and nothing here imports a front end (`cli`-side modules or `mcp`): a test holds both
//! rules (`tests/cli/layout.rs`).

pub mod config;
pub mod encode;
pub mod exit;
pub mod gate;
pub mod lock;
pub mod recorder;
pub mod sandbox;
pub mod schema;
pub mod secrets;
pub mod session;
pub mod transcripts;
pub mod views;
