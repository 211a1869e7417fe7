//! The sandbox against the SDK: every method over real HTTP, the quirks, the stateful flows, fault
//! injection, concurrency, persistence and credentials.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use voipms_sdk::catalog::{self, METHODS, Method, ParamKind};
use voipms_sdk::sandbox::{
    Fault, FaultRule, Faults, LostReply, RequestEncoding, Sandbox, SandboxConfig, SandboxError,
    SandboxRequest, ServeOptions,
};
use voipms_sdk::{Client, Error, Params, RetryPolicy, TransportKind};

#[path = "common/calls.rs"]
mod calls;
#[path = "common/mp3.rs"]
mod mp3;

use calls::{p, status_of};

/// A "today" that puts the spec examples' dates (June 2025) inside the call history.
fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 7, 15).unwrap()
}

const SECRET: &str = "Zq9-very-private-pw";

fn config() -> SandboxConfig {
    SandboxConfig {
        today: Some(today()),
        password: SECRET.into(),
        ..SandboxConfig::default()
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        rate_limit_delay: Duration::from_millis(5),
    }
}

fn http_client(sb: &Sandbox, url: &str, retry: RetryPolicy) -> Client {
    Client::builder()
        .credentials(sb.username(), sb.password())
        .base_url(url)
        .retry(retry)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A valid value for a required parameter: its example, or one of its kind.
fn value_for(param: &catalog::Param) -> String {
    if let Some(v) = param.example {
        return v.to_owned();
    }
    match param.kind {
        ParamKind::String => "Sandbox test".into(),
        ParamKind::Integer => "1".into(),
        ParamKind::Decimal => "1.00".into(),
        ParamKind::Flag => "1".into(),
        ParamKind::YesNo => "yes".into(),
        ParamKind::Date => "2025-07-01".into(),
        ParamKind::DateTime => "2025-07-01 10:00:00".into(),
        ParamKind::Enum => param.values[0].value.into(),
        ParamKind::Routing => "sys:hangup".into(),
        ParamKind::List { .. } => "1".into(),
        ParamKind::Base64 => "JVBERi0xLjQK".into(),
        ParamKind::Phone => "5559876543".into(),
        ParamKind::Email => "demo@example.com".into(),
        ParamKind::Url => "https://example.com/".into(),
        ParamKind::TzOffset => "-5".into(),
        ParamKind::Timezone => "America/New_York".into(),
    }
}

fn required_params(m: &Method) -> Params {
    m.params
        .iter()
        .filter(|p| p.required)
        .map(|p| (p.name, value_for(p)))
        .collect()
}

#[tokio::test]
async fn all_226_methods_over_http_decode() {
    let sb = Sandbox::new(config());
    let server = sb.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = http_client(&sb, &server.url(), RetryPolicy::none());
    // Optional parameters these calls need with the examples' other values: a password for
    // auth_type 1, the id a delete takes, one call status of the four.
    let overrides: &[(&str, &str, &str)] = &[
        ("createSubAccount", "password", "Lobby2025pw"),
        ("delSubAccount", "id", "99788"),
        ("getCDR", "answered", "1"),
        ("getResellerCDR", "answered", "1"),
        // These cost more than the seeded balance holds: validate only.
        ("orderDIDInternationalNational", "test", "1"),
        ("orderDIDInternationalTollFree", "test", "1"),
        ("delForwarding", "forwarding", "18635"),
    ];
    assert_eq!(METHODS.len(), 226);
    let mut failures = Vec::new();
    let mut empty = Vec::new();
    for m in METHODS {
        sb.reset();
        let mut params = required_params(m);
        for (method, name, value) in overrides {
            if *method == m.name {
                params.push(*name, *value);
            }
        }
        // Undoing a link needs the link first: the member on a bridge, a DID handed to a client.
        if m.name == "delMemberFromConference" {
            let link = p([("member", "1599"), ("conference", "1599")]);
            client.call("addMemberToConference", link).await.unwrap();
        }
        if m.name == "unconnectDID" {
            let dids = client.call("getDIDsInfo", Params::new()).await.unwrap();
            let did = dids["dids"][0]["did"].as_str().unwrap().to_owned();
            let mut link = required_params(catalog::method("connectDID").unwrap());
            link.push("did", did.clone());
            client.call("connectDID", link).await.unwrap();
            params.push("did", did);
        }
        // A family's delete names a record the account holds: the first one listed.
        if let Some(f) = catalog::family_of(m.name).filter(|f| f.del == Some(m.name)) {
            let get = catalog::method(f.get).unwrap();
            let listed = client.call(f.get, required_params(get)).await.unwrap();
            let id = &listed[f.list_key][0][f.id_field];
            params.push(
                f.del_id.unwrap(),
                id.as_str().map_or_else(|| id.to_string(), str::to_owned),
            );
        }
        match client.call_with_effect(m.name, &params, m.effect).await {
            Ok(outcome) if outcome.empty => {
                empty.push(format!("{} → {}", m.name, outcome.status()))
            }
            Ok(outcome) => {
                assert!(
                    !outcome.body.to_string().contains(SECRET),
                    "{} leaked the password",
                    m.name
                );
                match voipms_sdk::api::decode_by_name(m.name, &outcome.body) {
                    // The sandbox answers in the live shape: every key read, every value readable.
                    Some(Ok(d)) if d.drift.is_empty() => {}
                    Some(Ok(d)) => failures.push(format!("{}: drift: {:?}", m.name, d.drift)),
                    Some(Err(e)) => failures.push(format!("{}: decode: {e}", m.name)),
                    None => failures.push(format!("{}: no typed decoder", m.name)),
                }
            }
            Err(e) => failures.push(format!("{}: {}", m.name, status_of(&e))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Empty answers are allowed (the method's documented `no_*` status) but must stay rare.
    assert!(empty.len() < 10, "too many empty answers: {empty:?}");
    assert_eq!(sb.call_counts().values().sum::<u64>(), sb.total_calls());
    server.shutdown().await;
}

#[tokio::test]
async fn missing_required_params_give_their_status() {
    let sb = Sandbox::new(config());
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("sendSMS", "did", "missing_did"),
        ("sendSMS", "message", "message_empty"),
        ("getCDR", "date_from", "missing_from_date"),
        ("getCDR", "timezone", "missing_timezone"),
        ("setPhonebook", "name", "missing_name"),
        ("setPhonebook", "number", "missing_number"),
        ("delPhonebook", "phonebook", "missing_phonebook"),
        ("setCallerIDFiltering", "callerid", "missing_callerid"),
        ("setCallerIDFiltering", "routing", "missing_routing"),
        ("delCallerIDFiltering", "filtering", "missing_filter"),
        ("setForwarding", "phone_number", "missing_phonenumber"),
        ("createVoicemail", "attach_message", "missing_attachmessage"),
        ("getCallRecording", "callrecording", "missing_callrecording"),
        ("setDIDRouting", "routing", "missing_routing"),
        (
            "getVoicemailMessageFile",
            "message_num",
            "missing_message_num",
        ),
    ];
    for (method, drop, want) in cases {
        let m = catalog::method(method).unwrap();
        let mut params = required_params(m);
        params.remove(drop);
        let err = client.call(method, params).await.unwrap_err();
        assert_eq!(status_of(&err), *want, "{method} without {drop}");
        assert!(err.api_error().unwrap().message().is_some());
    }
    // Every method: leaving out its first required parameter is refused with a missing status.
    for m in METHODS {
        let Some(first) = m.params.iter().find(|p| p.required) else {
            continue;
        };
        let mut params = required_params(m);
        params.remove(first.name);
        let err = client.call(m.name, params).await.unwrap_err();
        let s = status_of(&err);
        assert!(
            s.starts_with("missing_") || s == "message_empty",
            "{} without {}: {s}",
            m.name,
            first.name
        );
    }
}

#[tokio::test]
async fn validation_quirks() {
    let sb = Sandbox::new(config());
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let cdr = |from: &'static str, to: &'static str| {
        p([
            ("date_from", from),
            ("date_to", to),
            ("timezone", "-5"),
            ("answered", "1"),
        ])
    };
    let err = |r: Result<Value, Error>| status_of(&r.unwrap_err());
    assert_eq!(
        err(client.call("getCDR", cdr("2025-01-01", "2025-06-30")).await),
        "invalid_daterange"
    );
    assert_eq!(
        err(client.call("getCDR", cdr("2025-06-30", "2025-06-01")).await),
        "invalid_date_from"
    );
    assert_eq!(
        err(client.call("getCDR", cdr("2025-06-31", "2025-07-01")).await),
        "invalid_date"
    );
    let none = p([
        ("date_from", "2025-06-01"),
        ("date_to", "2025-06-30"),
        ("timezone", "-5"),
        ("answered", "0"),
        ("noanswer", "0"),
    ]);
    assert_eq!(err(client.call("getCDR", none).await), "no_callstatus");
    // Flags take 1/0 and true/false; 92 days is still fine.
    let ok = p([
        ("date_from", "2025-04-01"),
        ("date_to", "2025-07-02"),
        ("timezone", "-5"),
        ("answered", "true"),
    ]);
    let body = client.call("getCDR", ok).await.unwrap();
    assert!(
        body["cdr"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["disposition"] == "ANSWERED")
    );
    assert_eq!(
        err(client
            .call(
                "getCDR",
                p([
                    ("date_from", "2025-06-01"),
                    ("date_to", "2025-06-02"),
                    ("timezone", "14"),
                    ("answered", "1")
                ])
            )
            .await),
        "invalid_timezone"
    );
    // Unknown method, bad enum, bad routing, phone forms.
    assert_eq!(
        err(client.call("getBalanse", Params::new()).await),
        "invalid_method"
    );
    assert_eq!(
        err(client
            .call("getDTMFModes", p([("dtmf_mode", "loud")]))
            .await),
        "invalid_dtmfmode"
    );
    assert_eq!(
        err(client
            .call(
                "setDIDRouting",
                p([("did", "5551234567"), ("routing", "pbx:1")])
            )
            .await),
        "invalid_routing_header"
    );
    for did in [
        "555.123.4567",
        "+15551234567",
        "(555) 123-4567",
        "1-555-123-4567",
    ] {
        let body = client.call("getDIDsInfo", p([("did", did)])).await.unwrap();
        assert_eq!(body["dids"][0]["did"], "5551234567", "{did}");
    }
    assert_eq!(
        err(client.call("getDIDsInfo", p([("did", "555-1234")])).await),
        "invalid_did"
    );
    assert_eq!(
        err(client
            .call(
                "setDIDRouting",
                p([("did", "5550000000"), ("routing", "sys:busy")])
            )
            .await),
        "invalid_did"
    );
    // Wire realism.
    let dids = client.call("getDIDsInfo", Params::new()).await.unwrap();
    assert_eq!(dids["dids"][0]["sms_available"], 1);
    assert_eq!(dids["dids"][0]["sms_enabled"], "1");
    let balance = client
        .call("getBalance", p([("advanced", "1")]))
        .await
        .unwrap();
    assert!(balance["balance"]["current_balance"].is_string());
    assert!(
        balance["balance"]["calls_total"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 1000
    );
    let file = client
        .call("getRecordingFile", p([("recording", "7567")]))
        .await
        .unwrap();
    assert!(
        file["recordings"].is_object(),
        "one-item file lists are a bare object"
    );
    let vm = client
        .call(
            "getVoicemailMessageFile",
            p([
                ("mailbox", "1001"),
                ("folder", "INBOX"),
                ("message_num", "1"),
            ]),
        )
        .await
        .unwrap();
    assert!(vm["message"].is_object());
    let ip = client.call("getIP", Params::new()).await.unwrap();
    assert_eq!(ip["ip"], "203.0.113.10");
    // An empty list is the method's `no_*` status.
    let outcome = client
        .call_with_effect(
            "getPhonebook",
            &p([("name", "nobody at all")]),
            catalog::Effect::Read,
        )
        .await
        .unwrap();
    assert!(outcome.empty);
    assert_eq!(outcome.status(), "no_phonebook");
    // Reference data.
    let tz = client.call("getTimezones", Params::new()).await.unwrap();
    let zones: Vec<&str> = tz["timezones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["value"].as_str().unwrap())
        .collect();
    assert!(zones.contains(&"US/Pacific-New") && zones.contains(&"America/New_York"));
    let servers = client
        .call("getServersInfo", p([("server_pop", "73")]))
        .await
        .unwrap();
    assert_eq!(servers["servers"][0]["server_hostname"], "newyork7.voip.ms");
    assert!(
        client.call("getCountries", Params::new()).await.unwrap()["countries"]
            .as_array()
            .unwrap()
            .len()
            > 240
    );
}

#[tokio::test]
async fn raw_http_semantics() {
    let sb = Sandbox::new(config());
    let server = sb.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    voipms_sdk::transport::install_crypto_provider();
    let http = reqwest::Client::new();
    let url = server.url();
    let auth = [
        ("api_username", sb.username()),
        ("api_password", sb.password()),
    ];
    let with = |pairs: &[(&str, &str)]| {
        let mut u = reqwest::Url::parse(&url).unwrap();
        u.query_pairs_mut().extend_pairs(pairs);
        u
    };
    let json = |bytes: bytes::Bytes| serde_json::from_slice::<Value>(&bytes).unwrap();
    // urlencoded POST: HTTP 500 with a SOAP fault, as the live service answers.
    let form = format!(
        "api_username={}&api_password={}&method=getBalance",
        sb.username().replace('@', "%40"),
        sb.password()
    );
    let r = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert!(r.text().await.unwrap().contains("SOAP-ENV:Fault"));
    // Multipart POST works.
    let form = reqwest::multipart::Form::new()
        .text("api_username", sb.username().to_owned())
        .text("api_password", sb.password().to_owned())
        .text("method", "getBalance");
    let r = http.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(json(r.bytes().await.unwrap())["status"], "success");
    // delConference: an empty body on success (1599 is the seeded conference).
    let r = http
        .get(with(&[
            auth[0],
            auth[1],
            ("method", "delConference"),
            ("conference", "1599"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.unwrap().is_empty());
    // sendSMS answers its id as a bare JSON number.
    let r = http
        .get(with(&[
            auth[0],
            auth[1],
            ("method", "sendSMS"),
            ("did", "5551234567"),
            ("dst", "5559876543"),
            ("message", "hi"),
        ]))
        .send()
        .await
        .unwrap();
    let v = json(r.bytes().await.unwrap());
    assert!(v["sms"].is_u64(), "{v}");
    // Missing method, missing credentials, other paths.
    let r = http.get(with(&[auth[0], auth[1]])).send().await.unwrap();
    assert_eq!(json(r.bytes().await.unwrap())["status"], "missing_method");
    let r = http
        .get(with(&[("method", "getBalance")]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(r.bytes().await.unwrap())["status"],
        "missing_credentials"
    );
    let r = http
        .get(url.replace("rest.php", "nothing.php"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    server.shutdown().await;
    // Only loopback.
    let e = sb.serve("0.0.0.0:0".parse().unwrap()).await.unwrap_err();
    assert!(matches!(e, SandboxError::NotLoopback { .. }));
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
}

#[tokio::test]
async fn credentials_and_the_password_never_shows() {
    let sb = Sandbox::new(config());
    for (user, pass) in [
        (sb.username(), "wrong-password"),
        ("someone@example.com", SECRET),
    ] {
        let client = Client::builder()
            .credentials(user, pass)
            .transport(sb.transport())
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let e = client.call("getBalance", Params::new()).await.unwrap_err();
        assert_eq!(status_of(&e), "invalid_credentials");
        assert!(!format!("{e} {e:?}").contains(SECRET));
    }
    // The user name is the account e-mail, any case.
    let client = Client::builder()
        .credentials("DEMO@example.com", SECRET)
        .transport(sb.transport())
        .build()
        .unwrap();
    client.call("getBalance", Params::new()).await.unwrap();
    // Nothing the sandbox says shows the password.
    let fields = [
        ("api_username", sb.username()),
        ("api_password", SECRET),
        ("method", "setPhonebook"),
        ("name", SECRET),
        ("number", "bad"),
    ];
    let req = SandboxRequest {
        encoding: RequestEncoding::Get,
        fields: &fields,
    };
    assert!(!format!("{req:?}").contains(SECRET));
    let reply = sb.handle(req);
    assert!(!String::from_utf8_lossy(&reply.body).contains(SECRET));
    assert!(!format!("{sb:?} {:?}", config()).contains(SECRET));
    let dir = temp_dir();
    let path = dir.join("state.json");
    sb.save(&path).unwrap();
    assert!(!std::fs::read_to_string(&path).unwrap().contains(SECRET));
    std::fs::write(&path, "{not json").unwrap();
    let e = Sandbox::load(&path, config()).unwrap_err();
    assert!(matches!(e, SandboxError::Corrupt { .. }));
    assert!(!e.to_string().contains(SECRET) && e.to_string().contains("delete it"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn phonebook_groups_and_caller_id_filtering_flow() {
    let sb = Sandbox::new(config());
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let id = |v: &Value, k: &str| v[k].as_str().unwrap().to_owned();
    // An empty group.
    let g = client
        .call("setPhonebookGroup", p([("name", "Telemarketers")]))
        .await
        .unwrap();
    let group = id(&g, "group");
    let groups = client
        .call("getPhonebookGroups", p([("group", &group)]))
        .await
        .unwrap();
    assert_eq!(groups["phonebook_groups"][0]["members"], "");
    // Entries, one added through the entry's `group`, two through the group's members; the same
    // number twice is allowed.
    let a = id(
        &client
            .call(
                "setPhonebook",
                p([
                    ("name", "Car warranty"),
                    ("number", "8445550142"),
                    ("group", &group),
                ]),
            )
            .await
            .unwrap(),
        "phonebook",
    );
    let b = id(
        &client
            .call(
                "setPhonebook",
                p([("name", "Duct cleaning"), ("number", "305.555.0190")]),
            )
            .await
            .unwrap(),
        "phonebook",
    );
    let c = id(
        &client
            .call(
                "setPhonebook",
                p([
                    ("name", "Duct cleaning (again)"),
                    ("number", "+1 305 555 0190"),
                ]),
            )
            .await
            .unwrap(),
        "phonebook",
    );
    let members = format!("{a};{b};{c}");
    client
        .call(
            "setPhonebookGroup",
            p([
                ("group", &group),
                ("name", "Telemarketers"),
                ("members", &members),
            ]),
        )
        .await
        .unwrap();
    let listed = client
        .call("getPhonebook", p([("group_name", "Telemarketers")]))
        .await
        .unwrap();
    let rows = listed["phonebooks"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["group"] == group.as_str() && r["group_name"] == "Telemarketers")
    );
    assert_eq!(rows[1]["number"], "3055550190");
    assert_eq!(rows[2]["number"], "3055550190");
    // Update by id.
    client
        .call(
            "setPhonebook",
            p([
                ("phonebook", &a),
                ("name", "Warranty robot"),
                ("number", "8445550142"),
            ]),
        )
        .await
        .unwrap();
    let one = client
        .call("getPhonebook", p([("phonebook", &a)]))
        .await
        .unwrap();
    assert_eq!(one["phonebooks"][0]["name"], "Warranty robot");
    // Block the group.
    let rule = client
        .call(
            "setCallerIDFiltering",
            p([
                ("callerid", &format!("p:{group}")),
                ("did", "all"),
                ("routing", "sys:hangup"),
                ("note", "block telemarketers"),
            ]),
        )
        .await
        .unwrap();
    let rule_id = id(&rule, "filtering");
    let again = client
        .call(
            "setCallerIDFiltering",
            p([
                ("callerid", &format!("p:{group}")),
                ("did", "all"),
                ("routing", "sys:busy"),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), "used_filter");
    let rules = client
        .call("getCallerIDFiltering", p([("filtering", &rule_id)]))
        .await
        .unwrap();
    assert_eq!(rules["filtering"][0]["callerid"], format!("p:{group}"));
    assert_eq!(rules["filtering"][0]["routing"], "sys:hangup");
    // Update the rule (note: `filter`, not `filtering`), then a rule for a missing group.
    client
        .call(
            "setCallerIDFiltering",
            p([
                ("filter", &rule_id),
                ("callerid", &format!("p:{group}")),
                ("did", "5551234567"),
                ("routing", "sys:noservice"),
            ]),
        )
        .await
        .unwrap();
    let bad = client
        .call(
            "setCallerIDFiltering",
            p([
                ("callerid", "p:999999"),
                ("did", "all"),
                ("routing", "sys:hangup"),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&bad), "invalid_callerid");
    // Deleting an entry takes it out of its groups.
    client
        .call("delPhonebook", p([("phonebook", &b)]))
        .await
        .unwrap();
    let groups = client
        .call("getPhonebookGroups", p([("group", &group)]))
        .await
        .unwrap();
    assert_eq!(groups["phonebook_groups"][0]["members"], format!("{a};{c}"));
    let e = client
        .call(
            "setPhonebookGroup",
            p([("group", &group), ("name", "x"), ("members", &b)]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "invalid_member");
    // Speed dials are unique.
    let e = client
        .call(
            "setPhonebook",
            p([
                ("name", "x"),
                ("number", "5550001111"),
                ("speed_dial", "*7501"),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "used_speed_dial");
    // Forwardings are capped at four.
    client
        .call("setForwarding", p([("phone_number", "5550002222")]))
        .await
        .unwrap();
    client
        .call("setForwarding", p([("phone_number", "5550003333")]))
        .await
        .unwrap();
    let e = client
        .call("setForwarding", p([("phone_number", "5550004444")]))
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "forwards_exceeded");
}

#[tokio::test]
async fn group_member_limit_is_configurable() {
    let sb = Sandbox::new(SandboxConfig {
        group_member_limit: 2,
        ..config()
    });
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let e = client
        .call(
            "setPhonebookGroup",
            p([("name", "Big"), ("members", "32207;32208;19183")]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "max_phonebook");
    let e = client
        .call(
            "setPhonebook",
            p([
                ("name", "Third"),
                ("number", "5550001234"),
                ("group", "3220"),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "max_phonebook");
}

#[tokio::test]
async fn sms_send_list_limits() {
    let sb = Sandbox::new(SandboxConfig {
        sms_daily_limit: 8,
        ..config()
    });
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let send = |msg: &str| {
        client.call(
            "sendSMS",
            p([
                ("did", "5551234567"),
                ("dst", "5559876543"),
                ("message", msg),
            ]),
        )
    };
    // 160 bytes pass, 161 do not; é is two bytes, so 80 of them are the limit.
    send(&"a".repeat(160)).await.unwrap();
    assert_eq!(
        status_of(&send(&"a".repeat(161)).await.unwrap_err()),
        "sms_toolong"
    );
    send(&"é".repeat(80)).await.unwrap();
    let e = send(&format!("{}a", "é".repeat(80))).await.unwrap_err();
    assert_eq!(status_of(&e), "sms_toolong");
    assert!(
        e.api_error()
            .unwrap()
            .message()
            .unwrap()
            .contains("161 bytes")
    );
    assert_eq!(status_of(&send("").await.unwrap_err()), "message_empty");
    // Not SMS-enabled.
    let e = client
        .call(
            "sendSMS",
            p([
                ("did", "5551234568"),
                ("dst", "5559876543"),
                ("message", "x"),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "invalid_did");
    // The sent messages are listed (today by default), newest first, under `sms`.
    let id = send("Hello from the sandbox").await.unwrap()["sms"]
        .as_u64()
        .unwrap();
    let list = client
        .call("getSMS", p([("type", "0"), ("contact", "5559876543")]))
        .await
        .unwrap();
    let rows = list["sms"].as_array().unwrap();
    assert_eq!(rows[0]["id"], id.to_string());
    assert_eq!(rows[0]["message"], "Hello from the sandbox");
    let limited = client.call("getSMS", p([("limit", "2")])).await.unwrap();
    assert_eq!(limited["sms"].as_array().unwrap().len(), 2);
    // The daily cap.
    let mut outcome = Ok(Value::Null);
    for i in 0..20 {
        outcome = send(&format!("message {i}")).await;
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(status_of(&outcome.unwrap_err()), "limit_reached");
    // Delete, then it is gone.
    client
        .call("deleteSMS", p([("id", &id.to_string())]))
        .await
        .unwrap();
    let gone = client
        .call_with_effect(
            "getSMS",
            &p([("sms", &id.to_string())]),
            catalog::Effect::Read,
        )
        .await
        .unwrap();
    assert!(gone.empty);
    // MMS: the id comes back as a number, the rows under `sms`, media as URLs.
    let mms = client
        .call("sendMMS", p([("did", "5551234567"), ("dst", "5559876543"), ("message", "pic"), ("media1", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")]))
        .await
        .unwrap();
    let mms_id = mms["mms"].as_u64().unwrap().to_string();
    let listed = client.call("getMMS", p([("mms", &mms_id)])).await.unwrap();
    assert!(
        listed["sms"][0]["media"][0]
            .as_str()
            .unwrap()
            .starts_with("https://voip.ms/media/")
    );
    let media = client
        .call("getMediaMMS", p([("id", &mms_id)]))
        .await
        .unwrap();
    assert!(media["media"]["1"].is_string());
    // The 92-day cap applies to messages too; E.164 dial mode changes the number format.
    let e = client
        .call("getSMS", p([("from", "2025-01-01"), ("to", "2025-07-15")]))
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "invalid_daterange");
    client
        .call(
            "setSMS",
            p([("did", "5551234567"), ("enable", "1"), ("dialmode", "2")]),
        )
        .await
        .unwrap();
    let e164 = client.call("getSMS", Params::new()).await.unwrap();
    assert!(e164["sms"][0]["did"].as_str().unwrap().starts_with("+1"));
    // Billable: the balance went down.
    let after = client.call("getBalance", Params::new()).await.unwrap();
    let fresh = Sandbox::new(config())
        .client()
        .call("getBalance", Params::new())
        .await
        .unwrap();
    let num = |v: &Value| {
        v["balance"]["current_balance"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(num(&after) < num(&fresh));
}

/// Walks the MP3: an optional ID3v2 tag, then MPEG Layer III frames back to back to the end.
fn assert_valid_mp3(bytes: &[u8]) {
    assert!(mp3::mp3_seconds(bytes) > 0.3);
}

#[tokio::test]
async fn recordings_page_and_decode() {
    let sb = Sandbox::new(config());
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let page = |start: usize| {
        let start = start.to_string();
        let client = client.clone();
        async move {
            client
                .call_with_effect(
                    "getCallRecordings",
                    &p([
                        ("account", "100001_VoIP"),
                        ("date_from", "2025-03-01"),
                        ("date_to", "2025-07-15"),
                        ("start", &start),
                        ("length", "25"),
                    ]),
                    catalog::Effect::Read,
                )
                .await
                .unwrap()
        }
    };
    let mut seen = BTreeSet::new();
    let mut start = 0;
    loop {
        let outcome = page(start).await;
        if outcome.empty {
            assert_eq!(outcome.status(), "no_recording");
            break;
        }
        let rows = outcome.body["recordings"].as_array().unwrap().clone();
        assert!(rows.len() <= 25);
        for r in &rows {
            assert!(
                seen.insert(r["callrecording"].as_str().unwrap().to_owned()),
                "pages overlap"
            );
        }
        start += rows.len();
    }
    assert!(seen.len() > 25, "at least two pages ({})", seen.len());
    let id = seen.iter().next().unwrap().clone();
    let typed = client
        .send(&voipms_sdk::api::GetCallRecording::new(
            "100001_VoIP",
            id.clone(),
        ))
        .await
        .unwrap();
    let audio = base64::engine::general_purpose::STANDARD
        .decode(typed.base64file.as_deref().unwrap())
        .unwrap();
    assert_valid_mp3(&audio);
    let sent = client
        .call(
            "sendCallRecordingEmail",
            p([
                ("account", "100001_VoIP"),
                ("email", "me@example.com"),
                ("callrecording", &id),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(sent["msg"], "Email sent to me@example.com");
    client
        .call(
            "delCallRecording",
            p([("account", "100001_VoIP"), ("callrecording", &id)]),
        )
        .await
        .unwrap();
    let e = client
        .call(
            "getCallRecording",
            p([("account", "100001_VoIP"), ("callrecording", &id)]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "invalid_callrecording");
}

#[tokio::test]
async fn cdr_is_realistic_and_deterministic() {
    let a = Sandbox::new(config());
    let b = Sandbox::new(config());
    let other = Sandbox::new(SandboxConfig {
        seed: 2,
        ..config()
    });
    let params = p([
        ("date_from", "2025-04-15"),
        ("date_to", "2025-07-15"),
        ("timezone", "-5"),
        ("answered", "1"),
        ("noanswer", "1"),
        ("busy", "1"),
        ("failed", "1"),
    ]);
    let get = |sb: &Sandbox| {
        let client = sb.client();
        let params = params.clone();
        async move { client.call("getCDR", params).await.unwrap() }
    };
    let (ra, rb, ro) = (get(&a).await, get(&b).await, get(&other).await);
    assert_eq!(ra, rb, "same seed, same history");
    assert_ne!(ra, ro, "another seed, another history");
    let rows = ra["cdr"].as_array().unwrap();
    assert!(rows.len() > 400, "{} calls in 92 days", rows.len());
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["callerid"].as_str().unwrap())
        .collect();
    // Neighbour spoofing: same area code and exchange as the first DID (555-123-xxxx).
    assert!(
        ids.iter()
            .any(|c| c.contains("<555123") && !c.contains("5551234567"))
    );
    assert!(ids.iter().any(|c| c.contains("SPAM?")));
    assert!(ids.iter().any(|c| c.contains("<anonymous>")));
    assert!(ids.iter().any(|c| c.starts_with('"') && c.ends_with('>')));
    assert!(rows.iter().any(|r| {
        r["uniqueid"]
            .as_str()
            .unwrap()
            .chars()
            .any(|ch| ch.is_ascii_alphabetic())
    }));
    assert!(
        rows.iter()
            .any(|r| r["description"].as_str().unwrap().starts_with("USA")),
        "outgoing calls"
    );
    for d in ["ANSWERED", "NO ANSWER", "BUSY"] {
        assert!(rows.iter().any(|r| r["disposition"] == d), "{d}");
    }
    // Repeat callers: some number calls many times.
    let mut counts = std::collections::HashMap::new();
    for c in &ids {
        *counts.entry(*c).or_insert(0) += 1;
    }
    assert!(counts.values().any(|n| *n >= 10));
    // Newest first, within the range; the timezone shifts the shown times by whole hours.
    assert!(
        rows.first().unwrap()["date"].as_str().unwrap()
            >= rows.last().unwrap()["date"].as_str().unwrap()
    );
    let mut shifted = params.clone();
    shifted.push("timezone", "-4");
    let rs = a.client().call("getCDR", shifted).await.unwrap();
    let t0 = chrono::NaiveDateTime::parse_from_str(
        rows[0]["date"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    let t1 = chrono::NaiveDateTime::parse_from_str(
        rs["cdr"][0]["date"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    assert_eq!(t1 - t0, chrono::Duration::hours(1));
    // Filters: outgoing only, one account.
    let mut out = params.clone();
    out.push("calltype", "outgoing");
    out.push("account", "100001_Home");
    let outgoing = a.client().call("getCDR", out).await.unwrap();
    assert!(
        outgoing["cdr"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["account"] == "100001_Home"
                && r["destination_type"].as_str().unwrap().starts_with("OUT"))
    );
}

#[tokio::test]
async fn faults_reads_recover_writes_are_not_repeated() {
    let sb = Sandbox::new(config());
    let client = sb.client_builder().retry(fast_retries()).build().unwrap();
    // Reads: each fault once, then the retry succeeds.
    for fault in [
        Fault::HttpError(503),
        Fault::Cloudflare(522),
        Fault::Varnish,
        Fault::TruncatedBody,
        Fault::Timeout(Duration::from_millis(5)),
        Fault::Status("method_maintenance".into()),
    ] {
        sb.reset_counts();
        sb.set_faults(Faults::new(1).rule(FaultRule::method("getBalance", fault.clone()).first(2)));
        let body = client.call("getBalance", Params::new()).await.unwrap();
        assert_eq!(body["status"], "success", "{fault:?}");
        assert_eq!(sb.call_counts()["getBalance"], 3, "{fault:?}");
    }
    // Writes: the reply is lost after the change was made; no retry, exactly one change.
    for lost in [LostReply::BadGateway, LostReply::Dropped] {
        sb.reset_counts();
        sb.set_faults(
            Faults::new(1).rule(FaultRule::method("setPhonebook", Fault::LostReply(lost))),
        );
        let name = format!("Lost reply {lost:?}");
        let e = client
            .call(
                "setPhonebook",
                p([("name", &name), ("number", "5550009999")]),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Http { status: 502, .. } | Error::Transport { .. }),
            "{e}"
        );
        assert_eq!(sb.call_counts()["setPhonebook"], 1);
        sb.set_faults(Faults::default());
        let found = client
            .call("getPhonebook", p([("name", &name)]))
            .await
            .unwrap();
        assert_eq!(
            found["phonebooks"].as_array().unwrap().len(),
            1,
            "applied exactly once"
        );
    }
    // A write refused at the door (503) is neither repeated nor applied.
    sb.reset_counts();
    sb.set_faults(Faults::new(1).rule(FaultRule::method("sendSMS", Fault::HttpError(503))));
    let before = client.call("getSMS", p([("type", "0")])).await.unwrap()["sms"]
        .as_array()
        .unwrap()
        .len();
    let e = client
        .call(
            "sendSMS",
            p([
                ("did", "5551234567"),
                ("dst", "5559876543"),
                ("message", "x"),
            ]),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Http { status: 503, .. }));
    assert_eq!(sb.call_counts()["sendSMS"], 1);
    sb.set_faults(Faults::default());
    let after = client.call("getSMS", p([("type", "0")])).await.unwrap()["sms"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    // A timed-out write is not repeated either.
    sb.reset_counts();
    sb.set_faults(Faults::new(1).rule(FaultRule::method(
        "setForwarding",
        Fault::Timeout(Duration::from_millis(5)),
    )));
    let e = client
        .call("setForwarding", p([("phone_number", "5550001111")]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(sb.call_counts()["setForwarding"], 1);
    // The per-minute limit.
    sb.set_faults(Faults::new(1).rate_limit(5));
    let strict = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    for _ in 0..5 {
        strict.call("getIP", Params::new()).await.unwrap();
    }
    assert_eq!(
        status_of(&strict.call("getIP", Params::new()).await.unwrap_err()),
        "api_limit_exceeded"
    );
    // Latency is added.
    sb.set_faults(Faults::new(1).latency(Duration::from_millis(30)));
    let t = std::time::Instant::now();
    strict.call("getIP", Params::new()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(30));
    // Chance faults repeat exactly under the same seed.
    let pattern = |sb: &Sandbox| {
        sb.set_faults(Faults::new(42).rule(FaultRule::all(Fault::HttpError(500)).chance(0.3)));
        let c = sb
            .client_builder()
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        async move {
            let mut out = Vec::new();
            for _ in 0..40 {
                out.push(c.call("getIP", Params::new()).await.is_ok());
            }
            out
        }
    };
    let first = pattern(&sb).await;
    let second = pattern(&Sandbox::new(config())).await;
    assert_eq!(first, second);
    assert!(first.iter().any(|ok| !ok) && first.iter().any(|ok| *ok));
    sb.set_faults(Faults::default());
}

#[tokio::test]
async fn faults_over_http() {
    let sb = Sandbox::new(config());
    let server = sb.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::builder()
        .credentials(sb.username(), sb.password())
        .base_url(server.url())
        .retry(fast_retries())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // A read that times out once recovers.
    sb.set_faults(Faults::new(1).rule(
        FaultRule::method("getBalance", Fault::Timeout(Duration::from_millis(600))).first(1),
    ));
    client.call("getBalance", Params::new()).await.unwrap();
    assert_eq!(sb.call_counts()["getBalance"], 2);
    // A write whose connection is dropped after the change: one call, one change.
    sb.set_faults(Faults::new(1).rule(FaultRule::method(
        "setPhonebookGroup",
        Fault::LostReply(LostReply::Dropped),
    )));
    let e = client
        .call("setPhonebookGroup", p([("name", "Dropped reply")]))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
    assert_eq!(sb.call_counts()["setPhonebookGroup"], 1);
    sb.set_faults(Faults::default());
    let groups = client
        .call("getPhonebookGroups", p([("name", "Dropped reply")]))
        .await
        .unwrap();
    assert_eq!(groups["phonebook_groups"].as_array().unwrap().len(), 1);
    // A Cloudflare page on a read is retried.
    sb.set_faults(Faults::new(1).rule(FaultRule::all(Fault::Cloudflare(522)).first(1)));
    client.call("getIP", Params::new()).await.unwrap();
    sb.set_faults(Faults::default());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_leave_a_consistent_group() {
    let sb = Sandbox::new(config());
    let server = sb.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = http_client(&sb, &server.url(), RetryPolicy::none());
    let group = client
        .call("setPhonebookGroup", p([("name", "Shared")]))
        .await
        .unwrap()["group"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = std::sync::Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for i in 0..32 {
        let client = client.clone();
        let group = group.clone();
        let refused = refused.clone();
        tasks.push(tokio::spawn(async move {
            let number = format!("555010{i:04}");
            let id = client
                .call(
                    "setPhonebook",
                    p([
                        ("name", &format!("Writer {i}")),
                        ("number", &number),
                        ("group", &group),
                    ]),
                )
                .await
                .unwrap()["phonebook"]
                .as_str()
                .unwrap()
                .to_owned();
            // Read-modify-write of the whole membership, racing the others.
            let current = client
                .call("getPhonebookGroups", p([("group", &group)]))
                .await
                .unwrap();
            let mut members: Vec<String> = current["phonebook_groups"][0]["members"]
                .as_str()
                .unwrap()
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !members.contains(&id) {
                members.push(id.clone());
            }
            let joined = members.join(";");
            if let Err(e) = client
                .call(
                    "setPhonebookGroup",
                    p([("group", &group), ("name", "Shared"), ("members", &joined)]),
                )
                .await
            {
                // Another writer deleted an entry this one had read: refused, nothing changed.
                assert_eq!(status_of(&e), "invalid_member");
                refused.fetch_add(1, Ordering::Relaxed);
            }
            if i % 3 == 0 {
                client
                    .call("delPhonebook", p([("phonebook", &id)]))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let entries = client.call("getPhonebook", Params::new()).await.unwrap();
    let ids: BTreeSet<String> = entries["phonebooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["phonebook"].as_str().unwrap().to_owned())
        .collect();
    let groups = client
        .call("getPhonebookGroups", Params::new())
        .await
        .unwrap();
    for g in groups["phonebook_groups"].as_array().unwrap() {
        let members: Vec<&str> = g["members"]
            .as_str()
            .unwrap()
            .split(';')
            .filter(|s| !s.is_empty())
            .collect();
        let unique: BTreeSet<&str> = members.iter().copied().collect();
        assert_eq!(unique.len(), members.len(), "no duplicate members");
        for m in members {
            assert!(
                ids.contains(m),
                "group {} lists deleted entry {m}",
                g["name"]
            );
        }
    }
    let writers = entries["phonebooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"].as_str().unwrap().starts_with("Writer "))
        .count();
    assert_eq!(writers, 32 - 11, "the 11 deleted writers are gone");
    assert_eq!(sb.call_counts()["setPhonebook"], 32);
    server.shutdown().await;
}

fn temp_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "voipms-sandbox-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn save_load_and_reset() {
    let dir = temp_dir();
    let path = dir.join("nested").join("sandbox.json");
    // A missing file gives a fresh seeded account.
    let sb = Sandbox::load(&path, config()).unwrap();
    let client = sb.client();
    let entry = client
        .call(
            "setPhonebook",
            p([("name", "Persisted"), ("number", "5550007777")]),
        )
        .await
        .unwrap();
    client
        .call(
            "sendSMS",
            p([
                ("did", "5551234567"),
                ("dst", "5550007777"),
                ("message", "kept"),
            ]),
        )
        .await
        .unwrap();
    client
        .call("delCallerIDFiltering", p([("filtering", "18915")]))
        .await
        .unwrap();
    sb.save(&path).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 10_000, "the whole state is saved ({size} bytes)");
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");

    let loaded = Sandbox::load(&path, config()).unwrap();
    assert_eq!(loaded.today(), today());
    let c2 = loaded.client();
    for (method, params) in [
        ("getPhonebook", Params::new()),
        ("getSMS", p([("type", "0")])),
        ("getCallerIDFiltering", Params::new()),
        ("getBalance", p([("advanced", "1")])),
        (
            "getCDR",
            p([
                ("date_from", "2025-07-01"),
                ("date_to", "2025-07-15"),
                ("timezone", "-5"),
                ("answered", "1"),
            ]),
        ),
    ] {
        assert_eq!(
            client.call(method, params.clone()).await.unwrap(),
            c2.call(method, params).await.unwrap(),
            "{method} after a save/load round trip"
        );
    }
    let id = entry["phonebook"].as_str().unwrap();
    assert_eq!(
        c2.call("getPhonebook", p([("phonebook", id)]))
            .await
            .unwrap()["phonebooks"][0]["name"],
        "Persisted"
    );

    // Reset: back to the seeded account, same "today".
    loaded.reset();
    let e = c2.call("getPhonebook", p([("phonebook", id)])).await;
    assert!(
        matches!(e, Ok(ref v) if v["status"] == "no_phonebook"),
        "{e:?}"
    );
    assert!(
        c2.call("getCallerIDFiltering", p([("filtering", "18915")]))
            .await
            .is_ok()
    );
    assert_eq!(loaded.today(), today());
    let fresh = Sandbox::new(config());
    assert_eq!(
        c2.call("getBalance", p([("advanced", "1")])).await.unwrap(),
        fresh
            .client()
            .call("getBalance", p([("advanced", "1")]))
            .await
            .unwrap()
    );
    // A file from another format version is refused with advice.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("\"format\":1", "\"format\":99", 1);
    std::fs::write(&path, text).unwrap();
    let e = Sandbox::load(&path, config()).unwrap_err();
    assert!(matches!(e, SandboxError::Version { found: 99, .. }), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn voicemail_and_dids_are_consistent() {
    let sb = Sandbox::new(config());
    let client = sb
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let boxes = client
        .call("getVoicemails", p([("mailbox", "1001")]))
        .await
        .unwrap();
    let new_before: u32 = boxes["voicemails"][0]["new"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(new_before >= 1);
    let msgs = client
        .call(
            "getVoicemailMessages",
            p([("mailbox", "1001"), ("folder", "INBOX")]),
        )
        .await
        .unwrap();
    let first = msgs["messages"][0]["message_num"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .call(
            "markListenedVoicemailMessage",
            p([
                ("mailbox", "1001"),
                ("folder", "INBOX"),
                ("message_num", &first),
                ("listened", "yes"),
            ]),
        )
        .await
        .unwrap();
    client
        .call(
            "moveFolderVoicemailMessage",
            p([
                ("mailbox", "1001"),
                ("folder", "INBOX"),
                ("message_num", &first),
                ("new_folder", "Family"),
            ]),
        )
        .await
        .unwrap();
    let family = client
        .call(
            "getVoicemailMessages",
            p([("mailbox", "1001"), ("folder", "Family")]),
        )
        .await
        .unwrap();
    assert_eq!(family["messages"].as_array().unwrap().len(), 1);
    let e = client
        .call(
            "getVoicemailMessageFile",
            p([
                ("mailbox", "1001"),
                ("folder", "INBOX"),
                ("message_num", "999"),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "message_not_found");
    let wav = client
        .call(
            "getVoicemailMessageFile",
            p([
                ("mailbox", "1001"),
                ("folder", "Family"),
                ("message_num", "1"),
                ("format", "wav"),
            ]),
        )
        .await
        .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(wav["message"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    // DID changes show in getDIDsInfo.
    client
        .call(
            "setDIDRouting",
            p([("did", "5551234567"), ("routing", "vm:101")]),
        )
        .await
        .unwrap();
    client
        .call("setDIDPOP", p([("did", "5551234567"), ("pop", "73")]))
        .await
        .unwrap();
    assert_eq!(
        status_of(
            &client
                .call("setDIDPOP", p([("did", "5551234567"), ("pop", "999")]))
                .await
                .unwrap_err()
        ),
        "invalid_serverpop"
    );
    let did = client
        .call("getDIDsInfo", p([("did", "5551234567")]))
        .await
        .unwrap();
    assert_eq!(did["dids"][0]["routing"], "vm:101");
    assert_eq!(did["dids"][0]["pop"], "73");
    // A sub-account with DIDs cannot go.
    assert_eq!(
        status_of(
            &client
                .call("delSubAccount", p([("id", "99786")]))
                .await
                .unwrap_err()
        ),
        "account_with_dids"
    );
    // Orders spend the balance and show in the history.
    client
        .call(
            "orderDID",
            p([
                ("did", "5552223333"),
                ("routing", "account:100001_VoIP"),
                ("pop", "16"),
                ("dialtime", "60"),
                ("cnam", "1"),
                ("billing_type", "1"),
            ]),
        )
        .await
        .unwrap();
    let history = client
        .call(
            "getTransactionHistory",
            p([("date_from", "2025-07-15"), ("date_to", "2025-07-15")]),
        )
        .await
        .unwrap();
    assert!(
        history["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["description"].as_str().unwrap().contains("5552223333"))
    );
    assert_eq!(
        status_of(
            &client
                .call(
                    "orderDID",
                    p([
                        ("did", "5552223333"),
                        ("routing", "sys:busy"),
                        ("pop", "16"),
                        ("dialtime", "60"),
                        ("cnam", "1"),
                        ("billing_type", "1")
                    ])
                )
                .await
                .unwrap_err()
        ),
        "did_in_use"
    );
    let accounts = client.call("getCallAccounts", Params::new()).await.unwrap();
    assert_eq!(accounts["accounts"][0]["value"], "all");
    let types = client.call("getCallTypes", Params::new()).await.unwrap();
    assert!(
        types["call_types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["value"] == "5552223333")
    );
}

#[test]
fn handles_are_cheap_shared_and_thread_safe() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    fn sendable<T: Send + 'static>() {}
    shared::<Sandbox>();
    sendable::<voipms_sdk::sandbox::ServerHandle>();
    let a = Sandbox::new(config());
    let b = a.clone();
    b.reset_counts();
    let fields = [
        ("api_username", a.username()),
        ("api_password", SECRET),
        ("method", "getIP"),
    ];
    a.handle(SandboxRequest {
        encoding: RequestEncoding::Get,
        fields: &fields,
    });
    assert_eq!(b.total_calls(), 1, "clones share the account");
    assert_eq!(b.call_counts()["getIP"], 1);
    b.reset_counts();
    assert_eq!(a.total_calls(), 0);
}

/// Sends raw bytes to the server and returns what it answers before closing (or after `wait`).
async fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8], wait: Duration) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = tcp.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, tcp.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A multipart body that sets a phonebook entry, padded to `pad` bytes by a long `note`.
fn phonebook_form(sb: &Sandbox, pad: usize) -> Vec<u8> {
    let boundary = "XbOuNdArY";
    let mut body = String::new();
    for (k, v) in [
        ("api_username", sb.username().to_owned()),
        ("api_password", sb.password().to_owned()),
        ("method", "setPhonebook".to_owned()),
        ("name", "Oversized".to_owned()),
        ("number", "5552229999".to_owned()),
        ("note", "x".repeat(pad)),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let mut req = format!(
        "POST /api/v1/rest.php HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend(body.into_bytes());
    req
}

/// Server hygiene: an oversized body is answered 413 and nothing of it is executed; a client
/// that never finishes its headers is cut off; connections over the cap are answered 503.
#[tokio::test]
async fn the_server_bounds_bodies_header_time_and_connections() {
    let sb = Sandbox::new(config());
    let server = sb
        .serve_with(
            "127.0.0.1:0".parse().unwrap(),
            ServeOptions::default()
                .body_limit(64 * 1024)
                .header_timeout(Duration::from_millis(300))
                .max_connections(2),
        )
        .await
        .unwrap();
    let addr = server.addr();
    let named = |sb: &Sandbox| {
        let sb = sb.clone();
        async move {
            sb.client()
                .call("getPhonebook", p([("name", "Oversized")]))
                .await
                .ok()
                .and_then(|v| v["phonebooks"].as_array().map(Vec::len))
                .unwrap_or(0)
        }
    };

    // Over the limit: 413, and the entry was not made.
    let answer = raw_exchange(
        addr,
        &phonebook_form(&sb, 100 * 1024),
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(named(&sb).await, 0, "an oversized request was executed");
    // Under it, the same request works.
    let answer = raw_exchange(addr, &phonebook_form(&sb, 1024), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(named(&sb).await, 1);

    // Headers started and never finished: the server closes the connection.
    let started = std::time::Instant::now();
    let answer = raw_exchange(
        addr,
        b"GET /api/v1/rest.php?method=getIP HTTP/1.1\r\nhost: x\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a slow client held its connection for {:?} ({answer})",
        started.elapsed()
    );

    // Two idle connections fill the cap; the third is told 503 and closed.
    let _a = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = raw_exchange(
        addr,
        b"GET /api/v1/rest.php HTTP/1.1\r\nhost: x\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop((_a, _b));
    server.shutdown().await;
}

/// Every resource family the spec declares is a real record store on the sandbox: a create is
/// read back (by id and in the full list), an update changes what is read, an unknown id is the
/// family's not-found status, a delete removes the record and ids are never reused.
#[tokio::test]
async fn every_family_stores_what_its_set_writes() {
    let sb = Sandbox::new(config());
    let client = sb.client();
    assert!(catalog::FAMILIES.len() >= 15, "{}", catalog::FAMILIES.len());
    for f in catalog::FAMILIES {
        let set = catalog::method(f.set).unwrap();
        let id_text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let read = |id: Option<String>| {
            let client = client.clone();
            async move {
                let mut params = required_params(catalog::method(f.get).unwrap());
                if let Some(id) = id {
                    params.push(f.get_id, id);
                }
                match client.call(f.get, params).await {
                    Ok(v) => v[f.list_key].as_array().cloned().unwrap_or_default(),
                    Err(e) => {
                        let m = catalog::method(f.get).unwrap();
                        assert!(m.is_empty_status(&status_of(&e)), "{}: {e}", f.get);
                        Vec::new()
                    }
                }
            }
        };
        let before = read(None).await.len();

        // Create: a new id, and the record reads back with what was written.
        let mut create = required_params(set);
        create.push(f.set_id, "");
        let marker = format!("Family test {}", f.name);
        let text_param = set
            .params
            .iter()
            .find(|p| {
                p.name != f.set_id
                    && matches!(p.kind, ParamKind::String)
                    && !p.name.contains("pin")
                    && !p.name.contains("password")
            })
            .unwrap_or_else(|| panic!("{}: no text parameter to write", f.set));
        let mut create: Params = create
            .iter()
            .filter(|(k, _)| *k != text_param.name && *k != f.set_id)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        create.push(text_param.name, marker.clone());
        let field = f
            .fields
            .iter()
            .find(|(p, _)| *p == text_param.name)
            .map_or(text_param.name, |(_, r)| *r);
        let answer = client
            .call(f.set, create.clone())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", f.set));
        let all = read(None).await;
        assert_eq!(all.len(), before + 1, "{}: the create did not list", f.set);
        let made = all
            .iter()
            .find(|r| r[field] == marker.as_str())
            .unwrap_or_else(|| panic!("{}: `{field}` not written: {all:?}", f.set));
        let id = id_text(&made[f.id_field]);
        if let Some(key) = f.reply_key {
            assert_eq!(id_text(&answer[key]), id, "{}: the reply's id", f.set);
        }
        let one = read(Some(id.clone())).await;
        assert_eq!(one.len(), 1, "{}: by id {id}", f.get);

        // Update: what is read changes.
        let mut update = create.clone();
        update.push(f.set_id, id.clone());
        update.push(text_param.name, format!("{marker} (renamed)"));
        client.call(f.set, update).await.unwrap();
        let one = read(Some(id.clone())).await;
        assert_eq!(
            one[0][field],
            format!("{marker} (renamed)").as_str(),
            "{}",
            f.set
        );
        assert_eq!(read(None).await.len(), before + 1);

        // An unknown id: the family's not-found status, nothing made.
        let mut unknown = create.clone();
        unknown.push(f.set_id, "987654321");
        let e = client.call(f.set, unknown).await.unwrap_err();
        assert_eq!(status_of(&e), f.not_found, "{}", f.set);

        // Delete: gone; a second delete is not found; the next create gets a new id.
        if let (Some(del), Some(del_id)) = (f.del, f.del_id) {
            let del_params = |id: &str| {
                let mut params = required_params(catalog::method(del).unwrap());
                params.push(del_id, id.to_owned());
                params
            };
            client.call(del, del_params(&id)).await.unwrap();
            assert_eq!(read(None).await.len(), before, "{del}");
            let e = client.call(del, del_params(&id)).await.unwrap_err();
            assert_eq!(status_of(&e), f.not_found, "{del}");
            let again = client.call(f.set, create.clone()).await.unwrap();
            let all = read(None).await;
            let new_id =
                id_text(&all.iter().find(|r| r[field] == marker.as_str()).unwrap()[f.id_field]);
            assert_ne!(new_id, id, "{}: an id was reused", f.set);
            if let Some(key) = f.reply_key {
                assert_eq!(id_text(&again[key]), new_id);
            }
        }
    }
}

/// The families whose records belong to a record of another family, as the spec declares them.
#[test]
fn child_families_name_their_parent() {
    let parents: Vec<(&str, &str, &str, catalog::ParentLink)> = catalog::FAMILIES
        .iter()
        .filter_map(|f| f.parent.map(|p| (f.name, p.family, p.param, p.link)))
        .collect();
    assert_eq!(
        parents,
        [
            (
                "conference_members",
                "conferences",
                "conference",
                catalog::ParentLink::List("members")
            ),
            (
                "queue_members",
                "queues",
                "queue",
                catalog::ParentLink::Field("queue_number")
            ),
        ]
    );
}

/// A queue's static members: listed per queue, and a call naming another queue than the
/// member's is refused (`invalid_member`), an unknown queue too (`invalid_queue`).
#[tokio::test]
async fn queue_members_belong_to_their_queue() {
    let sb = Sandbox::new(config());
    let client = sb.client();
    let ids = |v: &Value, key: &str, field: &str| -> Vec<String> {
        v[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r[field].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let members = |queue: &str| {
        let client = client.clone();
        let queue = queue.to_owned();
        async move {
            let v = client
                .call("getStaticMembers", p([("queue", queue.as_str())]))
                .await
                .unwrap();
            ids(&v, "members", "member")
        }
    };
    assert_eq!(members("3008").await, ["163"]);
    // A second queue, and a member of it.
    let made = client
        .call(
            "setQueue",
            required_params(catalog::method("setQueue").unwrap()),
        )
        .await
        .unwrap();
    let other = made["queue"].as_str().unwrap().to_owned();
    assert_eq!(members(&other).await, Vec::<String>::new());
    let member = |queue: &str, name: &str| {
        p([("priority", "0")])
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .chain([
                ("queue".to_owned(), queue.to_owned()),
                ("member_name".to_owned(), name.to_owned()),
            ])
            .collect::<Params>()
    };
    let bob = client
        .call("setStaticMember", member(&other, "Bob"))
        .await
        .unwrap()["member"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(members(&other).await, [bob.as_str()]);
    assert_eq!(
        members("3008").await,
        ["163"],
        "listed under its own queue only"
    );
    let listed = client
        .call("getStaticMembers", p([("queue", &other)]))
        .await
        .unwrap();
    assert_eq!(listed["members"][0]["queue_number"], other.as_str());
    // By id through the wrong queue: nothing (an empty status, which `call` answers as such).
    let none = client
        .call("getStaticMembers", p([("queue", "3008"), ("member", &bob)]))
        .await
        .unwrap();
    assert_eq!(none["status"], "no_member");

    // Through the wrong queue, a delete and an update are refused and change nothing.
    let e = client
        .call("delStaticMember", p([("member", &bob), ("queue", "3008")]))
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "invalid_member");
    assert!(
        format!("{e}").contains("does not belong to queue 3008"),
        "{e}"
    );
    let mut moved = member("3008", "Bob moved");
    moved.push("member", bob.clone());
    let e = client.call("setStaticMember", moved).await.unwrap_err();
    assert_eq!(status_of(&e), "invalid_member");
    assert_eq!(members(&other).await, [bob.as_str()]);
    let again = client
        .call("getStaticMembers", p([("queue", &other)]))
        .await
        .unwrap();
    assert_eq!(again["members"][0]["name"], "Bob");

    // An unknown queue: the queue's not-found status, on every method.
    for (method, params) in [
        ("getStaticMembers", p([("queue", "987654")])),
        (
            "delStaticMember",
            p([("member", "163"), ("queue", "987654")]),
        ),
        ("setStaticMember", member("987654", "Nobody")),
    ] {
        let e = client.call(method, params).await.unwrap_err();
        assert_eq!(status_of(&e), "invalid_queue", "{method}");
    }

    // Through its own queue: deleted.
    client
        .call("delStaticMember", p([("member", &bob), ("queue", &other)]))
        .await
        .unwrap();
    assert_eq!(members(&other).await, Vec::<String>::new());
    assert_eq!(members("3008").await, ["163"]);
}

/// A conference member profile made for a bridge is attached to it; an unknown bridge is
/// refused; deleting the profile detaches it from every bridge.
#[tokio::test]
async fn conference_member_profiles_join_their_conference() {
    let sb = Sandbox::new(config());
    let client = sb.client();
    let bridge_members = || {
        let client = client.clone();
        async move {
            let v = client
                .call("getConference", p([("conference", "1599")]))
                .await
                .unwrap();
            v["conference"][0]["members"]
                .as_str()
                .unwrap()
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    let before = bridge_members().await;
    let made = client
        .call(
            "setConferenceMember",
            p([("conference", "1599"), ("name", "guest")]),
        )
        .await
        .unwrap();
    let id = made["member"].as_str().unwrap().to_owned();
    let mut expected = before.clone();
    expected.push(id.clone());
    assert_eq!(bridge_members().await, expected);
    // The profile itself carries no conference field (getConferenceMembers has none).
    let profile = client
        .call("getConferenceMembers", p([("member", &id)]))
        .await
        .unwrap();
    assert!(
        profile["member"][0].get("conference").is_none(),
        "{profile}"
    );

    let e = client
        .call(
            "setConferenceMember",
            p([("conference", "987654"), ("name", "lost")]),
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "invalid_conference");

    client
        .call("delConferenceMember", p([("member", &id)]))
        .await
        .unwrap();
    assert_eq!(bridge_members().await, before);
}

/// The fax-number setters turn off the switches they are not given (documented "Default:
/// false"), and setFaxNumberInfo without `max_attempts` puts it back to 10 (0 keeps it).
#[tokio::test]
async fn fax_number_setters_apply_their_defaults() {
    let sb = Sandbox::new(config());
    let client = sb.client();
    let number = |did: &'static str| {
        let client = client.clone();
        async move {
            let v = client
                .call("getFaxNumbersInfo", p([("did", did)]))
                .await
                .unwrap();
            v["numbers"][0].clone()
        }
    };
    let front = number("5552341234").await;
    assert_eq!(
        (
            front["email_enabled"].as_str(),
            front["url_enabled"].as_str()
        ),
        (Some("1"), Some("1"))
    );
    client
        .call(
            "setFaxNumberEmail",
            p([("did", "5552341234"), ("email", "desk@example.com")]),
        )
        .await
        .unwrap();
    let after = number("5552341234").await;
    assert_eq!(after["email"], "desk@example.com");
    assert_eq!(after["email_enabled"], "0");
    assert_eq!(after["attach_file"], "0");
    assert_eq!(
        after["url_enabled"], "1",
        "the URL callback is another setter's"
    );
    client
        .call(
            "setFaxNumberURLCallback",
            p([("did", "5552341234"), ("url_callback_enable", "1")]),
        )
        .await
        .unwrap();
    assert_eq!(number("5552341234").await["url_enabled"], "1");
    assert_eq!(number("4165550175").await["max_attempts"], "5");
    client
        .call(
            "setFaxNumberInfo",
            p([("did", "4165550175"), ("max_attempts", "0")]),
        )
        .await
        .unwrap();
    let toronto = number("4165550175").await;
    assert_eq!(toronto["max_attempts"], "5", "0 keeps it");
    assert_eq!(toronto["url_enabled"], "0");
    client
        .call("setFaxNumberInfo", p([("did", "4165550175")]))
        .await
        .unwrap();
    assert_eq!(number("4165550175").await["max_attempts"], "10");
}

/// Only a per-minute DID of the account joins a vPRI, one vPRI at a time; removeDIDvPRI without
/// a vPRI takes the DID off the vPRI it is on; another vPRI id holds no DIDs of the account.
#[tokio::test]
async fn vpri_dids_are_per_minute_dids_on_one_vpri() {
    let sb = Sandbox::new(config());
    let client = sb.client();
    let dids = |vpri: &'static str| {
        let client = client.clone();
        async move {
            let v = client
                .call("getDIDvPRI", p([("vpri", vpri)]))
                .await
                .unwrap();
            v["dids"].clone()
        }
    };
    assert_eq!(dids("100112").await, serde_json::json!(["5551234567"]));
    assert_eq!(dids("200200").await, serde_json::json!([]));
    for (did, status) in [
        ("4165550134", "invalid_did"), // flat rate
        ("5559990000", "invalid_did"), // not the account's
        ("5551234567", "did_in_use"),
    ] {
        let e = client
            .call("assignDIDvPRI", p([("did", did), ("vpri", "200200")]))
            .await
            .unwrap_err();
        assert_eq!(status_of(&e), status, "{did}");
    }
    let added = client
        .call(
            "assignDIDvPRI",
            p([("did", "5551234568"), ("vpri", "100112")]),
        )
        .await
        .unwrap();
    assert_eq!(added["DIDAdded"], "5551234568");
    assert_eq!(
        dids("100112").await,
        serde_json::json!(["5551234567", "5551234568"])
    );
    let out = client
        .call("removeDIDvPRI", p([("did", "5551234568")]))
        .await
        .unwrap();
    assert_eq!(out["vpri"], "100112");
    assert_eq!(out["DIDRemoved"], "5551234568");
    assert_eq!(dids("100112").await, serde_json::json!(["5551234567"]));
    let e = client
        .call("removeDIDvPRI", p([("did", "5551234568")]))
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), "invalid_did");
}

/// What a read answers, or its status when it fails (an empty list is a `no_*` status).
async fn read_state(client: &Client, read: &str, params: Params) -> Value {
    match client.call(read, params).await {
        Ok(v) => v,
        Err(e) => Value::String(format!("status: {}", status_of(&e))),
    }
}

/// Every mutating method of the catalog (write, destructive, billable) is real on the sandbox: a
/// family's set/del (checked by `every_family_stores_what_its_set_writes`), or a write with a
/// declared model (`sandbox = {…}` in the spec) whose effect this test sees through its `read`
/// method — a `hand` write is read back with the text it wrote. A new write with neither fails.
#[tokio::test]
async fn every_write_is_real_or_declares_its_effect() {
    let sb = Sandbox::new(config());
    // Every order of the catalog costs more than the seeded family account keeps: fund it as a
    // payment in the portal would.
    sb.deposit(500);
    let client = sb.client();
    let mut writes: Vec<&Method> = METHODS
        .iter()
        .filter(|m| m.effect != catalog::Effect::Read)
        .collect();
    // Creates, changes and orders first; then deletes, which find what they made; cancellations
    // last, as they take away the numbers other writes name (unconnectDID's DID, a fax number);
    // cancelDID the very last, as a DID takes its e911 address and vPRI seat with it.
    writes.sort_by_key(|m| {
        (
            m.effect == catalog::Effect::Destructive,
            m.name.to_ascii_lowercase().contains("cancel"),
            m.name == "cancelDID",
        )
    });
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for m in writes {
        if let Some(f) = catalog::family_of(m.name) {
            assert!(f.set == m.name || f.del == Some(m.name), "{}", m.name);
            continue;
        }
        let Some(w) = catalog::sandbox_write(m.name) else {
            missing.push(m.name);
            continue;
        };
        assert!(!w.why.trim().is_empty(), "{}: no why", m.name);
        let mut args = required_params(m);
        // A `hand` change carries a marker in a free-text parameter (a name, a note, a
        // description) that is not a key of its read, and must read it back.
        let read = w.read.and_then(catalog::method);
        let marker = format!("Write test {}", m.name);
        let marker_param = (w.model == catalog::SandboxModel::Hand
            && m.effect != catalog::Effect::Destructive)
            .then(|| {
                m.params.iter().find(|p| {
                    matches!(p.kind, ParamKind::String)
                        && read.is_none_or(|r| r.param(p.name).is_none())
                        && ["note", "description", "name", "company"]
                            .iter()
                            .any(|s| p.name.contains(s))
                        && !p.name.contains("username")
                })
            })
            .flatten();
        if let Some(p) = marker_param {
            args.remove(p.name);
            args.push(p.name, marker.clone());
        }
        // A `missing_*` answer names an optional parameter this combination of values needs
        // (createSubAccount's password with auth_type 1, the id of a delete): send its example.
        let needed = |e: &Error| {
            let wanted = status_of(e).strip_prefix("missing_")?.replace('_', "");
            m.params
                .iter()
                .find(|p| !p.required && p.example.is_some() && p.name.replace('_', "") == wanted)
        };
        let read_params = |r: &Method, args: &Params| -> Params {
            let mut params = required_params(r);
            for (k, v) in args.iter() {
                if let Some(p) = r.param(k) {
                    params.remove(p.name);
                    params.push(p.name, v.to_owned());
                }
            }
            for (rp, wp) in w.read_with {
                if let Some(v) = args.get(wp) {
                    params.remove(rp);
                    params.push(*rp, v.to_owned());
                }
            }
            params
        };
        let state = |args: &Params| {
            let args = args.clone();
            let client = client.clone();
            async move {
                match read {
                    Some(r) => read_state(&client, r.name, read_params(r, &args)).await,
                    None => Value::Null,
                }
            }
        };
        let mut before = state(&args).await;
        let mut outcome = client.call(m.name, args.clone()).await;
        if let Err(e) = &outcome
            && let Some(p) = needed(e)
        {
            args.push(p.name, p.example.unwrap_or_default());
            before = state(&args).await;
            outcome = client.call(m.name, args.clone()).await;
        }
        if let Err(e) = outcome {
            failures.push((m.name, format!("{e}")));
            continue;
        }
        checked += 1;
        let Some(r) = read else { continue };
        let after = read_state(&client, r.name, read_params(r, &args)).await;
        if before == after {
            failures.push((m.name, format!("nothing changed in {}", r.name)));
        } else if marker_param.is_some() && !after.to_string().contains(&marker) {
            failures.push((m.name, format!("{} does not read back `{marker}`", r.name)));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        missing.is_empty(),
        "writes with neither a family nor a sandbox model: {missing:?}"
    );
    assert!(checked >= 50, "{checked}");
}

/// A deposit (what a portal payment does) raises the balance by its amount and is listed in the
/// transaction history; nothing else is spent.
#[tokio::test]
async fn a_deposit_funds_the_account() {
    let sb = Sandbox::new(config());
    let client = sb.client();
    let balance = || {
        let client = client.clone();
        async move {
            let v = client
                .call("getBalance", p([("advanced", "1")]))
                .await
                .unwrap();
            let b = &v["balance"];
            (
                b["current_balance"]
                    .as_str()
                    .unwrap()
                    .parse::<f64>()
                    .unwrap(),
                b["spent_total"].as_str().unwrap().parse::<f64>().unwrap(),
            )
        }
    };
    let (before, spent) = balance().await;
    sb.deposit(125);
    let (after, spent_after) = balance().await;
    assert!((after - before - 125.0).abs() < 1e-6, "{before} → {after}");
    assert!((spent_after - spent).abs() < 1e-6);
    let history = client
        .call(
            "getTransactionHistory",
            p([("date_from", "2025-07-15"), ("date_to", "2025-07-15")]),
        )
        .await
        .unwrap();
    let payments: Vec<&Value> = history["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "Payment")
        .collect();
    assert_eq!(payments.len(), 1, "{history}");
    assert_eq!(
        payments[0]["ammount"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap(),
        125.0
    );
}

#[tokio::test]
async fn invoice_depends_on_its_period() {
    let sb = Sandbox::new(config());
    let client = sb.client();
    let url = |v: serde_json::Value| v["url"].as_str().unwrap().to_owned();
    let invoice = |params: Params| {
        let client = client.clone();
        async move { url(client.call("getInvoice", params).await.unwrap()) }
    };
    let may = invoice(p([("from", "2025-05-01"), ("to", "2025-05-31")])).await;
    let june = invoice(p([("from", "2025-06-01"), ("to", "2025-06-30")])).await;
    assert_ne!(may, june);
    assert!(may.contains("from=2025-05-01&to=2025-05-31"), "{may}");
    // The same period is the same invoice; another format is another one.
    assert_eq!(
        invoice(p([("from", "2025-05-01"), ("to", "2025-05-31")])).await,
        may
    );
    let canada = invoice(p([
        ("from", "2025-05-01"),
        ("to", "2025-05-31"),
        ("type", "1"),
    ]))
    .await;
    assert_ne!(canada, may);
    // Presets count back from the sandbox's today (2025-07-15); no period is the last month.
    let last_month = invoice(p([("range", "1")])).await;
    assert!(
        last_month.contains("from=2025-06-01&to=2025-06-30"),
        "{last_month}"
    );
    assert_eq!(invoice(Params::new()).await, last_month);
    let this_week = invoice(p([("range", "6")])).await;
    assert!(
        this_week.contains("from=2025-07-14&to=2025-07-15"),
        "{this_week}"
    );
    // A future, reversed, malformed or half-given period fails with its status.
    for (params, status) in [
        (
            p([("from", "2025-08-01"), ("to", "2025-08-31")]),
            "invalid_date",
        ),
        (
            p([("from", "2025-06-30"), ("to", "2025-06-01")]),
            "invalid_date_from",
        ),
        (
            p([("from", "2025-13-01"), ("to", "2025-06-01")]),
            "invalid_date",
        ),
        (p([("from", "2025-06-01")]), "missing_to_date"),
        (p([("to", "2025-06-01")]), "missing_from_date"),
        (p([("range", "1"), ("type", "7")]), "invalid_invoice_type"),
    ] {
        let e = client.call("getInvoice", params).await.unwrap_err();
        assert_eq!(status_of(&e), status, "{e}");
    }
}
