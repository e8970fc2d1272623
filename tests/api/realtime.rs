//! Real-time pushes of in-app notifications: the WebSocket of the original and the SSE stream.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use incident::domain::user::Role;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{Engine, TestApp};
use crate::on_both_databases;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Ws {
    let url = format!("ws://{}/ws/notifications/?token={token}", app.addr);
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket handshake")
        .0
}

/// The next text message as JSON (at most 5 s).
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s");
        match msg.expect("stream open").expect("message") {
            Message::Text(t) => return serde_json::from_str(&t).expect("JSON"),
            Message::Close(f) => panic!("closed: {f:?}"),
            _ => continue,
        }
    }
}

async fn close_code(ws: &mut Ws) -> u16 {
    close_frame(ws).await.0
}

/// The code and reason of the server's close frame (pushes before it are skipped; at most 5 s).
async fn close_frame(ws: &mut Ws) -> (u16, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
        {
            Some(Ok(Message::Close(Some(f)))) => return (f.code.into(), f.reason.to_string()),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// A WebSocket past its greeting.
async fn greeted(app: &TestApp, token: &str) -> Ws {
    let mut ws = connect(app, token).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_established");
    ws
}

on_both_databases!(
    websocket_greets_answers_ping_and_pushes_new_tickets_to_admins,
    websocket_refuses_bad_tokens_and_inactive_users_with_4001,
    websocket_accepts_the_token_as_a_subprotocol,
    sse_stream_pushes_the_same_messages,
    websocket_refuses_messages_over_64_kib_with_1009,
    websocket_pong_echoes_a_short_timestamp_only,
    sessions_end_when_the_user_is_deactivated,
    sessions_end_when_the_user_is_deleted,
    sessions_end_when_the_password_changes,
);

on_both_databases!(config = short_tokens; sessions_end_when_the_token_expires);

on_both_databases!(config = two_sessions_per_user; the_oldest_session_ends_beyond_the_cap);

async fn websocket_greets_answers_ping_and_pushes_new_tickets_to_admins(app: TestApp) {
    let (admin_id, admin) = app.user_token("admin", Role::Admin).await;
    let (_, client) = app.user_token("client", Role::Client).await;
    let mut ws = connect(&app, &admin).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "connection_established", "message": "Connected successfully as admin", "user_id": admin_id})
    );
    ws.send(Message::Text(r#"{"type":"ping","timestamp":12345}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "pong", "timestamp": 12345})
    );

    let id = crate::tickets::new_ticket(&app, &client).await;
    let push = next_json(&mut ws).await;
    assert_eq!(push["notification_type"], "ticket_created");
    assert_eq!(
        push["message"],
        "New High priority ticket created: Login broken"
    );
    assert_eq!(push["ticket"]["id"], id);
    assert_eq!(push["ticket"]["priority_display"], "High");
    assert_eq!(push["ticket"]["created_by"], "client");
    assert!(push["timestamp"].as_str().unwrap().ends_with("+00:00"));
    let keys = crate::common::keys(&push["ticket"]);
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "priority",
            "priority_display",
            "category",
            "category_display",
            "status",
            "status_display",
            "created_by",
            "project_name",
            "created_at"
        ]
    );
}

async fn websocket_refuses_bad_tokens_and_inactive_users_with_4001(app: TestApp) {
    let mut ws = connect(&app, "garbage").await;
    assert_eq!(close_code(&mut ws).await, 4001);
    let url = format!("ws://{}/ws/notifications/", app.addr);
    let mut ws = tokio_tungstenite::connect_async(url).await.unwrap().0;
    assert_eq!(close_code(&mut ws).await, 4001);
    let (id, token) = app.user_token("leaver", Role::Client).await;
    incident::db::users::set_active(&app.db, id, false)
        .await
        .unwrap();
    let mut ws = connect(&app, &token).await;
    assert_eq!(
        close_code(&mut ws).await,
        4001,
        "the original let inactive users connect"
    );
}

async fn websocket_accepts_the_token_as_a_subprotocol(app: TestApp) {
    let (id, token) = app.user_token("carol", Role::Client).await;
    let mut req = format!("ws://{}/ws/notifications/", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {token}").parse().unwrap(),
    );
    let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "bearer"
    );
    assert_eq!(next_json(&mut ws).await["user_id"], id);
}

