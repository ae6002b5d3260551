//! `appeal send`: email the letters whose channel is email, write the PDF of the others, and
//! say what happened to each. `--dry-run` writes the messages as `.eml` files instead.

pub mod record;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::config::Config;
use crate::diag::Problems;
use crate::email::delivery::{self, Hooks, Outcome};
use crate::email::message::{self, Email, FileAttachment, Headers, MailContext};
use crate::email::smtp::{self, SmtpFlags};
use crate::exit::Exit;
use crate::ledger::{self, Decision, Flags, Key, Ledger, State};
use crate::letter::Letter;
use crate::letter::plan::{self, Delivery};
use crate::paper::maker::PdfMaker;
use crate::term::{plural, table};
use record::{CampaignLock, Interrupt, Recorder, RunLedger, Tracked};

/// What `appeal send` was asked to do.
#[derive(Debug, Default, Clone)]
pub struct SendOptions {
    pub yes: bool,
    pub dry_run: bool,
    pub smtp: SmtpFlags,
    /// `--resend`: deliver again on purpose, with a new Message-ID.
    pub resend: bool,
    /// `--resend-in-doubt`: re-send letters in doubt with their recorded Message-ID.
    pub resend_in_doubt: bool,
}

/// Letters whose PDFs and messages are made together, in parallel; also how many built
/// messages may wait for a session.
const CHUNK: usize = 64;

/// One letter, checked and ready to be made: its plan entry, its email's headers if it
/// travels by email, its ledger key and content hash. The letter itself is rendered again
/// when its turn comes (see [`for_each_to_make`]), so a run holds these, not the letters.
struct Item<'a> {
    delivery: &'a Delivery,
    stem: String,
    headers: Option<Headers>,
    /// Its ledger key and content hash, and what the ledger says to do with it (not for dry runs).
    key: Option<Key>,
    hash: String,
    verdict: Verdict,
}

/// What the ledger says about one letter of this run.
enum Verdict {
    /// Send or write it; the attempt is what `mark_pending` spends (email).
    Go(Option<ledger::Attempt>),
    /// Already sent or written, same content.
    Done(State),
    /// May have arrived: reported, not re-sent without --resend-in-doubt.
    InDoubt {
        message_id: Option<String>,
        reason: Option<String>,
    },
    /// Failed permanently before: reported, not retried without --resend.
    Failed(Option<String>),
    /// Delivered (or in doubt) with other content: reported, not re-sent without --resend.
    Changed(State),
}

fn fail(message: impl std::fmt::Display) -> Exit {
    eprintln!("appeal: error: {message}");
    Exit::Invalid
}

