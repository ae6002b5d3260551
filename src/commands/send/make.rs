//! Pass 2 of `appeal send`: renders the letters again, makes their PDFs and messages a chunk at
//! a time, writes and records each paper letter, and hands each email to the SMTP sessions
//! through the outbox while they send; or, for a dry run, writes everything to disk.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use rayon::prelude::*;

use crate::commands::send::prepare::{Item, Job};
use crate::commands::send::record::{Recorder, RunLedger, Tracked};
use crate::commands::send::report::{self, PaperTally, Progress, Tally};
use crate::config::Config;
use crate::diag::Problems;
use crate::email::delivery;
use crate::email::message::{self, Email};
use crate::email::smtp::{Secret, SmtpSettings};
use crate::exit::Exit;
use crate::letter::Letter;
use crate::term::plural;

/// Letters whose PDFs and messages are made together, in parallel; also how many built
/// messages may wait for a session.
const CHUNK: usize = 64;

/// A letter made: its PDF, and its message if it travels by email.
struct Made {
    pdf: Vec<u8>,
    email: Option<Email>,
}

/// The PDF of one letter.
pub fn pdf_of(job: &Job<'_>, letter: &Letter) -> Result<Vec<u8>> {
    let (_, pdfs) = job.maker.make_chunk(&[letter])?;
    pdfs.into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("internal: no PDF made for {}", letter.key.file_stem()))?
}

/// Makes the PDFs and messages of a chunk of letters, in parallel, in order.
fn make_chunk(job: &Job<'_>, chunk: &[(&Item<'_>, &Letter)]) -> Result<Vec<Made>> {
    let letters: Vec<&Letter> = chunk.iter().map(|(_, l)| *l).collect();
    let (_, pdfs) = job.maker.make_chunk(&letters)?;
    chunk
        .par_iter()
        .zip(pdfs)
        .map(|((item, letter), pdf)| {
            let pdf = pdf?;
            let email = match &item.headers {
                Some(h) => Some(message::assemble(letter, h, &pdf, job.ctx)?),
                None => None,
            };
            Ok(Made { pdf, email })
        })
        .collect()
}

/// `make` asked to stop: not an error.
#[derive(Debug)]
struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped")
    }
}

impl std::error::Error for Stopped {}

/// Pass 2: renders the letters again, in pass 1's order, and hands `make` those of `items`
/// that `pick` selects, each with its letter, [`CHUNK`] at a time, until `make` says `false`.
/// A letter that is not the one pass 1 saw (the signatories file was edited meanwhile) stops
/// the run with an error.
pub fn for_each_to_make<'i, 'a>(
    config: &Config,
    items: &'i [Item<'a>],
    pick: impl Fn(&Item<'a>) -> bool,
    mut make: impl FnMut(&[(&'i Item<'a>, &Letter)]) -> Result<bool>,
) -> Result<()> {
    // Rendering stops after the last letter to make: a finished campaign renders none again.
    let Some(last) = items.iter().rposition(&pick) else {
        return Ok(());
    };
    let mut next = items.iter();
    let changed = || {
        anyhow::anyhow!(
            "the letters changed since they were checked (was the signatories file edited?); \
             run `appeal send` again"
        )
    };
    let result = crate::letter::run::for_each_chunk(config, &mut Problems::default(), |letters| {
        let mut picked = Vec::new();
        for letter in &letters {
            let item = next.next().ok_or_else(changed)?;
            if item.stem != letter.key.file_stem() {
                return Err(changed());
            }
            if pick(item) {
                picked.push((item, letter));
            }
        }
        for part in picked.chunks(CHUNK) {
            if !make(part)? {
                return Err(Stopped.into());
            }
        }
        let seen = items.len() - next.len();
        if seen > last {
            return Err(Stopped.into());
        }
        Ok(())
    });
    match result {
        Err(e) if e.is::<Stopped>() => Ok(()),
        // Every letter to make was made, so the render ended after the last one.
        Ok(()) => Err(changed()),
        other => other,
    }
}

