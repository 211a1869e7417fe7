//! Typed requests and responses for every VoIP.ms method, generated from `api-spec/`.
//!
//! Each method has a request struct named after it (`getCDR` → `GetCdr`): required parameters
//! go to `new(...)`, optional ones are setters. Its response (`GetCdrResponse`) decodes leniently
//! and every field is optional, since VoIP.ms omits what does not apply. Each category is a module
//! and a cargo feature; everything is also re-exported here.

#[rustfmt::skip]
#[path = "generated/api/mod.rs"]
mod generated;

pub use generated::*;
