//! `incident users ...` run as an operator runs it (the binary, against the test server's
//! database), with the effects checked through the API: a new password revokes the refresh
//! tokens issued before it, roles and WhatsApp numbers change (numbers checked as the API checks
//! them), a deactivated user cannot log in.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use incident::domain::user::Role;
use reqwest::StatusCode;

use crate::common::{password_of, TestApp};
use crate::on_both_databases;

/// Runs the binary on this app's database, with `stdin` piped in.
fn users(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_incident"))
        .arg("users")
        .args(args)
        .env_clear()
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the incident binary");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for the binary")
}

/// Runs `users ...`, asserting success; returns standard output.
fn users_ok(app: &TestApp, args: &[&str], stdin: &str) -> String {
    let out = users(app, args, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "users {args:?}: {stdout}{stderr}");
    assert!(
        stderr.contains("database: "),
        "names its database: {stderr}"
    );
    stdout
}

async fn set_password_revokes_refresh_tokens(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    let before = app.login("bob").await;
    let refresh = before["refresh"].as_str().unwrap().to_string();

    let said = users_ok(
        &app,
        &["set-password", "bob", "--password-stdin"],
        "a-brand-new-pass\n",
    );
    assert!(said.contains("password of \"bob\" changed"), "{said}");

    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = app.login_with("bob", "a-brand-new-pass").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Too short: refused, nothing changed.
    let out = users(
        &app,
        &["set-password", "bob", "--password-stdin"],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let (status, _) = app.login_with("bob", "a-brand-new-pass").await;
    assert_eq!(status, StatusCode::OK);
    // An unknown user is named.
    let out = users(&app, &["set-password", "nobody", "--password-stdin"], "x\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user named \"nobody\""));
}

async fn role_number_and_activation_change_the_user(app: TestApp) {
    let (_, admin) = app.user_token("root", Role::Admin).await;
    let id = app.create_user("carol", Role::Client).await;
    let path = format!("/api/users/{id}/");

    users_ok(&app, &["set-role", "carol", "support"], "");
    assert_eq!(app.get(&path, &admin).await.1["role"], "SUPPORT");

    users_ok(&app, &["set-whatsapp", "carol", "+1 202 555 0123"], "");
    assert_eq!(
        app.get(&path, &admin).await.1["whatsapp_number"],
        "+12025550123"
    );
    let out = users(&app, &["set-whatsapp", "carol", "12345"], "");
    assert_eq!(out.status.code(), Some(1), "a bad number is refused");
    assert_eq!(
        app.get(&path, &admin).await.1["whatsapp_number"],
        "+12025550123"
    );

    users_ok(&app, &["deactivate", "carol"], "");
    let (status, _) = app.login_with("carol", &password_of("carol")).await;
    assert_ne!(status, StatusCode::OK);
    assert_eq!(app.get(&path, &admin).await.1["is_active"], false);
    users_ok(&app, &["activate", "carol"], "");
    app.login("carol").await;

    let listed = users_ok(&app, &["list"], "");
    assert!(
        listed.contains("carol") && listed.contains("SUPPORT"),
        "{listed}"
    );
    assert!(
        listed.contains("+12025550123") && listed.contains("root"),
        "{listed}"
    );
    assert!(listed.trim_end().ends_with("2 user(s)"), "{listed}");
}

on_both_databases!(
    set_password_revokes_refresh_tokens,
    role_number_and_activation_change_the_user
);
