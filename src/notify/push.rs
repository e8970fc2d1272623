//! Real-time push of in-app (SYSTEM) notifications to connected WebSocket and SSE clients, and
//! the end of a user's sessions when their access ends. On PostgreSQL every replica forwards
//! `NOTIFY` messages to its own clients (`db::listen`), so a row written by one replica reaches
//! users connected to another, and a deactivation on one replica closes the user's sessions on
//! all; SQLite deployments are one process.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::auth::cache::AuthCache;
use crate::db::listen::{self, WAKE_CHANNEL};
use crate::db::notifications::NewNotification;
use crate::db::Db;
use crate::domain::datetime::format_py_iso;
use crate::domain::ticket::{Category, Priority, Status};
use crate::domain::workflow::Event;
use crate::notify::sessions::{Sessions, SessionsEnded};

pub use crate::db::listen::PUSH_CHANNEL;
/// `NOTIFY` payloads must stay under 8000 bytes.
const MAX_NOTIFY_BYTES: usize = 7900;

/// One message for one user.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Push {
    pub recipient: i64,
    pub payload: Value,
}

pub type Hub = broadcast::Sender<Arc<Push>>;

/// A message on `PUSH_CHANNEL`: `{"kind": "push", "recipient": .., "payload": ..}` or
/// `{"kind": "sessions_ended", "user_id": .., "issued_up_to": .., "why": ..}`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Broadcast<'a> {
    Push(std::borrow::Cow<'a, Push>),
    SessionsEnded(SessionsEnded),
}

impl Broadcast<'static> {
    /// Reads a message; one without `kind` is a push from a replica of the previous version.
    fn parse(text: &str) -> serde_json::Result<Broadcast<'static>> {
        serde_json::from_str(text).or_else(|e| match serde_json::from_str::<Push>(text) {
            Ok(p) => Ok(Broadcast::Push(std::borrow::Cow::Owned(p))),
            Err(_) => Err(e),
        })
    }
}

pub fn hub() -> Hub {
    broadcast::channel(1024).0
}

/// What the push messages say about the ticket (contract §13).
#[derive(Debug, Clone)]
pub struct TicketSnapshot {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub project: String,
    pub priority: Priority,
    pub category: Category,
    pub status: Status,
    pub creator_name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub opened_at: Option<chrono::DateTime<chrono::Utc>>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub resolution_due_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `name(u)` of the developers an assignment added.
    pub newly_assigned_names: Vec<String>,
}

fn iso(t: &Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.as_ref()
        .map(|t| Value::String(format_py_iso(t)))
        .unwrap_or(Value::Null)
}

/// The `ticket` object of a push, with the keys the original sent for each event.
pub fn ticket_json(event: &Event, t: &TicketSnapshot) -> Value {
    let base = |extra: Value| {
        let mut v = json!({"id": t.id, "title": t.title, "status": t.status.as_str(), "status_display": t.status.label()});
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        v
    };
    match event {
        Event::TicketCreated => json!({
            "id": t.id, "title": t.title, "priority": t.priority.as_str(), "priority_display": t.priority.label(),
            "category": t.category.as_str(), "category_display": t.category.label(), "status": t.status.as_str(),
            "status_display": t.status.label(), "created_by": t.creator_name, "project_name": t.project,
            "created_at": format_py_iso(&t.created_at),
        }),
        Event::TicketOpened => base(json!({"opened_at": iso(&t.opened_at)})),
        Event::DevelopersAssigned { .. } => json!({
            "id": t.id, "title": t.title, "description": t.description, "priority": t.priority.as_str(),
            "priority_display": t.priority.label(), "category": t.category.as_str(), "category_display": t.category.label(),
            "status": t.status.as_str(), "status_display": t.status.label(), "assigned_to_names": t.newly_assigned_names,
            "created_by": t.creator_name, "project_name": t.project, "resolution_due_at": iso(&t.resolution_due_at),
        }),
        Event::WorkStarted => base(json!({"started_at": iso(&t.started_at)})),
        Event::WorkFinished => base(json!({"resolved_at": iso(&t.resolved_at)})),
        Event::TicketClosed => {
            base(json!({"closed_at": iso(&t.closed_at), "created_by": t.creator_name}))
        }
        Event::TicketRejected { reason } => {
            base(json!({"created_by": t.creator_name, "rejection_comment": reason}))
        }
    }
}

