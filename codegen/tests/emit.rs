//! The generated Rust for a small fixture spec: structure, encoders, decoders, catalog, features.

use std::path::{Path, PathBuf};

use codegen::emit::{self, HEADER};
use codegen::spec::{self, SourceFile, Spec};
use codegen::{FEATURES_BEGIN, FEATURES_END, GENERATED_DIR, Output};
use quote::ToTokens;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec")
}

fn fixture() -> Spec {
    spec::load_dir(&fixture_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn category<'a>(spec: &'a Spec, slug: &str) -> &'a spec::Category {
    spec.categories
        .iter()
        .find(|c| c.slug == slug)
        .unwrap_or_else(|| panic!("no category {slug}"))
}

fn demo_rs(spec: &Spec) -> String {
    emit::api_category(spec, category(spec, "demo"))
}

/// Whitespace-free text, so assertions do not depend on line wrapping; trailing commas dropped.
fn squash(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    s.replace(",)", ")").replace(",}", "}").replace(",]", "]")
}

#[track_caller]
fn assert_has(haystack: &str, needle: &str) {
    assert!(
        squash(haystack).contains(&squash(needle)),
        "expected to find\n  {needle}\nin\n{haystack}"
    );
}

#[track_caller]
fn assert_lacks(haystack: &str, needle: &str) {
    assert!(
        !squash(haystack).contains(&squash(needle)),
        "did not expect\n  {needle}\nin\n{haystack}"
    );
}

fn parse(text: &str) -> syn::File {
    syn::parse_file(text).unwrap_or_else(|e| panic!("generated code does not parse: {e}\n{text}"))
}

fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn find_struct<'a>(file: &'a syn::File, name: &str) -> Option<&'a syn::ItemStruct> {
    file.items.iter().find_map(|i| match i {
        syn::Item::Struct(s) if s.ident == name => Some(s),
        _ => None,
    })
}

fn find_enum<'a>(file: &'a syn::File, name: &str) -> Option<&'a syn::ItemEnum> {
    file.items.iter().find_map(|i| match i {
        syn::Item::Enum(s) if s.ident == name => Some(s),
        _ => None,
    })
}

fn find_alias<'a>(file: &'a syn::File, name: &str) -> Option<&'a syn::ItemType> {
    file.items.iter().find_map(|i| match i {
        syn::Item::Type(t) if t.ident == name => Some(t),
        _ => None,
    })
}

/// Functions of the impl blocks for `ty` (inherent when `trait_name` is None).
fn impl_fns<'a>(
    file: &'a syn::File,
    ty: &str,
    trait_name: Option<&str>,
) -> Vec<&'a syn::ImplItemFn> {
    let mut out = Vec::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if type_name(&imp.self_ty).as_deref() != Some(ty) {
            continue;
        }
        let tr = imp
            .trait_
            .as_ref()
            .and_then(|(_, p, _)| p.segments.last())
            .map(|s| s.ident.to_string());
        if tr.as_deref() != trait_name {
            continue;
        }
        for i in &imp.items {
            if let syn::ImplItem::Fn(f) = i {
                out.push(f);
            }
        }
    }
    out
}

#[track_caller]
fn the_fn<'a>(
    file: &'a syn::File,
    ty: &str,
    trait_name: Option<&str>,
    name: &str,
) -> &'a syn::ImplItemFn {
    impl_fns(file, ty, trait_name)
        .into_iter()
        .find(|f| f.sig.ident == name)
        .unwrap_or_else(|| panic!("no fn {name} on {ty} ({trait_name:?})"))
}

/// Visibility and signature of a function, squashed.
fn sig(f: &syn::ImplItemFn) -> String {
    format!("{}{}", tokens(&f.vis), tokens(&f.sig))
}

fn tokens(t: &impl ToTokens) -> String {
    squash(&t.to_token_stream().to_string())
}

fn field_names(s: &syn::ItemStruct) -> Vec<String> {
    s.fields
        .iter()
        .map(|f| f.ident.as_ref().expect("named").to_string())
        .collect()
}

fn field_type(s: &syn::ItemStruct, name: &str) -> String {
    let f = s
        .fields
        .iter()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
        .unwrap_or_else(|| panic!("no field {name} in {}", s.ident));
    tokens(&f.ty)
}

fn derives(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .map(tokens)
        .collect::<Vec<_>>()
        .join("")
}

