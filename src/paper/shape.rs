//! Shaping with rustybuzz (HarfBuzz's algorithm in Rust): a word → glyphs, ligatures, marks
//! and kerning, per face of the fallback chain. Words are cached per style and direction, so a
//! template's words are shaped once per batch and Latin or Cyrillic text stays cheap.

use std::sync::Arc;

use crate::paper::fonts::Family;
use crate::paper::metrics::{Glyph, Part, Shaped, Style};

impl Family {
    /// `word` shaped in `style`, right to left if `rtl`, as text of `language` (a BCP 47 tag,
    /// "" for none: a font's local forms follow it, as HarfBuzz's buffer language does); from
    /// the cache when it was before.
    pub(crate) fn shaped(
        &self,
        style: Style,
        rtl: bool,
        word: &str,
        language: &str,
    ) -> Arc<Shaped> {
        let slot = |cache: &crate::paper::fonts::Cache| {
            cache.get(language)?[style.index()][usize::from(rtl)]
                .get(word)
                .cloned()
        };
        if let Some(hit) = self.cache.read().ok().and_then(|c| slot(&c)) {
            return hit;
        }
        let shaped = Arc::new(self.shape_now(style, rtl, word, language));
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.entry(language.to_string()).or_default()[style.index()][usize::from(rtl)]
            .entry(word.to_string())
            .or_insert(shaped)
            .clone()
    }

    fn shape_now(&self, style: Style, rtl: bool, word: &str, language: &str) -> Shaped {
        // Stretches of one face, in logical order.
        let mut stretches: Vec<(usize, usize, usize)> = Vec::new();
        let mut current = None;
        for (at, c) in word.char_indices() {
            let face = self
                .pick(style, c, current)
                .unwrap_or(self.chains[style.index()][0]);
            match stretches.last_mut() {
                Some((f, _, end)) if *f == face => *end = at + c.len_utf8(),
                _ => stretches.push((face, at, at + c.len_utf8())),
            }
            current = Some(face);
        }
        let mut parts: Vec<Part> = stretches
            .into_iter()
            .map(|(face, start, end)| self.shape_part(face, rtl, &word[start..end], language))
            .collect();
        if rtl {
            parts.reverse();
        }
        Shaped {
            width: parts
                .iter()
                .flat_map(|p| &p.glyphs)
                .map(|g| g.advance)
                .sum(),
            parts,
        }
    }

    fn shape_part(&self, id: usize, rtl: bool, text: &str, language: &str) -> Part {
        let face = self.face_by_id(id);
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        if let Ok(language) = language.parse::<rustybuzz::Language>() {
            buffer.set_language(language);
        }
        buffer.set_direction(if rtl {
            rustybuzz::Direction::RightToLeft
        } else {
            rustybuzz::Direction::LeftToRight
        });
        buffer.guess_segment_properties();
        let out = rustybuzz::shape(&face.shaper, &[], buffer);
        let em = face.units_per_em;
        let mut glyphs: Vec<Glyph> = out
            .glyph_infos()
            .iter()
            .zip(out.glyph_positions())
            .map(|(info, pos)| Glyph {
                id: u16::try_from(info.glyph_id).unwrap_or(0),
                advance: pos.x_advance as f32 / em,
                dx: pos.x_offset as f32 / em,
                dy: pos.y_offset as f32 / em,
                text: String::new(),
            })
            .collect();
        let clusters: Vec<usize> = out
            .glyph_infos()
            .iter()
            .map(|g| g.cluster as usize)
            .collect();
        let logical: Vec<usize> = if rtl {
            (0..glyphs.len()).rev().collect()
        } else {
            (0..glyphs.len()).collect()
        };
        give_texts(&mut glyphs, &clusters, &logical, text, rtl);
        // Right-to-left glyphs stand for their clusters through ToUnicode alone: readers put
        // them in logical order themselves, and would reverse an /ActualText again.
        let in_order = logical.windows(2).all(|w| clusters[w[0]] <= clusters[w[1]]);
        let simple = rtl
            || (in_order
                && glyphs.iter().all(|g| g.text.chars().count() == 1)
                && glyphs.len() == text.chars().count());
        Part {
            face: id,
            text: text.to_string(),
            glyphs,
            simple,
        }
    }
}

