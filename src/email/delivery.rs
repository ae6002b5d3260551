//! Delivery over SMTP: several sessions (see [`crate::email::session`]) take the messages as
//! they are built, one transaction each (see [`crate::email::transaction`]), at a rate, with
//! retries and backoff for transient failures, and stop as a whole when the server no longer
//! takes mail (see [`crate::email::health`]).
//!
//! Each message ends in an [`Outcome`]. [`Hooks`] are told before each transaction, just before
//! the terminating dot of its data, and once the outcome is known, so a ledger can record
//! *pending* before anything goes out, *sending* before the message can be complete at the
//! server, and *sent* after the 250. A message never tried because sending stopped is not told
//! to the hooks: it stays as it was.
//!
//! Messages arrive through an [`Outbox`] as they are built, so the first is on the wire while
//! the rest are still being made, and only a few are in memory at once.
//!
//! Whatever a server says leaves this module only through [`crate::email::reply::clean`]
//! (every outcome and every reason to stop), so no escape sequence reaches a terminal or the
//! ledger.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use lettre::transport::smtp::extension::ClientId;

use crate::email::health::{Health, Held, MAX_ATTEMPTS, Settled, backoff};
use crate::email::message::Email;
// The seam with the maker thread has its own file; the send command finds it here too.
pub use crate::email::outbox::{Hooks, Inbox, NoHooks, Outbox, Outcome, outbox};
use crate::email::reply::clean;
use crate::email::session::{Session, SessionError, Setup, open};
use crate::email::smtp::{Secret, Security, SmtpSettings};
use crate::email::tls::{implicit_tls_config, tls_parameters};
use crate::email::transaction::{TransactionEnd, Try, transaction};

/// The result of delivering a batch.
#[derive(Debug)]
pub struct Report {
    /// One per email, in input order.
    pub outcomes: Vec<Outcome>,
    /// Why sending stopped early when it takes a fix before the next run (a hook failed, the
    /// server or the account refused the session), if it did.
    pub stopped: Option<String>,
    /// How many messages were never tried because sending stopped, and the outcome each got
    /// (deferred: the hooks are not told of them, and they stay as they were).
    pub untried: Option<(usize, Outcome)>,
}

/// Why sending stopped before every message was tried.
#[derive(Debug, Clone)]
enum Stop {
    /// The server or the account refuses the session (TLS, authentication, a 5xx greeting,
    /// MAIL FROM refused, an extension missing, the same refusal letter after letter): a fix
    /// is needed before the next run.
    Refused(String),
    /// A hook failed (the ledger) or Ctrl-C.
    Halted(String),
    /// The server cannot be reached, or takes nothing now: try again later.
    Unreachable(String),
}

impl Stop {
    /// What a message caught by the stop becomes: deferred, whichever the stop.
    fn outcome(&self) -> Outcome {
        let reason = match self {
            Stop::Halted(reason) => format!("not sent: sending stopped ({reason})"),
            Stop::Refused(reason) | Stop::Unreachable(reason) => reason.clone(),
        };
        Outcome::Deferred { reason }
    }
}

struct Shared {
    setup: Setup,
    hooks: Arc<dyn Hooks>,
    /// Messages given back by a session that could not connect, taken before new ones.
    returned: Mutex<VecDeque<(usize, Email)>>,
    inbox: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<(usize, Email)>>,
    outcomes: Mutex<Vec<Option<Outcome>>>,
    /// Per message: a transaction was started (and told to the hooks).
    started: Vec<AtomicBool>,
    health: Health,
    /// Set once something makes further sending pointless or unsafe; `stop_flag` tells the
    /// builder.
    stop: Mutex<Option<Stop>>,
    stop_flag: Arc<AtomicBool>,
    next_slot: Mutex<Instant>,
    /// Workers still running; one that cannot connect gives its letter back while others run.
    alive: AtomicUsize,
}

impl Shared {
    fn stopped(&self) -> Option<Stop> {
        self.stop.lock().ok().and_then(|s| s.clone())
    }

