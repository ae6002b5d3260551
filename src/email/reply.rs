//! A server's words made safe to show and to keep: whatever an SMTP server (or anything in the
//! path to it) writes reaches a terminal and the ledger only through [`clean`], so a hostile or
//! broken server cannot recolour, retitle or rewrite the operator's screen, nor fill the ledger.

/// The longest text kept of one reply, in characters; the rest is cut off with "…".
pub const MAX_REPLY_CHARS: usize = 1000;

/// `text` with every terminal escape sequence removed (CSI `ESC [ … m`, OSC `ESC ] … BEL`,
/// DCS and the other string sequences, their one-byte C1 forms, two-character escapes) and
/// every other control, bidirectional control, line separator or byte order mark turned into
/// a space; runs of white space become one space, the ends are trimmed, and the text is cut
/// to [`MAX_REPLY_CHARS`]. Cleaning clean text changes nothing.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * MAX_REPLY_CHARS));
    let mut chars = text.chars().peekable();
    let mut count = 0usize;
    let mut space = false;
    while let Some(c) = chars.next() {
        let shown = match c {
            '\u{1b}' => {
                skip_escape(&mut chars);
                None
            }
            // C1 forms: CSI, and the string sequences DCS, SOS, OSC, PM, APC.
            '\u{9b}' => {
                skip_csi(&mut chars);
                None
            }
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => {
                skip_string(&mut chars);
                None
            }
            c if c.is_whitespace() || is_hidden(c) => Some(' '),
            c => Some(c),
        };
        match shown {
            // A removed sequence joins what was on either side of it, as a terminal shows it.
            None => {}
            Some(' ') => space = count > 0,
            Some(c) => {
                if count >= MAX_REPLY_CHARS {
                    out.push('…');
                    return out;
                }
                if space {
                    out.push(' ');
                    count += 1;
                    space = false;
                }
                out.push(c);
                count += 1;
            }
        }
    }
    out
}

/// Characters that are never shown as they are: controls, bidirectional controls, Unicode
/// line and paragraph separators, the byte order mark.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{FEFF}'
        )
}

/// After an ESC: the rest of the sequence it starts.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // A character set choice (`ESC ( B`) takes one more character.
        Some('(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%' | ' ') => {
            chars.next();
        }
        // Any other escape is two characters long; a lone ESC at the end is just dropped.
        _ => {}
    }
}

/// A control sequence: parameter and intermediate bytes, up to its final byte (`@` to `~`).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Not a well-formed sequence: stop here; the character is not shown either.
            return;
        }
    }
}

/// A string sequence (OSC, DCS, ...): up to BEL, ST (`ESC \`) or the C1 ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_removed() {
        assert_eq!(clean("550 \u{1b}[31;1mred\u{1b}[0m text"), "550 red text");
        assert_eq!(
            clean("550 \u{1b}]0;owned title\u{7}no such user"),
            "550 no such user"
        );
        assert_eq!(clean("550 a\u{1b}]8;;http://x\u{1b}\\link"), "550 alink");
        assert_eq!(clean("250 \u{9b}2Jok"), "250 ok");
        assert_eq!(clean("250 \u{1b}Pq#0;2\u{1b}\\ok"), "250 ok");
        assert_eq!(clean("250 \u{1b}(Bok\u{1b}"), "250 ok");
        assert_eq!(clean("250 \u{1b}c"), "250");
    }

    #[test]
    fn controls_become_spaces_and_white_space_is_collapsed() {
        assert_eq!(
            clean("451 4.7.1\r\n  try\tlater\u{7}\u{8}"),
            "451 4.7.1 try later"
        );
        assert_eq!(clean("550 a\u{202E}b\u{2028}c\u{feff}"), "550 a b c");
        assert_eq!(clean("  "), "");
        assert_eq!(
            clean("250 2.0.0 OK queued as 12.000001.x"),
            "250 2.0.0 OK queued as 12.000001.x"
        );
        assert_eq!(
            clean("550 Пользователь не найден"),
            "550 Пользователь не найден"
        );
    }

    #[test]
    fn long_replies_are_cut() {
        let long = "x".repeat(5000);
        let c = clean(&long);
        assert_eq!(c.chars().count(), MAX_REPLY_CHARS + 1);
        assert!(c.ends_with('…'));
    }

    #[test]
    fn cleaning_is_idempotent() {
        for s in [
            "550 \u{1b}[31mred\r\nmore",
            "a\u{0}b\u{9b}1mc",
            &"y ".repeat(900),
        ] {
            assert_eq!(clean(&clean(s)), clean(s), "{s:?}");
        }
    }
}
