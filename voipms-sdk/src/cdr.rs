//! Call detail record export over any date range.
//!
//! `getCDR` answers at most 92 days per call and refuses a query without a call-status flag
//! (`no_callstatus`). [`CdrQuery`] asks for all four statuses by default, splits the range into
//! windows of at most 92 days (dates inclusive, adjacent windows never overlap), fetches them with
//! bounded concurrency (4 by default) — every call still goes through the client, so its spacing
//! (`min_interval`) and retry policy apply — and yields the rows in date order without duplicates
//! (by `uniqueid`).
//!
//! [`CdrQuery::stream`] yields rows window by window: memory holds at most the windows in flight
//! plus one day of look-ahead, whatever the total. [`CdrQuery::fetch_all`] collects everything.
//!
//! # Time zones
//!
//! Every row's `date` is **server time**: the wall clock of US Eastern with daylight saving
//! ([`dates`](crate::dates)), the clock getCallRecordings and the rest of VoIP.ms report, so a
//! call reads the same here as in its recording. getCDR itself reports each time shifted by
//! `timezone + 5` hours, whatever the season; the export sends [`CdrQuery::timezone`] (`-5`, no
//! shift, by default) and takes the shift back off each row ([`dates::unshift`](crate::dates::unshift)).
//! The number sent still chooses whose days the range means: with `0`, a window's days are
//! server time + 5 hours (UTC in winter, UTC+1 in summer). Convert a row to an instant with
//! [`server_time_to_utc`](crate::dates::server_time_to_utc). Because of the shift a row can
//! carry a date just outside its window; ordering and de-duplication allow a day either side.
//!
//! ```no_run
//! # async fn demo(client: voipms_sdk::Client) -> Result<(), voipms_sdk::ops::OpError> {
//! use voipms_sdk::cdr::CdrQuery;
//! use voipms_sdk::chrono::NaiveDate;
//! let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
//! let to = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
//! let mut rows = CdrQuery::new(from, to)
//!     .on_progress(|p| eprintln!("{}/{} windows", p.windows_done, p.windows_total))
//!     .stream(&client);
//! while let Some(row) = rows.next().await {
//!     let row = row?;
//!     println!("{:?} {:?}", row.date, row.callerid);
//! }
//! # Ok(()) }
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chrono::{Duration, NaiveDateTime};
use futures_util::stream::{self, Stream, StreamExt};

use crate::Client;
use crate::api::{CdrRecord, GetCdr};
use crate::dates::unshift;
use crate::ops::{ApiCall, CallOutcome, Failure, OpError};
use crate::request::Request;
use crate::scalars::{Date, TzOffset};

pub use crate::dates::{DateRange, MAX_WINDOW_DAYS, today_utc};

/// Windows fetched at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The `timezone` number sent by default: -5, which getCDR reports unshifted (server time, the
/// Eastern wall clock, daylight saving included) and whose days are the server's.
pub const DEFAULT_TIMEZONE: i32 = -5;

/// Progress of an export, reported after each window (in date order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdrProgress {
    /// Windows fetched and processed so far.
    pub windows_done: usize,
    /// Windows in all.
    pub windows_total: usize,
    /// The window just processed.
    pub window: DateRange,
    /// Rows that window returned.
    pub window_rows: usize,
    /// Rows returned by all windows so far.
    pub rows_fetched: usize,
    /// Duplicates dropped so far.
    pub duplicates: usize,
}

type ProgressFn = Arc<dyn Fn(&CdrProgress) + Send + Sync>;

/// A getCDR export over any date range. See the [module documentation](self).
#[derive(Clone)]
pub struct CdrQuery {
    range: DateRange,
    timezone: TzOffset,
    answered: bool,
    noanswer: bool,
    busy: bool,
    failed: bool,
    calltype: Option<String>,
    callbilling: Option<String>,
    account: Option<String>,
    window_days: u32,
    concurrency: usize,
    progress: Option<ProgressFn>,
}

