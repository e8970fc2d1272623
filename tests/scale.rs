//! Issue 11 (scale): the worker's claim reads the due index however big the log is, and a
//! statement stops when nobody waits for it. Both engines.

use std::time::{Duration, Instant};

use chrono::Utc;
use incident::db::{notifications, Db};

async fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("scale.db").display())
}

/// A fresh PostgreSQL database: its URL, and the admin URL and name to drop it.
async fn postgres_url() -> (String, String, String) {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string());
    let name = format!("incident_scale_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("cannot reach PostgreSQL for tests: start it or set TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    (url.to_string(), admin_url, name)
}

async fn drop_postgres(admin_url: &str, name: &str) {
    let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await;
    admin.close().await;
}

/// One user and `n` notification rows, nearly all delivered WhatsApp messages (the shape of a
/// log years old) and a handful PENDING and due.
const FILL: [&str; 3] = [
    "INSERT INTO users (username, password, date_joined) VALUES ('u', 'x', CURRENT_TIMESTAMP)",
    "INSERT INTO user_profiles (user_id, role, created_at, updated_at) \
     VALUES (1, 'CLIENT', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO notification_log (recipient_id, notification_type, subject, message, status, created_at, updated_at, \
     next_attempt_at, step, event) \
     SELECT 1, CASE WHEN x % 3 = 0 THEN 'SYSTEM' ELSE 'WHATSAPP' END, 's', 'm', \
     CASE WHEN x % 4000 = 0 THEN 'PENDING' ELSE 'SENT' END, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, \
     CASE WHEN x % 4000 = 0 THEN CURRENT_TIMESTAMP END, x, 'e' FROM series",
];
const ROWS: i64 = 40_000;

fn assert_uses_the_due_index(plan: &[String]) {
    let text = plan.join("\n");
    assert!(
        text.contains("notification_log_due_idx"),
        "the claim does not read the due index:\n{text}"
    );
    assert!(
        !text.contains("Seq Scan")
            && !text.contains("SCAN notification_log\n")
            && !text.ends_with("SCAN notification_log"),
        "the claim scans the log:\n{text}"
    );
    assert!(!text.contains("notification_log_type_idx"), "{text}");
}

#[tokio::test]
async fn sqlite_claim_reads_the_due_index_of_a_big_log() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir).await;
    let db = Db::connect(&url, 2).await.unwrap();
    db.migrate().await.unwrap();
    let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
    for sql in &FILL[..2] {
        sqlx::query(sql).execute(&raw).await.unwrap();
    }
    let series = format!(
        "WITH RECURSIVE series(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM series WHERE x < {ROWS}) "
    );
    sqlx::query(&format!("{series}{}", FILL[2]))
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let plan = notifications::claim_plan(&db, Utc::now()).await.unwrap();
    assert_uses_the_due_index(&plan);
    // And the claim, reading outside the writer turn, leases exactly the due WhatsApp rows.
    let claimed = notifications::claim_due(&db, Utc::now(), Utc::now(), 100)
        .await
        .unwrap();
    let expected = (1..=ROWS).filter(|x| x % 4000 == 0 && x % 3 != 0).count();
    assert_eq!(claimed.len(), expected);
    db.close().await;
}

#[tokio::test]
async fn postgres_claim_reads_the_due_index_of_a_big_log() {
    let (url, admin, name) = postgres_url().await;
    let db = Db::connect(&url, 2).await.unwrap();
    db.migrate().await.unwrap();
    let raw = sqlx::PgPool::connect(&url).await.unwrap();
    for sql in &FILL[..2] {
        sqlx::query(sql).execute(&raw).await.unwrap();
    }
    let series = format!("WITH series(x) AS (SELECT generate_series(1, {ROWS}::bigint)) ");
    sqlx::query(&format!("{series}{}", FILL[2]))
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("ANALYZE notification_log")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let plan = notifications::claim_plan(&db, Utc::now()).await.unwrap();
    db.close().await;
    drop_postgres(&admin, &name).await;
    assert_uses_the_due_index(&plan);
}

/// Counts to ten billion: minutes of work unless something stops it.
const SLOW_SQLITE: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000) \
                           SELECT COUNT(*) FROM c";

async fn run_slow(db: &Db, sql: &str) -> Result<(), sqlx::Error> {
    incident::on_db!(db, p => sqlx::query(sql).execute(p).await.map(|_| ()))
}

#[tokio::test]
async fn sqlite_statement_over_the_limit_is_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir).await;
    let db = Db::connect_limited(&url, 2, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let started = Instant::now();
    let err = run_slow(&db, SLOW_SQLITE).await.expect_err("stopped");
    assert!(err.to_string().contains("interrupt"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The connection is usable again, with a fresh clock.
    let n: i64 =
        incident::on_db!(&db, p => sqlx::query_scalar("SELECT 1").fetch_one(p).await).unwrap();
    assert_eq!(n, 1);
    db.close().await;
}

#[tokio::test]
async fn sqlite_close_interrupts_an_abandoned_statement() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir).await;
    let db = Db::connect_limited(&url, 2, None).await.unwrap();
    db.migrate().await.unwrap();
    let abandoned =
        tokio::time::timeout(Duration::from_millis(200), run_slow(&db, SLOW_SQLITE)).await;
    assert!(abandoned.is_err(), "the request gave up on it");
    let closed = tokio::time::timeout(Duration::from_secs(5), db.close()).await;
    assert!(closed.is_ok(), "closing waited for the abandoned statement");
}

#[tokio::test]
async fn postgres_statement_over_the_limit_is_cancelled() {
    let (url, admin, name) = postgres_url().await;
    let db = Db::connect_limited(&url, 2, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let started = Instant::now();
    let err = run_slow(&db, "SELECT pg_sleep(30)")
        .await
        .expect_err("stopped");
    let elapsed = started.elapsed();
    // Abandoned by its request: the connection comes back once the limit stops it.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        run_slow(&db, "SELECT pg_sleep(30)"),
    )
    .await;
    assert!(abandoned.is_err());
    let closed = tokio::time::timeout(Duration::from_secs(5), db.close()).await;
    drop_postgres(&admin, &name).await;
    assert!(err.to_string().contains("statement timeout"), "{err}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(closed.is_ok(), "closing waited for the abandoned statement");
}
