//! Transcripts end to end on the sandbox: VoIP.ms's own transcriptions synced, recordings
//! transcribed through a fake OpenAI-compatible provider (the upload checked, the answer stored
//! and reused), search with snippets, delete, export; the provider key never shown or stored.

use serde_json::Value;

use crate::support::{Env, Mock, Request};

pub const KEY: &str = "sk-Sentinel-transcription-KEY-42";

/// A fake provider: verbose_json with segments; `fail` answers 401 instead.
pub fn provider(fail: bool) -> Mock {
    Mock::start(move |r: &Request| {
        if fail {
            return (
                401,
                r#"{"error":{"message":"Incorrect API key provided"}}"#.to_owned(),
            );
        }
        assert_eq!(r.verb, "POST");
        (
            200,
            r#"{"text": "Hello, this is the provider speaking about the overdue invoice.",
                "language": "english", "duration": 2.0,
                "segments": [{"start": 0.0, "end": 1.0, "text": " Hello, this is the provider speaking"},
                             {"start": 1.0, "end": 2.0, "text": " about the overdue invoice."}]}"#
                .to_owned(),
        )
    })
}

/// The provider's base URL (the mock answers any path).
pub fn base(mock: &Mock) -> String {
    mock.url.trim_end_matches("/api/v1/rest.php").to_owned()
}

pub fn sandbox(provider: Option<&Mock>) -> Env {
    let env = Env::new();
    let state = env.dir.join("sandbox-state.json").display().to_string();
    let env = env.var("VOIPMS_SANDBOX_STATE", &state);
    match provider {
        Some(p) => env
            .var("VOIPMS_TRANSCRIPTION_URL", &base(p))
            .var("VOIPMS_TRANSCRIPTION_MODEL", "whisper-test")
            .var("VOIPMS_TRANSCRIPTION_KEY", KEY)
            .var("VOIPMS_TRANSCRIPTION_BACKOFF_MS", "5"),
        None => env,
    }
}

#[track_caller]
fn json(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["--sandbox"];
    all.extend(args);
    all.extend(["--format", "json"]);
    let out = env.run(&all);
    assert!(
        !out.stdout.contains(KEY) && !out.stderr.contains(KEY),
        "{out:?}"
    );
    out.code(0);
    out.json()
}

/// Every file under the data directory holds no `KEY`.
pub fn assert_no_key_stored(env: &Env) {
    fn walk(dir: &std::path::Path) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(KEY),
                    "{} holds the provider key",
                    p.display()
                );
            }
        }
    }
    walk(&env.dir);
}

