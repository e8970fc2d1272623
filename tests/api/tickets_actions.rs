//! The workflow actions, comments and the developers list (contract §6.6–6.13, §7.1, §17).

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    open_ticket_moves_new_to_opened_and_records_history,
    open_ticket_refuses_tickets_that_are_not_new,
    assign_replaces_the_set_and_names_developers_in_id_order,
    assign_with_the_same_set_writes_no_history,
    assign_is_allowed_in_any_status_including_closed,
    start_work_answers_the_estimated_time_in_iso_form,
    start_work_on_in_progress_repeats_history_but_stays_in_progress,
    start_work_requires_an_opened_or_in_progress_ticket,
    finish_work_resolves_with_the_trimmed_comment_or_work_completed,
    finish_work_comment_rules,
    finish_work_checks_the_status_before_the_comment,
    approve_closes_a_resolved_ticket,
    approve_too_early_answers_the_four_key_body,
    approve_by_an_admin_creator_says_admin,
    approve_closes_a_ticket_waiting_for_approval,
    reject_sends_the_ticket_back_to_in_progress,
    reject_from_waiting_approval_records_the_real_previous_status,
    reject_reason_rules,
    reject_requires_a_ticket_awaiting_approval_and_checks_that_before_the_reason,
    add_comment_records_history_without_touching_the_ticket,
    add_comment_rules,
    developers_lists_every_support_user_for_admins,
    aliases_behave_like_the_actions_they_name,
    malformed_bodies_do_not_hide_role_and_status_answers,
);

const REQUIRED: &str = "This field is required.";
const BLANK: &str = "This field may not be blank.";
const NULL: &str = "This field may not be null.";
const TOO_LONG: &str = "Ensure this field has no more than 2000 characters.";

/// Each body is refused with 400 and `{"comment": [message]}`.
async fn comment_is_refused<const N: usize>(
    app: &TestApp,
    id: i64,
    action: &str,
    token: &str,
    cases: [(Value, &str); N],
) {
    for (body, message) in cases {
        let (status, got) = act(app, id, action, token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(got, json!({ "comment": [message] }), "{body}");
    }
}

async fn open_ticket_moves_new_to_opened_and_records_history(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let body = act_ok(&app, id, "open_ticket", &c.admin, json!({"ignored": true})).await;
    assert_eq!(keys(&body), ["message", "id", "title", "status_display"]);
    assert_eq!(
        body,
        json!({"message": "Ticket opened successfully", "id": id, "title": "Login broken", "status_display": "Opened"})
    );
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["status"], "OPENED");
    parse_dt(&d["opened_at"]);
    assert_eq!(history(&d).len(), 1);
    let h = assert_last_step(&d, "NEW", "OPENED", "Ticket opened by admin");
    assert_eq!(h["status_to_display"], "Opened");
    assert_eq!(h["changed_by_name"], "admin");
}

async fn open_ticket_refuses_tickets_that_are_not_new(app: TestApp) {
    let c = cast(&app).await;
    let id = opened_ticket(&app, &c).await;
    assert_eq!(
        act(&app, id, "open_ticket", &c.admin, json!({})).await,
        (
            StatusCode::BAD_REQUEST,
            error("Ticket is not in NEW status")
        )
    );
    assert_eq!(
        act(&app, 999_999, "open_ticket", &c.admin, json!({})).await,
        (StatusCode::NOT_FOUND, no_ticket())
    );
}

