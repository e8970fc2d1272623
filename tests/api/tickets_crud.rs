//! List, create, retrieve, admin PUT/PATCH and DELETE of tickets (contract §6.1–6.5, §4).

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    list_items_have_the_ticket_list_shape_in_order,
    list_is_newest_first,
    list_paginates_twenty_per_page_with_absolute_links,
    create_answers_the_hand_built_body,
    created_by_name_falls_back_to_the_username_only_in_the_create_response,
    create_fills_defaults_and_ignores_read_only_keys,
    create_reports_field_errors_in_serializer_order,
    developers_are_refused_only_after_validation,
    clients_cannot_set_sla_fields_or_the_team_when_creating,
    admins_can_set_sla_fields_and_the_team_when_creating,
    retrieve_returns_the_ticket_detail_shape,
    admin_patch_changes_fields_answers_the_detail_and_writes_no_history,
    put_requires_title_and_description,
    patch_refuses_status_and_assigned_to_keys_before_the_lookup,
    patch_validates_fields_like_create,
    delete_answers_204_and_cascades,
);

const LIST_KEYS: [&str; 15] = [
    "id",
    "project_name",
    "title",
    "description",
    "priority",
    "priority_display",
    "category",
    "category_display",
    "status",
    "status_display",
    "created_by",
    "created_by_name",
    "assigned_to",
    "assigned_to_names",
    "assigned_team",
];

async fn list_items_have_the_ticket_list_shape_in_order(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (client_id, client) = named_user(&app, "jane", Role::Client, "Jane", "Doe").await;
    let (dev_id, _) = app.user_token("dev", Role::Support).await;
    let (dev2_id, _) = named_user(&app, "dev2", Role::Support, "Sam", "Coder").await;
    let id = new_ticket(&app, &client).await;
    let both = json!({"assigned_to": [dev2_id, dev_id]});
    act_ok(&app, id, "assign", &admin, both).await;

    let (status, body) = app.get("/api/tickets/", &client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys(&body), ["count", "next", "previous", "results"]);
    let item = &body["results"][0];
    assert_eq!(keys(item), LIST_KEYS);
    assert_eq!(
        body,
        json!({"count": 1, "next": null, "previous": null, "results": [{
            "id": id, "project_name": "General", "title": "Login broken",
            "description": "Users cannot log in", "priority": "HIGH", "priority_display": "High",
            "category": "BUG", "category_display": "Bug", "status": "NEW", "status_display": "New",
            "created_by": client_id, "created_by_name": "Jane Doe",
            "assigned_to": [dev_id, dev2_id], "assigned_to_names": ["dev", "Sam Coder"],
            "assigned_team": null,
        }]})
    );
}

async fn list_is_newest_first(app: TestApp) {
    let c = cast(&app).await;
    let a = new_ticket(&app, &c.client).await;
    let b = new_ticket(&app, &c.admin).await;
    let d = new_ticket(&app, &c.client).await;
    let (_, body) = app.get("/api/tickets/", &c.admin).await;
    assert_eq!(page_ids(&body), [d, b, a]);
    // Creation time decides, not the id.
    set_time(&app, a, "created_at", Some(chrono::Utc::now())).await;
    let (_, body) = app.get("/api/tickets/", &c.admin).await;
    assert_eq!(page_ids(&body), [a, d, b]);
}

async fn list_paginates_twenty_per_page_with_absolute_links(app: TestApp) {
    let c = cast(&app).await;
    for _ in 0..21 {
        new_ticket(&app, &c.client).await;
    }
    let (status, page1) = app.get("/api/tickets/", &c.client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page1["count"], 21);
    assert_eq!(page1["results"].as_array().unwrap().len(), 20);
    assert_eq!(page1["next"], format!("{}/api/tickets/?page=2", app.base));
    assert_eq!(page1["previous"], Value::Null);

    let (status, page2) = app.get("/api/tickets/?page=2", &c.client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page2["results"].as_array().unwrap().len(), 1);
    assert_eq!(page2["next"], Value::Null);
    assert_eq!(page2["previous"], format!("{}/api/tickets/", app.base));
    let (_, last) = app.get("/api/tickets/?page=last", &c.client).await;
    assert_eq!(last, page2);

    for bad in ["0", "3", "x", "-1"] {
        let (status, body) = app
            .get(&format!("/api/tickets/?page={bad}"), &c.client)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "page={bad}");
        assert_eq!(body, json!({"detail": "Invalid page."}), "page={bad}");
    }
    // The developer sees none of them: an empty first page, not an error.
    let (status, body) = app.get("/api/tickets/", &c.dev).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
}

