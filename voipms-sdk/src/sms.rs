//! Sending and listing SMS and MMS.
//!
//! - An SMS carries at most **160 bytes of UTF-8** (not characters: `é` counts 2, an emoji 4).
//!   [`Messaging::send_sms`] checks that before sending; with [`SmsLength::Split`] a longer text
//!   goes out as several messages cut on character boundaries (at a space where one is near).
//! - MMS media come from a URL, a local file or bytes; files and bytes are sent as base64
//!   `data:` URIs with the MIME type taken from the file extension, in a multipart POST.
//! - Listing pages by date: the range is split into 92-day windows, and a window that fills
//!   the page limit is split again until every message is fetched.
//! - Sending is never repeated after a lost reply (the message may have gone out). Before sending,
//!   the messages already sent today from the DID to the contact are read (one getSMS/getMMS);
//!   when a reply is lost, the same read is made again: a new sent message with the same text
//!   confirms the send ([`SentSms::confirmed_after_lost_reply`]); otherwise the operation stops
//!   with the send unconfirmed ([`OpError::unconfirmed_billable`]) and the error says which parts
//!   were sent and that nothing must be resent blindly.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::Client;
use crate::dates::{DateRange, MAX_WINDOW_DAYS, unshift};
use crate::error::Error;
use crate::numbers::{NumberKind, PhoneNumber};
use crate::ops::{ApiCall, CallOutcome, DryRun, OpError, PlannedCall, Session, WriteFailure};
use crate::scalars::{Base64, DateTime};

#[cfg(feature = "mms")]
use crate::api::{GetMms, MessageType, SendMms};
use crate::api::{GetSms, SendSms};

/// Most bytes (UTF-8) one SMS may carry.
pub const SMS_MAX_BYTES: usize = 160;
/// Most characters of an MMS text.
pub const MMS_MAX_CHARS: usize = 2048;
/// Most media files per MMS.
pub const MMS_MAX_MEDIA: usize = 3;
/// Largest media file VoIP.ms accepts as a base64 upload (about 1.2 MB).
pub const MMS_MAX_MEDIA_BYTES: usize = 1_200_000;
/// Rows asked for per list call (VoIP.ms's default is 50).
pub const LIST_PAGE_LIMIT: i64 = 1000;

/// What to do with an SMS text over [`SMS_MAX_BYTES`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SmsLength {
    /// Refuse it before sending (default).
    #[default]
    Refuse,
    /// Send it as several messages, cut on character boundaries.
    Split,
}

/// Checks an SMS text: not empty, at most [`SMS_MAX_BYTES`] bytes of UTF-8.
pub fn check_sms(message: &str) -> Result<(), OpError> {
    if message.trim().is_empty() {
        return Err(OpError::EmptyMessage(
            "the SMS text is empty: VoIP.ms refuses empty messages (message_empty)".into(),
        ));
    }
    let bytes = message.len();
    if bytes > SMS_MAX_BYTES {
        return Err(OpError::SmsTooLong {
            bytes,
            chars: message.chars().count(),
            max: SMS_MAX_BYTES,
            parts: split_sms(message, SMS_MAX_BYTES).len(),
        });
    }
    Ok(())
}

/// Cuts `text` into pieces of at most `max_bytes` bytes of UTF-8, never inside a character.
/// A piece ends after a space or line break when one falls in its second half, so words stay
/// whole; joining the pieces gives `text` back exactly.
pub fn split_sms(text: &str, max_bytes: usize) -> Vec<String> {
    let max = max_bytes.max(4);
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        // The longest prefix that fits, on a character boundary.
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        // Prefer to end just after whitespace in the second half of the piece.
        if let Some(ws) = rest[..cut].rfind(char::is_whitespace) {
            let after = ws + rest[ws..].chars().next().map_or(1, char::len_utf8);
            if after * 2 >= cut && after <= cut {
                cut = after;
            }
        }
        out.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

/// One SMS sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPart {
    /// The message id VoIP.ms returned.
    pub id: Option<String>,
    /// The text of this part.
    pub text: String,
}

