//! Credentials: environment, config file profiles, permissions, the no-credentials message, and
//! `voipms doctor`.

use crate::support::{Env, Mock, Request, example_answer, set_mode};

#[test]
fn no_credentials_says_how_and_mentions_the_sandbox() {
    let env = Env::new();
    let out = env.run(&["getBalance"]);
    out.code(5);
    for needle in [
        "VOIPMS_API_USERNAME",
        "VOIPMS_API_PASSWORD",
        "config.toml",
        "chmod 600",
        "--sandbox",
    ] {
        assert!(out.stderr.contains(needle), "{needle}\n{}", out.stderr);
    }
    let half = Env::new().var("VOIPMS_API_USERNAME", "me@example.com");
    let out = half.run(&["getBalance"]);
    out.code(5);
    assert!(
        out.stderr.contains("VOIPMS_API_PASSWORD is not"),
        "{}",
        out.stderr
    );
}

#[test]
fn profiles_from_the_config_file() {
    let mock = Mock::examples();
    let env = Env::new();
    env.write_config(
        &format!(
            "default_profile = \"main\"\n\n[profiles.main]\nusername = \"main@example.com\"\n\
             password = \"main-password\"\napi_url = \"{}\"\n\n[profiles.other]\nusername = \
             \"other@example.com\"\npassword = \"other-password\"\napi_url = \"{}\"\n",
            mock.url, mock.url
        ),
        0o600,
    );
    env.run(&["getBalance"]).code(0);
    assert_eq!(mock.last().get("api_username"), Some("main@example.com"));
    env.run(&["getBalance", "--profile", "other"]).code(0);
    let req = mock.last();
    assert_eq!(req.get("api_username"), Some("other@example.com"));
    assert_eq!(req.get("api_password"), Some("other-password"));
    let env2 = Env::new().var("VOIPMS_PROFILE", "other");
    std::fs::create_dir_all(env2.config_file().parent().unwrap()).unwrap();
    std::fs::copy(env.config_file(), env2.config_file()).unwrap();
    set_mode(&env2.config_file(), 0o600);
    env2.run(&["getBalance"]).code(0);
    assert_eq!(mock.last().get("api_username"), Some("other@example.com"));
    let out = env.run(&["getBalance", "--profile", "nope"]);
    out.code(5);
    assert!(
        out.stderr.contains("profiles: main, other"),
        "{}",
        out.stderr
    );
    // An explicit file.
    let other = env.dir.join("elsewhere.toml");
    std::fs::write(
        &other,
        format!("[profiles.x]\nusername = \"x@example.com\"\npassword = \"xx-password\"\napi_url = \"{}\"\n", mock.url),
    )
    .unwrap();
    set_mode(&other, 0o600);
    env.run(&["getBalance", "--config", other.to_str().unwrap()])
        .code(0);
    assert_eq!(mock.last().get("api_username"), Some("x@example.com"));
}

