//! `import-django`: a Django database built from the original's DDL (`tests/data/django-schema.sql`)
//! on SQLite or on PostgreSQL, imported into each target engine, then used through the API.

use chrono::{DateTime, TimeZone, Utc};
use incident::auth::jwt::TokenType;
use incident::service::import::{self, ImportError, Options, Outcome, Quiet, Report};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{test_database_url, TestApp};
use crate::on_both_databases;
use crate::tickets_support::{detail, history, path, raw};

on_both_databases!(
    sqlite_source_comes_over_whole_and_works_through_the_api,
    postgres_source_comes_over_whole_and_works_through_the_api,
    local_numbers_without_a_region_stop_the_import_before_any_write,
    refused_sources_leave_the_target_untouched,
    a_bad_row_midway_rolls_everything_back,
    a_target_with_data_is_refused,
    a_rerun_of_the_same_source_is_already_imported_and_changes_nothing,
    a_dry_run_checks_everything_and_writes_nothing,
);

/// The Django hash of `PASSWORD`, computed independently with Python's standard library:
/// `base64.b64encode(hashlib.pbkdf2_hmac('sha256', b'moved-from-django', b'Zq8mR2vKx1LpT6wN', 870000))`.
const DJANGO_HASH: &str =
    "pbkdf2_sha256$870000$Zq8mR2vKx1LpT6wN$0l5uefaRku+fLit/XKnWFsmkxB4IucrgEvLjEY+wo04=";
const PASSWORD: &str = "moved-from-django";

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 1, 2, 3,
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A Django database made for one test; a PostgreSQL one is dropped by `remove`.
pub struct DjangoDb {
    pub kind: Kind,
    pub url: String,
    pub path: Option<std::path::PathBuf>,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

/// The DDL as the test data holds it (SQLite, as the original's migrations leave it).
pub fn sqlite_ddl() -> String {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/django-schema.sql");
    std::fs::read_to_string(file).expect("read the Django DDL")
}

/// The same schema as Django's PostgreSQL backend makes it: serial ids, `timestamptz`, `bytea`.
fn postgres_ddl(ddl: &str) -> String {
    ddl.replace(
        "integer NOT NULL PRIMARY KEY AUTOINCREMENT",
        "serial NOT NULL PRIMARY KEY",
    )
    .replace(" datetime ", " timestamp with time zone ")
    .replace(" BLOB ", " bytea ")
}

impl DjangoDb {
    /// An empty Django database of this schema (`ddl` adapted for PostgreSQL when needed).
    pub async fn with_ddl(kind: Kind, ddl: &str) -> DjangoDb {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("django.sqlite3");
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let pool = sqlx::SqlitePool::connect(&url)
                    .await
                    .expect("create source");
                sqlx::raw_sql(ddl).execute(&pool).await.expect("load DDL");
                pool.close().await;
                DjangoDb {
                    kind,
                    url: path.display().to_string(),
                    path: Some(path),
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Kind::Postgres => {
                let admin = test_database_url();
                let name = format!(
                    "django_src_{}",
                    uuid::Uuid::new_v4()
                        .simple()
                        .to_string()
                        .get(..12)
                        .unwrap_or("x")
                );
                let pool = sqlx::PgPool::connect(&admin).await.expect("PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("create source database");
                pool.close().await;
                let mut url = url::Url::parse(&admin).expect("URL");
                url.set_path(&format!("/{name}"));
                let url = url.to_string();
                let pool = sqlx::PgPool::connect(&url).await.expect("source");
                sqlx::raw_sql(&postgres_ddl(ddl))
                    .execute(&pool)
                    .await
                    .expect("load DDL");
                pool.close().await;
                DjangoDb {
                    kind,
                    url,
                    path: None,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub async fn new(kind: Kind) -> DjangoDb {
        DjangoDb::with_ddl(kind, &sqlite_ddl()).await
    }

    /// Runs SQL written for both engines (TRUE/FALSE, date-times as UTC text).
    pub async fn exec(&self, sql: &str) {
        match self.kind {
            Kind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.url))
                    .await
                    .expect("source");
                sqlx::raw_sql(sql).execute(&pool).await.expect("source SQL");
                pool.close().await;
            }
            Kind::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("source");
                let sql = format!("SET TIME ZONE 'UTC'; {sql}");
                sqlx::raw_sql(&sql)
                    .execute(&pool)
                    .await
                    .expect("source SQL");
                pool.close().await;
            }
        }
    }

    /// Stores an attachment's bytes as the original did (a bare BLOB).
    pub async fn attachment(&self, id: i64, ticket: i64, by: i64, at: &str, data: &[u8]) {
        const SQL: &str = "INSERT INTO core_ticketattachment (id, uploaded_at, ticket_id, uploaded_by_id, file_data) \
                           VALUES ($1, CAST($2 AS TIMESTAMP), $3, $4, $5)";
        match self.kind {
            Kind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.url))
                    .await
                    .expect("source");
                let sql = SQL.replace("CAST($2 AS TIMESTAMP)", "$2");
                sqlx::query(&sql)
                    .bind(id)
                    .bind(at)
                    .bind(ticket)
                    .bind(by)
                    .bind(data)
                    .execute(&pool)
                    .await
                    .expect("attachment");
                pool.close().await;
            }
            Kind::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("source");
                sqlx::query(SQL)
                    .bind(id as i32)
                    .bind(at)
                    .bind(ticket)
                    .bind(by as i32)
                    .bind(data)
                    .execute(&pool)
                    .await
                    .expect("attachment");
                pool.close().await;
            }
        }
    }

    pub async fn remove(self) {
        if let Some(name) = &self.pg_name {
            let pool = sqlx::PgPool::connect(&test_database_url())
                .await
                .expect("PostgreSQL");
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }
}

