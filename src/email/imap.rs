//! Reading the sender's mailbox over IMAP (`async-imap` on tokio): the `[imap]` settings and
//! `--imap` URL, checked like the SMTP ones (TLS always, STARTTLS required on `imap://`,
//! plaintext to this machine only, the password from the environment or a command), and a
//! read-only pass over the messages newer than the last one read, a chunk of UIDs at a time,
//! each message handed to a [`Reader`] as it arrives: memory does not grow with the mailbox.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::email::smtp::{Secret, is_loopback, percent_decode, redact_url, run_password_command};
use crate::email::tls::{ImplicitTls, client_config, server_name};
use crate::exit::TryLater;
use crate::model::settings::RawImap;

/// Environment variable holding the IMAP password.
pub const PASSWORD_ENV: &str = "APPEAL_IMAP_PASSWORD";

/// UIDs fetched per command.
pub const CHUNK: u32 = 500;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `imaps://`: TLS from the first byte.
    Implicit,
    /// `imap://`: STARTTLS, required.
    StartTls,
    /// `imap://...?tls=none`: plaintext, loopback only.
    None,
}

/// The mailbox to read, parsed from an `imaps://` or `imap://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapSettings {
    pub security: Security,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The folder, `INBOX` when the URL names none.
    pub folder: String,
    /// An extra CA (PEM) to trust besides the system's.
    pub ca: Option<PathBuf>,
    pub password_command: Vec<String>,
}

impl ImapSettings {
    /// The mailbox as the ledger knows it: the URL without password or options, and the folder.
    pub fn key(&self) -> String {
        let scheme = match self.security {
            Security::Implicit => "imaps",
            _ => "imap",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{scheme}://{}@{host}:{}/{}",
            self.user, self.port, self.folder
        )
    }
}

/// What the command line says about IMAP; it wins over `[imap]`.
#[derive(Debug, Default, Clone)]
pub struct ImapFlags {
    pub url: Option<String>,
    pub ca: Option<PathBuf>,
}

/// Resolves `--imap`/`[imap]`; an error when neither names a mailbox.
pub fn resolve(flags: &ImapFlags, raw: Option<&RawImap>, root: &Path) -> Result<ImapSettings> {
    let url = match (&flags.url, raw.and_then(|r| r.url.as_ref())) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) => u.get_ref().clone(),
        (None, None) => bail!(
            "no mailbox to read: give --imap imaps://user@host/INBOX, or url under [imap] in appeal.toml"
        ),
    };
    let mut settings = parse_url(&url).context("IMAP settings")?;
    settings.ca = match (&flags.ca, raw.and_then(|r| r.ca.as_ref())) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(c)) => Some(root.join(c.get_ref())),
        (None, None) => None,
    };
    if let Some(ca) = &settings.ca
        && !ca.is_file()
    {
        bail!("IMAP CA file {} does not exist", ca.display());
    }
    settings.password_command = raw
        .and_then(|r| r.password_command.clone())
        .unwrap_or_default();
    Ok(settings)
}

