//! Help for API methods (`voipms help METHOD`, `METHOD help`, `METHOD --help`): parameters with
//! types, required marks, descriptions and examples, the positional shortcuts, the response's
//! fields and an example answer. All of it comes from the catalog.

use voipms_sdk::catalog::{self, Effect, Field, FieldKind, Item, Method, Scalar};

use crate::commands;
use crate::output::{self, BOLD, CYAN, DIM, YELLOW, wrap};
use crate::params::{flag_of, kind_hint, positional_text};

/// The effect in words.
pub fn effect_text(e: Effect) -> &'static str {
    match e {
        Effect::Read => "read: changes nothing",
        Effect::Write => "write: changes the account (asks for confirmation, or --yes)",
        Effect::Destructive => {
            "destructive: deletes or cancels something (asks for confirmation, or --yes)"
        }
        Effect::Billable => {
            "billable: spends money or cannot be undone (asks for confirmation, or --yes)"
        }
    }
}

/// One-letter effect marker of `voipms list`.
pub fn marker(e: Effect) -> &'static str {
    match e {
        Effect::Read => " ",
        Effect::Write => "w",
        Effect::Destructive => "D",
        Effect::Billable => "$",
    }
}

fn scalar_name(s: Scalar) -> &'static str {
    match s {
        Scalar::Text => "text",
        Scalar::Int => "int",
        Scalar::Decimal => "decimal",
        Scalar::Flag => "flag",
        Scalar::Date => "date",
        Scalar::DateTime => "datetime",
        Scalar::DateOrPeriod => "date or period",
        Scalar::Limit => "limit",
        Scalar::Json => "json",
    }
}

fn field_kind(k: FieldKind) -> String {
    let item = |i: Item| match i {
        Item::Object => "objects".to_owned(),
        Item::Scalar(s) => scalar_name(s).to_owned(),
    };
    match k {
        FieldKind::Scalar(s) => scalar_name(s).to_owned(),
        FieldKind::Object => "object".to_owned(),
        FieldKind::List(i) => format!("list of {}", item(i)),
        FieldKind::Map(i) => format!("map of {}", item(i)),
    }
}

fn fields(out: &mut String, list: &[Field], depth: usize, width: usize) {
    let pad = "  ".repeat(depth + 1);
    let name_w = list.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in list {
        let kind = field_kind(f.kind);
        let head = format!("{pad}{:name_w$}  {kind:<15}", f.name);
        let aliases = if f.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also sent as {})", f.aliases.join(", "))
        };
        let doc = format!("{}{aliases}", f.doc);
        let head_len = head.chars().count();
        if doc.trim().is_empty() {
            out.push_str(head.trim_end());
            out.push('\n');
        } else if head_len + 2 + doc.chars().count() <= width {
            out.push_str(&format!("{head}  {DIM}{doc}{DIM:#}\n"));
        } else {
            out.push_str(head.trim_end());
            out.push('\n');
            let wrapped = wrap(&doc, width, &format!("{pad}    "));
            out.push_str(&format!("{DIM}{wrapped}{DIM:#}"));
        }
        if !f.fields.is_empty() {
            fields(out, f.fields, depth + 1, width);
        }
    }
}

