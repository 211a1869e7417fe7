//! What the hand-written helpers (`phonebook`, `spam`, `filters`, …) have in common: the log of
//! API calls each operation made, the planned calls of a dry run, and [`OpError`], which always says what state the account was left
//! in.
//!
//! Every helper operation returns the calls it made ([`ApiCall`]: method, wire parameters, what
//! happened). Every mutation has a dry-run form returning a [`DryRun`]: the reads it made to find
//! out what to do, and the exact writes it would send ([`PlannedCall`]), without sending them.
//! Neither ever contains the API password: the client adds credentials on the way out.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use tokio::sync::OwnedMutexGuard;

use crate::catalog::Effect;
use crate::error::{Error, TransportKind};
use crate::request::Request;
use crate::wire::Params;
use crate::{Client, Response};

/// One API call, as planned by a dry run: the wire method and parameters (credentials excluded).
///
/// In a plan, a value written `{id from call N}` stands for the id that the `N`-th planned call
/// (1-based) will return: a new phonebook entry's id in a group's `members`, say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCall {
    /// Wire method name (`setPhonebookGroup`).
    pub method: &'static str,
    /// Wire parameters, in the order they are sent.
    pub params: Params,
}

impl PlannedCall {
    /// The planned call for a typed request.
    pub fn of<R: Request>(request: &R) -> Self {
        PlannedCall {
            method: R::METHOD,
            params: request.to_params(),
        }
    }
}

impl fmt::Display for PlannedCall {
    /// `setPhonebookGroup group=12 name=Spam members=31;32` (long values shortened).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method)?;
        fmt_params(f, &self.params)
    }
}

fn fmt_params(f: &mut fmt::Formatter<'_>, params: &Params) -> fmt::Result {
    for (name, value) in params.iter() {
        if value.len() > 80 {
            write!(f, " {name}=<{} bytes>", value.len())?;
        } else if value.is_empty() || value.contains(char::is_whitespace) {
            write!(f, " {name}={value:?}")?;
        } else {
            write!(f, " {name}={value}")?;
        }
    }
    Ok(())
}

/// What a dry run found: the reads it made to work out the plan, and the writes it would make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DryRun {
    /// Reads sent to look at the account (these were made).
    pub reads: Vec<ApiCall>,
    /// Writes the operation would send, in order (these were **not** sent). Empty when the
    /// account is already as asked.
    pub planned: Vec<PlannedCall>,
    /// What the caller should know before going ahead (marking one of the account's own DIDs as
    /// spam, …); empty when nothing looks off.
    pub warnings: Vec<String>,
}

impl DryRun {
    /// Whether running the operation would change anything.
    pub fn changes_anything(&self) -> bool {
        !self.planned.is_empty()
    }
}

/// One API call an operation made, and how it went.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// Wire method name.
    pub method: &'static str,
    /// Wire parameters (credentials excluded).
    pub params: Params,
    /// Whether the method reads or changes the account.
    pub effect: Effect,
    /// How it went.
    pub outcome: CallOutcome,
}

impl ApiCall {
    /// Whether the method changes the account.
    pub fn is_write(&self) -> bool {
        self.effect.is_mutating()
    }

    /// Whether this call changed the account (a write that succeeded, or whose lost reply was
    /// found to have been applied).
    pub fn changed_account(&self) -> bool {
        self.is_write()
            && matches!(
                self.outcome,
                CallOutcome::Ok | CallOutcome::LostReplyApplied(_)
            )
    }

    /// Whether this is a write that may or may not have been applied.
    pub fn is_unconfirmed(&self) -> bool {
        self.is_write() && matches!(self.outcome, CallOutcome::Unconfirmed(_))
    }
}

impl fmt::Display for ApiCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method)?;
        fmt_params(f, &self.params)?;
        match &self.outcome {
            CallOutcome::Ok => Ok(()),
            CallOutcome::Refused(e) => write!(f, " → refused ({e})"),
            CallOutcome::LostReplyApplied(e) => {
                write!(f, " → reply lost ({e}); a read showed it was applied")
            }
            CallOutcome::LostReplyNotApplied(e) => {
                write!(f, " → reply lost ({e}); a read showed it was not applied")
            }
            CallOutcome::Unconfirmed(e) => {
                write!(f, " → failed ({e}); whether it was applied is unknown")
            }
            CallOutcome::Failed(e) => write!(f, " → failed ({e})"),
        }
    }
}

