//! Ranks the likely spam callers of the last 90 days and marks the top one as spam, on the
//! sandbox (or on a real account when `VOIPMS_API_USERNAME` is set — then only the report runs,
//! since marking changes the account):
//!
//! ```sh
//! cargo run -p examples --features sandbox --example spam_report
//! ```

use voipms_sdk::sandbox::{Sandbox, SandboxConfig};
use voipms_sdk::spam::SuggestOptions;
use voipms_sdk::{Client, DateRange, SpamGuard};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = std::env::var_os("VOIPMS_API_USERNAME").is_some();
    let client = if real {
        Client::from_env()?
    } else {
        Sandbox::new(SandboxConfig::default()).client()
    };
    let guard = SpamGuard::new(&client);
    let report = guard
        .suggest_spam_numbers(
            DateRange::last_days(&client, 90),
            &SuggestOptions::default(),
        )
        .await?;
    println!(
        "{} calls scanned, {} likely spam callers:",
        report.rows_scanned,
        report.candidates.len()
    );
    for c in report.candidates.iter().take(10) {
        println!("{:>4}  {}  {}", c.score, c.number.as_str(), c.explain());
    }
    if let (false, Some(top)) = (real, report.candidates.first()) {
        let marked = guard.mark_number_as_spam(top.number.as_str()).await?;
        println!(
            "\nmarked {} as spam in the sandbox ({} API calls)",
            top.number.as_str(),
            marked.calls.len()
        );
    }
    Ok(())
}
