//! Test harness: the app on port 0 against a fresh SQLite file or a fresh PostgreSQL database
//! (created per test through `TEST_DATABASE_URL`), with helpers to make users and call the API.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use incident::config::Config;
use incident::db::{self, Db};
use incident::domain::user::Role;
use incident::state::AppState;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: crate::documented::Client,
    pub db: Db,
    pub state: AppState,
    pub engine: Engine,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    SqliteDir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh database URL for this test, and how to remove it afterwards.
async fn fresh_database(engine: Engine) -> (String, Cleanup) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (url, Cleanup::SqliteDir(dir))
        }
        Engine::Postgres => {
            let admin_url = test_database_url();
            let name = format!(
                "incident_test_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                uuid::Uuid::new_v4()
                    .simple()
                    .to_string()
                    .get(..8)
                    .unwrap_or("x")
            );
            let pool = sqlx::PgPool::connect(&admin_url).await.expect(
                "cannot reach PostgreSQL for tests: start it or set TEST_DATABASE_URL (see README)",
            );
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await
                .expect("create test database");
            pool.close().await;
            let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&format!("/{name}"));
            (url.to_string(), Cleanup::Postgres { admin_url, name })
        }
    }
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> TestApp {
        TestApp::spawn_with(engine, |_| {}).await
    }

    /// Spawns the app with a test configuration adjusted by `tweak`.
    pub async fn spawn_with(engine: Engine, tweak: impl FnOnce(&mut Config)) -> TestApp {
        init_logs();
        let (url, cleanup) = fresh_database(engine).await;
        let mut config = Config::for_tests(&url);
        config.database_max_connections = 8;
        tweak(&mut config);
        TestApp::start(config, engine, Some(cleanup)).await
    }

    /// A second server on the same database (another replica); it drops no database.
    pub async fn replica(&self) -> TestApp {
        self.replica_with(|_| {}).await
    }

    /// Another replica whose configuration differs by `tweak`.
    pub async fn replica_with(&self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = (*self.state.config).clone();
        tweak(&mut config);
        TestApp::start(config, self.engine, None).await
    }

    /// Migrates the configured database and serves on a free port; `cleanup` drops the
    /// database when this app is dropped.
    async fn start(config: Config, engine: Engine, cleanup: Option<Cleanup>) -> TestApp {
        let db = Db::connect_limited(
            &config.database_url,
            config.database_max_connections,
            Some(config.database_statement_timeout),
        )
        .await
        .expect("connect");
        db.migrate().await.expect("migrate");
        let templates = incident::notify::templates::Templates::load(
            config.templates_dir.as_deref(),
            &config.frontend_url,
        )
        .expect("the test's templates are valid");
        let state = AppState::new(db.clone(), config, templates);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let _ = incident::app::run(server_state, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: crate::documented::Client::new(),
            db,
            state,
            engine,
            shutdown: Some(tx),
            server: Some(server),
            cleanup,
        }
    }

    /// Waits (at most 20 s) until `n` sessions of this PostgreSQL database LISTEN on `channel`:
    /// replicas connect their listeners in the background.
    pub async fn wait_for_listeners(&self, channel: &str, n: i64) {
        let incident::db::Db::Postgres(pool) = &self.db else {
            panic!("LISTEN is PostgreSQL's");
        };
        const SQL: &str = "SELECT COUNT(*) FROM pg_stat_activity \
                           WHERE datname = current_database() AND query ILIKE '%listen%' AND query LIKE $1";
        for _ in 0..400 {
            let listening: i64 = sqlx::query_scalar(SQL)
                .bind(format!("%{channel}%"))
                .fetch_one(pool)
                .await
                .expect("pg_stat_activity");
            if listening >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("nobody LISTENs on {channel}");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Creates a user directly in the database; returns its id.
    pub async fn create_user(&self, username: &str, role: Role) -> i64 {
        self.create_user_with(username, role, "", "", None).await
    }

    pub async fn create_user_with(
        &self,
        username: &str,
        role: Role,
        first: &str,
        last: &str,
        whatsapp: Option<&str>,
    ) -> i64 {
        let hash = incident::auth::password::hash_password(&password_of(username)).expect("hash");
        let new = db::users::NewUser {
            username: username.to_string(),
            password_hash: hash,
            email: format!("{username}@example.com"),
            first_name: first.to_string(),
            last_name: last.to_string(),
            role,
            phone_number: Some(String::new()),
            whatsapp_number: Some(whatsapp.unwrap_or("").to_string()),
            department: Some(String::new()),
        };
        db::users::create(&self.db, &new, incident::domain::datetime::now())
            .await
            .expect("create user")
    }

    /// Logs in (password `<username>-password`) and returns the login response body.
    pub async fn login(&self, username: &str) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/auth/login/",
                None,
                Some(json!({"username": username, "password": password_of(username)})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login of {username} failed: {body}");
        body
    }

    /// A user of that role with an access token: (id, access token).
    pub async fn user_token(&self, username: &str, role: Role) -> (i64, String) {
        let id = self.create_user(username, role).await;
        let body = self.login(username).await;
        (
            id,
            body["access"].as_str().expect("access token").to_string(),
        )
    }

    /// A JSON request; returns the status and the parsed body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("response is not JSON ({status}): {text}"))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Sends any request; returns the status, the headers and the raw body text.
    pub async fn send(
        &self,
        req: crate::documented::RequestBuilder,
    ) -> (StatusCode, HeaderMap, String) {
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.expect("body"))
    }

    /// A request with a raw body and content type (for encoding tests).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, String) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let (status, _, text) = self.send(req).await;
        (status, text)
    }

    /// A request with a literal `Authorization` header value.
    pub async fn get_with_authorization(
        &self,
        path: &str,
        authorization: &str,
    ) -> (StatusCode, HeaderMap, Value) {
        let req = self
            .client
            .get(self.url(path))
            .header(reqwest::header::AUTHORIZATION, authorization);
        let (status, headers, text) = self.send(req).await;
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("response is not JSON ({status}): {text}"));
        (status, headers, value)
    }

    /// Creates a user with a given stored password hash (any format); returns its id.
    pub async fn create_user_with_hash(
        &self,
        username: &str,
        role: Role,
        password_hash: &str,
    ) -> i64 {
        let new = db::users::NewUser {
            username: username.to_string(),
            password_hash: password_hash.to_string(),
            email: format!("{username}@example.com"),
            first_name: String::new(),
            last_name: String::new(),
            role,
            phone_number: Some(String::new()),
            whatsapp_number: Some(String::new()),
            department: Some(String::new()),
        };
        db::users::create(&self.db, &new, incident::domain::datetime::now())
            .await
            .expect("create user")
    }

    /// Creates `n` users `<prefix>00`, `<prefix>01`... joined one second apart (oldest first),
    /// cheaply: they share one password hash and cannot log in.
    /// Admins `admin0`.. `admin{n-1}` whose WhatsApp numbers are `number_prefix` followed by
    /// their index (logged in as usual).
    pub async fn create_admins_with_numbers(&self, n: usize, number_prefix: &str) {
        for i in 0..n {
            self.create_user_with(
                &format!("admin{i}"),
                Role::Admin,
                "",
                "",
                Some(&format!("{number_prefix}{i}")),
            )
            .await;
        }
    }

    pub async fn create_many_users(&self, prefix: &str, n: usize) -> Vec<i64> {
        let start = incident::domain::datetime::now() - chrono::Duration::days(1);
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let new = db::users::NewUser {
                username: format!("{prefix}{i:02}"),
                password_hash: "!unusable".to_string(),
                email: format!("{prefix}{i:02}@example.com"),
                first_name: String::new(),
                last_name: String::new(),
                role: Role::Client,
                phone_number: Some(String::new()),
                whatsapp_number: Some(String::new()),
                department: Some(String::new()),
            };
            let joined = start + chrono::Duration::seconds(i as i64);
            ids.push(
                db::users::create(&self.db, &new, joined)
                    .await
                    .expect("create user"),
            );
        }
        ids
    }

    /// The stored password hash of a user.
    pub async fn stored_password(&self, id: i64) -> String {
        incident::on_db!(&self.db, p => sqlx::query_scalar("SELECT password FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(p)
            .await)
        .expect("stored password")
    }

    /// The stored `last_login` of a user.
    pub async fn stored_last_login(&self, id: i64) -> Option<chrono::DateTime<chrono::Utc>> {
        incident::on_db!(&self.db, p => sqlx::query_scalar("SELECT last_login FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(p)
            .await)
        .expect("stored last_login")
    }

    /// Removes a user's profile row, as a legacy or hand-edited database may have.
    pub async fn delete_profile(&self, user_id: i64) {
        incident::on_write!(self.db.write().await, p => sqlx::query("DELETE FROM user_profiles WHERE user_id = $1")
            .bind(user_id)
            .execute(p)
            .await
            .map(|_| ()))
        .expect("delete profile");
    }

    /// Logs in with an explicit password; returns the status and body.
    pub async fn login_with(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/auth/login/",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Refreshes; returns the status and body.
    pub async fn refresh(&self, refresh: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/auth/refresh/",
            None,
            Some(json!({"refresh": refresh})),
        )
        .await
    }

    /// A delivery worker over this app's database, provider and worker health (the one `/readyz`
    /// reads), for tests that drive delivery themselves (`worker.enabled = false`).
    pub fn worker(&self) -> std::sync::Arc<incident::notify::worker::Worker> {
        std::sync::Arc::new(incident::notify::worker::Worker {
            db: self.db.clone(),
            provider: self.state.provider.clone(),
            mailer: self.state.mailer.clone(),
            fallback: self.state.fallback(),
            config: self.state.config.worker.clone(),
            wake: self.state.outbox.clone(),
            health: self.state.worker.clone(),
            grace: self.state.config.shutdown_grace,
        })
    }

    /// Delivers what is due now and returns how many rows it claimed, once their sends are
    /// recorded.
    pub async fn deliver_due(&self) -> usize {
        self.worker().deliver_due().await.expect("deliver due")
    }

    /// Stops the server and waits for it (graceful shutdown).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

/// Server logs go to the test's captured output (shown for failing tests); `RUST_LOG` filters.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,incident=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

pub fn password_of(username: &str) -> String {
    format!("{username}-password")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(Cleanup::Postgres { admin_url, name }) = self.cleanup.take() {
            // A fresh runtime on another thread: Drop cannot await, and the test's runtime may be
            // shutting down. FORCE ends the app's pooled connections.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(async {
                        if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&pool)
                            .await;
                            pool.close().await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// Runs each named `async fn(TestApp)` as two tests, `<name>::sqlite` and `<name>::postgres`.
/// `on_both_databases!(config = tweak; a, b)` spawns the apps with `tweak(&mut Config)` applied.
#[macro_export]
macro_rules! on_both_databases {
    (config = $tweak:ident; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::TestApp::spawn_with($crate::common::Engine::Sqlite, super::$tweak).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::TestApp::spawn_with($crate::common::Engine::Postgres, super::$tweak).await).await
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::TestApp::spawn($crate::common::Engine::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::TestApp::spawn($crate::common::Engine::Postgres).await).await
                }
            }
        )*
    };
}

/// Runs each named `async fn(Engine)` as two tests, for cases that configure the app themselves.
#[macro_export]
macro_rules! on_both_engines {
    // A known failure, skipped on both engines with its reason shown by the test runner.
    (#[ignore = $why:literal] $name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $why]
            async fn sqlite() {
                super::$name($crate::common::Engine::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $why]
            async fn postgres() {
                super::$name($crate::common::Engine::Postgres).await
            }
        }
    };
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Engine::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::Engine::Postgres).await
                }
            }
        )*
    };
}

/// The keys of a JSON object, in order (the contract fixes key order).
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}
