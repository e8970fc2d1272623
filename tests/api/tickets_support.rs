//! Helpers the ticket tests share: raw requests (form, multipart, malformed bodies), direct
//! database edits for states no endpoint reaches, and the ticket detail as exact bytes.
#![allow(dead_code)]

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use incident::domain::user::Role;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub use crate::common::keys;
use crate::common::TestApp;
pub use crate::tickets::{
    add_comment, assign, assign_dev, assign_dev_with, assigned_ticket, cast, created_ticket,
    named_user, new_ticket, post_ticket, reject, resolved_ticket, start_ticket, Cast,
};

pub const NO_TICKET: &str = "No Ticket matches the given query.";
pub const NO_PERMISSION: &str = "You do not have permission to perform this action.";

/// `{"detail": "No Ticket matches the given query."}`
pub fn no_ticket() -> Value {
    json!({ "detail": NO_TICKET })
}

/// `{"detail": "Not found."}`
pub fn not_found() -> Value {
    json!({"detail": "Not found."})
}

pub fn error(message: &str) -> Value {
    json!({ "error": message })
}

/// A response read as bytes.
pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "response is not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Any request with a body sent exactly as given.
pub async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Raw {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    let resp = req.body(body.into()).send().await.expect("request");
    Raw {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.bytes().await.expect("body").to_vec(),
    }
}

/// A form-encoded POST; repeated keys stay repeated.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    token: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let r = raw(
        app,
        Method::POST,
        path,
        Some(token),
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await;
    (r.status, r.json())
}

/// A JSON body that is not valid JSON.
pub async fn post_malformed_json(app: &TestApp, path: &str, token: &str) -> Raw {
    raw(
        app,
        Method::POST,
        path,
        Some(token),
        Some("application/json"),
        "{not json",
    )
    .await
}

/// A `multipart/form-data` body built by hand, so tests control every header of every part.
pub struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Default for Multipart {
    fn default() -> Self {
        Multipart::new()
    }
}

impl Multipart {
    pub fn new() -> Multipart {
        Multipart {
            boundary: "----incident-test-boundary-7MA4YWxkTrZu0gW".to_string(),
            body: Vec::new(),
        }
    }

    /// A file part; `content_type` None leaves the part without a Content-Type header.
    pub fn file(
        mut self,
        name: &str,
        filename: &str,
        content_type: Option<&str>,
        data: &[u8],
    ) -> Multipart {
        let mut head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n",
            self.boundary
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        head.push_str("\r\n");
        self.body.extend_from_slice(head.as_bytes());
        self.body.extend_from_slice(data);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// A plain form field (no filename).
    pub fn text(mut self, name: &str, value: &str) -> Multipart {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n",
            self.boundary
        );
        self.body.extend_from_slice(head.as_bytes());
        self.body.extend_from_slice(value.as_bytes());
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        self.body
    }
}

pub async fn post_multipart(
    app: &TestApp,
    path: &str,
    token: &str,
    form: Multipart,
) -> (StatusCode, Value) {
    let ct = form.content_type();
    let r = raw(
        app,
        Method::POST,
        path,
        Some(token),
        Some(&ct),
        form.finish(),
    )
    .await;
    (r.status, r.json())
}

/// Uploads one file to a ticket; returns the attachment id.
pub async fn upload(
    app: &TestApp,
    id: i64,
    token: &str,
    filename: &str,
    content_type: Option<&str>,
    data: &[u8],
) -> i64 {
    let form = Multipart::new().file("file_data", filename, content_type, data);
    let (status, body) = post_multipart(app, &path(id, "add_attachment"), token, form).await;
    assert_eq!(status, StatusCode::OK, "upload: {body}");
    body["attachment_id"].as_i64().expect("attachment id")
}

/// `/api/tickets/{id}/{action}/`
pub fn path(id: impl std::fmt::Display, action: &str) -> String {
    format!("/api/tickets/{id}/{action}/")
}

pub fn detail_path(id: impl std::fmt::Display) -> String {
    format!("/api/tickets/{id}/")
}

/// POSTs a JSON body to an action of a ticket.
pub async fn act(
    app: &TestApp,
    id: impl std::fmt::Display,
    action: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.post(&path(id, action), token, body).await
}

/// Like [`act`], asserting 200.
pub async fn act_ok(app: &TestApp, id: i64, action: &str, token: &str, body: Value) -> Value {
    let (status, body) = act(app, id, action, token, body).await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body
}

pub async fn detail(app: &TestApp, id: i64, token: &str) -> Value {
    let (status, body) = app.get(&detail_path(id), token).await;
    assert_eq!(status, StatusCode::OK, "detail: {body}");
    body
}

/// The detail response exactly as sent, to compare before and after a request that must fail.
pub async fn detail_bytes(app: &TestApp, id: i64, token: &str) -> String {
    let r = raw(app, Method::GET, &detail_path(id), Some(token), None, "").await;
    assert_eq!(r.status, StatusCode::OK, "detail: {}", r.text());
    r.text()
}

pub fn history(detail: &Value) -> &Vec<Value> {
    detail["history"].as_array().expect("history array")
}

/// Asserts that the newest history entry went `from` → `to` with `comment`; returns the entry.
pub fn assert_last_step<'a>(detail: &'a Value, from: &str, to: &str, comment: &str) -> &'a Value {
    let h = &history(detail)[0];
    let step = |key: &str| h[key].as_str();
    assert_eq!(
        (step("status_from"), step("status_to"), step("comment")),
        (Some(from), Some(to), Some(comment)),
        "{h}"
    );
    h
}

