//! (campaign, sender, recipient) → `Letter`: the text blocks, notes and metadata that the PDF,
//! the email and the preview are all made from.

pub mod plan;
pub mod run;

use std::collections::HashMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::model::campaign::{Campaign, SOURCE_NOTE_PREFIX};
use crate::model::locale;
use crate::model::recipients::{Addressee, Recipient};
use crate::model::sender::Sender;

/// Identifies one letter everywhere: file names, Message-ID, the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LetterKey {
    pub campaign: String,
    /// The signatory's id in a batch; `None` when one sender writes.
    pub signatory: Option<String>,
    pub recipient: String,
}

impl LetterKey {
    /// Relative file stem: `<recipient>` or `<signatory>/<recipient>`. Built from ids only.
    pub fn file_stem(&self) -> String {
        match &self.signatory {
            Some(s) => format!("{s}/{}", self.recipient),
            None => self.recipient.clone(),
        }
    }
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    /// A footnote marker, printed raised and small.
    pub superscript: bool,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Span {
        Span {
            text: text.into(),
            bold: false,
            italic: false,
            superscript: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Span>),
    /// A list; `start` is the first number of an ordered list.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub number: usize,
    pub spans: Vec<Span>,
}

/// One rendered letter, ready for any output.
#[derive(Debug, Clone)]
pub struct Letter {
    pub key: LetterKey,
    pub language: String,
    pub sender: Sender,
    pub recipient: Addressee,
    /// "London, 14 July 2014".
    pub place_date: String,
    pub subject: String,
    pub reference: Option<String>,
    pub salutation: String,
    pub body: Vec<Block>,
    pub closing: String,
    pub notes: Vec<Note>,
    pub copies_to: Vec<String>,
    /// Campaign title, for document metadata.
    pub title: String,
    /// Set for a fax sent without a gateway: the number the PDF's cover line names.
    pub fax_to: Option<String>,
}

/// Everything a template can see, as JSON.
pub fn template_data(
    campaign: &Campaign,
    recipient: &Recipient,
    addressee: &Addressee,
    sender: &Sender,
    lang: &str,
    today: &str,
) -> Value {
    let mut sender_json = json!({
        "id": sender.id,
        "name": sender.name,
        "email": sender.email,
        "address": sender.address,
        "city": sender.city,
        "note": sender.note.clone().unwrap_or_default(),
    });
    if let Value::Object(map) = &mut sender_json {
        for (k, v) in &sender.extra {
            map.entry(k.clone())
                .or_insert_with(|| Value::String(v.clone()));
        }
    }
    json!({
        "recipient": {
            "id": recipient.id,
            "name": addressee.name,
            "title": addressee.title,
            "address": addressee.address,
            "email": recipient.email,
            "fax": recipient.fax,
            "phone": recipient.phone,
            "tags": recipient.tags,
            "language": lang,
        },
        "sender": sender_json,
        "campaign": {
            "name": campaign.name,
            "title": campaign.title,
            "reference": campaign.reference,
            "subject": campaign.subject.get(lang),
            "language": lang,
            "copies_to": campaign.copies_to,
        },
        "facts": campaign.facts,
        "today": today,
        "sources": campaign.sources,
    })
}

/// Renders the letter to `recipient` from `sender` in `lang`.
pub fn build(
    campaign: &Campaign,
    recipient: &Recipient,
    sender: &Sender,
    lang: &str,
    today: jiff::civil::Date,
) -> Result<Letter, Diagnostic> {
    let addressee = recipient.addressee(lang);
    let today_text = locale::format_date(lang, today);
    let data = template_data(campaign, recipient, &addressee, sender, lang, &today_text);
    let markdown = campaign.render_body(lang, &data)?;
    let (body, notes) = parse_markdown(&markdown, campaign);
    let salutation = recipient
        .salutation(lang, &campaign.language)
        .or_else(|| campaign.salutation.get(lang).cloned())
        .unwrap_or_default();
    let place_date = match &sender.city {
        Some(city) if !city.is_empty() => format!("{city}, {today_text}"),
        _ => today_text,
    };
    Ok(Letter {
        key: LetterKey {
            campaign: campaign.name.clone(),
            signatory: sender.id.clone(),
            recipient: recipient.id.clone(),
        },
        language: lang.to_string(),
        sender: sender.clone(),
        recipient: addressee,
        place_date,
        subject: campaign.subject.get(lang).cloned().unwrap_or_default(),
        reference: campaign.reference.clone(),
        salutation,
        body,
        closing: campaign.closing.get(lang).cloned().unwrap_or_default(),
        notes,
        copies_to: campaign.copies_to.clone(),
        title: campaign.title.clone(),
        fax_to: None,
    })
}

/// Markdown → body blocks and numbered notes. Footnotes are numbered in order of first
/// reference; sources the letter never cites follow as further notes.
pub fn parse_markdown(markdown: &str, campaign: &Campaign) -> (Vec<Block>, Vec<Note>) {
    let mut text = markdown.to_string();
    for s in &campaign.sources {
        text.push_str(&format!(
            "\n\n[^{SOURCE_NOTE_PREFIX}{}]: {}\n",
            s.key,
            escape_markdown(&s.note_text())
        ));
    }
    let mut builder = BlockBuilder::default();
    let parser = Parser::new_ext(
        &text,
        Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH,
    );
    for event in parser {
        builder.event(event);
    }
    let BlockBuilder {
        root,
        definitions,
        order,
        ..
    } = builder;
    let mut notes: Vec<Note> = order
        .iter()
        .enumerate()
        .map(|(i, label)| Note {
            number: i + 1,
            spans: definitions
                .get(label)
                .cloned()
                .unwrap_or_else(|| vec![Span::plain(format!("[{label}]"))]),
        })
        .collect();
    for s in &campaign.sources {
        let label = format!("{SOURCE_NOTE_PREFIX}{}", s.key);
        if !order.contains(&label) {
            notes.push(Note {
                number: notes.len() + 1,
                spans: vec![Span::plain(s.note_text())],
            });
        }
    }
    (root, notes)
}

/// Keeps a URL or title from being read as Markdown (`_`, `*`, `[`).
fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '[' | ']' | '`' | '<' | '>' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Builds nested blocks from pulldown-cmark's event stream.
#[derive(Default)]
struct BlockBuilder {
    root: Vec<Block>,
    /// Open containers: lists and list items being filled.
    stack: Vec<Container>,
    spans: Vec<Span>,
    bold: usize,
    italic: usize,
    in_footnote: Option<String>,
    footnote_spans: Vec<Span>,
    definitions: HashMap<String, Vec<Span>>,
    order: Vec<String>,
}

enum Container {
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Item(Vec<Block>),
}

impl BlockBuilder {
    fn push_block(&mut self, block: Block) {
        if self.in_footnote.is_some() {
            // Footnote definitions become one run of text.
            if let Block::Paragraph(spans) = block {
                if !self.footnote_spans.is_empty() {
                    self.footnote_spans.push(Span::plain(" "));
                }
                self.footnote_spans.extend(spans);
            }
            return;
        }
        match self.stack.last_mut() {
            Some(Container::Item(blocks)) => blocks.push(block),
            Some(Container::List { .. }) | None => self.root.push(block),
        }
    }

