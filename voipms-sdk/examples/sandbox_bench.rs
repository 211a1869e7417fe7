//! Throughput, latency and memory of the sandbox.
//!
//! ```sh
//! cargo run --release -p voipms-sdk --features sandbox --example sandbox_bench [-- SECONDS]
//! ```
//!
//! Measures `getBalance` calls per second with p50/p99 latency: the core (`Sandbox::handle`), the
//! SDK client over the in-process transport, and the SDK client over loopback HTTP with a
//! keep-alive connection pool (one caller, then several concurrent callers). Also reports the
//! resident memory (VmRSS) before and after the account is seeded. Only talks to 127.0.0.1.

use std::time::{Duration, Instant};

use voipms_sdk::sandbox::{RequestEncoding, Sandbox, SandboxConfig, SandboxRequest};
use voipms_sdk::{Client, Params, RetryPolicy};

/// VmRSS (or another field) of this process, in kB (Linux only; 0 elsewhere).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

struct Stats {
    calls: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn report(mut self, name: &str) {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies[i]
        };
        println!(
            "{name:<44} {:>10.0} calls/s   p50 {:>9.1?}   p99 {:>9.1?}   ({} calls)",
            self.calls as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            self.calls
        );
    }
}

/// Runs `call` back to back for `budget`.
fn sync_loop(budget: Duration, mut call: impl FnMut()) -> Stats {
    let mut latencies = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    while start.elapsed() < budget {
        let t = Instant::now();
        call();
        latencies.push(t.elapsed());
    }
    Stats {
        calls: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
    }
}

/// Runs `tasks` concurrent callers of `client` for `budget`.
async fn client_loop(client: &Client, tasks: usize, budget: Duration) -> Stats {
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            while start.elapsed() < budget {
                let t = Instant::now();
                client
                    .call("getBalance", Params::new())
                    .await
                    .expect("getBalance answers");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await.expect("caller task"));
    }
    Stats {
        calls: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);

    let rss_before = status_kb("VmRSS:");
    let t = Instant::now();
    let sandbox = Sandbox::new(SandboxConfig::default());
    let seeded_in = t.elapsed();
    let rss_after = status_kb("VmRSS:");
    println!(
        "seeded account in {seeded_in:.1?}: VmRSS {:.1} MB before, {:.1} MB after (+{:.1} MB)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0
    );

    // Persistence, as each CLI invocation does it.
    let path = std::env::temp_dir().join(format!("sandbox-bench-{}.json", std::process::id()));
    let t = Instant::now();
    sandbox.save(&path)?;
    let saved_in = t.elapsed();
    let t = Instant::now();
    let loaded = Sandbox::load(&path, SandboxConfig::default())?;
    let loaded_in = t.elapsed();
    println!(
        "state file {:.0} KB: saved in {saved_in:.1?}, loaded in {loaded_in:.1?}",
        std::fs::metadata(&path)?.len() as f64 / 1024.0
    );
    drop(loaded);
    std::fs::remove_file(&path)?;

    // The core, as both transports call it.
    let fields = [
        ("api_username", sandbox.username()),
        ("api_password", sandbox.password()),
        ("method", "getBalance"),
    ];
    sandbox.handle(SandboxRequest {
        encoding: RequestEncoding::Get,
        fields: &fields,
    });
    println!(
        "VmRSS after the first call (catalog plans built): {:.1} MB",
        status_kb("VmRSS:") as f64 / 1024.0
    );
    sync_loop(budget, || {
        let reply = sandbox.handle(SandboxRequest {
            encoding: RequestEncoding::Get,
            fields: &fields,
        });
        assert_eq!(reply.http_status, 200);
    })
    .report("core: Sandbox::handle(getBalance)");

    // The SDK client over the in-process transport.
    let inproc = sandbox.client();
    client_loop(&inproc, 1, budget)
        .await
        .report("in-process: Client::call, 1 caller");

    // The SDK client over loopback HTTP (keep-alive pool).
    let server = sandbox.serve("127.0.0.1:0".parse()?).await?;
    let http = Client::builder()
        .credentials(sandbox.username(), sandbox.password())
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .build()?;
    http.call("getBalance", Params::new()).await?; // open the connection
    for tasks in [1, 4, 16] {
        client_loop(&http, tasks, budget)
            .await
            .report(&format!("loopback HTTP: Client::call, {tasks} caller(s)"));
    }
    server.shutdown().await;
    println!(
        "peak VmRSS {:.1} MB after {} calls",
        status_kb("VmHWM:") as f64 / 1024.0,
        sandbox.total_calls()
    );
    Ok(())
}
