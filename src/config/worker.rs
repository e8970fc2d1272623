//! The notification worker section: whether it runs, how fast, how many at once, and its retry
//! and lease timings.

use std::time::Duration;

use super::reader::Reader;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub enabled: bool,
    pub rate_per_second: f64,
    pub max_concurrency: usize,
    /// How long transient failures are retried, from the first attempt (`NOTIFY_RETRY_FOR`).
    pub retry_for: Duration,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub send_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// SENT rows without a final delivery status this long after sending are fetched from the
    /// provider (`NOTIFY_RECONCILE_AFTER`).
    pub reconcile_after: Duration,
    /// Status fetches per second at most (`NOTIFY_RECONCILE_PER_SECOND`; 0 turns them off).
    pub reconcile_per_second: f64,
    /// What start-up should warn about (deprecated variables), logged when the worker starts.
    pub warnings: Vec<String>,
    /// How long finished notification history is kept (`NOTIFY_LOG_RETENTION`); `None` keeps
    /// everything. A periodic job deletes older SENT/FAILED rows of closed tickets.
    pub log_retention: Option<Duration>,
    /// `WHATSAPP_OUTSIDE_WINDOW`: a message due outside the recipient's 24-hour window whose
    /// event has no template goes as text (`template`, the default, or `send`, which also
    /// ignores templates) or not at all (`skip`).
    pub outside_window: crate::domain::whatsapp::OutsideWindow,
}

pub(super) fn read(r: &mut Reader) -> WorkerConfig {
    let mut worker = WorkerConfig {
        enabled: r.bool("NOTIFY_WORKER", true),
        rate_per_second: r.parse("NOTIFY_RATE_PER_SECOND", 80.0f64, "a number"),
        max_concurrency: r.parse("NOTIFY_MAX_CONCURRENCY", 32usize, "a whole number"),
        retry_for: r.duration("NOTIFY_RETRY_FOR", Duration::from_secs(24 * 3600)),
        lease: r.duration("NOTIFY_LEASE", Duration::from_secs(60)),
        poll_interval: r.duration("NOTIFY_POLL_INTERVAL", Duration::from_secs(5)),
        send_timeout: r.duration("NOTIFY_SEND_TIMEOUT", Duration::from_secs(15)),
        backoff_base: r.duration("NOTIFY_BACKOFF_BASE", Duration::from_secs(2)),
        backoff_max: r.duration("NOTIFY_BACKOFF_MAX", Duration::from_secs(600)),
        reconcile_after: r.duration("NOTIFY_RECONCILE_AFTER", Duration::from_secs(15 * 60)),
        reconcile_per_second: r.parse("NOTIFY_RECONCILE_PER_SECOND", 1.0f64, "a number"),
        warnings: Vec::new(),
        log_retention: retention(r),
        outside_window: outside_window(r),
    };
    // A count of attempts gave up within minutes of a provider's bad spell; the budget is a time.
    if r.raw("NOTIFY_MAX_ATTEMPTS").is_some() {
        worker.warnings.push(
            "NOTIFY_MAX_ATTEMPTS is deprecated and ignored: transient failures are retried for NOTIFY_RETRY_FOR (default 24h)"
                .into(),
        );
    }
    if worker.reconcile_per_second < 0.0 || !worker.reconcile_per_second.is_finite() {
        r.error("NOTIFY_RECONCILE_PER_SECOND must be 0 (no reconciliation) or a positive number");
    }
    if worker.rate_per_second < 0.0 || !worker.rate_per_second.is_finite() {
        r.error("NOTIFY_RATE_PER_SECOND must be 0 (no cap) or a positive number");
    }
    if worker.max_concurrency == 0 {
        r.error("NOTIFY_MAX_CONCURRENCY must be at least 1");
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

/// `WHATSAPP_OUTSIDE_WINDOW`.
fn outside_window(r: &mut Reader) -> crate::domain::whatsapp::OutsideWindow {
    use crate::domain::whatsapp::OutsideWindow;
    r.choice(
        "WHATSAPP_OUTSIDE_WINDOW",
        "template",
        &[
            (&["template"], OutsideWindow::Template),
            (&["send"], OutsideWindow::Send),
            (&["skip"], OutsideWindow::Skip),
        ],
        "template, send or skip",
    )
}
