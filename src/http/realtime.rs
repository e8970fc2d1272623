//! Real-time in-app notifications: the original's WebSocket (`/ws/notifications/`, contract
//! §13) and the same stream as Server-Sent Events (`/api/notifications/stream/`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::AuthUser;
use crate::error::{Error, Result};
use crate::http::extract::bearer_token;
use crate::http::openapi::components::{Detail, StreamEventData};
use crate::service::login::authenticate;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// Subprotocol names a client may offer next to its token, so the token stays out of URLs
/// and access logs: `new WebSocket(url, ["bearer", accessToken])`.
const TOKEN_PROTOCOLS: [&str; 2] = ["bearer", "access_token"];

fn offered_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn connected(user: &AuthUser) -> Value {
    json!({"type": "connection_established", "message": format!("Connected successfully as {}", user.username), "user_id": user.id})
}

/// The original's WebSocket: `connection_established`, `ping`/`pong`, and one push per new
/// in-app row. The token comes as `?token=` or as a subprotocol next to `bearer`; a bad,
/// missing or inactive user's token is closed with code 4001.
#[utoipa::path(get, path = "/ws/notifications/", tag = "notifications", operation_id = "notifications_websocket",
    params(("token" = Option<String>, Query, description = "Access token (or send it as a subprotocol)")),
    responses(
        (status = 101, description = "Switching protocols to a WebSocket"),
        (status = 400, description = "Not a WebSocket upgrade request (the framework's plain-text answer)",
         content_type = "text/plain", body = String),
    ))]
// `GET /ws/notifications/?token=<access>` (or the token as a subprotocol): closing with 4001 is
// what the original did.
pub async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let offered = offered_protocols(&headers);
    let token = q.token.or_else(|| {
        offered
            .iter()
            .find(|p| p.matches('.').count() == 2)
            .cloned()
    });
    let user = match token {
        Some(t) => authenticate(&state, &t).await.ok(),
        None => None,
    };
    let ws = if offered
        .iter()
        .any(|p| TOKEN_PROTOCOLS.contains(&p.as_str()))
    {
        ws.protocols(TOKEN_PROTOCOLS)
    } else {
        ws
    };
    ws.on_upgrade(move |socket| async move {
        match user {
            Some(user) => session(socket, user, state).await,
            None => refuse(socket).await,
        }
    })
}

async fn refuse(mut socket: WebSocket) {
    let frame = CloseFrame {
        code: 4001,
        reason: "Authentication failed".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn session(mut socket: WebSocket, user: AuthUser, state: AppState) {
    let mut pushes = state.push.subscribe();
    if socket
        .send(Message::Text(connected(&user).to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    tracing::info!(user_id = user.id, "websocket connected");
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let Ok(msg) = serde_json::from_str::<Value>(&text) else { continue };
                    if msg["type"] == "ping" {
                        let pong = json!({"type": "pong", "timestamp": msg["timestamp"]});
                        if socket.send(Message::Text(pong.to_string().into())).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            push = pushes.recv() => match push {
                Ok(p) if p.recipient == user.id => {
                    if socket.send(Message::Text(p.payload.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => tracing::warn!(user_id = user.id, skipped = n, "websocket client too slow: pushes skipped"),
                Err(RecvError::Closed) => break,
            },
        }
    }
    tracing::info!(user_id = user.id, "websocket disconnected");
}

/// In-app notifications as Server-Sent Events: `connection_established`, then one
/// `notification` event per new in-app row (`?token=` for `EventSource`, which cannot send
/// headers).
#[utoipa::path(get, path = "/api/notifications/stream/", tag = "notifications", operation_id = "notifications_stream",
    params(("token" = Option<String>, Query, description = "Access token, when no Authorization header can be sent")),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "An endless `text/event-stream`: `connection_established`, then one `notification` event per new in-app row; each event's `data` is one JSON object (`StreamEventData`)", content_type = "text/event-stream", body = StreamEventData),
        (status = 401, description = "No or a bad token", body = Detail),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response> {
    let token = match bearer_token(&headers)? {
        Some(t) => t,
        None => q.token.ok_or(Error::Unauthenticated)?,
    };
    let user = authenticate(&state, &token).await?;
    let body = pushes(&state, &user);
    Ok(Sse::new(body)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// `connection_established`, then one `notification` event per in-app row pushed to `user`.
fn pushes(
    state: &AppState,
    user: &AuthUser,
) -> std::pin::Pin<Box<dyn Stream<Item = std::result::Result<SseEvent, Infallible>> + Send>> {
    let rx = state.push.subscribe();
    let first = SseEvent::default()
        .event("connection_established")
        .data(connected(user).to_string());
    let uid = user.id;
    let events = futures::stream::unfold(rx, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(p) if p.recipient == uid => {
                    return Some((
                        Ok::<_, Infallible>(
                            SseEvent::default()
                                .event("notification")
                                .data(p.payload.to_string()),
                        ),
                        rx,
                    ))
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Box::pin(futures::StreamExt::chain(
        futures::stream::once(async move { Ok(first) }),
        events,
    ))
}
