//! Call recordings: list across all pages, fetch one as MP3 bytes (and save it), e-mail it,
//! delete it.
//!
//! Recordings belong to a call account: a value from `getCallAccounts` such as `100001_VoIP`
//! ([`Recordings::call_accounts`]). Ids (`callrecording`) are opaque strings.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::Client;
use crate::api::{
    CallRecording, DelCallRecording, GetCallAccounts, GetCallRecording, GetCallRecordings,
    GetCallRecordingsCallType, SendCallRecordingEmail,
};
use crate::dates::{DateRange, MAX_WINDOW_DAYS};
use crate::ops::{ApiCall, DryRun, OpError, PlannedCall, Session, WriteFailure};
use crate::scalars::{DateTime, decode_base64};
use crate::status::StatusClass;

/// Times a delete is sent when replies keep getting lost and a read shows it was not applied.
const MAX_SENDS: u32 = 3;

/// Recordings asked for per `getCallRecordings` page by default.
pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// A value for the `account` filter of CDR and recording calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAccount {
    /// The value to pass (`all`, `100001_VoIP`, …).
    pub value: String,
    /// What it is.
    pub description: String,
}

/// One recording's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    /// Its id (`callrecording`).
    pub id: String,
    /// When the call started: [server time](crate::dates), the same clock as the `date` of the
    /// call's row in a [`CdrQuery`](crate::cdr::CdrQuery) export.
    pub datetime: Option<DateTime>,
    /// The other party.
    pub destination: Option<String>,
    /// `Incoming` or `Outgoing`.
    pub direction: Option<String>,
    /// The sub-account.
    pub subaccount: Option<String>,
    /// Call length (`HH:MM:SS`).
    pub duration: Option<String>,
}

impl RecordingInfo {
    fn from_api(r: CallRecording) -> Option<Self> {
        Some(RecordingInfo {
            id: r.callrecording.filter(|s| !s.is_empty())?,
            datetime: r.datetime,
            destination: r.destination,
            direction: r.direction,
            subaccount: r.subaccount,
            duration: r.duration,
        })
    }
}

/// The recordings of an account over a date range.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingList {
    /// Recordings, newest first as VoIP.ms lists them, each once.
    pub recordings: Vec<RecordingInfo>,
    /// Calls made (one per page).
    pub calls: Vec<ApiCall>,
}

/// A fetched recording.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingFile {
    /// Its details.
    pub info: RecordingInfo,
    /// The audio (MP3).
    pub audio: Vec<u8>,
    /// Whether the bytes start like an MP3 (an ID3 tag or an MPEG frame).
    pub looks_like_mp3: bool,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl RecordingFile {
    /// `audio/mpeg`.
    pub fn mime(&self) -> &'static str {
        "audio/mpeg"
    }
}

