//! Configuration: the only reader of the environment. Every bad variable is reported at once,
//! and secrets live in `Secret`, whose `Debug` never shows them.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// A value that must never reach a log line or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Which WhatsApp provider delivers messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatsAppProviderKind {
    Twilio,
    Meta,
    /// Writes each message to the log and marks it SENT: for demos, never the default.
    Log,
}

#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    /// API key SID (`SK...`) used as the Basic-auth user instead of the account SID, when set.
    pub api_key_sid: Option<String>,
    /// Auth token, or the API key secret when `api_key_sid` is set.
    pub auth_token: Secret,
    /// Auth token used to check `X-Twilio-Signature` on status callbacks (the primary auth token).
    pub webhook_auth_token: Secret,
    pub whatsapp_from: String,
    pub messaging_service_sid: Option<String>,
    pub base_url: String,
    /// Content template SIDs by event code (`ticket_created` ...), sent as `ContentSid`.
    pub content_sids: HashMap<String, String>,
}

impl TwilioConfig {
    pub fn is_configured(&self) -> bool {
        !self.account_sid.is_empty() && !self.auth_token.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct MetaConfig {
    pub access_token: Secret,
    pub phone_number_id: String,
    pub api_version: String,
    pub base_url: String,
    pub app_secret: Secret,
    pub verify_token: Secret,
    /// Template names by event code, sent as template messages.
    pub templates: HashMap<String, String>,
    pub template_language: String,
}

impl MetaConfig {
    pub fn is_configured(&self) -> bool {
        !self.access_token.is_empty() && !self.phone_number_id.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub enabled: bool,
    pub rate_per_second: f64,
    pub max_concurrency: usize,
    pub max_attempts: i32,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub send_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub database_url: String,
    pub database_max_connections: u32,
    pub host: IpAddr,
    pub port: u16,
    pub secret_key: Secret,
    /// True when `SECRET_KEY` was not set and a random per-process key is in use.
    pub secret_key_is_ephemeral: bool,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    /// How long an authenticated user is cached (0: no cache).
    pub auth_cache_ttl: Duration,
    /// Refused logins for one username from one address before it is locked out (0: never).
    pub login_max_failures: u32,
    /// How long a lockout lasts after the last refused login.
    pub login_lockout: Duration,
    /// How many proxies in front of us append to `X-Forwarded-For`; 0 trusts none of it.
    pub trusted_proxy_hops: usize,
    pub cors_allowed_origins: Vec<String>,
    pub default_phone_region: Option<String>,
    pub public_base_url: Option<String>,
    pub log_format: LogFormat,
    pub max_attachment_bytes: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Serve `/metrics` on this address only (instead of on the main listener).
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub shutdown_grace: Duration,
    pub whatsapp_provider: WhatsAppProviderKind,
    pub twilio: TwilioConfig,
    pub meta: MetaConfig,
    pub worker: WorkerConfig,
}

/// Every variable that was present but unusable, reported together.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads variables from any source (the process environment in `from_env`, a map in tests).
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<String>,
}

impl Reader<'_> {
    fn raw(&self, name: &str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn string(&self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or_else(|| default.to_string())
    }

    fn parse<T: std::str::FromStr>(&mut self, name: &str, default: T, what: &str) -> T {
        match self.raw(name) {
            None => default,
            Some(v) => match v.parse() {
                Ok(x) => x,
                Err(_) => {
                    self.errors.push(format!("{name}={v:?} is not {what}"));
                    default
                }
            },
        }
    }

    fn duration(&mut self, name: &str, default: Duration) -> Duration {
        match self.raw(name) {
            None => default,
            Some(v) => match parse_duration(&v) {
                Some(d) if !d.is_zero() => d,
                _ => {
                    self.errors.push(format!(
                        "{name}={v:?} is not a duration (a number of seconds, or a number with s, m, h or d, e.g. 2h)"
                    ));
                    default
                }
            },
        }
    }

    fn bool(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => true,
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => false,
            Some(v) => {
                self.errors
                    .push(format!("{name}={v:?} is not a boolean (true or false)"));
                default
            }
        }
    }
}

/// `7200`, `7200s`, `120m`, `2h`, `2d`.
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (num, unit) = match v.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&v[..i], v[i..].trim()),
        None => (v, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

fn map_list(v: &str) -> HashMap<String, String> {
    v.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect()
}

impl Config {
    /// Reads the process environment (after `dotenvy` has loaded `.env` in `main`).
    pub fn from_env() -> Result<Config, ConfigErrors> {
        Config::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Builds a config from any variable source; `from_env` and tests share this.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut r = Reader {
            get,
            errors: Vec::new(),
        };

        let environment = match r
            .string("INCIDENT_ENV", "development")
            .to_ascii_lowercase()
            .as_str()
        {
            "production" | "prod" => Environment::Production,
            "development" | "dev" | "test" => Environment::Development,
            other => {
                r.errors.push(format!(
                    "INCIDENT_ENV={other:?} must be development or production"
                ));
                Environment::Development
            }
        };

        let database_url = r.string("DATABASE_URL", "sqlite://incident.db");
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            r.errors.push(format!(
                "DATABASE_URL must start with sqlite:, postgres:// or postgresql:// (got {:?})",
                database_url.split(':').next().unwrap_or_default()
            ));
        }
        let database_max_connections = r.parse("DATABASE_MAX_CONNECTIONS", 16u32, "a whole number");
        let host = r.parse("HOST", IpAddr::from([127, 0, 0, 1]), "an IP address");
        let port = r.parse("PORT", 8000u16, "a port number (0-65535)");

        let (secret_key, secret_key_is_ephemeral) = match r.raw("SECRET_KEY") {
            Some(k) => {
                if k.len() < 16 {
                    r.errors
                        .push("SECRET_KEY is shorter than 16 characters".to_string());
                }
                (Secret::new(k), false)
            }
            None => {
                if environment == Environment::Production {
                    r.errors
                        .push("SECRET_KEY is required when INCIDENT_ENV=production".to_string());
                }
                (Secret::new(random_key()), true)
            }
        };

        let access_token_lifetime = r.duration("ACCESS_TOKEN_LIFETIME", Duration::from_secs(7200));
        let refresh_token_lifetime =
            r.duration("REFRESH_TOKEN_LIFETIME", Duration::from_secs(172_800));
        let auth_cache_ttl = match r.raw("AUTH_CACHE_TTL").as_deref() {
            Some("0") => Duration::ZERO,
            _ => r.duration("AUTH_CACHE_TTL", Duration::from_secs(1)),
        };

        let login_max_failures = r.parse("LOGIN_MAX_FAILURES", 10u32, "a whole number");
        let login_lockout = r.duration("LOGIN_LOCKOUT", Duration::from_secs(900));
        let trusted_proxy_hops = r.parse("TRUSTED_PROXY_HOPS", 0usize, "a whole number");

        let cors_allowed_origins: Vec<String> = r
            .raw("CORS_ALLOWED_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().trim_end_matches('/').to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for o in &cors_allowed_origins {
            if o != "*" && url::Url::parse(o).is_err() {
                r.errors.push(format!("CORS_ALLOWED_ORIGINS entry {o:?} is not an origin such as https://app.example.com"));
            }
        }

        let default_phone_region = r
            .raw("DEFAULT_PHONE_REGION")
            .map(|v| v.to_ascii_uppercase());
        if let Some(region) = &default_phone_region {
            if !crate::domain::phone::validate_region(region) {
                r.errors.push(format!("DEFAULT_PHONE_REGION={region:?} is not a two-letter country code such as EG or US"));
            }
        }

        let public_base_url = r
            .raw("PUBLIC_BASE_URL")
            .map(|v| v.trim_end_matches('/').to_string());
        if let Some(u) = &public_base_url {
            match url::Url::parse(u) {
                Ok(p) if p.scheme() == "http" || p.scheme() == "https" => {}
                _ => r
                    .errors
                    .push(format!("PUBLIC_BASE_URL={u:?} is not an http(s) URL")),
            }
        }

        let log_format = match r
            .string("LOG_FORMAT", "pretty")
            .to_ascii_lowercase()
            .as_str()
        {
            "pretty" | "text" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                r.errors
                    .push(format!("LOG_FORMAT={other:?} must be pretty or json"));
                LogFormat::Pretty
            }
        };

        let max_attachment_bytes = r.parse(
            "MAX_ATTACHMENT_BYTES",
            10 * 1024 * 1024usize,
            "a number of bytes",
        );
        let max_body_bytes = r.parse("MAX_BODY_BYTES", 1024 * 1024usize, "a number of bytes");
        let request_timeout = r.duration("REQUEST_TIMEOUT", Duration::from_secs(30));
        let metrics_addr = match r.raw("METRICS_ADDR") {
            None => None,
            Some(v) => match v.parse() {
                Ok(a) => Some(a),
                Err(_) => {
                    r.errors.push(format!(
                        "METRICS_ADDR={v:?} is not an address such as 127.0.0.1:9100"
                    ));
                    None
                }
            },
        };
        let shutdown_grace = r.duration("SHUTDOWN_GRACE", Duration::from_secs(20));

        let whatsapp_provider = match r
            .string("WHATSAPP_PROVIDER", "twilio")
            .to_ascii_lowercase()
            .as_str()
        {
            "twilio" => WhatsAppProviderKind::Twilio,
            "meta" => WhatsAppProviderKind::Meta,
            "log" => WhatsAppProviderKind::Log,
            other => {
                r.errors.push(format!(
                    "WHATSAPP_PROVIDER={other:?} must be twilio, meta or log"
                ));
                WhatsAppProviderKind::Twilio
            }
        };

        let auth_token = Secret::new(r.raw("TWILIO_AUTH_TOKEN").unwrap_or_default());
        let api_key_sid = r.raw("TWILIO_API_KEY_SID");
        let api_key_secret = r.raw("TWILIO_API_KEY_SECRET");
        if api_key_sid.is_some() != api_key_secret.is_some() {
            r.errors.push(
                "TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET must be set together".to_string(),
            );
        }
        let twilio = TwilioConfig {
            account_sid: r.string("TWILIO_ACCOUNT_SID", ""),
            api_key_sid: api_key_sid.clone(),
            auth_token: match (&api_key_sid, api_key_secret) {
                (Some(_), Some(secret)) => Secret::new(secret),
                _ => auth_token.clone(),
            },
            webhook_auth_token: auth_token,
            whatsapp_from: r.string("TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886"),
            messaging_service_sid: r.raw("TWILIO_MESSAGING_SERVICE_SID"),
            base_url: r
                .string("TWILIO_BASE_URL", "https://api.twilio.com")
                .trim_end_matches('/')
                .to_string(),
            content_sids: map_list(&r.string("TWILIO_CONTENT_SIDS", "")),
        };
        if !twilio.account_sid.is_empty() && !twilio.account_sid.starts_with("AC") {
            r.errors.push("TWILIO_ACCOUNT_SID must start with AC (find it in the Twilio Console under Account Info)".to_string());
        }

        let meta = MetaConfig {
            access_token: Secret::new(r.raw("WHATSAPP_ACCESS_TOKEN").unwrap_or_default()),
            phone_number_id: r.string("WHATSAPP_PHONE_NUMBER_ID", ""),
            api_version: r.string("WHATSAPP_API_VERSION", "v21.0"),
            base_url: r
                .string("WHATSAPP_BASE_URL", "https://graph.facebook.com")
                .trim_end_matches('/')
                .to_string(),
            app_secret: Secret::new(r.raw("WHATSAPP_APP_SECRET").unwrap_or_default()),
            verify_token: Secret::new(r.raw("WHATSAPP_VERIFY_TOKEN").unwrap_or_default()),
            templates: map_list(&r.string("WHATSAPP_TEMPLATES", "")),
            template_language: r.string("WHATSAPP_TEMPLATE_LANGUAGE", "en_US"),
        };

        let worker = WorkerConfig {
            enabled: r.bool("NOTIFY_WORKER", true),
            rate_per_second: r.parse("NOTIFY_RATE_PER_SECOND", 80.0f64, "a number"),
            max_concurrency: r.parse("NOTIFY_MAX_CONCURRENCY", 32usize, "a whole number"),
            max_attempts: r.parse("NOTIFY_MAX_ATTEMPTS", 6i32, "a whole number"),
            lease: r.duration("NOTIFY_LEASE", Duration::from_secs(60)),
            poll_interval: r.duration("NOTIFY_POLL_INTERVAL", Duration::from_secs(5)),
            send_timeout: r.duration("NOTIFY_SEND_TIMEOUT", Duration::from_secs(15)),
            backoff_base: r.duration("NOTIFY_BACKOFF_BASE", Duration::from_secs(2)),
            backoff_max: r.duration("NOTIFY_BACKOFF_MAX", Duration::from_secs(600)),
        };
        if worker.rate_per_second < 0.0 || !worker.rate_per_second.is_finite() {
            r.errors
                .push("NOTIFY_RATE_PER_SECOND must be 0 (no cap) or a positive number".to_string());
        }
        if worker.max_concurrency == 0 {
            r.errors
                .push("NOTIFY_MAX_CONCURRENCY must be at least 1".to_string());
        }
        if worker.max_attempts < 1 {
            r.errors
                .push("NOTIFY_MAX_ATTEMPTS must be at least 1".to_string());
        }

        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        Ok(Config {
            environment,
            database_url,
            database_max_connections,
            host,
            port,
            secret_key,
            secret_key_is_ephemeral,
            access_token_lifetime,
            refresh_token_lifetime,
            auth_cache_ttl,
            login_max_failures,
            login_lockout,
            trusted_proxy_hops,
            cors_allowed_origins,
            default_phone_region,
            public_base_url,
            log_format,
            max_attachment_bytes,
            max_body_bytes,
            request_timeout,
            metrics_addr,
            shutdown_grace,
            whatsapp_provider,
            twilio,
            meta,
            worker,
        })
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
        c
    }
}

