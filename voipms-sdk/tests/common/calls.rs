//! Small helpers for tests that call the sandbox.

use voipms_sdk::{Error, Params};

/// Parameters from `(name, value)` pairs.
pub fn p<const N: usize>(pairs: [(&'static str, &str); N]) -> Params {
    pairs.into_iter().collect()
}

/// The API status of an error, or its message when it has none.
pub fn status_of(e: &Error) -> String {
    e.status()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{e}"))
}
