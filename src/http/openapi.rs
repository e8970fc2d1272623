//! The OpenAPI 3.1 description of every route, generated from this module with utoipa, served at
//! `GET /api/schema/`, and the Swagger UI at `/api/docs/`. The UI's assets are embedded in the
//! binary (utoipa-swagger-ui's `vendored` feature), so the page renders with no internet.
//!
//! The description lives here alone, beside the handlers rather than on them: the schema structs
//! mirror the JSON the handlers build (contract §4 plus the port's additions) and the operations
//! are declared on private stubs, one per method and path. `tests/api/openapi.rs` checks that
//! every route of the router is described and that the document is valid OpenAPI 3.1.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use utoipa::openapi::schema::{AnyOfBuilder, Ref, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{RefOr, Response as OaResponse};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use crate::domain::ticket::{Category, Priority, Status};
use crate::domain::user::Role;
use crate::error::Error;
use crate::state::AppState;

/// Where the document is served.
pub const SCHEMA_PATH: &str = "/api/schema/";
/// Where the Swagger UI is served.
pub const DOCS_PATH: &str = "/api/docs/";

/// The OpenAPI document (built once).
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);
    &DOC
}

/// `GET /api/schema/`, `GET /api/docs/` and the UI's assets under `/api/docs/`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/schema/", get(schema))
        .route("/api/docs/", get(docs_index))
        .route("/api/docs/{file}/", get(docs_asset))
}

async fn schema() -> Response {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serializes")
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        JSON.as_str(),
    )
        .into_response()
}

fn swagger_config() -> Arc<utoipa_swagger_ui::Config<'static>> {
    static CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
        Arc::new(
            utoipa_swagger_ui::Config::new([SCHEMA_PATH])
                // The default validator badge would call validator.swagger.io.
                .validator_url("none")
                .persist_authorization(true)
                .display_request_duration(true),
        )
    });
    CONFIG.clone()
}

fn serve_file(file: &str) -> Option<utoipa_swagger_ui::SwaggerFile<'static>> {
    utoipa_swagger_ui::serve(file, swagger_config())
        .ok()
        .flatten()
}

