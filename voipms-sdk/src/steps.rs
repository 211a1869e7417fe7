//! The writes a helper operation plans, and their execution.
//!
//! An operation reads the account, plans a list of [`Step`]s from what it saw (pure code, so a dry
//! run and a real run plan exactly the same calls), then executes them in order. A step whose
//! reply is lost (timeout, 5xx, error page) is checked with a read: if it was applied the
//! operation carries on with it, if not it is sent again (at most [`MAX_SENDS`] times), and if the
//! read fails too the operation stops and says the write is unconfirmed. No write is ever repeated
//! blindly.

use std::collections::HashSet;

use crate::error::Error;
use crate::ops::{OpError, PlannedCall, Session, WriteFailure};

#[cfg(feature = "callerid_filtering")]
use crate::api::{DelCallerIdFiltering, GetCallerIdFiltering, SetCallerIdFiltering};
#[cfg(feature = "phonebook")]
use crate::api::{
    DelPhonebook, DelPhonebookGroup, GetPhonebook, GetPhonebookGroups, SetPhonebook,
    SetPhonebookGroup,
};
#[cfg(feature = "callerid_filtering")]
use crate::filters::{Filter, FilterRule};
#[cfg(feature = "phonebook")]
use crate::phonebook::{Entry, Group};

/// How many times one write may be sent when its replies keep getting lost and reads show it was
/// not applied.
pub(crate) const MAX_SENDS: u32 = 3;

/// An id: one that exists, or the one a create step of the same plan returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ref {
    /// An existing record.
    Id(i64),
    /// What step `n` (0-based) creates.
    Created(usize),
}

impl Ref {
    fn render(self, ids: &[Option<i64>]) -> String {
        match self {
            Ref::Id(id) => id.to_string(),
            Ref::Created(step) => match ids.get(step).copied().flatten() {
                Some(id) => id.to_string(),
                None => format!("{{id from call {}}}", step + 1),
            },
        }
    }

    pub(crate) fn resolve(self, ids: &[Option<i64>]) -> Option<i64> {
        match self {
            Ref::Id(id) => Some(id),
            Ref::Created(step) => ids.get(step).copied().flatten(),
        }
    }
}

/// One planned write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// setPhonebook without an id.
    #[cfg(feature = "phonebook")]
    CreateEntry {
        name: String,
        number: String,
        note: Option<String>,
    },
    /// setPhonebookGroup without an id (members may be empty).
    #[cfg(feature = "phonebook")]
    CreateGroup { name: String, members: Vec<Ref> },
    /// setPhonebookGroup with an id: the complete new membership.
    #[cfg(feature = "phonebook")]
    SetGroup {
        id: i64,
        name: String,
        members: Vec<Ref>,
    },
    /// delPhonebook.
    #[cfg(feature = "phonebook")]
    DeleteEntry { id: i64 },
    /// delPhonebookGroup.
    #[cfg(feature = "phonebook")]
    DeleteGroup { id: i64 },
    /// setCallerIDFiltering without an id; with `group`, the caller ID is `p:<group id>`.
    #[cfg(feature = "callerid_filtering")]
    CreateFilter {
        rule: FilterRule,
        group: Option<Ref>,
    },
    /// setCallerIDFiltering with an id (`filter`): the whole rule.
    #[cfg(feature = "callerid_filtering")]
    UpdateFilter { id: i64, rule: FilterRule },
    /// delCallerIDFiltering.
    #[cfg(feature = "callerid_filtering")]
    DeleteFilter { id: i64 },
}

/// A step as a typed request (ids resolved as far as known).
enum Call {
    #[cfg(feature = "phonebook")]
    SetPhonebook(SetPhonebook),
    #[cfg(feature = "phonebook")]
    SetGroup(SetPhonebookGroup),
    #[cfg(feature = "phonebook")]
    DelEntry(DelPhonebook),
    #[cfg(feature = "phonebook")]
    DelGroup(DelPhonebookGroup),
    #[cfg(feature = "callerid_filtering")]
    SetFilter(SetCallerIdFiltering),
    #[cfg(feature = "callerid_filtering")]
    DelFilter(DelCallerIdFiltering),
}

impl Call {
    fn planned(&self) -> PlannedCall {
        match self {
            #[cfg(feature = "phonebook")]
            Call::SetPhonebook(r) => PlannedCall::of(r),
            #[cfg(feature = "phonebook")]
            Call::SetGroup(r) => PlannedCall::of(r),
            #[cfg(feature = "phonebook")]
            Call::DelEntry(r) => PlannedCall::of(r),
            #[cfg(feature = "phonebook")]
            Call::DelGroup(r) => PlannedCall::of(r),
            #[cfg(feature = "callerid_filtering")]
            Call::SetFilter(r) => PlannedCall::of(r),
            #[cfg(feature = "callerid_filtering")]
            Call::DelFilter(r) => PlannedCall::of(r),
        }
    }

