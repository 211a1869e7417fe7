//! Idempotent phonebook and phonebook-group operations.
//!
//! VoIP.ms keeps a group's membership as a `;`-joined list of phonebook *entry* ids, allows several
//! entries for one number, replaces the whole membership on every `setPhonebookGroup`, and has no
//! compare-and-swap. [`Phonebook`] makes the common jobs safe on top of that:
//!
//! - numbers are matched in canonical form ([`PhoneNumber`]), so `+1 (555) 123-4567` finds the
//!   entry saved as `555.123.4567`;
//! - an existing entry for a number is reused (one already in the group first); an entry is only
//!   created when the number has none, and membership is never duplicated;
//! - repeating an operation changes nothing and says so;
//! - operations on one group are serialised within the process, the group is read back after
//!   writing, and a write lost to another writer is retried a bounded number of times (and
//!   reported in `race_retries`);
//! - a write whose reply is lost is checked with a read before anything is sent again;
//! - a group that would go over the member limit fails with [`OpError::MembersExceeded`] and
//!   nothing half-written (entries created for it are deleted again).
//!
//! Each mutation has a `plan_*` twin that returns the exact calls it would send ([`DryRun`]).
//!
//! ```no_run
//! # async fn demo(client: voipms_sdk::Client) -> Result<(), voipms_sdk::ops::OpError> {
//! use voipms_sdk::phonebook::Phonebook;
//! let phonebook = Phonebook::new(&client);
//! let added = phonebook.add_number_to_group("Family", "+1 (555) 123-4567", Some("Mom")).await?;
//! println!("entry {} (created: {}), added: {}", added.entry_id, added.entry_created, added.added);
//! let again = phonebook.add_number_to_group("Family", "555.123.4567", None).await?;
//! assert!(again.already_member && !again.added);
//! # Ok(()) }
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};

use tokio::sync::OwnedMutexGuard;

use crate::Client;
use crate::api::{PhonebookEntry, PhonebookGroup};
use crate::error::Error;
use crate::numbers::PhoneNumber;
use crate::ops::{self, ApiCall, DryRun, MembersExceeded, OpError, Session};
use crate::steps::{self, ExecError, Known, Ref, Step};

/// One phonebook entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Entry id (`phonebook`).
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The number as stored.
    pub number: String,
    /// The number in canonical form, when it is one.
    pub normalized: Option<PhoneNumber>,
    /// Speed-dial code, if set.
    pub speed_dial: Option<String>,
    /// Caller ID override, if set.
    pub callerid: Option<String>,
    /// Note, if set.
    pub note: Option<String>,
}

impl Entry {
    /// Reads a getPhonebook row; `None` when it has no usable id.
    pub fn from_api(row: &PhonebookEntry) -> Option<Self> {
        let id = steps::parse_id(row.phonebook.as_deref())?;
        let number = row.number.clone().unwrap_or_default();
        Some(Entry {
            id,
            name: row.name.clone().unwrap_or_default(),
            normalized: PhoneNumber::parse(&number).ok(),
            number,
            speed_dial: row.speed_dial.clone().filter(|s| !s.is_empty()),
            callerid: row.callerid.clone().filter(|s| !s.is_empty()),
            note: row.note.clone().filter(|s| !s.is_empty()),
        })
    }

    /// Whether this entry is for `number`.
    pub fn is_number(&self, number: &PhoneNumber) -> bool {
        self.normalized.as_ref() == Some(number)
    }
}

/// One phonebook group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group id (`phonebook_group`; `p:<id>` in a Caller ID filter).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Member entry ids, in the order VoIP.ms lists them.
    pub members: Vec<i64>,
}

impl Group {
    /// Reads a getPhonebookGroups row; `None` when it has no usable id.
    pub fn from_api(row: &PhonebookGroup) -> Option<Self> {
        let id = steps::parse_id(row.phonebook_group.as_deref())?;
        Some(Group {
            id,
            name: row.name.clone().unwrap_or_default(),
            members: parse_members(row.members.as_deref().unwrap_or("")),
        })
    }

    /// Whether entry `id` is a member.
    pub fn has_member(&self, id: i64) -> bool {
        self.members.contains(&id)
    }
}

/// Splits a `members` value (`;`-joined, sometimes `,`-joined) into ids; blanks are skipped.
pub fn parse_members(text: &str) -> Vec<i64> {
    let mut seen = HashSet::new();
    text.split([';', ','])
        .filter_map(|m| m.trim().parse::<i64>().ok())
        .filter(|id| seen.insert(*id))
        .collect()
}

/// The phonebook as read at one moment: every entry and every group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhonebookSnapshot {
    /// Every entry.
    pub entries: Vec<Entry>,
    /// Every group.
    pub groups: Vec<Group>,
}

impl PhonebookSnapshot {
    /// Entries for `number`, oldest (lowest id) first.
    pub fn entries_for(&self, number: &PhoneNumber) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.is_number(number))
            .collect();
        v.sort_by_key(|e| e.id);
        v
    }

    /// Groups with this name: exact matches (after trimming) first, then case-insensitive ones,
    /// each by ascending id.
    pub fn groups_named(&self, name: &str) -> Vec<&Group> {
        groups_named(&self.groups, name)
    }

    /// The group an operation on `name` uses: the first of [`groups_named`](Self::groups_named).
    pub fn group_named(&self, name: &str) -> Option<&Group> {
        self.groups_named(name).into_iter().next()
    }

    /// The group with this id.
    pub fn group(&self, id: i64) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Groups that list entry `id`.
    pub fn groups_holding(&self, id: i64) -> Vec<&Group> {
        self.groups.iter().filter(|g| g.has_member(id)).collect()
    }

    /// Groups holding any entry for `number`.
    pub fn groups_holding_number(&self, number: &PhoneNumber) -> Vec<&Group> {
        let ids: HashSet<i64> = self.entries_for(number).iter().map(|e| e.id).collect();
        self.groups
            .iter()
            .filter(|g| g.members.iter().any(|m| ids.contains(m)))
            .collect()
    }

    fn known(&self) -> Known {
        Known {
            entries: self.entries.iter().map(|e| e.id).collect(),
            groups: self.groups.iter().map(|g| g.id).collect(),
            filters: HashSet::new(),
        }
    }
}

