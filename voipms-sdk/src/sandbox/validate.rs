//! Request validation driven by the catalog, the way VoIP.ms answers bad requests.
//!
//! Each parameter is checked in wire order: absent (or empty) and required gives its `missing_*`
//! status, a malformed value gives its `invalid_*` status. The status for each parameter is
//! worked out once per method from the status table (`missing_did`, `missing_attachmessage` for
//! `attach_message`, a few documented aliases), so the sandbox only ever answers with codes the
//! real service uses. Where VoIP.ms has no status for a parameter's bad value (`advanced`,
//! `limit`, most flags), the service evidently does not check it, and neither does the sandbox:
//! the handlers read such values leniently.

use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::catalog::{METHODS, Method, Param, ParamKind};
use crate::scalars::is_decimal;
use crate::status::status_info;

use super::tables::TIMEZONES;

/// A refused request: the status VoIP.ms would answer with, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub(crate) status: &'static str,
    pub(crate) message: Option<String>,
}

impl Fail {
    pub(crate) fn new(status: &'static str) -> Self {
        debug_assert!(
            status_info(status).is_some(),
            "{status} is not a VoIP.ms status"
        );
        Fail {
            status,
            message: None,
        }
    }

    pub(crate) fn msg(status: &'static str, message: impl Into<String>) -> Self {
        Fail {
            message: Some(message.into()),
            ..Fail::new(status)
        }
    }
}

/// The parameters of one request (credentials and `method` removed). Empty values count as
/// absent, as they do for VoIP.ms's PHP code; when a name repeats, the last value wins.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Args<'a> {
    fields: &'a [(&'a str, &'a str)],
}

impl<'a> Args<'a> {
    pub(crate) fn new(fields: &'a [(&'a str, &'a str)]) -> Self {
        Args { fields }
    }

    /// The value of `name`, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty())
    }

    /// Every parameter as sent, in order.
    pub(crate) fn pairs(&self) -> &'a [(&'a str, &'a str)] {
        self.fields
    }

    /// The value of `name` if present, even when empty (a set* call that sends a field empty
    /// clears it, which some clients rely on).
    pub(crate) fn present(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// A flag as VoIP.ms reads it: `1`, `true` and `yes` are on, anything else is off.
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).map(is_true)
    }

    /// `test=1`: VoIP.ms's own dry run (checked, nothing saved, answered `success_test`). Live,
    /// only `1` counts: `test=true` is ignored and the call takes effect.
    pub(crate) fn dry_run(&self) -> bool {
        self.get("test").is_some_and(|v| v.trim() == "1")
    }

    /// A whole number; a malformed one reads as absent (validation refused those that matter).
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.trim().parse().ok())
    }

    /// A `YYYY-MM-DD` date.
    pub(crate) fn date(&self, name: &str) -> Option<NaiveDate> {
        self.get(name).and_then(parse_date)
    }

    /// A phone number in its normalized 10-digit (or international digits) form.
    pub(crate) fn phone(&self, name: &str) -> Option<String> {
        self.get(name).and_then(normalize_phone)
    }

    /// The value, or `default`.
    pub(crate) fn or(&self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }
}

/// `1`, `true`, `yes` (any case).
pub(crate) fn is_true(v: &str) -> bool {
    v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes")
}

/// Parses a strict `YYYY-MM-DD` date.
pub(crate) fn parse_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()
}

/// Normalizes a phone number: drops spaces, dots, dashes and parentheses, a leading `+`, and the
/// `1` country code of a North American number, so `+1 (555) 123-4567`, `555.123.4567` and
/// `15551234567` all become `5551234567`. Accepted: 10-digit North American numbers, short codes
/// and service numbers (3 to 6 digits), and international numbers written with `+` or `011`
/// (7 to 15 digits). `None` when it is none of those.
pub(crate) fn normalize_phone(v: &str) -> Option<String> {
    let t = v.trim();
    let plus = t.starts_with('+');
    let t = t.strip_prefix('+').unwrap_or(t);
    let mut digits = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    if digits.len() == 11 && digits.starts_with('1') {
        digits.remove(0);
    }
    let international = (plus || digits.starts_with("011")) && (7..=15).contains(&digits.len());
    (digits.len() == 10 || (3..=6).contains(&digits.len()) || international).then_some(digits)
}

