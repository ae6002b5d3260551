//! `appeal send` with the ledger (issue 5): a re-run sends only what is left, a finished
//! campaign opens no connection, faults end in the right state (aiosmtpd and Postfix's
//! `smtp-sink` on 127.0.0.1), Ctrl-C, the campaign lock, a ledger that cannot be written, and
//! `kill -9` at random moments.
//!
//! Needs the Python venv (aiosmtpd) and `/usr/sbin/smtp-sink` (Debian package `postfix`):
//! `scripts/test.sh` installs both.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use appeal::ledger::{Ledger, State};
use appeal::model::recipients::Channel;

use crate::common::bundled::{EMAILED, add_smtp_table, example};
use crate::common::smtp::{Server, Sink, free_port, hold_ledger_lock, loopback_url, wait_until};
use crate::common::{Run, command, ledger_key, run_in as appeal, spawn, wait_with_limit};

/// The bundled [`example`] with `smtp` as the body of an `[smtp]` table in its appeal.toml.
fn example_with_smtp(smtp: &str) -> tempfile::TempDir {
    let dir = example();
    add_smtp_table(dir.path(), smtp);
    dir
}

fn send(dir: &Path, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["send", "--yes", "--smtp", url];
    args.extend_from_slice(extra);
    appeal(dir, &args)
}

/// `appeal status --json`: (recipient or signatory/recipient) → its row.
fn status(dir: &Path) -> (i32, BTreeMap<String, serde_json::Value>) {
    let r = appeal(dir, &["status", "--json"]);
    let map = r
        .json_array()
        .into_iter()
        .map(|row| {
            let name = match row["signatory"].as_str() {
                Some(s) => format!("{s}/{}", row["recipient"].as_str().expect("recipient")),
                None => row["recipient"].as_str().expect("recipient").to_string(),
            };
            (name, row)
        })
        .collect();
    (r.code, map)
}

fn state_of(dir: &Path, id: &str) -> String {
    let (_, rows) = status(dir);
    rows[id]["state"].as_str().expect("state").to_string()
}

/// Every state the example's email to `recipient` went through, oldest first.
fn history(dir: &Path, recipient: &str) -> Vec<State> {
    let ledger = Ledger::open_read_only(dir)
        .expect("ledger")
        .expect("a ledger");
    let key = ledger_key(
        "duambekov",
        None,
        recipient,
        "alex.sample@example.org",
        Channel::Email,
    );
    ledger
        .history(&key)
        .expect("history")
        .into_iter()
        .map(|e| e.state)
        .collect()
}

#[test]
fn a_finished_campaign_opens_no_connection_and_status_shows_it() {
    let server = Server::start(&[]);
    let camp = example_with_smtp("");
    send(camp.path(), &server.url(), &[])
        .expect_code(0)
        .expect_stdout("3 sent, 2 written, 0 failed");
    let (code, rows) = status(camp.path());
    assert_eq!(code, 0, "status of a finished campaign");
    for id in EMAILED {
        assert_eq!(rows[id]["state"], "sent", "{id}");
        assert_eq!(rows[id]["attempts"], 1, "{id}");
        assert!(
            rows[id]["last_reply"]
                .as_str()
                .expect("reply")
                .starts_with("250")
        );
    }
    for id in ["president", "prosecutor"] {
        assert_eq!(rows[id]["state"], "written", "{id}");
        assert!(
            rows[id]["output_path"]
                .as_str()
                .expect("path")
                .ends_with(&format!("{id}.pdf"))
        );
    }
    let connections = server.count("CONNECT");

    // Again, at the same server: nothing is sent, no connection is opened.
    send(camp.path(), &server.url(), &[])
        .expect_code(0)
        .expect_stdout("0 sent, 0 written, 0 failed, 0 deferred, 0 in doubt, 5 already sent");
    assert_eq!(server.count("CONNECT"), connections);
    assert_eq!(server.messages().len(), 3);
    // And at a closed port: still nothing to connect for.
    let closed = loopback_url(free_port());
    send(camp.path(), &closed, &[]).expect_code(0);
    let r = appeal(camp.path(), &["status"]);
    r.expect_code(0).expect_stdout("Total: 3 sent, 2 written.");
}

