//! Call detail records and call recordings.

use base64::Engine as _;
use serde_json::{Value, json};

use super::account::{client, date_order, date_range};
use super::cdr::Disposition;
use super::core::{Answer, Ctx, Res, ok, ok1};
use super::examples;
use super::media;
use super::messaging::tz_shift;
use super::rng::hash_str;
use super::state::{CallRecording, text};
use super::time::{self, DAY};
use super::validate::{Args, Fail};

/// The CDR checks shared with getResellerCDR: dates, range, call-status flags.
fn check_cdr(
    args: &Args<'_>,
    method: &str,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), Fail> {
    let (Some(from), Some(to)) = (args.date("date_from"), args.date("date_to")) else {
        return Err(Fail::new("missing_from_date"));
    };
    date_range(from, to, method)?;
    if !["answered", "noanswer", "busy", "failed"]
        .iter()
        .any(|f| args.flag(f) == Some(true))
    {
        return Err(Fail::msg(
            "no_callstatus",
            format!("{method}: set at least one of answered, noanswer, busy, failed to 1"),
        ));
    }
    Ok((from, to))
}

pub(crate) fn cdr(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let (from, to) = check_cdr(args, "getCDR")?;
    let st = &*cx.st;
    let calltype = args.get("calltype").unwrap_or("all");
    let did_filter = match calltype {
        "all" | "incoming" | "outgoing" => None,
        other => match super::validate::normalize_phone(other).filter(|d| st.did(d).is_some()) {
            Some(d) => Some(d),
            None => {
                return Err(Fail::msg(
                    "invalid_call_type",
                    "calltype is all, incoming, outgoing or one of the DIDs (getCallTypes)",
                ));
            }
        },
    };
    let billing = args.get("callbilling").unwrap_or("all");
    let account = args.get("account").filter(|a| *a != "all");
    if let Some(a) = account
        && st.subaccount(a).is_none()
    {
        return Err(Fail::msg(
            "invalid_account",
            "account is `all` or a sub-account login from getCallAccounts",
        ));
    }
    let want = |d: Disposition| {
        let flag = match d {
            Disposition::Answered => "answered",
            Disposition::NoAnswer => "noanswer",
            Disposition::Busy => "busy",
            Disposition::Failed => "failed",
        };
        args.flag(flag) == Some(true)
    };
    // Live behaviour: the times and the days of the range are both on the shifted clock
    // (server time + timezone + 5 hours).
    let shift = tz_shift(args);
    let (start, end) = (
        time::day_start(from) - shift,
        time::day_start(to) + DAY - shift,
    );
    let lo = st.cdr.partition_point(|r| r.t < start);
    let hi = st.cdr.partition_point(|r| r.t < end);
    let rows: Vec<Value> = st.cdr[lo..hi]
        .iter()
        .rev()
        .filter(|r| want(r.disposition))
        .filter(|r| match calltype {
            "incoming" => r.incoming,
            "outgoing" => !r.incoming,
            _ => did_filter.as_deref().is_none_or(|d| r.did == d),
        })
        .filter(|r| match billing {
            "free" => r.total == 0,
            "billed" => r.total > 0,
            _ => true,
        })
        .filter(|r| account.is_none_or(|a| r.account == a))
        .map(|r| {
            let mailbox = st
                .did(&r.did)
                .map(|d| text(d, "voicemail"))
                .filter(|v| !v.is_empty());
            r.to_json(shift, mailbox)
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_cdr"));
    }
    ok1("cdr", Value::Array(rows))
}

/// getResellerCDR: validated like getCDR; the reseller client's calls come from the example.
pub(crate) fn reseller_cdr(args: &Args<'_>) -> Res {
    let (from, to) = check_cdr(args, "getResellerCDR")?;
    if !client(args)? {
        return Err(Fail::new("missing_client"));
    }
    let ex = examples::example("getResellerCDR");
    // The example's times are server time; shifted by timezone + 5 and filtered on the shifted
    // days, as getCDR's.
    let shift = tz_shift(args);
    let rows: Vec<Value> = ex["cdr"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let at =
                chrono::NaiveDateTime::parse_from_str(r["date"].as_str()?, "%Y-%m-%d %H:%M:%S")
                    .ok()?
                    .and_utc()
                    .timestamp()
                    + shift;
            let day = time::date_of(at);
            let mut r = r.clone();
            r["date"] = Value::String(time::datetime(at));
            (day >= from && day <= to).then_some(r)
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_cdr"));
    }
    ok1("cdr", Value::Array(rows))
}

fn check_account(cx: &Ctx<'_>, args: &Args<'_>) -> Result<Option<String>, Fail> {
    match args.get("account") {
        None | Some("all") => Ok(None),
        Some(a) if cx.st.subaccount(a).is_some() => Ok(Some(a.to_owned())),
        Some(_) => Err(Fail::msg(
            "invalid_account",
            "account is `all` or a sub-account login from getCallAccounts",
        )),
    }
}

fn recording_json(r: &CallRecording) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("callrecording".into(), Value::String(r.id.clone()));
    m.insert("datetime".into(), Value::String(time::datetime(r.t)));
    m.insert("destination".into(), Value::String(r.destination.clone()));
    m.insert(
        "type".into(),
        Value::String(if r.incoming { "Incoming" } else { "Outgoing" }.into()),
    );
    m.insert("subaccount".into(), Value::String(r.account.clone()));
    m.insert(
        "duration".into(),
        Value::String(time::ms(u64::from(r.seconds))),
    );
    m
}

