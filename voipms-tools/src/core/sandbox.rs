//! The simulated account of this machine: `--sandbox` (or `VOIPMS_SANDBOX=1`) runs any command
//! against it in-process; its state lives in the platform data directory
//! (`~/.local/share/voipms/sandbox.json` on Linux), loaded before a command and saved after one
//! that changed something. `voipms sandbox reset|serve` manage it. The state file's lock
//! ([`crate::core::lock::sandbox_state`]) is held from load to save, so concurrent `--sandbox`
//! processes never overwrite each other's changes.

use std::path::{Path, PathBuf};

use voipms_sdk::sandbox::{Sandbox, SandboxConfig, SandboxError};
use voipms_sdk::{Client, RetryPolicy};

use crate::core::config;
use crate::core::exit::Failure;

/// Environment variable naming another state file (for scripts and tests).
pub const ENV_STATE: &str = "VOIPMS_SANDBOX_STATE";

/// The state file: `VOIPMS_SANDBOX_STATE`, else `sandbox.json` in the data directory.
pub fn state_path() -> Result<PathBuf, Failure> {
    if let Some(p) = std::env::var_os(ENV_STATE).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    config::data_dir()
        .map(|d| d.join("sandbox.json"))
        .ok_or_else(|| {
            Failure::config(format!(
                "this system has no data directory for the sandbox's state (is HOME set?); set \
                 {ENV_STATE} to a file path"
            ))
        })
}

/// A sandbox failure (state file unreadable or unwritable, port taken, …): configuration.
pub fn failure(e: SandboxError) -> Failure {
    Failure::config(e.to_string())
}

/// The simulated account, loaded from its state file.
#[derive(Debug)]
pub struct Local {
    sandbox: Sandbox,
    client: Client,
    path: PathBuf,
    /// The state file's lock, held from load to save (the end of the process); `None` for
    /// `sandbox serve`, which takes it only while loading and saving.
    lock: Option<crate::core::lock::Held>,
}

impl Local {
    /// Loads the account (a fresh one when there is no state file yet), holding the state
    /// file's lock until the process ends: concurrent `--sandbox` processes load, change and save
    /// one after the other.
    pub fn open() -> Result<Local, Failure> {
        Local::open_with(true)
    }

    /// Loads the account for `sandbox serve`, which runs for long: the lock is taken only while
    /// loading and while saving, so `--sandbox` commands are not kept waiting.
    pub fn open_for_server() -> Result<Local, Failure> {
        Local::open_with(false)
    }

    fn open_with(hold: bool) -> Result<Local, Failure> {
        let path = state_path()?;
        let lock = crate::core::lock::sandbox_state(&path)?;
        let sandbox = Sandbox::load(&path, SandboxConfig::default()).map_err(failure)?;
        tracing::debug!(state = %path.display(), "sandbox");
        // In-process: nothing to retry.
        let client = sandbox
            .client_builder()
            .retry(RetryPolicy::none())
            .build()?;
        Ok(Local {
            sandbox,
            client,
            path,
            lock: hold.then_some(lock),
        })
    }

    /// The in-process client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The account.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves the state.
    pub fn save(&self) -> Result<(), Failure> {
        tracing::debug!(state = %self.path.display(), "saving the sandbox");
        let _brief = match self.lock {
            Some(_) => None,
            None => Some(crate::core::lock::sandbox_state(&self.path)?),
        };
        self.sandbox.save(&self.path).map_err(failure)
    }
}
