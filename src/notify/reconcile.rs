//! Reconciliation of lost status callbacks: Twilio recommends polling messages stuck without a
//! final status. Every pass fetches `Messages/{Sid}.json` for SENT rows whose delivery status
//! is not settled `NOTIFY_RECONCILE_AFTER` after sending, at most `NOTIFY_RECONCILE_PER_SECOND`
//! fetches a second, and applies what Twilio holds with the callbacks' forward-only rule. One
//! replica at a time (a PostgreSQL advisory lock). Meta reports statuses only through its
//! webhook, so there is nothing to fetch there.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::config::WorkerConfig;
use crate::db::notifications as store;
use crate::db::{Db, DbError};
use crate::notify::fallback::Fallback;
use crate::notify::provider::Provider;

/// Rows sent longer ago than this are left alone: a status still unknown after two days will
/// not be learnt by asking again.
const HORIZON_HOURS: i64 = 48;
/// Fetches per pass at most; the next pass takes the rest.
const PASS_LIMIT: i64 = 200;

/// One reconciliation pass as if the time were `now`; returns how many rows it asked about
/// (0 when another replica holds the turn, or reconciliation is off for this provider).
pub async fn reconcile_once(
    db: &Db,
    provider: &Provider,
    fallback: &Fallback,
    config: &WorkerConfig,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    if !provider.can_fetch_status() || config.reconcile_per_second <= 0.0 {
        return Ok(0);
    }
    let Some(turn) = store::try_reconcile_turn(db).await? else {
        return Ok(0);
    };
    let checked = check_unsettled(db, provider, fallback, config, now).await;
    turn.release().await;
    checked
}

async fn check_unsettled(
    db: &Db,
    provider: &Provider,
    fallback: &Fallback,
    config: &WorkerConfig,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let after =
        chrono::Duration::from_std(config.reconcile_after).unwrap_or(chrono::Duration::minutes(15));
    let since = now - chrono::Duration::hours(HORIZON_HOURS);
    let rows = store::unsettled_sent(db, since, now - after, PASS_LIMIT).await?;
    let pace = Duration::from_secs_f64(1.0 / config.reconcile_per_second);
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(pace).await;
        }
        match provider.fetch_status(&row.provider_message_id).await {
            Ok(Some(fetched)) => {
                let outcome = store::apply_delivery_status_to(
                    db,
                    row.id,
                    row.delivery_status.clone(),
                    &fetched.status,
                    fetched.error_code.as_deref(),
                    now,
                )
                .await?;
                tracing::info!(notification_id = row.id, status = %fetched.status, ?outcome, "delivery status reconciled");
                if outcome == store::CallbackOutcome::Updated
                    && crate::domain::delivery::is_failure(&fetched.status)
                {
                    fallback.after_failure(db, row.id).await;
                }
            }
            Ok(None) => return Ok(i),
            Err(e) => {
                tracing::warn!(notification_id = row.id, error = %e.message(), "cannot fetch a message's status")
            }
        }
        store::mark_checked(db, row.id, now).await?;
    }
    Ok(rows.len())
}

/// Runs a pass every `NOTIFY_RECONCILE_AFTER / 3` (at least every minute) until `stopped`.
pub async fn run(
    db: Db,
    provider: Arc<Provider>,
    fallback: Fallback,
    config: WorkerConfig,
    mut stopped: watch::Receiver<bool>,
) {
    if !provider.can_fetch_status() || config.reconcile_per_second <= 0.0 {
        return;
    }
    let every = (config.reconcile_after / 3).min(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        if let Err(e) = reconcile_once(&db, &provider, &fallback, &config, Utc::now()).await {
            tracing::warn!(error = %e, "reconciliation pass failed");
        }
    }
}