impl fmt::Debug for CdrQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CdrQuery")
            .field("range", &self.range)
            .field("timezone", &self.timezone)
            .field("answered", &self.answered)
            .field("noanswer", &self.noanswer)
            .field("busy", &self.busy)
            .field("failed", &self.failed)
            .field("calltype", &self.calltype)
            .field("callbilling", &self.callbilling)
            .field("account", &self.account)
            .field("window_days", &self.window_days)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl CdrQuery {
    /// Every call from `from` to `to` (inclusive; the two are swapped if given backwards): all
    /// four call statuses, timezone -5 (the server's days), 92-day windows, 4 windows at a
    /// time.
    pub fn new(from: Date, to: Date) -> Self {
        let (from, to) = if to < from { (to, from) } else { (from, to) };
        CdrQuery::for_range(DateRange { from, to })
    }

    /// Like [`new`](Self::new), for a [`DateRange`].
    pub fn for_range(range: DateRange) -> Self {
        CdrQuery {
            range,
            timezone: TzOffset::hours(DEFAULT_TIMEZONE),
            answered: true,
            noanswer: true,
            busy: true,
            failed: true,
            calltype: None,
            callbilling: None,
            account: None,
            window_days: MAX_WINDOW_DAYS,
            concurrency: DEFAULT_CONCURRENCY,
            progress: None,
        }
    }

    /// The getCDR `timezone` number: whole hours (-12 to 13; values outside are clamped) or a
    /// [`TzOffset`] such as `5.5`. It chooses whose days the range means (server time +
    /// `timezone + 5` hours). The rows come back in server time whatever it is — see the
    /// [module documentation](self).
    pub fn timezone(mut self, offset: impl Into<TzOffset>) -> Self {
        self.timezone = offset.into();
        self
    }

    /// Which call statuses to include (all four by default). At least one must be on; with all
    /// off the query asks for all four rather than fail with `no_callstatus`.
    pub fn statuses(mut self, answered: bool, noanswer: bool, busy: bool, failed: bool) -> Self {
        let any = answered || noanswer || busy || failed;
        self.answered = answered || !any;
        self.noanswer = noanswer || !any;
        self.busy = busy || !any;
        self.failed = failed || !any;
        self
    }

    /// Only calls of this type (`all`, `incoming`, `outgoing`, or a DID; see getCallTypes).
    pub fn calltype(mut self, calltype: impl Into<String>) -> Self {
        self.calltype = Some(calltype.into());
        self
    }

    /// Only calls billed this way (`all`, `free`, `billed`; see getCallBilling).
    pub fn callbilling(mut self, callbilling: impl Into<String>) -> Self {
        self.callbilling = Some(callbilling.into());
        self
    }

    /// Only calls of this (sub-)account (see getCallAccounts).
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Window length in days (1 to 92; 92 by default). Smaller windows mean more calls but less
    /// memory per window when streaming.
    pub fn window_days(mut self, days: u32) -> Self {
        self.window_days = days.clamp(1, MAX_WINDOW_DAYS);
        self
    }

    /// Windows fetched at once (at least 1; 4 by default). The client's `min_interval` still
    /// spaces the calls themselves.
    pub fn concurrency(mut self, windows: usize) -> Self {
        self.concurrency = windows.max(1);
        self
    }

    /// Calls `f` after each window is processed, in date order.
    pub fn on_progress(mut self, f: impl Fn(&CdrProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The date range.
    pub fn range(&self) -> DateRange {
        self.range
    }

    /// The windows the range is split into.
    pub fn windows(&self) -> Vec<DateRange> {
        self.range.windows(self.window_days)
    }

    /// The getCDR request for one window.
    pub fn request(&self, window: DateRange) -> GetCdr {
        let mut r = GetCdr::new(window.from, window.to, self.timezone)
            .answered(self.answered)
            .noanswer(self.noanswer)
            .busy(self.busy)
            .failed(self.failed);
        if let Some(v) = &self.calltype {
            r = r.calltype(v.as_str());
        }
        if let Some(v) = &self.callbilling {
            r = r.callbilling(v.as_str());
        }
        if let Some(v) = &self.account {
            r = r.account(v.as_str());
        }
        r
    }

    /// Every request the export sends, oldest window first.
    pub fn requests(&self) -> Vec<GetCdr> {
        self.windows()
            .into_iter()
            .map(|w| self.request(w))
            .collect()
    }

    /// Streams the rows in date order, without duplicates, window by window. Memory does not grow
    /// with the number of rows: at most `concurrency` windows are held, plus a day of look-ahead.
    pub fn stream(&self, client: &Client) -> CdrStream {
        let windows = self.windows();
        let query = self.clone();
        let client = client.clone();
        let timezone = self.timezone;
        let fetches = stream::iter(windows.clone().into_iter().enumerate())
            .map(move |(index, window)| {
                let request = query.request(window);
                let client = client.clone();
                async move {
                    let result = client.send(&request).await;
                    let call = ApiCall {
                        method: GetCdr::METHOD,
                        params: request.to_params(),
                        effect: GetCdr::spec().effect,
                        outcome: match &result {
                            Ok(_) => CallOutcome::Ok,
                            Err(crate::Error::Api(e)) => {
                                CallOutcome::Refused(e.status().to_owned())
                            }
                            Err(e) => CallOutcome::Failed(e.to_string()),
                        },
                    };
                    Fetched {
                        index,
                        call,
                        rows: result.map(|r| {
                            let mut rows = r.data.cdr;
                            for row in &mut rows {
                                row.date = row.date.map(|d| unshift(d, timezone));
                            }
                            rows
                        }),
                    }
                }
            })
            .buffered(self.concurrency);
        CdrStream {
            fetches: Box::pin(fetches),
            windows,
            merger: Merger::default(),
            ready: VecDeque::new(),
            progress: self.progress.clone(),
            calls: Vec::new(),
            done: false,
        }
    }

    /// Fetches everything into memory: rows in date order without duplicates, per-window counts
    /// and the calls made.
    pub async fn fetch_all(&self, client: &Client) -> Result<CdrExport, OpError> {
        let mut s = self.stream(client);
        let mut rows = Vec::new();
        while let Some(row) = s.next().await {
            rows.push(row?);
        }
        Ok(CdrExport {
            rows,
            windows: s.merger.reports.clone(),
            duplicates_removed: s.merger.duplicates,
            calls: s.calls,
        })
    }
}

/// Everything an export returned.
#[derive(Debug, Clone, PartialEq)]
pub struct CdrExport {
    /// The rows, in date order, without duplicates.
    pub rows: Vec<CdrRecord>,
    /// Each window and how many rows it returned.
    pub windows: Vec<WindowReport>,
    /// Rows dropped because their `uniqueid` had been seen already.
    pub duplicates_removed: usize,
    /// The getCDR calls made, one per window.
    pub calls: Vec<ApiCall>,
}

/// One window of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowReport {
    /// Its dates.
    pub range: DateRange,
    /// Rows it returned (before de-duplication).
    pub rows: usize,
}

struct Fetched {
    index: usize,
    call: ApiCall,
    rows: Result<Vec<CdrRecord>, crate::Error>,
}

type FetchStream = Pin<Box<dyn Stream<Item = Fetched> + Send>>;

/// The rows of a [`CdrQuery`], in date order, without duplicates. Use [`next`](Self::next), or
/// any `futures` stream combinator (it implements [`Stream`]). After an error the stream ends.
pub struct CdrStream {
    fetches: FetchStream,
    windows: Vec<DateRange>,
    merger: Merger,
    ready: VecDeque<CdrRecord>,
    progress: Option<ProgressFn>,
    calls: Vec<ApiCall>,
    /// Nothing more will come (all windows processed, or one failed).
    done: bool,
}

impl fmt::Debug for CdrStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CdrStream")
            .field("windows", &self.windows.len())
            .field("windows_done", &self.merger.reports.len())
            .field("ready", &self.ready.len())
            .field("held_back", &self.merger.pending.len())
            .finish_non_exhaustive()
    }
}

