//! After sending (issue 16): letters sent with a VERP bounce address through the test SMTP
//! server, then bounces, an automatic reply and a reply dropped into a real Dovecot's Maildir
//! and read back by `appeal inbox`; the dead address reported by `check` and skipped by
//! `send`; the IMAP errors (wrong password, no TLS); the password nowhere.

use std::path::{Path, PathBuf};

use appeal::ledger::Ledger;

use crate::common::imap::{Dovecot, PASSWORD, fixture};
use crate::common::smtp::Server;
use crate::common::{Run, TestCampaign, command};

/// Five authorities, each written to by email, each with a postal address.
const FIVE: &str = r#"[[recipient]]
id = "alpha"
name = "Aida Alimova"
title = "Prosecutor General"
address = ["14 Seifullin St.", "010000 Astana", "Kazakhstan"]
email = "alpha@gov.example.kz"

[[recipient]]
id = "bravo"
name = "Bolat Bekov"
address = ["Government House", "010000 Astana"]
title = "Minister of Justice"
fax = "+7 7172 74 00 00"
email = "bravo@gov.example.kz"

[[recipient]]
id = "charlie"
name = "Chingiz Chokin"
address = ["Government House", "010000 Astana"]
title = "Minister of Internal Affairs"
email = "charlie@gov.example.kz"

[[recipient]]
id = "delta"
name = "Dana Dosova"
address = ["Government House", "010000 Astana"]
title = "Chair of the Supreme Court"
email = "delta@gov.example.kz"

[[recipient]]
id = "echo"
name = "Erlan Esimov"
address = ["Government House", "010000 Astana"]
title = "Head of the Presidential Administration"
email = "echo@gov.example.kz"
"#;

const BOUNCE: &str = "bounces+{token}@example.org";

fn campaign() -> TestCampaign {
    let c = TestCampaign::new();
    c.write("recipients.toml", FIVE);
    let settings = c.read("appeal.toml");
    c.write(
        "appeal.toml",
        &format!("{settings}\n[smtp]\nbounce_address = \"{BOUNCE}\"\n"),
    );
    c
}

fn appeal(dir: &Path, args: &[&str]) -> Run {
    Run::of(command(dir, args).env("APPEAL_IMAP_PASSWORD", PASSWORD))
}

/// `inbox` over `url`, trusting the test CA.
fn inbox(dir: &Path, imap: &Dovecot, url: &str, more: &[&str]) -> Run {
    let ca = imap.ca();
    let mut args = vec!["inbox", "--imap", url, "--imap-ca", &ca];
    args.extend(more);
    let run = appeal(dir, &args);
    run.no_panic();
    run
}

/// Each letter's recipient and Message-ID, from the ledger.
fn message_ids(dir: &Path) -> Vec<(String, String)> {
    let ledger = Ledger::open_read_only(dir)
        .expect("ledger")
        .expect("a ledger");
    ledger
        .entries("test")
        .expect("entries")
        .into_iter()
        .map(|e| (e.recipient, e.message_id.expect("a Message-ID")))
        .collect()
}

fn id_of(ids: &[(String, String)], recipient: &str) -> String {
    ids.iter()
        .find(|(r, _)| r == recipient)
        .map(|(_, id)| id.clone())
        .expect("the letter")
}

/// The message `name` about the letter to `recipient`.
fn about(ids: &[(String, String)], name: &str, recipient: &str) -> Vec<u8> {
    let id = id_of(ids, recipient);
    let token = appeal::email::message::verp_token(&id);
    let rcpt = format!("{recipient}@gov.example.kz");
    fixture(
        name,
        &[("MESSAGE_ID", &id), ("TOKEN", &token), ("RCPT", &rcpt)],
    )
}

