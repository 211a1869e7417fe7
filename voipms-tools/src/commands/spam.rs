//! `voipms spam inspect|suggest|mark|unmark`: the spam workflow of the SDK's `SpamGuard`.
//!
//! Marking puts a number in a phonebook group (`Spam`) and makes sure one Caller ID filter
//! (`p:<group>` on DID `all`, routing `sys:hangup`) blocks the whole group; unmarking takes the
//! number out again (and deletes the entry if marking created it).

use clap::{Arg, ArgAction, ArgMatches, Command};
use voipms_sdk::DateRange;
use voipms_sdk::filters::{FilterAction, FilterMatch};
use voipms_sdk::spam::{
    InspectOptions, NumberReport, SpamSuggestions, SuggestOptions, UnmarkOptions, Verdict,
};
use voipms_sdk::{CallerId, SpamGuard, SpamOptions};

use super::Builtin;
use super::phonebook::join;
use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::friendly::{self, NumberUse, Plan, Report, calls_text, plural};
use crate::output::{BOLD, CYAN, DIM, GREEN, RED, Rows, YELLOW};

/// Candidates `spam suggest` shows without `--limit` or `--all`.
const DEFAULT_SUGGESTIONS: usize = 20;

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "spam",
    command,
    run,
    needs_all_methods: false,
};

fn number_arg() -> Arg {
    Arg::new("number")
        .value_name("NUMBER")
        .required(true)
        .allow_hyphen_values(true)
        .help("Phone number in any usual form: 5551234567, +1 (555) 123-4567, 1-555-123-4567")
}

fn group_arg() -> Arg {
    Arg::new("group")
        .long("group")
        .value_name("NAME")
        .help("Phonebook group holding the spam numbers (default: Spam)")
}

fn days_arg(help: &'static str) -> Arg {
    Arg::new("days")
        .long("days")
        .short('d')
        .value_name("N")
        .value_parser(clap::value_parser!(u32).range(1..=3660))
        .help(help)
}