/// A small deployment: an admin with a Django password, a developer with local numbers, a
/// client whose phone does not parse, a user without a profile, two tickets (ids 7 and 9) with
/// history, a comment, an assignee and an attachment, notification logs of three types and two
/// statuses, and two refresh tokens (one blacklisted) whose jti are given.
pub fn deployment(valid_jti: &str, blacklisted_jti: &str) -> String {
    format!(
        "INSERT INTO auth_user (id, password, last_login, is_superuser, username, last_name, email, is_staff, is_active, date_joined, first_name) VALUES
           (1, '{DJANGO_HASH}', '2025-06-01 08:00:00.250000', TRUE, 'boss', 'Adel', 'boss@example.com', TRUE, TRUE, '2024-01-02 03:04:05.123456', 'Mona'),
           (2, '{DJANGO_HASH}', NULL, FALSE, 'dev', 'Dev', 'dev@example.com', FALSE, TRUE, '2024-01-03 00:00:00', 'Omar'),
           (3, '{DJANGO_HASH}', NULL, FALSE, 'client', 'Client', 'client@example.com', FALSE, TRUE, '2024-01-04 00:00:00', 'Sara'),
           (4, '!unusable', NULL, FALSE, 'ghost', '', '', FALSE, FALSE, '2024-01-05 00:00:00', '');
         INSERT INTO core_userprofile (id, role, phone_number, department, created_at, updated_at, user_id, whatsapp_number) VALUES
           (10, 'ADMIN', '', 'IT', '2024-01-02 03:04:05', '2024-01-02 03:04:05', 1, '+201000000001'),
           (11, 'SUPPORT', '010 9440 2250', 'IT', '2024-01-03 00:00:00', '2024-01-03 00:00:00', 2, '01094402250'),
           (12, 'CLIENT', 'call me maybe', NULL, '2024-01-04 00:00:00', '2024-01-04 00:00:00', 3, '');
         INSERT INTO core_ticket (id, title, description, priority, category, status, assigned_team, estimated_resolution_time, created_at, updated_at, opened_at, started_at, resolved_at, closed_at, created_by_id, resolution_breached, resolution_due_at, response_breached, response_due_at, project_name) VALUES
           (7, 'Printer on fire', 'Smoke everywhere', 'HIGH', 'SERVICE_DOWN', 'IN_PROGRESS', 'Ops', '2025-05-03 12:00:00', '2025-05-01 10:00:00.654321', '2025-05-02 09:30:00.000001', '2025-05-01 11:00:00', '2025-05-02 09:30:00.000001', NULL, NULL, 3, TRUE, '2025-05-02 10:00:00.123456', FALSE, '2025-05-01 14:00:00', 'Office'),
           (9, 'New laptop', 'Please', 'LOW', 'NEW_FEATURE', 'NEW', NULL, NULL, '2025-05-04 10:00:00', '2025-05-04 10:00:00', NULL, NULL, NULL, NULL, 3, FALSE, NULL, FALSE, NULL, 'General');
         INSERT INTO core_ticket_assigned_to (id, ticket_id, user_id) VALUES (1, 7, 2);
         INSERT INTO core_tickethistory (id, status_from, status_to, comment, timestamp, changed_by_id, ticket_id) VALUES
           (20, 'NEW', 'OPENED', 'Ticket opened by boss', '2025-05-01 11:00:00', 1, 7),
           (21, 'OPENED', 'IN_PROGRESS', 'Work started on ticket', '2025-05-02 09:30:00.000001', 2, 7),
           (22, 'IN_PROGRESS', 'IN_PROGRESS', 'Any news?', '2025-05-02 10:15:00', 3, 7);
         INSERT INTO core_notificationlog (id, notification_type, subject, message, status, error_message, sent_at, created_at, recipient_id, ticket_id, is_read, read_at) VALUES
           (100, 'WHATSAPP', 'WhatsApp Notification', 'Ticket #7 opened', 'FAILED', 'API Error: Invalid OAuth access token', NULL, '2025-05-01 11:00:01', 1, 7, FALSE, NULL),
           (101, 'WHATSAPP', 'WhatsApp Notification', 'Ticket #9 created', 'SENT', NULL, '2025-05-04 10:00:02', '2025-05-04 10:00:01', 1, 9, FALSE, NULL),
           (102, 'EMAIL', 'Ticket #7 update', 'Work started', 'SENT', NULL, '2025-05-02 09:30:02', '2025-05-02 09:30:01', 3, 7, FALSE, NULL),
           (103, 'SYSTEM', 'Ticket #7 update', 'Work started', 'SENT', NULL, '2025-05-02 09:30:02', '2025-05-02 09:30:01', 3, 7, TRUE, '2025-05-02 12:00:00.5');
         INSERT INTO token_blacklist_outstandingtoken (id, token, created_at, expires_at, user_id, jti) VALUES
           (1, 'eyJ...', '2025-05-01 00:00:00', '2099-01-01 00:00:00', 3, '{valid_jti}'),
           (2, 'eyJ...', '2025-05-01 00:00:00', '2099-01-01 00:00:00', 3, '{blacklisted_jti}');
         INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id, id) VALUES ('2025-05-02 00:00:00', 2, 1);"
    )
}

