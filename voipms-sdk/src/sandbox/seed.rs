//! The seeded account: a small office-and-family VoIP.ms account with a believable past.
//!
//! The fixed parts reuse the ids the spec's examples use (`100001_VoIP`, DID `5551234567`,
//! mailbox `1001`, phonebook group `3220`, filter `18915`, …), so every documented example call
//! finds what it names. The rest — contact numbers, the call history, messages, voicemail,
//! recordings, payments — comes from the seed, so the same seed always gives the same account.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use super::cdr::{self, Cast, CdrRow, Disposition, Kind, Line, Person, Robocaller};
use super::examples::example;
use super::media;
use super::rng::Rng;
use super::state::*;
use super::time::{self, DAY, DOLLAR};

/// Days of call history before today.
pub(crate) const HISTORY_DAYS: u32 = 420;

/// The account's DIDs: number, description, sub-account, voicemail box, billing type, SMS.
struct DidSpec {
    did: &'static str,
    description: &'static str,
    account: &'static str,
    cnam: &'static str,
    mailbox: &'static str,
    billing_type: &'static str,
    sms: bool,
    country: &'static str,
    ordered_days_ago: i64,
    pop: &'static str,
    /// Days before today `transcribe` was switched on (none: off).
    transcribing_days: Option<i64>,
}

const DIDS: &[DidSpec] = &[
    DidSpec {
        did: "5551234567",
        description: "MIAMI, FL",
        account: "100001_VoIP",
        cnam: "FRONT DESK",
        mailbox: "1001",
        billing_type: "1",
        sms: true,
        country: "USA",
        ordered_days_ago: 700,
        pop: "16",
        transcribing_days: Some(45),
    },
    DidSpec {
        did: "5551234568",
        description: "MIAMI, FL",
        account: "100001_Home",
        cnam: "WILSON HOME",
        mailbox: "101",
        billing_type: "1",
        sms: false,
        country: "USA",
        ordered_days_ago: 560,
        pop: "16",
        transcribing_days: None,
    },
    DidSpec {
        did: "4165550134",
        description: "TORONTO, ON",
        account: "100001_Mobile",
        cnam: "WILSON MOBILE",
        mailbox: "",
        billing_type: "2",
        sms: false,
        country: "CAN",
        ordered_days_ago: 450,
        pop: "73",
        transcribing_days: None,
    },
];

/// When the seeded `did` had `transcribe` switched on (a morning `transcribing_days` before
/// `today`), or `None` when it is off.
fn transcribing_since(did: &str, today: NaiveDate) -> Option<i64> {
    let d = DIDS.iter().find(|d| d.did == did)?;
    let day = today - chrono::Duration::days(d.transcribing_days?);
    Some(time::at(day, 9, 30, 0))
}

/// Monthly fee of a DID by billing type ("1" per minute, "2" flat).
pub(crate) fn monthly_fee(billing_type: &str) -> i64 {
    if billing_type == "2" {
        495 * DOLLAR / 100
    } else {
        99 * DOLLAR / 100
    }
}

/// Inbound per-minute rate by billing type.
pub(crate) fn inbound_rate(billing_type: &str) -> i64 {
    if billing_type == "2" {
        0
    } else {
        DOLLAR * 9 / 1000
    }
}

/// Builds the seeded account. Its clock is noon of `today`, or the real clock when that is
/// earlier: nothing is dated in the future of the real clock.
pub(crate) fn account(seed: u64, today: NaiveDate) -> State {
    let clock = time::at(today, 12, 0, 0).min(time::server_now());
    let mut rng = Rng::new(seed, 0xACC0);
    let people = people(&mut rng);
    // Repeat callers: three already blocked through the Spam group, three not yet (what
    // `spam suggest` should find first), each calling on weekdays, some days twice.
    let robo =
        |number: &str, cnam: &str, from: i64, to: i64, hour: u32, daily: f64, marked| Robocaller {
            number: number.into(),
            cnam: cnam.into(),
            from_days_ago: from,
            to_days_ago: to,
            hour,
            daily,
            marked,
        };
    let robocallers = vec![
        robo("8445550142", "SPAM? TELEMKTG", 300, 120, 10, 0.45, true),
        robo("3055550190", "HEALTH PLAN", 150, 0, 14, 0.45, true),
        robo("5559876543", "V", 95, 31, 11, 0.45, true),
        robo("4695550187", "AUTO WARRANTY", 80, 1, 13, 0.5, false),
        robo("8885550166", "", 60, 0, 10, 0.35, false),
        robo("5553217788", "WIRELESS CALLER", 45, 2, 16, 0.3, false),
    ];
    let lines: Vec<Line> = DIDS
        .iter()
        .map(|d| Line {
            did: d.did.into(),
            account: d.account.into(),
            cnam: d.cnam.into(),
            inbound_rate: inbound_rate(d.billing_type),
            country: d.country,
        })
        .collect();
    let cast = Cast {
        lines: &lines,
        people: &people,
        robocallers: &robocallers,
    };
    let mut history = cdr::generate(seed, today, HISTORY_DAYS, &cast, clock);

    let mut state = State {
        format: FORMAT,
        seed,
        today,
        clock,
        ticks: 0,
        account: "100001".into(),
        balance: 0,
        spent: 0,
        next: NextIds {
            phonebook: 32216,
            group: 3223,
            filter: 18918,
            forwarding: 18637,
            subaccount: 99789,
            sms: 0,
            mms: 0,
            transaction: 13_011_800,
        },
        subaccounts: subaccounts(),
        dids: dids(today),
        phonebook: BTreeMap::new(),
        groups: BTreeMap::new(),
        filters: filters(),
        forwardings: forwardings(),
        mailboxes: mailboxes(),
        vm_messages: Vec::new(),
        sms: Vec::new(),
        mms: Vec::new(),
        reseller_sms: Vec::new(),
        reseller_mms: Vec::new(),
        cdr: Arc::new(Vec::new()),
        recordings: Vec::new(),
        transactions: Vec::new(),
        records: Default::default(),
    };
    phonebook(&mut state, &people, &robocallers);
    state.vm_messages = voicemail(&mut Rng::new(seed, 0x7011), &history, today, clock);
    state.recordings = recordings(&mut Rng::new(seed, 0x2EC0), &mut history, today, |did| {
        transcribing_since(did, today)
    });
    let (sms, mms) = messages(&mut Rng::new(seed, 0x5A5), &people, today, clock);
    state.next.sms = sms.last().map_or(1801, |m| m.id + 1);
    state.next.mms = mms.last().map_or(1905, |m| m.id + 1);
    state.sms = sms;
    state.mms = mms;
    (state.reseller_sms, state.reseller_mms) =
        reseller_messages(&mut Rng::new(seed, 0x2E5), today, clock);
    state.cdr = Arc::new(history);
    ledger(&mut state, &mut Rng::new(seed, 0x1ED6));
    state
}

