//! Validation of the API description: every problem is reported with its file, method and item,
//! and a message that says what to change.

use std::path::Path;

use codegen::spec::{self, Effect, FieldType, Item, ParamKind, Scalar, SourceFile, SpecError};

const STATUSES: &str = r#"
[[status]]
code = "success"
class = "success"
retryable = false
meaning = "The call worked."

[[status]]
code = "no_thing"
class = "empty"
retryable = false
meaning = "There is nothing to list."
hint = "Create a thing first."
"#;

const DEMO: &str = "api-spec/demo.toml";
const STATUS_FILE: &str = "api-spec/statuses.toml";

fn src(name: &str, text: &str) -> SourceFile {
    SourceFile {
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

/// A category file `demo` with the given method blocks.
fn demo(methods: &str) -> String {
    format!("category = \"demo\"\ntitle = \"Demo\"\nabout = \"Things for tests.\"\n\n{methods}")
}

/// A status-only method with a valid head; `body` adds params, cli or response tables.
fn method(name: &str, body: &str) -> String {
    format!(
        "[[method]]\nname = \"{name}\"\nsummary = \"Do it.\"\neffect = \"write\"\nexample = '''\n{{\"status\": \"success\"}}\n'''\n{body}\n"
    )
}

/// A method whose example is `example` (JSON) and whose response is `response` (TOML tables).
fn with_example(name: &str, example: &str, response: &str) -> String {
    format!(
        "[[method]]\nname = \"{name}\"\nsummary = \"Get it.\"\neffect = \"read\"\nexample = '''\n{example}\n'''\n{response}\n"
    )
}

fn param(name: &str, extra: &str) -> String {
    let ty = if extra.contains("type = ") {
        ""
    } else {
        "type = \"string\"\n"
    };
    format!("[[method.param]]\nname = \"{name}\"\n{ty}description = \"Some text.\"\n{extra}\n")
}

fn parse_demo(text: &str) -> Result<spec::Spec, spec::SpecErrors> {
    spec::parse(&[src(STATUS_FILE, STATUSES), src(DEMO, text)])
}

#[track_caller]
fn errors_of(files: &[SourceFile]) -> Vec<SpecError> {
    match spec::parse(files) {
        Ok(_) => panic!("the spec should not validate"),
        Err(e) => e.0,
    }
}

#[track_caller]
fn demo_errors(text: &str) -> Vec<SpecError> {
    errors_of(&[src(STATUS_FILE, STATUSES), src(DEMO, text)])
}

/// The only error of a category file, checked for place and wording.
#[track_caller]
fn only_error(text: &str, method: Option<&str>, item: Option<&str>, needles: &[&str]) -> SpecError {
    let errs = demo_errors(text);
    assert_eq!(errs.len(), 1, "expected exactly one error, got {errs:#?}");
    let e = errs.into_iter().next().expect("one error");
    check(&e, DEMO, method, item, needles);
    e
}

#[track_caller]
fn check(e: &SpecError, file: &str, method: Option<&str>, item: Option<&str>, needles: &[&str]) {
    assert_eq!(e.file, file, "file of {e:?}");
    assert_eq!(e.method.as_deref(), method, "method of {e:?}");
    assert_eq!(e.item.as_deref(), item, "item of {e:?}");
    for n in needles {
        assert!(
            e.message.contains(n),
            "message {:?} should contain {n:?}",
            e.message
        );
    }
}

/// The error whose message contains `needle` (exactly one such).
#[track_caller]
fn the_error<'a>(errs: &'a [SpecError], needle: &str) -> &'a SpecError {
    let found: Vec<&SpecError> = errs.iter().filter(|e| e.message.contains(needle)).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one error containing {needle:?}, got {errs:#?}"
    );
    found[0]
}

// ---------------------------------------------------------------------------------------------
// The valid fixtures

#[test]
fn helpers_build_a_valid_spec() {
    // Guards every negative test below: the base method and param are valid on their own.
    let text = demo(&(method("setThing", &param("thing", "")) + &method("delThing", "")));
    let spec = parse_demo(&text).expect("valid");
    assert_eq!(spec.categories.len(), 1);
    let m = spec.methods();
    assert_eq!(
        m.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["delThing", "setThing"]
    );
    assert_eq!(m[1].params[0].kind, ParamKind::String);
}

#[test]
fn the_fixture_spec_parses_into_the_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    let spec = spec::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        spec.categories
            .iter()
            .map(|c| (c.slug.as_str(), c.file.as_str()))
            .collect::<Vec<_>>(),
        [
            ("demo", "api-spec/demo.toml"),
            ("other", "api-spec/other.toml")
        ]
    );
    assert_eq!(
        spec.statuses
            .iter()
            .map(|s| s.code.as_str())
            .collect::<Vec<_>>(),
        ["api_limit_exceeded", "invalid_thing", "no_thing", "success"],
        "statuses are sorted by code"
    );
    let limit = &spec.statuses[0];
    assert_eq!(
        (limit.class.as_str(), limit.retryable, limit.hint.as_deref()),
        ("rate_limit", true, None)
    );
    assert_eq!(
        spec.statuses[1].hint.as_deref(),
        Some("Pick an id from getThings.")
    );
    let names: Vec<&str> = spec.methods().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["delThing", "getThings", "orderThing", "setThing"]);

    let get = spec.methods()[1];
    assert_eq!(get.rust, "get_things");
    assert_eq!(get.pascal, "GetThings");
    assert_eq!(get.category, "demo");
    assert_eq!(get.effect, Effect::Read);
    assert_eq!(get.empty_status, ["no_thing"]);
    assert_eq!(get.response_type, "GetThingsResponse");
    assert_eq!(get.cli_aliases, ["things"]);
    assert_eq!(
        get.positional,
        [
            ("thing".to_owned(), "digits".to_owned()),
            ("name".to_owned(), "any".to_owned())
        ]
    );
    assert!(
        !get.example.contains('\n') && get.example.starts_with('{'),
        "the example is stored minified: {}",
        get.example
    );
    let kind = get.param("type").expect("type param");
    assert_eq!(kind.rust, "kind");
    assert_eq!(kind.enum_type.as_deref(), Some("GetThingsKind"));
    let v: Vec<(&str, &str, &str)> = kind
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.name.as_str(), v.doc.as_str()))
        .collect();
    assert_eq!(
        v,
        [
            ("1", "Received", "Things that came in."),
            ("sent", "Sent", ""),
            ("all-of-them", "AllOfThem", "")
        ]
    );
    assert_eq!(get.param("dateTo").expect("dateTo").rust, "date_to");
    assert_eq!(
        get.param("tags").expect("tags").separator.as_deref(),
        Some(",")
    );
    assert!(get.param("date_from").expect("date_from").required);
    assert!(!get.param("thing").expect("thing").required);

    let things = get
        .response
        .iter()
        .find(|f| f.name == "things")
        .expect("things");
    assert_eq!(things.ty, FieldType::List(Item::Object));
    assert_eq!(things.struct_name.as_deref(), Some("Thing"));
    assert_eq!(things.aliases, ["thing_list"]);
    let count = things
        .fields
        .iter()
        .find(|f| f.name == "count")
        .expect("count");
    assert_eq!(count.ty, FieldType::Scalar(Scalar::Int));
    assert_eq!(count.none_if, ["-1", ""]);
    let owner = get
        .response
        .iter()
        .find(|f| f.name == "owner")
        .expect("owner");
    assert_eq!(owner.struct_name.as_deref(), Some("GetThingsOwner"));
    let urls = get
        .response
        .iter()
        .find(|f| f.name == "urls")
        .expect("urls");
    assert_eq!(urls.ty, FieldType::Map(Item::Scalar(Scalar::Text)));

    let order = spec.methods()[2];
    assert!(order.rest_only);
    assert_eq!(order.effect, Effect::Billable);
    assert!(order.response.is_empty());
    assert_eq!(spec.methods()[0].effect, Effect::Destructive);
}

