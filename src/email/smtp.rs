//! SMTP settings: the server URL and its TLS policy, rate, connections, timeout and the
//! password, from `--smtp`/`--smtp-ca`/`--rate` or `[smtp]` in `appeal.toml`, checked once.
//! [`crate::email::delivery`] uses them to talk to the server.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use crate::model::settings::RawSmtp;

/// Environment variable holding the SMTP password.
pub const PASSWORD_ENV: &str = "APPEAL_SMTP_PASSWORD";

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://`: STARTTLS, required.
    StartTls,
    /// `smtp://...?tls=none`: plaintext, loopback only.
    None,
}

/// Where to send, parsed from an `smtp://` or `smtps://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub security: Security,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
}

impl Endpoint {
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.host)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Is `host` this machine: `localhost`, 127.0.0.0/8 or ::1?
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.to_canonical().is_loopback())
}

pub(crate) fn percent_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| anyhow!("bad percent-escape in `{s}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| anyhow!("`{s}` is not UTF-8 once decoded"))
}

/// `url` as it may be shown: a password in it (`user:secret@`) becomes `user:***@`. When in
/// doubt about where the user part ends (an `@` further on), more is hidden, never less.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_userinfo(url);
    };
    format!("{scheme}://{}", redact_userinfo(rest))
}

/// `user:secret@host...` → `user:***@host...`; without both a `:` and a later `@`, as it is.
fn redact_userinfo(rest: &str) -> String {
    let Some(at) = rest.rfind('@') else {
        return rest.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***{}", &rest[at..]),
        None => rest.to_string(),
    }
}

/// Parses `smtps://user@host[:465]`, `smtp://user@host[:587]` or `smtp://host:port?tls=none`.
/// Refuses a password in the URL and plaintext to anything but this machine. No message shows
/// the password: each shows the URL through [`redact_url`].
pub fn parse_url(url: &str) -> Result<Endpoint> {
    if let Some(why) = crate::diag::unsafe_char(url) {
        bail!("SMTP URL {why}");
    }
    let shown = redact_url(url);
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow!("SMTP URL `{shown}` must start with smtps:// or smtp://"))?;
    let security = scheme_security(scheme)?;
    let (authority, query) = split_query(&shown, rest)?;
    let security = query_security(security, query)?;
    let (user, hostport) = split_user(&shown, authority)?;
    let (host, port) = split_host_port(&shown, hostport)?;
    let endpoint = Endpoint {
        security,
        host,
        port: port_number(&shown, port, security)?,
        user,
    };
    if security == Security::None && !endpoint.is_loopback() {
        bail!(
            "refusing plaintext SMTP to {}: tls=none is allowed only for a server on this machine \
             (localhost, 127.0.0.0/8, ::1); use smtps://{0} or smtp:// with STARTTLS",
            endpoint.host
        );
    }
    Ok(endpoint)
}

/// `smtps` is TLS from the start, `smtp` STARTTLS until the query says otherwise.
fn scheme_security(scheme: &str) -> Result<Security> {
    match scheme.to_ascii_lowercase().as_str() {
        "smtps" => Ok(Security::Implicit),
        "smtp" => Ok(Security::StartTls),
        other => bail!("SMTP URL scheme `{other}` is not smtps or smtp"),
    }
}

/// `[user@]host[:port]` and the query after `?`, if any; a path is refused.
fn split_query<'a>(url: &str, rest: &'a str) -> Result<(&'a str, Option<&'a str>)> {
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        bail!("SMTP URL `{url}` has a path; expected smtp://[user@]host[:port]");
    }
    Ok((authority, query))
}

/// The security once the query's options are applied: `tls=none` turns STARTTLS off.
fn query_security(mut security: Security, query: Option<&str>) -> Result<Security> {
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair {
            "tls=none" if security == Security::StartTls => security = Security::None,
            "tls=none" => bail!("tls=none makes no sense with smtps://"),
            "tls=starttls" | "tls=required" => {}
            // Only the option's name: its value could be a secret put in the wrong place.
            other => bail!(
                "unknown SMTP URL option `{}` (the only one is tls=none)",
                other.split('=').next().unwrap_or(other)
            ),
        }
    }
    Ok(security)
}

/// The user name before the last `@`, percent-decoded, and what follows it. A password is
/// refused here: it belongs in the environment or a password command, not in the URL.
fn split_user<'a>(url: &str, authority: &'a str) -> Result<(Option<String>, &'a str)> {
    let Some((user, hostport)) = authority.rsplit_once('@') else {
        return Ok((None, authority));
    };
    if user.contains(':') {
        bail!(
            "the SMTP URL holds a password; remove it and set {PASSWORD_ENV} or [smtp] password_command"
        );
    }
    if user.is_empty() {
        bail!("SMTP URL `{url}` has an empty user name");
    }
    Ok((Some(percent_decode(user)?), hostport))
}

