//! TOML errors as located problems a person can act on: a value of the wrong type names its
//! key and the form it must take (`address` must be a list of lines: address = ["…", "…"]),
//! an unknown key gets a did-you-mean.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Source, did_you_mean};

/// The form each key's value must take, by key (the key itself or its dotted path inside its
/// table), as told to the user. Keys not listed get a form from what serde expected.
pub type Forms = &'static [(&'static str, &'static str)];

const LINES: &str = "a list of lines: address = [\"…\", \"…\"]";

/// `recipients.toml`.
pub const RECIPIENTS: Forms = &[
    (
        "recipient",
        "a list of tables, each starting with [[recipient]]",
    ),
    ("address", LINES),
    (
        "phone",
        "a list of numbers in quotes: phone = [\"+7 7172 …\"]",
    ),
    ("tags", "a list of tags: tags = [\"rights\"]"),
    ("fax", "a number in quotes: fax = \"+7 7172 …\""),
    (
        "email",
        "an address in quotes: email = \"office@example.org\"",
    ),
    ("language", "a language code in quotes: language = \"ru\""),
    (
        "channel",
        "one of \"auto\", \"email\", \"post\", \"fax\": channel = \"post\"",
    ),
    (
        "translations",
        "a table per language: [recipient.translations.ru]",
    ),
];

/// `letters/<campaign>/campaign.toml`.
pub const CAMPAIGN: Forms = &[
    ("copies_to", "a list of lines: copies_to = [\"…\", \"…\"]"),
    ("attachments", "a list of file names: attachments = [\"…\"]"),
    (
        "subject",
        "a table of one text per language: [subject] then en = \"…\"",
    ),
    (
        "salutation",
        "a table of one text per language: [salutation] then en = \"…\"",
    ),
    (
        "closing",
        "a table of one text per language: [closing] then en = \"…\"",
    ),
    ("require_note", "true or false: require_note = true"),
    ("cc_email", "true or false: cc_email = true"),
    ("language", "a language code in quotes: language = \"en\""),
    ("deadline", "a date: deadline = 2014-09-30"),
    ("facts", "a table: [facts] then name = \"…\""),
    ("source", "a list of tables, each starting with [[source]]"),
];

/// `appeal.toml`, whose `[sender]` has the keys of a `--sender` file.
pub const SETTINGS: Forms = &[
    ("sender", "a table: [sender] then name = \"…\""),
    ("smtp", "a table: [smtp] then url = \"…\""),
    ("paper", "\"a4\" or \"letter\": paper = \"a4\""),
    (
        "password_command",
        "a list of words: password_command = [\"pass\", \"show\", \"smtp\"]",
    ),
    ("connections", "a whole number: connections = 2"),
    ("timeout", "a whole number of seconds: timeout = 60"),
    ("name", "text in quotes: name = \"Your Name\""),
    ("email", "an address in quotes: email = \"you@example.org\""),
    ("address", LINES),
];

/// A TOML syntax or schema error as a located problem, in the words of `forms`.
pub fn toml_error(source: &Source, err: &toml::de::Error, forms: Forms) -> Diagnostic {
    let message = err.message().trim();
    let wrong_type = [
        "invalid type:",
        "invalid length",
        "data did not match any variant",
    ]
    .iter()
    .any(|p| message.starts_with(p));
    let improved = match err.span() {
        Some(span) if wrong_type => type_message(&source.text, &span, message, forms),
        _ => None,
    };
    let message = improved.unwrap_or_else(|| improve_serde_message(message));
    match err.span() {
        Some(span) => source.error_at(&span, message),
        None => Diagnostic::error(&source.path, None, message),
    }
}

/// "`address` must be a list of lines: address = [...]", for the key whose value holds `span`.
fn type_message(text: &str, span: &Range<usize>, message: &str, forms: Forms) -> Option<String> {
    let path = key_at(text, span.start)?;
    let dotted = path.join(".");
    let last = path.last()?;
    let form = forms
        .iter()
        .find(|(k, _)| *k == dotted)
        .or_else(|| forms.iter().find(|(k, _)| k == last))
        .map(|(_, f)| f.to_string())
        .or_else(|| expected_form(message))?;
    Some(format!("`{dotted}` must be {form}"))
}

