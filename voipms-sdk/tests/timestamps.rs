//! One meaning for every timestamp the helpers hand back: server time (the US Eastern wall
//! clock, daylight saving observed), whatever `timezone` was sent; and a sandbox that shifts
//! record listings by `timezone + 5` hours as the live API does. Each case runs on a day inside
//! daylight saving time and on one outside it.

use std::collections::HashSet;

use voipms_sdk::cdr::{CdrQuery, DateRange};
use voipms_sdk::chrono::{Duration, LocalResult, NaiveDate, NaiveDateTime};
use voipms_sdk::dates::{server_time_to_utc, unshift};
use voipms_sdk::ops::OpError;
use voipms_sdk::recordings::Recordings;
use voipms_sdk::sandbox::{Sandbox, SandboxConfig};
use voipms_sdk::sms::{MessageQuery, Messaging};
use voipms_sdk::{Client, Params, PhoneNumber, TzOffset};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// 15 July (daylight saving time, UTC-4) and 15 January (standard time, UTC-5).
fn seasons() -> [(NaiveDate, i32); 2] {
    [(day(2026, 7, 15), -4), (day(2026, 1, 15), -5)]
}

fn sandbox(today: NaiveDate) -> (Sandbox, Client) {
    let sandbox = Sandbox::new(SandboxConfig {
        today: Some(today),
        ..SandboxConfig::default()
    });
    let client = sandbox.client();
    (sandbox, client)
}

fn parse(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// The raw getCDR dates of `range` for `timezone`, by `uniqueid`.
async fn raw_cdr(client: &Client, range: DateRange, timezone: i32) -> Vec<(String, NaiveDateTime)> {
    raw_cdr_text(client, range, &timezone.to_string()).await
}

#[tokio::test]
async fn the_sandbox_shifts_cdr_by_timezone_plus_five_and_filters_on_the_shifted_days() {
    for (today, offset) in seasons() {
        let (_sb, client) = sandbox(today);
        let week = DateRange::ending(today - Duration::days(1), 7);
        let server = raw_cdr(&client, week, -5).await;
        assert!(server.len() > 5, "{today}: a seeded week of calls");
        // The same call for every timezone: its time moves by exactly timezone + 5 hours.
        for tz in [-12, -4, 0, 13] {
            let shifted = raw_cdr(&client, week, tz).await;
            let by_id: std::collections::HashMap<_, _> = shifted.iter().cloned().collect();
            for (id, at) in &server {
                if let Some(s) = by_id.get(id) {
                    assert_eq!(
                        *s - *at,
                        Duration::hours(i64::from(tz) + 5),
                        "{today} tz {tz}"
                    );
                }
            }
            // The range is on the shifted clock: every row's reported day is in the range.
            assert!(
                shifted.iter().all(|(_, d)| week.contains(d.date())),
                "{today} tz {tz}: a row outside the requested days"
            );
        }
        // timezone=0 is UTC only outside daylight saving time: during it, an hour ahead.
        let utc = raw_cdr(&client, week, 0).await;
        for (id, at) in &server {
            let Some((_, reported)) = utc.iter().find(|(u, _)| u == id) else {
                continue;
            };
            let LocalResult::Single(instant) = server_time_to_utc(*at) else {
                continue;
            };
            assert_eq!(instant.offset().local_minus_utc(), offset * 3600, "{today}");
            let real_utc = instant.naive_utc();
            assert_eq!(
                *reported - real_utc,
                Duration::hours(if offset == -4 { 1 } else { 0 }),
                "{today}: {id}"
            );
        }
    }
}

#[tokio::test]
async fn a_call_reads_the_same_in_its_cdr_row_and_its_recording_whatever_timezone_is_sent() {
    for (today, _) in seasons() {
        let (_sb, client) = sandbox(today);
        let range = DateRange::ending(today, 30);
        let recordings = Recordings::new(&client)
            .list("100001_VoIP", range, None)
            .await
            .unwrap();
        let times: HashSet<NaiveDateTime> = recordings
            .recordings
            .iter()
            .filter_map(|r| r.datetime)
            .collect();
        assert!(!times.is_empty(), "{today}: seeded recordings");
        for tz in [-5, 0, -4, 8] {
            let rows = CdrQuery::for_range(range)
                .timezone(tz)
                .fetch_all(&client)
                .await
                .unwrap()
                .rows;
            let dates: HashSet<NaiveDateTime> = rows.iter().filter_map(|r| r.date).collect();
            let missing: Vec<_> = times
                .iter()
                // Recordings near the range's ends may fall outside the shifted days.
                .filter(|t| t.date() > range.from && t.date() < range.to)
                .filter(|t| !dates.contains(t))
                .collect();
            assert!(
                missing.is_empty(),
                "{today} tz {tz}: no CDR row at {missing:?}"
            );
        }
    }
}

#[tokio::test]
async fn listed_messages_are_server_time_whatever_timezone_is_sent() {
    for (today, _) in seasons() {
        let (_sb, client) = sandbox(today);
        let range = DateRange::ending(today, 30);
        let messaging = Messaging::new(&client);
        let plain = messaging.list(&MessageQuery::sms(range)).await.unwrap();
        assert!(!plain.messages.is_empty(), "{today}");
        let shifted = messaging
            .list(&MessageQuery {
                timezone: Some(TzOffset::hours(3)),
                ..MessageQuery::sms(range)
            })
            .await
            .unwrap();
        let inner = |m: &voipms_sdk::sms::Message| {
            m.date
                .filter(|d| d.date() > range.from && d.date() < range.to)
                .map(|d| (m.id.clone(), d))
        };
        let a: HashSet<_> = plain.messages.iter().filter_map(inner).collect();
        let b: HashSet<_> = shifted.messages.iter().filter_map(inner).collect();
        assert_eq!(a, b, "{today}");
    }
}

#[tokio::test]
async fn today_comes_from_the_clients_clock() {
    for (today, _) in seasons() {
        let (sb, client) = sandbox(today);
        assert_eq!(client.today(), today);
        assert_eq!(client.server_now(), sb.server_now());
        let week = DateRange::last_days(&client, 7);
        assert_eq!((week.from, week.to), (today - Duration::days(6), today));
    }
    // A client of a real server takes the system clock, as server time.
    let real = Client::builder()
        .credentials("me@example.com", "pw-not-used")
        .build()
        .unwrap();
    let now = voipms_sdk::dates::utc_to_server_time(
        voipms_sdk::chrono::DateTime::from_timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64,
            0,
        )
        .unwrap(),
    );
    assert!((real.server_now() - now).num_seconds().abs() < 5);
}

