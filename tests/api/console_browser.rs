//! The admin console in real headless Chromium, driven through chromedriver (WebDriver) with
//! fantoccini: sign-in, the refusal of a CLIENT, a refused form without its CSRF token, a
//! ticket titled `<script>alert(1)</script>` shown as text, a bad WhatsApp number's message
//! beside its field, a ticket walked through the workflow buttons, and a label on every input
//! of every page. A screenshot of each page goes to `target/console-screenshots/`.
//!
//! The browser is required: without `chromium` and `chromedriver` these tests FAIL, saying
//! what to install (Debian: `apt-get install chromium chromium-driver`; `.ci/run` does it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use incident::domain::user::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{password_of, Engine, TestApp};

const INSTALL: &str = "the console's browser tests need Chromium and chromedriver: install the Debian packages \
                       `chromium` and `chromium-driver` (apt-get install chromium chromium-driver), or set \
                       CHROMEDRIVER and CHROMIUM to their paths";

fn find(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A chromedriver of our own on a free port, and a headless Chromium session through it.
struct Browser {
    driver: Child,
    client: Option<Client>,
}

impl Browser {
    async fn start() -> Browser {
        let chromedriver =
            find("CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| panic!("{INSTALL}"));
        let chromium = find(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        )
        .unwrap_or_else(|| panic!("{INSTALL}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL}", chromedriver.display()));
        let mut browser = Browser {
            driver,
            client: None,
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--no-first-run", "--disable-extensions"],
        }));
        let mut last = String::new();
        for _ in 0..100 {
            let http = hyper_util::client::legacy::connect::HttpConnector::new();
            let connected = ClientBuilder::new(http)
                .capabilities(caps.clone())
                .connect(&url)
                .await;
            match connected {
                Ok(c) => {
                    browser.client = Some(c);
                    return browser;
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("headless Chromium did not start through chromedriver: {last}; {INSTALL}");
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("session")
    }

    async fn goto(&self, url: &str) {
        self.c().goto(url).await.expect("goto");
    }

    /// Saves a screenshot as `target/console-screenshots/<name>.png`.
    async fn shot(&self, name: &str) {
        let png = self.c().screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot");
    }

    async fn text(&self, css: &str) -> String {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    /// The element `css` once the page has it (polls for up to ten seconds).
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        for _ in 0..100 {
            if let Ok(e) = self.c().find(Locator::Css(css)).await {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page = self.body().await;
        panic!("{css} never appeared; the page says:\n{page}");
    }

    /// The text of `css` once it contains `needle` (a click's page may still be loading): polls
    /// for up to ten seconds, then fails showing what the page says.
    async fn until(&self, css: &str, needle: &str) -> String {
        for _ in 0..100 {
            if let Ok(e) = self.c().find(Locator::Css(css)).await {
                if let Ok(text) = e.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page = self.body().await;
        panic!("{css} never showed {needle:?}; the page says:\n{page}");
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self
            .c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        e.clear().await.expect("clear");
        e.send_keys(value).await.expect("type");
    }

    async fn click(&self, css: &str) {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Every visible form control has a label, and the page can be walked with Tab: each
    /// control is reachable (none has a negative tabindex).
    async fn assert_keyboard_usable(&self, page: &str) {
        let unlabelled = self.c().execute(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => !e.labels || e.labels.length === 0 || e.tabIndex < 0).map(e => e.name || e.id);",
            vec![],
        ).await.expect("script");
        assert_eq!(
            unlabelled,
            json!([]),
            "{page}: controls without a label or out of the Tab order"
        );
    }

    async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.goto(&format!("{base}/admin/login/")).await;
        self.fill("#f-username", username).await;
        self.fill("#f-password", password).await;
        self.click("button[type=submit]").await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Runs a browser test with its own server (SQLite).
async fn with_browser<F, Fut>(test: F)
where
    F: FnOnce(TestApp, Browser) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let app = TestApp::spawn(Engine::Sqlite).await;
    let browser = Browser::start().await;
    test(app, browser).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_refusals_csrf_and_escaping() {
    with_browser(|app, b| async move {
        let base = app.base.clone();
        app.create_user("carol", Role::Client).await;
        b.sign_in(&base, "carol", &password_of("carol")).await;
        b.until("#login-error", "Only administrators can use the console")
            .await;
        b.shot("login-refused").await;
        b.assert_keyboard_usable("login").await;

        app.create_user("boss", Role::Admin).await;
        b.sign_in(&base, "boss", &password_of("boss")).await;
        b.until("body", "Tickets by status").await;
        b.shot("dashboard").await;

        // A ticket whose title is markup shows as text, and no script runs.
        let (_, client) = app.user_token("carl", Role::Client).await;
        let evil = "<script>alert(1)</script>";
        let (status, body) = app
            .post(
                "/api/tickets/",
                &client,
                json!({"title": evil, "description": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().unwrap();
        b.goto(&format!("{base}/admin/tickets/")).await;
        assert!(b.body().await.contains(evil));
        assert!(b.c().get_alert_text().await.is_err(), "no alert opened");
        b.shot("tickets").await;
        b.assert_keyboard_usable("tickets").await;
        b.goto(&format!("{base}/admin/tickets/{id}/")).await;
        assert_eq!(b.text("#ticket-title").await, format!("#{id} {evil}"));
        assert!(b.c().get_alert_text().await.is_err(), "no alert opened");
        b.shot("ticket").await;
        b.assert_keyboard_usable("ticket").await;

        // A form whose CSRF token was removed is refused and changes nothing.
        b.c()
            .execute(
                "document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove());",
                vec![],
            )
            .await
            .unwrap();
        b.click("#step-open").await;
        let refused = b.until("body", "Nothing was changed").await;
        assert!(refused.contains("CSRF"), "{refused}");
        b.shot("csrf-refused").await;
        let (_, t) = app.get(&format!("/api/tickets/{id}/"), &client).await;
        assert_eq!(t["status"], "NEW");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_users_and_a_ticket_walked_through_the_buttons() {
    // Twilio's fake refuses the first message (a bad number, 21211) and accepts the rest.
    let fake = crate::twilio_fake::TwilioFake::failing(|n| {
        (n == 0).then(|| wiremock::ResponseTemplate::new(400).set_body_json(
            json!({"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})))
    });
    let server = fake.start().await;
    let app = crate::whatsapp::twilio_app(Engine::Sqlite, &server).await;
    let b = Browser::start().await;
    {
        let base = app.base.clone();
        app.create_user_with("ops", Role::Admin, "Ops", "Team", Some("+201001112224"))
            .await;
        app.create_user_with("boss", Role::Admin, "Bo", "Boss", Some("+201001112223"))
            .await;
        let dev = app
            .create_user_with("dev", Role::Support, "Dana", "Dev", None)
            .await;
        b.sign_in(&base, "boss", &password_of("boss")).await;

        app.create_user("lonely-admin", Role::Admin).await;
        b.goto(&format!("{base}/admin/users/")).await;
        assert!(
            b.body().await.contains("no WhatsApp number"),
            "an admin without one is flagged"
        );
        b.shot("users").await;
        b.assert_keyboard_usable("users").await;

        // A bad WhatsApp number: the message beside the field, the typed value kept.
        b.goto(&format!("{base}/admin/users/{dev}/")).await;
        b.assert_keyboard_usable("user").await;
        b.fill("#f-whatsapp_number", "12ab").await;
        b.click("form.stack button[type=submit]").await;
        b.until("#e-whatsapp_number", "").await;
        assert!(!b.text("#e-whatsapp_number").await.is_empty());
        let kept = b
            .c()
            .find(Locator::Css("#f-whatsapp_number"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some("12ab"));
        b.shot("user-invalid-whatsapp").await;
        b.fill("#f-whatsapp_number", "+201001234567").await;
        b.click("form.stack button[type=submit]").await;
        b.until("body", "Saved.").await;
        b.shot("user").await;
        let stored = incident::db::users::get(&app.db, dev)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.whatsapp_number.as_deref(), Some("+201001234567"));

        b.goto(&format!("{base}/admin/users/new/")).await;
        b.assert_keyboard_usable("new user").await;
        b.shot("user-new").await;

        // NEW -> OPENED -> assigned through the buttons; the developer works it through the
        // API; the admin, who reported it (only the reporter approves), approves: CLOSED.
        let client = app.login("boss").await["access"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, body) = app
            .post(
                "/api/tickets/",
                &client,
                json!({"title": "Printer on fire", "description": "Smoke"}),
            )
            .await;
        let id = body["id"].as_i64().unwrap();
        b.goto(&format!("{base}/admin/tickets/{id}/")).await;
        b.click("#step-open").await;
        b.until("#notice", "Opened").await;
        b.element("#f-developers")
            .await
            .select_by_value(&dev.to_string())
            .await
            .unwrap();
        b.click("#step-assign").await;
        b.until("#assignees", "Dana Dev").await;
        let dev_token = app.login("dev").await["access"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            app.post(
                &format!("/api/tickets/{id}/start_work/"),
                &dev_token,
                json!({})
            )
            .await
            .0,
            StatusCode::OK
        );
        assert_eq!(
            app.post(
                &format!("/api/tickets/{id}/finish_work/"),
                &dev_token,
                json!({"comment": "Fixed"})
            )
            .await
            .0,
            StatusCode::OK
        );
        b.goto(&format!("{base}/admin/tickets/{id}/")).await;
        b.fill("#f-comment", "Thanks, closing.").await;
        b.click("#add-comment").await;
        b.until("body", "Thanks, closing.").await;
        b.click("#step-approve").await;
        b.until("#status", "Closed").await;
        b.shot("ticket-closed").await;
        b.goto(&format!("{base}/admin/tickets/board/")).await;
        b.shot("board").await;
        let (_, t) = app.get(&format!("/api/tickets/{id}/"), &client).await;
        assert_eq!(t["status"], "CLOSED");

        // The WhatsApp rows of the walk in the log, with their status; the refused one shows
        // its error and fix, and its retry sends it.
        app.deliver_due().await;
        b.goto(&format!(
            "{base}/admin/notifications/?type=WHATSAPP&ticket={id}"
        ))
        .await;
        let log = b.body().await;
        assert!(log.contains("SENT") && log.contains("FAILED"), "{log}");
        assert!(
            log.contains("Invalid phone number format"),
            "the fix is shown: {log}"
        );
        b.shot("notifications").await;
        b.assert_keyboard_usable("notifications").await;
        let failed: i64 = incident::on_db!(&app.db, p => sqlx::query_scalar(
            "SELECT id FROM notification_log WHERE status = 'FAILED' AND notification_type = 'WHATSAPP' AND error_code = '21211'").fetch_one(p).await).unwrap();
        b.click(&format!("#retry-{failed}")).await;
        b.until("#done", "queued again").await;
        app.deliver_due().await;
        b.c().refresh().await.unwrap();
        let row = b.text(&format!("#row-{failed}")).await;
        assert!(row.contains("SENT"), "{row}");
        b.shot("notifications-retried").await;

        // The dashboard counts them; diagnostics sends a test through the fake.
        b.goto(&format!("{base}/admin/")).await;
        b.shot("dashboard-with-messages").await;
        b.goto(&format!("{base}/admin/diagnostics/")).await;
        b.assert_keyboard_usable("diagnostics").await;
        b.fill("#f-whatsapp-to", "+201001234567").await;
        b.click("#send-whatsapp-test").await;
        b.until("#whatsapp-result", "Sent to +201001234567").await;
        b.shot("diagnostics").await;
    }
    drop(b);
}
