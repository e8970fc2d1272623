//! Issue 11 (scale): the worker's claim reads the due index however big the log is, a
//! statement stops when nobody waits for it, and the ticket lists, their counts and search read
//! their indexes (no scan of the tickets, no sort of every matching row). Both engines.

use std::time::{Duration, Instant};

use chrono::Utc;
use incident::db::ticket_list::{self, ListFilter, TicketOrder};
use incident::db::tickets::Scope;
use incident::db::{notifications, Db};
use incident::domain::ticket::{Priority, Status};

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
    // The batch is read in the index's order and the read stops there: no sort of every due row.
    assert!(
        !text.contains("Sort") && !text.contains("TEMP B-TREE"),
        "the claim sorts the due rows:\n{text}"
    );
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

/// A client (1), eleven developers (2 to 12) and `TICKETS` tickets of every status, priority and
/// category, a tenth of them the client's, a third assigned to one of developers 2 to 11 each
/// (a thousand each), six to developer 12; `{series}` is the engine's number series (`x`).
const TICKET_FILL: [&str; 6] = [
    "INSERT INTO users (username, password, date_joined) SELECT 'u' || x, 'x', CURRENT_TIMESTAMP FROM series WHERE x <= 12",
    "INSERT INTO user_profiles (user_id, role, created_at, updated_at) \
     SELECT id, CASE id WHEN 1 THEN 'CLIENT' ELSE 'SUPPORT' END, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM users",
    "INSERT INTO tickets (project_name, title, description, priority, category, status, created_by_id, created_at, updated_at, version) \
     SELECT 'Project ' || (x % 40), 'Ticket ' || x || ' cannot log in', 'Steps to reproduce number ' || x, \
     CASE x % 3 WHEN 0 THEN 'HIGH' WHEN 1 THEN 'MEDIUM' ELSE 'LOW' END, \
     CASE x % 4 WHEN 0 THEN 'BUG' WHEN 1 THEN 'PROBLEM' WHEN 2 THEN 'SERVICE_DOWN' ELSE 'NEW_FEATURE' END, \
     CASE x % 6 WHEN 0 THEN 'NEW' WHEN 1 THEN 'OPENED' WHEN 2 THEN 'IN_PROGRESS' WHEN 3 THEN 'RESOLVED' \
     WHEN 4 THEN 'WAITING_APPROVAL' ELSE 'CLOSED' END, CASE x % 10 WHEN 0 THEN 1 ELSE 2 + x % 10 END, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 FROM series",
    "INSERT INTO ticket_assignees (ticket_id, user_id) SELECT id, 2 + (id / 3) % 10 FROM tickets WHERE id % 3 = 0",
    "INSERT INTO ticket_assignees (ticket_id, user_id) SELECT id, 12 FROM tickets WHERE id % 5000 = 1",
    "ANALYZE",
];
const TICKETS: i64 = 30_000;

/// One list query whose plan must read an index: (what, scope, filter, offset, the index the
/// page reads, the index the count reads if it is not the counters).
type ListCase = (
    &'static str,
    Scope,
    ListFilter,
    i64,
    &'static [&'static str],
    Option<&'static str>,
);

fn list_cases() -> Vec<ListCase> {
    let filter = |f: fn(&mut ListFilter)| {
        let mut l = ListFilter::default();
        f(&mut l);
        l
    };
    vec![
        (
            "admin page 1",
            Scope::All,
            ListFilter::default(),
            0,
            &["tickets_created_at_idx"],
            None,
        ),
        (
            "admin page 50",
            Scope::All,
            ListFilter::default(),
            980,
            &["tickets_created_at_idx"],
            None,
        ),
        (
            "admin oldest first",
            Scope::All,
            filter(|l| l.order_by = Some(TicketOrder::Created)),
            0,
            &["tickets_created_at_idx"],
            None,
        ),
        (
            "admin by priority",
            Scope::All,
            filter(|l| l.order_by = Some(TicketOrder::Priority)),
            980,
            &["tickets_priority_rank_idx"],
            None,
        ),
        (
            "admin by status, descending",
            Scope::All,
            filter(|l| l.order_by = Some(TicketOrder::StatusDesc)),
            0,
            &["tickets_status_rank_desc_idx"],
            None,
        ),
        (
            "admin one status and priority",
            Scope::All,
            filter(|l| {
                l.statuses = vec![Status::Opened];
                l.priorities = vec![Priority::Medium];
            }),
            0,
            &["tickets_status_priority_idx", "tickets_created_at_idx"],
            None,
        ),
        (
            "admin one status",
            Scope::All,
            filter(|l| l.statuses = vec![Status::Closed]),
            0,
            &["tickets_status_created_idx", "tickets_created_at_idx"],
            None,
        ),
        (
            "a client's own",
            Scope::CreatedBy(1),
            ListFilter::default(),
            0,
            &["tickets_created_by_idx"],
            Some("tickets_created_by_idx"),
        ),
        (
            // A thirtieth of the tickets: the order's index walked, each ticket's assignment
            // probed, until the page is full.
            "a developer's, many tickets",
            Scope::AssignedTo(2),
            ListFilter::default(),
            0,
            &["tickets_created_at_idx", "ticket_assignees_pkey"],
            Some("ticket_assignees_user_idx"),
        ),
        (
            // Six tickets: their set, read and sorted, not a walk of the whole index.
            "a developer's, few tickets",
            Scope::AssignedTo(12),
            ListFilter::default(),
            0,
            &["ticket_assignees_user_idx", "ticket_assignees_pkey"],
            Some("ticket_assignees_user_idx"),
        ),
    ]
}

