//! `appeal status`: what the ledger says about each letter of the campaign, and the exit code
//! that says whether anything is outstanding.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::Config;
use crate::exit::Exit;
use crate::ledger::{self, Ledger, State};
use crate::letter::plan;
use crate::model::recipients::Channel;
use crate::term::{plural, table};

/// One letter as `status` shows it. `state: None` is a letter of the current plan that the
/// ledger has never seen: "not started".
#[derive(Debug, Clone, Serialize)]
pub struct Line {
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
pub fn lines(config: &Config, entries: Vec<ledger::Entry>) -> Vec<Line> {
    let position: BTreeMap<&str, usize> = config
        .recipients
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut lines: Vec<Line> = entries
        .into_iter()
        .filter(|e| position.contains_key(e.recipient.as_str()))
        .map(|e| Line {
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
        })
        .collect();
    // Letters of the plan the ledger has never seen: one per sender (each signatory of a
    // batch) and recipient.
    let known: std::collections::HashSet<(
        Option<String>,
        String,
        crate::model::recipients::Channel,
        String,
    )> = lines
        .iter()
        .map(|l| {
            (
                l.signatory.clone(),
                l.recipient.clone(),
                l.channel,
                l.sender.clone(),
            )
        })
        .collect();
    let senders: Vec<crate::model::sender::Sender> =
        match (config.signatories_source(), &config.signatories) {
            (Some(source), Some(shown)) => {
                crate::model::signatories::SignatoryReader::open(source, shown, false)
                    .map(|r| r.filter_map(Result::ok).collect())
                    .unwrap_or_default()
            }
            _ => vec![config.sender.clone()],
        };
    let plan = plan::plan(config);
    for s in &senders {
        let identity = ledger::sender_identity(s);
        for d in &plan {
            if known.contains(&(s.id.clone(), d.id.clone(), d.channel, identity.clone())) {
                continue;
            }
            lines.push(Line {
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
    lines.sort_by(|a, b| {
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
    lines
}

/// 0 when every letter is sent or written, 1 when one failed, else 75 (something is still
/// to do: not started, pending, deferred, in doubt).
pub fn exit_code(lines: &[Line]) -> Exit {
    lines.iter().fold(Exit::Success, |worst, l| {
        worst.worst(match l.state {
            Some(s) if s.is_done() => Exit::Success,
            Some(State::Failed) => Exit::Failed,
            _ => Exit::TempFail,
        })
    })
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
    let entries = match Ledger::open_read_only(&config.root)? {
        Some(l) => l.entries(&config.campaign.name)?,
        None => Vec::new(),
    };
    let lines = lines(config, entries);
    let exit = exit_code(&lines);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &lines)?;
        writeln!(out)?;
        out.flush().context("cannot write to standard output")?;
        return Ok(exit);
    }
    let grouped = lines.iter().any(|l| l.signatory.is_some());
    let mut groups: Vec<(Option<&str>, Vec<&Line>)> = Vec::new();
    for l in &lines {
        match groups.last_mut() {
            Some((s, g)) if *s == l.signatory.as_deref() => g.push(l),
            _ => groups.push((l.signatory.as_deref(), vec![l])),
        }
    }
    writeln!(
        out,
        "Ledger of campaign `{}`: {} letter{}.",
        config.campaign.name,
        lines.len(),
        plural(lines.len())
    )?;
    for (signatory, group) in &groups {
        writeln!(out)?;
        if grouped {
            writeln!(
                out,
                "{}:",
                signatory.map_or("(no signatory)".into(), |s| format!("signatory {s}"))
            )?;
        }
        let rows: Vec<Vec<String>> = group
            .iter()
            .map(|l| {
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
            })
            .collect();
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
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &lines {
        *counts.entry(state_name(l.state)).or_default() += 1;
    }
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
    writeln!(out, "\nTotal: {}.", totals.join(", "))?;
    out.flush().context("cannot write to standard output")?;
    if !config.quiet {
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
    Ok(exit)
}
