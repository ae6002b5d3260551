//! Fuzzes the Markdown → letter path: blocks, lists, footnotes, the text and HTML renderings.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(markdown) = std::str::from_utf8(data) {
        let Some(campaign) = common::campaign("x".to_string()) else { return };
        let Ok((body, notes)) = appeal::letter::parse_markdown(markdown, &campaign) else { return };
        let today = jiff::civil::date(2014, 7, 14);
        if let Ok(mut letter) = appeal::letter::build(&campaign, &common::recipient(), &common::sender(), "en", today) {
            letter.body = body;
            letter.notes = notes;
            let _ = letter.to_text(72, true);
            let _ = letter.to_html();
            let _ = letter.all_text();
        }
    }
});
