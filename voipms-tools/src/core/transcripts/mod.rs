//! Call and voicemail transcripts: where they come from (VoIP.ms's own transcriptions first, a
//! configured OpenAI-compatible provider second), the local store that keeps them (transcribe
//! once, reuse after) and full-text search over them. Shared by `voipms transcripts …`,
//! `voipms recordings transcribe` and the MCP tools.
//!
//! **Dates.** `call_date` is the call's server time (`voipms_sdk::dates`: the US Eastern wall
//! clock, daylight saving included), `YYYY-MM-DD HH:MM:SS`, the same clock `voipms cdr` and
//! `voipms recordings list` show; search ranges compare against it.
//! `created_at` is when the transcript was stored, in UTC (RFC 3339).

pub mod native;
pub mod provider;
pub mod store;

use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{Value, json};
use voipms_sdk::catalog::Effect;
use voipms_sdk::recordings::{RecordingInfo, Recordings};
use voipms_sdk::{Client, DateRange, Params};

use crate::core::config;
use provider::{Audio, Transcriber};
use store::Store;

/// What was transcribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A call recording (getCallRecording / getCallTranscriptions).
    Call,
    /// A voicemail message (getVoicemailTranscriptions).
    Voicemail,
}

impl Source {
    /// Its name in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Call => "call",
            Source::Voicemail => "voicemail",
        }
    }
}

/// A timed piece of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Seconds from the start of the audio.
    pub start: f64,
    /// Seconds from the start of the audio.
    pub end: f64,
    /// Who spoke, when the source says (VoIP.ms numbers its speakers `1`, `2`, …).
    pub speaker: Option<String>,
    /// What was said.
    pub text: String,
}

impl Segment {
    /// JSON form.
    pub fn to_json(&self) -> Value {
        json!({"start": round2(self.start), "end": round2(self.end), "speaker": self.speaker, "text": self.text})
    }

    /// From the JSON form.
    pub fn from_json(v: &Value) -> Option<Segment> {
        Some(Segment {
            start: v.get("start")?.as_f64()?,
            end: v.get("end").and_then(Value::as_f64).unwrap_or(0.0),
            speaker: v.get("speaker").and_then(Value::as_str).map(str::to_owned),
            text: v.get("text")?.as_str()?.to_owned(),
        })
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// One stored transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The store's id (0 before it is stored).
    pub id: i64,
    /// Call recording or voicemail.
    pub source: Source,
    /// VoIP.ms's id of what was transcribed: the recording id, or `MAILBOX/FOLDER/DATE` for a
    /// voicemail message, or `call@DATE@SPEAKERS` for a VoIP.ms call transcription no recording
    /// matched.
    pub voipms_ref: String,
    /// The (sub-)account the call belongs to.
    pub account: String,
    /// The DID involved, when known.
    pub did: Option<String>,
    /// VoIP.ms's wall-clock time of the call, `YYYY-MM-DD HH:MM:SS` (see the module docs).
    pub call_date: Option<String>,
    /// The other party's number (or caller ID).
    pub caller: Option<String>,
    /// Length of the audio in seconds.
    pub duration: Option<f64>,
    /// Who transcribed it: `voipms`, or the provider's name.
    pub origin: String,
    /// The provider's model.
    pub model: Option<String>,
    /// Language or locale.
    pub language: Option<String>,
    /// Overall confidence in percent, when the source gives one.
    pub confidence: Option<f64>,
    /// The whole text.
    pub text: String,
    /// Timed segments.
    pub segments: Vec<Segment>,
    /// When it was stored (UTC, RFC 3339).
    pub created_at: String,
}

impl Transcript {
    /// JSON form (CLI `--format json`, MCP structured content, export).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "source": self.source.as_str(),
            "voipms_id": self.voipms_ref,
            "account": self.account,
            "did": self.did,
            "call_date": self.call_date,
            "caller": self.caller,
            "duration_seconds": self.duration,
            "origin": self.origin,
            "model": self.model,
            "language": self.language,
            "confidence": self.confidence,
            "text": self.text,
            "segments": self.segments.iter().map(Segment::to_json).collect::<Vec<_>>(),
            "created_at": self.created_at,
        })
    }
}

