//! The synthetic call history: who calls the account, how often, and how it looks in getCDR.
//!
//! The history is generated once per seed and date, day by day: family members who call often
//! and are called back when they are missed, friends, businesses, work contacts, and the spam a
//! real line gets — robocalls spoofing numbers from the DID's own area code and exchange, a few
//! robocallers that call again and again (short or unanswered calls), anonymous callers, and
//! `SPAM?`-style caller names. Rows store only what cannot be derived; the routing trace
//! (`call_logs`) is written when a row is listed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::rng::Rng;
use super::time::{self, DOLLAR};

/// How a call ended, as getCDR spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Disposition {
    #[serde(rename = "ANSWERED")]
    Answered,
    #[serde(rename = "NO ANSWER")]
    NoAnswer,
    #[serde(rename = "BUSY")]
    Busy,
    #[serde(rename = "FAILED")]
    Failed,
}

impl Disposition {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "ANSWERED",
            Disposition::NoAnswer => "NO ANSWER",
            Disposition::Busy => "BUSY",
            Disposition::Failed => "FAILED",
        }
    }
}

/// One call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CdrRow {
    /// Start, server time.
    pub(crate) t: i64,
    /// Incoming to one of the DIDs (else outgoing from a sub-account).
    pub(crate) incoming: bool,
    /// The account's DID involved.
    pub(crate) did: String,
    /// The sub-account that took or placed the call.
    pub(crate) account: String,
    /// `"NAME" <number>` display string.
    pub(crate) callerid: String,
    /// The number called.
    pub(crate) destination: String,
    pub(crate) description: String,
    pub(crate) destination_type: String,
    pub(crate) disposition: Disposition,
    /// Billable seconds (0 unless answered).
    pub(crate) seconds: u32,
    /// Per-minute rate, 10⁻⁸ dollars.
    pub(crate) rate: i64,
    /// Charge, 10⁻⁸ dollars.
    pub(crate) total: i64,
    pub(crate) uniqueid: String,
    /// The caller left a voicemail (unanswered incoming calls).
    pub(crate) voicemail: bool,
}

impl CdrRow {
    /// The other party's number (digits), or `None` for anonymous callers.
    pub(crate) fn other_number(&self) -> Option<&str> {
        if self.incoming {
            let start = self.callerid.rfind('<')? + 1;
            let end = self.callerid.rfind('>')?;
            let n = self.callerid.get(start..end)?;
            n.bytes().all(|b| b.is_ascii_digit()).then_some(n)
        } else {
            Some(&self.destination)
        }
    }

    /// The row as getCDR lists it, with its time shifted by `shift` seconds.
    pub(crate) fn to_json(&self, shift: i64, mailbox: Option<&str>) -> Value {
        let mut m = Map::with_capacity(13);
        let s = |v: &str| Value::String(v.to_owned());
        m.insert("date".into(), Value::String(time::datetime(self.t + shift)));
        m.insert("callerid".into(), s(&self.callerid));
        m.insert("destination".into(), s(&self.destination));
        m.insert("description".into(), s(&self.description));
        m.insert("account".into(), s(&self.account));
        m.insert("disposition".into(), s(self.disposition.as_str()));
        m.insert(
            "duration".into(),
            Value::String(time::hms(u64::from(self.seconds))),
        );
        m.insert("seconds".into(), Value::String(self.seconds.to_string()));
        m.insert("rate".into(), Value::String(time::money(self.rate, 8)));
        m.insert("total".into(), Value::String(time::money(self.total, 8)));
        m.insert("uniqueid".into(), s(&self.uniqueid));
        m.insert("destination_type".into(), s(&self.destination_type));
        m.insert("call_logs".into(), Value::String(self.call_logs(mailbox)));
        Value::Object(m)
    }

