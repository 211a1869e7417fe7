//! End-to-end tests of the `voipms` binary: one test binary (it links the SDK once), with a local
//! HTTP server standing in for VoIP.ms.

mod bounds;
mod calls;
mod config;
mod friendly;
mod help;
mod honesty;
mod layout;
mod leaks;
mod mcp;
mod mcp_http;
mod oauth;
mod output;
mod readme;
mod safety;
mod sandbox;
mod secrets;
mod support;
mod transcripts;
