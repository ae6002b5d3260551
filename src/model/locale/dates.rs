//! Dates and digits from CLDR through ICU4X's compiled data. A formatter is built once per
//! language and kept for the process, so a run of letters formats each date cheaply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use icu::calendar::Date as IcuDate;
use icu::datetime::DateTimeFormatter;
use icu::datetime::fieldsets::YMD;
use icu::decimal::DecimalFormatter;
use icu::decimal::input::Decimal;
use icu::locale::Locale;
use jiff::civil::Date;

type Formatter = Arc<DateTimeFormatter<YMD>>;

/// The locale a tag's dates are written in. A bare `en` is CLDR's World English (`en-001`:
/// "14 July 2014"), the English of letters that cross borders; `en-US` gives "July 14, 2014".
fn date_locale(tag: &str) -> Locale {
    let tag = if tag == "en" { "en-001" } else { tag };
    tag.parse().unwrap_or(Locale::UNKNOWN)
}

/// The formatter for `tag`, built on first use.
fn formatter(tag: &str) -> Option<Formatter> {
    static CACHE: OnceLock<Mutex<HashMap<String, Formatter>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(f) = map.get(tag) {
        return Some(f.clone());
    }
    let built = DateTimeFormatter::try_new(date_locale(tag).into(), YMD::long()).ok()?;
    let built = Arc::new(built);
    map.insert(tag.to_string(), built.clone());
    Some(built)
}

/// A date as a letter writes it, CLDR's long date in the language's own calendar and
/// digits: "14 July 2014", "14 июля 2014 г.", "2 снежня 2026 г.", "٢ ديسمبر ٢٠٢٦",
/// "2026年12月2日". A tag is checked when the campaign loads; one ICU4X cannot read (never
/// the case then) gets the ISO date.
pub fn format_date(lang: &str, date: Date) -> String {
    let iso = IcuDate::try_new_iso(i32::from(date.year()), date.month() as u8, date.day() as u8);
    match (formatter(lang), iso) {
        (Some(f), Ok(d)) => f.format(&d).to_string(),
        _ => date.to_string(),
    }
}

/// The ten digits numbers are written with in `tag` (CLDR's default numbering system).
pub fn digits(tag: &str) -> [char; 10] {
    let ascii = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    let Ok(f) = DecimalFormatter::try_new(date_locale(tag).into(), Default::default()) else {
        return ascii;
    };
    ascii.map(|c| {
        let d = Decimal::from(c as u32 - '0' as u32);
        f.format_to_string(&d).chars().next().unwrap_or(c)
    })
}
