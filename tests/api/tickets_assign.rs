//! The `assign` body: every message of contract §6.7, the check order, form bodies, the SLA
//! dates it sets and clears, and the developer lookup.

use chrono::{Duration, Utc};
use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    assigned_to_presence_type_and_length_messages,
    assigned_to_item_errors_are_keyed_by_index,
    numeric_strings_are_developer_ids,
    form_encoded_repeated_keys_assign_several_developers,
    date_format_and_range_messages,
    cross_field_rule_applies_only_without_other_errors,
    every_failing_field_is_reported_together_in_field_order,
    null_clears_a_date_and_omitting_it_keeps_it,
    some_user_ids_are_invalid_or_not_support_users,
    body_validation_comes_after_the_lookup,
);

async fn assign_error(app: &TestApp, c: &Cast, id: i64, body: Value) -> Value {
    let (status, got) = act(app, id, "assign", &c.admin, body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {got}");
    got
}

async fn assigned_to_presence_type_and_length_messages(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let many: Vec<i64> = (1..=21).collect();
    for (body, message) in [
        (json!({}), "This field is required.".to_string()),
        (
            json!({"assigned_to": null}),
            "This field may not be null.".to_string(),
        ),
        (
            json!({"assigned_to": c.dev_id}),
            "Expected a list of items but got type \"int\".".to_string(),
        ),
        (
            json!({"assigned_to": c.dev_id.to_string()}),
            "Expected a list of items but got type \"str\".".to_string(),
        ),
        (
            json!({"assigned_to": {"0": c.dev_id}}),
            "Expected a list of items but got type \"dict\".".to_string(),
        ),
        (
            json!({"assigned_to": true}),
            "Expected a list of items but got type \"bool\".".to_string(),
        ),
        (
            json!({"assigned_to": []}),
            "At least one developer must be assigned".to_string(),
        ),
        (
            json!({"assigned_to": many}),
            "Cannot assign more than 20 developers to one ticket".to_string(),
        ),
        (
            json!({"assigned_to": [c.dev_id, c.dev_id]}),
            "Duplicate user IDs are not allowed".to_string(),
        ),
        (
            json!({"assigned_to": [c.dev_id, c.dev_id.to_string()]}),
            "Duplicate user IDs are not allowed".to_string(),
        ),
    ] {
        let got = assign_error(&app, &c, id, body.clone()).await;
        assert_eq!(got, json!({ "assigned_to": [message] }), "{body}");
    }
}

async fn assigned_to_item_errors_are_keyed_by_index(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let got = assign_error(
        &app,
        &c,
        id,
        json!({"assigned_to": [c.dev_id, "x", null, 0, -4, true, 2.5, [1]]}),
    )
    .await;
    assert_eq!(
        ordered(&got),
        concat!(
            r#"{"assigned_to":{"1":["A valid integer is required."],"2":["This field may not be null."],"#,
            r#""3":["Ensure this value is greater than or equal to 1."],"#,
            r#""4":["Ensure this value is greater than or equal to 1."],"5":["A valid integer is required."],"#,
            r#""6":["A valid integer is required."],"7":["A valid integer is required."]}}"#
        )
    );
    // Item errors come before the length and duplicate rules.
    let mut long: Vec<Value> = (1..=25).map(|i| json!(i)).collect();
    long[24] = json!("bad");
    let got = assign_error(&app, &c, id, json!({ "assigned_to": long })).await;
    assert_eq!(
        got,
        json!({"assigned_to": {"24": ["A valid integer is required."]}})
    );
    let got = assign_error(&app, &c, id, json!({"assigned_to": [5, 5, null]})).await;
    assert_eq!(
        got,
        json!({"assigned_to": {"2": ["This field may not be null."]}})
    );
}

async fn numeric_strings_are_developer_ids(app: TestApp) {
    let c = cast(&app).await;
    let (dev2, _) = another(&app, "dev2", Role::Support).await;
    let id = new_ticket(&app, &c.client).await;
    let body = assign(
        &app,
        &c,
        id,
        json!({"assigned_to": [c.dev_id.to_string(), format!(" {dev2} ")]}),
    )
    .await;
    assert_eq!(body["assigned_to_names"], "dev, dev2");
    assert_eq!(
        detail(&app, id, &c.admin).await["assigned_to"],
        json!([c.dev_id, dev2])
    );
}

async fn form_encoded_repeated_keys_assign_several_developers(app: TestApp) {
    let c = cast(&app).await;
    let (dev2, _) = another(&app, "dev2", Role::Support).await;
    let id = new_ticket(&app, &c.client).await;
    let (a, b) = (c.dev_id.to_string(), dev2.to_string());
    let due = hours_ahead(24);
    let due_text = iso(due);
    let (status, body) = post_form(
        &app,
        &path(id, "assign"),
        &c.admin,
        &[
            ("assigned_to", &b),
            ("assigned_to", &a),
            ("resolution_due_at", &due_text),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["assigned_to_names"], "dev, dev2");
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["assigned_to"], json!([c.dev_id, dev2]));
    assert_eq!(d["resolution_due_at"], dt(due));

    // One key is a list of one; an empty date clears it.
    let (status, body) = post_form(
        &app,
        &path(id, "assign"),
        &c.admin,
        &[("assigned_to", &b), ("resolution_due_at", "")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["assigned_to"], json!([dev2]));
    assert_eq!(d["resolution_due_at"], Value::Null);

    let (status, body) = post_form(
        &app,
        &path(id, "assign"),
        &c.admin,
        &[("assigned_to", &b), ("assigned_to", &b)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"assigned_to": ["Duplicate user IDs are not allowed"]})
    );
    let (status, body) = post_form(&app, &path(id, "assign"), &c.admin, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"assigned_to": ["This field is required."]}));
}