    fn call_logs(&self, mailbox: Option<&str>) -> String {
        let mut out = format!("Call logs for UniqueID: {}\n", self.uniqueid);
        if self.incoming {
            out.push_str(&format!(
                "Incoming call to DID {}\nRouting to sub-account: {}\n",
                self.did, self.account
            ));
            match self.disposition {
                Disposition::Answered => out.push_str("Call answered\nHangup: Normal clearing"),
                Disposition::NoAnswer => {
                    out.push_str("Status is 'No Answer'\nFailover due to 'No Answer' status\n");
                    match mailbox {
                        Some(vm) => out.push_str(&format!(
                            "Routing to voicemail: {vm}\nHangup: Normal clearing"
                        )),
                        None => out.push_str("Hangup: No answer"),
                    }
                }
                Disposition::Busy => out
                    .push_str("Status is 'Busy'\nFailover due to 'Busy' status\nHangup: User busy"),
                Disposition::Failed => {
                    out.push_str("Status is 'Channel not available'\nHangup: Call rejected")
                }
            }
        } else {
            out.push_str(&format!(
                "Outgoing call from {} to {}\nRoute: Premium\n",
                self.account, self.destination
            ));
            out.push_str(match self.disposition {
                Disposition::Answered => "Call answered\nHangup: Normal clearing",
                Disposition::NoAnswer => "Hangup: No answer",
                Disposition::Busy => "Hangup: User busy",
                Disposition::Failed => "Hangup: Unallocated number",
            });
        }
        out
    }
}

/// A DID of the account, as the generator uses it.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) did: String,
    pub(crate) account: String,
    /// Caller ID name shown on outgoing calls.
    pub(crate) cnam: String,
    /// Inbound per-minute rate (0 on flat-rate DIDs), 10⁻⁸ dollars.
    pub(crate) inbound_rate: i64,
    pub(crate) country: &'static str,
}

/// What kind of caller a contact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Family,
    Friend,
    Business,
    Work,
}

/// A person or business that calls (and is called by) the account.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    /// Name in the phonebook.
    pub(crate) name: String,
    /// Caller name (CNAM) as carriers deliver it.
    pub(crate) cnam: String,
    pub(crate) number: String,
    pub(crate) kind: Kind,
    /// Index into the lines: the DID they call.
    pub(crate) line: usize,
    /// Chance per day of calling in, and of being called.
    pub(crate) p_in: f64,
    pub(crate) p_out: f64,
    /// Shown as `"NAME" <n>` (else `NAME <n>`).
    pub(crate) quoted: bool,
}

/// A robocaller that calls again and again.
#[derive(Debug, Clone)]
pub(crate) struct Robocaller {
    pub(crate) number: String,
    pub(crate) cnam: String,
    /// Active from this many days before today…
    pub(crate) from_days_ago: i64,
    /// …until this many days before today.
    pub(crate) to_days_ago: i64,
    /// Usual hour of the call.
    pub(crate) hour: u32,
    /// Chance per weekday of a call (a second one, hours later, on a fifth of those days).
    pub(crate) daily: f64,
    /// Already in the seeded Spam group (blocked).
    pub(crate) marked: bool,
}

/// The cast and the lines of a history.
#[derive(Debug)]
pub(crate) struct Cast<'a> {
    pub(crate) lines: &'a [Line],
    pub(crate) people: &'a [Person],
    pub(crate) robocallers: &'a [Robocaller],
}

/// The outbound per-minute rate to North America.
const OUTBOUND_RATE: i64 = DOLLAR / 100;

