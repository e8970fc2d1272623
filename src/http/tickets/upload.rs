//! Reading an upload as it arrives. The `file_data` part is read chunk by chunk into one buffer,
//! sized up front from `Content-Length` and never past `MAX_ATTACHMENT_BYTES` (413 as soon as a
//! chunk would pass it), and that buffer is what the INSERT stores. Before any byte is read the
//! request reserves its size in the budget of upload bytes in flight
//! (`MAX_UPLOAD_BYTES_IN_FLIGHT`); a request that finds no room within `HEAVY_REQUEST_WAIT` is
//! answered 503 with `Retry-After`, its body unread.

use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::body::{media_type, multipart_error, RawBody};
use crate::service::tickets::{file_too_large, Upload};
use crate::state::gates::Admitted;
use crate::state::AppState;

/// Room over `MAX_ATTACHMENT_BYTES` for the multipart framing and small text parts.
pub const MULTIPART_FRAMING: usize = 64 * 1024;

/// The file of an upload, and its room in the budget (held until the file is stored).
pub struct Received {
    pub file: Upload,
    pub admitted: Admitted,
}

/// What the last part named `file_data` was.
enum FileDataPart {
    Text { empty: bool },
    File(Upload),
}

fn required() -> Error {
    Error::Invalid("file_data is required".into())
}

fn invalid() -> Error {
    Error::Invalid("Invalid file data provided".into())
}

fn too_large_body() -> Error {
    Error::PayloadTooLarge("Request body is too large.".into())
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads the `file_data` part of the request. A body that is not multipart has no file in it:
/// DRF says why after parsing it (within `MAX_BODY_BYTES`).
pub async fn receive(state: &AppState, req: Request) -> Result<Received> {
    let raw_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if media_type(raw_type.as_deref()).as_deref() != Some("multipart/form-data") {
        return Err(no_file_in(state, req).await);
    }
    let limit = state.config.max_attachment_bytes;
    let body_limit = limit.saturating_add(MULTIPART_FRAMING);
    let declared = content_length(req.headers());
    if declared.is_some_and(|n| n > body_limit) {
        return Err(too_large_body());
    }
    let boundary = multer::parse_boundary(raw_type.unwrap_or_default()).map_err(multipart_error)?;
    let admitted = state
        .upload_bytes
        .reserve(declared.unwrap_or(body_limit), "uploads")
        .await?;
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(body_limit as u64));
    let stream = req.into_body().into_data_stream();
    let parts = multer::Multipart::with_constraints(stream, boundary, constraints);
    let capacity = declared.unwrap_or(limit).min(limit);
    match last_file_data(parts, capacity, limit).await? {
        None | Some(FileDataPart::Text { empty: true }) => Err(required()),
        Some(FileDataPart::Text { empty: false }) => Err(invalid()),
        Some(FileDataPart::File(file)) => Ok(Received { file, admitted }),
    }
}

/// Why a body that is not multipart holds no file.
async fn no_file_in(state: &AppState, req: Request) -> Error {
    let data = match RawBody::from_request(req, state).await {
        Ok(body) => body.parse().await,
        Err(e) => Err(e),
    };
    match data {
        Err(e) => e,
        Ok(data) => match data.get("file_data") {
            None | Some(Value::Null) => required(),
            Some(Value::String(s)) if s.is_empty() => required(),
            Some(_) => invalid(),
        },
    }
}

/// Reads every part, keeping only the last one named `file_data` (as DRF does).
async fn last_file_data(
    mut parts: multer::Multipart<'_>,
    capacity: usize,
    limit: usize,
) -> Result<Option<FileDataPart>> {
    let mut last = None;
    while let Some(field) = parts.next_field().await.map_err(read_error)? {
        if field.name() != Some("file_data") {
            drain(field).await?;
        } else if field.file_name().is_none() {
            last = Some(FileDataPart::Text {
                empty: drain(field).await? == 0,
            });
        } else {
            // A later file part replaces an earlier one: free that buffer first.
            drop(last.take());
            last = Some(FileDataPart::File(read_file(field, capacity, limit).await?));
        }
    }
    Ok(last)
}

/// The file part's bytes, in one buffer of `capacity` bytes (grown only if `Content-Length` was
/// missing), refused as soon as they pass `limit`.
async fn read_file(mut field: multer::Field<'_>, capacity: usize, limit: usize) -> Result<Upload> {
    let filename = field.file_name().map(str::to_string);
    let content_type = field.content_type().map(|m| m.to_string());
    let mut data = Vec::with_capacity(capacity);
    while let Some(chunk) = field.chunk().await.map_err(read_error)? {
        if data.len() + chunk.len() > limit {
            return Err(file_too_large(limit));
        }
        data.extend_from_slice(&chunk);
    }
    Ok(Upload {
        data,
        filename,
        content_type,
    })
}

/// Reads a part to its end without keeping it; answers its length.
async fn drain(mut field: multer::Field<'_>) -> Result<usize> {
    let mut len = 0;
    while let Some(chunk) = field.chunk().await.map_err(read_error)? {
        len += chunk.len();
    }
    Ok(len)
}

fn read_error(e: multer::Error) -> Error {
    match e {
        multer::Error::StreamSizeExceeded { .. } => too_large_body(),
        other => multipart_error(other),
    }
}
