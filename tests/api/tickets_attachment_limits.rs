//! Attachments under hostile load (issue 10, items 2 and 3): uploads are streamed (refused as
//! soon as they pass the file limit), reserve their bytes in a budget of uploads in flight (503
//! with `Retry-After` when it stays full), and may not take a ticket past its quota (413); the
//! answers that inline files are limited in number (503) and can be asked for without the bytes
//! (`?file_data=false`).

use std::time::Duration;

use base64::Engine as _;
use incident::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

const FILE_LIMIT: usize = 64;
const QUOTA: usize = 100;
const BUDGET: usize = 64 * 1024;

fn tight(config: &mut Config) {
    config.max_attachment_bytes = FILE_LIMIT;
    config.attachments.max_ticket_bytes = QUOTA;
    config.attachments.max_upload_bytes_in_flight = BUDGET;
    config.attachments.max_inline_responses = 1;
    config.attachments.heavy_request_wait = Duration::from_millis(200);
}

on_both_databases!(config = tight;
    uploads_past_the_ticket_quota_are_413,
    concurrent_uploads_cannot_pass_the_quota_together,
    a_file_over_the_limit_is_refused_before_the_rest_of_the_body_arrives,
    uploads_reserve_their_bytes_and_wait_for_room_then_503,
    file_data_false_leaves_the_bytes_out,
    inline_answers_wait_for_a_slot_then_503,
);

/// A multipart upload sent as is, to read the headers of the answer too.
async fn try_upload(app: &TestApp, id: i64, token: &str, data: &[u8]) -> Raw {
    let form = Multipart::new().file("file_data", "f.bin", None, data);
    let ct = form.content_type();
    let target = path(id, "add_attachment");
    raw(
        app,
        Method::POST,
        &target,
        Some(token),
        Some(&ct),
        form.finish(),
    )
    .await
}

async fn uploads_past_the_ticket_quota_are_413(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let first = upload(&app, id, &c.client, "a", None, &[1u8; 60]).await;
    upload(&app, id, &c.admin, "b", None, &[2u8; 40]).await;
    let r = try_upload(&app, id, &c.client, &[3u8; 1]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.json(),
        json!({"detail": format!("Attachment quota exceeded: ticket #{id} already holds 100 bytes of attachments, and this file (1 bytes) would take it past the limit of {QUOTA} bytes.")})
    );
    // An empty file takes nothing; another ticket has its own quota.
    upload(&app, id, &c.client, "empty", None, b"").await;
    let other = new_ticket(&app, &c.client).await;
    upload(&app, other, &c.client, "c", None, &[4u8; 60]).await;
    assert_eq!(rows_of(&app, "ticket_attachments", id).await, 3);
    // Deleting a file gives its bytes back.
    let target = path(id, &format!("delete_attachment/{first}"));
    assert_eq!(app.delete(&target, &c.client).await.0, StatusCode::OK);
    upload(&app, id, &c.client, "d", None, &[5u8; 60]).await;
    assert_eq!(
        try_upload(&app, id, &c.client, &[6u8; 1]).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

async fn concurrent_uploads_cannot_pass_the_quota_together(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let attempts = (0..12).map(|_| try_upload(&app, id, &c.client, &[9u8; 30]));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    let stored = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PAYLOAD_TOO_LARGE)
        .count();
    assert_eq!((stored, refused), (3, 9), "{statuses:?}");
    assert_eq!(rows_of(&app, "ticket_attachments", id).await, 3);
}

/// The start of a multipart upload of one file part, declaring `content_length` bytes in all.
fn upload_head(app: &TestApp, id: i64, token: &str, content_length: usize) -> Vec<u8> {
    format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XbOuNdArYx\r\nContent-Length: {content_length}\r\n\r\n\
         --XbOuNdArYx\r\nContent-Disposition: form-data; name=\"file_data\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n",
        path(id, "add_attachment"),
        app.addr
    )
    .into_bytes()
}