/// Now, UTC RFC 3339 to the second.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Seconds of `MM:SS` or `HH:MM:SS`.
pub fn clock_seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    for part in text.trim().split(':') {
        total = total * 60.0 + part.trim().parse::<f64>().ok()?;
    }
    Some(total)
}

/// Which source gave a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// The local store (transcribed before).
    Stored,
    /// VoIP.ms's own transcription (now stored).
    Voipms,
    /// The configured provider (now stored).
    Provider(String),
}

impl Answered {
    /// `stored`, `voipms` or `provider`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Answered::Stored => "stored",
            Answered::Voipms => "voipms",
            Answered::Provider(_) => "provider",
        }
    }

    /// In words.
    pub fn words(&self) -> String {
        match self {
            Answered::Stored => "from the local store".to_owned(),
            Answered::Voipms => "VoIP.ms's own transcription".to_owned(),
            Answered::Provider(p) => format!("transcribed by {p}"),
        }
    }
}

/// What looking for a call's transcript gave.
#[derive(Debug)]
pub enum Outcome {
    /// A transcript, and which source gave it.
    Found {
        /// The transcript (stored).
        transcript: Transcript,
        /// Its source.
        answered: Answered,
    },
    /// None: why, and the recording when it was read.
    Missing {
        /// Why there is none and what would make one.
        reason: String,
        /// The recording.
        recording: Option<RecordingInfo>,
    },
}

/// The store and the provider a run works with.
pub struct Service {
    /// The store's file.
    pub path: PathBuf,
    /// The provider, when configured.
    pub provider: Option<Box<dyn Transcriber>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("path", &self.path)
            .field(
                "provider",
                &self.provider.as_ref().map(|p| p.name().to_owned()),
            )
            .finish()
    }
}

/// The store's file: `transcripts.sqlite3` (or `transcripts-sandbox.sqlite3`) in the data dir.
pub fn store_path(sandbox: bool) -> Result<PathBuf, String> {
    config::data_dir()
        .map(|d| {
            d.join(if sandbox {
                store::SANDBOX_FILE
            } else {
                store::DEFAULT_FILE
            })
        })
        .ok_or_else(|| {
            "no data directory on this system for the transcript store (set XDG_DATA_HOME or HOME)"
                .to_owned()
        })
}

impl Service {
    /// The service over the store at `path` with `provider`.
    pub fn new(path: PathBuf, provider: Option<Box<dyn Transcriber>>) -> Self {
        Service { path, provider }
    }

    /// Opens the store (created on first use).
    pub fn store(&self) -> Result<Store, String> {
        Store::open(&self.path)
    }

    /// The transcript of recording `id`: stored → VoIP.ms's own → the provider (when
    /// `use_provider` and one is configured). `force` skips the store (and VoIP.ms's own when a
    /// provider will transcribe) and replaces what was stored.
    pub async fn call_transcript(
        &self,
        client: &Client,
        account: &str,
        id: &str,
        use_provider: bool,
        force: bool,
    ) -> Result<Outcome, String> {
        let store = self.store()?;
        if !force && let Some(t) = store.find(Source::Call, id)? {
            return Ok(Outcome::Found {
                transcript: t,
                answered: Answered::Stored,
            });
        }
        let file = Recordings::new(client)
            .fetch(account, id)
            .await
            .map_err(|e| e.to_string())?;
        let provider = self.provider.as_deref().filter(|_| use_provider);
        let mut native_note = String::new();
        if !(force && provider.is_some()) {
            match native::for_recording(client, account, &file.info).await {
                Ok(Some(mut t)) => {
                    t.id = store.put(&t)?;
                    return Ok(Outcome::Found {
                        transcript: t,
                        answered: Answered::Voipms,
                    });
                }
                Ok(None) => native_note = native::none_reason(&file.info),
                Err(e) => native_note = format!("VoIP.ms's transcriptions could not be read ({e})"),
            }
        }
        let Some(p) = provider else {
            let why = if self.provider.is_none() {
                "no transcription provider is configured ([transcription] in the profile, or VOIPMS_TRANSCRIPTION_URL)"
            } else {
                "transcription by the provider was not allowed for this request"
            };
            return Ok(Outcome::Missing {
                reason: format!("{native_note}; {why}"),
                recording: Some(file.info),
            });
        };
        let seconds = file.info.duration.as_deref().and_then(clock_seconds);
        let audio = Audio {
            bytes: &file.audio,
            file_name: format!("{}.mp3", safe_name(&file.info.id)),
            mime: "audio/mpeg",
            seconds,
        };
        let got = p.transcribe(&audio).await.map_err(|e| e.to_string())?;
        let t = Transcript {
            id: 0,
            source: Source::Call,
            voipms_ref: file.info.id.clone(),
            account: file
                .info
                .subaccount
                .clone()
                .unwrap_or_else(|| account.to_owned()),
            did: None,
            call_date: file.info.datetime.map(|d| d.to_string()),
            caller: file.info.destination.clone(),
            ..from_provider(p, got, seconds)
        };
        stored_from_provider(&store, p, t)
    }
}

