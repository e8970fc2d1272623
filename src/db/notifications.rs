//! The notification log, which is also the delivery outbox: rows are written PENDING in the
//! transaction of the step that causes them.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::FromRow;

use crate::domain::delivery;

use super::pool::{bind_args, on_db, on_tx, on_write, placeholders_from, Arg, Db, Tx};
pub use crate::domain::preferences::Hold;

/// A row to enqueue with a workflow step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub recipient_id: i64,
    /// `WHATSAPP`, `SYSTEM` or `EMAIL`.
    pub notification_type: &'static str,
    pub subject: String,
    pub message: String,
    /// Template variables as a JSON array, for providers sending an approved template.
    pub variables: Option<String>,
    /// EMAIL rows: the HTML alternative of `message`.
    pub html: Option<String>,
    /// `PENDING` for rows the worker delivers; `SENT` for SYSTEM rows, which are delivered by
    /// being stored.
    pub status: &'static str,
    pub event: &'static str,
    /// For a PENDING row due inside the recipient's quiet hours: sent no earlier than their
    /// end, with the reason shown in the log's `error_message` meanwhile.
    pub hold: Option<Hold>,
}

pub use super::listen::WAKE_CHANNEL;

/// Inserts the rows of one step; a unique key on (ticket, event, recipient, channel, step)
/// makes a repeated step insert nothing twice. Returns how many rows were new. The rows go in
/// one multi-row INSERT (in chunks), not one round trip each. Rows about no ticket (a channel
/// health alert: `ticket_id` and `step` `None`) are not deduplicated by that key.
pub async fn enqueue(
    tx: &mut Tx,
    ticket_id: Option<i64>,
    step: Option<i64>,
    rows: &[NewNotification],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    /// Parameters per row; the ticket, the step and the time are shared ($1, $2, $3).
    const PER_ROW: usize = 11;
    /// Rows per statement: far below either engine's limit on parameters.
    const CHUNK: usize = 500;
    let mut added = 0;
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = |k: usize| format!("${}", 4 + i * PER_ROW + k);
                format!(
                    "($1, {}, {}, {}, {}, {}, {}, {}, $2, {}, $3, $3, {}, {}, FALSE, 0, {})",
                    p(0),
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7),
                    p(8),
                    p(9),
                    p(10)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, status, \
             template_variables, event, step, sent_at, created_at, updated_at, next_attempt_at, error_message, is_read, attempts, html) \
             VALUES {} ON CONFLICT (ticket_id, event, recipient_id, notification_type, step) DO NOTHING",
            values.join(", ")
        );
        added += on_tx!(tx, c => {
            let mut q = sqlx::query(&sql).bind(ticket_id).bind(step).bind(now);
            for r in chunk {
                let sent_at = (r.status == "SENT").then_some(now);
                let next_attempt = (r.status == "PENDING").then(|| r.hold.as_ref().map_or(now, |h| h.until));
                let held_because = r.hold.as_ref().map(|h| h.reason.as_str());
                q = q.bind(r.recipient_id).bind(r.notification_type).bind(&r.subject).bind(&r.message)
                    .bind(r.status).bind(&r.variables).bind(r.event).bind(sent_at).bind(next_attempt).bind(held_because).bind(&r.html);
            }
            q.execute(&mut *c).await.map(|x| x.rows_affected())
        })?;
    }
    // Other replicas' workers are woken after the commit (`notify::committed`), not here: a
    // NOTIFY inside the transaction makes every commit take one cluster-wide lock in turn.
    Ok(added)
}

// ---------------------------------------------------------------------------------------------
// Delivery (the worker)

