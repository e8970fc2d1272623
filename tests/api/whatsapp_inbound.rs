//! WhatsApp messages from users (issue 15): Twilio's signed inbound webhook and Meta's
//! `messages` events, stored once; replies that approve, reject or ask for a ticket's status
//! through the API's own rules; the 24-hour window deciding between text and template (on a
//! controlled clock: `deliver_due_at`); STOP and START.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::tickets::{cast_with_numbers, new_ticket, resolved_ticket, Cast};
use crate::whatsapp::{
    created, fake_twilio, field, settled, twilio_app, twilio_app_with, whatsapp_log,
};

const CLIENT: &str = "whatsapp:+12025550102";
const ADMIN: &str = "whatsapp:+12025550101";
const CREATED_SID: &str = "HX0123456789abcdef0123456789abcdef";

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn fresh_sid() -> String {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("SM{:032x}", 0xabc0_0000_u64 + n)
}

/// Posts Twilio's inbound webhook with `params`, signed with `signature` (or correctly).
async fn post_inbound(
    app: &TestApp,
    params: &[(&str, &str)],
    signature: Option<&str>,
) -> (StatusCode, String) {
    let path = "/api/webhooks/twilio/inbound/";
    crate::whatsapp::post_twilio(app, path, params, signature).await
}

/// `from` writes `body` (a fresh MessageSid); asserts 200; returns the stored message.
async fn says(app: &TestApp, admin: &str, from: &str, body: &str) -> Value {
    says_with(app, admin, from, body, &[]).await
}