#[test]
fn the_real_spec_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-spec");
    let spec = spec::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.methods().len(), 226);
}

// ---------------------------------------------------------------------------------------------
// Files

#[test]
fn toml_syntax_error_names_the_file_and_line() {
    let text = demo(&method("setThing", "")) + "\n[[method]\nname = \"broken\"\n";
    let e = only_error(&text, None, None, &["not valid", "line 14"]);
    assert!(e.to_string().starts_with("api-spec/demo.toml: not valid"));
}

#[test]
fn unknown_key_is_refused() {
    let text = demo(&method("setThing", "colour = \"blue\""));
    only_error(&text, None, None, &["not valid", "unknown field `colour`"]);

    let text = "category = \"demo\"\ntitle = \"Demo\"\nabout = \"A.\"\nowner = \"me\"\n";
    only_error(text, None, None, &["unknown field `owner`"]);

    let text = demo(&method("setThing", &param("thing", "optional = true")));
    only_error(&text, None, None, &["unknown field `optional`"]);
}

#[test]
fn missing_statuses_file_is_reported() {
    let errs = errors_of(&[src(DEMO, &demo(&method("setThing", "")))]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(&errs[0], STATUS_FILE, None, None, &["missing", "required"]);
}

#[test]
fn category_must_equal_the_file_name() {
    let text = "category = \"other\"\ntitle = \"Demo\"\nabout = \"A.\"\n";
    only_error(
        text,
        None,
        None,
        &["category `other` must equal the file name `demo`"],
    );
}

#[test]
fn category_must_be_a_lowercase_slug() {
    let errs = errors_of(&[
        src(STATUS_FILE, STATUSES),
        src(
            "api-spec/Demo.toml",
            "category = \"Demo\"\ntitle = \"Demo\"\nabout = \"A.\"\n",
        ),
    ]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(
        &errs[0],
        "api-spec/Demo.toml",
        None,
        None,
        &["lowercase slug"],
    );
}

#[test]
fn title_and_about_are_required_and_not_blank() {
    let blank_title = "category = \"demo\"\ntitle = \" \"\nabout = \"A.\"\n";
    only_error(
        blank_title,
        None,
        None,
        &["missing title or about", "describe the category"],
    );
    let blank_about = "category = \"demo\"\ntitle = \"Demo\"\nabout = \"\"\n";
    only_error(blank_about, None, None, &["missing title or about"]);
    let no_about = "category = \"demo\"\ntitle = \"Demo\"\n";
    only_error(no_about, None, None, &["missing field `about`"]);
    let no_title = "category = \"demo\"\nabout = \"A.\"\n";
    only_error(no_title, None, None, &["missing field `title`"]);
}

// ---------------------------------------------------------------------------------------------
// Methods

#[test]
fn empty_summary_is_refused() {
    let text = demo(&method("setThing", "").replace("summary = \"Do it.\"", "summary = \"  \""));
    only_error(
        &text,
        Some("setThing"),
        None,
        &["missing summary", "write one line"],
    );
}

#[test]
fn unknown_effect_lists_the_effects() {
    let text = demo(&method("setThing", "").replace("effect = \"write\"", "effect = \"maybe\""));
    only_error(
        &text,
        Some("setThing"),
        None,
        &[
            "unknown effect `maybe`",
            "use read, write, destructive or billable",
        ],
    );
}

#[test]
fn every_effect_is_accepted() {
    for (word, effect) in [
        ("read", Effect::Read),
        ("write", Effect::Write),
        ("destructive", Effect::Destructive),
        ("billable", Effect::Billable),
    ] {
        let text = demo(&method("setThing", "").replace("\"write\"", &format!("\"{word}\"")));
        let spec = parse_demo(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.methods()[0].effect, effect);
    }
}

#[test]
fn empty_status_must_be_a_known_status() {
    let ok = demo(&method("getThings", "").replace(
        "effect = \"write\"",
        "effect = \"read\"\nempty_status = [\"no_thing\"]",
    ));
    parse_demo(&ok).unwrap_or_else(|e| panic!("{e}"));
    let bad = ok.replace("[\"no_thing\"]", "[\"no_such_status\"]");
    only_error(
        &bad,
        Some("getThings"),
        None,
        &["empty_status `no_such_status` is not in statuses.toml"],
    );
}

#[test]
fn wire_name_must_be_letters_and_digits() {
    let text = demo(&method("get-things", ""));
    let errs = demo_errors(&text);
    let e = the_error(&errs, "ASCII letters and digits");
    check(e, DEMO, Some("get-things"), None, &[]);
}

#[test]
fn method_rust_override_must_be_snake_case() {
    let text = demo(&method("setThing", "").replace(
        "name = \"setThing\"",
        "name = \"setThing\"\nrust = \"SetThing\"",
    ));
    only_error(
        &text,
        Some("setThing"),
        None,
        &["Rust name `SetThing` is not a snake_case identifier"],
    );
}

// ---------------------------------------------------------------------------------------------
// Parameters

#[test]
fn duplicate_param_is_refused() {
    let text = demo(&method(
        "setThing",
        &(param("thing", "") + &param("thing", "")),
    ));
    let errs = demo_errors(&text);
    let e = the_error(&errs, "duplicate parameter name");
    check(e, DEMO, Some("setThing"), Some("param `thing`"), &[]);
    // The Rust names clash too, and that is said once more, on the same param.
    let e = the_error(&errs, "clashes with another parameter");
    check(e, DEMO, Some("setThing"), Some("param `thing`"), &[]);
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn keyword_param_needs_rust() {
    let text = demo(&method("setThing", &param("type", "")));
    only_error(
        &text,
        Some("setThing"),
        Some("param `type`"),
        &["`type` is a Rust keyword", "add rust = ", "`kind`"],
    );
    let text = demo(&method("setThing", &param("loop", "")));
    only_error(
        &text,
        Some("setThing"),
        Some("param `loop`"),
        &["`loop` is a Rust keyword"],
    );
    // With `rust` it is fine, and the Rust name is used.
    let text = demo(&method("setThing", &param("type", "rust = \"kind\"")));
    let spec = parse_demo(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.methods()[0].params[0].rust, "kind");
    assert_eq!(spec.methods()[0].params[0].name, "type");
}

#[test]
fn param_rust_override_must_be_snake_case() {
    let text = demo(&method("setThing", &param("thing", "rust = \"Thing\"")));
    only_error(
        &text,
        Some("setThing"),
        Some("param `thing`"),
        &[
            "Rust name `Thing` is not a snake_case identifier",
            "set `rust`",
        ],
    );
}

#[test]
fn params_clashing_after_case_conversion_are_refused() {
    let text = demo(&method(
        "setThing",
        &(param("dateFrom", "") + &param("date_from", "")),
    ));
    only_error(
        &text,
        Some("setThing"),
        Some("param `date_from`"),
        &[
            "Rust name `date_from` clashes with another parameter after case conversion",
            "set `rust`",
        ],
    );
    let fixed = demo(&method(
        "setThing",
        &(param("dateFrom", "") + &param("date_from", "rust = \"date_from_2\"")),
    ));
    parse_demo(&fixed).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn unknown_param_type_lists_the_types() {
    let text = demo(&method("setThing", &param("thing", "type = \"number\"")));
    only_error(
        &text,
        Some("setThing"),
        Some("param `thing`"),
        &[
            "unknown type `number`",
            "use one of:",
            "integer",
            "tz_offset",
        ],
    );
}

#[test]
fn every_param_type_is_accepted() {
    let kinds = [
        ("string", ParamKind::String),
        ("integer", ParamKind::Integer),
        ("decimal", ParamKind::Decimal),
        ("flag", ParamKind::Flag),
        ("yesno", ParamKind::YesNo),
        ("date", ParamKind::Date),
        ("datetime", ParamKind::DateTime),
        ("routing", ParamKind::Routing),
        ("base64", ParamKind::Base64),
        ("phone", ParamKind::Phone),
        ("email", ParamKind::Email),
        ("url", ParamKind::Url),
        ("tz_offset", ParamKind::TzOffset),
        ("timezone", ParamKind::Timezone),
    ];
    let mut body = String::new();
    for (i, (ty, _)) in kinds.iter().enumerate() {
        body += &param(&format!("p{i}"), &format!("type = \"{ty}\""));
    }
    body += &param("e", "type = \"enum\"\nvalues = [\"a\"]");
    body += &param("l", "type = \"list\"\nseparator = \";\"");
    let spec = parse_demo(&demo(&method("setThing", &body))).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<ParamKind> = spec.methods()[0].params.iter().map(|p| p.kind).collect();
    let mut want: Vec<ParamKind> = kinds.iter().map(|(_, k)| *k).collect();
    want.extend([ParamKind::Enum, ParamKind::List]);
    assert_eq!(got, want);
}

#[test]
fn enum_needs_values() {
    let text = demo(&method("setThing", &param("kind", "type = \"enum\"")));
    only_error(
        &text,
        Some("setThing"),
        Some("param `kind`"),
        &["an enum needs `values`"],
    );
}

#[test]
fn list_needs_a_separator() {
    let text = demo(&method("setThing", &param("ids", "type = \"list\"")));
    only_error(
        &text,
        Some("setThing"),
        Some("param `ids`"),
        &["a list needs `separator`", "\";\" or \",\""],
    );
    let text = demo(&method(
        "setThing",
        &param("ids", "type = \"list\"\nseparator = \"|\""),
    ));
    only_error(
        &text,
        Some("setThing"),
        Some("param `ids`"),
        &["separator `|` must be"],
    );
}

#[test]
fn separator_only_applies_to_lists() {
    let text = demo(&method("setThing", &param("ids", "separator = \",\"")));
    only_error(
        &text,
        Some("setThing"),
        Some("param `ids`"),
        &["`separator` only applies to type list"],
    );
}

#[test]
fn values_only_apply_to_enums() {
    let text = demo(&method(
        "setThing",
        &param("mode", "values = [\"a\", \"b\"]"),
    ));
    only_error(
        &text,
        Some("setThing"),
        Some("param `mode`"),
        &["`values` only applies to type enum"],
    );
}

#[test]
fn enum_example_must_be_a_value() {
    let ok = demo(&method(
        "setThing",
        &param(
            "mode",
            "type = \"enum\"\nvalues = [\"a\", \"b\"]\nexample = \"b\"",
        ),
    ));
    parse_demo(&ok).unwrap_or_else(|e| panic!("{e}"));
    let bad = ok.replace("example = \"b\"", "example = \"c\"");
    only_error(
        &bad,
        Some("setThing"),
        Some("param `mode`"),
        &["example `c` is not one of the enum values"],
    );
}

#[test]
fn duplicate_enum_variant_names_are_refused() {
    // `a-b` and `a_b` both become `AB`.
    let text = demo(&method(
        "setThing",
        &param("mode", "type = \"enum\"\nvalues = [\"a-b\", \"a_b\"]"),
    ));
    only_error(
        &text,
        Some("setThing"),
        Some("param `mode`"),
        &["enum variant name `AB` is used twice", "distinct `name`s"],
    );
    // Explicit names tell them apart.
    let fixed = demo(&method(
        "setThing",
        &param(
            "mode",
            "type = \"enum\"\nvalues = [\"a-b\", { value = \"a_b\", name = \"AUnderB\" }]",
        ),
    ));
    parse_demo(&fixed).unwrap_or_else(|e| panic!("{e}"));
    let twice = demo(&method(
        "setThing",
        &param(
            "mode",
            "type = \"enum\"\nvalues = [{ value = \"1\", name = \"One\" }, { value = \"2\", name = \"One\" }]",
        ),
    ));
    only_error(
        &twice,
        Some("setThing"),
        Some("param `mode`"),
        &["`One` is used twice"],
    );
}

#[test]
fn enum_value_tables_are_checked() {
    let no_value = demo(&method(
        "setThing",
        &param("mode", "type = \"enum\"\nvalues = [{ name = \"A\" }]"),
    ));
    let errs = demo_errors(&no_value);
    let e = the_error(&errs, "enum value table needs `value`");
    check(e, DEMO, Some("setThing"), Some("param `mode`"), &[]);

    let odd_key = demo(&method(
        "setThing",
        &param(
            "mode",
            "type = \"enum\"\nvalues = [{ value = \"a\", label = \"A\" }]",
        ),
    ));
    only_error(
        &odd_key,
        Some("setThing"),
        Some("param `mode`"),
        &["unknown keys", "label", "use value, name, doc"],
    );

    let lower = demo(&method(
        "setThing",
        &param(
            "mode",
            "type = \"enum\"\nvalues = [{ value = \"a\", name = \"lower\" }]",
        ),
    ));
    only_error(
        &lower,
        Some("setThing"),
        Some("param `mode`"),
        &["enum variant name `lower` must be UpperCamelCase"],
    );

    let number = demo(&method(
        "setThing",
        &param("mode", "type = \"enum\"\nvalues = [1]"),
    ));
    let errs = demo_errors(&number);
    let e = the_error(&errs, "enum values are strings or tables, not integer");
    check(e, DEMO, Some("setThing"), Some("param `mode`"), &[]);
}

#[test]
fn param_description_is_required() {
    let text = demo(&method(
        "setThing",
        "[[method.param]]\nname = \"thing\"\ntype = \"integer\"\n",
    ));
    only_error(
        &text,
        Some("setThing"),
        Some("param `thing`"),
        &["missing description", "say what the value is"],
    );
    let blank = demo(&method(
        "setThing",
        "[[method.param]]\nname = \"thing\"\ntype = \"integer\"\ndescription = \" \"\n",
    ));
    only_error(
        &blank,
        Some("setThing"),
        Some("param `thing`"),
        &["missing description"],
    );
}

// ---------------------------------------------------------------------------------------------
// CLI hints

#[test]
fn cli_positional_must_name_a_param() {
    let text = demo(&method(
        "setThing",
        &format!(
            "cli.positional = [{{ param = \"nope\", when = \"any\" }}]\n{}",
            param("thing", "")
        ),
    ));
    only_error(
        &text,
        Some("setThing"),
        Some("cli.positional"),
        &["`nope` is not a parameter of this method"],
    );
}

#[test]
fn cli_positional_when_must_be_digits_or_any() {
    let text = demo(&method(
        "setThing",
        &format!(
            "cli.positional = [{{ param = \"thing\", when = \"sometimes\" }}]\n{}",
            param("thing", "")
        ),
    ));
    only_error(
        &text,
        Some("setThing"),
        Some("cli.positional"),
        &["when = `sometimes` must be \"digits\" or \"any\""],
    );
}

// ---------------------------------------------------------------------------------------------
// Responses

#[test]
fn response_field_unknown_type_lists_the_types() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response]\nname = \"string\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.name"),
        &["unknown type `string`", "use one of: text, int", "list<T>"],
    );
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response]\nnames = \"list<string>\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.names"),
        &["unknown type `list<string>`"],
    );
}

