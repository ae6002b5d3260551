//! `appeal status`: what the ledger says about each letter of the campaign, the exit code that
//! says whether anything is outstanding, and what to type next.
//!
//! Which letters a report covers is decided here for `mark` too ([`Scope`], [`selected`]), so a
//! hint of `status` that names `appeal mark` acts on the letters it talks about.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cli::Common;
use crate::commands::remembered::{self, Recalled};
use crate::config::Config;
use crate::exit::Exit;
use crate::ledger::mailbox::MailDetail;
use crate::ledger::{self, Ledger, State};
use crate::letter::plan;
use crate::model::recipients::Channel;
use crate::model::signatories::SignatoryReader;
use crate::term::{plural, table};

/// One letter as `status` shows it. `state: None` is a letter of the current run that the
/// ledger has never seen: "not started".
#[derive(Debug, Clone, Serialize)]
pub struct LetterStatus {
    pub signatory: Option<String>,
    pub recipient: String,
    pub channel: Channel,
    pub sender: String,
    #[serde(serialize_with = "state_or_not_started")]
    pub state: Option<State>,
    pub attempts: u32,
    pub message_id: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub last_reply: Option<String>,
    pub content_hash: Option<String>,
    pub output_path: Option<String>,
    /// What `appeal inbox` read about it: soft bounces, the last diagnostic, the reply's date.
    #[serde(flatten)]
    pub mail: MailDetail,
    /// Whether `appeal send` with this run's flags makes this very letter (its sender is the
    /// run's, its channel the plan's): only then may a hint offer `send` for it.
    #[serde(skip)]
    pub sendable: bool,
}

pub const NOT_STARTED: &str = "not_started";

/// The name of a state in every report, text and JSON alike.
pub fn state_name(state: Option<State>) -> &'static str {
    state.map_or(NOT_STARTED, State::reported)
}

fn state_or_not_started<S: serde::Serializer>(
    state: &Option<State>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(state_name(*state))
}

/// Every state a report can show, from done to not started: the order of totals and columns.
const ORDER: [&str; 13] = [
    "sent",
    "written",
    "delivered",
    "posted",
    "faxed",
    "replied",
    "auto_replied",
    "bounced",
    "failed",
    "deferred",
    "in_doubt",
    "pending",
    NOT_STARTED,
];

/// Whose letters a command covers.
pub enum Scope {
    /// The senders the command line names (`--signatories`, `--from-*`, `--sender`), or the
    /// last run named when this one names none: their letters only, each in file order.
    Run(Vec<(Option<String>, String)>),
    /// Nothing named and nothing remembered: every letter in the ledger.
    Ledger,
}

