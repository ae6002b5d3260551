//! `appeal status` and `appeal mark` through a campaign's life on the real binary: a finished,
//! a failed and an interrupted batch (aiosmtpd and Postfix's `smtp-sink` on 127.0.0.1), a
//! supporter sending as themself, letters posted and faxed by hand. Every "Next:" line status
//! prints is run as printed (with `--yes` for `send`) and checked to do what it says.

use crate::common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::smtp::{Server, Sink, wait_until};
use crate::common::{Run, TestCampaign, command};
use appeal::ledger::{Key, Ledger, State};
use appeal::letter::LetterKey;
use appeal::model::recipients::Channel;
use serde_json::Value;

/// The bundled example's sender (appeal.toml).
const OWN: &str = "alex.sample@example.org";
const EMAILED: [&str; 3] = ["ombudsman", "interior", "foreign"];
const POSTED: [&str; 2] = ["president", "prosecutor"];

/// The bundled example (5 authorities: 3 by email, 2 by post) in a temp dir, with `smtp` as
/// the body of appeal.toml's `[smtp]` table.
fn example(smtp: &str) -> tempfile::TempDir {
    let repo = common::repo_root();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::copy(repo.join("recipients.toml"), d.join("recipients.toml")).expect("copy");
    let settings = std::fs::read_to_string(repo.join("appeal.toml")).expect("read");
    std::fs::write(
        d.join("appeal.toml"),
        format!("{settings}\n[smtp]\n{smtp}\n"),
    )
    .expect("write");
    let letters = d.join("letters/duambekov");
    std::fs::create_dir_all(&letters).expect("mkdir");
    for e in std::fs::read_dir(repo.join("letters/duambekov")).expect("letters") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), letters.join(e.file_name())).expect("copy");
    }
    dir
}

/// `[smtp]` for a staff account sending for a batch, one connection, to `url`.
fn staff(url: &str) -> String {
    format!("url = \"{url}\"\nfrom = \"Campaign <campaign@example.org>\"\nconnections = 1")
}

/// Points the campaign's `[smtp] url` at another server.
fn use_server(dir: &Path, url: &str) {
    let path = dir.join("appeal.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    let text: Vec<String> = text
        .lines()
        .map(|l| match l.starts_with("url = ") {
            true => format!("url = \"{url}\""),
            false => l.to_string(),
        })
        .collect();
    std::fs::write(&path, text.join("\n")).expect("write");
}

/// A signatories file of `n` rows (s001…) in the campaign; its absolute path.
fn signatories(dir: &Path, n: usize) -> String {
    let mut csv = String::from("id,name,email,city\n");
    for i in 1..=n {
        csv.push_str(&format!("s{i:03},Signer {i},s{i:03}@example.org,Leeds\n"));
    }
    let path = dir.join("signatories.csv");
    std::fs::write(&path, csv).expect("write");
    path.to_str().expect("utf8").to_string()
}

fn appeal(dir: &Path, args: &[&str]) -> Run {
    Run::of(&mut command(dir, args))
}

/// `appeal status --json ARGS`: the exit code and the rows.
fn rows(dir: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let r = appeal(dir, &[&["status", "--json"], args].concat());
    r.no_panic();
    let rows: Vec<Value> = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("status --json: {e}\n{}\n{}", r.stdout, r.stderr));
    (r.code, rows)
}

/// The row of `name` (`recipient` or `signatory/recipient`) with `channel`.
fn row<'a>(rows: &'a [Value], name: &str, channel: &str) -> &'a Value {
    rows.iter()
        .find(|r| {
            let n = match r["signatory"].as_str() {
                Some(s) => format!("{s}/{}", r["recipient"].as_str().unwrap_or("")),
                None => r["recipient"].as_str().unwrap_or("").to_string(),
            };
            n == name && r["channel"] == channel
        })
        .unwrap_or_else(|| panic!("no {channel} letter {name} in {rows:#?}"))
}

fn count(rows: &[Value], state: &str) -> usize {
    rows.iter().filter(|r| r["state"] == state).count()
}

/// The "Next:" lines of a run.
fn next_lines(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with("Next: "))
        .collect()
}