/// A claimed row with what sending it needs.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub recipient_id: i64,
    pub ticket_id: Option<i64>,
    /// `WHATSAPP` or `EMAIL`: which sender delivers it.
    pub notification_type: String,
    pub subject: String,
    pub message: String,
    pub html: Option<String>,
    pub email: String,
    pub template_variables: Option<String>,
    pub event: Option<String>,
    pub attempts: i32,
    pub username: String,
    pub whatsapp_number: Option<String>,
    pub is_active: bool,
    /// When the first attempt began (this claim's time for a new row): the retry budget runs
    /// from here.
    pub first_attempt_at: Option<DateTime<Utc>>,
    /// When an earlier attempt began that recorded no outcome (a crash, or an answer that left
    /// it unknown whether the provider took the message): look it up before sending again.
    pub unresolved_since: Option<DateTime<Utc>>,
    /// The recipient's time zone and quiet hours (`notification_settings`), checked again at
    /// claim time: a retry may fall inside them.
    pub time_zone: Option<String>,
    pub quiet_start: Option<i32>,
    pub quiet_end: Option<i32>,
    /// The recipient's WhatsApp window and opt-out; `path`: how the worker sends the row
    /// (`domain::whatsapp::route`), recorded with the outcome.
    pub whatsapp_last_inbound_at: Option<DateTime<Utc>>,
    pub whatsapp_opted_out_at: Option<DateTime<Utc>>,
    #[sqlx(skip)]
    pub path: Option<&'static str>,
}

/// The due rows, oldest first: on PostgreSQL the rows to lease (locked, skipping those another
/// replica is leasing). The partial index `notification_log_due_idx` (PENDING rows only) serves
/// it on both engines however big the log grows: on PostgreSQL the predicate matches the
/// index's, on SQLite `INDEXED BY` names it (without statistics SQLite preferred the index on
/// the channel and scanned every WhatsApp row; with `INDEXED BY` a query that could not use it
/// fails instead of scanning).
const DUE_PG: &str =
    "SELECT id FROM notification_log WHERE status = 'PENDING' AND notification_type IN ('WHATSAPP', 'EMAIL') \
                      AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
                      ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED";
const DUE_LITE: &str = "SELECT id FROM notification_log INDEXED BY notification_log_due_idx \
                        WHERE status = 'PENDING' AND notification_type IN ('WHATSAPP', 'EMAIL') AND next_attempt_at <= $1 \
                        AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at, id LIMIT $2";

/// Leases up to `limit` due WhatsApp and e-mail rows until `lease_until`. On PostgreSQL, `SKIP LOCKED`
/// lets several replicas claim from one queue without waiting on each other. On SQLite the due
/// rows are found on a reader, outside the writer turn (an idle poll never takes it); the
/// UPDATE that leases them, under the turn, checks again that each is still due and unleased.
pub async fn claim_due(
    db: &Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    // Stored and compared exactly on both engines (PostgreSQL keeps microseconds): a row's
    // `attempt_started_at` equal to this claim's time is this claim's own mark.
    let now = now.trunc_subsecs(6);
    let ids: Vec<i64> = match db {
        Db::Postgres(p) => {
            let sql = format!(
                "WITH due AS ({DUE_PG}) UPDATE notification_log n SET lease_until = $3, \
                 attempt_started_at = COALESCE(n.attempt_started_at, $1), first_attempt_at = COALESCE(n.first_attempt_at, $1) \
                 FROM due WHERE n.id = due.id RETURNING n.id"
            );
            sqlx::query_scalar(&sql)
                .bind(now)
                .bind(limit)
                .bind(lease_until)
                .fetch_all(p)
                .await?
        }
        Db::Sqlite(read, _) => {
            let due: Vec<i64> = sqlx::query_scalar(DUE_LITE)
                .bind(now)
                .bind(limit)
                .fetch_all(read)
                .await?;
            if due.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "UPDATE notification_log SET lease_until = $1, attempt_started_at = COALESCE(attempt_started_at, $2), \
                 first_attempt_at = COALESCE(first_attempt_at, $2) WHERE status = 'PENDING' \
                 AND (lease_until IS NULL OR lease_until < $2) AND id IN ({}) RETURNING id",
                placeholders_from(3, due.len())
            );
            let args: Vec<Arg> = due.into_iter().map(Arg::I64).collect();
            on_write!(db.write().await, p => bind_args!(sqlx::query_scalar(&sql).bind(lease_until).bind(now), &args)
                .fetch_all(p).await)?
        }
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Every attempt of the batch counts as started from the claim on (no write per send): a
    // row never sent because the process died costs one look-up at the provider, not a
    // duplicate. `release` takes the mark back from rows given up unsent.
    let sql = format!(
        "SELECT n.id, n.recipient_id, n.ticket_id, n.notification_type, n.subject, n.message, n.html, u.email, \
         n.template_variables, n.event, n.attempts, u.username, \
         p.whatsapp_number, u.is_active, n.first_attempt_at, \
         CASE WHEN n.attempt_started_at < $1 THEN n.attempt_started_at END AS unresolved_since, \
         s.time_zone, s.quiet_start, s.quiet_end, p.whatsapp_last_inbound_at, p.whatsapp_opted_out_at \
         FROM notification_log n JOIN users u ON u.id = n.recipient_id \
         JOIN user_profiles p ON p.user_id = u.id LEFT JOIN notification_settings s ON s.user_id = u.id \
         WHERE n.id IN ({}) ORDER BY n.next_attempt_at, n.id",
        placeholders_from(2, ids.len())
    );
    let args: Vec<Arg> = ids.into_iter().map(Arg::I64).collect();
    on_db!(db, p => bind_args!(sqlx::query_as(&sql).bind(now), &args).fetch_all(p).await)
}

