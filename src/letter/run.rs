//! Every letter of a run: the senders (the one configured sender, or a signatories file read
//! as a stream) times the selected recipients, rendered in parallel a chunk at a time so
//! memory stays flat however many signatories there are.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::config::Config;
use crate::diag::{Diagnostic, Problems};
use crate::letter::{self, Letter};
use crate::model::sender::Sender;
use crate::model::signatories::SignatoryReader;

/// Signatories per chunk: enough to keep every core busy, few enough to keep memory small.
pub const CHUNK_SENDERS: usize = 64;

type Senders = Box<dyn Iterator<Item = Result<Sender, Diagnostic>> + Send>;

fn senders(config: &Config) -> Result<Senders, Diagnostic> {
    match (config.signatories_source(), &config.signatories) {
        (Some(source), Some(shown)) => Ok(Box::new(SignatoryReader::open(
            source,
            shown,
            config.campaign.require_note,
        )?)),
        _ => Ok(Box::new(std::iter::once(Ok(config.sender.clone())))),
    }
}

/// Collects problems, reporting a problem that repeats (the same template error for every
/// letter) only once.
pub struct Collector<'a> {
    pub problems: &'a mut Problems,
    seen: HashSet<String>,
}

impl<'a> Collector<'a> {
    pub fn new(problems: &'a mut Problems) -> Self {
        let seen = problems.items.iter().map(|d| d.to_string()).collect();
        Collector { problems, seen }
    }

    pub fn push(&mut self, d: Diagnostic) {
        if self.seen.insert(d.to_string()) {
            self.problems.push(d);
        }
    }
}

/// Whether the letter from `sender` to the `i`th selected recipient is one of the run's:
/// always, unless `--only` named single letters (`SIGNATORY/RECIPIENT`).
fn selected(config: &Config, sender: &Sender, i: usize) -> bool {
    config
        .letters
        .as_ref()
        .is_none_or(|l| l.selects(sender.id.as_deref(), &config.recipients[i].id))
}

/// Renders every letter of the run, handing each chunk to `sink` in order (signatory by
/// signatory, recipients in file order). Problems are collected, not fatal; an `Err` from
/// `sink` stops the run.
pub fn for_each_chunk(
    config: &Config,
    problems: &mut Problems,
    mut sink: impl FnMut(Vec<Letter>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut collector = Collector::new(problems);
    let mut stream = match senders(config) {
        Ok(s) => s,
        Err(d) => {
            collector.push(d);
            return Ok(());
        }
    };
    let today = config.now.date();
    let languages: Vec<String> = config
        .recipients
        .iter()
        .map(|r| config.language_for(r))
        .collect();
    // A fax with no gateway to send it is printed with a cover line naming the number; the
    // plan already knows each letter's channel.
    let fax_cover: Vec<Option<String>> = crate::letter::plan::plan(config)
        .into_iter()
        .zip(&config.recipients)
        .map(|(d, r)| {
            (d.channel == crate::model::recipients::Channel::Fax && !d.gateway)
                .then(|| r.fax.clone())
                .flatten()
        })
        .collect();
    loop {
        let mut chunk: Vec<Sender> = Vec::with_capacity(CHUNK_SENDERS);
        let mut exhausted = false;
        while chunk.len() < CHUNK_SENDERS {
            match stream.next() {
                Some(Ok(s)) => chunk.push(s),
                Some(Err(d)) => collector.push(d),
                None => {
                    exhausted = true;
                    break;
                }
            }
        }
        if !chunk.is_empty() {
            let tasks: Vec<(&Sender, usize)> = chunk
                .iter()
                .flat_map(|s| (0..config.recipients.len()).map(move |i| (s, i)))
                .filter(|&(s, i)| selected(config, s, i))
                .collect();
            let results: Vec<Result<Letter, Diagnostic>> = tasks
                .par_iter()
                .map(|&(s, i)| {
                    let r = &config.recipients[i];
                    let mut l = letter::build(&config.campaign, r, s, &languages[i], today)?;
                    l.fax_to = fax_cover[i].clone();
                    Ok(l)
                })
                .collect();
            let mut letters = Vec::with_capacity(results.len());
            for r in results {
                match r {
                    Ok(l) => letters.push(l),
                    Err(d) => collector.push(d),
                }
            }
            sink(letters)?;
        }
        if exhausted {
            return Ok(());
        }
    }
}
