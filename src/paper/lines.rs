//! Line breaking: styled text → lines no wider than a measure, at UAX #14 opportunities
//! (unicode-linebreak), measured with shaped words. Text that holds right-to-left letters gets
//! its embedding levels from UAX #9 (unicode-bidi): each line is put in visual order after
//! breaking, and a right-to-left paragraph's lines say so (layout sets them flush right).
//! Pure, like `layout`.

use std::sync::Arc;

use unicode_bidi::{BidiInfo, Level};
use unicode_linebreak::{BreakOpportunity, linebreaks};

use crate::letter::Span;
use crate::paper::geometry::dims;
use crate::paper::metrics::{Metrics, Shaped, Style};

/// A piece of a broken line: text in one style and direction, at an offset from the line's
/// start, with its shaped words in visual order.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub style: Style,
    pub superscript: bool,
    /// The characters, in logical order.
    pub text: String,
    pub dx: f32,
    pub width: f32,
    pub words: Vec<Arc<Shaped>>,
}

/// One broken line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub pieces: Vec<Piece>,
    /// Width without trailing spaces.
    pub width: f32,
    /// The line belongs to a right-to-left paragraph.
    pub rtl: bool,
}

impl Line {
    /// The line's text, piece by piece in visual order.
    pub fn text(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }
}

/// A word, a run of spaces or a line break, in one style and embedding level.
struct Token<'a> {
    text: &'a str,
    style: Style,
    superscript: bool,
    level: Level,
    /// In a right-to-left paragraph.
    rtl_paragraph: bool,
    blank: bool,
    shaped: Arc<Shaped>,
    width: f32,
}

/// Bytes in a word beyond which it cannot fit any line (a line holds some 100 letters).
const LONGEST_WORD: usize = 1024;

/// Whether `text` holds a right-to-left letter (Hebrew, Arabic, Syriac, Thaana, N'Ko…).
fn has_rtl(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
    })
}

/// Whether a paragraph of `text` runs right to left: it holds a right-to-left letter and the
/// letter runs right to left, or its first strong letter does (UAX #9).
pub fn right_to_left(text: &str, m: &dyn Metrics) -> bool {
    has_rtl(text)
        && (m.right_to_left_letter()
            || unicode_bidi::get_base_direction(text) == unicode_bidi::Direction::Rtl)
}

/// Styled text as one string, with each span's start, style and superscript flag.
fn gather(spans: &[Span]) -> (String, Vec<(usize, Style, bool)>) {
    let mut text = String::new();
    let mut marks = Vec::with_capacity(spans.len());
    for span in spans {
        marks.push((
            text.len(),
            Style::new(span.bold, span.italic),
            span.superscript,
        ));
        text.extend(
            span.text
                .chars()
                .map(|c| if c == '\t' || c == '\r' { ' ' } else { c }),
        );
    }
    (text, marks)
}

/// Per byte: its embedding level and whether its paragraph runs right to left.
type Levels = Option<(Vec<Level>, Vec<bool>)>;

/// In a right-to-left letter every paragraph with a right-to-left letter is set right to
/// left; otherwise each takes the direction of its first strong letter.
fn levels(text: &str, rtl_letter: bool) -> Levels {
    if !has_rtl(text) {
        return None;
    }
    let info = BidiInfo::new(text, rtl_letter.then(Level::rtl));
    let mut rtl = vec![false; text.len()];
    for p in &info.paragraphs {
        rtl[p.range.clone()].fill(p.level.is_rtl());
    }
    Some((info.levels, rtl))
}

