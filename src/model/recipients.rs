//! `recipients.toml` → validated recipients: who gets a letter, in which language, by which channel.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Problems, Source, did_you_mean, unsafe_char};
use crate::model::locale;
use crate::model::toml_errors::{self, toml_error};

/// How a letter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Post,
    Fax,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Post => "post",
            Channel::Fax => "fax",
        }
    }
}

/// What the recipient's file asks for; `Auto` becomes a [`Channel`] in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelChoice {
    Auto,
    Fixed(Channel),
}

const CHANNELS: [&str; 4] = ["auto", "email", "post", "fax"];

/// Name, title, salutation and address as printed in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressee {
    pub name: String,
    pub title: String,
    pub salutation: Option<String>,
    pub address: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Recipient {
    pub id: String,
    /// The English (or default) forms.
    pub base: Addressee,
    /// Overrides per language code; missing fields fall back to `base`.
    pub translations: BTreeMap<String, PartialAddressee>,
    pub email: Option<String>,
    pub fax: Option<String>,
    pub phone: Vec<String>,
    pub language: Option<String>,
    pub channel: ChannelChoice,
    pub tags: Vec<String>,
    /// Line and column of the recipient's `id`, and of its `language` if set, for later errors.
    pub id_position: (usize, usize),
    pub language_position: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Default)]
pub struct PartialAddressee {
    pub name: Option<String>,
    pub title: Option<String>,
    pub salutation: Option<String>,
    pub address: Option<Vec<String>>,
}

impl Recipient {
    /// The recipient's forms in `lang`, falling back to the base forms field by field.
    pub fn addressee(&self, lang: &str) -> Addressee {
        let Some(t) = self.translations.get(lang) else {
            return self.base.clone();
        };
        Addressee {
            name: t.name.clone().unwrap_or_else(|| self.base.name.clone()),
            title: t.title.clone().unwrap_or_else(|| self.base.title.clone()),
            // An English salutation in a Russian letter would be wrong: no fallback here.
            salutation: t.salutation.clone(),
            address: t
                .address
                .clone()
                .unwrap_or_else(|| self.base.address.clone()),
        }
    }

    /// The salutation for a letter in `lang`, when the recipient has one of their own.
    pub fn salutation(&self, lang: &str, default_lang: &str) -> Option<String> {
        match self.translations.get(lang) {
            Some(t) => t.salutation.clone(),
            None if lang == default_lang => self.base.salutation.clone(),
            None => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    recipient: Vec<Spanned<RawRecipient>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipient {
    id: Spanned<String>,
    name: Spanned<String>,
    title: Spanned<String>,
    salutation: Option<Spanned<String>>,
    address: Vec<Spanned<String>>,
    email: Option<Spanned<String>>,
    fax: Option<Spanned<String>>,
    #[serde(default)]
    phone: Vec<Spanned<String>>,
    language: Option<Spanned<String>>,
    channel: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    translations: BTreeMap<Spanned<String>, RawTranslation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTranslation {
    name: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    salutation: Option<Spanned<String>>,
    address: Option<Vec<Spanned<String>>>,
}

/// Names the tool writes into a campaign's output folder itself, which no recipient or
/// signatory id may take: `all.pdf` (`pdf --combined`), `sent/` (copies of sent messages),
/// `dry-run/` (`send --dry-run`), `replies/` (answers kept from the mailbox).
pub const RESERVED_IDS: [&str; 4] = ["all", "sent", "dry-run", "replies"];

/// Why `id` cannot be used, when it is a name the tool writes itself.
pub fn reserved_id(id: &str) -> Option<String> {
    RESERVED_IDS.contains(&id).then(|| {
        format!(
            "`{id}` is a name appeal writes in the output folder itself (reserved: {}); choose another id",
            RESERVED_IDS.join(", ")
        )
    })
}

/// Is `id` a valid identifier for file names and ledger keys: `[a-z0-9-]+`?
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks an email address the way the mailer will parse it.
pub fn email_problem(value: &str) -> Option<String> {
    if let Some(why) = unsafe_char(value) {
        return Some(why);
    }
    match lettre::Address::from_str(value) {
        Ok(addr) if addr.domain().contains('.') || addr.domain() == "localhost" => None,
        Ok(_) => Some(format!(
            "`{value}` is not a valid email address (the domain has no dot)"
        )),
        Err(e) => Some(format!("`{value}` is not a valid email address ({e})")),
    }
}

/// Reads and validates a recipients file. Every problem is collected; the file is usable
/// only if none of them is an error.
pub fn load(path: &Path, display: &Path) -> Result<(Vec<Recipient>, Problems), Problems> {
    let mut problems = Problems::default();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let source = Source::new(display.to_path_buf(), String::new());
                let pos = Source::new(
                    display.to_path_buf(),
                    String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()])
                        .into_owned(),
                )
                .position(usize::MAX);
                problems.error(&source.path, Some(pos), "the file is not valid UTF-8");
                return Err(problems);
            }
        },
        Err(e) => {
            problems.error(
                display,
                None,
                format!("cannot read the recipients file: {e}"),
            );
            return Err(problems);
        }
    };
    let source = Source::new(display.to_path_buf(), text);
    parse(&source)
}