fn random_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&move |n| vars.get(n).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost_8000() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://incident.db");
        assert_eq!(c.port, 8000);
        assert!(c.secret_key_is_ephemeral);
        assert_eq!(c.access_token_lifetime, Duration::from_secs(7200));
        assert_eq!(c.twilio.whatsapp_from, "whatsapp:+14155238886");
        assert!(!c.twilio.is_configured());
    }

    #[test]
    fn every_bad_variable_is_reported_at_once() {
        let e = cfg(&[
            ("PORT", "eighty"),
            ("ACCESS_TOKEN_LIFETIME", "soon"),
            ("INCIDENT_ENV", "production"),
        ])
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("PORT"), "{text}");
        assert!(text.contains("ACCESS_TOKEN_LIFETIME"), "{text}");
        assert!(text.contains("SECRET_KEY is required"), "{text}");
        assert_eq!(e.0.len(), 3);
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let c = cfg(&[
            ("SECRET_KEY", "super-secret-value-123"),
            ("TWILIO_AUTH_TOKEN", "tok-abcdef"),
        ])
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("super-secret-value-123"));
        assert!(!dbg.contains("tok-abcdef"));
    }

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1w"), None);
    }

    /// Every variable the server reads is explained in `.env.example` and in the README.
    #[test]
    fn every_variable_is_documented() {
        let asked = std::sync::Mutex::new(Vec::new());
        let _ = Config::from_lookup(&|name| {
            asked.lock().unwrap().push(name.to_string());
            None
        });
        let asked = asked.into_inner().unwrap();
        assert!(asked.len() > 40, "{asked:?}");
        for (file, text) in [
            (".env.example", include_str!("../.env.example")),
            ("README.md", include_str!("../README.md")),
        ] {
            let missing: Vec<&String> = asked
                .iter()
                .filter(|n| !text.contains(n.as_str()))
                .collect();
            assert!(missing.is_empty(), "{file} does not mention {missing:?}");
        }
    }
}
