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
    env.run(&["sms", "send", "--did", DID, "--to", to, text, "--yes"])
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
