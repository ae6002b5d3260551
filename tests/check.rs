//! `appeal check`, `list` and `preview` on good and bad campaigns (issue 2).

use crate::common::{self, TestCampaign, repo_root, run_in};

#[test]
fn example_campaign_checks_clean() {
    run_in(&repo_root(), &["check"])
        .expect_code(0)
        .expect_stdout("ok: 5 letters");
}

#[test]
fn example_preview_plans_three_emails_and_two_posts() {
    let run = run_in(&repo_root(), &["preview"]);
    run.expect_code(0)
        .expect_stdout("5 letters (3 by email, 2 on paper)");
    for id in [
        "president",
        "ombudsman",
        "interior",
        "prosecutor",
        "foreign",
    ] {
        run.expect_stdout(&format!(": {id} ("));
    }
    run.expect_stdout("ombudsman-kz@mail.ru")
        .expect_stdout("Дуамбеков")
        .expect_stdout("С уважением");
}

#[test]
fn good_campaign_checks_and_lists() {
    let c = TestCampaign::new();
    c.run(&["check"])
        .expect_code(0)
        .expect_stdout("ok: 3 letters render cleanly");
    let list = c.run(&["list"]);
    list.expect_code(0)
        .expect_stdout("president")
        .expect_stdout("post");
    let json = c.run(&["list", "--json"]);
    json.expect_code(0);
    let items = json.json_array();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["id"], "president");
    assert_eq!(items[0]["channel"], "post");
    assert_eq!(items[0]["destination"], "Akorda, 010000 Astana, Kazakhstan");
    assert_eq!(items[1]["channel"], "email");
    assert_eq!(items[1]["destination"], "ombudsman@example.kz");
    assert_eq!(items[1]["name"], "Askar Shakirov");
    let keys: Vec<&String> = items[1].as_object().expect("object").keys().collect();
    assert_eq!(keys, ["channel", "destination", "id", "name"]);
}

#[test]
fn list_selects_by_tag_and_only() {
    let c = TestCampaign::new();
    let run = c.run(&["list", "--tag", "government"]);
    run.expect_code(0)
        .expect_stdout("president")
        .expect_stdout("foreign");
    assert!(!run.stdout.contains("ombudsman"));
    let run = c.run(&["list", "--only", "foreign,ombudsman"]);
    assert!(!run.stdout.contains("president"), "{}", run.stdout);
    c.run(&["list", "--only", "forein"])
        .expect_code(2)
        .expect_stderr("did you mean `foreign`?");
}

#[test]
fn preview_renders_each_language_and_date() {
    let c = TestCampaign::new();
    let run = c.run(&["preview"]);
    run.expect_code(0)
        .expect_stdout("3 letters (2 by email, 1 on paper)")
        .expect_stdout("Уважаемый Аскар Шакирович!")
        .expect_stdout("А. Ш. Шакирову")
        // CLDR's long date keeps "2014 г." together with a narrow no-break space.
        .expect_stdout("London, 14 июля 2014\u{202f}г.")
        .expect_stdout("London, 14 July 2014")
        .expect_stdout("Dear Sir or Madam,")
        .expect_stdout("Written on 14 July 2014.")
        .expect_stdout("1. to review the case;")
        .expect_stdout("[1] Human Rights Watch. Letter to the Prosecutor General. 16 September")
        .expect_stdout("    2013. http://www.hrw.org/news/2013/09/16/letter\n");
    // One letter only, by --recipient.
    let one = c.run(&["preview", "--recipient", "foreign"]);
    one.expect_code(0)
        .expect_stdout("1 letter (1 by email, 0 on paper)");
    assert!(!one.stdout.contains("Shakirov"));
    // --lang overrides each recipient's language.
    c.run(&["preview", "--lang", "ru", "--only", "president"])
        .expect_code(0)
        .expect_stdout("Обращаюсь");
}

#[test]
fn preview_json_is_one_object_per_letter() {
    let c = TestCampaign::new();
    let run = c.run(&["preview", "--json"]);
    run.expect_code(0);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["language"], "ru");
    assert!(
        lines[1]["text"]
            .as_str()
            .expect("text")
            .contains("Обращаюсь")
    );
}

