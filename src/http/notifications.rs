//! `/api/notifications/`: the in-app bell of the original (contract §11, the caller's own SYSTEM
//! rows), plus the delivery log admins audit (`?notification_type=WHATSAPP`), stats and retries.
//! Query parameters are read here and the JSON shapes are defined here; the use cases are
//! `service::notifications`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::db::notifications::{Filter, NotificationRow};
use crate::domain::datetime::format_dt;
use crate::domain::ticket::display_name;
use crate::error::{Error, Result};
use crate::http::extract::parse_id;
use crate::http::openapi::components::{
    DateTime, Detail, ErrorBody, FieldErrors, InvalidFilter, InvalidPage, NotAdmin,
    NotificationFilters, NotificationNotFound, NotificationPath, NotificationStatus,
    NotificationType, PageParams, Paginated, TicketNotFound,
};
use crate::http::pagination::PageRequest;
use crate::notify::templates::catalog::EVENTS;
use crate::service::notifications::{self as service, ChannelCounts, Stats};
use crate::service::preview::{Preview, PreviewRequest, CHANNELS};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Shapes

/// A notification. In-app (`SYSTEM`) rows have the original's eight fields; e-mail and WhatsApp
/// rows (admins, `?notification_type=`) add the recipient and how delivery went.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 57, "ticket": 12, "notification_type": "WHATSAPP", "notification_type_display": "WhatsApp",
    "subject": "Ticket Created", "created_at": "2025-12-25 14:37:35", "is_read": false, "read_at": null,
    "recipient": 1, "recipient_name": "admin", "message": "New ticket: WhatsApp Test Ticket", "status": "SENT",
    "status_display": "Sent", "error_code": null, "error_message": null, "delivery_status": "delivered",
    "provider": "twilio", "provider_message_id": "SM0123456789abcdef0123456789abcdef", "attempts": 1,
    "sent_at": "2025-12-25 14:37:36", "next_attempt_at": null, "event": "ticket_created", "fallback_of": null,
    "whatsapp_path": "template_outside_window"
}))]
pub struct Notification {
    pub id: i64,
    #[schema(required = true)]
    pub ticket: Option<i64>,
    #[schema(value_type = NotificationType)]
    pub notification_type: String,
    pub notification_type_display: String,
    pub subject: String,
    #[schema(value_type = DateTime)]
    pub created_at: String,
    pub is_read: bool,
    #[schema(value_type = Option<DateTime>, required = true)]
    pub read_at: Option<String>,
    // The delivery fields are absent from in-app rows (`None`); on delivery rows a missing value
    // is `Some(None)`, a JSON null.
    /// Delivery rows only: the recipient's user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<i64>,
    /// Delivery rows only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    /// Delivery rows only: the text sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Delivery rows only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<NotificationStatus>)]
    pub status: Option<String>,
    /// Delivery rows only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_display: Option<String>,
    /// Delivery rows only: the provider's error code (e.g. Twilio `63015`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub error_code: Option<Option<String>>,
    /// Delivery rows only: a readable cause and fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub error_message: Option<Option<String>>,
    /// Delivery rows only: the provider's last status (`queued`, `sent`, `delivered`, `read`,
    /// `undelivered`, `failed`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub delivery_status: Option<Option<String>>,
    /// Delivery rows only: `twilio`, `meta` or `log`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub provider: Option<Option<String>>,
    /// Delivery rows only: the provider's message id (Twilio SID, Meta wamid).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub provider_message_id: Option<Option<String>>,
    /// Delivery rows only: send attempts so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i64>,
    /// Delivery rows only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime>)]
    pub sent_at: Option<Option<String>>,
    /// Delivery rows only: when a PENDING row is tried next (null once SENT or FAILED).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime>)]
    pub next_attempt_at: Option<Option<String>>,
    /// Delivery rows only: the workflow event (`ticket_created`, `ticket_opened`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub event: Option<Option<String>>,
    /// Delivery rows only: for an e-mail sent because a WhatsApp message failed, that
    /// message's id (null otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub fallback_of: Option<Option<i64>>,
    /// Delivery rows only: how the worker sent a WhatsApp row and why (`text_in_window`,
    /// `template_outside_window`, `text_outside_window_no_template`,
    /// `text_outside_window_by_policy`, `skipped_outside_window`, `opted_out`; null before).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub whatsapp_path: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"count": 3}))]
pub struct UnreadCount {
    pub count: i64,
}

/// `mark_as_read` and `retry` answers.
#[derive(Serialize, ToSchema)]
pub struct NotificationMessage {
    #[schema(example = "Notification marked as read")]
    pub message: String,
    pub notification: Notification,
}

/// `mark_all_as_read` and `retry_failed` answers.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "2 notification(s) marked as read", "count": 2}))]
pub struct CountMessage {
    pub message: String,
    #[schema(value_type = i64)]
    pub count: u64,
}

/// Row counts of one channel by status.
#[derive(Serialize, ToSchema)]
pub struct ChannelStats {
    #[serde(rename = "PENDING")]
    pub pending: i64,
    #[serde(rename = "SENT")]
    pub sent: i64,
    #[serde(rename = "FAILED")]
    pub failed: i64,
    pub total: i64,
    /// WHATSAPP only: counts by the provider's last delivery status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_status: Option<BTreeMap<String, i64>>,
}

/// Counts by channel and status.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "EMAIL": {"PENDING": 0, "SENT": 0, "FAILED": 0, "total": 0},
    "WHATSAPP": {"PENDING": 1, "SENT": 10, "FAILED": 2, "total": 13, "delivery_status": {"delivered": 8, "read": 2}},
    "SYSTEM": {"PENDING": 0, "SENT": 25, "FAILED": 0, "total": 25}
}))]
pub struct NotificationStats {
    #[serde(rename = "EMAIL")]
    pub email: ChannelStats,
    #[serde(rename = "WHATSAPP")]
    pub whatsapp: ChannelStats,
    #[serde(rename = "SYSTEM")]
    pub system: ChannelStats,
}

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

