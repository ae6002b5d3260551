//! What to type after a `send`: one line for each kind of letter left to deal with, each naming
//! a command that acts on exactly those letters and on no other. The kinds come from the
//! ledger as the run leaves it, which is what that next command will find.

use std::collections::BTreeSet;

use crate::config::Config;
use crate::email::smtp::SmtpFlags;
use crate::ledger::{Entry, State};

/// Up to this many letters are named one by one in a command (`--only s1/a,s2/b`).
pub const FEW: usize = 10;

/// Where one letter of the run stands once the run is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Sent, written, or marked by hand, with the content it has now.
    Done,
    /// Never recorded: a plain `appeal send` sends it.
    NotStarted,
    /// Deferred, or pending (nothing reached the server): `appeal send` tries it again.
    Deferred,
    /// Failed for good. `changed`: its text changed since, so a plain `appeal send` tries it.
    Failed { changed: bool },
    /// May have arrived (in doubt, or left `sending`), same content.
    InDoubt,
    /// Sent (or in doubt) with other content than it has now.
    Changed,
}

impl Standing {
    /// Where the letter whose content hashes to `hash` stands, by its ledger row.
    pub fn of(row: Option<&Entry>, hash: &str) -> Standing {
        let Some(row) = row else {
            return Standing::NotStarted;
        };
        let same = row.content_hash.as_deref() == Some(hash);
        match row.state {
            s if s.is_done() && same => Standing::Done,
            s if s.is_done() => Standing::Changed,
            State::Sending | State::InDoubt if same => Standing::InDoubt,
            State::Sending | State::InDoubt => Standing::Changed,
            State::Failed => Standing::Failed { changed: !same },
            _ => Standing::Deferred,
        }
    }

    /// Whether a plain `appeal send` would send it.
    fn sent_by_send(self) -> bool {
        matches!(
            self,
            Standing::NotStarted | Standing::Deferred | Standing::Failed { changed: true }
        )
    }

    /// Whether `appeal send --retry-failed` would send it.
    fn sent_by_retry(self) -> bool {
        matches!(self, Standing::Deferred | Standing::Failed { .. })
    }
}

/// One letter of the run as the next steps name it.
#[derive(Debug, Clone)]
pub struct Left {
    /// `SIGNATORY/RECIPIENT`, or `RECIPIENT` for the one sender: what `--only` takes.
    pub name: String,
    pub recipient: String,
    pub standing: Standing,
}

/// Which letters a suggested command names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The run's own `--only` and `--tag`, as typed.
    AsRun,
    /// `--only` these (letters or recipients).
    Only(Vec<String>),
}

/// Builds the command lines the run suggests, with the flags that decide which letters they
/// act on: the campaign directory and name, the recipients file, `--via` and `--lang`, a
/// signatories file that cannot be recalled, and for `send` how it reaches the server.
pub struct Rerun<'a> {
    pub config: &'a Config,
    pub smtp: &'a SmtpFlags,
}

