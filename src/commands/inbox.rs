//! `appeal inbox`: reads the sender's mailbox over IMAP since the last time, matches each
//! bounce, automatic reply and reply to the letter it is about, records it in the ledger
//! (the letter becomes `bounced`, `auto_replied` or `replied`; a soft bounce only counts),
//! saves replies under `<out>/replies/`, and says what it found.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::config::Config;
use crate::email::classify::{self, Classified, Kind};
use crate::email::imap::{self, ImapFlags, Mark, Reader};
use crate::exit::Exit;
use crate::ledger::mailbox::{MailEvent, MailKind, MailboxMark, Matched, Recorded};
use crate::ledger::{Ledger, State};

/// What the command line asked.
#[derive(Debug, Clone, Default)]
pub struct InboxOptions {
    pub imap: ImapFlags,
    /// Flag the messages that matched a letter as \Seen (nothing is changed otherwise).
    pub mark_seen: bool,
    /// `--bounce-address`, over `[smtp] bounce_address`.
    pub bounce_address: Option<String>,
    pub json: bool,
}

/// One message that matched a letter, as the summary lists it.
#[derive(Debug, Clone, Serialize)]
struct Found {
    kind: MailKind,
    recipient: String,
    signatory: Option<String>,
    /// The letter's state once the message was recorded.
    state: State,
    /// The message was recorded before (the mailbox was read again): nothing changed.
    again: bool,
    dated: Option<String>,
    sender: Option<String>,
    subject: Option<String>,
    status: Option<String>,
    diagnostic: Option<String>,
    saved: Option<String>,
}

/// What a reading found.
#[derive(Debug, Default, Serialize)]
struct Summary {
    mailbox: String,
    read: u64,
    reread: bool,
    hard_bounces: u64,
    soft_bounces: u64,
    auto_replies: u64,
    replies: u64,
    /// Matched, but recorded before.
    already_recorded: u64,
    /// Matched no letter (or said nothing about one).
    unmatched: u64,
    /// Reports only about a copy of a letter (`copies_to` with `cc_email`).
    about_copies: u64,
    letters: Vec<Found>,
}

/// The ledger side of a reading: each message classified, matched and recorded.
struct Sink<'a> {
    ledger: Ledger,
    /// The addresses every email was copied to (`copies_to` with `cc_email`).
    copies: Vec<String>,
    mailbox: String,
    bounce: Option<String>,
    out_dir: PathBuf,
    /// Unmatched since the last mark was stored.
    ignored: u64,
    summary: &'a mut Summary,
}

pub fn run(config: &Config, opts: &InboxOptions) -> Result<Exit> {
    if let Some(why) = opts
        .bounce_address
        .as_deref()
        .and_then(crate::model::settings::bounce_address_problem)
    {
        bail!("--bounce-address: {why}");
    }
    let settings = imap::resolve(&opts.imap, config.settings.raw.imap.as_ref(), &config.root)?;
    let password = imap::password(&settings)?;
    let ledger = Ledger::open(&config.root)?;
    let mailbox = settings.key();
    let since = ledger.mailbox_mark(&mailbox)?.map(|m| Mark {
        uidvalidity: m.uidvalidity,
        last_uid: m.last_uid,
    });
    let mut summary = Summary {
        mailbox: mailbox.clone(),
        ..Summary::default()
    };
    let copies = match config.campaign.cc_email {
        true => config
            .campaign
            .copies_to
            .iter()
            .filter_map(|c| crate::email::message::parse_mailbox(c, "copies_to entry").ok())
            .map(|m| m.email.to_string())
            .collect(),
        false => Vec::new(),
    };
    let mut sink = Sink {
        ledger,
        copies,
        mailbox,
        bounce: opts.bounce_address.clone().or_else(|| {
            config
                .settings
                .raw
                .smtp
                .as_ref()
                .and_then(|s| s.bounce_address.as_ref())
                .map(|b| b.get_ref().clone())
        }),
        out_dir: config.out_dir.clone(),
        ignored: 0,
        summary: &mut summary,
    };
    let pass = imap::read(&settings, &password, since, opts.mark_seen, &mut sink)?;
    sink.ledger.flush()?;
    summary.read = pass.read;
    summary.reread = pass.reread;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, config.quiet);
    }
    Ok(Exit::Success)
}

impl Reader for Sink<'_> {
    fn message(&mut self, _uid: u32, raw: &[u8]) -> Result<bool> {
        let c = classify::classify(raw, self.bounce.as_deref());
        if c.kind == Kind::Other {
            return self.unmatched();
        }
        let Some(letter) = self.ledger.find_letter(&c.ids, &c.tokens)? else {
            return self.unmatched();
        };
        // A report only about a copy (`cc_email`) says nothing about the authority's letter.
        let found = c.kind_without(&self.copies);
        let kind = match &found {
            Kind::HardBounce(_) => MailKind::HardBounce,
            Kind::SoftBounce(_) => MailKind::SoftBounce,
            Kind::AutoReply => MailKind::AutoReply,
            Kind::Reply => MailKind::Reply,
            Kind::Other => {
                self.summary.about_copies += 1;
                self.ignored += 1;
                return Ok(false);
            }
        };
        let saved = match kind {
            MailKind::Reply => Some(self.save_reply(&letter, &c, raw)?),
            _ => None,
        };
        let event = mail_event(&c, &found, saved);
        let recorded = self.ledger.record_mail(&letter, kind, &event)?;
        let (again, state) = match recorded {
            Recorded::Again => (true, letter.entry.state),
            Recorded::New(_, to) => (false, to),
        };
        self.count(kind, again);
        self.summary.letters.push(Found {
            kind,
            recipient: letter.entry.recipient.clone(),
            signatory: letter.entry.signatory.clone(),
            state,
            again,
            dated: event.dated,
            sender: event.sender,
            subject: event.subject,
            status: event.status,
            diagnostic: event.diagnostic,
            saved: event.saved,
        });
        Ok(true)
    }

    fn done_to(&mut self, mark: Mark) -> Result<()> {
        let mark = MailboxMark {
            uidvalidity: mark.uidvalidity,
            last_uid: mark.last_uid,
        };
        self.ledger
            .set_mailbox_mark(&self.mailbox, mark, self.ignored)?;
        self.ignored = 0;
        Ok(())
    }
}

