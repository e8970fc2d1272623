//! The reusable error responses of the OpenAPI document (`components.responses`): each newtype's
//! field is the body's schema (a shape of [`super::shapes`]), with the description and example
//! the operations share. The document adds the plumbing's (401, 413, 415, 408, 500) to every
//! operation they apply to; the others are named in the operations as
//! `(status = N, response = Name)`, a `$ref` to the component.

use utoipa::ToResponse;

use super::shapes::{
    Detail, DetailOrError, DetailOrFieldErrors, ErrorBody, FieldErrors, NotAuthenticated,
};

/// Any of the three token-failure shapes.
#[derive(ToResponse)]
#[response(
    description = "Not authenticated: no or a malformed `Authorization` header, an invalid, expired or wrong-type token, or an inactive or deleted user. Comes with `WWW-Authenticate: Bearer realm=\"api\"`.",
    examples(
        ("no_credentials" = (value = json!({"detail": "Authentication credentials were not provided."}))),
        ("token_not_valid" = (value = json!({"detail": "Given token not valid for any token type", "code": "token_not_valid", "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is expired"}]}))),
        ("user_inactive" = (value = json!({"detail": "User is inactive", "code": "user_inactive"}))),
        ("bad_authorization_header" = (value = json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}))),
    ),
)]
pub struct Unauthorized(#[to_schema] pub NotAuthenticated);

#[derive(ToResponse)]
#[response(description = "The body does not parse, or a field holds a NUL byte.",
           examples(("parse_error" = (value = json!({"detail": "JSON parse error - expected value at line 1 column 1"}))),
                    ("null_character" = (value = json!({"title": ["Null characters are not allowed."]})))))]
pub struct MalformedBody(pub DetailOrFieldErrors);

#[derive(ToResponse)]
#[response(description = "The body exceeds `MAX_BODY_BYTES` (uploads: `MAX_ATTACHMENT_BYTES`).",
           examples(("too_large" = (value = json!({"detail": "Request body is too large."})))))]
pub struct PayloadTooLarge(pub Detail);

#[derive(ToResponse)]
#[response(description = "The body is not JSON, form-urlencoded or multipart.",
           examples(("unsupported" = (value = json!({"detail": "Unsupported media type \"text/plain\" in request."})))))]
pub struct UnsupportedMediaType(pub Detail);

#[derive(ToResponse)]
#[response(description = "The request took longer than `REQUEST_TIMEOUT`.",
           examples(("timeout" = (value = json!({"detail": "Request timed out."})))))]
pub struct RequestTimeout(pub Detail);

#[derive(ToResponse)]
#[response(description = "An unexpected error (logged with the request id).",
           examples(("server_error" = (value = json!({"detail": "A server error occurred."})))))]
pub struct ServerError(pub Detail);

/// 403 on the admin-only operations.
#[derive(ToResponse)]
#[response(description = "Not an admin", example = json!({"detail": "You do not have permission to perform this action."}))]
pub struct NotAdmin(pub Detail);

/// 404 for `?page=0`, a page past the end or a non-number.
#[derive(ToResponse)]
#[response(description = "Invalid page", example = json!({"detail": "Invalid page."}))]
pub struct InvalidPage(pub Detail);

/// 400 for a bad notification filter.
#[derive(ToResponse)]
#[response(description = "An invalid filter value, or a NUL byte in a query parameter", example = json!({"ticket": ["A valid integer is required."]}))]
pub struct InvalidFilter(pub FieldErrors);

#[derive(ToResponse)]
#[response(description = "No such ticket")]
pub struct TicketNotFound(pub Detail);

#[derive(ToResponse)]
#[response(description = "No such ticket, or not visible")]
pub struct TicketNotVisible(pub Detail);

/// 409 from a workflow action whose optimistic update kept losing.
#[derive(ToResponse)]
#[response(description = "The ticket kept changing under the request")]
pub struct TicketKeptChanging(pub Detail);

