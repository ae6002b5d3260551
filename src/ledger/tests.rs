//! Unit tests of the ledger: every transition and decision, migrations, refusals, and a
//! process killed with SIGKILL in the middle of a send.

use std::io::BufRead;
use std::path::Path;

use super::*;
use rusqlite::params;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const T0: &str = "2014-07-14T10:00:00Z";

fn pinned(dir: &Path) -> Ledger {
    let now: jiff::Timestamp = T0.parse().expect("time");
    Ledger::open(dir).expect("open").with_clock(move || now)
}

fn key(recipient: &str, channel: Channel) -> Key {
    Key::new(
        &LetterKey {
            campaign: "test".into(),
            signatory: None,
            recipient: recipient.into(),
        },
        "alex@example.org",
        channel,
    )
}

fn signed(signatory: &str, recipient: &str) -> Key {
    Key::new(
        &LetterKey {
            campaign: "test".into(),
            signatory: Some(signatory.into()),
            recipient: recipient.into(),
        },
        "staff@example.org",
        Channel::Email,
    )
}

fn attempt(d: Decision) -> Attempt {
    match d {
        Decision::Send(a) => a,
        other => panic!("expected Send, got {other:?}"),
    }
}

/// Runs one whole successful email delivery.
fn deliver(l: &mut Ledger, k: &Key, hash: &str, mid: &str) {
    let a = attempt(l.decide(k, hash, Flags::default()).unwrap());
    l.mark_pending(&a, mid, hash).unwrap();
    l.mark_data_started(k).unwrap();
    l.mark_sent(k, "250 2.0.0 Ok: queued as 1").unwrap();
}

/// Leaves `k` in `sending`, as a crash after the commit of `mark_data_started` would.
fn start(l: &mut Ledger, k: &Key, hash: &str, mid: &str) {
    let a = attempt(l.decide(k, hash, Flags::default()).unwrap());
    l.mark_pending(&a, mid, hash).unwrap();
    l.mark_data_started(k).unwrap();
}

#[test]
fn a_new_letter_is_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
    assert_eq!(a.number(), 1);
    assert_eq!(a.message_id_reuse(), None);
    assert_eq!(a.retrying(), None);
    l.mark_pending(&a, "<m1@x>", A).unwrap();
    assert_eq!(l.get(&k).unwrap().unwrap().state, State::Pending);
    l.mark_data_started(&k).unwrap();
    assert_eq!(l.get(&k).unwrap().unwrap().state, State::Sending);
    l.mark_sent(&k, "250 2.0.0 Ok: queued as ABC").unwrap();
    let e = l.get(&k).unwrap().unwrap();
    assert_eq!(e.state, State::Sent);
    assert_eq!(e.message_id.as_deref(), Some("<m1@x>"));
    assert_eq!(e.attempts, 1);
    assert_eq!(e.created, T0);
    assert_eq!(e.updated, T0);
    assert_eq!(e.last_reply.as_deref(), Some("250 2.0.0 Ok: queued as ABC"));
    assert_eq!(e.content_hash.as_deref(), Some(A));
    assert_eq!(
        l.decide(&k, A, Flags::default()).unwrap(),
        Decision::Skip { state: State::Sent }
    );
    let states: Vec<State> = l.history(&k).unwrap().iter().map(|e| e.state).collect();
    assert_eq!(states, [State::Pending, State::Sending, State::Sent]);
}

#[test]
fn second_run_of_a_finished_campaign_skips_everything() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        key("ombudsman", Channel::Email),
        key("foreign", Channel::Email),
        signed("alice", "ombudsman"),
    ];
    {
        let mut l = pinned(dir.path());
        for (i, k) in keys.iter().enumerate() {
            deliver(&mut l, k, A, &format!("<m{i}@x>"));
        }
        let post = key("president", Channel::Post);
        let a = attempt(l.decide(&post, B, Flags::default()).unwrap());
        assert_eq!(a.number(), 1);
        l.mark_written(&post, Path::new("out/test/president.pdf"), B)
            .unwrap();
    }
    let l = pinned(dir.path());
    for k in &keys {
        assert_eq!(
            l.decide(k, A, Flags::default()).unwrap(),
            Decision::Skip { state: State::Sent }
        );
    }
    let post = key("president", Channel::Post);
    assert_eq!(
        l.decide(&post, B, Flags::default()).unwrap(),
        Decision::Skip {
            state: State::Written
        }
    );
    let e = l.get(&post).unwrap().unwrap();
    assert_eq!(e.output_path.as_deref(), Some("out/test/president.pdf"));
    assert_eq!(e.attempts, 1);
    assert_eq!(l.entries("test").unwrap().len(), 4);
    assert!(l.entries("other").unwrap().is_empty());
}

