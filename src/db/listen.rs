//! PostgreSQL LISTEN/NOTIFY between replicas: `notify` sends on channels, `spawn` runs this
//! process's one listener (the worker's wake-ups and the in-app pushes share its connection).
//! SQLite deployments are one process: there is nothing to send or hear.

use std::time::Duration;

use tokio::sync::watch;

use super::pool::{Db, DbError};

/// The channel on which committed steps wake every replica's delivery worker.
pub const WAKE_CHANNEL: &str = "incident_outbox";
/// The channel that carries in-app pushes between replicas.
pub const PUSH_CHANNEL: &str = "incident_push";

impl Db {
    /// True when other processes may share this database and hear `notify` (PostgreSQL).
    pub fn has_replicas(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }
}

/// Sends `(channel, payload)` messages in order, in one statement outside any transaction (a
/// `NOTIFY` inside a step's transaction would make every commit in the cluster take one lock in
/// turn). Nothing on SQLite.
pub async fn notify(db: &Db, messages: &[(&str, String)]) -> Result<(), DbError> {
    let Db::Postgres(pool) = db else {
        return Ok(());
    };
    if messages.is_empty() {
        return Ok(());
    }
    let channels: Vec<&str> = messages.iter().map(|(c, _)| *c).collect();
    let payloads: Vec<&str> = messages.iter().map(|(_, p)| p.as_str()).collect();
    sqlx::query(
        "SELECT pg_notify(channel, payload) FROM unnest($1::text[], $2::text[]) AS n(channel, payload)",
    )
    .bind(&channels)
    .bind(&payloads)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Called for each worker wake-up (`WAKE_CHANNEL`).
pub type OnWake = Box<dyn Fn() + Send + Sync>;
/// Called with each push's payload (`PUSH_CHANNEL`).
pub type OnPush = Box<dyn Fn(&str) + Send + Sync>;

/// What the listener does with a message of each channel; a channel without a handler is not
/// listened to.
pub struct Handlers {
    pub wake: Option<OnWake>,
    pub push: Option<OnPush>,
}

/// On PostgreSQL, spawns this process's listener: it reconnects when its connection drops and
/// ends when `stopped` turns. Nothing on SQLite, or when no channel has a handler.
pub fn spawn(db: &Db, handlers: Handlers, mut stopped: watch::Receiver<bool>) {
    let Db::Postgres(pool) = db else {
        return;
    };
    let mut channels = Vec::new();
    if handlers.wake.is_some() {
        channels.push(WAKE_CHANNEL);
    }
    if handlers.push.is_some() {
        channels.push(PUSH_CHANNEL);
    }
    if channels.is_empty() {
        return;
    }
    let pool = pool.clone();
    tokio::spawn(async move {
        loop {
            if *stopped.borrow() {
                return;
            }
            let listener = async {
                let mut l = sqlx::postgres::PgListener::connect_with(&pool).await?;
                // One statement for every channel.
                l.listen_all(channels.iter().copied()).await?;
                Ok::<_, DbError>(l)
            };
            let mut listener = match listener.await {
                Ok(l) => l,
                Err(e) => {
                    // Meanwhile the worker polls and pushes of other replicas are missed.
                    tracing::warn!(error = %e, "cannot LISTEN; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                        _ = stopped.changed() => return,
                    }
                }
            };
            loop {
                let received = tokio::select! {
                    r = listener.recv() => r,
                    _ = stopped.changed() => return,
                };
                match received {
                    Ok(n) if n.channel() == WAKE_CHANNEL => {
                        if let Some(wake) = &handlers.wake {
                            wake();
                        }
                    }
                    Ok(n) => {
                        if let Some(push) = &handlers.push {
                            push(n.payload());
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "listener lost its connection; reconnecting");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stopped.changed() => return,
            }
        }
    });
}
