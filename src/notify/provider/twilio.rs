//! Twilio Programmable Messaging over WhatsApp: one form-encoded `POST .../Messages.json` per
//! message, with Twilio's answer sorted into "accepted", "retry later" or "fix something first".

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::ACCEPT;
use serde::Deserialize;

use super::message::{truncate_chars, Outgoing, Receipt, SendError, WhatsAppProvider};
use crate::config::{Secret, TwilioConfig};

pub mod lookup;

/// Twilio rejects a longer `Body` with 21658, so we cut it ourselves and the message still goes.
const MAX_BODY_CHARS: usize = 1600;
/// The same 1,600-character limit applies to each Content API template variable.
const MAX_VARIABLE_CHARS: usize = 1600;
/// Twilio's addresses for WhatsApp carry this channel prefix on both `To` and `From`.
const WHATSAPP_PREFIX: &str = "whatsapp:";
/// Path (under `PUBLIC_BASE_URL`) of our status-callback handler.
const STATUS_CALLBACK_PATH: &str = "/api/webhooks/twilio/status/";

/// Where Twilio should send from: a fixed WhatsApp sender or a Messaging Service's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sender {
    From(String),
    MessagingService(String),
}

/// The Twilio provider; cheap to clone (the HTTP client is reference-counted inside).
#[derive(Debug, Clone)]
pub struct Twilio {
    client: reqwest::Client,
    messages_url: String,
    /// Basic-auth user: the API key SID when one is configured, else the account SID.
    username: String,
    /// Basic-auth password: the API key secret or the auth token. `Secret` keeps it out of `Debug`.
    password: Secret,
    sender: Sender,
    status_callback: Option<String>,
    content_sids: HashMap<String, String>,
}

impl Twilio {
    /// Builds the provider once at startup; nothing here touches the network.
    pub fn new(
        config: &TwilioConfig,
        public_base_url: Option<&str>,
        send_timeout: Duration,
    ) -> Twilio {
        let base_url = config.base_url.trim_end_matches('/');
        let username = config
            .api_key_sid
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&config.account_sid)
            .to_string();
        let sender = match config
            .messaging_service_sid
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            Some(sid) => Sender::MessagingService(sid.to_string()),
            None => Sender::From(whatsapp_address(&config.whatsapp_from)),
        };
        Twilio {
            client: super::transport::http_client(send_timeout, "twilio"),
            messages_url: format!(
                "{base_url}/2010-04-01/Accounts/{}/Messages.json",
                config.account_sid
            ),
            username,
            password: config.auth_token.clone(),
            sender,
            status_callback: public_base_url
                .map(|u| u.trim_end_matches('/'))
                .filter(|u| !u.is_empty())
                .map(|u| format!("{u}{STATUS_CALLBACK_PATH}")),
            content_sids: config.content_sids.clone(),
        }
    }

    /// True when a Content template is configured for `event`.
    pub fn has_template(&self, event: &str) -> bool {
        self.content_sids.get(event).is_some_and(|s| !s.is_empty())
    }

    /// The form fields for one message, in a stable order (handy for logs and tests).
    fn form(&self, msg: &Outgoing) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", whatsapp_address(&msg.to))];
        match &self.sender {
            Sender::From(from) => form.push(("From", from.clone())),
            Sender::MessagingService(sid) => form.push(("MessagingServiceSid", sid.clone())),
        }
        let template = self.content_sids.get(&msg.event);
        match template.filter(|s| msg.use_template && !s.is_empty()) {
            // An approved template is the only thing WhatsApp delivers outside the 24-hour
            // window (63016), and Twilio refuses `Body` next to `ContentSid`, so it is one or
            // the other.
            Some(content_sid) => {
                form.push(("ContentSid", content_sid.clone()));
                if !msg.variables.is_empty() {
                    form.push(("ContentVariables", content_variables(&msg.variables)));
                }
            }
            None => form.push(("Body", truncate_chars(&msg.body, MAX_BODY_CHARS))),
        }
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback", callback.clone()));
        }
        form
    }
}

