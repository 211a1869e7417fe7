//! The generic record store: every resource family the spec declares (`[[family]]`) and no
//! handler models by hand. `set*` without an id creates a record (a new id, never reused),
//! with an id updates it (an unknown id is the family's `not_found` status), the matching `get*`
//! lists the records (or the one its id parameter names) and `del*` deletes one. A family's
//! records start as the example rows of its `get` method.
//!
//! A family with a `parent` (a queue's static members, a conference's member profiles) checks
//! the parent its calls name: an unknown one is the parent family's `not_found`, a record of
//! another parent the family's own; its `get` lists only the parent's records.

use serde_json::Value;

use crate::catalog::{self, Family, Method, ParentLink};

use super::core::{Answer, Ctx, Res, ok, ok1};
use super::state::{Record, Records};
use super::validate::{Args, Fail};

/// Answers `method`, one of `family`'s.
pub(crate) fn handle(
    family: &'static Family,
    method: &Method,
    args: &Args<'_>,
    cx: &mut Ctx<'_>,
) -> Res {
    let parent = match family.parent {
        Some(p) => match args.get(p.param) {
            Some(id) => Some(parent_of(family, id.trim(), cx)?),
            None => None,
        },
        None => None,
    };
    let records = store(cx, family);
    let out = if method.name == family.get {
        list(family, method, args, records, parent.as_ref())
    } else if method.name == family.set {
        set(family, args, records, parent.as_ref())
    } else {
        delete(family, args, records, parent.as_ref())
    }?;
    if let (Some(p), Some(link)) = (&parent, &out.link) {
        relink(cx, family, p, link);
    }
    if let Some(gone) = &out.unlinked {
        unlink_everywhere(cx, family, gone);
    }
    Ok(out.answer)
}

/// The records of `family`, seeded on first use.
fn store<'a>(cx: &'a mut Ctx<'_>, family: &'static Family) -> &'a mut Records {
    cx.st
        .records
        .entry(family.name.to_owned())
        .or_insert_with(|| seed(family))
}

/// The parent record a call names: its family, its id and (for a `list` link) the ids it lists.
struct ParentRecord {
    family: &'static Family,
    id: String,
    /// The children the parent lists (a `list` link; empty for a `field` link).
    children: Vec<String>,
}

/// The parent `id` of a call on `family`, or the parent family's `not_found`.
fn parent_of(family: &'static Family, id: &str, cx: &mut Ctx<'_>) -> Result<ParentRecord, Fail> {
    let Some(p) = family.parent else {
        return Err(Fail::new(family.not_found));
    };
    let Some(pf) = catalog::FAMILIES.iter().find(|f| f.name == p.family) else {
        return Err(Fail::new(family.not_found));
    };
    let Some(row) = store(cx, pf)
        .rows
        .iter()
        .find(|r| id_of(r, pf.id_field) == id)
    else {
        return Err(Fail::msg(
            pf.not_found,
            format!("no {} has the id {id}", singular(pf.name)),
        ));
    };
    let children = match p.link {
        ParentLink::List(field) => split_ids(&id_of(row, field)),
        ParentLink::Field(_) => Vec::new(),
    };
    Ok(ParentRecord {
        family: pf,
        id: id.to_owned(),
        children,
    })
}

