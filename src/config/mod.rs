//! Configuration: the only reader of the environment, one file per section (database, auth,
//! http, providers, worker). Every bad variable is reported at once, and secrets live in
//! `Secret`, whose `Debug` never shows them.

mod attachments;
mod auth;
mod database;
mod dev_key;
mod email;
mod http;
mod messages;
mod providers;
mod rates;
mod reader;
mod realtime;
mod values;
mod variables;
mod worker;

use std::time::Duration;

pub use attachments::AttachmentLimits;
pub use dev_key::{key_file, KeySource};
pub use email::{EmailConfig, SmtpSecurity};
pub use http::ConnectionLimits;
pub use providers::{MetaConfig, TwilioConfig, WhatsAppProviderKind};
pub use rates::Rate;
pub use reader::parse_duration;
pub use values::{redact_url, ConfigErrors, Environment, LogFormat, Secret};
pub use variables::{variable, Variable, VARIABLES};
pub use worker::WorkerConfig;

use reader::Reader;

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub database_url: String,
    pub database_max_connections: u32,
    /// An IP address or a host name (`localhost`), resolved when the server binds.
    pub host: String,
    pub port: u16,
    pub secret_key: Secret,
    /// True when `SECRET_KEY` was not set and a random per-process key is in use.
    pub secret_key_is_ephemeral: bool,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    /// An admin console session unused this long ends (`CONSOLE_SESSION_IDLE`).
    pub console_session_idle: Duration,
    /// An admin console session ends this long after sign-in (`CONSOLE_SESSION_LIFETIME`).
    pub console_session_lifetime: Duration,
    /// How long an authenticated user is cached (0: no cache).
    pub auth_cache_ttl: Duration,
    /// Refused logins for one username from one address before it is locked out (0: never).
    pub login_max_failures: u32,
    /// How long a lockout lasts after the last refused login.
    pub login_lockout: Duration,
    /// Refused logins from one address, across usernames, before it is locked out (0: never).
    pub login_max_failures_per_address: u32,
    /// A login whose password check would wait longer than this is refused with 429 (0: never).
    pub login_max_hash_wait: Duration,
    /// How many proxies in front of us append to `X-Forwarded-For`; 0 trusts none of it.
    pub trusted_proxy_hops: usize,
    pub cors_allowed_origins: Vec<String>,
    pub default_phone_region: Option<String>,
    pub public_base_url: Option<String>,
    /// Django's `ALLOWED_HOSTS` patterns (lowercase; `.example.com`, `*`), with the host of
    /// `PUBLIC_BASE_URL` and, in development without a list, the local names.
    pub allowed_hosts: Vec<String>,
    pub log_format: LogFormat,
    /// The log filter (`RUST_LOG`, tracing's `EnvFilter` syntax).
    pub log_filter: String,
    pub max_attachment_bytes: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// How long one database statement may run (`DATABASE_STATEMENT_TIMEOUT`).
    pub database_statement_timeout: Duration,
    /// Serve `/metrics` on this private address (`None`: no private listener).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// With a token, `/metrics` is also served on the API port to `Bearer <token>`.
    pub metrics_token: Option<Secret>,
    pub connections: ConnectionLimits,
    pub shutdown_grace: Duration,
    /// Live WebSocket and SSE sessions per user (per replica); a new one ends the oldest.
    pub max_realtime_sessions_per_user: usize,
    pub whatsapp_provider: WhatsAppProviderKind,
    pub twilio: TwilioConfig,
    pub meta: MetaConfig,
    /// The SMTP server e-mails go through (`EMAIL_*`, Django's names).
    pub email: EmailConfig,
    pub worker: WorkerConfig,
    /// Tickets one user may create (`None`: unlimited; admins are never limited).
    pub ticket_create_rate: Option<Rate>,
    /// Comments one user may add (`None`: unlimited; admins are never limited).
    pub comment_rate: Option<Rate>,
    /// Per-ticket quota and the bounds on uploads and inlining answers in flight.
    pub attachments: AttachmentLimits,
    /// A folder whose files override the built-in message templates (`TEMPLATES_DIR`).
    pub templates_dir: Option<std::path::PathBuf>,
    /// The base of the links in e-mails, without a trailing slash (`FRONTEND_URL`).
    pub frontend_url: String,
}