impl WhatsAppProvider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let response = self
            .client
            .post(&self.messages_url)
            .basic_auth(&self.username, Some(self.password.expose()))
            // Without `Accept` (or the `.json` suffix) the 2010 API answers in XML.
            .header(ACCEPT, "application/json")
            .form(&self.form(msg))
            .send()
            .await
            .map_err(|e| super::transport::transport_error(e, "Twilio"))?;

        let status = response.status();
        let retry_after = super::transport::retry_after(response.headers());
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .bytes()
            .await
            .map_err(|e| super::transport::transport_error(e, "Twilio"))?;

        if status.is_success() {
            return parse_created(&body);
        }
        if status.is_redirection() {
            // Redirects are not followed (a POST would turn into a GET): a wrong
            // TWILIO_BASE_URL is the usual cause, and retrying will not fix it.
            return Err(SendError::Permanent {
                code: Some(format!("http_{}", status.as_u16())),
                message: format!(
                    "Twilio answered with a redirect to {}; check TWILIO_BASE_URL",
                    location.as_deref().unwrap_or("an unknown location")
                ),
            });
        }
        Err(classify(status, &body, retry_after))
    }
}

/// `+15551234567` -> `whatsapp:+15551234567`; an address that already has the prefix is kept.
fn whatsapp_address(number: &str) -> String {
    let number = number.trim();
    if number.starts_with(WHATSAPP_PREFIX) {
        number.to_string()
    } else {
        format!("{WHATSAPP_PREFIX}{number}")
    }
}

/// `["a", "b"]` -> `{"1":"a","2":"b"}`: Twilio wants a JSON *string* keyed by placeholder number.
fn content_variables(variables: &[String]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = variables
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                (i + 1).to_string(),
                serde_json::Value::String(truncate_chars(v, MAX_VARIABLE_CHARS)),
            )
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// The parts of the 201 Message resource we use.
#[derive(Debug, Deserialize)]
struct CreatedMessage {
    sid: Option<String>,
    status: Option<String>,
}

fn parse_created(body: &[u8]) -> Result<Receipt, SendError> {
    match serde_json::from_slice::<CreatedMessage>(body) {
        Ok(CreatedMessage {
            sid: Some(sid),
            status,
        }) if !sid.is_empty() => Ok(Receipt {
            provider_message_id: sid,
            delivery_status: status.filter(|s| !s.is_empty()),
        }),
        // Twilio said yes but we cannot tell which message it made: retrying may duplicate,
        // dropping may lose it; at-least-once delivery prefers the retry.
        _ => Err(SendError::Transient {
            code: Some("no_message_id".to_string()),
            message: format!(
                "Twilio accepted the request but its answer had no message sid: {}",
                super::transport::quote_body(body)
            ),
            retry_after: None,
        }),
    }
}

/// Both error shapes Twilio uses: the 2010 API's `{code, message, more_info, status}` and the
/// RFC 9457 `{type, title, status, code, detail}` of newer services.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    /// An integer in practice; a string is accepted too rather than losing the code.
    code: Option<serde_json::Value>,
    message: Option<String>,
    detail: Option<String>,
    title: Option<String>,
}

impl ErrorBody {
    fn code(&self) -> Option<String> {
        match &self.code {
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                Some(s.trim().to_string())
            }
            _ => None,
        }
    }

    fn message(&self) -> Option<String> {
        [&self.message, &self.detail, &self.title]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .map(str::to_string)
    }
}

