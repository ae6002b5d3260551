//! Positioned pages → PDF bytes, with printpdf. The only module that knows the PDF writer.
//!
//! Text is drawn as the shaper's glyph ids (Identity-H CID fonts), placed with TJ adjustments
//! and text matrices so every advance and mark offset is the shaper's. Text comes back out
//! through a ToUnicode map from each glyph to its characters, and /ActualText around words
//! whose glyphs do not stand one for one, in order, for their characters (ligatures,
//! conjuncts, right-to-left words).
//!
//! Fonts are subset once per batch (every glyph of every letter, per face) and the
//! compressed font programs and ToUnicode maps are reused by every document, so a letter
//! costs its content streams and not a font subsetting and deflate of its own.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use lopdf::{Object, StringFormat};
use printpdf::{
    Codepoint, DictItem, FontId, Line, LinePoint, Op, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, RawImage, Rect, TextItem, TextMatrix,
    XObject, XObjectId, XObjectTransform,
};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::paper::fonts::{Face, Family};
use crate::paper::metrics::Part;
use crate::paper::page::{Laid, Page, Place, Rule, Run};

/// Document metadata.
pub struct Meta<'a> {
    pub title: &'a str,
    pub author: &'a str,
    pub subject: &'a str,
    pub language: &'a str,
    /// Creation date, seconds since the epoch (`APPEAL_NOW` in tests).
    pub created: i64,
}

/// A subset face ready to embed: parsed for printpdf, its program and ToUnicode map deflated
/// once, and the subset's glyph ids with their widths as the PDF's /W array gives them.
struct Embedded {
    id: FontId,
    font: ParsedFont,
    compressed: Vec<u8>,
    to_unicode: Vec<u8>,
    /// Glyph id in the face → (glyph id in the subset, /W width in thousandths of an em).
    glyphs: HashMap<u16, (u16, f32)>,
}

/// Writes PDFs for one batch of letters.
pub struct Writer {
    /// By face number (see [`Part::face`]).
    fonts: BTreeMap<usize, Embedded>,
    signature: Option<RawImage>,
}

fn deflate(bytes: &[u8], level: Compression) -> Result<Vec<u8>> {
    let mut z = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 2), level);
    z.write_all(bytes)?;
    Ok(z.finish()?)
}

thread_local! {
    /// One deflate state per thread, reset between streams: setting one up costs more than
    /// compressing a letter's content stream.
    static FAST: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(Compression::new(FAST_LEVEL), true));
}

/// Level for per-letter streams (page content, ToUnicode): small text compresses well fast.
const FAST_LEVEL: u32 = 2;

fn deflate_fast(bytes: &[u8]) -> Result<Vec<u8>> {
    FAST.with(|z| {
        let mut z = z.borrow_mut();
        z.reset();
        let mut out = Vec::with_capacity(bytes.len() / 2 + 64);
        loop {
            let done = z.total_in() as usize;
            let status = z.compress_vec(&bytes[done..], &mut out, flate2::FlushCompress::Finish)?;
            if status == flate2::Status::StreamEnd {
                return Ok(out);
            }
            out.reserve(out.capacity().max(256));
        }
    })
}

