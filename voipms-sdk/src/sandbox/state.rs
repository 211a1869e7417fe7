//! The simulated account: everything a session can change, as one serializable value.
//!
//! Records VoIP.ms returns with dozens of settings (DIDs, sub-accounts, voicemail boxes) are
//! kept as the JSON objects the API lists, starting from the spec's example rows, so setters can
//! write any documented field and getters return exactly what was written, with the wire's mixed
//! encodings (`"sms_available": 1` next to `"sms_enabled": "1"`). Small records the sandbox
//! reasons about (phonebook, filters, messages) are plain structs.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::cdr::CdrRow;
use super::rng::mix;
use super::time::{self, DAY};

/// Version of the saved-state layout; a file with another version is refused.
pub(crate) const FORMAT: u32 = 1;

/// A JSON record as the API lists it.
pub(crate) type Record = Map<String, Value>;

/// The whole account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) format: u32,
    /// Seed the account was generated from (reset goes back to it).
    pub(crate) seed: u64,
    /// The sandbox's "today", fixed when the account was created.
    pub(crate) today: NaiveDate,
    /// The sandbox clock: the time stamped on what happens now (sent messages, orders).
    pub(crate) clock: i64,
    /// Events so far, which drive the clock's deterministic steps.
    pub(crate) ticks: u64,
    /// Main account number (`100001`); sub-accounts are `100001_NAME`.
    pub(crate) account: String,
    /// Balance, 10⁻⁸ dollars.
    pub(crate) balance: i64,
    /// Everything ever charged, 10⁻⁸ dollars.
    pub(crate) spent: i64,
    pub(crate) next: NextIds,
    pub(crate) subaccounts: Vec<Record>,
    pub(crate) dids: Vec<Record>,
    pub(crate) phonebook: BTreeMap<u64, Entry>,
    pub(crate) groups: BTreeMap<u64, Group>,
    pub(crate) filters: BTreeMap<u64, Filter>,
    pub(crate) forwardings: BTreeMap<u64, Forwarding>,
    pub(crate) mailboxes: Vec<Record>,
    pub(crate) vm_messages: Vec<VmMessage>,
    pub(crate) sms: Vec<Message>,
    pub(crate) mms: Vec<Message>,
    /// The messages of the one reseller client (getResellerSMS / getResellerMMS); older saves
    /// have none.
    #[serde(default)]
    pub(crate) reseller_sms: Vec<Message>,
    #[serde(default)]
    pub(crate) reseller_mms: Vec<Message>,
    /// The call history never changes after seeding: shared, so a reset or save copies nothing.
    pub(crate) cdr: Arc<Vec<CdrRow>>,
    pub(crate) recordings: Vec<CallRecording>,
    pub(crate) transactions: Vec<Transaction>,
    /// The records of the resource families the spec declares and no handler models by hand
    /// (call parking lots, callbacks, IVRs, …), by family name; a family appears here the first
    /// time it is used, seeded from its `get` method's example rows.
    #[serde(default)]
    pub(crate) records: BTreeMap<String, Records>,
}

/// The records of one resource family.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Records {
    /// Next id handed out on create (ids are never reused, even after a delete).
    pub(crate) next: u64,
    pub(crate) rows: Vec<Record>,
}

/// Next ids handed out on create.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NextIds {
    pub(crate) phonebook: u64,
    pub(crate) group: u64,
    pub(crate) filter: u64,
    pub(crate) forwarding: u64,
    pub(crate) subaccount: u64,
    pub(crate) sms: u64,
    pub(crate) mms: u64,
    pub(crate) transaction: u64,
}

/// A phonebook entry. Group membership lives in the groups (`members`), as in VoIP.ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) number: String,
    pub(crate) speed_dial: String,
    pub(crate) callerid: String,
    pub(crate) note: String,
}

/// A phonebook group: a name and the ordered ids of its member entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) members: Vec<u64>,
}

/// A caller-ID filtering rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Filter {
    pub(crate) callerid: String,
    pub(crate) did: String,
    pub(crate) routing: String,
    pub(crate) failover_unreachable: String,
    pub(crate) failover_busy: String,
    pub(crate) failover_noanswer: String,
    pub(crate) note: String,
}

/// A call forwarding entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Forwarding {
    pub(crate) phone_number: String,
    pub(crate) callerid_override: String,
    pub(crate) description: String,
    pub(crate) dtmf_digits: String,
    pub(crate) pause: String,
    pub(crate) diversion_header: String,
    pub(crate) attestation_a_enabled: String,
}

