//! A campaign: `campaign.toml` and its letter templates, compiled with Handlebars in strict mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::diag::{Diagnostic, Problems, Source, toml_error, unsafe_char};
use crate::model::locale;
use crate::model::recipients::valid_id;

/// A numbered reference the letter cites.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceRef {
    pub number: usize,
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
}

impl SourceRef {
    /// The note text: "Publisher. Title. Date. URL".
    pub fn note_text(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(p) = &self.publisher {
            parts.push(p);
        }
        parts.push(&self.title);
        if let Some(d) = &self.date {
            parts.push(d);
        }
        let mut text = parts
            .iter()
            .map(|p| p.trim_end_matches('.'))
            .collect::<Vec<_>>()
            .join(". ");
        text.push('.');
        if let Some(u) = &self.url {
            text.push(' ');
            text.push_str(u);
        }
        text
    }
}

pub struct Campaign {
    /// Directory name under `letters/`: the campaign's id in file names and the ledger.
    pub name: String,
    pub dir: PathBuf,
    pub title: String,
    pub language: String,
    pub reference: Option<String>,
    pub deadline: Option<(jiff::civil::Date, (usize, usize))>,
    pub copies_to: Vec<String>,
    pub attachments: Vec<PathBuf>,
    pub require_note: bool,
    /// Copy every email to the `copies_to` entries (then each must be `Name <address>`).
    pub cc_email: bool,
    pub subject: BTreeMap<String, String>,
    pub salutation: BTreeMap<String, String>,
    pub closing: BTreeMap<String, String>,
    pub facts: Value,
    pub sources: Vec<SourceRef>,
    /// Template file (as shown to the user) per language.
    pub templates: BTreeMap<String, PathBuf>,
    /// Where `campaign.toml` is, as shown to the user.
    pub file: PathBuf,
    registry: Handlebars<'static>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    title: Spanned<String>,
    language: Spanned<String>,
    reference: Option<Spanned<String>>,
    deadline: Option<Spanned<RawDate>>,
    #[serde(default)]
    copies_to: Vec<Spanned<String>>,
    #[serde(default)]
    attachments: Vec<Spanned<String>>,
    #[serde(default)]
    require_note: bool,
    #[serde(default)]
    cc_email: bool,
    subject: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    salutation: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    closing: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    facts: toml::Table,
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawDate {
    Toml(toml::value::Datetime),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    key: Spanned<String>,
    title: Spanned<String>,
    publisher: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

/// The template file name for a language: `letter.md.hbs` for the default, else `letter.<lang>.md.hbs`.
pub fn template_file_name(lang: &str, default_lang: &str) -> String {
    if lang == default_lang {
        "letter.md.hbs".to_string()
    } else {
        format!("letter.{lang}.md.hbs")
    }
}

impl Campaign {
    /// Loads `dir/campaign.toml` and every `letter*.md.hbs` beside it. `shown` is how the
    /// directory is named in messages (relative to the campaign root).
    pub fn load(dir: &Path, shown: &Path) -> Result<(Campaign, Problems), Problems> {
        let mut problems = Problems::default();
        let file = shown.join("campaign.toml");
        let text = match std::fs::read_to_string(dir.join("campaign.toml")) {
            Ok(t) => t,
            Err(e) => {
                problems.error(&file, None, format!("cannot read the campaign file: {e}"));
                return Err(problems);
            }
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                problems.error(
                    shown,
                    None,
                    format!("cannot list the campaign directory: {e}"),
                );
                return Err(problems);
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("letter.") && n.ends_with(".md.hbs"))
            .collect();
        names.sort();
        let templates = names
            .into_iter()
            .map(|n| {
                let text = std::fs::read_to_string(dir.join(&n)).map_err(|e| e.to_string());
                (n, text)
            })
            .collect();
        Self::from_parts(dir, shown, text, templates)
    }

    /// Builds a campaign from the text of `campaign.toml` and each template file
    /// (`letter*.md.hbs` name and its text, or why it could not be read). `dir` is only used
    /// to resolve attachments.
    pub fn from_parts(
        dir: &Path,
        shown: &Path,
        text: String,
        template_files: Vec<(String, Result<String, String>)>,
    ) -> Result<(Campaign, Problems), Problems> {
        let mut problems = Problems::default();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = shown.join("campaign.toml");
        let source = Source {
            path: file.clone(),
            text,
        };
        let raw: RawCampaign = match toml::from_str(&source.text) {
            Ok(r) => r,
            Err(e) => {
                problems.push(toml_error(&source, &e));
                return Err(problems);
            }
        };
        if !valid_id(&name) {
            problems.error(&file, None, format!("campaign directory name `{}` must be a-z, 0-9 and `-` (it names files and ledger entries)", name.escape_debug()));
        }
        let check = |value: &Spanned<String>, what: &str, problems: &mut Problems| -> String {
            let s = value.get_ref();
            if s.trim().is_empty() {
                problems.push(source.error_at(&value.span(), format!("{what} is empty")));
            } else if let Some(why) = unsafe_char(s) {
                problems.push(source.error_at(&value.span(), format!("{what} {why}")));
            }
            s.clone()
        };
        let title = check(&raw.title, "title", &mut problems);
        let language = raw.language.get_ref().clone();
        if !locale::is_supported(&language) {
            problems.push(source.error_at(
                &raw.language.span(),
                format!(
                    "unsupported language `{}` (supported: {})",
                    language.escape_debug(),
                    locale::LANGUAGES.join(", ")
                ),
            ));
        }
        let reference = raw
            .reference
            .as_ref()
            .map(|r| check(r, "reference", &mut problems));
        let copies_to = raw
            .copies_to
            .iter()
            .map(|c| check(c, "copies_to entry", &mut problems))
            .collect();
        if raw.cc_email {
            for c in &raw.copies_to {
                if c.get_ref().parse::<lettre::message::Mailbox>().is_err() {
                    problems.push(source.error_at(&c.span(), format!("with cc_email = true, each copies_to entry must be an address like \"Embassy of Kazakhstan <consul@example.org>\", not `{}`", c.get_ref().escape_debug())));
                }
            }
        }
        let deadline = raw.deadline.as_ref().and_then(|d| {
            let text = match d.get_ref() {
                RawDate::Toml(dt) => dt.to_string(),
                RawDate::Text(t) => t.clone(),
            };
            match text.parse::<jiff::civil::Date>() {
                Ok(date) => Some((date, source.span_position(&d.span()))),
                Err(_) => {
                    problems.push(source.error_at(
                        &d.span(),
                        format!("deadline `{text}` is not a date like 2014-09-30"),
                    ));
                    None
                }
            }
        });
        let attachments = raw
            .attachments
            .iter()
            .map(|a| {
                let rel = Path::new(a.get_ref());
                if rel.is_absolute()
                    || rel
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    problems.push(source.error_at(
                        &a.span(),
                        "attachments must be paths inside the campaign directory",
                    ));
                } else if !dir.join(rel).is_file() {
                    problems.push(source.error_at(
                        &a.span(),
                        format!("attachment `{}` does not exist", rel.display()),
                    ));
                }
                dir.join(rel)
            })
            .collect();
        let per_lang = |map: &BTreeMap<Spanned<String>, Spanned<String>>,
                        what: &str,
                        problems: &mut Problems| {
            let mut out = BTreeMap::new();
            for (lang, value) in map {
                if !locale::is_supported(lang.get_ref()) {
                    problems.push(source.error_at(
                        &lang.span(),
                        format!(
                            "{what}: unsupported language `{}` (supported: {})",
                            lang.get_ref().escape_debug(),
                            locale::LANGUAGES.join(", ")
                        ),
                    ));
                }
                let v = check(value, &format!("{what}.{}", lang.get_ref()), problems);
                out.insert(lang.get_ref().clone(), v);
            }
            out
        };
        let subject = per_lang(&raw.subject, "subject", &mut problems);
        let salutation = per_lang(&raw.salutation, "salutation", &mut problems);
        let closing = per_lang(&raw.closing, "closing", &mut problems);

        let mut sources: Vec<SourceRef> = Vec::new();
        for (i, s) in raw.source.iter().enumerate() {
            let key = s.key.get_ref().clone();
            if !valid_id(&key) {
                problems.push(source.error_at(
                    &s.key.span(),
                    format!(
                        "source key `{}` must be a-z, 0-9 and `-`",
                        key.escape_debug()
                    ),
                ));
            } else if sources.iter().any(|o| o.key == key) {
                problems
                    .push(source.error_at(&s.key.span(), format!("duplicate source key `{key}`")));
            }
            let opt = |v: &Option<Spanned<String>>, what: &str, problems: &mut Problems| {
                v.as_ref().map(|v| {
                    if let Some(why) = unsafe_char(v.get_ref()) {
                        problems.push(
                            source.error_at(&v.span(), format!("source `{key}`: {what} {why}")),
                        );
                    }
                    v.get_ref().clone()
                })
            };
            let title = check(&s.title, &format!("source `{key}`: title"), &mut problems);
            sources.push(SourceRef {
                number: i + 1,
                title,
                publisher: opt(&s.publisher, "publisher", &mut problems),
                date: opt(&s.date, "date", &mut problems),
                url: opt(&s.url, "url", &mut problems),
                key,
            });
        }

        let facts = serde_json::to_value(&raw.facts).unwrap_or(Value::Null);

        // Templates: letter.md.hbs is the default language; letter.<lang>.md.hbs the others.
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.set_prevent_indent(true);
        let keys: Arc<Vec<String>> = Arc::new(sources.iter().map(|s| s.key.clone()).collect());
        registry.register_helper("cite", Box::new(CiteHelper { keys }));
        registry.register_helper("variant", Box::new(VariantHelper));
        let mut templates = BTreeMap::new();
        for (file_name, text) in template_files {
            let middle = file_name
                .strip_prefix("letter.")
                .and_then(|rest| rest.strip_suffix("md.hbs"))
                .map(|m| m.trim_end_matches('.'))
                .unwrap_or_default();
            let lang = if middle.is_empty() {
                language.clone()
            } else {
                middle.to_string()
            };
            let shown_path = shown.join(&file_name);
            if !middle.is_empty() && (!locale::is_supported(&lang) || lang == language) {
                problems.error(&shown_path, None, format!("template for unsupported or duplicate language `{}` (supported: {}; the default language's template is letter.md.hbs)", lang.escape_debug(), locale::LANGUAGES.join(", ")));
                continue;
            }
            let text = match text {
                Ok(t) => t,
                Err(e) => {
                    problems.error(&shown_path, None, format!("cannot read the template: {e}"));
                    continue;
                }
            };
            if let Some((line, column, why)) = forbidden_syntax(&text) {
                problems.error(&shown_path, Some((line, column)), why);
                continue;
            }
            let template_name = shown_path.display().to_string();
            if let Err(e) = registry.register_template_string(&template_name, &text) {
                let reason = e.reason().to_string();
                problems.error(
                    &shown_path,
                    e.pos(),
                    format!("template syntax error: {reason}"),
                );
                continue;
            }
            templates.insert(lang, shown_path);
        }
        let default_file = dir.join(template_file_name(&language, &language));
        if !templates.contains_key(&language) && !default_file.exists() {
            problems.error(
                shown,
                None,
                format!(
                    "no template for the default language `{language}`: expected {}",
                    shown.join("letter.md.hbs").display()
                ),
            );
        }
        for lang in templates.keys() {
            for (map, what) in [
                (&subject, "subject"),
                (&closing, "closing"),
                (&salutation, "salutation"),
            ] {
                if !map.contains_key(lang) {
                    problems.error(
                        &file,
                        None,
                        format!("there is a `{lang}` template but no {what}.{lang} in [{what}]"),
                    );
                }
            }
        }

        let campaign = Campaign {
            name,
            dir: dir.to_path_buf(),
            title,
            language,
            reference,
            deadline,
            copies_to,
            attachments,
            require_note: raw.require_note,
            cc_email: raw.cc_email,
            subject,
            salutation,
            closing,
            facts,
            sources,
            templates,
            file,
            registry,
        };
        problems.into_result(campaign)
    }

    pub fn has_language(&self, lang: &str) -> bool {
        self.templates.contains_key(lang)
    }

    /// Renders the body template for `lang` with `data`. A Markdown string comes back, with
    /// every cited source as a footnote reference `[^src-<key>]`.
    pub fn render_body(&self, lang: &str, data: &Value) -> Result<String, Diagnostic> {
        let template = self.templates.get(lang).ok_or_else(|| {
            Diagnostic::error(
                &self.dir,
                None,
                format!("no template for language `{lang}`"),
            )
        })?;
        let name = template.display().to_string();
        self.registry
            .render(&name, data)
            .map_err(|e| render_diagnostic(template, &e))
    }
}

/// Partials and decorators let a template pull in other templates, and two templates that
/// include each other recurse until the stack overflows. A letter needs neither, so both
/// are refused with their position.
fn forbidden_syntax(text: &str) -> Option<(usize, usize, String)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("{{") {
        let start = from + i;
        let rest =
            text[start + 2..].trim_start_matches(['{', '~', '#', '^', ' ', '\t', '\n', '\r']);
        let what = if rest.starts_with('>') {
            Some("partials (`{{> name}}`) are not supported: a letter is one template per language")
        } else if rest.starts_with('*') {
            Some("decorators and inline partials (`{{#*inline}}`) are not supported")
        } else {
            None
        };
        if let Some(why) = what {
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let column = before[before.rfind('\n').map_or(0, |n| n + 1)..]
                .chars()
                .count()
                + 1;
            return Some((line, column, why.to_string()));
        }
        from = start + 2;
    }
    None
}

