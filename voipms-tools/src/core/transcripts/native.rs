//! VoIP.ms's own transcriptions (getCallTranscriptions, getVoicemailTranscriptions): read,
//! turned into [`Transcript`]s, matched to recordings, and synced into the store.

use serde_json::Value;
use voipms_sdk::catalog::Effect;
use voipms_sdk::recordings::{RecordingInfo, Recordings};
use voipms_sdk::{Client, DateRange, Params};

use super::store::Store;
use super::{Segment, Source, Transcript, clock_seconds, now};

/// The rows of list `key` of an answer (one object is a list of one; anything else is none).
pub(crate) fn rows(body: &Value, key: &str) -> Vec<Value> {
    match body.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

pub(crate) fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

/// getCallTranscriptions for `account` over `range` (one call per 92-day window).
pub async fn call_rows(
    client: &Client,
    account: &str,
    range: DateRange,
) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for w in range.windows(voipms_sdk::dates::MAX_WINDOW_DAYS) {
        let mut params = Params::new();
        params.push("account", account);
        params.push("date_from", w.from.to_string().as_str());
        params.push("date_to", w.to.to_string().as_str());
        let outcome = client
            .call_with_effect("getCallTranscriptions", &params, Effect::Read)
            .await
            .map_err(|e| e.to_string())?;
        out.extend(rows(&outcome.body, "transcriptions"));
    }
    Ok(out)
}

