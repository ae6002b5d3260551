//! `appeal pdf`: lay out every letter, check the font draws every character, then write one PDF
//! per letter atomically (temp file + rename), never through a symbolic link. The letters that
//! go by post or fax are recorded in the ledger as written, as `send` records them, and only
//! they go into `all.pdf`; the PDF of an email letter is a preview of its attachment.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rayon::prelude::*;

use crate::commands::remembered;
use crate::commands::send::lock::CampaignLock;
use crate::commands::send::record::letter_hash;
use crate::config::Config;
use crate::diag::Problems;
use crate::exit::Exit;
use crate::files::{check_folders, prepare_dir, write_atomic};
use crate::ledger::{self, Key, Ledger, State};
use crate::letter::Letter;
use crate::letter::plan::{self, Delivery};
use crate::paper::fonts::Family;
use crate::paper::maker::{PdfMaker, missing_glyphs};
use crate::paper::page::Laid;
use crate::term::{plural, print_problems, progress, summary, table};

/// Up to this many letters, pass 1 keeps them for pass 2 (about 10 KB each).
const KEEP_LETTERS: usize = 2_000;

/// Up to this many letters, every file written is listed (more with `--list` or `-v`).
const SCREENFUL: usize = 20;

/// The file the letters to print of a `--combined` run also go into.
pub const COMBINED: &str = "all.pdf";

/// Writes every letter as a PDF. Two passes over the (streamed) letters: the first renders
/// each one and checks every character against the font and every target path, writing
/// nothing; the second lays out, subsets the font once per chunk and language, writes, and
/// records the letters to print in the ledger. Memory stays flat however many signatories
/// there are (except with `--combined`, which must hold every page to print). A command line
/// that names neither signatories nor sender acts on the letters of the last run.
pub fn run(config: &Config, combined: bool, list: bool) -> Result<Exit> {
    let recalled = match remembered::recall(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("appeal: error: {e:#}");
            return Ok(Exit::Invalid);
        }
    };
    if let Some(r) = &recalled
        && !config.quiet
    {
        eprintln!("{}", r.note);
    }
    let config = recalled.as_ref().map_or(config, |r| &r.config);
    let family = Family::for_config(config)?;
    let Some(checked) = check(config, &family)? else {
        return Ok(Exit::Invalid);
    };
    let out = &config.out_dir;
    checked.targets?;
    if combined {
        check_folders(out, Path::new(COMBINED))?;
    }
    // The ledger before any file: a ledger that cannot be written, or a `send` running, stops
    // the run with nothing written.
    let mut ledger = Ledger::open(&config.root)?;
    let lock = CampaignLock::acquire(&config.root)?;
    prepare_dir(out, true)?;
    ledger.record_run(
        &config.campaign.name,
        &remembered::record_of(config, "pdf")?,
    )?;
    let plan = plan::plan(config);
    let mut writer = Writer {
        config,
        maker: PdfMaker::with_family(config, family),
        deliveries: plan.iter().map(|d| (d.id.as_str(), d)).collect(),
        ledger,
        combined,
        list: !config.quiet && (list || config.verbose || checked.count <= SCREENFUL),
        progress: progress(config.quiet, checked.count as u64, "writing PDFs"),
        done: Done::default(),
        to_print: Vec::new(),
        first_to_print: None,
    };
    match checked.kept {
        Some(letters) => {
            let per_chunk = crate::letter::run::CHUNK_SENDERS * config.recipients.len().max(1);
            let mut letters = letters.into_iter().peekable();
            while letters.peek().is_some() {
                writer.chunk(letters.by_ref().take(per_chunk).collect())?;
            }
        }
        None => crate::letter::run::for_each_chunk(config, &mut Problems::default(), |l| {
            writer.chunk(l)
        })?,
    }
    writer.progress.finish_and_clear();
    writer.ledger.flush()?;
    writer.write_combined()?;
    drop(lock);
    if !config.quiet {
        writer.print_summary()?;
    }
    Ok(Exit::Success)
}