    fn flush_paragraph(&mut self) {
        let spans = std::mem::take(&mut self.spans);
        let spans = merge_spans(spans);
        if !spans.is_empty() {
            self.push_block(Block::Paragraph(spans));
        }
    }

    fn text(&mut self, text: &str) {
        self.spans.push(Span {
            text: text.to_string(),
            bold: self.bold > 0,
            italic: self.italic > 0,
            superscript: false,
        });
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::CodeBlock(_)) => {
                self.flush_paragraph()
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock) => {
                self.flush_paragraph()
            }
            Event::Start(Tag::Strong) => self.bold += 1,
            Event::End(TagEnd::Strong) => self.bold = self.bold.saturating_sub(1),
            Event::Start(Tag::Emphasis) => self.italic += 1,
            Event::End(TagEnd::Emphasis) => self.italic = self.italic.saturating_sub(1),
            Event::Start(Tag::List(start)) => {
                self.flush_paragraph();
                self.stack.push(Container::List {
                    start,
                    items: Vec::new(),
                });
            }
            Event::End(TagEnd::List(_)) => {
                self.flush_paragraph();
                if let Some(Container::List { start, items }) = self.stack.pop() {
                    self.push_block(Block::List { start, items });
                }
            }
            Event::Start(Tag::Item) => {
                self.flush_paragraph();
                self.stack.push(Container::Item(Vec::new()));
            }
            Event::End(TagEnd::Item) => {
                // Tight lists give text without a paragraph around it.
                self.flush_paragraph();
                if let Some(Container::Item(blocks)) = self.stack.pop()
                    && let Some(Container::List { items, .. }) = self.stack.last_mut()
                {
                    items.push(blocks);
                }
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                self.flush_paragraph();
                self.in_footnote = Some(label.to_string());
                self.footnote_spans.clear();
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                self.flush_paragraph();
                if let Some(label) = self.in_footnote.take() {
                    let spans = merge_spans(std::mem::take(&mut self.footnote_spans));
                    self.definitions.insert(label, spans);
                }
            }
            Event::FootnoteReference(label) => {
                let label = label.to_string();
                let number = match self.order.iter().position(|l| *l == label) {
                    Some(i) => i + 1,
                    None => {
                        self.order.push(label);
                        self.order.len()
                    }
                };
                self.spans.push(Span {
                    text: number.to_string(),
                    bold: false,
                    italic: false,
                    superscript: true,
                });
            }
            Event::Text(t) | Event::Code(t) => self.text(&t),
            Event::Html(t) | Event::InlineHtml(t) => self.text(&t),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.text("\n"),
            Event::Rule => self.flush_paragraph(),
            _ => {}
        }
    }
}

