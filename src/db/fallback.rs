//! E-mail fallback of failed WhatsApp messages: what a failed row says, and the one e-mail row
//! that replaces it (a unique key on `fallback_of` makes a second one impossible).

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::pool::{on_db, on_write, Db};

/// A FAILED WhatsApp row of a ticket, with what falling back needs.
#[derive(Debug, Clone, FromRow)]
pub struct FailedWhatsApp {
    pub id: i64,
    pub ticket_id: i64,
    pub recipient_id: i64,
    pub event: String,
    pub message: String,
    pub username: String,
    pub email: String,
    /// The e-mail that already replaced it, if any.
    pub fallback_id: Option<i64>,
}

/// Row `id` if it is a FAILED WhatsApp message about a ticket's event.
pub async fn failed_whatsapp(db: &Db, id: i64) -> Result<Option<FailedWhatsApp>, sqlx::Error> {
    const SQL: &str = "SELECT n.id, n.ticket_id, n.recipient_id, n.event, n.message, u.username, u.email, \
                       (SELECT f.id FROM notification_log f WHERE f.fallback_of = n.id) AS fallback_id \
                       FROM notification_log n JOIN users u ON u.id = n.recipient_id \
                       WHERE n.id = $1 AND n.notification_type = 'WHATSAPP' AND n.status = 'FAILED' \
                       AND n.ticket_id IS NOT NULL AND n.event IS NOT NULL";
    on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)
}

/// The e-mail replacing WhatsApp row `failed`: same ticket, event, recipient and step, PENDING
/// now. `None` when nothing was written: the row already has its fallback, or the step already
/// e-mailed this recipient about this event (they have it).
pub async fn insert(
    db: &Db,
    failed: i64,
    subject: &str,
    text: &str,
    html: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    const SQL: &str = "INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, html, \
                       status, event, step, created_at, updated_at, next_attempt_at, is_read, attempts, fallback_of) \
                       SELECT ticket_id, recipient_id, 'EMAIL', $1, $2, $3, 'PENDING', event, step, $4, $4, $4, FALSE, 0, id \
                       FROM notification_log WHERE id = $5 AND notification_type = 'WHATSAPP' AND status = 'FAILED' \
                       ON CONFLICT DO NOTHING RETURNING id";
    on_write!(db.write().await, p => sqlx::query_scalar(SQL).bind(subject).bind(text).bind(html).bind(now).bind(failed)
        .fetch_optional(p).await)
}

/// The row whose provider message id is `message_id`.
pub async fn id_of_message(db: &Db, message_id: &str) -> Result<Option<i64>, sqlx::Error> {
    const SQL: &str = "SELECT id FROM notification_log WHERE provider_message_id = $1";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(message_id).fetch_optional(p).await)
}