/// The search's plans (SQLite: the FTS5 table; PostgreSQL: the trigram indexes).
fn search_filter() -> ListFilter {
    ListFilter {
        search: Some("4242".into()),
        ..ListFilter::default()
    }
}

/// A plan step that reads a whole table of tickets.
fn scans_tickets(plan: &[String]) -> bool {
    plan.iter().any(|l| {
        let l = l.trim();
        l.contains("Seq Scan on tickets ") || l == "SCAN t" || l == "SCAN tickets"
    })
}

/// The sorts inside the query that picks the page's ids (SQLite's `CO-ROUTINE page`,
/// PostgreSQL's `Limit` and what it reads): none, when the page is read in index order.
fn sorts_before_the_limit(plan: &[String]) -> usize {
    let depth = |l: &str| l.len() - l.trim_start().len();
    let Some(start) = plan.iter().position(|l| {
        l.contains("CO-ROUTINE page") || l.contains("MATERIALIZE page") || l.contains("Limit  (")
    }) else {
        return usize::MAX;
    };
    plan[start + 1..]
        .iter()
        .take_while(|l| depth(l) > depth(&plan[start]))
        .filter(|l| l.contains("Sort  (") || l.contains("TEMP B-TREE FOR ORDER BY"))
        .count()
}

async fn assert_lists_read_their_indexes(db: &Db) {
    for (what, scope, filter, offset, page_index, count_index) in list_cases() {
        let (page, count) = ticket_list::plans(db, scope, &filter, offset)
            .await
            .unwrap();
        let shown = format!(
            "{what}:\npage:\n{}\ncount:\n{}",
            page.join("\n"),
            count.join("\n")
        );
        assert!(
            !scans_tickets(&page) && !scans_tickets(&count),
            "a scan: {shown}"
        );
        assert!(
            page.iter()
                .any(|l| page_index.iter().any(|i| l.contains(i))),
            "not {page_index:?}: {shown}"
        );
        match count_index {
            Some(index) => assert!(count.iter().any(|l| l.contains(index)), "{shown}"),
            None => assert!(
                !count.iter().any(|l| l.contains("tickets"))
                    || count.iter().any(|l| l.contains("ticket_counts")),
                "the admin's count does not read the counters: {shown}"
            ),
        }
        if matches!(scope, Scope::All) {
            // The only sort is of the page's twenty rows joined to their people.
            assert_eq!(sorts_before_the_limit(&page), 0, "{shown}");
        }
    }
    let (page, count) = ticket_list::plans(db, Scope::All, &search_filter(), 0)
        .await
        .unwrap();
    let shown = format!(
        "search:\npage:\n{}\ncount:\n{}",
        page.join("\n"),
        count.join("\n")
    );
    assert!(
        !scans_tickets(&page) && !scans_tickets(&count),
        "a scan: {shown}"
    );
    let index = |l: &String| l.contains("tickets_search VIRTUAL TABLE") || l.contains("_trgm_idx");
    assert!(page.iter().any(index) && count.iter().any(index), "{shown}");
}

async fn run_fill(db: &Db, series: &str) {
    for sql in TICKET_FILL {
        let sql = if sql.contains("FROM series") {
            format!("{series}{sql}")
        } else {
            sql.to_string()
        };
        incident::on_write!(db.write().await, p => sqlx::query(&sql).execute(p).await.map(|_| ()))
            .unwrap();
    }
}