impl From<&NotificationRow> for Notification {
    /// The original's eight fields; delivery rows also show how their delivery went.
    fn from(n: &NotificationRow) -> Notification {
        let delivery = n.notification_type != "SYSTEM";
        let only = |v| delivery.then_some(v);
        Notification {
            id: n.id,
            ticket: n.ticket_id,
            notification_type: n.notification_type.clone(),
            notification_type_display: type_label(&n.notification_type).to_string(),
            subject: n.subject.clone(),
            created_at: format_dt(&n.created_at),
            is_read: n.is_read,
            read_at: n.read_at.as_ref().map(format_dt),
            recipient: delivery.then_some(n.recipient_id),
            recipient_name: delivery
                .then(|| display_name(&n.first_name, &n.last_name, &n.username)),
            message: delivery.then(|| n.message.clone()),
            status: delivery.then(|| n.status.clone()),
            status_display: delivery.then(|| status_label(&n.status).to_string()),
            error_code: only(n.error_code.clone()),
            error_message: only(n.error_message.clone()),
            delivery_status: only(n.delivery_status.clone()),
            provider: only(n.provider.clone()),
            provider_message_id: only(n.provider_message_id.clone()),
            attempts: delivery.then_some(i64::from(n.attempts)),
            sent_at: only(n.sent_at.as_ref().map(format_dt)),
            next_attempt_at: only(n.next_attempt_at.as_ref().map(format_dt)),
            event: only(n.event.clone()),
            fallback_of: delivery.then_some(n.fallback_of),
            whatsapp_path: only(n.whatsapp_path.clone()),
        }
    }
}

impl From<&ChannelCounts> for ChannelStats {
    fn from(c: &ChannelCounts) -> ChannelStats {
        ChannelStats {
            pending: c.pending,
            sent: c.sent,
            failed: c.failed,
            total: c.total(),
            delivery_status: None,
        }
    }
}