impl Rerun<'_> {
    /// `appeal COMMAND FLAGS...`, in backquotes, for `command` (`send`, `status`, `mark ...`).
    pub fn line(&self, command: &str, flags: &[&str], selection: &Selection) -> String {
        let typed = &self.config.typed;
        let mut words: Vec<String> = vec!["appeal".into()];
        if let Some(dir) = &typed.directory {
            words.extend(["-C".into(), shell_word(&dir.to_string_lossy())]);
        }
        if let Some(name) = &typed.campaign {
            words.extend(["--campaign".into(), shell_word(name)]);
        }
        words.push(command.into());
        words.extend(flags.iter().map(|f| f.to_string()));
        let mut flag = |name: &str, value: &str| {
            words.push(name.into());
            words.push(shell_word(value));
        };
        if command == "send" {
            if let Some(url) = &self.smtp.url {
                flag("--smtp", url);
            }
            if let Some(ca) = &self.smtp.ca {
                flag("--smtp-ca", &ca.to_string_lossy());
            }
            if let Some(rate) = &self.smtp.rate {
                flag("--rate", rate);
            }
            if let Some(bounce) = &self.smtp.bounce_address {
                flag("--bounce-address", bounce);
            }
        }
        if let Some(file) = &typed.recipients {
            flag("--recipients", &file.to_string_lossy());
        }
        // `mark` finds letters by their ledger keys; the channel and language do not narrow it.
        if !command.starts_with("mark") {
            if let Some(via) = self.config.via {
                flag("--via", via.as_str());
            }
            if let Some(lang) = &typed.lang {
                flag("--lang", lang);
            }
        }
        // A signatories file named on the command line is remembered and recalled; a pipe is
        // not, so it must be named again.
        if let Some(shown) = &self.config.signatories
            && !std::fs::metadata(shown).is_ok_and(|m| m.is_file())
        {
            flag("--signatories", &shown.to_string_lossy());
        }
        match selection {
            Selection::AsRun => {
                for only in &typed.only {
                    flag("--only", only);
                }
                for tag in &typed.tag {
                    flag("--tag", tag);
                }
            }
            Selection::Only(names) => flag("--only", &names.join(",")),
        }
        format!("`{}`", words.join(" "))
    }
}

/// A word as a POSIX shell reads it back: as is when it is plain, else in single quotes.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./,:=@%+-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The letters of the run, how they are grouped by recipient, and what the run selected.
struct Run<'a> {
    letters: &'a [Left],
    /// Every recipient the run wrote to, in plan order.
    recipients: Vec<&'a str>,
    /// Whether the run named single letters (`--only SIGNATORY/RECIPIENT`): then a recipient
    /// named whole covers more letters than the run had.
    pairs: bool,
}

impl Run<'_> {
    /// How to name exactly `set` for a command that acts on every selected letter that
    /// `acts_on` accepts: by recipient when, for each of them, `acts_on` holds for exactly the
    /// run's letters to it that are in `set`; else one by one when few; else the run's own
    /// selection when `acts_on` holds for nothing outside `set` in it. `None`: no command line
    /// names exactly these letters.
    fn narrow(&self, set: &[&Left], acts_on: impl Fn(Standing) -> bool) -> Option<Selection> {
        let in_set: BTreeSet<&str> = set.iter().map(|l| l.name.as_str()).collect();
        let exact = |l: &&Left| acts_on(l.standing) == in_set.contains(l.name.as_str());
        let wanted: BTreeSet<&str> = set.iter().map(|l| l.recipient.as_str()).collect();
        let by_recipient = !self.pairs
            && wanted.len() < self.recipients.len()
            && self
                .letters
                .iter()
                .filter(|l| wanted.contains(l.recipient.as_str()))
                .all(|l| exact(&l));
        if by_recipient {
            let names = self.recipients.iter().filter(|r| wanted.contains(*r));
            return Some(Selection::Only(names.map(|r| r.to_string()).collect()));
        }
        if set.len() <= FEW {
            return Some(Selection::Only(
                set.iter().map(|l| l.name.clone()).collect(),
            ));
        }
        self.letters
            .iter()
            .all(|l| exact(&l))
            .then_some(Selection::AsRun)
    }

    fn with(&self, keep: impl Fn(Standing) -> bool) -> Vec<&Left> {
        self.letters.iter().filter(|l| keep(l.standing)).collect()
    }
}

/// The next steps after a run whose letters now stand as `letters` (in run order); `written`:
/// how many PDFs this run wrote. One line each, without the `Next: ` prefix.
pub fn next_steps(rerun: &Rerun<'_>, letters: &[Left], written: usize) -> Vec<String> {
    let config = rerun.config;
    let mut recipients: Vec<&str> = Vec::new();
    for l in letters {
        if !recipients.contains(&l.recipient.as_str()) {
            recipients.push(&l.recipient);
        }
    }
    let run = Run {
        letters,
        recipients,
        pairs: config.letters.is_some(),
    };
    let mut lines = Vec::new();
    lines.extend(failed(rerun, &run));
    lines.extend(still_to_send(rerun, &run));
    lines.extend(in_doubt(rerun, &run));
    lines.extend(changed(rerun, &run));
    if written > 0 {
        lines.push(format!(
            "print the PDFs in {} and post them.",
            config.out_dir.display()
        ));
    }
    lines
}

