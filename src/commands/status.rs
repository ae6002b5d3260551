//! `appeal status`: what the ledger says about each letter of the campaign, and the exit code
//! that says whether anything is outstanding.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::Config;
use crate::exit::Exit;
use crate::ledger::{self, Ledger, State};
use crate::letter::plan;
use crate::model::recipients::Channel;
use crate::model::sender::Sender;
use crate::model::signatories::SignatoryReader;
use crate::term::{plural, table};

/// One letter as `status` shows it. `state: None` is a letter of the current plan that the
/// ledger has never seen: "not started".
#[derive(Debug, Clone, Serialize)]
pub struct LetterStatus {
    pub signatory: Option<String>,
    pub recipient: String,
    pub channel: Channel,
    pub sender: String,
    #[serde(serialize_with = "state_or_not_started")]
    pub state: Option<State>,
    pub attempts: u32,
    pub message_id: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub last_reply: Option<String>,
    pub content_hash: Option<String>,
    pub output_path: Option<String>,
}

pub const NOT_STARTED: &str = "not_started";

fn state_or_not_started<S: serde::Serializer>(
    state: &Option<State>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(state.map_or(NOT_STARTED, State::as_str))
}

fn state_name(state: Option<State>) -> &'static str {
    state.map_or("not started", |s| match s {
        State::InDoubt => "in doubt",
        s => s.as_str(),
    })
}

/// The letters `status` reports: every ledger row of the campaign whose recipient is selected
/// (`--only`/`--tag`), whatever its sender or channel, plus the letters of the current plan the
/// ledger has no row for. Ordered by signatory (none first), then recipients-file order.
pub fn letters(config: &Config, entries: Vec<ledger::Entry>) -> Vec<LetterStatus> {
    let position: BTreeMap<&str, usize> = config
        .recipients
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut letters: Vec<LetterStatus> = entries
        .into_iter()
        .filter(|e| position.contains_key(e.recipient.as_str()))
        .map(LetterStatus::from)
        .collect();
    let unseen = never_seen(config, &letters);
    letters.extend(unseen);
    letters.sort_by(|a, b| {
        (
            &a.signatory,
            position.get(a.recipient.as_str()),
            a.channel,
            &a.sender,
        )
            .cmp(&(
                &b.signatory,
                position.get(b.recipient.as_str()),
                b.channel,
                &b.sender,
            ))
    });
    letters
}

impl From<ledger::Entry> for LetterStatus {
    fn from(e: ledger::Entry) -> LetterStatus {
        LetterStatus {
            signatory: e.signatory,
            recipient: e.recipient,
            channel: e.channel,
            sender: e.sender,
            state: Some(e.state),
            attempts: e.attempts,
            message_id: e.message_id,
            created: Some(e.created),
            updated: Some(e.updated),
            last_reply: e.last_reply,
            content_hash: e.content_hash,
            output_path: e.output_path,
        }
    }
}

/// The letters of the plan the ledger has never seen, not started: one per sender (each
/// signatory of a batch) and recipient.
fn never_seen(config: &Config, known: &[LetterStatus]) -> Vec<LetterStatus> {
    let known: HashSet<(Option<&str>, &str, Channel, &str)> = known
        .iter()
        .map(|l| {
            (
                l.signatory.as_deref(),
                l.recipient.as_str(),
                l.channel,
                l.sender.as_str(),
            )
        })
        .collect();
    let plan = plan::plan(config);
    let mut unseen = Vec::new();
    for s in &senders(config) {
        let identity = ledger::sender_identity(s);
        for d in &plan {
            let letter = (s.id.as_deref(), d.id.as_str(), d.channel, identity.as_str());
            if known.contains(&letter) {
                continue;
            }
            unseen.push(LetterStatus {
                signatory: s.id.clone(),
                recipient: d.id.clone(),
                channel: d.channel,
                sender: identity.clone(),
                state: None,
                attempts: 0,
                message_id: None,
                created: None,
                updated: None,
                last_reply: None,
                content_hash: None,
                output_path: None,
            });
        }
    }
    unseen
}

/// Who the campaign's letters are from: each signatory of a batch (those the signatories file
/// reads without error), else the one sender.
fn senders(config: &Config) -> Vec<Sender> {
    match (config.signatories_source(), &config.signatories) {
        (Some(source), Some(shown)) => SignatoryReader::open(source, shown, false)
            .map(|r| r.filter_map(Result::ok).collect())
            .unwrap_or_default(),
        _ => vec![config.sender.clone()],
    }
}

