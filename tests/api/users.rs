//! `/api/users/`: admin-only user management (contract §9, with the fixes of issue #2).

use incident::config::Config;
use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{password_of, TestApp};
use crate::on_both_databases;

on_both_databases!(
    client_cannot_use_any_users_route,
    support_cannot_use_any_users_route,
    non_admin_gets_403_before_its_body_is_parsed,
    admin_lists_users_newest_first,
    admin_retrieves_a_user_and_a_missing_one_is_no_user_matches,
    create_returns_201_with_the_stored_role_and_numbers,
    create_stores_omitted_contact_fields_as_empty_strings,
    create_with_empty_body_lists_required_fields_in_contract_order,
    create_reports_every_field_error_in_contract_order,
    create_rejects_bad_or_taken_usernames,
    create_rejects_invalid_and_duplicate_emails,
    create_checks_password_length_then_confirmation,
    create_rejects_an_unknown_role,
    create_rejects_null_contact_fields,
    create_validates_whatsapp_numbers,
    created_user_can_log_in,
    update_changes_fields_and_answers_the_user_update_shape,
    put_behaves_like_patch,
    update_rejects_an_unknown_role,
    update_rejects_a_duplicate_email,
    update_password_needs_a_matching_confirmation,
    update_rejects_null_contact_fields,
    update_validates_whatsapp_numbers,
    failed_update_changes_nothing,
    update_of_a_missing_user_is_404_whatever_the_body,
    admin_cannot_deactivate_themselves,
    admin_cannot_delete_themselves,
    activate_and_deactivate_report_the_username,
    delete_removes_the_user_and_their_profile,
    by_role_requires_a_valid_role,
    by_role_lists_a_plain_array_including_inactive_users,
    by_role_reads_the_last_role_parameter,
);

fn egyptian_numbers(c: &mut Config) {
    c.default_phone_region = Some("EG".to_string());
}

on_both_databases!(config = egyptian_numbers; national_whatsapp_numbers_use_the_default_region);

const FORBIDDEN: &str = "You do not have permission to perform this action.";

async fn admin(app: &TestApp) -> String {
    app.user_token("admin", Role::Admin).await.1
}

fn new_user(username: &str) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": "s3cret-pass",
        "password_confirm": "s3cret-pass",
        "role": "CLIENT",
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

async fn create(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/users/", token, body).await
}

async fn assert_all_users_routes_forbidden(app: &TestApp, token: &str, other: i64) {
    let item = format!("/api/users/{other}/");
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, "/api/users/".into()),
        (Method::POST, "/api/users/".into()),
        (Method::GET, item.clone()),
        (Method::PUT, item.clone()),
        (Method::PATCH, item.clone()),
        (Method::DELETE, item.clone()),
        (Method::GET, "/api/users/999999/".into()),
        (Method::PATCH, "/api/users/999999/".into()),
        (Method::POST, format!("/api/users/{other}/activate/")),
        (Method::POST, format!("/api/users/{other}/deactivate/")),
        (Method::GET, "/api/users/by_role/?role=ADMIN".into()),
        (Method::GET, "/api/users/by_role/".into()),
    ];
    for (method, path) in routes {
        let (status, body) = app
            .call(
                method.clone(),
                &path,
                Some(token),
                Some(new_user("mallory")),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(body, json!({"detail": FORBIDDEN}), "{method} {path}");
    }
}

async fn client_cannot_use_any_users_route(app: TestApp) {
    let other = app.create_user("bob", Role::Client).await;
    let (_, token) = app.user_token("carol", Role::Client).await;
    assert_all_users_routes_forbidden(&app, &token, other).await;
    // Nothing happened to bob.
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(incident::db::users::count(&app.db).await.unwrap(), 2);
}

async fn support_cannot_use_any_users_route(app: TestApp) {
    let other = app.create_user("bob", Role::Client).await;
    let (_, token) = app.user_token("dev", Role::Support).await;
    assert_all_users_routes_forbidden(&app, &token, other).await;
}