/// Generates the call history for `days` days up to `today`, stopping at `cutoff` (the sandbox
/// clock). Rows come out in time order.
pub(crate) fn generate(
    seed: u64,
    today: chrono::NaiveDate,
    days: u32,
    cast: &Cast<'_>,
    cutoff: i64,
) -> Vec<CdrRow> {
    let mut rng = Rng::new(seed, 0xCD12);
    let mut rows = Vec::with_capacity(days as usize * 10);
    let first = cast.lines.first().map_or("5551234567", |l| l.did.as_str());
    let (area, exchange) = (
        &first[..3.min(first.len())],
        first.get(3..6).unwrap_or("123"),
    );
    for back in (0..=i64::from(days)).rev() {
        let date = today - chrono::Duration::days(back);
        let start = time::day_start(date);
        let weekday = chrono::Datelike::weekday(&date).num_days_from_monday();
        let weekend = weekday >= 5;
        let mut day = DayGen {
            rng: &mut rng,
            rows: &mut rows,
            cast,
            start,
        };
        for (i, p) in cast.people.iter().enumerate() {
            let factor = match (p.kind, weekend) {
                (Kind::Work, true) => 0.1,
                (Kind::Business, true) => 0.3,
                (Kind::Family | Kind::Friend, true) => 1.4,
                _ => 1.0,
            };
            if day.rng.chance(p.p_in * factor) {
                day.incoming_from(i);
            }
            if day.rng.chance(p.p_out * factor) {
                let t = start + day.time_of_day(8, 21);
                day.outgoing(p.line, &p.number, t, Disposition::Answered, p.kind);
            }
        }
        // One-off spoofed robocalls: most from the first DID's own area code and exchange
        // (neighbour spoofing), others from its area code only, from elsewhere or toll-free.
        let spoofs = if day.rng.chance(0.7) {
            1 + usize::from(day.rng.chance(0.15)) + usize::from(day.rng.chance(0.05))
        } else {
            0
        };
        for _ in 0..spoofs {
            let roll = day.rng.unit();
            let line4 = day.rng.below(10_000);
            let number = if roll < 0.55 {
                let n = format!("{area}{exchange}{line4:04}");
                if n == first {
                    format!("{area}{exchange}{:04}", (line4 + 1) % 10_000)
                } else {
                    n
                }
            } else {
                let prefix = if roll < 0.75 {
                    area
                } else {
                    *day.rng
                        .pick(&["202", "312", "469", "702", "713", "888", "877", "866"])
                };
                let mut exch = day.rng.range(200, 999);
                if prefix == area && exch.to_string() == exchange {
                    exch += if exch < 999 { 1 } else { -1 };
                }
                format!("{prefix}{exch}{line4:04}")
            };
            let cnam = *day.rng.pick(&[
                "SPAM?",
                "V",
                "WIRELESS CALLER",
                "SPAM? TELEMKTG",
                "",
                "SCAM LIKELY",
            ]);
            day.spam_call(0, &number, cnam, 9, 19);
        }
        for r in cast.robocallers {
            if back > r.from_days_ago || back < r.to_days_ago || weekend {
                continue;
            }
            if day.rng.chance(r.daily) {
                let jitter = day.rng.range(-40 * 60, 40 * 60);
                let t = start + i64::from(r.hour) * 3600 + jitter;
                day.spam_at(0, &r.number, &r.cnam, t);
                if day.rng.chance(0.2) {
                    let later = t + day.rng.range(2 * 3600, 5 * 3600);
                    day.spam_at(0, &r.number, &r.cnam, later);
                }
            }
        }
        if day.rng.chance(0.12) {
            day.spam_call(0, "anonymous", "Anonymous", 8, 22);
        }
        if day.rng.chance(0.015) {
            // A misdialled number.
            let t = start + day.time_of_day(9, 20);
            let n = format!("555{}{:04}", day.rng.range(200, 999), day.rng.below(10_000));
            day.outgoing(0, &n, t, Disposition::Failed, Kind::Business);
        }
    }
    rows.retain(|r| r.t < cutoff);
    rows.sort_by_key(|r| r.t);
    rows
}

struct DayGen<'r, 'c> {
    rng: &'r mut Rng,
    rows: &'r mut Vec<CdrRow>,
    cast: &'c Cast<'c>,
    start: i64,
}

impl DayGen<'_, '_> {
    /// Seconds into the day between `from_h` and `to_h` o'clock.
    fn time_of_day(&mut self, from_h: i64, to_h: i64) -> i64 {
        self.rng.range(from_h * 3600, to_h * 3600 - 1)
    }

    fn uniqueid(&mut self) -> String {
        let letter = (b'a' + self.rng.below(26) as u8) as char;
        format!(
            "{}x{}i{}{}",
            self.rng.range(10_000_000, 99_999_999),
            self.rng.range(10_000, 99_999),
            self.rng.below(10),
            letter
        )
    }

    fn incoming_from(&mut self, who: usize) {
        let p = &self.cast.people[who];
        let t = self.start + self.time_of_day(8, 21);
        let roll = self.rng.unit();
        let answer_rate = match p.kind {
            Kind::Family => 0.72,
            Kind::Friend => 0.65,
            Kind::Business | Kind::Work => 0.6,
        };
        let (disposition, seconds) = if roll < answer_rate {
            let secs = match p.kind {
                Kind::Family => self.rng.range(45, 1800),
                Kind::Friend => self.rng.range(30, 1200),
                Kind::Business => self.rng.range(15, 240),
                Kind::Work => self.rng.range(60, 900),
            };
            (Disposition::Answered, secs as u32)
        } else if roll < answer_rate + 0.05 {
            (Disposition::Busy, 0)
        } else {
            (Disposition::NoAnswer, 0)
        };
        let display = display(&p.cnam, &p.number, p.quoted);
        let voicemail = disposition == Disposition::NoAnswer && self.rng.chance(0.5);
        let number = p.number.clone();
        let (line, kind) = (p.line, p.kind);
        self.push_incoming(line, display, &number, t, disposition, seconds, voicemail);
        // Missed family and friends get a call back.
        if disposition != Disposition::Answered
            && matches!(kind, Kind::Family | Kind::Friend)
            && self.rng.chance(0.8)
        {
            let back = t + self.rng.range(5 * 60, 120 * 60);
            self.outgoing(line, &number, back, Disposition::Answered, kind);
        }
    }