async fn says_with(
    app: &TestApp,
    admin: &str,
    from: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> Value {
    let sid = fresh_sid();
    let mut params = vec![
        ("MessageSid", sid.as_str()),
        ("AccountSid", crate::whatsapp::SID),
        ("From", from),
        ("To", "whatsapp:+14155238886"),
        ("Body", body),
        ("NumMedia", "0"),
    ];
    params.extend_from_slice(extra);
    let (status, text) = post_inbound(app, &params, None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("<Response>"), "empty TwiML: {text}");
    let messages = messages(app, admin, "").await;
    messages["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["provider_message_id"] == sid.as_str())
        .cloned()
        .expect("the message is listed")
}

async fn messages(app: &TestApp, admin: &str, query: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/whatsapp/messages/{query}"), admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The text of the reply row a message got.
async fn reply_text(app: &TestApp, admin: &str, message: &Value) -> String {
    let id = message["reply"].as_i64().expect("a reply row");
    let log = whatsapp_log(app, admin).await;
    let row = log
        .iter()
        .find(|r| r["id"] == id)
        .expect("the reply is in the log");
    assert_eq!(row["event"], "whatsapp_reply");
    row["message"].as_str().unwrap().to_string()
}

/// A user as the admins' users list shows them.
async fn user_json(app: &TestApp, c: &Cast, username: &str) -> Value {
    let (_, users) = app.get("/api/users/", &c.admin).await;
    users["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .cloned()
        .expect("listed")
}

async fn ticket_status(app: &TestApp, c: &Cast, id: i64) -> String {
    let (_, t) = app.get(&format!("/api/tickets/{id}/"), &c.admin).await;
    t["status"].as_str().unwrap().to_string()
}

on_both_engines!(
    inbound_messages_are_signed_stored_once_and_listed_for_admins,
    replies_approve_reject_and_answer_with_the_apis_rules,
    a_bare_command_or_button_applies_to_the_only_ticket_awaiting_approval,
    without_a_template_the_outside_window_policy_decides,
    stop_fails_whatsapp_rows_at_once_until_start,
    meta_messages_are_stored_once_and_answered,
);

async fn inbound_messages_are_signed_stored_once_and_listed_for_admins(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let params = [
        ("MessageSid", "SM00000000000000000000000000000001"),
        ("From", CLIENT),
        ("Body", "HELP"),
    ];

    let (status, _) = post_inbound(&app, &params, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let unsigned = app
        .client
        .post(app.url("/api/webhooks/twilio/inbound/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("MessageSid=x&From=y")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        messages(&app, &c.admin, "").await["count"],
        0,
        "refused messages are not stored"
    );

    for _ in 0..2 {
        let (status, _) = post_inbound(&app, &params, None).await;
        assert_eq!(status, StatusCode::OK, "a replay is acknowledged");
    }
    let listed = messages(&app, &c.admin, "").await;
    assert_eq!(listed["count"], 1, "stored once: {listed}");
    let m = &listed["results"][0];
    assert_eq!(
        (
            m["sender"].as_str(),
            m["user"].as_i64(),
            m["username"].as_str()
        ),
        (Some("+12025550102"), Some(c.client_id), Some("client"))
    );
    assert_eq!(
        (
            m["body"].as_str(),
            m["command"].as_str(),
            m["outcome"].as_str()
        ),
        (Some("HELP"), Some("help"), Some("help"))
    );
    assert!(reply_text(&app, &c.admin, m)
        .await
        .contains("APPROVE <ticket>"));

    // An unknown number is stored and logged, and gets no answer.
    let stranger = says(&app, &c.admin, "whatsapp:+447700900123", "APPROVE 1").await;
    assert_eq!(
        (
            stranger["user"].clone(),
            stranger["outcome"].as_str(),
            stranger["reply"].clone()
        ),
        (Value::Null, Some("unknown_sender"), Value::Null)
    );

    // Filters and pagination shape; non-admins are refused in the contract's shape.
    assert_eq!(
        messages(&app, &c.admin, &format!("?user={}", c.client_id)).await["count"],
        1
    );
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        messages(&app, &c.admin, &format!("?date={today}")).await["count"],
        2
    );
    assert_eq!(
        messages(&app, &c.admin, "?date=2001-01-01").await["count"],
        0
    );
    let (status, body) = app
        .get("/api/whatsapp/messages/?date=yesterday", &c.admin)
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"date": ["Enter a valid date."]})
        )
    );
    let listed = messages(&app, &c.admin, "").await;
    assert_eq!(
        crate::common::keys(&listed),
        ["count", "next", "previous", "results"]
    );
    let (status, body) = app.get("/api/whatsapp/messages/", &c.client).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "You do not have permission to perform this action."})
        )
    );

    // The sender's window is open, and the profile says until when.
    let (_, user) = app
        .get(&format!("/api/users/{}/", c.client_id), &c.admin)
        .await;
    assert_eq!(user["whatsapp_window_open"], true, "{user}");
    assert!(user["whatsapp_window_open_until"].is_string());
    assert_eq!(user["whatsapp_opted_out_at"], Value::Null);
    let (_, admin) = app.get("/api/profiles/", &c.admin).await;
    let own = admin["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["username"] == "admin")
        .unwrap()
        .clone();
    assert_eq!(
        (
            own["whatsapp_window_open"].clone(),
            own["whatsapp_window_open_until"].clone()
        ),
        (json!(false), Value::Null)
    );
}

