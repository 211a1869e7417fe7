//! The simulated account of this machine: `--sandbox` (or `VOIPMS_SANDBOX=1`) runs any command
//! against it in-process; its state lives in the platform data directory
//! (`~/.local/share/voipms/sandbox.json` on Linux), loaded before a command and saved after one
//! that changed something. `voipms sandbox reset|serve` manage it.
//!
//! **One state, many processes.** The state file is the account, and its lock
//! ([`crate::core::lock::sandbox_state`]) orders every change to it:
//! - a `--sandbox` command and `sandbox reset` hold the lock from loading the file to saving it;
//! - the long-running servers (`sandbox serve`, `--sandbox mcp`) open the account *shared*
//!   ([`Sandbox::open_shared`]): each request takes the lock, re-reads the file when another
//!   process changed it, and writes its change back before answering.
//!
//! So while a server runs, a `--sandbox` command or a reset on the same file waits for the
//! request in progress, then acts on the latest state; the server's next request sees what they
//! did. Nothing is kept only in a server's memory, nothing is overwritten, and no id is handed out
//! twice. The lock lives in the data directory ([`crate::core::lock`]); other machines do not
//! share it (the state file is local anyway).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use voipms_sdk::sandbox::{Sandbox, SandboxConfig, SandboxError, StateLock};
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
    /// The state file's lock, held from load to save (the end of the process); `None` for a
    /// server, whose account is shared: it takes the lock per request.
    lock: Option<crate::core::lock::Held>,
}

impl Local {
    /// Loads the account (a fresh one when there is no state file yet), holding the state
    /// file's lock until the process ends: concurrent `--sandbox` processes load, change and save
    /// one after the other.
    pub fn open() -> Result<Local, Failure> {
        let path = state_path()?;
        let lock = crate::core::lock::sandbox_state(&path)?;
        let sandbox = Sandbox::load(&path, SandboxConfig::default()).map_err(failure)?;
        tracing::debug!(state = %path.display(), "sandbox");
        Local::with(sandbox, path, Some(lock))
    }

    /// Opens the account shared, for a long-running server (`sandbox serve`, `--sandbox mcp`):
    /// each request takes the state file's lock, acts on the file's latest content and saves its
    /// change before it is answered, so `--sandbox` commands and `sandbox reset` interleave with
    /// it and no change is lost.
    pub fn open_for_server() -> Result<Local, Failure> {
        let path = state_path()?;
        let lock = Arc::new(FileLock { path: path.clone() });
        let sandbox =
            Sandbox::open_shared(&path, SandboxConfig::default(), lock).map_err(failure)?;
        tracing::debug!(state = %path.display(), "sandbox (shared)");
        Local::with(sandbox, path, None)
    }

    /// The account `sandbox` at `path`; `lock` is the state file's lock held until the end, or
    /// `None` when nothing is saved from memory (a shared account, or one that lives only in
    /// memory, as the fuzz targets use).
    pub(crate) fn with(
        sandbox: Sandbox,
        path: PathBuf,
        lock: Option<crate::core::lock::Held>,
    ) -> Result<Local, Failure> {
        // In-process: nothing to retry.
        let client = sandbox
            .client_builder()
            .retry(RetryPolicy::none())
            .build()?;
        Ok(Local {
            sandbox,
            client,
            path,
            lock,
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

    /// Saves the state (a shared account has nothing to save: each change was written as it
    /// was made, and a save from memory could undo another process's change).
    pub fn save(&self) -> Result<(), Failure> {
        if self.lock.is_none() {
            return Ok(());
        }
        tracing::debug!(state = %self.path.display(), "saving the sandbox");
        self.sandbox.save(&self.path).map_err(failure)
    }
}

/// The state file's cross-process lock, as the shared account takes it per request.
struct FileLock {
    path: PathBuf,
}

impl StateLock for FileLock {
    fn acquire(&self) -> Result<Box<dyn Send>, String> {
        crate::core::lock::sandbox_state(&self.path)
            .map(|held| Box::new(held) as Box<dyn Send>)
            .map_err(|f| f.message)
    }
}