/// The result of [`Messaging::send_sms`].
#[derive(Debug, Clone, PartialEq)]
pub struct SentSms {
    /// The DID it was sent from.
    pub did: PhoneNumber,
    /// The destination.
    pub dst: PhoneNumber,
    /// One per message sent, in order.
    pub parts: Vec<SentPart>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl SentSms {
    /// Whether a part's reply was lost and a read (getSMS) then showed it had been sent.
    pub fn confirmed_after_lost_reply(&self) -> bool {
        confirmed_after_lost_reply(&self.calls)
    }
}

fn confirmed_after_lost_reply(calls: &[ApiCall]) -> bool {
    calls
        .iter()
        .any(|c| matches!(c.outcome, CallOutcome::LostReplyApplied(_)))
}

/// The result of [`Messaging::send_mms`].
#[derive(Debug, Clone, PartialEq)]
pub struct SentMms {
    /// The DID it was sent from.
    pub did: PhoneNumber,
    /// The destination.
    pub dst: PhoneNumber,
    /// The message id VoIP.ms returned.
    pub id: Option<String>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl SentMms {
    /// Whether the reply was lost and a read (getMMS) then showed the MMS had been sent.
    pub fn confirmed_after_lost_reply(&self) -> bool {
        confirmed_after_lost_reply(&self.calls)
    }
}

/// A media attachment of an MMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// A public `http(s)` URL VoIP.ms fetches.
    Url(String),
    /// A local file, sent as a base64 data URI (MIME type from its extension).
    File(PathBuf),
    /// Bytes with their MIME type, sent as a base64 data URI.
    Bytes {
        /// MIME type, such as `image/png`.
        mime: String,
        /// The content.
        data: Vec<u8>,
    },
}

impl Media {
    /// A URL, or a file path when `source` does not start with `http://` or `https://`.
    pub fn from_arg(source: &str) -> Media {
        let s = source.trim();
        if s.starts_with("http://") || s.starts_with("https://") {
            Media::Url(s.to_owned())
        } else {
            Media::File(PathBuf::from(s))
        }
    }