    fn set_stop(&self, stop: Stop) {
        let stop = match stop {
            Stop::Refused(r) => Stop::Refused(clean(&r)),
            Stop::Halted(r) => Stop::Halted(clean(&r)),
            Stop::Unreachable(r) => Stop::Unreachable(clean(&r)),
        };
        if let Ok(mut s) = self.stop.lock()
            && s.is_none()
        {
            *s = Some(stop);
        }
        self.stop_flag.store(true, Ordering::SeqCst);
    }

    /// The next message: one given back, else the next one built; `None` once the builder is
    /// done and every message has been taken.
    async fn pop(&self) -> Option<(usize, Email)> {
        if let Some(m) = self.returned.lock().ok().and_then(|mut q| q.pop_front()) {
            return Some(m);
        }
        self.inbox.lock().await.recv().await
    }

    fn give_back(&self, index: usize, email: Email) {
        if let Ok(mut q) = self.returned.lock() {
            q.push_front((index, email));
        }
    }

    fn started(&self, index: usize) -> bool {
        self.started
            .get(index)
            .is_some_and(|s| s.load(Ordering::SeqCst))
    }

    /// Tells the hooks how message `index` ended, and keeps it for the report.
    fn record(&self, index: usize, email: &Email, outcome: Outcome) {
        let outcome = outcome.cleaned();
        // Hooks may block (a file, a database): let the runtime move other sessions meanwhile.
        let result = tokio::task::block_in_place(|| self.hooks.outcome(index, email, &outcome));
        if let Err(e) = result {
            self.set_stop(Stop::Halted(format!("{e:#}")));
        }
        if let Ok(mut o) = self.outcomes.lock() {
            o[index] = Some(outcome);
        }
    }

    /// A message caught by a stop: deferred if its transaction had started (the hooks know
    /// it), else left untried, as it was.
    fn caught(&self, index: usize, email: &Email, stop: &Stop) {
        if self.started(index) {
            self.record(index, email, stop.outcome());
        }
    }

    /// Records what the health settled: refusals that were the letters' own, and those
    /// deferred because the refusal was the session's (which stops the run).
    fn settle(&self, settled: Settled) {
        if let Some(why) = settled.stop {
            self.set_stop(Stop::Refused(why));
        }
        for h in settled.failed {
            self.record(h.index, &h.email, Outcome::Failed { reason: h.reason });
        }
        let stop = self.stopped();
        for h in settled.deferred {
            let reason = match &stop {
                Some(Stop::Refused(why)) => why.clone(),
                _ => h.reason,
            };
            self.record(h.index, &h.email, Outcome::Deferred { reason });
        }
    }

