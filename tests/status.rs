//! `appeal status` on the real binary: an empty ledger, then rows written through the library
//! the way the send loop writes them; tables, JSON and exit codes.

use std::path::Path;

use appeal::ledger::{self, Decision, Flags, Key, Ledger};
use appeal::model::recipients::Channel;

use crate::common::{self, TestCampaign};

const SENDER: &str = "alex@example.org";

fn open(c: &TestCampaign) -> Ledger {
    let now: jiff::Timestamp = common::NOW.parse().expect("time");
    Ledger::open(c.path())
        .expect("ledger")
        .with_clock(move || now)
}

fn key(signatory: Option<&str>, recipient: &str, channel: Channel) -> Key {
    common::ledger_key("test", signatory, recipient, SENDER, channel)
}

fn hash() -> String {
    ledger::content_hash(b"letter")
}

fn pending(l: &mut Ledger, k: &Key, flags: Flags) {
    let Decision::Send(a) = l.decide(k, &hash(), flags).expect("decide") else {
        panic!("expected Send for {k}");
    };
    let mid = a
        .message_id_reuse()
        .map_or_else(|| format!("<{}@test>", k.letter.recipient), String::from);
    l.mark_pending(&a, &mid, &hash()).expect("pending");
}

fn sent(l: &mut Ledger, k: &Key, flags: Flags) {
    pending(l, k, flags);
    l.mark_data_started(k).expect("data");
    l.mark_sent(k, "250 2.0.0 Ok: queued as 4F2A")
        .expect("sent");
}

