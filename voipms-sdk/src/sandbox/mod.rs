//! A faithful, stateful simulation of a VoIP.ms account, in-process or on loopback HTTP.
//!
//! The sandbox answers all 226 methods the way VoIP.ms does, quirks included: requests are
//! validated from the [catalog](crate::catalog) (`missing_*` and `invalid_*` statuses, the CDR's
//! `no_callstatus` and 92-day cap, the SMS 160-byte limit and daily cap, `invalid_credentials`),
//! and answers carry the wire's habits (strings for scalars, mixed `"1"`/`1` flags, `no_*`
//! statuses for empty lists, a bare object for one-item file lists, an empty body for a
//! successful delConference). The account behind it is seeded and deterministic: DIDs,
//! sub-accounts, a phonebook with groups, caller-ID filters, forwardings, voicemail, SMS/MMS
//! history, call recordings and more than a year of realistic call history, all consistent with
//! each other. Every resource family the spec declares (`[[family]]`: call parking lots,
//! callbacks, IVRs, queues, ring groups, …) that no handler models by hand is a real record store
//! (`set*` creates or updates, `get*` reads back, `del*` deletes). The remaining methods without a
//! simulated domain are validated and answered from the spec's example response.
//!
//! Call recordings (MP3) and voicemail messages (MP3, WAV) are spoken clips, and VoIP.ms's own
//! transcriptions say their words; a voicemail message asked for in a GSM 06.10 format (`wav49`,
//! `gsm`) is a well-formed file of silence (as long as its clip when it has one), as the sandbox
//! ships no GSM encoder.
//!
//! ```
//! # async fn demo() -> Result<(), voipms_sdk::Error> {
//! use voipms_sdk::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::new(SandboxConfig::default());
//! let client = sandbox.client();
//! let balance = client.call("getBalance", voipms_sdk::Params::new()).await?;
//! assert_eq!(balance["status"], "success");
//! # Ok(()) }
//! ```
//!
//! Over HTTP (what `voipms sandbox serve` runs), on an ephemeral loopback port:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use voipms_sdk::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::new(SandboxConfig::default());
//! let server = sandbox.serve("127.0.0.1:0".parse()?).await?;
//! let client = voipms_sdk::Client::builder()
//!     .credentials(sandbox.username(), sandbox.password())
//!     .base_url(server.url())
//!     .build()?;
//! # let _ = client;
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod account;
mod calls;
mod cdr;
mod contacts;
mod core;
mod dids;
mod examples;
mod faults;
mod http;
mod inproc;
mod keyed;
mod media;
mod messaging;
mod records;
mod reference;
mod rng;
mod seed;
mod shared;
mod state;
mod tables;
mod time;
mod validate;
mod voicemail;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::catalog::METHODS;
use crate::client::{Client, ClientBuilder, RetryPolicy};
use crate::scalars::Date;
use crate::transport::Transport;

pub use faults::{Fault, FaultParseError, FaultRule, Faults, LostReply, Trigger};
#[doc(hidden)]
pub use http::router;
pub use http::{BodyGuard, MAX_HEAD, ServeOptions, ServerHandle};
pub use shared::StateLock;

use self::core::{Answer, Ctx, Limits};
use self::state::State;
use self::validate::{Args, Fail};

/// The base URL [`Sandbox::client`] is built with. Nothing is ever sent there: the in-process
/// transport answers every call (`.invalid` is a reserved name that cannot resolve).
pub const IN_PROCESS_URL: &str = "http://sandbox.invalid/api/v1/rest.php";

