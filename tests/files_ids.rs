//! Files and ids (issue 14, point 5): the names appeal writes in the output folder itself
//! (`all.pdf`, `sent/`, `dry-run/`, `replies/`) are no one's id, so no letter is overwritten.

use crate::common::TestCampaign;

#[test]
fn a_recipient_id_the_tool_writes_itself_is_refused_where_it_is_written() {
    let c = TestCampaign::new();
    c.edit("recipients.toml", "id = \"foreign\"", "id = \"all\"");
    let before = c.snapshot();
    c.expect_invalid(
        &["pdf", "--combined"],
        "recipients.toml:25:6: error: recipient id `all` is a name appeal writes in the output folder itself (reserved: all, sent, dry-run, replies); choose another id",
    );
    assert_eq!(c.snapshot(), before, "nothing written");
}

#[test]
fn a_signatory_id_the_tool_writes_itself_is_refused_with_its_line() {
    let c = TestCampaign::new();
    c.write(
        "signatories.csv",
        "id,name\nanna,Anna Nowak\nsent,Ben Okoro\n",
    );
    c.expect_invalid(
        &["check", "--signatories", "signatories.csv"],
        "signatories.csv:3:1: error: signatory id `sent` is a name appeal writes in the output folder itself",
    );
}

/// The test campaign sending to `url` from a staff account, with two signatories.
fn batch_to(url: &str) -> TestCampaign {
    let c = TestCampaign::new();
    c.write(
        "appeal.toml",
        &format!(
            "{}\n[smtp]\nurl = \"{url}\"\nfrom = \"Campaign <campaign@example.org>\"\n",
            crate::common::SETTINGS
        ),
    );
    c.write(
        "signatories.csv",
        "id,name\nanna,Anna Nowak\nben,Ben Okoro\n",
    );
    c
}

#[test]
fn send_refuses_a_symlinked_signatory_folder_before_sending_anything() {
    let server = crate::common::smtp::Server::start(&[]);
    let c = batch_to(&server.url());
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(c.path().join("out/test")).expect("mkdir");
    std::os::unix::fs::symlink(elsewhere.path(), c.path().join("out/test/ben")).expect("link");
    for args in [
        &["send", "--yes", "--signatories", "signatories.csv"][..],
        &["send", "--dry-run", "--signatories", "signatories.csv"][..],
    ] {
        c.expect_invalid(
            args,
            "out/test/ben: refusing to write through a symbolic link",
        );
    }
    assert!(server.messages().is_empty(), "nothing sent");
    assert_eq!(std::fs::read_dir(elsewhere.path()).expect("ls").count(), 0);
}

#[test]
fn send_to_an_output_folder_that_is_a_file_sends_nothing() {
    let server = crate::common::smtp::Server::start(&[]);
    let c = batch_to(&server.url());
    c.write("taken", "a file, not a folder\n");
    c.expect_invalid(
        &[
            "send",
            "--yes",
            "--signatories",
            "signatories.csv",
            "--out",
            "taken",
        ],
        "the output directory is a file, not a directory",
    );
    assert!(server.messages().is_empty(), "nothing sent");
}