fn render_diagnostic(template: &Path, e: &RenderError) -> Diagnostic {
    let position = e.line_no.map(|l| (l, e.column_no.unwrap_or(1)));
    let reason = match e.reason() {
        RenderErrorReason::MissingVariable(Some(path)) => {
            format!("variable `{path}` does not exist (strict mode: nothing is left blank)")
        }
        other => other.to_string(),
    };
    Diagnostic::error(template, position, reason)
}

/// `{{variant "phrasing one" "phrasing two" ...}}`: one of several phrasings, chosen by a
/// hash of (signatory, recipient, the phrasings), so the same letter always gets the same
/// phrasing and different signatories get an even spread.
struct VariantHelper;

/// Which of `n` variants the letter from `signer` to `recipient` gets.
pub fn variant_index(signer: &str, recipient: &str, options: &[&str]) -> usize {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [signer, recipient].iter().chain(options) {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(first) % options.len().max(1) as u64) as usize
}

impl handlebars::HelperDef for VariantHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let mut options = Vec::new();
        for p in h.params() {
            match p.value().as_str() {
                Some(s) => options.push(s),
                None => {
                    return Err(RenderErrorReason::Other(
                        "variant takes quoted phrasings, like {{variant \"I ask you\" \"I urge you\"}}".into(),
                    )
                    .into());
                }
            }
        }
        if options.len() < 2 {
            return Err(RenderErrorReason::Other(
                "variant needs at least two phrasings to choose from".into(),
            )
            .into());
        }
        let data = ctx.data();
        let signer = data["sender"]["id"]
            .as_str()
            .or_else(|| data["sender"]["name"].as_str())
            .unwrap_or_default();
        let recipient = data["recipient"]["id"].as_str().unwrap_or_default();
        out.write(options[variant_index(signer, recipient, &options)])?;
        Ok(())
    }
}

