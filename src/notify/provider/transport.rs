//! The HTTP side every remote provider shares: one client per provider, transport failures as
//! retryable errors, `Retry-After`, and short quotes of unexpected bodies.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::message::{truncate_chars, SendError};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an unexpected response body an error message quotes.
const MAX_QUOTED_BODY_CHARS: usize = 200;

/// One client per provider, so connections (and TLS sessions) are reused between sends.
pub(super) fn http_client(send_timeout: Duration, provider: &str) -> reqwest::Client {
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
pub(super) fn transport_error(e: reqwest::Error, provider: &str) -> SendError {
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
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
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
pub(super) fn quote_body(body: &[u8]) -> String {
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