async fn replies_approve_reject_and_answer_with_the_apis_rules(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let id = resolved_ticket(&app, &c).await;

    let short = says(&app, &c.admin, CLIENT, &format!("reject {id} too short")).await;
    assert_eq!(
        (short["outcome"].as_str(), short["ticket"].as_i64()),
        (Some("refused"), Some(id))
    );
    assert!(reply_text(&app, &c.admin, &short)
        .await
        .contains("at least 10 characters"));
    let bare = says(&app, &c.admin, CLIENT, &format!("REJECT #{id}")).await;
    assert!(reply_text(&app, &c.admin, &bare).await.contains("Say why"));

    let rejected = says(
        &app,
        &c.admin,
        CLIENT,
        &format!("#REJECT {id} the login still fails on Safari"),
    )
    .await;
    assert_eq!(rejected["outcome"], "rejected");
    assert_eq!(ticket_status(&app, &c, id).await, "IN_PROGRESS");
    let (_, t) = app.get(&format!("/api/tickets/{id}/"), &c.admin).await;
    assert!(
        t["history"]
            .to_string()
            .contains("the login still fails on Safari"),
        "the same history as the API"
    );
    // The same notifications as the API's reject: the developer hears of it.
    let log = whatsapp_log(&app, &c.admin).await;
    assert!(
        log.iter()
            .any(|r| r["event"] == "ticket_rejected" && r["recipient"] == c.dev_id),
        "{log:#?}"
    );

    let early = says(&app, &c.admin, CLIENT, &format!("approve {id}")).await;
    assert_eq!(early["outcome"], "refused");
    assert!(reply_text(&app, &c.admin, &early)
        .await
        .contains("not awaiting your approval (it is In Progress)"));

    let status = says(&app, &c.admin, CLIENT, &format!("Status {id}")).await;
    assert_eq!(status["outcome"], "answered");
    assert!(reply_text(&app, &c.admin, &status)
        .await
        .contains("is In Progress"));
    let unseen = says(&app, &c.admin, CLIENT, "STATUS 999").await;
    assert!(reply_text(&app, &c.admin, &unseen)
        .await
        .contains("#999 was not found"));
    assert_eq!(unseen["ticket"], Value::Null);

    let body = json!({"comment": "Fixed it for Safari too"});
    let (s, _) = app
        .post(&format!("/api/tickets/{id}/finish_work/"), &c.dev, body)
        .await;
    assert_eq!(s, StatusCode::OK);
    // The developer is no creator: refused as the API refuses them.
    let dev = says(
        &app,
        &c.admin,
        "whatsapp:+12025550103",
        &format!("APPROVE {id}"),
    )
    .await;
    assert_eq!(dev["outcome"], "refused");
    assert_eq!(ticket_status(&app, &c, id).await, "RESOLVED");

    let approved = says(&app, &c.admin, CLIENT, &format!("APPROVE {id}")).await;
    assert_eq!(
        (approved["command"].as_str(), approved["outcome"].as_str()),
        (Some("approve"), Some("approved"))
    );
    assert_eq!(ticket_status(&app, &c, id).await, "CLOSED");
    assert!(reply_text(&app, &c.admin, &approved)
        .await
        .contains("is closed"));

    let other = says(&app, &c.admin, CLIENT, "good morning").await;
    assert_eq!(
        (other["command"].as_str(), other["outcome"].as_str()),
        (Some("unknown"), Some("not_a_command"))
    );
    assert!(reply_text(&app, &c.admin, &other)
        .await
        .contains("Commands:"));

    // Replies go out as text (the window is open: they just wrote) to the sender.
    let log = settled(&app, &c.admin).await;
    let replies: Vec<&Value> = log
        .iter()
        .filter(|r| r["event"] == "whatsapp_reply")
        .collect();
    assert!(
        replies
            .iter()
            .all(|r| r["status"] == "SENT" && r["whatsapp_path"] == "text_in_window"),
        "{replies:#?}"
    );
    assert_eq!(
        messages(&app, &c.admin, &format!("?ticket={id}")).await["count"],
        7
    );
}

