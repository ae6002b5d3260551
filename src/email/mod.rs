//! Letters by email: message building (and the attached PDF's name), SMTP settings, TLS, the
//! outbox between the maker and the sessions, the session driver (sessions, transactions, the
//! run's view of the server's health, a socket that can be cut), and the cleaning of what
//! servers say before it is shown or kept.

pub mod classify;
mod cut;
pub mod delivery;
pub mod filename;
mod health;
pub mod imap;
pub mod message;
pub mod outbox;
pub mod reply;
mod session;
pub mod smtp;
mod tls;
mod transaction;
