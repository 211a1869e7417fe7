//! Benchmarks live in `benches/benches/`; run them with `cargo bench -p voipms-benches`.
//!
//! `cargo run --release -p voipms-benches --example decode_once -- value|typed|decode` runs one
//! case of the decode benchmark a fixed number of times, for instruction counts under
//! `valgrind --tool=callgrind` (stable on a shared machine, unlike wall time).

/// A getCDR body of `rows` rows in the live shape, each with `extra` appended (such as
/// `,"brand_new_key":"x"`).
pub fn cdr_body(rows: usize, extra: &str) -> String {
    let mut out = String::from(r#"{"status":"success","cdr":["#);
    for i in 0..rows {
        if i > 0 {
            out.push(',');
        }
        let secs = (i * 37) % 600;
        out.push_str(&format!(
            r#"{{"date":"2024-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}","callerid":"\"Caller {i}\" <555{n:07}>","destination":"5551234567","description":"Inbound DID","account":"100001_VoIP","disposition":"{disp}","duration":"00:{mm:02}:{ss:02}","seconds":"{secs}","rate":"0.0100000","total":"0.{t:08}","uniqueid":"{i}x{n}i8c","destination_type":"did","call_logs":"DID routed to account:100001_VoIP\nANSWERED","ip":"203.0.113.{ip}","useragent":"Zoiper rv2.10.20.2"{extra}}}"#,
            m = i % 12 + 1,
            d = i % 28 + 1,
            h = i % 24,
            mi = i % 60,
            s = (i * 7) % 60,
            n = (i * 7919) % 10_000_000,
            disp = if i % 5 == 0 { "NO ANSWER" } else { "ANSWERED" },
            mm = secs / 60,
            ss = secs % 60,
            t = secs * 1667,
            ip = i % 250,
        ));
    }
    out.push_str("]}");
    out
}