pub(crate) fn groups_named<'a>(groups: &'a [Group], name: &str) -> Vec<&'a Group> {
    let name = name.trim();
    let mut exact: Vec<&Group> = groups.iter().filter(|g| g.name.trim() == name).collect();
    let mut loose: Vec<&Group> = groups
        .iter()
        .filter(|g| g.name.trim() != name && g.name.trim().eq_ignore_ascii_case(name))
        .collect();
    exact.sort_by_key(|g| g.id);
    loose.sort_by_key(|g| g.id);
    exact.extend(loose);
    exact
}

/// A number to add to a group, with the name to give its entry if one has to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    /// The number, in any form [`PhoneNumber::parse`] accepts.
    pub number: String,
    /// Name for a new entry; the number itself when `None`.
    pub name: Option<String>,
}

impl NewMember {
    /// A number with an entry name.
    pub fn named(number: impl Into<String>, name: impl Into<String>) -> Self {
        NewMember {
            number: number.into(),
            name: Some(name.into()),
        }
    }
}

impl From<&str> for NewMember {
    fn from(number: &str) -> Self {
        NewMember {
            number: number.to_owned(),
            name: None,
        }
    }
}

impl From<String> for NewMember {
    fn from(number: String) -> Self {
        NewMember { number, name: None }
    }
}

impl From<&String> for NewMember {
    fn from(number: &String) -> Self {
        NewMember::from(number.as_str())
    }
}

impl From<PhoneNumber> for NewMember {
    fn from(number: PhoneNumber) -> Self {
        NewMember::from(number.as_str())
    }
}

/// What happens to entries that a removal leaves in no group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OrphanEntries {
    /// Keep them in the phonebook (default).
    #[default]
    Keep,
    /// Delete them.
    Delete,
    /// Delete them only if their note is exactly this text (entries a helper created itself).
    DeleteIfNote(String),
}

/// Settings of a [`Phonebook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonebookOptions {
    /// Attempts when another writer overwrites a group between this helper's write and its read
    /// back (3).
    pub max_attempts: u32,
    /// Read an updated group back after writing it (on by default: one extra read per change;
    /// a group created together with its members needs no read back).
    pub verify: bool,
    /// Refuse, before writing anything, to grow a group beyond this many members. `None`
    /// (default) leaves the limit to VoIP.ms, whose `members_exceeded` is handled the same way.
    pub max_group_members: Option<usize>,
    /// Note written on entries this helper creates (none by default).
    pub entry_note: Option<String>,
}

impl Default for PhonebookOptions {
    fn default() -> Self {
        PhonebookOptions {
            max_attempts: 3,
            verify: true,
            max_group_members: None,
            entry_note: None,
        }
    }
}

/// The result of [`Phonebook::ensure_group`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnsureGroup {
    /// The group's id.
    pub group_id: i64,
    /// Its name as stored.
    pub name: String,
    /// Whether this call created it.
    pub created: bool,
    /// Other groups with the same name (left alone; the oldest is used).
    pub duplicate_groups: Vec<i64>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// What happened to one number in an addition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAddition {
    /// The number (canonical).
    pub number: PhoneNumber,
    /// The entry that is (now) the group member.
    pub entry_id: i64,
    /// Whether that entry was created by this operation.
    pub entry_created: bool,
    /// Whether an entry for the number was already a member (nothing to do).
    pub already_member: bool,
    /// Whether this operation added it to the group.
    pub added: bool,
    /// Other entries for the same number (duplicates), left alone.
    pub other_entries: Vec<i64>,
}

/// The result of [`Phonebook::add_numbers_to_group`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupAddition {
    /// The group's id.
    pub group_id: i64,
    /// Its name as stored.
    pub group_name: String,
    /// Whether the group was created by this operation.
    pub group_created: bool,
    /// One per distinct number asked for, in the order given.
    pub members: Vec<MemberAddition>,
    /// Members before and after.
    pub members_before: usize,
    /// Members after.
    pub members_after: usize,
    /// Times the group was found overwritten by another writer and the change redone.
    pub race_retries: u32,
    /// Other groups with the same name found when reading back a group this operation created:
    /// another writer created one at the same time (the numbers are in `group_id`).
    pub other_groups_named: Vec<i64>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl GroupAddition {
    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        self.calls.iter().any(ApiCall::changed_account)
    }
}

/// The result of [`Phonebook::add_number_to_group`].
#[derive(Debug, Clone, PartialEq)]
pub struct NumberAddition {
    /// The group's id.
    pub group_id: i64,
    /// Whether the group was created by this operation.
    pub group_created: bool,
    /// The number (canonical).
    pub number: PhoneNumber,
    /// The entry that is (now) the member.
    pub entry_id: i64,
    /// Whether that entry was created by this operation.
    pub entry_created: bool,
    /// Whether the number was already a member.
    pub already_member: bool,
    /// Whether this operation added it.
    pub added: bool,
    /// Other entries for the same number, left alone.
    pub other_entries: Vec<i64>,
    /// Times a lost race was redone.
    pub race_retries: u32,
    /// Other groups with the same name that another writer created at the same time.
    pub other_groups_named: Vec<i64>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl NumberAddition {
    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        self.calls.iter().any(ApiCall::changed_account)
    }
}

