//! Single runs of text the layout places by hand: list and note markers, and lines shrunk
//! to fit a width (the sender block, the window field, headers and footers).

use crate::paper::geometry::dims;
use crate::paper::lines::shape_line;
use crate::paper::metrics::{Metrics, Style};
use crate::paper::page::Run;

/// A marker right-aligned before `text_x`.
pub(super) fn marker_run(
    label: &str,
    text_x: f32,
    style: Style,
    size: f32,
    m: &dyn Metrics,
) -> Run {
    let mut run = text_run(label, 0.0, 0.0, style, size, m);
    run.x = text_x - dims::MARKER_GAP - run.width;
    run
}

/// One line of text in one style, shaped, starting at `x`.
pub(super) fn text_run(
    text: &str,
    x: f32,
    y: f32,
    style: Style,
    size: f32,
    m: &dyn Metrics,
) -> Run {
    let (words, width) = shape_line(text, style, size, m);
    Run {
        x,
        y,
        style,
        size,
        text: text.to_string(),
        width,
        words,
    }
}

/// A single line of text, shrunk if needed so it is no wider than `max`.
pub(super) fn fitted_run(
    text: &str,
    x: f32,
    y: f32,
    style: Style,
    size: f32,
    max: f32,
    m: &dyn Metrics,
) -> Run {
    let mut run = text_run(text, x, y, style, size, m);
    if run.width > max && run.width > 0.0 {
        run.size = size * max / run.width;
        run.width = max;
    }
    run
}

/// A single line of text ending at `right`, shrunk if needed so it is no wider than `max`.
pub(super) fn right_run(
    text: &str,
    right: f32,
    y: f32,
    style: Style,
    size: f32,
    max: f32,
    m: &dyn Metrics,
) -> Run {
    let mut run = fitted_run(text, 0.0, y, style, size, max, m);
    run.x = right - run.width;
    run
}
