//! `appeal pdf`: lay out every letter, check the font draws every character, then write one PDF
//! per letter atomically (temp file + rename), never through a symbolic link.

use std::io::{StdoutLock, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::ProgressBar;
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
    let checked = check_letters(config, &family, &mut problems)?;
    if problems.has_errors() {
        print_problems(&problems, false);
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    if !checked.missing.is_empty() {
        report_missing(&checked.missing);
        return Ok(Exit::Invalid);
    }
    prepare_dir(out, true)?;
    checked.targets?;
    if combined {
        check_target(out, COMBINED.trim_end_matches(".pdf"))?;
    }

    // Pass 2: lay out, write.
    let maker = PdfMaker::with_family(config, family);
    let mut writing = Writing::new(config, &maker, combined, checked.count);
    writing.letters(config, checked.kept)?;
    if combined && let Some(first) = writing.first.take() {
        let pages = std::mem::take(&mut writing.all_pages);
        write_combined(config, &maker, pages, &first, &mut writing.stdout)?;
    }
    if !config.quiet {
        writing.closing_line()?;
    }
    Ok(Exit::Success)
}

/// What pass 1 found.
struct Checked {
    /// Letters in the run.
    count: usize,
    /// One message per character the font cannot draw.
    missing: Vec<String>,
    /// The first target path that cannot be written, if any.
    targets: Result<()>,
    /// The letters themselves, when the run is small enough to keep for pass 2.
    kept: Option<Vec<Letter>>,
}

/// Pass 1: renders every letter and checks its characters against the font and its target
/// path, writing nothing.
fn check_letters(config: &Config, family: &Family, problems: &mut Problems) -> Result<Checked> {
    let mut checked = Checked {
        count: 0,
        missing: Vec::new(),
        targets: Ok(()),
        // A small run keeps its letters for pass 2 instead of rendering them again.
        kept: Some(Vec::new()),
    };
    crate::letter::run::for_each_chunk(config, problems, |chunk| {
        checked.count += chunk.len();
        let found: Vec<Vec<String>> = chunk
            .par_iter()
            .map(|l| missing_glyphs(family, l))
            .collect();
        checked.missing.extend(found.into_iter().flatten());
        for l in &chunk {
            if checked.targets.is_err() {
                break;
            }
            checked.targets = check_target(&config.out_dir, &l.key.file_stem());
        }
        match &mut checked.kept {
            Some(k) if k.len() + chunk.len() <= KEEP_LETTERS => k.extend(chunk),
            _ => checked.kept = None,
        }
        Ok(())
    })?;
    Ok(checked)
}

/// The first 50 characters the font cannot draw, and how many there are in all.
fn report_missing(missing: &[String]) {
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
}

/// Pass 2: writes the letters a chunk at a time, listing each file, and keeps the pages for
/// the `--combined` file.
struct Writing<'a> {
    out: &'a Path,
    maker: &'a PdfMaker,
    combined: bool,
    list_files: bool,
    progress: ProgressBar,
    stdout: StdoutLock<'static>,
    written: usize,
    bytes_total: usize,
    /// Every letter's pages, and the first letter (for the metadata), with `--combined`.
    all_pages: Vec<Laid>,
    first: Option<Letter>,
}

impl<'a> Writing<'a> {
    fn new(config: &'a Config, maker: &'a PdfMaker, combined: bool, count: usize) -> Writing<'a> {
        Writing {
            out: &config.out_dir,
            maker,
            combined,
            list_files: !config.quiet && config.signatories.is_none(),
            progress: progress(config.quiet, count as u64, "writing PDFs"),
            stdout: std::io::stdout().lock(),
            written: 0,
            bytes_total: 0,
            all_pages: Vec::new(),
            first: None,
        }
    }

    /// Every letter: the ones pass 1 kept, or else the run rendered again, chunk by chunk.
    fn letters(&mut self, config: &Config, kept: Option<Vec<Letter>>) -> Result<()> {
        match kept {
            Some(letters) => {
                let per_chunk = crate::letter::run::CHUNK_SENDERS * config.recipients.len().max(1);
                let mut letters = letters.into_iter().peekable();
                while letters.peek().is_some() {
                    self.chunk(letters.by_ref().take(per_chunk).collect())?;
                }
            }
            None => {
                crate::letter::run::for_each_chunk(config, &mut Problems::default(), |letters| {
                    self.chunk(letters)
                })?
            }
        }
        self.progress.finish_and_clear();
        Ok(())
    }

    /// Makes a chunk's PDFs, writes them in parallel, then lists them in order.
    fn chunk(&mut self, letters: Vec<Letter>) -> Result<()> {
        let refs: Vec<&Letter> = letters.iter().collect();
        let (laid, pdfs) = self.maker.make_chunk(&refs)?;
        let out = self.out;
        let results: Vec<Result<(PathBuf, usize, usize)>> = letters
            .par_iter()
            .zip(&laid)
            .zip(pdfs)
            .map(|((l, d), bytes)| {
                let bytes = bytes?;
                let path = out.join(format!("{}.pdf", l.key.file_stem()));
                write_letter(out, &path, &bytes)?;
                Ok((path, d.pages.len(), bytes.len()))
            })
            .collect();
        for r in results {
            let (path, pages, size) = r?;
            self.written += 1;
            self.bytes_total += size;
            if self.list_files {
                writeln!(
                    self.stdout,
                    "wrote {} ({pages} page{}, {} KB)",
                    path.display(),
                    plural(pages),
                    size.div_ceil(1024)
                )?;
            }
        }
        self.progress.inc(letters.len() as u64);
        if self.combined {
            if self.first.is_none() {
                self.first = letters.first().cloned();
            }
            self.all_pages.extend(laid);
        }
        Ok(())
    }

    /// How many letters went where, and what to do with them.
    fn closing_line(&mut self) -> Result<()> {
        writeln!(
            self.stdout,
            "appeal: {} letter{} written to {} ({} KB in all); print, sign and post them",
            self.written,
            plural(self.written),
            self.out.display(),
            self.bytes_total.div_ceil(1024)
        )?;
        Ok(())
    }
}

/// One letter's PDF at `path`, its folder under `out` made first if it has one of its own.
fn write_letter(out: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent()
        && parent != out
    {
        prepare_dir(parent, false)?;
    }
    write_atomic(path, bytes)
}

/// The `--combined` file: every letter's pages in order, for printing.
fn write_combined(
    config: &Config,
    maker: &PdfMaker,
    letters: Vec<Laid>,
    first: &Letter,
    stdout: &mut impl Write,
) -> Result<()> {
    let all = Laid {
        width: letters[0].width,
        height: letters[0].height,
        pages: letters.into_iter().flat_map(|d| d.pages).collect(),
    };
    let bytes = maker.combined(&all, first)?;
    let path = config.out_dir.join(COMBINED);
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
    Ok(())
}