fn split_ids(v: &str) -> Vec<String> {
    v.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `call_parking` → `call parking`; `queues` → `queue`.
fn singular(name: &str) -> String {
    let name = name.replace('_', " ");
    name.strip_suffix('s').map_or(name.clone(), str::to_owned)
}

/// Whether `row` belongs to `parent`.
fn belongs(family: &Family, row: &Record, parent: &ParentRecord) -> bool {
    match family.parent.map(|p| p.link) {
        Some(ParentLink::Field(field)) => id_of(row, field) == parent.id,
        Some(ParentLink::List(_)) => parent
            .children
            .iter()
            .any(|c| *c == id_of(row, family.id_field)),
        None => true,
    }
}

/// What a family call did besides its answer: a child to link to the named parent (a `list`
/// link), or a deleted record to take out of every parent's list.
struct Outcome {
    answer: Answer,
    link: Option<String>,
    unlinked: Option<String>,
}

fn answered(answer: Res) -> Result<Outcome, Fail> {
    Ok(Outcome {
        answer: answer?,
        link: None,
        unlinked: None,
    })
}

/// Adds `child`, a record of `family`, to the list of its parent record (a `list` link), once.
fn relink(cx: &mut Ctx<'_>, family: &Family, parent: &ParentRecord, child: &str) {
    let Some(ParentLink::List(field)) = family.parent.map(|p| p.link) else {
        return;
    };
    if parent.children.iter().any(|c| c == child) {
        return;
    }
    let pf = parent.family;
    if let Some(row) = store(cx, pf)
        .rows
        .iter_mut()
        .find(|r| id_of(r, pf.id_field) == parent.id)
    {
        let mut ids = split_ids(&id_of(row, field));
        ids.push(child.to_owned());
        row.insert(field.to_owned(), Value::String(ids.join(";")));
    }
}

/// Takes a deleted record of `family` out of every parent record that lists it.
fn unlink_everywhere(cx: &mut Ctx<'_>, family: &Family, gone: &str) {
    let Some(p) = family.parent else { return };
    let ParentLink::List(field) = p.link else {
        return;
    };
    let Some(pf) = catalog::FAMILIES.iter().find(|f| f.name == p.family) else {
        return;
    };
    for row in &mut store(cx, pf).rows {
        let ids = split_ids(&id_of(row, field));
        if ids.iter().any(|c| c == gone) {
            let kept: Vec<String> = ids.into_iter().filter(|c| c != gone).collect();
            row.insert(field.to_owned(), Value::String(kept.join(";")));
        }
    }
}

/// The id of a record as text (the wire sends ids as strings or numbers).
pub(crate) fn id_of(row: &Record, field: &str) -> String {
    match row.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The family's records before any change: its `get` method's example rows.
pub(crate) fn seed(family: &Family) -> Records {
    seed_rows(family.get, family.list_key, family.id_field)
}

/// Records seeded from the rows `get`'s example lists under `list_key`; the next id follows the
/// largest numeric `id_field`.
pub(crate) fn seed_rows(get: &str, list_key: &str, id_field: &str) -> Records {
    let rows: Vec<Record> = crate::catalog::method(get)
        .and_then(|m| serde_json::from_str::<Value>(m.example).ok())
        .and_then(|v| v.get(list_key).cloned())
        .map(|v| match v {
            Value::Array(items) => items,
            one @ Value::Object(_) => vec![one],
            _ => Vec::new(),
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .collect();
    let top = rows
        .iter()
        .filter_map(|r| id_of(r, id_field).parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    Records {
        next: top + 1,
        rows,
    }
}

fn list(
    family: &Family,
    method: &Method,
    args: &Args<'_>,
    records: &Records,
    parent: Option<&ParentRecord>,
) -> Result<Outcome, Fail> {
    let wanted = args.get(family.get_id);
    let rows: Vec<Record> = records
        .rows
        .iter()
        .filter(|r| parent.is_none_or(|p| belongs(family, r, p)))
        .cloned()
        .collect();
    answered(list_rows(
        method,
        family.list_key,
        &rows,
        family.id_field,
        wanted,
    ))
}

/// Lists `rows` under `key`, filtered on `field` when `wanted` is set; the method's empty
/// status when nothing matches.
pub(crate) fn list_rows(
    method: &Method,
    key: &str,
    rows: &[Record],
    field: &str,
    wanted: Option<&str>,
) -> Res {
    let rows: Vec<Value> = rows
        .iter()
        .filter(|r| wanted.is_none_or(|w| id_of(r, field) == w))
        .cloned()
        .map(Value::Object)
        .collect();
    if rows.is_empty()
        && let Some(empty) = method.empty_statuses.first()
    {
        return Err(Fail::new(empty));
    }
    ok1(key, Value::Array(rows))
}

fn set(
    family: &'static Family,
    args: &Args<'_>,
    records: &mut Records,
    parent: Option<&ParentRecord>,
) -> Result<Outcome, Fail> {
    let dry_run = args.flag("test") == Some(true);
    let id = match args.get(family.set_id) {
        Some(id) => {
            let Some(row) = records
                .rows
                .iter()
                .find(|r| id_of(r, family.id_field) == id)
            else {
                return Err(Fail::msg(
                    family.not_found,
                    format!("no {} has the id {id}", family.name.replace('_', " ")),
                ));
            };
            // A field link names the record's parent: an update through another one is refused.
            if let (Some(p), Some(ParentLink::Field(_))) = (parent, family.parent.map(|p| p.link))
                && !belongs(family, row, p)
            {
                return Err(not_in_parent(family, id, p));
            }
            id.to_owned()
        }
        None => {
            let id = records.next.to_string();
            if !dry_run {
                records.next += 1;
                // A new record has every field the listed records have, empty until set.
                let mut row: Record = records
                    .rows
                    .first()
                    .map(|r| {
                        r.keys()
                            .map(|k| (k.clone(), Value::String(String::new())))
                            .collect()
                    })
                    .unwrap_or_default();
                row.insert(family.id_field.to_owned(), Value::String(id.clone()));
                records.rows.push(row);
            }
            id
        }
    };
    if !dry_run
        && let Some(row) = records
            .rows
            .iter_mut()
            .find(|r| id_of(r, family.id_field) == id)
    {
        for &(name, value) in args.pairs() {
            if name == family.set_id || name == "test" {
                continue;
            }
            // The parent parameter is kept in the link field, or in the parent's own list.
            let field = match family.parent {
                Some(p) if p.param == name => match p.link {
                    ParentLink::Field(f) => f,
                    ParentLink::List(_) => continue,
                },
                _ => family
                    .fields
                    .iter()
                    .find(|(p, _)| *p == name)
                    .map_or(name, |(_, f)| *f),
            };
            row.insert(field.to_owned(), Value::String(value.to_owned()));
        }
    }
    let answer = match family.reply_key {
        Some(key) => ok1(key, Value::String(id.clone())),
        None => ok(),
    }?;
    Ok(Outcome {
        answer,
        link: (!dry_run).then_some(id),
        unlinked: None,
    })
}

/// A record that exists but belongs to another parent: the family's own `not_found`.
fn not_in_parent(family: &Family, id: &str, parent: &ParentRecord) -> Fail {
    Fail::msg(
        family.not_found,
        format!(
            "{} {id} does not belong to {} {}",
            singular(family.name),
            singular(parent.family.name),
            parent.id
        ),
    )
}

fn delete(
    family: &'static Family,
    args: &Args<'_>,
    records: &mut Records,
    parent: Option<&ParentRecord>,
) -> Result<Outcome, Fail> {
    let key = family.del_id.unwrap_or(family.set_id);
    let id = args.get(key).unwrap_or_default();
    let Some(at) = records
        .rows
        .iter()
        .position(|r| id_of(r, family.id_field) == id)
    else {
        return Err(Fail::msg(
            family.not_found,
            format!("no {} has the id {id}", family.name.replace('_', " ")),
        ));
    };
    if let Some(p) = parent
        && !belongs(family, &records.rows[at], p)
    {
        return Err(not_in_parent(family, id, p));
    }
    let dry_run = args.flag("test") == Some(true);
    if !dry_run {
        records.rows.remove(at);
    }
    let answer = if family.empty_del {
        Answer::Empty
    } else {
        ok()?
    };
    Ok(Outcome {
        answer,
        link: None,
        unlinked: (!dry_run).then(|| id.to_owned()),
    })
}
