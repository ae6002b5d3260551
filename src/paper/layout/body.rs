//! What flows below the subject: the salutation, the body's paragraphs and lists, the
//! closing with room to sign, the copies line and the notes.

use crate::letter::{Block, Letter, Span};
use crate::model::locale::Labels;
use crate::paper::geometry::dims;
use crate::paper::layout::flow::Flow;
use crate::paper::layout::runs::marker_run;
use crate::paper::lines::{Line, break_lines, text_width};
use crate::paper::metrics::Style;
use crate::paper::page::{Place, Rule, Run};

/// A blank line, then the salutation (if any).
pub(super) fn salutation(flow: &mut Flow, letter: &Letter) {
    flow.y += dims::BODY_LEADING;
    if !letter.salutation.trim().is_empty() {
        plain_line(flow, &letter.salutation);
    }
}

/// A line (or lines) of plain body text at the left margin.
fn plain_line(flow: &mut Flow, text: &str) {
    let lines = break_lines(
        &[Span::plain(text.to_string())],
        dims::BODY_SIZE,
        flow.geo.measure(),
        flow.m,
    );
    flow.lines(
        &lines,
        flow.geo.left,
        dims::BODY_SIZE,
        dims::BODY_LEADING,
        None,
    );
}

/// Body blocks starting at `x`; `marker` goes before the first line (a list item's label).
pub(super) fn blocks(flow: &mut Flow, blocks: &[Block], x: f32, marker: Option<Run>) {
    let mut marker = marker;
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Paragraph(spans) => {
                let lead_in = matches!(blocks.get(i + 1), Some(Block::List { .. }));
                paragraph(flow, spans, x, marker.take(), lead_in);
            }
            Block::List { start, items } => list(flow, *start, items, x, marker.take()),
        }
    }
}

/// A paragraph; `lead_in` when a list follows it.
fn paragraph(flow: &mut Flow, spans: &[Span], x: f32, marker: Option<Run>, lead_in: bool) {
    let in_item = x > flow.geo.left;
    if !in_item {
        flow.gap(dims::PARAGRAPH_GAP);
    } else if marker.is_none() {
        flow.gap(dims::ITEM_GAP);
    }
    let measure = flow.geo.width - flow.geo.right - x;
    let lines = break_lines(spans, dims::BODY_SIZE, measure, flow.m);
    if lead_in {
        // A lead-in ("I ask you to:") stays with the first lines of its list.
        flow.keep(dims::BODY_LEADING * (lines.len() as f32 + 2.0) + dims::PARAGRAPH_GAP);
    }
    flow.lines(&lines, x, dims::BODY_SIZE, dims::BODY_LEADING, marker);
}

/// A numbered (from `start`) or bulleted list, its items indented from `x`.
fn list(flow: &mut Flow, start: Option<u64>, items: &[Vec<Block>], x: f32, marker: Option<Run>) {
    if let Some(mk) = marker {
        // An item that opens with a list: the marker gets a line of its own.
        flow.lines(
            &[Line {
                pieces: Vec::new(),
                width: 0.0,
                rtl: false,
            }],
            x,
            dims::BODY_SIZE,
            dims::BODY_LEADING,
            Some(mk),
        );
    }
    flow.gap(dims::PARAGRAPH_GAP - dims::ITEM_GAP);
    let text_x = x + dims::LIST_INDENT;
    for (n, item) in items.iter().enumerate() {
        let label = match start {
            Some(s) => format!("{}.", s + n as u64),
            None => "•".to_string(),
        };
        let mk = marker_run(&label, text_x, Style::Regular, dims::BODY_SIZE, flow.m);
        flow.gap(dims::ITEM_GAP);
        blocks(flow, item, text_x, Some(mk));
    }
}

/// Closing, room to sign (with the signature image, if any), the name: kept together.
pub(super) fn closing(flow: &mut Flow, letter: &Letter) {
    flow.gap(dims::PARAGRAPH_GAP);
    flow.keep(dims::BODY_LEADING * 2.0 + dims::SIGNATURE_SPACE);
    if !letter.closing.trim().is_empty() {
        plain_line(flow, &letter.closing);
    }
    let sig_top = flow.y;
    flow.y += dims::SIGNATURE_SPACE;
    if letter.sender.signature.is_some() {
        let [w, h] = dims::SIGNATURE_BOX;
        let x = flow.geo.left;
        flow.page().signature = Some(Place {
            x,
            y: sig_top + 1.0,
            width: w,
            height: h,
        });
    }
    plain_line(flow, &letter.sender.name);
}

/// Copies: "cc:" hanging before the list, one recipient a line.
pub(super) fn copies(flow: &mut Flow, letter: &Letter, labels: &Labels) {
    if letter.copies_to.is_empty() {
        return;
    }
    let (left, right, m) = (flow.geo.left, flow.geo.width - flow.geo.right, flow.m);
    flow.gap(dims::PARAGRAPH_GAP * 2.0);
    let label = format!("{}:", labels.copies);
    let indent = text_width(&label, Style::Regular, dims::BODY_SIZE, m) + dims::MARKER_GAP;
    let text_x = left + indent;
    for (i, c) in letter.copies_to.iter().enumerate() {
        let lines = break_lines(
            &[Span::plain(c.clone())],
            dims::BODY_SIZE,
            right - text_x,
            m,
        );
        let marker = (i == 0)
            .then(|| super::runs::text_run(&label, left, 0.0, Style::Regular, dims::BODY_SIZE, m));
        flow.lines(&lines, text_x, dims::BODY_SIZE, dims::BODY_LEADING, marker);
    }
}

/// Notes and sources: a short rule, a heading, and a numbered list in smaller type.
pub(super) fn notes(flow: &mut Flow, letter: &Letter, labels: &Labels) {
    if letter.notes.is_empty() {
        return;
    }
    let (left, right, m) = (flow.geo.left, flow.geo.width - flow.geo.right, flow.m);
    flow.gap(dims::NOTES_GAP);
    flow.keep(dims::NOTE_LEADING * 4.0);
    let rule_y = flow.y;
    flow.page().rules.push(Rule {
        x1: left,
        y1: rule_y,
        x2: left + dims::NOTES_RULE,
        y2: rule_y,
        thickness: dims::RULE_THICKNESS,
    });
    flow.y += 4.0;
    let heading = break_lines(
        &[Span {
            text: labels.notes.to_string(),
            bold: true,
            italic: false,
            superscript: false,
        }],
        dims::NOTE_SIZE + 0.5,
        flow.geo.measure(),
        m,
    );
    flow.lines(
        &heading,
        left,
        dims::NOTE_SIZE + 0.5,
        dims::NOTE_LEADING,
        None,
    );
    let widest = format!("{}.", letter.notes.len());
    let indent = text_width(&widest, Style::Regular, dims::NOTE_SIZE, m) + dims::MARKER_GAP;
    let text_x = left + indent;
    for note in &letter.notes {
        flow.gap(dims::NOTE_GAP);
        let lines = break_lines(&note.spans, dims::NOTE_SIZE, right - text_x, m);
        let marker = marker_run(
            &format!("{}.", note.number),
            text_x,
            Style::Regular,
            dims::NOTE_SIZE,
            m,
        );
        flow.lines(
            &lines,
            text_x,
            dims::NOTE_SIZE,
            dims::NOTE_LEADING,
            Some(marker),
        );
    }
}