/// DRF parses the body lazily, after the permission check.
async fn non_admin_gets_403_before_its_body_is_parsed(app: TestApp) {
    let (_, token) = app.user_token("carol", Role::Client).await;
    for (content_type, body) in [
        ("application/json", "{not json"),
        ("text/plain", "hello"),
        ("application/json", "[1, 2]"),
    ] {
        for (method, path) in [
            (Method::POST, "/api/users/"),
            (Method::PATCH, "/api/users/1/"),
        ] {
            let (status, text) = app
                .call_raw(method.clone(), path, Some(&token), content_type, body)
                .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {content_type} {body}"
            );
            assert_eq!(text, format!(r#"{{"detail":"{FORBIDDEN}"}}"#));
        }
    }
}

async fn admin_lists_users_newest_first(app: TestApp) {
    let token = admin(&app).await;
    let ids = app.create_many_users("user", 3).await;
    let (status, body) = app.get("/api/users/", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 4);
    assert_eq!(body["next"], Value::Null);
    assert_eq!(body["previous"], Value::Null);
    let usernames: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    // The admin joined now; the others a day ago, one second apart.
    assert_eq!(usernames, ["admin", "user02", "user01", "user00"]);
    let first = &body["results"][1];
    assert_eq!(first["id"], ids[2]);
    let keys = crate::common::keys(first);
    assert_eq!(
        keys,
        [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "full_name",
            "role",
            "phone_number",
            "whatsapp_number",
            "department",
            "is_active",
            "date_joined",
            "last_login",
            // Additive (issue 15): the WhatsApp window and opt-out.
            "whatsapp_last_inbound_at",
            "whatsapp_window_open",
            "whatsapp_window_open_until",
            "whatsapp_opted_out_at"
        ]
    );
    assert_eq!(first["full_name"], "user02");
    assert_eq!(first["last_login"], Value::Null);
}

async fn admin_retrieves_a_user_and_a_missing_one_is_no_user_matches(app: TestApp) {
    let token = admin(&app).await;
    let id = app
        .create_user_with("bob", Role::Support, "Bob", "Builder", Some("+12025551234"))
        .await;
    let (status, body) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "bob");
    assert_eq!(body["full_name"], "Bob Builder");
    assert_eq!(body["role"], "SUPPORT");
    assert_eq!(body["whatsapp_number"], "+12025551234");
    for path in ["/api/users/999999/", "/api/users/0/"] {
        let (status, body) = app.get(path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"detail": "No User matches the given query."}));
    }
}

