//! Every configuration variable, one line each: its name, its default (as shown to people), the
//! commands that read it, and what it means. The binary makes each one a flag of those commands
//! (`--port` for `PORT`), `incident serve --help` lists them, and `incident config` prints them
//! with their values and sources. Adding a variable is adding its line here; a test fails
//! naming any variable `config/` reads that is missing.

/// One configuration variable.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    /// The default as a person reads it. One in parentheses describes a computed or absent
    /// value; any other is the literal value the variable defaults to.
    pub default: &'static str,
    /// A value never printed (`incident config` shows it redacted; `--help` hides its value).
    pub secret: bool,
    /// The commands that read it (top-level names: `serve`, `users` ...); `config` reads all.
    pub used_by: &'static [&'static str],
    pub meaning: &'static str,
}

impl Variable {
    /// The flag of this variable: `DATABASE_URL` is `--database-url`.
    pub fn flag(&self) -> String {
        self.name.to_ascii_lowercase().replace('_', "-")
    }

    /// Whether `command` (a top-level subcommand name) reads this variable.
    pub fn used_by(&self, command: &str) -> bool {
        command == "config" || self.used_by.contains(&command)
    }

    /// Whether `default` is the literal value (not a description in parentheses).
    pub fn default_is_literal(&self) -> bool {
        !self.default.starts_with('(')
    }
}

/// Commands that open the database.
pub const DATABASE: &[&str] = &[
    "serve",
    "migrate",
    "create-user",
    "users",
    "import-django",
    "notifications",
];
/// Only the server.
pub const SERVE: &[&str] = &["serve"];
/// Commands that send WhatsApp messages.
pub const SEND: &[&str] = &["serve", "whatsapp"];
/// Commands that send e-mail.
pub const MAIL: &[&str] = &["serve", "email"];
/// Commands that read phone numbers.
pub const PHONES: &[&str] = &["serve", "create-user", "users", "whatsapp", "import-django"];
/// Commands that render message templates.
pub const TEMPLATE_READERS: &[&str] = &["serve", "templates"];
/// Every command (they all log).
pub const EVERY: &[&str] = &[
    "serve",
    "migrate",
    "create-user",
    "users",
    "whatsapp",
    "email",
    "import-django",
    "notifications",
    "templates",
];

const fn var(
    name: &'static str,
    default: &'static str,
    used_by: &'static [&'static str],
    meaning: &'static str,
) -> Variable {
    Variable {
        name,
        default,
        secret: false,
        used_by,
        meaning,
    }
}

impl Variable {
    /// This variable, its value never shown.
    const fn secret(mut self) -> Variable {
        self.secret = true;
        self
    }
}

