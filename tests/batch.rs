//! Batches: `--signatories CSV`, its errors, the `variant` helper, required notes and the
//! form-letter warning (issue 6).

use crate::common::{self, TestCampaign};

const GOOD: &str = "id,name,email,city,address,note,country\nanna,Anna Nowak,anna@example.org,Kraków,ul. Długa 1|30-001 Kraków,I visited Astana in 2012.,Poland\nben,Ben Okoro,,Leeds,,,UK\n";

fn batch_campaign(csv: &str) -> TestCampaign {
    let c = TestCampaign::new();
    c.write("signatories.csv", csv);
    c
}

/// `check` of the campaign with its signatories.
const CHECK: &[&str] = &["check", "--signatories", "signatories.csv"];

#[test]
fn one_letter_per_signatory_and_recipient() {
    let c = batch_campaign(GOOD);
    c.write(
        "letters/test/letter.md.hbs",
        "From {{sender.name}} in {{sender.city}}, {{sender.country}}.\n\n{{sender.note}}\n",
    );
    let run = c.run(&["preview", "--signatories", "signatories.csv", "--json"]);
    run.expect_code(0);
    let letters: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(letters.len(), 6, "2 signatories × 3 recipients");
    assert_eq!(letters[0]["signatory"], "anna");
    assert_eq!(letters[0]["id"], "president");
    assert_eq!(letters[3]["signatory"], "ben");
    let text = letters[0]["text"].as_str().expect("text");
    assert!(
        text.contains("From Anna Nowak in Kraków, Poland."),
        "{text}"
    );
    assert!(text.contains("I visited Astana in 2012."));
    assert!(
        text.contains("ul. Długa 1\n30-001 Kraków"),
        "address lines split on |: {text}"
    );
    c.run(CHECK).expect_code(0).expect_stdout("ok: 6 letters");
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let c = batch_campaign(&format!("\u{FEFF}{GOOD}"));
    c.run(CHECK).expect_code(0).expect_stdout("ok: 6 letters");
}

#[test]
fn bad_encoding_names_row_and_column() {
    let c = TestCampaign::new();
    let bytes = b"id,name,email\nanna,Anna,anna@example.org\nzofia,Zofia \xA3ukasz,\n".to_vec();
    std::fs::write(c.path().join("signatories.csv"), bytes).expect("write");
    c.expect_invalid(
        CHECK,
        "signatories.csv:3:2: error: column `name` is not valid UTF-8",
    );
}

#[test]
fn missing_header_row_is_explained() {
    let c = batch_campaign("anna,Anna Nowak,anna@example.org\n");
    c.expect_invalid(
        CHECK,
        "signatories.csv:1:1: error: missing column `id` in the header row (the first row looks like data: add a header row)",
    );
}

#[test]
fn missing_id_is_an_error() {
    let c = batch_campaign("id,name\nanna,Anna\n,Nameless\n");
    c.expect_invalid(CHECK, "signatories.csv:3:1: error: the signatory has no id");
}

#[test]
fn duplicate_id_is_an_error() {
    let c = batch_campaign("id,name\nanna,Anna\nben,Ben\nanna,Anna Again\n");
    c.expect_invalid(
        CHECK,
        "signatories.csv:4:1: error: duplicate signatory id `anna`",
    );
}

#[test]
fn ragged_row_is_an_error() {
    let c = batch_campaign("id,name,email\nanna,Anna,anna@example.org\nben,Ben\n");
    c.expect_invalid(
        CHECK,
        "signatories.csv:3:1: error: this row has 2 fields but the header has 3",
    );
}

#[test]
fn invalid_email_is_an_error() {
    let c = batch_campaign("id,name,email\nanna,Anna,anna(at)example.org\n");
    c.expect_invalid(
        CHECK,
        "signatories.csv:2:3: error: signatory `anna`: email `anna(at)example.org` is not a valid email address",
    );
}