#[test]
fn in_doubt_is_reported_and_resent_only_on_request_with_the_same_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    start(&mut l, &k, A, "<m1@x>");
    l.mark_in_doubt(&k, "connection reset after the final dot")
        .unwrap();
    assert_eq!(
        l.decide(&k, A, Flags::default()).unwrap(),
        Decision::SkipInDoubt {
            message_id: Some("<m1@x>".into()),
            reason: Some("connection reset after the final dot".into())
        }
    );
    let flags = Flags {
        resend_in_doubt: true,
        ..Flags::default()
    };
    let a = attempt(l.decide(&k, A, flags).unwrap());
    assert_eq!(a.message_id_reuse(), Some("<m1@x>"));
    assert_eq!(a.number(), 2);
    assert_eq!(a.retrying(), Some(State::InDoubt));
    // Any other Message-ID is refused, and nothing is recorded.
    let err = l.mark_pending(&a, "<m2@x>", A).unwrap_err();
    assert!(
        format!("{err:#}").contains("must reuse Message-ID <m1@x>"),
        "{err:#}"
    );
    assert_eq!(l.get(&k).unwrap().unwrap().state, State::InDoubt);
    l.mark_pending(&a, "<m1@x>", A).unwrap();
    l.mark_data_started(&k).unwrap();
    l.mark_sent(&k, "250 ok").unwrap();
    let e = l.get(&k).unwrap().unwrap();
    assert_eq!((e.state, e.attempts), (State::Sent, 2));
    assert_eq!(e.message_id.as_deref(), Some("<m1@x>"));
}

#[test]
fn sending_left_by_a_crash_counts_as_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("ombudsman", Channel::Email);
    start(&mut pinned(dir.path()), &k, A, "<m1@x>");
    let l = pinned(dir.path());
    match l.decide(&k, A, Flags::default()).unwrap() {
        Decision::SkipInDoubt { message_id, reason } => {
            assert_eq!(message_id.as_deref(), Some("<m1@x>"));
            assert!(reason.unwrap().contains("no reply recorded"));
        }
        other => panic!("{other:?}"),
    }
    let flags = Flags {
        resend_in_doubt: true,
        ..Flags::default()
    };
    let a = attempt(l.decide(&k, A, flags).unwrap());
    assert_eq!(a.message_id_reuse(), Some("<m1@x>"));
    assert_eq!(a.retrying(), Some(State::Sending));
}

#[test]
fn pending_without_data_is_retried_with_the_same_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("ombudsman", Channel::Email);
    {
        let mut l = pinned(dir.path());
        let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
        l.mark_pending(&a, "<m1@x>", A).unwrap();
    }
    let mut l = pinned(dir.path());
    let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
    assert_eq!(a.message_id_reuse(), Some("<m1@x>"));
    assert_eq!(a.number(), 2);
    assert_eq!(a.retrying(), Some(State::Pending));
    l.mark_pending(&a, "<m1@x>", A).unwrap();
    assert_eq!(l.get(&k).unwrap().unwrap().attempts, 2);
}

#[test]
fn pending_from_another_boot_of_the_machine_is_in_doubt() {
    // The *sending* commit just before the dot is not synced: after a power cut it may be
    // lost while the dot went out. A pending row stamped with an earlier boot is in doubt.
    let dir = tempfile::tempdir().unwrap();
    let (k, other) = (
        key("ombudsman", Channel::Email),
        key("president", Channel::Email),
    );
    {
        let mut l = pinned(dir.path());
        for (k, mid) in [(&k, "<m1@x>"), (&other, "<m2@x>")] {
            let a = attempt(l.decide(k, A, Flags::default()).unwrap());
            l.mark_pending(&a, mid, A).unwrap();
        }
    }
    let conn = rusqlite::Connection::open(dir.path().join(".appeal/ledger.db")).unwrap();
    let stamped: String = conn
        .query_row(
            "SELECT data_boot FROM letters WHERE recipient = 'ombudsman'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stamped, boot_id());
    conn.execute(
        "UPDATE letters SET data_boot = 'an-earlier-boot' WHERE recipient = 'ombudsman'",
        [],
    )
    .unwrap();
    drop(conn);

    let mut l = pinned(dir.path());
    match l.decide(&k, A, Flags::default()).unwrap() {
        Decision::SkipInDoubt { message_id, reason } => {
            assert_eq!(message_id.as_deref(), Some("<m1@x>"));
            assert!(reason.unwrap().contains("machine restarted"));
        }
        d => panic!("expected in doubt, got {d:?}"),
    }
    assert_eq!(l.get(&k).unwrap().unwrap().state.reported(), "in_doubt");
    // The same boot: the process died before the dot, so it is retried as usual.
    let a = attempt(l.decide(&other, A, Flags::default()).unwrap());
    assert_eq!(a.message_id_reuse(), Some("<m2@x>"));
    // `--resend-in-doubt` sends it again with its Message-ID; `mark delivered` settles it.
    let flags = Flags {
        resend_in_doubt: true,
        ..Flags::default()
    };
    let a = attempt(l.decide(&k, A, flags).unwrap());
    assert_eq!(a.message_id_reuse(), Some("<m1@x>"));
    l.mark_pending(&a, "<m1@x>", A).unwrap();
    l.mark_data_started(&k).unwrap();
    l.mark_sent(&k, "250 ok").unwrap();
    assert_eq!(l.get(&k).unwrap().unwrap().state, State::Sent);
}

#[test]
fn deferred_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
    l.mark_pending(&a, "<m1@x>", A).unwrap();
    l.mark_deferred(&k, "451 4.3.0 try again later").unwrap();
    let e = l.get(&k).unwrap().unwrap();
    assert_eq!(e.state, State::Deferred);
    assert_eq!(e.last_reply.as_deref(), Some("451 4.3.0 try again later"));
    let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
    assert_eq!(a.message_id_reuse(), Some("<m1@x>"));
    assert_eq!(a.retrying(), Some(State::Deferred));
    l.mark_pending(&a, "<m1@x>", A).unwrap();
    l.mark_data_started(&k).unwrap();
    l.mark_sent(&k, "250 ok").unwrap();
    let e = l.get(&k).unwrap().unwrap();
    assert_eq!(e.last_reply.as_deref(), Some("250 ok"));
    // A deferral before any attempt (server unreachable) is recorded too.
    let other = key("foreign", Channel::Email);
    l.mark_deferred(&other, "connection refused").unwrap();
    let a = attempt(l.decide(&other, A, Flags::default()).unwrap());
    assert_eq!((a.number(), a.message_id_reuse()), (1, None));
}

