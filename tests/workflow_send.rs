//! `appeal send` and `appeal pdf` in the campaign workflow (issue 13): every "Next:" line names
//! a command that acts on exactly the letters it talks about (each is run here and checked),
//! `--retry-failed`, `--only SIGNATORY/RECIPIENT`, the summary of a large run, Ctrl-C before
//! anything left, `pdf` recording the letters to print, `all.pdf` holding only them, and
//! `--test-to`.
//!
//! Needs the Python venv (aiosmtpd) and `/usr/sbin/smtp-sink` (Debian package `postfix`), as
//! tests/ledger_send.rs does.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::smtp::{Server, Sink, python, wait_until};
use crate::common::{Run, SETTINGS, TestCampaign};

use appeal::ledger::{Entry, Key, Ledger, State};
use appeal::letter::LetterKey;
use appeal::model::recipients::Channel;

/// The test campaign's email recipients, by address.
fn recipient_of(address: &str) -> &'static str {
    match address {
        "ombudsman@example.kz" => "ombudsman",
        "midrk@example.kz" => "foreign",
        other => panic!("a message to {other}"),
    }
}

/// Points appeal.toml at `url`, one connection, sending from a staff account (so a batch can
/// go), with the test's sender.
fn use_server(c: &TestCampaign, url: &str) {
    c.write(
        "appeal.toml",
        &format!(
            "{SETTINGS}\n[smtp]\nurl = \"{url}\"\nfrom = \"Campaign <campaign@example.org>\"\n\
             connections = 1\n"
        ),
    );
}

/// The three-recipient test campaign (president by fax, so on paper; ombudsman and foreign by
/// email) sending through `url`.
fn campaign(url: &str) -> TestCampaign {
    let c = TestCampaign::new();
    use_server(&c, url);
    c
}

/// Writes `signatories.csv` with `n` signatories s1..sN and returns its path as typed.
fn signatories(c: &TestCampaign, n: usize) -> String {
    let mut csv = String::from("id,name,email,city\n");
    for i in 1..=n {
        csv.push_str(&format!("s{i},Signer {i},s{i}@example.org,Leeds\n"));
    }
    c.write("signatories.csv", &csv);
    c.path()
        .join("signatories.csv")
        .to_str()
        .expect("utf8")
        .to_string()
}

fn appeal(c: &TestCampaign, args: &[&str]) -> Run {
    c.run(args)
}

fn send(c: &TestCampaign, extra: &[&str]) -> Run {
    let mut args = vec!["send", "--yes"];
    args.extend_from_slice(extra);
    c.run(&args)
}

/// Every letter of campaign `test` in the ledger, by `SIGNATORY/RECIPIENT` (or `RECIPIENT`).
fn rows(dir: &Path) -> BTreeMap<String, Entry> {
    rows_of(dir, "test")
}

/// Every letter of `campaign` in the ledger, by name.
fn rows_of(dir: &Path, campaign: &str) -> BTreeMap<String, Entry> {
    let Some(ledger) = Ledger::open_read_only(dir).expect("ledger") else {
        return BTreeMap::new();
    };
    ledger
        .entries(campaign)
        .expect("entries")
        .into_iter()
        .map(|e| {
            let name = match &e.signatory {
                Some(s) => format!("{s}/{}", e.recipient),
                None => e.recipient.clone(),
            };
            (name, e)
        })
        .collect()
}

/// The state of each letter, by name.
fn states(dir: &Path) -> BTreeMap<String, State> {
    rows(dir).into_iter().map(|(n, e)| (n, e.state)).collect()
}

/// The commands in backquotes on the `Next:` lines of a run's output.
fn hints(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with("Next: "))
        .flat_map(|l| l.split('`').skip(1).step_by(2).map(String::from))
        .collect()
}

/// The `Next:` line that holds `needle`, failing the test when there is none.
fn next_line(run: &Run, needle: &str) -> String {
    run.stdout
        .lines()
        .find(|l| l.starts_with("Next: ") && l.contains(needle))
        .unwrap_or_else(|| panic!("no Next line with {needle:?}:\n{}", run.stdout))
        .to_string()
}

/// The one hint that starts with `prefix`.
fn hint(run: &Run, prefix: &str) -> String {
    let found: Vec<String> = hints(run)
        .into_iter()
        .filter(|h| h.starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "hints {prefix:?}:\n{}", run.stdout);
    found[0].clone()
}

