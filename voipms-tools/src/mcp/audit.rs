//! The audit log of the MCP server: one JSON object per line for every call of a tool that may
//! change the account, dry run or not. Records are appended and flushed to disk one by one
//! (`fsync`), so a server killed mid-write leaves every completed record readable; a torn last
//! line is skipped by the reader.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use crate::core::secrets::{MASK, redact};

/// The file name in the data directory when `--audit-log` is not given.
pub const DEFAULT_FILE: &str = "mcp-audit.jsonl";

/// The audit log, open for appending.
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
    file: Mutex<File>,
}

/// One record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The client's name and version, from its `initialize`.
    pub client: Option<(String, String)>,
    /// The tool called.
    pub tool: String,
    /// Its arguments (secret-looking values are masked on writing).
    pub arguments: Map<String, Value>,
    /// Whether only a plan was made.
    pub dry_run: bool,
    /// The API calls planned or made.
    pub calls: Value,
    /// `ok`, `dry_run`, `refused`, `invalid`, `error`, `may_have_applied`.
    pub outcome: &'static str,
    /// What happened, in words.
    pub detail: String,
    /// How long it took.
    pub duration_ms: u64,
}

impl Audit {
    /// Opens (creating it, and its folder, when needed) the log at `path`; only its owner may
    /// read it.
    pub fn open(path: &Path) -> io::Result<Audit> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        Ok(Audit {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record` as one line and flushes it to disk before returning.
    pub fn write(&self, record: &Record) -> io::Result<()> {
        let client = record
            .client
            .as_ref()
            .map_or(Value::Null, |(n, v)| json!({"name": n, "version": v}));
        let line = json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "client": client,
            "tool": record.tool,
            "arguments": mask_arguments(&record.arguments),
            "dry_run": record.dry_run,
            "calls": record.calls,
            "outcome": record.outcome,
            "detail": record.detail,
            "duration_ms": record.duration_ms,
        });
        let mut text = redact(&line.to_string()).into_owned();
        text.push('\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| io::Error::other("the audit log's lock is poisoned"))?;
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }
}

/// Whether an argument's name says its value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "passwd", "secret", "token", "pin"]
        .iter()
        .any(|s| n.contains(s))
}

fn mask_arguments(args: &Map<String, Value>) -> Value {
    Value::Object(
        args.iter()
            .map(|(k, v)| {
                let v = match v {
                    _ if is_secret_name(k) => Value::String(MASK.to_owned()),
                    Value::Object(inner) => mask_arguments(inner),
                    other => other.clone(),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// The complete records of the log at `path` (a torn last line is left out), the last `n` of
/// them when `n` is given.
pub fn read_last(path: &Path, n: Option<usize>) -> io::Result<(Vec<String>, usize)> {
    let file = File::open(path)?;
    let mut lines = Vec::new();
    let mut torn = 0;
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        match String::from_utf8(line) {
            Ok(l) if serde_json::from_str::<Value>(&l).is_ok() => lines.push(l),
            Ok(l) if l.trim().is_empty() => {}
            _ => torn += 1,
        }
    }
    if let Some(n) = n {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    Ok((lines, torn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_lines_and_secrets_are_masked() {
        let dir = std::env::temp_dir().join(format!("voipms-audit-{}", std::process::id()));
        let path = dir.join("a.jsonl");
        let _ = std::fs::remove_file(&path);
        let audit = Audit::open(&path).unwrap();
        let mut arguments = Map::new();
        arguments.insert("password".into(), json!("hunter22"));
        arguments.insert(
            "params".into(),
            json!({"api_password": "x1", "did": "5551234567"}),
        );
        for outcome in ["dry_run", "ok"] {
            audit
                .write(&Record {
                    client: Some(("test".into(), "1".into())),
                    tool: "voipms_call_method".into(),
                    arguments: arguments.clone(),
                    dry_run: outcome == "dry_run",
                    calls: json!([]),
                    outcome,
                    detail: String::new(),
                    duration_ms: 3,
                })
                .unwrap();
        }
        // A torn record, as a kill in the middle of a write would leave.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"time\":\"20")
            .unwrap();
        let (lines, torn) = read_last(&path, Some(5)).unwrap();
        assert_eq!((lines.len(), torn), (2, 1));
        assert!(!lines[0].contains("hunter22") && !lines[0].contains("x1"));
        assert!(lines[0].contains("5551234567"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
