//! Letters by email: message building, SMTP settings, TLS, and the session driver.

pub mod delivery;
pub mod message;
pub mod smtp;
