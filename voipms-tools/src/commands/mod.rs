//! The hand-written commands, in one registry, and the runner of the catalog's method commands.
//!
//! A hand-written command is a [`Builtin`]: a clap [`Command`] and the function that runs it.
//! The friendly commands over the helper layer (`balance`, `phonebook …`, `spam …`, `sms send`,
//! …) are built the same way, on what [`crate::friendly`] shares. A built-in name takes
//! precedence over a catalog alias of the same name (`balance` is the friendly command, not the
//! catalog's alias of getBalance; `voipms getBalance` still is).

use clap::{ArgMatches, Command};
use voipms_sdk::catalog::Method;

use crate::ctx::{Ctx, Invocation};
use crate::exit::Failure;
use crate::params::{self, Given};

pub mod balance;
pub mod call;
pub mod cdr;
pub mod completion;
pub mod decode;
pub mod doctor;
pub mod filters;
pub mod help;
pub mod list;
pub mod mcp;
pub mod phonebook;
pub mod recordings;
pub mod sandbox;
pub mod sms;
pub mod spam;

/// A hand-written command.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name.
    pub name: &'static str,
    /// Its clap definition (the global options are added by the tree builder).
    pub command: fn() -> Command,
    /// Runs it.
    pub run: fn(&mut Ctx, &ArgMatches) -> Result<(), Failure>,
    /// It needs every method command in the tree (completion scripts).
    pub needs_all_methods: bool,
}

/// Every hand-written command, in `voipms --help` order.
pub const BUILTINS: &[Builtin] = &[
    list::BUILTIN,
    help::BUILTIN,
    balance::BUILTIN,
    phonebook::BUILTIN,
    spam::BUILTIN,
    cdr::BUILTIN,
    sms::BUILTIN,
    sms::MMS,
    recordings::BUILTIN,
    filters::BUILTIN,
    call::BUILTIN,
    doctor::BUILTIN,
    decode::BUILTIN,
    sandbox::BUILTIN,
    mcp::BUILTIN,
    mcp::AUDIT,
    completion::BUILTIN,
];

/// The hand-written command named `name` (exact).
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Runs the command of catalog method `m`.
pub fn run_method(ctx: &mut Ctx, m: &'static Method, sub: &ArgMatches) -> Result<(), Failure> {
    let mut flags = Vec::new();
    for p in m.params {
        if let Ok(Some(values)) = sub.try_get_many::<String>(p.name) {
            for v in values {
                flags.push(Given {
                    param: p,
                    value: v.clone(),
                });
            }
        }
    }
    let free: Vec<String> = sub
        .try_get_many::<String>(crate::cli::FREE)
        .ok()
        .flatten()
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let params = params::collect(m, flags, &free, params::today())?;
    ctx.invoke_and_print(&Invocation::of(m, params))
}