    /// Sends it; returns the id a create returned.
    async fn send(&self, s: &mut Session) -> Result<Option<i64>, WriteFailure> {
        match self {
            #[cfg(feature = "phonebook")]
            Call::SetPhonebook(r) => Ok(parse_id(s.write(r).await?.phonebook.as_deref())),
            #[cfg(feature = "phonebook")]
            Call::SetGroup(r) => Ok(parse_id(s.write(r).await?.group.as_deref())),
            #[cfg(feature = "phonebook")]
            Call::DelEntry(r) => s.write(r).await.map(|_| None),
            #[cfg(feature = "phonebook")]
            Call::DelGroup(r) => s.write(r).await.map(|_| None),
            #[cfg(feature = "callerid_filtering")]
            Call::SetFilter(r) => Ok(parse_id(s.write(r).await?.filtering.as_deref())),
            #[cfg(feature = "callerid_filtering")]
            Call::DelFilter(r) => s.write(r).await.map(|_| None),
        }
    }
}

pub(crate) fn parse_id(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| t.trim().parse().ok())
}

fn render_members(members: &[Ref], ids: &[Option<i64>]) -> Vec<String> {
    members.iter().map(|m| m.render(ids)).collect()
}

impl Step {
    fn call(&self, ids: &[Option<i64>]) -> Call {
        match self {
            #[cfg(feature = "phonebook")]
            Step::CreateEntry { name, number, note } => {
                let mut r = SetPhonebook::new(name.as_str(), number.as_str());
                if let Some(note) = note {
                    r = r.note(note.as_str());
                }
                Call::SetPhonebook(r)
            }
            #[cfg(feature = "phonebook")]
            Step::CreateGroup { name, members } => Call::SetGroup(
                SetPhonebookGroup::new(name.as_str()).members(render_members(members, ids)),
            ),
            #[cfg(feature = "phonebook")]
            Step::SetGroup { id, name, members } => Call::SetGroup(
                SetPhonebookGroup::new(name.as_str())
                    .group(*id)
                    .members(render_members(members, ids)),
            ),
            #[cfg(feature = "phonebook")]
            Step::DeleteEntry { id } => Call::DelEntry(DelPhonebook::new(*id)),
            #[cfg(feature = "phonebook")]
            Step::DeleteGroup { id } => Call::DelGroup(DelPhonebookGroup::new(*id)),
            #[cfg(feature = "callerid_filtering")]
            Step::CreateFilter { rule, group } => {
                let mut rule = rule.clone();
                if let Some(g) = group {
                    rule.callerid = format!("p:{}", g.render(ids));
                }
                Call::SetFilter(rule.request())
            }
            #[cfg(feature = "callerid_filtering")]
            Step::UpdateFilter { id, rule } => Call::SetFilter(rule.request().filter(*id)),
            #[cfg(feature = "callerid_filtering")]
            Step::DeleteFilter { id } => Call::DelFilter(DelCallerIdFiltering::new(*id)),
        }
    }