impl Scope {
    /// The scope of `config` (already completed by [`remembered::recall`]).
    pub fn of(config: &Config) -> Scope {
        if config.signatories.is_none() && !remembered::names_sender(config) {
            return Scope::Ledger;
        }
        let senders = match config.signatories_source() {
            Some(source) => {
                let shown = config.signatories.as_deref().unwrap_or(source);
                SignatoryReader::open(source, shown, false)
                    .map(|r| {
                        r.filter_map(Result::ok)
                            .map(|s| (s.id.clone(), ledger::sender_identity(&s)))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            None => vec![(None, ledger::sender_identity(&config.sender))],
        };
        Scope::Run(senders)
    }

    /// The run's signatories as a set (`None` in it: the one sender), for lookups; `None` for
    /// [`Scope::Ledger`]: everyone. A letter is (signatory, recipient, channel): whom it was
    /// sent as is not part of it, so a corrected email is the same letter.
    fn set(&self) -> Option<HashSet<Option<&str>>> {
        match self {
            Scope::Run(senders) => Some(senders.iter().map(|(s, _)| s.as_deref()).collect()),
            Scope::Ledger => None,
        }
    }
}

/// Whether the selection (`--only`, `--tag`, `--only SIGNATORY/RECIPIENT`) takes the letter of
/// `signatory` to `recipient`.
pub fn selected(config: &Config, signatory: Option<&str>, recipient: &str) -> bool {
    config.recipients.iter().any(|r| r.id == recipient)
        && config
            .letters
            .as_ref()
            .is_none_or(|l| l.selects(signatory, recipient))
}

/// The letters a report covers, and how many letters of the ledger it leaves out because
/// their senders are not the run's.
pub struct View {
    pub letters: Vec<LetterStatus>,
    pub other_senders: usize,
}

/// The letters `status` reports: the ledger's rows in scope whose letter is selected, plus the
/// run's letters the ledger has no row for ("not started"). Without a named or remembered run,
/// letters are invented only for the configured sender, and only when the ledger has rows
/// for that sender or none for the campaign at all. Ordered by signatory (none first), then
/// recipients-file order.
pub fn view(config: &Config, scope: &Scope, entries: Vec<ledger::Entry>) -> View {
    let plan = plan::plan(config);
    let planned: HashMap<&str, Channel> = plan.iter().map(|d| (d.id.as_str(), d.channel)).collect();
    let own = (None, ledger::sender_identity(&config.sender));
    let set = scope.set();
    let empty = entries.is_empty();
    let own_rows = entries.iter().any(|e| e.signatory.is_none());
    let mut other_senders = 0;
    let mut letters = Vec::new();
    for e in entries {
        let run_sender = match &set {
            Some(set) => set.contains(&e.signatory.as_deref()),
            None => e.signatory.is_none(),
        };
        if set.is_some() && !run_sender {
            other_senders += 1;
            continue;
        }
        if !selected(config, e.signatory.as_deref(), &e.recipient) {
            continue;
        }
        let sendable = run_sender && planned.get(e.recipient.as_str()) == Some(&e.channel);
        letters.push(LetterStatus::from_entry(e, sendable));
    }
    let senders: Vec<(Option<String>, String)> = match scope {
        Scope::Run(senders) => senders.clone(),
        Scope::Ledger if empty || own_rows => vec![own],
        Scope::Ledger => Vec::new(),
    };
    let unseen = never_seen(config, &plan, &senders, &letters);
    letters.extend(unseen);
    sort(config, &mut letters);
    View {
        letters,
        other_senders,
    }
}

impl LetterStatus {
    fn from_entry(e: ledger::Entry, sendable: bool) -> LetterStatus {
        LetterStatus {
            signatory: e.signatory,
            recipient: e.recipient,
            channel: e.channel,
            sender: e.sender,
            state: Some(e.state),
            attempts: e.attempts,
            message_id: e.message_id,
            created: Some(e.created),
            updated: Some(e.updated),
            last_reply: e.last_reply,
            content_hash: e.content_hash,
            output_path: e.output_path,
            mail: MailDetail::default(),
            sendable,
        }
    }

    /// `SIGNATORY/RECIPIENT`, or the recipient for a letter without signatory: the letter as
    /// `--only` names it.
    pub fn name(&self) -> String {
        match &self.signatory {
            Some(s) => format!("{s}/{}", self.recipient),
            None => self.recipient.clone(),
        }
    }
}

/// The letters of the run's senders that the ledger has no row for, not started.
fn never_seen(
    config: &Config,
    plan: &[plan::Delivery],
    senders: &[(Option<String>, String)],
    known: &[LetterStatus],
) -> Vec<LetterStatus> {
    let known: HashSet<(Option<&str>, &str, Channel)> = known
        .iter()
        .map(|l| (l.signatory.as_deref(), l.recipient.as_str(), l.channel))
        .collect();
    let mut unseen = Vec::new();
    for (signatory, sender) in senders {
        for d in plan {
            let letter = (signatory.as_deref(), d.id.as_str(), d.channel);
            if known.contains(&letter) || !selected(config, signatory.as_deref(), &d.id) {
                continue;
            }
            unseen.push(LetterStatus {
                signatory: signatory.clone(),
                recipient: d.id.clone(),
                channel: d.channel,
                sender: sender.clone(),
                state: None,
                attempts: 0,
                message_id: None,
                created: None,
                updated: None,
                last_reply: None,
                content_hash: None,
                output_path: None,
                mail: MailDetail::default(),
                sendable: true,
            });
        }
    }
    unseen
}

/// By signatory (none first), then recipients-file order, channel and sender.
fn sort(config: &Config, letters: &mut [LetterStatus]) {
    let position: HashMap<&str, usize> = config
        .recipients
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    letters.sort_by(|a, b| {
        let key = |l: &LetterStatus| {
            (
                l.signatory.clone(),
                position.get(l.recipient.as_str()).copied(),
                l.channel,
                l.sender.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// 0 when every letter is done (sent, written, delivered, posted, faxed), 1 when one failed,
/// else 75 (something is still to do: not started, pending, deferred, in doubt): the rule
/// `send` ends by too.
pub fn exit_code(letters: &[LetterStatus]) -> Exit {
    let failed = letters
        .iter()
        .filter(|l| l.state == Some(State::Failed))
        .count();
    let done = letters
        .iter()
        .filter(|l| l.state.is_some_and(State::is_done))
        .count();
    Exit::for_letters(failed, letters.len() - failed - done, false)
}

/// The configuration a command acts on: the last run's flags when this command line names
/// neither signatories nor a sender (the note saying so is printed on stderr, not with `-q`).
/// `Err` carries the exit when the remembered run cannot be followed (the reason is printed).
pub fn recall(config: &Config) -> std::result::Result<Option<Recalled>, Exit> {
    match remembered::recall(config) {
        Ok(Some(r)) => {
            if !config.quiet {
                eprintln!("{}", r.note);
            }
            Ok(Some(r))
        }
        Ok(None) => Ok(None),
        Err(e) => {
            eprintln!("appeal: error: {e:#}");
            Err(Exit::Invalid)
        }
    }
}

/// The campaign's rows of the ledger; none when there is no ledger yet.
pub fn read_ledger(config: &Config) -> Result<Vec<ledger::Entry>> {
    match Ledger::open_read_only(&config.root)? {
        Some(l) => l.entries(&config.campaign.name),
        None => Ok(Vec::new()),
    }
}

/// `appeal status [--json] [--list]`.
pub fn run(config: &Config, json: bool, list: bool) -> Result<Exit> {
    let recalled = match recall(config) {
        Ok(r) => r,
        Err(exit) => return Ok(exit),
    };
    let acting = recalled.as_ref().map_or(config, |r| &r.config);
    let View {
        mut letters,
        other_senders,
    } = view(acting, &Scope::of(acting), read_ledger(acting)?);
    add_mail_details(acting, &mut letters)?;
    let exit = exit_code(&letters);
    let mut out = std::io::stdout().lock();
    if json {
        let rows: Vec<LetterStatus> = letters.iter().map(|l| timed(acting, l, true)).collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        out.flush().context("cannot write to standard output")?;
        return Ok(exit);
    }
    let hints = Hints::new(config, acting, recalled.is_some());
    let every = hints.command(&["status", "--list"], Kind::Send, None);
    print_report(&mut out, acting, &letters, list || acting.verbose, &every)?;
    if !acting.quiet {
        for line in hints.next_steps(&letters) {
            writeln!(out, "Next: {line}")?;
        }
    }
    out.flush().context("cannot write to standard output")?;
    if !acting.quiet {
        print_notes(&letters, other_senders);
    }
    Ok(exit)
}

/// What `appeal inbox` recorded about each letter, from the ledger.
fn add_mail_details(config: &Config, letters: &mut [LetterStatus]) -> Result<()> {
    let Some(ledger) = Ledger::open_read_only(&config.root)? else {
        return Ok(());
    };
    let mut details = ledger.mail_details(&config.campaign.name)?;
    for l in letters.iter_mut() {
        let key = ledger::Key::new(
            &crate::letter::LetterKey {
                campaign: config.campaign.name.clone(),
                signatory: l.signatory.clone(),
                recipient: l.recipient.clone(),
            },
            &l.sender,
            l.channel,
        );
        if let Some(d) = details.remove(&key) {
            l.mail = d;
        }
    }
    Ok(())
}

/// The REPLY / REASON cell: the server's reply or the PDF, or what the mailbox said.
fn reason(l: &LetterStatus) -> String {
    let m = &l.mail;
    let mut text = match (l.state, &m.replied, &m.last_diagnostic) {
        (Some(State::Replied), Some(at), _) => format!(
            "reply from {} on {}",
            m.replied_by.as_deref().unwrap_or("?"),
            at.chars().take(10).collect::<String>()
        ),
        (Some(State::Bounced), _, Some(d)) => d.clone(),
        _ => l
            .last_reply
            .as_deref()
            .or(l.output_path.as_deref())
            .unwrap_or("")
            .to_string(),
    };
    if m.soft_bounces > 0 {
        let last = match (&m.last_diagnostic, l.state) {
            (Some(d), Some(s)) if s != State::Bounced => format!(": {d}"),
            _ => String::new(),
        };
        text.push_str(&format!(
            " ({} soft bounce{}{last})",
            m.soft_bounces,
            plural(m.soft_bounces as usize)
        ));
    }
    clean(&text)
}

/// On stderr: the letters still to do that no `send` of this run makes, and the letters of
/// other senders left out.
fn print_notes(letters: &[LetterStatus], other_senders: usize) {
    let elsewhere = letters
        .iter()
        .filter(|l| !l.sendable)
        .filter(|l| {
            matches!(
                l.state,
                Some(State::Pending | State::Deferred | State::Failed)
            )
        })
        .count();
    let one = elsewhere == 1;
    if elsewhere > 0 {
        eprintln!(
            "appeal: {} still to do {} not among the letters `appeal send` makes with these \
             flags (another sender, or another channel): send {} with the flags {} first went \
             with",
            count(elsewhere, "letter"),
            if one { "is" } else { "are" },
            if one { "it" } else { "them" },
            if one { "it" } else { "they" },
        );
    }
    if other_senders > 0 {
        eprintln!(
            "appeal: {other_senders} other letter{} in the ledger {} from senders this run does \
             not name; name them with --signatories or --from-* to see them",
            plural(other_senders),
            if other_senders == 1 { "is" } else { "are" }
        );
    }
}

/// The header, the letters (one table of every letter, or counts per recipient, channel and
/// state when they are many or a batch's) and the totals.
fn print_report(
    out: &mut impl Write,
    config: &Config,
    letters: &[LetterStatus],
    list: bool,
    every: &str,
) -> Result<()> {
    let signatories: HashSet<&str> = letters
        .iter()
        .filter_map(|l| l.signatory.as_deref())
        .collect();
    write!(
        out,
        "Ledger of campaign `{}`: {} letter{}",
        config.campaign.name,
        letters.len(),
        plural(letters.len())
    )?;
    if !signatories.is_empty() {
        write!(
            out,
            " from {} signator{}",
            signatories.len(),
            if signatories.len() == 1 { "y" } else { "ies" }
        )?;
    }
    writeln!(out, ".\n")?;
    let batch = config.signatories.is_some() || !signatories.is_empty();
    if list || (letters.len() <= SCREENFUL && !batch) {
        print_list(out, config, letters)?;
    } else {
        print_summary(out, config, letters)?;
        if !letters.is_empty() {
            writeln!(out, "(every letter: {every})")?;
        }
    }
    writeln!(out, "\nTotal: {}.", totals(letters))?;
    Ok(())
}

/// More letters than this are summed up rather than listed, unless `--list`.
const SCREENFUL: usize = 20;

/// One table, a row per letter; a SIGNATORY column in a batch, a SENDER column when letters
/// from several senders to one recipient would otherwise look alike.
fn print_list(out: &mut impl Write, config: &Config, letters: &[LetterStatus]) -> Result<()> {
    let by_signatory = letters.iter().any(|l| l.signatory.is_some());
    let mut first: HashMap<Option<&str>, &str> = HashMap::new();
    let several_senders = letters.iter().any(|l| {
        *first
            .entry(l.signatory.as_deref())
            .or_insert(l.sender.as_str())
            != l.sender.as_str()
    });
    let mut header = Vec::new();
    if by_signatory {
        header.push("SIGNATORY");
    }
    if several_senders {
        header.push("SENDER");
    }
    header.extend(["RECIPIENT", "CHANNEL", "STATE", "ATTEMPTS", "UPDATED"]);
    header.push("REPLY / REASON");
    let rows: Vec<Vec<String>> = letters
        .iter()
        .map(|l| {
            let l = timed(config, l, false);
            let mut row = Vec::new();
            if by_signatory {
                row.push(l.signatory.clone().unwrap_or_else(|| "-".into()));
            }
            if several_senders {
                row.push(clean(&l.sender));
            }
            row.extend([
                l.recipient.clone(),
                l.channel.as_str().into(),
                state_name(l.state).into(),
                l.attempts.to_string(),
                l.updated.clone().unwrap_or_else(|| "-".into()),
                reason(&l),
            ]);
            row
        })
        .collect();
    out.write_all(table(&header, &rows).as_bytes())?;
    Ok(())
}

/// Counts by recipient and channel (rows) and state (columns, only states that occur).
fn print_summary(out: &mut impl Write, config: &Config, letters: &[LetterStatus]) -> Result<()> {
    let position: HashMap<&str, usize> = config
        .recipients
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut counts: BTreeMap<(Option<usize>, &str, Channel), HashMap<&str, usize>> =
        BTreeMap::new();
    for l in letters {
        let row = (
            position.get(l.recipient.as_str()).copied(),
            l.recipient.as_str(),
            l.channel,
        );
        *counts
            .entry(row)
            .or_default()
            .entry(state_name(l.state))
            .or_default() += 1;
    }
    let columns: Vec<&str> = ORDER
        .into_iter()
        .filter(|s| counts.values().any(|c| c.contains_key(s)))
        .collect();
    let names: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    let mut header = vec!["RECIPIENT", "CHANNEL"];
    header.extend(names.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|((_, recipient, channel), c)| {
            let mut row = vec![recipient.to_string(), channel.as_str().to_string()];
            row.extend(
                columns
                    .iter()
                    .map(|s| c.get(s).copied().unwrap_or(0).to_string()),
            );
            row
        })
        .collect();
    out.write_all(table(&header, &rows).as_bytes())?;
    Ok(())
}

/// The totals line: each state that has letters, from done to not started.
fn totals<'a>(letters: impl IntoIterator<Item = &'a LetterStatus>) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for l in letters {
        *counts.entry(state_name(l.state)).or_default() += 1;
    }
    if counts.is_empty() {
        return "no letters".into();
    }
    let totals: Vec<String> = ORDER
        .iter()
        .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
        .collect();
    totals.join(", ")
}

/// The letter with its times to the second in the time zone of `config.now` (local time; UTC
/// when `APPEAL_NOW` pins the clock): RFC 3339 for JSON, `2014-07-14 10:00:00` for tables.
fn timed(config: &Config, l: &LetterStatus, rfc3339: bool) -> LetterStatus {
    let tz = config.now.time_zone();
    let at = |stored: &Option<String>| {
        stored
            .as_deref()
            .map(|s| match s.parse::<jiff::Timestamp>() {
                Ok(t) => {
                    let t = jiff::Timestamp::from_second(t.as_second()).unwrap_or(t);
                    let z = t.to_zoned(tz.clone());
                    let format = match rfc3339 {
                        true => "%Y-%m-%dT%H:%M:%S%:z",
                        false => "%Y-%m-%d %H:%M:%S",
                    };
                    z.strftime(format).to_string()
                }
                Err(_) => clean(s),
            })
    };
    LetterStatus {
        created: at(&l.created),
        updated: at(&l.updated),
        ..l.clone()
    }
}

/// A server's reply (or a note) in one table cell, whole: no line breaks, no terminal escapes.
fn clean(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    clean.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The commands the "Next:" lines name, written so each acts on exactly the letters its line
/// talks about: the run's flags (the remembered ones spelled out) and the selection.
struct Hints {
    /// What `send` needs to make the same letters: the acting configuration's flags, less
    /// the remembered sender's fields that `appeal.toml` gives anyway.
    acting: Common,
    /// Whether `appeal mark` (which takes no sender flags) sees the same letters as this run.
    mark_sees_them: bool,
}

/// More letters than this are not listed one by one in a hint's `--only`.
const LISTED: usize = 10;

impl Hints {
    fn new(typed: &Config, acting: &Config, recalled: bool) -> Hints {
        // A sender named on this command line: `mark` can only find the same letters by
        // recalling the last run, which must then have named that same sender alone.
        let mark_sees_them = recalled
            || typed.signatories.is_some()
            || !remembered::names_sender(typed)
            || last_run_is(typed);
        let mut flags = acting.typed.clone();
        if recalled {
            // Flags win field by field over `appeal.toml`, so a field equal to its value
            // there need not be spelled out.
            let own = &typed.sender;
            let same = |flag: &mut Option<String>, own: Option<&String>| {
                if flag.as_ref() == own {
                    *flag = None;
                }
            };
            same(&mut flags.from_name, Some(&own.name));
            same(&mut flags.from_email, own.email.as_ref());
            same(&mut flags.from_city, own.city.as_ref());
            same(&mut flags.from_note, own.note.as_ref());
            if flags.from_address == own.address {
                flags.from_address.clear();
            }
        }
        Hints {
            acting: flags,
            mark_sees_them,
        }
    }

    /// The "Next:" lines for `letters`, most pressing first.
    fn next_steps(&self, letters: &[LetterStatus]) -> Vec<String> {
        let pick = |f: &dyn Fn(&LetterStatus) -> bool| -> Vec<&LetterStatus> {
            letters.iter().filter(|l| f(l)).collect()
        };
        let to_do = pick(&|l| {
            l.sendable && matches!(l.state, None | Some(State::Pending | State::Deferred))
        });
        let failed = pick(&|l| l.sendable && l.state == Some(State::Failed));
        let in_doubt = pick(&|l| l.state.is_some_and(State::is_in_doubt));
        let mut lines = Vec::new();
        if !failed.is_empty() {
            lines.push(self.retry_failed(&failed, &to_do));
        }
        if !to_do.is_empty() {
            lines.push(format!(
                "deliver the {} still to do ({}): {}",
                count(to_do.len(), "letter"),
                totals(to_do.iter().copied()),
                self.command(&["send"], Kind::Send, None)
            ));
        }
        if !in_doubt.is_empty() {
            lines.extend(self.in_doubt(&in_doubt, to_do.is_empty()));
        }
        for (channel, mark, done) in [
            (Channel::Post, "posted", "printed and posted"),
            (Channel::Fax, "faxed", "faxed"),
        ] {
            let written = pick(&|l| l.channel == channel && l.state == Some(State::Written));
            if !written.is_empty() && self.mark_sees_them {
                lines.push(format!(
                    "once the {} by {} {} {done}: {}",
                    count(written.len(), "letter"),
                    channel.as_str(),
                    if written.len() == 1 { "is" } else { "are" },
                    self.command(&["mark", mark], Kind::Mark, None)
                ));
            }
        }
        lines
    }

    /// Failed letters: `--retry-failed` tries them again, with the pending and deferred ones.
    fn retry_failed(&self, failed: &[&LetterStatus], to_do: &[&LetterStatus]) -> String {
        let waiting = to_do.iter().filter(|l| l.state.is_some()).count();
        let also = match waiting {
            0 => String::new(),
            n => format!(" and the {} pending or deferred", count(n, "letter")),
        };
        let n = failed.len();
        format!(
            "{} failed: fix what {} say{}, then send {}{also} again: {}",
            count(n, "letter"),
            if n == 1 {
                "its reason"
            } else {
                "their reasons"
            },
            if n == 1 { "s" } else { "" },
            if n == 1 { "it" } else { "them" },
            self.command(&["send", "--retry-failed"], Kind::Send, None)
        )
    }

    /// Letters in doubt: the recipient knows. Confirmed: `mark delivered`; not arrived:
    /// re-send with the same Message-ID, naming the letters unless nothing else would go.
    fn in_doubt(&self, letters: &[&LetterStatus], nothing_else: bool) -> Vec<String> {
        let mut lines = Vec::new();
        let n = letters.len();
        let listed = (n <= LISTED).then(|| names(letters));
        if self.mark_sees_them {
            lines.push(format!(
                "ask the recipient{} whether the {} in doubt arrived; if {}: {}",
                plural(n),
                count(n, "letter"),
                if n == 1 { "it did" } else { "they did" },
                self.command(&["mark", "delivered"], Kind::Mark, listed.as_deref())
            ));
        }
        let sendable: Vec<&LetterStatus> = letters.iter().copied().filter(|l| l.sendable).collect();
        if sendable.is_empty() {
            return lines;
        }
        let resend = ["send", "--resend-in-doubt"];
        let command = if sendable.len() <= LISTED {
            self.command(&resend, Kind::Send, Some(&names(&sendable)))
        } else if nothing_else {
            self.command(&resend, Kind::Send, None)
        } else {
            format!(
                "{}, then {}",
                self.command(&["send"], Kind::Send, None),
                self.command(&resend, Kind::Send, None)
            )
        };
        lines.push(format!(
            "if {} did not arrive, send {} again with the same Message-ID: {command}",
            if sendable.len() == 1 { "it" } else { "they" },
            if sendable.len() == 1 { "it" } else { "them" },
        ));
        lines
    }

    /// `appeal VERB…` with the flags that name the same letters; `only` replaces `--only`.
    fn command(&self, verb: &[&str], kind: Kind, only: Option<&[String]>) -> String {
        let t = &self.acting;
        let mut words: Vec<String> = vec!["appeal".into()];
        if let Some(d) = &t.directory {
            words.extend(["-C".into(), quote(&d.to_string_lossy())]);
        }
        if let Some(c) = &t.campaign {
            words.extend(["--campaign".into(), quote(c)]);
        }
        words.extend(verb.iter().map(|v| v.to_string()));
        words.extend(flags(t, kind, only));
        words.join(" ")
    }
}

/// Which command a hint names: `send` (and `status`) take the sender and the letters'
/// language and channel; `mark` only the selection and the signatories.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Send,
    Mark,
}

/// The command's own flags, as typed (or as remembered) for this run.
fn flags(t: &Common, kind: Kind, only: Option<&[String]>) -> Vec<String> {
    let mut words = Vec::new();
    let mut flag = |name: &str, value: &str| {
        words.push(name.to_string());
        words.push(quote(value));
    };
    if let Some(r) = &t.recipients {
        flag("--recipients", &r.to_string_lossy());
    }
    let only = only.unwrap_or(&t.only);
    if !only.is_empty() {
        flag("--only", &only.join(","));
    }
    for tag in &t.tag {
        flag("--tag", tag);
    }
    if let Some(s) = &t.signatories {
        flag("--signatories", &s.to_string_lossy());
    }
    if kind == Kind::Send {
        if let Some(s) = &t.sender {
            flag("--sender", &s.to_string_lossy());
        }
        let from = [
            ("--from-name", &t.from_name),
            ("--from-email", &t.from_email),
        ];
        for (name, value) in from {
            if let Some(v) = value {
                flag(name, v);
            }
        }
        for line in &t.from_address {
            flag("--from-address", line);
        }
        for (name, value) in [("--from-city", &t.from_city), ("--from-note", &t.from_note)] {
            if let Some(v) = value {
                flag(name, v);
            }
        }
        if let Some(lang) = &t.lang {
            flag("--lang", lang);
        }
        if let Some(via) = t.via {
            let via = match via {
                crate::cli::Via::Email => "email",
                crate::cli::Via::Post => "post",
                crate::cli::Via::Fax => "fax",
            };
            flag("--via", via);
        }
    }
    words
}

/// Whether the last run the ledger remembers named this command line's sender and no
/// signatories: then `mark`, which recalls it, acts on this sender's letters.
fn last_run_is(config: &Config) -> bool {
    let last = Ledger::open_read_only(&config.root)
        .ok()
        .flatten()
        .and_then(|l| l.last_run(&config.campaign.name).ok().flatten());
    last.is_some_and(|run| {
        run.signatories.is_none()
            && run.sender.is_some_and(|s| {
                ledger::sender_identity(&s) == ledger::sender_identity(&config.sender)
            })
    })
}

/// The letters as `--only` names them, each once.
fn names(letters: &[&LetterStatus]) -> Vec<String> {
    let mut seen = HashSet::new();
    letters
        .iter()
        .map(|l| l.name())
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", plural(n))
}

/// A word as a POSIX shell reads it back: bare when it is plain, else in single quotes.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(quote("s001/ombudsman"), "s001/ombudsman");
        assert_eq!(quote("a@example.org"), "a@example.org");
        assert_eq!(quote("Aigerim S."), "'Aigerim S.'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