/// Runs a suggested command as typed (answering its question with `--yes` for `send`).
fn run_hint(c: &TestCampaign, hint: &str) -> Run {
    let words: Vec<&str> = hint.split_whitespace().collect();
    assert_eq!(words[0], "appeal", "{hint}");
    assert!(
        !hint.contains('\''),
        "quoted words are not expected here: {hint}"
    );
    let mut args: Vec<&str> = words[1..].to_vec();
    if args[0] == "send" {
        args.push("--yes");
    }
    c.run(&args)
}

/// A message the server stored, parsed by Python's `email` package.
struct Message {
    /// `SIGNATORY/RECIPIENT`, or `RECIPIENT` without a signatory.
    letter: String,
    to: String,
    subject: String,
    message_id: String,
}

fn messages(server: &Server) -> Vec<Message> {
    let paths = server.messages();
    if paths.is_empty() {
        return Vec::new();
    }
    let out = Command::new(python())
        .arg(common::repo_root().join("tests/smtp_server.py"))
        .arg("--inspect")
        .args(&paths)
        .output()
        .expect("inspect");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            let field = |k: &str| v[k].as_str().unwrap_or("").to_string();
            let to = field("to");
            let address = to
                .rsplit('<')
                .next()
                .expect("address")
                .trim_end_matches('>')
                .to_string();
            let reply_to = field("reply-to");
            let signatory = reply_to
                .split('<')
                .nth(1)
                .and_then(|a| a.split('@').next())
                .filter(|s| s.starts_with('s'));
            let recipient = match address.as_str() {
                "ombudsman@example.kz" | "midrk@example.kz" => recipient_of(&address).to_string(),
                other => other.to_string(),
            };
            Message {
                letter: match signatory {
                    Some(s) => format!("{s}/{recipient}"),
                    None => recipient,
                },
                to: address,
                subject: field("subject"),
                message_id: field("message-id"),
            }
        })
        .collect()
}

/// The letters the server received, sorted.
fn received(server: &Server) -> Vec<String> {
    let mut v: Vec<String> = messages(server).into_iter().map(|m| m.letter).collect();
    v.sort();
    v
}

/// The files added, removed or changed between two snapshots; not SQLite's shared-memory and
/// log files beside the ledger, which reading it (for the last run) opens.
fn changed(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<PathBuf> {
    let paths: BTreeSet<&PathBuf> = before.keys().chain(after.keys()).collect();
    let sqlite = |p: &PathBuf| {
        let p = p.to_string_lossy();
        p.ends_with("ledger.db-shm") || p.ends_with("ledger.db-wal")
    };
    paths
        .into_iter()
        .filter(|p| !sqlite(p) && before.get(*p) != after.get(*p))
        .cloned()
        .collect()
}

fn spawn(c: &TestCampaign, args: &[&str]) -> Child {
    common::command(c.path(), args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn appeal")
}

fn ctrl_c(child: &Child) {
    let sig = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sig.success());
}

fn finish(child: Child) -> Run {
    Run::from_output(child.wait_with_output().expect("wait"))
}

// --- --retry-failed and failed letters -----------------------------------------------------

#[test]
fn retry_failed_sends_only_the_failed_letter() {
    let refusing = Server::start(&["--reject", "midrk@example.kz"]);
    let c = campaign(&refusing.url());
    let run = send(&c, &[]);
    run.expect_code(1)
        .expect_stderr("RCPT TO: 550 5.1.1 <midrk@example.kz>: mailbox unavailable");
    assert_eq!(states(c.path())["foreign"], State::Failed);
    let retry = hint(&run, "appeal send --retry-failed");
    assert_eq!(retry, "appeal send --retry-failed --only foreign");
    next_line(&run, "retry the 1 failed letter");
    // The advice of old, which re-sent every letter to the recipient, is gone.
    assert!(!run.all().contains("--resend --only"), "{}", run.all());

    // A plain re-run does not retry it, and says how to.
    let again = send(&c, &[]);
    again
        .expect_code(1)
        .expect_stderr("failed before: foreign")
        .expect_stderr("`appeal send --retry-failed --only foreign`");

    let fixed = Server::start(&[]);
    use_server(&c, &fixed.url());
    let before = rows(c.path());
    let retried = run_hint(&c, &retry);
    retried.expect_code(0).expect_stdout("1 sent, 0 written");
    assert_eq!(received(&fixed), ["foreign"]);
    let after = rows(c.path());
    assert_eq!(after["foreign"].state, State::Sent);
    assert_eq!(after["foreign"].attempts, 2);
    for other in ["president", "ombudsman"] {
        assert_eq!(after[other], before[other], "{other} was touched");
    }
    assert!(hints(&retried).is_empty(), "{}", retried.stdout);
}

#[test]
fn retry_failed_leaves_every_other_letter_alone() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    // Nothing failed yet: nothing is sent, every letter is left alone.
    send(&c, &["--retry-failed"])
        .expect_code(0)
        .expect_stdout("0 sent, 0 written, 0 failed, 0 deferred, 0 in doubt, 3 left alone");
    assert_eq!(server.count("CONNECT"), 0);
    assert!(rows(c.path()).is_empty());

    let refusing = Server::start(&["--reject", "midrk@example.kz"]);
    use_server(&c, &refusing.url());
    send(&c, &[]).expect_code(1);
    use_server(&c, &server.url());
    let before = rows(c.path());
    let run = send(&c, &["--retry-failed"]);
    run.expect_code(0)
        .expect_stdout("1 sent, 0 written, 0 failed, 0 deferred, 0 in doubt, 2 left alone");
    // Left alone, not reported one by one.
    assert!(!run.stderr.contains("ombudsman"), "{}", run.stderr);
    assert_eq!(received(&server), ["foreign"]);
    let after = rows(c.path());
    assert_eq!(after["ombudsman"], before["ombudsman"]);
    assert_eq!(after["president"], before["president"]);
}

