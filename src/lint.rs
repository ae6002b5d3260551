//! Print lint for `check`: things that make a letter less likely to arrive or be read.

use crate::config::Config;
use crate::diag::{Diagnostic, Problems};
use crate::letter::Letter;

/// Lines the DIN 5008 window field holds for the recipient (title + name + address).
pub const MAX_ADDRESS_LINES: usize = 6;

pub fn lint(config: &Config, letters: &[Letter], problems: &mut Problems) {
    let file = std::path::PathBuf::from("recipients.toml");
    for l in letters {
        let lines = 2 + l.recipient.address.len();
        if lines > MAX_ADDRESS_LINES {
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
