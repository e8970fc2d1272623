//! The workflow actions of a ticket (contract §6.5–6.10) and their short-name aliases, and
//! comments. Each reads its input, then takes the step through `service::tickets::step`.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{Map, Value};

use crate::auth::AuthUser;
use crate::db::tickets::TicketRow;
use crate::domain::datetime::now;
use crate::domain::workflow::{ActionKind, TextInput};
use crate::error::{Error, Result};
use crate::http::body::{Field, Fields, RawBody, Str};
use crate::http::openapi::components::*;
use crate::http::tickets::assign::{normalize_form_assign, validate_assign};
use crate::http::tickets::load;
use crate::http::tickets::shapes::*;
use crate::service::tickets::{self, Step, StepDone};
use crate::state::AppState;

/// Looks up the ticket (after the checks that come before the lookup) and takes a step that
/// reads no body.
async fn step_without_body(
    state: &AppState,
    user: &AuthUser,
    raw_id: &str,
    step: Step,
) -> Result<StepDone> {
    tickets::check_before_lookup(user, step.kind())?;
    let t = load(state, user, raw_id).await?;
    tickets::step(state, user, t, step).await
}

/// The body of a step that reads one: DRF parses it only when the view first touches it, after
/// the role and status checks, so those answers come before a parse error.
async fn body_after_checks(
    user: &AuthUser,
    t: &TicketRow,
    body: &RawBody,
    kind: ActionKind,
) -> Result<Map<String, Value>> {
    match body.parse().await {
        Ok(data) => Ok(data),
        Err(parse_error) => {
            tickets::check_step(user, t, kind)?;
            Err(parse_error)
        }
    }
}

/// The `comment` of `finish_work` and `reject`, read as DRF's `CharField` reads it.
async fn comment_after_checks(
    user: &AuthUser,
    t: &TicketRow,
    body: &RawBody,
    kind: ActionKind,
) -> Result<TextInput> {
    let data = body_after_checks(user, t, body, kind).await?;
    Ok(crate::http::body::text_input(data.get("comment")))
}

/// NEW → OPENED (ADMIN). Notifies the creator.
#[utoipa::path(post, operation_id = "tickets_open_ticket", path = "/api/tickets/{id}/open_ticket/", tag = "tickets",
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
pub async fn open_ticket(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<TicketOpened>> {
    let done = step_without_body(&state, &user, &id, Step::Open).await?;
    Ok(Json(TicketOpened::of(&done)))
}

/// Alias of `open_ticket/`.
#[utoipa::path(post, operation_id = "tickets_open", path = "/api/tickets/{id}/open/", tag = "tickets",
    params(TicketPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Opened", body = TicketOpened),
        (status = 400, response = NotNew),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, response = TicketNotFound),
        (status = 409, response = TicketKeptChanging),
    ))]
pub async fn open(
    state: State<AppState>,
    user: AuthUser,
    id: Path<String>,
) -> Result<Json<TicketOpened>> {
    open_ticket(state, user, id).await
}

/// Replace the assigned developers and set the deadlines (ADMIN; any status). Notifies the
/// newly added developers.
#[utoipa::path(post, operation_id = "tickets_assign", path = "/api/tickets/{id}/assign/", tag = "tickets",
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
pub async fn assign(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<TicketAssigned>> {
    tickets::check_before_lookup(&user, ActionKind::Assign)?;
    let t = load(&state, &user, &id).await?;
    let data = normalize_form_assign(&body, body.parse().await?);
    let input = validate_assign(&data, now()).map_err(Error::Validation)?;
    let done = tickets::step(&state, &user, t, Step::Assign(input)).await?;
    Ok(Json(TicketAssigned::of(&done)))
}

/// OPENED or IN_PROGRESS → IN_PROGRESS (an assigned developer). Notifies the creator.
#[utoipa::path(post, operation_id = "tickets_start_work", path = "/api/tickets/{id}/start_work/", tag = "tickets",
    params(TicketPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Started", body = WorkStarted),
        (status = 400, response = CannotStart),
        (status = 403, response = NotAssignedToStart),
        (status = 404, response = TicketNotVisible),
        (status = 409, response = TicketKeptChanging),
    ))]
pub async fn start_work(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<WorkStarted>> {
    let done = step_without_body(&state, &user, &id, Step::StartWork).await?;
    Ok(Json(WorkStarted::of(&done)))
}

/// Alias of `start_work/`.
#[utoipa::path(post, operation_id = "tickets_start", path = "/api/tickets/{id}/start/", tag = "tickets",
    params(TicketPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Started", body = WorkStarted),
        (status = 400, response = CannotStart),
        (status = 403, response = NotAssignedToStart),
        (status = 404, response = TicketNotVisible),
        (status = 409, response = TicketKeptChanging),
    ))]
