//! Phonebook entries and groups, caller-ID filtering rules and call forwardings.
//!
//! Modelled as VoIP.ms models them: a group's `members` is the `;`-joined list of entry ids and is
//! the only record of membership; a group may be empty; several entries may share a number;
//! `set*` creates without an id and updates with one; deleting an entry takes it out of every
//! group, so a group never lists an id that does not exist.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::core::{Ctx, Res, ok, ok1};
use super::state::{Entry, Filter, Forwarding, Group};
use super::validate::{Args, Fail, normalize_phone};

fn id_arg(args: &Args<'_>, name: &str) -> Option<u64> {
    args.get(name).and_then(|v| v.trim().parse().ok())
}

/// First group (lowest id) each entry belongs to.
fn first_groups(groups: &BTreeMap<u64, Group>) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for (gid, g) in groups {
        for m in &g.members {
            out.entry(*m).or_insert(*gid);
        }
    }
    out
}

pub(crate) fn phonebook(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let st = &*cx.st;
    // Keep only members of the group(s) asked for, shown with that group.
    let mut shown_group: Option<BTreeMap<u64, u64>> = None;
    if let Some(g) = args.get("group") {
        let gid = g.trim().parse::<u64>().ok();
        let Some((gid, group)) = gid.and_then(|id| st.groups.get(&id).map(|g| (id, g))) else {
            return Err(Fail::new("no_phonebook"));
        };
        shown_group = Some(group.members.iter().map(|m| (*m, gid)).collect());
    }
    if let Some(name) = args.get("group_name") {
        let mut map = BTreeMap::new();
        for (gid, g) in st
            .groups
            .iter()
            .filter(|(_, g)| g.name.eq_ignore_ascii_case(name))
        {
            for m in &g.members {
                map.entry(*m).or_insert(*gid);
            }
        }
        shown_group = Some(match shown_group {
            Some(prev) => prev
                .into_iter()
                .filter(|(m, _)| map.contains_key(m))
                .collect(),
            None => map,
        });
    }
    let firsts = first_groups(&st.groups);
    let id_filter = id_arg(args, "phonebook");
    if args.get("phonebook").is_some() && id_filter.is_none() {
        return Err(Fail::new("no_phonebook"));
    }
    let name_filter = args.get("name").map(str::to_lowercase);
    let rows: Vec<Value> = st
        .phonebook
        .iter()
        .filter(|(id, _)| id_filter.is_none_or(|f| f == **id))
        .filter(|(_, e)| {
            name_filter
                .as_deref()
                .is_none_or(|n| e.name.to_lowercase().contains(n))
        })
        .filter_map(|(id, e)| {
            let group = match &shown_group {
                Some(map) => Some(*map.get(id)?),
                None => firsts.get(id).copied(),
            };
            let (gid, gname) = match group.and_then(|g| st.groups.get(&g).map(|x| (g, x))) {
                Some((g, x)) => (g.to_string(), x.name.clone()),
                None => (String::new(), String::new()),
            };
            Some(json!({
                "phonebook": id.to_string(),
                "speed_dial": e.speed_dial,
                "name": e.name,
                "number": e.number,
                "callerid": e.callerid,
                "note": e.note,
                "group": gid,
                "group_name": gname,
            }))
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_phonebook"));
    }
    ok1("phonebooks", Value::Array(rows))
}

pub(crate) fn groups(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id_filter = args
        .get("group")
        .map(|g| g.trim().parse::<u64>().unwrap_or(0));
    let name = args.get("name");
    let rows: Vec<Value> = cx
        .st
        .groups
        .iter()
        .filter(|(id, _)| id_filter.is_none_or(|f| f == **id))
        .filter(|(_, g)| name.is_none_or(|n| g.name.eq_ignore_ascii_case(n)))
        .map(|(id, g)| {
            let members: Vec<String> = g.members.iter().map(u64::to_string).collect();
            json!({
                "phonebook_group": id.to_string(),
                "name": g.name,
                "members": members.join(";"),
            })
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_phonebook_group"));
    }
    // The key VoIP.ms sends (its documentation prints `phonebooks`).
    ok1("phonebook_groups", Value::Array(rows))
}

/// A phone number (stored as digits) or a SIP URI reference (`sip:2563`).
fn entry_number(v: &str) -> Result<String, Fail> {
    if let Some(rest) = v.strip_prefix("sip:") {
        if !rest.is_empty() {
            return Ok(v.to_owned());
        }
    } else if let Some(n) = normalize_phone(v) {
        return Ok(n);
    }
    Err(Fail::msg(
        "invalid_number",
        "an entry's number is a phone number or a SIP URI reference such as sip:2563",
    ))
}

fn add_member(cx: &mut Ctx<'_>, gid: u64, entry: u64) -> Result<(), Fail> {
    let limit = cx.limits.group_member_limit;
    let Some(g) = cx.st.groups.get_mut(&gid) else {
        return Err(Fail::msg(
            "no_phonebook_group",
            "no phonebook group has that id (getPhonebookGroups lists them)",
        ));
    };
    if !g.members.contains(&entry) {
        if g.members.len() >= limit {
            return Err(Fail::msg(
                "max_phonebook",
                format!("a phonebook group holds at most {limit} members"),
            ));
        }
        g.members.push(entry);
    }
    Ok(())
}

pub(crate) fn set_entry(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let number = entry_number(args.or("number", ""))?;
    let name = args.or("name", "").trim().to_owned();
    let group = match args.get("group") {
        Some(g) => {
            let gid = g.trim().parse::<u64>().unwrap_or(0);
            if !cx.st.groups.contains_key(&gid) {
                return Err(Fail::msg(
                    "no_phonebook_group",
                    "no phonebook group has that id (getPhonebookGroups lists them)",
                ));
            }
            Some(gid)
        }
        None => None,
    };
    let id = match args.get("phonebook") {
        Some(v) => {
            let id = v.trim().parse::<u64>().unwrap_or(0);
            if !cx.st.phonebook.contains_key(&id) {
                return Err(Fail::msg(
                    "invalid_phonebook",
                    "no phonebook entry has that id; omit `phonebook` to create one",
                ));
            }
            id
        }
        None => {
            if cx.st.phonebook.len() >= cx.limits.phonebook_limit {
                return Err(Fail::msg(
                    "members_exceeded",
                    format!(
                        "the phonebook holds at most {} entries",
                        cx.limits.phonebook_limit
                    ),
                ));
            }
            let id = cx.st.next.phonebook;
            cx.st.next.phonebook += 1;
            id
        }
    };
    let speed_dial = args.get("speed_dial").unwrap_or("").trim().to_owned();
    if !speed_dial.is_empty()
        && cx
            .st
            .phonebook
            .iter()
            .any(|(other, e)| *other != id && e.speed_dial == speed_dial)
    {
        return Err(Fail::msg(
            "used_speed_dial",
            format!("another entry already uses speed dial {speed_dial}"),
        ));
    }
    if let Some(gid) = group {
        // Check the group has room before the entry exists, so a refused call changes nothing.
        let g = &cx.st.groups[&gid];
        if !g.members.contains(&id) && g.members.len() >= cx.limits.group_member_limit {
            return Err(Fail::msg(
                "max_phonebook",
                format!(
                    "a phonebook group holds at most {} members",
                    cx.limits.group_member_limit
                ),
            ));
        }
    }
    cx.st.phonebook.insert(
        id,
        Entry {
            name,
            number,
            speed_dial,
            callerid: args.get("callerid").unwrap_or("").to_owned(),
            note: args.get("note").unwrap_or("").to_owned(),
        },
    );
    if let Some(gid) = group {
        add_member(cx, gid, id)?;
    }
    ok1("phonebook", Value::String(id.to_string()))
}

/// Parses `members` (ids joined with `;`, or `,` as some clients send) into existing entry ids.
fn parse_members(cx: &Ctx<'_>, v: &str) -> Result<Vec<u64>, Fail> {
    let mut out = Vec::new();
    for item in v.split([';', ',']).map(str::trim).filter(|s| !s.is_empty()) {
        let id = item
            .parse::<u64>()
            .ok()
            .filter(|id| cx.st.phonebook.contains_key(id));
        let Some(id) = id else {
            return Err(Fail::msg(
                "invalid_member",
                format!("`{item}` is not the id of a phonebook entry (getPhonebook lists them)"),
            ));
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

pub(crate) fn set_group(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let name = args.or("name", "").trim().to_owned();
    // `members` sent empty clears the group; left out, the members stay.
    let mut members = match args.present("members") {
        Some(v) => Some(parse_members(cx, v)?),
        None => None,
    };
    if let Some(extra) = args.get("phonebook") {
        let more = parse_members(cx, extra)?;
        let list = members.get_or_insert_with(Vec::new);
        for id in more {
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    if let Some(list) = &members
        && list.len() > cx.limits.group_member_limit
    {
        return Err(Fail::msg(
            "max_phonebook",
            format!(
                "a phonebook group holds at most {} members",
                cx.limits.group_member_limit
            ),
        ));
    }
    let id = match args.get("group") {
        Some(g) => {
            let id = g.trim().parse::<u64>().unwrap_or(0);
            let Some(group) = cx.st.groups.get_mut(&id) else {
                return Err(Fail::msg(
                    "no_phonebook_group",
                    "no phonebook group has that id; omit `group` to create one",
                ));
            };
            group.name = name;
            // `members` replaces the membership; without it the members stay.
            if let Some(list) = members {
                group.members = list;
            }
            id
        }
        None => {
            let id = cx.st.next.group;
            cx.st.next.group += 1;
            cx.st.groups.insert(
                id,
                Group {
                    name,
                    members: members.unwrap_or_default(),
                },
            );
            id
        }
    };
    ok1("group", Value::String(id.to_string()))
}

pub(crate) fn del_entry(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = id_arg(args, "phonebook").unwrap_or(0);
    if cx.st.phonebook.remove(&id).is_none() {
        return Err(Fail::msg(
            "invalid_phonebook",
            "no phonebook entry has that id (getPhonebook lists them)",
        ));
    }
    for g in cx.st.groups.values_mut() {
        g.members.retain(|m| *m != id);
    }
    ok()
}

pub(crate) fn del_group(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = id_arg(args, "group").unwrap_or(0);
    if cx.st.groups.remove(&id).is_none() {
        return Err(Fail::msg(
            "no_phonebook_group",
            "no phonebook group has that id (getPhonebookGroups lists them)",
        ));
    }
    ok()
}

fn filter_json(id: u64, f: &Filter) -> Value {
    json!({
        "filtering": id.to_string(),
        "callerid": f.callerid,
        "did": f.did,
        "routing": f.routing,
        "failover_unreachable": f.failover_unreachable,
        "failover_busy": f.failover_busy,
        "failover_noanswer": f.failover_noanswer,
        "note": f.note,
    })
}

pub(crate) fn filters(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = args
        .get("filtering")
        .map(|v| v.trim().parse::<u64>().unwrap_or(0));
    let did = args.phone("did");
    let rows: Vec<Value> = cx
        .st
        .filters
        .iter()
        .filter(|(fid, _)| id.is_none_or(|i| i == **fid))
        .filter(|(_, f)| did.as_deref().is_none_or(|d| f.did == d))
        .map(|(fid, f)| filter_json(*fid, f))
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_filter"));
    }
    ok1("filtering", Value::Array(rows))
}

/// The caller-ID a rule matches: a number, or a token (`0` anonymous, `i` international,
/// `s`/`sb`/`sc` attestation, `p` any phonebook entry, `p:ID` a phonebook group).
fn filter_callerid(cx: &Ctx<'_>, v: &str) -> Result<String, Fail> {
    let v = v.trim();
    if matches!(v, "0" | "i" | "s" | "sb" | "sc" | "p") {
        return Ok(v.to_owned());
    }
    if let Some(g) = v.strip_prefix("p:") {
        let exists = g
            .parse::<u64>()
            .is_ok_and(|id| cx.st.groups.contains_key(&id));
        if !exists {
            return Err(Fail::msg(
                "invalid_callerid",
                "p:ID must name a phonebook group (getPhonebookGroups lists them)",
            ));
        }
        return Ok(v.to_owned());
    }
    normalize_phone(v).ok_or_else(|| {
        Fail::msg(
            "invalid_callerid",
            "callerid is a phone number, or 0 (anonymous), i, s, sb, sc, p or p:GROUPID",
        )
    })
}

pub(crate) fn set_filter(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let callerid = filter_callerid(cx, args.or("callerid", ""))?;
    let did = match args.or("did", "").trim() {
        "all" => "all".to_owned(),
        other => match normalize_phone(other).filter(|d| cx.st.did(d).is_some()) {
            Some(d) => d,
            None => {
                return Err(Fail::msg(
                    "invalid_did",
                    "did is one of the account's DIDs or `all`",
                ));
            }
        },
    };
    let existing = match args.get("filter") {
        Some(v) => {
            let id = v.trim().parse::<u64>().unwrap_or(0);
            if !cx.st.filters.contains_key(&id) {
                return Err(Fail::msg(
                    "invalid_filter",
                    "no rule has that id; omit `filter` to create one (note: `filter`, not \
                     `filtering`, on this method)",
                ));
            }
            Some(id)
        }
        None => None,
    };
    if let Some((dup, _)) = cx
        .st
        .filters
        .iter()
        .find(|(id, f)| Some(**id) != existing && f.callerid == callerid && f.did == did)
    {
        return Err(Fail::msg(
            "used_filter",
            format!("rule {dup} already filters this caller ID on this DID; update it instead"),
        ));
    }
    let id = existing.unwrap_or_else(|| {
        let id = cx.st.next.filter;
        cx.st.next.filter += 1;
        id
    });
    let get = |k: &str, d: &str| args.get(k).unwrap_or(d).to_owned();
    cx.st.filters.insert(
        id,
        Filter {
            callerid,
            did,
            routing: get("routing", "sys:hangup"),
            failover_unreachable: get("failover_unreachable", "none:"),
            failover_busy: get("failover_busy", "none:"),
            failover_noanswer: get("failover_noanswer", "none:"),
            note: get("note", ""),
        },
    );
    ok1("filtering", Value::String(id.to_string()))
}

pub(crate) fn del_filter(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = id_arg(args, "filtering").unwrap_or(0);
    if cx.st.filters.remove(&id).is_none() {
        return Err(Fail::msg(
            "invalid_filter",
            "no rule has that id (getCallerIDFiltering lists them)",
        ));
    }
    ok()
}

pub(crate) fn forwardings(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = args
        .get("forwarding")
        .map(|v| v.trim().parse::<u64>().unwrap_or(0));
    let rows: Vec<Value> = cx
        .st
        .forwardings
        .iter()
        .filter(|(fid, _)| id.is_none_or(|i| i == **fid))
        .map(|(fid, f)| {
            json!({
                "forwarding": fid.to_string(),
                "phone_number": f.phone_number,
                "callerid_override": f.callerid_override,
                "description": f.description,
                "dtmf_digits": f.dtmf_digits,
                "pause": f.pause,
                "diversion_header": f.diversion_header,
            })
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_forwarding"));
    }
    ok1("forwardings", Value::Array(rows))
}

pub(crate) fn set_forwarding(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let phone = args.phone("phone_number").unwrap_or_default();
    if cx.st.did(&phone).is_some() {
        return Err(Fail::msg(
            "invalid_forwarding_did",
            "a forwarding cannot point at one of the account's own DIDs",
        ));
    }
    let dtmf = args.get("dtmf_digits").unwrap_or("").to_owned();
    if !dtmf
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'w' | 'W'))
    {
        return Err(Fail::msg(
            "invalid_dtmf_digits",
            "dtmf_digits takes 0-9, *, # and w (half-second wait)",
        ));
    }
    let pause = args.get("pause").unwrap_or("0").trim().to_owned();
    if !pause
        .parse::<f64>()
        .is_ok_and(|p| (0.0..=10.0).contains(&p))
    {
        return Err(Fail::msg("invalid_pause", "pause is 0 to 10 seconds"));
    }
    let id = match args.get("forwarding") {
        Some(v) => {
            let id = v.trim().parse::<u64>().unwrap_or(0);
            if !cx.st.forwardings.contains_key(&id) {
                return Err(Fail::msg(
                    "invalid_forwarding",
                    "no forwarding has that id; omit `forwarding` to create one",
                ));
            }
            id
        }
        None => {
            if cx.st.forwardings.len() >= cx.limits.forwarding_limit {
                return Err(Fail::msg(
                    "forwards_exceeded",
                    format!(
                        "the account holds at most {} forwardings: delete one or update one by id",
                        cx.limits.forwarding_limit
                    ),
                ));
            }
            let id = cx.st.next.forwarding;
            cx.st.next.forwarding += 1;
            id
        }
    };
    let flag = |k: &str| if args.flag(k) == Some(true) { "1" } else { "0" }.to_owned();
    cx.st.forwardings.insert(
        id,
        Forwarding {
            phone_number: phone,
            callerid_override: args.get("callerid_override").map_or_else(
                || "-1".to_owned(),
                |v| normalize_phone(v).unwrap_or_else(|| v.to_owned()),
            ),
            description: args.get("description").unwrap_or("").to_owned(),
            dtmf_digits: dtmf,
            pause,
            diversion_header: flag("diversion_header"),
            attestation_a_enabled: flag("attestation_a_enabled"),
        },
    );
    ok1("forwarding", Value::String(id.to_string()))
}

pub(crate) fn del_forwarding(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let Some(id) = args.get("forwarding") else {
        return Err(Fail::msg(
            "missing_forwarding",
            "pass the id of the forwarding to delete",
        ));
    };
    let id = id.trim().parse::<u64>().unwrap_or(0);
    if cx.st.forwardings.remove(&id).is_none() {
        return Err(Fail::msg(
            "invalid_forwarding",
            "no forwarding has that id (getForwardings lists them)",
        ));
    }
    ok()
}
