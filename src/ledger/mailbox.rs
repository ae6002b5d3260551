//! What came back to the sender's mailbox, in the ledger: each letter's VERP token, the
//! messages `appeal inbox` matched to a letter (`mailbox_events`), how far each mailbox was
//! read (`mailboxes`), and what `status`, `check` and `send` want to know of it. Every SQL
//! statement about the mailbox lives here.
//!
//! A message moves its letter by precedence, never back: *replied* over *bounced* over
//! *auto_replied* over the states a letter that went out can be in (`sent`, `delivered`, or
//! still `sending`/`in_doubt`, which a message about it settles as arrived). A soft bounce
//! only counts. Every message is kept as an event, once: a second reading of the same message
//! (the mailbox's UIDVALIDITY changed) finds its event there and changes nothing.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::store::{self, RawEntry};
use super::{Entry, Key, Ledger, State};

/// What a message read from the mailbox says about a letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A delivery-status report with a 5.x.x status (5.2.2, mailbox full, excepted).
    HardBounce,
    /// A delivery-status report with a 4.x.x status, or 5.2.2.
    SoftBounce,
    /// An automatic reply (RFC 3834, vacation notices).
    AutoReply,
    /// A person's answer.
    Reply,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::HardBounce => "hard_bounce",
            MailKind::SoftBounce => "soft_bounce",
            MailKind::AutoReply => "auto_reply",
            MailKind::Reply => "reply",
        }
    }

    /// The state a letter reaches by this message alone; `None` for a soft bounce.
    pub fn state(self) -> Option<State> {
        match self {
            MailKind::HardBounce => Some(State::Bounced),
            MailKind::SoftBounce => None,
            MailKind::AutoReply => Some(State::AutoReplied),
            MailKind::Reply => Some(State::Replied),
        }
    }
}

/// One message matched to a letter, as it is recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailEvent {
    /// The message's own Message-ID, or a digest of it when it has none: a message is
    /// recorded once per letter and kind.
    pub message: String,
    /// When the message is dated (RFC 3339).
    pub dated: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// A bounce's status code, e.g. `5.1.1`.
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    /// Where the raw message was saved, relative to the campaign's output folder.
    pub saved: Option<String>,
    /// The recipient address a bounce names.
    pub address: Option<String>,
}

/// A letter a message was matched to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    id: i64,
    pub entry: Entry,
}

/// What recording a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The message was already recorded for this letter: nothing changed.
    Again,
    /// Recorded; the letter went from the first state to the second (the same when the
    /// message did not move it).
    New(State, State),
}

/// How far a mailbox was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxMark {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// What `status` shows of the mailbox about one letter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MailDetail {
    pub soft_bounces: u32,
    /// The latest bounce's status and diagnostic, e.g. `5.1.1 user unknown`.
    pub last_diagnostic: Option<String>,
    /// When the latest reply is dated.
    pub replied: Option<String>,
    /// Who sent the latest reply.
    pub replied_by: Option<String>,
}

/// A hard bounce of a letter of the campaign: a dead address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadAddress {
    pub recipient: String,
    pub signatory: Option<String>,
    /// The address the bounce named, when it named one.
    pub address: Option<String>,
    /// When the bounce is dated, else when it was read.
    pub dated: String,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

/// The rank of a state in the precedence of messages: higher wins.
fn rank(state: State) -> u8 {
    match state {
        State::Replied => 3,
        State::Bounced => 2,
        State::AutoReplied => 1,
        _ => 0,
    }
}

/// The states a letter that went out by email can be in: only these take a message.
const WENT_OUT: &[State] = &[
    State::Sent,
    State::Sending,
    State::InDoubt,
    State::Delivered,
    State::Bounced,
    State::AutoReplied,
    State::Replied,
];

const ENTRY_COLUMNS: &str = "l.campaign, l.sender, l.signatory, l.recipient, l.channel, l.state, \
     l.message_id, l.attempts, l.created, l.updated, l.last_reply, l.content_hash, \
     l.output_path, l.data_boot, l.id";