#[test]
fn response_field_table_needs_type_and_known_keys() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.name]\ndoc = \"The name.\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.name"),
        &["a field table needs `type`"],
    );
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.name]\ntype = \"text\"\nnullable = true",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.name"),
        &["unknown key `nullable`", "a field table takes type"],
    );
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response]\nname = 3",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.name"),
        &["a field is a type string or a table, not integer"],
    );
}

#[test]
fn object_needs_fields() {
    for ty in ["object", "list<object>", "map<object>"] {
        let text = demo(&with_example(
            "getThing",
            "{\"status\": \"success\"}",
            &format!("[method.response.thing]\ntype = \"{ty}\""),
        ));
        only_error(
            &text,
            Some("getThing"),
            Some("response.thing"),
            &[&format!("type `{ty}` needs a non-empty `fields` table")],
        );
    }
    let empty = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.thing]\ntype = \"object\"\nfields = {}",
    ));
    only_error(
        &empty,
        Some("getThing"),
        Some("response.thing"),
        &["needs a non-empty `fields` table"],
    );
}

#[test]
fn fields_do_not_apply_to_scalars() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.name]\ntype = \"text\"\n[method.response.name.fields]\nfirst = \"text\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.name"),
        &["`fields` does not apply to type `text`"],
    );
}