/// Parses `imaps://user@host[:993][/FOLDER]`, `imap://user@host[:143][/FOLDER]` (STARTTLS) or
/// `imap://user@127.0.0.1:PORT/INBOX?tls=none`. Refuses a password in the URL and plaintext
/// to anything but this machine; no message shows a password.
pub fn parse_url(url: &str) -> Result<ImapSettings> {
    if let Some(why) = crate::diag::unsafe_char(url) {
        bail!("IMAP URL {why}");
    }
    let shown = redact_url(url);
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow!("IMAP URL `{shown}` must start with imaps:// or imap://"))?;
    let mut security = match scheme.to_ascii_lowercase().as_str() {
        "imaps" => Security::Implicit,
        "imap" => Security::StartTls,
        other => bail!("IMAP URL scheme `{other}` is not imaps or imap"),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair {
            "tls=none" if security == Security::StartTls => security = Security::None,
            "tls=none" => bail!("tls=none makes no sense with imaps://"),
            other => bail!(
                "unknown IMAP URL option `{}` (the only one is tls=none)",
                other.split('=').next().unwrap_or(other)
            ),
        }
    }
    let (authority, folder) = match rest.split_once('/') {
        Some((a, f)) => (a, f.trim_end_matches('/')),
        None => (rest, ""),
    };
    let folder = if folder.is_empty() {
        "INBOX".to_string()
    } else {
        percent_decode(folder)?
    };
    let Some((user, hostport)) = authority.rsplit_once('@') else {
        bail!("IMAP URL `{shown}` names no user: imaps://user@host/INBOX");
    };
    if user.contains(':') {
        bail!(
            "the IMAP URL holds a password; remove it and set {PASSWORD_ENV} or [imap] password_command"
        );
    }
    if user.is_empty() {
        bail!("IMAP URL `{shown}` has an empty user name");
    }
    let (host, port) = host_port(&shown, hostport)?;
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| anyhow!("IMAP URL `{shown}`: `{p}` is not a port number"))?,
        None if security == Security::Implicit => 993,
        None => 143,
    };
    if security == Security::None && !is_loopback(&host) {
        bail!(
            "refusing plaintext IMAP to {host}: tls=none is allowed only for a server on this \
             machine (localhost, 127.0.0.0/8, ::1); use imaps:// or imap:// with STARTTLS"
        );
    }
    Ok(ImapSettings {
        security,
        host,
        port,
        user: percent_decode(user)?,
        folder,
        ca: None,
        password_command: Vec::new(),
    })
}

fn host_port<'a>(shown: &str, hostport: &'a str) -> Result<(String, Option<&'a str>)> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| anyhow!("IMAP URL `{shown}`: unclosed `[` in the host"))?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        bail!("IMAP URL `{shown}` has no host");
    }
    Ok((host.to_string(), port))
}

/// The password: `APPEAL_IMAP_PASSWORD`, else the first line printed by `password_command`.
pub fn password(settings: &ImapSettings) -> Result<Secret> {
    if let Ok(p) = std::env::var(PASSWORD_ENV)
        && !p.is_empty()
    {
        return Ok(Secret::new(p));
    }
    let Some((program, args)) = settings.password_command.split_first() else {
        bail!(
            "IMAP user `{}` needs a password: set {PASSWORD_ENV}, or password_command = \
             [\"program\", \"arg\"] under [imap] in appeal.toml",
            settings.user
        );
    };
    run_password_command(program, args)
}

/// Where reading starts and how it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// Told about each message read and each chunk done.
pub trait Reader {
    /// One message, its bytes as stored. `Ok(true)`: it matched a letter (with `--mark-seen`,
    /// it is flagged \Seen).
    fn message(&mut self, uid: u32, raw: &[u8]) -> Result<bool>;
    /// Every message up to `mark.last_uid` was handled: remember it.
    fn done_to(&mut self, mark: Mark) -> Result<()>;
}

/// How a reading went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// How many messages were read.
    pub read: u64,
    /// The mailbox was read from the start because its UIDVALIDITY changed.
    pub reread: bool,
}

/// The time a command may take before the server is taken for gone.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Reads every message after `since` (all of them when the UIDVALIDITY differs), on a tokio
/// runtime of its own.
pub fn read(
    settings: &ImapSettings,
    password: &Secret,
    since: Option<Mark>,
    mark_seen: bool,
    reader: &mut dyn Reader,
) -> Result<Pass> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the IMAP client")?;
    runtime.block_on(connect_and_read(
        settings, password, since, mark_seen, reader,
    ))
}

