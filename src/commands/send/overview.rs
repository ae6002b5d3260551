//! What `appeal send` shows before it sends: a line that says how the emails will leave, then
//! every letter of a small run (or with `--list`/`-v`), or for a larger one how many letters go
//! to each recipient by each channel, and how many of them are done, to send or held back.

use std::io::Write;

use anyhow::Result;

use crate::commands::send::prepare::Item;
use crate::config::Config;
use crate::email::smtp::SmtpSettings;
use crate::ledger::Decision;
use crate::model::recipients::Channel;
use crate::term::{plural, table};

/// Up to this many letters, a run shows (and reports) every one of them.
pub const SCREENFUL: usize = 20;

/// Prints the overview: every letter when `each`, else the counts.
pub fn print(
    config: &Config,
    items: &[Item<'_>],
    settings: Option<&SmtpSettings>,
    dry_run: bool,
    each: bool,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Campaign `{}`: {} letter{} ({}).\n",
        config.campaign.name,
        items.len(),
        plural(items.len()),
        how_sent(settings, dry_run)
    )?;
    match each {
        true => out.write_all(every_letter(items).as_bytes())?,
        false => {
            out.write_all(counts(items).as_bytes())?;
            writeln!(out, "\n{}", in_all(items))?;
            writeln!(out, "(--list shows every letter.)")?;
        }
    }
    writeln!(out)?;
    Ok(())
}

/// The table of every letter: its channel, destination and language.
fn every_letter(items: &[Item<'_>]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.stem.clone(),
                i.delivery.channel.as_str().into(),
                i.delivery.destination.clone(),
                i.delivery.language.clone(),
            ]
        })
        .collect();
    table(&["LETTER", "CHANNEL", "DESTINATION", "LANG"], &rows)
}

/// How the ledger's decision counts a letter in the overview.
#[derive(Clone, Copy)]
enum Column {
    Done,
    ToSend,
    HeldBack,
}

fn column(decision: &Decision) -> Column {
    match decision {
        Decision::Send(_) => Column::ToSend,
        Decision::Skip { .. } => Column::Done,
        Decision::NotRetried { state: Some(s) } if s.is_done() => Column::Done,
        _ => Column::HeldBack,
    }
}

/// One row of the counts: a recipient and channel, how many letters, and how many of them
/// fall in each column.
struct Row<'a> {
    recipient: &'a str,
    channel: Channel,
    letters: usize,
    columns: [usize; 3],
}

/// The counts by recipient and channel, in the order the run meets them; with the ledger's
/// decisions, how many are done, to send and held back. (Where each goes, `appeal list` says.)
fn counts(items: &[Item<'_>]) -> String {
    let mut rows: Vec<Row<'_>> = Vec::new();
    for item in items {
        let d = item.delivery;
        let at = match rows
            .iter()
            .position(|r| r.recipient == d.id && r.channel == d.channel)
        {
            Some(at) => at,
            None => {
                rows.push(Row {
                    recipient: &d.id,
                    channel: d.channel,
                    letters: 0,
                    columns: [0; 3],
                });
                rows.len() - 1
            }
        };
        rows[at].letters += 1;
        if let Some(decision) = &item.decision {
            rows[at].columns[column(decision) as usize] += 1;
        }
    }
    let decided = items.iter().any(|i| i.decision.is_some());
    let cells = rows.iter().map(|r| {
        let mut cells = vec![
            r.recipient.to_string(),
            r.channel.as_str().to_string(),
            r.letters.to_string(),
        ];
        if decided {
            cells.extend(r.columns.iter().map(usize::to_string));
        }
        cells
    });
    let cells: Vec<Vec<String>> = cells.collect();
    let mut header = vec!["RECIPIENT", "CHANNEL", "LETTERS"];
    if decided {
        header.extend(["DONE", "TO SEND", "HELD BACK"]);
    }
    table(&header, &cells)
}

/// The run in one sentence: how many letters, by how many senders, and (when the ledger was
/// asked) how many are done, to send and held back.
fn in_all(items: &[Item<'_>]) -> String {
    let mut columns = [0usize; 3];
    for decision in items.iter().filter_map(|i| i.decision.as_ref()) {
        columns[column(decision) as usize] += 1;
    }
    let [done, to_send, held] = columns;
    match items.iter().any(|i| i.decision.is_some()) {
        true => format!(
            "In all: {} letter{}: {done} done, {to_send} to send, {held} held back.",
            items.len(),
            plural(items.len())
        ),
        false => format!("In all: {} letter{}.", items.len(), plural(items.len())),
    }
}

/// How the emails will leave, in a few words for the overview's first line.
fn how_sent(settings: Option<&SmtpSettings>, dry_run: bool) -> String {
    match (dry_run, settings) {
        (true, _) => "dry run, nothing will be sent".to_string(),
        (false, Some(s)) => {
            let rate = match s.rate {
                Some(r) => format!("at most {r}"),
                None => "no rate limit".to_string(),
            };
            format!(
                "email via {}, {rate}, up to {} connection{}",
                s.endpoint,
                s.connections,
                plural(s.connections)
            )
        }
        (false, None) => "no email".to_string(),
    }
}
