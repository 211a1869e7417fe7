//! One case of the decode benchmark, a fixed number of times: `value` (parse to
//! `serde_json::Value`), `typed` (parse + typed decode with drift tracking) or `decode` (typed
//! decode of an already parsed body); `none` is the setup alone, to subtract. For instruction
//! counts:
//!
//! `valgrind --tool=callgrind target/release/examples/decode_once typed`

use serde_json::Value;
use voipms_benches::cdr_body;
use voipms_sdk::api::GetCdrResponse;
use voipms_sdk::decode::decode_response;

const ROUNDS: usize = 5;

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let body = cdr_body(10_000, "");
    let parsed: Value = serde_json::from_str(&body).unwrap();
    let mut rows = 0;
    for _ in 0..ROUNDS {
        match case.as_str() {
            "value" => {
                let v: Value = serde_json::from_str(std::hint::black_box(&body)).unwrap();
                rows += v["cdr"].as_array().map_or(0, Vec::len);
            }
            "typed" => {
                let v: Value = serde_json::from_str(std::hint::black_box(&body)).unwrap();
                let typed: GetCdrResponse = decode_response(&v).unwrap();
                rows += typed.cdr.len();
            }
            "decode" => {
                let typed: GetCdrResponse = decode_response(std::hint::black_box(&parsed)).unwrap();
                rows += typed.cdr.len();
            }
            // The setup alone (building and parsing the body once), to subtract.
            "none" => rows += 10_000,
            _ => {
                eprintln!("usage: decode_once value|typed|decode|none");
                std::process::exit(2);
            }
        }
    }
    assert_eq!(rows, ROUNDS * 10_000);
}
