//! List filters, search and ordering of `GET /api/tickets/` (additions over the original, which
//! ignored every query parameter but `page`).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    status_priority_and_category_filters_combine,
    filters_stay_inside_the_callers_scope,
    search_matches_title_description_and_project_case_insensitively,
    search_treats_percent_and_underscore_literally,
    ordering_by_created_at_priority_and_status,
    unknown_filter_values_name_the_field,
    several_bad_filters_are_reported_together,
    pagination_links_keep_the_filters,
);

async fn create(app: &TestApp, token: &str, body: Value) -> i64 {
    let mut full = json!({"title": "Ticket", "description": "Something"});
    for (k, v) in body.as_object().unwrap() {
        full[k] = v.clone();
    }
    created_ticket(app, token, full).await["id"]
        .as_i64()
        .unwrap()
}

async fn list(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let (status, body) = app.get(&format!("/api/tickets/?{query}"), token).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    assert_eq!(body["count"], page_ids(&body).len(), "{query}");
    page_ids(&body)
}

/// Each query lists exactly these tickets, in this order.
async fn assert_lists(app: &TestApp, token: &str, cases: &[(&str, Vec<i64>)]) {
    for (query, expected) in cases {
        assert_eq!(&list(app, token, query).await, expected, "{query}");
    }
}

async fn status_priority_and_category_filters_combine(app: TestApp) {
    let c = cast(&app).await;
    let kind = |priority: &str, category: &str| json!({"priority": priority, "category": category});
    let high_bug = create(&app, &c.client, kind("HIGH", "BUG")).await;
    let low_bug = create(&app, &c.client, kind("LOW", "BUG")).await;
    let high_down = create(&app, &c.client, kind("HIGH", "SERVICE_DOWN")).await;
    act_ok(&app, low_bug, "open_ticket", &c.admin, json!({})).await;

    let cases = [
        ("status=NEW", vec![high_down, high_bug]),
        ("status=OPENED", vec![low_bug]),
        ("status=CLOSED", vec![]),
        ("priority=HIGH", vec![high_down, high_bug]),
        ("category=BUG", vec![low_bug, high_bug]),
        ("category=BUG&priority=HIGH", vec![high_bug]),
        ("category=SERVICE_DOWN&status=OPENED", vec![]),
        // Empty values do not filter; other parameters are ignored as before.
        (
            "status=&priority=&page_size=1&foo=bar",
            vec![high_down, low_bug, high_bug],
        ),
    ];
    assert_lists(&app, &c.client, &cases).await;
}

async fn filters_stay_inside_the_callers_scope(app: TestApp) {
    let c = cast(&app).await;
    let (_, other) = another(&app, "other", incident::domain::user::Role::Client).await;
    let mine = create(&app, &c.client, json!({"title": "Printer jam"})).await;
    let theirs = create(&app, &other, json!({"title": "Printer jam"})).await;
    assert_eq!(list(&app, &c.client, "search=printer").await, [mine]);
    assert_eq!(list(&app, &other, "status=NEW").await, [theirs]);
    assert_eq!(
        list(&app, &c.dev, "search=printer").await,
        Vec::<i64>::new()
    );
    assign_dev(&app, &c, theirs).await;
    assert_eq!(
        list(&app, &c.dev, "search=printer&status=NEW").await,
        [theirs]
    );
    assert_eq!(list(&app, &c.admin, "search=printer").await, [theirs, mine]);
}

async fn search_matches_title_description_and_project_case_insensitively(app: TestApp) {
    let c = cast(&app).await;
    let by_title = create(&app, &c.client, json!({"title": "VPN drops every hour"})).await;
    let vpn_client = json!({"description": "The vpn client crashes"});
    let by_description = create(&app, &c.client, vpn_client).await;
    let by_project = create(&app, &c.client, json!({"project_name": "Vpn Gateway"})).await;
    let unrelated = create(&app, &c.client, json!({"title": "Printer"})).await;
    let cases = [
        ("search=VpN", vec![by_project, by_description, by_title]),
        ("search=printer", vec![unrelated]),
        ("search=nothing-like-it", vec![]),
    ];
    assert_lists(&app, &c.client, &cases).await;
    assert_eq!(
        list(&app, &c.client, "search=%20vpn%20client%20").await,
        [by_description],
        "trimmed, then matched as one phrase"
    );
    assert_eq!(list(&app, &c.client, "search=").await.len(), 4);
}

