//! Notifications as their users and admins handle them: reading the in-app bell, marking rows
//! read, the delivery counts, re-queuing failed deliveries (the worker is woken at once), and
//! recording the delivery statuses the providers call back with, and pruning old history.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::auth::AuthUser;
use crate::db::notifications::{self as store, CallbackOutcome, Filter, NotificationRow};
use crate::db::{retention, Db};
use crate::domain::datetime::now;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Row counts of one channel by status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

impl ChannelCounts {
    pub fn total(&self) -> i64 {
        self.pending + self.sent + self.failed
    }
}

/// Counts by channel and status, and WhatsApp deliveries by the provider's last status.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub email: ChannelCounts,
    pub whatsapp: ChannelCounts,
    pub system: ChannelCounts,
    /// `(delivery status, count)` in status order.
    pub whatsapp_delivery: Vec<(String, i64)>,
}

/// One page of the rows `filter` selects (its scope is the caller's, set by the door).
pub async fn page(
    state: &AppState,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>> {
    Ok(store::list(&state.db, filter, offset, limit).await?)
}

/// How many rows `filter` selects.
pub async fn count(state: &AppState, filter: &Filter) -> Result<i64> {
    Ok(store::count(&state.db, filter).await?)
}

/// The one row of `filter` (which names an id), or "No NotificationLog matches the given query.".
pub async fn retrieve(state: &AppState, filter: &Filter) -> Result<NotificationRow> {
    store::get(&state.db, filter)
        .await?
        .ok_or(Error::NotFound("NotificationLog"))
}

/// How many in-app notifications the user has not read.
pub async fn unread_count(state: &AppState, user: &AuthUser) -> Result<i64> {
    let f = Filter {
        recipient: Some(user.id),
        notification_type: Some("SYSTEM".into()),
        is_read: Some(false),
        ..Filter::default()
    };
    Ok(store::count(&state.db, &f).await?)
}

/// Marks the row of `filter` read and returns it. Only the recipient marks a row read: an admin
/// auditing another's row changes nothing.
pub async fn mark_as_read(
    state: &AppState,
    user: &AuthUser,
    filter: &Filter,
) -> Result<NotificationRow> {
    let row = retrieve(state, filter).await?;
    if row.recipient_id == user.id && !row.is_read {
        let mine = Filter {
            id: Some(row.id),
            recipient: Some(user.id),
            ..Filter::default()
        };
        store::mark_read(&state.db, &mine, now()).await?;
    }
    retrieve(state, filter).await
}

/// Marks all the user's unread in-app rows read (optionally one ticket's); returns how many.
pub async fn mark_all_as_read(
    state: &AppState,
    user: &AuthUser,
    ticket: Option<i64>,
) -> Result<u64> {
    let f = Filter {
        recipient: Some(user.id),
        notification_type: Some("SYSTEM".into()),
        ticket,
        ..Filter::default()
    };
    Ok(store::mark_read(&state.db, &f, now()).await?)
}

/// Counts by channel and status (the setup guide's "Analytics").
pub async fn stats(state: &AppState) -> Result<Stats> {
    let (by_status, by_delivery) = store::stats(&state.db).await?;
    let count = |channel: &str, status: &str| {
        by_status
            .iter()
            .find(|(c, s, _)| c == channel && s == status)
            .map(|r| r.2)
            .unwrap_or(0)
    };
    let channel = |c: &str| ChannelCounts {
        pending: count(c, "PENDING"),
        sent: count(c, "SENT"),
        failed: count(c, "FAILED"),
    };
    Ok(Stats {
        email: channel("EMAIL"),
        whatsapp: channel("WHATSAPP"),
        system: channel("SYSTEM"),
        whatsapp_delivery: by_delivery,
    })
}

/// Re-queues one FAILED e-mail or WhatsApp row and wakes the worker; returns the row as queued.
pub async fn retry(state: &AppState, actor: &AuthUser, id: i64) -> Result<NotificationRow> {
    let f = Filter {
        id: Some(id),
        ..Filter::default()
    };
    let row = retrieve(state, &f).await?;
    if row.provider.as_deref() == Some(crate::db::import::IMPORTED_PROVIDER) {
        return Err(Error::Invalid(
            "Imported from the Django version: its history is not sent again".into(),
        ));
    }
    if row.notification_type == "SYSTEM" || row.status != "FAILED" {
        return Err(Error::Invalid(
            "Only FAILED WhatsApp or e-mail notifications can be retried".into(),
        ));
    }
    store::requeue_failed(&state.db, &row.notification_type, Some(row.id), now()).await?;
    state.outbox.notify_one();
    tracing::info!(id, by = actor.id, "failed notification re-queued");
    retrieve(state, &f).await
}

/// Re-queues every FAILED row of a channel and wakes the worker; returns how many.
pub async fn retry_failed(state: &AppState, actor: &AuthUser, channel: &str) -> Result<u64> {
    let n = store::requeue_failed(&state.db, channel, None, now()).await?;
    state.outbox.notify_one();
    tracing::info!(count = n, channel = %channel, by = actor.id, "failed notifications re-queued");
    Ok(n)
}

/// Records a provider's delivery status for one of our messages. Statuses only move forward; a
/// callback for a message we do not know is acknowledged and logged.
pub async fn record_delivery_status(
    state: &AppState,
    provider: &str,
    message_id: &str,
    status: &str,
    error_code: Option<&str>,
) -> Result<()> {
    let outcome =
        store::apply_delivery_status(&state.db, message_id, status, error_code, now()).await?;
    match outcome {
        CallbackOutcome::UnknownMessage => tracing::info!(
            provider,
            message_id,
            status,
            "status callback for an unknown message: acknowledged"
        ),
        CallbackOutcome::Stale => tracing::debug!(
            provider,
            message_id,
            status,
            "status callback older than what we know: ignored"
        ),
        CallbackOutcome::Updated => {
            tracing::info!(
                provider,
                message_id,
                status,
                error_code,
                "delivery status updated"
            );
            if crate::domain::delivery::is_failure(status) {
                fall_back(state, message_id).await?;
            }
        }
    }
    Ok(())
}

/// A WhatsApp message reported failed may go out by e-mail instead (`notify::fallback`).
async fn fall_back(state: &AppState, message_id: &str) -> Result<()> {
    if let Some(id) = crate::db::fallback::id_of_message(&state.db, message_id).await? {
        if state
            .fallback()
            .after_failure(&state.db, id)
            .await
            .is_some()
        {
            state.outbox.notify_one();
        }
    }
    Ok(())
}

/// What a prune of the log's history deleted (or, in a dry run, would delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Rows created before this went (finished rows of closed tickets or of none).
    pub cutoff: DateTime<Utc>,
    pub dry_run: bool,
    /// Rows per channel, channels without any left out.
    pub by_channel: Vec<(&'static str, u64)>,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.by_channel.iter().map(|c| c.1).sum()
    }
}