fn doc_text(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Files

#[test]
fn every_generated_file_starts_with_the_header_and_parses() {
    assert!(HEADER.starts_with("// @generated"));
    assert!(HEADER.contains("DO NOT EDIT"));
    assert!(HEADER.contains("cargo xtask regen"));
    assert!(HEADER.ends_with('\n') && HEADER.lines().count() == 1);
    let outputs = codegen::generate(&fixture());
    assert!(!outputs.is_empty());
    for o in &outputs {
        assert!(
            o.contents.starts_with(HEADER),
            "{} does not start with the header",
            o.path.display()
        );
        assert_eq!(
            o.contents.matches("DO NOT EDIT").count(),
            1,
            "{}",
            o.path.display()
        );
        assert!(o.contents.ends_with('\n'), "{}", o.path.display());
        parse(&o.contents);
    }
}

#[test]
fn one_api_file_per_category_plus_catalog_statuses_and_mod() {
    let outputs = codegen::generate(&fixture());
    let dir = Path::new(GENERATED_DIR);
    let mut generated: Vec<PathBuf> = outputs
        .iter()
        .map(|o| o.path.clone())
        .filter(|p| p.starts_with(dir))
        .collect();
    generated.sort();
    let mut want = vec![
        dir.join("api/demo.rs"),
        dir.join("api/enums.rs"),
        dir.join("api/mod.rs"),
        dir.join("api/other.rs"),
        dir.join("catalog.rs"),
        dir.join("statuses.rs"),
    ];
    want.sort();
    assert_eq!(generated, want);
    // Paths are relative to the workspace root, and unique.
    let mut all: Vec<&PathBuf> = outputs.iter().map(|o| &o.path).collect();
    assert!(all.iter().all(|p| p.is_relative()));
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "duplicate output paths");
}

#[test]
fn generation_is_deterministic() {
    let a = codegen::generate(&fixture());
    let b = codegen::generate(&fixture());
    assert_eq!(a, b);
    // The order of the source files does not matter either.
    let mut files = spec::read_dir(&fixture_dir()).expect("fixture");
    files.reverse();
    let reversed = spec::parse(&files).unwrap_or_else(|e| panic!("{e}"));
    let c = codegen::generate(&reversed);
    assert_eq!(a, c);
}

#[test]
fn generation_of_the_real_spec_is_deterministic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-spec");
    let spec = spec::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let a: Vec<Output> = codegen::generate(&spec);
    let b: Vec<Output> = codegen::generate(&spec);
    assert!(a == b, "two runs over the real spec differ");
    let api_files = a
        .iter()
        .filter(|o| o.path.starts_with(Path::new(GENERATED_DIR).join("api")))
        .count();
    // One per category, mod.rs and enums.rs.
    assert_eq!(api_files, spec.categories.len() + 2);
}

// ---------------------------------------------------------------------------------------------
// Requests