#[test]
fn line_break_in_a_name_is_an_error() {
    let c = batch_campaign("id,name\nanna,\"Anna\r\nBcc: x@example.org\"\n");
    c.expect_invalid(
        CHECK,
        "signatory `anna`: name contains a carriage return (U+000D)",
    );
}

#[test]
fn check_reports_every_bad_row() {
    let c = batch_campaign(
        "id,name,email\nanna,Anna,bad-address\nAnna,Upper,\nben,Ben\nzofia,Zofia,zofia@example.org\n",
    );
    let run = c.run(CHECK);
    run.expect_code(2)
        .expect_stderr("signatories.csv:2:3:")
        .expect_stderr("signatories.csv:3:1:")
        .expect_stderr("signatories.csv:4:1:")
        .expect_stderr("3 errors");
}

#[test]
fn missing_signatories_file_is_an_error() {
    let c = TestCampaign::new();
    c.run(&["preview", "--signatories", "nope.csv"])
        .expect_code(2)
        .expect_stderr("nope.csv: error: cannot read the signatories file");
}

#[test]
fn required_note_is_enforced_per_signatory() {
    let c = batch_campaign("id,name,note\nanna,Anna,I care about this.\nben,Ben,\n");
    c.edit(
        "letters/test/campaign.toml",
        "reference = \"T-1\"",
        "reference = \"T-1\"\nrequire_note = true",
    );
    c.expect_invalid(
        CHECK,
        "signatories.csv:3:3: error: signatory `ben`: the campaign requires a personal note",
    );
    // A single sender without a note is stopped too.
    let run = c.run(&["check"]);
    run.expect_code(2).expect_stderr("requires a personal note");
    c.run(&["check", "--from-note", "I write as a lawyer."])
        .expect_code(0);
}

#[test]
fn variant_is_stable_and_spread() {
    let mut csv = String::from("id,name\n");
    for i in 0..40 {
        csv.push_str(&format!("s{i},Signatory {i}\n"));
    }
    let c = batch_campaign(&csv);
    c.write(
        "letters/test/letter.md.hbs",
        "{{variant \"ALPHA\" \"BRAVO\" \"CHARLIE\"}} text.\n",
    );
    let preview = [
        "preview",
        "--signatories",
        "signatories.csv",
        "--only",
        "president",
        "--json",
    ];
    let first = c.run(&preview);
    first.expect_code(0);
    let second = c.run(&preview);
    assert_eq!(
        first.stdout, second.stdout,
        "variants must be stable across runs"
    );
    for word in ["ALPHA", "BRAVO", "CHARLIE"] {
        let n = first.stdout.matches(word).count();
        assert!((5..=25).contains(&n), "{word} chosen {n} times of 40");
    }
}

#[test]
fn variant_needs_two_phrasings() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "Line.\n{{variant \"only\"}}\n",
    );
    c.run(&["check"]).expect_code(2).expect_stderr(
        "letters/test/letter.md.hbs:2:1: error: variant needs at least two phrasings",
    );
}

#[test]
fn form_letters_are_flagged() {
    let c = batch_campaign("id,name,note\nanna,Anna,\nben,Ben,\ncleo,Cleo,\n");
    let run = c.run(CHECK);
    run.expect_code(0).expect_stderr("warning: letters to `president` are near-identical across signatories (mean 3-word-shingle Jaccard similarity 1.00 over 3 letters");
    // Personal notes that make up most of the letter clear the warning.
    let c = batch_campaign(
        "id,name,note\nanna,Anna,My grandmother was born in Karaganda and I have followed the trials of journalists there for years.\nben,Ben,As a union organiser in Leeds I know what unpaid wages do to a family and to a town.\ncleo,Cleo,I teach media law and I use the Duambekov case to show students why defamation belongs in civil courts.\n",
    );
    c.write(
        "letters/test/letter.md.hbs",
        "{{sender.note}}\n\nPlease review the case.\n",
    );
    c.write(
        "letters/test/letter.ru.md.hbs",
        "{{sender.note}}\n\nПрошу пересмотреть дело.\n",
    );
    let run = c.run(CHECK);
    run.expect_code(0);
    assert!(!run.stderr.contains("near-identical"), "{}", run.stderr);
}

