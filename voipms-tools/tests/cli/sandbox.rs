//! The sandbox end to end: `--sandbox` in-process with state kept between commands, `sandbox
//! reset`, and `sandbox serve` on loopback used by the CLI as a real endpoint.

use std::process::Stdio;

use voipms_sdk::catalog::{self, Effect, Method};

use crate::support::{Env, Server, serve_sandbox as serve};

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
    let (mut server, client) = serve(&env);
    let child = &mut server.0;
    let url = client.get("VOIPMS_API_URL").unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
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

/// `sandbox serve` saves each change before answering it, so even a killed server keeps the
/// changes made through it; SIGTERM (what service managers send) stops it cleanly.
#[cfg(unix)]
#[test]
fn serve_saves_while_running_and_stops_on_sigterm() {
    let env = Env::new();
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
    let (mut server, client) = serve(&env);
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
    // Each change is saved before it is answered: even the hardest stop there is keeps it.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    assert!(
        listed(&env, "Autosaved"),
        "the change made before SIGKILL was lost"
    );

    let (mut server, client) = serve(&env);
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

/// On SIGTERM a server with `--faults` says which faults it injected, by kind: what a fault soak
/// compares with what its clients reported.
#[cfg(unix)]
#[test]
fn serve_reports_the_faults_it_injected() {
    let env = Env::new();
    let mut server = crate::support::Server(
        env.cmd(&[
            "--format",
            "json",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--faults",
            "getBalance:503@first=2, sendSMS:lost",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let mut out = std::io::BufReader::new(server.0.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let client = crate::support::client_of(&line);
    // A read is retried through both 503s.
    client.run(&["getBalance"]).code(0);
    let pid = server.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success())
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(server.0.wait().unwrap().success());
    let last: serde_json::Value = serde_json::from_str(rest.trim()).expect(&rest);
    assert_eq!(
        last["faults_injected"],
        serde_json::json!({"5xx": 2}),
        "{rest}"
    );
    assert_eq!(last["calls"], 3, "{rest}");
}

/// Adds a phonebook entry with `args` (`--sandbox` or `--yes` for a served account); its id.
fn add_entry(env: &Env, flag: &str, name: &str, number: &str) -> u64 {
    let out = env.run(&[flag, "setPhonebook", "--name", name, "--number", number]);
    out.code(0);
    id_of(&out.json()["phonebook"])
}

/// An id the wire gives as a number or as its text.
fn id_of(id: &serde_json::Value) -> u64 {
    id.as_u64()
        .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not an id: {id}"))
}

/// The phonebook as `(id, name)` pairs, sorted by id.
fn entries(env: &Env, flag: &str) -> Vec<(u64, String)> {
    let out = env.run(&[flag, "getPhonebook", "--format", "json"]);
    out.code(0);
    let mut all: Vec<(u64, String)> = out.json()["phonebooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                id_of(&e["phonebook"]),
                e["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

/// While `sandbox serve` runs, `--sandbox` commands and `sandbox reset` on the same state file
/// act on the same account: every change is seen through both sides and survives the server,
/// and no id is handed out twice (issue 9: the server's autosave used to undo a reset, drop the
/// changes made with `--sandbox` and reuse their ids).
#[test]
fn serve_sandbox_commands_and_reset_share_one_account() {
    let env = Env::new();
    let seeded = entries(&env, "--sandbox");
    let (mut server, client) = serve(&env);
    let names =
        |list: &[(u64, String)]| -> Vec<String> { list.iter().map(|(_, n)| n.clone()).collect() };

    // One change on each side, then both seen from both sides.
    let a = add_entry(&client, "--yes", "Via Server", "5552220001");
    let b = add_entry(&env, "--sandbox", "Via Cli", "5552220002");
    assert_ne!(a, b, "an id was handed out twice");
    let through_server = entries(&client, "--yes");
    assert_eq!(through_server, entries(&env, "--sandbox"));
    assert!(
        through_server.contains(&(a, "Via Server".into())),
        "{through_server:?}"
    );
    assert!(
        through_server.contains(&(b, "Via Cli".into())),
        "{through_server:?}"
    );
    assert_eq!(through_server.len(), seeded.len() + 2);

    // Interleaved: writers on both sides at once; every one kept, every id distinct.
    let mut children = Vec::new();
    for i in 0..4 {
        let number = format!("555333{i:04}");
        for (who, flag, side) in [(&client, "--yes", "http"), (&env, "--sandbox", "local")] {
            children.push(
                who.cmd(&[
                    flag,
                    "setPhonebook",
                    "--name",
                    &format!("Burst {side} {i}"),
                    "--number",
                    &number,
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
            );
        }
    }
    let mut ids = vec![a, b];
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(id_of(&v["phonebook"]));
    }
    let distinct: std::collections::BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "ids reused: {ids:?}");
    let after = entries(&client, "--yes");
    assert_eq!(after, entries(&env, "--sandbox"));
    assert_eq!(after.len(), seeded.len() + 10, "{after:?}");
    for id in &ids {
        assert!(
            after.iter().any(|(i, _)| i == id),
            "entry {id} lost: {after:?}"
        );
    }

    // A reset while the server runs is what the server serves next, and it stays reset.
    env.run(&["sandbox", "reset"]).code(0);
    assert_eq!(entries(&client, "--yes"), seeded);
    let c = add_entry(&client, "--yes", "After Reset Server", "5552220003");
    let d = add_entry(&env, "--sandbox", "After Reset Cli", "5552220004");
    assert_ne!(c, d);
    let expected = {
        let mut e = seeded.clone();
        e.push((c, "After Reset Server".into()));
        e.push((d, "After Reset Cli".into()));
        e.sort();
        e
    };
    assert_eq!(entries(&client, "--yes"), expected);

    // The hardest stop: the file already holds everything, and nothing from before the reset.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let left = entries(&env, "--sandbox");
    assert_eq!(left, expected);
    assert!(
        !names(&left)
            .iter()
            .any(|n| n.starts_with("Via") || n.starts_with("Burst"))
    );
}

/// `sandbox serve --faults SPEC` injects what `faults.rs` documents; a bad SPEC is a usage
/// error naming the item.
#[test]
fn serve_injects_faults() {
    let env = Env::new();
    let out = env.run(&[
        "sandbox",
        "serve",
        "--port",
        "0",
        "--faults",
        "getBalance:nonsense",
    ]);
    out.code(2);
    assert!(
        out.stderr.contains("fault `getBalance:nonsense`"),
        "{}",
        out.stderr
    );
    let mut server = Server(
        env.cmd(&[
            "--format",
            "json",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--faults",
            "seed=3, getBalance:status=api_limit_exceeded@first=1, getIP:503",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let client = crate::support::served_client(&mut server);
    let out = client.run(&["--retries", "0", "getIP"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stderr.contains("503"), "{}", out.stderr);
    let out = client.run(&["--retries", "0", "getBalance"]);
    assert!(out.stderr.contains("api_limit_exceeded"), "{}", out.stderr);
    client.run(&["--retries", "0", "getBalance"]).code(0);
}
