//! The `incident` binary as an operator runs it: exit codes and messages of bad configuration,
//! and `create-user` / `migrate` against a SQLite file.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs the binary from `dir` (so no stray `.env` is read) with only PATH and `vars` set.
fn incident(dir: &Path, args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_incident"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run the incident binary");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    child
        .wait_with_output()
        .expect("wait for the incident binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bad_environment_variables_are_all_reported_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("never.db").display());
    // `migrate` rather than the default `serve`: if the check regressed, this exits instead of
    // serving forever.
    let out = incident(
        dir.path(),
        &["migrate"],
        &[
            ("PORT", "eighty"),
            ("ACCESS_TOKEN_LIFETIME", "soon"),
            ("DATABASE_URL", &db),
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("PORT=\"eighty\""), "{stderr}");
    assert!(
        stderr.contains("ACCESS_TOKEN_LIFETIME=\"soon\""),
        "{stderr}"
    );
    assert!(
        !dir.path().join("never.db").exists(),
        "nothing is touched before the configuration is valid"
    );
}

#[test]
fn create_user_reads_the_password_from_stdin_then_migrate_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("incident.db");
    let db = format!("sqlite://{}", file.display());
    let vars = [("DATABASE_URL", db.as_str())];
    let create = [
        "create-user",
        "--username",
        "admin",
        "--role",
        "ADMIN",
        "--email",
        "admin@example.com",
        "--password-stdin",
    ];

    let out = incident(dir.path(), &create, &vars, Some("correct-horse-battery\n"));
    assert!(
        out.status.success(),
        "create-user failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("created ADMIN user \"admin\" with id 1"),
        "{}",
        text(&out.stdout)
    );
    assert!(file.exists());

    let out = incident(dir.path(), &["migrate"], &vars, None);
    assert!(
        out.status.success(),
        "migrate failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("migrations applied"),
        "{}",
        text(&out.stdout)
    );

    // The user is in the file: creating it again is refused.
    let out = incident(dir.path(), &create, &vars, Some("correct-horse-battery\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );

    // A short password is refused before anything is written.
    let other = [
        "create-user",
        "--username",
        "bob",
        "--role",
        "CLIENT",
        "--password-stdin",
    ];
    let out = incident(dir.path(), &other, &vars, Some("short\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at least 8 characters"),
        "{}",
        text(&out.stderr)
    );
}

/// Runs `sql` on the SQLite file at `url` (after the binary migrated it).
fn execute(url: &str, sql: &str) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    });
}

#[test]
fn notifications_prune_says_what_it_deletes_and_refuses_a_bad_age() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("incident.db").display());
    let vars = [("DATABASE_URL", db.as_str())];
    let prune = |args: &[&str]| {
        let mut all = vec!["notifications", "prune"];
        all.extend_from_slice(args);
        incident(dir.path(), &all, &vars, None)
    };

    // An age without a unit (seconds, elsewhere), zero or unreadable: refused, nothing opened.
    for bad in ["365", "0d", "a year"] {
        let out = prune(&["--older-than", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("is not an age"),
            "{bad}: {}",
            text(&out.stderr)
        );
    }
    assert!(!dir.path().join("incident.db").exists());
    let out = prune(&[]);
    assert_eq!(out.status.code(), Some(2), "--older-than is required");

    let out = incident(dir.path(), &["migrate"], &vars, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    execute(&db, "INSERT INTO users (username, password, date_joined) VALUES ('u', 'x', '2020-01-01T00:00:00+00:00')");
    execute(
        &db,
        "INSERT INTO notification_log (recipient_id, notification_type, subject, message, status, created_at, updated_at, step, event) \
         VALUES (1, 'SYSTEM', 's', 'm', 'SENT', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00', 1, 'e'), \
         (1, 'SYSTEM', 's', 'm', 'PENDING', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00', 2, 'e')",
    );

    let out = prune(&["--older-than", "365d", "--dry-run"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with("would delete 1 notification rows created before "),
        "{stdout}"
    );
    assert!(stdout.contains("(SYSTEM 1)"), "{stdout}");

    let out = prune(&["--older-than", "365d"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with("deleted 1 notification rows"),
        "{stdout}"
    );
    let out = prune(&["--older-than", "365d"]);
    assert!(
        text(&out.stdout).starts_with("deleted 0 notification rows"),
        "{}",
        text(&out.stdout)
    );
}
