//! The admin console over plain HTTP (both engines): sign-in for ADMINs only, the session
//! cookie and its ends, CSRF and `Origin` refusals, security headers, escaping, and that a
//! console step writes what the API's does. The browser walks are in `console_browser.rs`.

use incident::domain::user::Role;
use reqwest::header::{HeaderMap, CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{password_of, TestApp};
use crate::on_both_databases;

on_both_databases!(
    pages_need_a_session_and_send_you_to_sign_in,
    an_admin_signs_in_with_a_strict_http_only_cookie,
    a_client_is_refused_with_a_clear_message,
    a_wrong_password_is_refused_and_throttled_like_the_api,
    every_console_answer_carries_the_security_headers,
    a_form_without_its_csrf_token_is_refused_and_changes_nothing,
    a_form_from_another_origin_is_refused,
    sign_out_ends_the_session,
    a_password_change_through_the_api_ends_console_sessions,
    a_deactivation_ends_console_sessions,
    the_database_keeps_only_a_hash_of_the_session_id,
    a_bad_whatsapp_number_is_shown_beside_its_field_and_the_form_keeps_it,
    a_user_is_created_and_edited_through_the_console,
    user_text_is_escaped_on_every_page,
    a_console_step_writes_the_same_history_and_notifications_as_the_api,
    the_user_list_searches_and_filters_by_role_and_flags_admins_without_whatsapp,
    the_log_filters_exports_csv_and_retries_only_when_confirmed,
    the_dashboard_counts_tickets_breaches_and_the_queue,
    diagnostics_show_the_provider_and_explain_a_failed_test,
);

on_both_databases!(config = short_idle; an_idle_session_ends);

fn short_idle(c: &mut incident::config::Config) {
    c.console_session_idle = std::time::Duration::from_secs(1);
}

/// A browser-like client of the console: no redirects followed, the session cookie kept.
pub struct Console {
    pub base: String,
    http: reqwest::Client,
    pub cookie: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self
            .body
            .find(marker)
            .expect("the page has a form with a CSRF token")
            + marker.len();
        self.body[start..]
            .split('"')
            .next()
            .unwrap_or("")
            .to_string()
    }
}

impl Console {
    pub fn new(app: &TestApp) -> Console {
        Console {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    async fn answer(&mut self, r: reqwest::Response) -> Answer {
        let status = r.status();
        let headers = r.headers().clone();
        if let Some(c) = headers.get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = c.split(';').next().unwrap_or("");
            let value = pair.split_once('=').map(|(_, v)| v).unwrap_or("");
            self.cookie = (!value.is_empty()).then(|| pair.to_string());
        }
        Answer {
            status,
            headers,
            body: r.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.expect("GET");
        self.answer(r).await
    }

    /// A form post with this server's `Origin` (as a browser sends it).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let origin = self.base.clone();
        self.post_from(path, form, Some(&origin)).await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Answer {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.expect("POST");
        self.answer(r).await
    }

    pub async fn sign_in(&mut self, username: &str) -> Answer {
        let password = password_of(username);
        self.post(
            "/admin/login/",
            &[
                ("username", username),
                ("password", &password),
                ("next", "/admin/"),
            ],
        )
        .await
    }

    /// Signs in as a new admin; returns their id.
    pub async fn admin(app: &TestApp, username: &str) -> (Console, i64) {
        let id = app.create_user(username, Role::Admin).await;
        let mut c = Console::new(app);
        let a = c.sign_in(username).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        (c, id)
    }
}

async fn pages_need_a_session_and_send_you_to_sign_in(app: TestApp) {
    let mut c = Console::new(&app);
    for path in [
        "/admin/",
        "/admin/users/",
        "/admin/tickets/",
        "/admin/users/1/",
    ] {
        let a = c.get(path).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            a.location().starts_with("/admin/login/?next=%2Fadmin%2F"),
            "{path}: {}",
            a.location()
        );
    }
    let login = c.get("/admin/login/").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login.body.contains("<label for=\"f-username\">"),
        "{}",
        login.body
    );
    assert_eq!(c.get("/admin").await.location(), "/admin/");
}