#[test]
fn the_hint_after_a_failed_batch_retries_exactly_the_failed_letters() {
    let refusing = Server::start(&["--reject", "midrk@example.kz"]);
    let c = campaign(&refusing.url());
    let csv = signatories(&c, 12);
    let run = send(&c, &["--signatories", &csv]);
    run.expect_code(1);
    // Twelve failures, all the letters to one recipient: named by the recipient.
    let retry = hint(&run, "appeal send --retry-failed");
    assert_eq!(retry, "appeal send --retry-failed --only foreign");
    next_line(&run, "retry the 12 failed letters");

    let fixed = Server::start(&[]);
    use_server(&c, &fixed.url());
    run_hint(&c, &retry)
        .expect_code(0)
        .expect_stderr("as the last `appeal send`")
        .expect_stdout("12 sent, 0 written");
    let expected: Vec<String> = (1..=12).map(|i| format!("s{i}/foreign")).collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(received(&fixed), expected);
    assert!(states(c.path()).values().all(|s| s.is_done()));
}

#[test]
fn a_deferred_letter_is_sent_by_the_hint() {
    let busy = Server::start(&["--defer-first", "100"]);
    let c = campaign(&busy.url());
    let run = send(&c, &["--only", "foreign"]);
    run.expect_code(75).expect_stderr("deferred: foreign");
    let rest = hint(&run, "appeal send");
    assert_eq!(rest, "appeal send --only foreign");
    next_line(&run, "send the 1 letter not sent yet (1 deferred)");
    let fixed = Server::start(&[]);
    use_server(&c, &fixed.url());
    run_hint(&c, &rest).expect_code(0);
    assert_eq!(received(&fixed), ["foreign"]);
}

// --- one letter of a batch --------------------------------------------------------------------

#[test]
fn only_signatory_slash_recipient_sends_exactly_that_letter() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 3);
    send(&c, &["--signatories", &csv, "--only", "s2/ombudsman"])
        .expect_code(0)
        .expect_stdout("1 sent, 0 written");
    assert_eq!(received(&server), ["s2/ombudsman"]);
    let states = states(c.path());
    assert_eq!(states.keys().collect::<Vec<_>>(), ["s2/ombudsman"]);
    assert_eq!(states["s2/ombudsman"], State::Sent);
}

#[test]
fn send_without_signatories_after_a_batch_acts_on_the_batch() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 2);
    send(&c, &["--signatories", &csv]).expect_code(0);
    let again = send(&c, &[]);
    again
        .expect_code(0)
        .expect_stderr("as the last `appeal send`")
        .expect_stderr("--signatories")
        .expect_stdout("0 sent, 0 written, 0 failed, 0 deferred, 0 in doubt, 6 already sent");
    assert_eq!(server.messages().len(), 4);
    // No letter of the placeholder sender of appeal.toml was made.
    assert!(rows(c.path()).values().all(|e| e.signatory.is_some()));
}

