//! Every status code VoIP.ms answers with, with its meaning, class and a hint, from
//! `api-spec/statuses.toml`.

#[rustfmt::skip]
#[path = "generated/statuses.rs"]
mod data;

pub use data::{STATUSES, Status};

use serde_json::Value;

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

impl Status {
    /// Kind of outcome; `None` for a code the table does not know.
    pub fn class(&self) -> Option<StatusClass> {
        self.info().map(|i| i.class)
    }

    /// What it means; `None` for a code the table does not know.
    pub fn meaning(&self) -> Option<&'static str> {
        self.info().map(|i| i.meaning)
    }

    /// What to do about it, where something helps.
    pub fn hint(&self) -> Option<&'static str> {
        self.info().and_then(|i| i.hint)
    }

    /// `success`, or `success_test` (a `test=1` dry run that VoIP.ms checked and did not carry out).
    pub fn is_success(&self) -> bool {
        matches!(self, Status::Success | Status::SuccessTest)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_wire())
    }
}

impl std::str::FromStr for Status {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Status::from_wire(s))
    }
}

/// The status code an answer carries: its `status`, except that `status: invalid` with a code
/// nested under `error` (how the port-request methods answer) gives the nested code. An answer
/// without a status (an empty body) is `success`.
pub fn status_of(body: &Value) -> &str {
    let code = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("success");
    if code == "invalid"
        && let Some(nested) = body.get("error").and_then(Value::as_str)
        && !nested.trim().is_empty()
    {
        return nested.trim();
    }
    code
}

/// Whether a status code is a success (`success`, or `success_test` for a `test=1` dry run).
pub fn is_success(code: &str) -> bool {
    code == "success" || code == "success_test"
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
        assert_eq!(STATUSES.len(), 489);
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

    #[test]
    fn status_enum_round_trips_and_keeps_the_table() {
        for info in STATUSES {
            let s = Status::from_wire(info.code);
            assert!(!matches!(s, Status::Other(_)), "{}", info.code);
            assert_eq!(s.as_wire(), info.code);
            assert_eq!(s.info().unwrap().code, info.code);
        }
        assert_eq!(Status::from_wire("no_cdr"), Status::NoCdr);
        assert_eq!(Status::NoCdr.class(), Some(StatusClass::Empty));
        assert!(Status::SuccessTest.is_success());
        assert_eq!(
            Status::from_wire("Invalid_threshold"),
            Status::InvalidThreshold
        );
        let other = Status::from_wire("brand_new_code");
        assert_eq!(other, Status::Other("brand_new_code".into()));
        assert_eq!(other.as_wire(), "brand_new_code");
        assert_eq!(other.meaning(), None);
        assert_eq!("no_ports".parse::<Status>().unwrap(), Status::NoPorts);
    }

    #[test]
    fn nested_invalid_reports_the_nested_code() {
        use serde_json::json;
        assert_eq!(
            status_of(&json!({"status": "invalid", "error": "no_ports"})),
            "no_ports"
        );
        assert_eq!(status_of(&json!({"status": "invalid"})), "invalid");
        assert_eq!(status_of(&json!({"status": "no_cdr"})), "no_cdr");
        assert_eq!(status_of(&json!({})), "success");
        assert!(is_success("success_test"));
    }
}