#[test]
fn rust_type_only_applies_to_objects() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.name]\ntype = \"text\"\nrust_type = \"Name\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.name"),
        &["`rust_type` only applies to object-bearing types"],
    );
    let lower = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.thing]\ntype = \"object\"\nrust_type = \"thing\"\n[method.response.thing.fields]\nid = \"text\"",
    ));
    only_error(
        &lower,
        Some("getThing"),
        Some("response.thing"),
        &["rust_type `thing` must be UpperCamelCase"],
    );
}

#[test]
fn keyword_response_field_needs_rust() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"type\": \"a\"}",
        "[method.response]\ntype = \"text\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.type"),
        &[
            "`type` is a Rust keyword",
            "write the field as a table with rust = ",
        ],
    );
    let fixed = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"type\": \"a\"}",
        "[method.response.type]\ntype = \"text\"\nrust = \"kind\"",
    ));
    let spec = parse_demo(&fixed).unwrap_or_else(|e| panic!("{e}"));
    let f = &spec.methods()[0].response[0];
    assert_eq!((f.name.as_str(), f.rust.as_str()), ("type", "kind"));
}

#[test]
fn nested_keyword_field_is_reported_at_its_path() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.thing]\ntype = \"object\"\n[method.response.thing.fields]\nmatch = \"text\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.thing.fields.match"),
        &["`match` is a Rust keyword"],
    );
}

