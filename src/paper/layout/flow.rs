//! The flow: places lines top to bottom below the date, starting new pages as needed and
//! keeping at least two lines of a paragraph together at a page's foot and head.

use crate::paper::geometry::{Geometry, dims};
use crate::paper::lines::Line;
use crate::paper::metrics::Metrics;
use crate::paper::page::{Page, Run};

/// Places body content top to bottom, starting new pages as needed.
pub(super) struct Flow<'a> {
    pub(super) geo: &'a Geometry,
    pub(super) m: &'a dyn Metrics,
    pub(super) pages: Vec<Page>,
    /// Top of the next line.
    pub(super) y: f32,
    /// Whether anything flowed onto the current page yet.
    fresh: bool,
}

impl<'a> Flow<'a> {
    /// A flow that goes on down `first` from `y`, below what is already on it.
    pub(super) fn new(geo: &'a Geometry, m: &'a dyn Metrics, first: Page, y: f32) -> Flow<'a> {
        Flow {
            geo,
            m,
            pages: vec![first],
            y,
            fresh: false,
        }
    }

    /// The page being filled.
    pub(super) fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = dims::TOP;
        self.fresh = true;
    }

    /// Space before the next line, unless it opens a page.
    pub(super) fn gap(&mut self, gap: f32) {
        if !self.fresh {
            self.y += gap;
        }
    }

    fn lines_left(&self, leading: f32) -> usize {
        let room = self.geo.body_bottom() - self.y;
        if room < leading {
            0
        } else {
            (room / leading).floor() as usize
        }
    }

    fn emit(&mut self, line: &Line, x: f32, size: f32, leading: f32) {
        let baseline = self.y + leading * 0.78;
        // A right-to-left paragraph is the mirror image: its lines end at the right
        // margin, less the indent a left-to-right one would have at the left.
        let x = if line.rtl {
            self.mirror(x, line.width)
        } else {
            x
        };
        let runs = line_runs(line, x, baseline, size);
        self.page().runs.extend(runs);
        self.y += leading;
        self.fresh = false;
    }

    /// Where something placed at `x`, `width` wide, goes in the mirror image of the text
    /// block (the left margin swapped for the right).
    fn mirror(&self, x: f32, width: f32) -> f32 {
        (self.geo.left + self.geo.width - self.geo.right - x - width).max(self.geo.left)
    }

    /// Places lines keeping at least two of a paragraph together at a page's foot and head.
    /// `marker` is drawn left of the first line (list numbers, bullets, labels), or right of
    /// it when the line runs right to left.
    pub(super) fn lines(
        &mut self,
        lines: &[Line],
        x: f32,
        size: f32,
        leading: f32,
        marker: Option<Run>,
    ) {
        let mut marker = marker;
        let mut rest = lines;
        while !rest.is_empty() {
            let take = self.lines_to_take(rest.len(), leading);
            for (i, line) in rest[..take].iter().enumerate() {
                if i == 0
                    && let Some(mut mk) = marker.take()
                {
                    mk.y = self.y + leading * 0.78;
                    if line.rtl {
                        mk.x = self.mirror(mk.x, mk.width);
                    }
                    self.page().runs.push(mk);
                }
                self.emit(line, x, size, leading);
            }
            rest = &rest[take..];
            if !rest.is_empty() {
                self.new_page();
            }
        }
    }

    /// How many of `n` lines go on this page: all that fit, but never one alone at its foot
    /// (an orphan) nor one alone at the next page's head (a widow).
    fn lines_to_take(&self, n: usize, leading: f32) -> usize {
        let room = self.lines_left(leading);
        let mut take = if n <= room {
            n
        } else {
            let mut take = room;
            if n - take < 2 {
                take = n.saturating_sub(2);
            }
            if take < 2 {
                take = 0;
            }
            take
        };
        if take == 0 && self.fresh {
            // Nothing fits an empty page's rule: put what fits rather than loop.
            take = room.max(1).min(n);
        }
        take
    }

    /// Starts a new page unless `height` points still fit on this one.
    pub(super) fn keep(&mut self, height: f32) {
        if !self.fresh && self.y + height > self.geo.body_bottom() {
            self.new_page();
        }
    }
}

fn line_runs(line: &Line, x: f32, baseline: f32, size: f32) -> Vec<Run> {
    line.pieces
        .iter()
        .map(|p| {
            let (size, y) = if p.superscript {
                (size * dims::SUPER_SCALE, baseline - size * dims::SUPER_RISE)
            } else {
                (size, baseline)
            };
            Run {
                x: x + p.dx,
                y,
                style: p.style,
                size,
                text: p.text.clone(),
                width: p.width,
                words: p.words.clone(),
            }
        })
        .collect()
}