#[test]
fn failed_is_reported_until_the_letter_changes_or_resend() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    start(&mut l, &k, A, "<m1@x>");
    l.mark_failed(&k, "550 5.1.1 no such user").unwrap();
    assert_eq!(
        l.decide(&k, A, Flags::default()).unwrap(),
        Decision::SkipFailed {
            reason: Some("550 5.1.1 no such user".into())
        }
    );
    let a = attempt(l.decide(&k, B, Flags::default()).unwrap());
    assert_eq!(a.retrying(), Some(State::Failed));
    let flags = Flags {
        resend: true,
        ..Flags::default()
    };
    let a = attempt(l.decide(&k, A, flags).unwrap());
    assert_eq!(a.message_id_reuse(), None);
}

#[test]
fn changed_content_is_reported_and_resend_forces_a_new_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    deliver(&mut l, &k, A, "<m1@x>");
    assert_eq!(
        l.decide(&k, B, Flags::default()).unwrap(),
        Decision::Changed { state: State::Sent }
    );
    // --resend-in-doubt does not touch a sent letter.
    let flags = Flags {
        resend_in_doubt: true,
        ..Flags::default()
    };
    assert_eq!(
        l.decide(&k, B, flags).unwrap(),
        Decision::Changed { state: State::Sent }
    );
    let flags = Flags {
        resend: true,
        ..Flags::default()
    };
    // --resend: even an unchanged, sent letter goes again, with a new Message-ID.
    let a = attempt(l.decide(&k, A, flags).unwrap());
    assert_eq!((a.number(), a.message_id_reuse()), (2, None));
    l.mark_pending(&a, "<m1.2@x>", B).unwrap();
    let e = l.get(&k).unwrap().unwrap();
    assert_eq!(e.content_hash.as_deref(), Some(B));
    assert_eq!(e.message_id.as_deref(), Some("<m1.2@x>"));
    assert_eq!(e.last_reply, None);

    // In doubt with other content: reported as changed, not re-sent under the old id.
    let d = key("foreign", Channel::Email);
    start(&mut l, &d, A, "<m2@x>");
    let flags = Flags {
        resend_in_doubt: true,
        ..Flags::default()
    };
    assert_eq!(
        l.decide(&d, B, flags).unwrap(),
        Decision::Changed {
            state: State::Sending
        }
    );
    // A changed PDF is reported as well.
    let p = key("president", Channel::Post);
    l.mark_written(&p, Path::new("p.pdf"), A).unwrap();
    assert_eq!(
        l.decide(&p, B, Flags::default()).unwrap(),
        Decision::Changed {
            state: State::Written
        }
    );
}

