//! Everything the command line prints: the redacting, pipe-safe writers, the output formats and
//! the renderers for API answers (pretty, JSON, raw, table, CSV).
//!
//! Every byte written to stdout or stderr (logs included) passes through [`redact`], which
//! replaces the registered secrets (the API password, as is and URL-encoded) with `********`.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use anstyle::{AnsiColor, Style};
use serde_json::{Map, Value};
use voipms_sdk::catalog::{Field, FieldKind, Item, Method};

use crate::exit::Failure;

/// Bold text.
pub const BOLD: Style = Style::new().bold();
/// Dimmed text.
pub const DIM: Style = Style::new().dimmed();
/// Success marks.
pub const GREEN: Style = AnsiColor::Green.on_default();
/// Failure marks.
pub const RED: Style = AnsiColor::Red.on_default().bold();
/// Warnings.
pub const YELLOW: Style = AnsiColor::Yellow.on_default();
/// Keys and names.
pub const CYAN: Style = AnsiColor::Cyan.on_default();

pub use crate::core::secrets::redact;

/// The first error writing to stdout (disk full, a device that refuses it); nothing more is
/// written after it and the run ends with exit code 8.
static STDOUT_ERROR: OnceLock<std::io::Error> = OnceLock::new();

fn write_to(mut w: impl Write, bytes: &[u8], stdout: bool) {
    if stdout && STDOUT_ERROR.get().is_some() {
        return;
    }
    match w.write_all(bytes).and_then(|()| w.flush()) {
        Ok(()) => {}
        // `voipms list | head`: the reader is gone, stop quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) if stdout => {
            let _ = STDOUT_ERROR.set(e);
        }
        // Nowhere left to tell a failure of stderr.
        Err(_) => {}
    }
}

/// The failure of a write to stdout, if one failed: the run must not end in success.
pub fn stdout_failure() -> Option<Failure> {
    STDOUT_ERROR
        .get()
        .map(|e| Failure::output("to standard output", e))
}

/// Writes `text` to stdout, redacted, with colors kept only on a terminal without `NO_COLOR`.
pub fn stdout_str(text: &str) {
    write_to(anstream::stdout().lock(), redact(text).as_bytes(), true);
}

/// Writes bytes to stdout as they are (raw answers, completion scripts), redacted when UTF-8.
pub fn stdout_bytes(bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => write_to(std::io::stdout().lock(), redact(text).as_bytes(), true),
        Err(_) => write_to(std::io::stdout().lock(), bytes, true),
    }
}

/// Writes `text` to stderr, redacted, colors as for stdout.
pub fn stderr_str(text: &str) {
    write_to(anstream::stderr().lock(), redact(text).as_bytes(), false);
}

/// Prints a line on stdout (redacted, pipe-safe).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::stdout_str("\n") };
    ($($arg:tt)*) => {{
        let mut s = format!($($arg)*);
        s.push('\n');
        $crate::output::stdout_str(&s);
    }};
}

/// Prints a line on stderr (redacted).
#[macro_export]
macro_rules! errln {
    () => { $crate::output::stderr_str("\n") };
    ($($arg:tt)*) => {{
        let mut s = format!($($arg)*);
        s.push('\n');
        $crate::output::stderr_str(&s);
    }};
}

/// A `tracing` writer to stderr that redacts secrets (for `--verbose`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let mut err = std::io::stderr().lock();
        err.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Whether stdout is a terminal.
pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// Width to lay text out in: the terminal's, or 100 columns when stdout is not a terminal (so
/// that piped and snapshot output does not depend on the window).
pub fn text_width() -> usize {
    if stdout_is_tty() {
        terminal_size::terminal_size()
            .map(|(w, _)| usize::from(w.0).clamp(40, 160))
            .unwrap_or(100)
    } else {
        100
    }
}

