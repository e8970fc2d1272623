//! Tickets pages: the board by status, the filterable list, and a ticket's page with its
//! history, comments, attachments, assignees and SLA state, and a button for each workflow step
//! the admin may take now. Steps go through `service::tickets::step`, as the API's do, so they
//! write the same history and notifications.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::pager::pager;
use super::render::{page, ConsoleError};
use super::session::{Console, ConsoleForm, CSRF_FIELD};
use crate::db::ticket_list::ListFilter;
use crate::db::tickets::TicketRow;
use crate::domain::assign::Patch;
use crate::domain::datetime::{format_short, now};
use crate::domain::ticket::{display_name, Category, Priority, Status};
use crate::domain::workflow::{ActionKind, TextInput};
use crate::service::console::ConsoleSession;
use crate::service::tickets::{self as service, AssignInput, Step};
use crate::state::AppState;

const PAGE_SIZE: i64 = 25;
const BOARD_COLUMN: i64 = 8;

#[derive(Debug, Default, Deserialize)]
pub struct TicketQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    q: String,
    page: Option<i64>,
    done: Option<String>,
}

/// A ticket as a list row or board card shows it.
#[derive(Debug, Serialize)]
struct TicketCard {
    id: i64,
    title: String,
    status: &'static str,
    status_label: &'static str,
    priority: &'static str,
    category: &'static str,
    created_by: String,
    created_at: String,
    assignees: Vec<String>,
    breached: bool,
}

impl From<&TicketRow> for TicketCard {
    fn from(t: &TicketRow) -> TicketCard {
        let (response, resolution) = service::breach_flags(t, now());
        TicketCard {
            id: t.id,
            title: t.title.clone(),
            status: t.status.as_str(),
            status_label: t.status.label(),
            priority: t.priority.label(),
            category: t.category.label(),
            created_by: display_name(
                &t.creator_first_name,
                &t.creator_last_name,
                &t.creator_username,
            ),
            created_at: format_short(Some(&t.created_at)),
            assignees: t
                .assignees()
                .iter()
                .map(|p| display_name(&p.first_name, &p.last_name, &p.username))
                .collect(),
            breached: response || resolution,
        }
    }
}

fn choices() -> Value {
    json!({
        "statuses": Status::ALL.iter().map(|s| (s.as_str(), s.label())).collect::<Vec<_>>(),
        "priorities": Priority::ALL.iter().map(|s| (s.as_str(), s.label())).collect::<Vec<_>>(),
        "categories": Category::ALL.iter().map(|s| (s.as_str(), s.label())).collect::<Vec<_>>(),
    })
}

fn filter_of(q: &TicketQuery) -> ListFilter {
    ListFilter {
        statuses: Status::parse(&q.status).into_iter().collect(),
        priorities: Priority::parse(&q.priority).into_iter().collect(),
        categories: Category::parse(&q.category).into_iter().collect(),
        search: Some(q.q.trim().to_string()).filter(|s| !s.is_empty()),
        order_by: None,
    }
}