#[test]
fn sender_flags_override_settings() {
    let c = TestCampaign::new();
    let run = c.run(&[
        "preview",
        "--only",
        "foreign",
        "--from-name",
        "Jan Kowalski",
        "--from-city",
        "Warsaw",
    ]);
    run.expect_code(0)
        .expect_stdout("Jan Kowalski")
        .expect_stdout("Warsaw, 14 July 2014");
    c.write("me.toml", "name = \"Maria Nowak\"\ncity = \"Kraków\"\n");
    c.run(&["preview", "--only", "foreign", "--sender", "me.toml"])
        .expect_code(0)
        .expect_stdout("Kraków, 14 July 2014");
    c.write("bad.toml", "nam = \"Maria\"\n");
    c.run(&["check", "--sender", "bad.toml"])
        .expect_code(2)
        .expect_stderr("bad.toml:1:1: error: unknown key `nam`; did you mean `name`?");
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let c = TestCampaign::new();
    c.edit("recipients.toml", "id = \"ombudsman\"", "id = \"ombudsman");
    c.expect_invalid(&["check"], "recipients.toml:10:");
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "name = \"Askar Shakirov\"",
        "nmae = \"Askar Shakirov\"",
    );
    c.expect_invalid(
        &["check"],
        "recipients.toml:11:1: error: unknown key `nmae`; did you mean `name`?",
    );
}

#[test]
fn unknown_campaign_key_suggests_the_right_one() {
    let c = TestCampaign::new();
    c.edit("letters/test/campaign.toml", "reference =", "refrence =");
    c.expect_invalid(
        &["check"],
        "letters/test/campaign.toml:3:1: error: unknown key `refrence`; did you mean `reference`?",
    );
}

#[test]
fn duplicate_id_is_an_error() {
    let c = TestCampaign::new();
    c.edit("recipients.toml", "id = \"foreign\"", "id = \"ombudsman\"");
    c.expect_invalid(
        &["check"],
        "recipients.toml:25:6: error: duplicate recipient id `ombudsman` (first used on line 10)",
    );
}

#[test]
fn bad_id_is_an_error() {
    let c = TestCampaign::new();
    c.edit("recipients.toml", "id = \"foreign\"", "id = \"../Foreign\"");
    c.expect_invalid(
        &["check"],
        "recipients.toml:25:6: error: recipient id `../Foreign` must be 1-64 characters of a-z, 0-9 and `-`",
    );
}

#[test]
fn invalid_email_is_an_error() {
    let c = TestCampaign::new();
    c.edit("recipients.toml", "midrk@example.kz", "midrk at example.kz");
    c.expect_invalid(
        &["check"],
        "recipients.toml:29:9: error: recipient `foreign`: email `midrk at example.kz` is not a valid email address",
    );
}

#[test]
fn line_break_in_a_name_is_an_error() {
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "name = \"Erlan Idrisov\"",
        "name = \"Erlan\\r\\nBcc: all@example.org\"",
    );
    c.expect_invalid(
        &["check"],
        "recipients.toml:26:8: error: recipient `foreign`: name contains a carriage return (U+000D)",
    );
}

#[test]
fn bidi_control_in_a_title_is_an_error() {
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "title = \"Minister of Foreign Affairs\"",
        "title = \"Minister \u{202E}sriaffA\"",
    );
    c.expect_invalid(
        &["check"],
        "recipients.toml:27:9: error: recipient `foreign`: title contains a bidirectional control character (U+202E)",
    );
}

#[test]
fn unknown_channel_is_an_error() {
    let c = TestCampaign::new();
    c.edit(
        "recipients.toml",
        "tags = [\"rights\"]",
        "tags = [\"rights\"]\nchannel = \"emial\"",
    );
    c.expect_invalid(
        &["check"],
        "recipients.toml:18:11: error: recipient `ombudsman`: unknown channel `emial`; did you mean `email`?",
    );
}

#[test]
fn missing_template_for_a_language_is_an_error() {
    let c = TestCampaign::new();
    std::fs::remove_file(c.path().join("letters/test/letter.ru.md.hbs")).expect("rm");
    c.expect_invalid(
        &["check"],
        "recipients.toml:16:12: error: recipient `ombudsman` is written to in `ru` but letters/test/letter.ru.md.hbs does not exist",
    );
}

#[test]
fn template_syntax_error_names_the_template_and_line() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "First line.\n\n{{#if facts.defendant}}\nunclosed\n",
    );
    // Issue 13: the block left open and the line it opened on, not the parser's rule list.
    c.expect_invalid(
        &["check"],
        "letters/test/letter.md.hbs:3:1: error: {{#if}} opened here is never closed (expected {{/if}})",
    );
}

