//! The log provider: writes each message to the log instead of sending it, for demos and local
//! runs without WhatsApp credentials (chosen only by `WHATSAPP_PROVIDER=log`, never by default).

use rand::Rng;

use super::message::{Outgoing, Receipt, SendError, WhatsAppProvider};

/// Sends nothing; every message "succeeds" with a made-up id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogProvider;

impl WhatsAppProvider for LogProvider {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        // The random suffix keeps ids unique if a row is ever sent twice (lease expiry), so they
        // stay usable as the provider-id key that Twilio's `SM...` ids are elsewhere.
        let suffix: u32 = rand::thread_rng().gen();
        let id = format!("log-{}-{suffix:08x}", msg.notification_id);
        // The same console line the setup guide shows for a real send.
        tracing::info!(
            notification_id = msg.notification_id,
            to = %msg.to,
            event = %msg.event,
            body = %msg.body,
            "📱 WhatsApp sent to {}: {}",
            msg.username,
            id
        );
        Ok(Receipt {
            provider_message_id: id,
            delivery_status: Some("sent".to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(notification_id: i64) -> Outgoing {
        Outgoing {
            notification_id,
            username: "admin_user".to_string(),
            to: "+12025551234".to_string(),
            body: "Ticket #12 created".to_string(),
            event: "ticket_created".to_string(),
            variables: Vec::new(),
            use_template: false,
        }
    }

    #[tokio::test]
    async fn returns_a_log_id_and_sent_status() {
        let receipt = LogProvider.send(&outgoing(42)).await;
        let receipt = receipt.unwrap();
        let id = &receipt.provider_message_id;
        assert!(id.starts_with("log-42-"), "{id}");
        let suffix = id.trim_start_matches("log-42-");
        assert_eq!(suffix.len(), 8, "{id}");
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert_eq!(receipt.delivery_status.as_deref(), Some("sent"));
        assert_eq!(LogProvider.name(), "log");
    }

    #[tokio::test]
    async fn ids_differ_between_sends() {
        let a = LogProvider.send(&outgoing(1)).await.unwrap();
        let b = LogProvider.send(&outgoing(1)).await.unwrap();
        assert_ne!(a.provider_message_id, b.provider_message_id);
    }
}
