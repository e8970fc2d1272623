//! The delivery worker: claims due WhatsApp and e-mail rows with a lease, sends each through its
//! channel's sender (the WhatsApp provider, SMTP) outside any transaction, and records SENT, a
//! retry with backoff, or FAILED; a WhatsApp message that ends FAILED may fall back to e-mail. Runs inside `serve`; several
//! replicas share the queue (leases, `SKIP LOCKED` on PostgreSQL). Delivery is at least once:
//! a lease that expires (a crash mid-send) makes the row claimable again.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::{watch, Mutex, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::WorkerConfig;
use crate::db::notifications::{self as store, Claimed};
use crate::db::{Db, DbError};
use crate::notify::fallback::Fallback;
use crate::notify::preferences::hold_claimed;
use crate::notify::provider::smtp::{Email, Mailer};
use crate::notify::provider::{diagnose_channel, Outgoing, Provider, Receipt, SendError};

/// What the worker has done, for health checks and metrics.
#[derive(Debug, Default)]
pub struct Health {
    /// Unix milliseconds of the last loop turn (0 before the first).
    pub last_tick_ms: AtomicI64,
    /// Sends refused for bad credentials since the last success.
    pub consecutive_auth_failures: AtomicU32,
    pub running: std::sync::atomic::AtomicBool,
}