async fn a_file_over_the_limit_is_refused_before_the_rest_of_the_body_arrives(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut sent = upload_head(&app, id, &c.client, 60_000);
    sent.extend_from_slice(&[7u8; 1000]);
    socket.write_all(&sent).await.unwrap();
    // 59,000 declared bytes never come: a server that buffers the whole body never answers.
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&answer).contains("bytes.\"}") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer before the body ended");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(
        text.ends_with(&format!(
            "{{\"detail\":\"File too large: the limit is {FILE_LIMIT} bytes.\"}}"
        )),
        "{text}"
    );
    assert_eq!(rows_of(&app, "ticket_attachments", id).await, 0);
}

/// Waits until the budget of upload bytes has at most `bytes` free.
async fn until_free_at_most(app: &TestApp, bytes: usize) {
    for _ in 0..200 {
        if app.state.upload_bytes.available_bytes() <= bytes {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the budget still has {} bytes free",
        app.state.upload_bytes.available_bytes()
    );
}

async fn uploads_reserve_their_bytes_and_wait_for_room_then_503(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    // An upload whose body stalls holds the bytes it declared while it is read.
    let mut stalled = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stalled
        .write_all(&upload_head(&app, id, &c.client, 30_000))
        .await
        .unwrap();
    until_free_at_most(&app, BUDGET - 30_000).await;
    // Room is counted in bytes: a small upload still fits beside it...
    upload(&app, id, &c.client, "small", None, b"fits").await;
    // ...but not one that declares more than is left: it waits, then 503.
    let mut too_big = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    too_big
        .write_all(&upload_head(&app, id, &c.client, 40_000))
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), too_big.read(&mut answer))
        .await
        .expect("an answer after the wait")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]).to_lowercase();
    assert!(text.starts_with("http/1.1 503"), "{text}");
    assert!(text.contains("retry-after: 1\r\n"), "{text}");
    // The stalled upload gives its bytes back when its client goes away.
    drop(stalled);
    for _ in 0..200 {
        if app.state.upload_bytes.available_bytes() == BUDGET {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.state.upload_bytes.available_bytes(), BUDGET);
    // The 503 through the documented client, with no room at all.
    let everything = app
        .state
        .upload_bytes
        .reserve(usize::MAX, "test")
        .await
        .unwrap();
    let r = try_upload(&app, id, &c.client, b"x").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(
        r.json(),
        json!({"detail": "The server is busy with other uploads. Try again in 1 second."})
    );
    drop(everything);
    upload(&app, id, &c.client, "after", None, b"room again").await;
    assert_eq!(rows_of(&app, "ticket_attachments", id).await, 2);
}

async fn file_data_false_leaves_the_bytes_out(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let hello = upload(&app, id, &c.client, "hi.txt", Some("text/plain"), b"hello").await;
    upload(&app, id, &c.client, "empty", None, b"").await;
    let full = detail(&app, id, &c.client).await;
    assert_eq!(full["attachments"][1]["file_data"], "aGVsbG8=");
    for flag in ["false", "0", "no", "False"] {
        let (status, d) = app
            .get(&format!("{}?file_data={flag}", detail_path(id)), &c.client)
            .await;
        assert_eq!(status, StatusCode::OK, "{d}");
        let (status, list) = app
            .get(
                &format!("{}?file_data={flag}", path(id, "get_attachments")),
                &c.client,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        for attachments in [&d["attachments"], &list["attachments"]] {
            let a = &attachments[1];
            assert_eq!(
                keys(a),
                [
                    "id",
                    "ticket",
                    "uploaded_by",
                    "uploaded_by_name",
                    "uploaded_at",
                    "filename",
                    "content_type",
                    "size",
                    "download_url"
                ]
            );
            assert_eq!(a["id"], hello);
            assert_eq!(
                a["download_url"],
                format!(
                    "{}/api/tickets/{id}/attachments/{hello}/download/",
                    app.base
                )
            );
            assert!(attachments[0].get("file_data").is_none());
        }
        // Everything else is the same answer.
        let mut without = full.clone();
        for a in without["attachments"].as_array_mut().unwrap() {
            a.as_object_mut().unwrap().remove("file_data");
        }
        assert_eq!(d, without);
    }
    let (_, d) = app
        .get(&format!("{}?file_data=true", detail_path(id)), &c.client)
        .await;
    assert_eq!(d, full);
    let (status, body) = app
        .get(&format!("{}?file_data=maybe", detail_path(id)), &c.client)
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"file_data": ["Must be a valid boolean."]})
        )
    );
}