#[test]
fn voipms_transcriptions_sync_search_show_delete_export() {
    let env = sandbox(None);
    let done = json(&env, &["transcripts", "sync", "--from", "-90d"]);
    let added = done["added"].as_u64().unwrap();
    assert!(added > 0, "{done}");
    assert_eq!(done["matched_to_recordings"], added, "{done}");
    // Again: nothing new, everything updated in place.
    let again = json(&env, &["transcripts", "sync", "--from", "-90d"]);
    assert_eq!(again["added"], 0, "{again}");
    assert_eq!(again["updated"], added, "{again}");

    let found = json(
        &env,
        &["transcripts", "search", "appointment", "--limit", "3"],
    );
    let results = found["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{found}");
    assert!(
        results[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("[appointment]"),
        "{found}"
    );
    assert_eq!(results[0]["origin"], "voipms");
    let caller = results[0]["caller"].as_str().unwrap().to_owned();
    let by_caller = json(
        &env,
        &["transcripts", "search", "appointment", "--caller", &caller],
    );
    assert!(
        by_caller["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["caller"] == caller.as_str())
    );
    let none = json(
        &env,
        &[
            "transcripts",
            "search",
            "appointment",
            "--from",
            "today",
            "--to",
            "-1d",
        ],
    );
    assert_eq!(none["results"], serde_json::json!([]));

    let id = results[0]["id"].to_string();
    let shown = json(&env, &["transcripts", "show", &id]);
    assert!(shown["segments"].as_array().unwrap().len() >= 3, "{shown}");
    assert_eq!(shown["segments"][0]["speaker"], "2");
    let text = env.run(&["--sandbox", "transcripts", "show", &id]);
    text.code(0);
    assert!(
        text.stdout
            .contains("speaker 1: Hello, I am calling about my appointment on Thursday."),
        "{}",
        text.stdout
    );

    let out = env.dir.join("export.json");
    env.run(&[
        "--sandbox",
        "transcripts",
        "export",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["transcripts"].as_array().unwrap().len() as u64, added);

    assert_eq!(json(&env, &["transcripts", "delete", &id])["deleted"], 1);
    env.run(&["--sandbox", "transcripts", "show", &id]).code(2);
    assert_eq!(
        json(&env, &["transcripts", "delete", "--all"])["deleted"],
        added - 1
    );
}

#[test]
fn recordings_transcribed_by_a_fake_provider_once_then_reused() {
    let fake = provider(false);
    let env = sandbox(Some(&fake));
    let list = json(&env, &["recordings", "list", "--from", "-60d"]);
    let ids: Vec<String> = list["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .take(8)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let mut args = vec!["recordings", "transcribe"];
    args.extend(ids.iter().map(String::as_str));
    let done = json(&env, &args);
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), ids.len());
    let by = |who: &str| -> Vec<&Value> {
        results
            .iter()
            .filter(|r| r["transcript"]["answered_by"] == who)
            .collect()
    };
    let from_provider = by("provider");
    assert!(!from_provider.is_empty(), "{done}");
    assert_eq!(
        from_provider.len() + by("voipms").len(),
        ids.len(),
        "{done}"
    );
    let t = &from_provider[0]["transcript"];
    assert_eq!(t["model"], "whisper-test");
    assert_eq!(t["segments"][1]["text"], "about the overdue invoice.");
    let sent = fake.requests();
    assert_eq!(sent.len(), from_provider.len());
    let up = &sent[0];
    assert_eq!(up.path, "/v1/audio/transcriptions");
    assert_eq!(up.get("model"), Some("whisper-test"));
    assert_eq!(up.get("response_format"), Some("verbose_json"));
    assert!(
        up.get("file").is_some_and(|f| f.len() > 1000),
        "the MP3 is uploaded"
    );
    assert!(up.content_type.starts_with("multipart/form-data"));
    assert_eq!(up.authorization, format!("Bearer {KEY}"));

    // Transcribed once, reused after; --force sends it again.
    let id = from_provider[0]["id"].as_str().unwrap();
    let again = json(&env, &["recordings", "transcribe", id]);
    assert_eq!(again["results"][0]["transcript"]["answered_by"], "stored");
    assert_eq!(fake.count(), sent.len());
    let forced = json(&env, &["recordings", "transcribe", id, "--force"]);
    assert_eq!(
        forced["results"][0]["transcript"]["answered_by"],
        "provider"
    );
    assert_eq!(fake.count(), sent.len() + 1);

    let found = json(&env, &["transcripts", "search", "overdue", "invoice"]);
    assert_eq!(
        found["results"].as_array().unwrap().len(),
        from_provider.len(),
        "{found}"
    );
    assert!(
        found["results"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("[overdue] [invoice]")
    );
    assert_no_key_stored(&env);
}

#[test]
fn provider_failures_are_clear_and_transcription_is_off_until_configured() {
    // Not configured: VoIP.ms's own or a clear "no provider".
    let env = sandbox(None);
    let list = json(&env, &["recordings", "list", "--from", "-60d"]);
    let ids: Vec<&str> = list["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .take(8)
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut args = vec!["--sandbox", "recordings", "transcribe"];
    args.extend(&ids);
    let out = env.run(&args);
    out.code(3);
    assert!(
        out.stdout
            .contains("no transcription provider is configured"),
        "{}",
        out.stdout
    );

    // A refused key: said plainly, the key never shown.
    let fake = provider(true);
    let env = sandbox(Some(&fake));
    let mut args = vec!["--sandbox", "recordings", "transcribe"];
    args.extend(&ids);
    let out = env.run(&args);
    out.code(3);
    assert!(
        out.stdout.contains("refused the API key (HTTP 401)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));
    assert_no_key_stored(&env);
}

#[test]
fn voicemail_transcribed_by_a_fake_provider_as_wav_once_then_reused() {
    let fake = provider(false);
    let env = sandbox(Some(&fake));
    // Two messages of box 1001's INBOX, sent to the provider (--force: not VoIP.ms's own).
    let done = json(
        &env,
        &["voicemail", "transcribe", "1001", "1", "2", "--force"],
    );
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{done}");
    for r in results {
        assert_eq!(r["found"], true, "{done}");
        assert_eq!(r["transcript"]["answered_by"], "provider", "{done}");
        assert_eq!(r["transcript"]["source"], "voicemail");
        assert_eq!(r["transcript"]["model"], "whisper-test");
        let date = r["message"]["date"].as_str().unwrap();
        assert_eq!(
            r["transcript"]["voipms_id"],
            format!("1001/INBOX/{date}"),
            "{done}"
        );
    }
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    let up = &sent[0];
    assert_eq!(up.path, "/v1/audio/transcriptions");
    assert_eq!(up.get("model"), Some("whisper-test"));
    assert_eq!(up.get("response_format"), Some("verbose_json"));
    let file = up.get("file").unwrap();
    assert!(
        file.starts_with("RIFF") && file.len() > 20_000,
        "the WAV is uploaded"
    );
    assert_eq!(up.authorization, format!("Bearer {KEY}"));

    // Stored: asked again, nothing is sent; without --force, the rest of the folder comes from
    // VoIP.ms's own transcriptions (the sandbox's mailboxes have them) or the provider.
    let again = json(&env, &["voicemail", "transcribe", "1001", "1"]);
    assert_eq!(again["results"][0]["transcript"]["answered_by"], "stored");
    assert_eq!(fake.count(), 2);
    let all = json(&env, &["voicemail", "transcribe", "1001"]);
    let all = all["results"].as_array().unwrap();
    assert!(all.len() >= 2);
    assert!(
        all.iter()
            .any(|r| r["transcript"]["answered_by"] == "voipms"),
        "{all:?}"
    );
    // What VoIP.ms has no words for (a hang-up message) went to the provider.
    let more = all
        .iter()
        .filter(|r| r["transcript"]["answered_by"] == "provider")
        .count();
    assert_eq!(fake.count(), 2 + more);
    let found = json(&env, &["transcripts", "search", "overdue", "invoice"]);
    assert_eq!(
        found["results"].as_array().unwrap().len(),
        2 + more,
        "{found}"
    );
    assert_eq!(found["results"][0]["source"], "voicemail");

    // A message that is not there, and a mailbox that is not a number: said plainly.
    let out = env.run(&["--sandbox", "voicemail", "transcribe", "1001", "999"]);
    out.code(3);
    assert!(
        out.stdout.contains("No message 999 in 1001/INBOX"),
        "{}",
        out.stdout
    );
    let out = env.run(&["--sandbox", "voicemail", "transcribe", "box1"]);
    out.code(2);
    assert!(
        out.stderr.contains("is not a mailbox number"),
        "{}",
        out.stderr
    );
    assert_no_key_stored(&env);
}

/// A VoIP.ms that transcribed one call it kept no recording of (transcription on, recording
/// off): getCallTranscriptions has it, getCallRecordings has nothing.
fn unrecorded_call_api(recorded: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Mock {
    Mock::start(move |r: &Request| {
        match r.method() {
        "getCallTranscriptions" => (
            200,
            r#"{"status": "success", "transcriptions": [{"date": "2025-06-20 08:48:40",
                "duration": "00:07", "speakers": ["5551234567", "5559876543"], "locale": "en-US",
                "confidence": "94.18%", "recognized_phrases": [
                  {"time": "2025-06-20 08:48:41", "duration": "2.84", "speaker": "2",
                   "phrase": "Hi, this is Anna about the unrecorded call."}]}]}"#
                .to_owned(),
        ),
        "getCallRecordings" if recorded.load(std::sync::atomic::Ordering::SeqCst) => (
            200,
            r#"{"status": "success", "recordings": [{"callrecording": "MTAwMDAxLXJlY29yZGVkLWxhdGVy",
                "datetime": "2025-06-20 08:48:40", "destination": "5559876543", "type": "Incoming",
                "subaccount": "100001_VoIP", "duration": "00:07"}]}"#
                .to_owned(),
        ),
        "getCallRecordings" => (200, r#"{"status": "no_recording"}"#.to_owned()),
        other => panic!("unexpected {other}"),
    }
    })
}

#[test]
fn a_synced_call_without_a_recording_is_stored_once() {
    let recorded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let api = unrecorded_call_api(recorded.clone());
    let env = Env::new().creds(&api, "pw-unrecorded-1");
    let sync = |account: &str| {
        let out = env.run(&[
            "transcripts",
            "sync",
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-30",
            "--account",
            account,
            "--format",
            "json",
        ]);
        out.code(0);
        out.json()
    };
    let first = sync("all");
    assert_eq!(first["added"], 1, "{first}");
    assert_eq!(first["matched_to_recordings"], 0, "{first}");
    // Again, and through the sub-account the call belongs to: the same call, updated in place.
    assert_eq!(sync("all")["updated"], 1);
    let by_account = sync("100001_VoIP");
    assert_eq!(by_account["added"], 0, "{by_account}");
    assert_eq!(by_account["updated"], 1, "{by_account}");
    let out = env.run(&["transcripts", "export"]);
    out.code(0);
    let doc = out.json();
    let all = doc["transcripts"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{doc}");
    assert_eq!(all[0]["caller"], "5559876543");
    let found = env.run(&["transcripts", "search", "unrecorded", "--format", "json"]);
    assert_eq!(found.json()["results"].as_array().unwrap().len(), 1);

    // The recording shows up later: the transcript moves under it, still once.
    recorded.store(true, std::sync::atomic::Ordering::SeqCst);
    let matched = sync("all");
    assert_eq!(matched["matched_to_recordings"], 1, "{matched}");
    assert_eq!(matched["updated"], 1, "{matched}");
    let out = env.run(&["transcripts", "export"]);
    let doc = out.json();
    let all = doc["transcripts"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{doc}");
    assert_eq!(all[0]["voipms_id"], "MTAwMDAxLXJlY29yZGVkLWxhdGVy");
}

#[test]
fn the_provider_from_the_profile_file_is_used_and_its_key_never_shown() {
    let fake = provider(false);
    let env = sandbox(None);
    let key_file = env.dir.join("provider.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    crate::support::set_mode(&key_file, 0o600);
    env.write_config(
        &format!(
            "[profiles.main]\nusername = \"main@example.com\"\npassword = \"main-password-1\"\n\n\
             [profiles.main.transcription]\nbase_url = \"{}\"\nmodel = \"whisper-from-file\"\n\
             key_file = \"{}\"\nname = \"filed\"\n",
            base(&fake),
            key_file.display()
        ),
        0o600,
    );
    let env = env.var("VOIPMS_TRANSCRIPTION_BACKOFF_MS", "5");
    let out = env.run(&[
        "--sandbox",
        "--verbose",
        "voicemail",
        "transcribe",
        "1001",
        "1",
        "--force",
        "--format",
        "json",
    ]);
    assert!(
        !out.stdout.contains(KEY) && !out.stderr.contains(KEY),
        "{out:?}"
    );
    out.code(0);
    let done = out.json();
    let t = &done["results"][0]["transcript"];
    assert_eq!(t["answered_by"], "provider", "{done}");
    assert_eq!(t["origin"], "filed");
    assert_eq!(t["model"], "whisper-from-file");
    let up = fake.last();
    assert_eq!(up.get("model"), Some("whisper-from-file"));
    assert_eq!(up.authorization, format!("Bearer {KEY}"));
    // A dry run names the provider, never the key.
    let dry = env.run(&["--sandbox", "--dry-run", "voicemail", "transcribe", "1001"]);
    dry.code(0);
    assert!(dry.stdout.contains("filed"), "{}", dry.stdout);
    assert!(!dry.stdout.contains(KEY) && !dry.stderr.contains(KEY));
    // A refused key is reported without it.
    let refusing = provider(true);
    env.write_config(
        &format!(
            "[profiles.main]\nusername = \"main@example.com\"\npassword = \"main-password-1\"\n\n\
             [profiles.main.transcription]\nbase_url = \"{}\"\nkey_file = \"{}\"\n",
            base(&refusing),
            key_file.display()
        ),
        0o600,
    );
    let out = env.run(&[
        "--sandbox",
        "voicemail",
        "transcribe",
        "1001",
        "1",
        "--force",
    ]);
    out.code(3);
    assert!(out.stdout.contains("HTTP 401"), "{}", out.stdout);
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));
    let file = std::fs::read_to_string(&key_file).unwrap();
    assert!(file.contains(KEY), "the key file is left as it was");
    std::fs::remove_file(&key_file).unwrap();
    assert_no_key_stored(&env);
}
