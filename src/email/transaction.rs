//! One SMTP transaction: one try at one message over an open session, from MAIL FROM to the
//! server's reply after the data, with the [`Hooks`] told at its two moments: before MAIL FROM
//! (nothing of this try has reached the server) and once the whole message has been written,
//! just before the terminating `.` (from there on the server may have it).
//!
//! How it ends says what the next step is: a refusal about this letter, one about the session
//! (530, MAIL FROM refused, an extension the server lacks), or a failure worth another try.
//! A session that answered an error is reset (RSET) before the next letter, or dropped.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use crate::email::cut::Cut;
use crate::email::message::Email;
use crate::email::outbox::Hooks;
use crate::email::session::{Session, server_words};

/// How one transaction ended; the message's outcome comes after every try.
pub(crate) enum TransactionEnd {
    /// The server's final reply.
    Sent(String),
    /// Refused for good. `kind` is the reply code and enhanced status when the refusal could be
    /// about the session rather than the letter (see [`refusal_kind`]); `None` when it names
    /// this letter's own address or mailbox. `broken` when the session cannot be reused.
    Refused {
        reason: String,
        kind: Option<String>,
        broken: bool,
    },
    /// The session, not the letter, is refused (530, MAIL FROM refused, an extension the
    /// server lacks): no other letter would fare better.
    SessionRefused(String),
    /// Worth another try; `broken` when the session cannot be reused. Nothing of the message
    /// reached the server whole.
    Transient { reason: String, broken: bool },
    /// The whole message went out and the connection broke, or went silent, before the reply:
    /// the server may have it. The session cannot be reused.
    InDoubt(String),
    /// A hook failed: send nothing more. The session cannot be reused.
    Stop(String),
}

/// One try at one message.
pub(crate) struct Try<'a> {
    pub(crate) hooks: &'a dyn Hooks,
    pub(crate) timeout: Duration,
    pub(crate) index: usize,
    pub(crate) email: &'a Email,
    /// Set once `before_transaction` recorded the letter's attempt.
    pub(crate) started: &'a AtomicBool,
}

/// A command that did not work: the server's reply code if it gave one, its words, and the
/// same with the command named.
struct CommandFail {
    code: Option<String>,
    words: String,
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
        Ok(Err(e)) => {
            let words = server_words(&e);
            Err(CommandFail {
                code: e.status().map(|c| c.to_string()),
                text: format!("{what}: {words}"),
                words,
            })
        }
        Err(_) => Err(CommandFail {
            code: None,
            words: String::new(),
            text: format!("{what}: no answer within {}s", timeout.as_secs()),
        }),
    }
}

fn reply_text(r: &Response) -> String {
    let lines: Vec<&str> = r.message().collect();
    format!("{} {}", r.code(), lines.join(" "))
        .trim_end()
        .to_string()
}

/// One try at one message over `session`: one SMTP transaction.
pub(crate) async fn transaction(session: &mut Session, at: &Try<'_>) -> TransactionEnd {
    let (t, email) = (at.timeout, at.email);
    // Before the hook: a server that cannot take these messages at all leaves the letter as
    // it was.
    if let Some(why) = session_lacks(&session.conn, email) {
        return TransactionEnd::SessionRefused(why);
    }
    let hooked = tokio::task::block_in_place(|| at.hooks.before_transaction(at.index, email));
    if let Err(e) = hooked {
        return TransactionEnd::Stop(format!("{e:#}"));
    }
    at.started.store(true, Ordering::SeqCst);
    // After the hook, so a message this server cannot take is recorded as failed, with why.
    let params = match mail_parameters(&session.conn, email) {
        Ok(p) => p,
        Err(why) => {
            return TransactionEnd::Refused {
                reason: why,
                kind: None,
                broken: false,
            };
        }
    };
    let conn = &mut session.conn;
    if let Err(fail) = envelope(conn, email, params, t).await {
        return refused(conn, fail, t).await;
    }
    if let Err(fail) = timed_command(t, "DATA", conn.command(Data)).await {
        return refused(conn, fail, t).await;
    }
    send_data(session, at).await
}

