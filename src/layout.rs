//! `Letter` + font metrics → pages of positioned text runs and rules. Pure: no PDF types, no I/O.
//!
//! Coordinates are points from the page's top-left corner; a run's `y` is its baseline.
//! Every measurement of the page lives in [`dims`], so the letter's look is tuned in one place.

use crate::cli::Paper;
use crate::letter::{Block, Letter, Span};
pub use crate::lines::{Line, Piece, break_lines, text_width};
use crate::locale;

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;
/// Points per inch.
pub const INCH: f32 = 72.0;

/// Margins, sizes and positions: DIN 5008 form B on A4, a #10 window envelope on US Letter.
pub mod dims {
    use super::{INCH, MM};

    pub const A4_WIDTH: f32 = 210.0 * MM;
    pub const A4_HEIGHT: f32 = 297.0 * MM;
    pub const A4_LEFT: f32 = 25.0 * MM;
    pub const A4_RIGHT: f32 = 20.0 * MM;
    /// DIN 5008 form B window field: 20 mm from the left, top at 45 mm, 85 × 45 mm.
    pub const A4_WINDOW: [f32; 4] = [20.0 * MM, 45.0 * MM, 85.0 * MM, 45.0 * MM];
    /// The lower part of the window field holding the 6 address lines (27.3 mm).
    pub const A4_ADDRESS_ZONE: f32 = 27.3 * MM;
    /// Fold marks for a DL envelope, and the hole-punch mark.
    pub const A4_FOLDS: [f32; 2] = [105.0 * MM, 210.0 * MM];
    pub const A4_HOLE: f32 = 148.5 * MM;
    /// Baseline of the place and date line, just below the window field.
    pub const A4_DATE_Y: f32 = 98.5 * MM;

    pub const LETTER_WIDTH: f32 = 8.5 * INCH;
    pub const LETTER_HEIGHT: f32 = 11.0 * INCH;
    pub const LETTER_LEFT: f32 = 1.0 * INCH;
    pub const LETTER_RIGHT: f32 = 1.0 * INCH;
    /// #10 window envelope: window 7/8 in from the left, 2 in from the top, 4.5 × 1.125 in.
    pub const LETTER_WINDOW: [f32; 4] = [0.875 * INCH, 2.0 * INCH, 4.5 * INCH, 1.125 * INCH];
    pub const LETTER_ADDRESS_ZONE: f32 = 0.9 * INCH;
    /// Tri-fold marks and the middle mark.
    pub const LETTER_FOLDS: [f32; 2] = [11.0 * INCH / 3.0, 22.0 * INCH / 3.0];
    pub const LETTER_HOLE: f32 = 5.5 * INCH;
    pub const LETTER_DATE_Y: f32 = 3.55 * INCH;

    /// Baseline of a fax's cover line, from the top of page 1.
    pub const FAX_LINE_Y: f32 = 10.0 * MM;
    /// No line on a fax is thinner than this (points): hairlines vanish in a fax scan.
    pub const FAX_MIN_RULE: f32 = 0.75;

    /// Top margin of continuation pages and of the sender block on page 1.
    pub const TOP: f32 = 20.0 * MM;
    /// The body stops this far above the bottom edge.
    pub const BOTTOM: f32 = 25.0 * MM;
    /// Baseline of the "page N of M" footer, from the bottom edge.
    pub const FOOTER_FROM_BOTTOM: f32 = 12.0 * MM;
    /// Baseline of a continuation page's header (recipient, date, reference), from the top.
    pub const CONTINUATION_Y: f32 = 12.0 * MM;
    /// Fold and hole marks: where they start on the left edge and how long they are.
    pub const MARK_X: f32 = 4.0 * MM;
    pub const FOLD_MARK_LEN: f32 = 5.0 * MM;
    pub const HOLE_MARK_LEN: f32 = 8.0 * MM;
    pub const MARK_THICKNESS: f32 = 0.4;
    /// Inner padding of the window field on the right, so text never touches its edge.
    pub const WINDOW_PAD: f32 = 3.0 * MM;