/// The result of [`Recordings::save`].
#[derive(Debug, Clone, PartialEq)]
pub struct SavedRecording {
    /// Where the MP3 was written.
    pub path: PathBuf,
    /// Its size.
    pub bytes: usize,
    /// Its details.
    pub info: RecordingInfo,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// The result of [`Recordings::email`].
#[derive(Debug, Clone, PartialEq)]
pub struct EmailedRecording {
    /// VoIP.ms's confirmation (`Email sent to …`).
    pub message: Option<String>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// The result of [`Recordings::delete`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeletedRecording {
    /// `true` when this call deleted it; `false` when it was already gone (nothing changed).
    pub deleted: bool,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// Whether bytes start like an MP3 file: an ID3v2 tag or an MPEG audio frame header.
pub fn looks_like_mp3(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
}

/// Call recordings over a [`Client`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Recordings {
    client: Client,
    page_size: i64,
}

fn not_found(e: &crate::Error) -> bool {
    e.api_error().is_some_and(|a| {
        a.class() == Some(StatusClass::NotFound)
            || matches!(
                a.status(),
                "invalid_callrecording" | "no_callrecording" | "no_recording"
            )
    })
}

impl Recordings {
    /// Recordings over `client`, 50 per page.
    pub fn new(client: &Client) -> Self {
        Recordings {
            client: client.clone(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// Recordings asked for per page (at least 1).
    pub fn page_size(mut self, size: i64) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// The values the `account` filter takes (`getCallAccounts`): `all` and each sub-account.
    pub async fn call_accounts(&self) -> Result<Vec<CallAccount>, OpError> {
        let mut s = Session::new(&self.client, "call accounts");
        let r = s.read(&GetCallAccounts::new()).await?;
        Ok(r.accounts
            .into_iter()
            .filter_map(|a| {
                Some(CallAccount {
                    value: a.value.filter(|v| !v.is_empty())?,
                    description: a.description.unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Every recording of `account` in `range`, across all pages (and 92-day windows).
    pub async fn list(
        &self,
        account: &str,
        range: DateRange,
        call_type: Option<GetCallRecordingsCallType>,
    ) -> Result<RecordingList, OpError> {
        let account = check_account(account)?;
        let mut s = Session::new(&self.client, "list recordings");
        let mut seen = HashSet::new();
        let mut recordings = Vec::new();
        let mut windows = range.windows(MAX_WINDOW_DAYS);
        // Newest first, like each page.
        windows.reverse();
        for w in windows {
            let mut start = 0i64;
            loop {
                let mut r = GetCallRecordings::new(account, w.from, w.to)
                    .start(start)
                    .length(self.page_size);
                if let Some(t) = call_type {
                    r = r.call_type(t);
                }
                let page = s.read(&r).await?.recordings;
                let n = page.len() as i64;
                let mut new = 0;
                for rec in page.into_iter().filter_map(RecordingInfo::from_api) {
                    if seen.insert(rec.id.clone()) {
                        recordings.push(rec);
                        new += 1;
                    }
                }
                // A short page ends the window; so does a page of nothing new (a server that
                // ignores `start` would otherwise loop for ever).
                if n < self.page_size || new == 0 {
                    break;
                }
                start += n;
            }
        }
        Ok(RecordingList {
            recordings,
            calls: s.take_calls(),
        })
    }

    /// Fetches one recording and decodes its MP3.
    pub async fn fetch(&self, account: &str, id: &str) -> Result<RecordingFile, OpError> {
        let account = check_account(account)?;
        let id = check_id(id)?;
        let mut s = Session::new(&self.client, "fetch recording");
        let r = s.read(&GetCallRecording::new(account, id)).await?;
        let Some(encoded) = r.base64file.as_deref().filter(|b| !b.trim().is_empty()) else {
            return Err(OpError::invalid(format!(
                "VoIP.ms returned recording {id} without audio (no base64file); it may still be \
                 processing — try again in a few minutes"
            )));
        };
        let audio = decode_base64(encoded).map_err(|e| {
            OpError::invalid(format!(
                "the audio of recording {id} is not valid base64 ({e}); fetch it again, or \
                 download it from the portal"
            ))
        })?;
        let info = RecordingInfo {
            id: r.callrecording.clone().unwrap_or_else(|| id.to_owned()),
            datetime: r.datetime,
            destination: r.destination.clone(),
            direction: r.direction.clone(),
            subaccount: r.subaccount.clone(),
            duration: r.duration.clone(),
        };
        Ok(RecordingFile {
            looks_like_mp3: looks_like_mp3(&audio),
            info,
            audio,
            calls: s.take_calls(),
        })
    }

    /// Fetches one recording and writes the MP3 to `path` (a file, or an existing directory in
    /// which `<id>.mp3` is created). A regular file appears complete or not at all; a symbolic
    /// link's target is replaced; a FIFO or a device is written through (see [`crate::outfile`]).
    pub async fn save(
        &self,
        account: &str,
        id: &str,
        path: &Path,
    ) -> Result<SavedRecording, OpError> {
        let file = self.fetch(account, id).await?;
        let target = if tokio::fs::metadata(path)
            .await
            .map(|m| m.is_dir())
            .unwrap_or(false)
        {
            path.join(format!("{}.mp3", file_stem(&file.info.id)))
        } else {
            path.to_owned()
        };
        // Replaced whole when a regular file, written through when a FIFO or a device.
        let (dest, audio) = (target.clone(), file.audio.clone());
        tokio::task::spawn_blocking(move || crate::outfile::write_file(&dest, &audio))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            .map_err(|source| OpError::Io {
                path: target.clone(),
                source,
            })?;
        Ok(SavedRecording {
            bytes: file.audio.len(),
            path: target,
            info: file.info,
            calls: file.calls,
        })
    }

    /// Has VoIP.ms e-mail one recording to `email`.
    pub async fn email(
        &self,
        account: &str,
        id: &str,
        email: &str,
    ) -> Result<EmailedRecording, OpError> {
        let request = email_request(account, id, email)?;
        let mut s = Session::new(&self.client, "e-mail recording");
        match s.write(&request).await {
            Ok(r) => Ok(EmailedRecording {
                message: r.msg,
                calls: s.take_calls(),
            }),
            Err(WriteFailure::Refused(e) | WriteFailure::Lost(e)) => Err(s.fail(e)),
        }
    }

    /// The call [`email`](Self::email) would make.
    pub fn plan_email(&self, account: &str, id: &str, email: &str) -> Result<DryRun, OpError> {
        Ok(DryRun {
            warnings: Vec::new(),
            reads: Vec::new(),
            planned: vec![PlannedCall::of(&email_request(account, id, email)?)],
        })
    }

    /// Deletes one recording. Deleting one that is already gone changes nothing and says so.
    pub async fn delete(&self, account: &str, id: &str) -> Result<DeletedRecording, OpError> {
        let account = check_account(account)?;
        let id = check_id(id)?;
        let mut s = Session::new(&self.client, "delete recording");
        let request = DelCallRecording::new(account, id);
        let mut sends = 0;
        loop {
            sends += 1;
            match s.write(&request).await {
                Ok(_) => {
                    return Ok(DeletedRecording {
                        deleted: true,
                        calls: s.take_calls(),
                    });
                }
                Err(WriteFailure::Refused(e)) if not_found(&e) => {
                    return Ok(DeletedRecording {
                        deleted: false,
                        calls: s.take_calls(),
                    });
                }
                Err(WriteFailure::Refused(e)) => return Err(s.fail(e)),
                Err(WriteFailure::Lost(e)) => {
                    // Did it go through? Ask for it.
                    let index = s.last_index();
                    let check = s.probe(&GetCallRecording::new(account, id)).await;
                    match check {
                        Err(ref c) if not_found(c) => {
                            s.resolve_lost(index, true);
                            return Ok(DeletedRecording {
                                deleted: true,
                                calls: s.take_calls(),
                            });
                        }
                        Ok(_) if sends < MAX_SENDS => {
                            s.resolve_lost(index, false);
                        }
                        _ => return Err(s.fail(e)),
                    }
                }
            }
        }
    }

    /// The call [`delete`](Self::delete) would make.
    pub fn plan_delete(&self, account: &str, id: &str) -> Result<DryRun, OpError> {
        let request = DelCallRecording::new(check_account(account)?, check_id(id)?);
        Ok(DryRun {
            warnings: Vec::new(),
            reads: Vec::new(),
            planned: vec![PlannedCall::of(&request)],
        })
    }
}

fn email_request(account: &str, id: &str, email: &str) -> Result<SendCallRecordingEmail, OpError> {
    let account = check_account(account)?;
    let id = check_id(id)?;
    let email = email.trim();
    if !email.contains('@') || email.contains(char::is_whitespace) {
        return Err(OpError::invalid(format!(
            "`{email}` is not an e-mail address"
        )));
    }
    Ok(SendCallRecordingEmail::new(account, email, id))
}

fn check_account(account: &str) -> Result<&str, OpError> {
    let a = account.trim();
    if a.is_empty() {
        return Err(OpError::invalid(
            "no call account given: use a value from getCallAccounts, such as 100001_VoIP",
        ));
    }
    Ok(a)
}

fn check_id(id: &str) -> Result<&str, OpError> {
    let i = id.trim();
    if i.is_empty() {
        return Err(OpError::invalid(
            "no recording id given: list the recordings to find its `callrecording` id",
        ));
    }
    Ok(i)
}

/// A file name from an opaque id: keeps letters, digits, `-` and `_`.
fn file_stem(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    if s.is_empty() { "recording".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_sniffing() {
        assert!(looks_like_mp3(b"ID3\x04\x00"));
        assert!(looks_like_mp3(&[0xFF, 0xFB, 0x90, 0x00]));
        assert!(!looks_like_mp3(b"RIFF"));
        assert!(!looks_like_mp3(b""));
    }

    #[test]
    fn planned_calls_and_input_checks() {
        let client = Client::builder()
            .credentials("a@example.com", "pw")
            .build()
            .unwrap();
        let r = Recordings::new(&client);
        let p = r.plan_delete("100001_VoIP", "abc=").unwrap();
        assert_eq!(p.planned[0].method, "delCallRecording");
        assert_eq!(p.planned[0].params.get("callrecording"), Some("abc="));
        let e = r
            .plan_email("100001_VoIP", "abc", "me@example.com")
            .unwrap();
        assert_eq!(e.planned[0].params.get("email"), Some("me@example.com"));
        assert!(r.plan_email("100001_VoIP", "abc", "nope").is_err());
        assert!(r.plan_delete("", "abc").is_err());
        assert!(r.plan_delete("x", " ").is_err());
        assert_eq!(file_stem("MTAw/MDE=+x"), "MTAw_MDE__x");
    }
}
