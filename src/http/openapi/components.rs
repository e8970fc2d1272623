//! The components the document shares between operations: date-time formats, error bodies,
//! pages, reusable responses and path and query parameters (and, until they move beside their
//! handlers, the user and notification shapes). A module of its own below the handlers, so that
//! a handler's `#[utoipa::path]` can name them while the document's assembly names the handlers.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::schema::{AnyOfBuilder, Ref, Schema};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToResponse, ToSchema};

use crate::domain::ticket::Status;
use crate::domain::user::Role;

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
// Errors (contract §1.3)

/// `{"detail": str}`: 401/403/404/405/406/408/413/415, parse errors, invalid page.
#[derive(ToSchema)]
#[schema(example = json!({"detail": "No Ticket matches the given query."}))]
pub struct Detail {
    pub detail: String,
}

/// `{"detail": str, "code": str}`: refresh token failures, inactive or deleted user, malformed
/// `Authorization` header.
#[derive(ToSchema)]
#[schema(example = json!({"detail": "Token is blacklisted", "code": "token_not_valid"}))]
pub struct DetailCode {
    pub detail: String,
    pub code: String,
}

/// One entry of [`TokenNotValid::messages`].
#[derive(ToSchema)]
pub struct TokenMessage {
    #[schema(example = "AccessToken")]
    pub token_class: String,
    #[schema(example = "access")]
    pub token_type: String,
    /// `Token is invalid`, `Token is expired` or `Token has wrong type`.
    #[schema(example = "Token is invalid")]
    pub message: String,
}

/// An invalid, expired or wrong-type access token (SimpleJWT's shape).
#[derive(ToSchema)]
#[schema(example = json!({"detail": "Given token not valid for any token type", "code": "token_not_valid", "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}]}))]
pub struct TokenNotValid {
    pub detail: String,
    pub code: String,
    pub messages: Vec<TokenMessage>,
}

/// Serializer field errors: each key is a field (or `non_field_errors`), each value the list of
/// messages; keys follow the serializer's field order. Per-item errors inside a list field are an
/// object keyed by the string index (`{"assigned_to": {"0": ["A valid integer is required."]}}`).
pub struct FieldErrors;

impl PartialSchema for FieldErrors {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        let messages = || ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(Schema::OneOf(
                OneOfBuilder::new()
                    .item(messages())
                    .item(
                        ObjectBuilder::new()
                            .schema_type(Type::Object)
                            .additional_properties(Some(messages())),
                    )
                    .build(),
            )))
            .description(Some("Field errors: `{\"<field>\": [\"<message>\", ...], ...}`."))
            .examples([json!({"title": ["This field is required."], "description": ["This field is required."]})])
            .into()
    }
}

impl ToSchema for FieldErrors {}

/// `{"error": str}`: the hand-written errors of the views (exact strings per endpoint).
#[derive(ToSchema)]
#[schema(example = json!({"error": "Ticket is not in NEW status"}))]
pub struct ErrorBody {
    pub error: String,
}

/// `approve` on a ticket that is not awaiting approval.
#[derive(ToSchema)]
#[schema(example = json!({"error": "Ticket is not awaiting approval", "current_status": "IN_PROGRESS", "required_status": ["RESOLVED", "WAITING_APPROVAL"], "message": "Developer must finish work before client can approve"}))]
pub struct NotAwaitingApproval {
    pub error: String,
    pub current_status: Status,
    pub required_status: Vec<Status>,
    pub message: String,
}

/// A schema that is any of several components (a status with more than one body shape).
macro_rules! any_of {
    ($(#[$doc:meta])* $name:ident: $($part:ident)|+) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let mut any = AnyOfBuilder::new();
                $(any = any.item(Ref::from_schema_name(stringify!($part)));)+
                Schema::AnyOf(any.build()).into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                $(schemas.push(($part::name().into(), <$part as PartialSchema>::schema()));)+
            }
        }
    };
}

any_of!(
    /// `{"error": str}` from a view check, or serializer field errors.
    ErrorOrFieldErrors: ErrorBody | FieldErrors
);
any_of!(
    /// `{"detail": str}` (no such ticket) or `{"error": str}` (no such attachment).
    DetailOrError: Detail | ErrorBody
);
any_of!(
    /// A refused refresh: `{"detail", "code"}`, or `{"detail"}` for an inactive user.
    RefreshRefused: DetailCode | Detail
);
any_of!(
    /// A 401 from the authentication layer.
    NotAuthenticated: Detail | DetailCode | TokenNotValid
);

// ---------------------------------------------------------------------------------------------
// Pagination (contract §1.6)