async fn inline_answers_wait_for_a_slot_then_503(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let data: Vec<u8> = (0..FILE_LIMIT as u8).collect();
    upload(&app, id, &c.client, "a", None, &data).await;
    let only_empty = new_ticket(&app, &c.client).await;
    upload(&app, only_empty, &c.client, "e", None, b"").await;

    let busy = json!({"detail": "The server is busy with other attachment downloads. Try again in 1 second."});
    let held = app.state.inline_responses.enter("test").await.unwrap();
    for target in [detail_path(id), path(id, "get_attachments")] {
        let r = raw(&app, Method::GET, &target, Some(&c.client), None, "").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{target}");
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.json(), busy);
        // Without the bytes, or with no bytes to inline, the answer needs no slot.
        let (status, _) = app
            .get(&format!("{target}?file_data=false"), &c.client)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(
        detail(&app, only_empty, &c.client).await["attachments"][0]["file_data"],
        Value::Null
    );
    drop(held);
    // One slot: each answer gives it back once its body is sent.
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    for _ in 0..3 {
        assert_eq!(
            detail(&app, id, &c.client).await["attachments"][0]["file_data"],
            b64
        );
    }
    let (_, list) = app.get(&path(id, "get_attachments"), &c.client).await;
    assert_eq!(list["attachments"][0]["file_data"], b64);
}

const MIB: usize = 1024 * 1024;

/// One database connection for requests (on PostgreSQL the LISTEN connection takes a second
/// one from the pool), so every query after a large file runs on the connection that carried it.
fn one_connection(config: &mut Config) {
    config.database_max_connections = match config.database_url.starts_with("sqlite") {
        true => 1,
        false => 2,
    };
    config.max_attachment_bytes = 3 * MIB;
    config.attachments.max_ticket_bytes = 16 * MIB;
}

on_both_databases!(config = one_connection;
    large_files_come_back_whole_through_one_connection,
);

/// Files far larger than a database connection's buffers (sqlx starts them at 8 KiB): after a
/// file is written or read, the connection's grown buffers are given back (PostgreSQL) and the
/// same connection goes on serving. The files come back whole, inline and downloaded, and the
/// requests between and during them are answered.
async fn large_files_come_back_whole_through_one_connection(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let files: Vec<Vec<u8>> = (0..3usize)
        .map(|n| {
            (0..2 * MIB + n * 1001)
                .map(|i| ((i * 2_654_435_761 + n) >> 11) as u8)
                .collect()
        })
        .collect();
    let lean = format!("{}?file_data=false", detail_path(id));
    let mut ids = Vec::new();
    for (n, file) in files.iter().enumerate() {
        ids.push(upload(&app, id, &c.client, &format!("big{n}.bin"), None, file).await);
        let (status, d) = app.get(&lean, &c.client).await;
        assert_eq!(status, StatusCode::OK, "{d}");
        assert_eq!(d["attachments"][0]["size"], file.len());
    }
    // The inlining answer reads one file at a time; a listing runs between its reads.
    let full = detail_path(id);
    let inline = raw(&app, Method::GET, &full, Some(&c.client), None, "");
    let (inline, (listed, _)) = tokio::join!(inline, app.get("/api/tickets/", &c.client));
    assert_eq!(listed, StatusCode::OK);
    assert_eq!(inline.status, StatusCode::OK);
    let b64 = base64::engine::general_purpose::STANDARD;
    let d = inline.json();
    for (aid, file) in ids.iter().zip(&files) {
        let a = d["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == *aid)
            .unwrap();
        assert!(
            a["file_data"] == b64.encode(file),
            "attachment {aid} differs"
        );
        let target = path(id, &format!("attachments/{aid}/download"));
        let got = raw(&app, Method::GET, &target, Some(&c.client), None, "").await;
        assert_eq!(got.status, StatusCode::OK);
        assert!(got.body == *file, "download of {aid} differs");
    }
    // Writes after them too.
    let another = new_ticket(&app, &c.client).await;
    upload(
        &app,
        another,
        &c.client,
        "small",
        None,
        b"after the large ones",
    )
    .await;
    assert_eq!(rows_of(&app, "ticket_attachments", id).await, 3);
}
