//! The spam workflow: look at a number, rank likely spam callers from the call history, and
//! block or unblock numbers through a phonebook group and one Caller ID filter.
//!
//! Blocking works the way VoIP.ms is meant to be used for it: numbers go into a phonebook group
//! (`Spam` by default), and one Caller ID filtering rule with caller ID `p:<group id>` on DID
//! `all` routes that whole group to `sys:hangup` (configurable). Marking is idempotent (a marked
//! number is left as it is), unmarking undoes it for that number only: the number leaves the
//! group, and the phonebook entry is deleted if marking created it (recognised by its note) and no
//! other group holds it.
//!
//! Every mutation has a `plan_*` twin returning the exact calls it would make.
//!
//! ```no_run
//! # async fn demo(client: voipms_sdk::Client) -> Result<(), voipms_sdk::ops::OpError> {
//! // The helper types are re-exported at the crate root.
//! use voipms_sdk::{DateRange, MessageQuery, Messaging, SpamGuard, SuggestOptions};
//! let month = DateRange::last_days(&client, 30);
//! let sms = Messaging::new(&client).list(&MessageQuery::sms(month)).await?;
//! println!("{} messages this month", sms.messages.len());
//! let guard = SpamGuard::new(&client);
//! let found = guard.suggest_spam_numbers(DateRange::last_days(&client, 90), &SuggestOptions::default()).await?;
//! for c in found.candidates.iter().take(5) {
//!     println!("{} score {}: {}", c.number, c.score, c.explain());
//! }
//! if let Some(top) = found.candidates.first() {
//!     let marked = guard.mark_number_as_spam(top.number.as_str()).await?;
//!     println!("blocked by filter {}", marked.filter_id);
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use chrono::Timelike;

use crate::Client;
use crate::account;
use crate::api::CdrRecord;
use crate::cdr::{CdrQuery, DateRange};
use crate::filters::{self, Filter, FilterAction, FilterMatch, FilterRule};
use crate::numbers::{CallerId, PhoneNumber};
use crate::ops::{ApiCall, DryRun, OpError, Session};
use crate::phonebook::{
    self, AddPlan, Entry, Group, OrphanEntries, PhonebookOptions, PhonebookSnapshot, Wanted,
};
use crate::sms::{Message, MessageQuery, Messaging};
use crate::steps::{self, ExecError, Known, Step};

/// The phonebook group used for spam unless configured otherwise.
pub const DEFAULT_SPAM_GROUP: &str = "Spam";
/// The note on phonebook entries that marking creates (unmarking deletes only those).
pub const DEFAULT_ENTRY_NOTE: &str = "Marked as spam by voipms";
/// The note on the Caller ID filter that marking creates.
pub const DEFAULT_FILTER_NOTE: &str = "Blocks the Spam phonebook group (voipms)";

/// Settings of a [`SpamGuard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpamOptions {
    /// Phonebook group holding spam numbers (`Spam`).
    pub group: String,
    /// DID the blocking rule applies to (`all`).
    pub did: String,
    /// Routing of the blocking rule when one has to be created (`sys:hangup`). An existing rule
    /// for the group with any blocking routing (`sys:busy`, …) is kept as it is.
    pub routing: String,
    /// Note on entries created by marking.
    pub entry_note: String,
    /// Note on the rule created by marking.
    pub filter_note: String,
    /// Time offset passed to getCDR (-5, the server clock; quarter hours such as 5.5 too; see
    /// [`crate::cdr`]). Odd hours are judged in this time.
    pub timezone: crate::TzOffset,
    /// Attempts, verification and member limit of the phonebook writes.
    pub phonebook: PhonebookOptions,
}

impl Default for SpamOptions {
    fn default() -> Self {
        SpamOptions {
            group: DEFAULT_SPAM_GROUP.into(),
            did: "all".into(),
            routing: "sys:hangup".into(),
            entry_note: DEFAULT_ENTRY_NOTE.into(),
            filter_note: DEFAULT_FILTER_NOTE.into(),
            timezone: crate::TzOffset::hours(crate::cdr::DEFAULT_TIMEZONE),
            phonebook: PhonebookOptions::default(),
        }
    }
}

/// What the call history says about one caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerStats {
    /// Calls from the number.
    pub calls: usize,
    /// Of those, answered.
    pub answered: usize,
    /// Not answered (no answer, busy, failed).
    pub unanswered: usize,
    /// Answered but shorter than the short-call threshold (10 s).
    pub short: usize,
    /// Answered and a minute or longer.
    pub long: usize,
    /// Seconds talked in all.
    pub total_seconds: u64,
    /// Different days it called on.
    pub days: usize,
    /// Calls before 8:00 or from 21:00.
    pub odd_hours: usize,
    /// Calls the account made to the number.
    pub called_back: usize,
    /// First call (server time, shifted by the query's offset).
    pub first_seen: Option<crate::DateTime>,
    /// Last call.
    pub last_seen: Option<crate::DateTime>,
    /// Caller names (CNAM) it used.
    pub names: Vec<String>,
}

/// A signal behind a spam score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpamSignal {
    /// Most calls unanswered or hung up within seconds.
    ShortOrUnanswered,
    /// Called again and again without a real conversation.
    Repeated,
    /// Called on many different days.
    ManyDays,
    /// Called before 8:00 or after 21:00.
    OddHours,
    /// Same area code and exchange as one of the account's DIDs (neighbour spoofing).
    NeighbourSpoof,
    /// A caller name like `SPAM?` or `SCAM LIKELY`.
    SpamName,
    /// No caller name, or a meaningless one (`V`, `WIRELESS CALLER`).
    NoRealName,
    /// The account never called the number.
    NeverCalledBack,
    /// The account called the number (counts against).
    CalledBack,
    /// Answered calls of a minute or more (counts against).
    RealConversations,
    /// In a phonebook group other than the spam group (counts against).
    InPhonebookGroup,
    /// In the phonebook, in no group (counts against).
    InPhonebook,
}

impl SpamSignal {
    /// The signal's stable name in reports and JSON: `short_or_unanswered`, `repeated`, …
    pub fn as_str(self) -> &'static str {
        match self {
            SpamSignal::ShortOrUnanswered => "short_or_unanswered",
            SpamSignal::Repeated => "repeated",
            SpamSignal::ManyDays => "many_days",
            SpamSignal::OddHours => "odd_hours",
            SpamSignal::NeighbourSpoof => "neighbour_spoof",
            SpamSignal::SpamName => "spam_name",
            SpamSignal::NoRealName => "no_real_name",
            SpamSignal::NeverCalledBack => "never_called_back",
            SpamSignal::CalledBack => "called_back",
            SpamSignal::RealConversations => "real_conversations",
            SpamSignal::InPhonebookGroup => "in_phonebook_group",
            SpamSignal::InPhonebook => "in_phonebook",
        }
    }
}

