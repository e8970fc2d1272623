//! The ticket use cases, one door for every caller (the JSON API today; the admin console,
//! WhatsApp replies and an SLA job next): list, create, retrieve, admin edit, delete, every
//! workflow step, comments, attachments and the developers list. Inputs are typed values, not
//! request bodies; answers are rows; refusals are `crate::error::Error`.
//!
//! Checks run in the original's order, so each caller gets the same first refusal: a caller that
//! must read a request body between two checks (the HTTP API does, since DRF parses bodies
//! lazily) calls the steps one by one: [`check_before_lookup`], [`get`], then the use case
//! with the ticket it found ([`check_step`] reports a step's refusal when the body is unreadable).

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::auth::rate::UserRate;
use crate::auth::AuthUser;
use crate::db::ticket_list::{self, ListFilter};
use crate::db::tickets::{
    self as store, AttachmentRow, HistoryRow, NewAttachment, NewTicket, Scope, Stored, TicketRow,
    TicketUpdate, WriteError,
};
use crate::db::users::UserRow;
use crate::domain::assign::{Patch, INVALID_DEVELOPERS};
use crate::domain::datetime::now;
use crate::domain::ticket::{
    display_name, resolution_breached, response_breached, Category, Priority,
};
use crate::domain::user::Role;
use crate::domain::workflow::{
    self, Action, ActionKind, Actor, Developer, HistoryEntry, TextInput, TicketState, Transition,
};
use crate::error::{Error, Result};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Who sees what

fn actor(user: &AuthUser) -> Actor {
    Actor {
        id: user.id,
        role: user.role,
    }
}

fn scope(user: &AuthUser) -> Scope {
    Scope::of(user.id, user.role)
}

/// The ticket if the caller may see it; otherwise DRF's 404 `No Ticket matches the given query.`
pub async fn get(state: &AppState, user: &AuthUser, id: i64) -> Result<TicketRow> {
    store::get(&state.db, id, scope(user))
        .await?
        .ok_or(Error::NotFound("Ticket"))
}

