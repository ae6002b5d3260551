//! Who signs the letters: from `appeal.toml` `[sender]`, `--sender FILE`, or flags (flags win).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Problems, Source, unsafe_char};
use crate::model::recipients::email_problem;
use crate::model::toml_errors::{self, toml_error};

/// The person a letter is from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    /// The signatory's id in a batch; `None` for a single sender.
    pub id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub address: Vec<String>,
    pub city: Option<String>,
    /// A personal sentence or two the template may include.
    pub note: Option<String>,
    /// A PNG of the signature, printed above the name.
    pub signature: Option<PathBuf>,
    /// Extra values for templates (`sender.<key>`), e.g. from signatory CSV columns.
    pub extra: BTreeMap<String, String>,
}

/// `[sender]` as written in a TOML file; every field optional so layers can merge.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSender {
    pub name: Option<Spanned<String>>,
    pub email: Option<Spanned<String>>,
    pub address: Option<Vec<Spanned<String>>>,
    pub city: Option<Spanned<String>>,
    pub note: Option<Spanned<String>>,
    pub signature: Option<Spanned<String>>,
}

impl RawSender {
    /// Checks each value against `source` and lays it over `into`.
    pub fn apply(
        &self,
        source: &Source,
        base_dir: &Path,
        into: &mut Sender,
        problems: &mut Problems,
    ) {
        let mut one_line = |v: &Spanned<String>, what: &str| -> String {
            if let Some(why) = unsafe_char(v.get_ref()) {
                problems.push(source.error_at(&v.span(), format!("sender {what} {why}")));
            }
            v.get_ref().clone()
        };
        if let Some(v) = &self.name {
            into.name = one_line(v, "name");
        }
        if let Some(v) = &self.city {
            into.city = Some(one_line(v, "city"));
        }
        if let Some(lines) = &self.address {
            into.address = lines.iter().map(|l| one_line(l, "address line")).collect();
        }
        if let Some(v) = &self.email {
            if let Some(why) = email_problem(v.get_ref()) {
                problems.push(source.error_at(&v.span(), format!("sender email {why}")));
            }
            into.email = Some(v.get_ref().clone());
        }
        if let Some(v) = &self.note {
            // A note is body text: line breaks are fine, other controls are not.
            if let Some(why) = unsafe_char(&v.get_ref().replace('\n', " ")) {
                problems.push(source.error_at(&v.span(), format!("sender note {why}")));
            }
            into.note = Some(v.get_ref().clone());
        }
        if let Some(v) = &self.signature {
            let path = base_dir.join(v.get_ref());
            if !path.is_file() {
                problems.push(source.error_at(
                    &v.span(),
                    format!("signature image `{}` does not exist", v.get_ref()),
                ));
            }
            into.signature = Some(path);
        }
    }
}

/// `--sender FILE`: a TOML file holding the sender's fields at top level. `false` if the file
/// could not be read or parsed (that error is reported; the sender is left as it was).
pub fn load_file(path: &Path, into: &mut Sender, problems: &mut Problems) -> bool {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            problems.error(path, None, format!("cannot read the sender file: {e}"));
            return false;
        }
    };
    let source = Source::new(path.to_path_buf(), text);
    match toml::from_str::<RawSender>(&source.text) {
        Ok(raw) => {
            raw.apply(
                &source,
                path.parent().unwrap_or(Path::new(".")),
                into,
                problems,
            );
            true
        }
        Err(e) => {
            problems.push(toml_error(&source, &e, toml_errors::SETTINGS));
            false
        }
    }
}
