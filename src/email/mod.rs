//! Letters by email: message building (and the attached PDF's name), SMTP settings, TLS, the
//! outbox between the maker and the sessions, the session driver, and the cleaning of what
//! servers say before it is shown or kept.

pub mod delivery;
pub mod filename;
pub mod message;
pub mod outbox;
pub mod reply;
pub mod smtp;
mod tls;
