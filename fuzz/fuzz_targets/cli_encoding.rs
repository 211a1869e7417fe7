//! The command line's parameters: clap's parsing of a method command (`--flag VALUE`,
//! `--flag=VALUE`, bare `--flag` for yes/no kinds, aliases, global options), the free
//! `key=value` and positional shortcuts, and the validation and encoding of each value by its
//! kind (`voipms-tools` `params` + `core::encode`).
//!
//! Input: two bytes pick the method; the rest is its arguments, separated by NUL bytes (which a
//! real argument cannot contain). For a method with a base64 parameter `@` becomes `#`, so that
//! no input reads a file or stdin (`@FILE`, `@-`).
//!
//! Properties: never a panic; a failure says something; an accepted call sends only the method's
//! own parameters, each once, in catalog order; and every value it sends is already in wire form
//! (encoding it again gives it back unchanged).
#![no_main]

use libfuzzer_sys::fuzz_target;
use voipms_fuzz::{Bytes, method_at, method_number, param_example, write_seeds};
use voipms_sdk::catalog::{METHODS, ParamKind};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for m in METHODS {
        let [a, b] = method_number(m);
        let mut flags: Vec<String> = Vec::new();
        let mut pairs: Vec<String> = Vec::new();
        for p in m.params {
            let value = param_example(p);
            flags.push(format!("--{}", p.name));
            flags.push(value.clone());
            pairs.push(format!("{}={value}", p.name));
        }
        for (form, args) in [("flags", flags), ("pairs", pairs)] {
            let mut raw = vec![a, b];
            raw.extend_from_slice(args.join("\0").as_bytes());
            out.push((format!("{}-{form}", m.name), raw));
        }
    }
    out
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let mut bytes = Bytes::new(data);
        let m = method_at(bytes.u16());
        let reads_files = m.params.iter().any(|p| p.kind == ParamKind::Base64);
        let rest = bytes.rest();
        let args: Vec<String> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split(|b| *b == 0)
                .take(64)
                .map(|a| {
                    let s = String::from_utf8_lossy(a).into_owned();
                    if reads_files { s.replace('@', "#") } else { s }
                })
                .collect()
        };
        match voipms_tools::fuzzing::cli_params(m, &args) {
            Ok(sent) => {
                let mut last = None;
                for (name, value) in &sent {
                    let i = m
                        .params
                        .iter()
                        .position(|p| p.name == name)
                        .unwrap_or_else(|| panic!("{}: sends `{name}`, not one of its parameters", m.name));
                    assert!(last < Some(i), "{}: `{name}` sent twice or out of catalog order", m.name);
                    last = Some(i);
                    let p = &m.params[i];
                    if value.is_empty() || matches!(p.kind, ParamKind::List { .. }) {
                        continue;
                    }
                    let again = voipms_tools::fuzzing::encode_value(m, name, value)
                        .expect("the parameter exists");
                    assert_eq!(
                        again.as_deref(),
                        Ok(value.as_str()),
                        "{}: `{name}` ({}) sent as {value:?} does not encode to itself",
                        m.name,
                        p.kind.as_str()
                    );
                }
            }
            Err(message) => assert!(!message.trim().is_empty(), "{}: a failure without a message", m.name),
        }
    }
);
