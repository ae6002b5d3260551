//! Lint for `check`: things that make a letter less likely to arrive or be read.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::config::Config;
use crate::diag::{Diagnostic, Problems};
use crate::letter::{Block, Letter, spans_text};

/// Lines the DIN 5008 window field holds for the recipient (title + name + address).
pub const MAX_ADDRESS_LINES: usize = 6;

/// Letters to one recipient whose bodies are at least this similar (mean Jaccard similarity
/// of their sets of 3-word shingles) read as a form letter.
pub const SIMILARITY_THRESHOLD: f64 = 0.9;

/// How many letters per recipient the similarity check compares (pairwise), to bound its cost.
pub const SIMILARITY_SAMPLE: usize = 50;

pub fn lint_letter(config: &Config, l: &Letter, problems: &mut Problems) {
    let lines = 2 + l.recipient.address.len();
    if lines > MAX_ADDRESS_LINES {
        let file = config.recipients_file.clone();
        problems.push(Diagnostic::error(
            &file,
            None,
            format!(
                "recipient `{}` ({}): the address block has {lines} lines with title and name; the envelope window holds {MAX_ADDRESS_LINES}",
                l.key.recipient, l.language
            ),
        ));
    }
}

/// Print lint that needs the font: lines too wide for the envelope window, letters longer
/// than one page.
pub fn lint_print(
    config: &Config,
    family: &crate::paper::fonts::Family,
    l: &Letter,
    problems: &mut Problems,
) {
    // Without the signatory, so a batch reports each recipient once.
    let who = format!("letter to `{}` ({})", l.key.recipient, l.language);
    let file = config.recipients_file.clone();
    for (line, width, room) in crate::paper::layout::address_overflow(l, config.paper, family) {
        problems.push(Diagnostic::warning(
            &file,
            None,
            format!(
                "{who}: address line `{line}` is {:.0} mm wide; the envelope window has {:.0} mm (it will be printed smaller)",
                width / crate::paper::geometry::MM,
                room / crate::paper::geometry::MM
            ),
        ));
    }
    let pages = crate::paper::layout::layout(l, config.paper, family)
        .pages
        .len();
    if pages > 1 {
        problems.push(Diagnostic::warning(
            &config.campaign.file,
            None,
            format!("{who} runs to {pages} pages; officials read one page more readily"),
        ));
    }
}

pub fn lint_campaign(config: &Config, problems: &mut Problems) {
    if let Some((deadline, pos)) = config.campaign.deadline
        && deadline < config.now.date()
    {
        problems.push(Diagnostic::warning(
            &config.campaign.file,
            Some(pos),
            format!("the campaign deadline {deadline} has passed"),
        ));
    }
}

/// Collects a sample of letter bodies per recipient to warn when signatories all send the
/// same words.
#[derive(Default)]
pub struct Similarity {
    bodies: BTreeMap<String, Vec<HashSet<u64>>>,
}

fn body_words(blocks: &[Block], out: &mut Vec<String>) {
    for b in blocks {
        match b {
            Block::Paragraph(spans) => {
                out.extend(
                    spans_text(spans)
                        .split_whitespace()
                        .map(|w| w.to_lowercase()),
                );
            }
            Block::List { items, .. } => items.iter().for_each(|i| body_words(i, out)),
        }
    }
}

/// The letter's body as a set of hashed 3-word shingles.
pub fn shingles(l: &Letter) -> HashSet<u64> {
    let mut words = Vec::new();
    body_words(&l.body, &mut words);
    words
        .windows(3)
        .map(|w| {
            let mut h = DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

pub fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        1.0
    } else {
        a.intersection(b).count() as f64 / union as f64
    }
}

impl Similarity {
    pub fn add(&mut self, l: &Letter) {
        if l.key.signatory.is_none() {
            return;
        }
        let sample = self.bodies.entry(l.key.recipient.clone()).or_default();
        if sample.len() < SIMILARITY_SAMPLE {
            sample.push(shingles(l));
        }
    }

    pub fn finish(&self, config: &Config, problems: &mut Problems) {
        for (recipient, sample) in &self.bodies {
            if sample.len() < 2 {
                continue;
            }
            let mut total = 0.0;
            let mut pairs = 0usize;
            for (i, a) in sample.iter().enumerate() {
                for b in &sample[i + 1..] {
                    total += jaccard(a, b);
                    pairs += 1;
                }
            }
            let mean = total / pairs as f64;
            if mean >= SIMILARITY_THRESHOLD {
                let file = config.signatories.clone().unwrap_or_default();
                problems.push(Diagnostic::warning(
                    &file,
                    None,
                    format!(
                        "letters to `{recipient}` are near-identical across signatories (mean 3-word-shingle Jaccard similarity {mean:.2} over {} letters, threshold {SIMILARITY_THRESHOLD}); officials discard form letters: ask for a personal note (require_note = true) or use {{{{variant ...}}}}",
                        sample.len()
                    ),
                ));
            }
        }
    }
}
