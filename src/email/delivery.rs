//! Delivery over SMTP: sessions driven step by step on our own sockets (TCP_NODELAY, a timeout
//! on every step), STARTTLS or implicit TLS, AUTH, several connections, a rate, retries with
//! backoff for transient failures.
//!
//! Each message ends in an [`Outcome`]. [`Hooks`] are told just before DATA and once the outcome
//! is known, so a ledger can record *pending* before the data goes out and *sent* after the 250.
//!
//! Messages arrive through an [`Outbox`] as they are built, so the first is on the wire while
//! the rest are still being made, and only a few are in memory at once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use crate::email::message::Email;
use crate::email::smtp::{PASSWORD_ENV, Secret, Security, SmtpSettings};

/// How one message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server took it: its final reply, and the Message-ID sent.
    Sent { reply: String, message_id: String },
    /// A transient failure before the data went out, retries used up: try again later.
    Deferred { reason: String },
    /// A permanent refusal, in the server's words, or a setup failure that retrying won't fix.
    Failed { reason: String },
    /// The connection broke after the data went out and before the reply: it may have arrived.
    InDoubt { reason: String },
}

/// Told about each message as it travels. Errors stop the run: nothing more is sent.
pub trait Hooks: Send + Sync {
    /// At the start of every attempt at a message (before MAIL FROM), retries included:
    /// nothing of this attempt has reached the server yet (a ledger's *pending*).
    fn before_transaction(&self, _index: usize, _email: &Email) -> Result<()> {
        Ok(())
    }
    /// Just before DATA: after this the message may arrive (a ledger's *sending*).
    fn before_data(&self, index: usize, email: &Email) -> Result<()>;
    /// Once per message tried, with its final outcome (messages never tried because sending
    /// stopped are counted in the [`Report`] instead).
    fn outcome(&self, index: usize, email: &Email, outcome: &Outcome) -> Result<()>;
}

/// Hooks that do nothing.
pub struct NoHooks;

impl Hooks for NoHooks {
    fn before_data(&self, _: usize, _: &Email) -> Result<()> {
        Ok(())
    }
    fn outcome(&self, _: usize, _: &Email, _: &Outcome) -> Result<()> {
        Ok(())
    }
}

/// Where the builder puts each message as it is made; see [`outbox`].
pub struct Outbox {
    tx: tokio::sync::mpsc::Sender<(usize, Email)>,
    stop: Arc<AtomicBool>,
}

impl Outbox {
    /// Hands message `index` to the sessions, waiting while `capacity` messages are already
    /// waiting. `false` once sending has stopped: build no more. Not from async code.
    pub fn put(&self, index: usize, email: Email) -> bool {
        !self.stopped() && self.tx.blocking_send((index, email)).is_ok()
    }

