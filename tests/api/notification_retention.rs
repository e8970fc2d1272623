//! Issue 11: pruning the notification history (`incident notifications prune`, the
//! `NOTIFY_LOG_RETENTION` job) deletes only finished rows older than the cutoff, of closed
//! tickets or of none; PENDING rows and open tickets' rows stay, and the counters stay exact.

use std::time::Duration;

use chrono::{DateTime, Utc};
use incident::db::Db;
use incident::domain::user::Role;
use incident::service::notifications::{prune_history, retention_pass};

use crate::common::{Engine, TestApp};
use crate::on_both_engines;

on_both_engines!(
    prune_deletes_only_old_finished_rows_of_closed_tickets,
    the_retention_job_prunes_one_replica_at_a_time
);

const YEAR: Duration = Duration::from_secs(365 * 86400);

/// A ticket of `owner` in `status`; its id.
async fn ticket(db: &Db, owner: i64, status: &str) -> i64 {
    const SQL: &str = "INSERT INTO tickets (project_name, title, description, priority, category, status, \
                       created_by_id, created_at, updated_at) VALUES ('p', 't', 'd', 'LOW', 'BUG', $1, $2, $3, $3) \
                       RETURNING id";
    incident::on_write!(db.write().await, p => sqlx::query_scalar(SQL).bind(status).bind(owner).bind(Utc::now())
        .fetch_one(p).await)
    .unwrap()
}

/// One log row; `step` keeps it unique.
struct Row<'a> {
    ticket: Option<i64>,
    channel: &'a str,
    status: &'a str,
    created: DateTime<Utc>,
    step: i64,
}

