//! Delivery over SMTP: sessions driven step by step on our own sockets (TCP_NODELAY, a timeout
//! on every step), STARTTLS or implicit TLS, AUTH, several connections, a rate, retries with
//! backoff for transient failures.
//!
//! Each message ends in an [`Outcome`]. [`Hooks`] are told just before DATA and once the outcome
//! is known, so a ledger can record *pending* before the data goes out and *sent* after the 250.
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
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use crate::email::message::Email;
use crate::email::reply::clean;
// The seam with the maker thread has its own file; the send command finds it here too.
pub use crate::email::outbox::{Hooks, Inbox, NoHooks, Outbox, Outcome, outbox};
use crate::email::smtp::{Endpoint, PASSWORD_ENV, Secret, Security, SmtpSettings};
use crate::email::tls::{self, ImplicitTls, implicit_tls_config, tls_parameters};

/// Retry policy for transient failures.
const MAX_ATTEMPTS: u32 = 4;
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

fn backoff(attempt: u32) -> Duration {
    (BACKOFF_BASE * 2u32.saturating_pow(attempt.saturating_sub(1))).min(BACKOFF_MAX)
}

/// The result of delivering a batch.
#[derive(Debug)]
pub struct Report {
    /// One per email, in input order.
    pub outcomes: Vec<Outcome>,
    /// Why sending stopped early (a hook failed), if it did.
    pub stopped: Option<String>,
    /// How many messages were never tried because sending stopped, and the outcome each got
    /// (the hooks are not told of them one by one).
    pub untried: Option<(usize, Outcome)>,
}

/// Why sending stopped before every message was tried.
#[derive(Debug, Clone)]
enum Stop {
    /// Retrying cannot help (TLS, authentication): every message left fails with this.
    Fatal(String),
    /// A hook failed (the ledger) or Ctrl-C: every message left is deferred, not started.
    Halted(String),
    /// No session could be opened, retries used up: every message is deferred with this.
    Unreachable(String),
}

impl Stop {
    /// What a message not yet tried becomes.
    fn outcome(&self) -> Outcome {
        match self {
            Stop::Fatal(reason) => Outcome::Failed {
                reason: reason.clone(),
            },
            Stop::Halted(reason) => Outcome::Deferred {
                reason: format!("not sent: sending stopped ({reason})"),
            },
            Stop::Unreachable(reason) => Outcome::Deferred {
                reason: reason.clone(),
            },
        }
    }
}

/// Why a session step did not work.
#[derive(Debug)]
enum SessionError {
    /// Worth another try later (network, 4xx).
    Transient(String),
    /// Retrying cannot help (TLS, authentication, no STARTTLS): stop everything.
    Fatal(String),
}

/// How one SMTP transaction (one try at one message, MAIL FROM to the reply after the data)
/// ended; the message's [`Outcome`] comes after every try.
enum TransactionEnd {
    /// The server's final reply.
    Sent(String),
    /// Refused for good (5xx), or the server cannot take this message.
    Permanent(String),
    /// Before the data; `broken` when the connection cannot be reused.
    Transient { reason: String, broken: bool },
    /// The connection broke, or went silent, after the data went out.
    InDoubt(String),
    /// A hook failed: send nothing more.
    Stop(String),
}

struct Shared {
    settings: SmtpSettings,
    password: Option<Secret>,
    client_id: ClientId,
    /// STARTTLS parameters (lettre's).
    tls: Option<TlsParameters>,
    /// Implicit TLS configuration (ours, over our own socket).
    implicit_tls: Option<Arc<rustls::ClientConfig>>,
    hooks: Arc<dyn Hooks>,
    /// Messages given back by a session that could not connect, taken before new ones.
    returned: Mutex<VecDeque<(usize, Email)>>,
    inbox: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<(usize, Email)>>,
    outcomes: Mutex<Vec<Option<Outcome>>>,
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
            Stop::Fatal(r) => Stop::Fatal(clean(&r)),
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