/// The deployment, with refresh tokens signed by this app's key: (valid, blacklisted).
pub async fn filled(app: &TestApp, kind: Kind) -> (DjangoDb, String, String) {
    let src = DjangoDb::new(kind).await;
    let valid = app.state.jwt.issue(3, TokenType::Refresh).expect("token");
    let blacklisted = app.state.jwt.issue(3, TokenType::Refresh).expect("token");
    src.exec(&deployment(&valid.claims.jti, &blacklisted.claims.jti))
        .await;
    src.attachment(5, 7, 3, "2025-05-02 10:16:00.777", PNG)
        .await;
    (src, valid.token, blacklisted.token)
}

pub fn options(src: &DjangoDb, region: Option<&str>) -> Options {
    Options {
        from: src.url.clone(),
        source_name: src.url.clone(),
        phone_region: region.map(str::to_string),
        dry_run: false,
    }
}

pub async fn import(app: &TestApp, opts: &Options) -> Result<Report, ImportError> {
    import::run(&app.db, opts, &Quiet).await
}

/// Rows of each table of the target.
pub async fn target_rows(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "users",
        "user_profiles",
        "tickets",
        "ticket_assignees",
        "ticket_history",
        "ticket_attachments",
        "notification_log",
        "outstanding_tokens",
        "blacklisted_tokens",
        "django_imports",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = incident::on_db!(&app.db, p => sqlx::query_scalar(&sql).fetch_one(p).await)
            .expect("count");
        out.push(n);
    }
    out
}

fn utc(s: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(
        &chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("date-time"),
    )
}

async fn stored_time(app: &TestApp, sql: &str) -> Option<DateTime<Utc>> {
    incident::on_db!(&app.db, p => sqlx::query_scalar(sql).fetch_one(p).await).expect("time")
}