/// Sends (or, with `--dry-run`, writes) every selected letter.
pub fn command(config: &Config, opts: &SendOptions) -> Result<Exit> {
    let plan = plan::plan(config);
    let by_email: Vec<&str> = plan
        .iter()
        .filter(|d| d.by_email())
        .map(|d| d.id.as_str())
        .collect();

    let raw_smtp = config.settings.raw.smtp.as_ref();
    let settings = if opts.dry_run {
        None
    } else {
        match smtp::resolve(&opts.smtp, raw_smtp, &config.root) {
            Ok(s) => s,
            Err(e) => return Ok(fail(format!("{e:#}"))),
        }
    };
    if !opts.dry_run && !by_email.is_empty() && settings.is_none() {
        return Ok(fail(format!(
            "the letters to {} would go by email, but no SMTP server is configured.\n  \
             Pass --smtp URL (e.g. --smtp smtps://you%40example.org@mail.example.org), or set \
             url under [smtp] in appeal.toml.\n  To see the messages without sending anything: \
             appeal send --dry-run",
            by_email.join(", ")
        )));
    }
    let account = match &settings {
        Some(s) => s.from.clone(),
        None => raw_smtp
            .and_then(|r| r.from.as_ref())
            .map(|f| f.get_ref().clone()),
    };
    if !opts.dry_run && config.signatories.is_some() && !by_email.is_empty() && account.is_none() {
        return Ok(fail(
            "sending for many signatories needs a staff account as From: set from under [smtp] \
             in appeal.toml (each signatory becomes Reply-To)",
        ));
    }
    let mut attachments = Vec::new();
    for path in &config.campaign.attachments {
        match FileAttachment::load(path) {
            Ok(a) => attachments.push(a),
            Err(e) => return Ok(fail(format!("{e:#}"))),
        }
    }
    let ctx = MailContext {
        account,
        date: message::system_time(&config.now),
        attachments,
        cc: if config.campaign.cc_email {
            config.campaign.copies_to.clone()
        } else {
            Vec::new()
        },
    };
    let maker = PdfMaker::new(config)?;

    // Pass 1: render and check every letter before anything leaves (a character the font
    // lacks, a bad header: nothing is sent), keeping what the run needs of each, not the
    // letter. Its PDF and message are made in pass 2, as the sending goes.
    let by_recipient: std::collections::HashMap<&str, &Delivery> =
        plan.iter().map(|d| (d.id.as_str(), d)).collect();
    let today = crate::model::locale::format_date;
    let mut problems = Problems::default();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    crate::letter::run::for_each_chunk(config, &mut problems, |letters| {
        let checked: Vec<Result<Item<'_>, String>> = letters
            .par_iter()
            .map(|letter| {
                let stem = letter.key.file_stem();
                let Some(d) = by_recipient.get(letter.key.recipient.as_str()).copied() else {
                    return Err(format!("{stem}: no delivery planned for this recipient"));
                };
                maker
                    .check(letter)
                    .map_err(|e| format!("{stem}: cannot make the PDF: {e:#}"))?;
                let headers = match d.by_email() {
                    true => Some(
                        message::headers(letter, &d.destination, &ctx)
                            .map_err(|e| format!("{e:#}"))?,
                    ),
                    false => None,
                };
                // What the ledger needs (not for a dry run).
                let (key, hash) = match opts.dry_run {
                    true => (None, String::new()),
                    false => (
                        Some(Key::new(
                            &letter.key,
                            &ledger::sender_identity(&letter.sender),
                            d.channel,
                        )),
                        record::letter_hash(
                            letter,
                            d.channel,
                            &d.destination,
                            &today(&letter.language, config.now.date()),
                            &ctx.attachments,
                        ),
                    ),
                };
                Ok(Item {
                    delivery: d,
                    stem,
                    headers,
                    key,
                    hash,
                    verdict: Verdict::Go(None),
                })
            })
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
        eprintln!("appeal: nothing was sent");
        return Ok(Exit::Invalid);
    }
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("appeal: error: {e}");
        }
        eprintln!("appeal: nothing was sent");
        return Ok(Exit::Invalid);
    }

    if !config.quiet {
        print_plan(config, &items, settings.as_ref(), opts.dry_run)?;
    }
    let flags = Flags {
        resend: opts.resend,
        resend_in_doubt: opts.resend_in_doubt,
        retry_failed: false,
    };
    let run = Run {
        config,
        maker: &maker,
        ctx: &ctx,
        flags,
    };
    if opts.dry_run {
        return dry_run(&run, &items);
    }

    // The ledger says what is left to do. Nothing is sent without it, and one run at a time.
    let ledger = match Ledger::open(&config.root) {
        Ok(l) => l,
        Err(e) => return Ok(fail(format!("{e:#}"))),
    };
    let lock = match CampaignLock::acquire(&config.root) {
        Ok(l) => l,
        Err(e) => return Ok(fail(format!("{e:#}"))),
    };
    for item in &mut items {
        let Some(key) = &item.key else {
            bail!("internal: no ledger key for {}", item.stem);
        };
        let decision = match ledger.decide(key, &item.hash, flags) {
            Ok(d) => d,
            Err(e) => return Ok(fail(format!("{e:#}"))),
        };
        item.verdict = match decision {
            Decision::Send(attempt) => {
                if let Some(headers) = &mut item.headers {
                    let wanted = match attempt.message_id_reuse() {
                        Some(id) => id.to_string(),
                        None if attempt.number() > 1 => {
                            record::resend_message_id(&headers.message_id, attempt.number())
                        }
                        None => headers.message_id.clone(),
                    };
                    if wanted != headers.message_id {
                        match headers.with_message_id(&wanted) {
                            Ok(h) => *headers = h,
                            Err(e) => return Ok(fail(format!("{e:#}"))),
                        }
                    }
                }
                Verdict::Go(Some(attempt))
            }
            Decision::Skip { state } => Verdict::Done(state),
            Decision::SkipInDoubt { message_id, reason } => Verdict::InDoubt { message_id, reason },
            Decision::SkipFailed { reason } => Verdict::Failed(reason),
            Decision::Changed { state } => Verdict::Changed(state),
        };
    }
    let emails_to_send = items
        .iter()
        .filter(|i| i.headers.is_some() && matches!(i.verdict, Verdict::Go(_)))
        .count();

    // Ask first: nothing leaves the machine without an explicit yes. Nothing left to send:
    // no question, no connection.
    let Some(settings) = settings.filter(|_| emails_to_send > 0) else {
        return write_and_report(&run, items, None, ledger, lock);
    };
    let emails_planned = emails_to_send;
    if !opts.yes {
        let question = format!(
            "Send {emails_planned} email{} via {}? [y/N] ",
            plural(emails_planned),
            settings.endpoint.host
        );
        if !std::io::stdin().is_terminal() {
            return Ok(fail(format!(
                "standard input is not a terminal, so I cannot ask before sending \
                 {emails_planned} email{} via {}; add --yes to send",
                plural(emails_planned),
                settings.endpoint.host
            )));
        }
        eprint!("{question}");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
            eprintln!("Nothing was sent.");
            return Ok(Exit::Success);
        }
    }
    let password = match smtp::password(&settings) {
        Ok(p) => p,
        Err(e) => return Ok(fail(format!("{e:#}"))),
    };
    write_and_report(&run, items, Some((settings, password)), ledger, lock)
}

