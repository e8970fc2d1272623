//! Answers that carry attachments' bytes inline as base64 (`file_data`, the contract's shape):
//! the ticket detail, its PUT/PATCH answers and `get_attachments`. The JSON is still written by
//! the one shape in `shapes` (serde), with a placeholder where each file's base64 goes; the
//! answer then streams that JSON and, at each placeholder, reads that one file from the database
//! and sends its base64 as it is encoded, 64 KiB at a time, freeing the file once sent. So no
//! copy of the whole body is ever built, and an answer holds one file at a time (one query per
//! inlined file, on purpose: the ticket's files together may be `MAX_TICKET_ATTACHMENT_BYTES`).
//! At most `MAX_INLINE_ATTACHMENT_RESPONSES` such answers hold files at once (503 with
//! `Retry-After` after `HEAVY_REQUEST_WAIT`), and `?file_data=false` asks for the attachments
//! without their bytes (`download_url` serves them).

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use base64::Engine;
use futures::future::BoxFuture;
use serde::{Serialize, Serializer};
use serde_json::Value;
use utoipa::IntoParams;

use crate::db::tickets::AttachmentRow;
use crate::error::{Error, Result};
use crate::http::body::parse_bool;
use crate::service::tickets;
use crate::state::gates::Admitted;
use crate::state::AppState;

/// Raw bytes encoded per chunk: a multiple of 3, so the chunks' base64 joins without padding.
const RAW_CHUNK: usize = 48 * 1024;

/// The query parameter of the answers that inline attachments.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileDataParam {
    /// `false` (also `0`, `no`, `off`): the attachments come without their bytes, `file_data`
    /// left out; fetch each file at its `download_url`. Default `true`: every attachment's bytes
    /// inline as base64, as the original answered (heavy: such answers are limited in number and
    /// may be refused with 503).
    #[param(default = true)]
    pub file_data: Option<bool>,
}

/// Whether the caller wants the files' bytes inline (`?file_data=`, default yes).
pub struct InlineFiles(bool);

impl FromRequestParts<AppState> for InlineFiles {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self> {
        let asked = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()))
            .and_then(|pairs| pairs.filter(|(k, _)| k == "file_data").last());
        match asked {
            None => Ok(InlineFiles(true)),
            Some((_, v)) => parse_bool(&Value::String(v.into_owned()))
                .map(InlineFiles)
                .ok_or_else(|| Error::field("file_data", "Must be a valid boolean.")),
        }
    }
}

impl InlineFiles {
    /// The files an answer about these attachments of ticket `ticket_id` inlines: none when the
    /// caller said `file_data=false` or every file is empty; otherwise one of the inlining
    /// answers' slots is taken (503 if none frees in time), and each file is read from the
    /// database when the body reaches it, so an answer holds one file at a time.
    pub async fn load(
        self,
        state: &AppState,
        ticket_id: i64,
        rows: &[AttachmentRow],
    ) -> Result<Files> {
        if !self.0 {
            return Ok(Files::new(false, None, None));
        }
        if rows.iter().all(|a| a.size == 0) {
            return Ok(Files::new(true, None, None));
        }
        let admitted = state.inline_responses.enter("attachment downloads").await?;
        let state = state.clone();
        let fetch: Fetch = Arc::new(move |id| {
            let state = state.clone();
            Box::pin(async move { tickets::attachment_bytes(&state, ticket_id, id).await })
        });
        Ok(Files::new(true, Some(fetch), Some(admitted)))
    }
}

/// An attachment's `file_data` as the shape serializes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileData {
    /// Left out (`?file_data=false`).
    Omitted,
    /// `null`: the file is empty (contract §4).
    Empty,
    /// The placeholder the answer replaces with the file's base64.
    Inline(String),
}

impl FileData {
    pub fn is_omitted(&self) -> bool {
        matches!(self, FileData::Omitted)
    }
}

impl Serialize for FileData {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            FileData::Omitted | FileData::Empty => s.serialize_none(),
            FileData::Inline(placeholder) => s.serialize_str(placeholder),
        }
    }
}

/// Reads one attachment's bytes (`None`: deleted meanwhile).
type Fetch = Arc<dyn Fn(i64) -> BoxFuture<'static, Result<Option<Bytes>>> + Send + Sync>;

/// The files of one answer: which attachment each placeholder stands for, how to read their
/// bytes, and the answer's slot, held until the body is sent.
pub struct Files {
    inline: bool,
    /// Unguessable per answer, so no text a user wrote can pass for a placeholder.
    nonce: String,
    placed: Vec<i64>,
    fetch: Option<Fetch>,
    admitted: Option<Admitted>,
}

impl Files {
    fn new(inline: bool, fetch: Option<Fetch>, admitted: Option<Admitted>) -> Files {
        Files {
            inline,
            nonce: format!("file-data-{}-", uuid::Uuid::new_v4().simple()),
            placed: Vec::new(),
            fetch,
            admitted,
        }
    }

