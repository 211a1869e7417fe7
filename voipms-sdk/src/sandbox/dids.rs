//! DIDs: listing, routing, POP, voicemail, billing type, SMS settings, orders and cancellation.

use serde_json::{Value, json};

use super::account::{client, write_record};
use super::core::{Ctx, Res, ok};
use super::reference::pop_exists;
use super::seed::{monthly_fee, next_billing};
use super::state::{Record, text};
use super::time::{self, DOLLAR};
use super::validate::{Args, Fail, is_true};

/// The DID named by `did` (normalized), or `invalid_did`.
fn own_did(cx: &Ctx<'_>, args: &Args<'_>) -> Result<usize, Fail> {
    let did = args.phone("did").unwrap_or_default();
    cx.st
        .dids
        .iter()
        .position(|d| text(d, "did") == did)
        .ok_or_else(|| {
            Fail::msg(
                "invalid_did",
                "that DID is not on this account (getDIDsInfo lists them)",
            )
        })
}

fn check_pop(args: &Args<'_>) -> Result<(), Fail> {
    match args.get("pop") {
        Some(p) if !pop_exists(p) => Err(Fail::msg(
            "invalid_serverpop",
            "no server has that POP id (getServersInfo lists them in server_pop)",
        )),
        _ => Ok(()),
    }
}

