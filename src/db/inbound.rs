//! WhatsApp messages from users (migration 0015): each stored once by the provider's id, the
//! sender's window (last inbound time) and opt-out, the command's outcome and the reply row.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::pool::{bind_args, on_db, on_tx, Arg, Db, PageRow};
use crate::domain::user::Role;

/// The user a WhatsApp number belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct Sender {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub is_active: bool,
}

/// The user whose stored WhatsApp number is `number` (E.164); an active one before an inactive
/// one, the oldest account first, when several share it.
pub async fn sender(db: &Db, number: &str) -> Result<Option<Sender>, sqlx::Error> {
    const SQL: &str = "SELECT u.id, u.username, u.first_name, u.last_name, p.role, u.is_active \
                       FROM user_profiles p JOIN users u ON u.id = p.user_id WHERE p.whatsapp_number = $1 \
                       ORDER BY CASE WHEN u.is_active THEN 0 ELSE 1 END, u.id LIMIT 1";
    on_db!(db, p => sqlx::query_as(SQL).bind(number).fetch_optional(p).await)
}

/// An inbound message as received.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub provider: &'a str,
    pub provider_message_id: &'a str,
    /// E.164 when the number parsed, else as the provider sent it.
    pub sender: &'a str,
    pub user_id: Option<i64>,
    pub profile_name: Option<&'a str>,
    pub body: &'a str,
    pub button_payload: Option<&'a str>,
    /// What became of it so far (`received`, or the final `unknown_sender`...).
    pub outcome: &'a str,
}

