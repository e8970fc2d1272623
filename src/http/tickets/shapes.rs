//! The JSON shapes of `/api/tickets/`: one struct per response body, used by the handlers to
//! answer and by the OpenAPI document alike (field order is the contract's key order), the
//! request bodies the document shows, and the ticket operations' reusable responses and
//! parameters. Date-times are the serializer's strings (`format_dt`, or `format_dtiso` where the
//! original hand-built the answer), documented as the `DateTime` / `IsoDateTime` components.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::db::tickets::{AttachmentRow, HistoryRow, TicketRow};
use crate::domain::datetime::{format_dt, format_dtiso};
use crate::domain::ticket::{display_name, full_name, Category, Priority, Status};
use crate::http::openapi::components::{DateTime, DateTimeInput, IsoDateTime};
use crate::http::tickets::inline::{FileData, Files};
use crate::service::tickets::{Created, StepDone, TicketFull};

// ---------------------------------------------------------------------------------------------
// Response bodies (contract §4) and the request bodies the document shows

/// A ticket in lists.
#[derive(Serialize, ToSchema)]
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
    pub priority_display: &'static str,
    pub category: Category,
    pub category_display: &'static str,
    pub status: Status,
    pub status_display: &'static str,
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
#[derive(Serialize, ToSchema)]
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
    /// Standard Base64 (padded) of the bytes; null when the file is empty. Left out when the
    /// request said `file_data=false`.
    #[serde(skip_serializing_if = "FileData::is_omitted")]
    #[schema(value_type = Option<String>, content_encoding = "base64")]
    pub file_data: FileData,
    #[schema(value_type = DateTime)]
    pub uploaded_at: String,
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
#[derive(Serialize, ToSchema)]
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
    #[schema(required = true, value_type = Option<Status>)]
    pub status_from: Option<String>,
    #[schema(required = true)]
    pub status_from_display: Option<String>,
    #[schema(value_type = Status)]
    pub status_to: String,
    pub status_to_display: String,
    #[schema(required = true)]
    pub comment: Option<String>,
    #[schema(value_type = DateTime)]
    pub timestamp: String,
}

/// A ticket in full (retrieve, PUT, PATCH): [`TicketList`]'s fields, then the SLA, the
/// timestamps, the attachments and the history.
#[derive(Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketList,
    #[schema(required = true, value_type = Option<DateTime>)]
    pub response_due_at: Option<String>,
    #[schema(required = true, value_type = Option<DateTime>)]
    pub resolution_due_at: Option<String>,
    /// The response deadline passed while the ticket was still NEW (never reset).
    pub response_breached: bool,
    /// The resolution deadline passed before the ticket was resolved (never reset).
    pub resolution_breached: bool,
    /// From the current priority: HIGH 30, MEDIUM 120, LOW 1440.
    #[schema(example = 30)]
    pub response_sla_minutes: i64,
    #[schema(required = true, value_type = Option<DateTime>)]
    pub estimated_resolution_time: Option<String>,
    #[schema(value_type = DateTime)]
    pub created_at: String,
    #[schema(value_type = DateTime)]
    pub updated_at: String,
    #[schema(required = true, value_type = Option<DateTime>)]
    pub opened_at: Option<String>,
    #[schema(required = true, value_type = Option<DateTime>)]
    pub started_at: Option<String>,
    #[schema(required = true, value_type = Option<DateTime>)]
    pub resolved_at: Option<String>,
    #[schema(required = true, value_type = Option<DateTime>)]
    pub closed_at: Option<String>,
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
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "project_name": "Test Project", "priority_display": "High", "category_display": "Bug",
                          "status_display": "New", "created_by": 4, "created_by_name": "Mona Adel",
                          "response_due_at": "2026-11-25T03:13:54.432327Z", "response_sla_minutes": 30}))]
pub struct TicketCreated {
    pub id: i64,
    pub project_name: String,
    pub priority_display: &'static str,
    pub category_display: &'static str,
    pub status_display: &'static str,
    pub created_by: i64,
    /// First and last name, or the username.
    pub created_by_name: String,
    #[schema(required = true, value_type = Option<IsoDateTime>)]
    pub response_due_at: Option<String>,
    pub response_sla_minutes: i64,
}