    /// Whether sending has stopped (a fatal error, a hook that failed).
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// The sessions' end of an [`Outbox`], for [`deliver`].
pub struct Inbox {
    rx: tokio::sync::mpsc::Receiver<(usize, Email)>,
    stop: Arc<AtomicBool>,
}

/// A channel for messages from the builder to [`deliver`], holding at most `capacity`.
/// Dropping the [`Outbox`] says there are no more.
pub fn outbox(capacity: usize) -> (Outbox, Inbox) {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
    let stop = Arc::new(AtomicBool::new(false));
    (
        Outbox {
            tx,
            stop: Arc::clone(&stop),
        },
        Inbox { rx, stop },
    )
}

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

/// How one attempt at one message ended.
enum Attempt {
    Sent(String),
    Permanent(String),
    /// Before the data; `broken` when the connection cannot be reused.
    Transient {
        reason: String,
        broken: bool,
    },
    InDoubt(String),
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

/// Builds the TLS parameters: the system's roots plus the optional extra CA; always verified.
fn tls_parameters(settings: &SmtpSettings) -> Result<Option<TlsParameters>> {
    if settings.endpoint.security == Security::None {
        return Ok(None);
    }
    let mut builder = TlsParameters::builder(settings.endpoint.host.clone());
    if let Some(ca) = &settings.ca {
        let pem =
            std::fs::read(ca).with_context(|| format!("cannot read CA file {}", ca.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| anyhow!("CA file {} is not a PEM certificate: {e}", ca.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    let params = builder
        .build_rustls()
        .map_err(|e| anyhow!("cannot set up TLS: {e}"))?;
    Ok(Some(params))
}

/// The rustls configuration for implicit TLS: the system's roots plus the optional extra CA.
fn implicit_tls_config(settings: &SmtpSettings) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(ca) = &settings.ca {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow!("CA file {} is not a PEM certificate: {e}", ca.display()))?;
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| anyhow!("CA file {}: {e}", ca.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A TLS stream over our own socket, in the shape lettre takes for a transport.
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<tokio::net::TcpStream>);

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl tokio::io::AsyncRead for ImplicitTls {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for ImplicitTls {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
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

/// A step that did not work: the server's reply code if it gave one, and the words.
struct StepFail {
    code: Option<String>,
    text: String,
}

async fn step<T, F>(timeout: Duration, what: &str, fut: F) -> Result<T, StepFail>
where
    F: std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
{
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(StepFail {
            code: e.status().map(|c| c.to_string()),
            text: format!("{what}: {}", server_words(&e)),
        }),
        Err(_) => Err(StepFail {
            code: None,
            text: format!("{what}: no answer within {}s", timeout.as_secs()),
        }),
    }
}

/// Opens one ready session: TCP (no Nagle delay), greeting, EHLO, TLS, AUTH.
async fn open(shared: &Shared) -> Result<AsyncSmtpConnection, SessionError> {
    let s = &shared.settings;
    let ep = &s.endpoint;
    let t = s.timeout;
    let tcp = match tokio::time::timeout(
        t,
        tokio::net::TcpStream::connect((ep.host.as_str(), ep.port)),
    )
    .await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            return Err(SessionError::Transient(format!(
                "cannot connect to {ep}: {e}"
            )));
        }
        Err(_) => {
            return Err(SessionError::Transient(format!(
                "cannot connect to {ep}: no answer within {}s",
                t.as_secs()
            )));
        }
    };
    // lettre writes each command and waits for its reply; without this each write waits
    // for the peer's delayed ACK (Nagle), some 40 ms per command.
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn AsyncTokioStream> = match ep.security {
        Security::Implicit => {
            let Some(config) = shared.implicit_tls.clone() else {
                return Err(SessionError::Fatal("internal: no TLS configuration".into()));
            };
            let name = match rustls::pki_types::ServerName::try_from(ep.host.clone()) {
                Ok(n) => n,
                Err(e) => {
                    return Err(SessionError::Fatal(format!(
                        "`{}` is not a valid TLS server name: {e}",
                        ep.host
                    )));
                }
            };
            let connector = tokio_rustls::TlsConnector::from(config);
            match tokio::time::timeout(t, connector.connect(name, tcp)).await {
                Ok(Ok(tls)) => Box::new(ImplicitTls(tls)),
                Ok(Err(e)) => {
                    return Err(SessionError::Fatal(format!("TLS with {ep} failed: {e}")));
                }
                Err(_) => {
                    return Err(SessionError::Transient(format!(
                        "TLS with {ep}: no answer within {}s",
                        t.as_secs()
                    )));
                }
            }
        }
        Security::StartTls | Security::None => Box::new(tcp),
    };
    let mut conn = match tokio::time::timeout(
        t,
        AsyncSmtpConnection::connect_with_transport(stream, &shared.client_id),
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(classify_open(&e, &format!("{ep} greeting"))),
        Err(_) => {
            return Err(SessionError::Transient(format!(
                "{ep} sent no greeting within {}s",
                t.as_secs()
            )));
        }
    };
    if ep.security == Security::StartTls {
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
        match tokio::time::timeout(t, conn.starttls(tls, &shared.client_id)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) if e.is_transient() => {
                return Err(SessionError::Transient(format!(
                    "STARTTLS: {}",
                    server_words(&e)
                )));
            }
            Ok(Err(e)) => {
                return Err(SessionError::Fatal(format!(
                    "TLS with {ep} failed: {}",
                    server_words(&e)
                )));
            }
            Err(_) => {
                return Err(SessionError::Transient(format!(
                    "STARTTLS with {ep}: no answer within {}s",
                    t.as_secs()
                )));
            }
        }
    }
    if let Some(user) = &ep.user {
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
        let creds = Credentials::new(user.clone(), password.expose().to_string());
        match tokio::time::timeout(t, conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds))
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.is_transient() => {
                return Err(SessionError::Transient(format!(
                    "authentication at {ep}: {}",
                    server_words(&e)
                )));
            }
            Ok(Err(e)) if e.is_client() => {
                conn.abort().await;
                return Err(SessionError::Fatal(format!(
                    "{ep} offers no authentication mechanism appeal supports (PLAIN, LOGIN) on \
                     this connection"
                )));
            }
            Ok(Err(e)) => {
                conn.abort().await;
                return Err(SessionError::Fatal(format!(
                    "authentication as `{user}` at {ep} failed: {} (check {PASSWORD_ENV} or \
                     password_command)",
                    server_words(&e)
                )));
            }
            Err(_) => {
                return Err(SessionError::Transient(format!(
                    "authentication at {ep}: no answer within {}s",
                    t.as_secs()
                )));
            }
        }
    }
    Ok(conn)
}

fn classify_open(e: &lettre::transport::smtp::Error, what: &str) -> SessionError {
    let words = format!("{what}: {}", server_words(e));
    if e.is_permanent() {
        SessionError::Fatal(words)
    } else {
        SessionError::Transient(words)
    }
}

/// One try at one message over an open session.
async fn attempt(
    shared: &Shared,
    conn: &mut AsyncSmtpConnection,
    index: usize,
    email: &Email,
) -> Attempt {
    let t = shared.settings.timeout;
    let mut params = Vec::new();
    if !email.bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Attempt::Permanent(
                "the message is not 7-bit and the server does not offer 8BITMIME".into(),
            );
        }
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if let Err(e) = tokio::task::block_in_place(|| shared.hooks.before_transaction(index, email)) {
        return Attempt::Stop(format!("{e:#}"));
    }
    let before = async {
        step(
            t,
            "MAIL FROM",
            conn.command(Mail::new(Some(email.from.clone()), params)),
        )
        .await?;
        step(
            t,
            "RCPT TO",
            conn.command(Rcpt::new(email.to.clone(), vec![])),
        )
        .await?;
        for cc in &email.cc {
            step(
                t,
                "RCPT TO (cc)",
                conn.command(Rcpt::new(cc.clone(), vec![])),
            )
            .await?;
        }
        Ok::<(), StepFail>(())
    }
    .await;
    if let Err(fail) = before {
        return refused(conn, fail, t).await;
    }
    if let Err(e) = tokio::task::block_in_place(|| shared.hooks.before_data(index, email)) {
        let _ = tokio::time::timeout(t, conn.command(Rset)).await;
        return Attempt::Stop(format!("{e:#}"));
    }
    if let Err(fail) = step(t, "DATA", conn.command(Data)).await {
        return refused(conn, fail, t).await;
    }
    // From here on the server may have the message: a broken connection is in doubt.
    let size_allowance = Duration::from_secs((email.bytes.len() / 100_000) as u64);
    match tokio::time::timeout(t + size_allowance, conn.message(&email.bytes)).await {
        Ok(Ok(reply)) => Attempt::Sent(reply_text(&reply)),
        Ok(Err(e)) if e.is_permanent() => Attempt::Permanent(server_words(&e)),
        Ok(Err(e)) if e.is_transient() => Attempt::Transient {
            reason: server_words(&e),
            broken: e.status().is_some_and(|c| c.to_string() == "421"),
        },
        Ok(Err(e)) => Attempt::InDoubt(format!(
            "the connection broke after the message was sent, before the server's reply: {}",
            server_words(&e)
        )),
        Err(_) => Attempt::InDoubt(format!(
            "no reply within {}s after the message was sent",
            (t + size_allowance).as_secs()
        )),
    }
}

/// A refusal before the data went out: permanent for 5xx, else retry. After a reply the
/// session goes on with RSET; after a network error or a timeout it is dropped.
async fn refused(conn: &mut AsyncSmtpConnection, fail: StepFail, t: Duration) -> Attempt {
    let Some(code) = fail.code else {
        return Attempt::Transient {
            reason: fail.text,
            broken: true,
        };
    };
    let reset_ok =
        code != "421" && matches!(tokio::time::timeout(t, conn.command(Rset)).await, Ok(Ok(_)));
    if code.starts_with('5') {
        Attempt::Permanent(fail.text)
    } else {
        Attempt::Transient {
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
            match attempt(&shared, c, index, &email).await {
                Attempt::Sent(reply) => {
                    break Outcome::Sent {
                        reply,
                        message_id: email.message_id.clone(),
                    };
                }
                Attempt::Permanent(reason) => break Outcome::Failed { reason },
                Attempt::InDoubt(reason) => {
                    conn = None;
                    break Outcome::InDoubt { reason };
                }
                Attempt::Stop(reason) => {
                    let stop = Stop::Halted(reason);
                    shared.set_stop(stop.clone());
                    break stop.outcome();
                }
                Attempt::Transient { reason, broken } => {
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