/// The prefix that marks a footnote as a campaign source.
pub const SOURCE_NOTE_PREFIX: &str = "src-";

/// `{{cite "key"}}`: a footnote marker for a campaign source.
struct CiteHelper {
    keys: Arc<Vec<String>>,
}

impl handlebars::HelperDef for CiteHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key = h.param(0).and_then(|p| p.value().as_str()).ok_or_else(|| {
            RenderErrorReason::Other("cite needs a source key, like {{cite \"hrw-2013\"}}".into())
        })?;
        if !self.keys.iter().any(|k| k == key) {
            let known = if self.keys.is_empty() {
                "none".to_string()
            } else {
                self.keys.join(", ")
            };
            return Err(RenderErrorReason::Other(format!(
                "unknown source `{key}` in cite; campaign.toml defines: {known}"
            ))
            .into());
        }
        out.write(&format!("[^{SOURCE_NOTE_PREFIX}{key}]"))?;
        Ok(())
    }
}

impl Campaign {
    /// The campaign directory as shown in messages.
    pub fn dir_shown(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_and_decorators_are_refused() {
        assert_eq!(forbidden_syntax("Hello {{name}}"), None);
        assert_eq!(
            forbidden_syntax("a\nb {{> other}}").map(|(l, c, _)| (l, c)),
            Some((2, 3))
        );
        assert!(forbidden_syntax("{{~#> layout}}x{{/layout}}").is_some());
        assert!(forbidden_syntax("{{#*inline \"a\"}}{{/inline}}").is_some());
    }

    #[test]
    fn variants_are_stable_and_evenly_spread() {
        let options = ["one", "two", "three"];
        assert_eq!(
            variant_index("anna", "president", &options),
            variant_index("anna", "president", &options)
        );
        let mut counts = [0usize; 3];
        for i in 0..3000 {
            counts[variant_index(&format!("signatory-{i}"), "president", &options)] += 1;
        }
        for c in counts {
            assert!((900..=1100).contains(&c), "uneven spread: {counts:?}");
        }
    }
}
