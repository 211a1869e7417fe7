//! Date ranges and their split into the 92-day windows the history methods accept, and the
//! clock VoIP.ms keeps its records in.
//!
//! # Server time
//!
//! VoIP.ms records every timestamp as the wall clock of [`SERVER_ZONE`] (US Eastern, observing
//! daylight saving time) and sends it without a zone. The record-listing methods (getCDR, getSMS,
//! getMMS and the reseller ones) take a `timezone` number (whole or quarter hours, a
//! [`TzOffset`](crate::TzOffset): `5.5` is honoured) and report each time shifted by
//! `timezone + 5` hours, as if Eastern were always UTC-5: `-5` reports the Eastern wall clock
//! itself, and `0` is UTC in winter but UTC+1 during daylight saving time. The same number
//! chooses whose days `date_from`/`date_to` (`from`/`to`) match, the shifted ones.
//!
//! The helpers of this crate (`cdr`, `sms`, `recordings`, each behind its cargo features) give
//! every timestamp one meaning: **server time**, the
//! Eastern wall clock, whatever `timezone` they sent ([`unshift`] undoes the shift). That is also
//! what getCallRecordings, getVoicemailMessages and the other unshifted methods report, so one
//! call reads the same everywhere. [`server_time_to_utc`] and [`utc_to_server_time`] convert.
//!
//! ```
//! use voipms_sdk::dates::{server_time_to_utc, unshift};
//! use voipms_sdk::chrono::{NaiveDate, LocalResult};
//! // A call at 12:28:34 Eastern daylight time, listed with timezone=0, comes back an hour
//! // past UTC.
//! let reported = NaiveDate::from_ymd_opt(2026, 9, 23).unwrap().and_hms_opt(17, 28, 34).unwrap();
//! let server = unshift(reported, 0);
//! assert_eq!(server.to_string(), "2026-09-23 12:28:34");
//! let LocalResult::Single(at) = server_time_to_utc(server) else { panic!() };
//! assert_eq!(at.to_rfc3339(), "2026-09-23T12:28:34-04:00");
//! ```

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Utc, Weekday,
};

use crate::Client;

use crate::ops::OpError;
use crate::scalars::{Date, TzOffset};

/// The longest range one getCDR (or getSMS/getMMS) call accepts, in days (dates inclusive).
pub const MAX_WINDOW_DAYS: u32 = 92;

/// A range of dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateRange {
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
}

impl DateRange {
    /// The range `from..=to`; refused when `to` is before `from`.
    pub fn new(from: Date, to: Date) -> Result<Self, OpError> {
        if to < from {
            return Err(OpError::BackwardsRange { from, to });
        }
        Ok(DateRange { from, to })
    }

    /// The last `days` days up to and including the client's today: the date of its server
    /// time ([`Client::today`]), which is the sandbox's own date for a sandbox client.
    pub fn last_days(client: &Client, days: u32) -> Self {
        DateRange::ending(client.today(), days)
    }

    /// The `days` days (at least 1) up to and including `to`.
    pub fn ending(to: Date, days: u32) -> Self {
        DateRange {
            from: to - Duration::days(i64::from(days.max(1)) - 1),
            to,
        }
    }

    /// Number of days, both ends included.
    pub fn days(&self) -> u32 {
        u32::try_from((self.to - self.from).num_days() + 1).unwrap_or(u32::MAX)
    }

    /// Whether `date` falls in the range.
    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }

    /// Consecutive windows of at most `max_days` days (at least 1) covering the range exactly:
    /// no gap, no overlap, oldest first.
    pub fn windows(&self, max_days: u32) -> Vec<DateRange> {
        let step = i64::from(max_days.max(1));
        let mut out = Vec::new();
        let mut start = self.from;
        while start <= self.to {
            let end = (start + Duration::days(step - 1)).min(self.to);
            out.push(DateRange {
                from: start,
                to: end,
            });
            match end.succ_opt() {
                Some(next) => start = next,
                None => break,
            }
        }
        out
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.from, self.to)
    }
}

/// Today's date in UTC (from the system clock). The helpers use [`Client::today`] instead, the
/// server's date by the client's clock.
pub fn today_utc() -> Date {
    utc_now().date_naive()
}

/// The system clock (chrono's `clock` feature is not compiled in).
pub(crate) fn utc_now() -> DateTime<Utc> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    DateTime::from_timestamp(i64::try_from(since.as_secs()).unwrap_or(0), 0).unwrap_or_default()
}

