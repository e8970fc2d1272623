//! The Meta WhatsApp Cloud API provider and webhook, and the `log` provider, end to end.

use hmac::{Hmac, Mac};
use incident::config::{Secret, WhatsAppProviderKind};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::Sha256;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::tickets::cast_with_numbers;
use crate::whatsapp::settled;

const APP_SECRET: &str = "meta-app-secret";

pub async fn meta_app(engine: Engine, fake: &MockServer) -> TestApp {
    let base = fake.uri();
    TestApp::spawn_with(engine, move |c| {
        c.whatsapp_provider = WhatsAppProviderKind::Meta;
        c.meta.access_token = Secret::new("meta-token");
        c.meta.phone_number_id = "106540352242922".into();
        c.meta.base_url = base;
        c.meta.app_secret = Secret::new(APP_SECRET);
        c.meta.verify_token = Secret::new("verify-me");
        // The test delivers with `settled`.
        c.worker.enabled = false;
    })
    .await
}

pub fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

on_both_engines!(
    meta_sends_text_and_its_webhook_moves_the_status_forward,
    log_provider_marks_messages_sent
);

async fn meta_sends_text_and_its_webhook_moves_the_status_forward(engine: Engine) {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/106540352242922/messages"))
        .and(header("authorization", "Bearer meta-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+12025550101", "wa_id": "12025550101"}],
            "messages": [{"id": "wamid.HBgLMTIwMjU1NTAxMDEVAgARGBI"}]
        })))
        .mount(&fake)
        .await;
    let app = meta_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(log[0]["provider"], "meta");
    assert_eq!(
        log[0]["provider_message_id"],
        "wamid.HBgLMTIwMjU1NTAxMDEVAgARGBI"
    );
    let sent: serde_json::Value =
        serde_json::from_slice(&fake.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["to"], "12025550101");
    assert_eq!(sent["type"], "text");
    assert!(sent["text"]["body"]
        .as_str()
        .unwrap()
        .starts_with("🎫 *New Ticket Created*"));

    // Subscription challenge.
    let (status, _) = app
        .call(
            Method::GET,
            "/api/webhooks/meta/?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let resp = app
        .client
        .get(app.url("/api/webhooks/meta/?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.unwrap(), "1158201444");

    // Status events, signed with the app secret.
    let event = |status: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "statuses": [{"id": "wamid.HBgLMTIwMjU1NTAxMDEVAgARGBI", "status": status, "timestamp": "1749416383", "recipient_id": "12025550101"}]
        }}]}]})
        .to_string()
    };
    let post = |body: String, signature: String| {
        app.client
            .post(app.url("/api/webhooks/meta/"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
    };
    let body = event("read");
    assert_eq!(
        post(body.clone(), "sha256=00".into())
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(body.clone(), sign(&body)).await.unwrap().status(),
        StatusCode::OK
    );
    let body = event("delivered");
    assert_eq!(
        post(body.clone(), sign(&body)).await.unwrap().status(),
        StatusCode::OK
    );
    let log = crate::whatsapp::whatsapp_log(&app, &c.admin).await;
    assert_eq!(
        log[0]["delivery_status"], "read",
        "a late 'delivered' does not move it back"
    );
}

async fn log_provider_marks_messages_sent(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| {
        c.whatsapp_provider = WhatsAppProviderKind::Log;
        c.worker.enabled = false;
    })
    .await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT");
    assert_eq!(log[0]["provider"], "log");
    assert!(log[0]["provider_message_id"]
        .as_str()
        .unwrap()
        .starts_with("log-"));
}