#[test]
fn required_params_go_in_new_and_optional_ones_get_setters() {
    let spec = fixture();
    let f = parse(&demo_rs(&spec));

    let set = find_struct(&f, "SetThing").expect("struct SetThing");
    assert_eq!(field_names(set), ["thing", "name", "note", "file"]);
    assert_eq!(field_type(set, "thing"), "i64");
    assert_eq!(field_type(set, "name"), "String");
    assert_eq!(field_type(set, "note"), "Option<String>");
    assert_eq!(field_type(set, "file"), "Option<crate::Base64>");
    assert!(
        set.fields
            .iter()
            .all(|f| matches!(f.vis, syn::Visibility::Inherited)),
        "request fields are private"
    );
    let new = the_fn(&f, "SetThing", None, "new");
    assert_eq!(sig(new), "pubfnnew(thing:i64,name:implInto<String>)->Self");
    assert_has(
        &tokens(&new.block),
        "Self { thing, name: name.into(), note: None, file: None }",
    );
    let fns: Vec<String> = impl_fns(&f, "SetThing", None)
        .iter()
        .map(|f| f.sig.ident.to_string())
        .collect();
    assert_eq!(
        fns,
        ["new", "note", "file"],
        "setters only for optional params"
    );
    assert_eq!(
        sig(the_fn(&f, "SetThing", None, "file")),
        "pubfnfile(mutself,file:implInto<crate::Base64>)->Self"
    );
    assert_has(
        &tokens(&the_fn(&f, "SetThing", None, "note").block),
        "self.note = Some(note.into()); self",
    );
    // A request with required params has no Default.
    assert!(
        !derives(&set.attrs).contains("Default"),
        "{}",
        derives(&set.attrs)
    );

    let get = find_struct(&f, "GetThings").expect("struct GetThings");
    assert_eq!(field_type(get, "date_from"), "crate::Date");
    assert_eq!(field_type(get, "date_to"), "Option<crate::DateTime>");
    assert_eq!(field_type(get, "kind"), "Option<GetThingsKind>");
    assert_eq!(field_type(get, "tags"), "Option<Vec<String>>");
    assert_eq!(field_type(get, "active"), "Option<bool>");
    assert_eq!(field_type(get, "amount"), "Option<crate::Decimal>");
    assert_eq!(field_type(get, "offset"), "Option<crate::TzOffset>");
    assert_eq!(
        sig(the_fn(&f, "GetThings", None, "offset")),
        "pubfnoffset(mutself,offset:implInto<crate::TzOffset>)->Self"
    );
    assert_eq!(
        sig(the_fn(&f, "GetThings", None, "new")),
        "pubfnnew(date_from:implInto<crate::Date>)->Self"
    );
    assert_eq!(
        sig(the_fn(&f, "GetThings", None, "tags")),
        "pubfntags(mutself,tags:implIntoIterator<Item=implInto<String>>)->Self"
    );
    assert_has(
        &tokens(&the_fn(&f, "GetThings", None, "tags").block),
        "self.tags = Some(crate::wire::list(tags));",
    );
    assert_eq!(
        sig(the_fn(&f, "GetThings", None, "kind")),
        "pubfnkind(mutself,kind:GetThingsKind)->Self"
    );
    let setters = impl_fns(&f, "GetThings", None).len() - 1;
    assert_eq!(setters, 10, "ten optional params, ten setters");

    // The client shortcut takes the same required arguments.
    let client = the_fn(&f, "Client", None, "set_thing");
    assert_eq!(
        sig(client),
        "pubfnset_thing(&self,thing:i64,name:implInto<String>)->crate::Call<'_,SetThing>"
    );
    assert_has(
        &tokens(&client.block),
        "crate::Call::new(self, SetThing::new(thing, name))",
    );
    assert_eq!(
        sig(the_fn(&f, "Client", None, "del_thing")),
        "pubfndel_thing(&self,thing:i64)->crate::Call<'_,DelThing>"
    );
}

#[test]
fn requests_without_required_params_derive_default() {
    let spec = fixture();
    let f = parse(&emit::api_category(&spec, category(&spec, "other")));
    let order = find_struct(&f, "OrderThing").expect("OrderThing");
    assert!(order.fields.is_empty());
    assert!(derives(&order.attrs).contains("Default"));
    assert_eq!(
        sig(the_fn(&f, "OrderThing", None, "new")),
        "pubfnnew()->Self"
    );
    // Nothing to encode: the params argument is unused and named so.
    let enc = the_fn(&f, "OrderThing", Some("Request"), "encode");
    assert_eq!(sig(enc), "fnencode(&self,_params:&mutcrate::wire::Params)");
    assert_eq!(
        sig(the_fn(&f, "Client", None, "order_thing")),
        "pubfnorder_thing(&self)->crate::Call<'_,OrderThing>"
    );
}

