//! The OpenAPI 3.1 description of every route, assembled with utoipa, served at
//! `GET /api/schema/`, and the Swagger UI at `/api/docs/`. The UI's assets are embedded in the
//! binary (utoipa-swagger-ui's `vendored` feature), so the page renders with no internet.
//!
//! Each operation is described by the `#[utoipa::path]` on its handler and each response body by
//! the struct the handler answers with; this module assembles them (the components they share
//! are in `components`). `tests/api/openapi.rs` checks that every route of the router is
//! described and that the document is valid OpenAPI 3.1.

pub mod components;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::schema::{AnyOfBuilder, Ref, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{RefOr, Response as OaResponse};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::Error;
use crate::http::tickets::{self, actions, attachments};
use crate::http::{
    auth, health, notifications, preferences, profiles, realtime, users, webhooks, whatsapp,
};
use crate::state::AppState;
use components::*;

/// Where the document is served.
pub const SCHEMA_PATH: &str = "/api/schema/";
/// The document, relative to the docs page: it is found behind a proxy that adds a path prefix.
const SCHEMA_FROM_DOCS: &str = "../schema/";
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
        .route("/api/docs", get(to_docs))
        .route("/", get(to_docs_from_root))
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
            utoipa_swagger_ui::Config::new([SCHEMA_FROM_DOCS])
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
// Its asset and schema URLs are relative, so the page works under any path prefix; `/api/docs`
// redirects here (relative URLs need the slash).
async fn docs_index() -> Response {
    let Some(file) = serve_file("index.html") else {
        return Error::NoSuchRoute.into_response();
    };
    let html = String::from_utf8_lossy(&file.bytes).replacen(
        "<title>Swagger UI</title>",
        "<title>incident API — Swagger UI</title>",
        1,
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOCS_CONTENT_POLICY),
            ),
        ],
        html,
    )
        .into_response()
}

/// `/api/docs` → `docs/` (relative, so a proxy's path prefix is kept).
#[utoipa::path(get, path = "/api/docs", tag = "docs", operation_id = "api_docs_slash",
    responses((status = 308, description = "Redirect to `docs/` (the page's relative URLs need the slash)")))]
async fn to_docs() -> axum::response::Redirect {
    axum::response::Redirect::permanent("docs/")
}

/// `GET /` → the API docs (relative, as above).
#[utoipa::path(get, path = "/", tag = "docs", operation_id = "root",
    responses((status = 307, description = "Redirect to `api/docs/`")))]
async fn to_docs_from_root() -> axum::response::Redirect {
    axum::response::Redirect::temporary("api/docs/")
}

/// The docs page loads only its own embedded files and the document: no inline script (the
/// page has none); Swagger UI sets inline styles and shows `data:` images.
const DOCS_CONTENT_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

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
        users::list, users::create, users::by_role,
        users::retrieve, users::update, users::partial_update, users::destroy,
        users::activate, users::deactivate,
        profiles::list, profiles::retrieve,
        profiles::update_self, profiles::partial_update_self,
        preferences::retrieve_own, preferences::update_own,
        preferences::retrieve_user, preferences::update_user,
        notifications::list, notifications::unread_count, notifications::unread,
        notifications::mark_all_as_read, notifications::stats, notifications::preview, realtime::stream, realtime::websocket,
        notifications::retry_failed, notifications::retrieve,
        notifications::mark_as_read, notifications::retry,
        webhooks::twilio_status, webhooks::meta_verify, webhooks::meta_events,
        webhooks::inbound::twilio_inbound, whatsapp::messages,
        schema, docs_index, docs_asset, to_docs, to_docs_from_root,
    ),
    components(
        schemas(
            Detail, DetailCode, TokenNotValid, TokenMessage, FieldErrors, ErrorBody,
            NotAwaitingApproval, DetailOrError, DetailOrFieldErrors,
        ),
        responses(
            Unauthorized, MalformedBody, PayloadTooLarge, UnsupportedMediaType, RequestTimeout, ServerError,
            NotAdmin, InvalidPage, InvalidFilter,
            TicketNotFound, TicketNotVisible, TicketKeptChanging, TicketEditConflict, AttachmentNotFound, TooBusy, BadFileData, BadPreferences,
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
        (name = "webhooks", description = "Delivery status callbacks and users' messages from Twilio and Meta (signature-checked)."),
        (name = "whatsapp", description = "The WhatsApp messages users sent, with what each command did (ADMIN only)."),
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

/// A body that does not parse is a 400 `{"detail": "JSON parse error - ..."}`, and a body field
/// holding a NUL byte a 400 `{"<field>": ["Null characters are not allowed."]}`, on every
/// operation that reads a body: its 400 admits those answers beside the ones it lists itself.
fn admit_body_errors(responses: &mut BTreeMap<String, RefOr<OaResponse>>) {
    let named = |name: &str| RefOr::Ref(Ref::from_schema_name(name));
    let Some(RefOr::T(bad_request)) = responses.get_mut("400") else {
        responses
            .entry("400".into())
            .or_insert_with(response_ref::<MalformedBody>);
        return;
    };
    for content in bad_request.content.values_mut() {
        let RefOr::T(content) = content else { continue };
        let Some(schema) = content.schema.as_mut() else {
            continue;
        };
        let admits_fields = [named("FieldErrors"), named("ErrorOrFieldErrors")].contains(schema);
        let mut missing = Vec::new();
        if *schema != named("Detail") {
            missing.push(named("Detail"));
        }
        if !admits_fields {
            missing.push(named("FieldErrors"));
        }
        if missing.is_empty() {
            continue;
        }
        let listed = std::mem::replace(schema, named("Detail"));
        let any = missing
            .into_iter()
            .fold(AnyOfBuilder::new().item(listed), |any, item| any.item(item));
        *schema = Schema::AnyOf(any.build()).into();
    }
}

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
                    admit_body_errors(responses);
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
