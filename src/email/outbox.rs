//! The seam between the thread that makes messages and the SMTP sessions: the [`Outbox`] it
//! fills, the [`Inbox`] the sessions take from, the [`Hooks`] told as each message travels, and
//! the [`Outcome`] each message ends in.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use crate::email::message::Email;

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server took it: its final reply, and the Message-ID sent.
    Sent { reply: String, message_id: String },
    /// A transient failure before the message was complete at the server, retries used up, or
    /// sending stopped while it was in flight: try again later.
    Deferred { reason: String },
    /// A permanent refusal, in the server's words, or a setup failure that retrying won't fix.
    Failed { reason: String },
    /// The connection broke after the whole message and its final dot went out, before the
    /// reply: it may have arrived.
    InDoubt { reason: String },
}

impl Outcome {
    /// The outcome with its reply or reason passed through [`crate::email::reply::clean`]:
    /// what leaves the session driver is safe to print and to keep.
    pub fn cleaned(self) -> Outcome {
        use crate::email::reply::clean;
        match self {
            Outcome::Sent { reply, message_id } => Outcome::Sent {
                reply: clean(&reply),
                message_id,
            },
            Outcome::Deferred { reason } => Outcome::Deferred {
                reason: clean(&reason),
            },
            Outcome::Failed { reason } => Outcome::Failed {
                reason: clean(&reason),
            },
            Outcome::InDoubt { reason } => Outcome::InDoubt {
                reason: clean(&reason),
            },
        }
    }
}

/// Told about each message as it travels. Errors stop the run: nothing more is sent.
pub trait Hooks: Send + Sync {
    /// At the start of every attempt at a message (before MAIL FROM), retries included:
    /// nothing of this attempt has reached the server yet (a ledger's *pending*).
    fn before_transaction(&self, _index: usize, _email: &Email) -> Result<()> {
        Ok(())
    }
    /// Once the whole message was written, just before the terminating `.` of its data: after
    /// this the message may arrive (a ledger's *sending*). An error here keeps the dot from
    /// the server, which then discards the message: nothing of it arrived.
    fn before_data(&self, index: usize, email: &Email) -> Result<()>;
    /// Once per message tried, with its final outcome (messages never tried because sending
    /// stopped are counted in the delivery's report instead, and are not told here).
    fn outcome(&self, index: usize, email: &Email, outcome: &Outcome) -> Result<()>;
}

/// Hooks that do nothing.
pub struct NoHooks;

impl Hooks for NoHooks {
    fn before_data(&self, _: usize, _: &Email) -> Result<()> {
        Ok(())
    }
    fn outcome(&self, _: usize, _: &Email, _: &Outcome) -> Result<()> {
        Ok(())
    }
}

/// Where the builder puts each message as it is made; see [`outbox`].
pub struct Outbox {
    tx: tokio::sync::mpsc::Sender<(usize, Email)>,
    stop: Arc<AtomicBool>,
}

impl Outbox {
    /// Hands message `index` to the sessions, waiting while `capacity` messages are already
    /// waiting. `false` once sending has stopped: build no more. Not from async code.
    pub fn put(&self, index: usize, email: Email) -> bool {
        !self.stopped() && self.tx.blocking_send((index, email)).is_ok()
    }

    /// Whether sending has stopped (a fatal error, a hook that failed).
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// The sessions' end of an [`Outbox`], for `delivery::deliver`.
pub struct Inbox {
    pub(crate) rx: tokio::sync::mpsc::Receiver<(usize, Email)>,
    /// Set by the sessions once sending stops; the [`Outbox`] reads it.
    pub(crate) stop: Arc<AtomicBool>,
}

/// A channel for messages from the builder to the sessions (`delivery::deliver`), holding at
/// most `capacity`. Dropping the [`Outbox`] says there are no more.
pub fn outbox(capacity: usize) -> (Outbox, Inbox) {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
    let stop = Arc::new(AtomicBool::new(false));
    (
        Outbox {
            tx,
            stop: Arc::clone(&stop),
        },
        Inbox { rx, stop },
    )
}