/// What pass 1 found: how many letters, the letters themselves for a small run, and whether
/// every target path may be written.
struct Checked {
    count: usize,
    kept: Option<Vec<Letter>>,
    targets: Result<()>,
}

/// Pass 1: renders every letter and checks its characters and target path, writing nothing.
/// `None` when some letter cannot be written (what is wrong is printed).
fn check(config: &Config, family: &Family) -> Result<Option<Checked>> {
    let out = &config.out_dir;
    let mut problems = Problems::default();
    let mut missing: Vec<String> = Vec::new();
    let mut checked = Checked {
        count: 0,
        kept: Some(Vec::new()),
        targets: Ok(()),
    };
    crate::letter::run::for_each_chunk(config, &mut problems, |chunk| {
        checked.count += chunk.len();
        let found: Vec<Vec<String>> = chunk
            .par_iter()
            .map(|l| missing_glyphs(family, l))
            .collect();
        missing.extend(found.into_iter().flatten());
        for l in &chunk {
            if checked.targets.is_err() {
                break;
            }
            checked.targets = check_folders(out, Path::new(&format!("{}.pdf", l.key.file_stem())));
        }
        // A small run keeps its letters for pass 2 instead of rendering them again.
        match &mut checked.kept {
            Some(k) if k.len() + chunk.len() <= KEEP_LETTERS => k.extend(chunk),
            _ => checked.kept = None,
        }
        Ok(())
    })?;
    if problems.has_errors() {
        print_problems(&problems, false);
        summary(&problems);
        return Ok(None);
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
        return Ok(None);
    }
    Ok(Some(checked))
}

/// What pass 2 wrote: files, bytes, and the letters by recipient and channel.
#[derive(Default)]
struct Done {
    written: usize,
    bytes: usize,
    /// Letters that go by email: their PDFs are previews, not recorded.
    previews: usize,
    /// (recipient, channel) → letters written, in the order met.
    by_recipient: Vec<((String, &'static str), usize)>,
}

/// Pass 2: writes each chunk's PDFs, records the letters to print, keeps their pages for
/// `all.pdf`.
struct Writer<'a> {
    config: &'a Config,
    maker: PdfMaker,
    deliveries: HashMap<&'a str, &'a Delivery>,
    ledger: Ledger,
    combined: bool,
    /// Say each file written.
    list: bool,
    progress: indicatif::ProgressBar,
    done: Done,
    to_print: Vec<Laid>,
    first_to_print: Option<Letter>,
}

impl Writer<'_> {
    /// Lays out and writes a chunk of letters side by side, then, in order, records and
    /// reports each.
    fn chunk(&mut self, letters: Vec<Letter>) -> Result<()> {
        let out = &self.config.out_dir;
        let refs: Vec<&Letter> = letters.iter().collect();
        let (laid, pdfs) = self.maker.make_chunk(&refs)?;
        let results: Vec<Result<(PathBuf, usize)>> = letters
            .par_iter()
            .zip(pdfs)
            .map(|(l, bytes)| {
                let bytes = bytes?;
                let path = out.join(format!("{}.pdf", l.key.file_stem()));
                if let Some(parent) = path.parent()
                    && parent != out.as_path()
                {
                    prepare_dir(parent, false)?;
                }
                write_atomic(&path, &bytes)?;
                Ok((path, bytes.len()))
            })
            .collect();
        for ((letter, laid), result) in letters.iter().zip(laid).zip(results) {
            let (path, size) = result?;
            let to_print = self.record(letter, &path)?;
            self.count(letter, size);
            if self.list {
                let pages = laid.pages.len();
                let mut stdout = std::io::stdout().lock();
                writeln!(
                    stdout,
                    "wrote {} ({pages} page{}, {} KB)",
                    path.display(),
                    plural(pages),
                    size.div_ceil(1024)
                )?;
            }
            if self.combined && to_print {
                if self.first_to_print.is_none() {
                    self.first_to_print = Some(letter.clone());
                }
                self.to_print.push(laid);
            }
        }
        self.progress.inc(letters.len() as u64);
        Ok(())
    }