fn number(rng: &mut Rng, areas: &[&str]) -> String {
    let area = rng.pick(areas);
    let mut exchange = rng.range(200, 989);
    if exchange == 123 || exchange == 555 {
        exchange += 1;
    }
    format!("{area}{exchange:03}{:04}", rng.below(10_000))
}

/// Caller name as carriers send it: `LAST FIRST`, upper case, at most 15 characters.
fn cnam_of(name: &str) -> String {
    let mut parts: Vec<&str> = name.split_whitespace().collect();
    if parts.len() == 2 {
        parts.swap(0, 1);
    }
    let s = parts.join(" ").to_uppercase();
    s.chars().take(15).collect()
}

fn people(rng: &mut Rng) -> Vec<Person> {
    let local = ["555", "555", "305", "786", "954"];
    let mut out = Vec::new();
    let mut add = |rng: &mut Rng,
                   name: &str,
                   real: &str,
                   kind: Kind,
                   number: Option<&str>,
                   line: usize,
                   p_in: f64,
                   p_out: f64| {
        let number = number.map_or_else(|| self::number(rng, &local), str::to_owned);
        let quoted = rng.chance(0.7);
        // The rates below are per day; the scale sets the account's overall call volume.
        const SCALE: f64 = 1.8;
        out.push(Person {
            name: name.into(),
            cnam: cnam_of(real),
            number,
            kind,
            line,
            p_in: p_in * SCALE,
            p_out: p_out * SCALE,
            quoted,
        });
    };
    add(
        rng,
        "Mom",
        "Margaret Wilson",
        Kind::Family,
        None,
        0,
        0.30,
        0.18,
    );
    add(
        rng,
        "Dad",
        "Robert Wilson",
        Kind::Family,
        None,
        0,
        0.16,
        0.10,
    );
    add(
        rng,
        "Emma Wilson",
        "Emma Wilson",
        Kind::Family,
        None,
        1,
        0.14,
        0.12,
    );
    add(
        rng,
        "Grandma Rose",
        "Rose Parker",
        Kind::Family,
        None,
        1,
        0.08,
        0.06,
    );
    add(
        rng,
        "Jane Smith",
        "Jane Smith",
        Kind::Work,
        Some("5553334444"),
        0,
        0.20,
        0.15,
    );
    add(
        rng,
        "John Doe",
        "John Doe",
        Kind::Work,
        Some("5552223333"),
        0,
        0.08,
        0.06,
    );
    for name in [
        "Alex Chen",
        "Priya Patel",
        "Sam Rivera",
        "Olivia Brown",
        "Noah Garcia",
    ] {
        add(rng, name, name, Kind::Friend, None, 0, 0.05, 0.04);
    }
    let toronto = self::number(rng, &["416", "647"]);
    add(
        rng,
        "Leo Tremblay",
        "Leo Tremblay",
        Kind::Friend,
        Some(&toronto),
        2,
        0.05,
        0.04,
    );
    add(
        rng,
        "Corner Pharmacy",
        "Corner Pharmacy",
        Kind::Business,
        None,
        0,
        0.03,
        0.03,
    );
    add(
        rng,
        "Dr. Lee Dental",
        "Lee Dental",
        Kind::Business,
        None,
        0,
        0.02,
        0.02,
    );
    add(
        rng,
        "Luigi's Pizza",
        "Luigis Pizza",
        Kind::Business,
        None,
        0,
        0.01,
        0.05,
    );
    add(
        rng,
        "First Bank",
        "First Bank",
        Kind::Business,
        Some("8005550100"),
        0,
        0.02,
        0.02,
    );
    add(
        rng,
        "Oakwood School",
        "Oakwood Elem",
        Kind::Business,
        None,
        1,
        0.03,
        0.01,
    );
    // Business CNAMs are not "LAST FIRST".
    for p in out.iter_mut().filter(|p| p.kind == Kind::Business) {
        p.cnam = p.cnam.split(' ').rev().collect::<Vec<_>>().join(" ");
    }
    out
}

