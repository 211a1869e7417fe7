//! `voipms doctor`: checks the set-up step by step (credentials, endpoint, network, API access,
//! IP allow-list) and prints the fix for each failure; `--drift` also calls every free read-only
//! method and reports answers that no longer match their typed response.

use std::time::Duration;

use serde_json::{Value, json};
use voipms_sdk::catalog::{self, Effect, Method};

use crate::ctx::{Ctx, Session};
use crate::exit::{Code, Failure, code_of};
use crate::output::{self, BOLD, DIM, Format, GREEN, RED, YELLOW};
use crate::{config, outln};

/// Where the API settings are on the portal.
const PORTAL_API_PAGE: &str =
    "the VoIP.ms portal, Main Menu → SOAP & REST/JSON API (https://voip.ms/m/api.php)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug)]
struct Check {
    name: &'static str,
    state: State,
    detail: String,
    fix: Option<String>,
    code: Code,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            state: State::Pass,
            detail: detail.into(),
            fix: None,
            code: Code::Usage,
        }
    }

    fn fail(
        name: &'static str,
        code: Code,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        let fix: String = fix.into();
        Check {
            name,
            state: State::Fail,
            detail: detail.into(),
            fix: (!fix.is_empty()).then_some(fix),
            code,
        }
    }

    fn skip(name: &'static str, why: &str) -> Check {
        Check {
            name,
            state: State::Skip,
            detail: why.to_owned(),
            fix: None,
            code: Code::Usage,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "check": self.name,
            "state": match self.state { State::Pass => "pass", State::Fail => "fail", State::Skip => "skipped" },
            "detail": self.detail,
            "fix": self.fix,
        })
    }
}

/// Runs the checks; `drift` adds the typed-decode sweep.
pub fn run(ctx: &mut Ctx, drift: bool) -> Result<(), Failure> {
    let json_out = ctx.globals.format == Some(Format::Json);
    let mut checks = Vec::new();
    if drift {
        // A sweep makes dozens of calls: keep clear of the per-minute limit.
        ctx.pace = Some(Duration::from_millis(250));
    }
    let session_ok = credentials(ctx, &mut checks);
    if session_ok {
        reachability(ctx, &mut checks)?;
    } else {
        for name in ["network", "API access", "allow-list"] {
            checks.push(Check::skip(name, "not checked: no usable credentials"));
        }
    }
    let basics_ok = checks.iter().all(|c| c.state == State::Pass);
    if drift && !basics_ok {
        checks.push(Check::skip(
            "drift",
            "not run: fix the problems above first",
        ));
    }
    if !json_out {
        print_checks(&checks);
    }
    let drift_report = if drift && basics_ok {
        Some(sweep(ctx, json_out)?)
    } else {
        None
    };
    if json_out {
        let mut doc = json!({
            "ok": checks.iter().all(|c| c.state != State::Fail)
                && drift_report.as_ref().is_none_or(|r| r.failures == 0),
            "checks": checks.iter().map(Check::to_json).collect::<Vec<_>>(),
        });
        if let Some(r) = &drift_report {
            doc["drift"] = r.json.clone();
        }
        outln!("{}", output::json_pretty(&doc));
    } else if let Some(r) = &drift_report {
        outln!("{}", r.summary);
    }
    if let Some(failed) = checks.iter().find(|c| c.state == State::Fail) {
        return Err(Failure::printed(failed.code));
    }
    if drift_report.as_ref().is_some_and(|r| r.failures > 0) {
        return Err(Failure::printed(Code::Decode));
    }
    Ok(())
}

fn print_checks(checks: &[Check]) {
    for c in checks {
        let (mark, style) = match c.state {
            State::Pass => ("✓", GREEN),
            State::Fail => ("✗", RED),
            State::Skip => ("–", DIM),
        };
        outln!(
            "{style}{mark}{style:#} {BOLD}{:<12}{BOLD:#} {}",
            c.name,
            c.detail
        );
        if let Some(fix) = &c.fix {
            for (i, line) in fix.lines().enumerate() {
                let lead = if i == 0 { "fix:" } else { "    " };
                outln!("  {YELLOW}{lead}{YELLOW:#} {line}");
            }
        }
    }
}

