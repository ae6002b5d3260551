//! `appeal pdf` end to end: the PDFs are read back with poppler (pdftotext, pdfinfo, pdffonts)
//! and qpdf, which the test machine must have installed.

use std::path::Path;

use crate::common::{self, TestCampaign, pdf_text as text, pdf_tool as tool};

const KAZAKH: &str = "әғқңөұүһі ӘҒҚҢӨҰҮҺІ";

fn pages(file: &Path) -> usize {
    let info = tool("pdfinfo", &[], file);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count")
}

/// Words with their boxes (points from the top left): pdftotext -bbox.
fn words(file: &Path) -> Vec<(String, [f32; 4])> {
    let html = tool("pdftotext", &["-bbox", "-f", "1", "-l", "1"], file);
    html.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("<word ")?;
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

fn campaign() -> TestCampaign {
    let c = TestCampaign::new();
    c.edit(
        "letters/test/letter.md.hbs",
        "convicted of defamation.",
        &format!("convicted of defamation. Kazakh letters: {KAZAKH}."),
    );
    c
}

#[test]
fn writes_one_checked_pdf_per_recipient() {
    let c = campaign();
    c.run(&["pdf"])
        .expect_code(0)
        .expect_stdout("out/test/president.pdf");
    for id in ["president", "ombudsman", "foreign"] {
        let file = c.path().join(format!("out/test/{id}.pdf"));
        let bytes = std::fs::read(&file).expect("pdf written");
        assert!(
            bytes.len() < 100 * 1024,
            "{id}.pdf is {} bytes: a whole font?",
            bytes.len()
        );
        tool("qpdf", &["--check"], &file);
        let fonts = tool("pdffonts", &[], &file);
        for line in fonts.lines().skip(2) {
            assert!(line.contains("+NotoSans"), "not a subset font: {line}");
            assert!(
                line.contains("yes yes yes"),
                "not embedded, subset, with ToUnicode: {line}"
            );
        }
        let info = tool("pdfinfo", &[], &file)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(info.contains("Title: Test campaign"), "{info}");
        assert!(info.contains("Author: Alex Sample"), "{info}");
        assert!(
            info.contains("CreationDate: Mon Jul 14 10:00:00 2014"),
            "{info}"
        );
    }
    expect_text(
        &c.path().join("out/test/president.pdf"),
        &[
            "Nursultan Nazarbayev",
            "About the case of Musagali Duambekov",
            "Dear Sir or Madam,",
            "Yours sincerely,",
            "to review the case;",
            "Notes and sources",
        ],
    );
    expect_text(
        &c.path().join("out/test/ombudsman.pdf"),
        &[
            "А. Ш. Шакирову",
            "О деле Мусагали Дуамбекова",
            "Прошу Вас пересмотреть дело.",
        ],
    );
}

/// Asserts that the text of `file` holds every one of `needles`.
fn expect_text(file: &Path, needles: &[&str]) {
    let t = text(file);
    for needle in needles {
        assert!(t.contains(needle), "{needle:?} missing:\n{t}");
    }
}

#[test]
fn kazakh_letters_round_trip() {
    let c = campaign();
    c.run(&["pdf", "--only", "president"]).expect_code(0);
    let t = text(&c.path().join("out/test/president.pdf"));
    for half in KAZAKH.split(' ') {
        assert!(t.contains(half), "Kazakh letters {half} lost:\n{t}");
    }
}

#[test]
fn the_address_lies_in_the_window_field() {
    let c = campaign();
    c.run(&["pdf", "--only", "president"]).expect_code(0);
    let words = words(&c.path().join("out/test/president.pdf"));
    let mm = 72.0 / 25.4;
    let (x0, y0, x1, y1) = (20.0 * mm, 45.0 * mm, 105.0 * mm, 90.0 * mm);
    for w in ["Nursultan", "Nazarbayev", "Akorda", "010000"] {
        let (_, b) = words
            .iter()
            .find(|(t, _)| t == w)
            .unwrap_or_else(|| panic!("{w} not on page 1"));
        assert!(
            b[0] >= x0 && b[2] <= x1 && b[1] >= y0 && b[3] <= y1,
            "{w} at {b:?} is outside the window field"
        );
    }
}

#[test]
fn a_long_letter_numbers_its_pages() {
    let c = campaign();
    let para = "This paragraph is long enough to take a few lines on the page, and it is repeated \
                so that the letter runs onto a third page where the numbering must say so. ";
    let body: String = (0..20).map(|_| format!("{para}{para}\n\n")).collect();
    c.write("letters/test/letter.md.hbs", &body);
    c.run(&["pdf", "--only", "president"]).expect_code(0);
    let file = c.path().join("out/test/president.pdf");
    assert_eq!(pages(&file), 3);
    let t = text(&file);
    for n in 1..=3 {
        assert!(
            t.contains(&format!("Page {n} of 3")),
            "no Page {n} of 3:\n{t}"
        );
    }
    // Pages 2 and 3 open with the recipient, date and reference, should the pages come apart.
    let header = "Nursultan Nazarbayev · London, 14 July 2014 · Ref.: T-1";
    assert_eq!(t.matches(header).count(), 2, "{t}");
    let page_two = tool("pdftotext", &["-f", "2", "-l", "2"], &file);
    assert_eq!(page_two.lines().next(), Some(header), "{page_two}");
}

#[test]
fn a_single_page_letter_has_no_page_number() {
    let c = campaign();
    c.run(&["pdf", "--only", "ombudsman"]).expect_code(0);
    let t = text(&c.path().join("out/test/ombudsman.pdf"));
    assert!(!t.contains("Страница"), "{t}");
}

#[test]
fn a_missing_glyph_fails_and_writes_nothing() {
    let c = campaign();
    // No font has a private-use character (中 now comes from an installed CJK font).
    c.edit(
        "letters/test/letter.md.hbs",
        "convicted",
        "convicted \u{E000}",
    );
    c.expect_invalid(
        &["pdf"],
        "recipient `president`: the font has no glyph for U+E000",
    );
}

#[test]
fn combined_writes_every_page_in_order() {
    let c = campaign();
    // all.pdf holds the letters to print (issue 13): every letter, when all go by post.
    c.run(&["pdf", "--combined", "--via", "post"])
        .expect_code(0);
    let out = c.path().join("out/test");
    let total: usize = ["president", "ombudsman", "foreign"]
        .iter()
        .map(|id| pages(&out.join(format!("{id}.pdf"))))
        .sum();
    let all = out.join("all.pdf");
    assert_eq!(pages(&all), total);
    tool("qpdf", &["--check"], &all);
    let t = text(&all);
    let p = t.find("Nursultan Nazarbayev").expect("president");
    let o = t.find("А. Ш. Шакирову").expect("ombudsman");
    let f = t.find("Erlan Idrisov").expect("foreign");
    assert!(p < o && o < f, "letters out of order");
    assert!(std::fs::metadata(&all).expect("all.pdf").len() < 100 * 1024);
}

#[test]
fn same_time_same_bytes() {
    let c = campaign();
    c.run(&["pdf", "--out", "a"]).expect_code(0);
    c.run(&["pdf", "--out", "b"]).expect_code(0);
    for id in ["president", "ombudsman", "foreign"] {
        let a = std::fs::read(c.path().join(format!("a/{id}.pdf"))).expect("a");
        let b = std::fs::read(c.path().join(format!("b/{id}.pdf"))).expect("b");
        assert!(a == b, "{id}.pdf differs between runs");
    }
}

#[test]
fn us_letter_paper() {
    let c = campaign();
    c.run(&["pdf", "--paper", "letter", "--only", "president"])
        .expect_code(0);
    let info = tool("pdfinfo", &[], &c.path().join("out/test/president.pdf"));
    assert!(info.contains("612 x 792"), "{info}");
}

#[test]
fn never_writes_through_a_symlink() {
    let c = campaign();
    c.write("elsewhere.txt", "keep me");
    std::fs::create_dir_all(c.path().join("out/test")).expect("mkdir");
    std::os::unix::fs::symlink(
        c.path().join("elsewhere.txt"),
        c.path().join("out/test/ombudsman.pdf"),
    )
    .expect("symlink");
    let run = c.run(&["pdf"]);
    assert_ne!(run.code, 0);
    run.expect_stderr("symbolic link");
    assert_eq!(c.read("elsewhere.txt"), "keep me");
    assert!(
        !c.path().join("out/test/president.pdf").exists(),
        "wrote before refusing"
    );
}

#[test]
fn output_directory_that_is_a_file_is_one_clear_error() {
    let c = campaign();
    c.write("taken", "a file");
    let run = c.run(&["pdf", "--out", "taken"]);
    assert_ne!(run.code, 0);
    run.expect_stderr("taken: the output directory is a file");
    assert_eq!(c.read("taken"), "a file");
}

#[test]
fn the_bundled_example_prints() {
    let root = common::repo_root();
    if !root.join("recipients.toml").exists() {
        return;
    }
    let out = tempfile::tempdir().expect("tempdir");
    let run = common::run_in(
        &root,
        &[
            "pdf",
            "--combined",
            "--out",
            &out.path().display().to_string(),
        ],
    );
    run.expect_code(0);
    let files: Vec<_> = std::fs::read_dir(out.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(files.len(), 6, "5 letters and all.pdf");
    for f in &files {
        tool("qpdf", &["--check"], &f.path());
        assert!(f.metadata().expect("meta").len() < 100 * 1024);
    }
    let t = text(&out.path().join("ombudsman.pdf"));
    assert!(t.contains("Шакирову"), "{t}");
}

#[test]
fn another_font_replaces_the_bundled_family() {
    let c = campaign();
    let font = common::repo_root().join("fonts/NotoSans-Italic.ttf");
    c.run(&[
        "pdf",
        "--only",
        "president",
        "--font",
        &font.display().to_string(),
    ])
    .expect_code(0);
    let file = c.path().join("out/test/president.pdf");
    let fonts = tool("pdffonts", &[], &file);
    let names: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(names.len(), 1, "one face, one embedded font:\n{fonts}");
    assert!(names[0].contains("+NotoSans-Italic"), "{fonts}");
    assert!(text(&file).contains("Nursultan Nazarbayev"));
}

#[test]
fn a_regular_font_file_brings_the_styles_beside_it() {
    let c = campaign();
    c.write(
        "letters/test/letter.md.hbs",
        "Plain, **bold** and *italic* words.\n",
    );
    let fonts_dir = tempfile::tempdir().expect("tempdir");
    let bundled = common::repo_root().join("fonts");
    for (from, to) in [
        ("NotoSans-Regular.ttf", "Letter-Regular.ttf"),
        ("NotoSans-Bold.ttf", "Letter-Bold.ttf"),
    ] {
        std::fs::copy(bundled.join(from), fonts_dir.path().join(to)).expect("copy");
    }
    let font = fonts_dir.path().join("Letter-Regular.ttf");
    c.run(&[
        "pdf",
        "--only",
        "president",
        "--font",
        font.to_str().expect("utf8"),
    ])
    .expect_code(0);
    let fonts = tool("pdffonts", &[], &c.path().join("out/test/president.pdf"));
    let names: Vec<&str> = fonts.lines().skip(2).collect();
    // Regular, and the bold found beside it; italic falls back to regular, so two faces.
    assert_eq!(names.len(), 2, "{fonts}");
    assert!(
        names.iter().any(|n| n.contains("+NotoSans-Regular")),
        "{fonts}"
    );
    assert!(
        names.iter().any(|n| n.contains("+NotoSans-Bold")),
        "{fonts}"
    );
}