/// The host (an IPv6 address in brackets, brackets dropped) and the port as written, if any.
fn split_host_port<'a>(url: &str, hostport: &'a str) -> Result<(String, Option<&'a str>)> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| anyhow!("SMTP URL `{url}`: unclosed `[` in the host"))?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        bail!("SMTP URL `{url}` has no host");
    }
    Ok((host.to_string(), port))
}

/// The port written, else the usual one for the security: 465, 587, or 25 for plaintext.
fn port_number(url: &str, port: Option<&str>, security: Security) -> Result<u16> {
    let Some(p) = port else {
        return Ok(match security {
            Security::Implicit => 465,
            Security::StartTls => 587,
            Security::None => 25,
        });
    };
    p.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| anyhow!("SMTP URL `{url}`: `{p}` is not a port number"))
}

/// A sending rate: at most `count` messages per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    pub fn interval(&self) -> Duration {
        self.per / self.count.max(1)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s".to_string(),
            60 => "min".to_string(),
            3600 => "h".to_string(),
            n => format!("{n}s"),
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// Parses `30/min`, `2/s` or `600/h`.
pub fn parse_rate(s: &str) -> Result<Rate> {
    let err = || anyhow!("rate `{s}` should look like 30/min (also N/s, N/h)");
    let (n, unit) = s.trim().split_once('/').ok_or_else(err)?;
    let count: u32 = n.trim().parse().map_err(|_| err())?;
    if count == 0 {
        bail!("rate `{s}`: the count must be at least 1");
    }
    let per = match unit.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        _ => return Err(err()),
    };
    Ok(Rate { count, per })
}

/// Everything needed to talk to the server, resolved and checked. Holds no password.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub endpoint: Endpoint,
    /// An extra CA (PEM) to trust besides the system's.
    pub ca: Option<PathBuf>,
    /// `[smtp] from`: the staff account that sends.
    pub from: Option<String>,
    pub password_command: Vec<String>,
    pub connections: usize,
    pub rate: Option<Rate>,
    pub timeout: Duration,
}

/// What the command line says about SMTP; it wins over `[smtp]`.
#[derive(Debug, Default, Clone)]
pub struct SmtpFlags {
    pub url: Option<String>,
    pub ca: Option<PathBuf>,
    pub rate: Option<String>,
    /// `--bounce-address`: the VERP envelope sender, over `[smtp] bounce_address`.
    pub bounce_address: Option<String>,
}

/// The default rate for a remote server, so a relay's limits are not hit by accident.
pub const DEFAULT_REMOTE_RATE: &str = "30/min";

/// Resolves `--smtp`/`[smtp]` into settings; `Ok(None)` when neither names a server.
pub fn resolve(
    flags: &SmtpFlags,
    raw: Option<&RawSmtp>,
    root: &Path,
) -> Result<Option<SmtpSettings>> {
    let url = match (&flags.url, raw.and_then(|r| r.url.as_ref())) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) => u.get_ref().clone(),
        (None, None) => return Ok(None),
    };
    let endpoint = parse_url(&url).context("SMTP settings")?;
    let ca = match (&flags.ca, raw.and_then(|r| r.ca.as_ref())) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(c)) => Some(root.join(c.get_ref())),
        (None, None) => None,
    };
    if let Some(ca) = &ca
        && !ca.is_file()
    {
        bail!("SMTP CA file {} does not exist", ca.display());
    }
    let rate = match (&flags.rate, raw.and_then(|r| r.rate.as_ref())) {
        (Some(r), _) => Some(parse_rate(r)?),
        (None, Some(r)) => Some(parse_rate(r.get_ref())?),
        (None, None) if endpoint.is_loopback() => None,
        (None, None) => Some(parse_rate(DEFAULT_REMOTE_RATE)?),
    };
    let connections = raw
        .and_then(|r| r.connections.as_ref())
        .map(|c| *c.get_ref() as usize)
        .unwrap_or(4)
        .clamp(1, 64);
    let timeout = Duration::from_secs(
        raw.and_then(|r| r.timeout.as_ref())
            .map(|t| *t.get_ref())
            .unwrap_or(60)
            .max(1),
    );
    let from = raw
        .and_then(|r| r.from.as_ref())
        .map(|f| f.get_ref().clone());
    if let Some(f) = &from {
        crate::email::message::parse_mailbox(f, "[smtp] from")?;
    }
    let password_command = raw
        .and_then(|r| r.password_command.clone())
        .unwrap_or_default();
    Ok(Some(SmtpSettings {
        endpoint,
        ca,
        from,
        password_command,
        connections,
        rate,
        timeout,
    }))
}