    async fn wait_for_slot(&self) {
        let Some(rate) = self.setup.settings.rate else {
            return;
        };
        let at = match self.next_slot.lock() {
            Ok(mut next) => {
                let at = (*next).max(Instant::now());
                *next = at + rate.interval();
                at
            }
            Err(_) => return,
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// Where a message with a number past the run's count (never made) would be marked started.
static NOT_TRACKED: AtomicBool = AtomicBool::new(false);

/// How a worker is done with one message.
enum Done {
    /// With this outcome.
    Ended(Outcome),
    /// Refused for good, maybe for the session's sake: for the health to settle.
    Refused {
        reason: String,
        kind: Option<String>,
    },
    /// Sending stopped while the message was in hand.
    Caught(Stop),
    /// No session: the message goes back to the workers that have one, and this one ends.
    GaveBack,
}

/// Opens a session for a worker that has none. `Err` says how the worker is done with its
/// message; after a failure worth another try, `Ok(None)` once it waited.
async fn reopen(shared: &Shared, fails: &mut u32) -> Result<Option<Session>, Done> {
    match open(&shared.setup).await {
        Ok(s) => {
            shared.health.opened();
            *fails = 0;
            Ok(Some(s))
        }
        Err(SessionError::Fatal(reason)) => {
            shared.set_stop(Stop::Refused(reason));
            Ok(None)
        }
        Err(SessionError::Transient(reason)) => {
            *fails += 1;
            if let Some(why) = shared.health.open_failed(&reason) {
                shared.set_stop(Stop::Unreachable(why));
                return Ok(None);
            }
            // A server may take fewer connections than we open: leave the letter to the
            // workers that have one, while any is working.
            if shared.alive.load(Ordering::SeqCst) > 1 {
                return Err(Done::GaveBack);
            }
            tokio::time::sleep(backoff(*fails)).await;
            Ok(None)
        }
    }
}

/// Tries message `index` over the worker's `session` (opening one when it has none) until it
/// ends, retries used up, or sending stops.
async fn deliver_one(
    shared: &Shared,
    session: &mut Option<Session>,
    index: usize,
    email: &Email,
) -> Done {
    let (mut tries, mut open_fails) = (0, 0);
    loop {
        if let Some(stop) = shared.stopped() {
            return Done::Caught(stop);
        }
        let Some(s) = session.as_mut() else {
            match reopen(shared, &mut open_fails).await {
                Ok(opened) => *session = opened,
                Err(done) => return done,
            }
            continue;
        };
        shared.wait_for_slot().await;
        tries += 1;
        let at = Try {
            hooks: shared.hooks.as_ref(),
            timeout: shared.setup.settings.timeout,
            index,
            email,
            started: shared.started.get(index).unwrap_or(&NOT_TRACKED),
        };
        let end = transaction(s, &at).await;
        if !matches!(
            end,
            TransactionEnd::Sent(_)
                | TransactionEnd::SessionRefused(_)
                | TransactionEnd::Refused { broken: false, .. }
                | TransactionEnd::Transient { broken: false, .. }
        ) {
            // Broken, or cut in the middle of the data: dropped, never reused.
            *session = None;
        }
        match end {
            TransactionEnd::Sent(reply) => {
                return Done::Ended(Outcome::Sent {
                    reply,
                    message_id: email.message_id.clone(),
                });
            }
            TransactionEnd::Refused { reason, kind, .. } => return Done::Refused { reason, kind },
            TransactionEnd::InDoubt(reason) => return Done::Ended(Outcome::InDoubt { reason }),
            TransactionEnd::SessionRefused(reason) => shared.set_stop(Stop::Refused(reason)),
            TransactionEnd::Stop(reason) => shared.set_stop(Stop::Halted(reason)),
            TransactionEnd::Transient { reason, .. } if tries >= MAX_ATTEMPTS => {
                let reason = format!("{reason} (tried {tries} times)");
                if let Some(why) = shared.health.deferred(&reason) {
                    shared.set_stop(Stop::Unreachable(why));
                }
                return Done::Ended(Outcome::Deferred { reason });
            }
            TransactionEnd::Transient { .. } => tokio::time::sleep(backoff(tries)).await,
        }
    }
}

async fn worker(shared: Arc<Shared>, mut session: Option<Session>) {
    while let Some((index, email)) = shared.pop().await {
        let done = match shared.stopped() {
            Some(stop) => Done::Caught(stop),
            None => deliver_one(&shared, &mut session, index, &email).await,
        };
        match done {
            Done::Ended(outcome) => {
                if let Outcome::Sent { .. } = outcome {
                    shared.settle(shared.health.sent());
                }
                shared.record(index, &email, outcome);
            }
            Done::Refused { reason, kind } => {
                let letter = Held {
                    index,
                    email,
                    reason,
                };
                shared.settle(shared.health.refused(kind, letter));
            }
            Done::Caught(stop) => shared.caught(index, &email, &stop),
            Done::GaveBack => {
                shared.alive.fetch_sub(1, Ordering::SeqCst);
                shared.give_back(index, email);
                return;
            }
        }
    }
    shared.alive.fetch_sub(1, Ordering::SeqCst);
    if let Some(mut s) = session {
        let _ = tokio::time::timeout(Duration::from_secs(2), s.conn.quit()).await;
    }
}

/// Delivers the `n` messages that arrive through `inbox` (numbered `0..n`) over up to
/// `settings.connections` sessions. The first session is opened alone, so a wrong password or a
/// bad certificate is met once, not once per connection. Once sending stops, the builder is
/// told (its next [`Outbox::put`] is `false`); a message in flight then is deferred, and every
/// message never tried is counted in [`Report::untried`].
pub fn deliver(
    settings: &SmtpSettings,
    password: Option<Secret>,
    n: usize,
    inbox: Inbox,
    hooks: Arc<dyn Hooks>,
) -> Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let setup = Setup {
        settings: settings.clone(),
        password,
        client_id: ClientId::default(),
        implicit_tls: match settings.endpoint.security {
            Security::Implicit => Some(implicit_tls_config(settings)?),
            _ => None,
        },
        tls: tls_parameters(settings)?,
    };
    let shared = Arc::new(Shared {
        setup,
        hooks,
        returned: Mutex::new(VecDeque::new()),
        inbox: tokio::sync::Mutex::new(inbox.rx),
        outcomes: Mutex::new(vec![None; n]),
        started: (0..n).map(|_| AtomicBool::new(false)).collect(),
        health: Health::default(),
        stop: Mutex::new(None),
        stop_flag: inbox.stop,
        next_slot: Mutex::new(Instant::now()),
        alive: AtomicUsize::new(settings.connections.min(n).max(1)),
    });
    runtime.block_on(async {
        if n > 0 {
            run_sessions(&shared).await;
        }
    });
    // A maker still handing messages over (sending stopped) is released when `shared`, and
    // with it the inbox, is dropped on return; those messages are among the ones never tried.
    report(&shared)
}

/// What became of every message once the sessions are over.
fn report(shared: &Shared) -> Result<Report> {
    let stop = shared.stopped();
    let mut outcomes = shared
        .outcomes
        .lock()
        .map_err(|_| anyhow!("internal: outcome list poisoned"))?;
    // Messages never tried (or never built), because sending stopped first.
    let untried_outcome = match &stop {
        Some(s) => s.outcome(),
        None => Outcome::Deferred {
            reason: "not attempted".into(),
        },
    };
    let mut untried = 0;
    for slot in outcomes.iter_mut().filter(|o| o.is_none()) {
        *slot = Some(untried_outcome.clone());
        untried += 1;
    }
    let outcomes = outcomes.iter_mut().filter_map(Option::take).collect();
    let untried = (untried > 0).then_some((untried, untried_outcome));
    let stopped = match stop {
        Some(Stop::Halted(reason) | Stop::Refused(reason)) => Some(reason),
        _ => None,
    };
    Ok(Report {
        outcomes,
        stopped,
        untried,
    })
}

/// The first session, alone, tried until it opens or the health gives up; `None` when sending
/// stopped.
async fn first_session(shared: &Shared) -> Option<Session> {
    let mut fails = 0;
    loop {
        match open(&shared.setup).await {
            Ok(s) => {
                shared.health.opened();
                return Some(s);
            }
            Err(SessionError::Fatal(reason)) => {
                shared.set_stop(Stop::Refused(reason));
                return None;
            }
            Err(SessionError::Transient(reason)) => {
                fails += 1;
                if let Some(why) = shared.health.open_failed(&reason) {
                    shared.set_stop(Stop::Unreachable(why));
                    return None;
                }
                tokio::time::sleep(backoff(fails)).await;
            }
        }
    }
}

/// The sessions: the first one alone (with retries), then the others beside it. Refusals
/// still held once they are over were the letters' own.
async fn run_sessions(shared: &Arc<Shared>) {
    let Some(first) = first_session(shared).await else {
        return;
    };
    let workers = shared.alive.load(Ordering::SeqCst);
    let mut handles = Vec::with_capacity(workers);
    handles.push(tokio::spawn(worker(Arc::clone(shared), Some(first))));
    for _ in 1..workers {
        handles.push(tokio::spawn(worker(Arc::clone(shared), None)));
    }
    for h in handles {
        let _ = h.await;
    }
    // A letter given back just as the last other worker finished: one more, alone.
    let left = shared
        .returned
        .lock()
        .map(|q| !q.is_empty())
        .unwrap_or(false);
    if left {
        shared.alive.store(1, Ordering::SeqCst);
        worker(Arc::clone(shared), None).await;
    }
    let failed = shared.health.finish();
    shared.settle(Settled {
        failed,
        ..Settled::default()
    });
}
