//! DRF plumbing every route shares (contract §1): pagination, routing, ids in paths, 405/415,
//! body parsing, CORS.

use incident::config::Config;
use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{password_of, TestApp};
use crate::on_both_databases;

on_both_databases!(
    users_list_is_paginated_twenty_a_page_with_absolute_links,
    last_page_is_reachable_by_name,
    invalid_pages_are_404,
    page_links_keep_other_parameters_sorted_like_drf,
    paths_without_trailing_slash_are_served_not_redirected,
    unknown_routes_answer_json_404,
    non_numeric_id_is_not_found_and_missing_numeric_id_names_the_model,
    method_not_allowed_comes_after_authentication,
    non_admin_gets_403_not_405_on_users_routes,
    login_and_refresh_answer_405_without_authentication,
    unsupported_media_type_is_415,
    bad_json_is_a_parse_error,
    non_object_json_is_a_non_field_error,
    form_encoded_and_multipart_logins_work,
    empty_json_body_means_no_fields,
    responses_are_compact_utf8_json,
);

fn cors_for_app(c: &mut Config) {
    c.cors_allowed_origins = vec!["https://app.example.com".to_string()];
}

on_both_databases!(config = cors_for_app; cors_preflight_from_a_configured_origin_allows_authorization);

fn usernames(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

/// The admin (joined now) plus `user00`..`user23` (joined a day ago): 25 users, newest first.
async fn twenty_five_users(app: &TestApp) -> String {
    let (_, token) = app.user_token("admin", Role::Admin).await;
    app.create_many_users("user", 24).await;
    token
}

async fn users_list_is_paginated_twenty_a_page_with_absolute_links(app: TestApp) {
    let token = twenty_five_users(&app).await;
    let (status, page1) = app.get("/api/users/", &token).await;
    assert_eq!(status, StatusCode::OK);
    let keys = crate::common::keys(&page1);
    assert_eq!(keys, ["count", "next", "previous", "results"]);
    assert_eq!(page1["count"], 25);
    assert_eq!(page1["next"], app.url("/api/users/?page=2"));
    assert_eq!(page1["previous"], Value::Null);
    let names = usernames(&page1);
    assert_eq!(names.len(), 20);
    assert_eq!(names[0], "admin");
    assert_eq!(names[1], "user23");
    assert_eq!(names[19], "user05");

    let (status, page2) = app.get("/api/users/?page=2", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page2["count"], 25);
    assert_eq!(page2["next"], Value::Null);
    assert_eq!(page2["previous"], app.url("/api/users/"));
    assert_eq!(
        usernames(&page2),
        ["user04", "user03", "user02", "user01", "user00"]
    );
    // An explicit first page is the first page; `page_size` is not a parameter.
    let (_, explicit) = app.get("/api/users/?page=1&page_size=5", &token).await;
    assert_eq!(usernames(&explicit), names);
    assert_eq!(explicit["next"], app.url("/api/users/?page=2&page_size=5"));

    // The links follow the Host the client used (one that ALLOWED_HOSTS allows: in
    // development, `.localhost` and its subdomains).
    let req = app
        .client
        .get(app.url("/api/users/"))
        .bearer_auth(&token)
        .header("Host", "api.localhost");
    let (_, _, text) = app.send(req).await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["next"], "http://api.localhost/api/users/?page=2");
}

async fn last_page_is_reachable_by_name(app: TestApp) {
    let token = twenty_five_users(&app).await;
    let (status, page) = app.get("/api/users/?page=last", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(usernames(&page).len(), 5);
    assert_eq!(page["next"], Value::Null);
    assert_eq!(page["previous"], app.url("/api/users/"));
    // With one page, `last` is page 1 and there are no links.
    let (_, client) = app.user_token("solo", Role::Client).await;
    let (status, page) = app.get("/api/profiles/?page=last", &client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 1);
    assert_eq!(page["next"], Value::Null);
    assert_eq!(page["previous"], Value::Null);
    assert_eq!(usernames(&page), ["solo"]);
}

async fn invalid_pages_are_404(app: TestApp) {
    let token = twenty_five_users(&app).await;
    for page in ["0", "3", "99", "x", "-1", "1.0", "2x"] {
        let (status, body) = app.get(&format!("/api/users/?page={page}"), &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "page={page}");
        assert_eq!(body, json!({"detail": "Invalid page."}), "page={page}");
    }
    // An empty list still has a valid first page, and only that one.
    let (_, client) = app.user_token("solo", Role::Client).await;
    let (status, body) = app.get("/api/profiles/?page=1", &client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 1);
    let (status, body) = app.get("/api/profiles/?page=2", &client).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Invalid page."}));
}

/// DRF's `replace_query_param`/`remove_query_param` re-encode the query sorted by key.
async fn page_links_keep_other_parameters_sorted_like_drf(app: TestApp) {
    let token = twenty_five_users(&app).await;
    let (status, page) = app.get("/api/users/?zeta=1&alpha=x%20y", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["next"], app.url("/api/users/?alpha=x+y&page=2&zeta=1"));
    let (status, page) = app.get("/api/users/?zeta=1&page=2&alpha=x", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["previous"], app.url("/api/users/?alpha=x&zeta=1"));
}

async fn paths_without_trailing_slash_are_served_not_redirected(app: TestApp) {
    app.create_user("alice", Role::Admin).await;
    let no_redirects = crate::documented::Client::without_redirects();
    let req = no_redirects
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "alice", "password": password_of("alice")}));
    let (status, headers, text) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(headers.get("location").is_none());
    let login: Value = serde_json::from_str(&text).unwrap();
    let token = login["access"].as_str().unwrap();

    let req = no_redirects
        .get(app.url("/api/users?page=1"))
        .bearer_auth(token);
    let (status, _, text) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["results"][0]["username"], "alice");

    let id = login["user"]["id"].as_i64().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/users/{id}")),
        (Method::PATCH, "/api/profile/update".to_string()),
        (Method::GET, "/api/users/by_role?role=ADMIN".to_string()),
    ] {
        let req = no_redirects
            .request(method.clone(), app.url(&path))
            .bearer_auth(token)
            .json(&json!({"first_name": "Alice"}));
        let (status, _, text) = app.send(req).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {text}");
    }
    let (_, me) = app.get(&format!("/api/users/{id}/"), token).await;
    assert_eq!(me["first_name"], "Alice", "the PATCH body was not lost");
}

