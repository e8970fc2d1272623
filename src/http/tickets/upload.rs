//! Reading an upload as it arrives. The `file_data` part is copied from each chunk the connection
//! delivers into one buffer (`multipart::Reader`), sized up front from `Content-Length` and never
//! past `MAX_ATTACHMENT_BYTES` (413 as soon as a chunk would pass it), and that buffer is what the
//! INSERT stores. Before any byte is read the
//! request reserves its size in the budget of upload bytes in flight
//! (`MAX_UPLOAD_BYTES_IN_FLIGHT`); a request that finds no room within `HEAVY_REQUEST_WAIT` is
//! answered 503 with `Retry-After`, its body unread.

use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};
use serde_json::Value;

use futures::StreamExt;

use crate::error::{Error, Result};
use crate::http::body::{media_type, multipart_error, RawBody};
use crate::http::tickets::multipart::{malformed, FileDataPart, Reader};
use crate::service::tickets::Upload;
use crate::state::gates::Admitted;
use crate::state::AppState;

/// Room over `MAX_ATTACHMENT_BYTES` for the multipart framing and small text parts.
pub const MULTIPART_FRAMING: usize = 64 * 1024;

/// The file of an upload, and its room in the budget (held until the file is stored).
pub struct Received {
    pub file: Upload,
    pub admitted: Admitted,
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
    let capacity = declared.unwrap_or(limit).min(limit);
    let reader = Reader::new(&boundary, capacity, limit);
    match read_body(req, reader, body_limit).await? {
        None | Some(FileDataPart::Text { empty: true }) => Err(required()),
        Some(FileDataPart::Text { empty: false }) => Err(invalid()),
        Some(FileDataPart::File(file)) => Ok(Received { file, admitted }),
    }
}

/// Feeds the body to `reader` as it arrives, at most `body_limit` bytes of it.
async fn read_body(
    req: Request,
    mut reader: Reader,
    body_limit: usize,
) -> Result<Option<FileDataPart>> {
    let mut stream = req.into_body().into_data_stream();
    let mut read = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| malformed(&e.to_string()))?;
        read += chunk.len();
        if read > body_limit {
            return Err(too_large_body());
        }
        reader.feed(&chunk)?;
        if reader.is_done() {
            break;
        }
    }
    reader.finish()
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
