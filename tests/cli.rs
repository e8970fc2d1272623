//! The `incident` binary as an operator runs it: exit codes (0, 1 failure, 2 usage, 78
//! configuration), help that lists every variable, `incident config`, and `create-user` /
//! `migrate` against a SQLite file.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs the binary from `dir` (so no stray `.env` is read) with only PATH and `vars` set; one
/// that has not finished within 60 s is stopped (`timeout` exits 124).
fn incident(dir: &Path, args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("60")
        .arg(env!("CARGO_BIN_EXE_incident"))
        .args(args)
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

/// The URL of SQLite file `file` in `dir`.
fn sqlite_url(dir: &Path, file: &str) -> String {
    format!("sqlite://{}", dir.join(file).display())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bad_environment_variables_are_all_reported_with_exit_code_78() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "never.db");
    let out = incident(
        dir.path(),
        &["serve"],
        &[
            ("PORT", "eighty"),
            ("ACCESS_TOKEN_LIFETIME", "soon"),
            ("DATABASE_URL", &db),
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "stderr: {stderr}");
    assert!(stderr.contains("PORT=\"eighty\""), "{stderr}");
    assert!(
        stderr.contains("ACCESS_TOKEN_LIFETIME=\"soon\""),
        "{stderr}"
    );
    assert!(
        !dir.path().join("never.db").exists(),
        "nothing is touched before the configuration is valid"
    );

    // `migrate` reads only the database's variables: the server's bad PORT is not its concern.
    let out = incident(
        dir.path(),
        &["migrate"],
        &[("PORT", "eighty"), ("DATABASE_URL", &db)],
        None,
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("creating") && stderr.contains("never.db"),
        "says it creates the file: {stderr}"
    );
}

#[test]
fn usage_errors_exit_2_and_help_answers_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = incident(dir.path(), &["serve", "--no-such-flag"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = incident(dir.path(), &["help", "--help"], &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = incident(dir.path(), &["help", "users", "set-password"], &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("--password-stdin"));
    assert!(text(&out.stdout).contains("--database-url"));
    let out = incident(dir.path(), &["help", "nothing"], &[], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serve_help_lists_every_variable_with_its_default_and_where_env_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = incident(
        dir.path(),
        &["serve", "--help"],
        &[("TWILIO_AUTH_TOKEN", "do-not-show-me")],
        None,
    );
    assert!(out.status.success());
    let help = text(&out.stdout);
    for v in incident::config::VARIABLES
        .iter()
        .filter(|v| v.used_by("serve"))
    {
        assert!(
            help.contains(&format!("--{}", v.flag())),
            "{}: {help}",
            v.name
        );
        assert!(help.contains(&format!("env: {}", v.name)), "{}", v.name);
        assert!(help.contains(v.default), "{} default {}", v.name, v.default);
    }
    assert!(help.contains(".env"), "{help}");
    assert!(help.contains("78 configuration error"), "{help}");
    assert!(!help.contains("do-not-show-me"), "a secret in help: {help}");
    let migrate = text(&incident(dir.path(), &["migrate", "--help"], &[], None).stdout);
    assert!(migrate.contains("--database-url") && !migrate.contains("--port"));
}

#[test]
fn config_prints_values_with_their_sources_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "TWILIO_AUTH_TOKEN=token-from-dotenv\nLOG_FORMAT=json\nPORT=7000\n",
    )
    .unwrap();
    let vars = [
        ("PORT", "9001"),
        (
            "DATABASE_URL",
            "postgres://app:hunter22@db.example/incident",
        ),
        ("SECRET_KEY", "a-secret-key-of-some-length"),
    ];
    let out = incident(dir.path(), &["config", "--host", "localhost"], &vars, None);
    let listing = text(&out.stdout);
    assert!(out.status.success(), "{listing}{}", text(&out.stderr));
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {listing}"))
            .to_string()
    };
    assert!(line("HOST").contains("localhost") && line("HOST").ends_with("# flag"));
    assert!(line("PORT").contains("9001") && line("PORT").ends_with("# environment"));
    assert!(line("LOG_FORMAT").contains("json") && line("LOG_FORMAT").ends_with("# .env"));
    assert!(line("TWILIO_AUTH_TOKEN").contains("<redacted>"));
    assert!(line("TWILIO_AUTH_TOKEN").ends_with("# .env"));
    assert!(line("SECRET_KEY").contains("<redacted>"));
    assert!(line("DATABASE_URL").contains("app:***@db.example"));
    assert!(line("NOTIFY_LEASE").contains("60s") && line("NOTIFY_LEASE").ends_with("# default"));
    for secret in [
        "token-from-dotenv",
        "hunter22",
        "a-secret-key-of-some-length",
    ] {
        assert!(!listing.contains(secret), "{secret} shown: {listing}");
    }
    assert!(listing.contains(&format!("{}", dir.path().join(".env").display())));

    let out = incident(dir.path(), &["config"], &[("HOST", "not a host")], None);
    assert_eq!(out.status.code(), Some(78));
    assert!(text(&out.stderr).contains("HOST=\"not a host\""));
}

#[test]
fn create_user_without_a_terminal_or_password_stdin_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "incident.db");
    let out = incident(
        dir.path(),
        &["create-user", "--username", "admin", "--role", "ADMIN"],
        &[("DATABASE_URL", &db)],
        Some("piped-password\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--password-stdin"),
        "{}",
        text(&out.stderr)
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

#[test]
fn serve_refuses_to_start_on_a_broken_template_override_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("ticket_opened.client.whatsapp.txt"),
        "Hello {{ recipient_name }},\n\n{{ title }} is open: {{ nope }}\n",
    )
    .unwrap();
    // If the check regressed, opening this database fails (exit 1) instead of serving forever.
    let db = format!("sqlite://{}", dir.path().join("no/such/dir/x.db").display());
    let out = incident(
        dir.path(),
        &["serve"],
        &[
            ("TEMPLATES_DIR", templates.to_str().unwrap()),
            ("DATABASE_URL", &db),
            ("PORT", "0"),
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "stderr: {stderr}");
    assert!(
        stderr.contains("ticket_opened.client.whatsapp.txt:3: unknown variable `nope`"),
        "{stderr}"
    );
}