fn check_mailbox(cx: &Ctx<'_>, args: &Args<'_>) -> Result<(), Fail> {
    match args.get("voicemail") {
        Some(vm) if cx.st.mailbox(vm.trim()).is_none() => Err(Fail::msg(
            "invalid_mailbox",
            "no voicemail box has that number (getVoicemails lists them)",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn info(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    if client(args)? {
        // The reseller client owns no DIDs in the sandbox.
        return Err(Fail::new("no_did"));
    }
    let wanted = args.phone("did");
    let rows: Vec<Value> = cx
        .st
        .dids
        .iter()
        .filter(|d| wanted.as_deref().is_none_or(|w| text(d, "did") == w))
        .map(|d| Value::Object(d.clone()))
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_did"));
    }
    super::core::ok1("dids", Value::Array(rows))
}

pub(crate) fn set_info(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = own_did(cx, args)?;
    check_pop(args)?;
    check_mailbox(cx, args)?;
    write_record(&mut cx.st.dids[i], "setDIDInfo", args, &["did"], &[]);
    ok()
}

pub(crate) fn set_routing(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = own_did(cx, args)?;
    let routing = args.or("routing", "none:").to_owned();
    cx.st.dids[i].insert("routing".into(), Value::String(routing));
    ok()
}

pub(crate) fn set_pop(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = own_did(cx, args)?;
    check_pop(args)?;
    let pop = args.or("pop", "").trim().to_owned();
    cx.st.dids[i].insert("pop".into(), Value::String(pop));
    ok()
}

pub(crate) fn set_voicemail(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = own_did(cx, args)?;
    check_mailbox(cx, args)?;
    let vm = args.get("voicemail").unwrap_or("").trim().to_owned();
    cx.st.dids[i].insert("voicemail".into(), Value::String(vm));
    ok()
}

pub(crate) fn set_billing_type(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = own_did(cx, args)?;
    let wanted = args.or("billing_type", "1");
    if text(&cx.st.dids[i], "billing_type") == wanted {
        return Err(Fail::msg(
            "same_did_billingtype",
            "the DID already has that billing type",
        ));
    }
    cx.st.dids[i].insert("billing_type".into(), Value::String(wanted.to_owned()));
    ok()
}

pub(crate) fn cancel(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = own_did(cx, args)?;
    if !args.dry_run() {
        let gone = cx.st.dids.remove(i);
        super::keyed::forget_did(cx, text(&gone, "did"));
    }
    ok()
}

/// orderDID, orderTollFree and orderVanity: the number joins the account.
pub(crate) fn order(cx: &mut Ctx<'_>, args: &Args<'_>, method: &str) -> Res {
    let did = args.phone("did").unwrap_or_default();
    if cx.st.did(&did).is_some() {
        return Err(Fail::msg(
            "did_in_use",
            format!("{did} is already on this account"),
        ));
    }
    check_pop(args)?;
    check_mailbox(cx, args)?;
    let billing_type = args.or("billing_type", "1");
    let (setup, description) = match method {
        "orderTollFree" => (0, "TOLL FREE"),
        "orderVanity" => (15 * DOLLAR, "TOLL FREE VANITY"),
        _ => (DOLLAR / 2, "NEW DID"),
    };
    let cost = setup + monthly_fee(billing_type);
    if cx.st.balance < cost {
        return Err(Fail::msg(
            "non_sufficient_funds",
            format!(
                "{method}: costs ${} but the balance is ${}",
                time::money(cost, 2),
                time::money(cx.st.balance, 2)
            ),
        ));
    }
    if args.dry_run() {
        return ok();
    }
    let now = cx.st.tick();
    let today = cx.st.now_date();
    let mut rec: Record = cx.st.dids.first().cloned().unwrap_or_else(|| {
        super::examples::example("getDIDsInfo")["dids"][0]
            .as_object()
            .cloned()
            .unwrap_or_default()
    });
    write_record(&mut rec, method, args, &["did"], &[]);
    let set = |rec: &mut Record, k: &str, v: Value| {
        rec.insert(k.to_owned(), v);
    };
    set(&mut rec, "did", json!(did));
    set(&mut rec, "description", json!(description));
    set(&mut rec, "billing_type", json!(billing_type));
    set(&mut rec, "order_date", json!(time::datetime(now)));
    set(
        &mut rec,
        "next_billing",
        json!(time::date(next_billing(
            today,
            chrono::Datelike::day(&today)
        ))),
    );
    set(&mut rec, "e911", json!("0"));
    set(&mut rec, "sms_available", json!(1));
    set(&mut rec, "sms_enabled", json!("0"));
    set(&mut rec, "mms_available", json!(1));
    for k in [
        "sms_email_enabled",
        "sms_forward_enabled",
        "sms_url_callback_enabled",
        "sms_url_callback_retry",
        "sms_sipaccount_enabled",
        "webhook_enabled",
        "smpp_enabled",
    ] {
        set(&mut rec, k, json!("0"));
    }
    for k in ["sms_email", "sms_url_callback", "webhook", "port_out_pin"] {
        set(&mut rec, k, json!(""));
    }
    cx.st.dids.push(rec);
    cx.st.charge(
        cost,
        Some((
            &format!("DID{did}"),
            format!("DID Setup Fee + first month: {did}"),
        )),
    );
    ok()
}

/// setSMS parameter → getDIDsInfo field.
const SMS_FIELDS: &[(&str, &str)] = &[
    ("enable", "sms_enabled"),
    ("email_enabled", "sms_email_enabled"),
    ("email_address", "sms_email"),
    ("sms_forward_enable", "sms_forward_enabled"),
    ("sms_forward", "sms_forward"),
    ("url_callback_enable", "sms_url_callback_enabled"),
    ("url_callback", "sms_url_callback"),
    ("url_callback_retry", "sms_url_callback_retry"),
    ("webhook_enable", "webhook_enabled"),
    ("webhook", "webhook"),
    ("dialmode", "dialmode"),
    ("smpp_enabled", "smpp_enabled"),
    ("smpp_url", "smpp_url"),
    ("smpp_user", "smpp_user"),
    ("smpp_pass", "smpp_pass"),
    ("sms_sipaccount_enabled", "sms_sipaccount_enabled"),
    ("sms_sipaccount", "sms_sipaccount"),
];

pub(crate) fn set_sms(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = own_did(cx, args)?;
    let rec = &cx.st.dids[i];
    let available = matches!(rec.get("sms_available"), Some(v) if v == &json!(1) || v == "1");
    if args.flag("enable") == Some(true) && !available {
        return Err(Fail::msg(
            "invalid_did",
            "SMS is not available on this DID (see sms_available in getDIDsInfo)",
        ));
    }
    if let Some(acct) = args.get("sms_sipaccount")
        && cx.st.subaccount(acct).is_none()
    {
        return Err(Fail::msg(
            "invalid_account",
            "sms_sipaccount must be a sub-account login (getSubAccounts)",
        ));
    }
    let rec = &mut cx.st.dids[i];
    for (param, field) in SMS_FIELDS {
        let Some(v) = args.get(param) else {
            continue;
        };
        let v = if matches!(
            *param,
            "enable"
                | "email_enabled"
                | "sms_forward_enable"
                | "url_callback_enable"
                | "url_callback_retry"
                | "webhook_enable"
                | "smpp_enabled"
                | "sms_sipaccount_enabled"
        ) {
            if is_true(v) { "1" } else { "0" }.to_owned()
        } else {
            v.to_owned()
        };
        rec.insert((*field).to_owned(), Value::String(v));
    }
    ok()
}
