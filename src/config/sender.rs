//! Who signs the letters: the sender from `appeal.toml`, `--sender FILE` and the `--from-*`
//! flags, or one signatory per row of `--signatories CSV`.

use std::path::Path;

use crate::cli::Common;
use crate::config::shown;
use crate::diag::{Diagnostic, Problems, unsafe_char};
use crate::model::campaign::Campaign;
use crate::model::recipients::email_problem;
use crate::model::sender::{self, Sender};
use crate::model::settings::Settings;
use crate::model::signatories::SignatoryReader;

/// The sender: `appeal.toml`, then `--sender FILE`, then flags, each overriding the one before.
pub(crate) fn resolve_sender(
    common: &Common,
    root: &Path,
    settings: &Settings,
    problems: &mut Problems,
) -> Sender {
    let mut sender = Sender::default();
    if let Some(source) = &settings.source {
        settings
            .raw
            .sender
            .apply(source, root, &mut sender, problems);
    }
    if let Some(path) = &common.sender {
        sender::load_file(path, &mut sender, problems);
    }
    apply_flags(common, &mut sender, problems);
    sender
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

/// With `--signatories`, its file is opened now so a missing file or a broken header stops
/// every command early; the copy of a pipe comes back. Without it the one sender signs, and
/// needs a name (and a note when the campaign requires one).
pub(crate) fn check_signers(
    common: &Common,
    root: &Path,
    campaign: Option<&Campaign>,
    sender: &Sender,
    problems: &mut Problems,
) -> Option<tempfile::TempPath> {
    if let Some(path) = &common.signatories {
        return open_signatories(path, problems);
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
    None
}

fn open_signatories(path: &Path, problems: &mut Problems) -> Option<tempfile::TempPath> {
    match spool_if_stream(path) {
        Ok(spool) => {
            let source = spool.as_deref().unwrap_or(path);
            if let Err(d) = SignatoryReader::open(source, path, false) {
                problems.push(d);
            }
            spool
        }
        Err(d) => {
            problems.push(d);
            None
        }
    }
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