#[test]
fn unshift_matches_the_peer_measurement() {
    // 16:28:34 UTC on 2026-09-23 came back as 17:28:34 for timezone=0.
    let server = unshift(parse("2026-09-23 17:28:34"), 0);
    assert_eq!(server, parse("2026-09-23 12:28:34"));
    let LocalResult::Single(at) = server_time_to_utc(server) else {
        panic!()
    };
    assert_eq!(at.naive_utc(), parse("2026-09-23 16:28:34"));
}

#[test]
fn refused_input_is_a_variant_a_caller_can_match() {
    let long = "é".repeat(100);
    let e = voipms_sdk::sms::check_sms(&long).unwrap_err();
    assert!(
        matches!(
            e,
            OpError::SmsTooLong {
                bytes: 200,
                chars: 100,
                max: 160,
                parts: 2
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("the SMS text is 200 bytes of UTF-8 (100 characters)")
    );
    let e = voipms_sdk::sms::check_sms("  ").unwrap_err();
    assert!(matches!(e, OpError::EmptyMessage(_)), "{e:?}");
    let e: OpError = PhoneNumber::parse("call me").unwrap_err().into();
    assert!(
        matches!(&e, OpError::InvalidNumber(n) if n.input == "call me"),
        "{e:?}"
    );
    assert!(e.to_string().contains("is not a phone number"));
    let e = DateRange::new(day(2026, 2, 2), day(2026, 2, 1)).unwrap_err();
    assert!(matches!(e, OpError::BackwardsRange { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "the date range ends (2026-02-01) before it starts (2026-02-02); swap the dates"
    );
}

#[tokio::test]
async fn the_sandbox_shifts_reseller_cdr_alike() {
    let (_sb, client) = sandbox(day(2025, 6, 30));
    let list = |tz: i32| {
        let params = Params::new()
            .with("client", "561115")
            .with("date_from", "2025-06-12")
            .with("date_to", "2025-06-12")
            .with("timezone", tz.to_string())
            .with("answered", "1")
            .with("noanswer", "1")
            .with("busy", "1")
            .with("failed", "1");
        let client = client.clone();
        async move {
            let body = client.call("getResellerCDR", params).await.unwrap();
            body["cdr"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|r| parse(r["date"].as_str().unwrap()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    let server = list(-5).await;
    assert_eq!(server, [parse("2025-06-12 10:40:16")]);
    assert_eq!(list(0).await, [parse("2025-06-12 15:40:16")]);
    // Shifted past midnight, the call leaves the day asked for.
    assert!(list(13).await.is_empty());
}

/// The raw getResellerSMS/getResellerMMS dates of `range` for `timezone`, by id.
async fn raw_reseller(
    client: &Client,
    method: &str,
    range: DateRange,
    timezone: i32,
) -> Vec<(String, NaiveDateTime)> {
    let params = Params::new()
        .with("client", "561115")
        .with("from", range.from.to_string())
        .with("to", range.to.to_string())
        .with("timezone", timezone.to_string())
        .with("limit", "10000");
    match client.call(method, params).await {
        Ok(body) => body["sms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_owned(),
                    parse(r["date"].as_str().unwrap()),
                )
            })
            .collect(),
        Err(e) => {
            assert!(e.to_string().contains("no_sms"), "{method}: {e}");
            Vec::new()
        }
    }
}

#[tokio::test]
async fn the_sandbox_shifts_the_reseller_clients_messages_and_filters_on_the_shifted_days() {
    for (today, _) in seasons() {
        let (_sb, client) = sandbox(today);
        let month = DateRange::ending(today - Duration::days(1), 40);
        for method in ["getResellerSMS", "getResellerMMS"] {
            let server = raw_reseller(&client, method, month, -5).await;
            let min = if method == "getResellerSMS" { 10 } else { 1 };
            assert!(server.len() >= min, "{today} {method}: {}", server.len());
            assert!(
                server.iter().all(|(_, at)| month.contains(at.date())),
                "{today} {method}: days of the range"
            );
            for tz in [-12, -4, 0, 13] {
                let shift = Duration::hours(i64::from(tz) + 5);
                let shifted = raw_reseller(&client, method, month, tz).await;
                let by_id: std::collections::HashMap<_, _> = shifted.iter().cloned().collect();
                // Same message, moved by timezone + 5 hours.
                for (id, at) in &server {
                    if let Some(s) = by_id.get(id) {
                        assert_eq!(*s - *at, shift, "{today} {method} tz {tz}");
                    }
                }
                // Exactly the messages whose shifted time falls on the range's days.
                let wide = raw_reseller(
                    &client,
                    method,
                    DateRange::new(month.from - Duration::days(2), today).unwrap(),
                    -5,
                )
                .await;
                let want: HashSet<_> = wide
                    .iter()
                    .filter(|(_, at)| month.contains((*at + shift).date()))
                    .map(|(id, _)| id.clone())
                    .collect();
                let got: HashSet<_> = shifted.iter().map(|(id, _)| id.clone()).collect();
                assert_eq!(got, want, "{today} {method} tz {tz}");
            }
        }
    }
}

/// The raw getCDR dates of `range` for a `timezone` given as text, by `uniqueid`.
async fn raw_cdr_text(
    client: &Client,
    range: DateRange,
    timezone: &str,
) -> Vec<(String, NaiveDateTime)> {
    let params = Params::new()
        .with("date_from", range.from.to_string())
        .with("date_to", range.to.to_string())
        .with("timezone", timezone)
        .with("answered", "1")
        .with("noanswer", "1")
        .with("busy", "1")
        .with("failed", "1");
    let body = client.call("getCDR", params).await.unwrap();
    body["cdr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["uniqueid"].as_str().unwrap().to_owned(),
                parse(r["date"].as_str().unwrap()),
            )
        })
        .collect()
}

#[tokio::test]
async fn fractional_timezones_shift_by_their_fraction_and_the_helpers_take_it_off() {
    for (today, _) in seasons() {
        let (_sb, client) = sandbox(today);
        let week = DateRange::ending(today - Duration::days(1), 7);
        let server = raw_cdr(&client, week, -5).await;
        for (tz, minutes) in [("5.5", 630), ("-3.5", 90), ("9.75", 885), ("-12", -420)] {
            let shifted = raw_cdr_text(&client, week, tz).await;
            assert!(!shifted.is_empty(), "{today} tz {tz}");
            let by_id: std::collections::HashMap<_, _> = shifted.iter().cloned().collect();
            let mut seen = 0;
            for (id, at) in &server {
                if let Some(s) = by_id.get(id) {
                    assert_eq!(*s - *at, Duration::minutes(minutes), "{today} tz {tz}");
                    seen += 1;
                }
            }
            assert!(seen > 0, "{today} tz {tz}");
            // The days of the range are the shifted ones.
            assert!(
                shifted.iter().all(|(_, at)| week.contains(at.date())),
                "{today} tz {tz}"
            );
            let offset: TzOffset = tz.parse().unwrap();
            assert_eq!(offset.to_string(), tz);
            for (id, at) in &shifted {
                if let Some((_, s)) = server.iter().find(|(i, _)| i == id) {
                    assert_eq!(unshift(*at, offset), *s, "{today} tz {tz}");
                }
            }
            // The export sends the fraction and hands back server time.
            let export = CdrQuery::for_range(week)
                .timezone(offset)
                .fetch_all(&client)
                .await
                .unwrap();
            for row in &export.rows {
                let id = row.uniqueid.as_deref().unwrap();
                if let Some((_, s)) = server.iter().find(|(i, _)| i == id) {
                    assert_eq!(row.date, Some(*s), "{today} tz {tz} export");
                }
            }
        }
    }
}

#[test]
fn timezone_numbers_read_as_quarter_hours_from_minus_12_to_13() {
    for (text, minutes, shown) in [
        ("5.5", 330, "5.5"),
        ("-3.50", -210, "-3.5"),
        ("9.75", 585, "9.75"),
        ("+13", 780, "13"),
        ("-12", -720, "-12"),
        ("0", 0, "0"),
        ("-0.5", -30, "-0.5"),
    ] {
        let tz: TzOffset = text.parse().unwrap();
        assert_eq!(tz.minutes(), minutes, "{text}");
        assert_eq!(tz.to_string(), shown, "{text}");
    }
    for bad in ["5.3", "13.25", "-12.5", "", "x", "5.", ".5.5", "1e1", "5,5"] {
        let e = bad.parse::<TzOffset>().unwrap_err();
        assert!(e.to_string().contains("-12 to 13"), "{bad}: {e}");
    }
    assert_eq!(TzOffset::from(-5).minutes(), -300);
}
