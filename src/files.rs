//! Writing files safely, in one place: atomic writes (temp file + rename) and the refusal to
//! write through a symbolic link that someone may have planted in the output folder.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Whether `path` itself is a symbolic link (not followed).
pub fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The error for a link found where a file or folder is about to be written.
pub fn link_refused(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: refusing to write through a symbolic link; remove it first",
        path.display()
    )
}

/// Makes sure `dir` is a directory we may write into, creating it. The output directory the
/// user named may be a link to one; a directory named after an id (`allow_link` false) may not.
pub fn prepare_dir(dir: &Path, allow_link: bool) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => {
            if !allow_link {
                return Err(link_refused(dir));
            }
            if !fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
                bail!("{}: not a directory", dir.display());
            }
            Ok(())
        }
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => bail!(
            "{}: the output directory is a file, not a directory",
            dir.display()
        ),
        Err(_) => fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display())),
    }
}

/// Refuses to write at `path` if it is a symbolic link or a directory.
pub fn refuse_link(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(link_refused(path)),
        Ok(m) if m.is_dir() => bail!("{}: is a directory", path.display()),
        _ => Ok(()),
    }
}

/// Writes `bytes` to a new temp file next to `path`, then renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_parts(path, &[bytes], false)
}

/// Writes `parts`, one after the other, to a new temp file next to `path`, then renames it
/// over `path`, never through a symbolic link. `durable`: the file is on disk before the
/// rename (for a file a ledger is about to record).
pub fn write_parts(path: &Path, parts: &[&[u8]], durable: bool) -> Result<()> {
    refuse_link(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        // create_new: never follow a link or reuse a file someone planted at the temp name.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        for part in parts {
            f.write_all(part)?;
        }
        if durable {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Writes a letter's PDF (or a message's copy) atomically at `rel` under the output folder
/// `out`, making the folders between if need be. `out` may be a link to a directory (the user
/// named it); no folder below it, nor the file, may be a link: each is refused, never written
/// through. `durable`: on disk before the ledger records it written. Copies of sent messages
/// are not synced: one fsync per message would cost more than the sending, and the ledger is
/// the durable record.
pub fn write_in_folder(out: &Path, rel: &Path, parts: &[&[u8]], durable: bool) -> Result<()> {
    make_folders(out, rel)?;
    write_parts(&out.join(rel), parts, durable)
}

/// Makes sure the output folder `out` and every folder of `rel` below it are directories we
/// may write into (no link, no file in the way), making those that are missing.
fn make_folders(out: &Path, rel: &Path) -> Result<()> {
    prepare_dir(out, true)?;
    let mut dir = out.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        dir.push(part);
        prepare_dir(&dir, false)?;
    }
    refuse_link(&out.join(rel))
}

/// Checks, making nothing, that `rel` could be written under `out`: `out` is no file, and no
/// folder of `rel` that exists, nor the file, is a link or in the way. For a run to refuse
/// before its first letter goes.
pub fn check_folders(out: &Path, rel: &Path) -> Result<()> {
    if fs::symlink_metadata(out).is_ok_and(|m| !m.is_dir() && !m.file_type().is_symlink()) {
        bail!(
            "{}: the output directory is a file, not a directory",
            out.display()
        );
    }
    let mut dir = out.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Err(_) => return Ok(()),
            Ok(m) if m.file_type().is_symlink() => return Err(link_refused(&dir)),
            Ok(m) if !m.is_dir() => bail!("{}: is a file, not a folder", dir.display()),
            Ok(_) => {}
        }
    }
    refuse_link(&out.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_refuses_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.pdf");
        write_atomic(&p, b"one").expect("write");
        write_atomic(&p, b"two").expect("overwrite");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        let target = dir.path().join("elsewhere");
        fs::write(&target, b"keep").expect("write");
        let link = dir.path().join("b.pdf");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let err = write_atomic(&link, b"x").expect_err("must refuse");
        assert!(format!("{err:#}").contains("symbolic link"));
        assert_eq!(fs::read(&target).expect("read"), b"keep");
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 3);
    }

    #[test]
    fn a_write_in_a_new_folder_replaces_and_refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.pdf");
        write_in_folder(dir.path(), Path::new("a/b.pdf"), &[b"one"], true).unwrap();
        write_in_folder(dir.path(), Path::new("a/b.pdf"), &[b"tw", b"o"], false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let link = dir.path().join("a/link.pdf");
        std::os::unix::fs::symlink(dir.path().join("target"), &link).unwrap();
        assert!(write_in_folder(dir.path(), Path::new("a/link.pdf"), &[b"x"], true).is_err());
        let folder = dir.path().join("s1");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &folder).unwrap();
        std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
        let err = write_in_folder(dir.path(), Path::new("s1/x.pdf"), &[b"x"], true).unwrap_err();
        assert!(format!("{err:#}").contains("symbolic link"), "{err:#}");
        assert!(
            !dir.path().join("elsewhere/x.pdf").exists(),
            "nothing written through it"
        );
        assert!(!dir.path().join("target").exists());
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(names.len(), 2, "no temporary file left behind");
    }
}
