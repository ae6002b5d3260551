//! A campaign: `campaign.toml` and its letter templates, compiled with Handlebars in strict mode.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use handlebars::Handlebars;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::diag::{Diagnostic, Problems, Source, unsafe_char};
use crate::model::locale::{self, Labels};
use crate::model::recipients::valid_id;
use crate::model::templates::{self, render_diagnostic};
pub use crate::model::templates::{SOURCE_NOTE_PREFIX, variant_index};
use crate::model::toml_errors::{self, toml_error};

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
    /// The words the tool prints, for each language with a template.
    pub labels: BTreeMap<String, Arc<Labels>>,
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
    #[serde(default)]
    labels: locale::RawLabels,
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

/// The fields of `campaign.toml`, each checked.
struct Fields {
    title: String,
    language: String,
    reference: Option<String>,
    deadline: Option<(jiff::civil::Date, (usize, usize))>,
    copies_to: Vec<String>,
    attachments: Vec<PathBuf>,
    subject: BTreeMap<String, String>,
    salutation: BTreeMap<String, String>,
    closing: BTreeMap<String, String>,
    sources: Vec<SourceRef>,
}

/// Checks the values of `campaign.toml`, collecting every problem with its place in the file.
struct Checker<'a> {
    source: &'a Source,
    problems: &'a mut Problems,
}

impl Checker<'_> {
    fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.problems.push(self.source.error_at(span, message));
    }

    /// Every field, in the order its problems are reported.
    fn fields(&mut self, raw: &RawCampaign, dir: &Path) -> Fields {
        let title = self.text(&raw.title, "title");
        let language = self.default_language(&raw.language);
        let reference = raw.reference.as_ref().map(|r| self.text(r, "reference"));
        let copies_to = self.copies_to(&raw.copies_to, raw.cc_email);
        let deadline = raw.deadline.as_ref().and_then(|d| self.deadline(d));
        let attachments = raw
            .attachments
            .iter()
            .map(|a| self.attachment(a, dir))
            .collect();
        Fields {
            title,
            language,
            reference,
            deadline,
            copies_to,
            attachments,
            subject: self.per_language(&raw.subject, "subject"),
            salutation: self.per_language(&raw.salutation, "salutation"),
            closing: self.per_language(&raw.closing, "closing"),
            sources: self.sources(&raw.source),
        }
    }

    /// A one-line value that may reach a header, a file or a printed line.
    fn text(&mut self, value: &Spanned<String>, what: &str) -> String {
        let s = value.get_ref();
        if s.trim().is_empty() {
            self.error(&value.span(), format!("{what} is empty"));
        } else if let Some(why) = unsafe_char(s) {
            self.error(&value.span(), format!("{what} {why}"));
        }
        s.clone()
    }

    fn default_language(&mut self, value: &Spanned<String>) -> String {
        if let Some(why) = locale::tag_problem(value.get_ref()) {
            self.error(&value.span(), format!("language {why}"));
        }
        value.get_ref().clone()
    }

    /// With `cc_email`, each entry is also an address every email is copied to.
    fn copies_to(&mut self, entries: &[Spanned<String>], cc_email: bool) -> Vec<String> {
        let copies_to = entries
            .iter()
            .map(|c| self.text(c, "copies_to entry"))
            .collect();
        if cc_email {
            for c in entries {
                if c.get_ref().parse::<lettre::message::Mailbox>().is_err() {
                    self.error(&c.span(), format!("with cc_email = true, each copies_to entry must be an address like \"Embassy of Kazakhstan <consul@example.org>\", not `{}`", c.get_ref().escape_debug()));
                }
            }
        }
        copies_to
    }

    fn deadline(&mut self, d: &Spanned<RawDate>) -> Option<(jiff::civil::Date, (usize, usize))> {
        let text = match d.get_ref() {
            RawDate::Toml(dt) => dt.to_string(),
            RawDate::Text(t) => t.clone(),
        };
        match text.parse::<jiff::civil::Date>() {
            Ok(date) => Some((date, self.source.span_position(&d.span()))),
            Err(_) => {
                self.error(
                    &d.span(),
                    format!("deadline `{text}` is not a date like 2014-09-30"),
                );
                None
            }
        }
    }

    /// An attachment must be a file inside the campaign directory.
    fn attachment(&mut self, a: &Spanned<String>, dir: &Path) -> PathBuf {
        let rel = Path::new(a.get_ref());
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            self.error(
                &a.span(),
                "attachments must be paths inside the campaign directory",
            );
        } else if !dir.join(rel).is_file() {
            self.error(
                &a.span(),
                format!("attachment `{}` does not exist", rel.display()),
            );
        }
        dir.join(rel)
    }

    /// A table of one text per language, such as `[subject]`.
    fn per_language(
        &mut self,
        map: &BTreeMap<Spanned<String>, Spanned<String>>,
        what: &str,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (lang, value) in map {
            if let Some(why) = locale::tag_problem(lang.get_ref()) {
                self.error(&lang.span(), format!("{what}: {why}"));
            }
            let v = self.text(value, &format!("{what}.{}", lang.get_ref()));
            out.insert(lang.get_ref().clone(), v);
        }
        out
    }

    /// The `[[source]]` entries, numbered in order; keys must be ids and unique.
    fn sources(&mut self, raw: &[RawSource]) -> Vec<SourceRef> {
        let mut sources: Vec<SourceRef> = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let key = s.key.get_ref().clone();
            if !valid_id(&key) {
                self.error(
                    &s.key.span(),
                    format!(
                        "source key `{}` must be a-z, 0-9 and `-`",
                        key.escape_debug()
                    ),
                );
            } else if sources.iter().any(|o| o.key == key) {
                self.error(&s.key.span(), format!("duplicate source key `{key}`"));
            }
            let title = self.text(&s.title, &format!("source `{key}`: title"));
            sources.push(SourceRef {
                number: i + 1,
                title,
                publisher: self.source_detail(&s.publisher, &key, "publisher"),
                date: self.source_detail(&s.date, &key, "date"),
                url: self.source_detail(&s.url, &key, "url"),
                key,
            });
        }
        sources
    }

    fn source_detail(
        &mut self,
        value: &Option<Spanned<String>>,
        key: &str,
        what: &str,
    ) -> Option<String> {
        value.as_ref().map(|v| {
            if let Some(why) = unsafe_char(v.get_ref()) {
                self.error(&v.span(), format!("source `{key}`: {what} {why}"));
            }
            v.get_ref().clone()
        })
    }
}