/// The plan of the claim's search for due rows (see `Db::explain`): tests and the benchmark
/// check it uses the due index.
pub async fn claim_plan(db: &Db, now: DateTime<Utc>) -> Result<Vec<String>, sqlx::Error> {
    let sql = match db {
        Db::Postgres(_) => DUE_PG,
        Db::Sqlite(..) => DUE_LITE,
    };
    db.explain(sql, &[Arg::Time(now), Arg::I64(10)]).await
}

/// The provider accepted the message.
pub async fn mark_sent(
    db: &Db,
    id: i64,
    provider: &str,
    message_id: &str,
    delivery_status: Option<&str>,
    path: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE notification_log SET status = 'SENT', sent_at = $1, provider = $2, provider_message_id = $3, \
                       delivery_status = $4, attempts = attempts + 1, lease_until = NULL, next_attempt_at = NULL, attempt_started_at = NULL, \
                       error_code = NULL, error_message = NULL, updated_at = $1, whatsapp_path = COALESCE($6, whatsapp_path) \
                       WHERE id = $5 AND status = 'PENDING'";
    let n = on_write!(db.write().await, p => sqlx::query(SQL).bind(now).bind(provider).bind(message_id).bind(delivery_status).bind(id)
        .bind(path).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A transient failure: try again at `next_attempt_at`, keeping the last error for the log.
/// `unresolved`: the provider may have taken the message anyway (a timeout, a 5xx), so the
/// attempt's start stays marked and the next attempt looks the message up first.
#[allow(clippy::too_many_arguments)]
pub async fn mark_retry(
    db: &Db,
    id: i64,
    provider: &str,
    code: Option<&str>,
    message: &str,
    next_attempt_at: DateTime<Utc>,
    unresolved: bool,
    path: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE notification_log SET attempts = attempts + 1, next_attempt_at = $1, lease_until = NULL, \
                       attempt_started_at = CASE WHEN $7 THEN attempt_started_at END, whatsapp_path = COALESCE($8, whatsapp_path), \
                       provider = $2, error_code = $3, error_message = $4, updated_at = $5 WHERE id = $6 AND status = 'PENDING'";
    let n = on_write!(db.write().await, p => sqlx::query(SQL).bind(next_attempt_at).bind(provider).bind(code).bind(message).bind(now).bind(id)
        .bind(unresolved).bind(path).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A claimed row due inside its recipient's quiet hours: back in the queue, unleased, until
/// they end, saying why (no attempt is counted).
pub async fn mark_held(
    db: &Db,
    id: i64,
    hold: &Hold,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    // `now` is the claim's time: the claim's own marks (attempt started, first attempt) are taken
    // back, as `release` does, since nothing was sent; an earlier attempt's mark stays.
    const SQL: &str = "UPDATE notification_log SET next_attempt_at = $1, lease_until = NULL, error_message = $2, \
                       updated_at = $3, \
                       attempt_started_at = CASE WHEN attempt_started_at >= $5 THEN NULL ELSE attempt_started_at END, \
                       first_attempt_at = CASE WHEN first_attempt_at >= $5 THEN NULL ELSE first_attempt_at END \
                       WHERE id = $4 AND status = 'PENDING'";
    let claimed_at = now.trunc_subsecs(6);
    let n = on_write!(db.write().await, p => sqlx::query(SQL).bind(hold.until).bind(&hold.reason).bind(now).bind(id).bind(claimed_at)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A permanent failure, or the last attempt failed.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    provider: &str,
    code: Option<&str>,
    message: &str,
    path: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE notification_log SET status = 'FAILED', attempts = attempts + 1, next_attempt_at = NULL, \
                       lease_until = NULL, attempt_started_at = NULL, provider = $1, error_code = $2, error_message = $3, updated_at = $4, \
                       whatsapp_path = COALESCE($6, whatsapp_path) WHERE id = $5 AND status = 'PENDING'";
    let n = on_write!(db.write().await, p => sqlx::query(SQL).bind(provider).bind(code).bind(message).bind(now).bind(id)
        .bind(path).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives back leases of rows claimed at `claimed_at` but not sent (on shutdown), so another
/// replica can take them at once instead of waiting for the lease to expire. The mark of an
/// attempt started by that claim goes too; an earlier unresolved attempt's stays.
pub async fn release(db: &Db, ids: &[i64], claimed_at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE notification_log SET lease_until = NULL, attempt_started_at = CASE WHEN attempt_started_at >= $1 \
         THEN NULL ELSE attempt_started_at END WHERE status = 'PENDING' AND id IN ({})",
        placeholders_from(2, ids.len())
    );
    let args: Vec<Arg> = ids.iter().map(|i| Arg::I64(*i)).collect();
    let claimed_at = claimed_at.trunc_subsecs(6);
    on_write!(db.write().await, p => bind_args!(sqlx::query(&sql).bind(claimed_at), &args).execute(p).await.map(|_| ()))
}

/// (pending rows, age in seconds of the oldest) for metrics and health.
pub async fn queue_depth(db: &Db, now: DateTime<Utc>) -> Result<(i64, f64), sqlx::Error> {
    const SQL: &str =
        "SELECT COUNT(*), MIN(created_at) FROM notification_log WHERE status = 'PENDING'";
    let (n, oldest): (i64, Option<DateTime<Utc>>) =
        on_db!(db, p => sqlx::query_as(SQL).fetch_one(p).await)?;
    let age = oldest
        .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
        .unwrap_or(0.0);
    Ok((n, age))
}

// ---------------------------------------------------------------------------------------------
// Provider status callbacks

/// What a callback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    UnknownMessage,
    /// Older than (or the same as) what we know: ignored.
    Stale,
    Updated,
}

/// Moves a message's delivery status forward (`domain::delivery::moves_forward`); a failure
/// (`undelivered`/`failed`) also marks the row FAILED with the provider's error code and the
/// guide's cause and fix (`domain::delivery::reported_failure_message`).
pub async fn apply_delivery_status(
    db: &Db,
    provider_message_id: &str,
    status: &str,
    error_code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CallbackOutcome, sqlx::Error> {
    const FIND: &str =
        "SELECT id, delivery_status FROM notification_log WHERE provider_message_id = $1";
    let row: Option<(i64, Option<String>)> =
        on_db!(db, p => sqlx::query_as(FIND).bind(provider_message_id).fetch_optional(p).await)?;
    let Some((id, current)) = row else {
        return Ok(CallbackOutcome::UnknownMessage);
    };
    apply_delivery_status_to(db, id, current, status, error_code, now).await
}

/// `apply_delivery_status` for row `id`, whose delivery status was read as `current`.
pub async fn apply_delivery_status_to(
    db: &Db,
    id: i64,
    mut current: Option<String>,
    status: &str,
    error_code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CallbackOutcome, sqlx::Error> {
    const READ: &str = "SELECT delivery_status FROM notification_log WHERE id = $1";
    const SET: &str = "UPDATE notification_log SET delivery_status = $1, updated_at = $2, delivery_checked_at = $2 \
                       WHERE id = $3 AND COALESCE(delivery_status, '') = $4";
    const FAIL: &str = "UPDATE notification_log SET delivery_status = $1, updated_at = $2, delivery_checked_at = $2, \
                        status = 'FAILED', error_code = $5, error_message = $6 WHERE id = $3 AND COALESCE(delivery_status, '') = $4";
    for _ in 0..3 {
        if !delivery::moves_forward(current.as_deref(), status) {
            return Ok(CallbackOutcome::Stale);
        }
        let held = current.clone().unwrap_or_default();
        // Compare-and-set on the status we read: two callbacks racing cannot move it back.
        let n = if delivery::is_failure(status) {
            let message = delivery::reported_failure_message(status, error_code);
            on_write!(db.write().await, p => sqlx::query(FAIL).bind(status).bind(now).bind(id).bind(&held).bind(error_code).bind(message)
                .execute(p).await.map(|r| r.rows_affected()))?
        } else {
            on_write!(db.write().await, p => sqlx::query(SET).bind(status).bind(now).bind(id).bind(&held)
                .execute(p).await.map(|r| r.rows_affected()))?
        };
        if n == 1 {
            return Ok(CallbackOutcome::Updated);
        }
        current =
            on_db!(db, p => sqlx::query_scalar(READ).bind(id).fetch_optional(p).await)?.flatten();
    }
    Ok(CallbackOutcome::Stale)
}

// ---------------------------------------------------------------------------------------------
// The notifications API

#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub recipient_id: i64,
    pub notification_type: String,
    pub subject: String,
    pub message: String,
    pub status: String,
    pub error_message: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub is_read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub event: Option<String>,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub delivery_status: Option<String>,
    pub error_code: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// An e-mail sent because this WhatsApp row failed.
    pub fallback_of: Option<i64>,
    pub whatsapp_path: Option<String>,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    /// The listing's total in paginated listings (`list`).
    #[sqlx(default)]
    pub total_count: i64,
}

/// Which rows a listing covers.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this recipient's rows (everyone but admins asking for a channel).
    pub recipient: Option<i64>,
    pub notification_type: Option<String>,
    pub is_read: Option<bool>,
    pub ticket: Option<i64>,
    pub status: Option<String>,
    pub delivery_status: Option<String>,
    pub id: Option<i64>,
    /// The workflow event (`ticket_created`...), for the admin console's log.
    pub event: Option<String>,
    /// Rows created at or after this (the console's date range).
    pub created_from: Option<DateTime<Utc>>,
    /// Rows created before this.
    pub created_before: Option<DateTime<Utc>>,
}

fn filter_sql(f: &Filter) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut where_ = vec!["1 = 1".to_string()];
    let push = |cond: &str, arg: Arg, where_: &mut Vec<String>, args: &mut Vec<Arg>| {
        args.push(arg);
        where_.push(cond.replace("$?", &format!("${}", args.len())));
    };
    if let Some(t) = &f.notification_type {
        push(
            "n.notification_type = $?",
            Arg::Text(t.clone()),
            &mut where_,
            &mut args,
        );
    }
    if let Some(r) = f.recipient {
        push("n.recipient_id = $?", Arg::I64(r), &mut where_, &mut args);
    }
    if let Some(t) = f.ticket {
        push("n.ticket_id = $?", Arg::I64(t), &mut where_, &mut args);
    }
    if let Some(s) = &f.status {
        push(
            "n.status = $?",
            Arg::Text(s.clone()),
            &mut where_,
            &mut args,
        );
    }
    if let Some(s) = &f.delivery_status {
        push(
            "n.delivery_status = $?",
            Arg::Text(s.clone()),
            &mut where_,
            &mut args,
        );
    }
    if let Some(id) = f.id {
        push("n.id = $?", Arg::I64(id), &mut where_, &mut args);
    }
    if let Some(e) = &f.event {
        push("n.event = $?", Arg::Text(e.clone()), &mut where_, &mut args);
    }
    if let Some(t) = f.created_from {
        push("n.created_at >= $?", Arg::Time(t), &mut where_, &mut args);
    }
    if let Some(t) = f.created_before {
        push("n.created_at < $?", Arg::Time(t), &mut where_, &mut args);
    }
    if let Some(read) = f.is_read {
        where_.push(
            if read {
                "n.is_read = TRUE"
            } else {
                "n.is_read = FALSE"
            }
            .to_string(),
        );
    }
    (format!("WHERE {}", where_.join(" AND ")), args)
}

/// How many rows `f` covers. Filters on the channel, status and delivery status alone (the
/// admin's log) read the maintained counters (`notification_counts`, kept by triggers in the
/// transaction of every write to the log), not the log; any other filter (a recipient, a
/// ticket, read or unread, one id) counts through its index (the bell's unread count is one
/// range of `notification_log_recipient_unread_idx`).
pub async fn count(db: &Db, f: &Filter) -> Result<i64, sqlx::Error> {
    let (sql, args) = count_query(f);
    on_db!(db, p => bind_args!(sqlx::query_scalar(&sql), &args).fetch_one(p).await)
}

/// The plan of `count(f)` (see `Db::explain`).
pub async fn count_plan(db: &Db, f: &Filter) -> Result<Vec<String>, sqlx::Error> {
    let (sql, args) = count_query(f);
    db.explain(&sql, &args).await
}

fn count_query(f: &Filter) -> (String, Vec<Arg>) {
    // The counters key a missing delivery status as '', which `= ''` on the log never matches.
    let counters_serve = f.recipient.is_none()
        && f.ticket.is_none()
        && f.id.is_none()
        && f.is_read.is_none()
        && f.event.is_none()
        && f.created_from.is_none()
        && f.created_before.is_none()
        && f.delivery_status.as_deref() != Some("");
    if counters_serve {
        return counted_query(f);
    }
    let (clause, args) = filter_sql(f);
    (
        format!("SELECT COUNT(*) FROM notification_log n {clause}"),
        args,
    )
}

/// `count` from the counters: the sum of the slots matching the channel, status and delivery
/// status of `f` (a counter's delivery status is '' where the row has none).
fn counted_query(f: &Filter) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut where_ = vec!["1 = 1".to_string()];
    for (column, value) in [
        ("notification_type", &f.notification_type),
        ("status", &f.status),
        ("delivery_status", &f.delivery_status),
    ] {
        if let Some(v) = value {
            args.push(Arg::Text(v.clone()));
            where_.push(format!("{column} = ${}", args.len()));
        }
    }
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM notification_counts WHERE {}",
        where_.join(" AND ")
    );
    (sql, args)
}

/// One page of the log, newest first: the rows are read in index order and the reading stops
/// at the page (no window over every matching row); the total comes from `count`, asked only
/// when the page has rows (`PageRequest::load` counts an empty page itself).
pub async fn list(
    db: &Db,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    let mut rows = select(db, f, offset, limit).await?;
    if !rows.is_empty() {
        let total = count(db, f).await?;
        for r in &mut rows {
            r.total_count = total;
        }
    }
    Ok(rows)
}

async fn select(
    db: &Db,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    let (sql, args) = select_query(f, offset, limit);
    on_db!(db, p => bind_args!(sqlx::query_as(&sql), &args).fetch_all(p).await)
}

/// The plan of one page of `list(f)` (see `Db::explain`).
pub async fn list_plan(
    db: &Db,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let (sql, args) = select_query(f, offset, limit);
    db.explain(&sql, &args).await
}

/// The page's query. `LEFT JOIN` (every row has its recipient) keeps the log the outer loop:
/// without statistics SQLite otherwise walked the users and sorted all their rows.
fn select_query(f: &Filter, offset: i64, limit: i64) -> (String, Vec<Arg>) {
    let (clause, mut args) = filter_sql(f);
    args.push(Arg::I64(limit));
    args.push(Arg::I64(offset));
    let n = args.len();
    let sql = format!(
        "SELECT n.id, n.ticket_id, n.recipient_id, n.notification_type, n.subject, n.message, n.status, n.error_message, \
         n.sent_at, n.created_at, n.is_read, n.read_at, n.event, n.provider, n.provider_message_id, n.delivery_status, \
         n.error_code, n.attempts, n.next_attempt_at, n.fallback_of, n.whatsapp_path, u.username, u.first_name, u.last_name \
         FROM notification_log n LEFT JOIN users u ON u.id = n.recipient_id {clause} \
         ORDER BY n.created_at DESC, n.id DESC LIMIT ${} OFFSET ${}",
        n - 1,
        n
    );
    (sql, args)
}

pub async fn get(db: &Db, f: &Filter) -> Result<Option<NotificationRow>, sqlx::Error> {
    Ok(select(db, f, 0, 1).await?.into_iter().next())
}

/// Differences between the counters and the log, as (channel, status, delivery status,
/// counted, actual): empty when the counters are exact. For tests and for checking a database
/// by hand; it reads the whole log.
pub async fn counter_drift(
    db: &Db,
) -> Result<Vec<(String, String, String, i64, i64)>, sqlx::Error> {
    const SQL: &str = "WITH actual AS (SELECT notification_type, status, COALESCE(delivery_status, '') AS delivery_status, \
                       COUNT(*) AS n FROM notification_log GROUP BY 1, 2, 3), \
                       counted AS (SELECT notification_type, status, delivery_status, CAST(SUM(n) AS BIGINT) AS n \
                       FROM notification_counts GROUP BY 1, 2, 3), \
                       keys AS (SELECT notification_type, status, delivery_status FROM actual UNION \
                       SELECT notification_type, status, delivery_status FROM counted) \
                       SELECT k.notification_type, k.status, k.delivery_status, CAST(COALESCE(c.n, 0) AS BIGINT), \
                       CAST(COALESCE(a.n, 0) AS BIGINT) FROM keys k \
                       LEFT JOIN actual a ON a.notification_type = k.notification_type AND a.status = k.status \
                       AND a.delivery_status = k.delivery_status \
                       LEFT JOIN counted c ON c.notification_type = k.notification_type AND c.status = k.status \
                       AND c.delivery_status = k.delivery_status \
                       WHERE COALESCE(c.n, 0) <> COALESCE(a.n, 0) ORDER BY 1, 2, 3";
    on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)
}

/// Marks rows of `f` read (only unread ones keep their first `read_at`); returns how many.
pub async fn mark_read(db: &Db, f: &Filter, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut f = f.clone();
    f.is_read = Some(false);
    let (clause, args) = filter_sql(&f);
    let sql = format!(
        "UPDATE notification_log SET is_read = TRUE, read_at = ${} WHERE id IN (SELECT n.id FROM notification_log n {clause})",
        args.len() + 1
    );
    on_write!(db.write().await, p => bind_args!(sqlx::query(&sql), &args).bind(now).execute(p).await.map(|r| r.rows_affected()))
}

/// Counts by channel and status, and WhatsApp rows by delivery status.
pub async fn stats(
    db: &Db,
) -> Result<(Vec<(String, String, i64)>, Vec<(String, i64)>), sqlx::Error> {
    // From the counters (see `count`), not the log: a few dozen rows however big the log is.
    const BY_STATUS: &str = "SELECT notification_type, status, CAST(SUM(n) AS BIGINT) FROM notification_counts \
                             GROUP BY notification_type, status HAVING SUM(n) <> 0 ORDER BY notification_type, status";
    const BY_DELIVERY: &str =
        "SELECT CASE WHEN delivery_status = '' THEN 'unknown' ELSE delivery_status END, \
                               CAST(SUM(n) AS BIGINT) FROM notification_counts \
                               WHERE notification_type = 'WHATSAPP' AND status <> 'PENDING' \
                               GROUP BY 1 HAVING SUM(n) <> 0 ORDER BY 1";
    let a = on_db!(db, p => sqlx::query_as(BY_STATUS).fetch_all(p).await)?;
    let b = on_db!(db, p => sqlx::query_as(BY_DELIVERY).fetch_all(p).await)?;
    Ok((a, b))
}

/// Puts FAILED rows of a channel (or one row) back in the queue, for the day the cause is fixed.
/// Rows imported from the Django version (`provider` `django`) are history and stay as they are.
pub async fn requeue_failed(
    db: &Db,
    channel: &str,
    id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    const ONE: &str = "UPDATE notification_log SET status = 'PENDING', attempts = 0, next_attempt_at = $1, lease_until = NULL, \
                       error_code = NULL, error_message = NULL, delivery_status = NULL, first_attempt_at = NULL, attempt_started_at = NULL, \
                       updated_at = $1 WHERE status = 'FAILED' AND notification_type = $2 AND id = $3 AND (provider IS NULL OR provider <> 'django')";
    const ALL: &str = "UPDATE notification_log SET status = 'PENDING', attempts = 0, next_attempt_at = $1, lease_until = NULL, \
                       error_code = NULL, error_message = NULL, delivery_status = NULL, first_attempt_at = NULL, attempt_started_at = NULL, \
                       updated_at = $1 WHERE status = 'FAILED' AND notification_type = $2 AND (provider IS NULL OR provider <> 'django')";
    on_write!(db.write().await, p => match id {
        Some(id) => sqlx::query(ONE).bind(now).bind(channel).bind(id).execute(p).await.map(|r| r.rows_affected()),
        None => sqlx::query(ALL).bind(now).bind(channel).execute(p).await.map(|r| r.rows_affected()),
    })
}

impl super::pool::PageRow for NotificationRow {
    fn total_count(&self) -> i64 {
        self.total_count
    }
}

// ---------------------------------------------------------------------------------------------
// Reconciliation of lost status callbacks

/// The advisory lock key of reconciliation on PostgreSQL ("reconcile" in ASCII, shortened).
const RECONCILE_LOCK: i64 = 0x7265_636f_6e63;

/// This replica's turn at reconciliation, held until `release`: on PostgreSQL a session
/// advisory lock on a connection of its own (a replica that dies loses its connection and
/// with it the lock); SQLite has one process per database file, so the turn is always free.
pub struct ReconcileTurn(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

/// The turn if no other replica holds it.
pub async fn try_reconcile_turn(db: &Db) -> Result<Option<ReconcileTurn>, sqlx::Error> {
    let Db::Postgres(pool) = db else {
        return Ok(Some(ReconcileTurn(None)));
    };
    let mut conn = pool.acquire().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RECONCILE_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    Ok(got.then_some(ReconcileTurn(Some(conn))))
}

impl ReconcileTurn {
    pub async fn release(mut self) {
        if let Some(mut conn) = self.0.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(RECONCILE_LOCK)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                // Closing the session is what frees the lock for sure.
                let _ = conn.detach();
            }
        }
    }
}

