//! How the ledger is kept on disk: the schema and its migrations, opening the database file
//! safely, and reading and writing rows. The rules about states live in `ledger.rs`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::{Entry, Event, FILE, Key, RunRecord, State};
use crate::model::recipients::Channel;
use crate::model::sender::Sender;

/// Schema migrations, in order; `PRAGMA user_version` is how many have run. Never edit one
/// that has shipped: add a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: one row per letter, its current state.
    "CREATE TABLE letters (
        id           INTEGER PRIMARY KEY,
        campaign     TEXT NOT NULL,
        sender       TEXT NOT NULL,
        signatory    TEXT NOT NULL DEFAULT '',
        recipient    TEXT NOT NULL,
        channel      TEXT NOT NULL CHECK (channel IN ('email', 'post', 'fax')),
        state        TEXT NOT NULL CHECK (state IN
                       ('pending', 'sending', 'sent', 'written', 'failed', 'deferred', 'in_doubt')),
        message_id   TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created      TEXT NOT NULL,
        updated      TEXT NOT NULL,
        last_reply   TEXT,
        content_hash TEXT,
        output_path  TEXT,
        UNIQUE (campaign, sender, signatory, recipient, channel)
    ) STRICT;",
    // 2: every transition, for audits ("when did the ombudsman's letter go out?").
    "CREATE TABLE events (
        id     INTEGER PRIMARY KEY,
        letter INTEGER NOT NULL REFERENCES letters (id),
        at     TEXT NOT NULL,
        state  TEXT NOT NULL,
        detail TEXT
    ) STRICT;
    CREATE INDEX events_by_letter ON events (letter);",
    // 3: states set by hand (`appeal mark`), and what each run was given. SQLite cannot change
    // a CHECK constraint in place: the table is rebuilt, keeping every row and its id.
    "CREATE TABLE letters_v3 (
        id           INTEGER PRIMARY KEY,
        campaign     TEXT NOT NULL,
        sender       TEXT NOT NULL,
        signatory    TEXT NOT NULL DEFAULT '',
        recipient    TEXT NOT NULL,
        channel      TEXT NOT NULL CHECK (channel IN ('email', 'post', 'fax')),
        state        TEXT NOT NULL CHECK (state IN
                       ('pending', 'sending', 'sent', 'written', 'failed', 'deferred', 'in_doubt',
                        'delivered', 'posted', 'faxed')),
        message_id   TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created      TEXT NOT NULL,
        updated      TEXT NOT NULL,
        last_reply   TEXT,
        content_hash TEXT,
        output_path  TEXT,
        UNIQUE (campaign, sender, signatory, recipient, channel)
    ) STRICT;
    INSERT INTO letters_v3 SELECT * FROM letters;
    DROP TABLE letters;
    ALTER TABLE letters_v3 RENAME TO letters;
    CREATE TABLE runs (
        id               INTEGER PRIMARY KEY,
        campaign         TEXT NOT NULL,
        at               TEXT NOT NULL,
        command          TEXT NOT NULL,
        signatories      TEXT,
        signatories_hash TEXT,
        sender           TEXT
    ) STRICT;",
    // 4: a letter is (campaign, signatory, recipient, channel): who it is sent as is recorded,
    // not part of its identity, so a corrected email or name is a change, never a new letter.
    // Rows that version 3 kept apart for two senders become one: the one that went out (or may
    // have) is kept, else the latest; every event follows its letter.
    "CREATE TABLE letters_v4 (
        id           INTEGER PRIMARY KEY,
        campaign     TEXT NOT NULL,
        sender       TEXT NOT NULL,
        signatory    TEXT NOT NULL DEFAULT '',
        recipient    TEXT NOT NULL,
        channel      TEXT NOT NULL CHECK (channel IN ('email', 'post', 'fax')),
        state        TEXT NOT NULL CHECK (state IN
                       ('pending', 'sending', 'sent', 'written', 'failed', 'deferred', 'in_doubt',
                        'delivered', 'posted', 'faxed')),
        message_id   TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created      TEXT NOT NULL,
        updated      TEXT NOT NULL,
        last_reply   TEXT,
        content_hash TEXT,
        output_path  TEXT,
        UNIQUE (campaign, signatory, recipient, channel)
    ) STRICT;
    CREATE TEMP TABLE ranked AS
        SELECT id, campaign, signatory, recipient, channel,
               row_number() OVER (
                   PARTITION BY campaign, signatory, recipient, channel
                   ORDER BY CASE
                              WHEN state IN ('sent', 'delivered', 'posted', 'faxed', 'written') THEN 0
                              WHEN state IN ('sending', 'in_doubt') THEN 1
                              WHEN state = 'failed' THEN 2
                              ELSE 3
                            END,
                            updated DESC, id DESC) AS rank
        FROM letters;
    INSERT INTO letters_v4 SELECT * FROM letters WHERE id IN (SELECT id FROM ranked WHERE rank = 1);
    UPDATE events SET letter = (
        SELECT k.id FROM ranked r JOIN ranked k
            ON k.campaign = r.campaign AND k.signatory = r.signatory
           AND k.recipient = r.recipient AND k.channel = r.channel AND k.rank = 1
        WHERE r.id = events.letter)
    WHERE letter NOT IN (SELECT id FROM letters_v4);
    DROP TABLE ranked;
    DROP TABLE letters;
    ALTER TABLE letters_v4 RENAME TO letters;",
    // 5: `data_boot`, the boot of the machine a pending letter's attempt ran on (see
    // `Ledger::mark_sending`), and what came back to the sender's mailbox (`appeal inbox`). A letter that bounced hard,
    // drew an auto-reply or was answered has a state for it; a soft bounce only counts. Each
    // message read is an event of its own in `mailbox_events` (a letter can bounce softly twice,
    // then be answered); `token` is the letter's part of a VERP bounce address; `mailboxes`
    // remembers, per mailbox, how far it was read.
    "CREATE TABLE letters_v5 (
        id           INTEGER PRIMARY KEY,
        campaign     TEXT NOT NULL,
        sender       TEXT NOT NULL,
        signatory    TEXT NOT NULL DEFAULT '',
        recipient    TEXT NOT NULL,
        channel      TEXT NOT NULL CHECK (channel IN ('email', 'post', 'fax')),
        state        TEXT NOT NULL CHECK (state IN
                       ('pending', 'sending', 'sent', 'written', 'failed', 'deferred', 'in_doubt',
                        'delivered', 'posted', 'faxed', 'bounced', 'auto_replied', 'replied')),
        message_id   TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created      TEXT NOT NULL,
        updated      TEXT NOT NULL,
        last_reply   TEXT,
        content_hash TEXT,
        output_path  TEXT,
        token        TEXT UNIQUE,
        soft_bounces INTEGER NOT NULL DEFAULT 0,
        data_boot    TEXT,
        UNIQUE (campaign, signatory, recipient, channel)
    ) STRICT;
    INSERT INTO letters_v5
        SELECT id, campaign, sender, signatory, recipient, channel, state, message_id, attempts,
               created, updated, last_reply, content_hash, output_path, NULL, 0, NULL
        FROM letters;
    DROP TABLE letters;
    ALTER TABLE letters_v5 RENAME TO letters;
    CREATE INDEX letters_by_message_id ON letters (message_id);
    CREATE TABLE mailbox_events (
        id         INTEGER PRIMARY KEY,
        letter     INTEGER NOT NULL REFERENCES letters (id),
        kind       TEXT NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'auto_reply', 'reply')),
        read_at    TEXT NOT NULL,
        dated      TEXT,
        sender     TEXT,
        subject    TEXT,
        status     TEXT,
        diagnostic TEXT,
        saved      TEXT
    ) STRICT;
    CREATE INDEX mailbox_events_by_letter ON mailbox_events (letter);
    CREATE TABLE mailboxes (
        mailbox     TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid    INTEGER NOT NULL,
        read_at     TEXT NOT NULL,
        ignored     INTEGER NOT NULL DEFAULT 0
    ) STRICT;",
    // 6: reading a mailbox again (its UIDVALIDITY changed) counts nothing twice: a message is
    // known by its own Message-ID (or a digest of it when it has none), one event per letter,
    // kind and message; `address` is the recipient address a bounce names, so a corrected
    // address in recipients.toml is not taken for the dead one.
    "ALTER TABLE mailbox_events ADD COLUMN message TEXT;
    ALTER TABLE mailbox_events ADD COLUMN address TEXT;
    CREATE UNIQUE INDEX mailbox_events_once ON mailbox_events (letter, kind, message);",
];

