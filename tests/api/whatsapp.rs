//! WhatsApp delivery through a local fake of Twilio's Messages API: who gets which text, retries,
//! permanent failures, leases, status callbacks, and the admin's delivery log. The tests drive
//! delivery themselves (`settled`, `Worker::deliver_due`) with the background worker off; only
//! the shutdown and cross-replica wake-up tests run the real loop.

use std::time::Duration;

use incident::config::{Config, Secret};
use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::tickets::{cast_with_numbers, Cast};

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "twilio-test-token";
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// The app with Twilio pointed at `fake`, fast retries, a public URL for callbacks, and no
/// background worker: the test delivers with `settled`.
/// `/metrics` on the API port of `twilio_app`.
pub const METRICS_TOKEN: &str = "metrics-token-for-tests";

pub async fn twilio_app(engine: Engine, fake: &MockServer) -> TestApp {
    twilio_app_with(engine, fake, |_| {}).await
}

/// `twilio_app` with its configuration further adjusted by `tweak`.
pub async fn twilio_app_with(
    engine: Engine,
    fake: &MockServer,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let base = fake.uri();
    TestApp::spawn_with(engine, move |c| {
        use_twilio(c, base);
        c.metrics_token = Some(Secret::new(METRICS_TOKEN));
        c.worker.enabled = false;
        c.twilio.webhook_auth_token = Secret::new(TOKEN);
        c.worker.backoff_base = Duration::from_millis(20);
        c.worker.backoff_max = Duration::from_millis(100);
        c.worker.poll_interval = Duration::from_millis(100);
        c.worker.send_timeout = Duration::from_millis(800);
        c.worker.rate_per_second = 0.0;
        tweak(c);
    })
    .await
}

/// Points the configuration's Twilio account at the fake at `base`.
fn use_twilio(c: &mut Config, base: String) {
    c.twilio.account_sid = SID.to_string();
    c.twilio.auth_token = Secret::new(TOKEN);
    c.twilio.base_url = base;
}

/// A fake Twilio answering every message with `answer`.
pub async fn fake_twilio(answer: ResponseTemplate) -> MockServer {
    fake_twilio_in_turn(Vec::new(), answer).await
}

/// A fake Twilio giving each of `first` its number of times, in order, then `then` for good.
pub async fn fake_twilio_in_turn(
    first: Vec<(ResponseTemplate, u64)>,
    then: ResponseTemplate,
) -> MockServer {
    let fake = MockServer::start().await;
    for (answer, times) in first {
        Mock::given(method("POST"))
            .and(path(MESSAGES))
            .respond_with(answer)
            .up_to_n_times(times)
            .mount(&fake)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(then)
        .mount(&fake)
        .await;
    // The look-up before sending again after an unclear answer (a 5xx, a timeout): not there.
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"messages": []})))
        .mount(&fake)
        .await;
    fake
}

/// The messages the fake was asked to create (look-ups left out).
pub async fn posts(fake: &MockServer) -> usize {
    fake.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count()
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Twilio's 201 with a fresh `SM...` sid.
pub fn created() -> ResponseTemplate {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    ResponseTemplate::new(201)
        .set_body_json(json!({"sid": format!("SM{n:032x}"), "status": "queued"}))
}

/// Posts a Twilio webhook (`path`) with `params`, signed as Twilio signs it, or with
/// `signature`; answers the status and body.
pub async fn post_twilio(
    app: &TestApp,
    path: &str,
    params: &[(&str, &str)],
    signature: Option<&str>,
) -> (StatusCode, String) {
    let url = app.url(path);
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let signature = signature.map_or_else(
        || incident::http::webhooks::signature::twilio_signature(TOKEN, &url, &params),
        str::to_string,
    );
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let r = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub fn twilio_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status
    }))
}