/// The command the one "Next:" line holding `needle` names, split as a POSIX shell splits it
/// (the program name dropped).
fn hinted(run: &Run, needle: &str) -> Vec<String> {
    let lines: Vec<&str> = next_lines(run)
        .into_iter()
        .filter(|l| l.contains(needle))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one Next: line with {needle:?}:\n{}",
        run.stdout
    );
    let at = lines[0].find(": appeal ").expect("a command") + 2;
    let words = shell_words(&lines[0][at..]);
    assert_eq!(words[0], "appeal");
    words[1..].to_vec()
}

/// Splits a command line as a POSIX shell does with single quotes and backslashes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Runs a hinted command; `send` gets `--yes` (there is no terminal to ask on).
fn run_hint(dir: &Path, words: &[String]) -> Run {
    let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
    if args.first() == Some(&"send") {
        args.push("--yes");
    }
    appeal(dir, &args)
}

/// Runs `appeal send --yes ARGS` and kills it (-9) once `server` (started with
/// `--hang-after-data 1`) holds the first message: that letter is left `sending`.
fn interrupt_first_message(dir: &Path, server: &Server, args: &[&str]) {
    let mut child = command(dir, &[&["send", "--yes"], args].concat())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn appeal");
    wait_until("the first message", Duration::from_secs(60), || {
        server.count("HANG") >= 1
    });
    child.kill().expect("kill -9");
    let _ = child.wait();
}

/// The Message-IDs of the messages a server stored.
fn stored_ids(server: &Server) -> Vec<String> {
    server.message_ids().into_keys().collect()
}

/// The ledger's history of one letter of the example, by the bundled sender.
fn history(dir: &Path, recipient: &str, channel: Channel) -> Vec<(State, Option<String>)> {
    let key = Key::new(
        &LetterKey {
            campaign: "duambekov".into(),
            signatory: None,
            recipient: recipient.into(),
        },
        OWN,
        channel,
    );
    Ledger::open_read_only(dir)
        .expect("ledger")
        .expect("a ledger")
        .history(&key)
        .expect("history")
        .into_iter()
        .map(|e| (e.state, e.detail))
        .collect()
}

