//! `appeal pdf`: lay out every letter, check the font draws every character, then write one PDF
//! per letter atomically (temp file + rename), never through a symbolic link.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::app::{plural, print_problems, summary};
use crate::config::Config;
use crate::diag::Problems;
use crate::exit::Exit;
use crate::fonts::{Family, describe};
use crate::layout::{Laid, layout};
use crate::letter::Letter;
use crate::pdf::{Meta, Writer};

/// Up to this many letters, pass 1 keeps them for pass 2 (about 10 KB each).
const KEEP_LETTERS: usize = 2_000;

/// The file every letter of a `--combined` run also goes into.
pub const COMBINED: &str = "all.pdf";

/// Writes every letter as a PDF. Two passes over the (streamed) letters: the first renders
/// each one and checks every character against the font and every target path, writing
/// nothing; the second lays out, subsets the font once per chunk and language, and writes.
/// Memory stays flat however many signatories there are (except with `--combined`, which
/// must hold every page).
pub fn pdf(config: &Config, combined: bool) -> Result<Exit> {
    let family = Family::load(config.font.as_deref())?;
    let out = &config.out_dir;

    // Pass 1: nothing is written unless every letter can be.
    let mut problems = Problems::default();
    let mut missing: Vec<String> = Vec::new();
    let mut count = 0usize;
    let mut targets_ok: Result<()> = Ok(());
    // A small run keeps its letters for pass 2 instead of rendering them again.
    let mut kept: Option<Vec<Letter>> = Some(Vec::new());
    crate::batch::for_each_chunk(config, &mut problems, |chunk| {
        count += chunk.len();
        let found: Vec<Vec<String>> = chunk
            .par_iter()
            .map(|l| {
                family
                    .missing_in(&drawn_text(l))
                    .into_iter()
                    .map(|c| format!("{}: the font has no glyph for {}", who(l), describe(c)))
                    .collect()
            })
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
    let progress = crate::batch::progress(config, count as u64, "writing PDFs");
    let signature = config.sender.signature.as_deref();
    let created = config.now.timestamp().as_second();
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
            let per_chunk = crate::batch::CHUNK_SENDERS * config.recipients.len().max(1);
            let mut letters = letters.into_iter().peekable();
            while letters.peek().is_some() {
                write_chunk(letters.by_ref().take(per_chunk).collect())?;
            }
        }
        None => crate::batch::for_each_chunk(config, &mut Problems::default(), write_chunk)?,
    }
    progress.finish_and_clear();

    if combined && let Some(first) = &first {
        let all = Laid {
            width: all_pages[0].width,
            height: all_pages[0].height,
            pages: all_pages.into_iter().flat_map(|d| d.pages).collect(),
        };
        let meta = Meta {
            title: &first.title,
            author: &first.sender.name,
            subject: &first.title,
            language: &first.language,
            created,
        };
        let writer = Writer::prepare(&maker.family, [&all], signature)?;
        let bytes = writer.write(&all, &meta)?;
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

/// One letter's PDF, or why it could not be made.
pub type Pdf = Result<Vec<u8>>;

/// Makes the PDFs of letters a chunk at a time: laid out in parallel, the font subset once per
/// chunk and language (a Russian letter need not carry Kazakh), then written in parallel.
pub struct PdfMaker {
    family: Family,
    paper: crate::cli::Paper,
    signature: Option<PathBuf>,
    created: i64,
}

impl PdfMaker {
    pub fn new(config: &Config) -> Result<PdfMaker> {
        Ok(Self::with_family(
            config,
            Family::load(config.font.as_deref())?,
        ))
    }

    fn with_family(config: &Config, family: Family) -> PdfMaker {
        PdfMaker {
            family,
            paper: config.paper,
            signature: config.sender.signature.clone(),
            created: config.now.timestamp().as_second(),
        }
    }

    /// The first character of the letter the font cannot draw, as an error naming it.
    pub fn check(&self, l: &Letter) -> Result<()> {
        match self.family.missing_in(&drawn_text(l)).first() {
            Some(c) => bail!("{}: the font has no glyph for {}", who(l), describe(*c)),
            None => Ok(()),
        }
    }

    /// Each letter's layout and PDF, in order. Every character must have a glyph (see
    /// [`PdfMaker::check`]); an `Err` for the whole chunk means no font could be prepared.
    pub fn make_chunk(&self, letters: &[&Letter]) -> Result<(Vec<Laid>, Vec<Pdf>)> {
        let laid: Vec<Laid> = letters
            .par_iter()
            .map(|l| layout(l, self.paper, &self.family))
            .collect();
        let mut writers: BTreeMap<&str, Writer> = BTreeMap::new();
        let languages: BTreeSet<&str> = letters.iter().map(|l| l.language.as_str()).collect();
        for lang in languages {
            let docs = letters
                .iter()
                .zip(&laid)
                .filter(|(l, _)| l.language == lang)
                .map(|(_, d)| d);
            writers.insert(
                lang,
                Writer::prepare(&self.family, docs, self.signature.as_deref())?,
            );
        }
        let pdfs = letters
            .par_iter()
            .zip(&laid)
            .map(|(l, d)| {
                writers
                    .get(l.language.as_str())
                    .context("no writer for the letter's language")?
                    .write(d, &meta(l, self.created))
                    .with_context(|| format!("{}: cannot make the PDF", who(l)))
            })
            .collect();
        Ok((laid, pdfs))
    }
}

/// Every character a letter's PDF will draw: its own text and the words the layout adds.
pub fn drawn_text(l: &Letter) -> String {
    let labels = crate::locale::labels(&l.language);
    let mut text = l.all_text();
    for extra in [
        labels.copies,
        labels.notes,
        labels.reference,
        labels.fax,
        labels.from,
        labels.to,
        labels.pages,
    ] {
        text.push_str(extra);
    }
    text.push_str(&crate::locale::page_of(&l.language, 1, 2));
    text.push_str(" •·.:0123456789");
    text
}

/// Refuses a target that is a symlink or a directory, or whose signatory folder is a symlink.
fn check_target(out: &Path, stem: &str) -> Result<()> {
    let path = out.join(format!("{stem}.pdf"));
    if let Some(parent) = path.parent()
        && parent != out
        && fs::symlink_metadata(parent).is_ok_and(|m| m.file_type().is_symlink())
    {
        bail!(
            "{}: refusing to write through a symbolic link; remove it first",
            parent.display()
        );
    }
    if fs::symlink_metadata(out).is_ok_and(|m| !m.is_dir() && !m.file_type().is_symlink()) {
        bail!(
            "{}: the output directory is a file, not a directory",
            out.display()
        );
    }
    refuse_link(&path)
}

pub fn who(l: &Letter) -> String {
    match &l.key.signatory {
        Some(s) => format!("recipient `{}` (signatory `{s}`)", l.key.recipient),
        None => format!("recipient `{}`", l.key.recipient),
    }
}

fn meta(l: &Letter, created: i64) -> Meta<'_> {
    Meta {
        title: &l.title,
        author: &l.sender.name,
        subject: &l.subject,
        language: &l.language,
        created,
    }
}

/// Makes sure `dir` is a directory we may write into, creating it. The output directory the
/// user named may be a link to one; a directory named after an id (`allow_link` false) may not.
fn prepare_dir(dir: &Path, allow_link: bool) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => {
            if !allow_link {
                bail!(
                    "{}: refusing to write through a symbolic link; remove it first",
                    dir.display()
                );
            }
            if !fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
                bail!("{}: not a directory", dir.display());
            }
            Ok(())
        }
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => bail!(
            "{}: the output directory is a file, not a directory",
            dir.display()
        ),
        Err(_) => fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display())),
    }
}

