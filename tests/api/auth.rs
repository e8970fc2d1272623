//! Login and refresh (contract §2) and access-token authentication (§1.4).

use std::time::Duration;

use incident::auth::jwt::{JwtKeys, TokenType};
use incident::config::Config;
use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{password_of, TestApp};
use crate::on_both_databases;

const BAD_CREDENTIALS: &str = "Unable to log in with provided credentials.";

/// A Django 5.1 hash of `legacy pass 42`, computed independently of this code with:
///   python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac('sha256',
///     b'legacy pass 42', b'Xy7pQ2rT9vLmK4sN8wZb3c', 870000)).decode())"
const DJANGO_HASH: &str =
    "pbkdf2_sha256$870000$Xy7pQ2rT9vLmK4sN8wZb3c$Lse6LB+eSpreBU0HRbfrRr5mUyc0qn/sYjRo2ppPrrs=";

on_both_databases!(
    login_returns_tokens_and_user,
    login_with_missing_fields_names_each_missing_field,
    login_with_blank_fields_says_they_may_not_be_blank,
    login_with_wrong_password_or_unknown_user_gets_the_generic_error,
    inactive_user_cannot_log_in_and_gets_the_generic_error,
    login_without_a_profile_row_is_refused,
    login_trims_the_password,
    login_ignores_the_authorization_header,
    login_sets_last_login,
    django_pbkdf2_hash_logs_in_and_is_upgraded_to_argon2id,
    refresh_without_the_key_is_required,
    refresh_with_garbage_or_a_foreign_signature_is_invalid,
    refresh_with_access_token_has_wrong_type,
    refresh_rotates_and_blacklists,
    concurrent_refreshes_of_one_token_succeed_once,
    refresh_for_an_inactive_user_finds_no_active_account,
    refresh_for_a_deleted_user_finds_no_active_account,
    anonymous_is_401_with_bearer_challenge,
    garbage_access_token_is_invalid_with_the_messages_shape,
    access_token_signed_with_another_key_is_invalid,
    refresh_token_used_as_access_has_wrong_type,
    bearer_alone_or_with_three_parts_is_a_bad_authorization_header,
    other_schemes_are_anonymous,
    token_of_a_deactivated_user_is_user_inactive,
    token_of_a_deleted_user_is_user_not_found,
    refreshed_access_token_authenticates,
    login_tokens_carry_simplejwt_claims,
    token_minted_like_the_original_is_accepted,
    a_password_change_revokes_earlier_refresh_tokens,
    other_account_changes_keep_refresh_tokens,
    the_originals_tokens_issued_before_a_revocation_are_refused,
    a_refresh_token_from_the_second_of_a_later_password_change_is_refused,
    tokens_from_the_second_of_a_deactivation_stay_refused_after_reactivation,
);

fn three_failures(c: &mut Config) {
    c.login_max_failures = 3;
    c.login_lockout = Duration::from_secs(600);
}

fn three_failures_one_second(c: &mut Config) {
    c.login_max_failures = 3;
    c.login_lockout = Duration::from_secs(1);
}

fn three_failures_behind_a_proxy(c: &mut Config) {
    three_failures(c);
    c.trusted_proxy_hops = 1;
}

fn spraying_limits_behind_a_proxy(c: &mut Config) {
    three_failures_behind_a_proxy(c);
    c.login_max_failures_per_address = 4;
}

/// No per-address limit, so only the queue bound refuses; a wait of 100 ms at most.
fn short_hash_queue(c: &mut Config) {
    c.login_max_failures_per_address = 0;
    c.login_max_hash_wait = Duration::from_millis(100);
}

fn one_second_tokens(c: &mut Config) {
    c.access_token_lifetime = Duration::from_secs(1);
    c.refresh_token_lifetime = Duration::from_secs(1);
}