async fn login_token(app: &TestApp, username: &str) -> String {
    let (status, body) = app.login_with(username, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{username}: {body}");
    body["access"].as_str().expect("access").to_string()
}

async fn sqlite_source_comes_over_whole_and_works_through_the_api(app: TestApp) {
    comes_over_whole(app, Kind::Sqlite).await;
}

async fn postgres_source_comes_over_whole_and_works_through_the_api(app: TestApp) {
    comes_over_whole(app, Kind::Postgres).await;
}

async fn comes_over_whole(app: TestApp, kind: Kind) {
    let (src, valid, blacklisted) = filled(&app, kind).await;
    let before = src
        .path
        .as_ref()
        .map(|p| std::fs::read(p).expect("source bytes"));
    let report = import(&app, &options(&src, Some("EG")))
        .await
        .expect("import");
    assert_eq!(report.outcome, Outcome::Imported);
    if let (Some(p), Some(before)) = (&src.path, before) {
        assert_eq!(
            std::fs::read(p).expect("source bytes"),
            before,
            "the source is never written"
        );
    }
    assert_eq!(target_rows(&app).await, [4, 4, 2, 1, 3, 1, 4, 2, 1, 1]);
    // The ticket counters and the search index took in the imported tickets (issue 11).
    let db = &app.state.db;
    let drift = incident::db::ticket_list::counter_drift(db).await.unwrap();
    assert!(
        drift.is_empty(),
        "ticket counters after the import: {drift:?}"
    );
    incident::db::ticket_list::check_search_index(db)
        .await
        .expect("the search index holds the imported tickets");
    let profiles = report.table("core_userprofile").expect("profiles line");
    assert_eq!((profiles.read, profiles.imported), (3, 4));
    let notes: Vec<(i64, &str)> = report
        .attention
        .iter()
        .map(|a| (a.user_id, a.reason.as_str()))
        .collect();
    assert!(
        notes
            .iter()
            .any(|(u, r)| *u == 3 && r.contains("\"call me maybe\"")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|(u, r)| *u == 3 && r.contains("no WhatsApp")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|(u, r)| *u == 4 && r.contains("no profile")),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|(u, _)| *u == 1 || *u == 2), "{notes:?}");

    // The Django password logs in, and is upgraded then.
    let admin = login_token(&app, "boss").await;
    assert!(app.stored_password(1).await.starts_with("$argon2id$"));
    assert_eq!(
        app.login_with("ghost", PASSWORD).await.0,
        StatusCode::BAD_REQUEST
    );

    // Profiles: roles, numbers in E.164 with the region, the missing profile as CLIENT.
    let (_, dev) = app.get("/api/users/2/", &admin).await;
    assert_eq!(dev["role"], "SUPPORT");
    assert_eq!(dev["whatsapp_number"], "+201094402250");
    assert_eq!(dev["phone_number"], "+201094402250");
    let (_, client) = app.get("/api/users/3/", &admin).await;
    assert_eq!(client["phone_number"], "");
    let (status, ghost) = app.get("/api/users/4/", &admin).await;
    assert_eq!(status, StatusCode::OK, "{ghost}");
    assert_eq!(ghost["role"], "CLIENT");
    assert_eq!(ghost["is_active"], false);

    // The ticket with its assignee, history in order and comment, SLA values as stored.
    let d = detail(&app, 7, &admin).await;
    assert_eq!(d["assigned_to"], json!([2]));
    assert_eq!(d["status"], "IN_PROGRESS");
    assert_eq!(d["project_name"], "Office");
    assert_eq!(
        (
            d["response_breached"].clone(),
            d["resolution_breached"].clone()
        ),
        (json!(false), json!(true))
    );
    let h: Vec<(i64, Value)> = history(&d)
        .iter()
        .map(|h| (h["id"].as_i64().unwrap(), h["comment"].clone()))
        .collect();
    assert_eq!(
        h,
        [
            (22, json!("Any news?")),
            (21, json!("Work started on ticket")),
            (20, json!("Ticket opened by boss"))
        ]
    );
    assert_eq!(
        stored_time(&app, "SELECT resolution_due_at FROM tickets WHERE id = 7").await,
        Some(utc("2025-05-02 10:00:00.123456")),
        "microseconds are kept"
    );
    assert_eq!(
        stored_time(&app, "SELECT date_joined FROM users WHERE id = 1").await,
        Some(utc("2024-01-02 03:04:05.123456"))
    );

    // The attachment: same bytes, type and name from the bytes.
    let r = raw(
        &app,
        Method::GET,
        &path(7, "attachments/5/download"),
        Some(&admin),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, PNG);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"attachment-5.png\"")
    );

    // The admin's WhatsApp log shows the imported FAILED row; retrying it sends nothing.
    let (_, log) = app
        .get(
            "/api/notifications/?notification_type=WHATSAPP&status=FAILED",
            &admin,
        )
        .await;
    let failed = &log["results"][0];
    assert_eq!(log["count"], 1, "{log}");
    assert_eq!(failed["id"], 100);
    assert_eq!(
        failed["error_message"],
        "API Error: Invalid OAuth access token"
    );
    let (status, body) = app
        .post("/api/notifications/100/retry/", &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = app
        .post(
            "/api/notifications/retry_failed/",
            &admin,
            json!({"notification_type": "WHATSAPP"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let status: String = incident::on_db!(&app.db, p => sqlx::query_scalar("SELECT status FROM notification_log WHERE id = 100").fetch_one(p).await).unwrap();
    assert_eq!(status, "FAILED", "imported rows are history");
    let client_token = login_token(&app, "client").await;
    let (_, mine) = app.get("/api/notifications/", &client_token).await;
    assert_eq!(mine["results"][0]["id"], 103);
    assert_eq!(mine["results"][0]["is_read"], true);

    // Refresh tokens: the valid one refreshes once; the blacklisted one stays refused.
    let refresh = |t: &str| {
        app.call(
            Method::POST,
            "/api/auth/refresh/",
            None,
            Some(json!({"refresh": t})),
        )
    };
    assert_eq!(refresh(&valid).await.0, StatusCode::OK);
    assert_eq!(refresh(&valid).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&blacklisted).await.0, StatusCode::UNAUTHORIZED);

    // Ids continue after the imported ones.
    let (status, created) = app
        .post("/api/tickets/", &client_token, json!({"title": "After the move", "description": "x", "priority": "LOW", "category": "BUG"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], 10);
    let (_, created_detail) = app.get("/api/tickets/10/", &client_token).await;
    assert_eq!(created_detail["title"], "After the move");
    let (_, found) = app
        .get("/api/tickets/?search=ON%20FIRE", &client_token)
        .await;
    assert_eq!(
        (found["count"].as_i64(), found["results"][0]["id"].as_i64()),
        (Some(1), Some(7))
    );
    src.remove().await;
}

async fn local_numbers_without_a_region_stop_the_import_before_any_write(app: TestApp) {
    let (src, _, _) = filled(&app, Kind::Sqlite).await;
    let err = import(&app, &options(&src, None))
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(matches!(err, ImportError::RegionNeeded { .. }), "{text}");
    assert!(
        text.contains("dev (010 9440 2250)") && text.contains("dev (01094402250)"),
        "{text}"
    );
    assert!(text.contains("--phone-region"), "{text}");
    assert!(!text.contains("boss"), "{text}");
    assert_eq!(target_rows(&app).await, [0; 10]);
}

async fn refused_sources_leave_the_target_untouched(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite3");
    let err = import(&app, &options_from(&missing.display().to_string()))
        .await
        .expect_err("missing");
    assert!(matches!(err, ImportError::CannotOpen { .. }), "{err}");
    assert!(!missing.exists(), "a missing source is not created");

    let text_file = dir.path().join("notes.txt");
    std::fs::write(&text_file, "this is not a database, just words words words").unwrap();
    let err = import(&app, &options_from(&text_file.display().to_string()))
        .await
        .expect_err("text");
    assert!(matches!(err, ImportError::CannotOpen { .. }), "{err}");

    let other =
        DjangoDb::with_ddl(Kind::Sqlite, "CREATE TABLE notes (id INTEGER PRIMARY KEY);").await;
    let err = import(&app, &options(&other, None))
        .await
        .expect_err("not Django");
    assert!(
        err.to_string()
            .contains("is not a Django database of this schema"),
        "{err}"
    );

    // Migration 0004 (read tracking) not applied.
    let older = sqlite_ddl()
        .replace(", \"is_read\" bool NOT NULL, \"read_at\" datetime NULL", "")
        .replace("CREATE INDEX \"core_notifi_recipie_6e6c97_idx\" ON \"core_notificationlog\" (\"recipient_id\", \"is_read\", \"created_at\" DESC);", "");
    let older = DjangoDb::with_ddl(Kind::Sqlite, &older).await;
    let err = import(&app, &options(&older, None))
        .await
        .expect_err("older");
    let text = err.to_string();
    assert!(matches!(err, ImportError::OlderSchema { .. }), "{text}");
    assert!(
        text.contains("core_notificationlog.is_read") && text.contains("0004"),
        "{text}"
    );

    // A history row whose ticket does not exist.
    let (src, _, _) = filled(&app, Kind::Sqlite).await;
    src.exec("PRAGMA foreign_keys = OFF; INSERT INTO core_tickethistory (id, status_from, status_to, comment, timestamp, changed_by_id, ticket_id) VALUES (23, 'NEW', 'OPENED', '', '2025-05-01 11:00:00', 1, 999);").await;
    let err = import(&app, &options(&src, Some("EG")))
        .await
        .expect_err("orphan");
    assert_eq!(
        err.to_string(),
        "core_tickethistory row id=23: ticket_id = 999 points to no core_ticket row; nothing was imported"
    );
    assert_eq!(target_rows(&app).await, [0; 10]);
}

fn options_from(from: &str) -> Options {
    Options {
        from: from.to_string(),
        source_name: from.to_string(),
        phone_region: None,
        dry_run: false,
    }
}

async fn a_bad_row_midway_rolls_everything_back(app: TestApp) {
    let (src, _, _) = filled(&app, Kind::Sqlite).await;
    src.exec("UPDATE core_ticket SET status = 'ON_HOLD' WHERE id = 9")
        .await;
    let err = import(&app, &options(&src, Some("EG")))
        .await
        .expect_err("bad status");
    assert_eq!(
        err.to_string(),
        "core_ticket row id=9: status \"ON_HOLD\" is not one of ours; nothing was imported"
    );
    // Users and profiles were written before ticket 9 was read: the transaction undid them.
    assert_eq!(target_rows(&app).await, [0; 10]);
}

async fn a_target_with_data_is_refused(app: TestApp) {
    let (src, _, _) = filled(&app, Kind::Sqlite).await;
    app.create_user("early-admin", incident::domain::user::Role::Admin)
        .await;
    let err = import(&app, &options(&src, Some("EG")))
        .await
        .expect_err("not empty");
    assert!(
        err.to_string()
            .contains("already holds data (users: 1 rows"),
        "{err}"
    );
    assert_eq!(target_rows(&app).await, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
}

async fn a_rerun_of_the_same_source_is_already_imported_and_changes_nothing(app: TestApp) {
    let (src, _, _) = filled(&app, Kind::Sqlite).await;
    let opts = options(&src, Some("EG"));
    import(&app, &opts).await.expect("first run");
    let after_first = target_rows(&app).await;
    let again = import(&app, &opts).await.expect("second run");
    assert!(
        matches!(again.outcome, Outcome::AlreadyImported { .. }),
        "{:?}",
        again.outcome
    );
    assert_eq!(again.rows_imported(), 0);
    assert_eq!(target_rows(&app).await, after_first);
    // The source changed since: that is not the same import any more.
    src.exec("INSERT INTO core_ticket (id, title, description, priority, category, status, created_at, updated_at, created_by_id, resolution_breached, response_breached, project_name) VALUES (11, 't', 'd', 'LOW', 'BUG', 'NEW', '2025-06-01 00:00:00', '2025-06-01 00:00:00', 3, FALSE, FALSE, 'General');").await;
    let err = import(&app, &opts).await.expect_err("changed source");
    assert!(matches!(err, ImportError::TargetNotEmpty { .. }), "{err}");
    assert_eq!(target_rows(&app).await, after_first);
}

async fn a_dry_run_checks_everything_and_writes_nothing(app: TestApp) {
    let (src, _, _) = filled(&app, Kind::Sqlite).await;
    let mut opts = options(&src, Some("EG"));
    opts.dry_run = true;
    let report = import(&app, &opts).await.expect("dry run");
    assert_eq!(report.outcome, Outcome::DryRun);
    assert_eq!(
        report.table("core_notificationlog").map(|t| t.read),
        Some(4)
    );
    assert_eq!(report.rows_read(), 4 + 3 + 2 + 1 + 3 + 1 + 4 + 2 + 1);
    assert_eq!(target_rows(&app).await, [0; 10]);
    // It checks what a real run checks.
    src.exec("UPDATE core_tickethistory SET timestamp = 'yesterday' WHERE id = 21")
        .await;
    let err = import(&app, &opts).await.expect_err("bad date");
    assert_eq!(
        err.to_string(),
        "core_tickethistory row id=21: timestamp \"yesterday\" is not a date-time; nothing was imported"
    );
}