fn dids(today: NaiveDate) -> Vec<Record> {
    let template = example("getDIDsInfo")["dids"][0]
        .as_object()
        .cloned()
        .unwrap_or_default();
    DIDS.iter()
        .map(|d| {
            let mut r = template.clone();
            let ordered = today - chrono::Duration::days(d.ordered_days_ago);
            // Next billing: the order's day of month, in the coming month.
            let next = next_billing(today, ordered.day());
            let vm_route = if d.mailbox.is_empty() {
                "none:".to_owned()
            } else {
                format!("vm:{}", d.mailbox)
            };
            let set = |r: &mut Record, k: &str, v: Value| {
                r.insert(k.to_owned(), v);
            };
            set(&mut r, "did", json!(d.did));
            set(&mut r, "description", json!(d.description));
            set(&mut r, "routing", json!(format!("account:{}", d.account)));
            set(&mut r, "failover_busy", json!(vm_route));
            set(&mut r, "failover_unreachable", json!("fwd:18635"));
            set(&mut r, "failover_noanswer", json!(vm_route));
            set(&mut r, "voicemail", json!(d.mailbox));
            set(&mut r, "pop", json!(d.pop));
            set(&mut r, "billing_type", json!(d.billing_type));
            set(&mut r, "next_billing", json!(time::date(next)));
            set(
                &mut r,
                "order_date",
                json!(time::datetime(time::at(ordered, 15, 9, 4))),
            );
            set(&mut r, "callerid_prefix", json!(""));
            set(&mut r, "note", json!(d.cnam.to_lowercase()));
            let on = d.transcribing_days.is_some();
            set(&mut r, "transcribe", json!(if on { "1" } else { "0" }));
            // The wire mixes numbers and strings in the same row: keep it that way.
            set(&mut r, "sms_available", json!(u8::from(d.country == "USA")));
            set(&mut r, "sms_enabled", json!(if d.sms { "1" } else { "0" }));
            set(&mut r, "mms_available", json!(u8::from(d.country == "USA")));
            set(&mut r, "sms_sipaccount", json!(d.account));
            if !d.sms {
                for k in [
                    "sms_email_enabled",
                    "sms_url_callback_enabled",
                    "sms_url_callback_retry",
                ] {
                    set(&mut r, k, json!("0"));
                }
                set(&mut r, "sms_email", json!(""));
                set(&mut r, "sms_url_callback", json!(""));
            }
            if d.country != "USA" {
                set(&mut r, "e911", json!("0"));
            }
            r
        })
        .collect()
}

