//! `appeal init`: a new campaign directory from the bundled example.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The bundled example, file by file (paths relative to the new campaign directory).
const FILES: [(&str, &str); 7] = [
    ("recipients.toml", include_str!("../../recipients.toml")),
    ("appeal.toml", include_str!("../../appeal.toml")),
    (
        "letters/duambekov/campaign.toml",
        include_str!("../../letters/duambekov/campaign.toml"),
    ),
    (
        "letters/duambekov/letter.md.hbs",
        include_str!("../../letters/duambekov/letter.md.hbs"),
    ),
    (
        "letters/duambekov/letter.ru.md.hbs",
        include_str!("../../letters/duambekov/letter.ru.md.hbs"),
    ),
    (
        "letters/duambekov/letter.kk.md.hbs",
        include_str!("../../letters/duambekov/letter.kk.md.hbs"),
    ),
    (
        "letters/duambekov/README.md",
        include_str!("../../letters/duambekov/README.md"),
    ),
];

/// Writes the example into `dir`. Checks every target first, so it either writes all files
/// or none.
pub fn init(dir: &Path, quiet: bool) -> Result<()> {
    let existing: Vec<String> = FILES
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        bail!(
            "{} already holds a campaign; refusing to overwrite {}",
            dir.display(),
            existing.join(", ")
        );
    }
    for (rel, content) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // create_new: never follow a symlink or clobber a file that appeared meanwhile.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(content.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !quiet {
        let shown = dir.display();
        println!("Created a campaign in {shown} from the bundled example (letters/duambekov).");
        println!();
        println!("Next:");
        if dir != Path::new(".") {
            println!("  cd {shown}");
        }
        println!("  $EDITOR appeal.toml        # your name, address and city");
        println!("  appeal check               # validate everything");
        println!("  appeal preview             # see every letter; nothing is sent");
        println!("  appeal pdf                 # print-ready letters under out/duambekov/");
    }
    Ok(())
}
