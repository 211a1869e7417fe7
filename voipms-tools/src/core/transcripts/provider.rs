//! Transcription providers, behind one trait: any OpenAI-compatible
//! `POST {base}/v1/audio/transcriptions` endpoint (OpenAI, Groq, whisper.cpp's server,
//! faster-whisper servers). Off until configured:
//!
//! ```toml
//! [profiles.main.transcription]
//! base_url = "https://api.openai.com"   # …/v1 works too
//! model = "whisper-1"                   # default
//! key_file = "~/.config/voipms/openai.key"   # chmod 600; no key for a local server
//! language = "en"                       # optional hint
//! name = "openai"                       # optional; default: the URL's host
//! max_bytes = 25000000                  # optional size guard (default 25 MB)
//! max_seconds = 7200                    # optional duration guard (default 2 hours)
//! ```
//!
//! or the environment: `VOIPMS_TRANSCRIPTION_URL`, `VOIPMS_TRANSCRIPTION_MODEL`,
//! `VOIPMS_TRANSCRIPTION_KEY` (which win over the profile). The key is registered as a secret
//! (masked in every output) and only ever sent in the `Authorization` header.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;

use super::Segment;
use crate::core::config::{self, ConfigFile, Lookup};
use crate::core::exit::Failure;
use crate::core::secrets;

/// Environment variable: the provider's base URL (turns transcription on).
pub const ENV_URL: &str = "VOIPMS_TRANSCRIPTION_URL";
/// Environment variable: the model.
pub const ENV_MODEL: &str = "VOIPMS_TRANSCRIPTION_MODEL";
/// Environment variable: the API key.
pub const ENV_KEY: &str = "VOIPMS_TRANSCRIPTION_KEY";
/// The model when none is configured.
pub const DEFAULT_MODEL: &str = "whisper-1";
/// The size guard when none is configured (OpenAI's limit).
pub const DEFAULT_MAX_BYTES: usize = 25_000_000;
/// The duration guard when none is configured.
pub const DEFAULT_MAX_SECONDS: f64 = 7200.0;

/// Audio to transcribe.
#[derive(Debug)]
pub struct Audio<'a> {
    /// The file's bytes.
    pub bytes: &'a [u8],
    /// File name sent with it (the extension tells the provider the format).
    pub file_name: String,
    /// MIME type.
    pub mime: &'static str,
    /// Its length, when known (for the duration guard).
    pub seconds: Option<f64>,
}

/// What a provider made of it.
#[derive(Debug, Clone)]
pub struct Transcription {
    /// The whole text.
    pub text: String,
    /// Language detected or used.
    pub language: Option<String>,
    /// Length of the audio in seconds, as the provider measured it.
    pub duration: Option<f64>,
    /// Timed segments.
    pub segments: Vec<Segment>,
}

/// A boxed future (the trait stays object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A transcription provider.
pub trait Transcriber: Send + Sync {
    /// Its name, stored as the transcript's origin.
    fn name(&self) -> &str;
    /// The model it uses.
    fn model(&self) -> &str;
    /// Transcribes `audio`.
    fn transcribe<'a>(
        &'a self,
        audio: &'a Audio<'a>,
    ) -> BoxFuture<'a, Result<Transcription, String>>;
}

/// An OpenAI-compatible provider's settings. `Debug` hides the key.
#[derive(Clone)]
pub struct Config {
    /// Base URL (`https://api.openai.com` or `…/v1`).
    pub base_url: String,
    /// Model.
    pub model: String,
    /// API key, if the server needs one.
    pub key: Option<String>,
    /// Language hint (ISO 639-1, such as `en`).
    pub language: Option<String>,
    /// Name stored as the transcripts' origin.
    pub name: String,
    /// Largest file sent.
    pub max_bytes: usize,
    /// Longest audio sent, in seconds.
    pub max_seconds: f64,
    /// Where the settings came from (for messages).
    pub from: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &secrets::mask_userinfo(&self.base_url))
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| secrets::MASK))
            .field("language", &self.language)
            .field("name", &self.name)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn expand_home(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().map_or_else(|| PathBuf::from(p), |h| h.join(rest)),
        None => PathBuf::from(p),
    }
}