#[test]
fn transitions_out_of_order_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    for err in [
        l.mark_sent(&k, "250 ok").unwrap_err(),
        l.mark_data_started(&k).unwrap_err(),
        l.mark_in_doubt(&k, "reset").unwrap_err(),
    ] {
        let msg = format!("{err:#}");
        assert!(msg.contains("not in the ledger"), "{msg}");
        assert!(msg.contains("to `ombudsman`"), "{msg}");
    }
    assert!(l.get(&k).unwrap().is_none());
    let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
    l.mark_pending(&a, "<m1@x>", A).unwrap();
    // A 250 without the data having been marked as started is a bug in the caller.
    let err = l.mark_sent(&k, "250 ok").unwrap_err();
    assert!(format!("{err:#}").contains("it is pending; only sending can become sent"));
    assert!(l.mark_in_doubt(&k, "x").is_err());
    // Spent attempts cannot be replayed.
    let err = l.mark_pending(&a, "<m1@x>", A).unwrap_err();
    assert!(
        format!("{err:#}").contains("changed since it was checked"),
        "{err:#}"
    );
    // Hashes must be what content_hash makes.
    let e = key("foreign", Channel::Email);
    let a = attempt(l.decide(&e, A, Flags::default()).unwrap());
    assert!(l.mark_pending(&a, "<m@x>", "ABC").is_err());
    assert!(l.mark_pending(&a, "", A).is_err());
    assert!(l.get(&e).unwrap().is_none());
}

#[test]
fn an_attempt_notices_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut one = pinned(dir.path());
    let mut two = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    let a1 = attempt(one.decide(&k, A, Flags::default()).unwrap());
    let a2 = attempt(two.decide(&k, A, Flags::default()).unwrap());
    two.mark_pending(&a2, "<m1@x>", A).unwrap();
    let err = one.mark_pending(&a1, "<m1@x>", A).unwrap_err();
    assert!(
        format!("{err:#}").contains("another appeal process"),
        "{err:#}"
    );
}

#[test]
fn content_hash_is_sha256_hex() {
    assert_eq!(
        content_hash(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(check_hash(&content_hash(b"")).is_ok());
}

#[test]
fn sender_identity_is_the_address_or_the_name() {
    let mut s = Sender {
        name: "Alex Sample".into(),
        ..Sender::default()
    };
    assert_eq!(sender_identity(&s), "Alex Sample");
    s.email = Some("Alex@Example.org".into());
    assert_eq!(sender_identity(&s), "alex@example.org");
}

fn user_version(dir: &Path) -> i64 {
    let conn = Connection::open(dir.join(DIR).join(FILE)).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_ledger_is_migrated_from_version_0() {
    let dir = tempfile::tempdir().unwrap();
    // A database of version 0: SQLite's header, no schema (an empty file is refused, see
    // `an_emptied_ledger_file_is_refused_not_taken_as_new`).
    std::fs::create_dir(dir.path().join(DIR)).unwrap();
    Connection::open(dir.path().join(DIR).join(FILE))
        .unwrap()
        .execute_batch("CREATE TABLE t (x); DROP TABLE t;")
        .unwrap();
    drop(pinned(dir.path()));
    assert_eq!(user_version(dir.path()), store::MIGRATIONS.len() as i64);
    let conn = Connection::open(dir.path().join(DIR).join(FILE)).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_version_1_ledger_is_migrated_keeping_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    {
        let l = Ledger::open_at(dir.path(), 1).unwrap();
        l.conn
            .execute(
                "INSERT INTO letters (campaign, sender, recipient, channel, state, message_id,
                                      attempts, created, updated, content_hash)
                 VALUES ('test', 'alex@example.org', 'ombudsman', 'email', 'sent', '<m1@x>',
                         1, ?1, ?1, ?2)",
                params![T0, A],
            )
            .unwrap();
    }
    assert_eq!(user_version(dir.path()), 1);
    let mut l = pinned(dir.path());
    assert_eq!(user_version(dir.path()), store::MIGRATIONS.len() as i64);
    let k = key("ombudsman", Channel::Email);
    assert_eq!(
        l.decide(&k, A, Flags::default()).unwrap(),
        Decision::Skip { state: State::Sent }
    );
    // The events table of version 2 works for rows from version 1.
    let f = key("foreign", Channel::Email);
    deliver(&mut l, &f, A, "<m2@x>");
    assert_eq!(l.history(&f).unwrap().len(), 3);
    assert!(l.history(&k).unwrap().is_empty());
}

/// A reading command (`status`, `pdf`, `report`) on a ledger an older appeal wrote migrates
/// it and reads its rows, rather than asking for a `send` (which would send).
#[test]
fn reading_an_older_ledger_migrates_it_first() {
    let dir = tempfile::tempdir().unwrap();
    {
        let l = Ledger::open_at(dir.path(), 4).unwrap();
        l.conn
            .execute(
                "INSERT INTO letters (campaign, sender, signatory, recipient, channel, state,
                                      message_id, attempts, created, updated, content_hash)
                 VALUES ('test', 'alex@example.org', '', 'ombudsman', 'email', 'sent',
                         '<m1@x>', 1, ?1, ?1, ?2)",
                params![T0, A],
            )
            .unwrap();
    }
    assert_eq!(user_version(dir.path()), 4);
    let l = Ledger::open_read_only(dir.path()).unwrap().unwrap();
    assert_eq!(user_version(dir.path()), store::MIGRATIONS.len() as i64);
    let rows = l.entries("test").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, State::Sent);
    assert_eq!(rows[0].message_id.as_deref(), Some("<m1@x>"));
    // A ledger from a newer appeal is refused, not rewritten.
    drop(l);
    Connection::open(dir.path().join(DIR).join(FILE))
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Ledger::open_read_only(dir.path()).err().unwrap();
    assert!(
        format!("{err:#}").contains("schema version 99 is newer"),
        "{err:#}"
    );
    assert_eq!(user_version(dir.path()), 99);
}

