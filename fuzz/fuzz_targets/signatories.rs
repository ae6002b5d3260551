//! Fuzzes the signatories CSV reader: header checks and every row.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
    if let Ok(reader) = appeal::model::signatories::SignatoryReader::from_reader(input, std::path::Path::new("s.csv"), data.len() % 2 == 0) {
        for _ in reader.take(10_000) {}
    }
});
