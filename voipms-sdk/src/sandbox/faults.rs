//! Fault injection: the failures a client of VoIP.ms meets in the wild, on demand.
//!
//! Rules pick calls by method and by a deterministic trigger (always, the first N calls, every
//! Nth call, or a seeded chance), so a test that injects faults sees the same failures on every
//! run. The per-minute rate limit is the one time-based fault, as on the real service.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::rng::{hash_str, mix};

/// Fault injection settings of a [`Sandbox`](super::Sandbox) ([`Faults::default`] injects
/// nothing).
///
/// ```
/// use std::time::Duration;
/// use voipms_sdk::sandbox::{Fault, FaultRule, Faults};
/// let faults = Faults::new(7)
///     .latency(Duration::from_millis(5))
///     .rate_limit(120)
///     .rule(FaultRule::method("getBalance", Fault::HttpError(503)).first(2))
///     .rule(FaultRule::all(Fault::Cloudflare(522)).chance(0.01));
/// // The same, written as text (what `voipms sandbox serve --faults` takes):
/// let parsed: Faults =
///     "seed=7, latency=5ms, ratelimit=120, getBalance:503@first=2, *:cf522@p=0.01".parse()?;
/// assert_eq!(parsed, faults);
/// # Ok::<(), voipms_sdk::sandbox::FaultParseError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Seed of the dice of [`Trigger::Chance`] rules (independent of the account's seed).
    pub seed: u64,
    /// Added before every answer.
    pub latency: Duration,
    /// At most this many calls in any 60 seconds; the calls above get `api_limit_exceeded`.
    pub rate_limit_per_minute: Option<u32>,
    /// Rules, in order: latency rules add up, and the first other rule that fires decides.
    pub rules: Vec<FaultRule>,
}

/// When a rule fires and what it does, for one method or all.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The wire name of the method (`getBalance`), or `None` for every method.
    pub method: Option<String>,
    /// What happens.
    pub fault: Fault,
    /// On which of the matching calls.
    pub when: Trigger,
}

/// Which matching calls a rule fires on. Calls are counted per rule, from 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Every matching call.
    Always,
    /// The first `n` matching calls (then the rule is spent: "fail twice, then work").
    FirstCalls(u64),
    /// Every `n`th matching call.
    EveryNth(u64),
    /// Each matching call with this probability, decided by the fault seed and the call's
    /// number, so runs repeat exactly.
    Chance(f64),
}

/// A failure to inject.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Extra delay before the answer.
    Latency(Duration),
    /// An HTTP error status (500, 502, 503, 504…) with a web server's HTML error page; the
    /// request never reached the API, so nothing changes.
    HttpError(u16),
    /// A Cloudflare error page (520–527, "error code: 522"); nothing changes.
    Cloudflare(u16),
    /// Varnish's "503 Backend fetch failed" page, as during the 2021 DDoS; nothing changes.
    Varnish,
    /// HTTP 200 with an empty body. The call is carried out (clients read an empty body as
    /// success, so a read then looks like an empty result).
    EmptyBody,
    /// HTTP 200 with the answer cut in half. The call is carried out.
    TruncatedBody,
    /// No answer within the client's patience: the sandbox holds the request for this long and
    /// then closes the connection (in-process, the transport reports a timeout after it).
    /// Nothing changes. Make it longer than the client's timeout when testing over HTTP.
    Timeout(Duration),
    /// The call is carried out, then its answer is lost: a changed account and an error.
    LostReply(LostReply),
    /// An API status instead of the answer (`method_maintenance`, `tls_error`,
    /// `provider_outofservice`…); nothing changes.
    Status(String),
}

/// How an answer gets lost after the call was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReply {
    /// A proxy answers 502 Bad Gateway.
    BadGateway,
    /// The connection closes before any answer.
    Dropped,
}

impl Fault {
    /// The kind's short name, as counted by [`Sandbox::faults_injected`](super::Sandbox::faults_injected).
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Latency(_) => "latency",
            Fault::HttpError(_) => "5xx",
            Fault::Cloudflare(_) => "cloudflare",
            Fault::Varnish => "varnish",
            Fault::EmptyBody => "empty",
            Fault::TruncatedBody => "truncated",
            Fault::Timeout(_) => "timeout",
            Fault::LostReply(LostReply::BadGateway) => "lost",
            Fault::LostReply(LostReply::Dropped) => "drop",
            Fault::Status(_) => "status",
        }
    }
}