async fn a_bare_command_or_button_applies_to_the_only_ticket_awaiting_approval(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let none = says(&app, &c.admin, CLIENT, "approve").await;
    assert!(reply_text(&app, &c.admin, &none)
        .await
        .contains("no ticket awaiting your approval"));

    let first = resolved_ticket(&app, &c).await;
    let button = says_with(
        &app,
        &c.admin,
        CLIENT,
        "Reject",
        &[("ButtonPayload", "REJECT"), ("ButtonText", "Reject")],
    )
    .await;
    assert!(reply_text(&app, &c.admin, &button)
        .await
        .contains(&format!("REJECT {first} <reason>")));
    let rejected = says(
        &app,
        &c.admin,
        CLIENT,
        "reject the page is still blank for me",
    )
    .await;
    assert_eq!(
        (rejected["outcome"].as_str(), rejected["ticket"].as_i64()),
        (Some("rejected"), Some(first))
    );

    let second = resolved_ticket(&app, &c).await;
    let approved = says_with(
        &app,
        &c.admin,
        CLIENT,
        "Approve",
        &[("ButtonPayload", "APPROVE")],
    )
    .await;
    assert_eq!(
        (approved["outcome"].as_str(), approved["ticket"].as_i64()),
        (Some("approved"), Some(second))
    );

    let third = resolved_ticket(&app, &c).await;
    let (s, _) = app
        .post(
            &format!("/api/tickets/{first}/finish_work/"),
            &c.dev,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let several = says(&app, &c.admin, CLIENT, "APPROVE").await;
    let text = reply_text(&app, &c.admin, &several).await;
    assert!(text.contains(&format!("#{first}, #{third}")), "{text}");
    assert_eq!(ticket_status(&app, &c, third).await, "RESOLVED");
}

fn with_template(c: &mut incident::config::Config) {
    c.twilio.content_sids =
        HashMap::from([("ticket_created".to_string(), CREATED_SID.to_string())]);
}

/// The requests that created messages to `to`, as `(ContentSid, Body)`.
async fn sent_to(fake: &MockServer, to: &str) -> Vec<(String, String)> {
    fake.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && field(r, "To") == to)
        .map(|r| (field(r, "ContentSid"), field(r, "Body")))
        .collect()
}

on_both_engines!(the_window_sends_text_inside_and_the_template_outside);

async fn the_window_sends_text_inside_and_the_template_outside(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app_with(engine, &fake, with_template).await;
    let c = cast_with_numbers(&app).await;
    // Never wrote: the template.
    new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert_eq!(log[0]["whatsapp_path"], "template_outside_window");
    assert_eq!(
        sent_to(&fake, ADMIN).await,
        [(CREATED_SID.to_string(), String::new())]
    );

    // Wrote a minute ago: the text.
    says(&app, &c.admin, ADMIN, "help").await;
    settled(&app, &c.admin).await;
    new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    let row = log
        .iter()
        .find(|r| r["event"] == "ticket_created" && r["whatsapp_path"] == "text_in_window");
    assert!(row.is_some(), "{log:#?}");
    assert!(sent_to(&fake, ADMIN)
        .await
        .iter()
        .any(|(sid, body)| sid.is_empty() && body.contains("Login broken")));

    // The same row due 25 hours later: the window has closed, the template again.
    new_ticket(&app, &c.client).await;
    let later = Utc::now() + Duration::hours(25);
    // The WhatsApp row (and the ticket's e-mail rows, which take no WhatsApp path).
    assert!(app.worker().deliver_due_at(later).await.unwrap() >= 1);
    let log = whatsapp_log(&app, &c.admin).await;
    assert_eq!(
        (log[0]["status"].as_str(), log[0]["whatsapp_path"].as_str()),
        (Some("SENT"), Some("template_outside_window"))
    );
    assert_eq!(
        sent_to(&fake, ADMIN)
            .await
            .iter()
            .filter(|(sid, _)| sid == CREATED_SID)
            .count(),
        2
    );
}

