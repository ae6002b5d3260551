//! Who signs the letters: the sender from `appeal.toml`, `--sender FILE` and the `--from-*`
//! flags, or one signatory per row of `--signatories CSV`.

use std::path::Path;

use crate::cli::Common;
use crate::config::shown;
use crate::diag::{Diagnostic, Problems, unsafe_char};
use crate::model::campaign::Campaign;
use crate::model::recipients::email_problem;
use crate::model::sender::{self, Sender};
use crate::model::settings::{self, Settings};
use crate::model::signatories::SignatoryReader;

/// The sender: `appeal.toml`, then `--sender FILE`, then flags, each overriding the one before.
/// `false` beside it when a file it comes from could not be read or parsed: that error is
/// reported, and what is missing because of it is not reported again.
pub(crate) fn resolve_sender(
    common: &Common,
    root: &Path,
    settings: &Settings,
    problems: &mut Problems,
) -> (Sender, bool) {
    let mut sender = Sender::default();
    if let Some(source) = &settings.source {
        settings
            .raw
            .sender
            .apply(source, root, &mut sender, problems);
    }
    let mut read = !settings.broken;
    if let Some(path) = &common.sender {
        read &= sender::load_file(path, &mut sender, problems);
    }
    apply_flags(common, &mut sender, problems);
    (sender, read)
}