/// The next date with day-of-month `day` after `today` (clamped to the month's length).
pub(crate) fn next_billing(today: NaiveDate, day: u32) -> NaiveDate {
    let (mut y, mut m) = (today.year(), today.month());
    loop {
        let last = last_day(y, m);
        let candidate = NaiveDate::from_ymd_opt(y, m, day.min(last)).unwrap_or(today);
        if candidate > today {
            return candidate;
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
}

fn last_day(y: i32, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

fn subaccounts() -> Vec<Record> {
    let template = example("getSubAccounts")["accounts"][0]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let specs = [
        (
            "99785",
            "VoIP",
            "Front desk phone",
            "2",
            "100",
            "1",
            "5551234567",
        ),
        (
            "99786",
            "Home",
            "Kitchen phone",
            "2",
            "101",
            "2",
            "5551234568",
        ),
        (
            "99787",
            "Mobile",
            "Softphone on mobile",
            "2",
            "102",
            "3",
            "4165550134",
        ),
        // A spare ATA no DID routes to: the one a demo can delete.
        (
            "99788",
            "Spare",
            "Spare ATA in the garage",
            "2",
            "103",
            "4",
            "5551234567",
        ),
    ];
    specs
        .iter()
        .map(|(id, user, desc, device, vm, ext, cid)| {
            let mut r = template.clone();
            r.insert("id".into(), json!(id));
            r.insert("account".into(), json!(format!("100001_{user}")));
            r.insert("username".into(), json!(user));
            r.insert("description".into(), json!(desc));
            r.insert("device_type".into(), json!(device));
            r.insert("internal_voicemail".into(), json!(vm));
            r.insert("internal_extension".into(), json!(ext));
            r.insert("callerid_number".into(), json!(cid));
            r.insert("default_e911".into(), json!(cid));
            r.insert("internal_cnam".into(), json!(desc));
            // Transcription is switched on per DID (dids()): outgoing calls are not transcribed.
            r.insert("transcribe".into(), json!("0"));
            if *user != "VoIP" {
                r.insert("password".into(), json!(format!("Sandbox{id}pw")));
                r.insert("record_calls".into(), json!("0"));
                r.insert("reseller_client".into(), json!(""));
                r.insert("reseller_package".into(), json!(""));
                r.insert("reseller_nextbilling".into(), json!("0000-00-00"));
            }
            r
        })
        .collect()
}

fn mailboxes() -> Vec<Record> {
    let template = example("getVoicemails")["voicemails"][0]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut main = template.clone();
    main.insert("mailbox".into(), json!("101"));
    main.insert("name".into(), json!("Home"));
    main.insert("password".into(), json!("1357"));
    main.insert("email".into(), json!("demo@example.com"));
    main.insert("timezone".into(), json!("America/New_York"));
    main.insert("unavailable_message_recording".into(), json!(""));
    main.insert("transcription".into(), json!("no"));
    vec![template, main]
}

fn forwardings() -> BTreeMap<u64, Forwarding> {
    let mut out = BTreeMap::new();
    for row in example("getForwardings")["forwardings"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let g = |k: &str| row[k].as_str().unwrap_or("").to_owned();
        let Ok(id) = g("forwarding").parse() else {
            continue;
        };
        out.insert(
            id,
            Forwarding {
                phone_number: g("phone_number"),
                callerid_override: g("callerid_override"),
                description: g("description"),
                dtmf_digits: g("dtmf_digits"),
                pause: g("pause"),
                diversion_header: g("diversion_header"),
                attestation_a_enabled: "0".into(),
            },
        );
    }
    out
}

fn filters() -> BTreeMap<u64, Filter> {
    let mut out = BTreeMap::new();
    for row in example("getCallerIDFiltering")["filtering"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let g = |k: &str| row[k].as_str().unwrap_or("").to_owned();
        let Ok(id) = g("filtering").parse() else {
            continue;
        };
        out.insert(
            id,
            Filter {
                callerid: g("callerid"),
                did: g("did"),
                routing: g("routing"),
                failover_unreachable: g("failover_unreachable"),
                failover_busy: g("failover_busy"),
                failover_noanswer: g("failover_noanswer"),
                note: g("note"),
            },
        );
    }
    out.insert(
        18917,
        Filter {
            callerid: "p:3222".into(),
            did: "all".into(),
            routing: "sys:busy".into(),
            failover_unreachable: "none:".into(),
            failover_busy: "none:".into(),
            failover_noanswer: "none:".into(),
            note: "Known robocallers (Spam group)".into(),
        },
    );
    out
}

fn phonebook(state: &mut State, people: &[Person], robocallers: &[Robocaller]) {
    let entry = |name: &str, number: &str, speed: &str, callerid: &str, note: &str| Entry {
        name: name.into(),
        number: number.into(),
        speed_dial: speed.into(),
        callerid: callerid.into(),
        note: note.into(),
    };
    let pb = &mut state.phonebook;
    pb.insert(
        32207,
        entry(
            "Jane Smith",
            "5553334444",
            "*7501",
            "John Doe <5552223333>",
            "Jane's mobile",
        ),
    );
    pb.insert(32208, entry("Front desk", "sip:2563", "*7502", "", ""));
    pb.insert(
        19183,
        entry("Old plumber", "5556667777", "", "", "Retired, number kept"),
    );
    let mut family = Vec::new();
    let mut id = 32209;
    for (i, p) in people.iter().filter(|p| p.kind == Kind::Family).enumerate() {
        let speed = format!("*75{:02}", 10 + i);
        pb.insert(id, entry(&p.name, &p.number, &speed, "", ""));
        family.push(id);
        id += 1;
    }
    let mut spam = Vec::new();
    for r in robocallers.iter().filter(|r| r.marked) {
        pb.insert(
            id,
            entry(
                &format!("Robocaller {}", r.cnam),
                &r.number,
                "",
                "",
                "Blocked with the Spam group filter",
            ),
        );
        spam.push(id);
        id += 1;
    }
    // Duplicate entries for one number are allowed: John Doe is both in Work and listed alone.
    pb.insert(id, entry("John Doe", "5552223333", "", "", "Work"));
    state.groups.insert(
        3220,
        Group {
            name: "Work".into(),
            members: vec![32207, 32208],
        },
    );
    state.groups.insert(
        3221,
        Group {
            name: "Family".into(),
            members: family,
        },
    );
    state.groups.insert(
        3222,
        Group {
            name: "Spam".into(),
            members: spam,
        },
    );
    state.next.phonebook = id + 1;
}

/// What the voicemail messages of a group say: the words of its spoken clips (`vm-family-`, …).
fn vm_texts(prefix: &str) -> Vec<String> {
    media::group(prefix).iter().map(|c| c.text()).collect()
}

fn voicemail(rng: &mut Rng, history: &[CdrRow], today: NaiveDate, clock: i64) -> Vec<VmMessage> {
    let since = time::day_start(today) - 90 * DAY;
    let recent = time::day_start(today) - 21 * DAY;
    let mut out: Vec<VmMessage> = Vec::new();
    let (family, other) = (vm_texts("vm-family-"), vm_texts("vm-other-"));
    // A spam caller who hangs up at the beep leaves a message with no words.
    let mut spam_texts = vm_texts("vm-spam-");
    spam_texts.push(String::new());
    // A message lasts as long as its audio; the random draw stays so the rest of the seed does
    // not move.
    let seconds_of = |text: &str, drawn: i64| {
        media::voicemail_clip(text).map_or(drawn as u32, |c| c.whole_seconds())
    };
    for row in history.iter().filter(|r| r.voicemail && r.t >= since) {
        let mailbox = match DIDS.iter().find(|d| d.did == row.did) {
            Some(d) if !d.mailbox.is_empty() => d.mailbox,
            _ => continue,
        };
        let spam = row.callerid.contains("SPAM")
            || row.callerid.contains("\"V\"")
            || row.callerid.contains("anonymous")
            || row.callerid.contains("HEALTH")
            || row.callerid.contains("SCAM");
        let text = if spam {
            rng.pick(&spam_texts)
        } else if row.callerid.contains("WILSON") || row.callerid.contains("PARKER") {
            rng.pick(&family)
        } else {
            rng.pick(&other)
        }
        .clone();
        let old = row.t < recent;
        let listened = old || rng.chance(0.4);
        out.push(VmMessage {
            mailbox: mailbox.into(),
            folder: if old { "Old" } else { "INBOX" }.into(),
            num: 0,
            t: row.t + 25,
            callerid: row.callerid.clone(),
            seconds: if text.is_empty() {
                rng.range(2, 4) as u32
            } else {
                seconds_of(&text, rng.range(6, 45))
            },
            urgent: !spam && rng.chance(0.08),
            listened,
            text,
        });
    }
    // The documented examples read message 1 of box 1001's INBOX: make sure there is one, from
    // the latest missed calls on the first DID.
    let inbox = |out: &Vec<VmMessage>| {
        out.iter()
            .filter(|m| m.mailbox == "1001" && m.folder == "INBOX")
            .count()
    };
    let mut extra = history
        .iter()
        .rev()
        .filter(|r| r.incoming && r.did == DIDS[0].did && r.disposition == Disposition::NoAnswer)
        .filter(|r| !r.voicemail && r.t >= recent);
    while inbox(&out) < 2 {
        let Some(row) = extra.next() else { break };
        out.push(VmMessage {
            mailbox: "1001".into(),
            folder: "INBOX".into(),
            num: 0,
            t: row.t + 25,
            callerid: row.callerid.clone(),
            seconds: 0,
            urgent: false,
            listened: false,
            text: String::new(),
        });
        let drawn = rng.range(6, 30);
        let m = out.last_mut().expect("just pushed");
        m.text = rng.pick(&other).clone();
        m.seconds = seconds_of(&m.text, drawn);
    }
    // A message is left after its call: none after the clock.
    out.retain(|m| m.t <= clock);
    out.sort_by_key(|m| m.t);
    // Message numbers count up per box and folder, oldest first.
    let mut counters: BTreeMap<(String, String), u32> = BTreeMap::new();
    for m in &mut out {
        let n = counters
            .entry((m.mailbox.clone(), m.folder.clone()))
            .or_insert(0);
        *n += 1;
        m.num = *n;
        // The documented examples mark message 1 of box 1001's INBOX as heard: it is new.
        if m.mailbox == "1001" && m.folder == "INBOX" && m.num == 1 {
            m.listened = false;
        }
    }
    out
}

/// Recordings of half the answered calls (of 15 s or more) of the main account over 120 days. A
/// recording's audio is one of the spoken clips (13 s at most) and the recorded call lasts as
/// long as its clip, rounded up to the second: the CDR row's duration and charge are set to it
/// (the row's charge, hence the seeded balance, follows). VoIP.ms transcribes calls as they
/// happen: an incoming call when its DID had `transcribe` on at the time of the call (`since`),
/// an outgoing one when its sub-account had (the seeded sub-accounts have it off); switching a
/// flag later leaves earlier recordings as they were.
fn recordings(
    rng: &mut Rng,
    history: &mut [CdrRow],
    today: NaiveDate,
    since: impl Fn(&str) -> Option<i64>,
) -> Vec<CallRecording> {
    let start = time::day_start(today) - 120 * DAY;
    let mut picked: Vec<(usize, String)> = history
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.t >= start
                && r.account == "100001_VoIP"
                && r.disposition == Disposition::Answered
                && r.seconds >= 15
        })
        .filter(|_| rng.chance(0.5))
        .map(|(i, r)| {
            let other = r.other_number().unwrap_or("anonymous");
            let dir = if r.incoming { "IN" } else { "OUT" };
            let raw = format!("100001-{}-{other}-{dir}-{}", r.did, r.t);
            (
                i,
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw),
            )
        })
        .collect();
    pin_example_recording(&mut picked, history);
    picked
        .into_iter()
        .map(|(i, id)| {
            let seconds = media::call_clip(&id).whole_seconds();
            let r = &mut history[i];
            r.set_seconds(seconds);
            CallRecording {
                t: r.t,
                destination: r.other_number().unwrap_or("anonymous").to_owned(),
                did: r.did.clone(),
                incoming: r.incoming,
                account: r.account.clone(),
                seconds,
                transcribed: r.incoming && since(&r.did).is_some_and(|on| r.t >= on),
                id,
            }
        })
        .collect()
}

