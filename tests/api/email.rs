//! E-mail through the outbox, against a real SMTP conversation (`smtp_sink`): who gets which
//! e-mail per event (contract §8.2, once per step), the HTML escaping of user text, retries on
//! 4xx, failures on 5xx and on a refused login with the fix, rows failed while e-mail was not
//! configured and sent after, and the fallback of failed WhatsApp messages.

use std::time::Duration;

use incident::config::{Config, Secret, SmtpSecurity};
use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::MockServer;

use crate::common::{Engine, TestApp};
use crate::on_both_engines;
use crate::smtp_sink::{Answer, SmtpSink};
use crate::tickets::{cast_with_numbers, Cast};
use crate::whatsapp::{created, fake_twilio, twilio_app_with, twilio_error, METRICS_TOKEN};

pub const SMTP_USER: &str = "support@example.com";
pub const SMTP_PASSWORD: &str = "abcd efgh ijkl mnop";

/// Points the configuration's e-mail at `sink` (plain TCP, logging in).
pub fn use_sink(c: &mut Config, sink: &SmtpSink) {
    c.email.host = Some(sink.addr.ip().to_string());
    c.email.port = sink.addr.port();
    c.email.security = SmtpSecurity::None;
    c.email.user = SMTP_USER.to_string();
    c.email.password = Secret::new(SMTP_PASSWORD);
    c.email.from = "Incident Desk <support@example.com>".to_string();
    c.email.timeout = Duration::from_millis(800);
}

/// The app with Twilio at `fake` and e-mail at `sink`; the test delivers.
async fn email_app(engine: Engine, fake: &MockServer, sink: &SmtpSink) -> TestApp {
    let sink = sink.clone();
    twilio_app_with(engine, fake, move |c| use_sink(c, &sink)).await
}

