//! The components the document shares between operations: date-time formats, error bodies,
//! pages, reusable responses and path and query parameters (and, until they move beside their
//! handlers, the ticket shapes). A module of its own below the handlers, so that a handler's
//! `#[utoipa::path]` can name them while the document's assembly names the handlers.

#![allow(dead_code)]

use utoipa::{IntoParams, ToSchema};

use crate::domain::ticket::{Category, Priority, Status};

// =============================================================================================
// Schemas: the JSON shapes (contract §4, §1.3 and the port's additions)

/// A serializer date-time: `YYYY-MM-DD HH:MM:SS`, UTC, no zone, microseconds dropped
/// (contract §1.7 `dt`).
#[derive(ToSchema)]
#[schema(
    example = "2025-12-25 14:37:35",
    pattern = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
)]
pub struct DateTime(String);

/// An ISO 8601 date-time with `Z`, six fractional digits only when non-zero (contract §1.7
/// `dtiso`): used by the ticket-create and `start_work` responses.
#[derive(ToSchema)]
#[schema(example = "2026-11-25T03:13:54.432327Z")]
pub struct IsoDateTime(String);

/// A date-time input: ISO 8601 (`T` or a space; optional seconds, fraction and `Z`/`±HH:MM`);
/// without a zone it is UTC.
#[derive(ToSchema)]
#[schema(example = "2030-01-01T12:00:00Z")]
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

pub use crate::error::shapes::{
    Detail, DetailCode, DetailOrError, ErrorBody, ErrorOrFieldErrors, FieldErrors,
    NotAuthenticated, NotAwaitingApproval, RefreshRefused, TokenMessage, TokenNotValid,
};

// ---------------------------------------------------------------------------------------------
// Pagination (contract §1.6)

pub use crate::http::pagination::Paginated;

// ---------------------------------------------------------------------------------------------
// Tickets

/// A ticket in lists.
#[derive(ToSchema)]
#[schema(example = json!({
    "id": 12, "project_name": "Test Project", "title": "WhatsApp Test Ticket",
    "description": "Testing WhatsApp notification", "priority": "HIGH", "priority_display": "High",
    "category": "BUG", "category_display": "Bug", "status": "IN_PROGRESS", "status_display": "In Progress",
    "created_by": 4, "created_by_name": "Mona Adel", "assigned_to": [7], "assigned_to_names": ["Omar Dev"],
    "assigned_team": null
}))]
pub struct TicketList {
    pub id: i64,
    pub project_name: String,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub priority_display: String,
    pub category: Category,
    pub category_display: String,
    pub status: Status,
    pub status_display: String,
    /// The creator's user id.
    pub created_by: i64,
    /// The creator's first and last name (may be empty: no username fallback here).
    pub created_by_name: String,
    /// Assigned developers' user ids.
    pub assigned_to: Vec<i64>,
    /// Their names, in the same order.
    pub assigned_to_names: Vec<String>,
    #[schema(required = true)]
    pub assigned_team: Option<String>,
}

/// An attachment (newest first in lists).
#[derive(ToSchema)]
#[schema(example = json!({
    "id": 3, "ticket": 12, "uploaded_by": 4, "uploaded_by_name": "Mona Adel", "file_data": "aGVsbG8=",
    "uploaded_at": "2025-12-25 14:37:35", "filename": "screenshot.png", "content_type": "image/png", "size": 5,
    "download_url": "http://localhost:8000/api/tickets/12/attachments/3/download/"
}))]
pub struct Attachment {
    pub id: i64,
    pub ticket: i64,
    pub uploaded_by: i64,
    /// The uploader's first and last name (may be empty).
    pub uploaded_by_name: String,
    /// Standard Base64 (padded) of the bytes; null when the file is empty.
    #[schema(required = true, content_encoding = "base64")]
    pub file_data: Option<String>,
    pub uploaded_at: DateTime,
    /// The uploaded file's name, when the upload had one.
    #[schema(required = true)]
    pub filename: Option<String>,
    #[schema(required = true)]
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: i64,
    /// Where the raw bytes are served.
    pub download_url: String,
}

/// A history row (newest first).
#[derive(ToSchema)]
#[schema(example = json!({
    "id": 30, "ticket": 12, "changed_by": 1, "changed_by_name": "admin", "status_from": "NEW",
    "status_from_display": "New", "status_to": "OPENED", "status_to_display": "Opened",
    "comment": "Ticket opened by admin", "timestamp": "2025-12-25 14:40:02"
}))]
pub struct History {
    pub id: i64,
    pub ticket: i64,
    pub changed_by: i64,
    /// First and last name, or the username.
    pub changed_by_name: String,
    #[schema(required = true)]
    pub status_from: Option<Status>,
    #[schema(required = true)]
    pub status_from_display: Option<String>,
    pub status_to: Status,
    pub status_to_display: String,
    #[schema(required = true)]
    pub comment: Option<String>,
    pub timestamp: DateTime,
}

