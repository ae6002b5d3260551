//! Terminal output shared by the commands: problems and the closing summary on stderr,
//! plain tables, plurals, and the progress bar (drawn only on a terminal, never with `-q`).

use crate::diag::{Problems, Severity};

pub fn print_problems(problems: &Problems, quiet: bool) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    for d in &problems.items {
        if quiet && d.severity == Severity::Warning {
            continue;
        }
        let _ = writeln!(err, "{d}");
    }
}

pub fn summary(problems: &Problems) {
    let (e, w) = (problems.errors(), problems.warnings());
    eprintln!(
        "appeal: {e} error{}, {w} warning{}; nothing was written",
        plural(e),
        plural(w)
    );
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A plain text table with a header row, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let width = |s: &str| textwrap::core::display_width(s);
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// A progress bar on stderr, drawn only when stderr is a terminal and not with `-q`.
pub fn progress(quiet: bool, total: u64, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() || total < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {wide_bar} {pos}/{len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_by_display_width() {
        let t = table(
            &["ID", "NAME"],
            &[
                vec!["кк".into(), "x".into()],
                vec!["abcd".into(), "y".into()],
            ],
        );
        assert_eq!(t, "ID    NAME\nкк    x\nabcd  y\n");
    }
}