/// The UI's page. A `<base>` makes its relative asset URLs resolve under `/api/docs/` also when
/// the page is reached as `/api/docs` (every `/api/` path is served without its slash).
async fn docs_index() -> Response {
    let Some(file) = serve_file("index.html") else {
        return Error::NotFoundPlain.into_response();
    };
    let html = String::from_utf8_lossy(&file.bytes)
        .replacen(
            "<head>",
            &format!("<head>\n    <base href=\"{DOCS_PATH}\" />"),
            1,
        )
        .replacen(
            "<title>Swagger UI</title>",
            "<title>incident API — Swagger UI</title>",
            1,
        );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

/// One of the UI's files (`swagger-ui-bundle.js`, `swagger-ui.css`, ...), from the binary.
async fn docs_asset(Path(file): Path<String>) -> Response {
    if file == "index.html" {
        return docs_index().await;
    }
    let Some(found) = serve_file(&file) else {
        return Error::NotFoundPlain.into_response();
    };
    let content_type = HeaderValue::from_str(&found.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut resp = (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        found.bytes.into_owned(),
    )
        .into_response();
    if found.gzpipped {
        resp.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

// =============================================================================================
// The document

const DESCRIPTION: &str = "\
The JSON API of the Django REST Framework incident system, served by one Rust binary, with \
WhatsApp notifications.

* **Paths** end in `/`; requests without the slash are served as if they had it (no redirect).
* **Authentication**: `Authorization: Bearer <access>` with the access token from \
`POST /api/auth/login/` (click *Authorize*). Only login, refresh, the webhooks, health and these \
docs are open.
* **Request bodies**: JSON, `application/x-www-form-urlencoded` or `multipart/form-data`; strings \
are trimmed. Anything else is `415`, bad JSON `400 {\"detail\": \"JSON parse error - ...\"}`.
* **Lists** are pages of 20: `{\"count\", \"next\", \"previous\", \"results\"}` with absolute \
`next`/`previous` links; `?page=N` or `?page=last`.
* **Date-times** in responses are UTC `YYYY-MM-DD HH:MM:SS`; inputs take ISO 8601.
* **Errors** keep the original's shapes: `{\"detail\"}` (401/403/404/405), `{\"detail\", \"code\"}` \
(token problems), field errors `{\"<field>\": [\"message\"]}`, and `{\"error\"}` from the views.
* **Statuses**: a call on a ticket you cannot see is `404`, not `403`; an unknown method on a \
route is `405` (after authentication).";

#[derive(OpenApi)]
#[openapi(
    version = "3.1.0",
    info(
        title = "incident API",
        description = DESCRIPTION,
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics,
        ops::auth_login, ops::auth_refresh,
        ops::tickets_list, ops::tickets_create, ops::tickets_developers,
        ops::tickets_retrieve, ops::tickets_update, ops::tickets_partial_update, ops::tickets_destroy,
        ops::tickets_open_ticket, ops::tickets_open,
        ops::tickets_assign,
        ops::tickets_start_work, ops::tickets_start,
        ops::tickets_finish_work, ops::tickets_finish,
        ops::tickets_approve, ops::tickets_close,
        ops::tickets_reject,
        ops::tickets_add_comment,
        ops::tickets_add_attachment, ops::tickets_get_attachments,
        ops::tickets_delete_attachment, ops::tickets_download_attachment,
        ops::users_list, ops::users_create, ops::users_by_role,
        ops::users_retrieve, ops::users_update, ops::users_partial_update, ops::users_destroy,
        ops::users_activate, ops::users_deactivate,
        ops::profiles_list, ops::profiles_retrieve,
        ops::profile_update, ops::profile_partial_update,
        ops::notifications_list, ops::notifications_unread_count, ops::notifications_unread,
        ops::notifications_mark_all_as_read, ops::notifications_stats, ops::notifications_stream, ops::notifications_websocket,
        ops::notifications_retry_failed, ops::notifications_retrieve,
        ops::notifications_mark_as_read, ops::notifications_retry,
        ops::webhooks_twilio_status, ops::webhooks_meta_verify, ops::webhooks_meta_events,
        ops::api_schema, ops::api_docs, ops::api_docs_asset,
    ),
    components(
        schemas(
            Detail, DetailCode, TokenNotValid, TokenMessage, FieldErrors, ErrorBody,
            NotAwaitingApproval, DetailOrError,
        ),
        responses(
            Unauthorized, PayloadTooLarge, UnsupportedMediaType, RequestTimeout, ServerError,
            NotAdmin, InvalidPage, InvalidFilter,
            TicketNotFound, TicketNotVisible, TicketKeptChanging, TicketEditConflict, AttachmentNotFound,
            UserNotFound, NotificationNotFound,
            NotNew, CannotStart, NotAssignedToStart, NotAssignedToFinish, CannotApprove,
        ),
    ),
    modifiers(&Common),
    tags(
        (name = "auth", description = "JWT login and refresh (SimpleJWT-compatible tokens, rotated refresh tokens)."),
        (name = "tickets", description = "The ticket viewset: list, create, admin edits, the workflow actions, comments and attachments. Short action names (`open/`, `start/`, `finish/`, `close/`) are aliases."),
        (name = "users", description = "User management (ADMIN only)."),
        (name = "profiles", description = "Profiles (scoped: admins see all, others their own) and self-update."),
        (name = "notifications", description = "The in-app notification bell; admins also audit the WhatsApp/e-mail delivery log, its stats and retries."),
        (name = "webhooks", description = "Delivery status callbacks from Twilio and Meta (signature-checked)."),
        (name = "operations", description = "Health, readiness and Prometheus metrics."),
        (name = "docs", description = "This document and its Swagger UI."),
    ),
)]
pub struct ApiDoc;

/// The parts every operation shares: the Bearer scheme, and references to the reusable
/// responses for the statuses the common plumbing can answer (401 on authenticated routes;
/// 413/415 on bodies; 408 and 500 everywhere).
struct Common;

const BEARER: &str = "bearerAuth";

/// A `$ref` to a reusable response.
fn response_ref<'r, R: ToResponse<'r>>() -> RefOr<OaResponse> {
    RefOr::Ref(Ref::from_response_name(R::response().0))
}

impl Modify for Common {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "`Authorization: Bearer <access token>` from `POST /api/auth/login/` (HS256 JWT, 2 h by default).",
                    ))
                    .build(),
            ),
        );

        let bearer = SecurityRequirement::new(BEARER, Vec::<String>::new());
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                item.get.as_mut(),
                item.put.as_mut(),
                item.post.as_mut(),
                item.delete.as_mut(),
                item.patch.as_mut(),
            ];
            for op in ops.into_iter().flatten() {
                // Summaries are plain text in the UI: no Markdown code marks.
                op.summary = op.summary.take().map(|s| s.replace('`', ""));
                let responses = &mut op.responses.responses;
                let secured = op.security.as_ref().is_some_and(|s| s.contains(&bearer));
                if secured {
                    responses
                        .entry("401".into())
                        .or_insert_with(response_ref::<Unauthorized>);
                }
                if op.request_body.is_some() && !path.starts_with("/api/webhooks/") {
                    responses
                        .entry("413".into())
                        .or_insert_with(response_ref::<PayloadTooLarge>);
                    responses
                        .entry("415".into())
                        .or_insert_with(response_ref::<UnsupportedMediaType>);
                }
                responses
                    .entry("408".into())
                    .or_insert_with(response_ref::<RequestTimeout>);
                responses
                    .entry("500".into())
                    .or_insert_with(response_ref::<ServerError>);
            }
        }
    }
}

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

/// The response struct itself (`http/pagination.rs`).
pub use crate::http::pagination::Paginated;

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
#[derive(ToSchema)]
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
#[response(description = "No such ticket")]
pub struct TicketNotFound(Detail);

#[derive(ToResponse)]
#[response(description = "No such ticket, or not visible")]
pub struct TicketNotVisible(Detail);

/// 409 from a workflow action whose optimistic update kept losing.
#[derive(ToResponse)]
#[response(description = "The ticket kept changing under the request")]
pub struct TicketKeptChanging(Detail);

/// 409 from an admin edit that lost to a concurrent change.
#[derive(ToResponse)]
#[response(description = "Changed by someone else at the same time", example = json!({"detail": "The ticket was changed by someone else at the same time. Reload it and try again."}))]
pub struct TicketEditConflict(Detail);

