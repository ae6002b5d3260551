//! The faces of a font family, their advance widths and shaped words: all that line breaking
//! and layout need to know of a font.

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

/// One glyph of shaped text. Lengths are in ems of the font size.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub id: u16,
    /// Where the next glyph starts, from the shaper (kerning included).
    pub advance: f32,
    /// The offset the shaper gives this glyph from its pen position (marks, GPOS).
    pub dx: f32,
    pub dy: f32,
    /// The text the glyph stands for, for the PDF's ToUnicode map: its cluster's text on the
    /// first glyph of a cluster, empty on the others.
    pub text: String,
}

/// A stretch of one word drawn with one face, its glyphs in visual order (left to right).
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The face, as the font family numbers its faces.
    pub face: usize,
    /// The characters, in logical order.
    pub text: String,
    pub glyphs: Vec<Glyph>,
    /// The PDF's ToUnicode map alone gives the text back: each glyph stands for the one
    /// character at its place in reading order, or the part runs right to left (readers
    /// reorder those glyphs themselves). Otherwise the part carries /ActualText.
    pub simple: bool,
}

/// A shaped word (or a run of spaces): its width in ems and its parts in visual order. A
/// stand-in without fonts (tests' fixed pitch) has a width and no parts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shaped {
    pub width: f32,
    pub parts: Vec<Part>,
}

/// Advance widths, in ems, for the faces of a family, and shaping: words to glyphs.
/// [`Metrics::advance`] alone makes a stand-in whose words have widths and no glyphs.
pub trait Metrics: Sync {
    fn advance(&self, style: Style, c: char) -> f32;

    /// `word` (no line breaks) shaped in `style`, right to left if `rtl`.
    fn shape(&self, style: Style, rtl: bool, word: &str) -> std::sync::Arc<Shaped> {
        let _ = rtl;
        std::sync::Arc::new(Shaped {
            width: word.chars().map(|c| self.advance(style, c)).sum(),
            parts: Vec::new(),
        })
    }

    /// `word` shaped as text of `language` (a BCP 47 tag): a font's local forms (Serbian
    /// italics, Urdu digits, Marathi letters) follow it. Plain metrics ignore it.
    fn shape_in(
        &self,
        style: Style,
        rtl: bool,
        word: &str,
        language: &str,
    ) -> std::sync::Arc<Shaped> {
        let _ = language;
        self.shape(style, rtl, word)
    }

    /// Whether the letter being laid out runs right to left: then a paragraph holding any
    /// right-to-left letter runs right to left even when it opens with a Latin name or a
    /// number (the place and date, the continuation header). Plain metrics say no.
    fn right_to_left_letter(&self) -> bool {
        false
    }
}

/// A letter's metrics with its direction (see [`Metrics::right_to_left_letter`]) and its
/// language, which every word is shaped as.
pub struct Directed<'a> {
    pub metrics: &'a dyn Metrics,
    pub rtl: bool,
    pub language: &'a str,
}

impl Metrics for Directed<'_> {
    fn advance(&self, style: Style, c: char) -> f32 {
        self.metrics.advance(style, c)
    }

    fn shape(&self, style: Style, rtl: bool, word: &str) -> std::sync::Arc<Shaped> {
        self.metrics.shape_in(style, rtl, word, self.language)
    }

    fn right_to_left_letter(&self) -> bool {
        self.rtl
    }
}
