//! `/api/profiles/` (read-only, scoped by role) and `/api/profile/update/` (contract §10).

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{password_of, TestApp};
use crate::on_both_databases;

on_both_databases!(
    admin_sees_every_profile,
    client_and_support_see_only_their_own_profile,
    profile_detail_is_scoped_by_profile_id,
    profiles_are_read_only,
    profile_update_answers_only_put_and_patch,
    profile_update_changes_names_and_answers_only_names,
    profile_update_ignores_other_fields,
    profile_update_password_rules,
    changed_password_works_at_next_login,
);

fn profile_ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

async fn profile_id_of(app: &TestApp, user_id: i64) -> i64 {
    incident::db::users::get(&app.db, user_id)
        .await
        .unwrap()
        .unwrap()
        .profile_id
}

async fn admin_sees_every_profile(app: TestApp) {
    let (admin_id, token) = app.user_token("admin", Role::Admin).await;
    let client = app
        .create_user_with("client", Role::Client, "Cli", "Ent", Some("+201094402250"))
        .await;
    let dev = app.create_user("dev", Role::Support).await;
    let inactive = app.create_user("gone", Role::Client).await;
    incident::db::users::set_active(&app.db, inactive, false)
        .await
        .unwrap();
    let (status, page) = app.get("/api/profiles/", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 4);
    assert_eq!(page["next"], Value::Null);
    assert_eq!(page["previous"], Value::Null);
    let mut expected = Vec::new();
    for id in [admin_id, client, dev, inactive] {
        expected.push(profile_id_of(&app, id).await);
    }
    assert_eq!(profile_ids(&page), expected, "ascending profile id");
    let p = &page["results"][1];
    let keys = crate::common::keys(p);
    assert_eq!(
        keys,
        [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "phone_number",
            "whatsapp_number",
            "department",
            "created_at",
            "updated_at",
            // Additive (issue 15): the WhatsApp window and opt-out.
            "whatsapp_last_inbound_at",
            "whatsapp_window_open",
            "whatsapp_window_open_until",
            "whatsapp_opted_out_at"
        ]
    );
    assert_eq!(p["username"], "client");
    assert_eq!(p["first_name"], "Cli");
    assert_eq!(p["role"], "CLIENT");
    assert_eq!(p["whatsapp_number"], "+201094402250");
    assert_eq!(p["created_at"].as_str().unwrap().len(), 19);
}

async fn client_and_support_see_only_their_own_profile(app: TestApp) {
    app.create_user("admin", Role::Admin).await;
    for (name, role) in [("client", Role::Client), ("dev", Role::Support)] {
        let (id, token) = app.user_token(name, role).await;
        let (status, page) = app.get("/api/profiles/", &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["count"], 1, "{name}");
        assert_eq!(profile_ids(&page), [profile_id_of(&app, id).await]);
        assert_eq!(page["results"][0]["username"], name);
        assert_eq!(page["results"][0]["role"], role.as_str());
    }
}

async fn profile_detail_is_scoped_by_profile_id(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (client_id, client) = app.user_token("client", Role::Client).await;
    let other_id = app.create_user("other", Role::Client).await;
    let (own, other) = (
        profile_id_of(&app, client_id).await,
        profile_id_of(&app, other_id).await,
    );

    let (status, body) = app.get(&format!("/api/profiles/{own}/"), &client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], own);
    assert_eq!(body["username"], "client");

    let missing = json!({"detail": "No UserProfile matches the given query."});
    for id in [other, 999999] {
        let (status, body) = app.get(&format!("/api/profiles/{id}/"), &client).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(body, missing);
    }
    let (status, body) = app.get("/api/profiles/abc/", &client).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));

    let (status, body) = app.get(&format!("/api/profiles/{other}/"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "other");
    let (status, body) = app.get("/api/profiles/999999/", &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, missing);
}

async fn profiles_are_read_only(app: TestApp) {
    let (id, token) = app.user_token("admin", Role::Admin).await;
    let profile = profile_id_of(&app, id).await;
    let item = format!("/api/profiles/{profile}/");
    for (method, path) in [
        (Method::POST, "/api/profiles/"),
        (Method::PUT, "/api/profiles/"),
        (Method::PATCH, "/api/profiles/"),
        (Method::DELETE, "/api/profiles/"),
        (Method::POST, item.as_str()),
        (Method::PUT, item.as_str()),
        (Method::PATCH, item.as_str()),
        (Method::DELETE, item.as_str()),
    ] {
        let (status, body) = app
            .call(
                method.clone(),
                path,
                Some(&token),
                Some(json!({"role": "CLIENT"})),
            )
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(
            body,
            json!({"detail": format!("Method \"{method}\" not allowed.")})
        );
    }
    let (_, body) = app.get(&item, &token).await;
    assert_eq!(body["role"], "ADMIN");
}