async fn insert(db: &Db, recipient: i64, rows: &[Row<'_>]) {
    const SQL: &str = "INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, \
                       status, created_at, updated_at, is_read, event, step, delivery_status, attempts, next_attempt_at) \
                       VALUES ($1, $2, $3, 's', 'm', $4, $5, $5, FALSE, 'e', $6, $7, 0, $8)";
    let mut tx = db.begin().await.unwrap();
    for r in rows {
        let delivery = (r.channel == "WHATSAPP" && r.status != "PENDING").then_some("delivered");
        let due = (r.status == "PENDING").then_some(r.created);
        incident::on_tx!(&mut tx, c => sqlx::query(SQL).bind(r.ticket).bind(recipient).bind(r.channel).bind(r.status)
            .bind(r.created).bind(r.step).bind(delivery).bind(due).execute(&mut *c).await.map(|_| ()))
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// The log as (channel, status, ticket, old) sorted, and the total.
async fn rows(db: &Db) -> Vec<(String, String, Option<i64>, i64)> {
    const SQL: &str =
        "SELECT notification_type, status, ticket_id, COUNT(*) FROM notification_log \
                       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
    incident::on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await).unwrap()
}

async fn assert_exact(db: &Db, after: &str) {
    let drift = incident::db::notifications::counter_drift(db)
        .await
        .unwrap();
    assert!(
        drift.is_empty(),
        "counters drifted after {after}: {drift:?}"
    );
}

/// Old and new rows of every kind: of a CLOSED ticket, an open one and none, in every status
/// and channel, interleaved in time; 1,800 old prunable WhatsApp rows (more than one batch)
/// among old rows that stay. Returns how many rows a prune of a year deletes.
async fn history(app: &TestApp) -> (i64, i64, u64) {
    let db = &app.state.db;
    let owner = app.create_user("owner", Role::Client).await;
    let closed = ticket(db, owner, "CLOSED").await;
    let open = ticket(db, owner, "RESOLVED").await;
    let long_ago = Utc::now() - chrono::Duration::days(400);
    let recent = Utc::now() - chrono::Duration::days(30);
    let mut all = Vec::new();
    let mut prunable = 0;
    for i in 0..3000i64 {
        let (ticket, status) = match i % 5 {
            0 => (Some(open), "SENT"),
            1 => (Some(closed), "PENDING"),
            2 => (Some(closed), "FAILED"),
            _ => (Some(closed), "SENT"),
        };
        let created = long_ago - chrono::Duration::minutes(i);
        prunable += u64::from(status != "PENDING" && ticket == Some(closed));
        all.push(Row {
            ticket,
            channel: "WHATSAPP",
            status,
            created,
            step: i,
        });
    }
    for (i, (ticket, channel, status)) in [
        (None, "SYSTEM", "SENT"),
        (Some(closed), "SYSTEM", "SENT"),
        (Some(open), "SYSTEM", "SENT"),
        (Some(closed), "EMAIL", "FAILED"),
        (Some(open), "EMAIL", "PENDING"),
    ]
    .into_iter()
    .enumerate()
    {
        let i = i as i64;
        prunable += u64::from(ticket != Some(open) && status != "PENDING");
        all.push(Row {
            ticket,
            channel,
            status,
            created: long_ago,
            step: 10_000 + i,
        });
        // The same rows from last month stay.
        all.push(Row {
            ticket,
            channel,
            status,
            created: recent,
            step: 20_000 + i,
        });
    }
    all.push(Row {
        ticket: Some(closed),
        channel: "WHATSAPP",
        status: "SENT",
        created: recent,
        step: 30_000,
    });
    insert(db, owner, &all).await;
    assert_exact(db, "the history").await;
    (closed, open, prunable)
}

async fn prune_deletes_only_old_finished_rows_of_closed_tickets(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.worker.enabled = false).await;
    let db = &app.state.db;
    let (closed, open, prunable) = history(&app).await;
    let before = rows(db).await;

    let dry = prune_history(db, YEAR, true).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.total(), prunable, "{dry:?}");
    assert_eq!(dry.by_channel[0], ("WHATSAPP", 1800), "{dry:?}");
    assert_eq!(rows(db).await, before, "a dry run deletes nothing");

    let done = prune_history(db, YEAR, false).await.unwrap();
    assert_eq!(
        done.by_channel, dry.by_channel,
        "the dry run said what goes"
    );
    assert_exact(db, "the prune").await;
    let after = rows(db).await;
    let count = |channel: &str, status: &str, ticket: Option<i64>| {
        after
            .iter()
            .find(|r| r.0 == channel && r.1 == status && r.2 == ticket)
            .map(|r| r.3)
            .unwrap_or(0)
    };
    // Open tickets' rows and PENDING rows all stay; of the closed ticket's finished rows only
    // the recent one does.
    assert_eq!(count("WHATSAPP", "SENT", Some(open)), 600);
    assert_eq!(count("WHATSAPP", "PENDING", Some(closed)), 600);
    assert_eq!(count("WHATSAPP", "FAILED", Some(closed)), 0);
    assert_eq!(count("WHATSAPP", "SENT", Some(closed)), 1);
    assert_eq!(count("SYSTEM", "SENT", None), 1);
    assert_eq!(count("SYSTEM", "SENT", Some(closed)), 1);
    assert_eq!(count("SYSTEM", "SENT", Some(open)), 2);
    assert_eq!(count("EMAIL", "FAILED", Some(closed)), 1);
    assert_eq!(count("EMAIL", "PENDING", Some(open)), 2);
    let total = |r: &[(String, String, Option<i64>, i64)]| r.iter().map(|x| x.3).sum::<i64>();
    assert_eq!(total(&before) - total(&after), prunable as i64);

    // The admin's counts read the counters: they agree with what is left.
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (_, body) = app
        .get("/api/notifications/?notification_type=WHATSAPP", &admin)
        .await;
    assert_eq!(body["count"], 1201, "{body}");
    let (_, stats) = app.get("/api/notifications/stats/", &admin).await;
    assert_eq!(stats["WHATSAPP"]["total"], 1201, "{stats}");

    // Nothing is left to prune.
    assert_eq!(prune_history(db, YEAR, false).await.unwrap().total(), 0);
}

async fn the_retention_job_prunes_one_replica_at_a_time(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.worker.enabled = false).await;
    let db = &app.state.db;
    let (_, _, prunable) = history(&app).await;

    // Another replica is pruning: on PostgreSQL this pass leaves it to that one. (One server
    // per SQLite file: there, no turn to wait for.)
    if engine == Engine::Postgres {
        let turn = incident::db::retention::JobLock::try_take(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(retention_pass(db, YEAR).await.unwrap(), None);
        turn.release().await;
    }
    assert_eq!(
        prune_history(db, YEAR, true).await.unwrap().total(),
        prunable
    );

    // A replica started with NOTIFY_LOG_RETENTION prunes at once, then hourly.
    let replica = app
        .replica_with(|c| c.worker.log_retention = Some(YEAR))
        .await;
    let started = std::time::Instant::now();
    while prune_history(db, YEAR, true).await.unwrap().total() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the job did not prune"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_exact(db, "the job").await;
    drop(replica);
    // The turn was given back.
    let again = retention_pass(db, YEAR).await.unwrap();
    assert_eq!(again.map(|p| p.total()), Some(0));
}