/// Each letter's state and soft-bounce count, from `status --json`.
fn states(dir: &Path) -> Vec<(String, String, u64)> {
    let run = appeal(dir, &["status", "--json"]);
    run.json_array()
        .iter()
        .map(|l| {
            (
                l["recipient"].as_str().unwrap_or("").to_string(),
                l["state"].as_str().unwrap_or("").to_string(),
                l["soft_bounces"].as_u64().unwrap_or(99),
            )
        })
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    crate::common::paths_under(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .collect()
}

#[test]
fn bounces_auto_replies_and_replies_move_their_letters() {
    let c = campaign();
    let smtp = Server::start(&[]);
    appeal(c.path(), &["send", "--yes", "--smtp", &smtp.url()]).expect_code(0);
    let ids = message_ids(c.path());
    assert_eq!(ids.len(), 5);
    // The envelope sender carries each letter's token; the From header does not change.
    for (recipient, id) in &ids {
        let token = appeal::email::message::verp_token(id);
        let from = format!("FROM bounces+{token}@example.org");
        assert_eq!(smtp.count(&from), 1, "{recipient}: {:?}", smtp.events());
    }
    for m in smtp.messages() {
        let text = String::from_utf8_lossy(&std::fs::read(m).expect("read")).into_owned();
        assert!(
            text.contains("From: \"Alex Sample\" <alex@example.org>"),
            "{text}"
        );
        assert!(
            !text.contains("bounces+"),
            "the bounce address stays in the envelope"
        );
    }

    let imap = Dovecot::start();
    imap.deliver(&about(&ids, "postfix-hard.eml", "alpha"));
    imap.deliver(&about(&ids, "exim-delayed.eml", "bravo"));
    imap.deliver(&about(&ids, "auto-reply-ru.eml", "charlie"));
    imap.deliver(&about(&ids, "reply.eml", "delta"));
    imap.deliver(&fixture("spam.eml", &[]));

    let run = inbox(c.path(), &imap, &imap.imaps_url(), &[]);
    run.expect_code(0)
        .expect_stdout("Read 5 new messages")
        .expect_stdout("1 hard bounce, 1 soft bounce, 1 automatic reply, 1 reply")
        .expect_stdout("1 message matched no letter")
        .expect_stdout("hard_bounce  alpha: 5.1.1");
    assert!(imap.log().contains("TLS"), "{}", imap.log());
    let got = states(c.path());
    let want = [
        ("alpha", "bounced", 0),
        ("bravo", "sent", 1),
        ("charlie", "auto_replied", 0),
        ("delta", "replied", 0),
        ("echo", "sent", 0),
    ];
    let want: Vec<(String, String, u64)> = want
        .iter()
        .map(|(r, s, n)| (r.to_string(), s.to_string(), *n))
        .collect();
    assert_eq!(got, want);

    // The reply is kept as it came.
    let replies = files_under(&c.path().join("out/test/replies"));
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(
        std::fs::read(&replies[0]).expect("read"),
        about(&ids, "reply.eml", "delta")
    );

    // Nothing new the second time; over STARTTLS (another mailbox key) everything is read
    // again and nothing is counted twice.
    inbox(c.path(), &imap, &imap.imaps_url(), &[])
        .expect_code(0)
        .expect_stdout("Read 0 new messages");
    inbox(c.path(), &imap, &imap.imap_url(), &["--json"]).expect_code(0);
    let again = inbox(c.path(), &imap, &imap.imap_url(), &[]);
    again.expect_code(0).expect_stdout("Read 0 new messages");
    assert_eq!(states(c.path()), want);
    // The server renumbered its mailbox (a new UIDVALIDITY): read again from the start,
    // nothing counted twice.
    let db = c.path().join(".appeal/ledger.db");
    let status = std::process::Command::new(crate::common::smtp::python())
        .args(["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('UPDATE mailboxes SET uidvalidity = 1'); c.commit()"])
        .arg(&db)
        .status()
        .expect("python");
    assert!(status.success());
    inbox(c.path(), &imap, &imap.imaps_url(), &[])
        .expect_code(0)
        .expect_stdout("Read 5 messages")
        .expect_stdout("read again from the start")
        .expect_stdout("4 already recorded")
        .expect_stdout("1 message matched no letter");
    assert_eq!(states(c.path()), want);

    // The dead address: `check` warns, `send` does not write to it again.
    appeal(c.path(), &["check"])
        .expect_code(0)
        .expect_stderr("alpha")
        .expect_stderr("alpha@gov.example.kz bounced")
        .expect_stderr("5.1.1");
    let before = smtp.count("RCPT alpha@");
    let run = appeal(c.path(), &["send", "--yes", "--smtp", &smtp.url()]);
    run.expect_stderr("alpha@gov.example.kz bounced")
        .expect_stdout("post");
    assert_eq!(smtp.count("RCPT alpha@"), before);

    // The password is in no output and no file.
    let mut seen = vec![run.all(), again.all()];
    for f in files_under(c.path()) {
        seen.push(String::from_utf8_lossy(&std::fs::read(&f).expect("read")).into_owned());
    }
    for text in seen {
        assert!(!text.contains(PASSWORD), "the IMAP password leaked");
    }
}

#[test]
fn a_report_is_matched_by_its_token_alone_and_the_other_shapes_by_id() {
    let c = campaign();
    let smtp = Server::start(&[]);
    appeal(c.path(), &["send", "--yes", "--smtp", &smtp.url()]).expect_code(0);
    let ids = message_ids(c.path());
    let imap = Dovecot::start();
    imap.deliver(&about(&ids, "exim-hard-token-only.eml", "alpha"));
    imap.deliver(&about(&ids, "m365-mailbox-full.eml", "bravo"));
    imap.deliver(&about(&ids, "gmail-hard.eml", "charlie"));
    inbox(c.path(), &imap, &imap.imap_url(), &["--mark-seen"])
        .expect_code(0)
        .expect_stdout("2 hard bounces, 1 soft bounce");
    let got = states(c.path());
    assert_eq!(got[0].1, "bounced");
    assert_eq!((got[1].1.as_str(), got[1].2), ("sent", 1), "5.2.2 is soft");
    assert_eq!(got[2].1, "bounced");
    // --mark-seen flagged the three messages: Dovecot moved them to cur/ with S.
    let seen = std::fs::read_dir(imap.maildir().join("cur"))
        .expect("cur")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with('S'))
        .count();
    assert_eq!(seen, 3, "{}", imap.log());
}

