//! Errors a person understands (issue 13): signatory files from spreadsheets (CRLF, `;`,
//! tabs, `E-mail`), every template language checked, template syntax errors that name the
//! block left open, type errors that name the key, one error for one broken file, and
//! warnings for the example sender and letters with no return address.

use crate::common;

use crate::common::{Run, TestCampaign};

/// Runs `appeal ARGS` and asserts: exit 2, each needle on stderr, no panic, nothing written.
fn expect_invalid(c: &TestCampaign, args: &[&str], needles: &[&str]) -> Run {
    let before = c.snapshot();
    let run = c.run(args);
    run.expect_code(2).no_panic();
    for needle in needles {
        run.expect_stderr(needle);
    }
    assert_eq!(before, c.snapshot(), "a failed run wrote or changed a file");
    run
}

fn check_signatories(c: &TestCampaign, csv: &str, needles: &[&str]) -> Run {
    c.write("signatories.csv", csv);
    expect_invalid(c, &["check", "--signatories", "signatories.csv"], needles)
}

/// How many lines of stderr are errors.
fn errors(run: &Run) -> usize {
    run.stderr
        .lines()
        .filter(|l| l.contains(": error: "))
        .count()
}

// 1. Signatory files as spreadsheets write them.

#[test]
fn crlf_files_report_the_line_a_row_is_on() {
    let c = TestCampaign::new();
    let csv =
        "id,name,email\r\nanna,Anna Nowak,anna@example.org\r\nben,Ben Okoro,not-an-address\r\n";
    check_signatories(
        &c,
        csv,
        &[
            "signatories.csv:3:3: error: signatory `ben`: email `not-an-address` is not a valid email address",
        ],
    );
    // A quoted field over two lines, then a blank line: the next row is still counted right.
    let csv = "id,name,address,email\r\nanna,Anna Nowak,\"ul. Długa 1\r\nKraków\",anna@example.org\r\n\r\nben,Ben Okoro,,bad\r\n";
    check_signatories(
        &c,
        csv,
        &["signatories.csv:5:4: error: signatory `ben`: email `bad`"],
    );
    // The same file with LF line ends gives the same lines.
    check_signatories(
        &c,
        &csv.replace("\r\n", "\n"),
        &["signatories.csv:5:4: error: signatory `ben`"],
    );
}

#[test]
fn a_row_of_the_wrong_width_in_a_crlf_file_is_on_its_own_line() {
    let c = TestCampaign::new();
    let csv = "id,name\r\nanna,Anna Nowak\r\nben,Ben Okoro,extra\r\n";
    check_signatories(
        &c,
        csv,
        &["signatories.csv:3:1: error: this row has 3 fields but the header has 2"],
    );
}

#[test]
fn a_duplicate_id_names_the_line_of_its_first_use() {
    let c = TestCampaign::new();
    let csv = "id,name\r\nanna,Anna Nowak\r\nben,Ben Okoro\r\nanna,Anna Kowalska\r\n";
    check_signatories(
        &c,
        csv,
        &["signatories.csv:4:1: error: duplicate signatory id `anna` (first used on line 2)"],
    );
}

#[test]
fn semicolon_and_tab_separated_files_are_read() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "From {{sender.name}} of {{sender.city}}.\n",
    );
    for csv in [
        "id;name;city\r\nanna;Nowak, Anna;Kraków\r\nben;Ben Okoro;Leeds\r\n",
        "id\tname\tcity\nanna\tNowak, Anna\tKraków\nben\tBen Okoro\tLeeds\n",
    ] {
        c.write("signatories.csv", csv);
        c.run(&["check", "--signatories", "signatories.csv"])
            .expect_code(0)
            .expect_stdout("ok: 6 letters");
        let run = c.run(&[
            "preview",
            "--signatories",
            "signatories.csv",
            "--only",
            "foreign",
            "--json",
        ]);
        run.expect_code(0);
        assert!(
            run.stdout.contains("From Nowak, Anna of Kraków."),
            "a comma inside a ;-separated field is text: {}",
            run.stdout
        );
    }
    // Errors in such a file point at the right column.
    check_signatories(
        &c,
        "id;name;email\r\nanna;Anna;nope\r\n",
        &["signatories.csv:2:3: error: signatory `anna`: email `nope`"],
    );
}

