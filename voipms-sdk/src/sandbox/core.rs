//! Routing a validated request to its domain, and the shapes handlers answer with.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::catalog::{Effect, METHODS};

use super::state::State;
use super::time::{self, DOLLAR};
use super::validate::{Args, Fail};
use super::{
    account, calls, contacts, dids, examples, keyed, messaging, records, reference, voicemail,
};

/// Limits and fixed facts of the simulated account (from [`SandboxConfig`](super::SandboxConfig)).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) sms_daily_limit: u32,
    pub(crate) group_member_limit: usize,
    pub(crate) phonebook_limit: usize,
    pub(crate) forwarding_limit: usize,
    pub(crate) ip: String,
}

/// What a handler answers with when the call succeeds.
#[derive(Debug)]
pub(crate) enum Answer {
    /// `{"status":"success", …fields}`.
    Fields(Map<String, Value>),
    /// A complete body, ready to send.
    Body(Bytes),
    /// An empty body (VoIP.ms answers a successful delConference with nothing at all).
    Empty,
}

pub(crate) type Res = Result<Answer, Fail>;

/// `{"status":"success"}`.
pub(crate) fn ok() -> Res {
    Ok(Answer::Fields(Map::new()))
}

/// `{"status":"success", key: value}`.
pub(crate) fn ok1(key: &str, value: Value) -> Res {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    Ok(Answer::Fields(m))
}

/// The state a stateful handler works on.
pub(crate) struct Ctx<'a> {
    pub(crate) st: &'a mut State,
    pub(crate) limits: &'a Limits,
}

/// Methods answered without touching the account state.
pub(crate) fn stateless(index: usize, args: &Args<'_>, limits: &Limits) -> Option<Res> {
    let m = &METHODS[index];
    Some(match m.name {
        "getIP" => ok1("ip", Value::String(limits.ip.clone())),
        "getCountries" => reference::countries(args),
        "getStates" => reference::states(),
        "getProvinces" => reference::provinces(),
        "getTimezones" => reference::timezones(args),
        "getServersInfo" => reference::servers(args),
        _ => return None,
    })
}

