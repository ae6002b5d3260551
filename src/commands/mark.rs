//! `appeal mark delivered|posted|faxed`: records what happened to letters outside the tool (an
//! in-doubt email the recipient confirmed, PDFs printed and posted or faxed by hand), so
//! `status` counts them done. It moves letters the ledger already has, never makes one.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::MarkAs;
use crate::commands::send::lock::CampaignLock;
use crate::commands::status::{self, LetterStatus, Scope};
use crate::config::Config;
use crate::diag::unsafe_char;
use crate::exit::Exit;
use crate::ledger::{self, Key, Ledger, State};
use crate::letter::LetterKey;
use crate::model::recipients::Channel;
use crate::term::plural;

/// The ledger's letters in scope, sorted by what the mark does to them.
#[derive(Default)]
struct Sorted {
    /// In a state the mark applies to: they move.
    to_mark: Vec<LetterStatus>,
    /// Already in the state the mark sets (moved again only to record a `--note`).
    already: Vec<LetterStatus>,
    /// Left alone, by channel and state.
    left: BTreeMap<(Channel, &'static str), usize>,
    /// Every letter in scope (to say what an `--only` item found).
    all: Vec<(Option<String>, String, Channel, State)>,
    /// Letters in the ledger from senders this run does not name: not looked at.
    other_senders: usize,
}

/// `appeal mark WHAT [--note TEXT]`: moves every selected letter the mark applies to, says how
/// many and which others it left alone. Exit 0, or 2 (nothing marked) when the note is unusable
/// or an `--only` item names no letter the mark applies to.
pub fn run(config: &Config, what: MarkAs, note: Option<&str>) -> Result<Exit> {
    if let Some(note) = note
        && let Some(problem) = note_problem(note)
    {
        eprintln!("appeal: error: --note {problem}; nothing was marked");
        return Ok(Exit::Invalid);
    }
    let recalled = match status::recall(config) {
        Ok(r) => r,
        Err(exit) => return Ok(exit),
    };
    let config = recalled.as_ref().map_or(config, |r| &r.config);
    let to = state(what);
    if Ledger::open_read_only(&config.root)?.is_none() {
        return Ok(nothing_yet(config));
    }
    let mut ledger = Ledger::open(&config.root)?;
    let _lock = match CampaignLock::acquire(&config.root) {
        Ok(lock) => lock,
        Err(e) => {
            eprintln!("appeal: error: {e:#}; nothing was marked");
            return Ok(Exit::Invalid);
        }
    };
    let entries = ledger.entries(&config.campaign.name)?;
    if entries.is_empty() {
        return Ok(nothing_yet(config));
    }
    let sorted = sort(config, entries, to);
    let unmet = unmet_only(config, &sorted, to);
    if !unmet.is_empty() {
        for line in unmet {
            eprintln!("appeal: error: {line}");
        }
        eprintln!("appeal: nothing was marked");
        return Ok(Exit::Invalid);
    }
    let again = if note.is_some() {
        &sorted.already[..]
    } else {
        &[]
    };
    for l in sorted.to_mark.iter().chain(again) {
        ledger.mark_by_hand(&key(config, l), to, note)?;
    }
    ledger.flush()?;
    if !config.quiet {
        report(config, &sorted, to, note.is_some())?;
    }
    Ok(Exit::Success)
}

fn state(what: MarkAs) -> State {
    match what {
        MarkAs::Delivered => State::Delivered,
        MarkAs::Posted => State::Posted,
        MarkAs::Faxed => State::Faxed,
    }
}

/// Why a note cannot be kept: empty, or a character that would change how a report prints.
fn note_problem(note: &str) -> Option<String> {
    if note.trim().is_empty() {
        return Some("is empty: say who confirmed or give the tracking number".into());
    }
    unsafe_char(note)
}

/// A campaign without a ledger: nothing was sent or written, so nothing can be marked. An
/// `--only` that names letters is then an error.
fn nothing_yet(config: &Config) -> Exit {
    let named = !config.typed.only.is_empty();
    let line = format!(
        "nothing sent or written yet in campaign `{}`: nothing to mark",
        config.campaign.name
    );
    if named {
        eprintln!("appeal: error: {line}");
        Exit::Invalid
    } else {
        if !config.quiet {
            println!("{}.", capitalised(&line));
        }
        Exit::Success
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// The ledger's letters in scope and selected (as `status` shows them), by what marking them
/// `to` would do.
fn sort(config: &Config, entries: Vec<ledger::Entry>, to: State) -> Sorted {
    let view = status::view(config, &Scope::of(config), entries);
    let mut sorted = Sorted {
        other_senders: view.other_senders,
        ..Sorted::default()
    };
    for l in view.letters {
        let Some(state) = l.state else { continue };
        sorted
            .all
            .push((l.signatory.clone(), l.recipient.clone(), l.channel, state));
        let applies = to
            .marked_from(l.channel)
            .is_some_and(|from| from.contains(&state));
        if applies && state == to {
            sorted.already.push(l);
        } else if applies {
            sorted.to_mark.push(l);
        } else {
            *sorted
                .left
                .entry((l.channel, state.reported()))
                .or_default() += 1;
        }
    }
    sorted
}

/// The ledger's key of a letter `status` shows.
fn key(config: &Config, l: &LetterStatus) -> Key {
    Key::new(
        &LetterKey {
            campaign: config.campaign.name.clone(),
            signatory: l.signatory.clone(),
            recipient: l.recipient.clone(),
        },
        &l.sender,
        l.channel,
    )
}

/// What the mark applies to, in words.
fn applies_to(to: State) -> &'static str {
    match to {
        State::Delivered => "letters in_doubt",
        State::Posted => "post letters written",
        _ => "fax letters written",
    }
}

/// The `--only` items that name no letter the mark applies to (or that is already marked),
/// each with what it did find.
fn unmet_only(config: &Config, sorted: &Sorted, to: State) -> Vec<String> {
    let mut items: Vec<(Option<String>, String)> = Vec::new();
    match &config.letters {
        Some(l) => {
            items.extend(l.whole.iter().map(|r| (None, r.clone())));
            items.extend(l.pairs.iter().map(|(s, r)| (Some(s.clone()), r.clone())));
        }
        None => items.extend(
            config
                .typed
                .only
                .iter()
                .map(|r| r.trim())
                .filter(|r| !r.is_empty())
                .map(|r| (None, r.to_string())),
        ),
    }
    let markable = |l: &LetterStatus| (l.signatory.clone(), l.recipient.clone());
    let ok: Vec<(Option<String>, String)> = sorted
        .to_mark
        .iter()
        .chain(&sorted.already)
        .map(markable)
        .collect();
    let matches = |item: &(Option<String>, String), sig: &Option<String>, rec: &str| {
        item.1 == rec && (item.0.is_none() || item.0 == *sig)
    };
    let mut unmet = Vec::new();
    for item in &items {
        if ok.iter().any(|(s, r)| matches(item, s, r)) {
            continue;
        }
        let mut found: BTreeMap<(Channel, &str), usize> = BTreeMap::new();
        for (s, r, channel, state) in &sorted.all {
            if matches(item, s, r) {
                *found.entry((*channel, state.reported())).or_default() += 1;
            }
        }
        let name = match &item.0 {
            Some(s) => format!("{s}/{}", item.1),
            None => item.1.clone(),
        };
        let found = match found.is_empty() {
            true => "no letter of it in the ledger".to_string(),
            false => format!("its letters are {}", by_state(&found)),
        };
        unmet.push(format!(
            "--only {name}: {found}; `appeal mark {to}` applies only to {}",
            applies_to(to)
        ));
    }
    unmet
}

/// `2 sent (email), 1 written (post)`.
fn by_state(counts: &BTreeMap<(Channel, &str), usize>) -> String {
    counts
        .iter()
        .map(|((channel, state), n)| format!("{n} {state} ({})", channel.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many letters moved (each named when they are few, or with `-v`), and the others.
fn report(config: &Config, sorted: &Sorted, to: State, with_note: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let marked = sorted.to_mark.len();
    if marked == 0 {
        writeln!(
            out,
            "Nothing to mark {to}: no selected letter is one of the {}.",
            applies_to(to)
        )?;
    } else {
        writeln!(out, "Marked {} {to}.", count(marked))?;
        if marked <= LISTED || config.verbose {
            for l in &sorted.to_mark {
                writeln!(out, "  {} ({})", l.name(), l.channel.as_str())?;
            }
        }
    }
    let already = sorted.already.len();
    if already > 0 {
        writeln!(
            out,
            "{} already {to}{}.",
            count(already),
            match with_note {
                true => ": the note is added to their record",
                false => " (left as they are; --note adds a note to their record)",
            }
        )?;
    }
    if !sorted.left.is_empty() {
        writeln!(out, "Left alone: {}.", by_state(&sorted.left))?;
    }
    if sorted.other_senders > 0 {
        writeln!(
            out,
            "Not looked at: {} from senders this run does not name (name them with \
             --signatories).",
            count(sorted.other_senders)
        )?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(())
}

/// More letters marked than this are counted, not named (unless `-v`).
const LISTED: usize = 20;

fn count(n: usize) -> String {
    format!("{n} letter{}", plural(n))
}
