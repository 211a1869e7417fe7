//! The modules of the `voipms` binary (see `main.rs`). This is not a library for others: its one
//! public entry is [`main`]; the hidden [`fuzzing`] module gives the fuzz targets (`fuzz/`) and
//! their regression tests the parsers and validators to drive in process.

mod app;
mod cli;
mod commands;
mod core;
mod ctx;
mod doctor;
mod friendly;
mod help;
mod mcp;
mod output;
mod params;
mod transport;

#[doc(hidden)]
pub mod fuzzing;

// The core's modules the command line uses most, under their old short paths.
use crate::core::{config, exit, sandbox};

/// Runs the `voipms` command line with the process's arguments.
pub fn main() -> std::process::ExitCode {
    app::main()
}