impl From<Stats> for NotificationStats {
    fn from(s: Stats) -> NotificationStats {
        NotificationStats {
            email: ChannelStats::from(&s.email),
            whatsapp: ChannelStats {
                delivery_status: Some(s.whatsapp_delivery.into_iter().collect()),
                ..ChannelStats::from(&s.whatsapp)
            },
            system: ChannelStats::from(&s.system),
        }
    }
}

/// A message rendered for a ticket and recipient, not sent (ADMIN preview).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "event": "ticket_opened", "channel": "WHATSAPP", "ticket": 12, "recipient": 5,
    "recipient_name": "John Doe", "template": "ticket_opened.client.whatsapp.txt",
    "subject": "WhatsApp Notification",
    "body": "✅ *Your Ticket Has Been Opened*\n\nHello John Doe,\n...",
    "variables": ["John Doe", "Login page not working", "Web Portal"]
}))]
pub struct NotificationPreview {
    pub event: String,
    /// `WHATSAPP`, `EMAIL` or `SYSTEM`.
    pub channel: String,
    pub ticket: i64,
    /// The user the message would go to.
    pub recipient: i64,
    pub recipient_name: String,
    /// The template file the body comes from (override it in `TEMPLATES_DIR`).
    pub template: String,
    /// The e-mail subject, the SYSTEM title, or `WhatsApp Notification`.
    pub subject: String,
    /// The WhatsApp text, the e-mail's plain text, or the SYSTEM message.
    pub body: String,
    /// EMAIL only: the HTML alternative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// WHATSAPP only: the Twilio Content template variables `{{1}}`, `{{2}}`... in order.
    pub variables: Vec<String>,
}

impl NotificationPreview {
    fn new(r: PreviewRequest, p: Preview) -> NotificationPreview {
        NotificationPreview {
            event: r.event,
            channel: r.channel,
            ticket: r.ticket,
            recipient: p.recipient_id,
            recipient_name: p.recipient_name,
            template: p.template.to_string(),
            subject: p.subject,
            body: p.body,
            html: p.html,
            variables: p.variables,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query parameters

const TYPES: [&str; 3] = ["EMAIL", "WHATSAPP", "SYSTEM"];
const STATUSES: [&str; 3] = ["PENDING", "SENT", "FAILED"];

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
        // The original answered 500 for a non-numeric ticket. Digits only: `+1` is no id.
        Some(v) => crate::domain::id::parse(v)
            .map(Some)
            .ok_or_else(|| Error::field(name, "A valid integer is required.")),
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
        delivery_status: choice(
            page,
            "delivery_status",
            &crate::domain::delivery::STATUSES,
            false,
        )?,
        ..Filter::default()
    })
}

fn required<T>(name: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| Error::field(name, "This field is required."))
}

/// `?event=&ticket=&channel=[&recipient=][&reason=]` of the preview.
fn preview_request(page: &PageRequest) -> Result<PreviewRequest> {
    let events: Vec<&str> = EVENTS.iter().map(|(code, _)| *code).collect();
    Ok(PreviewRequest {
        event: required("event", choice(page, "event", &events, false)?)?,
        channel: required("channel", choice(page, "channel", &CHANNELS, true)?)?,
        ticket: required("ticket", integer(page, "ticket")?)?,
        recipient: integer(page, "recipient")?,
        reason: page
            .param("reason")
            .unwrap_or("(the client's reason)")
            .to_string(),
    })
}

/// The list's filters narrowed to one id from the path.
fn one(user: &AuthUser, page: &PageRequest, raw: &str) -> Result<Filter> {
    let mut f = filter(user, page)?;
    f.id = Some(parse_id(raw)?);
    Ok(f)
}

