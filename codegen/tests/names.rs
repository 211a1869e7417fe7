//! Rust names of the real VoIP.ms methods: acronyms split the way people read them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use codegen::names;
use codegen::spec::{self, Spec};

fn real_spec() -> Spec {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-spec");
    spec::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// Wire name, snake case, Pascal case.
const TRICKY: &[(&str, &str, &str)] = &[
    ("getDIDsInfo", "get_dids_info", "GetDidsInfo"),
    (
        "setCallerIDFiltering",
        "set_caller_id_filtering",
        "SetCallerIdFiltering",
    ),
    (
        "getCallerIDFiltering",
        "get_caller_id_filtering",
        "GetCallerIdFiltering",
    ),
    (
        "delCallerIDFiltering",
        "del_caller_id_filtering",
        "DelCallerIdFiltering",
    ),
    ("getDIDvPRI", "get_did_vpri", "GetDidVpri"),
    ("assignDIDvPRI", "assign_did_vpri", "AssignDidVpri"),
    ("removeDIDvPRI", "remove_did_vpri", "RemoveDidVpri"),
    ("getVPRIs", "get_vpris", "GetVpris"),
    ("setSIPURI", "set_sip_uri", "SetSipUri"),
    ("delSIPURI", "del_sip_uri", "DelSipUri"),
    ("getSIPURIs", "get_sip_uris", "GetSipUris"),
    ("setDIDPOP", "set_did_pop", "SetDidPop"),
    (
        "searchTollFreeCanUS",
        "search_toll_free_can_us",
        "SearchTollFreeCanUs",
    ),
    (
        "searchTollFreeUSA",
        "search_toll_free_usa",
        "SearchTollFreeUsa",
    ),
    ("searchDIDsCAN", "search_dids_can", "SearchDidsCan"),
    ("searchDIDsUSA", "search_dids_usa", "SearchDidsUsa"),
    (
        "getFaxMessagePDF",
        "get_fax_message_pdf",
        "GetFaxMessagePdf",
    ),
    (
        "mailFaxMessagePDF",
        "mail_fax_message_pdf",
        "MailFaxMessagePdf",
    ),
    ("e911AddressTypes", "e911_address_types", "E911AddressTypes"),
    ("e911Info", "e911_info", "E911Info"),
    (
        "getLNPListStatus",
        "get_lnp_list_status",
        "GetLnpListStatus",
    ),
    ("addLNPFile", "add_lnp_file", "AddLnpFile"),
    ("getCDR", "get_cdr", "GetCdr"),
    ("getResellerCDR", "get_reseller_cdr", "GetResellerCdr"),
    ("getIP", "get_ip", "GetIp"),
    ("getNAT", "get_nat", "GetNat"),
    ("getDTMFModes", "get_dtmf_modes", "GetDtmfModes"),
    ("getMMS", "get_mms", "GetMms"),
    ("sendMMS", "send_mms", "SendMms"),
    ("getMediaMMS", "get_media_mms", "GetMediaMms"),
    ("getResellerSMS", "get_reseller_sms", "GetResellerSms"),
    ("deleteSMS", "delete_sms", "DeleteSms"),
    ("getIVRs", "get_ivrs", "GetIvrs"),
    ("setIVR", "set_ivr", "SetIvr"),
    ("getDISAs", "get_disas", "GetDisas"),
    ("delDISA", "del_disa", "DelDisa"),
    (
        "orderDIDInternationalGeographic",
        "order_did_international_geographic",
        "OrderDidInternationalGeographic",
    ),
    (
        "getDIDsInternationalTollFree",
        "get_dids_international_toll_free",
        "GetDidsInternationalTollFree",
    ),
    ("backOrderDIDUSA", "back_order_did_usa", "BackOrderDidUsa"),
    ("backOrderDIDCAN", "back_order_did_can", "BackOrderDidCan"),
    ("getDIDCountries", "get_did_countries", "GetDidCountries"),
    ("setDIDInfo", "set_did_info", "SetDidInfo"),
    ("connectFAX", "connect_fax", "ConnectFax"),
    ("unconnectDID", "unconnect_did", "UnconnectDid"),
    (
        "setFaxNumberURLCallback",
        "set_fax_number_url_callback",
        "SetFaxNumberUrlCallback",
    ),
    (
        "getFaxRateCentersCAN",
        "get_fax_rate_centers_can",
        "GetFaxRateCentersCan",
    ),
    ("getSubAccounts", "get_sub_accounts", "GetSubAccounts"),
];

#[test]
fn tricky_method_names_read_as_people_say_them() {
    let spec = real_spec();
    let by_name: BTreeMap<&str, &spec::Method> = spec
        .methods()
        .into_iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    let mut wrong = Vec::new();
    for &(wire, snake, pascal) in TRICKY {
        let m = by_name
            .get(wire)
            .unwrap_or_else(|| panic!("{wire} is not a method of the real spec"));
        // The derivation itself, and what the spec (and so the generated code) uses.
        let got = (
            names::snake(wire),
            names::pascal(wire),
            m.rust.clone(),
            m.pascal.clone(),
        );
        let want = (
            snake.to_owned(),
            pascal.to_owned(),
            snake.to_owned(),
            pascal.to_owned(),
        );
        if got != want {
            wrong.push(format!("{wire}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "wrong names:\n{}", wrong.join("\n"));
    assert!(TRICKY.len() >= 25);
}

#[test]
fn words_keep_acronyms_and_their_plurals_whole() {
    let cases: &[(&str, &[&str])] = &[
        ("getDIDsInfo", &["get", "dids", "info"]),
        ("getDIDvPRI", &["get", "did", "vpri"]),
        (
            "setCallerIDFiltering",
            &["set", "caller", "id", "filtering"],
        ),
        ("setDIDPOP", &["set", "did", "pop"]),
        (
            "searchTollFreeCanUS",
            &["search", "toll", "free", "can", "us"],
        ),
        ("getIVRs", &["get", "ivrs"]),
        ("e911Info", &["e911", "info"]),
        ("date_from", &["date", "from"]),
        ("rateCenter", &["rate", "center"]),
    ];
    for (wire, want) in cases {
        assert_eq!(names::words(wire), *want, "words of {wire}");
    }
}

#[test]
fn snake_and_pascal_are_stable_on_their_own_output() {
    for m in real_spec().methods() {
        assert_eq!(names::snake(&m.rust), m.rust, "snake of {}", m.rust);
        assert_eq!(names::pascal(&m.rust), m.pascal, "pascal of {}", m.rust);
    }
}

/// Short words (three letters or fewer) allowed in method names: verbs, prepositions, acronyms.
const SHORT_WORDS: &[&str] = &[
    "add", "can", "cdr", "del", "did", "fax", "get", "id", "ip", "ivr", "lnp", "mms", "nat", "on",
    "pdf", "pop", "set", "sip", "sms", "sub", "to", "uri", "url", "us", "usa",
];

/// Single-letter words that are real words of a method name (none today).
const SINGLE_LETTER_OK: &[&str] = &[];

#[test]
fn every_method_name_is_a_clean_unique_identifier() {
    let spec = real_spec();
    let methods = spec.methods();
    assert_eq!(methods.len(), 226);
    let mut snakes: BTreeMap<&str, &str> = BTreeMap::new();
    let mut pascals: BTreeMap<&str, &str> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut short_seen = BTreeSet::new();
    for m in &methods {
        let wire = m.name.as_str();
        if !names::is_snake_ident(&m.rust) {
            problems.push(format!(
                "{wire}: `{}` is not a snake_case identifier",
                m.rust
            ));
        }
        if m.rust != names::snake(wire) {
            problems.push(format!(
                "{wire}: spec uses `{}` but the derived name is `{}`",
                m.rust,
                names::snake(wire)
            ));
        }
        for seg in m.rust.split('_') {
            if seg.is_empty() {
                problems.push(format!("{wire}: `{}` has an empty segment", m.rust));
            } else if seg.len() == 1 && !SINGLE_LETTER_OK.contains(&seg) {
                problems.push(format!(
                    "{wire}: `{}` has the stray one-letter word `{seg}`",
                    m.rust
                ));
            } else if seg.len() <= 3 {
                short_seen.insert(seg);
                if !SHORT_WORDS.contains(&seg) {
                    problems.push(format!(
                        "{wire}: `{}` has the short word `{seg}` (an acronym cut in pieces?)",
                        m.rust
                    ));
                }
            }
        }
        // Nothing lost or added: the letters are the wire name's, in order.
        if m.rust.replace('_', "") != wire.to_ascii_lowercase() {
            problems.push(format!("{wire}: `{}` changes the letters", m.rust));
        }
        if !m.pascal.eq_ignore_ascii_case(wire)
            || !m.pascal.starts_with(|c: char| c.is_ascii_uppercase())
            || !m.pascal.chars().all(|c| c.is_ascii_alphanumeric())
        {
            problems.push(format!("{wire}: `{}` is not a clean Pascal name", m.pascal));
        }
        if let Some(prev) = snakes.insert(&m.rust, wire) {
            problems.push(format!("{wire} and {prev} share `{}`", m.rust));
        }
        if let Some(prev) = pascals.insert(&m.pascal, wire) {
            problems.push(format!("{wire} and {prev} share `{}`", m.pascal));
        }
        if m.response_type != format!("{}Response", m.pascal) {
            problems.push(format!("{wire}: response type `{}`", m.response_type));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every allowed short word is still used, so the list does not rot.
    let unused: Vec<&&str> = SHORT_WORDS
        .iter()
        .filter(|w| !short_seen.contains(**w))
        .collect();
    assert!(unused.is_empty(), "short words no longer used: {unused:?}");
}

#[test]
fn names_of_params_and_fields_are_identifiers() {
    let spec = real_spec();
    let mut problems = Vec::new();
    for m in spec.methods() {
        for p in &m.params {
            if !names::is_snake_ident(&p.rust) {
                problems.push(format!("{}.{}: `{}`", m.name, p.name, p.rust));
            }
            // A method's own enum is named after it; a shared one is declared in enums.toml.
            if let Some(e) = &p.enum_type
                && !p.shared
                && e != &format!("{}{}", m.pascal, names::pascal(&p.rust))
            {
                problems.push(format!("{}.{}: enum `{e}`", m.name, p.name));
            }
            if p.shared
                && !spec
                    .enums
                    .iter()
                    .any(|e| Some(&e.name) == p.enum_type.as_ref())
            {
                problems.push(format!("{}.{}: shared enum not declared", m.name, p.name));
            }
        }
        let mut stack: Vec<&spec::Field> = m.response.iter().collect();
        while let Some(f) = stack.pop() {
            if !names::is_snake_ident(&f.rust) {
                problems.push(format!("{}.{}: `{}`", m.name, f.name, f.rust));
            }
            stack.extend(&f.fields);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn variants_of_enum_values() {
    for (value, want) in [
        ("wav49", "Wav49"),
        ("1", "V1"),
        ("10m", "V10m"),
        ("all-of-them", "AllOfThem"),
        ("follow_me", "FollowMe"),
        ("a b", "AB"),
        ("", "Empty"),
        ("--", "Empty"),
        ("SIP", "Sip"),
        ("ringall", "Ringall"),
    ] {
        assert_eq!(names::variant(value), want, "variant of {value:?}");
    }
}

#[test]
fn keywords_are_not_identifiers() {
    for k in [
        "type", "match", "loop", "fn", "self", "Self", "async", "await", "dyn", "try", "gen",
        "yield", "box", "override",
    ] {
        assert!(names::is_keyword(k), "{k}");
        assert!(!names::is_snake_ident(k), "{k}");
    }
    for ok in [
        "kind", "types", "r#type", "union", "default", "_private", "e911",
    ] {
        assert!(!names::is_keyword(ok), "{ok}");
    }
    assert!(names::is_snake_ident("e911_info"));
    assert!(names::is_snake_ident("_x"));
    assert!(!names::is_snake_ident(""));
    assert!(!names::is_snake_ident("9lives"));
    assert!(!names::is_snake_ident("getCDR"));
    assert!(!names::is_snake_ident("get-cdr"));
}
