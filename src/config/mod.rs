//! Command line + `appeal.toml` + campaign files → one checked `Config`. All resolution lives here.

use std::path::{Path, PathBuf};

use crate::cli::{self, Common};
use crate::diag::{Problems, did_you_mean};
use crate::model::campaign::Campaign;
use crate::model::recipients::{self, Channel, Recipient};
use crate::model::sender::{self, Sender};
use crate::model::settings::{self, Paper, Settings};

pub struct Config {
    /// The campaign directory (`-C`), as given.
    pub root: PathBuf,
    pub campaign: Campaign,
    /// The recipients selected by --only / --tag, in file order.
    pub recipients: Vec<Recipient>,
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
    pub out_dir: PathBuf,
    pub settings: Settings,
    pub now: jiff::Zoned,
    pub verbose: bool,
    pub quiet: bool,
    /// Warnings found while loading (errors stop the load).
    pub warnings: Problems,
}

impl Config {
    /// Where to read the signatories from: the file named, or the copy of a pipe.
    pub fn signatories_source(&self) -> Option<&Path> {
        self.signatories_spool
            .as_deref()
            .or(self.signatories.as_deref())
    }
}

/// A run reads the signatories more than once (check, then write; or `send`'s two passes), and
/// a pipe or standard input (`-`) can be read only once: such input is copied to a temporary
/// file first, removed when the run ends. A regular file is read where it is.
fn spool_if_stream(path: &Path) -> Result<Option<tempfile::TempPath>, crate::diag::Diagnostic> {
    use std::io::Write;
    let stdin = path == Path::new("-");
    // A regular file is read in place; one that cannot be read is reported by opening it.
    if !stdin && std::fs::metadata(path).map_or(true, |m| m.is_file()) {
        return Ok(None);
    }
    let cannot = |e: std::io::Error| {
        crate::diag::Diagnostic::error(path, None, format!("cannot read the signatories file: {e}"))
    };
    let mut spool = tempfile::NamedTempFile::new().map_err(cannot)?;
    let copied = if stdin {
        std::io::copy(&mut std::io::stdin().lock(), &mut spool)
    } else {
        std::fs::File::open(path).and_then(|mut f| std::io::copy(&mut f, &mut spool))
    };
    copied.and_then(|_| spool.flush()).map_err(cannot)?;
    Ok(Some(spool.into_temp_path()))
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

/// Loads and checks everything a command needs. Every problem found is returned at once.
pub fn load(common: &Common) -> Result<Config, Problems> {
    let mut problems = Problems::default();
    let root = common
        .directory
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    if !root.is_dir() {
        problems.error(&root, None, "campaign directory does not exist");
        return Err(problems);
    }
    let settings_path = root.join("appeal.toml");
    let settings = settings::load(
        &settings_path,
        &shown(&root, Path::new("appeal.toml")),
        &mut problems,
    );

    // Campaign.
    let letters = root.join("letters");
    let campaign_name = match &common.campaign {
        Some(name) => Some(name.clone()),
        None => match std::fs::read_dir(&letters) {
            Ok(entries) => {
                let mut dirs: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().join("campaign.toml").is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                dirs.sort();
                match dirs.len() {
                    1 => dirs.pop(),
                    0 => {
                        problems.error(&shown(&root, Path::new("letters")), None, "no campaign here: expected letters/<name>/campaign.toml (see `appeal init`)");
                        None
                    }
                    _ => {
                        problems.error(
                            &shown(&root, Path::new("letters")),
                            None,
                            format!(
                                "several campaigns ({}); choose one with --campaign NAME",
                                dirs.join(", ")
                            ),
                        );
                        None
                    }
                }
            }
            Err(_) => {
                problems.error(&shown(&root, Path::new("letters")), None, "no letters/ directory: expected letters/<name>/campaign.toml (see `appeal init`)");
                None
            }
        },
    };
    let campaign = campaign_name.and_then(|name| {
        if !recipients::valid_id(&name) {
            problems.error(
                &shown(&root, Path::new("letters")),
                None,
                format!(
                    "campaign name `{}` must be a-z, 0-9 and `-`",
                    name.escape_debug()
                ),
            );
            return None;
        }
        let rel = Path::new("letters").join(&name);
        if !root.join(&rel).join("campaign.toml").is_file() {
            problems.error(
                &shown(&root, &rel),
                None,
                format!(
                    "no campaign `{name}`: {} does not exist",
                    shown(&root, &rel.join("campaign.toml")).display()
                ),
            );
            return None;
        }
        match Campaign::load(&root.join(&rel), &shown(&root, &rel)) {
            Ok((c, warnings)) => {
                problems.extend(warnings);
                Some(c)
            }
            Err(p) => {
                problems.extend(p);
                None
            }
        }
    });

    // Recipients.
    let rec_rel = common
        .recipients
        .clone()
        .unwrap_or_else(|| PathBuf::from("recipients.toml"));
    // A --recipients path is taken as typed (relative to the working directory).
    let rec_path = if common.recipients.is_some() {
        rec_rel.clone()
    } else {
        root.join(&rec_rel)
    };
    let rec_shown = if common.recipients.is_some() {
        rec_rel.clone()
    } else {
        shown(&root, &rec_rel)
    };
    let all = match recipients::load(&rec_path, &rec_shown) {
        Ok((r, warnings)) => {
            problems.extend(warnings);
            r
        }
        Err(p) => {
            problems.extend(p);
            Vec::new()
        }
    };

    // Selection.
    let mut only = common.only.clone();
    only.retain(|s| !s.is_empty());
    for id in &only {
        if !all.is_empty() && !all.iter().any(|r| &r.id == id) {
            let mut msg = format!("--only: no recipient `{id}` in {}", rec_shown.display());
            if let Some(best) = did_you_mean(id, all.iter().map(|r| r.id.as_str())) {
                msg.push_str(&format!("; did you mean `{best}`?"));
            }
            problems.error(&rec_shown, None, msg);
        }
    }
    for tag in &common.tag {
        if !all.is_empty() && !all.iter().any(|r| r.tags.contains(tag)) {
            problems.error(
                &rec_shown,
                None,
                format!("--tag: no recipient has the tag `{tag}`"),
            );
        }
    }
    let selected: Vec<Recipient> = all
        .iter()
        .filter(|r| only.is_empty() || only.contains(&r.id))
        .filter(|r| common.tag.is_empty() || common.tag.iter().any(|t| r.tags.contains(t)))
        .cloned()
        .collect();
    if !all.is_empty() && selected.is_empty() && !problems.has_errors() {
        problems.error(
            &rec_shown,
            None,
            "the selection (--only/--tag) matches no recipient",
        );
    }

    // Sender: appeal.toml, then --sender FILE, then flags.
    let mut sender = Sender::default();
    if let Some(source) = &settings.source {
        settings
            .raw
            .sender
            .apply(source, &root, &mut sender, &mut problems);
    }
    if let Some(path) = &common.sender {
        sender::load_file(path, &mut sender, &mut problems);
    }
    apply_flags(common, &mut sender, &mut problems);
    let mut signatories_spool = None;
    if let Some(path) = &common.signatories {
        match spool_if_stream(path) {
            Ok(spool) => {
                signatories_spool = spool;
                // Open it now so a missing file or a broken header stops every command early.
                let source = signatories_spool.as_deref().unwrap_or(path);
                if let Err(d) =
                    crate::model::signatories::SignatoryReader::open(source, path, false)
                {
                    problems.push(d);
                }
            }
            Err(d) => problems.push(d),
        }
    } else if let Some(c) = &campaign
        && c.require_note
        && sender.note.as_deref().is_none_or(|n| n.trim().is_empty())
    {
        problems.error(&c.file, None, "the campaign requires a personal note (require_note = true): set [sender] note in appeal.toml or pass --from-note TEXT");
    }
    if common.signatories.is_none() && sender.name.trim().is_empty() {
        problems.error(&shown(&root, Path::new("appeal.toml")), None, "no sender name: set [sender] name in appeal.toml, or pass --sender FILE or --from-name NAME");
    }

    // A channel forced with --via needs that contact for every selected recipient.
    let via = common.via.map(|v| match v {
        crate::cli::Via::Email => Channel::Email,
        crate::cli::Via::Post => Channel::Post,
        crate::cli::Via::Fax => Channel::Fax,
    });
    if let Some(channel) = via {
        for r in &selected {
            let missing = match channel {
                Channel::Email => r.email.is_none().then_some("no email address"),
                Channel::Fax => r.fax.is_none().then_some("no fax number"),
                Channel::Post => r.base.address.is_empty().then_some("no postal address"),
            };
            if let Some(what) = missing {
                problems.error(
                    &rec_shown,
                    Some(r.id_position),
                    format!(
                        "--via {}: recipient `{}` has {what}",
                        channel.as_str(),
                        r.id
                    ),
                );
            }
        }
    }

    // Faxes through a gateway need international numbers.
    if settings.raw.fax_gateway.is_some() {
        for r in &selected {
            let channel = via.unwrap_or_else(|| crate::model::recipients::channel_for(r, true));
            if channel == Channel::Fax
                && let Some(number) = &r.fax
                && crate::model::recipients::e164_digits(number).is_none()
            {
                problems.error(&rec_shown, Some(r.id_position), format!("recipient `{}`: fax number `{number}` needs its country code (+…) to go through the fax gateway", r.id));
            }
        }
    }

    // Language override.
    if let Some(lang) = &common.lang
        && let Some(c) = &campaign
        && !c.has_language(lang)
    {
        let have: Vec<&str> = c.templates.keys().map(String::as_str).collect();
        problems.error(
            &c.dir_shown(),
            None,
            format!(
                "--lang {lang}: the campaign has no {} (it has: {})",
                crate::model::campaign::template_file_name(lang, &c.language),
                have.join(", ")
            ),
        );
    }
    // Every selected recipient needs a template in its language.
    if let Some(c) = &campaign
        && common.lang.is_none()
    {
        for r in &selected {
            let lang = r.language.clone().unwrap_or_else(|| c.language.clone());
            if crate::model::locale::is_supported(&lang) && !c.has_language(&lang) {
                problems.error(
                    &rec_shown,
                    r.language_position.or(Some(r.id_position)),
                    format!(
                        "recipient `{}` is written to in `{lang}` but {} does not exist",
                        r.id,
                        c.dir_shown()
                            .join(crate::model::campaign::template_file_name(
                                &lang,
                                &c.language
                            ))
                            .display()
                    ),
                );
            }
        }
    }

    let paper = match (
        common.paper,
        settings.raw.paper.as_ref().map(|p| p.get_ref().as_str()),
    ) {
        (Some(cli::Paper::A4), _) => Paper::A4,
        (Some(cli::Paper::Letter), _) | (None, Some("letter")) => Paper::Letter,
        _ => Paper::A4,
    };
    let now = match crate::clock::now() {
        Ok(n) => n,
        Err(e) => {
            problems.error(Path::new(crate::clock::NOW_ENV), None, e);
            jiff::Zoned::now()
        }
    };

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

    let Some(campaign) = campaign else {
        return Err(problems);
    };
    if problems.has_errors() {
        return Err(problems);
    }
    let out_dir = common
        .out
        .clone()
        .unwrap_or_else(|| root.join("out").join(&campaign.name));
    Ok(Config {
        root,
        campaign,
        recipients: selected,
        sender,
        recipients_file: rec_shown,
        signatories: common.signatories.clone(),
        signatories_spool,
        lang_override: common.lang.clone(),
        via,
        paper,
        font,
        out_dir,
        settings,
        now,
        verbose: common.verbose,
        quiet: common.quiet,
        warnings: problems,
    })
}

fn apply_flags(common: &Common, sender: &mut Sender, problems: &mut Problems) {
    let flag = Path::new("command line");
    let mut clean = |value: &str, what: &str| -> String {
        if let Some(why) = crate::diag::unsafe_char(value) {
            problems.error(flag, None, format!("{what} {why}"));
        }
        value.to_string()
    };
    if let Some(n) = &common.from_name {
        sender.name = clean(n, "--from-name");
    }
    if let Some(c) = &common.from_city {
        sender.city = Some(clean(c, "--from-city"));
    }
    if !common.from_address.is_empty() {
        sender.address = common
            .from_address
            .iter()
            .map(|l| clean(l, "--from-address"))
            .collect();
    }
    if let Some(n) = &common.from_note {
        if let Some(why) = crate::diag::unsafe_char(&n.replace('\n', " ")) {
            problems.error(flag, None, format!("--from-note {why}"));
        }
        sender.note = Some(n.clone());
    }
    if let Some(e) = &common.from_email {
        if let Some(why) = recipients::email_problem(e) {
            problems.error(flag, None, format!("--from-email {why}"));
        }
        sender.email = Some(e.clone());
    }
}
