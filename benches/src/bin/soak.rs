//! The fault soak behind `cargo xtask soak`: N mutations against `voipms sandbox serve --faults`
//! with about 10 % of the API calls failing (5xx pages, Cloudflare pages, Varnish, timeouts,
//! dropped connections, truncated bodies, changes applied whose reply is lost), driven by 4
//! concurrent worker processes. Each worker alternates `voipms` CLI processes (`phonebook
//! add/remove`, `filters block/unblock`, `sms send`, raw `call setPhonebook`/`delPhonebook`)
//! and the same kinds of change made through the SDK in its own process. Every change carries a
//! unique tag (a number, a name, a message text), so afterwards the account, read through its
//! API on a server without faults, shows what each call did; it is compared with what the call
//! reported:
//!
//! - reported success → the change is there exactly once (missing: *lost*);
//! - outcome unknown ("may have been applied", exit 7) → there at most once;
//! - reported failure → not there (there: *applied despite a reported failure*), unless the
//!   failure said which of its writes it had applied before it stopped (then either);
//! - anything there twice → *duplicated*.
//!
//! ```text
//! cargo xtask soak [--calls N]          # builds voipms and this driver, then runs it
//! soak --voipms PATH [--calls N] [--seed S] [--rate 0.1] [--keep]
//! ```
//! The last line reads `soak: N calls, F faults, D duplicated, L lost, U unknown reported`; the
//! exit status is 1 when anything was duplicated, lost or applied despite a reported failure.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use voipms_sdk::ops::may_have_applied;
use voipms_sdk::serde_json::{self, Value};
use voipms_sdk::{Client, FilterRule, Filters, Messaging, OpError, Params, Phonebook, SmsLength};

const WORKERS: usize = 4;
/// The destination of every soak SMS (each text is unique).
const SMS_DST: &str = "5554000000";
/// The account's DID that sends them.
const SMS_DID: &str = "5551234567";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("worker") {
        worker(&args[1..])
    } else {
        orchestrate(&args)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::from(2)
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn number_flag<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    match flag(args, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name} takes a number, not `{v}`")),
    }
}

/// The fault mix: nine kinds at equal odds, about `rate` of all calls in total.
fn fault_spec(seed: u64, rate: f64) -> String {
    let kinds = [
        "500",
        "503",
        "cf522",
        "cf524",
        "varnish",
        "timeout=2s",
        "drop",
        "truncated",
        "lost",
    ];
    // The first rule that fires decides, so each gets p with 1 - (1 - p)^9 = rate.
    let p = 1.0 - (1.0 - rate).powf(1.0 / kinds.len() as f64);
    let mut spec = format!("seed={seed}");
    for k in kinds {
        spec.push_str(&format!(", *:{k}@p={p:.5}"));
    }
    spec
}

/// A `voipms --format json sandbox serve` process and what its first line said.
struct Served {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
    url: String,
    username: String,
    password: String,
}

impl Served {
    fn start(
        voipms: &Path,
        env: &[(String, String)],
        faults: Option<&str>,
    ) -> Result<Self, String> {
        let mut cmd = Command::new(voipms);
        cmd.args(["--format", "json", "sandbox", "serve", "--port", "0"]);
        if let Some(f) = faults {
            cmd.args(["--faults", f]);
        }
        let mut child = clean_env(&mut cmd, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", voipms.display()))?;
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        out.read_line(&mut line).map_err(|e| e.to_string())?;
        let info: Value = serde_json::from_str(&line)
            .map_err(|e| format!("sandbox serve said `{}`: {e}", line.trim()))?;
        let text = |k: &str| info[k].as_str().unwrap_or_default().to_owned();
        Ok(Served {
            url: text("url"),
            username: text("username"),
            password: text("password"),
            child,
            out,
        })
    }

    /// Stops it with SIGTERM; its last line (calls and faults injected).
    fn stop(mut self) -> Result<Value, String> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("kill -TERM {pid}: {e}"))?;
        let mut rest = String::new();
        self.out
            .read_to_string(&mut rest)
            .map_err(|e| e.to_string())?;
        let _ = self.child.wait();
        serde_json::from_str(rest.trim())
            .map_err(|e| format!("sandbox serve's last line `{}`: {e}", rest.trim()))
    }
}

