//! `cargo xtask wsdl-diff`: reading a VoIP.ms WSDL, comparing it with the spec, scaffolding.

mod common;

use std::path::{Path, PathBuf};

use codegen::spec::{self, SourceFile};
use common::{TempDir, copy_tree, fixtures};
use xtask::{WsdlDiff, WsdlMethods, diff, parse_wsdl, wsdl_diff};

fn mini_wsdl() -> String {
    std::fs::read_to_string(fixtures().join("mini.wsdl")).expect("fixture WSDL")
}

fn mini_spec() -> spec::Spec {
    spec::load_dir(&fixtures().join("api-spec")).unwrap_or_else(|e| panic!("{e}"))
}

fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect()
}

/// A workspace-shaped temp dir holding the fixture spec.
fn temp_workspace(tag: &str) -> TempDir {
    let root = TempDir::new(tag);
    copy_tree(&fixtures().join("api-spec"), &root.path().join("api-spec"));
    root
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// parse_wsdl

#[test]
fn parse_wsdl_reads_port_type_operations_and_their_input_params() {
    let w = parse_wsdl(&mini_wsdl()).expect("valid WSDL");
    let mut want = WsdlMethods::new();
    want.insert("getBalance".into(), Vec::new());
    want.insert(
        "getThings".into(),
        params(&[
            ("thing", "integer"),
            ("date_from", "date"),
            ("colour", "string"),
        ]),
    );
    want.insert(
        "newThing".into(),
        params(&[
            ("count", "int"),
            ("price", "decimal"),
            ("active", "boolean"),
            ("file", "base64Binary"),
            // No type attribute: read as a string.
            ("label", "string"),
        ]),
    );
    want.insert(
        "setThing".into(),
        params(&[("thing", "integer"), ("name", "string")]),
    );
    // The credentials are dropped, and binding-only operations are not methods.
    assert_eq!(w, want);
}

#[test]
fn parse_wsdl_refuses_bad_xml_and_empty_wsdls() {
    let e = parse_wsdl("<definitions><portType>").expect_err("not XML");
    assert!(e.contains("not a valid WSDL"), "{e}");
    let e = parse_wsdl("<definitions xmlns=\"http://schemas.xmlsoap.org/wsdl/\"><portType name=\"P\"/></definitions>")
        .expect_err("no operations");
    assert!(e.contains("declares no operations"), "{e}");
    // Operations only in the binding do not count.
    let binding_only =
        "<definitions><binding name=\"B\"><operation name=\"x\"/></binding></definitions>";
    assert!(parse_wsdl(binding_only).is_err());
}

#[test]
fn parse_wsdl_keeps_operations_whose_input_is_unknown() {
    let text = r#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:tns="urn:x">
        <portType name="P">
            <operation name="lonely"><input message="tns:missingRequest"/></operation>
            <operation name="bare"/>
        </portType>
    </definitions>"#;
    let w = parse_wsdl(text).expect("operations");
    assert_eq!(w.keys().collect::<Vec<_>>(), ["bare", "lonely"]);
    assert!(w.values().all(Vec::is_empty));
}

// ---------------------------------------------------------------------------------------------
// diff

#[test]
fn diff_reports_missing_methods_and_params_rest_only_and_spec_only() {
    let d = diff(&mini_spec(), &parse_wsdl(&mini_wsdl()).expect("WSDL"));
    assert_eq!(
        d,
        WsdlDiff {
            missing_methods: strings(&["newThing"]),
            missing_params: vec![("getThings".into(), "colour".into())],
            rest_only: strings(&["getSequences"]),
            spec_only: strings(&["legacyThing"]),
            spec_only_params: vec![("setThing".into(), "note".into())],
            common: 3,
        }
    );
    assert!(!d.is_ok());
}

#[test]
fn diff_is_ok_when_the_spec_covers_the_wsdl() {
    let mut w = parse_wsdl(&mini_wsdl()).expect("WSDL");
    w.remove("newThing");
    assert!(
        !diff(&mini_spec(), &w).is_ok(),
        "getThings.colour is still missing"
    );
    w.get_mut("getThings")
        .expect("getThings")
        .retain(|(p, _)| p != "colour");
    let d = diff(&mini_spec(), &w);
    assert!(d.is_ok(), "{d:?}");
    assert!(d.missing_methods.is_empty() && d.missing_params.is_empty());
    // Listed, but not failures.
    assert_eq!(d.rest_only, ["getSequences"]);
    assert_eq!(d.spec_only, ["legacyThing"]);
    assert_eq!(d.common, 3);
    // A missing method alone is a failure.
    w.insert("another".into(), Vec::new());
    let d = diff(&mini_spec(), &w);
    assert!(!d.is_ok());
    assert_eq!(d.missing_methods, ["another"]);
}

// ---------------------------------------------------------------------------------------------
// wsdl_diff

#[test]
fn wsdl_diff_scaffolds_skeletons_for_what_is_missing() {
    let root = temp_workspace("scaffold");
    let wsdl = fixtures().join("mini.wsdl");
    let err = wsdl_diff(root.path(), &wsdl, true).expect_err("the WSDL has more");
    assert!(
        err.contains("the WSDL has 1 method(s) and 1 parameter(s) the spec lacks"),
        "{err}"
    );
    assert!(
        !err.contains("--scaffold"),
        "no hint when scaffolding: {err}"
    );

    let dir = root.path().join("api-spec/scaffold");
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .expect("scaffold dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["getThings.params.toml", "newThing.toml"]);

    let method = std::fs::read_to_string(dir.join("newThing.toml")).expect("skeleton");
    assert!(
        method.contains("[[method]]\nname = \"newThing\"\n"),
        "{method}"
    );
    for (name, ty, xsd) in [
        ("count", "integer", "int"),
        ("price", "decimal", "decimal"),
        ("active", "flag", "boolean"),
        ("file", "base64", "base64Binary"),
        ("label", "string", "string"),
    ] {
        let block =
            format!("[[method.param]]\nname = \"{name}\"\ntype = \"{ty}\"  # WSDL says xsd:{xsd};");
        assert!(method.contains(&block), "missing {block:?} in\n{method}");
    }
    assert!(!method.contains("api_username") && !method.contains("api_password"));
    // Params appear in WSDL order.
    let pos: Vec<usize> = [
        "\"count\"",
        "\"price\"",
        "\"active\"",
        "\"file\"",
        "\"label\"",
    ]
    .iter()
    .map(|p| method.find(p).expect("param"))
    .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]));

    let extra = std::fs::read_to_string(dir.join("getThings.params.toml")).expect("params");
    assert!(extra.contains("`getThings`"), "{extra}");
    assert!(
        extra.contains("[[method.param]]\nname = \"colour\"\ntype = \"string\""),
        "{extra}"
    );
    assert!(!extra.contains("\"thing\"") && !extra.contains("date_from"));

    // The spec directory still loads: scaffolds sit in a subdirectory the loader skips.
    spec::load_dir(&root.path().join("api-spec")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn scaffold_skeletons_are_spec_toml_that_only_lack_our_words() {
    let root = temp_workspace("skeleton");
    let _ = wsdl_diff(root.path(), &fixtures().join("mini.wsdl"), true);
    let dir = root.path().join("api-spec/scaffold");
    let statuses = SourceFile {
        name: "api-spec/statuses.toml".into(),
        text: std::fs::read_to_string(fixtures().join("api-spec/statuses.toml")).expect("statuses"),
    };
    let head = "category = \"demo\"\ntitle = \"Demo\"\nabout = \"Scaffolded.\"\n\n";

    // The method skeleton, moved into a category file, parses; what is left is to write words.
    let skeleton = std::fs::read_to_string(dir.join("newThing.toml")).expect("skeleton");
    let errs = spec::parse(&[
        statuses.clone(),
        SourceFile {
            name: "api-spec/demo.toml".into(),
            text: format!("{head}{skeleton}"),
        },
    ])
    .expect_err("words are missing")
    .0;
    let mut what: Vec<(Option<String>, String)> = errs
        .iter()
        .map(|e| {
            (
                e.item.clone(),
                e.message.split(':').next().unwrap_or("").to_owned(),
            )
        })
        .collect();
    what.sort();
    let mut want: Vec<(Option<String>, String)> = vec![(None, "missing summary".into())];
    for p in ["active", "count", "file", "label", "price"] {
        want.push((Some(format!("param `{p}`")), "missing description".into()));
    }
    want.sort();
    assert_eq!(what, want, "{errs:#?}");
    assert!(errs.iter().all(|e| e.method.as_deref() == Some("newThing")));

    // The params skeleton, appended to the method, parses the same way.
    let params = std::fs::read_to_string(dir.join("getThings.params.toml")).expect("params");
    let method = "[[method]]\nname = \"getThings\"\nsummary = \"List.\"\neffect = \"read\"\nexample = '''\n{\"status\": \"success\"}\n'''\n";
    let errs = spec::parse(&[
        statuses,
        SourceFile {
            name: "api-spec/demo.toml".into(),
            text: format!("{head}{method}{params}"),
        },
    ])
    .expect_err("description is missing")
    .0;
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].item.as_deref(), Some("param `colour`"));
    assert!(errs[0].message.starts_with("missing description"));
}