impl CdrStream {
    /// The next row, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<CdrRecord, OpError>> {
        StreamExt::next(self).await
    }

    /// Rows dropped as duplicates so far.
    pub fn duplicates_removed(&self) -> usize {
        self.merger.duplicates
    }

    /// The windows processed so far.
    pub fn windows_done(&self) -> &[WindowReport] {
        &self.merger.reports
    }

    /// The getCDR calls made so far.
    pub fn calls(&self) -> &[ApiCall] {
        &self.calls
    }

    /// Rows currently held in memory (ready to yield, or held back for ordering).
    pub fn buffered_rows(&self) -> usize {
        self.ready.len() + self.merger.pending.len()
    }
}

impl Stream for CdrStream {
    type Item = Result<CdrRecord, OpError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(row) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(row)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let fetched = match this.fetches.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.ready.extend(this.merger.finish());
                    this.done = true;
                    continue;
                }
                Poll::Ready(Some(f)) => f,
            };
            this.calls.push(fetched.call);
            let rows = match fetched.rows {
                Ok(rows) => rows,
                Err(error) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(OpError::Failed(Box::new(Failure {
                        operation: "CDR export",
                        error,
                        calls: this.calls.clone(),
                    })))));
                }
            };
            let window = this.windows[fetched.index];
            let next_start = this.windows.get(fetched.index + 1).map(|w| w.from);
            let n = rows.len();
            this.ready.extend(this.merger.add(window, rows, next_start));
            if let Some(f) = &this.progress {
                f(&CdrProgress {
                    windows_done: this.merger.reports.len(),
                    windows_total: this.windows.len(),
                    window,
                    window_rows: n,
                    rows_fetched: this.merger.fetched,
                    duplicates: this.merger.duplicates,
                });
            }
        }
    }
}