/// The command with only the soak's environment: no credentials or config of the user's.
fn clean_env<'a>(cmd: &'a mut Command, env: &[(String, String)]) -> &'a mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("VOIPMS_") || k.starts_with("XDG_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)))
}

fn orchestrate(args: &[String]) -> Result<ExitCode, String> {
    let calls: usize = number_flag(args, "--calls", 1000)?;
    let seed: u64 = number_flag(args, "--seed", 1)?;
    let rate: f64 = number_flag(args, "--rate", 0.1)?;
    let voipms = PathBuf::from(
        flag(args, "--voipms").ok_or("--voipms PATH (the voipms binary) is required")?,
    );
    let dir = std::env::temp_dir().join(format!("voipms-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let home = |sub: &str| dir.join(sub).display().to_string();
    let env: Vec<(String, String)> = vec![
        ("HOME".into(), home("home")),
        ("XDG_CONFIG_HOME".into(), home("config")),
        ("XDG_DATA_HOME".into(), home("data")),
        ("XDG_STATE_HOME".into(), home("state")),
        ("XDG_CACHE_HOME".into(), home("cache")),
        ("XDG_RUNTIME_DIR".into(), home("run")),
        ("VOIPMS_SANDBOX_STATE".into(), home("sandbox.json")),
    ];
    let spec = fault_spec(seed, rate);
    println!("soak: {calls} calls from {WORKERS} processes; faults: {spec}");
    let started = Instant::now();
    let served = Served::start(&voipms, &env, Some(&spec))?;
    let mut env_served = env.clone();
    env_served.extend([
        ("VOIPMS_API_URL".into(), served.url.clone()),
        ("VOIPMS_API_USERNAME".into(), served.username.clone()),
        ("VOIPMS_API_PASSWORD".into(), served.password.clone()),
    ]);
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let share = calls / WORKERS + usize::from(w < calls % WORKERS);
        let mut cmd = Command::new(&me);
        cmd.args(["worker", "--worker", &w.to_string(), "--calls"])
            .arg(share.to_string())
            .args(["--seed", &worker_seed(seed, w).to_string()])
            .arg("--voipms")
            .arg(&voipms);
        let child = clean_env(&mut cmd, &env_served)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?;
        workers.push(child);
    }
    let mut ops: Vec<Op> = Vec::new();
    for mut child in workers {
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut out)
            .map_err(|e| e.to_string())?;
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("a worker failed: {status}"));
        }
        for line in out.lines() {
            ops.push(serde_json::from_str(line).map_err(|e| format!("worker line {line}: {e}"))?);
        }
    }
    let driven = started.elapsed();
    let last = served.stop()?;
    let injected: BTreeMap<String, u64> = last["faults_injected"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let api_calls = last["calls"].as_u64().unwrap_or(0);

    // The account as it is now, read through a server without faults on the same state file.
    let clean = Served::start(&voipms, &env, None)?;
    let client = Client::builder()
        .credentials(clean.username.clone(), clean.password.clone())
        .base_url(clean.url.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let account = runtime()?.block_on(Account::read(&client))?;
    drop(clean.stop());

    let verdicts = judge(&ops, &account);
    print_table(&ops, &verdicts, &injected, api_calls, driven);
    if !args.iter().any(|a| a == "--keep") {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("state kept in {}", dir.display());
    }
    let faults: u64 = injected.values().sum();
    let dup = verdicts
        .iter()
        .filter(|v| **v == Verdict::Duplicated)
        .count();
    let lost = verdicts.iter().filter(|v| **v == Verdict::Lost).count();
    let phantom = verdicts.iter().filter(|v| **v == Verdict::Phantom).count();
    let unknown = ops.iter().filter(|o| o.outcome == Outcome::Unknown).count();
    println!(
        "soak: {} calls, {faults} faults, {dup} duplicated, {lost} lost, {unknown} unknown reported",
        ops.len()
    );
    Ok(if dup + lost + phantom > 0 || ops.len() != calls {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A worker's own non-zero seed (its xorshift state).
fn worker_seed(seed: u64, w: usize) -> u64 {
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(w as u64 + 1)
        .rotate_left(17)
        | 1
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// What one change was and what its caller was told.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Op {
    worker: usize,
    /// `cli` or `sdk`.
    via: String,
    kind: Kind,
    /// The number, name or text that identifies the change.
    tag: String,
    /// The phonebook group (phonebook kinds).
    group: String,
    outcome: Outcome,
    /// The exit code or error, for the table's notes.
    detail: String,
    /// The entry a raw setPhonebook created (when it said).
    id: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
enum Kind {
    PhonebookAdd,
    PhonebookRemove,
    Block,
    Unblock,
    Sms,
    RawSet,
    RawDel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Outcome {
    Ok,
    Unknown,
    Failed,
    /// Failed after some of its writes were applied, and said which (a read-back that failed,
    /// say): the change may be there or not, never twice.
    Partial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Good,
    /// Outcome unknown to the caller; the change turned out to be applied (once).
    UnknownApplied,
    /// Outcome unknown to the caller; the change turned out not to be applied.
    UnknownNotApplied,
    Lost,
    Duplicated,
    /// Applied although the call reported a failure that said nothing was changed.
    Phantom,
}

// ---------------------------------------------------------------------------------------------
// The worker: a sequence of tagged changes, each through the CLI or the SDK.

fn worker(args: &[String]) -> Result<ExitCode, String> {
    let w: usize = number_flag(args, "--worker", 0)?;
    let calls: usize = number_flag(args, "--calls", 0)?;
    let mut rng: u64 = number_flag(args, "--seed", 1)?;
    let voipms = PathBuf::from(flag(args, "--voipms").ok_or("--voipms PATH")?);
    let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
    // Short timeouts, so the sandbox's held requests (timeout=2s) time out on the client.
    let client = Client::builder()
        .credentials(var("VOIPMS_API_USERNAME")?, var("VOIPMS_API_PASSWORD")?)
        .base_url(var("VOIPMS_API_URL")?)
        .timeout(Duration::from_secs(1))
        .build()
        .map_err(|e| e.to_string())?;
    let rt = runtime()?;
    let group = format!("soak-w{w}");
    // Changes that succeeded and may be undone later: (kind, tag, id).
    let mut undoable: Vec<Op> = Vec::new();
    let stdout = std::io::stdout();
    for seq in 0..calls {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let sdk = rng & 1 == 1;
        let pick = (rng >> 8) % 100;
        let tag_number = |k: u32| format!("55{k}{w}{seq:06}");
        let mut op = Op {
            worker: w,
            via: if sdk { "sdk" } else { "cli" }.into(),
            kind: Kind::Sms,
            tag: String::new(),
            group: group.clone(),
            outcome: Outcome::Ok,
            detail: String::new(),
            id: None,
        };
        // Undo an earlier change a quarter of the time, else make a new one. SMS are few: the
        // sandbox, like VoIP.ms, refuses more than 100 a day.
        let undo = (pick < 25 && !undoable.is_empty())
            .then(|| undoable.swap_remove((rng >> 32) as usize % undoable.len()));
        match undo {
            Some(prev) => {
                op.tag = prev.tag.clone();
                op.id = prev.id.clone();
                op.kind = match prev.kind {
                    Kind::PhonebookAdd => Kind::PhonebookRemove,
                    Kind::Block => Kind::Unblock,
                    _ => Kind::RawDel,
                };
            }
            None => {
                let (kind, tag) = match (rng >> 24) % 100 {
                    0..9 => (Kind::Sms, format!("soak w{w} op {seq} {rng:x}")),
                    9..40 => (Kind::PhonebookAdd, tag_number(1)),
                    40..70 => (Kind::Block, tag_number(2)),
                    _ => (Kind::RawSet, tag_number(3)),
                };
                op.kind = kind;
                op.tag = tag;
            }
        }
        if sdk {
            rt.block_on(run_sdk(&client, &mut op));
        } else {
            run_cli(&voipms, &mut op)?;
        }
        if op.outcome == Outcome::Ok
            && matches!(op.kind, Kind::PhonebookAdd | Kind::Block | Kind::RawSet)
            && (op.kind != Kind::RawSet || op.id.is_some())
        {
            undoable.push(op.clone());
        }
        let mut out = stdout.lock();
        writeln!(
            out,
            "{}",
            serde_json::to_string(&op).map_err(|e| e.to_string())?
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run_cli(voipms: &Path, op: &mut Op) -> Result<(), String> {
    let mut cmd = Command::new(voipms);
    cmd.args(["--yes", "--format", "json"]);
    match op.kind {
        Kind::PhonebookAdd => cmd
            .args(["phonebook", "add", &op.group, &op.tag, "--name"])
            .arg(format!("soak {}", op.tag)),
        Kind::PhonebookRemove => cmd.args(["phonebook", "remove", &op.group, &op.tag]),
        Kind::Block => cmd.args(["filters", "block", &op.tag, "--note", "soak"]),
        Kind::Unblock => cmd.args(["filters", "unblock", &op.tag]),
        Kind::Sms => cmd.args(["sms", "send", "--did", SMS_DID, "--dst", SMS_DST, &op.tag]),
        Kind::RawSet => cmd
            .args(["call", "setPhonebook"])
            .arg(format!("name=soak raw {}", op.tag))
            .arg(format!("number={}", op.tag)),
        Kind::RawDel => cmd
            .args(["call", "delPhonebook"])
            .arg(format!("phonebook={}", op.id.as_deref().unwrap_or(""))),
    };
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", voipms.display()))?;
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    op.outcome = match code {
        0 => Outcome::Ok,
        7 => Outcome::Unknown,
        // The SDK's wording for a helper that stopped after changing the account.
        _ if stderr.contains("Changes applied before it stopped") => Outcome::Partial,
        _ => Outcome::Failed,
    };
    if code != 0 {
        // The error line, not the warnings before it.
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .or_else(|| stderr.lines().rfind(|l| !l.trim().is_empty()))
            .unwrap_or("");
        op.detail = format!("exit {code}: {line}");
    }
    if op.kind == Kind::RawSet && code == 0 {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        op.id = v["phonebook"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| v["phonebook"].as_i64().map(|n| n.to_string()));
    }
    Ok(())
}

async fn run_sdk(client: &Client, op: &mut Op) {
    let helper = |r: Result<(), OpError>, op: &mut Op| {
        op.outcome = match &r {
            Ok(()) => Outcome::Ok,
            Err(e) if e.is_outcome_unknown() => Outcome::Unknown,
            Err(e) if e.changed_account() => Outcome::Partial,
            Err(_) => Outcome::Failed,
        };
        if let Err(e) = r {
            op.detail = e.to_string().lines().next().unwrap_or("").to_owned();
        }
    };
    match op.kind {
        Kind::PhonebookAdd => {
            let name = format!("soak {}", op.tag);
            let r = Phonebook::new(client)
                .add_number_to_group(&op.group, &op.tag, Some(&name))
                .await;
            helper(r.map(drop), op);
        }
        Kind::PhonebookRemove => {
            let r = Phonebook::new(client)
                .remove_number_from_group(&op.group, &op.tag, Default::default())
                .await;
            helper(r.map(drop), op);
        }
        Kind::Block => {
            let rule = FilterRule::new(op.tag.as_str(), "all", "sys:hangup").note("soak");
            let r = Filters::new(client).ensure_rule(rule).await;
            helper(r.map(drop), op);
        }
        Kind::Unblock => {
            let r = Filters::new(client).remove_rule(&op.tag, "all").await;
            helper(r.map(drop), op);
        }
        Kind::Sms => {
            let r = Messaging::new(client)
                .send_sms(SMS_DID, SMS_DST, &op.tag, SmsLength::Refuse)
                .await;
            helper(r.map(drop), op);
        }
        Kind::RawSet | Kind::RawDel => {
            let mut p = Params::new();
            let method = if op.kind == Kind::RawSet {
                p.push("name", format!("soak raw {}", op.tag));
                p.push("number", op.tag.clone());
                "setPhonebook"
            } else {
                p.push("phonebook", op.id.clone().unwrap_or_default());
                "delPhonebook"
            };
            match client.call(method, p).await {
                Ok(v) => {
                    op.outcome = Outcome::Ok;
                    op.id = v["phonebook"]
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| v["phonebook"].as_i64().map(|n| n.to_string()));
                }
                Err(e) => {
                    op.outcome = if may_have_applied(&e) {
                        Outcome::Unknown
                    } else {
                        Outcome::Failed
                    };
                    op.detail = e.to_string().lines().next().unwrap_or("").to_owned();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The account afterwards, and the verdict on each change.

struct Account {
    /// Phonebook entries: (id, name, number).
    entries: Vec<(String, String, String)>,
    /// Group name → member entry ids.
    groups: BTreeMap<String, Vec<String>>,
    /// Caller IDs of the filter rules (one item per rule).
    filters: Vec<String>,
    /// Texts of the SMS (one item per message).
    sms: Vec<String>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn rows<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map_or(&[], Vec::as_slice)
}

impl Account {
    async fn read(client: &Client) -> Result<Account, String> {
        let call = |m: &'static str, p: Params| async move {
            client
                .call(m, p)
                .await
                .map_err(|e| format!("reading the account ({m}): {e}"))
        };
        let pb = call("getPhonebook", Params::new()).await?;
        let entries = rows(&pb, "phonebooks")
            .iter()
            .map(|r| (text(&r["phonebook"]), text(&r["name"]), text(&r["number"])))
            .collect();
        let gr = call("getPhonebookGroups", Params::new()).await?;
        let groups = rows(&gr, "phonebook_groups")
            .iter()
            .map(|g| {
                let members = text(&g["members"])
                    .split([',', ';'])
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                (text(&g["name"]), members)
            })
            .collect();
        let fl = call("getCallerIDFiltering", Params::new()).await?;
        let filters = rows(&fl, "filtering")
            .iter()
            .map(|r| text(&r["callerid"]))
            .collect();
        let day = |offset: i64| {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            voipms_sdk::chrono::DateTime::from_timestamp(secs + offset * 86_400, 0)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let mut p = Params::new();
        p.push("from", day(-1));
        p.push("to", day(1));
        p.push("contact", SMS_DST);
        p.push("limit", "100000");
        let sms = call("getSMS", p).await?;
        let sms = rows(&sms, "sms")
            .iter()
            .map(|r| text(&r["message"]))
            .collect();
        Ok(Account {
            entries,
            groups,
            filters,
            sms,
        })
    }
}

/// One verdict per op, in order.
fn judge(ops: &[Op], account: &Account) -> Vec<Verdict> {
    // How many times each tag is present in the account, per kind of change.
    let entries_with_number = |n: &str| account.entries.iter().filter(|e| e.2 == n).count();
    let in_group = |group: &str, n: &str| {
        account.groups.get(group).is_some_and(|members| {
            account
                .entries
                .iter()
                .any(|e| e.2 == n && members.contains(&e.0))
        })
    };
    let present = |op: &Op| -> (usize, bool) {
        match op.kind {
            Kind::PhonebookAdd | Kind::PhonebookRemove => {
                (entries_with_number(&op.tag), in_group(&op.group, &op.tag))
            }
            Kind::Block | Kind::Unblock => {
                let n = account.filters.iter().filter(|c| **c == op.tag).count();
                (n, n > 0)
            }
            Kind::Sms => {
                let n = account.sms.iter().filter(|m| **m == op.tag).count();
                (n, n > 0)
            }
            Kind::RawSet | Kind::RawDel => {
                let name = format!("soak raw {}", op.tag);
                let n = account.entries.iter().filter(|e| e.1 == name).count();
                (n, n > 0)
            }
        }
    };
    // Whether a later op undid this one (then the add's own verdict is only about duplicates).
    let undone = |i: usize| {
        ops[i + 1..].iter().any(|o| {
            o.worker == ops[i].worker
                && o.tag == ops[i].tag
                && matches!(o.kind, Kind::PhonebookRemove | Kind::Unblock | Kind::RawDel)
        })
    };
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let (count, there) = present(op);
            if count > 1 {
                return Verdict::Duplicated;
            }
            let adds = matches!(
                op.kind,
                Kind::PhonebookAdd | Kind::Block | Kind::Sms | Kind::RawSet
            );
            if adds && undone(i) {
                // Only duplicates can be told once undone; an unknown add is settled by its undo.
                return if op.outcome == Outcome::Unknown {
                    Verdict::UnknownApplied
                } else {
                    Verdict::Good
                };
            }
            // What the change should leave: there (an addition) or not (a removal).
            let wanted = adds;
            match op.outcome {
                Outcome::Partial => Verdict::Good,
                Outcome::Unknown if there == wanted => Verdict::UnknownApplied,
                Outcome::Unknown => Verdict::UnknownNotApplied,
                Outcome::Ok if there == wanted => Verdict::Good,
                Outcome::Ok => Verdict::Lost,
                // A removal that failed leaves what was there (the addition succeeded).
                Outcome::Failed if there != wanted => Verdict::Good,
                Outcome::Failed => Verdict::Phantom,
            }
        })
        .collect()
}

fn print_table(
    ops: &[Op],
    verdicts: &[Verdict],
    injected: &BTreeMap<String, u64>,
    api_calls: u64,
    driven: Duration,
) {
    let names = |k: Kind| match k {
        Kind::PhonebookAdd => "phonebook add",
        Kind::PhonebookRemove => "phonebook remove",
        Kind::Block => "filters block",
        Kind::Unblock => "filters unblock",
        Kind::Sms => "sms send",
        Kind::RawSet => "raw setPhonebook",
        Kind::RawDel => "raw delPhonebook",
    };
    #[derive(Default)]
    struct Row {
        calls: usize,
        ok: usize,
        unknown: usize,
        failed: usize,
        partial: usize,
        unknown_applied: usize,
        dup: usize,
        lost: usize,
        phantom: usize,
    }
    let mut table: BTreeMap<(Kind, &str), Row> = BTreeMap::new();
    for (op, v) in ops.iter().zip(verdicts) {
        let r = table.entry((op.kind, op.via.as_str())).or_default();
        r.calls += 1;
        match op.outcome {
            Outcome::Ok => r.ok += 1,
            Outcome::Unknown => r.unknown += 1,
            Outcome::Failed => r.failed += 1,
            Outcome::Partial => {
                r.failed += 1;
                r.partial += 1;
            }
        }
        match v {
            Verdict::Good | Verdict::UnknownNotApplied => {}
            Verdict::UnknownApplied => r.unknown_applied += 1,
            Verdict::Lost => r.lost += 1,
            Verdict::Duplicated => r.dup += 1,
            Verdict::Phantom => r.phantom += 1,
        }
    }
    println!();
    let line = |name: &str, via: &str, r: &Row| {
        println!(
            "{name:<18} {via:<4} {:>6} {:>6} {:>17} {:>13} {:>11} {:>5} {:>17}",
            r.calls,
            r.ok,
            format!("{} ({} applied)", r.unknown, r.unknown_applied),
            format!("{} ({} partial)", r.failed, r.partial),
            r.dup,
            r.lost,
            r.phantom
        );
    };
    println!(
        "{:<18} {:<4} {:>6} {:>6} {:>17} {:>13} {:>11} {:>5} {:>17}",
        "change",
        "via",
        "calls",
        "ok",
        "unknown",
        "failed",
        "duplicated",
        "lost",
        "applied-if-failed"
    );
    let mut total = Row::default();
    for ((kind, via), r) in &table {
        line(names(*kind), via, r);
        total.calls += r.calls;
        total.ok += r.ok;
        total.unknown += r.unknown;
        total.unknown_applied += r.unknown_applied;
        total.failed += r.failed;
        total.partial += r.partial;
        total.dup += r.dup;
        total.lost += r.lost;
        total.phantom += r.phantom;
    }
    line("total", "", &total);
    let faults: u64 = injected.values().sum();
    let kinds: Vec<String> = injected.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!();
    println!(
        "API calls served: {api_calls}; faults injected: {faults} ({:.1} %): {}",
        if api_calls == 0 {
            0.0
        } else {
            faults as f64 * 100.0 / api_calls as f64
        },
        kinds.join(", ")
    );
    println!("driven in {:.1} s", driven.as_secs_f64());
    for (op, v) in ops.iter().zip(verdicts) {
        if matches!(v, Verdict::Lost | Verdict::Duplicated | Verdict::Phantom) {
            println!(
                "  {v:?}: {} via {} `{}`: {:?} {}",
                names(op.kind),
                op.via,
                op.tag,
                op.outcome,
                op.detail
            );
        }
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for op in ops.iter().filter(|o| o.outcome != Outcome::Ok) {
        let short: String = op.detail.chars().take(90).collect();
        *reasons
            .entry(format!("{:?}: {short}", op.outcome))
            .or_default() += 1;
    }
    if !reasons.is_empty() {
        println!("reported outcomes other than success:");
        for (r, n) in reasons {
            println!("  {n:>4} × {r}");
        }
    }
}
