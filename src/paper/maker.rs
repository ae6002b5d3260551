//! The PDF maker: lays out letters, subsets the font once per chunk and language, and makes
//! each letter's PDF; the glyph check every command runs before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::config::Config;
use crate::letter::Letter;
use crate::model::settings::Paper;
use crate::paper::fonts::{Family, describe};
use crate::paper::layout::layout;
use crate::paper::page::Laid;
use crate::paper::writer::{Meta, Writer};

/// One letter's PDF, or why it could not be made.
pub type Pdf = Result<Vec<u8>>;

/// Makes the PDFs of letters a chunk at a time: laid out in parallel, the font subset once per
/// chunk and language (a Russian letter need not carry Kazakh), then written in parallel.
pub struct PdfMaker {
    family: Family,
    paper: Paper,
    signature: Option<PathBuf>,
    created: i64,
}

impl PdfMaker {
    pub fn new(config: &Config) -> Result<PdfMaker> {
        Ok(Self::with_family(config, Family::for_config(config)?))
    }

    /// A maker with a family already loaded (the `pdf` command loads it to check glyphs first).
    pub fn with_family(config: &Config, family: Family) -> PdfMaker {
        PdfMaker {
            family,
            paper: config.paper,
            signature: config.sender.signature.clone(),
            created: config.now.timestamp().as_second(),
        }
    }

    /// The first character of the letter the font cannot draw, as an error naming it.
    pub fn check(&self, l: &Letter) -> Result<()> {
        match missing_glyphs(&self.family, l).into_iter().next() {
            Some(message) => bail!("{message}"),
            None => Ok(()),
        }
    }

    /// One PDF of every page of `all` (the `--combined` file), with `first`'s metadata.
    pub fn combined(&self, all: &Laid, first: &Letter) -> Result<Vec<u8>> {
        let meta = Meta {
            subject: &first.title,
            ..meta(first, self.created)
        };
        Writer::prepare(&self.family, [all], self.signature.as_deref())?.write(all, &meta)
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

/// One message per character the letter's PDF would draw that `family` has no glyph for,
/// naming the letter and the character.
pub fn missing_glyphs(family: &Family, l: &Letter) -> Vec<String> {
    family
        .missing_in(&drawn_text(l))
        .into_iter()
        .map(|c| format!("{}: the font has no glyph for {}", who(l), describe(c)))
        .collect()
}

/// Every character a letter's PDF will draw: its own text and the words the layout adds.
pub fn drawn_text(l: &Letter) -> String {
    let labels = &l.labels;
    let mut text = l.all_text();
    for extra in [
        &labels.copies,
        &labels.notes,
        &labels.reference,
        &labels.fax,
        &labels.from,
        &labels.to,
        &labels.pages,
    ] {
        text.push_str(extra);
    }
    text.push_str(&labels.page_of(1, 2));
    text.push_str(" •·.:0123456789");
    text
}

/// The letter, as named in messages: its recipient, and its signatory in a batch.
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