// --- letters in doubt -------------------------------------------------------------------------

#[test]
fn the_hints_for_a_few_letters_in_doubt_name_exactly_them() {
    // The first two messages are stored, then the connection drops before the reply.
    let server = Server::start(&["--drop-after-data", "2"]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 3);
    let run = send(&c, &["--signatories", &csv]);
    run.expect_code(75);
    let states = states(c.path());
    let doubt: Vec<&str> = states
        .iter()
        .filter(|(_, s)| s.is_in_doubt())
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(doubt, ["s1/foreign", "s1/ombudsman"]);
    let line = next_line(&run, "in doubt");
    assert!(line.contains("2 letters are in doubt"), "{line}");
    let names = "s1/ombudsman,s1/foreign";
    assert_eq!(
        hint(&run, "appeal mark"),
        format!("appeal mark delivered --only {names}")
    );
    let resend = hint(&run, "appeal send --resend-in-doubt");
    assert_eq!(
        resend,
        format!("appeal send --resend-in-doubt --only {names}")
    );
    let ids_before: BTreeMap<String, String> = messages(&server)
        .into_iter()
        .map(|m| (m.letter, m.message_id))
        .collect();

    let stored = server.messages().len();
    run_hint(&c, &resend)
        .expect_code(0)
        .expect_stdout("2 sent, 0 written");
    let all = messages(&server);
    assert_eq!(all.len(), stored + 2);
    let again: BTreeMap<String, String> = all[stored..]
        .iter()
        .map(|m| (m.letter.clone(), m.message_id.clone()))
        .collect();
    assert_eq!(again.len(), 2);
    for (letter, id) in &again {
        assert!(doubt.contains(&letter.as_str()), "{letter} re-sent");
        assert_eq!(&ids_before[letter], id, "same Message-ID for {letter}");
    }
    assert!(all_done(c.path()));
}

/// Whether every letter of the ledger is done.
fn all_done(dir: &Path) -> bool {
    states(dir).values().all(|s| s.is_done())
}

#[test]
fn many_letters_in_doubt_are_counted_and_listed_by_status() {
    let server = Server::start(&["--drop-after-data", "12"]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 12);
    let run = send(&c, &["--signatories", &csv, "--only", "ombudsman"]);
    run.expect_code(75);
    let line = next_line(&run, "in doubt");
    assert!(line.contains("12 letters are in doubt"), "{line}");
    assert_eq!(
        hint(&run, "appeal status"),
        "appeal status --list --only ombudsman"
    );
    assert!(!line.contains("mark delivered"), "{line}");
    assert!(!line.contains("--resend-in-doubt"), "{line}");
}

// --- changed letters --------------------------------------------------------------------------

#[test]
fn changed_letters_are_resent_by_recipient_only_when_that_is_exactly_them() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 12);
    send(&c, &["--signatories", &csv]).expect_code(0);
    assert_eq!(server.messages().len(), 24);

    // The Russian letter changes: every letter to the ombudsman, and only those.
    c.edit(
        "letters/test/letter.ru.md.hbs",
        "Прошу Вас пересмотреть дело.",
        "Прошу Вас безотлагательно пересмотреть дело.",
    );
    let run = send(&c, &[]);
    run.expect_code(1).expect_stdout("12 changed since sent");
    let resend = hint(&run, "appeal send --resend");
    assert_eq!(resend, "appeal send --resend --only ombudsman");
    run_hint(&c, &resend)
        .expect_code(0)
        .expect_stdout("12 sent, 0 written");
    let all = messages(&server);
    assert_eq!(all.len(), 36);
    assert!(all[24..].iter().all(|m| m.to == "ombudsman@example.kz"));
    assert!(all_done(c.path()));

    // One signatory's name changes (it signs the letters): its three letters, named one by
    // one.
    let text = c.read("signatories.csv");
    c.write(
        "signatories.csv",
        &text.replace("s12,Signer 12,", "s12,Signer Twelve,"),
    );
    let run = send(&c, &[]);
    run.expect_code(1);
    let resend = hint(&run, "appeal send --resend");
    assert_eq!(
        resend,
        "appeal send --resend --only s12/president,s12/ombudsman,s12/foreign"
    );
    let before = rows(c.path());
    run_hint(&c, &resend)
        .expect_code(0)
        .expect_stdout("2 sent, 1 written");
    let after = rows(c.path());
    for (name, row) in &after {
        let touched = name.starts_with("s12/");
        assert_eq!(row.attempts != before[name].attempts, touched, "{name}");
    }

    // Eleven signatories change: 33 letters across every recipient, beside letters that are
    // done, so no `--only RECIPIENT` would be exact: the count and where to see them.
    let text = c.read("signatories.csv").replace(",Signer ", ",Signatory ");
    let text = text.replace("Signatory Twelve", "Signer Twelve");
    c.write("signatories.csv", &text);
    let run = send(&c, &[]);
    run.expect_code(1).expect_stdout("33 changed since sent");
    let line = next_line(&run, "changed since they were sent");
    assert!(line.contains("33 letters"), "{line}");
    assert!(line.contains("`appeal status --list`"), "{line}");
    assert!(
        !run.all().contains("--resend --only ombudsman"),
        "{}",
        run.all()
    );
    assert!(
        !run.all().contains("--resend --only foreign"),
        "{}",
        run.all()
    );
    assert!(
        !run.all().contains("--resend --only president"),
        "{}",
        run.all()
    );
}