/// The documented examples name the first recording getCallRecordings' example lists: the
/// seeded recording nearest that row's time takes its id (ids are opaque to callers).
fn pin_example_recording(picked: &mut [(usize, String)], history: &[CdrRow]) {
    let row = &example("getCallRecordings")["recordings"][0];
    let (Some(id), Some(when)) = (row["callrecording"].as_str(), row["datetime"].as_str()) else {
        return;
    };
    let Ok(when) = chrono::NaiveDateTime::parse_from_str(when, "%Y-%m-%d %H:%M:%S") else {
        return;
    };
    let when = when.and_utc().timestamp();
    if let Some(nearest) = picked
        .iter_mut()
        .min_by_key(|(i, _)| (history[*i].t - when).abs())
    {
        nearest.1 = id.to_owned();
    }
}

const SMS_IN: &[&str] = &[
    "Are we still on for dinner tonight?",
    "Can you pick up milk on the way home?",
    "Don\\'t forget grandma\\'s birthday on Saturday!",
    "Running 10 minutes late, see you soon",
    "Call me when you can",
    "Thanks! That\\'s perfect.",
    "What time is the game?",
    "Just landed, heading home now",
    "Did you see the photos I sent?",
    "Ok sounds good",
    "Can we move it to 7?",
    "Love you! \u{2764}\u{fe0f}",
    "It\\'s raining here, bring an umbrella",
    "Your order is ready for pickup",
];
const SMS_OUT: &[&str] = &[
    "Yes, see you at 7",
    "On my way",
    "Sure, no problem",
    "I'll call you after work",
    "Thanks, got it",
    "Sounds good \u{1f44d}",
    "Can't talk now, in a meeting",
    "Happy birthday! \u{1f382}",
    "Leaving now",
    "Let's do Saturday instead",
];