/// `--dry-run`: writes every message as a `.eml` file under `<out>/dry-run/` and every paper
/// letter's PDF, and sends nothing.
pub fn dry_run(job: &Job<'_>, items: &[Item<'_>]) -> Result<Exit> {
    let config = job.config;
    let dir = config.out_dir.join("dry-run");
    let (mut emails, mut pdfs) = (0, 0);
    // Files are written from here on: Ctrl-C stops between chunks.
    if !job.interrupt.start_sending() {
        return Ok(Exit::Interrupted);
    }
    for_each_to_make(
        config,
        items,
        |_| true,
        |chunk| {
            if job.interrupt.is_set() {
                return Ok(false);
            }
            for ((item, _), made) in chunk.iter().zip(make_chunk(job, chunk)?) {
                match &made.email {
                    Some(e) => {
                        let rel = PathBuf::from(format!("dry-run/{}.eml", item.stem));
                        crate::files::write_in_folder(&config.out_dir, &rel, &e.eml(), false)?;
                        emails += 1;
                    }
                    None => {
                        let rel = PathBuf::from(format!("{}.pdf", item.stem));
                        crate::files::write_in_folder(&config.out_dir, &rel, &[&made.pdf], true)?;
                        pdfs += 1;
                    }
                }
            }
            Ok(true)
        },
    )?;
    if job.interrupt.is_set() {
        eprintln!(
            "appeal: interrupted: nothing sent; {emails} message{} and {pdfs} PDF{} written \
             before the stop",
            plural(emails),
            plural(pdfs)
        );
        return Ok(Exit::Interrupted);
    }
    if !config.quiet {
        println!(
            "Dry run: {emails} message{} written under {}, {pdfs} PDF{} under {}. Nothing was sent.",
            plural(emails),
            dir.display(),
            plural(pdfs),
            config.out_dir.display()
        );
        println!("Next: read the .eml files, then `appeal send --smtp URL` to send them.");
    }
    Ok(Exit::Success)
}