impl Config {
    /// Reads the process environment (after `dotenvy` has loaded `.env` in `main`).
    pub fn from_env() -> Result<Config, ConfigErrors> {
        Config::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Builds a config from any variable source; `from_env` and tests share this. Sections are
    /// read in a fixed order, so the errors are listed in the order of the variables.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut r = Reader::new(get);
        let environment = r.choice(
            "INCIDENT_ENV",
            "development",
            &[
                (&["production", "prod"], Environment::Production),
                (&["development", "dev", "test"], Environment::Development),
            ],
            "development or production",
        );
        let (database_url, database_max_connections) = database::read(&mut r);
        let (host, port) = http::listener(&mut r);
        let auth = auth::read(&mut r, environment);
        let (trusted_proxy_hops, cors_allowed_origins) = http::clients(&mut r);
        let default_phone_region = providers::phone_region(&mut r);
        let public_base_url = http::public_base_url(&mut r);
        let log_format = r.choice(
            "LOG_FORMAT",
            "pretty",
            &[
                (&["pretty", "text"], LogFormat::Pretty),
                (&["json"], LogFormat::Json),
            ],
            "pretty or json",
        );
        let log_filter = r.string("RUST_LOG", "info,sqlx=warn");
        let allowed_hosts = http::allowed_hosts(&mut r, environment, public_base_url.as_deref());
        let limits = http::limits(&mut r);
        let connections = http::connections(&mut r);
        let (metrics_addr, metrics_token) = http::metrics(&mut r);
        let database_statement_timeout =
            database::statement_timeout(&mut r, limits.request_timeout);
        let max_realtime_sessions_per_user = realtime::max_sessions_per_user(&mut r);
        let whatsapp_provider = providers::kind(&mut r);
        let twilio = providers::twilio(&mut r, default_phone_region.as_deref());
        let meta = providers::meta(&mut r);
        let email = email::read(&mut r);
        let worker = worker::read(&mut r);
        let rates = rates::read(&mut r);
        let attachments = attachments::read(&mut r);
        let (templates_dir, frontend_url) = messages::read(&mut r);
        r.finish()?;
        Ok(Config {
            environment,
            database_url,
            database_max_connections,
            host,
            port,
            secret_key: auth.secret_key,
            secret_key_is_ephemeral: auth.secret_key_is_ephemeral,
            access_token_lifetime: auth.access_token_lifetime,
            refresh_token_lifetime: auth.refresh_token_lifetime,
            console_session_idle: auth.console_session_idle,
            console_session_lifetime: auth.console_session_lifetime,
            auth_cache_ttl: auth.auth_cache_ttl,
            login_max_failures: auth.login_max_failures,
            login_lockout: auth.login_lockout,
            login_max_failures_per_address: auth.login_max_failures_per_address,
            login_max_hash_wait: auth.login_max_hash_wait,
            trusted_proxy_hops,
            cors_allowed_origins,
            default_phone_region,
            public_base_url,
            allowed_hosts,
            log_format,
            log_filter,
            max_attachment_bytes: limits.max_attachment_bytes,
            max_body_bytes: limits.max_body_bytes,
            request_timeout: limits.request_timeout,
            database_statement_timeout,
            metrics_addr,
            metrics_token,
            connections,
            shutdown_grace: limits.shutdown_grace,
            max_realtime_sessions_per_user,
            whatsapp_provider,
            twilio,
            meta,
            email,
            worker,
            ticket_create_rate: rates.ticket_create,
            comment_rate: rates.comment,
            attachments,
            templates_dir,
            frontend_url,
        })
    }

    /// Without `SECRET_KEY` in development on SQLite: the key kept beside the database (read, or
    /// generated now and kept), so restarts keep tokens valid. Production never gets here (a
    /// missing `SECRET_KEY` is a configuration error); PostgreSQL keeps a per-process key.
    pub fn keep_development_key(&mut self) -> Result<KeySource, String> {
        if !self.secret_key_is_ephemeral {
            return Ok(KeySource::Configured);
        }
        match dev_key::kept_key(&self.database_url, self.environment, &self.secret_key)? {
            None => Ok(KeySource::Process),
            Some((key, source)) => {
                self.secret_key = key;
                self.secret_key_is_ephemeral = false;
                Ok(source)
            }
        }
    }

    /// A configuration for tests and tools: defaults, no environment read.
    pub fn for_tests(database_url: &str) -> Config {
        let url = database_url.to_string();
        let mut c = Config::from_lookup(&|name| match name {
            "DATABASE_URL" => Some(url.clone()),
            "SECRET_KEY" => Some("test-secret-key-not-for-production".to_string()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("test defaults are valid: {e}"));
        c.port = 0;
        // Many test servers run at once: none binds the private metrics port.
        c.metrics_addr = None;
        c
    }
}

#[cfg(test)]
mod tests;
