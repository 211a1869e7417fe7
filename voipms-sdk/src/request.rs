//! The contract between the generated typed requests and the client.

use std::ops::Deref;

use serde_json::Value;

use crate::catalog::Method;
use crate::decode::Decode;
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

/// A typed response together with the raw JSON it was decoded from, so nothing the API sent is lost.
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// The typed payload.
    pub data: T,
    /// The whole response object as received (after an empty body became `{"status":"success"}`).
    pub raw: Value,
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
    fn decode(_value: &Value) -> Result<Option<Self>, crate::decode::DecodeError> {
        Ok(Some(Ack))
    }
}
