//! `voipms phonebook groups|entries|add|remove`: the phonebook and its groups, through the
//! SDK's idempotent phonebook helper (entries reused, never duplicated; adding a member twice
//! changes nothing).

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::json;
use voipms_sdk::phonebook::{Entry, Group, PhonebookSnapshot};
use voipms_sdk::{OrphanEntries, Phonebook};

use super::Builtin;
use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::friendly::{self, Plan, Report, calls_text, plural};
use crate::output::{BOLD, DIM, GREEN, Rows, YELLOW};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "phonebook",
    command,
    run,
    needs_all_methods: false,
};

fn group_arg(help: &'static str) -> Arg {
    Arg::new("group")
        .value_name("GROUP")
        .required(true)
        .help(help)
}

fn number_arg() -> Arg {
    Arg::new("number")
        .value_name("NUMBER")
        .required(true)
        .allow_hyphen_values(true)
        .help("Phone number in any usual form: 5551234567, +1 (555) 123-4567, 1-555-123-4567")
}

fn command() -> Command {
    Command::new("phonebook")
        .about("Phonebook groups and entries: list, add a number to a group, remove it")
        .long_about(
            "The phonebook and its groups. `add` and `remove` are idempotent: an existing entry \
             for the number is reused (never duplicated), a group is created when missing, and \
             running them twice changes nothing the second time. Changes to a real account ask \
             for confirmation (or need --yes); --dry-run reads the account to work out the \
             change and prints the requests it would send, sending none.",
        )
        .subcommand_required(true)
        .subcommand(Command::new("groups").about("List the phonebook groups with their sizes"))
        .subcommand(
            Command::new("entries")
                .about("List the phonebook entries, or the members of one group")
                .arg(
                    Arg::new("group")
                        .value_name("GROUP")
                        .help("Only the members of this group (its name or id)"),
                ),
        )
        .subcommand(
            Command::new("add")
                .about("Add a number to a group (the group and the entry are created if missing)")
                .arg(group_arg(
                    "The group's name (or id); created when no group has that name",
                ))
                .arg(number_arg())
                .arg(
                    Arg::new("name")
                        .long("name")
                        .value_name("NAME")
                        .help("Name of the entry, if one has to be created (default: the number)"),
                ),
        )
        .subcommand(
            Command::new("remove")
                .about("Take a number out of a group (its entries stay unless --delete-orphans)")
                .arg(group_arg("The group's name (or id)"))
                .arg(number_arg())
                .arg(
                    Arg::new("delete-orphans")
                        .long("delete-orphans")
                        .action(ArgAction::SetTrue)
                        .help("Also delete the number's entries that are then in no group"),
                ),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    match m.subcommand() {
        Some(("groups", _)) => groups(ctx),
        Some(("entries", sub)) => entries(ctx, sub.get_one::<String>("group")),
        Some(("add", sub)) => add(ctx, sub),
        Some(("remove", sub)) => remove(ctx, sub),
        _ => Err(Failure::usage(
            "use `voipms phonebook groups`, `entries [GROUP]`, `add GROUP NUMBER` or `remove GROUP \
             NUMBER`",
        )),
    }
}

fn groups(ctx: &mut Ctx) -> Result<(), Failure> {
    let Some(list) = friendly::read(ctx, async |c| Phonebook::new(&c).groups().await)? else {
        return Ok(());
    };
    let rows = Rows {
        headers: vec!["id".into(), "name".into(), "members".into()],
        rows: list
            .iter()
            .map(|g| {
                vec![
                    g.id.to_string(),
                    g.name.clone(),
                    g.members.len().to_string(),
                ]
            })
            .collect(),
    };
    let text = if list.is_empty() {
        "No phonebook groups (`voipms phonebook add GROUP NUMBER` creates one).".to_owned()
    } else {
        friendly::table(&rows)
    };
    let json = json!({"groups": list.iter().map(views::group).collect::<Vec<_>>()});
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}

/// The group `wanted` names: by name (exact, then any case), else by id.
fn find_group<'a>(snap: &'a PhonebookSnapshot, wanted: &str) -> Result<&'a Group, Failure> {
    if let Some(g) = snap.group_named(wanted) {
        return Ok(g);
    }
    if let Some(g) = wanted
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| snap.group(id))
    {
        return Ok(g);
    }
    let known: Vec<String> = snap
        .groups
        .iter()
        .map(|g| format!("{} ({})", g.name, g.id))
        .collect();
    Err(Failure::usage(if known.is_empty() {
        format!("no phonebook group is named `{wanted}`: the phonebook has no groups")
    } else {
        format!(
            "no phonebook group is named `{wanted}` or has that id; the groups are: {}",
            known.join(", ")
        )
    }))
}

