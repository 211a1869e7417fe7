//! Where calls go: a real VoIP.ms account (credentials from the environment or the config file)
//! or the simulated account of this machine. Opening a session reads no terminal and prints
//! nothing; both front ends share it.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use voipms_sdk::transport::{
    HttpTransport, Transport, TransportError, USER_AGENT, WireRequest, WireResponse,
};
use voipms_sdk::{Client, DEFAULT_BASE_URL, RetryPolicy};

use crate::core::config::{self, Account, Lookup};
use crate::core::exit::Failure;
use crate::core::sandbox::Local;
use crate::core::secrets::mask_userinfo;

/// How to open a session: the options every front end takes.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// The simulated account instead of a real one.
    pub sandbox: bool,
    /// Config-file profile.
    pub profile: Option<String>,
    /// Config file.
    pub config: Option<PathBuf>,
    /// Endpoint other than VoIP.ms's.
    pub api_url: Option<String>,
    /// Retries of failed reads.
    pub retries: Option<u32>,
    /// Least time between the starts of two calls on a real account.
    pub pace: Option<Duration>,
    /// The program named in the User-Agent (`voipms-cli`, `voipms-mcp`).
    pub agent: &'static str,
}

impl SessionOptions {
    /// Where credentials are looked up.
    pub fn lookup(&self) -> Lookup {
        Lookup {
            profile: self.profile.clone(),
            config: self.config.clone(),
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(n) = self.retries {
            policy.max_retries = n;
        }
        policy
    }

    /// The endpoint and the user name a dry run shows, without requiring credentials (the user
    /// name is `None` when none are configured).
    pub fn dry_run_identity(&self) -> Result<(String, Option<String>), Failure> {
        let account = config::resolve(&self.lookup())?;
        let base_url = config::api_url(self.api_url.as_deref(), account.as_ref())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        Ok((base_url, account.map(|a| a.username)))
    }
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
    Sandbox(Local),
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
    /// Opens the session `options` describe: the sandbox, or the account whose credentials are
    /// configured (a configuration failure when there are none).
    pub fn open(options: &SessionOptions) -> Result<Session, Failure> {
        if options.sandbox {
            return Local::open().map(Session::Sandbox);
        }
        let lookup = options.lookup();
        let account = config::resolve(&lookup)?
            .ok_or_else(|| Failure::config(config::no_credentials_message(&lookup)))?;
        tracing::debug!(source = %account.source, username = %account.username, "credentials");
        Session::real(options, account)
    }

    /// A session on a real account with these credentials.
    pub fn real(options: &SessionOptions, account: Account) -> Result<Session, Failure> {
        let base_url = config::api_url(options.api_url.as_deref(), Some(&account))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        if base_url.starts_with("http://") && !is_loopback(&base_url) {
            tracing::warn!(
                "{} uses plain http: the API password crosses the network unencrypted",
                mask_userinfo(&base_url)
            );
        }
        tracing::debug!(endpoint = %mask_userinfo(&base_url), "endpoint");
        let http = HttpTransport::new(
            Duration::from_secs(60),
            Duration::from_secs(10),
            &format!(
                "{}/{} {USER_AGENT}",
                if options.agent.is_empty() {
                    "voipms"
                } else {
                    options.agent
                },
                env!("CARGO_PKG_VERSION")
            ),
        )?;
        let tee = Arc::new(Tee::new(Arc::new(http)));
        let mut builder = Client::builder()
            .credentials(account.username.clone(), account.password.clone())
            .base_url(base_url.clone())
            .retry(options.retry_policy())
            .transport(tee.clone());
        if let Some(pace) = options.pace.filter(|_| !is_loopback(&base_url)) {
            builder = builder.min_interval(pace);
        }
        let client = builder.build()?;
        Ok(Session::Real {
            client,
            tee,
            account,
        })
    }

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

    /// The tee that keeps raw answers (real accounts only).
    pub fn tee(&self) -> Option<Arc<Tee>> {
        match self {
            Session::Real { tee, .. } => Some(tee.clone()),
            Session::Sandbox(_) => None,
        }
    }

    /// `user@example.com (credentials from …)`, or empty for the sandbox.
    pub fn account_label(&self) -> String {
        match self {
            Session::Real { account, .. } => {
                format!("{} (credentials from {})", account.username, account.source)
            }
            Session::Sandbox(_) => String::new(),
        }
    }

    /// Saves the sandbox's state (nothing to do for a real account).
    pub fn save(&self) -> Result<(), Failure> {
        match self {
            Session::Sandbox(s) => s.save(),
            Session::Real { .. } => Ok(()),
        }
    }
}

/// Whether `url` points at this machine (`localhost` or a loopback address).
pub fn is_loopback(url: &str) -> bool {
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

type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<WireResponse, TransportError>> + Send + 'a>>;

/// Passes requests to another transport and keeps the last answer's body as received.
#[derive(Debug)]
pub struct Tee {
    inner: Arc<dyn Transport>,
    last: Mutex<Option<Bytes>>,
}

impl Tee {
    /// A tee in front of `inner`.
    pub fn new(inner: Arc<dyn Transport>) -> Self {
        Tee {
            inner,
            last: Mutex::new(None),
        }
    }

    /// The body of the last answer.
    pub fn last_body(&self) -> Option<Bytes> {
        self.last.lock().ok().and_then(|b| b.clone())
    }
}

impl Transport for Tee {
    fn execute<'a>(&'a self, req: WireRequest<'a>) -> TransportFuture<'a> {
        Box::pin(async move {
            let answer = self.inner.execute(req).await?;
            if let Ok(mut last) = self.last.lock() {
                *last = Some(answer.body.clone());
            }
            Ok(answer)
        })
    }
}
