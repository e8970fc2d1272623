//! SLA clock, breach flags (contract §7.3 with the fix of §17 item 19) and the timestamps that
//! are set once (§7.2).

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    response_due_at_is_created_plus_the_priority_minutes,
    a_new_ticket_past_its_response_due_time_reads_as_breached,
    opening_after_the_response_due_time_flags_the_ticket,
    opening_in_time_is_not_a_breach_even_after_the_deadline_passes,
    resolving_after_the_resolution_due_time_flags_the_ticket,
    an_unresolved_ticket_past_its_resolution_due_time_reads_as_breached,
    a_ticket_resolved_in_time_is_not_flagged_later,
    stored_breach_flags_never_reset,
    a_breach_seen_on_reading_survives_moving_the_deadline,
    timestamps_are_set_once_and_never_overwritten,
);

fn flags(d: &Value) -> (bool, bool) {
    (
        d["response_breached"].as_bool().unwrap(),
        d["resolution_breached"].as_bool().unwrap(),
    )
}

/// Asserts the ticket's status and its breach flags, both as stored and as the detail shows them.
async fn assert_breaches(app: &TestApp, c: &Cast, id: i64, status: &str, expected: (bool, bool)) {
    assert_eq!(stored_flags(app, id).await, expected, "stored");
    let d = detail(app, id, &c.client).await;
    assert_eq!(d["status"], status);
    assert_eq!(flags(&d), expected, "shown");
}

