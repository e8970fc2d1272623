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
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
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
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("work_finished.client.email.html:"),
        "{stderr}"
    );
    assert!(stderr.contains("syntax error"), "{stderr}");
}
