//! Hostile inputs answer a clear 4xx, never a 500, and the same on both engines (issue 10,
//! items 6–9): NUL bytes in any text, page numbers past any offset, searches longer than a
//! `LIKE` pattern may be, and ids that Rust's integer parser would read but are not digits.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    null_characters_in_body_fields_are_field_errors,
    null_characters_in_multipart_fields_and_file_names_are_field_errors,
    null_characters_in_query_parameters_name_the_parameter,
    pages_past_any_offset_are_invalid_pages,
    searches_are_bounded_naming_the_parameter,
    ids_are_digits_only,
);

const NUL: &str = "Null characters are not allowed.";

fn nul_errors(fields: &[&str]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|f| (f.to_string(), json!([NUL])))
            .collect(),
    )
}

async fn ticket_count(app: &TestApp, token: &str) -> i64 {
    let (status, page) = app.get("/api/tickets/", token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["count"].as_i64().unwrap()
}

/// `\u0000` in a JSON or form field, even unauthenticated, is DRF's field error on that field.
async fn null_characters_in_body_fields_are_field_errors(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/login/",
            None,
            Some(json!({"username": "cli\u{0}ent", "password": "client-password"})),
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, nul_errors(&["username"]))
    );
    let r = raw(
        &app,
        Method::POST,
        "/api/auth/login/",
        None,
        Some("application/x-www-form-urlencoded"),
        "username=client&password=a%00b",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::BAD_REQUEST, nul_errors(&["password"]))
    );

    let (status, body) = post_ticket(
        &app,
        &c.client,
        json!({"title": "a\u{0}", "description": "b\u{0}c", "project_name": "fine"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            nul_errors(&["title", "description"])
        )
    );
    assert_eq!(ticket_count(&app, &c.client).await, 1);

    let detail = format!("/api/tickets/{id}/");
    let cases = [
        (
            Method::PATCH,
            detail.clone(),
            json!({"description": "x\u{0}"}),
            "description",
        ),
        (
            Method::PUT,
            detail,
            json!({"title": "t", "description": "d", "assigned_team": "\u{0}"}),
            "assigned_team",
        ),
        (
            Method::POST,
            format!("/api/tickets/{id}/add_comment/"),
            json!({"comment": "hi\u{0}"}),
            "comment",
        ),
        (
            Method::POST,
            format!("/api/tickets/{id}/assign/"),
            json!({"assigned_to": ["1\u{0}"]}),
            "assigned_to",
        ),
        (
            Method::POST,
            "/api/users/".into(),
            json!({"username": "eve", "password": "pass\u{0}word-long"}),
            "password",
        ),
        (
            Method::PATCH,
            "/api/profile/update/".into(),
            json!({"department": "\u{0}"}),
            "department",
        ),
        (
            Method::POST,
            "/api/auth/refresh/".into(),
            json!({"refresh": "\u{0}"}),
            "refresh",
        ),
    ];
    for (method, path, body, field) in cases {
        let token = (path != "/api/auth/refresh/").then_some(c.admin.as_str());
        let (status, got) = app.call(method.clone(), &path, token, Some(body)).await;
        assert_eq!(
            (status, got),
            (StatusCode::BAD_REQUEST, nul_errors(&[field])),
            "{method} {path}"
        );
    }
    let (_, ticket) = app.get(&format!("/api/tickets/{id}/"), &c.admin).await;
    assert_eq!(ticket["description"], "Users cannot log in");
}

/// Multipart text fields with a NUL byte are field errors; a part header with one does not
/// parse (the multipart parser refuses it), so no file name with one is ever stored.
async fn null_characters_in_multipart_fields_and_file_names_are_field_errors(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let form = Multipart::new()
        .text("title", "multi\u{0}part")
        .text("description", "fine");
    let (status, body) = post_multipart(&app, "/api/tickets/", &c.client, form).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, nul_errors(&["title"]))
    );
    let upload = format!("/api/tickets/{id}/add_attachment/");
    let named = Multipart::new().file("file_data", "a\u{0}.txt", Some("text/plain"), b"hi");
    let (status, body) = post_multipart(&app, &upload, &c.client, named).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Multipart form parse error")),
        "{body}"
    );
    let (_, files) = app
        .get(&format!("/api/tickets/{id}/get_attachments/"), &c.client)
        .await;
    assert_eq!(files["attachments_count"], 0, "{files}");
    assert_eq!(ticket_count(&app, &c.client).await, 1);
}