/// Gives each glyph the text it stands for (see [`Glyph::text`]). `clusters` are the shaper's
/// cluster starts (byte offsets into `text`) and `logical` the glyphs in reading order.
fn give_texts(glyphs: &mut [Glyph], clusters: &[usize], logical: &[usize], text: &str, rtl: bool) {
    let mut starts = clusters.to_vec();
    starts.sort_unstable();
    starts.dedup();
    for (n, start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(text.len());
        let cluster = text.get(*start..end).unwrap_or("");
        let members: Vec<usize> = logical
            .iter()
            .copied()
            .filter(|i| clusters[*i] == *start)
            .collect();
        if rtl {
            // A letter and its marks (harakat), a glyph each as far as they go, the last
            // glyph taking the rest (a lam-alef ligature: both letters). Text extraction
            // puts right-to-left words in logical order by reversing their characters
            // (poppler does), so a glyph's own characters go reversed.
            let chars: Vec<char> = cluster.chars().collect();
            for (k, i) in members.iter().enumerate() {
                let mine = if k + 1 == members.len() {
                    chars.get(k..).unwrap_or_default()
                } else {
                    chars.get(k..=k).unwrap_or_default()
                };
                glyphs[*i].text = mine.iter().rev().collect();
            }
        } else if let Some(first) = members.first() {
            // A ligature or a conjunct: the first glyph stands for the cluster.
            glyphs[*first].text = cluster.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_joins_and_runs_right_to_left() {
        let f = Family::bundled().expect("fonts");
        let word = "سلام";
        let s = f.shaped(Style::Regular, true, word, "");
        assert_eq!(s.parts.len(), 1);
        let part = &s.parts[0];
        assert_eq!(part.text, word);
        // Joined forms are not the isolated forms the character map gives.
        let face = f.face_by_id(part.face);
        let isolated: Vec<u16> = word.chars().rev().filter_map(|c| face.glyph(c)).collect();
        let ids: Vec<u16> = part.glyphs.iter().map(|g| g.id).collect();
        assert_ne!(ids, isolated);
        // Visual order: the last letter's glyph comes first.
        assert_eq!(part.glyphs[0].text, "م");
        // Lam and alef make one glyph, whose text goes reversed (see `shape_part`).
        assert!(
            part.glyphs.iter().any(|g| g.text == "ال"),
            "{:?}",
            part.glyphs
        );
        assert!(part.simple, "one glyph for each cluster, in reverse order");
    }

    #[test]
    fn latin_is_simple_and_cached() {
        let f = Family::bundled().expect("fonts");
        let a = f.shaped(Style::Regular, false, "Tavern", "");
        let b = f.shaped(Style::Regular, false, "Tavern", "");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(a.parts.iter().all(|p| p.simple));
        let plain: f32 = "Tavern".chars().map(|c| f.advance_of(c)).sum();
        assert!(a.width < plain, "kerned: {} < {plain}", a.width);
    }

    #[test]
    fn words_of_two_scripts_take_two_faces() {
        let f = Family::bundled().expect("fonts");
        let s = f.shaped(Style::Regular, false, "abcनमस्ते", "");
        assert_eq!(s.parts.len(), 2);
        assert_ne!(s.parts[0].face, s.parts[1].face);
        assert!(!s.parts[1].simple, "the conjunct needs /ActualText");
    }

    #[test]
    fn stacked_marks_are_placed_by_the_shaper() {
        let f = Family::bundled().expect("fonts");
        // Vietnamese "ệ" decomposed composes to the font's own glyph…
        let composed = f.shaped(Style::Regular, false, "e\u{323}\u{302}", "");
        assert_eq!(composed.parts[0].glyphs.len(), 1, "{composed:?}");
        // …and marks with no precomposed form are stacked by GPOS: moved up and back.
        let s = f.shaped(Style::Regular, false, "x\u{302}\u{303}", "");
        let g = &s.parts[0].glyphs;
        assert_eq!(g.len(), 3, "{g:?}");
        assert!(g[1].dx != 0.0 && g[2].dy > g[1].dy, "{g:?}");
        assert!(!s.parts[0].simple, "one cluster, three glyphs: /ActualText");
    }

    impl Family {
        fn advance_of(&self, c: char) -> f32 {
            crate::paper::metrics::Metrics::advance(self, Style::Regular, c)
        }
    }
}
