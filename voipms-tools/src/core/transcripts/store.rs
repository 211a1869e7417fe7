//! The transcript store: one SQLite file in the data directory (`transcripts.sqlite3`, or
//! `transcripts-sandbox.sqlite3` for the simulated account), readable by its owner only.
//!
//! The schema is versioned with SQLite's `user_version` pragma: [`MIGRATIONS`] holds every step
//! from an empty file, and opening a file applies the steps it lacks in one transaction. A file
//! written by a newer `voipms` (a higher version than this one knows) is refused, not guessed at.
//! Full-text search is an FTS5 index over the text and the caller, kept in step by triggers.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::{Segment, Source, Transcript};

/// The store's file name in the data directory (a real account).
pub const DEFAULT_FILE: &str = "transcripts.sqlite3";
/// The store's file name for the simulated account (never mixed with a real account's).
pub const SANDBOX_FILE: &str = "transcripts-sandbox.sqlite3";

/// Every schema step, in order: the file's `user_version` is the number of steps applied.
pub const MIGRATIONS: &[&str] = &[
    // 1: transcripts, their FTS5 index and the triggers that keep it in step.
    "CREATE TABLE transcripts (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL CHECK (source IN ('call', 'voicemail')),
        voipms_ref TEXT NOT NULL,
        account TEXT NOT NULL,
        did TEXT,
        call_date TEXT,
        caller TEXT,
        duration REAL,
        origin TEXT NOT NULL,
        model TEXT,
        language TEXT,
        text TEXT NOT NULL,
        segments TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        UNIQUE (source, voipms_ref));
     CREATE VIRTUAL TABLE transcripts_fts USING fts5(
        text, caller, content = 'transcripts', content_rowid = 'id');
     CREATE TRIGGER transcripts_ai AFTER INSERT ON transcripts BEGIN
        INSERT INTO transcripts_fts (rowid, text, caller) VALUES (new.id, new.text, new.caller);
     END;
     CREATE TRIGGER transcripts_ad AFTER DELETE ON transcripts BEGIN
        INSERT INTO transcripts_fts (transcripts_fts, rowid, text, caller)
            VALUES ('delete', old.id, old.text, old.caller);
     END;
     CREATE TRIGGER transcripts_au AFTER UPDATE ON transcripts BEGIN
        INSERT INTO transcripts_fts (transcripts_fts, rowid, text, caller)
            VALUES ('delete', old.id, old.text, old.caller);
        INSERT INTO transcripts_fts (rowid, text, caller) VALUES (new.id, new.text, new.caller);
     END;",
    // 2: the recogniser's overall confidence (VoIP.ms reports one), and date-ordered reads.
    "ALTER TABLE transcripts ADD COLUMN confidence REAL;
     CREATE INDEX transcripts_date ON transcripts (call_date);",
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// One search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The transcript.
    pub transcript: Transcript,
    /// The matching passage, matches between `[` and `]`.
    pub snippet: String,
}

/// What a search may narrow to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// First day included (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Last day included (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// Digits the caller's number contains.
    pub caller: Option<String>,
    /// At most this many hits (best first).
    pub limit: usize,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

fn db_err(path: &Path, e: &rusqlite::Error) -> String {
    format!("the transcript store {}: {e}", path.display())
}