fn credentials(ctx: &mut Ctx, checks: &mut Vec<Check>) -> bool {
    if ctx.globals.sandbox {
        return match ctx.session() {
            Ok(s) => {
                let who = s.client().username().to_owned();
                checks.push(Check::pass(
                    "credentials",
                    format!("{who} (the sandbox's simulated account)"),
                ));
                checks.push(Check::pass("endpoint", "in-process sandbox"));
                true
            }
            Err(e) => {
                checks.push(Check::fail(
                    "credentials",
                    e.code,
                    "the sandbox cannot be opened",
                    e.message,
                ));
                false
            }
        };
    }
    let lookup = ctx.lookup();
    let account = match config::resolve(&lookup) {
        Ok(Some(a)) => a,
        Ok(None) => {
            checks.push(Check::fail(
                "credentials",
                Code::Config,
                "none configured",
                config::no_credentials_message(&lookup),
            ));
            checks.push(Check::skip("endpoint", "not checked"));
            return false;
        }
        Err(e) => {
            checks.push(Check::fail(
                "credentials",
                Code::Config,
                "unusable",
                e.message,
            ));
            checks.push(Check::skip("endpoint", "not checked"));
            return false;
        }
    };
    checks.push(Check::pass(
        "credentials",
        format!("{}, from {}", account.username, account.source),
    ));
    match ctx.real_session(account) {
        Ok(session) => {
            checks.push(Check::pass(
                "endpoint",
                crate::core::secrets::mask_userinfo(session.client().base_url()).into_owned(),
            ));
            ctx.set_session(session);
            true
        }
        Err(e) => {
            checks.push(Check::fail(
                "endpoint",
                Code::Config,
                "unusable",
                format!("{}\nUse --api-url or VOIPMS_API_URL with an https URL, or leave it unset for VoIP.ms.", e.message),
            ));
            false
        }
    }
}

fn call(ctx: &mut Ctx, method: &str) -> Result<Value, voipms_sdk::Error> {
    let client = match ctx.session() {
        Ok(s) => s.client().clone(),
        Err(e) => return Err(voipms_sdk::Error::Config(e.message)),
    };
    let rt = ctx.rt().map_err(|e| voipms_sdk::Error::Config(e.message))?;
    rt.block_on(client.call_with_effect(method, &voipms_sdk::Params::new(), Effect::Read))
        .map(|o| o.body)
}

fn reachability(ctx: &mut Ctx, checks: &mut Vec<Check>) -> Result<(), Failure> {
    let sandbox = matches!(ctx.session(), Ok(Session::Sandbox(_)));
    let ip = match call(ctx, "getIP") {
        Ok(body) => {
            let ip = body.get("ip").map(output::cell).unwrap_or_default();
            checks.push(Check::pass(
                "network",
                format!("VoIP.ms answers; it sees this machine as {ip}"),
            ));
            Some(ip)
        }
        // VoIP.ms answered with a status (invalid_credentials, ip_not_enabled…): the network is
        // fine, and the checks below pin the refusal on the credentials or the allow-list.
        Err(e) if e.status().is_some() => {
            checks.push(Check::pass(
                "network",
                format!(
                    "VoIP.ms answers (it refused getIP: {})",
                    e.status().unwrap_or_default()
                ),
            ));
            None
        }
        Err(e) => {
            let code = code_of(&e);
            let fix = if code == Code::Network {
                "Check the network, DNS, proxy and firewall; with --api-url, check that the URL \
                 points at the API (https://voip.ms/api/v1/rest.php)."
            } else {
                ""
            };
            checks.push(Check::fail("network", code, e.to_string(), fix));
            None
        }
    };
    if ip.is_none() && checks.last().is_some_and(|c| c.code == Code::Network) {
        checks.push(Check::skip(
            "API access",
            "not checked: VoIP.ms cannot be reached",
        ));
        checks.push(Check::skip(
            "allow-list",
            "not checked: VoIP.ms cannot be reached",
        ));
        return Ok(());
    }
    let ip_text = ip
        .clone()
        .unwrap_or_else(|| "this machine's address".to_owned());
    match call(ctx, "getBalance") {
        Ok(_) => {
            checks.push(Check::pass(
                "API access",
                "getBalance works: credentials accepted, API enabled",
            ));
            let detail = if sandbox {
                "the sandbox accepts every address".to_owned()
            } else {
                format!("{ip_text} is allowed to call the API")
            };
            checks.push(Check::pass("allow-list", detail));
        }
        Err(e) => {
            let status = e.status().unwrap_or("").to_owned();
            match status.as_str() {
                "ip_not_enabled" => {
                    checks.push(Check::pass("API access", "credentials accepted"));
                    checks.push(Check::fail(
                        "allow-list",
                        Code::Api,
                        format!("{ip_text} is not allowed to call the API (ip_not_enabled)"),
                        format!(
                            "Add {ip_text} to \"Enable IP Addresses\" on {PORTAL_API_PAGE} and \
                             save; several addresses go comma-separated. It can take a few \
                             minutes to apply."
                        ),
                    ));
                }
                "api_not_enabled" => {
                    checks.push(Check::fail(
                        "API access",
                        Code::Api,
                        "API access is turned off for this account (api_not_enabled)",
                        format!("Click \"Enable/Disable API\" on {PORTAL_API_PAGE}."),
                    ));
                    checks.push(Check::skip("allow-list", "not checked: API access is off"));
                }
                "invalid_credentials" | "missing_credentials" => {
                    checks.push(Check::fail(
                        "API access",
                        Code::Api,
                        format!("VoIP.ms refused the user name and API password ({status})"),
                        format!(
                            "The user name is the e-mail you log in to the portal with; the \
                             password is the API password set on {PORTAL_API_PAGE} (not the \
                             portal login password). Set it there again if unsure."
                        ),
                    ));
                    checks.push(Check::skip(
                        "allow-list",
                        "not checked: credentials refused",
                    ));
                }
                _ => {
                    let code = code_of(&e);
                    checks.push(Check::fail("API access", code, e.to_string(), ""));
                    checks.push(Check::skip("allow-list", "not checked"));
                }
            }
        }
    }
    Ok(())
}