fn command() -> Command {
    Command::new("spam")
        .about("Find spam callers in the call history, and block or unblock them")
        .long_about(
            "The spam workflow. `suggest` ranks the callers of the call history by explainable \
             signals (short or unanswered calls, calls on many days or at odd hours, neighbour \
             spoofing, spam-like caller names, never called back…). `mark` puts a number in the \
             Spam phonebook group and makes sure one Caller ID filter blocks that group; \
             `unmark` takes it out again. Both are idempotent. Changes to a real account ask \
             for confirmation (or need --yes); --dry-run reads the account to work out the \
             change and prints the requests it would send, sending none.",
        )
        .subcommand_required(true)
        .subcommand(
            Command::new("inspect")
                .about("Everything the account knows about a number, and whether it is blocked")
                .arg(number_arg())
                .arg(days_arg(
                    "Days of call and SMS history to look at (default 90)",
                ))
                .arg(group_arg()),
        )
        .subcommand(
            Command::new("suggest")
                .about("Rank the likely spam callers of the call history, with the reasons")
                .arg(days_arg("Days of call history to look at (default 90)"))
                .arg(
                    Arg::new("limit")
                        .long("limit")
                        .short('n')
                        .value_name("N")
                        .value_parser(clap::value_parser!(usize))
                        .conflicts_with("all")
                        .help("At most N candidates (default 20)"),
                )
                .arg(
                    Arg::new("all")
                        .long("all")
                        .action(ArgAction::SetTrue)
                        .help("List every candidate, not only the top 20"),
                )
                .arg(
                    Arg::new("min-score")
                        .long("min-score")
                        .value_name("N")
                        .allow_negative_numbers(true)
                        .value_parser(clap::value_parser!(i32))
                        .help("Lowest score listed (default 40)"),
                )
                .arg(
                    Arg::new("include-marked")
                        .long("include-marked")
                        .action(ArgAction::SetTrue)
                        .help(
                            "Also list numbers already in the spam group or blocked by a Caller \
                             ID filter (they are marked as such)",
                        ),
                )
                .arg(group_arg()),
        )
        .subcommand(
            Command::new("mark")
                .about("Block a number: add it to the Spam group, blocked by one Caller ID filter")
                .arg(number_arg())
                .arg(
                    Arg::new("routing")
                        .long("routing")
                        .value_name("ROUTING")
                        .help(
                            "Routing of the blocking filter if one has to be created: sys:hangup \
                             (default), sys:busy, sys:noservice or sys:disconnected",
                        ),
                )
                .arg(group_arg()),
        )
        .subcommand(
            Command::new("unmark")
                .about("Unblock a number: take it out of the Spam group")
                .arg(number_arg())
                .arg(
                    Arg::new("remove-empty-group")
                        .long("remove-empty-group")
                        .action(ArgAction::SetTrue)
                        .help(
                            "When the group is left empty, also delete its blocking filter and \
                             the group",
                        ),
                )
                .arg(group_arg()),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let Some((name, sub)) = m.subcommand() else {
        return Err(Failure::usage(
            "use `voipms spam inspect|suggest|mark|unmark` (voipms help spam)",
        ));
    };
    let mut options = SpamOptions::default();
    if let Some(g) = sub.try_get_one::<String>("group").ok().flatten() {
        options.group = g.clone();
    }
    match name {
        "inspect" => inspect(ctx, sub, options),
        "suggest" => suggest(ctx, sub, options),
        "mark" => mark(ctx, sub, options),
        "unmark" => unmark(ctx, sub, options),
        other => Err(Failure::usage(format!("unknown spam command `{other}`"))),
    }
}

fn days(m: &ArgMatches) -> u32 {
    m.get_one::<u32>("days").copied().unwrap_or(90)
}

fn when(t: Option<&voipms_sdk::DateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn suggest(ctx: &mut Ctx, m: &ArgMatches, options: SpamOptions) -> Result<(), Failure> {
    let days = days(m);
    // The SDK ranks every caller; the top `limit` are shown and the rest counted.
    let limit = if m.get_flag("all") {
        None
    } else {
        Some(
            m.get_one::<usize>("limit")
                .copied()
                .unwrap_or(DEFAULT_SUGGESTIONS),
        )
    };
    let mut opts = SuggestOptions {
        include_marked: m.get_flag("include-marked"),
        limit: None,
        ..SuggestOptions::default()
    };
    if let Some(s) = m.get_one::<i32>("min-score") {
        opts.min_score = *s;
    }
    let group = options.group.clone();
    let Some(found) = friendly::read(ctx, async |c| {
        // The days end on the account's today (the sandbox's own date in a sandbox).
        SpamGuard::with_options(&c, options)
            .suggest_spam_numbers(DateRange::last_days(&c, days), &opts)
            .await
    })?
    else {
        return Ok(());
    };
    let mut found = found;
    let total = found.candidates.len();
    if let Some(n) = limit {
        found.candidates.truncate(n);
    }
    let rows = suggestion_rows(&found);
    let mut text = suggestion_text(&found, &group, opts.include_marked);
    let more = total - found.candidates.len();
    if more > 0 {
        text.push_str(&format!(
            "{} not shown: {CYAN}--limit N{CYAN:#} or {CYAN}--all{CYAN:#} lists them.\n",
            plural(more, "more candidate", "more candidates")
        ));
    }
    let mut json = views::suggestions(&found, &group);
    json["total"] = total.into();
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}

fn suggestion_rows(found: &SpamSuggestions) -> Rows {
    Rows {
        headers: [
            "rank",
            "number",
            "score",
            "calls",
            "answered",
            "days",
            "last_seen",
            "marked",
            "reasons",
        ]
        .map(String::from)
        .to_vec(),
        rows: found
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    (i + 1).to_string(),
                    c.number.to_string(),
                    c.score.to_string(),
                    c.stats.calls.to_string(),
                    c.stats.answered.to_string(),
                    c.stats.days.to_string(),
                    when(c.stats.last_seen.as_ref()),
                    if c.already_marked || !c.blocked_by.is_empty() {
                        "yes"
                    } else {
                        "no"
                    }
                    .to_owned(),
                    c.explain(),
                ]
            })
            .collect(),
    }
}

