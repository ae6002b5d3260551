//! Digests as text: the one spelling of a SHA-256 sum (lower-case hex) that the ledger's
//! content hashes, Message-IDs and attachment boundaries share.

use sha2::{Digest, Sha256};

/// `bytes` as lower-case hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of a file's content, in lower-case hex, read in pieces (a signatories file of
/// 100,000 rows is never held whole).
pub fn sha256_file_hex(path: &std::path::Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_nothing_is_the_known_value() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(super::hex(&[0, 15, 255]), "000fff");
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), b"id,name\n").expect("write");
        assert_eq!(
            super::sha256_file_hex(file.path()).expect("read"),
            super::sha256_hex(b"id,name\n")
        );
    }
}
