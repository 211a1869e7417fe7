//! Reference data: countries, US states, Canadian provinces, time zones, servers (POPs).

use serde_json::{Value, json};

use super::core::{Res, ok1};
use super::tables::{COUNTRIES, TIMEZONES};
use super::validate::{Args, Fail};

/// `(state, name)` for getStates.
const STATES: &[(&str, &str)] = &[
    ("AL", "ALABAMA"),
    ("AK", "ALASKA"),
    ("AZ", "ARIZONA"),
    ("AR", "ARKANSAS"),
    ("CA", "CALIFORNIA"),
    ("CO", "COLORADO"),
    ("CT", "CONNECTICUT"),
    ("DE", "DELAWARE"),
    ("DC", "DISTRICT OF COLUMBIA"),
    ("FL", "FLORIDA"),
    ("GA", "GEORGIA"),
    ("HI", "HAWAII"),
    ("ID", "IDAHO"),
    ("IL", "ILLINOIS"),
    ("IN", "INDIANA"),
    ("IA", "IOWA"),
    ("KS", "KANSAS"),
    ("KY", "KENTUCKY"),
    ("LA", "LOUISIANA"),
    ("ME", "MAINE"),
    ("MD", "MARYLAND"),
    ("MA", "MASSACHUSETTS"),
    ("MI", "MICHIGAN"),
    ("MN", "MINNESOTA"),
    ("MS", "MISSISSIPPI"),
    ("MO", "MISSOURI"),
    ("MT", "MONTANA"),
    ("NE", "NEBRASKA"),
    ("NV", "NEVADA"),
    ("NH", "NEW HAMPSHIRE"),
    ("NJ", "NEW JERSEY"),
    ("NM", "NEW MEXICO"),
    ("NY", "NEW YORK"),
    ("NC", "NORTH CAROLINA"),
    ("ND", "NORTH DAKOTA"),
    ("OH", "OHIO"),
    ("OK", "OKLAHOMA"),
    ("OR", "OREGON"),
    ("PA", "PENNSYLVANIA"),
    ("PR", "PUERTO RICO"),
    ("RI", "RHODE ISLAND"),
    ("SC", "SOUTH CAROLINA"),
    ("SD", "SOUTH DAKOTA"),
    ("TN", "TENNESSEE"),
    ("TX", "TEXAS"),
    ("UT", "UTAH"),
    ("VT", "VERMONT"),
    ("VA", "VIRGINIA"),
    ("WA", "WASHINGTON"),
    ("WV", "WEST VIRGINIA"),
    ("WI", "WISCONSIN"),
    ("WY", "WYOMING"),
];

/// `(province, name)` for getProvinces.
const PROVINCES: &[(&str, &str)] = &[
    ("AB", "ALBERTA"),
    ("BC", "BRITISH COLUMBIA"),
    ("MB", "MANITOBA"),
    ("NB", "NEW BRUNSWICK"),
    ("NL", "NEWFOUNDLAND AND LABRADOR"),
    ("NS", "NOVA SCOTIA"),
    ("NT", "NORTHWEST TERRITORIES"),
    ("NU", "NUNAVUT"),
    ("ON", "ONTARIO"),
    ("PE", "PRINCE EDWARD ISLAND"),
    ("QC", "QUEBEC"),
    ("SK", "SASKATCHEWAN"),
    ("YT", "YUKON"),
];

/// A VoIP.ms point of presence. Addresses are documentation addresses, not the real servers.
struct Server {
    pop: &'static str,
    name: &'static str,
    short: &'static str,
    host: &'static str,
    ip: &'static str,
    country: &'static str,
    recommended: bool,
}

