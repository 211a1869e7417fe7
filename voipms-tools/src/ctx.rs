//! The context every command runs in: the global options, the async runtime, and the account
//! calls go to (real, or the sandbox), set up on first use. [`Ctx::invoke`] is the one way a call
//! leaves the program: dry run, confirmation of changes, the call, and its printing.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use voipms_sdk::catalog::{Effect, Method};
use voipms_sdk::transport::{HttpTransport, USER_AGENT};
use voipms_sdk::{Client, DEFAULT_BASE_URL, Params, RetryPolicy};

use crate::cli::Globals;
use crate::config::{self, Account, Lookup};
use crate::exit::{Code, Failure};
use crate::output::{self, Format, RED, YELLOW};
use crate::transport::{self, Recorded, Tee};
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

/// Where calls go.
pub enum Session {
    /// A real VoIP.ms account (or a server standing in for it at `--api-url`).
    Real {
        /// The client.
        client: Client,
        /// Keeps the raw answers.
        tee: Arc<Tee>,
        /// Whose credentials.
        account: Account,
    },
    /// The simulated account.
    Sandbox(crate::sandbox::Local),
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Session::Real { account, .. } => f
                .debug_struct("Real")
                .field("account", account)
                .finish_non_exhaustive(),
            Session::Sandbox(_) => f.write_str("Sandbox"),
        }
    }
}

impl Session {
    /// The client calls go through.
    pub fn client(&self) -> &Client {
        match self {
            Session::Real { client, .. } => client,
            Session::Sandbox(s) => s.client(),
        }
    }

    /// Whether this is the simulated account.
    pub fn is_sandbox(&self) -> bool {
        matches!(self, Session::Sandbox(_))
    }
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
}

impl Ctx {
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

    /// Where credentials are looked up.
    pub fn lookup(&self) -> Lookup {
        Lookup {
            profile: self.globals.profile.clone(),
            config: self.globals.config.clone(),
        }
    }

    /// The account calls go to, set up on first use.
    pub fn session(&mut self) -> Result<&Session, Failure> {
        if self.session.is_none() {
            let s = self.open_session()?;
            self.session = Some(s);
        }
        Ok(self.session.as_ref().expect("just set"))
    }

    fn retry_policy(&self) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(n) = self.globals.retries {
            policy.max_retries = n;
        }
        policy
    }

    fn open_session(&mut self) -> Result<Session, Failure> {
        if self.globals.sandbox {
            return crate::sandbox::Local::open().map(Session::Sandbox);
        }
        let lookup = self.lookup();
        let account = config::resolve(&lookup)?
            .ok_or_else(|| Failure::config(config::no_credentials_message(&lookup)))?;
        tracing::debug!(source = %account.source, username = %account.username, "credentials");
        self.real_session(account)
    }

    /// A session on a real account with these credentials.
    pub fn real_session(&self, account: Account) -> Result<Session, Failure> {
        let base_url = config::api_url(self.globals.api_url.as_deref(), Some(&account))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        warn_plain_http(&base_url);
        tracing::debug!(endpoint = %base_url, "endpoint");
        let http = HttpTransport::new(
            Duration::from_secs(60),
            Duration::from_secs(10),
            &format!("voipms-cli/{} {USER_AGENT}", env!("CARGO_PKG_VERSION")),
        )?;
        let tee = Arc::new(Tee::new(Arc::new(http)));
        let mut builder = Client::builder()
            .credentials(account.username.clone(), account.password.clone())
            .base_url(base_url.clone())
            .retry(self.retry_policy())
            .transport(tee.clone());
        if let Some(pace) = self.pace.filter(|_| !is_loopback(&base_url)) {
            builder = builder.min_interval(pace);
        }
        let client = builder.build()?;
        Ok(Session::Real {
            client,
            tee,
            account,
        })
    }

    /// Uses `session` from now on.
    pub fn set_session(&mut self, session: Session) {
        self.session = Some(session);
    }

    /// Saves what needs saving (the sandbox's state) at the end of the run.
    pub fn finish(&mut self) -> Result<(), Failure> {
        if let Some(Session::Sandbox(s)) = &self.session {
            if self.changed {
                s.save()?;
            }
        }
        Ok(())
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
        let lookup = self.lookup();
        let account = config::resolve(&lookup)?;
        let base_url = config::api_url(self.globals.api_url.as_deref(), account.as_ref())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let username = match account {
            Some(a) => a.username,
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
        transport::record(
            rt,
            &base_url,
            &username,
            &call.method,
            call.effect,
            &call.params,
        )
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
        if self.globals.dry_run {
            let rec = self.record(call)?;
            self.print_recorded(&rec);
            return Ok(None);
        }
        let sandbox = self.session()?.is_sandbox();
        if call.effect.is_mutating() && !sandbox && !self.globals.yes {
            self.confirm(call)?;
        }
        self.changed |= call.effect.is_mutating();
        let session = self.session.as_ref().expect("opened above");
        let client = session.client().clone();
        let tee = match session {
            Session::Real { tee, .. } => Some(tee.clone()),
            Session::Sandbox(_) => None,
        };
        let rt = self.rt()?;
        let started = std::time::Instant::now();
        let outcome = rt
            .block_on(client.call_with_effect(&call.method, call.effect, &call.params))
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

    fn account_label(&self) -> String {
        match &self.session {
            Some(Session::Real { account, .. }) => {
                format!("{} (credentials from {})", account.username, account.source)
            }
            _ => String::new(),
        }
    }
}

/// Whether someone can answer a question (stdin and stderr are terminals).
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// What a call with `effect` does, as the end of a sentence.
fn effect_words(effect: Effect, unknown: bool) -> &'static str {
    match effect {
        Effect::Billable => "spends money or cannot be undone",
        Effect::Destructive => "deletes or cancels something on your account",
        _ if unknown => "is not in the spec, so it may change your account",
        _ => "changes your account",
    }
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

/// Whether `url` points at this machine (`localhost` or a loopback address).
fn is_loopback(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn warn_plain_http(url: &str) {
    if url.starts_with("http://") && !is_loopback(url) {
        errln!(
            "{YELLOW}warning:{YELLOW:#} {url} uses plain http: the API password crosses the network \
             unencrypted"
        );
    }
}
