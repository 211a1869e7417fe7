//! The two scopes: `voipms:read` (the read-only tool set) and `voipms:write` (every tool the
//! server offers; the server's own --allow-writes / --allow-billable still apply).

/// Reading.
pub const READ: &str = "voipms:read";
/// Changing the account.
pub const WRITE: &str = "voipms:write";
/// Both, as granted when a client names none.
pub const ALL: &str = "voipms:read voipms:write";

/// The normalised scope of a request (`voipms:write` brings `voipms:read`; none asked: both).
pub fn parse(requested: &str) -> Result<String, String> {
    let mut write = false;
    let mut any = false;
    for word in requested.split_ascii_whitespace() {
        any = true;
        match word {
            READ => {}
            WRITE => write = true,
            other => {
                return Err(format!(
                    "unknown scope `{other}`: this server has `{READ}` and `{WRITE}`"
                ));
            }
        }
    }
    Ok(if write || !any { ALL } else { READ }.to_owned())
}

/// Whether `scope` lets the client change the account.
pub fn can_write(scope: &str) -> bool {
    scope.split_ascii_whitespace().any(|w| w == WRITE)
}

/// Plain words for the consent page.
pub fn describe(scope: &str) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![(
        READ,
        "read the account: balance, call records, phonebook, filters, recordings, messages",
    )];
    if can_write(scope) {
        out.push((
            WRITE,
            "change the account, within what this server allows (--allow-writes, --allow-billable)",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(parse("").unwrap(), ALL);
        assert_eq!(parse("voipms:read").unwrap(), READ);
        assert_eq!(parse("voipms:write").unwrap(), ALL);
        assert!(parse("voipms:read admin").is_err());
        assert!(can_write(ALL) && !can_write(READ));
    }
}