impl Health {
    fn tick(&self) {
        self.last_tick_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// True when the loop turned recently (it turns at least every poll interval).
    pub fn is_alive(&self, poll_interval: Duration) -> bool {
        let last = self.last_tick_ms.load(Ordering::Relaxed);
        self.running.load(Ordering::Relaxed)
            && Utc::now().timestamp_millis() - last
                <= (poll_interval.as_millis() as i64) * 3 + 5_000
    }

    /// True when recent sends all failed authentication (the credentials are wrong).
    pub fn auth_failing(&self) -> bool {
        self.consecutive_auth_failures.load(Ordering::Relaxed) >= 3
    }
}

/// Caps the send rate: one token every `1/rate` seconds, no burst, so the measured rate stays
/// at the cap under load.
struct TokenBucket {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl TokenBucket {
    fn new(rate_per_second: f64) -> TokenBucket {
        let interval =
            (rate_per_second > 0.0).then(|| Duration::from_secs_f64(1.0 / rate_per_second));
        TokenBucket {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Exponential backoff with jitter: base·2^attempt, capped, then a random point in its upper half.
pub fn backoff(cfg: &WorkerConfig, attempts_done: i32, retry_after: Option<Duration>) -> Duration {
    let exp = cfg.backoff_base.as_secs_f64() * 2f64.powi(attempts_done.clamp(0, 30));
    let capped = exp.min(cfg.backoff_max.as_secs_f64());
    let jittered = capped / 2.0 + rand::thread_rng().gen_range(0.0..=capped / 2.0);
    let d = Duration::from_secs_f64(jittered);
    retry_after.map_or(d, |r| r.max(d))
}

/// Rows one claim leases: as many as the permits, so a busy worker claims once per batch rather
/// than once per message as permits free up one by one (rows beyond the free permits wait for
/// one, leased); at most 100; and no more than the rate cap lets out within half a lease, so no
/// claimed row waits until its lease runs out and is claimed, and sent, again.
pub fn claim_limit(cfg: &WorkerConfig) -> i64 {
    let mut n = cfg.max_concurrency.clamp(1, 100) as f64;
    if cfg.rate_per_second > 0.0 {
        n = n.min((cfg.rate_per_second * cfg.lease.as_secs_f64() / 2.0).floor());
    }
    n.max(1.0) as i64
}

/// `90061s` → `1d 1h 1m 1s`, for messages.
fn humantime_secs(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            parts.push(format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    parts.join(" ")
}

pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    join: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Stops claiming, lets in-flight sends finish within `grace`, and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.join.await;
    }
}

/// Sends claimed rows as the rate cap and the concurrency permits let them out.
struct Pump {
    worker: Arc<Worker>,
    permits: Arc<Semaphore>,
    bucket: Arc<TokenBucket>,
    tasks: JoinSet<()>,
}

impl Pump {
    fn new(worker: Arc<Worker>) -> Pump {
        Pump {
            permits: Arc::new(Semaphore::new(worker.config.max_concurrency)),
            bucket: Arc::new(TokenBucket::new(worker.config.rate_per_second)),
            worker,
            tasks: JoinSet::new(),
        }
    }

    /// Starts each row's send in turn. False when `stopped` turned first: the rows not started
    /// are released, so another replica can take them at once.
    async fn dispatch(
        &mut self,
        batch: Vec<Claimed>,
        claimed_at: DateTime<Utc>,
        stopped: &mut watch::Receiver<bool>,
    ) -> bool {
        let mut pending: std::collections::VecDeque<Claimed> = batch.into();
        while let Some(row) = pending.pop_front() {
            let ready = async {
                self.bucket.acquire().await;
                self.permits.clone().acquire_owned().await
            };
            let permit = tokio::select! {
                p = ready => p,
                _ = stopped.changed() => {
                    pending.push_front(row);
                    let ids: Vec<i64> = pending.iter().map(|r| r.id).collect();
                    if let Err(e) = store::release(&self.worker.db, &ids, claimed_at).await {
                        tracing::warn!(error = %e, "cannot release leases on shutdown");
                    }
                    return false;
                }
            };
            let Ok(permit) = permit else { return false };
            let worker = self.worker.clone();
            self.tasks.spawn(async move {
                worker.deliver(row, claimed_at).await;
                drop(permit);
            });
        }
        true
    }
}

pub struct Worker {
    pub db: Db,
    /// WhatsApp's sender.
    pub provider: Arc<Provider>,
    /// E-mail's sender.
    pub mailer: Arc<Mailer>,
    /// What a WhatsApp message that ends FAILED needs to fall back to e-mail.
    pub fallback: Fallback,
    pub config: WorkerConfig,
    pub wake: Arc<Notify>,
    pub health: Arc<Health>,
    pub grace: Duration,
}

impl Worker {
    /// Runs the delivery loop in the background until the handle's `shutdown`. Wake-ups from
    /// other replicas come through the process's listener (`db::listen`), which `app` spawns.
    pub fn spawn(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let join = tokio::spawn(Arc::new(self).run(stopped));
        WorkerHandle { stop, join }
    }

    /// Claims the rows due now and delivers them (under the same concurrency and rate caps as
    /// the loop); returns how many it sent or failed (not those held for quiet hours) once every
    /// outcome is recorded. Tests drive
    /// delivery with it instead of waiting for the background loop.
    pub async fn deliver_due(self: &Arc<Self>) -> Result<usize, DbError> {
        self.deliver_due_at(Utc::now()).await
    }

    /// `deliver_due` as if the time were `now` (what is due, and which leases ran out).
    pub async fn deliver_due_at(self: &Arc<Self>, now: DateTime<Utc>) -> Result<usize, DbError> {
        let batch = self.claim(now).await?;
        let claimed = batch.len();
        let mut pump = Pump::new(self.clone());
        // Nobody stops this one: the sender lives until the sends are recorded.
        let (_keep, mut never) = watch::channel(false);
        pump.dispatch(batch, now, &mut never).await;
        while pump.tasks.join_next().await.is_some() {}
        Ok(claimed)
    }

    /// Leases up to `claim_limit` rows due at `now`; those inside their recipient's quiet
    /// hours go back to the queue until the hours end instead of being sent.
    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>, DbError> {
        let lease =
            chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(60));
        let batch = store::claim_due(&self.db, now, now + lease, claim_limit(&self.config)).await?;
        let mut ready = Vec::with_capacity(batch.len());
        for row in batch {
            match hold_claimed(&row, now) {
                Some(hold) => {
                    tracing::info!(notification_id = row.id, until = %hold.until, "{}", hold.reason);
                    self.record(store::mark_held(&self.db, row.id, &hold, now).await);
                }
                None => ready.push(row),
            }
        }
        Ok(ready)
    }

    async fn run(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let me = self;
        me.health.running.store(true, Ordering::Relaxed);
        let mut pump = Pump::new(me.clone());
        tracing::info!(
            provider = me.provider.name(),
            email = %me.mailer.describe(),
            rate = me.config.rate_per_second,
            concurrency = me.config.max_concurrency,
            "notification worker started"
        );
        for warning in &me.config.warnings {
            tracing::warn!("{warning}");
        }
        if !me.mailer.is_configured() {
            tracing::warn!("{}", me.mailer.describe());
        }
        let reconciling = tokio::spawn(crate::notify::reconcile::run(
            me.db.clone(),
            me.provider.clone(),
            me.fallback.clone(),
            me.config.clone(),
            stopped.clone(),
        ));
        loop {
            if *stopped.borrow() {
                break;
            }
            me.health.tick();
            while pump.tasks.try_join_next().is_some() {}
            if pump.permits.available_permits() == 0 {
                tokio::select! {
                    _ = pump.tasks.join_next() => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            // Unlike `deliver_due`, the loop claims again as soon as permits free up, without
            // waiting for the whole batch: a slow send does not hold back the next ones.
            let claimed_at = Utc::now();
            let batch = match me.claim(claimed_at).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "cannot claim notifications");
                    tokio::select! {
                        _ = tokio::time::sleep(me.config.poll_interval) => {}
                        _ = stopped.changed() => {}
                    }
                    continue;
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = me.wake.notified() => {}
                    _ = tokio::time::sleep(me.config.poll_interval) => {}
                    _ = stopped.changed() => {}
                    _ = pump.tasks.join_next(), if !pump.tasks.is_empty() => {}
                }
                continue;
            }
            if !pump.dispatch(batch, claimed_at, &mut stopped).await {
                break;
            }
        }
        // Finish what is in flight; anything cut off stays PENDING under its lease.
        let drain = async { while pump.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(me.grace, drain).await.is_err() {
            tracing::warn!(
                "shutdown deadline reached: unfinished sends stay PENDING and will be retried"
            );
            pump.tasks.abort_all();
        }
        reconciling.abort();
        me.health.running.store(false, Ordering::Relaxed);
        tracing::info!("notification worker stopped");
    }

    /// The sender's name for `row`'s channel (`twilio`, `smtp` ...), as recorded in `provider`.
    fn sender(&self, row: &Claimed) -> &'static str {
        if row.notification_type == "EMAIL" {
            self.mailer.name()
        } else {
            self.provider.name()
        }
    }

