//! The spec loader of `codegen` (what `cargo xtask regen` runs) over mutated TOML.
//!
//! Input: a file name (`cdr.toml`), a newline, then that file's text. The loader gets the real
//! `statuses.toml` and `enums.toml` plus this file (which may replace either of them). When the
//! spec loads, the code of the category it declares (or the status table) is emitted too, since
//! a spec the loader accepts must also generate.
//!
//! Errors are expected and fine; panics are not. Every error names its file.
#![no_main]

use std::sync::OnceLock;

use codegen::spec::{self, SourceFile};
use libfuzzer_sys::fuzz_target;
use voipms_fuzz::{spec_dir, write_seeds};

fn spec_files() -> &'static [SourceFile] {
    static FILES: OnceLock<Vec<SourceFile>> = OnceLock::new();
    FILES.get_or_init(|| spec::read_dir(&spec_dir()).expect("api-spec/ is readable"))
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    spec_files()
        .iter()
        .map(|f| {
            let short = f.name.trim_start_matches("api-spec/");
            (
                short.to_owned(),
                format!("{short}\n{}", f.text).into_bytes(),
            )
        })
        .collect()
}

fuzz_target!(
    init: {
        write_seeds(seeds);
    },
    |data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        let (name, body) = text.split_once('\n').unwrap_or(("fuzz.toml", &text));
        let name = format!("api-spec/{}", name.trim());
        let mut files: Vec<SourceFile> = spec_files()
            .iter()
            .filter(|f| f.name.ends_with("/statuses.toml") || f.name.ends_with("/enums.toml"))
            .filter(|f| f.name != name)
            .cloned()
            .collect();
        files.push(SourceFile { name: name.clone(), text: body.to_owned() });
        files.sort_by(|a, b| a.name.cmp(&b.name));
        match spec::parse(&files) {
            Ok(spec) => {
                if name.ends_with("/statuses.toml") {
                    let _ = codegen::emit::statuses(&spec);
                }
                for c in &spec.categories {
                    let _ = codegen::emit::api_category(&spec, c);
                }
            }
            Err(errors) => {
                assert!(!errors.0.is_empty(), "a failed load reports at least one error");
                for e in &errors.0 {
                    assert!(!e.file.is_empty(), "an error without its file: {e:?}");
                }
                let _ = errors.to_string();
            }
        }
    }
);
