//! `/api/tickets/`: the ticket viewset of the original (contract §6). Each handler reads the
//! request, calls the ticket use cases in `service::tickets` and answers with a shape from
//! `shapes`; the workflow actions are in `actions`, the files in `attachments`.

pub mod actions;
mod assign;
pub mod attachments;
pub mod inline;
mod multipart;
mod request;
pub mod shapes;
mod upload;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;

use crate::auth::AuthUser;
use crate::db::tickets::TicketRow;
use crate::error::Result;
use crate::http::body::RawBody;
use crate::http::extract::parse_id;
use crate::http::openapi::components::*;
use crate::http::pagination::PageRequest;
use crate::http::users::UserBrief;
use crate::service::tickets;
use crate::state::AppState;
use inline::{FileDataParam, InlineFiles};
use request::{list_filter, refuse_workflow_keys, ticket_fields};
use shapes::*;

/// The ticket if the caller may see it; otherwise DRF's 404. Any integer is looked up, so `0`
/// and `-1` are missing tickets, as in the original; only a non-number is the plain 404.
async fn load(state: &AppState, user: &AuthUser, raw_id: &str) -> Result<TicketRow> {
    tickets::get(state, user, parse_id(raw_id)?).await
}

/// The scheme and host download links start with: `PUBLIC_BASE_URL`, else the request's host.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(b) = &state.config.public_base_url {
        return b.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The tickets the caller may see (ADMIN all, SUPPORT assigned, CLIENT own), newest first.
#[utoipa::path(get, operation_id = "tickets_list", path = "/api/tickets/", tag = "tickets",
    params(PageParams, TicketFilters),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A page of tickets", body = Paginated<TicketList>),
        (status = 400, description = "An unknown filter or ordering value", body = FieldErrors,
         example = json!({"status": ["Select a valid choice. DONE is not one of the available choices."]})),
        (status = 404, response = InvalidPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Paginated<TicketList>>> {
    let filter = list_filter(&page)?;
    let (st, u, f) = (&state, &user, &filter);
    let listed = page
        .load(
            |offset, limit| tickets::list(st, u, f, offset, limit),
            || tickets::count(st, u, f),
            TicketList::of,
        )
        .await?;
    Ok(Json(listed))
}

/// Create a ticket (CLIENT or ADMIN). Notifies the admins.
#[utoipa::path(post, operation_id = "tickets_create", path = "/api/tickets/", tag = "tickets",
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
        (status = 429, description = "More tickets than `TICKET_CREATE_RATE` (default 30/min) from this user, checked first; admins are not limited. `Retry-After` gives the seconds to wait",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         body = Detail, example = json!({"detail": "Request was throttled. Expected available in 42 seconds."})),
    ))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    body: RawBody,
) -> Result<(StatusCode, Json<TicketCreated>)> {
    tickets::check_create_rate(&state, &user)?;
    let data = body.parse().await?;
    let input = ticket_fields(&data, true, user.is_admin())?.into_new();
    let created = tickets::create(&state, &user, input).await?;
    let shape = TicketCreated::of(&created, user.display_name());
    Ok((StatusCode::CREATED, Json(shape)))
}

/// The ticket in full as JSON, its attachments' bytes inline unless `inline` says not to.
async fn detail(
    state: &AppState,
    headers: &HeaderMap,
    full: tickets::TicketFull,
    inline: InlineFiles,
) -> Result<Response> {
    let mut files = inline
        .load(state, full.ticket.id, &full.attachments)
        .await?;
    let shape = TicketDetail::of(&full, &base_url(state, headers), &mut files);
    files.respond(&shape)
}

/// A visible ticket in full (`?file_data=false`: attachments without their bytes).
#[utoipa::path(get, operation_id = "tickets_retrieve", path = "/api/tickets/{id}/", tag = "tickets",
    params(TicketPath, FileDataParam),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The ticket", body = TicketDetail),
        (status = 400, response = BadFileData),
        (status = 404, description = "No such ticket, or not visible to the caller", body = Detail,
         example = json!({"detail": "No Ticket matches the given query."})),
        (status = 503, response = TooBusy),
    ))]
pub async fn retrieve(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    inline: InlineFiles,
) -> Result<Response> {
    let full = tickets::retrieve(&state, &user, parse_id(&id)?).await?;
    detail(&state, &headers, full, inline).await
}

/// PUT and PATCH: DRF checks the role, reads the body and its forbidden keys, then looks the
/// ticket up, then validates the fields; the answers keep that order.
async fn edit(
    state: AppState,
    user: AuthUser,
    headers: HeaderMap,
    (id, inline): (String, InlineFiles),
    body: RawBody,
    put: bool,
) -> Result<Response> {
    user.require_admin()?;
    let data = body.parse().await?;
    refuse_workflow_keys(&data)?;
    let t = load(&state, &user, &id).await?;
    let patch = ticket_fields(&data, put, true)?.into_patch();
    let full = tickets::edit(&state, &user, t, patch).await?;
    detail(&state, &headers, full, inline).await
}

/// Admin edit; `title` and `description` required. No history, no notification.
#[utoipa::path(put, operation_id = "tickets_update", path = "/api/tickets/{id}/", tag = "tickets",
    params(TicketPath, FileDataParam),
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
        (status = 503, response = TooBusy),
    ))]
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    inline: InlineFiles,
    body: RawBody,
) -> Result<Response> {
    edit(state, user, headers, (id, inline), body, true).await
}

/// Admin partial edit (nothing required). No history, no notification.
#[utoipa::path(patch, operation_id = "tickets_partial_update", path = "/api/tickets/{id}/", tag = "tickets",
    params(TicketPath, FileDataParam),
    request_body(content((TicketEdit = "application/json"), (TicketEdit = "application/x-www-form-urlencoded"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The edited ticket", body = TicketDetail),
        (status = 400, description = "A `status` or `assigned_to` key (`{\"error\"}`), or field errors", body = ErrorOrFieldErrors,
         example = json!({"error": "Status cannot be changed directly. Use action endpoints (open_ticket, start_work, finish_work, approve, reject)."})),
        (status = 403, response = NotAdmin),
        (status = 404, response = TicketNotFound),
        (status = 409, response = TicketEditConflict),
        (status = 503, response = TooBusy),
    ))]
pub async fn partial_update(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    inline: InlineFiles,
    body: RawBody,
) -> Result<Response> {
    edit(state, user, headers, (id, inline), body, false).await
}

/// Delete a ticket with its assignments, attachments, history and notifications (ADMIN).
#[utoipa::path(delete, operation_id = "tickets_destroy", path = "/api/tickets/{id}/", tag = "tickets",
    params(TicketPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = NotAdmin),
        (status = 404, response = TicketNotFound),
    ))]
pub async fn destroy(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    user.require_admin()?;
    let t = load(&state, &user, &id).await?;
    tickets::destroy(&state, &user, &t).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every developer (SUPPORT user), for the assignment picker (ADMIN only).
#[utoipa::path(get, operation_id = "tickets_developers", path = "/api/tickets/developers/", tag = "tickets",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A plain array (not paginated)", body = Vec<UserBrief>),
        (status = 403, response = NotAdmin),
    ))]
pub async fn developers(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<UserBrief>>> {
    let rows = tickets::developers(&state, &user).await?;
    Ok(Json(rows.iter().map(UserBrief::from).collect()))
}