fn refuse_link(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => bail!(
            "{}: refusing to write through a symbolic link; remove it first",
            path.display()
        ),
        Ok(m) if m.is_dir() => bail!("{}: is a directory", path.display()),
        _ => Ok(()),
    }
}

/// Writes `bytes` to a new temp file next to `path`, then renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_parts(path, &[bytes], false)
}

/// Writes `parts`, one after the other, to a new temp file next to `path`, then renames it
/// over `path`, never through a symbolic link. `durable`: the file is on disk before the
/// rename (for a file a ledger is about to record).
pub fn write_parts(path: &Path, parts: &[&[u8]], durable: bool) -> Result<()> {
    refuse_link(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        // create_new: never follow a link or reuse a file someone planted at the temp name.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        for part in parts {
            f.write_all(part)?;
        }
        if durable {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_refuses_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.pdf");
        write_atomic(&p, b"one").expect("write");
        write_atomic(&p, b"two").expect("overwrite");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        let target = dir.path().join("elsewhere");
        fs::write(&target, b"keep").expect("write");
        let link = dir.path().join("b.pdf");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let err = write_atomic(&link, b"x").expect_err("must refuse");
        assert!(format!("{err:#}").contains("symbolic link"));
        assert_eq!(fs::read(&target).expect("read"), b"keep");
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 3);
    }
}