    /// Whether the step deletes something.
    fn deletes(&self) -> bool {
        match self {
            #[cfg(feature = "phonebook")]
            Step::DeleteEntry { .. } | Step::DeleteGroup { .. } => true,
            #[cfg(feature = "callerid_filtering")]
            Step::DeleteFilter { .. } => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Whether the step creates something (and so yields an id).
    fn creates(&self) -> bool {
        match self {
            #[cfg(feature = "phonebook")]
            Step::CreateEntry { .. } | Step::CreateGroup { .. } => true,
            #[cfg(feature = "callerid_filtering")]
            Step::CreateFilter { .. } => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// The exact calls a plan would send (ids of records it creates shown as `{id from call N}`).
pub(crate) fn planned_calls(steps: &[Step]) -> Vec<PlannedCall> {
    let ids = vec![None; steps.len()];
    steps.iter().map(|s| s.call(&ids).planned()).collect()
}

/// Ids the account is known to hold, so that a read after a lost reply can tell what is new.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    pub entries: HashSet<i64>,
    pub groups: HashSet<i64>,
    pub filters: HashSet<i64>,
}

/// Why execution stopped.
#[derive(Debug)]
pub(crate) enum ExecError {
    /// VoIP.ms refused a step; the steps before it were applied, and `ids` holds what they
    /// created.
    Refused { error: Error, ids: Vec<Option<i64>> },
    /// A lost reply that could not be checked, or a resend that failed: the operation must stop.
    Stop(OpError),
}

/// Executes `steps` in order; returns the id each create step produced.
pub(crate) async fn execute(
    s: &mut Session,
    steps: &[Step],
    known: &mut Known,
) -> Result<Vec<Option<i64>>, ExecError> {
    let mut ids: Vec<Option<i64>> = vec![None; steps.len()];
    for (i, step) in steps.iter().enumerate() {
        let call = step.call(&ids);
        let mut sends = 0;
        let id = loop {
            sends += 1;
            let lost = match call.send(s).await {
                // A create answered without its id (an empty body reads as success): find it.
                Ok(None) if step.creates() => None,
                Ok(id) => break id,
                // Deleting what is already gone leaves the account as asked.
                Err(WriteFailure::Refused(error)) if step.deletes() && is_gone(&error) => {
                    break None;
                }
                Err(WriteFailure::Refused(error)) => {
                    return Err(ExecError::Refused { error, ids });
                }
                Err(WriteFailure::Lost(error)) => Some(error),
            };
            let index = s.last_index();
            match check(s, step, &ids, known).await {
                Ok(Checked::Applied(id)) => {
                    s.resolve_lost(index, true);
                    break id;
                }
                Ok(Checked::NotApplied) if sends < MAX_SENDS && lost.is_some() => {
                    s.resolve_lost(index, false);
                }
                Ok(Checked::NotApplied) => {
                    s.resolve_lost(index, false);
                    let error = lost.unwrap_or_else(|| Error::InvalidRequest {
                        method: call.planned().method.to_owned(),
                        message: "VoIP.ms reported success but returned no id, and the new record \
                                  is not listed; list the records before running this again"
                            .into(),
                    });
                    return Err(ExecError::Stop(s.fail(error)));
                }
                Err(e) => return Err(ExecError::Stop(e)),
            }
        };
        if step.creates() {
            let Some(id) = id else {
                return Err(ExecError::Stop(
                    s.fail(Error::InvalidRequest {
                        method: call.planned().method.to_owned(),
                        message: "the new record's id could not be found; list the records before \
                              running this again"
                            .into(),
                    }),
                ));
            };
            remember(known, step, id);
        }
        ids[i] = id;
    }
    Ok(ids)
}

/// Whether a refused delete says the record does not exist (any more).
fn is_gone(error: &Error) -> bool {
    matches!(
        error.status(),
        Some(
            "invalid_phonebook"
                | "no_phonebook"
                | "no_phonebook_group"
                | "invalid_group"
                | "invalid_filter"
                | "no_filter"
        )
    )
}

fn remember(known: &mut Known, step: &Step, id: i64) {
    match step {
        #[cfg(feature = "phonebook")]
        Step::CreateEntry { .. } => {
            known.entries.insert(id);
        }
        #[cfg(feature = "phonebook")]
        Step::CreateGroup { .. } => {
            known.groups.insert(id);
        }
        #[cfg(feature = "callerid_filtering")]
        Step::CreateFilter { .. } => {
            known.filters.insert(id);
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
}

enum Checked {
    Applied(Option<i64>),
    NotApplied,
}

/// After a lost reply: reads the account to see whether `step` took effect.
async fn check(
    s: &mut Session,
    step: &Step,
    ids: &[Option<i64>],
    known: &Known,
) -> Result<Checked, OpError> {
    let _ = (ids, known);
    let applied = match step {
        #[cfg(feature = "phonebook")]
        Step::CreateEntry { number, .. } => {
            let entries = read_entries(s).await?;
            let target = crate::numbers::PhoneNumber::parse(number).ok();
            entries
                .iter()
                .filter(|e| !known.entries.contains(&e.id))
                .find(|e| match &target {
                    Some(t) => e.is_number(t),
                    None => e.number.trim() == number.trim(),
                })
                .map(|e| Some(e.id))
        }
        #[cfg(feature = "phonebook")]
        Step::CreateGroup { name, .. } => {
            let groups = read_groups(s).await?;
            groups
                .iter()
                .filter(|g| !known.groups.contains(&g.id))
                .find(|g| g.name.trim() == name.trim())
                .map(|g| Some(g.id))
        }
        #[cfg(feature = "phonebook")]
        Step::SetGroup { id, members, .. } => {
            let groups = read_groups(s).await?;
            let want: Vec<Option<i64>> = members.iter().map(|m| m.resolve(ids)).collect();
            groups
                .iter()
                .find(|g| g.id == *id)
                .filter(|g| {
                    let have: HashSet<i64> = g.members.iter().copied().collect();
                    let want: HashSet<i64> = want.iter().flatten().copied().collect();
                    have == want
                })
                .map(|_| None)
        }
        #[cfg(feature = "phonebook")]
        Step::DeleteEntry { id } => {
            let entries = read_entries(s).await?;
            (!entries.iter().any(|e| e.id == *id)).then_some(None)
        }
        #[cfg(feature = "phonebook")]
        Step::DeleteGroup { id } => {
            let groups = read_groups(s).await?;
            (!groups.iter().any(|g| g.id == *id)).then_some(None)
        }
        #[cfg(feature = "callerid_filtering")]
        Step::CreateFilter { rule, group } => {
            let filters = read_filters(s).await?;
            let mut rule = rule.clone();
            if let Some(g) = group {
                rule.callerid = format!("p:{}", g.render(ids));
            }
            filters
                .iter()
                .filter(|f| !known.filters.contains(&f.id))
                .find(|f| f.rule.same_target(&rule))
                .map(|f| Some(f.id))
        }
        #[cfg(feature = "callerid_filtering")]
        Step::UpdateFilter { id, rule } => {
            let filters = read_filters(s).await?;
            filters
                .iter()
                .find(|f| f.id == *id && f.rule.same_target(rule) && f.rule.routing == rule.routing)
                .map(|_| None)
        }
        #[cfg(feature = "callerid_filtering")]
        Step::DeleteFilter { id } => {
            let filters = read_filters(s).await?;
            (!filters.iter().any(|f| f.id == *id)).then_some(None)
        }
    };
    Ok(match applied {
        Some(id) => Checked::Applied(id),
        None => Checked::NotApplied,
    })
}

/// Every phonebook entry (one getPhonebook call).
#[cfg(feature = "phonebook")]
pub(crate) async fn read_entries(s: &mut Session) -> Result<Vec<Entry>, OpError> {
    let r = s.read(&GetPhonebook::new()).await?;
    Ok(r.phonebooks.iter().filter_map(Entry::from_api).collect())
}

/// Every phonebook group (one getPhonebookGroups call).
#[cfg(feature = "phonebook")]
pub(crate) async fn read_groups(s: &mut Session) -> Result<Vec<Group>, OpError> {
    let r = s.read(&GetPhonebookGroups::new()).await?;
    Ok(r.phonebooks.iter().filter_map(Group::from_api).collect())
}

/// Every Caller ID filtering rule (one getCallerIDFiltering call).
#[cfg(feature = "callerid_filtering")]
pub(crate) async fn read_filters(s: &mut Session) -> Result<Vec<Filter>, OpError> {
    let r = s.read(&GetCallerIdFiltering::new()).await?;
    Ok(r.filtering.iter().filter_map(Filter::from_api).collect())
}

/// The params of a planned call, for tests.
#[cfg(test)]
pub(crate) fn params_of(steps: &[Step], i: usize) -> crate::wire::Params {
    planned_calls(steps)[i].params.clone()
}

#[cfg(all(test, feature = "phonebook", feature = "callerid_filtering"))]
mod tests {
    use super::*;

    #[test]
    fn plans_render_placeholders() {
        let steps = vec![
            Step::CreateEntry {
                name: "5551234567".into(),
                number: "5551234567".into(),
                note: Some("spam".into()),
            },
            Step::CreateGroup {
                name: "Spam".into(),
                members: vec![Ref::Id(7), Ref::Created(0)],
            },
            Step::CreateFilter {
                rule: FilterRule::new("x", "all", "sys:hangup"),
                group: Some(Ref::Created(1)),
            },
        ];
        let planned = planned_calls(&steps);
        assert_eq!(planned[0].method, "setPhonebook");
        assert_eq!(planned[0].params.get("note"), Some("spam"));
        assert_eq!(planned[0].params.get("phonebook"), None);
        assert_eq!(planned[1].method, "setPhonebookGroup");
        assert_eq!(planned[1].params.get("members"), Some("7;{id from call 1}"));
        assert_eq!(planned[1].params.get("group"), None);
        assert_eq!(planned[2].method, "setCallerIDFiltering");
        assert_eq!(
            planned[2].params.get("callerid"),
            Some("p:{id from call 2}")
        );
        assert_eq!(planned[2].params.get("filter"), None);
        let update = Step::UpdateFilter {
            id: 9,
            rule: FilterRule::new("p:3", "all", "sys:busy"),
        };
        let p = params_of(&[update], 0);
        // setCallerIDFiltering takes `filter`, not `filtering`.
        assert_eq!(p.get("filter"), Some("9"));
        assert_eq!(p.get("filtering"), None);
        let del = params_of(&[Step::DeleteFilter { id: 9 }], 0);
        assert_eq!(del.get("filtering"), Some("9"));
    }
}