impl From<GroupAddition> for NumberAddition {
    fn from(g: GroupAddition) -> Self {
        let m = g
            .members
            .into_iter()
            .next()
            .expect("an addition of one number has one member");
        NumberAddition {
            group_id: g.group_id,
            group_created: g.group_created,
            number: m.number,
            entry_id: m.entry_id,
            entry_created: m.entry_created,
            already_member: m.already_member,
            added: m.added,
            other_entries: m.other_entries,
            race_retries: g.race_retries,
            other_groups_named: g.other_groups_named,
            calls: g.calls,
        }
    }
}

/// The result of [`Phonebook::remove_number_from_group`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRemoval {
    /// The group's id; `None` when no group has that name (nothing to do).
    pub group_id: Option<i64>,
    /// The number (canonical).
    pub number: PhoneNumber,
    /// Entries for the number taken out of the group's membership.
    pub removed_entries: Vec<i64>,
    /// Of those, entries deleted because no group held them any more.
    pub deleted_entries: Vec<i64>,
    /// Times a lost race was redone.
    pub race_retries: u32,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl GroupRemoval {
    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        self.calls.iter().any(ApiCall::changed_account)
    }
}

/// Idempotent phonebook operations over a [`Client`]. Cheap to clone.
///
/// Operations on the same group are serialised across every `Phonebook` (and
/// [`SpamGuard`](crate::spam::SpamGuard)) of the same account in this process.
#[derive(Debug, Clone)]
pub struct Phonebook {
    client: Client,
    options: PhonebookOptions,
}

/// Parsed input of an addition.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    pub number: PhoneNumber,
    pub name: Option<String>,
}

pub(crate) fn parse_wanted(
    members: impl IntoIterator<Item = impl Into<NewMember>>,
) -> Result<Vec<Wanted>, OpError> {
    let mut out: Vec<Wanted> = Vec::new();
    for m in members {
        let m = m.into();
        let number = PhoneNumber::parse(&m.number)?;
        if !out.iter().any(|w| w.number == number) {
            out.push(Wanted {
                number,
                name: m.name.filter(|n| !n.trim().is_empty()),
            });
        }
    }
    Ok(out)
}

/// The planned addition of numbers to a group.
#[derive(Debug, Clone)]
pub(crate) struct AddPlan {
    pub steps: Vec<Step>,
    /// The existing group, or `None` when the plan creates it.
    pub group_id: Option<i64>,
    pub group_name: String,
    /// Index of the CreateGroup step, if any.
    pub create_group_step: Option<usize>,
    pub members_before: usize,
    pub members_after: usize,
    pub decisions: Vec<Decision>,
}

#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub number: PhoneNumber,
    pub entry: Ref,
    pub already_member: bool,
    pub other_entries: Vec<i64>,
}

impl AddPlan {
    pub(crate) fn group_ref(&self) -> Ref {
        match (self.group_id, self.create_group_step) {
            (Some(id), _) => Ref::Id(id),
            (None, Some(step)) => Ref::Created(step),
            (None, None) => unreachable!("a plan either has the group or creates it"),
        }
    }
}

/// Plans adding `wanted` to the group named `group_name` (created if missing, even when `wanted`
/// is empty).
pub(crate) fn plan_add(
    snap: &PhonebookSnapshot,
    group_name: &str,
    wanted: &[Wanted],
    note: Option<&str>,
    limit: Option<usize>,
) -> Result<AddPlan, usize> {
    let group = snap.group_named(group_name);
    let mut members: Vec<Ref> = group
        .map(|g| g.members.iter().map(|&m| Ref::Id(m)).collect())
        .unwrap_or_default();
    let members_before = members.len();
    let member_set: HashSet<i64> = group
        .map(|g| g.members.iter().copied().collect())
        .unwrap_or_default();
    let mut steps = Vec::new();
    let mut decisions = Vec::new();
    for w in wanted {
        let entries = snap.entries_for(&w.number);
        let in_group: Vec<i64> = entries
            .iter()
            .map(|e| e.id)
            .filter(|id| member_set.contains(id))
            .collect();
        let (entry, already_member) = if let Some(&id) = in_group.first() {
            (Ref::Id(id), true)
        } else if let Some(e) = entries.first() {
            members.push(Ref::Id(e.id));
            (Ref::Id(e.id), false)
        } else {
            steps.push(Step::CreateEntry {
                name: w
                    .name
                    .clone()
                    .unwrap_or_else(|| w.number.as_str().to_owned()),
                number: w.number.as_str().to_owned(),
                note: note.map(str::to_owned),
            });
            let r = Ref::Created(steps.len() - 1);
            members.push(r);
            (r, false)
        };
        let other_entries = entries
            .iter()
            .map(|e| e.id)
            .filter(|id| Ref::Id(*id) != entry)
            .collect();
        decisions.push(Decision {
            number: w.number.clone(),
            entry,
            already_member,
            other_entries,
        });
    }
    let members_after = members.len();
    if let Some(limit) = limit
        && members_after > limit
        && members_after > members_before
    {
        return Err(members_after);
    }
    let mut create_group_step = None;
    match group {
        Some(g) if members_after != members_before => steps.push(Step::SetGroup {
            id: g.id,
            name: g.name.clone(),
            members,
        }),
        Some(_) => {}
        None => {
            steps.push(Step::CreateGroup {
                name: group_name.trim().to_owned(),
                members,
            });
            create_group_step = Some(steps.len() - 1);
        }
    }
    Ok(AddPlan {
        steps,
        group_id: group.map(|g| g.id),
        group_name: group.map_or_else(|| group_name.trim().to_owned(), |g| g.name.clone()),
        create_group_step,
        members_before,
        members_after,
        decisions,
    })
}

