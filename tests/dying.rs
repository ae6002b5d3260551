//! Sending that survives the server (issue 14): a server that dies in the middle of a run, one
//! that fails in the middle of a message, one that refuses the session rather than the letters
//! (530, the same refusal letter after letter, a 5xx greeting, no STARTTLS), and a run killed,
//! or stopped by its ledger, while a message's data is still going out. Real servers on
//! 127.0.0.1 only (tests/smtp_server.py, aiosmtpd, and a bare socket for the greeting).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::bundled::{EMAILED, add_smtp_table, example};
use crate::common::smtp::{Server, hold_ledger_lock, loopback_url, wait_until};
use crate::common::{Run, command, run_in as appeal, spawn, wait_with_limit};

const PASSWORD: &str = "a-long-test-password-9";
/// The example's recipients that are written to by email, for `--only`.
const BY_EMAIL: &str = "foreign,interior,ombudsman";

/// The bundled example with `n` signatories (each writes to the 5 authorities, 3 of them by
/// email) and `smtp` in its `[smtp]` table; the signatories file's path.
fn campaign(smtp: &str, n: usize) -> (tempfile::TempDir, String) {
    let camp = example();
    add_smtp_table(
        camp.path(),
        &format!("from = \"Campaign <campaign@example.org>\"\n{smtp}"),
    );
    let mut csv = String::from("id,name,email,city\n");
    for i in 1..=n {
        csv.push_str(&format!("s{i:03},Signer {i},s{i:03}@example.org,Leeds\n"));
    }
    let path = camp.path().join("signatories.csv");
    std::fs::write(&path, csv).expect("write");
    let path = path.to_str().expect("utf8").to_string();
    (camp, path)
}

/// `appeal send` of the emails only, for every signatory in `csv`, with `extra` arguments.
fn send_args<'a>(csv: &'a str, url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["send", "--yes", "--signatories", csv, "--only", BY_EMAIL];
    args.extend_from_slice(extra);
    args.extend(["--smtp", url]);
    args
}

/// The emails' rows of `appeal status --json` for the signatories in `csv`: state → how many.
fn states(dir: &Path, csv: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for row in rows(dir, csv) {
        *counts
            .entry(row["state"].as_str().expect("state").to_string())
            .or_insert(0) += 1;
    }
    counts
}

/// The emails' rows of `appeal status --json` for the signatories in `csv` (status also lists
/// the plan's own letters, without a signatory).
fn rows(dir: &Path, csv: &str) -> Vec<serde_json::Value> {
    appeal(
        dir,
        &["status", "--json", "--signatories", csv, "--only", BY_EMAIL],
    )
    .json_array()
    .into_iter()
    .filter(|r| r["signatory"].is_string())
    .collect()
}

fn count(states: &BTreeMap<String, usize>, state: &str) -> usize {
    states.get(state).copied().unwrap_or(0)
}

/// Letters in doubt: their data went out whole, no reply was recorded (`sending` is what a
/// run that ended there leaves).
fn doubtful(states: &BTreeMap<String, usize>) -> usize {
    count(states, "in_doubt") + count(states, "sending")
}

/// Message-ID → how many copies `servers` stored between them.
fn stored(servers: &[&Server]) -> BTreeMap<String, usize> {
    let mut all = BTreeMap::new();
    for s in servers {
        for (id, n) in s.message_ids() {
            *all.entry(id).or_insert(0) += n;
        }
    }
    all
}

fn lines(run: &Run) -> usize {
    run.stdout.lines().count() + run.stderr.lines().count()
}