async fn an_admin_signs_in_with_a_strict_http_only_cookie(app: TestApp) {
    app.create_user("boss", Role::Admin).await;
    let mut c = Console::new(&app);
    let a = c
        .post(
            "/admin/login/",
            &[
                ("username", "boss"),
                ("password", &password_of("boss")),
                ("next", "/admin/users/"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/admin/users/");
    let cookie = a.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    for part in [
        "incident_console=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin/",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let dash = c.get("/admin/").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("Tickets by status"), "{}", dash.body);
    // `next` outside the console is not followed.
    let mut other = Console::new(&app);
    let a = other
        .post(
            "/admin/login/",
            &[
                ("username", "boss"),
                ("password", &password_of("boss")),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(a.location(), "/admin/");
}

async fn a_client_is_refused_with_a_clear_message(app: TestApp) {
    for (name, role) in [("carol", Role::Client), ("sam", Role::Support)] {
        app.create_user(name, role).await;
        let mut c = Console::new(&app);
        let a = c.sign_in(name).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{name}");
        assert!(
            a.body.contains("Only administrators can use the console"),
            "{}",
            a.body
        );
        assert!(a.headers.get(SET_COOKIE).is_none());
        assert_eq!(c.get("/admin/").await.status, StatusCode::SEE_OTHER);
    }
}

async fn a_wrong_password_is_refused_and_throttled_like_the_api(app: TestApp) {
    app.create_user("boss", Role::Admin).await;
    let mut c = Console::new(&app);
    let a = c
        .post(
            "/admin/login/",
            &[("username", "boss"), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.body
            .contains("Unable to log in with provided credentials."),
        "{}",
        a.body
    );
    assert!(a.body.contains("value=\"boss\""), "the username is kept");
    let max = app.state.config.login_max_failures;
    for _ in 1..max {
        c.post(
            "/admin/login/",
            &[("username", "boss"), ("password", "wrong-password")],
        )
        .await;
    }
    let locked = c.sign_in("boss").await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(locked.body.contains("throttled"), "{}", locked.body);
}

async fn every_console_answer_carries_the_security_headers(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    for path in [
        "/admin/",
        "/admin/users/",
        "/admin/tickets/",
        "/admin/tickets/board/",
        "/admin/login/",
        "/admin/users/999999/",
    ] {
        let a = c.get(path).await;
        let csp = a
            .headers
            .get(CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("default-src 'none'")
                && !csp.contains("unsafe-inline")
                && !csp.contains("script-src"),
            "{path}: {csp}"
        );
        assert_eq!(a.headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(a.headers["x-content-type-options"], "nosniff", "{path}");
        assert!(a.headers.get("referrer-policy").is_some(), "{path}");
        assert!(!a.body.contains("<script"), "{path}: no script at all");
    }
}

async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let id = app.create_user("dev", Role::Support).await;
    let path = format!("/admin/users/{id}/");
    let wrong = c
        .post(&path, &[("first_name", "Mallory"), ("csrf_token", "0000")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("CSRF"), "{}", wrong.body);
    let none = c.post(&path, &[("first_name", "Mallory")]).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    let user = incident::db::users::get(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.first_name, "");
    // Another session's token is not this one's.
    let (mut other, _) = Console::admin(&app, "boss2").await;
    let token = other.get(&path).await.csrf();
    assert_eq!(
        c.post(&path, &[("first_name", "Mallory"), ("csrf_token", &token)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let mine = c.get(&path).await.csrf();
    let ok = c
        .post(&path, &[("first_name", "Dev"), ("csrf_token", &mine)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let user = incident::db::users::get(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.first_name, "Dev");
}

async fn a_form_from_another_origin_is_refused(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let id = app.create_user("dev", Role::Support).await;
    let path = format!("/admin/users/{id}/");
    let token = c.get(&path).await.csrf();
    let form = [("first_name", "Mallory"), ("csrf_token", token.as_str())];
    assert_eq!(
        c.post_from(&path, &form, Some("http://evil.example"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post_from(&path, &form, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post_from(&path, &form, Some("null")).await.status,
        StatusCode::FORBIDDEN
    );
    let user = incident::db::users::get(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.first_name, "");
    // Sign-in too checks the origin.
    let mut other = Console::new(&app);
    let a = other
        .post_from(
            "/admin/login/",
            &[("username", "boss"), ("password", &password_of("boss"))],
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

async fn sign_out_ends_the_session(app: TestApp) {
    let (mut c, id) = Console::admin(&app, "boss").await;
    let kept = c.cookie.clone();
    let token = c.get("/admin/").await.csrf();
    let out = c.post("/admin/logout/", &[("csrf_token", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        incident::db::console_sessions::count_of_user(&app.db, id)
            .await
            .unwrap(),
        0
    );
    c.cookie = kept;
    assert_eq!(
        c.get("/admin/").await.status,
        StatusCode::SEE_OTHER,
        "the old cookie opens nothing"
    );
}

async fn a_password_change_through_the_api_ends_console_sessions(app: TestApp) {
    let (mut c, id) = Console::admin(&app, "boss").await;
    let (_, token) = app.user_token("root", Role::Admin).await;
    let (status, body) = app
        .patch(
            &format!("/api/users/{id}/"),
            &token,
            json!({"password": "a-new-password-1", "password_confirm": "a-new-password-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(c.get("/admin/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        incident::db::console_sessions::count_of_user(&app.db, id)
            .await
            .unwrap(),
        0
    );
}

async fn a_deactivation_ends_console_sessions(app: TestApp) {
    let (mut c, id) = Console::admin(&app, "boss").await;
    let (mut root, _) = Console::admin(&app, "root").await;
    let token = root.get(&format!("/admin/users/{id}/")).await.csrf();
    let a = root
        .post(
            &format!("/admin/users/{id}/active/"),
            &[("active", "false"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(c.get("/admin/").await.status, StatusCode::SEE_OTHER);
    // Re-activated, the old session stays over.
    let token = root.get(&format!("/admin/users/{id}/")).await.csrf();
    root.post(
        &format!("/admin/users/{id}/active/"),
        &[("active", "true"), ("csrf_token", &token)],
    )
    .await;
    assert_eq!(c.get("/admin/").await.status, StatusCode::SEE_OTHER);
    // Nobody deactivates themselves.
    let token = root.get("/admin/").await.csrf();
    let me = incident::db::users::login_lookup(&app.db, "root")
        .await
        .unwrap()
        .unwrap()
        .0;
    let refused = root
        .post(
            &format!("/admin/users/{me}/active/"),
            &[("active", "false"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused
            .body
            .contains("You cannot deactivate your own account"),
        "{}",
        refused.body
    );
}

async fn an_idle_session_ends(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    assert_eq!(c.get("/admin/").await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(c.get("/admin/").await.status, StatusCode::SEE_OTHER);
}

async fn the_database_keeps_only_a_hash_of_the_session_id(app: TestApp) {
    let (c, _) = Console::admin(&app, "boss").await;
    let cookie = c.cookie.clone().unwrap();
    let id = cookie.split_once('=').unwrap().1;
    let stored: String = incident::on_db!(&app.db, p => sqlx::query_scalar("SELECT id_hash FROM console_sessions").fetch_one(p).await).unwrap();
    assert_ne!(stored, id);
    assert_eq!(stored.len(), 64);
    assert!(id.len() >= 64, "{id}");
}

async fn a_bad_whatsapp_number_is_shown_beside_its_field_and_the_form_keeps_it(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let id = app.create_user("dev", Role::Support).await;
    let path = format!("/admin/users/{id}/");
    let token = c.get(&path).await.csrf();
    let a = c
        .post(
            &path,
            &[
                ("first_name", "Typed"),
                ("whatsapp_number", "12ab"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("id=\"e-whatsapp_number\""), "{}", a.body);
    assert!(
        a.body.contains("value=\"12ab\"") && a.body.contains("value=\"Typed\""),
        "the form keeps what was typed"
    );
    let user = incident::db::users::get(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.first_name, "", "nothing saved");
    let ok = c
        .post(
            &path,
            &[("whatsapp_number", "+201001234567"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let user = incident::db::users::get(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.whatsapp_number.as_deref(), Some("+201001234567"));
}

async fn a_user_is_created_and_edited_through_the_console(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let token = c.get("/admin/users/new/").await.csrf();
    let bad = c
        .post(
            "/admin/users/new/",
            &[
                ("username", "new one"),
                ("password", "short"),
                ("password_confirm", "short"),
                ("role", "SUPPORT"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(
        bad.body.contains("id=\"e-username\"") && bad.body.contains("id=\"e-password\""),
        "{}",
        bad.body
    );
    let form = [
        ("username", "newdev"),
        ("password", "long-enough-1"),
        ("password_confirm", "long-enough-1"),
        ("role", "SUPPORT"),
        ("first_name", "New"),
        ("whatsapp_number", "+201001234568"),
        ("csrf_token", &token),
    ];
    let ok = c.post("/admin/users/new/", &form).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let created = incident::db::users::login_lookup(&app.db, "newdev")
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(ok.location(), format!("/admin/users/{created}/?saved=1"));
    let (status, _) = app.login_with("newdev", "long-enough-1").await;
    assert_eq!(status, StatusCode::OK);
    let page = c.get(ok.location()).await;
    assert!(page.body.contains("Saved."), "{}", page.body);
    // A new password through the console.
    let token = page.csrf();
    let set = c
        .post(
            &format!("/admin/users/{created}/password/"),
            &[
                ("password", "another-pass-2"),
                ("password_confirm", "another-pass-2"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert_eq!(
        app.login_with("newdev", "another-pass-2").await.0,
        StatusCode::OK
    );
}

async fn user_text_is_escaped_on_every_page(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let evil = "<script>alert(1)</script>";
    app.create_user_with("eve", Role::Client, evil, "\"><img src=x>", None)
        .await;
    let (_, client) = app.user_token("carol", Role::Client).await;
    let (status, body) = app
        .post(
            "/api/tickets/",
            &client,
            json!({"title": evil, "description": evil}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (_, admin) = app.user_token("root", Role::Admin).await;
    app.post(
        &format!("/api/tickets/{id}/add_comment/"),
        &admin,
        json!({"comment": evil}),
    )
    .await;
    for path in [
        "/admin/users/".to_string(),
        "/admin/tickets/".into(),
        "/admin/tickets/board/".into(),
        format!("/admin/tickets/{id}/"),
    ] {
        let a = c.get(&path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(
            !a.body.contains("<script") && !a.body.contains("<img"),
            "{path} has raw markup: {}",
            a.body
        );
        assert!(
            a.body
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
                || a.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
}

async fn a_console_step_writes_the_same_history_and_notifications_as_the_api(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let (_, client) = app.user_token("carol", Role::Client).await;
    let dev = app.create_user("dev", Role::Support).await;
    let (_, body) = app
        .post(
            "/api/tickets/",
            &client,
            json!({"title": "Printer", "description": "On fire"}),
        )
        .await;
    let id = body["id"].as_i64().unwrap();
    let path = format!("/admin/tickets/{id}/");
    let page = c.get(&path).await;
    assert!(
        page.body.contains("id=\"step-open\"") && !page.body.contains("id=\"step-approve\""),
        "{}",
        page.body
    );
    let token = page.csrf();
    let opened = c
        .post(
            &format!("/admin/tickets/{id}/step/open/"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let page = c.get(&path).await;
    assert!(
        page.body.contains("id=\"step-assign\"") && page.body.contains("id=\"f-developers\""),
        "an opened ticket offers the assign button with its developer picker: {}",
        page.body
    );
    let nobody = c
        .post(
            &format!("/admin/tickets/{id}/step/assign/"),
            &[("csrf_token", &token)],
        )
        .await;
    assert!(
        nobody.body.contains("Pick at least one developer"),
        "{}",
        nobody.body
    );
    let dev_s = dev.to_string();
    let assigned = c
        .post(
            &format!("/admin/tickets/{id}/step/assign/"),
            &[("developers", dev_s.as_str()), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{}", assigned.body);
    let (_, t) = app.get(&format!("/api/tickets/{id}/"), &client).await;
    assert_eq!(t["status"], "OPENED");
    assert_eq!(t["assigned_to"], json!([dev]));
    let boss = incident::db::users::login_lookup(&app.db, "boss")
        .await
        .unwrap()
        .unwrap()
        .0;
    let history = t["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|h| h["status_to"] == "OPENED" && h["changed_by"] == boss),
        "{t}"
    );
    let events: Vec<String> = incident::on_db!(&app.db, p => sqlx::query_scalar("SELECT DISTINCT event FROM notification_log WHERE ticket_id = $1 AND event IS NOT NULL").bind(id).fetch_all(p).await).unwrap();
    assert!(events.len() >= 2, "open and assign notified: {events:?}");
    // A step the rules refuse now is not offered, and posted anyway it is refused with the reason.
    let refused = c
        .post(
            &format!("/admin/tickets/{id}/step/approve/"),
            &[("csrf_token", &token)],
        )
        .await;
    assert!(
        refused.status == StatusCode::BAD_REQUEST || refused.status == StatusCode::OK,
        "{}",
        refused.status
    );
    assert!(refused.body.contains("id=\"error\""), "{}", refused.body);
}

async fn the_user_list_searches_and_filters_by_role_and_flags_admins_without_whatsapp(
    app: TestApp,
) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    app.create_user_with(
        "alice",
        Role::Support,
        "Alice",
        "Smith",
        Some("+201001234567"),
    )
    .await;
    app.create_user_with("bob", Role::Client, "Bob", "Jones", None)
        .await;
    let all = c.get("/admin/users/").await;
    assert!(
        all.body.contains("no WhatsApp number"),
        "boss has none: {}",
        all.body
    );
    assert!(
        all.body
            .contains("1 active admin(s) have no WhatsApp number"),
        "{}",
        all.body
    );
    let found = c.get("/admin/users/?q=SMITH").await;
    assert!(
        found.body.contains(">alice<") && !found.body.contains(">bob<"),
        "{}",
        found.body
    );
    let clients = c.get("/admin/users/?role=CLIENT").await;
    assert!(
        clients.body.contains(">bob<") && !clients.body.contains(">alice<"),
        "{}",
        clients.body
    );
    let literal = c.get("/admin/users/?q=%25").await;
    assert!(
        literal.body.contains("No user matches."),
        "% is a plain character"
    );
}

/// Inserts one log row; returns its id.
async fn log_row(
    app: &TestApp,
    recipient: i64,
    channel: &str,
    status: &str,
    code: Option<&str>,
    event: &str,
) -> i64 {
    const SQL: &str = "INSERT INTO notification_log (recipient_id, notification_type, subject, message, status, created_at, \
                       updated_at, event, error_code, error_message, attempts) VALUES ($1, $2, 's', 'm', $3, $4, $4, $5, $6, $7, 1) RETURNING id";
    let now = incident::domain::datetime::now();
    let error = code.map(|c| format!("Provider refused (error {c})"));
    let mut tx = app.db.begin().await.unwrap();
    let id: i64 = incident::on_tx!(&mut tx, c => sqlx::query_scalar(SQL).bind(recipient).bind(channel).bind(status)
        .bind(now).bind(event).bind(code).bind(error).fetch_one(&mut *c).await.unwrap());
    tx.commit().await.unwrap();
    id
}

async fn the_log_filters_exports_csv_and_retries_only_when_confirmed(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let alice = app.create_user("alice", Role::Support).await;
    let bob = app.create_user("bob", Role::Client).await;
    let failed = log_row(
        &app,
        alice,
        "WHATSAPP",
        "FAILED",
        Some("63016"),
        "ticket_assigned",
    )
    .await;
    log_row(&app, bob, "WHATSAPP", "SENT", None, "ticket_created").await;
    log_row(&app, bob, "SYSTEM", "SENT", None, "=cmd()").await;
    let all = c.get("/admin/notifications/").await;
    assert!(all.body.contains("3 row(s)"), "{}", all.body);
    let only = c.get("/admin/notifications/?type=WHATSAPP&status=FAILED&recipient=alice&event=ticket_assigned").await;
    assert!(
        only.body.contains("1 row(s)") && only.body.contains(&format!("id=\"retry-{failed}\"")),
        "{}",
        only.body
    );
    assert!(
        only.body.contains("Outside the 24-hour window"),
        "the fix of 63016: {}",
        only.body
    );
    let nobody = c.get("/admin/notifications/?recipient=nobody").await;
    assert!(nobody.body.contains("0 row(s)"), "{}", nobody.body);
    let later = c.get("/admin/notifications/?from=2999-01-01").await;
    assert!(later.body.contains("0 row(s)"));
    let csv = c.get("/admin/notifications/export.csv?type=WHATSAPP").await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
    let system = c.get("/admin/notifications/export.csv?type=SYSTEM").await;
    assert!(
        system.body.contains("\"'=cmd()\""),
        "formulas neutralised: {}",
        system.body
    );
    // Retry all needs the confirmation; retry one re-queues the row.
    let token = all.csrf();
    let unconfirmed = c
        .post(
            "/admin/notifications/retry_failed/",
            &[("channel", "WHATSAPP"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::SEE_OTHER);
    assert!(
        unconfirmed.location().contains("Nothing%20retried")
            || unconfirmed.location().contains("Nothing+retried"),
        "{}",
        unconfirmed.location()
    );
    let status = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let s: String = incident::on_db!(&db, p => sqlx::query_scalar("SELECT status FROM notification_log WHERE id = $1").bind(failed).fetch_one(p).await).unwrap();
            s
        }
    };
    assert_eq!(status(&app).await, "FAILED");
    let retried = c
        .post(
            &format!("/admin/notifications/{failed}/retry/"),
            &[
                ("back", "/admin/notifications/?status=FAILED"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    assert!(
        retried
            .location()
            .starts_with("/admin/notifications/?status=FAILED&done="),
        "{}",
        retried.location()
    );
    assert_eq!(status(&app).await, "PENDING");
    let elsewhere = c
        .post(
            &format!("/admin/notifications/{failed}/retry/"),
            &[("back", "https://evil.example/"), ("csrf_token", &token)],
        )
        .await;
    assert!(
        elsewhere
            .location()
            .starts_with("/admin/notifications/?done="),
        "{}",
        elsewhere.location()
    );
}

async fn the_dashboard_counts_tickets_breaches_and_the_queue(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let (_, client) = app.user_token("carol", Role::Client).await;
    for _ in 0..2 {
        app.post(
            "/api/tickets/",
            &client,
            json!({"title": "Printer", "description": "On fire"}),
        )
        .await;
    }
    let alice = app.create_user("alice", Role::Support).await;
    log_row(
        &app,
        alice,
        "WHATSAPP",
        "FAILED",
        Some("21211"),
        "ticket_created",
    )
    .await;
    let dash = c.get("/admin/").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(
        dash.body.contains("<span class=\"big\">2</span><br>New"),
        "{}",
        dash.body
    );
    assert!(
        dash.body.contains("<svg") && dash.body.contains("WhatsApp failed 1"),
        "{}",
        dash.body
    );
    assert!(
        dash.body.contains("Invalid phone number format"),
        "the last error's fix: {}",
        dash.body
    );
    assert!(dash.body.contains("id=\"queue-depth\">"), "{}", dash.body);
}

async fn diagnostics_show_the_provider_and_explain_a_failed_test(app: TestApp) {
    let (mut c, _) = Console::admin(&app, "boss").await;
    let page = c.get("/admin/diagnostics/").await;
    assert!(
        page.body.to_lowercase().contains("twilio") && page.body.contains("Send a test WhatsApp"),
        "{}",
        page.body
    );
    let token = page.csrf();
    let bad = c
        .post(
            "/admin/diagnostics/whatsapp/",
            &[("to", "12ab"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(
        bad.body.contains("id=\"whatsapp-result\"")
            && bad.body.contains("Invalid phone number format"),
        "{}",
        bad.body
    );
    let unconfigured = c
        .post(
            "/admin/diagnostics/whatsapp/",
            &[("to", "+201001234567"), ("csrf_token", &token)],
        )
        .await;
    assert!(
        unconfigured.body.contains("WhatsApp send failed"),
        "{}",
        unconfigured.body
    );
    // E-mail is not configured in this app: the page says so, and a test says how to fix it.
    assert!(page.body.contains("Send a test e-mail"), "{}", page.body);
    let email = c
        .post(
            "/admin/diagnostics/email/",
            &[("to", "ops@example.com"), ("csrf_token", &token)],
        )
        .await;
    assert!(
        email.body.contains("id=\"email-result\"")
            && email
                .body
                .contains("E-mail send failed: E-mail not configured: set EMAIL_HOST"),
        "{}",
        email.body
    );
}