/// Failed letters: retried, with those deferred, by `--retry-failed`.
fn failed(rerun: &Rerun<'_>, run: &Run<'_>) -> Option<String> {
    let retried = run.with(Standing::sent_by_retry);
    let failed = retried
        .iter()
        .filter(|l| matches!(l.standing, Standing::Failed { .. }))
        .count();
    if failed == 0 {
        return None;
    }
    let selection = run.narrow(&retried, Standing::sent_by_retry)?;
    let deferred = retried.len() - failed;
    let what = match deferred {
        0 => count(failed, "failed letter"),
        d => format!("{} and {d} deferred", count(failed, "failed letter")),
    };
    Some(format!(
        "fix what the failures name, then retry the {what}: {}",
        rerun.line("send", &["--retry-failed"], &selection)
    ))
}

/// Letters a plain `appeal send` sends: not started (Ctrl-C, a stop) or deferred.
fn still_to_send(rerun: &Rerun<'_>, run: &Run<'_>) -> Option<String> {
    let rest = run.with(Standing::sent_by_send);
    if rest.is_empty() {
        return None;
    }
    let deferred = rest
        .iter()
        .filter(|l| l.standing == Standing::Deferred)
        .count();
    let mut parts = Vec::new();
    if rest.len() > deferred {
        parts.push(format!("{} not started", rest.len() - deferred));
    }
    if deferred > 0 {
        parts.push(format!("{deferred} deferred"));
    }
    // The run again, as it was asked: it sends exactly these, and reports the others.
    Some(format!(
        "send the {} not sent yet ({}): {}",
        count(rest.len(), "letter"),
        parts.join(", "),
        rerun.line("send", &[], &Selection::AsRun)
    ))
}

/// Letters in doubt: asked about, then marked delivered or re-sent with the same Message-ID.
fn in_doubt(rerun: &Rerun<'_>, run: &Run<'_>) -> Option<String> {
    let doubt = run.with(|s| s == Standing::InDoubt);
    if doubt.is_empty() {
        return None;
    }
    let (n, it) = (doubt.len(), if doubt.len() == 1 { "it" } else { "they" });
    let head = format!(
        "{} in doubt ({it} may have arrived)",
        count_is(n, "letter", "is", "are")
    );
    if n > FEW {
        return Some(format!(
            "{head}: {} lists them; ask their recipients, then mark each delivered or re-send it \
             with the same Message-ID.",
            rerun.line("status", &["--list"], &Selection::AsRun)
        ));
    }
    let only = Selection::Only(doubt.iter().map(|l| l.name.clone()).collect());
    Some(format!(
        "{head}: ask the recipient{}; if {it} arrived: {}; if not: {}",
        if n == 1 { "" } else { "s" },
        rerun.line("mark delivered", &[], &only),
        rerun.line("send", &["--resend-in-doubt"], &only)
    ))
}

/// Letters changed since they were sent: re-sent on purpose with `--resend`.
fn changed(rerun: &Rerun<'_>, run: &Run<'_>) -> Option<String> {
    let changed = run.with(|s| s == Standing::Changed);
    if changed.is_empty() {
        return None;
    }
    let head = format!(
        "{} changed since {} sent",
        count(changed.len(), "letter"),
        if changed.len() == 1 {
            "it was"
        } else {
            "they were"
        }
    );
    // `--resend` acts on every selected letter, whatever it stands at.
    match run.narrow(&changed, |_| true) {
        Some(selection) => Some(format!(
            "{head}; to send the new text: {}",
            rerun.line("send", &["--resend"], &selection)
        )),
        None => Some(format!(
            "{head}: {} lists them; re-send each on purpose with `appeal send --resend --only \
             SIGNATORY/RECIPIENT`.",
            rerun.line("status", &["--list"], &Selection::AsRun)
        )),
    }
}