// --- the summary of a large run ---------------------------------------------------------------

#[test]
fn forty_signatories_are_summed_up_and_list_shows_every_letter() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 40);
    let run = send(&c, &["--signatories", &csv]);
    run.expect_code(0)
        .expect_stdout("Campaign `test`: 120 letters")
        .expect_stdout("RECIPIENT")
        .expect_stdout("80 sent, 40 written");
    assert!(
        run.stdout.lines().count() <= 20,
        "{} lines:\n{}",
        run.stdout.lines().count(),
        run.stdout
    );
    assert!(!run.stdout.contains("s17/ombudsman"), "{}", run.stdout);
    let table: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("ombudsman") || l.starts_with("foreign"))
        .collect();
    assert_eq!(table.len(), 2, "{}", run.stdout);
    assert!(table.iter().all(|l| l.contains("40")), "{table:?}");

    // Again: every letter is done; with --list, each is shown.
    let again = send(&c, &["--list"]);
    again
        .expect_code(0)
        .expect_stdout("120 already sent or written");
    for i in 1..=40 {
        for r in ["president", "ombudsman", "foreign"] {
            again.expect_stdout(&format!("s{i}/{r}  "));
        }
    }
    assert!(again.stdout.lines().count() > 120);
    let plain = send(&c, &[]);
    plain
        .expect_stdout("In all: 120 letters: 120 done, 0 to send, 0 held back.")
        .expect_code(0);
    assert!(plain.stdout.lines().count() <= 20, "{}", plain.stdout);
}

// --- Ctrl-C before anything left --------------------------------------------------------------

/// Whether process `pid` catches SIGINT yet (bit 2 of SigCgt in /proc/PID/status).
fn catches_sigint(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << 1) != 0)
}

#[test]
fn ctrl_c_while_the_letters_are_checked_says_nothing_was_sent() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    // 900 letters: checking them takes a while, and nothing may leave before.
    let csv = signatories(&c, 300);
    let child = spawn(&c, &["send", "--yes", "--signatories", &csv]);
    wait_until("the Ctrl-C handler", Duration::from_secs(30), || {
        catches_sigint(child.id())
    });
    ctrl_c(&child);
    let run = finish(child);
    run.expect_code(130)
        .expect_stderr("appeal: interrupted: nothing sent");
    assert_eq!(run.stdout, "", "stopped before the overview");
    assert_eq!(server.count("CONNECT"), 0);
    assert!(rows(c.path()).is_empty());
}

#[test]
fn ctrl_c_before_the_first_message_sends_nothing_and_the_hint_sends_the_rest() {
    // The server takes 3 s to answer EHLO: the run is connected, nothing has left yet.
    let slow = Sink::start(&["-W", "ehlo:3"]);
    let c = campaign(&slow.url());
    let child = spawn(&c, &["send", "--yes"]);
    let pdf = c.path().join("out/test/president.pdf");
    wait_until("the paper letter", Duration::from_secs(30), || pdf.exists());
    ctrl_c(&child);
    let run = finish(child);
    run.expect_code(130)
        .expect_stderr("appeal: interrupted: nothing sent; 2 letters not started");
    let states = states(c.path());
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        [("president".to_string(), State::Written)]
    );
    let rest = hint(&run, "appeal send");
    assert_eq!(rest, "appeal send");
    next_line(&run, "send the 2 letters not sent yet (2 not started)");
    let server = Server::start(&[]);
    use_server(&c, &server.url());
    run_hint(&c, &rest)
        .expect_code(0)
        .expect_stdout("2 sent, 0 written");
    assert_eq!(received(&server), ["foreign", "ombudsman"]);
}

