//! Issue 11: the ticket list's counters (`ticket_counts`) and search index stay exact through
//! every write path (create, each step, assign and unassign, admin edits, deletes, a cascade
//! from a deleted user), search keeps its semantics through the trigram index, and pages read
//! in index order come out as a full ordering of the rows says they must.

use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    ticket_counters_and_search_index_stay_exact_through_every_write_path,
    search_through_the_index_keeps_substring_case_and_literal_semantics,
    pages_in_every_ordering_follow_the_full_order,
);

/// Fails the test when a counter differs from the tickets or the search index from their text.
async fn assert_exact(app: &TestApp, after: &str) {
    let drift = incident::db::ticket_list::counter_drift(&app.state.db)
        .await
        .expect("drift query");
    assert!(
        drift.is_empty(),
        "counters drifted after {after}: {drift:?}"
    );
    incident::db::ticket_list::check_search_index(&app.state.db)
        .await
        .unwrap_or_else(|e| panic!("search index out of step after {after}: {e}"));
}

/// The list's `count` and the ids of its first page.
async fn listed(app: &TestApp, token: &str, query: &str) -> (i64, Vec<i64>) {
    let (status, body) = app.get(&format!("/api/tickets/?{query}"), token).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    (body["count"].as_i64().unwrap(), page_ids(&body))
}

async fn count(app: &TestApp, token: &str, query: &str) -> i64 {
    listed(app, token, query).await.0
}

async fn create(app: &TestApp, token: &str, body: Value) -> i64 {
    let mut full = json!({"title": "Ticket", "description": "Something", "project_name": "P"});
    for (k, v) in body.as_object().unwrap() {
        full[k] = v.clone();
    }
    created_ticket(app, token, full).await["id"]
        .as_i64()
        .unwrap()
}