/// Routing headers VoIP.ms documents, plus `did` and `phone`, which appear in its answers.
const ROUTING_HEADERS: &[&str] = &[
    "account",
    "fwd",
    "vm",
    "sip",
    "grp",
    "ivr",
    "sys",
    "recording",
    "queue",
    "cb",
    "tc",
    "disa",
    "none",
    "did",
    "phone",
];

/// The `sys:` actions.
pub(crate) const SYS_ACTIONS: &[&str] = &[
    "hangup",
    "busy",
    "noservice",
    "disconnected",
    "dtmf",
    "echo",
];

/// Checks a `header:value` routing target (the value may contain more colons).
pub(crate) fn valid_routing(v: &str) -> bool {
    let Some((header, value)) = v.split_once(':') else {
        return false;
    };
    if !ROUTING_HEADERS.contains(&header) {
        return false;
    }
    match header {
        "none" => true,
        "sys" => SYS_ACTIONS.contains(&value),
        _ => !value.is_empty(),
    }
}

fn valid_email(v: &str) -> bool {
    v.split(',').map(str::trim).all(|one| {
        let Some((local, domain)) = one.split_once('@') else {
            return false;
        };
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !one
                .chars()
                .any(|c| c.is_whitespace() || c == '<' || c == '>')
            && !domain.contains('@')
    })
}

fn valid_url(v: &str, allow_data: bool) -> bool {
    if allow_data && v.starts_with("data:") {
        return v.contains(";base64,") && crate::scalars::decode_base64(v).is_ok();
    }
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !v.chars().any(char::is_whitespace)
}

fn valid_base64(v: &str) -> bool {
    !v.is_empty() && crate::scalars::decode_base64(v.trim()).is_ok()
}

fn valid_integer(v: &str) -> bool {
    let body = v.strip_prefix('-').unwrap_or(v);
    !body.is_empty() && body.len() <= 18 && body.bytes().all(|b| b.is_ascii_digit())
}

fn valid_datetime(v: &str) -> bool {
    v.len() == 19 && chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S").is_ok()
}

/// What the items of a list parameter must look like, inferred from the spec's example value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemShape {
    Any,
    Digits,
    Routing,
    Codec,
    Locale,
}

/// How one parameter of one method is checked.
#[derive(Debug)]
pub(crate) struct ParamPlan {
    pub(crate) param: &'static Param,
    /// Status when the required parameter is absent.
    pub(crate) missing: &'static str,
    /// Status when the value is malformed; `None` when VoIP.ms has none (the value is not checked).
    pub(crate) invalid: Option<&'static str>,
    items: ItemShape,
    range: Option<(i64, i64)>,
}

/// The validation plan of one method.
#[derive(Debug)]
pub(crate) struct MethodPlan {
    pub(crate) params: Vec<ParamPlan>,
}

/// The plan of every method, indexed like [`METHODS`], built on first use.
pub(crate) fn plans() -> &'static [MethodPlan] {
    static PLANS: OnceLock<Vec<MethodPlan>> = OnceLock::new();
    PLANS.get_or_init(|| METHODS.iter().map(build_plan).collect())
}

fn known(code: &str) -> Option<&'static str> {
    status_info(code).map(|s| s.code)
}

