//! Caller ID filtering rules: list, find, ensure (idempotent), remove.
//!
//! A rule says what to do with calls from a caller ID on one DID (or `all`). The caller ID is a
//! number or a token: `0` anonymous, `i` outside North America, `s`/`sb`/`sc` STIR/SHAKEN levels,
//! `p` any phonebook entry, `p:ID` the members of phonebook group `ID`. Blocking routings are
//! `sys:hangup`, `sys:busy`, `sys:noservice` and `sys:disconnected`.
//!
//! The API spells the rule id `filter` when writing (`setCallerIDFiltering`) and `filtering` when
//! reading or deleting; the typed requests used here get that right. A rule is identified by its
//! caller ID and DID, compared in canonical form (so `+1 555 123 4567` and `5551234567` are the
//! same rule).

use std::collections::HashSet;

use crate::Client;
use crate::api::{CallerIdFilter, SetCallerIdFiltering};
use crate::error::Error;
use crate::numbers::PhoneNumber;
use crate::ops::{self, ApiCall, DryRun, OpError, Session};
use crate::steps::{self, ExecError, Known, Ref, Step};

/// Routings that block a call.
pub const BLOCKING_ROUTINGS: &[&str] = &[
    "sys:hangup",
    "sys:busy",
    "sys:noservice",
    "sys:disconnected",
];

/// Whether a routing value blocks the call (`sys:hangup`, `sys:busy`, `sys:noservice`,
/// `sys:disconnected`).
pub fn is_blocking_routing(routing: &str) -> bool {
    let r = routing.trim().to_ascii_lowercase();
    BLOCKING_ROUTINGS.contains(&r.as_str())
}

/// The fields of a Caller ID filtering rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRule {
    /// A number, or a token (`0`, `i`, `s`, `sb`, `sc`, `p`, `p:GROUPID`).
    pub callerid: String,
    /// A DID of the account, or `all`.
    pub did: String,
    /// Where matching calls go (`sys:hangup`, `vm:101`, …).
    pub routing: String,
    /// Failover when the routing target is unreachable.
    pub failover_unreachable: Option<String>,
    /// Failover when busy.
    pub failover_busy: Option<String>,
    /// Failover on no answer.
    pub failover_noanswer: Option<String>,
    /// Free-text note.
    pub note: Option<String>,
}

impl FilterRule {
    /// A rule with the three required fields.
    pub fn new(
        callerid: impl Into<String>,
        did: impl Into<String>,
        routing: impl Into<String>,
    ) -> Self {
        FilterRule {
            callerid: callerid.into(),
            did: did.into(),
            routing: routing.into(),
            failover_unreachable: None,
            failover_busy: None,
            failover_noanswer: None,
            note: None,
        }
    }

    /// Sets the note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Sets the failover used when the routing target is unreachable.
    pub fn failover_unreachable(mut self, routing: impl Into<String>) -> Self {
        self.failover_unreachable = Some(routing.into());
        self
    }

    /// Sets the failover used when busy.
    pub fn failover_busy(mut self, routing: impl Into<String>) -> Self {
        self.failover_busy = Some(routing.into());
        self
    }

    /// Sets the failover used on no answer.
    pub fn failover_noanswer(mut self, routing: impl Into<String>) -> Self {
        self.failover_noanswer = Some(routing.into());
        self
    }

    /// The rule as a create request (add `.filter(id)` to update).
    pub fn request(&self) -> SetCallerIdFiltering {
        let mut r =
            SetCallerIdFiltering::new(self.callerid.trim(), self.did.trim(), self.routing.trim());
        if let Some(v) = &self.failover_unreachable {
            r = r.failover_unreachable(v.as_str());
        }
        if let Some(v) = &self.failover_busy {
            r = r.failover_busy(v.as_str());
        }
        if let Some(v) = &self.failover_noanswer {
            r = r.failover_noanswer(v.as_str());
        }
        if let Some(v) = &self.note {
            r = r.note(v.as_str());
        }
        r
    }