/// Splits `text[start..end]` into tokens: a new one wherever style, level or blankness changes.
fn tokens<'a>(
    text: &'a str,
    range: std::ops::Range<usize>,
    marks: &[(usize, Style, bool)],
    levels: &Levels,
    size: f32,
    m: &dyn Metrics,
) -> Vec<Token<'a>> {
    let mut out: Vec<Token> = Vec::new();
    let mut start = range.start;
    let key = |at: usize, c: char| {
        let mark = marks[marks.partition_point(|m| m.0 <= at).saturating_sub(1)];
        let (level, rtl) = levels
            .as_ref()
            .map_or((Level::ltr(), false), |(l, r)| (l[at], r[at]));
        (mark.1, mark.2, level, rtl, c.is_whitespace(), c == '\n')
    };
    let mut chars = text[range.clone()]
        .char_indices()
        .map(|(i, c)| (i + range.start, c));
    let Some((_, first)) = chars.next() else {
        return out;
    };
    let mut current = key(start, first);
    let mut push = |from: usize, to: usize, k: (Style, bool, Level, bool, bool, bool)| {
        let piece = &text[from..to];
        let scale = if k.1 { size * dims::SUPER_SCALE } else { size };
        // A word longer than any line is cut between its characters before it is shaped
        // (see `split_token`): shaping a megabyte-long word whole would be for nothing.
        let endless = piece.len() > LONGEST_WORD;
        let shaped = if k.5 || endless {
            Arc::new(Shaped::default())
        } else {
            m.shape(k.0, k.2.is_rtl(), piece)
        };
        out.push(Token {
            text: piece,
            style: k.0,
            superscript: k.1,
            level: k.2,
            rtl_paragraph: k.3,
            blank: k.4,
            width: if endless {
                f32::INFINITY
            } else {
                shaped.width * scale
            },
            shaped,
        });
    };
    for (at, c) in chars {
        let k = key(at, c);
        if k != current || current.5 {
            push(start, at, current);
            start = at;
            current = k;
        }
    }
    push(start, range.end, current);
    out
}

/// Breaks styled text into lines no wider than `measure` at UAX #14 opportunities, greedily.
/// A piece that cannot fit even alone on a line is broken between characters.
pub fn break_lines(spans: &[Span], size: f32, measure: f32, m: &dyn Metrics) -> Vec<Line> {
    let (text, marks) = gather(spans);
    if text.is_empty() {
        return Vec::new();
    }
    let levels = levels(&text, m.right_to_left_letter());
    let mut lines = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut current_width = 0.0f32;
    let mut start = 0;
    for (end, kind) in breaks(&text) {
        let segment = tokens(&text, start..end, &marks, &levels, size, m);
        start = end;
        let trimmed = trimmed_width(&segment);
        if !current.is_empty() && current_width + trimmed > measure {
            lines.push(finish_line(std::mem::take(&mut current)));
            current_width = 0.0;
        }
        if current.is_empty() && trimmed > measure {
            // Too long for any line: break between characters (keeping combining marks on
            // their base), never past the margin.
            for token in segment {
                for piece in split_token(token, size, m) {
                    if !current.is_empty() && !piece.blank && current_width + piece.width > measure
                    {
                        lines.push(finish_line(std::mem::take(&mut current)));
                        current_width = 0.0;
                    }
                    current_width += piece.width;
                    current.push(piece);
                }
            }
        } else {
            current_width += segment.iter().map(|t| t.width).sum::<f32>();
            current.extend(segment);
        }
        if kind == BreakOpportunity::Mandatory && end < text.len() {
            lines.push(finish_line(std::mem::take(&mut current)));
            current_width = 0.0;
        }
    }
    if !current.is_empty() {
        lines.push(finish_line(current));
    }
    lines
}

fn trimmed_width(tokens: &[Token]) -> f32 {
    let keep = tokens.iter().rposition(|t| !t.blank).map_or(0, |i| i + 1);
    tokens[..keep].iter().map(|t| t.width).sum()
}

/// Whether `c` is a combining mark (Unicode general category M: accents, harakat, Indic and
/// Thai vowel signs) or a zero-width joiner, which stay with the character before them.
fn is_mark(c: char) -> bool {
    use icu::properties::props::{GeneralCategory, GeneralCategoryGroup};
    let category = icu::properties::CodePointMapData::<GeneralCategory>::new().get(c);
    GeneralCategoryGroup::Mark.contains(category) || matches!(c, '\u{200c}' | '\u{200d}')
}

