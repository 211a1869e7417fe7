//! The context every command runs in: the global options, the async runtime, and the account
//! calls go to (real, or the sandbox), set up on first use. [`Ctx::invoke`] is the one way a call
//! leaves the program: dry run, confirmation of changes, the call, and its printing.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use voipms_sdk::Params;
use voipms_sdk::catalog::{Effect, Method};

use crate::cli::Globals;
use crate::config::{Account, Lookup};
pub use crate::core::gate::effect_words;
use crate::core::gate::{Gate, Permission, Verdict};
pub use crate::core::session::Session;
use crate::core::session::SessionOptions;
use crate::exit::{Code, Failure};
use crate::output::{self, Format, RED, YELLOW};
use crate::transport::{self, Recorded, Render};
use crate::{errln, outln};

/// A call to make.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Wire name.
    pub method: String,
    /// Catalog entry, when the method is known.
    pub spec: Option<&'static Method>,
    /// What it does to the account (unknown methods count as writes).
    pub effect: Effect,
    /// Wire parameters.
    pub params: Params,
}

impl Invocation {
    /// A call of a catalog method.
    pub fn of(spec: &'static Method, params: Params) -> Self {
        Invocation {
            method: spec.name.to_owned(),
            spec: Some(spec),
            effect: spec.effect,
            params,
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The body, parsed.
    pub body: Value,
    /// The status was one of the method's "nothing to list" statuses.
    pub empty: bool,
    /// The body as received, when the transport kept it.
    pub raw: Option<Bytes>,
}

/// The run's context.
#[derive(Debug)]
pub struct Ctx {
    /// Global options.
    pub globals: Globals,
    /// The output format in force.
    pub format: Format,
    /// Least time between the starts of two calls on a real account (`doctor --drift`).
    pub pace: Option<Duration>,
    rt: Option<tokio::runtime::Runtime>,
    session: Option<Session>,
    /// A call that may change the account was made (the sandbox's state needs saving).
    changed: bool,
    /// Warnings already printed (a plan's warnings are not repeated by the change's result).
    warned: Vec<String>,
}

impl Ctx {
    /// Records `text` as printed; false when it was printed before.
    pub fn first_warning(&mut self, text: &str) -> bool {
        if self.warned.iter().any(|w| w == text) {
            return false;
        }
        self.warned.push(text.to_owned());
        true
    }

    /// A context for `globals`.
    pub fn new(globals: Globals) -> Self {
        let format = globals.format.unwrap_or_else(Format::default_for_stdout);
        Ctx {
            globals,
            format,
            pace: None,
            rt: None,
            session: None,
            changed: false,
            warned: Vec::new(),
        }
    }

    /// The async runtime (one thread).
    pub fn rt(&mut self) -> Result<&tokio::runtime::Runtime, Failure> {
        if self.rt.is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::config(format!("cannot start the async runtime: {e}")))?;
            self.rt = Some(rt);
        }
        Ok(self.rt.as_ref().expect("just set"))
    }

    /// The options sessions are opened with.
    pub fn session_options(&self) -> SessionOptions {
        SessionOptions {
            sandbox: self.globals.sandbox,
            profile: self.globals.profile.clone(),
            config: self.globals.config.clone(),
            api_url: self.globals.api_url.clone(),
            retries: self.globals.retries,
            pace: self.pace,
            agent: "voipms-cli",
        }
    }

    /// Where credentials are looked up.
    pub fn lookup(&self) -> Lookup {
        self.session_options().lookup()
    }

    /// The date `today`, `-Nd` and default ranges count from: the sandbox account's own date
    /// (its client's clock) when working on the sandbox, else this machine's.
    pub fn today(&mut self) -> chrono::NaiveDate {
        if self.globals.sandbox
            && !self.globals.dry_run
            && let Ok(s) = self.session()
        {
            return s.client().today();
        }
        crate::params::today()
    }