    /// The wire value: the URL, or `data:<mime>;base64,<content>`.
    pub async fn to_param(&self) -> Result<String, OpError> {
        match self {
            Media::Url(u) => {
                let u = u.trim();
                if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
                    return Err(OpError::invalid(format!(
                        "`{u}` is not an http(s) URL; give a public URL or a local file path"
                    )));
                }
                Ok(u.to_owned())
            }
            Media::File(path) => {
                let mime = mime_for_path(path).ok_or_else(|| {
                    OpError::invalid(format!(
                        "{}: cannot tell the media type from the extension; use one of {}",
                        path.display(),
                        MIME_TYPES
                            .iter()
                            .map(|(e, _)| *e)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                let data = tokio::fs::read(path).await.map_err(|source| OpError::Io {
                    path: path.clone(),
                    source,
                })?;
                data_uri(mime, &data, &path.display().to_string())
            }
            Media::Bytes { mime, data } => data_uri(mime, data, "the attachment"),
        }
    }
}

fn data_uri(mime: &str, data: &[u8], what: &str) -> Result<String, OpError> {
    if data.is_empty() {
        return Err(OpError::invalid(format!("{what} is empty")));
    }
    if data.len() > MMS_MAX_MEDIA_BYTES {
        return Err(OpError::invalid(format!(
            "{what} is {} bytes; VoIP.ms takes at most about 1.2 MB per uploaded file — shrink \
             it, or host it and pass its URL",
            data.len()
        )));
    }
    Ok(format!(
        "data:{mime};base64,{}",
        Base64::from_bytes(data).as_str()
    ))
}

/// File extensions and the MIME types sent for them.
pub const MIME_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("bmp", "image/bmp"),
    ("webp", "image/webp"),
    ("heic", "image/heic"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("wav", "audio/wav"),
    ("amr", "audio/amr"),
    ("ogg", "audio/ogg"),
    ("mp4", "video/mp4"),
    ("3gp", "video/3gpp"),
    ("mov", "video/quicktime"),
    ("txt", "text/plain"),
    ("vcf", "text/vcard"),
    ("pdf", "application/pdf"),
];

/// The MIME type for a file name's extension (case-insensitive), if known.
pub fn mime_for_path(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    MIME_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m)
}

/// SMS or MMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Text message (getSMS).
    Sms,
    /// Multimedia message (getMMS).
    Mms,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the contact.
    Received,
    /// Sent to the contact.
    Sent,
}

/// One message, SMS or MMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// SMS or MMS (the two id sequences overlap).
    pub kind: MessageKind,
    /// Message id.
    pub id: String,
    /// When: [server time](crate::dates) (the Eastern wall clock, daylight saving observed),
    /// whatever `timezone` the query sent.
    pub date: Option<DateTime>,
    /// Received or sent; `None` when VoIP.ms did not say.
    pub direction: Option<Direction>,
    /// The account's DID.
    pub did: String,
    /// The other party.
    pub contact: String,
    /// The text (PHP-style `\'` escapes removed).
    pub text: String,
    /// Carrier delivery status of sent messages.
    pub carrier_status: Option<String>,
    /// Media URLs (MMS).
    pub media: Vec<String>,
}

fn direction_of(code: Option<&MessageType>) -> Option<Direction> {
    match code {
        Some(MessageType::Received) => Some(Direction::Received),
        Some(MessageType::Sent) => Some(Direction::Sent),
        _ => None,
    }
}

/// Removes the backslash escapes VoIP.ms sometimes adds before quotes (possibly repeated).
pub fn unescape_quotes(text: &str) -> String {
    let mut s = text.to_owned();
    loop {
        let next = s
            .replace("\\'", "'")
            .replace("\\\"", "\"")
            .replace("\\\\'", "'");
        if next == s {
            return s;
        }
        s = next;
    }
}

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageQuery {
    /// Dates (inclusive).
    pub range: DateRange,
    /// SMS or MMS.
    pub kind: MessageKind,
    /// Only this DID of the account.
    pub did: Option<String>,
    /// Only this contact.
    pub contact: Option<PhoneNumber>,
    /// Only received or only sent.
    pub direction: Option<Direction>,
    /// The getSMS/getMMS `timezone` number, which chooses whose days the range means (server
    /// time + `timezone + 5` hours; the server's own days when `None`). Listed dates are server
    /// time either way (see [`dates`](crate::dates)).
    pub timezone: Option<crate::TzOffset>,
}

impl MessageQuery {
    /// SMS in `range`, any DID, contact and direction.
    pub fn sms(range: DateRange) -> Self {
        MessageQuery {
            range,
            kind: MessageKind::Sms,
            did: None,
            contact: None,
            direction: None,
            timezone: None,
        }
    }

    /// MMS in `range`.
    pub fn mms(range: DateRange) -> Self {
        MessageQuery {
            kind: MessageKind::Mms,
            ..MessageQuery::sms(range)
        }
    }

    /// Only messages with `contact`.
    pub fn contact(mut self, contact: PhoneNumber) -> Self {
        self.contact = Some(contact);
        self
    }

    /// Only messages on `did`.
    pub fn did(mut self, did: impl Into<String>) -> Self {
        self.did = Some(did.into());
        self
    }

    /// Only received or only sent messages.
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }
}

/// The result of [`Messaging::list`].
#[derive(Debug, Clone, PartialEq)]
pub struct MessageList {
    /// The messages, oldest first, each once.
    pub messages: Vec<Message>,
    /// Single days that still returned a full page (so may hold more than was listed).
    pub truncated_days: Vec<crate::scalars::Date>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// SMS and MMS over a [`Client`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Messaging {
    client: Client,
    page_limit: i64,
}

struct SmsPlan {
    did: PhoneNumber,
    dst: PhoneNumber,
    parts: Vec<String>,
    requests: Vec<SendSms>,
}

fn plan_sms(did: &str, dst: &str, message: &str, length: SmsLength) -> Result<SmsPlan, OpError> {
    let did = PhoneNumber::parse(did)?;
    let dst = PhoneNumber::parse(dst)?;
    if did.kind() != NumberKind::Nanp {
        return Err(OpError::invalid(format!(
            "{did} cannot send SMS: use one of the account's SMS-enabled DIDs (10 digits)"
        )));
    }
    let parts = match (check_sms(message), length) {
        (Ok(()), _) => vec![message.to_owned()],
        (Err(_), SmsLength::Split) if !message.trim().is_empty() => {
            split_sms(message, SMS_MAX_BYTES)
        }
        (Err(e), _) => return Err(e),
    };
    let requests = parts
        .iter()
        .map(|p| SendSms::new(did.as_str(), dst.as_str(), p.as_str()))
        .collect();
    Ok(SmsPlan {
        did,
        dst,
        parts,
        requests,
    })
}

