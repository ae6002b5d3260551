//! The letter's fonts: for each style a chain of faces tried in turn for every character —
//! the user's fonts (`--font`, appeal.toml `fonts`/`font`), the bundled Noto Sans (Latin,
//! Cyrillic, Greek), Noto Sans Arabic, Noto Sans Devanagari (SIL OFL, see fonts/OFL.txt) —
//! and after them the installed fonts found for characters none of those has (`system`).
//! Shaping words with these faces is in `shape`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

use anyhow::{Result, bail};

use crate::config::Config;
pub use crate::paper::face::Face;
use crate::paper::face::read_font;
use crate::paper::metrics::{Metrics, Shaped, Style};
use crate::paper::page::Laid;
use crate::paper::system;

const REGULAR: &[u8] = include_bytes!("../../fonts/NotoSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/NotoSans-Bold.ttf");
const ITALIC: &[u8] = include_bytes!("../../fonts/NotoSans-Italic.ttf");
const BOLD_ITALIC: &[u8] = include_bytes!("../../fonts/NotoSans-BoldItalic.ttf");
const ARABIC: &[u8] = include_bytes!("../../fonts/NotoSansArabic-Regular.ttf");
const ARABIC_BOLD: &[u8] = include_bytes!("../../fonts/NotoSansArabic-Bold.ttf");
const DEVANAGARI: &[u8] = include_bytes!("../../fonts/NotoSansDevanagari-Regular.ttf");
const DEVANAGARI_BOLD: &[u8] = include_bytes!("../../fonts/NotoSansDevanagari-Bold.ttf");

/// Words shaped so far, per language, style and direction: a template's words recur in every
/// letter.
pub(crate) type Cache = HashMap<String, Box<[[HashMap<String, Arc<Shaped>>; 2]; 4]>>;

/// The faces and, per style, the order they are tried in; then the installed fonts found for
/// characters none of them has.
pub struct Family {
    pub(crate) faces: RwLock<Vec<Arc<Face>>>,
    pub(crate) chains: [Vec<usize>; 4],
    /// Installed faces added for characters no chain had, tried after every chain.
    pub(crate) fallback: RwLock<Vec<usize>>,
    /// Characters no installed font has either (so they are looked for once).
    pub(crate) hopeless: RwLock<HashSet<char>>,
    pub(crate) system: OnceLock<system::Fonts>,
    pub(crate) cache: RwLock<Cache>,
}

/// The four styles of one family, as faces (a style the family lacks repeats another).
type Styles = [Arc<Face>; 4];

impl Family {
    /// The bundled faces: Noto Sans, then Noto Sans Arabic and Noto Sans Devanagari.
    pub fn bundled() -> Result<Family> {
        Family::with_user(Vec::new())
    }

    /// `--font FILE` first if given, then the bundled faces.
    pub fn load(font: Option<&Path>) -> Result<Family> {
        let user = font.map(from_file).transpose()?;
        Family::with_user(user.into_iter().collect())
    }

    /// The chain the configuration names: each `--font FILE_OR_FAMILY`, then appeal.toml's
    /// `fonts` (files relative to the campaign directory) and `font`, then the bundled faces.
    pub fn for_config(config: &Config) -> Result<Family> {
        let mut user = Vec::new();
        for name in &config.fonts {
            user.push(user_font(name, Path::new(name))?);
        }
        for name in config.settings.raw.fonts.iter().flatten() {
            let name = name.get_ref();
            user.push(user_font(name, &config.root.join(name))?);
        }
        if let Some(file) = &config.font {
            user.push(from_file(file)?);
        }
        Family::with_user(user)
    }