pub(super) fn channel_str(c: Channel) -> &'static str {
    c.as_str()
}

fn parse_channel(s: &str) -> Result<Channel> {
    match s {
        "email" => Ok(Channel::Email),
        "post" => Ok(Channel::Post),
        "fax" => Ok(Channel::Fax),
        other => bail!("unknown channel `{other}` in the ledger"),
    }
}

/// Refuses a symlink or a non-directory at `.appeal` and symlinks at the database files:
/// the ledger is never written through a link someone else planted.
pub(super) fn check_paths(dir: &Path) -> Result<()> {
    if let Ok(m) = std::fs::symlink_metadata(dir) {
        if crate::files::is_link(dir) {
            bail!(
                "{} is a symbolic link; the ledger is never written through a link. Replace it with a directory",
                dir.display()
            );
        }
        if !m.is_dir() {
            bail!("{} exists and is not a directory", dir.display());
        }
    }
    for name in [FILE, "ledger.db-wal", "ledger.db-shm", "ledger.db-journal"] {
        let p = dir.join(name);
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            if crate::files::is_link(&p) {
                bail!(
                    "{} is a symbolic link; the ledger is never written through a link",
                    p.display()
                );
            }
            if name == FILE && !m.is_file() {
                bail!("{} exists and is not a file", p.display());
            }
        }
    }
    Ok(())
}

