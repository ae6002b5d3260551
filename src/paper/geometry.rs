//! The page: its size, margins and window field for each paper, and every fixed measurement
//! of the letter's look ([`dims`]), so it is tuned in one place.

use crate::model::settings::Paper;

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;
/// Points per inch.
pub const INCH: f32 = 72.0;

/// Margins, sizes and positions: DIN 5008 form B on A4, a #10 window envelope on US Letter.
pub mod dims {
    use super::{INCH, MM};

    pub const A4_WIDTH: f32 = 210.0 * MM;
    pub const A4_HEIGHT: f32 = 297.0 * MM;
    pub const A4_LEFT: f32 = 25.0 * MM;
    pub const A4_RIGHT: f32 = 20.0 * MM;
    /// DIN 5008 form B window field: 20 mm from the left, top at 45 mm, 85 × 45 mm.
    pub const A4_WINDOW: [f32; 4] = [20.0 * MM, 45.0 * MM, 85.0 * MM, 45.0 * MM];
    /// The lower part of the window field holding the 6 address lines (27.3 mm).
    pub const A4_ADDRESS_ZONE: f32 = 27.3 * MM;
    /// Fold marks for a DL envelope, and the hole-punch mark.
    pub const A4_FOLDS: [f32; 2] = [105.0 * MM, 210.0 * MM];
    pub const A4_HOLE: f32 = 148.5 * MM;
    /// Baseline of the place and date line, just below the window field.
    pub const A4_DATE_Y: f32 = 98.5 * MM;

    pub const LETTER_WIDTH: f32 = 8.5 * INCH;
    pub const LETTER_HEIGHT: f32 = 11.0 * INCH;
    pub const LETTER_LEFT: f32 = 1.0 * INCH;
    pub const LETTER_RIGHT: f32 = 1.0 * INCH;
    /// #10 window envelope: window 7/8 in from the left, 2 in from the top, 4.5 × 1.125 in.
    pub const LETTER_WINDOW: [f32; 4] = [0.875 * INCH, 2.0 * INCH, 4.5 * INCH, 1.125 * INCH];
    pub const LETTER_ADDRESS_ZONE: f32 = 0.9 * INCH;
    /// Tri-fold marks and the middle mark.
    pub const LETTER_FOLDS: [f32; 2] = [11.0 * INCH / 3.0, 22.0 * INCH / 3.0];
    pub const LETTER_HOLE: f32 = 5.5 * INCH;
    pub const LETTER_DATE_Y: f32 = 3.55 * INCH;

    /// Baseline of a fax's cover line, from the top of page 1.
    pub const FAX_LINE_Y: f32 = 10.0 * MM;
    /// No line on a fax is thinner than this (points): hairlines vanish in a fax scan.
    pub const FAX_MIN_RULE: f32 = 0.75;

    /// Top margin of continuation pages and of the sender block on page 1.
    pub const TOP: f32 = 20.0 * MM;
    /// The body stops this far above the bottom edge.
    pub const BOTTOM: f32 = 25.0 * MM;
    /// Baseline of the "page N of M" footer, from the bottom edge.
    pub const FOOTER_FROM_BOTTOM: f32 = 12.0 * MM;
    /// Baseline of a continuation page's header (recipient, date, reference), from the top.
    pub const CONTINUATION_Y: f32 = 12.0 * MM;
    /// Fold and hole marks: where they start on the left edge and how long they are.
    pub const MARK_X: f32 = 4.0 * MM;
    pub const FOLD_MARK_LEN: f32 = 5.0 * MM;
    pub const HOLE_MARK_LEN: f32 = 8.0 * MM;
    pub const MARK_THICKNESS: f32 = 0.4;
    /// Inner padding of the window field on the right, so text never touches its edge.
    pub const WINDOW_PAD: f32 = 3.0 * MM;

    pub const BODY_SIZE: f32 = 11.0;
    pub const BODY_LEADING: f32 = 14.5;
    pub const PARAGRAPH_GAP: f32 = 8.0;
    pub const ITEM_GAP: f32 = 2.5;
    pub const LIST_INDENT: f32 = 7.0 * MM;
    pub const MARKER_GAP: f32 = 2.0 * MM;
    pub const SENDER_NAME_SIZE: f32 = 11.0;
    pub const SENDER_SIZE: f32 = 8.5;
    pub const SENDER_LEADING: f32 = 11.0;
    pub const RETURN_SIZE: f32 = 7.0;
    pub const ADDRESS_SIZE: f32 = 10.5;
    pub const ADDRESS_LEADING: f32 = 12.5;
    /// Notes and sources, and the reference line below the subject: small but legible type
    /// (never under 7 pt), set close so a letter's sources share its one page.
    pub const NOTE_SIZE: f32 = 7.5;
    pub const NOTE_LEADING: f32 = 9.0;
    pub const NOTE_GAP: f32 = 1.0;
    /// Space between the signed name (or copies line) and the notes' rule.
    pub const NOTES_GAP: f32 = 10.0;
    const _: () = assert!(NOTE_SIZE >= 7.0, "notes under 7 pt are hard to read");
    pub const NOTES_RULE: f32 = 40.0 * MM;
    pub const FOOTER_SIZE: f32 = 8.0;
    /// Space left between the closing and the printed name, for the handwritten signature.
    pub const SIGNATURE_SPACE: f32 = 16.0 * MM;
    /// The box a signature image is fitted into.
    pub const SIGNATURE_BOX: [f32; 2] = [50.0 * MM, 14.0 * MM];
    /// Superscript footnote markers: scale of the body size and rise in ems.
    pub const SUPER_SCALE: f32 = 0.62;
    pub const SUPER_RISE: f32 = 0.36;
    pub const RULE_THICKNESS: f32 = 0.4;
}

/// The page's geometry for one paper size.
#[derive(Debug, Clone)]
pub struct Geometry {
    pub width: f32,
    pub height: f32,
    pub left: f32,
    pub right: f32,
    /// The window field: x, y (top), width, height.
    pub window: [f32; 4],
    pub address_zone: f32,
    pub folds: [f32; 2],
    pub hole: f32,
    pub date_y: f32,
}

impl Geometry {
    pub fn for_paper(paper: Paper) -> Geometry {
        use dims::*;
        match paper {
            Paper::A4 => Geometry {
                width: A4_WIDTH,
                height: A4_HEIGHT,
                left: A4_LEFT,
                right: A4_RIGHT,
                window: A4_WINDOW,
                address_zone: A4_ADDRESS_ZONE,
                folds: A4_FOLDS,
                hole: A4_HOLE,
                date_y: A4_DATE_Y,
            },
            Paper::Letter => Geometry {
                width: LETTER_WIDTH,
                height: LETTER_HEIGHT,
                left: LETTER_LEFT,
                right: LETTER_RIGHT,
                window: LETTER_WINDOW,
                address_zone: LETTER_ADDRESS_ZONE,
                folds: LETTER_FOLDS,
                hole: LETTER_HOLE,
                date_y: LETTER_DATE_Y,
            },
        }
    }

    /// The width of a full body line.
    pub fn measure(&self) -> f32 {
        self.width - self.left - self.right
    }

    /// Where the body must stop.
    pub fn body_bottom(&self) -> f32 {
        self.height - dims::BOTTOM
    }
}
