//! `/api/tickets/`: the ticket viewset of the original (contract §6) — list, create, retrieve,
//! admin edits, the workflow actions, comments and attachments.

use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::auth::AuthUser;
use crate::db::tickets::{
    self as store, AttachmentRow, HistoryRow, ListFilter, Person, Scope, TicketRow, TicketUpdate,
    WriteError,
};
use crate::domain::assign::{validate_assign, INVALID_DEVELOPERS};
use crate::domain::datetime::{format_dt, format_dtiso, now};
use crate::domain::ticket::{
    display_name, full_name, resolution_breached, response_breached, Category, Priority, Status,
};
use crate::domain::user::Role;
use crate::domain::workflow::{
    self, Action, ActionKind, Actor, Developer, HistoryEntry, TextInput, TicketState, Transition,
};
use crate::error::{Error, Result};
use crate::http::body::{Field, Fields, RawBody, Str};
use crate::http::pagination::PageRequest;
use crate::http::users::user_brief_json;
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// JSON shapes (contract §4)

/// The breach flags as they stand now: stored flags stay raised, and a deadline that passed
/// since the last save shows even though nothing saved the ticket (contract §17 item 19 fixed).
fn breach_flags(t: &TicketRow, at: DateTime<Utc>) -> (bool, bool) {
    (
        t.response_breached || response_breached(t.status, t.response_due_at, t.opened_at, at),
        t.resolution_breached
            || resolution_breached(t.status, t.resolution_due_at, t.resolved_at, at),
    )
}

fn opt_dt(t: &Option<DateTime<Utc>>) -> Value {
    t.as_ref()
        .map(|t| Value::String(format_dt(t)))
        .unwrap_or(Value::Null)
}

fn ticket_list_json(t: &TicketRow, assignees: &[&Person]) -> Value {
    json!({
        "id": t.id,
        "project_name": t.project_name,
        "title": t.title,
        "description": t.description,
        "priority": t.priority.as_str(),
        "priority_display": t.priority.label(),
        "category": t.category.as_str(),
        "category_display": t.category.label(),
        "status": t.status.as_str(),
        "status_display": t.status.label(),
        "created_by": t.created_by_id,
        "created_by_name": full_name(&t.creator_first_name, &t.creator_last_name),
        "assigned_to": assignees.iter().map(|p| p.id).collect::<Vec<_>>(),
        "assigned_to_names": assignees.iter().map(|p| display_name(&p.first_name, &p.last_name, &p.username)).collect::<Vec<_>>(),
        "assigned_team": t.assigned_team,
    })
}

fn attachment_json(a: &AttachmentRow, id_base: &str) -> Value {
    let data = (!a.file_data.is_empty())
        .then(|| base64::engine::general_purpose::STANDARD.encode(&a.file_data));
    json!({
        "id": a.id,
        "ticket": a.ticket_id,
        "uploaded_by": a.uploaded_by_id,
        "uploaded_by_name": full_name(&a.first_name, &a.last_name),
        "file_data": data,
        "uploaded_at": format_dt(&a.uploaded_at),
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "download_url": format!("{id_base}/api/tickets/{}/attachments/{}/download/", a.ticket_id, a.id),
    })
}

fn history_json(h: &HistoryRow) -> Value {
    json!({
        "id": h.id,
        "ticket": h.ticket_id,
        "changed_by": h.changed_by_id,
        "changed_by_name": display_name(&h.first_name, &h.last_name, &h.username),
        "status_from": h.status_from,
        "status_from_display": h.status_from.as_deref().map(Status::label_of),
        "status_to": h.status_to,
        "status_to_display": Status::label_of(&h.status_to),
        "comment": h.comment,
        "timestamp": format_dt(&h.timestamp),
    })
}

