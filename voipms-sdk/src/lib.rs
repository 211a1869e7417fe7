//! Rust SDK for the [VoIP.ms](https://voip.ms) REST/JSON API.
//!
//! - [`api`]: a typed request and response for each of the 226 methods, generated from
//!   `api-spec/` (one cargo feature per category, all on by default).
//! - [`Client`]: credentials, transport, retries and status handling, shared by every call.
//! - [`catalog`]: the static description of every method (what the CLI and MCP server read).
//! - [`status`]: every status code with its meaning, class and hint.
//! - Hand-written helpers over the typed API, idempotent and with dry runs: `phonebook`,
//!   `spam`, `cdr` (export over any range), `recordings`, `filters`, `sms`, `account`, with
//!   [`numbers`] normalising phone numbers for all of them and [`dates`] giving every timestamp
//!   one meaning (server time).
//! - `sandbox` (feature `sandbox`): a simulated VoIP.ms account, in-process or on loopback HTTP.
//!
//! # Cargo features
//!
//! Each API category is a feature (`cdr`, `sms`, `phonebook`, …, the names of the [`api`]
//! modules); `full`, the default, turns them all on. The catalog, the status table, the
//! transport, raw calls ([`Client::call`]), [`numbers`], [`dates`] and [`ops`] are always there.
//! A helper needs the categories whose methods it calls:
//!
//! | helper | features |
//! |---|---|
//! | `cdr` (`CdrQuery` export) | `cdr` |
//! | `sms` (`Messaging`) | `sms` (MMS also needs `mms`) |
//! | `recordings` (`Recordings`) | `call_recordings`, `cdr` |
//! | `phonebook` (`Phonebook`) | `phonebook` |
//! | `filters` (`Filters`) | `callerid_filtering`, `phonebook` |
//! | `account` (`Account`) | `account`, `dids` |
//! | `spam` (`SpamGuard`) | `phonebook`, `callerid_filtering`, `cdr`, `dids`, `account`, `sms` |
//! | `sandbox` | `sandbox` (not in `full`; answers every method whatever categories are on) |
//!
//! The helpers' main types are re-exported at the root (`voipms_sdk::{CdrQuery, MessageQuery,
//! SuggestOptions, …}`) next to the helpers themselves.
//!
//! For example, a program that only exports call records:
//! `voipms-sdk = { version = "…", default-features = false, features = ["cdr"] }`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), voipms_sdk::Error> {
//! use voipms_sdk::{Client, api::GetBalance};
//! let client = Client::builder().credentials("me@example.com", "api-password").build()?;
//! let balance = client.send(&GetBalance::new().advanced(true)).await?;
//! println!("{:?}", balance.balance);
//! # Ok(()) }
//! ```

// docs.rs builds with `--cfg docsrs` (see Cargo.toml): feature-gated items say what they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
pub mod catalog;
mod client;
pub mod decode;
mod error;
pub mod outfile;
pub mod redact;
pub mod request;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod scalars;
pub mod status;
pub mod transport;
pub mod wire;

// Hand-written helpers over the typed API (each gated on the categories it uses).
#[cfg(all(feature = "account", feature = "dids"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "account", feature = "dids"))))]
pub mod account;
#[cfg(feature = "cdr")]
#[cfg_attr(docsrs, doc(cfg(feature = "cdr")))]
pub mod cdr;
pub mod dates;
#[cfg(all(feature = "callerid_filtering", feature = "phonebook"))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(feature = "callerid_filtering", feature = "phonebook")))
)]
pub mod filters;
pub mod numbers;
// With only some categories compiled, parts of the shared helper machinery go unused.
#[cfg_attr(not(feature = "full"), allow(dead_code))]
pub mod ops;
#[cfg(feature = "phonebook")]
#[cfg_attr(docsrs, doc(cfg(feature = "phonebook")))]
pub mod phonebook;
#[cfg(all(feature = "call_recordings", feature = "cdr"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "call_recordings", feature = "cdr"))))]
pub mod recordings;
#[cfg(feature = "sms")]
#[cfg_attr(docsrs, doc(cfg(feature = "sms")))]
pub mod sms;
#[cfg(all(
    feature = "phonebook",
    feature = "callerid_filtering",
    feature = "cdr",
    feature = "dids",
    feature = "account",
    feature = "sms"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(
        feature = "phonebook",
        feature = "callerid_filtering",
        feature = "cdr",
        feature = "dids",
        feature = "account",
        feature = "sms"
    )))
)]
pub mod spam;
#[cfg(feature = "phonebook")]
#[cfg_attr(not(feature = "full"), allow(dead_code))]
mod steps;

pub use client::{
    Call, Client, ClientBuilder, Credentials, DEFAULT_BASE_URL, ENV_PASSWORD, ENV_URL,
    ENV_USERNAME, MULTIPART_THRESHOLD, Outcome, RETRY_LOG_TARGET, RetryPolicy,
};
pub use error::{ApiError, BodyProblem, Error, TransportKind};
pub use request::{Request, Response};
pub use scalars::{
    Base64, Date, DateOrPeriod, DateTime, Decimal, InvalidTzOffset, Limit, TzOffset,
};
pub use wire::Params;

// The main types of the hand-written helpers.
#[cfg(all(feature = "account", feature = "dids"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "account", feature = "dids"))))]
pub use account::{Account, Balance, Did};
#[cfg(feature = "cdr")]
#[cfg_attr(docsrs, doc(cfg(feature = "cdr")))]
pub use cdr::{CdrExport, CdrProgress, CdrQuery, CdrStream, WindowReport};
pub use dates::DateRange;
#[cfg(all(feature = "callerid_filtering", feature = "phonebook"))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(feature = "callerid_filtering", feature = "phonebook")))
)]
pub use filters::{Filter, FilterAction, FilterRule, Filters};
pub use numbers::{CallerId, InvalidNumber, NumberKind, PhoneNumber};
pub use ops::{ApiCall, CallOutcome, DryRun, OpError, PlannedCall};
#[cfg(feature = "phonebook")]
#[cfg_attr(docsrs, doc(cfg(feature = "phonebook")))]
pub use phonebook::{OrphanEntries, Phonebook, PhonebookOptions, PhonebookSnapshot};
#[cfg(all(feature = "call_recordings", feature = "cdr"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "call_recordings", feature = "cdr"))))]
pub use recordings::{RecordingInfo, RecordingList, Recordings};
#[cfg(feature = "sms")]
#[cfg_attr(docsrs, doc(cfg(feature = "sms")))]
pub use sms::{Direction, Media, Message, MessageList, MessageQuery, Messaging, SmsLength};
#[cfg(all(
    feature = "phonebook",
    feature = "callerid_filtering",
    feature = "cdr",
    feature = "dids",
    feature = "account",
    feature = "sms"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(
        feature = "phonebook",
        feature = "callerid_filtering",
        feature = "cdr",
        feature = "dids",
        feature = "account",
        feature = "sms"
    )))
)]
pub use spam::{
    InspectOptions, NumberReport, SpamGuard, SpamOptions, SpamSuggestions, SuggestOptions,
    UnmarkOptions, Verdict,
};

/// The date/time library used in the public API.
pub use chrono;
pub use serde_json;
