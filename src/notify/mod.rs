//! Notifications: workflow events to messages (`events`, `templates`), written to the outbox in
//! the step's transaction, then delivered by the `worker` through a `provider`.

pub mod events;
pub mod fallback;
pub mod preferences;
pub mod provider;
pub mod push;
pub mod reconcile;
pub mod sessions;
pub mod templates;
pub mod worker;

use crate::auth::AuthUser;
use crate::db::notifications::NewNotification;
use crate::db::tickets::{NewTicket, TicketRow, TicketUpdate};
use crate::db::users::UserRow;
use crate::db::Db;
use crate::domain::ticket::{display_name, Status};
use crate::domain::workflow::Transition;
use crate::error::Result;
use events::{People, Recipient};
use templates::{Templates, TicketFacts};

fn recipient(u: &UserRow) -> Recipient {
    Recipient {
        id: u.id,
        username: u.username.clone(),
        name: display_name(&u.first_name, &u.last_name, &u.username),
        whatsapp: u.whatsapp_number.clone().filter(|n| !n.is_empty()),
        email: Some(u.email.trim().to_string()).filter(|e| !e.is_empty()),
        is_active: u.is_active,
    }
}

/// Loads the admins, the creator and the developers in one query and sorts them into roles.
pub async fn people(db: &Db, creator: i64, developers: &[i64]) -> Result<People> {
    let mut ids = vec![creator];
    ids.extend_from_slice(developers);
    let rows = crate::db::users::admins_and(db, &ids).await?;
    Ok(People {
        creator: rows.iter().find(|u| u.id == creator).map(recipient),
        admins: rows
            .iter()
            .filter(|u| u.role == crate::domain::user::Role::Admin)
            .map(recipient)
            .collect(),
        developers: rows
            .iter()
            .filter(|u| developers.contains(&u.id))
            .map(recipient)
            .collect(),
    })
}

