//! `init`, `--via`, completions and the man page (issue 7).

use crate::common::{self, TestCampaign, run_in, snapshot};

/// Every command of the command line.
const COMMANDS: [&str; 9] = [
    "init",
    "check",
    "list",
    "preview",
    "pdf",
    "send",
    "status",
    "completions",
    "man",
];

/// Puts `fax_gateway = "PATTERN"` in the campaign's appeal.toml: a top-level key, so it comes
/// before [sender].
fn set_fax_gateway(c: &TestCampaign, pattern: &str) {
    c.write(
        "appeal.toml",
        &format!("fax_gateway = \"{pattern}\"\n{}", common::SETTINGS),
    );
}

#[test]
fn init_then_check_passes() {
    let dir = tempfile::tempdir().expect("tmp");
    let target = dir.path().join("kz");
    let run = run_in(dir.path(), &["init", "kz"]);
    run.expect_code(0)
        .expect_stdout("cd kz")
        .expect_stdout("appeal check");
    run_in(&target, &["check"])
        .expect_code(0)
        .expect_stdout("ok: 5 letters");
    let settings = std::fs::read_to_string(target.join("appeal.toml")).expect("appeal.toml");
    assert!(
        settings.contains("# [smtp]"),
        "SMTP settings are there, commented out"
    );
    assert!(
        !settings.to_lowercase().contains("password ="),
        "no secret in appeal.toml"
    );
}

#[test]
fn init_refuses_to_overwrite_and_changes_nothing() {
    let c = TestCampaign::new();
    c.expect_invalid(&["init"], "refusing to overwrite")
        .expect_stderr("recipients.toml");
    // Even one existing file stops it before anything is written.
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("appeal.toml"), "# mine\n").expect("write");
    let before = snapshot(dir.path());
    run_in(dir.path(), &["init"])
        .expect_code(2)
        .expect_stderr("appeal.toml");
    assert_eq!(before, snapshot(dir.path()));
}

#[test]
fn via_email_needs_an_email_address() {
    let c = TestCampaign::new();
    c.run(&["list", "--via", "email"])
        .expect_code(2)
        .expect_stderr(
            "recipients.toml:2:6: error: --via email: recipient `president` has no email address",
        );
    let run = c.run(&["list", "--via", "post", "--json"]);
    run.expect_code(0);
    assert_eq!(run.stdout.matches("\"post\"").count(), 3, "{}", run.stdout);
    c.run(&["list", "--via", "fax", "--only", "president"])
        .expect_code(0)
        .expect_stdout("+7 7172 72 05 16");
}

#[test]
fn completions_and_man_page_cover_every_command() {
    let c = TestCampaign::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = c.run(&["completions", shell]);
        run.expect_code(0);
        for cmd in COMMANDS {
            run.expect_stdout(cmd);
        }
    }
    let man = c.run(&["man"]);
    man.expect_code(0).expect_stdout(".TH appeal");
    for cmd in COMMANDS {
        man.expect_stdout(cmd);
    }
}

#[test]
fn every_command_help_has_an_example() {
    let c = TestCampaign::new();
    for cmd in COMMANDS {
        c.run(&[cmd, "--help"])
            .expect_code(0)
            .expect_stdout("Example: appeal");
    }
}

#[test]
fn fax_without_a_gateway_prints_a_cover_line() {
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "tags = [\"government\"]",
        "tags = [\"government\"]\nchannel = \"fax\"",
    );
    c.run(&["list", "--only", "president"])
        .expect_code(0)
        .expect_stdout("fax")
        .expect_stdout("+7 7172 72 05 16");
    c.run(&["pdf", "--only", "president,foreign"])
        .expect_code(0);
    let fax = common::pdf_text(&c.path().join("out/test/president.pdf"));
    assert!(
        fax.contains(
            "Fax · To: Nursultan Nazarbayev, +7 7172 72 05 16 · From: Alex Sample · Pages: 1"
        ),
        "{fax}"
    );
    let post = common::pdf_text(&c.path().join("out/test/foreign.pdf"));
    assert!(!post.contains("Fax ·"), "only faxes get the cover line");
}