fn messages(
    rng: &mut Rng,
    people: &[Person],
    today: NaiveDate,
    clock: i64,
) -> (Vec<Message>, Vec<Message>) {
    let did = DIDS[0].did;
    let texters: Vec<&Person> = people
        .iter()
        .filter(|p| matches!(p.kind, Kind::Family | Kind::Friend | Kind::Work) && p.line == 0)
        .collect();
    let mut sms: Vec<(i64, bool, String, String)> = Vec::new();
    let conversation = |rng: &mut Rng, start: i64, out: &mut Vec<(i64, bool, String, String)>| {
        let who = rng.pick(&texters);
        let mut t = start;
        let mut incoming = rng.chance(0.6);
        for _ in 0..rng.range(2, 6) {
            let text = if incoming {
                rng.pick(SMS_IN)
            } else {
                rng.pick(SMS_OUT)
            };
            out.push((t, incoming, who.number.clone(), (*text).to_owned()));
            t += rng.range(30, 20 * 60);
            incoming = !incoming;
        }
    };
    for back in 1..=180 {
        if rng.chance(0.55) {
            let date = today - chrono::Duration::days(back);
            let start = time::at(date, 8, 0, 0) + rng.range(0, 12 * 3600);
            conversation(rng, start, &mut sms);
        }
    }
    while sms.len() < 150 {
        let date = today - chrono::Duration::days(rng.range(1, 180));
        let start = time::at(date, 9, 0, 0) + rng.range(0, 10 * 3600);
        conversation(rng, start, &mut sms);
    }
    // This morning's conversation (earlier when the clock is not yet past nine), so a plain
    // getSMS (today by default) lists something on most of the day.
    let morning = time::at(today, 9, 12, 0).min(clock - (2 * 3600 + 48 * 60));
    conversation(rng, morning, &mut sms);
    sms.retain(|m| m.0 < clock);
    sms.sort_by_key(|m| m.0);
    let sms = sms
        .into_iter()
        .enumerate()
        .map(|(i, (t, incoming, contact, text))| Message {
            id: 1801 + i as u64,
            t,
            incoming,
            did: did.into(),
            contact,
            text,
            carrier_status: if incoming {
                String::new()
            } else if rng.chance(0.85) {
                "Delivered".into()
            } else {
                "Information not available".into()
            },
            media: Vec::new(),
        })
        .collect();

    let mut mms: Vec<(i64, bool, String, Vec<String>, String)> = Vec::new();
    for _ in 0..24 {
        let date = today - chrono::Duration::days(rng.range(1, 180));
        let t = time::at(date, 10, 0, 0) + rng.range(0, 9 * 3600);
        let who = rng.pick(&texters);
        let incoming = rng.chance(0.7);
        let media: Vec<String> = (0..rng.range(1, 2))
            .map(|_| {
                let ext = rng.pick(&["jpeg", "jpeg", "png"]);
                format!(
                    "https://voip.ms/media/{:010x}/media.{ext}",
                    rng.next_u64() & 0xFF_FFFF_FFFF
                )
            })
            .collect();
        let text = if incoming {
            *rng.pick(&[
                "Look at this!",
                "Photo from today",
                "The kids at the park",
                "",
            ])
        } else {
            *rng.pick(&["Here you go", "Receipt attached", ""])
        };
        mms.push((t, incoming, who.number.clone(), media, text.to_owned()));
    }
    mms.sort_by_key(|m| m.0);
    let mms = mms
        .into_iter()
        .enumerate()
        .map(|(i, (t, incoming, contact, media, text))| Message {
            id: 1905 + i as u64,
            t,
            incoming,
            did: did.into(),
            contact,
            text,
            carrier_status: if incoming {
                String::new()
            } else {
                "Delivered".into()
            },
            media,
        })
        .collect();
    (sms, mms)
}

