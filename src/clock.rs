//! The clock: now, or the moment pinned by `APPEAL_NOW` so tests get byte-identical output.

/// Environment variable that pins "now" (RFC 3339), so tests get byte-identical output.
pub const NOW_ENV: &str = "APPEAL_NOW";

/// Now, in UTC when pinned by [`NOW_ENV`], else in the local time zone.
pub fn now() -> Result<jiff::Zoned, String> {
    match std::env::var(NOW_ENV) {
        Ok(v) => v
            .parse::<jiff::Timestamp>()
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC))
            .map_err(|e| format!("{NOW_ENV}=`{v}` is not an RFC 3339 time: {e}")),
        Err(_) => Ok(jiff::Zoned::now()),
    }
}
