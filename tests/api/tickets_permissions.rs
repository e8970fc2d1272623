//! The permission matrix of contract §5, row by row, and the 404s of §1.1.

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::*;

on_both_databases!(
    list_and_retrieve_are_scoped_by_role,
    developers_do_not_see_tickets_they_created_unless_assigned,
    only_admins_may_put_patch_or_delete,
    client_cannot_open_a_ticket,
    only_admins_may_open_or_assign_and_the_check_precedes_the_lookup,
    only_the_assigned_developer_may_start_or_finish,
    only_the_creator_may_approve_or_reject,
    developer_creator_is_refused_by_role_after_the_creator_check,
    only_admins_may_list_developers,
    comments_and_attachments_follow_visibility,
    out_of_scope_tickets_are_404_on_every_ticket_route,
    non_numeric_ids_are_plain_404_on_every_ticket_route,
    zero_and_negative_ids_are_missing_tickets,
);

async fn list_and_retrieve_are_scoped_by_role(app: TestApp) {
    let c = cast(&app).await;
    let (_, other_client) = another(&app, "other", Role::Client).await;
    let (dev2, dev2_token) = another(&app, "dev2", Role::Support).await;
    let mine = assigned_ticket(&app, &c).await;
    let theirs = new_ticket(&app, &other_client).await;
    let admins = new_ticket(&app, &c.admin).await;
    assign(&app, &c, admins, json!({"assigned_to": [dev2]})).await;

    for (token, visible) in [
        (&c.admin, vec![admins, theirs, mine]),
        (&c.client, vec![mine]),
        (&other_client, vec![theirs]),
        (&c.dev, vec![mine]),
        (&dev2_token, vec![admins]),
    ] {
        let (status, list) = app.get("/api/tickets/", token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page_ids(&list), visible);
        assert_eq!(list["count"], visible.len());
        for id in [mine, theirs, admins] {
            let (status, body) = app.get(&detail_path(id), token).await;
            if visible.contains(&id) {
                assert_eq!(status, StatusCode::OK, "{id}");
            } else {
                assert_eq!((status, body), (StatusCode::NOT_FOUND, no_ticket()), "{id}");
            }
        }
    }
}

async fn developers_do_not_see_tickets_they_created_unless_assigned(app: TestApp) {
    let c = cast(&app).await;
    // A ticket from before developers were refused (the real data has one).
    let id = new_ticket(&app, &c.admin).await;
    set_created_by(&app, id, c.dev_id).await;
    let (_, list) = app.get("/api/tickets/", &c.dev).await;
    assert_eq!(page_ids(&list), Vec::<i64>::new());
    let (status, _) = app.get(&detail_path(id), &c.dev).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assign_dev(&app, &c, id).await;
    let (_, list) = app.get("/api/tickets/", &c.dev).await;
    assert_eq!(page_ids(&list), [id]);
}