#[test]
fn wsdl_diff_without_scaffold_writes_nothing_and_hints() {
    let root = temp_workspace("noscaffold");
    let err = wsdl_diff(root.path(), &fixtures().join("mini.wsdl"), false).expect_err("fails");
    assert!(err.contains("1 method(s) and 1 parameter(s)"), "{err}");
    assert!(
        err.contains("run with --scaffold to write skeletons to api-spec/scaffold/"),
        "{err}"
    );
    assert!(!root.path().join("api-spec/scaffold").exists());
}

#[test]
fn wsdl_diff_passes_when_the_spec_covers_the_wsdl() {
    let root = temp_workspace("covered");
    let covered = mini_wsdl()
        .replace("<xsd:element name=\"colour\" type=\"xsd:string\"/>", "")
        .replace(
            "<operation name=\"newThing\">\n            <input message=\"tns:newThingRequest\"/>\n            <output message=\"tns:arrayResponse\"/>\n        </operation>",
            "",
        );
    assert!(!covered.contains("colour") && !covered.contains("operation name=\"newThing\""));
    let wsdl = root.path().join("covered.wsdl");
    std::fs::write(&wsdl, covered).expect("write WSDL");
    wsdl_diff(root.path(), &wsdl, true).expect("the spec covers the WSDL");
    assert!(
        !root.path().join("api-spec/scaffold").exists(),
        "nothing to scaffold"
    );
}

