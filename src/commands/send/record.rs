//! How `appeal send` keeps the ledger (SPEC section 5): what a letter's content hash covers,
//! the Message-ID of a forced re-send, and the delivery hooks that record *pending* before each
//! transaction, *sending* just before the final dot of DATA, and the outcome after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail};
use sha2::{Digest, Sha256};

use crate::commands::send::lock::Interrupt;
use crate::email::delivery::{Hooks, Outcome};
use crate::email::message::{Email, FileAttachment};
use crate::ledger::{Attempt, Decision, Flags, Key, Ledger, State};
use crate::letter::Letter;
use crate::model::recipients::Channel;

/// The content hash of a letter as the ledger keeps it: SHA-256 over what defines the letter
/// for its reader: channel, destination, subject, the text, and for email the attachments. The
/// date of the run is replaced by a placeholder in the letter before its text is wrapped, so
/// re-running on a later day, whatever the date's length, is not a "change". Not the Date
/// header, not the PDF bytes (their metadata carry the time they were made).
pub fn letter_hash(
    letter: &Letter,
    channel: Channel,
    destination: &str,
    today: &str,
    attachments: &[FileAttachment],
) -> String {
    let text = letter.with_replaced(today, "{{today}}").to_text(72, false);
    hash_parts(
        "appeal letter v2",
        letter,
        channel,
        destination,
        &text,
        attachments,
    )
}

/// The content hash ledgers written before version 2 hold: the date replaced after the text
/// was wrapped (so a date of another length wrapped differently). A letter whose row has this
/// hash is the same letter.
pub fn letter_hash_v1(
    letter: &Letter,
    channel: Channel,
    destination: &str,
    today: &str,
    attachments: &[FileAttachment],
) -> String {
    let mut text = letter.to_text(72, false);
    if !today.is_empty() {
        text = text.replace(today, "{{today}}");
    }
    hash_parts(
        "appeal letter v1",
        letter,
        channel,
        destination,
        &text,
        attachments,
    )
}

