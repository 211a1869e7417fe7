//! CDR export benchmark: a one-year `getCDR` export from the sandbox over loopback HTTP, with
//! wall time and the peak memory (`VmHWM`) of the exporting process.
//!
//! The sandbox runs in a child process (this program started with `--serve`), so the figures are
//! the exporter's alone. `--repeat K` exports the same range K times in a row: in `stream` mode
//! the rows are consumed as they come and memory stays flat however many rows pass; in
//! `collect` mode they are all kept, and memory grows with them.
//!
//! ```text
//! cargo run --release -p voipms-sdk --features sandbox --example cdr_export_bench -- \
//!     [--days 365] [--window 92] [--concurrency 4] [--mode stream|collect] [--repeat 1] \
//!     [--latency-ms 0]
//! ```
//!
//! Prints one line of `key=value` figures. Linux only (reads `/proc/self/status`).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use voipms_sdk::cdr::CdrQuery;
use voipms_sdk::chrono::{Duration as Days, NaiveDate};
use voipms_sdk::sandbox::{Faults, Sandbox, SandboxConfig};
use voipms_sdk::{Client, RetryPolicy};

#[derive(Debug, Clone)]
struct Args {
    serve: bool,
    days: i64,
    window: u32,
    concurrency: usize,
    collect: bool,
    repeat: usize,
    latency_ms: u64,
}

fn parse_args() -> Args {
    let mut a = Args {
        serve: false,
        days: 365,
        window: 92,
        concurrency: 4,
        collect: false,
        repeat: 1,
        latency_ms: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--serve" => a.serve = true,
            "--days" => a.days = value().parse().expect("--days N"),
            "--window" => a.window = value().parse().expect("--window DAYS"),
            "--concurrency" => a.concurrency = value().parse().expect("--concurrency N"),
            "--mode" => a.collect = value() == "collect",
            "--repeat" => a.repeat = value().parse().expect("--repeat K"),
            "--latency-ms" => a.latency_ms = value().parse().expect("--latency-ms MS"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// A field of `/proc/self/status`, in kB.
fn status_kb(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: serve a sandbox until stdin closes.
fn serve(args: &Args) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sandbox = Sandbox::new(SandboxConfig::default());
        if args.latency_ms > 0 {
            sandbox.set_faults(Faults::new(1).latency(Duration::from_millis(args.latency_ms)));
        }
        let server = sandbox.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        println!("{} {}", server.url(), sandbox.today());
        std::io::stdout().flush().unwrap();
        // Until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .unwrap();
        server.shutdown().await;
    });
}

fn main() {
    let args = parse_args();
    if args.serve {
        serve(&args);
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--serve", "--latency-ms", &args.latency_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sandbox server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut parts = line.split_whitespace();
    let url = parts.next().expect("server URL").to_owned();
    let today: NaiveDate = parts.next().expect("today").parse().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rss_before = status_kb("VmRSS:");
    let (rows, held, wall, windows) = rt.block_on(async {
        let client = Client::builder()
            .credentials("demo@example.com", "sandbox")
            .base_url(&url)
            .retry(RetryPolicy::default())
            .build()
            .unwrap();
        let query = CdrQuery::new(today - Days::days(args.days - 1), today)
            .window_days(args.window)
            .concurrency(args.concurrency);
        let started = Instant::now();
        let mut rows = 0usize;
        let mut held = 0usize;
        let mut kept = Vec::new();
        let mut checksum = 0u64;
        for _ in 0..args.repeat {
            if args.collect {
                let export = query.fetch_all(&client).await.expect("export");
                rows += export.rows.len();
                kept.extend(export.rows);
                held = kept.len();
            } else {
                let mut stream = query.stream(&client);
                while let Some(row) = stream.next().await {
                    let row = row.expect("export");
                    rows += 1;
                    // Touch the row as a consumer would (a running checksum of its id).
                    for b in row.uniqueid.as_deref().unwrap_or("").bytes() {
                        checksum = checksum.rotate_left(5) ^ u64::from(b);
                    }
                    held = held.max(stream.buffered_rows());
                }
            }
        }
        std::hint::black_box(checksum);
        (rows, held, started.elapsed(), query.windows().len())
    });
    let hwm = status_kb("VmHWM:");
    println!(
        "mode={} days={} window={} concurrency={} repeat={} windows={} rows={} \
         max_rows_held={} wall_ms={:.1} rss_before_kb={} vmhwm_kb={} growth_kb={}",
        if args.collect { "collect" } else { "stream" },
        args.days,
        args.window,
        args.concurrency,
        args.repeat,
        windows,
        rows,
        held,
        wall.as_secs_f64() * 1000.0,
        rss_before,
        hwm,
        hwm.saturating_sub(rss_before),
    );
    drop(child.stdin.take());
    let _ = child.wait();
}
