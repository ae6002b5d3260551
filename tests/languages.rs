//! Letters in the authorities' own languages (issue 15, points 1, 3 and 6): any BCP 47 tag a
//! template exists for, dated by CLDR through ICU4X and labelled in its language, from the
//! built-in table or the campaign's `[labels.<tag>]`; a language without labels is an error,
//! never English; the email's HTML names its language and direction; a new date format changes
//! nothing in the ledger; `init --blank` gives a campaign that passes `check`.
//!
//! Every language is read back three ways: from `preview`, from the email and from the PDF
//! (through `pdftotext`, in logical order).

use std::path::Path;

use crate::common::smtp::Server;
use crate::common::{CAMPAIGN, Run, SETTINGS, TestCampaign, command, pdf_tool, run_in};

/// The day the brief's dates are for.
const DAY: &str = "2026-12-02T10:00:00Z";

/// One language of the test campaign: its tag, words, and what CLDR makes of [`DAY`].
struct Lang {
    tag: &'static str,
    subject: &'static str,
    salutation: &'static str,
    closing: &'static str,
    body: &'static str,
    date: &'static str,
    /// The built-in reference and notes labels, as the letter prints them.
    reference: &'static str,
    notes: &'static str,
    copies: &'static str,
}

const LANGS: [Lang; 9] = [
    Lang {
        tag: "be",
        subject: "Аб справе Мусагалі Дуамбекава",
        salutation: "Паважаны спадар!",
        closing: "З павагай,",
        body: "Звяртаюся да Вас па справе Мусагалі Дуамбекава.",
        date: "2 снежня 2026\u{202f}г.",
        reference: "Зыход. №",
        notes: "Заўвагі і крыніцы",
        copies: "Копіі",
    },
    Lang {
        tag: "uk",
        subject: "Щодо справи Мусагалі Дуамбекова",
        salutation: "Шановний пане!",
        closing: "З повагою,",
        body: "Звертаюся до Вас у справі Мусагалі Дуамбекова.",
        date: "2 грудня 2026\u{202f}р.",
        reference: "Вих. №",
        notes: "Примітки та джерела",
        copies: "Копії",
    },
    Lang {
        tag: "ar",
        subject: "بشأن قضية موساغالي دوامبيكوف",
        salutation: "السيد المحترم،",
        closing: "مع فائق الاحترام،",
        body: "أكتب إليكم بشأن قضية موساغالي دوامبيكوف.",
        date: "2 ديسمبر 2026",
        reference: "المرجع",
        notes: "ملاحظات ومصادر",
        copies: "نسخة إلى",
    },
    Lang {
        tag: "ar-EG",
        subject: "بشأن قضية موساغالي دوامبيكوف",
        salutation: "السيد المحترم،",
        closing: "مع فائق الاحترام،",
        body: "أكتب إليكم بشأن قضية موساغالي دوامبيكوف.",
        date: "٢ ديسمبر ٢٠٢٦",
        reference: "المرجع",
        notes: "ملاحظات ومصادر",
        copies: "نسخة إلى",
    },
    Lang {
        tag: "fa",
        subject: "درباره پرونده موساغالی دوامبکوف",
        salutation: "جناب آقای محترم،",
        closing: "با احترام،",
        body: "درباره پرونده موساغالی دوامبکوف به شما می\u{200c}نویسم.",
        // Solar Hijri, as Iranian letters are dated: 11 Azar 1405.
        date: "۱۱ آذر ۱۴۰۵",
        reference: "شماره",
        notes: "یادداشت\u{200c}ها و منابع",
        copies: "رونوشت",
    },
    Lang {
        tag: "hi",
        subject: "मुसागली दुआम्बेकोव के मामले के संबंध में",
        salutation: "आदरणीय महोदय,",
        closing: "सादर,",
        body: "मैं मुसागली दुआम्बेकोव के मामले के बारे में लिख रहा हूँ।",
        date: "2 दिसंबर, 2026",
        reference: "पत्रांक",
        notes: "टिप्पणियाँ और स्रोत",
        copies: "प्रतिलिपि",
    },
    Lang {
        tag: "zh",
        subject: "关于穆萨加利·杜安贝科夫案",
        salutation: "尊敬的先生：",
        closing: "此致敬礼",
        body: "我就穆萨加利·杜安贝科夫一案致函您。",
        date: "2026年12月2日",
        reference: "文号",
        notes: "注释与资料来源",
        copies: "抄送",
    },
    Lang {
        tag: "vi",
        subject: "Về vụ án của Musagali Duambekov",
        salutation: "Kính gửi Ông,",
        closing: "Trân trọng,",
        body: "Tôi viết thư này về vụ án của Musagali Duambekov.",
        date: "2 tháng 12 2026",
        reference: "Số",
        notes: "Ghi chú và nguồn",
        copies: "Đồng gửi",
    },
    Lang {
        tag: "tr",
        subject: "Musagali Duambekov davası hakkında",
        salutation: "Sayın Yetkili,",
        closing: "Saygılarımla,",
        body: "Musagali Duambekov davası hakkında yazıyorum.",
        date: "2 Aralık 2026",
        reference: "Sayı",
        notes: "Notlar ve kaynaklar",
        copies: "Bilgi",
    },
];