async fn search_treats_percent_and_underscore_literally(app: TestApp) {
    let c = cast(&app).await;
    let percent = create(&app, &c.client, json!({"title": "Disk 100% full"})).await;
    let digits = create(&app, &c.client, json!({"title": "Disk 1000 full"})).await;
    let underscore = create(&app, &c.client, json!({"title": "error in user_id"})).await;
    let letter = create(&app, &c.client, json!({"title": "error in userXid"})).await;
    let backslash = create(&app, &c.client, json!({"title": r"path C:\temp"})).await;
    let cases = [
        ("search=100%25", vec![percent]),
        ("search=user_id", vec![underscore]),
        ("search=%25", vec![percent]),
        ("search=_", vec![underscore]),
        ("search=%5Ctemp", vec![backslash]),
        ("search=disk", vec![digits, percent]),
        ("search=userxid", vec![letter]),
    ];
    assert_lists(&app, &c.client, &cases).await;
}

async fn ordering_by_created_at_priority_and_status(app: TestApp) {
    let c = cast(&app).await;
    let low = create(&app, &c.client, json!({"priority": "LOW"})).await;
    let high = create(&app, &c.client, json!({"priority": "HIGH"})).await;
    let medium = create(&app, &c.client, json!({"priority": "MEDIUM"})).await;
    let high2 = create(&app, &c.client, json!({"priority": "HIGH"})).await;
    act_ok(&app, high, "open_ticket", &c.admin, json!({})).await;
    act_ok(&app, low, "open_ticket", &c.admin, json!({})).await;
    set_status(&app, low, "CLOSED").await;

    let cases = [
        ("", vec![high2, medium, high, low]),
        ("ordering=-created_at", vec![high2, medium, high, low]),
        ("ordering=created_at", vec![low, high, medium, high2]),
        // By meaning (LOW < MEDIUM < HIGH), newest first among equals.
        ("ordering=priority", vec![low, medium, high2, high]),
        ("ordering=-priority", vec![high2, high, medium, low]),
        // Workflow order: NEW < OPENED < ... < CLOSED.
        ("ordering=status", vec![high2, medium, high, low]),
        ("ordering=-status", vec![low, high, high2, medium]),
        ("ordering=priority&status=NEW", vec![medium, high2]),
    ];
    assert_lists(&app, &c.client, &cases).await;
}

async fn unknown_filter_values_name_the_field(app: TestApp) {
    let c = cast(&app).await;
    for (query, field, value) in [
        ("status=BOGUS", "status", "BOGUS"),
        ("priority=URGENT", "priority", "URGENT"),
        ("category=OTHER", "category", "OTHER"),
        ("ordering=title", "ordering", "title"),
        ("ordering=-id", "ordering", "-id"),
    ] {
        let (status, body) = app.get(&format!("/api/tickets/?{query}"), &c.client).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            body,
            json!({ field: [format!("Select a valid choice. {value} is not one of the available choices.")] }),
            "{query}"
        );
    }
}

async fn several_bad_filters_are_reported_together(app: TestApp) {
    let c = cast(&app).await;
    let (status, body) = app
        .get(
            "/api/tickets/?ordering=nope&category=NOPE&status=NEW&priority=HUGE",
            &c.client,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        ordered(&body),
        concat!(
            r#"{"priority":["Select a valid choice. HUGE is not one of the available choices."],"#,
            r#""category":["Select a valid choice. NOPE is not one of the available choices."],"#,
            r#""ordering":["Select a valid choice. nope is not one of the available choices."]}"#
        )
    );
}

async fn pagination_links_keep_the_filters(app: TestApp) {
    let c = cast(&app).await;
    let slow = |priority: &str| json!({"priority": priority, "title": "Slow page"});
    for _ in 0..22 {
        create(&app, &c.client, slow("LOW")).await;
    }
    create(&app, &c.client, slow("HIGH")).await;
    let (status, page1) = app
        .get("/api/tickets/?priority=LOW&search=slow", &c.client)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page1["count"], 22);
    assert_eq!(
        page1["next"],
        format!("{}/api/tickets/?page=2&priority=LOW&search=slow", app.base)
    );
    let (status, page2) = app
        .get("/api/tickets/?priority=LOW&page=2&search=slow", &c.client)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page_ids(&page2).len(), 2);
    assert_eq!(page2["next"], Value::Null);
    assert_eq!(
        page2["previous"],
        format!("{}/api/tickets/?priority=LOW&search=slow", app.base)
    );
    let (status, body) = app
        .get("/api/tickets/?priority=LOW&page=3", &c.client)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": "Invalid page."}))
    );
}