/// One reason in a score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpamReason {
    /// The signal.
    pub signal: SpamSignal,
    /// Points it adds (negative: points it takes away).
    pub points: i32,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for SpamReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+} {}", self.points, self.detail)
    }
}

/// A number that looks like spam, with its score and the reasons for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpamCandidate {
    /// The number.
    pub number: PhoneNumber,
    /// Sum of the reasons' points (higher is more likely spam).
    pub score: i32,
    /// Why, strongest first.
    pub reasons: Vec<SpamReason>,
    /// Its call statistics.
    pub stats: CallerStats,
    /// Already in the spam group.
    pub already_marked: bool,
    /// Blocking Caller ID filters that already cover it (directly, through a group or `p:`).
    pub blocked_by: Vec<i64>,
    /// Phonebook groups holding it.
    pub groups: Vec<String>,
}

impl SpamCandidate {
    /// The reasons on one line: `+30 same area code and exchange as 5551234567; +20 …`.
    pub fn explain(&self) -> String {
        self.reasons
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Settings of [`SpamGuard::suggest_spam_numbers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestOptions {
    /// Lowest score listed (40).
    pub min_score: i32,
    /// List numbers already in the spam group or already blocked by a Caller ID filter too (off).
    pub include_marked: bool,
    /// At most this many candidates (all by default).
    pub limit: Option<usize>,
    /// Answered calls shorter than this many seconds count as hang-ups (10).
    pub short_seconds: i64,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions {
            min_score: 40,
            include_marked: false,
            limit: None,
            short_seconds: 10,
        }
    }
}

/// The result of [`SpamGuard::suggest_spam_numbers`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpamSuggestions {
    /// The dates looked at.
    pub range: DateRange,
    /// Likely spam callers, highest score first.
    pub candidates: Vec<SpamCandidate>,
    /// Calls from withheld numbers (block them with a Caller ID filter on `0`).
    pub anonymous: CallerStats,
    /// Call records read.
    pub rows_scanned: usize,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// A Caller ID filter that applies to a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedFilter {
    /// The rule.
    pub filter: Filter,
    /// How it matches.
    pub how: FilterMatch,
}

/// What [`SpamGuard::inspect_number`] concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A Caller ID filter with a blocking routing matches the number (directly or through its
    /// phonebook group).
    Blocked {
        /// The matching blocking rules.
        filters: Vec<i64>,
    },
    /// In the spam group, but no blocking rule covers it.
    InSpamGroup,
    /// A phonebook contact (in these groups, possibly none), not blocked.
    Contact {
        /// Groups holding it.
        groups: Vec<String>,
    },
    /// Neither in the phonebook nor blocked.
    Unknown,
}

/// Settings of [`SpamGuard::inspect_number`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectOptions {
    /// Call history and messages to look at.
    pub range: DateRange,
    /// Most recent calls listed (20).
    pub recent_calls: usize,
    /// Look at SMS too (on).
    pub messages: bool,
}

impl InspectOptions {
    /// Looks at `range` (such as [`DateRange::last_days`]`(client, 90)`, which ends on the
    /// client's today), lists the 20 most recent calls, and looks at SMS too.
    pub fn new(range: DateRange) -> Self {
        InspectOptions {
            range,
            recent_calls: 20,
            messages: true,
        }
    }
}

/// Everything the account knows about one number.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberReport {
    /// The number.
    pub number: PhoneNumber,
    /// Phonebook entries for it.
    pub entries: Vec<Entry>,
    /// Groups holding one of them.
    pub groups: Vec<Group>,
    /// Caller ID filters that apply to it.
    pub filters: Vec<MatchedFilter>,
    /// Its call statistics over the range.
    pub stats: CallerStats,
    /// Its latest calls (either way), newest first.
    pub recent_calls: Vec<CdrRecord>,
    /// SMS exchanged with it over the range.
    pub messages: Vec<Message>,
    /// The conclusion.
    pub verdict: Verdict,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// The result of [`SpamGuard::mark_number_as_spam`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpamMark {
    /// The number.
    pub number: PhoneNumber,
    /// The spam group.
    pub group_id: i64,
    /// Whether the group was created.
    pub group_created: bool,
    /// The entry in the group.
    pub entry_id: i64,
    /// Whether the entry was created.
    pub entry_created: bool,
    /// Whether the number was already in the group.
    pub already_member: bool,
    /// Whether it was added now.
    pub added: bool,
    /// Why marking this number may be a mistake (one of your DIDs, a contact in another
    /// group); marked all the same.
    pub warnings: Vec<MarkWarning>,
    /// The rule blocking the group.
    pub filter_id: i64,
    /// What was done to the rule.
    pub filter_action: FilterAction,
    /// Times another writer's change was found and the work redone.
    pub race_retries: u32,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// Why marking a number as spam may be a mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkWarning {
    /// The number is one of the account's own DIDs.
    OwnDid,
    /// The number is in the phonebook, in these groups besides the spam group (possibly none).
    Contact {
        /// Names of the groups holding it.
        groups: Vec<String>,
    },
}

impl fmt::Display for MarkWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarkWarning::OwnDid => f.write_str(
                "it is one of your own DIDs: calls showing it as Caller ID (your own forwarded \
                 or looped calls) will be blocked too",
            ),
            MarkWarning::Contact { groups } if groups.is_empty() => {
                f.write_str("it is a contact in your phonebook: calls from it will be blocked")
            }
            MarkWarning::Contact { groups } => write!(
                f,
                "it is a contact in phonebook group {}: calls from it will be blocked",
                groups.join(", ")
            ),
        }
    }
}

/// What may be wrong with marking `number`: one of `dids`, or a contact outside `spam_group`.
fn mark_warnings(
    number: &PhoneNumber,
    snap: &PhonebookSnapshot,
    dids: &[PhoneNumber],
    spam_group: &str,
) -> Vec<MarkWarning> {
    let mut out = Vec::new();
    if dids.contains(number) {
        out.push(MarkWarning::OwnDid);
    }
    if !snap.entries_for(number).is_empty() {
        let groups: Vec<String> = snap
            .groups_holding_number(number)
            .into_iter()
            .filter(|g| g.name != spam_group)
            .map(|g| g.name.clone())
            .collect();
        let only_spam = groups.is_empty()
            && snap
                .groups_holding_number(number)
                .iter()
                .any(|g| g.name == spam_group);
        if !only_spam {
            out.push(MarkWarning::Contact { groups });
        }
    }
    out
}

impl SpamMark {
    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        self.calls.iter().any(ApiCall::changed_account)
    }
}

/// Settings of [`SpamGuard::unmark_number_as_spam`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnmarkOptions {
    /// When the group is left empty, also delete the blocking rule marking created (recognised by
    /// its note) and, if no other rule points at the group, the group itself (off).
    pub remove_empty_group: bool,
}

/// The result of [`SpamGuard::unmark_number_as_spam`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpamUnmark {
    /// The number.
    pub number: PhoneNumber,
    /// The spam group, if it exists.
    pub group_id: Option<i64>,
    /// Entries taken out of the group.
    pub removed_entries: Vec<i64>,
    /// Entries deleted (created by marking, in no other group).
    pub deleted_entries: Vec<i64>,
    /// Rules deleted (with [`UnmarkOptions::remove_empty_group`]).
    pub deleted_filters: Vec<i64>,
    /// The group, if it was deleted.
    pub deleted_group: Option<i64>,
    /// Times another writer's change was found and the work redone.
    pub race_retries: u32,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl SpamUnmark {
    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        self.calls.iter().any(ApiCall::changed_account)
    }
}

/// The spam workflow over a [`Client`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SpamGuard {
    client: Client,
    options: SpamOptions,
}

/// What scoring needs besides the rows.
#[derive(Debug, Clone, Default)]
pub struct ScoreContext {
    /// The account's DIDs.
    pub dids: Vec<PhoneNumber>,
    /// The phonebook.
    pub phonebook: PhonebookSnapshot,
    /// The spam group's id, if it exists.
    pub spam_group: Option<i64>,
    /// The account's Caller ID filters (a number a blocking one covers is already blocked).
    pub filters: Vec<Filter>,
}

/// Caller names that say "spam" outright.
const SPAM_WORDS: &[&str] = &[
    "SPAM",
    "SCAM",
    "FRAUD",
    "ROBO",
    "TELEMKT",
    "TELEMARKET",
    "POTENTIAL",
    "SUSPECT",
];
/// Caller names that say nothing.
const EMPTY_NAMES: &[&str] = &[
    "V",
    "WIRELESS CALLER",
    "UNKNOWN",
    "UNKNOWN CALLER",
    "UNAVAILABLE",
    "TOLL FREE CALL",
    "TOLLFREE CALL",
    "CELL PHONE",
];

fn is_spam_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    SPAM_WORDS.iter().any(|w| n.contains(w))
}

fn is_empty_name(name: &str) -> bool {
    let n = name.trim().trim_matches('"').to_ascii_uppercase();
    n.is_empty() || EMPTY_NAMES.contains(&n.as_str()) || n.chars().all(|c| !c.is_alphabetic())
}

/// Which way a CDR row went, and the other party.
enum Leg {
    In(CallerId),
    Out(PhoneNumber),
    Unknown,
}

fn leg(row: &CdrRecord, dids: &[PhoneNumber]) -> Leg {
    let dest = row
        .destination
        .as_deref()
        .and_then(|d| PhoneNumber::parse(d).ok());
    let caller = CallerId::parse(row.callerid.as_deref().unwrap_or(""));
    let described_in = row
        .description
        .as_deref()
        .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("inbound"))
        || row
            .destination_type
            .as_deref()
            .is_some_and(|t| t.trim().to_ascii_uppercase().starts_with("IN"));
    let to_our_did = dest.as_ref().is_some_and(|d| dids.contains(d));
    let from_our_did = caller.number.as_ref().is_some_and(|n| dids.contains(n));
    if to_our_did || (described_in && !from_our_did) {
        Leg::In(caller)
    } else if let Some(d) = dest {
        Leg::Out(d)
    } else {
        Leg::Unknown
    }
}

fn is_answered(row: &CdrRecord) -> bool {
    row.disposition == Some(crate::api::Disposition::Answered)
}

fn seconds(row: &CdrRecord) -> i64 {
    row.seconds.unwrap_or(0).max(0)
}

#[derive(Default)]
struct Acc {
    stats: CallerStats,
    days: BTreeSet<crate::Date>,
    names: BTreeSet<String>,
}

impl Acc {
    fn add(&mut self, row: &CdrRecord, caller: &CallerId, short_seconds: i64) {
        let s = &mut self.stats;
        s.calls += 1;
        let secs = seconds(row);
        if is_answered(row) {
            s.answered += 1;
            if secs < short_seconds {
                s.short += 1;
            }
            if secs >= 60 {
                s.long += 1;
            }
        } else {
            s.unanswered += 1;
        }
        s.total_seconds += secs as u64;
        if let Some(d) = row.date {
            self.days.insert(d.date());
            if d.hour() < 8 || d.hour() >= 21 {
                s.odd_hours += 1;
            }
            s.first_seen = Some(s.first_seen.map_or(d, |f| f.min(d)));
            s.last_seen = Some(s.last_seen.map_or(d, |l| l.max(d)));
        }
        if let Some(n) = &caller.name {
            let same_as_number = caller
                .number
                .as_ref()
                .is_some_and(|num| PhoneNumber::parse(n).ok().as_ref() == Some(num));
            if !same_as_number {
                self.names.insert(n.clone());
            }
        }
    }

    fn finish(mut self, called_back: usize) -> CallerStats {
        self.stats.days = self.days.len();
        self.stats.names = self.names.into_iter().collect();
        self.stats.called_back = called_back;
        self.stats
    }
}

/// Aggregates rows into per-caller statistics (incoming calls), calls back (outgoing calls) and
/// withheld-number calls.
fn aggregate(
    rows: &[CdrRecord],
    dids: &[PhoneNumber],
    short_seconds: i64,
) -> (BTreeMap<PhoneNumber, CallerStats>, CallerStats) {
    let mut callers: BTreeMap<PhoneNumber, Acc> = BTreeMap::new();
    let mut anonymous = Acc::default();
    let mut called: BTreeMap<PhoneNumber, usize> = BTreeMap::new();
    for row in rows {
        match leg(row, dids) {
            Leg::In(caller) => match &caller.number {
                Some(n) if !dids.contains(n) => {
                    callers
                        .entry(n.clone())
                        .or_default()
                        .add(row, &caller, short_seconds);
                }
                Some(_) => {}
                None if caller.anonymous => anonymous.add(row, &caller, short_seconds),
                None => {}
            },
            Leg::Out(n) => *called.entry(n).or_default() += 1,
            Leg::Unknown => {}
        }
    }
    let stats = callers
        .into_iter()
        .map(|(n, acc)| {
            let back = called.get(&n).copied().unwrap_or(0);
            (n, acc.finish(back))
        })
        .collect();
    (stats, anonymous.finish(0))
}

fn reason(signal: SpamSignal, points: i32, detail: String) -> SpamReason {
    SpamReason {
        signal,
        points,
        detail,
    }
}

/// Scores one caller. Pure: the same inputs always give the same score and reasons.
fn score(number: &PhoneNumber, s: &CallerStats, ctx: &ScoreContext) -> Vec<SpamReason> {
    let mut r = Vec::new();
    let calls = s.calls.max(1);
    let bad = s.short + s.unanswered;
    let ratio = bad as f64 / calls as f64;
    if ratio >= 0.5 {
        r.push(reason(
            SpamSignal::ShortOrUnanswered,
            (20.0 * ratio).round() as i32,
            format!(
                "{bad} of {} unanswered or hung up within seconds",
                plural(s.calls, "call")
            ),
        ));
    }
    // A number that calls again and again outweighs any one call: each call again without a
    // real conversation is more evidence, 8 points per repeat, at most 60.
    if s.calls >= 2 && s.long == 0 && ratio >= 0.5 {
        r.push(reason(
            SpamSignal::Repeated,
            (8 * (s.calls as i32 - 1)).min(60),
            format!("called {} times without a real conversation", s.calls),
        ));
    }
    if s.days >= 3 && ratio >= 0.5 {
        r.push(reason(
            SpamSignal::ManyDays,
            (10 + 2 * (s.days as i32 - 3)).min(30),
            format!("called on {} different days", s.days),
        ));
    }
    if s.odd_hours > 0 {
        r.push(reason(
            SpamSignal::OddHours,
            (10.0 * s.odd_hours as f64 / calls as f64).round().max(1.0) as i32,
            format!("{} before 8:00 or after 21:00", plural(s.odd_hours, "call")),
        ));
    }
    if let Some(did) = ctx
        .dids
        .iter()
        .find(|d| d.same_area_and_exchange(number) && *d != number)
    {
        r.push(reason(
            SpamSignal::NeighbourSpoof,
            30,
            format!("same area code and exchange as your DID {did} (neighbour spoofing)"),
        ));
    }
    if let Some(name) = s.names.iter().find(|n| is_spam_name(n)) {
        r.push(reason(
            SpamSignal::SpamName,
            25,
            format!("caller name `{name}`"),
        ));
    } else if s.names.iter().all(|n| is_empty_name(n)) {
        let detail = match s.names.first() {
            Some(n) => format!("meaningless caller name `{n}`"),
            None => "no caller name".to_owned(),
        };
        r.push(reason(SpamSignal::NoRealName, 10, detail));
    }
    if s.called_back == 0 {
        r.push(reason(
            SpamSignal::NeverCalledBack,
            10,
            "never called back".into(),
        ));
    } else {
        r.push(reason(
            SpamSignal::CalledBack,
            -40,
            format!("you called it {}", plural(s.called_back, "time")),
        ));
    }
    if s.long > 0 {
        r.push(reason(
            SpamSignal::RealConversations,
            -(15 * s.long.min(3) as i32),
            format!("{} of a minute or more", plural(s.long, "answered call")),
        ));
    }
    let entry_ids: HashSet<i64> = ctx
        .phonebook
        .entries_for(number)
        .iter()
        .map(|e| e.id)
        .collect();
    let other_groups: Vec<&str> = ctx
        .phonebook
        .groups
        .iter()
        .filter(|g| Some(g.id) != ctx.spam_group && g.members.iter().any(|m| entry_ids.contains(m)))
        .map(|g| g.name.as_str())
        .collect();
    if !other_groups.is_empty() {
        r.push(reason(
            SpamSignal::InPhonebookGroup,
            -60,
            format!("in phonebook group {}", other_groups.join(", ")),
        ));
    } else if !entry_ids.is_empty() && !in_spam_group(&entry_ids, ctx) {
        r.push(reason(
            SpamSignal::InPhonebook,
            -20,
            "in your phonebook".into(),
        ));
    }
    r.sort_by_key(|x| -x.points.abs());
    r
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn in_spam_group(entry_ids: &HashSet<i64>, ctx: &ScoreContext) -> bool {
    ctx.spam_group
        .and_then(|id| ctx.phonebook.group(id))
        .is_some_and(|g| g.members.iter().any(|m| entry_ids.contains(m)))
}

/// Ranks the callers in `rows` (see [`SpamGuard::suggest_spam_numbers`]).
pub fn rank_callers(
    rows: &[CdrRecord],
    ctx: &ScoreContext,
    options: &SuggestOptions,
) -> (Vec<SpamCandidate>, CallerStats) {
    let (callers, anonymous) = aggregate(rows, &ctx.dids, options.short_seconds);
    let mut out: Vec<SpamCandidate> = callers
        .into_iter()
        .map(|(number, stats)| {
            let reasons = score(&number, &stats, ctx);
            let entry_ids: HashSet<i64> = ctx
                .phonebook
                .entries_for(&number)
                .iter()
                .map(|e| e.id)
                .collect();
            let groups = ctx
                .phonebook
                .groups
                .iter()
                .filter(|g| g.members.iter().any(|m| entry_ids.contains(m)))
                .map(|g| g.name.clone())
                .collect();
            let blocked_by = ctx
                .filters
                .iter()
                .filter(|f| {
                    f.rule.is_blocking()
                        && filters::rule_matches(&f.rule, &number, &ctx.phonebook).is_some()
                })
                .map(|f| f.id)
                .collect();
            SpamCandidate {
                score: reasons.iter().map(|r| r.points).sum(),
                already_marked: in_spam_group(&entry_ids, ctx),
                blocked_by,
                number,
                reasons,
                stats,
                groups,
            }
        })
        .filter(|c| c.score >= options.min_score)
        .filter(|c| options.include_marked || (!c.already_marked && c.blocked_by.is_empty()))
        .collect();
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(b.stats.calls.cmp(&a.stats.calls))
            .then(a.number.cmp(&b.number))
    });
    if let Some(limit) = options.limit {
        out.truncate(limit);
    }
    (out, anonymous)
}

/// The planned marking of a number.
struct MarkPlan {
    add: AddPlan,
    steps: Vec<Step>,
    filter: Option<i64>,
    action: FilterAction,
}

impl SpamGuard {
    /// The spam workflow with the default [`SpamOptions`].
    pub fn new(client: &Client) -> Self {
        SpamGuard::with_options(client, SpamOptions::default())
    }

    /// The spam workflow with `options`.
    pub fn with_options(client: &Client, options: SpamOptions) -> Self {
        SpamGuard {
            client: client.clone(),
            options,
        }
    }

    /// The settings in use.
    pub fn options(&self) -> &SpamOptions {
        &self.options
    }

    fn rule(&self) -> FilterRule {
        FilterRule::new(
            "p",
            self.options.did.as_str(),
            self.options.routing.as_str(),
        )
        .note(self.options.filter_note.as_str())
    }

    /// Everything the account knows about `number`: phonebook entries and groups, Caller ID
    /// rules that match it (directly, through `p:GROUP` or `p`), its calls over the range
    /// (counts, durations, answered or not, first and last seen), SMS exchanged, and a verdict.
    pub async fn inspect_number(
        &self,
        number: &str,
        options: &InspectOptions,
    ) -> Result<NumberReport, OpError> {
        let number = PhoneNumber::parse(number)?;
        let mut s = Session::new(&self.client, "inspecting the number");
        let snap = phonebook::read_snapshot(&mut s).await?;
        let rules = steps::read_filters(&mut s).await?;
        let export = CdrQuery::for_range(options.range)
            .timezone(self.options.timezone)
            .fetch_all(&self.client)
            .await?;
        s.extend(export.calls);
        let messages = if options.messages {
            let list = Messaging::new(&self.client)
                .list(&MessageQuery::sms(options.range).contact(number.clone()))
                .await?;
            s.extend(list.calls);
            list.messages
        } else {
            Vec::new()
        };

        let entries: Vec<Entry> = snap.entries_for(&number).into_iter().cloned().collect();
        let groups: Vec<Group> = snap
            .groups_holding_number(&number)
            .into_iter()
            .cloned()
            .collect();
        let matched: Vec<MatchedFilter> = rules
            .into_iter()
            .filter_map(|f| {
                filters::rule_matches(&f.rule, &number, &snap)
                    .map(|how| MatchedFilter { filter: f, how })
            })
            .collect();

        let mut incoming = Acc::default();
        let mut called_back = 0;
        let mut recent: Vec<&CdrRecord> = Vec::new();
        for row in &export.rows {
            let caller = CallerId::parse(row.callerid.as_deref().unwrap_or(""));
            let dest = row
                .destination
                .as_deref()
                .and_then(|d| PhoneNumber::parse(d).ok());
            if caller.number.as_ref() == Some(&number) {
                incoming.add(row, &caller, 10);
                recent.push(row);
            } else if dest.as_ref() == Some(&number) {
                called_back += 1;
                recent.push(row);
            }
        }
        recent.sort_by_key(|r| std::cmp::Reverse(r.date));
        let recent_calls = recent
            .into_iter()
            .take(options.recent_calls)
            .cloned()
            .collect();

        let blocking: Vec<i64> = matched
            .iter()
            .filter(|m| m.filter.rule.is_blocking())
            .map(|m| m.filter.id)
            .collect();
        let spam_group = snap.group_named(&self.options.group).map(|g| g.id);
        let verdict = if !blocking.is_empty() {
            Verdict::Blocked { filters: blocking }
        } else if groups.iter().any(|g| Some(g.id) == spam_group) {
            Verdict::InSpamGroup
        } else if !entries.is_empty() {
            Verdict::Contact {
                groups: groups.iter().map(|g| g.name.clone()).collect(),
            }
        } else {
            Verdict::Unknown
        };
        Ok(NumberReport {
            number,
            entries,
            groups,
            filters: matched,
            stats: incoming.finish(called_back),
            recent_calls,
            messages,
            verdict,
            calls: s.take_calls(),
        })
    }

    /// Ranks callers over `range` by explainable signals: many short or unanswered calls, calls on
    /// many days or at odd hours, neighbour spoofing (same area code and exchange as a DID), a
    /// spam-like or empty caller name, never called back — and against: called back, real
    /// conversations, in a phonebook group other than the spam group. Each candidate carries its
    /// score and the reasons.
    pub async fn suggest_spam_numbers(
        &self,
        range: DateRange,
        options: &SuggestOptions,
    ) -> Result<SpamSuggestions, OpError> {
        let mut s = Session::new(&self.client, "ranking the callers");
        let dids = account::read_dids(&mut s).await?;
        let phonebook = phonebook::read_snapshot(&mut s).await?;
        let rules = steps::read_filters(&mut s).await?;
        let export = CdrQuery::for_range(range)
            .timezone(self.options.timezone)
            .fetch_all(&self.client)
            .await?;
        s.extend(export.calls);
        let ctx = ScoreContext {
            dids: dids.into_iter().filter_map(|d| d.number).collect(),
            spam_group: phonebook.group_named(&self.options.group).map(|g| g.id),
            phonebook,
            filters: rules,
        };
        let (candidates, anonymous) = rank_callers(&export.rows, &ctx, options);
        Ok(SpamSuggestions {
            range,
            candidates,
            anonymous,
            rows_scanned: export.rows.len(),
            calls: s.take_calls(),
        })
    }

    fn plan_mark(
        &self,
        snap: &PhonebookSnapshot,
        rules: &[Filter],
        number: &PhoneNumber,
    ) -> Result<MarkPlan, usize> {
        let wanted = [Wanted {
            number: number.clone(),
            name: Some(format!("Spam {number}")),
        }];
        let add = phonebook::plan_add(
            snap,
            &self.options.group,
            &wanted,
            Some(&self.options.entry_note),
            self.options.phonebook.max_group_members,
        )?;
        let rule = self.rule();
        let (fsteps, filter, action, _) =
            filters::plan_ensure(rules, &rule, Some(add.group_ref()), FilterRule::is_blocking);
        let mut steps = add.steps.clone();
        steps.extend(fsteps);
        Ok(MarkPlan {
            add,
            steps,
            filter,
            action,
        })
    }

    /// Puts `number` in the spam group (created if missing; an existing entry for the number is
    /// reused) and makes sure one Caller ID rule blocks the group (`p:<group>` on the configured
    /// DID). Idempotent: marking a marked number sends nothing.
    pub async fn mark_number_as_spam(&self, number: &str) -> Result<SpamMark, OpError> {
        let number = PhoneNumber::parse(number)?;
        let group = phonebook::check_group_name(&self.options.group)?.to_owned();
        let _guards = phonebook::lock_group_and_numbers(&self.client, &group, [&number]).await;
        let mut s = Session::new(&self.client, "marking as spam");
        let dids: Vec<PhoneNumber> = account::read_dids(&mut s)
            .await?
            .into_iter()
            .filter_map(|d| d.number)
            .collect();
        let attempts = self.options.phonebook.max_attempts.max(1);
        let mut first: Option<(bool, FilterAction)> = None;
        let mut warnings: Option<Vec<MarkWarning>> = None;
        let mut created_entries: HashSet<i64> = HashSet::new();
        let mut group_created = false;
        for attempt in 1..=attempts {
            let snap = phonebook::read_snapshot(&mut s).await?;
            let rules = steps::read_filters(&mut s).await?;
            warnings.get_or_insert_with(|| mark_warnings(&number, &snap, &dids, &group));
            let plan = self.plan_mark(&snap, &rules, &number).map_err(|n| {
                phonebook::limit_error(&mut s, &snap, &group, n, &self.options.phonebook)
            })?;
            let (was_member, action) =
                *first.get_or_insert((plan.add.decisions[0].already_member, plan.action));
            let mut known = Known {
                entries: snap.entries.iter().map(|e| e.id).collect(),
                groups: snap.groups.iter().map(|g| g.id).collect(),
                filters: rules.iter().map(|f| f.id).collect(),
            };
            let ids = match steps::execute(&mut s, &plan.steps, &mut known).await {
                Ok(ids) => ids,
                Err(ExecError::Refused { error, ids, .. })
                    if phonebook::is_member_limit(&error) =>
                {
                    return Err(phonebook::members_exceeded(&mut s, &plan.add, &ids, error).await);
                }
                Err(ExecError::Refused { error, ids })
                    if phonebook::is_stale(&error) && attempt < attempts =>
                {
                    created_entries.extend(phonebook::created_entries(&plan.steps, &ids));
                    continue;
                }
                Err(ExecError::Refused { error, .. }) => return Err(s.fail(error)),
                Err(ExecError::Stop(e)) => return Err(e),
            };
            created_entries.extend(phonebook::created_entries(&plan.steps, &ids));
            group_created |= plan.add.create_group_step.is_some();
            let group_id = plan
                .add
                .group_ref()
                .resolve(&ids)
                .expect("the group exists or was created");
            let entry_id = plan.add.decisions[0]
                .entry
                .resolve(&ids)
                .expect("the entry exists or was created");
            let filter_id = match plan.filter {
                Some(id) => id,
                None => ids
                    .last()
                    .copied()
                    .flatten()
                    .expect("the rule was created last"),
            };
            if self.options.phonebook.verify && !plan.steps.is_empty() {
                let groups = steps::read_groups(&mut s).await?;
                let rules = steps::read_filters(&mut s).await?;
                let in_group = groups
                    .iter()
                    .any(|g| g.id == group_id && g.has_member(entry_id));
                let blocked = rules.iter().any(|f| {
                    f.id == filter_id && f.rule.group_id() == Some(group_id) && f.rule.is_blocking()
                });
                if !(in_group && blocked) {
                    if attempt == attempts {
                        return Err(s.contention(
                            format!("phonebook group `{group}` and its blocking rule"),
                            attempts,
                        ));
                    }
                    continue;
                }
            }
            return Ok(SpamMark {
                number,
                group_id,
                group_created,
                entry_id,
                entry_created: created_entries.contains(&entry_id),
                already_member: was_member,
                added: !was_member,
                warnings: warnings.take().unwrap_or_default(),
                filter_id,
                filter_action: action,
                race_retries: attempt - 1,
                calls: s.take_calls(),
            });
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// The calls [`mark_number_as_spam`](Self::mark_number_as_spam) would make.
    pub async fn plan_mark_number_as_spam(&self, number: &str) -> Result<DryRun, OpError> {
        let number = PhoneNumber::parse(number)?;
        let group = phonebook::check_group_name(&self.options.group)?.to_owned();
        let mut s = Session::new(&self.client, "marking as spam (planning)");
        let dids: Vec<PhoneNumber> = account::read_dids(&mut s)
            .await?
            .into_iter()
            .filter_map(|d| d.number)
            .collect();
        let snap = phonebook::read_snapshot(&mut s).await?;
        let rules = steps::read_filters(&mut s).await?;
        let plan = self.plan_mark(&snap, &rules, &number).map_err(|n| {
            phonebook::limit_error(&mut s, &snap, &group, n, &self.options.phonebook)
        })?;
        Ok(DryRun {
            warnings: mark_warnings(&number, &snap, &dids, &group)
                .iter()
                .map(|w| format!("{number}: {w}"))
                .collect(),
            reads: s.take_calls(),
            planned: steps::planned_calls(&plan.steps),
        })
    }

    fn plan_unmark(
        &self,
        snap: &PhonebookSnapshot,
        rules: Option<&[Filter]>,
        number: &PhoneNumber,
    ) -> (phonebook::RemovePlan, Vec<i64>, Option<i64>) {
        let mut plan = phonebook::plan_remove(
            snap,
            &self.options.group,
            number,
            &OrphanEntries::DeleteIfNote(self.options.entry_note.clone()),
        );
        let (Some(rules), Some(gid)) = (rules, plan.group_id) else {
            return (plan, Vec::new(), None);
        };
        let left = snap
            .group(gid)
            .map_or(0, |g| g.members.len() - plan.removed.len());
        if left > 0 {
            return (plan, Vec::new(), None);
        }
        let pointing: Vec<&Filter> = rules
            .iter()
            .filter(|f| f.rule.group_id() == Some(gid))
            .collect();
        let ours: Vec<i64> = pointing
            .iter()
            .filter(|f| {
                f.rule.note.as_deref().map(str::trim) == Some(self.options.filter_note.trim())
            })
            .map(|f| f.id)
            .collect();
        for id in &ours {
            plan.steps.push(Step::DeleteFilter { id: *id });
        }
        let group = (pointing.len() == ours.len()).then(|| {
            plan.steps.push(Step::DeleteGroup { id: gid });
            gid
        });
        (plan, ours, group)
    }

    /// Takes `number` out of the spam group; the entry is deleted too when marking created it
    /// and no other group holds it. Other numbers, the group and its rule are left alone (unless
    /// [`UnmarkOptions::remove_empty_group`]). Idempotent.
    pub async fn unmark_number_as_spam(
        &self,
        number: &str,
        options: &UnmarkOptions,
    ) -> Result<SpamUnmark, OpError> {
        let number = PhoneNumber::parse(number)?;
        let group = phonebook::check_group_name(&self.options.group)?.to_owned();
        let _guards = phonebook::lock_group_and_numbers(&self.client, &group, [&number]).await;
        let mut s = Session::new(&self.client, "unmarking as spam");
        let attempts = self.options.phonebook.max_attempts.max(1);
        let mut result = SpamUnmark {
            number: number.clone(),
            group_id: None,
            removed_entries: Vec::new(),
            deleted_entries: Vec::new(),
            deleted_filters: Vec::new(),
            deleted_group: None,
            race_retries: 0,
            calls: Vec::new(),
        };
        for attempt in 1..=attempts {
            let snap = phonebook::read_snapshot(&mut s).await?;
            let rules = if options.remove_empty_group {
                Some(steps::read_filters(&mut s).await?)
            } else {
                None
            };
            let (plan, filters_deleted, group_deleted) =
                self.plan_unmark(&snap, rules.as_deref(), &number);
            result.group_id = result.group_id.or(plan.group_id);
            let mut known = Known::default();
            match steps::execute(&mut s, &plan.steps, &mut known).await {
                Ok(_) => {}
                Err(ExecError::Refused { error, .. })
                    if phonebook::is_stale(&error) && attempt < attempts =>
                {
                    continue;
                }
                Err(ExecError::Refused { error, .. }) => return Err(s.fail(error)),
                Err(ExecError::Stop(e)) => return Err(e),
            }
            for id in plan.removed {
                if !result.removed_entries.contains(&id) {
                    result.removed_entries.push(id);
                }
            }
            result.deleted_entries.extend(plan.deleted);
            result.deleted_filters.extend(filters_deleted);
            result.deleted_group = result.deleted_group.or(group_deleted);
            if self.options.phonebook.verify && !plan.steps.is_empty() {
                let now = phonebook::read_snapshot(&mut s).await?;
                let ids: HashSet<i64> = now.entries_for(&number).iter().map(|e| e.id).collect();
                let clean = now
                    .group_named(&group)
                    .is_none_or(|g| !g.members.iter().any(|m| ids.contains(m)));
                if !clean {
                    if let Some(e) = phonebook::ignored_empty_write(&snap, &now, &plan.steps) {
                        s.mark_ignored("setPhonebookGroup", "ignored: the members were kept");
                        return Err(s.fail(e));
                    }
                    if attempt == attempts {
                        return Err(s.contention(format!("phonebook group `{group}`"), attempts));
                    }
                    continue;
                }
            }
            result.race_retries = attempt - 1;
            result.calls = s.take_calls();
            return Ok(result);
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// The calls [`unmark_number_as_spam`](Self::unmark_number_as_spam) would make.
    pub async fn plan_unmark_number_as_spam(
        &self,
        number: &str,
        options: &UnmarkOptions,
    ) -> Result<DryRun, OpError> {
        let number = PhoneNumber::parse(number)?;
        let mut s = Session::new(&self.client, "unmarking as spam (planning)");
        let snap = phonebook::read_snapshot(&mut s).await?;
        let rules = if options.remove_empty_group {
            Some(steps::read_filters(&mut s).await?)
        } else {
            None
        };
        let (plan, ..) = self.plan_unmark(&snap, rules.as_deref(), &number);
        Ok(DryRun {
            warnings: Vec::new(),
            reads: s.take_calls(),
            planned: steps::planned_calls(&plan.steps),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn row(date: &str, callerid: &str, dest: &str, disposition: &str, secs: i64) -> CdrRecord {
        let description = if dest == "5551234567" {
            "Inbound - Local Caller"
        } else {
            "USA - Florida"
        };
        CdrRecord {
            date: Some(NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").unwrap()),
            callerid: Some(callerid.into()),
            destination: Some(dest.into()),
            disposition: Some(disposition.into()),
            seconds: Some(secs),
            description: Some(description.into()),
            uniqueid: Some(format!("{date}{callerid}")),
            ..CdrRecord::default()
        }
    }

    fn ctx() -> ScoreContext {
        let n = |s: &str| PhoneNumber::parse(s).unwrap();
        ScoreContext {
            dids: vec![n("5551234567")],
            phonebook: PhonebookSnapshot {
                entries: vec![
                    Entry {
                        id: 1,
                        name: "Mom".into(),
                        number: "3055550001".into(),
                        normalized: Some(n("3055550001")),
                        speed_dial: None,
                        callerid: None,
                        note: None,
                    },
                    Entry {
                        id: 2,
                        name: "Robo".into(),
                        number: "8445550142".into(),
                        normalized: Some(n("8445550142")),
                        speed_dial: None,
                        callerid: None,
                        note: None,
                    },
                ],
                groups: vec![
                    Group {
                        id: 10,
                        name: "Family".into(),
                        members: vec![1],
                    },
                    Group {
                        id: 11,
                        name: "Spam".into(),
                        members: vec![2],
                    },
                ],
            },
            spam_group: Some(11),
            filters: Vec::new(),
        }
    }

    fn rows() -> Vec<CdrRecord> {
        let did = "5551234567";
        let mut v = vec![
            // Neighbour spoof, once, SPAM? name, unanswered.
            row(
                "2025-01-02 10:00:00",
                "\"SPAM?\" <5551230042>",
                did,
                "NO ANSWER",
                0,
            ),
            // Neighbour spoof with no name (number shown as name), a 3 s pickup.
            row(
                "2025-01-03 11:00:00",
                "\"5551239999\" <5551239999>",
                did,
                "ANSWERED",
                3,
            ),
            // Anonymous.
            row(
                "2025-01-03 22:30:00",
                "\"Anonymous\" <anonymous>",
                did,
                "NO ANSWER",
                0,
            ),
        ];
        // A robocaller on many days, already in Spam.
        for d in 1..=6 {
            v.push(row(
                &format!("2025-01-{:02} 10:0{d}:00", d + 3),
                "\"SPAM? TELEMKTG\" <8445550142>",
                did,
                if d % 2 == 0 { "ANSWERED" } else { "NO ANSWER" },
                if d % 2 == 0 { 4 } else { 0 },
            ));
        }
        // Mom: long calls, a missed one called back.
        for d in 1..=5 {
            v.push(row(
                &format!("2025-01-{:02} 18:00:00", d + 10),
                "\"WILSON MARGARET\" <3055550001>",
                did,
                "ANSWERED",
                600,
            ));
        }
        v.push(row(
            "2025-01-20 18:00:00",
            "\"WILSON MARGARET\" <3055550001>",
            did,
            "NO ANSWER",
            0,
        ));
        v.push(row(
            "2025-01-20 18:30:00",
            "\"FRONT DESK\" <5551234567>",
            "3055550001",
            "ANSWERED",
            900,
        ));
        // A friend not in the phonebook: answered long calls, called back.
        v.push(row(
            "2025-01-21 12:00:00",
            "CHEN ALEX <7865550101>",
            did,
            "ANSWERED",
            300,
        ));
        v.push(row(
            "2025-01-22 12:00:00",
            "\"FRONT DESK\" <5551234567>",
            "7865550101",
            "ANSWERED",
            120,
        ));
        v
    }

    #[test]
    fn names_and_legs() {
        assert!(is_spam_name("SPAM? TELEMKTG"));
        assert!(is_spam_name("Scam Likely"));
        assert!(!is_spam_name("WILSON MARGARET"));
        assert!(is_empty_name("V"));
        assert!(is_empty_name("WIRELESS CALLER"));
        assert!(is_empty_name("5551234567"));
        assert!(!is_empty_name("HEALTH PLAN"));
        let dids = vec![PhoneNumber::parse("5551234567").unwrap()];
        let r = rows();
        assert!(matches!(leg(&r[0], &dids), Leg::In(_)));
        let out = r
            .iter()
            .find(|x| x.destination.as_deref() == Some("3055550001"))
            .unwrap();
        assert!(matches!(leg(out, &dids), Leg::Out(_)));
    }

    #[test]
    fn spam_ranks_above_family_and_friends() {
        let c = ctx();
        let all = SuggestOptions {
            min_score: i32::MIN,
            include_marked: true,
            ..SuggestOptions::default()
        };
        let (ranked, anonymous) = rank_callers(&rows(), &c, &all);
        let order: Vec<&str> = ranked.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(order.len(), 5, "{order:?}");
        let pos = |n: &str| order.iter().position(|x| *x == n).unwrap();
        for spam in ["5551230042", "5551239999", "8445550142"] {
            assert!(pos(spam) < pos("3055550001"), "{order:?}");
            assert!(pos(spam) < pos("7865550101"), "{order:?}");
        }
        // The robocaller calling on six days tops the list, above the single neighbour spoof
        // with a SPAM? name.
        assert_eq!(
            ranked[0].number.as_str(),
            "8445550142",
            "{}",
            ranked[0].explain()
        );
        assert_eq!(
            ranked[1].number.as_str(),
            "5551230042",
            "{}",
            ranked[1].explain()
        );
        let robo = ranked
            .iter()
            .find(|c| c.number.as_str() == "8445550142")
            .unwrap();
        assert!(robo.already_marked);
        assert!(
            robo.reasons
                .iter()
                .any(|r| r.signal == SpamSignal::Repeated)
        );
        assert!(
            robo.reasons
                .iter()
                .any(|r| r.signal == SpamSignal::ManyDays)
        );
        let spoof = ranked
            .iter()
            .find(|c| c.number.as_str() == "5551230042")
            .unwrap();
        assert!(
            spoof
                .reasons
                .iter()
                .any(|r| r.signal == SpamSignal::NeighbourSpoof)
        );
        assert!(
            spoof
                .reasons
                .iter()
                .any(|r| r.signal == SpamSignal::SpamName)
        );
        assert!(
            spoof.explain().contains("neighbour spoofing"),
            "{}",
            spoof.explain()
        );
        let mom = ranked
            .iter()
            .find(|c| c.number.as_str() == "3055550001")
            .unwrap();
        assert!(mom.score < 0, "{}", mom.explain());
        assert!(
            mom.reasons
                .iter()
                .any(|r| r.signal == SpamSignal::InPhonebookGroup)
        );
        assert!(
            mom.reasons
                .iter()
                .any(|r| r.signal == SpamSignal::CalledBack)
        );
        assert_eq!(mom.stats.called_back, 1);
        assert_eq!(mom.stats.long, 5);
        assert_eq!(anonymous.calls, 1);
        assert_eq!(anonymous.odd_hours, 1);

        // Defaults: spam only, marked numbers left out.
        let (ranked, _) = rank_callers(&rows(), &c, &SuggestOptions::default());
        let order: Vec<&str> = ranked.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(order, vec!["5551230042", "5551239999"]);
    }
    /// Rows of `n` unanswered calls from `callerid` to the DID, one a day from `day`.
    fn calls_from(callerid: &str, n: u32, day: u32) -> Vec<CdrRecord> {
        (0..n)
            .map(|i| {
                row(
                    &format!("2025-02-{:02} 14:00:00", day + i),
                    callerid,
                    "5551234567",
                    "NO ANSWER",
                    0,
                )
            })
            .collect()
    }

    #[test]
    fn a_number_calling_again_and_again_ranks_above_a_single_call() {
        let c = ScoreContext {
            dids: vec![PhoneNumber::parse("5551234567").unwrap()],
            ..ScoreContext::default()
        };
        // A one-off neighbour spoof with a SPAM? name, against a number that called eight times
        // with the same name, and one that called four times with no name at all.
        let mut rows = calls_from("\"SPAM?\" <5551230042>", 1, 1);
        rows.extend(calls_from("\"SPAM?\" <3055550190>", 8, 2));
        rows.extend(calls_from("\"V\" <7275550111>", 4, 3));
        rows.extend(calls_from("\"V\" <5551230077>", 1, 20));
        let (ranked, _) = rank_callers(&rows, &c, &SuggestOptions::default());
        let order: Vec<&str> = ranked.iter().map(|c| c.number.as_str()).collect();
        let pos = |n: &str| order.iter().position(|x| *x == n).unwrap();
        assert!(pos("3055550190") < pos("5551230042"), "{order:?}");
        assert!(pos("7275550111") < pos("5551230077"), "{order:?}");
        let robo = &ranked[pos("3055550190")];
        assert!(
            robo.reasons
                .iter()
                .any(|r| r.signal == SpamSignal::Repeated && r.points > 15),
            "{}",
            robo.explain()
        );
        // Two calls are already a repeat, worth less than eight.
        let (two, _) = rank_callers(
            &calls_from("\"V\" <7275550111>", 2, 3),
            &c,
            &SuggestOptions {
                min_score: i32::MIN,
                ..SuggestOptions::default()
            },
        );
        let points = two[0]
            .reasons
            .iter()
            .find(|r| r.signal == SpamSignal::Repeated)
            .map(|r| r.points);
        assert_eq!(points, Some(8), "{}", two[0].explain());
    }

    #[test]
    fn numbers_a_blocking_filter_covers_are_left_out() {
        let mut c = ctx();
        c.filters = vec![
            Filter {
                id: 7,
                rule: FilterRule::new("5551230042", "all", "sys:hangup"),
            },
            // Not blocking: sends the caller to voicemail.
            Filter {
                id: 8,
                rule: FilterRule::new("5551239999", "all", "vm:101"),
            },
        ];
        let (ranked, _) = rank_callers(&rows(), &c, &SuggestOptions::default());
        let order: Vec<&str> = ranked.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(order, vec!["5551239999"]);
        let all = SuggestOptions {
            include_marked: true,
            ..SuggestOptions::default()
        };
        let (ranked, _) = rank_callers(&rows(), &c, &all);
        let blocked = ranked
            .iter()
            .find(|c| c.number.as_str() == "5551230042")
            .unwrap();
        assert_eq!(blocked.blocked_by, vec![7]);
        assert!(!blocked.already_marked);
    }
}
