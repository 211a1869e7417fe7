//! Account: balance, transaction history, sub-accounts, call accounts and call types.

use serde_json::{Map, Value, json};

use crate::catalog::{self, ParamKind};

use super::core::{Ctx, Res, ok, ok1};
use super::state::{Record, text};
use super::time::{self, DAY};
use super::validate::{Args, Fail};

/// The reseller client every example names; the sandbox knows it but it owns nothing.
pub(crate) const RESELLER_CLIENT: &str = "561115";

/// Checks an optional reseller `client`: absent → `Ok(false)`, the known client → `Ok(true)`.
pub(crate) fn client(args: &Args<'_>) -> Result<bool, Fail> {
    match args.get("client") {
        None => Ok(false),
        Some(c) if c.trim() == RESELLER_CLIENT => Ok(true),
        Some(_) => Err(Fail::msg(
            "invalid_client",
            format!("no reseller client has that id (the sandbox has one: {RESELLER_CLIENT})"),
        )),
    }
}

pub(crate) fn balance(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let st = &*cx.st;
    let mut b = Map::new();
    b.insert(
        "current_balance".into(),
        Value::String(time::money(st.balance, 6)),
    );
    if args.flag("advanced") == Some(true) {
        let today = st.today_start();
        let first_today = st.cdr.partition_point(|r| r.t < today);
        let (calls, secs) = st
            .cdr
            .iter()
            .fold((0u64, 0u64), |(c, s), r| (c + 1, s + u64::from(r.seconds)));
        let rows_today = &st.cdr[first_today..];
        let spent_calls_today: i64 = rows_today.iter().map(|r| r.total).sum();
        let secs_today: u64 = rows_today.iter().map(|r| u64::from(r.seconds)).sum();
        let spent_today = spent_calls_today + st.spent_on(st.now_date());
        b.insert(
            "spent_total".into(),
            Value::String(time::money(st.spent, 5)),
        );
        b.insert("calls_total".into(), Value::String(calls.to_string()));
        b.insert("time_total".into(), Value::String(time::hms(secs)));
        b.insert(
            "spent_today".into(),
            Value::String(time::money(spent_today, 4)),
        );
        b.insert(
            "calls_today".into(),
            Value::String(rows_today.len().to_string()),
        );
        b.insert("time_today".into(), Value::String(time::ms(secs_today)));
    }
    ok1("balance", Value::Object(b))
}

/// Checks a `from`/`to` pair: the start may not come after the end.
pub(crate) fn date_order(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    method: &str,
) -> Result<(), Fail> {
    if from > to {
        return Err(Fail::msg(
            "invalid_date_from",
            format!("{method}: the start date comes after the end date"),
        ));
    }
    Ok(())
}

/// Also checks the 92-day cap of the CDR and message history methods.
pub(crate) fn date_range(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    method: &str,
) -> Result<(), Fail> {
    date_order(from, to, method)?;
    if (to - from).num_days() > 92 {
        return Err(Fail::msg(
            "invalid_daterange",
            format!(
                "{method}: {} days asked; one call covers at most 92 days, split the range",
                (to - from).num_days()
            ),
        ));
    }
    Ok(())
}