#[cfg(unix)]
#[test]
fn a_config_file_others_can_read_is_refused() {
    let env = Env::new();
    let path = env.write_config(
        "[profiles.default]\nusername = \"a@b.c\"\npassword = \"pw-pw-pw\"\n",
        0o644,
    );
    let out = env.run(&["getBalance"]);
    out.code(5);
    assert!(
        out.stderr
            .contains(&format!("chmod 600 {}", path.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("mode 644"), "{}", out.stderr);
}

#[test]
fn doctor_reports_each_check_with_its_fix() {
    let ok = Mock::start(|req: &Request| match req.method() {
        "getIP" => (
            200,
            r#"{"status":"success","ip":"198.51.100.7"}"#.to_owned(),
        ),
        _ => example_answer(req),
    });
    let env = Env::new().creds(&ok, "doctor-password");
    let out = env.run(&["doctor"]);
    out.code(0);
    for needle in [
        "✓ credentials",
        "me@example.com",
        "✓ network",
        "198.51.100.7",
        "✓ API access",
        "✓ allow-list",
    ] {
        assert!(out.stdout.contains(needle), "{needle}\n{}", out.stdout);
    }
    let blocked = Mock::start(|req: &Request| match req.method() {
        "getIP" => (
            200,
            r#"{"status":"success","ip":"198.51.100.7"}"#.to_owned(),
        ),
        _ => (200, r#"{"status":"ip_not_enabled"}"#.to_owned()),
    });
    let env = Env::new().creds(&blocked, "doctor-password");
    let out = env.run(&["doctor"]);
    out.code(3);
    assert!(out.stdout.contains("✗ allow-list"), "{}", out.stdout);
    assert!(
        out.stdout.contains("fix: Add 198.51.100.7"),
        "{}",
        out.stdout
    );
    let off = Mock::start(|req: &Request| match req.method() {
        "getIP" => (
            200,
            r#"{"status":"success","ip":"198.51.100.7"}"#.to_owned(),
        ),
        _ => (200, r#"{"status":"api_not_enabled"}"#.to_owned()),
    });
    let env = Env::new().creds(&off, "doctor-password");
    let out = env.run(&["doctor", "--format", "json"]);
    out.code(3);
    let j = out.json();
    assert_eq!(j["ok"], false);
    let api = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "API access")
        .unwrap();
    assert_eq!(api["state"], "fail");
    assert!(api["fix"].as_str().unwrap().contains("Enable/Disable API"));
    let out = Env::new().run(&["doctor"]);
    out.code(5);
    assert!(out.stdout.contains("✗ credentials"), "{}", out.stdout);
    assert!(out.stdout.contains("--sandbox"), "{}", out.stdout);
    let env = Env::new()
        .var("VOIPMS_API_USERNAME", "me@example.com")
        .var("VOIPMS_API_PASSWORD", "doctor-password")
        .var("VOIPMS_API_URL", "http://127.0.0.1:9/api/v1/rest.php");
    let out = env.run(&["doctor", "--retries", "0"]);
    out.code(4);
    assert!(out.stdout.contains("✗ network"), "{}", out.stdout);
}

#[test]
fn doctor_blames_the_credentials_not_the_network_when_voipms_answers() {
    let refused =
        Mock::start(|_: &Request| (200, r#"{"status":"invalid_credentials"}"#.to_owned()));
    let env = Env::new().creds(&refused, "wrong-password");
    let out = env.run(&["doctor"]);
    out.code(3);
    assert!(out.stdout.contains("✓ network"), "{}", out.stdout);
    assert!(out.stdout.contains("VoIP.ms answers"), "{}", out.stdout);
    assert!(out.stdout.contains("✗ API access"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("refused the user name and API password"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("✗ network"), "{}", out.stdout);
    let j = env.run(&["doctor", "--format", "json"]).json();
    let state = |name: &str| {
        j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state("network"), "pass");
    assert_eq!(state("API access"), "fail");
}

#[test]
fn doctor_drift_reports_typed_decode_failures() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, "drift-password");
    let out = env.run(&["doctor", "--drift"]);
    out.code(0);
    assert!(out.stdout.contains("0 do not match"), "{}", out.stdout);
    let n = mock.count();
    assert!(n > 40, "{n} calls");
    assert!(mock.requests().iter().all(|r| {
        voipms_sdk::catalog::method(r.method()).is_some_and(|m| !m.effect.is_mutating())
    }));
    let drifted = Mock::start(|req: &Request| match req.method() {
        "getBalance" => (
            200,
            r#"{"status":"success","balance":{"current_balance":"lots"}}"#.to_owned(),
        ),
        _ => example_answer(req),
    });
    let env = Env::new().creds(&drifted, "drift-password");
    let out = env.run(&["doctor", "--drift"]);
    out.code(6);
    assert!(out.stdout.contains("getBalance"), "{}", out.stdout);
    assert!(
        out.stdout.contains("unreadable $.balance.current_balance"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 decode with unread keys"),
        "{}",
        out.stdout
    );
    // Unread keys are reported per method too, and a shape mismatch as a failure.
    let drifted = Mock::start(|req: &Request| match req.method() {
        "getBalance" => (
            200,
            r#"{"status":"success","balance":{"current_balance":"1.00","surprise":"x"}}"#
                .to_owned(),
        ),
        "getIP" => (200, r#"{"status":"success","ip":"203.0.113.7"}"#.to_owned()),
        "getCountries" => (200, r#"{"status":"success","countries":"none"}"#.to_owned()),
        _ => example_answer(req),
    });
    let env = Env::new().creds(&drifted, "drift-password");
    let out = env.run(&["--format", "json", "doctor", "--drift"]);
    out.code(6);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = doc["drift"]["methods"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["method"] == name).unwrap().clone();
    assert_eq!(row("getBalance")["state"], "drift");
    assert_eq!(
        row("getBalance")["unread"],
        serde_json::json!(["$.balance.surprise"])
    );
    assert_eq!(row("getCountries")["state"], "fail");
    assert_eq!(doc["drift"]["failures"], 1);
}