impl Faults {
    /// No faults, with the dice seeded by `seed`.
    pub fn new(seed: u64) -> Self {
        Faults {
            seed,
            ..Faults::default()
        }
    }

    /// Adds `latency` before every answer.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Answers `api_limit_exceeded` above `per_minute` calls in any 60 seconds.
    pub fn rate_limit(mut self, per_minute: u32) -> Self {
        self.rate_limit_per_minute = Some(per_minute);
        self
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Whether these settings inject nothing.
    pub fn is_empty(&self) -> bool {
        self.latency.is_zero() && self.rate_limit_per_minute.is_none() && self.rules.is_empty()
    }
}

impl FaultRule {
    /// `fault` on every call of every method.
    pub fn all(fault: Fault) -> Self {
        FaultRule {
            method: None,
            fault,
            when: Trigger::Always,
        }
    }

    /// `fault` on every call of `method` (wire name).
    pub fn method(method: impl Into<String>, fault: Fault) -> Self {
        FaultRule {
            method: Some(method.into()),
            fault,
            when: Trigger::Always,
        }
    }

    /// Only on the first `n` matching calls.
    pub fn first(mut self, n: u64) -> Self {
        self.when = Trigger::FirstCalls(n);
        self
    }

    /// Only on every `n`th matching call.
    pub fn every(mut self, n: u64) -> Self {
        self.when = Trigger::EveryNth(n.max(1));
        self
    }

    /// On each matching call with probability `p` (seeded).
    pub fn chance(mut self, p: f64) -> Self {
        self.when = Trigger::Chance(p.clamp(0.0, 1.0));
        self
    }
}

/// A fault description that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fault `{item}`: {reason} (syntax: [METHOD:]FAULT[@first=N|@every=N|@p=0.1], seed=N, latency=50ms, ratelimit=60; FAULT is 500-599, cf522, varnish, empty, truncated, timeout=30s, lost, drop, latency=100ms or status=CODE)"
)]
pub struct FaultParseError {
    item: String,
    reason: String,
}

fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((t, "ms"), |i| t.split_at(i));
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    let (name, arg) = text.split_once('=').unwrap_or((text, ""));
    let dur = |default: u64| {
        if arg.is_empty() {
            Ok(Duration::from_secs(default))
        } else {
            parse_duration(arg).ok_or_else(|| format!("`{arg}` is not a duration such as 30s"))
        }
    };
    Ok(match name.to_ascii_lowercase().as_str() {
        "empty" => Fault::EmptyBody,
        "truncated" => Fault::TruncatedBody,
        "varnish" => Fault::Varnish,
        "timeout" => Fault::Timeout(dur(70)?),
        "latency" => Fault::Latency(dur(1)?),
        "lost" | "lost502" => Fault::LostReply(LostReply::BadGateway),
        "drop" | "dropped" => Fault::LostReply(LostReply::Dropped),
        "status" if !arg.is_empty() => Fault::Status(arg.to_owned()),
        "cloudflare" => Fault::Cloudflare(522),
        n if n.starts_with("cf") => Fault::Cloudflare(
            n[2..]
                .parse()
                .ok()
                .filter(|c| (520..=530).contains(c))
                .ok_or("Cloudflare codes are cf520 to cf530")?,
        ),
        n => match n.parse::<u16>() {
            Ok(code) if (500..=599).contains(&code) => Fault::HttpError(code),
            _ => return Err(format!("unknown fault `{name}`")),
        },
    })
}

impl FromStr for Faults {
    type Err = FaultParseError;

