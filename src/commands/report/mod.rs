//! `appeal report [--out FILE] [--json]`: the campaign after sending, for its staff. The
//! ledger's counts per authority and channel, the answers and the days (read-only, through
//! [`Ledger::report`]), named from recipients.toml, written as one self-contained HTML page
//! ([`html`]) or printed as JSON.

mod chart;
mod html;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::Config;
use crate::exit::Exit;
use crate::ledger::{self, Answer, Counts, Day, Ledger, Tally};
use crate::model::recipients::Channel;
use crate::model::signatories::SignatoryReader;

/// The page's file name in the campaign's output folder.
pub const FILE: &str = "report.html";

/// One authority: its name from recipients.toml and its letters by channel.
#[derive(Debug, Serialize)]
pub struct Authority {
    pub id: String,
    /// `None` when recipients.toml no longer has this id.
    pub name: Option<String>,
    pub title: Option<String>,
    pub total: Counts,
    pub channels: Vec<ChannelCounts>,
}

/// One channel of one authority.
#[derive(Debug, Serialize)]
pub struct ChannelCounts {
    pub channel: Channel,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The report as the page and the JSON show it.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub campaign: String,
    pub title: String,
    /// The first and last day anything happened (UTC), `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    /// When the report was made (RFC 3339).
    pub generated: String,
    pub counting: &'static str,
    pub totals: Counts,
    pub authorities: Vec<Authority>,
    pub answers: Vec<Answer>,
    pub timeline: Vec<Day>,
}

/// `appeal report`.
pub fn run(config: &Config, out: Option<&Path>, json: bool) -> Result<Exit> {
    let name = &config.campaign.name;
    let Some(ledger) = Ledger::open_read_only(&config.root)? else {
        eprintln!(
            "appeal: no ledger at {}: nothing of campaign `{name}` has been sent or written yet, \
             so there is nothing to report. `appeal send` (or `appeal pdf`) records letters",
            config.root.join(ledger::DIR).join(ledger::FILE).display()
        );
        return Ok(Exit::Invalid);
    };
    let narrowed = !config.typed.only.is_empty() || !config.typed.tag.is_empty();
    let ids: Vec<String> = config.recipients.iter().map(|r| r.id.clone()).collect();
    let signatories = signatory_ids(config);
    let report = ledger.report(
        name,
        narrowed.then_some(ids.as_slice()),
        signatories.as_deref(),
    )?;
    if report.tallies.is_empty() {
        eprintln!(
            "appeal: the ledger {} has no letter of campaign `{name}`{}: nothing to report",
            ledger.path().display(),
            match (narrowed, signatories.is_some()) {
                (false, false) => "",
                (true, false) => " to these recipients",
                (false, true) => " from these signatories",
                (true, true) => " from these signatories to these recipients",
            }
        );
        return Ok(Exit::Invalid);
    }
    let summary = summarise(config, report);
    if json {
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &summary)?;
        writeln!(stdout)?;
        stdout.flush().context("cannot write to standard output")?;
        return Ok(Exit::Success);
    }
    let path = out.map_or_else(|| config.out_dir.join(FILE), Path::to_path_buf);
    let links = Links::new(&path, &config.out_dir);
    let page = html::page(&summary, &links);
    write_page(&path, page.as_bytes())?;
    if !config.quiet {
        println!(
            "Wrote {}: {} letters to {} authorities, {} answered.",
            path.display(),
            summary.totals.letters,
            summary.authorities.len(),
            summary.totals.answered
        );
    }
    Ok(Exit::Success)
}

/// The ids of `--signatories` (already checked by `config`), `None` without the flag.
fn signatory_ids(config: &Config) -> Option<Vec<String>> {
    let source = config.signatories_source()?;
    let shown = config.signatories.as_deref().unwrap_or(source);
    let reader = SignatoryReader::open(source, shown, false).ok()?;
    Some(reader.filter_map(Result::ok).filter_map(|s| s.id).collect())
}

/// Writes the page atomically, making its folder (the output folder by default) if need be.
fn write_page(path: &Path, bytes: &[u8]) -> Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => {
            let name = path.file_name().map(PathBuf::from).unwrap_or_default();
            crate::files::write_in_folder(dir, &name, &[bytes], false)
        }
        None => crate::files::write_atomic(path, bytes),
    }
}

