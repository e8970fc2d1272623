//! WhatsApp providers: one trait, three implementations (Twilio, Meta Cloud API, log), chosen by
//! `WHATSAPP_PROVIDER`. A send either returns the provider's message id or says whether the
//! failure is worth retrying.

pub mod log;
pub mod meta;
pub mod twilio;

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::config::{Config, WhatsAppProviderKind};

/// One message to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The notification_log row id (for logs).
    pub notification_id: i64,
    /// The recipient's username (for logs, as the seed's console lines show).
    pub username: String,
    /// `+E164`.
    pub to: String,
    /// The rendered text (already cut to the provider's limit by the provider).
    pub body: String,
    /// The event code (`ticket_created` ...), which selects a configured template.
    pub event: String,
    /// The template variables for that event, in order (`{"1": ..., "2": ...}` on Twilio).
    pub variables: Vec<String>,
}

/// A provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Twilio `SM...`, Meta `wamid...`, or `log-...`.
    pub provider_message_id: String,
    /// The first delivery status the provider reported (`queued`, `accepted`, ...), if any.
    pub delivery_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: timeouts, connection errors, 5xx, 429 / Twilio 20429 / Meta 130429.
    #[error("{message}")]
    Transient {
        code: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help until something is fixed (credentials, number, opt-in, template).
    #[error("{message}")]
    Permanent {
        code: Option<String>,
        message: String,
    },
}

impl SendError {
    pub fn code(&self) -> Option<&str> {
        match self {
            SendError::Transient { code, .. } | SendError::Permanent { code, .. } => {
                code.as_deref()
            }
        }
    }

    pub fn message(&self) -> &str {
        match self {
            SendError::Transient { message, .. } | SendError::Permanent { message, .. } => message,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }

    /// True when the provider refused our credentials (Twilio 20003, Meta 190/104, HTTP 401).
    pub fn is_auth_failure(&self) -> bool {
        matches!(self.code(), Some("20003" | "190" | "104" | "http_401"))
    }
}

/// The error code recorded when no provider is configured.
pub const NOT_CONFIGURED_CODE: &str = "not_configured";

/// What every provider does.
pub trait WhatsAppProvider {
    fn name(&self) -> &'static str;
    fn send(
        &self,
        msg: &Outgoing,
    ) -> impl std::future::Future<Output = Result<Receipt, SendError>> + Send;
}

/// The configured provider (static dispatch over the implementations).
#[derive(Debug, Clone)]
pub enum Provider {
    Twilio(twilio::Twilio),
    Meta(meta::Meta),
    Log(log::LogProvider),
    /// Nothing to send with: every message fails permanently with this explanation.
    NotConfigured(&'static str),
}

impl Provider {
    pub fn from_config(config: &Config) -> Provider {
        match config.whatsapp_provider {
            WhatsAppProviderKind::Twilio if config.twilio.is_configured() => {
                Provider::Twilio(twilio::Twilio::new(&config.twilio, config.public_base_url.as_deref(), config.worker.send_timeout))
            }
            WhatsAppProviderKind::Twilio => Provider::NotConfigured(
                "WhatsApp provider not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and restart",
            ),
            WhatsAppProviderKind::Meta if config.meta.is_configured() => {
                Provider::Meta(meta::Meta::new(&config.meta, config.worker.send_timeout))
            }
            WhatsAppProviderKind::Meta => Provider::NotConfigured(
                "WhatsApp provider not configured: set WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID and restart",
            ),
            WhatsAppProviderKind::Log => Provider::Log(log::LogProvider),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Provider::Twilio(p) => p.name(),
            Provider::Meta(p) => p.name(),
            Provider::Log(p) => p.name(),
            Provider::NotConfigured(_) => "none",
        }
    }

    pub fn is_configured(&self) -> bool {
        !matches!(self, Provider::NotConfigured(_))
    }

