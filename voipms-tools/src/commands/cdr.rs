//! `voipms cdr`: call records with friendly options, mapped to getCDR (the prototype's alias),
//! and `voipms cdr export`: any date range streamed to CSV or JSON through the SDK's windowed
//! export.
//!
//! Defaults: the last 30 days, every call status, timezone -5 (the server's days). Times are
//! shown in server time whatever timezone is sent (the SDK's export takes the shift back off).
//! A range over 92 days is fetched in 92-day windows.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{Datelike, Days};
use clap::{Arg, ArgMatches, Command};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};
use voipms_sdk::api::CdrRecord;
use voipms_sdk::cdr::CdrQuery;
use voipms_sdk::ops::PlannedCall;
use voipms_sdk::outfile::OutputFile;
use voipms_sdk::{Date, catalog};

use super::Builtin;
use crate::core::views;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::friendly;
use crate::output::{self, Format};
use crate::params;

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "cdr",
    command,
    run,
    needs_all_methods: false,
};

/// The first year a date range may start in.
const FIRST_YEAR: i32 = 2000;

/// More getCDR windows than this (six years) are asked about first (`--yes` skips).
const ASK_ABOVE_WINDOWS: usize = 24;

/// The longest range getCDR accepts in one call.
const MAX_DAYS: u64 = voipms_sdk::dates::MAX_WINDOW_DAYS as u64;

/// The options `cdr` and `cdr export` share.
fn filter_args(cmd: Command) -> Command {
    cmd.args(friendly::date_range_options())
        .arg(Arg::new("status").long("status").value_name("LIST").help(
            "Call statuses, comma-separated: answered, noanswer, busy, failed, all (default)",
        ))
        .arg(
            Arg::new("account")
                .long("account")
                .value_name("ACCOUNT")
                .help("Only calls of this (sub-)account, e.g. 100001_VoIP (see getCallAccounts)"),
        )
        .arg(
            Arg::new("did")
                .long("did")
                .value_name("DID")
                .help("Only calls of this DID (getCDR's calltype)"),
        )
        .arg(
            Arg::new("calltype")
                .long("calltype")
                .value_name("TYPE")
                .conflicts_with("did")
                .help("all, incoming, outgoing, or a DID (see getCallTypes)"),
        )
        .arg(
            Arg::new("billing")
                .long("billing")
                .value_name("BILLING")
                .help("all, free or billed (getCDR's callbilling; see getCallBilling)"),
        )
        .arg(
            Arg::new("timezone")
                .long("timezone")
                .value_name("OFFSET")
                .allow_negative_numbers(true)
                .help(
                    "getCDR's timezone number, -12 to 13, whole or in quarter hours such as 5.5 \
                     (default -5): whose days --from/--to \
                     mean (server time + timezone + 5 hours). Times are always shown in server \
                     time (US Eastern wall clock, daylight saving included), as `voipms \
                     recordings` shows them",
                ),
        )
}

fn command() -> Command {
    let cmd = Command::new("cdr")
        .about("Call detail records with friendly options (getCDR); `cdr export` for CSV/JSON")
        .long_about(
            "Call detail records, mapped to getCDR: --from/--to (default: the last 30 days), \
             --status (default: all four), --timezone (default -5: the server's own days). \
             Times are VoIP.ms server time, the US Eastern wall clock with daylight saving, \
             whatever --timezone says (getCDR shifts them by timezone + 5 hours; the shift is \
             taken back off), the time `voipms recordings` shows. VoIP.ms answers at most 92 days per call: a longer \
             range is fetched in 92-day windows. Calls are listed oldest first, whatever the \
             range. Every getCDR parameter is also available as `voipms getCDR`. \
             `voipms cdr export` streams any range to CSV or JSON.",
        )
        .args_conflicts_with_subcommands(true)
        .subcommand(
            filter_args(
                Command::new("export")
                    .about("Export the calls of any date range as CSV or JSON, streamed")
                    .long_about(
                        "Export the calls of any date range as CSV (with a header line) or as \
                         one JSON array, fetched in 92-day windows (4 at a time) and written \
                         row by row in date order, without duplicates. --format csv (default) \
                         or json chooses the format (an --out file ending in .json means json); \
                         a progress bar shows on a terminal when the export spans several \
                         windows.",
                    ),
            )
            .arg(
                Arg::new("out")
                    .long("out")
                    .short('o')
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help(
                        "Write to FILE instead of stdout (a regular file is replaced whole or not at \
                         all; a FIFO, a device or a symbolic link is written through)",
                    ),
            ),
        );
    filter_args(cmd)
}