/// Applies the migrations `conn` lacks (all of them on a new file).
pub fn migrate(conn: &mut Connection, upto: usize) -> rusqlite::Result<i64> {
    let have: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tx = conn.transaction()?;
    for (i, step) in MIGRATIONS.iter().enumerate().take(upto) {
        if (i as i64) < have {
            continue;
        }
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

const COLUMNS: &str = "id, source, voipms_ref, account, did, call_date, caller, duration, origin, \
                       model, language, text, segments, created_at, confidence";

fn row_transcript(r: &Row<'_>) -> rusqlite::Result<Transcript> {
    let source: String = r.get(1)?;
    let segments: String = r.get(12)?;
    Ok(Transcript {
        id: r.get(0)?,
        source: if source == "voicemail" {
            Source::Voicemail
        } else {
            Source::Call
        },
        voipms_ref: r.get(2)?,
        account: r.get(3)?,
        did: r.get(4)?,
        call_date: r.get(5)?,
        caller: r.get(6)?,
        duration: r.get(7)?,
        origin: r.get(8)?,
        model: r.get(9)?,
        language: r.get(10)?,
        text: r.get(11)?,
        segments: serde_json::from_str::<Value>(&segments)
            .ok()
            .and_then(|v| {
                v.as_array()
                    .map(|a| a.iter().filter_map(Segment::from_json).collect())
            })
            .unwrap_or_default(),
        created_at: r.get(13)?,
        confidence: r.get(14)?,
    })
}

/// The FTS5 query for free words: each word a quoted term (so punctuation and FTS operators in
/// what a user types are plain text), all of them required; a trailing `*` keeps prefix search.
pub fn fts_query(words: &str) -> Option<String> {
    let terms: Vec<String> = words
        .split_whitespace()
        .filter_map(|w| {
            let prefix = w.ends_with('*');
            let core: String = w
                .trim_end_matches('*')
                .chars()
                .filter(|c| *c != '"')
                .collect();
            if core.chars().all(|c| !c.is_alphanumeric()) {
                return None;
            }
            Some(if prefix {
                format!("\"{core}\"*")
            } else {
                format!("\"{core}\"")
            })
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Store {
    /// Opens (creating it, readable by the owner only, and migrating it) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut conn = Connection::open(path).map_err(|e| db_err(path, &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| db_err(path, &e))?;
        let have: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| db_err(path, &e))?;
        if have > current_version() {
            return Err(format!(
                "the transcript store {} has schema version {have}, newer than this voipms knows \
                 ({}): update voipms, or move the file away to start a new store",
                path.display(),
                current_version()
            ));
        }
        migrate(&mut conn, MIGRATIONS.len()).map_err(|e| db_err(path, &e))?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| "the transcript store's lock is poisoned".to_owned())?;
        f(&mut conn).map_err(|e| db_err(&self.path, &e))
    }

    /// Saves `t` (replacing the transcript of the same source and VoIP.ms id); returns its id.
    pub fn put(&self, t: &Transcript) -> Result<i64, String> {
        let segments = Value::Array(t.segments.iter().map(Segment::to_json).collect()).to_string();
        let source = t.source.as_str();
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM transcripts WHERE source = ?1 AND voipms_ref = ?2",
                params![source, t.voipms_ref],
            )?;
            tx.execute(
                "INSERT INTO transcripts (source, voipms_ref, account, did, call_date, caller,
                     duration, origin, model, language, text, segments, created_at, confidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    source,
                    t.voipms_ref,
                    t.account,
                    t.did,
                    t.call_date,
                    t.caller,
                    t.duration,
                    t.origin,
                    t.model,
                    t.language,
                    t.text,
                    segments,
                    t.created_at,
                    t.confidence
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(id)
        })
    }

    /// The transcript of `source` with VoIP.ms id `voipms_ref`.
    pub fn find(&self, source: Source, voipms_ref: &str) -> Result<Option<Transcript>, String> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM transcripts WHERE source = ?1 AND voipms_ref = ?2"),
                params![source.as_str(), voipms_ref],
                row_transcript,
            )
            .optional()
        })
    }

    /// A transcript by the store's id or by its VoIP.ms id (recording id, `mailbox/folder/num`).
    pub fn get(&self, key: &str) -> Result<Option<Transcript>, String> {
        let local: Option<i64> = key.parse().ok();
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM transcripts WHERE id = ?1 OR voipms_ref = ?2
                     ORDER BY id = ?1 DESC LIMIT 1"
                ),
                params![local.unwrap_or(-1), key],
                row_transcript,
            )
            .optional()
        })
    }

    /// Every transcript, oldest call first.
    pub fn all(&self) -> Result<Vec<Transcript>, String> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {COLUMNS} FROM transcripts ORDER BY call_date, id"
            ))?;
            st.query_map([], row_transcript)?.collect()
        })
    }

    /// Deletes one transcript (by the store's id or its VoIP.ms id); whether one was there.
    pub fn delete(&self, key: &str) -> Result<bool, String> {
        let Some(t) = self.get(key)? else {
            return Ok(false);
        };
        self.with(|c| {
            c.execute("DELETE FROM transcripts WHERE id = ?1", [t.id])
                .map(|n| n > 0)
        })
    }

    /// Deletes every transcript; how many there were.
    pub fn delete_all(&self) -> Result<usize, String> {
        self.with(|c| {
            let n = c.execute("DELETE FROM transcripts", [])?;
            // Nothing of the deleted text stays behind in free pages.
            c.execute_batch(
                "INSERT INTO transcripts_fts (transcripts_fts) VALUES ('rebuild'); VACUUM;",
            )?;
            Ok(n)
        })
    }

    /// Full-text search: transcripts holding every word, best match first, with a snippet.
    pub fn search(&self, words: &str, filter: &Filter) -> Result<Vec<Hit>, String> {
        let Some(query) = fts_query(words) else {
            return Err("give at least one word to search for".to_owned());
        };
        let caller = filter.caller.as_deref().map(|c| {
            let digits: String = c.chars().filter(char::is_ascii_digit).collect();
            // An 11-digit North American number with its leading 1 (typed as 1… or +1…) matches the
            // 10-digit form VoIP.ms shows.
            if digits.len() == 11 && digits.starts_with('1') {
                digits[1..].to_owned()
            } else {
                digits
            }
        });
        let limit = if filter.limit == 0 { 50 } else { filter.limit } as i64;
        let to_end = filter.to.as_ref().map(|d| format!("{d} 99"));
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {cols}, snippet(transcripts_fts, 0, '[', ']', '…', 12)
                 FROM transcripts_fts JOIN transcripts t ON t.id = transcripts_fts.rowid
                 WHERE transcripts_fts MATCH ?1
                   AND (?2 IS NULL OR t.call_date >= ?2)
                   AND (?3 IS NULL OR t.call_date <= ?3)
                   AND (?4 IS NULL OR replace(replace(replace(t.caller, '-', ''), ' ', ''), '+', '')
                        LIKE '%' || ?4 || '%')
                 ORDER BY rank LIMIT ?5",
                cols = COLUMNS
                    .split(", ")
                    .map(|c| format!("t.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            st.query_map(params![query, filter.from, to_end, caller, limit], |r| {
                Ok(Hit {
                    transcript: row_transcript(r)?,
                    snippet: r.get(15)?,
                })
            })?
            .collect()
        })
    }

    /// Every transcript as one JSON document (`voipms transcripts export`).
    pub fn export(&self) -> Result<Value, String> {
        let all = self.all()?;
        Ok(json!({
            "schema_version": current_version(),
            "transcripts": all.iter().map(Transcript::to_json).collect::<Vec<_>>(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("voipms-transcripts-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d.join("t.sqlite3")
    }

    fn sample(r: &str, text: &str, caller: &str, date: &str) -> Transcript {
        Transcript {
            id: 0,
            source: Source::Call,
            voipms_ref: r.to_owned(),
            account: "100001_VoIP".into(),
            did: Some("5551230000".into()),
            call_date: Some(date.into()),
            caller: Some(caller.into()),
            duration: Some(12.5),
            origin: "example-provider".into(),
            model: Some("whisper-1".into()),
            language: Some("en".into()),
            confidence: None,
            text: text.into(),
            segments: vec![Segment {
                start: 0.0,
                end: 2.5,
                speaker: Some("1".into()),
                text: text.into(),
            }],
            created_at: "2025-06-20T10:00:00Z".into(),
        }
    }

    #[test]
    fn round_trip_replace_delete_export() {
        let store = Store::open(&temp("rt")).unwrap();
        let t = sample(
            "rec1",
            "Hello, I'm calling about my booking.",
            "5145550123",
            "2025-06-20 08:48:40",
        );
        let id = store.put(&t).unwrap();
        let back = store.get(&id.to_string()).unwrap().unwrap();
        assert_eq!(back.text, t.text);
        assert_eq!(back.segments, t.segments);
        assert_eq!(back.call_date, t.call_date);
        assert_eq!(store.get("rec1").unwrap().unwrap().id, id);
        // Same VoIP.ms id: replaced, not duplicated.
        let id2 = store
            .put(&sample(
                "rec1",
                "Other words",
                "5145550123",
                "2025-06-20 08:48:40",
            ))
            .unwrap();
        assert_eq!(store.all().unwrap().len(), 1);
        assert!(
            store
                .search("booking", &Filter::default())
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.export().unwrap()["transcripts"][0]["text"],
            "Other words"
        );
        assert!(store.delete(&id2.to_string()).unwrap());
        assert!(!store.delete("rec1").unwrap());
        store
            .put(&sample("a", "x y", "1", "2025-01-01 00:00:00"))
            .unwrap();
        store
            .put(&sample("b", "x z", "2", "2025-01-02 00:00:00"))
            .unwrap();
        assert_eq!(store.delete_all().unwrap(), 2);
        assert!(store.search("x", &Filter::default()).unwrap().is_empty());
    }

    #[test]
    fn search_has_snippets_and_filters() {
        let store = Store::open(&temp("fts")).unwrap();
        store
            .put(&sample(
                "r1",
                "Could we move the appointment to the afternoon on Thursday?",
                "514-555-0123",
                "2025-06-20 08:48:40",
            ))
            .unwrap();
        store
            .put(&sample(
                "r2",
                "The invoice for June is overdue, please call back.",
                "4385550199",
                "2025-06-25 10:00:00",
            ))
            .unwrap();
        let hits = store
            .search("appointment thursday", &Filter::default())
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].snippet.contains("[appointment]"),
            "{}",
            hits[0].snippet
        );
        assert!(
            hits[0].snippet.contains("[Thursday]"),
            "{}",
            hits[0].snippet
        );
        // Prefix, operators typed by a user are plain words.
        assert_eq!(store.search("invo*", &Filter::default()).unwrap().len(), 1);
        assert!(
            store
                .search("\"invoice\" OR NOT", &Filter::default())
                .unwrap()
                .is_empty()
        );
        // Filters: dates (inclusive days), caller digits in any written form.
        let f = |from: Option<&str>, to: Option<&str>, caller: Option<&str>| Filter {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            caller: caller.map(str::to_owned),
            limit: 10,
        };
        assert_eq!(store.search("the", &f(None, None, None)).unwrap().len(), 2);
        assert_eq!(
            store
                .search("the", &f(Some("2025-06-21"), None, None))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .search("the", &f(None, Some("2025-06-20"), None))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .search("the", &f(None, None, Some("+1 514 555 0123")))
                .unwrap()[0]
                .transcript
                .voipms_ref,
            "r1"
        );
        assert!(store.search("!!", &f(None, None, None)).is_err());
    }

    #[test]
    fn migrates_from_version_one() {
        let path = temp("migrate");
        {
            let mut conn = Connection::open(&path).unwrap();
            assert_eq!(migrate(&mut conn, 1).unwrap(), 1);
            conn.execute(
                "INSERT INTO transcripts (source, voipms_ref, account, call_date, caller, origin, text, created_at)
                 VALUES ('voicemail', '1001/INBOX/1', '100001', '2024-10-11 12:52:46', '5557654321', 'voipms',
                         'Hi, this is Jane calling about tomorrow', '2024-10-11T17:00:00Z')",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let v: i64 = store
            .with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(v, current_version());
        let t = store.get("1001/INBOX/1").unwrap().unwrap();
        assert_eq!(t.source, Source::Voicemail);
        assert_eq!(t.confidence, None);
        assert_eq!(store.search("jane", &Filter::default()).unwrap().len(), 1);
        // Reopening applies nothing twice.
        drop(store);
        Store::open(&path).unwrap();
        // A newer file is refused.
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(Store::open(&path).unwrap_err().contains("newer"));
    }
}