/// One page of the tickets the caller may see (ADMIN all, SUPPORT assigned, CLIENT own).
pub async fn list(
    state: &AppState,
    user: &AuthUser,
    filter: &ListFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<TicketRow>> {
    Ok(ticket_list::list(&state.db, scope(user), filter, offset, limit).await?)
}

/// How many tickets the list would show in all.
pub async fn count(state: &AppState, user: &AuthUser, filter: &ListFilter) -> Result<i64> {
    Ok(ticket_list::count(&state.db, scope(user), filter).await?)
}

// ---------------------------------------------------------------------------------------------
// Breach flags

/// The breach flags as they stand now: stored flags stay raised, and a deadline that passed
/// since the last save shows even though nothing saved the ticket (contract §17 item 19 fixed).
pub fn breach_flags(t: &TicketRow, at: DateTime<Utc>) -> (bool, bool) {
    (
        t.response_breached || response_breached(t.status, t.response_due_at, t.opened_at, at),
        t.resolution_breached
            || resolution_breached(t.status, t.resolution_due_at, t.resolved_at, at),
    )
}

/// Raises the breach flags a save deserves; a raised flag is never lowered, including one that
/// so far only showed on reading: a deadline that passed stays missed when a save moves it later.
fn refresh_flags(t: &TicketRow, u: &mut TicketUpdate, at: DateTime<Utc>) {
    let (response_was, resolution_was) = breach_flags(t, at);
    u.response_breached =
        response_was || response_breached(u.status, u.response_due_at, u.opened_at, at);
    u.resolution_breached =
        resolution_was || resolution_breached(u.status, u.resolution_due_at, u.resolved_at, at);
}

// ---------------------------------------------------------------------------------------------
// Create, retrieve, edit, delete

/// A new ticket's fields; `None` takes the default. The SLA fields and the team are the
/// admins' to set: callers pass `None` for anyone else (contract §17 item 9).
#[derive(Debug, Clone, Default)]
pub struct NewTicketInput {
    pub title: String,
    pub description: String,
    pub project_name: Option<String>,
    pub priority: Option<Priority>,
    pub category: Option<Category>,
    pub assigned_team: Option<String>,
    pub response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub estimated_resolution_time: Option<DateTime<Utc>>,
}

/// A created ticket: its id and what was stored.
pub struct Created {
    pub id: i64,
    pub ticket: NewTicket,
}

/// DRF's `UserRateThrottle`: a client or developer creating tickets or adding comments faster
/// than `TICKET_CREATE_RATE` / `COMMENT_RATE` is refused with 429 before anything else is read.
/// Admins are not limited: they are the operators, who may file tickets for callers in bulk, and
/// whose account can do far worse than send messages.
fn within_rate(rate: &UserRate, user: &AuthUser) -> Result<()> {
    if user.is_admin() {
        return Ok(());
    }
    rate.allow(user.id)
        .map_err(|wait| Error::Throttled(wait.as_secs_f64().ceil() as u64))
}

/// Counts a ticket creation against the caller's `TICKET_CREATE_RATE`.
pub fn check_create_rate(state: &AppState, user: &AuthUser) -> Result<()> {
    within_rate(&state.ticket_create_rate, user)
}

/// Counts a comment against the caller's `COMMENT_RATE`.
pub fn check_comment_rate(state: &AppState, user: &AuthUser) -> Result<()> {
    within_rate(&state.comment_rate, user)
}

/// Creates a ticket (CLIENT or ADMIN) and notifies the admins once it is committed.
pub async fn create(state: &AppState, user: &AuthUser, input: NewTicketInput) -> Result<Created> {
    let at = now();
    let unsaved = TicketState::unsaved(user.id, "");
    let transition = workflow::apply(&unsaved, &actor(user), Action::Create, at)?;
    let priority = input.priority.unwrap_or_default();
    let new = NewTicket {
        project_name: input.project_name.unwrap_or_else(|| "General".to_string()),
        title: input.title,
        description: input.description,
        priority,
        category: input.category.unwrap_or_default(),
        created_by: user.id,
        assigned_team: input.assigned_team.filter(|s| !s.is_empty()),
        response_due_at: Some(
            input
                .response_due_at
                .unwrap_or_else(|| crate::domain::ticket::response_due_at(priority, at)),
        ),
        resolution_due_at: input.resolution_due_at,
        estimated_resolution_time: input.estimated_resolution_time,
    };
    let planned = crate::notify::plan_create(&state.db, &new, user, &transition).await?;
    let render = |id| planned.rows(&state.templates, id);
    let (id, rows) = store::create(&state.db, &new, render, at).await?;
    let planned = planned.created(id, rows);
    crate::notify::committed(&state.db, &state.outbox, &state.push, planned).await;
    tracing::info!(ticket_id = id, by = user.id, "ticket created");
    Ok(Created { id, ticket: new })
}

/// A ticket in full: the row, its attachments and history (newest first), and the breach flags
/// as they stand at reading time.
pub struct TicketFull {
    pub ticket: TicketRow,
    pub attachments: Vec<AttachmentRow>,
    pub history: Vec<HistoryRow>,
    pub response_breached: bool,
    pub resolution_breached: bool,
}

/// The ticket the caller found, in full.
pub async fn full(state: &AppState, ticket: TicketRow) -> Result<TicketFull> {
    let (attachments, history) = tokio::try_join!(
        store::attachments(&state.db, ticket.id),
        store::history(&state.db, ticket.id)
    )?;
    let (response_breached, resolution_breached) = breach_flags(&ticket, now());
    Ok(TicketFull {
        ticket,
        attachments,
        history,
        response_breached,
        resolution_breached,
    })
}

/// A visible ticket in full.
pub async fn retrieve(state: &AppState, user: &AuthUser, id: i64) -> Result<TicketFull> {
    let ticket = get(state, user, id).await?;
    full(state, ticket).await
}

/// An admin edit: `None` / `Unchanged` leaves a field as it is. Status and assignment change
/// only through the workflow steps.
#[derive(Debug, Clone, Default)]
pub struct TicketPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub project_name: Option<String>,
    pub priority: Option<Priority>,
    pub category: Option<Category>,
    /// An empty team clears it.
    pub assigned_team: Patch<String>,
    pub response_due_at: Patch<DateTime<Utc>>,
    pub resolution_due_at: Patch<DateTime<Utc>>,
    pub estimated_resolution_time: Patch<DateTime<Utc>>,
}

