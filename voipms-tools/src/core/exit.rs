//! Failures and the process exit codes they map to.
//!
//! The numbers are part of the command line's interface (scripts test them) and are listed in
//! `voipms --help`; never renumber them.

use std::fmt;

/// Exit codes, documented in `voipms --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Declined at the confirmation prompt.
    Cancelled = 1,
    /// Unknown command or parameter, invalid or missing value, a write refused without `--yes`.
    Usage = 2,
    /// VoIP.ms answered with an error status.
    Api = 3,
    /// No connection, timeout, HTTP error, or an answer that is not a VoIP.ms response.
    Network = 4,
    /// Missing or unusable credentials, config file or sandbox state.
    Config = 5,
    /// A response does not match its typed shape.
    Decode = 6,
    /// A change whose reply was lost and that no read could confirm: it may or may not have
    /// been applied.
    Unknown = 7,
    /// The output could not be written (disk full, no permission, a device that refuses it).
    Output = 8,
}

/// The exit-code table shown at the end of `voipms --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  cancelled at the confirmation prompt
  2  usage: unknown command or parameter, invalid or missing value, a change refused without --yes
  3  VoIP.ms answered with an error status (the message gives its meaning and a hint)
  4  network or HTTP: no connection, timeout, HTTP error, an answer that is not the VoIP.ms API
  5  configuration: no or unusable credentials, config file readable by others, bad --api-url,
     sandbox state
  6  a response did not match its typed shape (decode, doctor --drift)
  7  outcome unknown: a change was sent but its reply was lost (timeout, dropped connection,
     error page) and no read could confirm it; it may have been applied, so check the account
     before repeating it (never resend a message, an order or a payment blindly)
  8  the output could not be written (stdout or --out: disk full, no permission, a device that
     refuses it); what was written is incomplete (a closed pipe, as into `head`, is not an error)";

/// Why a command failed: an exit code and a message that says what to do.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: Code,
    /// What went wrong and how to fix it (may span several lines).
    pub message: String,
    /// The message was already printed (clap errors); only exit.
    pub printed: bool,
}

impl Failure {
    /// A failure with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            printed: false,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(Code::Usage, message)
    }

    /// The output could not be written (exit 8).
    pub fn output(what: &str, e: &std::io::Error) -> Self {
        Failure::new(
            Code::Output,
            format!("cannot write {what}: {e}; what was written is incomplete"),
        )
    }

    /// A configuration error (exit 5).
    pub fn config(message: impl Into<String>) -> Self {
        Failure::new(Code::Config, message)
    }

    /// A failure whose message has been printed already.
    pub fn printed(code: Code) -> Self {
        Failure {
            code,
            message: String::new(),
            printed: true,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code for an SDK error.
pub fn code_of(e: &voipms_sdk::Error) -> Code {
    match e {
        voipms_sdk::Error::Api(_) => Code::Api,
        voipms_sdk::Error::Config(_) => Code::Config,
        voipms_sdk::Error::Decode { .. } => Code::Decode,
        voipms_sdk::Error::InvalidRequest { .. } => Code::Usage,
        _ => Code::Network,
    }
}

/// The failure of a single call with the given catalog `effect`: a change whose reply was lost
/// (timeout, dropped connection, truncated body, 5xx) says it may have been applied and exits
/// with [`Code::Unknown`]; a billable one is never advised to be sent again.
pub fn call_failure(e: voipms_sdk::Error, effect: voipms_sdk::catalog::Effect) -> Failure {
    use voipms_sdk::catalog::Effect;
    if !effect.is_mutating() || !voipms_sdk::ops::may_have_applied(&e) {
        return Failure::from(e);
    }
    let method = e.method().unwrap_or("the call").to_owned();
    let advice = if effect == Effect::Billable {
        format!(
            "{method} is billable and not idempotent (each call sends, orders or pays again): do \
             NOT send it again blindly; check the account first (for a message, `voipms sms list \
             --direction sent` or `voipms mms list`)."
        )
    } else {
        "Check the account with a read before repeating it.".to_owned()
    };
    Failure::new(
        Code::Unknown,
        format!("{method} may have been applied: its reply was lost. {advice}\n{e}"),
    )
}

impl From<voipms_sdk::Error> for Failure {
    fn from(e: voipms_sdk::Error) -> Self {
        // The SDK's messages carry the status meaning and hint, and never the password.
        Failure::new(code_of(&e), e.to_string())
    }
}
