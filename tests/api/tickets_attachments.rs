//! Attachments: multipart upload, listing, base64 in the detail, raw download, size limit and
//! the deletion rules (contract §6.14–6.16, with the fixes of §17 item 24).

use base64::Engine as _;
use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Engine, TestApp};
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    upload_answers_200_and_keeps_name_type_and_size,
    detail_carries_base64_data_and_null_for_an_empty_file,
    upload_without_a_file_is_refused,
    download_returns_the_raw_bytes_with_their_content_type,
    attachment_deletion_follows_the_uploader_rules,
    attachment_ids_must_belong_to_the_ticket,
    uploads_write_no_history_and_leave_the_ticket_row_alone,
);

async fn upload_answers_200_and_keeps_name_type_and_size(app: TestApp) {
    let c = cast(&app).await;
    let (uploader, token) = named_user(&app, "uploader", Role::Client, "Up", "Loader").await;
    let id = new_ticket(&app, &token).await;
    let data: Vec<u8> = (0u8..=255).chain(0u8..10).collect();
    let form = Multipart::new().text("note", "ignored").file(
        "file_data",
        "report.pdf",
        Some("application/pdf"),
        &data,
    );
    let (status, body) = post_multipart(&app, &path(id, "add_attachment"), &token, form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), ["message", "ticket_id", "attachment_id"]);
    let aid = body["attachment_id"].as_i64().unwrap();
    assert_eq!(
        body,
        json!({"message": format!("Attachment uploaded to ticket #{id} successfully"),
               "ticket_id": id, "attachment_id": aid})
    );

    let (status, list) = app.get(&path(id, "get_attachments"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        keys(&list),
        [
            "ticket_id",
            "ticket_title",
            "attachments_count",
            "attachments"
        ]
    );
    let a = &list["attachments"][0];
    assert_eq!(
        list,
        json!({"ticket_id": id, "ticket_title": "Login broken", "attachments_count": 1, "attachments": [{
            "id": aid, "ticket": id, "uploaded_by": uploader, "uploaded_by_name": "Up Loader",
            "file_data": base64::engine::general_purpose::STANDARD.encode(&data),
            "uploaded_at": a["uploaded_at"], "filename": "report.pdf", "content_type": "application/pdf",
            "size": data.len(), "download_url": format!("{}/api/tickets/{id}/attachments/{aid}/download/", app.base),
        }]})
    );
    parse_dt(&a["uploaded_at"]);
    let d = detail(&app, id, &token).await;
    assert_eq!(d["attachments"], list["attachments"]);

    // A second upload without a content type; listed first.
    let second = upload(&app, id, &c.admin, "notes", None, b"plain").await;
    let (_, list) = app.get(&path(id, "get_attachments"), &token).await;
    assert_eq!(list["attachments_count"], 2);
    let a = &list["attachments"][0];
    assert_eq!(a["id"], second);
    assert_eq!(a["filename"], "notes");
    assert_eq!(a["content_type"], Value::Null);
    assert_eq!(a["size"], 5);
    assert_eq!(a["uploaded_by_name"], "", "no username fallback");
}

async fn detail_carries_base64_data_and_null_for_an_empty_file(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let empty = upload(&app, id, &c.client, "empty.txt", Some("text/plain"), b"").await;
    let d = detail(&app, id, &c.client).await;
    let a = &d["attachments"][0];
    assert_eq!(a["id"], empty);
    assert_eq!(a["file_data"], Value::Null);
    assert_eq!(a["size"], 0);
    upload(&app, id, &c.client, "hi.txt", Some("text/plain"), b"hello").await;
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["attachments"][0]["file_data"], "aGVsbG8=");
    assert_eq!(d["attachments"][1]["file_data"], Value::Null);
}

async fn upload_without_a_file_is_refused(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let target = path(id, "add_attachment");
    let required = error("file_data is required");
    let invalid = error("Invalid file data provided");
    let multipart_cases = [
        (
            Multipart::new().file("other", "a.txt", None, b"data"),
            &required,
        ),
        (Multipart::new().text("file_data", ""), &required),
        (Multipart::new().text("file_data", "aGVsbG8="), &invalid),
    ];
    for (form, expected) in multipart_cases {
        let (status, body) = post_multipart(&app, &target, &c.client, form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(&body, expected);
    }
    for (body, expected) in [
        (json!({}), &required),
        (json!({"file_data": null}), &required),
        (json!({"file_data": ""}), &required),
        (json!({"file_data": "aGVsbG8="}), &invalid),
        (json!({"file_data": {"name": "a.txt"}}), &invalid),
    ] {
        let (status, got) = app.post(&target, &c.client, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(&got, expected, "{body}");
    }
    let (status, body) = post_form(&app, &target, &c.client, &[("file_data", "abc")]).await;
    assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &invalid));
    let r = raw(&app, Method::POST, &target, Some(&c.client), None, "").await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::BAD_REQUEST, required.clone())
    );
    assert_eq!(detail(&app, id, &c.client).await["attachments"], json!([]));
}

/// `GET .../attachments/{aid}/download/`, with `token` if any.
async fn download(app: &TestApp, id: i64, aid: i64, token: Option<&str>) -> Raw {
    let target = path(id, &format!("attachments/{aid}/download"));
    raw(app, Method::GET, &target, token, None, "").await
}