/// Saves an admin edit of the ticket the caller found, unless someone changed it since (409);
/// no history row, no notification. Answers the ticket as saved.
pub async fn edit(
    state: &AppState,
    user: &AuthUser,
    t: TicketRow,
    patch: TicketPatch,
) -> Result<TicketFull> {
    user.require_admin()?;
    let mut u = TicketUpdate::from_row(&t);
    u.title = patch.title.unwrap_or(u.title);
    u.description = patch.description.unwrap_or(u.description);
    u.project_name = patch.project_name.unwrap_or(u.project_name);
    u.priority = patch.priority.unwrap_or(u.priority);
    u.category = patch.category.unwrap_or(u.category);
    u.assigned_team = match patch.assigned_team {
        Patch::Set(team) => Some(team).filter(|s| !s.is_empty()),
        Patch::Clear => None,
        Patch::Unchanged => u.assigned_team,
    };
    u.response_due_at = patch.response_due_at.apply_to(u.response_due_at);
    u.resolution_due_at = patch.resolution_due_at.apply_to(u.resolution_due_at);
    u.estimated_resolution_time = patch
        .estimated_resolution_time
        .apply_to(u.estimated_resolution_time);
    let at = now();
    refresh_flags(&t, &mut u, at);
    match store::save(&state.db, t.id, t.version, &u, at).await {
        Ok(()) => {}
        Err(WriteError::Stale) => return Err(Error::TicketChangedMeanwhile),
        Err(WriteError::Db(e)) => return Err(e.into()),
    }
    retrieve(state, user, t.id).await
}

/// Deletes the ticket with its assignments, attachments, history and notifications (ADMIN).
pub async fn destroy(state: &AppState, user: &AuthUser, t: &TicketRow) -> Result<()> {
    user.require_admin()?;
    store::delete(&state.db, t.id).await?;
    tracing::info!(ticket_id = t.id, by = user.id, "ticket deleted");
    Ok(())
}

/// Every developer, for the admin's assignment picker (admins only: the original leaked it).
pub async fn developers(state: &AppState, user: &AuthUser) -> Result<Vec<UserRow>> {
    user.require_admin()?;
    Ok(store::all_developers(&state.db).await?)
}

/// Adds a comment to the ticket's history (any status; no notification).
pub async fn comment(state: &AppState, user: &AuthUser, t: &TicketRow, text: String) -> Result<()> {
    let entry = HistoryEntry {
        status_from: Some(t.status),
        status_to: t.status,
        comment: text,
    };
    store::add_comment(&state.db, t.id, user.id, &entry, now()).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Workflow steps

/// The `assign` step's input: the developers (checked to be SUPPORT users here) and the
/// deadlines, already within their ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignInput {
    /// In request order, all >= 1 and distinct.
    pub developer_ids: Vec<i64>,
    pub resolution_due_at: Patch<DateTime<Utc>>,
    pub estimated_resolution_time: Patch<DateTime<Utc>>,
}

/// A workflow step with its input.
#[derive(Debug, Clone)]
pub enum Step {
    Open,
    Assign(AssignInput),
    StartWork,
    FinishWork { comment: TextInput },
    Approve,
    Reject { reason: TextInput },
}

impl Step {
    pub fn kind(&self) -> ActionKind {
        match self {
            Step::Open => ActionKind::Open,
            Step::Assign(_) => ActionKind::Assign,
            Step::StartWork => ActionKind::StartWork,
            Step::FinishWork { .. } => ActionKind::FinishWork,
            Step::Approve => ActionKind::Approve,
            Step::Reject { .. } => ActionKind::Reject,
        }
    }
}

/// A step taken: the ticket as the step found it (after any reload) and the transition.
pub struct StepDone {
    pub ticket: TicketRow,
    pub transition: Transition,
}

/// `open_ticket` and `assign` refuse non-admins before looking the ticket up.
pub fn check_before_lookup(user: &AuthUser, kind: ActionKind) -> Result<()> {
    workflow::check_before_lookup(&actor(user), kind).map_err(Error::from)
}

/// The role and status refusals of a step of this kind, as if its input were valid: what the
/// original answers before it reports an unreadable request body.
pub fn check_step(user: &AuthUser, t: &TicketRow, kind: ActionKind) -> Result<()> {
    let probe = match kind {
        ActionKind::FinishWork => Action::FinishWork {
            comment: TextInput::Missing,
        },
        ActionKind::Reject => Action::Reject {
            reason: TextInput::from("a reason long enough"),
        },
        // Any one developer: the probe asks whether assigning is open, not whom.
        ActionKind::Assign => Action::Assign {
            developers: vec![workflow::Developer {
                id: 0,
                name: String::new(),
            }],
        },
        ActionKind::Create => Action::Create,
        ActionKind::Open => Action::Open,
        ActionKind::StartWork => Action::StartWork,
        ActionKind::Approve => Action::Approve,
    };
    workflow::apply(&workflow_state(t), &actor(user), probe, now())?;
    Ok(())
}