    async fn wait_for_slot(&self) {
        let Some(rate) = self.settings.rate else {
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

/// `"550 5.1.1 no such user"` from a lettre error carrying a reply; else its description.
fn server_words(e: &lettre::transport::smtp::Error) -> String {
    match (e.status(), std::error::Error::source(e)) {
        (Some(code), Some(src)) => format!("{code} {src}"),
        (Some(code), None) => code.to_string(),
        _ => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                let t = inner.to_string();
                if !s.contains(&t) {
                    s.push_str(": ");
                    s.push_str(&t);
                }
                src = inner.source();
            }
            s
        }
    }
}

fn reply_text(r: &Response) -> String {
    let lines: Vec<&str> = r.message().collect();
    format!("{} {}", r.code(), lines.join(" "))
        .trim_end()
        .to_string()
}

/// A command that did not work: the server's reply code if it gave one, and the words.
struct CommandFail {
    code: Option<String>,
    text: String,
}

/// One command of a transaction, within the timeout; a failure keeps the server's reply code so
/// [`refused`] can tell a refusal for good from one worth retrying.
async fn timed_command<T, F>(timeout: Duration, what: &str, fut: F) -> Result<T, CommandFail>
where
    F: std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
{
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(CommandFail {
            code: e.status().map(|c| c.to_string()),
            text: format!("{what}: {}", server_words(&e)),
        }),
        Err(_) => Err(CommandFail {
            code: None,
            text: format!("{what}: no answer within {}s", timeout.as_secs()),
        }),
    }
}

/// Runs one step of opening a session within the timeout. No answer in time is worth another
/// try later, told as `{silence} within Ns`; a failure is told by `failed`.
async fn timed<T, E>(
    timeout: Duration,
    silence: String,
    step: impl Future<Output = Result<T, E>>,
    failed: impl FnOnce(E) -> SessionError,
) -> Result<T, SessionError> {
    match tokio::time::timeout(timeout, step).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(failed(e)),
        Err(_) => Err(SessionError::Transient(format!(
            "{silence} within {}s",
            timeout.as_secs()
        ))),
    }
}

/// Opens one ready session: TCP (no Nagle delay), TLS from the start for `smtps://`, the
/// greeting and EHLO, STARTTLS for `smtp://`, AUTH when the URL names a user.
async fn open(shared: &Shared) -> Result<AsyncSmtpConnection, SessionError> {
    let ep = &shared.settings.endpoint;
    let t = shared.settings.timeout;
    let tcp = timed(
        t,
        format!("cannot connect to {ep}: no answer"),
        tokio::net::TcpStream::connect((ep.host.as_str(), ep.port)),
        |e| SessionError::Transient(format!("cannot connect to {ep}: {e}")),
    )
    .await?;
    // lettre writes each command and waits for its reply; without this each write waits
    // for the peer's delayed ACK (Nagle), some 40 ms per command.
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn AsyncTokioStream> = match ep.security {
        Security::Implicit => Box::new(implicit_tls(shared, tcp).await?),
        Security::StartTls | Security::None => Box::new(tcp),
    };
    let mut conn = timed(
        t,
        format!("{ep} sent no greeting"),
        AsyncSmtpConnection::connect_with_transport(stream, &shared.client_id),
        |e| classify_open(&e, &format!("{ep} greeting")),
    )
    .await?;
    if ep.security == Security::StartTls {
        start_tls(shared, &mut conn).await?;
    }
    if let Some(user) = &ep.user {
        authenticate(shared, &mut conn, user).await?;
    }
    Ok(conn)
}

/// The TLS handshake of `smtps://`, over our own socket before the server says anything.
async fn implicit_tls(
    shared: &Shared,
    tcp: tokio::net::TcpStream,
) -> Result<ImplicitTls, SessionError> {
    let ep = &shared.settings.endpoint;
    let Some(config) = shared.implicit_tls.clone() else {
        return Err(SessionError::Fatal("internal: no TLS configuration".into()));
    };
    let name = tls::server_name(&ep.host).map_err(SessionError::Fatal)?;
    timed(
        shared.settings.timeout,
        format!("TLS with {ep}: no answer"),
        ImplicitTls::handshake(config, name, tcp),
        |e| SessionError::Fatal(format!("TLS with {ep} failed: {e}")),
    )
    .await
}

