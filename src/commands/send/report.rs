//! What `appeal send` says: each email's outcome as it arrives, the letters the ledger holds
//! back, the tally of how every letter ended, the closing lines, and the exit code.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::commands::send::lock::Interrupt;
use crate::commands::send::prepare::Item;
use crate::config::Config;
use crate::email::delivery::{self, Hooks, Outcome};
use crate::email::message::Email;
use crate::exit::Exit;
use crate::ledger::{Decision, State};
use crate::term::plural;

/// Reports each letter as its outcome arrives (a rated run can take minutes) and keeps a copy
/// of each message the server accepted under `<out>/sent/`.
pub struct Progress {
    dir: PathBuf,
    stems: Vec<String>,
    destinations: Vec<String>,
    quiet: bool,
}

impl Progress {
    /// For the emails of a run, in the order the sessions number them.
    pub fn new(config: &Config, emails: &[&Item<'_>]) -> Progress {
        Progress {
            dir: config.out_dir.join("sent"),
            stems: emails.iter().map(|i| i.stem.clone()).collect(),
            destinations: emails
                .iter()
                .map(|i| i.delivery.destination.clone())
                .collect(),
            quiet: config.quiet,
        }
    }
}

impl Hooks for Progress {
    fn before_data(&self, _: usize, _: &Email) -> Result<()> {
        Ok(())
    }

    fn outcome(&self, index: usize, email: &Email, outcome: &Outcome) -> Result<()> {
        let (stem, to) = (&self.stems[index], &self.destinations[index]);
        if let Outcome::Sent { .. } = outcome {
            let path = self.dir.join(format!("{stem}.eml"));
            crate::files::write_in_folder(&path, &email.eml(), false)
                .with_context(|| format!("sent, but cannot keep a copy at {}", path.display()))?;
        }
        // A closed stdout must not stop the sending; the summary will report it.
        match outcome {
            Outcome::Sent { reply, .. } if !self.quiet => {
                let _ = writeln!(std::io::stdout(), "sent     {stem}  {to}  {reply}");
            }
            Outcome::Sent { .. } => {}
            Outcome::Failed { reason } => eprintln!("appeal: failed: {stem} <{to}>: {reason}"),
            Outcome::Deferred { reason } => eprintln!("appeal: deferred: {stem}: {reason}"),
            Outcome::InDoubt { reason } => eprintln!("appeal: in doubt: {stem}: {reason}"),
        }
        Ok(())
    }
}

/// What the maker did with the paper letters, and why it stopped early, if it did.
#[derive(Default)]
pub struct PaperTally {
    pub written: usize,
    pub failed: usize,
    pub not_started: usize,
    /// The paper letters the maker reached, recorded or not.
    pub seen: usize,
    pub error: Option<String>,
}

/// How many letters ended which way.
#[derive(Debug, Default)]
pub struct Tally {
    sent: usize,
    written: usize,
    failed: usize,
    deferred: usize,
    in_doubt: usize,
    done: usize,
    changed: usize,
    not_started: usize,
}

impl Tally {
    /// Counts what became of each email the sessions were given. When the run is stopping,
    /// an email deferred without a transaction started was not tried: not started.
    pub fn count_emails(
        &mut self,
        outcomes: &[Outcome],
        stopping: bool,
        started: impl Fn(usize) -> bool,
    ) {
        for (index, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Outcome::Sent { .. } => self.sent += 1,
                Outcome::Failed { .. } => self.failed += 1,
                Outcome::Deferred { .. } if stopping && !started(index) => self.not_started += 1,
                Outcome::Deferred { .. } => self.deferred += 1,
                Outcome::InDoubt { .. } => self.in_doubt += 1,
            }
        }
    }

    /// Counts what became of the paper letters.
    pub fn count_paper(&mut self, paper: &PaperTally) {
        self.written += paper.written;
        self.failed += paper.failed;
        self.not_started += paper.not_started;
    }

    /// The run's exit code, by the rule it shares with `status`. A letter changed since it was
    /// sent waits for `--resend` like a failure does, and a run stopped by an error failed.
    pub fn exit(&self, end: &End) -> Exit {
        let stopped = end.broken.is_some() || end.error.is_some();
        Exit::for_letters(
            self.failed + self.changed + usize::from(stopped),
            self.deferred + self.in_doubt + self.not_started,
            end.interrupt.is_set(),
        )
    }
}

