//! Channel health (issue 15 item 6): a WhatsApp failure only an admin can fix opens one
//! incident that alerts each active admin once in-app and by e-mail (never on WhatsApp), further failures
//! alert no more, the next successful send closes it with one recovery notice, `/metrics`
//! shows it open then closed, and `/readyz` stays 200 throughout.

use std::sync::{Arc, Mutex};

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::tickets::new_ticket;
use crate::twilio_fake::TwilioFake;
use crate::whatsapp::{twilio_app, twilio_error, METRICS_TOKEN};

on_both_engines!(
    an_admin_fixable_failure_opens_one_incident_until_a_success_closes_it,
    a_recipients_bad_number_opens_no_incident,
);

/// What the fake Twilio answers every send: `Some((HTTP status, Twilio code))` refuses it.
type Refusal = Arc<Mutex<Option<(u16, i64)>>>;

async fn app_refusing(engine: Engine) -> (TestApp, Refusal, wiremock::MockServer) {
    let refusal: Refusal = Arc::new(Mutex::new(None));
    let answer = refusal.clone();
    let fake = TwilioFake::failing(move |_| {
        answer
            .lock()
            .unwrap()
            .map(|(status, code)| twilio_error(status, code, "Refused"))
    });
    let server = fake.start().await;
    let app = twilio_app(engine, &server).await;
    (app, refusal, server)
}

/// The channel health rows (both events, every channel), as `(recipient, channel, event)`,
/// read from the log itself (the API shows in-app rows without their event).
async fn incident_rows(app: &TestApp) -> Vec<(i64, String, String)> {
    const SQL: &str = "SELECT recipient_id, notification_type, event FROM notification_log \
                       WHERE event LIKE 'channel_incident%' ORDER BY recipient_id, notification_type, event";
    incident::on_db!(&app.db, p => sqlx::query_as(SQL).fetch_all(p).await).unwrap()
}

/// One alert row per admin in-app and by e-mail (the test's admins all have an address).
fn alerted(admins: &[i64], event: &str) -> Vec<(i64, String, String)> {
    let mut rows: Vec<(i64, String, String)> = admins
        .iter()
        .flat_map(|id| ["EMAIL", "SYSTEM"].map(|c| (*id, c.to_string(), event.to_string())))
        .collect();
    rows.sort();
    rows
}

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn gauge<'a>(text: &'a str, name_and_labels: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
}