/// getInvoice: the invoice of one period, a preset `range` (counted back from the sandbox's
/// today) or `from`..`to`. The URL names the account, the period and the format, so another
/// period is another invoice; a period that starts after today has no invoice yet.
pub(crate) fn invoice(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    use chrono::{Datelike, Days, Months, NaiveDate};
    let today = cx.st.now_date();
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let this_month = month_start(today);
    let months_back = |n: u32| {
        this_month
            .checked_sub_months(Months::new(n))
            .unwrap_or(this_month)
    };
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let before = |d: NaiveDate| d.pred_opt().unwrap_or(d);
    let (from, to) = match args.get("range").map(str::trim) {
        Some("1") => (months_back(1), before(this_month)),
        Some("2") => (months_back(2), before(this_month)),
        Some("3") => (months_back(3), before(this_month)),
        Some("4") => (this_month, today),
        Some("5") => (monday - Days::new(7), before(monday)),
        Some("6") => (monday, today),
        // Validation refuses any other value; without a range, the dates; with neither, the
        // previous month (the first preset).
        _ if args.get("from").is_none() && args.get("to").is_none() => {
            (months_back(1), before(this_month))
        }
        _ => {
            let Some(from) = args.date("from") else {
                return Err(Fail::msg(
                    "missing_from_date",
                    "getInvoice: to needs a from",
                ));
            };
            let Some(to) = args.date("to") else {
                return Err(Fail::msg("missing_to_date", "getInvoice: from needs a to"));
            };
            (from, to)
        }
    };
    date_order(from, to, "getInvoice")?;
    if from > today {
        return Err(Fail::msg(
            "invalid_date",
            format!(
                "getInvoice: the period starts on {}, after today ({}): there is no invoice yet",
                time::date(from),
                time::date(today)
            ),
        ));
    }
    let to = to.min(today);
    let kind = args.get("type").map_or("0", str::trim);
    let id = super::rng::mix(
        cx.st.seed ^ (from.num_days_from_ce() as u64) << 20 ^ to.num_days_from_ce() as u64,
    );
    ok1(
        "url",
        Value::String(format!(
            "https://voip.ms/m/invoice.php?id={:010x}&account={}&from={}&to={}&type={kind}",
            id & 0xFF_FFFF_FFFF,
            cx.st.account,
            time::date(from),
            time::date(to),
        )),
    )
}

pub(crate) fn transactions(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let (Some(from), Some(to)) = (args.date("date_from"), args.date("date_to")) else {
        return Err(Fail::new("missing_from_date"));
    };
    date_order(from, to, "getTransactionHistory")?;
    let (start, end) = (time::day_start(from), time::day_start(to) + DAY);
    let rows: Vec<Value> = cx
        .st
        .transactions
        .iter()
        .filter(|t| t.t >= start && t.t < end)
        .map(|t| {
            let places = if t.amount % 1_000_000 == 0 { 2 } else { 4 };
            json!({
                "date": time::datetime(t.t),
                "uniqueid": t.uniqueid,
                "type": t.kind,
                "description": t.description,
                "ammount": time::money(t.amount, places),
            })
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_transactions"));
    }
    ok1("transactions", Value::Array(rows))
}

pub(crate) fn subaccounts(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let rows: Vec<Value> = match args.get("account") {
        // The filter takes the SIP login; a numeric id finds nothing (live behaviour).
        Some(a) if a.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(Fail::msg(
                "no_subaccount",
                "getSubAccounts: `account` takes the SIP login (100001_VoIP), not the numeric id",
            ));
        }
        Some(a) => cx
            .st
            .subaccounts
            .iter()
            .filter(|r| text(r, "account") == a)
            .map(|r| Value::Object(r.clone()))
            .collect(),
        None => cx
            .st
            .subaccounts
            .iter()
            .map(|r| Value::Object(r.clone()))
            .collect(),
    };
    if rows.is_empty() {
        return Err(Fail::new("no_account"));
    }
    ok1("accounts", Value::Array(rows))
}

/// Writes a setter's parameters into a record, as a full replacement: a parameter sent sets its
/// field, an optional one left out goes back to its default (VoIP.ms treats set* calls as full
/// writes). Only fields the record lists are touched.
pub(crate) fn write_record(
    rec: &mut Record,
    method: &str,
    args: &Args<'_>,
    skip: &[&str],
    rename: &[(&str, &str)],
) {
    let Some(m) = catalog::method(method) else {
        return;
    };
    for p in m.params {
        if skip.contains(&p.name) {
            continue;
        }
        let key = rename
            .iter()
            .find(|(from, _)| *from == p.name)
            .map_or(p.name, |(_, to)| *to);
        if !rec.contains_key(key) {
            continue;
        }
        let value = match args.get(p.name) {
            Some(v) => match p.kind {
                ParamKind::Flag => (if super::validate::is_true(v) {
                    "1"
                } else {
                    "0"
                })
                .to_owned(),
                ParamKind::YesNo => v.to_ascii_lowercase(),
                ParamKind::Phone => {
                    super::validate::normalize_phone(v).unwrap_or_else(|| v.to_owned())
                }
                _ => v.to_owned(),
            },
            None if p.required => continue,
            None => match p.kind {
                ParamKind::Flag => "0".to_owned(),
                ParamKind::YesNo => "no".to_owned(),
                ParamKind::Routing => "none:".to_owned(),
                _ => String::new(),
            },
        };
        rec.insert(key.to_owned(), Value::String(value));
    }
}