/// How the simulated account is set up.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Seed of the account's generated content (contacts, call history, messages…). Default 1.
    pub seed: u64,
    /// The API user name the sandbox accepts. Default `demo@example.com`.
    pub username: String,
    /// The API password the sandbox accepts. Default `sandbox`.
    pub password: String,
    /// The account's "today". `None` takes the current date of the server's wall clock (US
    /// Eastern standard time) when the account is created; either way it is fixed then and saved with the state. Dates outside the years
    /// 2000–2999 are clamped into them.
    pub today: Option<Date>,
    /// SMS (and, separately, MMS) the API sends per day before `limit_reached`. Default 100.
    pub sms_daily_limit: u32,
    /// Members a phonebook group holds before `max_phonebook`. Default 1000.
    pub group_member_limit: usize,
    /// Phonebook entries the account holds before `members_exceeded`. Default 10 000.
    pub phonebook_limit: usize,
    /// Call forwardings before `forwards_exceeded`. Default 4 (the documented cap).
    pub forwarding_limit: usize,
    /// What `getIP` reports as the caller's address. Default `203.0.113.10` (a documentation
    /// address).
    pub ip: String,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 1,
            username: "demo@example.com".into(),
            password: "sandbox".into(),
            today: None,
            sms_daily_limit: 100,
            group_member_limit: 1000,
            phonebook_limit: 10_000,
            forwarding_limit: 4,
            ip: "203.0.113.10".into(),
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("seed", &self.seed)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("today", &self.today)
            .field("sms_daily_limit", &self.sms_daily_limit)
            .field("group_member_limit", &self.group_member_limit)
            .field("phonebook_limit", &self.phonebook_limit)
            .field("forwarding_limit", &self.forwarding_limit)
            .field("ip", &self.ip)
            .finish()
    }
}

/// Why a sandbox could not be loaded, saved or served. Messages never contain the API password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The state file exists but could not be read.
    #[error("could not read the sandbox state {}: {source}", path.display())]
    Read {
        /// The state file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The state could not be written.
    #[error("could not save the sandbox state to {}: {source}; check that the directory is writable", path.display())]
    Write {
        /// The state file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not a sandbox state.
    #[error("{} is not a sandbox state file ({message}); delete it, or pass another path, to start a fresh account", path.display())]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The file was written by an incompatible version of the sandbox.
    #[error("{} holds a sandbox state of format {found}, but this build reads format {expected}; delete it to start a fresh account", path.display())]
    Version {
        /// The state file.
        path: PathBuf,
        /// The format in the file.
        found: u32,
        /// The format this build reads.
        expected: u32,
    },
    /// The lock of a shared state file could not be taken.
    #[error("could not lock the sandbox state {}: {message}", path.display())]
    Lock {
        /// The state file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Serving was asked on an address that is not loopback.
    #[error("the sandbox only listens on loopback addresses, and {addr} is not one: use 127.0.0.1:{port} (or [::1]:{port}); port 0 picks a free port", port = addr.port())]
    NotLoopback {
        /// The address refused.
        addr: SocketAddr,
    },
    /// The listening socket could not be opened.
    #[error("could not listen on {addr}: {source}; pick another port, or port 0 for any free one")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: io::Error,
    },
}

/// How a request arrived, which decides whether VoIP.ms reads it at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestEncoding {
    /// `GET` with a query string.
    Get,
    /// `POST` with a `multipart/form-data` body.
    Multipart,
    /// `POST` with `application/x-www-form-urlencoded`: VoIP.ms answers HTTP 500 with a SOAP
    /// fault.
    UrlEncoded,
    /// `POST` with any other body type: answered like `UrlEncoded`.
    OtherPost,
}

/// One request as received: every field, credentials and `method` included.
#[derive(Clone, Copy)]
pub struct SandboxRequest<'a> {
    /// How it arrived.
    pub encoding: RequestEncoding,
    /// Name/value pairs in order (query string first, then the body's fields).
    pub fields: &'a [(&'a str, &'a str)],
}

impl fmt::Debug for SandboxRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the password (nor any field that repeats it); long values as a length.
        let password = self
            .fields
            .iter()
            .find(|(k, _)| *k == "api_password")
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty());
        let mut m = f.debug_map();
        for (k, v) in self.fields {
            if *k == "api_password" || password.is_some_and(|pw| v.contains(pw)) {
                m.entry(k, &"[redacted]");
            } else if v.len() > 80 {
                m.entry(k, &format_args!("<{} bytes>", v.len()));
            } else {
                m.entry(k, v);
            }
        }
        m.finish()?;
        write!(f, " ({:?})", self.encoding)
    }
}

