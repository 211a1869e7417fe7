//! Advisory file locks that serialise `voipms` processes on one machine.
//!
//! - **Per account**: every friendly change on a real account (phonebook add/remove, spam
//!   mark/unmark, filters block/unblock, …) holds the lock of its account for its whole
//!   read-modify-write, so two processes never plan from the same read.
//! - **Per sandbox state file**: a `--sandbox` command holds the lock of its state file from
//!   loading it to saving it, so the load → change → save of concurrent processes serialise
//!   and no change is lost.
//!
//! Locks live in `<data dir>/voipms/locks/` (`~/.local/share/voipms/locks` on Linux). A lock
//! file's name is a hash of what it guards (endpoint and user name, or the state file's path) and
//! the file is empty: no secret is ever written. The operating system releases a lock when its
//! process ends, however it ends, so a lock is never left stale. Other machines do not see these
//! locks: across machines only the helpers' read-back verification protects a change.

use std::fs::{File, OpenOptions};

// fs4's locks are `flock(2)` on unix and `LockFileEx` on Windows, the same as the standard
// library's `File::lock` (stable only since Rust 1.89, after this workspace's `rust-version`).
use fs4::{FileExt, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::core::config;
use crate::core::exit::Failure;

/// How long a command waits for another process to release a lock before giving up.
const WAIT: Duration = Duration::from_secs(300);

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Held {
    _file: File,
}

/// The lock of one account: `base_url` and `username` (hashed into the file name).
pub fn account(base_url: &str, username: &str) -> Result<Held, Failure> {
    let key = format!("{}\u{0}{}", base_url.trim(), username.trim().to_lowercase());
    let dir = lock_dir().ok_or_else(|| {
        Failure::config(
            "this system has no data directory for the lock that keeps concurrent voipms \
             processes from overwriting each other's changes (is HOME set?)",
        )
    })?;
    acquire(
        &dir.join(format!("account-{:016x}.lock", fnv1a(&key))),
        "this account",
    )
}

/// The lock of a sandbox state file (in the data directory, or next to the state file when the
/// system has none).
pub fn sandbox_state(state: &Path) -> Result<Held, Failure> {
    let absolute = absolute(state);
    let hash = fnv1a(&absolute.to_string_lossy());
    let file = match lock_dir() {
        Some(dir) => dir.join(format!("sandbox-{hash:016x}.lock")),
        None => {
            let mut name = absolute.file_name().unwrap_or_default().to_os_string();
            name.push(".lock");
            absolute.with_file_name(name)
        }
    };
    acquire(&file, "the sandbox state")
}

fn lock_dir() -> Option<PathBuf> {
    config::data_dir().map(|d| d.join("locks"))
}

/// The path made absolute, with its directory resolved when it exists (the file itself may not
/// exist yet), so that every spelling of one state file gets one lock.
fn absolute(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.clone()),
        _ => path,
    }
}

/// 64-bit FNV-1a: stable across runs and versions (the file name must not change).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn acquire(path: &Path, what: &str) -> Result<Held, Failure> {
    let cannot = |e: std::io::Error| {
        Failure::config(format!(
            "cannot open the lock file {} ({e}); it keeps concurrent voipms processes from \
             overwriting each other's changes: make its directory writable",
            path.display()
        ))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(cannot)?;
    let started = Instant::now();
    let mut told = false;
    loop {
        match FileExt::try_lock(&file) {
            Ok(()) => {
                tracing::debug!(lock = %path.display(), "lock held");
                return Ok(Held { _file: file });
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(cannot(e)),
        }
        if started.elapsed() >= WAIT {
            return Err(Failure::config(format!(
                "another voipms process has been changing {what} for {} s and still holds its \
                 lock ({}); wait for it to finish (or stop it), then run this again",
                WAIT.as_secs(),
                path.display()
            )));
        }
        if !told && started.elapsed() >= Duration::from_secs(2) {
            tracing::warn!("waiting for another voipms process changing {what}…");
            told = true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_hold_no_secret() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        let dir = std::env::temp_dir().join(format!("voipms-lock-{}", std::process::id()));
        let path = dir.join("x.lock");
        let held = acquire(&path, "x").unwrap();
        // Another open file description of the same file cannot take it while it is held.
        let other = OpenOptions::new().write(true).open(&path).unwrap();
        assert!(matches!(
            FileExt::try_lock(&other),
            Err(TryLockError::WouldBlock)
        ));
        drop(held);
        assert!(FileExt::try_lock(&other).is_ok());
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            0,
            "the file stays empty"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
