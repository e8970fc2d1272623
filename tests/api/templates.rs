//! Message templates: a `TEMPLATES_DIR` override changes what is sent, and the admin preview
//! renders any event for a real ticket and recipient without sending it.

use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{Engine, TestApp};
use crate::tickets::{assign_dev, cast_with_numbers, created_ticket, new_ticket};
use crate::whatsapp::{created, fake_twilio, field, settled, twilio_app_with};
use crate::{on_both_databases, on_both_engines};

on_both_engines!(an_override_folder_changes_the_sent_whatsapp_text);

async fn an_override_folder_changes_the_sent_whatsapp_text(engine: Engine) {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("ticket_created.admin.whatsapp.txt"),
        "{# our own words #}New ticket #{{ ticket_id }} from {{ creator_name }}: {{ title }} ({{ priority_label }})\n",
    )
    .unwrap();
    let fake = fake_twilio(created()).await;
    let dir = folder.path().to_path_buf();
    let app = twilio_app_with(engine, &fake, |c| c.templates_dir = Some(dir)).await;
    let c = cast_with_numbers(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let log = settled(&app, &c.admin).await;
    let expected = format!("New ticket #{id} from Carl Client: Login broken (High)");
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["message"], expected.as_str());
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(field(&requests[0], "Body"), expected);
    // The texts not overridden are the built-in ones.
    let (_, bell) = app.get("/api/notifications/", &c.admin).await;
    assert_eq!(bell["results"][0]["subject"], "Ticket Created", "{bell}");
}

on_both_databases!(
    preview_renders_each_channel_without_sending,
    preview_names_the_bad_field,
);

/// `GET /api/notifications/preview/?...` as `token`.
async fn preview(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    app.get(&format!("/api/notifications/preview/?{query}"), token)
        .await
}

async fn preview_renders_each_channel_without_sending(app: TestApp) {
    let c = cast_with_numbers(&app).await;
    let body = json!({"title": "<script>alert(1)</script>", "description": "It <b>breaks</b>",
                      "priority": "HIGH", "category": "BUG", "project_name": "Portal"});
    let id = created_ticket(&app, &c.client, body).await["id"]
        .as_i64()
        .unwrap();
    assign_dev(&app, &c, id).await;
    let before = app
        .get("/api/notifications/?notification_type=WHATSAPP", &c.admin)
        .await
        .1["count"]
        .clone();

    let (status, wa) = preview(
        &app,
        &c.admin,
        &format!("event=ticket_created&ticket={id}&channel=whatsapp"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{wa}");
    assert_eq!(wa["event"], "ticket_created");
    assert_eq!(wa["channel"], "WHATSAPP");
    assert_eq!(wa["recipient_name"], "Ada Admin");
    assert_eq!(wa["template"], "ticket_created.admin.whatsapp.txt");
    assert_eq!(wa["subject"], "WhatsApp Notification");
    assert!(
        wa["body"]
            .as_str()
            .unwrap()
            .contains("*Title:* <script>alert(1)</script>\n"),
        "{wa}"
    );
    assert_eq!(
        wa["variables"],
        json!([
            "Carl Client",
            "<script>alert(1)</script>",
            "Portal",
            "HIGH",
            "BUG",
            "It <b>breaks</b>"
        ])
    );
    assert!(wa.get("html").is_none());

    // The e-mail's HTML escapes the ticket's text; its plain text does not.
    let q = format!(
        "event=ticket_assigned&ticket={id}&channel=EMAIL&recipient={}",
        c.dev_id
    );
    let (status, mail) = preview(&app, &c.admin, &q).await;
    assert_eq!(status, StatusCode::OK, "{mail}");
    assert_eq!(mail["recipient"], c.dev_id);
    assert_eq!(
        mail["subject"],
        "New Task Assigned - <script>alert(1)</script>"
    );
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .starts_with("Hello Dev Eloper,\n"),
        "{mail}"
    );
    assert!(mail["body"].as_str().unwrap().contains("It <b>breaks</b>"));
    let html = mail["html"].as_str().unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") && !html.contains("<script>"),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"http://localhost:8000/api/tickets/{id}/\"")),
        "{html}"
    );
    assert_eq!(mail["variables"], json!([]));

    let q = format!("event=ticket_rejected&ticket={id}&channel=SYSTEM&reason=Still%20broken");
    let (status, system) = preview(&app, &c.admin, &q).await;
    assert_eq!(status, StatusCode::OK, "{system}");
    assert_eq!(system["subject"], "Ticket Rejected");
    assert_eq!(
        system["body"],
        "Ticket '<script>alert(1)</script>' has been rejected by client. Reason: Still broken"
    );
    // Nothing was sent or written.
    let after = app
        .get("/api/notifications/?notification_type=WHATSAPP", &c.admin)
        .await
        .1["count"]
        .clone();
    assert_eq!(before, after);
}

async fn preview_names_the_bad_field(app: TestApp) {
    let c = cast_with_numbers(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let cases = [
        (
            format!("event=ticket_closed&ticket={id}&channel=WHATSAPP"),
            "event",
        ),
        (
            format!("event=ticket_created&ticket={id}&channel=FAX"),
            "channel",
        ),
        (
            "event=ticket_created&channel=WHATSAPP".to_string(),
            "ticket",
        ),
        (format!("ticket={id}&channel=WHATSAPP"), "event"),
        (
            format!("event=ticket_created&ticket=x{id}&channel=WHATSAPP"),
            "ticket",
        ),
        (
            format!("event=ticket_rejected&ticket={id}&channel=EMAIL"),
            "channel",
        ),
        (
            format!(
                "event=ticket_created&ticket={id}&channel=WHATSAPP&recipient={}",
                c.client_id
            ),
            "recipient",
        ),
    ];
    for (query, field) in cases {
        let (status, body) = preview(&app, &c.admin, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(crate::common::keys(&body), [field], "{query}: {body}");
    }
    let q = format!("event=ticket_created&ticket={}&channel=WHATSAPP", id + 1000);
    let (status, body) = preview(&app, &c.admin, &q).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let q = format!("event=ticket_created&ticket={id}&channel=WHATSAPP");
    assert_eq!(preview(&app, &c.client, &q).await.0, StatusCode::FORBIDDEN);
    let (_, dev) = app.user_token("dev2", Role::Support).await;
    assert_eq!(preview(&app, &dev, &q).await.0, StatusCode::FORBIDDEN);
}
