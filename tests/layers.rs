//! The layer rule of CONTRIBUTING.md, checked on the source: every `crate::` path in a module
//! points to its own layer folder or to a layer below it, and `paper`, `email` and `ledger`,
//! which share a layer, do not use each other.

use std::path::Path;

/// Each top-level module's layer, highest first. Modules of one layer may not use each other
/// unless they are the same folder; the leaves (layer 0 and 1) are used by everyone.
const LAYERS: &[(&str, u8)] = &[
    ("app", 8),
    ("commands", 7),
    ("paper", 6),
    ("email", 6),
    ("ledger", 6),
    ("letter", 5),
    ("config", 4),
    ("model", 3),
    ("term", 1),
    ("cli", 0),
    ("clock", 0),
    ("diag", 0),
    ("digest", 0),
    ("exit", 0),
    ("files", 0),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The top-level modules a source file names through `crate::`, with the line of each,
/// comments left out.
fn uses(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let name = item.trim().split("::").next().unwrap_or("");
                    if !name.is_empty() {
                        found.push((n + 1, name.to_string()));
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push((n + 1, name));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let mine = layer(&top)
            .unwrap_or_else(|| panic!("{}: module `{top}` has no layer in LAYERS", rel.display()));
        let text = std::fs::read_to_string(file).expect("read file");
        for (line, used) in uses(&text) {
            if used == top {
                continue;
            }
            match layer(&used) {
                Some(theirs) if theirs < mine || (theirs == 0 && mine == 0) => {}
                Some(_) => wrong.push(format!("{}:{line}: {top} uses {used}", rel.display())),
                None => wrong.push(format!("{}:{line}: unknown module {used}", rel.display())),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or across a layer:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_sees_grouped_and_plain_paths() {
    let found = uses(
        "use crate::{letter::Letter, model};\nlet x = crate::paper::layout(); // crate::app\n",
    );
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["letter", "model", "paper"]);
}
