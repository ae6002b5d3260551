//! `appeal check`: every problem of the campaign at once, nothing written.

pub mod bounced;
pub mod imap;
pub mod lint;

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;

use crate::cli::Common;
use crate::config::{self, Config};
use crate::diag::{Diagnostic, Problems};
use crate::exit::Exit;
use crate::model::sender::Sender;
use crate::paper::maker::missing_glyphs;
use crate::term::{plural, print_problems, summary};

/// Loads the campaign and renders every letter, reporting every problem at once: errors and
/// warnings from the files, lint of each letter (length, window, glyphs), every template
/// language (also those no selected recipient reads), and `[smtp]`.
pub fn run(common: &Common) -> Result<Exit> {
    let config = match config::load(common) {
        Ok(c) => c,
        Err(problems) => {
            print_problems(&problems, false);
            summary(&problems);
            return Ok(Exit::Invalid);
        }
    };
    let mut problems = config.warnings.clone();
    problems.extend(config.sender_warnings.clone());
    let mut count = 0usize;
    let mut similarity = lint::Similarity::default();
    let mut letter_lint = Problems::default();
    let mut first_sender: Option<Sender> = None;
    let family = crate::paper::fonts::Family::for_config(&config)?;
    let header_check = crate::email::message::HeaderCheck::new(&config);
    crate::letter::run::for_each_chunk(&config, &mut problems, |chunk| {
        count += chunk.len();
        for l in &chunk {
            first_sender.get_or_insert_with(|| l.sender.clone());
            similarity.add(l);
            lint::lint_letter(&config, l, &mut letter_lint);
            lint::lint_print(&config, &family, l, &mut letter_lint);
            if let Some(message) = header_check.problem(l) {
                letter_lint.push(Diagnostic::error(&config.campaign.file, None, message));
            }
            for message in missing_glyphs(&family, l) {
                letter_lint.push(Diagnostic::error(&config.campaign.file, None, message));
            }
        }
        Ok(())
    })?;
    let sender = first_sender.unwrap_or_else(|| config.sender.clone());
    render_unread_languages(&config, &sender, &family, &mut letter_lint);
    let mut collector = crate::letter::run::Collector::new(&mut problems);
    for d in letter_lint.items {
        collector.push(d);
    }
    lint::lint_campaign(&config, &mut problems);
    check_smtp(&config, &mut problems);
    bounced::check(&config, &mut problems);
    imap::check(&config, &mut problems);
    similarity.finish(&config, &mut problems);
    print_problems(&problems, config.quiet);
    if problems.has_errors() {
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    if !config.quiet {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "ok: {count} letter{} render cleanly ({} warning{})",
            plural(count),
            problems.warnings(),
            plural(problems.warnings())
        )?;
    }
    Ok(Exit::Success)
}

/// Every template is rendered, not only those of the languages this run writes in: a broken
/// `letter.kk.md.hbs` must not wait for the first Kazakh recipient. Each language no letter
/// of the run uses is rendered for the first selected recipient, signed by the run's first
/// sender, with that language forced.
fn render_unread_languages(
    config: &Config,
    sender: &Sender,
    family: &crate::paper::fonts::Family,
    problems: &mut Problems,
) {
    let Some(recipient) = config.recipients.first() else {
        return;
    };
    let written: BTreeSet<String> = config
        .recipients
        .iter()
        .map(|r| config.language_for(r))
        .collect();
    let today = config.now.date();
    for lang in config.campaign.templates.keys() {
        if written.contains(lang) {
            continue;
        }
        match crate::letter::build(&config.campaign, recipient, sender, lang, today) {
            Ok(l) => {
                for message in missing_glyphs(family, &l) {
                    problems.push(Diagnostic::error(&config.campaign.file, None, message));
                }
            }
            Err(d) => problems.push(d),
        }
    }
}

/// SMTP settings are checked here too (never the password: check runs no command).
fn check_smtp(config: &Config, problems: &mut Problems) {
    let Some(raw) = &config.settings.raw.smtp else {
        return;
    };
    let Err(e) = crate::email::smtp::resolve(
        &crate::email::smtp::SmtpFlags::default(),
        Some(raw),
        &config.root,
    ) else {
        return;
    };
    let source = config.settings.source.as_ref();
    let path = source.map_or_else(|| config.root.join("appeal.toml"), |s| s.path.clone());
    let position = raw
        .url
        .as_ref()
        .and_then(|u| source.map(|s| s.span_position(&u.span())));
    problems.push(Diagnostic::error(&path, position, format!("[smtp]: {e:#}")));
}