    /// Reads settings such as `seed=7, latency=20ms, ratelimit=60, getBalance:503@first=2,
    /// sendSMS:lost, *:cf522@p=0.05` (items separated by commas, semicolons or spaces).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Faults::default();
        for item in s
            .split([',', ';', ' ', '\n'])
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let err = |reason: String| FaultParseError {
                item: item.to_owned(),
                reason,
            };
            if let Some(v) = item.strip_prefix("seed=") {
                out.seed = v
                    .parse()
                    .map_err(|_| err("the seed is a whole number".into()))?;
                continue;
            }
            if let Some(v) = item.strip_prefix("ratelimit=") {
                out.rate_limit_per_minute = Some(
                    v.parse()
                        .map_err(|_| err("calls per minute, a whole number".into()))?,
                );
                continue;
            }
            if let Some(v) = item.strip_prefix("latency=") {
                out.latency = parse_duration(v).ok_or_else(|| err("not a duration".into()))?;
                continue;
            }
            let (scope, rest) = match item.split_once(':') {
                Some((m, r)) => (Some(m), r),
                None => (None, item),
            };
            let (fault, trigger) = rest.split_once('@').unwrap_or((rest, ""));
            let fault = parse_fault(fault).map_err(err)?;
            let when = match trigger.split_once('=') {
                None if trigger.is_empty() => Trigger::Always,
                Some(("first", n)) => Trigger::FirstCalls(
                    n.parse()
                        .map_err(|_| err("first=N takes a whole number".into()))?,
                ),
                Some(("every", n)) => Trigger::EveryNth(
                    n.parse::<u64>()
                        .map_err(|_| err("every=N takes a whole number".into()))?
                        .max(1),
                ),
                Some(("p", p)) => Trigger::Chance(
                    p.parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=1.0).contains(p))
                        .ok_or_else(|| err("p= takes a probability from 0 to 1".into()))?,
                ),
                _ => return Err(err(format!("unknown trigger `@{trigger}`"))),
            };
            out.rules.push(FaultRule {
                method: scope.filter(|m| *m != "*").map(str::to_owned),
                fault,
                when,
            });
        }
        Ok(out)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = vec![format!("seed={}", self.seed)];
        if !self.latency.is_zero() {
            items.push(format!("latency={}ms", self.latency.as_millis()));
        }
        if let Some(n) = self.rate_limit_per_minute {
            items.push(format!("ratelimit={n}"));
        }
        for r in &self.rules {
            let fault = match &r.fault {
                Fault::Latency(d) => format!("latency={}ms", d.as_millis()),
                Fault::HttpError(c) => c.to_string(),
                Fault::Cloudflare(c) => format!("cf{c}"),
                Fault::Varnish => "varnish".into(),
                Fault::EmptyBody => "empty".into(),
                Fault::TruncatedBody => "truncated".into(),
                Fault::Timeout(d) => format!("timeout={}ms", d.as_millis()),
                Fault::LostReply(LostReply::BadGateway) => "lost".into(),
                Fault::LostReply(LostReply::Dropped) => "drop".into(),
                Fault::Status(s) => format!("status={s}"),
            };
            let when = match r.when {
                Trigger::Always => String::new(),
                Trigger::FirstCalls(n) => format!("@first={n}"),
                Trigger::EveryNth(n) => format!("@every={n}"),
                Trigger::Chance(p) => format!("@p={p}"),
            };
            items.push(format!(
                "{}:{fault}{when}",
                r.method.as_deref().unwrap_or("*")
            ));
        }
        f.write_str(&items.join(", "))
    }
}

/// What the fault engine decided for one call.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    pub(crate) delay: Duration,
    pub(crate) action: Action,
}

/// The failure to apply, if any.
#[derive(Debug, Default)]
pub(crate) enum Action {
    /// Answer normally.
    #[default]
    Proceed,
    /// Answer this instead, without carrying out the call.
    Reject {
        http_status: u16,
        content_type: &'static str,
        body: Bytes,
    },
    /// Answer with this API status instead, without carrying out the call.
    Status(String),
    /// Hold the request this long, then close without an answer.
    Hang(Duration),
    /// Carry out the call, then spoil the answer.
    Spoil(Spoil),
}

/// How an answer is spoiled after the call was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spoil {
    Empty,
    Truncate,
    BadGateway,
    Drop,
}

