//! Real-time in-app notifications: the original's WebSocket (`/ws/notifications/`, contract
//! §13) and the same stream as Server-Sent Events (`/api/notifications/stream/`). A session ends
//! when its token expires, when the user's access ends (deactivation, deletion, password change,
//! on any replica) or when the user opens more than `MAX_REALTIME_SESSIONS_PER_USER`
//! (`service::realtime`): the WebSocket closes with a code and reason, the SSE stream sends a
//! last `session_ended` event and ends.

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
use crate::http::openapi::components::Detail;
use crate::notify::sessions::EndReason;
use crate::service::realtime::{self, Session};
use crate::state::AppState;

/// The largest message (and frame) a client may send; a ping is a few dozen bytes. A larger one
/// closes the socket with 1009 before it is read whole.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The longest `timestamp` (as JSON) a pong echoes; a longer one is answered with `null`.
const MAX_PING_TIMESTAMP_BYTES: usize = 64;
/// How long a closing socket waits for the client's close frame.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

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
/// missing or inactive user's token is closed with code 4001. Later the session closes with
/// 4001 and a reason when the token expires or the user's access ends (deactivation, deletion,
/// password change), with 4008 when the user opens too many sessions, and with 1009 on a
/// message over 64 KiB.
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
    let session = match token {
        Some(t) => realtime::open(&state, &t).await.ok(),
        None => None,
    };
    let ws = ws
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES);
    let ws = if offered
        .iter()
        .any(|p| TOKEN_PROTOCOLS.contains(&p.as_str()))
    {
        ws.protocols(TOKEN_PROTOCOLS)
    } else {
        ws
    };
    ws.on_upgrade(move |socket| async move {
        match session {
            Some(session) => run(socket, session, state).await,
            None => close(socket, close_frame(4001, "Authentication failed")).await,
        }
    })
}

fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

/// Sends the close frame, then waits a moment for the client's, so the connection ends cleanly.
async fn close(mut socket: WebSocket, frame: CloseFrame) {
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let answered = async { while let Some(Ok(_)) = socket.recv().await {} };
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, answered).await;
}

/// The close frame for a message the socket refused to read: 1009 for one over
/// `MAX_MESSAGE_BYTES`; none when the connection itself failed.
fn refusal(e: axum::Error) -> Option<CloseFrame> {
    match e.into_inner().downcast::<tungstenite::Error>() {
        Ok(e) if matches!(*e, tungstenite::Error::Capacity(_)) => Some(close_frame(
            1009,
            &format!("Message too big (at most {MAX_MESSAGE_BYTES} bytes)"),
        )),
        _ => None,
    }
}

/// The answer to the original's `{"type": "ping", "timestamp": x}`: `{"type": "pong",
/// "timestamp": x}`, with `x` as `null` when it is longer than `MAX_PING_TIMESTAMP_BYTES`.
/// Anything else gets no answer.
fn pong(text: &str) -> Option<Value> {
    let msg = serde_json::from_str::<Value>(text).ok()?;
    if msg["type"] != "ping" {
        return None;
    }
    let timestamp = &msg["timestamp"];
    let echoed = if timestamp.to_string().len() <= MAX_PING_TIMESTAMP_BYTES {
        timestamp.clone()
    } else {
        Value::Null
    };
    Some(json!({"type": "pong", "timestamp": echoed}))
}

/// One WebSocket session: the greeting, pongs, the user's pushes, until the client leaves or the
/// session must end.
async fn run(mut socket: WebSocket, mut session: Session, state: AppState) {
    let mut pushes = state.push.subscribe();
    let user_id = session.user.id;
    let greeting = connected(&session.user).to_string();
    if socket.send(Message::Text(greeting.into())).await.is_err() {
        return;
    }
    tracing::info!(user_id, "websocket connected");
    let closing = loop {
        tokio::select! {
            reason = session.ended() => {
                tracing::info!(user_id, reason = reason.message(), "websocket session ended");
                break Some(close_frame(reason.close_code(), reason.message()));
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let Some(pong) = pong(&text) else { continue };
                    if socket.send(Message::Text(pong.to_string().into())).await.is_err() {
                        break None;
                    }
                }
                Some(Err(e)) => break refusal(e),
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Ok(_)) => {}
            },
            push = pushes.recv() => match push {
                Ok(p) if p.recipient == user_id => {
                    if socket.send(Message::Text(p.payload.to_string().into())).await.is_err() {
                        break None;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => tracing::warn!(user_id, skipped = n, "websocket client too slow: pushes skipped"),
                Err(RecvError::Closed) => break None,
            },
        }
    };
    if let Some(frame) = closing {
        close(socket, frame).await;
    }
    tracing::info!(user_id, "websocket disconnected");
}

/// In-app notifications as Server-Sent Events: `connection_established`, then one
/// `notification` event per new in-app row, and a last `session_ended` event when the session
/// must end (`?token=` for `EventSource`, which cannot send headers).
#[utoipa::path(get, path = "/api/notifications/stream/", tag = "notifications", operation_id = "notifications_stream",
    params(("token" = Option<String>, Query, description = "Access token, when no Authorization header can be sent")),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A `text/event-stream` of `connection_established` and `notification` events; when the token expires, the user's access ends or the user opens too many sessions, a last `session_ended` event (`{\"code\": 4001, \"reason\": \"Token is expired\"}`, the WebSocket's close code and reason) and the end of the stream", content_type = "text/event-stream", body = String),
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
    let session = realtime::open(&state, &token).await?;
    let body = events(&state, session);
    Ok(Sse::new(body)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The SSE stream's last event: why the session ended, as the WebSocket's close code and
/// reason.
fn ended_event(reason: EndReason) -> SseEvent {
    let data = json!({"code": reason.close_code(), "reason": reason.message()});
    SseEvent::default()
        .event("session_ended")
        .data(data.to_string())
}

/// `connection_established`, then one `notification` event per in-app row pushed to the
/// session's user, until the session must end (`session_ended`, then the end of the stream).
fn events(
    state: &AppState,
    session: Session,
) -> std::pin::Pin<Box<dyn Stream<Item = std::result::Result<SseEvent, Infallible>> + Send>> {
    let rx = state.push.subscribe();
    let first = SseEvent::default()
        .event("connection_established")
        .data(connected(&session.user).to_string());
    let events = futures::stream::unfold((rx, Some(session)), |(mut rx, session)| async move {
        let mut session = session?;
        let uid = session.user.id;
        loop {
            tokio::select! {
                reason = session.ended() => {
                    tracing::info!(user_id = uid, reason = reason.message(), "event stream ended");
                    return Some((Ok::<_, Infallible>(ended_event(reason)), (rx, None)));
                }
                push = rx.recv() => match push {
                    Ok(p) if p.recipient == uid => {
                        let event = SseEvent::default()
                            .event("notification")
                            .data(p.payload.to_string());
                        return Some((Ok(event), (rx, Some(session))));
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    });
    Box::pin(futures::StreamExt::chain(
        futures::stream::once(async move { Ok(first) }),
        events,
    ))
}
