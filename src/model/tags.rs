//! The `{{…}}` tags of a Handlebars template, found by a small scanner of our own, so a broken
//! template can be explained in the author's terms: which block was left open and where,
//! which closing tag has no opening, which `{{` never ends. Handlebars stays the engine; this
//! only reads the structure it would have complained about.

/// What one tag is, as far as the structure of blocks goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    /// `{{#name …}}` (or `{{^name …}}`, which Handlebars-rust itself refuses): opens a block
    /// closed by `{{/name}}`. `sigil` is `#` or `^`.
    Open { sigil: char, name: &'a str },
    /// `{{/name}}`.
    Close { name: &'a str },
    /// `{{> name}}`.
    Partial,
    /// `{{* …}}`, `{{#* …}}`, `{{#> …}}`: decorators and partial blocks.
    Decorator,
    /// A value, `{{else}}`, a comment or a raw block: nothing to match.
    Other,
}

/// One tag: where it starts and ends (byte offsets, end exclusive) and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag<'a> {
    pub start: usize,
    pub end: usize,
    pub kind: Kind<'a>,
}

/// Something the structure of a template gets wrong, at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub offset: usize,
    pub message: String,
}

/// Every tag of `text` in order, or the first opening (`{{`, `{{{`, a comment, a raw block)
/// that never ends.
pub fn scan(text: &str) -> Result<Vec<Tag<'_>>, Fault> {
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("{{") {
        let start = from + i;
        // `\{{` (one backslash) is literal text in Handlebars, and so is `\{{{{`; two or more
        // backslashes print one fewer and leave the tag a tag.
        let backslashes = text[..start]
            .bytes()
            .rev()
            .take_while(|&b| b == b'\\')
            .count();
        if backslashes == 1 {
            from = start
                + if text[start..].starts_with("{{{{") {
                    4
                } else {
                    2
                };
            continue;
        }
        let tag = one_tag(text, start)?;
        from = tag.end;
        tags.push(tag);
    }
    Ok(tags)
}

/// The tag that starts at `start` (where `text` has `{{`).
fn one_tag(text: &str, start: usize) -> Result<Tag<'_>, Fault> {
    let rest = &text[start..];
    let unclosed = |opening: &str, expected: &str| Fault {
        offset: start,
        message: format!("{opening} opened here is never closed (expected {expected})"),
    };
    if rest.starts_with("{{{{") {
        return raw_block(text, start);
    }
    let (end, kind) = if rest.starts_with("{{!--") {
        let close = find_from(text, start + 5, "--}}").ok_or_else(|| unclosed("{{!--", "--}}"))?;
        (close + 4, Kind::Other)
    } else if rest.starts_with("{{!") {
        let close = find_from(text, start + 3, "}}").ok_or_else(|| unclosed("{{!", "}}"))?;
        (close + 2, Kind::Other)
    } else if rest.starts_with("{{{") {
        let close = tag_close(text, start + 3, "}}}").ok_or_else(|| unclosed("{{{", "}}}"))?;
        (close + 3, Kind::Other)
    } else {
        let close = tag_close(text, start + 2, "}}").ok_or_else(|| unclosed("{{", "}}"))?;
        (close + 2, kind_of(&text[start + 2..close]))
    };
    Ok(Tag { start, end, kind })
}

/// `{{{{name}}}} … {{{{/name}}}}`: everything between is text.
fn raw_block(text: &str, start: usize) -> Result<Tag<'_>, Fault> {
    let open_end = find_from(text, start + 4, "}}}}").ok_or_else(|| Fault {
        offset: start,
        message: "{{{{ opened here is never closed (expected }}}})".to_string(),
    })?;
    let name = text[start + 4..open_end]
        .split_whitespace()
        .next()
        .unwrap_or("");
    let closing = ["{{{{/", name, "}}}}"].concat();
    let close = find_from(text, open_end + 4, &closing).ok_or_else(|| Fault {
        offset: start,
        message: format!(
            "{} opened here is never closed (expected {closing})",
            ["{{{{", name, "}}}}"].concat()
        ),
    })?;
    Ok(Tag {
        start,
        end: close + closing.len(),
        kind: Kind::Other,
    })
}

fn find_from(text: &str, from: usize, needle: &str) -> Option<usize> {
    text.get(from..)?.find(needle).map(|i| from + i)
}

/// Where the tag body starting at `from` ends (the offset of `close`), skipping string
/// literals, which may hold braces.
fn tag_close(text: &str, from: usize, close: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if bytes[i..].starts_with(close.as_bytes()) => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

/// What the inside of a `{{ … }}` tag is.
fn kind_of(inner: &str) -> Kind<'_> {
    let body = inner
        .trim_start_matches('~')
        .trim_end_matches('~')
        .trim_start();
    let mut chars = body.chars();
    let Some(first) = chars.next() else {
        return Kind::Other;
    };
    let after = chars.as_str();
    match first {
        '#' if after.starts_with(['*', '>']) => Kind::Decorator,
        '*' => Kind::Decorator,
        '>' => Kind::Partial,
        '#' | '^' => match name(after) {
            "" => Kind::Other,
            n => Kind::Open {
                sigil: first,
                name: n,
            },
        },
        '/' => Kind::Close { name: name(after) },
        _ => Kind::Other,
    }
}