/// Runs the migrations not yet applied, each in its own transaction with its version bump.
fn migrate(conn: &mut Connection, target: usize) -> Result<()> {
    let version = schema_version(conn)?;
    if version > MIGRATIONS.len() {
        bail!(
            "schema version {version} is newer than this appeal knows ({}); use a newer appeal",
            MIGRATIONS.len()
        );
    }
    // A migration may rebuild a table that `events` refers to; the references are checked
    // once it is done (foreign keys cannot be switched inside a transaction).
    conn.pragma_update(None, "foreign_keys", false)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(version) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)
            .with_context(|| format!("migration {}", i + 1))?;
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            bail!("migration {} left {broken} broken references", i + 1);
        }
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Opens the database for sending: read-write (refusing a file that SQLite could only open
/// read-only), WAL, `synchronous=FULL` so a commit survives power loss, a busy timeout for a
/// second process, and migrated to `target`.
pub(super) fn open_for_writing(path: &Path, target: usize) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NOFOLLOW
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        bail!("the file is read-only");
    }
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("cannot switch to WAL journal mode (got `{mode}`)");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    migrate(&mut conn, target)?;
    Ok(conn)
}

/// Opens an existing database read-only, at the current schema version. A ledger an older
/// appeal wrote is migrated first (the one write a reading command makes), so that a new
/// version of the tool reads it without a `send`.
pub(super) fn open_for_reading(path: &Path) -> Result<Connection> {
    let mut conn = open_read_only(path)?;
    let version = schema_version(&conn)?;
    if version < MIGRATIONS.len() {
        drop(conn);
        drop(open_for_writing(path, MIGRATIONS.len()).with_context(|| {
            format!(
                "it was written by an older appeal (schema version {version}) and cannot be \
                 brought to version {}",
                MIGRATIONS.len()
            )
        })?);
        conn = open_read_only(path)?;
    }
    let version = schema_version(&conn)?;
    if version != MIGRATIONS.len() {
        bail!(
            "schema version {version} is newer than this appeal knows ({}); use a newer appeal",
            MIGRATIONS.len()
        );
    }
    Ok(conn)
}

fn open_read_only(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NOFOLLOW
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// The schema version stored in the database (`PRAGMA user_version`).
fn schema_version(conn: &Connection) -> Result<usize> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(version).unwrap_or(usize::MAX))
}

/// Waits for the disk on every commit (`FULL`) or only on checkpoints (`NORMAL`).
pub(super) fn set_synchronous(conn: &Connection, full: bool) -> Result<()> {
    conn.pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
    Ok(())
}

/// Copies the WAL into the database file (syncing it first), without waiting for readers.
pub(super) fn checkpoint(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}

/// The row for `key`, if any.
pub(super) fn row(conn: &Connection, key: &Key) -> Result<Option<Entry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT campaign, sender, signatory, recipient, channel, state, message_id, attempts,
                created, updated, last_reply, content_hash, output_path, data_boot
         FROM letters
         WHERE campaign = ?1 AND signatory = ?2 AND recipient = ?3 AND channel = ?4",
    )?;
    let raw = stmt
        .query_row(
            params![
                key.letter.campaign,
                key.signatory(),
                key.letter.recipient,
                channel_str(key.channel)
            ],
            RawEntry::from_row,
        )
        .optional()?;
    raw.map(RawEntry::into_entry).transpose()
}