    /// The `file_data` of attachment `id` of `size` bytes.
    pub fn slot(&mut self, id: i64, size: i64) -> FileData {
        match (self.inline, &self.fetch) {
            (false, _) => FileData::Omitted,
            (true, Some(_)) if size > 0 => {
                self.placed.push(id);
                FileData::Inline(format!("{}{}", self.nonce, self.placed.len() - 1))
            }
            (true, _) => FileData::Empty,
        }
    }

    /// The answer: `shape` as JSON, each placeholder replaced by its file's base64, streamed.
    pub fn respond<T: Serialize>(self, shape: &T) -> Result<Response> {
        let json = Bytes::from(serde_json::to_vec(shape).map_err(Error::internal)?);
        let (Some(fetch), false) = (self.fetch, self.placed.is_empty()) else {
            return Ok(json_response(Body::from(json)));
        };
        let marker = self.nonce.as_bytes();
        let mut pieces = VecDeque::new();
        let mut pos = 0;
        while let Some(found) = json[pos..].windows(marker.len()).position(|w| w == marker) {
            let start = pos + found;
            let digits = json[start + marker.len()..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let end = start + marker.len() + digits;
            let id = std::str::from_utf8(&json[start + marker.len()..end])
                .ok()
                .and_then(|d| d.parse::<usize>().ok())
                .and_then(|i| self.placed.get(i).copied())
                .ok_or_else(|| Error::internal("a file placeholder without its file"))?;
            pieces.push_back(Piece::Json(json.slice(pos..start)));
            pieces.push_back(Piece::File(id));
            pos = end;
        }
        pieces.push_back(Piece::Json(json.slice(pos..)));
        let body = Streamed {
            pieces,
            current: None,
            fetch,
            _admitted: self.admitted,
        };
        let chunks = futures::stream::unfold(body, |mut body| async move {
            let next = body.next().await?;
            Some((next, body))
        });
        Ok(json_response(Body::from_stream(chunks)))
    }
}

fn json_response(body: Body) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

enum Piece {
    Json(Bytes),
    File(i64),
}

/// The body: JSON pieces as they are; each file read when the body reaches it and sent as
/// base64 chunks encoded when the connection asks, then freed.
struct Streamed {
    pieces: VecDeque<Piece>,
    /// The file being sent and how far.
    current: Option<(Bytes, usize)>,
    fetch: Fetch,
    _admitted: Option<Admitted>,
}

impl Streamed {
    async fn next(&mut self) -> Option<std::result::Result<Bytes, Error>> {
        loop {
            if let Some((data, pos)) = &mut self.current {
                if *pos < data.len() {
                    let end = (*pos + RAW_CHUNK).min(data.len());
                    let text = base64::engine::general_purpose::STANDARD.encode(&data[*pos..end]);
                    *pos = end;
                    return Some(Ok(Bytes::from(text)));
                }
                // Sent: free it now, not when the whole answer is.
                self.current = None;
            }
            match self.pieces.pop_front()? {
                Piece::Json(b) if b.is_empty() => {}
                Piece::Json(b) => return Some(Ok(b)),
                Piece::File(id) => match (self.fetch)(id).await {
                    Ok(data) => self.current = Some((data.unwrap_or_default(), 0)),
                    Err(e) => {
                        // Mid-answer: the status is sent, so the connection is cut instead.
                        tracing::error!(error = %e, attachment_id = id, "reading an inlined file failed");
                        self.pieces.clear();
                        return Some(Err(e));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Serialize)]
    struct Shape {
        title: String,
        files: Vec<FileData>,
        after: &'static str,
    }

    fn from(files: HashMap<i64, Bytes>) -> Fetch {
        let files = Arc::new(files);
        Arc::new(move |id| {
            let found = files.get(&id).cloned();
            Box::pin(async move { Ok(found) })
        })
    }

    #[tokio::test]
    async fn placeholders_become_the_files_base64_and_user_text_stays_text() {
        let big: Vec<u8> = (0..(RAW_CHUNK * 2 + 7)).map(|i| (i % 251) as u8).collect();
        let by_id = HashMap::from([
            (1, Bytes::from_static(b"hello")),
            (2, Bytes::from(big.clone())),
        ]);
        let mut files = Files::new(true, Some(from(by_id)), None);
        let slots = vec![
            files.slot(2, big.len() as i64),
            files.slot(3, 0),
            files.slot(1, 5),
        ];
        assert_eq!(slots[1], FileData::Empty);
        // A title that looks like a placeholder, without the answer's nonce.
        let shape = Shape {
            title: "file-data-00000000000000000000000000000000-0".into(),
            files: slots,
            after: "end",
        };
        let resp = files.respond(&shape).unwrap();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        assert_eq!(
            v,
            serde_json::json!({"title": shape.title, "files": [b64.encode(&big), null, "aGVsbG8="], "after": "end"})
        );
    }

    #[test]
    fn without_inline_files_nothing_is_placed() {
        let mut files = Files::new(false, None, None);
        assert_eq!(files.slot(1, 5), FileData::Omitted);
        let mut empty = Files::new(true, None, None);
        assert_eq!(empty.slot(1, 0), FileData::Empty);
    }
}