async fn download_returns_the_raw_bytes_with_their_content_type(app: TestApp) {
    let c = cast(&app).await;
    let id = assigned_ticket(&app, &c).await;
    let png: Vec<u8> = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0xff, 0xfe,
    ];
    let aid = upload(&app, id, &c.client, "shot.png", Some("image/png"), &png).await;
    for token in [&c.client, &c.dev, &c.admin] {
        let r = download(&app, id, aid, Some(token)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, png);
        assert_eq!(r.header("content-type"), Some("image/png"));
        assert_eq!(
            r.header("content-disposition"),
            Some("attachment; filename=\"shot.png\"")
        );
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    let untyped = upload(&app, id, &c.client, "blob", None, b"").await;
    let r = download(&app, id, untyped, Some(&c.client)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    let r = download(&app, id, aid, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn attachment_deletion_follows_the_uploader_rules(app: TestApp) {
    let c = cast(&app).await;
    let (_, admin2) = another(&app, "admin2", Role::Admin).await;
    let id = assigned_ticket(&app, &c).await;
    let by_client = upload(&app, id, &c.client, "c", None, b"c").await;
    let by_client2 = upload(&app, id, &c.client, "c2", None, b"c").await;
    let by_dev = upload(&app, id, &c.dev, "d", None, b"d").await;
    let by_dev2 = upload(&app, id, &c.dev, "d2", None, b"d").await;
    let by_admin = upload(&app, id, &c.admin, "a", None, b"a").await;
    let by_admin2 = upload(&app, id, &admin2, "a2", None, b"a").await;
    let only_own = error("You can only delete attachments you uploaded");
    let not_clients = error("Admins cannot delete attachments uploaded by clients");
    let target = |aid: i64| path(id, &format!("delete_attachment/{aid}"));
    let deleted =
        |aid: i64| json!({"message": "Attachment deleted successfully", "attachment_id": aid});

    for (token, aid, status, body) in [
        (&c.dev, by_client, StatusCode::FORBIDDEN, only_own.clone()),
        (&c.client, by_dev, StatusCode::FORBIDDEN, only_own.clone()),
        (&c.client, by_admin, StatusCode::FORBIDDEN, only_own.clone()),
        (&c.dev, by_admin, StatusCode::FORBIDDEN, only_own.clone()),
        (
            &c.admin,
            by_client,
            StatusCode::FORBIDDEN,
            not_clients.clone(),
        ),
        (&c.admin, by_dev, StatusCode::OK, deleted(by_dev)),
        (&c.admin, by_admin2, StatusCode::OK, deleted(by_admin2)),
        (&c.admin, by_admin, StatusCode::OK, deleted(by_admin)),
        (&c.client, by_client, StatusCode::OK, deleted(by_client)),
        (&c.dev, by_dev2, StatusCode::OK, deleted(by_dev2)),
        (
            &c.client,
            by_client,
            StatusCode::NOT_FOUND,
            error("Attachment not found"),
        ),
    ] {
        let (got_status, got) = app.delete(&target(aid), token).await;
        assert_eq!((got_status, &got), (status, &body), "delete {aid}");
    }
    let left = attachment_ids(&detail(&app, id, &c.admin).await);
    assert_eq!(left, [by_client2]);
}

async fn attachment_ids_must_belong_to_the_ticket(app: TestApp) {
    let c = cast(&app).await;
    let a = new_ticket(&app, &c.client).await;
    let b = new_ticket(&app, &c.client).await;
    let on_a = upload(&app, a, &c.client, "a", None, b"a").await;
    let missing = error("Attachment not found");
    for aid in [on_a.to_string(), "999999".into(), "abc".into(), "0".into()] {
        let (status, body) = app
            .delete(&path(b, &format!("delete_attachment/{aid}")), &c.client)
            .await;
        assert_eq!((status, &body), (StatusCode::NOT_FOUND, &missing), "{aid}");
        let (status, body) = app
            .get(&path(b, &format!("attachments/{aid}/download")), &c.client)
            .await;
        assert_eq!((status, &body), (StatusCode::NOT_FOUND, &missing), "{aid}");
    }
    assert_eq!(rows_of(&app, "ticket_attachments", a).await, 1);
}

async fn uploads_write_no_history_and_leave_the_ticket_row_alone(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let before = detail(&app, id, &c.client).await;
    let aid = upload(&app, id, &c.dev, "x", None, b"x").await;
    app.delete(&path(id, &format!("delete_attachment/{aid}")), &c.dev)
        .await;
    upload(&app, id, &c.client, "y", None, b"y").await;
    let mut after = detail(&app, id, &c.client).await;
    assert_eq!(after["attachments"].as_array().unwrap().len(), 1);
    after["attachments"] = json!([]);
    assert_eq!(after, before);
}

// ---- the size limit needs its own configuration ---------------------------------------------

const LIMIT: usize = 16;

async fn small_limit(engine: Engine) -> TestApp {
    TestApp::spawn_with(engine, |config| config.max_attachment_bytes = LIMIT).await
}

mod uploads_over_the_size_limit_are_413 {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        uploads_over_the_size_limit_are_413(small_limit(Engine::Sqlite).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        uploads_over_the_size_limit_are_413(small_limit(Engine::Postgres).await).await
    }
}

async fn uploads_over_the_size_limit_are_413(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    upload(&app, id, &c.client, "ok", None, &[7u8; LIMIT]).await;
    let form = Multipart::new().file("file_data", "big", None, &[7u8; LIMIT + 1]);
    let (status, body) = post_multipart(&app, &path(id, "add_attachment"), &c.client, form).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        json!({"detail": format!("File too large: the limit is {LIMIT} bytes.")})
    );
    assert_eq!(rows_of(&app, "ticket_attachments", id).await, 1);
}
