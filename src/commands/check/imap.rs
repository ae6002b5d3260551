//! `check` looks at `[imap]` too: the URL `appeal inbox` would read (TLS, no password in
//! it, plaintext only to this machine) and its CA file, never the password.

use crate::config::Config;
use crate::diag::{Diagnostic, Problems};
use crate::email::imap::{ImapFlags, resolve};

/// An error at `[imap] url` in appeal.toml when `inbox` would refuse it.
pub fn check(config: &Config, problems: &mut Problems) {
    let Some(raw) = &config.settings.raw.imap else {
        return;
    };
    let Err(e) = resolve(&ImapFlags::default(), Some(raw), &config.root) else {
        return;
    };
    let source = config.settings.source.as_ref();
    let path = source.map_or_else(|| config.root.join("appeal.toml"), |s| s.path.clone());
    let position = raw
        .url
        .as_ref()
        .and_then(|u| source.map(|s| s.span_position(&u.span())));
    problems.push(Diagnostic::error(&path, position, format!("[imap]: {e:#}")));
}