/// The planned removal of a number from a group.
#[derive(Debug, Clone)]
pub(crate) struct RemovePlan {
    pub steps: Vec<Step>,
    pub group_id: Option<i64>,
    pub removed: Vec<i64>,
    pub deleted: Vec<i64>,
}

pub(crate) fn plan_remove(
    snap: &PhonebookSnapshot,
    group_name: &str,
    number: &PhoneNumber,
    orphans: &OrphanEntries,
) -> RemovePlan {
    let Some(group) = snap.group_named(group_name) else {
        return RemovePlan {
            steps: Vec::new(),
            group_id: None,
            removed: Vec::new(),
            deleted: Vec::new(),
        };
    };
    let entries: HashMap<i64, &Entry> = snap
        .entries_for(number)
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let removed: Vec<i64> = group
        .members
        .iter()
        .copied()
        .filter(|m| entries.contains_key(m))
        .collect();
    let mut steps = Vec::new();
    let mut deleted = Vec::new();
    if !removed.is_empty() {
        steps.push(Step::SetGroup {
            id: group.id,
            name: group.name.clone(),
            members: group
                .members
                .iter()
                .filter(|m| !removed.contains(m))
                .map(|&m| Ref::Id(m))
                .collect(),
        });
        for id in &removed {
            let elsewhere = snap
                .groups
                .iter()
                .any(|g| g.id != group.id && g.has_member(*id));
            let delete = match orphans {
                OrphanEntries::Keep => false,
                OrphanEntries::Delete => true,
                OrphanEntries::DeleteIfNote(note) => {
                    entries[id].note.as_deref().map(str::trim) == Some(note.trim())
                }
            };
            if delete && !elsewhere {
                steps.push(Step::DeleteEntry { id: *id });
                deleted.push(*id);
            }
        }
    }
    RemovePlan {
        steps,
        group_id: Some(group.id),
        removed,
        deleted,
    }
}

/// Whether a refusal is a member or entry limit: `max_phonebook` (the group is full) or
/// `members_exceeded` (the phonebook is full).
pub(crate) fn is_member_limit(error: &Error) -> bool {
    matches!(error.status(), Some("members_exceeded" | "max_phonebook"))
}

/// Whether a refusal means the records planned from changed under us (another writer deleted an
/// entry or the group): re-read and plan again.
pub(crate) fn is_stale(error: &Error) -> bool {
    matches!(
        error.status(),
        Some("invalid_member" | "no_phonebook_group" | "used_filter")
    )
}

/// After a group write that asked for an empty member list: when the group came back with exactly
/// the members it had before, VoIP.ms ignored the empty list rather than lost a race.
pub(crate) fn ignored_empty_write(
    before: &PhonebookSnapshot,
    after: &PhonebookSnapshot,
    steps: &[Step],
) -> Option<Error> {
    steps.iter().find_map(|step| match step {
        Step::SetGroup { id, name, members } if members.is_empty() => {
            let was = before.group(*id)?;
            let is = after.group(*id)?;
            (!was.members.is_empty() && was.members == is.members).then(|| Error::InvalidRequest {
                method: "setPhonebookGroup".into(),
                message: format!(
                    "VoIP.ms answered success but kept the members of phonebook group \
                         `{name}` when sent an empty member list, so a group cannot be emptied \
                         this way; delete the group (delPhonebookGroup) if it should go, or keep \
                         another member in it"
                ),
            })
        }
        _ => None,
    })
}

/// Reads entries and groups (two calls).
pub(crate) async fn read_snapshot(s: &mut Session) -> Result<PhonebookSnapshot, OpError> {
    let entries = steps::read_entries(s).await?;
    let groups = steps::read_groups(s).await?;
    Ok(PhonebookSnapshot { entries, groups })
}

/// Takes the locks of a group and of the numbers whose entries an operation may create or delete,
/// in a fixed order (group, then numbers ascending) so that operations never deadlock.
pub(crate) async fn lock_group_and_numbers<'a>(
    client: &Client,
    group: &str,
    numbers: impl IntoIterator<Item = &'a PhoneNumber>,
) -> Vec<OwnedMutexGuard<()>> {
    let mut guards = vec![ops::lock(client, "group", group).await];
    let sorted: BTreeSet<&str> = numbers.into_iter().map(PhoneNumber::as_str).collect();
    for n in sorted {
        guards.push(ops::lock(client, "number", n).await);
    }
    guards
}

/// Deletes entries created by an operation that has to be undone; returns (deleted, left).
pub(crate) async fn roll_back_entries(s: &mut Session, created: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let steps: Vec<Step> = created.iter().map(|&id| Step::DeleteEntry { id }).collect();
    let mut known = Known::default();
    let mut deleted = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        match steps::execute(s, std::slice::from_ref(step), &mut known).await {
            Ok(_) => deleted.push(created[i]),
            Err(_) => return (deleted, created[i..].to_vec()),
        }
    }
    (deleted, Vec::new())
}

/// Ids created by the CreateEntry steps of a plan.
pub(crate) fn created_entries(steps: &[Step], ids: &[Option<i64>]) -> Vec<i64> {
    steps
        .iter()
        .zip(ids)
        .filter(|(s, _)| matches!(s, Step::CreateEntry { .. }))
        .filter_map(|(_, id)| *id)
        .collect()
}

