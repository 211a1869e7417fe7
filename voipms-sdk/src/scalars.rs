//! Value types shared by requests and responses: exact decimals, base64 payloads, limits, dates.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

/// A calendar date (`YYYY-MM-DD` on the wire). VoIP.ms dates carry no time zone.
pub type Date = chrono::NaiveDate;
/// A date and time (`YYYY-MM-DD HH:MM:SS` on the wire), in the account's server time, no zone.
pub type DateTime = chrono::NaiveDateTime;

/// An exact decimal number (money, rates): compares, sums and subtracts by value
/// (`10.00 > 9.99`, `1.5 == 1.50`), never through floating point, and keeps the scale VoIP.ms
/// sent (`112.192790` prints as `112.192790`).
///
/// Backed by [`rust_decimal::Decimal`] (28 significant digits), reachable with
/// [`Decimal::value`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decimal(rust_decimal::Decimal);

/// The text is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a decimal number (expected digits with an optional sign and fraction, e.g. 4.99)"
)]
pub struct InvalidDecimal(pub String);

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal(rust_decimal::Decimal::ZERO);

    /// Parses `-12.50`, `4`, `0.0123`; surrounding spaces are trimmed. No exponents, no
    /// separators, at most 28 significant digits.
    pub fn parse(text: &str) -> Result<Self, InvalidDecimal> {
        let t = text.trim();
        if !is_decimal(t) {
            return Err(InvalidDecimal(text.to_owned()));
        }
        let t = t.strip_prefix('+').unwrap_or(t);
        rust_decimal::Decimal::from_str_exact(t)
            .map(Decimal)
            .map_err(|_| InvalidDecimal(text.to_owned()))
    }

    /// The exact value.
    pub fn value(self) -> rust_decimal::Decimal {
        self.0
    }

    /// An approximate floating-point value (for display or arithmetic that tolerates rounding).
    pub fn to_f64(&self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(0.0)
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(v: rust_decimal::Decimal) -> Self {
        Decimal(v)
    }
}

impl From<Decimal> for rust_decimal::Decimal {
    fn from(v: Decimal) -> Self {
        v.0
    }
}

impl std::ops::Add for Decimal {
    type Output = Decimal;
    fn add(self, rhs: Decimal) -> Decimal {
        Decimal(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Decimal {
    type Output = Decimal;
    fn sub(self, rhs: Decimal) -> Decimal {
        Decimal(self.0 - rhs.0)
    }
}

impl std::ops::Neg for Decimal {
    type Output = Decimal;
    fn neg(self) -> Decimal {
        Decimal(-self.0)
    }
}

impl std::ops::AddAssign for Decimal {
    fn add_assign(&mut self, rhs: Decimal) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Decimal {
    fn sum<I: Iterator<Item = Decimal>>(iter: I) -> Decimal {
        iter.fold(Decimal::ZERO, |a, b| a + b)
    }
}

impl<'a> std::iter::Sum<&'a Decimal> for Decimal {
    fn sum<I: Iterator<Item = &'a Decimal>>(iter: I) -> Decimal {
        iter.copied().sum()
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
        fmt::Display::fmt(&self.0, f)
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
                Decimal(rust_decimal::Decimal::from(v))
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

/// The `timezone` number of the record-listing methods (getCDR, getSMS, getMMS and the reseller
/// ones): hours from `-12` to `13`, in quarter hours, since the live API honours fractions
/// (`5.5` was measured; real zones are off the hour by 30 or 45 minutes: `-3.5`, `9.75`).
/// VoIP.ms adds `timezone + 5` hours to the times it lists (see [`dates`](crate::dates)).
///
/// Reads `5.5`, `-3.50`, `+4`; prints the shortest form (`5.5`, `-3.5`, `4`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TzOffset(i16);

/// Text that is not a `timezone` number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a timezone number: hours from -12 to 13, whole or in quarter hours (-5, 5.5, 9.75)"
)]
pub struct InvalidTzOffset(pub String);

impl TzOffset {
    /// The lowest offset VoIP.ms takes, in minutes (-12 hours).
    pub const MIN_MINUTES: i16 = -12 * 60;
    /// The highest offset VoIP.ms takes, in minutes (13 hours).
    pub const MAX_MINUTES: i16 = 13 * 60;

    /// The offset of `minutes`, when it is a quarter hour from -12 to 13 hours.
    pub fn from_minutes(minutes: i32) -> Option<Self> {
        let m = i16::try_from(minutes).ok()?;
        (m % 15 == 0 && (Self::MIN_MINUTES..=Self::MAX_MINUTES).contains(&m)).then_some(TzOffset(m))
    }

    /// Whole hours, clamped to -12..=13.
    pub fn hours(hours: i32) -> Self {
        // The clamp keeps the product well inside i16.
        TzOffset(hours.clamp(-12, 13) as i16 * 60)
    }

    /// The offset in minutes.
    pub fn minutes(self) -> i32 {
        i32::from(self.0)
    }
}

impl From<i32> for TzOffset {
    /// Whole hours, clamped to -12..=13.
    fn from(hours: i32) -> Self {
        TzOffset::hours(hours)
    }
}

impl FromStr for TzOffset {
    type Err = InvalidTzOffset;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidTzOffset(s.to_owned());
        let t = s.trim();
        let (negative, digits) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || int.len() > 2 || !all_digits(int) || !all_digits(frac) {
            return Err(bad());
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(bad());
        }
        // Minutes of the fraction, exact only for quarter hours (`.5`, `.25`, `.750`, …).
        let frac = frac.trim_end_matches('0');
        let part = match frac {
            "" => 0,
            "25" => 15,
            "5" => 30,
            "75" => 45,
            _ => return Err(bad()),
        };
        let whole: i32 = int.parse().map_err(|_| bad())?;
        let minutes = whole * 60 + part;
        TzOffset::from_minutes(if negative { -minutes } else { minutes }).ok_or_else(bad)
    }
}

impl TryFrom<&str> for TzOffset {
    type Error = InvalidTzOffset;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for TzOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.minutes();
        let sign = if m < 0 { "-" } else { "" };
        let (h, rest) = (m.abs() / 60, m.abs() % 60);
        match rest {
            0 => write!(f, "{sign}{h}"),
            15 => write!(f, "{sign}{h}.25"),
            30 => write!(f, "{sign}{h}.5"),
            _ => write!(f, "{sign}{h}.75"),
        }
    }
}

/// A response date that may also be a period: VoIP.ms reports the row that totals a window
/// (getTransactionHistory's monthly call charges) with `date` = `2026-08-01 to 2026-08-31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateOrPeriod {
    /// A point in time (`2026-08-14 10:22:31`).
    At(DateTime),
    /// A day with no time of day (`2026-08-14`).
    On(Date),
    /// The window a total covers, both days included.
    Period {
        /// First day.
        from: Date,
        /// Last day.
        to: Date,
    },
}

