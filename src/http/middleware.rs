//! The layers every request passes: request id, one access-log line, metrics by route
//! template, the request timeout (JSON 408) and panics turned into JSON 500s.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// Accepts a sane `X-Request-Id` from the caller or makes one, and returns it on the response.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID, value.clone());
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(REQUEST_ID, value);
    resp
}

/// Times the request out with a JSON 408, then logs one line and records the metrics.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let client = crate::http::client_ip::of(
        req.extensions(),
        req.headers(),
        state.config.trusted_proxy_hops,
    )
    .map(|ip| ip.to_string())
    .unwrap_or_default();
    let long_lived = route.starts_with("/ws/") || route.ends_with("/stream/");
    let resp = if long_lived {
        next.run(req).await
    } else {
        match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => Error::TimedOut.into_response(),
        }
    };
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    crate::telemetry::record_request(method.as_str(), &route, status, elapsed);
    let ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(method = %method, route = %route, status, latency_ms = ms, request_id = %id, client = %client, "request");
    } else {
        tracing::info!(method = %method, route = %route, status, latency_ms = ms, request_id = %id, client = %client, "request");
    }
    resp
}

/// A panic in a handler answers like any other server error, in JSON.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Error::internal("handler panicked").into_response()
}
