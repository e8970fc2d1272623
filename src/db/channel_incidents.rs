//! Channel health incidents (migration 0016): at most one open per channel (a partial unique
//! index), opened together with the admins' alerts and closed together with the recovery
//! notices, each in one transaction, so replicas racing alert once.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::notifications::{enqueue, NewNotification};
use super::pool::{on_db, on_tx, on_write, Db};

/// An incident as stored.
#[derive(Debug, Clone, FromRow)]
pub struct Incident {
    pub id: i64,
    /// `WHATSAPP` (or `EMAIL`).
    pub channel: String,
    /// The kind of fault (`domain::delivery::ChannelFault::cause`): `auth`, `sender`, ...
    pub cause: String,
    /// The provider error code that opened it.
    pub error_code: String,
    pub cause_text: String,
    pub fix_text: String,
    pub opened_at: DateTime<Utc>,
    /// The last failure counted against it.
    pub last_seen_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Failed sends counted while it was open, the first included.
    pub failures: i64,
}

/// What opens an incident.
#[derive(Debug, Clone)]
pub struct NewIncident<'a> {
    pub channel: &'a str,
    pub cause: &'a str,
    pub error_code: &'a str,
    pub cause_text: &'a str,
    pub fix_text: &'a str,
}

const COLUMNS: &str =
    "id, channel, cause, error_code, cause_text, fix_text, opened_at, last_seen_at, closed_at, failures";

/// Counts one more failure against the channel's open incident; false when none is open.
pub async fn count_failure(
    db: &Db,
    channel: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE channel_incidents SET failures = failures + 1, last_seen_at = $1 \
                       WHERE channel = $2 AND closed_at IS NULL";
    let n = on_write!(db.write().await, p => sqlx::query(SQL).bind(now).bind(channel)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Opens the channel's incident and enqueues `alerts` in the same transaction. `None` when one
/// is open already (another replica opened it first): then nothing is written.
pub async fn open(
    db: &Db,
    new: &NewIncident<'_>,
    alerts: &[NewNotification],
    now: DateTime<Utc>,
) -> Result<Option<Incident>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO channel_incidents (channel, cause, error_code, cause_text, fix_text, opened_at, last_seen_at, failures) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, 1) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let opened: Option<Incident> = on_tx!(&mut tx, c => sqlx::query_as(&sql).bind(new.channel).bind(new.cause)
        .bind(new.error_code).bind(new.cause_text).bind(new.fix_text).bind(now)
        .fetch_optional(&mut *c).await)?;
    if opened.is_some() {
        enqueue(&mut tx, None, None, alerts, now).await?;
    }
    tx.commit().await?;
    Ok(opened)
}

/// Closes the channel's open incident and enqueues the notices `notices` writes for it, in one
/// transaction; `None` when none was open (or another replica closed it first).
pub async fn close(
    db: &Db,
    channel: &str,
    notices: impl FnOnce(&Incident) -> Vec<NewNotification>,
    now: DateTime<Utc>,
) -> Result<Option<(Incident, Vec<NewNotification>)>, sqlx::Error> {
    let sql = format!(
        "UPDATE channel_incidents SET closed_at = $1 WHERE channel = $2 AND closed_at IS NULL RETURNING {COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let closed: Option<Incident> = on_tx!(&mut tx, c => sqlx::query_as(&sql).bind(now).bind(channel)
        .fetch_optional(&mut *c).await)?;
    let Some(incident) = closed else {
        tx.commit().await?;
        return Ok(None);
    };
    let rows = notices(&incident);
    enqueue(&mut tx, None, None, &rows, now).await?;
    tx.commit().await?;
    Ok(Some((incident, rows)))
}

/// The open incidents, by channel.
pub async fn open_incidents(db: &Db) -> Result<Vec<Incident>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM channel_incidents WHERE closed_at IS NULL ORDER BY channel");
    on_db!(db, p => sqlx::query_as(&sql).fetch_all(p).await)
}

/// Whether `channel` has an open incident (the partial unique index answers it).
pub async fn is_open(db: &Db, channel: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "SELECT COUNT(*) FROM channel_incidents WHERE channel = $1 AND closed_at IS NULL";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).bind(channel).fetch_one(p).await)?;
    Ok(n > 0)
}
