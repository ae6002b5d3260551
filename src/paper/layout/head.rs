//! The head of the letter's first page: the sender block top right, the window field
//! (return address and the recipient's address), place and date, subject and reference.

use crate::letter::{Letter, Span};
use crate::model::locale::Labels;
use crate::paper::geometry::{Geometry, dims};
use crate::paper::layout::flow::Flow;
use crate::paper::layout::runs::{fitted_run, right_run};
use crate::paper::lines::{break_lines, right_to_left};
use crate::paper::metrics::{Metrics, Style};
use crate::paper::page::{Page, Rule};

/// The sender's name, address and email, right-aligned at the top of the page, each line
/// shrunk to at most half the measure.
pub(super) fn sender_block(first: &mut Page, letter: &Letter, geo: &Geometry, m: &dyn Metrics) {
    let right = geo.width - geo.right;
    let half = geo.measure() / 2.0;
    let mut y = dims::TOP;
    first.runs.push(right_run(
        &letter.sender.name,
        right,
        y,
        Style::Bold,
        dims::SENDER_NAME_SIZE,
        half,
        m,
    ));
    y += dims::SENDER_LEADING + 1.5;
    let mut sender_lines: Vec<&str> = letter.sender.address.iter().map(String::as_str).collect();
    if let Some(e) = &letter.sender.email {
        sender_lines.push(e);
    }
    for l in sender_lines.iter().filter(|l| !l.trim().is_empty()) {
        first.runs.push(right_run(
            l,
            right,
            y,
            Style::Regular,
            dims::SENDER_SIZE,
            half,
            m,
        ));
        y += dims::SENDER_LEADING;
    }
}

/// The window field: the return address, then the recipient's address in its lower part.
pub(super) fn window_field(first: &mut Page, letter: &Letter, geo: &Geometry, m: &dyn Metrics) {
    let [wx, wy, ww, wh] = geo.window;
    let address_max = wx + ww - dims::WINDOW_PAD - geo.left;
    let zone_top = wy + wh - geo.address_zone;
    return_address(first, letter, geo.left, zone_top, address_max, m);
    recipient_address(first, letter, geo, zone_top, address_max, m);
}

/// The sender on one small underlined line just above the address zone, for the post to
/// return the letter by.
fn return_address(
    first: &mut Page,
    letter: &Letter,
    x: f32,
    zone_top: f32,
    max: f32,
    m: &dyn Metrics,
) {
    let mut return_parts = vec![letter.sender.name.as_str()];
    return_parts.extend(
        letter
            .sender
            .address
            .iter()
            .map(String::as_str)
            .filter(|l| !l.trim().is_empty()),
    );
    let return_line = return_parts.join(" · ");
    let return_y = zone_top - 3.0;
    let ret = fitted_run(
        &return_line,
        x,
        return_y,
        Style::Regular,
        dims::RETURN_SIZE,
        max,
        m,
    );
    first.rules.push(Rule {
        x1: x,
        y1: return_y + 1.8,
        x2: x + ret.width,
        y2: return_y + 1.8,
        thickness: 0.3,
    });
    first.runs.push(ret);
}

/// The recipient's title, name and address in the address zone, the leading and size
/// tightened when there are more lines than the zone holds at the normal size.
fn recipient_address(
    first: &mut Page,
    letter: &Letter,
    geo: &Geometry,
    zone_top: f32,
    max: f32,
    m: &dyn Metrics,
) {
    let mut address: Vec<&str> = vec![
        letter.recipient.title.as_str(),
        letter.recipient.name.as_str(),
    ];
    address.extend(letter.recipient.address.iter().map(String::as_str));
    address.retain(|l| !l.trim().is_empty());
    let leading = if address.is_empty() {
        dims::ADDRESS_LEADING
    } else {
        dims::ADDRESS_LEADING.min(geo.address_zone / address.len() as f32)
    };
    let size = dims::ADDRESS_SIZE.min(leading * 0.85);
    for (i, l) in address.iter().enumerate() {
        let baseline = zone_top + leading * (i as f32 + 1.0) - (leading - size) / 2.0 - size * 0.15;
        let mut run = fitted_run(l, geo.left, baseline, Style::Regular, size, max, m);
        if right_to_left(l, m) {
            // Same box, the line set against its right edge.
            run.x = geo.left + max - run.width;
        }
        first.runs.push(run);
    }
}

/// Place and date, right-aligned below the window.
pub(super) fn place_date(first: &mut Page, letter: &Letter, geo: &Geometry, m: &dyn Metrics) {
    first.runs.push(right_run(
        &letter.place_date,
        geo.width - geo.right,
        geo.date_y,
        Style::Regular,
        dims::BODY_SIZE,
        geo.measure(),
        m,
    ));
}

/// The subject in bold, then the reference (if any) in smaller type.
pub(super) fn subject(flow: &mut Flow, letter: &Letter, labels: &Labels) {
    let (left, measure, m) = (flow.geo.left, flow.geo.measure(), flow.m);
    let subject = break_lines(
        &[Span {
            text: letter.subject.clone(),
            bold: true,
            italic: false,
            superscript: false,
        }],
        dims::BODY_SIZE,
        measure,
        m,
    );
    flow.lines(&subject, left, dims::BODY_SIZE, dims::BODY_LEADING, None);
    if let Some(reference) = letter.reference.as_deref().filter(|r| !r.trim().is_empty()) {
        let lines = break_lines(
            &[Span::plain(format!(
                "{}: {reference}",
                labels.reference.trim_end_matches(':')
            ))],
            dims::NOTE_SIZE + 0.5,
            measure,
            m,
        );
        flow.lines(
            &lines,
            left,
            dims::NOTE_SIZE + 0.5,
            dims::NOTE_LEADING,
            None,
        );
    }
}
