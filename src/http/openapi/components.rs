//! The components the document shares between operations: date-time formats, the error bodies
//! and reusable responses (defined in `crate::error`), pages, and path and query parameters. A
//! module of its own below the handlers, so that a handler's `#[utoipa::path]` can name them
//! while the document's assembly names the handlers.

use utoipa::{IntoParams, ToSchema};

// =============================================================================================
// Schemas: the JSON shapes (contract §4, §1.3 and the port's additions)
//
// The date-time newtypes below exist only to name a documented string format: response structs
// hold the formatted `String` and point at them with `#[schema(value_type = ...)]`.

/// A serializer date-time: `YYYY-MM-DD HH:MM:SS`, UTC, no zone, microseconds dropped
/// (contract §1.7 `dt`).
#[derive(ToSchema)]
#[schema(
    example = "2025-12-25 14:37:35",
    pattern = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
)]
#[allow(dead_code)]
pub struct DateTime(String);

/// An ISO 8601 date-time with `Z`, six fractional digits only when non-zero (contract §1.7
/// `dtiso`): used by the ticket-create and `start_work` responses.
#[derive(ToSchema)]
#[schema(example = "2026-11-25T03:13:54.432327Z")]
#[allow(dead_code)]
pub struct IsoDateTime(String);

/// A date-time input: ISO 8601 (`T` or a space; optional seconds, fraction and `Z`/`±HH:MM`);
/// without a zone it is UTC.
#[derive(ToSchema)]
#[schema(example = "2030-01-01T12:00:00Z")]
#[allow(dead_code)]
pub struct DateTimeInput(String);

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE", example = "SYSTEM")]
/// Notification channel: `EMAIL` (Email), `WHATSAPP` (WhatsApp), `SYSTEM` (System Alert, the in-app bell).
pub enum NotificationType {
    Email,
    Whatsapp,
    System,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE", example = "SENT")]
/// Delivery state of a notification row: `PENDING` (queued), `SENT`, `FAILED`.
pub enum NotificationStatus {
    Pending,
    Sent,
    Failed,
}

// ---------------------------------------------------------------------------------------------
// Errors (contract §1.3): the bodies `crate::error` writes, documented by the same structs.

// ---------------------------------------------------------------------------------------------
// The real-time stream (`/api/notifications/stream/`): each event's `data` is one JSON object.
// These structs only describe it (`http::realtime` writes the JSON), hence never built.

/// The `data` of the first event, `event: connection_established` (the WebSocket's first
/// message too).
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"type": "connection_established", "message": "Connected successfully as ada", "user_id": 1}))]
#[allow(dead_code)]
pub struct ConnectionEstablished {
    /// Always `connection_established`.
    #[serde(rename = "type")]
    #[schema(pattern = "^connection_established$")]
    kind: String,
    message: String,
    user_id: i64,
}

/// The `data` of each `event: notification`: one new in-app (SYSTEM) notification.
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"notification_type": "ticket_created", "message": "New High priority ticket created: Login broken", "ticket": {"id": 7, "title": "Login broken"}, "timestamp": "2026-11-25T03:13:54.432327Z"}))]
#[allow(dead_code)]
pub struct NotificationPush {
    /// The workflow event: `ticket_created`, `ticket_assigned`...
    notification_type: String,
    message: String,
    /// The ticket's fields this event concerns (`id` and `title` at least).
    #[schema(value_type = Object)]
    ticket: serde_json::Value,
    /// When the ticket was created (`ticket_created` only; otherwise null).
    timestamp: Option<String>,
}

/// The `data` of the last event, `event: session_ended`: why the session ended, as the
/// WebSocket's close code and reason.
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"code": 4001, "reason": "Token is expired"}))]
#[allow(dead_code)]
pub struct SessionEnded {
    code: u16,
    reason: String,
}

/// The `data` of one event of the stream, by its `event:` name.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum StreamEventData {
    ConnectionEstablished(ConnectionEstablished),
    Notification(NotificationPush),
    SessionEnded(SessionEnded),
}

pub use crate::error::shapes::{
    Detail, DetailCode, DetailOrError, DetailOrFieldErrors, ErrorBody, ErrorOrFieldErrors,
    FieldErrors, NotAuthenticated, NotAwaitingApproval, RefreshRefused, TokenMessage,
    TokenNotValid,
};

// ---------------------------------------------------------------------------------------------
// Pagination (contract §1.6)

pub use crate::http::pagination::Paginated;

// ---------------------------------------------------------------------------------------------
// Shared by several resources

/// `{"message": str}`.
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"message": "Comment added successfully"}))]
pub struct Message {
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Reusable responses (`components.responses`), defined beside the errors they document.

pub use crate::error::responses::{
    AttachmentNotFound, BadFileData, BadPreferences, CannotApprove, CannotStart, InvalidFilter,
    InvalidPage, MalformedBody, NotAdmin, NotAssignedToFinish, NotAssignedToStart, NotNew,
    NotificationNotFound, PayloadTooLarge, RequestTimeout, ServerError, TicketEditConflict,
    TicketKeptChanging, TicketNotFound, TicketNotVisible, TooBusy, Unauthorized,
    UnsupportedMediaType, UserNotFound,
};

// ---------------------------------------------------------------------------------------------
// Path parameters

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// User id
    pub id: i64,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NotificationPath {
    /// Notification id
    pub id: i64,
}

// ---------------------------------------------------------------------------------------------
// Query parameters

/// Page selection.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number (from 1) or `last`; `0`, a page past the end or a non-number is 404 `Invalid page.`
    #[param(pattern = r"^([1-9][0-9]*|last)$", example = "2")]
    pub page: Option<String>,
}

/// Ticket list filters.
/// Notification filters (list, retrieve, `unread`, `mark_as_read`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilters {
    /// `true`, `1` or `yes` (any case) mean read; any other value means unread.
    pub is_read: Option<String>,
    /// Only this ticket's rows.
    pub ticket: Option<i64>,
    /// A channel instead of the in-app bell: admins see every recipient's rows, others their own.
    pub notification_type: Option<NotificationType>,
    /// With `notification_type`: `PENDING`, `SENT` or `FAILED`.
    pub status: Option<NotificationStatus>,
    /// Admins with `notification_type`: one recipient's rows.
    pub recipient: Option<i64>,
    /// With `notification_type`: the provider's last status, e.g. `delivered`.
    pub delivery_status: Option<String>,
}