#[derive(ToResponse)]
#[response(description = "No such ticket (`{\"detail\"}`) or attachment (`{\"error\"}`)", example = json!({"error": "Attachment not found"}))]
pub struct AttachmentNotFound(DetailOrError);

#[derive(ToResponse)]
#[response(description = "No such user", example = json!({"detail": "No User matches the given query."}))]
pub struct UserNotFound(Detail);

#[derive(ToResponse)]
#[response(description = "Not found in scope", example = json!({"detail": "No NotificationLog matches the given query."}))]
pub struct NotificationNotFound(Detail);

// The refusals a workflow action and its short alias share.

#[derive(ToResponse)]
#[response(description = "Not NEW", example = json!({"error": "Ticket is not in NEW status"}))]
pub struct NotNew(ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not OPENED or IN_PROGRESS", example = json!({"error": "Ticket cannot be started in current status"}))]
pub struct CannotStart(ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not a developer assigned to the ticket", example = json!({"error": "Only developers assigned to this ticket can start work"}))]
pub struct NotAssignedToStart(ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not a developer assigned to the ticket", example = json!({"error": "Only developers assigned to this ticket can finish work"}))]
pub struct NotAssignedToFinish(ErrorBody);

#[derive(ToResponse)]
#[response(description = "Not the creator, or not a client or admin", examples(
    ("not_creator" = (value = json!({"error": "Only the ticket creator can approve this ticket"}))),
    ("role" = (value = json!({"error": "Only clients or admins can approve tickets"}))),
))]
pub struct CannotApprove(ErrorBody);

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

// =============================================================================================
// Operations: one stub per method and path (the handlers are in the sibling modules)

mod ops {
    use super::*;

    // ----- operations -----------------------------------------------------------------------

