//! Opening an SMTP session: our own socket (no Nagle delay, one timeout on every step), TLS
//! from the start for `smtps://` or STARTTLS for `smtp://`, the greeting and EHLO, AUTH when
//! the URL names a user. The socket can be cut (see [`crate::email::cut`]) while the session
//! sends a message.

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};

use crate::email::cut::{Cut, CutStream};
use crate::email::smtp::{Endpoint, PASSWORD_ENV, Secret, Security, SmtpSettings};
use crate::email::tls::{self, ImplicitTls};

/// What every session of a run is opened with.
pub(crate) struct Setup {
    pub(crate) settings: SmtpSettings,
    pub(crate) password: Option<Secret>,
    pub(crate) client_id: ClientId,
    /// STARTTLS parameters (lettre's).
    pub(crate) tls: Option<TlsParameters>,
    /// Implicit TLS configuration (ours, over our own socket).
    pub(crate) implicit_tls: Option<Arc<rustls::ClientConfig>>,
}

/// An open session, ready for a transaction.
pub(crate) struct Session {
    pub(crate) conn: AsyncSmtpConnection,
    /// Cuts the session's socket: nothing more reaches the server.
    pub(crate) cut: Cut,
}

/// Why a session could not be opened.
#[derive(Debug)]
pub(crate) enum SessionError {
    /// Worth another try later (network, 4xx).
    Transient(String),
    /// Retrying cannot help (TLS, authentication, no STARTTLS, a 5xx greeting).
    Fatal(String),
}

/// `"550 5.1.1 no such user"` from a lettre error carrying a reply; else its description.
pub(crate) fn server_words(e: &lettre::transport::smtp::Error) -> String {
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
pub(crate) async fn open(setup: &Setup) -> Result<Session, SessionError> {
    let ep = &setup.settings.endpoint;
    let t = setup.settings.timeout;
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
        Security::Implicit => Box::new(implicit_tls(setup, tcp).await?),
        Security::StartTls | Security::None => Box::new(tcp),
    };
    // Below STARTTLS's TLS, above implicit TLS: either way, once cut, no byte leaves.
    let (stream, cut) = CutStream::new(stream);
    let mut conn = timed(
        t,
        format!("{ep} sent no greeting"),
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &setup.client_id),
        |e| classify_open(&e, &format!("{ep} greeting")),
    )
    .await?;
    if ep.security == Security::StartTls {
        start_tls(setup, &mut conn).await?;
    }
    if let Some(user) = &ep.user {
        authenticate(setup, &mut conn, user).await?;
    }
    Ok(Session { conn, cut })
}

/// The TLS handshake of `smtps://`, over our own socket before the server says anything.
async fn implicit_tls(
    setup: &Setup,
    tcp: tokio::net::TcpStream,
) -> Result<ImplicitTls, SessionError> {
    let ep = &setup.settings.endpoint;
    let Some(config) = setup.implicit_tls.clone() else {
        return Err(SessionError::Fatal("internal: no TLS configuration".into()));
    };
    let name = tls::server_name(&ep.host).map_err(SessionError::Fatal)?;
    timed(
        setup.settings.timeout,
        format!("TLS with {ep}: no answer"),
        ImplicitTls::handshake(config, name, tcp),
        |e| SessionError::Fatal(format!("TLS with {ep} failed: {e}")),
    )
    .await
}

/// STARTTLS, which `smtp://` requires; lettre says EHLO again once the TLS is up.
async fn start_tls(setup: &Setup, conn: &mut AsyncSmtpConnection) -> Result<(), SessionError> {
    let ep = &setup.settings.endpoint;
    if !conn.server_info().supports_feature(Extension::StartTls) {
        conn.abort().await;
        return Err(SessionError::Fatal(format!(
            "{ep} does not offer STARTTLS, and smtp:// requires it; use smtps:// if the server \
             speaks TLS from the start (port 465)"
        )));
    }
    let Some(tls) = setup.tls.clone() else {
        return Err(SessionError::Fatal("internal: no TLS parameters".into()));
    };
    timed(
        setup.settings.timeout,
        format!("STARTTLS with {ep}: no answer"),
        conn.starttls(tls, &setup.client_id),
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
    setup: &Setup,
    conn: &mut AsyncSmtpConnection,
    user: &str,
) -> Result<(), SessionError> {
    let ep = &setup.settings.endpoint;
    if !conn.is_encrypted() && ep.security != Security::Implicit && !ep.is_loopback() {
        conn.abort().await;
        return Err(SessionError::Fatal(format!(
            "refusing to send the password to {ep} over an unencrypted connection"
        )));
    }
    let Some(password) = &setup.password else {
        return Err(SessionError::Fatal(format!(
            "SMTP user `{user}` needs a password: set {PASSWORD_ENV} or [smtp] password_command"
        )));
    };
    let creds = Credentials::new(user.to_string(), password.expose().to_string());
    let done = timed(
        setup.settings.timeout,
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
