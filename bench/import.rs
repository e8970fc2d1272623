//! Benchmark of `incident import-django` (issue 12, item 5). It prints figures; it is not a test.
//!
//! ```sh
//! cargo build --release                        # this benchmark runs that binary; it builds nothing
//! cargo bench --bench import -- [sqlite|postgres|both]   # default: both
//! ```
//!
//! It generates a Django-shaped SQLite database from the original's DDL
//! (`tests/data/django-schema.sql`) with SQL recursive CTEs: by default 1,000 users (10 without
//! a profile), 100,000 tickets each with one assignee, 300,000 history rows, 2,000 attachments
//! of 100 KB (a PNG signature then random bytes), 1,000,000 notification logs (three types, two
//! statuses), 10,000 outstanding and 5,000 blacklisted tokens. Then it runs
//! `target/release/incident import-django` into a fresh SQLite file and into a fresh PostgreSQL
//! database (created on `TEST_DATABASE_URL`, default `postgres://root@127.0.0.1:5432/postgres`,
//! dropped afterwards), and prints the wall time, rows per second and the importer's peak RSS
//! (`VmHWM`, sampled every 20 ms). Targets: at least 50,000 rows/s into each engine, peak RSS
//! under 150 MB.
//!
//! Knobs (environment): `INCIDENT_BIN` (the binary), `TEST_DATABASE_URL`, `BENCH_SCALE` (a
//! factor on every row count but the attachments' size, default 1.0), `BENCH_SOURCE` (reuse
//! this generated file instead of generating one).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common.rs"]
mod common;
use common::*;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

struct Sizes {
    users: i64,
    tickets: i64,
    history: i64,
    attachments: i64,
    notifications: i64,
    tokens: i64,
}

impl Sizes {
    fn scaled(scale: f64) -> Sizes {
        let n = |base: f64| ((base * scale).round() as i64).max(20);
        Sizes {
            users: n(1_000.0),
            tickets: n(100_000.0),
            history: n(300_000.0),
            attachments: n(2_000.0),
            notifications: n(1_000_000.0),
            tokens: n(10_000.0),
        }
    }
}

/// `INSERT ... SELECT` over `1..=count` as `i`.
fn series(count: i64, insert: &str) -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) {insert} FROM n;\n"
    )
}

fn generation_sql(s: &Sizes) -> String {
    let t = "strftime('%Y-%m-%d %H:%M:%S', '2024-01-01', '+' || i || ' seconds') || '.123456'";
    let mut sql = String::from("BEGIN;\n");
    sql += &series(
        s.users,
        &format!(
            "INSERT INTO auth_user (id, password, last_login, is_superuser, username, last_name, email, is_staff, is_active, date_joined, first_name) \
             SELECT i, 'pbkdf2_sha256$870000$abcdefghijklmnopqrstuv$RpUxzrDjtpsLGApqM8e9EVPBnN7Rtb/5aWzlaMR/wTk=', NULL, 0, 'user' || i, 'Last', \
             'user' || i || '@example.com', 0, 1, {t}, 'First'"
        ),
    );
    sql += &series(
        s.users - 10,
        &format!(
            "INSERT INTO core_userprofile (id, role, phone_number, department, created_at, updated_at, user_id, whatsapp_number) \
             SELECT i, CASE i % 10 WHEN 0 THEN 'ADMIN' WHEN 1 THEN 'SUPPORT' WHEN 2 THEN 'SUPPORT' ELSE 'CLIENT' END, \
             '010' || printf('%08d', i), 'IT', {t}, {t}, i, '+2010' || printf('%08d', i)"
        ),
    );
    sql += &series(
        s.tickets,
        &format!(
            "INSERT INTO core_ticket (id, title, description, priority, category, status, assigned_team, estimated_resolution_time, \
             created_at, updated_at, opened_at, started_at, resolved_at, closed_at, created_by_id, resolution_breached, \
             resolution_due_at, response_breached, response_due_at, project_name) \
             SELECT i, 'Ticket ' || i, 'Something is broken on floor ' || (i % 20), \
             CASE i % 3 WHEN 0 THEN 'HIGH' WHEN 1 THEN 'MEDIUM' ELSE 'LOW' END, \
             CASE i % 4 WHEN 0 THEN 'BUG' WHEN 1 THEN 'PROBLEM' WHEN 2 THEN 'SERVICE_DOWN' ELSE 'NEW_FEATURE' END, \
             CASE i % 6 WHEN 0 THEN 'NEW' WHEN 1 THEN 'OPENED' WHEN 2 THEN 'IN_PROGRESS' WHEN 3 THEN 'RESOLVED' WHEN 4 THEN 'WAITING_APPROVAL' ELSE 'CLOSED' END, \
             'Ops', NULL, {t}, {t}, {t}, NULL, NULL, NULL, (i % {users}) + 1, i % 2, {t}, 0, {t}, 'General'",
            users = s.users
        ),
    );
    sql += &series(
        s.tickets,
        &format!(
            "INSERT INTO core_ticket_assigned_to (id, ticket_id, user_id) SELECT i, i, ((i * 7) % {}) + 1",
            s.users
        ),
    );
    sql += &series(
        s.history,
        &format!(
            "INSERT INTO core_tickethistory (id, status_from, status_to, comment, timestamp, changed_by_id, ticket_id) \
             SELECT i, 'NEW', 'OPENED', 'Ticket opened by admin', {t}, (i % {}) + 1, ((i - 1) % {}) + 1",
            s.users, s.tickets
        ),
    );
    sql += &series(
        s.attachments,
        &format!(
            "INSERT INTO core_ticketattachment (id, uploaded_at, ticket_id, uploaded_by_id, file_data) \
             SELECT i, {t}, ((i - 1) % {}) + 1, (i % {}) + 1, X'89504E470D0A1A0A0000000D49484452' || randomblob(102400 - 16)",
            s.tickets, s.users
        ),
    );
    sql += &series(
        s.notifications,
        &format!(
            "INSERT INTO core_notificationlog (id, notification_type, subject, message, status, error_message, sent_at, created_at, \
             recipient_id, ticket_id, is_read, read_at) \
             SELECT i, CASE i % 3 WHEN 0 THEN 'EMAIL' WHEN 1 THEN 'WHATSAPP' ELSE 'SYSTEM' END, 'Ticket update', \
             'Ticket #' || i || ' changed status', CASE WHEN i % 10 = 0 THEN 'FAILED' ELSE 'SENT' END, \
             CASE WHEN i % 10 = 0 THEN 'API Error: Invalid OAuth access token' END, {t}, {t}, (i % {}) + 1, \
             ((i - 1) % {}) + 1, i % 2, CASE WHEN i % 2 = 1 THEN {t} END",
            s.users, s.tickets
        ),
    );
    sql += &series(
        s.tokens,
        &format!(
            "INSERT INTO token_blacklist_outstandingtoken (token, created_at, expires_at, user_id, jti, id) \
             SELECT 'eyJ', {t}, '2099-01-01 00:00:00', (i % {}) + 1, 'jti' || i, i",
            s.users
        ),
    );
    sql += &series(
        s.tokens / 2,
        &format!("INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id, id) SELECT {t}, i * 2, i"),
    );
    sql += "COMMIT;\n";
    sql
}

