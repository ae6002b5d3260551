//! What was delivered to whom (SPEC section 5): an SQLite ledger at `.appeal/ledger.db` that
//! lets `send` resume after a crash without losing a letter or sending one twice.
//!
//! # State machine
//!
//! One row per letter, keyed by (campaign, signatory, recipient, channel); who it was sent as
//! is recorded with it, and a letter sent as someone else since is a changed letter:
//!
//! ```text
//!            decide → Send(attempt)
//!   (none) ──mark_pending──▶ pending ──mark_sending──▶ sending ──mark_sent──▶ sent
//!                              │  ╲                          │  ╲
//!                              │   ╲ mark_failed/deferred     │   ╲ mark_in_doubt
//!                              ▼    ▶ failed | deferred  ◀────┘    ▶ in_doubt
//!   (none) ──mark_written──▶ written          (paper: after the PDF's rename)
//!
//!   by hand (`appeal mark`), for what happened outside the tool:
//!   sending | in_doubt ──▶ delivered     written (post) ──▶ posted     written (fax) ──▶ faxed
//! ```
//!
//! # Telling "never went out" from "maybe went out"
//!
//! The send loop commits [`Ledger::mark_pending`] before it opens the SMTP transaction for a
//! letter, stamped with the machine's boot id. Once the whole message has been written, just
//! before the terminating `.` of `DATA` (until that dot the server discards what it got), it
//! waits until that *pending* is on disk (an fdatasync of the WAL, shared by connections that
//! get there together: [`Ledger::durable_ticket`]), then commits *sending*
//! ([`Ledger::mark_sending`]) without waiting for the disk, and sends the dot. If a mark cannot
//! be written, the connection is cut so the dot never leaves.
//! Every mark but the wait for *pending* is committed at `synchronous=NORMAL`: in the file, so
//! safe against the process dying at any moment, and made power-safe by the next wait or by
//! [`Ledger::flush`] at the end of a run. A record lost to a power cut only ever falls back to
//! an earlier state (*sent* to *sending*: in doubt; *sending* to *pending*: read on the next
//! boot, a *pending* with the old boot id is taken as in doubt), never forward.
//! So, for a row found at startup:
//!
//! - `pending`: the process stopped before the message's final dot was sent, so the server
//!   cannot have the message. Safe to retry; [`Ledger::decide`] says `Send` with the same Message-ID.
//! - `sending`: the message data may have reached the server and no reply was recorded: the
//!   duplicate window of RFC 1047. Treated exactly like `in_doubt`: reported, not re-sent unless
//!   `--resend-in-doubt`, which re-sends with the same Message-ID so receivers can drop a copy.
//!
//! So a process killed while it waits for the disk leaves the letter *pending* (the dot never
//! went: retried normally); only a death in the microseconds between the commit of *sending*
//! and the dot on the wire makes a letter in doubt that was never delivered: the error always
//! falls on the side of reporting, never of sending twice.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;

use crate::letter::LetterKey;
use crate::model::recipients::Channel;
use crate::model::sender::Sender;

pub use report::{Answer, COUNTING, Counts, Day, Report, Tally};

/// The directory under the campaign that holds the ledger.
pub const DIR: &str = ".appeal";
/// The ledger's file name inside [`DIR`].
pub const FILE: &str = "ledger.db";

/// Where a letter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Committed before the SMTP transaction; no message data sent yet.
    Pending,
    /// The message data may have gone out; no reply recorded yet.
    Sending,
    /// The server accepted the message (final 250).
    Sent,
    /// The PDF is on disk (after the rename).
    Written,
    /// Permanent failure (5xx, or the PDF could not be written); the reason is kept.
    Failed,
    /// Transient failure (4xx, connection refused or dropped before the data); retried.
    Deferred,
    /// The connection broke after the data went out and before the reply.
    InDoubt,
    /// In doubt, then confirmed delivered by hand (`appeal mark delivered`).
    Delivered,
    /// Written, then printed and posted (`appeal mark posted`).
    Posted,
    /// Written, then faxed by hand (`appeal mark faxed`).
    Faxed,
    /// Sent, then a delivery-status report said it failed for good (5.x.x), read by `inbox`.
    Bounced,
    /// Sent, and an automatic reply came back (RFC 3834, vacation notices), read by `inbox`.
    AutoReplied,
    /// Sent, and a person answered it, read by `inbox`.
    Replied,
}