/// 0 when every letter is sent or written, 1 when one failed, else 75 (something is still
/// to do: not started, pending, deferred, in doubt): the rule `send` ends by too.
pub fn exit_code(letters: &[LetterStatus]) -> Exit {
    let failed = letters
        .iter()
        .filter(|l| l.state == Some(State::Failed))
        .count();
    let done = letters
        .iter()
        .filter(|l| l.state.is_some_and(State::is_done))
        .count();
    Exit::for_letters(failed, letters.len() - failed - done, false)
}

/// A server's reply in one table cell: no line breaks, no terminal escapes, not too long.
fn cell(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() > 72 {
        let cut: String = clean.chars().take(71).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

/// `appeal status [--json]`.
pub fn run(config: &Config, json: bool) -> Result<Exit> {
    let letters = letters(config, read_ledger(config)?);
    let exit = exit_code(&letters);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &letters)?;
        writeln!(out)?;
        out.flush().context("cannot write to standard output")?;
        return Ok(exit);
    }
    writeln!(
        out,
        "Ledger of campaign `{}`: {} letter{}.",
        config.campaign.name,
        letters.len(),
        plural(letters.len())
    )?;
    print_tables(&mut out, &letters)?;
    let counts = count_by_state(&letters);
    writeln!(out, "\nTotal: {}.", totals(&counts))?;
    out.flush().context("cannot write to standard output")?;
    if !config.quiet {
        print_next_steps(&counts);
    }
    Ok(exit)
}

/// The campaign's rows of the ledger; none when there is no ledger yet.
fn read_ledger(config: &Config) -> Result<Vec<ledger::Entry>> {
    match Ledger::open_read_only(&config.root)? {
        Some(l) => l.entries(&config.campaign.name),
        None => Ok(Vec::new()),
    }
}

/// One table per signatory (titled when there are signatories), else one table.
fn print_tables(out: &mut impl Write, letters: &[LetterStatus]) -> Result<()> {
    let grouped = letters.iter().any(|l| l.signatory.is_some());
    let mut groups: Vec<(Option<&str>, Vec<&LetterStatus>)> = Vec::new();
    for l in letters {
        match groups.last_mut() {
            Some((s, g)) if *s == l.signatory.as_deref() => g.push(l),
            _ => groups.push((l.signatory.as_deref(), vec![l])),
        }
    }
    for (signatory, group) in &groups {
        writeln!(out)?;
        if grouped {
            writeln!(
                out,
                "{}:",
                signatory.map_or("(no signatory)".into(), |s| format!("signatory {s}"))
            )?;
        }
        let rows: Vec<Vec<String>> = group.iter().map(|l| row(l)).collect();
        out.write_all(
            table(
                &[
                    "RECIPIENT",
                    "CHANNEL",
                    "STATE",
                    "ATTEMPTS",
                    "UPDATED",
                    "REPLY / REASON",
                ],
                &rows,
            )
            .as_bytes(),
        )?;
    }
    Ok(())
}

/// One letter's row of the table.
fn row(l: &LetterStatus) -> Vec<String> {
    vec![
        l.recipient.clone(),
        l.channel.as_str().into(),
        state_name(l.state).into(),
        l.attempts.to_string(),
        l.updated.clone().unwrap_or_else(|| "-".into()),
        cell(
            l.last_reply
                .as_deref()
                .or(l.output_path.as_deref())
                .unwrap_or(""),
        ),
    ]
}

/// How many letters are in each state, by the state's name in the table.
fn count_by_state(letters: &[LetterStatus]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for l in letters {
        *counts.entry(state_name(l.state)).or_default() += 1;
    }
    counts
}

/// The totals line: each state that has letters, from done to not started.
fn totals(counts: &BTreeMap<&str, usize>) -> String {
    let order = [
        "sent",
        "written",
        "failed",
        "deferred",
        "in doubt",
        "sending",
        "pending",
        "not started",
    ];
    let totals: Vec<String> = order
        .iter()
        .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
        .collect();
    totals.join(", ")
}

/// What to do about the letters not done, on stderr.
fn print_next_steps(counts: &BTreeMap<&str, usize>) {
    let n = |s: &str| counts.get(s).copied().unwrap_or(0);
    if n("in doubt") + n("sending") > 0 {
        eprintln!(
            "appeal: letters in doubt may have arrived; check with the recipient, or re-send them with the same Message-ID: appeal send --resend-in-doubt"
        );
    }
    if n("not started") + n("pending") + n("deferred") > 0 {
        eprintln!("appeal: to deliver the rest: appeal send");
    }
    if n("failed") > 0 {
        eprintln!(
            "appeal: failed letters are not retried; fix the cause, then: appeal send --resend --only ID"
        );
    }
}