const FORMAT: &str =
    "Invalid datetime format. Use ISO 8601 format: YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD HH:MM:SS";

async fn date_format_and_range_messages(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let now = Utc::now();
    let at = |d: Duration| iso(now + d);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("resolution_due_at", json!("next week"), FORMAT),
        ("resolution_due_at", json!("2030-13-01T00:00:00"), FORMAT),
        ("resolution_due_at", json!(12), FORMAT),
        (
            "resolution_due_at",
            json!(at(-Duration::days(1))),
            "Resolution due date must be in the future",
        ),
        (
            "resolution_due_at",
            json!(at(Duration::days(400))),
            "Resolution due date cannot be more than 1 year in the future",
        ),
        (
            "resolution_due_at",
            json!(at(Duration::minutes(20))),
            "Resolution due date must be at least 30 minutes in the future",
        ),
        ("estimated_resolution_time", json!("soon"), FORMAT),
        (
            "estimated_resolution_time",
            json!(at(-Duration::hours(1))),
            "Estimated resolution time must be in the future",
        ),
        (
            "estimated_resolution_time",
            json!(at(Duration::days(366))),
            "Estimated time cannot be more than 1 year in the future",
        ),
        (
            "estimated_resolution_time",
            json!(at(Duration::minutes(10))),
            "Estimated time must be at least 15 minutes in the future",
        ),
    ];
    for (field, value, message) in cases {
        let mut body = json!({"assigned_to": [c.dev_id]});
        body[field] = value.clone();
        let got = assign_error(&app, &c, id, body).await;
        assert_eq!(got, json!({ field: [message] }), "{field} = {value}");
    }
    // The lower limits differ: 20 minutes is enough for an estimate, not for a due date.
    let dates = json!({"estimated_resolution_time": at(Duration::minutes(20)),
                       "resolution_due_at": at(Duration::minutes(45))});
    assign_dev_with(&app, &c, id, dates).await;
    // Space-separated, offset and date-only forms are accepted.
    let tomorrow = (now + Duration::days(2)).format("%Y-%m-%d").to_string();
    let offset = (now + Duration::hours(3)).format("%Y-%m-%d %H:%M:%S+00:00");
    let dates =
        json!({"resolution_due_at": tomorrow, "estimated_resolution_time": offset.to_string()});
    assign_dev_with(&app, &c, id, dates).await;
    assert_eq!(
        detail(&app, id, &c.admin).await["resolution_due_at"],
        format!("{tomorrow} 00:00:00")
    );
}