#[test]
fn encoders_put_the_wire_text_under_the_wire_name() {
    let spec = fixture();
    let f = parse(&demo_rs(&spec));
    let enc = tokens(&the_fn(&f, "GetThings", Some("Request"), "encode").block);
    for needle in [
        // Required: always sent.
        r#"{ let v = &self.date_from; params.push("date_from", v.format("%Y-%m-%d").to_string()); }"#,
        // Optional: sent when set, under the wire name (not the Rust name).
        r#"if let Some(v) = &self.date_to { params.push("dateTo", v.format("%Y-%m-%d %H:%M:%S").to_string()); }"#,
        r#"if let Some(v) = &self.kind { params.push("type", v.as_str()); }"#,
        r#"if let Some(v) = &self.tags { params.push("tags", crate::wire::join(v, ",")); }"#,
        r#"if let Some(v) = &self.ids { params.push("ids", crate::wire::join(v, ";")); }"#,
        r#"if let Some(v) = &self.active { params.push("active", crate::wire::flag(*v)); }"#,
        r#"if let Some(v) = &self.enabled { params.push("enabled", crate::wire::yes_no(*v)); }"#,
        r#"if let Some(v) = &self.amount { params.push("amount", v.to_string()); }"#,
        r#"if let Some(v) = &self.offset { params.push("offset", v.to_string()); }"#,
        r#"if let Some(v) = &self.thing { params.push("thing", v.to_string()); }"#,
        r#"if let Some(v) = &self.name { params.push("name", v.as_str()); }"#,
    ] {
        assert_has(&enc, needle);
    }
    // Wire order is the spec's order.
    let order: Vec<usize> = [
        "\"thing\"",
        "\"name\"",
        "\"date_from\"",
        "\"dateTo\"",
        "\"type\"",
        "\"tags\"",
        "\"ids\"",
        "\"active\"",
        "\"enabled\"",
        "\"amount\"",
        "\"offset\"",
    ]
    .iter()
    .map(|n| enc.find(n).unwrap_or_else(|| panic!("{n} not encoded")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert_lacks(&enc, "\"kind\"");
    assert_lacks(&enc, "\"date_to\"");

    let enc = tokens(&the_fn(&f, "SetThing", Some("Request"), "encode").block);
    assert_has(
        &enc,
        r#"{ let v = &self.thing; params.push("thing", v.to_string()); }"#,
    );
    assert_has(
        &enc,
        r#"{ let v = &self.name; params.push("name", v.as_str()); }"#,
    );
    assert_has(
        &enc,
        r#"if let Some(v) = &self.file { params.push("file", v.as_str()); }"#,
    );
}

#[test]
fn request_impl_names_the_method_and_its_catalog_entry() {
    let spec = fixture();
    let order: Vec<&str> = spec.methods().iter().map(|m| m.name.as_str()).collect();
    for c in &spec.categories {
        let f = parse(&emit::api_category(&spec, c));
        for m in &c.methods {
            let imp = f
                .items
                .iter()
                .find_map(|i| match i {
                    syn::Item::Impl(imp)
                        if type_name(&imp.self_ty).as_deref() == Some(m.pascal.as_str())
                            && imp.trait_.is_some() =>
                    {
                        Some(imp)
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no Request impl for {}", m.pascal));
            let text = tokens(imp);
            assert!(text.starts_with("implcrate::request::Requestfor"), "{text}");
            assert_has(&text, &format!("type Response = {};", m.response_type));
            assert_has(
                &text,
                &format!("const METHOD: &'static str = \"{}\";", m.name),
            );
            let index = order.iter().position(|n| *n == m.name).expect("sorted");
            assert_has(&text, &format!("&crate::catalog::METHODS[{index}usize]"));
        }
    }
}

#[test]
fn enum_params_become_enums_with_as_str() {
    let spec = fixture();
    let f = parse(&demo_rs(&spec));
    let e = find_enum(&f, "GetThingsKind").expect("enum GetThingsKind");
    let variants: Vec<String> = e.variants.iter().map(|v| v.ident.to_string()).collect();
    assert_eq!(variants, ["Received", "Sent", "AllOfThem"]);
    assert_eq!(doc_text(&e.variants[0].attrs), " `1`: Things that came in.");
    assert_eq!(doc_text(&e.variants[2].attrs), " `all-of-them`");
    assert_eq!(
        doc_text(&e.attrs),
        " Allowed values of `type` for `getThings`."
    );
    for d in ["Copy", "Eq", "Hash", "Debug"] {
        assert!(derives(&e.attrs).contains(d), "{d}");
    }
    let as_str = the_fn(&f, "GetThingsKind", None, "as_str");
    assert_eq!(sig(as_str), "pubfnas_str(self)->&'staticstr");
    assert_has(
        &tokens(&as_str.block),
        r#"match self { Self::Received => "1", Self::Sent => "sent", Self::AllOfThem => "all-of-them" }"#,
    );
    // No other method has enums, so no other enum is emitted.
    let enums = f
        .items
        .iter()
        .filter(|i| matches!(i, syn::Item::Enum(_)))
        .count();
    assert_eq!(enums, 1);
}

// ---------------------------------------------------------------------------------------------
// Responses

#[test]
fn response_structs_decode_lists_maps_objects_and_sentinels() {
    let spec = fixture();
    let f = parse(&demo_rs(&spec));
    let resp = find_struct(&f, "GetThingsResponse").expect("GetThingsResponse");
    assert_eq!(
        field_names(resp),
        ["total", "things", "urls", "owner", "unreadable"]
    );
    assert_eq!(field_type(resp, "unreadable"), "crate::decode::Unreadable");
    assert!(
        resp.fields
            .iter()
            .all(|f| matches!(f.vis, syn::Visibility::Public(_)))
    );
    assert_eq!(field_type(resp, "total"), "Option<i64>");
    assert_eq!(field_type(resp, "things"), "Vec<Thing>");
    assert_eq!(
        field_type(resp, "urls"),
        "std::collections::BTreeMap<String,String>"
    );
    assert_eq!(field_type(resp, "owner"), "Option<GetThingsOwner>");
    assert!(derives(&resp.attrs).contains("Default"));
    assert!(
        resp.attrs
            .iter()
            .any(|a| a.path().is_ident("non_exhaustive"))
    );
    let things_doc = doc_text(&resp.fields.iter().nth(1).expect("things").attrs);
    assert_eq!(
        things_doc,
        " `things`: The matching things. (also read from `thing_list`)"
    );

    let decode = tokens(&the_fn(&f, "GetThingsResponse", Some("Decode"), "decode").block);
    assert_has(&decode, r#"total: r.field(&["total"])?"#);
    // Aliases follow the wire key in the key slice.
    assert_has(&decode, r#"things: r.list(&["things", "thing_list"])?"#);
    assert_has(&decode, r#"urls: r.map(&["urls"])?"#);
    assert_has(&decode, r#"owner: r.field(&["owner"])?"#);
    // Every key a field reads (sorted, aliases too) and, at the top, `status` count as read.
    assert_has(
        &decode,
        r#"unreadable: r.finish(&["owner", "status", "thing_list", "things", "total", "urls"])"#,
    );
    let json = tokens(&the_fn(&f, "GetThingsResponse", Some("ToJson"), "to_json").block);
    assert_has(
        &json,
        r#"m.insert("things".into(), crate::decode::ToJson::to_json(&self.things));"#,
    );

    // The list item struct, named by rust_type, with every scalar type.
    let thing = find_struct(&f, "Thing").expect("Thing (rust_type)");
    let types: Vec<(String, String)> = field_names(thing)
        .into_iter()
        .filter(|n| n != "unreadable")
        .map(|n| {
            let t = field_type(thing, &n);
            (n, t)
        })
        .collect();
    let want = [
        ("id", "Option<String>"),
        ("count", "Option<i64>"),
        ("active", "Option<bool>"),
        ("created", "Option<crate::Date>"),
        ("price", "Option<crate::Decimal>"),
        ("seen", "Option<crate::DateTime>"),
        ("cap", "Option<crate::Limit>"),
        ("extra", "Option<serde_json::Value>"),
    ];
    assert_eq!(
        types,
        want.map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec()
    );
    let decode = tokens(&the_fn(&f, "Thing", Some("Decode"), "decode").block);
    assert_has(
        &decode,
        r#"count: r.field_none_if(&["count"], &["-1", ""])?"#,
    );
    assert_has(&decode, r#"id: r.field(&["id"])?"#);
    assert_lacks(&decode, r#"field_none_if(&["id"]"#);
    assert_lacks(&decode, r#""status""#);
    assert_has(
        &decode,
        "let Some(mut r) = crate::decode::Reader::new(value, cx)? else { return Ok(None) };",
    );

    // The object field's struct has the default name: method + field.
    let owner = find_struct(&f, "GetThingsOwner").expect("GetThingsOwner");
    assert_eq!(field_names(owner), ["name", "unreadable"]);
    assert!(find_struct(&f, "GetThingsThings").is_none());
}

#[test]
fn status_only_methods_alias_ack() {
    let spec = fixture();
    let f = parse(&demo_rs(&spec));
    let alias = find_alias(&f, "DelThingResponse").expect("alias");
    assert_eq!(tokens(&alias.ty), "crate::request::Ack");
    assert_eq!(
        doc_text(&alias.attrs),
        " `delThing` answers with its status only."
    );
    assert!(find_struct(&f, "DelThingResponse").is_none());
    // Methods with a payload get a struct, not the alias.
    assert!(find_alias(&f, "SetThingResponse").is_none());
    assert!(find_struct(&f, "SetThingResponse").is_some());
    let other = parse(&emit::api_category(&spec, category(&spec, "other")));
    assert_eq!(
        tokens(&find_alias(&other, "OrderThingResponse").expect("alias").ty),
        "crate::request::Ack"
    );
}

#[test]
fn docs_carry_summary_description_effect_and_examples() {
    let spec = fixture();
    let text = demo_rs(&spec);
    let f = parse(&text);
    let inner = doc_text(&f.attrs);
    assert_eq!(inner, " Demo: Things for the codegen tests.");
    let get = find_struct(&f, "GetThings").expect("GetThings");
    assert_eq!(
        doc_text(&get.attrs),
        " List things.\n\n Every thing of the account, or one by id.\n\n Wire method `getThings`; effect: read; an empty result (`no_thing`) decodes as an empty response."
    );
    let set = find_struct(&f, "SetThing").expect("SetThing");
    assert_eq!(
        doc_text(&set.attrs),
        " Create or update a thing.\n\n Wire method `setThing`; effect: write."
    );
    let new = the_fn(&f, "GetThings", None, "new");
    assert_eq!(
        doc_text(&new.attrs),
        " Builds the request from its required parameters:\n - `date_from`: First day, YYYY-MM-DD. Example: `2024-01-01`."
    );
    assert_eq!(
        doc_text(&the_fn(&f, "GetThings", None, "thing").attrs),
        " Only the thing with this id. Example: `42`."
    );
    let other = parse(&emit::api_category(&spec, category(&spec, "other")));
    assert_eq!(
        doc_text(&the_fn(&other, "OrderThing", None, "new").attrs),
        " A request with no parameters set; add optional ones with the setters."
    );
    let order = find_struct(&other, "OrderThing").expect("OrderThing");
    assert!(doc_text(&order.attrs).ends_with("effect: billable."));
}

// ---------------------------------------------------------------------------------------------
// Catalog, statuses, api/mod.rs

#[test]
fn catalog_lists_methods_in_wire_order_with_effect_and_params() {
    let spec = fixture();
    let cat = emit::catalog(&spec);
    parse(&cat);
    let s = squash(&cat);
    let positions: Vec<usize> = ["delThing", "getThings", "orderThing", "setThing"]
        .iter()
        .map(|n| {
            s.find(&format!("Method{{name:\"{n}\""))
                .unwrap_or_else(|| panic!("{n} missing from the catalog"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    for needle in [
        r#"Method { name: "getThings", rust_name: "get_things", category: "demo", summary: "List things.",
           description: "Every thing of the account, or one by id.", effect: Effect::Read, rest_only: false,
           empty_statuses: &["no_thing"], params: &["#,
        r#"Param { name: "type", rust_name: "kind", kind: ParamKind::Enum, required: false,
           description: "Which things.", example: Some("sent"),
           values: &[EnumValue { value: "1", name: "Received", doc: "Things that came in." },
                     EnumValue { value: "sent", name: "Sent", doc: "" },
                     EnumValue { value: "all-of-them", name: "AllOfThem", doc: "" }] }"#,
        r#"Param { name: "date_from", rust_name: "date_from", kind: ParamKind::Date, required: true,"#,
        r#"Param { name: "dateTo", rust_name: "date_to", kind: ParamKind::DateTime, required: false,"#,
        r#"kind: ParamKind::List { separator: "," }"#,
        r#"kind: ParamKind::List { separator: ";" }"#,
        r#"kind: ParamKind::YesNo"#,
        r#"kind: ParamKind::TzOffset"#,
        r#"Field { name: "things", aliases: &["thing_list"], kind: FieldKind::List(Item::Object), fields: &["#,
        r#"Field { name: "count", aliases: &[], kind: FieldKind::Scalar(Scalar::Int), fields: &[], none_if: &["-1", ""], doc: "" }"#,
        r#"Field { name: "urls", aliases: &[], kind: FieldKind::Map(Item::Scalar(Scalar::Text)),"#,
        r#"Field { name: "owner", aliases: &[], kind: FieldKind::Object,"#,
        r#"cli: Cli { positional: &[Positional { param: "thing", when: PositionalWhen::Digits },
                                   Positional { param: "name", when: PositionalWhen::Any }],
                      aliases: &["things"] }"#,
        r#"Method { name: "orderThing", rust_name: "order_thing", category: "other", summary: "Order a thing.",
           description: "", effect: Effect::Billable, rest_only: true, empty_statuses: &[], params: &[], response: &[],"#,
        r#"effect: Effect::Destructive"#,
        r#"effect: Effect::Write"#,
        r#"Category { slug: "demo", title: "Demo", about: "Things for the codegen tests." }"#,
        r#"Category { slug: "other", title: "Other", about: "A second category." }"#,
    ] {
        assert_has(&cat, needle);
    }
    // The example is stored minified, as a string literal.
    let get = spec.methods()[1];
    let lit = format!("example: {:?},", get.example);
    assert!(cat.contains(&lit), "{lit}");
    assert!(get.example.starts_with("{\"owner\":{\"name\":\"Jane\"}"));
}

#[test]
fn statuses_table_is_sorted_with_classes_and_hints() {
    let text = emit::statuses(&fixture());
    parse(&text);
    assert_has(&text, "use crate::status::{StatusClass, StatusInfo};");
    assert_has(
        &text,
        r#"StatusInfo { code: "api_limit_exceeded", class: StatusClass::RateLimit, retryable: true,
           meaning: "Too many calls in one minute.", hint: None }"#,
    );
    assert_has(
        &text,
        r#"StatusInfo { code: "invalid_thing", class: StatusClass::InvalidInput, retryable: false,
           meaning: "The thing id is not valid.", hint: Some("Pick an id from getThings.") }"#,
    );
    assert_has(&text, r#"code: "no_thing", class: StatusClass::Empty"#);
    assert_has(&text, r#"code: "success", class: StatusClass::Success"#);
    let s = squash(&text);
    let pos: Vec<usize> = ["api_limit_exceeded", "invalid_thing", "no_thing", "success"]
        .iter()
        .map(|c| s.find(&format!("code:\"{c}\"")).expect("status"))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]));
    // The compiler-checked enum: one variant per code, `Other` for the rest.
    assert_has(&text, "pub enum Status {");
    assert_has(&text, r#""no_thing" => Status::NoThing,"#);
    assert_has(
        &text,
        r#"Status::ApiLimitExceeded => "api_limit_exceeded","#,
    );
    assert_has(&text, "Status::Success => Some(&STATUSES[3usize]),");
    assert_has(&text, "other => Status::Other(other.to_owned())");
}

#[test]
fn api_mod_gates_each_category_behind_its_feature() {
    let text = emit::api_mod(&fixture());
    parse(&text);
    for needle in [
        r#"#[cfg(feature = "demo")] #[cfg_attr(docsrs, doc(cfg(feature = "demo")))] pub mod demo; #[cfg(feature = "demo")] #[cfg_attr(docsrs, doc(cfg(feature = "demo")))] pub use demo::*;"#,
        r#"#[cfg(feature = "other")] #[cfg_attr(docsrs, doc(cfg(feature = "other")))] pub mod other; #[cfg(feature = "other")] #[cfg_attr(docsrs, doc(cfg(feature = "other")))] pub use other::*;"#,
        r#"#[cfg(feature = "demo")] "getThings" => Some(crate::decode::decode_boxed::<demo::GetThingsResponse>(body)),"#,
        r#"#[cfg(feature = "demo")] "delThing" => Some(crate::decode::decode_boxed::<demo::DelThingResponse>(body)),"#,
        r#"#[cfg(feature = "other")] "orderThing" => { Some(crate::decode::decode_boxed::<other::OrderThingResponse>(body)) }"#,
        "pub fn decode_by_name(",
        "/// Demo\n///\n/// Things for the codegen tests.",
    ] {
        assert_has(&text, needle);
    }
}

#[test]
fn text_with_quotes_backslashes_and_lines_is_escaped() {
    let statuses = "[[status]]\ncode = \"success\"\nclass = \"success\"\nretryable = false\nmeaning = \"OK \\\"really\\\" \\\\ fine.\"\n";
    let demo = r#"category = "demo"
title = "Demo"
about = "A \"quoted\" category."

[[method]]
name = "setThing"
summary = "Set a \"thing\" with C:\\path."
description = """
First line.
Second line.

New paragraph."""
effect = "write"
example = '''
{"status": "success", "note": "a \"b\" \\ c"}
'''

[method.response]
note = "text"
"#;
    let spec = spec::parse(&[
        SourceFile {
            name: "api-spec/statuses.toml".into(),
            text: statuses.into(),
        },
        SourceFile {
            name: "api-spec/demo.toml".into(),
            text: demo.into(),
        },
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let rs = emit::api_category(&spec, &spec.categories[0]);
    let f = parse(&rs);
    let s = find_struct(&f, "SetThing").expect("SetThing");
    assert_eq!(
        doc_text(&s.attrs),
        " Set a \"thing\" with C:\\path.\n\n First line.\n Second line.\n\n New paragraph.\n\n Wire method `setThing`; effect: write."
    );
    let cat = emit::catalog(&spec);
    let cf = parse(&cat);
    // The catalog's string literals hold exactly the spec's text.
    let lits = string_literals(&cf);
    assert!(
        lits.contains(&"Set a \"thing\" with C:\\path.".to_owned()),
        "{lits:?}"
    );
    assert!(lits.contains(&spec.methods()[0].example));
    assert!(lits.contains(&"First line.\nSecond line.\n\nNew paragraph.".to_owned()));
    let st = parse(&emit::statuses(&spec));
    assert!(string_literals(&st).contains(&"OK \"really\" \\ fine.".to_owned()));
}

/// Every string literal in a file (catalog entries are plain struct literals in statics).
fn string_literals(f: &syn::File) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(ts: proc_macro2::TokenStream, out: &mut Vec<String>) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                proc_macro2::TokenTree::Literal(l) => {
                    if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&l.to_string()) {
                        out.push(s.value());
                    }
                }
                _ => {}
            }
        }
    }
    walk(f.to_token_stream(), &mut out);
    out
}

#[test]
fn many_required_params_allow_too_many_arguments() {
    let with = |n: usize| {
        let mut m = String::from(
            "category = \"demo\"\ntitle = \"Demo\"\nabout = \"A.\"\n\n[[method]]\nname = \"setThing\"\nsummary = \"Set.\"\neffect = \"write\"\nexample = '''\n{\"status\": \"success\"}\n'''\n",
        );
        for i in 0..n {
            m += &format!(
                "\n[[method.param]]\nname = \"p{i}\"\ntype = \"integer\"\nrequired = true\ndescription = \"P.\"\n"
            );
        }
        let spec = spec::parse(&[
            SourceFile {
                name: "api-spec/statuses.toml".into(),
                text: "[[status]]\ncode = \"success\"\nclass = \"success\"\nretryable = false\nmeaning = \"OK.\"\n".into(),
            },
            SourceFile {
                name: "api-spec/demo.toml".into(),
                text: m,
            },
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let f = parse(&emit::api_category(&spec, &spec.categories[0]));
        let allowed = |ty: &str, name: &str| {
            the_fn(&f, ty, None, name)
                .attrs
                .iter()
                .any(|a| tokens(a) == "#[allow(clippy::too_many_arguments)]")
        };
        let new_args = the_fn(&f, "SetThing", None, "new").sig.inputs.len();
        (
            new_args,
            allowed("SetThing", "new"),
            allowed("Client", "set_thing"),
        )
    };
    // Clippy counts `&self` too: the client shortcut needs the allow one parameter earlier.
    assert_eq!(with(6), (6, false, false));
    assert_eq!(with(7), (7, false, true));
    assert_eq!(with(8), (8, true, true));
}

// ---------------------------------------------------------------------------------------------
// Cargo features

#[test]
fn features_block_lists_every_category_and_full() {
    let block = codegen::features_block(&fixture());
    assert!(block.starts_with(FEATURES_BEGIN), "{block}");
    assert!(block.ends_with(FEATURES_END), "{block}");
    let lines: Vec<&str> = block.lines().collect();
    assert_eq!(
        lines[2..],
        [
            "full = [",
            "    \"demo\",",
            "    \"other\",",
            "]",
            "demo = []",
            "other = []",
            FEATURES_END
        ]
    );
    assert!(lines[1].starts_with('#'));
}

#[test]
fn splice_features_replaces_only_the_block_and_round_trips() {
    let spec = fixture();
    let block = codegen::features_block(&spec);
    let cargo = format!(
        "[package]\nname = \"voipms-sdk\"\n\n[features]\ndefault = [\"full\"]\n{FEATURES_BEGIN}\nfull = [\"old\"]\nold = []\n{FEATURES_END}\nextra = []\n\n[dependencies]\nserde = \"1\"\n"
    );
    let spliced = codegen::splice_features(&cargo, &block).expect("markers present");
    assert_eq!(
        spliced,
        format!(
            "[package]\nname = \"voipms-sdk\"\n\n[features]\ndefault = [\"full\"]\n{block}\nextra = []\n\n[dependencies]\nserde = \"1\"\n"
        )
    );
    assert!(!spliced.contains("old"));
    // Splicing again with the same block changes nothing.
    assert_eq!(
        codegen::splice_features(&spliced, &block).as_deref(),
        Some(spliced.as_str())
    );
    // Missing markers: nothing to splice into.
    assert_eq!(
        codegen::splice_features("[features]\nfull = []\n", &block),
        None
    );
    let no_end = cargo.replace(FEATURES_END, "");
    assert_eq!(codegen::splice_features(&no_end, &block), None);
    let no_begin = cargo.replace(FEATURES_BEGIN, "");
    assert_eq!(codegen::splice_features(&no_begin, &block), None);
}