/// Every variable, in the order `.env.example` lists them.
#[rustfmt::skip]
pub const VARIABLES: &[Variable] = &[
    var("INCIDENT_ENV", "development", SERVE, "development or production (production requires SECRET_KEY, and ALLOWED_HOSTS or PUBLIC_BASE_URL)"),
    var("DATABASE_URL", "sqlite://incident.db", DATABASE, "sqlite://FILE (created when missing) or postgres://user:pass@host/db"),
    var("DATABASE_MAX_CONNECTIONS", "16", DATABASE, "database connections in the pool"),
    var("DATABASE_STATEMENT_TIMEOUT", "(nine tenths of REQUEST_TIMEOUT)", DATABASE, "longest run of one statement; below REQUEST_TIMEOUT"),
    var("HOST", "127.0.0.1", SERVE, "address to listen on: an IP address or a host name (0.0.0.0: every interface)"),
    var("PORT", "8000", SERVE, "port to listen on"),
    var("PUBLIC_BASE_URL", "(none)", SEND, "the URL clients reach the server at (links, provider status callbacks)"),
    var("ALLOWED_HOSTS", "(development: .localhost,127.0.0.1,[::1])", SERVE, "host names clients may use, comma-separated (.example.com: domain and subdomains; *: any)"),
    var("CORS_ALLOWED_ORIGINS", "(none)", SERVE, "browser origins allowed to call the API, comma-separated (*: any, without credentials)"),
    var("DEFAULT_PHONE_REGION", "(none)", PHONES, "two-letter region of phone numbers without a country code, e.g. EG"),
    var("RUST_LOG", "info,sqlx=warn", EVERY, "log filter (tracing EnvFilter syntax)"),
    var("LOG_FORMAT", "pretty", EVERY, "pretty or json (one JSON object per line)"),
    var("MAX_BODY_BYTES", "1048576", SERVE, "largest request body, in bytes (uploads: MAX_ATTACHMENT_BYTES)"),
    var("MAX_ATTACHMENT_BYTES", "10485760", SERVE, "largest upload, in bytes"),
    var("REQUEST_TIMEOUT", "30s", DATABASE, "longest a request may take (also bounds DATABASE_STATEMENT_TIMEOUT)"),
    var("MAX_TICKET_ATTACHMENT_BYTES", "26214400", SERVE, "the most one ticket's attachments may add up to, in bytes"),
    var("MAX_UPLOAD_BYTES_IN_FLIGHT", "67108864", SERVE, "bytes of uploads received and stored at once"),
    var("MAX_INLINE_ATTACHMENT_RESPONSES", "4", SERVE, "answers inlining attachments as base64 at once"),
    var("HEAVY_REQUEST_WAIT", "5s", SERVE, "how long an upload or inlining answer waits for room before 503"),
    var("METRICS_ADDR", "(127.0.0.1:9100; off when METRICS_TOKEN is set)", SERVE, "private address serving /metrics, or off"),
    var("METRICS_TOKEN", "(none)", SERVE, "also serve /metrics on the API port to Authorization: Bearer <token>").secret(),
    var("SHUTDOWN_GRACE", "20s", SERVE, "the longest a whole shutdown takes"),
    var("HEADER_READ_TIMEOUT", "10s", SERVE, "a request's headers must arrive within this"),
    var("KEEP_ALIVE_TIMEOUT", "75s", SERVE, "an idle connection is closed after this"),
    var("HTTP2_KEEP_ALIVE_INTERVAL", "20s", SERVE, "HTTP/2 PING after this much silence"),
    var("MAX_CONNECTIONS", "(from the open-file limit)", SERVE, "open connections at most"),
    var("SECRET_KEY", "(development: generated once, kept beside the SQLite file)", SERVE, "signs the tokens (Django's SECRET_KEY keeps its tokens valid); required in production").secret(),
    var("ACCESS_TOKEN_LIFETIME", "2h", SERVE, "access token lifetime (seconds, or 30m, 2h, 2d)"),
    var("REFRESH_TOKEN_LIFETIME", "2d", SERVE, "refresh token lifetime"),
    var("CONSOLE_SESSION_IDLE", "30m", SERVE, "an admin console session unused this long ends"),
    var("CONSOLE_SESSION_LIFETIME", "12h", SERVE, "an admin console session ends this long after sign-in, used or not"),
    var("AUTH_CACHE_TTL", "1s", SERVE, "how long an authenticated user is cached (0: off)"),
    var("LOGIN_MAX_FAILURES", "10", SERVE, "refused logins per username and address before 429 (0: off)"),
    var("LOGIN_LOCKOUT", "15m", SERVE, "how long a login lockout lasts"),
    var("LOGIN_MAX_FAILURES_PER_ADDRESS", "20", SERVE, "refused logins per address, any username, before 429 (0: off)"),
    var("LOGIN_MAX_HASH_WAIT", "2s", SERVE, "a login waiting longer than this for its password check gets 429 (0: no bound)"),
    var("TICKET_CREATE_RATE", "30/min", SERVE, "tickets one non-admin user may create (N/s, N/min, N/hour, N/day, or off)"),
    var("COMMENT_RATE", "60/min", SERVE, "comments one non-admin user may add (same notation)"),
    var("TRUSTED_PROXY_HOPS", "0", SERVE, "proxies in front that append to X-Forwarded-For (0: ignore the header)"),
    var("WHATSAPP_PROVIDER", "twilio", SEND, "twilio, meta, or log (write messages to the log; demos)"),
    var("TWILIO_ACCOUNT_SID", "(none)", SEND, "Twilio account SID (AC...)"),
    var("TWILIO_AUTH_TOKEN", "(none)", SEND, "Twilio auth token (also checks webhook signatures)").secret(),
    var("TWILIO_API_KEY_SID", "(none)", SEND, "Twilio API key SID (SK...), with TWILIO_API_KEY_SECRET, for sending"),
    var("TWILIO_API_KEY_SECRET", "(none)", SEND, "Twilio API key secret").secret(),
    var("TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886", SEND, "the sender (the sandbox by default)"),
    var("TWILIO_MESSAGING_SERVICE_SID", "(none)", SEND, "send through a Messaging Service instead (MG...)"),
    var("TWILIO_CONTENT_SIDS", "(none)", SEND, "approved templates per event: event=HX...,event=HX..."),
    var("TWILIO_BASE_URL", "https://api.twilio.com", SEND, "Twilio's API address (tests and proxies only)"),
    var("WHATSAPP_ACCESS_TOKEN", "(none)", SEND, "Meta Cloud API access token").secret(),
    var("WHATSAPP_PHONE_NUMBER_ID", "(none)", SEND, "Meta Cloud API phone number id"),
    var("WHATSAPP_API_VERSION", "v21.0", SEND, "Meta Graph API version"),
    var("WHATSAPP_APP_SECRET", "(none)", SEND, "Meta app secret (checks X-Hub-Signature-256)").secret(),
    var("WHATSAPP_VERIFY_TOKEN", "(none)", SEND, "Meta webhook verify token").secret(),
    var("WHATSAPP_TEMPLATES", "(none)", SEND, "approved template names per event: event=name,..."),
    var("WHATSAPP_TEMPLATE_LANGUAGE", "en_US", SEND, "the templates' language"),
    var("WHATSAPP_BASE_URL", "https://graph.facebook.com", SEND, "Meta's API address (tests and proxies only)"),
    var("EMAIL_HOST", "(none)", MAIL, "the SMTP server (smtp.gmail.com); without it e-mail is not configured"),
    var("EMAIL_PORT", "(587 with TLS, 465 with SSL, else 25)", MAIL, "the SMTP server's port"),
    var("EMAIL_HOST_USER", "(none)", MAIL, "the SMTP account (none: no authentication)"),
    var("EMAIL_HOST_PASSWORD", "(none)", MAIL, "the SMTP password (Gmail: an app password)").secret(),
    var("EMAIL_USE_TLS", "true", MAIL, "STARTTLS after connecting (port 587)"),
    var("EMAIL_USE_SSL", "false", MAIL, "TLS from the first byte (port 465); excludes EMAIL_USE_TLS"),
    var("DEFAULT_FROM_EMAIL", "(EMAIL_HOST_USER if an address, else webmaster@localhost)", MAIL, "the sender of e-mails"),
    var("EMAIL_TIMEOUT", "15s", MAIL, "longest one e-mail's SMTP exchange may take"),
    var("NOTIFY_WORKER", "true", SERVE, "run the delivery worker (false: this replica serves HTTP only)"),
    var("NOTIFY_RATE_PER_SECOND", "80", SERVE, "messages per second (0: no cap)"),
    var("NOTIFY_MAX_CONCURRENCY", "32", SERVE, "provider requests at once"),
    var("WHATSAPP_OUTSIDE_WINDOW", "template", SERVE, "a message due outside the recipient's 24h window with no template for its event: template (send the text anyway), send (text always, templates unused) or skip (FAILED outside_window)"),
    var("NOTIFY_RETRY_FOR", "24h", SERVE, "how long transient failures are retried from the first attempt, then FAILED"),
    var("NOTIFY_MAX_ATTEMPTS", "(none)", SERVE, "deprecated and ignored (a start-up warning): NOTIFY_RETRY_FOR bounds the retries"),
    var("NOTIFY_LEASE", "60s", SERVE, "how long a claimed message is held before another worker may take it"),
    var("NOTIFY_POLL_INTERVAL", "5s", SERVE, "how often the worker looks for due messages"),
    var("NOTIFY_SEND_TIMEOUT", "15s", SEND, "longest wait for the provider's answer"),
    var("NOTIFY_BACKOFF_BASE", "2s", SERVE, "first retry delay (doubles, with jitter)"),
    var("NOTIFY_BACKOFF_MAX", "10m", SERVE, "longest retry delay"),
    var("NOTIFY_RECONCILE_AFTER", "15m", SERVE, "SENT messages without a final delivery status this long are fetched from Twilio"),
    var("NOTIFY_RECONCILE_PER_SECOND", "1", SERVE, "status fetches per second at most (0: no reconciliation)"),
    var("TEMPLATES_DIR", "(none)", TEMPLATE_READERS, "a folder whose files override the built-in message templates one by one; serve refuses to start on a broken one"),
    var("FRONTEND_URL", "http://localhost:8000", TEMPLATE_READERS, "the base of the links in e-mails"),
    var("NOTIFY_LOG_RETENTION", "forever", SERVE, "delete finished notification history older than this (e.g. 365d), hourly; forever keeps everything"),
    var("MAX_REALTIME_SESSIONS_PER_USER", "5", SERVE, "live WebSocket and SSE sessions per user and replica"),
];