impl Phonebook {
    /// Phonebook operations with the default [`PhonebookOptions`].
    pub fn new(client: &Client) -> Self {
        Phonebook::with_options(client, PhonebookOptions::default())
    }

    /// Phonebook operations with `options`.
    pub fn with_options(client: &Client, options: PhonebookOptions) -> Self {
        Phonebook {
            client: client.clone(),
            options,
        }
    }

    /// The client in use.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The settings in use.
    pub fn options(&self) -> &PhonebookOptions {
        &self.options
    }

    /// Every entry and every group (two calls).
    pub async fn snapshot(&self) -> Result<PhonebookSnapshot, OpError> {
        let mut s = Session::new(&self.client, "phonebook snapshot");
        read_snapshot(&mut s).await
    }

    /// Every entry (one call).
    pub async fn entries(&self) -> Result<Vec<Entry>, OpError> {
        let mut s = Session::new(&self.client, "list phonebook entries");
        steps::read_entries(&mut s).await
    }

    /// Every group (one call).
    pub async fn groups(&self) -> Result<Vec<Group>, OpError> {
        let mut s = Session::new(&self.client, "list phonebook groups");
        steps::read_groups(&mut s).await
    }

    /// The entries for `number` (any spelling), oldest first (one call).
    pub async fn entries_for_number(&self, number: &str) -> Result<Vec<Entry>, OpError> {
        let number = PhoneNumber::parse(number)?;
        let mut entries: Vec<Entry> = self
            .entries()
            .await?
            .into_iter()
            .filter(|e| e.is_number(&number))
            .collect();
        entries.sort_by_key(|e| e.id);
        Ok(entries)
    }

    /// Makes sure a group named `name` exists (an empty group is valid); returns its id and
    /// whether it was created. One read when it exists; otherwise a create and a read back.
    pub async fn ensure_group(&self, name: &str) -> Result<EnsureGroup, OpError> {
        let name = check_group_name(name)?;
        let _guard = ops::lock(&self.client, "group", name).await;
        let mut s = Session::new(&self.client, "creating the phonebook group");
        let groups = steps::read_groups(&mut s).await?;
        let existing = groups_named(&groups, name);
        if let Some(g) = existing.first() {
            return Ok(EnsureGroup {
                group_id: g.id,
                name: g.name.clone(),
                created: false,
                duplicate_groups: existing[1..].iter().map(|g| g.id).collect(),
                calls: s.take_calls(),
            });
        }
        let step = Step::CreateGroup {
            name: name.to_owned(),
            members: Vec::new(),
        };
        let mut known = Known {
            groups: groups.iter().map(|g| g.id).collect(),
            ..Known::default()
        };
        let ids = match steps::execute(&mut s, std::slice::from_ref(&step), &mut known).await {
            Ok(ids) => ids,
            Err(ExecError::Refused { error, .. }) => return Err(s.fail(error)),
            Err(ExecError::Stop(e)) => return Err(e),
        };
        let id = ids[0].expect("a create step yields an id");
        let mut duplicate_groups = Vec::new();
        if self.options.verify {
            let groups = steps::read_groups(&mut s).await?;
            if !groups.iter().any(|g| g.id == id) {
                return Err(s.fail(Error::InvalidRequest {
                    method: "setPhonebookGroup".into(),
                    message: format!(
                        "group `{name}` was created with id {id} but is missing when read back; \
                         another program may have deleted it"
                    ),
                }));
            }
            duplicate_groups = groups_named(&groups, name)
                .iter()
                .map(|g| g.id)
                .filter(|g| *g != id)
                .collect();
        }
        Ok(EnsureGroup {
            group_id: id,
            name: name.to_owned(),
            created: true,
            duplicate_groups,
            calls: s.take_calls(),
        })
    }

    /// The calls [`ensure_group`](Self::ensure_group) would make, without making them.
    pub async fn plan_ensure_group(&self, name: &str) -> Result<DryRun, OpError> {
        let name = check_group_name(name)?;
        let mut s = Session::new(&self.client, "creating the phonebook group (planning)");
        let groups = steps::read_groups(&mut s).await?;
        let steps = if groups_named(&groups, name).is_empty() {
            vec![Step::CreateGroup {
                name: name.to_owned(),
                members: Vec::new(),
            }]
        } else {
            Vec::new()
        };
        Ok(DryRun {
            warnings: Vec::new(),
            reads: s.take_calls(),
            planned: steps::planned_calls(&steps),
        })
    }

    /// Adds one number to a group (created if missing); `name` names a new entry (the number
    /// when `None`). Reuses an existing entry for the number, preferring one already in the group.
    pub async fn add_number_to_group(
        &self,
        group: &str,
        number: &str,
        name: Option<&str>,
    ) -> Result<NumberAddition, OpError> {
        let member = NewMember {
            number: number.to_owned(),
            name: name.map(str::to_owned),
        };
        self.add_numbers_to_group(group, [member])
            .await
            .map(NumberAddition::from)
    }

    /// The calls [`add_number_to_group`](Self::add_number_to_group) would make.
    pub async fn plan_add_number_to_group(
        &self,
        group: &str,
        number: &str,
        name: Option<&str>,
    ) -> Result<DryRun, OpError> {
        let member = NewMember {
            number: number.to_owned(),
            name: name.map(str::to_owned),
        };
        self.plan_add_numbers_to_group(group, [member]).await
    }

