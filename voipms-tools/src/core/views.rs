//! The JSON views of what the SDK's helpers return: phonebook groups and entries, spam
//! candidates and verdicts, Caller ID filters, recordings, messages, call records, and the calls
//! an operation made. The CLI's `--format json` and the MCP server's structured results are the
//! same documents, built here once.

use serde_json::{Map, Value, json};
use voipms_sdk::account::Balance;
use voipms_sdk::api::CdrRecord;
use voipms_sdk::dates::DateRange;
use voipms_sdk::filters::{Filter, FilterMatch};
use voipms_sdk::ops::{ApiCall, CallOutcome};
use voipms_sdk::phonebook::{Entry, Group, GroupRemoval, NumberAddition, PhonebookSnapshot};
use voipms_sdk::recordings::RecordingInfo;
use voipms_sdk::sms::{Direction, Message, MessageKind};
use voipms_sdk::spam::{
    CallerStats, NumberReport, SpamCandidate, SpamMark, SpamSuggestions, SpamUnmark, Verdict,
};
use voipms_sdk::{Decimal, Params};

fn text(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::String)
}

fn decimal(v: &Option<Decimal>) -> Value {
    v.as_ref()
        .map_or(Value::Null, |d| Value::String(d.to_string()))
}

/// The balance; with `advanced`, today's and all-time spending too.
pub fn balance(b: &Balance, advanced: bool) -> Value {
    let mut o = Map::new();
    o.insert("balance".into(), decimal(&b.current));
    if advanced {
        o.insert("spent_today".into(), decimal(&b.spent_today));
        o.insert("calls_today".into(), json!(b.calls_today));
        o.insert("time_today".into(), text(&b.time_today));
        o.insert("spent_total".into(), decimal(&b.spent_total));
        o.insert("calls_total".into(), json!(b.calls_total));
        o.insert("time_total".into(), text(&b.time_total));
    }
    Value::Object(o)
}

/// A phonebook group.
pub fn group(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "members": g.members, "member_count": g.members.len()})
}

/// A phonebook entry, with the names of the groups holding it.
pub fn entry(e: &Entry, snap: &PhonebookSnapshot) -> Value {
    let groups: Vec<&str> = snap
        .groups_holding(e.id)
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    json!({
        "id": e.id,
        "name": e.name,
        "number": e.number,
        "normalized": e.normalized.as_ref().map(ToString::to_string),
        "speed_dial": e.speed_dial,
        "callerid": e.callerid,
        "note": e.note,
        "groups": groups,
    })
}

/// What adding a number to a group did.
pub fn addition(r: &NumberAddition, group: &str) -> Value {
    json!({
        "changed": r.changed(),
        "other_groups_named": r.other_groups_named,
        "group": group,
        "group_id": r.group_id,
        "group_created": r.group_created,
        "number": r.number.to_string(),
        "entry_id": r.entry_id,
        "entry_created": r.entry_created,
        "already_member": r.already_member,
        "added": r.added,
        "other_entries": r.other_entries,
        "race_retries": r.race_retries,
        "calls": calls(&r.calls),
    })
}

/// What removing a number from a group did.
pub fn removal(r: &GroupRemoval, group: &str) -> Value {
    json!({
        "changed": r.changed(),
        "group": group,
        "group_id": r.group_id,
        "number": r.number.to_string(),
        "removed_entries": r.removed_entries,
        "deleted_entries": r.deleted_entries,
        "race_retries": r.race_retries,
        "calls": calls(&r.calls),
    })
}

/// What the calls of one number show.
pub fn stats(s: &CallerStats) -> Value {
    json!({
        "calls": s.calls,
        "answered": s.answered,
        "unanswered": s.unanswered,
        "short": s.short,
        "long": s.long,
        "total_seconds": s.total_seconds,
        "days": s.days,
        "odd_hours": s.odd_hours,
        "called_back": s.called_back,
        "first_seen": s.first_seen.map(|t| t.to_string()),
        "last_seen": s.last_seen.map(|t| t.to_string()),
        "names": s.names,
    })
}