/// A voicemail message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct VmMessage {
    pub(crate) mailbox: String,
    pub(crate) folder: String,
    pub(crate) num: u32,
    pub(crate) t: i64,
    pub(crate) callerid: String,
    pub(crate) seconds: u32,
    pub(crate) urgent: bool,
    pub(crate) listened: bool,
    /// What the caller said (the transcription).
    pub(crate) text: String,
}

/// An SMS or MMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message {
    pub(crate) id: u64,
    pub(crate) t: i64,
    pub(crate) incoming: bool,
    pub(crate) did: String,
    pub(crate) contact: String,
    pub(crate) text: String,
    pub(crate) carrier_status: String,
    /// MMS media URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) media: Vec<String>,
}

/// A call recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CallRecording {
    pub(crate) id: String,
    pub(crate) t: i64,
    /// The other party.
    pub(crate) destination: String,
    pub(crate) did: String,
    pub(crate) incoming: bool,
    pub(crate) account: String,
    pub(crate) seconds: u32,
    pub(crate) transcribed: bool,
}

/// A line of the transaction history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Transaction {
    pub(crate) t: i64,
    pub(crate) uniqueid: String,
    pub(crate) kind: String,
    pub(crate) description: String,
    /// Signed amount, 10⁻⁸ dollars.
    pub(crate) amount: i64,
}

impl State {
    /// Advances the sandbox clock by a deterministic 15–90 s, never past the real clock (where
    /// it stays put), and returns the new time.
    pub(crate) fn tick(&mut self) -> i64 {
        self.ticks += 1;
        let step = 15 + (mix(self.seed ^ self.ticks.wrapping_mul(0x9E37)) % 76) as i64;
        self.clock = (self.clock + step).min(time::server_now()).max(self.clock);
        self.clock
    }

    /// The sandbox's current date.
    pub(crate) fn now_date(&self) -> NaiveDate {
        time::date_of(self.clock)
    }

    /// A DID record by normalized number.
    pub(crate) fn did(&self, number: &str) -> Option<&Record> {
        self.dids.iter().find(|d| text(d, "did") == number)
    }

    /// A sub-account by login (`100001_VoIP`).
    pub(crate) fn subaccount(&self, login: &str) -> Option<&Record> {
        self.subaccounts
            .iter()
            .find(|a| text(a, "account") == login)
    }

    /// A voicemail box by number.
    pub(crate) fn mailbox(&self, number: &str) -> Option<&Record> {
        self.mailboxes.iter().find(|b| text(b, "mailbox") == number)
    }

    /// The time span of the stored history (for "today" filters).
    pub(crate) fn today_start(&self) -> i64 {
        time::day_start(self.today)
    }

    /// Charges the account: lowers the balance and records the spending (and, when `what` is
    /// given, a line in the transaction history).
    pub(crate) fn charge(&mut self, amount: i64, what: Option<(&str, String)>) {
        self.balance -= amount;
        self.spent += amount;
        if let Some((kind, description)) = what {
            let t = self.clock;
            let uniqueid = self.next.transaction.to_string();
            self.next.transaction += 1;
            self.transactions.push(Transaction {
                t,
                uniqueid,
                kind: kind.to_owned(),
                description,
                amount: -amount,
            });
        }
    }

    /// Spending on `date` outside the call history (messages and orders).
    pub(crate) fn spent_on(&self, date: NaiveDate) -> i64 {
        let start = time::day_start(date);
        let end = start + DAY;
        let in_day = |t: i64| t >= start && t < end;
        let sms = self
            .sms
            .iter()
            .filter(|m| !m.incoming && in_day(m.t))
            .count() as i64
            * SMS_PRICE;
        let mms = self
            .mms
            .iter()
            .filter(|m| !m.incoming && in_day(m.t))
            .count() as i64
            * MMS_PRICE;
        let orders: i64 = self
            .transactions
            .iter()
            .filter(|t| t.amount < 0 && in_day(t.t))
            .map(|t| -t.amount)
            .sum();
        sms + mms + orders
    }
}

/// Price of an outbound SMS, 10⁻⁸ dollars ($0.0075).
pub(crate) const SMS_PRICE: i64 = 750_000;
/// Price of an outbound MMS ($0.02).
pub(crate) const MMS_PRICE: i64 = 2_000_000;

/// A text field of a record ("" when absent; numbers as their text).
pub(crate) fn text<'a>(r: &'a Record, key: &str) -> &'a str {
    match r.get(key) {
        Some(Value::String(s)) => s,
        _ => "",
    }
}