#[test]
fn response_fields_clashing_after_case_conversion_are_refused() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response]\ndateFrom = \"date\"\ndate_from = \"date\"",
    ));
    let errs = demo_errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    // Which of the two is reported depends on the table order; the message does not.
    assert!(
        errs[0].item.as_deref() == Some("response.date_from")
            || errs[0].item.as_deref() == Some("response.dateFrom"),
        "{errs:?}"
    );
    check(
        &errs[0],
        DEMO,
        Some("getThing"),
        errs[0].item.as_deref(),
        &["`date_from` clashes with another field", "set `rust`"],
    );
}

#[test]
fn status_is_not_a_response_field() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response]\nstatus = \"text\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.status"),
        &["`status` is the envelope", "remove it"],
    );
    // Inside an object, `status` is an ordinary field.
    let nested = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"thing\": {\"status\": \"on\"}}",
        "[method.response.thing]\ntype = \"object\"\n[method.response.thing.fields]\nstatus = \"text\"",
    ));
    parse_demo(&nested).unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------------------------
// Examples

#[test]
fn example_must_be_json() {
    let text = demo(&with_example("getThing", "{\"status\": \"success\",}", ""));
    only_error(
        &text,
        Some("getThing"),
        Some("example"),
        &["not valid JSON"],
    );
}

#[test]
fn example_must_be_an_object() {
    let text = demo(&with_example("getThing", "[{\"status\": \"success\"}]", ""));
    only_error(
        &text,
        Some("getThing"),
        Some("example"),
        &["must be a JSON object"],
    );
}

#[test]
fn example_must_succeed() {
    for body in [
        "{\"status\": \"no_thing\"}",
        "{\"thing\": \"1\"}",
        "{\"status\": true}",
    ] {
        let text = demo(&with_example(
            "getThing",
            body,
            "[method.response]\nthing = \"text\"",
        ));
        only_error(
            &text,
            Some("getThing"),
            Some("example"),
            &["must have \"status\": \"success\""],
        );
    }
}

#[test]
fn example_keys_must_be_declared() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"thing\": \"1\", \"extra\": \"x\"}",
        "[method.response]\nthing = \"text\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("example"),
        &[
            "key `$.extra` is not declared in the response",
            "declare it, or remove it from the example",
        ],
    );
    // A nested key is reported with its JSON path.
    let nested = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"things\": [{\"id\": \"1\"}, {\"id\": \"2\", \"colour\": \"red\"}]}",
        "[method.response.things]\ntype = \"list<object>\"\n[method.response.things.fields]\nid = \"text\"",
    ));
    only_error(
        &nested,
        Some("getThing"),
        Some("example"),
        &["key `$.things[1].colour` is not declared"],
    );
    // `status` is only the envelope at the top: inside an object it must be declared.
    let inner_status = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"thing\": {\"id\": \"1\", \"status\": \"on\"}}",
        "[method.response.thing]\ntype = \"object\"\n[method.response.thing.fields]\nid = \"text\"",
    ));
    only_error(
        &inner_status,
        Some("getThing"),
        Some("example"),
        &["key `$.thing.status` is not declared"],
    );
    // An alias counts as declared.
    let alias = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"thing_id\": \"1\"}",
        "[method.response.thing]\ntype = \"text\"\naliases = [\"thing_id\"]",
    ));
    parse_demo(&alias).unwrap_or_else(|e| panic!("{e}"));
}

/// An example with one scalar field of type `ty` holding the JSON `value`.
fn scalar_example(ty: &str, value: &str) -> String {
    demo(&with_example(
        "getThing",
        &format!("{{\"status\": \"success\", \"v\": {value}}}"),
        &format!("[method.response]\nv = \"{ty}\""),
    ))
}

#[test]
fn example_values_must_decode_as_their_type() {
    let bad = [
        ("int", "\"abc\""),
        ("int", "\"1.5\""),
        ("int", "1.5"),
        ("int", "[1]"),
        ("flag", "\"maybe\""),
        ("flag", "2"),
        ("date", "\"yesterday\""),
        ("date", "\"2024-13-01\""),
        ("date", "20240101"),
        ("date", "true"),
        ("datetime", "\"2024-01-01 25h\""),
        ("decimal", "\"1,5\""),
        ("decimal", "\"abc\""),
        ("decimal", "\".\""),
        ("decimal", "true"),
        ("limit", "\"lots\""),
        ("text", "{\"a\": 1}"),
    ];
    for (ty, value) in bad {
        let errs = demo_errors(&scalar_example(ty, value));
        assert_eq!(errs.len(), 1, "{ty} {value}: {errs:#?}");
        check(
            &errs[0],
            DEMO,
            Some("getThing"),
            Some("example"),
            &["`$.v` = ", &format!("does not decode as `{ty}`")],
        );
    }
}

#[test]
fn example_values_that_decode_are_accepted() {
    let good = [
        ("int", "\"12\""),
        ("int", "12"),
        ("int", "\"\""),
        ("int", "null"),
        ("flag", "\"1\""),
        ("flag", "0"),
        ("flag", "\"YES\""),
        ("flag", "true"),
        ("flag", "\"\""),
        ("date", "\"2024-01-31\""),
        ("date", "\"0000-00-00\""),
        ("date", "\"\""),
        ("date", "false"),
        ("date", "\"2024-01-31 10:00:00\""),
        ("datetime", "\"2024-01-31 10:11:12\""),
        ("datetime", "\"0000-00-00 00:00:00\""),
        ("decimal", "\"112.192790\""),
        ("decimal", "\"-0.5\""),
        ("decimal", "1.5"),
        ("decimal", "\"3\""),
        ("limit", "\"Unlimited\""),
        ("limit", "\"10\""),
        ("limit", "10"),
        ("text", "40702183"),
        ("text", "\"99785\""),
        ("json", "{\"a\": [1, 2]}"),
    ];
    for (ty, value) in good {
        if let Err(e) = parse_demo(&scalar_example(ty, value)) {
            panic!("{ty} {value} should decode: {e}");
        }
    }
}

#[test]
fn none_if_values_skip_the_type_check() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"count\": \"-\"}",
        "[method.response.count]\ntype = \"int\"\nnone_if = [\"-\"]",
    ));
    parse_demo(&text).unwrap_or_else(|e| panic!("{e}"));
    only_error(
        &text.replace("none_if = [\"-\"]", ""),
        Some("getThing"),
        Some("example"),
        &["does not decode as `int`"],
    );
}