pub fn comments(detail: &Value) -> Vec<String> {
    history(detail)
        .iter()
        .map(|h| h["comment"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The ticket ids of a list page, in order.
pub fn page_ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// The attachment ids of a ticket detail, in order.
pub fn attachment_ids(detail: &Value) -> Vec<i64> {
    detail["attachments"]
        .as_array()
        .expect("attachments array")
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

/// The body as the server ordered it (serde_json keeps key order in this build).
pub fn ordered(v: &Value) -> String {
    serde_json::to_string(v).expect("serialize")
}

/// A ticket the client created and the admin opened.
pub async fn opened_ticket(app: &TestApp, c: &Cast) -> i64 {
    let id = new_ticket(app, &c.client).await;
    act_ok(app, id, "open_ticket", &c.admin, json!({})).await;
    id
}

/// A ticket the client created, opened, assigned to `c.dev` and started.
pub async fn in_progress_ticket(app: &TestApp, c: &Cast) -> i64 {
    let id = new_ticket(app, &c.client).await;
    start_ticket(app, c, id).await;
    id
}

/// Another user with a token: (id, token).
pub async fn another(app: &TestApp, username: &str, role: Role) -> (i64, String) {
    app.user_token(username, role).await
}

// ---- direct database edits (states the API never produces) --------------------------------

/// Sets a ticket's status without a history row, as the Django admin could (WAITING_APPROVAL is
/// reachable no other way).
pub async fn set_status(app: &TestApp, id: i64, status: &str) {
    let sql = "UPDATE tickets SET status = $1 WHERE id = $2";
    let n = incident::on_write!(app.db.write().await, p => sqlx::query(sql).bind(status).bind(id).execute(p).await.map(|r| r.rows_affected()))
        .expect("set status");
    assert_eq!(n, 1);
}

/// Sets one date-time column of a ticket.
pub async fn set_time(app: &TestApp, id: i64, column: &str, at: Option<DateTime<Utc>>) {
    assert!(
        [
            "response_due_at",
            "resolution_due_at",
            "estimated_resolution_time",
            "created_at",
            "opened_at",
            "started_at",
            "resolved_at",
            "closed_at",
        ]
        .contains(&column),
        "not a ticket date column: {column}"
    );
    let sql = format!("UPDATE tickets SET {column} = $1 WHERE id = $2");
    let n = incident::on_write!(app.db.write().await, p => sqlx::query(&sql).bind(at).bind(id).execute(p).await.map(|r| r.rows_affected()))
        .expect("set time");
    assert_eq!(n, 1);
}

pub async fn set_created_by(app: &TestApp, id: i64, user: i64) {
    let sql = "UPDATE tickets SET created_by_id = $1 WHERE id = $2";
    incident::on_write!(app.db.write().await, p => sqlx::query(sql).bind(user).bind(id).execute(p).await.map(|r| r.rows_affected()))
        .expect("set creator");
}

pub async fn deactivate(app: &TestApp, user: i64) {
    let sql = "UPDATE users SET is_active = FALSE WHERE id = $1";
    incident::on_write!(app.db.write().await, p => sqlx::query(sql).bind(user).execute(p).await.map(|r| r.rows_affected()))
        .expect("deactivate");
}

/// The breach flags as stored (not as computed when read).
pub async fn stored_flags(app: &TestApp, id: i64) -> (bool, bool) {
    let sql = "SELECT response_breached, resolution_breached FROM tickets WHERE id = $1";
    incident::on_db!(&app.db, p => sqlx::query_as::<_, (bool, bool)>(sql).bind(id).fetch_one(p).await)
        .expect("flags")
}

/// How many rows of `table` belong to ticket `id`.
pub async fn rows_of(app: &TestApp, table: &str, id: i64) -> i64 {
    assert!(
        [
            "ticket_history",
            "ticket_attachments",
            "ticket_assignees",
            "notification_log"
        ]
        .contains(&table),
        "not a ticket child table: {table}"
    );
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE ticket_id = $1");
    incident::on_db!(&app.db, p => sqlx::query_scalar::<_, i64>(&sql).bind(id).fetch_one(p).await)
        .expect("count")
}

/// A notification row for the ticket, as a workflow step would leave.
pub async fn insert_notification(app: &TestApp, ticket: i64, recipient: i64) {
    let sql = "INSERT INTO notification_log (ticket_id, recipient_id, notification_type, subject, message, status, \
               created_at, updated_at, is_read, attempts) VALUES ($1, $2, 'SYSTEM', 'Ticket Opened', 'm', 'SENT', $3, $3, FALSE, 0)";
    incident::on_write!(app.db.write().await, p => sqlx::query(sql).bind(ticket).bind(recipient).bind(Utc::now()).execute(p).await.map(|r| r.rows_affected()))
        .expect("insert notification");
}

// ---- time ----------------------------------------------------------------------------------

pub fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

/// ISO 8601 with `Z`, whole seconds: what a client sends.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The serializer format `%Y-%m-%d %H:%M:%S`.
pub fn dt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Parses a serializer date-time back.
pub fn parse_dt(s: &Value) -> DateTime<Utc> {
    let s = s.as_str().unwrap_or_else(|| panic!("not a date-time: {s}"));
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("bad dt {s}: {e}"))
        .and_utc()
}

/// A time in the past with whole seconds, so what the database keeps prints back exactly.
pub fn ago(d: Duration) -> DateTime<Utc> {
    let t = Utc::now() - d;
    t - Duration::nanoseconds(t.timestamp_subsec_nanos() as i64)
}

/// A time in the future with whole seconds, far enough for every assign range rule.
pub fn hours_ahead(h: i64) -> DateTime<Utc> {
    let t = Utc::now() + Duration::hours(h);
    t - Duration::nanoseconds(t.timestamp_subsec_nanos() as i64)
}
