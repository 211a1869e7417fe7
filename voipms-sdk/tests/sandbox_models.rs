//! The sandbox's models keep the account coherent: a write refuses what is not the account's, a
//! cancellation reaches everything that named the number, seeded data agrees with itself.

use serde_json::{Value, json};
use voipms_sdk::sandbox::{Sandbox, SandboxConfig};
use voipms_sdk::{Client, Params};

#[path = "common/calls.rs"]
mod calls;

use calls::{p, status_of};

fn sandbox() -> Sandbox {
    Sandbox::new(SandboxConfig {
        today: chrono::NaiveDate::from_ymd_opt(2025, 7, 15),
        ..SandboxConfig::default()
    })
}

async fn status(client: &Client, method: &str, params: Params) -> String {
    match client.call(method, params).await {
        Ok(_) => "success".into(),
        Err(e) => status_of(&e),
    }
}

/// A complete e911 address for `did`.
fn address(did: &'static str) -> Params {
    p([
        ("did", did),
        ("full_name", "Jane Doe"),
        ("street_number", "23"),
        ("street_name", "W BROAD ST"),
        ("city", "Montreal"),
        ("state", "QC"),
        ("country", "CA"),
        ("zip_code", "H2X1Y4"),
        ("language", "EN"),
        ("email", "jane@example.com"),
    ])
}

#[tokio::test]
async fn e911_refuses_a_did_that_is_not_the_accounts() {
    let sb = sandbox();
    let client = sb.client();
    let foreign = "5559990000";
    let balance = client.call("getBalance", Params::new()).await.unwrap();
    for method in [
        "e911Provision",
        "e911ProvisionManually",
        "e911Update",
        "e911Validate",
    ] {
        assert_eq!(
            status(&client, method, address(foreign)).await,
            "invalid_did",
            "{method}"
        );
    }
    for method in ["e911Info", "e911Cancel"] {
        assert_eq!(
            status(&client, method, p([("did", foreign)])).await,
            "invalid_did",
            "{method}"
        );
    }
    // Nothing was charged for the refused provisioning.
    assert_eq!(
        client.call("getBalance", Params::new()).await.unwrap(),
        balance
    );
    // An account DID without an address: e911 is not active on it.
    let own = "5551234568";
    assert_eq!(
        status(&client, "e911Info", p([("did", own)])).await,
        "e911_disabled"
    );
    assert_eq!(
        status(&client, "e911Cancel", p([("did", own)])).await,
        "e911_disabled"
    );
    assert_eq!(
        status(&client, "e911Validate", address(own)).await,
        "success"
    );
    assert_eq!(
        status(&client, "e911Provision", address(own)).await,
        "success"
    );
    let info = client.call("e911Info", p([("did", own)])).await.unwrap();
    assert_eq!(info["info"]["full_name"], "Jane Doe");
}

async fn vpri_dids(client: &Client, vpri: &'static str) -> Value {
    client
        .call("getDIDvPRI", p([("vpri", vpri)]))
        .await
        .unwrap()["dids"]
        .clone()
}

#[tokio::test]
async fn a_cancelled_did_leaves_its_vpri_and_its_e911_address() {
    let sb = sandbox();
    let client = sb.client();
    // The seeded vPRI DID, which also has the seeded e911 address.
    let seeded = "5551234567";
    assert_eq!(vpri_dids(&client, "100112").await, json!([seeded]));
    client.call("e911Info", p([("did", seeded)])).await.unwrap();
    // A DID put on the vPRI in this run.
    let added = "5551234568";
    client
        .call("assignDIDvPRI", p([("did", added), ("vpri", "100112")]))
        .await
        .unwrap();
    assert_eq!(vpri_dids(&client, "100112").await, json!([seeded, added]));
    client
        .call("cancelDID", p([("did", seeded)]))
        .await
        .unwrap();
    assert_eq!(vpri_dids(&client, "100112").await, json!([added]));
    client.call("cancelDID", p([("did", added)])).await.unwrap();
    assert_eq!(vpri_dids(&client, "100112").await, json!([]));
    // Gone from the account, so neither e911 nor the vPRI knows them.
    for did in [seeded, added] {
        assert_eq!(
            status(&client, "e911Info", p([("did", did)])).await,
            "invalid_did"
        );
        assert_eq!(
            status(&client, "removeDIDvPRI", p([("did", did)])).await,
            "invalid_did"
        );
    }
    // A dry run cancels nothing.
    let sb = sandbox();
    let client = sb.client();
    client
        .call("cancelDID", p([("did", seeded), ("test", "1")]))
        .await
        .unwrap();
    assert_eq!(vpri_dids(&client, "100112").await, json!([seeded]));
}

#[tokio::test]
async fn seeded_bridges_list_member_profiles_that_exist() {
    let sb = sandbox();
    let client = sb.client();
    let profiles = client
        .call("getConferenceMembers", Params::new())
        .await
        .unwrap();
    let known: Vec<&str> = profiles["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member"].as_str().unwrap())
        .collect();
    let bridges = client.call("getConference", Params::new()).await.unwrap();
    let mut listed = 0;
    for bridge in bridges["conference"].as_array().unwrap() {
        for id in bridge["members"].as_str().unwrap().split(';') {
            if id.is_empty() {
                continue;
            }
            listed += 1;
            assert!(
                known.contains(&id),
                "{bridge}: no profile {id} in {known:?}"
            );
        }
    }
    assert!(listed > 0, "no seeded bridge lists a member: {bridges}");
    // The member the examples add is a profile not yet on the bridge.
    client
        .call(
            "addMemberToConference",
            p([("member", "1599"), ("conference", "1599")]),
        )
        .await
        .unwrap();
}