/// The getCDR flags for a `--status` list.
pub fn status_flags(list: &str) -> Result<[bool; 4], String> {
    let mut on = [false; 4];
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let i = match item
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "all" => {
                on = [true; 4];
                continue;
            }
            "answered" => 0,
            "noanswer" | "unanswered" | "missed" => 1,
            "busy" => 2,
            "failed" => 3,
            _ => {
                return Err(format!(
                    "--status: `{item}` is not a call status; use answered, noanswer, busy, failed \
                     or all, comma-separated"
                ));
            }
        };
        on[i] = true;
    }
    if on.iter().all(|b| !b) {
        return Err(
            "--status: name at least one call status (answered, noanswer, busy, failed or all)"
                .into(),
        );
    }
    Ok(on)
}

/// The options of `cdr` and `cdr export`, checked.
struct Options {
    from: Date,
    to: Date,
    flags: [bool; 4],
    /// The getCDR `timezone` value, as sent.
    timezone: String,
    calltype: Option<String>,
    billing: Option<String>,
    account: Option<String>,
}

impl Options {
    /// Every problem of the options at once.
    fn parse(ctx: &mut Ctx, m: &ArgMatches, command: &str) -> Result<Options, Failure> {
        let spec = getcdr();
        let today = ctx.today();
        let mut problems = Vec::new();
        let month_ago = today.checked_sub_days(Days::new(30)).unwrap_or(today);
        let from = friendly::date_value(m, "from", month_ago, today)
            .map_err(|e| problems.push(e))
            .ok();
        let to = friendly::date_value(m, "to", today, today)
            .map_err(|e| problems.push(e))
            .ok();
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            problems.push(format!("--from {f} is after --to {t}"));
        }
        let next_year = today.year() + 1;
        for (flag, d) in [("--from", from), ("--to", to)] {
            match d {
                Some(d) if d.year() < FIRST_YEAR => problems.push(format!(
                    "{flag} {d} is before {FIRST_YEAR}: VoIP.ms has no calls that old; start at \
                     {FIRST_YEAR}-01-01 or later"
                )),
                Some(d) if d.year() > next_year => problems.push(format!(
                    "{flag} {d} is after next year ({next_year}): no calls there yet; a typo in \
                     the year?"
                )),
                _ => {}
            }
        }
        let flags = match m.get_one::<String>("status") {
            None => Some([true; 4]),
            Some(list) => status_flags(list).map_err(|e| problems.push(e)).ok(),
        };
        let tz_param = spec.param("timezone").expect("getCDR has timezone");
        let timezone = match m.get_one::<String>("timezone") {
            // VoIP.ms server time, the time call recordings carry too.
            None => Some(voipms_sdk::cdr::DEFAULT_TIMEZONE.to_string()),
            Some(raw) => params::encode(tz_param, raw, today)
                .map_err(|e| problems.push(format!("--timezone: {e}")))
                .ok(),
        };
        if !problems.is_empty() {
            return Err(Failure::usage(format!(
                "{command}: {}\nNothing was sent.",
                problems.join("\n  ")
            )));
        }
        let (Some(from), Some(to), Some(flags), Some(timezone)) = (from, to, flags, timezone)
        else {
            unreachable!("every problem was reported");
        };
        Ok(Options {
            from,
            to,
            flags,
            timezone,
            calltype: m
                .get_one::<String>("did")
                .or_else(|| m.get_one::<String>("calltype"))
                .cloned(),
            billing: m.get_one::<String>("billing").cloned(),
            account: m.get_one::<String>("account").cloned(),
        })
    }

    /// The same query for the SDK's windowed export.
    fn query(&self) -> CdrQuery {
        let [answered, noanswer, busy, failed] = self.flags;
        let mut q = CdrQuery::new(self.from, self.to)
            // Checked by `params::encode` when the options were read.
            .timezone(
                self.timezone
                    .parse::<voipms_sdk::TzOffset>()
                    .unwrap_or_default(),
            )
            .statuses(answered, noanswer, busy, failed);
        if let Some(t) = &self.calltype {
            q = q.calltype(t.as_str());
        }
        if let Some(b) = &self.billing {
            q = q.callbilling(b.as_str());
        }
        if let Some(a) = &self.account {
            q = q.account(a.as_str());
        }
        q
    }
}