/// MAIL FROM and the RCPT TOs.
async fn envelope(
    conn: &mut AsyncSmtpConnection,
    email: &Email,
    params: Vec<MailParameter>,
    t: Duration,
) -> Result<(), CommandFail> {
    let from = Mail::new(Some(email.from.clone()), params);
    if let Err(mut fail) = timed_command(t, "MAIL FROM", conn.command(from)).await {
        // Said to the sender, not to a recipient: about the session.
        if fail
            .code
            .as_deref()
            .is_some_and(|c| c.starts_with('5') && c != "503")
        {
            fail.code = Some(MAIL_REFUSED.into());
        }
        return Err(fail);
    }
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
    Ok(())
}

/// Stands for any 5xx reply to MAIL FROM in a [`CommandFail`].
const MAIL_REFUSED: &str = "MAIL";

/// The message data, then the `before_data` hook once the whole message is written, then the
/// terminating dot and the server's reply. A failing hook cuts the socket first: the dot never
/// reaches the server, which discards the message.
async fn send_data(session: &mut Session, at: &Try<'_>) -> TransactionEnd {
    let email = at.email;
    let marked = OnceLock::new();
    let body = Body {
        bytes: Some(&email.bytes),
        at,
        cut: &session.cut,
        marked: &marked,
    };
    let allowance = at.timeout + Duration::from_secs((email.bytes.len() / 100_000) as u64);
    let result = tokio::time::timeout(allowance, session.conn.message_iter(body)).await;
    match (marked.get(), result) {
        (Some(Err(e)), _) => TransactionEnd::Stop(e.clone()),
        // The body did not get through whole, and the dot never went: nothing arrived.
        (None, Ok(Err(e))) => TransactionEnd::Transient {
            reason: format!(
                "the connection broke while the message was sent: {}",
                server_words(&e)
            ),
            broken: true,
        },
        // No answer in time while the message was still being written.
        (None, _) => TransactionEnd::Transient {
            reason: format!(
                "the message could not be sent within {}s",
                allowance.as_secs()
            ),
            broken: true,
        },
        (Some(Ok(())), Ok(Ok(reply))) => TransactionEnd::Sent(reply_text(&reply)),
        (Some(Ok(())), Ok(Err(e))) if e.is_permanent() || e.is_transient() => {
            let fail = CommandFail {
                code: e.status().map(|c| c.to_string()),
                words: server_words(&e),
                text: server_words(&e),
            };
            refused(&mut session.conn, fail, at.timeout).await
        }
        (Some(Ok(())), Ok(Err(e))) => TransactionEnd::InDoubt(format!(
            "the connection broke after the message was sent, before the server's reply: {}",
            server_words(&e)
        )),
        (Some(Ok(())), Err(_)) => TransactionEnd::InDoubt(format!(
            "no reply within {}s after the message was sent",
            allowance.as_secs()
        )),
    }
}

/// The message for lettre's `message_iter`, which writes each part it yields and, once the
/// iterator is done, the terminating `CRLF . CRLF`. The part after the message is the
/// `before_data` hook: it runs only once every byte of the message was written, and if it
/// fails the socket is cut before lettre writes the dot.
struct Body<'a> {
    bytes: Option<&'a [u8]>,
    at: &'a Try<'a>,
    cut: &'a Cut,
    /// The hook's result, once it ran.
    marked: &'a OnceLock<Result<(), String>>,
}

impl<'a> Iterator for Body<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(bytes) = self.bytes.take() {
            return Some(bytes);
        }
        if self.marked.get().is_none() {
            let (hooks, index, email) = (self.at.hooks, self.at.index, self.at.email);
            let result = tokio::task::block_in_place(|| hooks.before_data(index, email));
            if result.is_err() {
                self.cut.now();
            }
            let _ = self.marked.set(result.map_err(|e| format!("{e:#}")));
        }
        None
    }
}

