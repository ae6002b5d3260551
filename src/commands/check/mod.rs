//! `appeal check`: every problem of the campaign at once, nothing written.

pub mod lint;

use std::io::Write;

use anyhow::Result;

use crate::cli::Common;
use crate::config;
use crate::diag::{Diagnostic, Problems};
use crate::exit::Exit;
use crate::paper::maker::missing_glyphs;
use crate::term::{plural, print_problems, summary};

/// Loads the campaign and renders every letter, reporting every problem at once: errors and
/// warnings from the files, lint of each letter (length, window, glyphs), and `[smtp]`.
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
    let mut count = 0usize;
    let mut similarity = lint::Similarity::default();
    let mut letter_lint = Problems::default();
    let family = crate::paper::fonts::Family::load(config.font.as_deref())?;
    let header_check = crate::email::message::HeaderCheck::new(&config);
    crate::letter::run::for_each_chunk(&config, &mut problems, |chunk| {
        count += chunk.len();
        for l in &chunk {
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
    let mut collector = crate::letter::run::Collector::new(&mut problems);
    for d in letter_lint.items {
        collector.push(d);
    }
    lint::lint_campaign(&config, &mut problems);
    // SMTP settings are checked here too (never the password: check runs no command).
    if let Some(raw) = &config.settings.raw.smtp
        && let Err(e) = crate::email::smtp::resolve(
            &crate::email::smtp::SmtpFlags::default(),
            Some(raw),
            &config.root,
        )
    {
        let path = config
            .settings
            .source
            .as_ref()
            .map_or_else(|| config.root.join("appeal.toml"), |s| s.path.clone());
        let position = raw.url.as_ref().and_then(|u| {
            config
                .settings
                .source
                .as_ref()
                .map(|s| s.span_position(&u.span()))
        });
        problems.push(crate::diag::Diagnostic::error(
            &path,
            position,
            format!("[smtp]: {e:#}"),
        ));
    }
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