/// The form serde expected, in words: "expected a sequence" → "a list".
fn expected_form(message: &str) -> Option<String> {
    let expected = message.rsplit("expected ").next()?.trim();
    let form = match expected {
        "a sequence" => "a list in brackets: [\"…\", \"…\"]",
        "a string" => "text in quotes: \"…\"",
        "a boolean" => "true or false",
        "a map" => "a table",
        e if e.starts_with("struct ") => "a table",
        "u32" | "u64" | "i64" | "an integer" => "a whole number",
        _ => return None,
    };
    Some(form.to_string())
}

/// The keys leading to the innermost value that holds `offset`, counted from the table that
/// holds it (inside an array of tables such as `[[recipient]]`, from that entry).
fn key_at(text: &str, offset: usize) -> Option<Vec<String>> {
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    walk_table(root.get_ref(), &mut Vec::new(), offset, &mut best);
    best.map(|(_, path)| path)
}

type Best = Option<(usize, Vec<String>)>;

/// A table's spans are those of its header, not of its keys, so every table is walked.
fn walk_table(table: &DeTable<'_>, path: &mut Vec<String>, offset: usize, best: &mut Best) {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        let span = value.span();
        let holds = span.start <= offset && offset < span.end.max(span.start + 1);
        if holds && best.as_ref().is_none_or(|(len, _)| span.len() <= *len) {
            *best = Some((span.len(), path.clone()));
        }
        walk_value(value.get_ref(), path, offset, best);
        path.pop();
    }
}

fn walk_value(value: &DeValue<'_>, path: &mut Vec<String>, offset: usize, best: &mut Best) {
    match value {
        DeValue::Table(t) => walk_table(t, path, offset, best),
        DeValue::Array(items) => {
            for item in items.iter() {
                match item.get_ref() {
                    DeValue::Table(t) => walk_table(t, &mut Vec::new(), offset, best),
                    other => walk_value(other, path, offset, best),
                }
            }
        }
        _ => {}
    }
}

/// serde says "unknown field `nmae`, expected one of `id`, `name`"; we say
/// "unknown key `nmae`; did you mean `name`? (expected one of ...)".
fn improve_serde_message(message: &str) -> String {
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let Some(end) = rest.find('`') else { continue };
        let word = &rest[..end];
        let expected: Vec<&str> = rest[end..].split('`').skip(2).step_by(2).collect();
        let mut out = format!("unknown {noun} `{word}`");
        if let Some(best) = did_you_mean(word, expected.iter().copied()) {
            out.push_str(&format!("; did you mean `{best}`?"));
        }
        if !expected.is_empty() {
            let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            out.push_str(&format!(" (expected one of {})", list.join(", ")));
        }
        return out;
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_gets_a_suggestion() {
        let m =
            improve_serde_message("unknown field `nmae`, expected one of `id`, `name`, `title`");
        assert_eq!(
            m,
            "unknown key `nmae`; did you mean `name`? (expected one of `id`, `name`, `title`)"
        );
    }

    #[test]
    fn the_key_of_a_value_is_found_inside_tables_and_arrays_of_tables() {
        let text = "[[recipient]]\nid = \"a\"\naddress = [\"x\", 1]\n\n[recipient.translations.ru]\naddress = 7\n\n[subject]\nen = 5\n";
        let at = |needle: &str| key_at(text, text.find(needle).expect("needle"));
        assert_eq!(at("1]"), Some(vec!["address".to_string()]));
        assert_eq!(
            at("7"),
            Some(vec!["translations".into(), "ru".into(), "address".into()])
        );
        assert_eq!(at("5"), Some(vec!["subject".into(), "en".into()]));
    }

    #[test]
    fn forms_come_from_the_table_then_from_serde() {
        let m = type_message(
            "address = \"x\"",
            &(10..13),
            "invalid type: string \"x\", expected a sequence",
            RECIPIENTS,
        );
        assert_eq!(
            m.as_deref(),
            Some("`address` must be a list of lines: address = [\"…\", \"…\"]")
        );
        let m = type_message(
            "[subject]\nen = 5",
            &(15..16),
            "invalid type: integer `5`, expected a string",
            CAMPAIGN,
        );
        assert_eq!(
            m.as_deref(),
            Some("`subject.en` must be text in quotes: \"…\"")
        );
    }
}