async fn assert_ready(app: &TestApp) -> Value {
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

const OPEN_AUTH: &str = r#"notification_channel_incident_open{channel="WHATSAPP",cause="auth"}"#;
const AGE: &str = r#"notification_channel_incident_age_seconds{channel="WHATSAPP"}"#;

async fn an_admin_fixable_failure_opens_one_incident_until_a_success_closes_it(engine: Engine) {
    let (app, refusal, _server) = app_refusing(engine).await;
    let admin_id = app
        .create_user_with("admin", Role::Admin, "", "", Some("+12025550101"))
        .await;
    let admin = app.login("admin").await["access"]
        .as_str()
        .unwrap()
        .to_string();
    let admin2 = app
        .create_user_with("admin2", Role::Admin, "", "", Some("+12025550102"))
        .await;
    let retired = app
        .create_user_with("retired", Role::Admin, "", "", Some("+12025550103"))
        .await;
    let (status, _) = app
        .patch(
            &format!("/api/users/{retired}/"),
            &admin,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, client) = app.user_token("client", Role::Client).await;
    assert_eq!(gauge(&metrics(&app).await, OPEN_AUTH), Some("0"));

    // Many sends refused for the credentials: one incident, one alert per active admin.
    *refusal.lock().unwrap() = Some((401, 20003));
    new_ticket(&app, &client).await;
    new_ticket(&app, &client).await;
    app.deliver_due().await;
    let opened = alerted(&[admin_id, admin2], "channel_incident_opened");
    assert_eq!(incident_rows(&app).await, opened);
    let (_, mine) = app.get("/api/notifications/", &admin).await;
    let subjects: Vec<&str> = mine["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["subject"].as_str())
        .collect();
    assert!(
        subjects.contains(&"WhatsApp notifications are failing"),
        "no alert in the admin's own list: {mine}"
    );
    const TEXT: &str =
        "SELECT message FROM notification_log WHERE event = 'channel_incident_opened' AND recipient_id = $1";
    let text: String =
        incident::on_db!(&app.db, p => sqlx::query_scalar(TEXT).bind(admin_id).fetch_one(p).await)
            .unwrap();
    assert!(
        text.contains("error 20003") && text.contains("Auth Token"),
        "{text}"
    );
    let ready = assert_ready(&app).await;
    let shown = ready["notifications"]["whatsapp_incident"]
        .as_str()
        .unwrap();
    assert!(
        shown.starts_with("open since") && shown.contains("auth, error 20003, 4 failed"),
        "{ready}"
    );
    let m = metrics(&app).await;
    assert_eq!(gauge(&m, OPEN_AUTH), Some("1"), "{m}");
    assert_ne!(gauge(&m, AGE), Some("0"), "{m}");

    // Another failure while it is open: counted, nobody alerted again.
    new_ticket(&app, &client).await;
    app.deliver_due().await;
    assert_eq!(incident_rows(&app).await, opened);
    let ready = assert_ready(&app).await;
    assert!(
        ready["notifications"]["whatsapp_incident"]
            .as_str()
            .unwrap()
            .contains("6 failed"),
        "{ready}"
    );

    // The next success closes it, with one recovery notice per active admin.
    *refusal.lock().unwrap() = None;
    new_ticket(&app, &client).await;
    app.deliver_due().await;
    let mut closed = opened.clone();
    closed.extend(alerted(&[admin_id, admin2], "channel_incident_closed"));
    closed.sort();
    assert_eq!(incident_rows(&app).await, closed);
    let ready = assert_ready(&app).await;
    assert!(
        ready["notifications"].get("whatsapp_incident").is_none(),
        "{ready}"
    );
    let m = metrics(&app).await;
    assert_eq!(gauge(&m, OPEN_AUTH), Some("0"), "{m}");
    assert_eq!(gauge(&m, AGE), Some("0"), "{m}");
    // More successes say nothing more.
    new_ticket(&app, &client).await;
    app.deliver_due().await;
    assert_eq!(incident_rows(&app).await, closed);

    // A new failure after the close opens a new incident, alerting again.
    *refusal.lock().unwrap() = Some((400, 63007));
    new_ticket(&app, &client).await;
    app.deliver_due().await;
    let rows = incident_rows(&app).await;
    let alerts = |id: i64| {
        rows.iter()
            .filter(|r| r.0 == id && r.1 == "SYSTEM" && r.2 == "channel_incident_opened")
            .count()
    };
    assert_eq!(
        (alerts(admin_id), alerts(admin2), alerts(retired)),
        (2, 2, 0),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.1 != "WHATSAPP"), "{rows:?}");
    let m = metrics(&app).await;
    assert_eq!(
        gauge(
            &m,
            r#"notification_channel_incident_open{channel="WHATSAPP",cause="sender"}"#
        ),
        Some("1"),
        "{m}"
    );
    assert_eq!(gauge(&m, OPEN_AUTH), Some("0"), "{m}");
    assert_ready(&app).await;
}

async fn a_recipients_bad_number_opens_no_incident(engine: Engine) {
    let (app, refusal, _server) = app_refusing(engine).await;
    app.create_user_with("admin", Role::Admin, "", "", Some("+12025550101"))
        .await;
    let admin = app.login("admin").await["access"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, client) = app.user_token("client", Role::Client).await;
    *refusal.lock().unwrap() = Some((400, 21211));
    new_ticket(&app, &client).await;
    app.deliver_due().await;
    let log = crate::whatsapp::whatsapp_log(&app, &admin).await;
    assert_eq!(log[0]["status"], "FAILED", "{log:?}");
    assert_eq!(log[0]["error_code"], "21211", "{log:?}");
    assert_eq!(incident_rows(&app).await, vec![]);
    let ready = assert_ready(&app).await;
    assert!(
        ready["notifications"].get("whatsapp_incident").is_none(),
        "{ready}"
    );
    assert_eq!(gauge(&metrics(&app).await, OPEN_AUTH), Some("0"));
}