#[test]
fn wsdl_diff_reports_unreadable_inputs() {
    let root = temp_workspace("inputs");
    let err = wsdl_diff(root.path(), &root.path().join("nope.wsdl"), false).expect_err("no file");
    assert!(
        err.contains("cannot read") && err.contains("nope.wsdl"),
        "{err}"
    );

    let bad = root.path().join("bad.wsdl");
    std::fs::write(&bad, "not xml at all <").expect("write");
    let err = wsdl_diff(root.path(), &bad, false).expect_err("bad WSDL");
    assert!(err.contains("not a valid WSDL"), "{err}");

    std::fs::write(root.path().join("api-spec/demo.toml"), "category = ").expect("break spec");
    let err = wsdl_diff(root.path(), &fixtures().join("mini.wsdl"), false).expect_err("bad spec");
    assert!(
        err.contains("api-spec has 1 problem(s)") && err.contains("api-spec/demo.toml"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// The real WSDL against the real spec

fn real_wsdl_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/voipms/server.wsdl"
    ))
}

#[test]
fn the_real_wsdl_matches_the_real_spec() {
    let path = real_wsdl_path();
    if !path.exists() {
        println!(
            "note: {} is absent; skipping the real WSDL check",
            path.display()
        );
        return;
    }
    let w = parse_wsdl(&std::fs::read_to_string(&path).expect("read WSDL")).expect("parse WSDL");
    assert_eq!(w.len(), 222, "operations in server.wsdl");
    assert!(
        w.values()
            .flatten()
            .all(|(p, _)| p != "api_username" && p != "api_password"),
        "credentials are not params"
    );
    // Spot checks of well-known methods.
    let info: Vec<&str> = w["getDIDsInfo"].iter().map(|(p, _)| p.as_str()).collect();
    assert!(info.contains(&"did"), "{info:?}");
    assert!(w.contains_key("getDIDvPRI") && w.contains_key("sendSMS"));
    assert_eq!(
        w["addCharge"],
        params(&[
            ("client", "integer"),
            ("charge", "decimal"),
            ("description", "string"),
            ("test", "boolean"),
        ])
    );

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = spec::load_dir(&root.join("api-spec")).unwrap_or_else(|e| panic!("{e}"));
    let d = diff(&spec, &w);
    assert!(
        d.is_ok(),
        "missing methods {:?}, missing params {:?}",
        d.missing_methods,
        d.missing_params
    );
    assert_eq!(
        d.rest_only,
        ["delSequences", "getInvoice", "getSequences", "setSequences"]
    );
    assert!(d.spec_only.is_empty(), "{:?}", d.spec_only);
    assert_eq!(d.common, 222);
    assert_eq!(spec.methods().len(), d.common + d.rest_only.len());
}
