//! What `appeal report` reads from the ledger: counts per authority and channel, the answers
//! and the campaign's days, each aggregated by SQLite so a campaign of thousands of letters
//! costs a few rows in memory, not one per letter.
//!
//! # Counting rules
//!
//! A letter counts as *sent* when the email reached the server (`sent`, `delivered`, and the
//! later `bounced`, `auto_replied`, `replied`: a bounced letter was still sent); *written* when
//! its PDF is on disk (`written`, `posted`, `faxed`); *bounced* when its state is `bounced` or
//! the mailbox holds a hard bounce for it; *soft-bounced* when a soft bounce was counted;
//! *auto-replied* and *answered* when its state says so or the mailbox holds such a message for
//! it. *Failed*, *in doubt* (`in_doubt`, or `sending` left by a crash) and *not yet* (`pending`,
//! `deferred`) are what is left. One letter can count in several columns (sent and answered).

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::Ledger;
use crate::model::recipients::Channel;

/// The counting rules in one line, for the page and the JSON.
pub const COUNTING: &str = "sent = the email reached the server (a bounced, auto-replied or \
answered letter was sent); written = the PDF for post or fax is on disk (posted and faxed \
included); bounced = a hard bounce (5.x.x); soft-bounced = at least one 4.x.x report; \
auto-replied and answered = at least one such message; in doubt = may have gone out, no \
reply recorded; not yet = pending or deferred";

/// The letters of one authority by one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub recipient: String,
    pub channel: Channel,
    #[serde(flatten)]
    pub counts: Counts,
}

/// How many letters count as what (see the module docs: one letter can count twice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub letters: u64,
    pub sent: u64,
    pub written: u64,
    pub bounced: u64,
    pub soft_bounced: u64,
    pub auto_replied: u64,
    pub answered: u64,
    pub failed: u64,
    pub in_doubt: u64,
    pub not_yet: u64,
}

impl Counts {
    /// Adds `other`'s counts to these (for totals).
    pub fn add(&mut self, other: &Counts) {
        self.letters += other.letters;
        self.sent += other.sent;
        self.written += other.written;
        self.bounced += other.bounced;
        self.soft_bounced += other.soft_bounced;
        self.auto_replied += other.auto_replied;
        self.answered += other.answered;
        self.failed += other.failed;
        self.in_doubt += other.in_doubt;
        self.not_yet += other.not_yet;
    }
}

/// One answer read from the mailbox (`appeal inbox`), with the letter it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub recipient: String,
    /// The signatory of the letter answered, `None` for a letter without one.
    pub signatory: Option<String>,
    /// Who the letter was sent as (the ledger's sender identity).
    pub letter_sender: String,
    /// The answer's `From`, as read (untrusted).
    pub from: Option<String>,
    /// The answer's subject, as read (untrusted).
    pub subject: Option<String>,
    /// The answer's `Date` (RFC 3339), when it had one.
    pub dated: Option<String>,
    /// When `inbox` read it.
    pub read_at: String,
    /// The raw message, relative to the campaign's output folder.
    pub saved: Option<String>,
}

/// What happened on one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Letters accepted by the server that day.
    pub sent: u64,
    /// PDFs written that day.
    pub written: u64,
    /// Hard bounces dated that day.
    pub bounced: u64,
    /// Soft bounces dated that day.
    pub soft_bounced: u64,
    pub auto_replied: u64,
    pub answered: u64,
}

/// Everything `appeal report` shows, read in one go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Per recipient and channel, ordered by recipient id then channel.
    pub tallies: Vec<Tally>,
    /// Oldest first.
    pub answers: Vec<Answer>,
    /// Days with anything to show, oldest first.
    pub days: Vec<Day>,
}

impl Ledger {
    /// The report of `campaign`, for the letters to `recipients` from `signatories` (every
    /// one when `None`). Reads only.
    pub fn report(
        &self,
        campaign: &str,
        recipients: Option<&[String]>,
        signatories: Option<&[String]>,
    ) -> Result<Report> {
        let json = |ids: Option<&[String]>| ids.map(serde_json::to_string).transpose();
        let only = (json(recipients)?, json(signatories)?);
        let read = || -> Result<Report> {
            // One read transaction: the three queries see the same ledger, whatever a running
            // `send` or `inbox` commits meanwhile.
            let tx = self.conn.unchecked_transaction()?;
            let only = (only.0.as_deref(), only.1.as_deref());
            let report = Report {
                tallies: tallies(&tx, campaign, only)?,
                answers: answers(&tx, campaign, only)?,
                days: days(&tx, campaign, only)?,
            };
            tx.rollback()?;
            Ok(report)
        };
        read().with_context(|| format!("cannot read the ledger {}", self.path.display()))
    }
}

