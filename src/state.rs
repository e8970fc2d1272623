//! `AppState`: what every handler and use case shares (the database, configuration, token keys,
//! the worker's wake-up and health, the push hub, caches). It sits below the router and the
//! service layer that use it, and above `notify`, `auth` and `db`, which it only holds.

pub mod gates;

use std::sync::Arc;

use crate::auth::cache::AuthCache;
use crate::auth::jwt::JwtKeys;
use crate::auth::queue::HashQueue;
use crate::auth::rate::UserRate;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::Db;
use crate::notify::fallback::Fallback;
use crate::notify::provider::smtp::Mailer;
use crate::notify::provider::Provider;
use crate::notify::push::{self, Hub};
use crate::notify::sessions::Sessions;
use crate::notify::templates::Templates;
use crate::notify::worker::Health;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    /// Woken when a step enqueues notifications, so the worker sends at once.
    pub outbox: Arc<tokio::sync::Notify>,
    /// The message texts: the built-in templates with `TEMPLATES_DIR`'s overrides.
    pub templates: Arc<Templates>,
    /// The configured WhatsApp provider.
    pub provider: Arc<Provider>,
    /// The configured e-mail sender (SMTP), or why there is none.
    pub mailer: Arc<Mailer>,
    /// What the delivery worker has done (health and metrics).
    pub worker: Arc<Health>,
    /// Real-time pushes of in-app notifications to connected clients.
    pub push: Hub,
    /// This process's live WebSocket and SSE sessions, by user.
    pub sessions: Arc<Sessions>,
    pub auth_cache: Arc<AuthCache>,
    pub login_throttle: Arc<LoginThrottle>,
    /// Cancelled when the server shuts down: open event streams and WebSockets end on it.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Login password checks waiting or running; refuses logins once the wait is too long.
    pub login_queue: Arc<HashQueue>,
    /// Ticket creations per user (`TICKET_CREATE_RATE`).
    pub ticket_create_rate: Arc<UserRate>,
    /// Comments per user (`COMMENT_RATE`).
    pub comment_rate: Arc<UserRate>,
    /// The bytes of uploads in flight (`MAX_UPLOAD_BYTES_IN_FLIGHT`).
    pub upload_bytes: Arc<gates::ByteBudget>,
    /// Answers that inline attachments as base64 (`MAX_INLINE_ATTACHMENT_RESPONSES`).
    pub inline_responses: Arc<gates::Gate>,
}

impl AppState {
    /// `templates` are loaded (and checked) by the caller, which decides what a broken override
    /// means: `serve` refuses to start.
    pub fn new(db: Db, config: Config, templates: Templates) -> AppState {
        let jwt = JwtKeys::new(
            config.secret_key.expose(),
            config.access_token_lifetime,
            config.refresh_token_lifetime,
        );
        AppState {
            db,
            jwt: Arc::new(jwt),
            outbox: Arc::new(tokio::sync::Notify::new()),
            templates: Arc::new(templates),
            provider: Arc::new(Provider::from_config(&config)),
            // As many SMTP connections as sends may run at once.
            mailer: Arc::new(Mailer::from_config(
                &config.email,
                config.worker.max_concurrency.min(u32::MAX as usize) as u32,
            )),
            worker: Arc::new(Health::default()),
            push: push::hub(),
            sessions: Sessions::new(config.max_realtime_sessions_per_user),
            auth_cache: Arc::new(AuthCache::new(config.auth_cache_ttl)),
            login_throttle: Arc::new(LoginThrottle::new(
                config.login_max_failures,
                config.login_max_failures_per_address,
                config.login_lockout,
            )),
            login_queue: Arc::new(HashQueue::new(config.login_max_hash_wait)),
            ticket_create_rate: Arc::new(UserRate::new(config.ticket_create_rate)),
            comment_rate: Arc::new(UserRate::new(config.comment_rate)),
            upload_bytes: Arc::new(gates::ByteBudget::new(
                config.attachments.max_upload_bytes_in_flight,
                config.attachments.heavy_request_wait,
            )),
            inline_responses: Arc::new(gates::Gate::new(
                config.attachments.max_inline_responses,
                config.attachments.heavy_request_wait,
            )),
            config: Arc::new(config),
            shutdown: tokio_util::sync::CancellationToken::new(),
        }
    }

    /// What a failed WhatsApp message's e-mail fallback needs.
    pub fn fallback(&self) -> Fallback {
        Fallback {
            templates: self.templates.clone(),
            email_configured: self.mailer.is_configured(),
        }
    }
}
