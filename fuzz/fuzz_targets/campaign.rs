//! Fuzzes campaign.toml parsing and validation, with a fixed template beside it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let dir = std::path::Path::new("/nonexistent/letters/fuzz");
        let templates = vec![("letter.md.hbs".to_string(), Ok("Hello {{recipient.name}}.".to_string()))];
        let _ = appeal::model::campaign::Campaign::from_parts(dir, std::path::Path::new("letters/fuzz"), text.to_string(), templates);
    }
});
