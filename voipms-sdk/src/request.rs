//! The contract between the generated typed requests and the client.

use std::ops::Deref;

use serde_json::Value;

use crate::catalog::Method;
use crate::decode::{Cx, Decode, DecodeError, Drift, ToJson};
use crate::wire::Params;

/// A typed request for one API method. Generated for every method in `api-spec/`.
///
/// Required parameters are arguments of the request's `new(...)`; optional ones are setters.
pub trait Request: Send + Sync {
    /// The typed payload of a successful response.
    type Response: Decode + Default + Send + 'static;
    /// Wire name of the method.
    const METHOD: &'static str;
    /// The method's catalog entry (effect, empty statuses, params).
    fn spec() -> &'static Method;
    /// Appends this request's parameters in wire form.
    fn encode(&self, params: &mut Params);
    /// This request's parameters in wire form.
    fn to_params(&self) -> Params {
        let mut p = Params::new();
        self.encode(&mut p);
        p
    }
}

/// A typed response together with the raw JSON it was decoded from, so nothing the API sent is
/// lost, and the drift between the two: keys the typed response did not read and values it could
/// not read (see [`Drift`]).
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// The typed payload.
    pub data: T,
    /// The whole response object as received (after an empty body became `{"status":"success"}`).
    pub raw: Value,
    /// What the typed payload does not account for; empty when the answer matches the spec.
    pub drift: Drift,
}

impl<T> Response<T> {
    /// The typed payload.
    pub fn into_inner(self) -> T {
        self.data
    }

    /// The raw JSON.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// JSON paths of keys in the answer that the typed payload did not read (`$.cdr[0].ip`).
    pub fn unread(&self) -> &[String] {
        self.drift.unread()
    }

    /// Values that did not read as their declared type (each such field is `None` in `data`,
    /// its text kept in the struct's `unreadable` set).
    pub fn unreadable(&self) -> &[crate::decode::UnreadableValue] {
        self.drift.unreadable()
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

/// The typed response of a method that answers with a bare `{"status": "success"}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ack;

impl Decode for Ack {
    fn decode<'v>(value: &'v Value, cx: &mut Cx<'v>) -> Result<Option<Self>, DecodeError> {
        crate::decode::status_only(value, cx);
        Ok(Some(Ack))
    }
}

impl ToJson for Ack {
    fn to_json(&self) -> Value {
        Value::Object(serde_json::Map::new())
    }
}
