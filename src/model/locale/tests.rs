//! Dates and labels per language, against what ICU4X's CLDR data prints.

use super::*;

/// U+202F NARROW NO-BREAK SPACE: CLDR keeps "2014 г." together with it.
const NNBSP: char = '\u{202f}';

#[test]
fn dates_are_cldr_long_dates() {
    let d = jiff::civil::date(2026, 12, 2);
    let cases = [
        ("en", "2 December 2026".to_string()),
        ("en-GB", "2 December 2026".to_string()),
        ("en-US", "December 2, 2026".to_string()),
        ("ru", format!("2 декабря 2026{NNBSP}г.")),
        ("kk", format!("2026{NNBSP}ж. 2 желтоқсан")),
        ("be", format!("2 снежня 2026{NNBSP}г.")),
        ("uk", format!("2 грудня 2026{NNBSP}р.")),
        ("ar", "2 ديسمبر 2026".to_string()),
        ("ar-EG", "٢ ديسمبر ٢٠٢٦".to_string()),
        ("hi", "2 दिसंबर, 2026".to_string()),
        ("zh", "2026年12月2日".to_string()),
        ("zh-Hant", "2026年12月2日".to_string()),
        ("vi", "2 tháng 12 2026".to_string()),
        ("tr", "2 Aralık 2026".to_string()),
        ("pt-BR", "2 de dezembro de 2026".to_string()),
        ("de", "2. Dezember 2026".to_string()),
        // Persian letters are dated in the Solar Hijri calendar, unless the tag asks.
        ("fa", "۱۱ آذر ۱۴۰۵".to_string()),
        ("fa-u-ca-gregory", "۲ دسامبر ۲۰۲۶".to_string()),
    ];
    for (tag, want) in cases {
        assert_eq!(format_date(tag, d), want, "{tag}");
    }
    let d = jiff::civil::date(2014, 7, 14);
    assert_eq!(format_date("en", d), "14 July 2014");
    assert_eq!(format_date("ru", d), format!("14 июля 2014{NNBSP}г."));
}

#[test]
fn page_numbers_in_the_language_and_its_digits() {
    let page = |tag: &str| Labels::builtin(tag).expect(tag).page_of(1, 12);
    assert_eq!(page("en"), "Page 1 of 12");
    assert_eq!(page("ru"), "Страница 1 из 12");
    assert_eq!(page("kk"), "12 беттің 1-беті");
    assert_eq!(page("zh"), "第1页，共12页");
    assert_eq!(page("fa"), "صفحه ۱ از ۱۲");
    assert_eq!(page("ar-EG"), "الصفحة ١ من ١٢");
}

#[test]
fn labels_fall_back_along_cldr_parents_never_to_english() {
    assert_eq!(Labels::builtin("pt-BR"), Labels::builtin("pt"));
    assert_eq!(Labels::builtin("zh-TW").expect("zh-TW").fax, "傳真");
    assert_eq!(Labels::builtin("zh-Hans-CN").expect("zh-CN").fax, "传真");
    assert_eq!(Labels::builtin("en-GB").expect("en-GB").reference, "Ref.");
    assert_eq!(
        resolve("sw", &Overrides::new()),
        Err(LABEL_NAMES.to_vec()),
        "no English fallback"
    );
}

#[test]
fn a_campaign_sets_or_overrides_single_labels() {
    let mut overrides = Overrides::new();
    let be = overrides.entry("be".into()).or_default();
    be.insert("reference".into(), "Зыход. № (выд.)".into());
    let labels = resolve("be-BY", &overrides).expect("be labels");
    assert_eq!(labels.reference, "Зыход. № (выд.)");
    assert_eq!(labels.copies, "Копіі");
    let sw = overrides.entry("sw".into()).or_default();
    sw.insert("page".into(), "Ukurasa {page} wa {pages}".into());
    let missing = resolve("sw", &overrides).expect_err("sw has one label");
    assert!(!missing.contains(&"page") && missing.contains(&"reference"));
}

#[test]
fn every_builtin_language_has_every_label_and_a_good_page_line() {
    for tag in builtin_languages() {
        assert_eq!(tag_problem(tag), None, "{tag}");
        let labels = Labels::builtin(tag).expect(tag);
        assert_eq!(label_problem("page", &labels.page), None, "{tag}");
    }
    assert!(builtin_languages().len() >= 17);
}

#[test]
fn tags_are_well_formed_and_canonical() {
    for good in [
        "en",
        "be",
        "pt-BR",
        "zh-Hant",
        "zh-Hant-TW",
        "fa-u-ca-gregory",
    ] {
        assert_eq!(tag_problem(good), None, "{good}");
    }
    let why = |t: &str| tag_problem(t).expect(t);
    assert!(why("pt_BR").contains("not a BCP 47 language tag"));
    assert!(why("zh-hant").contains("as `zh-Hant`"));
    assert!(why("und").contains("names no language"));
}

#[test]
fn page_label_needs_both_numbers() {
    assert!(label_problem("page", "Page {page}").is_some());
    assert!(label_problem("page", "{page}/{pages} {x}").is_some());
    assert!(label_problem("page", "{page}/{pages}").is_none());
    assert!(label_problem("signature", "x").is_some());
    assert!(label_problem("fax", " ").is_some());
}

#[test]
fn a_languages_direction_comes_from_its_likely_script() {
    for tag in ["ar", "ar-EG", "fa", "he", "ur", "ckb", "az-Arab"] {
        assert_eq!(right_to_left(tag), Some(true), "{tag}");
    }
    for tag in ["en", "ru", "kk", "az", "zh", "hi", "sw", "uz-Latn"] {
        assert_eq!(right_to_left(tag), Some(false), "{tag}");
    }
    assert_eq!(right_to_left("not a tag!"), None);
}