impl Drop for ReconcileTurn {
    /// A turn dropped without `release` (its task aborted) closes its session, which frees the
    /// lock, rather than going back to the pool still holding it.
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

/// A SENT row whose delivery status the provider may know better than we do.
#[derive(Debug, Clone, FromRow)]
pub struct Unsettled {
    pub id: i64,
    pub provider_message_id: String,
    pub delivery_status: Option<String>,
}

/// Up to `limit` Twilio rows sent between `since` and `before` whose delivery status is not
/// settled (`delivered`, `read`, `failed`, `undelivered`) and that were not checked since
/// `before`; the least recently checked first.
pub async fn unsettled_sent(
    db: &Db,
    since: DateTime<Utc>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Unsettled>, sqlx::Error> {
    const SQL: &str = "SELECT id, provider_message_id, delivery_status FROM notification_log \
                       WHERE status = 'SENT' AND notification_type = 'WHATSAPP' AND provider = 'twilio' \
                       AND provider_message_id IS NOT NULL AND sent_at >= $1 AND sent_at <= $2 \
                       AND COALESCE(delivery_status, '') NOT IN ('delivered', 'read', 'failed', 'undelivered') \
                       AND (delivery_checked_at IS NULL OR delivery_checked_at <= $2) \
                       ORDER BY COALESCE(delivery_checked_at, sent_at), id LIMIT $3";
    on_db!(db, p => sqlx::query_as(SQL).bind(since).bind(before).bind(limit).fetch_all(p).await)
}

/// Records that row `id`'s status was asked of the provider at `now`.
pub async fn mark_checked(db: &Db, id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE notification_log SET delivery_checked_at = $1 WHERE id = $2";
    on_write!(db.write().await, p => sqlx::query(SQL).bind(now).bind(id).execute(p).await.map(|_| ()))
}