    fn with_user(user: Vec<Styles>) -> Result<Family> {
        let load = |b: &'static [u8], n: &str| Face::parse(b, 0, n).map(Arc::new);
        let noto = [
            load(REGULAR, "bundled NotoSans-Regular")?,
            load(BOLD, "bundled NotoSans-Bold")?,
            load(ITALIC, "bundled NotoSans-Italic")?,
            load(BOLD_ITALIC, "bundled NotoSans-BoldItalic")?,
        ];
        let arabic = load(ARABIC, "bundled NotoSansArabic-Regular")?;
        let arabic_bold = load(ARABIC_BOLD, "bundled NotoSansArabic-Bold")?;
        let devanagari = load(DEVANAGARI, "bundled NotoSansDevanagari-Regular")?;
        let devanagari_bold = load(DEVANAGARI_BOLD, "bundled NotoSansDevanagari-Bold")?;
        let mut faces: Vec<Arc<Face>> = Vec::new();
        let mut chains: [Vec<usize>; 4] = Default::default();
        for style in Style::ALL {
            let bold = matches!(style, Style::Bold | Style::BoldItalic);
            let mut chain: Vec<Arc<Face>> = user.iter().map(|f| f[style.index()].clone()).collect();
            chain.push(noto[style.index()].clone());
            chain.push(if bold { &arabic_bold } else { &arabic }.clone());
            chain.push(if bold { &devanagari_bold } else { &devanagari }.clone());
            for face in chain {
                let id = match faces.iter().position(|f| Arc::ptr_eq(f, &face)) {
                    Some(id) => id,
                    None => {
                        faces.push(face);
                        faces.len() - 1
                    }
                };
                if !chains[style.index()].contains(&id) {
                    chains[style.index()].push(id);
                }
            }
        }
        Ok(Family {
            faces: RwLock::new(faces),
            chains,
            fallback: RwLock::default(),
            hopeless: RwLock::default(),
            system: OnceLock::new(),
            cache: RwLock::default(),
        })
    }

    /// The face numbered `id` (see [`crate::paper::metrics::Part::face`]).
    pub fn face_by_id(&self, id: usize) -> Arc<Face> {
        let faces = self.faces.read().unwrap_or_else(|e| e.into_inner());
        faces[id.min(faces.len() - 1)].clone()
    }

    /// The first face tried for `style`.
    pub fn face(&self, style: Style) -> Arc<Face> {
        self.face_by_id(self.chains[style.index()][0])
    }

    /// The face `c` is drawn with in `style`: `current` if it has it (so punctuation and marks
    /// stay with their word's face), else the first in the chain that has it.
    pub(crate) fn pick(&self, style: Style, c: char, current: Option<usize>) -> Option<usize> {
        let faces = self.faces.read().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = current
            && faces[id].glyph(c).is_some()
        {
            return Some(id);
        }
        let fallback = self.fallback.read().unwrap_or_else(|e| e.into_inner());
        self.chains[style.index()]
            .iter()
            .chain(fallback.iter())
            .copied()
            .find(|id| faces[*id].glyph(c).is_some())
    }
}

/// `--font` or a `fonts` entry: a font file if there is one there, else an installed family.
fn user_font(name: &str, path: &Path) -> Result<Styles> {
    if path.is_file() {
        return from_file(path);
    }
    let looks_like_file = name.contains('/')
        || [".ttf", ".otf", ".ttc", ".otc"]
            .iter()
            .any(|e| name.to_ascii_lowercase().ends_with(e));
    if looks_like_file {
        bail!("the font file {} does not exist", path.display());
    }
    system::family(name)
}

/// A family from a font file. A file named `<Name>-Regular.ttf` brings the styles found
/// beside it (`<Name>-Bold.ttf`, `-Italic`, `-BoldItalic`); a style not there is drawn with
/// the nearest one that is (bold italic with bold, italic with regular).
fn from_file(path: &Path) -> Result<Styles> {
    let read = |path: &Path| -> Result<Arc<Face>> {
        let face = Face::parse(read_font(path)?, 0, &path.display().to_string())?;
        Ok(Arc::new(face))
    };
    let regular = read(path)?;
    let sibling = |style: &str| -> Result<Option<Arc<Face>>> {
        match sibling_path(path, style) {
            Some(other) if other.is_file() => read(&other).map(Some),
            _ => Ok(None),
        }
    };
    let bold = sibling("Bold")?.unwrap_or_else(|| regular.clone());
    let italic = sibling("Italic")?.unwrap_or_else(|| regular.clone());
    let bold_italic = sibling("BoldItalic")?.unwrap_or_else(|| bold.clone());
    Ok([regular, bold, italic, bold_italic])
}