#[test]
fn the_hint_after_an_interrupted_batch_sends_exactly_the_rest() {
    let slow = Server::start(&["--slow-data", "2"]);
    let c = campaign(&slow.url());
    let csv = signatories(&c, 3);
    let child = spawn(&c, &["send", "--yes", "--signatories", &csv]);
    wait_until("the first message", Duration::from_secs(30), || {
        slow.count("SLOW") >= 1
    });
    ctrl_c(&child);
    let run = finish(child);
    run.expect_code(130).expect_stderr("interrupted");
    let first = messages(&slow);
    assert_eq!(first.len(), 1);
    let not_started = 6 - 1;
    next_line(
        &run,
        &format!("send the {not_started} letters not sent yet ({not_started} not started)"),
    );
    let rest = hint(&run, "appeal send");
    assert_eq!(rest, "appeal send");

    let fast = Server::start(&[]);
    use_server(&c, &fast.url());
    run_hint(&c, &rest)
        .expect_code(0)
        .expect_stdout(&format!("{not_started} sent"));
    let second = messages(&fast);
    assert_eq!(second.len(), not_started);
    let letters: BTreeSet<String> = first
        .iter()
        .chain(&second)
        .map(|m| m.letter.clone())
        .collect();
    assert_eq!(letters.len(), 6, "each letter once: {letters:?}");
    assert!(all_done(c.path()));
    assert_eq!(rows(c.path()).len(), 9);
}

#[test]
fn a_finished_run_suggests_only_posting_and_then_nothing() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let run = send(&c, &[]);
    run.expect_code(0);
    let next: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("Next: "))
        .collect();
    assert_eq!(next.len(), 1, "{}", run.stdout);
    assert!(next[0].starts_with("Next: print the PDFs in "), "{next:?}");
    let again = send(&c, &[]);
    again.expect_code(0);
    assert!(!again.stdout.contains("Next:"), "{}", again.stdout);
}

// --- pdf --------------------------------------------------------------------------------------

/// `appeal status --json` (with the signatories, when given): letter name → state.
fn status_states(c: &TestCampaign, extra: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["status", "--json"];
    args.extend_from_slice(extra);
    let run = appeal(c, &args);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("json");
    rows.into_iter()
        .map(|r| {
            let name = match r["signatory"].as_str() {
                Some(s) => format!("{s}/{}", r["recipient"].as_str().expect("recipient")),
                None => r["recipient"].as_str().expect("recipient").to_string(),
            };
            (name, r["state"].as_str().expect("state").to_string())
        })
        .collect()
}

#[test]
fn pdf_records_the_letters_to_print_as_written() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    appeal(&c, &["pdf"]).expect_code(0);
    let states = status_states(&c, &[]);
    assert_eq!(states["president"], "written");
    assert_eq!(states["ombudsman"], "not_started");
    assert_eq!(states["foreign"], "not_started");
    let row = &rows(c.path())["president"];
    assert!(
        row.output_path
            .as_deref()
            .is_some_and(|p| p.ends_with("president.pdf"))
    );
    // `send` finds the printed letter done, and sends the emails.
    send(&c, &[])
        .expect_code(0)
        .expect_stdout("2 sent, 0 written, 0 failed, 0 deferred, 0 in doubt, 1 already sent");

    // A batch: each signatory's letter to print.
    let c = campaign(&server.url());
    let csv = signatories(&c, 2);
    appeal(&c, &["pdf", "--signatories", &csv]).expect_code(0);
    let states = status_states(&c, &["--signatories", &csv]);
    assert_eq!(states["s1/president"], "written");
    assert_eq!(states["s2/president"], "written");
    assert_eq!(states["s2/ombudsman"], "not_started");
}

#[test]
fn pdf_leaves_a_letter_marked_posted_as_it_is() {
    let c = TestCampaign::new();
    appeal(&c, &["pdf"]).expect_code(0);
    let key = Key::new(
        &LetterKey {
            campaign: "test".into(),
            signatory: None,
            recipient: "president".into(),
        },
        "alex@example.org",
        Channel::Post,
    );
    let mut ledger = Ledger::open(c.path()).expect("ledger");
    ledger
        .mark_by_hand(&key, State::Posted, Some("registered mail RR1"))
        .expect("mark");
    drop(ledger);
    appeal(&c, &["pdf"]).expect_code(0);
    assert_eq!(states(c.path())["president"], State::Posted);
}

