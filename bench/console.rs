//! Admin console render times (issue 14): the dashboard, the ticket list and the notification
//! log page, served in-process by the real router (`app::build_router`) from a SQLite database
//! filled with `CONSOLE_TICKETS` tickets (default 10,000) and `CONSOLE_LOG_ROWS` log rows
//! (default 100,000). Prints req/s, p50 and p99 per page over `CONSOLE_REQUESTS` requests
//! (default 300) each, one at a time: server-side time, no network. Target: p99 under 20 ms.
//!
//!     cargo bench --bench console

#[path = "common.rs"]
mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use incident::config::Config;
use incident::db::Db;
use incident::state::AppState;
use tower::ServiceExt;

fn fill(tickets: usize, rows: usize) -> Vec<String> {
    let series = |n: usize| {
        format!("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT x FROM c")
    };
    let ago =
        |x: &str| format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || ({x}) || ' minutes')");
    vec![
        format!("INSERT INTO users (username, password, date_joined) SELECT 'u' || x, 'x', {} FROM ({}) s", ago("x"), series(50)),
        "INSERT INTO user_profiles (user_id, role, created_at, updated_at) SELECT id, CASE WHEN id % 5 = 0 THEN 'SUPPORT' ELSE 'CLIENT' END, date_joined, date_joined FROM users WHERE username LIKE 'u%'".into(),
        format!(
            "INSERT INTO tickets (project_name, title, description, priority, category, status, created_by_id, created_at, updated_at) \
             SELECT 'p', 'Ticket ' || x, 'd', CASE x % 3 WHEN 0 THEN 'LOW' WHEN 1 THEN 'MEDIUM' ELSE 'HIGH' END, 'BUG', \
             CASE x % 6 WHEN 0 THEN 'CLOSED' WHEN 1 THEN 'NEW' WHEN 2 THEN 'OPENED' WHEN 3 THEN 'IN_PROGRESS' ELSE 'RESOLVED' END, \
             2 + x % 49, {0}, {0} FROM ({1}) s",
            ago("x * 3"), series(tickets)
        ),
        format!(
            "INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, status, created_at, \
             updated_at, is_read, event, step, delivery_status, attempts, error_code, error_message) \
             SELECT 1 + x % {tickets}, 2 + x % 49, CASE x % 3 WHEN 0 THEN 'SYSTEM' WHEN 1 THEN 'EMAIL' ELSE 'WHATSAPP' END, 's', 'm', \
             CASE WHEN x % 50 = 0 THEN 'FAILED' WHEN x % 997 = 0 THEN 'PENDING' ELSE 'SENT' END, {0}, {0}, x % 4 <> 0, 'ticket_created', x, \
             CASE WHEN x % 3 = 0 THEN NULL WHEN x % 50 = 0 THEN 'failed' ELSE 'delivered' END, 1, \
             CASE WHEN x % 50 = 0 THEN '63016' END, CASE WHEN x % 50 = 0 THEN 'Outside the window' END FROM ({1}) s",
            ago("x / 5"), series(rows)
        ),
    ]
}

async fn measure(app: &axum::Router, cookie: &str, path: &str, n: usize) -> Result<(), String> {
    let mut times = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let req = Request::get(path)
            .header("cookie", cookie)
            .header("host", "localhost")
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let t = Instant::now();
        let res = app.clone().oneshot(req).await.map_err(|e| e.to_string())?;
        let status = res.status();
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed());
        if !status.is_success() {
            return Err(format!("{path} answered {status}"));
        }
    }
    let total = started.elapsed();
    times.sort();
    println!(
        "{path:<40} {:>8.0} req/s   p50 {:>9}   p99 {:>9}",
        n as f64 / total.as_secs_f64(),
        common::ms(common::percentile(&times, 0.5)),
        common::ms(common::percentile(&times, 0.99)),
    );
    Ok(())
}

async fn run() -> Result<(), String> {
    let tickets = common::env_usize("CONSOLE_TICKETS", 10_000)?;
    let rows = common::env_usize("CONSOLE_LOG_ROWS", 100_000)?;
    let n = common::env_usize("CONSOLE_REQUESTS", 300)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::connect(&url, 4).await.map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    db.close().await;
    let raw = sqlx::SqlitePool::connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    let filling = Instant::now();
    for sql in fill(tickets, rows) {
        sqlx::query(&sql)
            .execute(&raw)
            .await
            .map_err(|e| format!("{e}: {sql}"))?;
    }
    sqlx::query("ANALYZE")
        .execute(&raw)
        .await
        .map_err(|e| e.to_string())?;
    raw.close().await;
    println!(
        "filled {tickets} tickets and {rows} log rows in {:.1} s",
        filling.elapsed().as_secs_f64()
    );
    let mut config = Config::for_tests(&url);
    config.worker.enabled = false;
    let db = Db::connect(&url, 8).await.map_err(|e| e.to_string())?;
    let templates = incident::notify::templates::Templates::load(None, &config.frontend_url)
        .map_err(|e| e.to_string())?;
    let state = AppState::new(db.clone(), config, templates);
    let hash =
        incident::auth::password::hash_password("bench-password").map_err(|e| e.to_string())?;
    let admin = incident::db::users::NewUser {
        username: "bench-admin".into(),
        password_hash: hash,
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        role: incident::domain::user::Role::Admin,
        phone_number: None,
        whatsapp_number: None,
        department: None,
    };
    incident::db::users::create(&db, &admin, incident::domain::datetime::now())
        .await
        .map_err(|e| e.to_string())?;
    let signed = incident::service::console::sign_in(&state, "bench-admin", "bench-password", None)
        .await
        .map_err(|e| e.to_string())?;
    let cookie = format!("{}={}", incident::http::console::COOKIE, signed.cookie);
    let app = incident::app::build_router(state);
    println!("load average {}", common::load_average());
    for path in [
        "/admin/",
        "/admin/tickets/",
        "/admin/tickets/?status=OPENED&priority=HIGH",
        "/admin/tickets/board/",
        "/admin/notifications/",
        "/admin/notifications/?type=WHATSAPP&status=FAILED",
        "/admin/notifications/?page=100",
    ] {
        measure(&app, &cookie, path, n).await?;
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("console bench failed: {e}");
        std::process::exit(1);
    }
}