impl State {
    pub const ALL: [State; 13] = [
        State::Pending,
        State::Sending,
        State::Sent,
        State::Written,
        State::Failed,
        State::Deferred,
        State::InDoubt,
        State::Delivered,
        State::Posted,
        State::Faxed,
        State::Bounced,
        State::AutoReplied,
        State::Replied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Written => "written",
            State::Failed => "failed",
            State::Deferred => "deferred",
            State::InDoubt => "in_doubt",
            State::Delivered => "delivered",
            State::Posted => "posted",
            State::Faxed => "faxed",
            State::Bounced => "bounced",
            State::AutoReplied => "auto_replied",
            State::Replied => "replied",
        }
    }

    /// The state as reports name it, in text and JSON alike: a letter left *sending* by an
    /// interrupted run is in doubt, like one whose connection broke after the data.
    pub fn reported(self) -> &'static str {
        match self {
            State::Sending => State::InDoubt.as_str(),
            s => s.as_str(),
        }
    }

    fn parse(s: &str) -> Result<State> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| anyhow!("unknown letter state `{s}` in the ledger"))
    }

    /// Delivered or written: nothing left to do. A bounced letter is done too: it is not
    /// sent again to the same address unless asked (`--resend`).
    pub fn is_done(self) -> bool {
        matches!(
            self,
            State::Sent
                | State::Written
                | State::Delivered
                | State::Posted
                | State::Faxed
                | State::Bounced
                | State::AutoReplied
                | State::Replied
        )
    }

    /// May have reached the recipient, with no reply recorded.
    pub fn is_in_doubt(self) -> bool {
        matches!(self, State::Sending | State::InDoubt)
    }

    /// The states a letter must be in for `appeal mark` to move it to `self`, or `None` when
    /// `self` is not a state set by hand.
    pub fn marked_from(self, channel: Channel) -> Option<&'static [State]> {
        match (self, channel) {
            (State::Delivered, _) => Some(&[State::Sending, State::InDoubt, State::Delivered]),
            (State::Posted, Channel::Post) => Some(&[State::Written, State::Posted]),
            (State::Faxed, Channel::Fax) => Some(&[State::Written, State::Faxed]),
            (State::Posted | State::Faxed, _) => Some(&[]),
            _ => None,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one letter in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub letter: LetterKey,
    /// Who the letter is sent as: see [`sender_identity`].
    pub sender: String,
    pub channel: Channel,
}

impl Key {
    pub fn new(letter: &LetterKey, sender: &str, channel: Channel) -> Key {
        Key {
            letter: letter.clone(),
            sender: sender.to_string(),
            channel,
        }
    }

    fn signatory(&self) -> &str {
        self.letter.signatory.as_deref().unwrap_or("")
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} letter {} to `{}`",
            self.channel.as_str(),
            match &self.letter.signatory {
                Some(s) => format!("of signatory `{s}`"),
                None => format!("from {}", self.sender),
            },
            self.letter.recipient
        )
    }
}

/// The sender part of a ledger key: the sending account's address (lower case), or the
/// sender's name when there is none (paper only). Sending as someone else is another letter.
pub fn sender_identity(sender: &Sender) -> String {
    match &sender.email {
        Some(e) if !e.trim().is_empty() => e.trim().to_lowercase(),
        _ => sender.name.trim().to_string(),
    }
}

/// The content hash the ledger expects: SHA-256 of the letter's bytes, in lower-case hex.
pub fn content_hash(bytes: &[u8]) -> String {
    crate::digest::sha256_hex(bytes)
}

fn check_hash(hash: &str) -> Result<()> {
    if hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        bail!(
            "content hash `{hash}` is not a lower-case SHA-256 hex digest (use ledger::content_hash)"
        )
    }
}

/// What `send` was asked to override.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--resend`: deliver again on purpose, with a new Message-ID.
    pub resend: bool,
    /// `--resend-in-doubt`: re-send in-doubt letters with their recorded Message-ID.
    pub resend_in_doubt: bool,
    /// `--retry-failed`: deliver only letters that failed or were deferred, again (a failed
    /// one with the same content too); leave every other letter alone.
    pub retry_failed: bool,
}

