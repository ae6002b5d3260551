//! Pass 1 of `appeal send`: every letter rendered and checked before anything leaves, kept as
//! an [`Item`] (what the run needs of it, not the letter), and the ledger's decision for each.

use std::collections::HashMap;

use anyhow::{Result, anyhow};
use rayon::prelude::*;

use crate::commands::remembered;
use crate::commands::send::lock::{CampaignLock, Interrupt};
use crate::commands::send::record;
use crate::config::Config;
use crate::diag::Problems;
use crate::email::message::{self, FileAttachment, Headers, MailContext};
use crate::ledger::{self, Attempt, Decision, Flags, Key, Ledger};
use crate::letter::Letter;
use crate::letter::plan::Delivery;
use crate::model::recipients::Channel;
use crate::paper::maker::PdfMaker;

/// What every letter of a run is made with, and how the run goes.
pub struct Job<'a> {
    pub config: &'a Config,
    pub maker: &'a PdfMaker,
    pub ctx: &'a MailContext,
    pub flags: Flags,
    /// Say each letter as it goes (a small run, `--list`, `-v`), not only the counts.
    pub each: bool,
    /// Ctrl-C: ends the run at once until the first message may leave.
    pub interrupt: Interrupt,
}

/// One letter, checked and ready to be made: its plan entry, its email's headers if it
/// travels by email, its ledger key and content hash. The letter itself is rendered again
/// when its turn comes (pass 2), so a run holds these, not the letters.
pub struct Item<'a> {
    pub delivery: &'a Delivery,
    pub stem: String,
    pub headers: Option<Headers>,
    /// Its ledger key and content hash (none for a dry run, which keeps no ledger).
    pub key: Option<Key>,
    pub hash: String,
    /// The hash a ledger written before content hashes v2 holds for the same letter.
    pub hash_v1: String,
    /// What the ledger says to do with it; `None` until asked, and in a dry run.
    pub decision: Option<Decision>,
}

impl Item<'_> {
    /// Whether it travels by email (else on paper).
    pub fn by_email(&self) -> bool {
        self.headers.is_some()
    }

    /// Whether the ledger lets it go: the attempt the ledger handed out for it.
    pub fn attempt(&self) -> Option<&Attempt> {
        match &self.decision {
            Some(Decision::Send(attempt)) => Some(attempt),
            _ => None,
        }
    }

    /// Its ledger key; every letter of a run that keeps the ledger has one.
    pub fn key(&self) -> Result<&Key> {
        self.key
            .as_ref()
            .ok_or_else(|| anyhow!("internal: no ledger key for {}", self.stem))
    }
}

/// Pass 1: renders and checks every letter before anything leaves (a character the font
/// lacks, a bad header: nothing is sent), keeping what the run needs of each, not the
/// letter. Its PDF and message are made in pass 2, as the sending goes. `None` when some
/// letter cannot go: what is wrong is printed, and nothing is sent.
pub fn check_letters<'a>(
    job: &Job<'_>,
    plan: &'a [Delivery],
    dry_run: bool,
) -> Result<Option<Vec<Item<'a>>>> {
    let by_recipient: HashMap<&str, &Delivery> = plan.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut problems = Problems::default();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    crate::letter::run::for_each_chunk(job.config, &mut problems, |letters| {
        let checked: Vec<Result<Item<'_>, String>> = letters
            .par_iter()
            .map(|letter| check_letter(job, &by_recipient, letter, dry_run))
            .collect();
        for c in checked {
            match c {
                Ok(item) => items.push(item),
                Err(e) => errors.push(e),
            }
        }
        Ok(())
    })?;
    if problems.has_errors() {
        crate::term::print_problems(&problems, false);
    } else if !errors.is_empty() {
        for e in &errors {
            eprintln!("appeal: error: {e}");
        }
    } else {
        return Ok(Some(items));
    }
    eprintln!("appeal: nothing was sent");
    Ok(None)
}

/// Checks one letter: it has a delivery in the plan, its PDF can be made, its email's
/// headers built; and takes what the ledger needs of it (not for a dry run).
fn check_letter<'a>(
    job: &Job<'_>,
    by_recipient: &HashMap<&str, &'a Delivery>,
    letter: &Letter,
    dry_run: bool,
) -> Result<Item<'a>, String> {
    let stem = letter.key.file_stem();
    let Some(d) = by_recipient.get(letter.key.recipient.as_str()).copied() else {
        return Err(format!("{stem}: no delivery planned for this recipient"));
    };
    job.maker
        .check(letter)
        .map_err(|e| format!("{stem}: cannot make the PDF: {e:#}"))?;
    let headers = match d.by_email() {
        true => Some(message::headers_for(letter, d, job.ctx).map_err(|e| format!("{e:#}"))?),
        false => None,
    };
    let today = crate::model::locale::format_date(&letter.language, job.config.now.date());
    let hash_by = |hash: fn(&Letter, Channel, &str, &str, &[FileAttachment]) -> String| {
        hash(
            letter,
            d.channel,
            &d.destination,
            &today,
            &job.ctx.attachments,
        )
    };
    let (key, hash, hash_v1) = match dry_run {
        true => (None, String::new(), String::new()),
        false => (
            Some(Key::new(
                &letter.key,
                &ledger::sender_identity(&letter.sender),
                d.channel,
            )),
            hash_by(record::letter_hash),
            hash_by(record::letter_hash_v1),
        ),
    };
    Ok(Item {
        delivery: d,
        stem,
        headers,
        key,
        hash,
        hash_v1,
        decision: None,
    })
}

/// The ledger says what is left to do: opens it, takes the campaign lock (one run at a
/// time), remembers what this run was given (so a `status` or `send` typed next without those
/// flags acts on these letters), and keeps its decision for every letter. An error here means
/// nothing is sent.
pub fn consult_ledger(
    config: &Config,
    items: &mut [Item<'_>],
    flags: Flags,
) -> Result<(Ledger, CampaignLock)> {
    let mut ledger = Ledger::open(&config.root)?;
    let lock = CampaignLock::acquire(&config.root)?;
    ledger.record_run(
        &config.campaign.name,
        &remembered::record_of(config, "send")?,
    )?;
    for item in items {
        let decision = ledger.decide_any(item.key()?, &item.hash, &[&item.hash_v1], flags)?;
        if let (Decision::Send(attempt), Some(headers)) = (&decision, &mut item.headers) {
            use_message_id(headers, attempt)?;
        }
        item.decision = Some(decision);
    }
    Ok((ledger, lock))
}

/// Gives an email the Message-ID its attempt wants: the recorded one when the ledger says to
/// reuse it (in doubt), a new one for a forced re-send, else the stable one it has.
fn use_message_id(headers: &mut Headers, attempt: &Attempt) -> Result<()> {
    let wanted = match attempt.message_id_reuse() {
        Some(id) => id.to_string(),
        None if attempt.number() > 1 => {
            record::resend_message_id(&headers.message_id, attempt.number())
        }
        None => headers.message_id.clone(),
    };
    if wanted != headers.message_id {
        *headers = headers.with_message_id(&wanted)?;
    }
    Ok(())
}

/// How many emails the ledger lets go.
pub fn emails_to_send(items: &[Item<'_>]) -> usize {
    items
        .iter()
        .filter(|i| i.by_email() && i.attempt().is_some())
        .count()
}