#[test]
fn nested_example_values_are_checked_with_their_path() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"things\": [{\"n\": \"1\"}, {\"n\": \"x\"}], \"by_id\": {\"7\": {\"n\": \"y\"}}}",
        "[method.response.things]\ntype = \"list<object>\"\n[method.response.things.fields]\nn = \"int\"\n\
         [method.response.by_id]\ntype = \"map<object>\"\n[method.response.by_id.fields]\nn = \"int\"",
    ));
    let errs = demo_errors(&text);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    check(
        the_error(&errs, "$.things[1].n"),
        DEMO,
        Some("getThing"),
        Some("example"),
        &["does not decode as `int`"],
    );
    check(
        the_error(&errs, "$.by_id.7.n"),
        DEMO,
        Some("getThing"),
        Some("example"),
        &["does not decode as `int`"],
    );
}

#[test]
fn a_single_object_is_accepted_for_a_list() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"things\": {\"n\": \"1\"}}",
        "[method.response.things]\ntype = \"list<object>\"\n[method.response.things.fields]\nn = \"int\"",
    ));
    parse_demo(&text).unwrap_or_else(|e| panic!("{e}"));
    // The bare item is still checked.
    only_error(
        &text.replace("\"n\": \"1\"", "\"n\": \"one\""),
        Some("getThing"),
        Some("example"),
        &["`$.things[0].n`"],
    );
}

// ---------------------------------------------------------------------------------------------
// Across methods and files

#[test]
fn duplicate_method_across_files_is_refused() {
    let other = "category = \"other\"\ntitle = \"Other\"\nabout = \"More.\"\n\n".to_owned()
        + &method("setThing", "");
    let errs = errors_of(&[
        src(STATUS_FILE, STATUSES),
        src(DEMO, &demo(&method("setThing", ""))),
        src("api-spec/other.toml", &other),
    ]);
    let e = the_error(&errs, "duplicate method");
    check(
        e,
        "api-spec/other.toml",
        Some("setThing"),
        None,
        &["also defined in api-spec/demo.toml"],
    );
}

#[test]
fn method_rust_name_clash_is_refused() {
    let text = demo(&(method("getCDR", "") + &method("getCdr", "")));
    let errs = demo_errors(&text);
    let e = the_error(&errs, "clashes with `getCDR`");
    check(
        e,
        DEMO,
        Some("getCdr"),
        None,
        &["Rust name `get_cdr`", "after case conversion; set `rust`"],
    );
    // Both methods also generate `GetCdr`: said too.
    let e = the_error(&errs, "generated type name `GetCdr`");
    check(
        e,
        DEMO,
        Some("getCdr"),
        None,
        &["also generated for `getCDR`"],
    );
    // With `rust` on one of them, everything is distinct.
    let fixed = demo(
        &(method("getCDR", "")
            + &method("getCdr", "").replace(
                "name = \"getCdr\"",
                "name = \"getCdr\"\nrust = \"get_cdr_lower\"",
            )),
    );
    let spec = parse_demo(&fixed).unwrap_or_else(|e| panic!("{e}"));
    let m = spec.methods();
    assert_eq!(
        (m[1].rust.as_str(), m[1].pascal.as_str()),
        ("get_cdr_lower", "GetCdrLower")
    );
}

#[test]
fn generated_type_names_must_be_unique_across_methods() {
    let resp = "[method.response.item]\ntype = \"object\"\nrust_type = \"Same\"\n[method.response.item.fields]\nid = \"text\"";
    let text = demo(
        &(with_example("getOne", "{\"status\": \"success\"}", resp)
            + &with_example("getTwo", "{\"status\": \"success\"}", resp)),
    );
    let errs = demo_errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(
        &errs[0],
        DEMO,
        Some("getTwo"),
        None,
        &[
            "generated type name `Same` is also generated for `getOne`",
            "set `rust_type` or `rust`",
        ],
    );
}

#[test]
fn default_struct_names_can_clash_with_other_types() {
    // `getThing` + field `response` makes `GetThingResponse`, the name of its typed response.
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\"}",
        "[method.response.response]\ntype = \"object\"\n[method.response.response.fields]\nid = \"text\"",
    ));
    let errs = demo_errors(&text);
    let e = the_error(&errs, "generated type name `GetThingResponse`");
    check(e, DEMO, Some("getThing"), None, &[]);
}

#[test]
fn enum_type_names_take_part_in_the_clash_check() {
    // `setThing` + param `kind` makes the enum `SetThingKind`; `setThingKind` is that name too.
    let text = demo(
        &(method(
            "setThing",
            &param("kind", "type = \"enum\"\nvalues = [\"a\"]"),
        ) + &method("setThingKind", "")),
    );
    let errs = demo_errors(&text);
    let e = the_error(&errs, "generated type name `SetThingKind`");
    assert_eq!(e.file, DEMO);
    assert!(
        e.method.as_deref() == Some("setThing") || e.method.as_deref() == Some("setThingKind"),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// statuses.toml

fn status_errors(text: &str) -> Vec<SpecError> {
    errors_of(&[
        src(STATUS_FILE, text),
        src(DEMO, &demo(&method("setThing", ""))),
    ])
}

const ONE_STATUS: &str = "[[status]]\ncode = \"dup\"\nclass = \"server\"\nretryable = true\nmeaning = \"Something broke.\"\n";

#[test]
fn duplicate_status_code_is_refused() {
    let errs = status_errors(&format!("{ONE_STATUS}\n{ONE_STATUS}"));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(
        &errs[0],
        STATUS_FILE,
        None,
        Some("status `dup`"),
        &["duplicate code"],
    );
}

#[test]
fn status_codes_must_give_distinct_rust_variants() {
    let other = ONE_STATUS.replace("\"dup\"", "\"Dup\"");
    let errs = status_errors(&format!("{ONE_STATUS}\n{other}"));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(
        &errs[0],
        STATUS_FILE,
        None,
        Some("status `Dup`"),
        &["the Rust variant `Dup`", "as `dup` does"],
    );
    let errs = status_errors(&ONE_STATUS.replace("\"dup\"", "\"other\""));
    check(
        &errs[0],
        STATUS_FILE,
        None,
        Some("status `other`"),
        &["`Other`", "not usable"],
    );
    let errs = status_errors(&ONE_STATUS.replace("\"dup\"", "\"1st\""));
    check(
        &errs[0],
        STATUS_FILE,
        None,
        Some("status `1st`"),
        &["not usable"],
    );
}

#[test]
fn unreadable_is_a_reserved_field_name() {
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"unreadable\": \"a\"}",
        "[method.response]\nunreadable = \"text\"",
    ));
    only_error(
        &text,
        Some("getThing"),
        Some("response.unreadable"),
        &["`unreadable` is the generated set", "set `rust`"],
    );
}

