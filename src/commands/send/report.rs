//! What `appeal send` says: each email's outcome as it arrives, the letters the ledger holds
//! back, the tally of how every letter ended, the closing lines, and the exit code.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::commands::send::lock::Interrupt;
use crate::commands::send::next::{Rerun, Selection};
use crate::commands::send::overview::SCREENFUL;
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
    /// The output folder, below which nothing is written through a link.
    out: PathBuf,
    stems: Vec<String>,
    destinations: Vec<String>,
    /// Say each email sent (a small run, `--list`, `-v`); else the bar counts them.
    each: bool,
    bar: indicatif::ProgressBar,
}

impl Progress {
    /// For the emails of a run, in the order the sessions number them.
    pub fn new(config: &Config, emails: &[&Item<'_>], each: bool) -> Progress {
        let bar = match each {
            true => indicatif::ProgressBar::hidden(),
            false => crate::term::progress(config.quiet, emails.len() as u64, "sending"),
        };
        Progress {
            dir: config.out_dir.join("sent"),
            out: config.out_dir.clone(),
            stems: emails.iter().map(|i| i.stem.clone()).collect(),
            destinations: emails
                .iter()
                .map(|i| i.delivery.destination.clone())
                .collect(),
            each,
            bar,
        }
    }

    /// Clears the bar once the sending is over.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
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
            let rel = std::path::PathBuf::from(format!("sent/{stem}.eml"));
            crate::files::write_in_folder(&self.out, &rel, &email.eml(), false)
                .with_context(|| format!("sent, but cannot keep a copy at {}", path.display()))?;
        }
        self.bar.inc(1);
        // A closed stdout must not stop the sending; the summary will report it.
        self.bar.suspend(|| match outcome {
            Outcome::Sent { reply, .. } if self.each => {
                let _ = writeln!(std::io::stdout(), "sent     {stem}  {to}  {reply}");
            }
            Outcome::Sent { .. } => {}
            Outcome::Failed { reason } => eprintln!("appeal: failed: {stem} <{to}>: {reason}"),
            Outcome::Deferred { reason } => eprintln!("appeal: deferred: {stem}: {reason}"),
            Outcome::InDoubt { reason } => eprintln!("appeal: in doubt: {stem}: {reason}"),
        });
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
    /// `--retry-failed`: letters that neither failed nor were deferred, left alone.
    left_alone: usize,
    /// Emails of this run whose data may have reached the server (sent or in doubt).
    reached: usize,
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
            if matches!(outcome, Outcome::Sent { .. } | Outcome::InDoubt { .. }) {
                self.reached += 1;
            }
        }
    }

    /// Counts what became of the paper letters.
    pub fn count_paper(&mut self, paper: &PaperTally) {
        self.written += paper.written;
        self.failed += paper.failed;
        self.not_started += paper.not_started;
    }

    /// How many PDFs the run wrote.
    pub fn written(&self) -> usize {
        self.written
    }

    /// The run's exit code, by the rule it shares with `status`. A letter changed since it was
    /// sent waits for `--resend` like a failure does, and a run stopped by an error failed.
    /// Letters `--retry-failed` left alone do not count: the run was not asked about them.
    pub fn exit(&self, end: &End) -> Exit {
        let stopped = end.broken.is_some() || end.error.is_some();
        Exit::for_letters(
            self.failed + self.changed + usize::from(stopped),
            self.deferred + self.in_doubt + self.not_started,
            end.interrupt.is_set(),
        )
    }
}

/// A letter the ledger holds back, as reported: its name, and why.
struct Held {
    stem: String,
    reason: String,
}

/// The letters the ledger holds back, by kind.
#[derive(Default)]
struct HeldBack {
    in_doubt: Vec<Held>,
    failed: Vec<Held>,
    changed: Vec<Held>,
}

/// Reports the letters the ledger says not to send, and counts them. Letters `--retry-failed`
/// leaves alone are only counted.
pub fn report_skips(rerun: &Rerun<'_>, items: &[Item<'_>], tally: &mut Tally, each: bool) {
    let mut held = HeldBack::default();
    for item in items {
        let stem = item.stem.clone();
        match &item.decision {
            None | Some(Decision::Send(_)) => {}
            Some(Decision::NotRetried { .. }) => tally.left_alone += 1,
            Some(Decision::Skip { state }) => {
                tally.done += 1;
                if rerun.config.verbose {
                    println!("skipped  {stem}  already {state}");
                }
            }
            Some(Decision::SkipInDoubt { message_id, reason }) => held.in_doubt.push(Held {
                stem,
                reason: format!(
                    "{} (Message-ID {})",
                    reason.as_deref().unwrap_or("may have arrived"),
                    message_id.as_deref().unwrap_or("unknown")
                ),
            }),
            Some(Decision::SkipFailed { reason }) => held.failed.push(Held {
                stem,
                reason: reason
                    .as_deref()
                    .unwrap_or("no reason recorded")
                    .to_string(),
            }),
            Some(Decision::Changed { state }) => held.changed.push(Held {
                stem,
                reason: format!(
                    "the letter changed since it was {}",
                    match state {
                        State::Sending | State::InDoubt => "sent (in doubt)".to_string(),
                        s => s.to_string(),
                    }
                ),
            }),
        }
    }
    tally.in_doubt += held.in_doubt.len();
    tally.failed += held.failed.len();
    tally.changed += held.changed.len();
    print_held(rerun, &held, each);
}