    /// The account calls go to, set up on first use.
    pub fn session(&mut self) -> Result<&Session, Failure> {
        if self.session.is_none() {
            let s = Session::open(&self.session_options())?;
            self.session = Some(s);
        }
        Ok(self.session.as_ref().expect("just set"))
    }

    /// The session, opened if need be, for a front end that keeps it (the MCP server saves the
    /// sandbox itself after each change).
    pub fn take_session(&mut self) -> Result<Session, Failure> {
        match self.session.take() {
            Some(s) => Ok(s),
            None => Session::open(&self.session_options()),
        }
    }

    /// A session on a real account with these credentials.
    pub fn real_session(&self, account: Account) -> Result<Session, Failure> {
        Session::real(&self.session_options(), account)
    }

    /// Uses `session` from now on.
    pub fn set_session(&mut self, session: Session) {
        self.session = Some(session);
    }

    /// Saves what needs saving (the sandbox's state) at the end of the run.
    pub fn finish(&mut self) -> Result<(), Failure> {
        match &self.session {
            Some(s) if self.changed => s.save(),
            _ => Ok(()),
        }
    }

    /// Records that a call which may change the account was made (the sandbox's state is saved
    /// at the end of the run).
    pub fn note_change(&mut self) {
        self.changed = true;
    }

    /// Endpoint and user name a dry run shows, without requiring credentials.
    pub fn dry_run_identity(&mut self) -> Result<(String, String), Failure> {
        if self.globals.sandbox {
            let s = self.session()?;
            return Ok((
                s.client().base_url().to_owned(),
                s.client().username().to_owned(),
            ));
        }
        let (base_url, username) = self.session_options().dry_run_identity()?;
        let username = match username {
            Some(u) => u,
            None => {
                errln!(
                    "{YELLOW}note:{YELLOW:#} no credentials are configured; api_username below is a \
                     placeholder"
                );
                "you@example.com".to_owned()
            }
        };
        Ok((base_url, username))
    }

    /// The request `call` would send, without sending it.
    pub fn record(&mut self, call: &Invocation) -> Result<Recorded, Failure> {
        let (base_url, username) = self.dry_run_identity()?;
        let rt = self.rt()?;
        rt.block_on(transport::record(
            &base_url,
            &username,
            &call.method,
            call.effect,
            &call.params,
        ))
    }

    /// Prints a recorded request in the output format.
    pub fn print_recorded(&self, rec: &Recorded) {
        match self.format {
            Format::Json => outln!("{}", output::json_pretty(&rec.to_json())),
            _ => output::stdout_str(&rec.render()),
        }
    }

    /// Makes a call: with `--dry-run` only prints the request (`Ok(None)`); on a real account asks
    /// before changes (or needs `--yes`); otherwise sends it and returns the answer.
    pub fn invoke(&mut self, call: &Invocation) -> Result<Option<Answer>, Failure> {
        // The session is opened only for a call that is sent (a dry run needs no account).
        let writes = if self.globals.dry_run || self.globals.yes || self.session()?.is_sandbox() {
            Permission::Allowed
        } else {
            Permission::Confirm
        };
        let gate = Gate {
            dry_run: self.globals.dry_run,
            read_only: false,
            writes: writes.clone(),
            billable: writes,
        };
        match gate.decide(&call.method, call.effect) {
            Verdict::DryRun => {
                let rec = self.record(call)?;
                self.print_recorded(&rec);
                return Ok(None);
            }
            Verdict::Confirm => self.confirm(call)?,
            Verdict::Refuse(why) => return Err(Failure::usage(why)),
            Verdict::Send => {}
        }
        self.changed |= call.effect.is_mutating();
        let session = self.session()?;
        let client = session.client().clone();
        let tee = session.tee();
        let rt = self.rt()?;
        let started = std::time::Instant::now();
        let outcome = rt
            .block_on(client.call_with_effect(&call.method, &call.params, call.effect))
            .map_err(|e| crate::exit::call_failure(e, call.effect))?;
        tracing::debug!(
            method = %call.method,
            status = outcome.status(),
            empty = outcome.empty,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "answer"
        );
        Ok(Some(Answer {
            body: outcome.body,
            empty: outcome.empty,
            raw: tee.and_then(|t| t.last_body()),
        }))
    }

