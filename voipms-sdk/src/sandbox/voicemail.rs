//! Voicemail boxes and their messages.

use base64::Engine as _;
use serde_json::{Value, json};

use super::account::{client, date_order, write_record};
use super::core::{Ctx, Res, ok, ok1};
use super::media;
use super::state::{VmMessage, text};
use super::time::{self, DAY};
use super::validate::{Args, Fail};

/// The folders every box has (Asterisk's standard set).
const FOLDERS: &[&str] = &["INBOX", "Old", "Urgent", "Work", "Family", "Friends"];

fn box_index(cx: &Ctx<'_>, mailbox: &str) -> Result<usize, Fail> {
    cx.st
        .mailboxes
        .iter()
        .position(|b| text(b, "mailbox") == mailbox.trim())
        .ok_or_else(|| {
            Fail::msg(
                "invalid_mailbox",
                "no voicemail box has that number (getVoicemails lists them)",
            )
        })
}

fn check_folder(folder: &str) -> Result<&'static str, Fail> {
    FOLDERS
        .iter()
        .find(|f| f.eq_ignore_ascii_case(folder.trim()))
        .copied()
        .ok_or_else(|| {
            Fail::msg(
                "invalid_folder",
                format!("folders are {} (getVoicemailFolders)", FOLDERS.join(", ")),
            )
        })
}

pub(crate) fn boxes(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    if client(args)? {
        return Err(Fail::new("no_mailbox"));
    }
    let wanted = args.get("mailbox").map(str::trim);
    let rows: Vec<Value> = cx
        .st
        .mailboxes
        .iter()
        .filter(|b| wanted.is_none_or(|w| text(b, "mailbox") == w))
        .map(|b| {
            let number = text(b, "mailbox");
            let mine = cx.st.vm_messages.iter().filter(|m| m.mailbox == number);
            let new = mine
                .clone()
                .filter(|m| m.folder == "INBOX" && !m.listened)
                .count();
            let urgent = mine.filter(|m| m.urgent).count();
            let mut r = b.clone();
            r.insert("new".into(), Value::String(new.to_string()));
            r.insert("urgent".into(), Value::String(urgent.to_string()));
            Value::Object(r)
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_mailbox"));
    }
    ok1("voicemails", Value::Array(rows))
}

fn check_settings(args: &Args<'_>) -> Result<(), Fail> {
    if let Some(pw) = args.get("password")
        && (!(4..=10).contains(&pw.len()) || !pw.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Fail::msg(
            "invalid_password",
            "a voicemail password is 4 to 10 digits",
        ));
    }
    if let Some(lang) = args.get("language")
        && !matches!(lang, "en" | "fr" | "es")
    {
        return Err(Fail::msg("invalid_language", "language is en, fr or es"));
    }
    Ok(())
}

pub(crate) fn create(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let digits = args.or("digits", "").trim().to_owned();
    if !(1..=10).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fail::msg(
            "invalid_digits",
            "digits is the new box's number: 1 to 10 digits",
        ));
    }
    if cx.st.mailbox(&digits).is_some() {
        return Err(Fail::msg(
            "used_number",
            format!("voicemail box {digits} already exists"),
        ));
    }
    check_settings(args)?;
    client(args)?;
    let mut rec = cx.st.mailboxes.first().cloned().unwrap_or_default();
    write_record(
        &mut rec,
        "createVoicemail",
        args,
        &["digits", "client"],
        &[],
    );
    rec.insert("mailbox".into(), Value::String(digits));
    cx.st.mailboxes.push(rec);
    ok()
}

pub(crate) fn set(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = box_index(cx, args.or("mailbox", ""))?;
    check_settings(args)?;
    client(args)?;
    write_record(
        &mut cx.st.mailboxes[i],
        "setVoicemail",
        args,
        &["mailbox", "client"],
        &[],
    );
    ok()
}

pub(crate) fn delete(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = box_index(cx, args.or("mailbox", ""))?;
    let number = text(&cx.st.mailboxes[i], "mailbox").to_owned();
    cx.st.mailboxes.remove(i);
    cx.st.vm_messages.retain(|m| m.mailbox != number);
    ok()
}

pub(crate) fn folders(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    if let Some(mb) = args.get("mailbox") {
        box_index(cx, mb)?;
    }
    let wanted = match args.get("folder") {
        Some(f) => Some(check_folder(f)?),
        None => None,
    };
    let rows: Vec<Value> = FOLDERS
        .iter()
        .filter(|f| wanted.is_none_or(|w| w == **f))
        .map(|f| json!({"value": f, "description": f}))
        .collect();
    ok1("folders", Value::Array(rows))
}

fn message_json(m: &VmMessage) -> Value {
    json!({
        "mailbox": m.mailbox,
        "folder": m.folder,
        "message_num": m.num.to_string(),
        "date": time::datetime(m.t),
        "callerid": m.callerid,
        "duration": time::hms(u64::from(m.seconds)),
        "urgent": if m.urgent { "yes" } else { "no" },
        "listened": if m.listened { "yes" } else { "no" },
    })
}

pub(crate) fn messages(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let mailbox = args.or("mailbox", "").trim();
    box_index(cx, mailbox)?;
    let folder = match args.get("folder") {
        Some(f) => Some(check_folder(f)?),
        None => None,
    };
    let from = args.date("date_from").map(time::day_start);
    let to = args.date("date_to").map(|d| time::day_start(d) + DAY);
    if let (Some(f), Some(t)) = (args.date("date_from"), args.date("date_to")) {
        date_order(f, t, "getVoicemailMessages")?;
    }
    let rows: Vec<Value> = cx
        .st
        .vm_messages
        .iter()
        .filter(|m| m.mailbox == mailbox)
        .filter(|m| folder.is_none_or(|f| m.folder == f))
        .filter(|m| from.is_none_or(|f| m.t >= f) && to.is_none_or(|t| m.t < t))
        .map(message_json)
        .collect();
    if rows.is_empty() {
        return Err(Fail::new("no_messages"));
    }
    ok1("messages", Value::Array(rows))
}

