//! The words the tool itself prints in a letter, per language: the date (CLDR through ICU4X),
//! page numbers and labels. A language is a BCP 47 tag (`be`, `pt-BR`, `zh-Hant`); its labels
//! come from the campaign's `[labels.<tag>]` or the built-in table, looked up along CLDR's
//! fallback chain (`pt-BR` → `pt`), never silently in English.

mod builtin;
mod dates;
mod overrides;

use std::collections::BTreeMap;

use icu::locale::fallback::LocaleFallbacker;
use icu::locale::{DataLocale, Locale};

pub use dates::{digits, format_date};
pub use overrides::{RawLabels, campaign_labels};

/// The labels a letter needs, in the order messages list them. `page` is a pattern with
/// `{page}` and `{pages}`.
pub const LABEL_NAMES: [&str; 8] = [
    "reference",
    "copies",
    "notes",
    "page",
    "fax",
    "from",
    "to",
    "pages",
];

/// Labels printed around the letter's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub copies: String,
    pub notes: String,
    pub reference: String,
    pub fax: String,
    pub from: String,
    pub to: String,
    /// The fax cover's page count.
    pub pages: String,
    /// "Page {page} of {pages}".
    pub page: String,
    /// The language's digits, 0 to 9 (Arabic-Indic for `ar`, Persian for `fa`).
    pub digits: [char; 10],
}

impl Labels {
    /// The built-in labels for `tag` or the nearest language it falls back to.
    pub fn builtin(tag: &str) -> Option<Labels> {
        resolve(tag, &Overrides::new()).ok()
    }

    /// "Page 2 of 3" in the letter's language and digits.
    pub fn page_of(&self, page: usize, pages: usize) -> String {
        self.page
            .replace("{pages}", &self.number(pages))
            .replace("{page}", &self.number(page))
    }

    /// A number written in the language's digits.
    pub fn number(&self, n: usize) -> String {
        n.to_string()
            .chars()
            .map(|c| c.to_digit(10).map_or(c, |d| self.digits[d as usize]))
            .collect()
    }

    /// Each label's name and text, in [`LABEL_NAMES`] order.
    pub fn words(&self) -> [(&'static str, &str); 8] {
        [
            ("reference", &self.reference),
            ("copies", &self.copies),
            ("notes", &self.notes),
            ("page", &self.page),
            ("fax", &self.fax),
            ("from", &self.from),
            ("to", &self.to),
            ("pages", &self.pages),
        ]
    }

    fn from_words(words: [String; 8], digits: [char; 10]) -> Labels {
        let [reference, copies, notes, page, fax, from, to, pages] = words;
        Labels {
            copies,
            notes,
            reference,
            fax,
            from,
            to,
            pages,
            page,
            digits,
        }
    }
}

/// A campaign's own labels: tag → label name → text.
pub type Overrides = BTreeMap<String, BTreeMap<String, String>>;

/// Why a tag is not a language tag the tool accepts, if it is not one. Tags are written
/// in canonical case (`pt-BR`, `zh-Hant`), since they also name template files.
pub fn tag_problem(tag: &str) -> Option<String> {
    let shown = tag.escape_debug();
    match tag.parse::<Locale>() {
        Err(_) => Some(format!(
            "`{shown}` is not a BCP 47 language tag (like en, be, pt-BR, zh-Hant)"
        )),
        Ok(l) if l.id.language.is_unknown() => {
            Some(format!("`{shown}` names no language (like en, be, pt-BR)"))
        }
        Ok(l) if l.to_string() != tag => Some(format!("write the language tag `{shown}` as `{l}`")),
        Ok(_) => None,
    }
}

/// The tags to look labels up under, most specific first: CLDR's fallback chain
/// (`pt-BR` → `pt`, `zh-TW` → `zh-Hant-TW` → `zh-Hant`), without the root.
pub fn fallback_chain(tag: &str) -> Vec<String> {
    let Ok(locale) = tag.parse::<Locale>() else {
        return vec![tag.to_string()];
    };
    let mut chain = vec![tag.to_string()];
    let fallbacker = LocaleFallbacker::new().for_config(Default::default());
    let mut it = fallbacker.fallback_for(DataLocale::from(&locale));
    while !it.get().is_unknown() {
        let step = it.get().to_string();
        if !chain.contains(&step) {
            chain.push(step);
        }
        it.step();
    }
    chain
}

/// The labels for `tag`: each word from the campaign's `[labels]` or the built-in table,
/// along the fallback chain. Otherwise the names of the labels nobody gives.
pub fn resolve(tag: &str, overrides: &Overrides) -> Result<Labels, Vec<&'static str>> {
    let chain = fallback_chain(tag);
    let mut missing = Vec::new();
    let words = LABEL_NAMES.map(|name| {
        let found = chain.iter().find_map(|t| {
            let own = overrides.get(t).and_then(|o| o.get(name)).cloned();
            own.or_else(|| builtin_word(t, name).map(str::to_string))
        });
        found.unwrap_or_else(|| {
            missing.push(name);
            String::new()
        })
    });
    if missing.is_empty() {
        Ok(Labels::from_words(words, digits(tag)))
    } else {
        Err(missing)
    }
}

fn builtin_word(tag: &str, name: &str) -> Option<&'static str> {
    let i = LABEL_NAMES.iter().position(|n| *n == name)?;
    builtin::BUILTIN
        .iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, words)| words[i])
}

/// The languages the tool has labels for.
/// Whether `tag`'s language is written right to left (CLDR's likely script: `ar`, `fa`, `he`,
/// `ur`, `ckb`… yes; `az-Arab` yes, `az` no); `None` for a tag CLDR cannot place.
pub fn right_to_left(tag: &str) -> Option<bool> {
    let locale: Locale = tag.parse().ok()?;
    let directions = icu::locale::LocaleDirectionality::new_common();
    match directions.get(&locale.id)? {
        icu::locale::Direction::RightToLeft => Some(true),
        icu::locale::Direction::LeftToRight => Some(false),
        _ => None,
    }
}

pub fn builtin_languages() -> Vec<&'static str> {
    builtin::BUILTIN.iter().map(|(t, _)| *t).collect()
}

/// Why a campaign's label text cannot be used, if it cannot: the page line needs both
/// numbers and no other `{...}`.
pub fn label_problem(name: &str, text: &str) -> Option<String> {
    if !LABEL_NAMES.contains(&name) {
        return Some(format!(
            "unknown label `{}` (labels: {})",
            name.escape_debug(),
            LABEL_NAMES.join(", ")
        ));
    }
    if text.trim().is_empty() {
        return Some(format!("label `{name}` is empty"));
    }
    if name == "page" {
        let rest = text.replace("{pages}", "").replace("{page}", "");
        if !text.contains("{page}") || !text.contains("{pages}") {
            return Some(
                "label `page` needs both {page} and {pages}, like \"Page {page} of {pages}\""
                    .into(),
            );
        }
        if rest.contains(['{', '}']) {
            return Some("label `page` may only use {page} and {pages}".into());
        }
    }
    None
}

#[cfg(test)]
mod tests;