/// `missing_*` names VoIP.ms uses for parameters whose status is not simply `missing_<name>`.
const MISSING_ALIASES: &[(&str, &str)] = &[
    ("date_from", "missing_from_date"),
    ("from", "missing_from_date"),
    ("startDate", "missing_from_date"),
    ("date_to", "missing_to_date"),
    ("to", "missing_to_date"),
    ("endDate", "missing_to_date"),
    ("message", "message_empty"),
    ("email_address", "missing_email"),
    ("auth_email", "missing_email"),
    ("zip_code", "missing_zip"),
    ("confirm_email", "missing_email_confirm"),
    ("confirm_password", "missing_password_confirm"),
    ("filtering", "missing_filter"),
    ("fax_id", "missing_id"),
    ("folder_id", "missing_folder"),
    ("new_folder", "missing_folder"),
    ("music", "missing_musiconhold"),
    ("member_name", "missing_name"),
    ("queue_name", "missing_name"),
    ("from_name", "missing_name"),
    ("queue_language", "missing_language"),
    ("routing_match", "missing_routing"),
    ("routing_nomatch", "missing_routing"),
    ("to_number", "missing_number"),
    ("from_number", "missing_number"),
    ("location_id", "missing_location"),
    ("pop", "missing_serverpop"),
];

/// `invalid_*` names for parameters whose status is not simply `invalid_<name>`.
const INVALID_ALIASES: &[(&str, &str)] = &[
    ("filtering", "invalid_filter"),
    ("pop", "invalid_serverpop"),
    ("ring_strategy", "invalid_strategy"),
    ("join_when_empty", "invalid_join_empty_type"),
    ("leave_when_empty", "invalid_join_empty_type"),
    ("range", "invalid_dayrange"),
    ("portType", "invalid_porttype"),
    ("calltype", "invalid_call_type"),
    ("callerid_number", "invalid_callerid"),
    ("email_address", "invalid_email"),
    ("auth_email", "invalid_email"),
    ("send_email", "invalid_email"),
    ("confirm_email", "invalid_email"),
    ("transcription_email", "invalid_transcription_email"),
];

/// Documented value ranges: (parameter, lowest, highest, status).
const RANGES: &[(&str, i64, i64, &str)] = &[
    ("threshold", 1, 250, "Invalid_threshold"),
    ("max_expiry", 60, 3600, "invalid_max_expiry"),
    ("rtp_timeout", 1, 3600, "invalid_rtp_timeout"),
    ("rtp_hold_timeout", 1, 3600, "invalid_rtp_hold_timeout"),
    ("dialtime", 1, 60, "invalid_dialtime"),
    ("internal_dialtime", 1, 60, "invalid_internaldialtime"),
];

fn missing_status(p: &Param) -> &'static str {
    let n = p.name;
    if let Some((_, s)) = MISSING_ALIASES.iter().find(|(a, _)| *a == n) {
        return s;
    }
    known(&format!("missing_{n}"))
        .or_else(|| known(&format!("missing_{}", n.replace('_', ""))))
        .or_else(|| known(&format!("missing_{}", n.to_ascii_lowercase())))
        .unwrap_or("missing_params")
}

fn invalid_status(m: &Method, p: &Param) -> Option<&'static str> {
    let n = p.name;
    // Kind-wide codes first: VoIP.ms reports a bad date as `invalid_date` whatever the field
    // (`invalid_date_from` means "start after end"), a bad zone as `invalid_timezone`.
    match p.kind {
        ParamKind::Date => return Some("invalid_date"),
        ParamKind::DateTime => return Some("invalid_datetime"),
        ParamKind::TzOffset | ParamKind::Timezone => return Some("invalid_timezone"),
        ParamKind::Routing => {
            return Some(if n.starts_with("failover") || n.starts_with("fail_over") {
                "invalid_failover_header"
            } else {
                "invalid_routing_header"
            });
        }
        _ => {}
    }
    if m.name == "getInvoice" && n == "type" {
        return Some("invalid_invoice_type");
    }
    if n == "file" && p.kind == ParamKind::Base64 {
        return Some("no_base64file");
    }
    if let Some((_, s)) = INVALID_ALIASES.iter().find(|(a, _)| *a == n) {
        return Some(s);
    }
    known(&format!("invalid_{n}"))
        .or_else(|| known(&format!("invalid_{}", n.replace('_', ""))))
        .or_else(|| known(&format!("invalid_{}", n.to_ascii_lowercase())))
        .or(match p.kind {
            ParamKind::Email => Some("invalid_email"),
            _ => None,
        })
}

