//! The sandbox's speech: recordings and voicemail messages carry the spoken clips of
//! `sandbox-audio/`, their listed durations agree with the audio, and VoIP.ms's own
//! transcriptions say the sentences of `sandbox-audio/sentences.tsv`.

use base64::Engine as _;
use serde_json::Value;
use voipms_sdk::sandbox::{Sandbox, SandboxConfig};
use voipms_sdk::{Client, Params, RetryPolicy};

#[path = "common/mp3.rs"]
mod mp3;
use mp3::mp3_seconds;

fn client() -> Client {
    let sb = Sandbox::new(SandboxConfig {
        today: chrono::NaiveDate::from_ymd_opt(2025, 7, 15),
        ..SandboxConfig::default()
    });
    sb.client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn p(pairs: &[(&'static str, &str)]) -> Params {
    pairs.iter().copied().collect()
}

/// The clips' sentences, by clip name, in order (the ground truth).
fn sentences() -> Vec<(String, String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox-audio/sentences.tsv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
        })
        .collect()
}

/// The words of each clip, joined.
fn clip_texts(prefix: &str) -> Vec<String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (clip, _, text) in sentences().into_iter().filter(|s| s.0.starts_with(prefix)) {
        match out.last_mut() {
            Some((c, t)) if *c == clip => {
                t.push(' ');
                t.push_str(&text);
            }
            _ => out.push((clip, text)),
        }
    }
    out.into_iter().map(|(_, t)| t).collect()
}

/// Seconds of `MM:SS` or `HH:MM:SS`.
fn clock(s: &str) -> u64 {
    s.split(':')
        .fold(0, |acc, p| acc * 60 + p.parse::<u64>().unwrap())
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

#[tokio::test]
async fn recordings_say_the_sentences_their_transcriptions_read() {
    let client = client();
    let range = [
        ("account", "100001_VoIP"),
        ("date_from", "2025-05-01"),
        ("date_to", "2025-07-15"),
    ];
    let list = client.call("getCallRecordings", p(&range)).await.unwrap();
    let recs = list["recordings"].as_array().unwrap().clone();
    let tr = client
        .call("getCallTranscriptions", p(&range))
        .await
        .unwrap();
    let transcriptions = tr["transcriptions"].as_array().unwrap().clone();
    assert!(!transcriptions.is_empty());
    let calls = clip_texts("call-");
    let cdr = client
        .call(
            "getCDR",
            p(&[
                ("date_from", "2025-05-01"),
                ("date_to", "2025-07-15"),
                ("answered", "1"),
                // The server's own zone: dates as the recordings list them.
                ("timezone", "-5"),
            ]),
        )
        .await
        .unwrap();
    let mut matched = 0;
    for r in recs.iter().take(12) {
        let id = r["callrecording"].as_str().unwrap();
        let listed = clock(r["duration"].as_str().unwrap());
        let one = client
            .call(
                "getCallRecording",
                p(&[("account", "100001_VoIP"), ("callrecording", id)]),
            )
            .await
            .unwrap();
        let seconds = mp3_seconds(&b64(&one["base64file"]));
        // The listing rounds the audio's length up to the second.
        assert!(
            listed as f64 >= seconds - 0.3 && (listed as f64) < seconds + 1.0,
            "{id}: listed {listed} s, audio {seconds} s"
        );
        // The whole call was recorded: its CDR lasts as long as the recording.
        let date = r["datetime"].as_str().unwrap();
        let call = cdr["cdr"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["date"] == date)
            .unwrap_or_else(|| panic!("no CDR at {date}"));
        assert_eq!(
            call["seconds"].as_str().unwrap().parse::<u64>().unwrap(),
            listed
        );
        if let Some(t) = transcriptions.iter().find(|t| t["date"] == date) {
            matched += 1;
            assert_eq!(clock(t["duration"].as_str().unwrap()), listed);
            let phrases = t["recognized_phrases"].as_array().unwrap();
            let said: Vec<&str> = phrases
                .iter()
                .map(|p| p["phrase"].as_str().unwrap())
                .collect();
            assert!(
                calls.contains(&said.join(" ")),
                "{said:?} is one of the clips"
            );
            let end: f64 = phrases
                .iter()
                .map(|p| {
                    let at = chrono::NaiveDateTime::parse_from_str(
                        p["time"].as_str().unwrap(),
                        "%Y-%m-%d %H:%M:%S",
                    )
                    .unwrap();
                    let start =
                        chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").unwrap();
                    (at - start).num_seconds() as f64
                        + p["duration"].as_str().unwrap().parse::<f64>().unwrap()
                })
                .fold(0.0, f64::max);
            assert!(end <= seconds + 1.0, "phrases end within the audio");
        }
    }
    assert!(matched > 0, "some listed recordings are transcribed");
}

#[tokio::test]
async fn voicemail_messages_say_their_transcriptions_in_wav_and_mp3() {
    let client = client();
    let texts: Vec<String> = ["vm-family-", "vm-other-", "vm-spam-"]
        .iter()
        .flat_map(|g| clip_texts(g))
        .collect();
    let mut spoken = 0;
    for folder in ["INBOX", "Old"] {
        let Ok(list) = client
            .call(
                "getVoicemailMessages",
                p(&[("mailbox", "1001"), ("folder", folder)]),
            )
            .await
        else {
            continue;
        };
        let tr = client
            .call(
                "getVoicemailTranscriptions",
                p(&[
                    ("mailbox", "1001"),
                    ("folder", folder),
                    ("date_from", "2025-01-01"),
                    ("date_to", "2025-07-15"),
                ]),
            )
            .await
            .unwrap();
        for m in list["messages"].as_array().unwrap() {
            let num = m["message_num"].as_str().unwrap();
            let listed = clock(m["duration"].as_str().unwrap());
            let text = tr["messages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["date"] == m["date"])
                .map(|t| t["result"].as_str().unwrap().to_owned());
            let file = |format: &'static str| {
                let client = client.clone();
                let num = num.to_owned();
                async move {
                    let got = client
                        .call(
                            "getVoicemailMessageFile",
                            p(&[
                                ("mailbox", "1001"),
                                ("folder", folder),
                                ("message_num", &num),
                                ("format", format),
                            ]),
                        )
                        .await
                        .unwrap();
                    b64(&got["message"]["data"])
                }
            };
            let wav = file("wav").await;
            assert_eq!(&wav[..4], b"RIFF");
            assert_eq!(&wav[8..16], b"WAVEfmt ");
            assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 1, "PCM");
            let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap());
            let data_len = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
            assert_eq!(data_len, wav.len() - 44);
            let seconds = data_len as f64 / 2.0 / f64::from(rate);
            let mp3 = mp3_seconds(&file("mp3").await);
            let Some(text) = text else { continue };
            assert!(texts.contains(&text), "`{text}` is a clip's sentence");
            spoken += 1;
            assert_eq!(listed, seconds.ceil() as u64, "message {num}");
            assert!((mp3 - seconds).abs() < 0.3, "{mp3} vs {seconds}");
            let samples: Vec<i16> = wav[44..]
                .chunks(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            let loud = samples.iter().filter(|s| s.unsigned_abs() > 2000).count();
            assert!(
                loud > samples.len() / 20,
                "message {num} is speech, not silence"
            );
        }
    }
    assert!(spoken >= 2, "{spoken}");
}