    /// Whether both rules are for the same caller ID on the same DID.
    pub fn same_target(&self, other: &FilterRule) -> bool {
        callerid_key(&self.callerid) == callerid_key(&other.callerid)
            && did_key(&self.did) == did_key(&other.did)
    }

    /// Whether the rule blocks the calls it matches.
    pub fn is_blocking(&self) -> bool {
        is_blocking_routing(&self.routing)
    }

    /// The phonebook group a `p:ID` rule matches.
    pub fn group_id(&self) -> Option<i64> {
        let c = self.callerid.trim();
        let id = c.strip_prefix("p:").or_else(|| c.strip_prefix("P:"))?;
        id.trim().parse().ok()
    }

    /// Fields of `self`, with the optional fields of `update` laid over (a full-record write
    /// keeps what `update` does not mention).
    fn overlaid(&self, update: &FilterRule) -> FilterRule {
        FilterRule {
            callerid: update.callerid.clone(),
            did: update.did.clone(),
            routing: update.routing.clone(),
            failover_unreachable: update
                .failover_unreachable
                .clone()
                .or_else(|| self.failover_unreachable.clone()),
            failover_busy: update
                .failover_busy
                .clone()
                .or_else(|| self.failover_busy.clone()),
            failover_noanswer: update
                .failover_noanswer
                .clone()
                .or_else(|| self.failover_noanswer.clone()),
            note: update.note.clone().or_else(|| self.note.clone()),
        }
    }

    /// Whether `self` already has every field `wanted` sets.
    fn satisfies(&self, wanted: &FilterRule) -> bool {
        let opt = |have: &Option<String>, want: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| have.as_deref().map(str::trim) == Some(w.trim()))
        };
        self.routing
            .trim()
            .eq_ignore_ascii_case(wanted.routing.trim())
            && opt(&self.failover_unreachable, &wanted.failover_unreachable)
            && opt(&self.failover_busy, &wanted.failover_busy)
            && opt(&self.failover_noanswer, &wanted.failover_noanswer)
            && opt(&self.note, &wanted.note)
    }
}

/// The caller ID of a rule in comparable form: a canonical number, or the token in lower case.
pub fn callerid_key(callerid: &str) -> String {
    let t = callerid.trim();
    match PhoneNumber::parse(t) {
        Ok(n) => n.as_str().to_owned(),
        Err(_) => t.to_ascii_lowercase().replace(' ', ""),
    }
}

/// The DID of a rule in comparable form: `all`, or a canonical number.
pub fn did_key(did: &str) -> String {
    let t = did.trim();
    if t.eq_ignore_ascii_case("all") {
        return "all".into();
    }
    PhoneNumber::parse(t).map_or_else(|_| t.to_ascii_lowercase(), |n| n.as_str().to_owned())
}

/// A rule as it exists on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Rule id (`filtering`).
    pub id: i64,
    /// Its fields.
    pub rule: FilterRule,
}

impl Filter {
    /// Reads a getCallerIDFiltering row; `None` when it has no usable id.
    pub fn from_api(row: &CallerIdFilter) -> Option<Self> {
        let id = steps::parse_id(row.filtering.as_deref())?;
        let opt = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Some(Filter {
            id,
            rule: FilterRule {
                callerid: row.callerid.clone().unwrap_or_default(),
                did: row.did.clone().unwrap_or_default(),
                routing: row.routing.clone().unwrap_or_default(),
                failover_unreachable: opt(&row.failover_unreachable),
                failover_busy: opt(&row.failover_busy),
                failover_noanswer: opt(&row.failover_noanswer),
                note: opt(&row.note),
            },
        })
    }
}

/// How a rule matches a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMatch {
    /// The rule names the number itself.
    Number,
    /// The rule is `p:ID` and group `ID` holds an entry for the number.
    Group(i64),
    /// The rule is `p` (any phonebook entry) and the phonebook has an entry for the number.
    AnyPhonebookEntry,
}