/// The reseller client's DID and the numbers it texts with.
const RESELLER_DID: &str = "5551234567";
const RESELLER_CONTACTS: &[&str] = &["5559876543", "5145550142", "4385550178"];

/// The reseller client's messages: a short exchange on about half of the last 60 days (at any
/// hour, so some fall near midnight where a shift moves them to another day) and a few MMS.
fn reseller_messages(rng: &mut Rng, today: NaiveDate, clock: i64) -> (Vec<Message>, Vec<Message>) {
    let mut sms = Vec::new();
    let mut mms = Vec::new();
    for back in (0..=60).rev() {
        if !rng.chance(0.5) {
            continue;
        }
        let date = today - chrono::Duration::days(back);
        let mut t = time::at(date, 0, 0, 0) + rng.range(0, DAY - 3600);
        let contact = (*rng.pick(RESELLER_CONTACTS)).to_owned();
        let mut incoming = rng.chance(0.5);
        for _ in 0..rng.range(1, 3) {
            let text = if incoming {
                "Is the order ready for pickup?"
            } else {
                "Yes, it is ready at the counter"
            };
            sms.push((t, incoming, contact.clone(), text, Vec::new()));
            t += rng.range(60, 15 * 60);
            incoming = !incoming;
        }
        if rng.chance(0.2) {
            let media = vec![format!(
                "https://voip.ms/media/{:010x}/media.jpeg",
                rng.next_u64() & 0xFF_FFFF_FFFF
            )];
            mms.push((t, false, contact, "Your new menu is attached", media));
        }
    }
    let build = |rows: Vec<(i64, bool, String, &str, Vec<String>)>, first: u64| {
        rows.into_iter()
            .filter(|m| m.0 < clock)
            .enumerate()
            .map(|(i, (t, incoming, contact, text, media))| Message {
                id: first + i as u64,
                t,
                incoming,
                did: RESELLER_DID.into(),
                contact,
                text: text.to_owned(),
                carrier_status: if incoming { "" } else { "Delivered" }.into(),
                media,
            })
            .collect::<Vec<_>>()
    };
    (build(sms, 111_120), build(mms, 112_040))
}

