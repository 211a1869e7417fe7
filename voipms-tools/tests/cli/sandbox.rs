//! The sandbox end to end: `--sandbox` in-process with state kept between commands, `sandbox
//! reset`, and `sandbox serve` on loopback used by the CLI as a real endpoint.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use voipms_sdk::catalog::{self, Effect, Method};

use crate::support::Env;

#[test]
fn works_without_credentials_and_keeps_state() {
    let env = Env::new();
    let out = env.run(&["--sandbox", "getBalance"]);
    out.code(0);
    assert_eq!(out.json()["status"], "success");
    assert!(out.json()["balance"]["current_balance"].is_string());
    // A read leaves no state file; a change writes it (no --yes needed: nothing is real).
    let state = env.dir.join("data/voipms/sandbox.json");
    assert!(!state.exists());
    let out = env.run(&[
        "--sandbox",
        "setPhonebook",
        "--name",
        "Test Person",
        "--number",
        "5551112222",
    ]);
    out.code(0);
    assert!(state.exists(), "state saved after a change");
    let out = env.run(&[
        "--sandbox",
        "getPhonebook",
        "--name",
        "Test Person",
        "--format",
        "csv",
    ]);
    out.code(0);
    assert!(
        out.stdout.contains("Test Person,5551112222"),
        "{}",
        out.stdout
    );
    // VOIPMS_SANDBOX=1 does the same.
    let sb = Env::new().var("VOIPMS_SANDBOX", "1");
    sb.run(&["getBalance"]).code(0);
    // Reset: the entry is gone.
    let out = env.run(&["sandbox", "reset"]);
    out.code(0);
    assert!(out.stdout.contains("seeded state"), "{}", out.stdout);
    let out = env.run(&["--sandbox", "getPhonebook", "--name", "Test Person"]);
    out.code(0);
    assert_eq!(out.json()["status"], "no_phonebook");
    let out = env.run(&[
        "sandbox", "reset", "--new", "--seed", "7", "--format", "json",
    ]);
    out.code(0);
    assert_eq!(out.json()["seed"], 7);
}

#[test]
fn aliases_dry_run_errors_and_doctor_on_the_sandbox() {
    let env = Env::new().var("VOIPMS_SANDBOX", "1");
    env.run(&["cdr", "--status", "answered", "--format", "csv"])
        .code(0);
    let out = env.run(&["getPhonebookGroups", "--format", "json"]);
    out.code(0);
    let groups = out.json();
    let name = groups["phonebook_groups"][0]["name"]
        .as_str()
        .expect("a seeded group")
        .to_owned();
    let out = env.run(&["getPhonebookGroups", &name]);
    out.code(0);
    assert_eq!(out.json()["phonebook_groups"][0]["name"], name.as_str());
    let out = env.run(&["getBalance", "--dry-run", "--format", "pretty"]);
    out.code(0);
    assert!(out.stdout.starts_with("GET http://sandbox.invalid/api/v1/rest.php?api_username=demo%40example.com&api_password=********"), "{}", out.stdout);
    let out = env.run(&["getDIDsInfo", "--did", "5550000000"]);
    out.code(0);
    assert_eq!(out.json()["status"], "no_did");
    let out = env.run(&[
        "getCDR",
        "--date-from",
        "2025-01-01",
        "--date-to",
        "2025-12-31",
        "--timezone",
        "0",
    ]);
    out.code(3);
    assert!(
        out.stderr.contains("getCDR failed: invalid_daterange"),
        "{}",
        out.stderr
    );
    let out = env.run(&["doctor", "--drift"]);
    out.code(0);
    assert!(out.stdout.contains("✓ API access"), "{}", out.stdout);
    assert!(out.stdout.contains("0 do not match"), "{}", out.stdout);
}

#[test]
fn every_category_answers_on_the_sandbox() {
    let env = Env::new().var("VOIPMS_SANDBOX", "1");
    for c in catalog::CATEGORIES {
        let reads: Vec<&'static Method> = catalog::METHODS
            .iter()
            .filter(|m| m.category == c.slug && m.effect == Effect::Read)
            .collect();
        // A list method without required parameters must succeed outright.
        if let Some(m) = reads.iter().find(|m| m.params.iter().all(|p| !p.required)) {
            let out = env.run(&[m.name]);
            out.code(0);
            let status = out.json()["status"].as_str().unwrap_or("").to_owned();
            assert!(
                status == "success" || m.is_empty_status(&status),
                "{}: {status}",
                m.name
            );
        }
    }
}

