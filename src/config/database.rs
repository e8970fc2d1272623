//! The database section: which database, and how many connections to keep.

use std::time::Duration;

use super::reader::Reader;

/// `DATABASE_URL` and `DATABASE_MAX_CONNECTIONS`.
pub(super) fn read(r: &mut Reader) -> (String, u32) {
    let url = r.string("DATABASE_URL", "sqlite://incident.db");
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        r.error(format!(
            "DATABASE_URL must start with sqlite:, postgres:// or postgresql:// (got {:?})",
            url.split(':').next().unwrap_or_default()
        ));
    }
    let max_connections = r.parse("DATABASE_MAX_CONNECTIONS", 16u32, "a whole number");
    (url, max_connections)
}

/// `DATABASE_STATEMENT_TIMEOUT`: how long one statement may run (PostgreSQL's
/// `statement_timeout`, an interrupt on SQLite). Below `REQUEST_TIMEOUT`, so a query stops soon
/// after nobody waits for it; by default nine tenths of it.
pub(super) fn statement_timeout(r: &mut Reader, request_timeout: Duration) -> Duration {
    let limit = r.duration("DATABASE_STATEMENT_TIMEOUT", request_timeout * 9 / 10);
    if limit.is_zero() || limit >= request_timeout {
        r.error(format!(
            "DATABASE_STATEMENT_TIMEOUT must be above zero and below REQUEST_TIMEOUT ({}s)",
            request_timeout.as_secs_f64()
        ));
    }
    limit
}