/// How one call went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// VoIP.ms answered `success` (or, for a list, its "nothing to list" status).
    Ok,
    /// VoIP.ms answered with an error status: the call changed nothing.
    Refused(String),
    /// The answer was lost or unusable (timeout, 5xx, error page), and a read afterwards showed
    /// the change had been applied.
    LostReplyApplied(String),
    /// The answer was lost or unusable, and a read afterwards showed the change had not been
    /// applied (the operation then sent it again).
    LostReplyNotApplied(String),
    /// A write whose answer was lost and whose effect could not be checked.
    Unconfirmed(String),
    /// A read that failed, or a write that provably never reached VoIP.ms.
    Failed(String),
}

/// Why a helper operation stopped. Every variant says what was changed before it stopped, so
/// nothing is lost. The phonebook, filter and spam helpers are idempotent, so running the
/// operation again after fixing the cause continues from the account's current state; sending a
/// message is not, and its error says so (see [`OpError::unconfirmed_billable`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// A phone number was refused before anything was sent.
    #[error(transparent)]
    InvalidNumber(crate::numbers::InvalidNumber),
    /// An SMS text is over the 160 bytes of UTF-8 one message carries; nothing was sent.
    #[error(
        "the SMS text is {bytes} bytes of UTF-8 ({chars} characters) and one SMS carries at most \
         {max} bytes (accented letters count 2, emoji 4); shorten it, or allow splitting it into \
         {parts} messages (--split on the command line)"
    )]
    SmsTooLong {
        /// Its length in bytes of UTF-8.
        bytes: usize,
        /// Its length in characters.
        chars: usize,
        /// The most one SMS carries.
        max: usize,
        /// The messages a split would send.
        parts: usize,
    },
    /// A message with nothing to send (an SMS with no text, an MMS with neither text nor
    /// media); nothing was sent.
    #[error("{0}")]
    EmptyMessage(String),
    /// A date range that ends before it starts.
    #[error("the date range ends ({to}) before it starts ({from}); swap the dates")]
    BackwardsRange {
        /// The first day given.
        from: crate::Date,
        /// The last day given.
        to: crate::Date,
    },
    /// Any other input refused before anything was sent (an empty group name, a routing that is
    /// not `header:value`, a media file of an unknown type, …).
    #[error("{0}")]
    Invalid(String),
    /// An API call failed.
    #[error(transparent)]
    Failed(Box<Failure>),
    /// A phonebook group would go over VoIP.ms's member limit; nothing was left half-written.
    #[error(transparent)]
    MembersExceeded(Box<MembersExceeded>),
    /// Another writer kept changing the same records: the operation's writes were overwritten
    /// on every attempt.
    #[error(transparent)]
    Contention(Box<Contention>),
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl OpError {
    /// The calls the operation made before it stopped (empty for input refused before sending,
    /// [`OpError::Invalid`] and its kin, and for [`OpError::Io`]).
    pub fn calls(&self) -> &[ApiCall] {
        match self {
            OpError::Failed(f) => &f.calls,
            OpError::MembersExceeded(m) => &m.calls,
            OpError::Contention(c) => &c.calls,
            OpError::InvalidNumber(_)
            | OpError::SmsTooLong { .. }
            | OpError::EmptyMessage(_)
            | OpError::BackwardsRange { .. }
            | OpError::Invalid(_)
            | OpError::Io { .. } => &[],
        }
    }

    /// Whether the operation left the account changed (some write applied, or possibly applied).
    pub fn changed_account(&self) -> bool {
        self.calls()
            .iter()
            .any(|c| c.changed_account() || c.is_unconfirmed())
    }

    /// Whether some write of the operation may or may not have been applied: its reply was lost
    /// and no read could settle it. Never repeat such an operation blindly when
    /// [`OpError::unconfirmed_billable`] is set.
    pub fn is_outcome_unknown(&self) -> bool {
        self.calls().iter().any(ApiCall::is_unconfirmed)
    }

    /// The first write whose outcome is unknown and that is not idempotent (a message, an order,
    /// a payment: effect `billable` in the catalog).
    pub fn unconfirmed_billable(&self) -> Option<&ApiCall> {
        self.calls()
            .iter()
            .find(|c| c.is_unconfirmed() && c.effect == Effect::Billable)
    }

    /// The API error behind an [`OpError::Failed`] (or a refused member-limit write).
    pub fn api_error(&self) -> Option<&Error> {
        match self {
            OpError::Failed(f) => Some(&f.error),
            OpError::MembersExceeded(m) => m.error.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        OpError::Invalid(message.into())
    }
}

impl From<crate::numbers::InvalidNumber> for OpError {
    fn from(e: crate::numbers::InvalidNumber) -> Self {
        OpError::InvalidNumber(e)
    }
}

/// An API call failed part-way through an operation.
#[derive(Debug)]
pub struct Failure {
    /// The operation, in words (`adding to the phonebook group`).
    pub operation: &'static str,
    /// The error of the call that failed.
    pub error: Error,
    /// Every call made, the failed one last.
    pub calls: Vec<ApiCall>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The error's own message may end with a full stop already.
        let error = self.error.to_string();
        write!(
            f,
            "{} stopped: {}. ",
            self.operation,
            error.trim_end_matches('.')
        )?;
        describe_state(f, &self.calls)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Writes "Nothing was changed." or the list of changes made and unconfirmed.
fn describe_state(f: &mut fmt::Formatter<'_>, calls: &[ApiCall]) -> fmt::Result {
    let changed: Vec<&ApiCall> = calls.iter().filter(|c| c.changed_account()).collect();
    let unknown: Vec<&ApiCall> = calls.iter().filter(|c| c.is_unconfirmed()).collect();
    if changed.is_empty() && unknown.is_empty() {
        return f.write_str("Nothing was changed.");
    }
    if changed.is_empty() {
        f.write_str("Nothing was changed for certain.")?;
    } else {
        write!(f, "Changes applied before it stopped ({}):", changed.len())?;
        for c in &changed {
            write!(
                f,
                " [{}]",
                PlannedCall {
                    method: c.method,
                    params: c.params.clone(),
                }
            )?;
        }
        f.write_str(".")?;
    }
    if !unknown.is_empty() {
        write!(f, " Possibly applied (the reply was lost):")?;
        for c in &unknown {
            write!(
                f,
                " [{}]",
                PlannedCall {
                    method: c.method,
                    params: c.params.clone(),
                }
            )?;
        }
        f.write_str(".")?;
    }
    // Running the operation again is only safe when every write it made can be repeated: a
    // billable write (a message sent, an order, a payment) would be made a second time.
    let billable: Vec<&str> = changed
        .iter()
        .chain(&unknown)
        .filter(|c| c.effect == Effect::Billable)
        .map(|c| c.method)
        .collect();
    if let Some(method) = billable.first() {
        write!(
            f,
            " Do NOT run it again as it is: {method} is not idempotent (every call sends, orders \
             or pays again), so check the account first (the sent messages, the orders) and \
             repeat only what did not go through."
        )
    } else {
        f.write_str(
            " The operation is idempotent: run it again to finish from the account's current \
             state.",
        )
    }
}

/// A phonebook group would exceed the member limit.
#[derive(Debug)]
pub struct MembersExceeded {
    /// The group's name.
    pub group: String,
    /// The group's id, when it exists.
    pub group_id: Option<i64>,
    /// How many members the group would have had.
    pub wanted: usize,
    /// The configured limit, when the refusal came from it rather than from VoIP.ms.
    pub limit: Option<usize>,
    /// VoIP.ms's refusal (`members_exceeded`/`max_phonebook`), when it came from VoIP.ms.
    pub error: Option<Error>,
    /// Entries this operation had created for the new members and then deleted again.
    pub rolled_back: Vec<i64>,
    /// Entries this operation created that could not be deleted again (left in the phonebook,
    /// in no group).
    pub left_behind: Vec<i64>,
    /// Every call made.
    pub calls: Vec<ApiCall>,
}

impl fmt::Display for MembersExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.error.as_ref().and_then(Error::status) == Some("members_exceeded") {
            write!(
                f,
                "the phonebook is full, so the new entries for phonebook group `{}` cannot be \
                 created",
                self.group
            )?;
        } else {
            write!(
                f,
                "phonebook group `{}` cannot take {} members",
                self.group, self.wanted
            )?;
        }
        match (&self.error, self.limit) {
            (Some(e), _) => write!(f, " (VoIP.ms refused: {e})")?,
            (None, Some(limit)) => write!(f, " (the limit is {limit})")?,
            (None, None) => {}
        }
        f.write_str(". The group's membership was not changed")?;
        if !self.rolled_back.is_empty() {
            write!(
                f,
                "; the {} entries created for the new members were deleted again ({})",
                self.rolled_back.len(),
                join_ids(&self.rolled_back)
            )?;
        }
        if !self.left_behind.is_empty() {
            write!(
                f,
                "; entries {} were created but could not be deleted again (they are in no group; \
                 delete them with delPhonebook or reuse them)",
                join_ids(&self.left_behind)
            )?;
        }
        f.write_str(
            ". Remove members (or unused entries) first, or split the numbers over several groups.",
        )
    }
}