struct DriftReport {
    failures: usize,
    summary: String,
    json: Value,
}

/// The methods `--drift` calls: read-only, without required parameters.
pub fn drift_methods() -> Vec<&'static Method> {
    catalog::METHODS
        .iter()
        .filter(|m| m.effect == Effect::Read && m.params.iter().all(|p| !p.required))
        .collect()
}

fn sweep(ctx: &mut Ctx, json_out: bool) -> Result<DriftReport, Failure> {
    let methods = drift_methods();
    let (mut ok, mut drifted, mut mismatched, mut skipped) = (0, 0, 0, 0);
    let mut rows = Vec::new();
    if !json_out {
        outln!(
            "{BOLD}drift{BOLD:#}: calling {} read-only methods that need no parameters…",
            methods.len()
        );
    }
    for m in methods {
        let mut unread: Vec<String> = Vec::new();
        let mut unreadable: Vec<String> = Vec::new();
        let (state, detail) = match call(ctx, m.name) {
            Err(e) if code_of(&e) == Code::Network => {
                return Err(Failure::new(
                    Code::Network,
                    format!("drift sweep stopped: {e}"),
                ));
            }
            Err(e) => {
                skipped += 1;
                ("skip", e.to_string())
            }
            Ok(body) => {
                let payload = if m.is_empty_status(voipms_sdk::status::status_of(&body)) {
                    json!({})
                } else {
                    body
                };
                match voipms_sdk::api::decode_by_name(m.name, &payload) {
                    Some(Ok(decoded)) if decoded.drift.is_empty() => {
                        ok += 1;
                        ("ok", String::new())
                    }
                    Some(Ok(decoded)) => {
                        drifted += 1;
                        unread = decoded.drift.unread().to_vec();
                        unreadable = decoded
                            .drift
                            .unreadable()
                            .iter()
                            .map(|u| u.path.clone())
                            .collect();
                        let detail = decoded
                            .drift
                            .unread()
                            .iter()
                            .map(|p| format!("unread {p}"))
                            .chain(
                                decoded
                                    .drift
                                    .unreadable()
                                    .iter()
                                    .map(|u| format!("unreadable {} = {:?}", u.path, u.text)),
                            )
                            .collect::<Vec<_>>()
                            .join("; ");
                        ("drift", detail)
                    }
                    Some(Err(e)) => {
                        mismatched += 1;
                        ("fail", e.to_string())
                    }
                    None => {
                        skipped += 1;
                        ("skip", "no typed response in this build".to_owned())
                    }
                }
            }
        };
        if !json_out {
            let style = match state {
                "ok" => GREEN,
                "fail" => RED,
                "drift" => YELLOW,
                _ => DIM,
            };
            outln!(
                "  {style}{state:<5}{style:#} {:<32} {DIM}{detail}{DIM:#}",
                m.name
            );
        }
        rows.push(json!({
            "method": m.name, "state": state, "detail": detail,
            "unread": unread, "unreadable": unreadable,
        }));
    }
    let summary = format!(
        "drift: {ok} decode cleanly, {drifted} decode with unread keys or unreadable values, \
         {mismatched} do not match their typed response, {skipped} could not be called (not a \
         decode problem)"
    );
    Ok(DriftReport {
        failures: mismatched + drifted,
        summary,
        json: json!({
            "ok": ok, "drift": drifted, "failures": mismatched, "skipped": skipped,
            "methods": rows,
        }),
    })
}