/// Deletes the log's finished history older than `older_than` (a dry run only counts it):
/// SENT and FAILED rows of CLOSED tickets or of none, never PENDING rows and never rows of an
/// open ticket. The deletes run in batches of `retention::BATCH` rows, each a statement of its
/// own (on SQLite a short writer turn, other writers taking theirs in between), and the
/// counters stay exact (their triggers run in each batch's transaction).
pub async fn prune_history(db: &Db, older_than: Duration, dry_run: bool) -> Result<Pruned> {
    let older_than = chrono::Duration::from_std(older_than)
        .map_err(|_| Error::Invalid("The retention is too long".into()))?;
    let cutoff = now()
        .checked_sub_signed(older_than)
        .ok_or_else(|| Error::Invalid("The retention is too long".into()))?;
    let mut by_channel = Vec::new();
    for channel in retention::CHANNELS {
        let n = if dry_run {
            retention::count_prunable(db, channel, cutoff).await? as u64
        } else {
            let mut deleted = 0;
            let mut from = None;
            loop {
                let (n, last) =
                    retention::delete_batch(db, channel, cutoff, from, retention::BATCH).await?;
                deleted += n;
                if n < retention::BATCH as u64 {
                    break;
                }
                from = last;
                tokio::task::yield_now().await;
            }
            deleted
        };
        if n > 0 {
            by_channel.push((channel, n));
        }
    }
    Ok(Pruned {
        cutoff,
        dry_run,
        by_channel,
    })
}

/// One pass of the retention job (`NOTIFY_LOG_RETENTION`): prunes what is older than `keep`,
/// unless another replica is doing it (PostgreSQL advisory lock), which returns `None`.
pub async fn retention_pass(db: &Db, keep: Duration) -> Result<Option<Pruned>> {
    let Some(turn) = retention::JobLock::try_take(db).await? else {
        return Ok(None);
    };
    let pruned = prune_history(db, keep, false).await;
    turn.release().await;
    let pruned = pruned?;
    if pruned.total() > 0 {
        tracing::info!(deleted = pruned.total(), cutoff = %pruned.cutoff, "notification history pruned");
    }
    Ok(Some(pruned))
}
