//! Whether the server still takes mail, judged over the whole run rather than letter by
//! letter. Sending stops (and the letters not tried stay as they were) when:
//! - no session could be opened, [`MAX_ATTEMPTS`] times in a row over at least
//!   [`OPEN_PATIENCE`], with none opened and no letter sent between: the server is down or
//!   unreachable;
//! - [`DEFERRED_IN_A_ROW`] letters in a row used up their tries, with none sent between: the
//!   server takes nothing now;
//! - [`REFUSED_IN_A_ROW`] letters in a row were refused for good with the same reply (one that
//!   does not name the letter's own address), with none sent between: that is about the
//!   account or the server, not the letters. Such refusals are held back, not reported, until
//!   the streak is broken (then they failed) or complete (then they are deferred).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::email::message::Email;

/// Tries at one letter for failures worth a retry.
pub(crate) const MAX_ATTEMPTS: u32 = 4;
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long sessions must have failed to open before the run stops: the backoff of
/// [`MAX_ATTEMPTS`] tries (0.5 + 1 + 2 s).
pub(crate) const OPEN_PATIENCE: Duration = Duration::from_millis(3500);
/// Letters deferred in a row, none sent between, that stop the run.
pub(crate) const DEFERRED_IN_A_ROW: usize = 3;
/// Letters refused in a row with the same reply, none sent between, that stop the run.
pub(crate) const REFUSED_IN_A_ROW: usize = 5;

/// The wait before try `attempt + 1`: 0.5 s, 1 s, 2 s, ... up to 30 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    (BACKOFF_BASE * 2u32.saturating_pow(attempt.saturating_sub(1))).min(BACKOFF_MAX)
}

/// A letter refused for good, its report held back while the refusal may be the session's.
pub(crate) struct Held {
    pub(crate) index: usize,
    pub(crate) email: Email,
    pub(crate) reason: String,
}

/// What becomes of held refusals: those that `failed` (the refusal was the letter's), those
/// `deferred` because the run `stop`s (the refusal was the session's, said why).
#[derive(Default)]
pub(crate) struct Settled {
    pub(crate) failed: Vec<Held>,
    pub(crate) deferred: Vec<Held>,
    pub(crate) stop: Option<String>,
}

#[derive(Default)]
struct State {
    /// Sessions that failed to open since the last one that opened, and when the first did.
    open_failures: u32,
    first_open_failure: Option<Instant>,
    /// Letters deferred since the last one sent or refused.
    deferred: usize,
    /// The reply the letters held were refused with, and those letters.
    streak: Option<(String, Vec<Held>)>,
}

/// The run's view of the server; shared by every session.
#[derive(Default)]
pub(crate) struct Health(Mutex<State>);

impl Health {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the counts half-changed: take them as they are.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session opened.
    pub(crate) fn opened(&self) {
        let mut s = self.state();
        s.open_failures = 0;
        s.first_open_failure = None;
    }

    /// A session failed to open for `reason`: `Some(why)` when the run should stop.
    pub(crate) fn open_failed(&self, reason: &str) -> Option<String> {
        let mut s = self.state();
        s.open_failures += 1;
        let first = *s.first_open_failure.get_or_insert_with(Instant::now);
        let span = first.elapsed();
        (s.open_failures >= MAX_ATTEMPTS && span >= OPEN_PATIENCE).then(|| {
            format!(
                "{reason} ({} tries over {}s, no session opened)",
                s.open_failures,
                span.as_secs()
            )
        })
    }

    /// A letter was sent: the server takes mail (sessions that failed to open before do not
    /// count any more). Letters held are the ones that failed.
    pub(crate) fn sent(&self) -> Settled {
        let mut s = self.state();
        s.deferred = 0;
        s.open_failures = 0;
        s.first_open_failure = None;
        Settled {
            failed: s.streak.take().map(|(_, held)| held).unwrap_or_default(),
            ..Settled::default()
        }
    }

    /// A letter used up its tries: `Some(why)` when the run should stop.
    pub(crate) fn deferred(&self, reason: &str) -> Option<String> {
        let mut s = self.state();
        s.deferred += 1;
        (s.deferred >= DEFERRED_IN_A_ROW).then(|| {
            format!(
                "{reason}; {} letters in a row deferred, none sent",
                s.deferred
            )
        })
    }