on_both_databases!(config = one_second_tokens; expired_access_and_refresh_tokens_are_refused);
on_both_databases!(config = three_failures; repeated_refused_logins_are_throttled_per_username);
on_both_databases!(config = three_failures_one_second; a_lockout_ends_and_a_success_clears_the_count);
on_both_databases!(config = three_failures_behind_a_proxy; behind_a_proxy_the_lockout_is_per_forwarded_address);
on_both_databases!(config = spraying_limits_behind_a_proxy; password_spraying_from_one_address_is_throttled);
on_both_databases!(config = short_hash_queue; a_login_flood_is_refused_at_once_when_the_password_check_queue_is_long);

fn access_token_error(message: &str) -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    })
}

fn token_not_valid(detail: &str) -> Value {
    json!({"detail": detail, "code": "token_not_valid"})
}

async fn login_returns_tokens_and_user(app: TestApp) {
    let id = app
        .create_user_with(
            "alice",
            Role::Admin,
            "Alice",
            "Smith",
            Some("+201094402250"),
        )
        .await;
    let body = app.login("alice").await;
    assert!(body["access"].is_string() && body["refresh"].is_string());
    let keys = crate::common::keys(&body);
    assert_eq!(keys, ["refresh", "access", "user"]);
    let user = &body["user"];
    assert_eq!(user["id"], id);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["full_name"], "Alice Smith");
    assert_eq!(user["role"], "ADMIN");
    assert_eq!(user["phone_number"], "");
    assert_eq!(user["whatsapp_number"], "+201094402250");
    assert_eq!(user["is_active"], true);
    let keys = crate::common::keys(user);
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
            "date_joined"
        ]
    );
    // The access token works on the API.
    let (status, _) = app
        .get("/api/profiles/", body["access"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn login_with_missing_fields_names_each_missing_field(app: TestApp) {
    let (status, body) = app
        .call(Method::POST, "/api/auth/login/", None, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"username":["This field is required."],"password":["This field is required."]}"#
    );
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/login/",
            None,
            Some(json!({"username": "alice"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password": ["This field is required."]}));
}

async fn login_with_blank_fields_says_they_may_not_be_blank(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let (status, body) = app.login_with("alice", "   ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password": ["This field may not be blank."]}));
    let (status, body) = app.login_with("", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"username": ["This field may not be blank."], "password": ["This field may not be blank."]})
    );
}

async fn login_with_wrong_password_or_unknown_user_gets_the_generic_error(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    for (username, password) in [
        ("alice", "wrong-password"),
        ("Alice", password_of("alice").as_str()),
        ("nobody", "whatever-password"),
    ] {
        let (status, body) = app.login_with(username, password).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}");
        assert_eq!(body, json!({"non_field_errors": [BAD_CREDENTIALS]}));
    }
}

async fn inactive_user_cannot_log_in_and_gets_the_generic_error(app: TestApp) {
    let id = app.create_user("alice", Role::Client).await;
    incident::db::users::set_active(&app.db, id, false)
        .await
        .unwrap();
    let (status, body) = app.login_with("alice", &password_of("alice")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"non_field_errors": [BAD_CREDENTIALS]}));
}

async fn login_without_a_profile_row_is_refused(app: TestApp) {
    let id = app.create_user("alice", Role::Client).await;
    app.delete_profile(id).await;
    let (status, body) = app.login_with("alice", &password_of("alice")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"non_field_errors": ["User profile not found. Please contact administrator."]})
    );
    assert_eq!(
        app.stored_last_login(id).await,
        None,
        "a refused login is no login"
    );
}

