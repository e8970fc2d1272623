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
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
        {
            Some(Ok(Message::Close(Some(f)))) => return f.code.into(),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

on_both_databases!(
    websocket_greets_answers_ping_and_pushes_new_tickets_to_admins,
    websocket_refuses_bad_tokens_and_inactive_users_with_4001,
    websocket_accepts_the_token_as_a_subprotocol,
    sse_stream_pushes_the_same_messages,
);

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
