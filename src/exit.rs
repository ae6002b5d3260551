//! Exit codes, in one place (SPEC section 2).

use std::process::ExitCode;

/// What a run ended with, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every selected letter delivered or written.
    Success,
    /// Some letter failed permanently.
    Failed,
    /// Usage error or invalid input; nothing was sent.
    Invalid,
    /// Some letters deferred or in doubt, none failed: try again later (EX_TEMPFAIL).
    TempFail,
    /// Stopped by Ctrl-C.
    Interrupted,
}

/// An error that is nobody's input: a server that cannot be reached now (refused, silent,
/// hung up). The run ends with 75, "try again later", not 2, so a scheduled `appeal inbox`
/// simply runs again; the text is the whole message.
#[derive(Debug)]
pub struct TryLater(pub String);

impl std::fmt::Display for TryLater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TryLater {}

impl Exit {
    /// The exit of a run that ended with `err`: 75 when a [`TryLater`] is in its chain, else 2.
    pub fn for_error(err: &anyhow::Error) -> Exit {
        if err.chain().any(|e| e.is::<TryLater>()) {
            Exit::TempFail
        } else {
            Exit::Invalid
        }
    }

    /// The number the shell sees.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
            Exit::TempFail => 75,
            Exit::Interrupted => 130,
        }
    }

    /// The exit rule of `send` and `status`, from how many letters failed for good and how
    /// many are still to do (not started, pending, deferred, in doubt): Ctrl-C ends with 130
    /// whatever else happened, then any failure with 1, then anything still to do with 75.
    pub fn for_letters(failed: usize, outstanding: usize, interrupted: bool) -> Exit {
        if interrupted {
            Exit::Interrupted
        } else if failed > 0 {
            Exit::Failed
        } else if outstanding > 0 {
            Exit::TempFail
        } else {
            Exit::Success
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_server_is_try_again_later_and_anything_else_invalid_input() {
        use anyhow::Context;
        let later: anyhow::Result<()> = Err(TryLater("cannot connect".into()).into());
        let later = later.context("reading the mailbox").unwrap_err();
        assert_eq!(Exit::for_error(&later), Exit::TempFail);
        assert_eq!(format!("{later:#}"), "reading the mailbox: cannot connect");
        let bad = anyhow::anyhow!("wrong password");
        assert_eq!(Exit::for_error(&bad), Exit::Invalid);
    }

    #[test]
    fn codes_match_the_spec() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Failed.code(), 1);
        assert_eq!(Exit::Invalid.code(), 2);
        assert_eq!(Exit::TempFail.code(), 75);
        assert_eq!(Exit::Interrupted.code(), 130);
    }

    #[test]
    fn the_letters_decide_the_exit() {
        assert_eq!(Exit::for_letters(0, 0, false), Exit::Success);
        assert_eq!(Exit::for_letters(0, 2, false), Exit::TempFail);
        assert_eq!(Exit::for_letters(1, 0, false), Exit::Failed);
        // A failure outranks letters still to do; Ctrl-C outranks both.
        assert_eq!(Exit::for_letters(1, 2, false), Exit::Failed);
        assert_eq!(Exit::for_letters(1, 2, true), Exit::Interrupted);
        assert_eq!(Exit::for_letters(0, 0, true), Exit::Interrupted);
    }
}
