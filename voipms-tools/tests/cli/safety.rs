//! Outcomes told truthfully and writes safe across processes: a lost reply to a billable write
//! is settled by a read or reported as "may have been applied" (never "run it again"), and
//! concurrent `voipms` processes changing one account or one sandbox state lose nothing.

use voipms_sdk::sandbox::{Fault, FaultRule, Faults, LostReply};

use crate::support::{Env, Out, Served};

const DID: &str = "5551234567";

/// Advice that would make a user send a billable write a second time.
#[track_caller]
fn no_rerun_advice(out: &Out) {
    let all = format!("{}\n{}", out.stdout, out.stderr).to_lowercase();
    for bad in [
        " is idempotent",
        "run it again",
        "try again",
        "run this again",
        "retry",
    ] {
        assert!(!all.contains(bad), "`{bad}` advised:\n{all}");
    }
}

/// Messages with `text` the served account has sent to `to`.
fn sent(served: &Served, to: &str, text: &str) -> usize {
    let out = served.env().run(&[
        "sms",
        "list",
        "--contact",
        to,
        "--direction",
        "sent",
        "--from",
        "-1d",
        "--to",
        "today",
        "--format",
        "json",
    ]);
    out.code(0);
    out.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == text)
        .count()
}

fn send_sms(env: &Env, to: &str, text: &str) -> Out {
    env.run(&["sms", "send", "--did", DID, "--dst", to, text, "--yes"])
}

fn lose(method: &str, lost: LostReply) -> Faults {
    Faults::new(3).rule(FaultRule::method(method, Fault::LostReply(lost)).first(1))
}

#[test]
fn lost_sms_reply_is_settled_by_a_read_and_never_sent_twice() {
    let served = Served::start();
    let env = served.env();
    let sb = &served.sandbox;

    // The reply is dropped but getSMS shows the message: reported as sent, once.
    sb.set_faults(lose("sendSMS", LostReply::Dropped));
    let out = send_sms(&env, "5553334444", "see you at five");
    out.code(0);
    assert!(
        out.stdout
            .contains("confirmed by getSMS after the reply was lost"),
        "{}",
        out.stdout
    );
    no_rerun_advice(&out);
    assert_eq!(served.count("sendSMS"), 1);

    // The reply is lost and getSMS does not show it: "may have been sent", exit 7, no resend.
    sb.set_faults(
        lose("sendSMS", LostReply::BadGateway).rule(FaultRule::method("getSMS", Fault::EmptyBody)),
    );
    let out = send_sms(&env, "5553335555", "not visible yet");
    out.code(7);
    assert!(
        out.stderr.contains("may have been sent")
            && out.stderr.contains("not (yet) visible in getSMS")
            && out.stderr.contains("do NOT resend blindly")
            && out.stderr.contains("voipms sms list"),
        "{}",
        out.stderr
    );
    no_rerun_advice(&out);
    assert_eq!(served.count("sendSMS"), 2, "sent once, never again");
    sb.set_faults(Faults::default());
    assert_eq!(sent(&served, "5553334444", "see you at five"), 1);
    assert_eq!(sent(&served, "5553335555", "not visible yet"), 1);
}

