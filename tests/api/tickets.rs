//! The ticket workflow end to end (contract §6, §7).

use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::{act_ok, comments, detail, in_progress_ticket};

on_both_databases!(
    full_happy_path,
    concurrent_approve_and_reject_have_one_winner,
    concurrent_finish_has_one_winner
);

pub struct Cast {
    pub admin: String,
    pub client: String,
    pub client_id: i64,
    pub dev: String,
    pub dev_id: i64,
}

pub async fn cast(app: &TestApp) -> Cast {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (client_id, client) = app.user_token("client", Role::Client).await;
    let (dev_id, dev) = app.user_token("dev", Role::Support).await;
    Cast {
        admin,
        client,
        client_id,
        dev,
        dev_id,
    }
}

/// An admin, a client and a developer, each with a WhatsApp number (+1202555010{1,2,3}).
pub async fn cast_with_numbers(app: &TestApp) -> Cast {
    app.create_user_with("admin", Role::Admin, "Ada", "Admin", Some("+12025550101"))
        .await;
    let client_id = app
        .create_user_with(
            "client",
            Role::Client,
            "Carl",
            "Client",
            Some("+12025550102"),
        )
        .await;
    let dev_id = app
        .create_user_with("dev", Role::Support, "Dev", "Eloper", Some("+12025550103"))
        .await;
    Cast {
        admin: access_token(app, "admin").await,
        client: access_token(app, "client").await,
        client_id,
        dev: access_token(app, "dev").await,
        dev_id,
    }
}