#[test]
fn date_or_period_fields_check_their_example() {
    let ok = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"when\": \"2026-08-01 to 2026-08-31\"}",
        "[method.response]\nwhen = \"date_or_period\"",
    ));
    parse_demo(&ok).unwrap_or_else(|e| panic!("{e}"));
    let bad = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"when\": \"last month\"}",
        "[method.response]\nwhen = \"date_or_period\"",
    ));
    let errs = errors_of(&[src(STATUS_FILE, STATUSES), src(DEMO, &bad)]);
    assert!(
        errs.iter().any(|e| e
            .to_string()
            .contains("does not decode as `date_or_period`")),
        "{errs:#?}"
    );
}

const ENUMS_FILE: &str = "api-spec/enums.toml";
const ONE_ENUM: &str = "[[enum]]\nname = \"Direction\"\ndoc = \"Which way.\"\nvalues = [\"in\", { value = \"0\", name = \"Out\" }]\n";

fn with_enums(enums: &str, text: &str) -> Vec<SpecError> {
    errors_of(&[
        src(ENUMS_FILE, enums),
        src(STATUS_FILE, STATUSES),
        src(DEMO, text),
    ])
}

#[test]
fn shared_enums_are_declared_once_and_referenced() {
    let param = "[[method.param]]\nname = \"way\"\ntype = \"enum\"\nenum = \"Direction\"\ndescription = \"Which way.\"\nexample = \"0\"\n";
    let text = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"way\": \"in\"}",
        &format!("{param}\n[method.response]\nway = {{ type = \"text\", enum = \"Direction\" }}"),
    ));
    let spec = spec::parse(&[
        src(ENUMS_FILE, ONE_ENUM),
        src(STATUS_FILE, STATUSES),
        src(DEMO, &text),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.enums.len(), 1);
    let m = spec.methods()[0];
    let p = m.param("way").unwrap();
    assert!(p.shared);
    assert_eq!(p.enum_type.as_deref(), Some("Direction"));
    assert_eq!(p.values.len(), 2, "the values come from enums.toml");
    assert_eq!(m.response[0].enum_type.as_deref(), Some("Direction"));
    // An unknown enum, on a param or a field.
    let errs = with_enums("", &text);
    assert!(
        errs.iter()
            .any(|e| e.to_string().contains("enum `Direction` is not declared")),
        "{errs:#?}"
    );
    // `enum` only on text fields; example must be a value; not both values and enum.
    let bad = demo(&with_example(
        "getThing",
        "{\"status\": \"success\", \"way\": 1}",
        &format!(
            "{}\n[method.response]\nway = {{ type = \"int\", enum = \"Direction\" }}",
            param.replace(
                "example = \"0\"",
                "example = \"sideways\"\nvalues = [\"x\"]"
            )
        ),
    ));
    let errs = with_enums(ONE_ENUM, &bad);
    for needle in [
        "`enum` applies to a `text` field",
        "not one of the values of `Direction`",
        "give either `values` or `enum`",
    ] {
        assert!(
            errs.iter().any(|e| e.to_string().contains(needle)),
            "{needle}: {errs:#?}"
        );
    }
    // The enum file itself: names, docs, the reserved `Other`.
    let errs = with_enums(
        "[[enum]]\nname = \"lower\"\ndoc = \" \"\nvalues = [\"Other\"]\n",
        &demo(&method("setThing", "")),
    );
    for needle in [
        "UpperCamelCase Rust type",
        "missing doc",
        "`Other` is the generated variant",
    ] {
        assert!(
            errs.iter().any(|e| e.to_string().contains(needle)),
            "{needle}: {errs:#?}"
        );
    }
}

#[test]
fn unknown_status_class_lists_the_classes() {
    let errs = status_errors(&ONE_STATUS.replace("\"server\"", "\"oops\""));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(
        &errs[0],
        STATUS_FILE,
        None,
        Some("status `dup`"),
        &[
            "unknown class `oops`",
            "use one of: success, empty",
            "billing",
        ],
    );
}

#[test]
fn status_meaning_must_not_be_empty() {
    let errs = status_errors(&ONE_STATUS.replace("Something broke.", " "));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(
        &errs[0],
        STATUS_FILE,
        None,
        Some("status `dup`"),
        &["missing meaning", "say in our words"],
    );
}

#[test]
fn statuses_file_syntax_and_keys_are_checked() {
    let errs = status_errors("[[status]\ncode = \"x\"\n");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(&errs[0], STATUS_FILE, None, None, &["not valid"]);
    let errs = status_errors(&ONE_STATUS.replace("retryable = true", "retry = true"));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    check(
        &errs[0],
        STATUS_FILE,
        None,
        None,
        &["unknown field `retry`"],
    );
}

#[test]
fn blank_hint_is_dropped_and_text_is_trimmed() {
    let text = ONE_STATUS.replace(
        "meaning = \"Something broke.\"",
        "meaning = \"  Broke.  \"\nhint = \"  \"",
    );
    let spec = spec::parse(&[
        src(STATUS_FILE, &text),
        src(DEMO, &demo(&method("setThing", ""))),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.statuses[0].meaning, "Broke.");
    assert_eq!(spec.statuses[0].hint, None);
}

// ---------------------------------------------------------------------------------------------
// All problems at once

#[test]
fn every_error_is_collected_in_file_order() {
    let statuses = format!("{ONE_STATUS}\n{ONE_STATUS}");
    let demo_text = demo(
        &(method("getThing", "").replace("effect = \"write\"", "effect = \"maybe\"")
            + &method(
                "setThing",
                &(param("type", "") + &param("ids", "type = \"list\"")),
            )),
    );
    let bad_other = "category = \"wrong\"\ntitle = \"Other\"\nabout = \"More.\"\n";
    let broken = "category = ";
    let errs = errors_of(&[
        src(STATUS_FILE, &statuses),
        src(DEMO, &demo_text),
        src("api-spec/other.toml", bad_other),
        src("api-spec/zzz.toml", broken),
    ]);
    let summary: Vec<(&str, Option<&str>, Option<&str>)> = errs
        .iter()
        .map(|e| (e.file.as_str(), e.method.as_deref(), e.item.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (STATUS_FILE, None, Some("status `dup`")),
            (DEMO, Some("getThing"), None),
            (DEMO, Some("setThing"), Some("param `type`")),
            (DEMO, Some("setThing"), Some("param `ids`")),
            ("api-spec/other.toml", None, None),
            ("api-spec/zzz.toml", None, None),
        ],
        "{errs:#?}"
    );
    assert!(errs[1].message.contains("unknown effect"));
    assert!(errs[2].message.contains("Rust keyword"));
    assert!(errs[3].message.contains("separator"));
    assert!(errs[4].message.contains("must equal the file name"));
    assert!(errs[5].message.contains("not valid"));
}

#[test]
fn spec_errors_display_lists_every_problem() {
    let text = demo(
        &(method("getThing", "").replace("effect = \"write\"", "effect = \"maybe\"")
            + &method("setThing", &param("ids", "type = \"list\""))),
    );
    let errs = parse_demo(&text).expect_err("two problems");
    assert_eq!(errs.0.len(), 2);
    let shown = errs.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 3, "{shown}");
    assert_eq!(lines[0], "api-spec has 2 problem(s):");
    assert_eq!(
        lines[1],
        "  - api-spec/demo.toml: method `getThing`: unknown effect `maybe`; use read, write, destructive or billable"
    );
    assert_eq!(
        lines[2],
        "  - api-spec/demo.toml: method `setThing`: param `ids`: a list needs `separator` (\";\" or \",\")"
    );
    // Without a method or item, only the file leads the message.
    let e = SpecError {
        file: "api-spec/x.toml".into(),
        method: None,
        item: Some("status `a`".into()),
        message: "duplicate code".into(),
    };
    assert_eq!(e.to_string(), "api-spec/x.toml: status `a`: duplicate code");
    // SpecErrors is a std error, so `?` into Box<dyn Error> works.
    let boxed: Box<dyn std::error::Error> = Box::new(errs);
    assert!(boxed.to_string().contains("2 problem(s)"));
}