#[test]
fn headers_are_matched_in_any_case_and_e_mail_is_email() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "From {{sender.name}} ({{sender.email}}), {{sender.Region}}.\n",
    );
    c.write(
        "signatories.csv",
        "ID;Name;E-Mail;Region\r\nanna;Anna Nowak;anna@example.org;Małopolska\r\n",
    );
    let run = c.run(&[
        "preview",
        "--signatories",
        "signatories.csv",
        "--only",
        "foreign",
        "--json",
    ]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("From Anna Nowak (anna@example.org), Małopolska."),
        "{}",
        run.stdout
    );
    check_signatories(
        &c,
        "Id,NAME,e-mail\nanna,Anna,nope\n",
        &["signatories.csv:2:3: error: signatory `anna`: email `nope`"],
    );
    check_signatories(
        &c,
        "id,name,Email,E-mail\nanna,Anna,a@example.org,b@example.org\n",
        &["signatories.csv:1:4: error: column `email` appears twice in the header row"],
    );
}

// 2. Every template language is checked.

/// The test campaign with a Kazakh template (and its subject, salutation and closing) that no
/// recipient reads.
fn with_kazakh(template: &str) -> TestCampaign {
    let c = TestCampaign::new();
    c.edit(
        "letters/test/campaign.toml",
        "ru = \"О деле Мусагали Дуамбекова\"",
        "ru = \"О деле Мусагали Дуамбекова\"\nkk = \"Мұсағали Дуамбеков ісі туралы\"",
    )
    .edit(
        "letters/test/campaign.toml",
        "ru = \"Уважаемый господин!\"",
        "ru = \"Уважаемый господин!\"\nkk = \"Құрметті мырза!\"",
    )
    .edit(
        "letters/test/campaign.toml",
        "ru = \"С уважением,\"",
        "ru = \"С уважением,\"\nkk = \"Құрметпен,\"",
    )
    .write("letters/test/letter.kk.md.hbs", template);
    c
}

#[test]
fn a_template_no_recipient_reads_is_still_checked() {
    let c = with_kazakh("Мен {{facts.defendant}} ісі бойынша жазамын.\n\n{{facts.verdict}}\n");
    let run = expect_invalid(
        &c,
        &["check"],
        &["letters/test/letter.kk.md.hbs:3:1: error: variable `facts.verdict` does not exist"],
    );
    assert_eq!(errors(&run), 1, "{}", run.stderr);
    // With --lang, the other languages are checked too.
    expect_invalid(
        &c,
        &["check", "--lang", "ru"],
        &["letters/test/letter.kk.md.hbs:3:1: error: variable `facts.verdict`"],
    );
    // A good Kazakh template passes, and the run still counts only the letters it writes.
    c.write(
        "letters/test/letter.kk.md.hbs",
        "Мен {{facts.defendant}} ісі бойынша жазамын.\n",
    );
    c.run(&["check"])
        .expect_code(0)
        .expect_stdout("ok: 3 letters render cleanly");
}

#[test]
fn an_unused_language_with_an_unknown_source_fails_check() {
    let c = with_kazakh("Мәтін.{{cite \"nope\"}}\n");
    expect_invalid(
        &c,
        &["check", "--only", "foreign"],
        &["letters/test/letter.kk.md.hbs:1:7: error: unknown source `nope` in cite"],
    );
}

// 3. Template syntax errors name the block.

#[test]
fn a_block_left_open_is_named_at_the_line_it_opened() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.ru.md.hbs",
        "Обращаюсь по делу.\n\n{{#if facts.defendant}}\nО деле {{facts.defendant}}.\n\nПрошу пересмотреть дело.\n",
    );
    let run = expect_invalid(
        &c,
        &["check"],
        &[
            "letters/test/letter.ru.md.hbs:3:1: error: {{#if}} opened here is never closed (expected {{/if}})",
        ],
    );
    assert!(
        !run.stderr.contains("expected escape"),
        "no parser rule list: {}",
        run.stderr
    );
    assert_eq!(errors(&run), 1, "{}", run.stderr);
    // The same for `pdf`, which writes nothing.
    expect_invalid(
        &c,
        &["pdf"],
        &["letters/test/letter.ru.md.hbs:3:1: error: {{#if}} opened here is never closed"],
    );
    // The innermost block left open is the one named.
    c.write(
        "letters/test/letter.ru.md.hbs",
        "{{#if facts.defendant}}\n  {{#each facts}}\n  {{this}}\n{{/if}}\n",
    );
    expect_invalid(
        &c,
        &["check"],
        &[
            "letters/test/letter.ru.md.hbs:4:1: error: {{/if}} does not match {{#each}} opened on line 2 (expected {{/each}})",
        ],
    );
}