/// Methods that read or change the account.
pub(crate) fn stateful(index: usize, args: &Args<'_>, cx: &mut Ctx<'_>) -> Res {
    let m = &METHODS[index];
    match m.name {
        // Account and sub-accounts.
        "getBalance" => account::balance(cx, args),
        "getTransactionHistory" => account::transactions(cx, args),
        "getInvoice" => account::invoice(cx, args),
        "getSubAccounts" => account::subaccounts(cx, args),
        "createSubAccount" => account::create_subaccount(cx, args),
        "setSubAccount" => account::set_subaccount(cx, args),
        "delSubAccount" => account::del_subaccount(cx, args),
        "getRegistrationStatus" => account::registration(cx, args),
        "getCallAccounts" => account::call_accounts(cx, args),
        "getCallTypes" => account::call_types(cx, args),
        // DIDs.
        "getDIDsInfo" => dids::info(cx, args),
        "setDIDInfo" => dids::set_info(cx, args),
        "setDIDRouting" => dids::set_routing(cx, args),
        "setDIDPOP" => dids::set_pop(cx, args),
        "setDIDVoicemail" => dids::set_voicemail(cx, args),
        "setDIDBillingType" => dids::set_billing_type(cx, args),
        "cancelDID" => dids::cancel(cx, args),
        "orderDID" | "orderTollFree" | "orderVanity" => dids::order(cx, args, m.name),
        "setSMS" => dids::set_sms(cx, args),
        // Phonebook, caller-ID filtering, forwarding.
        "getPhonebook" => contacts::phonebook(cx, args),
        "getPhonebookGroups" => contacts::groups(cx, args),
        "setPhonebook" => contacts::set_entry(cx, args),
        "setPhonebookGroup" => contacts::set_group(cx, args),
        "delPhonebook" => contacts::del_entry(cx, args),
        "delPhonebookGroup" => contacts::del_group(cx, args),
        "getCallerIDFiltering" => contacts::filters(cx, args),
        "setCallerIDFiltering" => contacts::set_filter(cx, args),
        "delCallerIDFiltering" => contacts::del_filter(cx, args),
        "getForwardings" => contacts::forwardings(cx, args),
        "setForwarding" => contacts::set_forwarding(cx, args),
        "delForwarding" => contacts::del_forwarding(cx, args),
        // Voicemail.
        "getVoicemails" => voicemail::boxes(cx, args),
        "createVoicemail" => voicemail::create(cx, args),
        "setVoicemail" => voicemail::set(cx, args),
        "delVoicemail" => voicemail::delete(cx, args),
        "getVoicemailFolders" => voicemail::folders(cx, args),
        "getVoicemailMessages" => voicemail::messages(cx, args),
        "getVoicemailMessageFile" => voicemail::file(cx, args),
        "delMessages" => voicemail::del_messages(cx, args),
        "markListenedVoicemailMessage" => voicemail::mark(cx, args, voicemail::Mark::Listened),
        "markUrgentVoicemailMessage" => voicemail::mark(cx, args, voicemail::Mark::Urgent),
        "moveFolderVoicemailMessage" => voicemail::move_message(cx, args),
        "sendVoicemailEmail" => voicemail::send_email(cx, args),
        "getVoicemailTranscriptions" => voicemail::transcriptions(cx, args),
        // SMS and MMS.
        "sendSMS" => messaging::send_sms(cx, args),
        "sendMMS" => messaging::send_mms(cx, args),
        "getSMS" => messaging::list(cx, args, messaging::Kind::Sms),
        "getMMS" => messaging::list(cx, args, messaging::Kind::Mms),
        "getResellerSMS" | "getResellerMMS" => messaging::reseller(cx, index, args),
        "getMediaMMS" => messaging::media(cx, args),
        "deleteSMS" => messaging::delete(cx, args, messaging::Kind::Sms),
        "deleteMMS" => messaging::delete(cx, args, messaging::Kind::Mms),
        // Calls.
        "getCDR" => calls::cdr(cx, args),
        "getResellerCDR" => calls::reseller_cdr(args),
        "getCallRecordings" => calls::recordings(cx, args),
        "getCallRecording" => calls::recording(cx, args),
        "sendCallRecordingEmail" => calls::email_recording(cx, args),
        "delCallRecording" => calls::del_recording(cx, args),
        "getCallTranscriptions" => calls::transcriptions(cx, args),
        // Writes modelled by hand outside the family store, and the reads that show them.
        "getMusicOnHold" => keyed::get_moh(m, cx, args),
        "setMusicOnHold" => keyed::set_moh(cx, args),
        "delMusicOnHold" => keyed::del_moh(cx, args),
        "getLocations" => keyed::get_locations(cx),
        "setLocation" => keyed::set_location(cx, args),
        "delLocation" => keyed::del_location(cx, args),
        "getClients" => keyed::get_clients(m, cx, args),
        "signupClient" => keyed::signup_client(cx, args),
        "setClient" => keyed::set_client(cx, args),
        "delClient" => keyed::del_client(cx, args),
        "getClientThreshold" => keyed::get_threshold(cx, args),
        "setClientThreshold" => keyed::set_threshold(cx, args),
        "getCharges" => keyed::get_ledger(cx, args, "charges"),
        "getDeposits" => keyed::get_ledger(cx, args, "deposits"),
        "addCharge" => keyed::add_ledger(cx, args, "charges"),
        "addPayment" => keyed::add_ledger(cx, args, "deposits"),
        "e911Info" => keyed::e911_info(cx, args),
        "e911Provision" | "e911ProvisionManually" => {
            charged(index, args, cx, |cx| keyed::e911_write(cx, args, false))
        }
        "e911Update" => keyed::e911_write(cx, args, true),
        "e911Cancel" => keyed::e911_cancel(cx, args),
        "e911Validate" => keyed::e911_validate(cx, args),
        "getFaxNumbersInfo" => keyed::get_fax_numbers(cx, args),
        "setFaxNumberInfo" | "setFaxNumberEmail" | "setFaxNumberURLCallback" => {
            keyed::set_fax_number(cx, m.name, args)
        }
        "orderFaxNumber" => charged(index, args, cx, |cx| keyed::order_fax(cx, args)),
        "cancelFaxNumber" => keyed::cancel_fax(cx, args),
        "connectDID" => keyed::connect_did(cx, args, true),
        "unconnectDID" => keyed::connect_did(cx, args, false),
        "connectFAX" => keyed::connect_fax(cx, args, true),
        "unconnectFAX" => keyed::connect_fax(cx, args, false),
        "getFaxMessages" => keyed::get_fax_messages(m, cx, args),
        "sendFaxMessage" => charged(index, args, cx, |cx| keyed::send_fax(cx, args)),
        "deleteFaxMessage" => keyed::delete_fax(cx, args),
        "moveFaxMessage" => keyed::move_fax(cx, args),
        "mailFaxMessagePDF" => keyed::mail_fax(cx, args),
        "getLNPList" => keyed::get_ports(m, cx, args),
        "addLNPPort" => keyed::add_port(cx, args),
        "getLNPAttachList" => keyed::get_attachments(m, cx, args),
        "addLNPFile" => keyed::add_attachment(cx, args),
        "getDIDvPRI" => keyed::get_vpri_dids(cx, args),
        "assignDIDvPRI" => charged(index, args, cx, |cx| keyed::vpri_did(cx, args, true)),
        "removeDIDvPRI" => keyed::vpri_did(cx, args, false),
        "addMemberToConference" => keyed::conference_member(cx, args, true),
        "delMemberFromConference" => keyed::conference_member(cx, args, false),
        name => match crate::catalog::family_of(name) {
            Some(family) => records::handle(family, m, args, cx),
            None => from_example(index, args, cx),
        },
    }
}

