//! Meta's WhatsApp Cloud API: one JSON `POST /{version}/{phone-number-id}/messages` per message,
//! with Graph API errors sorted into "retry later" or "fix something first".

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::message::{truncate_chars, Outgoing, Receipt, SendError, WhatsAppProvider};
use crate::config::{MetaConfig, Secret};

/// WhatsApp's limit for a free-form text body.
const MAX_BODY_CHARS: usize = 4096;
/// Graph error codes that clear up by themselves: throughput limit, pair rate limit, and
/// "something went wrong" on Meta's side.
const TRANSIENT_CODES: [i64; 3] = [130429, 131056, 131000];
/// Graph error codes that mean the access token is wrong, expired or missing.
const AUTH_CODES: [i64; 2] = [190, 104];

/// The Meta Cloud API provider; cheap to clone (the HTTP client is reference-counted inside).
#[derive(Debug, Clone)]
pub struct Meta {
    client: reqwest::Client,
    messages_url: String,
    /// `Secret` keeps the token out of `Debug`.
    access_token: Secret,
    templates: HashMap<String, String>,
    template_language: String,
}

impl Meta {
    /// Builds the provider once at startup; nothing here touches the network.
    pub fn new(config: &MetaConfig, send_timeout: Duration) -> Meta {
        Meta {
            client: super::transport::http_client(send_timeout, "meta"),
            messages_url: format!(
                "{}/{}/{}/messages",
                config.base_url.trim_end_matches('/'),
                config.api_version.trim_matches('/'),
                config.phone_number_id
            ),
            access_token: config.access_token.clone(),
            templates: config.templates.clone(),
            template_language: config.template_language.clone(),
        }
    }

    /// True when a template is configured for `event`.
    pub fn has_template(&self, event: &str) -> bool {
        self.templates.get(event).is_some_and(|n| !n.is_empty())
    }

    /// The request body: an approved template when one is configured for the event (the only
    /// thing delivered outside the 24-hour window), else plain text.
    fn payload(&self, msg: &Outgoing) -> Value {
        // Meta takes digits; `+` is tolerated but the digits-only form is what its examples use.
        let to = msg
            .to
            .trim()
            .trim_start_matches("whatsapp:")
            .trim_start_matches('+');
        let template = self.templates.get(&msg.event);
        match template.filter(|n| msg.use_template && !n.is_empty()) {
            Some(name) => {
                let parameters: Vec<Value> = msg
                    .variables
                    .iter()
                    .map(|v| json!({"type": "text", "text": v}))
                    .collect();
                let mut template = json!({
                    "name": name,
                    "language": {"code": self.template_language},
                });
                // A template without placeholders is rejected if it is given parameters.
                if !parameters.is_empty() {
                    template["components"] = json!([{"type": "body", "parameters": parameters}]);
                }
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "template",
                    "template": template,
                })
            }
            None => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": {"preview_url": false, "body": truncate_chars(&msg.body, MAX_BODY_CHARS)},
            }),
        }
    }
}

impl WhatsAppProvider for Meta {
    fn name(&self) -> &'static str {
        "meta"
    }

    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let response = self
            .client
            .post(&self.messages_url)
            .bearer_auth(self.access_token.expose())
            .json(&self.payload(msg))
            .send()
            .await
            .map_err(|e| super::transport::transport_error(e, "the WhatsApp Cloud API"))?;

        let status = response.status();
        let retry_after = super::transport::retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| super::transport::transport_error(e, "the WhatsApp Cloud API"))?;

        if status.is_success() {
            return parse_sent(&body);
        }
        Err(classify(status, &body, retry_after))
    }
}

/// The parts of `MessageResponsePayload` we use.
#[derive(Debug, Deserialize)]
struct SentResponse {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Debug, Deserialize)]
struct SentMessage {
    id: Option<String>,
    message_status: Option<String>,
}

fn parse_sent(body: &[u8]) -> Result<Receipt, SendError> {
    let first = serde_json::from_slice::<SentResponse>(body)
        .ok()
        .and_then(|r| r.messages.into_iter().next());
    match first {
        Some(SentMessage {
            id: Some(id),
            message_status,
        }) if !id.is_empty() => Ok(Receipt {
            provider_message_id: id,
            delivery_status: message_status
                .filter(|s| !s.is_empty())
                .or_else(|| Some("accepted".to_string())),
        }),
        // Meta said yes but we cannot tell which message it made: at-least-once delivery
        // prefers a retry over silently dropping it.
        _ => Err(SendError::Transient {
            code: Some("no_message_id".to_string()),
            message: format!(
                "WhatsApp Cloud API accepted the request but its answer had no message id: {}",
                super::transport::quote_body(body)
            ),
            retry_after: None,
        }),
    }
}