/// Permission to start one delivery attempt, handed out by [`Ledger::decide`] and spent by
/// [`Ledger::mark_pending`]. Only `decide` makes one, so nothing is sent without asking.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Attempt {
    key: Key,
    number: u32,
    message_id_reuse: Option<String>,
    /// The row as `decide` saw it, so `mark_pending` notices another process in between.
    seen: Option<(State, u32)>,
}

impl Attempt {
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// 1 for the first delivery of this letter.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The Message-ID the message must carry, when it must be the one recorded before (a
    /// retry of something that never arrived, or a re-send of an in-doubt letter). `None`:
    /// make one (a new delivery, or `--resend`: then it must differ from earlier ones).
    pub fn message_id_reuse(&self) -> Option<&str> {
        self.message_id_reuse.as_deref()
    }

    /// The state this attempt retries, `None` for a letter the ledger has never seen.
    pub fn retrying(&self) -> Option<State> {
        self.seen.map(|(s, _)| s)
    }
}

/// What to do with one letter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    /// Deliver it: call [`Ledger::mark_pending`] with this attempt first.
    Send(Attempt),
    /// Already sent or written, with the same content.
    Skip { state: State },
    /// The data may have arrived (`in_doubt`, or `sending` left by a crash): report it, do not
    /// send. `--resend-in-doubt` re-sends it with `message_id`.
    SkipInDoubt {
        message_id: Option<String>,
        reason: Option<String>,
    },
    /// Failed permanently before, same content: report it. `--resend` tries again.
    SkipFailed { reason: Option<String> },
    /// Delivered (or in doubt) before with other content: report it; `--resend` sends the new
    /// letter with a new Message-ID.
    Changed { state: State },
    /// `--retry-failed`, and the letter neither failed nor was deferred: left alone.
    NotRetried { state: Option<State> },
}

/// One row, for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub campaign: String,
    pub sender: String,
    pub signatory: Option<String>,
    pub recipient: String,
    pub channel: Channel,
    pub state: State,
    pub message_id: Option<String>,
    pub attempts: u32,
    pub created: String,
    pub updated: String,
    pub last_reply: Option<String>,
    pub content_hash: Option<String>,
    pub output_path: Option<String>,
}

impl Entry {
    pub fn key(&self) -> Key {
        Key {
            letter: LetterKey {
                campaign: self.campaign.clone(),
                signatory: self.signatory.clone(),
                recipient: self.recipient.clone(),
            },
            sender: self.sender.clone(),
            channel: self.channel,
        }
    }
}

/// What one run of `send` (or `pdf`) was given, remembered so the next command without
/// those flags acts on the same letters and says so.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunRecord {
    /// When it ran (RFC 3339), as stored; empty for a record not yet stored.
    pub at: String,
    /// `send` or `pdf`.
    pub command: String,
    /// The signatories file as named on the command line, and the SHA-256 of its content.
    pub signatories: Option<(String, String)>,
    /// The sender, when it came from `--from-*` flags or `--sender FILE` rather than
    /// `appeal.toml`.
    pub sender: Option<Sender>,
}

/// One recorded transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: String,
    pub state: State,
    pub detail: Option<String>,
}

type Clock = Box<dyn Fn() -> jiff::Timestamp + Send>;

/// The open ledger. Every `mark_*` is one committed transaction (on disk before the data goes
/// out, see the module docs); an error from any of them means the ledger cannot be trusted to be written, and sending must stop.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    clock: Clock,
    /// Whether the connection is at `synchronous=FULL` (the default after opening).
    full_sync: bool,
    /// Group commit of the *pending* marks: see [`SyncTicket`].
    group: Arc<GroupSync>,
}

/// Shared fsyncs of the WAL: commits made at `synchronous=NORMAL` are in the file (safe from a
/// crash of the process); one `fdatasync` of the WAL makes every one of them durable, so
/// several connections waiting at once share one.
#[derive(Debug)]
struct GroupSync {
    wal: PathBuf,
    /// Commits made so far, and how many of them are known to be on disk.
    committed: AtomicU64,
    synced: AtomicU64,
    file: Mutex<Option<std::fs::File>>,
}