#[test]
fn a_server_killed_after_100_of_600_messages_stops_the_run_and_a_rerun_sends_the_rest_once() {
    let (camp, csv) = campaign("", 200);
    let server = Server::start(&["--die-after", "100"]);
    let url = server.url();
    let mut args = vec!["-q"];
    args.extend(send_args(&csv, &url, &[]));
    let mut child = spawn(camp.path(), &args);
    wait_until("the server to die", Duration::from_secs(240), || {
        server.count("DIE") == 1 || child.try_wait().ok().flatten().is_some()
    });
    assert_eq!(
        server.count("DIE"),
        1,
        "the run ended before the server died"
    );
    // Within 15 s of the server's death: no letter after letter tried and given up on.
    let run = wait_with_limit(child, Duration::from_secs(15), "the run after the death");
    run.expect_code(75)
        .expect_stderr("sending stopped: cannot connect to 127.0.0.1")
        .expect_stderr("not started");
    assert!(lines(&run) <= 10, "{} lines:\n{}", lines(&run), run.stderr);
    let after = states(camp.path(), &csv);
    let (sent, in_doubt) = (count(&after, "sent"), doubtful(&after));
    eprintln!("after the death: {after:?}");
    assert_eq!(after.values().sum::<usize>(), 600);
    assert_eq!(count(&after, "failed"), 0, "{after:?}");
    assert!(sent < 100 && sent + in_doubt >= 100, "{after:?}");
    assert!(
        count(&after, "not_started") >= 400,
        "left as they were: {after:?}"
    );
    assert!(
        in_doubt + count(&after, "deferred") <= 4,
        "one per session: {after:?}"
    );

    // The server is back (a new one): every letter not in doubt goes out, once.
    let back = Server::start(&[]);
    let url = back.url();
    let run = appeal(camp.path(), &send_args(&csv, &url, &["-q"]));
    run.expect_code(if in_doubt > 0 { 75 } else { 0 });
    let end = states(camp.path(), &csv);
    assert_eq!(count(&end, "sent"), 600 - in_doubt, "{end:?}");
    assert_eq!(doubtful(&end), in_doubt, "{end:?}");
    assert_eq!(back.messages().len(), 600 - sent - in_doubt);
    let copies = stored(&[&server, &back]);
    for row in rows(camp.path(), &csv) {
        let id = row["message_id"].as_str().expect("a Message-ID");
        let n = copies.get(id).copied().unwrap_or(0);
        match row["state"].as_str() {
            Some("sent") => assert_eq!(n, 1, "{id}"),
            _ => assert!(n <= 1, "{id} in doubt, stored {n} times"),
        }
    }
}