impl DateOrPeriod {
    /// Reads the wire forms; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let day = |s: &str| Date::parse_from_str(s.trim(), "%Y-%m-%d").ok();
        if let Some((a, b)) = t.split_once(" to ") {
            return Some(DateOrPeriod::Period {
                from: day(a)?,
                to: day(b)?,
            });
        }
        if let Some(d) = day(t) {
            return Some(DateOrPeriod::On(d));
        }
        DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
            .ok()
            .map(DateOrPeriod::At)
    }

    /// The day this happened on, or the first day of the period (a sort key that keeps every row).
    pub fn date(&self) -> Date {
        match self {
            DateOrPeriod::At(t) => t.date(),
            DateOrPeriod::On(d) => *d,
            DateOrPeriod::Period { from, .. } => *from,
        }
    }

    /// The timestamp, for a row that has one.
    pub fn at(&self) -> Option<DateTime> {
        match self {
            DateOrPeriod::At(t) => Some(*t),
            _ => None,
        }
    }

    /// The period, for a row that totals one.
    pub fn period(&self) -> Option<(Date, Date)> {
        match self {
            DateOrPeriod::Period { from, to } => Some((*from, *to)),
            _ => None,
        }
    }
}

impl fmt::Display for DateOrPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateOrPeriod::At(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S")),
            DateOrPeriod::On(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DateOrPeriod::Period { from, to } => {
                write!(
                    f,
                    "{} to {}",
                    from.format("%Y-%m-%d"),
                    to.format("%Y-%m-%d")
                )
            }
        }
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
    fn decimals_are_exact_and_compare_by_value() {
        assert_eq!(
            Decimal::parse("112.192790").unwrap().to_string(),
            "112.192790"
        );
        assert_eq!(Decimal::parse(" -4.5 ").unwrap().to_string(), "-4.5");
        assert_eq!(Decimal::parse(".5").unwrap().to_string(), "0.5");
        assert_eq!(Decimal::parse("+2").unwrap().to_string(), "2");
        assert_eq!(Decimal::from(7u32).to_string(), "7");
        let d = |t: &str| Decimal::parse(t).unwrap();
        assert!(d("10.00") > d("9.99"));
        assert_eq!(d("1.5"), d("1.50"));
        assert_eq!(d("0.1") + d("0.2"), d("0.3"));
        assert_eq!(
            [d("4.99"), d("0.01"), d("-1")].iter().sum::<Decimal>(),
            d("4.00")
        );
        assert_eq!(d("5") - d("0.25"), d("4.75"));
        assert!(Decimal::parse("1234567890123456789012345678901234").is_err());
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

    #[test]
    fn dates_or_periods() {
        let day = |y, m, d| Date::from_ymd_opt(y, m, d).unwrap();
        let p = DateOrPeriod::parse("2026-08-01 to 2026-08-31").unwrap();
        assert_eq!(p.period(), Some((day(2026, 8, 1), day(2026, 8, 31))));
        assert_eq!(p.to_string(), "2026-08-01 to 2026-08-31");
        let at = DateOrPeriod::parse("2026-08-14 10:22:31").unwrap();
        assert_eq!(at.date(), day(2026, 8, 14));
        assert!(at.at().is_some());
        assert_eq!(
            DateOrPeriod::parse("2026-08-14"),
            Some(DateOrPeriod::On(day(2026, 8, 14)))
        );
        assert_eq!(DateOrPeriod::parse("last month"), None);
    }
}
