//! The admin console's dashboard: tickets by status, open SLA breaches, WhatsApp and e-mail
//! SENT/FAILED per day for the last 14 days (drawn as an SVG chart by the page), the queue
//! depth and its oldest row, and the WhatsApp channel's health (configured, the last error and
//! its fix). Each figure is one bounded query (`db/dashboard.rs`), six in all.

use chrono::Duration;
use serde::Serialize;

use crate::db;
use crate::domain::datetime::{format_short, now};
use crate::domain::delivery::guide;
use crate::domain::ticket::Status;
use crate::error::Result;
use crate::state::AppState;

/// Days in the delivery chart.
pub const CHART_DAYS: i64 = 14;

#[derive(Debug, Serialize)]
pub struct StatusCount {
    pub status: &'static str,
    pub label: &'static str,
    pub count: i64,
}

/// One day of the chart: SENT and FAILED per channel.
#[derive(Debug, Default, Serialize)]
pub struct Day {
    pub day: String,
    pub whatsapp_sent: i64,
    pub whatsapp_failed: i64,
    pub email_sent: i64,
    pub email_failed: i64,
}

#[derive(Debug, Serialize)]
pub struct ChannelHealth {
    pub provider: &'static str,
    pub configured: bool,
    pub worker_alive: bool,
    pub auth_failing: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub last_error_fix: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct Figures {
    pub by_status: Vec<StatusCount>,
    pub tickets: i64,
    pub open_breaches: i64,
    pub days: Vec<Day>,
    pub queue_depth: i64,
    pub oldest_pending: Option<String>,
    pub whatsapp: ChannelHealth,
}

fn by_status(counted: &[(String, i64)]) -> Vec<StatusCount> {
    Status::ALL
        .iter()
        .map(|s| StatusCount {
            status: s.as_str(),
            label: s.label(),
            count: counted
                .iter()
                .find(|(raw, _)| raw == s.as_str())
                .map_or(0, |(_, n)| *n),
        })
        .collect()
}

fn days(rows: &[(String, String, String, i64)], today: chrono::NaiveDate) -> Vec<Day> {
    (0..CHART_DAYS)
        .rev()
        .map(|back| {
            let day = (today - Duration::days(back))
                .format("%Y-%m-%d")
                .to_string();
            let mut d = Day {
                day,
                ..Day::default()
            };
            for (_, channel, status, n) in rows.iter().filter(|r| r.0 == d.day) {
                match (channel.as_str(), status.as_str()) {
                    ("WHATSAPP", "SENT") => d.whatsapp_sent += n,
                    ("WHATSAPP", "FAILED") => d.whatsapp_failed += n,
                    ("EMAIL", "SENT") => d.email_sent += n,
                    ("EMAIL", "FAILED") => d.email_failed += n,
                    _ => {}
                }
            }
            d
        })
        .collect()
}

pub async fn figures(state: &AppState) -> Result<Figures> {
    let at = now();
    let today = at.date_naive();
    let since = (today - Duration::days(CHART_DAYS - 1))
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(at);
    let database = &state.db;
    let (counted, open_breaches, outcomes, (queue_depth, oldest), failure) = tokio::try_join!(
        db::dashboard::tickets_by_status(database),
        db::dashboard::open_breaches(database, at),
        db::dashboard::outcomes_per_day(database, since),
        db::dashboard::queue(database),
        db::dashboard::last_failure(database, "WHATSAPP"),
    )?;
    let by_status = by_status(&counted);
    let poll = state.config.worker.poll_interval;
    let whatsapp = ChannelHealth {
        provider: state.provider.name(),
        configured: state.provider.is_configured(),
        worker_alive: state.worker.is_alive(poll),
        auth_failing: state.worker.auth_failing(),
        last_error_fix: failure
            .as_ref()
            .and_then(|f| f.0.as_deref())
            .and_then(guide),
        last_error: failure.as_ref().and_then(|f| f.1.clone()),
        last_error_at: failure.as_ref().map(|f| format_short(Some(&f.2))),
    };
    Ok(Figures {
        tickets: by_status.iter().map(|c| c.count).sum(),
        by_status,
        open_breaches,
        days: days(&outcomes, today),
        queue_depth,
        oldest_pending: oldest.map(|t| format_short(Some(&t))),
        whatsapp,
    })
}