async fn connect_and_read(
    s: &ImapSettings,
    password: &Secret,
    since: Option<Mark>,
    mark_seen: bool,
    reader: &mut dyn Reader,
) -> Result<Pass> {
    let at = format!("{}:{}", s.host, s.port);
    let tcp = tokio::time::timeout(
        TIMEOUT,
        tokio::net::TcpStream::connect((s.host.as_str(), s.port)),
    )
    .await
    .map_err(|_| {
        TryLater(format!(
            "the IMAP server {at} did not answer within {}s; try again later",
            TIMEOUT.as_secs()
        ))
    })?
    .map_err(|e| {
        TryLater(format!(
            "cannot connect to the IMAP server {at}: {e}; try again later"
        ))
    })?;
    let name = server_name(&s.host).map_err(|e| anyhow!(e))?;
    match s.security {
        Security::None => {
            let mut client = Client::new(tcp);
            greeting(&mut client, &at).await?;
            session(client, s, password, since, mark_seen, reader).await
        }
        Security::Implicit => {
            let tls = ImplicitTls::handshake(client_config(s.ca.as_deref())?, name, tcp)
                .await
                .with_context(|| format!("TLS with the IMAP server {at} failed"))?;
            let mut client = Client::new(tls);
            greeting(&mut client, &at).await?;
            session(client, s, password, since, mark_seen, reader).await
        }
        Security::StartTls => {
            let mut client = Client::new(tcp);
            greeting(&mut client, &at).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| {
                    anyhow!(
                        "the IMAP server {at} does not offer STARTTLS ({e}); appeal does not send \
                         a password in the clear: use imaps:// or a server with TLS"
                    )
                })?;
            let tcp = client.into_inner();
            let tls = ImplicitTls::handshake(client_config(s.ca.as_deref())?, name, tcp)
                .await
                .with_context(|| format!("TLS with the IMAP server {at} failed"))?;
            session(Client::new(tls), s, password, since, mark_seen, reader).await
        }
    }
}

/// The server's greeting, which comes before any command.
async fn greeting<T>(client: &mut Client<T>, at: &str) -> Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let later = |what: String| TryLater(format!("{what}; try again later"));
    tokio::time::timeout(TIMEOUT, client.read_response())
        .await
        .map_err(|_| later(format!("the IMAP server {at} sent no greeting")))?
        .map_err(|e| later(format!("cannot read the IMAP server {at}: {e}")))?
        .ok_or_else(|| later(format!("the IMAP server {at} closed the connection")))?;
    Ok(())
}

/// Logs in, opens the folder read-only (EXAMINE; SELECT only for `--mark-seen`) and reads.
async fn session<T>(
    client: Client<T>,
    s: &ImapSettings,
    password: &Secret,
    since: Option<Mark>,
    mark_seen: bool,
    reader: &mut dyn Reader,
) -> Result<Pass>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut session = client
        .login(&s.user, password.expose())
        .await
        .map_err(|(e, _)| {
            anyhow!(
                "the IMAP server refused the login of `{}` ({}): check {PASSWORD_ENV} or [imap] password_command",
                s.user,
                short(&e.to_string())
            )
        })?;
    let opened = if mark_seen {
        session.select(&s.folder).await
    } else {
        session.examine(&s.folder).await
    };
    let mailbox = opened.with_context(|| format!("cannot open the IMAP folder `{}`", s.folder))?;
    let uidvalidity = mailbox.uid_validity.unwrap_or(0);
    let reread = since.is_some_and(|m| m.uidvalidity != uidvalidity);
    let first = match since {
        Some(m) if !reread => m.last_uid.saturating_add(1),
        _ => 1,
    };
    // RFC 3501 servers say UIDNEXT; for one that does not, the highest UID there is.
    let next = match mailbox.uid_next {
        Some(n) => n,
        None => session
            .uid_search("ALL")
            .await
            .context("IMAP UID SEARCH failed")?
            .into_iter()
            .max()
            .map_or(1, |u| u.saturating_add(1)),
    };
    let read = read_chunks(&mut session, (first, next, uidvalidity), mark_seen, reader).await?;
    session.logout().await.ok();
    Ok(Pass { read, reread })
}