/// How `filter` matches calls from `number`, if it does. Group and phonebook tokens are resolved
/// against `phonebook`.
#[cfg(feature = "phonebook")]
pub fn rule_matches(
    filter: &FilterRule,
    number: &PhoneNumber,
    phonebook: &crate::phonebook::PhonebookSnapshot,
) -> Option<FilterMatch> {
    if callerid_key(&filter.callerid) == number.as_str() {
        return Some(FilterMatch::Number);
    }
    if let Some(gid) = filter.group_id() {
        let ids: HashSet<i64> = phonebook.entries_for(number).iter().map(|e| e.id).collect();
        let holds = phonebook
            .group(gid)
            .is_some_and(|g| g.members.iter().any(|m| ids.contains(m)));
        return holds.then_some(FilterMatch::Group(gid));
    }
    if callerid_key(&filter.callerid) == "p" && !phonebook.entries_for(number).is_empty() {
        return Some(FilterMatch::AnyPhonebookEntry);
    }
    None
}

/// What [`Filters::ensure_rule`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAction {
    /// No rule for that caller ID and DID existed; one was created.
    Created,
    /// A rule existed with other settings; it was rewritten (unmentioned fields kept).
    Updated,
    /// A rule with those settings existed; nothing was sent.
    Unchanged,
}

impl FilterAction {
    /// The action's stable name in reports and JSON: `created`, `updated`, `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterAction::Created => "created",
            FilterAction::Updated => "updated",
            FilterAction::Unchanged => "unchanged",
        }
    }
}

/// The result of [`Filters::ensure_rule`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnsureFilter {
    /// The rule's id.
    pub filter_id: i64,
    /// What was done.
    pub action: FilterAction,
    /// The rule as it now stands.
    pub rule: FilterRule,
    /// Other rules for the same caller ID and DID (left alone).
    pub duplicates: Vec<i64>,
    /// Times another writer's change was found and the write redone.
    pub race_retries: u32,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

/// The result of [`Filters::remove_rule`].
#[derive(Debug, Clone, PartialEq)]
pub struct FilterRemoval {
    /// Ids of the rules deleted (empty: there was none, nothing changed).
    pub removed: Vec<i64>,
    /// Calls made.
    pub calls: Vec<ApiCall>,
}

impl FilterRemoval {
    /// Whether anything was changed.
    pub fn changed(&self) -> bool {
        self.calls.iter().any(ApiCall::changed_account)
    }
}

/// Caller ID filtering over a [`Client`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Filters {
    client: Client,
    max_attempts: u32,
    verify: bool,
}

/// Plans making sure a rule for `wanted`'s caller ID and DID exists. `group` makes the caller ID
/// `p:<group>` (possibly a group the same plan creates). `keep` says whether an existing rule is
/// good enough as it is.
pub(crate) fn plan_ensure(
    filters: &[Filter],
    wanted: &FilterRule,
    group: Option<Ref>,
    keep: impl Fn(&FilterRule) -> bool,
) -> (Vec<Step>, Option<i64>, FilterAction, Vec<i64>) {
    let target = match group {
        Some(Ref::Created(_)) => None,
        Some(Ref::Id(id)) => Some(FilterRule {
            callerid: format!("p:{id}"),
            ..wanted.clone()
        }),
        None => Some(wanted.clone()),
    };
    let create_rule = target.clone().unwrap_or_else(|| wanted.clone());
    let mut same: Vec<&Filter> = target
        .as_ref()
        .map(|t| filters.iter().filter(|f| f.rule.same_target(t)).collect())
        .unwrap_or_default();
    same.sort_by_key(|f| f.id);
    let duplicates = same.iter().skip(1).map(|f| f.id).collect();
    match (same.first(), target) {
        (Some(existing), _) if keep(&existing.rule) => (
            Vec::new(),
            Some(existing.id),
            FilterAction::Unchanged,
            duplicates,
        ),
        (Some(existing), Some(target)) => (
            vec![Step::UpdateFilter {
                id: existing.id,
                rule: existing.rule.overlaid(&target),
            }],
            Some(existing.id),
            FilterAction::Updated,
            duplicates,
        ),
        _ => (
            vec![Step::CreateFilter {
                rule: create_rule,
                group: match group {
                    Some(Ref::Id(_)) | None => None,
                    created => created,
                },
            }],
            None,
            FilterAction::Created,
            duplicates,
        ),
    }
}