/// Sub-account password rules (auth_type 1).
fn check_password(pw: &str) -> Result<(), Fail> {
    let fail = |s| {
        Err(Fail::msg(
            s,
            "sub-account passwords need 8+ characters with upper and lower case letters and a digit",
        ))
    };
    if pw.len() < 8 {
        return fail("invalid_password_lessthan_8characters_long");
    }
    if !pw.bytes().any(|b| b.is_ascii_uppercase()) {
        return fail("invalid_password_missing_uppercase");
    }
    if !pw.bytes().any(|b| b.is_ascii_lowercase()) {
        return fail("invalid_password_missing_lowercase");
    }
    if !pw.bytes().any(|b| b.is_ascii_digit()) {
        return fail("invalid_password_missing_number");
    }
    if !pw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&/()=?*[]_:.,{}+-".contains(c))
    {
        return fail("invalid_password_ilegal_characters");
    }
    Ok(())
}

fn check_auth(args: &Args<'_>) -> Result<(), Fail> {
    check_auth_with(args, false)
}

/// Checks the authentication fields; `kept_password` when an update keeps the stored password.
fn check_auth_with(args: &Args<'_>, kept_password: bool) -> Result<(), Fail> {
    match args.get("auth_type").map(str::trim) {
        Some("1") => match args.get("password") {
            None if kept_password => Ok(()),
            None => Err(Fail::msg(
                "missing_password",
                "auth_type 1 (user/password) needs a password",
            )),
            Some(pw) => check_password(pw),
        },
        Some("2") => {
            if args.get("ip").is_none() {
                return Err(Fail::msg(
                    "missing_ip",
                    "auth_type 2 (static IP) needs an ip",
                ));
            }
            if args.get("password").is_some() {
                return Err(Fail::new("invalid_password_auth"));
            }
            Ok(())
        }
        _ => Err(Fail::msg(
            "invalid_authtype",
            "auth_type is 1 (user/password) or 2 (static IP); see getAuthTypes",
        )),
    }?;
    match args.get("protocol").map(str::trim) {
        None | Some("1" | "3") => {}
        Some(_) => {
            return Err(Fail::msg(
                "invalid_protocol",
                "protocol is 1 (SIP) or 3 (IAX2); see getProtocols",
            ));
        }
    }
    if let Some(d) = args.get("device_type")
        && !matches!(d.trim(), "1" | "2")
    {
        return Err(Fail::msg(
            "invalid_devicetype",
            "device_type is 1 or 2; see getDeviceTypes",
        ));
    }
    if let Some(l) = args.get("lock_international")
        && !matches!(l.trim(), "0" | "1")
    {
        return Err(Fail::new("invalid_lockinternational"));
    }
    Ok(())
}