/// UID FETCH `first..next` in chunks of [`CHUNK`], each message handed over as it streams in.
async fn read_chunks<T>(
    session: &mut Session<T>,
    (first, next, uidvalidity): (u32, u32, u32),
    mark_seen: bool,
    reader: &mut dyn Reader,
) -> Result<u64>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut read = 0;
    let mut start = first;
    let mut last = first.saturating_sub(1);
    while start < next {
        let end = start.saturating_add(CHUNK - 1).min(next - 1);
        let mut matched = Vec::new();
        {
            let mut stream = session
                .uid_fetch(format!("{start}:{end}"), "(UID BODY.PEEK[])")
                .await
                .context("IMAP UID FETCH failed")?;
            while let Some(fetch) = tokio::time::timeout(TIMEOUT, stream.try_next())
                .await
                .map_err(|_| anyhow!("the IMAP server sent nothing for {}s", TIMEOUT.as_secs()))?
                .context("IMAP UID FETCH failed")?
            {
                let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) else {
                    continue;
                };
                // `n:m` may answer with a message outside it when none is inside.
                if uid < start || uid > end {
                    continue;
                }
                read += 1;
                if reader.message(uid, body)? {
                    matched.push(uid);
                }
            }
        }
        if mark_seen && !matched.is_empty() {
            let set = matched
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let stored = session.uid_store(set, "+FLAGS.SILENT (\\Seen)").await?;
            stored
                .try_collect::<Vec<_>>()
                .await
                .context("IMAP UID STORE failed")?;
        }
        last = end;
        reader.done_to(Mark {
            uidvalidity,
            last_uid: last,
        })?;
        start = end.saturating_add(1);
        if end == u32::MAX {
            break;
        }
    }
    if start == first {
        // Nothing new; the mark still records the UIDVALIDITY seen.
        reader.done_to(Mark {
            uidvalidity,
            last_uid: last,
        })?;
    }
    Ok(read)
}

/// A server's words, on one line and not too long: async-imap shows a refusal as
/// `no response: code: None, info: Some("[AUTHENTICATIONFAILED] ...")`; the words are inside.
fn short(text: &str) -> String {
    let text = match text.split_once("info: Some(\"") {
        Some((_, words)) => words.rsplit_once("\")").map_or(words, |(w, _)| w),
        None => text,
    };
    let one = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_their_default_ports_and_folder() {
        let s = parse_url("imaps://me%40example.org@mail.example.org").unwrap();
        assert_eq!((s.security, s.port), (Security::Implicit, 993));
        assert_eq!(
            (s.user.as_str(), s.folder.as_str()),
            ("me@example.org", "INBOX")
        );
        let s = parse_url("imap://me@mail.example.org/Bounces").unwrap();
        assert_eq!(
            (s.security, s.port, s.folder.as_str()),
            (Security::StartTls, 143, "Bounces")
        );
        assert_eq!(s.key(), "imap://me@mail.example.org:143/Bounces");
        let s = parse_url("imap://me@127.0.0.1:1143/INBOX?tls=none").unwrap();
        assert_eq!(s.security, Security::None);
    }

    #[test]
    fn bad_urls_are_refused_without_showing_a_password() {
        let err = format!(
            "{:#}",
            parse_url("imap://me@example.org?tls=none").unwrap_err()
        );
        assert!(
            err.contains("refusing plaintext IMAP to example.org"),
            "{err}"
        );
        for url in [
            "imap://me:hunter2@example.org/INBOX",
            "imaps://me:hunter2@example.org:99999/INBOX",
            "http://me:hunter2@example.org",
            "imap://example.org/INBOX?password=hunter2",
            "imaps://example.org/INBOX",
        ] {
            let err = format!("{:#}", parse_url(url).unwrap_err());
            assert!(!err.contains("hunter2"), "{url}: {err}");
        }
    }
}