    /// Adds numbers to a group in one batch: one read of entries and groups, one write per number
    /// that has no entry yet, one group write (and one read back to verify). Repeated numbers are
    /// taken once.
    pub async fn add_numbers_to_group(
        &self,
        group: &str,
        members: impl IntoIterator<Item = impl Into<NewMember>>,
    ) -> Result<GroupAddition, OpError> {
        let group = check_group_name(group)?;
        let wanted = parse_wanted(members)?;
        let _guards =
            lock_group_and_numbers(&self.client, group, wanted.iter().map(|w| &w.number)).await;
        let mut s = Session::new(&self.client, "adding to the phonebook group");
        add_locked(&mut s, &self.options, group, &wanted).await
    }

    /// The calls [`add_numbers_to_group`](Self::add_numbers_to_group) would make.
    pub async fn plan_add_numbers_to_group(
        &self,
        group: &str,
        members: impl IntoIterator<Item = impl Into<NewMember>>,
    ) -> Result<DryRun, OpError> {
        let group = check_group_name(group)?;
        let wanted = parse_wanted(members)?;
        let mut s = Session::new(&self.client, "adding to the phonebook group (planning)");
        let snap = read_snapshot(&mut s).await?;
        let plan = plan_add(
            &snap,
            group,
            &wanted,
            self.options.entry_note.as_deref(),
            self.options.max_group_members,
        )
        .map_err(|wanted| limit_error(&mut s, &snap, group, wanted, &self.options))?;
        Ok(DryRun {
            warnings: Vec::new(),
            reads: s.take_calls(),
            planned: steps::planned_calls(&plan.steps),
        })
    }

    /// Takes every entry for `number` out of the group's membership. With
    /// [`OrphanEntries::Delete`], entries that are then in no group are deleted as well. Reports
    /// what it removed, or that nothing changed (also when the group does not exist).
    pub async fn remove_number_from_group(
        &self,
        group: &str,
        number: &str,
        orphans: OrphanEntries,
    ) -> Result<GroupRemoval, OpError> {
        let group = check_group_name(group)?;
        let number = PhoneNumber::parse(number)?;
        let _guards = lock_group_and_numbers(&self.client, group, [&number]).await;
        let mut s = Session::new(&self.client, "removing from the phonebook group");
        remove_locked(&mut s, &self.options, group, &number, &orphans).await
    }

    /// The calls [`remove_number_from_group`](Self::remove_number_from_group) would make.
    pub async fn plan_remove_number_from_group(
        &self,
        group: &str,
        number: &str,
        orphans: OrphanEntries,
    ) -> Result<DryRun, OpError> {
        let group = check_group_name(group)?;
        let number = PhoneNumber::parse(number)?;
        let mut s = Session::new(&self.client, "removing from the phonebook group (planning)");
        let snap = read_snapshot(&mut s).await?;
        let plan = plan_remove(&snap, group, &number, &orphans);
        Ok(DryRun {
            warnings: Vec::new(),
            reads: s.take_calls(),
            planned: steps::planned_calls(&plan.steps),
        })
    }
}

pub(crate) fn check_group_name(name: &str) -> Result<&str, OpError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(OpError::invalid(
            "the phonebook group name is empty: give the name of the group (for example Spam)",
        ));
    }
    Ok(name)
}

pub(crate) fn limit_error(
    s: &mut Session,
    snap: &PhonebookSnapshot,
    group: &str,
    wanted: usize,
    options: &PhonebookOptions,
) -> OpError {
    OpError::MembersExceeded(Box::new(MembersExceeded {
        group: group.to_owned(),
        group_id: snap.group_named(group).map(|g| g.id),
        wanted,
        limit: options.max_group_members,
        error: None,
        rolled_back: Vec::new(),
        left_behind: Vec::new(),
        calls: s.take_calls(),
    }))
}

/// Undoes the entries a refused group write had been going to use, and reports.
pub(crate) async fn members_exceeded(
    s: &mut Session,
    plan: &AddPlan,
    ids: &[Option<i64>],
    error: Error,
) -> OpError {
    let created = created_entries(&plan.steps, ids);
    let (rolled_back, left_behind) = roll_back_entries(s, &created).await;
    OpError::MembersExceeded(Box::new(MembersExceeded {
        group: plan.group_name.clone(),
        group_id: plan.group_id,
        wanted: plan.members_after,
        limit: None,
        error: Some(error),
        rolled_back,
        left_behind,
        calls: s.take_calls(),
    }))
}

