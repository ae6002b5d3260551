//! Letters in other scripts, end to end through `appeal pdf`: Belarusian, Ukrainian, Arabic,
//! Persian, Hindi, Chinese, Vietnamese and Turkish. The PDFs are read back with poppler
//! (pdftotext, -bbox), qpdf, and their content streams with lopdf; shaped advances are
//! checked against HarfBuzz's own `hb-shape` (Debian libharfbuzz-bin) for the same font
//! file, and Chinese needs an installed CJK font (Debian fonts-noto-cjk).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use lopdf::{Document, Object};

use crate::common::{self, pdf_tool as tool, run_in};

const ARABIC: &str = "أكتب إليكم بشأن قضية المحامي أحمد سعيد الذي اعتقل في 12 مارس 2024 بسبب عمله في الدفاع عن حقوق الإنسان ونطالب بالإفراج الفوري عنه وإسقاط جميع التهم الموجهة إليه كما تقول منظمة Amnesty International في تقريرها ولا يجوز احتجاز أي شخص بسبب آرائه السلمية";
const PERSIAN: &str = "ما درباره پرونده وکیل مدافع حقوق بشر نسرین ستوده به شما نامه مینویسیم و خواستار آزادی فوری و بی قید و شرط او هستیم زیرا هیچ کس نباید به خاطر دفاع از حقوق دیگران زندانی شود";
const HINDI: &str = "मैं आपको अधिवक्ता राहुल शर्मा के मामले के बारे में लिख रहा हूँ जिन्हें मानवाधिकारों की रक्षा के लिए गिरफ्तार किया गया और हम उनकी तत्काल रिहाई की माँग करते हैं क्योंकि शांतिपूर्ण अभिव्यक्ति अपराध नहीं है";
const CHINESE: &str = "我们写信是关于律师王先生的案件。他因为从事人权工作而被拘留，我们要求立即无条件释放他，并撤销对他的所有指控。根据国际人权法，任何人都不应因和平表达意见而被拘留。我们恳请您审查此案，确保他得到公正的审判，并允许他的家人和律师探视。我们将继续关注此案的进展，并期待您的答复。";
const LETTERS: [(&str, &str); 8] = [
    (
        "be",
        "Мы пішам вам наконт справы праваабаронцы Алеся Бяляцкага і просім неадкладна вызваліць яго.",
    ),
    (
        "uk",
        "Ми пишемо вам щодо справи правозахисника Максима Бутенка та просимо негайно його звільнити.",
    ),
    ("ar", ARABIC),
    ("fa", PERSIAN),
    ("hi", HINDI),
    ("zh", CHINESE),
    (
        "vi",
        "Chúng tôi viết thư này về trường hợp của luật sư Nguyễn Văn Hùng, người đã bị bắt giữ vì công việc bảo vệ nhân quyền.",
    ),
    (
        "tr",
        "İnsan hakları savunucusu Öztürk Yılmaz'ın davası hakkında size yazıyoruz ve derhal serbest bırakılmasını talep ediyoruz.",
    ),
];

/// A campaign with one recipient (`official`) writing `body` in `lang`.
fn campaign(lang: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "recipients.toml",
        &format!(
            "[[recipient]]\nid = \"official\"\nname = \"Name\"\ntitle = \"Office\"\n\
             address = [\"1 Main Street\", \"City\"]\nlanguage = \"{lang}\"\n"
        ),
    );
    write(
        "letters/t/campaign.toml",
        &format!(
            "title = \"T\"\nlanguage = \"{lang}\"\n[subject]\n{lang} = \"Subject\"\n\
             [salutation]\n{lang} = \"Hello\"\n[closing]\n{lang} = \"Bye\"\n"
        ),
    );
    write("letters/t/letter.md.hbs", &format!("{body}\n"));
    write("appeal.toml", common::SETTINGS);
    dir
}

/// The letter of [`campaign`] made with `appeal pdf`; the dir and the checked PDF.
fn letter(lang: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = campaign(lang, body);
    run_in(dir.path(), &["pdf", "-q"]).expect_code(0);
    let pdf = dir.path().join("out/t/official.pdf");
    tool("qpdf", &["--check"], &pdf);
    (dir, pdf)
}

