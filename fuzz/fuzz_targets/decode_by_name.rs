//! The SDK's typed decode of every method (`voipms_sdk::api::decode_by_name`).
//!
//! Input: two bytes pick the method, one byte the mode, the rest is data.
//! - mode even: the data is the body as received (JSON parsed by serde_json; bytes that are not
//!   JSON are decoded as a JSON string, as a page of text would be).
//! - mode odd: the method's example response from the spec, mutated by the data (values, types,
//!   keys, nesting, subtrees of other methods' examples), re-serialized and parsed again.
//!
//! Properties: decoding never panics; every catalog method decodes by name; the typed value
//! turns into JSON; an error names a JSON path from the root; a key the spec does not know at the
//! top of the body is reported as drift (`$.fuzz_unknown_key`) whenever the decode succeeds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use voipms_fuzz::{Bytes, UNKNOWN_KEY, method_at, method_number, mutate_json, write_seeds};
use voipms_sdk::catalog::METHODS;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for m in METHODS {
        let [a, b] = method_number(m);
        let mut raw = vec![a, b, 0];
        raw.extend_from_slice(m.example.as_bytes());
        out.push((format!("{}-raw", m.name), raw));
        // A few mutations of the example: a value made odd, a key renamed, a node graft.
        out.push((
            format!("{}-mut", m.name),
            vec![a, b, 1, 5, 0, 3, 7, 12, 0, 2, 1, 0, 0, 17, 0, 5, 3, 0, 9],
        ));
    }
    out
}

fn check(name: &str, body: &Value) {
    let decoded = voipms_sdk::api::decode_by_name(name, body)
        .unwrap_or_else(|| panic!("{name} is in the catalog but does not decode by name"));
    match decoded {
        Ok(d) => {
            let _ = d.value.to_json();
            for p in d.drift.unread() {
                assert!(
                    p.starts_with("$."),
                    "unread path {p:?} does not start at the root"
                );
            }
            for u in d.drift.unreadable() {
                assert!(
                    u.path.starts_with('$'),
                    "unreadable path {:?} does not start at the root",
                    u.path
                );
            }
            if body
                .as_object()
                .is_some_and(|o| o.contains_key(UNKNOWN_KEY))
            {
                let want = format!("$.{UNKNOWN_KEY}");
                assert!(
                    d.drift.unread().contains(&want),
                    "{name}: a key the spec does not know at the top of the body is not in the drift: {:?}",
                    d.drift
                );
            }
        }
        Err(e) => {
            assert!(
                e.path().starts_with('$'),
                "error path {:?} does not start at the root",
                e.path()
            );
            let _ = e.to_string();
        }
    }
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let mut bytes = Bytes::new(data);
        let m = method_at(bytes.u16());
        let mode = bytes.u8();
        if mode & 1 == 0 {
            let rest = bytes.rest();
            match serde_json::from_slice::<Value>(rest) {
                Ok(body) => check(m.name, &body),
                Err(_) => check(m.name, &Value::String(String::from_utf8_lossy(rest).into_owned())),
            }
        } else {
            let mut body: Value = serde_json::from_str(m.example).expect("the spec's example is JSON");
            let donors: Vec<&str> = METHODS.iter().step_by(7).map(|m| m.example).collect();
            mutate_json(&mut body, &mut bytes, &donors);
            let text = serde_json::to_vec(&body).expect("a Value serializes");
            // Nesting deeper than serde_json's limit (128) cannot come off the wire: skipped.
            if let Ok(again) = serde_json::from_slice::<Value>(&text) {
                check(m.name, &again);
            }
        }
    }
);