    /// Records a letter to print as written (with the content hash `send` keeps), and says
    /// whether it is one; a letter by email is not recorded. A letter already marked posted or
    /// faxed by hand stays so.
    fn record(&mut self, letter: &Letter, path: &Path) -> Result<bool> {
        let Some(d) = self.deliveries.get(letter.key.recipient.as_str()).copied() else {
            anyhow::bail!(
                "internal: no delivery planned for {}",
                letter.key.file_stem()
            );
        };
        if d.by_email() {
            self.done.previews += 1;
            return Ok(false);
        }
        let key = Key::new(
            &letter.key,
            &ledger::sender_identity(&letter.sender),
            d.channel,
        );
        let today = crate::model::locale::format_date(&letter.language, self.config.now.date());
        let hash = letter_hash(letter, d.channel, &d.destination, &today, &[]);
        let by_hand = self
            .ledger
            .get(&key)?
            .is_some_and(|e| matches!(e.state, State::Posted | State::Faxed));
        if !by_hand {
            self.ledger.mark_written(&key, path, &hash)?;
        }
        Ok(true)
    }

    /// Counts a letter written, by recipient and channel.
    fn count(&mut self, letter: &Letter, size: usize) {
        self.done.written += 1;
        self.done.bytes += size;
        let channel = self
            .deliveries
            .get(letter.key.recipient.as_str())
            .map_or("", |d| d.channel.as_str());
        let key = (letter.key.recipient.clone(), channel);
        match self.done.by_recipient.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.done.by_recipient.push((key, 1)),
        }
    }

    /// `--combined`: every page to print in one file, or a word that there is none.
    fn write_combined(&mut self) -> Result<()> {
        if !self.combined {
            return Ok(());
        }
        let Some(first) = &self.first_to_print else {
            eprintln!(
                "appeal: --combined: no letter of this run goes by post or fax, so there is \
                 nothing to print; {COMBINED} was not written"
            );
            return Ok(());
        };
        let letters = self.to_print.len();
        let all = Laid {
            width: self.to_print[0].width,
            height: self.to_print[0].height,
            pages: std::mem::take(&mut self.to_print)
                .into_iter()
                .flat_map(|d| d.pages)
                .collect(),
        };
        let bytes = self.maker.combined(&all, first)?;
        let path = self.config.out_dir.join(COMBINED);
        write_atomic(&path, &bytes)?;
        if !self.config.quiet {
            writeln!(
                std::io::stdout(),
                "wrote {} ({} page{}: the {letters} letter{} to print, in order)",
                path.display(),
                all.pages.len(),
                plural(all.pages.len()),
                plural(letters)
            )?;
        }
        Ok(())
    }

    /// The closing lines: the counts by recipient (when the files were not listed), then what
    /// was written and what to do with it.
    fn print_summary(&self) -> Result<()> {
        let done = &self.done;
        let mut stdout = std::io::stdout().lock();
        if !self.list {
            let rows: Vec<Vec<String>> = done
                .by_recipient
                .iter()
                .map(|((r, c), n)| vec![r.clone(), c.to_string(), n.to_string()])
                .collect();
            stdout.write_all(table(&["RECIPIENT", "CHANNEL", "PDFS"], &rows).as_bytes())?;
            writeln!(stdout, "(--list shows every file.)")?;
        }
        let to_print = done.written - done.previews;
        let what = match (to_print, done.previews) {
            (_, 0) => "print, sign and post them".to_string(),
            (0, 1) => "it goes by email, so this PDF is a preview (`appeal send` sends it)".into(),
            (0, _) => "they all go by email, so these PDFs are previews (`appeal send` sends \
                       them)"
                .to_string(),
            (p, e) => format!(
                "print, sign and post the {p} that go by post or fax; the {e} by email are \
                 previews (`appeal send` sends them)"
            ),
        };
        writeln!(
            stdout,
            "appeal: {} letter{} written to {} ({} KB in all); {what}",
            done.written,
            plural(done.written),
            self.config.out_dir.display(),
            done.bytes.div_ceil(1024)
        )?;
        Ok(())
    }
}