#[test]
fn serve_on_loopback_for_other_clients() {
    let env = Env::new();
    let mut server = Server(
        env.cmd(&["--format", "json", "sandbox", "serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let child = &mut server.0;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).expect("one JSON line first");
    let url = info["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let client = Env::new()
        .var("VOIPMS_API_URL", &url)
        .var("VOIPMS_API_USERNAME", info["username"].as_str().unwrap())
        .var("VOIPMS_API_PASSWORD", info["password"].as_str().unwrap());
    let out = client.run(&["getBalance"]);
    out.code(0);
    assert_eq!(out.json()["status"], "success");
    client.run(&["cdr", "--format", "table"]).code(0);
    // A change over HTTP needs --yes: to the client this is a real account.
    client
        .run(&["setPhonebook", "--name", "Served", "--number", "5552223333"])
        .code(2);
    client
        .run(&[
            "setPhonebook",
            "--name",
            "Served",
            "--number",
            "5552223333",
            "--yes",
        ])
        .code(0);
    let out = client.run(&["getPhonebook", "--name", "Served", "--format", "csv"]);
    assert!(out.stdout.contains("Served,5552223333"), "{}", out.stdout);
    let out = client.run(&["doctor"]);
    out.code(0);
    let wrong = Env::new()
        .var("VOIPMS_API_URL", &url)
        .var("VOIPMS_API_USERNAME", "demo@example.com")
        .var("VOIPMS_API_PASSWORD", "wrong-password");
    let out = wrong.run(&["getBalance"]);
    out.code(3);
    assert!(out.stderr.contains("invalid_credentials"), "{}", out.stderr);
    // Only one server per port: a second one is refused with the fix.
    let port = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let out = env.run_timeout(&["sandbox", "serve", "--port", &port], 20);
    out.code(5);
    assert!(out.stderr.contains("pick another port"), "{}", out.stderr);
    // Ctrl-C stops it and saves the state.
    let pid = child.id().to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .is_ok_and(|s| s.success());
    if !interrupted {
        return;
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let out = env.run(&[
        "--sandbox",
        "getPhonebook",
        "--name",
        "Served",
        "--format",
        "csv",
    ]);
    assert!(out.stdout.contains("Served,5552223333"), "{}", out.stdout);
}

/// `sandbox serve` saves while in use, so even a killed server keeps the changes made through
/// it; SIGTERM (what service managers send) stops it cleanly.
#[cfg(unix)]
#[test]
fn serve_saves_while_running_and_stops_on_sigterm() {
    let env = Env::new();
    let start = |env: &Env| {
        let mut server = Server(
            env.cmd(&["--format", "json", "sandbox", "serve", "--port", "0"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        BufReader::new(server.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info: serde_json::Value = serde_json::from_str(&line).expect("one JSON line first");
        let client = Env::new()
            .var("VOIPMS_API_URL", info["url"].as_str().unwrap())
            .var("VOIPMS_API_USERNAME", info["username"].as_str().unwrap())
            .var("VOIPMS_API_PASSWORD", info["password"].as_str().unwrap());
        (server, client)
    };
    let listed = |env: &Env, name: &str| {
        env.run(&[
            "--sandbox",
            "getPhonebook",
            "--name",
            name,
            "--format",
            "csv",
        ])
        .stdout
        .contains(name)
    };
    let (mut server, client) = start(&env);
    let add = |client: &Env, name: &str| {
        client
            .run(&[
                "setPhonebook",
                "--name",
                name,
                "--number",
                "5552224444",
                "--yes",
            ])
            .code(0);
    };
    add(&client, "Autosaved");
    // Past one autosave period, then the hardest stop there is.
    std::thread::sleep(std::time::Duration::from_millis(5000));
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    assert!(
        listed(&env, "Autosaved"),
        "the change made before SIGKILL was lost"
    );

    let (mut server, client) = start(&env);
    add(&client, "Terminated");
    let pid = server.0.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .is_ok_and(|s| s.success());
    assert!(sent, "kill -TERM failed");
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(listed(&env, "Terminated"), "SIGTERM did not save the state");
}

/// A server process, stopped if a test fails before it does.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