#[test]
fn a_stray_closing_tag_and_an_unclosed_brace_are_named() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "I write about {{facts.defendant}}.\n\nMore {{/each}} text.\n",
    );
    expect_invalid(
        &c,
        &["check"],
        &["letters/test/letter.md.hbs:3:6: error: {{/each}} closes a block that was never opened"],
    );
    c.write(
        "letters/test/letter.md.hbs",
        "I write about {{facts.defendant}}.\n\nOn {{today.\n\nThank you.\n",
    );
    let run = expect_invalid(
        &c,
        &["check"],
        &["letters/test/letter.md.hbs:3:4: error: {{ opened here is never closed (expected }})"],
    );
    assert!(
        !run.stderr.contains("expected identifier"),
        "{}",
        run.stderr
    );
    // Braces inside a comment or after a backslash are text, not tags.
    c.write(
        "letters/test/letter.md.hbs",
        "{{!-- {{#if}} is not open --}}Text \\{{ and {{facts.defendant}}.\n",
    );
    c.run(&["check"]).expect_code(0);
}

#[test]
fn other_bad_syntax_quotes_the_tag_instead_of_parser_rules() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "{{#if facts.defendant}}a{{else}}b{{else}}c{{/if}}\n",
    );
    let run = expect_invalid(
        &c,
        &["check"],
        &["letters/test/letter.md.hbs:1:34: error: `{{else}}` is not valid Handlebars syntax"],
    );
    assert!(!run.stderr.contains("invert_tag"), "{}", run.stderr);
}

// 4. Type errors name the key and the form.

#[test]
fn type_errors_in_recipients_name_the_key_and_the_form() {
    for (from, to, needle) in [
        (
            "address = [\"31 Kunayeva St.\", \"010000 Astana\", \"Kazakhstan\"]",
            "address = \"31 Kunayeva St., Astana\"",
            "recipients.toml:28:11: error: `address` must be a list of lines: address = [\"…\", \"…\"]",
        ),
        (
            "tags = [\"rights\"]",
            "tags = \"rights\"",
            "recipients.toml:17:8: error: `tags` must be a list of tags: tags = [\"rights\"]",
        ),
        (
            "fax = \"+7 7172 72 05 16\"",
            "fax = 77172720516\nphone = \"+7 7172 74 05 48\"",
            "recipients.toml:6:7: error: `fax` must be a number in quotes: fax = \"+7 7172 …\"",
        ),
        (
            "fax = \"+7 7172 72 05 16\"",
            "phone = \"+7 7172 74 05 48\"",
            "recipients.toml:6:9: error: `phone` must be a list of numbers in quotes",
        ),
        (
            "language = \"ru\"",
            "language = [\"ru\"]",
            "recipients.toml:16:12: error: `language` must be a language code in quotes: language = \"ru\"",
        ),
        (
            "email = \"midrk@example.kz\"",
            "email = true",
            "recipients.toml:29:9: error: `email` must be an address in quotes",
        ),
        (
            "name = \"Erlan Idrisov\"",
            "name = 7",
            "recipients.toml:26:8: error: `name` must be text in quotes",
        ),
        (
            "title = \"Уполномоченному по правам человека\"",
            "title = 1",
            "recipients.toml:21:9: error: `translations.ru.title` must be text in quotes",
        ),
    ] {
        let c = TestCampaign::new();
        c.edit("recipients.toml", from, to);
        let run = expect_invalid(&c, &["check"], &[needle]);
        assert!(!run.stderr.contains("invalid type"), "{}", run.stderr);
    }
}