fn suggestion_text(found: &SpamSuggestions, group: &str, include_marked: bool) -> String {
    let mut t = String::new();
    let span = format!(
        "{} to {} ({} looked at)",
        found.range.from,
        found.range.to,
        plural(found.rows_scanned, "call", "calls")
    );
    if found.candidates.is_empty() {
        t.push_str(&format!("No likely spam callers from {span}.\n"));
    } else {
        t.push_str(&format!("{BOLD}Likely spam callers{BOLD:#}, {span}:\n\n"));
        let digits = found.candidates.len().to_string().len();
        for (i, c) in found.candidates.iter().enumerate() {
            let s = &c.stats;
            let marked = if c.already_marked {
                format!("  {DIM}(already in {group}){DIM:#}")
            } else if !c.blocked_by.is_empty() {
                format!(
                    "  {DIM}(already blocked by Caller ID filter {}){DIM:#}",
                    join(&c.blocked_by)
                )
            } else {
                String::new()
            };
            t.push_str(&format!(
                "{:>digits$}. {BOLD}{}{BOLD:#}  score {YELLOW}{}{YELLOW:#}  {DIM}·{DIM:#} {} on {}, \
                 {} answered, last {}{marked}\n",
                i + 1,
                c.number,
                c.score,
                plural(s.calls, "call", "calls"),
                plural(s.days, "day", "days"),
                s.answered,
                when(s.last_seen.as_ref()),
            ));
            let pad = " ".repeat(digits + 2);
            for r in &c.reasons {
                let color = if r.points < 0 { GREEN } else { RED };
                t.push_str(&format!(
                    "{pad}  {color}{:+}{color:#} {}\n",
                    r.points, r.detail
                ));
            }
        }
        t.push('\n');
        t.push_str(&format!(
            "Block one: {CYAN}voipms spam mark NUMBER{CYAN:#}{}\n",
            if include_marked {
                String::new()
            } else {
                format!(" {DIM}(numbers already in {group} or blocked are left out; --include-marked lists them){DIM:#}")
            }
        ));
    }
    if found.anonymous.calls > 0 {
        t.push_str(&format!(
            "Withheld numbers called {}: {CYAN}voipms filters block 0{CYAN:#} blocks anonymous \
             callers.\n",
            plural(found.anonymous.calls, "time", "times")
        ));
    }
    t
}

fn verdict_text(v: &Verdict, group: &str) -> String {
    match v {
        Verdict::Blocked { filters } => format!(
            "{RED}blocked{RED:#} by Caller ID {} {}",
            if filters.len() == 1 {
                "filter"
            } else {
                "filters"
            },
            join(filters)
        ),
        Verdict::InSpamGroup => format!(
            "{YELLOW}in the {group} group, but no blocking filter covers it{YELLOW:#} (`voipms \
             spam mark` adds the filter)"
        ),
        Verdict::Contact { groups } if groups.is_empty() => {
            format!("{GREEN}a phonebook contact{GREEN:#}, in no group, not blocked")
        }
        Verdict::Contact { groups } => format!(
            "{GREEN}a phonebook contact{GREEN:#} (groups: {}), not blocked",
            groups.join(", ")
        ),
        Verdict::Unknown => "unknown: not in the phonebook, not blocked".to_owned(),
    }
}

fn how_text(how: FilterMatch) -> String {
    match how {
        FilterMatch::Number => "names the number".to_owned(),
        FilterMatch::Group(id) => format!("through phonebook group {id}"),
        FilterMatch::AnyPhonebookEntry => "matches every phonebook entry".to_owned(),
    }
}

fn inspect(ctx: &mut Ctx, m: &ArgMatches, options: SpamOptions) -> Result<(), Failure> {
    let number = m.get_one::<String>("number").expect("required").clone();
    let days = days(m);
    let group = options.group.clone();
    let n = &number;
    let Some((r, opts)) = friendly::read(ctx, async |c| {
        let opts = InspectOptions::new(DateRange::last_days(&c, days));
        let r = SpamGuard::with_options(&c, options)
            .inspect_number(n, &opts)
            .await?;
        Ok((r, opts))
    })?
    else {
        return Ok(());
    };
    let text = inspect_text(&r, &group, &opts);
    let json = views::number_report(&r, &opts.range);
    let rows = inspect_rows(&r, &json);
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}