/// The push for each SYSTEM row of a committed step.
pub fn pushes(events: &[Event], rows: &[NewNotification], t: &TicketSnapshot) -> Vec<Push> {
    let mut out = Vec::new();
    for event in events {
        let ticket = ticket_json(event, t);
        let timestamp = match event {
            Event::TicketCreated => Value::String(format_py_iso(&t.created_at)),
            _ => Value::Null,
        };
        for row in rows
            .iter()
            .filter(|r| r.notification_type == "SYSTEM" && r.event == event.code())
        {
            out.push(Push {
                recipient: row.recipient_id,
                payload: json!({"notification_type": event.code(), "message": row.message, "ticket": ticket, "timestamp": timestamp}),
            });
        }
    }
    out
}

/// Sends pushes to every replica's clients: through `NOTIFY` on PostgreSQL (each replica's
/// listener, this one included, forwards them), directly to this process's hub on SQLite.
/// `wake_workers` also wakes every replica's delivery worker. It all goes in one statement, after
/// the step's commit (`db::listen::notify`).
pub async fn publish(db: &Db, hub: &Hub, pushes: Vec<Push>, wake_workers: bool) {
    let local = if db.has_replicas() {
        let mut messages = Vec::new();
        if wake_workers {
            messages.push((WAKE_CHANNEL, String::new()));
        }
        let (mut notified, mut local) = (Vec::new(), Vec::new());
        for p in pushes {
            match serde_json::to_string(&Broadcast::Push(std::borrow::Cow::Borrowed(&p))) {
                Ok(text) if text.len() <= MAX_NOTIFY_BYTES => {
                    messages.push((PUSH_CHANNEL, text));
                    notified.push(p);
                }
                // Too big for a NOTIFY: this replica's clients still get it.
                _ => local.push(p),
            }
        }
        if let Err(e) = listen::notify(db, &messages).await {
            // Other replicas' workers still find the rows at their next poll.
            tracing::warn!(error = %e, "cannot NOTIFY; delivering pushes locally only");
            local.extend(notified);
        }
        local
    } else {
        pushes
    };
    // Nobody listening is normal: the stored row is what the bell shows.
    for p in local {
        let _ = hub.send(Arc::new(p));
    }
}

/// Ends a user's real-time sessions on every replica, after the commit that ended their
/// access: here at once, elsewhere through `NOTIFY` (PostgreSQL; this replica hears its own
/// message too, which then finds nothing left to end).
pub async fn end_sessions(db: &Db, sessions: &Sessions, ended: SessionsEnded) {
    sessions.end(&ended);
    if !db.has_replicas() {
        return;
    }
    let sent = match serde_json::to_string(&Broadcast::SessionsEnded(ended)) {
        Ok(text) => listen::notify(db, &[(PUSH_CHANNEL, text)])
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = sent {
        // Other replicas' sessions then last until their tokens expire.
        tracing::warn!(error = %e, user_id = ended.user_id, "cannot NOTIFY the end of a user's sessions");
    }
}

/// What the process's listener does with a message from another replica (or our own, on
/// PostgreSQL): a push goes to this process's clients; the end of a user's sessions ends them
/// here and forgets the cached user, so this replica's next request of theirs reads the
/// database rather than waiting out `AUTH_CACHE_TTL`.
pub fn forward(
    hub: Hub,
    sessions: Arc<Sessions>,
    auth_cache: Arc<AuthCache>,
) -> impl Fn(&str) + Send + Sync {
    move |payload| match Broadcast::parse(payload) {
        Ok(Broadcast::Push(p)) => {
            let _ = hub.send(Arc::new(p.into_owned()));
        }
        Ok(Broadcast::SessionsEnded(ended)) => {
            auth_cache.invalidate(ended.user_id);
            sessions.end(&ended);
        }
        Err(e) => tracing::warn!(error = %e, "malformed push notification ignored"),
    }
}