fn hash_parts(
    version: &str,
    letter: &Letter,
    channel: Channel,
    destination: &str,
    text: &str,
    attachments: &[FileAttachment],
) -> String {
    let mut h = Sha256::new();
    for part in [
        version,
        channel.as_str(),
        destination.trim(),
        letter.subject.as_str(),
        text,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    if channel == Channel::Email {
        for a in attachments {
            h.update((a.name.len() as u64).to_be_bytes());
            h.update(a.name.as_bytes());
            h.update(Sha256::digest(&a.bytes));
        }
    }
    crate::digest::hex(&h.finalize())
}

/// The Message-ID of delivery number `attempt` forced with `--resend`: the stable one with the
/// attempt number in its local part, so it differs from every earlier delivery's.
pub fn resend_message_id(stable: &str, attempt: u32) -> String {
    let inner = stable.trim().trim_start_matches('<').trim_end_matches('>');
    match inner.split_once('@') {
        Some((local, domain)) => format!("<{local}.r{attempt}@{domain}>"),
        None => format!("<{inner}.r{attempt}>"),
    }
}

/// The ledger of one `send` run, shared by the PDF loop and the delivery hooks. Once a write
/// fails it is `broken` and nothing more may start.
pub struct RunLedger {
    ledger: Mutex<Ledger>,
    broken: Mutex<Option<String>>,
    pub interrupt: Interrupt,
}

impl RunLedger {
    /// The run's ledger, stopping on `interrupt` too.
    pub fn new(ledger: Ledger, interrupt: Interrupt) -> RunLedger {
        RunLedger {
            ledger: Mutex::new(ledger),
            broken: Mutex::new(None),
            interrupt,
        }
    }

    /// Why the ledger can no longer be written, once a write failed.
    pub fn broken(&self) -> Option<String> {
        self.broken.lock().ok().and_then(|b| b.clone())
    }

    /// Whether the run is stopping (Ctrl-C, or the ledger broke): start nothing new.
    pub fn stopping(&self) -> bool {
        self.interrupt.is_set() || self.broken().is_some()
    }

    /// Runs one write on the ledger; an error marks the ledger broken (sending stops).
    pub fn write<T>(&self, f: impl FnOnce(&mut Ledger) -> Result<T>) -> Result<T> {
        if let Some(why) = self.broken() {
            bail!("the ledger cannot be written ({why})");
        }
        let result = match self.ledger.lock() {
            Ok(mut l) => f(&mut l),
            Err(_) => Err(anyhow!("internal: the ledger lock is poisoned")),
        };
        if let Err(e) = &result
            && let Ok(mut b) = self.broken.lock()
            && b.is_none()
        {
            *b = Some(format!("{e:#}"));
        }
        result
    }

    /// Marks the ledger broken by an error met outside [`RunLedger::write`].
    pub fn fail(&self, e: &anyhow::Error) {
        if let Ok(mut b) = self.broken.lock()
            && b.is_none()
        {
            *b = Some(format!("{e:#}"));
        }
    }

    /// The ledger's row for a letter.
    pub fn get(&self, key: &Key) -> Result<Option<crate::ledger::Entry>> {
        match self.ledger.lock() {
            Ok(l) => l.get(key),
            Err(_) => Err(anyhow!("internal: the ledger lock is poisoned")),
        }
    }

    /// What the ledger says to do with a letter (see [`Ledger::decide`]).
    pub fn decide(&self, key: &Key, hash: &str, flags: Flags) -> Result<Decision> {
        match self.ledger.lock() {
            Ok(l) => l.decide(key, hash, flags),
            Err(_) => Err(anyhow!("internal: the ledger lock is poisoned")),
        }
    }
}

/// One email of the run, as the ledger knows it.
pub struct Tracked {
    pub key: Key,
    pub hash: String,
    /// The permission from `decide`, spent by the first `mark_pending`.
    pub attempt: Option<Attempt>,
}

/// Delivery hooks that record every step in the ledger before passing the outcome on.
pub struct Recorder<H: Hooks> {
    pub run: Arc<RunLedger>,
    tracked: Mutex<Vec<Tracked>>,
    started: Vec<AtomicBool>,
    flags: Flags,
    inner: H,
}

impl<H: Hooks> Recorder<H> {
    /// Records the emails `tracked` (in the sessions' order) in `run`, then tells `inner`.
    pub fn new(run: Arc<RunLedger>, tracked: Vec<Tracked>, flags: Flags, inner: H) -> Self {
        let started = tracked.iter().map(|_| AtomicBool::new(false)).collect();
        Recorder {
            run,
            tracked: Mutex::new(tracked),
            started,
            flags,
            inner,
        }
    }

    /// The hooks told after the ledger.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// Whether a transaction was started (and recorded) for email `index`.
    pub fn started(&self, index: usize) -> bool {
        self.started
            .get(index)
            .is_some_and(|s| s.load(Ordering::SeqCst))
    }

    fn key(&self, index: usize) -> Result<(Key, String)> {
        let t = self
            .tracked
            .lock()
            .map_err(|_| anyhow!("internal: poisoned"))?;
        let t = t
            .get(index)
            .ok_or_else(|| anyhow!("internal: no letter {index}"))?;
        Ok((t.key.clone(), t.hash.clone()))
    }
}

impl<H: Hooks> Hooks for Recorder<H> {
    fn before_transaction(&self, index: usize, email: &Email) -> Result<()> {
        if self.run.interrupt.is_set() {
            bail!("interrupted by Ctrl-C");
        }
        let first = self
            .tracked
            .lock()
            .map_err(|_| anyhow!("internal: poisoned"))?
            .get_mut(index)
            .and_then(|t| t.attempt.take());
        let (key, hash) = self.key(index)?;
        let flags = self.flags;
        self.run.write(|l| {
            let attempt = match first {
                Some(a) => a,
                None => {
                    // A retry within this run. Still pending: nothing reached the server.
                    // Sending: the server answered the data with a transient reply, so it does
                    // not have the message: record that, then ask again.
                    let state = l.get(&key)?.map(|e| e.state);
                    match state {
                        Some(State::Pending) => return Ok(()),
                        Some(State::Sending) => {
                            l.mark_deferred(&key, "transient reply to the message; retrying")?
                        }
                        _ => {}
                    }
                    match l.decide(&key, &hash, flags)? {
                        Decision::Send(a) => a,
                        other => bail!("the ledger no longer allows sending {key}: {other:?}"),
                    }
                }
            };
            l.mark_pending(&attempt, &email.message_id, &hash)?;
            match &email.token {
                Some(token) => l.set_token(&key, token),
                None => Ok(()),
            }
        })?;
        if let Some(s) = self.started.get(index) {
            s.store(true, Ordering::SeqCst);
        }
        self.inner.before_transaction(index, email)
    }

    fn before_data(&self, index: usize, email: &Email) -> Result<()> {
        let (key, _) = self.key(index)?;
        // The pending mark on disk first (outside the ledger's lock: connections at the end of
        // their data together share one disk sync), then *sending*, a commit without a sync,
        // just before the dot: a process killed while it waits leaves the letter pending.
        let ticket = self.run.write(|l| Ok(l.durable_ticket()))?;
        if let Err(e) = ticket
            .wait()
            .and_then(|()| self.run.write(|l| l.mark_sending(&key)))
        {
            let e = e.context(format!("cannot record {key} as sending"));
            self.run.fail(&e);
            return Err(e);
        }
        self.inner.before_data(index, email)
    }

    fn outcome(&self, index: usize, email: &Email, outcome: &Outcome) -> Result<()> {
        let recorded = if self.started(index) {
            let (key, _) = self.key(index)?;
            self.run.write(|l| match outcome {
                Outcome::Sent { reply, .. } => l.mark_sent(&key, reply),
                Outcome::Failed { reason } => l.mark_failed(&key, reason),
                Outcome::Deferred { reason } => l.mark_deferred(&key, reason),
                Outcome::InDoubt { reason } => l.mark_in_doubt(&key, reason),
            })
        } else if self.run.stopping() {
            // Never started, and the run is stopping: nothing to record or to say per letter.
            return Ok(());
        } else {
            Ok(())
        };
        let shown = self.inner.outcome(index, email, outcome);
        recorded.and(shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forced_resend_gets_a_new_message_id() {
        assert_eq!(
            resend_message_id("<abc@example.org>", 2),
            "<abc.r2@example.org>"
        );
        assert_ne!(
            resend_message_id("<abc@example.org>", 2),
            resend_message_id("<abc@example.org>", 3)
        );
    }

    #[test]
    fn a_shared_sync_records_sending_on_disk() {
        use crate::letter::LetterKey;
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(dir.path()).unwrap();
        let key = Key::new(
            &LetterKey {
                campaign: "c".into(),
                signatory: None,
                recipient: "r".into(),
            },
            "a@example.org",
            Channel::Email,
        );
        let hash = crate::ledger::content_hash(b"x");
        let Decision::Send(a) = l.decide(&key, &hash, Flags::default()).unwrap() else {
            panic!("expected Send");
        };
        l.mark_pending(&a, "<m@example.org>", &hash).unwrap();
        let ticket = l.durable_ticket();
        ticket.wait().unwrap();
        l.mark_sending(&key).unwrap();
        let other = Ledger::open_read_only(dir.path()).unwrap().unwrap();
        assert_eq!(other.get(&key).unwrap().unwrap().state, State::Sending);
        l.mark_sent(&key, "250 ok").unwrap();
        l.flush().unwrap();
        assert_eq!(other.get(&key).unwrap().unwrap().state, State::Sent);
    }
}