/// The body of an addition, with the group and number locks held.
pub(crate) async fn add_locked(
    s: &mut Session,
    options: &PhonebookOptions,
    group: &str,
    wanted: &[Wanted],
) -> Result<GroupAddition, OpError> {
    let attempts = options.max_attempts.max(1);
    let mut first: Option<(usize, Vec<bool>)> = None;
    let mut created_entries_all: HashSet<i64> = HashSet::new();
    let mut group_created = false;
    for attempt in 1..=attempts {
        let snap = read_snapshot(s).await?;
        let plan = plan_add(
            &snap,
            group,
            wanted,
            options.entry_note.as_deref(),
            options.max_group_members,
        )
        .map_err(|n| limit_error(s, &snap, group, n, options))?;
        let (members_before, initially_member) = first
            .get_or_insert_with(|| {
                (
                    plan.members_before,
                    plan.decisions.iter().map(|d| d.already_member).collect(),
                )
            })
            .clone();
        let mut known = snap.known();
        let ids = match steps::execute(s, &plan.steps, &mut known).await {
            Ok(ids) => ids,
            Err(ExecError::Refused { error, ids, .. }) if is_member_limit(&error) => {
                return Err(members_exceeded(s, &plan, &ids, error).await);
            }
            Err(ExecError::Refused { error, ids }) if is_stale(&error) && attempt < attempts => {
                created_entries_all.extend(created_entries(&plan.steps, &ids));
                tracing::warn!(group, attempt, status = ?error.status(), "phonebook changed; redoing");
                continue;
            }
            Err(ExecError::Refused { error, .. }) => return Err(s.fail(error)),
            Err(ExecError::Stop(e)) => return Err(e),
        };
        created_entries_all.extend(created_entries(&plan.steps, &ids));
        group_created |= plan.create_group_step.is_some();
        let group_id = plan
            .group_ref()
            .resolve(&ids)
            .expect("the group exists or was created");
        let entry_ids: Vec<i64> = plan
            .decisions
            .iter()
            .map(|d| {
                d.entry
                    .resolve(&ids)
                    .expect("entries exist or were created")
            })
            .collect();
        // Every change is read back: the group must hold every number (or the change is redone,
        // a bounded number of times, then reported as contention), and a group this plan
        // created must be the only one of its name (another writer may have created one too).
        let mut other_groups_named = Vec::new();
        if options.verify && !plan.steps.is_empty() {
            let groups = steps::read_groups(s).await?;
            let holds_all = groups
                .iter()
                .find(|g| g.id == group_id)
                .is_some_and(|g| entry_ids.iter().all(|id| g.has_member(*id)));
            if plan.create_group_step.is_some() {
                other_groups_named = groups
                    .iter()
                    .filter(|g| g.id != group_id && g.name.trim().eq_ignore_ascii_case(group))
                    .map(|g| g.id)
                    .collect();
            }
            if !holds_all {
                if attempt == attempts {
                    return Err(s.contention(format!("phonebook group `{group}`"), attempts));
                }
                tracing::warn!(group, attempt, "phonebook group was overwritten; redoing");
                continue;
            }
        }
        let members = plan
            .decisions
            .iter()
            .zip(&entry_ids)
            .zip(&initially_member)
            .map(|((d, &entry_id), &was_member)| MemberAddition {
                number: d.number.clone(),
                entry_id,
                entry_created: created_entries_all.contains(&entry_id),
                already_member: was_member,
                added: !was_member,
                other_entries: d.other_entries.clone(),
            })
            .collect();
        return Ok(GroupAddition {
            group_id,
            group_name: plan.group_name.clone(),
            group_created,
            members,
            members_before,
            members_after: plan.members_after,
            race_retries: attempt - 1,
            other_groups_named,
            calls: s.take_calls(),
        });
    }
    unreachable!("the loop returns on its last attempt")
}

