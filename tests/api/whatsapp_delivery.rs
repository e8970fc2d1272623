//! Issue 15's delivery defects, against a fake Twilio that keeps the messages it accepted and
//! lists them back (`GET Messages.json?To=...`) as Twilio does: callbacks that only move
//! forward, a callback's failure with the guide's fix, an admin reading any row by id, the
//! retry budget under a provider's bad spell, and no duplicate when an attempt's outcome was
//! lost.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::twilio_fake::{TwilioFake, MESSAGES};

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::tickets::cast_with_numbers;
use crate::whatsapp::{twilio_app, whatsapp_log, SID, TOKEN};

/// Delivers round after round, each `step` later than the one before (no sleeping), until no
/// row is PENDING; returns the log.
async fn delivered_over_time(
    app: &TestApp,
    admin: &str,
    step: Duration,
    rounds: usize,
) -> Vec<Value> {
    let worker = app.worker();
    let mut at = Utc::now();
    for _ in 0..rounds {
        worker.deliver_due_at(at).await.expect("deliver");
        let log = whatsapp_log(app, admin).await;
        if log.iter().all(|r| r["status"] != "PENDING") {
            return log;
        }
        at += chrono::Duration::from_std(step).unwrap();
    }
    panic!("still pending: {:#?}", whatsapp_log(app, admin).await);
}

on_both_engines!(
    a_failure_reported_after_delivered_changes_nothing,
    a_callback_reported_failure_gets_the_guides_fix,
    an_admin_reads_any_row_by_id,
    a_provider_failing_most_requests_for_a_while_loses_nothing,
    retries_stop_when_the_budget_is_spent,
    a_timeout_is_looked_up_before_sending_again,
    reconciliation_fetches_what_a_lost_callback_would_have_said,
);