async fn only_admins_may_put_patch_or_delete(app: TestApp) {
    let c = cast(&app).await;
    let id = assigned_ticket(&app, &c).await;
    let before = detail_bytes(&app, id, &c.admin).await;
    let denied = json!({ "detail": NO_PERMISSION });
    for token in [&c.client, &c.dev] {
        for (method, target) in [
            (Method::PUT, detail_path(id)),
            (Method::PATCH, detail_path(id)),
            (Method::DELETE, detail_path(id)),
            (Method::PATCH, detail_path(999_999)),
            (Method::DELETE, detail_path("abc")),
        ] {
            let body = json!({"title": "Mine now", "description": "d", "status": "CLOSED"});
            let (status, got) = app
                .call(method.clone(), &target, Some(token), Some(body))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {target}");
            assert_eq!(got, denied, "{method} {target}");
        }
    }
    assert_eq!(detail_bytes(&app, id, &c.admin).await, before);
    let (status, _) = app
        .patch(&detail_path(id), &c.admin, json!({"title": "Admin edit"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.delete(&detail_path(id), &c.admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

async fn client_cannot_open_a_ticket(app: TestApp) {
    let c = cast(&app).await;
    let id = new_ticket(&app, &c.client).await;
    let (status, body) = act(&app, id, "open_ticket", &c.client, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, error("Only administrators can open tickets"));
    assert_eq!(detail(&app, id, &c.client).await["status"], "NEW");
}

async fn only_admins_may_open_or_assign_and_the_check_precedes_the_lookup(app: TestApp) {
    let c = cast(&app).await;
    let id = assigned_ticket(&app, &c).await;
    let before = detail_bytes(&app, id, &c.admin).await;
    for token in [&c.client, &c.dev] {
        for target in [id.to_string(), "999999".to_string(), "abc".to_string()] {
            for (action, message) in [
                ("open_ticket", "Only administrators can open tickets"),
                ("open", "Only administrators can open tickets"),
                (
                    "assign",
                    "Only administrators can assign tickets to developers",
                ),
            ] {
                let (status, body) = act(
                    &app,
                    &target,
                    action,
                    token,
                    json!({"assigned_to": [c.dev_id]}),
                )
                .await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{action} {target}");
                assert_eq!(body, error(message), "{action} {target}");
            }
        }
    }
    assert_eq!(detail_bytes(&app, id, &c.admin).await, before);
}

async fn only_the_assigned_developer_may_start_or_finish(app: TestApp) {
    let c = cast(&app).await;
    let (_, dev2) = another(&app, "dev2", Role::Support).await;
    let id = opened_ticket(&app, &c).await;
    assign_dev(&app, &c, id).await;
    for (action, message) in [
        (
            "start_work",
            "Only developers assigned to this ticket can start work",
        ),
        (
            "finish_work",
            "Only developers assigned to this ticket can finish work",
        ),
    ] {
        // The creator and admins see the ticket but may not work on it.
        for token in [&c.client, &c.admin] {
            let (status, body) = act(&app, id, action, token, json!({})).await;
            assert_eq!(
                (status, body),
                (StatusCode::FORBIDDEN, error(message)),
                "{action}"
            );
        }
        // An unassigned developer does not even see it.
        let (status, body) = act(&app, id, action, &dev2, json!({})).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, no_ticket()),
            "{action}"
        );
    }
    act_ok(&app, id, "start_work", &c.dev, json!({})).await;
    act_ok(&app, id, "finish_work", &c.dev, json!({})).await;
}

async fn only_the_creator_may_approve_or_reject(app: TestApp) {
    let c = cast(&app).await;
    let (_, other_client) = another(&app, "other", Role::Client).await;
    let id = resolved_ticket(&app, &c).await;
    for (action, message) in [
        ("approve", "Only the ticket creator can approve this ticket"),
        ("close", "Only the ticket creator can approve this ticket"),
        ("reject", "Only the ticket creator can reject this ticket"),
    ] {
        let body = json!({"comment": "Not good enough for me"});
        for token in [&c.admin, &c.dev] {
            let (status, got) = act(&app, id, action, token, body.clone()).await;
            assert_eq!(
                (status, got),
                (StatusCode::FORBIDDEN, error(message)),
                "{action}"
            );
        }
        let (status, got) = act(&app, id, action, &other_client, body).await;
        assert_eq!(
            (status, got),
            (StatusCode::NOT_FOUND, no_ticket()),
            "{action}"
        );
    }
    assert_eq!(detail(&app, id, &c.client).await["status"], "RESOLVED");
    act_ok(&app, id, "approve", &c.client, json!({})).await;
}

async fn developer_creator_is_refused_by_role_after_the_creator_check(app: TestApp) {
    let c = cast(&app).await;
    let id = resolved_ticket(&app, &c).await;
    set_created_by(&app, id, c.dev_id).await;
    for (action, message) in [
        ("approve", "Only clients or admins can approve tickets"),
        ("reject", "Only clients or admins can reject tickets"),
    ] {
        let (status, got) = act(&app, id, action, &c.dev, json!({})).await;
        assert_eq!(
            (status, got),
            (StatusCode::FORBIDDEN, error(message)),
            "{action}"
        );
    }
}

async fn only_admins_may_list_developers(app: TestApp) {
    let c = cast(&app).await;
    for token in [&c.client, &c.dev] {
        let (status, body) = app.get("/api/tickets/developers/", token).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body, json!({ "detail": NO_PERMISSION }));
    }
    let (status, body) = app.get("/api/tickets/developers/", &c.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 1);
    let (status, _) = app
        .call(Method::GET, "/api/tickets/developers/", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn comments_and_attachments_follow_visibility(app: TestApp) {
    let c = cast(&app).await;
    let (_, other_client) = another(&app, "other", Role::Client).await;
    let (_, dev2) = another(&app, "dev2", Role::Support).await;
    let id = assigned_ticket(&app, &c).await;
    for token in [&c.client, &c.dev, &c.admin] {
        add_comment(&app, id, token, "hello").await;
        upload(&app, id, token, "f.txt", None, b"data").await;
        let (status, body) = app.get(&path(id, "get_attachments"), token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["attachments_count"].as_i64().unwrap() >= 1);
    }
    for token in [&other_client, &dev2] {
        let (status, body) = act(&app, id, "add_comment", token, json!({"comment": "hello"})).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, no_ticket()));
        let form = Multipart::new().file("file_data", "f.txt", None, b"data");
        let (status, body) = post_multipart(&app, &path(id, "add_attachment"), token, form).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, no_ticket()));
        let (status, body) = app.get(&path(id, "get_attachments"), token).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, no_ticket()));
    }
    let d = detail(&app, id, &c.admin).await;
    assert_eq!(history(&d).len(), 4);
    assert_eq!(d["attachments"].as_array().unwrap().len(), 3);
}