/// How far a row's date can stray from its window because of the timezone shift.
fn slack() -> Duration {
    Duration::days(1)
}

/// Orders and de-duplicates windows of rows arriving in date order, holding back only the rows
/// that a later window could still precede or repeat.
#[derive(Debug, Default)]
struct Merger {
    /// Rows not yet released, sorted.
    pending: Vec<CdrRecord>,
    /// `uniqueid` → date of rows released or pending that a later window could repeat.
    seen: HashMap<String, Option<NaiveDateTime>>,
    reports: Vec<WindowReport>,
    duplicates: usize,
    fetched: usize,
}

fn sort_key(r: &CdrRecord) -> (Option<NaiveDateTime>, &str) {
    (r.date, r.uniqueid.as_deref().unwrap_or(""))
}

impl Merger {
    /// Adds a window's rows; returns the rows that can be released. `next_start` is the first day
    /// of the next window (`None` for the last one).
    fn add(
        &mut self,
        window: DateRange,
        mut rows: Vec<CdrRecord>,
        next_start: Option<Date>,
    ) -> Vec<CdrRecord> {
        self.reports.push(WindowReport {
            range: window,
            rows: rows.len(),
        });
        self.fetched += rows.len();
        rows.retain(|r| match r.uniqueid.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => {
                if self.seen.contains_key(u) {
                    self.duplicates += 1;
                    false
                } else {
                    self.seen.insert(u.to_owned(), r.date);
                    true
                }
            }
            _ => true,
        });
        rows.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        let mut merged = std::mem::take(&mut self.pending);
        if merged.is_empty() {
            merged = rows;
        } else {
            merged.extend(rows);
            merged.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        }
        let Some(next) = next_start else {
            self.seen.clear();
            return merged;
        };
        // Rows of later windows start no earlier than this (their dates may be shifted back by
        // the timezone offset, at most a day).
        let bound = next.and_hms_opt(0, 0, 0).expect("midnight") - slack();
        let split = merged.partition_point(|r| r.date.is_none_or(|d| d < bound));
        self.pending = merged.split_off(split);
        // A repeat of a released row would carry the same date, which no later row can have.
        self.seen.retain(|_, d| d.is_some_and(|d| d >= bound));
        merged
    }

    /// Releases what is left.
    fn finish(&mut self) -> Vec<CdrRecord> {
        self.seen.clear();
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn row(date: &str, uid: &str) -> CdrRecord {
        CdrRecord {
            date: Some(NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").unwrap()),
            uniqueid: Some(uid.to_owned()),
            ..CdrRecord::default()
        }
    }

    #[test]
    fn requests_carry_all_statuses() {
        let q = CdrQuery::new(d(2024, 1, 1), d(2024, 12, 31)).timezone(-5);
        let reqs = q.requests();
        assert_eq!(reqs.len(), 4);
        let p = reqs[0].to_params();
        for flag in ["answered", "noanswer", "busy", "failed"] {
            assert_eq!(p.get(flag), Some("1"), "{flag}");
        }
        assert_eq!(p.get("date_from"), Some("2024-01-01"));
        assert_eq!(p.get("date_to"), Some("2024-04-01"));
        assert_eq!(p.get("timezone"), Some("-5"));
        let last = reqs[3].to_params();
        assert_eq!(last.get("date_to"), Some("2024-12-31"));
        // All off would be `no_callstatus`: ask for everything instead.
        let q = q.statuses(false, false, false, false);
        assert_eq!(q.request(q.windows()[0]).to_params().get("busy"), Some("1"));
        let q = CdrQuery::new(d(2024, 1, 1), d(2024, 1, 2)).statuses(true, false, false, false);
        let p = q.request(q.windows()[0]).to_params();
        assert_eq!(
            (p.get("answered"), p.get("noanswer")),
            (Some("1"), Some("0"))
        );
        assert_eq!(
            CdrQuery::new(d(2024, 1, 1), d(2024, 1, 1))
                .timezone(40)
                .timezone,
            TzOffset::hours(13)
        );
        let q = CdrQuery::new(d(2024, 1, 1), d(2024, 1, 2))
            .timezone("5.5".parse::<TzOffset>().unwrap());
        let p = q.request(q.windows()[0]).to_params();
        assert_eq!(p.get("timezone"), Some("5.5"));
    }

    #[test]
    fn merger_orders_dedups_and_holds_back_little() {
        let w1 = DateRange::new(d(2024, 1, 1), d(2024, 1, 10)).unwrap();
        let w2 = DateRange::new(d(2024, 1, 11), d(2024, 1, 20)).unwrap();
        let w3 = DateRange::new(d(2024, 1, 21), d(2024, 1, 30)).unwrap();
        let mut m = Merger::default();
        let out1 = m.add(
            w1,
            vec![
                row("2024-01-05 10:00:00", "b"),
                row("2024-01-02 10:00:00", "a"),
                row("2024-01-02 10:00:00", "a"), // duplicate inside a window
                row("2024-01-10 23:30:00", "c"), // near the boundary: held back
                row("2024-01-11 00:30:00", "x"), // shifted past the window's end
            ],
            Some(w2.from),
        );
        let ids = |v: &[CdrRecord]| {
            v.iter()
                .map(|r| r.uniqueid.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&out1), vec!["a", "b"]);
        assert_eq!(m.pending.len(), 2);
        let out2 = m.add(
            w2,
            vec![
                row("2024-01-10 23:45:00", "d"), // shifted back before the boundary
                row("2024-01-11 00:30:00", "x"), // repeated across windows
                row("2024-01-15 12:00:00", "e"),
            ],
            Some(w3.from),
        );
        assert_eq!(ids(&out2), vec!["c", "d", "x", "e"]);
        let out3 = m.add(w3, vec![row("2024-01-25 08:00:00", "f")], None);
        assert_eq!(ids(&out3), vec!["f"]);
        assert!(m.finish().is_empty());
        assert_eq!(m.duplicates, 2);
        assert_eq!(m.fetched, 9);
        assert!(m.seen.is_empty());
    }
}
