//! Times and money as the sandbox stores and prints them.
//!
//! Times are naive "server time" (VoIP.ms's wall clock: US Eastern with daylight saving, no
//! zone) kept as seconds since 1970-01-01 00:00:00 of that wall clock; money is kept in units of 10⁻⁸ dollars, the precision
//! of VoIP.ms's CDR amounts, so sums never drift.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// Seconds per day.
pub(crate) const DAY: i64 = 86_400;

/// One dollar in storage units.
pub(crate) const DOLLAR: i64 = 100_000_000;

/// The real clock now, as server time: the US Eastern wall clock, daylight saving observed, as
/// VoIP.ms records it (`crate::dates`).
pub(crate) fn server_now() -> i64 {
    crate::dates::utc_to_server_time(crate::dates::utc_now())
        .and_utc()
        .timestamp()
}

/// Seconds of `date` at `h:m:s`.
pub(crate) fn at(date: NaiveDate, h: u32, m: u32, s: u32) -> i64 {
    date.and_hms_opt(h, m, s)
        .map_or(0, |dt| dt.and_utc().timestamp())
}

/// The start of `date`.
pub(crate) fn day_start(date: NaiveDate) -> i64 {
    at(date, 0, 0, 0)
}

/// The date of a stored time.
pub(crate) fn date_of(t: i64) -> NaiveDate {
    to_naive(t).date()
}

pub(crate) fn to_naive(t: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn datetime(t: i64) -> String {
    let d = to_naive(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// `YYYY-MM-DD`.
pub(crate) fn date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// `HH:MM:SS` (hours may pass 24).
pub(crate) fn hms(seconds: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    )
}

/// `MM:SS` under an hour, `HH:MM:SS` above.
pub(crate) fn ms(seconds: u64) -> String {
    if seconds < 3600 {
        format!("{:02}:{:02}", seconds / 60, seconds % 60)
    } else {
        hms(seconds)
    }
}

/// Money with `decimals` places (truncated, as VoIP.ms shows balances).
pub(crate) fn money(units: i64, decimals: u32) -> String {
    let neg = units < 0;
    let abs = units.unsigned_abs();
    let whole = abs / DOLLAR as u64;
    let frac = abs % DOLLAR as u64;
    let scaled = frac / 10u64.pow(8 - decimals.min(8));
    let sign = if neg && (whole > 0 || scaled > 0) {
        "-"
    } else {
        ""
    };
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{scaled:0width$}", width = decimals as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let d = NaiveDate::from_ymd_opt(2025, 6, 12).unwrap();
        let t = at(d, 10, 40, 16);
        assert_eq!(datetime(t), "2025-06-12 10:40:16");
        assert_eq!(date_of(t), d);
        assert_eq!(hms(37068), "10:17:48");
        assert_eq!(ms(650), "10:50");
        assert_eq!(money(11_219_279_000, 6), "112.192790");
        assert_eq!(money(-99_000_000, 2), "-0.99");
        assert_eq!(money(2_700_000, 8), "0.02700000");
    }
}