/// The body of a removal, with the group and number locks held.
pub(crate) async fn remove_locked(
    s: &mut Session,
    options: &PhonebookOptions,
    group: &str,
    number: &PhoneNumber,
    orphans: &OrphanEntries,
) -> Result<GroupRemoval, OpError> {
    let attempts = options.max_attempts.max(1);
    let mut removed_all: Vec<i64> = Vec::new();
    let mut deleted_all: Vec<i64> = Vec::new();
    let mut group_id = None;
    for attempt in 1..=attempts {
        let snap = read_snapshot(s).await?;
        let plan = plan_remove(&snap, group, number, orphans);
        group_id = group_id.or(plan.group_id);
        let mut known = snap.known();
        match steps::execute(s, &plan.steps, &mut known).await {
            Ok(_) => {}
            Err(ExecError::Refused { error, .. }) if is_stale(&error) && attempt < attempts => {
                continue;
            }
            Err(ExecError::Refused { error, .. }) => return Err(s.fail(error)),
            Err(ExecError::Stop(e)) => return Err(e),
        }
        for id in plan.removed {
            if !removed_all.contains(&id) {
                removed_all.push(id);
            }
        }
        deleted_all.extend(plan.deleted);
        if options.verify && !plan.steps.is_empty() {
            let now = read_snapshot(s).await?;
            let ids: HashSet<i64> = now.entries_for(number).iter().map(|e| e.id).collect();
            let clean = now
                .group_named(group)
                .is_none_or(|g| !g.members.iter().any(|m| ids.contains(m)));
            if !clean {
                if let Some(e) = ignored_empty_write(&snap, &now, &plan.steps) {
                    s.mark_ignored("setPhonebookGroup", "ignored: the members were kept");
                    return Err(s.fail(e));
                }
                if attempt == attempts {
                    return Err(s.contention(format!("phonebook group `{group}`"), attempts));
                }
                tracing::warn!(group, attempt, "phonebook group was overwritten; redoing");
                continue;
            }
        }
        return Ok(GroupRemoval {
            group_id,
            number: number.clone(),
            removed_entries: removed_all,
            deleted_entries: deleted_all,
            race_retries: attempt - 1,
            calls: s.take_calls(),
        });
    }
    unreachable!("the loop returns on its last attempt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, number: &str, note: Option<&str>) -> Entry {
        Entry {
            id,
            name: format!("e{id}"),
            number: number.into(),
            normalized: PhoneNumber::parse(number).ok(),
            speed_dial: None,
            callerid: None,
            note: note.map(str::to_owned),
        }
    }

    fn snap() -> PhonebookSnapshot {
        PhonebookSnapshot {
            entries: vec![
                entry(1, "5551110001", None),
                entry(2, "555.111.0002", None),
                entry(3, "+1 555 111 0002", None), // duplicate of 2
                entry(4, "sip:2563", None),
                entry(5, "5551110005", Some("marker")),
            ],
            groups: vec![
                Group {
                    id: 10,
                    name: "Family".into(),
                    members: vec![1, 3],
                },
                Group {
                    id: 11,
                    name: "Spam".into(),
                    members: vec![5],
                },
                Group {
                    id: 12,
                    name: "spam".into(),
                    members: vec![],
                },
            ],
        }
    }

    fn wanted(numbers: &[&str]) -> Vec<Wanted> {
        parse_wanted(numbers.iter().copied()).unwrap()
    }

    #[test]
    fn members_parse_both_separators() {
        assert_eq!(parse_members("1;2, 3;;x;2"), vec![1, 2, 3]);
        assert!(parse_members("").is_empty());
    }

    #[test]
    fn group_lookup_prefers_exact_then_oldest() {
        let s = snap();
        assert_eq!(s.group_named("Spam").unwrap().id, 11);
        assert_eq!(s.group_named(" spam ").unwrap().id, 12);
        assert_eq!(s.group_named("SPAM").unwrap().id, 11);
        assert!(s.group_named("Work").is_none());
    }

    #[test]
    fn add_reuses_entries_and_never_duplicates() {
        let s = snap();
        // 555-111-0002 has entries 2 and 3; 3 is already in Family.
        let p = plan_add(&s, "Family", &wanted(&["5551110002"]), None, None).unwrap();
        assert!(p.steps.is_empty());
        assert!(p.decisions[0].already_member);
        assert_eq!(p.decisions[0].entry, Ref::Id(3));
        assert_eq!(p.decisions[0].other_entries, vec![2]);

        // Into Spam: reuse the oldest entry (2), no new entry, one group write.
        let p = plan_add(&s, "Spam", &wanted(&["(555) 111-0002"]), None, None).unwrap();
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.decisions[0].entry, Ref::Id(2));
        let calls = steps::planned_calls(&p.steps);
        assert_eq!(calls[0].method, "setPhonebookGroup");
        assert_eq!(calls[0].params.get("group"), Some("11"));
        assert_eq!(calls[0].params.get("name"), Some("Spam"));
        assert_eq!(calls[0].params.get("members"), Some("5;2"));

        // A new number: one entry create, then the group write with a placeholder.
        let p = plan_add(
            &s,
            "Spam",
            &wanted(&["5559990000", "555-999-0000"]),
            Some("n"),
            None,
        )
        .unwrap();
        let calls = steps::planned_calls(&p.steps);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].method, "setPhonebook");
        assert_eq!(calls[0].params.get("number"), Some("5559990000"));
        assert_eq!(calls[0].params.get("name"), Some("5559990000"));
        assert_eq!(calls[0].params.get("note"), Some("n"));
        assert_eq!(calls[1].params.get("members"), Some("5;{id from call 1}"));
    }

    #[test]
    fn add_creates_missing_group_with_members_in_one_call() {
        let s = snap();
        let p = plan_add(&s, "Work", &wanted(&["5551110001"]), None, None).unwrap();
        let calls = steps::planned_calls(&p.steps);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].method, "setPhonebookGroup");
        assert_eq!(calls[0].params.get("group"), None);
        assert_eq!(calls[0].params.get("members"), Some("1"));
        assert_eq!(p.group_ref(), Ref::Created(0));
        // An empty group is valid.
        let p = plan_add(&s, "Empty", &[], None, None).unwrap();
        assert_eq!(
            steps::planned_calls(&p.steps)[0].params.get("members"),
            Some("")
        );
    }

    #[test]
    fn batch_of_new_numbers_is_one_write_each_plus_one() {
        let s = snap();
        let numbers: Vec<String> = (0..100).map(|i| format!("555200{i:04}")).collect();
        let w = parse_wanted(&numbers).unwrap();
        let p = plan_add(&s, "Spam", &w, None, None).unwrap();
        assert_eq!(p.steps.len(), 101);
        assert_eq!(p.members_after, 101);
    }

    #[test]
    fn limit_is_checked_before_writing() {
        let s = snap();
        let numbers: Vec<String> = (0..8).map(|i| format!("555300{i:04}")).collect();
        let w = parse_wanted(&numbers).unwrap();
        assert_eq!(plan_add(&s, "Spam", &w, None, Some(8)).unwrap_err(), 9);
        assert!(plan_add(&s, "Spam", &w[..7], None, Some(8)).is_ok());
    }

    #[test]
    fn remove_takes_every_matching_entry_and_orphans() {
        let mut s = snap();
        s.groups[1].members = vec![5, 2, 3, 1];
        let n = PhoneNumber::parse("5551110002").unwrap();
        let p = plan_remove(&s, "Spam", &n, &OrphanEntries::Delete);
        assert_eq!(p.removed, vec![2, 3]);
        // 3 is still in Family: only 2 is deleted.
        assert_eq!(p.deleted, vec![2]);
        let calls = steps::planned_calls(&p.steps);
        assert_eq!(calls[0].params.get("members"), Some("5;1"));
        assert_eq!(calls[1].method, "delPhonebook");
        assert_eq!(calls[1].params.get("phonebook"), Some("2"));

        let n5 = PhoneNumber::parse("5551110005").unwrap();
        let keep = plan_remove(
            &s,
            "Spam",
            &n5,
            &OrphanEntries::DeleteIfNote("other".into()),
        );
        assert!(keep.deleted.is_empty());
        let del = plan_remove(
            &s,
            "Spam",
            &n5,
            &OrphanEntries::DeleteIfNote("marker".into()),
        );
        assert_eq!(del.deleted, vec![5]);

        let none = plan_remove(&s, "Work", &n, &OrphanEntries::Delete);
        assert!(none.steps.is_empty() && none.group_id.is_none());
        let absent = PhoneNumber::parse("5557770000").unwrap();
        assert!(
            plan_remove(&s, "Spam", &absent, &OrphanEntries::Keep)
                .steps
                .is_empty()
        );
    }
}
