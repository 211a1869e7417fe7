//! `voipms list`: the API methods with their summaries and effect markers.

use clap::{Arg, ArgMatches, Command};
use serde_json::{Value, json};
use voipms_sdk::catalog::{self, Method};

use super::Builtin;
use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::help::marker;
use crate::outln;
use crate::output::{self, BOLD, CYAN, DIM, Format, Rows};

/// Registry entry.
pub const BUILTIN: Builtin = Builtin {
    name: "list",
    command,
    run,
    needs_all_methods: false,
};

fn command() -> Command {
    Command::new("list")
        .about("List the API methods with summaries and effect markers")
        .long_about(
            "List the API methods, grouped by category, with a marker for what they do: \
             w changes the account, D deletes or cancels, $ spends money (these ask for \
             confirmation on a real account). Prints text unless --format is given.",
        )
        .arg(
            Arg::new("category")
                .long("category")
                .short('c')
                .value_name("CATEGORY")
                .help("Only this category (slug or title, e.g. phonebook or \"Call Hunting\")"),
        )
        .arg(
            Arg::new("search")
                .long("search")
                .short('s')
                .value_name("WORD")
                .help("Only methods whose name, category or summary contains WORD"),
        )
        .arg(
            Arg::new("word")
                .value_name("WORD")
                .help("Same as --search WORD"),
        )
}

fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<(), Failure> {
    let category = match m.get_one::<String>("category") {
        None => None,
        Some(c) => {
            let norm = |s: &str| s.to_ascii_lowercase().replace([' ', '-', '_'], "");
            let found = catalog::CATEGORIES
                .iter()
                .find(|k| norm(k.slug) == norm(c) || norm(k.title) == norm(c));
            match found {
                Some(k) => Some(k.slug),
                None => {
                    let all: Vec<&str> = catalog::CATEGORIES.iter().map(|k| k.slug).collect();
                    return Err(Failure::usage(format!(
                        "no category `{c}`; the categories are: {}",
                        all.join(", ")
                    )));
                }
            }
        }
    };
    let word = m
        .get_one::<String>("search")
        .or_else(|| m.get_one::<String>("word"))
        .map(|w| w.to_ascii_lowercase());
    // Grouped by category (in the catalog's category order), by name within each.
    let rank = |slug: &str| catalog::CATEGORIES.iter().position(|c| c.slug == slug);
    let mut methods: Vec<&'static Method> = catalog::METHODS
        .iter()
        .filter(|x| category.is_none_or(|c| x.category == c))
        .filter(|x| {
            word.as_ref().is_none_or(|w| {
                format!("{} {} {} {}", x.name, x.kebab_name(), x.category, x.summary)
                    .to_ascii_lowercase()
                    .contains(w.as_str())
            })
        })
        .collect();
    methods.sort_by_key(|m| (rank(m.category), m.name));
    match ctx.globals.format.unwrap_or(Format::Pretty) {
        Format::Pretty => pretty(&methods),
        Format::Json | Format::Raw => {
            let list: Vec<Value> = methods
                .iter()
                .map(|x| {
                    json!({
                        "name": x.name,
                        "kebab": x.kebab_name(),
                        "category": x.category,
                        "effect": x.effect.as_str(),
                        "summary": x.summary,
                        "required": x.params.iter().filter(|p| p.required).map(|p| p.name).collect::<Vec<_>>(),
                    })
                })
                .collect();
            outln!("{}", output::json_pretty(&Value::Array(list)));
        }
        f @ (Format::Table | Format::Csv) => {
            let rows = Rows {
                headers: ["effect", "name", "category", "summary"]
                    .map(str::to_owned)
                    .to_vec(),
                rows: methods
                    .iter()
                    .map(|x| {
                        vec![
                            x.effect.as_str().to_owned(),
                            x.name.to_owned(),
                            x.category.to_owned(),
                            x.summary.to_owned(),
                        ]
                    })
                    .collect(),
            };
            if f == Format::Table {
                output::stdout_str(&rows.table(output::stdout_is_tty().then(output::text_width)));
            } else {
                output::stdout_str(&rows.csv());
            }
        }
    }
    Ok(())
}

fn pretty(methods: &[&'static Method]) {
    let width = methods.iter().map(|m| m.name.len()).max().unwrap_or(0);
    let cut = output::stdout_is_tty().then(output::text_width);
    let mut current = "";
    for m in methods {
        if m.category != current {
            current = m.category;
            let title = catalog::category(current).map_or(current, |c| c.title);
            if !std::ptr::eq(*m, methods[0]) {
                outln!();
            }
            outln!("{BOLD}{title}{BOLD:#} {DIM}({current}){DIM:#}");
        }
        let mut summary = m.summary.to_owned();
        if let Some(w) = cut {
            let room = w.saturating_sub(width + 6);
            if summary.chars().count() > room && room > 1 {
                summary = summary.chars().take(room - 1).collect::<String>() + "…";
            }
        }
        outln!(
            "  {} {CYAN}{:width$}{CYAN:#}  {summary}",
            marker(m.effect),
            m.name
        );
    }
    outln!();
    outln!(
        "{} method{}. {DIM}w changes the account · D deletes or cancels · $ spends money (these ask \
         first). Details: voipms help METHOD{DIM:#}",
        methods.len(),
        if methods.len() == 1 { "" } else { "s" }
    );
}