#[test]
fn type_errors_in_the_campaign_name_the_key_and_the_form() {
    for (from, to, needle) in [
        (
            "reference = \"T-1\"",
            "reference = \"T-1\"\ncopies_to = \"Embassy of Kazakhstan\"",
            "campaign.toml:4:13: error: `copies_to` must be a list of lines: copies_to = [\"…\", \"…\"]",
        ),
        (
            "reference = \"T-1\"",
            "reference = \"T-1\"\nattachments = \"verdict.pdf\"",
            "campaign.toml:4:15: error: `attachments` must be a list of file names",
        ),
        (
            "reference = \"T-1\"",
            "reference = \"T-1\"\nrequire_note = \"yes\"",
            "campaign.toml:4:16: error: `require_note` must be true or false: require_note = true",
        ),
        (
            "language = \"en\"",
            "language = 1",
            "campaign.toml:2:12: error: `language` must be a language code in quotes",
        ),
        (
            "[subject]\nen = \"About the case of Musagali Duambekov\"\nru = \"О деле Мусагали Дуамбекова\"\n",
            "subject = \"About the case of Musagali Duambekov\"\n",
            "campaign.toml:5:11: error: `subject` must be a table of one text per language: [subject] then en = \"…\"",
        ),
        (
            "[closing]\nen = \"Yours sincerely,\"",
            "[closing]\nen = [\"Yours sincerely,\"]",
            "campaign.toml:14:6: error: `closing.en` must be text in quotes",
        ),
    ] {
        let c = TestCampaign::new();
        c.edit("letters/test/campaign.toml", from, to);
        let run = expect_invalid(&c, &["check"], &[&format!("letters/test/{needle}")]);
        assert!(!run.stderr.contains("invalid type"), "{}", run.stderr);
    }
}

#[test]
fn type_errors_in_settings_and_sender_files_name_the_key() {
    let c = TestCampaign::new();
    c.edit(
        "appeal.toml",
        "address = [\"1 Test Street\", \"London\"]",
        "address = \"1 Test Street, London\"",
    );
    let run = expect_invalid(
        &c,
        &["check"],
        &[
            "appeal.toml:5:11: error: `sender.address` must be a list of lines: address = [\"…\", \"…\"]",
        ],
    );
    assert_eq!(errors(&run), 1, "{}", run.stderr);

    let c = TestCampaign::new();
    c.write(
        "me.toml",
        "name = \"Zhanna Example\"\nemail = [\"z@example.org\"]\n",
    );
    let run = expect_invalid(
        &c,
        &["check", "--sender", "me.toml"],
        &["me.toml:2:9: error: `email` must be an address in quotes: email = \"you@example.org\""],
    );
    assert_eq!(errors(&run), 1, "{}", run.stderr);
}

// 5. One broken file, one error.

#[test]
fn a_broken_settings_file_is_one_error_not_two() {
    let c = TestCampaign::new();
    c.write(
        "appeal.toml",
        "[sender]\nname = \"Zhanna Example\nemail = \"z@example.org\"\n",
    );
    for command in ["check", "pdf", "list"] {
        let run = expect_invalid(&c, &[command], &["appeal.toml:2:"]);
        assert_eq!(errors(&run), 1, "{command}: {}", run.stderr);
        assert!(!run.stderr.contains("no sender name"), "{}", run.stderr);
    }
    // A wrong type is a parse error too: nothing follows from the values it lost.
    c.write("appeal.toml", "sender = \"Zhanna Example\"\n");
    let run = expect_invalid(
        &c,
        &["check"],
        &["appeal.toml:1:10: error: `sender` must be a table: [sender] then name = \"…\""],
    );
    assert_eq!(errors(&run), 1, "{}", run.stderr);
    // Not even the personal note a campaign requires.
    c.edit(
        "letters/test/campaign.toml",
        "reference = \"T-1\"",
        "reference = \"T-1\"\nrequire_note = true",
    );
    let run = expect_invalid(&c, &["check"], &["appeal.toml:1:10: error:"]);
    assert_eq!(errors(&run), 1, "{}", run.stderr);
    // A broken --sender file is also the only error.
    c.write("appeal.toml", "");
    c.write("me.toml", "name = \"Zhanna\n");
    let run = expect_invalid(&c, &["check", "--sender", "me.toml"], &["me.toml:1:"]);
    assert_eq!(errors(&run), 1, "{}", run.stderr);
}