    pub const BODY_SIZE: f32 = 11.0;
    pub const BODY_LEADING: f32 = 14.5;
    pub const PARAGRAPH_GAP: f32 = 8.0;
    pub const ITEM_GAP: f32 = 2.5;
    pub const LIST_INDENT: f32 = 7.0 * MM;
    pub const MARKER_GAP: f32 = 2.0 * MM;
    pub const SENDER_NAME_SIZE: f32 = 11.0;
    pub const SENDER_SIZE: f32 = 8.5;
    pub const SENDER_LEADING: f32 = 11.0;
    pub const RETURN_SIZE: f32 = 7.0;
    pub const ADDRESS_SIZE: f32 = 10.5;
    pub const ADDRESS_LEADING: f32 = 12.5;
    pub const NOTE_SIZE: f32 = 8.5;
    pub const NOTE_LEADING: f32 = 11.0;
    pub const NOTE_GAP: f32 = 2.0;
    pub const NOTES_RULE: f32 = 40.0 * MM;
    pub const FOOTER_SIZE: f32 = 8.0;
    /// Space left between the closing and the printed name, for the handwritten signature.
    pub const SIGNATURE_SPACE: f32 = 16.0 * MM;
    /// The box a signature image is fitted into.
    pub const SIGNATURE_BOX: [f32; 2] = [50.0 * MM, 14.0 * MM];
    /// Superscript footnote markers: scale of the body size and rise in ems.
    pub const SUPER_SCALE: f32 = 0.62;
    pub const SUPER_RISE: f32 = 0.36;
    pub const RULE_THICKNESS: f32 = 0.4;
}

/// One of the four faces of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Style {
    Regular,
    Bold,
    Italic,
    BoldItalic,
}

impl Style {
    pub const ALL: [Style; 4] = [
        Style::Regular,
        Style::Bold,
        Style::Italic,
        Style::BoldItalic,
    ];

    pub fn new(bold: bool, italic: bool) -> Style {
        match (bold, italic) {
            (false, false) => Style::Regular,
            (true, false) => Style::Bold,
            (false, true) => Style::Italic,
            (true, true) => Style::BoldItalic,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Advance widths, in ems, for the faces of a family.
pub trait Metrics {
    fn advance(&self, style: Style, c: char) -> f32;
}

/// A run of text in one style on one baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub x: f32,
    /// Baseline, from the top of the page.
    pub y: f32,
    pub style: Style,
    pub size: f32,
    pub text: String,
    pub width: f32,
}

/// A straight line: fold marks, the rule under the return address and above the notes.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub thickness: f32,
}

/// Where a signature image goes: its box's top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub runs: Vec<Run>,
    pub rules: Vec<Rule>,
    pub signature: Option<Place>,
}

/// A laid-out letter.
#[derive(Debug, Clone, PartialEq)]
pub struct Laid {
    pub width: f32,
    pub height: f32,
    pub pages: Vec<Page>,
}

/// The page's geometry for one paper size.
#[derive(Debug, Clone)]
pub struct Geometry {
    pub width: f32,
    pub height: f32,
    pub left: f32,
    pub right: f32,
    /// The window field: x, y (top), width, height.
    pub window: [f32; 4],
    pub address_zone: f32,
    pub folds: [f32; 2],
    pub hole: f32,
    pub date_y: f32,
}

impl Geometry {
    pub fn for_paper(paper: Paper) -> Geometry {
        use dims::*;
        match paper {
            Paper::A4 => Geometry {
                width: A4_WIDTH,
                height: A4_HEIGHT,
                left: A4_LEFT,
                right: A4_RIGHT,
                window: A4_WINDOW,
                address_zone: A4_ADDRESS_ZONE,
                folds: A4_FOLDS,
                hole: A4_HOLE,
                date_y: A4_DATE_Y,
            },
            Paper::Letter => Geometry {
                width: LETTER_WIDTH,
                height: LETTER_HEIGHT,
                left: LETTER_LEFT,
                right: LETTER_RIGHT,
                window: LETTER_WINDOW,
                address_zone: LETTER_ADDRESS_ZONE,
                folds: LETTER_FOLDS,
                hole: LETTER_HOLE,
                date_y: LETTER_DATE_Y,
            },
        }
    }

    /// The width of a full body line.
    pub fn measure(&self) -> f32 {
        self.width - self.left - self.right
    }