async fn unknown_routes_answer_json_404(app: TestApp) {
    let (_, token) = app.user_token("admin", Role::Admin).await;
    for path in [
        "/api/nothing/",
        "/api/users/1/nothing/",
        "/api/tickets/1/set_sla/",
        "/nothing",
    ] {
        for auth in [None, Some(token.as_str())] {
            let mut req = app.client.get(app.url(path));
            if let Some(t) = auth {
                req = req.bearer_auth(t);
            }
            let (status, headers, text) = app.send(req).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(text, r#"{"detail":"Not found."}"#, "{path}");
            assert_eq!(headers["content-type"], "application/json");
        }
    }
}

async fn non_numeric_id_is_not_found_and_missing_numeric_id_names_the_model(app: TestApp) {
    let (_, token) = app.user_token("admin", Role::Admin).await;
    let plain = json!({"detail": "Not found."});
    let user = json!({"detail": "No User matches the given query."});
    let cases = [
        (Method::GET, "/api/users/abc/", &plain),
        (Method::PATCH, "/api/users/1x/", &plain),
        (Method::DELETE, "/api/users/abc/", &plain),
        (Method::POST, "/api/users/abc/activate/", &plain),
        (Method::GET, "/api/users/999999/", &user),
        (Method::GET, "/api/users/0/", &user),
        (Method::GET, "/api/users/-3/", &user),
        (Method::PATCH, "/api/users/999999/", &user),
        (Method::DELETE, "/api/users/999999/", &user),
        (Method::POST, "/api/users/999999/deactivate/", &user),
    ];
    for (method, path, expected) in cases {
        let (status, body) = app
            .call(method.clone(), path, Some(&token), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(&body, expected, "{method} {path}");
    }
    let (status, body) = app.get("/api/profiles/0/", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"detail": "No UserProfile matches the given query."})
    );
}