/// Posts a signed Twilio status callback for message `sid`; asserts it is acknowledged (204).
pub async fn callback(app: &TestApp, sid: &str, status: &str, code: Option<&str>) {
    let mut params = vec![
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("AccountSid", SID),
    ];
    params.extend(code.map(|c| ("ErrorCode", c)));
    let path = "/api/webhooks/twilio/status/";
    let (status, body) = crate::whatsapp::post_twilio(app, path, &params, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// What a test holds: the app, the fake's server (alive while it is held) and the admin's
/// token.
struct Rig {
    app: TestApp,
    _server: MockServer,
    admin: String,
}

/// A ticket's WhatsApp row delivered through `fake`, and the row.
async fn one_sent_row(engine: Engine, fake: &TwilioFake) -> (Rig, Value) {
    let server = fake.start().await;
    let app = twilio_app(engine, &server).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    app.deliver_due().await;
    let log = whatsapp_log(&app, &c.admin).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["status"], "SENT");
    let row = log[0].clone();
    (
        Rig {
            app,
            _server: server,
            admin: c.admin,
        },
        row,
    )
}

async fn a_failure_reported_after_delivered_changes_nothing(engine: Engine) {
    let fake = TwilioFake::default();
    let (rig, row) = one_sent_row(engine, &fake).await;
    let (app, admin) = (&rig.app, &rig.admin);
    let sid = row["provider_message_id"].as_str().unwrap();
    for (status, code, expected) in [
        ("delivered", None, "delivered"),
        ("failed", Some("30008"), "delivered"),
        ("sent", None, "delivered"),
        ("read", None, "read"),
        ("undelivered", Some("63016"), "read"),
        ("delivered", None, "read"),
    ] {
        callback(app, sid, status, code).await;
        let row = &whatsapp_log(app, admin).await[0];
        assert_eq!(row["delivery_status"], expected, "after {status}");
        assert_eq!(row["status"], "SENT", "after {status}");
        assert!(row["error_code"].is_null(), "after {status}: {row}");
    }
}

async fn a_callback_reported_failure_gets_the_guides_fix(engine: Engine) {
    let fake = TwilioFake::default();
    let (rig, row) = one_sent_row(engine, &fake).await;
    let (app, admin) = (&rig.app, &rig.admin);
    let sid = row["provider_message_id"].as_str().unwrap();
    callback(app, sid, "sent", None).await;
    callback(app, sid, "failed", Some("63015")).await;
    let row = &whatsapp_log(app, admin).await[0];
    assert_eq!(row["status"], "FAILED");
    assert_eq!(row["delivery_status"], "failed");
    assert_eq!(row["error_code"], "63015");
    let message = row["error_message"].as_str().unwrap();
    assert!(
        message.starts_with("Provider reported the message failed (error 63015)")
            && message.contains("join <your sandbox code>"),
        "{message}"
    );
    // Final: a late delivered does not revive it.
    callback(app, sid, "delivered", None).await;
    let row = &whatsapp_log(app, admin).await[0];
    assert_eq!(
        (row["status"].as_str(), row["delivery_status"].as_str()),
        (Some("FAILED"), Some("failed"))
    );
}

async fn an_admin_reads_any_row_by_id(engine: Engine) {
    let fake = TwilioFake::default();
    let (rig, row) = one_sent_row(engine, &fake).await;
    let (app, admin) = (&rig.app, &rig.admin);
    let id = row["id"].as_i64().unwrap();
    let (status, body) = app.get(&format!("/api/notifications/{id}/"), admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["notification_type"], "WHATSAPP");
    assert_eq!(body["provider_message_id"], row["provider_message_id"]);
    assert!(body["next_attempt_at"].is_null(), "{body}");
    // Everyone else keeps the original's scope: their own in-app rows only.
    let client = crate::tickets::access_token(app, "client").await;
    let (status, body) = app.get(&format!("/api/notifications/{id}/"), &client).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"detail": "No NotificationLog matches the given query."})
    );
    let (status, _) = app.get("/api/notifications/999999/", admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The admin's own rows and filters still apply when a channel is named.
    let (status, _) = app
        .get(
            &format!("/api/notifications/{id}/?notification_type=SYSTEM"),
            admin,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// 70% of the first 80 requests fail (500 and 429 in turn), then the provider recovers.
fn bad_spell(n: usize) -> Option<ResponseTemplate> {
    if n >= 80 || n % 10 >= 7 {
        return None;
    }
    Some(if n.is_multiple_of(2) {
        ResponseTemplate::new(500)
    } else {
        crate::whatsapp::twilio_error(429, 20429, "Too Many Requests")
    })
}

async fn a_provider_failing_most_requests_for_a_while_loses_nothing(engine: Engine) {
    let fake = TwilioFake::failing(bad_spell);
    let server = fake.start().await;
    let app = twilio_app(engine, &server).await;
    let c = cast_with_numbers(&app).await;
    for _ in 0..12 {
        crate::tickets::new_ticket(&app, &c.client).await;
    }
    // Mid-spell a row shows its attempts and its next try.
    app.worker().deliver_due().await.unwrap();
    let log = whatsapp_log(&app, &c.admin).await;
    let waiting: Vec<&Value> = log.iter().filter(|r| r["status"] == "PENDING").collect();
    assert!(!waiting.is_empty(), "{log:#?}");
    assert!(
        waiting
            .iter()
            .all(|r| r["attempts"] == 1 && r["next_attempt_at"].is_string()),
        "{waiting:#?}"
    );

    let log = delivered_over_time(&app, &c.admin, Duration::from_millis(100), 200).await;
    assert_eq!(log.len(), 12);
    assert!(log.iter().all(|r| r["status"] == "SENT"), "{log:#?}");
    assert!(
        fake.posts() >= 12 + 20,
        "a real spell: {} requests",
        fake.posts()
    );
    // One message each: the 500s were looked up (none held) before the next POST.
    let held = fake.held.lock().unwrap().len();
    assert_eq!(held, 12);
}

async fn retries_stop_when_the_budget_is_spent(engine: Engine) {
    let fake = TwilioFake::failing(|_| Some(ResponseTemplate::new(500)));
    let server = fake.start().await;
    let base = server.uri();
    let app = TestApp::spawn_with(engine, move |c| {
        c.twilio.account_sid = SID.to_string();
        c.twilio.auth_token = incident::config::Secret::new(TOKEN);
        c.twilio.base_url = base;
        c.worker.enabled = false;
        c.worker.backoff_base = Duration::from_millis(20);
        c.worker.backoff_max = Duration::from_millis(100);
        c.worker.retry_for = Duration::from_secs(2);
        c.worker.rate_per_second = 0.0;
    })
    .await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = delivered_over_time(&app, &c.admin, Duration::from_millis(100), 100).await;
    assert_eq!(log[0]["status"], "FAILED");
    let attempts = log[0]["attempts"].as_i64().unwrap();
    // About 2 s of retries at most 100 ms apart, the last one at the budget's end.
    assert!((15..=22).contains(&attempts), "{attempts}");
    let message = log[0]["error_message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "Gave up after {attempts} attempts over 2s (NOTIFY_RETRY_FOR)"
        )),
        "{message}"
    );
    assert!(log[0]["next_attempt_at"].is_null());
    assert_eq!(fake.posts() as i64, attempts);
}

