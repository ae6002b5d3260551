//! The hostile-input corpus (issue 8): every case feeds the tool something a careless or
//! malicious campaign file could hold and asserts one clear message, the exit code, no
//! panic, and that no file was created or changed. See tests/hostile/README.md.

use crate::common::{self, TestCampaign};

struct Case {
    name: &'static str,
    /// Prepares the campaign: overwrite or edit files.
    setup: fn(&TestCampaign),
    args: &'static [&'static str],
    code: i32,
    stderr: &'static str,
}

fn recipients_with(extra: &str) -> String {
    format!("[[recipient]]\nid = \"x\"\nname = \"X\"\ntitle = \"T\"\naddress = [\"A\"]\n{extra}")
}

const CASES: &[Case] = &[
    Case {
        name: "deeply nested arrays in recipients.toml",
        setup: |c| {
            c.write(
                "recipients.toml",
                &format!("x = {}{}\n", "[".repeat(50_000), "]".repeat(50_000)),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml:1:",
    },
    Case {
        name: "deeply nested inline tables in campaign.toml",
        setup: |c| {
            c.write(
                "letters/test/campaign.toml",
                &format!("title = {}1{}\n", "{a=".repeat(20_000), "}".repeat(20_000)),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/campaign.toml:1:",
    },
    Case {
        name: "huge recipients.toml (20 MB of comments)",
        setup: |c| {
            c.write(
                "recipients.toml",
                &format!(
                    "{}{}",
                    "# padding padding padding padding padding padding padding\n".repeat(350_000),
                    common::RECIPIENTS.replace("id = \"foreign\"", "id = \"Foreign\"")
                ),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml:350025:6: error: recipient id `Foreign`",
    },
    Case {
        name: "NUL byte in a TOML key",
        setup: |c| {
            c.write("recipients.toml", "a\0b = 1\n");
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml:1:2:",
    },
    Case {
        name: "NUL byte in a name",
        setup: |c| {
            c.write(
                "recipients.toml",
                &recipients_with("").replace("name = \"X\"", "name = \"X\\u0000Y\""),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "name contains a control character (U+0000)",
    },
    Case {
        name: "invalid UTF-8 in recipients.toml",
        setup: |c| {
            std::fs::write(
                c.path().join("recipients.toml"),
                b"[[recipient]]\nid = \"\xff\xfe\"\n",
            )
            .expect("write");
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml:2:7: error: the file is not valid UTF-8",
    },
    Case {
        name: "invalid UTF-8 in campaign.toml",
        setup: |c| {
            std::fs::write(
                c.path().join("letters/test/campaign.toml"),
                b"title = \"\xc3\x28\"\n",
            )
            .expect("write");
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/campaign.toml",
    },
    Case {
        name: "invalid UTF-8 in a template",
        setup: |c| {
            std::fs::write(
                c.path().join("letters/test/letter.md.hbs"),
                b"Hello \xe2\x28\xa1\n",
            )
            .expect("write");
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/letter.md.hbs: error: cannot read the template",
    },
    Case {
        name: "CR/LF header injection in a title",
        setup: |c| {
            c.write(
                "recipients.toml",
                &recipients_with("").replace(
                    "title = \"T\"",
                    "title = \"T\\r\\nBcc: everyone@example.org\"",
                ),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml:4:9: error: recipient `x`: title contains a carriage return (U+000D)",
    },
    Case {
        name: "LF in an email address",
        setup: |c| {
            c.write(
                "recipients.toml",
                &recipients_with("email = \"a@example.org\\nBcc: b@example.org\"\n"),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "email contains a line break (U+000A)",
    },
    Case {
        name: "bidi override in a subject",
        setup: |c| {
            c.edit(
                "letters/test/campaign.toml",
                "en = \"About the case",
                "en = \"\u{202E}About the case",
            );
        },
        args: &["check"],
        code: 2,
        stderr: "subject.en contains a bidirectional control character (U+202E)",
    },
    Case {
        name: "bidi isolate in a sender name",
        setup: |c| {
            c.write("appeal.toml", "[sender]\nname = \"Alex \u{2067}Sample\"\n");
        },
        args: &["check"],
        code: 2,
        stderr: "appeal.toml:2:8: error: sender name contains a bidirectional control character (U+2067)",
    },
    Case {
        name: "CR/LF in --from-name",
        setup: |_| {},
        args: &["check", "--from-name", "Alex\r\nBcc: x@example.org"],
        code: 2,
        stderr: "--from-name contains a carriage return (U+000D)",
    },
    Case {
        name: "Unicode line separator in an address",
        setup: |c| {
            c.write(
                "recipients.toml",
                &recipients_with("").replace("[\"A\"]", "[\"A\u{2028}B\"]"),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "address line contains a Unicode line separator (U+2028)",
    },
    Case {
        name: "../ in a recipient id",
        setup: |c| {
            c.write(
                "recipients.toml",
                &recipients_with("").replace("id = \"x\"", "id = \"../../etc/passwd\""),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml:2:6: error: recipient id `../../etc/passwd` must be",
    },
    Case {
        name: "absolute path as a recipient id",
        setup: |c| {
            c.write(
                "recipients.toml",
                &recipients_with("").replace("id = \"x\"", "id = \"/tmp/x\""),
            );
        },
        args: &["check"],
        code: 2,
        stderr: "recipient id `/tmp/x` must be",
    },
    Case {
        name: "../ in a signatory id",
        setup: |c| {
            c.write("s.csv", "id,name\n../up,Up\n");
        },
        args: &["check", "--signatories", "s.csv"],
        code: 2,
        stderr: "s.csv:2:1: error: signatory `../up`: id must be",
    },
    Case {
        name: "../ as campaign name",
        setup: |_| {},
        args: &["check", "--campaign", "../test"],
        code: 2,
        stderr: "campaign name `../test` must be",
    },
    Case {
        name: "attachment outside the campaign",
        setup: |c| {
            c.edit(
                "letters/test/campaign.toml",
                "reference = \"T-1\"",
                "reference = \"T-1\"\nattachments = [\"../../../etc/passwd\"]",
            );
        },
        args: &["check"],
        code: 2,
        stderr: "attachments must be paths inside the campaign directory",
    },
    Case {
        name: "absolute attachment path",
        setup: |c| {
            c.edit(
                "letters/test/campaign.toml",
                "reference = \"T-1\"",
                "reference = \"T-1\"\nattachments = [\"/etc/passwd\"]",
            );
        },
        args: &["check"],
        code: 2,
        stderr: "attachments must be paths inside the campaign directory",
    },
    Case {
        name: "template that includes itself",
        setup: |c| {
            c.write(
                "letters/test/letter.md.hbs",
                "Again: {{> letters/test/letter.md.hbs}}\n",
            );
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/letter.md.hbs:1:8: error: partials (`{{> name}}`) are not supported",
    },
    Case {
        name: "two templates that include each other",
        setup: |c| {
            c.write(
                "letters/test/letter.md.hbs",
                "A {{> letters/test/letter.ru.md.hbs}}\n",
            );
            c.write(
                "letters/test/letter.ru.md.hbs",
                "B {{> letters/test/letter.md.hbs}}\n",
            );
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/letter.ru.md.hbs:1:3: error: partials",
    },
    Case {
        name: "inline partial that recurses",
        setup: |c| {
            c.write(
                "letters/test/letter.md.hbs",
                "{{#*inline \"loop\"}}{{> loop}}{{/inline}}{{> loop}}\n",
            );
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/letter.md.hbs:1:1: error: decorators and inline partials",
    },
    Case {
        name: "template that tries to read a file as a partial",
        setup: |c| {
            c.write("letters/test/letter.md.hbs", "Secret: {{> /etc/passwd}}\n");
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/letter.md.hbs:1:",
    },
    Case {
        name: "template that names a missing partial",
        setup: |c| {
            c.write(
                "letters/test/letter.md.hbs",
                "{{> ../../recipients.toml}}\n",
            );
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/letter.md.hbs:1:",
    },
    Case {
        name: "unknown helper in a template",
        setup: |c| {
            c.write("letters/test/letter.md.hbs", "{{exec \"rm -rf /\"}}\n");
        },
        args: &["check"],
        code: 2,
        stderr: "letters/test/letter.md.hbs:1:",
    },
    Case {
        name: "CSV with a NUL byte in a field",
        setup: |c| {
            c.write("s.csv", "id,name\nanna,An\0na\n");
        },
        args: &["check", "--signatories", "s.csv"],
        code: 2,
        stderr: "s.csv:2:2: error: signatory `anna`: name contains a control character (U+0000)",
    },
    Case {
        name: "CSV with an unterminated quote",
        setup: |c| {
            c.write("s.csv", "id,name\nanna,\"Anna\nben,Ben\n");
        },
        args: &["check", "--signatories", "s.csv"],
        code: 2,
        stderr: "s.csv:",
    },
    Case {
        name: "CSV that is empty",
        setup: |c| {
            c.write("s.csv", "");
        },
        args: &["check", "--signatories", "s.csv"],
        code: 2,
        stderr: "s.csv:1:1: error: the file is empty",
    },
    Case {
        name: "CSV with a duplicated column",
        setup: |c| {
            c.write("s.csv", "id,name,name\na,A,B\n");
        },
        args: &["check", "--signatories", "s.csv"],
        code: 2,
        stderr: "s.csv:1:3: error: column `name` appears twice",
    },
    Case {
        name: "signatories path is a directory",
        setup: |c| {
            std::fs::create_dir_all(c.path().join("dir.csv")).expect("mkdir");
        },
        args: &["check", "--signatories", "dir.csv"],
        code: 2,
        stderr: "dir.csv: error: cannot read the signatories file",
    },
    Case {
        name: "recipients path is a directory",
        setup: |c| {
            std::fs::create_dir_all(c.path().join("r")).expect("mkdir");
        },
        args: &["check", "--recipients", "r"],
        code: 2,
        stderr: "r: error: cannot read the recipients file",
    },
    Case {
        name: "sender file with unknown key",
        setup: |c| {
            c.write("me.toml", "name = \"A\"\npassword = \"x\"\n");
        },
        args: &["check", "--sender", "me.toml"],
        code: 2,
        stderr: "me.toml:2:1: error: unknown key `password`",
    },
    Case {
        name: "--lang for a language the campaign lacks",
        setup: |_| {},
        args: &["check", "--lang", "xx"],
        code: 2,
        stderr: "--lang xx: the campaign has no letter.xx.md.hbs",
    },
    Case {
        name: "wrong type for a key",
        setup: |c| {
            c.write("recipients.toml", &recipients_with("tags = \"rights\"\n"));
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml:6:8: error: `tags` must be a list of tags: tags = [\"rights\"]",
    },
    Case {
        name: "empty recipients file",
        setup: |c| {
            c.write("recipients.toml", "");
        },
        args: &["check"],
        code: 2,
        stderr: "recipients.toml: error: no recipients",
    },
];

#[test]
fn hostile_inputs_get_one_clear_error_and_change_nothing() {
    assert!(CASES.len() >= 30, "the corpus holds at least 30 cases");
    let mut failures = Vec::new();
    for case in CASES {
        let c = TestCampaign::new();
        (case.setup)(&c);
        let before = c.snapshot();
        let run = c.run(case.args);
        let mut problems = Vec::new();
        if run.code != case.code {
            problems.push(format!("exit {} (expected {})", run.code, case.code));
        }
        if !run.stderr.contains(case.stderr) {
            problems.push(format!("stderr lacks {:?}", case.stderr));
        }
        if run.stderr.contains("panicked") {
            problems.push("panicked".into());
        }
        if before != c.snapshot() {
            problems.push("a file was created or changed".into());
        }
        if run.stderr.len() > 4000 {
            problems.push(format!(
                "{} bytes of stderr: not one clear message",
                run.stderr.len()
            ));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n--- stderr\n{}",
                case.name,
                problems.join("; "),
                &run.stderr[..run.stderr.len().min(1500)]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

/// Runs `appeal` and kills it if it has not finished in `limit`: a hang is a failure.
fn run_bounded(c: &TestCampaign, args: &[&str], limit: std::time::Duration) -> i32 {
    let child = common::spawn(c.path(), args);
    common::wait_with_limit(child, limit, &format!("appeal {args:?}")).code
}

#[test]
fn pathological_letters_finish() {
    // Bound (release build): under 2 s and 200 MB for either; the test allows a debug build
    // 180 s before calling it a hang.
    let limit = std::time::Duration::from_secs(180);
    let c = TestCampaign::new();
    c.write("letters/test/letter.md.hbs", &"x".repeat(1_000_000));
    assert_eq!(
        run_bounded(&c, &["pdf", "-q", "--only", "foreign"], limit),
        0,
        "one 1 MB word"
    );
    let text = common::pdf_text(&c.path().join("out/test/foreign.pdf"));
    assert!(
        text.contains(&"x".repeat(60)),
        "the word is broken across lines, not lost"
    );
    let items: String = (0..100_000).map(|i| format!("- item {i}\n")).collect();
    c.write("letters/test/letter.md.hbs", &items);
    assert_eq!(
        run_bounded(&c, &["pdf", "-q", "--only", "foreign"], limit),
        0,
        "100,000 list items"
    );
    let text = common::pdf_text(&c.path().join("out/test/foreign.pdf"));
    assert!(text.contains("item 99999"), "the last item is there");
}