#[test]
fn an_error_in_the_middle_of_a_message_does_not_fail_the_next_letters_on_the_connection() {
    // aiosmtpd answers 500 when its handler fails and keeps the transaction open: a MAIL FROM
    // without RSET would get 503 for every letter after it.
    let server = Server::start(&["--error-data", "1"]);
    let camp = example();
    add_smtp_table(camp.path(), "connections = 1");
    let run = appeal(camp.path(), &["send", "--yes", "--smtp", &server.url()]);
    run.expect_code(1)
        .expect_stderr("500 Error: (RuntimeError)")
        .expect_stdout("2 sent, 2 written, 1 failed, 0 deferred, 0 in doubt.");
    assert!(!run.stderr.contains("503"), "{}", run.stderr);
    assert_eq!(server.count("CONNECT"), 1, "one session for all three");
    assert_eq!(server.count("MAIL"), 3);
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn a_530_to_mail_from_stops_the_run_once_and_the_corrected_url_sends_every_letter() {
    let server = Server::start(&["--user", "alex", "--password", PASSWORD, "--require-auth"]);
    let (camp, csv) = campaign("", 20);
    // The URL without the user name: the server wants AUTH first.
    let url = server.url();
    let run = appeal(camp.path(), &send_args(&csv, &url, &["-q"]));
    run.expect_code(1)
        .expect_stderr("error: sending stopped: MAIL FROM: 530 5.7.0 Authentication required");
    assert_eq!(
        run.stderr.matches("sending stopped").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("failed"), "{}", run.stderr);
    let mail = server.count("MAIL");
    assert!(
        (1..=4).contains(&mail),
        "{mail} MAIL FROMs: one per session at most"
    );
    let after = states(camp.path(), &csv);
    assert_eq!(count(&after, "failed"), 0, "{after:?}");
    assert_eq!(
        count(&after, "deferred"),
        mail,
        "those tried stay to be sent: {after:?}"
    );
    assert_eq!(count(&after, "not_started"), 60 - mail, "{after:?}");

    let url = format!("smtp://alex@127.0.0.1:{}?tls=none", server.port);
    let run = Run::of(
        command(camp.path(), &send_args(&csv, &url, &["-q"])).env("APPEAL_SMTP_PASSWORD", PASSWORD),
    );
    run.expect_code(0);
    assert_eq!(count(&states(camp.path(), &csv), "sent"), 60);
    let copies = server.message_ids();
    assert_eq!(copies.len(), 60);
    assert!(copies.values().all(|n| *n == 1), "{copies:?}");
}

#[test]
fn the_same_refusal_letter_after_letter_stops_the_run_and_leaves_the_letters_to_be_sent() {
    // A relay that wants AUTH before it relays says so to each recipient.
    let server = Server::start(&["--refuse-rcpt", "554 5.7.1 Relay access denied"]);
    let (camp, csv) = campaign("connections = 1", 20);
    let run = appeal(camp.path(), &send_args(&csv, &server.url(), &["-q"]));
    run.expect_code(1)
        .expect_stderr("5 letters in a row refused with this reply");
    assert!(!run.stderr.contains("failed"), "{}", run.stderr);
    assert_eq!(server.count("RCPT"), 5);
    let after = states(camp.path(), &csv);
    assert_eq!(count(&after, "deferred"), 5, "{after:?}");
    assert_eq!(count(&after, "not_started"), 55, "{after:?}");

    let good = Server::start(&[]);
    appeal(camp.path(), &send_args(&csv, &good.url(), &["-q"])).expect_code(0);
    assert_eq!(good.message_ids().len(), 60);
    assert_eq!(count(&states(camp.path(), &csv), "sent"), 60);
}

#[test]
fn a_server_that_defers_every_letter_stops_the_run_after_three() {
    // 451 to every RCPT: each letter is tried 4 times; after 3 such letters nothing more is.
    let server = Server::start(&["--defer-first", "1000000"]);
    let (camp, csv) = campaign("connections = 1", 20);
    let url = server.url();
    let args = send_args(&csv, &url, &["-q"]);
    let run = wait_with_limit(
        spawn(camp.path(), &args),
        Duration::from_secs(60),
        "the run",
    );
    run.expect_code(75)
        .expect_stderr("3 letters in a row deferred, none sent")
        .expect_stderr("57 emails not started");
    assert!(lines(&run) <= 10, "{}", run.stderr);
    assert_eq!(server.count("RCPT"), 12);
    let after = states(camp.path(), &csv);
    assert_eq!(count(&after, "deferred"), 3, "{after:?}");
    assert_eq!(count(&after, "not_started"), 57, "{after:?}");

    let good = Server::start(&[]);
    appeal(camp.path(), &send_args(&csv, &good.url(), &["-q"])).expect_code(0);
    assert_eq!(good.message_ids().len(), 60);
}

#[test]
fn refusals_that_name_each_recipient_fail_each_letter_and_stop_nothing() {
    let server = Server::start(&["--refuse-rcpt", "550 5.1.1 no such mailbox here"]);
    let (camp, csv) = campaign("connections = 1", 3);
    let run = appeal(camp.path(), &send_args(&csv, &server.url(), &["-q"]));
    run.expect_code(1);
    assert!(!run.stderr.contains("sending stopped"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("550 5.1.1").count(), 9, "{}", run.stderr);
    assert_eq!(count(&states(camp.path(), &csv), "failed"), 9);
}

/// `send` of the example, stopped before any transaction: one line says why, and the
/// summary, `status` and the ledger agree that no letter was started.
fn stopped_before_any_letter(url: &str, why: &str) {
    let camp = example();
    let run = appeal(camp.path(), &["send", "--yes", "--smtp", url]);
    // The paper letters may be written or not yet: the maker stops with the sending.
    run.expect_code(1)
        .expect_stdout("0 sent, ")
        .expect_stdout(" written, 0 failed, 0 deferred, 0 in doubt, ")
        .expect_stdout(" not started.");
    assert_eq!(run.stderr.matches(why).count(), 1, "{}", run.stderr);
    let status = appeal(camp.path(), &["status", "--json"]);
    for row in status.json_array() {
        let id = row["recipient"].as_str().expect("recipient");
        if EMAILED.contains(&id) {
            assert_eq!(row["state"], "not_started", "{id}");
        }
    }
}

#[test]
fn a_server_without_starttls_stops_the_run_once_with_every_letter_not_started() {
    let server = Server::start(&[]);
    let url = format!("smtp://127.0.0.1:{}", server.port);
    stopped_before_any_letter(&url, "does not offer STARTTLS");
    assert_eq!(server.count("MAIL"), 0);
}

#[test]
fn a_5xx_greeting_stops_the_run_once_with_every_letter_not_started() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let _ = s.write_all(b"554 5.3.2 no service here today\r\n");
            let _ = s.read(&mut [0u8; 512]);
        }
    });
    stopped_before_any_letter(&loopback_url(port), "554 5.3.2 no service here today");
}

