//! Recipients' preferences applied to the rows a step planned, whatever their channel: a
//! channel a recipient turned off for the event writes no row, and a WhatsApp or e-mail row due
//! inside the recipient's quiet hours waits (PENDING) until they end. SYSTEM rows are never
//! dropped nor delayed.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::db::notifications::{Claimed, NewNotification};
use crate::db::Db;
use crate::domain::preferences::{hold_for, Hold, Preferences, QuietHours, SYSTEM};
use crate::error::Result;

/// Loads the preferences of the rows' recipients in one query and applies them.
pub async fn apply(db: &Db, rows: &mut Vec<NewNotification>, at: DateTime<Utc>) -> Result<()> {
    let recipients: BTreeSet<i64> = rows
        .iter()
        .filter(|r| r.notification_type != SYSTEM)
        .map(|r| r.recipient_id)
        .collect();
    if recipients.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = recipients.into_iter().collect();
    let prefs = crate::db::preferences::load(db, &ids).await?;
    apply_loaded(rows, &prefs, at);
    Ok(())
}

/// [`apply`] with the preferences at hand (recipients absent from `prefs` have the defaults).
pub fn apply_loaded(
    rows: &mut Vec<NewNotification>,
    prefs: &HashMap<i64, Preferences>,
    at: DateTime<Utc>,
) {
    rows.retain(|r| {
        let wanted = prefs
            .get(&r.recipient_id)
            .is_none_or(|p| p.wants(r.event, r.notification_type));
        if !wanted {
            tracing::debug!(
                recipient_id = r.recipient_id,
                event = r.event,
                channel = r.notification_type,
                "channel turned off by the recipient: no row"
            );
        }
        wanted
    });
    for r in rows.iter_mut().filter(|r| r.status == "PENDING") {
        r.hold = prefs
            .get(&r.recipient_id)
            .and_then(|p| p.hold(r.notification_type, at));
    }
}

/// Whether a row claimed at `now` falls inside its recipient's quiet hours (a retry, or quiet
/// hours set after the row was planned), and until when it must wait.
pub fn hold_claimed(row: &Claimed, now: DateTime<Utc>) -> Option<Hold> {
    let quiet = QuietHours::from_minutes(row.quiet_start, row.quiet_end)?;
    let zone = crate::db::preferences::stored_zone(row.recipient_id, row.time_zone.as_deref());
    hold_for(Some(&quiet), zone, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::preferences::{parse_clock, QuietHours};

    fn row(recipient_id: i64, channel: &'static str) -> NewNotification {
        NewNotification {
            recipient_id,
            notification_type: channel,
            subject: String::new(),
            message: String::new(),
            variables: None,
            html: None,
            status: if channel == SYSTEM { "SENT" } else { "PENDING" },
            event: "ticket_created",
            hold: None,
        }
    }

    #[test]
    fn turned_off_channels_write_no_row_and_quiet_hours_hold_only_deliverable_rows() {
        let mut quiet = Preferences {
            quiet_hours: QuietHours::new(
                parse_clock("00:00").unwrap(),
                parse_clock("23:59").unwrap(),
            ),
            ..Preferences::default()
        };
        quiet.set("ticket_created", "WHATSAPP", false);
        let prefs = HashMap::from([(1, quiet)]);
        let mut rows = vec![
            row(1, "WHATSAPP"),
            row(1, "EMAIL"),
            row(1, SYSTEM),
            row(2, "WHATSAPP"),
        ];
        let at = DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        apply_loaded(&mut rows, &prefs, at);
        let kept: Vec<(i64, &str, bool)> = rows
            .iter()
            .map(|r| (r.recipient_id, r.notification_type, r.hold.is_some()))
            .collect();
        assert_eq!(
            kept,
            [
                (1, "EMAIL", true),
                (1, SYSTEM, false),
                (2, "WHATSAPP", false)
            ]
        );
    }
}
