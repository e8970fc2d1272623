//! The e-mail section, with the original's Django setting names: the SMTP server, its
//! security (STARTTLS or implicit TLS), the account, and the sender.

use std::time::Duration;

use super::reader::Reader;
use super::values::Secret;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain TCP (`EMAIL_USE_TLS=false`, `EMAIL_USE_SSL=false`): local relays and tests.
    None,
    /// `EMAIL_USE_TLS`: plain TCP upgraded by STARTTLS (port 587).
    StartTls,
    /// `EMAIL_USE_SSL`: TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `EMAIL_HOST`; `None`: e-mail is not configured (rows FAILED with the fix).
    pub host: Option<String>,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub security: SmtpSecurity,
    /// `DEFAULT_FROM_EMAIL`.
    pub from: String,
    /// `EMAIL_TIMEOUT`: the longest one e-mail's SMTP exchange (connect to accepted) may take.
    pub timeout: Duration,
}

impl EmailConfig {
    pub fn is_configured(&self) -> bool {
        self.host.is_some()
    }
}

pub(super) fn read(r: &mut Reader) -> EmailConfig {
    let host = r.raw("EMAIL_HOST").filter(|h| !h.trim().is_empty());
    let use_tls = r.bool("EMAIL_USE_TLS", true);
    let use_ssl = r.bool("EMAIL_USE_SSL", false);
    if use_tls && use_ssl && r.raw("EMAIL_USE_TLS").is_some() {
        r.error(
            "EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive (as in Django): set one to false"
                .to_string(),
        );
    }
    let security = match (use_ssl, use_tls) {
        (true, _) => SmtpSecurity::Tls,
        (false, true) => SmtpSecurity::StartTls,
        (false, false) => SmtpSecurity::None,
    };
    let default_port = match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    };
    let port = r.parse("EMAIL_PORT", default_port, "a port number");
    let user = r.string("EMAIL_HOST_USER", "");
    let password = Secret::new(r.raw("EMAIL_HOST_PASSWORD").unwrap_or_default());
    let from_default = if user.contains('@') {
        user.clone()
    } else {
        "webmaster@localhost".to_string()
    };
    let from = r.string("DEFAULT_FROM_EMAIL", &from_default);
    if from.parse::<lettre::message::Mailbox>().is_err() {
        r.error(format!(
            "DEFAULT_FROM_EMAIL={from:?} is not an e-mail address (e.g. Support <support@example.com>)"
        ));
    }
    let timeout = r.duration("EMAIL_TIMEOUT", Duration::from_secs(15));
    EmailConfig {
        host: host.map(|h| h.trim().to_string()),
        port,
        user,
        password,
        security,
        from,
        timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::SmtpSecurity;
    use crate::config::Config;

    fn read(vars: &[(&str, &str)]) -> Result<super::EmailConfig, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .map(|c| c.email)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn without_a_host_email_is_not_configured() {
        let c = read(&[]).unwrap();
        assert!(!c.is_configured());
        assert_eq!((c.security, c.port), (SmtpSecurity::StartTls, 587));
    }

    #[test]
    fn gmail_settings_read_as_djangos() {
        let c = read(&[
            ("EMAIL_HOST", "smtp.gmail.com"),
            ("EMAIL_HOST_USER", "help@example.com"),
            ("EMAIL_HOST_PASSWORD", "abcd efgh ijkl mnop"),
        ])
        .unwrap();
        assert_eq!(c.host.as_deref(), Some("smtp.gmail.com"));
        assert_eq!(c.from, "help@example.com");
        assert_eq!(c.password.expose(), "abcd efgh ijkl mnop");
        assert!(!format!("{c:?}").contains("abcd"));
        let ssl = read(&[("EMAIL_HOST", "h"), ("EMAIL_USE_SSL", "true")]).unwrap();
        assert_eq!((ssl.security, ssl.port), (SmtpSecurity::Tls, 465));
        let both = read(&[("EMAIL_USE_SSL", "true"), ("EMAIL_USE_TLS", "true")]).unwrap_err();
        assert!(both.contains("mutually exclusive"), "{both}");
        let bad = read(&[("DEFAULT_FROM_EMAIL", "not an address")]).unwrap_err();
        assert!(bad.contains("DEFAULT_FROM_EMAIL"), "{bad}");
    }
}