#[test]
fn templates_export_then_check_round_trips_and_check_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("templates");
    let folder_arg = folder.to_str().unwrap();
    let out = incident(dir.path(), &["templates", "export", folder_arg], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("wrote 47 templates"),
        "{}",
        text(&out.stdout)
    );
    let out = incident(dir.path(), &["templates", "check", folder_arg], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("47 template(s) override the built-in texts, all valid"));

    let again = incident(dir.path(), &["templates", "export", folder_arg], &[], None);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );

    let file = folder.join("work_finished.client.email.html");
    let broken = std::fs::read_to_string(&file)
        .unwrap()
        .replace("{{ dev_names }}", "{{ dev_names }\n");
    std::fs::write(&file, broken).unwrap();
    // TEMPLATES_DIR is the default folder.
    let out = incident(
        dir.path(),
        &["templates", "check"],
        &[("TEMPLATES_DIR", folder_arg)],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("work_finished.client.email.html:"),
        "{stderr}"
    );
    assert!(stderr.contains("syntax error"), "{stderr}");
}

#[test]
fn whatsapp_and_email_tests_print_the_outcome_or_the_cause_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "incident.db");
    let vars = [("DATABASE_URL", db.as_str()), ("WHATSAPP_PROVIDER", "log")];
    let sent = incident(
        dir.path(),
        &["whatsapp", "test", "--to", "+20 100 123 4567"],
        &vars,
        None,
    );
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
    assert!(
        text(&sent.stdout).contains("✅ Sent to +201001234567"),
        "{}",
        text(&sent.stdout)
    );
    let bad = incident(
        dir.path(),
        &["whatsapp", "test", "--to", "12ab"],
        &vars,
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("Cause and fix: Invalid phone number format"),
        "{}",
        text(&bad.stderr)
    );
    let email = incident(
        dir.path(),
        &["email", "test", "--to", "ops@example.com"],
        &vars,
        None,
    );
    assert_eq!(email.status.code(), Some(1));
    let said = text(&email.stderr);
    assert!(
        said.contains("❌ E-mail send failed: E-mail not configured: set EMAIL_HOST")
            && said.contains("Cause and fix:"),
        "{said}"
    );
}