#[test]
fn a_finished_batch_is_done_without_naming_the_signatories_and_mark_posted_finishes_it() {
    let server = Server::start(&[]);
    let camp = example(&staff(&server.url()));
    let dir = camp.path();
    let csv = signatories(dir, 3);
    appeal(dir, &["send", "--yes", "--signatories", &csv]).expect_code(0);
    assert_eq!(server.messages().len(), 9);

    // No --signatories: the batch is recalled, no letter of [sender] is invented.
    let run = appeal(dir, &["status"]);
    run.expect_code(0)
        .expect_stderr("as the last `appeal send`")
        .expect_stderr(&format!("--signatories {csv}"))
        .expect_stdout("15 letters from 3 signatories")
        .expect_stdout("Total: 9 sent, 6 written.");
    assert!(!run.stdout.contains("not_started"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("appeal send"),
        "nothing to send: {}",
        run.stdout
    );
    let (code, all) = rows(dir, &[]);
    assert_eq!(code, 0);
    assert_eq!(all.len(), 15);
    assert!(all.iter().all(|r| r["signatory"].is_string()), "{all:#?}");

    // The one hint: post the PDFs, then say so.
    let mark = hinted(&run, "6 letters by post");
    assert_eq!(mark, ["mark", "posted", "--signatories", csv.as_str()]);
    let marked = run_hint(dir, &mark);
    marked
        .expect_code(0)
        .expect_stdout("Marked 6 letters posted.")
        .expect_stdout("Left alone: 9 sent (email).");
    let (code, all) = rows(dir, &[]);
    assert_eq!(code, 0);
    assert_eq!((count(&all, "posted"), count(&all, "sent")), (6, 9));
    let done = appeal(dir, &["status"]);
    done.expect_code(0)
        .expect_stdout("Total: 9 sent, 6 posted.");
    assert!(next_lines(&done).is_empty(), "{}", done.stdout);
    // Quiet: the table stays, the recall note and the hints go.
    let quiet = appeal(dir, &["-q", "status"]);
    quiet
        .expect_code(0)
        .expect_stdout("Total: 9 sent, 6 posted.");
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

#[test]
fn plain_status_after_a_supporters_send_shows_only_their_letters() {
    let server = Server::start(&[]);
    let camp = example(&format!("url = \"{}\"", server.url()));
    let dir = camp.path();
    let me = [
        "--from-name",
        "Aigerim O'Neil",
        "--from-email",
        "aigerim@example.kz",
    ];
    let first = [&["send", "--yes", "--only", "ombudsman"][..], &me[..]].concat();
    appeal(dir, &first).expect_code(0);

    let run = appeal(dir, &["status"]);
    run.expect_code(75)
        .expect_stderr("the sender Aigerim O'Neil <aigerim@example.kz>")
        .expect_stdout("Total: 1 sent, 4 not_started.");
    let (_, all) = rows(dir, &[]);
    assert_eq!(all.len(), 5);
    assert!(
        all.iter().all(|r| r["sender"] == "aigerim@example.kz"),
        "no letter from the appeal.toml sender: {all:#?}"
    );
    // The hint sends exactly the supporter's four other letters, as them.
    let send = hinted(&run, "still to do");
    assert_eq!(
        send,
        [
            "send",
            "--from-name",
            "Aigerim O'Neil",
            "--from-email",
            "aigerim@example.kz"
        ]
    );
    run_hint(dir, &send).expect_code(0);
    assert_eq!(
        server.messages().len(),
        3,
        "ombudsman once, interior, foreign"
    );
    let (code, all) = rows(dir, &[]);
    assert_eq!(code, 0);
    assert_eq!((count(&all, "sent"), count(&all, "written")), (3, 2));
    assert!(all.iter().all(|r| r["sender"] == "aigerim@example.kz"));
}

#[test]
fn an_interrupted_batch_reports_in_doubt_and_its_hints_do_what_they_say() {
    let server = Server::start(&["--hang-after-data", "1"]);
    let camp = example(&staff(&server.url()));
    let dir = camp.path();
    let csv = signatories(dir, 2);
    interrupt_first_message(
        dir,
        &server,
        &["--signatories", &csv, "--only", "ombudsman"],
    );
    let cut_off = stored_ids(&server);
    assert_eq!(cut_off.len(), 1);

    // The letter cut off is `sending` in the ledger, in doubt in every report.
    let (code, all) = rows(dir, &[]);
    assert_eq!(code, 75);
    assert_eq!(all.len(), 10, "2 signatories x 5 recipients: {all:#?}");
    let doubt: Vec<&Value> = all.iter().filter(|r| r["state"] == "in_doubt").collect();
    assert_eq!(doubt.len(), 1, "{all:#?}");
    assert_eq!(doubt[0]["message_id"].as_str(), Some(cut_off[0].as_str()));
    assert!(all.iter().all(|r| r["state"] != "sending"));
    let signer = doubt[0]["signatory"]
        .as_str()
        .expect("signatory")
        .to_string();
    let letter = format!("{signer}/ombudsman");
    let run = appeal(dir, &["status", "--list"]);
    run.expect_code(75).expect_stdout("in_doubt");
    assert!(!run.stdout.contains("sending"), "{}", run.stdout);

    // Each hint names exactly that letter, or exactly the letters still to do.
    let mark = hinted(&run, "in doubt arrived");
    let only = ["--only", letter.as_str(), "--signatories", csv.as_str()];
    assert_eq!(mark, [&["mark", "delivered"][..], &only[..]].concat());
    let resend = hinted(&run, "same Message-ID");
    assert_eq!(
        resend,
        [&["send", "--resend-in-doubt"][..], &only[..]].concat()
    );
    let send = hinted(&run, "still to do");
    assert_eq!(send, ["send", "--signatories", csv.as_str()]);

    // The recipient confirmed it: marked delivered, and only it.
    run_hint(dir, &mark)
        .expect_code(0)
        .expect_stdout("Marked 1 letter delivered.")
        .expect_stdout(&format!("  {letter} (email)"));
    let (_, all) = rows(dir, &[]);
    assert_eq!(row(&all, &letter, "email")["state"], "delivered");
    assert_eq!(count(&all, "delivered"), 1);
    assert_eq!(count(&all, "not_started") + count(&all, "pending"), 9);

    // The rest goes out; the delivered letter is not sent again.
    let fresh = Server::start(&[]);
    use_server(dir, &fresh.url());
    run_hint(dir, &send).expect_code(0);
    assert_eq!(fresh.messages().len(), 5, "6 emails less the delivered one");
    assert!(!stored_ids(&fresh).contains(&cut_off[0]));
    let done = appeal(dir, &["status"]);
    done.expect_code(0)
        .expect_stdout("Total: 5 sent, 4 written, 1 delivered.");
    let lines = next_lines(&done);
    assert_eq!(lines.len(), 1, "only the post is left: {lines:?}");
}

#[test]
fn a_letter_cut_off_is_resent_by_its_hint_with_the_same_message_id() {
    let server = Server::start(&["--hang-after-data", "1"]);
    let camp = example(&format!("url = \"{}\"\nconnections = 1", server.url()));
    let dir = camp.path();
    interrupt_first_message(dir, &server, &["--only", "ombudsman"]);
    let cut_off = stored_ids(&server);

    let run = appeal(dir, &["status"]);
    run.expect_code(75)
        .expect_stdout("Total: 1 in_doubt, 4 not_started.");
    let resend = hinted(&run, "same Message-ID");
    assert_eq!(resend, ["send", "--resend-in-doubt", "--only", "ombudsman"]);
    assert_eq!(
        hinted(&run, "in doubt arrived"),
        ["mark", "delivered", "--only", "ombudsman"]
    );
    assert_eq!(hinted(&run, "still to do"), ["send"]);

    let fresh = Server::start(&[]);
    use_server(dir, &fresh.url());
    run_hint(dir, &resend).expect_code(0);
    assert_eq!(
        stored_ids(&fresh),
        cut_off,
        "the same Message-ID, one message"
    );
    let (code, all) = rows(dir, &[]);
    assert_eq!(code, 75);
    assert_eq!(row(&all, "ombudsman", "email")["state"], "sent");
    assert_eq!(count(&all, "not_started"), 4, "nothing else was sent");
}

#[test]
fn a_failed_batch_offers_retry_failed_and_send_delivers_only_what_was_not_started() {
    let sink = Sink::start(&["-f", "."]);
    let camp = example(&staff(&sink.url()));
    let dir = camp.path();
    let csv = signatories(dir, 2);
    appeal(
        dir,
        &["send", "--yes", "--signatories", &csv, "--only", "interior"],
    )
    .expect_code(1);

    let run = appeal(dir, &["status"]);
    run.expect_code(1)
        .expect_stdout("Total: 2 failed, 8 not_started.");
    // `send --retry-failed` is another helper's: its hint is checked as text.
    let retry = next_lines(&run)
        .into_iter()
        .find(|l| l.contains("failed"))
        .expect("a line for the failed letters");
    assert_eq!(
        retry,
        format!(
            "Next: 2 letters failed: fix what their reasons say, then send them again: \
             appeal send --retry-failed --signatories {csv}"
        )
    );
    let send = hinted(&run, "still to do");
    assert_eq!(send, ["send", "--signatories", csv.as_str()]);

    let server = Server::start(&[]);
    use_server(dir, &server.url());
    // The failed letters are left for --retry-failed: this run ends with 1 for them.
    run_hint(dir, &send).expect_code(1);
    assert_eq!(server.messages().len(), 4, "ombudsman and foreign, twice");
    assert_eq!(
        server.count("RCPT oraz-n@mvd.kz"),
        0,
        "interior not retried"
    );
    let after = appeal(dir, &["status"]);
    after
        .expect_code(1)
        .expect_stdout("Total: 4 sent, 4 written, 2 failed.");
    assert!(
        !after.stdout.contains("still to do"),
        "nothing left to send: {}",
        after.stdout
    );
    assert!(after.stdout.contains("--retry-failed"), "{}", after.stdout);
}

#[test]
fn forty_signatories_are_summed_up_and_listed_with_list() {
    let server = Server::start(&[]);
    let camp = example(&staff(&server.url()));
    let dir = camp.path();
    let csv = signatories(dir, 40);
    appeal(
        dir,
        &[
            "-q",
            "send",
            "--yes",
            "--signatories",
            &csv,
            "--only",
            "ombudsman,president",
        ],
    )
    .expect_code(0);

    let run = appeal(dir, &["status"]);
    run.expect_code(75)
        .expect_stdout("200 letters from 40 signatories")
        .expect_stdout("Total: 40 sent, 40 written, 120 not_started.");
    let header: Vec<&str> = run
        .stdout
        .lines()
        .find(|l| l.starts_with("RECIPIENT"))
        .expect("a table")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["RECIPIENT", "CHANNEL", "SENT", "WRITTEN", "NOT_STARTED"]
    );
    let ombudsman: Vec<&str> = run
        .stdout
        .lines()
        .find(|l| l.starts_with("ombudsman"))
        .expect("a row")
        .split_whitespace()
        .collect();
    assert_eq!(ombudsman, ["ombudsman", "email", "40", "0", "0"]);
    assert!(run.stdout.lines().count() < 20, "{}", run.stdout);
    assert!(
        !run.stdout.contains("s001"),
        "no letter listed: {}",
        run.stdout
    );

    for list in [&["status", "--list"][..], &["-v", "status"][..]] {
        let listed = appeal(dir, list);
        listed.expect_code(75);
        let letters: Vec<&str> = listed
            .stdout
            .lines()
            .filter(|l| l.starts_with('s'))
            .collect();
        assert_eq!(letters.len(), 200, "{list:?}");
        let s040 = letters
            .iter()
            .find(|l| l.starts_with("s040") && l.contains("ombudsman"))
            .expect("s040's letter to the ombudsman");
        // Whole replies, and times to the second.
        assert!(s040.contains(" sent "), "{s040}");
        assert!(s040.contains("2014-07-14 10:00:00"), "{s040}");
        assert!(s040.trim_end().ends_with(".appeal-test"), "{s040}");
    }
    let (_, all) = rows(dir, &[]);
    assert_eq!(all.len(), 200);
    let one = appeal(dir, &["status", "--only", "s007/ombudsman"]);
    one.expect_code(0)
        .expect_stdout("1 letter from 1 signatory");
    let (_, one) = rows(dir, &["--only", "s007/ombudsman,s008/prosecutor"]);
    assert_eq!(one.len(), 2);
    assert_eq!(row(&one, "s008/prosecutor", "post")["state"], "not_started");
}

#[test]
fn times_are_local_and_to_the_second_and_a_faxed_letter_is_marked_by_its_hint() {
    let c = TestCampaign::new();
    let dir = c.path();
    // The real clock (nanoseconds in the ledger), shown in Tokyo's time.
    let real = |args: &[&str]| {
        Run::of(
            command(dir, args)
                .env_remove("APPEAL_NOW")
                .env("TZ", "Asia/Tokyo"),
        )
    };
    real(&["send", "--yes", "--via", "fax", "--only", "president"]).expect_code(0);
    let stored = Ledger::open_read_only(dir)
        .expect("ledger")
        .expect("a ledger")
        .entries("test")
        .expect("entries")[0]
        .updated
        .clone();
    let stored: jiff::Timestamp = stored.parse().expect("a timestamp");
    let tokyo = jiff::Timestamp::from_second(stored.as_second())
        .expect("seconds")
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").expect("tz"));

    let json = real(&["status", "--json", "--only", "president"]);
    let all: Vec<Value> = serde_json::from_str(&json.stdout).expect("json");
    let fax = row(&all, "president", "fax");
    assert_eq!(
        fax["updated"].as_str(),
        Some(
            tokyo
                .strftime("%Y-%m-%dT%H:%M:%S+09:00")
                .to_string()
                .as_str()
        )
    );
    assert_eq!(fax["created"], fax["updated"]);
    let text = real(&["status"]);
    text.expect_stdout(&tokyo.strftime("%Y-%m-%d %H:%M:%S").to_string());
    let time = times_to_the_second(&text.stdout);
    assert!(
        time,
        "a time to the second, nothing finer:\n{}",
        text.stdout
    );

    // Not started: the post letters of the plan. Written: the fax, to be faxed by hand.
    text.expect_code(75);
    let mark = hinted(&text, "by fax");
    assert_eq!(mark, ["mark", "faxed"]);
    run_hint(dir, &mark)
        .expect_code(0)
        .expect_stdout("Marked 1 letter faxed.");
    let (_, all) = rows(dir, &[]);
    assert_eq!(row(&all, "president", "fax")["state"], "faxed");
}

/// Whether every time in a status table is `YYYY-MM-DD HH:MM:SS`, with no fraction after it.
fn times_to_the_second(stdout: &str) -> bool {
    let mut seen = false;
    for line in stdout.lines().filter(|l| l.starts_with("president")) {
        let Some(at) = line.find(" 20") else { continue };
        let t = &line[at + 1..];
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        let ok = t.len() >= 20
            && digits(&t[0..4])
            && &t[4..5] == "-"
            && digits(&t[5..7])
            && &t[10..11] == " "
            && digits(&t[11..13])
            && &t[13..14] == ":"
            && digits(&t[17..19])
            && &t[19..20] == " ";
        if !ok {
            return false;
        }
        seen = true;
    }
    seen
}

#[test]
fn mark_moves_only_what_it_may_and_refuses_nothing_silently() {
    let server = Server::start(&[]);
    let camp = example(&format!("url = \"{}\"", server.url()));
    let dir = camp.path();
    appeal(dir, &["send", "--yes"]).expect_code(0);
    let before = rows(dir, &[]).1;

    let none = appeal(dir, &["mark", "delivered"]);
    none.expect_code(0)
        .expect_stdout("Nothing to mark delivered")
        .expect_stdout("Left alone: 3 sent (email), 2 written (post).");
    appeal(dir, &["mark", "faxed"])
        .expect_code(0)
        .expect_stdout("Left alone: 3 sent (email), 2 written (post).");
    // A letter named with --only that the mark cannot apply to: an error, nothing marked.
    appeal(dir, &["mark", "delivered", "--only", "ombudsman"])
        .expect_code(2)
        .expect_stderr("--only ombudsman: its letters are 1 sent (email)")
        .expect_stderr("nothing was marked");
    appeal(dir, &["mark", "posted", "--only", "president,ombudsman"])
        .expect_code(2)
        .expect_stderr("--only ombudsman");
    // Notes that cannot be kept as they are.
    appeal(dir, &["mark", "posted", "--note", " "])
        .expect_code(2)
        .expect_stderr("--note is empty");
    appeal(dir, &["mark", "posted", "--note", "RR1\x1b[2J"])
        .expect_code(2)
        .expect_stderr("U+001B");
    appeal(dir, &["mark", "posted", "--only", "presidnet"])
        .expect_code(2)
        .expect_stderr("did you mean `president`?");
    assert_eq!(rows(dir, &[]).1, before, "nothing was marked");

    let note = "registered mail RR123456789KZ";
    appeal(
        dir,
        &["mark", "posted", "--only", "president", "--note", note],
    )
    .expect_code(0)
    .expect_stdout("Marked 1 letter posted.");
    let h = history(dir, "president", Channel::Post);
    assert_eq!(h.last(), Some(&(State::Posted, Some(note.to_string()))));
    let run = appeal(dir, &["status"]);
    run.expect_code(0)
        .expect_stdout(note)
        .expect_stdout("Total: 3 sent, 1 written, 1 posted.");
    assert_eq!(
        hinted(&run, "1 letter by post"),
        ["mark", "posted"],
        "the prosecutor's letter"
    );
    let again = appeal(dir, &["mark", "posted"]);
    again
        .expect_code(0)
        .expect_stdout("Marked 1 letter posted.")
        .expect_stdout("  prosecutor (post)")
        .expect_stdout("1 letter already posted (left as they are");
    assert_eq!(history(dir, "president", Channel::Post).len(), h.len());
    let (code, all) = rows(dir, &[]);
    assert_eq!(code, 0);
    for id in POSTED {
        assert_eq!(row(&all, id, "post")["state"], "posted");
    }
    for id in EMAILED {
        assert_eq!(row(&all, id, "email")["state"], "sent");
    }
}

#[test]
fn mark_without_a_ledger_says_nothing_was_sent_and_creates_nothing() {
    let c = TestCampaign::new();
    let before = c.snapshot();
    c.run(&["mark", "posted"])
        .expect_code(0)
        .expect_stdout("Nothing sent or written yet in campaign `test`: nothing to mark.");
    c.run(&["mark", "delivered", "--only", "ombudsman"])
        .expect_code(2)
        .expect_stderr("nothing sent or written yet");
    assert_eq!(c.snapshot(), before, "no ledger made");
}

#[test]
fn mark_waits_for_no_one_while_a_send_runs() {
    let server = Server::start(&["--slow-data", "2"]);
    let camp = example(&format!("url = \"{}\"\nconnections = 1", server.url()));
    let dir = camp.path();
    let child = command(dir, &["send", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_until("the first message", Duration::from_secs(30), || {
        server.count("SLOW") >= 1
    });
    appeal(dir, &["mark", "posted"])
        .expect_code(2)
        .expect_stderr("another `appeal send` is running")
        .expect_stderr("nothing was marked");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    appeal(dir, &["mark", "posted"])
        .expect_code(0)
        .expect_stdout("Marked 2 letters posted.");
}

#[test]
fn a_signatories_file_gone_since_the_run_is_an_error_not_a_guess() {
    let camp = example("");
    let dir = camp.path();
    let csv = signatories(dir, 2);
    appeal(
        dir,
        &[
            "send",
            "--yes",
            "--signatories",
            &csv,
            "--only",
            "president,prosecutor",
        ],
    )
    .expect_code(0);
    std::fs::remove_file(&csv).expect("rm");
    let entries = |d: &Path| {
        Ledger::open_read_only(d)
            .expect("ledger")
            .expect("a ledger")
            .entries("duambekov")
            .expect("entries")
    };
    let before = entries(dir);
    appeal(dir, &["status"])
        .expect_code(2)
        .expect_stderr(&csv)
        .expect_stderr("cannot be read now");
    appeal(dir, &["mark", "posted"])
        .expect_code(2)
        .expect_stderr("cannot be read now");
    assert_eq!(entries(dir), before, "nothing was marked");
}

#[test]
fn a_batch_from_standard_input_is_not_remembered_and_no_letter_is_invented() {
    let camp = example("");
    let dir = camp.path();
    let csv = "id,name,city\nanna,Anna,Leeds\nben,Ben,York\n";
    let send = [
        "send",
        "--yes",
        "--signatories",
        "-",
        "--only",
        "president,prosecutor",
    ];
    with_stdin(dir, &send, csv).expect_code(0);

    let run = appeal(dir, &["status"]);
    run.expect_code(0)
        .expect_stdout("4 letters from 2 signatories")
        .expect_stdout("Total: 4 written.");
    assert!(!run.stdout.contains("appeal send"), "{}", run.stdout);
    let (_, all) = rows(dir, &[]);
    assert!(all.iter().all(|r| r["signatory"].is_string()), "{all:#?}");
    // The ledger's letters are marked all the same.
    assert_eq!(hinted(&run, "by post"), ["mark", "posted"]);
    appeal(dir, &["mark", "posted"])
        .expect_code(0)
        .expect_stdout("Marked 4 letters posted.");
}

#[test]
fn letters_no_flag_of_this_run_can_send_are_never_offered_to_send() {
    let sink = Sink::start(&["-f", "."]);
    let camp = example(&staff(&sink.url()));
    let dir = camp.path();
    let csv = "id,name,email\nanna,Anna,anna@example.org\nben,Ben,ben@example.org\n";
    let send = ["send", "--yes", "--signatories", "-", "--only", "interior"];
    with_stdin(dir, &send, csv).expect_code(1);

    // A batch read from a pipe cannot be recalled: its failed letters are shown, and no
    // `send` is offered for them, since none without their signatories would make them.
    let run = appeal(dir, &["status"]);
    run.expect_code(1)
        .expect_stdout("Total: 2 failed.")
        .expect_stderr("2 letters still to do are not among the letters `appeal send` makes");
    assert!(next_lines(&run).is_empty(), "{}", run.stdout);

    // Naming another sender: that sender's letters, and a word about the others.
    let other = appeal(dir, &["status", "--from-email", "cleo@example.org"]);
    other
        .expect_code(75)
        .expect_stdout("Total: 5 not_started.")
        .expect_stderr("2 other letters in the ledger are from senders this run does not name");
    assert_eq!(
        hinted(&other, "still to do"),
        ["send", "--from-email", "cleo@example.org"]
    );
}

/// `appeal ARGS` in `dir` with `input` on standard input.
fn with_stdin(dir: &Path, args: &[&str], input: &str) -> Run {
    use std::io::Write;
    let mut child = command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write");
    drop(stdin);
    Run::from_output(child.wait_with_output().expect("wait"))
}