fn lang(tag: &str) -> &'static Lang {
    LANGS
        .iter()
        .find(|l| l.tag == tag)
        .expect("a test language")
}

/// The recipient written to in `tag`: `r-` and the tag in lower case.
fn id(tag: &str) -> String {
    format!("r-{}", tag.to_lowercase())
}

/// One recipient per language of [`LANGS`] (by email when `email`, else on paper), a
/// template for each, and the campaign's subject, salutation and closing in each.
fn campaign(email: bool) -> TestCampaign {
    let c = TestCampaign::new();
    let mut recipients = String::new();
    let (mut subject, mut salutation, mut closing) = (String::new(), String::new(), String::new());
    for l in &LANGS {
        let id = id(l.tag);
        recipients.push_str(&format!(
            "[[recipient]]\nid = \"{id}\"\nname = \"Official {id}\"\ntitle = \"Office\"\n\
             address = [\"1 Main Street\", \"Capital\"]\nlanguage = \"{}\"\n",
            l.tag
        ));
        if email {
            recipients.push_str(&format!("email = \"{id}@example.org\"\n"));
        }
        recipients.push('\n');
        subject.push_str(&format!("{} = \"{}\"\n", l.tag, l.subject));
        salutation.push_str(&format!("{} = \"{}\"\n", l.tag, l.salutation));
        closing.push_str(&format!("{} = \"{}\"\n", l.tag, l.closing));
        c.write(
            &format!("letters/test/letter.{}.md.hbs", l.tag),
            &format!("{}{{{{cite \"hrw\"}}}}\n\n{{{{today}}}}\n", l.body),
        );
    }
    let text = CAMPAIGN
        .replacen(
            "[subject]\n",
            &format!("copies_to = [\"Amnesty International\"]\n\n[subject]\n{subject}"),
            1,
        )
        .replacen("[salutation]\n", &format!("[salutation]\n{salutation}"), 1)
        .replacen("[closing]\n", &format!("[closing]\n{closing}"), 1);
    c.write("recipients.toml", &recipients)
        .write("letters/test/campaign.toml", &text);
    c
}

/// `appeal ARGS` in the campaign on [`DAY`].
fn on_day(c: &TestCampaign, args: &[&str]) -> Run {
    Run::of(command(c.path(), args).env("APPEAL_NOW", DAY))
}

/// Each letter of a `preview`, by recipient id.
fn previewed(run: &Run) -> Vec<(String, String)> {
    run.stdout
        .split("──── letter ")
        .skip(1)
        .map(|part| {
            let id = part
                .split_once(": ")
                .and_then(|(_, rest)| rest.split_once(' '))
                .map(|(id, _)| id.to_string())
                .expect("a letter heading");
            (id, part.to_string())
        })
        .collect()
}