#[test]
fn a_version_2_ledger_is_rebuilt_keeping_its_rows_and_their_history() {
    let dir = tempfile::tempdir().unwrap();
    let k = key("ombudsman", Channel::Email);
    let p = key("president", Channel::Post);
    {
        let l = Ledger::open_at(dir.path(), 2).unwrap();
        old_row(&l, 1, "alex@example.org", "ombudsman", "email", "sent", T0);
        old_row(
            &l,
            2,
            "alex@example.org",
            "president",
            "post",
            "written",
            T0,
        );
        for (letter, state) in [(1, "pending"), (1, "sending"), (1, "sent"), (2, "written")] {
            l.conn
                .execute(
                    "INSERT INTO events (letter, at, state) VALUES (?1, ?2, ?3)",
                    params![letter, T0, state],
                )
                .unwrap();
        }
    }
    assert_eq!(user_version(dir.path()), 2);
    let mut l = pinned(dir.path());
    assert_eq!(user_version(dir.path()), store::MIGRATIONS.len() as i64);
    assert_eq!(
        l.history(&k).unwrap().len(),
        3,
        "events still point at their letter"
    );
    assert_eq!(
        l.decide(&k, A, Flags::default()).unwrap(),
        Decision::Skip { state: State::Sent }
    );
    // The rebuilt table takes the new states, and events keep following the letter.
    l.mark_by_hand(&p, State::Posted, Some("posted 15 July"))
        .unwrap();
    assert_eq!(l.get(&p).unwrap().unwrap().state, State::Posted);
    assert_eq!(l.history(&p).unwrap().len(), 2);
    let fk: i64 = l
        .conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1, "foreign keys are back on after the migration");
}

/// A row as versions 1 to 3 wrote it, with `id` and content hash A.
fn old_row(
    l: &Ledger,
    id: i64,
    sender: &str,
    recipient: &str,
    channel: &str,
    state: &str,
    at: &str,
) {
    l.conn
        .execute(
            "INSERT INTO letters (id, campaign, sender, recipient, channel, state, message_id,
                                  attempts, created, updated, content_hash)
             VALUES (?1, 'test', ?2, ?3, ?4, ?5, '<m' || ?1 || '@x>', 1, ?6, ?6, ?7)",
            params![id, sender, recipient, channel, state, at, A],
        )
        .unwrap();
}

#[test]
fn one_letter_kept_for_two_senders_becomes_one_row_the_one_that_went_out() {
    let dir = tempfile::tempdir().unwrap();
    {
        let l = Ledger::open_at(dir.path(), 3).unwrap();
        // The supporter sent as alex@, then a plain run tried again as the placeholder sender.
        old_row(&l, 1, "alex@example.org", "ombudsman", "email", "sent", T0);
        old_row(
            &l,
            2,
            "sample@example.org",
            "ombudsman",
            "email",
            "pending",
            "2014-07-15T10:00:00Z",
        );
        old_row(
            &l,
            3,
            "sample@example.org",
            "foreign",
            "email",
            "failed",
            T0,
        );
        for letter in [1, 2, 2, 3] {
            l.conn
                .execute(
                    "INSERT INTO events (letter, at, state) VALUES (?1, ?2, 'pending')",
                    params![letter, T0],
                )
                .unwrap();
        }
    }
    let l = pinned(dir.path());
    let rows = l.entries("test").unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let ombudsman = key("ombudsman", Channel::Email);
    let kept = l.get(&ombudsman).unwrap().unwrap();
    assert_eq!(
        (kept.state, kept.sender.as_str()),
        (State::Sent, "alex@example.org")
    );
    assert_eq!(
        l.history(&ombudsman).unwrap().len(),
        3,
        "every event follows its letter"
    );
    let orphans: i64 = l
        .conn
        .query_row(
            "SELECT count(*) FROM events WHERE letter NOT IN (SELECT id FROM letters)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
}

#[test]
fn a_letter_sent_as_someone_else_is_changed_not_new() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let first = key("ombudsman", Channel::Email);
    deliver(&mut l, &first, A, "<m1@x>");
    // The same letter, the signatory's email corrected: same identity, another sender.
    let corrected = Key::new(&first.letter, "alex.sample@example.org", Channel::Email);
    assert_eq!(
        l.decide(&corrected, A, Flags::default()).unwrap(),
        Decision::Changed { state: State::Sent }
    );
    let forced = Flags {
        resend: true,
        ..Flags::default()
    };
    let a = attempt(l.decide(&corrected, A, forced).unwrap());
    assert_eq!(a.number(), 2);
    l.mark_pending(&a, "<m2@x>", A).unwrap();
    assert_eq!(l.entries("test").unwrap().len(), 1, "still one letter");
    assert_eq!(
        l.get(&first).unwrap().unwrap().sender,
        "alex.sample@example.org",
        "the row says whom it was last sent as"
    );
}

