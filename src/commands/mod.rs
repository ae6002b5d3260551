//! One module per command: each takes the checked `Config` (or the command line, for the
//! commands that need no campaign) and returns how the run ended.

pub mod check;
pub mod docs;
pub mod inbox;
pub mod init;
pub mod mark;
pub mod pdf;
pub mod remembered;
pub mod report;
pub mod send;
pub mod show;
pub mod status;