/// A transcript of what provider `p` made of audio of `seconds` (the identity fields empty).
fn from_provider(
    p: &dyn Transcriber,
    got: provider::Transcription,
    seconds: Option<f64>,
) -> Transcript {
    Transcript {
        id: 0,
        source: Source::Call,
        voipms_ref: String::new(),
        account: String::new(),
        did: None,
        call_date: None,
        caller: None,
        duration: got.duration.or(seconds),
        origin: p.name().to_owned(),
        model: Some(p.model().to_owned()),
        language: got.language,
        confidence: None,
        text: got.text,
        segments: got.segments,
        created_at: now(),
    }
}

/// `t` stored, as the provider's answer.
fn stored_from_provider(
    store: &Store,
    p: &dyn Transcriber,
    mut t: Transcript,
) -> Result<Outcome, String> {
    t.id = store.put(&t)?;
    Ok(Outcome::Found {
        transcript: t,
        answered: Answered::Provider(p.name().to_owned()),
    })
}

/// A voicemail message, as getVoicemailMessages lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct VoicemailMessage {
    /// The mailbox.
    pub mailbox: String,
    /// Its folder (`INBOX`, `Old`, …).
    pub folder: String,
    /// Its number in the folder.
    pub num: String,
    /// VoIP.ms's wall-clock time of the message, `YYYY-MM-DD HH:MM:SS`.
    pub date: Option<String>,
    /// The caller ID.
    pub callerid: Option<String>,
    /// Its length as VoIP.ms gives it (`HH:MM:SS`).
    pub duration: Option<String>,
}

impl VoicemailMessage {
    /// The store's VoIP.ms id of the message (the one `transcripts sync --mailbox` uses too).
    pub fn voipms_ref(&self) -> String {
        native::voicemail_ref(
            &self.mailbox,
            &self.folder,
            self.date.as_deref().unwrap_or_default(),
        )
    }

    /// JSON form.
    pub fn to_json(&self) -> Value {
        json!({
            "mailbox": self.mailbox,
            "folder": self.folder,
            "message_num": self.num,
            "date": self.date,
            "callerid": self.callerid,
            "duration": self.duration,
        })
    }
}

/// The messages of `mailbox`'s `folder` (getVoicemailMessages), oldest first.
pub async fn voicemail_messages(
    client: &Client,
    mailbox: &str,
    folder: &str,
) -> Result<Vec<VoicemailMessage>, String> {
    let mut params = Params::new();
    params.push("mailbox", mailbox);
    params.push("folder", folder);
    let outcome = client
        .call_with_effect("getVoicemailMessages", &params, Effect::Read)
        .await
        .map_err(|e| e.to_string())?;
    Ok(native::rows(&outcome.body, "messages")
        .iter()
        .filter_map(|m| {
            Some(VoicemailMessage {
                mailbox: native::text(m, "mailbox").unwrap_or_else(|| mailbox.to_owned()),
                folder: native::text(m, "folder").unwrap_or_else(|| folder.to_owned()),
                num: native::text(m, "message_num")?,
                date: native::text(m, "date"),
                callerid: native::text(m, "callerid"),
                duration: native::text(m, "duration"),
            })
        })
        .collect())
}