async fn assign_replaces_the_set_and_names_developers_in_id_order(app: TestApp) {
    let c = cast(&app).await;
    let zed = app
        .create_user_with("zed", Role::Support, "Zed", "Last", None)
        .await;
    let amy = app
        .create_user_with("amy", Role::Support, "Amy", "", None)
        .await;
    let id = opened_ticket(&app, &c).await;
    let body = assign(&app, &c, id, json!({"assigned_to": [amy, c.dev_id, zed]})).await;
    assert_eq!(keys(&body), ["message", "id", "title", "assigned_to_names"]);
    assert_eq!(
        body,
        json!({"message": "Developers assigned successfully", "id": id, "title": "Login broken",
               "assigned_to_names": "dev, Zed Last, Amy"})
    );
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["assigned_to"], json!([c.dev_id, zed, amy]));
    assert_eq!(d["assigned_to_names"], json!(["dev", "Zed Last", "Amy"]));
    let assigned = "Ticket assigned to dev, Zed Last, Amy";
    assert_last_step(&d, "OPENED", "OPENED", assigned);

    let body = assign(&app, &c, id, json!({"assigned_to": [amy]})).await;
    assert_eq!(body["assigned_to_names"], "Amy");
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["assigned_to"], json!([amy]), "the set is replaced");
    assert_eq!(history(&d)[0]["comment"], "Ticket assigned to Amy");
    let (status, _) = app.get(&detail_path(id), &c.dev).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the removed developer lost sight of it"
    );
}

async fn assign_with_the_same_set_writes_no_history(app: TestApp) {
    let c = cast(&app).await;
    let (dev2, _) = another(&app, "dev2", Role::Support).await;
    let id = opened_ticket(&app, &c).await;
    assign(&app, &c, id, json!({"assigned_to": [c.dev_id, dev2]})).await;
    let before = history(&detail(&app, id, &c.admin).await).len();
    let due = hours_ahead(48);
    let body = assign(
        &app,
        &c,
        id,
        json!({"assigned_to": [dev2, c.dev_id], "resolution_due_at": iso(due)}),
    )
    .await;
    assert_eq!(body["assigned_to_names"], "dev, dev2");
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(history(&d).len(), before, "nothing about the set changed");
    assert_eq!(d["resolution_due_at"], dt(due), "the dates still change");
    assign(&app, &c, id, json!({"assigned_to": [dev2]})).await;
    assert_eq!(history(&detail(&app, id, &c.admin).await).len(), before + 1);
}

async fn assign_is_allowed_in_any_status_including_closed(app: TestApp) {
    let c = cast(&app).await;
    let (dev2, _) = another(&app, "dev2", Role::Support).await;
    let id = resolved_ticket(&app, &c).await;
    act_ok(&app, id, "approve", &c.client, json!({})).await;
    let body = assign(&app, &c, id, json!({"assigned_to": [dev2]})).await;
    assert_eq!(body["assigned_to_names"], "dev2");
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["status"], "CLOSED");
    let h = &history(&d)[0];
    assert_eq!(
        (&h["status_from"], &h["status_to"]),
        (&json!("CLOSED"), &json!("CLOSED"))
    );
}

/// Opens a ticket, assigns `c.dev` with these fields (the estimate) and starts work: the id and
/// the start_work answer.
async fn started_with(app: &TestApp, c: &Cast, fields: Value) -> (i64, Value) {
    let id = opened_ticket(app, c).await;
    assign_dev_with(app, c, id, fields).await;
    (id, act_ok(app, id, "start_work", &c.dev, json!({})).await)
}

async fn start_work_answers_the_estimated_time_in_iso_form(app: TestApp) {
    let c = cast(&app).await;
    let estimate = hours_ahead(5);
    let with_micros = format!("{}.123456Z", estimate.format("%Y-%m-%dT%H:%M:%S"));
    let (id, body) =
        started_with(&app, &c, json!({"estimated_resolution_time": with_micros})).await;
    assert_eq!(
        keys(&body),
        [
            "message",
            "id",
            "project_name",
            "status_display",
            "estimated_resolution_time"
        ]
    );
    assert_eq!(
        body,
        json!({"message": "Status updated successfully", "id": id, "project_name": "General",
               "status_display": "In Progress", "estimated_resolution_time": with_micros})
    );
    // Whole seconds carry no fraction; no estimate is null.
    let (_, body) = started_with(
        &app,
        &c,
        json!({"estimated_resolution_time": iso(estimate)}),
    )
    .await;
    assert_eq!(body["estimated_resolution_time"], iso(estimate));
    let (_, body) = started_with(&app, &c, json!({})).await;
    assert_eq!(body["estimated_resolution_time"], Value::Null);
}