/// An output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, aligned, colored on a terminal.
    Pretty,
    /// The answer as indented JSON.
    Json,
    /// The answer's body exactly as received.
    Raw,
    /// An aligned table of the answer's list.
    Table,
    /// CSV of the answer's list.
    Csv,
}

impl Format {
    /// The accepted spellings.
    pub const NAMES: [&'static str; 5] = ["pretty", "json", "raw", "table", "csv"];

    /// Parses a `--format` value.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s.to_ascii_lowercase().as_str() {
            "pretty" => Format::Pretty,
            "json" => Format::Json,
            "raw" => Format::Raw,
            "table" => Format::Table,
            "csv" => Format::Csv,
            _ => return None,
        })
    }

    /// `pretty` when stdout is a terminal, `json` otherwise.
    pub fn default_for_stdout() -> Format {
        if stdout_is_tty() {
            Format::Pretty
        } else {
            Format::Json
        }
    }
}

/// Prints a successful answer of `spec` in `format`. `raw` is the body as received, when known.
pub fn print_answer(
    spec: Option<&Method>,
    body: &Value,
    empty: bool,
    raw: Option<&[u8]>,
    format: Format,
) -> Result<(), Failure> {
    match format {
        Format::Json => outln!("{}", json_pretty(body)),
        Format::Raw => match raw {
            Some(bytes) => {
                stdout_bytes(bytes);
                if !bytes.ends_with(b"\n") {
                    stdout_str("\n");
                }
            }
            None => outln!("{}", serde_json::to_string(body).unwrap_or_default()),
        },
        Format::Pretty => {
            if empty {
                note_empty(body);
            } else {
                let fields = spec.map_or(&[][..], |m| m.response);
                let lines = pretty_object(body, true, fields);
                if lines.is_empty() {
                    outln!("{GREEN}ok{GREEN:#}");
                } else {
                    for l in lines {
                        outln!("{l}");
                    }
                }
            }
        }
        Format::Table | Format::Csv => {
            let rows = Rows::of(spec, body, empty);
            if empty {
                note_empty(body);
            }
            if format == Format::Table {
                if !rows.rows.is_empty() {
                    stdout_str(&rows.table(stdout_is_tty().then(text_width)));
                }
            } else {
                stdout_str(&rows.csv());
            }
        }
    }
    Ok(())
}

fn note_empty(body: &Value) {
    let status = body.get("status").and_then(Value::as_str).unwrap_or("");
    let meaning = voipms_sdk::status::status_info(status)
        .map(|s| format!(": {}", s.meaning.trim_end_matches('.')))
        .unwrap_or_default();
    errln!("{DIM}no results ({status}{meaning}){DIM:#}");
}

/// Indented JSON.
pub fn json_pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// A scalar as text (strings unquoted); containers as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn is_scalar_list(v: &Value) -> bool {
    matches!(v, Value::Array(items) if items.iter().all(is_scalar))
}

/// The key under which `f` appears in `map` (its name or one of its aliases).
fn key_of<'a>(map: &'a Map<String, Value>, f: &Field) -> Option<&'a String> {
    std::iter::once(f.name)
        .chain(f.aliases.iter().copied())
        .find_map(|k| map.get_key_value(k).map(|(k, _)| k))
}

