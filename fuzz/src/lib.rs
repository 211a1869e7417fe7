//! What the fuzz targets share: the seed corpora written from the spec's examples, a
//! structure-aware JSON mutator, and small readers of the fuzzer's bytes.

use std::path::{Path, PathBuf};

use serde_json::{Map, Number, Value};
use voipms_sdk::catalog::{METHODS, Method, Param};

/// The repository's `api-spec/` directory.
pub fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-spec")
}

/// Writes `seeds` (name, bytes) as `seed-NAME` files into the corpus directory libFuzzer was
/// given (the first argument that is a directory), leaving files already there alone. Nothing is
/// written when the target runs on single inputs (reproducing a crash) or without a corpus.
pub fn write_seeds(seeds: impl FnOnce() -> Vec<(String, Vec<u8>)>) {
    let Some(dir) = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .find(|p| p.is_dir())
    else {
        return;
    };
    for (name, bytes) in seeds() {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("seed-{safe}"));
        if !path.exists() {
            // A seed that cannot be written only makes the run start from less.
            let _ = std::fs::write(&path, bytes);
        }
    }
}

/// Reads the fuzzer's bytes front to back; an exhausted reader gives zeros.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_be_bytes(b)
    }

    /// Up to `max` bytes, as text (invalid UTF-8 replaced).
    pub fn text(&mut self, max: usize) -> String {
        let n = usize::from(self.u8()).min(max).min(self.data.len());
        let (s, rest) = self.data.split_at(n);
        self.data = rest;
        String::from_utf8_lossy(s).into_owned()
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// A catalog method by number (taken modulo the catalog's size, so every number names one).
pub fn method_at(n: u16) -> &'static Method {
    &METHODS[usize::from(n) % METHODS.len()]
}

/// A value of parameter `p` for seeds: its example, else its first allowed value, else `1`.
pub fn param_example(p: &Param) -> String {
    p.example
        .map(str::to_owned)
        .or_else(|| p.values.first().map(|v| v.value.to_owned()))
        .unwrap_or_else(|| "1".to_owned())
}

/// The number [`method_at`] maps to `m`, as two bytes for seeds.
pub fn method_number(m: &Method) -> [u8; 2] {
    let i = METHODS.iter().position(|x| x.name == m.name).unwrap_or(0);
    u16::try_from(i).unwrap_or(0).to_be_bytes()
}

/// Values VoIP.ms-shaped decoders find hard: empty, blank, odd numbers, impossible dates, flag
/// spellings, JSON-looking text, non-ASCII, control characters.
pub const ODD_STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "-1",
    "1.5",
    "-0",
    "1e400",
    "-1e400",
    "NaN",
    "inf",
    "99999999999999999999999999",
    "-9223372036854775809",
    "0.000000000000000000000000000001",
    "12.3456789012345678901234567890",
    "0000-00-00",
    "0000-00-00 00:00:00",
    "2026-02-30",
    "2026-06-15 25:61:61",
    "9999-12-31 23:59:59",
    "-3d",
    "yes",
    "no",
    "true",
    "null",
    "[]",
    "{}",
    "a,b;c",
    "sip:1@x",
    "ä€𝄞",
    "\u{0}\u{1b}[31m",
    "fuzz_unknown_key",
    "status",
    "success",
];

/// The key whose presence at the top of a body a decode must report as unread.
pub const UNKNOWN_KEY: &str = "fuzz_unknown_key";

/// Nodes in `v`, itself included.
pub fn node_count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(node_count).sum(),
        Value::Object(o) => o.values().map(node_count).sum(),
        _ => 0,
    }
}

/// The node at pre-order position `i` (modulo the count).
fn node_mut(v: &mut Value, i: usize) -> &mut Value {
    let mut k = i % node_count(v);
    let path = path_to(v, &mut k);
    let mut cur = v;
    for step in path {
        cur = match cur {
            Value::Array(a) => &mut a[step],
            Value::Object(o) => o.values_mut().nth(step).expect("path from the same tree"),
            _ => unreachable!("a path only descends into containers"),
        };
    }
    cur
}