/// What `retrieve` looks in: `one`, except that an admin naming no channel finds any row by id
/// (a WhatsApp or e-mail row linked from the log, another user's in-app row). Everyone else
/// keeps the original's scope: their own in-app rows.
fn one_to_read(user: &AuthUser, page: &PageRequest, raw: &str) -> Result<Filter> {
    let mut f = one(user, page, raw)?;
    if user.is_admin() && page.param("notification_type").is_none() {
        f.notification_type = None;
        f.recipient = None;
    }
    Ok(f)
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn respond_list(
    state: &AppState,
    page: &PageRequest,
    f: &Filter,
) -> Result<Json<Paginated<Notification>>> {
    let listed = page
        .load(
            |offset, limit| service::page(state, f, offset, limit),
            || service::count(state, f),
            |n: &NotificationRow| Notification::from(n),
        )
        .await?;
    Ok(Json(listed))
}

/// Your in-app notifications, newest first; with `notification_type`, the delivery log
/// (admins: every recipient's).
#[utoipa::path(get, path = "/api/notifications/", tag = "notifications", operation_id = "notifications_list",
    params(PageParams, NotificationFilters),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A page of notifications", body = Paginated<Notification>),
        (status = 400, response = InvalidFilter),
        (status = 404, response = InvalidPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Paginated<Notification>>> {
    let f = filter(&user, &page)?;
    respond_list(&state, &page, &f).await
}

/// The list's rows that are unread.
#[utoipa::path(get, path = "/api/notifications/unread/", tag = "notifications", operation_id = "notifications_unread",
    params(PageParams, NotificationFilters),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A page of unread notifications", body = Paginated<Notification>),
        (status = 400, response = InvalidFilter),
        (status = 404, response = InvalidPage),
    ))]
pub async fn unread(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Paginated<Notification>>> {
    let mut f = filter(&user, &page)?;
    // The list's filters plus unread, so `?is_read=true` makes it empty, as in the original.
    f.is_read = match f.is_read {
        Some(true) => return Ok(Json(page.paginate(0, page.window(0)?, Vec::new()))),
        _ => Some(false),
    };
    respond_list(&state, &page, &f).await
}

/// One notification, within the list's scope and filters; admins find any row by id.
#[utoipa::path(get, path = "/api/notifications/{id}/", tag = "notifications", operation_id = "notifications_retrieve",
    params(NotificationPath, NotificationFilters),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The notification", body = Notification),
        (status = 400, response = InvalidFilter),
        (status = 404, response = NotificationNotFound),
    ))]
pub async fn retrieve(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
    Path(id): Path<String>,
) -> Result<Json<Notification>> {
    let row = service::retrieve(&state, &one_to_read(&user, &page, &id)?).await?;
    Ok(Json(Notification::from(&row)))
}

/// How many in-app notifications you have not read.
#[utoipa::path(get, path = "/api/notifications/unread_count/", tag = "notifications", operation_id = "notifications_unread_count",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "The count", body = UnreadCount)))]
pub async fn unread_count(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<UnreadCount>> {
    let count = service::unread_count(&state, &user).await?;
    Ok(Json(UnreadCount { count }))
}

/// Mark one of your notifications read (idempotent; `read_at` is kept on repeats).
#[utoipa::path(post, path = "/api/notifications/{id}/mark_as_read/", tag = "notifications", operation_id = "notifications_mark_as_read",
    params(NotificationPath, NotificationFilters),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Marked", body = NotificationMessage),
        (status = 400, response = InvalidFilter),
        (status = 404, response = NotificationNotFound),
    ))]
pub async fn mark_as_read(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
    Path(id): Path<String>,
) -> Result<Json<NotificationMessage>> {
    let row = service::mark_as_read(&state, &user, &one(&user, &page, &id)?).await?;
    Ok(Json(NotificationMessage {
        message: "Notification marked as read".into(),
        notification: Notification::from(&row),
    }))
}

/// Mark all your unread in-app notifications read (optionally one ticket's).
#[utoipa::path(post, path = "/api/notifications/mark_all_as_read/", tag = "notifications", operation_id = "notifications_mark_all_as_read",
    params(("ticket" = Option<i64>, Query, description = "Only this ticket's rows (a query parameter; a body is ignored)")),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Marked", body = CountMessage),
        (status = 400, description = "A non-numeric ticket", body = FieldErrors),
    ))]