#[test]
fn each_language_has_its_cldr_date_and_its_own_labels_in_preview() {
    let c = campaign(false);
    let run = on_day(&c, &["preview"]);
    run.expect_code(0);
    let letters = previewed(&run);
    assert_eq!(letters.len(), LANGS.len(), "{}", run.stdout);
    for l in &LANGS {
        let (_, text) = letters
            .iter()
            .find(|(id, _)| *id == id_of(l))
            .unwrap_or_else(|| panic!("no letter in {}", l.tag));
        for want in [l.date, l.subject, l.body, l.closing, l.notes, l.copies] {
            assert!(text.contains(want), "{}: no {want:?} in\n{text}", l.tag);
        }
        assert!(
            text.contains(&format!("{} T-1", l.reference)),
            "{}: no reference label in\n{text}",
            l.tag
        );
        assert!(
            !text.contains("Notes and sources"),
            "{}: English in\n{text}",
            l.tag
        );
    }
}

fn id_of(l: &Lang) -> String {
    id(l.tag)
}

/// The text of a letter's PDF as pdftotext reads it, in reading order: the bidi embedding
/// marks it puts around runs of the other direction taken for the word boundaries they
/// stand at, each line's whitespace made single spaces.
fn pdf_words(file: &Path) -> String {
    pdf_tool("pdftotext", &[], file)
        .lines()
        .map(|line| {
            line.replace(
                ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}'],
                " ",
            )
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` without its full stops, commas and colons (Latin and Arabic), each line's words
/// single-spaced.
fn unpunctuated(text: &str) -> String {
    text.lines()
        .map(|line| {
            line.replace(['.', ',', ':', '\u{60c}'], " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `a` and `b` hold the same words, in any order.
fn same_words(a: &str, b: &str) -> bool {
    let sorted = |t: &str| {
        let mut w: Vec<&str> = t.split_whitespace().collect();
        w.sort_unstable();
        w.join(" ")
    };
    sorted(a) == sorted(b)
}

/// The date as pdftotext gives it back: CLDR's narrow no-break space comes out a space.
fn pdf_date(l: &Lang) -> String {
    l.date.replace('\u{202f}', " ")
}

/// Makes the letter in `tag` run to two pages, so that it has page numbers and a
/// continuation header.
fn long_letter(c: &TestCampaign, tag: &str) {
    let body = format!("{}\n\n", lang(tag).body).repeat(45);
    c.write(
        &format!("letters/test/letter.{tag}.md.hbs"),
        &format!("{body}{{{{cite \"hrw\"}}}}\n\n{{{{today}}}}\n"),
    );
}

/// Each language's page line, with `{page}` and `{pages}` in its own digits.
const PAGE_LINES: [(&str, &str); 9] = [
    ("be", "Старонка {page} з {pages}"),
    ("uk", "Сторінка {page} з {pages}"),
    ("tr", "Sayfa {page}/{pages}"),
    ("vi", "Trang {page}/{pages}"),
    ("ar", "الصفحة {page} من {pages}"),
    ("ar-EG", "الصفحة {page} من {pages}"),
    ("fa", "صفحه {page} از {pages}"),
    ("hi", "पृष्ठ {page} / {pages}"),
    ("zh", "第{page}页，共{pages}页"),
];

/// `n` in the digits of `tag`'s letters: Persian, Arabic-Indic for Egypt, else ASCII.
fn digits(tag: &str, n: usize) -> String {
    let zero = match tag {
        "fa" => '\u{6f0}',
        "ar-EG" => '\u{660}',
        _ => '0',
    };
    n.to_string()
        .chars()
        .map(|c| char::from_u32(zero as u32 + c.to_digit(10).expect("a digit")).expect("digit"))
        .collect()
}

#[test]
fn pdfs_in_every_test_language_carry_its_date_and_labels() {
    let c = campaign(false);
    for (tag, _) in &PAGE_LINES {
        long_letter(&c, tag);
    }
    let only: Vec<String> = PAGE_LINES.iter().map(|(t, _)| id(t)).collect();
    on_day(&c, &["pdf", "--only", &only.join(",")]).expect_code(0);
    for (tag, page_line) in PAGE_LINES {
        let l = lang(tag);
        let rtl = matches!(tag, "ar" | "ar-EG" | "fa");
        // pdftotext takes the punctuation of a right-to-left line (neutral in UAX #9) for a
        // left-to-right run and moves it: those lines are compared without it.
        let plain = |text: &str| {
            if rtl {
                unpunctuated(text)
            } else {
                text.to_string()
            }
        };
        let file = c.path().join(format!("out/test/{}.pdf", id(tag)));
        let text = plain(&pdf_words(&file));
        let date = plain(&pdf_date(l));
        for want in [&date, &plain(l.body), l.notes, l.copies] {
            assert!(text.contains(want), "{tag}: no {want:?} in\n{text}");
        }
        let n = page_count(&file);
        assert!(n >= 2, "{tag}: {n} pages");
        for i in 1..=n {
            let want = page_line
                .replace("{pages}", &digits(tag, n))
                .replace("{page}", &digits(tag, i));
            // On a page of mostly Latin text (the notes) pdftotext gives a right-to-left
            // line in visual order: its words are what is checked.
            let found =
                text.contains(&want) || rtl && text.lines().any(|line| same_words(line, &want));
            assert!(found, "{tag}: no {want:?} in\n{text}");
        }
        // The subject line and each later page's header name the reference; the date is on
        // the place-and-date line, at the letter's end and in each later page's header.
        let reference = plain(&format!("{}: T-1", l.reference));
        let header = plain(&format!(
            "Official {} · London, {date} · {reference}",
            id(tag)
        ));
        let headers = if rtl {
            // pdftotext orders the header's mixed runs its own way: its words are checked,
            // and the reference and the date on the lines it reads in order.
            text.lines().filter(|l| same_words(l, &header)).count()
        } else {
            text.matches(&header).count()
        };
        assert_eq!(headers, n - 1, "{tag}: {header} in\n{text}");
        let (references, dates) = (
            text.matches(&reference).count(),
            text.matches(&date).count(),
        );
        if rtl {
            // The place and date as words; the date alone (the letter's end) as it reads.
            let place = format!("London {date}");
            assert!(
                text.lines().any(|l| same_words(l, &place)),
                "{tag}: no {place:?} in\n{text}"
            );
            assert!(
                references >= 1 && dates >= 1,
                "{tag}: {reference}, {date} in\n{text}"
            );
        } else {
            assert_eq!(references, n, "{tag}: {reference} in\n{text}");
            assert_eq!(dates, n + 1, "{tag}: {date} in\n{text}");
        }
    }
}

/// A fax's cover line counts the pages in the letter's digits, as its page lines do.
#[test]
fn a_fax_cover_counts_pages_in_the_letters_digits() {
    let c = campaign(false);
    c.edit(
        "recipients.toml",
        "id = \"r-fa\"\n",
        "id = \"r-fa\"\nfax = \"+98 21 6640 0000\"\nchannel = \"fax\"\n",
    );
    on_day(&c, &["pdf", "--only", "r-fa"]).expect_code(0);
    let text = pdf_words(&c.path().join("out/test/r-fa.pdf"));
    let cover = text
        .lines()
        .find(|l| l.contains("دورنگار"))
        .unwrap_or_else(|| panic!("no fax cover line in\n{text}"));
    assert!(cover.contains("تعداد صفحات"), "{cover}");
    assert!(
        cover.contains('\u{6f1}'),
        "one page, in Persian digits: {cover}"
    );
    assert!(!cover.split(' ').any(|w| w == "1"), "{cover}");
}

fn page_count(file: &Path) -> usize {
    pdf_tool("pdfinfo", &[], file)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count")
}

#[test]
fn a_campaign_sets_its_own_words_for_a_language() {
    let c = campaign(false);
    let toml = c.read("letters/test/campaign.toml");
    c.write(
        "letters/test/campaign.toml",
        &format!(
            "{toml}\n[labels.be]\nreference = \"Зыход. № (тэст)\"\npage = \"Аркуш {{page}} з {{pages}}\"\n"
        ),
    );
    let run = on_day(&c, &["preview", "--only", "r-be"]);
    run.expect_code(0)
        .expect_stdout("Зыход. № (тэст) T-1")
        .expect_stdout("Заўвагі і крыніцы");
    long_letter(&c, "be");
    on_day(&c, &["pdf", "--only", "r-be"]).expect_code(0);
    let text = pdf_words(&c.path().join("out/test/r-be.pdf"));
    let n = page_count(&c.path().join("out/test/r-be.pdf"));
    assert!(text.contains(&format!("Аркуш {n} з {n}")), "{text}");
    assert!(text.contains("Зыход. № (тэст): T-1"), "{text}");
    // A label that does not exist, or a page line without its numbers, is refused in place.
    c.write(
        "letters/test/campaign.toml",
        &format!("{toml}\n[labels.be]\nsignature = \"x\"\npage = \"Аркуш {{page}}\"\n"),
    );
    let run = c.expect_invalid(&["check"], "labels.be.signature: unknown label `signature`");
    run.expect_stderr("labels.be.page: label `page` needs both {page} and {pages}");
    assert!(run.stderr.contains("campaign.toml:"), "{}", run.stderr);
    c.write(
        "letters/test/campaign.toml",
        &format!("{toml}\n[labels.be]\npage = 3\n"),
    );
    c.expect_invalid(&["check"], "`labels.be.page` must be text in quotes");
}

/// The campaign plus a recipient in Swahili, a language with no built-in labels.
fn with_swahili(c: &TestCampaign, labels: &str) {
    let toml = c.read("letters/test/campaign.toml");
    let toml = toml
        .replacen(
            "[subject]\n",
            "[subject]\nsw = \"Kuhusu kesi ya Musagali Duambekov\"\n",
            1,
        )
        .replacen("[salutation]\n", "[salutation]\nsw = \"Mheshimiwa,\"\n", 1)
        .replacen("[closing]\n", "[closing]\nsw = \"Wako mwaminifu,\"\n", 1);
    c.write("letters/test/campaign.toml", &format!("{toml}\n{labels}"))
        .write(
            "letters/test/letter.sw.md.hbs",
            "Ninaandika kuhusu kesi ya Musagali Duambekov.{{cite \"hrw\"}}\n",
        );
    let recipients = c.read("recipients.toml");
    c.write(
        "recipients.toml",
        &format!(
            "{recipients}[[recipient]]\nid = \"r-sw\"\nname = \"Afisa\"\ntitle = \"Ofisi\"\n\
             address = [\"Barabara 1\", \"Dodoma\"]\nlanguage = \"sw\"\n"
        ),
    );
}

#[test]
fn a_language_without_labels_is_an_error_naming_them_never_english() {
    let c = campaign(false);
    with_swahili(&c, "");
    let all =
        "no labels for language `sw`: missing reference, copies, notes, page, fax, from, to, pages";
    let run = c.expect_invalid(&["check"], all);
    run.expect_stderr("add them to campaign.toml under [labels.sw]")
        .expect_stderr("built-in labels: en, ru, kk, be, uk");
    // Every command that would print a letter refuses, and writes nothing.
    for args in [&["pdf"][..], &["preview"], &["send", "--dry-run"]] {
        c.expect_invalid(args, all);
    }
    // Labels given for some: the rest are named, at the [labels.sw] table.
    let c = campaign(false);
    with_swahili(
        &c,
        "[labels.sw]\nreference = \"Kumb. Na.\"\npage = \"Ukurasa {page} wa {pages}\"\n",
    );
    let run = c.expect_invalid(
        &["check"],
        "no labels for language `sw`: missing copies, notes, fax, from, to, pages",
    );
    assert!(run.stderr.contains("campaign.toml:"), "{}", run.stderr);
    // All of them given: the Swahili letter is written with them.
    let c = campaign(false);
    with_swahili(
        &c,
        "[labels.sw]\nreference = \"Kumb. Na.\"\ncopies = \"Nakala\"\nnotes = \"Maelezo na vyanzo\"\n\
         page = \"Ukurasa {page} wa {pages}\"\nfax = \"Faksi\"\nfrom = \"Kutoka\"\nto = \"Kwa\"\n\
         pages = \"Kurasa\"\n",
    );
    on_day(&c, &["preview", "--only", "r-sw"])
        .expect_code(0)
        .expect_stdout("2 Desemba 2026")
        .expect_stdout("Kumb. Na. T-1")
        .expect_stdout("Maelezo na vyanzo");
}

#[test]
fn a_language_without_a_template_names_the_campaigns_languages() {
    let c = campaign(false);
    let have = "ar, ar-EG, be, en, fa, hi, ru, tr, uk, vi, zh";
    c.expect_invalid(
        &["check", "--lang", "pl"],
        "--lang pl: the campaign has no letter.pl.md.hbs",
    )
    .expect_stderr(&format!("(it has: {have})"));
    let recipients = c.read("recipients.toml");
    c.write(
        "recipients.toml",
        &recipients.replacen("language = \"be\"", "language = \"pt-BR\"", 1),
    );
    c.expect_invalid(&["check"], "recipient `r-be` is written to in `pt-BR` but letters/test/letter.pt-BR.md.hbs does not exist")
        .expect_stderr(&format!("(the campaign has: {have})"));
    // A tag that is not BCP 47, or not in its canonical case, is named where it is written.
    c.write(
        "recipients.toml",
        &recipients.replacen("language = \"be\"", "language = \"pt_BR\"", 1),
    );
    c.expect_invalid(&["check"], "recipients.toml:")
        .expect_stderr("language `pt_BR` is not a BCP 47 language tag");
    c.write("recipients.toml", &recipients)
        .write("letters/test/letter.zh-hant.md.hbs", "文\n");
    c.expect_invalid(&["check"], "letter.zh-hant.md.hbs")
        .expect_stderr("write the language tag `zh-hant` as `zh-Hant`");
}

#[test]
fn the_html_part_names_the_language_and_its_direction() {
    let server = Server::start(&[]);
    let c = campaign(true);
    c.write(
        "appeal.toml",
        &format!("{SETTINGS}\n[smtp]\nurl = \"{}\"\n", server.url()),
    );
    let only = ["--only", "r-ar,r-fa,r-be,r-vi"];
    on_day(&c, &[&["send", "--yes"][..], &only].concat()).expect_code(0);
    let parsed = crate::common::smtp::inspect(&server.messages());
    assert_eq!(parsed.len(), 4);
    for (tag, dir) in [("ar", "rtl"), ("fa", "rtl"), ("be", "ltr"), ("vi", "ltr")] {
        let to = format!("{}@example.org", id(tag));
        let m = parsed
            .iter()
            .find(|m| m["to"].as_str().is_some_and(|t| t.contains(&to)))
            .unwrap_or_else(|| panic!("no message to {to}"));
        let html = m["html"].as_str().expect("an HTML part");
        let head = format!("<html lang=\"{tag}\" dir=\"{dir}\">");
        assert!(html.contains(&head), "{tag}: no {head} in\n{html}");
        assert!(html.contains(lang(tag).notes), "{tag}: {html}");
        let text = m["text"].as_str().expect("a text part");
        assert!(text.contains(lang(tag).date), "{tag}: {text}");
    }
}

/// `appeal send --yes ARGS` on the day `now`.
fn send_on(c: &TestCampaign, now: &str, args: &[&str]) -> Run {
    let mut all = vec!["send", "--yes"];
    all.extend_from_slice(args);
    Run::of(command(c.path(), &all).env("APPEAL_NOW", now))
}

#[test]
fn the_date_in_any_language_on_a_later_day_is_no_change_in_the_ledger() {
    let server = Server::start(&[]);
    let c = campaign(true);
    c.write(
        "appeal.toml",
        &format!("{SETTINGS}\n[smtp]\nurl = \"{}\"\n", server.url()),
    );
    let only = ["--only", "r-ar-eg,r-fa,r-be,r-tr,r-vi"];
    send_on(&c, "2014-07-14T10:00:00Z", &only).expect_code(0);
    assert_eq!(server.messages().len(), 5);
    // Another month, another length, other digits, another Persian month.
    let later = send_on(&c, "2014-09-01T10:00:00Z", &only);
    later.expect_code(0).expect_stdout("5 already sent");
    assert!(!later.all().contains("changed"), "{}", later.all());
    assert_eq!(server.messages().len(), 5);
}

#[test]
fn init_blank_gives_a_campaign_in_the_language_that_passes_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_in(dir.path(), &["init", "--blank", "--lang", "be", "camp"]);
    run.expect_code(0).expect_stdout("[bracketed] placeholder");
    let camp = dir.path().join("camp");
    run_in(&camp, &["check"]).expect_code(0);
    let preview = Run::of(command(&camp, &["preview"]).env("APPEAL_NOW", DAY));
    preview
        .expect_code(0)
        .expect_stdout("[Your name]")
        .expect_stdout("[First paragraph")
        .expect_stdout("2 снежня 2026\u{202f}г.");
    let toml = std::fs::read_to_string(camp.join("letters/appeal/campaign.toml")).expect("read");
    assert!(
        toml.contains("language = \"be\"")
            && toml.contains("# page = \"Старонка {page} з {pages}\""),
        "{toml}"
    );
    // A language without built-in labels gets a [labels] table to translate, and still passes.
    run_in(dir.path(), &["init", "--blank", "--lang", "sw", "sw"]).expect_code(0);
    run_in(&dir.path().join("sw"), &["check"]).expect_code(0);
    let toml =
        std::fs::read_to_string(dir.path().join("sw/letters/appeal/campaign.toml")).expect("read");
    assert!(
        toml.contains("[labels.sw]\nreference = \"[Ref.]\""),
        "{toml}"
    );
    // A bad tag, a second init, and --blank without a language are refused.
    run_in(dir.path(), &["init", "--blank", "--lang", "pt_BR", "x"])
        .expect_code(2)
        .expect_stderr("`pt_BR` is not a BCP 47 language tag");
    assert!(!dir.path().join("x").exists());
    run_in(dir.path(), &["init", "--blank", "--lang", "be", "camp"])
        .expect_stderr("refusing to overwrite");
    run_in(dir.path(), &["init", "--blank", "y"])
        .expect_code(2)
        .expect_stderr("--lang");
}

/// A ledger written before dates came from CLDR holds hashes of letters dated
/// "2014 жылғы 14 шілде" and "14 июля 2014 г." (a plain space): the same letters dated the
/// CLDR way hash the same, since the date is replaced before hashing.
#[test]
fn ledgers_from_before_cldr_dates_see_the_same_letters() {
    use appeal::commands::send::record::{letter_hash, letter_hash_v1};
    use appeal::model::recipients::Channel;
    let root = crate::common::repo_root();
    let (campaign, _) = appeal::model::campaign::Campaign::load(
        &root.join("letters/duambekov"),
        Path::new("letters/duambekov"),
    )
    .expect("the example campaign");
    let (recipients, _) = appeal::model::recipients::load(
        &root.join("recipients.toml"),
        Path::new("recipients.toml"),
    )
    .expect("the example recipients");
    let sender = appeal::model::sender::Sender {
        name: "Aigerim Sultanova".into(),
        city: Some("Almaty".into()),
        ..Default::default()
    };
    let day = jiff::civil::date(2014, 7, 14);
    for (lang, old) in [("kk", "2014 жылғы 14 шілде"), ("ru", "14 июля 2014 г.")] {
        let today = appeal::model::locale::format_date(lang, day);
        assert_ne!(today, old);
        let letter =
            appeal::letter::build(&campaign, &recipients[0], &sender, lang, day).expect("a letter");
        assert!(letter.place_date.contains(&today), "{}", letter.place_date);
        let before = letter.with_replaced(&today, old);
        assert!(before.place_date.contains(old));
        let dest = "Akorda";
        assert_eq!(
            letter_hash(&letter, Channel::Post, dest, &today, &[]),
            letter_hash(&before, Channel::Post, dest, old, &[]),
            "{lang}"
        );
        assert_eq!(
            letter_hash_v1(&letter, Channel::Post, dest, &today, &[]),
            letter_hash_v1(&before, Channel::Post, dest, old, &[]),
            "{lang}"
        );
    }
}
