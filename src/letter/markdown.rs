//! Markdown → the letter's blocks and numbered notes, with pulldown-cmark: paragraphs, lists,
//! emphasis and footnotes; the campaign's sources become notes too.

use std::collections::HashMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::letter::{Block, Note, Span};
use crate::model::campaign::{Campaign, SOURCE_NOTE_PREFIX};
use crate::model::templates::literal_markdown;

/// Lists nested deeper than this are refused: a letter needs a few levels, and every
/// rendering walks the levels one call each.
pub const MAX_LIST_DEPTH: usize = 16;

/// Markdown → body blocks and numbered notes. Footnotes are numbered in order of first
/// reference; sources the letter never cites follow as further notes. `Err` says why the
/// Markdown cannot make a letter (lists nested more than [`MAX_LIST_DEPTH`] deep).
pub fn parse_markdown(
    markdown: &str,
    campaign: &Campaign,
) -> Result<(Vec<Block>, Vec<Note>), String> {
    let mut text = markdown.to_string();
    for s in &campaign.sources {
        text.push_str(&format!(
            "\n\n[^{SOURCE_NOTE_PREFIX}{}]: {}\n",
            s.key,
            literal_markdown(&s.note_text())
        ));
    }
    let mut builder = BlockBuilder::default();
    let parser = Parser::new_ext(
        &text,
        Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH,
    );
    for event in parser {
        builder.event(event);
        if builder.too_deep {
            return Err(format!(
                "lists are nested more than {MAX_LIST_DEPTH} deep in the letter's Markdown"
            ));
        }
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
    Ok((root, notes))
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
    /// Lists open now, and whether they ever went deeper than [`MAX_LIST_DEPTH`].
    lists: usize,
    too_deep: bool,
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
                self.lists += 1;
                self.too_deep |= self.lists > MAX_LIST_DEPTH;
                self.flush_paragraph();
                self.stack.push(Container::List {
                    start,
                    items: Vec::new(),
                });
            }
            Event::End(TagEnd::List(_)) => {
                self.lists = self.lists.saturating_sub(1);
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
