//! What a provider is given and what it answers: the message, the receipt, the two kinds of
//! failure, and the trait every provider implements.

use std::time::Duration;

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
    /// Send the event's approved template (where the provider has one) instead of the text:
    /// the recipient's 24-hour window is closed (`domain::whatsapp::route`).
    pub use_template: bool,
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

    /// True when the provider may have taken the message despite the error (a timeout, a 5xx,
    /// a success without an id): before it is sent again, it is looked up. A rate limit's 429
    /// was not processed.
    pub fn may_have_been_taken(&self) -> bool {
        self.is_transient() && !matches!(self.code(), Some("20429" | "130429" | "http_429"))
    }

    /// True when the provider refused our credentials (Twilio 20003, Meta 190/104, HTTP 401:
    /// the `auth` kind of `domain::delivery::channel_fault`).
    pub fn is_auth_failure(&self) -> bool {
        self.channel_fault().is_some_and(|f| f.cause == "auth")
    }

    /// What an admin must fix when this failure breaks the channel for every message; `None`
    /// for a transient failure or one that concerns this message or recipient only.
    pub fn channel_fault(&self) -> Option<crate::domain::delivery::ChannelFault> {
        if self.is_transient() {
            return None;
        }
        self.code().and_then(crate::domain::delivery::channel_fault)
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

/// Cuts text to `max` characters, ending with an ellipsis when it was longer.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
