//! Phone number normalisation, used by every helper that compares numbers.
//!
//! VoIP.ms hands numbers back in many shapes: `5551234567`, `+15551234567` (a DID in E.164 SMS
//! mode), `555.123.4567` (fax numbers), `"John Doe" <5551234567>` (CDR caller IDs), `sip:2563`
//! (phonebook entries that dial a SIP URI). [`PhoneNumber::parse`] turns each into one canonical
//! form so that two spellings of the same number compare equal:
//!
//! | input | canonical | kind |
//! |---|---|---|
//! | `+1 (555) 123-4567`, `1-555-123-4567`, `555.123.4567`, `5551234567` | `5551234567` | [`NumberKind::Nanp`] |
//! | `+44 20 7946 0958`, `011 44 20 7946 0958` | `011442079460958` | [`NumberKind::International`] |
//! | `28444`, `911` | `28444`, `911` | [`NumberKind::Short`] |
//! | `sip:2563` | `sip:2563` | [`NumberKind::Sip`] |
//!
//! Anything else (letters, a 7-digit number without its area code, an empty string) is refused
//! with an [`InvalidNumber`] that says what was wrong.
//!
//! ```
//! use voipms_sdk::numbers::PhoneNumber;
//! let n = PhoneNumber::parse("+1 (555) 123-4567").unwrap();
//! assert_eq!(n.as_str(), "5551234567");
//! assert!(n.matches("1-555-123-4567"));
//! assert_eq!(n.area_code(), Some("555"));
//! assert!(PhoneNumber::parse("call me maybe").is_err());
//! ```

use std::fmt;
use std::str::FromStr;

/// A phone number in canonical form (see the [module documentation](self)).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    canonical: String,
    kind: NumberKind,
}

/// What kind of number a [`PhoneNumber`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NumberKind {
    /// A North American (NANP) number: ten digits, area code first, no leading `1`.
    Nanp,
    /// A number outside North America, in the `011` + country code form VoIP.ms dials.
    International,
    /// A short code or service number (2 to 6 digits).
    Short,
    /// A SIP URI reference such as `sip:2563`, kept as given (lower-case `sip:` prefix).
    Sip,
}

/// A number that cannot be normalised; the message says why and what a valid form looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a phone number: {reason}")]
pub struct InvalidNumber {
    /// The text that was refused.
    pub input: String,
    /// Why, and what would be accepted.
    pub reason: String,
}

impl InvalidNumber {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        InvalidNumber {
            input: input.to_owned(),
            reason: reason.into(),
        }
    }
}

const NANP_HINT: &str = "use 10 digits with the area code (5551234567), optionally as +1 (555) \
                         123-4567, 1-555-123-4567 or 555.123.4567";

