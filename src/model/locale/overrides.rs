//! A campaign's `[labels.<tag>]` tables: checked where they are written, then merged with the
//! built-in labels for every language the campaign has a template for.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use super::{Labels, Overrides, builtin_languages, label_problem, resolve, tag_problem};
use crate::diag::{Problems, Source, unsafe_char};

/// `[labels]` as written: tag → label name → text, each with its place in the file.
pub type RawLabels = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>;

/// The labels of each language in `languages`, the campaign's over the built-in ones. A
/// language left without some label is an error naming them and how to add them.
pub fn campaign_labels(
    raw: &RawLabels,
    source: &Source,
    languages: &[&str],
    problems: &mut Problems,
) -> BTreeMap<String, Arc<Labels>> {
    let overrides = checked(raw, source, problems);
    let mut out = BTreeMap::new();
    for lang in languages {
        match resolve(lang, &overrides) {
            Ok(labels) => {
                out.insert(lang.to_string(), Arc::new(labels));
            }
            Err(missing) => {
                let span = raw.keys().find(|k| k.get_ref() == lang).map(Spanned::span);
                let message = missing_message(lang, &missing);
                match span {
                    Some(span) => problems.push(source.error_at(&span, message)),
                    None => problems.error(&source.path, None, message),
                }
            }
        }
    }
    out
}

/// "no labels for `sw`": which are missing, where to write them, which languages have them.
fn missing_message(lang: &str, missing: &[&str]) -> String {
    let example: Vec<String> = missing
        .iter()
        .map(|name| match *name {
            "page" => "page = \"… {page} … {pages}\"".to_string(),
            other => format!("{other} = \"…\""),
        })
        .collect();
    format!(
        "no labels for language `{lang}`: missing {}. The tool prints these words in every letter; \
         add them to campaign.toml under [labels.{lang}]: {} (built-in labels: {})",
        missing.join(", "),
        example.join(", "),
        builtin_languages().join(", ")
    )
}

/// The `[labels]` tables as plain text, each tag, name and text checked where it is written.
fn checked(raw: &RawLabels, source: &Source, problems: &mut Problems) -> Overrides {
    let mut error = |span: Range<usize>, message: String| {
        problems.push(source.error_at(&span, message));
    };
    let mut out = Overrides::new();
    for (tag, table) in raw {
        if let Some(why) = tag_problem(tag.get_ref()) {
            error(tag.span(), format!("labels: {why}"));
            continue;
        }
        let words = out.entry(tag.get_ref().clone()).or_default();
        for (name, text) in table {
            let at = format!("labels.{}.{}", tag.get_ref(), name.get_ref());
            if let Some(why) = label_problem(name.get_ref(), text.get_ref()) {
                error(name.span(), format!("{at}: {why}"));
            } else if let Some(why) = unsafe_char(text.get_ref()) {
                error(text.span(), format!("{at} {why}"));
            } else {
                words.insert(name.get_ref().clone(), text.get_ref().clone());
            }
        }
    }
    out
}