/// `{"error": {...}}`, Graph API's error envelope.
#[derive(Debug, Default, Deserialize)]
struct ErrorEnvelope {
    error: Option<GraphError>,
}

#[derive(Debug, Default, Deserialize)]
struct GraphError {
    message: Option<String>,
    code: Option<i64>,
    is_transient: Option<bool>,
    error_data: Option<ErrorData>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorData {
    details: Option<String>,
}

/// Sorts a non-2xx answer: only what a later attempt can fix is transient.
fn classify(status: reqwest::StatusCode, body: &[u8], retry_after: Option<Duration>) -> SendError {
    let error = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .and_then(|e| e.error)
        .unwrap_or_default();
    let message = error_message(&error).unwrap_or_else(|| {
        let quoted = super::transport::quote_body(body);
        if quoted.is_empty() {
            format!("WhatsApp Cloud API answered HTTP {status}")
        } else {
            format!("WhatsApp Cloud API answered HTTP {status}: {quoted}")
        }
    });
    let code = error.code;
    let code_text = code
        .map(|c| c.to_string())
        .unwrap_or_else(|| format!("http_{}", status.as_u16()));

    let transient = code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
        || error.is_transient == Some(true)
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error();
    if transient {
        return SendError::Transient {
            code: Some(code_text),
            message,
            retry_after,
        };
    }
    if let Some(c) = code.filter(|c| AUTH_CODES.contains(c)) {
        return SendError::Permanent {
            code: Some(c.to_string()),
            message,
        };
    }
    if status == reqwest::StatusCode::UNAUTHORIZED {
        // A 401 with some other code is still a credentials problem; `http_401` is what
        // `SendError::is_auth_failure` recognises for that.
        return SendError::Permanent {
            code: Some("http_401".to_string()),
            message,
        };
    }
    SendError::Permanent {
        code: Some(code_text),
        message,
    }
}

/// `error.message`, plus `error_data.details` (which Meta says is the part to act on).
fn error_message(error: &GraphError) -> Option<String> {
    let message = error
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let details = error
        .error_data
        .as_ref()
        .and_then(|d| d.details.as_deref())
        .map(str::trim)
        .filter(|d| !d.is_empty());
    match (message, details) {
        (Some(m), Some(d)) if m != d => Some(format!("{m}: {d}")),
        (Some(m), _) => Some(m.to_string()),
        (None, Some(d)) => Some(d.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use wiremock::matchers::{bearer_token, body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "EAAG-access-token";
    const PHONE_ID: &str = "106540352242922";

    fn config(base_url: &str) -> Config {
        let mut c = Config::for_tests("sqlite::memory:");
        c.meta.access_token = Secret::new(TOKEN);
        c.meta.phone_number_id = PHONE_ID.to_string();
        c.meta.api_version = "v21.0".to_string();
        c.meta.base_url = base_url.to_string();
        c
    }

    fn provider(c: &Config) -> Meta {
        Meta::new(&c.meta, Duration::from_secs(5))
    }

    fn outgoing() -> Outgoing {
        Outgoing {
            notification_id: 7,
            username: "admin_user".to_string(),
            to: "+16505551234".to_string(),
            body: "Ticket #12 created".to_string(),
            event: "ticket_created".to_string(),
            variables: vec!["12".to_string(), "Printer on fire".to_string()],
            use_template: true,
        }
    }

    fn accepted() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+16505551234", "wa_id": "16505551234"}],
            "messages": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"}]
        }))
    }

    fn graph_error(http: u16, code: i64, message: &str) -> ResponseTemplate {
        ResponseTemplate::new(http).set_body_json(json!({
            "error": {"message": message, "type": "OAuthException", "code": code,
                      "fbtrace_id": "A4O5a8RAgePwbcGSu"}
        }))
    }