/// A password, kept out of Debug output and error messages.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub(crate) fn new(password: String) -> Secret {
        Secret(password)
    }

    /// The password itself, for the AUTH command only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The password for the URL's user: `APPEAL_SMTP_PASSWORD`, else the first line printed by
/// `password_command` (run without a shell). `None` when the URL names no user.
pub fn password(settings: &SmtpSettings) -> Result<Option<Secret>> {
    let Some(user) = &settings.endpoint.user else {
        return Ok(None);
    };
    if let Ok(p) = std::env::var(PASSWORD_ENV)
        && !p.is_empty()
    {
        return Ok(Some(Secret(p)));
    }
    let Some((program, args)) = settings.password_command.split_first() else {
        bail!(
            "SMTP user `{user}` needs a password: set {PASSWORD_ENV}, or password_command = \
             [\"program\", \"arg\"] under [smtp] in appeal.toml"
        );
    };
    run_password_command(program, args).map(Some)
}

/// The first line `program` prints, run without a shell, as a password.
pub(crate) fn run_password_command(program: &str, args: &[String]) -> Result<Secret> {
    let output = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run password_command `{program}`"))?;
    if !output.status.success() {
        bail!("password_command `{program}` failed ({})", output.status);
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| anyhow!("password_command `{program}` printed something that is not UTF-8"))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        bail!("password_command `{program}` printed no password");
    }
    Ok(Secret(line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_their_default_ports() {
        let e = parse_url("smtps://me%40example.org@mail.example.org").unwrap();
        assert_eq!(e.security, Security::Implicit);
        assert_eq!(e.port, 465);
        assert_eq!(e.user.as_deref(), Some("me@example.org"));
        let e = parse_url("smtp://me@mail.example.org").unwrap();
        assert_eq!((e.security, e.port), (Security::StartTls, 587));
        let e = parse_url("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((e.security, e.port, e.user), (Security::None, 2525, None));
        let e = parse_url("smtp://[::1]:25?tls=none").unwrap();
        assert_eq!(e.host, "::1");
        assert!(parse_url("smtp://localhost:25?tls=none").is_ok());
    }

    #[test]
    fn plaintext_is_refused_for_remote_hosts() {
        let err = parse_url("smtp://example.org:25?tls=none").unwrap_err();
        assert!(
            err.to_string()
                .contains("refusing plaintext SMTP to example.org")
        );
        assert!(parse_url("smtp://10.0.0.1:25?tls=none").is_err());
        assert!(parse_url("smtps://127.0.0.1?tls=none").is_err());
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(parse_url("smtp://me:secret@example.org").is_err());
        assert!(parse_url("http://example.org").is_err());
        assert!(parse_url("smtp://example.org:0").is_err());
        assert!(parse_url("smtp://example.org?tls=maybe").is_err());
        assert!(parse_url("smtp://exa\nmple.org").is_err());
    }

    #[test]
    fn no_error_shows_a_password() {
        for url in [
            "smtp://alex:hunter2@mail.example.org:587/x",
            "smtps://alex:hunter2@mail.example.org:99999",
            "smtp://alex:hunter2@",
            "smtp://alex:hun@ter2@mail.example.org",
            "smtp://alex:hunter2@[::1:25",
            "smtp://mail.example.org?password=hunter2",
            "ftp://alex:hunter2@mail.example.org",
            "alex:hunter2@mail.example.org",
        ] {
            let err = format!("{:#}", parse_url(url).unwrap_err());
            assert!(!err.contains("hunter2"), "{url}: {err}");
            assert!(!err.contains("ter2"), "{url}: {err}");
        }
        let err = parse_url("smtp://alex:hunter2@mail.example.org:587/x").unwrap_err();
        assert!(
            err.to_string()
                .contains("`smtp://alex:***@mail.example.org:587/x` has a path"),
            "{err}"
        );
    }

    #[test]
    fn urls_are_redacted_for_showing() {
        assert_eq!(
            redact_url("smtp://alex:hunter2@host:587"),
            "smtp://alex:***@host:587"
        );
        assert_eq!(redact_url("smtp://a:b@c@host"), "smtp://a:***@host");
        assert_eq!(redact_url("smtp://alex@host:587"), "smtp://alex@host:587");
        assert_eq!(
            redact_url("smtp://127.0.0.1:25?tls=none"),
            "smtp://127.0.0.1:25?tls=none"
        );
        assert_eq!(redact_url("a:b@host"), "a:***@host");
    }

    #[test]
    fn rates_parse() {
        let r = parse_rate("30/min").unwrap();
        assert_eq!(r.to_string(), "30/min");
        assert_eq!(r.interval(), Duration::from_secs(2));
        assert_eq!(
            parse_rate("2/s").unwrap().interval(),
            Duration::from_millis(500)
        );
        assert!(parse_rate("0/min").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        assert_eq!(format!("{:?}", Secret("hunter2".into())), "Secret(..)");
    }
}