impl Writer {
    /// Subsets each face to the glyphs `docs` use. Every character must have a glyph (see
    /// [`Family::missing`]).
    pub fn prepare<'a>(
        family: &Family,
        docs: impl IntoIterator<Item = &'a Laid>,
        signature: Option<&Path>,
    ) -> Result<Writer> {
        let docs: Vec<&Laid> = docs.into_iter().collect();
        let mut fonts = BTreeMap::new();
        for (face, glyphs) in glyphs_used(&docs) {
            fonts.insert(face, embed(&family.face_by_id(face), face, glyphs)?);
        }
        let signature = signature.map(read_signature).transpose()?;
        Ok(Writer { fonts, signature })
    }

    /// One document from laid-out pages.
    pub fn write(&self, laid: &Laid, meta: &Meta) -> Result<Vec<u8>> {
        let mut doc = PdfDocument::new(meta.title);
        set_info(&mut doc, meta)?;
        self.add_resources(&mut doc);
        doc.pages = laid
            .pages
            .iter()
            .map(|page| self.page(page, laid.width, laid.height))
            .collect::<Result<_>>()?;
        self.save(doc, meta)
    }

    /// The fonts and the signature image, which every page may draw.
    fn add_resources(&self, doc: &mut PdfDocument) {
        for e in self.fonts.values() {
            doc.resources
                .fonts
                .map
                .insert(e.id.clone(), PdfFont::new(e.font.clone()));
        }
        if let Some(img) = &self.signature {
            doc.resources
                .xobjects
                .map
                .insert(signature_id(), XObject::Image(img.clone()));
        }
    }

    /// One page `width` × `h` points: its rules, then the signature, then its text.
    fn page(&self, page: &Page, width: f32, h: f32) -> Result<PdfPage> {
        let mut ops = Vec::with_capacity(page.runs.len() * 3 + page.rules.len() * 2 + 4);
        for rule in &page.rules {
            rule_ops(&mut ops, rule, h);
        }
        if let (Some(place), Some(img)) = (page.signature, &self.signature) {
            ops.push(signature_op(place, img, h));
        }
        self.text_ops(&mut ops, &page.runs, h)?;
        Ok(PdfPage {
            media_box: Rect::from_wh(Pt(width), Pt(h)),
            trim_box: Rect::from_wh(Pt(width), Pt(h)),
            crop_box: Rect::from_wh(Pt(width), Pt(h)),
            ops,
        })
    }

    /// The page's runs in one text section, setting the font only when it changes.
    fn text_ops(&self, ops: &mut Vec<Op>, runs: &[Run], h: f32) -> Result<()> {
        ops.push(Op::StartTextSection);
        let mut current: Option<(usize, f32)> = None;
        for run in runs {
            let mut pen = run.x;
            for part in run.words.iter().flat_map(|w| &w.parts) {
                let advance: f32 = part.glyphs.iter().map(|g| g.advance).sum::<f32>() * run.size;
                if part.text.chars().all(char::is_whitespace) {
                    pen += advance;
                    continue;
                }
                let font = self
                    .fonts
                    .get(&part.face)
                    .ok_or_else(|| anyhow!("no font prepared for {:?}", part.text))?;
                if current != Some((part.face, run.size)) {
                    ops.push(Op::SetFont {
                        font: PdfFontHandle::External(font.id.clone()),
                        size: Pt(run.size),
                    });
                    current = Some((part.face, run.size));
                }
                if !part.simple {
                    ops.push(actual_text(&part.text));
                }
                glyph_ops(ops, font, part, pen, h - run.y, run.size);
                if !part.simple {
                    ops.push(Op::EndMarkedContent);
                }
                pen += advance;
            }
        }
        ops.push(Op::EndTextSection);
        Ok(())
    }

    /// Puts the batch's ToUnicode maps in place of the ones printpdf writes (which know
    /// nothing of the glyphs' text).
    fn swap_to_unicode(&self, lo: &mut lopdf::Document) {
        let mut swaps = Vec::new();
        for obj in lo.objects.values() {
            let Object::Dictionary(d) = obj else { continue };
            if d.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Type0".as_slice()) {
                continue;
            }
            let Ok(name) = d.get(b"BaseFont").and_then(Object::as_name) else {
                continue;
            };
            let Some(e) = self
                .fonts
                .values()
                .find(|e| e.font.font_name.as_deref().map(str::as_bytes) == Some(name))
            else {
                continue;
            };
            if let Ok(r) = d.get(b"ToUnicode").and_then(Object::as_reference) {
                swaps.push((r, e.to_unicode.clone()));
            }
        }
        for (r, bytes) in swaps {
            if let Ok(Object::Stream(stream)) = lo.get_object_mut(r) {
                stream
                    .dict
                    .set("Filter", Object::Name(b"FlateDecode".to_vec()));
                stream.set_content(bytes);
            }
        }
    }

    /// The document as bytes: printpdf's objects, finished by [`Writer::finish`].
    fn save(&self, doc: PdfDocument, meta: &Meta) -> Result<Vec<u8>> {
        let opts = PdfSaveOptions {
            optimize: false,
            subset_fonts: false,
            ..Default::default()
        };
        let mut warnings = Vec::new();
        let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
        self.finish(&mut lo, meta)?;
        let mut out = Vec::with_capacity(32 * 1024);
        lo.save_to(&mut out).context("cannot serialise the PDF")?;
        Ok(out)
    }

    /// Swaps in the pre-compressed font programs, compresses the rest, sets the language and
    /// a document id derived from the content (so equal input gives equal bytes).
    fn finish(&self, lo: &mut lopdf::Document, meta: &Meta) -> Result<()> {
        self.swap_to_unicode(lo);
        let mut hasher = Sha256::new();
        for obj in lo.objects.values_mut() {
            let Object::Stream(stream) = obj else {
                continue;
            };
            if stream.dict.get(b"Filter").is_ok() {
                continue;
            }
            let embedded = stream.dict.get(b"Length1").ok().and_then(|_| {
                self.fonts
                    .values()
                    .find(|e| e.font.original_bytes == stream.content)
            });
            let compressed = match embedded {
                Some(e) => e.compressed.clone(),
                None => {
                    // Deflate is deterministic: hashing its (smaller) output is as stable
                    // and costs a third of hashing the input.
                    let z = deflate_fast(&stream.content)?;
                    hasher.update(&z);
                    z
                }
            };
            stream
                .dict
                .set("Filter", Object::Name(b"FlateDecode".to_vec()));
            stream.set_content(compressed);
        }
        hasher.update(meta.title.as_bytes());
        hasher.update(meta.subject.as_bytes());
        let id = Object::String(hasher.finalize()[..16].to_vec(), StringFormat::Hexadecimal);
        lo.trailer.set("ID", Object::Array(vec![id.clone(), id]));
        let root = lo
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|e| anyhow!("PDF without a catalog: {e}"))?;
        if let Ok(Object::Dictionary(catalog)) = lo.get_object_mut(root) {
            catalog.set(
                "Lang",
                Object::String(meta.language.as_bytes().to_vec(), StringFormat::Literal),
            );
        }
        Ok(())
    }
}

