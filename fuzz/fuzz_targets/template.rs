//! Fuzzes template compilation and rendering in strict mode, then the Markdown that comes out.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(campaign) = common::campaign(text.to_string())
    {
        let today = jiff::civil::date(2014, 7, 14);
        for lang in ["en", "ru"] {
            if let Ok(letter) = appeal::letter::build(&campaign, &common::recipient(), &common::sender(), lang, today) {
                let _ = letter.to_text(72, true);
                let _ = letter.to_html();
            }
        }
    }
});