async fn create_returns_201_with_the_stored_role_and_numbers(app: TestApp) {
    let token = admin(&app).await;
    let (status, body) = create(
        &app,
        &token,
        with(
            new_user("dev1"),
            json!({
                "role": "SUPPORT", "first_name": "Dev", "last_name": "One",
                "phone_number": "0100 000", "whatsapp_number": "whatsapp:+20 109-440-2250",
                "department": "Backend",
            }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "dev1");
    assert_eq!(body["full_name"], "Dev One");
    assert_eq!(body["role"], "SUPPORT");
    assert_eq!(body["phone_number"], "0100 000");
    assert_eq!(body["whatsapp_number"], "+201094402250");
    assert_eq!(body["department"], "Backend");
    assert_eq!(body["is_active"], true);
    assert_eq!(body["last_login"], Value::Null);
    assert!(body.get("password").is_none());
    let (_, stored) = app
        .get(&format!("/api/users/{}/", body["id"]), &token)
        .await;
    assert_eq!(stored, body);
}

async fn create_stores_omitted_contact_fields_as_empty_strings(app: TestApp) {
    let token = admin(&app).await;
    let (status, body) = create(
        &app,
        &token,
        json!({"username": "min", "password": "12345678", "password_confirm": "12345678", "role": "CLIENT", "email": "Min@EXAMPLE.Com"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "Min@example.com", "domain lower-cased");
    assert_eq!(body["first_name"], "");
    assert_eq!(body["full_name"], "min");
    assert_eq!(body["phone_number"], "");
    assert_eq!(body["whatsapp_number"], "");
    assert_eq!(body["department"], "");
    // A blank e-mail is allowed, twice.
    for name in ["blank1", "blank2"] {
        let (status, body) = create(&app, &token, with(new_user(name), json!({"email": ""}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["email"], "");
    }
}

async fn create_with_empty_body_lists_required_fields_in_contract_order(app: TestApp) {
    let token = admin(&app).await;
    let (status, body) = create(&app, &token, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"username":["This field is required."],"password":["This field is required."],"password_confirm":["This field is required."],"role":["This field is required."]}"#
    );
}

async fn create_reports_every_field_error_in_contract_order(app: TestApp) {
    let token = admin(&app).await;
    let (status, body) = create(
        &app,
        &token,
        json!({
            "department": null,
            "whatsapp_number": "12",
            "phone_number": null,
            "role": "BOSS",
            "password_confirm": "",
            "password": "short",
            "last_name": "x".repeat(151),
            "first_name": true,
            "email": "not-an-email",
            "username": "bad name!",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let keys = crate::common::keys(&body);
    assert_eq!(
        keys,
        [
            "username",
            "email",
            "first_name",
            "last_name",
            "password",
            "password_confirm",
            "role",
            "phone_number",
            "whatsapp_number",
            "department"
        ],
        "{body}"
    );
    assert_eq!(
        body["username"],
        json!(["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."])
    );
    assert_eq!(body["email"], json!(["Enter a valid email address."]));
    assert_eq!(body["first_name"], json!(["Not a valid string."]));
    assert_eq!(
        body["last_name"],
        json!(["Ensure this field has no more than 150 characters."])
    );
    assert_eq!(
        body["password"],
        json!(["Ensure this field has at least 8 characters."])
    );
    assert_eq!(
        body["password_confirm"],
        json!(["This field may not be blank."])
    );
    assert_eq!(body["role"], json!(["\"BOSS\" is not a valid choice."]));
    assert_eq!(body["phone_number"], json!(["This field may not be null."]));
    assert_eq!(body["department"], json!(["This field may not be null."]));
    assert_eq!(incident::db::users::count(&app.db).await.unwrap(), 1);
}

async fn create_rejects_bad_or_taken_usernames(app: TestApp) {
    let token = admin(&app).await;
    app.create_user("taken", Role::Client).await;
    let cases = [
        (
            json!("taken"),
            "A user with that username already exists.",
        ),
        (
            json!("x".repeat(151)),
            "Ensure this field has no more than 150 characters.",
        ),
        (
            json!("has space"),
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        ),
        (json!("   "), "This field may not be blank."),
        (json!(null), "This field may not be null."),
    ];
    for (username, message) in cases {
        let (status, body) = create(
            &app,
            &token,
            with(new_user("x"), json!({"username": username})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}");
        assert_eq!(body, json!({"username": [message]}), "{username}");
    }
    // Allowed characters, and case matters.
    for username in ["a.b@c+d-e_f", "Taken", "  padded  "] {
        let (status, body) = create(
            &app,
            &token,
            with(new_user("x"), json!({"username": username, "email": ""})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{username}: {body}");
        assert_eq!(body["username"], username.trim());
    }
}

async fn create_rejects_invalid_and_duplicate_emails(app: TestApp) {
    let token = admin(&app).await;
    for email in ["plainaddress", "a@b", "a@@b.com", "@example.com"] {
        let (status, body) =
            create(&app, &token, with(new_user("eve"), json!({"email": email}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}");
        assert_eq!(body, json!({"email": ["Enter a valid email address."]}));
    }
    let (status, _) = create(&app, &token, new_user("eve")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = create(
        &app,
        &token,
        with(new_user("eve2"), json!({"email": "eve@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"email": ["Email already exists."]}));
    // The password mismatch is checked before the e-mail's existence.
    let (status, body) = create(
        &app,
        &token,
        with(
            new_user("eve2"),
            json!({"email": "eve@example.com", "password_confirm": "different-pass"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"password_confirm": ["Passwords do not match."]})
    );
}

async fn create_checks_password_length_then_confirmation(app: TestApp) {
    let token = admin(&app).await;
    let (status, body) = create(
        &app,
        &token,
        with(
            new_user("x"),
            json!({"password": "  1234567  ", "password_confirm": "  1234567  "}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"password": ["Ensure this field has at least 8 characters."]})
    );
    let (status, body) = create(
        &app,
        &token,
        with(new_user("x"), json!({"password_confirm": "s3cret-pasS"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"password_confirm": ["Passwords do not match."]})
    );
    // Passwords are trimmed, so these match; digits only are fine.
    let (status, body) = create(
        &app,
        &token,
        with(
            new_user("x"),
            json!({"password": " 12345678 ", "password_confirm": "12345678"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = app.login_with("x", "12345678").await;
    assert_eq!(status, StatusCode::OK);
}

async fn create_rejects_an_unknown_role(app: TestApp) {
    let token = admin(&app).await;
    for (role, shown) in [
        (json!("BOSS"), "BOSS"),
        (json!("admin"), "admin"),
        (json!(""), ""),
        (json!(3), "3"),
    ] {
        let (status, body) = create(&app, &token, with(new_user("x"), json!({"role": role}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{role}");
        assert_eq!(
            body,
            json!({"role": [format!("\"{shown}\" is not a valid choice.")]})
        );
    }
}

async fn create_rejects_null_contact_fields(app: TestApp) {
    let token = admin(&app).await;
    let (status, body) = create(
        &app,
        &token,
        with(
            new_user("x"),
            json!({"phone_number": null, "whatsapp_number": null, "department": null}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "phone_number": ["This field may not be null."],
            "whatsapp_number": ["This field may not be null."],
            "department": ["This field may not be null."],
        })
    );
}

async fn create_validates_whatsapp_numbers(app: TestApp) {
    let token = admin(&app).await;
    for (input, stored) in [
        ("+201094402250", "+201094402250"),
        ("whatsapp:+14155238886", "+14155238886"),
        (" +44 7700-123-456 ", "+447700123456"),
        ("", ""),
    ] {
        let name = format!("u{}", stored.len() + input.len());
        let (status, body) = create(
            &app,
            &token,
            with(new_user(&name), json!({"whatsapp_number": input})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{input}: {body}");
        assert_eq!(body["whatsapp_number"], stored, "{input}");
    }
    // A national number with no default region: the message asks for the country code.
    let (status, body) = create(
        &app,
        &token,
        with(new_user("local"), json!({"whatsapp_number": "01094402250"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let messages = body["whatsapp_number"].as_array().expect("a field error");
    assert_eq!(messages.len(), 1, "{body}");
    assert!(
        messages[0].as_str().unwrap().contains("country code"),
        "{body}"
    );
    for bad in ["+1415523888", "call me", "+99912345678", "whatsapp:"] {
        let (status, body) = create(
            &app,
            &token,
            with(new_user("bad"), json!({"whatsapp_number": bad})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
        assert!(body["whatsapp_number"][0].is_string(), "{bad}: {body}");
    }
}

async fn national_whatsapp_numbers_use_the_default_region(app: TestApp) {
    let token = admin(&app).await;
    let (status, body) = create(
        &app,
        &token,
        with(
            new_user("local"),
            json!({"whatsapp_number": "010 9440-2250"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["whatsapp_number"], "+201094402250");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({"whatsapp_number": "01001234567"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["whatsapp_number"], "+201001234567");
    // An explicit country code wins over the region.
    let (_, body) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({"whatsapp_number": "+447700123456"}),
        )
        .await;
    assert_eq!(body["whatsapp_number"], "+447700123456");
}

async fn created_user_can_log_in(app: TestApp) {
    let token = admin(&app).await;
    let (status, _) = create(
        &app,
        &token,
        with(new_user("newbie"), json!({"role": "ADMIN"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app.login_with("newbie", "s3cret-pass").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "ADMIN");
    // The new admin really is one.
    let (status, _) = app
        .get("/api/users/", body["access"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn update_changes_fields_and_answers_the_user_update_shape(app: TestApp) {
    let token = admin(&app).await;
    let id = app.create_user("bob", Role::Client).await;
    let (status, body) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({
                "email": "Robert@Example.ORG", "first_name": " Robert ", "last_name": "Builder",
                "role": "SUPPORT", "phone_number": "12345", "whatsapp_number": "+12025551234",
                "department": "Ops", "username": "renamed", "id": 999,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        format!(
            r#"{{"id":{id},"username":"bob","email":"Robert@example.org","first_name":"Robert","last_name":"Builder","is_active":true,"role":"SUPPORT","phone_number":"12345","whatsapp_number":"+12025551234","department":"Ops"}}"#
        )
    );
    let (_, stored) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(stored["full_name"], "Robert Builder");
    assert_eq!(stored["role"], "SUPPORT");
    // Blank contact fields are allowed and clear the value.
    let (status, body) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({"phone_number": "", "whatsapp_number": "", "department": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["whatsapp_number"], "");
    assert_eq!(body["department"], "");
}

async fn put_behaves_like_patch(app: TestApp) {
    let token = admin(&app).await;
    let id = app
        .create_user_with("bob", Role::Client, "Bob", "Old", None)
        .await;
    let (status, body) = app
        .put(
            &format!("/api/users/{id}/"),
            &token,
            json!({"last_name": "New"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["first_name"], "Bob");
    assert_eq!(body["last_name"], "New");
    assert_eq!(body["email"], "bob@example.com");
    let (status, _) = app
        .put(&format!("/api/users/{id}/"), &token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn update_rejects_an_unknown_role(app: TestApp) {
    let token = admin(&app).await;
    let id = app.create_user("bob", Role::Client).await;
    for (role, message) in [
        (json!("BOSS"), "\"BOSS\" is not a valid choice."),
        (json!("client"), "\"client\" is not a valid choice."),
        (json!(null), "This field may not be null."),
    ] {
        let (status, body) = app
            .patch(&format!("/api/users/{id}/"), &token, json!({"role": role}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{role}");
        assert_eq!(body, json!({"role": [message]}));
    }
    let (_, stored) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(stored["role"], "CLIENT");
}

async fn update_rejects_a_duplicate_email(app: TestApp) {
    let token = admin(&app).await;
    app.create_user("alice", Role::Client).await;
    let id = app.create_user("bob", Role::Client).await;
    for email in ["alice@example.com", "ALICE@example.com"] {
        let (status, body) = app
            .patch(
                &format!("/api/users/{id}/"),
                &token,
                json!({"email": email}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}");
        assert_eq!(body, json!({"email": ["Email already exists."]}));
    }
    // Keeping one's own address is not a duplicate; neither is blank.
    for email in ["bob@example.com", ""] {
        let (status, body) = app
            .patch(
                &format!("/api/users/{id}/"),
                &token,
                json!({"email": email}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
    }
    let (status, body) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({"email": "bob@"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"email": ["Enter a valid email address."]}));
}

async fn update_password_needs_a_matching_confirmation(app: TestApp) {
    let token = admin(&app).await;
    let id = app.create_user("bob", Role::Client).await;
    let path = format!("/api/users/{id}/");
    let cases = [
        (
            json!({"password": "new-password"}),
            json!({"password_confirm": ["Password confirmation is required when changing password."]}),
        ),
        (
            json!({"password": "new-password", "password_confirm": ""}),
            json!({"password_confirm": ["This field may not be blank."]}),
        ),
        (
            json!({"password": "new-password", "password_confirm": "new-passwort"}),
            json!({"password_confirm": ["Passwords do not match."]}),
        ),
        (
            json!({"password": "short", "password_confirm": "short"}),
            json!({"password": ["Ensure this field has at least 8 characters."]}),
        ),
    ];
    for (request, error) in cases {
        let (status, body) = app.patch(&path, &token, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}");
        assert_eq!(body, error, "{request}");
    }
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::OK, "the old password still works");

    let (status, body) = app
        .patch(
            &path,
            &token,
            json!({"password": "new-password", "password_confirm": "new-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("password").is_none());
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.login_with("bob", "new-password").await;
    assert_eq!(status, StatusCode::OK);
}

async fn update_rejects_null_contact_fields(app: TestApp) {
    let token = admin(&app).await;
    let id = app.create_user("bob", Role::Client).await;
    let (status, body) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({"phone_number": null, "department": null, "is_active": "maybe"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "is_active": ["Must be a valid boolean."],
            "phone_number": ["This field may not be null."],
            "department": ["This field may not be null."],
        })
    );
}

async fn update_validates_whatsapp_numbers(app: TestApp) {
    let token = admin(&app).await;
    let id = app.create_user("bob", Role::Client).await;
    let path = format!("/api/users/{id}/");
    let (status, body) = app
        .patch(
            &path,
            &token,
            json!({"whatsapp_number": "whatsapp:+1 415-523-8886"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["whatsapp_number"], "+14155238886");
    let (status, body) = app
        .patch(&path, &token, json!({"whatsapp_number": "01094402250"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["whatsapp_number"][0]
            .as_str()
            .unwrap()
            .contains("country code"),
        "{body}"
    );
    let (_, stored) = app.get(&path, &token).await;
    assert_eq!(stored["whatsapp_number"], "+14155238886");
}

async fn failed_update_changes_nothing(app: TestApp) {
    let token = admin(&app).await;
    app.create_user("alice", Role::Client).await;
    let id = app
        .create_user_with("bob", Role::Client, "Bob", "Builder", Some("+12025551234"))
        .await;
    let path = format!("/api/users/{id}/");
    let (_, before) = app.get(&path, &token).await;
    let bad_requests = [
        json!({"first_name": "Changed", "role": "BOSS"}),
        json!({"first_name": "Changed", "email": "alice@example.com"}),
        json!({"first_name": "Changed", "password": "new-password"}),
        json!({"first_name": "Changed", "whatsapp_number": "nope", "is_active": false}),
        json!({"last_name": "Changed", "department": null}),
    ];
    for request in bad_requests {
        let (status, _) = app.patch(&path, &token, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}");
        let (_, after) = app.get(&path, &token).await;
        assert_eq!(after, before, "{request}");
    }
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::OK);
}

async fn admin_cannot_deactivate_themselves(app: TestApp) {
    let (id, token) = app.user_token("admin", Role::Admin).await;
    let error = json!({"error": "You cannot deactivate your own account"});
    let (status, body) = app
        .post(&format!("/api/users/{id}/deactivate/"), &token, json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, error);
    for is_active in [json!(false), json!("false"), json!(0)] {
        let (status, body) = app
            .patch(
                &format!("/api/users/{id}/"),
                &token,
                json!({"is_active": is_active, "first_name": "Changed"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{is_active}");
        assert_eq!(body, error);
    }
    let (status, body) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(status, StatusCode::OK, "still active: {body}");
    assert_eq!(body["is_active"], true);
    assert_eq!(body["first_name"], "");
    // Keeping oneself active is fine, and so is deactivating another admin.
    let (status, _) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({"is_active": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let other = app.create_user("admin2", Role::Admin).await;
    let (status, body) = app
        .patch(
            &format!("/api/users/{other}/"),
            &token,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["is_active"], false);
}

async fn admin_cannot_delete_themselves(app: TestApp) {
    let (id, token) = app.user_token("admin", Role::Admin).await;
    let (status, body) = app.delete(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "You cannot delete your own account"}));
    let (status, _) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(status, StatusCode::OK);
}

async fn activate_and_deactivate_report_the_username(app: TestApp) {
    let token = admin(&app).await;
    let id = app.create_user("bob", Role::Client).await;
    let (status, body) = app
        .post(
            &format!("/api/users/{id}/deactivate/"),
            &token,
            json!({"is_active": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"message": "User bob deactivated successfully"})
    );
    let (_, stored) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(stored["is_active"], false);
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = app
        .post(&format!("/api/users/{id}/activate/"), &token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "User bob activated successfully"}));
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::OK);

    for action in ["activate", "deactivate"] {
        let (status, body) = app
            .post(&format!("/api/users/999999/{action}/"), &token, json!({}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({"detail": "No User matches the given query."}));
    }
}

async fn delete_removes_the_user_and_their_profile(app: TestApp) {
    let token = admin(&app).await;
    let id = app.create_user("bob", Role::Client).await;
    let (status, headers, text) = app
        .send(
            app.client
                .delete(app.url(&format!("/api/users/{id}/")))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(text, "");
    assert!(headers.get("content-type").is_none());
    let (status, body) = app.get(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "No User matches the given query."}));
    let (_, profiles) = app.get("/api/profiles/", &token).await;
    assert_eq!(profiles["count"], 1);
    let (status, _) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = app.delete(&format!("/api/users/{id}/"), &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "No User matches the given query."}));
}

async fn by_role_requires_a_valid_role(app: TestApp) {
    let token = admin(&app).await;
    for path in ["/api/users/by_role/", "/api/users/by_role/?role="] {
        let (status, body) = app.get(path, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body, json!({"error": "role parameter is required"}));
    }
    for role in ["admin", "BOSS", "DEVELOPER", "%20ADMIN"] {
        let (status, body) = app
            .get(&format!("/api/users/by_role/?role={role}"), &token)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{role}");
        assert_eq!(
            body,
            json!({"error": "Invalid role. Must be CLIENT, SUPPORT, or ADMIN"})
        );
    }
}

async fn by_role_lists_a_plain_array_including_inactive_users(app: TestApp) {
    let token = admin(&app).await;
    let dev1 = app.create_user("dev1", Role::Support).await;
    app.create_user("client", Role::Client).await;
    let dev2 = app.create_user("dev2", Role::Support).await;
    incident::db::users::set_active(&app.db, dev1, false)
        .await
        .unwrap();
    let (status, body) = app.get("/api/users/by_role/?role=SUPPORT", &token).await;
    assert_eq!(status, StatusCode::OK);
    let list = body.as_array().expect("a plain array");
    let ids: Vec<i64> = list.iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [dev1, dev2]);
    assert_eq!(list[0]["is_active"], false);
    assert_eq!(list[0]["role"], "SUPPORT");
    assert!(list[0].get("full_name").is_some() && list[0].get("last_login").is_some());
    let (_, body) = app.get("/api/users/by_role/?role=ADMIN", &token).await;
    assert_eq!(body.as_array().unwrap().len(), 1);
}

/// Django's `query_params.get` reads the last value of a repeated parameter.
async fn by_role_reads_the_last_role_parameter(app: TestApp) {
    let token = admin(&app).await;
    app.create_user("dev", Role::Support).await;
    let (status, body) = app
        .get("/api/users/by_role/?role=ADMIN&role=SUPPORT", &token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["username"], "dev");
    assert_eq!(body.as_array().unwrap().len(), 1);
}

/// DRF finds the user before it parses the body.
async fn update_of_a_missing_user_is_404_whatever_the_body(app: TestApp) {
    let token = admin(&app).await;
    for (path, detail) in [
        ("/api/users/999999/", "No User matches the given query."),
        ("/api/users/abc/", "Not found."),
    ] {
        for (content_type, body) in [
            ("application/json", "{not json"),
            ("text/plain", "hello"),
            ("application/json", r#"{"role": "BOSS"}"#),
        ] {
            let (status, text) = app
                .call_raw(Method::PATCH, path, Some(&token), content_type, body)
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path} {body}");
            assert_eq!(text, format!(r#"{{"detail":"{detail}"}}"#));
        }
    }
}