pub(crate) fn create_subaccount(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let user = args.or("username", "");
    if user.is_empty()
        || user.len() > 32
        || !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Fail::msg(
            "invalid_username",
            "a sub-account username is letters, digits, `_` or `-`, at most 32",
        ));
    }
    check_auth(args)?;
    let login = format!("{}_{user}", cx.st.account);
    if cx.st.subaccount(&login).is_some() {
        return Err(Fail::msg(
            "used_username",
            format!("{login} already exists"),
        ));
    }
    let mut rec = cx.st.subaccounts.first().cloned().unwrap_or_default();
    write_record(&mut rec, "createSubAccount", args, &["username"], &[]);
    let id = cx.st.next.subaccount;
    cx.st.next.subaccount += 1;
    rec.insert("id".into(), Value::String(id.to_string()));
    rec.insert("account".into(), Value::String(login.clone()));
    rec.insert("username".into(), Value::String(user.to_owned()));
    cx.st.subaccounts.push(rec);
    let mut m = Map::new();
    m.insert("id".into(), Value::String(id.to_string()));
    m.insert("account".into(), Value::String(login));
    Ok(super::core::Answer::Fields(m))
}

fn find_by_id(cx: &Ctx<'_>, args: &Args<'_>) -> Result<usize, Fail> {
    let Some(id) = args.get("id") else {
        return Err(Fail::msg("missing_id", "pass the sub-account's numeric id"));
    };
    cx.st
        .subaccounts
        .iter()
        .position(|r| text(r, "id") == id.trim())
        .ok_or_else(|| {
            Fail::msg(
                "invalid_id",
                "no sub-account has that id (getSubAccounts lists them)",
            )
        })
}

pub(crate) fn set_subaccount(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = find_by_id(cx, args)?;
    let has_password = !text(&cx.st.subaccounts[i], "password").is_empty();
    // An update may leave the password out to keep the current one.
    let keep = args.get("password").is_none() && has_password;
    check_auth_with(args, keep)?;
    let skip: &[&str] = if keep { &["id", "password"] } else { &["id"] };
    write_record(&mut cx.st.subaccounts[i], "setSubAccount", args, skip, &[]);
    ok()
}

pub(crate) fn del_subaccount(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = find_by_id(cx, args)?;
    let route = format!("account:{}", text(&cx.st.subaccounts[i], "account"));
    if let Some(d) = cx.st.dids.iter().find(|d| {
        [
            "routing",
            "failover_busy",
            "failover_unreachable",
            "failover_noanswer",
        ]
        .iter()
        .any(|k| text(d, k) == route)
    }) {
        return Err(Fail::msg(
            "account_with_dids",
            format!(
                "DID {} still routes to this sub-account: route it elsewhere first (setDIDRouting)",
                text(d, "did")
            ),
        ));
    }
    cx.st.subaccounts.remove(i);
    ok()
}

pub(crate) fn registration(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let account = args.or("account", "");
    let Some(rec) = cx.st.subaccount(account) else {
        return Err(Fail::msg(
            "invalid_account",
            "no sub-account has that login (getSubAccounts lists them)",
        ));
    };
    let example = super::examples::example("getRegistrationStatus");
    // The front-desk phone is registered; the others are not, as on a real account.
    if text(rec, "username") == "VoIP" {
        let mut m = example.as_object().cloned().unwrap_or_default();
        m.remove("status");
        Ok(super::core::Answer::Fields(m))
    } else {
        let mut m = Map::new();
        m.insert("registered".into(), json!("no"));
        m.insert("registrations".into(), json!([]));
        Ok(super::core::Answer::Fields(m))
    }
}

pub(crate) fn call_accounts(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let mut rows = vec![json!({"value": "all", "description": "All Accounts"})];
    if !client(args)? {
        rows.extend(cx.st.subaccounts.iter().map(|r| {
            let login = text(r, "account");
            json!({"value": login, "description": login})
        }));
    }
    ok1("accounts", Value::Array(rows))
}

pub(crate) fn call_types(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let mut rows = vec![
        json!({"value": "all", "description": "All Calls"}),
        json!({"value": "incoming", "description": "Incoming Calls"}),
        json!({"value": "outgoing", "description": "Outgoing Calls"}),
    ];
    if !client(args)? {
        rows.extend(cx.st.dids.iter().map(|d| {
            let did = text(d, "did");
            json!({"value": did, "description": did})
        }));
    }
    ok1("call_types", Value::Array(rows))
}