/// A page of 20 (`PageNumberPagination`): `next`/`previous` are absolute URLs or null.
#[derive(ToSchema)]
pub struct Paginated<T: ToSchema> {
    #[schema(example = 42)]
    pub count: i64,
    #[schema(required = true, example = "http://localhost:8000/api/tickets/?page=2")]
    pub next: Option<String>,
    #[schema(required = true)]
    pub previous: Option<String>,
    pub results: Vec<T>,
}

// ---------------------------------------------------------------------------------------------
// Auth

/// Login credentials (JSON, form or multipart; both values are trimmed).
#[derive(ToSchema)]
#[schema(example = json!({"username": "client1", "password": "s3cret-pass"}))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The `user` object of the login response: [`UserBrief`]'s fields and the account's state.
#[derive(ToSchema)]
pub struct LoginUser {
    #[serde(flatten)]
    pub user: UserBrief,
    /// First and last name, or the username when both are empty.
    pub full_name: String,
    pub is_active: bool,
    pub date_joined: DateTime,
}

/// A refresh token (2 days) and an access token (2 hours), with the user.
#[derive(ToSchema)]
#[schema(example = json!({
    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
    "user": {"id": 4, "username": "client1", "email": "client1@example.com", "first_name": "Mona", "last_name": "Adel",
             "full_name": "Mona Adel", "role": "CLIENT", "phone_number": "", "whatsapp_number": "+201094402250",
             "department": "", "is_active": true, "date_joined": "2025-12-23 10:15:00"}
}))]
pub struct LoginResponse {
    pub refresh: String,
    pub access: String,
    pub user: LoginUser,
}

#[derive(ToSchema)]
#[schema(example = json!({"refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"}))]
pub struct RefreshRequest {
    pub refresh: String,
}

/// A new access token and a new refresh token (the presented one is blacklisted).
#[derive(ToSchema)]
pub struct RefreshResponse {
    pub access: String,
    pub refresh: String,
}

/// `{"message": str}`.
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"message": "Comment added successfully"}))]
pub struct Message {
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Users and profiles

/// A user's identity and contact fields: a developer in `GET /api/tickets/developers/`, and the
/// base of the other user and profile shapes.
#[derive(ToSchema)]
#[schema(example = json!({"id": 7, "username": "dev1", "email": "dev1@example.com", "first_name": "Omar", "last_name": "Dev",
                          "role": "SUPPORT", "phone_number": null, "whatsapp_number": "+201000000007", "department": "IT"}))]
pub struct UserBrief {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    #[schema(required = true)]
    pub whatsapp_number: Option<String>,
    #[schema(required = true)]
    pub department: Option<String>,
}

/// A user (users list, retrieve, create response, `by_role` items).
#[derive(ToSchema)]
#[schema(example = json!({"id": 4, "username": "client1", "email": "client1@example.com", "first_name": "Mona",
                          "last_name": "Adel", "full_name": "Mona Adel", "role": "CLIENT", "phone_number": "",
                          "whatsapp_number": "+201094402250", "department": "", "is_active": true,
                          "date_joined": "2025-12-23 10:15:00", "last_login": null}))]
pub struct UserList {
    #[serde(flatten)]
    pub user: LoginUser,
    #[schema(required = true)]
    pub last_login: Option<DateTime>,
}

/// A new user.
#[derive(ToSchema)]
#[schema(example = json!({"username": "dev2", "email": "dev2@example.com", "first_name": "Sara", "last_name": "Dev",
                          "password": "s3cret-pass", "password_confirm": "s3cret-pass", "role": "SUPPORT",
                          "whatsapp_number": "+201000000008"}))]
pub struct UserCreate {
    /// Letters, digits and `@.+-_` only; unique.
    #[schema(max_length = 150)]
    pub username: String,
    /// Unique among users when not blank.
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Must equal `password`.
    pub password_confirm: String,
    pub role: Role,
    #[schema(max_length = 30)]
    pub phone_number: Option<String>,
    /// An international number (stored as `+E164`; local numbers need `DEFAULT_PHONE_REGION`).
    pub whatsapp_number: Option<String>,
    #[schema(max_length = 100)]
    pub department: Option<String>,
}

/// An admin edit of a user (PUT behaves like PATCH: nothing is required).
#[derive(ToSchema)]
#[schema(example = json!({"whatsapp_number": "+201094402250", "is_active": true}))]
pub struct UserEdit {
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    /// Deactivating your own account is refused.
    pub is_active: Option<bool>,
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// Required with `password`, and must equal it.
    pub password_confirm: Option<String>,
    pub role: Option<Role>,
    #[schema(max_length = 30)]
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    #[schema(max_length = 100)]
    pub department: Option<String>,
}