impl Messaging {
    /// Messaging over `client`, listing 1000 rows per call.
    pub fn new(client: &Client) -> Self {
        Messaging {
            client: client.clone(),
            page_limit: LIST_PAGE_LIMIT,
        }
    }

    /// Rows asked for per list call (at least 1). A window that returns this many is split.
    pub fn page_limit(mut self, limit: i64) -> Self {
        self.page_limit = limit.max(1);
        self
    }

    /// Sends an SMS from `did` to `dst`, checking the 160-byte limit first. With
    /// [`SmsLength::Split`] a longer text is sent as several messages, in order.
    pub async fn send_sms(
        &self,
        did: &str,
        dst: &str,
        message: &str,
        length: SmsLength,
    ) -> Result<SentSms, OpError> {
        let plan = plan_sms(did, dst, message, length)?;
        let mut s = Session::new(&self.client, "sending the SMS");
        let mut check =
            LostReplyCheck::new(self, &mut s, MessageKind::Sms, &plan.did, &plan.dst).await;
        let mut parts = Vec::new();
        for (r, text) in plan.requests.iter().zip(&plan.parts) {
            let id = match s.write(r).await {
                Ok(resp) => resp.sms,
                Err(WriteFailure::Refused(e)) => return Err(s.fail(e)),
                Err(WriteFailure::Lost(e)) => Some(check.settle(self, &mut s, text, e).await?),
            };
            check.claim(id.as_deref());
            parts.push(SentPart {
                id,
                text: text.clone(),
            });
        }
        Ok(SentSms {
            did: plan.did,
            dst: plan.dst,
            parts,
            calls: s.take_calls(),
        })
    }

    /// The calls [`send_sms`](Self::send_sms) would make (no reads are needed).
    pub fn plan_send_sms(
        &self,
        did: &str,
        dst: &str,
        message: &str,
        length: SmsLength,
    ) -> Result<DryRun, OpError> {
        let plan = plan_sms(did, dst, message, length)?;
        Ok(DryRun {
            warnings: Vec::new(),
            reads: Vec::new(),
            planned: plan.requests.iter().map(PlannedCall::of).collect(),
        })
    }

    /// Sends an MMS with up to three attachments (URLs, files or bytes).
    #[cfg(feature = "mms")]
    pub async fn send_mms(
        &self,
        did: &str,
        dst: &str,
        message: &str,
        media: &[Media],
    ) -> Result<SentMms, OpError> {
        let (did, dst, request) = self.mms_request(did, dst, message, media).await?;
        let mut s = Session::new(&self.client, "sending the MMS");
        let mut check = LostReplyCheck::new(self, &mut s, MessageKind::Mms, &did, &dst).await;
        let id = match s.write(&request).await {
            Ok(resp) => resp.mms,
            Err(WriteFailure::Refused(e)) => return Err(s.fail(e)),
            Err(WriteFailure::Lost(e)) => Some(check.settle(self, &mut s, message, e).await?),
        };
        Ok(SentMms {
            did,
            dst,
            id,
            calls: s.take_calls(),
        })
    }

    /// The call [`send_mms`](Self::send_mms) would make (files are read and encoded).
    #[cfg(feature = "mms")]
    pub async fn plan_send_mms(
        &self,
        did: &str,
        dst: &str,
        message: &str,
        media: &[Media],
    ) -> Result<DryRun, OpError> {
        let (_, _, request) = self.mms_request(did, dst, message, media).await?;
        Ok(DryRun {
            warnings: Vec::new(),
            reads: Vec::new(),
            planned: vec![PlannedCall::of(&request)],
        })
    }

