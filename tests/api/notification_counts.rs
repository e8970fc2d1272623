//! Issue 11: the notification log's counters (`notification_counts`, kept by triggers) stay
//! exact through every write path: steps, claims, sends, retries, failures, callbacks, reads,
//! re-queues and deletes (cascades included); the admin's counts and stats read them.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::tickets::{cast_with_numbers, new_ticket};
use crate::whatsapp::{created, fake_twilio_in_turn, settled, twilio_app, twilio_error};

on_both_engines!(counters_stay_exact_through_every_write_path);

/// Fails the test when a counter differs from the log.
async fn assert_exact(app: &TestApp, after: &str) {
    let drift = incident::db::notifications::counter_drift(&app.state.db)
        .await
        .expect("drift query");
    assert!(
        drift.is_empty(),
        "counters drifted after {after}: {drift:?}"
    );
}

/// The admin's count of a log filter, as the API answers it.
async fn count(app: &TestApp, admin: &str, query: &str) -> i64 {
    let (status, body) = app
        .get(&format!("/api/notifications/?{query}"), admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["count"].as_i64().unwrap()
}

async fn callback(app: &TestApp, sid: &str, status: &str) {
    crate::whatsapp_delivery::callback(app, sid, status, None).await;
}

async fn counters_stay_exact_through_every_write_path(engine: Engine) {
    // One rate limit (a retry), one refused credential (a failure), then accepted.
    let fake = fake_twilio_in_turn(
        vec![
            (twilio_error(429, 20429, "Too Many Requests"), 1),
            (twilio_error(401, 20003, "Authenticate"), 1),
        ],
        created(),
    )
    .await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    assert_exact(&app, "nothing").await;

    let first = new_ticket(&app, &c.client).await;
    let second = new_ticket(&app, &c.client).await;
    assert_exact(&app, "steps").await;
    assert_eq!(
        count(&app, &c.admin, "notification_type=WHATSAPP&status=PENDING").await,
        2
    );

    let log = settled(&app, &c.admin).await;
    assert_exact(&app, "claims, a retry, a failure and sends").await;
    assert_eq!(
        count(&app, &c.admin, "notification_type=WHATSAPP&status=FAILED").await,
        1
    );
    assert_eq!(
        count(&app, &c.admin, "notification_type=WHATSAPP&status=SENT").await,
        1
    );
    assert_eq!(count(&app, &c.admin, "notification_type=WHATSAPP").await, 2);

    let sent: Vec<&Value> = log.iter().filter(|r| r["status"] == "SENT").collect();
    let sid = sent[0]["provider_message_id"].as_str().unwrap().to_string();
    callback(&app, &sid, "sent").await;
    assert_exact(&app, "a delivery callback").await;
    assert_eq!(
        count(
            &app,
            &c.admin,
            "notification_type=WHATSAPP&delivery_status=sent"
        )
        .await,
        1
    );
    // A failure is taken only while nothing later than `sent` was seen (issue 15).
    callback(&app, &sid, "undelivered").await;
    assert_exact(&app, "a failing callback").await;
    assert_eq!(
        count(&app, &c.admin, "notification_type=WHATSAPP&status=FAILED").await,
        2
    );
    let (_, stats) = app.get("/api/notifications/stats/", &c.admin).await;
    assert_eq!(stats["WHATSAPP"]["FAILED"], 2, "{stats}");
    assert_eq!(stats["WHATSAPP"]["total"], 2, "{stats}");

    let (status, _) = app
        .post("/api/notifications/mark_all_as_read/", &c.client, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_exact(&app, "marking read").await;

    let (status, _) = app
        .post(
            "/api/notifications/retry_failed/?notification_type=WHATSAPP",
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_exact(&app, "a re-queue").await;
    assert_eq!(
        count(&app, &c.admin, "notification_type=WHATSAPP&status=PENDING").await,
        2
    );
    settled(&app, &c.admin).await;
    assert_exact(&app, "the re-sends").await;

    let (status, body) = app
        .delete(&format!("/api/tickets/{first}/"), &c.admin)
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_exact(&app, "a ticket's delete (cascade)").await;
    assert_eq!(count(&app, &c.admin, "notification_type=WHATSAPP").await, 1);
    let (_, stats) = app.get("/api/notifications/stats/", &c.admin).await;
    assert_eq!(stats["WHATSAPP"]["total"], 1, "{stats}");
    let _ = second;
}