async fn method_not_allowed_comes_after_authentication(app: TestApp) {
    let (id, token) = app.user_token("admin", Role::Admin).await;
    let (status, body) = app.call(Method::DELETE, "/api/users/", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    let (status, body) = app
        .call(Method::DELETE, "/api/users/", Some("garbage"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid");

    let (status, headers, text) = app
        .send(
            app.client
                .delete(app.url("/api/users/"))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(text, r#"{"detail":"Method \"DELETE\" not allowed."}"#);
    assert_eq!(headers["content-type"], "application/json");
    for (method, path) in [
        (Method::PUT, "/api/users/".to_string()),
        (Method::GET, format!("/api/users/{id}/activate/")),
        (Method::DELETE, "/api/users/by_role/".to_string()),
    ] {
        let (status, body) = app.call(method.clone(), &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(
            body,
            json!({"detail": format!("Method \"{method}\" not allowed.")})
        );
    }
}

/// `/api/users/` checks the admin permission before DRF looks for the method's handler.
async fn non_admin_gets_403_not_405_on_users_routes(app: TestApp) {
    let (id, token) = app.user_token("client", Role::Client).await;
    for (method, path) in [
        (Method::DELETE, "/api/users/".to_string()),
        (Method::GET, format!("/api/users/{id}/activate/")),
        (Method::POST, "/api/users/by_role/".to_string()),
    ] {
        let (status, body) = app.call(method.clone(), &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            body,
            json!({"detail": "You do not have permission to perform this action."})
        );
    }
    // Profiles are open to every authenticated user, so there the 405 shows.
    let (status, _) = app
        .call(Method::DELETE, "/api/profiles/", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

/// The token views authenticate nobody, so a wrong method is a 405 even for anonymous callers.
async fn login_and_refresh_answer_405_without_authentication(app: TestApp) {
    for path in ["/api/auth/login/", "/api/auth/refresh/"] {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let (status, body) = app.call(method.clone(), path, None, None).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_eq!(
                body,
                json!({"detail": format!("Method \"{method}\" not allowed.")})
            );
            let (status, _) = app.call(method.clone(), path, Some("garbage"), None).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
}

async fn unsupported_media_type_is_415(app: TestApp) {
    let (id, token) = app.user_token("admin", Role::Admin).await;
    let (status, text) = app
        .call_raw(
            Method::POST,
            "/api/auth/login/",
            None,
            "text/plain",
            "username=admin",
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        text,
        r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#
    );
    let (status, text) = app
        .call_raw(
            Method::PATCH,
            &format!("/api/users/{id}/"),
            Some(&token),
            "text/plain; charset=utf-8",
            "first_name=Changed",
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        text,
        r#"{"detail":"Unsupported media type \"text/plain; charset=utf-8\" in request."}"#
    );
    let (_, me) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(me["first_name"], "");
}

async fn bad_json_is_a_parse_error(app: TestApp) {
    let (id, token) = app.user_token("admin", Role::Admin).await;
    let (status, text) = app
        .call_raw(
            Method::POST,
            "/api/auth/login/",
            None,
            "application/json",
            r#"{"username": "admin", "#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "{text}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - "),
        "{text}"
    );
    let (status, text) = app
        .call_raw(
            Method::PATCH,
            &format!("/api/users/{id}/"),
            Some(&token),
            "application/json",
            "{'first_name': 'single quotes'}",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.starts_with(r#"{"detail":"JSON parse error - "#),
        "{text}"
    );
    let (_, me) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(me["first_name"], "");
}

async fn non_object_json_is_a_non_field_error(app: TestApp) {
    let (id, token) = app.user_token("admin", Role::Admin).await;
    for (body, kind) in [
        ("[1, 2]", "list"),
        (r#""text""#, "str"),
        ("12", "int"),
        ("true", "bool"),
    ] {
        let (status, text) = app
            .call_raw(
                Method::POST,
                "/api/auth/login/",
                None,
                "application/json",
                body,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            text,
            format!(
                r#"{{"non_field_errors":["Invalid data. Expected a dictionary, but got {kind}."]}}"#
            )
        );
    }
    let (status, body) = app
        .call_raw(
            Method::PATCH,
            &format!("/api/users/{id}/"),
            Some(&token),
            "application/json",
            r#"[{"first_name": "x"}]"#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#
    );
}

async fn form_encoded_and_multipart_logins_work(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let req = app.client.post(app.url("/api/auth/login/")).form(&[
        ("username", "alice".to_string()),
        ("password", password_of("alice")),
    ]);
    let (status, _, text) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["user"]["username"], "alice");

    let multipart = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{}\r\n--XyZ--\r\n",
        password_of("alice")
    );
    let (status, text) = app
        .call_raw(
            Method::POST,
            "/api/auth/login/",
            None,
            "multipart/form-data; boundary=XyZ",
            multipart,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");

    let req = app
        .client
        .post(app.url("/api/auth/login/"))
        .form(&[("username", "alice")]);
    let (status, _, text) = app.send(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(text, r#"{"password":["This field is required."]}"#);
}

async fn empty_json_body_means_no_fields(app: TestApp) {
    let (status, text) = app
        .call_raw(
            Method::POST,
            "/api/auth/login/",
            None,
            "application/json",
            "",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        text,
        r#"{"username":["This field is required."],"password":["This field is required."]}"#
    );
}

async fn cors_preflight_from_a_configured_origin_allows_authorization(app: TestApp) {
    let origin = "https://app.example.com";
    let req = app
        .client
        .request(Method::OPTIONS, app.url("/api/users/"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        );
    let (status, headers, _) = app.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["access-control-allow-origin"], origin);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    assert!(allowed.contains("content-type"), "{allowed}");
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("PATCH"), "{methods}");
    assert_eq!(headers["access-control-max-age"], "86400");

    // The actual request carries the origin back, error responses included.
    let req = app
        .client
        .get(app.url("/api/users/"))
        .header("Origin", origin);
    let (status, headers, _) = app.send(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["access-control-allow-origin"], origin);

    // Another origin is not allowed.
    let req = app
        .client
        .request(Method::OPTIONS, app.url("/api/users/"))
        .header("Origin", "https://evil.example.net")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization");
    let (_, headers, _) = app.send(req).await;
    assert!(headers.get("access-control-allow-origin").is_none());
}

async fn responses_are_compact_utf8_json(app: TestApp) {
    let (_, token) = app.user_token("admin", Role::Admin).await;
    let req = app
        .client
        .post(app.url("/api/users/"))
        .bearer_auth(&token)
        .json(&json!({
            "username": "zoe", "first_name": "Zoë", "last_name": "李", "password": "12345678",
            "password_confirm": "12345678", "role": "CLIENT",
        }));
    let (status, headers, text) = app.send(req).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(headers["content-type"], "application/json");
    assert!(
        text.contains(r#""full_name":"Zoë 李","role":"CLIENT""#),
        "{text}"
    );
    assert!(!text.contains(": ") && !text.contains(", "), "{text}");
}
