//! Rust names for VoIP.ms wire names: `getDIDsInfo` → `get_dids_info` / `GetDidsInfo`.
//!
//! heck alone splits acronym runs badly (`DIDs` → `di_ds`, `SIPURI` → `sipuri`), so wire names
//! are first cut into words here, with the acronyms VoIP.ms uses, and only then cased.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Acronyms that appear glued together in wire names (`setDIDPOP`, `getSIPURIs`), longest first.
const ACRONYMS: &[&str] = &[
    "SIPURI", "DISA", "CANUS", "USA", "CAN", "CDR", "DID", "FAX", "IVR", "LNP", "MMS", "PDF",
    "POP", "PRI", "SIP", "SMS", "URI", "URL", "ID", "IP", "US",
];

/// Splits a camelCase wire name into lowercase words.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '_' || c == '-' {
            i += 1;
            continue;
        }
        if c.is_ascii_uppercase() {
            // An uppercase run: an acronym block, possibly followed by a capitalised word.
            let start = i;
            while i < chars.len() && chars[i].is_ascii_uppercase() {
                i += 1;
            }
            let mut run: String = chars[start..i].iter().collect();
            let next_lower = i < chars.len() && chars[i].is_ascii_lowercase();
            let mut plural = false;
            if next_lower && run.len() > 1 {
                // `DIDs` + `Info`: a plural acronym when the `s` ends the run of lowercase.
                let s_alone =
                    chars[i] == 's' && (i + 1 == chars.len() || !chars[i + 1].is_ascii_lowercase());
                if s_alone {
                    plural = true;
                    i += 1;
                } else if chars[i] == 'v' && chars.get(i + 1).is_some_and(char::is_ascii_uppercase)
                {
                    // `DIDvPRI`: the `v` prefixes the next acronym, so the run stays whole
                    // (`DID` + `vPRI`, handled below), not `DI` + `Dv` + `PRI`.
                } else {
                    // The last capital starts the next word (`IDFiltering` → `ID` + `Filtering`).
                    run.pop();
                    i -= 1;
                }
            }
            if run.len() == 1 && !plural {
                // A plain capitalised word.
                let mut w = run.to_ascii_lowercase();
                while i < chars.len()
                    && (chars[i].is_ascii_lowercase() || chars[i].is_ascii_digit())
                {
                    w.push(chars[i]);
                    i += 1;
                }
                words.push(w);
                continue;
            }
            let mut parts = split_acronyms(&run);
            if plural && let Some(last) = parts.last_mut() {
                last.push('s');
            }
            words.extend(parts);
        } else {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_lowercase() || chars[i].is_ascii_digit()) {
                i += 1;
            }
            if i == start {
                // Any other character: keep it as its own word so nothing is lost.
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            // `vPRI`: a lone lowercase prefix glued to an acronym.
            if w == "v" && i < chars.len() && chars[i].is_ascii_uppercase() {
                let start2 = i;
                while i < chars.len() && chars[i].is_ascii_uppercase() {
                    i += 1;
                }
                let rest: String = chars[start2..i].iter().collect();
                words.push(format!("v{}", rest.to_ascii_lowercase()));
                continue;
            }
            words.push(w.to_ascii_lowercase());
        }
    }
    words
}

fn split_acronyms(run: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = run;
    'outer: while !rest.is_empty() {
        for a in ACRONYMS {
            if let Some(r) = rest.strip_prefix(a) {
                out.push(if *a == "SIPURI" {
                    "sip_uri".to_owned()
                } else {
                    a.to_ascii_lowercase()
                });
                rest = r;
                continue 'outer;
            }
        }
        // Unknown acronym: keep what is left as one word.
        out.push(rest.to_ascii_lowercase());
        break;
    }
    out
}

/// `getDIDsInfo` → `get_dids_info`.
pub fn snake(name: &str) -> String {
    words(name).join("_").to_snake_case()
}

/// `get_dids_info` or `getDIDsInfo` → `GetDidsInfo`.
pub fn pascal(name: &str) -> String {
    snake(name).to_upper_camel_case()
}

/// Pascal case for arbitrary text such as enum values (`wav49` → `Wav49`, `1` → `V1`).
pub fn variant(value: &str) -> String {
    let p = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| s.to_upper_camel_case())
        .collect::<String>();
    if p.is_empty() {
        "Empty".to_owned()
    } else if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{p}")
    } else {
        p
    }
}

/// Rust keywords (strict and reserved) that cannot be plain identifiers.
pub fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "crate"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "Self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "async"
            | "await"
            | "dyn"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

/// Whether `s` is a valid snake_case Rust identifier (not a keyword).
/// `NoCdr`: an ASCII UpperCamel identifier (starts with a capital letter, then letters and digits).
pub fn is_upper_camel_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

pub fn is_snake_ident(s: &str) -> bool {
    !s.is_empty()
        && !is_keyword(s)
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acronyms_split_as_people_read_them() {
        let cases = [
            ("getDIDsInfo", "get_dids_info", "GetDidsInfo"),
            (
                "setCallerIDFiltering",
                "set_caller_id_filtering",
                "SetCallerIdFiltering",
            ),
            ("getCDR", "get_cdr", "GetCdr"),
            ("getSIPURIs", "get_sip_uris", "GetSipUris"),
            ("setSIPURI", "set_sip_uri", "SetSipUri"),
            ("setDIDPOP", "set_did_pop", "SetDidPop"),
            ("getDIDvPRI", "get_did_vpri", "GetDidVpri"),
            ("searchDIDsCAN", "search_dids_can", "SearchDidsCan"),
            (
                "searchTollFreeCanUS",
                "search_toll_free_can_us",
                "SearchTollFreeCanUs",
            ),
            (
                "getFaxMessagePDF",
                "get_fax_message_pdf",
                "GetFaxMessagePdf",
            ),
            ("e911AddressTypes", "e911_address_types", "E911AddressTypes"),
            ("getIP", "get_ip", "GetIp"),
            ("getSMS", "get_sms", "GetSms"),
            (
                "orderDIDInternationalGeographic",
                "order_did_international_geographic",
                "OrderDidInternationalGeographic",
            ),
            (
                "getLNPListStatus",
                "get_lnp_list_status",
                "GetLnpListStatus",
            ),
            ("getIVRs", "get_ivrs", "GetIvrs"),
            ("getDISAs", "get_disas", "GetDisas"),
            ("rateCenter", "rate_center", "RateCenter"),
            ("date_from", "date_from", "DateFrom"),
        ];
        for (wire, s, p) in cases {
            assert_eq!(snake(wire), s, "snake of {wire}");
            assert_eq!(pascal(wire), p, "pascal of {wire}");
        }
    }

    #[test]
    fn variants_and_keywords() {
        assert_eq!(variant("wav49"), "Wav49");
        assert_eq!(variant("1"), "V1");
        assert_eq!(variant("ringall"), "Ringall");
        assert_eq!(variant("follow-me"), "FollowMe");
        assert_eq!(variant(""), "Empty");
        assert!(is_keyword("type"));
        assert!(!is_snake_ident("type"));
        assert!(is_snake_ident("kind"));
        assert!(!is_snake_ident("Kind"));
    }
}