/// pdftotext's text with the bidi embedding marks it puts around runs of the other direction
/// taken for the word boundaries they stand at, whitespace made single spaces.
fn text(pdf: &Path) -> String {
    let raw = tool("pdftotext", &[], pdf);
    raw.chars()
        .map(|c| {
            if matches!(c as u32, 0x202A..=0x202E) {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn body_text_comes_back_in_logical_order_in_eight_languages() {
    for (lang, body) in LETTERS {
        let (_dir, pdf) = letter(lang, body);
        let got = text(&pdf);
        if lang == "zh" {
            // Lines break between ideographs: no spaces to keep.
            let squeezed: String = got.split_whitespace().collect();
            assert!(squeezed.contains(body), "{lang}: {got}");
        } else {
            assert!(got.contains(body), "{lang}:\n{got}\nwanted:\n{body}");
        }
    }
}

/// Words with their boxes (points from the top left) on page 1: pdftotext -bbox.
fn boxes(pdf: &Path) -> Vec<(String, [f32; 4])> {
    let html = tool("pdftotext", &["-bbox", "-f", "1", "-l", "1"], pdf);
    html.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("<word ")?;
            let (attrs, word) = rest.split_once('>')?;
            let word = word.strip_suffix("</word>")?;
            let num = |k: &str| -> Option<f32> {
                let start = attrs.find(&format!("{k}=\""))? + k.len() + 2;
                attrs[start..].split('"').next()?.parse().ok()
            };
            Some((
                word.to_string(),
                [num("xMin")?, num("yMin")?, num("xMax")?, num("yMax")?],
            ))
        })
        .collect()
}

#[test]
fn arabic_and_persian_run_right_to_left_flush_right() {
    for (lang, body) in [("ar", ARABIC), ("fa", PERSIAN)] {
        let (_dir, pdf) = letter(lang, body);
        let words = boxes(&pdf);
        // The date line ends at the right margin.
        let right = words.iter().map(|w| w.1[2]).fold(0.0, f32::max);
        // pdftotext -bbox gives right-to-left words in visual order.
        let first: String = body
            .split(' ')
            .next()
            .expect("word")
            .chars()
            .rev()
            .collect();
        let opening = words.iter().find(|w| w.0 == first).expect("first word");
        let body_words: Vec<String> = body.split(' ').map(|w| w.chars().rev().collect()).collect();
        // Lines by their top (Latin words sit a little lower than Arabic ones).
        let mut lines: HashMap<i32, Vec<[f32; 4]>> = HashMap::new();
        for (w, b) in &words {
            let known = body_words.contains(w) || body.contains(w.as_str());
            if known && b[1] >= opening.1[1] - 1.0 {
                let line = lines
                    .keys()
                    .copied()
                    .find(|y| (*y as f32 - b[1]).abs() < 6.0)
                    .unwrap_or(b[1].round() as i32);
                lines.entry(line).or_default().push(*b);
            }
        }
        assert!(lines.len() >= 2, "{lang}: the paragraph wraps: {lines:?}");
        for (y, line) in &lines {
            let end = line.iter().map(|b| b[2]).fold(0.0, f32::max);
            assert!(
                (end - right).abs() < 1.0,
                "{lang}: line at {y} ends at {end}, not {right}"
            );
        }
        // The first word in reading order is the rightmost of its line.
        let same_line = &lines[&(opening.1[1].round() as i32)];
        assert!(
            same_line.iter().all(|b| b[2] <= opening.1[2] + 0.01),
            "{lang}"
        );
        assert!((opening.1[2] - right).abs() < 1.0, "{lang}: {opening:?}");
    }
}

/// In an Arabic or Persian letter the place and date read right to left though the place is
/// a Latin name (the letter's language, not the line's first letter, sets the direction):
/// "London, 14" (one left-to-right run, UAX #9 rule W7) at the right, then the month, the
/// year at the left, the line ending at the right margin. Set left to right, the place
/// would stand at the left and the year at the right.
#[test]
fn a_latin_place_in_a_right_to_left_letter_reads_right_to_left() {
    for (lang, body) in [("ar", ARABIC), ("fa", PERSIAN)] {
        let (_dir, pdf) = letter(lang, body);
        let words = boxes(&pdf);
        // The sender's block and the window's return line name London too; the date line
        // is the one with the year.
        // 14 July 2014 is 23 Tir 1393 in the Solar Hijri calendar of Persian letters.
        let is_year = |w: &str| ["2014", "\u{6f1}\u{6f3}\u{6f9}\u{6f3}"].contains(&w);
        let year = words
            .iter()
            .find(|w| is_year(&w.0))
            .unwrap_or_else(|| panic!("{lang}: no year in {words:?}"));
        let line: Vec<&(String, [f32; 4])> = words
            .iter()
            .filter(|w| (w.1[3] - year.1[3]).abs() < 6.0)
            .collect();
        let x = |pred: &dyn Fn(&str) -> bool| {
            line.iter()
                .find(|w| pred(&w.0))
                .map(|w| w.1)
                .unwrap_or_else(|| panic!("{lang}: the date line {line:?}"))
        };
        let place = x(&|w| w.starts_with("London"));
        let month = x(&|w| w.chars().any(|c| ('\u{600}'..='\u{6ff}').contains(&c)) && !is_year(w));
        let leftmost = line.iter().map(|w| w.1[0]).fold(f32::MAX, f32::min);
        assert_eq!(
            year.1[0], leftmost,
            "{lang}: the year at the left: {line:?}"
        );
        assert!(
            month[0] > year.1[2],
            "{lang}: the month right of the year: {line:?}"
        );
        assert!(
            place[0] > month[2],
            "{lang}: the place right of the month: {line:?}"
        );
        let right = words.iter().map(|w| w.1[2]).fold(0.0, f32::max);
        let end = line.iter().map(|w| w.1[2]).fold(0.0, f32::max);
        assert!((end - right).abs() < 1.0, "{lang}: flush right: {line:?}");
    }
}

#[test]
fn a_long_chinese_paragraph_wraps_inside_the_margins() {
    let long = CHINESE.repeat(3);
    let (_dir, pdf) = letter("zh", &long);
    let words = boxes(&pdf);
    let left = words.iter().map(|w| w.1[0]).fold(f32::MAX, f32::min);
    // The date line is set flush with the right margin.
    let date = words
        .iter()
        .find(|w| w.0.contains("2014"))
        .expect("date year");
    let right = date.1[2];
    let han: Vec<&(String, [f32; 4])> = words
        .iter()
        .filter(|w| w.0.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)))
        .collect();
    let mut ys: Vec<i32> = han.iter().map(|w| w.1[1].round() as i32).collect();
    ys.dedup();
    assert!(ys.len() >= 8, "the paragraph takes many lines: {ys:?}");
    for (w, b) in han {
        assert!(
            b[0] >= left - 0.01 && b[2] <= right + 0.5,
            "{w} at {b:?} outside {left}..{right}"
        );
    }
    let fonts = tool("pdffonts", &[], &pdf);
    assert!(fonts.contains("CJK"), "an installed CJK font: {fonts}");
}