fn item_shape(p: &Param) -> ItemShape {
    let ParamKind::List { separator } = p.kind else {
        return ItemShape::Any;
    };
    match p.name {
        "allowed_codecs" => return ItemShape::Codec,
        "transcription_locale" => return ItemShape::Locale,
        _ => {}
    }
    let Some(example) = p.example else {
        return ItemShape::Any;
    };
    let items: Vec<&str> = example.split(separator).collect();
    if items
        .iter()
        .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
    {
        ItemShape::Digits
    } else if items
        .iter()
        .all(|i| valid_routing(i.split(',').next().unwrap_or("")))
    {
        ItemShape::Routing
    } else {
        ItemShape::Any
    }
}

fn build_plan(m: &'static Method) -> MethodPlan {
    MethodPlan {
        params: m
            .params
            .iter()
            .map(|p| ParamPlan {
                param: p,
                missing: missing_status(p),
                invalid: invalid_status(m, p),
                items: item_shape(p),
                range: RANGES
                    .iter()
                    .find(|(n, ..)| *n == p.name)
                    .map(|(_, lo, hi, _)| (*lo, *hi)),
            })
            .collect(),
    }
}

const CODECS: &[&str] = &[
    "all", "ulaw", "alaw", "g729", "gsm", "g722", "g723", "g726", "ilbc", "opus", "speex",
];

impl ParamPlan {
    /// Checks a present, non-empty value.
    fn check(&self, m: &Method, v: &str) -> Result<(), Fail> {
        let p = self.param;
        let ok = match p.kind {
            ParamKind::String => true,
            ParamKind::Integer => valid_integer(v.trim()),
            ParamKind::Decimal => is_decimal(v.trim()),
            ParamKind::Flag => {
                is_true(v)
                    || v == "0"
                    || v.eq_ignore_ascii_case("false")
                    || v.eq_ignore_ascii_case("no")
            }
            ParamKind::YesNo => v.eq_ignore_ascii_case("yes") || v.eq_ignore_ascii_case("no"),
            ParamKind::Date => parse_date(v).is_some(),
            ParamKind::DateTime => valid_datetime(v),
            ParamKind::Enum => p.values.iter().any(|e| e.value == v),
            ParamKind::Routing => valid_routing(v),
            ParamKind::List { separator } => v.split(separator).all(|item| {
                let item = item.trim();
                !item.is_empty()
                    && match self.items {
                        ItemShape::Any => true,
                        ItemShape::Digits => item.bytes().all(|b| b.is_ascii_digit()),
                        ItemShape::Routing => valid_routing(item.split(',').next().unwrap_or("")),
                        ItemShape::Codec => CODECS.contains(&item),
                        ItemShape::Locale => {
                            let b = item.as_bytes();
                            b.len() == 5
                                && b[2] == b'-'
                                && b[..2].iter().all(u8::is_ascii_lowercase)
                                && b[3..].iter().all(u8::is_ascii_uppercase)
                        }
                    }
            }),
            ParamKind::Base64 => valid_base64(v),
            ParamKind::Phone => v == "-1" || normalize_phone(v).is_some(),
            ParamKind::Email => valid_email(v),
            ParamKind::Url => valid_url(v, p.name.starts_with("media")),
            ParamKind::TzOffset => v.parse::<crate::TzOffset>().is_ok(),
            ParamKind::Timezone => TIMEZONES.binary_search(&v).is_ok(),
        };
        if !ok {
            // Flags without a status of their own are read leniently (anything but 1/true is
            // off), like the service evidently does.
            return match self.invalid {
                Some(status) => Err(Fail::msg(status, invalid_message(m, p, v))),
                None => Ok(()),
            };
        }
        if let Some((lo, hi)) = self.range {
            let n = v.trim().parse::<i64>().unwrap_or(i64::MIN);
            if !(lo..=hi).contains(&n) {
                let status = RANGES
                    .iter()
                    .find(|(name, ..)| *name == p.name)
                    .map_or("missing_params", |r| r.3);
                return Err(Fail::msg(
                    status,
                    format!("`{}` must be between {lo} and {hi}", p.name),
                ));
            }
        }
        Ok(())
    }
}