/// A ranked spam candidate with the reasons behind its score.
pub fn candidate(c: &SpamCandidate) -> Value {
    json!({
        "number": c.number.to_string(),
        "score": c.score,
        "reasons": c.reasons.iter().map(|r| json!({
            "signal": r.signal.as_str(),
            "points": r.points,
            "detail": r.detail,
        })).collect::<Vec<_>>(),
        "stats": stats(&c.stats),
        "already_marked": c.already_marked,
        "blocked_by": c.blocked_by,
        "groups": c.groups,
    })
}

/// Spam suggestions over a date range.
pub fn suggestions(found: &SpamSuggestions, group: &str) -> Value {
    json!({
        "from": found.range.from.to_string(),
        "to": found.range.to.to_string(),
        "group": group,
        "rows_scanned": found.rows_scanned,
        "candidates": found.candidates.iter().map(candidate).collect::<Vec<_>>(),
        "anonymous": stats(&found.anonymous),
    })
}

/// Whether a number is blocked, in the spam group, a contact, or unknown.
pub fn verdict(v: &Verdict) -> Value {
    match v {
        Verdict::Blocked { filters } => json!({"verdict": "blocked", "filters": filters}),
        Verdict::InSpamGroup => json!({"verdict": "in_spam_group"}),
        Verdict::Contact { groups } => json!({"verdict": "contact", "groups": groups}),
        Verdict::Unknown => json!({"verdict": "unknown"}),
    }
}

/// A call record, in brief (the fields a number's history needs).
pub fn call_brief(r: &CdrRecord) -> Value {
    json!({
        "date": r.date.map(|t| t.to_string()),
        "callerid": r.callerid,
        "destination": r.destination,
        "disposition": r.disposition.as_ref().map(|d| d.as_str()),
        "seconds": r.seconds,
        "description": r.description,
        "account": r.account,
    })
}

/// Everything known of one number: verdict, phonebook, filters, calls and messages.
pub fn number_report(r: &NumberReport, range: &DateRange) -> Value {
    json!({
        "number": r.number.to_string(),
        "verdict": verdict(&r.verdict),
        "from": range.from.to_string(),
        "to": range.to.to_string(),
        "entries": r.entries.iter().map(|e| json!({
            "id": e.id, "name": e.name, "number": e.number, "note": e.note,
        })).collect::<Vec<_>>(),
        "groups": r.groups.iter().map(|g| json!({"id": g.id, "name": g.name})).collect::<Vec<_>>(),
        "filters": r.filters.iter().map(|f| json!({
            "id": f.filter.id,
            "callerid": f.filter.rule.callerid,
            "did": f.filter.rule.did,
            "routing": f.filter.rule.routing,
            "note": f.filter.rule.note,
            "blocking": f.filter.rule.is_blocking(),
            "match": match f.how {
                FilterMatch::Number => json!("number"),
                FilterMatch::Group(id) => json!({"group": id}),
                FilterMatch::AnyPhonebookEntry => json!("any_phonebook_entry"),
            },
        })).collect::<Vec<_>>(),
        "stats": stats(&r.stats),
        "recent_calls": r.recent_calls.iter().map(call_brief).collect::<Vec<_>>(),
        "messages": r.messages.iter().map(message).collect::<Vec<_>>(),
    })
}

/// What marking a number as spam did.
pub fn mark(r: &SpamMark, group: &str) -> Value {
    json!({
        "changed": r.changed(),
        "number": r.number.to_string(),
        "group": group,
        "group_id": r.group_id,
        "group_created": r.group_created,
        "entry_id": r.entry_id,
        "entry_created": r.entry_created,
        "already_member": r.already_member,
        "added": r.added,
        "warnings": r.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "filter_id": r.filter_id,
        "filter_action": r.filter_action.as_str(),
        "race_retries": r.race_retries,
        "calls": calls(&r.calls),
    })
}

/// What unmarking a number did.
pub fn unmark(r: &SpamUnmark, group: &str) -> Value {
    json!({
        "changed": r.changed(),
        "number": r.number.to_string(),
        "group": group,
        "group_id": r.group_id,
        "removed_entries": r.removed_entries,
        "deleted_entries": r.deleted_entries,
        "deleted_filters": r.deleted_filters,
        "deleted_group": r.deleted_group,
        "race_retries": r.race_retries,
        "calls": calls(&r.calls),
    })
}