    /// Makes a call and prints its answer in the output format.
    pub fn invoke_and_print(&mut self, call: &Invocation) -> Result<(), Failure> {
        if let Some(answer) = self.invoke(call)? {
            output::print_answer(
                call.spec,
                &answer.body,
                answer.empty,
                answer.raw.as_deref(),
                self.format,
            )?;
        }
        Ok(())
    }

    /// Asks before a change on a real account; refuses when nobody can answer.
    fn confirm(&mut self, call: &Invocation) -> Result<(), Failure> {
        let what = effect_words(call.effect, call.spec.is_none());
        if !interactive() {
            return Err(Failure::usage(format!(
                "{} {what}; nothing was sent. Add --yes to send it without asking (or --dry-run \
                 to see the request).",
                call.method
            )));
        }
        let rec = self.record(call)?;
        errln!("This request goes to the account {}:", self.account_label());
        output::stderr_str(&rec.render());
        warn_effect(&call.method, call.effect, what);
        ask("Send it? [y/N] ", "cancelled; nothing was sent")
    }

    /// Asks before the changes a helper planned (`planned`: each call's one-line form and its
    /// recorded request) on a real account; refuses when nobody can answer.
    pub fn confirm_planned(
        &mut self,
        command: &str,
        planned: &[(String, Recorded)],
        effect: Effect,
    ) -> Result<(), Failure> {
        let what = effect_words(effect, false);
        let n = planned.len();
        let s = if n == 1 { "" } else { "s" };
        if !interactive() {
            let list: Vec<&str> = planned
                .iter()
                .map(|(line, _)| line.split(' ').next().unwrap_or(""))
                .collect();
            return Err(Failure::usage(format!(
                "`{command}` {what} ({n} request{s}: {}); nothing was changed. Add --yes to send \
                 {} without asking (or --dry-run to see the requests).",
                list.join(", "),
                if n == 1 { "it" } else { "them" }
            )));
        }
        errln!(
            "`{command}` sends {n} request{s} to the account {}:",
            self.account_label()
        );
        for (i, (line, rec)) in planned.iter().enumerate() {
            errln!("{}. {line}", i + 1);
            output::stderr_str(&rec.render());
        }
        warn_effect(command, effect, what);
        ask(
            if n == 1 {
                "Send it? [y/N] "
            } else {
                "Send them? [y/N] "
            },
            "cancelled; nothing was changed",
        )
    }

    /// Asks before a large read (`what` says how large); `--yes` and `--dry-run` skip the
    /// question, and without a terminal to ask on, the read is refused with how to allow it.
    pub fn confirm_large(&self, what: &str) -> Result<(), Failure> {
        if self.globals.yes || self.globals.dry_run {
            return Ok(());
        }
        if !interactive() {
            return Err(Failure::usage(format!(
                "{what}; nothing was sent. Add --yes to go ahead without asking, or narrow the \
                 range with --from/--to."
            )));
        }
        errln!("{YELLOW}{what}.{YELLOW:#}");
        ask("Go ahead? [y/N] ", "cancelled; nothing was sent")
    }

    fn account_label(&self) -> String {
        self.session
            .as_ref()
            .map(Session::account_label)
            .unwrap_or_default()
    }
}

/// Whether someone can answer a question (stdin and stderr are terminals).
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn warn_effect(subject: &str, effect: Effect, what: &str) {
    if effect == Effect::Billable {
        errln!("{RED}{subject} {what}.{RED:#}");
    } else {
        errln!("{YELLOW}{subject} {what}.{YELLOW:#}");
    }
}

/// Asks `question` on stderr and reads the answer; anything but y/yes cancels.
fn ask(question: &str, cancelled: &str) -> Result<(), Failure> {
    output::stderr_str(question);
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::usage(format!("cannot read the answer: {e}")))?;
    if matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new(Code::Cancelled, cancelled))
    }
}
