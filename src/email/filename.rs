//! The name of the PDF attached to each email: made from the campaign's reference, the
//! signatory and the recipient, so an office that saves a batch of letters keeps every one,
//! and safe on any file system and in any mail client (ASCII letters, digits, `-`, `_`, `.`).

use crate::letter::Letter;

/// The most characters of the reference kept in a file name.
const MAX_REFERENCE_CHARS: usize = 40;

/// `T-1_s030_prosecutor.pdf`, `T-1_prosecutor.pdf` without a signatory, `prosecutor.pdf`
/// without a reference. Ids are already safe (`a-z`, `0-9`, `-`); the reference is free text,
/// so it goes through [`ascii_name`]. Within a batch the reference is the same for every
/// letter and no id holds `_`, so the name differs wherever (signatory, recipient) does.
pub fn pdf_name(letter: &Letter) -> String {
    let mut parts = Vec::with_capacity(3);
    if let Some(r) = &letter.reference {
        let r = ascii_name(r, MAX_REFERENCE_CHARS);
        if !r.is_empty() {
            parts.push(r);
        }
    }
    for id in [letter.key.signatory.as_deref(), Some(&letter.key.recipient)]
        .into_iter()
        .flatten()
    {
        // Ids are checked when read (`a-z`, `0-9`, `-`) and kept as they are, so two ids stay
        // two names; anything else is made safe.
        let safe = id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let name = if safe {
            id.to_string()
        } else {
            ascii_name(id, 64)
        };
        if !name.is_empty() {
            parts.push(name);
        }
    }
    if parts.is_empty() {
        parts.push("letter".to_string());
    }
    format!("{}.pdf", parts.join("_"))
}

/// `text` as a piece of a file name: letters with diacritics lose them (`é` → `e`), Cyrillic
/// (Russian, Kazakh, Ukrainian) is transliterated (`Дело` → `Delo`), other characters that are
/// not ASCII letters, digits, `-` or `.` (spaces, `/`, `\`, `:`, `_`, ...) become one `-`; a
/// `.` stays only after a letter or digit (no `..`), and no `-` or `.` is left at either end (no
/// hidden file); at most `max` characters.
pub fn ascii_name(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' => out.push(c),
            // A dot only after a letter or digit: no `..`, no `-.`.
            '.' if out.ends_with(|p: char| p.is_ascii_alphanumeric()) => out.push(c),
            '.' if !out.ends_with('-') => out.push('-'),
            '.' => {}
            c => match transliterate(c) {
                Some(latin) => out.push_str(latin.as_ref()),
                None if !out.ends_with('-') => out.push('-'),
                None => {}
            },
        }
    }
    let mut cut: String = out.chars().take(max).collect();
    // Trimming is done after the cut, so the cut cannot leave a `-` or `.` at the end.
    while cut.ends_with(['-', '.']) {
        cut.pop();
    }
    cut.trim_start_matches(['-', '.']).to_string()
}

/// Latin letters with diacritics (U+00C0 to U+017F), one base letter each; `?` where the
/// letter needs two (handled in [`transliterate`]) or is not a letter (`×`, `÷`).
const LATIN: &str = concat!(
    "AAAAAA?CEEEEIIIIDNOOOOO?OUUUUY??aaaaaa?ceeeeiiiidnooooo?ouuuuy?y",
    "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi??JjKkkLlLlLlL",
    "lLlNnNnNnnNnOoOoOo??RrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs",
);

/// One character in ASCII letters, if there is a usual way to write it so.
fn transliterate(c: char) -> Option<std::borrow::Cow<'static, str>> {
    use std::borrow::Cow;
    let two = match c {
        'Æ' => "AE",
        'æ' => "ae",
        'Þ' => "Th",
        'þ' => "th",
        'ß' => "ss",
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'Œ' => "OE",
        'œ' => "oe",
        _ => "",
    };
    if !two.is_empty() {
        return Some(Cow::Borrowed(two));
    }
    if ('\u{C0}'..='\u{17F}').contains(&c) {
        let base = LATIN.as_bytes()[c as usize - 0xC0];
        return (base != b'?').then(|| Cow::Owned(char::from(base).to_string()));
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    let latin = cyrillic(lower)?;
    if lower == c || latin.is_empty() {
        return Some(Cow::Borrowed(latin));
    }
    // A capital: its first letter only (`Ж` → `Zh`).
    let mut s = String::with_capacity(latin.len());
    let mut letters = latin.chars();
    if let Some(first) = letters.next() {
        s.push(first.to_ascii_uppercase());
    }
    s.extend(letters);
    Some(Cow::Owned(s))
}

/// A lower-case Cyrillic letter in Latin letters (the hard and soft signs in none).
fn cyrillic(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ґ' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' | 'і' => "i",
        'ї' => "yi",
        'й' | 'ы' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ұ' | 'ү' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ю' => "yu",
        'я' => "ya",
        'ә' => "a",
        'ғ' => "gh",
        'қ' => "q",
        'ң' => "ng",
        'һ' => "h",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_safe_ascii() {
        assert_eq!(ascii_name("T-1", 40), "T-1");
        assert_eq!(ascii_name("KZ-2014-DUAMBEKOV", 40), "KZ-2014-DUAMBEKOV");
        assert_eq!(ascii_name("EUR 57/005/2014", 40), "EUR-57-005-2014");
        assert_eq!(ascii_name("Исх. № 12/3", 40), "Iskh.-12-3");
        assert_eq!(ascii_name("Шығыс № Қ-5", 40), "Shyghys-Q-5");
        assert_eq!(ascii_name("Жалоба", 40), "Zhaloba");
        assert_eq!(ascii_name("Réf. Ægir-Straße", 40), "Ref.-AEgir-Strasse");
        assert_eq!(ascii_name("../../etc/passwd", 40), "etc-passwd");
        assert_eq!(
            ascii_name("a\\b:c*d?e\"f<g>h|i_j", 40),
            "a-b-c-d-e-f-g-h-i-j"
        );
        assert_eq!(ascii_name("...", 40), "");
        assert_eq!(ascii_name("a../..b", 40), "a.-b");
        assert_eq!(
            ascii_name("Исх. № ../12/3: Жалоба", 40),
            "Iskh.-12-3-Zhaloba"
        );
        assert_eq!(ascii_name("中文", 40), "");
        assert_eq!(ascii_name("abc-def", 4), "abc");
        assert_eq!(ascii_name("ab.def", 3), "ab");
    }

    #[test]
    fn every_latin_letter_in_the_table_is_a_letter() {
        assert_eq!(LATIN.len(), 0x180 - 0xC0);
        assert!(LATIN.bytes().all(|b| b.is_ascii_alphabetic() || b == b'?'));
        assert_eq!(transliterate('Ž').as_deref(), Some("Z"));
        assert_eq!(transliterate('ł').as_deref(), Some("l"));
        assert_eq!(transliterate('×'), None);
    }
}
