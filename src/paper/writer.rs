//! Positioned pages → PDF bytes, with printpdf. The only module that knows the PDF writer.
//!
//! Fonts are subset once per batch (every character of every letter, per style) and the
//! compressed font programs are reused by every document, so a letter costs its content
//! streams and not a font subsetting and deflate of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use lopdf::{Object, StringFormat};
use printpdf::{
    FontId, Line, LinePoint, Op, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, RawImage, Rect, TextItem, TextMatrix, XObject, XObjectId,
    XObjectTransform,
};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::paper::fonts::{Face, Family, describe};
use crate::paper::metrics::Style;
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

/// A subset font ready to embed: parsed for printpdf, and its program deflated once.
struct Embedded {
    id: FontId,
    font: ParsedFont,
    compressed: Vec<u8>,
}

/// Writes PDFs for one batch of letters.
pub struct Writer {
    fonts: Vec<(Style, Embedded)>,
    /// The style whose font draws each style: with one `--font` file, all four share one.
    canonical: [Style; 4],
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
    /// Subsets the family to the characters `docs` use. Every character must have a glyph
    /// (see [`Family::missing`]).
    pub fn prepare<'a>(
        family: &Family,
        docs: impl IntoIterator<Item = &'a Laid>,
        signature: Option<&Path>,
    ) -> Result<Writer> {
        let canonical = canonical_styles(family);
        let docs: Vec<&Laid> = docs.into_iter().collect();
        let mut fonts = Vec::new();
        for (style, chars) in chars_used(&docs, &canonical) {
            fonts.push((style, embed(family.face(style), style, chars)?));
        }
        let signature = signature.map(read_signature).transpose()?;
        Ok(Writer {
            fonts,
            canonical,
            signature,
        })
    }

    fn font(&self, style: Style) -> Option<&Embedded> {
        let style = self.canonical[style.index()];
        self.fonts.iter().find(|(s, _)| *s == style).map(|(_, e)| e)
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
        for (_, e) in &self.fonts {
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
        let mut current: Option<(Style, f32)> = None;
        for run in runs {
            let Some(font) = self.font(run.style) else {
                return Err(anyhow!("no font prepared for {:?} text", run.style));
            };
            if current != Some((run.style, run.size)) {
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(font.id.clone()),
                    size: Pt(run.size),
                });
                current = Some((run.style, run.size));
            }
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(run.x), Pt(h - run.y)),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(run.text.clone())],
            });
        }
        ops.push(Op::EndTextSection);
        Ok(())
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
                    .iter()
                    .map(|(_, e)| e)
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

/// For each style, the style whose face draws it: the first that shares its face, so a
/// family of one file embeds one font.
fn canonical_styles(family: &Family) -> [Style; 4] {
    Style::ALL.map(|s| {
        Style::ALL
            .into_iter()
            .find(|c| std::ptr::eq(family.face(*c), family.face(s)))
            .unwrap_or(s)
    })
}

/// Which characters each (canonical) style draws, gathered in parallel: a chunk of a batch
/// holds hundreds of letters, and this pass over every character would otherwise be the
/// serial part of writing them.
fn chars_used(docs: &[&Laid], canonical: &[Style; 4]) -> BTreeMap<Style, BTreeSet<char>> {
    docs.par_iter()
        .map(|laid| {
            let mut used: BTreeMap<Style, BTreeSet<char>> = BTreeMap::new();
            for run in laid.pages.iter().flat_map(|p| &p.runs) {
                used.entry(canonical[run.style.index()])
                    .or_default()
                    .extend(run.text.chars());
            }
            used
        })
        .reduce(BTreeMap::new, |mut a, b| {
            for (style, chars) in b {
                a.entry(style).or_default().extend(chars);
            }
            a
        })
}

/// The face subset to `chars`, named with a tag from its content, its program deflated once.
fn embed(face: &Face, style: Style, chars: BTreeSet<char>) -> Result<Embedded> {
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut map = BTreeMap::new();
    for c in chars {
        let gid = face
            .glyph(c)
            .ok_or_else(|| anyhow!("the font has no glyph for {}", describe(c)))?;
        map.insert(u32::from(c), remapper.remap(gid));
    }
    let program = subsetter::subset(face.bytes.as_slice(), 0, &remapper)
        .map_err(|e| anyhow!("cannot subset the font {}: {e}", face.name))?;
    let mut warnings = Vec::new();
    let mut font = ParsedFont::from_bytes(&program, 0, &mut warnings)
        .ok_or_else(|| anyhow!("cannot read back the subset of {}", face.name))?;
    // The subset has no cmap: the PDF's ToUnicode map comes from this one.
    font.codepoint_to_glyph = map;
    let digest = Sha256::digest(&program);
    let tag: String = digest[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    font.font_name = Some(format!("{tag}+{}", face.name));
    let compressed = deflate(&program, Compression::best())?;
    Ok(Embedded {
        id: FontId(format!("F{}", style.index() + 1)),
        font,
        compressed,
    })
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
