//! `voipms filters list|block|unblock`: Caller ID filtering rules through the SDK's idempotent
//! filters helper (a rule is identified by its caller ID and DID, compared in canonical form).

use clap::{Arg, ArgMatches, Command};
use serde_json::json;
use voipms_sdk::filters::{Filter, FilterAction};
use voipms_sdk::{FilterRule, Filters};

use super::Builtin;
use super::phonebook::join;
use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::friendly::{self, Plan, Report, calls_text, plural};
use crate::output::{BOLD, GREEN, Rows};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "filters",
    command,
    run,
    needs_all_methods: false,
};

fn callerid_arg() -> Arg {
    Arg::new("callerid")
        .value_name("CALLERID")
        .required(true)
        .allow_hyphen_values(true)
        .help(
            "A number, or a token: 0 anonymous, i outside North America, p any phonebook \
             entry, p:ID the members of phonebook group ID",
        )
}

fn did_arg(help: &'static str) -> Arg {
    Arg::new("did").long("did").value_name("DID").help(help)
}

fn command() -> Command {
    Command::new("filters")
        .about("Caller ID filters: list them, block a caller, unblock it")
        .long_about(
            "Caller ID filtering rules: what happens to calls from a caller ID on one DID (or \
             all). `block` and `unblock` are idempotent: blocking a blocked caller or unblocking \
             an unblocked one changes nothing. Changes to a real account ask for confirmation \
             (or need --yes); --dry-run reads the rules to work out the change and prints the \
             requests it would send, sending none.",
        )
        .subcommand_required(true)
        .subcommand(
            Command::new("list")
                .about("List the Caller ID filtering rules")
                .arg(did_arg(
                    "Only the rules of this DID (all: the account-wide ones)",
                )),
        )
        .subcommand(
            Command::new("block")
                .about("Block calls from a caller ID (creates or updates its rule)")
                .arg(callerid_arg())
                .arg(did_arg("The DID the rule applies to (default: all)"))
                .arg(
                    Arg::new("routing")
                        .long("routing")
                        .value_name("ROUTING")
                        .help(
                            "Where the calls go: sys:hangup (default), sys:busy, sys:noservice, \
                             sys:disconnected, or any routing such as vm:101",
                        ),
                )
                .arg(
                    Arg::new("note")
                        .long("note")
                        .value_name("TEXT")
                        .help("A note on the rule"),
                ),
        )
        .subcommand(
            Command::new("unblock")
                .about("Delete the rule for a caller ID on a DID")
                .arg(callerid_arg())
                .arg(did_arg("The DID of the rule (default: all)")),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    match m.subcommand() {
        Some(("list", sub)) => list(ctx, sub),
        Some(("block", sub)) => block(ctx, sub),
        Some(("unblock", sub)) => unblock(ctx, sub),
        _ => Err(Failure::usage(
            "use `voipms filters list`, `filters block CALLERID` or `filters unblock CALLERID`",
        )),
    }
}

/// `all DIDs` or `DID 5551234567`.
fn did_label(did: &str) -> String {
    if did.trim().eq_ignore_ascii_case("all") {
        "all DIDs".to_owned()
    } else {
        format!("DID {did}")
    }
}

fn list(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let did = m.get_one::<String>("did").cloned();
    let d = did.as_deref();
    let Some(rules) = friendly::read(ctx, async |c| Filters::new(&c).list(d).await)? else {
        return Ok(());
    };
    let rows = Rows {
        headers: ["id", "callerid", "did", "routing", "note"]
            .map(String::from)
            .to_vec(),
        rows: rules
            .iter()
            .map(|f| {
                vec![
                    f.id.to_string(),
                    f.rule.callerid.clone(),
                    f.rule.did.clone(),
                    f.rule.routing.clone(),
                    f.rule.note.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    };
    let mut text = format!(
        "{BOLD}Caller ID filters{BOLD:#}{}: {}\n",
        did.as_ref().map(|d| format!(" on {d}")).unwrap_or_default(),
        plural(rules.len(), "rule", "rules")
    );
    if !rules.is_empty() {
        text.push_str(&friendly::table(&rows));
    }
    let json = json!({"filters": rules.iter().map(views::filter).collect::<Vec<_>>()});
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}

fn block(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let callerid = m.get_one::<String>("callerid").expect("required").clone();
    friendly::check_number("CALLERID", &callerid, friendly::NumberUse::FilterCaller)?;
    let did = m
        .get_one::<String>("did")
        .cloned()
        .unwrap_or_else(|| "all".into());
    let routing = m
        .get_one::<String>("routing")
        .cloned()
        .unwrap_or_else(|| "sys:hangup".into());
    let mut rule = FilterRule::new(callerid.as_str(), did.as_str(), routing.as_str());
    if let Some(n) = m.get_one::<String>("note") {
        rule = rule.note(n.as_str());
    }
    let r0 = &rule;
    let Some(r) = friendly::change(
        ctx,
        "filters block",
        Plan::ReadsAccount,
        async |c| Filters::new(&c).plan_ensure_rule(r0.clone()).await,
        async |c| Filters::new(&c).ensure_rule(r0.clone()).await,
    )?
    else {
        return Ok(());
    };
    let target = format!("{} on {}", r.rule.callerid, did_label(&r.rule.did));
    let mut text = match r.action {
        FilterAction::Created => format!(
            "{GREEN}Blocked{GREEN:#} {target}: filter {} created (→ {}).\n",
            r.filter_id, r.rule.routing
        ),
        FilterAction::Updated => format!(
            "{GREEN}Blocked{GREEN:#} {target}: filter {} updated (→ {}).\n",
            r.filter_id, r.rule.routing
        ),
        FilterAction::Unchanged => format!(
            "{target} is already filtered as asked (filter {} → {}): nothing changed.\n",
            r.filter_id, r.rule.routing
        ),
    };
    if !r.duplicates.is_empty() {
        text.push_str(&format!(
            "Other rules for the same caller ID and DID, left alone: {}\n",
            join(&r.duplicates)
        ));
    }
    text.push_str(&calls_text(&r.calls));
    let json = json!({
        "changed": r.action != FilterAction::Unchanged,
        "filter_id": r.filter_id,
        "action": match r.action {
            FilterAction::Created => "created",
            FilterAction::Updated => "updated",
            FilterAction::Unchanged => "unchanged",
        },
        "rule": views::filter(&Filter { id: r.filter_id, rule: r.rule.clone() }),
        "duplicates": r.duplicates,
        "race_retries": r.race_retries,
        "calls": views::calls(&r.calls),
    });
    Report::new(json, text).print(ctx);
    Ok(())
}

fn unblock(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let callerid = m.get_one::<String>("callerid").expect("required").clone();
    friendly::check_number("CALLERID", &callerid, friendly::NumberUse::FilterCaller)?;
    let did = m
        .get_one::<String>("did")
        .cloned()
        .unwrap_or_else(|| "all".into());
    let (c0, d0) = (&callerid, &did);
    let Some(r) = friendly::change(
        ctx,
        "filters unblock",
        Plan::ReadsAccount,
        async |c| Filters::new(&c).plan_remove_rule(c0, d0).await,
        async |c| Filters::new(&c).remove_rule(c0, d0).await,
    )?
    else {
        return Ok(());
    };
    let mut text = if r.removed.is_empty() {
        format!(
            "No Caller ID filter for {callerid} on {}: nothing changed (`voipms filters list` \
             shows the rules; --did names another DID).\n",
            did_label(&did)
        )
    } else {
        format!(
            "{GREEN}Unblocked{GREEN:#} {callerid} on {}: deleted {} {}.\n",
            did_label(&did),
            if r.removed.len() == 1 {
                "filter"
            } else {
                "filters"
            },
            join(&r.removed)
        )
    };
    text.push_str(&calls_text(&r.calls));
    let json = json!({
        "changed": r.changed(),
        "callerid": callerid,
        "did": did,
        "removed": r.removed,
        "calls": views::calls(&r.calls),
    });
    Report::new(json, text).print(ctx);
    Ok(())
}
