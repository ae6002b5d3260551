//! Who gets a letter in this run and by which channel: the recipients file, `--only` /
//! `--tag`, and the contacts `--via` and a fax gateway need.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cli::{Common, Via};
use crate::config::shown;
use crate::diag::{Problems, did_you_mean};
use crate::model::recipients::{self, Channel, Recipient, channel_for, e164_digits};

/// The recipients file as named in messages, and every recipient in it (none if it is unusable).
pub(crate) struct RecipientsFile {
    pub shown: PathBuf,
    pub all: Vec<Recipient>,
}

/// Reads `--recipients FILE`, else `recipients.toml` in the campaign directory.
pub(crate) fn load_recipients(
    root: &Path,
    common: &Common,
    problems: &mut Problems,
) -> RecipientsFile {
    // A --recipients path is taken as typed (relative to the working directory).
    let (path, shown) = match &common.recipients {
        Some(given) => (given.clone(), given.clone()),
        None => {
            let rel = Path::new("recipients.toml");
            (root.join(rel), shown(root, rel))
        }
    };
    let all = match recipients::load(&path, &shown) {
        Ok((r, warnings)) => {
            problems.extend(warnings);
            r
        }
        Err(p) => {
            problems.extend(p);
            Vec::new()
        }
    };
    RecipientsFile { shown, all }
}

/// `--only SIGNATORY/RECIPIENT`: the letters of a batch named one by one, beside recipients
/// named whole (`--only prosecutor,s030/ombudsman`: every signatory's letter to the prosecutor,
/// and s030's to the ombudsman).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LetterSelection {
    /// Recipients named whole: every signatory's letter to them.
    pub whole: BTreeSet<String>,
    /// (signatory, recipient) pairs named one by one.
    pub pairs: BTreeSet<(String, String)>,
}

impl LetterSelection {
    /// Whether the letter from `signatory` (`None`: the one sender) to `recipient` is selected.
    pub fn selects(&self, signatory: Option<&str>, recipient: &str) -> bool {
        self.whole.contains(recipient)
            || signatory
                .is_some_and(|s| self.pairs.contains(&(s.to_string(), recipient.to_string())))
    }
}

/// The recipients `--only` and `--tag` select, in file order, and the single letters named as
/// `SIGNATORY/RECIPIENT` if any. An id or tag that matches no one is an error (with a
/// did-you-mean for ids), and so is a selection of no one.
pub(crate) fn select(
    common: &Common,
    file: &RecipientsFile,
    problems: &mut Problems,
) -> (Vec<Recipient>, Option<LetterSelection>) {
    let all = &file.all;
    let (only, letters) = split_only(&common.only, &file.shown, problems);
    for id in &only {
        if !all.is_empty() && !all.iter().any(|r| &r.id == id) {
            let mut msg = format!("--only: no recipient `{id}` in {}", file.shown.display());
            if let Some(best) = did_you_mean(id, all.iter().map(|r| r.id.as_str())) {
                msg.push_str(&format!("; did you mean `{best}`?"));
            }
            problems.error(&file.shown, None, msg);
        }
    }
    for tag in &common.tag {
        if !all.is_empty() && !all.iter().any(|r| r.tags.contains(tag)) {
            problems.error(
                &file.shown,
                None,
                format!("--tag: no recipient has the tag `{tag}`"),
            );
        }
    }
    let selected: Vec<Recipient> = all
        .iter()
        .filter(|r| only.is_empty() || only.contains(&r.id))
        .filter(|r| common.tag.is_empty() || common.tag.iter().any(|t| r.tags.contains(t)))
        .cloned()
        .collect();
    if !all.is_empty() && selected.is_empty() && !problems.has_errors() {
        problems.error(
            &file.shown,
            None,
            "the selection (--only/--tag) matches no recipient",
        );
    }
    (selected, letters)
}

/// The recipient ids `--only` names (whole or through a letter), and the letters named as
/// `SIGNATORY/RECIPIENT` when there is one.
fn split_only(
    only: &[String],
    shown: &Path,
    problems: &mut Problems,
) -> (Vec<String>, Option<LetterSelection>) {
    let mut ids = Vec::new();
    let mut letters = LetterSelection::default();
    for item in only.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match item.split_once('/') {
            None => {
                letters.whole.insert(item.to_string());
                ids.push(item.to_string());
            }
            Some((signatory, recipient))
                if !signatory.is_empty() && !recipient.is_empty() && !recipient.contains('/') =>
            {
                letters
                    .pairs
                    .insert((signatory.to_string(), recipient.to_string()));
                ids.push(recipient.to_string());
            }
            Some(_) => problems.error(
                shown,
                None,
                format!(
                    "--only `{item}`: name a recipient (`prosecutor`) or one letter of a batch \
                     as SIGNATORY/RECIPIENT (`s030/prosecutor`)"
                ),
            ),
        }
    }
    ids.dedup();
    let letters = (!letters.pairs.is_empty()).then_some(letters);
    (ids, letters)
}

/// The channel `--via` forces on every letter, if any.
pub(crate) fn forced_channel(via: Option<Via>) -> Option<Channel> {
    via.map(|v| match v {
        Via::Email => Channel::Email,
        Via::Post => Channel::Post,
        Via::Fax => Channel::Fax,
    })
}

/// A channel forced with `--via` needs that contact for every selected recipient.
pub(crate) fn check_via(
    channel: Channel,
    selected: &[Recipient],
    recipients_file: &Path,
    problems: &mut Problems,
) {
    for r in selected {
        let missing = match channel {
            Channel::Email => r.email.is_none().then_some("no email address"),
            Channel::Fax => r.fax.is_none().then_some("no fax number"),
            Channel::Post => r.base.address.is_empty().then_some("no postal address"),
        };
        if let Some(what) = missing {
            problems.error(
                recipients_file,
                Some(r.id_position),
                format!(
                    "--via {}: recipient `{}` has {what}",
                    channel.as_str(),
                    r.id
                ),
            );
        }
    }
}

/// Faxes through a gateway need international numbers.
pub(crate) fn check_fax_numbers(
    via: Option<Channel>,
    selected: &[Recipient],
    recipients_file: &Path,
    problems: &mut Problems,
) {
    for r in selected {
        let channel = via.unwrap_or_else(|| channel_for(r, true));
        if channel == Channel::Fax
            && let Some(number) = &r.fax
            && e164_digits(number).is_none()
        {
            problems.error(recipients_file, Some(r.id_position), format!("recipient `{}`: fax number `{number}` needs its country code (+…) to go through the fax gateway", r.id));
        }
    }
}

/// The ids of the selected recipients whose letter goes by post.
pub(crate) fn posted(
    via: Option<Channel>,
    selected: &[Recipient],
    fax_gateway: bool,
) -> Vec<String> {
    selected
        .iter()
        .filter(|r| via.unwrap_or_else(|| channel_for(r, fax_gateway)) == Channel::Post)
        .map(|r| r.id.clone())
        .collect()
}
