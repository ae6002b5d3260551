//! The words the tool itself prints in a letter, per language: dates, page numbers, labels.

use jiff::civil::Date;

/// Languages the tool can date and label a letter in. A campaign may only use these.
pub const LANGUAGES: [&str; 11] = [
    "en", "ru", "kk", "be", "uk", "ar", "fa", "hi", "zh", "vi", "tr",
];

pub fn is_supported(lang: &str) -> bool {
    LANGUAGES.contains(&lang)
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Genitive, as Russian dates need ("14 июля").
const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_KK: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];

/// A date as a letter writes it: "14 July 2014", "14 июля 2014 г.", "2014 жылғы 14 шілде".
pub fn format_date(lang: &str, date: Date) -> String {
    let (d, m, y) = (date.day(), (date.month() - 1) as usize, date.year());
    match lang {
        "ru" => format!("{d} {} {y} г.", MONTHS_RU[m]),
        "kk" => format!("{y} жылғы {d} {}", MONTHS_KK[m]),
        _ => format!("{d} {} {y}", MONTHS_EN[m]),
    }
}

/// "Page 2 of 3" in the letter's language.
pub fn page_of(lang: &str, page: usize, pages: usize) -> String {
    match lang {
        "ru" => format!("Страница {page} из {pages}"),
        "kk" => format!("{pages} беттің {page}-беті"),
        _ => format!("Page {page} of {pages}"),
    }
}

/// Labels printed around the letter's body.
pub struct Labels {
    pub copies: &'static str,
    pub notes: &'static str,
    pub reference: &'static str,
    pub fax: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub pages: &'static str,
}

pub fn labels(lang: &str) -> Labels {
    match lang {
        "ru" => Labels {
            copies: "Копии",
            notes: "Примечания и источники",
            reference: "Исх. №",
            fax: "Факс",
            from: "От",
            to: "Кому",
            pages: "Страниц",
        },
        "kk" => Labels {
            copies: "Көшірмелер",
            notes: "Ескертпелер мен дереккөздер",
            reference: "Шығыс №",
            fax: "Факс",
            from: "Кімнен",
            to: "Кімге",
            pages: "Беттер саны",
        },
        _ => Labels {
            copies: "cc",
            notes: "Notes and sources",
            reference: "Ref.",
            fax: "Fax",
            from: "From",
            to: "To",
            pages: "Pages",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_per_language() {
        let d = jiff::civil::date(2014, 7, 14);
        assert_eq!(format_date("en", d), "14 July 2014");
        assert_eq!(format_date("ru", d), "14 июля 2014 г.");
        assert_eq!(format_date("kk", d), "2014 жылғы 14 шілде");
        let d = jiff::civil::date(2026, 11, 25);
        assert_eq!(format_date("ru", d), "25 ноября 2026 г.");
    }

    #[test]
    fn page_numbers_per_language() {
        assert_eq!(page_of("en", 1, 3), "Page 1 of 3");
        assert_eq!(page_of("ru", 2, 3), "Страница 2 из 3");
    }
}