    fn spam_call(&mut self, line: usize, number: &str, cnam: &str, from_h: i64, to_h: i64) {
        let t = self.start + self.time_of_day(from_h, to_h);
        self.spam_at(line, number, cnam, t);
    }

    fn spam_at(&mut self, line: usize, number: &str, cnam: &str, t: i64) {
        let roll = self.rng.unit();
        let (disposition, seconds) = if roll < 0.5 {
            (Disposition::NoAnswer, 0)
        } else if roll < 0.88 {
            // Picked up and hung up at once, or the recording started.
            (Disposition::Answered, self.rng.range(1, 9) as u32)
        } else if roll < 0.95 {
            (Disposition::Busy, 0)
        } else {
            (Disposition::Failed, 0)
        };
        let shown = if cnam.is_empty() { number } else { cnam };
        let display = if number == "anonymous" {
            "\"Anonymous\" <anonymous>".to_owned()
        } else {
            display(shown, number, true)
        };
        let voicemail = disposition == Disposition::NoAnswer && self.rng.chance(0.08);
        self.push_incoming(line, display, number, t, disposition, seconds, voicemail);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_incoming(
        &mut self,
        line: usize,
        callerid: String,
        number: &str,
        t: i64,
        disposition: Disposition,
        seconds: u32,
        voicemail: bool,
    ) {
        let l = &self.cast.lines[line.min(self.cast.lines.len() - 1)];
        let description = if number == "anonymous" {
            "Inbound - Unknown Caller"
        } else if number.get(..3) == l.did.get(..3) {
            "Inbound - Local Caller"
        } else if is_toll_free(number) {
            "Inbound - Toll Free Caller"
        } else {
            "Inbound - Long Distance Caller"
        };
        let total = charge(l.inbound_rate, seconds, disposition);
        let uniqueid = self.uniqueid();
        self.rows.push(CdrRow {
            t,
            incoming: true,
            did: l.did.clone(),
            account: l.account.clone(),
            callerid,
            destination: l.did.clone(),
            description: description.to_owned(),
            destination_type: format!("IN:{}", l.country),
            disposition,
            seconds,
            rate: if disposition == Disposition::Answered {
                l.inbound_rate
            } else {
                0
            },
            total,
            uniqueid,
            voicemail,
        });
    }

    fn outgoing(&mut self, line: usize, number: &str, t: i64, wanted: Disposition, kind: Kind) {
        let l = &self.cast.lines[line.min(self.cast.lines.len() - 1)];
        let (disposition, seconds) = match wanted {
            Disposition::Failed => (Disposition::Failed, 0),
            _ => {
                let roll = self.rng.unit();
                if roll < 0.82 {
                    let secs = match kind {
                        Kind::Family => self.rng.range(60, 2400),
                        Kind::Friend => self.rng.range(30, 1500),
                        Kind::Business => self.rng.range(20, 420),
                        Kind::Work => self.rng.range(60, 1200),
                    };
                    (Disposition::Answered, secs as u32)
                } else if roll < 0.9 {
                    (Disposition::Busy, 0)
                } else {
                    (Disposition::NoAnswer, 0)
                }
            }
        };
        let (description, dtype, rate) = outbound_destination(number);
        let total = charge(rate, seconds, disposition);
        let uniqueid = self.uniqueid();
        self.rows.push(CdrRow {
            t,
            incoming: false,
            did: l.did.clone(),
            account: l.account.clone(),
            callerid: display(&l.cnam, &l.did, true),
            destination: number.to_owned(),
            description,
            destination_type: dtype.to_owned(),
            disposition,
            seconds,
            rate: if disposition == Disposition::Answered {
                rate
            } else {
                0
            },
            total,
            uniqueid,
            voicemail: false,
        });
    }
}

/// `"NAME" <number>` or `NAME <number>`.
pub(crate) fn display(name: &str, number: &str, quoted: bool) -> String {
    if quoted {
        format!("\"{name}\" <{number}>")
    } else {
        format!("{name} <{number}>")
    }
}

fn is_toll_free(number: &str) -> bool {
    matches!(
        number.get(..3),
        Some("800" | "833" | "844" | "855" | "866" | "877" | "888")
    )
}

fn outbound_destination(number: &str) -> (String, &'static str, i64) {
    if is_toll_free(number) {
        return ("USA - Toll Free".into(), "OUT:TOLLFREE", 0);
    }
    let region = match number.get(..3) {
        Some("416" | "647" | "437") => {
            return ("Canada - Toronto".into(), "OUT:CAN", OUTBOUND_RATE);
        }
        Some("514" | "438") => return ("Canada - Montreal".into(), "OUT:CAN", OUTBOUND_RATE),
        Some("305" | "786" | "954" | "555") => "Florida",
        Some("212" | "646" | "917") => "New York",
        Some("312" | "773") => "Illinois",
        _ => "Other",
    };
    (format!("USA - {region}"), "OUT:USA", OUTBOUND_RATE)
}

impl CdrRow {
    /// Gives an answered call a new length and bills that length instead.
    pub(crate) fn set_seconds(&mut self, seconds: u32) {
        self.seconds = seconds;
        self.total = charge(self.rate, seconds, self.disposition);
    }
}

/// The charge of a call: per-minute `rate` over 6-second increments.
fn charge(rate: i64, seconds: u32, disposition: Disposition) -> i64 {
    if disposition != Disposition::Answered || rate == 0 {
        return 0;
    }
    let billed = i64::from(seconds.div_ceil(6) * 6);
    rate * billed / 60
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn cast() -> (Vec<Line>, Vec<Person>, Vec<Robocaller>) {
        let lines = vec![Line {
            did: "5551234567".into(),
            account: "100001_VoIP".into(),
            cnam: "FRONT DESK".into(),
            inbound_rate: DOLLAR * 9 / 1000,
            country: "USA",
        }];
        let people = vec![Person {
            name: "Mom".into(),
            cnam: "WILSON MARGARET".into(),
            number: "5552348899".into(),
            kind: Kind::Family,
            line: 0,
            p_in: 0.4,
            p_out: 0.2,
            quoted: true,
        }];
        let robos = vec![Robocaller {
            number: "5559876543".into(),
            cnam: "V".into(),
            from_days_ago: 200,
            to_days_ago: 30,
            hour: 11,
            daily: 0.45,
            marked: false,
        }];
        (lines, people, robos)
    }

    #[test]
    fn history_is_deterministic_ordered_and_spammy() {
        let (lines, people, robos) = cast();
        let c = Cast {
            lines: &lines,
            people: &people,
            robocallers: &robos,
        };
        let today = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let cutoff = time::at(today, 12, 0, 0);
        let a = generate(1, today, 100, &c, cutoff);
        let b = generate(1, today, 100, &c, cutoff);
        let other = generate(2, today, 100, &c, cutoff);
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert!(a.windows(2).all(|w| w[0].t <= w[1].t));
        assert!(a.iter().all(|r| r.t < cutoff));
        assert!(
            a.iter().any(|r| r.callerid.contains("<555123")),
            "neighbour spoofing"
        );
        assert!(a.iter().any(|r| r.callerid.contains("<anonymous>")));
        assert!(a.iter().any(|r| r.callerid.contains("<5559876543>")));
        // Spoofs come from more than the DID's exchange, and some are short calls.
        assert!(a.iter().any(|r| r.incoming
            && r.callerid.contains("<555")
            && !r.callerid.contains("<555123")
            && !r.callerid.contains("<5559876543>")));
        assert!(a.iter().any(|r| r.incoming && (1..10).contains(&r.seconds)));
        assert!(a.iter().any(|r| !r.incoming));
        assert!(a.iter().all(|r| r.uniqueid.contains('x')));
        let answered = a
            .iter()
            .find(|r| r.disposition == Disposition::Answered && r.incoming && r.seconds > 60)
            .unwrap();
        assert!(answered.total > 0);
        let v = answered.to_json(0, None);
        assert_eq!(v["disposition"], "ANSWERED");
        assert!(
            v["call_logs"]
                .as_str()
                .unwrap()
                .starts_with("Call logs for UniqueID: ")
        );
    }
}
