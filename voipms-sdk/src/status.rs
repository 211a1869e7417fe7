//! Every status code VoIP.ms answers with, with its meaning, class and a hint, from
//! `api-spec/statuses.toml`.

#[rustfmt::skip]
#[path = "generated/statuses.rs"]
mod data;

pub use data::STATUSES;

/// What kind of outcome a status is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// The call worked.
    Success,
    /// Nothing to list (a `no_*` code on a list method).
    Empty,
    /// Credentials, API access or IP allow-list.
    Auth,
    /// Too many calls per minute.
    RateLimit,
    /// A parameter is missing or malformed.
    InvalidInput,
    /// The record named does not exist.
    NotFound,
    /// The change clashes with existing data.
    Conflict,
    /// A quota or capacity is reached.
    Limit,
    /// VoIP.ms failed internally.
    Server,
    /// The account or record is not in a state that allows this.
    State,
    /// Not enough funds or a billing rule.
    Billing,
}

impl StatusClass {
    /// The spec's spelling (`invalid_input`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Success => "success",
            StatusClass::Empty => "empty",
            StatusClass::Auth => "auth",
            StatusClass::RateLimit => "rate_limit",
            StatusClass::InvalidInput => "invalid_input",
            StatusClass::NotFound => "not_found",
            StatusClass::Conflict => "conflict",
            StatusClass::Limit => "limit",
            StatusClass::Server => "server",
            StatusClass::State => "state",
            StatusClass::Billing => "billing",
        }
    }
}

/// One known status code.
#[derive(Debug, Clone, Copy)]
pub struct StatusInfo {
    /// Wire spelling (case-sensitive).
    pub code: &'static str,
    /// Kind of outcome.
    pub class: StatusClass,
    /// Whether the same call may succeed later unchanged.
    pub retryable: bool,
    /// What it means.
    pub meaning: &'static str,
    /// What to do about it, where something helps.
    pub hint: Option<&'static str>,
}

/// Looks up a status code (exact spelling).
pub fn status_info(code: &str) -> Option<&'static StatusInfo> {
    STATUSES
        .binary_search_by(|s| s.code.cmp(code))
        .ok()
        .map(|i| &STATUSES[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_has_hints() {
        assert_eq!(STATUSES.len(), 484);
        assert!(STATUSES.windows(2).all(|w| w[0].code < w[1].code));
        let ip = status_info("ip_not_enabled").unwrap();
        assert_eq!(ip.class, StatusClass::Auth);
        assert!(ip.hint.unwrap().contains("getIP"));
        assert!(status_info("api_limit_exceeded").unwrap().retryable);
        assert_eq!(status_info("no_cdr").unwrap().class, StatusClass::Empty);
        assert_ne!(
            status_info("no_callstatus").unwrap().class,
            StatusClass::Empty
        );
        assert!(status_info("Invalid_threshold").is_some());
        assert!(status_info("nonsense").is_none());
    }
}