/// The admin PATCHes the ticket, asserting 200; returns the breach flags of the answer.
async fn patched_flags(app: &TestApp, c: &Cast, id: i64, body: Value) -> (bool, bool) {
    let (status, body) = app.patch(&detail_path(id), &c.admin, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    flags(&body)
}

async fn response_due_at_is_created_plus_the_priority_minutes(app: TestApp) {
    let c = cast(&app).await;
    for (priority, minutes_) in [("HIGH", 30), ("MEDIUM", 120), ("LOW", 1440)] {
        let body = json!({"title": "t", "description": "d", "priority": priority});
        let created = created_ticket(&app, &c.client, body).await;
        assert_eq!(created["response_sla_minutes"], minutes_);
        let d = detail(&app, created["id"].as_i64().unwrap(), &c.client).await;
        assert_eq!(d["response_sla_minutes"], minutes_);
        assert_eq!(
            parse_dt(&d["response_due_at"]) - parse_dt(&d["created_at"]),
            minutes(minutes_),
            "{priority}"
        );
        assert_eq!(flags(&d), (false, false));
        assert_eq!(d["resolution_due_at"], Value::Null);
    }
}

async fn a_new_ticket_past_its_response_due_time_reads_as_breached(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    set_time(&app, id, "response_due_at", Some(Utc::now() - minutes(1))).await;
    assert_eq!(flags(&detail(&app, id, &c.client).await), (true, false));
    // A save while still NEW stores it (the original's only path to the flag).
    app.patch(&detail_path(id), &c.admin, json!({"title": "Saved"}))
        .await;
    assert_eq!(stored_flags(&app, id).await, (true, false));
}

async fn opening_after_the_response_due_time_flags_the_ticket(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    set_time(&app, id, "response_due_at", Some(Utc::now() - minutes(5))).await;
    act_ok(&app, id, "open_ticket", &c.admin, json!({})).await;
    assert_breaches(&app, &c, id, "OPENED", (true, false)).await;
}

async fn opening_in_time_is_not_a_breach_even_after_the_deadline_passes(app: TestApp) {
    let c = cast(&app).await;
    let id = opened_ticket(&app, &c).await;
    let now = Utc::now();
    set_time(&app, id, "opened_at", Some(now - Duration::hours(3))).await;
    set_time(&app, id, "response_due_at", Some(now - Duration::hours(2))).await;
    assert_eq!(flags(&detail(&app, id, &c.client).await), (false, false));
    assign_dev(&app, &c, id).await;
    assert_eq!(stored_flags(&app, id).await, (false, false));
}

async fn resolving_after_the_resolution_due_time_flags_the_ticket(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let due = json!({"resolution_due_at": iso(hours_ahead(4))});
    assign_dev_with(&app, &c, id, due).await;
    assert_eq!(stored_flags(&app, id).await, (false, false));
    set_time(&app, id, "resolution_due_at", Some(Utc::now() - minutes(1))).await;
    act_ok(&app, id, "finish_work", &c.dev, json!({})).await;
    assert_breaches(&app, &c, id, "RESOLVED", (false, true)).await;
}

async fn an_unresolved_ticket_past_its_resolution_due_time_reads_as_breached(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    set_time(
        &app,
        id,
        "resolution_due_at",
        Some(Utc::now() + minutes(10)),
    )
    .await;
    assert_eq!(flags(&detail(&app, id, &c.client).await), (false, false));
    set_time(&app, id, "resolution_due_at", Some(Utc::now() - minutes(1))).await;
    assert_eq!(flags(&detail(&app, id, &c.client).await), (false, true));
}

async fn a_ticket_resolved_in_time_is_not_flagged_later(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let now = Utc::now();
    set_time(&app, id, "resolved_at", Some(now - Duration::hours(3))).await;
    set_time(
        &app,
        id,
        "resolution_due_at",
        Some(now - Duration::hours(2)),
    )
    .await;
    for status in ["RESOLVED", "WAITING_APPROVAL", "CLOSED"] {
        set_status(&app, id, status).await;
        assert_eq!(
            flags(&detail(&app, id, &c.client).await),
            (false, false),
            "{status}"
        );
    }
    // Resolved late, by contrast, shows whatever the status.
    set_time(&app, id, "resolved_at", Some(now - Duration::hours(1))).await;
    assert_eq!(flags(&detail(&app, id, &c.client).await), (false, true));
}

async fn stored_breach_flags_never_reset(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    set_time(&app, id, "response_due_at", Some(Utc::now() - minutes(5))).await;
    start_ticket(&app, &c, id).await;
    set_time(&app, id, "resolution_due_at", Some(Utc::now() - minutes(5))).await;
    act_ok(&app, id, "finish_work", &c.dev, json!({})).await;
    assert_eq!(stored_flags(&app, id).await, (true, true));
    let later = iso(hours_ahead(100));
    let body = json!({"response_due_at": later, "resolution_due_at": later});
    assert_eq!(patched_flags(&app, &c, id, body).await, (true, true));
    act_ok(&app, id, "approve", &c.client, json!({})).await;
    assert_breaches(&app, &c, id, "CLOSED", (true, true)).await;
}

/// A ticket shown as breached stays breached when the admin then moves the deadline later.
async fn a_breach_seen_on_reading_survives_moving_the_deadline(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    set_time(&app, id, "response_due_at", Some(Utc::now() - minutes(5))).await;
    assert_eq!(flags(&detail(&app, id, &c.client).await), (true, false));
    let later = json!({"response_due_at": iso(hours_ahead(10))});
    assert_eq!(patched_flags(&app, &c, id, later).await, (true, false));

    let id = in_progress_ticket(&app, &c).await;
    set_time(&app, id, "resolution_due_at", Some(Utc::now() - minutes(5))).await;
    assert_eq!(flags(&detail(&app, id, &c.client).await), (false, true));
    let later = json!({"resolution_due_at": iso(hours_ahead(10))});
    assign_dev_with(&app, &c, id, later).await;
    assert_breaches(&app, &c, id, "IN_PROGRESS", (false, true)).await;
}

async fn timestamps_are_set_once_and_never_overwritten(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    let d = detail(&app, id, &c.client).await;
    for key in ["opened_at", "started_at", "resolved_at"] {
        parse_dt(&d[key]);
    }
    assert_eq!(d["closed_at"], Value::Null);
    let old = ago(Duration::days(10));
    let columns = ["opened_at", "started_at", "resolved_at"];
    for (i, column) in columns.iter().enumerate() {
        set_time(&app, id, column, Some(old + Duration::hours(i as i64))).await;
    }
    reject(&app, &c, id, "It still crashes on save").await;
    act_ok(&app, id, "start_work", &c.dev, json!({})).await;
    act_ok(&app, id, "finish_work", &c.dev, json!({})).await;
    set_status(&app, id, "WAITING_APPROVAL").await;
    reject(&app, &c, id, "And once more it fails").await;
    act_ok(&app, id, "finish_work", &c.dev, json!({})).await;
    act_ok(&app, id, "approve", &c.client, json!({})).await;
    let d = detail(&app, id, &c.client).await;
    for (i, column) in columns.iter().enumerate() {
        assert_eq!(
            d[*column],
            dt(old + Duration::hours(i as i64)),
            "{column} keeps its first value"
        );
    }
    let closed = parse_dt(&d["closed_at"]);
    assert!(Utc::now() - closed < Duration::minutes(1));
    assert_eq!(d["status"], "CLOSED");
}