    /// A letter was refused for good; `kind` as [`crate::email::transaction::refusal_kind`]
    /// gives it. Returns what to report now: the letter may be held.
    pub(crate) fn refused(&self, kind: Option<String>, letter: Held) -> Settled {
        let mut s = self.state();
        s.deferred = 0;
        let mut settled = Settled::default();
        let Some(kind) = kind else {
            settled.failed = s.streak.take().map(|(_, held)| held).unwrap_or_default();
            settled.failed.push(letter);
            return settled;
        };
        match &mut s.streak {
            Some((k, held)) if *k == kind => held.push(letter),
            other => {
                if let Some((_, held)) = other.take() {
                    settled.failed = held;
                }
                *other = Some((kind, vec![letter]));
            }
        }
        if let Some((_, held)) = s.streak.take_if(|(_, held)| held.len() >= REFUSED_IN_A_ROW) {
            settled.stop = held.last().map(|h| {
                format!(
                    "{}; {} letters in a row refused with this reply, none sent: that is about \
                     the account or the server rather than the letters, which stay to be sent",
                    h.reason,
                    held.len()
                )
            });
            settled.deferred = held;
        }
        settled
    }

    /// The run is over: the letters still held were refused for their own sake.
    pub(crate) fn finish(&self) -> Vec<Held> {
        self.state()
            .streak
            .take()
            .map(|(_, held)| held)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(index: usize) -> Held {
        Held {
            index,
            email: Email {
                message_id: format!("<{index}@example.org>"),
                from: "a@example.org".parse().unwrap(),
                to: "b@example.org".parse().unwrap(),
                token: None,
                cc: vec![],
                bytes: vec![],
                utf8_address: None,
            },
            reason: "RCPT TO: 554 5.7.1 relay access denied".into(),
        }
    }

    fn indexes(held: &[Held]) -> Vec<usize> {
        held.iter().map(|h| h.index).collect()
    }

    #[test]
    fn the_same_refusal_letter_after_letter_stops_the_run_and_defers_them_all() {
        let h = Health::default();
        let kind = || Some("554 5.7.1".to_string());
        for i in 0..REFUSED_IN_A_ROW - 1 {
            let s = h.refused(kind(), letter(i));
            assert!(s.failed.is_empty() && s.deferred.is_empty() && s.stop.is_none());
        }
        let s = h.refused(kind(), letter(9));
        assert!(s.failed.is_empty());
        assert_eq!(indexes(&s.deferred), [0, 1, 2, 3, 9]);
        assert!(s.stop.expect("stop").contains("5 letters in a row"));
        assert!(h.finish().is_empty());
    }

    #[test]
    fn a_letter_sent_or_another_refusal_between_makes_them_failures() {
        let h = Health::default();
        let kind = || Some("554 5.7.1".to_string());
        h.refused(kind(), letter(0));
        h.refused(kind(), letter(1));
        assert_eq!(indexes(&h.sent().failed), [0, 1]);
        h.refused(kind(), letter(2));
        let s = h.refused(Some("550".into()), letter(3));
        assert_eq!(indexes(&s.failed), [2]);
        let s = h.refused(None, letter(4));
        assert_eq!(indexes(&s.failed), [3, 4]);
        assert!(s.stop.is_none());
        h.refused(kind(), letter(5));
        assert_eq!(indexes(&h.finish()), [5]);
    }

    #[test]
    fn deferrals_in_a_row_stop_the_run_unless_a_letter_goes_between() {
        let h = Health::default();
        assert!(h.deferred("451").is_none());
        assert!(h.deferred("451").is_none());
        h.sent();
        assert!(h.deferred("451").is_none());
        assert!(h.deferred("451").is_none());
        assert!(
            h.deferred("451")
                .expect("stop")
                .contains("3 letters in a row")
        );
    }

    #[test]
    fn failed_opens_stop_the_run_only_after_several_tries_over_some_seconds() {
        let h = Health::default();
        for _ in 0..10 {
            assert!(h.open_failed("refused").is_none(), "too soon");
        }
        h.0.lock().unwrap().first_open_failure = Some(Instant::now() - OPEN_PATIENCE);
        assert!(
            h.open_failed("refused")
                .expect("stop")
                .starts_with("refused (")
        );
        h.opened();
        assert!(h.open_failed("refused").is_none());
        // Old failures do not add up with new ones once a letter went out.
        h.0.lock().unwrap().first_open_failure = Some(Instant::now() - OPEN_PATIENCE);
        for _ in 0..2 {
            h.open_failed("refused");
        }
        h.sent();
        assert!(h.open_failed("refused").is_none());
        assert!(h.open_failed("refused").is_none());
    }
}
