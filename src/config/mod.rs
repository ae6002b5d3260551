//! Command line + `appeal.toml` + campaign files → one checked `Config`. All resolution lives here.

use std::path::{Path, PathBuf};

mod campaign;
mod selection;
mod sender;

use crate::cli::{self, Common};
use crate::config::campaign::{check_languages, find_campaign, load_campaign};
use crate::config::selection::{
    check_fax_numbers, check_via, forced_channel, load_recipients, posted, select,
};
use crate::config::sender::{check_signers, resolve_sender, sender_warnings};
use crate::diag::Problems;
use crate::model::campaign::Campaign;
use crate::model::recipients::{Channel, Recipient};
use crate::model::sender::Sender;
use crate::model::settings::{self, Paper, Settings};
pub use selection::LetterSelection;

/// Everything a command needs, resolved from the command line, `appeal.toml` and the campaign
/// files and checked.
pub struct Config {
    /// The campaign directory (`-C`), as given.
    pub root: PathBuf,
    pub campaign: Campaign,
    /// The recipients selected by --only / --tag, in file order.
    pub recipients: Vec<Recipient>,
    /// `--only SIGNATORY/RECIPIENT`: single letters of a batch, when any were named.
    pub letters: Option<LetterSelection>,
    pub sender: Sender,
    /// The recipients file, as named in messages.
    pub recipients_file: PathBuf,
    /// `--signatories CSV`, as named in messages (read it from [`Config::signatories_source`]).
    pub signatories: Option<std::path::PathBuf>,
    /// The copy of signatories given as a pipe or on standard input.
    signatories_spool: Option<tempfile::TempPath>,
    pub lang_override: Option<String>,
    /// `--via`: one channel for every letter of the run.
    pub via: Option<Channel>,
    pub paper: Paper,
    /// `--font FILE` or appeal.toml `font`: a TTF to use instead of the bundled family.
    pub font: Option<PathBuf>,
    /// `--font FILE_OR_FAMILY`, in order (resolved by `paper::fonts`).
    pub fonts: Vec<String>,
    pub out_dir: PathBuf,
    pub settings: Settings,
    pub now: jiff::Zoned,
    pub verbose: bool,
    pub quiet: bool,
    /// Warnings found while loading (errors stop the load).
    pub warnings: Problems,
    /// Warnings about the sender (still the example's; no return address on posted letters):
    /// printed by the commands that make letters for officials (`check`, `pdf`, `send`), not by
    /// those that only report.
    pub sender_warnings: Problems,
    /// The command line as typed, so a command can load again with flags a past run used.
    pub typed: Common,
}

impl Config {
    /// Where to read the signatories from: the file named, or the copy of a pipe.
    pub fn signatories_source(&self) -> Option<&Path> {
        self.signatories_spool
            .as_deref()
            .or(self.signatories.as_deref())
    }
}

impl Config {
    /// The language of the letter to `r`: --lang, else the recipient's, else the campaign's.
    pub fn language_for(&self, r: &Recipient) -> String {
        self.lang_override
            .clone()
            .or_else(|| r.language.clone())
            .unwrap_or_else(|| self.campaign.language.clone())
    }
}

/// Joins a path for display: relative to `-C DIR` when one was given.
fn shown(root: &Path, rel: &Path) -> PathBuf {
    if root == Path::new(".") || rel.is_absolute() {
        rel.to_path_buf()
    } else {
        root.join(rel)
    }
}

/// `-C DIR`, else the current directory; it must exist.
fn campaign_dir(common: &Common) -> Result<PathBuf, Problems> {
    let root = (common.directory.clone()).unwrap_or_else(|| PathBuf::from("."));
    if !root.is_dir() {
        let mut problems = Problems::default();
        problems.error(&root, None, "campaign directory does not exist");
        return Err(problems);
    }
    Ok(root)
}

/// `appeal.toml` in the campaign directory (an absent file is empty settings).
fn load_settings(root: &Path, problems: &mut Problems) -> Settings {
    let shown_path = shown(root, Path::new("appeal.toml"));
    settings::load(&root.join("appeal.toml"), &shown_path, problems)
}

