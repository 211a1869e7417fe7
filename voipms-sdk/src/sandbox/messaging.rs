//! SMS and MMS: sending (with the byte limit, the daily cap and the price), listing with the
//! live API's filters and quirks, media, deletion.

use serde_json::{Map, Value, json};

use super::account::{client, date_range};
use super::core::{Answer, Ctx, Res, ok, ok1};
use super::rng::hash_str;
use super::state::{MMS_PRICE, Message, SMS_PRICE, text};
use super::time::{self, DAY};
use super::validate::{Args, Fail};

/// Which kind of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sms,
    Mms,
}

/// The most bytes of UTF-8 one SMS carries (live limit; the docs say 160 characters).
pub(crate) const SMS_MAX_BYTES: usize = 160;
/// The longest MMS text, in characters.
const MMS_MAX_CHARS: usize = 2048;
/// The largest media file VoIP.ms takes as a data URI.
const MMS_MAX_MEDIA: usize = 1_200_000;

/// The DID to send from: on the account, with SMS enabled.
fn sending_did(cx: &Ctx<'_>, args: &Args<'_>, kind: Kind) -> Result<String, Fail> {
    let did = args.phone("did").unwrap_or_default();
    let Some(rec) = cx.st.did(&did) else {
        return Err(Fail::msg(
            "invalid_did",
            "that DID is not on this account (getDIDsInfo lists them)",
        ));
    };
    if text(rec, "sms_enabled") != "1" {
        return Err(Fail::msg(
            "invalid_did",
            format!("SMS is not enabled on {did}: turn it on with setSMS (enable=1)"),
        ));
    }
    if kind == Kind::Mms && rec.get("mms_available") != Some(&json!(1)) {
        return Err(Fail::msg(
            "invalid_did",
            format!("MMS is not available on {did}"),
        ));
    }
    Ok(did)
}

fn check_quota(cx: &Ctx<'_>, kind: Kind, price: i64) -> Result<(), Fail> {
    let today = cx.st.now_date();
    let start = time::day_start(today);
    let list = match kind {
        Kind::Sms => &cx.st.sms,
        Kind::Mms => &cx.st.mms,
    };
    let sent_today = list
        .iter()
        .filter(|m| !m.incoming && m.t >= start && m.t < start + DAY)
        .count();
    let limit = cx.limits.sms_daily_limit as usize;
    if sent_today >= limit {
        return Err(Fail::msg(
            "limit_reached",
            format!(
                "{sent_today} messages sent today: the API allows {limit} a day (messaging@voip.ms \
                 can raise the cap)"
            ),
        ));
    }
    if cx.st.balance < price {
        return Err(Fail::msg(
            "non_sufficient_funds",
            "the balance does not cover the message: add funds",
        ));
    }
    Ok(())
}

pub(crate) fn send_sms(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let did = sending_did(cx, args, Kind::Sms)?;
    let dst = args.phone("dst").unwrap_or_default();
    let message = args.or("message", "");
    if message.len() > SMS_MAX_BYTES {
        return Err(Fail::msg(
            "sms_toolong",
            format!(
                "the message is {} bytes of UTF-8; one SMS carries {SMS_MAX_BYTES} (accented \
                 letters count 2, emoji 4): shorten or split it",
                message.len()
            ),
        ));
    }
    check_quota(cx, Kind::Sms, SMS_PRICE)?;
    let t = cx.st.tick();
    let id = cx.st.next.sms;
    cx.st.next.sms += 1;
    cx.st.sms.push(Message {
        id,
        t,
        incoming: false,
        did,
        contact: dst,
        text: message.to_owned(),
        carrier_status: "Delivered".into(),
        media: Vec::new(),
    });
    cx.st.charge(SMS_PRICE, None);
    // The id comes back as a bare JSON number (live capture).
    ok1("sms", Value::from(id))
}

