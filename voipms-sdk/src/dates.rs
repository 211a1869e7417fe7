//! Date ranges and their split into the 92-day windows the history methods accept.

use std::fmt;

use chrono::{Duration, NaiveDate};

use crate::ops::OpError;
use crate::scalars::Date;

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
            return Err(OpError::invalid(format!(
                "the date range ends ({to}) before it starts ({from}); swap the dates"
            )));
        }
        Ok(DateRange { from, to })
    }

    /// The last `days` days up to and including today (UTC).
    pub fn last_days(days: u32) -> Self {
        let to = today_utc();
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

/// Today's date in UTC (from the system clock).
pub fn today_utc() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + Duration::days(days)
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
        assert_eq!(DateRange::last_days(7).days(), 7);
        assert!(DateRange::last_days(7).contains(today_utc()));
    }
}
