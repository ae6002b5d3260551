//! The bundled example campaign (letters/duambekov: 5 authorities, 3 by email and 2 by post)
//! copied into a temp dir, for the tests that send it.

use std::path::Path;

use crate::common::repo_root;

/// The example's recipients that are written to by email, in id order.
pub const EMAILED: [&str; 3] = ["foreign", "interior", "ombudsman"];

/// recipients.toml, appeal.toml and letters/duambekov/ of the repository, copied as they are
/// into a fresh temp dir.
pub fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let repo = repo_root();
    for file in ["recipients.toml", "appeal.toml"] {
        std::fs::copy(repo.join(file), d.join(file)).expect("copy");
    }
    let c = d.join("letters/duambekov");
    std::fs::create_dir_all(&c).expect("mkdir");
    for e in std::fs::read_dir(repo.join("letters/duambekov")).expect("letters") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), c.join(e.file_name())).expect("copy");
    }
    dir
}

/// Appends an `[smtp]` table holding `body` to the appeal.toml in `dir`.
pub fn add_smtp_table(dir: &Path, body: &str) {
    let file = dir.join("appeal.toml");
    let settings = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, format!("{settings}\n[smtp]\n{body}\n")).expect("write");
}