fn apply_flags(common: &Common, sender: &mut Sender, problems: &mut Problems) {
    let flag = Path::new("command line");
    let mut clean = |value: &str, what: &str| -> String {
        if let Some(why) = unsafe_char(value) {
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
        if let Some(why) = unsafe_char(&n.replace('\n', " ")) {
            problems.error(flag, None, format!("--from-note {why}"));
        }
        sender.note = Some(n.clone());
    }
    if let Some(e) = &common.from_email {
        if let Some(why) = email_problem(e) {
            problems.error(flag, None, format!("--from-email {why}"));
        }
        sender.email = Some(e.clone());
    }
}

/// Who signs, as far as loading needs to know.
pub(crate) struct Signers {
    /// The copy of signatories given as a pipe or on standard input.
    pub spool: Option<tempfile::TempPath>,
    /// With `--signatories`: whether its header names an `address` column.
    pub csv_has_address: Option<bool>,
}

/// With `--signatories`, its file is opened now so a missing file or a broken header stops
/// every command early. Without it the one sender signs, and needs a name (and a note when the
/// campaign requires one), unless `sender_read` says its file is broken (already reported).
pub(crate) fn check_signers(
    common: &Common,
    root: &Path,
    campaign: Option<&Campaign>,
    (sender, sender_read): (&Sender, bool),
    problems: &mut Problems,
) -> Signers {
    if let Some(path) = &common.signatories {
        let (spool, csv_has_address) = open_signatories(path, problems);
        return Signers {
            spool,
            csv_has_address,
        };
    }
    let none = Signers {
        spool: None,
        csv_has_address: None,
    };
    if !sender_read {
        return none;
    }
    if let Some(c) = campaign
        && c.require_note
        && sender.note.as_deref().is_none_or(|n| n.trim().is_empty())
    {
        problems.error(&c.file, None, "the campaign requires a personal note (require_note = true): set [sender] note in appeal.toml or pass --from-note TEXT");
    }
    if sender.name.trim().is_empty() {
        problems.error(&shown(root, Path::new("appeal.toml")), None, "no sender name: set [sender] name in appeal.toml, or pass --sender FILE or --from-name NAME");
    }
    none
}

/// The copy of a piped file, and whether the file's header has an `address` column (`None`
/// if it cannot be opened: that is reported).
fn open_signatories(
    path: &Path,
    problems: &mut Problems,
) -> (Option<tempfile::TempPath>, Option<bool>) {
    match spool_if_stream(path) {
        Ok(spool) => {
            let source = spool.as_deref().unwrap_or(path);
            let has_address = match SignatoryReader::open(source, path, false) {
                Ok(reader) => Some(reader.has_column("address")),
                Err(d) => {
                    problems.push(d);
                    None
                }
            };
            (spool, has_address)
        }
        Err(d) => {
            problems.push(d);
            (None, None)
        }
    }
}

/// Warnings about a sender that would sign a letter the user does not mean to send: the
/// example sender `appeal init` wrote, or no return address on letters that go by post.
/// `posted` holds the ids of the selected recipients written to on paper.
pub(crate) fn sender_warnings(
    common: &Common,
    settings: &Settings,
    (sender, signers): (&Sender, &Signers),
    posted: &[String],
    problems: &mut Problems,
) {
    let settings_file = settings.source.as_ref().map(|s| s.path.clone());
    let by_post = match posted.len() {
        1 => format!("1 letter goes by post ({})", posted.join(", ")),
        n => format!("{n} letters go by post ({})", posted.join(", ")),
    };
    match (&common.signatories, signers.csv_has_address) {
        (Some(csv), Some(false)) if !posted.is_empty() => {
            problems.push(Diagnostic::warning(
                csv,
                Some((1, 1)),
                format!(
                    "the signatories file has no `address` column, and {by_post} from each signatory: the envelopes will carry no return address"
                ),
            ));
        }
        (Some(_), _) => {}
        (None, _) => {
            let root = common.directory.as_deref().unwrap_or(Path::new("."));
            let file = settings_file.unwrap_or_else(|| shown(root, Path::new("appeal.toml")));
            example_sender_warning(&file, settings, sender, problems);
            if !posted.is_empty() && sender.address.iter().all(|l| l.trim().is_empty()) {
                problems.push(Diagnostic::warning(
                    &file,
                    None,
                    format!(
                        "the sender has no postal address, and {by_post}: the envelope will carry no return address; set [sender] address in appeal.toml or pass --from-address LINE"
                    ),
                ));
            }
        }
    }
}

/// The sender's name, email or address is still the example `appeal init` wrote.
fn example_sender_warning(
    file: &Path,
    settings: &Settings,
    sender: &Sender,
    problems: &mut Problems,
) {
    let Some(example) = settings::example_sender() else {
        return;
    };
    let text = |v: &Option<toml::Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
    let example_address: Vec<String> = example
        .address
        .iter()
        .flatten()
        .map(|l| l.get_ref().clone())
        .collect();
    let mut same = Vec::new();
    if Some(&sender.name) == text(&example.name).as_ref() {
        same.push(format!("name `{}`", sender.name));
    }
    if sender.email.is_some() && sender.email == text(&example.email) {
        same.push(format!(
            "email `{}`",
            sender.email.as_deref().unwrap_or_default()
        ));
    }
    if !sender.address.is_empty() && sender.address == example_address {
        same.push("address".to_string());
    }
    if same.is_empty() {
        return;
    }
    // Point at the example's line in appeal.toml when that is where it came from.
    let raw = &settings.raw.sender;
    let position = settings.source.as_ref().and_then(|source| {
        [(&raw.name, &example.name), (&raw.email, &example.email)]
            .into_iter()
            .find_map(|(value, example)| match (value, example) {
                (Some(v), Some(e)) if v.get_ref() == e.get_ref() => Some(v.span()),
                _ => None,
            })
            .map(|span| source.span_position(&span))
    });
    problems.push(Diagnostic::warning(
        file,
        position,
        format!(
            "the sender is still the example from `appeal init` ({}): set your own in [sender] in appeal.toml, or pass --from-name NAME (with --from-email and --from-address)",
            same.join(", ")
        ),
    ));
}

/// A run reads the signatories more than once (check, then write; or `send`'s two passes), and
/// a pipe or standard input (`-`) can be read only once: such input is copied to a temporary
/// file first, removed when the run ends. A regular file is read where it is.
fn spool_if_stream(path: &Path) -> Result<Option<tempfile::TempPath>, Diagnostic> {
    use std::io::Write;
    let stdin = path == Path::new("-");
    // A regular file is read in place; one that cannot be read is reported by opening it.
    if !stdin && std::fs::metadata(path).map_or(true, |m| m.is_file()) {
        return Ok(None);
    }
    let cannot = |e: std::io::Error| {
        Diagnostic::error(path, None, format!("cannot read the signatories file: {e}"))
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