#[test]
fn an_empty_ledger_shows_every_letter_not_started() {
    let c = TestCampaign::new();
    let r = c.run(&["status"]);
    r.expect_code(75)
        .no_panic()
        .expect_stdout("3 letters")
        .expect_stdout("Total: 3 not_started.")
        .expect_stdout("appeal send");
    assert!(!c.path().join(".appeal").exists(), "status writes nothing");
    let r = c.run(&["status", "--json"]);
    r.expect_code(75);
    let v = r.json_array();
    let ids: Vec<(&str, &str, &str)> = v
        .iter()
        .map(|e| {
            (
                e["recipient"].as_str().unwrap(),
                e["channel"].as_str().unwrap(),
                e["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("president", "post", "not_started"),
            ("ombudsman", "email", "not_started"),
            ("foreign", "email", "not_started"),
        ]
    );
    assert_eq!(v[0]["sender"], SENDER);
    assert!(v[0]["signatory"].is_null());
}

#[test]
fn status_follows_the_ledger_to_done() {
    let c = TestCampaign::new();
    let mut l = open(&c);
    let president = key(None, "president", Channel::Post);
    let ombudsman = key(None, "ombudsman", Channel::Email);
    let foreign = key(None, "foreign", Channel::Email);
    l.mark_written(&president, Path::new("out/test/president.pdf"), &hash())
        .unwrap();
    sent(&mut l, &ombudsman, Flags::default());
    pending(&mut l, &foreign, Flags::default());
    l.mark_data_started(&foreign).unwrap();
    l.mark_in_doubt(&foreign, "connection reset after the final dot")
        .unwrap();

    let r = c.run(&["status"]);
    r.expect_code(75)
        .expect_stdout("Total: 1 sent, 1 written, 1 in_doubt.")
        .expect_stdout("connection reset after the final dot")
        .expect_stdout("250 2.0.0 Ok: queued as 4F2A")
        .expect_stdout("out/test/president.pdf")
        .expect_stdout("2014-07-14 10:00:00")
        .expect_stdout("--resend-in-doubt");
    let v = c.run(&["status", "--json"]).json_array();
    assert_eq!(v[2]["state"], "in_doubt");
    assert_eq!(v[2]["message_id"], "<foreign@test>");
    assert_eq!(v[2]["attempts"], 1);
    assert_eq!(v[1]["last_reply"], "250 2.0.0 Ok: queued as 4F2A");
    assert_eq!(v[0]["output_path"], "out/test/president.pdf");

    // Re-sent with the same Message-ID: everything is done.
    let resend_in_doubt = Flags {
        resend_in_doubt: true,
        ..Flags::default()
    };
    sent(&mut l, &foreign, resend_in_doubt);
    let r = c.run(&["status"]);
    r.expect_code(0).expect_stdout("Total: 2 sent, 1 written.");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let v = c.run(&["status", "--json"]).json_array();
    assert_eq!(v[2]["message_id"], "<foreign@test>");
    assert_eq!(v[2]["attempts"], 2);

    // Only the selection counts.
    c.run(&["status", "--only", "ombudsman"])
        .expect_code(0)
        .expect_stdout("1 letter.");
}

#[test]
fn a_failed_letter_exits_1_and_deferred_75() {
    let c = TestCampaign::new();
    let mut l = open(&c);
    l.mark_written(
        &key(None, "president", Channel::Post),
        Path::new("p.pdf"),
        &hash(),
    )
    .unwrap();
    let ombudsman = key(None, "ombudsman", Channel::Email);
    pending(&mut l, &ombudsman, Flags::default());
    l.mark_deferred(&ombudsman, "451 4.7.1 greylisted").unwrap();
    sent(
        &mut l,
        &key(None, "foreign", Channel::Email),
        Flags::default(),
    );
    c.run(&["status"])
        .expect_code(75)
        .expect_stdout("deferred")
        .expect_stdout("451 4.7.1 greylisted");
    let r = c.run(&["status", "--only", "president,ombudsman"]);
    r.expect_code(75);
    pending(&mut l, &ombudsman, Flags::default());
    l.mark_data_started(&ombudsman).unwrap();
    l.mark_failed(&ombudsman, "550 5.1.1 <ombudsman@example.kz>: user unknown")
        .unwrap();
    c.run(&["status"])
        .expect_code(1)
        .expect_stdout("Total: 1 sent, 1 written, 1 failed.")
        .expect_stdout("550 5.1.1");
    c.run(&["status", "--json"]).expect_code(1);
    c.run(&["status", "--only", "foreign"]).expect_code(0);
}

#[test]
fn signatories_are_grouped_and_replies_cannot_paint_the_terminal() {
    let c = TestCampaign::new();
    let mut l = open(&c);
    for r in ["president", "ombudsman", "foreign"] {
        let channel = if r == "president" {
            Channel::Post
        } else {
            Channel::Email
        };
        let k = key(None, r, channel);
        if channel == Channel::Post {
            l.mark_written(&k, Path::new("x.pdf"), &hash()).unwrap();
        } else {
            sent(&mut l, &k, Flags::default());
        }
    }
    let alice = key(Some("alice"), "ombudsman", Channel::Email);
    pending(&mut l, &alice, Flags::default());
    l.mark_data_started(&alice).unwrap();
    l.mark_in_doubt(&alice, "timeout\r\n\x1b[2Jafter data")
        .unwrap();
    // A batch is summed up first (issue 13); --list gives every letter, one table.
    let r = c.run(&["status"]);
    r.expect_code(75)
        .expect_stdout("every letter: appeal status --list");
    let r = c.run(&["status", "--list"]);
    r.expect_code(75)
        .expect_stdout("alice      ombudsman")
        .expect_stdout("-          president")
        .expect_stdout("timeout [2Jafter data");
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
    let alice_at = r.stdout.find("alice      ombudsman").unwrap();
    let none_at = r.stdout.find("-          president").unwrap();
    assert!(none_at < alice_at, "{}", r.stdout);
    let v = c.run(&["status", "--json"]).json_array();
    assert_eq!(v.len(), 4);
    assert_eq!(v[3]["signatory"], "alice");
    assert_eq!(v[3]["last_reply"], "timeout\r\n\x1b[2Jafter data");
}

#[test]
fn a_planted_symlink_is_an_error_naming_the_path() {
    let c = TestCampaign::new();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), c.path().join(".appeal")).unwrap();
    c.run(&["status"])
        .expect_code(2)
        .no_panic()
        .expect_stderr(".appeal is a symbolic link");
}