    /// Sends one claimed row and records the outcome. `claimed_at` is the claim's time (later
    /// than the clock when a test delivers "as if" at a future time).
    async fn deliver(&self, row: Claimed, claimed_at: DateTime<Utc>) {
        let provider = self.sender(&row);
        let channel = row.notification_type.as_str();
        let now = claimed_at.max(Utc::now());
        let email = channel == "EMAIL";
        let number = row.whatsapp_number.clone().unwrap_or_default();
        let refused = if !row.is_active {
            Some(("inactive", format!("User {} is inactive", row.username)))
        } else if email && row.email.trim().is_empty() {
            Some((
                "no_address",
                format!("User {} has no e-mail address", row.username),
            ))
        } else if !email && number.is_empty() {
            Some((
                "no_number",
                format!("User {} has no WhatsApp number configured", row.username),
            ))
        } else {
            None
        };
        if let Some((code, message)) = refused {
            tracing::warn!(notification_id = row.id, provider, channel, outcome = "failed", %message, "delivery attempt");
            crate::telemetry::record_notification(channel, provider, "failed");
            self.record(
                store::mark_failed(&self.db, row.id, provider, Some(code), &message, now).await,
            );
            self.fall_back(&row).await;
            return;
        }
        let started;
        let result = if email {
            started = Instant::now();
            let mail = Email {
                notification_id: row.id,
                username: row.username.clone(),
                to: row.email.trim().to_string(),
                subject: row.subject.clone(),
                text: row.message.clone(),
                html: row.html.clone(),
            };
            self.bounded(self.mailer.send(&mail)).await
        } else {
            let msg = Outgoing {
                notification_id: row.id,
                username: row.username.clone(),
                to: number,
                body: row.message.clone(),
                event: row.event.clone().unwrap_or_default(),
                variables: row
                    .template_variables
                    .as_deref()
                    .and_then(|v| serde_json::from_str(v).ok())
                    .unwrap_or_default(),
            };
            if let Some(since) = row.unresolved_since {
                if self
                    .resolved_at_provider(&row, &msg, since, claimed_at)
                    .await
                {
                    return;
                }
            }
            started = Instant::now();
            self.bounded(self.provider.send(&msg)).await
        };
        if email {
            crate::telemetry::record_smtp_latency(started.elapsed());
        } else {
            crate::telemetry::record_provider_latency(provider, started.elapsed());
        }
        match result {
            Ok(receipt) => self.record_sent(&row, &receipt, claimed_at).await,
            Err(err) => {
                // An SMTP server that timed out may have the message: sent again (at least once).
                let unresolved = !email && err.may_have_been_taken();
                self.record_failure(&row, &err, unresolved, claimed_at)
                    .await
            }
        }
    }