#[test]
fn raw_billable_call_with_a_lost_reply_may_have_been_applied() {
    let served = Served::start();
    let env = served.env();
    let sb = &served.sandbox;
    let cases: [(Faults, &[&str], &str); 4] = [
        (
            lose("sendSMS", LostReply::Dropped),
            &[
                "sendSMS",
                "--did",
                DID,
                "--dst",
                "5553336001",
                "--message",
                "raw one",
            ],
            "raw one",
        ),
        (
            lose("sendSMS", LostReply::BadGateway),
            &[
                "call",
                "sendSMS",
                "did=5551234567",
                "dst=5553336002",
                "message=raw two",
            ],
            "raw two",
        ),
        (
            Faults::new(3).rule(FaultRule::method("sendSMS", Fault::TruncatedBody).first(1)),
            &[
                "sendSMS",
                "--did",
                DID,
                "--dst",
                "5553336003",
                "--message",
                "raw three",
            ],
            "raw three",
        ),
        (
            // A 5xx page: the client cannot know whether it went through.
            Faults::new(3).rule(FaultRule::method("sendSMS", Fault::HttpError(503)).first(1)),
            &[
                "call",
                "sendSMS",
                "did=5551234567",
                "dst=5553336004",
                "message=raw four",
            ],
            "raw four",
        ),
    ];
    for (n, (faults, args, _)) in cases.iter().enumerate() {
        sb.set_faults(faults.clone());
        let mut all = args.to_vec();
        all.push("--yes");
        let out = env.run(&all);
        out.code(7);
        assert!(
            out.stderr.contains("sendSMS may have been applied")
                && out.stderr.contains("do NOT send it again"),
            "{args:?}: {}",
            out.stderr
        );
        no_rerun_advice(&out);
        assert_eq!(served.count("sendSMS"), n as u64 + 1, "{args:?}: sent once");
    }
    sb.set_faults(Faults::default());
    for (to, (_, _, text)) in ["5553336001", "5553336002", "5553336003"]
        .iter()
        .zip(&cases)
    {
        assert_eq!(sent(&served, to, text), 1, "{text}");
    }
    assert_eq!(
        sent(&served, "5553336004", "raw four"),
        0,
        "the 503 page applied nothing"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrent processes

/// How many processes run at once.
const N: usize = 10;

fn number(i: usize) -> String {
    format!("55588800{i:02}")
}

/// Runs `args_of(i)` for i in 0..N as N processes at once; every one must succeed.
fn at_once(env: &Env, args_of: impl Fn(usize) -> Vec<String>) -> Vec<Out> {
    let children: Vec<_> = (0..N)
        .map(|i| {
            let args = args_of(i);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.cmd(&args)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let out = Out {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            out.code(0);
            out
        })
        .collect()
}

/// The groups named `group` (their count) and, for each number of `numbers`, how many entries
/// it has and whether one of them is a member of the group.
fn membership(env: &Env, group: &str, numbers: &[String]) -> (usize, Vec<(usize, bool)>) {
    let run = |what: &str| {
        let out = env.run(&["phonebook", what, "--format", "json"]);
        out.code(0);
        out.json()
    };
    let groups = run("groups");
    let named: Vec<&serde_json::Value> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["name"] == group)
        .collect();
    let members: Vec<i64> = named
        .first()
        .map(|g| {
            g["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_i64().unwrap())
                .collect()
        })
        .unwrap_or_default();
    let entries = run("entries");
    let entries = entries["entries"].as_array().unwrap();
    let per_number = numbers
        .iter()
        .map(|n| {
            let mine: Vec<i64> = entries
                .iter()
                .filter(|e| e["normalized"] == n.as_str())
                .map(|e| e["id"].as_i64().unwrap())
                .collect();
            (mine.len(), mine.iter().any(|id| members.contains(id)))
        })
        .collect();
    (named.len(), per_number)
}

/// N concurrent adds into a new group, then N concurrent removes of half of them: exact
/// membership each time, one group, one entry per number.
fn adds_and_removes_stick(env: &Env, extra: &[&str]) {
    let numbers: Vec<String> = (0..N).map(number).collect();
    let with = |mut v: Vec<String>| {
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let outs = at_once(env, |i| {
        with(vec![
            "phonebook".into(),
            "add".into(),
            "G".into(),
            number(i),
        ])
    });
    for out in &outs {
        assert!(out.stdout.contains("Added"), "{}", out.stdout);
    }
    let (groups, per_number) = membership(env, "G", &numbers);
    assert_eq!(groups, 1, "one group named G");
    assert_eq!(per_number, vec![(1, true); N], "every number once, in G");

    // Remove the even numbers, all at once.
    at_once(env, |i| {
        let n = number(i - i % 2);
        with(vec!["phonebook".into(), "remove".into(), "G".into(), n])
    });
    let (groups, per_number) = membership(env, "G", &numbers);
    assert_eq!(groups, 1);
    let expected: Vec<(usize, bool)> = (0..N).map(|i| (1, i % 2 == 1)).collect();
    assert_eq!(
        per_number, expected,
        "exactly the odd numbers are left in G"
    );
}

#[test]
fn concurrent_sandbox_processes_lose_no_phonebook_write() {
    let env = Env::new();
    let state = env.dir.join("state.json").display().to_string();
    let env = env
        .var("VOIPMS_SANDBOX_STATE", &state)
        .var("VOIPMS_SANDBOX", "1");
    adds_and_removes_stick(&env, &[]);
    // The lock lives in the data directory, and holds no secret.
    let locks = env.dir.join("data/voipms/locks");
    let names: Vec<String> = std::fs::read_dir(&locks)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("sandbox-") && n.ends_with(".lock")),
        "{names:?}"
    );
}

#[test]
fn concurrent_processes_on_one_account_lose_no_phonebook_write() {
    let served = Served::start();
    let env = served.env();
    adds_and_removes_stick(&env, &["--yes"]);
    let locks = env.dir.join("data/voipms/locks");
    for e in std::fs::read_dir(&locks).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(name.starts_with("account-"), "{name}");
        assert_eq!(e.metadata().unwrap().len(), 0, "a lock file holds nothing");
        for secret in [served.sandbox.password(), served.sandbox.username()] {
            assert!(!name.contains(secret), "{name}");
        }
    }
}
