//! Value types shared by requests and responses: exact decimals, base64 payloads, limits, dates.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

/// A calendar date (`YYYY-MM-DD` on the wire). VoIP.ms dates carry no time zone.
pub type Date = chrono::NaiveDate;
/// A date and time (`YYYY-MM-DD HH:MM:SS` on the wire), in the account's server time, no zone.
pub type DateTime = chrono::NaiveDateTime;

/// An exact decimal number kept as the text VoIP.ms sent or will receive (money, rates).
///
/// Never goes through floating point unless you ask for [`Decimal::to_f64`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decimal(String);

/// The text is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a decimal number (expected digits with an optional sign and fraction, e.g. 4.99)"
)]
pub struct InvalidDecimal(pub String);

impl Decimal {
    /// Parses `-12.50`, `4`, `0.0123`; surrounding spaces are trimmed.
    pub fn parse(text: &str) -> Result<Self, InvalidDecimal> {
        let t = text.trim();
        if is_decimal(t) {
            Ok(Decimal(t.to_owned()))
        } else {
            Err(InvalidDecimal(text.to_owned()))
        }
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An approximate floating-point value (for display or arithmetic that tolerates rounding).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(0.0)
    }
}

pub(crate) fn is_decimal(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = digits(int);
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && digits(f));
    int_ok && frac_ok && (!int.is_empty() || frac.is_some())
}

impl FromStr for Decimal {
    type Err = InvalidDecimal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.0)
    }
}

macro_rules! decimal_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Decimal {
            fn from(v: $t) -> Self {
                Decimal(v.to_string())
            }
        }
    )*};
}
decimal_from_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl TryFrom<&str> for Decimal {
    type Error = InvalidDecimal;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Decimal::parse(s)
    }
}

/// A binary payload sent as base64 (fax documents, recordings, MMS media).
#[derive(Clone, PartialEq, Eq)]
pub struct Base64(String);

impl Base64 {
    /// Encodes raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Wraps text that is already base64 (it is sent as is).
    pub fn from_encoded(text: impl Into<String>) -> Self {
        Base64(text.into())
    }

    /// The base64 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Decodes back to bytes.
    pub fn decode(&self) -> Result<Vec<u8>, base64::DecodeError> {
        decode_base64(&self.0)
    }
}

/// Decodes base64 as VoIP.ms sends it (standard alphabet; whitespace and a `data:` prefix tolerated).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let body = match text.find(";base64,") {
        Some(i) if text.starts_with("data:") => &text[i + 8..],
        _ => text,
    };
    let clean: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean)
}

impl From<Vec<u8>> for Base64 {
    fn from(v: Vec<u8>) -> Self {
        Base64::from_bytes(&v)
    }
}

impl From<&[u8]> for Base64 {
    fn from(v: &[u8]) -> Self {
        Base64::from_bytes(v)
    }
}

impl fmt::Debug for Base64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Base64(<{} chars>)", self.0.len())
    }
}

/// A capacity that VoIP.ms reports either as a number or as the word `Unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// No limit.
    Unlimited,
    /// At most this many.
    Count(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_text() {
        assert_eq!(Decimal::parse("112.192790").unwrap().as_str(), "112.192790");
        assert_eq!(Decimal::parse(" -4.5 ").unwrap().as_str(), "-4.5");
        assert_eq!(Decimal::parse(".5").unwrap().as_str(), ".5");
        assert_eq!(Decimal::from(7u32).as_str(), "7");
        for bad in ["", "-", "1.", "1.2.3", "abc", "1e5", "."] {
            assert!(Decimal::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!((Decimal::parse("0.0125").unwrap().to_f64() - 0.0125).abs() < 1e-12);
    }

    #[test]
    fn base64_round_trip_and_data_uri() {
        let b = Base64::from_bytes(b"ID3\x04");
        assert_eq!(b.as_str(), "SUQzBA==");
        assert_eq!(b.decode().unwrap(), b"ID3\x04");
        assert_eq!(
            decode_base64("data:audio/mpeg;base64,SUQz\nBA==").unwrap(),
            b"ID3\x04"
        );
        assert_eq!(format!("{b:?}"), "Base64(<8 chars>)");
    }
}
