//! `cargo xtask`: maintainer tasks.
//!
//! - `cargo xtask regen [--check]`: regenerate the SDK's generated code from `api-spec/`.
//! - `cargo xtask wsdl-diff FILE [--scaffold]`: compare a VoIP.ms WSDL with the spec.
//! - `cargo xtask soak [--calls N]`: the fault soak of every write path.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{Mode, project_root, regen, soak, wsdl_diff};

const USAGE: &str = "\
usage:
  cargo xtask regen [--check]          regenerate voipms-sdk/src/generated from api-spec/
                                       (--check: write nothing, list stale files, fail if any)
  cargo xtask wsdl-diff FILE [--scaffold]
                                       compare a VoIP.ms WSDL with api-spec/; fails when the WSDL
                                       has a method or parameter the spec lacks
                                       (--scaffold: write TOML skeletons for what is missing to
                                       api-spec/scaffold/)
  cargo xtask soak [--calls N] [--seed S] [--rate P] [--keep]
                                       N changes (default 1000) from 4 processes, CLI and SDK,
                                       against `voipms sandbox serve` injecting faults into a
                                       share P (default 0.1) of the calls; fails when a change
                                       is duplicated, lost or applied despite a reported failure";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("regen") => {
            let mode = match args.get(1).map(String::as_str) {
                None => Ok(Mode::Write),
                Some("--check") => Ok(Mode::Check),
                Some(other) => Err(format!("unknown option `{other}`\n{USAGE}")),
            };
            mode.and_then(|m| regen(&project_root(), m))
        }
        Some("wsdl-diff") => match args.get(1) {
            None => Err(format!("wsdl-diff needs the WSDL file\n{USAGE}")),
            Some(file) => {
                let scaffold = match args.get(2).map(String::as_str) {
                    None => Ok(false),
                    Some("--scaffold") => Ok(true),
                    Some(other) => Err(format!("unknown option `{other}`\n{USAGE}")),
                };
                scaffold.and_then(|s| wsdl_diff(&project_root(), &PathBuf::from(file), s))
            }
        },
        Some("soak") => soak(&project_root(), &args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
