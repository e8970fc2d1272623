//! The OpenAPI 3.1 description of every route, assembled with utoipa, served at
//! `GET /api/schema/`, and the Swagger UI at `/api/docs/`. The UI's assets are embedded in the
//! binary (utoipa-swagger-ui's `vendored` feature), so the page renders with no internet.
//!
//! Each operation is described by the `#[utoipa::path]` on its handler and each response body by
//! the struct the handler answers with; this module assembles them (the components they share
//! are in `components`). `tests/api/openapi.rs` checks that every route of the router is
//! described and that the document is valid OpenAPI 3.1.

#![allow(dead_code)]

pub mod components;

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::schema::Ref;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{RefOr, Response as OaResponse};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::Error;
use crate::http::{auth, health, notifications, profiles, realtime, users, webhooks};
use crate::state::AppState;
use components::*;

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

/// This OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/schema/", tag = "docs", operation_id = "api_schema",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json")))]
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

/// The Swagger UI (served by the binary; no CDN).
#[utoipa::path(get, path = "/api/docs/", tag = "docs", operation_id = "api_docs",
    responses((status = 200, description = "The Swagger UI page", body = String, content_type = "text/html")))]
// A `<base>` makes the page's relative asset URLs resolve under `/api/docs/` also when it is
// reached as `/api/docs` (every `/api/` path is served without its slash).
async fn docs_index() -> Response {
    let Some(file) = serve_file("index.html") else {
        return Error::NoSuchRoute.into_response();
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

/// One of the Swagger UI's files (scripts, styles, icons), embedded in the binary.
#[utoipa::path(get, path = "/api/docs/{file}/", tag = "docs", operation_id = "api_docs_asset",
    params(("file" = String, Path, description = "File name, e.g. `swagger-ui-bundle.js` (served without the trailing slash too)")),
    responses(
        (status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, description = "No such file", body = Detail, example = json!({"detail": "Not found."})),
    ))]
async fn docs_asset(Path(file): Path<String>) -> Response {
    if file == "index.html" {
        return docs_index().await;
    }
    let Some(found) = serve_file(&file) else {
        return Error::NoSuchRoute.into_response();
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
        health::healthz, health::readyz, health::metrics,
        auth::login, auth::refresh,
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
        users::list, users::create, users::by_role,
        users::retrieve, users::update, users::partial_update, users::destroy,
        users::activate, users::deactivate,
        profiles::list, profiles::retrieve,
        profiles::update_self, profiles::partial_update_self,
        notifications::list, notifications::unread_count, notifications::unread,
        notifications::mark_all_as_read, notifications::stats, realtime::stream, realtime::websocket,
        notifications::retry_failed, notifications::retrieve,
        notifications::mark_as_read, notifications::retry,
        webhooks::twilio_status, webhooks::meta_verify, webhooks::meta_events,
        schema, docs_index, docs_asset,
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
// The ticket operations, one stub per method and path, until they move onto their handlers

mod ops {
    use crate::http::openapi::*;
    use crate::http::users::UserBrief;

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
}
