//! `appeal` turns one advocacy appeal into a personal letter for every authority on a list.
//!
//! The pipeline: [`config`] loads and checks the campaign ([`campaign`], [`recipients`],
//! [`sender`], [`settings`]); [`letter`] renders each letter; [`plan`] decides how it travels;
//! [`app`] runs the commands.

pub mod app;
pub mod batch;
pub mod campaign;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod diag;
pub mod exit;
pub mod fonts;
pub mod init;
pub mod layout;
pub mod ledger;
pub mod letter;
pub mod lines;
pub mod lint;
pub mod locale;
pub mod mail;
pub mod output;
pub mod pdf;
pub mod plan;
pub mod recipients;
pub mod send;
pub mod send_ledger;
pub mod sender;
pub mod settings;
pub mod signatories;
pub mod smtp;
pub mod status;
