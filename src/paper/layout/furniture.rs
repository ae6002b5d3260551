//! What the page carries besides the letter: fold and hole marks, the header and page
//! numbers of a letter that runs to more than one page, a fax's cover line.

use crate::letter::Letter;
use crate::model::locale::Labels;
use crate::paper::geometry::{Geometry, dims};
use crate::paper::layout::runs::{fitted_run, text_run};
use crate::paper::lines::text_width;
use crate::paper::metrics::{Metrics, Style};
use crate::paper::page::{Page, Rule};

/// Fold marks and the hole mark on the left edge.
pub(super) fn fold_marks(first: &mut Page, geo: &Geometry) {
    for y in geo.folds {
        first.rules.push(mark(y, dims::FOLD_MARK_LEN));
    }
    first.rules.push(mark(geo.hole, dims::HOLE_MARK_LEN));
}

fn mark(y: f32, len: f32) -> Rule {
    Rule {
        x1: dims::MARK_X,
        y1: y,
        x2: dims::MARK_X + len,
        y2: y,
        thickness: dims::MARK_THICKNESS,
    }
}

/// Each page after the first names the letter it belongs to, should the pages come apart:
/// recipient, date and reference, small, above the body.
pub(super) fn continuation_header(
    pages: &mut [Page],
    letter: &Letter,
    labels: &Labels,
    geo: &Geometry,
    m: &dyn Metrics,
) {
    let mut parts = vec![letter.recipient.name.as_str(), letter.place_date.as_str()];
    let reference = letter
        .reference
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(|r| format!("{}: {r}", labels.reference.trim_end_matches(':')));
    parts.extend(reference.as_deref());
    parts.retain(|p| !p.trim().is_empty());
    let header = parts.join(" · ");
    for page in pages.iter_mut().skip(1) {
        page.runs.push(fitted_run(
            &header,
            geo.left,
            dims::CONTINUATION_Y,
            Style::Regular,
            dims::FOOTER_SIZE,
            geo.measure(),
            m,
        ));
    }
}

/// "Page N of M", right-aligned at the foot of every page.
pub(super) fn page_numbers(pages: &mut [Page], letter: &Letter, geo: &Geometry, m: &dyn Metrics) {
    let count = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        let text = letter.labels.page_of(i + 1, count);
        let y = geo.height - dims::FOOTER_FROM_BOTTOM;
        let mut run = text_run(&text, 0.0, y, Style::Regular, dims::FOOTER_SIZE, m);
        run.x = geo.width - geo.right - run.width;
        page.runs.push(run);
    }
}

/// A fax sent by hand: a cover line to `number` at the top of page 1, and no hairlines,
/// which a fax machine's scan would lose.
pub(super) fn fax_cover(
    pages: &mut [Page],
    letter: &Letter,
    number: &str,
    labels: &Labels,
    geo: &Geometry,
    m: &dyn Metrics,
) {
    let text = format!(
        "{} · {}: {}, {number} · {}: {} · {}: {}",
        labels.fax,
        labels.to,
        letter.recipient.name,
        labels.from,
        letter.sender.name,
        labels.pages,
        labels.number(pages.len())
    );
    let measure = geo.measure();
    let full = text_width(&text, Style::Bold, dims::FOOTER_SIZE, m);
    let size = if full > measure {
        dims::FOOTER_SIZE * measure / full
    } else {
        dims::FOOTER_SIZE
    };
    if let Some(first) = pages.first_mut() {
        let run = text_run(&text, geo.left, dims::FAX_LINE_Y, Style::Bold, size, m);
        first.runs.push(run);
    }
    for rule in pages.iter_mut().flat_map(|p| p.rules.iter_mut()) {
        rule.thickness = rule.thickness.max(dims::FAX_MIN_RULE);
    }
}