/// Stores the message unless its id was stored before (a replay: `None`), and opens the
/// sender's window from `at`, in one transaction.
pub async fn record(
    db: &Db,
    m: &NewInbound<'_>,
    at: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    const INSERT: &str = "INSERT INTO whatsapp_messages (provider, provider_message_id, sender, user_id, profile_name, \
                          body, button_payload, received_at, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                          ON CONFLICT (provider, provider_message_id) DO NOTHING RETURNING id";
    const WINDOW: &str =
        "UPDATE user_profiles SET whatsapp_last_inbound_at = $1 WHERE user_id = $2 \
                          AND (whatsapp_last_inbound_at IS NULL OR whatsapp_last_inbound_at < $1)";
    let mut tx = db.begin().await?;
    let id: Option<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(INSERT).bind(m.provider).bind(m.provider_message_id)
        .bind(m.sender).bind(m.user_id).bind(m.profile_name).bind(m.body).bind(m.button_payload).bind(at).bind(m.outcome)
        .fetch_optional(&mut *c).await)?;
    if let (Some(_), Some(user)) = (id, m.user_id) {
        on_tx!(&mut tx, c => sqlx::query(WINDOW).bind(at).bind(user).execute(&mut *c).await.map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(id)
}

/// A WhatsApp reply to the sender, queued with the outcome.
#[derive(Debug, Clone)]
pub struct Reply {
    pub recipient_id: i64,
    pub ticket_id: Option<i64>,
    pub text: String,
}

/// What a command did, recorded on its message.
#[derive(Debug, Clone)]
pub struct Finished {
    pub command: &'static str,
    pub ticket_id: Option<i64>,
    pub outcome: &'static str,
    pub detail: Option<String>,
    pub reply: Option<Reply>,
    /// STOP (`Some(Some(at))`) or START (`Some(None)`) for the sender.
    pub opt_out: Option<Option<DateTime<Utc>>>,
}

/// The event of reply rows in the notification log.
pub const REPLY_EVENT: &str = "whatsapp_reply";

/// Records the outcome of message `id` from user `user_id`, its reply row (PENDING, due now)
/// and an opt-out change, in one transaction. Returns the reply row's id.
pub async fn finish(
    db: &Db,
    id: i64,
    user_id: i64,
    f: &Finished,
    at: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    const REPLY: &str = "INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, status, \
                         event, created_at, updated_at, next_attempt_at, is_read, attempts) \
                         VALUES ($1, $2, 'WHATSAPP', 'WhatsApp reply', $3, 'PENDING', $4, $5, $5, $5, FALSE, 0) RETURNING id";
    const OUTCOME: &str = "UPDATE whatsapp_messages SET command = $1, ticket_id = $2, outcome = $3, outcome_detail = $4, \
                           reply_id = $5 WHERE id = $6";
    const OPT_OUT: &str = "UPDATE user_profiles SET whatsapp_opted_out_at = $1 WHERE user_id = $2";
    let mut tx = db.begin().await?;
    let reply_id: Option<i64> = match &f.reply {
        Some(r) => Some(
            on_tx!(&mut tx, c => sqlx::query_scalar(REPLY).bind(r.ticket_id).bind(r.recipient_id).bind(&r.text)
            .bind(REPLY_EVENT).bind(at).fetch_one(&mut *c).await)?,
        ),
        None => None,
    };
    on_tx!(&mut tx, c => sqlx::query(OUTCOME).bind(f.command).bind(f.ticket_id).bind(f.outcome).bind(&f.detail)
        .bind(reply_id).bind(id).execute(&mut *c).await.map(|_| ()))?;
    if let Some(opted_out_at) = f.opt_out {
        on_tx!(&mut tx, c => sqlx::query(OPT_OUT).bind(opted_out_at).bind(user_id).execute(&mut *c).await.map(|_| ()))?;
    }
    tx.commit().await?;
    Ok(reply_id)
}

/// The tickets `user_id` created that await their approval (RESOLVED or WAITING_APPROVAL).
pub async fn awaiting_approval(db: &Db, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    const SQL: &str = "SELECT id FROM tickets WHERE created_by_id = $1 \
                       AND status IN ('RESOLVED', 'WAITING_APPROVAL') ORDER BY id LIMIT 10";
    on_db!(db, p => sqlx::query_scalar(SQL).bind(user_id).fetch_all(p).await)
}

/// A user's WhatsApp conversation state: `(last inbound, opted out at)`.
pub async fn conversation(
    db: &Db,
    user_id: i64,
) -> Result<Option<(Option<DateTime<Utc>>, Option<DateTime<Utc>>)>, sqlx::Error> {
    const SQL: &str = "SELECT whatsapp_last_inbound_at, whatsapp_opted_out_at FROM user_profiles WHERE user_id = $1";
    on_db!(db, p => sqlx::query_as(SQL).bind(user_id).fetch_optional(p).await)
}

// ---------------------------------------------------------------------------------------------
// The admins' list

/// A stored inbound message with its sender's username.
#[derive(Debug, Clone, FromRow)]
pub struct InboundRow {
    pub id: i64,
    pub provider: String,
    pub provider_message_id: String,
    pub sender: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub profile_name: Option<String>,
    pub body: String,
    pub button_payload: Option<String>,
    pub received_at: DateTime<Utc>,
    pub command: Option<String>,
    pub ticket_id: Option<i64>,
    pub outcome: String,
    pub outcome_detail: Option<String>,
    pub reply_id: Option<i64>,
    #[sqlx(default)]
    pub total_count: i64,
}

impl PageRow for InboundRow {
    fn total_count(&self) -> i64 {
        self.total_count
    }
}

/// Which messages a listing covers.
#[derive(Debug, Clone, Default)]
pub struct InboundFilter {
    pub user: Option<i64>,
    pub ticket: Option<i64>,
    /// `[from, to)`: one day.
    pub received: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

fn where_clause(f: &InboundFilter) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut conds = vec!["1 = 1".to_string()];
    if let Some(u) = f.user {
        args.push(Arg::I64(u));
        conds.push(format!("m.user_id = ${}", args.len()));
    }
    if let Some(t) = f.ticket {
        args.push(Arg::I64(t));
        conds.push(format!("m.ticket_id = ${}", args.len()));
    }
    if let Some((from, to)) = f.received {
        args.push(Arg::Time(from));
        args.push(Arg::Time(to));
        conds.push(format!(
            "m.received_at >= ${} AND m.received_at < ${}",
            args.len() - 1,
            args.len()
        ));
    }
    (format!("WHERE {}", conds.join(" AND ")), args)
}

/// One page of messages, newest first, each row carrying the total.
pub async fn list(
    db: &Db,
    f: &InboundFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<InboundRow>, sqlx::Error> {
    let (clause, mut args) = where_clause(f);
    args.push(Arg::I64(limit));
    args.push(Arg::I64(offset));
    let sql = format!(
        "SELECT m.id, m.provider, m.provider_message_id, m.sender, m.user_id, u.username, m.profile_name, m.body, \
         m.button_payload, m.received_at, m.command, m.ticket_id, m.outcome, m.outcome_detail, m.reply_id, \
         COUNT(*) OVER () AS total_count FROM whatsapp_messages m LEFT JOIN users u ON u.id = m.user_id {clause} \
         ORDER BY m.received_at DESC, m.id DESC LIMIT ${} OFFSET ${}",
        args.len() - 1,
        args.len()
    );
    on_db!(db, p => bind_args!(sqlx::query_as(&sql), &args).fetch_all(p).await)
}

/// How many messages `f` covers.
pub async fn count(db: &Db, f: &InboundFilter) -> Result<i64, sqlx::Error> {
    let (clause, args) = where_clause(f);
    let sql = format!("SELECT COUNT(*) FROM whatsapp_messages m {clause}");
    on_db!(db, p => bind_args!(sqlx::query_scalar(&sql), &args).fetch_one(p).await)
}
