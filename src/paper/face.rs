//! One font face: its bytes (a file, or one face of a collection), its character map and
//! advances, and its rustybuzz shaper.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

/// One face: its bytes (a font file, or one face of a collection at `index`), PostScript
/// name, character → (glyph id, advance) table and shaper.
pub struct Face {
    pub bytes: &'static [u8],
    pub index: u32,
    pub name: String,
    pub units_per_em: f32,
    glyphs: HashMap<char, (u16, u16)>,
    pub(crate) shaper: rustybuzz::Face<'static>,
}

impl Face {
    pub(crate) fn parse(bytes: &'static [u8], index: u32, what: &str) -> Result<Face> {
        let face = ttf_parser::Face::parse(bytes, index)
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
            bail!("{what} has no Unicode character map");
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
        let shaper = rustybuzz::Face::from_slice(bytes, index)
            .ok_or_else(|| anyhow!("{what} cannot be shaped"))?;
        Ok(Face {
            name,
            units_per_em: f32::from(face.units_per_em()),
            glyphs,
            bytes,
            index,
            shaper,
        })
    }

    /// The glyph id for `c`, if the face can draw it.
    pub fn glyph(&self, c: char) -> Option<u16> {
        self.glyphs.get(&c).map(|g| g.0)
    }

    /// The advance of `c`'s glyph in ems, if the face can draw it.
    pub fn advance(&self, c: char) -> Option<f32> {
        self.glyphs
            .get(&c)
            .map(|g| f32::from(g.1) / self.units_per_em)
    }
}

/// A font file's bytes for the rest of the run: faces and their shapers borrow them, and a
/// letter batch keeps its fonts to the end anyway.
pub(crate) fn read_font(path: &Path) -> Result<&'static [u8]> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read the font {}", path.display()))?;
    Ok(Box::leak(bytes.into_boxed_slice()))
}