/// "1 letter", "3 letters".
fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// "1 letter is", "3 letters are".
fn count_is(n: usize, noun: &str, one: &str, many: &str) -> String {
    format!("{} {}", count(n, noun), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(name: &str, standing: Standing) -> Left {
        Left {
            name: name.into(),
            recipient: name.rsplit('/').next().unwrap_or(name).into(),
            standing,
        }
    }

    fn run(letters: &[Left]) -> Run<'_> {
        let mut recipients: Vec<&str> = Vec::new();
        for l in letters {
            if !recipients.contains(&l.recipient.as_str()) {
                recipients.push(&l.recipient);
            }
        }
        Run {
            letters,
            recipients,
            pairs: false,
        }
    }

    fn only(names: &[&str]) -> Option<Selection> {
        Some(Selection::Only(
            names.iter().map(|s| s.to_string()).collect(),
        ))
    }

    #[test]
    fn a_recipient_is_named_whole_only_when_that_is_exactly_the_letters() {
        use Standing::*;
        let letters: Vec<Left> = (1..=12)
            .flat_map(|i| {
                [
                    left(&format!("s{i}/a"), Done),
                    left(&format!("s{i}/b"), if i == 3 { Done } else { Changed }),
                    left(&format!("s{i}/c"), Changed),
                ]
            })
            .collect();
        let r = run(&letters);
        let changed = r.with(|s| s == Changed);
        // `--resend --only b` would re-send s3/b, which is done: no exact command.
        assert_eq!(r.narrow(&changed, |_| true), None);
        let only_c: Vec<&Left> = changed
            .iter()
            .copied()
            .filter(|l| l.recipient == "c")
            .collect();
        assert_eq!(r.narrow(&only_c, |_| true), only(&["c"]));
        let few: Vec<&Left> = changed.iter().copied().take(3).collect();
        assert_eq!(r.narrow(&few, |_| true), only(&["s1/b", "s1/c", "s2/b"]));
    }

    #[test]
    fn the_run_as_asked_when_the_command_spares_the_rest() {
        use Standing::*;
        let letters: Vec<Left> = (1..=12)
            .flat_map(|i| {
                [
                    left(&format!("s{i}/a"), Failed { changed: false }),
                    left(&format!("s{i}/b"), if i % 2 == 0 { Deferred } else { Done }),
                ]
            })
            .collect();
        let r = run(&letters);
        let retried = r.with(Standing::sent_by_retry);
        assert_eq!(retried.len(), 18);
        assert_eq!(
            r.narrow(&retried, Standing::sent_by_retry),
            Some(Selection::AsRun)
        );
    }

    #[test]
    fn where_a_letter_stands() {
        let row = |state: State, hash: &str| Entry {
            campaign: "c".into(),
            sender: "a@example.org".into(),
            signatory: None,
            recipient: "r".into(),
            channel: crate::model::recipients::Channel::Email,
            state,
            message_id: None,
            attempts: 1,
            created: String::new(),
            updated: String::new(),
            last_reply: None,
            content_hash: Some(hash.into()),
            output_path: None,
        };
        let of = |state, hash| Standing::of(Some(&row(state, hash)), "h");
        assert_eq!(Standing::of(None, "h"), Standing::NotStarted);
        assert_eq!(of(State::Sent, "h"), Standing::Done);
        assert_eq!(of(State::Posted, "x"), Standing::Changed);
        assert_eq!(of(State::Sending, "h"), Standing::InDoubt);
        assert_eq!(of(State::InDoubt, "x"), Standing::Changed);
        assert_eq!(of(State::Pending, "h"), Standing::Deferred);
        assert_eq!(of(State::Failed, "x"), Standing::Failed { changed: true });
    }

    #[test]
    fn words_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(
            shell_word("s1/ombudsman,s2/foreign"),
            "s1/ombudsman,s2/foreign"
        );
        assert_eq!(shell_word("smtp://h:25?tls=none"), "'smtp://h:25?tls=none'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
