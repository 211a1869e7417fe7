//! Writes the spec models by hand (`sandbox = { model = "hand" | "action" }`) that do not fit the
//! generic family store: records keyed by name or DID (music on hold, locations, e911 addresses,
//! fax numbers), creates through a method of their own (signupClient), lists of plain values
//! (vPRI DIDs), and operations whose effect shows elsewhere (a client's charges, a conference's
//! members, a fax message's folder). Each stores what it is told and its read reads it back.

use serde_json::{Value, json};

use crate::catalog::{self, Method};

use super::core::{Answer, Ctx, Res, ok, ok1};
use super::records::{self, id_of, seed, seed_rows};
use super::state::{Record, Records};
use super::time;
use super::validate::{Args, Fail, is_true};

/// The records kept under `name`, seeded on first use.
fn store<'a>(cx: &'a mut Ctx<'_>, name: &str, seed: impl FnOnce() -> Records) -> &'a mut Records {
    cx.st.records.entry(name.to_owned()).or_insert_with(seed)
}

fn digits(v: &str) -> String {
    v.chars().filter(char::is_ascii_digit).collect()
}

fn dry(args: &Args<'_>) -> bool {
    args.flag("test") == Some(true)
}

/// Lists `rows` under `key`, filtered on `field` when `wanted` is set.
fn list(method: &Method, key: &str, rows: &[Record], field: &str, wanted: Option<&str>) -> Res {
    records::list_rows(method, key, rows, field, wanted)
}

/// Removes the row whose `field` is `key`; `status` and `missing` when there is none.
fn remove_row(
    rows: &mut Vec<Record>,
    field: &str,
    key: &str,
    status: &'static str,
    missing: String,
) -> Res {
    let Some(at) = rows.iter().position(|r| id_of(r, field) == key) else {
        return Err(Fail::msg(status, missing));
    };
    rows.remove(at);
    ok()
}

/// Copies the call's parameters into `row`, through `map` (parameter → field) where named.
fn write(row: &mut Record, args: &Args<'_>, skip: &[&str], map: &[(&str, &str)]) {
    for &(name, value) in args.pairs() {
        if name == "test" || skip.contains(&name) {
            continue;
        }
        let field = map
            .iter()
            .find(|(p, _)| *p == name)
            .map_or(name, |(_, f)| *f);
        row.insert(field.to_owned(), Value::String(value.to_owned()));
    }
}

// ---- Music on hold: keyed by name. ----

fn moh<'a>(cx: &'a mut Ctx<'_>) -> &'a mut Records {
    store(cx, "music_on_hold", || {
        seed_rows("getMusicOnHold", "music_on_hold", "value")
    })
}

pub(crate) fn get_moh(m: &Method, cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let wanted = args.get("music_on_hold");
    list(m, "music_on_hold", &moh(cx).rows, "value", wanted)
}

/// setMusicOnHold: creates the named group or replaces its settings.
pub(crate) fn set_moh(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let name = args.get("name").unwrap_or_default().to_owned();
    let rows = &mut moh(cx).rows;
    let at = match rows.iter().position(|r| id_of(r, "value") == name) {
        Some(at) => at,
        None => {
            let mut row = Record::new();
            for k in [
                "value",
                "description",
                "recordings",
                "total",
                "volume",
                "sort",
            ] {
                row.insert(k.into(), json!(""));
            }
            row.insert("value".into(), json!(name));
            row.insert("custom".into(), json!("1"));
            rows.push(row);
            rows.len() - 1
        }
    };
    let row = &mut rows[at];
    write(row, args, &["name"], &[]);
    let total = row
        .get("recordings")
        .and_then(Value::as_str)
        .map_or(0, |r| r.split(',').filter(|s| !s.trim().is_empty()).count());
    row.insert("total".into(), json!(total.to_string()));
    ok()
}

pub(crate) fn del_moh(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let name = args.get("music_on_hold").unwrap_or_default();
    let missing = format!("no music on hold is named {name}");
    remove_row(
        &mut moh(cx).rows,
        "value",
        name,
        "invalid_musiconhold",
        missing,
    )
}

// ---- Locations: plain names. ----