#[test]
fn missing_variable_names_the_template_and_line() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "First line.\n\nSecond {{facts.defendent}} line.\n",
    );
    c.expect_invalid(
        &["check"],
        "letters/test/letter.md.hbs:3:8: error: variable `facts.defendent` does not exist",
    );
}

#[test]
fn unknown_source_in_cite_is_an_error() {
    let c = TestCampaign::new();
    c.write("letters/test/letter.md.hbs", "Text.{{cite \"hwr\"}}\n");
    c.expect_invalid(
        &["check"],
        "unknown source `hwr` in cite; campaign.toml defines: hrw",
    );
}

#[test]
fn check_reports_every_problem_at_once() {
    let c = TestCampaign::new();
    c.edit("recipients.toml", "midrk@example.kz", "not-an-address")
        .edit(
            "recipients.toml",
            "id = \"president\"",
            "id = \"President\"",
        )
        .edit(
            "recipients.toml",
            "language = \"ru\"",
            "language = \"de_DE\"",
        );
    let run = c.expect_invalid(&["check"], "not-an-address");
    run.expect_stderr("recipient id `President`")
        .expect_stderr("language `de_DE` is not a BCP 47 language tag")
        .expect_stderr("3 errors, 0 warnings; nothing was written");
}

#[test]
fn missing_sender_name_is_an_error() {
    let c = TestCampaign::new();
    c.write("appeal.toml", "");
    c.expect_invalid(&["check"], "no sender name");
}

#[test]
fn password_in_settings_is_refused() {
    let c = TestCampaign::new();
    c.write(
        "appeal.toml",
        &format!(
            "{}\n[smtp]\nurl = \"smtps://me@mail.example.org\"\npassword = \"hunter2\"\n",
            common::SETTINGS
        ),
    );
    let run = c.expect_invalid(&["check"], "a password does not belong in appeal.toml");
    assert!(!run.stderr.contains("hunter2"));
}

#[test]
fn past_deadline_is_a_warning() {
    let c = TestCampaign::new();
    c.edit(
        "letters/test/campaign.toml",
        "reference = \"T-1\"",
        "reference = \"T-1\"\ndeadline = 2014-07-01",
    );
    c.run(&["check"]).expect_code(0).expect_stderr(
        "letters/test/campaign.toml:4:12: warning: the campaign deadline 2014-07-01 has passed",
    );
}

#[test]
fn no_campaign_directory_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    run_in(dir.path(), &["check"])
        .expect_code(2)
        .expect_stderr("no letters/ directory");
}

#[test]
fn smtp_settings_are_checked_without_asking_for_a_password() {
    let c = TestCampaign::new();
    c.write("appeal.toml", &format!("{}\n[smtp]\nurl = \"smtp://mail.example.org:25?tls=none\"\npassword_command = [\"/bin/false\"]\n", common::SETTINGS));
    c.run(&["check"])
        .expect_code(2)
        .expect_stderr("appeal.toml:8:7: error: [smtp]:")
        .expect_stderr("tls=none");
    c.write("appeal.toml", &format!("{}\n[smtp]\nurl = \"smtps://me@mail.example.org\"\npassword_command = [\"/bin/false\"]\n", common::SETTINGS));
    c.run(&["check"]).expect_code(0);
}

#[test]
fn print_lint_flags_long_letters_and_wide_or_tall_addresses() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        &"A paragraph of the appeal that goes on and on. ".repeat(400),
    );
    c.edit(
        "recipients.toml",
        "title = \"Minister of Foreign Affairs\"",
        "title = \"Minister of Foreign Affairs of the Republic of Kazakhstan\"",
    );
    let run = c.run(&["check", "--only", "foreign"]);
    run.expect_code(0)
        .expect_stderr("warning: letter to `foreign` (en) runs to 6 pages")
        .expect_stderr("recipients.toml: warning: letter to `foreign` (en): address line `Minister of Foreign Affairs of the Republic of Kazakhstan` is");
    c.edit(
        "recipients.toml",
        "address = [\"31 Kunayeva St.\", \"010000 Astana\", \"Kazakhstan\"]",
        "address = [\"a\", \"b\", \"c\", \"d\", \"e\"]",
    );
    c.run(&["check", "--only", "foreign"])
        .expect_code(2)
        .expect_stderr("recipient `foreign` (en): the address block has 7 lines with title and name; the envelope window holds 6");
}