#[test]
fn resend_forces_a_new_delivery_with_a_new_message_id_and_a_changed_letter_is_reported() {
    let server = Server::start(&[]);
    let camp = example_with_smtp("");
    send(camp.path(), &server.url(), &["--only", "ombudsman"]).expect_code(0);
    send(
        camp.path(),
        &server.url(),
        &["--only", "ombudsman", "--resend"],
    )
    .expect_code(0);
    let ids = server.message_ids();
    assert_eq!(ids.len(), 2, "two deliveries, two Message-IDs: {ids:?}");
    assert_eq!(status(camp.path()).1["ombudsman"]["attempts"], 2);

    // The letter changes: reported, not silently sent again.
    let letters = camp.path().join("letters/duambekov");
    let template = std::fs::read_dir(&letters)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".ru.md.hbs"))
        .expect("a Russian template");
    let text = std::fs::read_to_string(&template).expect("read");
    std::fs::write(&template, format!("{text}\nP.S. Добавлено.\n")).expect("write");
    let connections = server.count("CONNECT");
    send(camp.path(), &server.url(), &["--only", "ombudsman"])
        .expect_code(1)
        .expect_stderr("changed since it was sent: use --resend to send it again");
    assert_eq!(server.count("CONNECT"), connections);
    send(
        camp.path(),
        &server.url(),
        &["--only", "ombudsman", "--resend"],
    )
    .expect_code(0);
    assert_eq!(server.message_ids().len(), 3);
}

#[test]
fn a_421_then_a_new_connection_records_the_letter_sent() {
    let server = Server::start(&["--busy-first", "1"]);
    let camp = example_with_smtp("connections = 1");
    send(camp.path(), &server.url(), &[]).expect_code(0);
    assert_eq!(server.messages().len(), 3);
    for id in EMAILED {
        assert_eq!(state_of(camp.path(), id), "sent");
    }
    // The refused try never reached DATA: pending, pending again, then sent.
    let h = history(camp.path(), "foreign");
    assert_eq!(h.last(), Some(&State::Sent), "{h:?}");
}

#[test]
fn a_451_to_the_message_is_deferred_then_sent_on_a_rerun() {
    let sink = Sink::start(&["-r", "."]);
    let camp = example_with_smtp("connections = 1");
    send(camp.path(), &sink.url(), &["--only", "ombudsman"])
        .expect_code(75)
        .expect_stderr("deferred");
    assert_eq!(state_of(camp.path(), "ombudsman"), "deferred");
    let server = Server::start(&[]);
    send(camp.path(), &server.url(), &["--only", "ombudsman"]).expect_code(0);
    assert_eq!(state_of(camp.path(), "ombudsman"), "sent");
    assert_eq!(server.messages().len(), 1);
    let h = history(camp.path(), "ombudsman");
    let deferred = h
        .iter()
        .position(|s| *s == State::Deferred)
        .expect("deferred");
    assert!(h[deferred..].contains(&State::Sent), "{h:?}");
    assert_eq!(h.last(), Some(&State::Sent));
}

#[test]
fn a_550_to_the_message_is_failed_and_not_retried() {
    let sink = Sink::start(&["-f", "."]);
    let camp = example_with_smtp("connections = 1");
    send(camp.path(), &sink.url(), &["--only", "ombudsman"]).expect_code(1);
    let (code, rows) = status(camp.path());
    assert_eq!(code, 1);
    assert_eq!(rows["ombudsman"]["state"], "failed");
    assert!(
        rows["ombudsman"]["last_reply"]
            .as_str()
            .expect("reason")
            .contains("5")
    );
    let server = Server::start(&[]);
    send(camp.path(), &server.url(), &["--only", "ombudsman"])
        .expect_code(1)
        .expect_stderr("failed before");
    assert_eq!(server.count("CONNECT"), 0, "a failed letter is not retried");
}