const SERVERS: &[Server] = &[
    Server {
        pop: "1",
        name: "Houston, TX",
        short: "Houston",
        host: "houston.voip.ms",
        ip: "192.0.2.1",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "3",
        name: "Chicago, IL",
        short: "Chicago",
        host: "chicago.voip.ms",
        ip: "192.0.2.3",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "5",
        name: "Dallas, TX",
        short: "Dallas",
        host: "dallas.voip.ms",
        ip: "192.0.2.5",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "8",
        name: "Los Angeles, CA",
        short: "Los Angeles",
        host: "losangeles.voip.ms",
        ip: "192.0.2.8",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "9",
        name: "Seattle, WA",
        short: "Seattle",
        host: "seattle.voip.ms",
        ip: "192.0.2.9",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "10",
        name: "Denver, CO",
        short: "Denver",
        host: "denver.voip.ms",
        ip: "192.0.2.10",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "15",
        name: "Atlanta, GA",
        short: "Atlanta",
        host: "atlanta.voip.ms",
        ip: "192.0.2.15",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "16",
        name: "Tampa, FL",
        short: "Tampa",
        host: "tampa.voip.ms",
        ip: "192.0.2.16",
        country: "USA",
        recommended: true,
    },
    Server {
        pop: "20",
        name: "Washington, DC",
        short: "Washington",
        host: "washington.voip.ms",
        ip: "192.0.2.20",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "25",
        name: "San Jose, CA",
        short: "San Jose",
        host: "sanjose.voip.ms",
        ip: "192.0.2.25",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "40",
        name: "Montreal, QC",
        short: "Montreal",
        host: "montreal.voip.ms",
        ip: "198.51.100.40",
        country: "Canada",
        recommended: false,
    },
    Server {
        pop: "41",
        name: "Toronto, ON",
        short: "Toronto",
        host: "toronto.voip.ms",
        ip: "198.51.100.41",
        country: "Canada",
        recommended: false,
    },
    Server {
        pop: "42",
        name: "Vancouver, BC",
        short: "Vancouver",
        host: "vancouver.voip.ms",
        ip: "198.51.100.42",
        country: "Canada",
        recommended: false,
    },
    Server {
        pop: "65",
        name: "Toronto, ON 2",
        short: "Toronto 2",
        host: "toronto2.voip.ms",
        ip: "198.51.100.65",
        country: "Canada",
        recommended: false,
    },
    Server {
        pop: "71",
        name: "London, UK",
        short: "London",
        host: "london.voip.ms",
        ip: "203.0.113.71",
        country: "United Kingdom",
        recommended: false,
    },
    Server {
        pop: "73",
        name: "New York, NY 7",
        short: "New York 7",
        host: "newyork7.voip.ms",
        ip: "192.0.2.73",
        country: "USA",
        recommended: true,
    },
    Server {
        pop: "74",
        name: "New York, NY 8",
        short: "New York 8",
        host: "newyork8.voip.ms",
        ip: "192.0.2.74",
        country: "USA",
        recommended: false,
    },
    Server {
        pop: "82",
        name: "Paris, France",
        short: "Paris",
        host: "paris.voip.ms",
        ip: "203.0.113.82",
        country: "France",
        recommended: false,
    },
    Server {
        pop: "83",
        name: "Amsterdam, Netherlands",
        short: "Amsterdam",
        host: "amsterdam.voip.ms",
        ip: "203.0.113.83",
        country: "Netherlands",
        recommended: false,
    },
    Server {
        pop: "84",
        name: "Melbourne, Australia",
        short: "Melbourne",
        host: "melbourne.voip.ms",
        ip: "203.0.113.84",
        country: "Australia",
        recommended: false,
    },
    Server {
        pop: "97",
        name: "Miami, FL",
        short: "Miami",
        host: "miami.voip.ms",
        ip: "192.0.2.97",
        country: "USA",
        recommended: false,
    },
];

/// Whether `pop` names a server.
pub(crate) fn pop_exists(pop: &str) -> bool {
    SERVERS.iter().any(|s| s.pop == pop.trim())
}

fn value_rows<'a>(rows: impl Iterator<Item = (&'a str, String)>) -> Value {
    Value::Array(
        rows.map(|(v, d)| json!({"value": v, "description": d}))
            .collect(),
    )
}

pub(crate) fn countries(args: &Args<'_>) -> Res {
    let wanted = args.get("country");
    let rows: Vec<_> = COUNTRIES
        .iter()
        .filter(|(code, _)| wanted.is_none_or(|w| w.eq_ignore_ascii_case(code)))
        .map(|(code, name)| (*code, (*name).to_owned()))
        .collect();
    if rows.is_empty() {
        return Err(Fail::msg(
            "invalid_country",
            "getCountries: use an ISO 3166-1 alpha-2 code such as US or CA",
        ));
    }
    ok1("countries", value_rows(rows.into_iter()))
}

pub(crate) fn states() -> Res {
    ok1(
        "states",
        Value::Array(
            STATES
                .iter()
                .map(|(s, d)| json!({"state": s, "description": d}))
                .collect(),
        ),
    )
}

pub(crate) fn provinces() -> Res {
    ok1(
        "provinces",
        Value::Array(
            PROVINCES
                .iter()
                .map(|(p, d)| json!({"province": p, "description": d}))
                .collect(),
        ),
    )
}

pub(crate) fn timezones(args: &Args<'_>) -> Res {
    let wanted = args.get("timezone");
    let rows = TIMEZONES
        .iter()
        .filter(|z| wanted.is_none_or(|w| w == **z))
        .map(|z| (*z, z.replace('_', " ")));
    ok1("timezones", value_rows(rows))
}

pub(crate) fn servers(args: &Args<'_>) -> Res {
    let wanted = args.get("server_pop");
    let rows: Vec<Value> = SERVERS
        .iter()
        .filter(|s| wanted.is_none_or(|w| w.trim() == s.pop))
        .map(|s| {
            json!({
                "server_name": s.name,
                "server_shortname": s.short,
                "server_hostname": s.host,
                "server_ip": s.ip,
                "server_country": s.country,
                "server_pop": s.pop,
                "server_recommended": if s.recommended { "Yes" } else { "No" },
            })
        })
        .collect();
    if rows.is_empty() {
        return Err(Fail::msg(
            "invalid_serverpop",
            "getServersInfo: no server has that server_pop (list them without a filter)",
        ));
    }
    ok1("servers", Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sane() {
        assert!(COUNTRIES.len() > 240);
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(TIMEZONES.windows(2).all(|w| w[0] < w[1]));
        for legacy in [
            "US/Pacific-New",
            "Asia/Beijing",
            "Factory",
            "America/New_York",
        ] {
            assert!(TIMEZONES.binary_search(&legacy).is_ok(), "{legacy}");
        }
        assert!(pop_exists("73") && pop_exists("3") && !pop_exists("999"));
    }
}
