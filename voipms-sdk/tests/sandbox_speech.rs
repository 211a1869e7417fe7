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
        // The call lasted at least as long as what was recorded of it.
        let date = r["datetime"].as_str().unwrap();
        let call = cdr["cdr"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["date"] == date)
            .unwrap_or_else(|| panic!("no CDR at {date}"));
        assert!(call["seconds"].as_str().unwrap().parse::<u64>().unwrap() >= listed);
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