    #[cfg(feature = "mms")]
    async fn mms_request(
        &self,
        did: &str,
        dst: &str,
        message: &str,
        media: &[Media],
    ) -> Result<(PhoneNumber, PhoneNumber, SendMms), OpError> {
        let did = PhoneNumber::parse(did)?;
        let dst = PhoneNumber::parse(dst)?;
        let chars = message.chars().count();
        if chars > MMS_MAX_CHARS {
            return Err(OpError::invalid(format!(
                "the MMS text is {chars} characters; VoIP.ms takes at most {MMS_MAX_CHARS}"
            )));
        }
        if media.len() > MMS_MAX_MEDIA {
            return Err(OpError::invalid(format!(
                "{} attachments given; an MMS carries at most {MMS_MAX_MEDIA}",
                media.len()
            )));
        }
        if media.is_empty() && message.trim().is_empty() {
            return Err(OpError::EmptyMessage(
                "the MMS has neither text nor media: give at least one".into(),
            ));
        }
        let mut request = SendMms::new(did.as_str(), dst.as_str(), message);
        for (i, m) in media.iter().enumerate() {
            let value = m.to_param().await?;
            request = match i {
                0 => request.media1(value),
                1 => request.media2(value),
                _ => request.media3(value),
            };
        }
        Ok((did, dst, request))
    }

    /// Lists messages over any date range: 92-day windows, each split again while it returns a
    /// full page. Messages come back oldest first, each once.
    pub async fn list(&self, query: &MessageQuery) -> Result<MessageList, OpError> {
        let mut s = Session::new(&self.client, "list messages");
        let mut messages = Vec::new();
        let mut truncated_days = Vec::new();
        let mut todo: Vec<DateRange> = query.range.windows(MAX_WINDOW_DAYS);
        todo.reverse();
        while let Some(window) = todo.pop() {
            let page = self.fetch(&mut s, query, window).await?;
            if page.len() as i64 >= self.page_limit {
                if window.days() > 1 {
                    let half = window.days() / 2;
                    let mut parts = window.windows(half.max(1));
                    parts.reverse();
                    todo.extend(parts);
                    continue;
                }
                truncated_days.push(window.from);
            }
            messages.extend(page);
        }
        let mut seen = HashSet::new();
        messages.retain(|m: &Message| seen.insert(m.id.clone()));
        messages.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
        Ok(MessageList {
            messages,
            truncated_days,
            calls: s.take_calls(),
        })
    }

    async fn fetch(
        &self,
        s: &mut Session,
        q: &MessageQuery,
        w: DateRange,
    ) -> Result<Vec<Message>, OpError> {
        match self.fetch_rows(s, q, Some(w)).await {
            Ok(rows) => Ok(rows),
            Err(e) => Err(s.fail(e)),
        }
    }

    /// One getSMS/getMMS call with the filters of `q` over `w` (the server's today when `None`;
    /// `q.range` is not used).
    async fn fetch_rows(
        &self,
        s: &mut Session,
        q: &MessageQuery,
        w: Option<DateRange>,
    ) -> Result<Vec<Message>, Error> {
        let limit = self.page_limit;
        // getSMS and getMMS take the same filters and answer rows of the same form under `sms`;
        // only their generated types differ, so one macro builds either request and reads it.
        macro_rules! fetch_messages {
            ($request:ident, $direction:ident, $kind:expr, |$row:ident| $media:expr) => {{
                let mut r = $request::new().limit(limit);
                if let Some(w) = w {
                    r = r.from(w.from).to(w.to);
                }
                if let Some(d) = &q.did {
                    r = r.did(d.as_str());
                }
                if let Some(c) = &q.contact {
                    r = r.contact(c.as_str());
                }
                if let Some(d) = q.direction {
                    r = r.direction(match d {
                        Direction::Received => $direction::Received,
                        Direction::Sent => $direction::Sent,
                    });
                }
                if let Some(tz) = q.timezone {
                    r = r.timezone(tz);
                }
                let resp = s.probe(&r).await?;
                Ok(resp
                    .sms
                    .into_iter()
                    .filter_map(|$row| {
                        Some(Message {
                            kind: $kind,
                            id: $row.id?,
                            // Server time, whatever `timezone` was sent.
                            date: $row.date.map(|d| q.timezone.map_or(d, |tz| unshift(d, tz))),
                            direction: direction_of($row.direction.as_ref()),
                            did: $row.did.unwrap_or_default(),
                            contact: $row.contact.unwrap_or_default(),
                            text: unescape_quotes(&$row.message.unwrap_or_default()),
                            carrier_status: $row.carrier_status.filter(|c| !c.is_empty()),
                            media: $media,
                        })
                    })
                    .collect())
            }};
        }
        match q.kind {
            MessageKind::Sms => {
                fetch_messages!(GetSms, MessageType, MessageKind::Sms, |m| Vec::new())
            }
            #[cfg(feature = "mms")]
            MessageKind::Mms => {
                fetch_messages!(GetMms, MessageType, MessageKind::Mms, |m| m.media)
            }
            #[cfg(not(feature = "mms"))]
            MessageKind::Mms => Err(Error::InvalidRequest {
                method: "getMMS".into(),
                message: "MMS support is not compiled in: enable the `mms` feature of voipms-sdk"
                    .into(),
            }),
        }
    }
}

