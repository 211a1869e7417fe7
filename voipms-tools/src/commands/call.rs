//! `voipms call METHOD [key=value…]`: the raw escape hatch, for methods or parameters the spec
//! does not know yet. Values go as written; unknown methods count as changes (confirmation).

use clap::{Arg, ArgAction, ArgMatches, Command};
use voipms_sdk::Params;
use voipms_sdk::catalog::{self, Effect};

use super::Builtin;
use crate::ctx::{Ctx, Invocation};
use crate::errln;
use crate::exit::Failure;
use crate::output::YELLOW;

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "call",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("call")
        .about("Call any method with raw key=value parameters (methods the spec does not know)")
        .long_about(
            "Call any API method by its wire name with raw key=value parameters, sent as written \
             (no validation). For methods the spec does not know yet, or parameters it lacks. \
             A method missing from the spec counts as a change: it asks for confirmation on a \
             real account, or needs --yes.",
        )
        .arg(
            Arg::new("method")
                .value_name("METHOD")
                .required(true)
                .help("Wire name, e.g. getBalance"),
        )
        .arg(
            Arg::new("params")
                .value_name("key=value")
                .num_args(0..)
                .action(ArgAction::Append)
                .allow_negative_numbers(true)
                .help("Parameters, sent as written"),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let name = m.get_one::<String>("method").expect("required");
    let mut params = Params::new();
    let mut reserved = Vec::new();
    for a in m.get_many::<String>("params").into_iter().flatten() {
        let (k, v) = a.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "`{a}` is not key=value (e.g. did=5551234567); `voipms call` takes only key=value \
                 parameters"
            ))
        })?;
        if crate::core::encode::is_reserved(k) {
            reserved.push(format!("`{k}`"));
            continue;
        }
        params.push(k.to_owned(), v);
    }
    if !reserved.is_empty() {
        return Err(Failure::usage(format!(
            "{} cannot be given: voipms adds the credentials and the method itself (credentials \
             come from VOIPMS_API_USERNAME/VOIPMS_API_PASSWORD or the config file; see `voipms \
             doctor`). Nothing was sent.",
            reserved.join(", ")
        )));
    }
    let call = match catalog::find_method(name) {
        Some(spec) => Invocation {
            method: spec.name.to_owned(),
            spec: Some(spec),
            effect: spec.effect,
            params,
        },
        None => {
            errln!(
                "{YELLOW}note:{YELLOW:#} {name} is not in the spec; sending it as written and \
                 treating it as a change"
            );
            Invocation {
                method: name.clone(),
                spec: None,
                effect: Effect::Write,
                params,
            }
        }
    };
    ctx.invoke_and_print(&call)
}