/// A getCallTranscriptions row as a transcript of `voipms_ref` in `account`.
pub fn from_call_row(row: &Value, account: &str, voipms_ref: String) -> Transcript {
    let date = text(row, "date");
    let start = date.as_deref().and_then(parse_time);
    let speakers: Vec<String> = row
        .get("speakers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let segments: Vec<Segment> = row
        .get("recognized_phrases")
        .and_then(Value::as_array)
        .map(|phrases| {
            phrases
                .iter()
                .filter_map(|p| {
                    let phrase = text(p, "phrase")?;
                    let at = text(p, "time").as_deref().and_then(parse_time);
                    let offset = match (start, at) {
                        (Some(s), Some(a)) => (a - s).num_seconds().max(0) as f64,
                        _ => 0.0,
                    };
                    let len = text(p, "duration")
                        .and_then(|d| d.parse::<f64>().ok())
                        .unwrap_or(0.0);
                    Some(Segment {
                        start: offset,
                        end: offset + len,
                        speaker: text(p, "speaker"),
                        text: phrase,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Transcript {
        id: 0,
        source: Source::Call,
        voipms_ref,
        account: account.to_owned(),
        did: speakers.first().cloned(),
        call_date: date,
        caller: (speakers.len() > 1).then(|| speakers[1..].join(", ")),
        duration: text(row, "duration").as_deref().and_then(clock_seconds),
        origin: "voipms".to_owned(),
        model: None,
        language: text(row, "locale"),
        confidence: text(row, "confidence")
            .and_then(|c| c.trim_end_matches('%').trim().parse::<f64>().ok()),
        text: segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        segments,
        created_at: now(),
    }
}

/// The minute a transcription or recording starts (`YYYY-MM-DD HH:MM`): a call's transcription
/// starts when its recording does.
fn minute(s: &str) -> Option<&str> {
    s.get(..16)
}

/// VoIP.ms's own transcription of the call recorded as `info`, if it made one.
pub async fn for_recording(
    client: &Client,
    account: &str,
    info: &RecordingInfo,
) -> Result<Option<Transcript>, String> {
    let Some(when) = info.datetime else {
        return Ok(None);
    };
    let day = when.date();
    let range = DateRange::new(day, day).map_err(|e| e.to_string())?;
    let recorded = when.to_string();
    let found = call_rows(client, account, range)
        .await?
        .into_iter()
        .find(|t| text(t, "date").as_deref().and_then(minute) == minute(&recorded));
    Ok(found.map(|row| {
        let acct = info
            .subaccount
            .clone()
            .unwrap_or_else(|| account.to_owned());
        let mut t = from_call_row(&row, &acct, info.id.clone());
        if t.caller.is_none() {
            t.caller = info.destination.clone();
        }
        t
    }))
}

/// Why VoIP.ms has no transcription of the call recorded as `info`.
pub fn none_reason(info: &RecordingInfo) -> String {
    match info.datetime {
        Some(when) => format!(
            "VoIP.ms has no transcription of this call (none on {} starts at {when}); transcription must be on for the account or DID when the call happens",
            when.date()
        ),
        None => {
            "the recording has no date, so VoIP.ms's transcription cannot be looked up".to_owned()
        }
    }
}

/// getVoicemailTranscriptions of `mailbox`'s `folder` over `range` (one call per 92-day window).
pub async fn voicemail_rows(
    client: &Client,
    mailbox: &str,
    folder: &str,
    range: DateRange,
) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for w in range.windows(voipms_sdk::dates::MAX_WINDOW_DAYS) {
        let mut params = Params::new();
        params.push("date_from", w.from.to_string().as_str());
        params.push("date_to", w.to.to_string().as_str());
        params.push("mailbox", mailbox);
        params.push("folder", folder);
        let outcome = client
            .call_with_effect("getVoicemailTranscriptions", &params, Effect::Read)
            .await
            .map_err(|e| e.to_string())?;
        out.extend(rows(&outcome.body, "messages"));
    }
    Ok(out)
}

/// The store's VoIP.ms id of a voicemail message: `MAILBOX/FOLDER/DATE`. Message numbers change
/// as messages move and are deleted; the date of a message does not.
pub fn voicemail_ref(mailbox: &str, folder: &str, date: &str) -> String {
    format!("{mailbox}/{folder}/{date}")
}

/// A getVoicemailTranscriptions row as a transcript (`None` when it has no text).
pub fn from_voicemail_row(
    row: &Value,
    mailbox: &str,
    folder: &str,
    account: &str,
) -> Option<Transcript> {
    let result = text(row, "result")?;
    let date = text(row, "date");
    let seconds = text(row, "duration").as_deref().and_then(clock_seconds);
    Some(Transcript {
        id: 0,
        source: Source::Voicemail,
        voipms_ref: voicemail_ref(mailbox, folder, date.as_deref().unwrap_or_default()),
        account: account.to_owned(),
        did: None,
        call_date: date,
        caller: text(row, "callerid"),
        duration: seconds,
        origin: "voipms".to_owned(),
        model: None,
        language: None,
        confidence: None,
        segments: vec![Segment {
            start: 0.0,
            end: seconds.unwrap_or(0.0),
            speaker: None,
            text: result.clone(),
        }],
        text: result,
        created_at: now(),
    })
}

/// The store's VoIP.ms id of a transcribed call no recording matched: `call@DATE@SPEAKERS`
/// (the DID and the other party). The account a sync asked for is not part of it, so the same
/// call synced through `all` and through its sub-account is one transcript.
pub fn unrecorded_ref(row: &Value) -> String {
    let speakers: Vec<&str> = row
        .get("speakers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    format!(
        "call@{}@{}",
        text(row, "date").unwrap_or_default(),
        speakers.join(",")
    )
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct Synced {
    /// Call transcriptions new to the store.
    pub added: usize,
    /// Call transcriptions already stored (replaced with VoIP.ms's current text).
    pub updated: usize,
    /// Of those, how many were matched to a recording id.
    pub matched: usize,
    /// Voicemail transcriptions stored (new or updated).
    pub voicemails: usize,
}

/// Pulls VoIP.ms's call transcriptions of `account` in `range` into the store, each under the id
/// of the recording of the same minute when there is one; and, with `mailboxes`, the voicemail
/// transcriptions of each box's INBOX.
pub async fn sync(
    client: &Client,
    store: &Store,
    account: &str,
    range: DateRange,
    mailboxes: &[String],
) -> Result<Synced, String> {
    let mut done = Synced::default();
    let calls = call_rows(client, account, range).await?;
    let recordings = if calls.is_empty() {
        Vec::new()
    } else {
        Recordings::new(client)
            .list(account, range, None)
            .await
            .map(|l| l.recordings)
            .unwrap_or_default()
    };
    for row in &calls {
        let date = text(row, "date").unwrap_or_default();
        let rec = recordings.iter().find(|r| {
            r.datetime
                .map(|d| d.to_string())
                .as_deref()
                .and_then(minute)
                == minute(&date)
        });
        let unrecorded = unrecorded_ref(row);
        let (acct, r) = match rec {
            Some(r) => (
                r.subaccount.clone().unwrap_or_else(|| account.to_owned()),
                r.id.clone(),
            ),
            None => (account.to_owned(), unrecorded.clone()),
        };
        let mut t = from_call_row(row, &acct, r);
        let mut known = store.find(Source::Call, &t.voipms_ref)?.is_some();
        if let Some(r) = rec {
            done.matched += 1;
            if t.caller.is_none() {
                t.caller = r.destination.clone();
            }
            // Stored before without its recording (none listed then): now under the recording.
            if store.find(Source::Call, &unrecorded)?.is_some() {
                store.delete(&unrecorded)?;
                known = true;
            }
        }
        if known {
            done.updated += 1;
        } else {
            done.added += 1;
        }
        store.put(&t)?;
    }
    for mailbox in mailboxes {
        for row in voicemail_rows(client, mailbox, "INBOX", range).await? {
            if let Some(t) = from_voicemail_row(&row, mailbox, "INBOX", account) {
                store.put(&t)?;
                done.voicemails += 1;
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_row_becomes_a_transcript() {
        let row: Value = serde_json::from_str(
            r#"{"date": "2025-06-20 08:48:40", "duration": "00:07", "speakers": ["5551234567", "5559876543"],
                "locale": "en-US", "confidence": "94.18%",
                "recognized_phrases": [
                  {"time": "2025-06-20 08:48:41", "duration": "2.84", "speaker": "2", "phrase": "Hi, this is Anna."},
                  {"time": "2025-06-20 08:48:44", "duration": "1.90", "speaker": "1", "phrase": "Hello Anna."}]}"#,
        )
        .unwrap();
        let t = from_call_row(&row, "100001_VoIP", "rec".into());
        assert_eq!(t.text, "Hi, this is Anna. Hello Anna.");
        assert_eq!(t.duration, Some(7.0));
        assert_eq!(t.confidence, Some(94.18));
        assert_eq!(t.did.as_deref(), Some("5551234567"));
        assert_eq!(t.caller.as_deref(), Some("5559876543"));
        assert_eq!(t.segments[1].start, 4.0);
        assert_eq!(t.segments[1].speaker.as_deref(), Some("1"));
        assert_eq!(t.origin, "voipms");
    }
}
