//! `/api/notifications/`: the in-app bell of the original (contract §11, the caller's own SYSTEM
//! rows), plus the delivery log admins audit (`?notification_type=WHATSAPP`), stats and retries.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::AuthUser;
use crate::db::notifications::{self as store, Filter, NotificationRow};
use crate::domain::datetime::{format_dt, now};
use crate::domain::ticket::display_name;
use crate::error::{Error, Result};
use crate::http::extract::parse_id;
use crate::http::pagination::PageRequest;
use crate::state::AppState;

const TYPES: [&str; 3] = ["EMAIL", "WHATSAPP", "SYSTEM"];
const STATUSES: [&str; 3] = ["PENDING", "SENT", "FAILED"];
const DELIVERY: [&str; 9] = [
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "undelivered",
    "failed",
];

fn type_label(t: &str) -> &str {
    match t {
        "EMAIL" => "Email",
        "WHATSAPP" => "WhatsApp",
        "SYSTEM" => "System Alert",
        other => other,
    }
}

fn status_label(s: &str) -> &str {
    match s {
        "PENDING" => "Pending",
        "SENT" => "Sent",
        "FAILED" => "Failed",
        other => other,
    }
}

fn opt_dt(t: &Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.as_ref()
        .map(|t| Value::String(format_dt(t)))
        .unwrap_or(Value::Null)
}

/// The original's Notification shape; delivery rows also show how their delivery went.
fn notification_json(n: &NotificationRow) -> Value {
    let mut v = json!({
        "id": n.id,
        "ticket": n.ticket_id,
        "notification_type": n.notification_type,
        "notification_type_display": type_label(&n.notification_type),
        "subject": n.subject,
        "created_at": format_dt(&n.created_at),
        "is_read": n.is_read,
        "read_at": opt_dt(&n.read_at),
    });
    if n.notification_type != "SYSTEM" {
        if let Value::Object(m) = &mut v {
            m.insert("recipient".into(), json!(n.recipient_id));
            m.insert(
                "recipient_name".into(),
                json!(display_name(&n.first_name, &n.last_name, &n.username)),
            );
            m.insert("message".into(), json!(n.message));
            m.insert("status".into(), json!(n.status));
            m.insert("status_display".into(), json!(status_label(&n.status)));
            m.insert("error_code".into(), json!(n.error_code));
            m.insert("error_message".into(), json!(n.error_message));
            m.insert("delivery_status".into(), json!(n.delivery_status));
            m.insert("provider".into(), json!(n.provider));
            m.insert("provider_message_id".into(), json!(n.provider_message_id));
            m.insert("attempts".into(), json!(n.attempts));
            m.insert("sent_at".into(), opt_dt(&n.sent_at));
            m.insert("event".into(), json!(n.event));
        }
    }
    v
}

fn choice(page: &PageRequest, name: &str, choices: &[&str], upper: bool) -> Result<Option<String>> {
    match page.param(name).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => {
            let v = if upper {
                v.to_ascii_uppercase()
            } else {
                v.to_ascii_lowercase()
            };
            if choices.contains(&v.as_str()) {
                Ok(Some(v))
            } else {
                Err(Error::field(
                    name,
                    format!("Select a valid choice. {v} is not one of the available choices."),
                ))
            }
        }
    }
}

fn integer(page: &PageRequest, name: &str) -> Result<Option<i64>> {
    match page.param(name).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        // The original answered 500 for a non-numeric ticket.
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| Error::field(name, "A valid integer is required.")),
    }
}