impl PhoneNumber {
    /// Normalises a number; see the [module documentation](self) for the accepted forms.
    pub fn parse(input: &str) -> Result<Self, InvalidNumber> {
        let text = input.trim();
        if text.is_empty() {
            return Err(InvalidNumber::new(
                input,
                format!("it is empty; {NANP_HINT}"),
            ));
        }
        if let Some(rest) = strip_prefix_ignore_case(text, "sip:") {
            let rest = rest.trim();
            if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(InvalidNumber::new(
                    input,
                    "a SIP reference needs an id after `sip:` without spaces, such as sip:2563",
                ));
            }
            return Ok(PhoneNumber {
                canonical: format!("sip:{rest}"),
                kind: NumberKind::Sip,
            });
        }
        let text = strip_prefix_ignore_case(text, "tel:")
            .unwrap_or(text)
            .trim();
        let (plus, body) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut digits = String::with_capacity(body.len());
        for c in body.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
                c if c.is_alphabetic() => {
                    return Err(InvalidNumber::new(
                        input,
                        format!(
                            "it contains letters (`{c}`); spell vanity numbers out as digits, \
                             or {NANP_HINT}"
                        ),
                    ));
                }
                c => {
                    return Err(InvalidNumber::new(
                        input,
                        format!("it contains `{c}`, which no phone number has; {NANP_HINT}"),
                    ));
                }
            }
        }
        if digits.is_empty() {
            return Err(InvalidNumber::new(
                input,
                format!("it has no digits; {NANP_HINT}"),
            ));
        }
        if plus {
            return if let Some(national) = digits.strip_prefix('1') {
                nanp(input, national)
            } else if digits.len() < 7 || digits.len() > 15 {
                Err(InvalidNumber::new(
                    input,
                    "an international number has a country code and 7 to 15 digits in all",
                ))
            } else {
                Ok(PhoneNumber {
                    canonical: format!("011{digits}"),
                    kind: NumberKind::International,
                })
            };
        }
        if let Some(rest) = digits.strip_prefix("011") {
            if let Some(national) = rest.strip_prefix('1') {
                // 011 1 ... is a North American number dialled the international way.
                return nanp(input, national);
            }
            if (7..=15).contains(&rest.len()) {
                return Ok(PhoneNumber {
                    canonical: digits,
                    kind: NumberKind::International,
                });
            }
        }
        match digits.len() {
            2..=6 => Ok(PhoneNumber {
                canonical: digits,
                kind: NumberKind::Short,
            }),
            10 => nanp(input, &digits),
            11 if digits.starts_with('1') => nanp(input, &digits[1..]),
            7 => Err(InvalidNumber::new(
                input,
                format!("7 digits is a local number without its area code; {NANP_HINT}"),
            )),
            n => Err(InvalidNumber::new(
                input,
                format!(
                    "{n} digits is neither a North American number nor a short code; {NANP_HINT}, \
                     or write international numbers as +<country code><number>"
                ),
            )),
        }
    }

    /// The canonical text (`5551234567`, `011442079460958`, `28444`, `sip:2563`).
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// What kind of number this is.
    pub fn kind(&self) -> NumberKind {
        self.kind
    }

    /// The area code (NPA) of a North American number.
    pub fn area_code(&self) -> Option<&str> {
        (self.kind == NumberKind::Nanp).then(|| &self.canonical[..3])
    }

    /// The exchange (NXX, digits 4–6) of a North American number.
    pub fn exchange(&self) -> Option<&str> {
        (self.kind == NumberKind::Nanp).then(|| &self.canonical[3..6])
    }

    /// Whether `other` (in any accepted spelling, or a caller ID such as `NAME <5551234567>`) is
    /// this number. Text that is not a number never matches.
    pub fn matches(&self, other: &str) -> bool {
        match PhoneNumber::parse(other) {
            Ok(n) => n == *self,
            Err(_) => CallerId::parse(other).number.as_ref() == Some(self),
        }
    }

    /// Whether both are North American numbers with the same area code and exchange
    /// (`555-123-xxxx`): the pattern of "neighbour-spoofed" robocalls.
    pub fn same_area_and_exchange(&self, other: &PhoneNumber) -> bool {
        self.kind == NumberKind::Nanp
            && other.kind == NumberKind::Nanp
            && self.canonical[..6] == other.canonical[..6]
    }

    /// The E.164 form (`+15551234567`, `+442079460958`); `None` for short codes and SIP references.
    pub fn e164(&self) -> Option<String> {
        match self.kind {
            NumberKind::Nanp => Some(format!("+1{}", self.canonical)),
            NumberKind::International => Some(format!("+{}", &self.canonical[3..])),
            NumberKind::Short | NumberKind::Sip => None,
        }
    }
}

fn nanp(input: &str, national: &str) -> Result<PhoneNumber, InvalidNumber> {
    if national.len() != 10 {
        return Err(InvalidNumber::new(
            input,
            format!(
                "a North American number has 10 digits after the country code 1, this has {}; \
                 {NANP_HINT}",
                national.len()
            ),
        ));
    }
    if matches!(national.as_bytes()[0], b'0' | b'1') {
        return Err(InvalidNumber::new(
            input,
            format!("North American area codes never start with 0 or 1; {NANP_HINT}"),
        ));
    }
    Ok(PhoneNumber {
        canonical: national.to_owned(),
        kind: NumberKind::Nanp,
    })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.canonical)
    }
}

impl FromStr for PhoneNumber {
    type Err = InvalidNumber;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhoneNumber::parse(s)
    }
}

impl TryFrom<&str> for PhoneNumber {
    type Error = InvalidNumber;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        PhoneNumber::parse(s)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.canonical
    }
}

/// A caller ID as VoIP.ms shows it in CDR rows and filters: `"John Doe" <5551234567>`,
/// `NAME <5551234567>`, a bare number, or a word such as `Anonymous`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    /// The display name (CNAM), quotes removed; `None` when there is none.
    pub name: Option<String>,
    /// The number, when the caller ID holds one that normalises.
    pub number: Option<PhoneNumber>,
    /// Whether the caller withheld the number (`Anonymous`, `Restricted`, `Private`, `0`, …).
    pub anonymous: bool,
}

/// Words callers and carriers put in place of a withheld number.
const ANONYMOUS_WORDS: &[&str] = &[
    "anonymous",
    "restricted",
    "private",
    "unavailable",
    "unknown",
    "withheld",
    "blocked",
    "no caller id",
];

