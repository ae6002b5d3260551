//! The letter as plain text: the email's text part and what `preview` shows.

use crate::letter::{Block, Letter, spans_text};
use crate::model::locale;

impl Letter {
    /// The letter as plain text, `width` columns wide: what an email body or a preview shows.
    /// With `full`, the sender and recipient blocks and the date line come first, as on paper.
    pub fn to_text(&self, width: usize, full: bool) -> String {
        let labels = locale::labels(&self.language);
        let mut out = String::new();
        if full {
            out.push_str(&self.sender.name);
            out.push('\n');
            for l in &self.sender.address {
                out.push_str(l);
                out.push('\n');
            }
            out.push('\n');
            out.push_str(&self.recipient.title);
            out.push('\n');
            out.push_str(&self.recipient.name);
            out.push('\n');
            for l in &self.recipient.address {
                out.push_str(l);
                out.push('\n');
            }
            out.push('\n');
            out.push_str(&self.place_date);
            out.push_str("\n\n");
            out.push_str(&self.subject);
            out.push('\n');
            if let Some(r) = &self.reference {
                out.push_str(&format!("{} {r}\n", labels.reference));
            }
            out.push('\n');
        }
        out.push_str(&self.salutation);
        out.push_str("\n\n");
        text_blocks(&self.body, width, "", &mut out);
        out.push_str(&self.closing);
        out.push_str("\n\n");
        out.push_str(&self.sender.name);
        out.push('\n');
        if !self.copies_to.is_empty() {
            out.push_str(&format!(
                "\n{}: {}\n",
                labels.copies,
                self.copies_to.join("; ")
            ));
        }
        if !self.notes.is_empty() {
            out.push_str(&format!("\n{}\n", labels.notes));
            for n in &self.notes {
                let prefix = format!("[{}] ", n.number);
                let indent = " ".repeat(prefix.chars().count());
                let opts = wrap_options(width, &prefix, &indent);
                out.push_str(&textwrap::fill(&spans_text(&n.spans), opts));
                out.push('\n');
            }
        }
        out
    }
}

/// Wrapping for plain text: break only at spaces, never inside a word or a URL.
fn wrap_options<'a>(width: usize, first: &'a str, rest: &'a str) -> textwrap::Options<'a> {
    textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false)
}

fn text_blocks(blocks: &[Block], width: usize, indent: &str, out: &mut String) {
    for block in blocks {
        match block {
            Block::Paragraph(spans) => {
                let text = spans_text(spans);
                let opts = wrap_options(width, indent, indent);
                for line in text.split('\n') {
                    out.push_str(&textwrap::fill(line, &opts));
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::List { start, items } => {
                for (i, item) in items.iter().enumerate() {
                    let marker = match start {
                        Some(n) => format!("{}. ", n + i as u64),
                        None => "- ".to_string(),
                    };
                    let inner_indent = format!("{indent}{}", " ".repeat(marker.chars().count()));
                    let mut item_text = String::new();
                    text_blocks(item, width, &inner_indent, &mut item_text);
                    // Put the marker in place of the first line's indent.
                    let body = item_text.trim_end_matches('\n');
                    let body = body.strip_prefix(inner_indent.as_str()).unwrap_or(body);
                    out.push_str(indent);
                    out.push_str(&marker);
                    out.push_str(body);
                    out.push('\n');
                }
                out.push('\n');
            }
        }
    }
}