/// A ticket in full (retrieve, PUT, PATCH): [`TicketList`]'s fields, then the SLA, the
/// timestamps, the attachments and the history.
#[derive(ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketList,
    #[schema(required = true)]
    pub response_due_at: Option<DateTime>,
    #[schema(required = true)]
    pub resolution_due_at: Option<DateTime>,
    /// The response deadline passed while the ticket was still NEW (never reset).
    pub response_breached: bool,
    /// The resolution deadline passed before the ticket was resolved (never reset).
    pub resolution_breached: bool,
    /// From the current priority: HIGH 30, MEDIUM 120, LOW 1440.
    #[schema(example = 30)]
    pub response_sla_minutes: i64,
    #[schema(required = true)]
    pub estimated_resolution_time: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[schema(required = true)]
    pub opened_at: Option<DateTime>,
    #[schema(required = true)]
    pub started_at: Option<DateTime>,
    #[schema(required = true)]
    pub resolved_at: Option<DateTime>,
    #[schema(required = true)]
    pub closed_at: Option<DateTime>,
    pub attachments: Vec<Attachment>,
    pub history: Vec<History>,
}

/// A new ticket. The SLA fields and `assigned_team` are read for admins only; every other key
/// (`status`, `assigned_to`, ...) is ignored.
#[derive(ToSchema)]
#[schema(example = json!({"title": "WhatsApp Test Ticket", "description": "Testing WhatsApp notification",
                          "priority": "HIGH", "category": "BUG", "project_name": "Test Project"}))]
pub struct TicketCreate {
    #[schema(max_length = 300, min_length = 1)]
    pub title: String,
    #[schema(min_length = 1)]
    pub description: String,
    /// Default `General`.
    #[schema(max_length = 150, min_length = 1)]
    pub project_name: Option<String>,
    /// Default `MEDIUM`.
    pub priority: Option<Priority>,
    /// Default `PROBLEM`.
    pub category: Option<Category>,
    #[schema(max_length = 100)]
    pub assigned_team: Option<String>,
    /// Kept instead of the computed response deadline (now + the priority's SLA minutes).
    pub response_due_at: Option<DateTimeInput>,
    pub resolution_due_at: Option<DateTimeInput>,
    pub estimated_resolution_time: Option<DateTimeInput>,
}

/// An admin edit. PUT requires `title` and `description`; PATCH requires nothing. A `status` or
/// `assigned_to` key is refused (use the action endpoints).
#[derive(ToSchema)]
#[schema(example = json!({"priority": "LOW", "assigned_team": "Backend"}))]
pub struct TicketEdit {
    #[schema(max_length = 300, min_length = 1)]
    pub title: Option<String>,
    #[schema(min_length = 1)]
    pub description: Option<String>,
    #[schema(max_length = 150, min_length = 1)]
    pub project_name: Option<String>,
    pub priority: Option<Priority>,
    pub category: Option<Category>,
    #[schema(max_length = 100)]
    pub assigned_team: Option<String>,
    pub response_due_at: Option<DateTimeInput>,
    pub resolution_due_at: Option<DateTimeInput>,
    pub estimated_resolution_time: Option<DateTimeInput>,
}

/// The ticket-create response (hand-built, not the serializer).
#[derive(ToSchema)]
#[schema(example = json!({"id": 12, "project_name": "Test Project", "priority_display": "High", "category_display": "Bug",
                          "status_display": "New", "created_by": 4, "created_by_name": "Mona Adel",
                          "response_due_at": "2026-11-25T03:13:54.432327Z", "response_sla_minutes": 30}))]
pub struct TicketCreated {
    pub id: i64,
    pub project_name: String,
    pub priority_display: String,
    pub category_display: String,
    pub status_display: String,
    pub created_by: i64,
    /// First and last name, or the username.
    pub created_by_name: String,
    #[schema(required = true)]
    pub response_due_at: Option<IsoDateTime>,
    pub response_sla_minutes: i64,
}

/// `open_ticket`'s answer.
#[derive(ToSchema)]
#[schema(example = json!({"message": "Ticket opened successfully", "id": 12, "title": "WhatsApp Test Ticket", "status_display": "Opened"}))]
pub struct TicketOpened {
    pub message: String,
    pub id: i64,
    pub title: String,
    pub status_display: String,
}

/// Developers to assign (replacing the current set) and optional deadlines.
#[derive(ToSchema)]
#[schema(example = json!({"assigned_to": [7, 8], "resolution_due_at": "2030-01-01T12:00:00Z"}))]
pub struct AssignRequest {
    /// 1 to 20 distinct user ids of SUPPORT users (numeric strings accepted).
    #[schema(min_items = 1, max_items = 20)]
    pub assigned_to: Vec<i64>,
    /// At least 30 minutes and at most a year ahead; `null` clears it, omitted leaves it.
    pub resolution_due_at: Option<DateTimeInput>,
    /// At least 15 minutes and at most a year ahead, not after the resolution deadline; `null`
    /// clears it, omitted leaves it.
    pub estimated_resolution_time: Option<DateTimeInput>,
}