/// Settles a send whose reply was lost with a read instead of sending again.
///
/// Before the first send it reads the messages already sent today (the server's day) from the
/// DID to the contact; after a lost reply it reads them again, and a sent message with the same
/// text that was not there before is the one this send made. A send is never repeated.
struct LostReplyCheck {
    query: MessageQuery,
    /// Ids of the messages sent before (and by earlier parts of) this operation; `None` when the
    /// read before sending failed, so that no message can be told apart as new.
    known: Option<HashSet<String>>,
}

impl LostReplyCheck {
    async fn new(
        m: &Messaging,
        s: &mut Session,
        kind: MessageKind,
        did: &PhoneNumber,
        dst: &PhoneNumber,
    ) -> Self {
        let today = DateRange::last_days(&m.client, 1);
        let query = MessageQuery {
            kind,
            ..MessageQuery::sms(today)
        }
        .did(did.as_str())
        .contact(dst.clone())
        .direction(Direction::Sent);
        // A failure here does not stop the send: it only means a lost reply cannot be settled.
        let known = m
            .fetch_rows(s, &query, None)
            .await
            .ok()
            .map(|rows| rows.into_iter().map(|r| r.id).collect());
        LostReplyCheck { query, known }
    }

    /// Records the id a send returned, so that a later part cannot be confirmed by it.
    fn claim(&mut self, id: Option<&str>) {
        if let (Some(known), Some(id)) = (&mut self.known, id) {
            known.insert(id.to_owned());
        }
    }