fn check_rule(rule: &FilterRule) -> Result<(), OpError> {
    if rule.callerid.trim().is_empty() {
        return Err(OpError::invalid(
            "the rule's caller ID is empty: give a number or a token (0, i, p, p:GROUPID, …)",
        ));
    }
    if rule.did.trim().is_empty() {
        return Err(OpError::invalid(
            "the rule's DID is empty: give one of the account's DIDs, or `all`",
        ));
    }
    if rule.routing.trim().is_empty() || !rule.routing.contains(':') {
        return Err(OpError::invalid(format!(
            "the routing `{}` is not in header:value form (sys:hangup, vm:101, fwd:1026, …)",
            rule.routing
        )));
    }
    Ok(())
}

fn filter_lock_key(rule: &FilterRule) -> String {
    format!("{}@{}", callerid_key(&rule.callerid), did_key(&rule.did))
}

impl Filters {
    /// Caller ID filtering with verification on and 3 attempts against other writers.
    pub fn new(client: &Client) -> Self {
        Filters {
            client: client.clone(),
            max_attempts: 3,
            verify: true,
        }
    }

    /// Reads back after writing (on by default).
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Every rule, or the rules of one DID (one call).
    pub async fn list(&self, did: Option<&str>) -> Result<Vec<Filter>, OpError> {
        let mut s = Session::new(&self.client, "list filters");
        let rules = steps::read_filters(&mut s).await?;
        Ok(match did {
            Some(d) => {
                let key = did_key(d);
                rules
                    .into_iter()
                    .filter(|f| did_key(&f.rule.did) == key)
                    .collect()
            }
            None => rules,
        })
    }

    /// Rules whose caller ID is `callerid` (a number in any spelling, or a token).
    pub async fn find_by_callerid(&self, callerid: &str) -> Result<Vec<Filter>, OpError> {
        let key = callerid_key(callerid);
        Ok(self
            .list(None)
            .await?
            .into_iter()
            .filter(|f| callerid_key(&f.rule.callerid) == key)
            .collect())
    }

    /// Rules set on `did` (`all` for the account-wide ones).
    pub async fn find_by_did(&self, did: &str) -> Result<Vec<Filter>, OpError> {
        self.list(Some(did)).await
    }

