//! One account shared by several processes through its state file ([`Sandbox::open_shared`]).
//!
//! The file is the account: a process that shares it keeps a copy in memory, and applies each
//! request under the file's lock, on the file's latest content. Before a request, the file's
//! metadata is compared with what this process last saw (one `stat`); when it differs, the file
//! is read and compared (length and hash) with what this process last read or wrote; when another
//! process changed it, the copy is replaced by the file's state. After a request that may change
//! the account (any method whose effect is not a read), the state is written back (atomically,
//! by rename) before the answer leaves. If it cannot be written, the change is undone in memory
//! and the request is answered HTTP 503: nothing was changed.
//!
//! Processes that load the file, change it and save it while holding the same lock for the
//! whole time (the `voipms --sandbox` commands, `voipms sandbox reset`) therefore interleave
//! with sharing servers request by request: every change is seen by all and survives, and no id
//! is handed out twice.

use std::hash::{DefaultHasher, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use super::{Sandbox, SandboxConfig, parse_state, seed, write_atomically};
use crate::scalars::Date;

/// The lock that serialises the processes sharing a state file. The sandbox never locks a
/// file itself: the program decides where its locks live (the `voipms` CLI keeps them in its
/// data directory).
pub trait StateLock: Send + Sync {
    /// Blocks until this process holds the lock; dropping the guard releases it. `Err` says
    /// why the lock could not be taken.
    ///
    /// The lock must not be re-entrant across calls of one process in a way that lets two
    /// holders in: the sandbox takes it once per request, never while already holding it.
    fn acquire(&self) -> Result<Box<dyn Send>, String>;
}

/// What a sharing process knows of the file.
pub(crate) struct Shared {
    path: PathBuf,
    lock: Arc<dyn StateLock>,
    /// Fingerprint of the file's content as last read or written here (`None`: no file).
    known: Option<Fingerprint>,
    /// The file's metadata when it was last read or written here: while it is the same, the
    /// content is too (every writer replaces the file by rename, which changes its inode), so
    /// a read-only request costs one `stat` rather than reading and hashing the whole file.
    stamp: Option<Stamp>,
    /// Seed and "today" of the fresh account made when the file disappears.
    seed: u64,
    today: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: usize,
    hash: u64,
}

/// Length, modification time and (on unix) device and inode of the state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    file: (u64, u64),
}

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    };
    #[cfg(not(unix))]
    let file = (0, 0);
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        file,
    })
}

fn fingerprint(bytes: &[u8]) -> Fingerprint {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    Fingerprint {
        len: bytes.len(),
        hash: h.finish(),
    }
}

impl Shared {
    pub(crate) fn new(
        path: PathBuf,
        lock: Arc<dyn StateLock>,
        config: &SandboxConfig,
        bytes: &[u8],
    ) -> Shared {
        Shared {
            stamp: stamp(&path),
            path,
            lock,
            known: Some(fingerprint(bytes)),
            seed: config.seed,
            today: config.today,
        }
    }

    /// Runs `f` on the file's latest state under the file's lock, and writes the state back when
    /// `mutating` (undoing `f` in memory when it cannot be written). `Err` says why the file
    /// could not be read or written; nothing was changed then.
    pub(crate) fn apply<T>(
        &mut self,
        sandbox: &Sandbox,
        mutating: bool,
        f: impl FnOnce() -> T,
    ) -> Result<T, String> {
        let _held = self.lock.acquire()?;
        self.refresh(sandbox)?;
        let before = mutating.then(|| sandbox.lock().clone());
        let out = f();
        if let Some(before) = before {
            let written = sandbox
                .snapshot(&self.path)
                .and_then(|bytes| write_atomically(&self.path, &bytes).map(|()| bytes));
            match written {
                Ok(bytes) => {
                    self.known = Some(fingerprint(&bytes));
                    self.stamp = stamp(&self.path);
                }
                Err(e) => {
                    *sandbox.lock() = before;
                    // The file may or may not have been replaced: read it again next time.
                    self.known = None;
                    self.stamp = None;
                    return Err(e.to_string());
                }
            }
        }
        Ok(out)
    }

    /// Replaces the in-memory account with the file's when another process changed the file
    /// (a fresh account when the file was deleted).
    fn refresh(&mut self, sandbox: &Sandbox) -> Result<(), String> {
        let now_stamp = stamp(&self.path);
        if now_stamp.is_some() && now_stamp == self.stamp && self.known.is_some() {
            return Ok(());
        }
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(format!(
                    "could not read the state {}: {e}",
                    self.path.display()
                ));
            }
        };
        let now = bytes.as_deref().map(fingerprint);
        if now.is_some() && now == self.known {
            self.stamp = now_stamp;
            return Ok(());
        }
        let state = match bytes {
            Some(bytes) => parse_state(&self.path, &bytes).map_err(|e| e.to_string())?,
            None => {
                let today = self.today.unwrap_or_else(super::system_today);
                seed::account(self.seed, today)
            }
        };
        tracing::debug!(state = %self.path.display(), "another process changed the sandbox: reloaded");
        *sandbox.lock() = state;
        self.known = now;
        self.stamp = now_stamp;
        Ok(())
    }
}
