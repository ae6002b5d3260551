//! `appeal pdf`: lay out every letter, check the font draws every character, then write one PDF
//! per letter atomically (temp file + rename), never through a symbolic link.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::app::{plural, print_problems, render_all, summary};
use crate::config::Config;
use crate::diag::Problems;
use crate::exit::Exit;
use crate::fonts::{Family, describe};
use crate::layout::{Laid, layout};
use crate::letter::Letter;
use crate::pdf::{Meta, Writer};

/// The file every letter of a `--combined` run also goes into.
pub const COMBINED: &str = "all.pdf";

pub fn pdf(config: &Config, combined: bool) -> Result<Exit> {
    let mut problems = Problems::default();
    let letters = render_all(config, &mut problems);
    if problems.has_errors() {
        print_problems(&problems, false);
        summary(&problems);
        return Ok(Exit::Invalid);
    }
    let family = Family::load(config.font.as_deref())?;
    let laid: Vec<Laid> = letters
        .par_iter()
        .map(|l| layout(l, config.paper, &family))
        .collect();

    // Every character against the font before anything is written.
    let mut missing = Vec::new();
    for (letter, doc) in letters.iter().zip(&laid) {
        for c in family.missing(doc) {
            missing.push(format!(
                "{}: the font has no glyph for {}",
                who(letter),
                describe(c)
            ));
        }
    }
    if !missing.is_empty() {
        let mut err = std::io::stderr().lock();
        for m in &missing {
            let _ = writeln!(err, "error: {m}");
        }
        let _ = writeln!(
            err,
            "appeal: {} character{} the font cannot draw (use --font FILE); nothing was written",
            missing.len(),
            plural(missing.len())
        );
        return Ok(Exit::Invalid);
    }

    // One font subset per language: a Russian letter need not carry the Kazakh letters.
    let signature = config.sender.signature.as_deref();
    let mut writers: BTreeMap<&str, Writer> = BTreeMap::new();
    let languages: BTreeSet<&str> = letters.iter().map(|l| l.language.as_str()).collect();
    for lang in languages {
        let docs = letters
            .iter()
            .zip(&laid)
            .filter(|(l, _)| l.language == lang)
            .map(|(_, d)| d);
        writers.insert(lang, Writer::prepare(&family, docs, signature)?);
    }
    let created = config.now.timestamp().as_second();
    let bytes: Vec<Result<Vec<u8>>> = letters
        .par_iter()
        .zip(&laid)
        .map(|(l, d)| {
            writers
                .get(l.language.as_str())
                .context("no writer for the letter's language")?
                .write(d, &meta(l, created))
                .with_context(|| format!("{}: cannot make the PDF", who(l)))
        })
        .collect();
    let mut files: Vec<(PathBuf, usize, Vec<u8>)> = Vec::with_capacity(letters.len() + 1);
    for ((l, d), b) in letters.iter().zip(&laid).zip(bytes) {
        files.push((
            PathBuf::from(format!("{}.pdf", l.key.file_stem())),
            d.pages.len(),
            b?,
        ));
    }
    if combined && let Some(first) = letters.first() {
        let all = Laid {
            width: laid[0].width,
            height: laid[0].height,
            pages: laid.iter().flat_map(|d| d.pages.iter().cloned()).collect(),
        };
        let meta = Meta {
            title: &first.title,
            author: &first.sender.name,
            subject: &first.title,
            language: &first.language,
            created,
        };
        let pages = all.pages.len();
        let writer = Writer::prepare(&family, [&all], signature)?;
        files.push((PathBuf::from(COMBINED), pages, writer.write(&all, &meta)?));
    }

    // Check every target first, so a refused one stops the run before anything is written.
    let out = &config.out_dir;
    prepare_dir(out, true)?;
    for (rel, _, _) in &files {
        let path = out.join(rel);
        if let Some(parent) = path.parent()
            && parent != out.as_path()
        {
            prepare_dir(parent, false)?;
        }
        refuse_link(&path)?;
    }
    files
        .par_iter()
        .map(|(rel, _, b)| write_atomic(&out.join(rel), b))
        .collect::<Result<Vec<()>>>()?;

    if !config.quiet {
        let mut stdout = std::io::stdout().lock();
        for (rel, pages, b) in &files {
            writeln!(
                stdout,
                "wrote {} ({pages} page{}, {} KB)",
                out.join(rel).display(),
                plural(*pages),
                b.len().div_ceil(1024)
            )?;
        }
        writeln!(
            stdout,
            "appeal: {} letter{} written to {}{}; print, sign and post them",
            letters.len(),
            plural(letters.len()),
            out.display(),
            if combined {
                format!(" (every letter also in {COMBINED})")
            } else {
                String::new()
            }
        )?;
    }
    Ok(Exit::Success)
}

fn who(l: &Letter) -> String {
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
        f.write_all(bytes)?;
        f.flush()?;
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