/// The page count of a PDF.
fn pages(file: &Path) -> usize {
    common::pdf_tool("pdfinfo", &[], file)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count")
}

/// The bundled example (2 letters by post, 3 by email) in a temp dir.
fn example() -> TestCampaign {
    let c = TestCampaign {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let repo = common::repo_root();
    for file in ["recipients.toml", "appeal.toml"] {
        c.write(
            file,
            &std::fs::read_to_string(repo.join(file)).expect("read"),
        );
    }
    for e in std::fs::read_dir(repo.join("letters/duambekov")).expect("letters") {
        let e = e.expect("entry");
        let rel = PathBuf::from("letters/duambekov").join(e.file_name());
        std::fs::create_dir_all(c.path().join("letters/duambekov")).expect("mkdir");
        std::fs::copy(e.path(), c.path().join(rel)).expect("copy");
    }
    c
}

#[test]
fn all_pdf_holds_only_the_letters_to_print() {
    let c = example();
    appeal(&c, &["pdf", "--combined"])
        .expect_code(0)
        .expect_stdout("the 2 letters to print");
    let out = c.path().join("out/duambekov");
    let all = out.join("all.pdf");
    assert_eq!(
        pages(&all),
        pages(&out.join("president.pdf")) + pages(&out.join("prosecutor.pdf"))
    );
    common::pdf_tool("qpdf", &["--check"], &all);
    let lines = |file: &Path| -> BTreeSet<String> {
        common::pdf_text(file)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let in_all = lines(&all);
    let ids = [
        "president",
        "ombudsman",
        "interior",
        "prosecutor",
        "foreign",
    ];
    let each: BTreeMap<&str, BTreeSet<String>> = ids
        .iter()
        .map(|id| (*id, lines(&out.join(format!("{id}.pdf")))))
        .collect();
    for id in ids {
        // The lines only this letter has (its addressee, its salutation).
        let own: Vec<&String> = each[id]
            .iter()
            .filter(|l| ids.iter().all(|o| *o == id || !each[o].contains(*l)))
            .collect();
        assert!(!own.is_empty(), "{id}.pdf has no line of its own");
        let printed = own.iter().any(|l| in_all.contains(*l));
        let to_print = id == "president" || id == "prosecutor";
        assert_eq!(printed, to_print, "{id} in all.pdf: {printed}");
    }
    // Email letters are previews: not recorded.
    let rows = rows_of(c.path(), "duambekov");
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["president", "prosecutor"]);
    assert!(rows.values().all(|e| e.state == State::Written));
}

#[test]
fn all_pdf_with_nothing_to_print_is_not_written() {
    let c = example();
    appeal(&c, &["pdf", "--combined", "--only", "ombudsman,foreign"])
        .expect_code(0)
        .expect_stderr("no letter of this run goes by post or fax")
        .expect_stdout("previews");
    let out = c.path().join("out/duambekov");
    assert!(out.join("ombudsman.pdf").exists());
    assert!(!out.join("all.pdf").exists());
    assert!(rows_of(c.path(), "duambekov").is_empty());
}

#[test]
fn pdf_of_many_letters_counts_them_and_list_names_each_file() {
    let c = TestCampaign::new();
    let csv = signatories(&c, 40);
    let run = appeal(&c, &["pdf", "--signatories", &csv]);
    run.expect_code(0)
        .expect_stdout("120 letters written")
        .expect_stdout("RECIPIENT");
    assert!(run.stdout.lines().count() <= 10, "{}", run.stdout);
    assert!(!run.stdout.contains("wrote "), "{}", run.stdout);
    let listed = appeal(&c, &["pdf", "--signatories", &csv, "--list"]);
    listed.expect_code(0);
    assert_eq!(
        listed
            .stdout
            .lines()
            .filter(|l| l.starts_with("wrote "))
            .count(),
        120
    );
    listed.expect_stdout("s40/foreign.pdf");
}

// --- --test-to --------------------------------------------------------------------------------

#[test]
fn test_to_sends_one_marked_letter_and_records_nothing() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 3);
    let run = send(&c, &["--signatories", &csv, "--test-to", "me@example.net"]);
    run.expect_code(0)
        .expect_stdout("[TEST] s1/ombudsman")
        .expect_stdout("me@example.net");
    let got = messages(&server);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, "me@example.net");
    assert!(got[0].subject.starts_with("[TEST] "), "{}", got[0].subject);
    assert!(got[0].subject.contains("О деле"), "{}", got[0].subject);
    assert_eq!(
        server
            .events()
            .iter()
            .filter(|e| e.starts_with("RCPT"))
            .count(),
        1
    );
    assert!(!c.path().join(".appeal").exists(), "the ledger was touched");
    assert!(!c.path().join("out/test/sent").exists(), "a copy was kept");

    // The letter itself still goes, with a Message-ID of its own.
    send(&c, &["--signatories", &csv, "--only", "s1/ombudsman"]).expect_code(0);
    let all = messages(&server);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].to, "ombudsman@example.kz");
    assert_ne!(all[0].message_id, all[1].message_id);
}