/// 409 from an admin edit that lost to a concurrent change.
#[derive(ToResponse)]
#[response(description = "Changed by someone else at the same time", example = json!({"detail": "The ticket was changed by someone else at the same time. Reload it and try again."}))]
pub struct TicketEditConflict(pub Detail);

#[derive(ToResponse)]
#[response(description = "No such ticket (`{\"detail\"}`) or attachment (`{\"error\"}`)", example = json!({"error": "Attachment not found"}))]
pub struct AttachmentNotFound(pub DetailOrError);

#[derive(ToResponse)]
#[response(description = "No such user", example = json!({"detail": "No User matches the given query."}))]
pub struct UserNotFound(pub Detail);

#[derive(ToResponse)]
#[response(description = "Not found in scope", example = json!({"detail": "No NotificationLog matches the given query."}))]
pub struct NotificationNotFound(pub Detail);

// The refusals a workflow action and its short alias share.

#[derive(ToResponse)]
#[response(description = "Not NEW", example = json!({"error": "Ticket is not in NEW status"}))]
pub struct NotNew(pub ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not OPENED or IN_PROGRESS", example = json!({"error": "Ticket cannot be started in current status"}))]
pub struct CannotStart(pub ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not a developer assigned to the ticket", example = json!({"error": "Only developers assigned to this ticket can start work"}))]
pub struct NotAssignedToStart(pub ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not a developer assigned to the ticket", example = json!({"error": "Only developers assigned to this ticket can finish work"}))]
pub struct NotAssignedToFinish(pub ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not the creator, or not a client or admin", examples(
    ("not_creator" = (value = json!({"error": "Only the ticket creator can approve this ticket"}))),
    ("role" = (value = json!({"error": "Only clients or admins can approve tickets"}))),
))]
pub struct CannotApprove(pub ErrorBody);

/// 503 from the heavy attachment routes: too many uploads or inlining answers in flight.
#[derive(ToResponse)]
#[response(
    description = "Too many uploads (`MAX_UPLOAD_BYTES_IN_FLIGHT`) or answers that inline attachments (`MAX_INLINE_ATTACHMENT_RESPONSES`) are in flight, and none finished within `HEAVY_REQUEST_WAIT`. Try again after `Retry-After` seconds (or ask with `file_data=false`).",
    headers(("Retry-After" = u64, description = "Seconds to wait before trying again")),
    examples(
        ("uploads" = (value = json!({"detail": "The server is busy with other uploads. Try again in 5 seconds."}))),
        ("inline" = (value = json!({"detail": "The server is busy with other attachment downloads. Try again in 5 seconds."}))),
    ),
)]
pub struct TooBusy(pub Detail);

/// 400 from the answers that inline attachments: `?file_data=` is not a boolean.
#[derive(ToResponse)]
#[response(description = "`file_data` is not a boolean", example = json!({"file_data": ["Must be a valid boolean."]}))]
pub struct BadFileData(pub FieldErrors);

/// 400 from the notification preferences' PUT: every bad field, nested as the body is, or a body
/// that does not parse.
#[derive(ToResponse)]
#[response(
    description = "Field errors, nested as the body is: an unknown event or channel, a value that is not a boolean, `SYSTEM` turned off, a time zone that is not an IANA name, a time that is not `HH:MM`, or quiet hours ending when they start",
    examples(
        ("unknown_event" = (value = json!({"events": {"ticket_burnt": ["\"ticket_burnt\" is not a valid event."]}}))),
        ("system_off" = (value = json!({"events": {"ticket_created": {"SYSTEM": ["In-app (SYSTEM) notifications cannot be turned off."]}}}))),
        ("bad_zone" = (value = json!({"time_zone": ["A valid timezone is required."]}))),
        ("bad_time" = (value = json!({"quiet_hours": {"start": ["Time has wrong format. Use one of these formats instead: hh:mm."]}}))),
        ("malformed" = (value = json!({"detail": "JSON parse error - EOF while parsing a value at line 1 column 10"}))),
    ),
)]
pub struct BadPreferences(pub DetailOrFieldErrors);