    /// Makes sure a rule for `rule`'s caller ID and DID exists with its settings: creates it,
    /// rewrites it (fields `rule` leaves `None` keep their values), or changes nothing.
    pub async fn ensure_rule(&self, rule: FilterRule) -> Result<EnsureFilter, OpError> {
        check_rule(&rule)?;
        let _guard = ops::lock(&self.client, "filter", &filter_lock_key(&rule)).await;
        let mut s = Session::new(&self.client, "setting the Caller ID filter");
        let attempts = self.max_attempts.max(1);
        let mut first_action = None;
        for attempt in 1..=attempts {
            let filters = steps::read_filters(&mut s).await?;
            let (plan, existing, action, duplicates) =
                plan_ensure(&filters, &rule, None, |have| have.satisfies(&rule));
            let action = *first_action.get_or_insert(action);
            let mut known = Known {
                filters: filters.iter().map(|f| f.id).collect(),
                ..Known::default()
            };
            let ids = match steps::execute(&mut s, &plan, &mut known).await {
                Ok(ids) => ids,
                Err(ExecError::Refused { error, .. })
                    if error.status() == Some("used_filter") && attempt < attempts =>
                {
                    continue;
                }
                Err(ExecError::Refused { error, .. }) => return Err(s.fail(error)),
                Err(ExecError::Stop(e)) => return Err(e),
            };
            let id = existing
                .or_else(|| ids.first().copied().flatten())
                .expect("the rule exists or was created");
            if self.verify && !plan.is_empty() {
                let now = steps::read_filters(&mut s).await?;
                let ok = now
                    .iter()
                    .any(|f| f.id == id && f.rule.same_target(&rule) && f.rule.satisfies(&rule));
                if !ok {
                    if attempt == attempts {
                        return Err(s.contention(
                            format!("the Caller ID filter for {} on {}", rule.callerid, rule.did),
                            attempts,
                        ));
                    }
                    continue;
                }
            }
            let stored = match plan.first() {
                Some(Step::UpdateFilter { rule, .. }) => rule.clone(),
                Some(_) => rule.clone(),
                None => filters
                    .iter()
                    .find(|f| f.id == id)
                    .map_or_else(|| rule.clone(), |f| f.rule.clone()),
            };
            return Ok(EnsureFilter {
                filter_id: id,
                action,
                rule: stored,
                duplicates,
                race_retries: attempt - 1,
                calls: s.take_calls(),
            });
        }
        Err(s.fail(Error::InvalidRequest {
            method: "setCallerIDFiltering".into(),
            message: "VoIP.ms kept answering used_filter (a rule for this caller ID exists) but \
                      no such rule is listed; check the rules on the portal"
                .into(),
        }))
    }

    /// The calls [`ensure_rule`](Self::ensure_rule) would make.
    pub async fn plan_ensure_rule(&self, rule: FilterRule) -> Result<DryRun, OpError> {
        check_rule(&rule)?;
        let mut s = Session::new(&self.client, "setting the Caller ID filter (planning)");
        let filters = steps::read_filters(&mut s).await?;
        let (plan, ..) = plan_ensure(&filters, &rule, None, |have| have.satisfies(&rule));
        Ok(DryRun {
            warnings: Vec::new(),
            reads: s.take_calls(),
            planned: steps::planned_calls(&plan),
        })
    }

    /// Deletes every rule for `callerid` on `did` (compared in canonical form). Reports the ids
    /// removed, or that there was none.
    pub async fn remove_rule(&self, callerid: &str, did: &str) -> Result<FilterRemoval, OpError> {
        let probe = FilterRule::new(callerid, did, "sys:hangup");
        let _guard = ops::lock(&self.client, "filter", &filter_lock_key(&probe)).await;
        let mut s = Session::new(&self.client, "removing the Caller ID filter");
        let filters = steps::read_filters(&mut s).await?;
        let plan = plan_remove(&filters, &probe);
        let removed: Vec<i64> = plan
            .iter()
            .filter_map(|st| match st {
                Step::DeleteFilter { id } => Some(*id),
                _ => None,
            })
            .collect();
        let mut known = Known::default();
        match steps::execute(&mut s, &plan, &mut known).await {
            Ok(_) => {}
            Err(ExecError::Refused { error, .. }) => return Err(s.fail(error)),
            Err(ExecError::Stop(e)) => return Err(e),
        }
        Ok(FilterRemoval {
            removed,
            calls: s.take_calls(),
        })
    }

    /// The calls [`remove_rule`](Self::remove_rule) would make.
    pub async fn plan_remove_rule(&self, callerid: &str, did: &str) -> Result<DryRun, OpError> {
        let probe = FilterRule::new(callerid, did, "sys:hangup");
        let mut s = Session::new(&self.client, "removing the Caller ID filter (planning)");
        let filters = steps::read_filters(&mut s).await?;
        Ok(DryRun {
            warnings: Vec::new(),
            reads: s.take_calls(),
            planned: steps::planned_calls(&plan_remove(&filters, &probe)),
        })
    }
}