fn entries(ctx: &mut Ctx, group: Option<&String>) -> Result<(), Failure> {
    let Some(snap) = friendly::read(ctx, async |c| Phonebook::new(&c).snapshot().await)? else {
        return Ok(());
    };
    let group = group.map(|g| find_group(&snap, g)).transpose()?;
    let list: Vec<&Entry> = match group {
        Some(g) => g
            .members
            .iter()
            .filter_map(|id| snap.entries.iter().find(|e| e.id == *id))
            .collect(),
        None => snap.entries.iter().collect(),
    };
    let rows = Rows {
        headers: [
            "id",
            "name",
            "number",
            "groups",
            "speed_dial",
            "callerid",
            "note",
        ]
        .map(String::from)
        .to_vec(),
        rows: list
            .iter()
            .map(|e| {
                let groups: Vec<&str> = snap
                    .groups_holding(e.id)
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect();
                vec![
                    e.id.to_string(),
                    e.name.clone(),
                    e.number.clone(),
                    groups.join(", "),
                    e.speed_dial.clone().unwrap_or_default(),
                    e.callerid.clone().unwrap_or_default(),
                    e.note.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    };
    let title = match group {
        Some(g) => format!(
            "{BOLD}Phonebook group {} ({}){BOLD:#}: {}\n",
            g.name,
            g.id,
            plural(list.len(), "member", "members")
        ),
        None => format!(
            "{BOLD}Phonebook{BOLD:#}: {}\n",
            plural(list.len(), "entry", "entries")
        ),
    };
    let text = if list.is_empty() {
        title
    } else {
        format!("{title}{}", friendly::table(&rows))
    };
    let json = json!({
        "group": group.map(views::group),
        "entries": list.iter().map(|e| views::entry(e, &snap)).collect::<Vec<_>>(),
    });
    Report::new(json, text).with_rows(rows).print(ctx);
    Ok(())
}

/// The group name a change works on: `wanted`, or the name of the group whose id it is when no
/// group has that (numeric) name.
fn group_name(ctx: &mut Ctx, wanted: &str) -> Result<String, Failure> {
    let wanted = wanted.trim();
    if wanted.is_empty() || !wanted.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(wanted.to_owned());
    }
    let client = friendly::client(ctx)?;
    let groups = friendly::block_on(ctx, async { Phonebook::new(&client).groups().await })?
        .map_err(friendly::failure)?;
    let by_name = groups.iter().any(|g| g.name.trim() == wanted);
    let by_id = groups.iter().find(|g| g.id.to_string() == wanted);
    Ok(match (by_name, by_id) {
        (false, Some(g)) => g.name.clone(),
        _ => wanted.to_owned(),
    })
}

fn add(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let group = group_name(ctx, m.get_one::<String>("group").expect("required"))?;
    let number = m.get_one::<String>("number").expect("required").clone();
    friendly::check_number("NUMBER", &number, friendly::NumberUse::Contact)?;
    let name = m.get_one::<String>("name").cloned();
    let (g, n, nm) = (&group, &number, name.as_deref());
    let Some(r) = friendly::change(
        ctx,
        "phonebook add",
        Plan::ReadsAccount,
        async |c| Phonebook::new(&c).plan_add_number_to_group(g, n, nm).await,
        async |c| Phonebook::new(&c).add_number_to_group(g, n, nm).await,
    )?
    else {
        return Ok(());
    };
    let mut text = if r.already_member {
        format!(
            "{} is already in phonebook group {group} (entry {}): nothing changed.\n",
            r.number, r.entry_id
        )
    } else {
        format!(
            "{GREEN}Added{GREEN:#} {} to phonebook group {group} ({}{}) as {} {}.\n",
            r.number,
            r.group_id,
            if r.group_created { ", created now" } else { "" },
            if r.entry_created {
                "new entry"
            } else {
                "existing entry"
            },
            r.entry_id
        )
    };
    if !r.other_entries.is_empty() {
        text.push_str(&format!(
            "{DIM}Other entries for this number, left alone: {}{DIM:#}\n",
            join(&r.other_entries)
        ));
    }
    if r.race_retries > 0 {
        text.push_str(&format!(
            "{YELLOW}note:{YELLOW:#} another writer changed the group at the same time; the \
             change was redone ({}) and read back: {} is in the group now.\n",
            plural(r.race_retries as usize, "time", "times"),
            r.number
        ));
    }
    if !r.other_groups_named.is_empty() {
        text.push_str(&format!(
            "{YELLOW}note:{YELLOW:#} another writer created a group named {group} at the same \
             time ({}); {} is in group {}. Move the members into one group and delete the \
             other.\n",
            join(&r.other_groups_named),
            r.number,
            r.group_id
        ));
    }
    text.push_str(&calls_text(&r.calls));
    let json = views::addition(&r, &group);
    Report::new(json, text).print(ctx);
    Ok(())
}

fn remove(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let group = group_name(ctx, m.get_one::<String>("group").expect("required"))?;
    let number = m.get_one::<String>("number").expect("required").clone();
    friendly::check_number("NUMBER", &number, friendly::NumberUse::Contact)?;
    let delete = m.get_flag("delete-orphans");
    let orphans = || {
        if delete {
            OrphanEntries::Delete
        } else {
            OrphanEntries::Keep
        }
    };
    let (g, n) = (&group, &number);
    let Some(r) = friendly::change(
        ctx,
        "phonebook remove",
        Plan::ReadsAccount,
        async |c| {
            Phonebook::new(&c)
                .plan_remove_number_from_group(g, n, orphans())
                .await
        },
        async |c| {
            Phonebook::new(&c)
                .remove_number_from_group(g, n, orphans())
                .await
        },
    )?
    else {
        return Ok(());
    };
    let mut text = match (r.group_id, r.removed_entries.is_empty()) {
        (None, _) => format!("No phonebook group is named {group}: nothing changed.\n"),
        (Some(_), true) => {
            format!(
                "{} is not in phonebook group {group}: nothing changed.\n",
                r.number
            )
        }
        (Some(id), false) => format!(
            "{GREEN}Removed{GREEN:#} {} from phonebook group {group} ({id}): {} {}.\n",
            r.number,
            if r.removed_entries.len() == 1 {
                "entry"
            } else {
                "entries"
            },
            join(&r.removed_entries)
        ),
    };
    if !r.deleted_entries.is_empty() {
        text.push_str(&format!(
            "Deleted {} {} (then in no group).\n",
            if r.deleted_entries.len() == 1 {
                "entry"
            } else {
                "entries"
            },
            join(&r.deleted_entries)
        ));
    } else if !delete && !r.removed_entries.is_empty() {
        text.push_str(&format!(
            "{DIM}The entry stays in the phonebook (--delete-orphans deletes entries left in no \
             group).{DIM:#}\n"
        ));
    }
    text.push_str(&calls_text(&r.calls));
    let json = views::removal(&r, &group);
    Report::new(json, text).print(ctx);
    Ok(())
}

/// Ids as `1, 2, 3`.
pub fn join(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
