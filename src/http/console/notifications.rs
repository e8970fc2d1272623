//! The notification log: every channel, filtered by type, status, delivery status, event,
//! ticket, recipient and date range, paginated, each row with its error and the fix; retry one
//! row, retry all failed rows of a channel (confirmed), and the filtered rows as CSV. Retries go
//! through `service::notifications`, as the API's do.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::pager::{list_url, pager};
use super::render::{message_of, page, ConsoleError};
use super::session::{Console, ConsoleForm};
use crate::db::notifications::{Filter, NotificationRow};
use crate::domain::datetime::format_short;
use crate::domain::delivery::guide;
use crate::domain::ticket::display_name;
use crate::service::notifications as service;
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;
/// The most rows one CSV export holds.
const EXPORT_MAX: i64 = 100_000;
const EXPORT_CHUNK: i64 = 1_000;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct LogQuery {
    #[serde(default)]
    r#type: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    delivery_status: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(skip_serializing)]
    page: Option<i64>,
    #[serde(skip_serializing)]
    done: Option<String>,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

fn day(s: &str, plus_days: i64) -> Option<chrono::DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let start = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?);
    Some(start + chrono::Duration::days(plus_days))
}

/// The filter of a query; a recipient is named by username (unknown: no rows).
async fn filter_of(state: &AppState, q: &LogQuery) -> Result<Filter, ConsoleError> {
    let recipient = match some(&q.recipient) {
        Some(name) => Some(
            crate::service::users::by_username(state, &name)
                .await?
                .map_or(0, |u| u.id),
        ),
        None => None,
    };
    Ok(Filter {
        recipient,
        notification_type: some(&q.r#type),
        ticket: some(&q.ticket).map(|t| t.parse().unwrap_or(0)),
        status: some(&q.status),
        delivery_status: some(&q.delivery_status),
        event: some(&q.event),
        created_from: day(&q.from, 0),
        created_before: day(&q.to, 1),
        ..Filter::default()
    })
}

#[derive(Debug, Serialize)]
struct LogRow {
    id: i64,
    created_at: String,
    r#type: String,
    event: Option<String>,
    ticket_id: Option<i64>,
    recipient: String,
    status: String,
    delivery_status: Option<String>,
    attempts: i32,
    error: Option<String>,
    fix: Option<&'static str>,
    retryable: bool,
}

impl From<&NotificationRow> for LogRow {
    fn from(n: &NotificationRow) -> LogRow {
        LogRow {
            id: n.id,
            created_at: format_short(Some(&n.created_at)),
            r#type: n.notification_type.clone(),
            event: n.event.clone(),
            ticket_id: n.ticket_id,
            recipient: display_name(&n.first_name, &n.last_name, &n.username),
            status: n.status.clone(),
            delivery_status: n.delivery_status.clone(),
            attempts: n.attempts,
            error: n.error_message.clone(),
            fix: n.error_code.as_deref().and_then(guide),
            retryable: n.status == "FAILED" && n.notification_type != "SYSTEM",
        }
    }
}

fn query_pairs(q: &LogQuery) -> Vec<(&'static str, &str)> {
    vec![
        ("type", q.r#type.as_str()),
        ("status", q.status.as_str()),
        ("delivery_status", q.delivery_status.as_str()),
        ("event", q.event.as_str()),
        ("ticket", q.ticket.as_str()),
        ("recipient", q.recipient.as_str()),
        ("from", q.from.as_str()),
        ("to", q.to.as_str()),
    ]
}

/// `GET /admin/notifications/`
pub async fn list(
    State(state): State<AppState>,
    Console(s): Console,
    Query(q): Query<LogQuery>,
) -> Result<Response, ConsoleError> {
    let filter = filter_of(&state, &q).await?;
    let number = q.page.unwrap_or(1).max(1);
    let rows = service::page(&state, &filter, (number - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    let total = match rows.first() {
        Some(r) => r.total_count,
        None => service::count(&state, &filter).await?,
    };
    let pairs = query_pairs(&q);
    let pager = pager("/admin/notifications/", &pairs, number, PAGE_SIZE, total);
    let back = list_url("/admin/notifications/", &pairs, Some(number));
    let csv = list_url("/admin/notifications/export.csv", &pairs, None);
    let rows: Vec<LogRow> = rows.iter().map(LogRow::from).collect();
    let ctx = json!({
        "rows": rows, "total": total, "f": q, "done": q.done, "back": back, "csv": csv,
        "pager": pager,
    });
    Ok(page(&s, "notifications.html", "notifications", ctx)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct BackForm {
    #[serde(default)]
    back: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    confirm: String,
}

fn back_to(back: &str, done: &str) -> Redirect {
    let base = if back.starts_with("/admin/notifications/") {
        back
    } else {
        "/admin/notifications/"
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let done: String = form_urlencoded::byte_serialize(done.as_bytes()).collect();
    Redirect::to(&format!("{base}{sep}done={done}"))
}

/// `POST /admin/notifications/{id}/retry/`
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ConsoleForm(s, form): ConsoleForm<BackForm>,
) -> Result<Response, ConsoleError> {
    let done = match service::retry(&state, &s.user, id).await {
        Ok(_) => format!("Notification {id} queued again."),
        Err(e) if e.status().is_client_error() => message_of(&e),
        Err(e) => return Err(e.into()),
    };
    Ok(back_to(&form.back, &done).into_response())
}

/// `POST /admin/notifications/retry_failed/`: every FAILED row of a channel, once confirmed.
pub async fn retry_failed(
    State(state): State<AppState>,
    ConsoleForm(s, form): ConsoleForm<BackForm>,
) -> Result<Response, ConsoleError> {
    let channel = match form.channel.as_str() {
        "WHATSAPP" | "EMAIL" => form.channel.as_str(),
        _ => return Ok(back_to(&form.back, "Choose WhatsApp or e-mail.").into_response()),
    };
    if form.confirm != "yes" {
        let msg = "Nothing retried: tick the confirmation box to retry every failed row.";
        return Ok(back_to(&form.back, msg).into_response());
    }
    let n = service::retry_failed(&state, &s.user, channel).await?;
    Ok(back_to(
        &form.back,
        &format!("{n} failed {channel} notification(s) queued again."),
    )
    .into_response())
}

/// A CSV field: quoted, and a leading formula character neutralised for spreadsheets.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One CSV line of a row.
fn csv_line(n: &NotificationRow) -> String {
    let fields = [
        n.id.to_string(),
        format_short(Some(&n.created_at)),
        n.notification_type.clone(),
        n.event.clone().unwrap_or_default(),
        n.ticket_id.map(|t| t.to_string()).unwrap_or_default(),
        n.username.clone(),
        n.status.clone(),
        n.delivery_status.clone().unwrap_or_default(),
        n.attempts.to_string(),
        n.error_code.clone().unwrap_or_default(),
        n.error_message.clone().unwrap_or_default(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The CSV of the rows `filter` selects, read a chunk at a time.
async fn csv_of(state: &AppState, filter: &Filter) -> Result<String, ConsoleError> {
    let mut out = String::from(
        "id,created_at,type,event,ticket,recipient,status,delivery_status,attempts,error_code,error\r\n",
    );
    let mut offset = 0;
    while offset < EXPORT_MAX {
        let rows = service::page(state, filter, offset, EXPORT_CHUNK).await?;
        rows.iter().for_each(|n| out.push_str(&csv_line(n)));
        if (rows.len() as i64) < EXPORT_CHUNK {
            break;
        }
        offset += EXPORT_CHUNK;
    }
    Ok(out)
}

/// `GET /admin/notifications/export.csv`: the filtered rows (at most `EXPORT_MAX`).
pub async fn export(
    State(state): State<AppState>,
    Console(_): Console,
    Query(q): Query<LogQuery>,
) -> Result<Response, ConsoleError> {
    let filter = filter_of(&state, &q).await?;
    let out = csv_of(&state, &filter).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"notifications.csv\"",
        ),
    ];
    Ok((headers, out).into_response())
}