/// What the other billable methods cost (setup plus first month, per unit where a quantity is
/// ordered), so orders spend the balance and show in the transaction history.
const PRICES: &[(&str, i64, &str)] = &[
    ("orderDIDVirtual", DOLLAR / 2, "Virtual DID setup fee"),
    (
        "orderDIDInternationalGeographic",
        5 * DOLLAR,
        "International DID order",
    ),
    (
        "orderDIDInternationalNational",
        11 * DOLLAR,
        "International DID order",
    ),
    (
        "orderDIDInternationalTollFree",
        37 * DOLLAR,
        "International toll-free order",
    ),
    ("backOrderDIDUSA", DOLLAR / 2, "Back order deposit"),
    ("backOrderDIDCAN", DOLLAR / 2, "Back order deposit"),
    ("orderFaxNumber", 395 * DOLLAR / 100, "Fax number order"),
    ("sendFaxMessage", 7 * DOLLAR / 100, "Fax sent"),
    ("e911Provision", 150 * DOLLAR / 100, "e911 setup fee"),
    (
        "e911ProvisionManually",
        150 * DOLLAR / 100,
        "e911 setup fee",
    ),
    ("assignDIDvPRI", 2 * DOLLAR, "vPRI DID monthly fee"),
];

/// A billable method's price is checked and charged, then `run` makes its effect; the balance
/// is left alone when `run` fails.
fn charged(
    index: usize,
    args: &Args<'_>,
    cx: &mut Ctx<'_>,
    run: impl FnOnce(&mut Ctx<'_>) -> Res,
) -> Res {
    let balance = (cx.st.balance, cx.st.spent, cx.st.transactions.len());
    charge(index, args, cx)?;
    let out = run(cx);
    if out.is_err() {
        (cx.st.balance, cx.st.spent) = (balance.0, balance.1);
        cx.st.transactions.truncate(balance.2);
    }
    out
}

/// Charges a billable method's price (nothing under `test`); `non_sufficient_funds` when the
/// balance does not cover it.
fn charge(index: usize, args: &Args<'_>, cx: &mut Ctx<'_>) -> Result<(), Fail> {
    let m = &METHODS[index];
    if m.effect == Effect::Billable
        && !args.dry_run()
        && let Some((_, unit, what)) = PRICES.iter().find(|(n, ..)| *n == m.name)
    {
        let quantity = args.int("quantity").unwrap_or(1).clamp(1, 1000);
        let cost = unit * quantity;
        if cx.st.balance < cost {
            return Err(Fail::msg(
                "non_sufficient_funds",
                format!(
                    "{}: costs ${} but the balance is ${}",
                    m.name,
                    time::money(cost, 2),
                    time::money(cx.st.balance, 2)
                ),
            ));
        }
        cx.st.tick();
        cx.st
            .charge(cost, Some(("Order", format!("{what} ({})", m.name))));
    }
    Ok(())
}

/// Methods without a simulated domain: charged if billable, then answered from the example.
fn from_example(index: usize, args: &Args<'_>, cx: &mut Ctx<'_>) -> Res {
    charge(index, args, cx)?;
    match examples::answer(index, args)? {
        examples::ExampleAnswer::Cached(bytes) => Ok(Answer::Body(bytes)),
        examples::ExampleAnswer::Built(Value::Object(map)) => Ok(Answer::Fields(map)),
        examples::ExampleAnswer::Built(other) => Ok(Answer::Body(Bytes::from(
            serde_json::to_vec(&other).unwrap_or_default(),
        ))),
    }
}
