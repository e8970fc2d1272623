//! Notification preferences (migration 0011): a user's time zone and quiet hours
//! (`notification_settings`) and the channel choices that differ from the default
//! (`notification_channel_prefs`). A user with no rows has the defaults.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::pool::{bind_args, on_db, on_tx, placeholders, Arg, Db};
use crate::domain::preferences::{clock_minutes, parse_time_zone, Preferences, QuietHours};

/// One user's settings joined with one of their channel choices (or none).
#[derive(Debug, FromRow)]
struct Joined {
    user_id: i64,
    time_zone: Option<String>,
    quiet_start: Option<i32>,
    quiet_end: Option<i32>,
    event: Option<String>,
    channel: Option<String>,
    enabled: Option<bool>,
}

/// The time zone of a stored name; a name this build does not know (a zone removed from the
/// tz database since it was saved) falls back to the default rather than losing the message.
pub fn stored_zone(user_id: i64, name: Option<&str>) -> chrono_tz::Tz {
    let Some(name) = name else {
        return crate::domain::preferences::DEFAULT_TIME_ZONE;
    };
    parse_time_zone(name).unwrap_or_else(|| {
        tracing::warn!(
            user_id,
            time_zone = name,
            "unknown stored time zone; using UTC"
        );
        crate::domain::preferences::DEFAULT_TIME_ZONE
    })
}

/// The preferences of these users, in one query; users without stored preferences are absent
/// (they have the defaults).
pub async fn load(db: &Db, user_ids: &[i64]) -> Result<HashMap<i64, Preferences>, sqlx::Error> {
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT u.id AS user_id, s.time_zone, s.quiet_start, s.quiet_end, c.event, c.channel, c.enabled \
         FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id \
         LEFT JOIN notification_channel_prefs c ON c.user_id = u.id \
         WHERE u.id IN ({}) AND (s.user_id IS NOT NULL OR c.user_id IS NOT NULL)",
        placeholders(user_ids.len())
    );
    let args: Vec<Arg> = user_ids.iter().map(|id| Arg::I64(*id)).collect();
    let rows: Vec<Joined> =
        on_db!(db, p => bind_args!(sqlx::query_as(&sql), &args).fetch_all(p).await)?;
    let mut by_user: HashMap<i64, Preferences> = HashMap::new();
    for r in rows {
        let prefs = by_user.entry(r.user_id).or_insert_with(|| Preferences {
            time_zone: stored_zone(r.user_id, r.time_zone.as_deref()),
            quiet_hours: QuietHours::from_minutes(r.quiet_start, r.quiet_end),
            ..Preferences::default()
        });
        if let (Some(event), Some(channel), Some(on)) = (r.event, r.channel, r.enabled) {
            prefs.set(&event, &channel, on);
        }
    }
    Ok(by_user)
}

/// One user's preferences (the defaults when none are stored).
pub async fn get(db: &Db, user_id: i64) -> Result<Preferences, sqlx::Error> {
    Ok(load(db, &[user_id])
        .await?
        .remove(&user_id)
        .unwrap_or_default())
}

/// Replaces a user's stored preferences with `prefs`, in one transaction; defaults are stored
/// as no rows.
pub async fn save(
    db: &Db,
    user_id: i64,
    prefs: &Preferences,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    const CLEAR_SETTINGS: &str = "DELETE FROM notification_settings WHERE user_id = $1";
    const SETTINGS: &str = "INSERT INTO notification_settings (user_id, time_zone, quiet_start, quiet_end, updated_at) \
                            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET time_zone = $2, quiet_start = $3, \
                            quiet_end = $4, updated_at = $5";
    const CLEAR_CHANNELS: &str = "DELETE FROM notification_channel_prefs WHERE user_id = $1";
    const CHANNEL: &str = "INSERT INTO notification_channel_prefs (user_id, event, channel, enabled) \
                           VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, event, channel) DO UPDATE SET enabled = $4";
    let defaults = Preferences::default();
    let mut tx = db.begin().await?;
    // Upserts, not plain inserts: two saves racing on PostgreSQL both see no rows to delete.
    if prefs.time_zone == defaults.time_zone && prefs.quiet_hours.is_none() {
        on_tx!(&mut tx, c => sqlx::query(CLEAR_SETTINGS).bind(user_id).execute(&mut *c).await.map(|_| ()))?;
    } else {
        let start = prefs.quiet_hours.map(|q| clock_minutes(q.start));
        let end = prefs.quiet_hours.map(|q| clock_minutes(q.end));
        on_tx!(&mut tx, c => sqlx::query(SETTINGS).bind(user_id).bind(prefs.time_zone.name()).bind(start).bind(end)
            .bind(now).execute(&mut *c).await.map(|_| ()))?;
    }
    on_tx!(&mut tx, c => sqlx::query(CLEAR_CHANNELS).bind(user_id).execute(&mut *c).await.map(|_| ()))?;
    for ((event, channel), on) in &prefs.deviations {
        on_tx!(&mut tx, c => sqlx::query(CHANNEL).bind(user_id).bind(event).bind(channel).bind(*on)
            .execute(&mut *c).await.map(|_| ()))?;
    }
    tx.commit().await
}