/// Parses and validates the text of a recipients file. Every problem is collected; the
/// recipients are usable only if none of them is an error.
pub fn parse(source: &Source) -> Result<(Vec<Recipient>, Problems), Problems> {
    let mut problems = Problems::default();
    let raw: RawFile = match toml::from_str(&source.text) {
        Ok(raw) => raw,
        Err(e) => {
            problems.push(toml_error(source, &e, toml_errors::RECIPIENTS));
            return Err(problems);
        }
    };
    if raw.recipient.is_empty() {
        problems.error(
            &source.path,
            None,
            "no recipients: add a [[recipient]] table",
        );
    }
    let mut v = Validator {
        source,
        problems: &mut problems,
    };
    let mut seen = HashMap::new();
    let out = raw
        .recipient
        .into_iter()
        .map(|entry| v.recipient(entry.into_inner(), &mut seen))
        .collect();
    problems.into_result(out)
}

struct Validator<'a> {
    source: &'a Source,
    problems: &'a mut Problems,
}

impl Validator<'_> {
    fn error(&mut self, span: &Range<usize>, message: String) {
        self.problems.push(self.source.error_at(span, message));
    }

    /// One `[[recipient]]` table, each field checked in file order. `seen` holds the ids so
    /// far and where each was first used.
    fn recipient(
        &mut self,
        raw: RawRecipient,
        seen: &mut HashMap<String, (usize, usize)>,
    ) -> Recipient {
        let id_position = self.source.span_position(&raw.id.span());
        let id = self.id(&raw.id, id_position, seen);
        let who = format!("recipient `{id}`");
        let base = Addressee {
            name: self.text(&raw.name, &who, "name"),
            title: self.text(&raw.title, &who, "title"),
            salutation: raw
                .salutation
                .as_ref()
                .map(|s| self.text(s, &who, "salutation")),
            address: self.address(&raw.address, &who),
        };
        let email = raw.email.as_ref().map(|e| self.email(e, &who));
        let fax = raw.fax.as_ref().map(|f| {
            self.phone_number(f, &who, "fax");
            f.get_ref().clone()
        });
        let phone = raw
            .phone
            .iter()
            .map(|p| {
                self.phone_number(p, &who, "phone");
                p.get_ref().clone()
            })
            .collect();
        let language = raw.language.as_ref().map(|l| {
            self.language(l, &who);
            l.get_ref().clone()
        });
        let channel = match &raw.channel {
            None => ChannelChoice::Auto,
            Some(c) => self.channel(c, &who, email.is_some(), fax.is_some()),
        };
        let tags = raw.tags.iter().map(|t| self.tag(t, &who)).collect();
        let translations = self.translations(&raw.translations, &who);
        Recipient {
            id,
            base,
            translations,
            email,
            fax,
            phone,
            language,
            channel,
            tags,
            id_position,
            language_position: raw
                .language
                .as_ref()
                .map(|l| self.source.span_position(&l.span())),
        }
    }

    /// The id names files and ledger entries, so it must be an id and unique.
    fn id(
        &mut self,
        value: &Spanned<String>,
        position: (usize, usize),
        seen: &mut HashMap<String, (usize, usize)>,
    ) -> String {
        let id = value.get_ref().clone();
        if !valid_id(&id) {
            self.error(
                &value.span(),
                format!(
                    "recipient id `{}` must be 1-64 characters of a-z, 0-9 and `-`",
                    id.escape_debug()
                ),
            );
        } else if let Some(why) = reserved_id(&id) {
            self.error(&value.span(), format!("recipient id {why}"));
        } else if let Some((line, _)) = seen.get(&id) {
            self.error(
                &value.span(),
                format!("duplicate recipient id `{id}` (first used on line {line})"),
            );
        } else {
            seen.insert(id.clone(), position);
        }
        id
    }

    fn email(&mut self, value: &Spanned<String>, who: &str) -> String {
        if let Some(why) = email_problem(value.get_ref()) {
            self.error(&value.span(), format!("{who}: email {why}"));
        }
        value.get_ref().clone()
    }

    fn tag(&mut self, value: &Spanned<String>, who: &str) -> String {
        if !valid_id(value.get_ref()) {
            self.error(
                &value.span(),
                format!(
                    "{who}: tag `{}` must be a-z, 0-9 and `-`",
                    value.get_ref().escape_debug()
                ),
            );
        }
        value.get_ref().clone()
    }

    /// The forms per language; each field left out falls back to the base form.
    fn translations(
        &mut self,
        raw: &BTreeMap<Spanned<String>, RawTranslation>,
        who: &str,
    ) -> BTreeMap<String, PartialAddressee> {
        let mut translations = BTreeMap::new();
        for (lang, t) in raw {
            self.language(lang, who);
            let what = format!("{who} ({} translation)", lang.get_ref());
            translations.insert(
                lang.get_ref().clone(),
                PartialAddressee {
                    name: t.name.as_ref().map(|s| self.text(s, &what, "name")),
                    title: t.title.as_ref().map(|s| self.text(s, &what, "title")),
                    salutation: t
                        .salutation
                        .as_ref()
                        .map(|s| self.text(s, &what, "salutation")),
                    address: t.address.as_ref().map(|a| self.address(a, &what)),
                },
            );
        }
        translations
    }

    /// A one-line value that may reach a header, a file or a printed line.
    fn text(&mut self, value: &Spanned<String>, who: &str, field: &str) -> String {
        let s = value.get_ref();
        if s.trim().is_empty() {
            self.error(&value.span(), format!("{who}: {field} is empty"));
        } else if let Some(why) = unsafe_char(s) {
            self.error(&value.span(), format!("{who}: {field} {why}"));
        }
        s.clone()
    }

    fn address(&mut self, lines: &[Spanned<String>], who: &str) -> Vec<String> {
        lines
            .iter()
            .map(|l| self.text(l, who, "address line"))
            .collect()
    }

    fn phone_number(&mut self, value: &Spanned<String>, who: &str, field: &str) {
        let s = value.get_ref();
        let ok = s.chars().any(|c| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_digit() || " +-()./".contains(c));
        if !ok {
            self.error(
                &value.span(),
                format!(
                    "{who}: {field} `{}` is not a phone number (digits, spaces, + - ( ) . / only)",
                    s.escape_debug()
                ),
            );
        }
    }

    /// A language is any well-formed BCP 47 tag; whether the campaign has a template for it
    /// is checked with the campaign (`config`).
    fn language(&mut self, value: &Spanned<String>, who: &str) {
        if let Some(why) = locale::tag_problem(value.get_ref()) {
            self.error(&value.span(), format!("{who}: language {why}"));
        }
    }

    fn channel(
        &mut self,
        value: &Spanned<String>,
        who: &str,
        has_email: bool,
        has_fax: bool,
    ) -> ChannelChoice {
        let choice = match value.get_ref().as_str() {
            "auto" => ChannelChoice::Auto,
            "email" => ChannelChoice::Fixed(Channel::Email),
            "post" => ChannelChoice::Fixed(Channel::Post),
            "fax" => ChannelChoice::Fixed(Channel::Fax),
            other => {
                let mut msg = format!("{who}: unknown channel `{}`", other.escape_debug());
                if let Some(best) = did_you_mean(other, CHANNELS) {
                    msg.push_str(&format!("; did you mean `{best}`?"));
                }
                msg.push_str(" (expected auto, email, post or fax)");
                self.error(&value.span(), msg);
                return ChannelChoice::Auto;
            }
        };
        match choice {
            ChannelChoice::Fixed(Channel::Email) if !has_email => {
                self.error(
                    &value.span(),
                    format!("{who}: channel is `email` but the recipient has no email address"),
                );
            }
            ChannelChoice::Fixed(Channel::Fax) if !has_fax => {
                self.error(
                    &value.span(),
                    format!("{who}: channel is `fax` but the recipient has no fax number"),
                );
            }
            _ => {}
        }
        choice
    }
}