/// The letters of the campaign, narrowed to the recipients in the JSON array `?2` and the
/// signatories in `?3` (all when NULL), as a common table expression every query starts from.
const PICKED: &str = "picked AS (
    SELECT * FROM letters
    WHERE campaign = ?1
      AND (?2 IS NULL OR recipient IN (SELECT value FROM json_each(?2)))
      AND (?3 IS NULL OR signatory IN (SELECT value FROM json_each(?3))))";

/// Recipient ids and signatory ids, each as a JSON array or `None` for every one.
type Only<'a> = (Option<&'a str>, Option<&'a str>);

fn tallies(conn: &Connection, campaign: &str, only: Only) -> Result<Vec<Tally>> {
    let sql = format!(
        "WITH {PICKED},
         mail AS (
            SELECT m.letter,
                   max(m.kind = 'hard_bounce') AS hard,
                   max(m.kind = 'auto_reply') AS auto,
                   max(m.kind = 'reply') AS reply
            FROM mailbox_events m JOIN picked p ON p.id = m.letter
            GROUP BY m.letter)
         SELECT recipient, channel, count(*),
            sum(state IN ('sent', 'delivered', 'bounced', 'auto_replied', 'replied')),
            sum(state IN ('written', 'posted', 'faxed')),
            sum(state = 'bounced' OR coalesce(mail.hard, 0)),
            sum(soft_bounces > 0),
            sum(state = 'auto_replied' OR coalesce(mail.auto, 0)),
            sum(state = 'replied' OR coalesce(mail.reply, 0)),
            sum(state = 'failed'),
            sum(state IN ('sending', 'in_doubt')),
            sum(state IN ('pending', 'deferred'))
         FROM picked LEFT JOIN mail ON mail.letter = picked.id
         GROUP BY recipient, channel
         ORDER BY recipient, channel"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![campaign, only.0, only.1], |r| {
        let n = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
        let channel: String = r.get(1)?;
        Ok((
            r.get::<_, String>(0)?,
            channel,
            Counts {
                letters: n(2)?,
                sent: n(3)?,
                written: n(4)?,
                bounced: n(5)?,
                soft_bounced: n(6)?,
                auto_replied: n(7)?,
                answered: n(8)?,
                failed: n(9)?,
                in_doubt: n(10)?,
                not_yet: n(11)?,
            },
        ))
    })?;
    let mut tallies = Vec::new();
    for row in rows {
        let (recipient, name, counts) = row?;
        let Some(channel) = channel(&name) else {
            bail!("unknown channel `{name}` in the ledger for `{recipient}`");
        };
        tallies.push(Tally {
            recipient,
            channel,
            counts,
        });
    }
    Ok(tallies)
}