/// Which glyphs each face draws, with the text of each, gathered in parallel: a chunk of a
/// batch holds hundreds of letters, and this pass over every glyph would otherwise be the
/// serial part of writing them.
fn glyphs_used(docs: &[&Laid]) -> BTreeMap<usize, BTreeMap<u16, String>> {
    let merge = |mut a: BTreeMap<usize, BTreeMap<u16, String>>, part: &Part| {
        let glyphs = a.entry(part.face).or_default();
        for g in &part.glyphs {
            // A glyph that stands alone for its character maps to it; one of a ligature or
            // conjunct maps to its cluster only if nothing better is known (its part carries
            // /ActualText anyway).
            let text = glyphs.entry(g.id).or_default();
            if text.is_empty() || (part.simple && !g.text.is_empty()) {
                text.clone_from(&g.text);
            }
        }
        a
    };
    docs.par_iter()
        .map(|laid| {
            let parts = laid
                .pages
                .iter()
                .flat_map(|p| &p.runs)
                .flat_map(|r| &r.words)
                .flat_map(|w| &w.parts)
                .filter(|p| !p.text.chars().all(char::is_whitespace));
            parts.fold(BTreeMap::new(), merge)
        })
        .reduce(BTreeMap::new, |mut a, b| {
            for (face, glyphs) in b {
                let into = a.entry(face).or_default();
                for (id, text) in glyphs {
                    let t = into.entry(id).or_default();
                    if t.is_empty() || text.chars().count() < t.chars().count() {
                        *t = text;
                    }
                }
            }
            a
        })
}

/// The face subset to `glyphs`, named with a tag from its content, its program and ToUnicode
/// map deflated once.
fn embed(face: &Face, number: usize, glyphs: BTreeMap<u16, String>) -> Result<Embedded> {
    let mut remapper = subsetter::GlyphRemapper::new();
    let new_ids: Vec<(u16, u16)> = glyphs.keys().map(|g| (*g, remapper.remap(*g))).collect();
    let program = subsetter::subset(face.bytes, face.index, &remapper)
        .map_err(|e| anyhow!("cannot subset the font {}: {e}", face.name))?;
    let mut warnings = Vec::new();
    let mut font = ParsedFont::from_bytes(&program, 0, &mut warnings)
        .ok_or_else(|| anyhow!("cannot read back the subset of {}", face.name))?;
    let digest = Sha256::digest(&program);
    let tag: String = digest[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    font.font_name = Some(format!("{tag}+{}", face.name));
    // printpdf writes /W from the subset's advances, truncated to thousandths of an em.
    let em = f32::from(font.pdf_font_metrics.units_per_em.max(1));
    let width = |id: u16| {
        let w = f32::from(font.get_glyph_width(id).unwrap_or(0));
        (w * 1000.0 / em) as i64 as f32
    };
    let map: HashMap<u16, (u16, f32)> = new_ids
        .iter()
        .map(|(old, new)| (*old, (*new, width(*new))))
        .collect();
    let cmap = to_unicode(
        new_ids
            .iter()
            .map(|(old, new)| (*new, glyphs[old].as_str())),
    );
    Ok(Embedded {
        id: FontId(format!("F{}", number + 1)),
        compressed: deflate(&program, Compression::best())?,
        to_unicode: deflate(cmap.as_bytes(), Compression::best())?,
        glyphs: map,
        font,
    })
}

/// Draws a part's glyphs from `pen` on the baseline `y` (PDF coordinates): runs of glyphs in
/// one TJ whose adjustments take the pen where the shaper puts each glyph; a glyph raised or
/// lowered by the shaper (a stacked mark) gets a text matrix of its own.
fn glyph_ops(ops: &mut Vec<Op>, font: &Embedded, part: &Part, pen: f32, y: f32, size: f32) {
    fn flush(ops: &mut Vec<Op>, items: &mut Vec<Codepoint>) {
        if !items.is_empty() {
            let glyphs = std::mem::take(items);
            ops.push(Op::ShowText {
                items: vec![TextItem::GlyphIds(glyphs)],
            });
        }
    }
    // Thousandths of an em from the part's start, kept to a thousandth of that: TJ numbers'
    // unit, and no float noise to write as adjustments.
    let units = |em: f32| (em * 1_000_000.0).round() / 1000.0;
    let mut items: Vec<Codepoint> = Vec::with_capacity(part.glyphs.len());
    // The shaper's pen, and where the PDF's stands after the last glyph shown.
    let (mut shaper, mut at) = (0.0f32, 0.0f32);
    for g in &part.glyphs {
        let (id, width) = font.glyphs.get(&g.id).copied().unwrap_or((0, 0.0));
        let x = shaper + units(g.dx);
        match items.last_mut() {
            Some(last) if g.dy == 0.0 => {
                let kern = at - x;
                if kern.abs() >= 0.001 {
                    last.offset += kern;
                }
            }
            _ => {
                flush(ops, &mut items);
                ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::Translate(Pt(pen + x * size / 1000.0), Pt(y + g.dy * size)),
                });
            }
        }
        items.push(Codepoint::new(id, 0.0));
        at = x + width;
        if g.dy != 0.0 {
            flush(ops, &mut items);
        }
        shaper += units(g.advance);
    }
    flush(ops, &mut items);
}