impl std::error::Error for MembersExceeded {}

/// Another writer overwrote this operation's changes on every attempt.
#[derive(Debug)]
pub struct Contention {
    /// The operation.
    pub operation: &'static str,
    /// What was being changed (`phonebook group Spam`).
    pub target: String,
    /// Attempts made.
    pub attempts: u32,
    /// Every call made.
    pub calls: Vec<ApiCall>,
}

impl fmt::Display for Contention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} was changed by another writer after each of {} attempts, so the change did \
             not stick (VoIP.ms has no compare-and-swap). ",
            self.operation, self.target, self.attempts
        )?;
        describe_state(f, &self.calls)?;
        f.write_str(" Stop the other program writing to it, then run this again.")
    }
}

impl std::error::Error for Contention {}

pub(crate) fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a failed call may nevertheless have been applied by VoIP.ms: its answer was lost
/// (timeout, broken connection), unusable (HTML error page, 5xx) or undecodable. API error
/// statuses, refused requests and failed connections mean it was not.
pub fn may_have_applied(error: &Error) -> bool {
    match error {
        Error::Api(_) | Error::InvalidRequest { .. } | Error::Config(_) => false,
        Error::Transport { kind, .. } => *kind != TransportKind::Connect,
        _ => true,
    }
}

/// A write that did not succeed.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    /// VoIP.ms (or the client) definitely did not apply it.
    Refused(Error),
    /// It may have been applied: check with a read.
    Lost(Error),
}