/// A report that only the copy to the embassy (`copies_to` with `cc_email`) bounced says
/// nothing of the authority's letter: it stays sent, and the run says why it was left.
#[test]
fn a_bounce_of_a_copy_leaves_the_letter_sent() {
    let c = campaign();
    c.edit(
        "letters/test/campaign.toml",
        "title = ",
        "cc_email = true\ncopies_to = [\"Embassy <consul@embassy.example>\"]\ntitle = ",
    );
    let smtp = Server::start(&[]);
    appeal(c.path(), &["send", "--yes", "--smtp", &smtp.url()]).expect_code(0);
    assert_eq!(
        smtp.count("RCPT consul@embassy.example"),
        5,
        "{:?}",
        smtp.events()
    );
    let ids = message_ids(c.path());
    let id = id_of(&ids, "alpha");
    let token = appeal::email::message::verp_token(&id);
    let copy = fixture(
        "postfix-hard.eml",
        &[
            ("MESSAGE_ID", &id),
            ("TOKEN", &token),
            ("RCPT", "Consul@Embassy.example"),
        ],
    );
    let imap = Dovecot::start();
    imap.deliver(&copy);
    inbox(c.path(), &imap, &imap.imaps_url(), &[])
        .expect_code(0)
        .expect_stdout("0 hard bounces")
        .expect_stdout("1 report was only about a copy (cc), not the letter itself");
    assert_eq!(states(c.path())[0], ("alpha".into(), "sent".into(), 0));
}

#[test]
fn reading_is_read_only_by_default() {
    let c = campaign();
    let imap = Dovecot::start();
    imap.deliver(&fixture("spam.eml", &[]));
    inbox(c.path(), &imap, &imap.imaps_url(), &[])
        .expect_code(0)
        .expect_stdout("1 message matched no letter");
    let flagged = std::fs::read_dir(imap.maildir().join("cur"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().contains(":2,S"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(flagged, 0);
}

#[test]
fn a_wrong_password_is_a_clear_error() {
    let c = campaign();
    let imap = Dovecot::start();
    let ca = imap.ca();
    let url = imap.imaps_url();
    let run = Run::of(
        command(c.path(), &["inbox", "--imap", &url, "--imap-ca", &ca])
            .env("APPEAL_IMAP_PASSWORD", "not-the-password-123"),
    );
    run.no_panic()
        .expect_code(2)
        .expect_stderr("the IMAP server refused the login of `appeal-test`");
    assert!(!run.all().contains("not-the-password-123"));
    // No password at all: said before connecting.
    Run::of(&mut command(
        c.path(),
        &["inbox", "--imap", &url, "--imap-ca", &ca],
    ))
    .expect_code(2)
    .expect_stderr("needs a password: set APPEAL_IMAP_PASSWORD");
    // No mailbox named at all, and a password in the URL.
    appeal(c.path(), &["inbox"])
        .expect_code(2)
        .expect_stderr("no mailbox to read: give --imap");
    let secret = format!(
        "imaps://appeal-test:hunter2@localhost:{}/INBOX",
        imap.imaps_port
    );
    let run = appeal(c.path(), &["inbox", "--imap", &secret]);
    run.expect_code(2)
        .expect_stderr("the IMAP URL holds a password");
    assert!(!run.all().contains("hunter2"));
}

#[test]
fn a_server_without_tls_is_refused() {
    let c = campaign();
    let imap = Dovecot::start_with("no");
    let url = imap.imap_url();
    let run = appeal(c.path(), &["inbox", "--imap", &url]);
    run.no_panic()
        .expect_code(2)
        .expect_stderr("does not offer STARTTLS");
    // Plaintext only on request, to this machine only.
    appeal(c.path(), &["inbox", "--imap", &format!("{url}?tls=none")]).expect_code(0);
    appeal(
        c.path(),
        &[
            "inbox",
            "--imap",
            "imap://me@mail.example.org/INBOX?tls=none",
        ],
    )
    .expect_code(2)
    .expect_stderr("refusing plaintext IMAP to mail.example.org");
}

/// A server that cannot be reached now is not bad input: exit 75, "try again later", so a
/// scheduled `appeal inbox` simply runs again.
#[test]
fn an_unreachable_server_is_try_again_later() {
    let c = campaign();
    // A port nobody listens on.
    let port = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        free.local_addr().expect("addr").port()
    };
    let url = format!("imaps://appeal-test@127.0.0.1:{port}/INBOX");
    appeal(c.path(), &["inbox", "--imap", &url])
        .no_panic()
        .expect_code(75)
        .expect_stderr(&format!(
            "cannot connect to the IMAP server 127.0.0.1:{port}"
        ))
        .expect_stderr("try again later");
    // A server that hangs up before its greeting.
    let hangs_up = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = hangs_up.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (stream, _) = hangs_up.accept().expect("accept");
        drop(stream);
    });
    let url = format!("imap://appeal-test@127.0.0.1:{port}/INBOX");
    appeal(c.path(), &["inbox", "--imap", &url])
        .no_panic()
        .expect_code(75)
        .expect_stderr(&format!(
            "the IMAP server 127.0.0.1:{port} closed the connection"
        ))
        .expect_stderr("try again later");
    server.join().expect("the hang-up server");
}