pub async fn mark_all_as_read(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<CountMessage>> {
    let n = service::mark_all_as_read(&state, &user, integer(&page, "ticket")?).await?;
    Ok(Json(CountMessage {
        message: format!("{n} notification(s) marked as read"),
        count: n,
    }))
}

/// Counts by channel and status (ADMIN).
#[utoipa::path(get, path = "/api/notifications/stats/", tag = "notifications", operation_id = "notifications_stats",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The counts", body = NotificationStats),
        (status = 403, response = NotAdmin),
    ))]
pub async fn stats(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<NotificationStats>> {
    user.require_admin()?;
    Ok(Json(NotificationStats::from(service::stats(&state).await?)))
}

/// Re-queue one FAILED e-mail or WhatsApp row (ADMIN).
#[utoipa::path(post, path = "/api/notifications/{id}/retry/", tag = "notifications", operation_id = "notifications_retry",
    params(NotificationPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Re-queued", body = NotificationMessage),
        (status = 400, description = "Not a FAILED delivery row", body = ErrorBody,
         example = json!({"error": "Only FAILED WhatsApp or e-mail notifications can be retried"})),
        (status = 403, response = NotAdmin),
        (status = 404, description = "No such notification", body = Detail),
    ))]
pub async fn retry(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<NotificationMessage>> {
    user.require_admin()?;
    let row = service::retry(&state, &user, parse_id(&id)?).await?;
    Ok(Json(NotificationMessage {
        message: "Notification queued for retry".into(),
        notification: Notification::from(&row),
    }))
}

/// Re-queue every FAILED row of a channel (ADMIN).
#[utoipa::path(post, path = "/api/notifications/retry_failed/", tag = "notifications", operation_id = "notifications_retry_failed",
    params(("notification_type" = Option<String>, Query, description = "`WHATSAPP` (default) or `EMAIL`")),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Re-queued", body = CountMessage,
         example = json!({"message": "2 notification(s) queued for retry", "count": 2})),
        (status = 400, description = "An invalid channel", body = FieldErrors),
        (status = 403, response = NotAdmin),
    ))]
pub async fn retry_failed(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<CountMessage>> {
    user.require_admin()?;
    let channel = choice(&page, "notification_type", &["EMAIL", "WHATSAPP"], true)?
        .unwrap_or_else(|| "WHATSAPP".into());
    let n = service::retry_failed(&state, &user, &channel).await?;
    Ok(Json(CountMessage {
        message: format!("{n} notification(s) queued for retry"),
        count: n,
    }))
}

/// Render an event's message for a ticket and recipient with the templates in use, without
/// sending it (ADMIN).
#[utoipa::path(get, path = "/api/notifications/preview/", tag = "notifications", operation_id = "notifications_preview",
    params(
        ("event" = String, Query, description = "`ticket_created`, `ticket_opened`, `ticket_assigned`, `work_started`, `work_finished`, `ticket_rejected` or `ticket_approved`"),
        ("ticket" = i64, Query, description = "The ticket whose facts fill the message"),
        ("channel" = String, Query, description = "`WHATSAPP`, `EMAIL` or `SYSTEM`"),
        ("recipient" = Option<i64>, Query, description = "The user it would go to (default: the first the event notifies on that channel, else you)"),
        ("reason" = Option<String>, Query, description = "`ticket_rejected` only: the reason to quote"),
    ),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The message, not sent", body = NotificationPreview),
        (status = 400, description = "A missing or unknown event, channel or ticket, or a recipient the event does not notify on that channel", body = FieldErrors,
         example = json!({"channel": ["Select a valid choice. FAX is not one of the available choices."]})),
        (status = 403, response = NotAdmin),
        (status = 404, response = TicketNotFound),
    ))]
pub async fn preview(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<NotificationPreview>> {
    user.require_admin()?;
    let request = preview_request(&page)?;
    let preview = crate::service::preview::preview(&state, &user, &request).await?;
    Ok(Json(NotificationPreview::new(request, preview)))
}
