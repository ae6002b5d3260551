//! `init`, `--via`, completions and the man page (issue 7).

mod common;

use common::{TestCampaign, run_in, snapshot};

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
    let before = c.snapshot();
    let run = c.run(&["init"]);
    run.expect_code(2)
        .no_panic()
        .expect_stderr("refusing to overwrite")
        .expect_stderr("recipients.toml");
    assert_eq!(before, c.snapshot());
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
    let commands = ["init", "check", "list", "preview", "completions", "man"];
    for shell in ["bash", "zsh", "fish"] {
        let run = c.run(&["completions", shell]);
        run.expect_code(0);
        for cmd in commands {
            run.expect_stdout(cmd);
        }
    }
    let man = c.run(&["man"]);
    man.expect_code(0).expect_stdout(".TH appeal");
    for cmd in commands {
        man.expect_stdout(cmd);
    }
}

#[test]
fn every_command_help_has_an_example() {
    let c = TestCampaign::new();
    for cmd in ["init", "check", "list", "preview", "completions", "man"] {
        c.run(&[cmd, "--help"])
            .expect_code(0)
            .expect_stdout("Example: appeal");
    }
}
