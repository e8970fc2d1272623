//! WhatsApp providers: one trait, three implementations (Twilio, Meta Cloud API, log), chosen by
//! `WHATSAPP_PROVIDER`. A send either returns the provider's message id or says whether the
//! failure is worth retrying.

pub mod log;
pub mod message;
pub mod meta;
pub mod smtp;
mod transport;
pub mod twilio;

use crate::config::{Config, WhatsAppProviderKind};
pub use message::{
    truncate_chars, Outgoing, Receipt, SendError, WhatsAppProvider, NOT_CONFIGURED_CODE,
};
pub use twilio::lookup::FetchedStatus;

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

impl Provider {
    /// The messages at the provider that an earlier attempt of `msg` (started at `since`, no
    /// outcome recorded) may have created, newest first. Only Twilio can be asked (its message
    /// list by recipient and day); Meta's Cloud API has no such look-up, so its rows are sent
    /// again: at least once.
    pub async fn find_sent(
        &self,
        msg: &Outgoing,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Receipt>, SendError> {
        match self {
            Provider::Twilio(p) => p.find_sent(msg, since).await,
            _ => Ok(Vec::new()),
        }
    }

    /// The delivery status the provider holds for message `id`; `None` where it cannot be
    /// asked (Meta reports statuses only through its webhook; the log provider sends nothing).
    pub async fn fetch_status(&self, id: &str) -> Result<Option<FetchedStatus>, SendError> {
        match self {
            Provider::Twilio(p) => p.fetch_status(id).await.map(Some),
            _ => Ok(None),
        }
    }

    /// True when `fetch_status` can answer.
    pub fn can_fetch_status(&self) -> bool {
        matches!(self, Provider::Twilio(_))
    }
}

/// What went wrong and how to fix it, in the words of the setup guide's troubleshooting
/// section (`domain::delivery::guide`, the table a status callback's failure also reads); used
/// by `incident whatsapp test` and stored with failed rows.
pub fn diagnose(err: &SendError) -> &'static str {
    diagnose_channel("WHATSAPP", err)
}

/// [`diagnose`] for a message of `channel` (`WHATSAPP` or `EMAIL`).
pub fn diagnose_channel(channel: &str, err: &SendError) -> &'static str {
    match err.code() {
        // The message already names the variables to set; say what happens to these rows.
        Some(NOT_CONFIGURED_CODE) if channel == "EMAIL" => {
            "Messages that failed before the restart can be sent again with POST /api/notifications/retry_failed/?notification_type=EMAIL."
        }
        Some(NOT_CONFIGURED_CODE) => {
            "Messages that failed before the restart can be sent again with POST /api/notifications/retry_failed/?notification_type=WHATSAPP."
        }
        code => match code.and_then(crate::domain::delivery::guide) {
            Some(fix) => fix,
            None if err.is_transient() => "The provider is unreachable or busy; the message will be retried automatically.",
            None => "The provider refused the message; see the error code in the provider's documentation.",
        },
    }
}