    /// A send, bounded: the sender has its own timeout; this one only guards against a hung
    /// future.
    async fn bounded(
        &self,
        send: impl std::future::Future<Output = Result<Receipt, SendError>>,
    ) -> Result<Receipt, SendError> {
        match tokio::time::timeout(self.config.send_timeout + Duration::from_secs(5), send).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Transient {
                code: Some("timeout".into()),
                message: "Provider request timed out".into(),
                retry_after: None,
            }),
        }
    }

    /// After `row` was marked FAILED: a WhatsApp message may go out by e-mail instead.
    async fn fall_back(&self, row: &Claimed) {
        if row.notification_type == "WHATSAPP"
            && self
                .fallback
                .after_failure(&self.db, row.id)
                .await
                .is_some()
        {
            self.wake.notify_one();
        }
    }

    async fn record_sent(&self, row: &Claimed, receipt: &Receipt, claimed_at: DateTime<Utc>) {
        let provider = self.sender(row);
        let channel = row.notification_type.as_str();
        if channel == "WHATSAPP" {
            self.health
                .consecutive_auth_failures
                .store(0, Ordering::Relaxed);
        }
        crate::telemetry::record_notification(channel, provider, "sent");
        let what = if channel == "EMAIL" {
            "E-mail"
        } else {
            "WhatsApp"
        };
        tracing::info!(notification_id = row.id, provider, channel, outcome = "sent", message_id = %receipt.provider_message_id,
            "{what} sent to {}: {}", row.username, receipt.provider_message_id);
        self.record(
            store::mark_sent(
                &self.db,
                row.id,
                provider,
                &receipt.provider_message_id,
                receipt.delivery_status.as_deref(),
                claimed_at.max(Utc::now()),
            )
            .await,
        );
    }