/// How an answer is delivered (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Answer after [`SandboxReply::delay`].
    Answer,
    /// Close the connection after the delay, without answering.
    Drop,
    /// Hold the request for the delay (past the client's timeout), then close without answering.
    Hang,
}

/// The sandbox's answer to one request.
#[derive(Debug, Clone)]
pub struct SandboxReply {
    /// HTTP status (200 for every API-level answer, errors included, as VoIP.ms does).
    pub http_status: u16,
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
    /// Wait this long before delivering.
    pub delay: Duration,
    /// Whether to deliver it.
    pub delivery: Delivery,
}

/// VoIP.ms answers JSON without a JSON content type; clients must not rely on it.
const JSON_CONTENT_TYPE: &str = "text/html; charset=UTF-8";

impl SandboxReply {
    fn json(body: Vec<u8>) -> Self {
        SandboxReply {
            http_status: 200,
            content_type: JSON_CONTENT_TYPE,
            body: Bytes::from(body),
            delay: Duration::ZERO,
            delivery: Delivery::Answer,
        }
    }

    fn fail(fail: &Fail) -> Self {
        let mut m = Map::new();
        if let Some(msg) = &fail.message {
            m.insert("message".into(), Value::String(msg.clone()));
        }
        SandboxReply::json(examples::body_with_status(fail.status, &m))
    }

    /// HTTP 503: the shared state file could not be read or written; nothing was changed.
    fn unavailable(why: &str) -> Self {
        SandboxReply {
            http_status: 503,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from(format!(
                "sandbox unavailable: {why}; nothing was changed, try again\n"
            )),
            delay: Duration::ZERO,
            delivery: Delivery::Answer,
        }
    }

    fn soap_fault() -> Self {
        SandboxReply {
            http_status: 500,
            content_type: "text/xml; charset=utf-8",
            body: Bytes::from_static(
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>Bad Request</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n",
            ),
            delay: Duration::ZERO,
            delivery: Delivery::Answer,
        }
    }
}

/// A simulated VoIP.ms account. Cheap to clone: clones share the account.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    username: String,
    password: String,
    limits: Limits,
    state: Mutex<State>,
    /// Set while faults are configured, so the common path skips the fault lock.
    faults_on: AtomicBool,
    faults: Mutex<faults::Engine>,
    /// Calls per method, indexed like the catalog.
    counts: Vec<AtomicU64>,
    /// Calls naming methods the catalog does not know.
    unknown_counts: Mutex<BTreeMap<String, u64>>,
    total: AtomicU64,
    /// The state file shared with other processes ([`Sandbox::open_shared`]).
    shared: Mutex<Option<shared::Shared>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("Sandbox")
            .field("username", &self.inner.username)
            .field("seed", &st.seed)
            .field("today", &st.today)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the state half-written in a way that matters
    // more than stopping the whole sandbox would: keep serving.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Today's date on the server's wall clock (see [`time::server_now`]).
fn system_today() -> Date {
    time::date_of(time::server_now())
}

impl Sandbox {
    /// A fresh account generated from `config.seed` (the same seed gives the same account).
    ///
    /// An empty user name or password in `config` is replaced by the default
    /// (`demo@example.com` / `sandbox`).
    pub fn new(config: SandboxConfig) -> Sandbox {
        // The history reaches more than a year back: keep the arithmetic inside chrono's range.
        let lo = Date::from_ymd_opt(2000, 1, 1).unwrap_or_default();
        let hi = Date::from_ymd_opt(2999, 12, 31).unwrap_or_default();
        let today = config.today.unwrap_or_else(system_today).clamp(lo, hi);
        let state = seed::account(config.seed, today);
        Sandbox::with_state(config, state)
    }

    fn with_state(config: SandboxConfig, state: State) -> Sandbox {
        let defaults = SandboxConfig::default();
        let pick = |v: String, d: String| if v.is_empty() { d } else { v };
        Sandbox {
            inner: Arc::new(Inner {
                username: pick(config.username, defaults.username),
                password: pick(config.password, defaults.password),
                limits: Limits {
                    sms_daily_limit: config.sms_daily_limit,
                    group_member_limit: config.group_member_limit,
                    phonebook_limit: config.phonebook_limit,
                    forwarding_limit: config.forwarding_limit,
                    ip: config.ip,
                },
                state: Mutex::new(state),
                faults_on: AtomicBool::new(false),
                faults: Mutex::new(faults::Engine::default()),
                counts: METHODS.iter().map(|_| AtomicU64::new(0)).collect(),
                unknown_counts: Mutex::new(BTreeMap::new()),
                total: AtomicU64::new(0),
                shared: Mutex::new(None),
            }),
        }
    }