/// Joins neighbouring spans of the same style, so layout sees whole words.
fn merge_spans(spans: Vec<Span>) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        if s.text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last)
                if last.bold == s.bold
                    && last.italic == s.italic
                    && last.superscript == s.superscript =>
            {
                last.text.push_str(&s.text)
            }
            _ => out.push(s),
        }
    }
    out
}

/// The plain text of a run of spans; footnote markers as "[1]".
pub fn spans_text(spans: &[Span]) -> String {
    let mut s = String::new();
    for span in spans {
        if span.superscript {
            s.push_str(&format!("[{}]", span.text));
        } else {
            s.push_str(&span.text);
        }
    }
    s
}

impl Letter {
    /// Every character that will be drawn, for the font check.
    pub fn all_text(&self) -> String {
        let mut s = String::new();
        let mut push = |t: &str| {
            s.push_str(t);
            s.push('\n');
        };
        push(&self.sender.name);
        self.sender.address.iter().for_each(|l| push(l));
        if let Some(e) = &self.sender.email {
            push(e);
        }
        push(&self.recipient.title);
        push(&self.recipient.name);
        self.recipient.address.iter().for_each(|l| push(l));
        push(&self.place_date);
        push(&self.subject);
        if let Some(r) = &self.reference {
            push(r);
        }
        push(&self.salutation);
        fn blocks(b: &[Block], out: &mut String) {
            for block in b {
                match block {
                    Block::Paragraph(spans) => {
                        out.push_str(&spans_text(spans));
                        out.push('\n');
                    }
                    Block::List { items, .. } => items.iter().for_each(|i| blocks(i, out)),
                }
            }
        }
        let mut body = String::new();
        blocks(&self.body, &mut body);
        push(&body);
        push(&self.closing);
        self.notes.iter().for_each(|n| push(&spans_text(&n.spans)));
        self.copies_to.iter().for_each(|c| push(c));
        s
    }

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

    /// The letter as HTML for the email's alternative part: the same blocks, escaped.
    pub fn to_html(&self) -> String {
        let labels = locale::labels(&self.language);
        let mut out = String::from("<!DOCTYPE html>\n<html lang=\"");
        out.push_str(&self.language);
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
                labels.copies,
                escape_html(&self.copies_to.join("; "))
            ));
        }
        if !self.notes.is_empty() {
            out.push_str(&format!(
                "<hr>\n<p><small>{}</small></p>\n<ol style=\"font-size: smaller\">\n",
                labels.notes
            ));
            for n in &self.notes {
                out.push_str("<li>");
                html_spans(&n.spans, &mut out);
                out.push_str("</li>\n");
            }
            out.push_str("</ol>\n");
        }
        out.push_str("</body>\n</html>\n");
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