async fn cross_field_rule_applies_only_without_other_errors(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let due = iso(hours_ahead(2));
    let late = iso(hours_ahead(3));
    for (assigned_to, expected) in [
        (
            json!([c.dev_id]),
            json!({"estimated_resolution_time": ["Estimated resolution time should not be after the resolution due date"]}),
        ),
        (
            json!([]),
            json!({"assigned_to": ["At least one developer must be assigned"]}),
        ),
        (
            json!([0]),
            json!({"assigned_to": {"0": ["Ensure this value is greater than or equal to 1."]}}),
        ),
    ] {
        let body = json!({"assigned_to": assigned_to, "resolution_due_at": due, "estimated_resolution_time": late});
        let got = assign_error(&app, &c, id, body).await;
        assert_eq!(got, expected, "{assigned_to}");
    }
    // Equal is fine; only one of them given is fine.
    let dates = json!({"resolution_due_at": due, "estimated_resolution_time": due});
    assign_dev_with(&app, &c, id, dates).await;
    assign_dev_with(&app, &c, id, json!({"estimated_resolution_time": late})).await;
}

async fn every_failing_field_is_reported_together_in_field_order(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let got = assign_error(
        &app,
        &c,
        id,
        json!({"estimated_resolution_time": "2000-01-01T00:00:00Z", "resolution_due_at": "bad", "assigned_to": []}),
    )
    .await;
    assert_eq!(
        ordered(&got),
        format!(
            r#"{{"assigned_to":["At least one developer must be assigned"],"resolution_due_at":["{FORMAT}"],"estimated_resolution_time":["Estimated resolution time must be in the future"]}}"#
        )
    );
}

async fn null_clears_a_date_and_omitting_it_keeps_it(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let due = hours_ahead(30);
    let estimate = hours_ahead(20);
    let dates = json!({"resolution_due_at": iso(due), "estimated_resolution_time": iso(estimate)});
    assign_dev_with(&app, &c, id, dates).await;
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["resolution_due_at"], dt(due));
    assert_eq!(d["estimated_resolution_time"], dt(estimate));

    assign_dev(&app, &c, id).await;
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["resolution_due_at"], dt(due), "omitted: kept");
    assert_eq!(
        d["estimated_resolution_time"],
        dt(estimate),
        "omitted: kept"
    );

    assign_dev_with(&app, &c, id, json!({"resolution_due_at": null})).await;
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["resolution_due_at"], Value::Null, "null: cleared");
    assert_eq!(d["estimated_resolution_time"], dt(estimate));
    assign_dev_with(&app, &c, id, json!({"estimated_resolution_time": null})).await;
    assert_eq!(
        detail(&app, id, &c.admin).await["estimated_resolution_time"],
        Value::Null
    );
}

async fn some_user_ids_are_invalid_or_not_support_users(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let admin_id = detail(&app, new_ticket(&app, &c.admin).await, &c.admin).await["created_by"]
        .as_i64()
        .unwrap();
    let client_id = detail(&app, id, &c.admin).await["created_by"]
        .as_i64()
        .unwrap();
    let before = detail_bytes(&app, id, &c.admin).await;
    for ids in [
        json!([999_999]),
        json!([c.dev_id, admin_id]),
        json!([client_id]),
        json!(["99999999999999999999999"]),
    ] {
        let got = assign_error(&app, &c, id, json!({ "assigned_to": ids })).await;
        assert_eq!(
            got,
            error("Some user IDs are invalid or not support users"),
            "{ids}"
        );
    }
    assert_eq!(detail_bytes(&app, id, &c.admin).await, before);
}

async fn body_validation_comes_after_the_lookup(app: TestApp) {
    let c = cast(&app).await;
    let (status, body) = act(&app, 999_999, "assign", &c.admin, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, no_ticket());
    let (status, body) = act(&app, "abc", "assign", &c.admin, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, not_found());
}