async fn start_work_on_in_progress_repeats_history_but_stays_in_progress(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let first_start = detail(&app, id, &c.dev).await["started_at"].clone();
    let long_ago = ago(chrono::Duration::days(3));
    set_time(&app, id, "started_at", Some(long_ago)).await;
    let body = act_ok(&app, id, "start_work", &c.dev, json!({})).await;
    assert_eq!(body["status_display"], "In Progress");
    let d = detail(&app, id, &c.dev).await;
    assert_eq!(d["status"], "IN_PROGRESS");
    assert_eq!(d["started_at"], dt(long_ago), "not refreshed");
    assert!(first_start.is_string());
    assert_last_step(&d, "IN_PROGRESS", "IN_PROGRESS", "Work started on ticket");
    let h = history(&d);
    assert_eq!(h[1]["comment"], "Work started on ticket");
    assert_eq!(h[1]["status_from"], "OPENED");
}

async fn start_work_requires_an_opened_or_in_progress_ticket(app: TestApp) {
    let c = cast(&app).await;
    let id = assigned_ticket(&app, &c).await;
    let cannot = error("Ticket cannot be started in current status");
    let (status, body) = act(&app, id, "start_work", &c.dev, json!({})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, cannot.clone()));
    let resolved = resolved_ticket(&app, &c).await;
    for state in ["RESOLVED", "WAITING_APPROVAL", "CLOSED"] {
        set_status(&app, resolved, state).await;
        let (status, body) = act(&app, resolved, "start_work", &c.dev, json!({})).await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, cannot.clone()),
            "{state}"
        );
    }
}

async fn finish_work_resolves_with_the_trimmed_comment_or_work_completed(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let comment = json!({"comment": "  Patched the form  "});
    let body = act_ok(&app, id, "finish_work", &c.dev, comment).await;
    assert_eq!(
        keys(&body),
        ["message", "id", "project_name", "status_display"]
    );
    assert_eq!(
        body,
        json!({"message": "Status updated successfully", "id": id, "project_name": "General", "status_display": "Resolved"})
    );
    let d = detail(&app, id, &c.dev).await;
    assert_eq!(d["status"], "RESOLVED");
    parse_dt(&d["resolved_at"]);
    let h = assert_last_step(&d, "IN_PROGRESS", "RESOLVED", "Patched the form");
    assert_eq!(h["status_to_display"], "Resolved");

    for body in [
        json!({}),
        json!({"comment": ""}),
        json!({"comment": "   \n "}),
    ] {
        let id = in_progress_ticket(&app, &c).await;
        act_ok(&app, id, "finish_work", &c.dev, body.clone()).await;
        assert_eq!(
            comments(&detail(&app, id, &c.dev).await)[0],
            "Work completed",
            "{body}"
        );
    }
}

async fn finish_work_comment_rules(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let too_short = "Comment must be at least 5 characters if provided";
    let cases = [
        (json!({"comment": "abcd"}), too_short),
        (json!({"comment": "  abc  "}), too_short),
        (json!({"comment": "x".repeat(2001)}), TOO_LONG),
        (json!({"comment": null}), NULL),
        (json!({"comment": ["a list"]}), "Not a valid string."),
    ];
    comment_is_refused(&app, id, "finish_work", &c.dev, cases).await;
    assert_eq!(detail(&app, id, &c.dev).await["status"], "IN_PROGRESS");
    // Exactly five characters, and numbers as text, are fine.
    act_ok(&app, id, "finish_work", &c.dev, json!({"comment": 12345})).await;
    assert_eq!(comments(&detail(&app, id, &c.dev).await)[0], "12345");
}