/// The app with `fake`, one ticket's row claimed by a worker that died mid-send; returns the
/// claim's time.
async fn row_left_mid_send(engine: Engine, fake: &TwilioFake) -> (Rig, DateTime<Utc>) {
    let server = fake.start().await;
    let app = twilio_app(engine, &server).await;
    let c = cast_with_numbers(&app).await;
    // WhatsApp alone: the admin's e-mail about a new ticket would be claimed beside it.
    let (status, body) = app
        .put(
            "/api/profile/notifications/",
            &c.admin,
            json!({"events": {"ticket_created": {"EMAIL": false}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    crate::tickets::new_ticket(&app, &c.client).await;
    let claimed_at = Utc::now();
    let claimed = incident::db::notifications::claim_due(
        &app.db,
        claimed_at,
        claimed_at + chrono::Duration::seconds(60),
        10,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        claimed[0].unresolved_since.is_none(),
        "a first claim has nothing to look up"
    );
    let rig = Rig {
        app,
        _server: server,
        admin: c.admin,
    };
    (rig, claimed_at)
}

on_both_engines!(an_attempt_left_without_outcome_is_looked_up_not_sent_again);

async fn an_attempt_left_without_outcome_is_looked_up_not_sent_again(engine: Engine) {
    let fake = TwilioFake::default();
    let (rig, claimed_at) = row_left_mid_send(engine, &fake).await;
    let (app, admin) = (&rig.app, &rig.admin);
    // The dead worker's POST had reached Twilio.
    let message = incident::db::notifications::get(
        &app.db,
        &incident::db::notifications::Filter {
            notification_type: Some("WHATSAPP".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .unwrap()
    .message;
    let sid = fake.hold("whatsapp:+12025550101", &message);
    let later = claimed_at + chrono::Duration::seconds(61);
    assert_eq!(app.worker().deliver_due_at(later).await.unwrap(), 1);
    let log = whatsapp_log(app, admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(log[0]["provider_message_id"], sid.as_str());
    assert_eq!(fake.posts(), 0, "no second POST");
    assert_eq!(fake.held.lock().unwrap().len(), 1);
}

on_both_engines!(an_attempt_left_without_outcome_not_found_is_sent);

async fn an_attempt_left_without_outcome_not_found_is_sent(engine: Engine) {
    let fake = TwilioFake::default();
    let (rig, claimed_at) = row_left_mid_send(engine, &fake).await;
    let (app, admin) = (&rig.app, &rig.admin);
    // Another message to the same person is not this one.
    fake.hold("whatsapp:+12025550101", "Some other text");
    let later = claimed_at + chrono::Duration::seconds(61);
    assert_eq!(app.worker().deliver_due_at(later).await.unwrap(), 1);
    let log = whatsapp_log(app, admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(fake.posts(), 1);
    let held = fake.held.lock().unwrap().clone();
    assert_eq!(log[0]["provider_message_id"], held[1].sid.as_str());
}

async fn a_timeout_is_looked_up_before_sending_again(engine: Engine) {
    // Twilio creates the message but answers too late: the next attempt finds it.
    let fake = TwilioFake::default();
    let slow = fake.clone();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(move |req: &Request| slow.respond(req).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(MESSAGES))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let app = twilio_app(engine, &server).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = delivered_over_time(&app, &c.admin, Duration::from_millis(100), 20).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(
        fake.posts(),
        1,
        "the timed-out message was found, not posted again"
    );
    let held = fake.held.lock().unwrap().clone();
    assert_eq!(held.len(), 1);
    assert_eq!(log[0]["provider_message_id"], held[0].sid.as_str());
}

async fn reconciliation_fetches_what_a_lost_callback_would_have_said(engine: Engine) {
    let fake = TwilioFake::default();
    let server = fake.start().await;
    let app = twilio_app(engine, &server).await;
    let c = cast_with_numbers(&app).await;
    for _ in 0..3 {
        crate::tickets::new_ticket(&app, &c.client).await;
    }
    app.deliver_due().await;
    let log = whatsapp_log(&app, &c.admin).await;
    let sids: Vec<String> = log
        .iter()
        .map(|r| r["provider_message_id"].as_str().unwrap().to_string())
        .collect();
    // Newest first: the callbacks of the first two were lost; the third's came.
    fake.set_status(&sids[2], "delivered", None);
    fake.set_status(&sids[1], "undelivered", Some(63016));
    callback(&app, &sids[0], "read", None).await;
    let fallback = app.state.fallback();
    let reconcile = |at: DateTime<Utc>| {
        incident::notify::reconcile::reconcile_once(
            &app.db,
            &app.state.provider,
            &fallback,
            &app.state.config.worker,
            at,
        )
    };
    assert_eq!(
        reconcile(Utc::now()).await.unwrap(),
        0,
        "too early: callbacks may still come"
    );
    let later = Utc::now() + chrono::Duration::minutes(16);
    assert_eq!(
        reconcile(later).await.unwrap(),
        2,
        "the settled row is not asked about"
    );
    let log = whatsapp_log(&app, &c.admin).await;
    assert_eq!(log[2]["delivery_status"], "delivered");
    assert_eq!(log[2]["status"], "SENT");
    assert_eq!(log[1]["status"], "FAILED");
    assert_eq!(log[1]["error_code"], "63016");
    assert!(
        log[1]["error_message"]
            .as_str()
            .unwrap()
            .contains("TWILIO_CONTENT_SIDS"),
        "{}",
        log[1]
    );
    assert_eq!(log[0]["delivery_status"], "read");
    assert_eq!(fake.fetches(), 2);
    // Checked rows wait another NOTIFY_RECONCILE_AFTER; settled ones are never asked again.
    assert_eq!(reconcile(later).await.unwrap(), 0);
    // One replica at a time: while another holds the turn (PostgreSQL), a pass does nothing.
    crate::tickets::new_ticket(&app, &c.client).await;
    app.deliver_due().await;
    let much_later = later + chrono::Duration::minutes(16);
    let turn = incident::db::notifications::try_reconcile_turn(&app.db)
        .await
        .unwrap()
        .expect("nobody holds the turn");
    if matches!(engine, Engine::Postgres) {
        assert_eq!(
            reconcile(much_later).await.unwrap(),
            0,
            "another replica's turn"
        );
    }
    turn.release().await;
    assert_eq!(reconcile(much_later).await.unwrap(), 1);
    assert_eq!(fake.fetches(), 3);
}