/// Every route that takes a ticket id, with a body that would otherwise pass.
fn ticket_routes(id: &str, attachment: &str, c: &Cast) -> Vec<(Method, String, Value)> {
    vec![
        (Method::GET, detail_path(id), Value::Null),
        (Method::POST, path(id, "start_work"), json!({})),
        (Method::POST, path(id, "start"), json!({})),
        (Method::POST, path(id, "finish_work"), json!({})),
        (Method::POST, path(id, "finish"), json!({})),
        (Method::POST, path(id, "approve"), json!({})),
        (Method::POST, path(id, "close"), json!({})),
        (
            Method::POST,
            path(id, "reject"),
            json!({"comment": "A long enough reason"}),
        ),
        (
            Method::POST,
            path(id, "add_comment"),
            json!({"comment": "hello"}),
        ),
        (Method::POST, path(id, "add_attachment"), json!({})),
        (Method::GET, path(id, "get_attachments"), Value::Null),
        (
            Method::DELETE,
            path(id, &format!("delete_attachment/{attachment}")),
            Value::Null,
        ),
        (
            Method::GET,
            path(id, &format!("attachments/{attachment}/download")),
            Value::Null,
        ),
        (
            Method::POST,
            path(id, "assign"),
            json!({"assigned_to": [c.dev_id]}),
        ),
        (Method::POST, path(id, "open_ticket"), json!({})),
    ]
}

/// Sends each route's request with `token`; each answers 404 with `expected`.
async fn routes_are_404(
    app: &TestApp,
    routes: Vec<(Method, String, Value)>,
    token: &str,
    expected: &Value,
) {
    for (method, target, body) in routes {
        let body = (!body.is_null()).then_some(body);
        let (status, got) = app.call(method.clone(), &target, Some(token), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {target}: {got}");
        assert_eq!(&got, expected, "{method} {target}");
    }
}

async fn out_of_scope_tickets_are_404_on_every_ticket_route(app: TestApp) {
    let c = cast(&app).await;
    let (_, other_client) = another(&app, "other", Role::Client).await;
    let (_, dev2) = another(&app, "dev2", Role::Support).await;
    let id = resolved_ticket(&app, &c).await;
    let att = upload(&app, id, &c.client, "f.txt", None, b"data").await;
    let mut routes = ticket_routes(&id.to_string(), &att.to_string(), &c);
    // Non-admins get 403 on these first (tested elsewhere).
    routes.retain(|(_, target, _)| !target.contains("assign/") && !target.contains("open_ticket/"));
    for token in [&other_client, &dev2] {
        routes_are_404(&app, routes.clone(), token, &no_ticket()).await;
    }
    // A missing ticket looks the same to an admin.
    let missing = ticket_routes("999999", "1", &c);
    routes_are_404(&app, missing, &c.admin, &no_ticket()).await;
}

async fn non_numeric_ids_are_plain_404_on_every_ticket_route(app: TestApp) {
    let c = cast(&app).await;
    for bad in ["abc", "1x", "%20"] {
        routes_are_404(&app, ticket_routes(bad, "1", &c), &c.admin, &not_found()).await;
        let (status, got) = app
            .patch(&detail_path(bad), &c.admin, json!({"title": "x"}))
            .await;
        assert_eq!((status, got), (StatusCode::NOT_FOUND, not_found()));
        let (status, got) = app.delete(&detail_path(bad), &c.admin).await;
        assert_eq!((status, got), (StatusCode::NOT_FOUND, not_found()));
    }
}

/// `0` and `-1` are numbers: DRF looks them up and finds no ticket.
async fn zero_and_negative_ids_are_missing_tickets(app: TestApp) {
    let c = cast(&app).await;
    for id in ["0", "-1"] {
        routes_are_404(&app, ticket_routes(id, "1", &c), &c.admin, &no_ticket()).await;
    }
}
