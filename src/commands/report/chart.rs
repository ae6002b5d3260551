//! One authority's letters as a small horizontal bar chart in inline SVG: a bar per count
//! (sent, written, bounced, auto-replied, answered) against the authority's letters, each
//! with its word and its number in text, and a `<title>` and `<desc>` for screen readers, so
//! nothing depends on colour.

use std::fmt::Write;

use super::{Authority, esc};

const WIDTH: u64 = 300;
const LABEL: u64 = 78;
const BAR: u64 = 180;
const ROW: u64 = 17;

/// The chart of authority `a`; `index` keeps its element ids unique on the page.
pub fn bars(a: &Authority, index: usize) -> String {
    let t = &a.total;
    let rows = [
        ("Sent", "sent", t.sent),
        ("Written", "written", t.written),
        ("Bounced", "bounced", t.bounced),
        ("Auto-replied", "auto", t.auto_replied),
        ("Answered", "answered", t.answered),
    ];
    let height = ROW * rows.len() as u64 + 4;
    let name = a.name.as_deref().unwrap_or(&a.id);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         aria-labelledby=\"chart{index}-t chart{index}-d\">"
    );
    let _ = writeln!(
        svg,
        "<title id=\"chart{index}-t\">{} ({}): {} letters</title>",
        esc(name),
        esc(&a.id),
        t.letters
    );
    let described: Vec<String> = rows
        .iter()
        .map(|(label, _, n)| format!("{} {n}", label.to_lowercase()))
        .collect();
    let _ = writeln!(
        svg,
        "<desc id=\"chart{index}-d\">Of {} letters: {}.</desc>",
        t.letters,
        described.join(", ")
    );
    for (i, (label, class, n)) in rows.iter().enumerate() {
        let y = ROW * i as u64 + 2;
        let width = scaled(*n, t.letters);
        let _ = write!(svg, "<g><text x=\"0\" y=\"{}\">{label}</text>", y + 11);
        if width > 0 {
            let _ = write!(
                svg,
                "<rect class=\"bar-{class}\" x=\"{LABEL}\" y=\"{}\" width=\"{width}\" \
                 height=\"12\"/>",
                y + 2
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\">{n}</text></g>",
            LABEL + width + 4,
            y + 11
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The bar's width for `n` of `total`: at least one pixel for anything but zero.
fn scaled(n: u64, total: u64) -> u64 {
    if n == 0 || total == 0 {
        return 0;
    }
    (n.min(total) * BAR / total).max(1)
}

#[cfg(test)]
mod tests {
    use super::{BAR, scaled};

    #[test]
    fn bars_scale_to_the_letters() {
        assert_eq!(scaled(0, 10), 0);
        assert_eq!(scaled(10, 10), BAR);
        assert_eq!(scaled(5, 10), BAR / 2);
        assert_eq!(scaled(1, 100_000), 1);
        assert_eq!(scaled(3, 0), 0);
    }
}
