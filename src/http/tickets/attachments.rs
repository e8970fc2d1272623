//! A ticket's files (contract §6.12–6.14): upload, list, delete and download.

use axum::body::Body as HttpBody;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::Json;

use crate::auth::AuthUser;
use crate::error::Result;
use crate::http::openapi::components::*;
use crate::http::tickets::inline::{FileDataParam, InlineFiles};
use crate::http::tickets::shapes::*;
use crate::http::tickets::{base_url, load, upload};
use crate::service::tickets;
use crate::state::AppState;

/// An attachment id from the path; a non-number is an attachment no ticket has.
fn attachment_id(raw: &str) -> Result<i64> {
    crate::domain::id::parse(raw).ok_or_else(tickets::no_such_attachment)
}

/// Upload a file (multipart part `file_data`; at most `MAX_ATTACHMENT_BYTES`, and at most
/// `MAX_TICKET_ATTACHMENT_BYTES` on one ticket). The file is streamed in; uploads wait for room
/// in `MAX_UPLOAD_BYTES_IN_FLIGHT` (503 when none frees within `HEAVY_REQUEST_WAIT`).
#[utoipa::path(post, operation_id = "tickets_add_attachment", path = "/api/tickets/{id}/add_attachment/", tag = "tickets",
    params(TicketPath),
    request_body(content((AttachmentUpload = "multipart/form-data"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Uploaded", body = AttachmentUploaded),
        (status = 400, description = "No file, or `file_data` is not a file", body = ErrorBody,
         examples(
             ("missing" = (value = json!({"error": "file_data is required"}))),
             ("not_a_file" = (value = json!({"error": "Invalid file data provided"}))),
         )),
        (status = 403, description = "Not allowed to add attachments here", body = ErrorBody,
         example = json!({"error": "You do not have permission to add attachments to this ticket"})),
        (status = 404, response = TicketNotVisible),
        (status = 413, description = "The file exceeds `MAX_ATTACHMENT_BYTES`, the ticket's attachments would exceed `MAX_TICKET_ATTACHMENT_BYTES`, or the body is too large", body = Detail,
         examples(
             ("file" = (value = json!({"detail": "File too large: the limit is 10485760 bytes."}))),
             ("quota" = (value = json!({"detail": "Attachment quota exceeded: ticket #12 already holds 23068672 bytes of attachments, and this file (5242880 bytes) would take it past the limit of 26214400 bytes."}))),
             ("body" = (value = json!({"detail": "Request body is too large."}))),
         )),
        (status = 503, response = TooBusy),
    ))]
pub async fn add_attachment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<AttachmentUploaded>> {
    let t = load(&state, &user, &id).await?;
    tickets::check_upload(&user, &t)?;
    let received = upload::receive(&state, request).await?;
    let attachment_id = tickets::upload(&state, &user, &t, received.file).await?;
    drop(received.admitted);
    Ok(Json(AttachmentUploaded {
        message: format!("Attachment uploaded to ticket #{} successfully", t.id),
        ticket_id: t.id,
        attachment_id,
    }))
}

/// The ticket's attachments, newest first (`?file_data=false`: without their bytes).
#[utoipa::path(get, operation_id = "tickets_get_attachments", path = "/api/tickets/{id}/get_attachments/", tag = "tickets",
    params(TicketPath, FileDataParam),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The attachments", body = TicketAttachments),
        (status = 400, response = BadFileData),
        (status = 404, response = TicketNotVisible),
        (status = 503, response = TooBusy),
    ))]
pub async fn get_attachments(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    inline: InlineFiles,
) -> Result<Response> {
    let t = load(&state, &user, &id).await?;
    let rows = tickets::attachments(&state, &t).await?;
    let mut files = inline.load(&state, t.id, &rows).await?;
    let base = base_url(&state, &headers);
    let shape = TicketAttachments::of(&t, &rows, &base, &mut files);
    files.respond(&shape)
}

/// Delete an attachment: your own uploads; admins also those of admins and developers.
#[utoipa::path(delete, operation_id = "tickets_delete_attachment", path = "/api/tickets/{id}/delete_attachment/{attachment_id}/", tag = "tickets",
    params(AttachmentPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Deleted (200 with a body, not 204)", body = AttachmentDeleted),
        (status = 403, description = "Not yours to delete", body = ErrorBody,
         examples(
             ("admin_client_upload" = (value = json!({"error": "Admins cannot delete attachments uploaded by clients"}))),
             ("not_uploader" = (value = json!({"error": "You can only delete attachments you uploaded"}))),
         )),
        (status = 404, response = AttachmentNotFound),
    ))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Json<AttachmentDeleted>> {
    let t = load(&state, &user, &id).await?;
    let attachment_id = attachment_id(&attachment)?;
    let attachment_id = tickets::delete_attachment(&state, &user, &t, attachment_id).await?;
    Ok(Json(AttachmentDeleted {
        message: "Attachment deleted successfully",
        attachment_id,
    }))
}

/// The attachment's raw bytes, with its content type and file name.
#[utoipa::path(get, operation_id = "tickets_download_attachment", path = "/api/tickets/{id}/attachments/{attachment_id}/download/", tag = "tickets",
    params(AttachmentPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The file (`Content-Disposition: attachment`)", body = Vec<u8>,
         content_type = "application/octet-stream"),
        (status = 404, response = AttachmentNotFound),
    ))]
pub async fn download_attachment(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response> {
    let t = load(&state, &user, &id).await?;
    let (a, data) = tickets::download(&state, &t, attachment_id(&attachment)?).await?;
    let ct = a
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let name: String = a
        .filename
        .as_deref()
        .unwrap_or("attachment")
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let mut resp = Response::new(HttpBody::from(data));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, ct);
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