/// `open_ticket`'s answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Ticket opened successfully", "id": 12, "title": "WhatsApp Test Ticket", "status_display": "Opened"}))]
pub struct TicketOpened {
    pub message: &'static str,
    pub id: i64,
    pub title: String,
    pub status_display: &'static str,
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
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Developers assigned successfully", "id": 12, "title": "WhatsApp Test Ticket", "assigned_to_names": "Omar Dev, Sara Dev"}))]
pub struct TicketAssigned {
    pub message: &'static str,
    pub id: i64,
    pub title: String,
    pub assigned_to_names: String,
}

/// `start_work`'s answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Status updated successfully", "id": 12, "project_name": "Test Project", "status_display": "In Progress", "estimated_resolution_time": null}))]
pub struct WorkStarted {
    pub message: &'static str,
    pub id: i64,
    pub project_name: String,
    pub status_display: &'static str,
    #[schema(required = true, value_type = Option<IsoDateTime>)]
    pub estimated_resolution_time: Option<String>,
}

/// The answer of `finish_work`, `approve` and `reject`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Status updated to Closed", "id": 12, "project_name": "Test Project", "status_display": "Closed"}))]
pub struct StatusUpdated {
    pub message: &'static str,
    pub id: i64,
    pub project_name: String,
    pub status_display: &'static str,
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

/// A multipart upload with one file part named `file_data`.
#[derive(ToSchema)]
pub struct AttachmentUpload {
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    pub file_data: Vec<u8>,
}

/// `add_attachment`'s answer (200, not 201).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Attachment uploaded to ticket #12 successfully", "ticket_id": 12, "attachment_id": 3}))]
pub struct AttachmentUploaded {
    pub message: String,
    pub ticket_id: i64,
    pub attachment_id: i64,
}

/// `get_attachments`' answer.
#[derive(Serialize, ToSchema)]
pub struct TicketAttachments {
    pub ticket_id: i64,
    pub ticket_title: String,
    #[schema(value_type = i64)]
    pub attachments_count: usize,
    pub attachments: Vec<Attachment>,
}

/// `delete_attachment`'s answer (200 with a body, not 204).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "Attachment deleted successfully", "attachment_id": 3}))]
pub struct AttachmentDeleted {
    pub message: &'static str,
    pub attachment_id: i64,
}

// ---------------------------------------------------------------------------------------------
// Built from the service's results

fn opt_dt(t: &Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.as_ref().map(format_dt)
}

impl TicketList {
    pub fn of(t: &TicketRow) -> TicketList {
        let assignees = t.assignees();
        TicketList {
            id: t.id,
            project_name: t.project_name.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            priority: t.priority,
            priority_display: t.priority.label(),
            category: t.category,
            category_display: t.category.label(),
            status: t.status,
            status_display: t.status.label(),
            created_by: t.created_by_id,
            created_by_name: full_name(&t.creator_first_name, &t.creator_last_name),
            assigned_to: assignees.iter().map(|p| p.id).collect(),
            assigned_to_names: assignees
                .iter()
                .map(|p| display_name(&p.first_name, &p.last_name, &p.username))
                .collect(),
            assigned_team: t.assigned_team.clone(),
        }
    }
}

impl Attachment {
    /// `base` is the scheme and host the download link starts with; `files` holds the bytes the
    /// answer inlines.
    pub fn of(a: &AttachmentRow, base: &str, files: &mut Files) -> Attachment {
        Attachment {
            id: a.id,
            ticket: a.ticket_id,
            uploaded_by: a.uploaded_by_id,
            uploaded_by_name: full_name(&a.first_name, &a.last_name),
            file_data: files.slot(a.id, a.size),
            uploaded_at: format_dt(&a.uploaded_at),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            download_url: format!(
                "{base}/api/tickets/{}/attachments/{}/download/",
                a.ticket_id, a.id
            ),
        }
    }
}

impl History {
    pub fn of(h: &HistoryRow) -> History {
        History {
            id: h.id,
            ticket: h.ticket_id,
            changed_by: h.changed_by_id,
            changed_by_name: display_name(&h.first_name, &h.last_name, &h.username),
            status_from: h.status_from.clone(),
            status_from_display: h
                .status_from
                .as_deref()
                .map(|s| Status::label_of(s).to_string()),
            status_to: h.status_to.clone(),
            status_to_display: Status::label_of(&h.status_to).to_string(),
            comment: h.comment.clone(),
            timestamp: format_dt(&h.timestamp),
        }
    }
}

impl TicketDetail {
    pub fn of(full: &TicketFull, base: &str, files: &mut Files) -> TicketDetail {
        let t = &full.ticket;
        TicketDetail {
            ticket: TicketList::of(t),
            response_due_at: opt_dt(&t.response_due_at),
            resolution_due_at: opt_dt(&t.resolution_due_at),
            response_breached: full.response_breached,
            resolution_breached: full.resolution_breached,
            response_sla_minutes: t.priority.response_sla_minutes(),
            estimated_resolution_time: opt_dt(&t.estimated_resolution_time),
            created_at: format_dt(&t.created_at),
            updated_at: format_dt(&t.updated_at),
            opened_at: opt_dt(&t.opened_at),
            started_at: opt_dt(&t.started_at),
            resolved_at: opt_dt(&t.resolved_at),
            closed_at: opt_dt(&t.closed_at),
            attachments: full
                .attachments
                .iter()
                .map(|a| Attachment::of(a, base, files))
                .collect(),
            history: full.history.iter().map(History::of).collect(),
        }
    }
}

impl TicketCreated {
    /// `created_by_name` is the creator's display name (first and last name, or the username).
    pub fn of(c: &Created, created_by_name: String) -> TicketCreated {
        TicketCreated {
            id: c.id,
            project_name: c.ticket.project_name.clone(),
            priority_display: c.ticket.priority.label(),
            category_display: c.ticket.category.label(),
            status_display: Status::New.label(),
            created_by: c.ticket.created_by,
            created_by_name,
            response_due_at: c.ticket.response_due_at.as_ref().map(format_dtiso),
            response_sla_minutes: c.ticket.priority.response_sla_minutes(),
        }
    }
}

impl TicketOpened {
    pub fn of(done: &StepDone) -> TicketOpened {
        TicketOpened {
            message: "Ticket opened successfully",
            id: done.ticket.id,
            title: done.ticket.title.clone(),
            status_display: done.transition.to.label(),
        }
    }
}

impl TicketAssigned {
    pub fn of(done: &StepDone) -> TicketAssigned {
        TicketAssigned {
            message: "Developers assigned successfully",
            id: done.ticket.id,
            title: done.ticket.title.clone(),
            assigned_to_names: done
                .transition
                .assignment
                .as_ref()
                .map(|a| a.names.clone())
                .unwrap_or_default(),
        }
    }
}

impl WorkStarted {
    pub fn of(done: &StepDone) -> WorkStarted {
        WorkStarted {
            message: "Status updated successfully",
            id: done.ticket.id,
            project_name: done.ticket.project_name.clone(),
            status_display: done.transition.to.label(),
            estimated_resolution_time: done
                .ticket
                .estimated_resolution_time
                .as_ref()
                .map(format_dtiso),
        }
    }
}

impl StatusUpdated {
    /// `message` differs by step: `finish_work`, `approve` and `reject` word it their own way.
    pub fn of(done: &StepDone, message: &'static str) -> StatusUpdated {
        StatusUpdated {
            message,
            id: done.ticket.id,
            project_name: done.ticket.project_name.clone(),
            status_display: done.transition.to.label(),
        }
    }
}

impl TicketAttachments {
    pub fn of(
        t: &TicketRow,
        rows: &[AttachmentRow],
        base: &str,
        files: &mut Files,
    ) -> TicketAttachments {
        TicketAttachments {
            ticket_id: t.id,
            ticket_title: t.title.clone(),
            attachments_count: rows.len(),
            attachments: rows
                .iter()
                .map(|a| Attachment::of(a, base, files))
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters

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
    /// Words in the title, description or project name (at most 1,000 characters).
    #[param(max_length = 1000)]
    pub search: Option<String>,
    /// `created_at`, `priority` or `status`, `-` first for descending (default `-created_at`).
    #[param(pattern = r"^-?(created_at|priority|status)$", example = "-priority")]
    pub ordering: Option<String>,
}
