//! `voipms`: the VoIP.ms API from the command line.
//!
//! Every method of the catalog is a command (built at run time from `voipms_sdk::catalog`), next
//! to hand-written ones: `list`, `help`, `call`, `doctor`, `decode`, `sandbox`, `completion`, and
//! the friendly commands over the SDK's helpers (`balance`, `phonebook`, `spam`, `cdr`, `sms`,
//! `mms`, `recordings`, `filters`). See `voipms --help`.

fn main() -> std::process::ExitCode {
    voipms_tools::main()
}
