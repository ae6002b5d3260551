//! Fuzzes recipients.toml parsing and validation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let source = appeal::diag::Source::new("recipients.toml", text.to_string());
        let _ = appeal::model::recipients::parse(&source);
    }
});
