//! `/healthz` and `/readyz`: ready when the server can serve HTTP (database, migrations); the
//! notification channels' health is reported in the body and in `/metrics`, never as unready.

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{Engine, TestApp};
use crate::whatsapp::{twilio_app, twilio_error};
use crate::{on_both_databases, on_both_engines};

on_both_databases!(healthz_answers_and_readyz_is_ready_without_whatsapp);

async fn healthz_answers_and_readyz_is_ready_without_whatsapp(app: TestApp) {
    let (status, body) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["checks"],
        json!({"database": "ok", "migrations": "ok"}),
        "{body}"
    );
    assert_eq!(body["notifications"]["notification_worker"], "ok");
    assert_eq!(body["notifications"]["whatsapp"], "not configured");
}

on_both_databases!(readyz_is_unready_when_the_database_is_gone);

async fn readyz_is_unready_when_the_database_is_gone(app: TestApp) {
    app.db.close().await;
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["checks"]["database"], "unreachable");
}

on_both_engines!(readyz_stays_ready_when_the_provider_refuses_the_credentials);

async fn readyz_stays_ready_when_the_provider_refuses_the_credentials(engine: Engine) {
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
    assert_eq!(body["notifications"]["whatsapp"], "ok");
    app.create_admins_with_numbers(3, "+1202555030").await;
    let (_, client) = app.user_token("client", Role::Client).await;
    crate::tickets::new_ticket(&app, &client).await;
    // twilio_app runs no background worker: the three WhatsApp sends happen here, and the
    // three admins' e-mails are settled too (FAILED at once: e-mail is not configured).
    assert_eq!(app.deliver_due().await, 6);
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a refusing provider took the replica out of service: {body}"
    );
    assert_eq!(body["status"], "ready");
    assert!(
        body["notifications"]["whatsapp"]
            .as_str()
            .unwrap()
            .starts_with("failing authentication"),
        "{body}"
    );
    // The channel's health is in the metrics too.
    app.state
        .config
        .metrics_token
        .as_ref()
        .expect("twilio_app sets a metrics token");
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(crate::whatsapp::METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("notification_channel_healthy")
                && l.contains(r#"channel="whatsapp""#)
                && l.ends_with(" 0")),
        "{text}"
    );
}