/// Reads a key file (owner-only on Unix, like the config file).
fn read_key_file(path: &Path) -> Result<String, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            return Err(Failure::config(format!(
                "the transcription key file {} can be read by other users; it was not used. Fix: chmod 600 {}",
                path.display(),
                path.display()
            )));
        }
    }
    let key = std::fs::read_to_string(path).map_err(|e| {
        Failure::config(format!(
            "cannot read the transcription key file {}: {e}",
            path.display()
        ))
    })?;
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err(Failure::config(format!(
            "the transcription key file {} is empty",
            path.display()
        )));
    }
    Ok(key)
}

impl Config {
    /// The provider settings of this run: the environment, else the profile's
    /// `[transcription]` table; `Ok(None)` when transcription is not configured.
    pub fn resolve(lookup: &Lookup) -> Result<Option<Config>, Failure> {
        let table = profile_table(lookup)?;
        let get = |k: &str| -> Result<Option<String>, Failure> {
            match table.as_ref().and_then(|(_, t)| t.get(k)) {
                None => Ok(None),
                Some(toml::Value::String(s)) if !s.trim().is_empty() => {
                    Ok(Some(s.trim().to_owned()))
                }
                Some(toml::Value::Integer(i)) => Ok(Some(i.to_string())),
                Some(_) => Err(Failure::config(format!(
                    "[transcription] {k} must be a string or a number"
                ))),
            }
        };
        if let Some((where_, t)) = &table {
            for k in t.keys() {
                if ![
                    "base_url",
                    "model",
                    "key_file",
                    "language",
                    "name",
                    "max_bytes",
                    "max_seconds",
                ]
                .contains(&k.as_str())
                {
                    return Err(Failure::config(format!(
                        "{where_}: unknown key `{k}` in [transcription] (known: base_url, model, \
                         key_file, language, name, max_bytes, max_seconds)"
                    )));
                }
            }
        }
        let (base_url, from) = match env_var(ENV_URL) {
            Some(u) => (u, ENV_URL.to_owned()),
            None => match get("base_url")? {
                Some(u) => (
                    u,
                    table.as_ref().map(|(w, _)| w.clone()).unwrap_or_default(),
                ),
                None => return Ok(None),
            },
        };
        let parsed = url::Url::parse(&base_url).map_err(|e| {
            Failure::config(format!(
                "the transcription base URL `{}` ({from}) is not a URL: {e}",
                secrets::mask_userinfo(&base_url)
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Failure::config(format!(
                "the transcription base URL ({from}) must start with https:// (or http:// for a local server)"
            )));
        }
        let key = match env_var(ENV_KEY) {
            Some(k) => Some(k.trim().to_owned()),
            None => match get("key_file")? {
                Some(p) => Some(read_key_file(&expand_home(&p))?),
                None => None,
            },
        };
        if let Some(k) = &key {
            secrets::add_secret(k);
        }
        let number = |k: &str, default: f64| -> Result<f64, Failure> {
            match get(k)? {
                None => Ok(default),
                Some(v) => v.parse::<f64>().ok().filter(|n| *n > 0.0).ok_or_else(|| {
                    Failure::config(format!("[transcription] {k} must be a positive number"))
                }),
            }
        };
        Ok(Some(Config {
            name: get("name")?
                .or_else(|| {
                    parsed.host_str().map(|h| {
                        parsed
                            .port()
                            .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
                    })
                })
                .unwrap_or_else(|| "provider".to_owned()),
            model: env_var(ENV_MODEL)
                .or(get("model")?)
                .unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
            language: get("language")?,
            max_bytes: number("max_bytes", DEFAULT_MAX_BYTES as f64)? as usize,
            max_seconds: number("max_seconds", DEFAULT_MAX_SECONDS)?,
            base_url,
            key,
            from,
        }))
    }

    /// The transcription endpoint.
    pub fn endpoint(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        if base.ends_with("/audio/transcriptions") {
            base.to_owned()
        } else if base.ends_with("/v1") {
            format!("{base}/audio/transcriptions")
        } else {
            format!("{base}/v1/audio/transcriptions")
        }
    }
}

/// The profile's `[transcription]` table and where it is, when the config file has one.
fn profile_table(lookup: &Lookup) -> Result<Option<(String, toml::Table)>, Failure> {
    let Some(path) = config::config_path(lookup.config.as_deref()) else {
        return Ok(None);
    };
    if !path.exists() {
        return Ok(None);
    }
    let file = ConfigFile::read(&path)?;
    let profile = lookup
        .profile
        .clone()
        .or_else(|| env_var(config::ENV_PROFILE));
    // Credentials may come from the environment while the file holds the provider: a file whose
    // profile cannot be chosen simply has no [transcription] for this run.
    let Ok((name, table)) = file.profile(profile.as_deref()) else {
        return Ok(None);
    };
    match table.get("transcription") {
        None => Ok(None),
        Some(toml::Value::Table(t)) => Ok(Some((
            format!("profile `{name}` of {}", path.display()),
            t.clone(),
        ))),
        Some(_) => Err(Failure::config(format!(
            "{}: profiles.{name}.transcription must be a table ([profiles.{name}.transcription])",
            path.display()
        ))),
    }
}

/// An OpenAI-compatible `/v1/audio/transcriptions` endpoint.
#[derive(Debug)]
pub struct OpenAiCompatible {
    config: Config,
    http: reqwest::Client,
    /// First retry delay (doubled each time) when the answer gives no `Retry-After`.
    backoff: Duration,
    /// Attempts in all (first try included).
    attempts: u32,
}

impl OpenAiCompatible {
    /// A provider with `config`.
    pub fn new(config: Config) -> Result<Self, String> {
        voipms_sdk::transport::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("voipms/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(OpenAiCompatible {
            config,
            http,
            backoff: Duration::from_millis(
                env_var("VOIPMS_TRANSCRIPTION_BACKOFF_MS")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1000),
            ),
            attempts: 4,
        })
    }

