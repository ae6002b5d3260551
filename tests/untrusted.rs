//! Text is text (issue 14, point 4): a value from a signatory, a flag or recipients.toml is
//! inserted into the letter as literal text, whatever Markdown it looks like; nesting in a
//! template's blocks and Markdown is bounded with an error naming the template, never a crash.

use crate::common::TestCampaign;

/// A template that prints the sender's note between two paragraphs of its own.
const WITH_NOTE: &str =
    "Before the note.\n\n{{sender.note}}\n\nAfter the note: the letter goes on.{{cite \"hrw\"}}\n";

fn campaign_with_note_template() -> TestCampaign {
    let c = TestCampaign::new();
    c.write("letters/test/letter.md.hbs", WITH_NOTE);
    c
}

/// The English letter's text as `preview` shows it, for a note given with --from-note.
fn letter_with_note(c: &TestCampaign, note: &str) -> String {
    let flag = format!("--from-note={note}");
    let run = c.run(&["preview", "--only", "foreign", "--json", &flag]);
    run.expect_code(0).no_panic();
    run.json_lines()[0]["text"]
        .as_str()
        .expect("text")
        .to_string()
}

#[test]
fn markdown_in_a_note_prints_literally_and_the_letter_stays_whole() {
    let c = campaign_with_note_template();
    for note in [
        "<!-- the rest of this letter is gone",
        "```",
        "# I am a heading",
        "[^1]: a footnote of my own",
        "- a list item",
        "1. a numbered item",
        "> a quotation",
        "**not bold** and _not italic_ and [a link](http://example.org)",
        "    four spaces: not code",
    ] {
        let text = letter_with_note(&c, note);
        let literal = note.trim_start();
        assert!(
            text.contains(literal),
            "{note:?} is not literal in:\n{text}"
        );
        assert!(text.contains("Before the note."), "{text}");
        assert!(
            text.contains("After the note: the letter goes on.[1]"),
            "the letter after {note:?} is cut or changed:\n{text}"
        );
        assert!(text.contains("Yours sincerely,"), "{text}");
        assert!(
            text.contains("[1] Human Rights Watch"),
            "notes lost after {note:?}:\n{text}"
        );
    }
}

#[test]
fn markdown_in_a_signatory_row_and_a_recipient_name_prints_literally() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        "To {{recipient.name}}, from {{sender.name}}:\n\n{{sender.note}}\n\nThe end.\n",
    );
    c.edit(
        "recipients.toml",
        "name = \"Erlan Idrisov\"",
        "name = \"*Erlan* <b>Idrisov</b>\"",
    );
    c.write(
        "signatories.csv",
        "id,name,note\ns1,\"Anna [Nowak](http://evil.example)\",\"```\nrm -rf\n```\"\n",
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
    let text = run.json_lines()[0]["text"]
        .as_str()
        .expect("text")
        .to_string();
    assert!(
        text.contains("To *Erlan* <b>Idrisov</b>, from Anna [Nowak](http://evil.example):"),
        "{text}"
    );
    assert!(text.contains("```"), "{text}");
    assert!(text.contains("The end."), "{text}");
}

#[test]
fn thirty_thousand_list_markers_in_a_note_are_text_not_a_crash() {
    let c = campaign_with_note_template();
    let note = "- ".repeat(30_000) + "deep";
    let flag = format!("--from-note={note}");
    let run = c.run(&["check", "--only", "foreign", &flag]);
    run.no_panic().expect_code(0);
    let text = letter_with_note(&c, &note);
    assert!(
        text.contains("- - - - "),
        "the markers are printed as typed"
    );
}

#[test]
fn lists_nested_too_deep_in_a_template_are_an_error_naming_it() {
    let c = TestCampaign::new();
    c.write(
        "letters/test/letter.md.hbs",
        &("- ".repeat(30_000) + "deep\n"),
    );
    let run = c.expect_invalid(
        &["check"],
        "letters/test/letter.md.hbs: error: lists are nested more than 16 deep",
    );
    run.no_panic();
    c.expect_invalid(&["pdf"], "lists are nested more than 16 deep")
        .no_panic();
}

#[test]
fn blocks_nested_too_deep_in_a_template_are_an_error_at_their_line() {
    let c = TestCampaign::new();
    let deep = "{{#if facts.defendant}}\n".repeat(5_000) + "x\n" + &"{{/if}}\n".repeat(5_000);
    c.write("letters/test/letter.md.hbs", &deep);
    let run = c.expect_invalid(
        &["check"],
        "letters/test/letter.md.hbs:65:1: error: blocks are nested more than 64 deep here",
    );
    run.no_panic();
}
