//! Line breaking: styled text → lines no wider than a measure, at UAX #14 opportunities
//! (unicode-linebreak), with widths from the font's advance widths. Pure, like `layout`.

use unicode_linebreak::{BreakOpportunity, linebreaks};

use crate::letter::Span;
use crate::paper::geometry::dims;
use crate::paper::metrics::{Metrics, Style};

/// A piece of a broken line: text in one style, at an offset from the line's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub style: Style,
    pub superscript: bool,
    pub text: String,
    pub dx: f32,
    pub width: f32,
}

/// One broken line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub pieces: Vec<Piece>,
    /// Width without trailing spaces.
    pub width: f32,
}

impl Line {
    pub fn text(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }
}

struct Glyph {
    c: char,
    style: Style,
    superscript: bool,
    width: f32,
}

/// Breaks styled text into lines no wider than `measure` at UAX #14 opportunities, greedily.
/// A piece that cannot fit even alone on a line is broken between characters.
pub fn break_lines(spans: &[Span], size: f32, measure: f32, m: &dyn Metrics) -> Vec<Line> {
    let mut text = String::new();
    let mut glyphs: Vec<(usize, Glyph)> = Vec::new();
    for span in spans {
        let style = Style::new(span.bold, span.italic);
        let scale = if span.superscript {
            size * dims::SUPER_SCALE
        } else {
            size
        };
        for c in span.text.chars() {
            let c = if c == '\t' || c == '\r' { ' ' } else { c };
            let width = if c == '\n' {
                0.0
            } else {
                m.advance(style, c) * scale
            };
            glyphs.push((
                text.len(),
                Glyph {
                    c,
                    style,
                    superscript: span.superscript,
                    width,
                },
            ));
            text.push(c);
        }
    }
    let mut lines = Vec::new();
    let mut current: Vec<&Glyph> = Vec::new();
    let mut current_width = 0.0f32;
    let mut next = 0;
    for (end, kind) in linebreaks(&text) {
        let start = next;
        while next < glyphs.len() && glyphs[next].0 < end {
            next += 1;
        }
        let segment: Vec<&Glyph> = glyphs[start..next].iter().map(|(_, g)| g).collect();
        let trimmed = trimmed_width(&segment);
        if !current.is_empty() && current_width + trimmed > measure {
            lines.push(finish_line(std::mem::take(&mut current)));
            current_width = 0.0;
        }
        if current.is_empty() && trimmed > measure {
            // Too long for any line: break between characters (keeping combining marks on
            // their base), never past the margin.
            for cluster in clusters(&segment) {
                let w: f32 = cluster.iter().map(|g| g.width).sum();
                let blank = cluster.iter().all(|g| g.c.is_whitespace());
                if !current.is_empty() && !blank && current_width + w > measure {
                    lines.push(finish_line(std::mem::take(&mut current)));
                    current_width = 0.0;
                }
                current.extend(cluster);
                current_width += w;
            }
        } else {
            current_width += segment.iter().map(|g| g.width).sum::<f32>();
            current.extend(segment);
        }
        if kind == BreakOpportunity::Mandatory && next < glyphs.len() {
            lines.push(finish_line(std::mem::take(&mut current)));
            current_width = 0.0;
        }
    }
    if !current.is_empty() {
        lines.push(finish_line(current));
    }
    lines
}

fn trimmed_width(glyphs: &[&Glyph]) -> f32 {
    let keep = glyphs
        .iter()
        .rposition(|g| !g.c.is_whitespace())
        .map_or(0, |i| i + 1);
    glyphs[..keep].iter().map(|g| g.width).sum()
}

/// Characters grouped with the combining marks that follow them.
fn clusters<'a>(glyphs: &[&'a Glyph]) -> Vec<Vec<&'a Glyph>> {
    let mut out: Vec<Vec<&Glyph>> = Vec::new();
    for g in glyphs {
        let combining = matches!(g.c as u32, 0x0300..=0x036F | 0x0483..=0x0489 | 0x200D);
        match out.last_mut() {
            Some(last) if combining => last.push(g),
            _ => out.push(vec![g]),
        }
    }
    out
}

fn finish_line(glyphs: Vec<&Glyph>) -> Line {
    let keep = glyphs
        .iter()
        .rposition(|g| !g.c.is_whitespace())
        .map_or(0, |i| i + 1);
    let mut pieces: Vec<Piece> = Vec::new();
    let mut x = 0.0;
    for g in &glyphs[..keep] {
        if g.c == '\n' {
            continue;
        }
        match pieces.last_mut() {
            Some(p) if p.style == g.style && p.superscript == g.superscript => {
                p.text.push(g.c);
                p.width += g.width;
            }
            _ => pieces.push(Piece {
                style: g.style,
                superscript: g.superscript,
                text: g.c.to_string(),
                dx: x,
                width: g.width,
            }),
        }
        x += g.width;
    }
    Line { pieces, width: x }
}

/// Width of plain text in one style, in points.
pub fn text_width(text: &str, style: Style, size: f32, m: &dyn Metrics) -> f32 {
    text.chars().map(|c| m.advance(style, c)).sum::<f32>() * size
}