impl Service {
    /// The transcript of voicemail message `msg` (from [`voicemail_messages`]): stored →
    /// VoIP.ms's own (getVoicemailTranscriptions) → the provider, which receives the message's
    /// WAV (getVoicemailMessageFile). `force` as in [`Service::call_transcript`].
    pub async fn voicemail_transcript(
        &self,
        client: &Client,
        msg: &VoicemailMessage,
        use_provider: bool,
        force: bool,
    ) -> Result<Outcome, String> {
        let store = self.store()?;
        let voipms_ref = msg.voipms_ref();
        if !force && let Some(t) = store.find(Source::Voicemail, &voipms_ref)? {
            return Ok(Outcome::Found {
                transcript: t,
                answered: Answered::Stored,
            });
        }
        let provider = self.provider.as_deref().filter(|_| use_provider);
        let mut native_note =
            "the message has no date, so VoIP.ms's transcription cannot be looked up".to_owned();
        if !(force && provider.is_some())
            && let Some(day) = msg
                .date
                .as_deref()
                .and_then(|d| d.get(..10))
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            let range = DateRange::new(day, day).map_err(|e| e.to_string())?;
            match native::voicemail_rows(client, &msg.mailbox, &msg.folder, range).await {
                Ok(rows) => {
                    let found = rows
                        .iter()
                        .filter(|r| native::text(r, "date") == msg.date)
                        .find_map(|r| {
                            native::from_voicemail_row(r, &msg.mailbox, &msg.folder, "all")
                        });
                    if let Some(mut t) = found {
                        t.id = store.put(&t)?;
                        return Ok(Outcome::Found {
                            transcript: t,
                            answered: Answered::Voipms,
                        });
                    }
                    native_note = "VoIP.ms has no transcription of this message (transcription \
                                   must be on for the mailbox when it is left)"
                        .to_owned();
                }
                Err(e) => native_note = format!("VoIP.ms's transcriptions could not be read ({e})"),
            }
        }
        let Some(p) = provider else {
            let why = if self.provider.is_none() {
                "no transcription provider is configured ([transcription] in the profile, or VOIPMS_TRANSCRIPTION_URL)"
            } else {
                "transcription by the provider was not allowed for this request"
            };
            return Ok(Outcome::Missing {
                reason: format!("{native_note}; {why}"),
                recording: None,
            });
        };
        let audio = voicemail_wav(client, msg).await?;
        let seconds = msg.duration.as_deref().and_then(clock_seconds);
        let file_name = format!(
            "{}-{}-{}.wav",
            safe_name(&msg.mailbox),
            safe_name(&msg.folder),
            safe_name(&msg.num)
        );
        let got = p
            .transcribe(&Audio {
                bytes: &audio,
                file_name,
                mime: "audio/wav",
                seconds,
            })
            .await
            .map_err(|e| e.to_string())?;
        let t = Transcript {
            source: Source::Voicemail,
            voipms_ref,
            account: "all".to_owned(),
            call_date: msg.date.clone(),
            caller: msg.callerid.clone(),
            ..from_provider(p, got, seconds)
        };
        stored_from_provider(&store, p, t)
    }
}

/// The audio of a voicemail message as WAV (getVoicemailMessageFile, `format=wav`).
async fn voicemail_wav(client: &Client, msg: &VoicemailMessage) -> Result<Vec<u8>, String> {
    let mut params = Params::new();
    params.push("mailbox", msg.mailbox.as_str());
    params.push("folder", msg.folder.as_str());
    params.push("message_num", msg.num.as_str());
    params.push("format", "wav");
    let outcome = client
        .call_with_effect("getVoicemailMessageFile", &params, Effect::Read)
        .await
        .map_err(|e| e.to_string())?;
    let data = native::rows(&outcome.body, "message")
        .first()
        .and_then(|m| m.get("data").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| {
            format!(
                "getVoicemailMessageFile sent no audio for message {} of {}/{}",
                msg.num, msg.mailbox, msg.folder
            )
        })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("the voicemail audio is not valid base64: {e}"))?;
    if bytes.get(..4) != Some(b"RIFF".as_slice()) || bytes.get(8..12) != Some(b"WAVE".as_slice()) {
        return Err(format!(
            "message {} of {}/{} did not come back as a WAV file",
            msg.num, msg.mailbox, msg.folder
        ));
    }
    Ok(bytes)
}

/// A file name made of the id's safe characters.
fn safe_name(id: &str) -> String {
    let s: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    if s.is_empty() { "audio".to_owned() } else { s }
}