/// STARTTLS, which `smtp://` requires; lettre says EHLO again once the TLS is up.
async fn start_tls(shared: &Shared, conn: &mut AsyncSmtpConnection) -> Result<(), SessionError> {
    let ep = &shared.settings.endpoint;
    if !conn.server_info().supports_feature(Extension::StartTls) {
        conn.abort().await;
        return Err(SessionError::Fatal(format!(
            "{ep} does not offer STARTTLS, and smtp:// requires it; use smtps:// if the server \
             speaks TLS from the start (port 465)"
        )));
    }
    let Some(tls) = shared.tls.clone() else {
        return Err(SessionError::Fatal("internal: no TLS parameters".into()));
    };
    timed(
        shared.settings.timeout,
        format!("STARTTLS with {ep}: no answer"),
        conn.starttls(tls, &shared.client_id),
        |e| {
            if e.is_transient() {
                SessionError::Transient(format!("STARTTLS: {}", server_words(&e)))
            } else {
                SessionError::Fatal(format!("TLS with {ep} failed: {}", server_words(&e)))
            }
        },
    )
    .await
}

/// AUTH PLAIN or LOGIN as `user`: never in plaintext, except to this machine.
async fn authenticate(
    shared: &Shared,
    conn: &mut AsyncSmtpConnection,
    user: &str,
) -> Result<(), SessionError> {
    let ep = &shared.settings.endpoint;
    if !conn.is_encrypted() && ep.security != Security::Implicit && !ep.is_loopback() {
        conn.abort().await;
        return Err(SessionError::Fatal(format!(
            "refusing to send the password to {ep} over an unencrypted connection"
        )));
    }
    let Some(password) = &shared.password else {
        return Err(SessionError::Fatal(format!(
            "SMTP user `{user}` needs a password: set {PASSWORD_ENV} or [smtp] password_command"
        )));
    };
    let creds = Credentials::new(user.to_string(), password.expose().to_string());
    let done = timed(
        shared.settings.timeout,
        format!("authentication at {ep}: no answer"),
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds),
        |e| auth_failure(&e, ep, user),
    )
    .await;
    // A refusal that retrying cannot change ends the session here.
    if let Err(SessionError::Fatal(_)) = &done {
        conn.abort().await;
    }
    done.map(|_| ())
}

/// A failed AUTH: worth retrying for 4xx; else no mechanism we speak, or a wrong password.
fn auth_failure(e: &lettre::transport::smtp::Error, ep: &Endpoint, user: &str) -> SessionError {
    if e.is_transient() {
        SessionError::Transient(format!("authentication at {ep}: {}", server_words(e)))
    } else if e.is_client() {
        SessionError::Fatal(format!(
            "{ep} offers no authentication mechanism appeal supports (PLAIN, LOGIN) on this \
             connection"
        ))
    } else {
        SessionError::Fatal(format!(
            "authentication as `{user}` at {ep} failed: {} (check {PASSWORD_ENV} or \
             password_command)",
            server_words(e)
        ))
    }
}

/// A failed greeting: a 5xx will not change on retry.
fn classify_open(e: &lettre::transport::smtp::Error, what: &str) -> SessionError {
    let words = format!("{what}: {}", server_words(e));
    if e.is_permanent() {
        SessionError::Fatal(words)
    } else {
        SessionError::Transient(words)
    }
}