pub fn form(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

pub fn field(req: &Request, name: &str) -> String {
    form(req)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// The delivery log as the admin sees it.
pub async fn whatsapp_log(app: &TestApp, admin: &str) -> Vec<Value> {
    let (status, body) = app
        .get("/api/notifications/?notification_type=WHATSAPP", admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

/// Delivers until nothing is left to send, then returns the log (no row PENDING). Each round
/// runs as if `backoff_max` had passed, so a retry is due at once instead of after a sleep.
pub async fn settled(app: &TestApp, admin: &str) -> Vec<Value> {
    let worker = app.worker();
    let ahead = chrono::Duration::from_std(app.state.config.worker.backoff_max).unwrap();
    for _ in 0..20 {
        let claimed = worker
            .deliver_due_at(chrono::Utc::now() + ahead)
            .await
            .expect("deliver");
        if claimed == 0 {
            let log = whatsapp_log(app, admin).await;
            assert!(
                log.iter().all(|r| r["status"] != "PENDING"),
                "WhatsApp rows still pending: {log:#?}"
            );
            return log;
        }
    }
    panic!(
        "WhatsApp rows still being retried: {:#?}",
        whatsapp_log(app, admin).await
    );
}

on_both_engines!(
    created_ticket_messages_admins_with_numbers_in_the_guide_format,
    every_event_reaches_exactly_the_right_recipients,
    rate_limited_sends_are_retried_then_sent,
    server_errors_and_timeouts_are_retried_then_sent,
    permanent_errors_fail_at_once_with_their_code,
    not_configured_fails_with_not_configured,
    an_expired_lease_is_sent_again,
    a_repeated_request_does_not_notify_twice,
    status_callbacks_are_signed_and_only_move_forward,
    admin_filters_stats_and_retry,
    stopping_mid_delivery_loses_nothing,
    metrics_count_notification_outcomes,
);

async fn created_ticket_messages_admins_with_numbers_in_the_guide_format(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    app.create_user_with(
        "admin_user",
        Role::Admin,
        "Ada",
        "Admin",
        Some("+201094402250"),
    )
    .await;
    app.create_user_with("admin_nonumber", Role::Admin, "", "", None)
        .await;
    let gone = app
        .create_user_with("admin_gone", Role::Admin, "", "", Some("+201094402251"))
        .await;
    incident::db::users::set_active(&app.db, gone, false)
        .await
        .unwrap();
    app.create_user_with("john", Role::Client, "John", "Doe", None)
        .await;
    let client = app.login("john").await["access"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = app.login("admin_user").await["access"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, body) = app
        .post(
            "/api/tickets/",
            &client,
            json!({"title": "Login page not working", "description": "Users cannot login to the portal...",
                   "priority": "HIGH", "category": "BUG", "project_name": "Web Portal"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let log = settled(&app, &admin).await;
    assert_eq!(
        log.len(),
        1,
        "one row: only the active admin with a number: {log:#?}"
    );
    let row = &log[0];
    assert_eq!(row["status"], "SENT");
    assert_eq!(row["subject"], "WhatsApp Notification");
    assert_eq!(row["recipient_name"], "Ada Admin");
    assert!(row["provider_message_id"]
        .as_str()
        .unwrap()
        .starts_with("SM"));
    assert!(row["sent_at"].is_string());
    assert_eq!(row["delivery_status"], "queued");
    assert_eq!(row["attempts"], 1);

    let requests = fake.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    );
    assert_eq!(
        req.headers.get("authorization").unwrap().to_str().unwrap(),
        basic
    );
    assert_eq!(field(req, "To"), "whatsapp:+201094402250");
    assert_eq!(field(req, "From"), "whatsapp:+14155238886");
    assert_eq!(
        field(req, "Body"),
        "🎫 *New Ticket Created*\n\n*Client:* John Doe\n*Title:* Login page not working\n*Project:* Web Portal\n*Priority:* HIGH\n*Category:* BUG\n\n*Description:*\nUsers cannot login to the portal...\n\nPlease review and assign this ticket as soon as possible.\n\n_Incident Management System_"
    );
    assert_eq!(row["message"], field(req, "Body"));
}

/// Who received which message (by the first line of the text), in send order per recipient.
async fn deliveries(fake: &MockServer) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fake
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                field(r, "To"),
                field(r, "Body")
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn step(app: &TestApp, id: i64, action: &str, token: &str, body: Value) {
    let (status, resp) = app
        .post(&format!("/api/tickets/{id}/{action}/"), token, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {resp}");
}

/// An action, who does it, its body, and the (recipient, first line) pairs it must send.
type Step<'a> = (&'a str, &'a str, Value, Vec<(&'a str, &'a str)>);

async fn every_event_reaches_exactly_the_right_recipients(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c: Cast = cast_with_numbers(&app).await;
    let (a, cl, d) = (
        "whatsapp:+12025550101",
        "whatsapp:+12025550102",
        "whatsapp:+12025550103",
    );
    let expect = |pairs: &[(&str, &str)]| {
        let mut v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        v
    };

    let id = crate::tickets::new_ticket(&app, &c.client).await;
    settled(&app, &c.admin).await;
    assert_eq!(
        deliveries(&fake).await,
        expect(&[(a, "🎫 *New Ticket Created*")])
    );
    fake.reset().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created())
        .mount(&fake)
        .await;

    let script: Vec<Step> = vec![
        (
            "open_ticket",
            "admin",
            json!({}),
            vec![(cl, "✅ *Your Ticket Has Been Opened*")],
        ),
        (
            "assign",
            "admin",
            json!({"assigned_to": [c.dev_id]}),
            vec![(d, "🔧 *New Task Assigned*")],
        ),
        (
            "start_work",
            "dev",
            json!({}),
            vec![(cl, "🚀 *Work Started on Your Ticket*")],
        ),
        ("start_work", "dev", json!({}), vec![]),
        (
            "finish_work",
            "dev",
            json!({}),
            vec![
                (cl, "🎉 *Your Ticket Has Been Resolved*"),
                (a, "📋 *Ticket Resolved - Awaiting Client Approval*"),
            ],
        ),
        (
            "reject",
            "client",
            json!({"comment": "Still broken on Safari"}),
            vec![(d, "❌ *Ticket Rejected*")],
        ),
        (
            "finish_work",
            "dev",
            json!({}),
            vec![
                (cl, "🎉 *Your Ticket Has Been Resolved*"),
                (a, "📋 *Ticket Resolved - Awaiting Client Approval*"),
            ],
        ),
        (
            "approve",
            "client",
            json!({}),
            vec![(a, "🔒 *Ticket Closed*"), (d, "✅ *Ticket Closed*")],
        ),
    ];
    for (action, who, body, expected) in script {
        let token = match who {
            "admin" => &c.admin,
            "dev" => &c.dev,
            _ => &c.client,
        };
        step(&app, id, action, token, body).await;
        settled(&app, &c.admin).await;
        assert_eq!(deliveries(&fake).await, expect(&expected), "after {action}");
        fake.reset().await;
        Mock::given(method("POST"))
            .and(path(MESSAGES))
            .respond_with(created())
            .mount(&fake)
            .await;
    }
    // In-app rows went to the client for their events, as the bell shows them.
    let (_, bell) = app.get("/api/notifications/", &c.client).await;
    let subjects: Vec<&str> = bell["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "Work Finished",
            "Work Finished",
            "Work Started",
            "Ticket Opened"
        ]
    );
}

async fn rate_limited_sends_are_retried_then_sent(engine: Engine) {
    let fake = fake_twilio_in_turn(
        vec![(twilio_error(429, 20429, "Too Many Requests"), 2)],
        created(),
    )
    .await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(log[0]["attempts"], 3);
    assert!(log[0]["error_code"].is_null());
    assert_eq!(posts(&fake).await, 3);
}

async fn server_errors_and_timeouts_are_retried_then_sent(engine: Engine) {
    let fake = fake_twilio_in_turn(
        vec![
            (ResponseTemplate::new(503), 1),
            (created().set_delay(Duration::from_secs(3)), 1),
        ],
        created(),
    )
    .await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(log[0]["attempts"], 3);
}

async fn permanent_errors_fail_at_once_with_their_code(engine: Engine) {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(twilio_error(
            400,
            63015,
            "Channel Sandbox can only send messages to phone numbers that have joined the Sandbox",
        ))
        .mount(&fake)
        .await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "FAILED");
    assert_eq!(log[0]["error_code"], "63015");
    assert_eq!(log[0]["attempts"], 1);
    let msg = log[0]["error_message"].as_str().unwrap();
    assert!(
        msg.contains("joined the Sandbox") && msg.contains("join <your sandbox code>"),
        "{msg}"
    );
    assert_eq!(posts(&fake).await, 1);
}

async fn not_configured_fails_with_not_configured(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.worker.enabled = false).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "FAILED");
    assert_eq!(log[0]["error_code"], "not_configured");
    // What to set, and how to re-send what failed meanwhile; said once each.
    let message = log[0]["error_message"].as_str().unwrap();
    assert!(message.contains("not configured"), "{message}");
    assert_eq!(
        message.matches("TWILIO_ACCOUNT_SID").count(),
        1,
        "{message}"
    );
    assert!(message.contains("retry_failed/"), "{message}");
}

async fn an_expired_lease_is_sent_again(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let base = fake.uri();
    let app = TestApp::spawn_with(engine, move |c| {
        use_twilio(c, base);
        c.worker.enabled = false;
    })
    .await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    // A worker claims the row and dies mid-send: its lease runs out. The times are given, not
    // slept through.
    let now = chrono::Utc::now();
    let claimed = incident::db::notifications::claim_due(
        &app.db,
        now,
        now + chrono::Duration::milliseconds(300),
        10,
    )
    .await
    .unwrap();
    // The admin's WhatsApp row and e-mail row.
    assert_eq!(claimed.len(), 2);
    let again = incident::db::notifications::claim_due(
        &app.db,
        now + chrono::Duration::milliseconds(200),
        now + chrono::Duration::seconds(60),
        10,
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "a live lease keeps the row from others");
    let sent = app
        .worker()
        .deliver_due_at(now + chrono::Duration::milliseconds(400))
        .await
        .unwrap();
    assert_eq!(sent, 2, "the expired leases are claimed again");
    let log = whatsapp_log(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT");
    assert_eq!(posts(&fake).await, 1);
}

async fn a_repeated_request_does_not_notify_twice(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let id = crate::tickets::new_ticket(&app, &c.client).await;
    let open = format!("/api/tickets/{id}/open_ticket/");
    let (a, b) = tokio::join!(
        app.post(&open, &c.admin, json!({})),
        app.post(&open, &c.admin, json!({}))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    settled(&app, &c.admin).await;
    let to_client = fake
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| field(r, "To") == "whatsapp:+12025550102")
        .count();
    assert_eq!(to_client, 1);
    // The outbox key itself refuses a second row for the same step.
    let rows = vec![incident::db::notifications::NewNotification {
        recipient_id: c.client_id,
        notification_type: "SYSTEM",
        subject: "Ticket Opened".into(),
        message: "again".into(),
        variables: None,
        html: None,
        status: "SENT",
        event: "ticket_opened",
        hold: None,
    }];
    let mut tx = app.db.begin().await.unwrap();
    let added =
        incident::db::notifications::enqueue(&mut tx, Some(id), Some(1), &rows, chrono::Utc::now())
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(added, 0);
}

async fn status_callbacks_are_signed_and_only_move_forward(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    let sid = log[0]["provider_message_id"].as_str().unwrap().to_string();
    let url = app.url("/api/webhooks/twilio/status/");
    let callback =
        |status: &'static str, code: Option<&'static str>, signature: Option<&'static str>| {
            let sid = sid.clone();
            let app = &app;
            async move {
                let mut params = vec![
                    ("MessageSid", sid.as_str()),
                    ("MessageStatus", status),
                    ("AccountSid", SID),
                    ("ChannelPrefix", "whatsapp"),
                ];
                params.extend(code.map(|c| ("ErrorCode", c)));
                post_twilio(app, "/api/webhooks/twilio/status/", &params, signature)
                    .await
                    .0
            }
        };
    let unsigned = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("MessageSid=x&MessageStatus=read")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        callback("read", None, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delivery(&app, &c.admin).await,
        "queued",
        "refused callbacks change nothing"
    );

    assert_eq!(
        callback("delivered", None, None).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(delivery(&app, &c.admin).await, "delivered");
    assert_eq!(callback("sent", None, None).await, StatusCode::NO_CONTENT);
    assert_eq!(
        delivery(&app, &c.admin).await,
        "delivered",
        "a late 'sent' does not move it back"
    );
    assert_eq!(callback("read", None, None).await, StatusCode::NO_CONTENT);
    assert_eq!(delivery(&app, &c.admin).await, "read");
    assert_eq!(
        callback("undelivered", Some("63016"), None).await,
        StatusCode::NO_CONTENT
    );
    let row = whatsapp_log(&app, &c.admin).await[0].clone();
    assert_eq!(
        row["delivery_status"], "read",
        "a failure after read is stale"
    );
    assert_eq!(row["status"], "SENT");

    // Unknown ids are acknowledged (the helper asserts 204).
    crate::whatsapp_delivery::callback(
        &app,
        "SMffffffffffffffffffffffffffffffff",
        "delivered",
        None,
    )
    .await;
}

async fn delivery(app: &TestApp, admin: &str) -> Value {
    whatsapp_log(app, admin).await[0]["delivery_status"].clone()
}

async fn admin_filters_stats_and_retry(engine: Engine) {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(twilio_error(401, 20003, "Authenticate"))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created())
        .mount(&fake)
        .await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let first = crate::tickets::new_ticket(&app, &c.client).await;
    settled(&app, &c.admin).await;
    let second = crate::tickets::new_ticket(&app, &c.client).await;
    settled(&app, &c.admin).await;

    let (_, failed) = app
        .get(
            "/api/notifications/?notification_type=WHATSAPP&status=FAILED",
            &c.admin,
        )
        .await;
    assert_eq!(failed["count"], 1);
    assert_eq!(failed["results"][0]["error_code"], "20003");
    assert_eq!(failed["results"][0]["ticket"], first);
    let (_, by_ticket) = app
        .get(
            &format!("/api/notifications/?notification_type=WHATSAPP&ticket={second}"),
            &c.admin,
        )
        .await;
    assert_eq!(by_ticket["count"], 1);
    assert_eq!(by_ticket["results"][0]["status"], "SENT");
    let (status, body) = app
        .get(
            "/api/notifications/?notification_type=WHATSAPP&ticket=abc",
            &c.admin,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"ticket": ["A valid integer is required."]}));
    let (_, mine) = app
        .get("/api/notifications/?notification_type=WHATSAPP", &c.client)
        .await;
    assert_eq!(mine["count"], 0, "clients only see their own delivery rows");

    let (status, stats) = app.get("/api/notifications/stats/", &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["WHATSAPP"]["SENT"], 1);
    assert_eq!(stats["WHATSAPP"]["FAILED"], 1);
    assert_eq!(stats["WHATSAPP"]["total"], 2);
    // The two tickets' in-app rows, and the channel incident's alert (20003) and recovery notice.
    assert_eq!(stats["SYSTEM"]["SENT"], 4);
    let (status, _) = app.get("/api/notifications/stats/", &c.client).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = app
        .post(
            "/api/notifications/retry_failed/?notification_type=WHATSAPP",
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"message": "1 notification(s) queued for retry", "count": 1})
    );
    let log = settled(&app, &c.admin).await;
    assert!(log.iter().all(|r| r["status"] == "SENT"), "{log:#?}");
}

