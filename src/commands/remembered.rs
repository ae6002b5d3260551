//! What the last run was given, applied to a command that names neither a signatories file
//! nor a sender: `status` and `send` then act on the letters that run made, not on letters
//! for the placeholder sender of `appeal.toml` that nobody used, and say so.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::config::{self, Config};
use crate::ledger::{Ledger, RunRecord};
use crate::model::sender::Sender;

/// The configuration to act on, when the last run's flags apply: re-loaded with them, and the
/// sentence that says so. `None` when this run names its own (or the ledger remembers none).
pub struct Recalled {
    pub config: Config,
    pub note: String,
}

/// Whether the command line names a sender (flags or `--sender FILE`).
pub fn names_sender(config: &Config) -> bool {
    let t = &config.typed;
    t.sender.is_some()
        || t.from_name.is_some()
        || t.from_email.is_some()
        || !t.from_address.is_empty()
        || t.from_city.is_some()
        || t.from_note.is_some()
}

/// What this run was given, for the ledger to remember: the signatories file (as named, and
/// the SHA-256 of its content) and the sender when it came from the command line.
pub fn record_of(config: &Config, command: &str) -> Result<RunRecord> {
    let signatories = match (&config.signatories, config.signatories_source()) {
        // A pipe or standard input cannot be read again: nothing to remember.
        (Some(shown), Some(source)) if std::fs::metadata(shown).is_ok_and(|m| m.is_file()) => {
            let hash = crate::digest::sha256_file_hex(source)
                .with_context(|| format!("cannot read {}", source.display()))?;
            Some((absolute(shown), hash))
        }
        _ => None,
    };
    Ok(RunRecord {
        at: String::new(),
        command: command.into(),
        signatories,
        sender: names_sender(config).then(|| config.sender.clone()),
    })
}

/// The last run's flags, when this command line names no signatories and no sender and the
/// ledger remembers a run that did. The signatories file must still be there; if its content
/// changed since, the note says so.
pub fn recall(config: &Config) -> Result<Option<Recalled>> {
    if config.signatories.is_some() || names_sender(config) {
        return Ok(None);
    }
    let Some(ledger) = Ledger::open_read_only(&config.root)? else {
        return Ok(None);
    };
    let Some(last) = ledger.last_run(&config.campaign.name)? else {
        return Ok(None);
    };
    let mut typed = config.typed.clone();
    let mut said = Vec::new();
    if let Some((file, hash)) = &last.signatories {
        let path = PathBuf::from(file);
        let now = crate::digest::sha256_file_hex(&path);
        match now {
            Ok(now) if &now == hash => said.push(format!("--signatories {file}")),
            Ok(_) => said.push(format!(
                "--signatories {file} (changed since that run: letters of new rows are not started)"
            )),
            Err(e) => anyhow::bail!(
                "the last `appeal {}` used --signatories {file}, which cannot be read now ({e}); \
                 name the signatories file with --signatories",
                last.command
            ),
        }
        typed.signatories = Some(path);
    }
    if let Some(sender) = &last.sender {
        apply_sender(&mut typed, sender);
        said.push(format!("the sender {}", describe(sender)));
    }
    if said.is_empty() {
        return Ok(None);
    }
    let config = config::load(&typed).map_err(|problems| {
        anyhow::anyhow!(
            "cannot load the campaign with the last run's flags ({}):\n{problems}",
            said.join(", ")
        )
    })?;
    let note = format!(
        "appeal: as the last `appeal {}` ({}): {}",
        last.command,
        last.at,
        said.join(", ")
    );
    Ok(Some(Recalled { config, note }))
}

fn apply_sender(typed: &mut crate::cli::Common, s: &Sender) {
    typed.from_name = Some(s.name.clone());
    typed.from_email = s.email.clone();
    typed.from_address = s.address.clone();
    typed.from_city = s.city.clone();
    typed.from_note = s.note.clone();
}

fn describe(s: &Sender) -> String {
    match &s.email {
        Some(e) => format!("{} <{e}>", s.name),
        None => s.name.clone(),
    }
}

/// A path as it can be found again from another working directory.
fn absolute(path: &std::path::Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}