#[test]
fn a_disconnect_after_the_final_dot_is_in_doubt_and_resent_only_on_request() {
    let sink = Sink::start(&["-q", "."]);
    let camp = example_with_smtp("connections = 1");
    send(camp.path(), &sink.url(), &["--only", "ombudsman"])
        .expect_code(75)
        .expect_stderr("in doubt");
    let (code, rows) = status(camp.path());
    assert_eq!(code, 75);
    assert_eq!(rows["ombudsman"]["state"], "in_doubt");
    let recorded = rows["ombudsman"]["message_id"]
        .as_str()
        .expect("id")
        .to_string();

    let server = Server::start(&[]);
    send(camp.path(), &server.url(), &["--only", "ombudsman"])
        .expect_code(75)
        .expect_stderr("--resend-in-doubt");
    assert_eq!(server.count("CONNECT"), 0, "in doubt: not re-sent");

    send(
        camp.path(),
        &server.url(),
        &["--only", "ombudsman", "--resend-in-doubt"],
    )
    .expect_code(0);
    let ids = server.message_ids();
    assert_eq!(
        ids.keys().collect::<Vec<_>>(),
        [&recorded],
        "same Message-ID"
    );
    assert_eq!(state_of(camp.path(), "ombudsman"), "sent");
}

#[test]
fn a_ledger_that_is_not_a_file_stops_everything_before_any_connection() {
    let server = Server::start(&[]);
    let camp = example_with_smtp("");
    std::fs::create_dir_all(camp.path().join(".appeal/ledger.db")).expect("mkdir");
    send(camp.path(), &server.url(), &[])
        .expect_code(2)
        .expect_stderr("ledger.db");
    assert_eq!(server.count("CONNECT"), 0);
    assert!(!camp.path().join("out").exists(), "no PDF written either");
}

fn spawn_send(dir: &Path, url: &str) -> Child {
    spawn(dir, &["send", "--yes", "--smtp", url])
}

/// Ctrl-C to `child` once `server` holds the first message (it was started with --slow-data).
fn interrupt_during_the_first_message(server: &Server, child: &Child) {
    wait_until("the first message", Duration::from_secs(30), || {
        server.count("SLOW") >= 1
    });
    let sig = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sig.success());
}

#[test]
fn a_second_send_while_one_runs_exits_2() {
    let server = Server::start(&["--slow-data", "1.5"]);
    let camp = example_with_smtp("connections = 1");
    let first = spawn_send(camp.path(), &server.url());
    wait_until("the first message", Duration::from_secs(20), || {
        server.count("SLOW") >= 1
    });
    send(camp.path(), &server.url(), &[])
        .expect_code(2)
        .expect_stderr("another `appeal send` is running");
    Run::of_child(first).expect_code(0);
    assert_eq!(server.messages().len(), 3);
}

#[test]
fn ctrl_c_finishes_the_message_in_flight_starts_no_other_and_exits_130() {
    let server = Server::start(&["--slow-data", "2"]);
    let camp = example_with_smtp("connections = 1");
    let child = spawn_send(camp.path(), &server.url());
    interrupt_during_the_first_message(&server, &child);
    let run = Run::of_child(child);
    run.expect_code(130)
        .expect_stdout("1 sent, 2 written, 0 failed, 0 deferred, 0 in doubt, 2 not started")
        .expect_stderr("interrupted");
    assert_eq!(server.messages().len(), 1);
    let (_, rows) = status(camp.path());
    let states: Vec<&str> = EMAILED
        .iter()
        .map(|id| rows[*id]["state"].as_str().expect("state"))
        .collect();
    let mut sorted = states.clone();
    sorted.sort();
    assert_eq!(sorted, ["not_started", "not_started", "sent"], "{states:?}");
    // The rest goes out on the next run; nothing twice.
    send(camp.path(), &server.url(), &[])
        .expect_code(0)
        .expect_stdout("2 sent");
    let ids = server.message_ids();
    assert_eq!(ids.len(), 3);
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");
}

#[test]
fn a_ledger_that_cannot_be_written_mid_run_stops_the_sending() {
    // Another program holds the ledger's write lock (an open `sqlite3` transaction, a backup)
    // longer than appeal waits for it: the next record fails, and sending stops there.
    let server = Server::start(&["--slow-data", "2"]);
    let camp = example_with_smtp("connections = 1");
    let db = camp.path().join(".appeal/ledger.db");
    // The holder is started first and takes the lock the moment the server holds the first
    // message, before that message's reply can be recorded.
    let events = server.dir.path().join("events.log");
    let mut holder = hold_ledger_lock(&db, &events, "SLOW", 14);
    let child = spawn_send(camp.path(), &server.url());
    let mut line = String::new();
    BufReader::new(holder.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "locked");
    let run = Run::of_child(child);
    let _ = holder.wait();
    run.expect_code(1)
        .expect_stderr("the ledger cannot be written")
        .expect_stderr(".appeal/ledger.db");
    assert_eq!(
        server.messages().len(),
        1,
        "nothing after the failed record"
    );
    // The message whose 250 could not be recorded is in doubt, not sent again.
    let (_, rows) = status(camp.path());
    let in_doubt: Vec<&str> = EMAILED
        .iter()
        .copied()
        .filter(|id| rows[*id]["state"] == "in_doubt")
        .collect();
    assert_eq!(in_doubt.len(), 1, "{rows:?}");
    send(camp.path(), &server.url(), &[])
        .expect_code(75)
        .expect_stderr("in doubt");
    assert_eq!(server.messages().len(), 3);
    assert!(server.message_ids().values().all(|n| *n == 1));
}

