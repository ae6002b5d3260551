//! Installed fonts, found with `fontdb` (the system font directories and fontconfig's): a
//! family the user names, and a face for a character the bundled fonts lack (Chinese,
//! Japanese, Thai…). Font collections (`.ttc`, as Debian's Noto CJK) are read by face index.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow};

use crate::paper::face::{Face, read_font};

/// Faces taken, by file and face index (`None`: the file would not parse).
type Taken = HashMap<(PathBuf, u32), Option<Arc<Face>>>;

/// The installed fonts, in the order they are tried for a missing character.
pub struct Fonts {
    /// (file, face index, family) of regular upright faces, Noto first.
    candidates: Vec<(PathBuf, u32, String)>,
    /// Faces taken so far, by file and index.
    read: Mutex<Taken>,
}

fn database() -> fontdb::Database {
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    db
}

/// Where a face of the database lives.
fn location(info: &fontdb::FaceInfo) -> Option<PathBuf> {
    match &info.source {
        fontdb::Source::File(path) => Some(path.clone()),
        _ => None,
    }
}

impl Fonts {
    pub fn load() -> Fonts {
        let db = database();
        let mut candidates: Vec<(u8, PathBuf, u32, String)> = db
            .faces()
            .filter(|f| f.weight == fontdb::Weight::NORMAL && f.style == fontdb::Style::Normal)
            .filter(|f| f.stretch == fontdb::Stretch::Normal && !f.monospaced)
            .filter_map(|f| {
                let family = f.families.first().map(|(n, _)| n.clone())?;
                let rank = if family == "Noto Sans CJK SC" {
                    0
                } else if family.starts_with("Noto Sans") {
                    1
                } else if family.starts_with("Noto") {
                    2
                } else {
                    3
                };
                Some((rank, location(f)?, f.index, family))
            })
            .collect();
        candidates.sort();
        Fonts {
            candidates: candidates
                .into_iter()
                .map(|(_, p, i, f)| (p, i, f))
                .collect(),
            read: Mutex::new(HashMap::new()),
        }
    }

    /// The first installed face that has `c`. Files are read to look and dropped again,
    /// unless a face of theirs is taken.
    pub fn face_for(&self, c: char) -> Option<Arc<Face>> {
        let mut taken = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(face) = taken.values().flatten().find(|f| f.glyph(c).is_some()) {
            return Some(face.clone());
        }
        let mut last: Option<(&PathBuf, Vec<u8>)> = None;
        for (path, index, family) in &self.candidates {
            if last.as_ref().is_none_or(|(p, _)| *p != path) {
                last = std::fs::read(path).ok().map(|b| (path, b));
            }
            let Some((_, bytes)) = &last else { continue };
            let has =
                ttf_parser::Face::parse(bytes, *index).is_ok_and(|f| f.glyph_index(c).is_some());
            if !has {
                continue;
            }
            let face = read_font(path)
                .ok()
                .and_then(|b| Face::parse(b, *index, family).ok())
                .map(Arc::new);
            taken.insert((path.clone(), *index), face.clone());
            if face.is_some() {
                return face;
            }
        }
        None
    }
}

/// The four styles of the installed family `name` (a style it lacks repeats the nearest).
pub fn family(name: &str) -> Result<[Arc<Face>; 4]> {
    let db = database();
    let find = |weight, style| {
        db.query(&fontdb::Query {
            families: &[fontdb::Family::Name(name)],
            weight,
            style,
            ..Default::default()
        })
        .and_then(|id| db.face(id))
        .filter(|f| f.families.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
    };
    let load = |info: &fontdb::FaceInfo| -> Result<Arc<Face>> {
        let path = location(info).ok_or_else(|| anyhow!("the font {name} is not in a file"))?;
        Ok(Arc::new(Face::parse(read_font(&path)?, info.index, name)?))
    };
    let regular = find(fontdb::Weight::NORMAL, fontdb::Style::Normal).ok_or_else(|| {
        anyhow!("no font file or installed font family is named `{name}` (see `fc-list : family`)")
    })?;
    let regular_face = load(regular)?;
    let other = |weight, style| -> Result<Arc<Face>> {
        match find(weight, style) {
            Some(info) if info.id != regular.id => load(info),
            _ => Ok(regular_face.clone()),
        }
    };
    let bold = other(fontdb::Weight::BOLD, fontdb::Style::Normal)?;
    let italic = other(fontdb::Weight::NORMAL, fontdb::Style::Italic)?;
    let bold_italic = match find(fontdb::Weight::BOLD, fontdb::Style::Italic) {
        Some(info) if info.id != regular.id && info.style == fontdb::Style::Italic => load(info)?,
        _ => bold.clone(),
    };
    Ok([regular_face, bold, italic, bold_italic])
}