async fn ticket_counters_and_search_index_stay_exact_through_every_write_path(app: TestApp) {
    let c = cast(&app).await;
    let (dev2_id, _) = app.user_token("dev2", Role::Support).await;
    let (_, other) = app.user_token("other", Role::Client).await;
    assert_exact(&app, "nothing").await;

    let a = new_ticket(&app, &c.client).await;
    let b = create(
        &app,
        &c.client,
        json!({"priority": "LOW", "category": "PROBLEM"}),
    )
    .await;
    let theirs = create(
        &app,
        &other,
        json!({"title": "Their printer", "category": "SERVICE_DOWN"}),
    )
    .await;
    assert_exact(&app, "creates").await;
    assert_eq!(count(&app, &c.admin, "").await, 3);
    assert_eq!(count(&app, &c.admin, "priority=HIGH").await, 1);
    assert_eq!(
        count(&app, &c.admin, "status=NEW&category=BUG,PROBLEM").await,
        2
    );

    start_ticket(&app, &c, a).await;
    assert_exact(&app, "open, assign and start").await;
    assert_eq!(count(&app, &c.admin, "status=IN_PROGRESS").await, 1);
    assert_eq!(count(&app, &c.dev, "").await, 1);
    act_ok(
        &app,
        a,
        "finish_work",
        &c.dev,
        json!({"comment": "done now"}),
    )
    .await;
    act_ok(
        &app,
        a,
        "reject",
        &c.client,
        json!({"comment": "not yet fixed"}),
    )
    .await;
    act_ok(
        &app,
        a,
        "finish_work",
        &c.dev,
        json!({"comment": "done now"}),
    )
    .await;
    act_ok(&app, a, "approve", &c.client, json!({})).await;
    assert_exact(&app, "finish, reject, approve").await;
    let closed = count(&app, &c.admin, "status=CLOSED").await;
    let waiting = count(&app, &c.admin, "status=WAITING_APPROVAL,RESOLVED").await;
    assert_eq!(closed + waiting, 1, "the ticket is resolved or closed");
    add_comment(&app, b, &c.client, "any news?").await;

    // Assign, then move the assignment to another developer: the first loses it.
    assign_dev(&app, &c, b).await;
    assert_eq!(count(&app, &c.dev, "").await, 2);
    assign(&app, &c, b, json!({"assigned_to": [dev2_id]})).await;
    assert_eq!(count(&app, &c.dev, "").await, 1);
    assert_eq!(count(&app, &c.dev, "priority=LOW").await, 0);
    assert_exact(&app, "assign and unassign").await;

    // An admin edit moves a ticket between groups and changes its text.
    let (status, body) = app
        .patch(
            &format!("/api/tickets/{b}/"),
            &c.admin,
            json!({"priority": "HIGH", "category": "SERVICE_DOWN", "title": "Renamed outage"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_exact(&app, "an admin edit").await;
    assert_eq!(count(&app, &c.admin, "priority=HIGH").await, 2);
    assert_eq!(count(&app, &c.admin, "category=PROBLEM").await, 0);
    assert_eq!(listed(&app, &c.admin, "search=renamed").await, (1, vec![b]));
    assert_eq!(
        count(&app, &c.admin, "search=Ticket").await,
        0,
        "the old title"
    );

    // A raw status write (as the tests' and an operator's SQL do) is counted too.
    set_status(&app, b, "OPENED").await;
    assert_exact(&app, "a raw status write").await;
    assert_eq!(count(&app, &c.admin, "status=OPENED").await, 1);

    let (status, _) = app.delete(&format!("/api/tickets/{a}/"), &c.admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_exact(&app, "a delete").await;
    assert_eq!(count(&app, &c.admin, "").await, 2);

    // Deleting a user deletes their tickets by cascade.
    let other_id = listed(&app, &c.admin, "search=their").await.1;
    assert_eq!(other_id, [theirs]);
    let user_id: i64 = incident::on_db!(&app.state.db, p => sqlx::query_scalar("SELECT created_by_id FROM tickets WHERE id = $1").bind(theirs).fetch_one(p).await).unwrap();
    let (status, body) = app
        .delete(&format!("/api/users/{user_id}/"), &c.admin)
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_exact(&app, "a cascade").await;
    assert_eq!(listed(&app, &c.admin, "").await, (1, vec![b]));
    assert_eq!(listed(&app, &c.admin, "search=their").await, (0, vec![]));
}

async fn search_through_the_index_keeps_substring_case_and_literal_semantics(app: TestApp) {
    let c = cast(&app).await;
    let cafe = create(&app, &c.client, json!({"title": "Café crème machine"})).await;
    let ecole = create(
        &app,
        &c.client,
        json!({"description": "L'ÉCOLE est fermée"}),
    )
    .await;
    let quoted = create(
        &app,
        &c.client,
        json!({"title": r#"say "hello" NEAR(world)"#}),
    )
    .await;
    let star = create(&app, &c.client, json!({"project_name": "a*b OR c-d"})).await;
    let spaced = create(&app, &c.client, json!({"title": "two  spaces"})).await;
    let cases: [(&str, Vec<i64>); 12] = [
        // Inside a word, any case, across non-ASCII letters.
        ("search=AFÉ%20CR", vec![cafe]),
        ("search=café", vec![cafe]),
        ("search=école", vec![ecole]),
        ("search=fermÉe", vec![ecole]),
        // Diacritics are not folded: `e` is not `é`.
        ("search=cafe", vec![]),
        // Query syntax of the index is plain text here.
        ("search=%22hello%22", vec![quoted]),
        ("search=near(world)", vec![quoted]),
        ("search=a*b%20or", vec![star]),
        ("search=c-d", vec![star]),
        ("search=two%20%20sp", vec![spaced]),
        ("search=two%20sp", vec![]),
        // One column at a time: no match across the title and the description.
        ("search=machine%20something", vec![]),
    ];
    for (query, expected) in cases {
        let (n, ids) = listed(&app, &c.client, query).await;
        assert_eq!(ids, expected, "{query}");
        assert_eq!(n, expected.len() as i64, "{query}");
    }
    // Short terms (no trigram: scanned) keep the same semantics for ASCII.
    assert_eq!(listed(&app, &c.client, "search=Rè").await.1, [cafe]);
    assert_eq!(listed(&app, &c.client, "search=*B").await.1, [star]);

    // A search matching more than a page: pages and the count stay exact.
    for i in 0..23 {
        create(&app, &c.admin, json!({"title": format!("Bulk item {i}")})).await;
    }
    let (status, first) = app.get("/api/tickets/?search=bulk%20item", &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["count"], 23);
    assert_eq!(page_ids(&first).len(), 20);
    let (_, second) = app
        .get("/api/tickets/?search=bulk%20item&page=2", &c.admin)
        .await;
    assert_eq!(second["count"], 23);
    assert_eq!(page_ids(&second).len(), 3);
    let (status, _) = app
        .get("/api/tickets/?search=bulk%20item&page=3", &c.admin)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Where a ticket stands in an ordering: (rank, newer first) as the API documents it.
fn rank(priority: &str, status: &str, by: &str) -> i64 {
    let p = ["LOW", "MEDIUM", "HIGH"];
    let s = [
        "NEW",
        "OPENED",
        "IN_PROGRESS",
        "RESOLVED",
        "WAITING_APPROVAL",
        "CLOSED",
    ];
    match by {
        "priority" => p.iter().position(|x| *x == priority).unwrap() as i64,
        _ => s.iter().position(|x| *x == status).unwrap() as i64,
    }
}

async fn pages_in_every_ordering_follow_the_full_order(app: TestApp) {
    let c = cast(&app).await;
    let priorities = ["LOW", "MEDIUM", "HIGH"];
    let statuses = ["NEW", "OPENED", "CLOSED", "RESOLVED"];
    // 45 tickets, created one after the other (so newer means a higher id).
    let mut rows: Vec<(i64, &str, &str)> = Vec::new();
    for i in 0..45 {
        let priority = priorities[(i * 7) % 3];
        let status = statuses[(i * 5) % 4];
        let id = create(&app, &c.admin, json!({"priority": priority})).await;
        if status != "NEW" {
            set_status(&app, id, status).await;
        }
        rows.push((id, priority, status));
    }
    type SortKey = Box<dyn Fn(&(i64, &str, &str)) -> (i64, i64)>;
    let orderings: [(&str, SortKey); 6] = [
        ("", Box::new(|r| (0, -r.0))),
        ("ordering=created_at", Box::new(|r| (0, r.0))),
        (
            "ordering=priority",
            Box::new(|r| (rank(r.1, r.2, "priority"), -r.0)),
        ),
        (
            "ordering=-priority",
            Box::new(|r| (-rank(r.1, r.2, "priority"), -r.0)),
        ),
        (
            "ordering=status",
            Box::new(|r| (rank(r.1, r.2, "status"), -r.0)),
        ),
        (
            "ordering=-status",
            Box::new(|r| (-rank(r.1, r.2, "status"), -r.0)),
        ),
    ];
    for (ordering, key) in &orderings {
        for filter in ["", "status=OPENED", "status=CLOSED&priority=HIGH,LOW"] {
            let mut expected: Vec<&(i64, &str, &str)> = rows
                .iter()
                .filter(|r| match filter {
                    "status=OPENED" => r.2 == "OPENED",
                    "status=CLOSED&priority=HIGH,LOW" => r.2 == "CLOSED" && r.1 != "MEDIUM",
                    _ => true,
                })
                .collect();
            expected.sort_by_key(|r| key(r));
            let expected: Vec<i64> = expected.iter().map(|r| r.0).collect();
            let mut walked = Vec::new();
            for page in 1..=3 {
                let query = format!("{ordering}&{filter}&page={page}");
                let (status, body) = app.get(&format!("/api/tickets/?{query}"), &c.admin).await;
                if status == StatusCode::NOT_FOUND {
                    break;
                }
                assert_eq!(status, StatusCode::OK, "{query}: {body}");
                assert_eq!(body["count"], expected.len(), "{query}");
                walked.extend(page_ids(&body));
            }
            assert_eq!(walked, expected, "{ordering} {filter}");
        }
    }
}