    /// Loads the account saved at `path`; a missing file gives a fresh account from `config`.
    ///
    /// The saved state keeps its own seed and "today"; `config` supplies the credentials and
    /// limits.
    pub fn load(path: &Path, config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        match read_state(path)? {
            Some((state, _)) => Ok(Sandbox::with_state(config, state)),
            None => Ok(Sandbox::new(config)),
        }
    }

    /// Opens the account saved at `path` to share it with other processes (other servers, and
    /// programs that load, change and save the file under the same lock): every request is
    /// applied under `lock`, on the file's latest content (re-read when another process changed
    /// it), and every change is written back before it is answered. A change made by any of
    /// them is therefore seen by all, and no id is handed out twice. A missing file is created
    /// with a fresh account from `config`.
    ///
    /// Do not also [`save`](Self::save) a shared account: its file is always up to date, and a
    /// save from memory could undo another process's change.
    pub fn open_shared(
        path: &Path,
        config: SandboxConfig,
        file_lock: Arc<dyn StateLock>,
    ) -> Result<Sandbox, SandboxError> {
        let lock_err = |message| SandboxError::Lock {
            path: path.to_owned(),
            message,
        };
        let _held = file_lock.acquire().map_err(lock_err)?;
        let (sandbox, bytes) = match read_state(path)? {
            Some((state, bytes)) => (Sandbox::with_state(config.clone(), state), bytes),
            None => {
                let sandbox = Sandbox::new(config.clone());
                let bytes = sandbox.snapshot(path)?;
                write_atomically(path, &bytes)?;
                (sandbox, bytes)
            }
        };
        *lock(&sandbox.inner.shared) = Some(shared::Shared::new(
            path.to_owned(),
            file_lock.clone(),
            &config,
            &bytes,
        ));
        Ok(sandbox)
    }

    /// Whether the account is shared through its state file ([`open_shared`](Self::open_shared)).
    pub fn is_shared(&self) -> bool {
        lock(&self.inner.shared).is_some()
    }

    /// The whole account as the JSON a state file holds.
    fn snapshot(&self, path: &Path) -> Result<Vec<u8>, SandboxError> {
        // Serialize under the lock: a consistent snapshot.
        serde_json::to_vec(&*self.lock()).map_err(|e| SandboxError::Write {
            path: path.to_owned(),
            source: io::Error::other(e.to_string()),
        })
    }

    /// Saves the whole account to `path` as JSON, atomically: it is written to a temporary file
    /// in the same directory, then renamed over `path` (creating the directory if needed).
    pub fn save(&self, path: &Path) -> Result<(), SandboxError> {
        let bytes = self.snapshot(path)?;
        write_atomically(path, &bytes)
    }

    /// Puts the account back in its seeded state (same seed, same "today"). Call counts and
    /// faults are kept.
    pub fn reset(&self) {
        let (seed, today) = {
            let st = self.lock();
            (st.seed, st.today)
        };
        let fresh = seed::account(seed, today);
        // A shared account writes the reset through, like any other change.
        let mut shared = lock(&self.inner.shared);
        match shared.as_mut() {
            Some(sh) => {
                if let Err(e) = sh.apply(self, true, || *self.lock() = fresh) {
                    tracing::warn!("the sandbox could not be reset: {e}");
                }
            }
            None => *self.lock() = fresh,
        }
    }

