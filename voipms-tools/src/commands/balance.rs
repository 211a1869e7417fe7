//! `voipms balance [--advanced]`: the account balance (and today's and all-time spending).

use clap::{Arg, ArgAction, ArgMatches, Command};
use voipms_sdk::Account;

use super::Builtin;
use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::friendly::{self, Report};
use crate::output::{BOLD, CYAN};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "balance",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("balance")
        .about("The account balance (--advanced: spending, calls and call time)")
        .long_about(
            "The money left on the account (getBalance). With --advanced, also what was spent, \
             how many calls and how much call time, today and since the account opened. Prints \
             text unless --format is given (json: one object).",
        )
        .arg(
            Arg::new("advanced")
                .long("advanced")
                .short('a')
                .action(ArgAction::SetTrue)
                .help("Also show spending, calls and call time, today and in all"),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let advanced = m.get_flag("advanced");
    let Some(b) = friendly::read(ctx, async |c| Account::new(&c).balance().await)? else {
        return Ok(());
    };
    let text_of = |v: &Option<voipms_sdk::Decimal>| v.as_ref().map(ToString::to_string);
    let mut text = format!(
        "{CYAN}Balance{CYAN:#}  {BOLD}{}{BOLD:#}\n",
        text_of(&b.current).unwrap_or_else(|| "unknown".into())
    );
    if advanced {
        let line = |label: &str,
                    spent: &Option<voipms_sdk::Decimal>,
                    calls: Option<i64>,
                    time: &Option<String>| {
            format!(
                "{CYAN}{label}{CYAN:#}  {} spent, {} calls, {} of calls\n",
                text_of(spent).unwrap_or_else(|| "?".into()),
                calls.map_or_else(|| "?".to_owned(), |n| n.to_string()),
                time.as_deref().unwrap_or("?")
            )
        };
        text.push_str(&line(
            "Today  ",
            &b.spent_today,
            b.calls_today,
            &b.time_today,
        ));
        text.push_str(&line(
            "In all ",
            &b.spent_total,
            b.calls_total,
            &b.time_total,
        ));
    }
    Report::new(views::balance(&b, advanced), text).print(ctx);
    Ok(())
}
