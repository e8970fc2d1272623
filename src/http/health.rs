//! `GET /healthz` (the process answers), `GET /readyz` (it can serve HTTP: database reachable,
//! migrations applied; the notification channels' health is reported beside, never as unready)
//! and `GET /metrics`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Healthz {
    pub status: String,
}

/// Readiness: what serving HTTP needs (each check `ok` or why not), and the notification
/// channels' health, which is information only: a broken channel never makes a replica unready.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "provider": "twilio", "checks": {"database": "ok", "migrations": "ok"}, "notifications": {"notification_worker": "ok", "whatsapp": "ok"}}))]
pub struct Readyz {
    /// `ready` or `not ready`.
    pub status: String,
    pub provider: String,
    /// What readiness depends on, by name.
    pub checks: BTreeMap<String, String>,
    /// The delivery worker and the WhatsApp provider: `ok` or what is wrong; never unready. While a
    /// channel has an open incident, `<channel>_incident` says since when, why and the fix.
    pub notifications: BTreeMap<String, String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "Alive", body = Healthz)))]
pub async fn healthz() -> Json<Healthz> {
    Json(Healthz {
        status: "ok".into(),
    })
}

/// Readiness: database reachable and migrations applied. The delivery worker and the WhatsApp
/// provider are reported under `notifications` and never make the replica unready.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready (the notification channels may still be failing: see `notifications`)", body = Readyz,
         example = json!({"status": "ready", "provider": "twilio", "checks": {"database": "ok", "migrations": "ok"}, "notifications": {"notification_worker": "ok", "whatsapp": "not configured"}})),
        (status = 503, description = "Not ready: the failing checks say why", body = Readyz,
         example = json!({"status": "not ready", "provider": "twilio", "checks": {"database": "unreachable", "migrations": "unknown: database unreachable"}, "notifications": {"notification_worker": "ok", "whatsapp": "ok"}})),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readyz>) {
    let checks = checks(&state).await;
    let ready = checks.values().all(|c| c.is_ok());
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut notifications = shown(channels(&state));
    notifications.extend(incidents(&state).await);
    let body = Readyz {
        status: if ready { "ready" } else { "not ready" }.to_string(),
        provider: state.provider.name().to_string(),
        checks: shown(checks),
        notifications,
    };
    (status, Json(body))
}

fn shown(checks: BTreeMap<&'static str, Result<(), String>>) -> BTreeMap<String, String> {
    checks
        .into_iter()
        .map(|(name, c)| (name.to_string(), c.err().unwrap_or_else(|| "ok".into())))
        .collect()
}

/// What serving HTTP needs: `Ok` or why not.
async fn checks(state: &AppState) -> BTreeMap<&'static str, Result<(), String>> {
    let db = tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await;
    let db_ok = matches!(db, Ok(Ok(())));
    let database = if db_ok {
        Ok(())
    } else {
        Err("unreachable".into())
    };
    let migrations = if db_ok {
        match state.db.migrations_applied().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("pending migrations: run `incident migrate`".into()),
            Err(e) => Err(format!("cannot read migrations: {e}")),
        }
    } else {
        Err("unknown: database unreachable".into())
    };
    BTreeMap::from([("database", database), ("migrations", migrations)])
}

/// The notification channels' health: the delivery worker and the WhatsApp provider.
fn channels(state: &AppState) -> BTreeMap<&'static str, Result<(), String>> {
    let worker_ok =
        !state.config.worker.enabled || state.worker.is_alive(state.config.worker.poll_interval);
    let worker = if worker_ok {
        Ok(())
    } else {
        Err("not running".into())
    };
    let whatsapp = if !state.provider.is_configured() {
        Err("not configured".into())
    } else if state.worker.auth_failing() {
        Err(format!(
            "failing authentication: recent {} sends were refused; check the credentials",
            state.provider.name()
        ))
    } else {
        Ok(())
    };
    BTreeMap::from([("notification_worker", worker), ("whatsapp", whatsapp)])
}

/// The channels' open incidents (`whatsapp_incident`: since when, why, the fix); nothing when the
/// database cannot say (readiness reports that under `checks`).
async fn incidents(state: &AppState) -> Vec<(String, String)> {
    let open = crate::db::channel_incidents::open_incidents(&state.db).await;
    open.map(|o| crate::notify::channel_health::described(&o))
        .unwrap_or_default()
}

/// `/metrics` on the API port: only to `Authorization: Bearer <METRICS_TOKEN>`, compared in
/// constant time (as digests, so not even the length leaks).
pub async fn metrics_token(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let Some(expected) = state.config.metrics_token.as_ref() else {
        return crate::error::Error::NoSuchRoute.into_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let same: bool = Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.expose().as_bytes()))
        .into();
    if given.is_empty() || !same {
        return crate::error::Error::Unauthenticated.into_response();
    }
    next.run(req).await
}

/// Prometheus metrics: on the private `METRICS_ADDR` listener (default `127.0.0.1:9100`), and on
/// the API port only with `METRICS_TOKEN` set, to `Authorization: Bearer <METRICS_TOKEN>` (that
/// token, not a user's JWT).
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text format", body = String,
         content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, description = "On the API port: no or a wrong `METRICS_TOKEN`", body = crate::http::openapi::components::Detail,
         example = json!({"detail": "Authentication credentials were not provided."})),
        (status = 404, description = "On the API port without `METRICS_TOKEN`: `/metrics` is served on `METRICS_ADDR` only", body = crate::http::openapi::components::Detail,
         example = json!({"detail": "Not found."})),
    ))]
// Queue and pool gauges are read at scrape time.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match crate::db::notifications::queue_depth(&state.db, chrono::Utc::now()).await {
        Ok((depth, age)) => {
            metrics::gauge!("notification_queue_pending").set(depth as f64);
            metrics::gauge!("notification_queue_oldest_pending_age_seconds").set(age);
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the queue depth for metrics"),
    }
    let (in_use, idle, max) = state.db.pool_usage();
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(in_use as f64);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("db_pool_connections_max").set(max as f64);
    metrics::gauge!("notification_worker_alive").set(
        if state.worker.is_alive(state.config.worker.poll_interval) {
            1.0
        } else {
            0.0
        },
    );
    for (name, check) in channels(&state) {
        metrics::gauge!("notification_channel_healthy", "channel" => name, "provider" => state.provider.name())
            .set(if check.is_ok() { 1.0 } else { 0.0 });
    }
    let mut body = crate::telemetry::metrics().render();
    match crate::db::channel_incidents::open_incidents(&state.db).await {
        Ok(open) => body.push_str(&crate::notify::channel_health::metrics_text(
            &open,
            chrono::Utc::now(),
        )),
        Err(e) => tracing::warn!(error = %e, "cannot read the channel incidents for metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