    /// Funds the account with `dollars`, as a payment made in the VoIP.ms portal would (no API
    /// method adds money to one's own account): the balance grows and getTransactionHistory
    /// lists the payment.
    pub fn deposit(&self, dollars: u32) {
        let pay = || {
            let mut st = self.lock();
            let t = st.tick();
            let amount = i64::from(dollars) * time::DOLLAR;
            let uniqueid = st.next.transaction.to_string();
            st.next.transaction += 1;
            st.balance += amount;
            st.transactions.push(state::Transaction {
                t,
                uniqueid,
                kind: "Payment".into(),
                description: "Payment (portal)".into(),
                amount,
            });
        };
        let mut shared = lock(&self.inner.shared);
        match shared.as_mut() {
            Some(sh) => {
                if let Err(e) = sh.apply(self, true, pay) {
                    tracing::warn!("the sandbox deposit was not made: {e}");
                }
            }
            None => pay(),
        }
    }

    /// The API user name the sandbox accepts.
    pub fn username(&self) -> &str {
        &self.inner.username
    }

    /// The API password the sandbox accepts (for showing to the person who started it).
    pub fn password(&self) -> &str {
        &self.inner.password
    }

    /// The account's "today".
    pub fn today(&self) -> Date {
        self.lock().today
    }

    /// The account's clock: its server time now (the Eastern wall clock of the simulated
    /// account, which moves a little with each change and never past the real one).
    pub fn server_now(&self) -> chrono::NaiveDateTime {
        time::to_naive(self.lock().clock)
    }

    /// The account's seed.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// A transport that answers in-process, without sockets.
    pub fn transport(&self) -> Arc<dyn Transport> {
        Arc::new(inproc::InProcess::new(self.clone()))
    }

