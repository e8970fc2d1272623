//! Per-user rates on ticket creation and comments (issue 10, item 15): one client created 60
//! tickets in 0.1 s, 60 paid WhatsApp messages to every admin.

use std::time::Duration;

use incident::config::{Config, Rate};
use incident::domain::user::Role;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;

fn two_a_minute(c: &mut Config) {
    let rate = Some(Rate {
        requests: 2,
        per: Duration::from_secs(60),
    });
    c.ticket_create_rate = rate;
    c.comment_rate = rate;
}

on_both_databases!(config = two_a_minute; ticket_creation_is_limited_per_user_and_admins_are_not);
on_both_databases!(config = two_a_minute; comments_are_limited_per_user_and_checked_first);

const TICKET: &str =
    r#"{"title": "Printer on fire", "description": "Third floor, again", "priority": "LOW"}"#;

async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &str,
) -> (StatusCode, HeaderMap, Value) {
    let req = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string());
    let (status, headers, text) = app.send(req).await;
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// DRF's 429: its body and a `Retry-After` that agrees with it, within the minute.
fn assert_throttled((status, headers, body): &(StatusCode, HeaderMap, Value)) {
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let unit = if wait == 1 { "second" } else { "seconds" };
    assert_eq!(
        *body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} {unit}.")})
    );
}

async fn ticket_creation_is_limited_per_user_and_admins_are_not(app: TestApp) {
    let (_, mona) = app.user_token("mona", Role::Client).await;
    let (_, omar) = app.user_token("omar", Role::Client).await;
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    for _ in 0..2 {
        assert_eq!(
            post(&app, "/api/tickets/", &mona, TICKET).await.0,
            StatusCode::CREATED
        );
    }
    assert_throttled(&post(&app, "/api/tickets/", &mona, TICKET).await);
    // Checked before the body is read, as DRF's throttles are.
    assert_throttled(&post(&app, "/api/tickets/", &mona, "{}").await);
    // Nothing was created by the refused requests.
    let (_, page) = app.get("/api/tickets/", &mona).await;
    assert_eq!(page["count"], 2, "{page}");
    // Another client has their own allowance; admins are not limited.
    assert_eq!(
        post(&app, "/api/tickets/", &omar, TICKET).await.0,
        StatusCode::CREATED
    );
    for _ in 0..5 {
        assert_eq!(
            post(&app, "/api/tickets/", &admin, TICKET).await.0,
            StatusCode::CREATED
        );
    }
}

async fn comments_are_limited_per_user_and_checked_first(app: TestApp) {
    let (_, mona) = app.user_token("mona", Role::Client).await;
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = crate::tickets::new_ticket(&app, &mona).await;
    let path = format!("/api/tickets/{id}/add_comment/");
    let comment = r#"{"comment": "Any news?"}"#;
    for _ in 0..2 {
        assert_eq!(post(&app, &path, &mona, comment).await.0, StatusCode::OK);
    }
    assert_throttled(&post(&app, &path, &mona, comment).await);
    // Before the lookup too: a ticket that does not exist is not told apart.
    assert_throttled(&post(&app, "/api/tickets/999999/add_comment/", &mona, comment).await);
    // Creating tickets is counted on its own.
    assert_eq!(
        post(&app, "/api/tickets/", &mona, TICKET).await.0,
        StatusCode::CREATED
    );
    for _ in 0..5 {
        assert_eq!(post(&app, &path, &admin, comment).await.0, StatusCode::OK);
    }
}