    /// Liveness: the process answers.
    #[utoipa::path(get, path = "/healthz", tag = "operations",
        responses((status = 200, description = "Alive", body = Healthz)))]
    pub fn healthz() {}

    /// Readiness: database reachable, migrations applied, delivery worker alive, WhatsApp
    /// provider configured and accepted.
    #[utoipa::path(get, path = "/readyz", tag = "operations",
        responses(
            (status = 200, description = "Ready", body = Readyz),
            (status = 503, description = "Not ready: the failing checks say why", body = Readyz,
             example = json!({"status": "not ready", "provider": "twilio", "checks": {"database": "ok", "migrations": "ok", "notification_worker": "ok", "whatsapp": "not configured"}})),
        ))]
    pub fn readyz() {}

    /// Prometheus metrics (here unless `METRICS_ADDR` serves them on their own address).
    #[utoipa::path(get, path = "/metrics", tag = "operations",
        responses((status = 200, description = "Prometheus text format", body = String,
                   content_type = "text/plain; version=0.0.4; charset=utf-8")))]
    pub fn metrics() {}

    // ----- auth -----------------------------------------------------------------------------

    /// Log in: tokens and the user.
    #[utoipa::path(post, path = "/api/auth/login/", tag = "auth",
        request_body(content(
            (LoginRequest = "application/json"),
            (LoginRequest = "application/x-www-form-urlencoded"),
        )),
        responses(
            (status = 200, description = "Logged in", body = LoginResponse),
            (status = 400, description = "Missing or blank fields, wrong credentials or an inactive user, no profile, or an unparsable body", body = FieldErrors,
             examples(
                 ("bad_credentials" = (value = json!({"non_field_errors": ["Unable to log in with provided credentials."]}))),
                 ("missing_fields" = (value = json!({"username": ["This field is required."], "password": ["This field is required."]}))),
                 ("no_profile" = (value = json!({"non_field_errors": ["User profile not found. Please contact administrator."]}))),
             )),
            (status = 429, description = "Too many refused logins for this username from this address (`LOGIN_MAX_FAILURES` within `LOGIN_LOCKOUT`); `Retry-After` gives the seconds to wait",
             body = Detail, example = json!({"detail": "Request was throttled. Expected available in 897 seconds."})),
        ))]
    pub fn auth_login() {}

    /// Exchange a refresh token for a new access token and a new (rotated) refresh token.
    #[utoipa::path(post, path = "/api/auth/refresh/", tag = "auth",
        request_body(content(
            (RefreshRequest = "application/json"),
            (RefreshRequest = "application/x-www-form-urlencoded"),
        )),
        responses(
            (status = 200, description = "New tokens", body = RefreshResponse),
            (status = 400, description = "`refresh` missing", body = FieldErrors,
             example = json!({"refresh": ["This field is required."]})),
            (status = 401, description = "Invalid, expired, wrong-type or blacklisted token (rotated already, or issued before the user's last password change), or an inactive user",
             content(
                 (RefreshRefused = "application/json", examples(
                     ("invalid" = (value = json!({"detail": "Token is invalid", "code": "token_not_valid"}))),
                     ("expired" = (value = json!({"detail": "Token is expired", "code": "token_not_valid"}))),
                     ("wrong_type" = (value = json!({"detail": "Token has wrong type", "code": "token_not_valid"}))),
                     ("blacklisted" = (value = json!({"detail": "Token is blacklisted", "code": "token_not_valid"}))),
                     ("inactive_user" = (value = json!({"detail": "No active account found for the given token."}))),
                 )),
             )),
        ))]
    pub fn auth_refresh() {}

    // ----- tickets --------------------------------------------------------------------------

    /// The tickets the caller may see (ADMIN all, SUPPORT assigned, CLIENT own), newest first.
    #[utoipa::path(get, path = "/api/tickets/", tag = "tickets",
        params(PageParams, TicketFilters),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "A page of tickets", body = Paginated<TicketList>),
            (status = 400, description = "An unknown filter or ordering value", body = FieldErrors,
             example = json!({"status": ["Select a valid choice. DONE is not one of the available choices."]})),
            (status = 404, response = InvalidPage),
        ))]
    pub fn tickets_list() {}

    /// Create a ticket (CLIENT or ADMIN). Notifies the admins.
    #[utoipa::path(post, path = "/api/tickets/", tag = "tickets",
        request_body(content(
            (TicketCreate = "application/json"),
            (TicketCreate = "application/x-www-form-urlencoded"),
            (TicketCreate = "multipart/form-data"),
        )),
        security(("bearerAuth" = [])),
        responses(
            (status = 201, description = "Created", body = TicketCreated),
            (status = 400, description = "Field errors", body = FieldErrors,
             example = json!({"title": ["This field is required."], "description": ["This field is required."]})),
            (status = 403, description = "Developers cannot create tickets", body = Detail,
             example = json!({"detail": "Developers cannot create tickets. Only clients and admins can create tickets."})),
        ))]
    pub fn tickets_create() {}

    /// Every developer (SUPPORT user), for the assignment picker (ADMIN only).
    #[utoipa::path(get, path = "/api/tickets/developers/", tag = "tickets",
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "A plain array (not paginated)", body = Vec<UserBrief>),
            (status = 403, response = NotAdmin),
        ))]
    pub fn tickets_developers() {}

    /// A visible ticket in full.
    #[utoipa::path(get, path = "/api/tickets/{id}/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The ticket", body = TicketDetail),
            (status = 404, description = "No such ticket, or not visible to the caller", body = Detail,
             example = json!({"detail": "No Ticket matches the given query."})),
        ))]
    pub fn tickets_retrieve() {}

    /// Admin edit; `title` and `description` required. No history, no notification.
    #[utoipa::path(put, path = "/api/tickets/{id}/", tag = "tickets",
        params(TicketPath),
        request_body(content((TicketEdit = "application/json"), (TicketEdit = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The edited ticket", body = TicketDetail),
            (status = 400, description = "A `status` or `assigned_to` key, or field errors",
             content(
                 (ErrorOrFieldErrors = "application/json", examples(
                     ("status" = (value = json!({"error": "Status cannot be changed directly. Use action endpoints (open_ticket, start_work, finish_work, approve, reject)."}))),
                     ("assigned_to" = (value = json!({"error": "Assignment cannot be changed directly. Use assign action endpoint."}))),
                     ("field_errors" = (value = json!({"title": ["Ensure this field has no more than 300 characters."]}))),
                 )),
             )),
            (status = 403, response = NotAdmin),
            (status = 404, response = TicketNotFound),
            (status = 409, response = TicketEditConflict),
        ))]
    pub fn tickets_update() {}

    /// Admin partial edit (nothing required). No history, no notification.
    #[utoipa::path(patch, path = "/api/tickets/{id}/", tag = "tickets",
        params(TicketPath),
        request_body(content((TicketEdit = "application/json"), (TicketEdit = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The edited ticket", body = TicketDetail),
            (status = 400, description = "A `status` or `assigned_to` key (`{\"error\"}`), or field errors", body = ErrorOrFieldErrors,
             example = json!({"error": "Status cannot be changed directly. Use action endpoints (open_ticket, start_work, finish_work, approve, reject)."})),
            (status = 403, response = NotAdmin),
            (status = 404, response = TicketNotFound),
            (status = 409, response = TicketEditConflict),
        ))]
    pub fn tickets_partial_update() {}

    /// Delete a ticket with its assignments, attachments, history and notifications (ADMIN).
    #[utoipa::path(delete, path = "/api/tickets/{id}/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 204, description = "Deleted"),
            (status = 403, response = NotAdmin),
            (status = 404, response = TicketNotFound),
        ))]
    pub fn tickets_destroy() {}

    /// NEW → OPENED (ADMIN). Notifies the creator.
    #[utoipa::path(post, path = "/api/tickets/{id}/open_ticket/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Opened", body = TicketOpened),
            (status = 400, response = NotNew),
            (status = 403, description = "Not an admin (checked before the lookup)", body = ErrorBody,
             example = json!({"error": "Only administrators can open tickets"})),
            (status = 404, response = TicketNotFound),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_open_ticket() {}

    /// Alias of `open_ticket/`.
    #[utoipa::path(post, path = "/api/tickets/{id}/open/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Opened", body = TicketOpened),
            (status = 400, response = NotNew),
            (status = 403, description = "Not an admin", body = ErrorBody),
            (status = 404, response = TicketNotFound),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_open() {}

    /// Replace the assigned developers and set the deadlines (ADMIN; any status). Notifies the
    /// newly added developers.
    #[utoipa::path(post, path = "/api/tickets/{id}/assign/", tag = "tickets",
        params(TicketPath),
        request_body(content((AssignRequest = "application/json"), (AssignRequest = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Assigned", body = TicketAssigned),
            (status = 400, description = "Field errors, or ids that are not SUPPORT users",
             content(
                 (ErrorOrFieldErrors = "application/json", examples(
                     ("empty" = (value = json!({"assigned_to": ["At least one developer must be assigned"]}))),
                     ("per_item" = (value = json!({"assigned_to": {"1": ["A valid integer is required."]}}))),
                     ("deadline" = (value = json!({"resolution_due_at": ["Resolution due date must be at least 30 minutes in the future"]}))),
                     ("not_developers" = (value = json!({"error": "Some user IDs are invalid or not support users"}))),
                 )),
             )),
            (status = 403, description = "Not an admin (checked before the lookup)", body = ErrorBody,
             example = json!({"error": "Only administrators can assign tickets to developers"})),
            (status = 404, response = TicketNotFound),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_assign() {}

    /// OPENED or IN_PROGRESS → IN_PROGRESS (an assigned developer). Notifies the creator.
    #[utoipa::path(post, path = "/api/tickets/{id}/start_work/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Started", body = WorkStarted),
            (status = 400, response = CannotStart),
            (status = 403, response = NotAssignedToStart),
            (status = 404, response = TicketNotVisible),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_start_work() {}

    /// Alias of `start_work/`.
    #[utoipa::path(post, path = "/api/tickets/{id}/start/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Started", body = WorkStarted),
            (status = 400, response = CannotStart),
            (status = 403, response = NotAssignedToStart),
            (status = 404, response = TicketNotVisible),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_start() {}

    /// IN_PROGRESS → RESOLVED (an assigned developer). Notifies the creator and the admins.
    #[utoipa::path(post, path = "/api/tickets/{id}/finish_work/", tag = "tickets",
        params(TicketPath),
        request_body(content((Option<FinishWorkRequest> = "application/json"), (Option<FinishWorkRequest> = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Resolved", body = StatusUpdated,
             example = json!({"message": "Status updated successfully", "id": 12, "project_name": "Test Project", "status_display": "Resolved"})),
            (status = 400, description = "Not IN_PROGRESS (`{\"error\"}`), or a comment under 5 characters", body = ErrorOrFieldErrors,
             examples(
                 ("not_in_progress" = (value = json!({"error": "Ticket is not in progress"}))),
                 ("short_comment" = (value = json!({"comment": ["Comment must be at least 5 characters if provided"]}))),
             )),
            (status = 403, response = NotAssignedToFinish),
            (status = 404, response = TicketNotVisible),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_finish_work() {}

    /// Alias of `finish_work/`.
    #[utoipa::path(post, path = "/api/tickets/{id}/finish/", tag = "tickets",
        params(TicketPath),
        request_body(content((Option<FinishWorkRequest> = "application/json"), (Option<FinishWorkRequest> = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Resolved", body = StatusUpdated),
            (status = 400, description = "Not IN_PROGRESS, or a short comment", body = ErrorOrFieldErrors),
            (status = 403, response = NotAssignedToFinish),
            (status = 404, response = TicketNotVisible),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_finish() {}

    /// RESOLVED or WAITING_APPROVAL → CLOSED (the creator, CLIENT or ADMIN). Notifies the admins
    /// and the assigned developers.
    #[utoipa::path(post, path = "/api/tickets/{id}/approve/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Closed", body = StatusUpdated),
            (status = 400, description = "Not awaiting approval", body = NotAwaitingApproval,
             example = json!({"error": "Ticket is not awaiting approval", "current_status": "IN_PROGRESS", "required_status": ["RESOLVED", "WAITING_APPROVAL"], "message": "Developer must finish work before client can approve"})),
            (status = 403, response = CannotApprove),
            (status = 404, response = TicketNotVisible),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_approve() {}

    /// Alias of `approve/`.
    #[utoipa::path(post, path = "/api/tickets/{id}/close/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Closed", body = StatusUpdated),
            (status = 400, description = "Not awaiting approval", body = NotAwaitingApproval),
            (status = 403, response = CannotApprove),
            (status = 404, response = TicketNotVisible),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_close() {}

    /// RESOLVED or WAITING_APPROVAL → IN_PROGRESS with a reason (the creator, CLIENT or ADMIN).
    /// Notifies the assigned developers and the admins.
    #[utoipa::path(post, path = "/api/tickets/{id}/reject/", tag = "tickets",
        params(TicketPath),
        request_body(content((RejectRequest = "application/json"), (RejectRequest = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Back in progress", body = StatusUpdated,
             example = json!({"message": "Status updated to In Progress", "id": 12, "project_name": "Test Project", "status_display": "In Progress"})),
            (status = 400, description = "Not awaiting approval (`{\"error\"}`), or a missing or short reason", body = ErrorOrFieldErrors,
             examples(
                 ("not_awaiting" = (value = json!({"error": "Ticket is not awaiting approval"}))),
                 ("short_reason" = (value = json!({"comment": ["Rejection reason must be at least 10 characters"]}))),
             )),
            (status = 403, description = "Not the creator, or not a client or admin", body = ErrorBody,
             example = json!({"error": "Only the ticket creator can reject this ticket"})),
            (status = 404, response = TicketNotVisible),
            (status = 409, response = TicketKeptChanging),
        ))]
    pub fn tickets_reject() {}

    /// Add a comment to the history (any status; no notification).
    #[utoipa::path(post, path = "/api/tickets/{id}/add_comment/", tag = "tickets",
        params(TicketPath),
        request_body(content((CommentRequest = "application/json"), (CommentRequest = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Added", body = Message),
            (status = 400, description = "Missing, blank or short comment", body = FieldErrors,
             example = json!({"comment": ["Comment must be at least 3 characters"]})),
            (status = 404, response = TicketNotVisible),
        ))]
    pub fn tickets_add_comment() {}

    /// Upload a file (multipart part `file_data`; at most `MAX_ATTACHMENT_BYTES`).
    #[utoipa::path(post, path = "/api/tickets/{id}/add_attachment/", tag = "tickets",
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
    pub fn tickets_add_attachment() {}

    /// The ticket's attachments, newest first.
    #[utoipa::path(get, path = "/api/tickets/{id}/get_attachments/", tag = "tickets",
        params(TicketPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The attachments", body = TicketAttachments),
            (status = 404, response = TicketNotVisible),
        ))]
    pub fn tickets_get_attachments() {}

    /// Delete an attachment: your own uploads; admins also those of admins and developers.
    #[utoipa::path(delete, path = "/api/tickets/{id}/delete_attachment/{attachment_id}/", tag = "tickets",
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
    pub fn tickets_delete_attachment() {}

    /// The attachment's raw bytes, with its content type and file name.
    #[utoipa::path(get, path = "/api/tickets/{id}/attachments/{attachment_id}/download/", tag = "tickets",
        params(AttachmentPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The file (`Content-Disposition: attachment`)", body = Vec<u8>,
             content_type = "application/octet-stream"),
            (status = 404, response = AttachmentNotFound),
        ))]
    pub fn tickets_download_attachment() {}

    // ----- users ----------------------------------------------------------------------------

    /// Every user, newest first (ADMIN).
    #[utoipa::path(get, path = "/api/users/", tag = "users",
        params(PageParams),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "A page of users", body = Paginated<UserList>),
            (status = 403, response = NotAdmin),
            (status = 404, response = InvalidPage),
        ))]
    pub fn users_list() {}

    /// Create a user (ADMIN).
    #[utoipa::path(post, path = "/api/users/", tag = "users",
        request_body(content((UserCreate = "application/json"), (UserCreate = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 201, description = "Created", body = UserList),
            (status = 400, description = "Field errors", body = FieldErrors,
             examples(
                 ("mismatch" = (value = json!({"password_confirm": ["Passwords do not match."]}))),
                 ("email_taken" = (value = json!({"email": ["Email already exists."]}))),
                 ("bad_role" = (value = json!({"role": ["\"BOSS\" is not a valid choice."]}))),
             )),
            (status = 403, response = NotAdmin),
        ))]
    pub fn users_create() {}

    /// The users with one role, as a plain array (ADMIN).
    #[utoipa::path(get, path = "/api/users/by_role/", tag = "users",
        params(("role" = Role, Query, description = "`CLIENT`, `SUPPORT` or `ADMIN` (case-sensitive)")),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "A plain array (not paginated), inactive users included", body = Vec<UserList>),
            (status = 400, description = "Missing or invalid role", body = ErrorBody,
             examples(
                 ("missing" = (value = json!({"error": "role parameter is required"}))),
                 ("invalid" = (value = json!({"error": "Invalid role. Must be CLIENT, SUPPORT, or ADMIN"}))),
             )),
            (status = 403, response = NotAdmin),
        ))]
    pub fn users_by_role() {}

    /// One user (ADMIN).
    #[utoipa::path(get, path = "/api/users/{id}/", tag = "users",
        params(UserPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The user", body = UserList),
            (status = 403, response = NotAdmin),
            (status = 404, response = UserNotFound),
        ))]
    pub fn users_retrieve() {}

    /// Edit a user (ADMIN; like PATCH, nothing is required).
    #[utoipa::path(put, path = "/api/users/{id}/", tag = "users",
        params(UserPath),
        request_body(content((UserEdit = "application/json"), (UserEdit = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The edited user", body = UserUpdate),
            (status = 400, description = "Field errors, or deactivating yourself", body = ErrorOrFieldErrors,
             examples(
                 ("confirm_required" = (value = json!({"password_confirm": ["Password confirmation is required when changing password."]}))),
                 ("self_deactivation" = (value = json!({"error": "You cannot deactivate your own account"}))),
             )),
            (status = 403, response = NotAdmin),
            (status = 404, response = UserNotFound),
        ))]
    pub fn users_update() {}

    /// Edit a user (ADMIN).
    #[utoipa::path(patch, path = "/api/users/{id}/", tag = "users",
        params(UserPath),
        request_body(content((UserEdit = "application/json"), (UserEdit = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The edited user", body = UserUpdate),
            (status = 400, description = "Field errors, or deactivating yourself", body = ErrorOrFieldErrors),
            (status = 403, response = NotAdmin),
            (status = 404, response = UserNotFound),
        ))]
    pub fn users_partial_update() {}

    /// Delete a user and everything they created (ADMIN; not yourself).
    #[utoipa::path(delete, path = "/api/users/{id}/", tag = "users",
        params(UserPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 204, description = "Deleted"),
            (status = 400, description = "Deleting yourself", body = ErrorBody,
             example = json!({"error": "You cannot delete your own account"})),
            (status = 403, response = NotAdmin),
            (status = 404, response = UserNotFound),
        ))]
    pub fn users_destroy() {}

    /// Activate a user (ADMIN; the body is ignored).
    #[utoipa::path(post, path = "/api/users/{id}/activate/", tag = "users",
        params(UserPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Activated", body = Message,
             example = json!({"message": "User dev1 activated successfully"})),
            (status = 403, response = NotAdmin),
            (status = 404, response = UserNotFound),
        ))]
    pub fn users_activate() {}

    /// Deactivate a user (ADMIN; not yourself). Their tokens stop working.
    #[utoipa::path(post, path = "/api/users/{id}/deactivate/", tag = "users",
        params(UserPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Deactivated", body = Message,
             example = json!({"message": "User dev1 deactivated successfully"})),
            (status = 400, description = "Deactivating yourself", body = ErrorBody,
             example = json!({"error": "You cannot deactivate your own account"})),
            (status = 403, response = NotAdmin),
            (status = 404, response = UserNotFound),
        ))]
    pub fn users_deactivate() {}

    // ----- profiles -------------------------------------------------------------------------

    /// Profiles: all for admins, your own for everyone else.
    #[utoipa::path(get, path = "/api/profiles/", tag = "profiles",
        params(PageParams),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "A page of profiles", body = Paginated<Profile>),
            (status = 404, response = InvalidPage),
        ))]
    pub fn profiles_list() {}

    /// One profile (by profile id), within the same scope.
    #[utoipa::path(get, path = "/api/profiles/{id}/", tag = "profiles",
        params(("id" = i64, Path, description = "Profile id (not the user id)")),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The profile", body = Profile),
            (status = 404, description = "No such profile, or not yours", body = Detail,
             example = json!({"detail": "No UserProfile matches the given query."})),
        ))]
    pub fn profiles_retrieve() {}

    /// Update your own names or password.
    #[utoipa::path(put, path = "/api/profile/update/", tag = "profiles",
        request_body(content((ProfileUpdate = "application/json"), (ProfileUpdate = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Updated", body = ProfileUpdated),
            (status = 400, description = "Field errors", body = FieldErrors,
             example = json!({"password_confirm": ["Passwords do not match."]})),
        ))]
    pub fn profile_update() {}

    /// Update your own names or password.
    #[utoipa::path(patch, path = "/api/profile/update/", tag = "profiles",
        request_body(content((ProfileUpdate = "application/json"), (ProfileUpdate = "application/x-www-form-urlencoded"))),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Updated", body = ProfileUpdated),
            (status = 400, description = "Field errors", body = FieldErrors),
        ))]
    pub fn profile_partial_update() {}

    // ----- notifications --------------------------------------------------------------------

    /// Your in-app notifications, newest first; with `notification_type`, the delivery log
    /// (admins: every recipient's).
    #[utoipa::path(get, path = "/api/notifications/", tag = "notifications",
        params(PageParams, NotificationFilters),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "A page of notifications", body = Paginated<Notification>),
            (status = 400, response = InvalidFilter),
            (status = 404, response = InvalidPage),
        ))]
    pub fn notifications_list() {}

    /// How many in-app notifications you have not read.
    #[utoipa::path(get, path = "/api/notifications/unread_count/", tag = "notifications",
        security(("bearerAuth" = [])),
        responses((status = 200, description = "The count", body = UnreadCount)))]
    pub fn notifications_unread_count() {}

    /// The list's rows that are unread.
    #[utoipa::path(get, path = "/api/notifications/unread/", tag = "notifications",
        params(PageParams, NotificationFilters),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "A page of unread notifications", body = Paginated<Notification>),
            (status = 400, response = InvalidFilter),
            (status = 404, response = InvalidPage),
        ))]
    pub fn notifications_unread() {}

    /// Mark all your unread in-app notifications read (optionally one ticket's).
    #[utoipa::path(post, path = "/api/notifications/mark_all_as_read/", tag = "notifications",
        params(("ticket" = Option<i64>, Query, description = "Only this ticket's rows (a query parameter; a body is ignored)")),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Marked", body = CountMessage),
            (status = 400, description = "A non-numeric ticket", body = FieldErrors),
        ))]
    pub fn notifications_mark_all_as_read() {}

    /// Counts by channel and status (ADMIN).
    #[utoipa::path(get, path = "/api/notifications/stats/", tag = "notifications",
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The counts", body = NotificationStats),
            (status = 403, response = NotAdmin),
        ))]
    pub fn notifications_stats() {}

    /// In-app notifications as Server-Sent Events: `connection_established`, then one
    /// `notification` event per new in-app row (`?token=` for `EventSource`, which cannot send
    /// headers).
    #[utoipa::path(get, path = "/api/notifications/stream/", tag = "notifications",
        params(("token" = Option<String>, Query, description = "Access token, when no Authorization header can be sent")),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "An endless `text/event-stream`", content_type = "text/event-stream", body = String),
            (status = 401, description = "No or a bad token", body = Detail),
        ))]
    pub fn notifications_stream() {}

    /// The original's WebSocket: `connection_established`, `ping`/`pong`, and one push per new
    /// in-app row. The token comes as `?token=` or as a subprotocol next to `bearer`; a bad,
    /// missing or inactive user's token is closed with code 4001.
    #[utoipa::path(get, path = "/ws/notifications/", tag = "notifications",
        params(("token" = Option<String>, Query, description = "Access token (or send it as a subprotocol)")),
        responses(
            (status = 101, description = "Switching protocols to a WebSocket"),
        ))]
    pub fn notifications_websocket() {}

    /// Re-queue every FAILED row of a channel (ADMIN).
    #[utoipa::path(post, path = "/api/notifications/retry_failed/", tag = "notifications",
        params(("notification_type" = Option<String>, Query, description = "`WHATSAPP` (default) or `EMAIL`")),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Re-queued", body = CountMessage,
             example = json!({"message": "2 notification(s) queued for retry", "count": 2})),
            (status = 400, description = "An invalid channel", body = FieldErrors),
            (status = 403, response = NotAdmin),
        ))]
    pub fn notifications_retry_failed() {}

    /// One notification, within the list's scope and filters.
    #[utoipa::path(get, path = "/api/notifications/{id}/", tag = "notifications",
        params(NotificationPath, NotificationFilters),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "The notification", body = Notification),
            (status = 400, response = InvalidFilter),
            (status = 404, response = NotificationNotFound),
        ))]
    pub fn notifications_retrieve() {}

    /// Mark one of your notifications read (idempotent; `read_at` is kept on repeats).
    #[utoipa::path(post, path = "/api/notifications/{id}/mark_as_read/", tag = "notifications",
        params(NotificationPath, NotificationFilters),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Marked", body = NotificationMessage),
            (status = 400, response = InvalidFilter),
            (status = 404, response = NotificationNotFound),
        ))]
    pub fn notifications_mark_as_read() {}

    /// Re-queue one FAILED e-mail or WhatsApp row (ADMIN).
    #[utoipa::path(post, path = "/api/notifications/{id}/retry/", tag = "notifications",
        params(NotificationPath),
        security(("bearerAuth" = [])),
        responses(
            (status = 200, description = "Re-queued", body = NotificationMessage),
            (status = 400, description = "Not a FAILED delivery row", body = ErrorBody,
             example = json!({"error": "Only FAILED WhatsApp or e-mail notifications can be retried"})),
            (status = 403, response = NotAdmin),
            (status = 404, description = "No such notification", body = Detail),
        ))]
    pub fn notifications_retry() {}

    // ----- webhooks -------------------------------------------------------------------------

    /// Twilio's message status callback (`X-Twilio-Signature` checked; statuses only move forward).
    #[utoipa::path(post, path = "/api/webhooks/twilio/status/", tag = "webhooks",
        params(("X-Twilio-Signature" = String, Header, description = "Twilio's HMAC-SHA1 signature of the URL and parameters")),
        request_body(content((TwilioStatusCallback = "application/x-www-form-urlencoded"))),
        responses(
            (status = 204, description = "Recorded (or acknowledged for an unknown message)"),
            (status = 400, description = "No message id or status", body = FieldErrors,
             example = json!({"MessageSid": ["This field is required."]})),
            (status = 403, description = "Missing or wrong signature, or Twilio not configured", body = Detail,
             example = json!({"detail": "Invalid or missing X-Twilio-Signature."})),
        ))]
    pub fn webhooks_twilio_status() {}

    /// Meta's webhook subscription challenge.
    #[utoipa::path(get, path = "/api/webhooks/meta/", tag = "webhooks",
        params(MetaVerifyParams),
        responses(
            (status = 200, description = "The challenge, echoed", body = String, content_type = "text/plain"),
            (status = 403, description = "Wrong verify token", body = Detail,
             example = json!({"detail": "Verification token mismatch."})),
        ))]
    pub fn webhooks_meta_verify() {}

    /// Message statuses from the WhatsApp Cloud API (`X-Hub-Signature-256` checked).
    #[utoipa::path(post, path = "/api/webhooks/meta/", tag = "webhooks",
        params(("X-Hub-Signature-256" = String, Header, description = "`sha256=` HMAC of the body with the app secret")),
        request_body(content(("application/json")), description = "Meta's webhook payload (`entry[].changes[].value.statuses[]`)"),
        responses(
            (status = 200, description = "Recorded"),
            (status = 400, description = "Not JSON", body = Detail),
            (status = 403, description = "Missing or wrong signature", body = Detail,
             example = json!({"detail": "Invalid or missing X-Hub-Signature-256."})),
        ))]
    pub fn webhooks_meta_events() {}

    // ----- docs -----------------------------------------------------------------------------

    /// This OpenAPI 3.1 document.
    #[utoipa::path(get, path = "/api/schema/", tag = "docs",
        responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json")))]
    pub fn api_schema() {}

    /// The Swagger UI (served by the binary; no CDN).
    #[utoipa::path(get, path = "/api/docs/", tag = "docs",
        responses((status = 200, description = "The Swagger UI page", body = String, content_type = "text/html")))]
    pub fn api_docs() {}

    /// One of the Swagger UI's files (scripts, styles, icons), embedded in the binary.
    #[utoipa::path(get, path = "/api/docs/{file}/", tag = "docs",
        params(("file" = String, Path, description = "File name, e.g. `swagger-ui-bundle.js` (served without the trailing slash too)")),
        responses(
            (status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
            (status = 404, description = "No such file", body = Detail, example = json!({"detail": "Not found."})),
        ))]
    pub fn api_docs_asset() {}
}
