//! Rust SDK for the [VoIP.ms](https://voip.ms) REST/JSON API.
//!
//! - [`api`]: a typed request and response for each of the 226 methods, generated from
//!   `api-spec/` (one cargo feature per category, all on by default).
//! - [`Client`]: credentials, transport, retries and status handling, shared by every call.
//! - [`catalog`]: the static description of every method (what the CLI and MCP server read).
//! - [`status`]: every status code with its meaning, class and hint.
//!
//! ```no_run
//! # async fn demo() -> Result<(), voipms_sdk::Error> {
//! use voipms_sdk::{Client, api::GetBalance};
//! let client = Client::builder().credentials("me@example.com", "api-password").build()?;
//! let balance = client.send(&GetBalance::new().advanced(true)).await?;
//! println!("{:?}", balance.balance);
//! # Ok(()) }
//! ```

pub mod api;
pub mod catalog;
mod client;
pub mod decode;
mod error;
pub mod request;
pub mod scalars;
pub mod status;
pub mod transport;
pub mod wire;

pub use client::{
    Call, Client, ClientBuilder, Credentials, DEFAULT_BASE_URL, ENV_PASSWORD, ENV_URL,
    ENV_USERNAME, MULTIPART_THRESHOLD, Outcome, RetryPolicy,
};
pub use error::{ApiError, BodyProblem, Error, TransportKind};
pub use request::{Request, Response};
pub use scalars::{Base64, Date, DateTime, Decimal, Limit};
pub use wire::Params;

/// The date/time library used in the public API.
pub use chrono;
pub use serde_json;