/// The rows of `status --json` that belong to a signatory (status also lists the plan's own
/// letters, without signatory, as not started).
fn signatory_rows(status: &Run) -> Vec<serde_json::Value> {
    status
        .json_array()
        .into_iter()
        .filter(|r| r["signatory"].is_string())
        .collect()
}

/// A small deterministic generator for the kill delays (seeded from the clock, printed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn kill_9_at_random_moments_loses_nothing_and_duplicates_only_letters_in_doubt() {
    const SIGNATORIES: usize = 60;
    let kills_wanted: usize = std::env::var("APPEAL_TEST_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    let server = Server::start(&[]);
    let (camp, csv) = many_signatories("connections = 1", SIGNATORIES);
    let csv_arg = csv.as_str();
    let args = ["send", "--yes", "--signatories", csv_arg, "--smtp"];
    let url = server.url();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    eprintln!("kill delays seeded with {seed}");
    let mut rng = Lcg(seed);

    let mut kills = 0;
    for _ in 0..kills_wanted {
        let mut child = command(camp.path(), &args)
            .arg(&url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // A debug build on a busy machine takes a while to render 300 letters and to open
        // its session: count the delay from this run's first message at the server, so the
        // kill lands while letters travel.
        let stored = server.messages().len();
        let start = Instant::now();
        while server.messages().len() == stored
            && child.try_wait().expect("try_wait").is_none()
            && start.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let delay = rng.below(150);
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().expect("try_wait").is_none() {
            child.kill().expect("kill -9");
            kills += 1;
        }
        let _ = child.wait();
    }
    eprintln!("{kills} kills; {} messages stored", server.messages().len());
    assert!(kills >= 2, "the runs ended before they could be killed");

    // Re-run until nothing is left but letters in doubt.
    let mut last = None;
    for _ in 0..5 {
        let r = appeal(camp.path(), &[&args[..], &[url.as_str()]].concat());
        let code = r.code;
        last = Some(r);
        if code == 0 || code == 75 {
            break;
        }
    }
    let last = last.expect("a run");
    assert!(last.code == 0 || last.code == 75, "{}", last.stderr);
    let status_args = ["status", "--json", "--signatories", csv_arg];
    let rows = signatory_rows(&appeal(camp.path(), &status_args));
    let in_doubt: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["state"] == "in_doubt" || r["state"] == "sending")
        .map(|r| r["message_id"].as_str().expect("id").to_string())
        .collect();
    let not_done: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| !(r["state"] == "sent" || r["state"] == "written"))
        .filter(|r| !(r["state"] == "in_doubt" || r["state"] == "sending"))
        .collect();
    assert!(not_done.is_empty(), "left over: {not_done:?}");
    assert!(
        in_doubt.len() <= kills,
        "{} in doubt after {kills} kills",
        in_doubt.len()
    );
    // In doubt only once the data was complete: the *sending* mark is committed just before
    // the final dot, so every letter in doubt had reached the server (a kill while the pending
    // mark was being synced leaves the letter pending, and the re-runs above sent it).
    let at_server = server.message_ids();
    let missing: Vec<&String> = in_doubt
        .iter()
        .filter(|id| !at_server.contains_key(*id))
        .collect();
    eprintln!(
        "{} in doubt, {} of them at the server: {in_doubt:?}",
        in_doubt.len(),
        in_doubt.len() - missing.len()
    );
    assert!(
        missing.is_empty(),
        "in doubt but never at the server: {missing:?}"
    );
    if !in_doubt.is_empty() {
        appeal(
            camp.path(),
            &[&args[..], &[url.as_str(), "--resend-in-doubt"]].concat(),
        )
        .expect_code(0);
    }

    let rows = signatory_rows(&appeal(camp.path(), &status_args));
    let emails: Vec<&serde_json::Value> = rows.iter().filter(|r| r["channel"] == "email").collect();
    assert_eq!(emails.len(), SIGNATORIES * 3);
    assert_eq!(rows.len(), SIGNATORIES * 5);
    assert!(
        rows.iter()
            .all(|r| r["state"] == "sent" || r["state"] == "written"),
        "every letter delivered or written"
    );
    let stored = server.message_ids();
    for e in &emails {
        let id = e["message_id"].as_str().expect("id");
        assert!(stored.contains_key(id), "{id} never arrived");
    }
    assert_eq!(stored.len(), SIGNATORIES * 3, "one Message-ID per letter");
    for (id, n) in &stored {
        assert!(
            *n == 1 || in_doubt.contains(id),
            "{id} stored {n} times but was never in doubt"
        );
    }
}