fn locations<'a>(cx: &'a mut Ctx<'_>) -> &'a mut Records {
    store(cx, "locations", || {
        // The example in the live shape: an object keyed by id (a plain list of names while the
        // built-in location `0` is the only one).
        let example = catalog::method("getLocations")
            .and_then(|m| serde_json::from_str::<Value>(m.example).ok())
            .map(|v| v["locations"].clone())
            .unwrap_or(Value::Null);
        let pairs: Vec<(String, Value)> = match example {
            Value::Object(map) => map.into_iter().collect(),
            Value::Array(names) => names
                .into_iter()
                .enumerate()
                .map(|(i, n)| (i.to_string(), n))
                .collect(),
            _ => Vec::new(),
        };
        let rows: Vec<Record> = pairs
            .into_iter()
            .map(|(id, n)| {
                let mut r = Record::new();
                r.insert("id".into(), json!(id));
                r.insert("name".into(), n);
                r
            })
            .collect();
        let next = rows
            .iter()
            .filter_map(|r| id_of(r, "id").parse::<u64>().ok())
            .max()
            .map_or(1, |m| m + 1);
        Records { next, rows }
    })
}

pub(crate) fn get_locations(cx: &mut Ctx<'_>) -> Res {
    let rows = &locations(cx).rows;
    let only_builtin = rows.iter().all(|r| id_of(r, "id") == "0");
    if only_builtin {
        let names: Vec<Value> = rows
            .iter()
            .map(|r| r.get("name").cloned().unwrap_or(Value::Null))
            .collect();
        return ok1("locations", Value::Array(names));
    }
    let map: serde_json::Map<String, Value> = rows
        .iter()
        .map(|r| {
            (
                id_of(r, "id"),
                r.get("name").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    ok1("locations", Value::Object(map))
}

pub(crate) fn set_location(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let name = args.get("name").unwrap_or_default().trim().to_owned();
    let recs = locations(cx);
    if recs.rows.iter().any(|r| id_of(r, "name") == name) {
        return Err(Fail::msg(
            "invalid_location",
            format!("a location is already named {name}"),
        ));
    }
    let id = recs.next;
    recs.next += 1;
    let mut row = Record::new();
    row.insert("id".into(), json!(id.to_string()));
    row.insert("name".into(), json!(name));
    recs.rows.push(row);
    ok()
}

pub(crate) fn del_location(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let (name, id) = (args.get("name"), args.get("id"));
    let rows = &mut locations(cx).rows;
    let Some(at) = rows.iter().position(|r| {
        name.is_some_and(|n| id_of(r, "name") == n) || id.is_some_and(|i| id_of(r, "id") == i)
    }) else {
        return Err(Fail::msg("invalid_location", "no such location"));
    };
    rows.remove(at);
    ok()
}

// ---- Reseller clients, their thresholds, charges and deposits. ----

fn clients<'a>(cx: &'a mut Ctx<'_>) -> &'a mut Records {
    store(cx, "clients", || {
        seed_rows("getClients", "clients", "client")
    })
}

fn has_client(cx: &mut Ctx<'_>, args: &Args<'_>) -> Result<String, Fail> {
    let client = args.get("client").unwrap_or_default().to_owned();
    if clients(cx)
        .rows
        .iter()
        .any(|r| id_of(r, "client") == client)
    {
        Ok(client)
    } else {
        Err(Fail::msg(
            "invalid_client",
            format!("no reseller client has the id {client}"),
        ))
    }
}

pub(crate) fn get_clients(m: &Method, cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let wanted = args.get("client");
    list(m, "clients", &clients(cx).rows, "client", wanted)
}

/// The client fields a signup or an update writes.
const CLIENT_FIELDS: &[&str] = &[
    "email",
    "password",
    "company",
    "firstname",
    "lastname",
    "address",
    "city",
    "state",
    "country",
    "zip",
    "phone_number",
    "balance_management",
];

pub(crate) fn signup_client(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    if args.get("email") != args.get("confirm_email") {
        return Err(Fail::new("mismatch_email_confirm"));
    }
    if args.get("password") != args.get("confirm_password") {
        return Err(Fail::new("mismatch_password_confirm"));
    }
    let recs = clients(cx);
    let id = recs.next.to_string();
    recs.next += 1;
    let mut row = Record::new();
    row.insert("client".into(), json!(id));
    for k in CLIENT_FIELDS {
        row.insert((*k).into(), json!(args.get(k).unwrap_or_default()));
    }
    recs.rows.push(row);
    ok1("client", json!(id))
}

pub(crate) fn set_client(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let client = has_client(cx, args)?;
    if let Some(row) = clients(cx)
        .rows
        .iter_mut()
        .find(|r| id_of(r, "client") == client)
    {
        write(row, args, &["client"], &[]);
    }
    ok()
}

pub(crate) fn del_client(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let client = has_client(cx, args)?;
    clients(cx).rows.retain(|r| id_of(r, "client") != client);
    for what in ["thresholds", "charges", "deposits"] {
        cx.st.records.remove(&format!("{what}/{client}"));
    }
    ok()
}

pub(crate) fn get_threshold(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let client = has_client(cx, args)?;
    let info = match cx.st.records.get(&format!("thresholds/{client}")) {
        Some(r) => r.rows.first().cloned().unwrap_or_default(),
        None => super::examples::example("getClientThreshold")["threshold_information"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
    };
    ok1("threshold_information", Value::Object(info))
}

pub(crate) fn set_threshold(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let client = has_client(cx, args)?;
    let mut row = Record::new();
    row.insert(
        "threshold".into(),
        json!(args.get("threshold").unwrap_or_default()),
    );
    row.insert("email".into(), json!(args.get("email").unwrap_or_default()));
    cx.st.records.insert(
        format!("thresholds/{client}"),
        Records {
            next: 1,
            rows: vec![row],
        },
    );
    ok()
}

/// getCharges / getDeposits: the client's rows (the example's until a first change).
pub(crate) fn get_ledger(cx: &mut Ctx<'_>, args: &Args<'_>, key: &'static str) -> Res {
    let client = has_client(cx, args)?;
    let get = if key == "charges" {
        "getCharges"
    } else {
        "getDeposits"
    };
    let rows = store(cx, &format!("{key}/{client}"), || seed_rows(get, key, "id"))
        .rows
        .clone();
    ok1(
        key,
        Value::Array(rows.into_iter().map(Value::Object).collect()),
    )
}

/// addCharge / addPayment: a row in the client's charges or deposits.
pub(crate) fn add_ledger(cx: &mut Ctx<'_>, args: &Args<'_>, key: &'static str) -> Res {
    let client = has_client(cx, args)?;
    let amount_param = if key == "charges" {
        "charge"
    } else {
        "payment"
    };
    if dry(args) {
        return ok();
    }
    let now = cx.st.tick();
    let get = if key == "charges" {
        "getCharges"
    } else {
        "getDeposits"
    };
    let recs = store(cx, &format!("{key}/{client}"), || seed_rows(get, key, "id"));
    let id = recs.next.max(900_000);
    recs.next = id + 1;
    let mut row = Record::new();
    row.insert("id".into(), json!(id.to_string()));
    row.insert("date".into(), json!(time::date(time::date_of(now))));
    row.insert(
        "amount".into(),
        json!(args.get(amount_param).unwrap_or_default()),
    );
    row.insert(
        "description".into(),
        json!(args.get("description").unwrap_or_default()),
    );
    recs.rows.push(row);
    ok()
}

// ---- e911: one address per DID. ----

fn e911<'a>(cx: &'a mut Ctx<'_>) -> &'a mut Records {
    store(cx, "e911", || {
        let info = super::examples::example("e911Info")["info"].clone();
        Records {
            next: 1,
            rows: info.as_object().cloned().into_iter().collect(),
        }
    })
}

/// The DID named by `did`, digits only, when it is one of the account's; `invalid_did` otherwise,
/// as VoIP.ms answers for a number it does not hold.
fn own_did(cx: &Ctx<'_>, args: &Args<'_>) -> Result<String, Fail> {
    let did = digits(args.get("did").unwrap_or_default());
    if cx.st.did(&did).is_none() {
        return Err(Fail::msg(
            "invalid_did",
            format!("{did} is not one of the account's DIDs (getDIDsInfo lists them)"),
        ));
    }
    Ok(did)
}

/// An account DID without an address: e911 is not active on it.
fn e911_disabled(did: &str) -> Fail {
    Fail::msg(
        "e911_disabled",
        format!("{did} has no e911 address (e911Provision registers one)"),
    )
}

pub(crate) fn e911_info(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let did = own_did(cx, args)?;
    match e911(cx).rows.iter().find(|r| id_of(r, "did") == did) {
        Some(row) => ok1("info", Value::Object(row.clone())),
        None => Err(e911_disabled(&did)),
    }
}

/// e911Validate registers nothing, but only for a DID of the account.
pub(crate) fn e911_validate(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    own_did(cx, args)?;
    ok()
}

/// e911Provision / e911ProvisionManually (new address) and e911Update (existing one).
pub(crate) fn e911_write(cx: &mut Ctx<'_>, args: &Args<'_>, update: bool) -> Res {
    let did = own_did(cx, args)?;
    let exists = e911(cx).rows.iter().any(|r| id_of(r, "did") == did);
    if update && !exists {
        return Err(Fail::msg(
            "no_provision_update",
            format!("{did} has no e911 address to update"),
        ));
    }
    if !update && exists {
        return Err(Fail::msg(
            "no_provision",
            format!("{did} already has an e911 address"),
        ));
    }
    if dry(args) {
        return ok();
    }
    let rows = &mut e911(cx).rows;
    if !update {
        let mut row = Record::new();
        row.insert("did".into(), json!(did));
        row.insert("status".into(), json!("1"));
        rows.push(row);
    }
    if let Some(row) = rows.iter_mut().find(|r| id_of(r, "did") == did) {
        write(row, args, &["did"], &[("zip", "zip_code")]);
    }
    ok()
}

pub(crate) fn e911_cancel(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let did = own_did(cx, args)?;
    let rows = &mut e911(cx).rows;
    let Some(at) = rows.iter().position(|r| id_of(r, "did") == did) else {
        return Err(e911_disabled(&did));
    };
    rows.remove(at);
    ok()
}

/// A cancelled DID leaves what this module keeps about it: its e911 address and its vPRI.
pub(crate) fn forget_did(cx: &mut Ctx<'_>, did: &str) {
    e911(cx).rows.retain(|r| id_of(r, "did") != did);
    if let Some(vpri) = vpri_of(cx, did) {
        vpri_dids(cx, &vpri).rows.retain(|r| id_of(r, "did") != did);
    }
}

// ---- Fax numbers and fax messages. ----

fn fax_numbers<'a>(cx: &'a mut Ctx<'_>) -> &'a mut Records {
    store(cx, "fax_numbers", || {
        seed_rows("getFaxNumbersInfo", "numbers", "id")
    })
}

pub(crate) fn get_fax_numbers(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let wanted = args.get("did").map(digits);
    let rows: Vec<Value> = fax_numbers(cx)
        .rows
        .iter()
        .filter(|r| {
            wanted
                .as_ref()
                .is_none_or(|w| digits(&id_of(r, "did")) == *w)
        })
        .cloned()
        .map(Value::Object)
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_numbers"));
    }
    ok1("numbers", Value::Array(rows))
}

/// Fax-number parameters stored under the fields getFaxNumbersInfo lists.
const FAX_FIELDS: &[(&str, &str)] = &[
    ("email_enable", "email_enabled"),
    ("email_attach_file", "attach_file"),
    ("url_callback", "url"),
    ("url_callback_enable", "url_enabled"),
    ("url_callback_retry", "retry"),
];

/// The switches each fax-number setter turns off when the call leaves them out (documented
/// "Default: false"); `url_callback_retry` has no documented default and is left alone.
fn fax_defaults(method: &str) -> &'static [&'static str] {
    match method {
        "setFaxNumberEmail" => &["email_enable", "email_attach_file"],
        "setFaxNumberURLCallback" => &["url_callback_enable"],
        _ => &["email_enable", "email_attach_file", "url_callback_enable"],
    }
}

/// setFaxNumberInfo / setFaxNumberEmail / setFaxNumberURLCallback.
pub(crate) fn set_fax_number(cx: &mut Ctx<'_>, method: &str, args: &Args<'_>) -> Res {
    let did = digits(args.get("did").unwrap_or_default());
    let test = dry(args);
    let Some(row) = fax_numbers(cx)
        .rows
        .iter_mut()
        .find(|r| digits(&id_of(r, "did")) == did)
    else {
        return Err(Fail::msg(
            "invalid_did",
            format!("{did} is not one of the account's fax numbers"),
        ));
    };
    if test {
        return ok();
    }
    write(row, args, &["did", "max_attempts"], FAX_FIELDS);
    let field = |param: &'static str| -> &'static str {
        FAX_FIELDS
            .iter()
            .find(|(p, _)| *p == param)
            .map_or(param, |(_, f)| *f)
    };
    for param in [
        "email_enable",
        "email_attach_file",
        "url_callback_enable",
        "url_callback_retry",
    ] {
        let value = match args.get(param) {
            Some(v) => is_true(v),
            None if fax_defaults(method).contains(&param) => false,
            None => continue,
        };
        row.insert(field(param).into(), json!(if value { "1" } else { "0" }));
    }
    // setFaxNumberInfo without max_attempts resets it to 10; 0 keeps the current value (live).
    if method == "setFaxNumberInfo" {
        match args.int("max_attempts") {
            Some(0) => {}
            Some(n) => {
                row.insert("max_attempts".into(), json!(n.to_string()));
            }
            None => {
                row.insert("max_attempts".into(), json!("10"));
            }
        }
    }
    ok()
}

/// orderFaxNumber: `quantity` new numbers in the location's area code.
pub(crate) fn order_fax(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let quantity = args.int("quantity").unwrap_or(1).clamp(1, 20) as u64;
    let test = dry(args);
    let recs = fax_numbers(cx);
    let mut dids = Vec::new();
    for _ in 0..quantity {
        let id = recs.next;
        let did = format!("587883{:04}", 1590 + id % 8000);
        dids.push(json!(did));
        if test {
            continue;
        }
        recs.next += 1;
        let mut row: Record = recs.rows.first().cloned().unwrap_or_default();
        for v in row.values_mut() {
            *v = json!("");
        }
        row.insert("id".into(), json!(id.to_string()));
        row.insert("did".into(), json!(did));
        row.insert("description".into(), json!("Canada, AB, EDMONTON"));
        row.insert("country".into(), json!("Canada"));
        write(&mut row, args, &["location", "quantity"], FAX_FIELDS);
        recs.rows.push(row);
    }
    ok1("dids", Value::Array(dids))
}

pub(crate) fn cancel_fax(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = args.get("id").unwrap_or_default().to_owned();
    let test = dry(args);
    let rows = &mut fax_numbers(cx).rows;
    let Some(at) = rows.iter().position(|r| id_of(r, "id") == id) else {
        return Err(Fail::msg(
            "invalid_id",
            format!("no fax number has the id {id}"),
        ));
    };
    let did = id_of(&rows[at], "did");
    if !test {
        rows.remove(at);
    }
    ok1("deleted_did", json!(digits(&did)))
}

/// connectFAX / unconnectFAX: the reseller client a fax number is handed to.
pub(crate) fn connect_fax(cx: &mut Ctx<'_>, args: &Args<'_>, connect: bool) -> Res {
    let did = digits(args.get("did").unwrap_or_default());
    let Some(row) = fax_numbers(cx)
        .rows
        .iter_mut()
        .find(|r| digits(&id_of(r, "did")) == did)
    else {
        return Err(Fail::msg(
            "invalid_did",
            format!("{did} is not one of the account's fax numbers"),
        ));
    };
    connect_row(row, args, connect, &did)
}

/// connectDID / unconnectDID: the reseller client one of the account's DIDs is handed to.
pub(crate) fn connect_did(cx: &mut Ctx<'_>, args: &Args<'_>, connect: bool) -> Res {
    let did = digits(args.get("did").unwrap_or_default());
    let Some(row) = cx.st.dids.iter_mut().find(|r| id_of(r, "did") == did) else {
        return Err(Fail::msg(
            "invalid_did",
            format!("{did} is not one of the account's DIDs"),
        ));
    };
    connect_row(row, args, connect, &did)
}

/// Writes (or clears) the `reseller_*` fields of a DID or fax number.
fn connect_row(row: &mut Record, args: &Args<'_>, connect: bool, did: &str) -> Res {
    if connect {
        write(
            row,
            args,
            &["did", "dont_charge_setup", "dont_charge_monthly"],
            &[
                ("account", "reseller_account"),
                ("monthly", "reseller_monthly"),
                ("setup", "reseller_setup"),
                ("minute", "reseller_minute"),
                ("next_billing", "reseller_next_billing"),
            ],
        );
    } else {
        if id_of(row, "reseller_account").is_empty() {
            return Err(Fail::msg(
                "invalid_did",
                format!("{did} is not connected to a client"),
            ));
        }
        for k in [
            "reseller_account",
            "reseller_monthly",
            "reseller_setup",
            "reseller_minute",
            "reseller_next_billing",
        ] {
            row.insert(k.into(), json!(""));
        }
    }
    ok()
}

fn fax_messages<'a>(cx: &'a mut Ctx<'_>) -> &'a mut Records {
    store(cx, "fax_messages", || {
        seed_rows("getFaxMessages", "faxes", "id")
    })
}

fn has_fax(cx: &mut Ctx<'_>, id: &str) -> Result<(), Fail> {
    if fax_messages(cx).rows.iter().any(|r| id_of(r, "id") == id) {
        Ok(())
    } else {
        Err(Fail::msg(
            "invalid_fax_id",
            format!("no fax message has the id {id}"),
        ))
    }
}

pub(crate) fn get_fax_messages(m: &Method, cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let (folder, id) = (args.get("folder"), args.get("id"));
    let rows: Vec<Record> = fax_messages(cx)
        .rows
        .iter()
        .filter(|r| folder.is_none_or(|f| id_of(r, "folder").eq_ignore_ascii_case(f)))
        .cloned()
        .collect();
    list(m, "faxes", &rows, "id", id)
}

/// sendFaxMessage: the fax is listed in the SENT folder (the charge is taken by the caller).
pub(crate) fn send_fax(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    if dry(args) {
        return ok();
    }
    let now = cx.st.tick();
    let recs = fax_messages(cx);
    let id = recs.next;
    recs.next += 1;
    let mut row: Record = recs.rows.first().cloned().unwrap_or_default();
    let from = args.get("from_number").unwrap_or_default();
    let to = args.get("to_number").unwrap_or_default();
    let name = args.get("from_name").unwrap_or_default();
    for (k, v) in [
        ("id", id.to_string()),
        ("folder", "SENT".into()),
        ("date", time::datetime(now)),
        ("callerid", format!("{name} <{from}>")),
        (
            "stationid",
            args.get("station_id").unwrap_or(from).to_owned(),
        ),
        ("destination", to.to_owned()),
        ("description", "OUTBOUND FAX".into()),
        ("pages", "1".into()),
        ("duration", "0:40".into()),
        ("status", "SUCCESS".into()),
        ("rate", "0.070".into()),
        ("total", "0.070".into()),
    ] {
        row.insert(k.into(), json!(v));
    }
    recs.rows.push(row);
    ok()
}

pub(crate) fn delete_fax(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = args.get("id").unwrap_or_default();
    has_fax(cx, id)?;
    if !dry(args) {
        fax_messages(cx).rows.retain(|r| id_of(r, "id") != id);
    }
    ok()
}

/// moveFaxMessage: the message's folder becomes the named fax folder.
pub(crate) fn move_fax(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = args.get("fax_id").unwrap_or_default();
    let folder_id = args.get("folder_id").unwrap_or_default();
    has_fax(cx, id)?;
    let family = catalog::family_of("getFaxFolders");
    let folder = family.and_then(|f| {
        store(cx, f.name, || seed(f))
            .rows
            .iter()
            .find(|r| id_of(r, "id") == folder_id)
            .map(|r| id_of(r, "name"))
    });
    let Some(folder) = folder else {
        return Err(Fail::msg(
            "invalid_folder",
            format!("no fax folder has the id {folder_id}"),
        ));
    };
    if !dry(args)
        && let Some(row) = fax_messages(cx)
            .rows
            .iter_mut()
            .find(|r| id_of(r, "id") == id)
    {
        row.insert("folder".into(), json!(folder));
    }
    ok()
}

/// mailFaxMessagePDF: an e-mail leaves (nothing the API lists changes); the message must exist.
pub(crate) fn mail_fax(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    has_fax(cx, args.get("id").unwrap_or_default())?;
    ok1(
        "message_status",
        json!(format!(
            "Fax sent to {}",
            args.get("email").unwrap_or_default()
        )),
    )
}

// ---- Number porting: ports and their attachments. ----

fn ports<'a>(cx: &'a mut Ctx<'_>) -> &'a mut Records {
    store(cx, "lnp_ports", || {
        seed_rows("getLNPList", "list", "portid")
    })
}

pub(crate) fn get_ports(m: &Method, cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let (id, status) = (args.get("portid"), args.get("portStatus"));
    let rows: Vec<Record> = ports(cx)
        .rows
        .iter()
        .filter(|r| status.is_none_or(|s| id_of(r, "status") == s))
        .cloned()
        .collect();
    list(m, "list", &rows, "portid", id)
}

pub(crate) fn add_port(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let recs = ports(cx);
    let id = recs.next;
    recs.next += 1;
    let mut row = Record::new();
    row.insert("portid".into(), json!(id.to_string()));
    row.insert(
        "numbers".into(),
        json!(args.get("numbers").unwrap_or_default()),
    );
    row.insert("foc_date".into(), json!(false));
    row.insert("status".into(), json!("pending_approval"));
    recs.rows.push(row);
    ok1("port", json!(id.to_string()))
}

fn attachments<'a>(cx: &'a mut Ctx<'_>, port: &str) -> &'a mut Records {
    store(cx, &format!("lnp_attachments/{port}"), || {
        seed_rows("getLNPAttachList", "list", "attachid")
    })
}

fn has_port(cx: &mut Ctx<'_>, args: &Args<'_>) -> Result<String, Fail> {
    let port = args.get("portid").unwrap_or_default().to_owned();
    if ports(cx).rows.iter().any(|r| id_of(r, "portid") == port) {
        Ok(port)
    } else {
        Err(Fail::msg(
            "invalid_id",
            format!("no port has the id {port}"),
        ))
    }
}

pub(crate) fn get_attachments(m: &Method, cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let port = has_port(cx, args)?;
    let rows = attachments(cx, &port).rows.clone();
    list(m, "list", &rows, "attachid", None)
}

pub(crate) fn add_attachment(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let port = has_port(cx, args)?;
    let file = args.get("file").unwrap_or_default();
    let size = file.len() / 4 * 3;
    let kind = if file.starts_with("JVBER") {
        "pdf"
    } else {
        "jpg"
    };
    let recs = attachments(cx, &port);
    let id = recs.next.max(5000);
    recs.next = id + 1;
    let mut row = Record::new();
    row.insert("attachid".into(), json!(id.to_string()));
    row.insert("type".into(), json!(kind));
    row.insert("size".into(), json!(size.to_string()));
    recs.rows.push(row);
    ok1("attachment", json!(id.to_string()))
}

// ---- vPRI DIDs and conference members: lists of values on a parent. ----

/// The account's vPRIs: the ids getVPRIs lists.
fn vpris() -> Vec<String> {
    super::examples::example("getVPRIs")["vpri"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| match &v["vpri"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The DIDs on `vpri`: the account's vPRI starts with the DIDs getDIDvPRI's example lists,
/// any other id with none.
fn vpri_dids<'a>(cx: &'a mut Ctx<'_>, vpri: &str) -> &'a mut Records {
    let known = vpris().iter().any(|v| v == vpri);
    store(cx, &format!("vpri_dids/{vpri}"), || {
        let dids = if known {
            super::examples::example("getDIDvPRI")["dids"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Records {
            next: 1,
            rows: dids
                .into_iter()
                .map(|d| {
                    let mut r = Record::new();
                    r.insert("did".into(), d);
                    r
                })
                .collect(),
        }
    })
}

pub(crate) fn get_vpri_dids(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let vpri = args.get("vpri").unwrap_or_default().to_owned();
    let dids: Vec<Value> = vpri_dids(cx, &vpri)
        .rows
        .iter()
        .filter_map(|r| r.get("did").cloned())
        .collect();
    ok1("dids", Value::Array(dids))
}

/// The vPRI `did` is on: the account's listed vPRIs and any other the state holds DIDs for.
fn vpri_of(cx: &mut Ctx<'_>, did: &str) -> Option<String> {
    let mut ids = vpris();
    ids.extend(
        cx.st
            .records
            .keys()
            .filter_map(|k| k.strip_prefix("vpri_dids/"))
            .map(str::to_owned),
    );
    ids.into_iter()
        .find(|v| vpri_dids(cx, v).rows.iter().any(|r| id_of(r, "did") == did))
}

/// assignDIDvPRI / removeDIDvPRI. Only a per-minute DID of the account joins a vPRI, and one
/// vPRI at a time; a removal without `vpri` takes the DID off the vPRI it is on.
pub(crate) fn vpri_did(cx: &mut Ctx<'_>, args: &Args<'_>, assign: bool) -> Res {
    let did = digits(args.get("did").unwrap_or_default());
    if assign {
        let Some(rec) = cx.st.did(&did) else {
            return Err(Fail::msg(
                "invalid_did",
                format!("{did} is not one of the account's DIDs"),
            ));
        };
        if id_of(rec, "billing_type") != "1" {
            return Err(Fail::msg(
                "invalid_did",
                format!("{did} is billed at a flat rate: only per-minute DIDs join a vPRI"),
            ));
        }
        if let Some(on) = vpri_of(cx, &did) {
            return Err(Fail::msg(
                "did_in_use",
                format!("{did} is already on vPRI {on}"),
            ));
        }
    }
    let vpri = match args.get("vpri") {
        Some(v) => v.trim().to_owned(),
        None if !assign => {
            let Some(v) = vpri_of(cx, &did) else {
                return Err(Fail::msg(
                    "invalid_did",
                    format!("{did} is not on any vPRI"),
                ));
            };
            v
        }
        None => String::new(),
    };
    let rows = &mut vpri_dids(cx, &vpri).rows;
    let at = rows.iter().position(|r| id_of(r, "did") == did);
    let mut out = serde_json::Map::new();
    out.insert("vpri".into(), json!(vpri));
    match (assign, at) {
        // On no vPRI (checked above).
        (true, _) => {
            let mut r = Record::new();
            r.insert("did".into(), json!(did));
            rows.push(r);
            out.insert("DIDAdded".into(), json!(did));
            out.insert("monthly".into(), json!("2.00"));
        }
        (false, Some(at)) => {
            rows.remove(at);
            out.insert("DIDRemoved".into(), json!(did));
        }
        (false, None) => {
            return Err(Fail::msg(
                "invalid_did",
                format!("{did} is not on vPRI {vpri}"),
            ));
        }
    }
    Ok(Answer::Fields(out))
}

/// addMemberToConference / delMemberFromConference: the bridge's `members` (ids joined by `;`).
pub(crate) fn conference_member(cx: &mut Ctx<'_>, args: &Args<'_>, add: bool) -> Res {
    let member = args.get("member").unwrap_or_default().to_owned();
    let conference = args.get("conference").unwrap_or_default().to_owned();
    let (Some(confs), Some(members)) = (
        catalog::family_of("getConference"),
        catalog::family_of("getConferenceMembers"),
    ) else {
        return Err(Fail::new("invalid_conference"));
    };
    if !store(cx, members.name, || seed(members))
        .rows
        .iter()
        .any(|r| id_of(r, members.id_field) == member)
    {
        return Err(Fail::msg(
            "invalid_member",
            format!("no member profile has the id {member}"),
        ));
    }
    // Without a bridge, a removal applies to the first bridge the member is on.
    let Some(row) = store(cx, confs.name, || seed(confs))
        .rows
        .iter_mut()
        .find(|r| {
            id_of(r, confs.id_field) == conference
                || (conference.is_empty()
                    && !add
                    && id_of(r, "members").split(';').any(|m| m == member))
        })
    else {
        return Err(Fail::msg(
            "invalid_conference",
            format!("no conference has the id {conference}"),
        ));
    };
    let mut list: Vec<String> = id_of(row, "members")
        .split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let at = list.iter().position(|m| *m == member);
    match (add, at) {
        (true, Some(_)) => {
            return Err(Fail::msg(
                "member_already_included",
                format!("member {member} is already on conference {conference}"),
            ));
        }
        (true, None) => list.push(member.clone()),
        (false, Some(at)) => {
            list.remove(at);
        }
        (false, None) => {
            return Err(Fail::msg(
                "invalid_member",
                format!("member {member} is not on conference {conference}"),
            ));
        }
    }
    row.insert("members".into(), json!(list.join(";")));
    if add {
        ok1("member", json!(member))
    } else {
        ok()
    }
}
