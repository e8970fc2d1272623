//! Channel health: when a channel fails in a way only an admin can fix (bad credentials, sender
//! or account, daily limit, refused template: `domain::delivery::channel_fault`), an incident
//! opens and every active admin is alerted once, on every channel but the broken one; the next
//! successful send closes it and tells them so. `/metrics` and `/readyz` show the open incident.
//!
//! The success path costs no query in the normal case: each process keeps a "maybe open" flag
//! per channel ([`IncidentWatch`]), set when this process counts a fault and cleared once the
//! database says none is open. An incident another replica opened is seen at the latest
//! [`RECHECK`] later, when a success looks at the database again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::channel_incidents::{self as store, Incident, NewIncident};
use crate::db::notifications::NewNotification;
use crate::db::Db;
use crate::domain::delivery::ChannelFault;
use crate::domain::preferences::{Preferences, SYSTEM};
use crate::domain::user::Role;
use crate::error::Result;
use crate::notify::preferences;

/// How long a success may go without looking at the database for an incident another replica
/// opened: the bound on how late such an incident closes.
pub const RECHECK: Duration = Duration::from_secs(30);

/// The channels an admin alert goes out on, in §8.2's order. Never WhatsApp, the channel that
/// is broken. E-mail rows go to admins with an address, after their preferences, and are
/// delivered by the worker like any other.
pub const ALERT_CHANNELS: &[&str] = &["EMAIL", "SYSTEM"];

/// The channels that can have an incident (those a worker sends on).
pub const CHANNELS: &[&str] = &["WHATSAPP"];

/// The `event` of the alert rows.
pub const OPENED_EVENT: &str = "channel_incident_opened";
/// The `event` of the recovery notices.
pub const CLOSED_EVENT: &str = "channel_incident_closed";

/// This process's belief about one channel's incident.
#[derive(Debug)]
pub struct IncidentWatch {
    maybe_open: AtomicBool,
    /// Unix milliseconds of the last look at the database (0: not yet, so the first success
    /// looks: an incident left open by an earlier run is seen at start).
    checked_ms: AtomicI64,
}

impl Default for IncidentWatch {
    fn default() -> Self {
        IncidentWatch {
            maybe_open: AtomicBool::new(true),
            checked_ms: AtomicI64::new(0),
        }
    }
}