#[test]
fn letters_are_marked_by_hand_only_from_the_state_that_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let doubt = key("ombudsman", Channel::Email);
    start(&mut l, &doubt, A, "<m1@x>");
    l.mark_in_doubt(&doubt, "connection lost after the data")
        .unwrap();
    l.mark_by_hand(
        &doubt,
        State::Delivered,
        Some("the office confirmed by phone"),
    )
    .unwrap();
    let row = l.get(&doubt).unwrap().unwrap();
    assert_eq!(row.state, State::Delivered);
    assert_eq!(
        row.last_reply.as_deref(),
        Some("the office confirmed by phone")
    );
    assert!(State::Delivered.is_done());
    assert_eq!(
        l.decide(&doubt, A, Flags::default()).unwrap(),
        Decision::Skip {
            state: State::Delivered
        }
    );

    let post = key("president", Channel::Post);
    let fax = key("prosecutor", Channel::Fax);
    l.mark_written(&post, Path::new("out/president.pdf"), B)
        .unwrap();
    l.mark_written(&fax, Path::new("out/prosecutor.pdf"), B)
        .unwrap();
    let err = l.mark_by_hand(&post, State::Faxed, None).unwrap_err();
    assert!(
        format!("{err:#}").contains("it is a post letter"),
        "{err:#}"
    );
    l.mark_by_hand(&post, State::Posted, None).unwrap();
    l.mark_by_hand(&post, State::Posted, None).unwrap();
    l.mark_by_hand(&fax, State::Faxed, None).unwrap();
    assert_eq!(l.get(&fax).unwrap().unwrap().state, State::Faxed);

    // A sent letter was never in doubt; a new one was never written.
    let sent = key("interior", Channel::Email);
    deliver(&mut l, &sent, A, "<m2@x>");
    let err = l.mark_by_hand(&sent, State::Delivered, None).unwrap_err();
    assert!(format!("{err:#}").contains("it is sent"), "{err:#}");
    let new = key("foreign", Channel::Post);
    let err = l.mark_by_hand(&new, State::Posted, None).unwrap_err();
    assert!(format!("{err:#}").contains("not in the ledger"), "{err:#}");
    assert!(l.get(&new).unwrap().is_none());
    let err = l.mark_by_hand(&sent, State::Sent, None).unwrap_err();
    assert!(
        format!("{err:#}").contains("not a state set by hand"),
        "{err:#}"
    );
}

#[test]
fn the_last_run_is_remembered_with_its_signatories_and_sender() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    assert_eq!(l.last_run("test").unwrap(), None);
    let first = RunRecord {
        command: "send".into(),
        signatories: Some(("signatories.csv".into(), A.into())),
        ..RunRecord::default()
    };
    l.record_run("test", &first).unwrap();
    let sender = Sender {
        id: None,
        name: "Ainur Sadykova".into(),
        email: Some("ainur@example.org".into()),
        address: vec!["ул. Абая 1".into(), "Алматы".into()],
        city: Some("Алматы".into()),
        note: None,
        signature: None,
        extra: Default::default(),
    };
    let second = RunRecord {
        command: "pdf".into(),
        sender: Some(sender.clone()),
        ..RunRecord::default()
    };
    l.record_run("test", &second).unwrap();
    l.record_run("other", &first).unwrap();
    let last = l.last_run("test").unwrap().unwrap();
    assert_eq!(last.at, T0);
    assert_eq!(last.command, "pdf");
    assert_eq!(last.signatories, None);
    assert_eq!(last.sender, Some(sender));
    let other = l.last_run("other").unwrap().unwrap();
    assert_eq!(other.signatories, first.signatories);
}

#[test]
fn a_ledger_from_a_newer_appeal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(pinned(dir.path()));
    let conn = Connection::open(dir.path().join(DIR).join(FILE)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Ledger::open(dir.path()).unwrap_err();
    assert!(
        format!("{err:#}").contains("schema version 99 is newer"),
        "{err:#}"
    );
    assert!(Ledger::open_read_only(dir.path()).is_err());
}

