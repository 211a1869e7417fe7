//! Small conveniences for the account: balance and DIDs.

use crate::Client;
use crate::api::{AccountBalance, DidInfo, GetBalance, GetDidsInfo};
use crate::numbers::PhoneNumber;
use crate::ops::{OpError, Session};
use crate::scalars::Decimal;

/// The account balance (from `getBalance` with `advanced`).
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// Money left on the account.
    pub current: Option<Decimal>,
    /// Spent since the account opened.
    pub spent_total: Option<Decimal>,
    /// Spent today.
    pub spent_today: Option<Decimal>,
    /// Calls since the account opened.
    pub calls_total: Option<i64>,
    /// Calls today.
    pub calls_today: Option<i64>,
    /// Call time since the account opened (`HH:MM:SS`).
    pub time_total: Option<String>,
    /// Call time today.
    pub time_today: Option<String>,
}

impl From<AccountBalance> for Balance {
    fn from(b: AccountBalance) -> Self {
        Balance {
            current: b.current_balance,
            spent_total: b.spent_total,
            spent_today: b.spent_today,
            calls_total: b.calls_total,
            calls_today: b.calls_today,
            time_total: b.time_total,
            time_today: b.time_today,
        }
    }
}

/// One DID of the account, with what the CLI and tools usually need up front.
#[derive(Debug, Clone, PartialEq)]
pub struct Did {
    /// The number as VoIP.ms lists it.
    pub did: String,
    /// The number in canonical form, when it is one.
    pub number: Option<PhoneNumber>,
    /// Description (rate centre, or the user's note).
    pub description: Option<String>,
    /// Where calls go (`account:100001_VoIP`, …).
    pub routing: Option<String>,
    /// SMS is turned on for this DID.
    pub sms_enabled: bool,
    /// SMS can be turned on for this DID.
    pub sms_available: bool,
    /// MMS can be used on this DID.
    pub mms_available: bool,
    /// The whole getDIDsInfo row.
    pub info: DidInfo,
}

impl From<DidInfo> for Did {
    fn from(info: DidInfo) -> Self {
        let did = info.did.clone().unwrap_or_default();
        Did {
            number: PhoneNumber::parse(&did).ok(),
            did,
            description: info.description.clone(),
            routing: info.routing.clone(),
            sms_enabled: info.sms_enabled.unwrap_or(false),
            sms_available: info.sms_available.unwrap_or(false),
            mms_available: info.mms_available.unwrap_or(false),
            info,
        }
    }
}

/// Every DID of the account (one getDIDsInfo call, logged in `s`).
pub(crate) async fn read_dids(s: &mut Session) -> Result<Vec<Did>, OpError> {
    let r = s.read(&GetDidsInfo::new()).await?;
    Ok(r.dids.into_iter().map(Did::from).collect())
}

/// Account conveniences over a [`Client`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Account {
    client: Client,
}

impl Account {
    /// Account conveniences over `client`.
    pub fn new(client: &Client) -> Self {
        Account {
            client: client.clone(),
        }
    }

    /// The balance with today's and all-time totals (one call).
    pub async fn balance(&self) -> Result<Balance, OpError> {
        let mut s = Session::new(&self.client, "balance");
        let r = s.read(&GetBalance::new().advanced(true)).await?;
        Ok(r.balance.map(Balance::from).unwrap_or(Balance {
            current: None,
            spent_total: None,
            spent_today: None,
            calls_total: None,
            calls_today: None,
            time_total: None,
            time_today: None,
        }))
    }

    /// Every DID of the account (one call).
    pub async fn dids(&self) -> Result<Vec<Did>, OpError> {
        let mut s = Session::new(&self.client, "list DIDs");
        read_dids(&mut s).await
    }

    /// The DIDs with SMS turned on (one call).
    pub async fn sms_dids(&self) -> Result<Vec<Did>, OpError> {
        Ok(self
            .dids()
            .await?
            .into_iter()
            .filter(|d| d.sms_enabled)
            .collect())
    }

    /// The first DID with SMS turned on, for sending when none is named (one call).
    pub async fn default_sms_did(&self) -> Result<Did, OpError> {
        let dids = self.dids().await?;
        if dids.is_empty() {
            return Err(OpError::invalid(
                "the account has no DIDs, so it cannot send SMS: order a DID first",
            ));
        }
        let listed = dids
            .iter()
            .map(|d| d.did.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        dids.into_iter().find(|d| d.sms_enabled).ok_or_else(|| {
            OpError::invalid(format!(
                "none of the account's DIDs ({listed}) has SMS turned on: enable it on the \
                 portal (DID numbers → Manage DIDs → SMS/MMS) or with setSMS"
            ))
        })
    }
}