/// The full help of a method.
pub fn method_help(m: &Method) -> String {
    let width = output::text_width();
    let mut out = String::new();
    let category = catalog::category(m.category).map_or(m.category, |c| c.title);
    out.push_str(&format!(
        "{BOLD}{}{BOLD:#}  {DIM}·{DIM:#}  {category}  {DIM}·{DIM:#}  {}\n",
        m.name,
        effect_text(m.effect)
    ));
    out.push_str(&wrap(m.summary, width, ""));
    if !m.description.is_empty() {
        out.push('\n');
        out.push_str(&wrap(m.description, width, ""));
    }
    if m.effect == Effect::Billable {
        out.push_str(&format!(
            "{YELLOW}Calling it on a real account spends money or cannot be undone.{YELLOW:#}\n"
        ));
    }
    if m.rest_only {
        out.push_str(&format!(
            "{DIM}Not in VoIP.ms's WSDL: documented or seen in use, with less certainty.{DIM:#}\n"
        ));
    }

    let required: Vec<String> = m
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| format!("{} <{}>", flag_of(p), p.kind.as_str().to_uppercase()))
        .collect();
    let optional = m.params.iter().any(|p| !p.required);
    let mut usage = format!("voipms {}", m.name);
    if !m.cli.positional.is_empty() {
        let slots: Vec<String> = m
            .cli
            .positional
            .iter()
            .map(|p| p.param.to_uppercase())
            .collect();
        usage.push_str(&format!(" [{}]", slots.join("|")));
    }
    for r in &required {
        usage.push(' ');
        usage.push_str(r);
    }
    if optional {
        usage.push_str(" [OPTIONS]");
    }
    out.push_str(&format!("\n{BOLD}Usage:{BOLD:#} {usage}\n"));
    let mut also = vec![format!("voipms {}", m.kebab_name())];
    for a in m.cli.aliases {
        if commands::find(a).is_some() {
            also.push(format!("voipms {a} (its own options: voipms help {a})"));
        } else {
            also.push(format!("voipms {a}"));
        }
    }
    out.push_str(&format!("{DIM}Also: {}{DIM:#}\n", also.join(", ")));

    if m.params.is_empty() {
        out.push_str(&format!("\n{BOLD}Parameters:{BOLD:#} none\n"));
    } else {
        out.push_str(&format!(
            "\n{BOLD}Parameters{BOLD:#} (as --name VALUE or name=VALUE):\n"
        ));
        for p in m.params {
            let req = if p.required {
                format!("  {YELLOW}required{YELLOW:#}")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {CYAN}{}{CYAN:#} <{}>{req}\n",
                flag_of(p),
                p.kind.as_str()
            ));
            out.push_str(&wrap(p.description, width, "      "));
            let mut facts = kind_hint(p);
            if let Some(e) = p.example {
                facts.push_str(&format!("; e.g. {e}"));
            }
            let facts = if matches!(p.kind, voipms_sdk::catalog::ParamKind::String) {
                p.example.map(|e| format!("e.g. {e}")).unwrap_or_default()
            } else {
                facts
            };
            if !facts.is_empty() {
                out.push_str(&format!("{DIM}{}{DIM:#}", wrap(&facts, width, "      ")));
            }
        }
    }
    if !m.cli.positional.is_empty() {
        out.push_str(&format!("\n{BOLD}Positional shortcut:{BOLD:#}\n"));
        out.push_str(&wrap(&positional_text(m), width, "  "));
    }

    if !m.empty_statuses.is_empty() {
        out.push_str(&format!(
            "\n{BOLD}No results:{BOLD:#} VoIP.ms answers {} (not an error: exit 0).\n",
            m.empty_statuses.join(" or ")
        ));
    }
    out.push_str(&format!("\n{BOLD}Response:{BOLD:#}"));
    if m.response.is_empty() {
        out.push_str(" status only\n");
    } else {
        out.push('\n');
        fields(&mut out, m.response, 0, width);
    }
    let example = serde_json::from_str::<serde_json::Value>(m.example)
        .map(|v| output::json_pretty(&v))
        .unwrap_or_else(|_| m.example.to_owned());
    out.push_str(&format!("\n{BOLD}Example response:{BOLD:#}\n"));
    for line in example.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(&format!(
        "\n{DIM}Global options (--format, --dry-run, --yes, --sandbox, --profile, …): voipms --help{DIM:#}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_help() {
        for m in catalog::METHODS {
            let h = anstream::adapter::strip_str(&method_help(m)).to_string();
            assert!(h.contains(m.summary.split_whitespace().next().unwrap()));
            for p in m.params {
                assert!(h.contains(&flag_of(p)), "{} {}", m.name, p.name);
            }
        }
        let h = method_help(catalog::method("getCDR").unwrap());
        let h = anstream::adapter::strip_str(&h).to_string();
        assert!(h.contains("--date-from <date>"), "{h}");
        assert!(h.contains("required"), "{h}");
        assert!(h.contains("voipms cdr (its own options"), "{h}");
    }
}