    /// The first retry delay (tests shorten it).
    #[cfg(test)]
    pub fn with_backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    fn form(&self, audio: &Audio<'_>) -> Result<reqwest::multipart::Form, String> {
        let part = reqwest::multipart::Part::bytes(audio.bytes.to_vec())
            .file_name(audio.file_name.clone())
            .mime_str(audio.mime)
            .map_err(|e| format!("bad MIME type {}: {e}", audio.mime))?;
        let mut form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("model", self.config.model.clone())
            .text("response_format", "verbose_json");
        if let Some(l) = &self.config.language {
            form = form.text("language", l.clone());
        }
        Ok(form)
    }

    async fn run(&self, audio: &Audio<'_>) -> Result<Transcription, String> {
        let name = &self.config.name;
        if audio.bytes.len() > self.config.max_bytes {
            return Err(format!(
                "the audio is {} bytes, more than the {} bytes this provider is allowed (max_bytes \
                 of [transcription]); nothing was sent",
                audio.bytes.len(),
                self.config.max_bytes
            ));
        }
        if let Some(s) = audio.seconds.filter(|s| *s > self.config.max_seconds) {
            return Err(format!(
                "the audio is {s:.0} seconds long, more than the {:.0} allowed (max_seconds of \
                 [transcription]); nothing was sent",
                self.config.max_seconds
            ));
        }
        if audio.bytes.is_empty() {
            return Err("the audio is empty; nothing was sent".to_owned());
        }
        let url = self.config.endpoint();
        let mut delay = self.backoff;
        for attempt in 1..=self.attempts {
            let mut req = self.http.post(&url).multipart(self.form(audio)?);
            if let Some(k) = &self.config.key {
                req = req.bearer_auth(k);
            }
            let last = attempt == self.attempts;
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if !last && (e.is_connect() || e.is_timeout()) => {
                    tracing::warn!(
                        attempt,
                        "transcription provider {name}: {}",
                        e.without_url()
                    );
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    continue;
                }
                Err(e) => {
                    return Err(format!(
                        "cannot reach the transcription provider {name} ({}): {}",
                        secrets::mask_userinfo(&url),
                        e.without_url()
                    ));
                }
            };
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = resp
                .bytes()
                .await
                .map_err(|e| format!("the answer of {name} broke off: {}", e.without_url()))?;
            if (status == 429 || (500..600).contains(&status)) && !last {
                let wait = retry_after.map_or(delay, |s| Duration::from_secs(s.min(60)));
                tracing::warn!(
                    attempt,
                    status,
                    "transcription provider {name} busy; retrying in {wait:?}"
                );
                tokio::time::sleep(wait).await;
                delay *= 2;
                continue;
            }
            return interpret(name, status, &body, audio, self.attempts);
        }
        unreachable!("the last attempt returns")
    }
}

