//! Oracle tests for what the live API showed (api-spec/FIDELITY.md), per-field degradation, drift
//! tracking, statuses and exact money. Bodies are written in the live shape by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use voipms_sdk::api::*;
use voipms_sdk::decode::{decode_response, decode_with_drift};
use voipms_sdk::status::{Status, StatusClass};
use voipms_sdk::transport::{Transport, TransportError, WireRequest, WireResponse};
use voipms_sdk::{Client, DateOrPeriod, Decimal, Error, Request};

fn decode<T: voipms_sdk::decode::Decode + Default>(v: Value) -> T {
    decode_response::<T>(&v).unwrap_or_else(|e| panic!("decode failed: {e}"))
}

fn day(y: i32, m: u32, d: u32) -> voipms_sdk::Date {
    voipms_sdk::Date::from_ymd_opt(y, m, d).unwrap()
}

fn params<R: Request>(r: &R) -> Vec<(String, String)> {
    r.to_params()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// One odd value costs its field, never the envelope.

#[test]
fn a_bad_date_in_row_two_of_three_keeps_rows_one_and_three() {
    let body = json!({"status": "success", "cdr": [
        {"date": "2026-03-01 10:00:00", "seconds": "10", "total": "0.01", "uniqueid": "a"},
        {"date": "2026-13-45 25:61:00", "seconds": "20", "total": "0.02", "uniqueid": "b"},
        {"date": "2026-03-03 12:00:00", "seconds": "30", "total": "0.03", "uniqueid": "c"},
    ]});
    let (r, drift) = decode_with_drift::<GetCdrResponse>(&body).unwrap();
    assert_eq!(r.cdr.len(), 3, "every row decodes");
    assert!(r.cdr[0].date.is_some() && r.cdr[2].date.is_some());
    assert_eq!(r.cdr[1].date, None, "the odd value costs its own field");
    assert_eq!(r.cdr[1].seconds, Some(20), "the rest of its row decodes");
    assert_eq!(r.cdr[1].uniqueid.as_deref(), Some("b"));
    assert_eq!(
        r.cdr[1].unreadable.get("date"),
        Some("2026-13-45 25:61:00"),
        "the text is kept, reachable from the row"
    );
    assert!(r.cdr[0].unreadable.is_empty() && r.cdr[2].unreadable.is_empty());
    assert_eq!(drift.unreadable().len(), 1);
    assert_eq!(drift.unreadable()[0].path, "$.cdr[1].date");
    assert_eq!(drift.unreadable()[0].text, "2026-13-45 25:61:00");
    assert!(drift.unread().is_empty());
}

#[test]
fn every_scalar_kind_degrades_alone() {
    let body = json!({"status": "success", "balance": {
        "current_balance": "lots", "spent_total": "1.50", "calls_total": "many", "calls_today": 3
    }});
    let (r, drift) = decode_with_drift::<GetBalanceResponse>(&body).unwrap();
    let b = r.balance.unwrap();
    assert_eq!(b.current_balance, None);
    assert_eq!(b.unreadable.get("current_balance"), Some("lots"));
    assert_eq!(b.unreadable.get("calls_total"), Some("many"));
    assert_eq!(b.spent_total, Some(Decimal::parse("1.5").unwrap()));
    assert_eq!(b.calls_today, Some(3));
    let paths: Vec<&str> = drift.unreadable().iter().map(|u| u.path.as_str()).collect();
    // Fields are read in key order.
    assert_eq!(
        paths,
        ["$.balance.calls_total", "$.balance.current_balance"]
    );
    // A number that does not read keeps its JSON text.
    let (r, drift) = decode_with_drift::<GetCdrResponse>(
        &json!({"status": "success", "cdr": [{"seconds": 1.5, "uniqueid": 7}]}),
    )
    .unwrap();
    assert_eq!(r.cdr[0].unreadable.get("seconds"), Some("1.5"));
    assert_eq!(r.cdr[0].uniqueid.as_deref(), Some("7"));
    assert_eq!(drift.unreadable()[0].expected, "an integer");
}

#[test]
fn shape_mismatches_still_fail_with_the_json_path() {
    let err = decode_response::<GetCdrResponse>(&json!({"status": "success", "cdr": [
        {"seconds": "1"}, {"seconds": {"nested": true}}
    ]}))
    .unwrap_err();
    assert_eq!(err.path(), "$.cdr[1].seconds");
    let err = decode_response::<GetBalanceResponse>(&json!({"status": "success", "balance": "x"}))
        .unwrap_err();
    assert_eq!(err.path(), "$.balance");
    let err = decode_response::<GetCdrResponse>(&json!({"cdr": ["not a row"]})).unwrap_err();
    assert_eq!(err.path(), "$.cdr[0]");
    assert_eq!(err.expected(), "an object");
}

#[test]
fn unread_keys_are_recorded_once_per_shape() {
    let mut rows = Vec::new();
    for i in 0..500 {
        rows.push(json!({"uniqueid": i.to_string(), "brand_new": "x"}));
    }
    let body = json!({"status": "success", "cdr": rows, "next_page": "2"});
    let (r, drift) = decode_with_drift::<GetCdrResponse>(&body).unwrap();
    assert_eq!(r.cdr.len(), 500);
    assert_eq!(drift.unread(), ["$.cdr[0].brand_new", "$.next_page"]);
    // `status` and aliases are read keys.
    let (_, drift) = decode_with_drift::<GetTransactionHistoryResponse>(&json!({
        "status": "success", "transactions": [{"amount": "1.00"}, {"ammount": "2.00"}]
    }))
    .unwrap();
    assert!(drift.is_empty(), "{drift:?}");
    // A status-only answer reports whatever else it carries.
    let (_, drift) = decode_with_drift::<DelPhonebookResponse>(
        &json!({"status": "success", "phonebook": "123"}),
    )
    .unwrap();
    assert_eq!(drift.unread(), ["$.phonebook"]);
}

#[test]
fn every_example_decodes_without_drift() {
    for m in voipms_sdk::catalog::METHODS {
        let body: Value = serde_json::from_str(m.example).unwrap();
        let decoded = voipms_sdk::api::decode_by_name(m.name, &body)
            .expect("every category is on")
            .unwrap_or_else(|e| panic!("{}: {e}", m.name));
        assert!(decoded.drift.is_empty(), "{}: {:?}", m.name, decoded.drift);
    }
}

// ---------------------------------------------------------------------------------------------
// Live shapes.

#[test]
fn conference_members_come_under_member() {
    let row = json!({"member": "1599", "name": "host", "pin": "0123", "admin": "yes"});
    for key in ["member", "members"] {
        let (r, drift) = decode_with_drift::<GetConferenceMembersResponse>(
            &json!({"status": "success", key: [row.clone()]}),
        )
        .unwrap();
        assert_eq!(r.members.len(), 1, "rows under `{key}`");
        assert_eq!(
            r.members[0].pin.as_deref(),
            Some("0123"),
            "leading zero kept"
        );
        assert_eq!(r.members[0].admin, Some(true));
        assert!(drift.is_empty());
    }
}

#[test]
fn phonebook_groups_come_under_phonebook_groups() {
    let r: GetPhonebookGroupsResponse = decode(json!({"status": "success", "phonebook_groups": [
        {"phonebook_group": "32207", "name": "Work", "members": "123;456"}
    ]}));
    assert_eq!(r.phonebooks[0].phonebook_group.as_deref(), Some("32207"));
}

#[test]
fn locations_read_from_a_list_or_an_object_keyed_by_id() {
    let r: GetLocationsResponse =
        decode(json!({"status": "success", "locations": ["Reachable by everyone"]}));
    assert_eq!(r.locations.len(), 1);
    assert_eq!(r.locations["0"], "Reachable by everyone");
    let r: GetLocationsResponse = decode(json!({"status": "success", "locations": {
        "0": "Reachable by everyone", "2617": "Montreal office"
    }}));
    assert_eq!(r.locations["2617"], "Montreal office");
    assert_eq!(r.locations.len(), 2);
}

#[test]
fn maps_keyed_zero_to_n_minus_one_arrive_as_arrays() {
    let r: GetLnpListStatusResponse = decode(json!({"status": "success", "list_status": [
        "Awaiting Documentation", "Submitted"
    ]}));
    assert_eq!(r.list_status["1"], "Submitted");
    let r: GetMediaMmsResponse = decode(json!({"status": "success", "id": "272377221",
        "date": "2014-03-30 10:24:16", "media": ["https://voip.ms/media/a.jpeg"]}));
    assert_eq!(r.media["0"], "https://voip.ms/media/a.jpeg");
}

#[test]
fn a_transaction_row_may_carry_a_period() {
    let (r, drift) = decode_with_drift::<GetTransactionHistoryResponse>(&json!({
        "status": "success", "transactions": [
            {"date": "2026-08-03 00:03:46", "type": "DID", "ammount": "-0.99"},
            {"date": "2026-08-01 to 2026-08-31", "type": "Calls", "ammount": "-3.4173"},
            {"date": "2026-08-05", "type": "Payment", "ammount": "25.00"},
        ]
    }))
    .unwrap();
    assert!(drift.is_empty(), "{drift:?}");
    let dates: Vec<DateOrPeriod> = r.transactions.iter().map(|t| t.date.unwrap()).collect();
    assert!(dates[0].at().is_some());
    assert_eq!(dates[1].period(), Some((day(2026, 8, 1), day(2026, 8, 31))));
    assert_eq!(dates[2], DateOrPeriod::On(day(2026, 8, 5)));
    assert_eq!(dates[1].to_string(), "2026-08-01 to 2026-08-31");
    // Money adds by value across the rows.
    let total: Decimal = r.transactions.iter().filter_map(|t| t.amount).sum();
    assert_eq!(total, Decimal::parse("20.5927").unwrap());
}

#[test]
fn undocumented_fields_are_read() {
    let r: GetCdrResponse = decode(json!({"status": "success", "cdr": [
        {"uniqueid": "1", "ip": "203.0.113.24", "useragent": "Zoiper rv2.10"}
    ]}));
    assert_eq!(r.cdr[0].ip.as_deref(), Some("203.0.113.24"));
    assert_eq!(r.cdr[0].user_agent.as_deref(), Some("Zoiper rv2.10"));
    let r: GetFaxNumbersInfoResponse = decode(json!({"status": "success", "numbers": [
        {"id": "0007", "did": "647.948.4755", "retry": "1", "attach_file": "0", "max_attempts": "10"}
    ]}));
    let n = &r.numbers[0];
    assert_eq!(n.id.as_deref(), Some("0007"));
    assert_eq!(n.did.as_deref(), Some("647.948.4755"));
    assert_eq!(
        (n.retry, n.attach_file, n.max_attempts),
        (Some(true), Some(false), Some(10))
    );
    let r: SetEmailToFaxResponse = decode(json!({"status": "success", "id": "3891"}));
    assert_eq!(r.id.as_deref(), Some("3891"));
    let r: GetSubAccountsResponse = decode(json!({"status": "success", "accounts": [
        {"account": "100001_VoIP", "allow225": "1", "dialing_mode": "0",
         "internal_extension_location": "2617", "transcription_start_delay": "15"}
    ]}));
    let a = &r.accounts[0];
    assert_eq!(a.allow225, Some(true));
    assert_eq!(a.transcription_start_delay, Some(15));
    let r: GetVoicemailsResponse =
        decode(json!({"status": "success", "voicemails": [{"mailbox": "0101", "client": "0"}]}));
    assert_eq!(r.voicemails[0].mailbox.as_deref(), Some("0101"));
    assert_eq!(r.voicemails[0].client.as_deref(), Some("0"));
    let r: SearchTollFreeUsaResponse = decode(json!({"status": "success", "dids": [
        {"did": "8885550179", "setup": "4.50", "sms": "1"}
    ]}));
    assert_eq!(r.dids[0].sms.as_deref(), Some("1"));
    assert_eq!(r.dids[0].setup, Some(Decimal::parse("4.5").unwrap()));
}

#[test]
fn corrected_parameters_encode_as_the_live_api_wants() {
    // getResellerSMS / getResellerMMS need `client`.
    let sms = GetResellerSms::new(561115);
    assert!(params(&sms).contains(&("client".into(), "561115".into())));
    let spec = voipms_sdk::catalog::method("getResellerMMS").unwrap();
    assert!(spec.param("client").unwrap().required);
    // getLNPList's port id is an optional filter.
    let spec = voipms_sdk::catalog::method("getLNPList").unwrap();
    assert!(!spec.param("portid").unwrap().required);
    // `test` goes out as `1` (VoIP.ms ignores `test=true`).
    let order = voipms_sdk::catalog::METHODS
        .iter()
        .filter_map(|m| m.param("test"))
        .collect::<Vec<_>>();
    assert!(order.len() >= 20);
    assert!(
        order
            .iter()
            .all(|p| p.kind == voipms_sdk::catalog::ParamKind::Flag)
    );
    // setFaxNumberInfo takes the undocumented max_attempts; setSMS accepts dialmode 0.
    assert!(
        voipms_sdk::catalog::method("setFaxNumberInfo")
            .unwrap()
            .param("max_attempts")
            .is_some()
    );
    let dialmode = voipms_sdk::catalog::method("setSMS")
        .unwrap()
        .param("dialmode")
        .unwrap();
    assert!(dialmode.values.iter().any(|v| v.value == "0"));
}

// ---------------------------------------------------------------------------------------------
// Statuses, through the client.

/// Answers every call with one fixed body and keeps the parameters it was sent.
#[derive(Debug)]
struct Fixed {
    body: String,
    seen: Mutex<Vec<Vec<(String, String)>>>,
}

impl Transport for Fixed {
    fn execute<'a>(
        &'a self,
        req: WireRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>> {
        let params = req
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        self.seen.lock().unwrap().push(params);
        let body = self.body.clone();
        Box::pin(async move {
            Ok(WireResponse {
                http_status: 200,
                body: body.into(),
            })
        })
    }
}

fn client_answering(body: &str) -> (Client, Arc<Fixed>) {
    let t = Arc::new(Fixed {
        body: body.to_owned(),
        seen: Mutex::new(Vec::new()),
    });
    let c = Client::builder()
        .credentials("me@example.com", "pw")
        .transport(t.clone())
        .build()
        .unwrap();
    (c, t)
}

#[tokio::test]
async fn success_test_is_a_success_and_test_goes_out_as_1() {
    let (client, t) = client_answering(r#"{"status":"success_test"}"#);
    let r = client.send(&CancelDid::new("5551234567").test(true)).await;
    let r = r.expect("success_test is a success");
    assert_eq!(
        Status::from_wire(r.raw["status"].as_str().unwrap()),
        Status::SuccessTest
    );
    assert!(t.seen.lock().unwrap()[0].contains(&("test".into(), "1".into())));
}

#[tokio::test]
async fn nested_invalid_reports_the_nested_code() {
    let (client, _) = client_answering(r#"{"status":"invalid","error":"invalid_portingid"}"#);
    let err = client.send(&GetLnpDetails::new(7)).await.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status(), "invalid_portingid");
    assert_eq!(api.code(), Status::InvalidPortingid);
    // An empty list nested the same way reads as an empty response.
    let (client, _) = client_answering(r#"{"status":"invalid","error":"no_ports"}"#);
    let r = client.send(&GetLnpList::new()).await.unwrap();
    assert!(r.list.is_empty());
}

#[tokio::test]
async fn undocumented_empty_statuses_are_empty_lists() {
    let (client, _) = client_answering(r#"{"status":"no_subaccount"}"#);
    let r = client
        .send(&GetSubAccounts::new().account("100001"))
        .await
        .unwrap();
    assert!(r.accounts.is_empty());
    for (code, class) in [
        ("no_ports", StatusClass::Empty),
        ("no_subaccount", StatusClass::Empty),
        ("success_test", StatusClass::Success),
        ("invalid_dialmode", StatusClass::InvalidInput),
        ("invalid_inbound_dialing_mode", StatusClass::InvalidInput),
    ] {
        assert_eq!(Status::from_wire(code).class(), Some(class), "{code}");
    }
    match Status::from_wire("no_cdr") {
        Status::NoCdr => {}
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Money.

#[test]
fn money_compares_and_adds_by_value() {
    let d = |t: &str| Decimal::parse(t).unwrap();
    assert!(d("10.00") > d("9.99"));
    assert_eq!(d("1.5"), d("1.50"));
    assert_eq!(
        d("112.192790").to_string(),
        "112.192790",
        "the scale sent is kept"
    );
    let r: GetCdrResponse = decode(json!({"status": "success", "cdr": [
        {"total": "0.01083333"}, {"total": "0.1"}, {"total": 2}
    ]}));
    let sum: Decimal = r.cdr.iter().filter_map(|c| c.total).sum();
    assert_eq!(sum, d("2.11083333"));
    let mut totals: Vec<Decimal> = r.cdr.iter().filter_map(|c| c.total).collect();
    totals.sort();
    assert_eq!(totals.last(), Some(&d("2")));
}

// ---------------------------------------------------------------------------------------------
// Shared enums and closed response fields.

#[test]
fn one_concept_is_one_type_for_params_and_fields() {
    // The SMS direction filter and the direction of each row are the same type.
    let r = GetSms::new().direction(MessageType::Received);
    assert!(params(&r).contains(&("type".into(), "1".into())));
    let rows: GetMmsResponse = decode(json!({"status": "success", "sms": [
        {"id": "1", "type": "0"}, {"id": "2", "type": 1}
    ]}));
    assert_eq!(rows.sms[0].direction, Some(MessageType::Sent));
    assert_eq!(rows.sms[1].direction, Some(MessageType::Received));
    // The four e911 methods share one country type.
    let update = |country: E911Country| {
        E911Update::new(
            "5551234567",
            "Jane Doe",
            "1",
            "Main St",
            "Montreal",
            "QC",
            country,
            "H0H 0H0",
            E911Language::French,
            "jane@example.com",
        )
    };
    let sent = params(&update(E911Country::Canada));
    assert!(sent.contains(&("country".into(), "CA".into())));
    assert!(sent.contains(&("language".into(), "FR".into())));
    let spec = voipms_sdk::catalog::method("e911Update").unwrap();
    assert_eq!(spec.param("country").unwrap().values.len(), 2);
    // A sub-account's settings read back as the types they are written with.
    let r: GetSubAccountsResponse = decode(json!({"status": "success", "accounts": [
        {"dtmf_mode": "rfc2833", "nat": "route", "dialing_mode": "2", "tfcarrier": "-1"}
    ]}));
    let a = &r.accounts[0];
    assert_eq!(a.dtmf_mode, Some(DtmfMode::Rfc2833));
    assert_eq!(a.nat, Some(Nat::Route));
    assert_eq!(a.dialing_mode, Some(DialingMode::Nanpa));
    assert_eq!(a.tfcarrier, Some(TollFreeCarrier::MainAccount));
}

#[test]
fn a_closed_field_keeps_an_unknown_value_as_other_and_reports_it() {
    let (r, drift) = decode_with_drift::<GetCdrResponse>(&json!({"status": "success", "cdr": [
        {"disposition": "ANSWERED"}, {"disposition": "NO ANSWER"}, {"disposition": "CONGESTION"}
    ]}))
    .unwrap();
    assert_eq!(r.cdr[0].disposition, Some(Disposition::Answered));
    assert_eq!(r.cdr[1].disposition, Some(Disposition::NoAnswer));
    assert_eq!(
        r.cdr[2].disposition,
        Some(Disposition::Other("CONGESTION".into()))
    );
    assert_eq!(drift.unreadable().len(), 1);
    assert_eq!(drift.unreadable()[0].path, "$.cdr[2].disposition");
    assert_eq!(Disposition::from_wire("BUSY").to_string(), "BUSY");
    assert_eq!(
        "FAILED".parse::<Disposition>().unwrap(),
        Disposition::Failed
    );
}