    async fn server_answering(response: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(response)
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn posts_text_json_to_the_versioned_phone_number_url_with_bearer_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v21.0/{PHONE_ID}/messages")))
            .and(bearer_token(TOKEN))
            .and(header("content-type", "application/json"))
            .and(body_json(json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "16505551234",
                "type": "text",
                "text": {"preview_url": false, "body": "Ticket #12 created"}
            })))
            .respond_with(accepted())
            .expect(1)
            .mount(&server)
            .await;

        let receipt = provider(&config(&server.uri())).send(&outgoing()).await;

        assert_eq!(
            receipt,
            Ok(Receipt {
                provider_message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"
                    .to_string(),
                delivery_status: Some("accepted".to_string()),
            })
        );
    }

    #[tokio::test]
    async fn configured_template_is_sent_with_body_parameters() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_json(json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "16505551234",
                "type": "template",
                "template": {
                    "name": "ticket_created_v1",
                    "language": {"code": "en_US"},
                    "components": [{"type": "body", "parameters": [
                        {"type": "text", "text": "12"},
                        {"type": "text", "text": "Printer on fire"}
                    ]}]
                }
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "messages": [{"id": "wamid.T", "message_status": "held_for_quality_assessment"}]
            })))
            .expect(1)
            .mount(&server)
            .await;
        let mut c = config(&server.uri());
        c.meta.templates.insert(
            "ticket_created".to_string(),
            "ticket_created_v1".to_string(),
        );

        let receipt = provider(&c).send(&outgoing()).await;

        assert_eq!(
            receipt,
            Ok(Receipt {
                provider_message_id: "wamid.T".to_string(),
                delivery_status: Some("held_for_quality_assessment".to_string()),
            })
        );
    }

    #[tokio::test]
    async fn text_body_is_cut_to_4096_characters() {
        let server = server_answering(accepted()).await;
        let mut msg = outgoing();
        msg.body = "a".repeat(5000);

        assert!(provider(&config(&server.uri())).send(&msg).await.is_ok());

        let requests = server.received_requests().await.unwrap_or_default();
        let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
        let body = sent["text"]["body"].as_str().unwrap();
        assert_eq!(body.chars().count(), 4096);
        assert!(body.ends_with('…'));
    }

    #[tokio::test]
    async fn success_without_message_id_is_transient() {
        let server =
            server_answering(ResponseTemplate::new(200).set_body_json(json!({"messages": []})))
                .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.code(), Some("no_message_id"));
    }

    #[tokio::test]
    async fn expired_token_190_is_a_permanent_auth_failure() {
        let server = server_answering(graph_error(
            401,
            190,
            "Error validating access token: Session has expired",
        ))
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SendError::Permanent {
                code: Some("190".to_string()),
                message: "Error validating access token: Session has expired".to_string(),
            }
        );
        assert!(err.is_auth_failure());
    }

    #[tokio::test]
    async fn bare_401_is_an_auth_failure() {
        let server = server_answering(ResponseTemplate::new(401)).await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(!err.is_transient());
        assert!(err.is_auth_failure());
    }

    #[tokio::test]
    async fn throughput_limit_130429_is_transient_with_retry_after() {
        let server = server_answering(
            graph_error(429, 130429, "(#130429) Rate limit hit").insert_header("Retry-After", "3"),
        )
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SendError::Transient {
                code: Some("130429".to_string()),
                message: "(#130429) Rate limit hit".to_string(),
                retry_after: Some(Duration::from_secs(3)),
            }
        );
    }

    #[tokio::test]
    async fn pair_rate_limit_and_meta_side_errors_are_transient() {
        for (http, code) in [(400, 131056), (500, 131000)] {
            let server = server_answering(graph_error(http, code, "try later")).await;
            let err = provider(&config(&server.uri()))
                .send(&outgoing())
                .await
                .unwrap_err();
            assert!(err.is_transient(), "{code}");
            assert_eq!(err.code(), Some(code.to_string().as_str()));
        }
    }

    #[tokio::test]
    async fn is_transient_flag_is_honoured() {
        let server = server_answering(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "Service temporarily unavailable", "type": "OAuthException",
                      "code": 2, "is_transient": true}
        })))
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.code(), Some("2"));
    }

    #[tokio::test]
    async fn outside_the_24_hour_window_131047_is_permanent_with_details() {
        let server = server_answering(ResponseTemplate::new(400).set_body_json(json!({
            "error": {
                "message": "(#131047) Re-engagement message",
                "type": "OAuthException",
                "code": 131047,
                "error_data": {"messaging_product": "whatsapp",
                               "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
                "fbtrace_id": "A4O5a8RAgePwbcGSu"
            }
        })))
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(err.code(), Some("131047"));
        assert!(
            err.message()
                .starts_with("(#131047) Re-engagement message: Message failed"),
            "{}",
            err.message()
        );
    }

    #[tokio::test]
    async fn server_error_without_json_is_transient() {
        let server =
            server_answering(ResponseTemplate::new(502).set_body_string("Bad Gateway")).await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.code(), Some("http_502"));
    }

    #[tokio::test]
    async fn slow_answer_is_a_transient_timeout() {
        let server = server_answering(accepted().set_delay(Duration::from_secs(3))).await;
        let meta = Meta::new(&config(&server.uri()).meta, Duration::from_millis(200));
        let err = meta.send(&outgoing()).await.unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.code(), Some("timeout"));
    }

    #[tokio::test]
    async fn refused_connection_is_transient() {
        // Bind then drop a listener: the port is free and nothing accepts on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let err = provider(&config(&format!("http://127.0.0.1:{port}")))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.code(), Some("connection"));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let meta = provider(&config("http://127.0.0.1:1"));
        let dbg = format!("{meta:?}");
        assert!(!dbg.contains(TOKEN), "{dbg}");
        assert_eq!(meta.name(), "meta");
    }
}
