//! The binary-level tests of `appeal`: each module drives the real binary (or, for the ledger,
//! the library beside it) against a campaign in a temp dir. They are one test binary, as in
//! ripgrep and just, so the crate's tests build and link once rather than once per file.
//!
//! Cargo.toml sets `autotests = false`: a new file under tests/ runs only once it has a
//! `mod` line below. Fixtures stay beside the modules (tests/smtp_server.py, tests/hostile/).
//!
//! ```sh
//! cargo test --test tests                      # every module
//! cargo test --test tests send::               # one module
//! cargo test --test tests send::dry_run        # the tests whose names start so
//! ```
//! The SMTP modules (send, ledger_send, craft) need the Python with aiosmtpd that
//! scripts/test.sh makes (or `APPEAL_TEST_PYTHON`).

mod common;

mod batch;
mod check;
mod craft;
mod dying;
mod errors;
mod example;
mod files_ids;
mod hostile;
mod identity;
mod inbox;
mod languages;
mod layers;
mod ledger_send;
mod mail;
mod pdf;
mod report;
mod scripts;
mod send;
mod status;
mod untrusted;
mod workflow_send;
mod workflow_status;