async fn generate(path: &Path, sizes: &Sizes) {
    let ddl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/django-schema.sql"
    ))
    .expect("the Django DDL");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("source");
    sqlx::raw_sql(&ddl).execute(&pool).await.expect("DDL");
    sqlx::raw_sql(&generation_sql(sizes))
        .execute(&pool)
        .await
        .expect("generate rows");
    pool.close().await;
}

struct Run {
    seconds: f64,
    rows: u64,
    peak_kb: u64,
}

fn import(bin: &Path, source: &Path, database_url: &str) -> Run {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["import-django", "--from"])
        .arg(source)
        .env("DATABASE_URL", database_url)
        .env("DEFAULT_PHONE_REGION", "EG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the incident binary");
    let pid = child.id();
    let mut peak_kb = 0;
    loop {
        if let Some(kb) = proc_kb(pid, "VmHWM") {
            peak_kb = peak_kb.max(kb);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let seconds = started.elapsed().as_secs_f64();
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "import failed:\n{stdout}");
    let rows = stdout
        .lines()
        .find_map(|l| l.strip_prefix("imported ")?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no 'imported N rows' line in:\n{stdout}"));
    println!("{stdout}");
    Run {
        seconds,
        rows,
        peak_kb,
    }
}

fn print(engine: &str, r: &Run) {
    let rate = r.rows as f64 / r.seconds;
    println!(
        "== into {engine}: {} rows in {:.1} s = {rate:.0} rows/s (target >= 50,000: {}); peak RSS {:.1} MB (target < 150: {})",
        r.rows,
        r.seconds,
        if rate >= 50_000.0 { "met" } else { "NOT met" },
        r.peak_kb as f64 / 1024.0,
        if r.peak_kb < 150 * 1024 { "met" } else { "NOT met" },
    );
}

#[tokio::main]
async fn main() {
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "both".to_string());
    let bin = PathBuf::from(env_or(
        "INCIDENT_BIN",
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/incident"),
    ));
    assert!(
        bin.exists(),
        "{} is missing: cargo build --release first (or set INCIDENT_BIN)",
        bin.display()
    );
    let scale: f64 = env_or("BENCH_SCALE", "1.0")
        .parse()
        .expect("BENCH_SCALE is a number");
    let dir = tempfile::tempdir().expect("temp dir");
    let source = match std::env::var("BENCH_SOURCE") {
        Ok(p) if Path::new(&p).exists() => PathBuf::from(p),
        other => {
            let path = other
                .map(PathBuf::from)
                .unwrap_or_else(|_| dir.path().join("django.sqlite3"));
            let sizes = Sizes::scaled(scale);
            let started = Instant::now();
            generate(&path, &sizes).await;
            println!(
                "generated {} (scale {scale}: {} tickets, {} history rows, {} notification logs, {} attachments of 100 KB) in {:.1} s, {} MB",
                path.display(),
                sizes.tickets,
                sizes.history,
                sizes.notifications,
                sizes.attachments,
                started.elapsed().as_secs_f64(),
                std::fs::metadata(&path).map(|m| m.len() / 1_000_000).unwrap_or(0)
            );
            path
        }
    };
    if which == "sqlite" || which == "both" {
        let url = format!("sqlite://{}", dir.path().join("incident.db").display());
        let r = import(&bin, &source, &url);
        print("SQLite", &r);
    }
    if which == "postgres" || which == "both" {
        let admin = env_or(
            "TEST_DATABASE_URL",
            "postgres://root@127.0.0.1:5432/postgres",
        );
        let name = format!("incident_bench_import_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&admin).await.expect("PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .expect("create database");
        let mut url = url::Url::parse(&admin).expect("URL");
        url.set_path(&format!("/{name}"));
        let r = import(&bin, &source, url.as_str());
        print("PostgreSQL", &r);
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}