/// The example with `n` signatories (each writes to all 5 authorities: 3 emails, 2 PDFs), for
/// runs with more messages than the maker may have waiting for the sessions.
fn many_signatories(smtp: &str, n: usize) -> (tempfile::TempDir, String) {
    let camp = example_with_smtp(&format!(
        "from = \"Campaign <campaign@example.org>\"\n{smtp}"
    ));
    let mut csv = String::from("id,name,email,city\n");
    for i in 1..=n {
        csv.push_str(&format!("s{i:03},Signer {i},s{i:03}@example.org,Leeds\n"));
    }
    let path = camp.path().join("signatories.csv");
    std::fs::write(&path, csv).expect("write");
    let path = path.to_str().expect("utf8").to_string();
    (camp, path)
}

#[test]
fn a_fatal_error_with_hundreds_of_letters_waiting_stops_the_maker_and_ends() {
    // 300 emails: more than the maker may queue, so it is blocked handing one over when the
    // first session fails (this server offers no STARTTLS, which smtp:// requires).
    let server = Server::start(&[]);
    let (camp, csv) = many_signatories("", 100);
    let url = format!("smtp://127.0.0.1:{}", server.port);
    let child = spawn(
        camp.path(),
        &["send", "--yes", "--signatories", &csv, "--smtp", &url],
    );
    let run = wait_with_limit(child, Duration::from_secs(60), "appeal send");
    run.expect_code(1)
        .expect_stderr("does not offer STARTTLS")
        .expect_stdout("0 sent");
    assert!(server.messages().is_empty());
    let rows = signatory_rows(&appeal(camp.path(), &["status", "--json"]));
    assert!(
        rows.iter()
            .all(|r| r["state"] != "sent" && r["state"] != "in_doubt"),
        "nothing is recorded as sent: {rows:?}"
    );
}

#[test]
fn ctrl_c_with_hundreds_of_letters_waiting_stops_the_maker_and_exits_130() {
    let server = Server::start(&["--slow-data", "2"]);
    let (camp, csv) = many_signatories("connections = 1", 100);
    // Quiet: nobody reads the plan table of 500 letters from the pipe while the run goes on.
    let child = spawn(
        camp.path(),
        &[
            "-q",
            "send",
            "--yes",
            "--signatories",
            &csv,
            "--smtp",
            &server.url(),
        ],
    );
    interrupt_during_the_first_message(&server, &child);
    let run = wait_with_limit(child, Duration::from_secs(60), "appeal send");
    run.expect_code(130).expect_stderr("interrupted");
    assert_eq!(server.messages().len(), 1, "only the message in flight");
    let rows = signatory_rows(&appeal(camp.path(), &["status", "--json"]));
    let sent = rows.iter().filter(|r| r["state"] == "sent").count();
    assert_eq!(sent, 1, "{rows:?}");
    assert!(
        rows.iter().all(|r| r["state"] != "in_doubt"),
        "nothing left in doubt: {rows:?}"
    );
    // Nothing was lost: a second run (to a server without the delay) sends the other 299.
    let fast = Server::start(&[]);
    send(camp.path(), &fast.url(), &["--signatories", &csv]).expect_code(0);
    assert_eq!(fast.messages().len(), 299);
    let first = server.message_ids();
    let rest = fast.message_ids();
    assert!(rest.values().all(|n| *n == 1));
    assert!(
        first.keys().all(|id| !rest.contains_key(id)),
        "none sent twice"
    );
}