impl Ledger {
    /// Keeps `token` as the letter's part of its bounce address (set with its *pending* mark;
    /// the same on every retry, since it derives from the Message-ID).
    pub fn set_token(&mut self, key: &Key, token: &str) -> Result<()> {
        let result = self
            .conn
            .prepare_cached(
                "UPDATE letters SET token = ?5
                 WHERE campaign = ?1 AND signatory = ?2 AND recipient = ?3 AND channel = ?4",
            )
            .and_then(|mut s| {
                s.execute(params![
                    key.letter.campaign,
                    key.signatory(),
                    key.letter.recipient,
                    store::channel_str(key.channel),
                    token
                ])
            });
        result.with_context(|| format!("cannot record the bounce token of {key}"))?;
        Ok(())
    }

    /// The letter that went out with one of `message_ids` (as in its Message-ID header, with
    /// or without angle brackets) or one of `tokens`; the first found, in that order.
    pub fn find_letter(
        &self,
        message_ids: &[String],
        tokens: &[String],
    ) -> Result<Option<Matched>> {
        let by_id = format!(
            "SELECT {ENTRY_COLUMNS} FROM letters l WHERE l.message_id = ?1 AND l.channel = 'email'"
        );
        let by_token = format!(
            "SELECT {ENTRY_COLUMNS} FROM letters l WHERE l.token = ?1 AND l.channel = 'email'"
        );
        let lookups = message_ids
            .iter()
            .map(|id| (by_id.as_str(), bracketed(id)))
            .chain(tokens.iter().map(|t| (by_token.as_str(), t.to_lowercase())));
        for (sql, value) in lookups {
            let found = self
                .conn
                .prepare_cached(sql)?
                .query_row([&value], |r| {
                    Ok((RawEntry::from_row(r)?, r.get::<_, i64>(14)?))
                })
                .optional()
                .with_context(|| format!("cannot read the ledger {}", self.path.display()))?;
            if let Some((raw, id)) = found {
                return Ok(Some(Matched {
                    id,
                    entry: raw.into_entry()?,
                }));
            }
        }
        Ok(None)
    }

    /// Records that a message of `kind` about `letter` was read, moving the letter by the
    /// precedence of the module docs, in one transaction. A message already recorded for the
    /// letter and kind changes nothing.
    pub fn record_mail(
        &mut self,
        letter: &Matched,
        kind: MailKind,
        event: &MailEvent,
    ) -> Result<Recorded> {
        let now = self.now();
        let key = letter.entry.key();
        let result = (|| -> Result<Recorded> {
            self.sync_mode(false)?;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let added = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO mailbox_events
                       (letter, kind, read_at, dated, sender, subject, status, diagnostic, saved,
                        message, address)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?
                .execute(params![
                    letter.id,
                    kind.as_str(),
                    now,
                    event.dated,
                    event.sender,
                    event.subject,
                    event.status,
                    event.diagnostic,
                    event.saved,
                    event.message,
                    event.address
                ])?;
            let Some(row) = store::row(&tx, &key)? else {
                bail!("the letter is no longer in the ledger");
            };
            if added == 0 {
                return Ok(Recorded::Again);
            }
            if !WENT_OUT.contains(&row.state) {
                bail!("it is {}, and never went out by email", row.state);
            }
            let to = match kind.state() {
                Some(s) if rank(s) > rank(row.state) => s,
                _ => row.state,
            };
            if kind == MailKind::SoftBounce {
                tx.execute(
                    "UPDATE letters SET soft_bounces = soft_bounces + 1 WHERE id = ?1",
                    [letter.id],
                )?;
            }
            if to != row.state {
                tx.execute(
                    "UPDATE letters SET state = ?2, updated = ?3 WHERE id = ?1",
                    params![letter.id, to.as_str(), now],
                )?;
                let detail = event_detail(kind, event);
                store::log_event(&tx, &key, &now, to, Some(&detail))?;
            }
            tx.commit()?;
            Ok(Recorded::New(row.state, to))
        })();
        result.with_context(|| format!("cannot record a {} of {key}", kind.as_str()))
    }

