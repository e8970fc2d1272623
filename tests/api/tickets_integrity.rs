//! Refused requests change nothing: after each one the ticket detail (row, assignees, history,
//! attachments) is byte for byte what it was.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    refused_requests_leave_an_in_progress_ticket_unchanged,
    refused_requests_leave_a_resolved_ticket_unchanged,
);

/// One request that must fail: method, action (None = the detail route), token, body, status.
struct Refused<'a> {
    method: Method,
    action: Option<&'a str>,
    token: &'a str,
    body: Option<Value>,
    status: StatusCode,
}

fn post<'a>(action: &'a str, token: &'a str, body: Value, status: StatusCode) -> Refused<'a> {
    Refused {
        method: Method::POST,
        action: Some(action),
        token,
        body: Some(body),
        status,
    }
}

/// A request to the detail route itself.
fn on_detail<'a>(
    method: Method,
    token: &'a str,
    body: Option<Value>,
    status: StatusCode,
) -> Refused<'a> {
    Refused {
        method,
        action: None,
        token,
        body,
        status,
    }
}

/// A DELETE of an action route.
fn delete<'a>(action: &'a str, token: &'a str, status: StatusCode) -> Refused<'a> {
    Refused {
        method: Method::DELETE,
        action: Some(action),
        token,
        body: None,
        status,
    }
}

async fn check_unchanged(app: &TestApp, id: i64, reader: &str, cases: Vec<Refused<'_>>) {
    let before = detail_bytes(app, id, reader).await;
    for case in cases {
        let target = match case.action {
            Some(a) => path(id, a),
            None => detail_path(id),
        };
        let (status, body) = app
            .call(
                case.method.clone(),
                &target,
                Some(case.token),
                case.body.clone(),
            )
            .await;
        assert_eq!(
            status, case.status,
            "{} {target} {:?}: {body}",
            case.method, case.body
        );
        assert_eq!(
            detail_bytes(app, id, reader).await,
            before,
            "{} {target} {:?} changed the ticket",
            case.method,
            case.body
        );
    }
}

async fn refused_requests_leave_an_in_progress_ticket_unchanged(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let dates = json!({"resolution_due_at": iso(hours_ahead(50)),
                       "estimated_resolution_time": iso(hours_ahead(40))});
    assign_dev_with(&app, &c, id, dates).await;
    upload(
        &app,
        id,
        &c.client,
        "a.txt",
        Some("text/plain"),
        b"attached",
    )
    .await;
    add_comment(&app, id, &c.client, "Hello there").await;
    let bad = StatusCode::BAD_REQUEST;
    let forbidden = StatusCode::FORBIDDEN;
    let bad_assign = |body: Value| post("assign", &c.admin, body, bad);
    let cases = vec![
        bad_assign(json!({"assigned_to": []})),
        bad_assign(json!({"assigned_to": [c.dev_id, c.dev_id]})),
        bad_assign(json!({"assigned_to": [999_999]})),
        bad_assign(
            json!({"assigned_to": [c.dev_id], "resolution_due_at": null, "estimated_resolution_time": "bad"}),
        ),
        bad_assign(
            json!({"assigned_to": [c.dev_id], "resolution_due_at": iso(hours_ahead(2)),
                   "estimated_resolution_time": iso(hours_ahead(3))}),
        ),
        post(
            "assign",
            &c.client,
            json!({"assigned_to": [c.dev_id]}),
            forbidden,
        ),
        post("open_ticket", &c.admin, json!({}), bad),
        post("open_ticket", &c.dev, json!({}), forbidden),
        post("start_work", &c.client, json!({}), forbidden),
        post("start_work", &c.admin, json!({}), forbidden),
        post("finish_work", &c.dev, json!({"comment": "abc"}), bad),
        post("finish_work", &c.dev, json!({"comment": null}), bad),
        post("finish_work", &c.admin, json!({}), forbidden),
        post("approve", &c.client, json!({}), bad),
        post("approve", &c.admin, json!({}), forbidden),
        post(
            "reject",
            &c.client,
            json!({"comment": "A long enough reason"}),
            bad,
        ),
        post("add_comment", &c.client, json!({"comment": "no"}), bad),
        post("add_comment", &c.client, json!({}), bad),
        post(
            "add_attachment",
            &c.client,
            json!({"file_data": "aGk="}),
            bad,
        ),
        post("add_attachment", &c.client, json!({}), bad),
        delete("delete_attachment/999999", &c.client, StatusCode::NOT_FOUND),
        on_detail(
            Method::PATCH,
            &c.admin,
            Some(json!({"status": "CLOSED"})),
            bad,
        ),
        on_detail(
            Method::PATCH,
            &c.admin,
            Some(json!({"assigned_to": []})),
            bad,
        ),
        on_detail(
            Method::PATCH,
            &c.admin,
            Some(json!({"title": "", "priority": "NOPE"})),
            bad,
        ),
        on_detail(
            Method::PUT,
            &c.admin,
            Some(json!({"title": "Only a title"})),
            bad,
        ),
        on_detail(
            Method::PATCH,
            &c.client,
            Some(json!({"title": "Mine"})),
            forbidden,
        ),
        on_detail(Method::DELETE, &c.dev, None, forbidden),
    ];
    check_unchanged(&app, id, &c.admin, cases).await;
}

async fn refused_requests_leave_a_resolved_ticket_unchanged(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let att = upload(&app, id, &c.client, "c.txt", None, b"client file").await;
    let bad = StatusCode::BAD_REQUEST;
    let forbidden = StatusCode::FORBIDDEN;
    let delete_att = format!("delete_attachment/{att}");
    let cases = vec![
        post("reject", &c.client, json!({}), bad),
        post("reject", &c.client, json!({"comment": "too short"}), bad),
        post("reject", &c.client, json!({"comment": "   "}), bad),
        post(
            "reject",
            &c.admin,
            json!({"comment": "A long enough reason"}),
            forbidden,
        ),
        post("approve", &c.dev, json!({}), forbidden),
        post("finish_work", &c.dev, json!({}), bad),
        post("start_work", &c.dev, json!({}), bad),
        delete(&delete_att, &c.admin, forbidden),
        delete(&delete_att, &c.dev, forbidden),
    ];
    check_unchanged(&app, id, &c.client, cases).await;
}