async fn finish_work_checks_the_status_before_the_comment(app: TestApp) {
    let c = cast(&app).await;
    let id = opened_ticket(&app, &c).await;
    assign_dev(&app, &c, id).await;
    let not_in_progress = (StatusCode::BAD_REQUEST, error("Ticket is not in progress"));
    let short = json!({"comment": "ab"});
    assert_eq!(
        act(&app, id, "finish_work", &c.dev, short).await,
        not_in_progress
    );
    let resolved = resolved_ticket(&app, &c).await;
    assert_eq!(
        act(&app, resolved, "finish_work", &c.dev, json!({})).await,
        not_in_progress
    );
}

async fn approve_closes_a_resolved_ticket(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let body = act_ok(&app, id, "approve", &c.client, json!({})).await;
    assert_eq!(
        keys(&body),
        ["message", "id", "project_name", "status_display"]
    );
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["status"], "CLOSED");
    parse_dt(&d["closed_at"]);
    let approved = "Ticket approved and closed by client";
    let h = assert_last_step(&d, "RESOLVED", "CLOSED", approved);
    assert_eq!(h["status_to_display"], "Closed");
}

async fn approve_too_early_answers_the_four_key_body(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let (status, body) = act(&app, id, "approve", &c.client, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        ordered(&body),
        concat!(
            r#"{"error":"Ticket is not awaiting approval","current_status":"IN_PROGRESS","#,
            r#""required_status":["RESOLVED","WAITING_APPROVAL"],"#,
            r#""message":"Developer must finish work before client can approve"}"#
        )
    );
    let closed = resolved_ticket(&app, &c).await;
    act_ok(&app, closed, "approve", &c.client, json!({})).await;
    let (status, body) = act(&app, closed, "approve", &c.client, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["current_status"], "CLOSED");
}

async fn approve_by_an_admin_creator_says_admin(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.admin).await;
    start_ticket(&app, &c, id).await;
    act_ok(&app, id, "finish_work", &c.dev, json!({})).await;
    let body = act_ok(&app, id, "approve", &c.admin, json!({})).await;
    assert_eq!(body["status_display"], "Closed");
    assert_eq!(
        comments(&detail(&app, id, &c.admin).await)[0],
        "Ticket approved and closed by admin"
    );
}

async fn approve_closes_a_ticket_waiting_for_approval(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    set_status(&app, id, "WAITING_APPROVAL").await;
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["status_display"], "Waiting for Client Approval");
    act_ok(&app, id, "approve", &c.client, json!({})).await;
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["status"], "CLOSED");
    assert_eq!(history(&d)[0]["status_from"], "WAITING_APPROVAL");
    assert_eq!(
        history(&d)[0]["status_from_display"],
        "Waiting for Client Approval"
    );
}

async fn reject_sends_the_ticket_back_to_in_progress(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let body = reject(&app, &c, id, "  Still broken on Safari  ").await;
    assert_eq!(
        body,
        json!({"message": "Status updated to In Progress", "id": id, "project_name": "General", "status_display": "In Progress"})
    );
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["status"], "IN_PROGRESS");
    let rejected = "Rejected: Still broken on Safari";
    assert_last_step(&d, "RESOLVED", "IN_PROGRESS", rejected);
}

async fn reject_from_waiting_approval_records_the_real_previous_status(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    set_status(&app, id, "WAITING_APPROVAL").await;
    reject(&app, &c, id, "The export is still empty").await;
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["status"], "IN_PROGRESS");
    let rejected = "Rejected: The export is still empty";
    let h = assert_last_step(&d, "WAITING_APPROVAL", "IN_PROGRESS", rejected);
    assert_eq!(h["status_from_display"], "Waiting for Client Approval");
}