fn getcdr() -> &'static voipms_sdk::catalog::Method {
    catalog::method("getCDR").expect("getCDR is in the catalog")
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    if let Some(("export", sub)) = m.subcommand() {
        return export(ctx, sub);
    }
    // Every range the same way: window by window (one window up to 92 days), the rows in date
    // order without duplicates, printed as one getCDR answer.
    let o = Options::parse(ctx, m, "cdr")?;
    list_windows(ctx, &o)
}

/// Asks before a range of more than [`ASK_ABOVE_WINDOWS`] getCDR windows.
fn confirm_windows(ctx: &Ctx, command: &str, o: &Options, windows: usize) -> Result<(), Failure> {
    if windows <= ASK_ABOVE_WINDOWS {
        return Ok(());
    }
    ctx.confirm_large(&format!(
        "`{command}` from {} to {} makes {windows} getCDR calls (one per {MAX_DAYS} days)",
        o.from, o.to
    ))
}

/// Prints the getCDR requests of `q` (`--dry-run`): one per window.
fn print_requests(ctx: &mut Ctx, q: &CdrQuery) -> Result<(), Failure> {
    let planned: Vec<PlannedCall> = q.requests().iter().map(PlannedCall::of).collect();
    friendly::print_planned_reads(ctx, &planned)
}

/// `cdr`: fetched window by window (one for up to 92 days), printed as one getCDR answer.
fn list_windows(ctx: &mut Ctx, o: &Options) -> Result<(), Failure> {
    let q = o.query();
    if ctx.globals.dry_run {
        return print_requests(ctx, &q);
    }
    confirm_windows(ctx, "cdr", o, q.windows().len())?;
    let client = friendly::client(ctx)?;
    let export = friendly::block_on(ctx, q.fetch_all(&client))?.map_err(friendly::failure)?;
    let empty = export.rows.is_empty();
    let body = if empty {
        json!({"status": "no_cdr"})
    } else {
        json!({
            "status": "success",
            "cdr": export.rows.iter().map(|r| Value::Object(views::cdr_row(r))).collect::<Vec<_>>(),
        })
    };
    output::print_answer(Some(getcdr()), &body, empty, None, ctx.format)
}

/// The export's columns: getCDR's row fields, in the catalog's order.
pub fn columns() -> Vec<&'static str> {
    getcdr()
        .response
        .iter()
        .find(|f| f.name == "cdr")
        .map(|f| f.fields.iter().map(|f| f.name).collect())
        .unwrap_or_default()
}

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExportFormat {
    Csv,
    Json,
}

/// Where an export writes: a file (a regular one complete or not at all; a FIFO or a device
/// written through) or stdout, in chunks.
struct Sink {
    format: ExportFormat,
    columns: Vec<&'static str>,
    file: Option<(PathBuf, OutputFile)>,
    buffer: String,
    rows: usize,
}

impl Sink {
    fn open(out: Option<&PathBuf>, format: ExportFormat) -> Result<Sink, Failure> {
        let file = match out {
            None => None,
            Some(path) => {
                let f = OutputFile::create(path).map_err(|e| {
                    Failure::output(
                        &format!("{} (--out needs a writable file path)", path.display()),
                        &e,
                    )
                })?;
                Some((path.clone(), f))
            }
        };
        let mut sink = Sink {
            format,
            columns: columns(),
            file,
            buffer: String::new(),
            rows: 0,
        };
        match format {
            ExportFormat::Csv => {
                let header: Vec<String> =
                    sink.columns.iter().map(|c| output::csv_field(c)).collect();
                sink.buffer.push_str(&header.join(","));
                sink.buffer.push('\n');
            }
            ExportFormat::Json => sink.buffer.push('['),
        }
        Ok(sink)
    }

    fn row(&mut self, r: &CdrRecord) -> Result<(), Failure> {
        let map = views::cdr_row(r);
        match self.format {
            ExportFormat::Csv => {
                let cells: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| output::csv_field(&map.get(*c).map(output::cell).unwrap_or_default()))
                    .collect();
                self.buffer.push_str(&cells.join(","));
                self.buffer.push('\n');
            }
            ExportFormat::Json => {
                if self.rows > 0 {
                    self.buffer.push(',');
                }
                self.buffer.push_str("\n  ");
                self.buffer
                    .push_str(&serde_json::to_string(&Value::Object(map)).unwrap_or_default());
            }
        }
        self.rows += 1;
        if self.buffer.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Failure> {
        let text = std::mem::take(&mut self.buffer);
        match &mut self.file {
            // Data as it is (no color stripping), still through the redacting writer; a failed
            // write stops the export.
            None => {
                output::stdout_bytes(text.as_bytes());
                if let Some(f) = output::stdout_failure() {
                    return Err(f);
                }
            }
            Some((path, w)) => w
                .write_all(output::redact(&text).as_bytes())
                .map_err(|e| Failure::output(&path.display().to_string(), &e))?,
        }
        Ok(())
    }

