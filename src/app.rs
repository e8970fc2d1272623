//! Builds the application (state, router, layers) and serves it with graceful shutdown.

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::Config;
use crate::notify::worker::Worker;
use crate::state::AppState;

fn cors_layer(config: &Config) -> Option<CorsLayer> {
    if config.cors_allowed_origins.is_empty() {
        return None;
    }
    let origins = if config.cors_allowed_origins.iter().any(|o| o == "*") {
        AllowOrigin::mirror_request()
    } else {
        let list: Vec<HeaderValue> = config
            .cors_allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        AllowOrigin::list(list)
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_credentials(true)
            .allow_methods([
                Method::DELETE,
                Method::GET,
                Method::OPTIONS,
                Method::PATCH,
                Method::POST,
                Method::PUT,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(86400)),
    )
}

/// The router with every layer, ready to serve.
pub fn build_router(state: AppState) -> Router {
    let config = state.config.clone();
    let mut routes = crate::http::api_router(&config);
    if config.metrics_addr.is_none() {
        routes = routes.route("/metrics", axum::routing::get(crate::http::health::metrics));
    }
    let mut router = routes
        .fallback(crate::http::not_found)
        .method_not_allowed_fallback(crate::http::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::middleware::observe,
        ))
        .with_state(state);
    if let Some(cors) = cors_layer(&config) {
        router = router.layer(cors);
    }
    router
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            crate::http::middleware::panic_response,
        ))
        .layer(axum::middleware::from_fn(
            crate::http::middleware::request_id,
        ))
}

/// `/metrics` alone, for `METRICS_ADDR`.
fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(crate::http::health::metrics))
        .with_state(state)
}

/// Serves HTTP and runs the notification worker until `shutdown` resolves; then stops
/// accepting, finishes in-flight requests, and lets in-flight sends finish within the grace.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = state.config.worker.enabled.then(|| {
        Worker {
            // Connections of its own: requests holding the whole main pool cannot starve it.
            db: state.db.dedicated(WORKER_CONNECTIONS),
            provider: state.provider.clone(),
            config: state.config.worker.clone(),
            wake: state.outbox.clone(),
            health: state.worker.clone(),
            grace: state.config.shutdown_grace,
        }
        .spawn()
    });
    // Tells the metrics listener and the LISTEN loop that the server has stopped.
    let (stop_background, background_stopped) = tokio::sync::watch::channel(false);
    if let Some(addr) = state.config.metrics_addr {
        let metrics_listener = TcpListener::bind(addr).await?;
        tracing::info!("metrics on http://{addr}/metrics");
        let app = metrics_router(state.clone());
        let mut stopped = background_stopped.clone();
        tokio::spawn(async move {
            let _ = axum::serve(metrics_listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.changed().await;
                })
                .await;
        });
    }
    crate::telemetry::metrics();
    // One LISTEN connection for both: other replicas' steps wake this worker (when it runs
    // here), and their pushes (and ends of a user's sessions) reach this process's clients.
    let wake = state.outbox.clone();
    let handlers = crate::db::listen::Handlers {
        wake: state
            .config
            .worker
            .enabled
            .then(|| Box::new(move || wake.notify_one()) as crate::db::listen::OnWake),
        push: Some(Box::new(crate::notify::push::forward(
            state.push.clone(),
            state.sessions.clone(),
            state.auth_cache.clone(),
        ))),
    };
    crate::db::listen::spawn(&state.db, handlers, background_stopped.clone());
    spawn_optimizer(state.db.clone(), background_stopped.clone());
    let served = serve(state, listener, shutdown).await;
    let _ = stop_background.send(true);
    if let Some(w) = worker {
        w.shutdown().await;
    }
    served
}

/// The delivery worker's own connections (claims, outcomes, lease releases).
const WORKER_CONNECTIONS: u32 = 2;

/// How often SQLite's planner statistics are brought up to date (`Db::optimize`).
const OPTIMIZE_EVERY: Duration = Duration::from_secs(3600);

/// Runs `Db::optimize` every `OPTIMIZE_EVERY` until the server stops.
fn spawn_optimizer(db: crate::db::Db, mut stopped: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(OPTIMIZE_EVERY);
        every.tick().await; // the first tick is now; `Db::connect_limited` just did it
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Err(e) = db.optimize().await {
                        tracing::warn!(error = %e, "PRAGMA optimize failed");
                    }
                }
                _ = stopped.changed() => return,
            }
        }
    });
}

/// Binds and serves until `shutdown` resolves; in-flight requests finish first.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = build_router(state);
    let app = tower::util::MapRequest::new(router, crate::http::append_trailing_slash);
    axum::serve(
        listener,
        // The peer address keys login throttling.
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(app),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
