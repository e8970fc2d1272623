//! The notification worker section: whether it runs, how fast, how many at once, and its retry
//! and lease timings.

use std::time::Duration;

use super::reader::Reader;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub enabled: bool,
    pub rate_per_second: f64,
    pub max_concurrency: usize,
    pub max_attempts: i32,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub send_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long finished notification history is kept (`NOTIFY_LOG_RETENTION`); `None` keeps
    /// everything. A periodic job deletes older SENT/FAILED rows of closed tickets.
    pub log_retention: Option<Duration>,
}

pub(super) fn read(r: &mut Reader) -> WorkerConfig {
    let worker = WorkerConfig {
        enabled: r.bool("NOTIFY_WORKER", true),
        rate_per_second: r.parse("NOTIFY_RATE_PER_SECOND", 80.0f64, "a number"),
        max_concurrency: r.parse("NOTIFY_MAX_CONCURRENCY", 32usize, "a whole number"),
        max_attempts: r.parse("NOTIFY_MAX_ATTEMPTS", 6i32, "a whole number"),
        lease: r.duration("NOTIFY_LEASE", Duration::from_secs(60)),
        poll_interval: r.duration("NOTIFY_POLL_INTERVAL", Duration::from_secs(5)),
        send_timeout: r.duration("NOTIFY_SEND_TIMEOUT", Duration::from_secs(15)),
        backoff_base: r.duration("NOTIFY_BACKOFF_BASE", Duration::from_secs(2)),
        backoff_max: r.duration("NOTIFY_BACKOFF_MAX", Duration::from_secs(600)),
        log_retention: retention(r),
    };
    if worker.rate_per_second < 0.0 || !worker.rate_per_second.is_finite() {
        r.error("NOTIFY_RATE_PER_SECOND must be 0 (no cap) or a positive number");
    }
    if worker.max_concurrency == 0 {
        r.error("NOTIFY_MAX_CONCURRENCY must be at least 1");
    }
    if worker.max_attempts < 1 {
        r.error("NOTIFY_MAX_ATTEMPTS must be at least 1");
    }
    worker
}

/// `NOTIFY_LOG_RETENTION`: unset, empty or `forever` keeps every row (the default, as the
/// original); otherwise a duration above zero such as `365d`.
fn retention(r: &mut Reader) -> Option<Duration> {
    const NAME: &str = "NOTIFY_LOG_RETENTION";
    let raw = r.raw(NAME)?;
    let value = raw.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("forever") {
        return None;
    }
    match super::reader::parse_duration(value) {
        Some(d) if !d.is_zero() => Some(d),
        _ => {
            r.error(format!(
                "{NAME}={raw:?} is not a retention (a duration such as 365d or 720h, or forever)"
            ));
            None
        }
    }
}
