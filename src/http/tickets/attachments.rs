//! A ticket's files (contract §6.12–6.14): upload, list, delete and download.

use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::Json;
use serde_json::Value;

use crate::auth::AuthUser;
use crate::error::{Error, Result};
use crate::http::body::RawBody;
use crate::http::openapi::components::*;
use crate::http::tickets::shapes::*;
use crate::http::tickets::{base_url, load};
use crate::service::tickets::{self, Upload};
use crate::state::AppState;

/// An attachment id from the path; a non-number is an attachment no ticket has.
fn attachment_id(raw: &str) -> Result<i64> {
    crate::domain::id::parse(raw).ok_or_else(tickets::no_such_attachment)
}

/// The `file_data` part of the upload. A body that is not multipart has no file in it: DRF
/// says why after parsing it.
async fn uploaded_file(body: &RawBody) -> Result<Upload> {
    let required = || Error::Invalid("file_data is required".into());
    let invalid = || Error::Invalid("Invalid file data provided".into());
    if body.media_type().as_deref() != Some("multipart/form-data") {
        let data = body.parse().await?;
        return Err(match data.get("file_data") {
            None | Some(Value::Null) => required(),
            Some(Value::String(s)) if s.is_empty() => required(),
            Some(_) => invalid(),
        });
    }
    let parts = body.parts().await?;
    let part = parts
        .into_iter()
        .rev()
        .find(|p| p.name == "file_data")
        .ok_or_else(required)?;
    if part.filename.is_none() {
        return Err(if part.data.is_empty() {
            required()
        } else {
            invalid()
        });
    }
    Ok(Upload {
        data: part.data.to_vec(),
        filename: part.filename,
        content_type: part.content_type,
    })
}

/// Upload a file (multipart part `file_data`; at most `MAX_ATTACHMENT_BYTES`).
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
        (status = 413, description = "The file exceeds `MAX_ATTACHMENT_BYTES`", body = Detail,
         example = json!({"detail": "File too large: 20971520 bytes; the limit is 10485760 bytes."})),
    ))]
pub async fn add_attachment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<AttachmentUploaded>> {
    let t = load(&state, &user, &id).await?;
    tickets::check_upload(&user, &t)?;
    let file = uploaded_file(&body).await?;
    let attachment_id = tickets::upload(&state, &user, &t, file).await?;
    Ok(Json(AttachmentUploaded {
        message: format!("Attachment uploaded to ticket #{} successfully", t.id),
        ticket_id: t.id,
        attachment_id,
    }))
}

/// The ticket's attachments, newest first.
#[utoipa::path(get, operation_id = "tickets_get_attachments", path = "/api/tickets/{id}/get_attachments/", tag = "tickets",
    params(TicketPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The attachments", body = TicketAttachments),
        (status = 404, response = TicketNotVisible),
    ))]
pub async fn get_attachments(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TicketAttachments>> {
    let t = load(&state, &user, &id).await?;
    let rows = tickets::attachments(&state, &t).await?;
    let base = base_url(&state, &headers);
    Ok(Json(TicketAttachments::of(&t, &rows, &base)))
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
    let a = tickets::attachment(&state, &t, attachment_id(&attachment)?).await?;
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
    let mut resp = Response::new(HttpBody::from(a.file_data));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, ct);
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
