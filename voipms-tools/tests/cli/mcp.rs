//! `voipms mcp` over stdio, driven as a client would: JSON-RPC lines on stdin, answers on stdout.
//! The real-client tests (the Python `mcp` SDK and the MCP Inspector) live in `tests/mcp/` and
//! run from `.ci/run`; these hold the tool list snapshot, the write gates on a real account, the
//! audit log after `kill -9`, and the password sentinel.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::{Value, json};

use crate::support::{Env, Mock, Request, example_answer, snapshot};

const SENTINEL: &str = "S3ntinel p@ss&word!";

/// A server process and the client end of its stdio.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    /// Every line the server wrote to stdout.
    lines: Vec<String>,
}

impl Server {
    fn start(env: &Env, args: &[&str]) -> Server {
        let mut child = env
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start voipms mcp");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut s = Server {
            child,
            stdin,
            stdout,
            next_id: 1,
            lines: Vec::new(),
        };
        let init = s.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "cli-test", "version": "9.9"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "voipms", "{init}");
        s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        s
    }

    fn send(&mut self, msg: &Value) {
        writeln!(self.stdin, "{msg}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "the server closed stdout");
            self.lines.push(line.clone());
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line:?}"));
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    fn call(&mut self, tool: &str, args: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}));
        r["result"].clone()
    }

    fn tool_names(&mut self) -> Vec<String> {
        let r = self.request("tools/list", json!({}));
        r["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Closes stdin and collects what the server left on stdout and stderr.
    fn finish(mut self) -> (Vec<String>, String) {
        drop(self.stdin);
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stdout, &mut rest);
        self.lines.extend(rest.lines().map(str::to_owned));
        let out = self.child.wait_with_output().unwrap();
        (
            self.lines,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn sandbox_env() -> Env {
    let env = Env::new();
    let state = env.dir.join("sandbox.json");
    env.var("VOIPMS_SANDBOX_STATE", &state.display().to_string())
}

fn text_of(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn the_default_tool_list_is_a_reviewed_snapshot_within_budget() {
    let env = sandbox_env();
    let mut s = Server::start(&env, &["--sandbox", "mcp"]);
    let r = s.request("tools/list", json!({}));
    let tools = &r["result"]["tools"];
    let compact = serde_json::to_string(tools).unwrap();
    // About 5,000 tokens: what an agent pays on every turn for the default set.
    assert!(compact.len() <= 20_000, "{} bytes", compact.len());
    for t in tools.as_array().unwrap() {
        let a = &t["annotations"];
        assert!(
            a["title"].is_string() && a["readOnlyHint"].is_boolean(),
            "{t}"
        );
        assert!(a["openWorldHint"].is_boolean(), "{t}");
        if a["readOnlyHint"] == false {
            assert!(
                a["destructiveHint"].is_boolean() && a["idempotentHint"].is_boolean(),
                "{t}"
            );
            assert_eq!(
                t["inputSchema"]["properties"]["dry_run"]["default"], true,
                "{t}"
            );
        }
    }
    snapshot(
        "mcp-tools-default",
        &format!("{}\n", serde_json::to_string_pretty(tools).unwrap()),
    );
    // --list-tools prints the same list.
    let listed = env.run(&["mcp", "--list-tools"]);
    listed.code(0);
    assert_eq!(listed.json()["tools"], *tools);
    s.finish();
}

#[test]
fn selection_flags_and_unknown_names() {
    let env = sandbox_env();
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["mcp", "--list-tools"];
        all.extend_from_slice(args);
        env.run(&all).code(0).json()["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let ro = names(&["--read-only"]);
    assert!(ro.contains(&"voipms_get_balance".to_owned()));
    assert!(
        !ro.iter()
            .any(|n| n.contains("mark_number") || n.contains("add_number"))
    );
    let dids = names(&[
        "--toolsets",
        "dids",
        "--exclude-tools",
        "voipms_get_dids_info",
    ]);
    assert!(dids.contains(&"voipms_set_did_info".to_owned()));
    assert!(!dids.contains(&"voipms_get_dids_info".to_owned()));
    assert!(!dids.contains(&"voipms_get_balance".to_owned()));
    let all = names(&["--toolsets", "all"]);
    assert!(all.len() > 220, "{}", all.len());
    let bad = env.run(&["mcp", "--toolsets", "default,nope"]);
    bad.code(2);
    assert!(
        bad.stderr.contains("unknown toolset nope") && bad.stderr.contains("phonebook"),
        "{}",
        bad.stderr
    );
    let bad = env.run(&["mcp", "--tools", "voipms_nope"]);
    bad.code(2);
    assert!(
        bad.stderr.contains("unknown tool voipms_nope"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_session_on_the_sandbox_reads_plans_and_changes() {
    let env = sandbox_env();
    let mut s = Server::start(&env, &["--sandbox", "mcp"]);
    let r = s.call("voipms_get_balance", json!({}));
    assert_eq!(r["isError"], false, "{r}");
    assert!(r["structuredContent"]["balance"].is_string(), "{r}");

    // A dry run (the default) plans and changes nothing.
    let before = s.call("voipms_get_phonebook_groups", json!({}))["structuredContent"].clone();
    let r = s.call(
        "voipms_add_number_to_phonebook_group",
        json!({"group": "Dentists", "number": "5553217654"}),
    );
    assert_eq!(r["structuredContent"]["dry_run"], true, "{r}");
    let planned = r["structuredContent"]["would_send"].as_array().unwrap();
    assert!(
        planned.iter().any(|c| c["method"] == "setPhonebookGroup"),
        "{r}"
    );
    let after = s.call("voipms_get_phonebook_groups", json!({}))["structuredContent"].clone();
    assert_eq!(before, after);

    // The real change, then the read that shows it.
    let r = s.call(
        "voipms_add_number_to_phonebook_group",
        json!({"group": "Dentists", "number": "(555) 321-7654", "dry_run": false}),
    );
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(r["structuredContent"]["added"], true, "{r}");
    let r = s.call("voipms_get_phonebook_entries", json!({"group": "Dentists"}));
    assert_eq!(
        r["structuredContent"]["entries"][0]["number"], "5553217654",
        "{r}"
    );

    // Bad arguments: an error result naming the field and what it takes; nothing sent.
    let r = s.call(
        "voipms_get_recent_cdr",
        json!({"days": "soon", "colour": 1}),
    );
    assert_eq!(r["isError"], true, "{r}");
    let t = text_of(&r);
    assert!(
        t.contains("`days`") && t.contains("whole number") && t.contains("`colour`"),
        "{t}"
    );
    let r = s.call(
        "voipms_call_method",
        json!({"method": "getCDR", "params": {"date_from": "2025-02-30"}}),
    );
    assert_eq!(r["isError"], true);
    assert!(text_of(&r).contains("`date_to` is required"), "{r}");
    let r = s.call(
        "voipms_call_method",
        json!({"method": "getBalance", "params": {"api_password": "x"}}),
    );
    assert!(text_of(&r).contains("cannot be given"), "{r}");

    // The long tail.
    let r = s.call(
        "voipms_search_methods",
        json!({"query": "voicemail messages"}),
    );
    let found = r["structuredContent"]["methods"].as_array().unwrap();
    assert!(
        found.iter().any(|m| m["method"] == "getVoicemailMessages"),
        "{r}"
    );
    let r = s.call("voipms_describe_method", json!({"method": "getdidsinfo"}));
    assert_eq!(r["structuredContent"]["method"], "getDIDsInfo", "{r}");
    assert_eq!(r["structuredContent"]["input_schema"]["type"], "object");
    let r = s.call(
        "voipms_call_method",
        json!({"method": "getDIDsInfo", "params": {}}),
    );
    assert_eq!(r["isError"], false, "{r}");
    assert!(r["structuredContent"]["dids"].is_array(), "{r}");

    // Spam: inspect, plan a mark, then mark.
    let r = s.call("voipms_suggest_spam_numbers", json!({"limit": 3}));
    let top = r["structuredContent"]["candidates"][0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(r["structuredContent"]["next_cursor"].is_string(), "{r}");
    // Marking one of the account's own DIDs is planned with a warning.
    let own = s.call("voipms_call_method", json!({"method": "getDIDsInfo"}));
    let did = own["structuredContent"]["dids"][0]["did"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s.call("voipms_mark_number_as_spam", json!({"number": did}));
    assert!(
        !r["structuredContent"]["warnings"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{r}"
    );
    assert!(text_of(&r).contains("Warning:"), "{r}");
    let r = s.call(
        "voipms_mark_number_as_spam",
        json!({"number": top, "dry_run": false}),
    );
    assert_eq!(r["structuredContent"]["changed"], true, "{r}");
    let r = s.call("voipms_inspect_number", json!({"number": top}));
    assert_eq!(
        r["structuredContent"]["verdict"]["verdict"], "blocked",
        "{r}"
    );

    // VoIP.ms's own dry run (test=1) checks a billable order without placing it.
    let balance = s.call("voipms_get_balance", json!({}))["structuredContent"]["balance"].clone();
    let r = s.call(
        "voipms_call_method",
        json!({"method": "orderDID", "params": {"did": "5551110000", "routing": "account:100001_VoIP",
               "pop": 1, "dialtime": 60, "cnam": false, "billing_type": 1}}),
    );
    assert_eq!(r["structuredContent"]["dry_run"], true, "{r}");
    assert!(
        r["structuredContent"]["checked_by_voipms"]["test"] == 1,
        "{r}"
    );
    assert!(text_of(&r).contains("test=1"), "{r}");
    let after = s.call("voipms_get_balance", json!({}))["structuredContent"]["balance"].clone();
    assert_eq!(balance, after, "a checked dry run spends nothing");

    // A full-record write: the dry run shows the record before and after, field by field.
    let lot_params = |name: &str| {
        json!({"name": name, "timeout": 60, "music": "default", "failover": "callback",
               "language": "en", "destination": "parker", "delay": 5, "blf_lamps": 4})
    };
    let r = s.call(
        "voipms_call_method",
        json!({"method": "setCallParking", "params": lot_params("Dry lot")}),
    );
    assert_eq!(r["structuredContent"]["record"]["creates"], true, "{r}");
    let lots = s.call("voipms_call_method", json!({"method": "getCallParking"}));
    let lot = &lots["structuredContent"]["callparking"][0];
    let id = lot["callparking"]
        .as_str()
        .map_or_else(|| lot["callparking"].to_string(), str::to_owned);
    let mut update = lot_params("Renamed lot");
    update["callparking"] = json!(id);
    for (param, field) in [
        ("timeout", "timeout"),
        ("music", "musiconhold"),
        ("failover", "failover"),
        ("language", "language"),
        ("destination", "destination"),
        ("delay", "delay"),
        ("blf_lamps", "blf_lamps"),
    ] {
        update[param] = lot[field].clone();
    }
    let r = s.call(
        "voipms_call_method",
        json!({"method": "setCallParking", "params": update}),
    );
    let diff = &r["structuredContent"]["record"];
    assert_eq!(diff["found"], true, "{r}");
    assert_eq!(
        diff["changes"],
        json!([{"field": "name", "before": lot["name"], "after": "Renamed lot"}]),
        "{r}"
    );
    assert_eq!(diff["unchanged"].as_array().unwrap().len(), 7, "{r}");
    let r = s.call(
        "voipms_call_method",
        json!({"method": "setCallParking", "params": {"callparking": "999999", "name": "x", "timeout": 1,
               "music": "default", "failover": "callback", "language": "en", "destination": "d",
               "delay": 1, "blf_lamps": 1}}),
    );
    assert_eq!(r["structuredContent"]["record"]["found"], false, "{r}");

    // An unknown tool is a protocol error.
    let r = s.request(
        "tools/call",
        json!({"name": "voipms_nope", "arguments": {}}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");

    let (lines, _stderr) = s.finish();
    for l in lines.iter().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|_| panic!("not protocol: {l:?}"));
        assert_eq!(v["jsonrpc"], "2.0", "{l}");
    }
    // The change survived the server: the sandbox was saved.
    let out = env.run(&[
        "--sandbox",
        "phonebook",
        "entries",
        "Dentists",
        "--format",
        "json",
    ]);
    assert_eq!(out.code(0).json()["entries"][0]["number"], "5553217654");
}

#[test]
fn read_only_hides_changes_and_the_caller_refuses_them() {
    let env = sandbox_env();
    let mut s = Server::start(&env, &["--sandbox", "mcp", "--read-only"]);
    let names = s.tool_names();
    assert!(!names.iter().any(|n| n == "voipms_mark_number_as_spam"));
    let r = s.call(
        "voipms_call_method",
        json!({"method": "delPhonebook", "params": {"phonebook": "1"}, "dry_run": false}),
    );
    assert_eq!(r["isError"], true);
    assert!(text_of(&r).contains("read-only"), "{r}");
    let r = s.request(
        "tools/call",
        json!({"name": "voipms_mark_number_as_spam", "arguments": {"number": "5551234567"}}),
    );
    assert_eq!(
        r["error"]["code"], -32602,
        "hidden tools cannot be called: {r}"
    );
    s.finish();
}

/// A stand-in for VoIP.ms that echoes the password back and loses the reply to sendSMS.
fn account() -> Mock {
    Mock::start(|req: &Request| {
        let pw = req.get("api_password").unwrap_or("").to_owned();
        match req.method() {
            "getIP" => (
                200,
                json!({"status": "success", "ip": "203.0.113.9", "pw": pw}).to_string(),
            ),
            "sendSMS" => (502, format!("<html>bad gateway {pw}</html>")),
            _ => example_answer(req),
        }
    })
}

#[test]
fn a_real_account_needs_the_write_permissions_and_never_sees_a_retry() {
    let mock = account();
    let env = Env::new().creds(&mock, SENTINEL);
    let audit = env.dir.join("audit.jsonl");
    let audit_arg = audit.display().to_string();

    // Without --allow-writes: reads work, dry runs work, real changes are refused unsent.
    let mut s = Server::start(
        &env,
        &[
            "mcp",
            "--tools",
            "voipms_del_phonebook",
            "--audit-log",
            &audit_arg,
        ],
    );
    let r = s.call("voipms_call_method", json!({"method": "getIP"}));
    assert_eq!(r["isError"], false, "{r}");
    let r = s.call(
        "voipms_call_method",
        json!({"method": "delPhonebook", "params": {"phonebook": "7"}, "dry_run": false}),
    );
    assert_eq!(r["isError"], true);
    assert!(text_of(&r).contains("--allow-writes"), "{r}");
    let r = s.call("voipms_del_phonebook", json!({"phonebook": "7"}));
    assert_eq!(r["structuredContent"]["dry_run"], true, "{r}");
    let (_, stderr1) = s.finish();
    assert!(mock.requests().iter().all(|q| q.method() != "delPhonebook"));

    // --allow-writes but not billable: an SMS is refused.
    let mut s = Server::start(&env, &["mcp", "--allow-writes", "--audit-log", &audit_arg]);
    let sms = json!({"method": "sendSMS", "params": {"did": "5551234567", "dst": "5557654321", "message": "hi"}, "dry_run": false});
    let r = s.call("voipms_call_method", sms.clone());
    assert!(text_of(&r).contains("--allow-billable"), "{r}");
    let (_, stderr2) = s.finish();
    assert!(mock.requests().iter().all(|q| q.method() != "sendSMS"));

    // Both: the SMS goes once; its reply is lost, and the result says it may have been sent.
    let mut s = Server::start(
        &env,
        &[
            "mcp",
            "--allow-writes",
            "--allow-billable",
            "--audit-log",
            &audit_arg,
        ],
    );
    let r = s.call("voipms_call_method", sms);
    assert_eq!(r["isError"], true, "{r}");
    let t = text_of(&r);
    assert!(
        t.contains("may have been applied") && t.contains("Do not call it again"),
        "{t}"
    );
    let (lines, stderr3) = s.finish();
    let sent = mock
        .requests()
        .iter()
        .filter(|q| q.method() == "sendSMS")
        .count();
    assert_eq!(sent, 1, "a lost billable reply is never retried");

    // The password is nowhere: results, logs, the audit log.
    let audit_text = std::fs::read_to_string(&audit).unwrap();
    for (label, text) in [
        ("stdout", lines.join("\n")),
        ("stderr", format!("{stderr1}{stderr2}{stderr3}")),
        ("audit", audit_text.clone()),
    ] {
        assert!(
            !text.contains(SENTINEL) && !text.contains("S3ntinel"),
            "{label} leaked:\n{text}"
        );
    }
    // Every call of a tool that may change the account is in the audit log, dry run or not.
    let outcomes: Vec<String> = audit_text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["outcome"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        outcomes,
        ["refused", "dry_run", "refused", "may_have_applied"],
        "{audit_text}"
    );
    let first: Value = serde_json::from_str(audit_text.lines().next().unwrap()).unwrap();
    assert_eq!(first["client"]["name"], "cli-test");
    assert_eq!(first["tool"], "voipms_call_method");
}

#[test]
fn the_audit_log_survives_kill_9() {
    let env = sandbox_env();
    let audit = env.dir.join("audit.jsonl");
    let audit_arg = audit.display().to_string();
    let mut s = Server::start(&env, &["--sandbox", "mcp", "--audit-log", &audit_arg]);
    for i in 0..20 {
        let r = s.call(
            "voipms_add_number_to_phonebook_group",
            json!({"group": "Kill", "number": format!("555300{i:04}"), "dry_run": i % 2 == 0}),
        );
        assert_eq!(r["isError"], false, "{r}");
    }
    s.child.kill().unwrap(); // SIGKILL
    let _ = s.child.wait();
    let out = env.run(&["audit", "tail", "-n", "100", "--audit-log", &audit_arg]);
    out.code(0);
    let records: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 20, "{}", out.stdout);
    assert_eq!(records[1]["outcome"], "ok");
    assert_eq!(records[0]["outcome"], "dry_run");
    // A record cut short is skipped, with a note.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&audit)
        .unwrap()
        .write_all(b"{\"time\":\"2026-")
        .unwrap();
    let out = env.run(&["audit", "tail", "-n", "3", "--audit-log", &audit_arg]);
    assert_eq!(out.code(0).stdout.lines().count(), 3);
    assert!(out.stderr.contains("1 incomplete record"), "{}", out.stderr);
}

/// `voipms --sandbox mcp` shares the state file with `--sandbox` commands and `sandbox reset`: a
/// change made on either side is seen by the other and kept, no id is handed out twice, and a
/// reset is what the server serves next (it used to save its own copy over them).
#[test]
fn the_sandbox_server_shares_its_state_with_sandbox_commands() {
    let env = sandbox_env();
    let mut s = Server::start(&env, &["--sandbox", "mcp"]);
    let add = |s: &mut Server, name: &str| -> String {
        let r = s.call(
            "voipms_call_method",
            json!({"method": "setPhonebook", "params": {"name": name, "number": "5552227777"},
                   "dry_run": false}),
        );
        assert_eq!(r["isError"], false, "{r}");
        let id = &r["structuredContent"]["phonebook"];
        id.as_str().map_or_else(|| id.to_string(), str::to_owned)
    };
    let names = |s: &mut Server| -> Vec<String> {
        let r = s.call("voipms_call_method", json!({"method": "getPhonebook"}));
        r["structuredContent"]["phonebooks"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let cli_names = |env: &Env| -> Vec<String> {
        let out = env.run(&["--sandbox", "getPhonebook", "--format", "json"]);
        out.code(0);
        out.json()["phonebooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let seeded = names(&mut s);

    let a = add(&mut s, "From Mcp");
    let out = env.run(&[
        "--sandbox",
        "setPhonebook",
        "--name",
        "From Cli",
        "--number",
        "5552228888",
    ]);
    out.code(0);
    let b = out.json()["phonebook"].to_string().replace('"', "");
    assert_ne!(a, b, "an id was handed out twice");
    let through_mcp = names(&mut s);
    assert!(
        through_mcp.contains(&"From Mcp".to_owned())
            && through_mcp.contains(&"From Cli".to_owned()),
        "{through_mcp:?}"
    );
    assert_eq!(through_mcp, cli_names(&env));

    env.run(&["sandbox", "reset"]).code(0);
    assert_eq!(names(&mut s), seeded);
    add(&mut s, "After Reset");
    s.finish();
    let mut expected = seeded.clone();
    expected.push("After Reset".into());
    assert_eq!(cli_names(&env), expected);
}

#[test]
fn call_transcripts_stored_then_voipms_then_the_provider_when_allowed() {
    use crate::transcripts::{KEY, assert_no_key_stored, provider, sandbox};
    let fake = provider(false);
    let env = sandbox(Some(&fake));
    let audit = env.dir.join("audit.jsonl");
    let audit_arg = audit.display().to_string();

    // Without --allow-transcription: VoIP.ms's own or none, and the provider is never sent audio.
    let mut s = Server::start(&env, &["--sandbox", "mcp", "--audit-log", &audit_arg]);
    let r = s.call("voipms_get_call_recordings", json!({"limit": 12}));
    let recs: Vec<String> = r["structuredContent"]["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    let mut untranscribed = None;
    let mut native = None;
    for id in &recs {
        let r = s.call(
            "voipms_get_call_transcript",
            json!({"account": "all", "id": id}),
        );
        assert_eq!(r["isError"], false, "{r}");
        let doc = &r["structuredContent"];
        if doc["found"] == true {
            assert_eq!(doc["answered_by"], "voipms", "{r}");
            native.get_or_insert(id.clone());
        } else {
            assert!(
                doc["reason"]
                    .as_str()
                    .unwrap()
                    .contains("--allow-transcription"),
                "{r}"
            );
            untranscribed.get_or_insert(id.clone());
        }
    }
    let (native, untranscribed) = (native.unwrap(), untranscribed.unwrap());
    assert_eq!(fake.count(), 0);
    let r = s.call(
        "voipms_get_call_transcript",
        json!({"account": "all", "id": native}),
    );
    assert_eq!(r["structuredContent"]["answered_by"], "stored", "{r}");
    s.finish();

    // With it: the provider answers (unless the caller opts out), then the store.
    let mut s = Server::start(
        &env,
        &[
            "--sandbox",
            "mcp",
            "--allow-transcription",
            "--audit-log",
            &audit_arg,
        ],
    );
    let r = s.call(
        "voipms_get_call_transcript",
        json!({"account": "all", "id": untranscribed, "transcribe": false}),
    );
    assert_eq!(r["structuredContent"]["found"], false, "{r}");
    assert_eq!(fake.count(), 0);
    let r = s.call(
        "voipms_get_call_transcript",
        json!({"account": "all", "id": untranscribed}),
    );
    assert_eq!(r["structuredContent"]["answered_by"], "provider", "{r}");
    assert!(text_of(&r).contains("transcribed by 127.0.0.1"), "{r}");
    assert_eq!(fake.count(), 1);
    let r = s.call(
        "voipms_get_call_transcript",
        json!({"account": "all", "id": untranscribed}),
    );
    assert_eq!(r["structuredContent"]["answered_by"], "stored", "{r}");
    assert_eq!(fake.count(), 1);

    let r = s.call(
        "voipms_search_transcripts",
        json!({"query": "overdue invoice", "limit": 5}),
    );
    assert_eq!(r["isError"], false, "{r}");
    let results = r["structuredContent"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{r}");
    assert!(
        results[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("[overdue]")
    );
    let r = s.call(
        "voipms_search_transcripts",
        json!({"query": "appointment", "limit": 1}),
    );
    assert_eq!(
        r["structuredContent"]["results"].as_array().unwrap().len(),
        1,
        "{r}"
    );
    assert!(
        r["structuredContent"]["next_cursor"].is_string() || r["structuredContent"]["total"] == 1,
        "{r}"
    );
    let (lines, stderr) = s.finish();
    assert!(lines.iter().all(|l| !l.contains(KEY)) && !stderr.contains(KEY));
    // The audit log is under env.dir: checked with the rest.
    assert_no_key_stored(&env);

    // --allow-transcription with no provider configured is refused at start.
    let bare = sandbox(None);
    let out = bare.run(&["--sandbox", "mcp", "--allow-transcription"]);
    out.code(5);
    assert!(
        out.stderr.contains("needs a transcription provider"),
        "{}",
        out.stderr
    );
}