/// The zone whose wall clock VoIP.ms records times in (US Eastern, daylight saving observed).
pub const SERVER_ZONE: &str = "America/New_York";

const HOUR: i64 = 3600;

/// The `n`th `weekday` of `month` (n = 1..=4), or the last one when `n` is 0.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    if n == 0 {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        let last = next.and_then(|d| d.pred_opt()).unwrap_or_default();
        let back = (7 + last.weekday().num_days_from_sunday() - weekday.num_days_from_sunday()) % 7;
        return last - Duration::days(i64::from(back));
    }
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).unwrap_or_default()
}

/// The days daylight saving time starts and ends in US Eastern that year (the rules since 2007,
/// and the 1987–2006 ones before; both switch at 02:00 local time).
fn dst_days(year: i32) -> (NaiveDate, NaiveDate) {
    if year >= 2007 {
        (
            nth_weekday(year, 3, Weekday::Sun, 2),
            nth_weekday(year, 11, Weekday::Sun, 1),
        )
    } else {
        (
            nth_weekday(year, 4, Weekday::Sun, 1),
            nth_weekday(year, 10, Weekday::Sun, 0),
        )
    }
}

/// Eastern standard and daylight offsets.
fn est() -> FixedOffset {
    FixedOffset::west_opt(5 * 3600).expect("in range")
}
fn edt() -> FixedOffset {
    FixedOffset::west_opt(4 * 3600).expect("in range")
}

/// The offset of [`SERVER_ZONE`] at instant `at`: UTC-04:00 during daylight saving time,
/// UTC-05:00 otherwise.
pub fn server_offset_at(at: DateTime<Utc>) -> FixedOffset {
    let (start, end) = dst_days(at.year());
    // 02:00 EST is 07:00 UTC; 02:00 EDT is 06:00 UTC.
    let start = start.and_hms_opt(7, 0, 0).unwrap_or_default().and_utc();
    let end = end.and_hms_opt(6, 0, 0).unwrap_or_default().and_utc();
    if at >= start && at < end {
        edt()
    } else {
        est()
    }
}

/// The server time (Eastern wall clock) at instant `at`.
pub fn utc_to_server_time(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&server_offset_at(at)).naive_local()
}

/// The instant a server time stands for: `Single` nearly always, `Ambiguous(daylight,
/// standard)` in the hour repeated when clocks fall back, `None` in the hour skipped when they
/// spring forward (no record carries such a time).
pub fn server_time_to_utc(server: NaiveDateTime) -> LocalResult<DateTime<FixedOffset>> {
    let (start, end) = dst_days(server.year());
    let spring = start.and_hms_opt(2, 0, 0).unwrap_or_default();
    let fall = end.and_hms_opt(1, 0, 0).unwrap_or_default();
    let zoned = |o: FixedOffset| {
        server
            .and_local_timezone(o)
            .single()
            .expect("a fixed offset maps every wall clock")
    };
    if server >= spring && server < spring + Duration::hours(1) {
        LocalResult::None
    } else if server >= fall && server < fall + Duration::hours(1) {
        LocalResult::Ambiguous(zoned(edt()), zoned(est()))
    } else if server > spring && server < fall {
        LocalResult::Single(zoned(edt()))
    } else {
        LocalResult::Single(zoned(est()))
    }
}

