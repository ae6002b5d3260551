//! Which campaign under `letters/` a run is for, loading it, and whether it has a template in
//! every language the run writes in.

use std::path::Path;

use crate::cli::Common;
use crate::config::shown;
use crate::diag::Problems;
use crate::model::campaign::{Campaign, template_file_name};
use crate::model::locale;
use crate::model::recipients::{Recipient, valid_id};

/// The campaign's name: `--campaign NAME`, else the only directory under `letters/` that
/// holds a `campaign.toml`.
pub(crate) fn find_campaign(
    root: &Path,
    common: &Common,
    problems: &mut Problems,
) -> Option<String> {
    if let Some(name) = &common.campaign {
        return Some(name.clone());
    }
    let letters = shown(root, Path::new("letters"));
    let Ok(entries) = std::fs::read_dir(root.join("letters")) else {
        problems.error(
            &letters,
            None,
            "no letters/ directory: expected letters/<name>/campaign.toml (see `appeal init`)",
        );
        return None;
    };
    let mut dirs: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("campaign.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    match dirs.len() {
        1 => dirs.pop(),
        0 => {
            problems.error(
                &letters,
                None,
                "no campaign here: expected letters/<name>/campaign.toml (see `appeal init`)",
            );
            None
        }
        _ => {
            problems.error(
                &letters,
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

/// Loads `letters/<name>/`, once the name is known to be a campaign's.
pub(crate) fn load_campaign(root: &Path, name: &str, problems: &mut Problems) -> Option<Campaign> {
    if !valid_id(name) {
        problems.error(
            &shown(root, Path::new("letters")),
            None,
            format!(
                "campaign name `{}` must be a-z, 0-9 and `-`",
                name.escape_debug()
            ),
        );
        return None;
    }
    let rel = Path::new("letters").join(name);
    if !root.join(&rel).join("campaign.toml").is_file() {
        problems.error(
            &shown(root, &rel),
            None,
            format!(
                "no campaign `{name}`: {} does not exist",
                shown(root, &rel.join("campaign.toml")).display()
            ),
        );
        return None;
    }
    match Campaign::load(&root.join(&rel), &shown(root, &rel)) {
        Ok((c, warnings)) => {
            problems.extend(warnings);
            Some(c)
        }
        Err(p) => {
            problems.extend(p);
            None
        }
    }
}

/// `--lang` needs a template in that language; without it, every selected recipient needs
/// one in theirs.
pub(crate) fn check_languages(
    lang: Option<&str>,
    campaign: &Campaign,
    selected: &[Recipient],
    recipients_file: &Path,
    problems: &mut Problems,
) {
    if let Some(lang) = lang {
        if !campaign.has_language(lang) {
            problems.error(
                &campaign.dir_shown(),
                None,
                format!(
                    "--lang {lang}: the campaign has no {} (it has: {})",
                    template_file_name(lang, &campaign.language),
                    languages(campaign)
                ),
            );
        }
        return;
    }
    for r in selected {
        let lang = r
            .language
            .clone()
            .unwrap_or_else(|| campaign.language.clone());
        if locale::tag_problem(&lang).is_none() && !campaign.has_language(&lang) {
            problems.error(
                recipients_file,
                r.language_position.or(Some(r.id_position)),
                format!(
                    "recipient `{}` is written to in `{lang}` but {} does not exist (the campaign has: {})",
                    r.id,
                    campaign
                        .dir_shown()
                        .join(template_file_name(&lang, &campaign.language))
                        .display(),
                    languages(campaign)
                ),
            );
        }
    }
}

/// The languages the campaign has a template for: "en, kk, ru".
fn languages(campaign: &Campaign) -> String {
    let have: Vec<&str> = campaign.templates.keys().map(String::as_str).collect();
    have.join(", ")
}
