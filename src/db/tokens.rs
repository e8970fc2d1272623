//! Refresh-token bookkeeping: every issued refresh token is recorded, and rotation blacklists the
//! presented one in the same transaction that records its successor.

use chrono::{DateTime, Utc};

use super::pool::{on_db, on_tx, Db};

pub struct Issued<'a> {
    pub user_id: i64,
    pub jti: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const OUTSTANDING: &str = "INSERT INTO outstanding_tokens (user_id, jti, created_at, expires_at) VALUES ($1, $2, $3, $4) \
                           ON CONFLICT (jti) DO NOTHING";

pub async fn record(db: &Db, t: &Issued<'_>) -> Result<(), sqlx::Error> {
    crate::on_write!(db.write().await, p => sqlx::query(OUTSTANDING).bind(t.user_id).bind(t.jti).bind(t.created_at).bind(t.expires_at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn is_blacklisted(db: &Db, jti: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM blacklisted_tokens b JOIN outstanding_tokens o ON o.id = b.token_id WHERE o.jti = $1";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).bind(jti).fetch_one(p).await)?;
    Ok(n > 0)
}

/// Blacklists `old` and records `new`. Returns false (and changes nothing) when `old` was
/// already blacklisted, so of two concurrent rotations of one token exactly one succeeds.
pub async fn rotate(
    db: &Db,
    old: &Issued<'_>,
    new: &Issued<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    const FIND: &str = "SELECT id FROM outstanding_tokens WHERE jti = $1";
    const BLACKLIST: &str = "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) VALUES ($1, $2) ON CONFLICT (token_id) DO NOTHING";
    let mut tx = db.begin().await?;
    let won = on_tx!(&mut tx, c => {
        // Tokens issued by the previous deployment have no row yet.
        sqlx::query(OUTSTANDING).bind(old.user_id).bind(old.jti).bind(old.created_at).bind(old.expires_at).execute(&mut *c).await?;
        let id: i64 = sqlx::query_scalar(FIND).bind(old.jti).fetch_one(&mut *c).await?;
        let r = sqlx::query(BLACKLIST).bind(id).bind(now).execute(&mut *c).await?;
        if r.rows_affected() == 1 {
            sqlx::query(OUTSTANDING).bind(new.user_id).bind(new.jti).bind(new.created_at).bind(new.expires_at).execute(&mut *c).await?;
            true
        } else {
            false
        }
    });
    if won {
        tx.commit().await?;
    }
    Ok(won)
}