/// `/Span << /ActualText (text) >> BDC`: what a reader copies for the glyphs up to the EMC.
fn actual_text(text: &str) -> Op {
    let mut data = vec![0xFE, 0xFF];
    data.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    let mut map = BTreeMap::new();
    map.insert(
        "ActualText".to_string(),
        DictItem::String {
            data,
            literal: false,
        },
    );
    Op::BeginMarkedContentWithProperties {
        tag: "Span".to_string(),
        properties: DictItem::Dict { map },
    }
}

/// A ToUnicode CMap from subset glyph ids to their text (several characters for a ligature).
fn to_unicode<'a>(glyphs: impl Iterator<Item = (u16, &'a str)>) -> String {
    let entries: Vec<String> = glyphs
        .filter(|(_, text)| !text.is_empty())
        .map(|(id, text)| {
            let hex: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
            format!("<{id:04X}> <{hex}>")
        })
        .collect();
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for block in entries.chunks(100) {
        out.push_str(&format!("{} beginbfchar\n", block.len()));
        for line in block {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CIDResource defineresource pop\nend\nend\n");
    out
}

/// The signature image, decoded once for the batch.
fn read_signature(path: &Path) -> Result<RawImage> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the signature {}", path.display()))?;
    let mut warnings = Vec::new();
    RawImage::decode_from_bytes(&bytes, &mut warnings)
        .map_err(|e| anyhow!("cannot read the signature {}: {e}", path.display()))
}

/// The document information besides the title: author, subject, producer, dates.
fn set_info(doc: &mut PdfDocument, meta: &Meta) -> Result<()> {
    let date = printpdf::OffsetDateTime::from_unix_timestamp(meta.created)
        .map_err(|e| anyhow!("bad creation date: {e}"))?;
    let info = &mut doc.metadata.info;
    info.author = meta.author.to_string();
    info.subject = meta.subject.to_string();
    info.creator = "appeal".to_string();
    info.producer = format!("appeal {} (printpdf)", env!("CARGO_PKG_VERSION"));
    info.creation_date = date;
    info.modification_date = date;
    info.metadata_date = date;
    Ok(())
}

/// The name pages draw the signature image by.
fn signature_id() -> XObjectId {
    XObjectId("Signature".to_string())
}

/// A straight line, `h` being the page's height (PDF measures from the bottom).
fn rule_ops(ops: &mut Vec<Op>, rule: &Rule, h: f32) {
    let point = |x: f32, y: f32| LinePoint {
        p: Point {
            x: Pt(x),
            y: Pt(h - y),
        },
        bezier: false,
    };
    ops.push(Op::SetOutlineThickness {
        pt: Pt(rule.thickness),
    });
    ops.push(Op::DrawLine {
        line: Line {
            points: vec![point(rule.x1, rule.y1), point(rule.x2, rule.y2)],
            is_closed: false,
        },
    });
}

/// The signature image, scaled to fit its box, hanging from the box's top-left corner.
fn signature_op(place: Place, img: &RawImage, h: f32) -> Op {
    let (w, ih) = (img.width.max(1) as f32, img.height.max(1) as f32);
    let scale = (place.width / w).min(place.height / ih);
    Op::UseXobject {
        id: signature_id(),
        transform: XObjectTransform {
            translate_x: Some(Pt(place.x)),
            translate_y: Some(Pt(h - place.y - ih * scale)),
            scale_x: Some(scale),
            scale_y: Some(scale),
            dpi: Some(72.0),
            ..Default::default()
        },
    }
}
