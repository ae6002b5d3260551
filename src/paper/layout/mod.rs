//! `Letter` + font metrics → pages of positioned text runs and rules. Pure: no PDF types, no I/O.
//! Every measurement of the page lives in [`dims`], so the letter's look is tuned in one place.

use crate::letter::{Block, Letter, Span};
use crate::model::locale;
use crate::model::settings::Paper;
use crate::paper::geometry::{Geometry, dims};
use crate::paper::lines::{Line, break_lines, text_width};
use crate::paper::metrics::{Metrics, Style};
use crate::paper::page::{Laid, Page, Place, Rule, Run};

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
        use crate::model::recipients::Addressee;
        Letter {
            key: LetterKey {
                campaign: "c".into(),
                signatory: None,
                recipient: "r".into(),
            },
            language: "en".into(),
            sender: crate::model::sender::Sender {
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
