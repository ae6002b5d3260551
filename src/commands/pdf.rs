//! `appeal pdf`: lay out every letter, check the font draws every character, then write one PDF
//! per letter atomically (temp file + rename), never through a symbolic link.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use rayon::prelude::*;

use crate::config::Config;
use crate::diag::Problems;
use crate::exit::Exit;
use crate::files::{check_target, prepare_dir, write_atomic};
use crate::letter::Letter;
use crate::paper::fonts::Family;
use crate::paper::maker::{PdfMaker, missing_glyphs};
use crate::paper::page::Laid;
use crate::term::{plural, print_problems, progress, summary};

/// Up to this many letters, pass 1 keeps them for pass 2 (about 10 KB each).
const KEEP_LETTERS: usize = 2_000;

/// The file every letter of a `--combined` run also goes into.
pub const COMBINED: &str = "all.pdf";

/// Writes every letter as a PDF. Two passes over the (streamed) letters: the first renders
/// each one and checks every character against the font and every target path, writing
/// nothing; the second lays out, subsets the font once per chunk and language, and writes.
/// Memory stays flat however many signatories there are (except with `--combined`, which
/// must hold every page).
pub fn run(config: &Config, combined: bool) -> Result<Exit> {
    let family = Family::load(config.font.as_deref())?;
    let out = &config.out_dir;

    // Pass 1: nothing is written unless every letter can be.
    let mut problems = Problems::default();
    let mut missing: Vec<String> = Vec::new();
    let mut count = 0usize;
    let mut targets_ok: Result<()> = Ok(());
    // A small run keeps its letters for pass 2 instead of rendering them again.
    let mut kept: Option<Vec<Letter>> = Some(Vec::new());
    crate::letter::run::for_each_chunk(config, &mut problems, |chunk| {
        count += chunk.len();
        let found: Vec<Vec<String>> = chunk
            .par_iter()
            .map(|l| missing_glyphs(&family, l))
            .collect();
        missing.extend(found.into_iter().flatten());
        for l in &chunk {
            if targets_ok.is_err() {
                break;
            }
            targets_ok = check_target(out, &l.key.file_stem());
        }
        match &mut kept {
            Some(k) if k.len() + chunk.len() <= KEEP_LETTERS => k.extend(chunk),
            _ => kept = None,
        }
        Ok(())
    })?;
    if problems.has_errors() {
        print_problems(&problems, false);
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    if !missing.is_empty() {
        let mut err = std::io::stderr().lock();
        for m in missing.iter().take(50) {
            let _ = writeln!(err, "error: {m}");
        }
        if missing.len() > 50 {
            let _ = writeln!(err, "error: ... and {} more", missing.len() - 50);
        }
        let _ = writeln!(
            err,
            "appeal: {} character{} the font cannot draw (use --font FILE); nothing was written",
            missing.len(),
            plural(missing.len())
        );
        return Ok(Exit::Invalid);
    }
    prepare_dir(out, true)?;
    targets_ok?;
    if combined {
        check_target(out, COMBINED.trim_end_matches(".pdf"))?;
    }

    // Pass 2: lay out, write.
    let progress = progress(config.quiet, count as u64, "writing PDFs");
    let list_files = !config.quiet && config.signatories.is_none();
    let mut all_pages: Vec<Laid> = Vec::new();
    let mut first: Option<Letter> = None;
    let mut written = 0usize;
    let mut bytes_total = 0usize;
    let mut stdout = std::io::stdout().lock();
    let maker = PdfMaker::with_family(config, family);
    let mut write_chunk = |letters: Vec<Letter>| -> Result<()> {
        let refs: Vec<&Letter> = letters.iter().collect();
        let (laid, pdfs) = maker.make_chunk(&refs)?;
        let results: Vec<Result<(PathBuf, usize, usize)>> = letters
            .par_iter()
            .zip(&laid)
            .zip(pdfs)
            .map(|((l, d), bytes)| {
                let bytes = bytes?;
                let path = out.join(format!("{}.pdf", l.key.file_stem()));
                if let Some(parent) = path.parent()
                    && parent != out.as_path()
                {
                    prepare_dir(parent, false)?;
                }
                write_atomic(&path, &bytes)?;
                Ok((path, d.pages.len(), bytes.len()))
            })
            .collect();
        for r in results {
            let (path, pages, size) = r?;
            written += 1;
            bytes_total += size;
            if list_files {
                writeln!(
                    stdout,
                    "wrote {} ({pages} page{}, {} KB)",
                    path.display(),
                    plural(pages),
                    size.div_ceil(1024)
                )?;
            }
        }
        progress.inc(letters.len() as u64);
        if combined {
            if first.is_none() {
                first = letters.first().cloned();
            }
            all_pages.extend(laid);
        }
        Ok(())
    };
    match kept {
        Some(letters) => {
            let per_chunk = crate::letter::run::CHUNK_SENDERS * config.recipients.len().max(1);
            let mut letters = letters.into_iter().peekable();
            while letters.peek().is_some() {
                write_chunk(letters.by_ref().take(per_chunk).collect())?;
            }
        }
        None => crate::letter::run::for_each_chunk(config, &mut Problems::default(), write_chunk)?,
    }
    progress.finish_and_clear();

    if combined && let Some(first) = &first {
        let all = Laid {
            width: all_pages[0].width,
            height: all_pages[0].height,
            pages: all_pages.into_iter().flat_map(|d| d.pages).collect(),
        };
        let bytes = maker.combined(&all, first)?;
        let path = out.join(COMBINED);
        write_atomic(&path, &bytes)?;
        if !config.quiet {
            writeln!(
                stdout,
                "wrote {} ({} page{}, every letter in order, for printing)",
                path.display(),
                all.pages.len(),
                plural(all.pages.len())
            )?;
        }
    }
    if !config.quiet {
        writeln!(
            stdout,
            "appeal: {written} letter{} written to {} ({} KB in all); print, sign and post them",
            plural(written),
            out.display(),
            bytes_total.div_ceil(1024)
        )?;
    }
    Ok(Exit::Success)
}