/// Says what the ledger holds back: each letter with the command that deals with exactly it
/// when few (or `each`), else a count per reason.
fn print_held(rerun: &Rerun<'_>, held: &HeldBack, each: bool) {
    let each = |n: usize| each || n <= SCREENFUL;
    let only = |h: &Held| Selection::Only(vec![h.stem.clone()]);
    if each(held.in_doubt.len()) {
        for h in &held.in_doubt {
            eprintln!(
                "appeal: in doubt: {}: {}; not re-sent: ask the recipient; if it arrived: {}; if \
                 not, re-send it with the same Message-ID: {}",
                h.stem,
                h.reason,
                rerun.line("mark delivered", &[], &only(h)),
                rerun.line("send", &["--resend-in-doubt"], &only(h))
            );
        }
    } else {
        print_grouped("in doubt, not re-sent", rerun, &held.in_doubt);
    }
    if each(held.failed.len()) {
        for h in &held.failed {
            eprintln!(
                "appeal: failed before: {}: {}; not retried: fix the cause, then: {}",
                h.stem,
                h.reason,
                rerun.line("send", &["--retry-failed"], &only(h))
            );
        }
    } else {
        print_grouped("failed before, not retried", rerun, &held.failed);
    }
    if each(held.changed.len()) {
        for h in &held.changed {
            eprintln!(
                "appeal: changed: {}: {}: use --resend to send it again ({})",
                h.stem,
                h.reason,
                rerun.line("send", &["--resend"], &only(h))
            );
        }
    } else {
        print_grouped("changed since sent, not sent", rerun, &held.changed);
    }
}

/// Distinct reasons shown for a kind of letter held back in a large run.
const REASONS: usize = 10;

/// Many letters held back the same way: how many, for which reasons (each in full, the
/// commonest first), and where to see them one by one.
fn print_grouped(kind: &str, rerun: &Rerun<'_>, held: &[Held]) {
    let mut reasons: Vec<(&str, usize)> = Vec::new();
    for h in held {
        match reasons.iter_mut().find(|(r, _)| *r == h.reason) {
            Some((_, n)) => *n += 1,
            None => reasons.push((&h.reason, 1)),
        }
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "appeal: {kind}: {} letters ({} lists them):",
        held.len(),
        rerun.line("status", &["--list"], &Selection::AsRun)
    );
    for (reason, n) in reasons.iter().take(REASONS) {
        let _ = writeln!(err, "  {n} × {reason}");
    }
    if reasons.len() > REASONS {
        let rest: usize = reasons[REASONS..].iter().map(|(_, n)| n).sum();
        let _ = writeln!(
            err,
            "  and {rest} letter{} for {} other reasons",
            plural(rest),
            reasons.len() - REASONS
        );
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
/// and what to do next (`next`, each a line of its own).
pub fn print_end(config: &Config, tally: &Tally, end: &End, next: &[String]) -> Result<()> {
    if let Some(why) = &end.broken {
        eprintln!(
            "appeal: error: sending stopped: the ledger cannot be written, so nothing more was \
             sent: {why}"
        );
    } else if end.interrupt.is_set() && tally.reached == 0 {
        eprintln!(
            "appeal: interrupted: nothing sent; {} letter{} not started",
            tally.not_started,
            plural(tally.not_started)
        );
    } else if end.interrupt.is_set() {
        eprintln!(
            "appeal: interrupted: {} letter{} not started",
            tally.not_started,
            plural(tally.not_started)
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
    for line in next {
        writeln!(out, "Next: {line}")?;
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
        left_alone,
        reached: _,
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
    if *left_alone > 0 {
        extra.push_str(&format!(
            ", {left_alone} left alone (neither failed nor deferred)"
        ));
    }
    format!(
        "{sent} sent, {written} written, {failed} failed, {deferred} deferred, {in_doubt} in doubt{extra}."
    )
}