/// Walks the history day by day: DID fees on their billing day, calls and messages as they
/// happen, a first deposit and automatic recharges whenever the balance runs low. Leaves the
/// balance, the total spent and the transaction history consistent with each other.
fn ledger(state: &mut State, rng: &mut Rng) {
    let today = state.today;
    let first = today - chrono::Duration::days(i64::from(HISTORY_DAYS));
    let mut balance: i64 = 0;
    let mut spent: i64 = 0;
    let mut transactions = Vec::new();
    let mut uid: u64 = 13_000_000 + rng.below(10_000);
    let mut steps = Rng::new(rng.next_u64(), 0x51D);
    let mut push = |t: i64, kind: &str, description: String, amount: i64| {
        uid += 1 + steps.below(40);
        transactions.push(Transaction {
            t,
            uniqueid: uid.to_string(),
            kind: kind.to_owned(),
            description,
            amount,
        });
    };
    push(
        time::at(first, 9, 41, 12),
        "Payment",
        "Credit card payment".into(),
        50 * DOLLAR,
    );
    balance += 50 * DOLLAR;
    let cdr = Arc::clone(&state.cdr);
    let mut cdr_i = 0;
    let (mut sms_i, mut mms_i) = (0, 0);
    let mut date = first;
    while date <= today {
        let start = time::day_start(date);
        let end = start + DAY;
        for d in DIDS {
            let ordered = today - chrono::Duration::days(d.ordered_days_ago);
            let due = time::at(date, 0, 3, 46);
            // Today's fees are charged at 00:03, not before the clock gets there.
            if date.day() == ordered.day().min(last_day(date.year(), date.month()))
                && due <= state.clock
            {
                let fee = monthly_fee(d.billing_type);
                push(
                    due,
                    &format!("DID{}", d.did),
                    format!("DID Monthly Fee: {}", d.did),
                    -fee,
                );
                balance -= fee;
                spent += fee;
            }
        }
        while cdr_i < cdr.len() && cdr[cdr_i].t < end {
            let total = cdr[cdr_i].total;
            balance -= total;
            spent += total;
            cdr_i += 1;
        }
        while sms_i < state.sms.len() && state.sms[sms_i].t < end {
            if !state.sms[sms_i].incoming {
                balance -= SMS_PRICE;
                spent += SMS_PRICE;
            }
            sms_i += 1;
        }
        while mms_i < state.mms.len() && state.mms[mms_i].t < end {
            if !state.mms[mms_i].incoming {
                balance -= MMS_PRICE;
                spent += MMS_PRICE;
            }
            mms_i += 1;
        }
        if balance < 20 * DOLLAR && date < today {
            push(
                time::at(date, 23, 5, 0) + rng.range(0, 50 * 60),
                "Payment",
                "Automatic recharge (credit card)".into(),
                50 * DOLLAR,
            );
            balance += 50 * DOLLAR;
        }
        date = date.succ_opt().unwrap_or(today);
        if date == first {
            break;
        }
    }
    transactions.sort_by_key(|t| t.t);
    state.balance = balance;
    state.spent = spent;
    state.next.transaction = uid + 1;
    state.transactions = transactions;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_account_is_coherent() {
        let today = NaiveDate::from_ymd_opt(2025, 7, 15).unwrap();
        let s = account(1, today);
        assert_eq!(s.dids.len(), 3);
        assert_eq!(s.dids[0]["sms_enabled"], "1");
        assert_eq!(s.dids[0]["sms_available"], 1);
        assert!(s.cdr.len() > 2000, "{} rows", s.cdr.len());
        assert!(s.cdr.len() < 8000, "{} rows", s.cdr.len());
        assert!(s.balance > 0, "balance {}", s.balance);
        assert!(s.spent > 0);
        assert!(s.sms.iter().any(|m| m.id == 1918));
        assert!(s.mms.iter().any(|m| m.id == 1918));
        assert!(s.sms.iter().any(|m| time::date_of(m.t) == today));
        assert!(s.recordings.len() > 60, "{} recordings", s.recordings.len());
        assert!(
            s.vm_messages
                .iter()
                .any(|m| m.mailbox == "1001" && m.folder == "INBOX" && m.num == 1)
        );
        assert!(s.phonebook.contains_key(&32207) && s.phonebook.contains_key(&19183));
        for g in s.groups.values() {
            assert!(g.members.iter().all(|id| s.phonebook.contains_key(id)));
        }
        // Payments minus every debit is the balance.
        let payments: i64 = s
            .transactions
            .iter()
            .filter(|t| t.amount > 0)
            .map(|t| t.amount)
            .sum();
        assert_eq!(payments - s.spent, s.balance);
        let again = account(1, today);
        assert_eq!(again.cdr, s.cdr);
        assert_eq!(again.balance, s.balance);
    }

    #[test]
    fn nothing_is_dated_after_the_real_clock() {
        let today = time::date_of(time::server_now());
        let mut s = account(7, today);
        let now = time::server_now();
        assert!(s.clock <= now);
        let dated = s
            .cdr
            .iter()
            .map(|r| r.t)
            .chain(s.sms.iter().map(|m| m.t))
            .chain(s.mms.iter().map(|m| m.t))
            .chain(s.vm_messages.iter().map(|m| m.t))
            .chain(s.recordings.iter().map(|r| r.t))
            .chain(s.transactions.iter().map(|t| t.t));
        for t in dated {
            assert!(
                t <= now,
                "{} is after {}",
                time::datetime(t),
                time::datetime(now)
            );
        }
        // Events move the clock on, never past the real one.
        for _ in 0..2000 {
            s.tick();
        }
        assert!(s.clock <= time::server_now());
    }

    #[test]
    fn spam_has_repeat_callers_and_varied_prefixes() {
        let s = account(1, NaiveDate::from_ymd_opt(2025, 7, 15).unwrap());
        let mut calls: BTreeMap<&str, Vec<&CdrRow>> = BTreeMap::new();
        for r in s.cdr.iter().filter(|r| r.incoming) {
            if let Some(n) = r.other_number() {
                calls.entry(n).or_default().push(r);
            }
        }
        // An unblocked caller calls again and again, on many days, in short or missed calls.
        let repeat = &calls["4695550187"];
        let days: std::collections::BTreeSet<_> =
            repeat.iter().map(|r| time::date_of(r.t)).collect();
        assert!(repeat.len() >= 10 && days.len() >= 8, "{}", repeat.len());
        assert!(repeat.iter().all(|r| r.seconds < 10));
        assert!(
            repeat
                .iter()
                .any(|r| r.disposition == Disposition::Answered)
        );
        // One-off spam comes from many prefixes, not only the DID's exchange.
        let prefixes: std::collections::BTreeSet<&str> = calls
            .iter()
            .filter(|(_, rows)| rows.len() == 1 && rows[0].seconds < 10)
            .map(|(n, _)| &n[..3.min(n.len())])
            .collect();
        assert!(prefixes.len() >= 5, "{prefixes:?}");
        // Only the blocked ones are in the Spam group.
        let numbers: Vec<&str> = s.phonebook.values().map(|e| e.number.as_str()).collect();
        assert!(numbers.contains(&"3055550190"));
        assert!(!numbers.contains(&"4695550187"));
    }

    #[test]
    fn billing_dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(next_billing(d(2025, 1, 30), 31), d(2025, 1, 31));
        assert_eq!(next_billing(d(2025, 1, 31), 31), d(2025, 2, 28));
        assert_eq!(next_billing(d(2025, 12, 15), 3), d(2026, 1, 3));
    }
}