/// Takes one workflow step on the ticket the caller found: decided by the workflow, written
/// with its history and notification rows in one transaction, then the notifications go.
pub async fn step(state: &AppState, user: &AuthUser, t: TicketRow, step: Step) -> Result<StepDone> {
    check_before_lookup(user, step.kind())?;
    let (action, deadlines) = match step {
        Step::Open => (Action::Open, None),
        Step::Assign(input) => {
            let developers = assignable(state, &input.developer_ids).await?;
            let deadlines = (input.resolution_due_at, input.estimated_resolution_time);
            (Action::Assign { developers }, Some(deadlines))
        }
        Step::StartWork => (Action::StartWork, None),
        Step::FinishWork { comment } => (Action::FinishWork { comment }, None),
        Step::Approve => (Action::Approve, None),
        Step::Reject { reason } => (Action::Reject { reason }, None),
    };
    let (ticket, transition) = run_step(state, user, t, action, |u| {
        if let Some((resolution, estimate)) = deadlines {
            u.resolution_due_at = resolution.apply_to(u.resolution_due_at);
            u.estimated_resolution_time = estimate.apply_to(u.estimated_resolution_time);
        }
    })
    .await?;
    Ok(StepDone { ticket, transition })
}

/// The developers with these ids, all of them SUPPORT users, or 400.
async fn assignable(state: &AppState, ids: &[i64]) -> Result<Vec<Developer>> {
    let found = store::developers_among(&state.db, ids).await?;
    if found.len() != ids.len() {
        return Err(Error::Invalid(INVALID_DEVELOPERS.into()));
    }
    Ok(found
        .iter()
        .map(|p| Developer {
            id: p.id,
            name: display_name(&p.first_name, &p.last_name, &p.username),
        })
        .collect())
}

fn workflow_state(t: &TicketRow) -> TicketState {
    TicketState {
        id: t.id,
        title: t.title.clone(),
        status: t.status,
        created_by: t.created_by_id,
        assigned_to: t.assignees().iter().map(|p| p.id).collect(),
    }
}

/// The row after a transition: new status, first-time stamp.
fn updated_row(t: &TicketRow, tr: &Transition) -> TicketUpdate {
    let mut u = TicketUpdate::from_row(t);
    u.status = tr.to;
    if let Some(stamp) = tr.stamp {
        let slot = match stamp {
            workflow::Stamp::OpenedAt => &mut u.opened_at,
            workflow::Stamp::StartedAt => &mut u.started_at,
            workflow::Stamp::ResolvedAt => &mut u.resolved_at,
            workflow::Stamp::ClosedAt => &mut u.closed_at,
        };
        slot.get_or_insert(tr.at);
    }
    u
}

/// Decides and writes one step. When another request changed the ticket in between, the step
/// is decided again from the new state, so the loser of a race gets the answer it would have
/// got had it come second (e.g. 400 "Ticket is not awaiting approval").
async fn run_step(
    state: &AppState,
    user: &AuthUser,
    mut ticket: TicketRow,
    action: Action,
    adjust: impl Fn(&mut TicketUpdate),
) -> Result<(TicketRow, Transition)> {
    const ATTEMPTS: usize = 5;
    for _ in 0..ATTEMPTS {
        let ts = workflow_state(&ticket);
        let tr = workflow::apply(&ts, &actor(user), action.clone(), now())?;
        let mut u = updated_row(&ticket, &tr);
        adjust(&mut u);
        refresh_flags(&ticket, &mut u, tr.at);
        let planned = crate::notify::plan_step(
            &state.db,
            &state.templates,
            &ticket,
            &u,
            &ts.assigned_to,
            &tr,
        )
        .await?;
        match store::commit_step(&state.db, &ticket, user.id, &tr, &u, &planned.rows).await {
            Ok(()) => {
                crate::notify::committed(&state.db, &state.outbox, &state.push, planned).await;
                tracing::info!(ticket_id = ticket.id, by = user.id, from = %tr.from, to = %tr.to, "workflow step");
                return Ok((ticket, tr));
            }
            Err(WriteError::Db(e)) => return Err(e.into()),
            Err(WriteError::Stale) => ticket = get(state, user, ticket.id).await?,
        }
    }
    Err(Error::TicketBusy)
}

// ---------------------------------------------------------------------------------------------
// Attachments