fn print_plan(
    config: &Config,
    items: &[Item<'_>],
    settings: Option<&smtp::SmtpSettings>,
    dry_run: bool,
) -> Result<()> {
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
    let mut out = std::io::stdout().lock();
    let how = match (dry_run, settings) {
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
    };
    writeln!(
        out,
        "Campaign `{}`: {} letter{} ({how}).\n",
        config.campaign.name,
        items.len(),
        plural(items.len())
    )?;
    out.write_all(table(&["LETTER", "CHANNEL", "DESTINATION", "LANG"], &rows).as_bytes())?;
    writeln!(out)?;
    Ok(())
}

/// What every letter of a run is made with.
struct Run<'a> {
    config: &'a Config,
    maker: &'a PdfMaker,
    ctx: &'a MailContext,
    flags: Flags,
}

/// A letter made: its PDF, and its message if it travels by email.
struct Made {
    pdf: Vec<u8>,
    email: Option<Email>,
}

/// Makes the PDFs and messages of a chunk of letters, in parallel, in order.
fn make_chunk(run: &Run<'_>, chunk: &[(&Item<'_>, &Letter)]) -> Result<Vec<Made>> {
    let letters: Vec<&Letter> = chunk.iter().map(|(_, l)| *l).collect();
    let (_, pdfs) = run.maker.make_chunk(&letters)?;
    chunk
        .par_iter()
        .zip(pdfs)
        .map(|((item, letter), pdf)| {
            let pdf = pdf?;
            let email = match &item.headers {
                Some(h) => Some(message::assemble(letter, h, &pdf, run.ctx)?),
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
fn for_each_to_make<'i, 'a>(
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

fn dry_run(run: &Run<'_>, items: &[Item<'_>]) -> Result<Exit> {
    let config = run.config;
    let dir = config.out_dir.join("dry-run");
    let (mut emails, mut pdfs) = (0, 0);
    for_each_to_make(
        config,
        items,
        |_| true,
        |chunk| {
            for ((item, _), made) in chunk.iter().zip(make_chunk(run, chunk)?) {
                match &made.email {
                    Some(e) => {
                        crate::files::write_in_folder(
                            &dir.join(format!("{}.eml", item.stem)),
                            &e.eml(),
                            false,
                        )?;
                        emails += 1;
                    }
                    None => {
                        let path = config.out_dir.join(format!("{}.pdf", item.stem));
                        crate::files::write_in_folder(&path, &[&made.pdf], true)?;
                        pdfs += 1;
                    }
                }
            }
            Ok(true)
        },
    )?;
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

/// Reports each letter as its outcome arrives (a rated run can take minutes) and keeps a copy
/// of each message the server accepted under `<out>/sent/`.
struct Progress {
    dir: PathBuf,
    stems: Vec<String>,
    destinations: Vec<String>,
    quiet: bool,
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

/// How many letters ended which way.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    written: usize,
    failed: usize,
    deferred: usize,
    in_doubt: usize,
    done: usize,
    changed: usize,
    not_started: usize,
}

/// Reports the letters the ledger says not to send, and counts them.
fn report_skips(config: &Config, items: &[Item<'_>], tally: &mut Tally) {
    for item in items {
        let stem = &item.stem;
        match &item.verdict {
            Verdict::Go(_) => {}
            Verdict::Done(state) => {
                tally.done += 1;
                if config.verbose {
                    println!("skipped  {stem}  already {state}");
                }
            }
            Verdict::InDoubt { message_id, reason } => {
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
            Verdict::Failed(reason) => {
                tally.failed += 1;
                eprintln!(
                    "appeal: failed before: {stem}: {}; not retried: fix the cause, then: appeal \
                     send --resend --only {}",
                    reason.as_deref().unwrap_or("no reason recorded"),
                    item.delivery.id
                );
            }
            Verdict::Changed(state) => {
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

fn write_and_report(
    run: &Run<'_>,
    items: Vec<Item<'_>>,
    smtp: Option<(smtp::SmtpSettings, Option<smtp::Secret>)>,
    ledger: Ledger,
    lock: CampaignLock,
) -> Result<Exit> {
    let config = run.config;
    let quiet = config.quiet;
    let mut tally = Tally::default();
    report_skips(config, &items, &mut tally);
    let interrupt = Interrupt::install()?;
    let ledger = Arc::new(RunLedger::new(ledger, interrupt.clone()));
    // The emails to send, in order: the sessions know them by their number in this list.
    let with_email: Vec<&Item<'_>> = items
        .iter()
        .filter(|i| i.headers.is_some() && matches!(i.verdict, Verdict::Go(_)))
        .filter(|_| smtp.is_some())
        .collect();
    let mut stopped = None;
    let paper = match smtp {
        None => make_and_hand_over(run, &ledger, &items, None)?,
        Some((settings, password)) => {
            let mut tracked = Vec::with_capacity(with_email.len());
            for item in &with_email {
                let (Verdict::Go(attempt), Some(key)) = (&item.verdict, &item.key) else {
                    bail!("internal: no ledger key for {}", item.stem);
                };
                tracked.push(Tracked {
                    key: key.clone(),
                    hash: item.hash.clone(),
                    attempt: attempt.clone(),
                });
            }
            let progress = Progress {
                dir: config.out_dir.join("sent"),
                stems: with_email.iter().map(|i| i.stem.clone()).collect(),
                destinations: with_email
                    .iter()
                    .map(|i| i.delivery.destination.clone())
                    .collect(),
                quiet,
            };
            let hooks = Arc::new(Recorder::new(
                Arc::clone(&ledger),
                tracked,
                run.flags,
                progress,
            ));
            // Two chunks may wait: one being sent while the next is made.
            let (outbox, inbox) = delivery::outbox(2 * CHUNK);
            let (paper, report) = std::thread::scope(|scope| {
                let maker = std::thread::Builder::new()
                    .name("appeal-make".into())
                    .spawn_scoped(scope, || {
                        make_and_hand_over(run, &ledger, &items, Some(outbox))
                    })?;
                let report =
                    delivery::deliver(&settings, password, with_email.len(), inbox, hooks.clone());
                let paper = maker
                    .join()
                    .map_err(|_| anyhow::anyhow!("internal: the letter maker panicked"))?;
                anyhow::Ok((paper, report))
            })?;
            let (paper, report) = (paper?, report?);
            let stopping = interrupt.is_set() || ledger.broken().is_some() || paper.error.is_some();
            for (index, outcome) in report.outcomes.iter().enumerate() {
                match outcome {
                    Outcome::Sent { .. } => tally.sent += 1,
                    Outcome::Failed { .. } => tally.failed += 1,
                    Outcome::Deferred { .. } if stopping && !hooks.started(index) => {
                        tally.not_started += 1
                    }
                    Outcome::Deferred { .. } => tally.deferred += 1,
                    Outcome::InDoubt { .. } => tally.in_doubt += 1,
                }
            }
            // Letters never tried because sending stopped: one line for all of them.
            match &report.untried {
                Some((n, Outcome::Failed { reason })) => {
                    eprintln!("appeal: failed: {n} email{} not sent: {reason}", plural(*n));
                }
                Some((n, Outcome::Deferred { reason })) if report.stopped.is_none() => {
                    eprintln!(
                        "appeal: deferred: {n} email{} not sent: {reason}",
                        plural(*n)
                    );
                }
                _ => {}
            }
            stopped = report.stopped;
            paper
        }
    };
    tally.written += paper.written;
    tally.failed += paper.failed;
    tally.not_started += paper.not_started;
    let made_error = paper.error;
    let mut out = std::io::stdout().lock();
    // Every mark on disk before the lock goes (a broken ledger is not written again).
    if ledger.broken().is_none() {
        let _ = ledger.write(|l| l.flush());
    }
    drop(lock);
    let broken = ledger.broken();
    if let Some(why) = &broken {
        eprintln!(
            "appeal: error: sending stopped: the ledger cannot be written, so nothing more was \
             sent: {why}"
        );
    } else if interrupt.is_set() {
        eprintln!(
            "appeal: interrupted: {} letter(s) not started",
            tally.not_started
        );
    } else if let Some(why) = stopped.as_ref().or(made_error.as_ref()) {
        eprintln!("appeal: error: sending stopped: {why}");
    }
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
    if !quiet {
        let mut extra = String::new();
        if done > 0 {
            extra.push_str(&format!(", {done} already sent or written"));
        }
        if changed > 0 {
            extra.push_str(&format!(", {changed} changed since sent"));
        }
        if not_started > 0 {
            extra.push_str(&format!(", {not_started} not started"));
        }
        writeln!(
            out,
            "\n{sent} sent, {written} written, {failed} failed, {deferred} deferred, {in_doubt} in doubt{extra}."
        )?;
        if sent > 0 {
            writeln!(
                out,
                "Copies of the sent messages are in {}.",
                config.out_dir.join("sent").display()
            )?;
        }
        if failed + changed > 0 {
            writeln!(
                out,
                "Next: fix what the failures above name, then run `appeal send --resend --only ID` for those letters."
            )?;
        } else if deferred + in_doubt + not_started > 0 {
            writeln!(
                out,
                "Next: run `appeal send` again later for the rest; check with the recipient before re-sending one in doubt (--resend-in-doubt)."
            )?;
        } else if written > 0 {
            writeln!(
                out,
                "Next: print the PDFs in {} and post them.",
                config.out_dir.display()
            )?;
        }
    }
    Ok(if interrupt.is_set() {
        Exit::Interrupted
    } else if failed + changed > 0 || stopped.is_some() || made_error.is_some() || broken.is_some()
    {
        Exit::Failed
    } else if deferred + in_doubt + not_started > 0 {
        Exit::TempFail
    } else {
        Exit::Success
    })
}

/// What the maker did with the paper letters, and why it stopped early, if it did.
#[derive(Default)]
struct MakerTally {
    written: usize,
    failed: usize,
    not_started: usize,
    error: Option<String>,
}

/// Makes the letters of `items` the ledger lets go, a chunk at a time: writes each paper
/// letter's PDF and records it in the ledger, and hands each email to the sessions through
/// `outbox` (numbered in order; without one, emails are not made). Stops starting chunks on
/// Ctrl-C, when the ledger breaks, or when sending has stopped.
fn make_and_hand_over(
    run: &Run<'_>,
    ledger: &RunLedger,
    items: &[Item<'_>],
    outbox: Option<delivery::Outbox>,
) -> Result<MakerTally> {
    let config = run.config;
    let with_email = outbox.is_some();
    let pick =
        |i: &Item<'_>| matches!(i.verdict, Verdict::Go(_)) && (i.headers.is_none() || with_email);
    let on_paper = items
        .iter()
        .filter(|i| pick(i) && i.headers.is_none())
        .count();
    let mut paper = MakerTally::default();
    let mut paper_seen = 0usize;
    let mut out = std::io::stdout();
    let mut next_email = 0usize;
    let made = for_each_to_make(config, items, pick, |chunk| {
        let stopping = ledger.interrupt.is_set()
            || ledger.broken().is_some()
            || outbox.as_ref().is_some_and(delivery::Outbox::stopped);
        if stopping {
            return Ok(false);
        }
        let made = make_chunk(run, chunk)?;
        // Paper first: the PDFs are written side by side, then recorded in order.
        let paths: Vec<PathBuf> = chunk
            .iter()
            .map(|(i, _)| config.out_dir.join(format!("{}.pdf", i.stem)))
            .collect();
        let writes: Vec<Option<Result<()>>> = chunk
            .par_iter()
            .zip(&made)
            .zip(&paths)
            .map(|(((item, _), m), path)| {
                item.headers
                    .is_none()
                    .then(|| crate::files::write_in_folder(path, &[&m.pdf], true))
            })
            .collect();
        for (((item, _), path), written) in chunk.iter().zip(&paths).zip(writes) {
            let Some(written) = written else { continue };
            paper_seen += 1;
            if ledger.interrupt.is_set() || ledger.broken().is_some() {
                paper.not_started += 1;
                continue;
            }
            let Some(key) = &item.key else {
                bail!("internal: no ledger key for {}", item.stem);
            };
            match written {
                Ok(()) => {
                    if ledger
                        .write(|l| l.mark_written(key, path, &item.hash))
                        .is_err()
                    {
                        // Written but not recorded: the next run writes it again, harmlessly.
                        paper.not_started += 1;
                        continue;
                    }
                    paper.written += 1;
                    if !config.quiet {
                        // A closed stdout must not stop the run; the summary will report it.
                        let _ = writeln!(out, "written  {}  {}", item.stem, path.display());
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
        }
        if let Some(outbox) = &outbox {
            for email in made.into_iter().filter_map(|m| m.email) {
                if !outbox.put(next_email, email) {
                    return Ok(false);
                }
                next_email += 1;
            }
        }
        Ok(true)
    });
    if let Err(e) = made {
        paper.error = Some(format!("{e:#}"));
    }
    paper.not_started += on_paper - paper_seen;
    let _ = out.flush();
    Ok(paper)
}
