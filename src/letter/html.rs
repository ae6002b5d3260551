//! The letter as HTML, for the email's alternative part: the same blocks, escaped, and the
//! signatory's contact block at the end, as in the text part.

use crate::letter::{Block, Letter, Span};

impl Letter {
    /// The letter as HTML for the email's alternative part: the same blocks as
    /// [`Letter::email_text`], escaped, ending with the same contact block.
    pub fn to_html(&self) -> String {
        let labels = &self.labels;
        let mut out = String::from("<!DOCTYPE html>\n<html lang=\"");
        out.push_str(&self.language);
        out.push_str("\" dir=\"");
        out.push_str(self.direction());
        out.push_str("\"><head><meta charset=\"utf-8\"><title>");
        out.push_str(&escape_html(&self.subject));
        out.push_str("</title></head>\n<body style=\"font-family: sans-serif; max-width: 40em; line-height: 1.45\">\n");
        out.push_str(&format!("<p>{}</p>\n", escape_html(&self.salutation)));
        html_blocks(&self.body, &mut out);
        out.push_str(&format!(
            "<p>{}<br>\n{}</p>\n",
            escape_html(&self.closing),
            escape_html(&self.sender.name)
        ));
        if !self.copies_to.is_empty() {
            out.push_str(&format!(
                "<p>{}: {}</p>\n",
                escape_html(&labels.copies),
                escape_html(&self.copies_to.join("; "))
            ));
        }
        if !self.notes.is_empty() {
            out.push_str(&format!(
                "<hr>\n<p><small>{}</small></p>\n<ol style=\"font-size: smaller\">\n",
                escape_html(&labels.notes)
            ));
            for n in &self.notes {
                out.push_str("<li>");
                html_spans(&n.spans, &mut out);
                out.push_str("</li>\n");
            }
            out.push_str("</ol>\n");
        }
        html_contact(
            &self.contact_lines(),
            self.sender.email.as_deref(),
            &mut out,
        );
        out.push_str("</body>\n</html>\n");
        out
    }
}

impl Letter {
    /// "rtl" or "ltr": the direction of the letter's language (CLDR), or for a language CLDR
    /// cannot place, of the first strongly directional character (UAX #9, rules P2 and P3)
    /// in its salutation and body; "ltr" if it has none.
    pub fn direction(&self) -> &'static str {
        if let Some(rtl) = crate::model::locale::right_to_left(&self.language) {
            return if rtl { "rtl" } else { "ltr" };
        }
        let mut text = self.salutation.clone();
        text.push('\n');
        for block in &self.body {
            if let Block::Paragraph(spans) = block {
                text.push_str(&crate::letter::spans_text(spans));
                text.push('\n');
            }
        }
        match unicode_bidi::get_base_direction_full(text.as_str()) {
            unicode_bidi::Direction::Rtl => "rtl",
            _ => "ltr",
        }
    }
}

/// The contact block after a signature line, the email address as a `mailto:` link.
fn html_contact(lines: &[String], email: Option<&str>, out: &mut String) {
    if lines.is_empty() {
        return;
    }
    out.push_str("<p class=\"contact\">-- ");
    let email = email.map(str::trim);
    for line in lines {
        out.push_str("<br>\n");
        match email {
            Some(e) if e == line => {
                let e = escape_html(e);
                out.push_str(&format!("<a href=\"mailto:{e}\">{e}</a>"));
            }
            _ => out.push_str(&escape_html(line)),
        }
    }
    out.push_str("</p>\n");
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn html_spans(spans: &[Span], out: &mut String) {
    for s in spans {
        let mut text = escape_html(&s.text).replace('\n', "<br>\n");
        if s.superscript {
            text = format!("<sup>{text}</sup>");
        }
        if s.italic {
            text = format!("<em>{text}</em>");
        }
        if s.bold {
            text = format!("<strong>{text}</strong>");
        }
        out.push_str(&text);
    }
}

fn html_blocks(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Paragraph(spans) => {
                out.push_str("<p>");
                html_spans(spans, out);
                out.push_str("</p>\n");
            }
            Block::List { start, items } => {
                match start {
                    Some(1) => out.push_str("<ol>\n"),
                    Some(n) => out.push_str(&format!("<ol start=\"{n}\">\n")),
                    None => out.push_str("<ul>\n"),
                }
                for item in items {
                    out.push_str("<li>");
                    html_blocks(item, out);
                    out.push_str("</li>\n");
                }
                out.push_str(if start.is_some() {
                    "</ol>\n"
                } else {
                    "</ul>\n"
                });
            }
        }
    }
}