/// Whether `text` holds letters of a script written without spaces between words (Thai, Lao,
/// Khmer, Myanmar, Tai Tham, Tai Viet, New Tai Lue: UAX #14 class SA), whose line breaks
/// need a word model.
fn has_complex_breaks(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c as u32,
            0x0E00..=0x0EFF | 0x1000..=0x109F | 0x1780..=0x17FF | 0x1950..=0x19FF
            | 0x1A20..=0x1AAF | 0xA9E0..=0xA9FF | 0xAA60..=0xAADF)
    })
}

/// The line break opportunities of `text` (UAX #14), each with whether it is mandatory; the
/// last is the end of the text. Text in Thai and the other scripts without spaces between
/// words goes through ICU4X's line segmenter, whose word model finds the breaks between
/// words; other text through `unicode-linebreak`.
fn breaks(text: &str) -> Vec<(usize, BreakOpportunity)> {
    if !has_complex_breaks(text) {
        return linebreaks(text).collect();
    }
    static SEGMENTER: std::sync::LazyLock<icu::segmenter::LineSegmenterBorrowed<'static>> =
        std::sync::LazyLock::new(|| icu::segmenter::LineSegmenter::new_auto(Default::default()));
    SEGMENTER
        .segment_str(text)
        .filter(|at| *at > 0)
        .map(|at| {
            let hard = at == text.len()
                || text[..at].ends_with([
                    '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}',
                ]);
            let kind = if hard {
                BreakOpportunity::Mandatory
            } else {
                BreakOpportunity::Allowed
            };
            (at, kind)
        })
        .collect()
}

/// A token cut into its characters, each with the combining marks that follow it.
fn split_token<'a>(token: Token<'a>, size: f32, m: &dyn Metrics) -> Vec<Token<'a>> {
    let mut cuts: Vec<usize> = Vec::new();
    for (at, c) in token.text.char_indices() {
        if !is_mark(c) || cuts.is_empty() {
            cuts.push(at);
        }
    }
    cuts.push(token.text.len());
    let scale = if token.superscript {
        size * dims::SUPER_SCALE
    } else {
        size
    };
    cuts.windows(2)
        .map(|w| {
            let text = &token.text[w[0]..w[1]];
            let shaped = m.shape(token.style, token.level.is_rtl(), text);
            Token {
                text,
                width: shaped.width * scale,
                shaped,
                ..token
            }
        })
        .collect()
}

/// A line from its tokens: trailing spaces dropped, put in visual order, joined into pieces.
fn finish_line(mut tokens: Vec<Token>) -> Line {
    let rtl = tokens.first().is_some_and(|t| t.rtl_paragraph);
    let keep = tokens.iter().rposition(|t| !t.blank).map_or(0, |i| i + 1);
    tokens.truncate(keep);
    tokens.retain(|t| t.text != "\n");
    let order: Vec<usize> = if tokens.iter().all(|t| t.level == Level::ltr()) {
        (0..tokens.len()).collect()
    } else {
        let levels: Vec<Level> = tokens.iter().map(|t| t.level).collect();
        BidiInfo::reorder_visual(&levels)
    };
    let mut pieces: Vec<Piece> = Vec::new();
    let mut levels: Vec<Level> = Vec::new();
    let mut x = 0.0;
    for i in order {
        let t = &tokens[i];
        match pieces.last_mut() {
            Some(p)
                if p.style == t.style
                    && p.superscript == t.superscript
                    && levels.last() == Some(&t.level) =>
            {
                if t.level.is_rtl() {
                    p.text.insert_str(0, t.text);
                } else {
                    p.text.push_str(t.text);
                }
                p.width += t.width;
                p.words.push(t.shaped.clone());
            }
            _ => {
                levels.push(t.level);
                pieces.push(Piece {
                    style: t.style,
                    superscript: t.superscript,
                    text: t.text.to_string(),
                    dx: x,
                    width: t.width,
                    words: vec![t.shaped.clone()],
                });
            }
        }
        x += t.width;
    }
    Line {
        pieces,
        width: x,
        rtl,
    }
}