/// `assign`'s answer: the names as one comma-joined string.
#[derive(ToSchema)]
#[schema(example = json!({"message": "Developers assigned successfully", "id": 12, "title": "WhatsApp Test Ticket", "assigned_to_names": "Omar Dev, Sara Dev"}))]
pub struct TicketAssigned {
    pub message: String,
    pub id: i64,
    pub title: String,
    pub assigned_to_names: String,
}

/// `start_work`'s answer.
#[derive(ToSchema)]
#[schema(example = json!({"message": "Status updated successfully", "id": 12, "project_name": "Test Project", "status_display": "In Progress", "estimated_resolution_time": null}))]
pub struct WorkStarted {
    pub message: String,
    pub id: i64,
    pub project_name: String,
    pub status_display: String,
    #[schema(required = true)]
    pub estimated_resolution_time: Option<IsoDateTime>,
}

/// The answer of `finish_work`, `approve` and `reject`.
#[derive(ToSchema)]
#[schema(example = json!({"message": "Status updated to Closed", "id": 12, "project_name": "Test Project", "status_display": "Closed"}))]
pub struct StatusUpdated {
    pub message: String,
    pub id: i64,
    pub project_name: String,
    pub status_display: String,
}

/// `finish_work`'s optional comment (blank or missing: `Work completed`).
#[derive(ToSchema)]
#[schema(example = json!({"comment": "Fixed the login form"}))]
pub struct FinishWorkRequest {
    /// At least 5 characters if given, at most 2000 (trimmed).
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// `reject`'s reason.
#[derive(ToSchema)]
#[schema(example = json!({"comment": "Still failing on the login page"}))]
pub struct RejectRequest {
    /// 10 to 2000 characters (trimmed).
    #[schema(min_length = 10, max_length = 2000)]
    pub comment: String,
}

/// A comment added to the history.
#[derive(ToSchema)]
#[schema(example = json!({"comment": "Any update on this?"}))]
pub struct CommentRequest {
    /// 3 to 2000 characters (trimmed).
    #[schema(min_length = 3, max_length = 2000)]
    pub comment: String,
}

/// `{"message": str}`.
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"message": "Comment added successfully"}))]
pub struct Message {
    pub message: String,
}

/// A multipart upload with one file part named `file_data`.
#[derive(ToSchema)]
pub struct AttachmentUpload {
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    pub file_data: Vec<u8>,
}

/// `add_attachment`'s answer (200, not 201).
#[derive(ToSchema)]
#[schema(example = json!({"message": "Attachment uploaded to ticket #12 successfully", "ticket_id": 12, "attachment_id": 3}))]
pub struct AttachmentUploaded {
    pub message: String,
    pub ticket_id: i64,
    pub attachment_id: i64,
}

/// `get_attachments`' answer.
#[derive(ToSchema)]
pub struct TicketAttachments {
    pub ticket_id: i64,
    pub ticket_title: String,
    pub attachments_count: i64,
    pub attachments: Vec<Attachment>,
}

/// `delete_attachment`'s answer (200 with a body, not 204).
#[derive(ToSchema)]
#[schema(example = json!({"message": "Attachment deleted successfully", "attachment_id": 3}))]
pub struct AttachmentDeleted {
    pub message: String,
    pub attachment_id: i64,
}

// ---------------------------------------------------------------------------------------------
// Reusable responses (`components.responses`), defined beside the errors they document.

pub use crate::error::responses::{
    AttachmentNotFound, CannotApprove, CannotStart, InvalidFilter, InvalidPage, NotAdmin,
    NotAssignedToFinish, NotAssignedToStart, NotNew, NotificationNotFound, PayloadTooLarge,
    RequestTimeout, ServerError, TicketEditConflict, TicketKeptChanging, TicketNotFound,
    TicketNotVisible, Unauthorized, UnsupportedMediaType, UserNotFound,
};

// ---------------------------------------------------------------------------------------------
// Path parameters

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TicketPath {
    /// Ticket id
    pub id: i64,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentPath {
    /// Ticket id
    pub id: i64,
    /// Attachment id
    pub attachment_id: i64,
}

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
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketFilters {
    /// Comma-separated statuses, e.g. `NEW,OPENED`.
    #[param(example = "NEW,OPENED")]
    pub status: Option<String>,
    /// Comma-separated priorities.
    #[param(example = "HIGH")]
    pub priority: Option<String>,
    /// Comma-separated categories.
    #[param(example = "BUG,SERVICE_DOWN")]
    pub category: Option<String>,
    /// Words in the title, description or project name.
    pub search: Option<String>,
    /// `created_at`, `priority` or `status`, `-` first for descending (default `-created_at`).
    #[param(pattern = r"^-?(created_at|priority|status)$", example = "-priority")]
    pub ordering: Option<String>,
}

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