#[test]
fn bad_bounce_and_imap_settings_are_refused_where_they_are_written() {
    let c = TestCampaign::new();
    let settings = c.read("appeal.toml");
    c.write(
        "appeal.toml",
        &format!("{settings}\n[smtp]\nbounce_address = \"bounces@example.org\"\n"),
    );
    let run = c.run(&["check"]);
    run.expect_code(2)
        .expect_stderr("appeal.toml:8:")
        .expect_stderr("bounce_address must contain {token} exactly once");
    // Nor does a password belong under [imap].
    c.write(
        "appeal.toml",
        &format!("{settings}\n[imap]\nurl = \"imaps://me@localhost/INBOX\"\npassword = \"x\"\n"),
    );
    c.run(&["check"])
        .expect_code(2)
        .expect_stderr("appeal.toml:9:")
        .expect_stderr("a password does not belong in appeal.toml");
    // A mailbox `inbox` would refuse is found by `check`, where it is written.
    c.write(
        "appeal.toml",
        &format!("{settings}\n[imap]\nurl = \"imap://me@mail.example.org/INBOX?tls=none\"\n"),
    );
    c.run(&["check"])
        .expect_code(2)
        .expect_stderr("appeal.toml:8:7: error: [imap]")
        .expect_stderr("refusing plaintext IMAP to mail.example.org");
}

#[test]
fn the_bounce_address_can_come_from_the_command_line() {
    let c = TestCampaign::new();
    c.write("recipients.toml", FIVE);
    let smtp = Server::start(&[]);
    let url = smtp.url();
    appeal(
        c.path(),
        &[
            "send",
            "--yes",
            "--smtp",
            &url,
            "--bounce-address",
            "nope@example.org",
        ],
    )
    .expect_code(2)
    .expect_stderr("--bounce-address: bounce_address must contain {token} exactly once");
    assert_eq!(smtp.count("FROM"), 0);
    let pattern = "return-{token}@bounces.example.org";
    appeal(
        c.path(),
        &["send", "--yes", "--smtp", &url, "--bounce-address", pattern],
    )
    .expect_code(0);
    let ids = message_ids(c.path());
    let id = id_of(&ids, "echo");
    let token = appeal::email::message::verp_token(&id);
    assert_eq!(
        smtp.count(&format!("FROM return-{token}@bounces.example.org")),
        1,
        "{:?}",
        smtp.events()
    );
    // A report carrying only the token, read with the same pattern.
    let imap = Dovecot::start();
    let report = fixture(
        "exim-hard-token-only.eml",
        &[("TOKEN", &token), ("RCPT", "echo@gov.example.kz")],
    );
    let report = String::from_utf8(report).expect("utf8").replace(
        &format!("bounces+{token}@example.org"),
        &format!("return-{token}@bounces.example.org"),
    );
    imap.deliver(report.as_bytes());
    inbox(
        c.path(),
        &imap,
        &imap.imaps_url(),
        &["--bounce-address", pattern],
    )
    .expect_code(0)
    .expect_stdout("1 hard bounce");
    assert_eq!(states(c.path())[4].1, "bounced");
}
