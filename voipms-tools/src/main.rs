//! `voipms`: the VoIP.ms API from the command line.
//!
//! Every method of the catalog is a command (built at run time from `voipms_sdk::catalog`), next
//! to a few hand-written ones (`list`, `help`, `cdr`, `call`, `doctor`, `decode`, `sandbox`,
//! `completion`). See `voipms --help`.

mod app;
mod cli;
mod commands;
mod config;
mod ctx;
mod doctor;
mod exit;
mod help;
mod output;
mod params;
mod sandbox;
mod transport;

fn main() -> std::process::ExitCode {
    app::main()
}