async fn profile_update_answers_only_put_and_patch(app: TestApp) {
    let (_, token) = app.user_token("client", Role::Client).await;
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let (status, body) = app
            .call(method.clone(), "/api/profile/update/", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(
            body,
            json!({"detail": format!("Method \"{method}\" not allowed.")})
        );
    }
}

async fn profile_update_changes_names_and_answers_only_names(app: TestApp) {
    let (id, token) = app.user_token("client", Role::Client).await;
    let (status, body) = app
        .patch(
            "/api/profile/update/",
            &token,
            json!({"first_name": "  Clara ", "last_name": "Client"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"first_name":"Clara","last_name":"Client"}"#
    );
    // PUT requires nothing either.
    let (status, body) = app
        .put("/api/profile/update/", &token, json!({"last_name": "C."}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"first_name": "Clara", "last_name": "C."}));
    let stored = incident::db::users::get(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.first_name.as_str(), stored.last_name.as_str()),
        ("Clara", "C.")
    );

    let (status, body) = app
        .patch(
            "/api/profile/update/",
            &token,
            json!({"first_name": "x".repeat(151)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"first_name": ["Ensure this field has no more than 150 characters."]})
    );
}

async fn profile_update_ignores_other_fields(app: TestApp) {
    let (id, token) = app.user_token("client", Role::Client).await;
    let (status, body) = app
        .patch(
            "/api/profile/update/",
            &token,
            json!({
                "username": "renamed", "email": "new@example.com", "role": "ADMIN",
                "is_active": false, "whatsapp_number": "+12025551234", "department": "X",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"first_name": "", "last_name": ""}));
    let stored = incident::db::users::get(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.username, "client");
    assert_eq!(stored.email, "client@example.com");
    assert_eq!(stored.role, Role::Client);
    assert!(stored.is_active);
    assert_eq!(stored.whatsapp_number.as_deref(), Some(""));
    assert_eq!(stored.department.as_deref(), Some(""));
}

async fn profile_update_password_rules(app: TestApp) {
    let (_, token) = app.user_token("client", Role::Client).await;
    let mismatch = json!({"password_confirm": ["Passwords do not match."]});
    let cases = [
        (
            json!({"password": "short", "password_confirm": "short"}),
            json!({"password": ["Ensure this field has at least 8 characters."]}),
        ),
        (
            json!({"password": "   ", "password_confirm": "   "}),
            json!({"password": ["This field may not be blank."]}),
        ),
        (json!({"password": "new-password"}), mismatch.clone()),
        (
            json!({"password": "new-password", "password_confirm": "new-passwort"}),
            mismatch.clone(),
        ),
        (
            json!({"first_name": "Changed", "password": "new-password", "password_confirm": "x"}),
            mismatch.clone(),
        ),
    ];
    for (request, error) in cases {
        let (status, body) = app
            .patch("/api/profile/update/", &token, request.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}");
        assert_eq!(body, error, "{request}");
    }
    // Nothing changed.
    let (status, body) = app.login_with("client", &password_of("client")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["first_name"], "");
}

async fn changed_password_works_at_next_login(app: TestApp) {
    let (_, token) = app.user_token("client", Role::Client).await;
    let (status, body) = app
        .patch(
            "/api/profile/update/",
            &token,
            json!({"password": "  brand-new-pass ", "password_confirm": "brand-new-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"first_name": "", "last_name": ""}));
    let (status, _) = app.login_with("client", &password_of("client")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.login_with("client", "brand-new-pass").await;
    assert_eq!(status, StatusCode::OK);
    // Access tokens are not revoked (they run out within ACCESS_TOKEN_LIFETIME); refresh tokens
    // are: see auth::a_password_change_revokes_earlier_refresh_tokens.
    let (status, _) = app.get("/api/profiles/", &token).await;
    assert_eq!(status, StatusCode::OK);
}
