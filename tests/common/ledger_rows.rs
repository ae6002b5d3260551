//! A STAND-IN FOR `appeal inbox` (issue 16, points 1–3, built on another branch): puts what
//! a mailbox brought into the ledger the way inbox records it under the ledger contract
//! (migration 5): one `mailbox_events` row per message read, the letter's new state and its
//! `events` row for a hard bounce, an auto-reply or a reply, the soft-bounce count for a soft
//! bounce, and a reply's raw message saved under `out/<campaign>/replies/`. Once inbox is
//! merged, the report tests should drop real messages into its IMAP mailbox instead.

use std::path::Path;

use rusqlite::{Connection, params};

/// What came back for one letter.
pub enum Kind {
    HardBounce,
    SoftBounce,
    AutoReply,
    Reply,
}

/// One message read from the mailbox, about the letter of `signatory` to `recipient`.
pub struct Mail<'a> {
    pub kind: Kind,
    pub signatory: Option<&'a str>,
    pub recipient: &'a str,
    /// The message's Date, RFC 3339.
    pub dated: &'a str,
    pub sender: &'a str,
    pub subject: &'a str,
    /// For a reply: the raw message, saved as `replies/<name>` in the output folder.
    pub raw: Option<(&'a str, &'a [u8])>,
}

/// Records `mail` in the ledger of the campaign in `dir`, as `appeal inbox` would, and saves
/// a reply's raw message under `out/<campaign>/replies/`. Panics if the letter is not there.
pub fn record(dir: &Path, campaign: &str, mail: &Mail) {
    let mut conn = Connection::open(dir.join(".appeal/ledger.db")).expect("open the ledger");
    let tx = conn.transaction().expect("begin");
    let id: i64 = tx
        .query_row(
            "SELECT id FROM letters WHERE campaign = ?1 AND signatory = ?2 AND recipient = ?3
             AND channel = 'email'",
            params![campaign, mail.signatory.unwrap_or(""), mail.recipient],
            |r| r.get(0),
        )
        .expect("the letter is in the ledger");
    let (kind, state, status) = match mail.kind {
        Kind::HardBounce => ("hard_bounce", Some("bounced"), Some("5.1.1")),
        Kind::SoftBounce => ("soft_bounce", None, Some("4.2.2")),
        Kind::AutoReply => ("auto_reply", Some("auto_replied"), None),
        Kind::Reply => ("reply", Some("replied"), None),
    };
    let saved = mail.raw.map(|(name, bytes)| {
        let rel = format!("replies/{name}");
        let path = dir.join("out").join(campaign).join(&rel);
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir replies");
        std::fs::write(&path, bytes).expect("save the reply");
        rel
    });
    let read_at = "2014-07-17T08:00:00Z";
    let diagnostic = status.map(|s| format!("smtp; 550 {s} mailbox unavailable"));
    tx.execute(
        "INSERT INTO mailbox_events
            (letter, kind, read_at, dated, sender, subject, status, diagnostic, saved)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            kind,
            read_at,
            mail.dated,
            mail.sender,
            mail.subject,
            status,
            diagnostic,
            saved
        ],
    )
    .expect("insert mailbox event");
    match state {
        Some(state) => {
            tx.execute(
                "UPDATE letters SET state = ?2, updated = ?3 WHERE id = ?1 AND state <> 'replied'",
                params![id, state, read_at],
            )
            .expect("update letter");
            tx.execute(
                "INSERT INTO events (letter, at, state, detail) VALUES (?1, ?2, ?3, ?4)",
                params![
                    id,
                    read_at,
                    state,
                    diagnostic.as_deref().unwrap_or(mail.subject)
                ],
            )
            .expect("insert event");
        }
        None => {
            tx.execute(
                "UPDATE letters SET soft_bounces = soft_bounces + 1 WHERE id = ?1",
                params![id],
            )
            .expect("count soft bounce");
        }
    }
    tx.commit().expect("commit");
}
