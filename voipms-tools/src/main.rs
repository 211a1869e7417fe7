//! `voipms`: the VoIP.ms API from the command line.
//!
//! Every method of the catalog is a command (built at run time from `voipms_sdk::catalog`), next
//! to hand-written ones: `list`, `help`, `call`, `doctor`, `decode`, `sandbox`, `completion`, and
//! the friendly commands over the SDK's helpers (`balance`, `phonebook`, `spam`, `cdr`, `sms`,
//! `mms`, `recordings`, `filters`). See `voipms --help`.

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

// The core's modules the command line uses most, under their old short paths.
use crate::core::{config, exit, sandbox};

fn main() -> std::process::ExitCode {
    app::main()
}