    /// A client builder wired to the in-process transport with the sandbox's credentials (set
    /// a retry policy or spacing before building).
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .public_credentials(self.username(), self.password())
            .base_url(IN_PROCESS_URL)
            .transport(self.transport())
    }

    /// A client that talks to this sandbox in-process, with the default retry policy.
    pub fn client(&self) -> Client {
        self.client_builder()
            .retry(RetryPolicy::default())
            .build()
            // The credentials are never empty (see `new`) and the URL is a constant.
            .expect("the sandbox client configuration is valid")
    }

    /// Replaces the fault injection settings ([`Faults::default`] turns faults off). Rule
    /// counters and the rate-limit window start afresh.
    pub fn set_faults(&self, faults: Faults) {
        let on = !faults.is_empty();
        *lock(&self.inner.faults) = faults::Engine::new(faults);
        self.inner.faults_on.store(on, Ordering::Release);
    }

    /// The fault injection settings in force.
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).faults.clone()
    }

    /// Faults injected since the settings were last set, by kind ([`Fault::kind`]: `5xx`,
    /// `cloudflare`, `timeout`, `lost`…; `ratelimit` for `api_limit_exceeded` answers).
    pub fn faults_injected(&self) -> BTreeMap<String, u64> {
        lock(&self.inner.faults)
            .injected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    /// Calls received per method name (every request that named a method, answered or not).
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        let mut out: BTreeMap<String, u64> = self
            .inner
            .counts
            .iter()
            .zip(METHODS)
            .filter_map(|(c, m)| {
                let n = c.load(Ordering::Relaxed);
                (n > 0).then(|| (m.name.to_owned(), n))
            })
            .collect();
        for (k, v) in lock(&self.inner.unknown_counts).iter() {
            out.insert(k.clone(), *v);
        }
        out
    }

    /// Total calls received.
    pub fn total_calls(&self) -> u64 {
        self.inner.total.load(Ordering::Relaxed)
    }

    /// Sets every call count back to zero.
    pub fn reset_counts(&self) {
        for c in &self.inner.counts {
            c.store(0, Ordering::Relaxed);
        }
        lock(&self.inner.unknown_counts).clear();
        self.inner.total.store(0, Ordering::Relaxed);
    }

    /// Serves the REST API at `http://ADDR/api/v1/rest.php` until the returned handle is shut
    /// down or dropped. Only loopback addresses are accepted; port 0 picks a free port (see
    /// [`ServerHandle::addr`]). Prints nothing.
    pub async fn serve(&self, addr: SocketAddr) -> Result<ServerHandle, SandboxError> {
        http::serve(self.clone(), addr, ServeOptions::default()).await
    }

    /// [`serve`](Self::serve) with other limits: body size (413 beyond it, nothing executed),
    /// header-read timeout, connection cap.
    pub async fn serve_with(
        &self,
        addr: SocketAddr,
        options: ServeOptions,
    ) -> Result<ServerHandle, SandboxError> {
        http::serve(self.clone(), addr, options).await
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    fn count(&self, index: Option<usize>, method: &str) {
        self.inner.total.fetch_add(1, Ordering::Relaxed);
        match index {
            Some(i) => {
                self.inner.counts[i].fetch_add(1, Ordering::Relaxed);
            }
            None => {
                // Bound the map: a client looping over garbage names must not grow it forever.
                let mut map = lock(&self.inner.unknown_counts);
                if map.len() < 1024 || map.contains_key(method) {
                    *map.entry(method.chars().take(64).collect()).or_insert(0) += 1;
                }
            }
        }
    }

    /// Answers one request: the core both transports share. Each request is applied to the
    /// account atomically.
    pub fn handle(&self, req: SandboxRequest<'_>) -> SandboxReply {
        if matches!(
            req.encoding,
            RequestEncoding::UrlEncoded | RequestEncoding::OtherPost
        ) {
            // VoIP.ms only reads multipart POST bodies; anything else gets a SOAP fault.
            return SandboxReply::soap_fault();
        }
        let mut method = None;
        let mut user = None;
        let mut pass = None;
        let mut params: Vec<(&str, &str)> = Vec::with_capacity(req.fields.len());
        for &(k, v) in req.fields {
            match k {
                "method" => method = Some(v),
                "api_username" => user = Some(v),
                "api_password" => pass = Some(v),
                _ => params.push((k, v)),
            }
        }
        let Some(method) = method.map(str::trim).filter(|m| !m.is_empty()) else {
            return SandboxReply::fail(&Fail::msg(
                "missing_method",
                "no `method` parameter reached the API (a POST body must be multipart/form-data)",
            ));
        };
        let index = METHODS.binary_search_by(|m| m.name.cmp(method)).ok();
        self.count(index, method);

        match (
            user.filter(|u| !u.is_empty()),
            pass.filter(|p| !p.is_empty()),
        ) {
            (Some(u), Some(p)) => {
                if !u.trim().eq_ignore_ascii_case(&self.inner.username)
                    || !same_secret(p, &self.inner.password)
                {
                    return SandboxReply::fail(&Fail::msg(
                        "invalid_credentials",
                        "api_username is the account e-mail and api_password the API password \
                         (the sandbox prints both when it starts)",
                    ));
                }
            }
            _ => {
                return SandboxReply::fail(&Fail::msg(
                    "missing_credentials",
                    "send api_username and api_password with every call",
                ));
            }
        }

        let decision = if self.inner.faults_on.load(Ordering::Acquire) {
            lock(&self.inner.faults).decide(method, Instant::now())
        } else {
            faults::Decision::default()
        };
        let delayed = |mut r: SandboxReply| {
            r.delay = decision.delay;
            r
        };
        let spoil = match decision.action {
            faults::Action::Proceed => None,
            faults::Action::Spoil(s) => Some(s),
            faults::Action::Reject {
                http_status,
                content_type,
                ref body,
            } => {
                return delayed(SandboxReply {
                    http_status,
                    content_type,
                    body: body.clone(),
                    delay: Duration::ZERO,
                    delivery: Delivery::Answer,
                });
            }
            faults::Action::Status(ref s) => {
                let mut m = Map::new();
                if s == "api_limit_exceeded" {
                    m.insert(
                        "message".into(),
                        Value::String("API requests limit per minute has been reached".into()),
                    );
                }
                return delayed(SandboxReply::json(examples::body_with_status(s, &m)));
            }
            faults::Action::Hang(t) => {
                return SandboxReply {
                    http_status: 0,
                    content_type: JSON_CONTENT_TYPE,
                    body: Bytes::new(),
                    delay: decision.delay + t,
                    delivery: Delivery::Hang,
                };
            }
        };

        let Some(index) = index else {
            return delayed(SandboxReply::fail(&Fail::msg(
                "invalid_method",
                "not a VoIP.ms API method: names are case-sensitive camelCase, such as \
                 getDIDsInfo (the catalog lists all 226)",
            )));
        };
        let args = Args::new(&params);
        let result = match validate::validate(index, &args) {
            Err(fail) => Err(fail),
            Ok(()) => match self.dispatch_shared(index, &args) {
                Ok(res) => res,
                Err(unavailable) => return delayed(unavailable),
            },
        };
        // A `test=1` call of a method that takes `test` is VoIP.ms's dry run: `success_test`.
        let dry_run = args.dry_run() && METHODS[index].param("test").is_some();
        let success = if dry_run { "success_test" } else { "success" };
        let mut reply = match result {
            Ok(Answer::Fields(map)) => {
                SandboxReply::json(examples::body_with_status(success, &map))
            }
            Ok(Answer::Body(body)) if dry_run => {
                match serde_json::from_slice::<Map<String, Value>>(&body) {
                    Ok(map) => SandboxReply::json(examples::body_with_status(success, &map)),
                    Err(_) => SandboxReply {
                        body,
                        ..SandboxReply::json(Vec::new())
                    },
                }
            }
            Ok(Answer::Body(body)) => SandboxReply {
                body,
                ..SandboxReply::json(Vec::new())
            },
            Ok(Answer::Empty) => SandboxReply::json(Vec::new()),
            Err(fail) => {
                let empty = METHODS[index].is_empty_status(fail.status);
                if empty {
                    // "Nothing to list" carries no message on the wire.
                    SandboxReply::fail(&Fail::new(fail.status))
                } else {
                    SandboxReply::fail(&fail)
                }
            }
        };
        match spoil {
            None => {}
            Some(faults::Spoil::Empty) => reply.body = Bytes::new(),
            Some(faults::Spoil::Truncate) => {
                let cut = reply.body.len() / 2;
                reply.body.truncate(cut);
            }
            Some(faults::Spoil::BadGateway) => {
                reply.http_status = 502;
                reply.content_type = "text/html";
                reply.body = Bytes::from(faults::nginx_page(502));
            }
            Some(faults::Spoil::Drop) => reply.delivery = Delivery::Drop,
        }
        delayed(reply)
    }

    /// Dispatches on the latest shared state (when shared), writing a change through before it
    /// is answered; `Err` is the answer when the state file cannot be read or written (nothing
    /// was changed then).
    fn dispatch_shared(&self, index: usize, args: &Args<'_>) -> Result<core::Res, SandboxReply> {
        let mut shared = lock(&self.inner.shared);
        let Some(sh) = shared.as_mut() else {
            return Ok(self.dispatch(index, args));
        };
        sh.apply(self, METHODS[index].effect.is_mutating(), || {
            self.dispatch(index, args)
        })
        .map_err(|e| SandboxReply::unavailable(&e))
    }

    fn dispatch(&self, index: usize, args: &Args<'_>) -> core::Res {
        let limits = &self.inner.limits;
        if let Some(res) = core::stateless(index, args, limits) {
            return res;
        }
        let mut st = self.lock();
        let mut cx = Ctx {
            st: &mut st,
            limits,
        };
        core::stateful(index, args, &mut cx)
    }
}

/// Reads a state file: `None` when there is none; the state and the bytes it was read from.
fn read_state(path: &Path) -> Result<Option<(State, Vec<u8>)>, SandboxError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SandboxError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let state = parse_state(path, &bytes)?;
    Ok(Some((state, bytes)))
}

fn parse_state(path: &Path, bytes: &[u8]) -> Result<State, SandboxError> {
    #[derive(serde::Deserialize)]
    struct Header {
        format: u32,
    }
    let header: Header = serde_json::from_slice(bytes).map_err(|e| SandboxError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    if header.format != state::FORMAT {
        return Err(SandboxError::Version {
            path: path.to_owned(),
            found: header.format,
            expected: state::FORMAT,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| SandboxError::Corrupt {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Writes `bytes` to a temporary file in `path`'s directory (created if needed), then renames
/// it over `path`: readers see the old file or the new one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    let write_err = |source| SandboxError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let name = path
        .file_name()
        .map_or_else(|| "sandbox".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_err)
}

/// Compares secrets without an early exit on the first differing byte.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