/// The running fault state: the settings, per-rule call counts and the rate-limit window.
#[derive(Debug, Default)]
pub(crate) struct Engine {
    pub(crate) faults: Faults,
    counts: Vec<u64>,
    window: VecDeque<Instant>,
    /// Faults injected so far, by kind: what a soak compares its clients' reports with.
    pub(crate) injected: BTreeMap<&'static str, u64>,
}

impl Engine {
    pub(crate) fn new(faults: Faults) -> Self {
        Engine {
            counts: vec![0; faults.rules.len()],
            faults,
            window: VecDeque::new(),
            injected: BTreeMap::new(),
        }
    }

    pub(crate) fn decide(&mut self, method: &str, now: Instant) -> Decision {
        let mut d = Decision {
            delay: self.faults.latency,
            action: Action::Proceed,
        };
        if let Some(limit) = self.faults.rate_limit_per_minute {
            while self
                .window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
            {
                self.window.pop_front();
            }
            if self.window.len() >= limit as usize {
                *self.injected.entry("ratelimit").or_default() += 1;
                d.action = Action::Status("api_limit_exceeded".into());
                return d;
            }
            self.window.push_back(now);
        }
        let seed = self.faults.seed;
        for (i, rule) in self.faults.rules.iter().enumerate() {
            if rule.method.as_deref().is_some_and(|m| m != method) {
                continue;
            }
            self.counts[i] += 1;
            let n = self.counts[i];
            let fires = match rule.when {
                Trigger::Always => true,
                Trigger::FirstCalls(k) => n <= k,
                Trigger::EveryNth(k) => n.is_multiple_of(k.max(1)),
                Trigger::Chance(p) => {
                    let roll = mix(seed ^ hash_str(method) ^ mix(i as u64 + 1) ^ n);
                    ((roll >> 11) as f64 / (1u64 << 53) as f64) < p
                }
            };
            if !fires {
                continue;
            }
            if let Fault::Latency(extra) = rule.fault {
                d.delay += extra;
                continue;
            }
            if !matches!(d.action, Action::Proceed) {
                continue;
            }
            *self.injected.entry(rule.fault.kind()).or_default() += 1;
            d.action = match &rule.fault {
                Fault::Latency(_) => Action::Proceed,
                Fault::HttpError(code) => Action::Reject {
                    http_status: *code,
                    content_type: "text/html",
                    body: Bytes::from(nginx_page(*code)),
                },
                Fault::Cloudflare(code) => Action::Reject {
                    http_status: *code,
                    content_type: "text/html; charset=UTF-8",
                    body: Bytes::from(cloudflare_page(*code)),
                },
                Fault::Varnish => Action::Reject {
                    http_status: 503,
                    content_type: "text/html; charset=utf-8",
                    body: Bytes::from(varnish_page()),
                },
                Fault::EmptyBody => Action::Spoil(Spoil::Empty),
                Fault::TruncatedBody => Action::Spoil(Spoil::Truncate),
                Fault::Timeout(t) => Action::Hang(*t),
                Fault::LostReply(LostReply::BadGateway) => Action::Spoil(Spoil::BadGateway),
                Fault::LostReply(LostReply::Dropped) => Action::Spoil(Spoil::Drop),
                Fault::Status(s) => Action::Status(s.clone()),
            };
        }
        d
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        520 => "Web server is returning an unknown error",
        521 => "Web server is down",
        522 => "Connection timed out",
        523 => "Origin is unreachable",
        524 => "A timeout occurred",
        525 => "SSL handshake failed",
        526 => "Invalid SSL certificate",
        _ => "Server Error",
    }
}