/// What stops every message that is not 7-bit (nearly every letter) at this server: it offers
/// no 8BITMIME. An address that needs SMTPUTF8 is this letter's matter: see
/// [`mail_parameters`].
fn session_lacks(conn: &AsyncSmtpConnection, email: &Email) -> Option<String> {
    let info = conn.server_info();
    (!email.bytes.is_ascii()
        && email.utf8_address.is_none()
        && !info.supports_feature(Extension::EightBitMime))
    .then(|| "the server does not offer 8BITMIME, which messages that are not 7-bit need".into())
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
    if !email.bytes.is_ascii() && info.supports_feature(Extension::EightBitMime) {
        // A server that offers SMTPUTF8 takes 8-bit data without it (RFC 6531).
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(params)
}

/// A reply that ended the transaction, or no reply: permanent for 5xx, else worth a retry.
/// The session goes on after RSET; after a network error, a timeout, a 421 or a failed RSET
/// it is dropped. A 530, or a 5xx to MAIL FROM, is about the session; a 503 says the server
/// lost track of the transaction, which a new session settles.
async fn refused(conn: &mut AsyncSmtpConnection, fail: CommandFail, t: Duration) -> TransactionEnd {
    let Some(code) = fail.code else {
        return TransactionEnd::Transient {
            reason: fail.text,
            broken: true,
        };
    };
    let reset = code != "421"
        && code != "503"
        && matches!(tokio::time::timeout(t, conn.command(Rset)).await, Ok(Ok(_)));
    if code == MAIL_REFUSED || code == "530" {
        return TransactionEnd::SessionRefused(fail.text);
    }
    if !code.starts_with('5') || code == "503" {
        return TransactionEnd::Transient {
            reason: fail.text,
            broken: !reset,
        };
    }
    TransactionEnd::Refused {
        kind: refusal_kind(&code, &fail.words),
        reason: fail.text,
        broken: !reset,
    }
}

/// What a permanent refusal may share with other letters' (its code and enhanced status, e.g.
/// `550 5.7.1`), or `None` when it is about this letter alone: an enhanced status naming the
/// recipient's address or mailbox (RFC 3463: X.1.1–X.1.4, X.1.6, X.1.10, and X.2.*).
pub(crate) fn refusal_kind(code: &str, words: &str) -> Option<String> {
    let enhanced = words.split_whitespace().nth(1).filter(|t| {
        let parts: Vec<&str> = t.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    let Some(status) = enhanced else {
        return Some(code.to_string());
    };
    let mut parts = status.split('.').skip(1);
    let (subject, detail) = (parts.next(), parts.next());
    let own = match (subject, detail) {
        (Some("1"), Some(d)) => matches!(d, "1" | "2" | "3" | "4" | "6" | "10"),
        (Some("2"), _) => true,
        _ => false,
    };
    (!own).then(|| format!("{code} {status}"))
}

#[cfg(test)]
mod tests {
    use super::refusal_kind;

    #[test]
    fn a_refusal_naming_the_recipient_is_the_letters_own() {
        assert_eq!(refusal_kind("550", "550 5.1.1 <a@b>: no such user"), None);
        assert_eq!(refusal_kind("552", "552 5.2.2 mailbox full"), None);
        assert_eq!(refusal_kind("550", "550 5.1.10 null MX"), None);
    }

    #[test]
    fn other_refusals_may_be_the_sessions() {
        assert_eq!(
            refusal_kind("554", "554 5.7.1 <a@b>: Relay access denied").as_deref(),
            Some("554 5.7.1")
        );
        assert_eq!(
            refusal_kind("550", "550 5.1.8 bad sender domain").as_deref(),
            Some("550 5.1.8")
        );
        assert_eq!(
            refusal_kind("550", "550 no such user here").as_deref(),
            Some("550")
        );
        assert_eq!(
            refusal_kind("550", "550 5.4.5 Daily sending quota exceeded").as_deref(),
            Some("550 5.4.5")
        );
    }
}