/// Makes the letters on a thread of their own while the SMTP sessions send the emails it
/// hands over, and counts the emails' outcomes into `tally`. Returns what became of the paper
/// letters, and why the sessions stopped early, if they did.
pub fn make_and_send(
    job: &Job<'_>,
    ledger: &Arc<RunLedger>,
    items: &[Item<'_>],
    (settings, password): (SmtpSettings, Option<Secret>),
    tally: &mut Tally,
) -> Result<(PaperTally, Option<String>)> {
    // The emails to send, in order: the sessions know them by their number in this list.
    let emails: Vec<&Item<'_>> = items
        .iter()
        .filter(|i| i.by_email() && i.attempt().is_some())
        .collect();
    let hooks = Arc::new(Recorder::new(
        Arc::clone(ledger),
        tracked(&emails)?,
        job.flags,
        Progress::new(job.config, &emails, job.each),
    ));
    // Two chunks may wait: one being sent while the next is made.
    let (outbox, inbox) = delivery::outbox(2 * CHUNK);
    let (paper, emailed) = std::thread::scope(|scope| {
        let maker = std::thread::Builder::new()
            .name("appeal-make".into())
            .spawn_scoped(scope, || {
                make_and_hand_over(job, ledger, items, Some(outbox))
            })?;
        let emailed = delivery::deliver(&settings, password, emails.len(), inbox, hooks.clone());
        let paper = maker
            .join()
            .map_err(|_| anyhow::anyhow!("internal: the letter maker panicked"))?;
        anyhow::Ok((paper, emailed))
    })?;
    hooks.inner().finish();
    let (paper, emailed) = (paper?, emailed?);
    // Sending stopped early (the server, the ledger, Ctrl-C): a letter never started is so.
    let stopping = ledger.stopping() || paper.error.is_some() || emailed.untried.is_some();
    tally.count_emails(&emailed.outcomes, stopping, |index| hooks.started(index));
    report::report_untried(&emailed);
    Ok((paper, emailed.stopped))
}

/// The emails as the ledger knows them, each with the attempt the ledger allowed.
fn tracked(emails: &[&Item<'_>]) -> Result<Vec<Tracked>> {
    emails
        .iter()
        .map(|item| {
            let (Some(attempt), Ok(key)) = (item.attempt(), item.key()) else {
                anyhow::bail!("internal: no ledger key for {}", item.stem);
            };
            Ok(Tracked {
                key: key.clone(),
                hash: item.hash.clone(),
                attempt: Some(attempt.clone()),
            })
        })
        .collect()
}

/// Makes the letters of `items` the ledger lets go, a chunk at a time: writes each paper
/// letter's PDF and records it in the ledger, and hands each email to the sessions through
/// `outbox` (numbered in order; without one, emails are not made). Stops starting chunks on
/// Ctrl-C, when the ledger breaks, or when sending has stopped.
pub fn make_and_hand_over(
    job: &Job<'_>,
    ledger: &RunLedger,
    items: &[Item<'_>],
    outbox: Option<delivery::Outbox>,
) -> Result<PaperTally> {
    let with_email = outbox.is_some();
    let pick = |i: &Item<'_>| i.attempt().is_some() && (!i.by_email() || with_email);
    let on_paper = items.iter().filter(|i| pick(i) && !i.by_email()).count();
    let mut paper = PaperTally::default();
    let mut next_email = 0usize;
    let made = for_each_to_make(job.config, items, pick, |chunk| {
        if ledger.stopping() || outbox.as_ref().is_some_and(delivery::Outbox::stopped) {
            return Ok(false);
        }
        let made = make_chunk(job, chunk)?;
        write_paper(job.config, job.each, ledger, chunk, &made, &mut paper)?;
        Ok(match &outbox {
            Some(outbox) => hand_over(outbox, made, &mut next_email),
            None => true,
        })
    });
    if let Err(e) = made {
        paper.error = Some(format!("{e:#}"));
    }
    paper.not_started += on_paper - paper.seen;
    let _ = std::io::stdout().flush();
    Ok(paper)
}

/// Writes the chunk's paper letters side by side, then records them in order.
fn write_paper(
    config: &Config,
    each: bool,
    ledger: &RunLedger,
    chunk: &[(&Item<'_>, &Letter)],
    made: &[Made],
    paper: &mut PaperTally,
) -> Result<()> {
    let paths: Vec<PathBuf> = chunk
        .iter()
        .map(|(i, _)| config.out_dir.join(format!("{}.pdf", i.stem)))
        .collect();
    let writes: Vec<Option<Result<()>>> = chunk
        .par_iter()
        .zip(made)
        .zip(&paths)
        .map(|(((item, _), m), path)| {
            let rel = path.strip_prefix(&config.out_dir).unwrap_or(path);
            (!item.by_email())
                .then(|| crate::files::write_in_folder(&config.out_dir, rel, &[&m.pdf], true))
        })
        .collect();
    for (((item, _), path), written) in chunk.iter().zip(&paths).zip(writes) {
        let Some(written) = written else { continue };
        paper.seen += 1;
        if ledger.stopping() {
            paper.not_started += 1;
            continue;
        }
        record_paper(config.quiet || !each, ledger, item, path, written, paper)?;
    }
    Ok(())
}

/// Records one paper letter in the ledger: written (and says so unless `silent`), or failed.
fn record_paper(
    silent: bool,
    ledger: &RunLedger,
    item: &Item<'_>,
    path: &std::path::Path,
    written: Result<()>,
    paper: &mut PaperTally,
) -> Result<()> {
    let key = item.key()?;
    match written {
        Ok(()) => {
            if ledger
                .write(|l| l.mark_written(key, path, &item.hash))
                .is_err()
            {
                // Written but not recorded: the next run writes it again, harmlessly.
                paper.not_started += 1;
                return Ok(());
            }
            paper.written += 1;
            if !silent {
                // A closed stdout must not stop the run; the summary will report it.
                let _ = writeln!(
                    std::io::stdout(),
                    "written  {}  {}",
                    item.stem,
                    path.display()
                );
            }
        }
        Err(e) => {
            let reason = format!("{e:#}");
            // Recording the failure may fail too; the ledger error then stops the run.
            let _ = ledger.write(|l| l.mark_failed(key, &reason));
            paper.failed += 1;
            eprintln!("appeal: failed: {}: {reason}", item.stem);
        }
    }
    Ok(())
}

/// Hands the chunk's emails to the sessions, numbered in order; `false` once sending stopped.
fn hand_over(outbox: &delivery::Outbox, made: Vec<Made>, next: &mut usize) -> bool {
    for email in made.into_iter().filter_map(|m| m.email) {
        if !outbox.put(*next, email) {
            return false;
        }
        *next += 1;
    }
    true
}