/// A media parameter as stored: URLs as given, data URIs "uploaded" to a media URL.
fn media_url(v: &str) -> Result<String, Fail> {
    if !v.starts_with("data:") {
        return Ok(v.to_owned());
    }
    let bytes = crate::scalars::decode_base64(v).map_err(|_| Fail::new("invalid_file"))?;
    if bytes.len() > MMS_MAX_MEDIA {
        return Err(Fail::msg(
            "exceeds_file_size",
            format!(
                "a media file is {} bytes; VoIP.ms takes about 1.2 MB per file",
                bytes.len()
            ),
        ));
    }
    let mime = v[5..].split(';').next().unwrap_or("");
    let ext = match mime {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "audio/mpeg" => "mp3",
        _ => "bin",
    };
    Ok(format!(
        "https://voip.ms/media/{:010x}/media.{ext}",
        hash_str(v) & 0xFF_FFFF_FFFF
    ))
}

pub(crate) fn send_mms(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let did = sending_did(cx, args, Kind::Mms)?;
    let dst = args.phone("dst").unwrap_or_default();
    let message = args.or("message", "");
    if message.chars().count() > MMS_MAX_CHARS {
        return Err(Fail::msg(
            "sms_toolong",
            format!("an MMS text holds at most {MMS_MAX_CHARS} characters"),
        ));
    }
    let mut media = Vec::new();
    for k in ["media1", "media2", "media3"] {
        if let Some(v) = args.get(k) {
            media.push(media_url(v)?);
        }
    }
    check_quota(cx, Kind::Mms, MMS_PRICE)?;
    let t = cx.st.tick();
    let id = cx.st.next.mms;
    cx.st.next.mms += 1;
    cx.st.mms.push(Message {
        id,
        t,
        incoming: false,
        did,
        contact: dst,
        text: message.to_owned(),
        carrier_status: "Delivered".into(),
        media,
    });
    cx.st.charge(MMS_PRICE, None);
    ok1("mms", Value::from(id))
}

/// How a number is shown: 10 digits, or `+1…` when the DID's SMS dial mode is E.164.
fn shown(number: &str, e164: bool) -> String {
    if e164 && number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("+1{number}")
    } else {
        number.to_owned()
    }
}

fn row(m: &Message, kind: Kind, shift: i64, e164: bool) -> Value {
    let mut r = Map::new();
    r.insert("id".into(), Value::String(m.id.to_string()));
    r.insert("date".into(), Value::String(time::datetime(m.t + shift)));
    r.insert(
        "type".into(),
        Value::String(if m.incoming { "1" } else { "0" }.into()),
    );
    r.insert("did".into(), Value::String(shown(&m.did, e164)));
    r.insert("contact".into(), Value::String(shown(&m.contact, e164)));
    r.insert("message".into(), Value::String(m.text.clone()));
    r.insert(
        "carrier_status".into(),
        Value::String(m.carrier_status.clone()),
    );
    if kind == Kind::Mms {
        for i in 0..3 {
            r.insert(
                format!("col_media{}", i + 1),
                Value::String(m.media.get(i).cloned().unwrap_or_default()),
            );
        }
        r.insert(
            "media".into(),
            Value::Array(m.media.iter().cloned().map(Value::String).collect()),
        );
    }
    Value::Object(r)
}

/// The shift of the `timezone` parameter, in seconds: `timezone + 5` hours (fractions too) added to the server's
/// Eastern wall clock (which observes daylight saving time), as if Eastern were always UTC-5, as
/// the live service applies it; none without the parameter.
pub(crate) fn tz_shift(args: &Args<'_>) -> i64 {
    args.get("timezone")
        .and_then(|tz| tz.parse::<crate::TzOffset>().ok())
        .map_or(0, |tz| i64::from(tz.minutes()) * 60 + 5 * 3600)
}