/// Sorts a non-2xx answer: only what a later attempt can fix is transient.
fn classify(status: reqwest::StatusCode, body: &[u8], retry_after: Option<Duration>) -> SendError {
    let parsed = serde_json::from_slice::<ErrorBody>(body).unwrap_or_default();
    let code = parsed.code();
    let message = parsed.message().unwrap_or_else(|| {
        let quoted = super::transport::quote_body(body);
        if quoted.is_empty() {
            format!("Twilio answered HTTP {status}")
        } else {
            format!("Twilio answered HTTP {status}: {quoted}")
        }
    });
    let http_code = || format!("http_{}", status.as_u16());

    // 429 / 20429: Twilio did not process the request, so a retry cannot duplicate it.
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || code.as_deref() == Some("20429") {
        return SendError::Transient {
            code: Some(code.unwrap_or_else(|| "20429".to_string())),
            message,
            retry_after,
        };
    }
    if status.is_server_error() {
        return SendError::Transient {
            code: Some(code.unwrap_or_else(http_code)),
            message,
            retry_after,
        };
    }
    // Bad credentials: one code for every variant so the operator gets one clear diagnosis.
    if status == reqwest::StatusCode::UNAUTHORIZED || code.as_deref() == Some("20003") {
        return SendError::Permanent {
            code: Some("20003".to_string()),
            message,
        };
    }
    SendError::Permanent {
        code: Some(code.unwrap_or_else(http_code)),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use wiremock::matchers::{basic_auth, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const TOKEN: &str = "auth-token-123";
    const MESSAGES_PATH: &str =
        "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json";

    fn config(base_url: &str) -> Config {
        let mut c = Config::for_tests("sqlite::memory:");
        c.twilio.account_sid = SID.to_string();
        c.twilio.auth_token = Secret::new(TOKEN);
        c.twilio.base_url = base_url.to_string();
        c.twilio.whatsapp_from = "whatsapp:+14155238886".to_string();
        c
    }

    fn provider(c: &Config) -> Twilio {
        Twilio::new(
            &c.twilio,
            c.public_base_url.as_deref(),
            Duration::from_secs(5),
        )
    }

    fn outgoing() -> Outgoing {
        Outgoing {
            notification_id: 7,
            username: "admin_user".to_string(),
            to: "+12025551234".to_string(),
            body: "Ticket #12 created".to_string(),
            event: "ticket_created".to_string(),
            variables: vec!["12".to_string(), "Printer on fire".to_string()],
            use_template: true,
        }
    }

    fn created(sid: &str) -> ResponseTemplate {
        ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "sid": sid, "status": "queued", "account_sid": SID, "to": "whatsapp:+12025551234",
            "num_segments": "1", "error_code": null, "api_version": "2010-04-01"
        }))
    }

    fn error(http: u16, code: u32, message: &str) -> ResponseTemplate {
        ResponseTemplate::new(http).set_body_json(serde_json::json!({
            "code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": http
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

    /// The form fields of the single request the fake received, in order.
    async fn sent_form(server: &MockServer) -> Vec<(String, String)> {
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(requests.len(), 1, "exactly one request");
        url::form_urlencoded::parse(&requests[0].body)
            .into_owned()
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn posts_the_form_to_the_account_messages_url_with_basic_auth() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(MESSAGES_PATH))
            .and(basic_auth(SID, TOKEN))
            .and(header("accept", "application/json"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .respond_with(created("SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"))
            .expect(1)
            .mount(&server)
            .await;
        let mut c = config(&server.uri());
        c.public_base_url = Some("https://incident.example.com".to_string());

        let receipt = provider(&c).send(&outgoing()).await;

        assert_eq!(
            receipt,
            Ok(Receipt {
                provider_message_id: "SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".to_string(),
                delivery_status: Some("queued".to_string()),
            })
        );
        assert_eq!(
            sent_form(&server).await,
            pairs(&[
                ("To", "whatsapp:+12025551234"),
                ("From", "whatsapp:+14155238886"),
                ("Body", "Ticket #12 created"),
                (
                    "StatusCallback",
                    "https://incident.example.com/api/webhooks/twilio/status/"
                ),
            ])
        );
    }

    #[tokio::test]
    async fn api_key_is_the_basic_auth_user_but_the_account_sid_stays_in_the_path() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(MESSAGES_PATH))
            .and(basic_auth(
                "SKcccccccccccccccccccccccccccccccc",
                "key-secret",
            ))
            .respond_with(created("SM1"))
            .expect(1)
            .mount(&server)
            .await;
        let mut c = config(&server.uri());
        c.twilio.api_key_sid = Some("SKcccccccccccccccccccccccccccccccc".to_string());
        c.twilio.auth_token = Secret::new("key-secret");

        let receipt = provider(&c).send(&outgoing()).await;

        assert_eq!(
            receipt.map(|r| r.provider_message_id),
            Ok("SM1".to_string())
        );
    }

    #[tokio::test]
    async fn from_without_prefix_gets_it_and_no_public_url_means_no_callback() {
        let server = server_answering(created("SM1")).await;
        let mut c = config(&server.uri());
        c.twilio.whatsapp_from = "+14155238886".to_string();
        c.public_base_url = None;

        assert!(provider(&c).send(&outgoing()).await.is_ok());

        assert_eq!(
            sent_form(&server).await,
            pairs(&[
                ("To", "whatsapp:+12025551234"),
                ("From", "whatsapp:+14155238886"),
                ("Body", "Ticket #12 created"),
            ])
        );
    }

    #[tokio::test]
    async fn messaging_service_replaces_from() {
        let server = server_answering(created("SM1")).await;
        let mut c = config(&server.uri());
        c.twilio.messaging_service_sid = Some("MGdddddddddddddddddddddddddddddddd".to_string());

        assert!(provider(&c).send(&outgoing()).await.is_ok());

        assert_eq!(
            sent_form(&server).await,
            pairs(&[
                ("To", "whatsapp:+12025551234"),
                ("MessagingServiceSid", "MGdddddddddddddddddddddddddddddddd"),
                ("Body", "Ticket #12 created"),
            ])
        );
    }

    #[tokio::test]
    async fn configured_template_sends_content_sid_and_variables_without_body() {
        let server = server_answering(created("SM1")).await;
        let mut c = config(&server.uri());
        c.twilio.content_sids.insert(
            "ticket_created".to_string(),
            "HXeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee".to_string(),
        );
        let mut msg = outgoing();
        msg.variables.push("x".repeat(2000));

        assert!(provider(&c).send(&msg).await.is_ok());

        let form = sent_form(&server).await;
        let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["To", "From", "ContentSid", "ContentVariables"]);
        assert_eq!(form[2].1, "HXeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
        let vars: serde_json::Value = serde_json::from_str(&form[3].1).unwrap();
        assert_eq!(vars["1"], "12");
        assert_eq!(vars["2"], "Printer on fire");
        let long = vars["3"].as_str().unwrap();
        assert_eq!(long.chars().count(), 1600);
        assert!(long.ends_with('…'));
        // Keys in placeholder order, exactly as Twilio documents the string.
        assert!(form[3]
            .1
            .starts_with(r#"{"1":"12","2":"Printer on fire","3":"xxx"#));
    }

    #[tokio::test]
    async fn template_for_another_event_is_not_used() {
        let server = server_answering(created("SM1")).await;
        let mut c = config(&server.uri());
        c.twilio
            .content_sids
            .insert("ticket_closed".to_string(), "HX1".to_string());

        assert!(provider(&c).send(&outgoing()).await.is_ok());

        let form = sent_form(&server).await;
        assert!(form.iter().any(|(k, _)| k == "Body"));
        assert!(!form.iter().any(|(k, _)| k == "ContentSid"));
    }

    #[tokio::test]
    async fn body_is_cut_to_1600_characters_with_an_ellipsis() {
        let server = server_answering(created("SM1")).await;
        let c = config(&server.uri());
        let mut msg = outgoing();
        msg.body = "é".repeat(2000);

        assert!(provider(&c).send(&msg).await.is_ok());

        let form = sent_form(&server).await;
        let body = &form.iter().find(|(k, _)| k == "Body").unwrap().1;
        assert_eq!(body.chars().count(), 1600);
        assert!(body.ends_with('…'));
        assert!(body.starts_with("éé"));
    }

    #[tokio::test]
    async fn success_without_sid_is_transient() {
        let server =
            server_answering(ResponseTemplate::new(201).set_body_string("<Response/>")).await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.code(), Some("no_message_id"));
    }

    #[tokio::test]
    async fn invalid_number_21211_is_permanent() {
        let server = server_answering(error(
            400,
            21211,
            "The 'To' number 5551234567 is not a valid phone number.",
        ))
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SendError::Permanent {
                code: Some("21211".to_string()),
                message: "The 'To' number 5551234567 is not a valid phone number.".to_string(),
            }
        );
    }

    #[tokio::test]
    async fn bad_credentials_20003_are_a_permanent_auth_failure() {
        let server = server_answering(error(
            401,
            20003,
            "Unable to create record: Permission denied",
        ))
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(!err.is_transient());
        assert!(err.is_auth_failure());
        assert_eq!(err.code(), Some("20003"));
        assert_eq!(err.message(), "Unable to create record: Permission denied");
    }

    #[tokio::test]
    async fn bare_401_is_still_reported_as_20003() {
        let server =
            server_answering(ResponseTemplate::new(401).set_body_string("Unauthorized")).await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("20003"));
        assert!(err.is_auth_failure());
        assert!(err.message().contains("Unauthorized"), "{}", err.message());
    }

    #[tokio::test]
    async fn too_many_requests_is_transient_with_retry_after() {
        let server = server_answering(
            error(429, 20429, "Too Many Requests").insert_header("Retry-After", "7"),
        )
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SendError::Transient {
                code: Some("20429".to_string()),
                message: "Too Many Requests".to_string(),
                retry_after: Some(Duration::from_secs(7)),
            }
        );
    }

    #[tokio::test]
    async fn server_error_is_transient_even_without_json() {
        let server =
            server_answering(ResponseTemplate::new(500).set_body_string("<html>oops</html>")).await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(err.is_transient());
        assert_eq!(err.code(), Some("http_500"));
        assert!(err.message().contains("500"), "{}", err.message());
    }

    #[tokio::test]
    async fn problem_json_errors_are_understood() {
        let server = server_answering(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "type": "https://www.twilio.com/docs/errors/21408",
            "title": "Permission denied",
            "status": 400,
            "code": 21408,
            "detail": "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"
        })))
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("21408"));
        assert!(!err.is_transient());
        assert!(
            err.message().starts_with("Permission to send"),
            "{}",
            err.message()
        );
    }

    #[tokio::test]
    async fn client_errors_keep_the_twilio_code() {
        for code in [21408u32, 21608, 21610, 63007, 63015, 63016, 21658] {
            let server = server_answering(error(400, code, "refused")).await;
            let err = provider(&config(&server.uri()))
                .send(&outgoing())
                .await
                .unwrap_err();
            assert!(!err.is_transient(), "{code}");
            assert_eq!(err.code(), Some(code.to_string().as_str()));
        }
    }

    #[tokio::test]
    async fn sandbox_not_joined_63015_is_permanent() {
        let server = server_answering(error(
            400,
            63015,
            "Channel Sandbox can only send messages to phone numbers that have joined the Sandbox",
        ))
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert!(
            matches!(err, SendError::Permanent { ref code, .. } if code.as_deref() == Some("63015"))
        );
    }

    #[tokio::test]
    async fn client_error_without_code_is_http_status() {
        let server = server_answering(ResponseTemplate::new(404)).await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("http_404"));
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn slow_answer_is_a_transient_timeout() {
        let server = server_answering(created("SM1").set_delay(Duration::from_secs(3))).await;
        let c = config(&server.uri());
        let twilio = Twilio::new(&c.twilio, None, Duration::from_millis(200));

        let err = twilio.send(&outgoing()).await.unwrap_err();

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
        let c = config(&format!("http://127.0.0.1:{port}"));

        let err = provider(&c).send(&outgoing()).await.unwrap_err();

        assert!(err.is_transient());
        assert_eq!(err.code(), Some("connection"));
        assert!(
            err.message().starts_with("could not reach Twilio"),
            "{}",
            err.message()
        );
    }

    #[tokio::test]
    async fn redirect_is_not_followed() {
        let server = server_answering(
            ResponseTemplate::new(301).insert_header("Location", "https://elsewhere.example/"),
        )
        .await;
        let err = provider(&config(&server.uri()))
            .send(&outgoing())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("http_301"));
        assert!(err.message().contains("TWILIO_BASE_URL"));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let twilio = provider(&config("http://127.0.0.1:1"));
        let dbg = format!("{twilio:?}");
        assert!(!dbg.contains(TOKEN), "{dbg}");
        assert!(dbg.contains("redacted"), "{dbg}");
        assert_eq!(twilio.name(), "twilio");
    }
}
