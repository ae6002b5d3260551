//! Located problems in input files, collected so `check` can report them all at once.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(
        path: &Path,
        position: Option<(usize, usize)>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: path.to_path_buf(),
            position,
            message: message.into(),
        }
    }

    pub fn warning(
        path: &Path,
        position: Option<(usize, usize)>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            path: path.to_path_buf(),
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {label}: {}", self.message)
    }
}

/// Every problem found so far. An error value of its own so a failed load can carry all of them.
#[derive(Debug, Default, Clone)]
pub struct Problems {
    pub items: Vec<Diagnostic>,
}

impl Problems {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn error(
        &mut self,
        path: &Path,
        position: Option<(usize, usize)>,
        message: impl Into<String>,
    ) {
        self.push(Diagnostic::error(path, position, message));
    }

    pub fn extend(&mut self, other: Problems) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn errors(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.items.len() - self.errors()
    }

    /// `Err(self)` if any error was recorded, so loaders can end with `problems.into_result(value)`.
    pub fn into_result<T>(self, value: T) -> Result<(T, Problems), Problems> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok((value, self))
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// A source file held in memory, able to turn byte offsets into line and column. The start
/// of every line is found once, on the first question, so a file of 20,000 recipients costs
/// one pass however many positions are asked for.
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Source {
        Source {
            path: path.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = starts.partition_point(|&start| start <= offset);
        let line_start = starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    pub fn span_position(&self, span: &Range<usize>) -> (usize, usize) {
        self.position(span.start)
    }

    pub fn error_at(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(&self.path, Some(self.span_position(span)), message)
    }

    pub fn warning_at(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(&self.path, Some(self.span_position(span)), message)
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The byte offset of a 1-based line and column (in characters) in `text`, clamped to the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    text[line_start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| line_start + i)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The closest candidate to a mistyped word, if one is close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Why a value may not go into a header, a file name or a printed line, if it may not.
/// Rejects CR, LF and every other control character, and the Unicode bidi controls
/// that can make text display differently from what it is.
pub fn unsafe_char(value: &str) -> Option<String> {
    value.chars().find_map(|c| {
        let what = match c {
            '\r' => "a carriage return",
            '\n' => "a line break",
            '\t' => "a tab",
            c if c.is_control() => "a control character",
            '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}' => "a bidirectional control character",
            '\u{2028}' | '\u{2029}' => "a Unicode line separator",
            '\u{FEFF}' => "a byte order mark",
            _ => return None,
        };
        Some(format!("contains {what} (U+{:04X})", c as u32))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let src = Source::new("x", "a = 1\nбв = 2\n");
        assert_eq!(src.position(0), (1, 1));
        assert_eq!(src.position(6), (2, 1));
        // "бв " is 5 bytes; the '=' is the 4th character of line 2.
        assert_eq!(src.position(6 + 5), (2, 4));
        assert_eq!(offset_of(&src.text, 2, 4), 6 + 5);
        assert_eq!(offset_of(&src.text, 1, 1), 0);
        assert_eq!(offset_of(&src.text, 9, 1), src.text.len());
        for offset in 0..=src.text.len() + 2 {
            assert_eq!(
                src.position(offset),
                line_column(&src.text, offset),
                "at {offset}"
            );
        }
    }

    #[test]
    fn unsafe_characters_are_named() {
        assert_eq!(unsafe_char("ok"), None);
        assert_eq!(
            unsafe_char("a\r\nb").as_deref(),
            Some("contains a carriage return (U+000D)")
        );
        assert!(unsafe_char("x\u{202E}y").unwrap().contains("U+202E"));
        assert!(unsafe_char("x\u{0}y").unwrap().contains("control"));
        assert_eq!(unsafe_char("Құрметті Әбішұлы"), None);
    }
}