/// The example, one connection, with an attachment of `bytes` random bytes.
fn example_with_attachment(bytes: usize) -> tempfile::TempDir {
    let camp = example();
    add_smtp_table(camp.path(), "connections = 1");
    let c = camp.path().join("letters/duambekov");
    let campaign = std::fs::read_to_string(c.join("campaign.toml")).expect("read");
    std::fs::write(
        c.join("campaign.toml"),
        format!("attachments = [\"dossier.bin\"]\n{campaign}"),
    )
    .expect("write");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<u8> = (0..bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(c.join("dossier.bin"), data).expect("write");
    camp
}

#[test]
fn kill_9_in_the_middle_of_a_message_leaves_it_pending_and_it_arrives_once() {
    // 10 MB: more than the sockets' buffers hold, so while the server reads nothing the run
    // is held in the middle of the message's data.
    let camp = example_with_attachment(10_000_000);
    let server = Server::start(&["--slow-body", "3"]);
    let mut child = command(
        camp.path(),
        &["-q", "send", "--yes", "--smtp", &server.url()],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    wait_until("the first message's data", Duration::from_secs(120), || {
        server.count("BODY") == 1
    });
    child.kill().expect("kill -9");
    let _ = child.wait();
    let status = appeal(camp.path(), &["status", "--json"]);
    let emails: Vec<String> = status
        .json_array()
        .into_iter()
        .filter(|r| EMAILED.contains(&r["recipient"].as_str().expect("recipient")))
        .map(|r| r["state"].as_str().expect("state").to_string())
        .collect();
    let mut sorted = emails.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["not_started", "not_started", "pending"],
        "not in doubt"
    );
    // The server reads the rest once its stall is over, finds no final dot, keeps nothing.
    std::thread::sleep(Duration::from_secs(4));
    assert!(server.messages().is_empty());

    let run = wait_with_limit(
        spawn(
            camp.path(),
            &["-q", "send", "--yes", "--smtp", &server.url()],
        ),
        Duration::from_secs(120),
        "the second run",
    );
    run.expect_code(0);
    let copies = server.message_ids();
    assert_eq!(copies.len(), 3);
    assert!(copies.values().all(|n| *n == 1), "{copies:?}");
}

#[test]
fn a_ledger_that_cannot_record_sending_keeps_the_final_dot_from_the_server() {
    // Another program takes the ledger's write lock while the first message's data is going
    // out, and holds it longer than appeal waits: *sending* cannot be recorded, so the message
    // must not be completed at the server.
    // As in the kill test: the run is held in the middle of the first message for 3 s.
    let camp = example_with_attachment(10_000_000);
    let server = Server::start(&["--slow-body", "3"]);
    let db = camp.path().join(".appeal/ledger.db");
    let events = server.dir.path().join("events.log");
    let mut holder = hold_ledger_lock(&db, &events, "BODY", 20);
    let child = spawn(
        camp.path(),
        &["-q", "send", "--yes", "--smtp", &server.url()],
    );
    let mut line = String::new();
    BufReader::new(holder.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "locked");
    let run = wait_with_limit(child, Duration::from_secs(60), "the run");
    let _ = holder.wait();
    run.expect_code(1)
        .expect_stderr("the ledger cannot be written");
    assert_eq!(server.count("BODY"), 1, "no other message started");
    assert_eq!(
        server.count("DATA"),
        0,
        "the server never had a whole message"
    );
    assert!(server.messages().is_empty());
    let status = appeal(camp.path(), &["status", "--json"]);
    let pending: Vec<serde_json::Value> = status
        .json_array()
        .into_iter()
        .filter(|r| r["state"] == "pending")
        .collect();
    assert_eq!(pending.len(), 1, "{}", status.stdout);

    // Once the lock is free, every letter goes out once.
    let run = wait_with_limit(
        spawn(
            camp.path(),
            &["-q", "send", "--yes", "--smtp", &server.url()],
        ),
        Duration::from_secs(120),
        "the second run",
    );
    run.expect_code(0);
    let copies = server.message_ids();
    assert_eq!(copies.len(), 3);
    assert!(copies.values().all(|n| *n == 1), "{copies:?}");
}