/// An SSE stream of `token`, past its `connection_established` event.
async fn open_stream(app: &TestApp, token: &str) -> (reqwest::Response, String) {
    let mut resp = app
        .client
        .get(app.url("/api/notifications/stream/"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut text = String::new();
    read_until(&mut resp, &mut text, "event: connection_established").await;
    (resp, text)
}

/// Reads the event stream to its end (at most 5 s per chunk); returns what came after `text`.
async fn read_to_end(resp: &mut reqwest::Response) -> String {
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
            .await
            .expect("the stream ends within 5 s");
        match chunk.expect("a clean end of stream") {
            Some(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            None => return text,
        }
    }
}

/// The `session_ended` event that ends a stream, as JSON.
fn session_ended(rest: &str) -> Value {
    let (_, after) = rest
        .split_once("event: session_ended\ndata: ")
        .unwrap_or_else(|| panic!("no session_ended event in {rest:?}"));
    serde_json::from_str(after.lines().next().unwrap()).expect("JSON")
}

/// Reads the event stream until `needle` arrives (at most 5 s per chunk).
async fn read_until(resp: &mut reqwest::Response, text: &mut String, needle: &str) {
    while !text.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
            .await
            .expect("data within 5 s");
        text.push_str(&String::from_utf8_lossy(
            &chunk.unwrap().expect("stream open"),
        ));
    }
}

async fn sse_stream_pushes_the_same_messages(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (_, client) = app.user_token("client", Role::Client).await;
    let resp = app
        .client
        .get(app.url("/api/notifications/stream/"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut resp = resp;
    let mut text = String::new();
    read_until(&mut resp, &mut text, "event: connection_established").await;
    crate::tickets::new_ticket(&app, &client).await;
    read_until(&mut resp, &mut text, "New High priority ticket created").await;
    assert!(text.contains("event: notification"), "{text}");
    let (status, _) = app
        .call(
            reqwest::Method::GET,
            "/api/notifications/stream/",
            None,
            None,
        )
        .await;
    assert_eq!(status, 401);
}

/// Two servers on one PostgreSQL database: a step on one reaches a WebSocket on the other
/// (LISTEN/NOTIFY). SQLite deployments are a single process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_reaches_clients_of_another_replica_on_postgres() {
    let a = TestApp::spawn(Engine::Postgres).await;
    let b = a.replica().await;
    let (_, admin) = a.user_token("admin", Role::Admin).await;
    let (_, client) = a.user_token("client", Role::Client).await;
    let mut ws = connect(&b, &admin).await;
    next_json(&mut ws).await;
    // Both replicas' listeners connect in the background.
    a.wait_for_listeners(incident::notify::push::PUSH_CHANNEL, 2)
        .await;
    crate::tickets::new_ticket(&a, &client).await;
    assert_eq!(
        next_json(&mut ws).await["notification_type"],
        "ticket_created"
    );
}

async fn websocket_refuses_messages_over_64_kib_with_1009(app: TestApp) {
    let (_, token) = app.user_token("carol", Role::Client).await;
    let mut ws = greeted(&app, &token).await;
    let huge = format!(
        r#"{{"type":"ping","timestamp":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    ws.send(Message::Text(huge.into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 1009);
}

async fn websocket_pong_echoes_a_short_timestamp_only(app: TestApp) {
    let (_, token) = app.user_token("carol", Role::Client).await;
    let mut ws = greeted(&app, &token).await;
    let long = "9".repeat(1000);
    ws.send(Message::Text(
        format!(r#"{{"type":"ping","timestamp":"{long}"}}"#).into(),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "pong", "timestamp": null})
    );
    ws.send(Message::Text(
        r#"{"type":"ping","timestamp":"2026-01-01T00:00:00.000Z"}"#.into(),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "pong", "timestamp": "2026-01-01T00:00:00.000Z"})
    );
}

fn short_tokens(config: &mut incident::config::Config) {
    config.access_token_lifetime = Duration::from_secs(3);
}

async fn sessions_end_when_the_token_expires(app: TestApp) {
    let (_, token) = app.user_token("carol", Role::Client).await;
    let mut ws = greeted(&app, &token).await;
    let (mut stream, _) = open_stream(&app, &token).await;
    assert_eq!(
        close_frame(&mut ws).await,
        (4001, "Token is expired".to_string())
    );
    let rest = read_to_end(&mut stream).await;
    assert_eq!(
        session_ended(&rest),
        json!({"code": 4001, "reason": "Token is expired"})
    );
}

/// `user`'s WebSocket and SSE stream, both open.
async fn both_sessions(app: &TestApp, token: &str) -> (Ws, reqwest::Response) {
    let ws = greeted(app, token).await;
    let (stream, _) = open_stream(app, token).await;
    (ws, stream)
}

/// Both sessions end: the WebSocket closes with 4001 and `reason`, the stream sends them in its
/// last event.
async fn assert_both_end((mut ws, mut stream): (Ws, reqwest::Response), reason: &str) {
    assert_eq!(close_frame(&mut ws).await, (4001, reason.to_string()));
    let rest = read_to_end(&mut stream).await;
    assert_eq!(
        session_ended(&rest),
        json!({"code": 4001, "reason": reason})
    );
}

async fn sessions_end_when_the_user_is_deactivated(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (id, token) = app.user_token("leaver", Role::Client).await;
    let sessions = both_sessions(&app, &token).await;
    let (status, _) = app
        .post(&format!("/api/users/{id}/deactivate/"), &admin, json!({}))
        .await;
    assert_eq!(status, 200);
    assert_both_end(sessions, "User is inactive").await;
    assert_eq!(app.state.sessions.count(id), 0);
}

async fn sessions_end_when_the_user_is_deleted(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (id, token) = app.user_token("leaver", Role::Client).await;
    let sessions = both_sessions(&app, &token).await;
    let (status, _) = app.delete(&format!("/api/users/{id}/"), &admin).await;
    assert_eq!(status, 204);
    assert_both_end(sessions, "User not found").await;
}

async fn sessions_end_when_the_password_changes(app: TestApp) {
    let (_, token) = app.user_token("carol", Role::Client).await;
    let sessions = both_sessions(&app, &token).await;
    let (status, body) = app
        .patch(
            "/api/profile/update/",
            &token,
            json!({"password": "changed-by-carol-1", "password_confirm": "changed-by-carol-1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_both_end(sessions, "Password changed").await;
}

fn two_sessions_per_user(config: &mut incident::config::Config) {
    config.max_realtime_sessions_per_user = 2;
}

async fn the_oldest_session_ends_beyond_the_cap(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (_, client) = app.user_token("client", Role::Client).await;
    let (mut oldest_stream, _) = open_stream(&app, &admin).await;
    let mut first = greeted(&app, &admin).await;
    // A third session ends the oldest, an SSE stream here.
    let mut second = greeted(&app, &admin).await;
    let rest = read_to_end(&mut oldest_stream).await;
    assert_eq!(
        session_ended(&rest),
        json!({"code": 4008, "reason": "Too many sessions for this user"})
    );
    // A fourth ends the first WebSocket.
    let mut third = greeted(&app, &admin).await;
    assert_eq!(
        close_frame(&mut first).await,
        (4008, "Too many sessions for this user".to_string())
    );
    // The two newest still get the user's pushes; another user's sessions do not count.
    let _other = greeted(&app, &client).await;
    crate::tickets::new_ticket(&app, &client).await;
    for ws in [&mut second, &mut third] {
        assert_eq!(next_json(ws).await["notification_type"], "ticket_created");
    }
}

/// A deactivation through one replica ends the user's sessions on another (the end travels on
/// the push channel), and that replica refuses the user at once, not after `AUTH_CACHE_TTL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivation_on_one_replica_ends_sessions_on_another_on_postgres() {
    let a = TestApp::spawn_with(Engine::Postgres, |c| {
        c.auth_cache_ttl = Duration::from_secs(60);
    })
    .await;
    let b = a.replica().await;
    let (_, admin) = a.user_token("admin", Role::Admin).await;
    let (id, token) = a.user_token("leaver", Role::Client).await;
    let sessions = both_sessions(&b, &token).await;
    a.wait_for_listeners(incident::notify::push::PUSH_CHANNEL, 2)
        .await;
    let (status, _) = a
        .post(&format!("/api/users/{id}/deactivate/"), &admin, json!({}))
        .await;
    assert_eq!(status, 200);
    assert_both_end(sessions, "User is inactive").await;
    let (status, _) = b.get("/api/profiles/", &token).await;
    assert_eq!(status, 401);
}