/// A Caller ID filter rule.
pub fn filter(f: &Filter) -> Value {
    let r = &f.rule;
    json!({
        "id": f.id,
        "callerid": r.callerid,
        "did": r.did,
        "routing": r.routing,
        "blocking": r.is_blocking(),
        "failover_unreachable": r.failover_unreachable,
        "failover_busy": r.failover_busy,
        "failover_noanswer": r.failover_noanswer,
        "note": r.note,
    })
}

/// A call recording's listing.
pub fn recording(r: &RecordingInfo) -> Value {
    json!({
        "id": r.id,
        "datetime": r.datetime.map(|t| t.to_string()),
        "direction": r.direction,
        "destination": r.destination,
        "subaccount": r.subaccount,
        "duration": r.duration,
    })
}

/// An SMS or MMS.
pub fn message(msg: &Message) -> Value {
    json!({
        "kind": match msg.kind { MessageKind::Sms => "sms", MessageKind::Mms => "mms" },
        "id": msg.id,
        "date": msg.date.map(|t| t.to_string()),
        "direction": msg.direction.map(direction_word),
        "did": msg.did,
        "contact": msg.contact,
        "text": msg.text,
        "carrier_status": msg.carrier_status,
        "media": msg.media,
    })
}

/// `received` or `sent`.
pub fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Received => "received",
        Direction::Sent => "sent",
    }
}

/// The wire fields of a call record, in the catalog's order.
pub fn cdr_row(r: &CdrRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "date".into(),
        r.date.map_or(Value::Null, |d| {
            Value::String(d.format("%Y-%m-%d %H:%M:%S").to_string())
        }),
    );
    m.insert("callerid".into(), text(&r.callerid));
    m.insert("destination".into(), text(&r.destination));
    m.insert("description".into(), text(&r.description));
    m.insert("account".into(), text(&r.account));
    m.insert(
        "disposition".into(),
        r.disposition
            .as_ref()
            .map_or(Value::Null, |d| Value::String(d.to_string())),
    );
    m.insert("duration".into(), text(&r.duration));
    m.insert("seconds".into(), r.seconds.map_or(Value::Null, Value::from));
    m.insert("rate".into(), decimal(&r.rate));
    m.insert("total".into(), decimal(&r.total));
    m.insert("uniqueid".into(), text(&r.uniqueid));
    m.insert("destination_type".into(), text(&r.destination_type));
    m.insert("call_logs".into(), text(&r.call_logs));
    m.insert("ip".into(), text(&r.ip));
    m.insert("useragent".into(), text(&r.user_agent));
    m
}

/// How a call went, as a stable word and the detail, if any.
pub fn outcome(outcome: &CallOutcome) -> (&'static str, Option<&String>) {
    match outcome {
        CallOutcome::Ok => ("ok", None),
        CallOutcome::Refused(e) => ("refused", Some(e)),
        CallOutcome::LostReplyApplied(e) => ("lost_reply_applied", Some(e)),
        CallOutcome::LostReplyNotApplied(e) => ("lost_reply_not_applied", Some(e)),
        CallOutcome::Unconfirmed(e) => ("unconfirmed", Some(e)),
        CallOutcome::Failed(e) => ("failed", Some(e)),
    }
}

/// A call as JSON: method, parameters and, for calls made, how it went.
pub fn call(method: &str, params: &Params, how: Option<&CallOutcome>) -> Value {
    let params: Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    let mut o = json!({"method": method, "params": params});
    if let Some(how) = how {
        let (status, detail) = outcome(how);
        o["outcome"] = Value::String(status.to_owned());
        if let Some(d) = detail {
            o["detail"] = Value::String(d.clone());
        }
    }
    o
}

/// The calls an operation made.
pub fn calls(list: &[ApiCall]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| call(c.method, &c.params, Some(&c.outcome)))
            .collect(),
    )
}
