//! The admin console's dashboard figures: each a single aggregate query over counters or an
//! index, whatever the size of the tables.

use chrono::{DateTime, Utc};

use super::pool::{on_db, Db};

/// Tickets per status (from `ticket_counts`, kept by triggers: no scan of `tickets`).
pub async fn tickets_by_status(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    const SQL: &str = "SELECT status, CAST(SUM(n) AS BIGINT) FROM ticket_counts GROUP BY status";
    on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)
}

/// Unfinished tickets past an SLA deadline: flagged at their last write, or past the response
/// deadline unopened, or past the resolution deadline unresolved, at `now`.
pub async fn open_breaches(db: &Db, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM tickets WHERE status <> 'CLOSED' AND (response_breached OR resolution_breached \
                       OR (opened_at IS NULL AND response_due_at < $1) \
                       OR (resolved_at IS NULL AND resolution_due_at < $1))";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(now).fetch_one(p).await)
}

/// `(day as YYYY-MM-DD, channel, status, count)` of the WhatsApp and e-mail rows SENT or FAILED,
/// created since `since` (UTC days), through the `(notification_type, created_at)` index.
pub async fn outcomes_per_day(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<Vec<(String, String, String, i64)>, sqlx::Error> {
    // The day of a timestamp is the one dialect difference: SQLite stores text.
    const PG: &str = "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, notification_type, status, COUNT(*) \
                      FROM notification_log WHERE notification_type IN ('WHATSAPP', 'EMAIL') AND created_at >= $1 \
                      AND status IN ('SENT', 'FAILED') GROUP BY 1, 2, 3";
    const LITE: &str = "SELECT substr(created_at, 1, 10) AS day, notification_type, status, COUNT(*) \
                        FROM notification_log WHERE notification_type IN ('WHATSAPP', 'EMAIL') AND created_at >= $1 \
                        AND status IN ('SENT', 'FAILED') GROUP BY 1, 2, 3";
    match db {
        Db::Postgres(p) => sqlx::query_as(PG).bind(since).fetch_all(p).await,
        Db::Sqlite(p, _) => sqlx::query_as(LITE).bind(since).fetch_all(p).await,
    }
}

/// The queue: how many rows wait to be sent, and when the oldest was created.
pub async fn queue(db: &Db) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    const SQL: &str =
        "SELECT COUNT(*), MIN(created_at) FROM notification_log WHERE status = 'PENDING'";
    on_db!(db, p => sqlx::query_as(SQL).fetch_one(p).await)
}

/// The newest failure of a channel: `(error code, error message, when)`.
pub async fn last_failure(
    db: &Db,
    channel: &str,
) -> Result<Option<(Option<String>, Option<String>, DateTime<Utc>)>, sqlx::Error> {
    const SQL: &str = "SELECT error_code, error_message, created_at FROM notification_log \
                       WHERE notification_type = $1 AND status = 'FAILED' ORDER BY created_at DESC LIMIT 1";
    on_db!(db, p => sqlx::query_as(SQL).bind(channel).fetch_optional(p).await)
}
