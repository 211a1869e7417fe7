//! The write gate: whether a call with a given effect is sent, only planned (dry run), needs the
//! user's confirmation, or is refused — decided as data. Each front end acts on the verdict its
//! own way (the CLI prompts, the MCP server answers a tool result); none of it prints here.

use voipms_sdk::catalog::Effect;

/// Whether a class of changes may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    /// Sent without asking.
    Allowed,
    /// Sent once the user confirms.
    Confirm,
    /// Never sent; the text says how to allow it (`start the server with --allow-writes`).
    Refused(String),
}

/// What the gate knows of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// Only the plan was asked for.
    pub dry_run: bool,
    /// Changes of any kind are off (read-only mode): refused even as a dry run.
    pub read_only: bool,
    /// Plain writes and deletions.
    pub writes: Permission,
    /// Changes that spend money or cannot be undone.
    pub billable: Permission,
}

/// What to do with one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// Show what would be sent; send nothing.
    DryRun,
    /// Ask the user first.
    Confirm,
    /// Send nothing, and say why (and how to allow it).
    Refuse(String),
}

impl Gate {
    /// The verdict on a call of `subject` (a method or command name) with `effect`.
    pub fn decide(&self, subject: &str, effect: Effect) -> Verdict {
        if !effect.is_mutating() {
            return if self.dry_run {
                Verdict::DryRun
            } else {
                Verdict::Send
            };
        }
        if self.read_only {
            return Verdict::Refuse(format!(
                "{subject} {} and the server is read-only; nothing was sent",
                effect_words(effect, false)
            ));
        }
        if self.dry_run {
            return Verdict::DryRun;
        }
        let permission = if effect == Effect::Billable {
            // Billable changes need both permissions.
            match (&self.writes, &self.billable) {
                (Permission::Refused(how), _) => Permission::Refused(how.clone()),
                (_, p) => p.clone(),
            }
        } else {
            self.writes.clone()
        };
        match permission {
            Permission::Allowed => Verdict::Send,
            Permission::Confirm => Verdict::Confirm,
            Permission::Refused(how) => Verdict::Refuse(format!(
                "{subject} {}; nothing was sent. {how}",
                effect_words(effect, false)
            )),
        }
    }
}

/// What a call with `effect` does, as the end of a sentence (`unknown`: a method the spec does
/// not know).
pub fn effect_words(effect: Effect, unknown: bool) -> &'static str {
    match effect {
        Effect::Billable => "spends money or cannot be undone",
        Effect::Destructive => "deletes or cancels something on your account",
        _ if unknown => "is not in the spec, so it may change your account",
        _ => "changes your account",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(allow_writes: bool, allow_billable: bool) -> Gate {
        let refuse = |flag: &str| Permission::Refused(format!("Start the server with {flag}."));
        Gate {
            dry_run: false,
            read_only: false,
            writes: if allow_writes {
                Permission::Allowed
            } else {
                refuse("--allow-writes")
            },
            billable: if allow_billable {
                Permission::Allowed
            } else {
                refuse("--allow-billable")
            },
        }
    }

    #[test]
    fn verdicts() {
        let g = server(false, false);
        assert_eq!(g.decide("getBalance", Effect::Read), Verdict::Send);
        let Verdict::Refuse(why) = g.decide("setPhonebook", Effect::Write) else {
            panic!()
        };
        assert!(why.contains("--allow-writes"), "{why}");
        let g = server(true, false);
        assert_eq!(g.decide("setPhonebook", Effect::Write), Verdict::Send);
        let Verdict::Refuse(why) = g.decide("sendSMS", Effect::Billable) else {
            panic!()
        };
        assert!(why.contains("--allow-billable"), "{why}");
        // Billable needs writes too.
        let Verdict::Refuse(why) = server(false, true).decide("sendSMS", Effect::Billable) else {
            panic!()
        };
        assert!(why.contains("--allow-writes"), "{why}");
        let dry = Gate {
            dry_run: true,
            ..server(false, false)
        };
        assert_eq!(dry.decide("sendSMS", Effect::Billable), Verdict::DryRun);
        let ro = Gate {
            read_only: true,
            ..dry
        };
        assert!(matches!(
            ro.decide("delPhonebook", Effect::Destructive),
            Verdict::Refuse(_)
        ));
        assert_eq!(ro.decide("getBalance", Effect::Read), Verdict::DryRun);
    }
}