/// The users PUT/PATCH answer.
#[derive(ToSchema)]
pub struct UserUpdate {
    #[serde(flatten)]
    pub user: UserBrief,
    pub is_active: bool,
}

/// A profile (`id` is the profile id, not the user id).
#[derive(ToSchema)]
#[schema(example = json!({"id": 3, "username": "client1", "email": "client1@example.com", "first_name": "Mona",
                          "last_name": "Adel", "role": "CLIENT", "phone_number": "", "whatsapp_number": "+201094402250",
                          "department": "", "created_at": "2025-12-23 10:15:00", "updated_at": "2025-12-24 09:00:00"}))]
pub struct Profile {
    #[serde(flatten)]
    pub user: UserBrief,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// Update yourself: names and password only (other keys are ignored).
#[derive(ToSchema)]
#[schema(example = json!({"first_name": "Mona", "last_name": "Adel"}))]
pub struct ProfileUpdate {
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// Must equal a non-empty `password`.
    pub password_confirm: Option<String>,
}

#[derive(ToSchema)]
#[schema(example = json!({"first_name": "Mona", "last_name": "Adel"}))]
pub struct ProfileUpdated {
    pub first_name: String,
    pub last_name: String,
}

// ---------------------------------------------------------------------------------------------
// Notifications

/// A notification. In-app (`SYSTEM`) rows have the original's eight fields; e-mail and WhatsApp
/// rows (admins, `?notification_type=`) add the recipient and how delivery went.
#[derive(ToSchema)]
#[schema(example = json!({
    "id": 57, "ticket": 12, "notification_type": "WHATSAPP", "notification_type_display": "WhatsApp",
    "subject": "Ticket Created", "created_at": "2025-12-25 14:37:35", "is_read": false, "read_at": null,
    "recipient": 1, "recipient_name": "admin", "message": "New ticket: WhatsApp Test Ticket", "status": "SENT",
    "status_display": "Sent", "error_code": null, "error_message": null, "delivery_status": "delivered",
    "provider": "twilio", "provider_message_id": "SM0123456789abcdef0123456789abcdef", "attempts": 1,
    "sent_at": "2025-12-25 14:37:36", "event": "ticket_created"
}))]
pub struct Notification {
    pub id: i64,
    #[schema(required = true)]
    pub ticket: Option<i64>,
    pub notification_type: NotificationType,
    pub notification_type_display: String,
    pub subject: String,
    pub created_at: DateTime,
    pub is_read: bool,
    #[schema(required = true)]
    pub read_at: Option<DateTime>,
    /// Delivery rows only: the recipient's user id.
    pub recipient: Option<i64>,
    /// Delivery rows only.
    pub recipient_name: Option<String>,
    /// Delivery rows only: the text sent.
    pub message: Option<String>,
    /// Delivery rows only.
    pub status: Option<NotificationStatus>,
    /// Delivery rows only.
    pub status_display: Option<String>,
    /// Delivery rows only: the provider's error code (e.g. Twilio `63015`).
    pub error_code: Option<String>,
    /// Delivery rows only: a readable cause and fix.
    pub error_message: Option<String>,
    /// Delivery rows only: the provider's last status (`queued`, `sent`, `delivered`, `read`,
    /// `undelivered`, `failed`, ...).
    pub delivery_status: Option<String>,
    /// Delivery rows only: `twilio`, `meta` or `log`.
    pub provider: Option<String>,
    /// Delivery rows only: the provider's message id (Twilio SID, Meta wamid).
    pub provider_message_id: Option<String>,
    /// Delivery rows only: send attempts so far.
    pub attempts: Option<i64>,
    /// Delivery rows only.
    pub sent_at: Option<DateTime>,
    /// Delivery rows only: the workflow event (`ticket_created`, `ticket_opened`, ...).
    pub event: Option<String>,
}

#[derive(ToSchema)]
#[schema(example = json!({"count": 3}))]
pub struct UnreadCount {
    pub count: i64,
}

/// `mark_as_read` and `retry` answers.
#[derive(ToSchema)]
pub struct NotificationMessage {
    #[schema(example = "Notification marked as read")]
    pub message: String,
    pub notification: Notification,
}

/// `mark_all_as_read` and `retry_failed` answers.
#[derive(ToSchema)]
#[schema(example = json!({"message": "2 notification(s) marked as read", "count": 2}))]
pub struct CountMessage {
    pub message: String,
    pub count: i64,
}

/// Row counts of one channel by status.
#[derive(ToSchema)]
pub struct ChannelStats {
    #[schema(rename = "PENDING")]
    pub pending: i64,
    #[schema(rename = "SENT")]
    pub sent: i64,
    #[schema(rename = "FAILED")]
    pub failed: i64,
    pub total: i64,
    /// WHATSAPP only: counts by the provider's last delivery status.
    pub delivery_status: Option<BTreeMap<String, i64>>,
}