/// This boot of the machine: Linux's boot id, or `unknown` elsewhere (then a pending letter
/// whose attempt may have reached its final dot is always taken as in doubt on reading).
pub(crate) fn boot_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        std::env::var("APPEAL_TEST_BOOT_ID")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".into())
    })
}

/// A commit that must be on disk before going on: [`SyncTicket::wait`] returns once it is.
/// Call it without holding the ledger, so others commit (and share the sync) meanwhile.
#[derive(Debug)]
#[must_use]
pub struct SyncTicket {
    group: Arc<GroupSync>,
    seq: u64,
}

impl SyncTicket {
    pub fn wait(self) -> Result<()> {
        let g = &self.group;
        if g.synced.load(Ordering::SeqCst) >= self.seq {
            return Ok(());
        }
        let mut file = g
            .file
            .lock()
            .map_err(|_| anyhow!("internal: ledger sync lock poisoned"))?;
        if g.synced.load(Ordering::SeqCst) >= self.seq {
            return Ok(());
        }
        // Everything committed up to here is in the file; one sync covers it all.
        let target = g.committed.load(Ordering::SeqCst);
        let result = (|| -> Result<()> {
            if file.is_none() {
                *file = Some(std::fs::OpenOptions::new().write(true).open(&g.wal)?);
            }
            if let Some(f) = file.as_ref() {
                f.sync_data()?;
            }
            Ok(())
        })();
        result.with_context(|| format!("cannot sync the ledger's log {}", g.wal.display()))?;
        g.synced.fetch_max(target, Ordering::SeqCst);
        Ok(())
    }
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

/// The default clock: `APPEAL_NOW` when set (tests), else the system time.
fn default_clock() -> jiff::Timestamp {
    crate::clock::now()
        .map(|z| z.timestamp())
        .unwrap_or_else(|_| jiff::Timestamp::now())
}

impl Ledger {
    /// Opens (creating if needed) `<campaign_dir>/.appeal/ledger.db` for sending, migrating
    /// its schema. `.appeal/` is created mode 0700. Refuses symlinks, and a ledger that cannot
    /// be written: better to stop before the first letter than after it.
    pub fn open(campaign_dir: &Path) -> Result<Ledger> {
        Self::open_at(campaign_dir, store::MIGRATIONS.len())
    }

    fn open_at(campaign_dir: &Path, target: usize) -> Result<Ledger> {
        let dir = campaign_dir.join(DIR);
        let path = dir.join(FILE);
        store::check_paths(&dir)?;
        if !dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        refuse_emptied(&path)?;
        let opened = store::open_for_writing(&path, target);
        let conn = opened.with_context(|| {
            format!(
                "cannot open the ledger {} for writing; nothing will be sent without it",
                path.display()
            )
        })?;
        Ok(Ledger {
            conn,
            group: GroupSync::new(&path),
            path,
            clock: Box::new(default_clock),
            full_sync: true,
        })
    }

    /// Opens an existing ledger read-only, for `status`; `None` when there is none yet.
    /// Creates nothing.
    pub fn open_read_only(campaign_dir: &Path) -> Result<Option<Ledger>> {
        let dir = campaign_dir.join(DIR);
        let path = dir.join(FILE);
        store::check_paths(&dir)?;
        if !path.exists() {
            return Ok(None);
        }
        refuse_emptied(&path)?;
        let conn = store::open_for_reading(&path)
            .with_context(|| format!("cannot read the ledger {}", path.display()))?;
        Ok(Some(Ledger {
            conn,
            group: GroupSync::new(&path),
            path,
            clock: Box::new(default_clock),
            full_sync: true,
        }))
    }

