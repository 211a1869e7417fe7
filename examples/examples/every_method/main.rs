//! Sends one typed request of every VoIP.ms method, with placeholder values, and reports how many
//! decoded. It also sends orders and deletions, so it refuses any server but a loopback one, such
//! as the sandbox:
//!
//! ```sh
//! VOIPMS_API_URL=http://127.0.0.1:8080/api/v1/rest.php VOIPMS_API_USERNAME=demo@example.com \
//!   VOIPMS_API_PASSWORD=sandbox cargo run -p examples --example every_method
//! ```

use voipms_sdk::Client;

#[rustfmt::skip]
mod calls;

/// Outcome counts.
#[derive(Debug, Default)]
pub struct Tally {
    ok: usize,
    api_status: usize,
    failed: Vec<String>,
}

impl Tally {
    fn record(&mut self, method: &str, result: Result<(), voipms_sdk::Error>) {
        match result {
            Ok(()) => self.ok += 1,
            Err(e) if e.status().is_some() => self.api_status += 1,
            Err(e) => self.failed.push(format!("{method}: {e}")),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let url = client.base_url().to_owned();
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
    if !loopback.iter().any(|p| url.starts_with(p)) {
        return Err(format!(
            "refusing to run against {url}: this example sends orders and deletions; \
             point VOIPMS_API_URL at a loopback sandbox (`voipms sandbox serve`)"
        )
        .into());
    }
    let mut tally = Tally::default();
    calls::call_every_method(&client, &mut tally).await;
    println!(
        "{} decoded, {} answered with an API status, {} failed",
        tally.ok,
        tally.api_status,
        tally.failed.len()
    );
    for f in &tally.failed {
        eprintln!("  {f}");
    }
    if tally.failed.is_empty() {
        Ok(())
    } else {
        Err("some calls failed".into())
    }
}