/// The rows a request covers. Without `notification_type`: the caller's own SYSTEM rows (the
/// bell). With it: admins see every recipient's rows, everyone else only their own.
fn filter(user: &AuthUser, page: &PageRequest) -> Result<Filter> {
    let channel = choice(page, "notification_type", &TYPES, true)?;
    let everyone = channel.is_some() && user.is_admin();
    let recipient = if everyone {
        integer(page, "recipient")?
    } else {
        Some(user.id)
    };
    Ok(Filter {
        recipient,
        notification_type: Some(channel.unwrap_or_else(|| "SYSTEM".to_string())),
        is_read: page
            .param("is_read")
            .map(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes")),
        ticket: integer(page, "ticket")?,
        status: choice(page, "status", &STATUSES, true)?,
        delivery_status: choice(page, "delivery_status", &DELIVERY, false)?,
        id: None,
    })
}

async fn respond_list(state: &AppState, page: &PageRequest, f: &Filter) -> Result<Json<Value>> {
    let db = &state.db;
    let (count, w, rows) = page
        .load(
            |offset, limit| store::list(db, f, offset, limit),
            || store::count(db, f),
        )
        .await?;
    Ok(Json(page.respond(
        count,
        w,
        rows.iter().map(notification_json).collect(),
    )))
}

pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Value>> {
    let f = filter(&user, &page)?;
    respond_list(&state, &page, &f).await
}

pub async fn unread(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Value>> {
    let mut f = filter(&user, &page)?;
    // The list's filters plus unread, so `?is_read=true` makes it empty, as in the original.
    f.is_read = match f.is_read {
        Some(true) => return Ok(Json(page.respond(0, page.window(0)?, Vec::new()))),
        _ => Some(false),
    };
    respond_list(&state, &page, &f).await
}

async fn load(
    state: &AppState,
    user: &AuthUser,
    page: &PageRequest,
    raw: &str,
) -> Result<NotificationRow> {
    let mut f = filter(user, page)?;
    f.id = Some(parse_id(raw)?);
    store::get(&state.db, &f)
        .await?
        .ok_or(Error::NotFound("NotificationLog"))
}

pub async fn retrieve(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(notification_json(
        &load(&state, &user, &page, &id).await?,
    )))
}

pub async fn unread_count(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>> {
    let f = Filter {
        recipient: Some(user.id),
        notification_type: Some("SYSTEM".into()),
        is_read: Some(false),
        ..Filter::default()
    };
    Ok(Json(json!({"count": store::count(&state.db, &f).await?})))
}

pub async fn mark_as_read(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let row = load(&state, &user, &page, &id).await?;
    // Only the recipient marks a row read: an admin auditing another's row changes nothing.
    if row.recipient_id == user.id && !row.is_read {
        let f = Filter {
            id: Some(row.id),
            recipient: Some(user.id),
            ..Filter::default()
        };
        store::mark_read(&state.db, &f, now()).await?;
    }
    let row = load(&state, &user, &page, &id).await?;
    Ok(Json(
        json!({"message": "Notification marked as read", "notification": notification_json(&row)}),
    ))
}

pub async fn mark_all_as_read(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Value>> {
    let f = Filter {
        recipient: Some(user.id),
        notification_type: Some("SYSTEM".into()),
        ticket: integer(&page, "ticket")?,
        ..Filter::default()
    };
    let n = store::mark_read(&state.db, &f, now()).await?;
    Ok(Json(
        json!({"message": format!("{n} notification(s) marked as read"), "count": n}),
    ))
}

/// Counts by channel and status (the setup guide's "Analytics"), for admins.
pub async fn stats(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>> {
    user.require_admin()?;
    let (by_status, by_delivery) = store::stats(&state.db).await?;
    let mut out = serde_json::Map::new();
    for t in TYPES {
        let mut m = serde_json::Map::new();
        let mut total = 0;
        for s in STATUSES {
            let n = by_status
                .iter()
                .find(|(ty, st, _)| ty == t && st == s)
                .map(|r| r.2)
                .unwrap_or(0);
            total += n;
            m.insert(s.to_string(), json!(n));
        }
        m.insert("total".into(), json!(total));
        out.insert(t.to_string(), Value::Object(m));
    }
    let delivery: serde_json::Map<String, Value> = by_delivery
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    if let Some(Value::Object(w)) = out.get_mut("WHATSAPP") {
        w.insert("delivery_status".into(), Value::Object(delivery));
    }
    Ok(Json(Value::Object(out)))
}

/// Re-queues one FAILED delivery row.
pub async fn retry(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    user.require_admin()?;
    let id = parse_id(&id)?;
    let f = Filter {
        id: Some(id),
        ..Filter::default()
    };
    let row = store::get(&state.db, &f)
        .await?
        .ok_or(Error::NotFound("NotificationLog"))?;
    if row.notification_type == "SYSTEM" || row.status != "FAILED" {
        return Err(Error::Invalid(
            "Only FAILED WhatsApp or e-mail notifications can be retried".into(),
        ));
    }
    store::requeue_failed(&state.db, &row.notification_type, Some(row.id), now()).await?;
    state.outbox.notify_one();
    let row = store::get(&state.db, &f)
        .await?
        .ok_or(Error::NotFound("NotificationLog"))?;
    Ok(Json(
        json!({"message": "Notification queued for retry", "notification": notification_json(&row)}),
    ))
}

/// Re-queues every FAILED row of a channel (`?notification_type=WHATSAPP`, the default).
pub async fn retry_failed(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Value>> {
    user.require_admin()?;
    let channel = choice(&page, "notification_type", &["EMAIL", "WHATSAPP"], true)?
        .unwrap_or_else(|| "WHATSAPP".into());
    let n = store::requeue_failed(&state.db, &channel, None, now()).await?;
    state.outbox.notify_one();
    tracing::info!(count = n, channel = %channel, by = user.id, "failed notifications re-queued");
    Ok(Json(
        json!({"message": format!("{n} notification(s) queued for retry"), "count": n}),
    ))
}