/// Loads and checks everything a command needs. Every problem found is returned at once.
pub fn load(common: &Common) -> Result<Config, Problems> {
    let mut problems = Problems::default();
    let root = campaign_dir(common)?;
    let settings = load_settings(&root, &mut problems);
    let campaign = find_campaign(&root, common, &mut problems)
        .and_then(|name| load_campaign(&root, &name, &mut problems));
    let recipients_file = load_recipients(&root, common, &mut problems);
    let (selected, letters) = select(common, &recipients_file, &mut problems);
    let (sender, sender_read) = resolve_sender(common, &root, &settings, &mut problems);
    let signers = check_signers(
        common,
        &root,
        campaign.as_ref(),
        (&sender, sender_read),
        &mut problems,
    );
    let via = forced_channel(common.via);
    let mut about_sender = Problems::default();
    if sender_read {
        let posted = posted(via, &selected, settings.raw.fax_gateway.is_some());
        sender_warnings(
            common,
            &settings,
            (&sender, &signers),
            &posted,
            &mut about_sender,
        );
    }
    let route = Route {
        via,
        fax_gateway: settings.raw.fax_gateway.is_some(),
        lang: common.lang.as_deref(),
    };
    check_route(
        &route,
        &selected,
        &recipients_file.shown,
        campaign.as_ref(),
        &mut problems,
    );
    let paper = paper(common, &settings);
    let now = now(&mut problems);
    let font = font(common, &root, &settings, &mut problems);

    let Some(campaign) = campaign else {
        return Err(problems);
    };
    if problems.has_errors() {
        return Err(problems);
    }
    let out_dir = (common.out.clone()).unwrap_or_else(|| root.join("out").join(&campaign.name));
    Ok(Config {
        root,
        campaign,
        recipients: selected,
        letters,
        sender,
        recipients_file: recipients_file.shown,
        signatories: common.signatories.clone(),
        signatories_spool: signers.spool,
        lang_override: common.lang.clone(),
        via,
        paper,
        font,
        fonts: common.fonts.clone(),
        out_dir,
        settings,
        now,
        verbose: common.verbose,
        quiet: common.quiet,
        warnings: problems,
        sender_warnings: about_sender,
        typed: common.clone(),
    })
}

/// How the run's letters travel, as far as the selected recipients must allow it.
struct Route<'a> {
    via: Option<Channel>,
    fax_gateway: bool,
    lang: Option<&'a str>,
}

/// Every selected recipient has the contact `--via` needs, a fax number a gateway can dial,
/// and a template in the language its letter is written in.
fn check_route(
    route: &Route,
    selected: &[Recipient],
    shown: &Path,
    campaign: Option<&Campaign>,
    problems: &mut Problems,
) {
    if let Some(channel) = route.via {
        check_via(channel, selected, shown, problems);
    }
    if route.fax_gateway {
        check_fax_numbers(route.via, selected, shown, problems);
    }
    if let Some(c) = campaign {
        check_languages(route.lang, c, selected, shown, problems);
    }
}

/// `--paper`, else appeal.toml `paper`, else A4.
fn paper(common: &Common, settings: &Settings) -> Paper {
    match (
        common.paper,
        settings.raw.paper.as_ref().map(|p| p.get_ref().as_str()),
    ) {
        (Some(cli::Paper::A4), _) => Paper::A4,
        (Some(cli::Paper::Letter), _) | (None, Some("letter")) => Paper::Letter,
        _ => Paper::A4,
    }
}

/// The run's date and time: the clock, or the time `APPEAL_NOW` fixes.
fn now(problems: &mut Problems) -> jiff::Zoned {
    match crate::clock::now() {
        Ok(n) => n,
        Err(e) => {
            problems.error(Path::new(crate::clock::NOW_ENV), None, e);
            jiff::Zoned::now()
        }
    }
}

/// `--font FILE` (as typed), else appeal.toml `font` (in the campaign directory); it must exist.
fn font(
    common: &Common,
    root: &Path,
    settings: &Settings,
    problems: &mut Problems,
) -> Option<PathBuf> {
    let font = match (&common.font, &settings.raw.font) {
        (Some(f), _) => Some(f.clone()),
        (None, Some(f)) => Some(root.join(f.get_ref())),
        (None, None) => None,
    };
    if let Some(f) = &font
        && !f.is_file()
    {
        problems.error(f, None, "the font file does not exist");
    }
    font
}