/// The call log of one operation and the client it goes through.
#[derive(Debug)]
pub(crate) struct Session {
    client: Client,
    operation: &'static str,
    calls: Vec<ApiCall>,
}

impl Session {
    pub(crate) fn new(client: &Client, operation: &'static str) -> Self {
        Session {
            client: client.clone(),
            operation,
            calls: Vec::new(),
        }
    }

    /// Sends a read; a failure ends the operation.
    pub(crate) async fn read<R: Request>(&mut self, request: &R) -> Result<R::Response, OpError> {
        match self.send(request).await {
            Ok(r) => Ok(r.data),
            Err(error) => Err(self.fail(error)),
        }
    }

    /// Sends a read whose failure the caller handles (a "not found" that answers a question).
    pub(crate) async fn probe<R: Request>(&mut self, request: &R) -> Result<R::Response, Error> {
        self.send(request).await.map(|r| r.data)
    }

    /// Sends a write and sorts a failure into "refused" and "may have been applied"; the log
    /// entry of a lost reply is [`CallOutcome::Unconfirmed`] until [`Session::resolve_last`].
    pub(crate) async fn write<R: Request>(
        &mut self,
        request: &R,
    ) -> Result<R::Response, WriteFailure> {
        match self.send(request).await {
            Ok(r) => Ok(r.data),
            Err(error) if may_have_applied(&error) => {
                if let Some(last) = self.calls.last_mut() {
                    last.outcome = CallOutcome::Unconfirmed(error.to_string());
                }
                Err(WriteFailure::Lost(error))
            }
            Err(error) => Err(WriteFailure::Refused(error)),
        }
    }

