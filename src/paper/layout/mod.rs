//! `Letter` + font metrics → pages of positioned text runs and rules. Pure: no PDF types, no I/O.
//! Every measurement of the page lives in [`dims`], so the letter's look is tuned in one place.
//!
//! The first page's head is placed by hand (`head`); everything from the subject on flows
//! (`flow`) down the pages (`body`); the marks go on first, and the continuation headers,
//! page numbers and a fax's cover line last, once the pages are counted (`furniture`).

mod body;
mod flow;
mod furniture;
mod head;
mod runs;

use crate::letter::Letter;
use crate::model::settings::Paper;
use crate::paper::geometry::{Geometry, dims};
use crate::paper::layout::flow::Flow;
use crate::paper::lines::text_width;
use crate::paper::metrics::{Directed, Metrics, Style};
use crate::paper::page::{Laid, Page};

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

/// Lays out a letter.
pub fn layout(letter: &Letter, paper: Paper, m: &dyn Metrics) -> Laid {
    let directed = Directed {
        metrics: m,
        rtl: letter.direction() == "rtl",
        language: &letter.language,
    };
    let m: &dyn Metrics = &directed;
    let geo = Geometry::for_paper(paper);
    let labels = letter.labels.clone();

    let mut first = Page::default();
    furniture::fold_marks(&mut first, &geo);
    head::sender_block(&mut first, letter, &geo, m);
    head::window_field(&mut first, letter, &geo, m);
    head::place_date(&mut first, letter, &geo, m);

    let mut flow = Flow::new(&geo, m, first, geo.date_y + dims::BODY_LEADING * 1.2);
    head::subject(&mut flow, letter, &labels);
    body::salutation(&mut flow, letter);
    body::blocks(&mut flow, &letter.body, geo.left, None);
    body::closing(&mut flow, letter);
    body::copies(&mut flow, letter, &labels);
    body::notes(&mut flow, letter, &labels);

    let mut pages = flow.pages;
    if pages.len() > 1 {
        furniture::continuation_header(&mut pages, letter, &labels, &geo, m);
        furniture::page_numbers(&mut pages, letter, &geo, m);
    }
    if let Some(number) = &letter.fax_to {
        furniture::fax_cover(&mut pages, letter, number, &labels, &geo, m);
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
    use crate::letter::{Block, Span};
    use crate::paper::lines::{Line, break_lines};
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
            labels: std::sync::Arc::new(
                crate::model::locale::Labels::builtin("en").expect("English labels"),
            ),
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