pub(crate) fn nginx_page(code: u16) -> String {
    let r = reason(code);
    format!(
        "<html>\r\n<head><title>{code} {r}</title></head>\r\n<body>\r\n<center><h1>{code} {r}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}

fn cloudflare_page(code: u16) -> String {
    let r = reason(code);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head><title>voip.ms | {code}: {r}</title></head>\n<body>\n<div id=\"cf-wrapper\"><h1><span class=\"cf-error-type\">Error</span> <span class=\"cf-error-code\">{code}</span></h1>\n<h2 class=\"cf-subheadline\">{r}</h2>\n<p>error code: {code}</p>\n<p>Cloudflare Ray ID: 8f3a2c91d7e4b5a6 &bull; Performance &amp; security by Cloudflare</p></div>\n</body>\n</html>\n"
    )
}

fn varnish_page() -> String {
    "<!DOCTYPE html>\n<html>\n  <head>\n    <title>503 Backend fetch failed</title>\n  </head>\n  <body>\n    <h1>Error 503 Backend fetch failed</h1>\n    <p>Backend fetch failed</p>\n    <h3>Guru Meditation:</h3>\n    <p>XID: 32775</p>\n    <hr>\n    <p>Varnish cache server</p>\n  </body>\n</html>\n".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let f: Faults = "seed=3, latency=20ms; ratelimit=60 getBalance:503@first=2 sendSMS:lost \
                         *:cf522@p=0.25 getCDR:timeout=2s@every=3 getDIDsInfo:status=method_maintenance \
                         getIP:drop getSMS:empty getMMS:truncated getBalance:latency=1s *:varnish@first=0"
            .parse()
            .unwrap();
        assert_eq!(f.seed, 3);
        assert_eq!(f.latency, Duration::from_millis(20));
        assert_eq!(f.rate_limit_per_minute, Some(60));
        assert_eq!(f.rules.len(), 10);
        assert_eq!(f.rules[0].fault, Fault::HttpError(503));
        assert_eq!(f.rules[0].when, Trigger::FirstCalls(2));
        assert_eq!(f.rules[2].method, None);
        let again: Faults = f.to_string().parse().unwrap();
        assert_eq!(again, f);
        for bad in [
            "getBalance:418",
            "x:cf999",
            "y:503@soon",
            "ratelimit=lots",
            "z:timeout=forever",
        ] {
            let e = bad.parse::<Faults>().unwrap_err();
            assert!(e.to_string().contains("syntax"), "{e}");
        }
    }

    #[test]
    fn triggers_are_deterministic() {
        let faults = Faults::new(9)
            .rule(FaultRule::method("getBalance", Fault::HttpError(503)).first(2))
            .rule(FaultRule::method("getCDR", Fault::EmptyBody).every(3))
            .rule(FaultRule::all(Fault::Varnish).chance(0.5));
        let run = || {
            let mut e = Engine::new(faults.clone());
            let now = Instant::now();
            (0..60)
                .map(|i| {
                    let m = ["getBalance", "getCDR", "getIP"][i % 3];
                    format!("{:?}", e.decide(m, now).action)
                })
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a[0].contains("503") && a[3].contains("503"));
        assert!(!a[6].contains("503"));
        assert!(a[7].contains("Empty"), "third getCDR call: {}", a[7]);
        let varnish = a.iter().filter(|x| x.contains("Backend fetch")).count();
        assert!((10..=50).contains(&varnish), "{varnish}");
    }

    #[test]
    fn injected_faults_are_counted_by_kind() {
        let mut e = Engine::new(
            "seed=4, getBalance:503@first=2, getBalance:latency=5ms, getCDR:cf522@every=2, \
             getSMS:lost, getIP:timeout=1s@first=1, ratelimit=8"
                .parse()
                .unwrap(),
        );
        let now = Instant::now();
        for m in [
            "getBalance",
            "getBalance",
            "getBalance",
            "getCDR",
            "getCDR",
            "getSMS",
        ] {
            e.decide(m, now);
        }
        e.decide("getIP", now);
        e.decide("getIP", now);
        // The rate limit (8 a minute) answers the ninth call.
        e.decide("getIP", now);
        let counts: Vec<_> = e.injected.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(
            counts,
            [
                ("5xx", 2),
                ("cloudflare", 1),
                ("lost", 1),
                ("ratelimit", 1),
                ("timeout", 1)
            ]
        );
    }

    #[test]
    fn rate_limit_window() {
        let mut e = Engine::new(Faults::new(1).rate_limit(3));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(matches!(e.decide("getBalance", t0).action, Action::Proceed));
        }
        assert!(
            matches!(e.decide("getBalance", t0).action, Action::Status(ref s) if s == "api_limit_exceeded")
        );
        let later = t0 + Duration::from_secs(61);
        assert!(matches!(
            e.decide("getBalance", later).action,
            Action::Proceed
        ));
    }
}
