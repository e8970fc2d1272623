//! Pruning the notification log's history (`NOTIFY_LOG_RETENTION`, `incident notifications
//! prune`): finished rows (SENT, FAILED) older than a cutoff, never PENDING rows and never rows
//! of a ticket that is not CLOSED. Deletes run in short batches, each its own statement, so no
//! lock is held for long; the counters' triggers keep `notification_counts` exact through them.

use chrono::{DateTime, Utc};

use super::pool::{on_db, on_write, Arg, Db};

/// The channels of the log; each is pruned along its own index (channel, created_at).
pub const CHANNELS: [&str; 3] = ["WHATSAPP", "SYSTEM", "EMAIL"];

/// Rows deleted per statement: a few milliseconds of the SQLite writer turn.
pub const BATCH: i64 = 1000;

/// The rows a prune may delete: of channel $1, created before $2 and not before $3 (where the
/// last batch stopped), finished, and of no ticket or a CLOSED one (a terminal status).
const PRUNABLE: &str = "n.notification_type = $1 AND n.created_at < $2 AND n.created_at >= $3 \
                        AND n.status <> 'PENDING' AND (n.ticket_id IS NULL OR EXISTS \
                        (SELECT 1 FROM tickets t WHERE t.id = n.ticket_id AND t.status = 'CLOSED'))";

/// Where the first batch of a channel starts.
fn beginning() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// How many rows of `channel` a prune of everything before `cutoff` would delete.
pub async fn count_prunable(
    db: &Db,
    channel: &str,
    cutoff: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM notification_log n WHERE {PRUNABLE}");
    on_db!(db, p => sqlx::query_scalar(&sql).bind(channel).bind(cutoff).bind(beginning()).fetch_one(p).await)
}

/// The batch delete: the oldest `$4` prunable rows from `$3` on, read along the channel's
/// index. The outer `status` check is evaluated again on a row another transaction changed
/// meanwhile (PostgreSQL), so a row re-queued as PENDING is kept.
fn delete_sql() -> String {
    format!(
        "DELETE FROM notification_log WHERE status <> 'PENDING' AND id IN \
         (SELECT n.id FROM notification_log n WHERE {PRUNABLE} ORDER BY n.created_at LIMIT $4) \
         RETURNING created_at"
    )
}

/// Deletes the oldest `limit` prunable rows of `channel` created at or after `from`; returns
/// how many went and the newest creation time among them (where the next batch starts, so rows
/// kept are not read again and again).
pub async fn delete_batch(
    db: &Db,
    channel: &str,
    cutoff: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<(u64, Option<DateTime<Utc>>), sqlx::Error> {
    let sql = delete_sql();
    let from = from.unwrap_or_else(beginning);
    let deleted: Vec<DateTime<Utc>> = on_write!(db.write().await, p => sqlx::query_scalar(&sql)
        .bind(channel).bind(cutoff).bind(from).bind(limit).fetch_all(p).await)?;
    Ok((deleted.len() as u64, deleted.into_iter().max()))
}

/// The plan of the batch delete's search (see `Db::explain`), for the plan tests.
pub async fn delete_plan(
    db: &Db,
    channel: &str,
    cutoff: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!(
        "SELECT n.id FROM notification_log n WHERE {PRUNABLE} ORDER BY n.created_at LIMIT $4"
    );
    let args = [
        Arg::Text(channel.to_string()),
        Arg::Time(cutoff),
        Arg::Time(beginning()),
        Arg::I64(BATCH),
    ];
    db.explain(&sql, &args).await
}

/// The PostgreSQL advisory lock that lets one replica at a time run the retention job.
const RETENTION_LOCK: i64 = 0x1C1D_E470_0011;

/// The retention job's turn: on PostgreSQL a session advisory lock held on a connection of
/// its own until `release`; on SQLite (one server per file) nothing to hold.
pub struct JobLock(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

impl JobLock {
    /// Takes the retention job's turn, or `None` when another replica holds it.
    pub async fn try_take(db: &Db) -> Result<Option<JobLock>, sqlx::Error> {
        match db {
            Db::Sqlite(..) => Ok(Some(JobLock(None))),
            Db::Postgres(p) => {
                let mut conn = p.acquire().await?;
                let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(RETENTION_LOCK)
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(taken.then_some(JobLock(Some(conn))))
            }
        }
    }

    /// Gives the turn back; if that fails, the connection is closed, which releases it too.
    pub async fn release(mut self) {
        if let Some(mut conn) = self.0.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(RETENTION_LOCK)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                conn.close_on_drop();
            }
        }
    }
}

impl Drop for JobLock {
    /// Dropped without `release` (a panic, a cancelled task): the connection must not go back
    /// to the pool still holding the lock, so it is closed.
    fn drop(&mut self) {
        if let Some(conn) = self.0.as_mut() {
            conn.close_on_drop();
        }
    }
}