fn sibling_path(path: &Path, style: &str) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let (base, ext) = name.rsplit_once('.')?;
    let family = base.strip_suffix("-Regular")?;
    Some(path.with_file_name(format!("{family}-{style}.{ext}")))
}

impl Family {
    /// Every character the laid-out letter draws that no face has, first occurrence first.
    pub fn missing(&self, laid: &Laid) -> Vec<char> {
        let text: String = laid
            .pages
            .iter()
            .flat_map(|p| &p.runs)
            .map(|r| r.text.as_str())
            .collect();
        self.missing_in(&text)
    }

    /// Every character of `text` that some style can draw with no face of its chain nor any
    /// installed font, first occurrence first. Installed fonts found for the others join the
    /// fallback. Line breaks and tabs are layout, not glyphs.
    pub fn missing_in(&self, text: &str) -> Vec<char> {
        let mut seen = HashSet::new();
        let mut missing = Vec::new();
        for c in text.chars() {
            if c == '\n' || c == '\t' || !seen.insert(c) {
                continue;
            }
            if Style::ALL.iter().any(|s| self.pick(*s, c, None).is_none()) && !self.add_system(c) {
                missing.push(c);
            }
        }
        missing
    }

    /// Looks for an installed face with `c` and adds it to the fallback; whether one was found.
    fn add_system(&self, c: char) -> bool {
        if self.hopeless.read().is_ok_and(|h| h.contains(&c)) {
            return false;
        }
        let fonts = self.system.get_or_init(system::Fonts::load);
        let Some(face) = fonts.face_for(c) else {
            self.hopeless
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(c);
            return false;
        };
        let mut faces = self.faces.write().unwrap_or_else(|e| e.into_inner());
        let id = match faces.iter().position(|f| Arc::ptr_eq(f, &face)) {
            Some(id) => id,
            None => {
                faces.push(face);
                faces.len() - 1
            }
        };
        let mut fallback = self.fallback.write().unwrap_or_else(|e| e.into_inner());
        if !fallback.contains(&id) {
            fallback.push(id);
        }
        true
    }
}

/// `U+4E2D '中'`.
pub fn describe(c: char) -> String {
    if c.is_control() || matches!(c as u32, 0xE000..=0xF8FF) {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

impl Metrics for Family {
    fn advance(&self, style: Style, c: char) -> f32 {
        // Not drawable: the check reports it before anything is written.
        self.pick(style, c, None)
            .and_then(|id| self.face_by_id(id).advance(c))
            .unwrap_or(0.5)
    }

    fn shape(&self, style: Style, rtl: bool, word: &str) -> Arc<Shaped> {
        self.shaped(style, rtl, word, "")
    }

    fn shape_in(&self, style: Style, rtl: bool, word: &str, language: &str) -> Arc<Shaped> {
        self.shaped(style, rtl, word, language)
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
            assert!(f.pick(style, 'ب', None).is_some(), "{style:?} has Arabic");
            assert!(
                f.pick(style, 'क', None).is_some(),
                "{style:?} has Devanagari"
            );
        }
        assert_eq!(f.face(Style::Bold).name, "NotoSans-Bold");
        assert!(f.advance(Style::Regular, 'W') > f.advance(Style::Regular, 'i'));
    }

    #[test]
    fn bundled_latin_faces_carry_no_hinting() {
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
        assert_eq!(describe('\u{E000}'), "U+E000");
    }
}