async fn without_a_template_the_outside_window_policy_decides(engine: Engine) {
    use incident::domain::whatsapp::OutsideWindow;
    for (policy, status, path, code) in [
        (
            OutsideWindow::Template,
            "SENT",
            "text_outside_window_no_template",
            Value::Null,
        ),
        (
            OutsideWindow::Send,
            "SENT",
            "text_outside_window_by_policy",
            Value::Null,
        ),
        (
            OutsideWindow::Skip,
            "FAILED",
            "skipped_outside_window",
            json!("outside_window"),
        ),
    ] {
        let fake = fake_twilio(created()).await;
        let app = twilio_app_with(engine, &fake, |cfg| cfg.worker.outside_window = policy).await;
        let c = cast_with_numbers(&app).await;
        new_ticket(&app, &c.client).await;
        let row = settled(&app, &c.admin).await[0].clone();
        assert_eq!(
            (
                row["status"].as_str(),
                row["whatsapp_path"].as_str(),
                row["error_code"].clone()
            ),
            (Some(status), Some(path), code),
            "{policy:?}: {row}"
        );
        assert_eq!(
            sent_to(&fake, ADMIN).await.len(),
            usize::from(status == "SENT")
        );
    }
    // `send` sends the text even where a template is configured.
    let fake = fake_twilio(created()).await;
    let app = twilio_app_with(engine, &fake, |cfg| {
        with_template(cfg);
        cfg.worker.outside_window = OutsideWindow::Send;
    })
    .await;
    let c = cast_with_numbers(&app).await;
    new_ticket(&app, &c.client).await;
    settled(&app, &c.admin).await;
    assert!(sent_to(&fake, ADMIN).await[0].0.is_empty());
}

async fn stop_fails_whatsapp_rows_at_once_until_start(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let app = twilio_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let stop = says(&app, &c.admin, ADMIN, "STOP").await;
    assert_eq!(
        (
            stop["command"].as_str(),
            stop["outcome"].as_str(),
            stop["reply"].clone()
        ),
        (Some("stop"), Some("opted_out"), Value::Null)
    );
    let admin = user_json(&app, &c, "admin").await;
    assert!(admin["whatsapp_opted_out_at"].is_string(), "{admin}");

    new_ticket(&app, &c.client).await;
    let row = settled(&app, &c.admin).await[0].clone();
    assert_eq!(
        (
            row["status"].as_str(),
            row["error_code"].as_str(),
            row["whatsapp_path"].as_str()
        ),
        (Some("FAILED"), Some("opted_out"), Some("opted_out"))
    );
    assert!(
        sent_to(&fake, ADMIN).await.is_empty(),
        "nothing reaches an opted-out user"
    );

    let start = says(&app, &c.admin, ADMIN, "start").await;
    assert_eq!(start["outcome"], "opted_in");
    new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    assert!(
        log.iter().filter(|r| r["status"] == "SENT").count() == 2,
        "the START reply and the new ticket: {log:#?}"
    );
    assert_eq!(
        user_json(&app, &c, "admin").await["whatsapp_opted_out_at"],
        Value::Null
    );

    // Twilio's Advanced Opt-Out says STOP whatever the words.
    let stop = says_with(&app, &c.admin, CLIENT, "arrêtez", &[("OptOutType", "STOP")]).await;
    assert_eq!(stop["outcome"], "opted_out");
}

async fn meta_messages_are_stored_once_and_answered(engine: Engine) {
    let fake = MockServer::start().await;
    let app = crate::meta::meta_app(engine, &fake).await;
    let c = cast_with_numbers(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let payload = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "contacts": [{"wa_id": "12025550102", "profile": {"name": "Carl"}}],
        "messages": [{"id": "wamid.inbound1", "from": "12025550102", "timestamp": "1766000000", "type": "button",
                      "button": {"payload": format!("APPROVE {id}"), "text": "Approve"}}]}}]}]})
    .to_string();
    for _ in 0..2 {
        let r = app
            .client
            .post(app.url("/api/webhooks/meta/"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", crate::meta::sign(&payload))
            .body(payload.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let listed = messages(&app, &c.admin, "").await;
    assert_eq!(listed["count"], 1, "{listed}");
    let m = &listed["results"][0];
    assert_eq!(
        (
            m["provider"].as_str(),
            m["sender"].as_str(),
            m["outcome"].as_str()
        ),
        (Some("meta"), Some("+12025550102"), Some("approved"))
    );
    assert_eq!(ticket_status(&app, &c, id).await, "CLOSED");
    let bad = app
        .client
        .post(app.url("/api/webhooks/meta/"))
        .header("x-hub-signature-256", "sha256=00")
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
}