pub(crate) fn recordings(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let account = check_account(cx, args)?;
    let (Some(from), Some(to)) = (args.date("date_from"), args.date("date_to")) else {
        return Err(Fail::new("missing_from_date"));
    };
    date_order(from, to, "getCallRecordings")?;
    let (start, end) = (time::day_start(from), time::day_start(to) + DAY);
    let call_type = args.get("call_type").unwrap_or("all");
    let skip = args.int("start").unwrap_or(0).max(0) as usize;
    let take = args.int("length").filter(|l| *l > 0).unwrap_or(50) as usize;
    let rows: Vec<Value> = cx
        .st
        .recordings
        .iter()
        .rev()
        .filter(|r| r.t >= start && r.t < end)
        .filter(|r| account.as_deref().is_none_or(|a| r.account == a))
        .filter(|r| match call_type {
            "incoming" => r.incoming,
            "outgoing" => !r.incoming,
            _ => true,
        })
        .skip(skip)
        .take(take)
        .map(|r| Value::Object(recording_json(r)))
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_recording"));
    }
    ok1("recordings", Value::Array(rows))
}

fn find_recording(cx: &Ctx<'_>, args: &Args<'_>) -> Result<usize, Fail> {
    let account = check_account(cx, args)?;
    let id = args.or("callrecording", "");
    let i = cx
        .st
        .recordings
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(|| {
            Fail::msg(
                "invalid_callrecording",
                "no recording has that id (getCallRecordings lists them)",
            )
        })?;
    if account
        .as_deref()
        .is_some_and(|a| cx.st.recordings[i].account != a)
    {
        return Err(Fail::msg(
            "invalid_account",
            "that recording belongs to another sub-account",
        ));
    }
    Ok(i)
}

pub(crate) fn recording(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = find_recording(cx, args)?;
    let r = &cx.st.recordings[i];
    let mut m = recording_json(r);
    // The call's words: one of the spoken clips, the same one its transcription reads.
    let audio = media::call_clip(&r.id).mp3;
    m.insert(
        "base64file".into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(audio)),
    );
    Ok(Answer::Fields(m))
}

pub(crate) fn email_recording(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    find_recording(cx, args)?;
    let email = args.or("email", "");
    ok1("msg", Value::String(format!("Email sent to {email}")))
}

pub(crate) fn del_recording(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = find_recording(cx, args)?;
    cx.st.recordings.remove(i);
    ok()
}

pub(crate) fn transcriptions(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let account = check_account(cx, args)?;
    let (Some(from), Some(to)) = (args.date("date_from"), args.date("date_to")) else {
        return Err(Fail::new("missing_from_date"));
    };
    date_order(from, to, "getCallTranscriptions")?;
    let (start, end) = (time::day_start(from), time::day_start(to) + DAY);
    let call_type = args.get("call_type").unwrap_or("all");
    let rows: Vec<Value> = cx
        .st
        .recordings
        .iter()
        .filter(|r| r.transcribed && r.t >= start && r.t < end)
        .filter(|r| account.as_deref().is_none_or(|a| r.account == a))
        .filter(|r| match call_type {
            "incoming" => r.incoming,
            "outgoing" => !r.incoming,
            _ => true,
        })
        .map(|r| {
            let h = hash_str(&r.id);
            // What the recording says, phrase by phrase, timed as in its audio.
            let phrases: Vec<Value> = media::call_clip(&r.id)
                .phrases
                .iter()
                .map(|p| {
                    json!({
                        "time": time::datetime(r.t + p.start.floor() as i64),
                        "duration": format!("{:.2}", p.end - p.start),
                        "speaker": p.speaker,
                        "phrase": p.text,
                    })
                })
                .collect();
            json!({
                "date": time::datetime(r.t),
                "duration": time::ms(u64::from(r.seconds)),
                "speakers": [r.did, r.destination],
                "locale": "en-US",
                "confidence": format!("{:.2}%", 85.0 + (h % 1400) as f64 / 100.0),
                "recognized_phrases": phrases,
            })
        })
        .collect();
    ok1("transcriptions", Value::Array(rows))
}
