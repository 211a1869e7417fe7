//! Oracle tests, written by hand from the wire facts (not generated): each VoIP.ms quirk must
//! decode right and each request must encode exactly as the service expects.

use serde_json::{Value, json};
use voipms_sdk::api::*;
use voipms_sdk::catalog::{self, Effect, ParamKind};
use voipms_sdk::decode::decode_response;
use voipms_sdk::{Base64, Date, Limit, Request};

fn decode<T: voipms_sdk::decode::Decode + Default>(v: Value) -> T {
    decode_response::<T>(&v).unwrap_or_else(|e| panic!("decode failed: {e}"))
}

fn params<R: Request>(r: &R) -> Vec<(String, String)> {
    r.to_params()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn send_sms_id_comes_back_as_a_bare_number() {
    let r: SendSmsResponse = decode(json!({"status": "success", "sms": 40702183}));
    assert_eq!(r.sms.as_deref(), Some("40702183"));
}

#[test]
fn did_rows_mix_numeric_and_string_flags() {
    let r: GetDidsInfoResponse = decode(json!({"status": "success", "dids": [
        {"did": "5551234567", "sms_available": 1, "sms_enabled": "1", "cnam": "0", "next_billing": "0000-00-00"}
    ]}));
    let d = &r.dids[0];
    assert_eq!(d.did.as_deref(), Some("5551234567"));
    assert_eq!(d.sms_available, Some(true));
    assert_eq!(d.sms_enabled, Some(true));
    assert_eq!(d.cnam, Some(false));
    assert_eq!(d.next_billing, None, "0000-00-00 means no date");
}

#[test]
fn phonebook_groups_under_either_key() {
    for key in ["phonebooks", "phonebook_groups"] {
        let r: GetPhonebookGroupsResponse = decode(json!({"status": "success", key: [
            {"phonebook_group": "3220", "name": "Spam", "members": "101;102"}
        ]}));
        assert_eq!(r.phonebooks.len(), 1, "rows under `{key}`");
        assert_eq!(r.phonebooks[0].name.as_deref(), Some("Spam"));
        assert_eq!(r.phonebooks[0].members.as_deref(), Some("101;102"));
    }
}

#[test]
fn mms_rows_come_under_sms() {
    let r: GetMmsResponse = decode(json!({"status": "success", "sms": [
        {"id": "1918", "date": "2024-01-02 03:04:05", "type": "1", "did": "5551234567",
         "contact": "5557654321", "message": "hi", "media": ["https://voip.ms/media/a.jpg"]}
    ]}));
    assert_eq!(r.sms.len(), 1);
    assert_eq!(
        r.sms[0].media,
        vec!["https://voip.ms/media/a.jpg".to_owned()]
    );
}

#[test]
fn one_item_lists_may_arrive_as_a_bare_object() {
    let r: GetVoicemailMessageFileResponse = decode(json!({"status": "success", "message":
        {"mailbox": "101", "folder": "INBOX", "message_num": "1", "data": "SUQz"}}));
    assert_eq!(r.message.len(), 1);
    assert_eq!(r.message[0].data.as_deref(), Some("SUQz"));
}

#[test]
fn data_keyed_maps() {
    let r: GetMediaMmsResponse = decode(json!({"status": "success", "id": "1918",
        "date": "2024-01-02 03:04:05", "media": {"1": "https://voip.ms/media/x.png", "2": "https://voip.ms/media/y.png"}}));
    assert_eq!(r.media.len(), 2);
    assert_eq!(r.media["2"], "https://voip.ms/media/y.png");
    let s: GetLnpListStatusResponse = decode(json!({"status": "success", "list_status":
        {"": "All", "pending": "Pending"}}));
    assert_eq!(s.list_status[""], "All");
}

#[test]
fn unlimited_and_false_dates() {
    let r: GetConferenceResponse = decode(json!({"status": "success", "conference": [
        {"conference": "1599", "max_members": "Unlimited"}, {"conference": "1600", "max_members": "10"}]}));
    assert_eq!(r.conference[0].max_members, Some(Limit::Unlimited));
    assert_eq!(r.conference[1].max_members, Some(Limit::Count(10)));
    let l: GetLnpListResponse = decode(json!({"status": "success", "list": [{"foc_date": false}]}));
    assert_eq!(l.list.len(), 1);
}

#[test]
fn sentinels_mean_not_set() {
    let r: GetSubAccountsResponse = decode(json!({"status": "success", "accounts": [
        {"account": "100001_VoIP", "callerid_number": "-1"}, {"account": "100001_b", "callerid_number": ""},
        {"account": "100001_c", "callerid_number": "5551234567"}]}));
    assert_eq!(r.accounts[0].callerid_number, None);
    assert_eq!(r.accounts[1].callerid_number, None);
    assert_eq!(r.accounts[2].callerid_number.as_deref(), Some("5551234567"));
}

#[test]
fn cdr_rows_keep_ids_and_display_caller_ids_as_text() {
    let r: GetCdrResponse = decode(json!({"status": "success", "cdr": [{
        "date": "2024-03-01 10:11:12", "callerid": "\"John Doe\" <5551112222>",
        "destination": "5551234567", "disposition": "ANSWERED", "duration": "00:01:05",
        "seconds": "65", "rate": "0.0100000", "total": "0.01083333", "uniqueid": "12964421x41098i8c"}]}));
    let c = &r.cdr[0];
    assert_eq!(c.uniqueid.as_deref(), Some("12964421x41098i8c"));
    assert_eq!(c.callerid.as_deref(), Some("\"John Doe\" <5551112222>"));
    assert_eq!(c.seconds, Some(65));
    assert_eq!(
        c.total.map(|d| d.to_string()).as_deref(),
        Some("0.01083333")
    );
    assert_eq!(c.date.unwrap().to_string(), "2024-03-01 10:11:12");
}

#[test]
fn call_parking_list_under_its_documented_wrong_key() {
    let r: GetCallParkingResponse =
        decode(json!({"status": "success", "call_hunting": [{"callparking": "7"}]}));
    assert_eq!(r.callparking.len(), 1);
}

#[test]
fn dotted_fax_numbers_stay_text() {
    let r: GetFaxNumbersInfoResponse =
        decode(json!({"status": "success", "numbers": [{"did": "647.948.4755"}]}));
    assert_eq!(r.numbers[0].did.as_deref(), Some("647.948.4755"));
}

#[test]
fn money_is_exact() {
    let r: GetBalanceResponse = decode(json!({"status": "success", "balance": {
        "current_balance": "112.192790", "calls_total": "2788", "time_total": "10:17:48"}}));
    let b = r.balance.unwrap();
    assert_eq!(b.current_balance.unwrap().to_string(), "112.192790");
    assert_eq!(b.calls_total, Some(2788));
    assert_eq!(b.time_total.as_deref(), Some("10:17:48"));
}

#[test]
fn decode_errors_name_the_json_path() {
    let err = decode_response::<GetCdrResponse>(&json!({"status": "success", "cdr": [
        {"seconds": "1"}, {"seconds": ["lots"]}]}))
    .unwrap_err();
    assert_eq!(err.path(), "$.cdr[1].seconds");
    let by_name = voipms_sdk::api::decode_by_name("getCDR", &json!({"cdr": {"seconds": []}}))
        .expect("getCDR is known")
        .unwrap_err();
    assert_eq!(by_name.path(), "$.cdr.seconds");
    assert!(voipms_sdk::api::decode_by_name("noSuchMethod", &json!({})).is_none());
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn cdr_request_flags_are_one_and_zero_and_dates_iso() {
    let r = GetCdr::new(date("2024-01-01"), date("2024-03-31"), -5)
        .answered(true)
        .noanswer(false)
        .account("100001_VoIP");
    assert_eq!(
        params(&r),
        vec![
            p("date_from", "2024-01-01"),
            p("date_to", "2024-03-31"),
            p("answered", "1"),
            p("noanswer", "0"),
            p("timezone", "-5"),
            p("account", "100001_VoIP"),
        ]
    );
    assert_eq!(GetCdr::METHOD, "getCDR");
    assert_eq!(GetCdr::spec().name, "getCDR");
}

#[test]
fn odd_id_parameter_names_are_kept() {
    let set = SetCallerIdFiltering::new("p:3220", "all", "sys:hangup").filter(17);
    let ps = params(&set);
    assert!(ps.contains(&p("filter", "17")), "{ps:?}");
    assert!(!ps.iter().any(|(k, _)| k == "filtering"));
    assert!(ps.contains(&p("callerid", "p:3220")));
    assert!(ps.contains(&p("routing", "sys:hangup")));
    assert_eq!(
        params(&DelCallerIdFiltering::new(17)),
        vec![p("filtering", "17")]
    );
    assert_eq!(params(&DelRingGroup::new(4)), vec![p("ringgroup", "4")]);
    assert_eq!(SetCallerIdFiltering::spec().name, "setCallerIDFiltering");
}

#[test]
fn list_separators_follow_the_parameter() {
    let g = SetPhonebookGroup::new("Spam").members(["101", "102", "103"]);
    assert!(params(&g).contains(&p("members", "101;102;103")));
    let sep = |m: &str, param: &str| match catalog::method(m).unwrap().param(param).unwrap().kind {
        ParamKind::List { separator } => separator,
        other => panic!("{m}.{param} is {other:?}"),
    };
    assert_eq!(sep("setPhonebookGroup", "members"), ";");
    assert_eq!(sep("setRingGroup", "members"), ";");
    assert_eq!(sep("createSubAccount", "allowed_codecs"), ";");
    assert_eq!(sep("createSubAccount", "ip_restriction"), ",");
}

#[test]
fn yes_no_flags_are_spelled_out() {
    let kind = |m: &str, param: &str| catalog::method(m).unwrap().param(param).unwrap().kind;
    assert_eq!(kind("setVoicemail", "attach_message"), ParamKind::YesNo);
    assert_eq!(kind("setVoicemail", "say_time"), ParamKind::YesNo);
    assert_eq!(kind("getCDR", "answered"), ParamKind::Flag);
    let vm = catalog::method("setVoicemail").unwrap();
    let args: Vec<&str> = vm
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    assert!(args.contains(&"attach_message"), "{args:?}");
}

#[test]
fn base64_payloads_and_enums_encode_as_text() {
    let r =
        GetVoicemailMessageFile::new("101", "INBOX", 1).format(GetVoicemailMessageFileFormat::Mp3);
    assert!(params(&r).contains(&p("format", "mp3")));
    let b = Base64::from_bytes(b"%PDF-1.4");
    assert_eq!(b.as_str(), "JVBERi0xLjQ=");
    assert_eq!(
        catalog::method("sendFaxMessage")
            .unwrap()
            .param("file")
            .unwrap()
            .kind,
        ParamKind::Base64
    );
}

#[test]
fn effects_drive_safety() {
    let e = |m: &str| catalog::method(m).unwrap().effect;
    assert_eq!(e("getBalance"), Effect::Read);
    assert_eq!(e("setPhonebook"), Effect::Write);
    assert_eq!(e("delPhonebook"), Effect::Destructive);
    assert_eq!(e("cancelDID"), Effect::Destructive);
    assert_eq!(e("orderDID"), Effect::Billable);
    assert_eq!(e("sendSMS"), Effect::Billable);
    assert_eq!(e("addPayment"), Effect::Billable);
    let rest_only: Vec<&str> = catalog::METHODS
        .iter()
        .filter(|m| m.rest_only)
        .map(|m| m.name)
        .collect();
    assert_eq!(
        rest_only,
        ["delSequences", "getInvoice", "getSequences", "setSequences"]
    );
}

#[test]
fn prototype_positional_shortcuts_are_in_the_catalog() {
    let cli = catalog::method("getPhonebook").unwrap().cli;
    let pick = |arg: &str| {
        cli.positional
            .iter()
            .find(|p| p.when.matches(arg))
            .map(|p| p.param)
    };
    assert_eq!(pick("16389"), Some("group"));
    assert_eq!(pick("Spam"), Some("group_name"));
    let groups = catalog::method("getPhonebookGroups").unwrap().cli;
    assert_eq!(
        groups
            .positional
            .iter()
            .find(|p| p.when.matches("Spam"))
            .map(|p| p.param),
        Some("name")
    );
}

#[test]
fn every_example_response_decodes_into_its_typed_response() {
    let mut failures = Vec::new();
    for m in catalog::METHODS {
        let body: Value = serde_json::from_str(m.example).expect("examples are JSON");
        match voipms_sdk::api::decode_by_name(m.name, &body) {
            None => failures.push(format!("{}: no typed response", m.name)),
            Some(Err(e)) => failures.push(format!("{}: {e}", m.name)),
            Some(Ok(_)) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn empty_status_methods_decode_an_empty_payload() {
    let r: GetCdrResponse = decode(json!({}));
    assert!(r.cdr.is_empty());
    assert!(catalog::method("getCDR").unwrap().is_empty_status("no_cdr"));
    assert!(
        catalog::method("getPhonebook")
            .unwrap()
            .is_empty_status("no_phonebook")
    );
}