#[test]
fn the_ledger_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(pinned(dir.path()));
    let mode = std::fs::metadata(dir.path().join(DIR))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn symlinks_are_refused_with_the_path_named() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join(DIR)).unwrap();
    let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
    assert!(err.contains(".appeal is a symbolic link"), "{err}");
    assert!(Ledger::open_read_only(dir.path()).is_err());

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(DIR)).unwrap();
    let target = elsewhere.path().join("victim.db");
    std::os::unix::fs::symlink(&target, dir.path().join(DIR).join(FILE)).unwrap();
    let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
    assert!(
        err.contains(".appeal/ledger.db is a symbolic link"),
        "{err}"
    );
    assert!(!target.exists(), "nothing written through the link");

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(DIR).join(FILE)).unwrap();
    let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
    assert!(
        err.contains(".appeal/ledger.db exists and is not a file"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DIR), b"").unwrap();
    let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
    assert!(
        err.contains(".appeal exists and is not a directory"),
        "{err}"
    );
}

/// True when permission bits do not stop this process (root, CAP_DAC_OVERRIDE).
fn bits_are_ignored(read_only_file: &Path) -> bool {
    std::fs::OpenOptions::new()
        .append(true)
        .open(read_only_file)
        .is_ok()
}

#[test]
fn a_read_only_ledger_file_stops_sending() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(pinned(dir.path()));
    let db = dir.path().join(DIR).join(FILE);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    if bits_are_ignored(&db) {
        // As root the mode is no obstacle: SQLite opens the file read-write. What is left to
        // test is that a connection that cannot write (below) stops at the first mark.
        eprintln!("running with permission bits ignored (root): chmod 0444 proves nothing");
        assert!(Ledger::open(dir.path()).is_ok());
    } else {
        let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
        assert!(err.contains(".appeal/ledger.db for writing"), "{err}");
        assert!(err.contains("read-only"), "{err}");
    }
    // Status still reads a read-only ledger.
    assert!(Ledger::open_read_only(dir.path()).unwrap().is_some());
}

#[test]
fn a_read_only_ledger_directory_stops_sending() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(pinned(dir.path()));
    let appeal = dir.path().join(DIR);
    std::fs::set_permissions(&appeal, std::fs::Permissions::from_mode(0o500)).unwrap();
    let probe = appeal.join("probe");
    let ignored = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    if !ignored {
        // SQLite cannot create ledger.db-wal next to the database.
        let result = Ledger::open(dir.path()).and_then(|mut l| {
            let k = key("ombudsman", Channel::Email);
            let a = attempt(l.decide(&k, A, Flags::default())?);
            l.mark_pending(&a, "<m1@x>", A)
        });
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains(".appeal/ledger.db"), "{err}");
    }
    std::fs::set_permissions(&appeal, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// A ledger that stops being writable after it was opened (read-only remount, disk full, and
/// what chmod would do for anyone but root): `mark_pending` fails, naming the file and the
/// letter, and records nothing. `query_only` makes the connection refuse writes even as root.
#[test]
fn mark_pending_on_an_unwritable_ledger_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let k = key("ombudsman", Channel::Email);
    let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
    l.conn.pragma_update(None, "query_only", true).unwrap();
    let err = format!("{:#}", l.mark_pending(&a, "<m1@x>", A).unwrap_err());
    assert!(
        err.starts_with("cannot record the email letter from alex@example.org to `ombudsman` as pending in the ledger"),
        "{err}"
    );
    assert!(err.contains(".appeal/ledger.db"), "{err}");
    assert!(err.contains("readonly"), "{err}");
    for result in [
        l.mark_failed(&k, "x"),
        l.mark_deferred(&k, "x"),
        l.mark_written(&k, Path::new("x.pdf"), A),
    ] {
        assert!(result.is_err());
    }
    assert!(l.get(&k).unwrap().is_none());
}

#[test]
fn entries_list_signatories_and_map_empty_to_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    deliver(&mut l, &signed("bob", "foreign"), A, "<b@x>");
    deliver(&mut l, &key("ombudsman", Channel::Email), A, "<o@x>");
    l.mark_failed(&signed("alice", "foreign"), "550 no")
        .unwrap();
    let e = l.entries("test").unwrap();
    let who: Vec<(Option<&str>, &str, State)> = e
        .iter()
        .map(|e| (e.signatory.as_deref(), e.recipient.as_str(), e.state))
        .collect();
    assert_eq!(
        who,
        [
            (None, "ombudsman", State::Sent),
            (Some("alice"), "foreign", State::Failed),
            (Some("bob"), "foreign", State::Sent),
        ]
    );
    assert_eq!(e[1].key(), signed("alice", "foreign"));
    assert_eq!(e[1].attempts, 0);
    assert_eq!(e[1].message_id, None);
}

