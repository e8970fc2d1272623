//! The OpenAPI 3.1 description of every route, assembled with utoipa, served at
//! `GET /api/schema/`, and the Swagger UI at `/api/docs/`. The UI's assets are embedded in the
//! binary (utoipa-swagger-ui's `vendored` feature), so the page renders with no internet.
//!
//! An operation is described by the `#[utoipa::path]` on its handler (the ticket operations)
//! or, until they move too, on a private stub in `ops`; the components operations share are in
//! `components`. `tests/api/openapi.rs` checks that every route of the router is described and
//! that the document is valid OpenAPI 3.1.

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
use crate::http::tickets::{self, actions, attachments, shapes};
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
        tickets::list, tickets::create, tickets::developers,
        tickets::retrieve, tickets::update, tickets::partial_update, tickets::destroy,
        actions::open_ticket, actions::open,
        actions::assign,
        actions::start_work, actions::start,
        actions::finish_work, actions::finish,
        actions::approve, actions::close,
        actions::reject,
        actions::add_comment,
        attachments::add_attachment, attachments::get_attachments,
        attachments::delete_attachment, attachments::download_attachment,
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
            shapes::TicketNotFound, shapes::TicketNotVisible, shapes::TicketKeptChanging,
            shapes::TicketEditConflict, shapes::AttachmentNotFound,
            UserNotFound, NotificationNotFound,
            shapes::NotNew, shapes::CannotStart, shapes::NotAssignedToStart,
            shapes::NotAssignedToFinish, shapes::CannotApprove,
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
// Operations: one stub per method and path (the handlers are in the sibling modules)

mod ops {
    // Named from the crate root: a `super::` path would read as an import of `http` itself.
    use crate::domain::user::Role;
    use crate::http::openapi::components::*;

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
