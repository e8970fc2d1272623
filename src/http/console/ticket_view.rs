//! What a ticket's page shows: its facts, SLA state, assignees, history (status changes and
//! comments), attachments, and the forms of the steps the admin may take now.

use serde_json::{json, Value};

use crate::db::users::UserRow;
use crate::domain::datetime::format_short;
use crate::domain::ticket::{display_name, Status};
use crate::domain::workflow::ActionKind;
use crate::service::tickets::TicketFull;

fn when(t: Option<&chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| format_short(Some(t)))
}

/// The page's context.
pub fn context(
    full: &TicketFull,
    developers: &[UserRow],
    allowed: &[&str],
    steps: &[(ActionKind, &str, &str)],
    notice: Option<String>,
    error: Option<String>,
) -> Value {
    let t = &full.ticket;
    let assigned: Vec<i64> = t.assignees().iter().map(|p| p.id).collect();
    let history: Vec<Value> = full
        .history
        .iter()
        .map(|h| {
            json!({
                "by": display_name(&h.first_name, &h.last_name, &h.username),
                "from": h.status_from.as_deref().map(Status::label_of),
                "to": Status::label_of(&h.status_to),
                "is_comment": h.status_from.as_deref() == Some(h.status_to.as_str()),
                "comment": h.comment,
                "at": format_short(Some(&h.timestamp)),
            })
        })
        .collect();
    let attachments: Vec<Value> = full
        .attachments
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "filename": a.filename.clone().unwrap_or_else(|| format!("attachment-{}", a.id)),
                "size": a.size, "by": display_name(&a.first_name, &a.last_name, ""),
                "at": format_short(Some(&a.uploaded_at)),
            })
        })
        .collect();
    let developers: Vec<Value> = developers
        .iter()
        .filter(|d| d.is_active)
        .map(|d| {
            json!({"id": d.id, "name": display_name(&d.first_name, &d.last_name, &d.username),
                        "assigned": assigned.contains(&d.id)})
        })
        .collect();
    let steps: Vec<Value> = steps
        .iter()
        .filter(|(_, name, _)| allowed.contains(name))
        .map(|(_, name, label)| json!({"name": name, "label": label}))
        .collect();
    json!({
        "t": {
            "id": t.id, "title": t.title, "description": t.description, "project": t.project_name,
            "status": t.status.as_str(), "status_label": t.status.label(),
            "priority": t.priority.label(), "category": t.category.label(),
            "created_by": display_name(&t.creator_first_name, &t.creator_last_name, &t.creator_username),
            "created_at": format_short(Some(&t.created_at)),
            "assignees": t.assignees().iter().map(|p| display_name(&p.first_name, &p.last_name, &p.username)).collect::<Vec<_>>(),
            "response_due_at": when(t.response_due_at.as_ref()),
            "resolution_due_at": when(t.resolution_due_at.as_ref()),
            "response_breached": full.response_breached,
            "resolution_breached": full.resolution_breached,
        },
        "history": history, "attachments": attachments, "developers": developers,
        "steps": steps, "notice": notice, "error": error,
    })
}