pub async fn start(
    state: State<AppState>,
    user: AuthUser,
    id: Path<String>,
) -> Result<Json<WorkStarted>> {
    start_work(state, user, id).await
}

/// IN_PROGRESS → RESOLVED (an assigned developer). Notifies the creator and the admins.
#[utoipa::path(post, operation_id = "tickets_finish_work", path = "/api/tickets/{id}/finish_work/", tag = "tickets",
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
pub async fn finish_work(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<StatusUpdated>> {
    let t = load(&state, &user, &id).await?;
    let comment = comment_after_checks(&user, &t, &body, ActionKind::FinishWork).await?;
    let done = tickets::step(&state, &user, t, Step::FinishWork { comment }).await?;
    Ok(Json(StatusUpdated::of(
        &done,
        "Status updated successfully",
    )))
}

/// Alias of `finish_work/`.
#[utoipa::path(post, operation_id = "tickets_finish", path = "/api/tickets/{id}/finish/", tag = "tickets",
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
pub async fn finish(
    state: State<AppState>,
    user: AuthUser,
    id: Path<String>,
    body: RawBody,
) -> Result<Json<StatusUpdated>> {
    finish_work(state, user, id, body).await
}

/// RESOLVED or WAITING_APPROVAL → CLOSED (the creator, CLIENT or ADMIN). Notifies the admins
/// and the assigned developers.
#[utoipa::path(post, operation_id = "tickets_approve", path = "/api/tickets/{id}/approve/", tag = "tickets",
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
pub async fn approve(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<StatusUpdated>> {
    let done = step_without_body(&state, &user, &id, Step::Approve).await?;
    Ok(Json(StatusUpdated::of(&done, "Status updated to Closed")))
}

/// Alias of `approve/`.
#[utoipa::path(post, operation_id = "tickets_close", path = "/api/tickets/{id}/close/", tag = "tickets",
    params(TicketPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Closed", body = StatusUpdated),
        (status = 400, description = "Not awaiting approval", body = NotAwaitingApproval),
        (status = 403, response = CannotApprove),
        (status = 404, response = TicketNotVisible),
        (status = 409, response = TicketKeptChanging),
    ))]
pub async fn close(
    state: State<AppState>,
    user: AuthUser,
    id: Path<String>,
) -> Result<Json<StatusUpdated>> {
    approve(state, user, id).await
}

/// RESOLVED or WAITING_APPROVAL → IN_PROGRESS with a reason (the creator, CLIENT or ADMIN).
/// Notifies the assigned developers and the admins.
#[utoipa::path(post, operation_id = "tickets_reject", path = "/api/tickets/{id}/reject/", tag = "tickets",
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
pub async fn reject(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<StatusUpdated>> {
    let t = load(&state, &user, &id).await?;
    let reason = comment_after_checks(&user, &t, &body, ActionKind::Reject).await?;
    let done = tickets::step(&state, &user, t, Step::Reject { reason }).await?;
    Ok(Json(StatusUpdated::of(
        &done,
        "Status updated to In Progress",
    )))
}

/// Add a comment to the history (any status; no notification).
#[utoipa::path(post, operation_id = "tickets_add_comment", path = "/api/tickets/{id}/add_comment/", tag = "tickets",
    params(TicketPath),
    request_body(content((CommentRequest = "application/json"), (CommentRequest = "application/x-www-form-urlencoded"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Added", body = Message),
        (status = 400, description = "Missing, blank or short comment", body = FieldErrors,
         example = json!({"comment": ["Comment must be at least 3 characters"]})),
        (status = 404, response = TicketNotVisible),
        (status = 429, description = "More comments than `COMMENT_RATE` (default 60/min) from this user, checked first; admins are not limited. `Retry-After` gives the seconds to wait",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         body = Detail, example = json!({"detail": "Request was throttled. Expected available in 12 seconds."})),
    ))]
pub async fn add_comment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Message>> {
    tickets::check_comment_rate(&state, &user)?;
    let t = load(&state, &user, &id).await?;
    let data = body.parse().await?;
    let text = comment_text(&data)?;
    tickets::comment(&state, &user, &t, text).await?;
    Ok(Json(Message {
        message: "Comment added successfully".into(),
    }))
}

/// A comment: required, 3 to 2000 characters.
pub(crate) fn comment_text(data: &Map<String, Value>) -> Result<String> {
    let mut f = Fields::new(data);
    let comment = f.str("comment", Str::required().max(2000));
    if let Field::Value(c) = &comment {
        if c.chars().count() < 3 {
            f.error("comment", "Comment must be at least 3 characters");
        }
    }
    f.finish()?;
    Ok(comment.value().unwrap_or_default())
}