pub(crate) fn plan_remove(filters: &[Filter], probe: &FilterRule) -> Vec<Step> {
    let mut ids: Vec<i64> = filters
        .iter()
        .filter(|f| f.rule.same_target(probe))
        .map(|f| f.id)
        .collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| Step::DeleteFilter { id })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(id: i64, callerid: &str, did: &str, routing: &str) -> Filter {
        Filter {
            id,
            rule: FilterRule::new(callerid, did, routing),
        }
    }

    #[test]
    fn keys_are_canonical() {
        assert_eq!(callerid_key("+1 (555) 123-4567"), "5551234567");
        assert_eq!(callerid_key(" P:12 "), "p:12");
        assert_eq!(callerid_key("0"), "0");
        assert_eq!(did_key("ALL"), "all");
        assert_eq!(did_key("1-555-000-1111"), "5550001111");
        assert!(
            FilterRule::new("555.123.4567", "all", "sys:hangup").same_target(&FilterRule::new(
                "5551234567",
                "All",
                "sys:busy"
            ))
        );
        assert_eq!(FilterRule::new("p:42", "all", "x").group_id(), Some(42));
        assert_eq!(FilterRule::new("p", "all", "x").group_id(), None);
        assert!(is_blocking_routing("SYS:hangup"));
        assert!(!is_blocking_routing("vm:101"));
    }

    #[test]
    fn ensure_plans_create_update_or_nothing() {
        let rule = FilterRule::new("5551234567", "all", "sys:hangup");
        let (plan, _, action, _) = plan_ensure(&[], &rule, None, |h| h.satisfies(&rule));
        assert_eq!(action, FilterAction::Created);
        let p = steps::planned_calls(&plan);
        assert_eq!(p[0].method, "setCallerIDFiltering");
        assert_eq!(p[0].params.get("callerid"), Some("5551234567"));
        assert_eq!(p[0].params.get("did"), Some("all"));
        assert_eq!(p[0].params.get("routing"), Some("sys:hangup"));
        assert_eq!(p[0].params.get("filter"), None);

        let mut existing = filter(7, "+1 555 123 4567", "all", "sys:hangup");
        existing.rule.note = Some("keep me".into());
        let (plan, id, action, _) =
            plan_ensure(&[existing.clone()], &rule, None, |h| h.satisfies(&rule));
        assert!(plan.is_empty());
        assert_eq!((id, action), (Some(7), FilterAction::Unchanged));

        let busy = FilterRule::new("5551234567", "all", "sys:busy");
        let (plan, _, action, _) = plan_ensure(&[existing], &busy, None, |h| h.satisfies(&busy));
        assert_eq!(action, FilterAction::Updated);
        let p = steps::planned_calls(&plan);
        assert_eq!(p[0].params.get("filter"), Some("7"));
        assert_eq!(p[0].params.get("routing"), Some("sys:busy"));
        // A full-record write keeps the note it did not mean to change.
        assert_eq!(p[0].params.get("note"), Some("keep me"));
    }

    #[test]
    fn group_rules_and_removal() {
        let rule = FilterRule::new("p", "all", "sys:hangup");
        let (plan, _, action, _) =
            plan_ensure(&[], &rule, Some(Ref::Created(2)), |h| h.is_blocking());
        assert_eq!(action, FilterAction::Created);
        assert_eq!(
            steps::planned_calls(&plan)[0].params.get("callerid"),
            Some("p:{id from call 3}")
        );
        let existing = [
            filter(3, "p:12", "all", "sys:busy"),
            filter(4, "p:12", "all", "sys:hangup"),
        ];
        let (plan, id, action, dups) =
            plan_ensure(&existing, &rule, Some(Ref::Id(12)), |h| h.is_blocking());
        assert!(plan.is_empty());
        assert_eq!(
            (id, action, dups),
            (Some(3), FilterAction::Unchanged, vec![4])
        );

        let probe = FilterRule::new("P:12", "ALL", "sys:hangup");
        let p = steps::planned_calls(&plan_remove(&existing, &probe));
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].method, "delCallerIDFiltering");
        assert_eq!(p[0].params.get("filtering"), Some("3"));
    }
}
