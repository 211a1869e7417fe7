//! What docs.rs shows: every feature-gated public item carries a `doc(cfg)` label (built there
//! with `--cfg docsrs` and all features, per the package metadata), and the crate docs say which
//! features each helper needs.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// `(line number, cfg predicate)` of every public item behind `#[cfg(...)]` without the matching
/// `#[cfg_attr(docsrs, doc(cfg(...)))]`.
fn unlabelled(source: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut missing = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(rest) = line.strip_prefix("#[cfg(") {
            // The predicate may span lines (`all(\n feature = …\n))]`).
            let mut pred = rest.to_owned();
            let mut j = i;
            while !pred.trim_end().ends_with(")]") {
                j += 1;
                pred.push_str(lines[j].trim());
            }
            let pred = pred.trim_end().trim_end_matches(")]").replace(' ', "");
            // The attributes that follow, up to the item itself.
            let mut k = j + 1;
            let mut attrs = String::new();
            while lines[k].trim_start().starts_with('#') || !attrs.is_empty() && !is_item(lines[k])
            {
                attrs.push_str(lines[k].trim());
                k += 1;
            }
            let item = lines[k].trim_start();
            if (item.starts_with("pub mod") || item.starts_with("pub use"))
                && !attrs
                    .replace(' ', "")
                    .contains(&format!("doc(cfg({pred}))"))
            {
                missing.push((i + 1, pred));
            }
            i = k;
        }
        i += 1;
    }
    missing
}

fn is_item(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("pub ") || l.starts_with("mod ") || l.starts_with("use ")
}

#[test]
fn feature_gated_items_are_labelled_for_docs_rs() {
    for file in ["src/lib.rs", "src/generated/api/mod.rs"] {
        let missing = unlabelled(&read(file));
        assert!(
            missing.is_empty(),
            "{file}: no doc(cfg) label at {missing:?}"
        );
    }
    let lib = read("src/lib.rs");
    assert!(lib.contains("#![cfg_attr(docsrs, feature(doc_cfg))]"));
    let manifest = read("Cargo.toml");
    let meta = manifest
        .split("[package.metadata.docs.rs]")
        .nth(1)
        .expect("docs.rs metadata");
    assert!(meta.contains("all-features = true"));
    assert!(meta.contains(r#"rustdoc-args = ["--cfg", "docsrs"]"#));
}

#[test]
fn the_crate_docs_say_which_features_each_helper_needs() {
    let lib = read("src/lib.rs");
    for (helper, features) in [
        ("cdr", "`cdr`"),
        ("sms", "`sms`"),
        ("recordings", "`call_recordings`, `cdr`"),
        ("phonebook", "`phonebook`"),
        ("filters", "`callerid_filtering`, `phonebook`"),
        ("account", "`account`, `dids`"),
        (
            "spam",
            "`phonebook`, `callerid_filtering`, `cdr`, `dids`, `account`, `sms`",
        ),
        ("sandbox", "`sandbox`"),
    ] {
        let row = lib
            .lines()
            .find(|l| l.starts_with(&format!("//! | `{helper}`")))
            .unwrap_or_else(|| panic!("no row for {helper}"));
        assert!(row.contains(features), "{helper}: {row}");
        // The gate in the source is the one documented.
        if helper != "sandbox" {
            let gate = lib
                .split(&format!("pub mod {helper};"))
                .next()
                .unwrap()
                .rsplit("#[cfg(")
                .next()
                .unwrap()
                .to_owned();
            for f in features.split(", ") {
                assert!(
                    gate.contains(&format!("feature = \"{}\"", f.trim_matches('`'))),
                    "{helper}: {gate}"
                );
            }
        }
    }
}
