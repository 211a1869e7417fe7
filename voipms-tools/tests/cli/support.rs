//! Test support: a tiny HTTP server standing in for VoIP.ms, an isolated environment to run the
//! `voipms` binary in, and checked-in snapshots (`UPDATE_SNAPSHOTS=1` rewrites them).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET` or `POST`.
    pub verb: String,
    /// Content-Type, if any.
    pub content_type: String,
    /// Query and multipart fields, decoded, in order.
    pub fields: Vec<(String, String)>,
    /// The raw query string.
    pub query: String,
    /// The path asked for.
    pub path: String,
    /// The Authorization header, if any.
    pub authorization: String,
}

impl Request {
    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The API method called.
    pub fn method(&self) -> &str {
        self.get("method").unwrap_or("")
    }

    /// The parameters, without credentials and method.
    pub fn params(&self) -> Vec<(&str, &str)> {
        self.fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "api_username" | "api_password" | "method"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

type Responder = Arc<dyn Fn(&Request) -> (u16, String) + Send + Sync>;

/// A local HTTP server answering like VoIP.ms.
pub struct Mock {
    /// Its endpoint URL.
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// The catalog's example answer of the method called.
pub fn example_answer(req: &Request) -> (u16, String) {
    match voipms_sdk::catalog::method(req.method()) {
        Some(m) => (200, m.example.to_owned()),
        None => (200, r#"{"status":"invalid_method"}"#.to_owned()),
    }
}

impl Mock {
    /// A server answering every method with its catalog example.
    pub fn examples() -> Mock {
        Mock::start(example_answer)
    }

    /// A server answering with `responder`.
    pub fn start(responder: impl Fn(&Request) -> (u16, String) + Send + Sync + 'static) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}/api/v1/rest.php", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let responder: Responder = Arc::new(responder);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                let responder = responder.clone();
                std::thread::spawn(move || serve(stream, &seen, &responder));
            }
        });
        Mock { url, requests }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The last request.
    pub fn last(&self) -> Request {
        self.requests().pop().expect("the mock received no request")
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

fn serve(mut s: TcpStream, seen: &Mutex<Vec<Request>>, responder: &Responder) {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let verb = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let query = target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .to_owned();
    let mut fields = parse_query(&query);
    let content_type = headers.get("content-type").cloned().unwrap_or_default();
    if let Some(b) = content_type.split("boundary=").nth(1) {
        fields.extend(parse_multipart(&body, b.trim_matches('"')));
    }
    let req = Request {
        verb,
        content_type,
        fields,
        query,
        path: target.split('?').next().unwrap_or("").to_owned(),
        authorization: headers.get("authorization").cloned().unwrap_or_default(),
    };
    let (status, answer) = responder(&req);
    seen.lock().unwrap().push(req);
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = s.write_all(reply.as_bytes());
    let _ = s.flush();
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    for part in text.split(delim.as_str()) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        out.push((
            name.to_owned(),
            value.strip_suffix("\r\n").unwrap_or(value).to_owned(),
        ));
    }
    out
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Out {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code {} (expected {expected})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// An isolated home for one test: its own config and data directories, no `VOIPMS_*` from the
/// outside, no colors.
pub struct Env {
    /// The directory (removed at drop).
    pub dir: PathBuf,
    vars: Vec<(String, String)>,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Env {
    /// A fresh environment.
    pub fn new() -> Env {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("voipms-cli-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("config")).unwrap();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        Env {
            vars: vec![
                ("HOME".into(), dir.display().to_string()),
                (
                    "XDG_CONFIG_HOME".into(),
                    dir.join("config").display().to_string(),
                ),
                (
                    "XDG_DATA_HOME".into(),
                    dir.join("data").display().to_string(),
                ),
                ("NO_COLOR".into(), "1".into()),
                ("TZ".into(), "UTC".into()),
            ],
            dir,
        }
    }

    /// The value an environment variable has for the runs.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }

    /// Sets an environment variable for the runs.
    pub fn var(mut self, k: &str, v: &str) -> Env {
        self.vars.retain(|(a, _)| a != k);
        self.vars.push((k.into(), v.into()));
        self
    }

    /// Credentials in the environment, and the mock as endpoint.
    pub fn creds(self, mock: &Mock, password: &str) -> Env {
        self.var("VOIPMS_API_USERNAME", "me@example.com")
            .var("VOIPMS_API_PASSWORD", password)
            .var("VOIPMS_API_URL", &mock.url)
    }

    /// The default config file path.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config").join("voipms").join("config.toml")
    }

    /// Writes the default config file with `mode`.
    pub fn write_config(&self, text: &str, mode: u32) -> PathBuf {
        let p = self.config_file();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        set_mode(&p, mode);
        p
    }

    /// The command, ready to run.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_voipms"));
        c.env_clear();
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c.args(args).current_dir(&self.dir);
        c
    }

    /// Runs a `sh -c` script in the environment (with the system's PATH).
    pub fn shell(&self, script: &str) -> Out {
        let mut c = Command::new("sh");
        c.env_clear();
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c.env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        );
        let out = c
            .arg("-c")
            .arg(script)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("run sh");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs with stdin closed.
    pub fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, "")
    }

    /// Runs with stdin closed; kills it after `secs` seconds (exit code -1 then).
    pub fn run_timeout(&self, args: &[&str], secs: u64) -> Out {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run voipms");
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while child.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Out {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run voipms");
        {
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Sets unix permissions (no-op elsewhere).
pub fn set_mode(p: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (p, mode);
}

/// Compares `actual` with `tests/cli/snapshots/NAME.txt`; `UPDATE_SNAPSHOTS=1` rewrites it.
#[track_caller]
pub fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}; run `UPDATE_SNAPSHOTS=1 cargo test -p voipms-tools` and review it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "snapshot {name} differs from line {}:\n  expected: {:?}\n  actual:   {:?}\nIf the change \
             is intended, run `UPDATE_SNAPSHOTS=1 cargo test -p voipms-tools` and review the diff.",
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

/// A simulated account served over loopback HTTP from this test process (what `voipms sandbox
/// serve` does), so that a test can inject faults and count the calls it received.
pub struct Served {
    /// The account (shared with the server: faults and call counts act on it).
    pub sandbox: voipms_sdk::sandbox::Sandbox,
    /// `http://127.0.0.1:PORT/api/v1/rest.php`.
    pub url: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// A fresh seeded account on an ephemeral port.
    pub fn start() -> Served {
        let sandbox = voipms_sdk::sandbox::Sandbox::new(voipms_sdk::sandbox::SandboxConfig {
            password: "Served-Pa55-9Zq".into(),
            ..Default::default()
        });
        let (tx_url, rx_url) = std::sync::mpsc::channel();
        let (stop, rx_stop) = std::sync::mpsc::channel::<()>();
        let sb = sandbox.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let handle = sb.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
                tx_url.send(handle.url()).unwrap();
                // Serve until told to stop (the receiver is polled so the server keeps running).
                while rx_stop.try_recv() == Err(std::sync::mpsc::TryRecvError::Empty) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                handle.shutdown().await;
            });
        });
        let url = rx_url.recv_timeout(Duration::from_secs(20)).unwrap();
        Served {
            sandbox,
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// An environment whose account is this server (credentials in the environment).
    pub fn env(&self) -> Env {
        Env::new()
            .var("VOIPMS_API_URL", &self.url)
            .var("VOIPMS_API_USERNAME", self.sandbox.username())
            .var("VOIPMS_API_PASSWORD", self.sandbox.password())
    }

    /// Calls of `method` received so far.
    pub fn count(&self, method: &str) -> u64 {
        self.sandbox.call_counts().get(method).copied().unwrap_or(0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts `sandbox serve` on `env`'s state; the server and an environment that reaches it over
/// HTTP.
pub fn serve_sandbox(env: &Env) -> (Server, Env) {
    let mut server = Server(
        env.cmd(&["--format", "json", "sandbox", "serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let client = served_client(&mut server);
    (server, client)
}

/// An environment that reaches a started `--format json sandbox serve` over HTTP (its first
/// line of output names the URL and the credentials).
pub fn served_client(server: &mut Server) -> Env {
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    client_of(&line)
}

/// An environment that reaches the server described by the first line of `--format json
/// sandbox serve`.
pub fn client_of(line: &str) -> Env {
    let info: serde_json::Value = serde_json::from_str(line).expect("one JSON line first");
    Env::new()
        .var("VOIPMS_API_URL", info["url"].as_str().unwrap())
        .var("VOIPMS_API_USERNAME", info["username"].as_str().unwrap())
        .var("VOIPMS_API_PASSWORD", info["password"].as_str().unwrap())
}

/// A server process, stopped if a test fails before it does.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free on loopback right now (for a server that must be told its port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