async fn login_trims_the_password(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let (status, body) = app
        .login_with(" alice ", &format!("  {}\t", password_of("alice")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["username"], "alice");
}

async fn login_ignores_the_authorization_header(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let req = app
        .client
        .post(app.url("/api/auth/login/"))
        .header("Authorization", "Bearer not-a-token")
        .json(&json!({"username": "alice", "password": password_of("alice")}));
    let (status, _, text) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
}

async fn login_sets_last_login(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = app.create_user("alice", Role::Client).await;
    let (_, before) = app.get(&format!("/api/users/{id}/"), &admin).await;
    assert_eq!(before["last_login"], Value::Null);
    app.login("alice").await;
    let (_, after) = app.get(&format!("/api/users/{id}/"), &admin).await;
    let last_login = after["last_login"].as_str().expect("last_login is set");
    // The serializer format `YYYY-MM-DD HH:MM:SS` (UTC), and it is the time of the login.
    let at = chrono::NaiveDateTime::parse_from_str(last_login, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("{last_login}: {e}"))
        .and_utc();
    let age = chrono::Utc::now() - at;
    assert!(
        age >= chrono::Duration::zero() && age < chrono::Duration::seconds(60),
        "{last_login}"
    );
}

async fn django_pbkdf2_hash_logs_in_and_is_upgraded_to_argon2id(app: TestApp) {
    let id = app
        .create_user_with_hash("legacy", Role::Support, DJANGO_HASH)
        .await;
    // A wrong password changes nothing.
    let (status, _) = app.login_with("legacy", "legacy pass 43").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.stored_password(id).await, DJANGO_HASH);

    let (status, body) = app.login_with("legacy", "legacy pass 42").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "SUPPORT");
    let upgraded = app.stored_password(id).await;
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");

    let (status, _) = app.login_with("legacy", "legacy pass 42").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.stored_password(id).await,
        upgraded,
        "a current hash is kept"
    );
    let (status, _) = app.login_with("legacy", "legacy pass 43").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn refresh_without_the_key_is_required(app: TestApp) {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/refresh/",
            None,
            Some(json!({"token": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"refresh": ["This field is required."]}));
}