fn invalid_message(m: &Method, p: &Param, v: &str) -> String {
    let what = match p.kind {
        ParamKind::Integer => "a whole number".to_owned(),
        ParamKind::Decimal => "a decimal number such as 4.99".to_owned(),
        ParamKind::Flag => "1 or 0".to_owned(),
        ParamKind::YesNo => "yes or no".to_owned(),
        ParamKind::Date => "a date as YYYY-MM-DD".to_owned(),
        ParamKind::DateTime => "a date and time as YYYY-MM-DD HH:MM:SS".to_owned(),
        ParamKind::Enum => {
            let vals: Vec<&str> = p.values.iter().map(|e| e.value).collect();
            format!("one of {}", vals.join(", "))
        }
        ParamKind::Routing => "a routing target header:value, such as account:100001_VoIP, \
                              vm:1001, fwd:18635 or sys:hangup"
            .to_owned(),
        ParamKind::List { separator } => format!("a list of valid items joined with `{separator}`"),
        ParamKind::Base64 => "base64-encoded data".to_owned(),
        ParamKind::Phone => "a phone number (10 digits for North America)".to_owned(),
        ParamKind::Email => "an e-mail address".to_owned(),
        ParamKind::Url => "a URL".to_owned(),
        ParamKind::TzOffset => {
            "hours from -12 to 13, whole or in quarter hours (5.5, 9.75)".to_owned()
        }
        ParamKind::Timezone => {
            "a time zone name from getTimezones, such as America/New_York".into()
        }
        ParamKind::String => "text".to_owned(),
    };
    // Never echo long or secret-looking values: show the length of anything long.
    let shown = if v.len() > 40 || p.name.contains("pass") {
        format!("a {}-byte value", v.len())
    } else {
        format!("`{v}`")
    };
    format!("{}: `{}` must be {what}, got {shown}", m.name, p.name)
}

