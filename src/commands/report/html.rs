//! The report as one self-contained HTML page: inline CSS, inline SVG, no script, no
//! network, no font or image from elsewhere; A4 when printed. Every value that comes from the
//! campaign's files, the ledger or the mailbox goes through [`esc`]: the subjects and senders
//! of answers are written by strangers.

use std::collections::HashMap;
use std::fmt::Write;

use super::{Authority, Links, Summary, chart, esc};
use crate::ledger::{Counts, Day};

const STYLE: &str = "
@page { size: A4; margin: 15mm }
* { box-sizing: border-box }
body { font: 10.5pt/1.4 system-ui, 'Noto Sans', 'DejaVu Sans', sans-serif; color: #1a1a1a;
       max-width: 190mm; margin: 0 auto; padding: 12px; -webkit-print-color-adjust: exact;
       print-color-adjust: exact }
h1 { font-size: 17pt; margin: 0 0 4px }
h2 { font-size: 12.5pt; margin: 18px 0 6px; border-bottom: 1px solid #999; break-after: avoid }
p { margin: 4px 0 }
.meta, .rules { color: #444; font-size: 9pt }
.lead { font-size: 11pt }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; break-inside: avoid }
tr, figure { break-inside: avoid }
th, td { border-bottom: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top }
thead th { border-bottom: 2px solid #333; font-size: 9pt; font-weight: 600 }
tfoot th, tfoot td { border-top: 2px solid #333; font-weight: 600 }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap }
.id { color: #555; font-family: 'DejaVu Sans Mono', monospace; font-size: 8.5pt }
.subject { overflow-wrap: anywhere; width: 36% }
.charts { display: flex; flex-wrap: wrap; gap: 4px 16px }
figure { margin: 0 0 8px; width: 84mm }
figcaption { font-weight: 600; font-size: 9.5pt }
svg text { font: 10px system-ui, 'Noto Sans', 'DejaVu Sans', sans-serif; fill: #1a1a1a }
.bar-sent { fill: #3b6ea5 } .bar-written { fill: #6a8f3c } .bar-bounced { fill: #b23a2e }
.bar-auto { fill: #c48a1c } .bar-answered { fill: #2e7d6b }
@media print { body { padding: 0; max-width: none } a { color: inherit } }
";

/// The whole page.
pub fn page(s: &Summary, links: &Links) -> String {
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>Report: {}</title>", esc(&s.title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    header(&mut out, s);
    authorities(&mut out, s);
    charts(&mut out, s);
    answers(&mut out, s, links);
    timeline(&mut out, &s.timeline);
    out.push_str("</body>\n</html>\n");
    out
}

fn header(out: &mut String, s: &Summary) {
    let _ = writeln!(out, "<header>\n<h1>{}</h1>", esc(&s.title));
    let range = match (&s.from, &s.to) {
        (Some(a), Some(b)) if a == b => esc(a),
        (Some(a), Some(b)) => format!("{} to {}", esc(a), esc(b)),
        _ => "no dated events yet".into(),
    };
    let _ = writeln!(
        out,
        "<p class=\"meta\">Campaign <span class=\"id\">{}</span> · {range} (UTC) · report of {}</p>",
        esc(&s.campaign),
        esc(&when(&s.generated))
    );
    let t = &s.totals;
    let _ = writeln!(
        out,
        "<p class=\"lead\" id=\"totals\">{} to {}: {} sent by email, {} written for post or \
         fax; {} bounced, {} auto-replied, {} answered.</p>",
        count(t.letters, "letter"),
        count(s.authorities.len() as u64, "authority"),
        t.sent,
        t.written,
        t.bounced,
        t.auto_replied,
        t.answered
    );
    let _ = writeln!(
        out,
        "<p class=\"rules\">Counting: {}.</p>\n</header>",
        esc(s.counting)
    );
}

/// A column of the authorities' table: its `data-count` key, its heading, its count.
type Column = (&'static str, &'static str, fn(&Counts) -> u64);

/// The columns of the authorities' table: always the five the campaign is about, the others
/// only when some letter counts in them.
fn columns(t: &Counts) -> Vec<Column> {
    let mut c: Vec<Column> = vec![
        ("letters", "Letters", |c| c.letters),
        ("sent", "Sent", |c| c.sent),
        ("written", "Written", |c| c.written),
        ("bounced", "Bounced", |c| c.bounced),
    ];
    if t.soft_bounced > 0 {
        c.push(("soft_bounced", "Soft-bounced", |c| c.soft_bounced));
    }
    c.push(("auto_replied", "Auto-replied", |c| c.auto_replied));
    c.push(("answered", "Answered", |c| c.answered));
    let extra: [Column; 3] = [
        ("failed", "Failed", |c| c.failed),
        ("in_doubt", "In doubt", |c| c.in_doubt),
        ("not_yet", "Not yet", |c| c.not_yet),
    ];
    c.extend(extra.into_iter().filter(|(_, _, f)| f(t) > 0));
    c
}

fn authorities(out: &mut String, s: &Summary) {
    let cols = columns(&s.totals);
    out.push_str("<section>\n<h2>By authority and channel</h2>\n<table class=\"tally\">\n");
    out.push_str("<thead><tr><th scope=\"col\">Authority</th><th scope=\"col\">Channel</th>");
    for (_, label, _) in &cols {
        let _ = write!(out, "<th scope=\"col\" class=\"n\">{label}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for a in &s.authorities {
        for c in &a.channels {
            let _ = write!(
                out,
                "<tr data-recipient=\"{}\" data-channel=\"{}\"><th scope=\"row\">{}</th><td>{}</td>",
                esc(&a.id),
                c.channel.as_str(),
                name_and_id(a),
                c.channel.as_str()
            );
            for (key, _, f) in &cols {
                let _ = write!(
                    out,
                    "<td class=\"n\" data-count=\"{key}\">{}</td>",
                    f(&c.counts)
                );
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody>\n<tfoot><tr data-recipient=\"\" data-channel=\"\">");
    out.push_str("<th scope=\"row\">All authorities</th><td></td>");
    for (key, _, f) in &cols {
        let _ = write!(
            out,
            "<td class=\"n\" data-count=\"{key}\">{}</td>",
            f(&s.totals)
        );
    }
    out.push_str("</tr></tfoot>\n</table>\n</section>\n");
}

/// The authority's name with its id, or the id alone when recipients.toml lost it.
pub fn name_and_id(a: &Authority) -> String {
    match &a.name {
        Some(name) => format!("{} <span class=\"id\">{}</span>", esc(name), esc(&a.id)),
        None => format!(
            "<span class=\"id\">{}</span> (not in recipients.toml)",
            esc(&a.id)
        ),
    }
}

fn charts(out: &mut String, s: &Summary) {
    out.push_str("<section>\n<h2>Each authority at a glance</h2>\n<div class=\"charts\">\n");
    for (i, a) in s.authorities.iter().enumerate() {
        let _ = writeln!(
            out,
            "<figure>\n<figcaption>{}</figcaption>\n{}</figure>",
            name_and_id(a),
            chart::bars(a, i)
        );
    }
    out.push_str("</div>\n</section>\n");
}

fn answers(out: &mut String, s: &Summary, links: &Links) {
    let answers = &s.answers;
    let named: HashMap<&str, &Authority> =
        s.authorities.iter().map(|a| (a.id.as_str(), a)).collect();
    let _ = writeln!(out, "<section>\n<h2>Answers ({})</h2>", answers.len());
    if answers.is_empty() {
        out.push_str(
            "<p>No answer has been read from the mailbox yet (<code>appeal inbox</code>).</p>\n",
        );
        out.push_str("</section>\n");
        return;
    }
    out.push_str("<table class=\"answers\">\n<thead><tr><th scope=\"col\">Date (UTC)</th>");
    out.push_str("<th scope=\"col\">Authority</th><th scope=\"col\">Signatory</th>");
    out.push_str(
        "<th scope=\"col\">From</th><th scope=\"col\">Subject</th></tr></thead>\n<tbody>\n",
    );
    for a in answers {
        let date = a.dated.as_deref().unwrap_or(&a.read_at);
        let signatory = a.signatory.as_deref().unwrap_or(&a.letter_sender);
        let subject = esc(a.subject.as_deref().unwrap_or("(no subject)"));
        let subject = match a.saved.as_deref().and_then(|p| links.href(p)) {
            Some(href) => format!("<a href=\"{}\">{subject}</a>", esc(&href)),
            None => subject,
        };
        let _ = writeln!(
            out,
            "<tr data-recipient=\"{}\"><td class=\"n\">{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"subject\">{subject}</td></tr>",
            esc(&a.recipient),
            esc(&when(date)),
            named
                .get(a.recipient.as_str())
                .map_or_else(|| esc(&a.recipient), |n| name_and_id(n)),
            esc(signatory),
            esc(a.from.as_deref().unwrap_or("")),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn timeline(out: &mut String, days: &[Day]) {
    out.push_str("<section>\n<h2>Day by day (UTC)</h2>\n<table class=\"timeline\">\n<thead><tr>");
    let heads = [
        "Day",
        "Sent",
        "Written",
        "Bounced",
        "Soft bounces",
        "Auto-replies",
        "Answers",
    ];
    for (i, h) in heads.iter().enumerate() {
        let class = if i == 0 { "" } else { " class=\"n\"" };
        let _ = write!(out, "<th scope=\"col\"{class}>{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for d in days {
        let _ = writeln!(
            out,
            "<tr data-day=\"{0}\"><th scope=\"row\">{0}</th><td class=\"n\">{1}</td>\
             <td class=\"n\">{2}</td><td class=\"n\">{3}</td><td class=\"n\">{4}</td>\
             <td class=\"n\">{5}</td><td class=\"n\">{6}</td></tr>",
            esc(&d.day),
            d.sent,
            d.written,
            d.bounced,
            d.soft_bounced,
            d.auto_replied,
            d.answered
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// `2014-07-14 10:00` (UTC) for a stored RFC 3339 time; the text as it is when it is not one.
fn when(stored: &str) -> String {
    match stored.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => stored.to_string(),
    }
}

fn count(n: u64, what: &str) -> String {
    match (n, what) {
        (1, _) => format!("1 {what}"),
        (_, "authority") => format!("{n} authorities"),
        _ => format!("{n} {what}s"),
    }
}