    async fn send<R: Request>(&mut self, request: &R) -> Result<Response<R::Response>, Error> {
        let result = self.client.send(request).await;
        let outcome = match &result {
            Ok(_) => CallOutcome::Ok,
            Err(Error::Api(e)) => CallOutcome::Refused(e.status().to_owned()),
            Err(e) => CallOutcome::Failed(e.to_string()),
        };
        self.calls.push(ApiCall {
            method: R::METHOD,
            params: request.to_params(),
            effect: R::spec().effect,
            outcome,
        });
        result
    }

    /// Records what a read showed about the last write whose reply was lost.
    pub(crate) fn resolve_lost(&mut self, index: usize, applied: bool) {
        if let Some(call) = self.calls.get_mut(index)
            && let CallOutcome::Unconfirmed(e) = &call.outcome
        {
            let e = e.clone();
            call.outcome = if applied {
                CallOutcome::LostReplyApplied(e)
            } else {
                CallOutcome::LostReplyNotApplied(e)
            };
        }
    }

    /// Records that the last successful call of `method` was in fact ignored by VoIP.ms (it
    /// changed nothing).
    pub(crate) fn mark_ignored(&mut self, method: &str, why: &str) {
        if let Some(call) = self
            .calls
            .iter_mut()
            .rev()
            .find(|c| c.method == method && c.outcome == CallOutcome::Ok)
        {
            call.outcome = CallOutcome::Refused(why.to_owned());
        }
    }

    /// Index of the last logged call.
    pub(crate) fn last_index(&self) -> usize {
        self.calls.len().saturating_sub(1)
    }

    /// Ends the operation with `error`, handing over the log.
    pub(crate) fn fail(&mut self, error: Error) -> OpError {
        OpError::Failed(Box::new(Failure {
            operation: self.operation,
            error,
            calls: std::mem::take(&mut self.calls),
        }))
    }

    pub(crate) fn contention(&mut self, target: String, attempts: u32) -> OpError {
        OpError::Contention(Box::new(Contention {
            operation: self.operation,
            target,
            attempts,
            calls: std::mem::take(&mut self.calls),
        }))
    }

    /// Adds calls made outside the session (by a CDR export, say) to its log.
    pub(crate) fn extend(&mut self, calls: impl IntoIterator<Item = ApiCall>) {
        self.calls.extend(calls);
    }

    pub(crate) fn take_calls(&mut self) -> Vec<ApiCall> {
        std::mem::take(&mut self.calls)
    }
}

type LockMap = Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>;

static LOCKS: OnceLock<LockMap> = OnceLock::new();