impl CallerId {
    /// Splits a caller ID into name and number. Never fails: what is not a number becomes the
    /// name, and a withheld number sets [`anonymous`](Self::anonymous).
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        let (name_part, number_part) = match (text.rfind('<'), text.ends_with('>')) {
            (Some(open), true) => (text[..open].trim(), text[open + 1..text.len() - 1].trim()),
            _ => ("", text),
        };
        let name = {
            let n = name_part.trim_matches('"').trim();
            (!n.is_empty()).then(|| n.to_owned())
        };
        let number = PhoneNumber::parse(number_part).ok();
        let (name, number) = match (name, number) {
            // A bare word such as `Anonymous` is a name, not a number.
            (None, None) if !number_part.is_empty() => (Some(number_part.to_owned()), None),
            other => other,
        };
        let withheld_word = |s: &str| {
            let l = s.trim().to_ascii_lowercase();
            ANONYMOUS_WORDS.iter().any(|w| l == *w) || l == "0" || l.is_empty()
        };
        let anonymous = number.is_none()
            && (withheld_word(number_part) || name.as_deref().is_some_and(withheld_word));
        CallerId {
            name,
            number,
            anonymous,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        PhoneNumber::parse(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn nanp_forms() {
        for s in [
            "5551234567",
            "+1 (555) 123-4567",
            "1-555-123-4567",
            "555.123.4567",
            "(555) 123 4567",
            "+15551234567",
            "15551234567",
            " 555-123-4567 ",
            "tel:+1-555-123-4567",
            "011 1 555 123 4567",
        ] {
            assert_eq!(canon(s), "5551234567", "{s}");
            assert_eq!(PhoneNumber::parse(s).unwrap().kind(), NumberKind::Nanp);
        }
        let n = PhoneNumber::parse("555.123.4567").unwrap();
        assert_eq!(n.area_code(), Some("555"));
        assert_eq!(n.exchange(), Some("123"));
        assert_eq!(n.e164().as_deref(), Some("+15551234567"));
    }

    #[test]
    fn other_forms() {
        assert_eq!(canon("sip:2563"), "sip:2563");
        assert_eq!(canon("SIP:2563"), "sip:2563");
        assert_eq!(
            PhoneNumber::parse("sip:2563").unwrap().kind(),
            NumberKind::Sip
        );
        assert_eq!(canon("+44 20 7946 0958"), "011442079460958");
        assert_eq!(canon("011442079460958"), "011442079460958");
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958")
                .unwrap()
                .e164()
                .as_deref(),
            Some("+442079460958")
        );
        assert_eq!(canon("28444"), "28444");
        assert_eq!(PhoneNumber::parse("911").unwrap().kind(), NumberKind::Short);
        assert_eq!(PhoneNumber::parse("911").unwrap().area_code(), None);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for (s, word) in [
            ("", "empty"),
            ("   ", "empty"),
            ("call me", "letters"),
            ("1-800-FLOWERS", "letters"),
            ("555-1234", "area code"),
            ("555123456789", "neither"),
            ("+1 555 123 456", "10 digits"),
            ("1555123456", "area codes never start"),
            ("0551234567", "area codes never start"),
            ("555#1234567", "`#`"),
            ("sip:", "SIP"),
            ("sip:12 34", "SIP"),
            ("+12", "10 digits"),
            ("+44 1", "international"),
            ("---", "no digits"),
        ] {
            let e = PhoneNumber::parse(s).expect_err(s);
            assert!(e.to_string().contains(word), "{s:?}: {e}");
            assert_eq!(e.input, s);
        }
    }

    #[test]
    fn matching_and_neighbours() {
        let n = PhoneNumber::parse("5551234567").unwrap();
        assert!(n.matches("+1 555 123 4567"));
        assert!(n.matches("\"John Doe\" <5551234567>"));
        assert!(n.matches("SPAM? <1-555-123-4567>"));
        assert!(!n.matches("5551234568"));
        assert!(!n.matches("Anonymous"));
        let neighbour = PhoneNumber::parse("555-123-9999").unwrap();
        let other = PhoneNumber::parse("555-124-4567").unwrap();
        assert!(n.same_area_and_exchange(&neighbour));
        assert!(!n.same_area_and_exchange(&other));
        let sip = PhoneNumber::parse("sip:5551239999").unwrap();
        assert!(!n.same_area_and_exchange(&sip));
    }

    #[test]
    fn caller_ids() {
        let c = CallerId::parse("\"John Doe\" <5551112222>");
        assert_eq!(c.name.as_deref(), Some("John Doe"));
        assert_eq!(c.number.as_ref().unwrap().as_str(), "5551112222");
        assert!(!c.anonymous);

        let c = CallerId::parse("SPAM? <4164442828>");
        assert_eq!(c.name.as_deref(), Some("SPAM?"));
        assert_eq!(c.number.unwrap().as_str(), "4164442828");

        let c = CallerId::parse("4164442828");
        assert_eq!(c.name, None);
        assert_eq!(c.number.unwrap().as_str(), "4164442828");

        for s in [
            "Anonymous",
            "\"Anonymous\" <anonymous>",
            "Restricted <0>",
            "",
            "<>",
            "PRIVATE",
        ] {
            let c = CallerId::parse(s);
            assert!(c.anonymous, "{s:?}: {c:?}");
            assert!(c.number.is_none());
        }
        let c = CallerId::parse("ACME Corp <sales>");
        assert!(!c.anonymous);
        assert_eq!(c.number, None);
        assert_eq!(c.name.as_deref(), Some("ACME Corp"));
    }
}
