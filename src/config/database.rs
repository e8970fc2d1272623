//! The database section: which database, and how many connections to keep.

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