/// One line of plain text in one style: its words in visual order and its width in points.
pub fn shape_line(text: &str, style: Style, size: f32, m: &dyn Metrics) -> (Vec<Arc<Shaped>>, f32) {
    let span = Span {
        text: text.to_string(),
        bold: matches!(style, Style::Bold | Style::BoldItalic),
        italic: matches!(style, Style::Italic | Style::BoldItalic),
        superscript: false,
    };
    let lines = break_lines(&[span], size, f32::INFINITY, m);
    let words = lines
        .iter()
        .flat_map(|l| &l.pieces)
        .flat_map(|p| p.words.iter().cloned())
        .collect();
    (words, lines.iter().map(|l| l.width).sum())
}

/// Width of plain text in one style, in points.
pub fn text_width(text: &str, style: Style, size: f32, m: &dyn Metrics) -> f32 {
    shape_line(text, style, size, m).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::metrics::Directed;

    /// Half an em a letter, a quarter for a space.
    struct Fixed;
    impl Metrics for Fixed {
        fn advance(&self, _: Style, c: char) -> f32 {
            if c == ' ' { 0.25 } else { 0.5 }
        }
    }

    fn dx_of(line: &Line, word: &str) -> f32 {
        let piece = line
            .pieces
            .iter()
            .find(|p| p.text.split(' ').any(|w| w == word));
        piece
            .map(|p| p.dx)
            .unwrap_or_else(|| panic!("{word} in {line:?}"))
    }

    #[test]
    fn an_arabic_line_runs_right_to_left_with_its_numbers_left_to_right() {
        let lines = break_lines(&[Span::plain("في 12 مارس 2024 قضية")], 10.0, 1000.0, &Fixed);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert!(line.rtl);
        // Visual order, left to right: قضية 2024 مارس 12 في
        let order = ["قضية", "2024", "مارس", "12", "في"].map(|w| dx_of(line, w));
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "{order:?} in {line:?}"
        );
        // The first strong letter decides a paragraph's direction.
        assert!(right_to_left("12 في Amnesty", &Fixed));
        assert!(!right_to_left("Amnesty في", &Fixed));
    }

    #[test]
    fn in_a_right_to_left_letter_a_line_opening_in_latin_runs_right_to_left() {
        let arabic = Directed {
            metrics: &Fixed,
            rtl: true,
            language: "ar",
        };
        let text = "London, 2 ديسمبر 2026";
        assert!(right_to_left(text, &arabic));
        let lines = break_lines(&[Span::plain(text)], 10.0, 1000.0, &arabic);
        let line = &lines[0];
        assert!(line.rtl);
        // Read from the right: London, 2 ديسمبر 2026.
        let order = ["2026", "ديسمبر", "London,"].map(|w| dx_of(line, w));
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "{order:?} in {line:?}"
        );
        // Without a right-to-left letter the line keeps its order, even in such a letter.
        let latin = break_lines(&[Span::plain("1 Main Street")], 10.0, 1000.0, &arabic);
        assert!(!latin[0].rtl);
        assert_eq!(latin[0].text(), "1 Main Street");
        // In a left-to-right letter the first strong letter decides.
        assert!(!break_lines(&[Span::plain(text)], 10.0, 1000.0, &Fixed)[0].rtl);
    }

    #[test]
    fn a_latin_line_keeps_its_order_and_width() {
        let lines = break_lines(&[Span::plain("ab cd")], 10.0, 1000.0, &Fixed);
        assert!(!lines[0].rtl);
        assert_eq!(lines[0].text(), "ab cd");
        assert!((lines[0].width - 22.5).abs() < 1e-4);
        assert!((text_width("ab cd", Style::Regular, 10.0, &Fixed) - 22.5).abs() < 1e-4);
    }
}