async fn refresh_with_garbage_or_a_foreign_signature_is_invalid(app: TestApp) {
    let id = app.create_user("alice", Role::Client).await;
    let foreign = JwtKeys::new(
        "some-other-deployment-secret",
        Duration::from_secs(60),
        Duration::from_secs(60),
    )
    .issue(id, TokenType::Refresh)
    .unwrap()
    .token;
    for token in ["garbage", "a.b.c", foreign.as_str()] {
        let (status, body) = app.refresh(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(body, token_not_valid("Token is invalid"), "{token}");
    }
}

async fn refresh_with_access_token_has_wrong_type(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let login = app.login("alice").await;
    let (status, body) = app.refresh(login["access"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token has wrong type"));
}

async fn refresh_rotates_and_blacklists(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    let login = app.login("bob").await;
    let old = login["refresh"].as_str().unwrap().to_string();
    let (status, body) = app.refresh(&old).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys = crate::common::keys(&body);
    assert_eq!(keys, ["access", "refresh"]);
    let new = body["refresh"].as_str().unwrap().to_string();
    assert_ne!(new, old);

    let (status, body) = app.refresh(&old).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is blacklisted"));

    // The rotated-in token works once, too.
    let (status, body) = app.refresh(&new).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.refresh(&new).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is blacklisted"));
}

async fn concurrent_refreshes_of_one_token_succeed_once(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    let login = app.login("bob").await;
    let token = login["refresh"].as_str().unwrap();
    // Several at once, so that some pass the blacklist check before the first one commits.
    let results = futures::future::join_all((0..6).map(|_| app.refresh(token))).await;
    let winners = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(winners, 1, "{results:?}");
    for (status, body) in &results {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::UNAUTHORIZED);
            assert_eq!(*body, token_not_valid("Token is blacklisted"));
        }
    }
}

async fn refresh_for_an_inactive_user_finds_no_active_account(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = app.create_user("bob", Role::Client).await;
    let login = app.login("bob").await;
    let (status, _) = app
        .post(&format!("/api/users/{id}/deactivate/"), &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.refresh(login["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "No active account found for the given token."})
    );
}

/// The original answered 500 (an unhandled `DoesNotExist`); the port answers like an inactive user.
async fn refresh_for_a_deleted_user_finds_no_active_account(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = app.create_user("bob", Role::Client).await;
    let login = app.login("bob").await;
    let (status, _) = app.delete(&format!("/api/users/{id}/"), &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.refresh(login["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "No active account found for the given token."})
    );
}

async fn anonymous_is_401_with_bearer_challenge(app: TestApp) {
    for path in [
        "/api/profiles/",
        "/api/users/",
        "/api/users/1/",
        "/api/profile/update/",
    ] {
        let (status, headers, text) = app.send(app.client.get(app.url(path))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            text,
            r#"{"detail":"Authentication credentials were not provided."}"#
        );
        assert_eq!(headers["www-authenticate"], r#"Bearer realm="api""#);
        assert_eq!(headers["content-type"], "application/json");
    }
}

async fn garbage_access_token_is_invalid_with_the_messages_shape(app: TestApp) {
    let (status, headers, body) = app
        .get_with_authorization("/api/profiles/", "Bearer garbage")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, access_token_error("Token is invalid"));
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="api""#);
    // Key order as SimpleJWT writes it.
    let (_, _, text) = app
        .send(
            app.client
                .get(app.url("/api/profiles/"))
                .bearer_auth("garbage"),
        )
        .await;
    assert_eq!(
        text,
        r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid"}]}"#
    );
}

async fn access_token_signed_with_another_key_is_invalid(app: TestApp) {
    let id = app.create_user("alice", Role::Admin).await;
    let foreign = JwtKeys::new(
        "some-other-deployment-secret",
        Duration::from_secs(60),
        Duration::from_secs(60),
    )
    .issue(id, TokenType::Access)
    .unwrap()
    .token;
    let (status, body) = app.get("/api/profiles/", &foreign).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, access_token_error("Token is invalid"));
    // The same claims signed with the server's key are accepted.
    let own = app.state.jwt.issue(id, TokenType::Access).unwrap().token;
    let (status, _) = app.get("/api/profiles/", &own).await;
    assert_eq!(status, StatusCode::OK);
}

async fn refresh_token_used_as_access_has_wrong_type(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let login = app.login("alice").await;
    let (status, body) = app
        .get("/api/profiles/", login["refresh"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, access_token_error("Token has wrong type"));
}

async fn bearer_alone_or_with_three_parts_is_a_bad_authorization_header(app: TestApp) {
    let (_, token) = app.user_token("alice", Role::Client).await;
    let three = format!("Bearer {token} extra");
    for header in ["Bearer", "Bearer  ", three.as_str()] {
        let (status, headers, body) = app.get_with_authorization("/api/profiles/", header).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(
            body,
            json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}),
            "{header:?}"
        );
        assert_eq!(headers["www-authenticate"], r#"Bearer realm="api""#);
    }
}

async fn other_schemes_are_anonymous(app: TestApp) {
    let (_, token) = app.user_token("alice", Role::Client).await;
    let lower = format!("bearer {token}");
    let jwt = format!("JWT {token}");
    for header in [
        "Token x",
        "Basic YWxpY2U6eA==",
        lower.as_str(),
        jwt.as_str(),
    ] {
        let (status, _, body) = app.get_with_authorization("/api/profiles/", header).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(
            body,
            json!({"detail": "Authentication credentials were not provided."}),
            "{header:?}"
        );
    }
}

async fn token_of_a_deactivated_user_is_user_inactive(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (id, token) = app.user_token("alice", Role::Client).await;
    let (status, body) = app
        .post(&format!("/api/users/{id}/deactivate/"), &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get("/api/profiles/", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "User is inactive", "code": "user_inactive"})
    );
    // Reactivated, the token issued before the deactivation stays refused (issue 10, item 13);
    // a new login works.
    let (status, _) = app
        .post(&format!("/api/users/{id}/activate/"), &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.get("/api/profiles/", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, access_token_error("Token is blacklisted"));
    let fresh = app.login("alice").await;
    let (status, _) = app
        .get("/api/profiles/", fresh["access"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn token_of_a_deleted_user_is_user_not_found(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let (id, token) = app.user_token("alice", Role::Client).await;
    let (status, _) = app.delete(&format!("/api/users/{id}/"), &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/profiles/", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "User not found", "code": "user_not_found"})
    );
}

async fn refreshed_access_token_authenticates(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let login = app.login("alice").await;
    let (status, body) = app.refresh(login["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = app
        .get("/api/profiles/", body["access"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["results"][0]["username"], "alice");
}

async fn expired_access_and_refresh_tokens_are_refused(app: TestApp) {
    app.create_user("alice", Role::Client).await;
    let login = app.login("alice").await;
    let (access, refresh) = (
        login["access"].as_str().unwrap(),
        login["refresh"].as_str().unwrap(),
    );
    // Lifetimes are whole seconds and `exp == now` is already expired, so 1.2 s is enough.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = app.get("/api/profiles/", access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, access_token_error("Token is expired"));
    let (status, body) = app.refresh(refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is expired"));
    // An expired access token given to refresh is expired before it is the wrong type.
    let (status, body) = app.refresh(access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is expired"));
}

fn claims_text(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    String::from_utf8(bytes).expect("UTF-8 claims")
}

async fn login_tokens_carry_simplejwt_claims(app: TestApp) {
    let id = app.create_user("alice", Role::Client).await;
    let login = app.login("alice").await;
    let mut jtis = Vec::new();
    for (kind, lifetime) in [("access", 7200), ("refresh", 172_800)] {
        let text = claims_text(login[kind].as_str().unwrap());
        let claims: Value = serde_json::from_str(&text).unwrap();
        let keys = crate::common::keys(&claims);
        // SimpleJWT's five in its order, then the issue time in microseconds (ignored by
        // SimpleJWT, used for revocation here).
        assert_eq!(
            keys,
            ["token_type", "exp", "iat", "jti", "user_id", "iat_us"],
            "{text}"
        );
        assert_eq!(
            claims["iat_us"].as_i64().unwrap().div_euclid(1_000_000),
            claims["iat"].as_i64().unwrap(),
            "{text}"
        );
        assert_eq!(claims["token_type"], kind);
        assert_eq!(
            claims["user_id"],
            id.to_string(),
            "a string, as SimpleJWT >= 5.5 writes it"
        );
        let (exp, iat) = (
            claims["exp"].as_i64().unwrap(),
            claims["iat"].as_i64().unwrap(),
        );
        assert_eq!(exp - iat, lifetime, "{text}");
        let jti = claims["jti"].as_str().unwrap().to_string();
        assert_eq!(jti.len(), 32);
        assert!(
            jti.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{jti}"
        );
        jtis.push(jti);
    }
    assert_ne!(jtis[0], jtis[1]);
}

/// A token signed with the app's key the way the original signs (PyJWT's header, no `iat_us`).
fn sign_like_the_original(app: &TestApp, claims: Value) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let secret = app.state.config.secret_key.expose().to_string();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let head = b64.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64.encode(claims.to_string());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", b64.encode(mac.finalize().into_bytes()))
}

/// A token signed with the same key by the original (integer `user_id`, PyJWT's header order).
async fn token_minted_like_the_original_is_accepted(app: TestApp) {
    let id = app.create_user("alice", Role::Client).await;
    let now = chrono::Utc::now().timestamp();
    let access = sign_like_the_original(
        &app,
        json!({"token_type": "access", "exp": now + 60, "iat": now, "jti": "a".repeat(32), "user_id": id}),
    );
    let (status, page) = app.get("/api/profiles/", &access).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["results"][0]["username"], "alice");
    // A refresh token the original issued has no outstanding row here yet; it rotates once.
    let refresh = sign_like_the_original(
        &app,
        json!({"token_type": "refresh", "exp": now + 60, "iat": now, "jti": "b".repeat(32), "user_id": id.to_string()}),
    );
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is blacklisted"));
}

/// The original's tokens carry no `iat_us`: issued before a password change or a deactivation
/// (in an earlier second), they are refused like this server's.
async fn the_originals_tokens_issued_before_a_revocation_are_refused(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = app.create_user("alice", Role::Client).await;
    let earlier = chrono::Utc::now().timestamp() - 5;
    let token = |kind: &str, jti: char| {
        sign_like_the_original(
            &app,
            json!({"token_type": kind, "exp": earlier + 600, "iat": earlier, "jti": jti.to_string().repeat(32), "user_id": id.to_string()}),
        )
    };
    let (access, refresh, other_refresh) = (
        token("access", 'a'),
        token("refresh", 'b'),
        token("refresh", 'c'),
    );
    let password = json!({"password": "reset-by-admin-1", "password_confirm": "reset-by-admin-1"});
    let (status, body) = app
        .patch(&format!("/api/users/{id}/"), &admin, password)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.refresh(&refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, token_not_valid("Token is blacklisted"));
    // A password change leaves access tokens alone; a deactivation does not.
    assert_eq!(app.get("/api/profiles/", &access).await.0, StatusCode::OK);
    for action in ["deactivate", "activate"] {
        let (status, _) = app
            .post(&format!("/api/users/{id}/{action}/"), &admin, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = app.get("/api/profiles/", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, access_token_error("Token is blacklisted"));
    let (status, body) = app.refresh(&other_refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is blacklisted"));
}

/// Waits for the next whole second: token `iat` claims count in seconds.
async fn next_second() {
    let into = chrono::Utc::now().timestamp_subsec_millis() as u64;
    tokio::time::sleep(Duration::from_millis(1001 - into.min(1000))).await;
}

/// Bob's login tokens; then, a second later, an admin patches Bob's account with `patch`.
async fn logged_in_then_changed_by_admin(app: &TestApp, patch: Value) -> Value {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = app.create_user("bob", Role::Client).await;
    let before = app.login("bob").await;
    next_second().await;
    let (status, body) = app.patch(&format!("/api/users/{id}/"), &admin, patch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    before
}

/// Contract section 17, item 13: the original's password change revoked nothing.
async fn a_password_change_revokes_earlier_refresh_tokens(app: TestApp) {
    let before = logged_in_then_changed_by_admin(
        &app,
        json!({"password": "reset-by-admin-1", "password_confirm": "reset-by-admin-1"}),
    )
    .await;
    let (status, body) = app.refresh(before["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is blacklisted"));
    // Access tokens run out on their own (ACCESS_TOKEN_LIFETIME); deactivation cuts them at once.
    let (status, _) = app
        .get("/api/profiles/", before["access"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);

    // A login with the new password, even within the same second, is valid and refreshes.
    let (status, after) = app.login_with("bob", "reset-by-admin-1").await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let (status, rotated) = app.refresh(after["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");

    // The user's own change through the profile revokes in the same way.
    next_second().await;
    let (status, body) = app
        .patch(
            "/api/profile/update/",
            rotated["access"].as_str().unwrap(),
            json!({"password": "changed-by-bob-1", "password_confirm": "changed-by-bob-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.refresh(rotated["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_not_valid("Token is blacklisted"));
}

async fn other_account_changes_keep_refresh_tokens(app: TestApp) {
    let before =
        logged_in_then_changed_by_admin(&app, json!({"first_name": "Bob", "role": "SUPPORT"}))
            .await;
    let (status, body) = app
        .patch(
            "/api/profile/update/",
            before["access"].as_str().unwrap(),
            json!({"last_name": "Builder"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.refresh(before["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn iat(token: &str) -> i64 {
    let claims: Value = serde_json::from_str(&claims_text(token)).unwrap();
    claims["iat"].as_i64().unwrap()
}

/// Bob logs in and then `change` runs, both within one second of the clock (tried again, with a
/// fresh login, when the second ran out in between). Returns the login's body and the change's.
async fn login_then_in_the_same_second<F, Fut, T>(
    app: &TestApp,
    password: &str,
    change: F,
) -> (Value, T)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for _ in 0..10 {
        next_second().await;
        let (status, login) = app.login_with("bob", password).await;
        assert_eq!(status, StatusCode::OK, "{login}");
        let changed = change().await;
        if iat(login["refresh"].as_str().unwrap()) == chrono::Utc::now().timestamp() {
            return (login, changed);
        }
    }
    panic!("a login and a change never fell within one second");
}

/// Issue 10, item 13: revocation was to the second, so a token issued earlier in the same second
/// as a password change still refreshed.
async fn a_refresh_token_from_the_second_of_a_later_password_change_is_refused(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = app.create_user("bob", Role::Client).await;
    let path = format!("/api/users/{id}/");
    let reset = json!({"password": "reset-by-admin-1", "password_confirm": "reset-by-admin-1"});
    assert_eq!(
        app.patch(&path, &admin, reset.clone()).await.0,
        StatusCode::OK
    );
    // Setting the same password again is a change all the same.
    let (app_, admin_, path_, reset_) = (&app, &admin, &path, &reset);
    let (before, ()) =
        login_then_in_the_same_second(&app, "reset-by-admin-1", move || async move {
            let (status, body) = app_.patch(path_, admin_, reset_.clone()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        })
        .await;
    let (status, body) = app.refresh(before["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, token_not_valid("Token is blacklisted"));
}

/// Issue 10, item 13: access and refresh tokens issued before a deactivation stay refused after a
/// re-activation, even within one second; a login after the re-activation in that second works.
async fn tokens_from_the_second_of_a_deactivation_stay_refused_after_reactivation(app: TestApp) {
    let (_, admin) = app.user_token("admin", Role::Admin).await;
    let id = app.create_user("bob", Role::Client).await;
    let (app_, admin_) = (&app, &admin);
    // The new login comes after the re-activation, in the same second as the old one.
    let (before, after) =
        login_then_in_the_same_second(&app, &password_of("bob"), move || async move {
            for action in ["deactivate", "activate"] {
                let (status, body) = app_
                    .post(&format!("/api/users/{id}/{action}/"), admin_, json!({}))
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
            app_.login("bob").await
        })
        .await;
    let (status, body) = app
        .get("/api/profiles/", before["access"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, access_token_error("Token is blacklisted"));
    let (status, body) = app.refresh(before["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, token_not_valid("Token is blacklisted"));
    let access = after["access"].as_str().unwrap();
    assert_eq!(iat(access), iat(before["access"].as_str().unwrap()));
    assert_eq!(app.get("/api/profiles/", access).await.0, StatusCode::OK);
    let (status, body) = app.refresh(after["refresh"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn bad_credentials() -> Value {
    json!({"non_field_errors": ["Unable to log in with provided credentials."]})
}

/// Contract section 17, item 12: the original let anyone guess passwords without limit.
async fn repeated_refused_logins_are_throttled_per_username(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    app.create_user("alice", Role::Client).await;
    for _ in 0..3 {
        let (status, body) = app.login_with("bob", "wrong-password").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, bad_credentials());
    }
    // Locked: even the right password is refused, without the credentials being checked.
    let (status, headers, text) = app
        .send(
            app.client
                .post(app.url("/api/auth/login/"))
                .json(&json!({"username": "bob", "password": password_of("bob")})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{text}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((599..=600).contains(&wait), "{wait}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")})
    );
    // Other users log in as usual; so does a username nobody guessed at.
    let (status, body) = app.login_with("alice", &password_of("alice")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.login_with("bob", "wrong-password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn a_lockout_ends_and_a_success_clears_the_count(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    // Two failures, a success, two failures: never three in a row, never locked.
    for _ in 0..2 {
        for _ in 0..2 {
            let (status, _) = app.login_with("bob", "wrong-password").await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        let (status, body) = app.login_with("bob", &password_of("bob")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for _ in 0..3 {
        app.login_with("bob", "wrong-password").await;
    }
    let (status, body) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body,
        json!({"detail": "Request was throttled. Expected available in 1 second."})
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn login_from(app: &TestApp, forwarded_for: &str, password: &str) -> StatusCode {
    login_as_from(app, "bob", forwarded_for, password).await.0
}

async fn login_as_from(
    app: &TestApp,
    username: &str,
    forwarded_for: &str,
    password: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    app.send(
        app.client
            .post(app.url("/api/auth/login/"))
            .header("X-Forwarded-For", forwarded_for)
            .json(&json!({"username": username, "password": password})),
    )
    .await
}

/// Asserts DRF's throttled answer with a `Retry-After` in `range`; returns the wait.
fn assert_throttled(
    (status, headers, text): &(StatusCode, reqwest::header::HeaderMap, String),
    range: std::ops::RangeInclusive<u64>,
) -> u64 {
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{text}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(range.contains(&wait), "{wait}");
    let body: Value = serde_json::from_str(text).unwrap();
    let unit = if wait == 1 { "second" } else { "seconds" };
    assert_eq!(
        body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} {unit}.")})
    );
    wait
}

/// Issue 10, item 14: 30 usernames from one address were never throttled.
async fn password_spraying_from_one_address_is_throttled(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    app.create_user("alice", Role::Client).await;
    let spray = "198.51.100.66";
    // A success in between does not reset the address's count.
    for (i, name) in ["carol", "dave", "bob", "erin", "frank"].iter().enumerate() {
        let password = if i == 2 {
            password_of("bob")
        } else {
            "Winter2026!".to_string()
        };
        let (status, _, body) = login_as_from(&app, name, spray, &password).await;
        let expected = if i == 2 {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "{name}: {body}");
    }
    // Four refused logins from the address: every username is refused now, right password too,
    // and no username reached its own limit (3).
    let answer = login_as_from(&app, "alice", spray, &password_of("alice")).await;
    assert_throttled(&answer, 599..=600);
    let answer = login_as_from(&app, "grace", spray, "Winter2026!").await;
    assert_throttled(&answer, 599..=600);
    // Another address is not affected.
    let (status, _, body) =
        login_as_from(&app, "alice", "203.0.113.5", &password_of("alice")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Issue 10, item 14: 120 concurrent unknown-user logins queued behind one another for seconds.
/// Past `LOGIN_MAX_HASH_WAIT` of estimated wait, a login is refused before its password check.
async fn a_login_flood_is_refused_at_once_when_the_password_check_queue_is_long(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    let flood = (0..60).map(|i| {
        let app = &app;
        async move {
            app.send(
                app.client
                    .post(app.url("/api/auth/login/"))
                    .json(&json!({"username": format!("nobody{i}"), "password": "guess-123"})),
            )
            .await
        }
    });
    let answers = futures::future::join_all(flood).await;
    let mut refused = 0;
    for answer in &answers {
        if answer.0 == StatusCode::TOO_MANY_REQUESTS {
            assert_throttled(answer, 1..=60);
            refused += 1;
        } else {
            assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.2);
            assert_eq!(
                serde_json::from_str::<Value>(&answer.2).unwrap(),
                bad_credentials()
            );
        }
    }
    assert!(refused > 0, "60 concurrent logins, none refused");
    assert!(refused < 60, "every login refused");
    // Once the queue has drained, logins are checked again.
    let (status, body) = app.login_with("bob", &password_of("bob")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn behind_a_proxy_the_lockout_is_per_forwarded_address(app: TestApp) {
    app.create_user("bob", Role::Client).await;
    // The attacker varies the part of the header it controls; the proxy's entry stays.
    for spoof in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        let status = login_from(&app, &format!("{spoof}, 198.51.100.9"), "wrong").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let right = password_of("bob");
    assert_eq!(
        login_from(&app, "4.4.4.4, 198.51.100.9", &right).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Bob himself, at another address, is not locked out.
    assert_eq!(
        login_from(&app, "203.0.113.5", &right).await,
        StatusCode::OK
    );
}