/// The helper name at the start of a tag's body: up to the first space or `~`.
fn name(after: &str) -> &str {
    let s = after.trim_start();
    let end = s
        .find(|c: char| c.is_whitespace() || c == '~' || c == '}')
        .unwrap_or(s.len());
    &s[..end]
}

/// The first fault in how the template's blocks nest: a `{{` that never ends, a closing tag
/// with no opening, a closing tag for another block than the one open, or a block left open.
/// `line_of` turns an offset into a line number for messages that name another place.
pub fn structure_fault(text: &str, line_of: impl Fn(usize) -> usize) -> Option<Fault> {
    let tags = match scan(text) {
        Ok(t) => t,
        Err(fault) => return Some(fault),
    };
    let mut open: Vec<(char, &str, usize)> = Vec::new();
    for tag in tags {
        match tag.kind {
            Kind::Open { sigil, name } => open.push((sigil, name, tag.start)),
            Kind::Close { name } => match open.pop() {
                None => {
                    return Some(Fault {
                        offset: tag.start,
                        message: format!("{{{{/{name}}}}} closes a block that was never opened"),
                    });
                }
                Some((sigil, opened, at)) if opened != name => {
                    return Some(Fault {
                        offset: tag.start,
                        message: format!(
                            "{{{{/{name}}}}} does not match {{{{{sigil}{opened}}}}} opened on line {} (expected {{{{/{opened}}}}})",
                            line_of(at)
                        ),
                    });
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    open.pop().map(|(sigil, name, at)| Fault {
        offset: at,
        message: format!(
            "{{{{{sigil}{name}}}}} opened here is never closed (expected {{{{/{name}}}}})"
        ),
    })
}

/// The tag around `offset`, or the last one before it: where it starts, and its text as
/// written (shortened if long).
pub fn tag_near(text: &str, offset: usize) -> Option<(usize, &str)> {
    let tags = scan(text).ok()?;
    let tag = tags.iter().rev().find(|t| t.start <= offset)?;
    let written = &text[tag.start..tag.end];
    let shown = match written.char_indices().nth(60) {
        Some((i, _)) => &written[..i],
        None => written,
    };
    Some((tag.start, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(text: &str) -> Option<(usize, String)> {
        structure_fault(text, |o| text[..o].matches('\n').count() + 1)
            .map(|f| (f.offset, f.message))
    }

    #[test]
    fn balanced_templates_have_no_fault() {
        for t in [
            "Hello {{name}}",
            "{{#if a}}x{{else}}y{{/if}}",
            "{{#each xs}}{{#if this}}{{this}}{{/if}}{{/each}}",
            "{{~#if a~}} x {{~/if~}}",
            "{{^if a}}none{{/if}}",
            "{{!-- {{#if}} --}} and {{! {{#each }}",
            "{{{{raw}}}} {{#if {{{{/raw}}}}",
            "\\{{#if literal",
            "\\{{{{#if literal",
            "\\\\{{name}}",
            "{{variant \"a }} b\" 'c {{'}}",
            "{{{triple}}}",
        ] {
            assert_eq!(fault(t), None, "{t}");
        }
    }

    #[test]
    fn the_block_left_open_is_named_where_it_opened() {
        let (offset, message) = fault("a\nb {{#if x}}\nc\n").expect("fault");
        assert_eq!(offset, 4);
        assert_eq!(
            message,
            "{{#if}} opened here is never closed (expected {{/if}})"
        );
        let (offset, message) = fault("{{#each a}}{{#if b}}{{/each}}").expect("fault");
        assert_eq!(offset, 20);
        assert_eq!(
            message,
            "{{/each}} does not match {{#if}} opened on line 1 (expected {{/if}})"
        );
    }

    #[test]
    fn stray_closes_and_unclosed_braces_are_found() {
        assert_eq!(
            fault("x {{/each}}"),
            Some((2, "{{/each}} closes a block that was never opened".into()))
        );
        assert_eq!(
            fault("x {{name\ny"),
            Some((2, "{{ opened here is never closed (expected }})".into()))
        );
        assert_eq!(
            fault("{{!-- note"),
            Some((
                0,
                "{{!-- opened here is never closed (expected --}})".into()
            ))
        );
        assert_eq!(
            fault("{{{{raw}}}} text"),
            Some((
                0,
                "{{{{raw}}}} opened here is never closed (expected {{{{/raw}}}})".into()
            ))
        );
    }

    #[test]
    fn text_in_any_script_inside_tags_is_read() {
        let text = "{{variant \"Құрметті }}\" \"Уважаемый\"}} {{#if ә}}";
        assert_eq!(fault(text).map(|(offset, _)| offset), text.find("{{#if"));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_scanned_without_panic(text in "[{}#/!~\"' a-zәж\\\\-]{0,40}", at in 0usize..60) {
            let _ = structure_fault(&text, |o| o);
            let _ = tag_near(&text, at.min(text.len()));
        }
    }

    #[test]
    fn kinds_are_told_apart() {
        let kinds: Vec<Kind> = scan("{{> p}}{{#> l}}{{#*inline}}{{*d}}{{#if a}}{{/if}}")
            .expect("scan")
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                Kind::Partial,
                Kind::Decorator,
                Kind::Decorator,
                Kind::Decorator,
                Kind::Open {
                    sigil: '#',
                    name: "if"
                },
                Kind::Close { name: "if" },
            ]
        );
    }
}