#[tokio::test]
async fn sqlite_ticket_lists_and_search_read_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir).await;
    let db = Db::connect(&url, 2).await.unwrap();
    db.migrate().await.unwrap();
    let series = format!(
        "WITH RECURSIVE series(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM series WHERE x < {TICKETS}) "
    );
    run_fill(&db, &series).await;
    assert_lists_read_their_indexes(&db).await;
    db.close().await;
}

#[tokio::test]
async fn postgres_ticket_lists_and_search_read_their_indexes() {
    let (url, admin, name) = postgres_url().await;
    let db = Db::connect(&url, 2).await.unwrap();
    db.migrate().await.unwrap();
    let series = format!("WITH series(x) AS (SELECT generate_series(1, {TICKETS}::bigint)) ");
    run_fill(&db, &series).await;
    assert_lists_read_their_indexes(&db).await;
    db.close().await;
    drop_postgres(&admin, &name).await;
}

// ---------------------------------------------------------------------------------------------
// Every list and count of the notification log reads an index (issue 11): plans at a size where
// a scan would show, on both engines.

/// 50 users, 4,000 tickets (a sixth CLOSED) and 40,000 log rows of every channel, status,
/// delivery status and read state, a minute apart. `{series}` is a number series of `%n`, `{ago}`
/// a time `%x` minutes ago: the two engine-specific pieces.
fn log_fill(series: &str, ago: &str) -> Vec<String> {
    let s = |n: i64| series.replace("%n", &n.to_string());
    let t = |x: &str| ago.replace("%x", x);
    vec![
        format!("INSERT INTO users (username, password, date_joined) SELECT 'u' || x, 'x', {} FROM ({}) s", t("x"), s(50)),
        format!(
            "INSERT INTO tickets (project_name, title, description, priority, category, status, created_by_id, created_at, updated_at) \
             SELECT 'p', 't', 'd', 'LOW', 'BUG', CASE WHEN x % 6 = 0 THEN 'CLOSED' ELSE 'OPENED' END, 1 + x % 50, {0}, {0} \
             FROM ({1}) s",
            t("x * 10"),
            s(4000)
        ),
        format!(
            "INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, status, created_at, \
             updated_at, is_read, event, step, delivery_status, attempts) \
             SELECT 1 + x % 4000, 1 + x % 50, CASE x % 3 WHEN 0 THEN 'SYSTEM' ELSE 'WHATSAPP' END, 's', 'm', \
             CASE WHEN x % 50 = 0 THEN 'FAILED' WHEN x % 997 = 0 THEN 'PENDING' ELSE 'SENT' END, {0}, {0}, x % 4 <> 0, 'e', x, \
             CASE WHEN x % 3 = 0 THEN NULL WHEN x % 50 = 0 THEN 'failed' ELSE 'delivered' END, 1 FROM ({1}) s",
            t("x"),
            s(40_000)
        ),
    ]
}

/// A migrated database of `log_fill`, opened as the server opens it (statistics as it keeps them).
async fn filled_log(engine: &str) -> (Db, Option<(String, String)>, Option<tempfile::TempDir>) {
    if engine == "sqlite" {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir).await;
        let db = Db::connect(&url, 2).await.unwrap();
        db.migrate().await.unwrap();
        db.close().await;
        let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
        let series = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %n) SELECT x FROM c";
        for sql in log_fill(
            series,
            "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || (%x) || ' minutes')",
        ) {
            sqlx::query(&sql).execute(&raw).await.unwrap();
        }
        raw.close().await;
        (Db::connect(&url, 2).await.unwrap(), None, Some(dir))
    } else {
        let (url, admin, name) = postgres_url().await;
        let db = Db::connect(&url, 2).await.unwrap();
        db.migrate().await.unwrap();
        let raw = sqlx::PgPool::connect(&url).await.unwrap();
        let series = "SELECT generate_series(1, %n::bigint) AS x";
        for sql in log_fill(series, "now() - (%x) * interval '1 minute'") {
            sqlx::query(&sql).execute(&raw).await.unwrap();
        }
        sqlx::query("ANALYZE").execute(&raw).await.unwrap();
        raw.close().await;
        (db, Some((admin, name)), None)
    }
}