    /// Ends the document and, for a file, puts it in place.
    fn finish(mut self) -> Result<usize, Failure> {
        if self.format == ExportFormat::Json {
            self.buffer
                .push_str(if self.rows > 0 { "\n]\n" } else { "]\n" });
        }
        self.flush()?;
        if let Some((path, w)) = self.file.take() {
            w.commit()
                .map_err(|e| Failure::output(&path.display().to_string(), &e))?;
        }
        Ok(self.rows)
    }

    /// Drops a partly written file (a regular file's original stays as it was).
    fn abandon(mut self) {
        self.file = None;
    }
}

fn export_format(ctx: &Ctx, out: Option<&PathBuf>) -> Result<ExportFormat, Failure> {
    match ctx.globals.format {
        Some(Format::Csv) => Ok(ExportFormat::Csv),
        Some(Format::Json) => Ok(ExportFormat::Json),
        Some(_) => Err(Failure::usage(
            "cdr export writes csv or json: use --format csv (the default) or --format json",
        )),
        None => Ok(
            match out.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
                Some(e) if e.eq_ignore_ascii_case("json") => ExportFormat::Json,
                _ => ExportFormat::Csv,
            },
        ),
    }
}

/// A progress bar on stderr, when the export spans several windows and stderr is a terminal.
fn progress_bar(windows: usize) -> Option<ProgressBar> {
    if windows < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(windows as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} exporting calls {bar:30} {pos}/{len} windows, {msg} [{elapsed}]",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message("0 rows");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn export(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let o = Options::parse(ctx, m, "cdr export")?;
    let out = m.get_one::<PathBuf>("out").filter(|p| p.as_os_str() != "-");
    let format = export_format(ctx, out)?;
    let mut q = o.query();
    if ctx.globals.dry_run {
        return print_requests(ctx, &q);
    }
    let windows = q.windows().len();
    confirm_windows(ctx, "cdr export", &o, windows)?;
    let bar = progress_bar(windows);
    if let Some(bar) = bar.clone() {
        q = q.on_progress(move |p| {
            bar.set_position(p.windows_done as u64);
            bar.set_message(format!("{} rows", p.rows_fetched));
        });
    }
    let client = friendly::client(ctx)?;
    let sink = Sink::open(out, format)?;
    let outcome = friendly::block_on(ctx, async {
        let mut stream = q.stream(&client);
        let mut sink = sink;
        while let Some(row) = stream.next().await {
            match row {
                Ok(r) => {
                    if let Err(f) = sink.row(&r) {
                        sink.abandon();
                        return Err(f);
                    }
                }
                Err(e) => {
                    sink.abandon();
                    return Err(friendly::failure(e));
                }
            }
        }
        let duplicates = stream.duplicates_removed();
        sink.finish().map(|rows| (rows, duplicates))
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (rows, duplicates) = outcome?;
    let mut summary = format!(
        "exported {} from {} to {} ({})",
        friendly::plural(rows, "call", "calls"),
        o.from,
        o.to,
        friendly::plural(windows, "getCDR window", "getCDR windows"),
    );
    if duplicates > 0 {
        summary.push_str(&format!(", {duplicates} duplicates dropped"));
    }
    if let Some(p) = out {
        summary.push_str(&format!(" to {}", p.display()));
    }
    friendly::note(&summary);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_columns_follow_the_catalog() {
        let columns = columns();
        let row = views::cdr_row(&CdrRecord::default());
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        let mut sorted = columns.clone();
        sorted.sort_unstable();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(sorted, keys_sorted, "every getCDR row field is exported");
        assert_eq!(columns[0], "date");
    }

    #[test]
    fn statuses() {
        assert_eq!(
            status_flags("answered,busy").unwrap(),
            [true, false, true, false]
        );
        assert_eq!(status_flags("all").unwrap(), [true; 4]);
        assert_eq!(
            status_flags("No-Answer").unwrap(),
            [false, true, false, false]
        );
        assert!(
            status_flags("nope")
                .unwrap_err()
                .contains("not a call status")
        );
        assert!(status_flags(",").is_err());
    }
}
