//! `voipms`: the command line for the VoIP.ms API.
//!
//! This first version lists the methods the SDK knows, describes one, checks a saved response
//! against its typed shape, and makes raw calls with credentials from the environment. The full
//! command tree (every method as a subcommand, friendly commands, sandbox) builds on the same
//! catalog.

use std::io::{Read, Write};
use std::process::ExitCode;

use voipms_sdk::catalog::{self, Effect};
use voipms_sdk::{Client, Params};

const USAGE: &str = "\
voipms: the VoIP.ms API from the command line

usage:
  voipms methods [WORD]              list the methods (optionally those whose name, category or
                                     summary contains WORD), with effect markers
  voipms describe METHOD             parameters and response of one method
  voipms decode METHOD [FILE|-]      decode a saved raw response with METHOD's typed response
  voipms call METHOD [key=value...]  call any method (credentials from VOIPMS_API_USERNAME,
                                     VOIPMS_API_PASSWORD; VOIPMS_API_URL to use another server);
                                     methods that change the account need --yes

exit codes: 0 ok, 2 usage, 3 API status, 4 network/HTTP, 5 configuration, 6 decode";

/// Prints a line; a closed pipe (`voipms methods | head`) ends the program quietly.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("methods") => methods(args.get(1).map(String::as_str)),
        Some("describe") => describe(&args[1..]),
        Some("decode") => decode(&args[1..]),
        Some("call") => call(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            say!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Failure::usage(format!(
            "unknown command `{other}`; run `voipms --help`"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: String) -> Self {
        Failure { code: 2, message }
    }
}

impl From<voipms_sdk::Error> for Failure {
    fn from(e: voipms_sdk::Error) -> Self {
        let code = match &e {
            voipms_sdk::Error::Api(_) => 3,
            voipms_sdk::Error::Config(_) => 5,
            voipms_sdk::Error::Decode { .. } => 6,
            _ => 4,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

fn marker(e: Effect) -> &'static str {
    match e {
        Effect::Read => " ",
        Effect::Write => "w",
        Effect::Destructive => "D",
        Effect::Billable => "$",
    }
}

fn methods(word: Option<&str>) -> Result<(), Failure> {
    let word = word.map(str::to_ascii_lowercase);
    let width = catalog::METHODS
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0);
    let mut shown = 0;
    for m in catalog::METHODS {
        if let Some(w) = &word {
            let hay = format!("{} {} {}", m.name, m.category, m.summary).to_ascii_lowercase();
            if !hay.contains(w.as_str()) {
                continue;
            }
        }
        say!("{} {:width$}  {}", marker(m.effect), m.name, m.summary);
        shown += 1;
    }
    say!("\n{shown} method(s). w = changes the account, D = deletes or cancels, $ = spends money");
    Ok(())
}

fn find(name: Option<&String>) -> Result<&'static catalog::Method, Failure> {
    let name = name.ok_or_else(|| Failure::usage("which method? e.g. `getBalance`".into()))?;
    catalog::find_method(name).ok_or_else(|| {
        Failure::usage(format!(
            "unknown method `{name}`; `voipms methods` lists them"
        ))
    })
}

fn describe(args: &[String]) -> Result<(), Failure> {
    let m = find(args.first())?;
    say!("{} ({}; {})", m.name, m.category, m.effect.as_str());
    say!("{}", m.summary);
    if !m.description.is_empty() {
        say!("\n{}", m.description);
    }
    if !m.params.is_empty() {
        say!("\nparameters:");
        for p in m.params {
            let values: Vec<&str> = p.values.iter().map(|v| v.value).collect();
            say!(
                "  {}{} ({}{})",
                p.name,
                if p.required { " *required*" } else { "" },
                p.kind.as_str(),
                if values.is_empty() {
                    String::new()
                } else {
                    format!(": {}", values.join(", "))
                }
            );
            say!("      {}", p.description);
            if let Some(e) = p.example {
                say!("      example: {e}");
            }
        }
    }
    if !m.response.is_empty() {
        let keys: Vec<&str> = m.response.iter().map(|f| f.name).collect();
        say!("\nresponse keys: {}", keys.join(", "));
    }
    say!("\nexample response:\n{}", m.example);
    Ok(())
}

fn decode(args: &[String]) -> Result<(), Failure> {
    let m = find(args.first())?;
    let mut text = String::new();
    match args.get(1).map(String::as_str) {
        None | Some("-") => std::io::stdin().read_to_string(&mut text).map(|_| ()),
        Some(path) => std::fs::read_to_string(path).map(|t| text = t),
    }
    .map_err(|e| Failure {
        code: 5,
        message: format!("cannot read the response: {e}"),
    })?;
    let body: serde_json::Value = if text.trim().is_empty() {
        serde_json::json!({"status": "success"})
    } else {
        serde_json::from_str(&text).map_err(|e| Failure {
            code: 6,
            message: format!("the response is not JSON: {e}"),
        })?
    };
    match voipms_sdk::api::decode_by_name(m.name, &body) {
        None => Err(Failure::usage(format!(
            "{} has no typed response in this build",
            m.name
        ))),
        Some(Ok(_)) => {
            say!("ok: the response decodes as {}", m.name);
            Ok(())
        }
        Some(Err(e)) => Err(Failure {
            code: 6,
            message: format!("{} response does not match its typed shape {e}", m.name),
        }),
    }
}

fn call(args: &[String]) -> Result<(), Failure> {
    let name = args
        .first()
        .ok_or_else(|| Failure::usage("which method? e.g. `voipms call getBalance`".into()))?;
    let (method, effect) = match catalog::find_method(name) {
        Some(m) => (m.name.to_owned(), m.effect),
        // Methods the spec does not know yet go through as they are, treated as writes.
        None => (name.clone(), Effect::Write),
    };
    let mut params = Params::new();
    let mut yes = false;
    for a in &args[1..] {
        if a == "--yes" {
            yes = true;
            continue;
        }
        let (k, v) = a.split_once('=').ok_or_else(|| {
            Failure::usage(format!("`{a}` is not key=value (e.g. did=5551234567)"))
        })?;
        params.push(k.to_owned(), v);
    }
    if effect.is_mutating() && !yes {
        return Err(Failure::usage(format!(
            "{method} {}; add --yes to send it",
            match effect {
                Effect::Billable => "spends money or cannot be undone",
                Effect::Destructive => "deletes or cancels something",
                _ => "changes the account",
            }
        )));
    }
    let client = Client::from_env()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: 5,
            message: format!("cannot start the runtime: {e}"),
        })?;
    let value = rt.block_on(client.call(&method, params))?;
    say!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    Ok(())
}