// 6. Warnings before a letter goes out.

const EXAMPLE_WARNING: &str = "appeal.toml:2:8: warning: the sender is still the example from `appeal init` (name `Alex Sample`): set your own in [sender] in appeal.toml, or pass --from-name NAME";

#[test]
fn the_example_sender_is_flagged_by_check_pdf_and_send() {
    let c = TestCampaign::new();
    c.run(&["check"])
        .expect_code(0)
        .expect_stderr(EXAMPLE_WARNING)
        .expect_stdout("(1 warning)");
    let out = tempfile::tempdir().expect("tempdir");
    let out = out.path().to_str().expect("utf8");
    c.run(&["pdf", "--only", "president", "--out", out])
        .expect_code(0)
        .expect_stderr(EXAMPLE_WARNING);
    c.run(&["send", "--dry-run", "--via", "post", "--out", out])
        .expect_code(0)
        .expect_stderr(EXAMPLE_WARNING);
    // -q hides it.
    let quiet = c.run(&["-q", "check"]);
    quiet.expect_code(0);
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    // The example's email and address are the example too.
    let bundled =
        std::fs::read_to_string(common::repo_root().join("appeal.toml")).expect("appeal.toml");
    c.write("appeal.toml", &bundled);
    c.run(&["check"]).expect_code(0).expect_stderr(
        "warning: the sender is still the example from `appeal init` (name `Alex Sample`, email `alex.sample@example.org`, address)",
    );
}

#[test]
fn a_sender_of_ones_own_is_not_flagged() {
    let c = TestCampaign::new();
    let run = c.run(&["check", "--from-name", "Zhanna Example"]);
    run.expect_code(0).expect_stdout("(0 warnings)");
    assert!(!run.stderr.contains("example"), "{}", run.stderr);
    c.edit("appeal.toml", "Alex Sample", "Zhanna Example");
    c.run(&["check"])
        .expect_code(0)
        .expect_stdout("(0 warnings)");
}

#[test]
fn a_posted_letter_without_a_return_address_is_flagged() {
    let c = TestCampaign::new();
    c.write(
        "appeal.toml",
        "[sender]\nname = \"Zhanna Example\"\ncity = \"Almaty\"\nemail = \"z@example.org\"\n",
    );
    let warning = "appeal.toml: warning: the sender has no postal address, and 1 letter goes by post (president): the envelope will carry no return address; set [sender] address in appeal.toml or pass --from-address LINE";
    c.run(&["check"])
        .expect_code(0)
        .expect_stderr(warning)
        .expect_stdout("(1 warning)");
    let out = tempfile::tempdir().expect("tempdir");
    let out = out.path().to_str().expect("utf8");
    c.run(&["pdf", "--only", "president", "--out", out])
        .expect_code(0)
        .expect_stderr(warning);
    c.run(&["check", "--via", "post"])
        .expect_code(0)
        .expect_stderr("3 letters go by post (president, ombudsman, foreign)");
    // No letter by post, or an address given: no warning.
    let run = c.run(&["check", "--only", "ombudsman,foreign"]);
    run.expect_code(0).expect_stdout("(0 warnings)");
    c.run(&[
        "check",
        "--from-address",
        "Abai Ave 1",
        "--from-address",
        "Almaty",
    ])
    .expect_code(0)
    .expect_stdout("(0 warnings)");
    // Signatories without an address column: one warning for the file.
    c.write("signatories.csv", "id,name\nanna,Anna Nowak\n");
    c.run(&["check", "--signatories", "signatories.csv"])
        .expect_code(0)
        .expect_stderr("signatories.csv:1:1: warning: the signatories file has no `address` column, and 1 letter goes by post (president) from each signatory");
    c.write(
        "signatories.csv",
        "id,name,address\nanna,Anna Nowak,Abai Ave 1|Almaty\n",
    );
    c.run(&["check", "--signatories", "signatories.csv"])
        .expect_code(0)
        .expect_stdout("(0 warnings)");
}
