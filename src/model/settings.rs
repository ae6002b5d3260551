//! `appeal.toml`: sender defaults and delivery settings shared by every command. Never a password.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Problems, Source};
use crate::model::sender::RawSender;
use crate::model::toml_errors::{self, toml_error};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    #[serde(default)]
    pub sender: RawSender,
    pub smtp: Option<RawSmtp>,
    /// Paper size default: "a4" or "letter".
    pub paper: Option<Spanned<String>>,
    /// A TTF to use instead of the bundled font (regular weight).
    pub font: Option<Spanned<String>>,
    /// Fonts tried first, before the bundled ones: font files (relative to the campaign
    /// directory) or installed families, e.g. `fonts = ["Noto Sans CJK SC"]`.
    pub fonts: Option<Vec<Spanned<String>>>,
    /// Email-to-fax gateway pattern, e.g. "{number}@fax.example.net".
    pub fax_gateway: Option<Spanned<String>>,
    /// Where `appeal inbox` reads bounces and replies: `[imap]`.
    pub imap: Option<RawImap>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub url: Option<Spanned<String>>,
    pub from: Option<Spanned<String>>,
    pub password_command: Option<Vec<String>>,
    pub ca: Option<Spanned<String>>,
    pub rate: Option<Spanned<String>>,
    pub connections: Option<Spanned<u32>>,
    pub timeout: Option<Spanned<u64>>,
    /// A `password = ...` key is recognised only to refuse it with a clear message.
    pub password: Option<Spanned<toml::Value>>,
    /// The envelope sender with a per-letter token (VERP), e.g. "bounces+{token}@example.org".
    pub bounce_address: Option<Spanned<String>>,
}

/// `[imap]`: the mailbox bounces and replies arrive in. Never a password.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    pub url: Option<Spanned<String>>,
    pub password_command: Option<Vec<String>>,
    pub ca: Option<Spanned<String>>,
    /// A `password = ...` key is recognised only to refuse it with a clear message.
    pub password: Option<Spanned<toml::Value>>,
}

/// The sample token a bounce address is checked with.
pub const SAMPLE_TOKEN: &str = "abcdefghij234567";

/// Why `pattern` cannot be a bounce address: `{token}` exactly once, and an email address
/// once it is filled in.
pub fn bounce_address_problem(pattern: &str) -> Option<String> {
    let count = pattern.matches("{token}").count();
    if count != 1 {
        return Some(format!(
            "bounce_address must contain {{token}} exactly once (found {count}), e.g. \"bounces+{{token}}@example.org\""
        ));
    }
    let sample = pattern.replace("{token}", SAMPLE_TOKEN);
    crate::model::recipients::email_problem(&sample)
        .map(|why| format!("bounce_address does not make an email address: {why}"))
}

/// The parsed file and its source, for located errors later.
pub struct Settings {
    pub raw: RawSettings,
    pub source: Option<Source>,
    /// The file is there but could not be read or parsed (that error is already reported):
    /// its values are the defaults, so nothing that follows from their absence is an error.
    pub broken: bool,
}

pub fn load(path: &Path, shown: &Path, problems: &mut Problems) -> Settings {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Settings {
                raw: RawSettings::default(),
                source: None,
                broken: false,
            };
        }
        Err(e) => {
            problems.error(shown, None, format!("cannot read settings: {e}"));
            return Settings {
                raw: RawSettings::default(),
                source: None,
                broken: true,
            };
        }
    };
    let source = Source::new(shown.to_path_buf(), text);
    let (raw, broken) = match toml::from_str::<RawSettings>(&source.text) {
        Ok(raw) => (raw, false),
        Err(e) => {
            problems.push(toml_error(&source, &e, toml_errors::SETTINGS));
            (RawSettings::default(), true)
        }
    };
    if let Some(p) = raw.smtp.as_ref().and_then(|s| s.password.as_ref()) {
        problems.push(source.error_at(&p.span(), "a password does not belong in appeal.toml: set APPEAL_SMTP_PASSWORD or password_command"));
    }
    if let Some(p) = raw.imap.as_ref().and_then(|s| s.password.as_ref()) {
        problems.push(source.error_at(&p.span(), "a password does not belong in appeal.toml: set APPEAL_IMAP_PASSWORD or password_command under [imap]"));
    }
    if let Some(b) = raw.smtp.as_ref().and_then(|s| s.bounce_address.as_ref())
        && let Some(why) = bounce_address_problem(b.get_ref())
    {
        problems.push(source.error_at(&b.span(), why));
    }
    if let Some(g) = &raw.fax_gateway {
        let pattern = g.get_ref();
        let sample = pattern.replace("{number}", "4930123456");
        if !pattern.contains("{number}") {
            problems.push(source.error_at(
                &g.span(),
                "fax_gateway must contain {number}, e.g. \"{number}@fax.example.net\"",
            ));
        } else if let Some(why) = crate::model::recipients::email_problem(&sample) {
            problems.push(source.error_at(
                &g.span(),
                format!("fax_gateway does not make an email address: {why}"),
            ));
        }
    }
    if let Some(p) = &raw.paper
        && !matches!(p.get_ref().as_str(), "a4" | "letter")
    {
        problems.push(source.error_at(
            &p.span(),
            format!(
                "paper must be \"a4\" or \"letter\", not `{}`",
                p.get_ref().escape_debug()
            ),
        ));
    }
    Settings {
        raw,
        source: Some(source),
        broken,
    }
}

/// The sender `appeal init` writes into `appeal.toml` (this repository's own appeal.toml): a
/// placeholder for the user's own details. `None` only if that file had no usable `[sender]`.
pub fn example_sender() -> Option<RawSender> {
    toml::from_str::<RawSettings>(include_str!("../../appeal.toml"))
        .ok()
        .map(|s| s.sender)
        .filter(|s| s.name.is_some())
}

/// The paper a letter is printed on, from `--paper` or `paper` in `appeal.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm (DIN 5008 form B).
    A4,
    /// US Letter, 8.5 × 11 in (#10 window envelope).
    Letter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_sender_is_read_from_the_bundled_settings() {
        let example = example_sender().expect("the bundled appeal.toml has a [sender] name");
        assert!(example.email.is_some());
        assert!(example.address.is_some());
    }
}
