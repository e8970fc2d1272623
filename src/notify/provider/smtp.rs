//! The e-mail sender: SMTP through `lettre`'s pooled tokio transport (connections reused across
//! messages), STARTTLS or implicit TLS over rustls, authentication, a timeout per message. A 4xx
//! reply or a broken connection is transient (retried like WhatsApp); a 5xx is permanent, with
//! the reply code (`smtp_535`) and text, and the guide's fix.
//!
//! `lettre`'s tokio transport bounds only the connect, so the whole exchange is bounded here.
//! A message cut off mid-conversation leaves its connection out of step with the server, and the
//! pool would hand it out again; so a timeout replaces the pool, which closes its connections.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::message::{Receipt, SendError, NOT_CONFIGURED_CODE};
use crate::config::{EmailConfig, SmtpSecurity};

/// One e-mail to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The notification_log row id (in the Message-ID and the logs).
    pub notification_id: i64,
    pub username: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The HTML alternative (none: plain text only).
    pub html: Option<String>,
}

/// Sends e-mail, or explains why it cannot.
#[derive(Clone)]
pub enum Mailer {
    Smtp(Box<Smtp>),
    /// Every e-mail fails permanently with this explanation.
    NotConfigured(String),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(s) => write!(f, "Mailer::Smtp({}:{})", s.host, s.port),
            Mailer::NotConfigured(why) => write!(f, "Mailer::NotConfigured({why:?})"),
        }
    }
}

#[derive(Clone)]
pub struct Smtp {
    /// Builds a fresh pool when a timeout spoils the current one.
    builder: AsyncSmtpTransportBuilder,
    /// The pool in use and its generation (shared by every clone of the mailer).
    transport: Arc<RwLock<(u64, AsyncSmtpTransport<Tokio1Executor>)>>,
    /// The longest one message's exchange may take.
    timeout: Duration,
    from: Mailbox,
    host: String,
    port: u16,
}

impl Smtp {
    fn current(&self) -> (u64, AsyncSmtpTransport<Tokio1Executor>) {
        let guard = self.transport.read().unwrap_or_else(|e| e.into_inner());
        (guard.0, guard.1.clone())
    }

    /// Replaces the pool of generation `spoiled` (once, however many sends timed out on it).
    fn replace(&self, spoiled: u64) {
        let mut guard = self.transport.write().unwrap_or_else(|e| e.into_inner());
        if guard.0 == spoiled {
            *guard = (spoiled + 1, self.builder.clone().build());
        }
    }
}

/// What a row gets while `EMAIL_HOST` is unset.
pub const NOT_CONFIGURED: &str =
    "E-mail not configured: set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, DEFAULT_FROM_EMAIL) and restart";

impl Mailer {
    /// The mailer `config` describes; `connections`: how many SMTP connections the pool keeps.
    pub fn from_config(config: &EmailConfig, connections: u32) -> Mailer {
        let Some(host) = config.host.clone() else {
            return Mailer::NotConfigured(NOT_CONFIGURED.to_string());
        };
        let builder = match config.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
            SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                host.clone(),
            )),
        };
        let builder = match builder {
            Ok(b) => b,
            Err(e) => {
                return Mailer::NotConfigured(format!("EMAIL_HOST={host:?} cannot be used: {e}"))
            }
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(connections.max(1)));
        if !config.user.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.user.clone(),
                config.password.expose().to_string(),
            ));
        }
        // Checked at start-up (config), so this only fails for a configuration built in code.
        let from = match config.from.parse::<Mailbox>() {
            Ok(m) => m,
            Err(e) => {
                return Mailer::NotConfigured(format!(
                    "DEFAULT_FROM_EMAIL={:?} is not an e-mail address: {e}",
                    config.from
                ))
            }
        };
        Mailer::Smtp(Box::new(Smtp {
            transport: Arc::new(RwLock::new((0, builder.clone().build()))),
            builder,
            timeout: config.timeout,
            from,
            host,
            port: config.port,
        }))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Mailer::Smtp(_) => "smtp",
            Mailer::NotConfigured(_) => "none",
        }
    }

    pub fn is_configured(&self) -> bool {
        matches!(self, Mailer::Smtp(_))
    }

    /// Where e-mail goes, for the start-up log (`host:port`), or why it goes nowhere.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(s) => format!("{}:{}", s.host, s.port),
            Mailer::NotConfigured(why) => why.clone(),
        }
    }

    pub async fn send(&self, email: &Email) -> Result<Receipt, SendError> {
        let smtp = match self {
            Mailer::Smtp(s) => s,
            Mailer::NotConfigured(why) => {
                return Err(SendError::Permanent {
                    code: Some(NOT_CONFIGURED_CODE.to_string()),
                    message: why.clone(),
                })
            }
        };
        let to: Mailbox = email.to.parse().map_err(|e| SendError::Permanent {
            code: Some("invalid_address".into()),
            message: format!("{:?} is not an e-mail address: {e}", email.to),
        })?;
        let suffix: u32 = rand::thread_rng().gen();
        let domain = smtp.from.email.domain().to_string();
        let id = format!("incident.{}.{suffix:08x}@{domain}", email.notification_id);
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.clone());
        let body = match &email.html {
            Some(html) => MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            ),
            None => MultiPart::mixed().singlepart(text),
        };
        let message = Message::builder()
            .from(smtp.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{id}>")))
            .multipart(body)
            .map_err(|e| SendError::Permanent {
                code: Some("invalid_message".into()),
                message: format!("cannot build the e-mail: {e}"),
            })?;
        let (generation, transport) = smtp.current();
        match tokio::time::timeout(smtp.timeout, transport.send(message)).await {
            Ok(sent) => sent.map_err(classify)?,
            Err(_) => {
                smtp.replace(generation);
                return Err(SendError::Transient {
                    code: Some("timeout".into()),
                    message: format!(
                        "{}:{} did not accept the e-mail within {:?} (EMAIL_TIMEOUT)",
                        smtp.host, smtp.port, smtp.timeout
                    ),
                    retry_after: None,
                });
            }
        };
        Ok(Receipt {
            // Cut to the column's 64 characters (the domain may be long).
            provider_message_id: id.chars().take(64).collect(),
            delivery_status: None,
        })
    }
}

/// An SMTP failure as the worker's two kinds: 4xx and connection trouble are transient, 5xx
/// permanent; the reply code is kept (`smtp_550`).
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let message = e.to_string();
    let code = e.status().map(|c| format!("smtp_{c}"));
    if e.is_permanent() {
        return SendError::Permanent { code, message };
    }
    let code = code.or_else(|| {
        Some(
            if e.is_timeout() {
                "timeout"
            } else if e.is_tls() {
                "smtp_tls"
            } else {
                "smtp_connection"
            }
            .to_string(),
        )
    });
    SendError::Transient {
        code,
        message,
        retry_after: None,
    }
}