/// A fax number as E.164 digits ("+7 7172 72 05 16" → "77172720516"), if it is written
/// internationally (with `+` or `00`).
pub fn e164_digits(number: &str) -> Option<String> {
    let trimmed = number.trim();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed.starts_with("00") {
        digits.drain(..2);
    }
    (international && (8..=15).contains(&digits.len())).then_some(digits)
}

/// The gateway address for a fax number: `{number}` in the pattern replaced by its digits.
pub fn gateway_address(pattern: &str, number: &str) -> Option<String> {
    e164_digits(number).map(|d| pattern.replace("{number}", &d))
}

/// The channel a recipient's letter takes: `auto` is email if there is an address, fax if
/// there is a number and a gateway to send it through, else post.
pub fn channel_for(r: &Recipient, fax_gateway: bool) -> Channel {
    match r.channel {
        ChannelChoice::Fixed(c) => c,
        ChannelChoice::Auto if r.email.is_some() => Channel::Email,
        ChannelChoice::Auto if r.fax.is_some() && fax_gateway => Channel::Fax,
        ChannelChoice::Auto => Channel::Post,
    }
}

/// Where the letter goes, in one line.
pub fn destination(r: &Recipient, channel: Channel, lang: &str) -> String {
    match channel {
        Channel::Email => r.email.clone().unwrap_or_default(),
        Channel::Fax => r.fax.clone().unwrap_or_default(),
        Channel::Post => r.addressee(lang).address.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<(Vec<Recipient>, Problems), Problems> {
        parse(&Source::new("recipients.toml", text))
    }

    const ONE: &str = r#"
[[recipient]]
id = "ombudsman"
name = "Askar Shakirov"
title = "Human Rights Ombudsman"
address = ["010000 Astana"]
email = "ombudsman-kz@mail.ru"
language = "ru"
[recipient.translations.ru]
name = "А. Ш. Шакирову"
salutation = "Уважаемый Аскар Шакирович!"
"#;

    #[test]
    fn loads_a_recipient_with_a_translation() {
        let (list, problems) = parse_str(ONE).unwrap();
        assert_eq!(problems.items.len(), 0);
        let r = &list[0];
        assert_eq!(r.addressee("ru").name, "А. Ш. Шакирову");
        assert_eq!(r.addressee("ru").title, "Human Rights Ombudsman");
        assert_eq!(
            r.salutation("ru", "en").as_deref(),
            Some("Уважаемый Аскар Шакирович!")
        );
        assert_eq!(r.salutation("kk", "en"), None);
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("prosecutor-general-2"));
        assert!(!valid_id("Prosecutor"));
        assert!(!valid_id("../etc"));
        assert!(!valid_id(""));
    }

    #[test]
    fn collects_every_problem() {
        let text = ONE
            .replace("ombudsman-kz@mail.ru", "not-an-address")
            .replace("\"ru\"\n[", "\"ru_RU\"\n[");
        let problems = parse_str(&text).unwrap_err();
        assert_eq!(problems.errors(), 2, "{problems}");
    }

    #[test]
    fn fax_numbers_become_e164_digits() {
        assert_eq!(
            e164_digits("+7 7172 72 05 16").as_deref(),
            Some("77172720516")
        );
        assert_eq!(
            e164_digits("0048 (22) 123-45-67").as_deref(),
            Some("48221234567")
        );
        assert_eq!(e164_digits("7172 740548"), None, "no country code");
        assert_eq!(
            gateway_address("{number}@fax.example.net", "+7 7172 740548").as_deref(),
            Some("77172740548@fax.example.net")
        );
    }
}
