//! Real-time push of in-app (SYSTEM) notifications to connected WebSocket and SSE clients.
//! On PostgreSQL every replica forwards `NOTIFY` messages to its own clients, so a row written
//! by one replica reaches users connected to another; SQLite deployments are one process.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::db::notifications::{NewNotification, WAKE_CHANNEL};
use crate::db::Db;
use crate::domain::datetime::format_py_iso;
use crate::domain::ticket::{Category, Priority, Status};
use crate::domain::workflow::Event;

/// The PostgreSQL channel that carries pushes between replicas.
pub const PUSH_CHANNEL: &str = "incident_push";
/// `NOTIFY` payloads must stay under 8000 bytes.
const MAX_NOTIFY_BYTES: usize = 7900;

/// One message for one user.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Push {
    pub recipient: i64,
    pub payload: Value,
}

pub type Hub = broadcast::Sender<Arc<Push>>;

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
/// `wake_workers` also wakes every replica's delivery worker. On PostgreSQL it all goes in one
/// statement outside any transaction, pushes in order: a `NOTIFY` inside the step's transaction
/// would make every commit in the cluster take one lock in turn.
pub async fn publish(db: &Db, hub: &Hub, pushes: Vec<Push>, wake_workers: bool) {
    let local = match db {
        Db::Postgres(pool) => {
            let (mut channels, mut payloads) = (Vec::new(), Vec::new());
            if wake_workers {
                channels.push(WAKE_CHANNEL);
                payloads.push(String::new());
            }
            let (mut notify, mut local) = (Vec::new(), Vec::new());
            for p in pushes {
                match serde_json::to_string(&p) {
                    Ok(text) if text.len() <= MAX_NOTIFY_BYTES => {
                        channels.push(PUSH_CHANNEL);
                        payloads.push(text);
                        notify.push(p);
                    }
                    _ => local.push(p),
                }
            }
            if !channels.is_empty() {
                let sent = sqlx::query(
                    "SELECT pg_notify(channel, payload) FROM unnest($1::text[], $2::text[]) AS n(channel, payload)",
                )
                .bind(&channels)
                .bind(&payloads)
                .execute(pool)
                .await;
                if let Err(e) = sent {
                    // Other replicas' workers still find the rows at their next poll.
                    tracing::warn!(error = %e, "cannot NOTIFY; delivering pushes locally only");
                    local.extend(notify);
                }
            }
            local
        }
        Db::Sqlite(..) => pushes,
    };
    // Nobody listening is normal: the stored row is what the bell shows.
    for p in local {
        let _ = hub.send(Arc::new(p));
    }
}

/// Forwards pushes from other replicas (and our own, on PostgreSQL) to this process's clients.
pub fn spawn_listener(
    pool: sqlx::PgPool,
    hub: Hub,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            if *stopped.borrow() {
                return;
            }
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for pushes; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(PUSH_CHANNEL).await {
                tracing::warn!(error = %e, "cannot LISTEN for pushes; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
            loop {
                let received = tokio::select! {
                    r = listener.recv() => r,
                    _ = stopped.changed() => return,
                };
                match received {
                    Ok(n) => match serde_json::from_str::<Push>(n.payload()) {
                        Ok(p) => {
                            let _ = hub.send(Arc::new(p));
                        }
                        Err(e) => tracing::warn!(error = %e, "malformed push notification ignored"),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "push listener lost its connection; reconnecting");
                        break;
                    }
                }
            }
        }
    });
}
