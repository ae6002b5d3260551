//! A stable identity for a letter (issue 14, point 3): a corrected email is a change, never a
//! new letter; the date a template prints is no change on a later day, whatever its length.

use crate::common::smtp::Server;
use crate::common::{Run, SETTINGS, TestCampaign, command};

fn campaign(url: &str) -> TestCampaign {
    let c = TestCampaign::new();
    c.write(
        "appeal.toml",
        &format!(
            "{SETTINGS}\n[smtp]\nurl = \"{url}\"\nfrom = \"Campaign <campaign@example.org>\"\n\
             connections = 1\n"
        ),
    );
    c
}

/// `appeal send --yes ARGS` on the day `now` (RFC 3339).
fn send_on(c: &TestCampaign, now: &str, args: &[&str]) -> Run {
    let mut all = vec!["send", "--yes"];
    all.extend_from_slice(args);
    Run::of(command(c.path(), &all).env("APPEAL_NOW", now))
}

#[test]
fn a_corrected_signatory_email_is_a_change_not_a_second_letter() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    c.write(
        "signatories.csv",
        "id,name,email\ns1,Anna Nowak,anna@exmaple.org\n",
    );
    let args = ["--signatories", "signatories.csv", "--only", "ombudsman"];
    send_on(&c, "2014-07-14T10:00:00Z", &args).expect_code(0);
    assert_eq!(server.messages().len(), 1);

    // The typo in her address is corrected: the same letter, sent as someone else.
    c.edit("signatories.csv", "anna@exmaple.org", "anna@example.org");
    let again = send_on(&c, "2014-07-14T10:00:00Z", &args);
    again.expect_stderr("changed: s1/ombudsman");
    assert_eq!(server.messages().len(), 1, "not sent twice");
    let rows = Run::of(&mut command(
        c.path(),
        &["status", "--json", "--signatories", "signatories.csv"],
    ))
    .json_array();
    let ombudsman: Vec<_> = rows
        .iter()
        .filter(|r| r["recipient"] == "ombudsman")
        .collect();
    assert_eq!(ombudsman.len(), 1, "one letter in the ledger: {rows:?}");
    assert_eq!(ombudsman[0]["state"], "sent");

    // Delivering the corrected letter is a decision, taken with --resend.
    send_on(
        &c,
        "2014-07-14T10:00:00Z",
        &[&args[..], &["--resend"]].concat(),
    )
    .expect_code(0);
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn the_date_in_a_letter_on_a_later_day_is_no_change() {
    let server = Server::start(&[]);
    let c = campaign(&server.url());
    // `today` in the middle of a long paragraph: a date of another length wraps it otherwise.
    c.write(
        "letters/test/letter.md.hbs",
        &format!(
            "{}, written on {{{{today}}}}, {}\n",
            "This letter says a great deal before it gives its date ".repeat(3),
            "and goes on for a while after it, so that the date sits inside a wrapped line. "
                .repeat(3)
        ),
    );
    send_on(&c, "2014-07-14T10:00:00Z", &["--only", "foreign"]).expect_code(0);
    assert_eq!(server.messages().len(), 1);
    // "14 July 2014" then "1 September 2014": four characters longer.
    let later = send_on(&c, "2014-09-01T10:00:00Z", &["--only", "foreign"]);
    later.expect_code(0).expect_stdout("1 already sent");
    assert!(!later.all().contains("changed"), "{}", later.all());
    assert_eq!(server.messages().len(), 1);
}