/// The ledger's report with the authorities' names, in recipients-file order (ids no longer
/// in the file after them).
fn summarise(config: &Config, report: ledger::Report) -> Summary {
    let position: HashMap<&str, usize> = config
        .recipients
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut authorities: Vec<Authority> = Vec::new();
    let mut totals = Counts::default();
    for Tally {
        recipient,
        channel,
        counts,
    } in report.tallies
    {
        totals.add(&counts);
        if authorities.last().is_none_or(|a| a.id != recipient) {
            let known = config.recipients.iter().find(|r| r.id == recipient);
            authorities.push(Authority {
                name: known.map(|r| r.base.name.clone()),
                title: known.map(|r| r.base.title.clone()),
                id: recipient,
                total: Counts::default(),
                channels: Vec::new(),
            });
        }
        if let Some(a) = authorities.last_mut() {
            a.total.add(&counts);
            a.channels.push(ChannelCounts { channel, counts });
        }
    }
    authorities.sort_by_cached_key(|a| {
        let known = position.get(a.id.as_str()).copied();
        (known.unwrap_or(usize::MAX), a.id.clone())
    });
    Summary {
        campaign: config.campaign.name.clone(),
        title: config.campaign.title.clone(),
        from: report.days.first().map(|d| d.day.clone()),
        to: report.days.last().map(|d| d.day.clone()),
        generated: config.now.timestamp().to_string(),
        counting: ledger::COUNTING,
        totals,
        authorities,
        answers: report.answers,
        timeline: report.days,
    }
}

/// How the page links to the saved answers: relative paths from the page's folder to the
/// output folder that `saved` paths are relative to.
pub struct Links {
    /// From the page's folder to the output folder, as URL path segments.
    prefix: Vec<String>,
}

impl Links {
    fn new(page: &Path, out_dir: &Path) -> Links {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let folder = page.parent().filter(|p| !p.as_os_str().is_empty());
        let from = absolute(folder.unwrap_or(Path::new(".")));
        let to = absolute(out_dir);
        let from: Vec<Component> = from.components().collect();
        let to: Vec<Component> = to.components().collect();
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        let mut prefix: Vec<String> = vec!["..".into(); from.len() - common];
        prefix.extend(
            to[common..]
                .iter()
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        );
        Links { prefix }
    }

    /// The link to a saved message, `None` when its recorded path is not a plain relative
    /// path below the output folder (then the page names it without a link).
    pub fn href(&self, saved: &str) -> Option<String> {
        let path = Path::new(saved);
        let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain || saved.is_empty() {
            return None;
        }
        let parts = self.prefix.iter().map(|p| encode(p)).chain(
            path.components()
                .map(|c| encode(&c.as_os_str().to_string_lossy())),
        );
        Some(parts.collect::<Vec<_>>().join("/"))
    }
}

/// A path segment for an `href`: unreserved characters as they are, every other byte
/// percent-encoded (`..` stays as it is).
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text for HTML content and quoted attribute values. Control characters other than tab and
/// newline become spaces (a raw NUL or escape has no business on the page).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_go_from_the_page_to_the_output_folder() {
        let links = Links::new(Path::new("/c/out/k/report.html"), Path::new("/c/out/k"));
        assert_eq!(
            links.href("replies/a b#1.eml").as_deref(),
            Some("replies/a%20b%231.eml")
        );
        let links = Links::new(Path::new("/tmp/r/report.html"), Path::new("/c/out/k"));
        assert_eq!(
            links.href("replies/x.eml").as_deref(),
            Some("../../c/out/k/replies/x.eml")
        );
        assert_eq!(links.href("../x.eml"), None);
        assert_eq!(links.href("/etc/passwd"), None);
        assert_eq!(links.href(""), None);
    }

    #[test]
    fn markup_from_a_reply_is_text() {
        assert_eq!(
            esc("</title><script>x('1\")</script>&"),
            "&lt;/title&gt;&lt;script&gt;x(&#39;1&quot;)&lt;/script&gt;&amp;"
        );
        assert_eq!(esc("a\u{1b}[31mb"), "a [31mb");
    }
}