/// Admins may add files to any ticket, developers to tickets assigned to them, clients to their
/// own; everyone else gets 403.
pub fn check_upload(user: &AuthUser, t: &TicketRow) -> Result<()> {
    let allowed = match user.role {
        Role::Admin => true,
        Role::Support => t.assignees().iter().any(|p| p.id == user.id),
        Role::Client => t.created_by_id == user.id,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::Refused(
            "You do not have permission to add attachments to this ticket".into(),
        ))
    }
}

/// An uploaded file.
pub struct Upload {
    pub data: Vec<u8>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// 413 for a file over `MAX_ATTACHMENT_BYTES`. An upload is refused as soon as it passes the
/// limit, before the rest arrives, so its whole size is not known.
pub fn file_too_large(limit: usize) -> Error {
    Error::PayloadTooLarge(format!("File too large: the limit is {limit} bytes."))
}

/// Stores a file on the ticket, within `MAX_ATTACHMENT_BYTES` and the ticket's quota
/// `MAX_TICKET_ATTACHMENT_BYTES` (413 beyond either); answers its id. The bytes are moved into
/// the row, not copied.
pub async fn upload(state: &AppState, user: &AuthUser, t: &TicketRow, file: Upload) -> Result<i64> {
    check_upload(user, t)?;
    let limit = state.config.max_attachment_bytes;
    if file.data.len() > limit {
        return Err(file_too_large(limit));
    }
    let size = file.data.len();
    let new = NewAttachment {
        ticket_id: t.id,
        uploaded_by: user.id,
        data: file.data,
        filename: file.filename.map(|f| f.chars().take(255).collect()),
        content_type: file.content_type.map(|c| c.chars().take(255).collect()),
    };
    let quota = state.config.attachments.max_ticket_bytes;
    let quota_i64 = i64::try_from(quota).unwrap_or(i64::MAX);
    match store::add_attachment(&state.db, new, quota_i64, now()).await? {
        Stored::Added(id) => Ok(id),
        Stored::OverQuota { used } => Err(Error::PayloadTooLarge(format!(
            "Attachment quota exceeded: ticket #{} already holds {used} bytes of attachments, \
             and this file ({size} bytes) would take it past the limit of {quota} bytes.",
            t.id
        ))),
    }
}

/// The ticket's attachments (without their bytes), newest first.
pub async fn attachments(state: &AppState, t: &TicketRow) -> Result<Vec<AttachmentRow>> {
    Ok(store::attachments(&state.db, t.id).await?)
}

/// One attachment's bytes, read on their own (the inlining answers read one file at a time).
pub async fn attachment_bytes(state: &AppState, ticket_id: i64, id: i64) -> Result<Option<Bytes>> {
    Ok(store::attachment_file(&state.db, ticket_id, id).await?)
}

/// 404 `{"error": "Attachment not found"}`: also the answer for an id that is not a number
/// (the original answered 500).
pub fn no_such_attachment() -> Error {
    Error::Missing("Attachment not found".into())
}

/// One attachment of the ticket.
pub async fn attachment(state: &AppState, t: &TicketRow, id: i64) -> Result<AttachmentRow> {
    store::attachment(&state.db, t.id, id)
        .await?
        .ok_or_else(no_such_attachment)
}

/// One attachment of the ticket with its bytes.
pub async fn download(state: &AppState, t: &TicketRow, id: i64) -> Result<(AttachmentRow, Bytes)> {
    let a = attachment(state, t, id).await?;
    let data = store::attachment_file(&state.db, t.id, id)
        .await?
        .ok_or_else(no_such_attachment)?;
    Ok((a, data))
}

/// Deletes an attachment: your own uploads; admins also those of admins and developers.
/// Answers the deleted attachment's id.
pub async fn delete_attachment(
    state: &AppState,
    user: &AuthUser,
    t: &TicketRow,
    id: i64,
) -> Result<i64> {
    let a = attachment(state, t, id).await?;
    let allowed = a.uploaded_by_id == user.id
        || (user.role == Role::Admin && matches!(a.uploader_role, Role::Admin | Role::Support));
    if !allowed {
        let msg = match user.role {
            Role::Admin => "Admins cannot delete attachments uploaded by clients",
            Role::Client | Role::Support => "You can only delete attachments you uploaded",
        };
        return Err(Error::Refused(msg.into()));
    }
    store::delete_attachment(&state.db, t.id, a.id).await?;
    Ok(a.id)
}