/// Logs an existing user in; returns the access token.
pub async fn access_token(app: &TestApp, username: &str) -> String {
    app.login(username).await["access"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A user with a first and a last name, logged in: (id, token).
pub async fn named_user(
    app: &TestApp,
    username: &str,
    role: Role,
    first_name: &str,
    last_name: &str,
) -> (i64, String) {
    let id = app
        .create_user_with(username, role, first_name, last_name, None)
        .await;
    (id, access_token(app, username).await)
}

/// `POST /api/tickets/`: the answer as sent.
pub async fn post_ticket(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/tickets/", token, body).await
}

/// `POST /api/tickets/`, asserting 201; returns the answer.
pub async fn created_ticket(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = post_ticket(app, token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

pub async fn new_ticket(app: &TestApp, token: &str) -> i64 {
    let body = json!({"title": "Login broken", "description": "Users cannot log in", "priority": "HIGH", "category": "BUG"});
    created_ticket(app, token, body).await["id"]
        .as_i64()
        .unwrap()
}

/// The admin assigns ticket `id` with `body`, asserting 200; returns the answer.
pub async fn assign(app: &TestApp, c: &Cast, id: i64, body: Value) -> Value {
    act_ok(app, id, "assign", &c.admin, body).await
}

/// The admin assigns ticket `id` to `c.dev` alone.
pub async fn assign_dev(app: &TestApp, c: &Cast, id: i64) -> Value {
    assign(app, c, id, json!({"assigned_to": [c.dev_id]})).await
}

/// The admin assigns `c.dev` alone, with these other fields (the dates), asserting 200.
pub async fn assign_dev_with(app: &TestApp, c: &Cast, id: i64, fields: Value) -> Value {
    let mut body = json!({"assigned_to": [c.dev_id]});
    for (key, value) in fields.as_object().expect("an object of fields") {
        body[key] = value.clone();
    }
    assign(app, c, id, body).await
}

/// The creator (`c.client`) rejects ticket `id` with `reason`, asserting 200; returns the answer.
pub async fn reject(app: &TestApp, c: &Cast, id: i64, reason: &str) -> Value {
    act_ok(app, id, "reject", &c.client, json!({ "comment": reason })).await
}

/// `token` comments on ticket `id`, asserting 200; returns the answer.
pub async fn add_comment(app: &TestApp, id: i64, token: &str, comment: &str) -> Value {
    act_ok(app, id, "add_comment", token, json!({ "comment": comment })).await
}

/// A ticket the client created and the admin assigned to `c.dev`, still NEW.
pub async fn assigned_ticket(app: &TestApp, c: &Cast) -> i64 {
    let id = new_ticket(app, &c.client).await;
    assign_dev(app, c, id).await;
    id
}

/// Takes a NEW ticket to IN_PROGRESS: the admin opens it and assigns `c.dev`, who starts work.
pub async fn start_ticket(app: &TestApp, c: &Cast, id: i64) {
    act_ok(app, id, "open_ticket", &c.admin, json!({})).await;
    assign_dev(app, c, id).await;
    act_ok(app, id, "start_work", &c.dev, json!({})).await;
}

/// Brings a new ticket to RESOLVED: open, assign, start, finish.
pub async fn resolved_ticket(app: &TestApp, c: &Cast) -> i64 {
    let id = in_progress_ticket(app, c).await;
    let body = json!({"comment": "Fixed the login form"});
    act_ok(app, id, "finish_work", &c.dev, body).await;
    id
}

async fn history_count(app: &TestApp, id: i64, token: &str) -> usize {
    let (_, detail) = app.get(&format!("/api/tickets/{id}/"), token).await;
    detail["history"].as_array().unwrap().len()
}

async fn full_happy_path(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let body = reject(&app, &c, id, "Still broken on Safari").await;
    assert_eq!(body["status_display"], "In Progress");
    act_ok(&app, id, "finish_work", &c.dev, json!({})).await;
    let body = act_ok(&app, id, "approve", &c.client, json!({})).await;
    assert_eq!(
        body,
        json!({"message": "Status updated to Closed", "id": id, "project_name": "General", "status_display": "Closed"})
    );
    let detail = detail(&app, id, &c.client).await;
    assert_eq!(detail["status"], "CLOSED");
    assert_eq!(
        comments(&detail),
        [
            "Ticket approved and closed by client",
            "Work completed",
            "Rejected: Still broken on Safari",
            "Fixed the login form",
            "Work started on ticket",
            "Ticket assigned to dev",
            "Ticket opened by admin",
        ]
    );
    for key in ["opened_at", "started_at", "resolved_at", "closed_at"] {
        assert!(detail[key].is_string(), "{key} is set");
    }
}

/// Fires `a` and `b` at once; returns their statuses.
async fn race(
    app: &TestApp,
    a: (&str, &str, Value),
    b: (&str, &str, Value),
) -> (StatusCode, StatusCode) {
    let (ra, rb) = tokio::join!(app.post(a.0, a.1, a.2), app.post(b.0, b.1, b.2));
    (ra.0, rb.0)
}

async fn concurrent_approve_and_reject_have_one_winner(app: TestApp) {
    let c = cast(&app).await;
    for _ in 0..3 {
        let id = resolved_ticket(&app, &c).await;
        let before = history_count(&app, id, &c.admin).await;
        let approve = format!("/api/tickets/{id}/approve/");
        let reject = format!("/api/tickets/{id}/reject/");
        let (a, b) = race(
            &app,
            (&approve, &c.client, json!({})),
            (
                &reject,
                &c.client,
                json!({"comment": "Does not work for me"}),
            ),
        )
        .await;
        let wins = [a, b].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(wins, 1, "approve {a}, reject {b}");
        assert!(
            [a, b].contains(&StatusCode::BAD_REQUEST),
            "the loser gets the sequential 400: {a} {b}"
        );
        assert_eq!(history_count(&app, id, &c.admin).await, before + 1);
    }
}

async fn concurrent_finish_has_one_winner(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let before = history_count(&app, id, &c.admin).await;
    let finish = format!("/api/tickets/{id}/finish_work/");
    let (a, b) = race(
        &app,
        (&finish, &c.dev, json!({})),
        (&finish, &c.dev, json!({})),
    )
    .await;
    let mut got = [a, b];
    got.sort();
    assert_eq!(got, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    assert_eq!(history_count(&app, id, &c.admin).await, before + 1);
}
