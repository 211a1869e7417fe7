//! The friendly commands over the SDK's helpers, end to end on the sandbox (`--sandbox` with
//! `VOIPMS_SANDBOX_STATE` in the test's directory, and `sandbox serve` for a real-account
//! session): every command at least once, idempotency, dry runs, JSON documents, exit codes.

use chrono::{Days, NaiveDate};
use serde_json::Value;

use crate::support::{Env, Mock, Out, example_answer, serve_sandbox};

/// An environment on its own sandbox state file.
pub(crate) fn sandbox() -> Env {
    let env = Env::new();
    let state = env.dir.join("sandbox-state.json").display().to_string();
    env.var("VOIPMS_SANDBOX_STATE", &state)
        .var("VOIPMS_SANDBOX", "1")
}

/// Runs and expects success with a JSON document on stdout.
#[track_caller]
fn json(env: &Env, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = env.run(&all);
    out.code(0);
    out.json()
}

#[track_caller]
fn text(env: &Env, args: &[&str]) -> Out {
    let out = env.run(args);
    out.code(0);
    assert!(!out.stdout.trim().is_empty(), "{args:?}: no output");
    out
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

#[test]
fn balance_text_json_and_dry_run() {
    let env = sandbox();
    let out = text(&env, &["balance"]);
    assert!(out.stdout.starts_with("Balance  "), "{}", out.stdout);
    assert!(!out.stdout.contains("In all"), "{}", out.stdout);
    let out = text(&env, &["balance", "--advanced"]);
    assert!(out.stdout.contains("In all"), "{}", out.stdout);
    let j = json(&env, &["balance"]);
    assert!(j["balance"].as_str().unwrap().parse::<f64>().is_ok(), "{j}");
    assert!(j.get("spent_total").is_none(), "{j}");
    let j = json(&env, &["balance", "-a"]);
    assert!(j["calls_total"].as_i64().unwrap() > 100, "{j}");
    let out = text(&env, &["balance", "--dry-run"]);
    assert!(
        out.stdout.starts_with("GET http://sandbox.invalid/api/v1/rest.php?api_username=demo%40example.com&api_password=********&method=getBalance"),
        "{}",
        out.stdout
    );
    let j = json(&env, &["balance", "--dry-run"]);
    assert_eq!(j["would_send"][0]["fields"]["method"], "getBalance");
    // Reads leave no state behind.
    assert!(!env.dir.join("sandbox-state.json").exists());
    // The catalog alias still reaches the method.
    let j = json(&env, &["getBalance"]);
    assert_eq!(j["status"], "success");
}

#[test]
fn phonebook_is_idempotent() {
    let env = sandbox();
    let out = text(&env, &["phonebook", "groups"]);
    assert!(out.stdout.contains("Spam"), "{}", out.stdout);
    let groups = json(&env, &["phonebook", "groups"]);
    let spam = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Spam")
        .unwrap()
        .clone();
    let by_name = json(&env, &["phonebook", "entries", "Spam"]);
    let id = spam["id"].to_string();
    let by_id = json(&env, &["phonebook", "entries", &id]);
    assert_eq!(by_name, by_id);
    assert_eq!(
        by_name["entries"].as_array().unwrap().len(),
        spam["member_count"].as_u64().unwrap() as usize
    );
    let all = json(&env, &["phonebook", "entries"]);
    assert!(all["entries"].as_array().unwrap().len() > 5);
    let out = env.run(&["phonebook", "entries", "Nope"]);
    out.code(2);
    assert!(out.stderr.contains("Spam"), "{}", out.stderr);
    let out = env.run(&["phonebook", "entries", "--format", "csv"]);
    assert!(
        out.stdout
            .starts_with("id,name,number,groups,speed_dial,callerid,note\n"),
        "{}",
        out.stdout
    );

    // Add: the group and the entry are created; the second time nothing changes.
    let first = json(
        &env,
        &[
            "phonebook",
            "add",
            "Friends",
            "555-111-2222",
            "--name",
            "Bob",
        ],
    );
    assert_eq!(first["changed"], true);
    assert_eq!(first["group_created"], true);
    assert_eq!(first["entry_created"], true);
    assert_eq!(first["number"], "5551112222");
    let out = text(&env, &["phonebook", "add", "Friends", "5551112222"]);
    assert!(out.stdout.contains("nothing changed"), "{}", out.stdout);
    let again = json(&env, &["phonebook", "add", "Friends", "+1 555 111 2222"]);
    assert_eq!(again["changed"], false);
    assert_eq!(again["already_member"], true);
    assert_eq!(again["entry_id"], first["entry_id"]);
    let members = json(&env, &["phonebook", "entries", "Friends"]);
    assert_eq!(members["entries"].as_array().unwrap().len(), 1);
    assert_eq!(members["entries"][0]["name"], "Bob");

    // Dry run: the plan, nothing changed.
    let out = text(
        &env,
        &["phonebook", "add", "Friends", "5551113333", "--dry-run"],
    );
    assert!(
        out.stdout.contains("Would send 2 requests"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("method=setPhonebook&"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("api_password=********"),
        "{}",
        out.stdout
    );
    let plan = json(
        &env,
        &["phonebook", "add", "Friends", "5551113333", "--dry-run"],
    );
    assert_eq!(plan["changes"], true);
    assert_eq!(plan["would_send"].as_array().unwrap().len(), 2);
    let plan = json(
        &env,
        &["phonebook", "add", "Friends", "5551112222", "--dry-run"],
    );
    assert_eq!(plan["changes"], false);
    let members = json(&env, &["phonebook", "entries", "Friends"]);
    assert_eq!(members["entries"].as_array().unwrap().len(), 1);

    // Remove (deleting the entry left in no group); the second time nothing changes.
    let removed = json(
        &env,
        &[
            "phonebook",
            "remove",
            "Friends",
            "5551112222",
            "--delete-orphans",
        ],
    );
    assert_eq!(removed["changed"], true);
    assert_eq!(removed["deleted_entries"], removed["removed_entries"]);
    let out = text(&env, &["phonebook", "remove", "Friends", "5551112222"]);
    assert!(out.stdout.contains("nothing changed"), "{}", out.stdout);
    let all_after = json(&env, &["phonebook", "entries"]);
    assert_eq!(all_after["entries"], all["entries"]);
    // A malformed number is refused before anything is sent.
    let out = env.run(&["phonebook", "add", "Friends", "not-a-number"]);
    out.code(2);
    assert!(out.stderr.contains("not a phone number"), "{}", out.stderr);
}

/// Seeded spam: a caller never talked to for a minute nor called back (the repeat callers and the
/// one-off spoofs from many prefixes), never one of the account's own DIDs.
fn is_seeded_spam(c: &Value) -> bool {
    let n = c["number"].as_str().unwrap();
    !["5551234567", "5551234568", "4165550134"].contains(&n)
        && c["stats"]["long"] == 0
        && c["stats"]["called_back"] == 0
}

#[test]
fn spam_suggest_lists_the_seeded_spam_callers() {
    let env = sandbox();
    let found = json(&env, &["spam", "suggest", "--days", "90"]);
    let list = found["candidates"].as_array().unwrap();
    assert!(list.len() > 5, "{found}");
    for c in list {
        let n = c["number"].as_str().unwrap();
        assert!(is_seeded_spam(c), "{n} is not seeded spam: {c}");
        assert!(c["score"].as_i64().unwrap() >= 40, "{c}");
        assert!(!c["reasons"].as_array().unwrap().is_empty(), "{c}");
        assert_eq!(c["already_marked"], false);
    }
    assert!(found["rows_scanned"].as_u64().unwrap() > 100);
    // A number that calls again and again comes first, above every single call.
    assert!(
        list[0]["stats"]["calls"].as_u64().unwrap() >= 10,
        "{}",
        list[0]
    );
    assert!(list.iter().any(|c| c["stats"]["calls"] == 1), "{found}");
    let limited = json(&env, &["spam", "suggest", "--limit", "3"]);
    assert_eq!(limited["candidates"].as_array().unwrap().len(), 3);
    // The robocaller still calling is already in the Spam group: listed with --include-marked.
    let marked = json(
        &env,
        &[
            "spam",
            "suggest",
            "--days",
            "400",
            "--include-marked",
            "--all",
        ],
    );
    let robo = marked["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == "3055550190")
        .expect("the seeded robocaller");
    assert_eq!(robo["already_marked"], true);
    let out = text(&env, &["spam", "suggest"]);
    assert!(out.stdout.contains("Likely spam callers"), "{}", out.stdout);
    assert!(out.stdout.contains("score"), "{}", out.stdout);
    let out = text(&env, &["spam", "suggest", "--format", "table", "-n", "2"]);
    assert!(out.stdout.starts_with("RANK  NUMBER"), "{}", out.stdout);
    let out = env.run(&["spam", "suggest", "--format", "csv"]);
    assert!(
        out.stdout
            .starts_with("rank,number,score,calls,answered,days,last_seen,marked,reasons\n"),
        "{}",
        out.stdout
    );
    let out = text(&env, &["spam", "suggest", "--dry-run"]);
    assert!(out.stdout.contains("method=getCDR"), "{}", out.stdout);
    let out = env.run(&["spam", "suggest", "--days", "0"]);
    out.code(2);
}

#[test]
fn spam_suggest_shows_the_top_20_unless_asked_for_more() {
    let env = sandbox();
    let all = json(&env, &["spam", "suggest", "--all"]);
    let total = all["candidates"].as_array().unwrap().len();
    assert!(
        total > 20,
        "the seeded account has more than 20 candidates: {total}"
    );
    assert_eq!(all["total"], total);
    let top = json(&env, &["spam", "suggest"]);
    assert_eq!(top["candidates"].as_array().unwrap().len(), 20, "{top}");
    assert_eq!(top["total"], total);
    assert_eq!(top["candidates"][0], all["candidates"][0]);
    let five = json(&env, &["spam", "suggest", "--limit", "5"]);
    assert_eq!(five["candidates"].as_array().unwrap().len(), 5);
    let out = text(&env, &["spam", "suggest"]);
    assert!(
        out.stdout
            .contains(&format!("{} more candidates not shown", total - 20)),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("--all"), "{}", out.stdout);
    env.run(&["spam", "suggest", "--all", "--limit", "3"])
        .code(2);
    // A number blocked by its own Caller ID filter is left out, and listed apart with
    // --include-marked.
    let first = top["candidates"][0]["number"].as_str().unwrap().to_owned();
    env.run(&["filters", "block", &first, "--yes"]).code(0);
    let after = json(&env, &["spam", "suggest", "--all"]);
    assert!(
        after["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["number"] != first.as_str()),
        "{after}"
    );
    let listed = json(&env, &["spam", "suggest", "--all", "--include-marked"]);
    let blocked = listed["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == first.as_str())
        .expect("listed with --include-marked");
    assert_eq!(
        blocked["blocked_by"].as_array().unwrap().len(),
        1,
        "{blocked}"
    );
}

#[test]
fn friendly_writes_refuse_a_bad_number_before_sending_anything() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, "pw");
    let cases: &[&[&str]] = &[
        &["phonebook", "add", "Friends", "12"],
        &["phonebook", "remove", "Friends", "555-12"],
        &["spam", "mark", "12345"],
        &["spam", "unmark", "911"],
        &["spam", "mark", "sip:2563"],
        &["filters", "block", "999"],
        &["filters", "unblock", "p:abc"],
        &["sms", "send", "--dst", "12345", "hi"],
        &[
            "mms",
            "send",
            "--dst",
            "4321",
            "--media",
            "data:image/png;base64,AA==",
            "hi",
        ],
        &["sms", "send", "--dst", "+44123", "hi"],
    ];
    for args in cases {
        let mut all = args.to_vec();
        all.push("--yes");
        let out = env.run(&all);
        out.code(2);
        assert!(
            out.stderr.contains("Nothing was sent") && out.stderr.contains("country code"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(mock.count(), 0, "{args:?} sent {:?}", mock.last().method());
    }
    // Accepted forms still reach the account: a token for a filter, E.164, SIP in a phonebook.
    let mut n = 0;
    for args in [
        ["filters", "block", "0", "--dry-run"],
        ["filters", "block", "p:12", "--dry-run"],
        ["spam", "mark", "+442079460958", "--dry-run"],
        ["phonebook", "add", "Friends", "sip:2563"],
    ] {
        let out = env.run(&[&args[..], &["--yes"]].concat());
        assert_ne!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(mock.count() > n, "{args:?}: nothing read");
        n = mock.count();
    }
}

#[test]
fn spam_mark_warns_about_an_own_did_and_a_contact() {
    let env = sandbox();
    // One of the account's DIDs: marked (the user asked), with a warning.
    let out = env.run(&["spam", "mark", "5551234567"]);
    out.code(0);
    assert!(
        out.stderr
            .contains("warning: 5551234567: it is one of your own DIDs"),
        "{}",
        out.stderr
    );
    let mom = json(&env, &["phonebook", "entries"])["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Mom")
        .expect("the seeded contact Mom")["number"]
        .as_str()
        .unwrap()
        .to_owned();
    // A contact in another group: warned once, in the dry run and in the change.
    let out = env.run(&["spam", "mark", &mom, "--dry-run"]);
    out.code(0);
    assert!(
        out.stderr.contains(&format!(
            "warning: {mom}: it is a contact in phonebook group Family"
        )),
        "{}",
        out.stderr
    );
    let out = env.run(&["spam", "mark", &mom]);
    out.code(0);
    assert_eq!(out.stderr.matches("warning:").count(), 1, "{}", out.stderr);
    let doc = json(&env, &["spam", "mark", &mom]);
    assert!(
        doc["warnings"][0]
            .as_str()
            .unwrap()
            .contains("phonebook group Family"),
        "{doc}"
    );
    // A stranger: no warning.
    let out = env.run(&["spam", "mark", "8885550199"]);
    out.code(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn spam_inspect_csv_carries_the_calls() {
    let env = sandbox();
    let doc = json(&env, &["spam", "inspect", "3055550190"]);
    let calls = doc["recent_calls"].as_array().unwrap();
    assert!(!calls.is_empty(), "{doc}");
    let out = text(&env, &["spam", "inspect", "3055550190", "--format", "csv"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "number,verdict,date,direction,callerid,destination,disposition,seconds,description"
    );
    assert_eq!(lines.len(), calls.len() + 1, "{}", out.stdout);
    let first = calls[0]["date"].as_str().unwrap();
    assert!(
        lines[1].starts_with(&format!(
            "3055550190,{},{first},from it,",
            doc["verdict"]["verdict"].as_str().unwrap()
        )),
        "{}",
        out.stdout
    );
    let out = text(
        &env,
        &["spam", "inspect", "3055550190", "--format", "table"],
    );
    assert!(out.stdout.starts_with("NUMBER"), "{}", out.stdout);
    // A number that never called: its verdict, no call.
    let out = text(&env, &["spam", "inspect", "8885550100", "--format", "csv"]);
    assert_eq!(out.stdout.lines().nth(1), Some("8885550100,unknown,,,,,,,"));
}

#[test]
fn recordings_refuse_a_malformed_id() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, "pw");
    for args in [
        &["recordings", "delete", "abc", "--yes"][..],
        &["recordings", "delete", "../etc", "--yes"],
        &["recordings", "get", "abc", "--out", "x.mp3"],
        &[
            "recordings",
            "email",
            "not an id",
            "--email",
            "me@example.com",
        ],
    ] {
        let out = env.run(args);
        out.code(2);
        assert!(
            out.stderr.contains("is not a recording id") && out.stderr.contains("recordings list"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(mock.count(), 0);
    // A real id still goes through.
    let id = "MTAwMDAxLTU1NTEyMzQ1NjctNTU1OTg3NjU0My1JTi0xNzE4OTAwMDAw";
    env.run(&["recordings", "delete", id, "--yes"]).code(0);
    assert_eq!(mock.last().get("callrecording"), Some(id));
}

#[test]
fn sms_send_names_the_recipient_dst_and_still_takes_to() {
    let env = sandbox();
    let out = env.run(&["sms", "send", "--dst", "5553334444", "hi", "--dry-run"]);
    out.code(0);
    assert!(out.stdout.contains("dst=5553334444"), "{}", out.stdout);
    assert!(!out.stderr.contains("deprecated"), "{}", out.stderr);
    // The old name: same request, a note on stderr.
    let old = env.run(&["sms", "send", "--to", "5553334444", "hi", "--dry-run"]);
    old.code(0);
    assert_eq!(old.stdout, out.stdout);
    assert!(
        old.stderr.contains("--to is deprecated") && old.stderr.contains("--dst"),
        "{}",
        old.stderr
    );
    // Either one, not both; one is needed.
    env.run(&[
        "sms",
        "send",
        "--dst",
        "5553334444",
        "--to",
        "5553334444",
        "hi",
    ])
    .code(2);
    let out = env.run(&["sms", "send", "hi"]);
    out.code(2);
    assert!(out.stderr.contains("--dst"), "{}", out.stderr);
    // The help names --dst only.
    let help = env.run(&["sms", "send", "--help"]).stdout;
    assert!(
        help.contains("--dst <NUMBER>") && !help.contains("--to"),
        "{help}"
    );
}

/// What marking may change: the phonebook, its groups and the filters.
fn account_state(env: &Env) -> (Value, Value, Value) {
    (
        json(env, &["phonebook", "entries"]),
        json(env, &["phonebook", "groups"]),
        json(env, &["filters", "list"]),
    )
}

#[test]
fn spam_mark_then_unmark_restores_the_account() {
    let env = sandbox();
    let found = json(&env, &["spam", "suggest", "--limit", "1"]);
    let number = found["candidates"][0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = json(&env, &["spam", "inspect", &number]);
    assert_eq!(report["verdict"]["verdict"], "unknown", "{report}");
    assert!(report["stats"]["calls"].as_u64().unwrap() >= 1);
    let before = account_state(&env);

    let plan = json(&env, &["spam", "mark", &number, "--dry-run"]);
    assert_eq!(plan["changes"], true);
    assert_eq!(account_state(&env), before, "a dry run changes nothing");

    let mark = json(&env, &["spam", "mark", &number]);
    assert_eq!(mark["changed"], true, "{mark}");
    assert_eq!(mark["added"], true);
    let out = text(&env, &["spam", "mark", &number]);
    assert!(out.stdout.contains("nothing changed"), "{}", out.stdout);
    let report = json(&env, &["spam", "inspect", &number]);
    assert_eq!(report["verdict"]["verdict"], "blocked", "{report}");
    let out = text(&env, &["spam", "inspect", &number]);
    assert!(out.stdout.contains("blocked"), "{}", out.stdout);

    let unmark = json(&env, &["spam", "unmark", &number]);
    assert_eq!(unmark["changed"], true, "{unmark}");
    let out = text(&env, &["spam", "unmark", &number]);
    assert!(out.stdout.contains("nothing changed"), "{}", out.stdout);
    assert_eq!(account_state(&env), before, "unmark restores the state");

    // A blocked robocaller, and a bad number.
    let out = text(&env, &["spam", "inspect", "844-555-0142", "--days", "400"]);
    assert!(out.stdout.contains("blocked"), "{}", out.stdout);
    let out = env.run(&["spam", "mark", "12"]);
    assert_ne!(out.code, 0);
    let out = env.run(&["spam", "inspect", "nonsense"]);
    out.code(2);
}

/// Fields of RFC 4180 CSV, as records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

#[test]
fn cdr_export_over_any_range() {
    let env = sandbox();
    let to = today();
    let from = to - Days::new(399);
    let (f, t) = (from.to_string(), to.to_string());
    // Expected rows: one plain getCDR listing per window of at most 92 days.
    let mut expected = 0;
    let mut start = from;
    while start <= to {
        let end = (start + Days::new(91)).min(to);
        let out = env.run(&[
            "cdr",
            "--from",
            &start.to_string(),
            "--to",
            &end.to_string(),
            "--format",
            "json",
        ]);
        out.code(0);
        expected += out.json()["cdr"].as_array().map_or(0, Vec::len);
        start = end + Days::new(1);
    }
    assert!(expected > 1000, "{expected}");

    let file = env.dir.join("calls.csv");
    let out = env.run(&[
        "cdr",
        "export",
        "--from",
        &f,
        "--to",
        &t,
        "--out",
        file.to_str().unwrap(),
    ]);
    out.code(0);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("5 getCDR windows"), "{}", out.stderr);
    let csv = std::fs::read_to_string(&file).unwrap();
    let records = parse_csv(&csv);
    assert_eq!(
        records[0],
        [
            "date",
            "callerid",
            "destination",
            "description",
            "account",
            "disposition",
            "duration",
            "seconds",
            "rate",
            "total",
            "uniqueid",
            "destination_type",
            "call_logs",
            "ip",
            "useragent"
        ]
    );
    assert_eq!(records.len() - 1, expected);
    assert!(records.iter().all(|r| r.len() == 15));
    let dates: Vec<&str> = records[1..].iter().map(|r| r[0].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "in date order");

    // The same to stdout, as one JSON array.
    let out = env.run(&[
        "cdr", "export", "--from", &f, "--to", &t, "--format", "json",
    ]);
    out.code(0);
    assert_eq!(out.json().as_array().unwrap().len(), expected);
    // CSV to stdout is the file's content.
    let out = env.run(&["cdr", "export", "--from", &f, "--to", &t]);
    out.code(0);
    assert_eq!(out.stdout, csv);
    // An .json file name means JSON.
    let jfile = env.dir.join("calls.json");
    env.run(&[
        "cdr",
        "export",
        "--from",
        "-30d",
        "--out",
        jfile.to_str().unwrap(),
    ])
    .code(0);
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&jfile).unwrap()).unwrap();
    assert!(j.is_array());
    // Dry run: one getCDR per window, nothing written.
    let out = text(
        &env,
        &[
            "cdr",
            "export",
            "--from",
            &f,
            "--to",
            &t,
            "--out",
            "never.csv",
            "--dry-run",
        ],
    );
    assert_eq!(
        out.stdout.matches("method=getCDR").count(),
        5,
        "{}",
        out.stdout
    );
    assert!(!env.dir.join("never.csv").exists());
    let out = env.run(&["cdr", "export", "--format", "table"]);
    out.code(2);
    assert!(out.stderr.contains("csv or json"), "{}", out.stderr);

    // The listing takes relative dates and ranges over 92 days too.
    text(&env, &["cdr", "--from", "-30d", "--format", "table"]);
    let out = env.run(&["cdr", "--from", &f, "--to", &t, "--format", "json"]);
    out.code(0);
    assert_eq!(out.json()["cdr"].as_array().unwrap().len(), expected);
    let out = env.run(&["cdr", "export", "--from", "-3x"]);
    out.code(2);
    assert!(out.stderr.contains("not a valid date"), "{}", out.stderr);
}

fn looks_like_mp3(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
}

#[test]
fn recordings_list_get_email_delete() {
    let env = sandbox();
    let list = json(&env, &["recordings", "list", "--from", "-60d"]);
    let recs = list["recordings"].as_array().unwrap();
    assert!(!recs.is_empty(), "{list}");
    let id = recs[0]["id"].as_str().unwrap().to_owned();
    let out = text(&env, &["recordings", "list", "--from", "-60d"]);
    assert!(out.stdout.contains(&id), "ids are shown whole");
    let out = env.run(&["recordings", "list", "--format", "csv"]);
    assert!(
        out.stdout
            .starts_with("datetime,direction,destination,duration,subaccount,id\n")
    );

    let mp3 = env.dir.join("call.mp3");
    let saved = json(
        &env,
        &["recordings", "get", &id, "--out", mp3.to_str().unwrap()],
    );
    let bytes = std::fs::read(&mp3).unwrap();
    assert!(looks_like_mp3(&bytes), "{:?}", &bytes[..bytes.len().min(8)]);
    assert_eq!(saved["bytes"].as_u64().unwrap() as usize, bytes.len());
    // A well-formed id the account does not have.
    let out = env.run(&[
        "recordings",
        "get",
        "MTAwMDAxLW5vcGUtbm9wZQ",
        "--out",
        "x.mp3",
    ]);
    out.code(3);
    assert!(!env.dir.join("x.mp3").exists());

    let sent = json(
        &env,
        &["recordings", "email", &id, "--email", "me@example.com"],
    );
    assert_eq!(sent["changed"], true);
    let out = env.run(&["recordings", "email", &id, "--email", "not-an-address"]);
    out.code(2);

    let out = text(&env, &["recordings", "delete", &id, "--dry-run"]);
    assert!(
        out.stdout.contains("method=delCallRecording"),
        "{}",
        out.stdout
    );
    let still = json(&env, &["recordings", "list", "--from", "-60d"]);
    assert_eq!(still["recordings"].as_array().unwrap().len(), recs.len());
    let gone = json(&env, &["recordings", "delete", &id]);
    assert_eq!(gone["deleted"], true);
    let out = text(&env, &["recordings", "delete", &id]);
    assert!(out.stdout.contains("already gone"), "{}", out.stdout);
    let after = json(&env, &["recordings", "list", "--from", "-60d"]);
    assert_eq!(
        after["recordings"].as_array().unwrap().len(),
        recs.len() - 1
    );
}

#[test]
fn sms_length_check_split_file_stdin_and_mms() {
    let env = sandbox();
    let long = "x".repeat(200);
    let contact = "5557654329";
    let count = |env: &Env| {
        json(env, &["sms", "list", "--from", "-1d", "--contact", contact])["messages"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&env), 0);
    let out = env.run(&[
        "sms",
        "send",
        "--did",
        "5551234567",
        "--dst",
        contact,
        &long,
    ]);
    out.code(2);
    assert!(out.stderr.contains("160 bytes"), "{}", out.stderr);
    assert!(out.stderr.contains("--split"), "{}", out.stderr);
    assert_eq!(count(&env), 0, "nothing was sent");

    let sent = json(
        &env,
        &[
            "sms",
            "send",
            "--did",
            "5551234567",
            "--dst",
            contact,
            "--split",
            &long,
        ],
    );
    assert_eq!(sent["parts"].as_array().unwrap().len(), 2, "{sent}");
    assert_eq!(count(&env), 2);
    let out = text(
        &env,
        &["sms", "send", "--did", "5551234567", "--dst", contact, "hi"],
    );
    assert!(out.stdout.contains("Sent 1 SMS"), "{}", out.stdout);
    let file = env.dir.join("msg.txt");
    std::fs::write(&file, "from a file\n").unwrap();
    let sent = json(
        &env,
        &[
            "sms",
            "send",
            "--dst",
            contact,
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(sent["parts"][0]["text"], "from a file");
    let out = env.run_stdin(
        &["sms", "send", "--dst", contact, "--format", "json"],
        "from stdin\n",
    );
    out.code(0);
    assert_eq!(out.json()["parts"][0]["text"], "from stdin");
    assert_eq!(count(&env), 5);
    let listed = json(
        &env,
        &["sms", "list", "--contact", contact, "--from", "-1d"],
    );
    assert!(
        listed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "from stdin")
    );
    text(&env, &["sms", "list"]);
    // Dry run: the exact requests, nothing sent.
    let plan = json(
        &env,
        &[
            "sms",
            "send",
            "--did",
            "5551234567",
            "--dst",
            contact,
            "--split",
            &long,
            "--dry-run",
        ],
    );
    assert_eq!(plan["would_send"].as_array().unwrap().len(), 2);
    assert_eq!(count(&env), 5);
    // MMS with a local file.
    let gif = env.dir.join("pic.gif");
    std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
    let sent = json(
        &env,
        &[
            "mms",
            "send",
            "--did",
            "5551234567",
            "--dst",
            contact,
            "look",
            "--media",
            gif.to_str().unwrap(),
        ],
    );
    assert_eq!(sent["changed"], true, "{sent}");
    let out = text(
        &env,
        &[
            "mms",
            "send",
            "--dst",
            contact,
            "--media",
            gif.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert!(
        out.stdout.contains("data:image/gif;base64,"),
        "{}",
        out.stdout
    );
    text(&env, &["mms", "list", "--from", "-1d"]);
}

#[test]
fn sms_over_160_bytes_is_refused_before_anything_is_sent() {
    let mock = Mock::examples();
    let env = Env::new().creds(&mock, "pw-12345");
    let long = "é".repeat(81);
    let out = env.run(&[
        "sms",
        "send",
        "--did",
        "5551234567",
        "--dst",
        "5557654321",
        "--yes",
        &long,
    ]);
    out.code(2);
    assert!(out.stderr.contains("162 bytes"), "{}", out.stderr);
    assert_eq!(mock.count(), 0);
}

#[test]
fn filters_block_and_unblock() {
    let env = sandbox();
    let before = json(&env, &["filters", "list"]);
    let created = json(
        &env,
        &["filters", "block", "5551112222", "--note", "test rule"],
    );
    assert_eq!(created["action"], "created");
    assert_eq!(created["rule"]["routing"], "sys:hangup");
    assert_eq!(created["rule"]["did"], "all");
    let out = text(
        &env,
        &["filters", "block", "555-111-2222", "--note", "test rule"],
    );
    assert!(out.stdout.contains("nothing changed"), "{}", out.stdout);
    let updated = json(
        &env,
        &["filters", "block", "5551112222", "--routing", "sys:busy"],
    );
    assert_eq!(updated["action"], "updated");
    assert_eq!(updated["filter_id"], created["filter_id"]);
    let out = text(&env, &["filters", "list"]);
    assert!(out.stdout.contains("5551112222"), "{}", out.stdout);
    let only_all = json(&env, &["filters", "list", "--did", "all"]);
    assert!(
        only_all["filters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["did"] == "all")
    );
    let plan = json(&env, &["filters", "unblock", "5551112222", "--dry-run"]);
    assert_eq!(
        plan["would_send"][0]["fields"]["method"],
        "delCallerIDFiltering"
    );
    let gone = json(&env, &["filters", "unblock", "5551112222"]);
    assert_eq!(gone["changed"], true);
    let out = text(&env, &["filters", "unblock", "5551112222"]);
    assert!(out.stdout.contains("nothing changed"), "{}", out.stdout);
    assert_eq!(json(&env, &["filters", "list"]), before);
    text(&env, &["filters", "block", "0", "--dry-run"]);
}

#[test]
fn changes_on_a_served_account_need_yes() {
    let home = Env::new();
    let state = home.dir.join("served.json").display().to_string();
    let home = home.var("VOIPMS_SANDBOX_STATE", &state);
    let (_server, env) = serve_sandbox(&home);
    let add = ["phonebook", "add", "Served", "5552223333"];
    let out = env.run(&add);
    out.code(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(out.stderr.contains("setPhonebook"), "{}", out.stderr);
    let groups = json(&env, &["phonebook", "groups"]);
    assert!(
        !groups.to_string().contains("Served"),
        "nothing was changed"
    );
    let out = text(
        &env,
        &["phonebook", "add", "Served", "5552223333", "--dry-run"],
    );
    assert!(out.stdout.contains("Would send"), "{}", out.stdout);
    let done = json(&env, &["phonebook", "add", "Served", "5552223333", "--yes"]);
    assert_eq!(done["changed"], true);
    // Nothing left to change: no confirmation needed.
    let again = json(&env, &["phonebook", "add", "Served", "5552223333"]);
    assert_eq!(again["changed"], false);
    let out = env.run(&["sms", "send", "--dst", "5557654321", "hi"]);
    out.code(2);
    assert!(out.stderr.contains("spends money"), "{}", out.stderr);
    json(&env, &["spam", "suggest", "--limit", "2"]);
    json(&env, &["balance"]);
    // On a terminal the plan is shown and confirmed.
    let mark = ["spam", "mark", "5551230001"];
    let Some(out) = crate::calls::on_a_terminal(&env, &mark, "n") else {
        return;
    };
    out.code(1);
    assert!(out.stdout.contains("Send them? [y/N]"), "{}", out.stdout);
    assert!(
        out.stdout.contains("api_password=********"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("setPhonebook"), "{}", out.stdout);
    let out = crate::calls::on_a_terminal(&env, &mark, "y").unwrap();
    out.code(0);
    assert!(out.stdout.contains("Marked 5551230001"), "{}", out.stdout);
    let report = json(&env, &["spam", "inspect", "5551230001"]);
    assert_eq!(report["verdict"]["verdict"], "blocked", "{report}");
}

#[test]
fn dry_runs_without_credentials() {
    let env = Env::new();
    // A change whose plan needs no read: shown with a placeholder user name.
    let out = env.run(&[
        "sms",
        "send",
        "--did",
        "5551234567",
        "--dst",
        "5557654321",
        "hello",
        "--dry-run",
    ]);
    out.code(0);
    assert!(out.stdout.contains("method=sendSMS"), "{}", out.stdout);
    assert!(out.stderr.contains("no credentials"), "{}", out.stderr);
    let out = env.run(&["balance", "--dry-run"]);
    out.code(0);
    assert!(out.stdout.contains("method=getBalance"), "{}", out.stdout);
    // A change that reads the account to plan: says how to try it.
    let out = env.run(&["phonebook", "add", "Spam", "5551112222", "--dry-run"]);
    out.code(5);
    assert!(out.stderr.contains("--sandbox"), "{}", out.stderr);
    let out = env.run(&["spam", "suggest"]);
    out.code(5);
    assert!(out.stderr.contains("--sandbox"), "{}", out.stderr);
}

#[test]
fn friendly_commands_against_example_answers() {
    // The catalog's example answers stand in for VoIP.ms: every read decodes and prints.
    let mock = Mock::start(example_answer);
    let env = Env::new().creds(&mock, "pw-12345");
    for args in [
        vec!["balance", "-a"],
        vec!["phonebook", "groups"],
        vec!["phonebook", "entries"],
        vec!["filters", "list"],
        vec!["recordings", "list"],
        vec!["sms", "list"],
    ] {
        let out = env.run(&args);
        out.code(0);
        let mut j = args.clone();
        j.extend(["--format", "json"]);
        env.run(&j).code(0);
    }
    env.run(&["balance"]).code(0);
    assert_eq!(mock.last().method(), "getBalance");
}