/// The e-mail rows as the admin sees them, newest first.
pub async fn email_log(app: &TestApp, admin: &str) -> Vec<Value> {
    let (status, body) = app
        .get("/api/notifications/?notification_type=EMAIL", admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

/// Delivers until nothing is due (retries due at once), then returns the e-mail log.
async fn settle(app: &TestApp, admin: &str) -> Vec<Value> {
    let worker = app.worker();
    let ahead = chrono::Duration::from_std(app.state.config.worker.backoff_max).unwrap();
    for _ in 0..20 {
        let claimed = worker
            .deliver_due_at(chrono::Utc::now() + ahead)
            .await
            .expect("deliver");
        if claimed == 0 {
            return email_log(app, admin).await;
        }
    }
    panic!(
        "rows still being retried: {:#?}",
        email_log(app, admin).await
    );
}

/// (recipient, subject) of what the sink received since `from`, sorted.
fn mails(sink: &SmtpSink, from: usize) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = sink.received()[from..]
        .iter()
        .map(|m| (m.to.join(","), m.subject()))
        .collect();
    v.sort();
    v
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

async fn act(app: &TestApp, id: i64, action: &str, token: &str, body: Value) {
    let (status, resp) = app
        .post(&format!("/api/tickets/{id}/{action}/"), token, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {resp}");
}

on_both_engines!(
    every_event_emails_the_right_people_once,
    user_text_is_escaped_in_the_html_part,
    a_4xx_is_retried_then_sent,
    a_5xx_fails_at_once_with_its_code,
    a_refused_login_fails_with_the_app_password_fix,
    rows_failed_while_not_configured_are_sent_by_retry_failed,
    a_user_without_an_address_gets_no_email_row,
    a_failed_whatsapp_message_falls_back_to_email_once,
    no_fallback_when_the_recipient_turned_email_off,
    the_console_sends_a_test_email_and_explains_a_refusal,
);

async fn every_event_emails_the_right_people_once(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    let app = email_app(engine, &fake, &sink).await;
    let c: Cast = cast_with_numbers(&app).await;
    let (a, cl, d) = ("admin@example.com", "client@example.com", "dev@example.com");

    let id = crate::tickets::new_ticket(&app, &c.client).await;
    let log = settle(&app, &c.admin).await;
    assert_eq!(
        mails(&sink, 0),
        pairs(&[(a, "New Ticket Created - Login broken")])
    );
    let created = &sink.received()[0];
    assert_eq!(created.from, "support@example.com");
    let from = created.header("From").unwrap();
    assert!(
        from.contains("Incident Desk") && from.ends_with("<support@example.com>"),
        "{from}"
    );
    let text = created.text();
    for fact in [
        "Hello Ada Admin",
        "Created by: Carl Client",
        "Priority: High",
        "Users cannot log in",
    ] {
        assert!(text.contains(fact), "{fact} in {text}");
    }
    let html = created.html();
    assert!(
        html.contains(&format!(
            "href=\"http://localhost:8000/admin/core/ticket/{id}/change/\""
        )),
        "{html}"
    );
    // The row stores the plain text, as the original did, and how it went.
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "SENT");
    assert_eq!(log[0]["provider"], "smtp");
    assert_eq!(log[0]["subject"], "New Ticket Created - Login broken");
    assert_eq!(
        log[0]["message"].as_str().unwrap().trim_end(),
        // SMTP carries lines ended by CRLF; the row stores the text as rendered.
        text.replace("\r\n", "\n").trim_end()
    );
    assert_eq!(log[0]["fallback_of"], Value::Null);
    assert_eq!(
        sink.logins()[0],
        (SMTP_USER.to_string(), SMTP_PASSWORD.to_string())
    );

    #[allow(clippy::type_complexity)]
    let script: Vec<(&str, &str, Value, Vec<(&str, &str)>)> = vec![
        (
            "open_ticket",
            "admin",
            json!({}),
            vec![(cl, "Your Ticket Has Been Opened - Login broken")],
        ),
        (
            "assign",
            "admin",
            json!({"assigned_to": [c.dev_id]}),
            vec![(d, "New Task Assigned - Login broken")],
        ),
        (
            "start_work",
            "dev",
            json!({}),
            vec![(cl, "Work Started on Your Ticket - Login broken")],
        ),
        ("start_work", "dev", json!({}), vec![]),
        (
            "finish_work",
            "dev",
            json!({}),
            vec![
                (cl, "Your Ticket Has Been Resolved - Awaiting Approval"),
                (
                    a,
                    "Ticket Resolved - Awaiting Client Approval - Login broken",
                ),
            ],
        ),
        (
            "reject",
            "client",
            json!({"comment": "Still broken on Safari"}),
            vec![],
        ),
        (
            "finish_work",
            "dev",
            json!({}),
            vec![
                (cl, "Your Ticket Has Been Resolved - Awaiting Approval"),
                (
                    a,
                    "Ticket Resolved - Awaiting Client Approval - Login broken",
                ),
            ],
        ),
        (
            "approve",
            "client",
            json!({}),
            vec![
                (a, "Ticket Closed - Login broken"),
                (d, "Ticket Closed - Login broken"),
            ],
        ),
    ];
    for (action, who, body, expected) in script {
        let token = match who {
            "admin" => &c.admin,
            "dev" => &c.dev,
            _ => &c.client,
        };
        let before = sink.received().len();
        act(&app, id, action, token, body).await;
        settle(&app, &c.admin).await;
        assert_eq!(mails(&sink, before), pairs(&expected), "after {action}");
        if action == "assign" {
            let html = sink.received()[before].html();
            assert!(
                html.contains(&format!("href=\"http://localhost:8000/api/tickets/{id}/\"")),
                "{html}"
            );
        }
    }
    let log = email_log(&app, &c.admin).await;
    assert!(log.iter().all(|r| r["status"] == "SENT"), "{log:#?}");
    assert_eq!(log.len(), sink.received().len());
    // Stats and filters count e-mail like WhatsApp.
    let (_, stats) = app.get("/api/notifications/stats/", &c.admin).await;
    assert_eq!(stats["EMAIL"]["SENT"], log.len());
    let (_, sent) = app
        .get(
            "/api/notifications/?notification_type=EMAIL&status=SENT",
            &c.admin,
        )
        .await;
    assert_eq!(sent["count"], log.len());
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("notifications_total")
            && l.contains(r#"type="EMAIL""#)
            && l.contains(r#"provider="smtp""#)
            && l.contains(r#"outcome="sent""#)),
        "{metrics}"
    );
}

async fn user_text_is_escaped_in_the_html_part(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    let body = json!({"title": "<script>alert(1)</script>", "description": "a & b <b>bold</b>",
                      "priority": "LOW", "category": "BUG"});
    crate::tickets::created_ticket(&app, &c.client, body).await;
    settle(&app, &c.admin).await;
    let mail = &sink.received()[0];
    assert_eq!(
        mail.subject(),
        "New Ticket Created - <script>alert(1)</script>"
    );
    let html = mail.html();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("a &amp; b &lt;b&gt;bold&lt;"), "{html}");
    // The plain text is text: nothing to escape.
    assert!(
        mail.text().contains("Title: <script>alert(1)</script>"),
        "{}",
        mail.text()
    );
}

async fn a_4xx_is_retried_then_sent(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    sink.answer_next(&[Answer::Transient, Answer::Transient]);
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let worker = app.worker();
    worker.deliver_due().await.unwrap();
    let log = email_log(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "PENDING", "{log:#?}");
    assert_eq!(log[0]["error_code"], "smtp_451");
    assert!(
        log[0]["error_message"].as_str().unwrap().contains("451"),
        "{log:#?}"
    );
    let log = settle(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(sink.received().len(), 1, "sent once, when accepted");
}

on_both_engines!(a_slow_server_times_out_and_is_retried_on_one_connection);

async fn a_slow_server_times_out_and_is_retried_on_one_connection(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    sink.slow(Duration::from_millis(1500));
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    app.worker().deliver_due().await.unwrap();
    let log = email_log(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "PENDING", "{log:#?}");
    assert_eq!(log[0]["error_code"], "timeout", "{log:#?}");
    sink.slow(Duration::ZERO);
    let log = settle(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    // Three more steps' e-mails, each delivered before the next step, go through the pooled
    // connection, not one connection each.
    let opened = sink.connections();
    let before = sink.received().len();
    let id = crate::tickets::new_ticket(&app, &c.client).await;
    settle(&app, &c.admin).await;
    act(&app, id, "open_ticket", &c.admin, json!({})).await;
    settle(&app, &c.admin).await;
    act(
        &app,
        id,
        "assign",
        &c.admin,
        json!({"assigned_to": [c.dev_id]}),
    )
    .await;
    settle(&app, &c.admin).await;
    assert!(sink.received().len() >= before + 3);
    assert!(
        sink.connections() <= opened + 1,
        "{} connections",
        sink.connections()
    );
}

async fn a_5xx_fails_at_once_with_its_code(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    sink.answer_next(&[Answer::Permanent]);
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settle(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "FAILED", "{log:#?}");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["error_code"], "smtp_550");
    let message = log[0]["error_message"].as_str().unwrap();
    assert!(
        message.contains("550") && message.contains("does not exist"),
        "{message}"
    );
    assert!(
        message.contains("Check the user's e-mail address"),
        "{message}"
    );
    assert!(sink.received().is_empty());
}

async fn a_refused_login_fails_with_the_app_password_fix(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    sink.require_login(SMTP_USER, "the-real-app-password");
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settle(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "FAILED", "{log:#?}");
    assert_eq!(log[0]["error_code"], "smtp_535");
    let message = log[0]["error_message"].as_str().unwrap();
    assert!(message.contains("535"), "{message}");
    assert!(
        message.contains("app password") && message.contains("2-Step Verification"),
        "{message}"
    );
    // The password itself is never written anywhere.
    assert!(!message.contains(SMTP_PASSWORD));
}

async fn rows_failed_while_not_configured_are_sent_by_retry_failed(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    let app = twilio_app_with(engine, &fake, |_| {}).await;
    assert!(!app.state.mailer.is_configured());
    let c = cast_with_numbers(&app).await;
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settle(&app, &c.admin).await;
    assert_eq!(log[0]["status"], "FAILED");
    assert_eq!(log[0]["error_code"], "not_configured");
    let message = log[0]["error_message"].as_str().unwrap();
    assert!(
        message.contains("E-mail not configured: set EMAIL_HOST"),
        "{message}"
    );
    assert!(
        message.contains("retry_failed/?notification_type=EMAIL"),
        "{message}"
    );
    // The same database, restarted with EMAIL_HOST set.
    let sink_for = sink.clone();
    let configured = app.replica_with(move |c| use_sink(c, &sink_for)).await;
    let (status, body) = configured
        .post(
            "/api/notifications/retry_failed/?notification_type=EMAIL",
            &c.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 1);
    let log = settle(&configured, &c.admin).await;
    assert_eq!(log[0]["status"], "SENT", "{log:#?}");
    assert_eq!(
        mails(&sink, 0),
        pairs(&[("admin@example.com", "New Ticket Created - Login broken")])
    );
}

async fn a_user_without_an_address_gets_no_email_row(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    let silent = app
        .create_user_with("silent_admin", Role::Admin, "", "", None)
        .await;
    // Django allows a blank address.
    incident::on_write!(app.db.write().await, p => sqlx::query("UPDATE users SET email = '' WHERE id = $1")
        .bind(silent).execute(p).await.map(|_| ()))
    .unwrap();
    crate::tickets::new_ticket(&app, &c.client).await;
    let log = settle(&app, &c.admin).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["recipient_name"], "Ada Admin");
    assert_eq!(
        mails(&sink, 0),
        pairs(&[("admin@example.com", "New Ticket Created - Login broken")])
    );
}

/// A ticket taken to a rejection, with every WhatsApp message refused (an invalid number):
/// returns the ticket id.
async fn rejected_ticket(app: &TestApp, c: &Cast) -> i64 {
    let id = crate::tickets::new_ticket(app, &c.client).await;
    act(app, id, "open_ticket", &c.admin, json!({})).await;
    act(
        app,
        id,
        "assign",
        &c.admin,
        json!({"assigned_to": [c.dev_id]}),
    )
    .await;
    act(app, id, "start_work", &c.dev, json!({})).await;
    act(app, id, "finish_work", &c.dev, json!({})).await;
    settle(app, &c.admin).await;
    act(
        app,
        id,
        "reject",
        &c.client,
        json!({"comment": "Still broken on Safari"}),
    )
    .await;
    settle(app, &c.admin).await;
    id
}

async fn whatsapp_rows(app: &TestApp, admin: &str) -> Vec<Value> {
    crate::whatsapp::whatsapp_log(app, admin).await
}

async fn a_failed_whatsapp_message_falls_back_to_email_once(engine: Engine) {
    let fake = fake_twilio(twilio_error(
        400,
        21211,
        "The 'To' number is not a valid phone number.",
    ))
    .await;
    let sink = SmtpSink::start().await;
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    let before_reject = {
        let id = crate::tickets::new_ticket(&app, &c.client).await;
        settle(&app, &c.admin).await;
        id
    };
    // The admin's WhatsApp failed, but the step e-mailed them already: no second e-mail.
    assert_eq!(
        mails(&sink, 0),
        pairs(&[("admin@example.com", "New Ticket Created - Login broken")])
    );
    assert!(email_log(&app, &c.admin)
        .await
        .iter()
        .all(|r| r["fallback_of"].is_null()));
    let _ = before_reject;

    rejected_ticket(&app, &c).await;
    let wa = whatsapp_rows(&app, &c.admin).await;
    let to_dev = wa
        .iter()
        .find(|r| r["event"] == "ticket_rejected")
        .expect("the rejection's WhatsApp row");
    assert_eq!(to_dev["status"], "FAILED");
    assert_eq!(to_dev["error_code"], "21211");
    let log = email_log(&app, &c.admin).await;
    let fallbacks: Vec<&Value> = log.iter().filter(|r| !r["fallback_of"].is_null()).collect();
    assert_eq!(fallbacks.len(), 1, "{log:#?}");
    let fb = fallbacks[0];
    assert_eq!(fb["fallback_of"], to_dev["id"]);
    assert_eq!(fb["event"], "ticket_rejected");
    assert_eq!(fb["status"], "SENT");
    assert_eq!(fb["recipient"], c.dev_id);
    let mail = sink
        .received()
        .into_iter()
        .find(|m| m.subject().starts_with("Ticket Rejected"))
        .unwrap();
    assert_eq!(mail.to, ["dev@example.com"]);
    assert_eq!(mail.subject(), "Ticket Rejected - Login broken");
    assert!(
        mail.text().contains("Still broken on Safari"),
        "{}",
        mail.text()
    );
    // Never twice: the failure reported again writes nothing.
    let failed = to_dev["id"].as_i64().unwrap();
    assert_eq!(
        app.state.fallback().after_failure(&app.db, failed).await,
        None
    );
    // And an e-mail never falls back.
    let fb_id = fb["id"].as_i64().unwrap();
    assert_eq!(
        app.state.fallback().after_failure(&app.db, fb_id).await,
        None
    );
    settle(&app, &c.admin).await;
    let rejected_mails = sink
        .received()
        .iter()
        .filter(|m| m.subject().starts_with("Ticket Rejected"))
        .count();
    assert_eq!(rejected_mails, 1);
}

async fn no_fallback_when_the_recipient_turned_email_off(engine: Engine) {
    let fake = fake_twilio(twilio_error(
        400,
        21211,
        "The 'To' number is not a valid phone number.",
    ))
    .await;
    let sink = SmtpSink::start().await;
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    let (status, body) = app
        .put(
            "/api/profile/notifications/",
            &c.dev,
            json!({"events": {"ticket_rejected": {"EMAIL": false}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rejected_ticket(&app, &c).await;
    let log = email_log(&app, &c.admin).await;
    assert!(log.iter().all(|r| r["fallback_of"].is_null()), "{log:#?}");
    assert!(!sink
        .received()
        .iter()
        .any(|m| m.subject().starts_with("Ticket Rejected")));
}

on_both_engines!(a_reported_undelivered_message_falls_back_to_email);

async fn a_reported_undelivered_message_falls_back_to_email(engine: Engine) {
    // A SID per message, as Twilio answers, so the callback names the rejection's row alone.
    let fake = crate::twilio_fake::TwilioFake::default().start().await;
    let sink = SmtpSink::start().await;
    let app = email_app(engine, &fake, &sink).await;
    let c = cast_with_numbers(&app).await;
    rejected_ticket(&app, &c).await;
    let wa = whatsapp_rows(&app, &c.admin).await;
    let to_dev = wa
        .iter()
        .find(|r| r["event"] == "ticket_rejected")
        .unwrap()
        .clone();
    assert_eq!(to_dev["status"], "SENT");
    let sid = to_dev["provider_message_id"].as_str().unwrap().to_string();
    crate::whatsapp_delivery::callback(&app, &sid, "undelivered", Some("63024")).await;
    crate::whatsapp_delivery::callback(&app, &sid, "failed", Some("63024")).await;
    let log = settle(&app, &c.admin).await;
    let fallbacks: Vec<&Value> = log
        .iter()
        .filter(|r| r["fallback_of"] == to_dev["id"])
        .collect();
    assert_eq!(fallbacks.len(), 1, "{log:#?}");
    assert_eq!(fallbacks[0]["status"], "SENT");
    let rejected = sink
        .received()
        .iter()
        .filter(|m| m.subject() == "Ticket Rejected - Login broken")
        .count();
    assert_eq!(rejected, 1);
}

async fn the_console_sends_a_test_email_and_explains_a_refusal(engine: Engine) {
    let fake = fake_twilio(created()).await;
    let sink = SmtpSink::start().await;
    let app = email_app(engine, &fake, &sink).await;
    let (mut c, _) = crate::console::Console::admin(&app, "boss").await;
    let page = c.get("/admin/diagnostics/").await;
    let server = format!("{}:{}", sink.addr.ip(), sink.addr.port());
    assert!(
        page.body.contains(&server) && page.body.contains("support@example.com"),
        "the SMTP server and sender: {}",
        page.body
    );
    let token = page.csrf();
    let sent = c
        .post(
            "/admin/diagnostics/email/",
            &[
                ("to", "ops@example.com"),
                ("message", "Hello from diagnostics"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert!(
        sent.body.contains("id=\"email-result\"") && sent.body.contains("Sent to ops@example.com"),
        "{}",
        sent.body
    );
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["ops@example.com"]);
    assert_eq!(
        received[0].subject(),
        incident::service::diagnostics::TEST_SUBJECT
    );
    assert!(received[0].text().contains("Hello from diagnostics"));

    sink.answer_next(&[Answer::Permanent]);
    let refused = c
        .post(
            "/admin/diagnostics/email/",
            &[("to", "nobody@example.com"), ("csrf_token", &token)],
        )
        .await;
    assert!(
        refused.body.contains("E-mail send failed")
            && refused.body.contains("550")
            && refused.body.contains("Cause and fix"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"nobody@example.com\""),
        "the form keeps the address: {}",
        refused.body
    );
    assert_eq!(sink.received().len(), 1);
}
