//! Diagnostics of the notification channels for the admin console: the configured provider and
//! sender, and one real test send explained (the check of `incident whatsapp test`: the number
//! read as the API reads it, one send through the configured provider, the cause and fix of a
//! failure from `notify::provider::diagnose`). The e-mail channel plugs in here once it exists:
//! an `email_test` beside `whatsapp_test`, and its sender in `Channels`.

use serde::Serialize;

use crate::config::WhatsAppProviderKind;
use crate::domain::phone::WhatsAppNumber;
use crate::notify::provider::{diagnose, Outgoing};
use crate::state::AppState;

/// What is configured, as the diagnostics page shows it (no secret).
#[derive(Debug, Serialize)]
pub struct Channels {
    pub provider: &'static str,
    pub configured: bool,
    /// The WhatsApp sender: Twilio's From number or messaging service, Meta's phone number id.
    pub sender: String,
    pub default_phone_region: Option<String>,
    /// Set once e-mail delivery exists (another issue); the page says so meanwhile.
    pub email: Option<String>,
}

pub fn channels(state: &AppState) -> Channels {
    let c = &state.config;
    let sender = match c.whatsapp_provider {
        WhatsAppProviderKind::Twilio => match &c.twilio.messaging_service_sid {
            Some(sid) => format!("messaging service {sid}"),
            None => c.twilio.whatsapp_from.clone(),
        },
        WhatsAppProviderKind::Meta => format!("phone number id {}", c.meta.phone_number_id),
        WhatsAppProviderKind::Log => "the server log (no message leaves)".to_string(),
    };
    Channels {
        provider: state.provider.name(),
        configured: state.provider.is_configured(),
        sender,
        default_phone_region: c.default_phone_region.clone(),
        email: None,
    }
}

/// The outcome of a test send.
#[derive(Debug, Serialize)]
pub struct TestResult {
    pub sent: bool,
    /// What happened: the message id, or the provider's error with its code.
    pub text: String,
    /// The cause and fix of a failure.
    pub fix: Option<String>,
}

/// Sends one WhatsApp test message to `to` with the configured provider.
pub async fn whatsapp_test(state: &AppState, to: &str, message: &str) -> TestResult {
    let region = state.config.default_phone_region.as_deref();
    let number = match WhatsAppNumber::parse(to, region) {
        Ok(n) => n,
        Err(e) => {
            return TestResult {
                sent: false,
                text: e.to_string(),
                fix: crate::domain::delivery::guide("21211").map(str::to_string),
            }
        }
    };
    let msg = Outgoing {
        notification_id: 0,
        username: "console-test".to_string(),
        to: number.as_str().to_string(),
        body: message.to_string(),
        event: "test".to_string(),
        variables: Vec::new(),
        use_template: false,
    };
    match state.provider.send(&msg).await {
        Ok(receipt) => TestResult {
            sent: true,
            text: format!(
                "Sent to {}: message id {} (status: {})",
                number,
                receipt.provider_message_id,
                receipt.delivery_status.as_deref().unwrap_or("unknown")
            ),
            fix: None,
        },
        Err(e) => TestResult {
            sent: false,
            text: format!(
                "WhatsApp send failed: {}{}",
                e.message(),
                e.code()
                    .map(|c| format!(" (error {c})"))
                    .unwrap_or_default()
            ),
            fix: Some(diagnose(&e).to_string()),
        },
    }
}