/// One try at one message over an open session: one SMTP transaction.
async fn transaction(
    shared: &Shared,
    conn: &mut AsyncSmtpConnection,
    index: usize,
    email: &Email,
) -> TransactionEnd {
    let t = shared.settings.timeout;
    if let Err(e) = tokio::task::block_in_place(|| shared.hooks.before_transaction(index, email)) {
        return TransactionEnd::Stop(format!("{e:#}"));
    }
    // After the hook, so a message this server cannot take is recorded as failed, with why.
    let params = match mail_parameters(conn, email) {
        Ok(p) => p,
        Err(why) => return TransactionEnd::Permanent(why),
    };
    let before = async {
        timed_command(
            t,
            "MAIL FROM",
            conn.command(Mail::new(Some(email.from.clone()), params)),
        )
        .await?;
        timed_command(
            t,
            "RCPT TO",
            conn.command(Rcpt::new(email.to.clone(), vec![])),
        )
        .await?;
        for cc in &email.cc {
            timed_command(
                t,
                "RCPT TO (cc)",
                conn.command(Rcpt::new(cc.clone(), vec![])),
            )
            .await?;
        }
        Ok::<(), CommandFail>(())
    }
    .await;
    if let Err(fail) = before {
        return refused(conn, fail, t).await;
    }
    if let Err(e) = tokio::task::block_in_place(|| shared.hooks.before_data(index, email)) {
        let _ = tokio::time::timeout(t, conn.command(Rset)).await;
        return TransactionEnd::Stop(format!("{e:#}"));
    }
    if let Err(fail) = timed_command(t, "DATA", conn.command(Data)).await {
        return refused(conn, fail, t).await;
    }
    // From here on the server may have the message: a broken connection is in doubt.
    let size_allowance = Duration::from_secs((email.bytes.len() / 100_000) as u64);
    match tokio::time::timeout(t + size_allowance, conn.message(&email.bytes)).await {
        Ok(Ok(reply)) => TransactionEnd::Sent(reply_text(&reply)),
        Ok(Err(e)) if e.is_permanent() => TransactionEnd::Permanent(server_words(&e)),
        Ok(Err(e)) if e.is_transient() => TransactionEnd::Transient {
            reason: server_words(&e),
            broken: e.status().is_some_and(|c| c.to_string() == "421"),
        },
        Ok(Err(e)) => TransactionEnd::InDoubt(format!(
            "the connection broke after the message was sent, before the server's reply: {}",
            server_words(&e)
        )),
        Err(_) => TransactionEnd::InDoubt(format!(
            "no reply within {}s after the message was sent",
            (t + size_allowance).as_secs()
        )),
    }
}

/// The MAIL FROM parameters `email` needs from this server: SMTPUTF8 for an address whose
/// local part is not ASCII, BODY=8BITMIME for a message that is not 7-bit. `Err` says why the
/// server cannot take it.
fn mail_parameters(
    conn: &AsyncSmtpConnection,
    email: &Email,
) -> Result<Vec<MailParameter>, String> {
    let info = conn.server_info();
    let mut params = Vec::new();
    if let Some(address) = &email.utf8_address {
        if !info.supports_feature(Extension::SmtpUtfEight) {
            return Err(format!(
                "the address `{address}` has a local part that is not ASCII, which needs a \
                 server that offers SMTPUTF8, and this server does not; write the address in \
                 ASCII if its owner has one"
            ));
        }
        params.push(MailParameter::SmtpUtfEight);
    }
    if !email.bytes.is_ascii() {
        if info.supports_feature(Extension::EightBitMime) {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        } else if email.utf8_address.is_none() {
            // A server that offers SMTPUTF8 takes 8-bit data without it (RFC 6531).
            return Err("the message is not 7-bit and the server does not offer 8BITMIME".into());
        }
    }
    Ok(params)
}

/// A refusal before the data went out: permanent for 5xx, else retry. After a reply the
/// session goes on with RSET; after a network error or a timeout it is dropped.
async fn refused(conn: &mut AsyncSmtpConnection, fail: CommandFail, t: Duration) -> TransactionEnd {
    let Some(code) = fail.code else {
        return TransactionEnd::Transient {
            reason: fail.text,
            broken: true,
        };
    };
    let reset_ok =
        code != "421" && matches!(tokio::time::timeout(t, conn.command(Rset)).await, Ok(Ok(_)));
    if code.starts_with('5') {
        TransactionEnd::Permanent(fail.text)
    } else {
        TransactionEnd::Transient {
            reason: fail.text,
            broken: !reset_ok,
        }
    }
}