#[test]
fn test_to_of_a_run_on_paper_sends_its_first_letter() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    send(&c, &["--only", "president", "--test-to", "me@example.net"]).expect_code(0);
    let got = messages(&server);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, "me@example.net");
    assert_eq!(
        got[0].subject,
        "[TEST] About the case of Musagali Duambekov [Ref. T-1]"
    );
    assert!(!c.path().join(".appeal").exists());
    assert!(!c.path().join("out").exists(), "no PDF written either");
}

#[test]
fn test_to_checks_the_address_and_asks_first() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let before = c.snapshot();
    for bad in ["not an address", "me@example.net\r\nBcc: x@example.org"] {
        send(&c, &["--test-to", bad])
            .expect_code(2)
            .expect_stderr("--test-to");
    }
    send(&c, &["--test-to", "not an address"]).expect_stderr("`not an address` is not a valid");
    // Without --yes and no terminal to ask on: refused.
    appeal(&c, &["send", "--test-to", "me@example.net"])
        .expect_code(2)
        .expect_stderr("add --yes");
    assert_eq!(server.count("CONNECT"), 0);
    assert_eq!(changed(&before, &c.snapshot()), [] as [PathBuf; 0]);

    // No SMTP server at all: said, not attempted.
    let c = TestCampaign::new();
    c.run(&["send", "--yes", "--test-to", "me@example.net"])
        .expect_code(2)
        .expect_stderr("--test-to sends a test email, but no SMTP server is configured");
}

// --- what cannot go -------------------------------------------------------------------------

#[test]
fn the_last_runs_signatories_file_gone_stops_send_and_pdf_with_nothing_written() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    let csv = signatories(&c, 2);
    send(&c, &["--signatories", &csv]).expect_code(0);
    std::fs::remove_file(&csv).expect("rm");
    let connections = server.count("CONNECT");
    let before = c.snapshot();
    for args in [&["send", "--yes"][..], &["pdf"][..]] {
        appeal(&c, args)
            .expect_code(2)
            .expect_stderr("used --signatories")
            .expect_stderr("signatories.csv, which cannot be read now")
            .expect_stderr("name the signatories file with --signatories");
        assert_eq!(
            changed(&before, &c.snapshot()),
            [] as [PathBuf; 0],
            "{args:?}"
        );
    }
    assert_eq!(server.count("CONNECT"), connections);
}

#[test]
fn pdf_while_the_campaign_is_locked_writes_nothing() {
    let c = TestCampaign::new();
    drop(Ledger::open(c.path()).expect("ledger"));
    let lock = appeal::commands::send::lock::CampaignLock::acquire(c.path()).expect("lock");
    let before = c.snapshot();
    appeal(&c, &["pdf"])
        .expect_code(2)
        .expect_stderr("another `appeal send` is running for this campaign, or an `appeal pdf`");
    assert_eq!(changed(&before, &c.snapshot()), [] as [PathBuf; 0]);
    drop(lock);
    appeal(&c, &["pdf"]).expect_code(0);
}

#[test]
fn pdf_with_a_ledger_that_is_not_a_file_writes_nothing() {
    let c = TestCampaign::new();
    std::fs::create_dir_all(c.path().join(".appeal/ledger.db")).expect("mkdir");
    let before = c.snapshot();
    appeal(&c, &["pdf"])
        .expect_code(2)
        .expect_stderr(".appeal/ledger.db");
    assert_eq!(changed(&before, &c.snapshot()), [] as [PathBuf; 0]);
}
