//! Refresh-token bookkeeping: every issued refresh token is recorded, and rotation blacklists the
//! presented one in the same transaction that records its successor. A password change or a
//! deactivation blacklists every outstanding refresh token of the user (`BLACKLIST_ALL_OF_USER`,
//! SimpleJWT's way), in the transaction that updates the user row; a rotation takes that row's
//! lock first, so of the two, whichever comes second sees the other.

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

/// Blacklists every unexpired refresh token of user `$1` at `$2` (run inside the transaction of
/// a password change or deactivation, after its update of the user row).
pub(super) const BLACKLIST_ALL_OF_USER: &str =
    "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) \
     SELECT id, $2 FROM outstanding_tokens WHERE user_id = $1 AND expires_at > $2 \
     ON CONFLICT (token_id) DO NOTHING";

pub async fn record(db: &Db, t: &Issued<'_>) -> Result<(), sqlx::Error> {
    crate::on_write!(db.write().await, p => sqlx::query(OUTSTANDING).bind(t.user_id).bind(t.jti).bind(t.created_at).bind(t.expires_at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn is_blacklisted(db: &Db, jti: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM blacklisted_tokens b JOIN outstanding_tokens o ON o.id = b.token_id WHERE o.jti = $1";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).bind(jti).fetch_one(p).await)?;
    Ok(n > 0)
}

/// What became of a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// `old` is blacklisted and `new` recorded.
    Rotated,
    /// `old` was already blacklisted (rotated, or revoked by a password change or
    /// deactivation), or was issued before the user's last one: nothing changed.
    Blacklisted,
    /// The user is inactive or gone: nothing changed.
    NoActiveUser,
}

/// Blacklists `old` and records `new`, unless `old` is blacklisted already or was issued before
/// the user's `tokens_valid_after`; of two concurrent rotations of one token exactly one wins.
/// The user row is locked first (a no-op update), so a concurrent password change or
/// deactivation either happened before, and is seen here, or waits and then blacklists `new`.
pub async fn rotate(
    db: &Db,
    old: &Issued<'_>,
    new: &Issued<'_>,
    now: DateTime<Utc>,
) -> Result<Rotation, sqlx::Error> {
    const LOCK_USER: &str =
        "UPDATE users SET tokens_valid_after = tokens_valid_after WHERE id = $1 \
                             RETURNING is_active, tokens_valid_after";
    const FIND: &str = "SELECT id FROM outstanding_tokens WHERE jti = $1";
    const BLACKLIST: &str = "INSERT INTO blacklisted_tokens (token_id, blacklisted_at) VALUES ($1, $2) ON CONFLICT (token_id) DO NOTHING";
    let mut tx = db.begin().await?;
    let outcome = on_tx!(&mut tx, c => 'rotation: {
        let user: Option<(bool, Option<DateTime<Utc>>)> =
            sqlx::query_as(LOCK_USER).bind(old.user_id).fetch_optional(&mut *c).await?;
        let valid_after = match user {
            Some((true, valid_after)) => valid_after,
            _ => break 'rotation Rotation::NoActiveUser,
        };
        if crate::domain::user::revoked(old.created_at, valid_after) {
            break 'rotation Rotation::Blacklisted;
        }
        // Tokens issued by the previous deployment have no row yet.
        sqlx::query(OUTSTANDING).bind(old.user_id).bind(old.jti).bind(old.created_at).bind(old.expires_at).execute(&mut *c).await?;
        let id: i64 = sqlx::query_scalar(FIND).bind(old.jti).fetch_one(&mut *c).await?;
        let r = sqlx::query(BLACKLIST).bind(id).bind(now).execute(&mut *c).await?;
        if r.rows_affected() == 1 {
            sqlx::query(OUTSTANDING).bind(new.user_id).bind(new.jti).bind(new.created_at).bind(new.expires_at).execute(&mut *c).await?;
            Rotation::Rotated
        } else {
            Rotation::Blacklisted
        }
    });
    if outcome == Rotation::Rotated {
        tx.commit().await?;
    }
    Ok(outcome)
}
