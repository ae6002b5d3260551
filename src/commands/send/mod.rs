//! `appeal send`: email the letters whose channel is email, write the PDF of the others, and
//! say what happened to each. `--dry-run` writes the messages as `.eml` files instead.
//!
//! A letter moves through the files of this folder in order: [`prepare`] renders and checks
//! every letter and asks the ledger about it, [`make`] renders it again to make its PDF and
//! message and hands it over, [`record`] keeps the ledger as it goes, [`report`] says what
//! became of it; [`lock`] keeps one run at a time and hears Ctrl-C.

pub mod lock;
mod make;
mod next;
mod overview;
mod prepare;
pub mod record;
mod report;
mod test_to;

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};

use crate::commands::remembered;
use crate::config::Config;
use crate::email::message::{self, FileAttachment, MailContext};
use crate::email::smtp::{self, Secret, SmtpFlags, SmtpSettings};
use crate::exit::Exit;
use crate::ledger::{Flags, Ledger};
use crate::letter::plan::{self, Delivery};
use crate::paper::maker::PdfMaker;
use crate::term::plural;
use lock::{CampaignLock, Interrupt};
use next::{Left, Rerun, Standing};
use prepare::{Item, Job};
use record::RunLedger;
use report::{End, Tally};

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
    /// `--retry-failed`: deliver only the letters that failed or were deferred.
    pub retry_failed: bool,
    /// `--test-to ADDRESS`: one letter of the run to this address, recording nothing.
    pub test_to: Option<String>,
    /// `--list`: every letter, not only the counts.
    pub list: bool,
}

/// Says why the run cannot go as asked; nothing was sent.
fn refuse(e: anyhow::Error) -> Exit {
    eprintln!("appeal: error: {e:#}");
    Exit::Invalid
}