    /// Where the body must stop.
    pub fn body_bottom(&self) -> f32 {
        self.height - dims::BOTTOM
    }
}

/// Places body content top to bottom, starting new pages as needed.
struct Flow<'a> {
    geo: &'a Geometry,
    m: &'a dyn Metrics,
    pages: Vec<Page>,
    /// Top of the next line.
    y: f32,
    /// Whether anything flowed onto the current page yet.
    fresh: bool,
}

impl Flow<'_> {
    fn page(&mut self) -> &mut Page {
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

    fn gap(&mut self, gap: f32) {
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
        let runs = line_runs(line, x, baseline, size);
        self.page().runs.extend(runs);
        self.y += leading;
        self.fresh = false;
    }

    /// Places lines keeping at least two of a paragraph together at a page's foot and head.
    /// `marker` is drawn left of the first line (list numbers, bullets, labels).
    fn lines(&mut self, lines: &[Line], x: f32, size: f32, leading: f32, marker: Option<Run>) {
        let mut marker = marker;
        let mut rest = lines;
        while !rest.is_empty() {
            let n = rest.len();
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
            for (i, line) in rest[..take].iter().enumerate() {
                if i == 0
                    && let Some(mut mk) = marker.take()
                {
                    mk.y = self.y + leading * 0.78;
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

    /// Starts a new page unless `height` points still fit on this one.
    fn keep(&mut self, height: f32) {
        if !self.fresh && self.y + height > self.geo.body_bottom() {
            self.new_page();
        }
    }

    fn blocks(&mut self, blocks: &[Block], x: f32, marker: Option<Run>) {
        let mut marker = marker;
        for (i, block) in blocks.iter().enumerate() {
            match block {
                Block::Paragraph(spans) => {
                    let in_item = x > self.geo.left;
                    if !in_item {
                        self.gap(dims::PARAGRAPH_GAP);
                    } else if marker.is_none() {
                        self.gap(dims::ITEM_GAP);
                    }
                    let measure = self.geo.width - self.geo.right - x;
                    let lines = break_lines(spans, dims::BODY_SIZE, measure, self.m);
                    if matches!(blocks.get(i + 1), Some(Block::List { .. })) {
                        // A lead-in ("I ask you to:") stays with the first lines of its list.
                        self.keep(
                            dims::BODY_LEADING * (lines.len() as f32 + 2.0) + dims::PARAGRAPH_GAP,
                        );
                    }
                    self.lines(
                        &lines,
                        x,
                        dims::BODY_SIZE,
                        dims::BODY_LEADING,
                        marker.take(),
                    );
                }
                Block::List { start, items } => {
                    if let Some(mk) = marker.take() {
                        // An item that opens with a list: the marker gets a line of its own.
                        self.lines(
                            &[Line {
                                pieces: Vec::new(),
                                width: 0.0,
                            }],
                            x,
                            dims::BODY_SIZE,
                            dims::BODY_LEADING,
                            Some(mk),
                        );
                    }
                    self.gap(dims::PARAGRAPH_GAP - dims::ITEM_GAP);
                    let text_x = x + dims::LIST_INDENT;
                    for (n, item) in items.iter().enumerate() {
                        let label = match start {
                            Some(s) => format!("{}.", s + n as u64),
                            None => "•".to_string(),
                        };
                        let mk =
                            marker_run(&label, text_x, Style::Regular, dims::BODY_SIZE, self.m);
                        self.gap(dims::ITEM_GAP);
                        self.blocks(item, text_x, Some(mk));
                    }
                }
            }
        }
    }
}

/// A marker right-aligned before `text_x`.
fn marker_run(label: &str, text_x: f32, style: Style, size: f32, m: &dyn Metrics) -> Run {
    let width = text_width(label, style, size, m);
    Run {
        x: text_x - dims::MARKER_GAP - width,
        y: 0.0,
        style,
        size,
        text: label.to_string(),
        width,
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
            }
        })
        .collect()
}

/// A single line of text, shrunk if needed so it is no wider than `max`.
fn fitted_run(
    text: &str,
    x: f32,
    y: f32,
    style: Style,
    size: f32,
    max: f32,
    m: &dyn Metrics,
) -> Run {
    let width = text_width(text, style, size, m);
    let (size, width) = if width > max && width > 0.0 {
        (size * max / width, max)
    } else {
        (size, width)
    };
    Run {
        x,
        y,
        style,
        size,
        text: text.to_string(),
        width,
    }
}

fn right_run(
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

/// Lays out a letter.
/// The recipient's address lines that are too wide for the window field at the normal
/// address size (layout shrinks them to fit; `check` warns), with their width and the room.
pub fn address_overflow(letter: &Letter, paper: Paper, m: &dyn Metrics) -> Vec<(String, f32, f32)> {
    let geo = Geometry::for_paper(paper);
    let [wx, _, ww, _] = geo.window;
    let room = wx + ww - dims::WINDOW_PAD - geo.left;
    let mut lines = vec![&letter.recipient.title, &letter.recipient.name];
    lines.extend(&letter.recipient.address);
    lines
        .into_iter()
        .map(|l| {
            (
                l.clone(),
                text_width(l, Style::Regular, dims::ADDRESS_SIZE, m),
            )
        })
        .filter(|(_, w)| *w > room)
        .map(|(l, w)| (l, w, room))
        .collect()
}

pub fn layout(letter: &Letter, paper: Paper, m: &dyn Metrics) -> Laid {
    let geo = Geometry::for_paper(paper);
    let labels = locale::labels(&letter.language);
    let right = geo.width - geo.right;
    let measure = geo.measure();
    let mut first = Page::default();

    // Fold marks and the hole mark on the left edge.
    for y in geo.folds {
        first.rules.push(Rule {
            x1: dims::MARK_X,
            y1: y,
            x2: dims::MARK_X + dims::FOLD_MARK_LEN,
            y2: y,
            thickness: dims::MARK_THICKNESS,
        });
    }
    first.rules.push(Rule {
        x1: dims::MARK_X,
        y1: geo.hole,
        x2: dims::MARK_X + dims::HOLE_MARK_LEN,
        y2: geo.hole,
        thickness: dims::MARK_THICKNESS,
    });

    // Sender block, top right.
    let half = measure / 2.0;
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

    // The window field: return address, then the recipient's address in its lower part.
    let [wx, wy, ww, wh] = geo.window;
    let address_x = geo.left;
    let address_max = wx + ww - dims::WINDOW_PAD - address_x;
    let zone_top = wy + wh - geo.address_zone;
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
        address_x,
        return_y,
        Style::Regular,
        dims::RETURN_SIZE,
        address_max,
        m,
    );
    first.rules.push(Rule {
        x1: address_x,
        y1: return_y + 1.8,
        x2: address_x + ret.width,
        y2: return_y + 1.8,
        thickness: 0.3,
    });
    first.runs.push(ret);
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
        first.runs.push(fitted_run(
            l,
            address_x,
            baseline,
            Style::Regular,
            size,
            address_max,
            m,
        ));
    }

    // Place and date, right-aligned below the window; then the subject.
    first.runs.push(right_run(
        &letter.place_date,
        right,
        geo.date_y,
        Style::Regular,
        dims::BODY_SIZE,
        measure,
        m,
    ));
    let mut flow = Flow {
        geo: &geo,
        m,
        pages: vec![first],
        y: geo.date_y + dims::BODY_LEADING * 1.2,
        fresh: false,
    };
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
    flow.lines(
        &subject,
        geo.left,
        dims::BODY_SIZE,
        dims::BODY_LEADING,
        None,
    );
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
            geo.left,
            dims::NOTE_SIZE + 0.5,
            dims::NOTE_LEADING,
            None,
        );
    }
    flow.y += dims::BODY_LEADING;
    if !letter.salutation.trim().is_empty() {
        let lines = break_lines(
            &[Span::plain(letter.salutation.clone())],
            dims::BODY_SIZE,
            measure,
            m,
        );
        flow.lines(&lines, geo.left, dims::BODY_SIZE, dims::BODY_LEADING, None);
    }

    flow.blocks(&letter.body, geo.left, None);

    // Closing, room to sign, the name: kept together.
    flow.gap(dims::PARAGRAPH_GAP);
    flow.keep(dims::BODY_LEADING * 2.0 + dims::SIGNATURE_SPACE);
    if !letter.closing.trim().is_empty() {
        let lines = break_lines(
            &[Span::plain(letter.closing.clone())],
            dims::BODY_SIZE,
            measure,
            m,
        );
        flow.lines(&lines, geo.left, dims::BODY_SIZE, dims::BODY_LEADING, None);
    }
    let sig_top = flow.y;
    flow.y += dims::SIGNATURE_SPACE;
    if letter.sender.signature.is_some() {
        let [w, h] = dims::SIGNATURE_BOX;
        let page = flow.page();
        page.signature = Some(Place {
            x: geo.left,
            y: sig_top + 1.0,
            width: w,
            height: h,
        });
    }
    let name = break_lines(
        &[Span::plain(letter.sender.name.clone())],
        dims::BODY_SIZE,
        measure,
        m,
    );
    flow.lines(&name, geo.left, dims::BODY_SIZE, dims::BODY_LEADING, None);

    // Copies: "cc:" hanging before the list.
    if !letter.copies_to.is_empty() {
        flow.gap(dims::PARAGRAPH_GAP * 2.0);
        let label = format!("{}:", labels.copies);
        let indent = text_width(&label, Style::Regular, dims::BODY_SIZE, m) + dims::MARKER_GAP;
        let text_x = geo.left + indent;
        for (i, c) in letter.copies_to.iter().enumerate() {
            let lines = break_lines(
                &[Span::plain(c.clone())],
                dims::BODY_SIZE,
                right - text_x,
                m,
            );
            let marker = (i == 0).then(|| Run {
                x: geo.left,
                y: 0.0,
                style: Style::Regular,
                size: dims::BODY_SIZE,
                text: label.clone(),
                width: indent - dims::MARKER_GAP,
            });
            flow.lines(&lines, text_x, dims::BODY_SIZE, dims::BODY_LEADING, marker);
        }
    }

    // Notes and sources: a numbered list in smaller type.
    if !letter.notes.is_empty() {
        flow.gap(dims::PARAGRAPH_GAP * 2.0);
        flow.keep(dims::NOTE_LEADING * 4.0);
        let rule_y = flow.y;
        flow.page().rules.push(Rule {
            x1: geo.left,
            y1: rule_y,
            x2: geo.left + dims::NOTES_RULE,
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
            measure,
            m,
        );
        flow.lines(
            &heading,
            geo.left,
            dims::NOTE_SIZE + 0.5,
            dims::NOTE_LEADING,
            None,
        );
        let widest = format!("{}.", letter.notes.len());
        let indent = text_width(&widest, Style::Regular, dims::NOTE_SIZE, m) + dims::MARKER_GAP;
        let text_x = geo.left + indent;
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

    let mut pages = flow.pages;
    let count = pages.len();
    if count > 1 {
        // Each page after the first names the letter it belongs to, should the pages come
        // apart: recipient, date and reference, small, above the body.
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
                measure,
                m,
            ));
        }
        for (i, page) in pages.iter_mut().enumerate() {
            let text = locale::page_of(&letter.language, i + 1, count);
            let width = text_width(&text, Style::Regular, dims::FOOTER_SIZE, m);
            page.runs.push(Run {
                x: right - width,
                y: geo.height - dims::FOOTER_FROM_BOTTOM,
                style: Style::Regular,
                size: dims::FOOTER_SIZE,
                text,
                width,
            });
        }
    }
    if let Some(number) = &letter.fax_to {
        // A fax sent by hand: a cover line at the top of page 1, and no hairlines, which a
        // fax machine's scan would lose.
        let text = format!(
            "{} · {}: {}, {number} · {}: {} · {}: {count}",
            labels.fax,
            labels.to,
            letter.recipient.name,
            labels.from,
            letter.sender.name,
            labels.pages
        );
        let full = text_width(&text, Style::Bold, dims::FOOTER_SIZE, m);
        let size = if full > measure {
            dims::FOOTER_SIZE * measure / full
        } else {
            dims::FOOTER_SIZE
        };
        let width = text_width(&text, Style::Bold, size, m);
        if let Some(first) = pages.first_mut() {
            first.runs.push(Run {
                x: geo.left,
                y: dims::FAX_LINE_Y,
                style: Style::Bold,
                size,
                text,
                width,
            });
        }
        for rule in pages.iter_mut().flat_map(|p| p.rules.iter_mut()) {
            rule.thickness = rule.thickness.max(dims::FAX_MIN_RULE);
        }
    }
    Laid {
        width: geo.width,
        height: geo.height,
        pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A fixed-pitch stand-in: every character half an em, `W` a full em, spaces a third.
    struct Fake;
    impl Metrics for Fake {
        fn advance(&self, style: Style, c: char) -> f32 {
            let base = match c {
                ' ' => 0.3,
                'W' | 'Ж' => 1.0,
                _ => 0.5,
            };
            if style == Style::Bold {
                base * 1.1
            } else {
                base
            }
        }
    }

    fn spans(words: &[String]) -> Vec<Span> {
        words
            .iter()
            .enumerate()
            .map(|(i, w)| Span {
                text: format!("{w} "),
                bold: i % 3 == 1,
                italic: i % 5 == 2,
                superscript: false,
            })
            .collect()
    }

    fn letter(paragraphs: Vec<Vec<String>>, notes: usize) -> Letter {
        use crate::letter::{LetterKey, Note};
        use crate::recipients::Addressee;
        Letter {
            key: LetterKey {
                campaign: "c".into(),
                signatory: None,
                recipient: "r".into(),
            },
            language: "en".into(),
            sender: crate::sender::Sender {
                name: "Alex Sample".into(),
                address: vec!["12 Example Street".into(), "London".into()],
                ..Default::default()
            },
            recipient: Addressee {
                name: "Jane Doe".into(),
                title: "Ombudsman".into(),
                salutation: None,
                address: vec!["1 Main St".into(), "Astana".into()],
            },
            place_date: "London, 14 July 2014".into(),
            subject: "Subject".into(),
            reference: Some("REF-1".into()),
            salutation: "Dear Sir,".into(),
            body: paragraphs
                .iter()
                .map(|p| Block::Paragraph(spans(p)))
                .collect(),
            closing: "Yours,".into(),
            notes: (1..=notes)
                .map(|n| Note {
                    number: n,
                    spans: vec![Span::plain(format!("note {n}"))],
                })
                .collect(),
            copies_to: vec!["Someone".into()],
            title: "T".into(),
            fax_to: None,
        }
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zW]{1,12}",
            "[а-яЖ]{1,10}",
            "[a-z]{60,120}", // wider than any line
        ]
    }

    proptest! {
        #[test]
        fn lines_fit_and_keep_every_character(words in prop::collection::vec(word(), 1..80), measure in 40.0f32..400.0) {
            let lines = break_lines(&spans(&words), 11.0, measure, &Fake);
            for l in &lines {
                let single = l.text().chars().count() == 1;
                prop_assert!(l.width <= measure + 0.01 || single, "line {:?} is {} wide", l.text(), l.width);
            }
            let got: String = lines.iter().map(|l| l.text()).collect::<String>().split_whitespace().collect();
            let want: String = words.concat();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn words_survive_pages(paragraphs in prop::collection::vec(prop::collection::vec("[a-zа-я]{1,12}", 1..60), 1..25), notes in 0usize..8) {
            let l = letter(paragraphs.clone(), notes);
            for paper in [Paper::A4, Paper::Letter] {
                let laid = layout(&l, paper, &Fake);
                let geo = Geometry::for_paper(paper);
                let mut body_words = Vec::new();
                for page in &laid.pages {
                    for run in &page.runs {
                        prop_assert!(run.x >= geo.left - 0.01, "run {:?} left of the margin", run.text);
                        prop_assert!(run.x + run.width <= geo.width - geo.right + 0.01, "run {:?} past the margin", run.text);
                        prop_assert!(run.y <= geo.height - dims::FOOTER_FROM_BOTTOM + 0.01);
                        if run.y < dims::TOP - 0.01 {
                            // Only a continuation page's header sits above the top margin.
                            prop_assert!((run.y - dims::CONTINUATION_Y).abs() < 0.01, "run {:?} above the top", run.text);
                        } else if run.y < geo.height - dims::FOOTER_FROM_BOTTOM - 1.0 {
                            prop_assert!(run.y <= geo.body_bottom() + 0.01, "run {:?} below the body", run.text);
                            body_words.extend(run.text.split_whitespace().map(str::to_string));
                        }
                    }
                }
                let all = body_words.join(" ");
                let expected: Vec<String> = paragraphs.iter().flatten().cloned().collect();
                // Body words appear in order, each exactly once, between the salutation and closing.
                let start = body_words.iter().position(|w| w == "Sir,").map_or(0, |i| i + 1);
                let got: Vec<String> = body_words[start..start + expected.len()].to_vec();
                prop_assert_eq!(got, expected, "in {}", all);
                prop_assert_eq!(&body_words[start + paragraphs.iter().map(Vec::len).sum::<usize>()], "Yours,");
                if laid.pages.len() > 1 {
                    let n = laid.pages.len();
                    let last = format!("Page {n} of {n}");
                    prop_assert!(laid.pages[n - 1].runs.iter().any(|r| r.text == last));
                }
            }
        }
    }

    #[test]
    fn long_word_is_broken_not_overflowing() {
        let words = vec!["a".repeat(200)];
        let lines = break_lines(&spans(&words), 11.0, 100.0, &Fake);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.width <= 100.0));
    }

    #[test]
    fn hard_break_starts_a_new_line() {
        let lines = break_lines(&[Span::plain("one\ntwo")], 11.0, 400.0, &Fake);
        assert_eq!(
            lines.iter().map(Line::text).collect::<Vec<_>>(),
            ["one", "two"]
        );
    }

    #[test]
    fn widows_and_orphans_are_avoided() {
        // A long body: no page may start or end with a single line of a paragraph.
        let para: Vec<String> = (0..120).map(|i| format!("word{i}")).collect();
        let l = letter(vec![para.clone(), para.clone(), para], 0);
        let laid = layout(&l, Paper::A4, &Fake);
        assert!(laid.pages.len() >= 2);
        for page in &laid.pages[1..] {
            let mut ys: Vec<f32> = page
                .runs
                .iter()
                .filter(|r| r.text.starts_with("word"))
                .map(|r| r.y)
                .collect();
            ys.dedup();
            assert!(ys.is_empty() || ys.len() >= 2);
        }
    }

    #[test]
    fn continuation_pages_name_recipient_date_and_reference() {
        let para: Vec<String> = (0..120).map(|i| format!("word{i}")).collect();
        let l = letter(vec![para.clone(), para.clone(), para], 0);
        let laid = layout(&l, Paper::A4, &Fake);
        assert!(laid.pages.len() >= 2);
        let header = "Jane Doe · London, 14 July 2014 · Ref.: REF-1";
        let on = |page: &Page| page.runs.iter().any(|r| r.text == header);
        assert!(!on(&laid.pages[0]), "not on the first page");
        for page in &laid.pages[1..] {
            assert!(
                on(page),
                "{:?}",
                page.runs.iter().map(|r| &r.text).collect::<Vec<_>>()
            );
            let header_y = page.runs.iter().find(|r| r.text == header).map(|r| r.y);
            let body_top = page
                .runs
                .iter()
                .filter(|r| r.text != header)
                .map(|r| r.y)
                .fold(f32::MAX, f32::min);
            assert!(header_y.is_some_and(|y| y < body_top), "above the body");
        }
        let one = layout(&letter(vec![vec!["short".into()]], 0), Paper::A4, &Fake);
        assert_eq!(one.pages.len(), 1);
        assert!(
            !on(&one.pages[0]),
            "a one-page letter has no continuation header"
        );
    }

    #[test]
    fn address_sits_in_the_window() {
        let l = letter(vec![vec!["hello".into()]], 0);
        for paper in [Paper::A4, Paper::Letter] {
            let geo = Geometry::for_paper(paper);
            let laid = layout(&l, paper, &Fake);
            let [x, y, w, h] = geo.window;
            for text in ["Ombudsman", "Jane Doe", "1 Main St", "Astana"] {
                let r = laid.pages[0]
                    .runs
                    .iter()
                    .find(|r| r.text == text)
                    .expect("address line");
                assert!(r.x >= x && r.x + r.width <= x + w, "{text}");
                assert!(r.y - r.size >= y && r.y <= y + h, "{text} at {}", r.y);
            }
        }
    }
}
