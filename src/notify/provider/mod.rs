//! WhatsApp providers: one trait, three implementations (Twilio, Meta Cloud API, log), chosen by
//! `WHATSAPP_PROVIDER`. A send either returns the provider's message id or says whether the
//! failure is worth retrying.

pub mod log;
pub mod message;
pub mod meta;
mod transport;
pub mod twilio;

use crate::config::{Config, WhatsAppProviderKind};
pub use message::{
    truncate_chars, Outgoing, Receipt, SendError, WhatsAppProvider, NOT_CONFIGURED_CODE,
};

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
