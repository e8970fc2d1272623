//! `GET /healthz` (the process answers) and `GET /readyz` (it can do its job: database reachable,
//! migrations applied, delivery worker alive, WhatsApp provider configured and accepted).

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

/// Readiness: each check is `ok` or why not.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "provider": "twilio", "checks": {"database": "ok", "migrations": "ok", "notification_worker": "ok", "whatsapp": "ok"}}))]
pub struct Readyz {
    /// `ready` or `not ready`.
    pub status: String,
    pub provider: String,
    // By name: the names sort in the order the checks run.
    pub checks: BTreeMap<String, String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "Alive", body = Healthz)))]
pub async fn healthz() -> Json<Healthz> {
    Json(Healthz {
        status: "ok".into(),
    })
}

/// Readiness: database reachable, migrations applied, delivery worker alive, WhatsApp
/// provider configured and accepted.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready", body = Readyz),
        (status = 503, description = "Not ready: the failing checks say why", body = Readyz,
         example = json!({"status": "not ready", "provider": "twilio", "checks": {"database": "ok", "migrations": "ok", "notification_worker": "ok", "whatsapp": "not configured"}})),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readyz>) {
    let checks = checks(&state).await;
    let ready = checks.values().all(|c| c.is_ok());
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readyz {
        status: if ready { "ready" } else { "not ready" }.to_string(),
        provider: state.provider.name().to_string(),
        checks: checks
            .into_iter()
            .map(|(name, c)| (name.to_string(), c.err().unwrap_or_else(|| "ok".into())))
            .collect(),
    };
    (status, Json(body))
}

/// Each readiness check: `Ok` or why not.
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
    BTreeMap::from([
        ("database", database),
        ("migrations", migrations),
        ("notification_worker", worker),
        ("whatsapp", whatsapp),
    ])
}

/// Prometheus metrics (here unless `METRICS_ADDR` serves them on their own address).
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text format", body = String,
               content_type = "text/plain; version=0.0.4; charset=utf-8")))]
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
    let body = crate::telemetry::metrics().render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