#[tokio::test]
async fn a_mailbox_with_transcription_off_has_no_transcripts() {
    let client = client();
    let boxes = client.call("getVoicemails", p(&[])).await.unwrap();
    let home = boxes["voicemails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["mailbox"] == "101")
        .unwrap();
    assert_eq!(home["transcription"], "no");
    let range = [("date_from", "2025-04-20"), ("date_to", "2025-07-15")];
    let mut messages = 0;
    for folder in ["INBOX", "Old"] {
        if let Ok(list) = client
            .call(
                "getVoicemailMessages",
                p(&[("mailbox", "101"), ("folder", folder)]),
            )
            .await
        {
            messages += list["messages"].as_array().map_or(0, Vec::len);
        }
        let mut args = vec![("mailbox", "101"), ("folder", folder)];
        args.extend(range);
        let tr = client
            .call("getVoicemailTranscriptions", p(&args))
            .await
            .unwrap();
        assert_eq!(tr["messages"], serde_json::json!([]), "{tr}");
    }
    assert!(messages > 0, "box 101 has messages, just no transcripts");
}

/// Every recorded call's CDR row lasts (and is billed) as long as its recording, which lasts as
/// long as its audio rounded up to the second.
#[tokio::test]
async fn every_recorded_call_lasts_as_long_as_its_recording() {
    let client = client();
    let (from, to) = ("2025-03-01", "2025-07-15");
    let list = client
        .call(
            "getCallRecordings",
            p(&[
                ("account", "100001_VoIP"),
                ("date_from", from),
                ("date_to", to),
                ("length", "1000"),
            ]),
        )
        .await
        .unwrap();
    let recs = list["recordings"].as_array().unwrap();
    // getCDR covers 92 days per call: two windows.
    let mut cdr = Vec::new();
    for (from, to) in [(from, "2025-05-31"), ("2025-06-01", to)] {
        let part = client
            .call(
                "getCDR",
                p(&[
                    ("date_from", from),
                    ("date_to", to),
                    ("answered", "1"),
                    ("timezone", "-5"),
                ]),
            )
            .await
            .unwrap();
        cdr.extend(part["cdr"].as_array().unwrap().iter().cloned());
    }
    assert!(recs.len() > 30, "{}", recs.len());
    for r in recs {
        let date = r["datetime"].as_str().unwrap();
        let listed = clock(r["duration"].as_str().unwrap());
        let call = cdr
            .iter()
            .find(|c| c["date"] == date)
            .unwrap_or_else(|| panic!("no CDR at {date}"));
        let seconds: u64 = call["seconds"].as_str().unwrap().parse().unwrap();
        assert_eq!(seconds, listed, "{date}: {call}");
        assert_eq!(clock(call["duration"].as_str().unwrap()), listed);
        // Billed in 6-second increments of that length.
        let rate: f64 = call["rate"].as_str().unwrap().parse().unwrap();
        let total: f64 = call["total"].as_str().unwrap().parse().unwrap();
        let billed = seconds.div_ceil(6) * 6;
        assert!(
            (total - rate * billed as f64 / 60.0).abs() < 1e-6,
            "{date}: {call}"
        );
    }
    // The pinned example recording too: its audio is what its listing says.
    let pinned = "MTAwMDAxLTU1NTEyMzQ1NjctNTU1OTg3NjU0My1JTi0xNzE4OTAwMDAw";
    let listed = recs
        .iter()
        .find(|r| r["callrecording"] == pinned)
        .map(|r| clock(r["duration"].as_str().unwrap()))
        .expect("the example recording is listed");
    {
        let one = client
            .call(
                "getCallRecording",
                p(&[("account", "100001_VoIP"), ("callrecording", pinned)]),
            )
            .await
            .unwrap();
        let audio = mp3_seconds(&b64(&one["base64file"]));
        assert!(listed as f64 >= audio - 0.3 && (listed as f64) < audio + 1.0);
    }
}

/// VoIP.ms transcribes an incoming call when its DID has `transcribe` on at the time of the call
/// (an outgoing one when its sub-account has): the seeded front-desk DID switched it on some
/// weeks ago, so its incoming recordings since then are transcribed and the older ones are not,
/// nor the outgoing calls of the sub-account (off); switching a flag afterwards changes no past
/// call.
#[tokio::test]
async fn calls_are_transcribed_while_their_did_has_transcribe_on() {
    let client = client();
    let dids = client.call("getDIDsInfo", p(&[])).await.unwrap();
    let dids = dids["dids"].as_array().unwrap().clone();
    let flag = |did: &str| {
        dids.iter().find(|d| d["did"] == did).unwrap()["transcribe"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(flag("5551234567"), "1");
    assert_eq!(flag("5551234568"), "0");
    assert_eq!(flag("4165550134"), "0");

    let range = [
        ("account", "100001_VoIP"),
        ("date_from", "2025-03-01"),
        ("date_to", "2025-07-15"),
    ];
    let transcribed = || {
        let client = client.clone();
        async move {
            let tr = client
                .call("getCallTranscriptions", p(&range))
                .await
                .unwrap();
            tr["transcriptions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["date"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let mut length = range.to_vec();
    length.push(("length", "1000"));
    let recs = client.call("getCallRecordings", p(&length)).await.unwrap();
    let recs = recs["recordings"].as_array().unwrap();
    let dates = |kind: &str| -> Vec<String> {
        recs.iter()
            .filter(|r| r["type"] == kind)
            .map(|r| r["datetime"].as_str().unwrap().to_owned())
            .collect()
    };
    let (incoming, outgoing) = (dates("Incoming"), dates("Outgoing"));
    assert!(!outgoing.is_empty());
    let subs = client.call("getSubAccounts", p(&[])).await.unwrap();
    let voip = subs["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "100001_VoIP")
        .unwrap();
    assert_eq!(voip["transcribe"], "0");
    let before = transcribed().await;
    let since = before
        .iter()
        .min()
        .expect("some calls are transcribed")
        .clone();
    // All the incoming recordings from the switch on, none before it, no outgoing one.
    let mut expected: Vec<&String> = incoming.iter().filter(|d| **d >= since).collect();
    let mut got: Vec<&String> = before.iter().collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        incoming.iter().any(|d| *d < since),
        "older recordings are not transcribed"
    );
    assert!(outgoing.iter().any(|d| *d >= since));

    // Switching transcription off (and on again) leaves the calls already made as they were.
    let row = dids.iter().find(|d| d["did"] == "5551234567").unwrap();
    let field = |k: &str| row[k].as_str().unwrap().to_owned();
    let (routing, pop, dialtime, cnam, billing) = (
        field("routing"),
        field("pop"),
        field("dialtime"),
        field("cnam"),
        field("billing_type"),
    );
    for on in ["0", "1"] {
        client
            .call(
                "setDIDInfo",
                p(&[
                    ("did", "5551234567"),
                    ("routing", &routing),
                    ("pop", &pop),
                    ("dialtime", &dialtime),
                    ("cnam", &cnam),
                    ("billing_type", &billing),
                    ("transcribe", on),
                ]),
            )
            .await
            .unwrap();
        assert_eq!(transcribed().await, before, "transcribe={on}");
    }
}