#[test]
fn status_reading_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Ledger::open_read_only(dir.path()).unwrap().is_none());
    assert!(!dir.path().join(DIR).exists());
}

const CRASH_ENV: &str = "APPEAL_LEDGER_CRASH_DIR";
const READY: &str = "LEDGER-CHILD-READY";

/// The child half of `a_killed_process_leaves_pending_and_in_doubt_as_designed`: does nothing
/// unless the parent set `CRASH_ENV`; then records three letters at three stages and waits to
/// be killed.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CRASH_ENV) else {
        return;
    };
    let mut l = pinned(Path::new(&dir));
    deliver(&mut l, &key("foreign", Channel::Email), A, "<done@x>");
    start(&mut l, &key("ombudsman", Channel::Email), A, "<data@x>");
    let k = key("president", Channel::Email);
    let a = attempt(l.decide(&k, A, Flags::default()).unwrap());
    l.mark_pending(&a, "<pending@x>", A).unwrap();
    println!("\n{READY}");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[test]
fn a_killed_process_leaves_pending_and_in_doubt_as_designed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ledger::tests::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read in a thread, so that a child that never gets ready fails the test, not hangs it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ready = std::io::BufReader::new(stdout)
            .lines()
            .map_while(|l| l.ok())
            .any(|l| l.trim_end().ends_with(READY));
        let _ = tx.send(ready);
    });
    let ready = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or(false);
    child.kill().unwrap(); // SIGKILL: no destructor, no checkpoint, no goodbye.
    let status = child.wait().unwrap();
    assert!(ready, "the child never got ready: {status:?}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9));

    let l = pinned(dir.path());
    assert_eq!(
        l.decide(&key("foreign", Channel::Email), A, Flags::default())
            .unwrap(),
        Decision::Skip { state: State::Sent }
    );
    assert!(matches!(
        l.decide(&key("ombudsman", Channel::Email), A, Flags::default()).unwrap(),
        Decision::SkipInDoubt { message_id: Some(m), .. } if m == "<data@x>"
    ));
    let a = attempt(
        l.decide(&key("president", Channel::Email), A, Flags::default())
            .unwrap(),
    );
    assert_eq!(a.message_id_reuse(), Some("<pending@x>"));
    assert_eq!(a.retrying(), Some(State::Pending));
}

#[test]
fn retry_failed_sends_only_failed_and_deferred_letters() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    let retry = Flags {
        retry_failed: true,
        ..Flags::default()
    };
    let failed = key("prosecutor", Channel::Email);
    let a = attempt(l.decide(&failed, A, Flags::default()).unwrap());
    l.mark_pending(&a, "<f@x>", A).unwrap();
    l.mark_failed(&failed, "550 no such user").unwrap();
    let deferred = key("interior", Channel::Email);
    let a = attempt(l.decide(&deferred, A, Flags::default()).unwrap());
    l.mark_pending(&a, "<d@x>", A).unwrap();
    l.mark_deferred(&deferred, "451 try later").unwrap();
    let sent = key("ombudsman", Channel::Email);
    deliver(&mut l, &sent, A, "<s@x>");
    let new = key("foreign", Channel::Email);

    let a = attempt(l.decide(&failed, A, retry).unwrap());
    assert_eq!(
        a.message_id_reuse(),
        Some("<f@x>"),
        "a failure never reached anyone"
    );
    let a = attempt(l.decide(&deferred, A, retry).unwrap());
    assert_eq!(a.message_id_reuse(), Some("<d@x>"));
    assert_eq!(
        l.decide(&sent, A, retry).unwrap(),
        Decision::NotRetried {
            state: Some(State::Sent)
        }
    );
    assert_eq!(
        l.decide(&new, A, retry).unwrap(),
        Decision::NotRetried { state: None }
    );
}

#[test]
fn an_emptied_ledger_file_is_refused_not_taken_as_new() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = pinned(dir.path());
    deliver(&mut l, &key("ombudsman", Channel::Email), A, "<m1@x>");
    drop(l);
    let file = dir.path().join(DIR).join(FILE);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(DIR).join(format!("{FILE}{suffix}")));
    }
    std::fs::write(&file, b"").unwrap();
    for err in [
        Ledger::open(dir.path()).unwrap_err(),
        Ledger::open_read_only(dir.path()).unwrap_err(),
    ] {
        let text = format!("{err:#}");
        assert!(
            text.contains("is empty: its records of what was sent are gone"),
            "{text}"
        );
    }
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 0, "left as it was");
}

#[test]
fn a_damaged_ledger_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(pinned(dir.path()));
    let file = dir.path().join(DIR).join(FILE);
    std::fs::write(
        &file,
        b"this is not a database, it is a shopping list\n".repeat(100),
    )
    .unwrap();
    let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
    assert!(err.contains("cannot open the ledger"), "{err}");
    assert!(err.contains("not a database"), "{err}");
}
