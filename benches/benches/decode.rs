//! Typed decode of a 10,000-row getCDR body against parsing it to `serde_json::Value` alone.
//!
//! The typed path is "parse to Value, then read the typed response out of it" (with the unread-key
//! and unreadable-value tracking every typed response does), so the ratio of the medians is the
//! cost of typing. Target: at most 1.5x. The third case adds a key the spec does not know to every
//! row, the worst case for the unread tracking (each row's keys are named, one path is kept).

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use voipms_benches::cdr_body;
use voipms_sdk::api::GetCdrResponse;
use voipms_sdk::decode::decode_response;

fn bench(c: &mut Criterion) {
    let body = cdr_body(10_000, "");
    let drifted = cdr_body(10_000, r#","brand_new_key":"x""#);
    let mut g = c.benchmark_group("getCDR 10k rows");
    g.sample_size(30);
    g.bench_function("parse to Value", |b| {
        b.iter(|| serde_json::from_str::<Value>(std::hint::black_box(&body)).unwrap())
    });
    g.bench_function("parse + typed decode", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_str(std::hint::black_box(&body)).unwrap();
            let typed: GetCdrResponse = decode_response(&v).unwrap();
            assert_eq!(typed.cdr.len(), 10_000);
            (v, typed)
        })
    });
    let parsed: Value = serde_json::from_str(&body).unwrap();
    g.bench_function("typed decode of a parsed Value", |b| {
        b.iter(|| {
            let typed: GetCdrResponse = decode_response(std::hint::black_box(&parsed)).unwrap();
            assert_eq!(typed.cdr.len(), 10_000);
            typed
        })
    });
    g.bench_function("parse + typed decode, an unknown key in every row", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_str(std::hint::black_box(&drifted)).unwrap();
            let typed: GetCdrResponse = decode_response(&v).unwrap();
            assert_eq!(typed.cdr.len(), 10_000);
            (v, typed)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