async fn reject_reason_rules(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let too_short = "Rejection reason must be at least 10 characters";
    let cases = [
        (json!({}), REQUIRED),
        (json!({"comment": ""}), BLANK),
        (json!({"comment": "    "}), BLANK),
        (json!({"comment": null}), NULL),
        (json!({"comment": "too short"}), too_short),
        (json!({"comment": "  123456789  "}), too_short),
        (json!({"comment": "x".repeat(2001)}), TOO_LONG),
        (json!({"comment": {"a": 1}}), "Not a valid string."),
    ];
    comment_is_refused(&app, id, "reject", &c.client, cases).await;
    assert_eq!(detail(&app, id, &c.client).await["status"], "RESOLVED");
    reject(&app, &c, id, "1234567890").await;
}

async fn reject_requires_a_ticket_awaiting_approval_and_checks_that_before_the_reason(
    app: TestApp,
) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    for body in [json!({}), json!({"comment": "A perfectly long reason"})] {
        let (status, got) = act(&app, id, "reject", &c.client, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            ordered(&got),
            r#"{"error":"Ticket is not awaiting approval"}"#
        );
    }
}

async fn add_comment_records_history_without_touching_the_ticket(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    act_ok(&app, id, "approve", &c.client, json!({})).await;
    let before = detail(&app, id, &c.client).await;
    let body = add_comment(&app, id, &c.dev, "  Thanks!  ").await;
    assert_eq!(body, json!({"message": "Comment added successfully"}));
    let after = detail(&app, id, &c.client).await;
    let h = assert_last_step(&after, "CLOSED", "CLOSED", "Thanks!");
    assert_eq!(h["changed_by_name"], "dev");
    assert_eq!(history(&after).len(), history(&before).len() + 1);
    let strip = |mut d: Value| {
        d.as_object_mut().unwrap().remove("history");
        d
    };
    assert_eq!(strip(after), strip(before), "the ticket row is untouched");
}