#[test]
fn status_lists_every_signatory_letter_not_yet_started() {
    let c = batch_campaign(GOOD);
    let run = c.run(&["status", "--signatories", "signatories.csv", "--json"]);
    run.expect_code(75);
    let rows = run.json_array();
    assert_eq!(rows.len(), 6, "2 signatories × 3 recipients: {rows:?}");
    assert!(
        rows.iter().all(|r| r["signatory"].is_string()),
        "no letter without a signatory: {rows:?}"
    );
    assert!(rows.iter().all(|r| r["state"] == "not_started"), "{rows:?}");
}

/// Runs appeal in `c` with `input` on standard input.
fn run_with_stdin(c: &TestCampaign, args: &[&str], input: &str) -> common::Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = common::command(c.path(), args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn appeal");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    // Written from a thread: appeal reads it all before it writes much, but need not.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    common::Run::from_output(out)
}

#[test]
fn signatories_on_standard_input_are_read_in_full_by_every_pass() {
    // More than a read buffer (8 KB): each command reads the list more than once (the check
    // when loading, then the letters; `send` twice more), which a pipe allows only once.
    let mut csv = String::from("id,name,city,note\n");
    for i in 0..300 {
        csv.push_str(&format!(
            "s{i:03},Signer {i},Leeds,I have followed this case since the verdict of 2014.\n"
        ));
    }
    assert!(csv.len() > 16 * 1024);
    let c = TestCampaign::new();
    run_with_stdin(&c, &["check", "--signatories", "-"], &csv)
        .expect_code(0)
        .expect_stdout("ok: 900 letters");
    let run = run_with_stdin(&c, &["preview", "--json", "--signatories", "-"], &csv);
    run.expect_code(0);
    assert_eq!(run.stdout.lines().count(), 900);
    // send: the check, then its two passes over the letters (a dry run: nothing leaves).
    let two = "id,name,email\nanna,Anna Nowak,anna@example.org\nben,Ben Okoro,ben@example.net\n";
    let run = run_with_stdin(&c, &["send", "--dry-run", "--signatories", "-"], two);
    run.expect_code(0).expect_stdout("Dry run:");
    let letters = common::paths_under(&c.path().join("out/test"))
        .iter()
        .filter(|p| !p.is_dir() && p.extension().is_some_and(|x| x == "pdf" || x == "eml"))
        .count();
    assert_eq!(letters, 6, "2 signatories × 3 recipients");
}

#[test]
fn only_names_single_letters_of_a_batch_beside_whole_recipients() {
    let c = batch_campaign(GOOD);
    let letters = |only: &str| -> Vec<(String, String)> {
        c.run(&[
            "preview",
            "--signatories",
            "signatories.csv",
            "--json",
            "--only",
            only,
        ])
        .expect_code(0)
        .json_lines()
        .iter()
        .map(|l| {
            (
                l["signatory"].as_str().unwrap_or("").to_string(),
                l["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
    };
    let pair = |s: &str, r: &str| (s.to_string(), r.to_string());
    assert_eq!(letters("ben/ombudsman"), [pair("ben", "ombudsman")]);
    assert_eq!(
        letters("president,ben/ombudsman"),
        [
            pair("anna", "president"),
            pair("ben", "president"),
            pair("ben", "ombudsman")
        ]
    );
}

#[test]
fn a_malformed_or_unknown_single_letter_is_refused() {
    let c = batch_campaign(GOOD);
    c.expect_invalid(
        &["check", "--signatories", "signatories.csv", "--only", "ben/ombudsman/x"],
        "--only `ben/ombudsman/x`: name a recipient (`prosecutor`) or one letter of a batch as SIGNATORY/RECIPIENT",
    );
    c.expect_invalid(
        &[
            "check",
            "--signatories",
            "signatories.csv",
            "--only",
            "ben/prosecutr",
        ],
        "--only: no recipient `prosecutr`",
    );
}
