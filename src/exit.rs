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

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
            Exit::TempFail => 75,
            Exit::Interrupted => 130,
        }
    }

    /// The worse of two outcomes: failures outrank deferrals, which outrank success.
    pub fn worst(self, other: Exit) -> Exit {
        fn rank(e: Exit) -> u8 {
            match e {
                Exit::Success => 0,
                Exit::TempFail => 1,
                Exit::Failed => 2,
                Exit::Invalid => 3,
                Exit::Interrupted => 4,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
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
    fn codes_match_the_spec() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Failed.code(), 1);
        assert_eq!(Exit::Invalid.code(), 2);
        assert_eq!(Exit::TempFail.code(), 75);
        assert_eq!(Exit::Interrupted.code(), 130);
    }

    #[test]
    fn failure_outranks_deferral() {
        assert_eq!(Exit::TempFail.worst(Exit::Failed), Exit::Failed);
        assert_eq!(Exit::Failed.worst(Exit::TempFail), Exit::Failed);
        assert_eq!(Exit::Success.worst(Exit::TempFail), Exit::TempFail);
        assert_eq!(Exit::Success.worst(Exit::Success), Exit::Success);
    }
}
