//! Letters by email: message building, SMTP settings, TLS, the outbox between the maker and the
//! sessions, and the session driver.

pub mod delivery;
pub mod message;
pub mod outbox;
pub mod smtp;
mod tls;