/// TicketDetail: TicketList's fields, the SLA and timestamps, attachments and history.
async fn detail_json(state: &AppState, t: &TicketRow, base: &str) -> Result<Value> {
    let (attachments, history) = tokio::try_join!(
        store::attachments(&state.db, t.id),
        store::history(&state.db, t.id)
    )?;
    let assignees = t.assignees();
    let refs: Vec<&Person> = assignees.iter().collect();
    let mut v = ticket_list_json(t, &refs);
    let (resp_b, res_b) = breach_flags(t, now());
    if let Value::Object(m) = &mut v {
        m.insert("response_due_at".into(), opt_dt(&t.response_due_at));
        m.insert("resolution_due_at".into(), opt_dt(&t.resolution_due_at));
        m.insert("response_breached".into(), json!(resp_b));
        m.insert("resolution_breached".into(), json!(res_b));
        m.insert(
            "response_sla_minutes".into(),
            json!(t.priority.response_sla_minutes()),
        );
        m.insert(
            "estimated_resolution_time".into(),
            opt_dt(&t.estimated_resolution_time),
        );
        m.insert("created_at".into(), json!(format_dt(&t.created_at)));
        m.insert("updated_at".into(), json!(format_dt(&t.updated_at)));
        m.insert("opened_at".into(), opt_dt(&t.opened_at));
        m.insert("started_at".into(), opt_dt(&t.started_at));
        m.insert("resolved_at".into(), opt_dt(&t.resolved_at));
        m.insert("closed_at".into(), opt_dt(&t.closed_at));
        m.insert(
            "attachments".into(),
            attachments
                .iter()
                .map(|a| attachment_json(a, base))
                .collect(),
        );
        m.insert("history".into(), history.iter().map(history_json).collect());
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Lookups

fn actor(user: &AuthUser) -> Actor {
    Actor {
        id: user.id,
        role: user.role,
    }
}

fn scope(user: &AuthUser) -> Scope {
    Scope::of(user.id, user.role)
}

/// The ticket if the caller may see it; otherwise DRF's 404. Any integer is looked up, so `0`
/// and `-1` are missing tickets, as in the original; only a non-number is the plain 404.
async fn load(state: &AppState, user: &AuthUser, raw_id: &str) -> Result<TicketRow> {
    let id = raw_id.parse::<i64>().map_err(|_| Error::NoSuchRoute)?;
    store::get(&state.db, id, scope(user))
        .await?
        .ok_or(Error::NotFound("Ticket"))
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

fn base_url(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    if let Some(b) = &state.config.public_base_url {
        return b.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

// ---------------------------------------------------------------------------------------------
// List and filters

const NOT_A_CHOICE: &str = "Select a valid choice. {} is not one of the available choices.";

/// Parses a comma-separated list of enum values; an unknown one is reported under the field.
fn parse_list<T>(
    page: &PageRequest,
    field: &str,
    parse: fn(&str) -> Option<T>,
    errors: &mut Map<String, Value>,
) -> Vec<T> {
    let Some(raw) = page.param(field).filter(|v| !v.is_empty()) else {
        return Vec::new();
    };
    let mut values = Vec::new();
    for v in raw.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        match parse(&v.to_ascii_uppercase()) {
            Some(value) => values.push(value),
            None => {
                errors.insert(field.to_string(), json!([NOT_A_CHOICE.replace("{}", v)]));
                break;
            }
        }
    }
    values
}

macro_rules! priority_rank {
    () => {
        "CASE t.priority WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'HIGH' THEN 3 ELSE 0 END"
    };
}
macro_rules! status_rank {
    () => {
        "CASE t.status WHEN 'NEW' THEN 1 WHEN 'OPENED' THEN 2 WHEN 'IN_PROGRESS' THEN 3 WHEN 'RESOLVED' THEN 4 \
         WHEN 'WAITING_APPROVAL' THEN 5 WHEN 'CLOSED' THEN 6 ELSE 0 END"
    };
}

/// `?ordering=`: priority and status order by meaning (LOW < MEDIUM < HIGH, workflow order),
/// newest first within equal values.
fn ordering(value: &str) -> Option<&'static str> {
    Some(match value {
        "created_at" => "t.created_at ASC, t.id ASC",
        "-created_at" => "t.created_at DESC, t.id DESC",
        "priority" => concat!(priority_rank!(), " ASC, t.created_at DESC, t.id DESC"),
        "-priority" => concat!(priority_rank!(), " DESC, t.created_at DESC, t.id DESC"),
        "status" => concat!(status_rank!(), " ASC, t.created_at DESC, t.id DESC"),
        "-status" => concat!(status_rank!(), " DESC, t.created_at DESC, t.id DESC"),
        _ => return None,
    })
}

/// The filters of the list; every bad parameter is reported at once, as a filter form does.
fn list_filter(page: &PageRequest) -> Result<ListFilter> {
    let mut errors = Map::new();
    let statuses = parse_list(page, "status", Status::parse, &mut errors);
    let priorities = parse_list(page, "priority", Priority::parse, &mut errors);
    let categories = parse_list(page, "category", Category::parse, &mut errors);
    let order_by = match page.param("ordering").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => {
            let found = ordering(v.trim());
            if found.is_none() {
                errors.insert("ordering".into(), json!([NOT_A_CHOICE.replace("{}", v)]));
            }
            found
        }
    };
    if !errors.is_empty() {
        return Err(Error::Validation(Value::Object(errors)));
    }
    Ok(ListFilter {
        statuses,
        priorities,
        categories,
        search: page
            .param("search")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        order_by,
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Value>> {
    let filter = list_filter(&page)?;
    let sc = scope(&user);
    let (db, f) = (&state.db, &filter);
    let (count, w, rows) = page
        .load(
            |offset, limit| store::list(db, sc, f, offset, limit),
            || store::count(db, sc, f),
        )
        .await?;
    let results = rows
        .iter()
        .map(|t| {
            let people = t.assignees();
            ticket_list_json(t, &people.iter().collect::<Vec<_>>())
        })
        .collect();
    Ok(Json(page.respond(count, w, results)))
}

// ---------------------------------------------------------------------------------------------
// Create, retrieve, edit, delete

const PRIORITIES: [&str; 3] = ["HIGH", "MEDIUM", "LOW"];
const CATEGORIES: [&str; 4] = ["BUG", "PROBLEM", "SERVICE_DOWN", "NEW_FEATURE"];

/// The writable fields of the ticket serializer, in its field order.
struct TicketFields {
    title: Field<String>,
    description: Field<String>,
    project_name: Field<String>,
    priority: Field<String>,
    category: Field<String>,
    assigned_team: Field<String>,
    response_due_at: Field<DateTime<Utc>>,
    resolution_due_at: Field<DateTime<Utc>>,
    estimated_resolution_time: Field<DateTime<Utc>>,
}

/// Validates the ticket fields; `required` is true for create and PUT. SLA fields and the team
/// are read for admins only: clients could bypass the SLA rules with them (§17 item 9).
fn ticket_fields(data: &Map<String, Value>, required: bool, admin: bool) -> Result<TicketFields> {
    let mut f = Fields::new(data);
    let req = |s: Str| {
        if required {
            Str {
                required: true,
                ..s
            }
        } else {
            Str {
                required: false,
                ..s
            }
        }
    };
    let title = f.str("title", req(Str::required()).max(300));
    let description = f.str("description", req(Str::required()));
    let project_name = f.str("project_name", Str::optional().no_blank().max(150));
    let priority = f.choice("priority", false, &PRIORITIES);
    let category = f.choice("category", false, &CATEGORIES);
    let (assigned_team, response_due_at, resolution_due_at, estimated_resolution_time) = if admin {
        (
            f.str("assigned_team", Str::optional().nullable().max(100)),
            f.datetime("response_due_at"),
            f.datetime("resolution_due_at"),
            f.datetime("estimated_resolution_time"),
        )
    } else {
        (Field::Absent, Field::Absent, Field::Absent, Field::Absent)
    };
    f.finish()?;
    Ok(TicketFields {
        title,
        description,
        project_name,
        priority,
        category,
        assigned_team,
        response_due_at,
        resolution_due_at,
        estimated_resolution_time,
    })
}

pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    body: RawBody,
) -> Result<Response> {
    let data = body.parse().await?;
    let f = ticket_fields(&data, true, user.is_admin())?;
    let at = now();
    let transition = workflow::apply(
        &TicketState::unsaved(user.id, ""),
        &actor(&user),
        Action::Create,
        at,
    )?;
    let priority = f
        .priority
        .value()
        .and_then(|p| Priority::parse(&p))
        .unwrap_or_default();
    let new = store::NewTicket {
        project_name: f
            .project_name
            .value()
            .unwrap_or_else(|| "General".to_string()),
        title: f.title.value().unwrap_or_default(),
        description: f.description.value().unwrap_or_default(),
        priority,
        category: f
            .category
            .value()
            .and_then(|c| Category::parse(&c))
            .unwrap_or_default(),
        created_by: user.id,
        assigned_team: f.assigned_team.value().filter(|s| !s.is_empty()),
        response_due_at: Some(
            f.response_due_at
                .value()
                .unwrap_or_else(|| crate::domain::ticket::response_due_at(priority, at)),
        ),
        resolution_due_at: f.resolution_due_at.value(),
        estimated_resolution_time: f.estimated_resolution_time.value(),
    };
    let mut planned = crate::notify::plan_create(&state.db, &new, &user, &transition).await?;
    let id = store::create(&state.db, &new, &planned.rows, at).await?;
    planned.set_ticket_id(id);
    crate::notify::committed(&state.db, &state.outbox, &state.push, planned).await;
    tracing::info!(ticket_id = id, by = user.id, "ticket created");
    let body = json!({
        "id": id,
        "project_name": new.project_name,
        "priority_display": new.priority.label(),
        "category_display": new.category.label(),
        "status_display": Status::New.label(),
        "created_by": user.id,
        "created_by_name": user.display_name(),
        "response_due_at": new.response_due_at.as_ref().map(format_dtiso),
        "response_sla_minutes": new.priority.response_sla_minutes(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn retrieve(
    State(state): State<AppState>,
    user: AuthUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    Ok(Json(
        detail_json(&state, &t, &base_url(&state, &headers)).await?,
    ))
}

async fn edit(
    state: AppState,
    user: AuthUser,
    headers: axum::http::HeaderMap,
    id: String,
    body: RawBody,
    put: bool,
) -> Result<Json<Value>> {
    user.require_admin()?;
    let data = body.parse().await?;
    if data.contains_key("status") {
        return Err(Error::Invalid(
            "Status cannot be changed directly. Use action endpoints (open_ticket, start_work, finish_work, approve, reject).".into(),
        ));
    }
    if data.contains_key("assigned_to") {
        return Err(Error::Invalid(
            "Assignment cannot be changed directly. Use assign action endpoint.".into(),
        ));
    }
    let t = load(&state, &user, &id).await?;
    let f = ticket_fields(&data, put, true)?;
    let mut u = TicketUpdate::from_row(&t);
    if let Some(v) = f.title.value() {
        u.title = v;
    }
    if let Some(v) = f.description.value() {
        u.description = v;
    }
    if let Some(v) = f.project_name.value() {
        u.project_name = v;
    }
    if let Some(p) = f.priority.value().and_then(|p| Priority::parse(&p)) {
        u.priority = p;
    }
    if let Some(c) = f.category.value().and_then(|c| Category::parse(&c)) {
        u.category = c;
    }
    match f.assigned_team {
        Field::Value(v) => u.assigned_team = Some(v).filter(|s| !s.is_empty()),
        Field::Null => u.assigned_team = None,
        _ => {}
    }
    for (field, slot) in [
        (f.response_due_at, &mut u.response_due_at),
        (f.resolution_due_at, &mut u.resolution_due_at),
        (
            f.estimated_resolution_time,
            &mut u.estimated_resolution_time,
        ),
    ] {
        match field {
            Field::Value(v) => *slot = Some(v),
            Field::Null => *slot = None,
            _ => {}
        }
    }
    let at = now();
    refresh_flags(&t, &mut u, at);
    match store::save(&state.db, t.id, t.version, &u, at).await {
        Ok(()) => {}
        Err(WriteError::Stale) => {
            return Err(Error::Custom(
                StatusCode::CONFLICT,
                json!({"detail": "The ticket was changed by someone else at the same time. Reload it and try again."}),
            ))
        }
        Err(WriteError::Db(e)) => return Err(e.into()),
    }
    let t = load(&state, &user, &id).await?;
    Ok(Json(
        detail_json(&state, &t, &base_url(&state, &headers)).await?,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Value>> {
    edit(state, user, headers, id, body, true).await
}

pub async fn partial_update(
    State(state): State<AppState>,
    user: AuthUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Value>> {
    edit(state, user, headers, id, body, false).await
}

pub async fn destroy(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    user.require_admin()?;
    let t = load(&state, &user, &id).await?;
    store::delete(&state.db, t.id).await?;
    tracing::info!(ticket_id = t.id, by = user.id, "ticket deleted");
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Workflow steps

/// Raises the breach flags a save deserves; a raised flag is never lowered, including one that
/// so far only showed on reading: a deadline that passed stays missed when a save moves it later.
fn refresh_flags(t: &TicketRow, u: &mut TicketUpdate, at: DateTime<Utc>) {
    let (response_was, resolution_was) = breach_flags(t, at);
    u.response_breached =
        response_was || response_breached(u.status, u.response_due_at, u.opened_at, at);
    u.resolution_breached =
        resolution_was || resolution_breached(u.status, u.resolution_due_at, u.resolved_at, at);
}

/// The row after a transition: new status, first-time stamp, refreshed flags.
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
    make: impl Fn(&TicketRow) -> Action,
    adjust: impl Fn(&mut TicketUpdate),
) -> Result<(TicketRow, Transition)> {
    const ATTEMPTS: usize = 5;
    for _ in 0..ATTEMPTS {
        let ts = workflow_state(&ticket);
        let tr = workflow::apply(&ts, &actor(user), make(&ticket), now())?;
        let mut u = updated_row(&ticket, &tr);
        adjust(&mut u);
        refresh_flags(&ticket, &mut u, tr.at);
        let planned =
            crate::notify::plan_step(&state.db, &ticket, &u, &ts.assigned_to, &tr).await?;
        match store::commit_step(&state.db, &ticket, user.id, &tr, &u, &planned.rows).await {
            Ok(()) => {
                crate::notify::committed(&state.db, &state.outbox, &state.push, planned).await;
                tracing::info!(ticket_id = ticket.id, by = user.id, from = %tr.from, to = %tr.to, "workflow step");
                return Ok((ticket, tr));
            }
            Err(WriteError::Db(e)) => return Err(e.into()),
            Err(WriteError::Stale) => {
                ticket = store::get(&state.db, ticket.id, scope(user))
                    .await?
                    .ok_or(Error::NotFound("Ticket"))?;
            }
        }
    }
    Err(Error::Custom(
        StatusCode::CONFLICT,
        json!({"detail": "The ticket is being changed by others right now. Try again."}),
    ))
}

/// `open_ticket` and `assign` refuse non-admins before looking the ticket up.
fn check_before_lookup(user: &AuthUser, kind: ActionKind) -> Result<()> {
    workflow::check_before_lookup(&actor(user), kind).map_err(Error::from)
}

pub async fn open_ticket(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    check_before_lookup(&user, ActionKind::Open)?;
    let t = load(&state, &user, &id).await?;
    let (t, tr) = run_step(&state, &user, t, |_| Action::Open, |_| {}).await?;
    Ok(Json(
        json!({"message": "Ticket opened successfully", "id": t.id, "title": t.title, "status_display": tr.to.label()}),
    ))
}

/// Form bodies carry `assigned_to` as repeated keys and empty dates as "": make them the JSON
/// the validator reads, as DRF's form parsing does.
fn normalize_form_assign(body: &RawBody, mut data: Map<String, Value>) -> Map<String, Value> {
    let form = matches!(
        body.media_type().as_deref(),
        Some("application/x-www-form-urlencoded" | "multipart/form-data")
    );
    if form {
        if let Some(v @ Value::String(_)) = data.get_mut("assigned_to") {
            *v = Value::Array(vec![v.take()]);
        }
        for key in ["resolution_due_at", "estimated_resolution_time"] {
            if let Some(v) = data.get_mut(key) {
                if v.as_str() == Some("") {
                    *v = Value::Null;
                }
            }
        }
    }
    data
}

pub async fn assign(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Value>> {
    check_before_lookup(&user, ActionKind::Assign)?;
    let t = load(&state, &user, &id).await?;
    let data = normalize_form_assign(&body, body.parse().await?);
    let input = validate_assign(&data, now()).map_err(Error::Validation)?;
    let found = store::developers_among(&state.db, &input.developer_ids).await?;
    if found.len() != input.developer_ids.len() {
        return Err(Error::Invalid(INVALID_DEVELOPERS.into()));
    }
    let developers: Vec<Developer> = found
        .iter()
        .map(|p| Developer {
            id: p.id,
            name: display_name(&p.first_name, &p.last_name, &p.username),
        })
        .collect();
    let (resolution, estimate) = (input.resolution_due_at, input.estimated_resolution_time);
    let (t, tr) = run_step(
        &state,
        &user,
        t,
        |_| Action::Assign {
            developers: developers.clone(),
        },
        |u| {
            u.resolution_due_at = resolution.apply_to(u.resolution_due_at);
            u.estimated_resolution_time = estimate.apply_to(u.estimated_resolution_time);
        },
    )
    .await?;
    let names = tr
        .assignment
        .as_ref()
        .map(|a| a.names.clone())
        .unwrap_or_default();
    Ok(Json(
        json!({"message": "Developers assigned successfully", "id": t.id, "title": t.title, "assigned_to_names": names}),
    ))
}

pub async fn start_work(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let (t, tr) = run_step(&state, &user, t, |_| Action::StartWork, |_| {}).await?;
    Ok(Json(json!({
        "message": "Status updated successfully",
        "id": t.id,
        "project_name": t.project_name,
        "status_display": tr.to.label(),
        "estimated_resolution_time": t.estimated_resolution_time.as_ref().map(format_dtiso),
    })))
}

fn comment_input(data: &Map<String, Value>) -> TextInput {
    crate::http::body::text_input(data.get("comment"))
}

/// The body of a step that reads one: DRF parses it only when the view first touches it, after
/// the role and status checks, so those answers come before a parse error. `probe` is the action
/// with a body that passes validation, used only to run those checks.
async fn body_after_checks(
    user: &AuthUser,
    t: &TicketRow,
    body: &RawBody,
    probe: Action,
) -> Result<Map<String, Value>> {
    match body.parse().await {
        Ok(data) => Ok(data),
        Err(parse_error) => {
            let ts = workflow_state(t);
            workflow::apply(&ts, &actor(user), probe, now())?;
            Err(parse_error)
        }
    }
}

pub async fn finish_work(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let probe = Action::FinishWork {
        comment: TextInput::Missing,
    };
    let comment = comment_input(&body_after_checks(&user, &t, &body, probe).await?);
    let (t, tr) = run_step(
        &state,
        &user,
        t,
        |_| Action::FinishWork {
            comment: comment.clone(),
        },
        |_| {},
    )
    .await?;
    Ok(Json(
        json!({"message": "Status updated successfully", "id": t.id, "project_name": t.project_name, "status_display": tr.to.label()}),
    ))
}

pub async fn approve(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let (t, tr) = run_step(&state, &user, t, |_| Action::Approve, |_| {}).await?;
    Ok(Json(
        json!({"message": "Status updated to Closed", "id": t.id, "project_name": t.project_name, "status_display": tr.to.label()}),
    ))
}

pub async fn reject(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let probe = Action::Reject {
        reason: TextInput::from("a reason long enough"),
    };
    let reason = comment_input(&body_after_checks(&user, &t, &body, probe).await?);
    let (t, tr) = run_step(
        &state,
        &user,
        t,
        |_| Action::Reject {
            reason: reason.clone(),
        },
        |_| {},
    )
    .await?;
    Ok(Json(
        json!({"message": "Status updated to In Progress", "id": t.id, "project_name": t.project_name, "status_display": tr.to.label()}),
    ))
}

/// Every developer, for the admin's assignment picker (admins only: the original leaked it).
pub async fn developers(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>> {
    user.require_admin()?;
    let rows = store::all_developers(&state.db).await?;
    Ok(Json(Value::Array(
        rows.iter().map(user_brief_json).collect(),
    )))
}

pub async fn add_comment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let data = body.parse().await?;
    let mut f = Fields::new(&data);
    let comment = f.str("comment", Str::required().max(2000));
    if let Field::Value(c) = &comment {
        if c.chars().count() < 3 {
            f.error("comment", "Comment must be at least 3 characters");
        }
    }
    f.finish()?;
    let entry = HistoryEntry {
        status_from: Some(t.status),
        status_to: t.status,
        comment: comment.value().unwrap_or_default(),
    };
    store::add_comment(&state.db, t.id, user.id, &entry, now()).await?;
    Ok(Json(json!({"message": "Comment added successfully"})))
}

// ---------------------------------------------------------------------------------------------
// Attachments

fn may_upload(user: &AuthUser, t: &TicketRow, assigned: &[i64]) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Support => assigned.contains(&user.id),
        Role::Client => t.created_by_id == user.id,
    }
}

pub async fn add_attachment(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    body: RawBody,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let ts = workflow_state(&t);
    if !may_upload(&user, &t, &ts.assigned_to) {
        return Err(Error::Refused(
            "You do not have permission to add attachments to this ticket".into(),
        ));
    }
    let required = || Error::Invalid("file_data is required".into());
    let invalid = || Error::Invalid("Invalid file data provided".into());
    let file = if body.media_type().as_deref() == Some("multipart/form-data") {
        let parts = body.parts().await?;
        let part = parts
            .into_iter()
            .rev()
            .find(|p| p.name == "file_data")
            .ok_or_else(required)?;
        if part.filename.is_none() {
            return Err(if part.data.is_empty() {
                required()
            } else {
                invalid()
            });
        }
        part
    } else {
        let data = body.parse().await?;
        return Err(match data.get("file_data") {
            None | Some(Value::Null) => required(),
            Some(Value::String(s)) if s.is_empty() => required(),
            Some(_) => invalid(),
        });
    };
    let limit = state.config.max_attachment_bytes;
    if file.data.len() > limit {
        return Err(Error::PayloadTooLarge(format!(
            "File too large: {} bytes; the limit is {limit} bytes.",
            file.data.len()
        )));
    }
    let new = store::NewAttachment {
        ticket_id: t.id,
        uploaded_by: user.id,
        data: file.data.to_vec(),
        filename: file.filename.map(|f| f.chars().take(255).collect()),
        content_type: file.content_type.map(|c| c.chars().take(255).collect()),
    };
    let attachment_id = store::add_attachment(&state.db, &new, now()).await?;
    Ok(Json(json!({
        "message": format!("Attachment uploaded to ticket #{} successfully", t.id),
        "ticket_id": t.id,
        "attachment_id": attachment_id,
    })))
}

pub async fn get_attachments(
    State(state): State<AppState>,
    user: AuthUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let rows = store::attachments(&state.db, t.id).await?;
    let base = base_url(&state, &headers);
    Ok(Json(json!({
        "ticket_id": t.id,
        "ticket_title": t.title,
        "attachments_count": rows.len(),
        "attachments": rows.iter().map(|a| attachment_json(a, &base)).collect::<Vec<_>>(),
    })))
}

async fn load_attachment(state: &AppState, t: &TicketRow, raw: &str) -> Result<AttachmentRow> {
    let not_found = || Error::Missing("Attachment not found".into());
    // The original answered 500 for a non-numeric id.
    let id = raw.parse::<i64>().map_err(|_| not_found())?;
    store::attachment(&state.db, t.id, id)
        .await?
        .ok_or_else(not_found)
}

pub async fn delete_attachment(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let t = load(&state, &user, &id).await?;
    let a = load_attachment(&state, &t, &attachment_id).await?;
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
    Ok(Json(
        json!({"message": "Attachment deleted successfully", "attachment_id": a.id}),
    ))
}

/// The raw bytes with their content type (the original only offered base64 inside JSON).
pub async fn download_attachment(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response> {
    let t = load(&state, &user, &id).await?;
    let a = load_attachment(&state, &t, &attachment_id).await?;
    let ct = a
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let name: String = a
        .filename
        .as_deref()
        .unwrap_or("attachment")
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let mut resp = Response::new(HttpBody::from(a.file_data));
    resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    resp.headers_mut()
        .insert(header::CONTENT_DISPOSITION, disposition);
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
