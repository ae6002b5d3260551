//! A laid-out letter: pages of positioned text runs, rules and the signature's place.
//! Coordinates are points from the page's top-left corner; a run's `y` is its baseline.

use std::sync::Arc;

use crate::paper::metrics::{Shaped, Style};

/// A run of text in one style on one baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub x: f32,
    /// Baseline, from the top of the page.
    pub y: f32,
    pub style: Style,
    pub size: f32,
    /// The characters, in logical order.
    pub text: String,
    pub width: f32,
    /// The shaped words, in visual order (left to right), in ems of `size`.
    pub words: Vec<Arc<Shaped>>,
}

/// A straight line: fold marks, the rule under the return address and above the notes.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub thickness: f32,
}

/// Where a signature image goes: its box's top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub runs: Vec<Run>,
    pub rules: Vec<Rule>,
    pub signature: Option<Place>,
}

/// A laid-out letter.
#[derive(Debug, Clone, PartialEq)]
pub struct Laid {
    pub width: f32,
    pub height: f32,
    pub pages: Vec<Page>,
}