/// Thai words, run together as Thai is written: no spaces between words.
const THAI_WORDS: [&str; 37] = [
    "ข้าพเจ้า",
    "เขียน",
    "จดหมาย",
    "ฉบับ",
    "นี้",
    "ถึง",
    "ท่าน",
    "เกี่ยวกับ",
    "กรณี",
    "ของ",
    "ทนายความ",
    "ที่",
    "ถูก",
    "ควบคุม",
    "ตัว",
    "โดย",
    "ไม่",
    "มี",
    "การ",
    "ตั้ง",
    "ข้อกล่าวหา",
    "เป็น",
    "เวลา",
    "นาน",
    "กว่า",
    "แปด",
    "เดือน",
    "และ",
    "ขอ",
    "ให้",
    "ท่าน",
    "ปล่อย",
    "ตัว",
    "เขา",
    "โดย",
    "ทันที",
    "ครับ",
];

/// A Thai paragraph (no spaces between words, UAX #14 class SA) wraps between words, as a
/// word model finds them, not inside a word between its letters; every line inside the
/// margins, and the text read back whole. Needs an installed Thai font (scripts/test.sh).
#[test]
fn a_thai_paragraph_breaks_between_words() {
    let sentence = THAI_WORDS.concat();
    let body = [sentence.as_str(); 4].join(" ");
    let dir = campaign("th", &format!("{body}\n"));
    let toml = dir.path().join("letters/t/campaign.toml");
    let mut text = std::fs::read_to_string(&toml).expect("campaign.toml");
    text.push_str(
        "[labels.th]\nreference = \"ที่\"\ncopies = \"สำเนาถึง\"\nnotes = \"หมายเหตุ\"\n\
         page = \"หน้า {page}/{pages}\"\nfax = \"โทรสาร\"\nfrom = \"จาก\"\nto = \"ถึง\"\n\
         pages = \"หน้า\"\n",
    );
    std::fs::write(&toml, text).expect("write");
    run_in(dir.path(), &["pdf", "-q"]).expect_code(0);
    let pdf = dir.path().join("out/t/official.pdf");
    tool("qpdf", &["--check"], &pdf);
    // Where a word may end: after each word of the sentence, at any of its repeats.
    let mut ends = std::collections::HashSet::new();
    let mut at = 0;
    for word in THAI_WORDS {
        at += word.chars().count();
        ends.insert(at);
    }
    // The body's lines: all Thai letters (the date has digits, the rest is Latin).
    let lines: Vec<String> = tool("pdftotext", &[], &pdf)
        .lines()
        .map(|l| l.split_whitespace().collect::<String>())
        .filter(|l| !l.is_empty() && l.chars().all(|c| ('\u{e01}'..='\u{e4e}').contains(&c)))
        .collect();
    assert!(lines.len() >= 4, "the paragraph wraps: {lines:?}");
    let joined: String = lines.concat();
    assert_eq!(joined, body.replace(' ', ""), "the text read back whole");
    // Each line ends where a word ends, counted within the sentence it is in.
    let per = sentence.chars().count();
    let mut read = 0;
    for line in &lines[..lines.len() - 1] {
        read += line.chars().count();
        let within = read % per;
        assert!(
            within == 0 || ends.contains(&within),
            "a line ends inside a word: {line:?} ({within} letters into the sentence)"
        );
    }
    let words = boxes(&pdf);
    let right = words.iter().map(|w| w.1[2]).fold(0.0, f32::max);
    for (w, b) in &words {
        assert!(b[2] <= right + 0.5 && b[0] >= 70.0, "{w} at {b:?}");
    }
}