impl IncidentWatch {
    /// True when a success must look at the database: an incident may be open here, or the
    /// last look is older than [`RECHECK`] (then only one caller takes the turn).
    fn must_look(&self, now_ms: i64) -> bool {
        if self.maybe_open.load(Ordering::Acquire) {
            return true;
        }
        let last = self.checked_ms.load(Ordering::Relaxed);
        now_ms - last >= RECHECK.as_millis() as i64
            && self
                .checked_ms
                .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    fn looked(&self, open: bool, now_ms: i64) {
        self.maybe_open.store(open, Ordering::Release);
        self.checked_ms.store(now_ms, Ordering::Relaxed);
    }
}

/// A channel's name in the alerts' text.
fn shown(channel: &str) -> &str {
    match channel {
        "WHATSAPP" => "WhatsApp",
        "EMAIL" => "E-mail",
        other => other,
    }
}

/// A send on `channel` failed for good with `code`, a fault only an admin can fix: counted
/// against the open incident, or opening one that alerts every active admin (exactly once,
/// however many sends and replicas fail at the same time).
pub async fn fault(
    db: &Db,
    watch: &IncidentWatch,
    channel: &str,
    fault: ChannelFault,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<Incident>> {
    // Before any write: a success racing this one looks at the database.
    watch.maybe_open.store(true, Ordering::Release);
    if store::count_failure(db, channel, now).await? {
        return Ok(None);
    }
    let fix = crate::domain::delivery::guide(code)
        .unwrap_or("See the error code in the provider's documentation.");
    let admins = active_admins(db).await?;
    let prefs = alert_preferences(db, &admins).await?;
    let mut alerts = alert_rows(
        &admins,
        OPENED_EVENT,
        &format!("{} notifications are failing", shown(channel)),
        &format!(
            "{} (error {code}): every {} message fails until this is fixed. Fix: {fix} \
             Messages that failed meanwhile can then be sent again with \
             POST /api/notifications/retry_failed/?notification_type={channel}. \
             You will be told when a message goes through again.",
            fault.summary,
            shown(channel)
        ),
    );
    preferences::apply_loaded(&mut alerts, &prefs, now);
    let new = NewIncident {
        channel,
        cause: fault.cause,
        error_code: code,
        cause_text: fault.summary,
        fix_text: fix,
    };
    match store::open(db, &new, &alerts, now).await? {
        Some(incident) => {
            tracing::error!(
                channel,
                cause = fault.cause,
                code,
                admins_alerted = alerts.len(),
                "channel incident opened: {}; fix: {fix}",
                fault.summary
            );
            record_enqueued(&alerts);
            Ok(Some(incident))
        }
        None => {
            // Another replica opened it between our two statements: count this failure there.
            store::count_failure(db, channel, now).await?;
            Ok(None)
        }
    }
}

/// A send on `channel` succeeded: closes its open incident, if any, telling the admins. Costs
/// no query unless an incident may be open or the last look is older than [`RECHECK`].
pub async fn succeeded(db: &Db, watch: &IncidentWatch, channel: &str, now: DateTime<Utc>) {
    let now_ms = now.timestamp_millis();
    if !watch.must_look(now_ms) {
        return;
    }
    match close(db, channel, now).await {
        Ok(_) => watch.looked(false, now_ms),
        Err(e) => {
            tracing::warn!(channel, error = %e, "cannot close the channel's incident; the next success tries again")
        }
    }
}

async fn close(db: &Db, channel: &str, now: DateTime<Utc>) -> Result<Option<Incident>> {
    // The usual answer is "none open": one read, no write.
    if !store::is_open(db, channel).await? {
        return Ok(None);
    }
    let admins = active_admins(db).await?;
    let prefs = alert_preferences(db, &admins).await?;
    let notices = |i: &Incident| {
        let mut rows = alert_rows(
            &admins,
            CLOSED_EVENT,
            &format!("{} notifications work again", shown(channel)),
            &format!(
                "A {} message went through at {}: the incident opened at {} ({}, error {}) is \
                 closed after {} failed message(s). Messages that failed meanwhile can be sent \
                 again with POST /api/notifications/retry_failed/?notification_type={channel}.",
                shown(channel),
                now.format("%Y-%m-%d %H:%M:%S UTC"),
                i.opened_at.format("%Y-%m-%d %H:%M:%S UTC"),
                i.cause_text,
                i.error_code,
                i.failures
            ),
        );
        preferences::apply_loaded(&mut rows, &prefs, now);
        rows
    };
    let Some((incident, rows)) = store::close(db, channel, notices, now).await? else {
        return Ok(None);
    };
    tracing::info!(channel, cause = %incident.cause, failures = incident.failures, "channel incident closed: the channel works again");
    record_enqueued(&rows);
    Ok(Some(incident))
}

/// An admin to alert: the id, and whether they have an e-mail address.
type Admin = (i64, bool);

/// Every active admin, by id.
async fn active_admins(db: &Db) -> Result<Vec<Admin>> {
    Ok(crate::db::users::admins_and(db, &[])
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Admin && u.is_active)
        .map(|u| (u.id, !u.email.trim().is_empty()))
        .collect())
}

/// The admins' preferences, when an alert channel has any (SYSTEM rows ignore them).
async fn alert_preferences(db: &Db, admins: &[Admin]) -> Result<HashMap<i64, Preferences>> {
    if ALERT_CHANNELS.iter().all(|c| *c == SYSTEM) {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = admins.iter().map(|a| a.0).collect();
    Ok(crate::db::preferences::load(db, &ids).await?)
}

/// One row per admin and alert channel. SYSTEM rows are delivered by being stored; the others
/// wait for their worker.
fn alert_rows(
    admins: &[Admin],
    event: &'static str,
    subject: &str,
    message: &str,
) -> Vec<NewNotification> {
    admins
        .iter()
        .flat_map(|&(id, has_email)| {
            ALERT_CHANNELS
                .iter()
                .filter(move |&&channel| channel != "EMAIL" || has_email)
                .map(move |&channel| NewNotification {
                    recipient_id: id,
                    notification_type: channel,
                    subject: subject.to_string(),
                    message: message.to_string(),
                    variables: None,
                    html: None,
                    status: if channel == SYSTEM { "SENT" } else { "PENDING" },
                    event,
                    hold: None,
                })
        })
        .collect()
}

fn record_enqueued(rows: &[NewNotification]) {
    for channel in ALERT_CHANNELS {
        let n = rows
            .iter()
            .filter(|r| r.notification_type == *channel)
            .count() as u64;
        if n > 0 {
            crate::telemetry::record_enqueued(channel, n);
        }
    }
}

/// The open incidents as Prometheus gauges, rendered from the database at scrape time (so every
/// replica shows the same, and a closed incident's gauge falls to 0):
/// `notification_channel_incident_open{channel,cause}` (1 for the open incident's cause, 0 for
/// the others) and `notification_channel_incident_age_seconds{channel}` (0 when none is open).
pub fn metrics_text(open: &[Incident], now: DateTime<Utc>) -> String {
    use std::fmt::Write;
    let mut out = String::from(
        "# HELP notification_channel_incident_open 1 while the channel has an open incident of this cause (an admin must fix it)\n\
         # TYPE notification_channel_incident_open gauge\n",
    );
    for channel in CHANNELS {
        let incident = open.iter().find(|i| i.channel == *channel);
        for cause in crate::domain::delivery::channel_fault_causes() {
            let on = incident.is_some_and(|i| i.cause == cause);
            let _ = writeln!(
                out,
                "notification_channel_incident_open{{channel=\"{channel}\",cause=\"{cause}\"}} {}",
                u8::from(on)
            );
        }
    }
    out.push_str(
        "# HELP notification_channel_incident_age_seconds How long the channel's open incident has been open (0: none)\n\
         # TYPE notification_channel_incident_age_seconds gauge\n",
    );
    for channel in CHANNELS {
        let age = open
            .iter()
            .find(|i| i.channel == *channel)
            .map_or(0.0, |i| {
                (now - i.opened_at).num_milliseconds().max(0) as f64 / 1000.0
            });
        let _ = writeln!(
            out,
            "notification_channel_incident_age_seconds{{channel=\"{channel}\"}} {age}"
        );
    }
    out
}

/// The open incident of each channel, as `/readyz` reports it beside the channels (information
/// only: it never makes a replica unready).
pub fn described(open: &[Incident]) -> Vec<(String, String)> {
    open.iter()
        .map(|i| {
            (
                format!("{}_incident", i.channel.to_lowercase()),
                format!(
                    "open since {} ({}, error {}, {} failed): {}. Fix: {}",
                    i.opened_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    i.cause,
                    i.error_code,
                    i.failures,
                    i.cause_text,
                    i.fix_text
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_never_go_out_on_whatsapp_and_reach_each_admin_once_per_channel() {
        assert!(!ALERT_CHANNELS.contains(&"WHATSAPP"));
        let rows = alert_rows(&[(1, true), (2, false)], OPENED_EVENT, "s", "m");
        let got: Vec<(i64, &str, &str)> = rows
            .iter()
            .map(|r| (r.recipient_id, r.notification_type, r.status))
            .collect();
        assert_eq!(
            got,
            [
                (1, "EMAIL", "PENDING"),
                (1, "SYSTEM", "SENT"),
                (2, "SYSTEM", "SENT")
            ]
        );
    }

    #[test]
    fn a_success_looks_at_the_database_only_when_an_incident_may_be_open_or_rarely() {
        let w = IncidentWatch::default();
        let t0 = 1_000_000_000_000;
        assert!(
            w.must_look(t0),
            "the first success looks (an incident from an earlier run)"
        );
        w.looked(false, t0);
        assert!(!w.must_look(t0 + 1_000));
        let later = t0 + RECHECK.as_millis() as i64;
        assert!(
            w.must_look(later),
            "another replica's incident is seen within RECHECK"
        );
        assert!(!w.must_look(later + 1), "one caller takes the recheck turn");
        w.maybe_open.store(true, Ordering::Release);
        assert!(w.must_look(later + 2));
    }
}