impl Sink<'_> {
    fn unmatched(&mut self) -> Result<bool> {
        self.ignored += 1;
        self.summary.unmatched += 1;
        Ok(false)
    }

    fn count(&mut self, kind: MailKind, again: bool) {
        let s = &mut *self.summary;
        let counter = match (again, kind) {
            (true, _) => &mut s.already_recorded,
            (false, MailKind::HardBounce) => &mut s.hard_bounces,
            (false, MailKind::SoftBounce) => &mut s.soft_bounces,
            (false, MailKind::AutoReply) => &mut s.auto_replies,
            (false, MailKind::Reply) => &mut s.replies,
        };
        *counter += 1;
    }

    /// Saves a reply as it came, under `replies/` of the output folder (atomically, no link
    /// followed), named after its letter and the message: the same message, read again, lands
    /// on the same file. Returns the path relative to the output folder.
    fn save_reply(&self, letter: &Matched, c: &Classified, raw: &[u8]) -> Result<String> {
        let digest = crate::digest::sha256_hex(c.key.as_bytes());
        let who = match &letter.entry.signatory {
            Some(s) => format!("{}-{}", safe(s), safe(&letter.entry.recipient)),
            None => safe(&letter.entry.recipient),
        };
        let rel = PathBuf::from("replies").join(format!("{who}-{}.eml", &digest[..12]));
        crate::files::write_in_folder(&self.out_dir, &rel, &[raw], true)
            .with_context(|| format!("cannot save a reply under {}", self.out_dir.display()))?;
        Ok(rel.to_string_lossy().into_owned())
    }
}

/// `text` as a file name part: letters, digits, `-` and `_`, the rest as `_`.
fn safe(text: &str) -> String {
    text.chars()
        .take(60)
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn mail_event(c: &Classified, kind: &Kind, saved: Option<String>) -> MailEvent {
    let failure = match kind {
        Kind::HardBounce(f) | Kind::SoftBounce(f) => Some(f),
        _ => None,
    };
    MailEvent {
        message: c.key.clone(),
        dated: c.dated.clone(),
        sender: c.from.clone(),
        subject: c.subject.clone(),
        status: failure.map(|f| f.status.clone()).filter(|s| !s.is_empty()),
        diagnostic: failure.and_then(|f| f.diagnostic.clone()),
        saved,
        address: failure.and_then(|f| f.address.clone()),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn print_summary(s: &Summary, quiet: bool) {
    let mut counts = vec![
        plural(s.hard_bounces, "hard bounce", "hard bounces"),
        plural(s.soft_bounces, "soft bounce", "soft bounces"),
        plural(s.auto_replies, "automatic reply", "automatic replies"),
        plural(s.replies, "reply", "replies"),
    ];
    if s.already_recorded > 0 {
        counts.push(format!("{} already recorded", s.already_recorded));
    }
    let again = if s.reread {
        " (its UIDVALIDITY changed: read again from the start)"
    } else {
        ""
    };
    println!(
        "Read {} from {}{again}: {}.",
        match s.reread {
            true => plural(s.read, "message", "messages"),
            false => plural(s.read, "new message", "new messages"),
        },
        s.mailbox,
        counts.join(", ")
    );
    if s.unmatched > 0 {
        println!(
            "{} matched no letter (left alone).",
            plural(s.unmatched, "message", "messages")
        );
    }
    if s.about_copies > 0 {
        println!(
            "{} only about a copy (cc), not the letter itself (left alone).",
            plural(s.about_copies, "report was", "reports were")
        );
    }
    if quiet {
        return;
    }
    for f in s.letters.iter().filter(|f| !f.again) {
        let who = match &f.signatory {
            Some(sig) => format!("{} (signatory {sig})", f.recipient),
            None => f.recipient.clone(),
        };
        let what = match f.kind {
            MailKind::HardBounce | MailKind::SoftBounce => {
                [f.status.as_deref(), f.diagnostic.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            MailKind::AutoReply | MailKind::Reply => format!(
                "from {}, \"{}\"{}",
                f.sender.as_deref().unwrap_or("?"),
                f.subject.as_deref().unwrap_or(""),
                f.saved
                    .as_deref()
                    .map(|p| format!(", saved as {p}"))
                    .unwrap_or_default()
            ),
        };
        println!("  {:<12} {who}: {what}", f.kind.as_str());
    }
}