/// The language a template file is for: `letter.md.hbs` is the default language's,
/// `letter.<lang>.md.hbs` another's (`None` for the default).
fn template_language(file_name: &str) -> Option<&str> {
    let middle = file_name
        .strip_prefix("letter.")
        .and_then(|rest| rest.strip_suffix("md.hbs"))
        .map(|m| m.trim_end_matches('.'))
        .unwrap_or_default();
    (!middle.is_empty()).then_some(middle)
}

/// Compiles every template file into `registry`; the templates that compiled come back,
/// by language, as shown to the user.
fn compile_templates(
    registry: &mut Handlebars<'static>,
    shown: &Path,
    language: &str,
    template_files: Vec<(String, Result<String, String>)>,
    problems: &mut Problems,
) -> BTreeMap<String, PathBuf> {
    let mut compiled = BTreeMap::new();
    for (file_name, text) in template_files {
        let other = template_language(&file_name);
        let lang = other.unwrap_or(language).to_string();
        let shown_path = shown.join(&file_name);
        if other.is_some() {
            let why = if lang == language {
                Some(format!(
                    "`{lang}` is the default language, whose template is letter.md.hbs"
                ))
            } else {
                locale::tag_problem(&lang)
                    .map(|why| format!("{why} (a template is letter.<language tag>.md.hbs)"))
            };
            if let Some(why) = why {
                problems.error(&shown_path, None, why);
                continue;
            }
        }
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                problems.error(&shown_path, None, format!("cannot read the template: {e}"));
                continue;
            }
        };
        if templates::register(registry, &shown_path, &text, problems) {
            compiled.insert(lang, shown_path);
        }
    }
    compiled
}

/// The default language needs a template, and every language with a template needs its
/// subject, closing and salutation.
fn check_template_coverage(
    dir: &Path,
    shown: &Path,
    fields: &Fields,
    templates: &BTreeMap<String, PathBuf>,
    problems: &mut Problems,
) {
    let language = &fields.language;
    let default_file = dir.join(template_file_name(language, language));
    if !templates.contains_key(language) && !default_file.exists() {
        problems.error(
            shown,
            None,
            format!(
                "no template for the default language `{language}`: expected {}",
                shown.join("letter.md.hbs").display()
            ),
        );
    }
    let file = shown.join("campaign.toml");
    for lang in templates.keys() {
        for (map, what) in [
            (&fields.subject, "subject"),
            (&fields.closing, "closing"),
            (&fields.salutation, "salutation"),
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
        let source = Source::new(file.clone(), text);
        let raw: RawCampaign = match toml::from_str(&source.text) {
            Ok(r) => r,
            Err(e) => {
                problems.push(toml_error(&source, &e, toml_errors::CAMPAIGN));
                return Err(problems);
            }
        };
        if !valid_id(&name) {
            problems.error(&file, None, format!("campaign directory name `{}` must be a-z, 0-9 and `-` (it names files and ledger entries)", name.escape_debug()));
        }
        let fields = Checker {
            source: &source,
            problems: &mut problems,
        }
        .fields(&raw, dir);
        let facts = serde_json::to_value(&raw.facts).unwrap_or(Value::Null);
        let keys = fields.sources.iter().map(|s| s.key.clone()).collect();
        let mut registry = templates::registry(keys);
        let templates = compile_templates(
            &mut registry,
            shown,
            &fields.language,
            template_files,
            &mut problems,
        );
        check_template_coverage(dir, shown, &fields, &templates, &mut problems);
        let languages: Vec<&str> = templates.keys().map(String::as_str).collect();
        let labels = locale::campaign_labels(&raw.labels, &source, &languages, &mut problems);

        let campaign = Campaign {
            name,
            dir: dir.to_path_buf(),
            title: fields.title,
            language: fields.language,
            reference: fields.reference,
            deadline: fields.deadline,
            copies_to: fields.copies_to,
            attachments: fields.attachments,
            require_note: raw.require_note,
            cc_email: raw.cc_email,
            subject: fields.subject,
            salutation: fields.salutation,
            closing: fields.closing,
            facts,
            sources: fields.sources,
            templates,
            labels,
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

impl Campaign {
    /// The campaign directory as shown in messages.
    pub fn dir_shown(&self) -> PathBuf {
        self.file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}