fn answers(conn: &Connection, campaign: &str, only: Only) -> Result<Vec<Answer>> {
    let sql = format!(
        "WITH {PICKED}
         SELECT p.recipient, p.signatory, p.sender,
                m.sender, m.subject, m.dated, m.read_at, m.saved
         FROM mailbox_events m JOIN picked p ON p.id = m.letter
         WHERE m.kind = 'reply'
         ORDER BY coalesce(datetime(m.dated), datetime(m.read_at), m.read_at), m.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![campaign, only.0, only.1], |r| {
        let signatory: String = r.get(1)?;
        Ok(Answer {
            recipient: r.get(0)?,
            signatory: (!signatory.is_empty()).then_some(signatory),
            letter_sender: r.get(2)?,
            from: r.get(3)?,
            subject: r.get(4)?,
            dated: r.get(5)?,
            read_at: r.get(6)?,
            saved: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Per day (UTC): letters sent and written (each letter once a day, however many attempts),
/// and what the mailbox brought, by the messages' own dates (when they were read, lacking one).
fn days(conn: &Connection, campaign: &str, only: Only) -> Result<Vec<Day>> {
    let sql = format!(
        "WITH {PICKED},
         happened AS (
            SELECT coalesce(date(e.at), substr(e.at, 1, 10)) AS day, e.state AS what,
                   e.letter AS letter, NULL AS message
            FROM events e JOIN picked p ON p.id = e.letter
            WHERE e.state IN ('sent', 'written')
            UNION ALL
            SELECT coalesce(date(m.dated), date(m.read_at), substr(m.read_at, 1, 10)), m.kind,
                   m.letter, m.id
            FROM mailbox_events m JOIN picked p ON p.id = m.letter)
         SELECT day,
            count(DISTINCT CASE WHEN what = 'sent' THEN letter END),
            count(DISTINCT CASE WHEN what = 'written' THEN letter END),
            count(CASE WHEN what = 'hard_bounce' THEN message END),
            count(CASE WHEN what = 'soft_bounce' THEN message END),
            count(CASE WHEN what = 'auto_reply' THEN message END),
            count(CASE WHEN what = 'reply' THEN message END)
         FROM happened
         GROUP BY day
         ORDER BY day"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![campaign, only.0, only.1], |r| {
        let n = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
        Ok(Day {
            day: r.get(0)?,
            sent: n(1)?,
            written: n(2)?,
            bounced: n(3)?,
            soft_bounced: n(4)?,
            auto_replied: n(5)?,
            answered: n(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn channel(s: &str) -> Option<Channel> {
    [Channel::Email, Channel::Post, Channel::Fax]
        .into_iter()
        .find(|c| c.as_str() == s)
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::super::{Flags, Key, Ledger};
    use crate::letter::LetterKey;
    use crate::model::recipients::Channel;

    const HASH: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    fn key(signatory: &str, recipient: &str, channel: Channel) -> Key {
        let letter = LetterKey {
            campaign: "c".into(),
            signatory: Some(signatory.into()),
            recipient: recipient.into(),
        };
        Key::new(&letter, "staff@example.org", channel)
    }

    fn sent(l: &mut Ledger, k: &Key, mid: &str) {
        let super::super::Decision::Send(a) = l.decide(k, HASH, Flags::default()).unwrap() else {
            panic!("not to send");
        };
        l.mark_pending(&a, mid, HASH).unwrap();
        l.mark_data_started(k).unwrap();
        l.mark_sent(k, "250 ok").unwrap();
    }

    fn mailbox(l: &Ledger, k: &Key, kind: &str, dated: &str) {
        l.conn
            .execute(
                "INSERT INTO mailbox_events (letter, kind, read_at, dated)
                 SELECT id, ?4, '2014-07-20T00:00:00Z', ?5 FROM letters
                 WHERE signatory = ?1 AND recipient = ?2 AND channel = ?3",
                params![
                    k.letter.signatory,
                    k.letter.recipient,
                    k.channel.as_str(),
                    kind,
                    dated
                ],
            )
            .unwrap();
    }

    #[test]
    fn letters_count_by_the_rules_and_recipients_narrow_them() {
        let dir = tempfile::tempdir().unwrap();
        let t0: jiff::Timestamp = "2014-07-14T10:00:00Z".parse().unwrap();
        let mut l = Ledger::open(dir.path()).unwrap().with_clock(move || t0);
        let (a, b, c) = (
            key("s1", "om", Channel::Email),
            key("s2", "om", Channel::Email),
            key("s3", "om", Channel::Email),
        );
        sent(&mut l, &a, "<1@x>");
        sent(&mut l, &b, "<2@x>");
        sent(&mut l, &c, "<3@x>");
        // A reply event counts as answered even while the state still says sent; a hard
        // bounce counts in state bounced; a soft bounce only by its count.
        mailbox(&l, &a, "reply", "2014-07-16T23:30:00-02:00");
        l.conn
            .execute(
                "UPDATE letters SET state = 'bounced' WHERE signatory = 's2'",
                [],
            )
            .unwrap();
        mailbox(&l, &b, "hard_bounce", "2014-07-15T10:00:00Z");
        l.conn
            .execute(
                "UPDATE letters SET soft_bounces = 2 WHERE signatory = 's3'",
                [],
            )
            .unwrap();
        let post = key("s1", "pres", Channel::Post);
        l.mark_written(&post, std::path::Path::new("p.pdf"), HASH)
            .unwrap();
        l.mark_failed(&key("s2", "pres", Channel::Email), "550 no")
            .unwrap();

        let r = l.report("c", None, None).unwrap();
        assert_eq!(r.tallies.len(), 3);
        let om = &r.tallies[0].counts;
        assert_eq!(
            (r.tallies[0].recipient.as_str(), r.tallies[0].channel),
            ("om", Channel::Email)
        );
        assert_eq!(
            (om.letters, om.sent, om.bounced, om.soft_bounced),
            (3, 3, 1, 1)
        );
        assert_eq!((om.answered, om.auto_replied, om.failed), (1, 0, 0));
        let pres_email = &r.tallies[1].counts;
        assert_eq!(
            (pres_email.letters, pres_email.failed, pres_email.sent),
            (1, 1, 0)
        );
        let pres_post = &r.tallies[2].counts;
        assert_eq!((pres_post.written, pres_post.sent), (1, 0));
        // The reply's own date, in UTC, is its day.
        let days: Vec<(&str, u64, u64)> = r
            .days
            .iter()
            .map(|d| (d.day.as_str(), d.bounced, d.answered))
            .collect();
        assert_eq!(
            days,
            [
                ("2014-07-14", 0, 0),
                ("2014-07-15", 1, 0),
                ("2014-07-17", 0, 1)
            ]
        );
        assert_eq!((r.days[0].sent, r.days[0].written), (3, 1));
        assert_eq!(r.answers.len(), 1);

        let only = l.report("c", Some(&["pres".to_string()]), None).unwrap();
        assert_eq!(only.tallies.len(), 2);
        assert!(only.answers.is_empty());
        let s1 = l.report("c", None, Some(&["s1".to_string()])).unwrap();
        let letters: u64 = s1.tallies.iter().map(|t| t.counts.letters).sum();
        assert_eq!((letters, s1.answers.len()), (2, 1));
        assert!(l.report("other", None, None).unwrap().tallies.is_empty());
    }
}
