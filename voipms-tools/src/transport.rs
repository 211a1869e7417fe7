//! The printed form of a recorded request (dry runs and confirmations). The recorder itself and
//! the tee that keeps raw answers for `--format raw` are in the core.

use voipms_sdk::transport::Encoding;

pub use crate::core::recorder::{Recorded, Recorder, record};
use crate::output::{BOLD, DIM};

/// The human-readable form of a recorded request, for dry runs and confirmations.
pub trait Render {
    /// The request line, and the form fields of a POST (long values cut).
    fn render(&self) -> String;
}

impl Render for Recorded {
    fn render(&self) -> String {
        let mut out = format!("{BOLD}{}{BOLD:#} {}\n", self.verb(), self.full_url());
        if self.encoding == Encoding::Multipart {
            out.push_str(&format!("{DIM}Content-Type: multipart/form-data{DIM:#}\n"));
            let width = self.fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in &self.fields {
                let shown = if v.chars().count() > 100 {
                    let head: String = v.chars().take(60).collect();
                    format!("{head}… ({} bytes)", v.len())
                } else {
                    v.clone()
                };
                out.push_str(&format!("  {k:width$} = {shown}\n"));
            }
        }
        out
    }
}