    /// The reply of the last write (sending `text`) was lost with `error`: the id of the message
    /// when a read shows it was sent, else the operation's error with the send unconfirmed.
    async fn settle(
        &mut self,
        m: &Messaging,
        s: &mut Session,
        text: &str,
        error: Error,
    ) -> Result<String, OpError> {
        let lost = s.last_index();
        let Some(known) = &self.known else {
            return Err(s.fail(error));
        };
        let rows = match m.fetch_rows(s, &self.query, None).await {
            Ok(rows) => rows,
            Err(_) => return Err(s.fail(error)),
        };
        let found = rows
            .into_iter()
            .filter(|r| !known.contains(&r.id) && r.text.trim() == text.trim())
            .map(|r| r.id)
            .max_by_key(|id| (id.len(), id.clone()));
        match found {
            Some(id) => {
                s.resolve_lost(lost, true);
                Ok(id)
            }
            None => Err(s.fail(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_limit_not_chars() {
        assert!(check_sms(&"a".repeat(160)).is_ok());
        let e = check_sms(&"a".repeat(161)).unwrap_err().to_string();
        assert!(e.contains("161 bytes"), "{e}");
        // 80 two-byte letters are 160 bytes; 81 are too many although only 81 characters.
        assert!(check_sms(&"é".repeat(80)).is_ok());
        let e = check_sms(&"é".repeat(81)).unwrap_err().to_string();
        assert!(
            e.contains("162 bytes") && e.contains("81 characters"),
            "{e}"
        );
        // 40 emoji are 160 bytes.
        assert!(check_sms(&"😀".repeat(40)).is_ok());
        assert!(check_sms(&"😀".repeat(41)).is_err());
        assert!(check_sms("  ").unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn split_on_char_boundaries() {
        for text in [
            "😀".repeat(100),
            "é".repeat(333),
            format!("{} {}", "a".repeat(150), "b".repeat(150)),
            "word ".repeat(100),
            "x".repeat(160),
            "short".to_owned(),
            "a😀".repeat(77),
        ] {
            let parts = split_sms(&text, SMS_MAX_BYTES);
            assert_eq!(parts.concat(), text, "lossless");
            assert!(
                parts
                    .iter()
                    .all(|p| p.len() <= SMS_MAX_BYTES && !p.is_empty())
            );
            assert!(
                parts
                    .iter()
                    .all(|p| check_sms(p).is_ok() || p.trim().is_empty())
            );
        }
        assert_eq!(split_sms(&"x".repeat(160), 160).len(), 1);
        assert_eq!(split_sms(&"x".repeat(161), 160).len(), 2);
        assert_eq!(
            split_sms(&"😀".repeat(41), 160),
            vec!["😀".repeat(40), "😀".to_owned()]
        );
        // Words stay whole when a space is near the cut.
        let parts = split_sms(&"word ".repeat(40), 160);
        assert!(
            parts[0].ends_with(' ') && parts[1].starts_with("word"),
            "{parts:?}"
        );
        assert_eq!(split_sms("", 160), vec![String::new()]);
    }

    #[test]
    fn sms_plan_is_exact() {
        let p = plan_sms("+1 555 123 4567", "555.333.4444", "hi", SmsLength::Refuse).unwrap();
        assert_eq!(p.parts, vec!["hi".to_owned()]);
        let call = PlannedCall::of(&p.requests[0]);
        assert_eq!(call.method, "sendSMS");
        assert_eq!(call.params.get("did"), Some("5551234567"));
        assert_eq!(call.params.get("dst"), Some("5553334444"));
        let long = "é".repeat(100);
        assert!(plan_sms("5551234567", "5553334444", &long, SmsLength::Refuse).is_err());
        let split = plan_sms("5551234567", "5553334444", &long, SmsLength::Split).unwrap();
        assert_eq!(split.requests.len(), 2);
        assert!(plan_sms("28444", "5553334444", "x", SmsLength::Refuse).is_err());
        assert!(plan_sms("5551234567", "junk", "x", SmsLength::Refuse).is_err());
    }

    #[tokio::test]
    async fn media_data_uris() {
        assert_eq!(mime_for_path(Path::new("a/B.JPG")), Some("image/jpeg"));
        assert_eq!(mime_for_path(Path::new("x.png")), Some("image/png"));
        assert_eq!(mime_for_path(Path::new("x.exe")), None);
        let dir = std::env::temp_dir().join(format!("voipms-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("dot.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n").unwrap();
        let v = Media::File(png.clone()).to_param().await.unwrap();
        assert_eq!(v, "data:image/png;base64,iVBORw0KGgo=");
        assert_eq!(
            Media::from_arg(png.to_str().unwrap()),
            Media::File(png.clone())
        );
        let url = Media::from_arg("https://example.com/a.jpg");
        assert_eq!(url.to_param().await.unwrap(), "https://example.com/a.jpg");
        assert!(Media::Url("ftp://x".into()).to_param().await.is_err());
        let odd = dir.join("file.xyz");
        std::fs::write(&odd, b"x").unwrap();
        let e = Media::File(odd).to_param().await.unwrap_err().to_string();
        assert!(e.contains("jpg"), "{e}");
        let missing = Media::File(dir.join("missing.png")).to_param().await;
        assert!(matches!(missing, Err(OpError::Io { .. })));
        let big = Media::Bytes {
            mime: "image/png".into(),
            data: vec![0; MMS_MAX_MEDIA_BYTES + 1],
        };
        assert!(
            big.to_param()
                .await
                .unwrap_err()
                .to_string()
                .contains("1.2 MB")
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn quotes_unescaped() {
        assert_eq!(unescape_quotes("Don\\'t"), "Don't");
        assert_eq!(unescape_quotes("say \\\\'hi\\\\'"), "say 'hi'");
        assert_eq!(unescape_quotes("plain"), "plain");
    }
}