/// The child indices leading to pre-order node `k`.
fn path_to(v: &Value, k: &mut usize) -> Vec<usize> {
    fn go(v: &Value, k: &mut usize, path: &mut Vec<usize>) -> bool {
        if *k == 0 {
            return true;
        }
        *k -= 1;
        let children: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Object(o) => o.values().collect(),
            _ => Vec::new(),
        };
        for (i, c) in children.into_iter().enumerate() {
            path.push(i);
            if go(c, k, path) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = Vec::new();
    go(v, k, &mut path);
    path
}

/// Largest tree the mutator grows (nodes); growing operations stop there.
const MAX_NODES: usize = 4000;

/// Mutates `v` as the bytes say: up to 24 operations, each picking a node and changing its value,
/// type, keys or nesting. `donors` are other documents whose subtrees may be grafted in.
pub fn mutate_json(v: &mut Value, bytes: &mut Bytes<'_>, donors: &[&str]) {
    for _ in 0..24 {
        if bytes.is_empty() {
            break;
        }
        let op = bytes.u8();
        let at = usize::from(bytes.u16());
        let big = node_count(v) >= MAX_NODES;
        if op % 20 == 16 {
            // Graft a subtree of this document elsewhere in it.
            let from = usize::from(bytes.u16());
            if !big {
                let copy = node_mut(v, from).clone();
                *node_mut(v, at) = copy;
            }
            continue;
        }
        let node = node_mut(v, at);
        match op % 20 {
            0 => *node = Value::Null,
            1 => *node = Value::Bool(bytes.u8() & 1 == 1),
            2 => *node = Value::from(bytes.u64() as i64),
            3 => {
                if let Some(n) = Number::from_f64(f64::from_bits(bytes.u64())) {
                    *node = Value::Number(n);
                }
            }
            4 => *node = Value::String(bytes.text(64)),
            5 => {
                let s = ODD_STRINGS[usize::from(bytes.u8()) % ODD_STRINGS.len()];
                *node = Value::String(s.to_owned());
            }
            // Scalars change type the way VoIP.ms mixes them: "1" ↔ 1, true ↔ "1".
            6 => {
                *node = match node.take() {
                    Value::String(s) => s
                        .trim()
                        .parse::<i64>()
                        .map(Value::from)
                        .or_else(|_| s.trim().parse::<f64>().map(Value::from))
                        .unwrap_or(Value::String(s)),
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::Bool(b) => Value::String(if b { "1" } else { "0" }.to_owned()),
                    other => other,
                }
            }
            7 if !big => *node = Value::Array(vec![node.take()]),
            8 if !big => {
                let mut o = Map::new();
                o.insert(bytes.text(16), node.take());
                *node = Value::Object(o);
            }
            9 => *node = Value::Array(Vec::new()),
            10 => *node = Value::Object(Map::new()),
            11 => {
                if let Value::Object(o) = node
                    && !o.is_empty()
                {
                    let i = usize::from(bytes.u8()) % o.len();
                    let key = o.keys().nth(i).cloned().unwrap_or_default();
                    o.remove(&key);
                }
            }
            12 => {
                if let Value::Object(o) = node
                    && !o.is_empty()
                {
                    let i = usize::from(bytes.u8()) % o.len();
                    let key = o.keys().nth(i).cloned().unwrap_or_default();
                    let new = if bytes.u8() & 1 == 0 {
                        ODD_STRINGS[usize::from(bytes.u8()) % ODD_STRINGS.len()].to_owned()
                    } else {
                        bytes.text(16)
                    };
                    if let Some(val) = o.remove(&key) {
                        o.insert(new, val);
                    }
                }
            }
            13 if !big => {
                if let Value::Array(a) = node
                    && let Some(x) = a.get(usize::from(bytes.u8()) % a.len().max(1)).cloned()
                {
                    a.push(x);
                }
            }
            14 => {
                if let Value::Array(a) = node
                    && !a.is_empty()
                {
                    let i = usize::from(bytes.u8()) % a.len();
                    a.remove(i);
                }
            }
            15 if !big => {
                if let Value::Object(o) = node {
                    let key = if bytes.u8() & 1 == 0 {
                        UNKNOWN_KEY.to_owned()
                    } else {
                        bytes.text(16)
                    };
                    o.insert(key, Value::String(bytes.text(16)));
                }
            }
            // Graft a subtree of another document (another method's example).
            17 if !big && !donors.is_empty() => {
                let d = donors[usize::from(bytes.u8()) % donors.len()];
                if let Ok(mut donor) = serde_json::from_str::<Value>(d) {
                    let from = usize::from(bytes.u16());
                    *node = node_mut(&mut donor, from).take();
                }
            }
            // Unwrap a one-item container, or take an array's first item.
            18 => {
                let inner = match node {
                    Value::Array(a) if !a.is_empty() => Some(a.swap_remove(0)),
                    Value::Object(o) => {
                        let k = o.keys().next().cloned();
                        k.and_then(|k| o.remove(&k))
                    }
                    _ => None,
                };
                if let Some(x) = inner {
                    *node = x;
                }
            }
            // Whitespace around a string, as a sloppy server might send.
            _ => {
                if let Value::String(s) = node {
                    *s = format!(" {s} ");
                }
            }
        }
    }
}