#[test]
fn load_dir_reports_an_unreadable_directory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/no-such-dir");
    let errs = spec::load_dir(&dir).expect_err("missing dir");
    assert_eq!(errs.0.len(), 1);
    assert!(errs.0[0].message.contains("cannot read the spec directory"));
    assert!(errs.0[0].file.ends_with("no-such-dir"));
}

#[test]
fn read_dir_reads_only_top_level_toml_sorted() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    let files = spec::read_dir(&dir).expect("readable");
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "api-spec/demo.toml",
            "api-spec/other.toml",
            "api-spec/statuses.toml"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Family parents and sandbox read parameters

/// Two families, `shelves` and `items`, with `parent` (TOML, or empty) on `items`.
fn families(parent: &str) -> String {
    let get = |name: &str, key: &str, fields: &str, id: &str| {
        with_example(
            name,
            &format!("{{\"status\": \"success\", \"{key}\": [{{\"{id}\": \"1\"{fields}}}]}}"),
            &format!(
                "{}[method.response.{key}]\ntype = \"list<object>\"\n[method.response.{key}.fields]\n{id} = \"text\"\n{}\n",
                param(id, ""),
                if fields.is_empty() {
                    "members = \"text\""
                } else {
                    "shelf = \"text\""
                }
            ),
        )
    };
    let family = |name: &str, get: &str, set: &str, id: &str, key: &str, extra: &str| {
        format!(
            "[[family]]\nname = \"{name}\"\nget = \"{get}\"\nset = \"{set}\"\nid_param = \"{id}\"\nlist_key = \"{key}\"\nid_field = \"{id}\"\nnot_found = \"no_thing\"\n{extra}\n"
        )
    };
    demo(
        &(family("shelves", "getShelves", "setShelf", "shelf", "shelves", "")
            + &family("items", "getItems", "setItem", "item", "items", parent)
            + &get("getShelves", "shelves", "", "shelf")
            + &get("getItems", "items", ", \"shelf\": \"1\"", "item")
            + &method("setShelf", &param("shelf", ""))
            + &method("setItem", &(param("item", "") + &param("shelf", "")))),
    )
}

#[test]
fn a_family_parent_is_checked_and_carried() {
    let spec = parse_demo(&families(
        "parent = { family = \"shelves\", param = \"shelf\", field = \"shelf\" }",
    ))
    .expect("valid");
    let items = &spec.categories[0].families[1];
    let p = items.parent.as_ref().expect("a parent");
    assert_eq!((p.family.as_str(), p.param.as_str()), ("shelves", "shelf"));
    assert_eq!(p.link, spec::ParentLink::Field("shelf".into()));
    let spec = parse_demo(&families(
        "parent = { family = \"shelves\", param = \"shelf\", list = \"members\" }",
    ))
    .expect("valid");
    assert_eq!(
        spec.categories[0].families[1].parent.as_ref().unwrap().link,
        spec::ParentLink::List("members".into())
    );

    let errs = demo_errors(&families(
        "parent = { family = \"crates\", param = \"shelf\", field = \"shelf\" }",
    ));
    the_error(&errs, "no family `crates`");
    let errs = demo_errors(&families(
        "parent = { family = \"shelves\", param = \"lid\", field = \"shelf\" }",
    ));
    the_error(&errs, "has no parameter `lid`");
    let errs = demo_errors(&families(
        "parent = { family = \"shelves\", param = \"shelf\", field = \"lid\" }",
    ));
    the_error(&errs, "the records have no field `lid`");
    let errs = demo_errors(&families(
        "parent = { family = \"shelves\", param = \"shelf\", list = \"lids\" }",
    ));
    the_error(&errs, "the records of `shelves` have no field `lids`");
    let errs = demo_errors(&families(
        "parent = { family = \"shelves\", param = \"shelf\", field = \"shelf\", list = \"members\" }",
    ));
    the_error(&errs, "exactly one of `field`");
}

#[test]
fn sandbox_read_with_names_parameters_of_both_methods() {
    let text = |read_with: &str| {
        demo(
            &(with_example(
                "getThings",
                "{\"status\": \"success\"}",
                &param("thing", ""),
            ) + &method(
                "delThing",
                &format!(
                    "sandbox = {{ model = \"hand\", read = \"getThings\", read_with = {{ {read_with} }}, why = \"Because.\" }}\n{}",
                    param("id", "")
                ),
            )),
        )
    };
    let spec = parse_demo(&text("thing = \"id\"")).expect("valid");
    let del = spec
        .methods()
        .into_iter()
        .find(|m| m.name == "delThing")
        .unwrap();
    assert_eq!(
        del.sandbox.as_ref().unwrap().read_with,
        [("thing".to_owned(), "id".to_owned())]
    );
    the_error(
        &demo_errors(&text("other = \"id\"")),
        "`getThings` has no parameter `other`",
    );
    the_error(
        &demo_errors(&text("thing = \"nope\"")),
        "no parameter `nope` on this method",
    );
}