fn find_message(cx: &Ctx<'_>, args: &Args<'_>) -> Result<usize, Fail> {
    let mailbox = args.or("mailbox", "").trim();
    box_index(cx, mailbox)?;
    let folder = check_folder(args.or("folder", ""))?;
    let num = args.int("message_num").unwrap_or(-1);
    cx.st
        .vm_messages
        .iter()
        .position(|m| m.mailbox == mailbox && m.folder == folder && i64::from(m.num) == num)
        .ok_or_else(|| {
            Fail::msg(
                "message_not_found",
                "no message has that number in that folder (getVoicemailMessages lists them)",
            )
        })
}

pub(crate) fn file(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = find_message(cx, args)?;
    let m = &cx.st.vm_messages[i];
    // The caller's words when a clip says them; silence (of at most a few seconds) otherwise,
    // and for the GSM formats, which the sandbox does not encode.
    let clip = media::voicemail_clip(&m.text);
    let seconds = clip.map_or(m.seconds.clamp(1, 3), |c| c.whole_seconds());
    let bytes = match (args.get("format").unwrap_or("mp3"), clip) {
        ("wav", Some(c)) => c.pcm_wav().unwrap_or_else(|| media::wav(seconds)),
        ("wav", None) => media::wav(seconds),
        ("wav49", _) => media::wav49(seconds),
        ("gsm", _) => media::gsm(seconds),
        (_, Some(c)) => c.mp3.to_vec(),
        (_, None) => media::mp3(
            seconds as usize * media::MP3_FRAMES_PER_SECOND,
            "Voicemail message",
        ),
    };
    // One message: a bare object, not a one-element list (as VoIP.ms sends it).
    ok1(
        "message",
        json!({
            "mailbox": m.mailbox,
            "folder": m.folder,
            "message_num": m.num.to_string(),
            "data": base64::engine::general_purpose::STANDARD.encode(bytes),
        }),
    )
}

pub(crate) fn del_messages(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let mailbox = args.or("mailbox", "").trim().to_owned();
    box_index(cx, &mailbox)?;
    let folder = match args.get("folder") {
        Some(f) => Some(check_folder(f)?),
        None => None,
    };
    if let Some(num) = args.int("message_num") {
        let Some(folder) = folder else {
            return Err(Fail::msg(
                "missing_folder",
                "message_num needs the folder it is in",
            ));
        };
        let before = cx.st.vm_messages.len();
        cx.st
            .vm_messages
            .retain(|m| !(m.mailbox == mailbox && m.folder == folder && i64::from(m.num) == num));
        if cx.st.vm_messages.len() == before {
            return Err(Fail::new("message_not_found"));
        }
    } else {
        cx.st
            .vm_messages
            .retain(|m| !(m.mailbox == mailbox && folder.is_none_or(|f| m.folder == f)));
    }
    ok()
}

/// Which mark to set.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    Listened,
    Urgent,
}

pub(crate) fn mark(cx: &mut Ctx<'_>, args: &Args<'_>, which: Mark) -> Res {
    let i = find_message(cx, args)?;
    let m = &mut cx.st.vm_messages[i];
    match which {
        Mark::Listened => m.listened = args.flag("listened") == Some(true),
        Mark::Urgent => m.urgent = args.flag("urgent") == Some(true),
    }
    ok()
}

pub(crate) fn move_message(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let i = find_message(cx, args)?;
    let target = check_folder(args.or("new_folder", ""))?;
    let mailbox = cx.st.vm_messages[i].mailbox.clone();
    let next = cx
        .st
        .vm_messages
        .iter()
        .filter(|m| m.mailbox == mailbox && m.folder == target)
        .map(|m| m.num)
        .max()
        .unwrap_or(0)
        + 1;
    let m = &mut cx.st.vm_messages[i];
    m.folder = target.to_owned();
    m.num = next;
    ok()
}

pub(crate) fn send_email(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    find_message(cx, args)?;
    ok()
}

pub(crate) fn transcriptions(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let mailbox = args.or("mailbox", "").trim();
    let i = box_index(cx, mailbox)?;
    let folder = check_folder(args.or("folder", "INBOX"))?;
    let (Some(from), Some(to)) = (args.date("date_from"), args.date("date_to")) else {
        return Err(Fail::new("missing_from_date"));
    };
    date_order(from, to, "getVoicemailTranscriptions")?;
    let (start, end) = (time::day_start(from), time::day_start(to) + DAY);
    // A box with transcription off has no transcripts (the sandbox reads the box's setting now,
    // not when each message was left).
    let on = text(&cx.st.mailboxes[i], "transcription") != "no";
    let rows: Vec<Value> = cx
        .st
        .vm_messages
        .iter()
        .filter(|_| on)
        .filter(|m| m.mailbox == mailbox && m.folder == folder && !m.text.is_empty())
        .filter(|m| m.t >= start && m.t < end)
        .map(|m| {
            json!({
                "date": time::datetime(m.t),
                "callerid": m.callerid,
                "duration": time::hms(u64::from(m.seconds)),
                "folder": m.folder,
                "result": m.text,
            })
        })
        .collect();
    ok1("messages", Value::Array(rows))
}
