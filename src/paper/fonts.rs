//! The letter's font family: the bundled Noto Sans (SIL OFL, see fonts/OFL.txt) or a TTF the
//! user names; advance widths for layout, glyph ids for the PDF, and the missing-glyph check.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};

use crate::paper::metrics::{Metrics, Style};
use crate::paper::page::Laid;

const REGULAR: &[u8] = include_bytes!("../../fonts/NotoSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/NotoSans-Bold.ttf");
const ITALIC: &[u8] = include_bytes!("../../fonts/NotoSans-Italic.ttf");
const BOLD_ITALIC: &[u8] = include_bytes!("../../fonts/NotoSans-BoldItalic.ttf");

/// Font bytes: bundled in the binary or read from a file.
#[derive(Clone)]
pub enum Bytes {
    Static(&'static [u8]),
    Owned(Arc<Vec<u8>>),
}

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Static(b) => b,
            Bytes::Owned(b) => b,
        }
    }
}

/// One face: its bytes, PostScript name and a character → (glyph id, advance) table.
pub struct Face {
    pub bytes: Bytes,
    pub name: String,
    units_per_em: f32,
    glyphs: HashMap<char, (u16, u16)>,
}

impl Face {
    fn parse(bytes: Bytes, what: &str) -> Result<Face> {
        let face = ttf_parser::Face::parse(bytes.as_slice(), 0)
            .map_err(|e| anyhow!("{what} is not a usable TrueType/OpenType font: {e}"))?;
        let mut glyphs = HashMap::new();
        if let Some(cmap) = face.tables().cmap {
            for sub in cmap.subtables.into_iter().filter(|s| s.is_unicode()) {
                sub.codepoints(|cp| {
                    if let (Some(c), Some(gid)) = (char::from_u32(cp), sub.glyph_index(cp)) {
                        let advance = face.glyph_hor_advance(gid).unwrap_or(0);
                        glyphs.entry(c).or_insert((gid.0, advance));
                    }
                });
            }
        }
        if glyphs.is_empty() {
            return Err(anyhow!("{what} has no Unicode character map"));
        }
        let name = face
            .names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .and_then(|n| n.to_string())
            .unwrap_or_else(|| "Font".to_string())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Ok(Face {
            name,
            units_per_em: f32::from(face.units_per_em()),
            glyphs,
            bytes,
        })
    }

    /// The glyph id for `c`, if the face can draw it.
    pub fn glyph(&self, c: char) -> Option<u16> {
        self.glyphs.get(&c).map(|g| g.0)
    }
}

/// Regular, bold, italic and bold italic faces.
pub struct Family {
    faces: [Arc<Face>; 4],
}

impl Family {
    /// The bundled Noto Sans family.
    pub fn bundled() -> Result<Family> {
        let load = |b: &'static [u8], n: &str| Face::parse(Bytes::Static(b), n).map(Arc::new);
        Ok(Family {
            faces: [
                load(REGULAR, "bundled NotoSans-Regular")?,
                load(BOLD, "bundled NotoSans-Bold")?,
                load(ITALIC, "bundled NotoSans-Italic")?,
                load(BOLD_ITALIC, "bundled NotoSans-BoldItalic")?,
            ],
        })
    }

    /// A family from `--font FILE`. A file named `<Name>-Regular.ttf` brings the styles found
    /// beside it (`<Name>-Bold.ttf`, `-Italic`, `-BoldItalic`); a style not there is drawn
    /// with the nearest one that is (bold italic with bold, italic with regular).
    pub fn from_file(path: &Path) -> Result<Family> {
        let read = |path: &Path| -> Result<Arc<Face>> {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the font {}", path.display()))?;
            let face = Face::parse(Bytes::Owned(Arc::new(bytes)), &path.display().to_string())?;
            Ok(Arc::new(face))
        };
        let regular = read(path)?;
        let sibling = |style: &str| -> Result<Option<Arc<Face>>> {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                return Ok(None);
            };
            let Some((base, ext)) = name.rsplit_once('.') else {
                return Ok(None);
            };
            let Some(family) = base.strip_suffix("-Regular") else {
                return Ok(None);
            };
            let other = path.with_file_name(format!("{family}-{style}.{ext}"));
            if other.is_file() {
                read(&other).map(Some)
            } else {
                Ok(None)
            }
        };
        let bold = sibling("Bold")?.unwrap_or_else(|| regular.clone());
        let italic = sibling("Italic")?.unwrap_or_else(|| regular.clone());
        let bold_italic = sibling("BoldItalic")?.unwrap_or_else(|| bold.clone());
        Ok(Family {
            faces: [regular, bold, italic, bold_italic],
        })
    }

    /// `--font FILE` if given, else the bundled family.
    pub fn load(font: Option<&Path>) -> Result<Family> {
        match font {
            Some(p) => Family::from_file(p),
            None => Family::bundled(),
        }
    }

    pub fn face(&self, style: Style) -> &Face {
        &self.faces[style.index()]
    }

    /// Every character the laid-out letter draws that its face cannot, first occurrence
    /// first, as `U+4E2D '中'`.
    pub fn missing(&self, laid: &Laid) -> Vec<char> {
        let mut missing = Vec::new();
        for run in laid.pages.iter().flat_map(|p| &p.runs) {
            let face = self.face(run.style);
            for c in run.text.chars() {
                if face.glyph(c).is_none() && !missing.contains(&c) {
                    missing.push(c);
                }
            }
        }
        missing
    }
}

impl Family {
    /// Every character of `text` that some face of the family cannot draw, first
    /// occurrence first. Line breaks and tabs are layout, not glyphs.
    pub fn missing_in(&self, text: &str) -> Vec<char> {
        let mut seen = std::collections::HashSet::new();
        let mut missing = Vec::new();
        for c in text.chars() {
            if c == '\n' || c == '\t' || !seen.insert(c) {
                continue;
            }
            if Style::ALL.iter().any(|s| self.face(*s).glyph(c).is_none()) {
                missing.push(c);
            }
        }
        missing
    }
}

/// `U+4E2D '中'`.
pub fn describe(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

impl Metrics for Family {
    fn advance(&self, style: Style, c: char) -> f32 {
        let face = self.face(style);
        match face.glyphs.get(&c) {
            Some(&(_, adv)) => f32::from(adv) / face.units_per_em,
            // Not drawable: the check reports it before anything is written.
            None => 0.5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_family_covers_kazakh_and_russian() {
        let f = Family::bundled().expect("bundled fonts parse");
        for style in Style::ALL {
            for c in "әғқңөұүһіӘҒҚҢӨҰҮҺІЖжЁё«»№–—…·•".chars() {
                assert!(f.face(style).glyph(c).is_some(), "{style:?} lacks {c}");
            }
            assert!(f.face(style).glyph('中').is_none());
        }
        assert_eq!(f.face(Style::Bold).name, "NotoSans-Bold");
        assert!(f.advance(Style::Regular, 'W') > f.advance(Style::Regular, 'i'));
    }

    #[test]
    fn bundled_faces_carry_no_hinting() {
        // Hinting was some 40 % of every embedded subset (scripts/unhint-fonts.sh).
        for bytes in [REGULAR, BOLD, ITALIC, BOLD_ITALIC] {
            let face = ttf_parser::Face::parse(bytes, 0).expect("parses");
            for table in [b"fpgm", b"prep", b"cvt "] {
                let tag = ttf_parser::Tag::from_bytes(table);
                assert!(face.raw_face().table(tag).is_none(), "{tag} is there");
            }
        }
    }

    #[test]
    fn code_points_are_described() {
        assert_eq!(describe('中'), "U+4E2D '中'");
    }
}
