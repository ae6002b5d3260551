//! Dead addresses: a recipient whose letter bounced hard (read by `appeal inbox`) and whose
//! address in recipients.toml is still the one that bounced. `check` and `send` warn about
//! each (the date and the server's diagnostic), `send` does not email it again unless
//! `--resend` (the ledger's decision for a bounced letter is to skip it), and the hint names
//! the recipient's other channel, post or fax, when recipients.toml has one.

use anyhow::Result;

use crate::config::Config;
use crate::diag::{Diagnostic, Problems};
use crate::ledger::Ledger;
use crate::letter::plan;
use crate::model::recipients::Channel;

/// One dead address of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dead {
    pub recipient: String,
    pub address: String,
    /// When the bounce is dated (its day).
    pub dated: String,
    /// The status and the server's words.
    pub why: String,
    /// Post or fax, when the recipient has a postal address or a fax number.
    pub other: Option<Channel>,
    /// Line and column of the recipient's id in recipients.toml.
    position: (usize, usize),
}

impl Dead {
    /// The warning `check` and `send` print.
    pub fn warning(&self) -> String {
        format!(
            "recipient `{}`: {} bounced on {} ({}); `appeal send` does not email it again \
             unless --resend{}",
            self.recipient,
            self.address,
            self.dated,
            self.why,
            match self.other {
                Some(Channel::Post) => "; it has a postal address: write by post",
                Some(Channel::Fax) => "; it has a fax number: write by fax",
                _ => "; correct its email in recipients.toml",
            }
        )
    }

    /// What to type to reach the recipient another way, if there is one.
    pub fn hint(&self) -> Option<String> {
        let via = self.other?.as_str();
        Some(format!(
            "`{}`'s address bounced; write by {via} instead: appeal pdf --only {} --via {via}",
            self.recipient, self.recipient
        ))
    }
}

/// The dead addresses among the run's emails, one per recipient, as `ledger` knows them.
pub fn dead(config: &Config, ledger: &Ledger) -> Result<Vec<Dead>> {
    let plan = plan::plan(config);
    let mut found: Vec<Dead> = Vec::new();
    for bounce in ledger.dead_addresses(&config.campaign.name)? {
        let Some(delivery) = plan
            .iter()
            .find(|d| d.id == bounce.recipient && d.channel == Channel::Email)
        else {
            continue;
        };
        // Corrected since: the new address is not known to be dead.
        if bounce
            .address
            .as_deref()
            .is_some_and(|a| !a.eq_ignore_ascii_case(&delivery.destination))
        {
            continue;
        }
        if found.iter().any(|d| d.recipient == bounce.recipient) {
            continue;
        }
        let Some(recipient) = config.recipients.iter().find(|r| r.id == bounce.recipient) else {
            continue;
        };
        let other = if !recipient.base.address.is_empty() {
            Some(Channel::Post)
        } else {
            recipient.fax.as_ref().map(|_| Channel::Fax)
        };
        let why = [bounce.status.as_deref(), bounce.diagnostic.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        found.push(Dead {
            recipient: bounce.recipient.clone(),
            address: delivery.destination.clone(),
            dated: bounce.dated.chars().take(10).collect(),
            why: if why.is_empty() {
                "no diagnostic".into()
            } else {
                why
            },
            other,
            position: recipient.id_position,
        });
    }
    Ok(found)
}

/// `check`: a warning at each dead address's recipient in recipients.toml. No ledger yet,
/// or one that cannot be read: nothing to say here (`send` says it).
pub fn check(config: &Config, problems: &mut Problems) {
    let Ok(Some(ledger)) = Ledger::open_read_only(&config.root) else {
        return;
    };
    warn(config, &ledger, problems);
}

/// A warning at each dead address's recipient in recipients.toml, as `ledger` knows them.
pub fn warn(config: &Config, ledger: &Ledger, problems: &mut Problems) {
    for d in dead(config, ledger).unwrap_or_default() {
        problems.push(Diagnostic::warning(
            &config.recipients_file,
            Some(d.position),
            d.warning(),
        ));
    }
}