/// The entries of `map` in the catalog's order of `fields`, then the other keys in the answer's
/// order, each with the fields of its own objects when known.
fn ordered<'a>(
    map: &'a Map<String, Value>,
    fields: &'static [Field],
) -> Vec<(&'a String, &'a Value, &'static [Field])> {
    let mut out: Vec<(&'a String, &'a Value, &'static [Field])> = Vec::with_capacity(map.len());
    for f in fields {
        if let Some(k) = key_of(map, f) {
            out.push((k, &map[k], f.fields));
        }
    }
    for (k, v) in map {
        if !out.iter().any(|(seen, _, _)| *seen == k) {
            out.push((k, v, &[]));
        }
    }
    out
}

/// Pretty lines of an object (`key  value`, nested objects indented, lists numbered). The
/// top-level `status: success` is left out.
fn pretty_object(v: &Value, top: bool, fields: &'static [Field]) -> Vec<String> {
    let Value::Object(map) = v else {
        return pretty_value(v, fields);
    };
    let entries: Vec<(&String, &Value, &'static [Field])> = ordered(map, fields)
        .into_iter()
        .filter(|(k, v, _)| !(top && *k == "status" && v.as_str() == Some("success")))
        .collect();
    let width = entries
        .iter()
        .filter(|(_, v, _)| is_scalar(v) || is_scalar_list(v))
        .map(|(k, _, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for (k, v, sub) in entries {
        if is_scalar(v) || is_scalar_list(v) {
            let text = match v {
                Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
                other => cell(other),
            };
            let pad = " ".repeat(width - k.chars().count());
            let mut parts = text.split('\n');
            let first = parts.next().unwrap_or("");
            lines.push(format!("{CYAN}{k}{CYAN:#}{pad}  {first}"));
            for more in parts {
                lines.push(format!("{}  {more}", " ".repeat(width)));
            }
        } else if let Value::Array(items) = v {
            let n = items.len();
            lines.push(format!(
                "{CYAN}{k}{CYAN:#}{DIM}: {n} item{}{DIM:#}",
                if n == 1 { "" } else { "s" }
            ));
            lines.extend(indent(pretty_list(items, sub), "  "));
        } else {
            lines.push(format!("{CYAN}{k}{CYAN:#}"));
            lines.extend(indent(pretty_object(v, false, sub), "  "));
        }
    }
    lines
}

fn pretty_list(items: &[Value], fields: &'static [Field]) -> Vec<String> {
    let digits = items.len().to_string().len();
    let mut lines = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let label = format!("{:>digits$}. ", i + 1);
        let pad = " ".repeat(label.len());
        for (j, l) in pretty_object(item, false, fields).into_iter().enumerate() {
            if j == 0 {
                lines.push(format!("{DIM}{label}{DIM:#}{l}"));
            } else {
                lines.push(format!("{pad}{l}"));
            }
        }
    }
    lines
}

fn pretty_value(v: &Value, fields: &'static [Field]) -> Vec<String> {
    match v {
        Value::Array(items) => pretty_list(items, fields),
        other => cell(other).split('\n').map(str::to_owned).collect(),
    }
}

fn indent(lines: Vec<String>, by: &str) -> Vec<String> {
    lines.into_iter().map(|l| format!("{by}{l}")).collect()
}

/// A list answer as rows with named columns.
#[derive(Debug, Default)]
pub struct Rows {
    /// Column names.
    pub headers: Vec<String>,
    /// Cells, one `Vec` per row, as many as `headers`.
    pub rows: Vec<Vec<String>>,
}

impl Rows {
    /// Rows from objects; columns in the catalog's order of `fields`, then of first appearance.
    pub fn from_objects(objects: &[Map<String, Value>], fields: &'static [Field]) -> Rows {
        let mut headers: Vec<String> = Vec::new();
        for f in fields {
            if let Some(k) = objects.iter().find_map(|o| key_of(o, f)) {
                headers.push(k.clone());
            }
        }
        for o in objects {
            for k in o.keys() {
                if !headers.iter().any(|h| h == k) {
                    headers.push(k.clone());
                }
            }
        }
        let rows = objects
            .iter()
            .map(|o| {
                headers
                    .iter()
                    .map(|h| o.get(h).map(cell).unwrap_or_default())
                    .collect()
            })
            .collect();
        Rows { headers, rows }
    }

    /// The rows of an answer: its list (the catalog's list field, or the first array in the
    /// answer), or else the answer itself as one row (a lone nested object, such as getBalance's
    /// `balance`, stands for the answer).
    pub fn of(spec: Option<&Method>, body: &Value, empty: bool) -> Rows {
        let response: &'static [Field] = spec.map_or(&[][..], |m| m.response);
        let list_field = response
            .iter()
            .find(|f| matches!(f.kind, FieldKind::List(_) | FieldKind::Map(_)));
        if empty {
            // Nothing to list: keep the header of the declared list for scripts.
            let headers = list_field
                .map(|f| f.fields.iter().map(|f| f.name.to_owned()).collect())
                .unwrap_or_default();
            return Rows {
                headers,
                rows: Vec::new(),
            };
        }
        let obj = body.as_object().cloned().unwrap_or_default();
        let declared = list_field.and_then(|f| {
            key_of(&obj, f).map(|k| (k.clone(), obj[k.as_str()].clone(), f.kind, f.fields))
        });
        let found = declared.or_else(|| {
            obj.iter()
                .find(|(_, v)| v.is_array())
                .map(|(k, v)| (k.clone(), v.clone(), FieldKind::List(Item::Object), &[][..]))
        });
        if let Some((key, value, kind, fields)) = found {
            let objects: Vec<Map<String, Value>> = match (value, kind) {
                (Value::Object(m), FieldKind::Map(_)) => m
                    .into_iter()
                    .map(|(k, v)| {
                        let mut row = Map::new();
                        row.insert("key".into(), Value::String(k));
                        match v {
                            Value::Object(inner) => row.extend(inner),
                            other => {
                                row.insert("value".into(), other);
                            }
                        }
                        row
                    })
                    .collect(),
                (Value::Array(items), _) => items.iter().map(|v| as_row(&key, v)).collect(),
                (other, _) => vec![as_row(&key, &other)],
            };
            return Rows::from_objects(&objects, fields);
        }
        let mut rest: Map<String, Value> = obj.into_iter().filter(|(k, _)| k != "status").collect();
        let mut fields = response;
        if rest.len() == 1
            && let Some((k, Value::Object(inner))) = rest.iter().next()
        {
            fields = response
                .iter()
                .find(|f| f.name == k || f.aliases.contains(&k.as_str()))
                .map_or(&[][..], |f| f.fields);
            rest = inner.clone();
        }
        Rows::from_objects(&[rest], fields)
    }

    /// An aligned table; cells are cut to fit `width` when given (a terminal).
    pub fn table(&self, width: Option<usize>) -> String {
        let clean: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| one_line(c)).collect())
            .collect();
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &clean {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        if let Some(total) = width {
            // Shrink the widest column until the table fits (8 characters at least each).
            let gaps = 2 * n.saturating_sub(1);
            while widths.iter().sum::<usize>() + gaps > total {
                let Some((i, w)) = widths.iter().copied().enumerate().max_by_key(|(_, w)| *w)
                else {
                    break;
                };
                if w <= 8 {
                    break;
                }
                widths[i] = w - 1;
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| fit(&h.to_uppercase(), widths[i], i + 1 == n))
            .collect();
        out.push_str(&format!("{BOLD}{}{BOLD:#}\n", header.join("  ")));
        for r in &clean {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| fit(c, widths[i], i + 1 == n))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }

    /// RFC 4180 CSV with a header line.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        if self.headers.is_empty() {
            return out;
        }
        let line = |cells: &[String]| -> String {
            cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(",")
        };
        out.push_str(&line(&self.headers));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

fn as_row(key: &str, v: &Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert(key.to_owned(), other.clone());
            m
        }
    }
}

fn one_line(s: &str) -> String {
    if s.contains(['\n', '\r', '\t']) {
        s.replace("\r\n", " ⏎ ")
            .replace(['\n', '\r'], " ⏎ ")
            .replace('\t', " ")
    } else {
        s.to_owned()
    }
}

fn fit(s: &str, width: usize, last: bool) -> String {
    let count = s.chars().count();
    if count > width {
        let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else if last {
        s.to_owned()
    } else {
        format!("{s}{}", " ".repeat(width - count))
    }
}

/// One CSV field, quoted when it holds a comma, a quote, a line break or edge spaces; text that
/// a spreadsheet would run as a formula (`=…`, `+…`, `@…`) is quoted too.
pub fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err();
    let needs =
        formula || s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if needs {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Wraps `text` to `width` columns, each line starting with `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for para in text.split('\n') {
        let mut line = String::from(indent);
        let start = indent.chars().count();
        let mut len = start;
        for word in para.split_whitespace() {
            let w = word.chars().count();
            if len > start && len + 1 + w > width {
                out.push_str(&line);
                out.push('\n');
                line = String::from(indent);
                len = start;
            }
            if len > start {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += w;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::secrets::{add_secret, form_encode};
    use serde_json::json;
    use voipms_sdk::catalog;

    #[test]
    fn form_encoding_matches_the_url_crate() {
        assert_eq!(form_encode("a b&c=d*e-f.g_h~"), "a+b%26c%3Dd*e-f.g_h%7E");
        assert_eq!(form_encode("é"), "%C3%A9");
    }

    #[test]
    fn secrets_are_masked_in_every_form() {
        add_secret("p@ss w&rd!");
        assert_eq!(redact("x p@ss w&rd! y"), "x ******** y");
        assert_eq!(
            redact("api_password=p%40ss+w%26rd%21"),
            "api_password=********"
        );
        assert_eq!(redact("p%40ss%20w%26rd%21"), "********");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("-5"), "-5");
        assert_eq!(csv_field("=cmd()"), "\"=cmd()\"");
    }

    #[test]
    fn rows_pick_the_list_or_the_lone_object() {
        let body = json!({"status": "success", "phonebooks": [
            {"phonebook": "1", "name": "A"}, {"phonebook": "2", "name": "B", "zz": "x"}]});
        let rows = Rows::of(None, &body, false);
        assert_eq!(rows.headers, ["name", "phonebook", "zz"]);
        let spec = catalog::method("getPhonebook");
        let rows = Rows::of(spec, &body, false);
        assert_eq!(rows.headers[..2], ["phonebook", "name"]);
        assert_eq!(rows.rows[1][..2], ["2", "B"]);
        let body = json!({"status": "success", "balance": {"current_balance": "1.5"}});
        let rows = Rows::of(None, &body, false);
        assert_eq!(rows.headers, ["current_balance"]);
        let body = json!({"status": "success", "ip": "203.0.113.4"});
        assert_eq!(Rows::of(None, &body, false).rows, [["203.0.113.4"]]);
        let empty = Rows::of(
            catalog::method("getCDR"),
            &json!({"status": "no_cdr"}),
            true,
        );
        assert_eq!(empty.headers[0], "date");
        assert!(empty.rows.is_empty());
    }

    #[test]
    fn pretty_follows_the_catalog_order() {
        let spec = catalog::method("getPhonebookGroups").unwrap();
        let body = json!({"status": "success", "phonebook_groups": [
            {"name": "Spam", "members": "1;2", "phonebook_group": "7"}]});
        let lines = pretty_object(&body, true, spec.response);
        let text = lines.join("\n");
        let group = text.find("phonebook_group").unwrap();
        let name = text.find("name").unwrap();
        assert!(group < name, "{text}");
        assert!(!text.contains("status"), "{text}");
    }

    #[test]
    fn table_aligns_and_cuts() {
        let rows = Rows {
            headers: vec!["a".into(), "long".into()],
            rows: vec![vec!["xxxxxxxxxxxx".into(), "1".into()]],
        };
        let t = rows.table(None);
        assert!(t.contains("xxxxxxxxxxxx  1"), "{t}");
        let t = rows.table(Some(12));
        assert!(t.contains('…'), "{t}");
    }

    #[test]
    fn wrap_keeps_width() {
        let w = wrap("one two three four five six", 10, "  ");
        assert!(w.lines().all(|l| l.chars().count() <= 10), "{w}");
    }
}