/// Serialises operations on one record (a phonebook group, a filter) of one account within this
/// process. Keyed by endpoint, user name, `scope` and `key` (case-insensitive), so every client
/// and helper object for the same account shares it.
pub(crate) async fn lock(client: &Client, scope: &str, key: &str) -> OwnedMutexGuard<()> {
    let id = format!(
        "{}\u{0}{}\u{0}{scope}\u{0}{}",
        client.base_url(),
        client.username(),
        key.trim().to_lowercase()
    );
    let mutex = {
        let mut map = LOCKS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match map.get(&id).and_then(Weak::upgrade) {
            Some(m) => m,
            None => {
                if map.len() >= 256 {
                    map.retain(|_, w| w.strong_count() > 0);
                }
                let m = Arc::new(tokio::sync::Mutex::new(()));
                map.insert(id, Arc::downgrade(&m));
                m
            }
        }
    };
    mutex.lock_owned().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use serde_json::json;

    fn call(method: &'static str, effect: Effect, outcome: CallOutcome) -> ApiCall {
        ApiCall {
            method,
            params: Params::new().with("name", "Spam").with("members", "1;2"),
            effect,
            outcome,
        }
    }

    #[test]
    fn planned_call_display() {
        let p = PlannedCall {
            method: "setPhonebookGroup",
            params: Params::new()
                .with("name", "My Spam")
                .with("members", "1;{id from call 1}")
                .with("file", "x".repeat(100)),
        };
        assert_eq!(
            p.to_string(),
            "setPhonebookGroup name=\"My Spam\" members=\"1;{id from call 1}\" file=<100 bytes>"
        );
    }

    #[test]
    fn ambiguity() {
        let api = Error::from(ApiError::new("m", "members_exceeded", None, json!({})));
        assert!(!may_have_applied(&api));
        for kind in [TransportKind::Timeout, TransportKind::Other] {
            let e = Error::Transport {
                method: "m".into(),
                kind,
                message: String::new(),
            };
            assert!(may_have_applied(&e));
        }
        let connect = Error::Transport {
            method: "m".into(),
            kind: TransportKind::Connect,
            message: String::new(),
        };
        assert!(!may_have_applied(&connect));
        let http = Error::Http {
            method: "m".into(),
            status: 502,
            excerpt: String::new(),
        };
        assert!(may_have_applied(&http));
    }

    #[test]
    fn failure_describes_state() {
        let error = Error::Http {
            method: "setPhonebookGroup".into(),
            status: 500,
            excerpt: String::new(),
        };
        let nothing = Failure {
            operation: "adding to the phonebook group",
            error,
            calls: vec![call("getPhonebook", Effect::Read, CallOutcome::Ok)],
        };
        assert!(
            nothing.to_string().ends_with("Nothing was changed."),
            "{nothing}"
        );
        let some = Failure {
            calls: vec![
                call("setPhonebook", Effect::Write, CallOutcome::Ok),
                call(
                    "setPhonebookGroup",
                    Effect::Write,
                    CallOutcome::Unconfirmed("HTTP 500".into()),
                ),
            ],
            ..nothing
        };
        let text = some.to_string();
        assert!(
            text.contains("Changes applied before it stopped (1)"),
            "{text}"
        );
        assert!(text.contains("Possibly applied"), "{text}");
        assert!(text.contains("idempotent"), "{text}");
        let e = OpError::Failed(Box::new(some));
        assert!(e.changed_account());
        assert_eq!(e.calls().len(), 2);
        assert!(e.is_outcome_unknown() && e.unconfirmed_billable().is_none());
    }

    #[test]
    fn a_billable_write_is_never_advised_to_be_run_again() {
        let lost = Failure {
            operation: "sending the SMS",
            error: Error::Http {
                method: "sendSMS".into(),
                status: 502,
                excerpt: String::new(),
            },
            calls: vec![call(
                "sendSMS",
                Effect::Billable,
                CallOutcome::Unconfirmed("HTTP 502".into()),
            )],
        };
        let text = lost.to_string();
        assert!(text.contains("Do NOT run it again"), "{text}");
        assert!(!text.contains("is idempotent"), "{text}");
        assert!(!text.to_lowercase().contains("try again"), "{text}");
        let e = OpError::Failed(Box::new(lost));
        assert_eq!(e.unconfirmed_billable().map(|c| c.method), Some("sendSMS"));
    }

    #[test]
    fn members_exceeded_message() {
        let m = MembersExceeded {
            group: "Spam".into(),
            group_id: Some(3),
            wanted: 9,
            limit: Some(8),
            error: None,
            rolled_back: vec![11, 12],
            left_behind: vec![],
            calls: vec![],
        };
        let text = m.to_string();
        assert!(text.contains("cannot take 9 members"), "{text}");
        assert!(text.contains("limit is 8"), "{text}");
        assert!(text.contains("deleted again (11, 12)"), "{text}");
        assert!(text.contains("not changed"), "{text}");
    }

    #[tokio::test]
    async fn locks_serialise_per_key() {
        let client = Client::builder()
            .credentials("a@example.com", "pw")
            .build()
            .unwrap();
        let g = lock(&client, "group", "Spam").await;
        // Same key, other case: must wait.
        let other = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            lock(&client, "group", "SPAM"),
        )
        .await;
        assert!(other.is_err());
        // Another key is free.
        let _free = lock(&client, "group", "Family").await;
        drop(g);
        let _again = lock(&client, "group", "spam").await;
    }
}
