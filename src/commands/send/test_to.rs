//! `appeal send --test-to ADDRESS`: one letter of the run, sent to ADDRESS instead of its
//! recipient with `[TEST] ` before its subject, to see it as an official will. The first
//! letter that goes by email is taken (the first letter when none does). Nothing is recorded
//! in the ledger and no copy is kept.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Result, anyhow};

use crate::commands::send::make;
use crate::commands::send::prepare::{Item, Job};
use crate::commands::send::{confirm, refuse};
use crate::email::delivery::{self, NoHooks, Outcome};
use crate::email::message::{self, Email, MailContext};
use crate::email::smtp::{self, SmtpSettings};
use crate::exit::Exit;
use crate::letter::Letter;

/// Sends the test message through `settings`, after asking (unless `yes`).
pub fn send(
    job: &Job<'_>,
    items: &[Item<'_>],
    address: &str,
    settings: SmtpSettings,
    yes: bool,
) -> Result<Exit> {
    if let Err(e) = message::parse_address(address, "--test-to") {
        return Ok(refuse(e));
    }
    let Some(item) = items.iter().find(|i| i.by_email()).or(items.first()) else {
        return Ok(refuse(anyhow!("--test-to: the run has no letter to test")));
    };
    if !job.config.quiet {
        println!(
            "Test: the letter {} ({} to {}) goes to {address} instead, its subject starting \
             with [TEST]; nothing is recorded.",
            item.stem,
            item.delivery.channel.as_str(),
            item.delivery.destination
        );
    }
    if !yes && let Some(exit) = confirm(&settings, &format!("1 test email to {address}"))? {
        return Ok(exit);
    }
    let password = match smtp::password(&settings) {
        Ok(p) => p,
        Err(e) => return Ok(refuse(e)),
    };
    let email = build(job, items, item, address)?;
    if !job.interrupt.start_sending() {
        return Ok(Exit::Interrupted);
    }
    let (outbox, inbox) = delivery::outbox(1);
    outbox.put(0, email);
    drop(outbox);
    let report = delivery::deliver(&settings, password, 1, inbox, Arc::new(NoHooks))?;
    let outcome = report.outcomes.into_iter().next();
    Ok(say(job, item, address, outcome))
}

/// Renders `item`'s letter again and makes the test message of it: the letter and its PDF as
/// they are, the subject marked, to `address` only (no copies), under a Message-ID of its own.
fn build(job: &Job<'_>, items: &[Item<'_>], item: &Item<'_>, address: &str) -> Result<Email> {
    let mut email = None;
    let is_it = |i: &Item<'_>| std::ptr::eq(i, item);
    make::for_each_to_make(job.config, items, is_it, |chunk| {
        if let Some((_, letter)) = chunk.first() {
            email = Some(test_message(job, letter, address)?);
        }
        Ok(false)
    })?;
    email.ok_or_else(|| anyhow!("internal: the letter {} was not made again", item.stem))
}

/// The test message of `letter`.
fn test_message(job: &Job<'_>, letter: &Letter, address: &str) -> Result<Email> {
    // A test is no letter of the ledger: its bounces go to the From address.
    let ctx = MailContext {
        cc: Vec::new(),
        bounce: None,
        ..job.ctx.clone()
    };
    let mut marked = letter.clone();
    marked.subject = format!("[TEST] {}", letter.subject);
    let headers = message::headers(&marked, address, &ctx)?;
    let headers = headers.with_message_id(&test_message_id(&headers.message_id))?;
    let pdf = make::pdf_of(job, letter)?;
    message::assemble(letter, &headers, &pdf, &ctx)
}

/// A Message-ID for a test: the letter's own one with `.test` in its local part, so the letter
/// itself, sent later, is not taken for a copy of the test.
fn test_message_id(stable: &str) -> String {
    let inner = stable.trim().trim_start_matches('<').trim_end_matches('>');
    match inner.split_once('@') {
        Some((local, domain)) => format!("<{local}.test@{domain}>"),
        None => format!("<{inner}.test>"),
    }
}

/// Says how the test went, and the exit it ends with.
fn say(job: &Job<'_>, item: &Item<'_>, address: &str, outcome: Option<Outcome>) -> Exit {
    let stem = &item.stem;
    match outcome {
        Some(Outcome::Sent { reply, .. }) => {
            if !job.config.quiet {
                let _ = writeln!(
                    std::io::stdout(),
                    "sent     [TEST] {stem}  {address}  {reply}\nNothing was recorded in the \
                     ledger and no copy was kept."
                );
            }
            Exit::Success
        }
        Some(Outcome::Failed { reason }) => {
            eprintln!("appeal: failed: test of {stem} <{address}>: {reason}");
            Exit::Failed
        }
        Some(Outcome::Deferred { reason }) => {
            eprintln!("appeal: deferred: test of {stem} <{address}>: {reason}");
            Exit::TempFail
        }
        Some(Outcome::InDoubt { reason }) => {
            eprintln!("appeal: in doubt: test of {stem} <{address}>: {reason}");
            Exit::TempFail
        }
        None => {
            eprintln!("appeal: interrupted: nothing sent");
            Exit::Interrupted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_has_a_message_id_of_its_own() {
        assert_eq!(
            test_message_id("<abc@example.org>"),
            "<abc.test@example.org>"
        );
        assert_eq!(test_message_id("abc"), "<abc.test>");
    }
}
