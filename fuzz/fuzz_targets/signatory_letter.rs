//! Fuzzes the CSV-to-letter path: a signatory's fields, as a spreadsheet would give them, read
//! by the signatories reader, rendered into a letter that uses every field, then the letter's
//! text, email text, HTML and page layout. Nothing a signatory writes may crash a command.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &str = "id,name,email,city,address,note,profession\n";

const TEMPLATE: &str = "I am {{sender.name}} from {{sender.city}}, a {{sender.profession}}.\n\n\
{{sender.note}}\n\n{{#each sender.address}}{{this}}\n{{/each}}\n\nWrite to {{sender.email}}.\n";

fuzz_target!(|data: &[u8]| {
    let mut csv = HEADER.as_bytes().to_vec();
    csv.extend_from_slice(data);
    let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(csv));
    let Ok(reader) = appeal::model::signatories::SignatoryReader::from_reader(
        input,
        std::path::Path::new("signatories.csv"),
        false,
    ) else {
        return;
    };
    let Some(campaign) = common::campaign(TEMPLATE.to_string()) else {
        return;
    };
    let recipient = common::recipient();
    // Parsed once: the fonts are the same for every input, and shaped words are cached.
    static FAMILY: std::sync::LazyLock<appeal::paper::fonts::Family> =
        std::sync::LazyLock::new(|| appeal::paper::fonts::Family::bundled().expect("the bundled font"));
    let family = &*FAMILY;
    let today = jiff::civil::date(2014, 7, 14);
    for sender in reader.take(8).flatten() {
        // Arabic sets the letter right to left, whatever script the signatory writes in.
        for lang in ["en", "ru", "ar"] {
            if let Ok(letter) = appeal::letter::build(&campaign, &recipient, &sender, lang, today) {
                let _ = letter.to_text(72, true);
                let _ = letter.email_text();
                let _ = letter.to_html();
                let _ = appeal::paper::layout::layout(
                    &letter,
                    appeal::model::settings::Paper::A4,
                    family,
                );
            }
        }
    }
});