/// The files a run writes under the output folder, checked before the first letter goes: no
/// link in the way, no file where a folder must be (`--out FILE`).
fn check_output(config: &Config, items: &[Item<'_>], dry_run: bool) -> Result<()> {
    for item in items {
        let rel = match (item.headers.is_some(), dry_run) {
            (true, true) => format!("dry-run/{}.eml", item.stem),
            (true, false) => format!("sent/{}.eml", item.stem),
            (false, _) => format!("{}.pdf", item.stem),
        };
        crate::files::check_folders(&config.out_dir, std::path::Path::new(&rel))?;
    }
    Ok(())
}

/// Sends (or, with `--dry-run`, writes) every selected letter. A command line that names
/// neither signatories nor sender acts on the letters of the last run, and says so.
pub fn command(config: &Config, opts: &SendOptions) -> Result<Exit> {
    let recalled = match remembered::recall(config) {
        Ok(r) => r,
        Err(e) => return Ok(refuse(e)),
    };
    if let Some(r) = &recalled
        && !config.quiet
    {
        eprintln!("{}", r.note);
    }
    let config = recalled.as_ref().map_or(config, |r| &r.config);
    // From here until the first message may leave, Ctrl-C ends the run at once.
    let interrupt = Interrupt::install()?;
    let plan = plan::plan(config);
    let (settings, ctx) = match mail_context(config, opts, &plan) {
        Ok(mail) => mail,
        Err(e) => return Ok(refuse(e)),
    };
    let maker = PdfMaker::new(config)?;
    let mut job = Job {
        config,
        maker: &maker,
        ctx: &ctx,
        flags: Flags {
            resend: opts.resend,
            resend_in_doubt: opts.resend_in_doubt,
            retry_failed: opts.retry_failed,
        },
        each: false,
        interrupt,
    };
    let keep_no_ledger = opts.dry_run || opts.test_to.is_some();
    let Some(mut items) = prepare::check_letters(&job, &plan, keep_no_ledger)? else {
        return Ok(Exit::Invalid);
    };
    job.each = !config.quiet && (opts.list || config.verbose || items.len() <= overview::SCREENFUL);
    // Every folder a file of this run goes into, checked (and made) before anything is sent.
    if let Err(e) = check_output(config, &items, opts.dry_run) {
        return Ok(refuse(e));
    }
    if let (Some(address), Some(settings)) = (&opts.test_to, &settings) {
        return test_to::send(&job, &items, address, settings.clone(), opts.yes);
    }
    if opts.dry_run {
        if !config.quiet {
            overview::print(config, &items, None, true, job.each)?;
        }
        return make::dry_run(&job, &items);
    }
    let open = match prepare::consult_ledger(config, &mut items, job.flags) {
        Ok(consulted) => consulted,
        Err(e) => return Ok(refuse(e)),
    };
    if !config.quiet {
        let mut dead = crate::diag::Problems::default();
        crate::commands::check::bounced::warn(config, &open.0, &mut dead);
        crate::term::print_problems(&dead, false);
        overview::print(config, &items, settings.as_ref(), false, job.each)?;
    }
    // Nothing left to send: no question, no connection.
    let emails = prepare::emails_to_send(&items);
    let Some(settings) = settings.filter(|_| emails > 0) else {
        return deliver(&job, opts, items, None, open);
    };
    // Ask first: nothing leaves the machine without an explicit yes.
    let what = format!("{emails} email{}", plural(emails));
    if !opts.yes
        && let Some(exit) = confirm(&settings, &what)?
    {
        return Ok(exit);
    }
    let password = match smtp::password(&settings) {
        Ok(p) => p,
        Err(e) => return Ok(refuse(e)),
    };
    deliver(&job, opts, items, Some((settings, password)), open)
}

/// How the emails of the run leave (the SMTP server; none for a dry run) and what every
/// message carries: the From account, the date, the attachments, the copies. An error says
/// why the run cannot go.
fn mail_context(
    config: &Config,
    opts: &SendOptions,
    plan: &[Delivery],
) -> Result<(Option<SmtpSettings>, MailContext)> {
    let by_email: Vec<&str> = plan
        .iter()
        .filter(|d| d.by_email())
        .map(|d| d.id.as_str())
        .collect();
    let raw_smtp = config.settings.raw.smtp.as_ref();
    let settings = match opts.dry_run {
        true => None,
        false => smtp::resolve(&opts.smtp, raw_smtp, &config.root)?,
    };
    if opts.test_to.is_some() && settings.is_none() {
        bail!(
            "--test-to sends a test email, but no SMTP server is configured: pass --smtp URL, or \
             set url under [smtp] in appeal.toml"
        );
    }
    if !opts.dry_run && !by_email.is_empty() && settings.is_none() {
        bail!(
            "the letters to {} would go by email, but no SMTP server is configured.\n  \
             Pass --smtp URL (e.g. --smtp smtps://you%40example.org@mail.example.org), or set \
             url under [smtp] in appeal.toml.\n  To see the messages without sending anything: \
             appeal send --dry-run",
            by_email.join(", ")
        );
    }
    let account = match &settings {
        Some(s) => s.from.clone(),
        None => raw_smtp
            .and_then(|r| r.from.as_ref())
            .map(|f| f.get_ref().clone()),
    };
    let emailing = !by_email.is_empty() || opts.test_to.is_some();
    if !opts.dry_run && config.signatories.is_some() && emailing && account.is_none() {
        bail!(
            "sending for many signatories needs a staff account as From: set from under [smtp] \
             in appeal.toml (each signatory becomes Reply-To)"
        );
    }
    let ctx = MailContext {
        account,
        date: message::system_time(&config.now),
        attachments: config
            .campaign
            .attachments
            .iter()
            .map(|path| FileAttachment::load(path))
            .collect::<Result<_>>()?,
        cc: if config.campaign.cc_email {
            config.campaign.copies_to.clone()
        } else {
            Vec::new()
        },
        bounce: match &opts.smtp.bounce_address {
            Some(b) => match crate::model::settings::bounce_address_problem(b) {
                Some(why) => bail!("--bounce-address: {why}"),
                None => Some(b.clone()),
            },
            None => MailContext::for_check(config).bounce,
        },
    };
    Ok((settings, ctx))
}

/// Asks on the terminal before `what` (`3 emails`) leaves. `None`: yes, send; else the exit
/// the run ends with here (the reason told).
fn confirm(settings: &SmtpSettings, what: &str) -> Result<Option<Exit>> {
    let host = &settings.endpoint.host;
    if !std::io::stdin().is_terminal() {
        return Ok(Some(refuse(anyhow!(
            "standard input is not a terminal, so I cannot ask before sending {what} via {host}; \
             add --yes to send"
        ))));
    }
    eprint!("Send {what} via {host}? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
        return Ok(None);
    }
    eprintln!("Nothing was sent.");
    Ok(Some(Exit::Success))
}

/// Pass 2 and the report: makes and delivers the letters the ledger lets go (the emails
/// through `smtp`, when given), says what became of every letter and what to type next, and
/// ends by the exit rule `send` shares with `status`.
fn deliver(
    job: &Job<'_>,
    opts: &SendOptions,
    items: Vec<Item<'_>>,
    smtp: Option<(SmtpSettings, Option<Secret>)>,
    (ledger, lock): (Ledger, CampaignLock),
) -> Result<Exit> {
    let rerun = Rerun {
        config: job.config,
        smtp: &opts.smtp,
    };
    let mut tally = Tally::default();
    report::report_skips(&rerun, &items, &mut tally, job.each);
    if !job.interrupt.start_sending() {
        return Ok(Exit::Interrupted);
    }
    let ledger = Arc::new(RunLedger::new(ledger, job.interrupt.clone()));
    let (paper, stopped) = match smtp {
        None => (make::make_and_hand_over(job, &ledger, &items, None)?, None),
        Some(smtp) => make::make_and_send(job, &ledger, &items, smtp, &mut tally)?,
    };
    tally.count_paper(&paper);
    // Every mark on disk before the lock goes (a broken ledger is not written again).
    if ledger.broken().is_none() {
        let _ = ledger.write(|l| l.flush());
    }
    let mut next = match job.config.quiet {
        true => Vec::new(),
        false => next_steps(&rerun, &ledger, &items, tally.written()),
    };
    if !job.config.quiet {
        let dead = ledger.write(|l| crate::commands::check::bounced::dead(job.config, l));
        next.extend(dead.unwrap_or_default().iter().filter_map(|d| d.hint()));
    }
    drop(lock);
    let end = End {
        broken: ledger.broken(),
        interrupt: job.interrupt.clone(),
        error: stopped.or(paper.error),
    };
    report::print_end(job.config, &tally, &end, &next)?;
    Ok(tally.exit(&end))
}

/// What to type next, from where every letter of the run stands in the ledger now.
fn next_steps(
    rerun: &Rerun<'_>,
    ledger: &RunLedger,
    items: &[Item<'_>],
    written: usize,
) -> Vec<String> {
    let letters: Result<Vec<Left>> = items
        .iter()
        .map(|item| {
            let row = ledger.get(item.key()?)?;
            Ok(Left {
                name: item.stem.clone(),
                recipient: item.delivery.id.clone(),
                standing: Standing::of(row.as_ref(), &item.hash),
            })
        })
        .collect();
    match letters {
        Ok(letters) => next::next_steps(rerun, &letters, written),
        Err(e) => vec![format!(
            "see `appeal status` (the ledger cannot be read to say more: {e:#})"
        )],
    }
}