/// Checks every parameter of a request against the method's plan.
pub(crate) fn validate(index: usize, args: &Args<'_>) -> Result<(), Fail> {
    let m = &METHODS[index];
    for plan in &plans()[index].params {
        match args.get(plan.param.name) {
            None if plan.param.required => {
                return Err(Fail::msg(
                    plan.missing,
                    format!(
                        "{}: the parameter `{}` is required",
                        m.name, plan.param.name
                    ),
                ));
            }
            None => {}
            Some(v) => plan.check(m, v)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn idx(name: &str) -> usize {
        METHODS.iter().position(|m| m.name == name).unwrap()
    }

    fn run(method: &str, fields: &[(&str, &str)]) -> Result<(), &'static str> {
        validate(idx(method), &Args::new(fields)).map_err(|f| f.status)
    }

    #[test]
    fn every_status_in_plans_exists() {
        for (m, plan) in METHODS.iter().zip(plans()) {
            for p in &plan.params {
                assert!(status_info(p.missing).is_some(), "{} {}", m.name, p.missing);
                if let Some(s) = p.invalid {
                    assert!(status_info(s).is_some(), "{} {s}", m.name);
                }
            }
        }
    }

    #[test]
    fn missing_statuses() {
        assert_eq!(run("sendSMS", &[]), Err("missing_did"));
        assert_eq!(
            run("sendSMS", &[("did", "5551234567"), ("dst", "5559876543")]),
            Err("message_empty")
        );
        assert_eq!(run("getCDR", &[]), Err("missing_from_date"));
        assert_eq!(
            run(
                "createVoicemail",
                &[("digits", "1002"), ("name", "x"), ("password", "1234")]
            ),
            Err("missing_skippassword")
        );
        assert_eq!(run("delCallerIDFiltering", &[]), Err("missing_filter"));
        assert_eq!(run("delPhonebookGroup", &[]), Err("missing_params"));
        // Empty counts as absent.
        assert_eq!(
            run("delPhonebook", &[("phonebook", "")]),
            Err("missing_phonebook")
        );
    }

    #[test]
    fn invalid_statuses() {
        assert_eq!(
            run("getBalance", &[("advanced", "maybe")]),
            Ok(()),
            "no status exists for advanced: lenient"
        );
        assert_eq!(
            run(
                "setDIDRouting",
                &[("did", "5551234567"), ("routing", "bogus:1")]
            ),
            Err("invalid_routing_header")
        );
        assert_eq!(
            run(
                "setDIDRouting",
                &[("did", "555-123-456"), ("routing", "sys:hangup")]
            ),
            Err("invalid_did")
        );
        assert_eq!(
            run("delPhonebook", &[("phonebook", "12a")]),
            Err("invalid_phonebook")
        );
        assert_eq!(
            run(
                "getTransactionHistory",
                &[("date_from", "2025-13-01"), ("date_to", "2025-01-01")]
            ),
            Err("invalid_date")
        );
        assert_eq!(
            run(
                "getCDR",
                &[
                    ("date_from", "2025-01-01"),
                    ("date_to", "2025-01-02"),
                    ("timezone", "14")
                ]
            ),
            Err("invalid_timezone")
        );
        assert_eq!(
            run(
                "setClientThreshold",
                &[("client", "1"), ("threshold", "500")]
            ),
            Err("Invalid_threshold")
        );
        assert_eq!(
            run("getDTMFModes", &[("dtmf_mode", "loud")]),
            Err("invalid_dtmfmode")
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(
            normalize_phone("+1 (555) 123-4567").as_deref(),
            Some("5551234567")
        );
        assert_eq!(
            normalize_phone("555.123.4567").as_deref(),
            Some("5551234567")
        );
        assert_eq!(
            normalize_phone("15551234567").as_deref(),
            Some("5551234567")
        );
        assert_eq!(
            normalize_phone("011442071234567").as_deref(),
            Some("011442071234567")
        );
        assert_eq!(normalize_phone("55"), None);
        assert_eq!(normalize_phone("555123456"), None);
        assert_eq!(
            normalize_phone("+442071234567").as_deref(),
            Some("442071234567")
        );
        assert_eq!(normalize_phone("86753").as_deref(), Some("86753"));
        assert_eq!(normalize_phone("555-CALL-NOW"), None);
        assert!(valid_routing("sip:user@example.com:5060"));
        assert!(valid_routing("none:"));
        assert!(!valid_routing("sys:explode"));
        assert!(!valid_routing("vm:"));
        assert!(valid_email("a@example.com, b@example.org"));
        assert!(!valid_email("a@localhost"));
        assert!(valid_url("data:image/png;base64,iVBORw0KGgo=", true));
        assert!(!valid_url("data:image/png;base64,iVBORw0KGgo=", false));
        assert!(valid_url("ssmpp://smpp.example.com:3550", false));
        assert!(!valid_url("example.com", false));
        assert!(parse_date("2025-02-29").is_none());
        assert!(parse_date("2024-02-29").is_some());
        // Flags take 1/0 and true/false.
        for v in ["1", "0", "true", "false", "TRUE"] {
            assert_eq!(
                run(
                    "setDIDInfo",
                    &[
                        ("did", "5551234567"),
                        ("routing", "sys:busy"),
                        ("pop", "3"),
                        ("dialtime", "60"),
                        ("cnam", v),
                        ("billing_type", "1")
                    ]
                ),
                Ok(()),
                "{v}"
            );
        }
        assert_eq!(
            run(
                "setDIDInfo",
                &[
                    ("did", "5551234567"),
                    ("routing", "sys:busy"),
                    ("pop", "3"),
                    ("dialtime", "60"),
                    ("cnam", "2"),
                    ("billing_type", "1")
                ]
            ),
            Err("invalid_cnam")
        );
        let m = catalog::method("setSubAccount").unwrap();
        let plan = &plans()[idx("setSubAccount")];
        let codecs = plan
            .params
            .iter()
            .find(|p| p.param.name == "allowed_codecs")
            .unwrap();
        assert!(codecs.check(m, "ulaw;g729").is_ok());
        assert!(codecs.check(m, "ulaw,g729").is_err());
    }
}