/// The list and count queries of every variant the API serves (the bell's, the admin's log).
fn log_variants() -> Vec<(&'static str, notifications::Filter, bool)> {
    use notifications::Filter;
    let text = |s: &str| Some(s.to_string());
    let bell = |f: Filter| Filter {
        recipient: Some(3),
        notification_type: text("SYSTEM"),
        ..f
    };
    let log = |f: Filter| Filter {
        notification_type: text("WHATSAPP"),
        ..f
    };
    let none = Filter::default;
    // (name, filter, whether its page must be read in order: filters narrow enough to sort
    // a handful of rows may sort)
    vec![
        ("bell", bell(none()), true),
        (
            "bell unread (unread/, unread_count/)",
            bell(Filter {
                is_read: Some(false),
                ..none()
            }),
            true,
        ),
        (
            "bell read",
            bell(Filter {
                is_read: Some(true),
                ..none()
            }),
            true,
        ),
        (
            "bell of one ticket",
            bell(Filter {
                ticket: Some(7),
                ..none()
            }),
            false,
        ),
        ("admin log by channel", log(none()), true),
        (
            "admin log by status",
            log(Filter {
                status: text("FAILED"),
                ..none()
            }),
            true,
        ),
        (
            "admin log of SENT in-app rows",
            Filter {
                notification_type: text("SYSTEM"),
                status: text("SENT"),
                ..none()
            },
            true,
        ),
        (
            "admin log by delivery status",
            log(Filter {
                delivery_status: text("failed"),
                ..none()
            }),
            true,
        ),
        (
            "admin log by status and delivery",
            log(Filter {
                status: text("FAILED"),
                delivery_status: text("failed"),
                ..none()
            }),
            false,
        ),
        (
            "admin log of one recipient",
            log(Filter {
                recipient: Some(3),
                ..none()
            }),
            true,
        ),
        (
            "admin log of one recipient by status",
            log(Filter {
                recipient: Some(3),
                status: text("FAILED"),
                ..none()
            }),
            false,
        ),
        (
            "admin log of one ticket",
            log(Filter {
                ticket: Some(7),
                ..none()
            }),
            false,
        ),
        (
            "admin log of one ticket and recipient",
            log(Filter {
                ticket: Some(7),
                recipient: Some(8),
                ..none()
            }),
            false,
        ),
    ]
}

/// The plan's lines that read the log or the tickets row by row, or sort every matching row.
fn scans(plan: &[String], in_order: bool) -> Vec<String> {
    plan.iter()
        .filter(|line| {
            let l = line.trim_start_matches([' ', '-', '>']).trim();
            let seq = l.starts_with("Seq Scan on notification_log")
                || l.starts_with("Seq Scan on tickets")
                || ["SCAN n", "SCAN t", "SCAN notification_log", "SCAN tickets"].contains(&l);
            let sorts = l.starts_with("Sort  (") || l == "USE TEMP B-TREE FOR ORDER BY";
            seq || (in_order && sorts)
        })
        .cloned()
        .collect()
}

async fn every_log_query_reads_an_index(engine: &str) {
    let (db, pg, _dir) = filled_log(engine).await;
    let mut bad = Vec::new();
    for (name, f, in_order) in log_variants() {
        for (what, plan, in_order) in [
            (
                "page 1",
                notifications::list_plan(&db, &f, 0, 20).await.unwrap(),
                in_order,
            ),
            // A deep page of one recipient's few rows here may sort them: no scan is the rule.
            (
                "page 10",
                notifications::list_plan(&db, &f, 180, 20).await.unwrap(),
                false,
            ),
            (
                "count",
                notifications::count_plan(&db, &f).await.unwrap(),
                false,
            ),
        ] {
            if !scans(&plan, in_order).is_empty() {
                bad.push(format!("{name}, {what}:\n{}", plan.join("\n")));
            }
        }
    }
    for channel in incident::db::retention::CHANNELS {
        let plan = incident::db::retention::delete_plan(&db, channel, Utc::now())
            .await
            .unwrap();
        if !scans(&plan, true).is_empty() {
            bad.push(format!("prune of {channel}:\n{}", plan.join("\n")));
        }
    }
    db.close().await;
    if let Some((admin, name)) = pg {
        drop_postgres(&admin, &name).await;
    }
    assert!(
        bad.is_empty(),
        "{engine}: queries that scan or sort everything:\n\n{}",
        bad.join("\n\n")
    );
}

#[tokio::test]
async fn sqlite_every_log_list_and_count_reads_an_index() {
    every_log_query_reads_an_index("sqlite").await;
}

#[tokio::test]
async fn postgres_every_log_list_and_count_reads_an_index() {
    every_log_query_reads_an_index("postgres").await;
}