    /// How far `mailbox` was read, if it ever was.
    pub fn mailbox_mark(&self, mailbox: &str) -> Result<Option<MailboxMark>> {
        let found = self
            .conn
            .prepare_cached("SELECT uidvalidity, last_uid FROM mailboxes WHERE mailbox = ?1")?
            .query_row([mailbox], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()
            .with_context(|| format!("cannot read the ledger {}", self.path.display()))?;
        Ok(found.map(|(v, u)| MailboxMark {
            uidvalidity: u32::try_from(v).unwrap_or(0),
            last_uid: u32::try_from(u).unwrap_or(0),
        }))
    }

    /// Remembers that `mailbox` was read up to `mark`, `ignored` more messages matching no
    /// letter (counted afresh when the UIDVALIDITY changed: the mailbox was read again).
    pub fn set_mailbox_mark(
        &mut self,
        mailbox: &str,
        mark: MailboxMark,
        ignored: u64,
    ) -> Result<()> {
        let now = self.now();
        let ignored = i64::try_from(ignored).unwrap_or(i64::MAX);
        let result = self
            .conn
            .prepare_cached(
                "INSERT INTO mailboxes (mailbox, uidvalidity, last_uid, read_at, ignored)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (mailbox) DO UPDATE SET
                   ignored = CASE WHEN uidvalidity = ?2 THEN ignored + ?5 ELSE ?5 END,
                   uidvalidity = ?2, last_uid = ?3, read_at = ?4",
            )
            .and_then(|mut s| {
                s.execute(params![
                    mailbox,
                    i64::from(mark.uidvalidity),
                    i64::from(mark.last_uid),
                    now,
                    ignored
                ])
            });
        result.with_context(|| format!("cannot write the ledger {}", self.path.display()))?;
        Ok(())
    }

    /// What the mailbox said about each letter of `campaign` that it said anything about,
    /// by ledger key.
    pub fn mail_details(&self, campaign: &str) -> Result<HashMap<Key, MailDetail>> {
        let result = (|| -> Result<HashMap<Key, MailDetail>> {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT {ENTRY_COLUMNS}, l.soft_bounces,
                   (SELECT trim(coalesce(e.status, '') || ' ' || coalesce(e.diagnostic, ''))
                      FROM mailbox_events e WHERE e.letter = l.id
                       AND e.kind IN ('hard_bounce', 'soft_bounce') ORDER BY e.id DESC LIMIT 1),
                   (SELECT coalesce(e.dated, e.read_at) || char(10) || coalesce(e.sender, '')
                      FROM mailbox_events e WHERE e.letter = l.id AND e.kind = 'reply'
                     ORDER BY e.id DESC LIMIT 1)
                 FROM letters l
                 WHERE l.campaign = ?1
                   AND (l.soft_bounces > 0
                        OR EXISTS (SELECT 1 FROM mailbox_events e WHERE e.letter = l.id))"
            ))?;
            let rows = stmt.query_map([campaign], |r| {
                Ok((
                    RawEntry::from_row(r)?,
                    r.get::<_, i64>(15)?,
                    r.get::<_, Option<String>>(16)?,
                    r.get::<_, Option<String>>(17)?,
                ))
            })?;
            let mut out = HashMap::new();
            for row in rows {
                let (raw, soft, diagnostic, reply) = row?;
                let (replied, replied_by) = match reply.as_deref().and_then(|r| r.split_once('\n'))
                {
                    Some((at, by)) => (
                        Some(at.to_string()),
                        (!by.is_empty()).then(|| by.to_string()),
                    ),
                    None => (None, None),
                };
                let detail = MailDetail {
                    soft_bounces: u32::try_from(soft).unwrap_or(0),
                    last_diagnostic: diagnostic.filter(|d| !d.is_empty()),
                    replied,
                    replied_by,
                };
                out.insert(raw.into_entry()?.key(), detail);
            }
            Ok(out)
        })();
        result.with_context(|| format!("cannot read the ledger {}", self.path.display()))
    }

    /// The hard bounces of `campaign`'s letters that are bounced now, latest first per letter.
    pub fn dead_addresses(&self, campaign: &str) -> Result<Vec<DeadAddress>> {
        let result = (|| -> Result<Vec<DeadAddress>> {
            let mut stmt = self.conn.prepare(
                "SELECT l.recipient, l.signatory, e.address, coalesce(e.dated, e.read_at),
                        e.status, e.diagnostic
                 FROM mailbox_events e JOIN letters l ON l.id = e.letter
                 WHERE l.campaign = ?1 AND l.state = 'bounced' AND e.kind = 'hard_bounce'
                   AND e.id = (SELECT max(id) FROM mailbox_events
                               WHERE letter = l.id AND kind = 'hard_bounce')
                 ORDER BY l.recipient, l.signatory",
            )?;
            let rows = stmt.query_map([campaign], |r| {
                let signatory: String = r.get(1)?;
                Ok(DeadAddress {
                    recipient: r.get(0)?,
                    signatory: (!signatory.is_empty()).then_some(signatory),
                    address: r.get(2)?,
                    dated: r.get(3)?,
                    status: r.get(4)?,
                    diagnostic: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })();
        result.with_context(|| format!("cannot read the ledger {}", self.path.display()))
    }
}

/// `<id>` whether or not `id` came with its angle brackets, as the ledger keeps Message-IDs.
fn bracketed(id: &str) -> String {
    let inner = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{inner}>")
}

/// The line kept in the letter's history for a message that moved it.
fn event_detail(kind: MailKind, event: &MailEvent) -> String {
    let what = match kind {
        MailKind::HardBounce | MailKind::SoftBounce => {
            [event.status.as_deref(), event.diagnostic.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        }
        MailKind::AutoReply | MailKind::Reply => format!(
            "from {}: {}",
            event.sender.as_deref().unwrap_or("?"),
            event.subject.as_deref().unwrap_or("")
        ),
    };
    format!("{} read from the mailbox; {what}", kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Flags;
    use crate::letter::LetterKey;
    use crate::model::recipients::Channel;

    const HASH: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn key(recipient: &str) -> Key {
        let letter = LetterKey {
            campaign: "test".into(),
            signatory: None,
            recipient: recipient.into(),
        };
        Key::new(&letter, "alex@example.org", Channel::Email)
    }

    /// A ledger with one letter to `ombudsman`, sent with Message-ID `<m@example.org>`.
    fn sent() -> (tempfile::TempDir, Ledger, Key) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut l = Ledger::open(dir.path()).expect("open");
        let k = key("ombudsman");
        let Decision::Send(a) = l.decide(&k, HASH, Flags::default()).expect("decide") else {
            panic!("a new letter is sent");
        };
        l.mark_pending(&a, "<m@example.org>", HASH)
            .expect("pending");
        l.set_token(&k, "abcdefghij234567").expect("token");
        l.mark_data_started(&k).expect("sending");
        l.mark_sent(&k, "250 ok").expect("sent");
        (dir, l, k)
    }

    fn message(id: &str) -> MailEvent {
        MailEvent {
            message: id.into(),
            status: Some("5.1.1".into()),
            diagnostic: Some("550 user unknown".into()),
            ..MailEvent::default()
        }
    }

    use super::super::Decision;

    #[test]
    fn letters_are_found_by_message_id_or_token() {
        let (_dir, l, _) = sent();
        let by_id = l.find_letter(&["m@example.org".into()], &[]).expect("find");
        assert_eq!(
            by_id.map(|m| m.entry.recipient).as_deref(),
            Some("ombudsman")
        );
        let by_token = l
            .find_letter(&[], &["ABCDEFGHIJ234567".into()])
            .expect("find");
        assert!(by_token.is_some());
        assert!(
            l.find_letter(&["<x@example.org>".into()], &["nope".into()])
                .expect("find")
                .is_none()
        );
    }

    #[test]
    fn a_reply_outranks_a_bounce_which_outranks_an_auto_reply_and_nothing_counts_twice() {
        let (_dir, mut l, k) = sent();
        let m = l
            .find_letter(&["<m@example.org>".into()], &[])
            .unwrap()
            .unwrap();
        let soft = l
            .record_mail(&m, MailKind::SoftBounce, &message("<s@x>"))
            .unwrap();
        assert_eq!(soft, Recorded::New(State::Sent, State::Sent));
        assert_eq!(
            l.record_mail(&m, MailKind::SoftBounce, &message("<s@x>"))
                .unwrap(),
            Recorded::Again
        );
        let auto = l
            .record_mail(&m, MailKind::AutoReply, &message("<a@x>"))
            .unwrap();
        assert_eq!(auto, Recorded::New(State::Sent, State::AutoReplied));
        let hard = l
            .record_mail(&m, MailKind::HardBounce, &message("<h@x>"))
            .unwrap();
        assert_eq!(hard, Recorded::New(State::AutoReplied, State::Bounced));
        let later = l
            .record_mail(&m, MailKind::AutoReply, &message("<a2@x>"))
            .unwrap();
        assert_eq!(later, Recorded::New(State::Bounced, State::Bounced));
        let reply = l
            .record_mail(&m, MailKind::Reply, &message("<r@x>"))
            .unwrap();
        assert_eq!(reply, Recorded::New(State::Bounced, State::Replied));
        let details = l.mail_details("test").unwrap();
        assert_eq!(details[&k].soft_bounces, 1);
        assert_eq!(
            details[&k].last_diagnostic.as_deref(),
            Some("5.1.1 550 user unknown")
        );
        // Replied now: not a dead address any more.
        assert!(l.dead_addresses("test").unwrap().is_empty());
    }

    #[test]
    fn a_hard_bounce_is_a_dead_address() {
        let (_dir, mut l, _) = sent();
        let m = l
            .find_letter(&["<m@example.org>".into()], &[])
            .unwrap()
            .unwrap();
        let mut bounce = message("<h@x>");
        bounce.address = Some("ombudsman@example.kz".into());
        bounce.dated = Some("2014-07-15T09:12:03+06:00".into());
        l.record_mail(&m, MailKind::HardBounce, &bounce).unwrap();
        let dead = l.dead_addresses("test").unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].address.as_deref(), Some("ombudsman@example.kz"));
        assert_eq!(dead[0].dated, "2014-07-15T09:12:03+06:00");
    }

    #[test]
    fn the_mark_is_kept_and_a_new_uidvalidity_counts_afresh() {
        let (_dir, mut l, _) = sent();
        assert_eq!(l.mailbox_mark("imaps://a@b:993/INBOX").unwrap(), None);
        let mark = MailboxMark {
            uidvalidity: 7,
            last_uid: 500,
        };
        l.set_mailbox_mark("imaps://a@b:993/INBOX", mark, 3)
            .unwrap();
        l.set_mailbox_mark(
            "imaps://a@b:993/INBOX",
            MailboxMark {
                last_uid: 600,
                ..mark
            },
            2,
        )
        .unwrap();
        let ignored = |l: &Ledger| -> i64 {
            l.conn
                .query_row("SELECT ignored FROM mailboxes", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(ignored(&l), 5);
        let new = MailboxMark {
            uidvalidity: 8,
            last_uid: 40,
        };
        l.set_mailbox_mark("imaps://a@b:993/INBOX", new, 4).unwrap();
        assert_eq!(ignored(&l), 4);
        assert_eq!(l.mailbox_mark("imaps://a@b:993/INBOX").unwrap(), Some(new));
    }

    #[test]
    fn a_paper_letter_takes_no_mail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut l = Ledger::open(dir.path()).expect("open");
        let letter = LetterKey {
            campaign: "test".into(),
            signatory: None,
            recipient: "president".into(),
        };
        let k = Key::new(&letter, "Alex", Channel::Post);
        l.mark_written(&k, std::path::Path::new("out/president.pdf"), HASH)
            .unwrap();
        l.conn
            .execute("UPDATE letters SET message_id = '<p@example.org>'", [])
            .unwrap();
        assert!(
            l.find_letter(&["<p@example.org>".into()], &[])
                .unwrap()
                .is_none()
        );
    }
}