/// `--format csv|table`: one row per recent call (to or from the number), each with the number
/// and its verdict; one row without a call when there is none.
fn inspect_rows(r: &NumberReport, json: &serde_json::Value) -> Rows {
    let verdict = json["verdict"]["verdict"].as_str().unwrap_or_default();
    let head = || vec![r.number.to_string(), verdict.to_owned()];
    let mut rows: Vec<Vec<String>> = r
        .recent_calls
        .iter()
        .map(|c| {
            let from_it = CallerId::parse(c.callerid.as_deref().unwrap_or(""))
                .number
                .as_ref()
                == Some(&r.number);
            let mut row = head();
            row.extend([
                c.date.map(|t| t.to_string()).unwrap_or_default(),
                if from_it { "from it" } else { "to it" }.to_owned(),
                c.callerid.clone().unwrap_or_default(),
                c.destination.clone().unwrap_or_default(),
                c.disposition
                    .as_ref()
                    .map(|d| d.as_str().to_owned())
                    .unwrap_or_default(),
                c.seconds.map(|s| s.to_string()).unwrap_or_default(),
                c.description.clone().unwrap_or_default(),
            ]);
            row
        })
        .collect();
    if rows.is_empty() {
        let mut row = head();
        row.extend(std::iter::repeat_n(String::new(), 7));
        rows.push(row);
    }
    Rows {
        headers: [
            "number",
            "verdict",
            "date",
            "direction",
            "callerid",
            "destination",
            "disposition",
            "seconds",
            "description",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

fn inspect_text(r: &NumberReport, group: &str, opts: &InspectOptions) -> String {
    let mut t = format!(
        "{BOLD}{}{BOLD:#}: {}\n",
        r.number,
        verdict_text(&r.verdict, group)
    );
    let label = |s: &str| format!("{CYAN}{s:<10}{CYAN:#}");
    if r.entries.is_empty() {
        t.push_str(&format!("{}no entry for it\n", label("Phonebook")));
    } else {
        let list: Vec<String> = r
            .entries
            .iter()
            .map(|e| format!("entry {} \"{}\"", e.id, e.name))
            .collect();
        let groups: Vec<String> = r
            .groups
            .iter()
            .map(|g| format!("{} ({})", g.name, g.id))
            .collect();
        t.push_str(&format!(
            "{}{}; {}\n",
            label("Phonebook"),
            list.join(", "),
            if groups.is_empty() {
                "in no group".to_owned()
            } else {
                format!("groups: {}", groups.join(", "))
            }
        ));
    }
    if r.filters.is_empty() {
        t.push_str(&format!(
            "{}no Caller ID filter matches it\n",
            label("Filters")
        ));
    }
    for (i, f) in r.filters.iter().enumerate() {
        t.push_str(&format!(
            "{}filter {}: {} on {} → {}, {}\n",
            if i == 0 {
                label("Filters")
            } else {
                " ".repeat(10)
            },
            f.filter.id,
            f.filter.rule.callerid,
            f.filter.rule.did,
            f.filter.rule.routing,
            how_text(f.how)
        ));
    }
    let s = &r.stats;
    t.push_str(&format!(
        "{}{} to {}: {} from it on {} ({} answered, {} unanswered, {} at odd hours); called \
         back {}\n",
        label("Calls"),
        opts.range.from,
        opts.range.to,
        plural(s.calls, "call", "calls"),
        plural(s.days, "day", "days"),
        s.answered,
        s.unanswered,
        s.odd_hours,
        plural(s.called_back, "time", "times"),
    ));
    if s.calls > 0 {
        t.push_str(&format!(
            "{}first {}, last {}{}\n",
            " ".repeat(10),
            when(s.first_seen.as_ref()),
            when(s.last_seen.as_ref()),
            if s.names.is_empty() {
                String::new()
            } else {
                format!("; caller names: {}", s.names.join(", "))
            }
        ));
    }
    t.push_str(&format!(
        "{}{} over the range\n",
        label("Messages"),
        plural(r.messages.len(), "SMS", "SMS")
    ));
    if !r.recent_calls.is_empty() {
        t.push_str(&format!("{BOLD}Recent calls{BOLD:#}\n"));
        for c in &r.recent_calls {
            let caller = CallerId::parse(c.callerid.as_deref().unwrap_or(""));
            let incoming = caller.number.as_ref() == Some(&r.number);
            t.push_str(&format!(
                "  {}  {}  {:<10} {:>5}s  {}\n",
                when(c.date.as_ref()),
                if incoming { "from" } else { "to  " },
                c.disposition.as_ref().map_or("", |d| d.as_str()),
                c.seconds.unwrap_or(0),
                if incoming {
                    c.callerid.as_deref().unwrap_or("")
                } else {
                    c.destination.as_deref().unwrap_or("")
                }
            ));
        }
    }
    t.push_str(&calls_text(&r.calls));
    t
}

fn action_word(a: FilterAction) -> &'static str {
    match a {
        FilterAction::Created => "created",
        FilterAction::Updated => "updated",
        FilterAction::Unchanged => "already in place",
    }
}

fn mark(ctx: &mut Ctx, m: &ArgMatches, mut options: SpamOptions) -> Result<(), Failure> {
    let number = m.get_one::<String>("number").expect("required").clone();
    friendly::check_number("NUMBER", &number, NumberUse::Dialable)?;
    if let Some(r) = m.get_one::<String>("routing") {
        options.routing = r.clone();
    }
    let group = options.group.clone();
    let (n, o) = (&number, &options);
    let Some(r) = friendly::change(
        ctx,
        "spam mark",
        Plan::ReadsAccount,
        async |c| {
            SpamGuard::with_options(&c, o.clone())
                .plan_mark_number_as_spam(n)
                .await
        },
        async |c| {
            SpamGuard::with_options(&c, o.clone())
                .mark_number_as_spam(n)
                .await
        },
    )?
    else {
        return Ok(());
    };
    for w in &r.warnings {
        friendly::warn(ctx, &format!("{}: {w}", r.number));
    }
    let mut text = if r.changed() {
        format!(
            "{GREEN}Marked{GREEN:#} {} as spam: {} group {group} ({}{}) as {} {}; calls from the \
             group are blocked by Caller ID filter {} ({}).\n",
            r.number,
            if r.already_member {
                "already in"
            } else {
                "added to"
            },
            r.group_id,
            if r.group_created { ", created now" } else { "" },
            if r.entry_created {
                "new entry"
            } else {
                "entry"
            },
            r.entry_id,
            r.filter_id,
            action_word(r.filter_action),
        )
    } else {
        format!(
            "{} is already marked as spam (group {group} {}, entry {}, blocked by Caller ID \
             filter {}): nothing changed.\n",
            r.number, r.group_id, r.entry_id, r.filter_id
        )
    };
    text.push_str(&calls_text(&r.calls));
    let json = views::mark(&r, &group);
    Report::new(json, text).print(ctx);
    Ok(())
}

fn unmark(ctx: &mut Ctx, m: &ArgMatches, options: SpamOptions) -> Result<(), Failure> {
    let number = m.get_one::<String>("number").expect("required").clone();
    friendly::check_number("NUMBER", &number, NumberUse::Dialable)?;
    let opts = UnmarkOptions {
        remove_empty_group: m.get_flag("remove-empty-group"),
    };
    let group = options.group.clone();
    let (n, o, u) = (&number, &options, &opts);
    let Some(r) = friendly::change(
        ctx,
        "spam unmark",
        Plan::ReadsAccount,
        async |c| {
            SpamGuard::with_options(&c, o.clone())
                .plan_unmark_number_as_spam(n, u)
                .await
        },
        async |c| {
            SpamGuard::with_options(&c, o.clone())
                .unmark_number_as_spam(n, u)
                .await
        },
    )?
    else {
        return Ok(());
    };
    let mut text = if r.removed_entries.is_empty() && !r.changed() {
        format!(
            "{} is not in the {group} group: nothing changed.\n",
            r.number
        )
    } else {
        let mut t = format!(
            "{GREEN}Unmarked{GREEN:#} {}: taken out of group {group}",
            r.number
        );
        if !r.removed_entries.is_empty() {
            t.push_str(&format!(" (entries {})", join(&r.removed_entries)));
        }
        t.push_str(".\n");
        if !r.deleted_entries.is_empty() {
            t.push_str(&format!(
                "Deleted the entries marking created: {}.\n",
                join(&r.deleted_entries)
            ));
        }
        if !r.deleted_filters.is_empty() {
            t.push_str(&format!(
                "Deleted the group's blocking filters: {}.\n",
                join(&r.deleted_filters)
            ));
        }
        if let Some(g) = r.deleted_group {
            t.push_str(&format!("Deleted the now empty group {group} ({g}).\n"));
        }
        t
    };
    text.push_str(&calls_text(&r.calls));
    let json = views::unmark(&r, &group);
    Report::new(json, text).print(ctx);
    Ok(())
}