    /// A failed attempt: FAILED at once when permanent or when the retry budget
    /// (`NOTIFY_RETRY_FOR` from the first attempt) is spent, else PENDING again after a
    /// backoff (never past the budget's end). `unresolved`: the provider may hold the message,
    /// so the next attempt looks it up before sending.
    async fn record_failure(
        &self,
        row: &Claimed,
        err: &SendError,
        unresolved: bool,
        claimed_at: DateTime<Utc>,
    ) {
        let provider = self.sender(row);
        let channel = row.notification_type.as_str();
        let now = claimed_at.max(Utc::now());
        if channel == "WHATSAPP" && err.is_auth_failure() {
            self.health
                .consecutive_auth_failures
                .fetch_add(1, Ordering::Relaxed);
        }
        let attempts_done = row.attempts + 1;
        let budget =
            chrono::Duration::from_std(self.config.retry_for).unwrap_or(chrono::Duration::days(1));
        let deadline = row.first_attempt_at.unwrap_or(now) + budget;
        let give_up = !err.is_transient() || now >= deadline;
        let message = if err.is_transient() && give_up {
            format!(
                "Gave up after {attempts_done} attempts over {} (NOTIFY_RETRY_FOR): {}",
                humantime_secs(self.config.retry_for),
                err.message()
            )
        } else {
            format!("{} — {}", err.message(), diagnose_channel(channel, err))
        };
        if give_up {
            crate::telemetry::record_notification(channel, provider, "failed");
            tracing::warn!(notification_id = row.id, provider, channel, outcome = "failed", code = err.code().unwrap_or(""), error = %err.message(),
                "{channel} send failed: {}", err.message());
            self.record(
                store::mark_failed(&self.db, row.id, provider, err.code(), &message, now).await,
            );
            self.fall_back(row).await;
            return;
        }
        let retry_after = match err {
            SendError::Transient { retry_after, .. } => *retry_after,
            SendError::Permanent { .. } => None,
        };
        let delay = backoff(&self.config, row.attempts, retry_after);
        // From the clock, not the claim's time (a test's "as if later"), as the lease is.
        let next = (Utc::now()
            + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(60)))
        .min(deadline);
        crate::telemetry::record_notification(channel, provider, "retry");
        tracing::info!(notification_id = row.id, provider, channel, outcome = "retry", code = err.code().unwrap_or(""), error = %err.message(),
            retry_in_ms = delay.as_millis() as u64, "whatsapp attempt");
        self.record(
            store::mark_retry(
                &self.db,
                row.id,
                provider,
                err.code(),
                &message,
                next,
                unresolved,
                now,
            )
            .await,
        );
    }

    /// An earlier attempt of `row` started at `since` and recorded no outcome (the process
    /// died, or the answer left it unknown): the provider is asked whether it has the message.
    /// True when that settled the row: found (SENT with the provider's id, not sent again) or
    /// the provider could not be asked (a retry, still to be looked up). False: not there (or
    /// the look-up was refused for good), so it is sent.
    async fn resolved_at_provider(
        &self,
        row: &Claimed,
        msg: &Outgoing,
        since: DateTime<Utc>,
        claimed_at: DateTime<Utc>,
    ) -> bool {
        let found = match self.provider.find_sent(msg, since).await {
            Ok(candidates) => self.not_recorded_elsewhere(row, candidates).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(Some(receipt)) => {
                tracing::info!(notification_id = row.id, message_id = %receipt.provider_message_id,
                    "an earlier attempt reached the provider: recorded SENT, not sent again");
                self.record_sent(row, &receipt, claimed_at).await;
                true
            }
            Ok(None) => false,
            Err(err) if err.is_transient() => {
                self.record_failure(row, &err, true, claimed_at).await;
                true
            }
            Err(err) => {
                tracing::warn!(notification_id = row.id, error = %err.message(),
                    "cannot look up an earlier attempt at the provider: sending again (at least once)");
                false
            }
        }
    }

    /// The newest of `candidates` that no other row recorded as its message (the same text
    /// may have gone to the same person for another row). While another row with the same
    /// text to the same person is PENDING, a candidate may be its message, not yet recorded:
    /// none is taken, and the row is sent (at least once rather than a message lost). Not
    /// knowing is a transient failure.
    async fn not_recorded_elsewhere(
        &self,
        row: &Claimed,
        candidates: Vec<Receipt>,
    ) -> Result<Option<Receipt>, SendError> {
        if candidates.is_empty() {
            return Ok(None);
        }
        let ids: Vec<String> = candidates
            .iter()
            .map(|c| c.provider_message_id.clone())
            .collect();
        let (taken, twin_pending) =
            store::lookup_conflicts(&self.db, row, &ids)
                .await
                .map_err(|e| SendError::Transient {
                    code: Some("database".into()),
                    message: format!("cannot read the recorded message ids: {e}"),
                    retry_after: None,
                })?;
        if twin_pending {
            tracing::info!(notification_id = row.id, "the same text to the same person is pending in another row: cannot tell their messages apart, sending");
            return Ok(None);
        }
        Ok(candidates
            .into_iter()
            .find(|c| !taken.contains(&c.provider_message_id)))
    }

    fn record(&self, r: Result<bool, DbError>) {
        match r {
            Ok(true) => {}
            // Someone else (an admin retry, another replica after our lease expired) moved it.
            Ok(false) => tracing::debug!("notification row changed while it was being sent"),
            Err(e) => {
                tracing::error!(error = %e, "cannot record a delivery outcome; the row will be retried when its lease expires")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(concurrency: usize, rate: f64, lease_secs: u64) -> WorkerConfig {
        let mut c = crate::config::Config::for_tests("sqlite::memory:").worker;
        c.max_concurrency = concurrency;
        c.rate_per_second = rate;
        c.lease = Duration::from_secs(lease_secs);
        c
    }

    #[test]
    fn a_claim_fills_the_permits_within_what_the_rate_sends_in_half_a_lease() {
        assert_eq!(claim_limit(&cfg(32, 80.0, 60)), 32);
        assert_eq!(claim_limit(&cfg(128, 0.0, 60)), 100);
        assert_eq!(claim_limit(&cfg(1, 0.0, 60)), 1);
        assert_eq!(claim_limit(&cfg(32, 0.5, 60)), 15);
        assert_eq!(claim_limit(&cfg(32, 0.01, 60)), 1);
    }
}