#[test]
fn fax_gateway_addresses_the_e164_number() {
    let c = TestCampaign::new();
    set_fax_gateway(&c, "{number}@fax.example.net");
    let run = c.run(&["list", "--json", "--only", "president"]);
    run.expect_code(0);
    let v = run.json_array();
    assert_eq!(v[0]["channel"], "fax");
    assert_eq!(v[0]["destination"], "77172720516@fax.example.net");
    // The dry run writes the fax as an email to the gateway, with the PDF attached.
    c.run(&["send", "--dry-run", "--only", "president"])
        .expect_code(0);
    let eml = c.read("out/test/dry-run/president.eml");
    assert!(
        eml.contains("To: \"Nursultan Nazarbayev\" <77172720516@fax.example.net>"),
        "{eml}"
    );
    assert!(
        eml.contains("filename=\"T-1_president.pdf\"")
            || eml.contains("filename=T-1_president.pdf"),
        "{eml}"
    );
}

#[test]
fn fax_gateway_needs_a_pattern_and_international_numbers() {
    let c = TestCampaign::new();
    set_fax_gateway(&c, "fax.example.net");
    c.run(&["check"])
        .expect_code(2)
        .expect_stderr("appeal.toml:1:15: error: fax_gateway must contain {number}");
    set_fax_gateway(&c, "{number}@fax.example.net");
    c.edit(
        "recipients.toml",
        "fax = \"+7 7172 72 05 16\"",
        "fax = \"7172 72 05 16\"",
    );
    c.run(&["check"])
        .expect_code(2)
        .expect_stderr("recipients.toml:2:6: error: recipient `president`: fax number `7172 72 05 16` needs its country code");
}

#[test]
fn reference_goes_in_the_subject_and_the_pdf() {
    let c = TestCampaign::new();
    c.run(&["send", "--dry-run", "--only", "foreign"])
        .expect_code(0);
    let eml = c.read("out/test/dry-run/foreign.eml");
    assert!(
        eml.contains("Subject: About the case of Musagali Duambekov [Ref. T-1]"),
        "{eml}"
    );
    c.run(&["pdf", "--only", "foreign"]).expect_code(0);
    let text = common::pdf_text(&c.path().join("out/test/foreign.pdf"));
    assert!(text.contains("T-1"), "{text}");
}

#[test]
fn copies_are_listed_in_the_pdf_and_copied_by_email_when_asked() {
    let c = TestCampaign::new();
    c.edit(
        "letters/test/campaign.toml",
        "reference = \"T-1\"",
        "reference = \"T-1\"\ncopies_to = [\"Embassy of Kazakhstan in Poland <consul@example.org>\"]\ncc_email = true",
    );
    c.run(&["pdf", "--only", "foreign"]).expect_code(0);
    let text = common::pdf_text(&c.path().join("out/test/foreign.pdf"));
    assert!(
        text.contains("cc:") && text.contains("Embassy of Kazakhstan in Poland"),
        "{text}"
    );
    c.run(&["send", "--dry-run", "--only", "foreign"])
        .expect_code(0);
    let eml = c.read("out/test/dry-run/foreign.eml");
    assert!(
        eml.contains("Cc: \"Embassy of Kazakhstan in Poland\" <consul@example.org>"),
        "{eml}"
    );
    // Without an address, cc_email cannot copy anyone.
    c.edit("letters/test/campaign.toml", " <consul@example.org>", "");
    c.run(&["check"])
        .expect_code(2)
        .expect_stderr("with cc_email = true, each copies_to entry must be an address");
}

#[test]
fn fax_through_the_gateway_reaches_the_smtp_server() {
    let server = common::smtp::Server::start(&[]);
    let c = TestCampaign::new();
    set_fax_gateway(&c, "{number}@fax.example.net");
    let url = server.url();
    let send = ["send", "--yes", "--only", "president", "--smtp", &url];
    c.run(&send).expect_code(0);
    assert_eq!(
        server.count("RCPT 77172720516@fax.example.net 250"),
        1,
        "{:?}",
        server.events()
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let raw = String::from_utf8_lossy(&std::fs::read(&messages[0]).expect("read")).into_owned();
    assert!(
        raw.contains("Content-Type: application/pdf"),
        "the letter goes as a PDF"
    );
    assert!(raw.contains("president.pdf"));
    // The ledger knows the fax was sent: a second run sends nothing.
    c.run(&send).expect_code(0);
    assert_eq!(server.messages().len(), 1);
}