pub(super) fn log_event(
    tx: &rusqlite::Transaction<'_>,
    key: &Key,
    at: &str,
    state: State,
    detail: Option<&str>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO events (letter, at, state, detail)
         SELECT id, ?5, ?6, ?7 FROM letters
         WHERE campaign = ?1 AND signatory = ?2 AND recipient = ?3 AND channel = ?4",
    )?
    .execute(params![
        key.letter.campaign,
        key.signatory(),
        key.letter.recipient,
        channel_str(key.channel),
        at,
        state.as_str(),
        detail
    ])?;
    Ok(())
}

/// Inserts or updates `key` as *pending* for attempt `attempts`, with its Message-ID and
/// content hash; the last reply of an earlier attempt is cleared.
pub(super) fn put_pending(
    tx: &rusqlite::Transaction<'_>,
    key: &Key,
    message_id: &str,
    attempts: u32,
    at: &str,
    content_hash: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO letters (campaign, sender, signatory, recipient, channel, state,
                              message_id, attempts, created, updated, content_hash, data_boot)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?8, ?9, ?10)
         ON CONFLICT (campaign, signatory, recipient, channel) DO UPDATE SET
            sender = ?2, state = 'pending', message_id = ?6, attempts = ?7, updated = ?8,
            content_hash = ?9, last_reply = NULL, data_boot = ?10",
    )?
    .execute(params![
        key.letter.campaign,
        key.sender,
        key.signatory(),
        key.letter.recipient,
        channel_str(key.channel),
        message_id,
        attempts,
        at,
        content_hash,
        super::boot_id()
    ])?;
    Ok(())
}

/// A letter's move to a new state, as [`put_state`] writes it.
pub(super) struct Change<'a> {
    pub state: State,
    pub attempts: u32,
    pub at: &'a str,
    /// The server's reply or the local reason; `None` keeps the one recorded.
    pub reply: Option<&'a str>,
    /// A written PDF: its path and content hash.
    pub written: Option<(&'a str, &'a str)>,
}

/// Inserts or updates `key` with `change`, keeping the recorded reply, path and hash where
/// the change brings none.
pub(super) fn put_state(tx: &rusqlite::Transaction<'_>, key: &Key, change: &Change) -> Result<()> {
    let (output, hash) = match change.written {
        Some((p, h)) => (Some(p), Some(h)),
        None => (None, None),
    };
    tx.prepare_cached(
        "INSERT INTO letters (campaign, sender, signatory, recipient, channel, state,
                              attempts, created, updated, last_reply, output_path,
                              content_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)
         ON CONFLICT (campaign, signatory, recipient, channel) DO UPDATE SET
            sender = ?2, state = ?6, attempts = ?7, updated = ?8,
            last_reply = coalesce(?9, last_reply),
            output_path = coalesce(?10, output_path),
            content_hash = coalesce(?11, content_hash)",
    )?
    .execute(params![
        key.letter.campaign,
        key.sender,
        key.signatory(),
        key.letter.recipient,
        channel_str(key.channel),
        change.state.as_str(),
        change.attempts,
        change.at,
        change.reply,
        output,
        hash
    ])?;
    Ok(())
}

/// Every letter of `campaign`, ordered by signatory, recipient, channel.
pub(super) fn entries(conn: &Connection, campaign: &str) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT campaign, sender, signatory, recipient, channel, state, message_id,
                attempts, created, updated, last_reply, content_hash, output_path, data_boot
         FROM letters WHERE campaign = ?1
         ORDER BY signatory, recipient, channel, sender",
    )?;
    let rows = stmt.query_map([campaign], RawEntry::from_row)?;
    rows.map(|r| {
        r.map_err(anyhow::Error::from)
            .and_then(RawEntry::into_entry)
    })
    .collect()
}

/// The transitions recorded for one letter, oldest first.
pub(super) fn history(conn: &Connection, key: &Key) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare(
        "SELECT e.at, e.state, e.detail FROM events e JOIN letters l ON l.id = e.letter
         WHERE l.campaign = ?1 AND l.signatory = ?2 AND l.recipient = ?3 AND l.channel = ?4
         ORDER BY e.id",
    )?;
    let rows = stmt.query_map(
        params![
            key.letter.campaign,
            key.signatory(),
            key.letter.recipient,
            channel_str(key.channel)
        ],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
    )?;
    rows.map(|r| {
        let (at, state, detail) = r?;
        Ok(Event {
            at,
            state: State::parse(&state)?,
            detail,
        })
    })
    .collect()
}

