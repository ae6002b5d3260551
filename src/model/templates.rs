//! The Handlebars side of a campaign: the registry in strict mode, the `cite` and `variant`
//! helpers, the template syntax a letter may not use, and render errors as located problems.

use std::path::Path;
use std::sync::Arc;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};

use crate::diag::{Diagnostic, Problems, line_column, offset_of};
use crate::model::tags;

/// The prefix that marks a footnote as a campaign source.
pub const SOURCE_NOTE_PREFIX: &str = "src-";

/// Blocks nested deeper than this are refused before Handlebars parses them (its parser
/// recurses once a level, and thousands of levels overflow the stack).
pub const MAX_BLOCK_DEPTH: usize = 64;

/// A registry for one campaign: strict (nothing is left blank), every `{{value}}` inserted as
/// literal text ([`literal_markdown`]; `{{{value}}}` inserts a campaign's own Markdown as is),
/// no re-indenting, and `cite` knowing the campaign's source keys.
pub(crate) fn registry(source_keys: Vec<String>) -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(literal_markdown);
    registry.set_prevent_indent(true);
    let keys = Arc::new(source_keys);
    registry.register_helper("cite", Box::new(CiteHelper { keys }));
    registry.register_helper("variant", Box::new(VariantHelper));
    registry
}

/// `value` as literal text in Markdown: every ASCII punctuation character backslash-escaped
/// (CommonMark lets any be, and shows it as itself), white space at the start of a line
/// dropped (four spaces would start a code block) and CR LF made LF. So a value from a
/// signatory, a flag or recipients.toml can open no comment, code block, heading, list, link
/// or footnote, and cannot end the letter; it reads exactly as typed.
pub fn literal_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 8);
    let mut line_start = true;
    for c in value.chars() {
        if c == '\r' || (line_start && (c == ' ' || c == '\t')) {
            continue;
        }
        line_start = c == '\n';
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Compiles one template file's text under the name it is shown by. A refused or broken
/// template is reported with its position and `false` comes back.
pub(crate) fn register(
    registry: &mut Handlebars<'static>,
    shown_path: &Path,
    text: &str,
    problems: &mut Problems,
) -> bool {
    if let Some((offset, why)) = forbidden_syntax(text) {
        problems.error(shown_path, Some(line_column(text, offset)), why);
        return false;
    }
    let template_name = shown_path.display().to_string();
    if let Err(e) = registry.register_template_string(&template_name, text) {
        problems.push(syntax_diagnostic(shown_path, text, &e));
        return false;
    }
    true
}

/// Why Handlebars refused `text`, in the author's terms. Its own message is a list of parser
/// rules at the place it gave up (for a block left open, the end of the file), so the tags are
/// read again to name the block left open, the stray closing tag or the `{{` that never ends.
fn syntax_diagnostic(shown_path: &Path, text: &str, e: &handlebars::TemplateError) -> Diagnostic {
    let line_of = |offset| line_column(text, offset).0;
    if let Some(fault) = tags::structure_fault(text, line_of) {
        return Diagnostic::error(
            shown_path,
            Some(line_column(text, fault.offset)),
            fault.message,
        );
    }
    let reason = e.reason().to_string();
    if reason.starts_with("invalid handlebars syntax") {
        // The parser's list of rules helps no one; the tag it stopped in does.
        let near = e
            .pos()
            .and_then(|(line, column)| tags::tag_near(text, offset_of(text, line, column)));
        if let Some((start, tag)) = near {
            return Diagnostic::error(
                shown_path,
                Some(line_column(text, start)),
                format!("`{tag}` is not valid Handlebars syntax"),
            );
        }
        return Diagnostic::error(shown_path, e.pos(), "not valid Handlebars syntax");
    }
    Diagnostic::error(
        shown_path,
        e.pos(),
        format!("template syntax error: {reason}"),
    )
}

/// Partials and decorators let a template pull in other templates, and two templates that
/// include each other recurse until the stack overflows. A letter needs neither, so both
/// are refused with their offset.
fn forbidden_syntax(text: &str) -> Option<(usize, String)> {
    // A template whose tags cannot be read is reported by compiling it.
    let found = tags::scan(text).ok()?;
    let mut depth = 0usize;
    for tag in &found {
        match tag.kind {
            tags::Kind::Open { .. } => depth += 1,
            tags::Kind::Close { .. } => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_BLOCK_DEPTH {
            return Some((
                tag.start,
                format!("blocks are nested more than {MAX_BLOCK_DEPTH} deep here"),
            ));
        }
    }
    found.iter().find_map(|tag| {
        let why = match tag.kind {
            tags::Kind::Partial => {
                "partials (`{{> name}}`) are not supported: a letter is one template per language"
            }
            tags::Kind::Decorator => {
                "decorators and inline partials (`{{#*inline}}`) are not supported"
            }
            _ => return None,
        };
        Some((tag.start, why.to_string()))
    })
}

/// A render error as a problem located in `template`.
pub(crate) fn render_diagnostic(template: &Path, e: &RenderError) -> Diagnostic {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_and_decorators_are_refused() {
        assert_eq!(forbidden_syntax("Hello {{name}}"), None);
        assert_eq!(
            forbidden_syntax("a\nb {{> other}}").map(|(offset, _)| offset),
            Some(4)
        );
        assert_eq!(forbidden_syntax("{{!-- {{> in a comment}} --}}"), None);
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