/// Rows of the WhatsApp log by status, read from the database (the server may be stopped).
async fn statuses(app: &TestApp) -> Vec<String> {
    let sql =
        "SELECT status FROM notification_log WHERE notification_type = 'WHATSAPP' ORDER BY id";
    incident::on_db!(&app.db, p => sqlx::query_scalar(sql).fetch_all(p).await).unwrap()
}

async fn stopping_mid_delivery_loses_nothing(engine: Engine) {
    let fake = fake_twilio(created().set_delay(Duration::from_millis(400))).await;
    let base = fake.uri();
    let mut app = TestApp::spawn_with(engine, move |c| {
        use_twilio(c, base);
        c.worker.rate_per_second = 4.0;
        c.worker.poll_interval = Duration::from_millis(100);
        c.shutdown_grace = Duration::from_secs(5);
    })
    .await;
    app.create_admins_with_numbers(6, "+1202555020").await;
    app.create_user("client", Role::Client).await;
    let client = app.login("client").await["access"]
        .as_str()
        .unwrap()
        .to_string();
    crate::tickets::new_ticket(&app, &client).await;
    // Stop while the first sends are in flight and the rest wait for the rate cap.
    for _ in 0..100 {
        if !fake.received_requests().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
    let after_stop = statuses(&app).await;
    assert_eq!(after_stop.len(), 6);
    assert!(
        after_stop.iter().all(|s| s == "SENT" || s == "PENDING"),
        "{after_stop:?}"
    );
    assert!(
        after_stop.iter().any(|s| s == "SENT"),
        "in-flight sends finished: {after_stop:?}"
    );
    assert!(
        after_stop.iter().any(|s| s == "PENDING"),
        "the rest stayed queued: {after_stop:?}"
    );
    let sent_before = posts(&fake).await;
    assert_eq!(
        sent_before,
        after_stop.iter().filter(|s| *s == "SENT").count(),
        "every request that went out was recorded"
    );

    // The next server (or another replica) picks the rest up at once: their leases were
    // released, so what is due right now is all of them.
    let next = app.replica_with(|c| c.worker.enabled = false).await;
    let admin = next.login("admin0").await["access"]
        .as_str()
        .unwrap()
        .to_string();
    next.deliver_due().await;
    let log = whatsapp_log(&next, &admin).await;
    assert!(log.iter().all(|r| r["status"] == "SENT"), "{log:#?}");
    assert_eq!(posts(&fake).await, 6, "nobody was messaged twice");
}

/// The value of a counter line of `/metrics` whose labels include all of `labels`.
fn counter(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|x| l.contains(x)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics_count_notification_outcomes(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let scrape = || async {
        app.client
            .get(app.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = scrape().await;
    crate::tickets::new_ticket(&app, &c.client).await;
    settled(&app, &c.admin).await;
    let after = scrape().await;
    let sent = [
        r#"type="WHATSAPP""#,
        r#"provider="twilio""#,
        r#"outcome="sent""#,
    ];
    assert!(
        counter(&after, "notifications_total", &sent)
            >= counter(&before, "notifications_total", &sent) + 1.0,
        "{after}"
    );
    assert!(
        counter(
            &after,
            "http_requests_total",
            &[r#"route="/api/tickets/""#, r#"status="201""#]
        ) >= 1.0
    );
    assert!(after.contains("notification_queue_pending"), "{after}");
    assert!(
        after.contains("whatsapp_provider_request_duration_seconds"),
        "{after}"
    );
    assert!(after.contains("db_pool_connections"), "{after}");
}

/// Replicas on one PostgreSQL database: a step served by one wakes the worker of another at
/// once (NOTIFY after the commit), not at its next poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_on_one_replica_wakes_the_worker_of_another_on_postgres() {
    let fake = fake_twilio(created()).await;
    let base = fake.uri();
    // The replica that serves the request delivers nothing itself.
    let a = TestApp::spawn_with(Engine::Postgres, move |c| {
        use_twilio(c, base);
        c.worker.enabled = false;
    })
    .await;
    // The delivering replica would not poll again within the test.
    let _delivering = a
        .replica_with(|c| {
            c.worker.enabled = true;
            c.worker.poll_interval = Duration::from_secs(600);
            c.worker.rate_per_second = 0.0;
        })
        .await;
    a.create_user_with("admin", Role::Admin, "", "", Some("+12025550100"))
        .await;
    let (_, client) = a.user_token("client", Role::Client).await;
    // Its first claim found nothing; its listener connects in the background.
    a.wait_for_listeners(incident::db::notifications::WAKE_CHANNEL, 1)
        .await;
    crate::tickets::new_ticket(&a, &client).await;
    for _ in 0..100 {
        if !fake.received_requests().await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the other replica's worker was not woken");
}