async fn add_comment_rules(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let too_short = "Comment must be at least 3 characters";
    let cases = [
        (json!({}), REQUIRED),
        (json!({"comment": ""}), BLANK),
        (json!({"comment": null}), NULL),
        (json!({"comment": "ab"}), too_short),
        (json!({"comment": "  ab  "}), too_short),
        (json!({"comment": "x".repeat(2001)}), TOO_LONG),
        (json!({"comment": true}), "Not a valid string."),
    ];
    comment_is_refused(&app, id, "add_comment", &c.client, cases).await;
    assert_eq!(history(&detail(&app, id, &c.client).await).len(), 0);
    add_comment(&app, id, &c.client, "abc").await;
    add_comment(&app, id, &c.client, &"x".repeat(2000)).await;
    let (status, _) = post_form(
        &app,
        &path(id, "add_comment"),
        &c.client,
        &[("comment", "from a form")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        comments(&detail(&app, id, &c.client).await)[0],
        "from a form"
    );
}

async fn developers_lists_every_support_user_for_admins(app: TestApp) {
    let c = cast(&app).await;
    let ann = app
        .create_user_with("ann", Role::Support, "Ann", "Lee", Some("+201094402250"))
        .await;
    deactivate(&app, ann).await;
    let (status, body) = app.get("/api/tickets/developers/", &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    let list = body.as_array().expect("a plain array, not a page");
    assert_eq!(list.len(), 2);
    assert_eq!(
        keys(&list[0]),
        [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "phone_number",
            "whatsapp_number",
            "department"
        ]
    );
    assert_eq!(
        body,
        json!([
            {"id": c.dev_id, "username": "dev", "email": "dev@example.com", "first_name": "",
             "last_name": "", "role": "SUPPORT", "phone_number": "", "whatsapp_number": "", "department": ""},
            {"id": ann, "username": "ann", "email": "ann@example.com", "first_name": "Ann",
             "last_name": "Lee", "role": "SUPPORT", "phone_number": "", "whatsapp_number": "+201094402250",
             "department": ""},
        ])
    );
}

/// The design card's short names answer exactly what the DRF actions answer.
async fn aliases_behave_like_the_actions_they_name(app: TestApp) {
    let c = cast(&app).await;
    let mut answers: Vec<Vec<(StatusCode, Value)>> = Vec::new();
    for names in [
        ["open_ticket", "start_work", "finish_work", "approve"],
        ["open", "start", "finish", "close"],
    ] {
        let [open, start, finish, close] = names;
        let id = new_ticket(&app, &c.client).await;
        let mut got = Vec::new();
        got.push(act(&app, id, open, &c.client, json!({})).await);
        got.push(act(&app, id, start, &c.dev, json!({})).await);
        got.push(act(&app, id, open, &c.admin, json!({})).await);
        assign_dev(&app, &c, id).await;
        got.push(act(&app, id, close, &c.client, json!({})).await);
        got.push(act(&app, id, start, &c.dev, json!({})).await);
        got.push(act(&app, id, finish, &c.dev, json!({"comment": "abc"})).await);
        got.push(
            act(
                &app,
                id,
                finish,
                &c.dev,
                json!({"comment": "Done and dusted"}),
            )
            .await,
        );
        got.push(act(&app, id, close, &c.admin, json!({})).await);
        got.push(act(&app, id, close, &c.client, json!({})).await);
        let d = detail(&app, id, &c.client).await;
        got.push((StatusCode::OK, json!(comments(&d))));
        // The ids differ; compare everything else.
        for (_, body) in got.iter_mut() {
            if let Some(m) = body.as_object_mut() {
                m.remove("id");
            }
        }
        answers.push(got);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1][0].0, StatusCode::FORBIDDEN);
    assert_eq!(answers[1][8].1["status_display"], "Closed");
}

/// DRF reads a body only when the view first touches it: after the lookup, the role checks and
/// the status check. A malformed body must not hide those answers.
async fn malformed_bodies_do_not_hide_role_and_status_answers(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let resolved = resolved_ticket(&app, &c).await;
    let cases: Vec<(i64, &str, &str, StatusCode, Value)> = vec![
        (
            id,
            "finish_work",
            c.client.as_str(),
            StatusCode::FORBIDDEN,
            error("Only developers assigned to this ticket can finish work"),
        ),
        (
            999_999,
            "finish_work",
            c.dev.as_str(),
            StatusCode::NOT_FOUND,
            no_ticket(),
        ),
        (
            resolved,
            "finish_work",
            c.dev.as_str(),
            StatusCode::BAD_REQUEST,
            error("Ticket is not in progress"),
        ),
        (
            resolved,
            "reject",
            c.admin.as_str(),
            StatusCode::FORBIDDEN,
            error("Only the ticket creator can reject this ticket"),
        ),
        (
            id,
            "reject",
            c.client.as_str(),
            StatusCode::BAD_REQUEST,
            error("Ticket is not awaiting approval"),
        ),
        (
            id,
            "assign",
            c.client.as_str(),
            StatusCode::FORBIDDEN,
            error("Only administrators can assign tickets to developers"),
        ),
        (
            999_999,
            "add_comment",
            c.client.as_str(),
            StatusCode::NOT_FOUND,
            no_ticket(),
        ),
    ];
    for (ticket, action, token, status, body) in cases {
        let r = post_malformed_json(&app, &path(ticket, action), token).await;
        assert_eq!(r.status, status, "{action} on {ticket}: {}", r.text());
        assert_eq!(r.json(), body, "{action} on {ticket}");
    }
    // Once the checks pass, the parse error is the answer.
    for (ticket, action, token) in [
        (id, "finish_work", &c.dev),
        (resolved, "reject", &c.client),
        (id, "add_comment", &c.client),
        (id, "assign", &c.admin),
    ] {
        let r = post_malformed_json(&app, &path(ticket, action), token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{action}");
        let detail = r.json()["detail"].as_str().unwrap_or_default().to_string();
        assert!(
            detail.starts_with("JSON parse error - "),
            "{action}: {detail}"
        );
    }
    let r = raw(
        &app,
        Method::POST,
        &path(id, "finish_work"),
        Some(&c.client),
        Some("text/plain"),
        "hello",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(detail(&app, id, &c.dev).await["status"], "IN_PROGRESS");
}
