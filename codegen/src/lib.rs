//! Reads `api-spec/`, validates it and emits the generated Rust of `voipms-sdk`.
//!
//! Used by `cargo xtask regen`; not a build dependency of anything users compile.

pub mod emit;
pub mod names;
pub mod spec;

use std::path::{Path, PathBuf};

pub use spec::{Spec, SpecError, SpecErrors};

/// One generated file: path relative to the workspace root, and its full contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub contents: String,
}

/// Where generated SDK sources go, relative to the workspace root.
pub const GENERATED_DIR: &str = "voipms-sdk/src/generated";

/// Markers around the generated category features in `voipms-sdk/Cargo.toml`.
pub const FEATURES_BEGIN: &str = "# @generated features: begin (cargo xtask regen)";
/// End marker of the generated features.
pub const FEATURES_END: &str = "# @generated features: end";

/// Every generated file for a loaded spec.
pub fn generate(spec: &Spec) -> Vec<Output> {
    let dir = Path::new(GENERATED_DIR);
    let mut out = vec![
        Output {
            path: dir.join("catalog.rs"),
            contents: emit::catalog(spec),
        },
        Output {
            path: dir.join("statuses.rs"),
            contents: emit::statuses(spec),
        },
        Output {
            path: dir.join("api/mod.rs"),
            contents: emit::api_mod(spec),
        },
        Output {
            path: dir.join("api/enums.rs"),
            contents: emit::enums(spec),
        },
    ];
    out.push(Output {
        path: PathBuf::from("examples/examples/every_method/calls.rs"),
        contents: emit::every_method(spec),
    });
    for c in &spec.categories {
        out.push(Output {
            path: dir.join("api").join(format!("{}.rs", c.slug)),
            contents: emit::api_category(spec, c),
        });
    }
    out
}

/// The `[features]` block of `voipms-sdk/Cargo.toml`, one feature per category and `full`.
pub fn features_block(spec: &Spec) -> String {
    let mut s = String::new();
    s.push_str(FEATURES_BEGIN);
    s.push('\n');
    s.push_str(
        "# Typed requests and responses, one feature per api-spec category; `full` has them all.\n",
    );
    s.push_str("full = [\n");
    for c in &spec.categories {
        s.push_str(&format!("    \"{}\",\n", c.slug));
    }
    s.push_str("]\n");
    for c in &spec.categories {
        s.push_str(&format!("{} = []\n", c.slug));
    }
    s.push_str(FEATURES_END);
    s
}

/// Replaces the generated features block in a Cargo.toml text; `None` if the markers are missing.
pub fn splice_features(cargo_toml: &str, block: &str) -> Option<String> {
    let start = cargo_toml.find(FEATURES_BEGIN)?;
    let end = cargo_toml[start..].find(FEATURES_END)? + start + FEATURES_END.len();
    Some(format!(
        "{}{}{}",
        &cargo_toml[..start],
        block,
        &cargo_toml[end..]
    ))
}
