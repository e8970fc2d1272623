//! `incident import-django` as an operator runs it: a SQLite Django database (built from the
//! original's DDL) into a SQLite target, the summary on standard output, plain progress lines
//! on a non-terminal standard error, and exit status 1 with the reason for a refused source.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn incident(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_incident"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run the incident binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn django_source(path: &Path, rows: &str) {
    let ddl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/django-schema.sql"
    ))
    .expect("DDL");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("source");
    sqlx::raw_sql(&ddl).execute(&pool).await.expect("DDL");
    sqlx::raw_sql(rows).execute(&pool).await.expect("rows");
    pool.close().await;
}

const ROWS: &str = "INSERT INTO auth_user (id, password, last_login, is_superuser, username, last_name, email, is_staff, is_active, date_joined, first_name) VALUES
    (1, '!x', NULL, TRUE, 'boss', '', '', TRUE, TRUE, '2024-01-02 03:04:05.123456', ''),
    (2, '!x', NULL, FALSE, 'nobody', '', '', FALSE, TRUE, '2024-01-02 03:04:05', '');
  INSERT INTO core_userprofile (id, role, phone_number, department, created_at, updated_at, user_id, whatsapp_number) VALUES
    (1, 'ADMIN', NULL, NULL, '2024-01-02 03:04:05', '2024-01-02 03:04:05', 1, '01094402250');";

#[tokio::test]
async fn sqlite_to_sqlite_prints_the_summary_then_reruns_as_already_imported() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("db.sqlite3");
    django_source(&source, ROWS).await;
    let target = format!("sqlite://{}", dir.path().join("incident.db").display());
    let vars = [("DATABASE_URL", target.as_str())];
    let from = source.display().to_string();

    // A local number and no region: refused, with the user and the flag to pass.
    let out = incident(dir.path(), &["import-django", "--from", &from], &vars);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("boss (01094402250)") && stderr.contains("--phone-region"),
        "{stderr}"
    );

    let args = ["import-django", "--from", &from, "--phone-region", "EG"];
    let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
    let out = incident(dir.path(), &dry, &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("dry run: 3 rows read"),
        "{}",
        text(&out.stdout)
    );

    let out = incident(dir.path(), &args, &vars);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("auth_user: 2 rows done"), "{stderr}");
    assert!(stdout.contains("imported 4 rows from"), "{stdout}");
    assert!(
        stdout.contains("user 2 \"nobody\": no profile in the original"),
        "{stdout}"
    );

    let out = incident(dir.path(), &args, &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("already imported"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_source_that_is_not_a_database_exits_1_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a database at all, only some words in a file").unwrap();
    let target = format!("sqlite://{}", dir.path().join("incident.db").display());
    let out = incident(
        dir.path(),
        &["import-django", "--from", &notes.display().to_string()],
        &[("DATABASE_URL", &target)],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot open the Django database"),
        "{stderr}"
    );
    assert!(stderr.contains("not a database"), "{stderr}");
}