async fn worker(shared: Arc<Shared>, mut conn: Option<AsyncSmtpConnection>) {
    while let Some((index, email)) = shared.pop().await {
        if shared.stopped().is_some() {
            // Never tried: settled with the others once the sessions are over.
            continue;
        }
        let mut tries = 0;
        let outcome = loop {
            tries += 1;
            let retry = |reason: String| {
                if tries >= MAX_ATTEMPTS {
                    Some(Outcome::Deferred {
                        reason: format!("{reason} (tried {tries} times)"),
                    })
                } else {
                    None
                }
            };
            if conn.is_none() {
                match open(&shared).await {
                    Ok(c) => conn = Some(c),
                    Err(SessionError::Fatal(reason)) => {
                        shared.set_stop(Stop::Fatal(reason.clone()));
                        break Outcome::Failed { reason };
                    }
                    Err(SessionError::Transient(reason)) => {
                        // A server may take fewer connections than we open: leave the letter
                        // to the workers that have one, while any is working.
                        if shared.alive.load(Ordering::SeqCst) > 1 {
                            shared.alive.fetch_sub(1, Ordering::SeqCst);
                            shared.give_back(index, email);
                            return;
                        }
                        if let Some(o) = retry(reason) {
                            break o;
                        }
                        tokio::time::sleep(backoff(tries)).await;
                        continue;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { continue };
            shared.wait_for_slot().await;
            match transaction(&shared, c, index, &email).await {
                TransactionEnd::Sent(reply) => {
                    break Outcome::Sent {
                        reply,
                        message_id: email.message_id.clone(),
                    };
                }
                TransactionEnd::Permanent(reason) => break Outcome::Failed { reason },
                TransactionEnd::InDoubt(reason) => {
                    conn = None;
                    break Outcome::InDoubt { reason };
                }
                TransactionEnd::Stop(reason) => {
                    let stop = Stop::Halted(reason);
                    shared.set_stop(stop.clone());
                    break stop.outcome();
                }
                TransactionEnd::Transient { reason, broken } => {
                    if broken {
                        conn = None;
                    }
                    if let Some(o) = retry(reason) {
                        break o;
                    }
                    tokio::time::sleep(backoff(tries)).await;
                }
            }
        };
        shared.record(index, &email, outcome);
    }
    shared.alive.fetch_sub(1, Ordering::SeqCst);
    if let Some(mut c) = conn {
        let _ = tokio::time::timeout(Duration::from_secs(2), c.quit()).await;
    }
}

/// Delivers the `n` messages that arrive through `inbox` (numbered `0..n`) over up to
/// `settings.connections` sessions. The first session is opened alone, so a wrong password or a
/// bad certificate is met once, not once per connection. Once sending stops, the builder is
/// told (its next [`Outbox::put`] is `false`) and every message left gets the stop's outcome.
pub fn deliver(
    settings: &SmtpSettings,
    password: Option<Secret>,
    n: usize,
    inbox: Inbox,
    hooks: Arc<dyn Hooks>,
) -> Result<Report> {
    let tls = tls_parameters(settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let shared = Arc::new(Shared {
        settings: settings.clone(),
        password,
        client_id: ClientId::default(),
        implicit_tls: match settings.endpoint.security {
            Security::Implicit => Some(implicit_tls_config(settings)?),
            _ => None,
        },
        tls,
        hooks,
        returned: Mutex::new(VecDeque::new()),
        inbox: tokio::sync::Mutex::new(inbox.rx),
        outcomes: Mutex::new(vec![None; n]),
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
        Some(Stop::Halted(reason)) => Some(reason),
        _ => None,
    };
    Ok(Report {
        outcomes,
        stopped,
        untried,
    })
}

/// The sessions: the first one alone (with retries), then the others beside it.
async fn run_sessions(shared: &Arc<Shared>) {
    let mut first = None;
    let mut tries = 0;
    while first.is_none() {
        tries += 1;
        match open(shared).await {
            Ok(c) => first = Some(c),
            Err(SessionError::Fatal(reason)) => {
                shared.set_stop(Stop::Fatal(reason));
                return;
            }
            Err(SessionError::Transient(reason)) if tries >= MAX_ATTEMPTS => {
                shared.set_stop(Stop::Unreachable(format!("{reason} (tried {tries} times)")));
                return;
            }
            Err(SessionError::Transient(_)) => tokio::time::sleep(backoff(tries)).await,
        }
    }
    let workers = shared.alive.load(Ordering::SeqCst);
    let mut handles = Vec::with_capacity(workers);
    handles.push(tokio::spawn(worker(Arc::clone(shared), first)));
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
}