/// `GET /admin/tickets/`
pub async fn list(
    State(state): State<AppState>,
    Console(s): Console,
    Query(q): Query<TicketQuery>,
) -> Result<Response, ConsoleError> {
    let filter = filter_of(&q);
    let number = q.page.unwrap_or(1).max(1);
    let total = service::count(&state, &s.user, &filter).await?;
    let rows = service::list(
        &state,
        &s.user,
        &filter,
        (number - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    let query = [
        ("status", q.status.as_str()),
        ("priority", q.priority.as_str()),
        ("category", q.category.as_str()),
        ("q", q.q.as_str()),
    ];
    let pager = pager("/admin/tickets/", &query, number, PAGE_SIZE, total);
    let tickets: Vec<TicketCard> = rows.iter().map(TicketCard::from).collect();
    let ctx = json!({
        "tickets": tickets, "total": total, "choices": choices(),
        "f": {"status": q.status, "priority": q.priority, "category": q.category, "q": q.q},
        "pager": pager,
    });
    Ok(page(&s, "tickets.html", "tickets", ctx)?.into_response())
}

/// `GET /admin/tickets/board/`: the newest tickets of each status (one bounded query each).
pub async fn board(
    State(state): State<AppState>,
    Console(s): Console,
) -> Result<Response, ConsoleError> {
    let mut columns = Vec::new();
    for status in Status::ALL {
        let filter = ListFilter {
            statuses: vec![status],
            ..ListFilter::default()
        };
        let rows = service::list(&state, &s.user, &filter, 0, BOARD_COLUMN).await?;
        let total = service::count(&state, &s.user, &filter).await?;
        let cards: Vec<TicketCard> = rows.iter().map(TicketCard::from).collect();
        columns.push(json!({"status": status.as_str(), "label": status.label(),
            "total": total, "tickets": cards}));
    }
    let ctx = json!({ "board": columns, "choices": choices(), "f": {} });
    Ok(page(&s, "tickets.html", "tickets", ctx)?.into_response())
}

/// The steps offered as buttons, in workflow order.
const STEPS: [(ActionKind, &str, &str); 6] = [
    (ActionKind::Open, "open", "Open"),
    (ActionKind::Assign, "assign", "Assign"),
    (ActionKind::StartWork, "start_work", "Start work"),
    (ActionKind::FinishWork, "finish_work", "Finish work"),
    (ActionKind::Approve, "approve", "Approve and close"),
    (ActionKind::Reject, "reject", "Reject"),
];

async fn ticket_page(
    state: &AppState,
    s: &ConsoleSession,
    t: TicketRow,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let allowed: Vec<&str> = STEPS
        .iter()
        .filter(|(kind, _, _)| service::check_step(&s.user, &t, *kind).is_ok())
        .map(|(_, name, _)| *name)
        .collect();
    let (full, developers) =
        tokio::try_join!(service::full(state, t), service::developers(state, &s.user))?;
    let ctx = super::ticket_view::context(&full, &developers, &allowed, &STEPS, notice, error);
    Ok(page(s, "ticket.html", "tickets", ctx)?.into_response())
}

/// `GET /admin/tickets/{id}/`
pub async fn retrieve(
    State(state): State<AppState>,
    Console(s): Console,
    Path(id): Path<i64>,
    Query(q): Query<TicketQuery>,
) -> Result<Response, ConsoleError> {
    let t = service::get(&state, &s.user, id).await?;
    ticket_page(&state, &s, t, q.done, None).await
}

/// The step a button names, with its input from the form.
fn step_of(action: &str, form: &[(String, String)]) -> Option<Step> {
    let text = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or(TextInput::Missing, |(_, v)| TextInput::from(v.as_str()))
    };
    Some(match action {
        "open" => Step::Open,
        "assign" => Step::Assign(AssignInput {
            developer_ids: form
                .iter()
                .filter(|(k, _)| k == "developers")
                .filter_map(|(_, v)| v.parse().ok())
                .collect(),
            resolution_due_at: Patch::Unchanged,
            estimated_resolution_time: Patch::Unchanged,
        }),
        "start_work" => Step::StartWork,
        "finish_work" => Step::FinishWork {
            comment: text("comment"),
        },
        "approve" => Step::Approve,
        "reject" => Step::Reject {
            reason: text("reason"),
        },
        _ => return None,
    })
}

/// `POST /admin/tickets/{id}/step/{action}/`
pub async fn take_step(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    ConsoleForm(s, form): ConsoleForm<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let t = service::get(&state, &s.user, id).await?;
    let Some(step) = step_of(&action, &form) else {
        return Err(crate::error::Error::NoSuchRoute.into());
    };
    if matches!(&step, Step::Assign(a) if a.developer_ids.is_empty()) {
        let e = "Pick at least one developer to assign.".to_string();
        return ticket_page(&state, &s, t, None, Some(e)).await;
    }
    match service::step(&state, &s.user, t.clone(), step).await {
        Ok(done) => {
            let to = done.transition.to.label();
            let msg: String = form_urlencoded::byte_serialize(
                format!("Done: the ticket is now {to}.").as_bytes(),
            )
            .collect();
            Ok(Redirect::to(&format!("/admin/tickets/{id}/?done={msg}")).into_response())
        }
        Err(e) if e.status().is_client_error() => {
            let message = super::render::message_of(&e);
            ticket_page(&state, &s, t, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/tickets/{id}/comment/`: the API's comment, with its validation.
pub async fn comment(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ConsoleForm(s, form): ConsoleForm<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let t = service::get(&state, &s.user, id).await?;
    let body: Map<String, Value> = form
        .iter()
        .filter(|(k, _)| k == "comment" && k != CSRF_FIELD)
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let done = match crate::http::tickets::actions::comment_text(&body) {
        Ok(text) => service::comment(&state, &s.user, &t, text).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(
            Redirect::to(&format!("/admin/tickets/{id}/?done=Comment%20added.")).into_response(),
        ),
        Err(e) if e.status().is_client_error() => {
            let message = super::render::message_of(&e);
            ticket_page(&state, &s, t, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/tickets/{id}/attachments/{attachment_id}/`: the file, as a download.
pub async fn download(
    State(state): State<AppState>,
    Console(s): Console,
    Path((id, attachment_id)): Path<(i64, i64)>,
) -> Result<Response, ConsoleError> {
    let t = service::get(&state, &s.user, id).await?;
    let (a, data) = service::download(&state, &t, attachment_id).await?;
    let name = a
        .filename
        .unwrap_or_else(|| format!("attachment-{attachment_id}"));
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .collect();
    let disposition = format!("attachment; filename=\"{safe}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        data,
    )
        .into_response())
}