/// The provider's own message in an error body: `error.message`, `detail`, or the text.
fn provider_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error"))
            .or_else(|| v.get("detail"))
            .or_else(|| v.get("message"))
            .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
    });
    let msg = from_json.unwrap_or_else(|| text.trim().to_owned());
    let msg: String = msg.chars().take(300).collect();
    secrets::redact(&msg).into_owned()
}

fn interpret(
    name: &str,
    status: u16,
    body: &[u8],
    audio: &Audio<'_>,
    attempts: u32,
) -> Result<Transcription, String> {
    match status {
        200..=299 => {}
        401 | 403 => {
            return Err(format!(
                "the transcription provider {name} refused the API key (HTTP {status}): check \
                 {ENV_KEY} or key_file in [transcription] ({})",
                provider_message(body)
            ));
        }
        413 => {
            return Err(format!(
                "the audio ({} bytes) is too large for the transcription provider {name} (HTTP \
                 413); set a lower max_bytes in [transcription] to skip such files without sending them",
                audio.bytes.len()
            ));
        }
        400 | 415 | 422 => {
            let msg = provider_message(body);
            let lower = msg.to_ascii_lowercase();
            if [
                "format",
                "unsupported",
                "decode",
                "invalid file",
                "could not process",
                "audio",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                return Err(format!(
                    "the transcription provider {name} cannot read this audio ({}, {}): {msg}",
                    audio.mime, audio.file_name
                ));
            }
            return Err(format!(
                "the transcription provider {name} refused the request (HTTP {status}): {msg}"
            ));
        }
        429 | 500..=599 => {
            return Err(format!(
                "the transcription provider {name} is unavailable (HTTP {status}) after {attempts} \
                 attempts: {}; try again later",
                provider_message(body)
            ));
        }
        _ => {
            return Err(format!(
                "the transcription provider {name} answered HTTP {status}: {}",
                provider_message(body)
            ));
        }
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        let start: String = String::from_utf8_lossy(body).chars().take(60).collect();
        format!(
            "the transcription provider {name} answered with something that is not JSON ({} \
             bytes, starting `{}`): is the base URL an OpenAI-compatible server?",
            body.len(),
            secrets::redact(start.trim())
        )
    })?;
    let Some(text) = v.get("text").and_then(Value::as_str) else {
        return Err(format!(
            "the transcription provider {name} answered JSON without a `text` field"
        ));
    };
    // What the provider wrote is kept and shown: a secret it echoes (its key, say) is masked
    // before it can reach the store.
    let clean = |t: &str| secrets::redact(t.trim()).into_owned();
    let segments = v
        .get("segments")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| {
                    Some(Segment {
                        start: s.get("start")?.as_f64()?,
                        end: s.get("end").and_then(Value::as_f64).unwrap_or(0.0),
                        speaker: s.get("speaker").and_then(Value::as_str).map(clean),
                        text: clean(s.get("text")?.as_str()?),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Transcription {
        text: clean(text),
        language: v.get("language").and_then(Value::as_str).map(clean),
        duration: v.get("duration").and_then(Value::as_f64),
        segments,
    })
}

impl Transcriber for OpenAiCompatible {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    fn transcribe<'a>(
        &'a self,
        audio: &'a Audio<'a>,
    ) -> BoxFuture<'a, Result<Transcription, String>> {
        Box::pin(self.run(audio))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::extract::{Multipart, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    use super::*;

    #[derive(Default)]
    struct Seen {
        calls: usize,
        fields: Vec<(String, String, Option<String>, usize)>,
        auth: Vec<String>,
    }

    type Shared = Arc<(Mutex<Seen>, Vec<(u16, &'static str)>)>;

    async fn handler(
        State(s): State<Shared>,
        headers: HeaderMap,
        mut mp: Multipart,
    ) -> impl IntoResponse {
        let mut fields = Vec::new();
        while let Ok(Some(f)) = mp.next_field().await {
            let name = f.name().unwrap_or_default().to_owned();
            let file = f.file_name().map(str::to_owned);
            let data = f.bytes().await.unwrap_or_default();
            fields.push((
                name,
                String::from_utf8_lossy(&data).into_owned(),
                file,
                data.len(),
            ));
        }
        let mut seen = s.0.lock().unwrap();
        let i = seen.calls.min(s.1.len() - 1);
        seen.calls += 1;
        seen.fields = fields;
        seen.auth.push(
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        );
        let (status, body) = s.1[i];
        let mut h = HeaderMap::new();
        if status == 429 {
            h.insert("retry-after", "0".parse().unwrap());
        }
        (StatusCode::from_u16(status).unwrap(), h, body)
    }

    const OK: &str = r#"{"text": " Hello there. ", "language": "english", "duration": 2.0,
        "segments": [{"start": 0.0, "end": 1.2, "text": " Hello"}, {"start": 1.2, "end": 2.0, "text": " there."}]}"#;

    fn serve(answers: Vec<(u16, &'static str)>) -> (String, Shared) {
        let shared: Shared = Arc::new((Mutex::new(Seen::default()), answers));
        let app = axum::Router::new()
            .route("/v1/audio/transcriptions", axum::routing::post(handler))
            .with_state(shared.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        (format!("http://{addr}"), shared)
    }

    fn provider(base: &str, key: Option<&str>) -> OpenAiCompatible {
        OpenAiCompatible::new(Config {
            base_url: base.to_owned(),
            model: "whisper-test".into(),
            key: key.map(str::to_owned),
            language: Some("en".into()),
            name: "fake".into(),
            max_bytes: 1000,
            max_seconds: 60.0,
            from: "test".into(),
        })
        .unwrap()
        .with_backoff(Duration::from_millis(10))
    }

    fn run(
        p: &OpenAiCompatible,
        bytes: &[u8],
        seconds: Option<f64>,
    ) -> Result<Transcription, String> {
        let audio = Audio {
            bytes,
            file_name: "rec1.mp3".into(),
            mime: "audio/mpeg",
            seconds,
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(p.transcribe(&audio))
    }

    #[test]
    fn upload_has_the_fields_the_file_and_the_key() {
        let (base, seen) = serve(vec![(200, OK)]);
        let t = run(
            &provider(&base, Some("sk-sentinel-123")),
            b"ID3fakeaudio",
            Some(2.0),
        )
        .unwrap();
        assert_eq!(t.text, "Hello there.");
        assert_eq!(t.segments.len(), 2);
        assert_eq!(t.segments[1].text, "there.");
        let s = seen.0.lock().unwrap();
        let field = |n: &str| s.fields.iter().find(|f| f.0 == n).cloned().unwrap();
        assert_eq!(field("model").1, "whisper-test");
        assert_eq!(field("response_format").1, "verbose_json");
        assert_eq!(field("language").1, "en");
        let file = field("file");
        assert_eq!(file.2.as_deref(), Some("rec1.mp3"));
        assert_eq!(file.1, "ID3fakeaudio");
        assert_eq!(s.auth, ["Bearer sk-sentinel-123"]);
    }

    #[test]
    fn retries_429_then_succeeds() {
        let (base, seen) = serve(vec![
            (429, r#"{"error":{"message":"slow down"}}"#),
            (429, ""),
            (200, OK),
        ]);
        let t = run(&provider(&base, None), b"x", None).unwrap();
        assert_eq!(t.text, "Hello there.");
        let s = seen.0.lock().unwrap();
        assert_eq!(s.calls, 3);
        assert_eq!(s.auth[0], "", "no key configured, no header");
    }

    /// A provider that echoes the request's key in its transcript: the key (a registered
    /// secret) never reaches the transcript, so never the store, its exports or any output.
    #[test]
    fn a_secret_echoed_in_the_transcript_is_masked() {
        let key = "sk-echoed-sentinel-4242";
        secrets::add_secret(key);
        let body = format!(
            r#"{{"text":"hello Bearer {key}","language":"en {key}","segments":[{{"start":0,"end":1,"text":"{key}","speaker":"{key}"}}]}}"#
        );
        let (base, _) = serve(vec![(200, Box::leak(body.into_boxed_str()))]);
        let t = run(&provider(&base, Some(key)), b"x", None).unwrap();
        let all = format!("{t:?}");
        assert!(!all.contains(key), "{all}");
        assert_eq!(t.text, format!("hello Bearer {}", secrets::MASK));
    }

    #[test]
    fn errors_are_clear() {
        let (base, _) = serve(vec![(
            401,
            r#"{"error":{"message":"Incorrect API key provided"}}"#,
        )]);
        let e = run(&provider(&base, Some("sk-sentinel-123")), b"x", None).unwrap_err();
        assert!(e.contains("refused the API key (HTTP 401)"), "{e}");
        assert!(!e.contains("sk-sentinel"), "{e}");

        let (base, seen) = serve(vec![(503, "<html>down</html>")]);
        let e = run(&provider(&base, None), b"x", None).unwrap_err();
        assert!(e.contains("unavailable (HTTP 503) after 4 attempts"), "{e}");
        assert_eq!(seen.0.lock().unwrap().calls, 4);

        let (base, _) = serve(vec![(200, "<html>hello</html>")]);
        let e = run(&provider(&base, None), b"x", None).unwrap_err();
        assert!(e.contains("not JSON"), "{e}");

        let (base, _) = serve(vec![(413, "too big")]);
        let e = run(&provider(&base, None), b"x", None).unwrap_err();
        assert!(e.contains("too large"), "{e}");

        let (base, _) = serve(vec![(
            400,
            r#"{"error":{"message":"Invalid file format. Supported formats: flac, mp3"}}"#,
        )]);
        let e = run(&provider(&base, None), b"x", None).unwrap_err();
        assert!(e.contains("cannot read this audio"), "{e}");

        // The guards send nothing.
        let (base, seen) = serve(vec![(200, OK)]);
        let e = run(&provider(&base, None), &[0u8; 2000], None).unwrap_err();
        assert!(e.contains("nothing was sent"), "{e}");
        let e = run(&provider(&base, None), b"x", Some(3600.0)).unwrap_err();
        assert!(e.contains("seconds long"), "{e}");
        assert_eq!(seen.0.lock().unwrap().calls, 0);
    }

    #[test]
    fn endpoint_forms() {
        let mut c = provider("http://h", None).config;
        assert_eq!(c.endpoint(), "http://h/v1/audio/transcriptions");
        c.base_url = "https://api.groq.com/openai/v1/".into();
        assert_eq!(
            c.endpoint(),
            "https://api.groq.com/openai/v1/audio/transcriptions"
        );
        assert!(!format!("{c:?}").contains("sk-"));
    }
}