    /// Replaces the clock that stamps `created`/`updated` (tests pin it).
    pub fn with_clock(mut self, clock: impl Fn() -> jiff::Timestamp + Send + 'static) -> Ledger {
        self.clock = Box::new(clock);
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn now(&self) -> String {
        (self.clock)().to_string()
    }

    /// Waits for the disk on the next commits (`FULL`) or only on checkpoints (`NORMAL`).
    fn sync_mode(&mut self, full: bool) -> Result<()> {
        if self.full_sync != full {
            store::set_synchronous(&self.conn, full)?;
            self.full_sync = full;
        }
        Ok(())
    }

    /// A ticket whose [`SyncTicket::wait`] returns once everything committed so far (the
    /// letters' *pending* marks) is on disk: wait on it, without holding the ledger, before
    /// [`Ledger::mark_sending`]. Connections reaching the end of their data together share one
    /// disk sync.
    pub fn durable_ticket(&mut self) -> SyncTicket {
        SyncTicket {
            group: Arc::clone(&self.group),
            seq: self.group.committed.load(Ordering::SeqCst),
        }
    }

    /// Makes every committed mark durable on disk (a checkpoint of the WAL, which syncs it
    /// first). `send` calls it once its letters are done.
    pub fn flush(&mut self) -> Result<()> {
        let flush = |l: &mut Ledger| -> Result<()> {
            l.sync_mode(true)?;
            store::checkpoint(&l.conn)?;
            Ok(())
        };
        flush(self).with_context(|| format!("cannot flush the ledger {}", self.path.display()))
    }

    /// The row for one letter, if any.
    pub fn get(&self, key: &Key) -> Result<Option<Entry>> {
        store::row(&self.conn, key)
            .with_context(|| format!("cannot read the ledger {}", self.path.display()))
    }

    /// What to do with the letter `key` whose content now hashes to `content_hash`.
    pub fn decide(&self, key: &Key, content_hash: &str, flags: Flags) -> Result<Decision> {
        self.decide_any(key, content_hash, &[], flags)
    }

    /// Like [`Ledger::decide`], a row holding one of `earlier` (the same content hashed as an
    /// older version of appeal did) being the same letter too.
    pub fn decide_any(
        &self,
        key: &Key,
        content_hash: &str,
        earlier: &[&str],
        flags: Flags,
    ) -> Result<Decision> {
        let row = self.get(key)?;
        let attempt = |reuse: Option<String>, row: &Entry| {
            Decision::Send(Attempt {
                key: key.clone(),
                number: row.attempts + 1,
                message_id_reuse: reuse,
                seen: Some((row.state, row.attempts)),
            })
        };
        if flags.retry_failed {
            return Ok(match &row {
                Some(r) if matches!(r.state, State::Failed | State::Deferred | State::Pending) => {
                    attempt(r.message_id.clone(), r)
                }
                _ => Decision::NotRetried {
                    state: row.as_ref().map(|r| r.state),
                },
            });
        }
        let Some(row) = row else {
            return Ok(Decision::Send(Attempt {
                key: key.clone(),
                number: 1,
                message_id_reuse: None,
                seen: None,
            }));
        };
        if flags.resend {
            return Ok(attempt(None, &row));
        }
        // Sent as someone else (a corrected email or name) is the same letter, changed.
        let same_content = row
            .content_hash
            .as_deref()
            .is_some_and(|h| h == content_hash || earlier.contains(&h));
        let same = same_content && row.sender == key.sender;
        Ok(match row.state {
            State::Sent
            | State::Written
            | State::Delivered
            | State::Posted
            | State::Faxed
            | State::Bounced
            | State::AutoReplied
            | State::Replied => {
                if same {
                    Decision::Skip { state: row.state }
                } else {
                    Decision::Changed { state: row.state }
                }
            }
            // Nothing reached the server: the same Message-ID is still unused.
            State::Pending | State::Deferred => attempt(row.message_id.clone(), &row),
            State::Failed if same => Decision::SkipFailed {
                reason: row.last_reply.clone(),
            },
            State::Failed => attempt(row.message_id.clone(), &row),
            State::Sending | State::InDoubt if !same => Decision::Changed { state: row.state },
            State::Sending | State::InDoubt if flags.resend_in_doubt => {
                attempt(row.message_id.clone(), &row)
            }
            State::Sending | State::InDoubt => Decision::SkipInDoubt {
                message_id: row.message_id.clone(),
                reason: row.last_reply.clone().or_else(|| {
                    (row.state == State::Sending).then(|| {
                        "interrupted after the message data started; no reply recorded".into()
                    })
                }),
            },
        })
    }

    /// Records that `attempt` is about to start, before anything goes to the server (on disk
    /// at the latest with the `mark_data_started` that precedes its data).
    /// `message_id` must be the attempt's [`Attempt::message_id_reuse`] when it has one.
    pub fn mark_pending(
        &mut self,
        attempt: &Attempt,
        message_id: &str,
        content_hash: &str,
    ) -> Result<()> {
        let key = &attempt.key;
        let result = (|| -> Result<()> {
            check_hash(content_hash)?;
            if let Some(reuse) = &attempt.message_id_reuse
                && reuse != message_id
            {
                bail!("this attempt must reuse Message-ID {reuse}, not {message_id}");
            }
            if message_id.trim().is_empty() {
                bail!("empty Message-ID");
            }
            // Durable on disk with the `mark_data_started` that precedes any data.
            self.sync_mode(false)?;
            let now = self.now();
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = store::row(&tx, key)?.map(|e| (e.state, e.attempts));
            if current != attempt.seen {
                bail!(
                    "the letter changed since it was checked (another appeal process running?): was {}, now {}",
                    describe(attempt.seen),
                    describe(current)
                );
            }
            store::put_pending(&tx, key, message_id, attempt.number, &now, content_hash)?;
            store::log_event(&tx, key, &now, State::Pending, Some(message_id))?;
            tx.commit()?;
            self.group.committed.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })();
        result.with_context(|| self.cannot(key, State::Pending))
    }

    /// Records that the message is about to be complete at the server: call it right before
    /// the terminating `.` of `DATA`, once a [`Ledger::durable_ticket`] taken after
    /// [`Ledger::mark_pending`] was waited on. From here on a crash leaves the letter in doubt
    /// instead of pending.
    ///
    /// The commit is not synced, so it costs microseconds and the window in which a killed
    /// process leaves in doubt a letter whose dot never went is that small: a commit survives
    /// the death of the process (it is in the file), only a power loss or a crash of the
    /// machine can take it. For those the *pending* mark, on disk before this, carries the
    /// machine's boot id: read on another boot, a pending letter that may have reached this
    /// point is in doubt, not pending.
    pub fn mark_sending(&mut self, key: &Key) -> Result<()> {
        self.transition(key, &[Some(State::Pending)], State::Sending, None, None)
    }

    /// [`Ledger::durable_ticket`], waited on, then [`Ledger::mark_sending`].
    pub fn mark_data_started(&mut self, key: &Key) -> Result<()> {
        self.durable_ticket().wait()?;
        self.mark_sending(key)
    }

    /// The server accepted the message; `reply` is its final reply (e.g. `250 2.0.0 Ok: queued as X`).
    pub fn mark_sent(&mut self, key: &Key, reply: &str) -> Result<()> {
        self.transition(key, &[Some(State::Sending)], State::Sent, Some(reply), None)
    }

    /// A permanent failure, with the server's words or the local reason.
    pub fn mark_failed(&mut self, key: &Key, reason: &str) -> Result<()> {
        self.transition(key, RETRYABLE, State::Failed, Some(reason), None)
    }

    /// A transient failure: the next run retries the letter.
    pub fn mark_deferred(&mut self, key: &Key, reason: &str) -> Result<()> {
        self.transition(key, RETRYABLE, State::Deferred, Some(reason), None)
    }

    /// The connection broke or timed out after the data went out and before the reply.
    pub fn mark_in_doubt(&mut self, key: &Key, reason: &str) -> Result<()> {
        self.transition(
            key,
            &[Some(State::Sending)],
            State::InDoubt,
            Some(reason),
            None,
        )
    }

    /// The PDF for a paper letter is on disk at `path` (call it after the rename).
    pub fn mark_written(&mut self, key: &Key, path: &Path, content_hash: &str) -> Result<()> {
        if let Err(e) = check_hash(content_hash) {
            return Err(e.context(self.cannot(key, State::Written)));
        }
        let path = path.to_string_lossy();
        self.transition(
            key,
            &[
                None,
                Some(State::Pending),
                Some(State::Written),
                Some(State::Failed),
                Some(State::Deferred),
            ],
            State::Written,
            None,
            Some((&path, content_hash)),
        )
    }

    /// Records what happened to a letter outside the tool (`appeal mark`): an in-doubt letter
    /// the recipient confirmed (`Delivered`), a written letter posted or faxed by hand. `note`
    /// (who confirmed it, a tracking number) is kept with the event.
    pub fn mark_by_hand(&mut self, key: &Key, to: State, note: Option<&str>) -> Result<()> {
        let Some(from) = to.marked_from(key.channel) else {
            bail!("`{to}` is not a state set by hand (delivered, posted or faxed)");
        };
        let from: Vec<Option<State>> = from.iter().copied().map(Some).collect();
        if from.is_empty() {
            bail!(
                "{key} cannot be marked {to}: it is a {} letter",
                key.channel.as_str()
            );
        }
        let note = note.unwrap_or("marked by hand");
        self.transition(key, &from, to, Some(note), None)
    }

    /// Remembers what a run was given (its signatories file and a sender from flags), so a
    /// later `status` or `send` without those flags acts on the same letters.
    pub fn record_run(&mut self, campaign: &str, run: &RunRecord) -> Result<()> {
        let now = self.now();
        store::put_run(&self.conn, campaign, &now, run)
            .with_context(|| format!("cannot write the ledger {}", self.path.display()))
    }

    /// The most recent run of `campaign` recorded by [`Ledger::record_run`].
    pub fn last_run(&self, campaign: &str) -> Result<Option<RunRecord>> {
        store::last_run(&self.conn, campaign)
            .with_context(|| format!("cannot read the ledger {}", self.path.display()))
    }

    fn cannot(&self, key: &Key, state: State) -> String {
        format!(
            "cannot record {key} as {state} in the ledger {}",
            self.path.display()
        )
    }

    /// Moves `key` from one of `from` (`None`: no row yet) to `to`, in one committed
    /// transaction, without waiting for the disk: only *pending* must be on disk before the
    /// dot, and [`Ledger::durable_ticket`] syncs for it.
    fn transition(
        &mut self,
        key: &Key,
        from: &[Option<State>],
        to: State,
        reply: Option<&str>,
        written: Option<(&str, &str)>,
    ) -> Result<()> {
        let now = self.now();
        let result = (|| -> Result<()> {
            self.sync_mode(false)?;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = store::row(&tx, key)?;
            let state = current.as_ref().map(|e| e.state);
            if !from.contains(&state) {
                bail!(
                    "it is {}; only {} can become {to}",
                    describe(state.map(|s| (s, 0))),
                    from.iter()
                        .map(|s| s.map_or("a new letter", State::as_str))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let attempts =
                current.as_ref().map_or(0, |e| e.attempts) + u32::from(to == State::Written);
            let change = store::Change {
                state: to,
                attempts,
                at: &now,
                reply,
                written,
            };
            store::put_state(&tx, key, &change)?;
            store::log_event(&tx, key, &now, to, reply.or(written.map(|(path, _)| path)))?;
            tx.commit()?;
            Ok(())
        })();
        result.with_context(|| self.cannot(key, to))
    }

    /// Every letter of `campaign`, ordered by signatory, recipient, channel.
    pub fn entries(&self, campaign: &str) -> Result<Vec<Entry>> {
        store::entries(&self.conn, campaign)
            .with_context(|| format!("cannot read the ledger {}", self.path.display()))
    }

    /// The transitions recorded for one letter, oldest first.
    pub fn history(&self, key: &Key) -> Result<Vec<Event>> {
        store::history(&self.conn, key)
            .with_context(|| format!("cannot read the ledger {}", self.path.display()))
    }
}

/// An existing ledger file of no bytes lost its records (truncated, or replaced by a failed
/// copy): SQLite would take it as a new database, and every letter would be sent again.
fn refuse_emptied(path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
        bail!(
            "the ledger {} is empty: its records of what was sent are gone. Nothing is sent \
             until it is restored from a backup; to start afresh on purpose (every letter sent \
             again), remove the file",
            path.display()
        );
    }
    Ok(())
}

/// States a failure or deferral may be recorded from: before any attempt (e.g. the server
/// was unreachable), during one, or again.
const RETRYABLE: &[Option<State>] = &[
    None,
    Some(State::Pending),
    Some(State::Sending),
    Some(State::Deferred),
    Some(State::Failed),
];

impl GroupSync {
    fn new(db: &Path) -> Arc<GroupSync> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Arc::new(GroupSync {
            wal: PathBuf::from(wal),
            committed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            file: Mutex::new(None),
        })
    }
}

fn describe(state: Option<(State, u32)>) -> String {
    match state {
        None => "not in the ledger".into(),
        Some((s, _)) => s.as_str().into(),
    }
}

pub mod mailbox;
mod report;
mod store;
#[cfg(test)]
mod tests;
