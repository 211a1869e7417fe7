//! The MCP server's input, in process over the sandbox (as `voipms --sandbox mcp` runs, every
//! tool on, writes allowed): whole JSON-RPC sessions through rmcp, tool calls with arbitrary
//! arguments through the server's validation, write gate and tools, and the long tail's
//! validation of method parameters from JSON.
//!
//! Input: one byte picks the mode, then
//! - `< 0x40`: a session: the client's bytes after the handshake (JSON-RPC messages, one a line);
//! - `< 0x80`: two bytes pick a method, the rest is a JSON object of its parameters, checked by
//!   the long tail's validation (`voipms_call_method`);
//! - `< 0xC0`: two bytes pick a tool, the rest is its arguments as JSON text;
//! - otherwise: two bytes pick a tool, the rest mutates arguments built from its input schema
//!   (values, types, keys, nesting).
//!
//! Properties: never a panic or a hang; every line the server writes is one JSON document; a
//! known tool always answers with content; the long tail's validation fails with a message. The
//! account is put back in its seeded state every 500 inputs.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use voipms_fuzz::{Bytes, method_at, method_number, mutate_json, param_example, write_seeds};
use voipms_sdk::catalog::METHODS;
use voipms_tools::fuzzing::Mcp;

struct Harness {
    mcp: Mcp,
    /// Arguments from each tool's schema, as JSON text.
    examples: Vec<(String, String)>,
    runs: u64,
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

/// A value the schema `s` accepts, from its examples, enum, default or type.
fn example_of(s: &Value) -> Value {
    if let Some(x) = s.get("examples").and_then(|e| e.get(0)) {
        return x.clone();
    }
    if let Some(x) = s.get("enum").and_then(|e| e.get(0)) {
        return x.clone();
    }
    if let Some(x) = s.get("default") {
        return x.clone();
    }
    let ty = match s.get("type") {
        Some(Value::Array(t)) => t.first().and_then(Value::as_str).unwrap_or("string"),
        Some(Value::String(t)) => t.as_str(),
        _ => "string",
    };
    match ty {
        "integer" | "number" => json!(1),
        "boolean" => json!(true),
        "array" => json!([s.get("items").map(example_of).unwrap_or(json!("1"))]),
        "object" => args_of(s),
        _ => json!("1"),
    }
}

fn args_of(schema: &Value) -> Value {
    let mut args = Map::new();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, s) in props {
            args.insert(k.clone(), example_of(s));
        }
    }
    Value::Object(args)
}

fn harness() -> Harness {
    let mcp = Mcp::new().expect("an MCP server over the sandbox");
    let examples = mcp
        .input_schemas()
        .into_iter()
        .map(|(name, schema)| (name, args_of(&schema).to_string()))
        .collect();
    Harness {
        mcp,
        examples,
        runs: 0,
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let h = harness();
    let mut out = Vec::new();
    for (i, (name, args)) in h.examples.iter().enumerate() {
        let [a, b] = u16::try_from(i).unwrap_or(0).to_be_bytes();
        let mut text = vec![0x80, a, b];
        text.extend_from_slice(args.as_bytes());
        out.push((format!("{name}-args"), text));
        out.push((
            format!("{name}-mut"),
            vec![0xC0, a, b, 5, 0, 1, 6, 0, 2, 15, 0, 0, 1],
        ));
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": name, "arguments": serde_json::from_str::<Value>(args).unwrap_or(json!({}))}});
        let mut session = vec![0x00];
        session.extend_from_slice(format!("{call}\n").as_bytes());
        out.push((format!("{name}-session"), session));
    }
    let mut list = vec![0x00];
    list.extend_from_slice(
        concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":3,"method":"resources/list"}"#,
            "\n",
        )
        .as_bytes(),
    );
    out.push(("session-list".to_owned(), list));
    for m in METHODS {
        let [a, b] = method_number(m);
        let mut params = Map::new();
        for p in m.params {
            let v = param_example(p);
            params.insert(p.name.to_owned(), Value::String(v));
        }
        let mut raw = vec![0x40, a, b];
        raw.extend_from_slice(Value::Object(params).to_string().as_bytes());
        out.push((format!("{}-params", m.name), raw));
    }
    out
}

fn call(h: &Harness, name: &str, args: Value) {
    let Value::Object(args) = args else {
        return;
    };
    let result = h.mcp.call_tool(name, args).expect("a tool of the table");
    assert!(
        result
            .get("content")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty()),
        "{name}: an answer without content: {result}"
    );
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let mut bytes = Bytes::new(data);
        let mode = bytes.u8();
        HARNESS.with(|cell| {
            let mut cell = cell.borrow_mut();
            let h = cell.get_or_insert_with(harness);
            h.runs += 1;
            if h.runs % 500 == 0 {
                h.mcp.reset();
            }
            match mode {
                0x00..0x40 => {
                    let out = h.mcp.session(bytes.rest());
                    for line in out.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
                        assert!(
                            serde_json::from_slice::<Value>(line).is_ok(),
                            "the server wrote a line that is not JSON: {:?}",
                            String::from_utf8_lossy(line)
                        );
                    }
                }
                0x40..0x80 => {
                    let m = method_at(bytes.u16());
                    if let Ok(Value::Object(args)) = serde_json::from_slice::<Value>(bytes.rest())
                        && let Err(message) = voipms_tools::fuzzing::mcp_method_params(m.name, &args)
                    {
                        assert!(
                            !message.trim().is_empty(),
                            "{}: a failure without a message",
                            m.name
                        );
                    }
                }
                0x80..0xC0 => {
                    let i = usize::from(bytes.u16()) % h.examples.len();
                    let name = h.examples[i].0.clone();
                    if let Ok(args) = serde_json::from_slice::<Value>(bytes.rest()) {
                        call(h, &name, args);
                    }
                }
                _ => {
                    let i = usize::from(bytes.u16()) % h.examples.len();
                    let (name, example) = h.examples[i].clone();
                    let mut args: Value = serde_json::from_str(&example).expect("built as JSON");
                    mutate_json(&mut args, &mut bytes, &[]);
                    call(h, &name, args);
                }
            }
        });
    }
);