/// Reports the letters the ledger says not to send, and counts them.
pub fn report_skips(config: &Config, items: &[Item<'_>], tally: &mut Tally) {
    for item in items {
        let stem = &item.stem;
        match &item.decision {
            None | Some(Decision::Send(_)) | Some(Decision::NotRetried { .. }) => {}
            Some(Decision::Skip { state }) => {
                tally.done += 1;
                if config.verbose {
                    println!("skipped  {stem}  already {state}");
                }
            }
            Some(Decision::SkipInDoubt { message_id, reason }) => {
                tally.in_doubt += 1;
                eprintln!(
                    "appeal: in doubt: {stem}: {} (Message-ID {}); not re-sent: check with the \
                     recipient, or re-send it with the same Message-ID: appeal send \
                     --resend-in-doubt --only {}",
                    reason.as_deref().unwrap_or("may have arrived"),
                    message_id.as_deref().unwrap_or("unknown"),
                    item.delivery.id
                );
            }
            Some(Decision::SkipFailed { reason }) => {
                tally.failed += 1;
                eprintln!(
                    "appeal: failed before: {stem}: {}; not retried: fix the cause, then: appeal \
                     send --resend --only {}",
                    reason.as_deref().unwrap_or("no reason recorded"),
                    item.delivery.id
                );
            }
            Some(Decision::Changed { state }) => {
                tally.changed += 1;
                eprintln!(
                    "appeal: changed: {stem}: the letter changed since it was {}: use --resend \
                     to send it again (appeal send --resend --only {})",
                    match state {
                        State::Sending | State::InDoubt => "sent (in doubt)".to_string(),
                        s => s.to_string(),
                    },
                    item.delivery.id
                );
            }
        }
    }
}

/// Letters never tried because sending stopped: one line for all of them.
pub fn report_untried(report: &delivery::Report) {
    match &report.untried {
        Some((n, Outcome::Failed { reason })) => {
            eprintln!("appeal: failed: {n} email{} not sent: {reason}", plural(*n));
        }
        Some((n, Outcome::Deferred { reason })) if report.stopped.is_none() => {
            eprintln!(
                "appeal: sending stopped: {reason}; {n} email{} not started, left for the next \
                 run",
                plural(*n)
            );
        }
        _ => {}
    }
}

/// Why a run stopped before its end, if it did.
pub struct End {
    /// Why the ledger can no longer be written.
    pub broken: Option<String>,
    /// Set by Ctrl-C.
    pub interrupt: Interrupt,
    /// Why the sessions or the maker stopped.
    pub error: Option<String>,
}

/// The closing lines: why the run stopped early, if it did, then (unless quiet) the totals
/// and what to do next.
pub fn print_end(config: &Config, tally: &Tally, end: &End) -> Result<()> {
    if let Some(why) = &end.broken {
        eprintln!(
            "appeal: error: sending stopped: the ledger cannot be written, so nothing more was \
             sent: {why}"
        );
    } else if end.interrupt.is_set() {
        eprintln!(
            "appeal: interrupted: {} letter(s) not started",
            tally.not_started
        );
    } else if let Some(why) = &end.error {
        eprintln!("appeal: error: sending stopped: {why}");
    }
    if config.quiet {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{}", totals(tally))?;
    if tally.sent > 0 {
        writeln!(
            out,
            "Copies of the sent messages are in {}.",
            config.out_dir.join("sent").display()
        )?;
    }
    if let Some(next) = next_step(config, tally) {
        writeln!(out, "Next: {next}")?;
    }
    Ok(())
}

/// The totals line: every outcome, then those that only some runs have.
fn totals(tally: &Tally) -> String {
    let Tally {
        sent,
        written,
        failed,
        deferred,
        in_doubt,
        done,
        changed,
        not_started,
    } = tally;
    let mut extra = String::new();
    if *done > 0 {
        extra.push_str(&format!(", {done} already sent or written"));
    }
    if *changed > 0 {
        extra.push_str(&format!(", {changed} changed since sent"));
    }
    if *not_started > 0 {
        extra.push_str(&format!(", {not_started} not started"));
    }
    format!(
        "{sent} sent, {written} written, {failed} failed, {deferred} deferred, {in_doubt} in doubt{extra}."
    )
}

/// What to do after this run, if anything: fix failures first, then come back for the rest,
/// then post the paper letters.
fn next_step(config: &Config, tally: &Tally) -> Option<String> {
    if tally.failed + tally.changed > 0 {
        Some(
            "fix what the failures above name, then run `appeal send --resend --only ID` for \
             those letters."
                .into(),
        )
    } else if tally.deferred + tally.in_doubt + tally.not_started > 0 {
        Some(
            "run `appeal send` again later for the rest; check with the recipient before \
             re-sending one in doubt (--resend-in-doubt)."
                .into(),
        )
    } else if tally.written > 0 {
        Some(format!(
            "print the PDFs in {} and post them.",
            config.out_dir.display()
        ))
    } else {
        None
    }
}
