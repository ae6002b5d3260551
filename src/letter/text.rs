//! The letter as plain text: what `preview` shows, what the ledger's content hash covers, and,
//! with the signatory's contact block after it, the email's text part.

use crate::letter::{Block, Letter, spans_text};

/// The width of an email's text part, in columns.
pub const EMAIL_WIDTH: usize = 72;

impl Letter {
    /// The email's text part: [`Letter::to_text`] at [`EMAIL_WIDTH`] columns, as the ledger's
    /// content hash sees it, then the signatory's name, postal address and email after a
    /// signature line (`-- `), so an official can answer by post or by email. The block is
    /// left out of the hash on purpose: adding it changed no letter already sent.
    pub fn email_text(&self) -> String {
        let mut out = self.to_text(EMAIL_WIDTH, false);
        let contact = self.contact_lines();
        if !contact.is_empty() {
            out.push_str("\n-- \n");
            for line in &contact {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Who to answer: the sender's name, address lines, city (unless an address line already
    /// names it) and email, blank lines left out. Empty when there is nothing beyond the name,
    /// which the letter already ends with.
    pub(crate) fn contact_lines(&self) -> Vec<String> {
        let s = &self.sender;
        let mut postal: Vec<String> = s
            .address
            .iter()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if let Some(city) = s.city.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let lower = city.to_lowercase();
            if !postal.iter().any(|l| l.to_lowercase().contains(&lower)) {
                postal.push(city.to_string());
            }
        }
        let email = s.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
        if postal.is_empty() && email.is_none() {
            return Vec::new();
        }
        let mut lines = vec![s.name.trim().to_string()];
        lines.extend(postal);
        lines.extend(email.map(String::from));
        lines.retain(|l| !l.is_empty());
        lines
    }

    /// The letter as plain text, `width` columns wide: what an email body or a preview shows.
    /// With `full`, the sender and recipient blocks and the date line come first, as on paper.
    pub fn to_text(&self, width: usize, full: bool) -> String {
        let labels = &self.labels;
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

#[cfg(test)]
mod tests {
    use crate::letter::{Block, Letter, LetterKey, Span};
    use crate::model::recipients::Addressee;
    use crate::model::sender::Sender;

    fn letter(sender: Sender) -> Letter {
        Letter {
            key: LetterKey {
                campaign: "c".into(),
                signatory: None,
                recipient: "r".into(),
            },
            language: "en".into(),
            sender,
            recipient: Addressee {
                name: "R".into(),
                title: "T".into(),
                salutation: None,
                address: vec![],
            },
            place_date: String::new(),
            subject: "S".into(),
            reference: None,
            salutation: "Dear Sir,".into(),
            body: vec![Block::Paragraph(vec![Span::plain("Body <b> & more.")])],
            closing: "Yours,".into(),
            notes: vec![crate::letter::Note {
                number: 1,
                spans: vec![Span::plain("A source.")],
            }],
            copies_to: vec![],
            title: "t".into(),
            fax_to: None,
            labels: std::sync::Arc::new(
                crate::model::locale::Labels::builtin("en").expect("English labels"),
            ),
        }
    }

    fn sender() -> Sender {
        Sender {
            name: "Alex <Sample>".into(),
            email: Some("alex@example.org".into()),
            address: vec!["1 Test Street".into(), "  ".into(), "London N1".into()],
            city: Some("london".into()),
            ..Sender::default()
        }
    }

    #[test]
    fn the_email_text_is_the_hashed_text_and_then_the_contact_block() {
        let l = letter(sender());
        let text = l.email_text();
        let hashed = l.to_text(72, false);
        assert!(!hashed.contains("1 Test Street"), "to_text is unchanged");
        assert_eq!(
            text.strip_prefix(hashed.as_str()),
            Some("\n-- \nAlex <Sample>\n1 Test Street\nLondon N1\nalex@example.org\n"),
            "the city already in an address line is not repeated; blank lines are left out"
        );
    }

    #[test]
    fn the_city_is_added_when_no_address_line_names_it() {
        let mut s = sender();
        s.address = vec!["1 Test Street".into()];
        s.email = None;
        assert_eq!(
            letter(s).contact_lines(),
            ["Alex <Sample>", "1 Test Street", "london"]
        );
    }

    #[test]
    fn no_block_without_an_address_or_email() {
        let s = Sender {
            name: "Alex".into(),
            ..Sender::default()
        };
        let l = letter(s);
        assert_eq!(l.email_text(), l.to_text(72, false));
        assert!(!l.to_html().contains("-- "));
    }

    #[test]
    fn the_html_ends_with_the_same_block_escaped() {
        let html = letter(sender()).to_html();
        let block = "<p class=\"contact\">-- <br>\nAlex &lt;Sample&gt;<br>\n1 Test Street<br>\nLondon N1<br>\n<a href=\"mailto:alex@example.org\">alex@example.org</a></p>\n</body>\n</html>\n";
        assert!(html.ends_with(block), "{html}");
        assert!(
            html.find("A source.") < html.find("contact"),
            "after the notes"
        );
    }
}
