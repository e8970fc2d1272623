//! The attachments section: how many bytes one ticket may hold, and the bounds on the heavy
//! requests (uploads in flight, answers that inline files as base64) with how long such a request
//! waits for room before it is answered 503.

use std::time::Duration;

use super::reader::Reader;

#[derive(Debug, Clone)]
pub struct AttachmentLimits {
    /// The sum of one ticket's attachment sizes (`MAX_TICKET_ATTACHMENT_BYTES`); an upload that
    /// would pass it is 413.
    pub max_ticket_bytes: usize,
    /// The bytes of uploads being read and stored at once, across requests
    /// (`MAX_UPLOAD_BYTES_IN_FLIGHT`).
    pub max_upload_bytes_in_flight: usize,
    /// Answers that inline attachments as base64 being built or sent at once
    /// (`MAX_INLINE_ATTACHMENT_RESPONSES`).
    pub max_inline_responses: usize,
    /// How long an upload or an inlining answer waits for room before 503 (`HEAVY_REQUEST_WAIT`).
    pub heavy_request_wait: Duration,
}

pub(super) fn read(r: &mut Reader) -> AttachmentLimits {
    let limits = AttachmentLimits {
        max_ticket_bytes: r.parse(
            "MAX_TICKET_ATTACHMENT_BYTES",
            25 * 1024 * 1024usize,
            "a number of bytes",
        ),
        max_upload_bytes_in_flight: r.parse(
            "MAX_UPLOAD_BYTES_IN_FLIGHT",
            64 * 1024 * 1024usize,
            "a number of bytes",
        ),
        max_inline_responses: r.parse("MAX_INLINE_ATTACHMENT_RESPONSES", 4usize, "a whole number"),
        heavy_request_wait: r.duration("HEAVY_REQUEST_WAIT", Duration::from_secs(5)),
    };
    if limits.max_upload_bytes_in_flight == 0 {
        r.error("MAX_UPLOAD_BYTES_IN_FLIGHT must be at least 1");
    }
    if limits.max_inline_responses == 0 {
        r.error("MAX_INLINE_ATTACHMENT_RESPONSES must be at least 1");
    }
    limits
}