async fn create_answers_the_hand_built_body(app: TestApp) {
    let c = cast(&app).await;
    let body = created_ticket(
        &app,
        &c.client,
        json!({"title": "Down", "description": "All down", "project_name": "Portal", "priority": "LOW", "category": "SERVICE_DOWN"}),
    )
    .await;
    assert_eq!(
        keys(&body),
        [
            "id",
            "project_name",
            "priority_display",
            "category_display",
            "status_display",
            "created_by",
            "created_by_name",
            "response_due_at",
            "response_sla_minutes"
        ]
    );
    let id = body["id"].as_i64().unwrap();
    let due = body["response_due_at"].as_str().unwrap().to_string();
    let client_id = detail(&app, id, &c.client).await["created_by"].clone();
    assert_eq!(
        body,
        json!({"id": id, "project_name": "Portal", "priority_display": "Low",
               "category_display": "Service Down", "status_display": "New", "created_by": client_id,
               "created_by_name": "client", "response_due_at": due, "response_sla_minutes": 1440})
    );
    // dtiso: `T`, `Z`, and six fractional digits only when there are microseconds.
    let parsed = chrono::DateTime::parse_from_rfc3339(&due)
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert!(due.ends_with('Z') && due.contains('T'), "{due}");
    let micros = parsed.timestamp_subsec_micros();
    let expected = if micros == 0 {
        parsed.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        format!("{}.{micros:06}Z", parsed.format("%Y-%m-%dT%H:%M:%S"))
    };
    assert_eq!(due, expected);
    let d = detail(&app, id, &c.client).await;
    assert_eq!(d["response_due_at"], dt(parsed));
}

async fn created_by_name_falls_back_to_the_username_only_in_the_create_response(app: TestApp) {
    let c = cast(&app).await;
    let (_, created) =
        post_ticket(&app, &c.client, json!({"title": "t", "description": "d"})).await;
    assert_eq!(created["created_by_name"], "client");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(detail(&app, id, &c.client).await["created_by_name"], "");
    let (_, list) = app.get("/api/tickets/", &c.client).await;
    assert_eq!(list["results"][0]["created_by_name"], "");
}