#[test]
fn a_private_use_character_fails_naming_it_and_the_recipient() {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = common::TestCampaign { dir };
    c.write("recipients.toml", common::RECIPIENTS)
        .write("letters/test/campaign.toml", common::CAMPAIGN)
        .write("letters/test/letter.md.hbs", "Free them \u{E000} now.\n")
        .write("letters/test/letter.ru.md.hbs", common::LETTER_RU)
        .write("appeal.toml", common::SETTINGS);
    c.expect_invalid(
        &["pdf"],
        "recipient `president`: the font has no glyph for U+E000",
    );
    assert!(!c.path().join("out").exists(), "no PDF written");
}

/// A glyph drawn on page 1: its font, baseline, origin, /W advance (points), its text, and
/// the /ActualText of the span it is in.
struct Drawn {
    font: String,
    y: f32,
    x: f32,
    width: f32,
    size: f32,
    text: String,
    actual: Option<String>,
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    String::from_utf16_lossy(&units)
        .trim_start_matches('\u{FEFF}')
        .to_string()
}

/// A Type0 font's name, /W widths and ToUnicode map.
fn font_info(
    doc: &Document,
    font: &lopdf::Dictionary,
) -> (String, HashMap<u16, f32>, HashMap<u16, String>) {
    let name = String::from_utf8_lossy(
        font.get(b"BaseFont")
            .and_then(Object::as_name)
            .expect("name"),
    )
    .into_owned();
    let deref = |o: &Object| doc.dereference(o).expect("object").1.clone();
    let descendant = deref(
        &deref(font.get(b"DescendantFonts").expect("descendant"))
            .as_array()
            .expect("array")[0],
    );
    let mut widths = HashMap::new();
    let w = deref(descendant.as_dict().expect("dict").get(b"W").expect("W"));
    let w = w.as_array().expect("W array");
    let mut i = 0;
    while i < w.len() {
        let first = w[i].as_i64().expect("code") as u16;
        if let Ok(list) = w[i + 1].as_array() {
            for (k, v) in list.iter().enumerate() {
                widths.insert(first + k as u16, v.as_float().expect("width"));
            }
            i += 2;
        } else {
            let last = w[i + 1].as_i64().expect("code") as u16;
            for code in first..=last {
                widths.insert(code, w[i + 2].as_float().expect("width"));
            }
            i += 3;
        }
    }
    let cmap = deref(font.get(b"ToUnicode").expect("ToUnicode"));
    let cmap = String::from_utf8_lossy(
        &cmap
            .as_stream()
            .expect("stream")
            .decompressed_content()
            .expect("inflate"),
    )
    .into_owned();
    let mut map = HashMap::new();
    for line in cmap.lines().filter(|l| l.starts_with('<')) {
        let hex: Vec<&str> = line
            .split(['<', '>', ' '])
            .filter(|s| !s.is_empty())
            .collect();
        if let [code, text] = hex[..] {
            let code = u16::from_str_radix(code, 16).expect("code");
            let bytes: Vec<u8> = (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
                .collect();
            map.insert(code, utf16(&bytes));
        }
    }
    (name, widths, map)
}

/// Every glyph page 1 draws, in content-stream order.
fn drawn(pdf: &Path) -> Vec<Drawn> {
    let doc = Document::load(pdf).expect("pdf");
    let page = *doc.get_pages().get(&1).expect("page 1");
    let fonts: HashMap<Vec<u8>, _> = doc
        .get_page_fonts(page)
        .expect("fonts")
        .into_iter()
        .map(|(k, f)| (k, font_info(&doc, f)))
        .collect();
    let content = lopdf::content::Content::decode(&doc.get_page_content(page)).expect("content");
    let (mut font, mut size, mut x, mut y) = (None, 0.0, 0.0, 0.0);
    let mut actual = None;
    let mut out = Vec::new();
    for op in content.operations {
        let num = |i: usize| op.operands[i].as_float().expect("number");
        match op.operator.as_str() {
            "Tf" => {
                font = fonts.get(op.operands[0].as_name().expect("font name"));
                size = num(1);
            }
            "Tm" => (x, y) = (num(4), num(5)),
            "BDC" => {
                actual = op.operands[1]
                    .as_dict()
                    .ok()
                    .and_then(|d| d.get(b"ActualText").ok())
                    .and_then(|t| t.as_str().ok())
                    .map(utf16);
            }
            "EMC" => actual = None,
            "TJ" => {
                let (name, widths, map) = font.expect("a font");
                for item in op.operands[0].as_array().expect("TJ array") {
                    match item {
                        Object::String(bytes, _) => {
                            for code in bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])) {
                                let width =
                                    widths.get(&code).copied().unwrap_or(1000.0) * size / 1000.0;
                                out.push(Drawn {
                                    font: name.clone(),
                                    y,
                                    x,
                                    width,
                                    size,
                                    text: map.get(&code).cloned().unwrap_or_default(),
                                    actual: actual.clone(),
                                });
                                x += width;
                            }
                        }
                        other => x -= other.as_float().expect("adjustment") * size / 1000.0,
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// HarfBuzz's `hb-shape FLAGS FONT WORD` in the C locale: its standard output.
fn run_hb_shape(flags: &[&str], font: &Path, word: &str) -> Vec<u8> {
    let out = Command::new("hb-shape")
        .args(flags)
        .arg(font)
        .arg(word)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("hb-shape (Debian libharfbuzz-bin)");
    assert!(out.status.success(), "hb-shape failed");
    out.stdout
}

/// HarfBuzz's glyph origins and total advance for `word` in `font`, in thousandths of an em.
fn hb_shape(font: &Path, word: &str) -> (Vec<f32>, f32) {
    let out = run_hb_shape(&["--no-glyph-names", "--output-format=json"], font, word);
    let glyphs: Vec<serde_json::Value> = serde_json::from_slice(&out).expect("json");
    let bytes = std::fs::read(font).expect("font");
    let upem = f32::from(
        ttf_parser::Face::parse(&bytes, 0)
            .expect("font")
            .units_per_em(),
    );
    let scale = 1000.0 / upem;
    let (mut pen, mut origins) = (0.0, Vec::new());
    for g in &glyphs {
        let field = |k: &str| g[k].as_f64().expect("number") as f32;
        origins.push((pen + field("dx")) * scale);
        pen += field("ax");
    }
    (origins, pen * scale)
}

/// Splits the glyphs of one font into words: a new word at a new baseline, a new /ActualText
/// span, or a gap of a space between one glyph's end and the next glyph.
fn words_in<'a>(glyphs: &'a [Drawn], font: &str) -> Vec<Vec<&'a Drawn>> {
    let mut words: Vec<Vec<&Drawn>> = Vec::new();
    let mut last: Option<&Drawn> = None;
    for g in glyphs {
        if !g.font.ends_with(font) {
            last = None;
            continue;
        }
        // Glyphs of one /ActualText span are one word, marks and all.
        let joined = last.is_some_and(|l| {
            l.actual == g.actual
                && (l.actual.is_some()
                    || (l.y == g.y && (g.x - (l.x + l.width)).abs() < 0.15 * g.size))
        });
        if !joined {
            words.push(Vec::new());
        }
        words.last_mut().expect("word").push(g);
        last = Some(g);
    }
    words
}

#[test]
fn arabic_persian_and_hindi_words_advance_as_harfbuzz_shapes_them() {
    for (lang, body, font) in [
        ("ar", ARABIC, "NotoSansArabic-Regular"),
        ("fa", PERSIAN, "NotoSansArabic-Regular"),
        ("hi", HINDI, "NotoSansDevanagari-Regular"),
    ] {
        let (_dir, pdf) = letter(lang, body);
        let file = common::repo_root().join(format!("fonts/{font}.ttf"));
        let glyphs = drawn(&pdf);
        let mut checked = 0;
        for word in words_in(&glyphs, font) {
            let text = match &word[0].actual {
                Some(t) => t.clone(),
                // Right-to-left glyphs are drawn in visual order.
                None if lang == "hi" => word.iter().map(|g| g.text.as_str()).collect(),
                None => word
                    .iter()
                    .map(|g| g.text.as_str())
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect(),
            };
            // The date and the tool's own words (CLDR, the labels table) are not the body's.
            if !body.contains(&text) {
                continue;
            }
            let size = word[0].size;
            let start = word[0].x;
            let last = word.last().expect("glyph");
            let (origins, advance) = hb_shape(&file, &text);
            let ours: Vec<f32> = word.iter().map(|g| (g.x - start) * 1000.0 / size).collect();
            assert_eq!(ours.len(), origins.len(), "{lang}: {text}: glyph count");
            for (a, b) in ours.iter().zip(&origins) {
                assert!(
                    (a - (b - origins[0])).abs() < 0.5,
                    "{lang}: {text}: glyph at {a}, HarfBuzz {b}"
                );
            }
            // Marks hang over their base: the word ends where its furthest glyph does.
            let end = word
                .iter()
                .map(|g| g.x + g.width)
                .fold(last.x + last.width, f32::max);
            let width = (end - start) * 1000.0 / size;
            assert!(
                (width - (advance - origins[0])).abs() < 1.0,
                "{lang}: {text}: advance {width}, HarfBuzz {advance}"
            );
            checked += 1;
        }
        assert!(checked >= 20, "{lang}: only {checked} words checked");
    }
}

/// The Simplified Chinese face of Debian's Noto Sans CJK collection, `file#index`.
const CJK: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc#2";

/// HarfBuzz's glyph ids for `word` in `font` (`file#index` for a face of a collection) shaped
/// as text of `language`.
fn hb_glyphs(font: &Path, word: &str, language: &str) -> Vec<u16> {
    let (font, index) = match font.to_str().and_then(|f| f.split_once('#')) {
        Some((file, index)) => (PathBuf::from(file), index.to_string()),
        None => (font.to_path_buf(), "0".to_string()),
    };
    let flags = [
        "--no-glyph-names",
        "--no-positions",
        "--no-clusters",
        &format!("--face-index={index}"),
        &format!("--language={language}"),
    ];
    String::from_utf8(run_hb_shape(&flags, &font, word))
        .expect("utf8")
        .trim()
        .trim_matches(['[', ']'])
        .split('|')
        .map(|g| g.parse().expect("a glyph id"))
        .collect()
}

/// A letter's words are shaped as its language, as HarfBuzz with the buffer's language set
/// would: the fonts' local forms of Serbian italics, Marathi and Nepali letters, and the
/// Japanese forms of ideographs from the installed Chinese (SC) face of Noto Sans CJK, the
/// one the font chain finds (Debian fonts-noto-cjk: face 2 of its collection).
#[test]
fn words_take_the_local_forms_of_the_letters_language() {
    use appeal::paper::metrics::{Directed, Metrics, Style};
    let family = appeal::paper::fonts::Family::bundled().expect("the bundled fonts");
    let cases = [
        ("sr", "NotoSans-Italic", Style::Italic, "будући"),
        ("ru", "NotoSans-Italic", Style::Italic, "будущий"),
        ("mr", "NotoSansDevanagari-Regular", Style::Regular, "लढा"),
        ("ne", "NotoSansDevanagari-Regular", Style::Regular, "झण्डा"),
        ("hi", "NotoSansDevanagari-Regular", Style::Regular, "लढा"),
        ("ja", CJK, Style::Regular, "直骨"),
        ("zh", CJK, Style::Regular, "直骨"),
    ];
    for (language, font, style, word) in cases {
        let file = if font.starts_with('/') {
            PathBuf::from(font)
        } else {
            common::repo_root().join(format!("fonts/{font}.ttf"))
        };
        // As the tool does before laying a letter out: installed fonts join for characters
        // the bundled ones lack.
        assert!(family.missing_in(word).is_empty(), "{word}");
        let m = Directed {
            metrics: &family,
            rtl: false,
            language,
        };
        let ours: Vec<u16> = m
            .shape(style, false, word)
            .parts
            .iter()
            .flat_map(|p| p.glyphs.iter().map(|g| g.id))
            .collect();
        let theirs = hb_glyphs(&file, word, language);
        assert_eq!(ours, theirs, "{language} {word}");
        // Serbian, Marathi, Nepali and Japanese have forms of their own in these fonts.
        let plain = hb_glyphs(&file, word, if font == CJK { "zh" } else { "en" });
        assert_eq!(
            ours != plain,
            ["sr", "mr", "ne", "ja"].contains(&language),
            "{language} {word}: {ours:?} beside {plain:?}"
        );
    }
}

#[test]
fn fonts_named_on_the_command_line_or_in_settings_come_first() {
    let dir = campaign("zh", CHINESE);
    let pdf = dir.path().join("out/t/official.pdf");
    run_in(dir.path(), &["pdf", "-q", "--font", "Noto Sans CJK JP"]).expect_code(0);
    let fonts = tool("pdffonts", &[], &pdf);
    assert!(fonts.contains("+NotoSansCJKjp-Regular"), "{fonts}");
    assert!(!fonts.contains("CJKsc"), "{fonts}");
    tool("qpdf", &["--check"], &pdf);

    let settings = format!("fonts = [\"Noto Sans CJK TC\"]\n{}", common::SETTINGS);
    std::fs::write(dir.path().join("appeal.toml"), settings).expect("write");
    run_in(dir.path(), &["pdf", "-q"]).expect_code(0);
    let fonts = tool("pdffonts", &[], &pdf);
    assert!(fonts.contains("+NotoSansCJKtc-Regular"), "{fonts}");
    assert!(
        text(&pdf)
            .split_whitespace()
            .collect::<String>()
            .contains(CHINESE)
    );
}

#[test]
fn an_unknown_font_family_fails_and_writes_nothing() {
    let dir = campaign("uk", "Текст листа.");
    let run = run_in(dir.path(), &["pdf", "--font", "No Such Family"]);
    run.expect_code(2)
        .expect_stderr("no font file or installed font family is named `No Such Family`");
    run_in(dir.path(), &["pdf", "--font", "fonts/missing.ttf"])
        .expect_code(2)
        .expect_stderr("the font file fonts/missing.ttf does not exist");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn stacked_marks_get_the_shapers_offsets_in_the_pdf() {
    let word = "x\u{302}\u{303}";
    let (_dir, pdf) = letter("vi", &format!("Chữ {word} có dấu chồng."));
    let glyphs = drawn(&pdf);
    let span: Vec<&Drawn> = glyphs
        .iter()
        .filter(|g| g.actual.as_deref() == Some(word))
        .collect();
    assert_eq!(span.len(), 3, "base and two marks");
    let out = Command::new("hb-shape")
        .args(["--no-glyph-names", "--output-format=json"])
        .arg(common::repo_root().join("fonts/NotoSans-Regular.ttf"))
        .arg(word)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("hb-shape");
    let hb: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let (mut pen, size) = (0.0, span[0].size);
    for (g, h) in span.iter().zip(&hb) {
        let field = |k: &str| h[k].as_f64().expect("number") as f32;
        // Noto Sans has 1000 units to the em.
        let (x, y) = (pen + field("dx"), field("dy"));
        assert!(
            ((g.x - span[0].x) * 1000.0 / size - x).abs() < 0.5,
            "x of {h}"
        );
        assert!(
            ((g.y - span[0].y) * 1000.0 / size - y).abs() < 0.5,
            "y of {h}"
        );
        pen += field("ax");
    }
    assert!(span[2].y > span[0].y, "the upper mark is raised");
    assert!(text(&pdf).contains(word), "{}", text(&pdf));
}