pub(crate) fn list(cx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> Res {
    let (name, id_param) = match kind {
        Kind::Sms => ("getSMS", "sms"),
        Kind::Mms => ("getMMS", "mms"),
    };
    let st = &*cx.st;
    listing(st, &st.sms, &st.mms, args, kind, name, id_param)
}

/// getResellerSMS / getResellerMMS: the reseller client's messages, filtered, shifted and
/// shaped like getSMS / getMMS (the MMS id filter is `sms` in the docs, `mms` in the WSDL).
pub(crate) fn reseller(cx: &mut Ctx<'_>, index: usize, args: &Args<'_>) -> Res {
    let name = crate::catalog::METHODS[index].name;
    if !client(args)? {
        return Err(Fail::msg(
            "invalid_client",
            format!("{name} needs `client`, the reseller client's id (see getClients)"),
        ));
    }
    let (kind, id_param) = match (name, args.get("mms")) {
        ("getResellerMMS", Some(_)) => (Kind::Mms, "mms"),
        ("getResellerMMS", None) => (Kind::Mms, "sms"),
        _ => (Kind::Sms, "sms"),
    };
    let st = &*cx.st;
    listing(
        st,
        &st.reseller_sms,
        &st.reseller_mms,
        args,
        kind,
        name,
        id_param,
    )
}

fn listing(
    st: &super::state::State,
    sms: &[Message],
    mms: &[Message],
    args: &Args<'_>,
    kind: Kind,
    name: &str,
    id_param: &str,
) -> Res {
    let today = st.now_date();
    let from = args.date("from").unwrap_or(today);
    let to = args.date("to").unwrap_or(today);
    date_range(from, to, name)?;
    let id = args.int(id_param);
    // With an id, the dates only narrow the search when given explicitly.
    let dated = id.is_none() || args.get("from").is_some() || args.get("to").is_some();
    // The days of the range are on the shifted clock, like the times listed (live behaviour).
    let shift = tz_shift(args);
    let (start, end) = (
        time::day_start(from) - shift,
        time::day_start(to) + DAY - shift,
    );
    let incoming = args.get("type").map(|t| t == "1");
    let did = args.phone("did");
    let contact = args.phone("contact");
    let limit = args.int("limit").filter(|l| *l > 0).unwrap_or(50) as usize;
    let both = args.flag("all_messages") == Some(true) && id.is_none();
    let e164 = |did: &str| st.did(did).is_some_and(|d| text(d, "dialmode") == "2");

    let mut picked: Vec<(&Message, Kind)> = Vec::new();
    for (list, k) in [(sms, Kind::Sms), (mms, Kind::Mms)] {
        if k != kind && !both {
            continue;
        }
        picked.extend(
            list.iter()
                .filter(|m| id.is_none_or(|i| m.id as i64 == i))
                .filter(|m| !dated || (m.t >= start && m.t < end))
                .filter(|m| incoming.is_none_or(|inc| m.incoming == inc))
                .filter(|m| did.as_deref().is_none_or(|d| m.did == d))
                .filter(|m| contact.as_deref().is_none_or(|c| m.contact == c))
                .map(|m| (m, k)),
        );
    }
    // Newest first; mixed kinds carry no marker and their ids overlap (as live).
    picked.sort_by(|a, b| b.0.t.cmp(&a.0.t).then(b.0.id.cmp(&a.0.id)));
    picked.truncate(limit);
    if picked.is_empty() {
        return Err(Fail::new("no_sms"));
    }
    let rows: Vec<Value> = picked
        .into_iter()
        .map(|(m, k)| row(m, k, shift, e164(&m.did)))
        .collect();
    // Both kinds list their rows under `sms`.
    ok1("sms", Value::Array(rows))
}

pub(crate) fn media(cx: &mut Ctx<'_>, args: &Args<'_>) -> Res {
    let id = args.int("id").unwrap_or(-1);
    let Some(m) = cx.st.mms.iter().find(|m| m.id as i64 == id) else {
        return Err(Fail::msg(
            "invalid_id",
            "no MMS has that id (getMMS lists them)",
        ));
    };
    let media = if args.flag("media_as_array") == Some(true) {
        Value::Array(m.media.iter().cloned().map(Value::String).collect())
    } else {
        // Keyed "1", "2", … (live shape).
        Value::Object(
            m.media
                .iter()
                .enumerate()
                .map(|(i, u)| ((i + 1).to_string(), Value::String(u.clone())))
                .collect(),
        )
    };
    let mut out = Map::new();
    out.insert("id".into(), Value::String(m.id.to_string()));
    out.insert("date".into(), Value::String(time::datetime(m.t)));
    out.insert("media".into(), media);
    Ok(Answer::Fields(out))
}

pub(crate) fn delete(cx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> Res {
    let id = args.int("id").unwrap_or(-1);
    let list = match kind {
        Kind::Sms => &mut cx.st.sms,
        Kind::Mms => &mut cx.st.mms,
    };
    let before = list.len();
    list.retain(|m| m.id as i64 != id);
    if list.len() == before {
        return Err(Fail::msg(
            "invalid_id",
            "no message has that id (getSMS / getMMS list them)",
        ));
    }
    ok()
}
