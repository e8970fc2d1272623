//! Diagnostics of the notification channels, for the admin console and the command line alike:
//! what is configured (no secret), and one real test send of each channel explained: the
//! WhatsApp number read as the API reads it, one send through the configured provider or
//! SMTP server, the cause and fix of a failure from `notify::provider::diagnose_channel`.
//! `incident whatsapp test` / `email test` and the console's forms call the same functions.

use serde::Serialize;

use crate::config::WhatsAppProviderKind;
use crate::domain::phone::WhatsAppNumber;
use crate::notify::provider::smtp::{Email, Mailer};
use crate::notify::provider::{diagnose_channel, Outgoing, Provider, SendError};
use crate::state::AppState;

/// What is configured, as the diagnostics page shows it (no secret).
#[derive(Debug, Serialize)]
pub struct Channels {
    pub provider: &'static str,
    pub configured: bool,
    /// The WhatsApp sender: Twilio's From number or messaging service, Meta's phone number id.
    pub sender: String,
    pub default_phone_region: Option<String>,
    pub email: EmailChannel,
}

/// The e-mail channel as configured.
#[derive(Debug, Serialize)]
pub struct EmailChannel {
    pub configured: bool,
    /// `host:port`, or why e-mail goes nowhere.
    pub server: String,
    /// `DEFAULT_FROM_EMAIL`.
    pub from: String,
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
        email: EmailChannel {
            configured: state.mailer.is_configured(),
            server: state.mailer.describe(),
            from: c.email.from.clone(),
        },
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

impl TestResult {
    fn failed(channel: &str, what: &str, e: &SendError) -> TestResult {
        let code = e
            .code()
            .map(|c| format!(" (error {c})"))
            .unwrap_or_default();
        TestResult {
            sent: false,
            text: format!("{what} failed: {}{code}", e.message()),
            fix: Some(diagnose_channel(channel, e).to_string()),
        }
    }
}

/// Sends one WhatsApp test message to `to` through `provider`, the number read with `region`.
pub async fn whatsapp_test(
    provider: &Provider,
    region: Option<&str>,
    to: &str,
    message: &str,
) -> TestResult {
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
        username: "whatsapp-test".to_string(),
        to: number.as_str().to_string(),
        body: message.to_string(),
        event: "test".to_string(),
        variables: Vec::new(),
        use_template: false,
    };
    match provider.send(&msg).await {
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
        Err(e) => TestResult::failed("WHATSAPP", "WhatsApp send", &e),
    }
}

/// The subject of a test e-mail.
pub const TEST_SUBJECT: &str = "Test e-mail from Incident Management System";

/// Sends one test e-mail to `to` through `mailer`.
pub async fn email_test(mailer: &Mailer, to: &str, message: &str) -> TestResult {
    let email = Email {
        notification_id: 0,
        username: "email-test".to_string(),
        to: to.trim().to_string(),
        subject: TEST_SUBJECT.to_string(),
        text: message.to_string(),
        html: None,
    };
    match mailer.send(&email).await {
        Ok(receipt) => TestResult {
            sent: true,
            text: format!(
                "Sent to {}: Message-ID <{}>",
                email.to, receipt.provider_message_id
            ),
            fix: None,
        },
        Err(e) => TestResult::failed("EMAIL", "E-mail send", &e),
    }
}