/// Counts by channel and status.
#[derive(ToSchema)]
#[schema(example = json!({
    "EMAIL": {"PENDING": 0, "SENT": 0, "FAILED": 0, "total": 0},
    "WHATSAPP": {"PENDING": 1, "SENT": 10, "FAILED": 2, "total": 13, "delivery_status": {"delivered": 8, "read": 2}},
    "SYSTEM": {"PENDING": 0, "SENT": 25, "FAILED": 0, "total": 25}
}))]
pub struct NotificationStats {
    #[schema(rename = "EMAIL")]
    pub email: ChannelStats,
    #[schema(rename = "WHATSAPP")]
    pub whatsapp: ChannelStats,
    #[schema(rename = "SYSTEM")]
    pub system: ChannelStats,
}

// ---------------------------------------------------------------------------------------------
// Operations, webhooks

#[derive(ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Healthz {
    pub status: String,
}

/// Readiness: each check is `ok` or why not.
#[derive(ToSchema)]
#[schema(example = json!({"status": "ready", "provider": "twilio", "checks": {"database": "ok", "migrations": "ok", "notification_worker": "ok", "whatsapp": "ok"}}))]
pub struct Readyz {
    /// `ready` or `not ready`.
    pub status: String,
    pub provider: String,
    pub checks: BTreeMap<String, String>,
}

/// Twilio's status callback (form-encoded; other parameters Twilio sends are ignored).
#[derive(ToSchema)]
#[schema(example = json!({"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "delivered"}))]
pub struct TwilioStatusCallback {
    #[schema(rename = "MessageSid")]
    pub message_sid: String,
    /// `queued`, `sent`, `delivered`, `read`, `undelivered`, `failed`, ...
    #[schema(rename = "MessageStatus")]
    pub message_status: String,
    #[schema(rename = "ErrorCode")]
    pub error_code: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Reusable responses (`components.responses`): each newtype's field is the body's schema. `Common`
// adds the plumbing's (401, 413, 415, 408, 500) to every operation they apply to; the others are
// named in the operations as `(status = N, response = Name)`, a `$ref` to the component (each is
// listed in `components(responses(...))`).

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
pub struct Unauthorized(#[to_schema] NotAuthenticated);

#[derive(ToResponse)]
#[response(description = "The body exceeds `MAX_BODY_BYTES` (uploads: `MAX_ATTACHMENT_BYTES`).",
           examples(("too_large" = (value = json!({"detail": "Request body is too large."})))))]
pub struct PayloadTooLarge(Detail);

#[derive(ToResponse)]
#[response(description = "The body is not JSON, form-urlencoded or multipart.",
           examples(("unsupported" = (value = json!({"detail": "Unsupported media type \"text/plain\" in request."})))))]
pub struct UnsupportedMediaType(Detail);

#[derive(ToResponse)]
#[response(description = "The request took longer than `REQUEST_TIMEOUT`.",
           examples(("timeout" = (value = json!({"detail": "Request timed out."})))))]
pub struct RequestTimeout(Detail);

#[derive(ToResponse)]
#[response(description = "An unexpected error (logged with the request id).",
           examples(("server_error" = (value = json!({"detail": "A server error occurred."})))))]
pub struct ServerError(Detail);

/// 403 on the admin-only operations.
#[derive(ToResponse)]
#[response(description = "Not an admin", example = json!({"detail": "You do not have permission to perform this action."}))]
pub struct NotAdmin(Detail);

/// 404 for `?page=0`, a page past the end or a non-number.
#[derive(ToResponse)]
#[response(description = "Invalid page", example = json!({"detail": "Invalid page."}))]
pub struct InvalidPage(Detail);

/// 400 for a bad notification filter.
#[derive(ToResponse)]
#[response(description = "An invalid filter value", example = json!({"ticket": ["A valid integer is required."]}))]
pub struct InvalidFilter(FieldErrors);

#[derive(ToResponse)]
#[response(description = "No such user", example = json!({"detail": "No User matches the given query."}))]
pub struct UserNotFound(Detail);

#[derive(ToResponse)]
#[response(description = "Not found in scope", example = json!({"detail": "No NotificationLog matches the given query."}))]
pub struct NotificationNotFound(Detail);

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

/// Meta's subscription challenge.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetaVerifyParams {
    /// `subscribe`.
    #[param(rename = "hub.mode")]
    pub mode: Option<String>,
    /// Must equal `WHATSAPP_VERIFY_TOKEN`.
    #[param(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    /// Echoed back.
    #[param(rename = "hub.challenge")]
    pub challenge: Option<String>,
}