/// The line of a variable.
pub fn variable(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::Config;

    /// The names `Config::from_lookup` asks for, with `set` answering (and the rest unset).
    fn names_read(set: &[(&str, &str)]) -> BTreeSet<String> {
        let asked = RefCell::new(BTreeSet::new());
        let _ = Config::from_lookup(&|name| {
            asked.borrow_mut().insert(name.to_string());
            set.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        });
        asked.into_inner()
    }

    /// Quoted ALL_CAPS words in the sources of `config/` (besides this table and the tests):
    /// catches a variable read only on some path the lookups above do not take.
    fn names_in_sources() -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config");
        let mut names = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            if file == "variables.rs" || file == "tests.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for quoted in text.split('"').skip(1).step_by(2) {
                let is_name = quoted.len() >= 3
                    && quoted.starts_with(|c: char| c.is_ascii_uppercase())
                    && quoted
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if is_name {
                    names.insert(quoted.to_string());
                }
            }
        }
        names
    }

    #[test]
    fn every_variable_config_reads_has_its_line_in_the_table() {
        let mut read = names_read(&[]);
        read.extend(names_read(&[
            ("INCIDENT_ENV", "production"),
            ("METRICS_TOKEN", "t"),
            ("MAX_CONNECTIONS", "5"),
            ("AUTH_CACHE_TTL", "0"),
            ("LOGIN_MAX_HASH_WAIT", "0"),
        ]));
        read.extend(names_in_sources());
        let missing: Vec<_> = read.iter().filter(|n| variable(n).is_none()).collect();
        assert!(
            missing.is_empty(),
            "add a line to VARIABLES in src/config/variables.rs for: {missing:?}"
        );
        let unread: Vec<_> = VARIABLES
            .iter()
            .filter(|v| !read.contains(v.name))
            .map(|v| v.name)
            .collect();
        assert!(
            unread.is_empty(),
            "lines for variables nobody reads: {unread:?}"
        );
    }

    #[test]
    fn a_literal_default_is_what_config_uses_when_the_variable_is_unset() {
        let debug = |set: &[(&str, &str)]| {
            let mut set = set.to_vec();
            set.push(("SECRET_KEY", "a-fixed-key-for-comparing"));
            let c = Config::from_lookup(&|name| {
                set.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_else(|e| panic!("{set:?}: {e}"));
            format!("{c:?}")
        };
        let unset = debug(&[]);
        for v in VARIABLES.iter().filter(|v| v.default_is_literal()) {
            assert_eq!(
                debug(&[(v.name, v.default)]),
                unset,
                "{}: the table's default {:?} is not what config/ uses",
                v.name,
                v.default
            );
        }
    }

    #[test]
    fn every_variable_is_in_env_example() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".env.example");
        let example = std::fs::read_to_string(path).unwrap();
        let missing: Vec<_> = VARIABLES
            .iter()
            .filter(|v| !example.contains(&format!("{}=", v.name)))
            .map(|v| v.name)
            .collect();
        assert!(missing.is_empty(), ".env.example lacks {missing:?}");
    }

    #[test]
    fn names_are_unique_and_commands_are_known() {
        let names: BTreeSet<_> = VARIABLES.iter().map(|v| v.name).collect();
        assert_eq!(names.len(), VARIABLES.len());
        for v in VARIABLES {
            assert!(!v.meaning.is_empty(), "{}", v.name);
            for c in v.used_by {
                assert!(EVERY.contains(c), "{}: unknown command {c}", v.name);
            }
        }
    }
}
