//! The generic record store: every resource family the spec declares (`[[family]]`) and no
//! handler models by hand. `set*` without an id creates a record (a new id, never reused),
//! with an id updates it (an unknown id is the family's `not_found` status), the matching `get*`
//! lists the records (or the one its id parameter names) and `del*` deletes one. A family's
//! records start as the example rows of its `get` method.

use serde_json::Value;

use crate::catalog::{Family, Method};

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
    let records = cx
        .st
        .records
        .entry(family.name.to_owned())
        .or_insert_with(|| seed(family));
    if method.name == family.get {
        list(family, method, args, records)
    } else if method.name == family.set {
        set(family, args, records)
    } else {
        delete(family, args, records)
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

fn list(family: &Family, method: &Method, args: &Args<'_>, records: &Records) -> Res {
    let wanted = args.get(family.get_id);
    list_rows(
        method,
        family.list_key,
        &records.rows,
        family.id_field,
        wanted,
    )
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

fn set(family: &'static Family, args: &Args<'_>, records: &mut Records) -> Res {
    let dry_run = args.flag("test") == Some(true);
    let id = match args.get(family.set_id) {
        Some(id) => {
            if !records.rows.iter().any(|r| id_of(r, family.id_field) == id) {
                return Err(Fail::msg(
                    family.not_found,
                    format!("no {} has the id {id}", family.name.replace('_', " ")),
                ));
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
            let field = family
                .fields
                .iter()
                .find(|(p, _)| *p == name)
                .map_or(name, |(_, f)| *f);
            row.insert(field.to_owned(), Value::String(value.to_owned()));
        }
    }
    match family.reply_key {
        Some(key) => ok1(key, Value::String(id)),
        None => ok(),
    }
}

fn delete(family: &'static Family, args: &Args<'_>, records: &mut Records) -> Res {
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
    if args.flag("test") != Some(true) {
        records.rows.remove(at);
    }
    if family.empty_del {
        Ok(Answer::Empty)
    } else {
        ok()
    }
}
