//! Admin console sessions (migration 0014): rows keyed by the SHA-256 of the cookie's random id.
//! A lookup joins the user, so one query answers "who is this, and may they still be here".

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::pool::{on_db, Db};
use crate::domain::user::Role;

/// A session with what the console needs of its user.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Sessions created before this (a password change or a deactivation) are over.
    pub tokens_valid_after: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Deletes every session of user `$1` (run in the transaction of a password change or
/// deactivation, `db/users.rs`).
pub(super) const END_ALL_OF_USER: &str = "DELETE FROM console_sessions WHERE user_id = $1";

pub async fn create(
    db: &Db,
    id_hash: &str,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO console_sessions (id_hash, user_id, created_at, last_seen_at) \
                       VALUES ($1, $2, $3, $3)";
    crate::on_write!(db.write().await, p => sqlx::query(SQL).bind(id_hash).bind(user_id).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, id_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    const SQL: &str =
        "SELECT s.user_id, u.username, u.first_name, u.last_name, u.is_active, p.role, \
                       u.tokens_valid_after, s.created_at, s.last_seen_at \
                       FROM console_sessions s JOIN users u ON u.id = s.user_id \
                       JOIN user_profiles p ON p.user_id = u.id WHERE s.id_hash = $1";
    on_db!(db, p => sqlx::query_as(SQL).bind(id_hash).fetch_optional(p).await)
}

/// Records a use of the session (the idle clock starts again).
pub async fn touch(db: &Db, id_hash: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2";
    crate::on_write!(db.write().await, p => sqlx::query(SQL).bind(now).bind(id_hash).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(db: &Db, id_hash: &str) -> Result<(), sqlx::Error> {
    const SQL: &str = "DELETE FROM console_sessions WHERE id_hash = $1";
    crate::on_write!(db.write().await, p => sqlx::query(SQL).bind(id_hash).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes the sessions idle since `idle_before` or created before `created_before`.
pub async fn prune(
    db: &Db,
    idle_before: DateTime<Utc>,
    created_before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    const SQL: &str = "DELETE FROM console_sessions WHERE last_seen_at < $1 OR created_at < $2";
    crate::on_write!(db.write().await, p => sqlx::query(SQL).bind(idle_before).bind(created_before).execute(p).await.map(|r| r.rows_affected()))
}

/// How many sessions a user has (tests and diagnostics).
pub async fn count_of_user(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM console_sessions WHERE user_id = $1";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(user_id).fetch_one(p).await)
}
