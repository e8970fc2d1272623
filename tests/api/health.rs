//! `/healthz` and `/readyz`: which check fails, and 503 until the server can do its job.

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{Engine, TestApp};
use crate::whatsapp::{twilio_app, twilio_error};
use crate::{on_both_databases, on_both_engines};

on_both_databases!(healthz_answers_and_readyz_says_whatsapp_is_not_configured);

async fn healthz_answers_and_readyz_says_whatsapp_is_not_configured(app: TestApp) {
    let (status, body) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["migrations"], "ok");
    assert_eq!(body["checks"]["notification_worker"], "ok");
    assert_eq!(body["checks"]["whatsapp"], "not configured");
}

on_both_engines!(readyz_turns_unready_when_the_provider_refuses_the_credentials);

async fn readyz_turns_unready_when_the_provider_refuses_the_credentials(engine: Engine) {
    let fake = MockServer::start().await;
    let messages = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";
    Mock::given(method("POST"))
        .and(path(messages))
        .respond_with(twilio_error(401, 20003, "Authenticate"))
        .mount(&fake)
        .await;
    let app = twilio_app(engine, &fake).await;
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["whatsapp"], "ok");
    app.create_admins_with_numbers(3, "+1202555030").await;
    let (_, client) = app.user_token("client", Role::Client).await;
    crate::tickets::new_ticket(&app, &client).await;
    // twilio_app runs no background worker: the three sends happen here.
    assert_eq!(app.deliver_due().await, 3);
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "readyz stayed ready after three authentication failures: {body}"
    );
    assert!(
        body["checks"]["whatsapp"]
            .as_str()
            .unwrap()
            .starts_with("failing authentication"),
        "{body}"
    );
}
