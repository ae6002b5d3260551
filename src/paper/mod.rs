//! Letters on paper: the page's geometry, font metrics, line breaking, layout, and the PDF
//! writer and maker; fonts, their fallback and shaping. Layout is pure (no PDF types, no
//! I/O); only `writer` knows printpdf.

pub mod face;
pub mod fonts;
pub mod geometry;
pub mod layout;
pub mod lines;
pub mod maker;
pub mod metrics;
pub mod page;
pub mod shape;
pub mod system;
pub mod writer;
