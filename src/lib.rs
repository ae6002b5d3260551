//! `appeal` turns one advocacy appeal into a personal letter for every authority on a list.
//!
//! The layers, top to bottom (imports point down only): [`app`] dispatches the command line
//! to [`commands`]; they use [`paper`] (PDF), [`email`] (SMTP) and [`ledger`] (what was
//! delivered); those render the run's letters from [`letter`]; [`config`] loads and checks
//! what a command needs from the files of [`model`]; [`cli`], [`diag`], [`exit`], [`term`],
//! [`files`], [`digest`] and [`clock`] are leaves that anything may use.

pub mod app;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod diag;
pub mod digest;
pub mod email;
pub mod exit;
pub mod files;
pub mod ledger;
pub mod letter;
pub mod model;
pub mod paper;
pub mod term;
