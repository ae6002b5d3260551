//! The campaign's own files, parsed and validated: recipients, the campaign and its
//! templates, the sender, signatories, `appeal.toml`, and the words a letter prints per language.

pub mod campaign;
pub mod locale;
pub mod recipients;
pub mod sender;
pub mod settings;
pub mod signatories;
pub mod tags;
pub mod templates;
pub mod toml_errors;