    pub async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        match self {
            Provider::Twilio(p) => p.send(msg).await,
            Provider::Meta(p) => p.send(msg).await,
            Provider::Log(p) => p.send(msg).await,
            Provider::NotConfigured(why) => Err(SendError::Permanent {
                code: Some(NOT_CONFIGURED_CODE.to_string()),
                message: (*why).to_string(),
            }),
        }
    }
}

/// Cuts text to `max` characters, ending with an ellipsis when it was longer.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// What went wrong and how to fix it, in the words of the setup guide's troubleshooting
/// section; used by `incident whatsapp test` and stored with failed rows.
pub fn diagnose(err: &SendError) -> &'static str {
    match err.code() {
        Some(NOT_CONFIGURED_CODE) => {
            // The message already names the variables to set; say what happens to these rows.
            "Messages that failed before the restart can be sent again with POST /api/notifications/retry_failed/?notification_type=WHATSAPP."
        }
        Some("190" | "104") => {
            "The WhatsApp Cloud API access token is invalid or expired: replace WHATSAPP_ACCESS_TOKEN and restart."
        }
        Some("131047") => {
            "Outside the 24-hour window: WhatsApp only allows free-form messages within 24 hours of the user's last message. Configure an approved template (WHATSAPP_TEMPLATES) for this event."
        }
        Some("20003" | "http_401") => {
            "Authentication failed: the auth token is incorrect. Verify the Account SID and Auth Token in the Twilio Console (Dashboard → Account Info)."
        }
        Some("63015") => {
            "The recipient is not connected to the Twilio Sandbox. They must send \"join <your sandbox code>\" to +1 415 523 8886 (sandbox sessions expire after 3 days of inactivity)."
        }
        Some("21211" | "21614" | "100") => {
            "Invalid phone number format. Use the international format +1234567890 (country code + number, no spaces)."
        }
        Some("63016") => {
            "Outside the 24-hour window: WhatsApp only allows free-form messages within 24 hours of the user's last message. Configure an approved template (TWILIO_CONTENT_SIDS) for this event."
        }
        Some("21610") => "The recipient opted out (replied STOP). They must send START to receive messages again.",
        Some("21408") => "This destination country is not enabled. Enable it in the Twilio Console under Messaging → Settings → Geo permissions.",
        Some("21608") => "Trial accounts can only send to verified numbers. Verify the number in the Twilio Console or upgrade the account.",
        Some("63007") => "The From number is not a WhatsApp sender on this account. Check TWILIO_WHATSAPP_FROM (the sandbox is whatsapp:+14155238886).",
        _ if err.is_transient() => "The provider is unreachable or busy; the message will be retried automatically.",
        _ => "The provider refused the message; see the error code in the provider's documentation.",
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an unexpected response body an error message quotes.
const MAX_QUOTED_BODY_CHARS: usize = 200;

/// One client per provider, so connections (and TLS sessions) are reused between sends.
fn http_client(send_timeout: Duration, provider: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(send_timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(send_timeout))
        // A redirected POST would be replayed as a GET; a redirect means a wrong base URL.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("incident/", env!("CARGO_PKG_VERSION")))
        .build()
        // The builder fails only when the TLS backend cannot initialise; a default client is
        // still better than refusing to start the server over notifications.
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, provider, "could not build the provider's HTTP client; using defaults");
            reqwest::Client::new()
        })
}

/// Timeouts and connection failures: nothing useful came back, so a later attempt may succeed.
fn transport_error(e: reqwest::Error, provider: &str) -> SendError {
    let (code, message) = if e.is_timeout() {
        ("timeout", format!("{provider} did not answer in time"))
    } else {
        (
            "connection",
            format!("could not reach {provider}: {}", root_cause(&e)),
        )
    };
    SendError::Transient {
        code: Some(code.to_string()),
        message,
        retry_after: None,
    }
}

/// reqwest's own text is "error sending request for url (...)"; the innermost cause
/// ("Connection refused", "dns error") is what tells an operator what happened.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `Retry-After` as delay-seconds or as an HTTP date; anything else is ignored.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// A short, single-line excerpt of a body for an error message.
fn quote_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate_chars(&one_line, MAX_QUOTED_BODY_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            reqwest::header::HeaderValue::from_static("120"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc2822();
        headers.insert(
            RETRY_AFTER,
            reqwest::header::HeaderValue::from_str(&later).unwrap(),
        );
        let d = retry_after(&headers).unwrap();
        assert!(
            d > Duration::from_secs(50) && d <= Duration::from_secs(60),
            "{d:?}"
        );
        headers.insert(
            RETRY_AFTER,
            reqwest::header::HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
