//! `voipms cdr`: call records with friendly options, mapped to getCDR (the prototype's alias).
//!
//! Defaults: the last 30 days, every call status, this machine's UTC offset.

use chrono::{Days, NaiveDate};
use clap::{Arg, ArgMatches, Command};
use voipms_sdk::Params;
use voipms_sdk::catalog;

use super::Builtin;
use crate::ctx::{Ctx, Invocation};
use crate::exit::Failure;
use crate::params::{self, parse_date};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "cdr",
    command,
    run,
    needs_all_methods: false,
};

/// The call statuses getCDR filters on, as its flag parameters.
const STATUSES: [&str; 4] = ["answered", "noanswer", "busy", "failed"];

/// The longest range getCDR accepts in one call.
const MAX_DAYS: u64 = 92;

fn command() -> Command {
    Command::new("cdr")
        .about("Call detail records with friendly options (getCDR)")
        .long_about(
            "Call detail records, mapped to getCDR: --from/--to (default: the last 30 days), \
             --status (default: all four), --timezone (default: this machine's UTC offset). \
             VoIP.ms answers at most 92 days per call. Every getCDR parameter is also available \
             as `voipms getCDR`.",
        )
        .arg(
            Arg::new("from")
                .long("from")
                .value_name("DATE")
                .help("First day (YYYY-MM-DD, today, yesterday, -7d); default: 30 days ago"),
        )
        .arg(
            Arg::new("to")
                .long("to")
                .value_name("DATE")
                .help("Last day, inclusive; default: today"),
        )
        .arg(Arg::new("status").long("status").value_name("LIST").help(
            "Call statuses, comma-separated: answered, noanswer, busy, failed, all (default)",
        ))
        .arg(
            Arg::new("account")
                .long("account")
                .value_name("ACCOUNT")
                .help("Only calls of this (sub-)account, e.g. 100001_VoIP (see getCallAccounts)"),
        )
        .arg(
            Arg::new("did")
                .long("did")
                .value_name("DID")
                .help("Only calls of this DID (getCDR's calltype)"),
        )
        .arg(
            Arg::new("calltype")
                .long("calltype")
                .value_name("TYPE")
                .conflicts_with("did")
                .help("all, incoming, outgoing, or a DID (see getCallTypes)"),
        )
        .arg(
            Arg::new("billing")
                .long("billing")
                .value_name("BILLING")
                .help("all, free or billed (getCDR's callbilling; see getCallBilling)"),
        )
        .arg(
            Arg::new("timezone")
                .long("timezone")
                .value_name("OFFSET")
                .allow_negative_numbers(true)
                .help("Whole-hour UTC offset for the times, -12 to 13; default: this machine's"),
        )
}

/// This machine's UTC offset in whole hours, within getCDR's range.
pub fn local_offset_hours() -> i32 {
    let secs = chrono::Local::now().offset().local_minus_utc();
    (secs as f64 / 3600.0).round().clamp(-12.0, 13.0) as i32
}

/// The getCDR flags for a `--status` list.
pub fn status_flags(list: &str) -> Result<[bool; 4], String> {
    let mut on = [false; 4];
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let i = match item
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "all" => {
                on = [true; 4];
                continue;
            }
            "answered" => 0,
            "noanswer" | "unanswered" | "missed" => 1,
            "busy" => 2,
            "failed" => 3,
            _ => {
                return Err(format!(
                    "--status: `{item}` is not a call status; use answered, noanswer, busy, failed \
                     or all, comma-separated"
                ));
            }
        };
        on[i] = true;
    }
    if on.iter().all(|b| !b) {
        return Err(
            "--status: name at least one call status (answered, noanswer, busy, failed or all)"
                .into(),
        );
    }
    Ok(on)
}

fn date_arg(
    m: &ArgMatches,
    id: &str,
    default: NaiveDate,
    today: NaiveDate,
) -> Result<NaiveDate, String> {
    match m.get_one::<String>(id) {
        None => Ok(default),
        Some(raw) => parse_date(raw, today).ok_or_else(|| {
            format!("--{id}: `{raw}` is not a valid date; use YYYY-MM-DD, today, yesterday or -Nd")
        }),
    }
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let spec = catalog::method("getCDR").expect("getCDR is in the catalog");
    let today = params::today();
    let mut problems = Vec::new();
    let month_ago = today.checked_sub_days(Days::new(30)).unwrap_or(today);
    let from = date_arg(m, "from", month_ago, today)
        .map_err(|e| problems.push(e))
        .ok();
    let to = date_arg(m, "to", today, today)
        .map_err(|e| problems.push(e))
        .ok();
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            problems.push(format!("--from {f} is after --to {t}"));
        } else if (t - f).num_days() as u64 >= MAX_DAYS {
            problems.push(format!(
                "{f} to {t} is {} days; VoIP.ms answers at most {MAX_DAYS} days per call: narrow \
                 the range",
                (t - f).num_days() + 1
            ));
        }
    }
    let flags = match m.get_one::<String>("status") {
        None => Some([true; 4]),
        Some(list) => status_flags(list).map_err(|e| problems.push(e)).ok(),
    };
    let tz_param = spec.param("timezone").expect("getCDR has timezone");
    let timezone = match m.get_one::<String>("timezone") {
        None => Some(local_offset_hours().to_string()),
        Some(raw) => params::encode(tz_param, raw, today)
            .map_err(|e| problems.push(format!("--timezone: {e}")))
            .ok(),
    };
    if !problems.is_empty() {
        return Err(Failure::usage(format!(
            "cdr: {}\nNothing was sent.",
            problems.join("\n  ")
        )));
    }
    let (Some(from), Some(to), Some(flags), Some(timezone)) = (from, to, flags, timezone) else {
        unreachable!("every problem was reported");
    };
    let mut params = Params::new()
        .with("date_from", from.format("%Y-%m-%d").to_string())
        .with("date_to", to.format("%Y-%m-%d").to_string());
    for (name, on) in STATUSES.iter().zip(flags) {
        params.push(*name, voipms_sdk::wire::flag(on));
    }
    params.push("timezone", timezone);
    if let Some(t) = m
        .get_one::<String>("did")
        .or_else(|| m.get_one::<String>("calltype"))
    {
        params.push("calltype", t.clone());
    }
    if let Some(b) = m.get_one::<String>("billing") {
        params.push("callbilling", b.clone());
    }
    if let Some(a) = m.get_one::<String>("account") {
        params.push("account", a.clone());
    }
    ctx.invoke_and_print(&Invocation::of(spec, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(
            status_flags("answered,busy").unwrap(),
            [true, false, true, false]
        );
        assert_eq!(status_flags("all").unwrap(), [true; 4]);
        assert_eq!(
            status_flags("No-Answer").unwrap(),
            [false, true, false, false]
        );
        assert!(
            status_flags("nope")
                .unwrap_err()
                .contains("not a call status")
        );
        assert!(status_flags(",").is_err());
        assert!((-12..=13).contains(&local_offset_hours()));
    }
}