async fn create_fills_defaults_and_ignores_read_only_keys(app: TestApp) {
    let c = cast(&app).await;
    let created = created_ticket(
        &app,
        &c.admin,
        json!({"title": "  Spaces  ", "description": "d", "id": 999, "status": "CLOSED",
               "assigned_to": [c.dev_id], "created_by": 12345, "response_breached": true,
               "resolution_breached": true, "opened_at": "2020-01-01T00:00:00Z",
               "closed_at": "2020-01-01T00:00:00Z", "unknown": "x"}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    assert_ne!(id, 999);
    assert_eq!(created["response_sla_minutes"], 120);
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["title"], "Spaces");
    assert_eq!(d["project_name"], "General");
    assert_eq!(d["priority"], "MEDIUM");
    assert_eq!(d["category"], "PROBLEM");
    assert_eq!(d["status"], "NEW");
    assert_eq!(d["created_by"], created["created_by"]);
    assert_eq!(d["assigned_to"], json!([]));
    assert_eq!(d["response_breached"], false);
    assert_eq!(d["resolution_breached"], false);
    for key in ["opened_at", "started_at", "resolved_at", "closed_at"] {
        assert_eq!(d[key], Value::Null, "{key}");
    }
    assert_eq!(d["history"], json!([]), "creating writes no history");
}

async fn create_reports_field_errors_in_serializer_order(app: TestApp) {
    let c = cast(&app).await;
    let (status, body) = post_ticket(&app, &c.client, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        ordered(&body),
        r#"{"title":["This field is required."],"description":["This field is required."]}"#
    );

    let (status, body) = post_ticket(
        &app,
        &c.client,
        json!({"category": "", "priority": "URGENT", "project_name": "p".repeat(151),
               "description": null, "title": "   "}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        ordered(&body),
        concat!(
            r#"{"title":["This field may not be blank."],"description":["This field may not be null."],"#,
            r#""project_name":["Ensure this field has no more than 150 characters."],"#,
            r#""priority":["\"URGENT\" is not a valid choice."],"category":["\"\" is not a valid choice."]}"#
        )
    );

    let (status, body) = post_ticket(
        &app,
        &c.client,
        json!({"title": "t".repeat(301), "description": true, "project_name": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"title": ["Ensure this field has no more than 300 characters."],
               "description": ["Not a valid string."],
               "project_name": ["This field may not be blank."]})
    );

    // Admins may send the SLA fields, so theirs are validated.
    let (status, body) = post_ticket(
        &app,
        &c.admin,
        json!({"title": "t", "description": "d", "response_due_at": "soon", "assigned_team": "t".repeat(101)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        ordered(&body),
        concat!(
            r#"{"assigned_team":["Ensure this field has no more than 100 characters."],"#,
            r#""response_due_at":["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}"#
        )
    );

    let r = raw(
        &app,
        Method::POST,
        "/api/tickets/",
        Some(&c.client),
        Some("application/json"),
        "[1, 2]",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
    let (_, list) = app.get("/api/tickets/", &c.admin).await;
    assert_eq!(list["count"], 0, "nothing was created");
}

async fn developers_are_refused_only_after_validation(app: TestApp) {
    let c = cast(&app).await;
    let (status, body) = post_ticket(&app, &c.dev, json!({"title": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"title": ["This field may not be blank."], "description": ["This field is required."]})
    );
    let valid = json!({"title": "t", "description": "d"});
    let (status, body) = post_ticket(&app, &c.dev, valid).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"detail": "Developers cannot create tickets. Only clients and admins can create tickets."})
    );
    let (_, list) = app.get("/api/tickets/", &c.admin).await;
    assert_eq!(list["count"], 0);
}

async fn clients_cannot_set_sla_fields_or_the_team_when_creating(app: TestApp) {
    let c = cast(&app).await;
    let created = created_ticket(
        &app,
        &c.client,
        json!({"title": "t", "description": "d", "priority": "HIGH",
               "response_due_at": "2035-01-01T00:00:00Z", "resolution_due_at": "not even a date",
               "estimated_resolution_time": "2035-01-01T00:00:00Z", "assigned_team": "VIP"}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let d = detail(&app, id, &c.client).await;
    assert_eq!(
        parse_dt(&d["response_due_at"]) - parse_dt(&d["created_at"]),
        minutes(30),
        "the computed SLA, not the client's"
    );
    assert_eq!(d["resolution_due_at"], Value::Null);
    assert_eq!(d["estimated_resolution_time"], Value::Null);
    assert_eq!(d["assigned_team"], Value::Null);
}

async fn admins_can_set_sla_fields_and_the_team_when_creating(app: TestApp) {
    let c = cast(&app).await;
    let created = created_ticket(
        &app,
        &c.admin,
        json!({"title": "t", "description": "d", "priority": "HIGH",
               "response_due_at": "2035-05-06T07:08:09+02:00", "resolution_due_at": "2035-06-01 10:00",
               "estimated_resolution_time": "2035-05-20", "assigned_team": " Network "}),
    )
    .await;
    assert_eq!(created["response_due_at"], "2035-05-06T05:08:09Z");
    assert_eq!(created["response_sla_minutes"], 30);
    let d = detail(&app, created["id"].as_i64().unwrap(), &c.admin).await;
    assert_eq!(d["response_due_at"], "2035-05-06 05:08:09");
    assert_eq!(d["resolution_due_at"], "2035-06-01 10:00:00");
    assert_eq!(d["estimated_resolution_time"], "2035-05-20 00:00:00");
    assert_eq!(d["assigned_team"], "Network");
}

/// The detail repeats the list keys, then adds these.
const DETAIL_ONLY_KEYS: [&str; 14] = [
    "response_due_at",
    "resolution_due_at",
    "response_breached",
    "resolution_breached",
    "response_sla_minutes",
    "estimated_resolution_time",
    "created_at",
    "updated_at",
    "opened_at",
    "started_at",
    "resolved_at",
    "closed_at",
    "attachments",
    "history",
];

fn detail_keys() -> Vec<&'static str> {
    LIST_KEYS.iter().chain(&DETAIL_ONLY_KEYS).copied().collect()
}

async fn retrieve_returns_the_ticket_detail_shape(app: TestApp) {
    let c = cast(&app).await;
    let id = in_progress_ticket(&app, &c).await;
    let first = upload(&app, id, &c.client, "a.txt", Some("text/plain"), b"first").await;
    let second = upload(&app, id, &c.dev, "b.txt", Some("text/plain"), b"second").await;
    add_comment(&app, id, &c.client, "Any news?").await;

    let d = detail(&app, id, &c.client).await;
    assert_eq!(keys(&d), detail_keys());
    assert_eq!(d["status"], "IN_PROGRESS");
    assert_eq!(d["status_display"], "In Progress");
    assert_eq!(d["response_sla_minutes"], 30);
    assert_eq!(d["assigned_to"], json!([c.dev_id]));
    assert_eq!(d["assigned_to_names"], json!(["dev"]));
    for key in ["created_at", "updated_at", "opened_at", "started_at"] {
        parse_dt(&d[key]);
    }
    assert_eq!(d["resolved_at"], Value::Null);
    assert_eq!(d["closed_at"], Value::Null);

    assert_eq!(attachment_ids(&d), [second, first], "newest first");
    assert_eq!(
        comments(&d),
        [
            "Any news?",
            "Work started on ticket",
            "Ticket assigned to dev",
            "Ticket opened by admin"
        ]
    );
    let h = &history(&d)[0];
    assert_eq!(
        h,
        &json!({"id": h["id"], "ticket": id, "changed_by": d["created_by"], "changed_by_name": "client",
                "status_from": "IN_PROGRESS", "status_from_display": "In Progress",
                "status_to": "IN_PROGRESS", "status_to_display": "In Progress",
                "comment": "Any news?", "timestamp": h["timestamp"]})
    );
    parse_dt(&h["timestamp"]);
    let opened = &history(&d)[3];
    assert_eq!(opened["status_from"], "NEW");
    assert_eq!(opened["status_from_display"], "New");
    assert_eq!(opened["status_to"], "OPENED");
    assert_eq!(opened["changed_by_name"], "admin");
}

async fn admin_patch_changes_fields_answers_the_detail_and_writes_no_history(app: TestApp) {
    let c = cast(&app).await;
    let id = opened_ticket(&app, &c).await;
    let before = detail(&app, id, &c.admin).await;
    assert_eq!(before["response_sla_minutes"], 30);
    let (status, body) = app
        .patch(
            &detail_path(id),
            &c.admin,
            json!({"title": "New title", "priority": "LOW", "category": "NEW_FEATURE",
                   "assigned_team": "Core", "resolution_due_at": "2035-01-01T00:00:00Z", "unknown": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), detail_keys());
    assert_eq!(body["title"], "New title");
    assert_eq!(body["description"], before["description"]);
    assert_eq!(body["priority_display"], "Low");
    assert_eq!(body["category_display"], "New Feature Request");
    assert_eq!(body["assigned_team"], "Core");
    assert_eq!(body["resolution_due_at"], "2035-01-01 00:00:00");
    assert_eq!(body["status"], "OPENED");
    assert_eq!(
        body["response_sla_minutes"], 1440,
        "follows the current priority"
    );
    assert_eq!(
        body["response_due_at"], before["response_due_at"],
        "never recomputed"
    );
    assert_eq!(history(&body).len(), history(&before).len());
    assert_eq!(body, detail(&app, id, &c.admin).await);

    // null clears the nullable fields.
    let (status, body) = app
        .patch(
            &detail_path(id),
            &c.admin,
            json!({"assigned_team": null, "resolution_due_at": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["assigned_team"], Value::Null);
    assert_eq!(body["resolution_due_at"], Value::Null);
    assert_eq!(body["title"], "New title");
}

async fn put_requires_title_and_description(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let (status, body) = app
        .put(&detail_path(id), &c.admin, json!({"priority": "LOW"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        ordered(&body),
        r#"{"title":["This field is required."],"description":["This field is required."]}"#
    );
    let (status, body) = app
        .put(
            &detail_path(id),
            &c.admin,
            json!({"title": "T2", "description": "D2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), detail_keys());
    assert_eq!(body["title"], "T2");
    assert_eq!(body["description"], "D2");
    assert_eq!(body["priority"], "HIGH", "omitted fields keep their value");
    assert_eq!(body["history"], json!([]));
}

async fn patch_refuses_status_and_assigned_to_keys_before_the_lookup(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let status_error = error(
        "Status cannot be changed directly. Use action endpoints (open_ticket, start_work, finish_work, approve, reject).",
    );
    let assign_error = error("Assignment cannot be changed directly. Use assign action endpoint.");
    for (method, target) in [
        (Method::PATCH, detail_path(id)),
        (Method::PUT, detail_path(id)),
        (Method::PATCH, detail_path(999_999)),
    ] {
        for (body, expected) in [
            (json!({"status": null}), &status_error),
            (json!({"status": "CLOSED", "title": "x"}), &status_error),
            (json!({"assigned_to": [], "status": "NEW"}), &status_error),
            (json!({"assigned_to": [c.dev_id]}), &assign_error),
        ] {
            let (status, got) = app
                .call(method.clone(), &target, Some(&c.admin), Some(body.clone()))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {target} {body}");
            assert_eq!(&got, expected, "{method} {target} {body}");
        }
    }
    let (status, body) = app
        .patch(&detail_path(999_999), &c.admin, json!({"title": "x"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, no_ticket());
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(d["status"], "NEW");
    assert_eq!(d["assigned_to"], json!([]));
}

async fn patch_validates_fields_like_create(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let before = detail_bytes(&app, id, &c.admin).await;
    let (status, body) = app
        .patch(
            &detail_path(id),
            &c.admin,
            json!({"title": "", "priority": "SOON", "estimated_resolution_time": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        ordered(&body),
        concat!(
            r#"{"title":["This field may not be blank."],"priority":["\"SOON\" is not a valid choice."],"#,
            r#""estimated_resolution_time":["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}"#
        )
    );
    assert_eq!(detail_bytes(&app, id, &c.admin).await, before);
}

async fn delete_answers_204_and_cascades(app: TestApp) {
    let c = cast(&app).await;
    let kept = in_progress_ticket(&app, &c).await;
    let doomed = in_progress_ticket(&app, &c).await;
    for id in [doomed, kept] {
        upload(&app, id, &c.dev, "log.txt", None, b"log").await;
        insert_notification(&app, id, c.dev_id).await;
    }
    let r = raw(
        &app,
        Method::DELETE,
        &detail_path(doomed),
        Some(&c.admin),
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    let (status, body) = app.get(&detail_path(doomed), &c.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, no_ticket());
    for table in [
        "ticket_history",
        "ticket_attachments",
        "ticket_assignees",
        "notification_log",
    ] {
        assert_eq!(rows_of(&app, table, doomed).await, 0, "{table}");
        assert!(
            rows_of(&app, table, kept).await > 0,
            "{table} of the other ticket"
        );
    }
    let (status, body) = app.delete(&detail_path(doomed), &c.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, no_ticket());
    // Ids are not reused, even the highest one.
    let next = new_ticket(&app, &c.client).await;
    assert!(next > doomed, "{next} reuses a deleted id");
}