/// Undoes the shift of a record-listing method: a time it reported for request parameter
/// `timezone` (the number sent: whole hours, or a [`TzOffset`] such as `5.5`) as server time. The
/// service adds `timezone + 5` hours to the Eastern wall clock, whatever the season.
pub fn unshift(reported: NaiveDateTime, timezone: impl Into<TzOffset>) -> NaiveDateTime {
    reported - Duration::seconds(i64::from(timezone.into().minutes()) * 60 + 5 * HOUR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn windows_cover_exactly() {
        let r = DateRange::new(d(2024, 1, 1), d(2025, 2, 4)).unwrap();
        assert_eq!(r.days(), 401);
        let w = r.windows(92);
        assert_eq!(w.len(), 5);
        assert_eq!(w[0].from, r.from);
        assert_eq!(w.last().unwrap().to, r.to);
        for pair in w.windows(2) {
            assert_eq!(
                pair[0].to.succ_opt().unwrap(),
                pair[1].from,
                "no gap, no overlap"
            );
        }
        assert!(w.iter().all(|x| x.days() <= 92));
        assert_eq!(w.iter().map(DateRange::days).sum::<u32>(), 401);
        // Exactly 92 days is one window; 93 is two.
        let r92 = DateRange::new(d(2024, 1, 1), d(2024, 4, 1)).unwrap();
        assert_eq!(r92.days(), 92);
        assert_eq!(r92.windows(92).len(), 1);
        let r93 = DateRange::new(d(2024, 1, 1), d(2024, 4, 2)).unwrap();
        assert_eq!(r93.windows(92).len(), 2);
        // One day.
        let one = DateRange::new(d(2024, 2, 29), d(2024, 2, 29)).unwrap();
        assert_eq!(one.windows(92), vec![one]);
        assert_eq!(one.windows(0), vec![one]);
        assert!(DateRange::new(d(2024, 2, 2), d(2024, 2, 1)).is_err());
        assert_eq!(DateRange::ending(d(2024, 3, 2), 7).days(), 7);
        assert_eq!(DateRange::ending(d(2024, 3, 2), 7).from, d(2024, 2, 25));
        assert_eq!(DateRange::ending(d(2024, 3, 2), 0).days(), 1);
    }

    fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(h, min, 0).unwrap()
    }

    #[test]
    fn eastern_daylight_saving_rules() {
        // 2026: 8 March to 1 November; 2006 (old rules): 2 April to 29 October.
        assert_eq!(dst_days(2026), (d(2026, 3, 8), d(2026, 11, 1)));
        assert_eq!(dst_days(2006), (d(2006, 4, 2), d(2006, 10, 29)));
        assert_eq!(dst_days(2024), (d(2024, 3, 10), d(2024, 11, 3)));
        let utc = |dt: NaiveDateTime| dt.and_utc();
        // Summer and winter.
        assert_eq!(
            utc_to_server_time(utc(at(2026, 9, 23, 16, 28))),
            at(2026, 9, 23, 12, 28)
        );
        assert_eq!(
            utc_to_server_time(utc(at(2026, 1, 15, 16, 28))),
            at(2026, 1, 15, 11, 28)
        );
        // The switches themselves, one minute either side.
        assert_eq!(server_offset_at(utc(at(2026, 3, 8, 6, 59))), est());
        assert_eq!(server_offset_at(utc(at(2026, 3, 8, 7, 0))), edt());
        assert_eq!(server_offset_at(utc(at(2026, 11, 1, 5, 59))), edt());
        assert_eq!(server_offset_at(utc(at(2026, 11, 1, 6, 0))), est());
        // Back: single, skipped, repeated.
        let single = |w| match server_time_to_utc(w) {
            LocalResult::Single(t) => t.offset().local_minus_utc() / 3600,
            other => panic!("{w}: {other:?}"),
        };
        assert_eq!(single(at(2026, 7, 4, 12, 0)), -4);
        assert_eq!(single(at(2026, 12, 4, 12, 0)), -5);
        assert_eq!(single(at(2026, 3, 8, 1, 59)), -5);
        assert_eq!(single(at(2026, 3, 8, 3, 0)), -4);
        assert_eq!(single(at(2026, 11, 1, 0, 59)), -4);
        assert_eq!(single(at(2026, 11, 1, 2, 0)), -5);
        assert_eq!(server_time_to_utc(at(2026, 3, 8, 2, 30)), LocalResult::None);
        assert!(matches!(
            server_time_to_utc(at(2026, 11, 1, 1, 30)),
            LocalResult::Ambiguous(a, b) if a.offset().local_minus_utc() == -4 * 3600
                && b.offset().local_minus_utc() == -5 * 3600
        ));
        // Round trip every half hour of a year.
        let mut t = utc(at(2026, 1, 1, 0, 0));
        while t.year() == 2026 {
            let server = utc_to_server_time(t);
            let back = server_time_to_utc(server);
            assert!(
                back.earliest().map(|x| x.to_utc()) == Some(t)
                    || back.latest().map(|x| x.to_utc()) == Some(t),
                "{t} -> {server}"
            );
            t += Duration::minutes(30);
        }
    }

    #[test]
    fn unshift_takes_back_timezone_plus_five_hours() {
        // The peer's measured call: 16:28:34 UTC on 2026-09-23, during daylight saving time.
        let wall = at(2026, 9, 23, 12, 28);
        for tz in [-12, -5, -4, 0, 13] {
            let reported = wall + Duration::hours(i64::from(tz) + 5);
            assert_eq!(unshift(reported, tz), wall, "timezone {tz}");
        }
        // timezone=0 in summer is UTC+1, not UTC.
        assert_eq!(wall + Duration::hours(5), at(2026, 9, 23, 17, 28));
    }
}