/// A NUL byte in a query value is a 400 naming the parameter, on every list.
async fn null_characters_in_query_parameters_name_the_parameter(app: TestApp) {
    let c = cast(&app).await;
    new_ticket(&app, &c.client).await;
    let cases = [
        ("/api/tickets/?search=log%00in", "search"),
        ("/api/tickets/?ordering=%00", "ordering"),
        ("/api/users/?page=%00", "page"),
        ("/api/profiles/?x=%00", "x"),
        (
            "/api/notifications/?notification_type=WHATSAPP&delivery_status=sent%00",
            "delivery_status",
        ),
        ("/api/notifications/mark_all_as_read/?ticket=1%00", "ticket"),
    ];
    for (path, param) in cases {
        let method = if path.contains("mark_all") {
            Method::POST
        } else {
            Method::GET
        };
        let (status, body) = app.call(method, path, Some(&c.admin), None).await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, nul_errors(&[param])),
            "{path}"
        );
    }
}

/// `?page=9223372036854775807` has no offset: DRF's 404 on every list, both engines.
async fn pages_past_any_offset_are_invalid_pages(app: TestApp) {
    let c = cast(&app).await;
    new_ticket(&app, &c.client).await;
    let lists = [
        "/api/tickets/",
        "/api/users/",
        "/api/profiles/",
        "/api/notifications/",
        "/api/notifications/unread/",
        "/api/notifications/?notification_type=WHATSAPP",
    ];
    for list in lists {
        for page in [
            "9223372036854775807",
            "461168601842738791",
            "99999999999999999999",
        ] {
            let sep = if list.contains('?') { '&' } else { '?' };
            let path = format!("{list}{sep}page={page}");
            let (status, body) = app.get(&path, &c.admin).await;
            assert_eq!(
                (status, body),
                (StatusCode::NOT_FOUND, json!({"detail": "Invalid page."})),
                "{path}"
            );
        }
    }
}

/// A search over 1,000 characters is a 400 naming `search` (SQLite refused a `LIKE` pattern
/// over 50,000 bytes with a 500); 1,000 characters still search.
async fn searches_are_bounded_naming_the_parameter(app: TestApp) {
    let c = cast(&app).await;
    new_ticket(&app, &c.client).await;
    let too_long = "Ensure this field has no more than 1000 characters.";
    for search in ["%25".repeat(1001), "a".repeat(50_001)] {
        let (status, body) = app
            .get(&format!("/api/tickets/?search={search}"), &c.admin)
            .await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, json!({"search": [too_long]})),
            "{} characters",
            search.len()
        );
    }
    let (status, body) = app
        .get(
            &format!("/api/tickets/?search={}", "x".repeat(1000)),
            &c.admin,
        )
        .await;
    assert_eq!((status, body["count"].clone()), (StatusCode::OK, json!(0)));
    let (_, body) = app.get("/api/tickets/?search=LOG", &c.admin).await;
    assert_eq!(body["count"], 1);
}

/// `/api/tickets/+1/` is not ticket 1, `?ticket=+1` not ticket 1, and a token whose `user_id`
/// is `"+2"` not user 2: a number is digits (and a minus) only.
async fn ids_are_digits_only(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let (status, _) = app.get(&format!("/api/tickets/{id}/"), &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    let paths = [
        format!("/api/tickets/+{id}/"),
        format!("/api/tickets/%20{id}/"),
        format!("/api/users/+{}/", c.client_id),
        format!("/api/profiles/+{}/", c.client_id),
        "/api/notifications/+1/".to_string(),
    ];
    for path in paths {
        let (status, body) = app.get(&path, &c.admin).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, not_found()),
            "{path}"
        );
    }
    let file = upload(&app, id, &c.client, "a.txt", Some("text/plain"), b"hi").await;
    let (status, body) = app
        .get(
            &format!("/api/tickets/{id}/attachments/+{file}/download/"),
            &c.admin,
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, error("Attachment not found"))
    );
    let (status, body) = app
        .get(
            &format!("/api/notifications/?notification_type=SYSTEM&ticket=%2B{id}"),
            &c.admin,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"ticket": ["A valid integer is required."]})
        )
    );

    let now = chrono::Utc::now().timestamp();
    let secret = app.state.config.secret_key.expose().to_string();
    let sign = |user_id: String| {
        let claims = json!({"token_type": "access", "exp": now + 60, "iat": now, "jti": "d".repeat(32), "user_id": user_id});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let (status, _) = app
        .get("/api/profiles/", &sign(c.client_id.to_string()))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the same token with digits is accepted"
    );
    let (status, body) = app
        .get("/api/profiles/", &sign(format!("+{}", c.client_id)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid", "{body}");
}