fn dev_names(people: &People) -> String {
    if people.developers.is_empty() {
        "Team".to_string()
    } else {
        people
            .developers
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a step will enqueue, and what its commit will push to connected clients.
pub struct Planned {
    pub rows: Vec<NewNotification>,
    events: Vec<crate::domain::workflow::Event>,
    snapshot: push::TicketSnapshot,
}

/// A ticket creation's notifications, waiting for the ticket's id: their texts (numbers, links)
/// are rendered in the insert's transaction, once the id is known.
pub struct PlannedCreate {
    facts: TicketFacts,
    people: People,
    /// The recipients' preferences, and when the step happened (for quiet hours).
    preferences: std::collections::HashMap<i64, crate::domain::preferences::Preferences>,
    at: chrono::DateTime<chrono::Utc>,
    events: Vec<crate::domain::workflow::Event>,
    snapshot: push::TicketSnapshot,
}

impl PlannedCreate {
    /// The rows of the ticket the insert numbered `id`.
    pub fn rows(&self, templates: &Templates, id: i64) -> Vec<NewNotification> {
        let facts = TicketFacts {
            id,
            ..self.facts.clone()
        };
        let mut rows = self
            .events
            .iter()
            .flat_map(|e| events::plan(templates, e, &facts, &self.people))
            .collect();
        preferences::apply_loaded(&mut rows, &self.preferences, self.at);
        rows
    }

    /// What the committed creation enqueued.
    pub fn created(self, id: i64, rows: Vec<NewNotification>) -> Planned {
        let mut snapshot = self.snapshot;
        snapshot.id = id;
        Planned {
            rows,
            events: self.events,
            snapshot,
        }
    }
}

fn names_of(people: &People, ids: &[i64]) -> Vec<String> {
    people
        .developers
        .iter()
        .filter(|d| ids.contains(&d.id))
        .map(|d| d.name.clone())
        .collect()
}

/// The rows the transition's events write, after the recipients' preferences (one query).
async fn planned_rows(
    db: &Db,
    templates: &Templates,
    tr: &Transition,
    facts: &TicketFacts,
    people: &People,
) -> Result<Vec<NewNotification>> {
    let mut rows: Vec<NewNotification> = tr
        .events
        .iter()
        .flat_map(|e| events::plan(templates, e, facts, people))
        .collect();
    preferences::apply(db, &mut rows, tr.at).await?;
    Ok(rows)
}

/// The notifications a ticket creation enqueues (rendered once the ticket has its id).
pub async fn plan_create(
    db: &Db,
    t: &NewTicket,
    by: &AuthUser,
    tr: &Transition,
) -> Result<PlannedCreate> {
    let people = people(db, by.id, &[]).await?;
    let facts = TicketFacts {
        id: 0,
        title: t.title.clone(),
        project: t.project_name.clone(),
        description: t.description.clone(),
        priority: t.priority,
        category: t.category,
        status: Status::New,
        creator_name: by.display_name(),
        dev_names: dev_names(&people),
        resolution_due_at: t.resolution_due_at,
        estimated_resolution_at: t.estimated_resolution_time,
    };
    let snapshot = push::TicketSnapshot {
        id: 0,
        title: t.title.clone(),
        description: t.description.clone(),
        project: t.project_name.clone(),
        priority: t.priority,
        category: t.category,
        status: Status::New,
        creator_name: by.display_name(),
        created_at: tr.at,
        opened_at: None,
        started_at: None,
        resolved_at: None,
        closed_at: None,
        resolution_due_at: t.resolution_due_at,
        newly_assigned_names: Vec::new(),
    };
    // Loaded now: the rows are rendered inside the insert's transaction, once the id is known.
    let recipients: Vec<i64> = people.everyone().map(|r| r.id).collect();
    let preferences = crate::db::preferences::load(db, &recipients).await?;
    Ok(PlannedCreate {
        facts,
        people,
        preferences,
        at: tr.at,
        events: tr.events.clone(),
        snapshot,
    })
}

/// What the texts say about a ticket after a step (`after`; for a preview, the ticket as it is).
pub fn facts_after(before: &TicketRow, after: &TicketUpdate, people: &People) -> TicketFacts {
    TicketFacts {
        id: before.id,
        title: after.title.clone(),
        project: after.project_name.clone(),
        description: after.description.clone(),
        priority: after.priority,
        category: after.category,
        status: after.status,
        creator_name: display_name(
            &before.creator_first_name,
            &before.creator_last_name,
            &before.creator_username,
        ),
        dev_names: dev_names(people),
        resolution_due_at: after.resolution_due_at,
        estimated_resolution_at: after.estimated_resolution_time,
    }
}

/// The notification rows a workflow step enqueues; `assigned` is the set before the step.
pub async fn plan_step(
    db: &Db,
    templates: &Templates,
    before: &TicketRow,
    after: &TicketUpdate,
    assigned: &[i64],
    tr: &Transition,
) -> Result<Planned> {
    let developers = tr
        .assignment
        .as_ref()
        .map(|a| a.new_set.as_slice())
        .unwrap_or(assigned);
    let people = if tr.events.is_empty() {
        People::default()
    } else {
        people(db, before.created_by_id, developers).await?
    };
    let facts = facts_after(before, after, &people);
    let newly = tr
        .assignment
        .as_ref()
        .map(|a| a.newly_added.as_slice())
        .unwrap_or(&[]);
    let snapshot = push::TicketSnapshot {
        id: before.id,
        title: after.title.clone(),
        description: after.description.clone(),
        project: after.project_name.clone(),
        priority: after.priority,
        category: after.category,
        status: after.status,
        creator_name: facts.creator_name.clone(),
        created_at: before.created_at,
        opened_at: after.opened_at,
        started_at: after.started_at,
        resolved_at: after.resolved_at,
        closed_at: after.closed_at,
        resolution_due_at: after.resolution_due_at,
        newly_assigned_names: names_of(&people, newly),
    };
    let rows = planned_rows(db, templates, tr, &facts, &people).await?;
    Ok(Planned {
        rows,
        events: tr.events.clone(),
        snapshot,
    })
}

/// After a step committed its rows: count them, wake this process's worker (`wake`) and the other
/// replicas', push the in-app ones to connected clients (`hub`).
pub async fn committed(db: &Db, wake: &tokio::sync::Notify, hub: &push::Hub, planned: Planned) {
    let rows = &planned.rows;
    for channel in ["EMAIL", "WHATSAPP", "SYSTEM"] {
        let n = rows
            .iter()
            .filter(|r| r.notification_type == channel)
            .count() as u64;
        if n > 0 {
            crate::telemetry::record_enqueued(channel, n);
        }
    }
    let deliver = rows.iter().any(|r| r.status == "PENDING");
    if deliver {
        // This process's worker at once; the other replicas' through `publish`.
        wake.notify_one();
    }
    let pushes = push::pushes(&planned.events, rows, &planned.snapshot);
    if !pushes.is_empty() || deliver {
        push::publish(db, hub, pushes, deliver).await;
    }
}