/// Stores what a run was given; the sender as JSON.
pub(super) fn put_run(conn: &Connection, campaign: &str, at: &str, run: &RunRecord) -> Result<()> {
    let (file, hash) = match &run.signatories {
        Some((f, h)) => (Some(f.as_str()), Some(h.as_str())),
        None => (None, None),
    };
    let sender = run.sender.as_ref().map(sender_json).transpose()?;
    conn.prepare_cached(
        "INSERT INTO runs (campaign, at, command, signatories, signatories_hash, sender)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![campaign, at, run.command, file, hash, sender])?;
    Ok(())
}

/// The latest run stored for `campaign`.
pub(super) fn last_run(conn: &Connection, campaign: &str) -> Result<Option<RunRecord>> {
    let row = conn
        .prepare_cached(
            "SELECT at, command, signatories, signatories_hash, sender FROM runs
             WHERE campaign = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([campaign], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .optional()?;
    let Some((at, command, file, hash, sender)) = row else {
        return Ok(None);
    };
    Ok(Some(RunRecord {
        at,
        command,
        signatories: file.zip(hash),
        sender: sender.as_deref().map(sender_from_json).transpose()?,
    }))
}

fn sender_json(s: &Sender) -> Result<String> {
    Ok(serde_json::to_string(&serde_json::json!({
        "id": s.id,
        "name": s.name,
        "email": s.email,
        "address": s.address,
        "city": s.city,
        "note": s.note,
        "signature": s.signature,
        "extra": s.extra,
    }))?)
}

fn sender_from_json(text: &str) -> Result<Sender> {
    #[derive(serde::Deserialize)]
    struct Stored {
        id: Option<String>,
        name: String,
        email: Option<String>,
        address: Vec<String>,
        city: Option<String>,
        note: Option<String>,
        signature: Option<std::path::PathBuf>,
        extra: std::collections::BTreeMap<String, String>,
    }
    let s: Stored = serde_json::from_str(text).context("a run's sender in the ledger")?;
    Ok(Sender {
        id: s.id,
        name: s.name,
        email: s.email,
        address: s.address,
        city: s.city,
        note: s.note,
        signature: s.signature,
        extra: s.extra,
    })
}

/// A row as stored, before its text columns are parsed.
pub(super) struct RawEntry {
    campaign: String,
    sender: String,
    signatory: String,
    recipient: String,
    channel: String,
    state: String,
    message_id: Option<String>,
    attempts: i64,
    created: String,
    updated: String,
    last_reply: Option<String>,
    content_hash: Option<String>,
    output_path: Option<String>,
    data_boot: Option<String>,
}

impl RawEntry {
    pub(super) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
        Ok(RawEntry {
            campaign: r.get(0)?,
            sender: r.get(1)?,
            signatory: r.get(2)?,
            recipient: r.get(3)?,
            channel: r.get(4)?,
            state: r.get(5)?,
            message_id: r.get(6)?,
            attempts: r.get(7)?,
            created: r.get(8)?,
            updated: r.get(9)?,
            last_reply: r.get(10)?,
            content_hash: r.get(11)?,
            output_path: r.get(12)?,
            data_boot: r.get(13)?,
        })
    }

    pub(super) fn into_entry(self) -> Result<Entry> {
        let mut state = State::parse(&self.state)?;
        let mut last_reply = self.last_reply;
        // Pending, on another boot of the machine: the commit that made it *sending* just
        // before the final dot was not synced, so a power loss may have taken it. The data
        // may have gone out: in doubt, like a letter left sending.
        if state == State::Pending
            && self
                .data_boot
                .as_deref()
                .is_some_and(|b| b != super::boot_id())
        {
            state = State::Sending;
            last_reply.get_or_insert_with(|| {
                "the machine restarted while this letter was being sent; it may have arrived".into()
            });
        }
        Ok(Entry {
            campaign: self.campaign,
            sender: self.sender,
            signatory: (!self.signatory.is_empty()).then_some(self.signatory),
            recipient: self.recipient,
            channel: parse_channel(&self.channel)?,
            state,
            message_id: self.message_id,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            created: self.created,
            updated: self.updated,
            last_reply,
            content_hash: self.content_hash,
            output_path: self.output_path,
        })
    }
}
