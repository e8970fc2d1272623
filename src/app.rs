//! Builds the application (state, router, layers) and serves it with graceful shutdown.

mod serve;

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::notify::worker::Worker;
use crate::state::AppState;

fn cors_layer(config: &Config) -> Option<CorsLayer> {
    if config.cors_allowed_origins.is_empty() {
        return None;
    }
    // `*` is any origin without credentials (the API's tokens are bearer headers, which need
    // none); only a list of origins may send cookies and read credentialed answers.
    let any = config.cors_allowed_origins.iter().any(|o| o == "*");
    let origins = if any {
        AllowOrigin::any()
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
            .allow_credentials(!any)
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

/// Headers on every response: no MIME sniffing, no framing, the referrer kept to this origin,
/// a content policy that allows nothing (the docs page sets its own), and HSTS when the public
/// address is https. A handler's own value wins.
fn security_headers(router: Router, config: &Config) -> Router {
    let header =
        |name, value| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    let router = router
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ));
    let https = config
        .public_base_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    if https {
        router.layer(header(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        router
    }
}

/// The router with every layer, ready to serve.
pub fn build_router(state: AppState) -> Router {
    let config = state.config.clone();
    let mut routes = crate::http::api_router(&config);
    if config.metrics_token.is_some() {
        routes = routes.route(
            "/metrics",
            axum::routing::get(crate::http::health::metrics).layer(
                axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::http::health::metrics_token,
                ),
            ),
        );
    }
    let mut router = routes
        .fallback(crate::http::not_found)
        .method_not_allowed_fallback(crate::http::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::middleware::observe,
        ))
        .with_state(state.clone());
    if let Some(cors) = cors_layer(&config) {
        router = router.layer(cors);
    }
    let router = router.layer(axum::middleware::from_fn_with_state(
        state,
        crate::http::hosts::check_host,
    ));
    security_headers(router, &config)
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

/// Serves HTTP and runs the notification worker until `shutdown` resolves. Then, all within
/// `SHUTDOWN_GRACE`: the listener closes, event streams and WebSockets end, connections finish
/// their request in flight (the rest are dropped at the deadline), and in-flight sends finish
/// (unsent ones stay `PENDING`).
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = state.shutdown.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    let worker = state.config.worker.enabled.then(|| {
        let worker = Worker {
            // Connections of its own: requests holding the whole main pool cannot starve it.
            db: state.db.dedicated(WORKER_CONNECTIONS),
            provider: state.provider.clone(),
            mailer: state.mailer.clone(),
            fallback: state.fallback(),
            config: state.config.worker.clone(),
            wake: state.outbox.clone(),
            health: state.worker.clone(),
            grace: state.config.shutdown_grace,
        }
        .spawn();
        // The worker drains alongside the HTTP connections, not after them.
        let stop = state.shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            worker.shutdown().await;
        })
    });
    if let Some(addr) = state.config.metrics_addr {
        let metrics_listener = TcpListener::bind(addr).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on METRICS_ADDR={addr}: {e} (set METRICS_ADDR, or METRICS_ADDR=off)"),
            )
        })?;
        tracing::info!("metrics on http://{addr}/metrics");
        let app = metrics_router(state.clone());
        let (limits, stop, grace) = (
            state.config.connections.clone(),
            state.shutdown.clone(),
            state.config.shutdown_grace,
        );
        tokio::spawn(async move {
            serve::serve(metrics_listener, app, &limits, stop, grace).await;
        });
    }
    crate::telemetry::metrics();
    // Tells the LISTEN loop that the server has stopped.
    let (stop_background, background_stopped) = tokio::sync::watch::channel(false);
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
    if let Some(keep) = state.config.worker.log_retention {
        spawn_retention(state.db.clone(), keep, background_stopped.clone());
    }
    spawn_optimizer(state.db.clone(), background_stopped);
    serve(state, listener).await;
    let _ = stop_background.send(true);
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(())
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

/// How often the retention job (`NOTIFY_LOG_RETENTION`) prunes the notification history.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Prunes the notification history older than `keep` at start and every `PRUNE_EVERY` until
/// the server stops; one replica at a time (`service::notifications::retention_pass`).
fn spawn_retention(
    db: crate::db::Db,
    keep: Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Err(e) = crate::service::notifications::retention_pass(&db, keep).await {
                        tracing::warn!(error = %e, "pruning the notification history failed");
                    }
                }
                _ = stopped.changed() => return,
            }
        }
    });
}

/// Serves until `state.shutdown` is cancelled, then drains within `SHUTDOWN_GRACE`.
pub async fn serve(state: AppState, listener: TcpListener) {
    let (mut limits, stop, grace) = (
        state.config.connections.clone(),
        state.shutdown.clone(),
        state.config.shutdown_grace,
    );
    let database_files = state.config.database_max_connections + WORKER_CONNECTIONS + 1;
    let cap = serve::connection_cap(limits.max_connections, database_files);
    tracing::info!(
        max_connections = cap,
        "serving at most {cap} connections at once"
    );
    limits.max_connections = Some(cap);
    let router = build_router(state);
    let app = tower::util::MapRequest::new(
        router,
        crate::http::append_trailing_slash as fn(axum::extract::Request) -> axum::extract::Request,
    );
    serve::serve(listener, app, &limits, stop, grace).await;
}
