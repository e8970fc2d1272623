//! Load benchmark of the notification path (issues #3 and #4). It prints figures; it is not a test.
//!
//! ```sh
//! cargo build --release                              # this benchmark runs that binary; it builds nothing
//! cargo bench --bench notify -- [sqlite|postgres|both]   # default: both
//! ```
//!
//! Every scenario runs `target/release/incident serve` as a child process against a fresh SQLite
//! file (in a temporary directory) or a fresh PostgreSQL database (created on `TEST_DATABASE_URL`,
//! default `postgres://root@127.0.0.1:5432/postgres`, and dropped afterwards). `TWILIO_BASE_URL`
//! points at a fake Twilio served by this process (axum on 127.0.0.1:0), which answers 201 after a
//! set delay, counts requests and records when each arrived. Users are made with the binary's
//! `create-user` command, each with a WhatsApp number, and log in over HTTP.
//!
//! - A: 200 sequential workflows (create, open_ticket, assign, start_work, finish_work, reject,
//!   finish_work, approve) with 2 admins, 1 client, 2 developers; the fake answers after 300 ms.
//!   Latency per step type; time from the last approve until no WhatsApp row is PENDING; and the
//!   same for one workflow run alone. Target (#4): step p50 under 15 ms.
//! - B: 32 tasks, each driving its own tickets through the 8 steps for 10 s, 32 database
//!   connections; once with `NOTIFY_WORKER=false` (the API alone) and once with the worker on and
//!   the fake answering at once. Target (#3): 1,000 steps/s on PostgreSQL.
//! - C: 10,000 WhatsApp rows queued with the worker off (1,000 tickets, 10 admins with numbers),
//!   then a restart with the worker on, `NOTIFY_MAX_CONCURRENCY=128` and no rate cap; the fake
//!   answers after 100 ms. Delivered messages/s (fake arrival times, first to last) and the
//!   server's peak RSS. Target (#4): 500 messages/s.
//! - D: 800 rows queued, restart with `NOTIFY_RATE_PER_SECOND=80`; the delivered rate over the
//!   steady part (the first second left out). Target (#4): within 5% of 80/s.
//! - E (`notify_email.rs`, issue 13): e-mail through a fake SMTP server served by this process
//!   (plain TCP on 127.0.0.1, answering each message 50 ms after its data). E1: 4,000 e-mail
//!   rows queued with the worker off (400 tickets x 10 admins with addresses and no numbers),
//!   then a restart with the worker on; delivered e-mails/s and the SMTP connections opened
//!   (reuse). Target: 300 e-mails/s. E2: a step's latency over `BENCH_EMAIL_WORKFLOWS` (50)
//!   workflows with e-mail on (every user has an address, EMAIL_HOST set) and off (no
//!   addresses, no EMAIL_HOST).
//!
//! Knobs (environment): `INCIDENT_BIN` (the binary), `TEST_DATABASE_URL`, `BENCH_WORKFLOWS` (A,
//! 200), `BENCH_SECONDS` (B, 10), `BENCH_MESSAGES` (C, 10000, a multiple of 10), `BENCH_SCENARIOS`
//! (which to run, default `ABCDE`), `BENCH_EMAILS` (E1, 4000, a multiple of 10).
//! The server, PostgreSQL and this load generator share the machine, so figures move with
//! whatever else runs on it; the load average is printed with each engine.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};
use tokio::task::JoinSet;

#[path = "common.rs"]
mod common;
use common::*;
#[path = "notify_email.rs"]
mod email;

type R<T> = Result<T, String>;

/// Adds what was being done to an error.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> R<T>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> R<T> {
        self.map_err(|e| format!("{}: {e}", what()))
    }
}

const PASSWORD: &str = "bench-password-1";
const SECRET_KEY: &str = "notify-bench-secret-key-0123456789";
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "bench-twilio-token";
const DEFAULT_PG: &str = "postgres://root@127.0.0.1:5432/postgres";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and must not run minutes
    // of load.
    if !args.iter().any(|a| a == "--bench") {
        println!("notify: a benchmark; run it with `cargo bench --bench notify -- [sqlite|postgres|both]`");
        return;
    }
    let engines = match args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str)
    {
        None | Some("both") => vec![Engine::Sqlite, Engine::Postgres],
        Some("sqlite") => vec![Engine::Sqlite],
        Some("postgres" | "postgresql") => vec![Engine::Postgres],
        Some(other) => {
            eprintln!("unknown engine {other:?}: use sqlite, postgres or both");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("notify bench: cannot start the tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(engines)) {
        Ok(failures) if failures.is_empty() => {}
        Ok(failures) => {
            eprintln!("\nnotify bench: {} scenario(s) failed:", failures.len());
            for f in failures {
                eprintln!("  - {f}");
            }
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("notify bench failed: {e}");
            std::process::exit(1);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Set-up: the binary, databases, the server process, users

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

struct Bench {
    bin: PathBuf,
    /// Server logs and SQLite files; the working directory of every child (so no `.env` is read).
    work: tempfile::TempDir,
    pg_admin: String,
    http: reqwest::Client,
    seq: AtomicUsize,
}

fn free_port() -> R<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .context(|| "cannot find a free port".into())
}

/// A database URL fit to print: its password replaced.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(not a URL)".into(),
    }
}

struct Database {
    url: String,
    /// The PostgreSQL database to drop afterwards.
    pg_name: Option<String>,
}

/// What the server is started with.
#[derive(Clone, Copy)]
struct ServerEnv {
    worker: bool,
    rate: f64,
    concurrency: usize,
    pool: u32,
    /// The fake SMTP server's port (`EMAIL_HOST=127.0.0.1`); `None`: e-mail not configured.
    smtp_port: Option<u16>,
}

/// The worker on without a rate cap, 128 sends at once, 16 database connections.
const UNCAPPED: ServerEnv = ServerEnv {
    worker: true,
    rate: 0.0,
    concurrency: 128,
    pool: 16,
    smtp_port: None,
};

impl ServerEnv {
    fn describe(&self) -> String {
        if self.worker {
            format!(
                "worker on, NOTIFY_MAX_CONCURRENCY={}, NOTIFY_RATE_PER_SECOND={}, DATABASE_MAX_CONNECTIONS={}",
                self.concurrency, self.rate, self.pool
            )
        } else {
            format!(
                "NOTIFY_WORKER=false, DATABASE_MAX_CONNECTIONS={}",
                self.pool
            )
        }
    }
}

struct Server {
    child: Child,
    pid: u32,
    /// The server's HTTP API.
    api: Api,
    log: PathBuf,
}

impl Server {
    /// An error, with the last 15 lines of the server's log when there are any.
    fn explain(&self, e: String) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        if tail.trim().is_empty() {
            e
        } else {
            format!(
                "{e}\n    last lines of the server log ({}):\n{tail}",
                self.log.display()
            )
        }
    }

    fn check_alive(&mut self) -> R<()> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("the server exited ({status})")),
            Ok(None) => Ok(()),
            Err(e) => Err(format!("cannot check the server process: {e}")),
        }
    }

    /// SIGTERM (graceful: in-flight requests and sends finish), then SIGKILL after 30 s.
    async fn stop(mut self) -> R<()> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(_)) => Ok(()),
            _ => {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
                Err(self.explain("the server did not stop within 30 s of SIGTERM; killed".into()))
            }
        }
    }
}

struct Spec {
    username: String,
    role: &'static str,
    /// Empty: none.
    number: String,
    /// Empty: none.
    email: String,
}

/// `admins` admins, one client, `devs` developers, every one with a WhatsApp number.
fn specs(admins: usize, devs: usize) -> Vec<Spec> {
    let mut v: Vec<Spec> = (1..=admins)
        .map(|i| Spec {
            username: format!("admin{i}"),
            role: "ADMIN",
            number: format!("+1202555{:04}", 100 + i),
            email: String::new(),
        })
        .collect();
    v.push(Spec {
        username: "client".into(),
        role: "CLIENT",
        number: "+12025550150".into(),
        email: String::new(),
    });
    v.extend((1..=devs).map(|i| Spec {
        username: format!("dev{i}"),
        role: "SUPPORT",
        number: format!("+1202555{:04}", 160 + i),
        email: String::new(),
    }));
    v
}

impl Bench {
    fn new() -> R<Bench> {
        Ok(Bench {
            bin: find_binary()?,
            work: tempfile::Builder::new()
                .prefix("incident-notify-bench-")
                .tempdir()
                .context(|| "cannot make a temporary directory".into())?,
            pg_admin: std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.into()),
            http: reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(256)
                .timeout(Duration::from_secs(60))
                .build()
                .context(|| "cannot build the HTTP client".into())?,
            seq: AtomicUsize::new(0),
        })
    }

    async fn admin_connection(&self) -> R<sqlx::PgConnection> {
        sqlx::PgConnection::connect(&self.pg_admin)
            .await
            .context(|| {
                format!(
                    "cannot connect to PostgreSQL at {} (set TEST_DATABASE_URL)",
                    redacted(&self.pg_admin)
                )
            })
    }

    /// Runs `statements` on the `TEST_DATABASE_URL` database; with none it only checks that
    /// PostgreSQL can be reached.
    async fn admin_exec(&self, statements: &[String]) -> R<()> {
        let mut c = self.admin_connection().await?;
        for sql in statements {
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .context(|| sql.clone())?;
        }
        let _ = c.close().await;
        Ok(())
    }

    /// Runs `f` on a fresh database holding `users`, and drops the database whatever happened.
    async fn with_database<T>(
        &self,
        engine: Engine,
        tag: &str,
        users: &[Spec],
        f: impl AsyncFnOnce(&Database) -> R<T>,
    ) -> R<T> {
        let db = self.database(engine, tag).await?;
        let result = async {
            self.create_users(&db, users).await?;
            f(&db).await
        }
        .await;
        self.drop_database(db).await;
        result
    }

    async fn database(&self, engine: Engine, tag: &str) -> R<Database> {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        match engine {
            Engine::Sqlite => {
                let path = self.work.path().join(format!("{tag}-{n}.db"));
                Ok(Database {
                    url: format!("sqlite://{}", path.display()),
                    pg_name: None,
                })
            }
            Engine::Postgres => {
                let name = format!("incident_bench_notify_{}_{n}", std::process::id());
                self.admin_exec(&[
                    format!("DROP DATABASE IF EXISTS {name}"),
                    format!("CREATE DATABASE {name}"),
                ])
                .await?;
                let mut url = url::Url::parse(&self.pg_admin)
                    .context(|| format!("TEST_DATABASE_URL={:?}", redacted(&self.pg_admin)))?;
                url.set_path(&format!("/{name}"));
                Ok(Database {
                    url: url.to_string(),
                    pg_name: Some(name),
                })
            }
        }
    }

    async fn drop_database(&self, db: Database) {
        let Some(name) = db.pg_name else { return };
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = self.admin_exec(&[sql]).await {
            eprintln!("warning: cannot drop database {name}: {e}");
        }
    }

    /// How many of the server's connections to `db` use TLS: it costs PostgreSQL steps/s.
    async fn tls_report(&self, db: &Database) -> Option<String> {
        let name = db.pg_name.as_ref()?;
        let report = async {
            let mut c = self.admin_connection().await?;
            let (tls, all): (i64, i64) = sqlx::query_as(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a \
                 JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1",
            )
            .bind(name)
            .fetch_one(&mut c)
            .await
            .context(|| "pg_stat_ssl".into())?;
            let _ = c.close().await;
            Ok::<_, String>(format!(
                "{tls} of the server's {all} PostgreSQL connections use TLS (sslmode in the URL decides)"
            ))
        };
        Some(
            report
                .await
                .unwrap_or_else(|e| format!("cannot tell whether TLS is used: {e}")),
        )
    }

    async fn create_users(&self, db: &Database, specs: &[Spec]) -> R<()> {
        for s in specs {
            let mut command = Command::new(&self.bin);
            command
                .args(["create-user", "--username", &s.username, "--role", s.role])
                .arg("--password-stdin");
            if !s.number.is_empty() {
                command.args(["--whatsapp-number", &s.number]);
            }
            if !s.email.is_empty() {
                command.args(["--email", &s.email]);
            }
            let mut child = command
                .current_dir(self.work.path())
                .env_clear()
                .env("DATABASE_URL", &db.url)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .context(|| format!("cannot run {} create-user", self.bin.display()))?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(format!("{PASSWORD}\n").as_bytes())
                    .await
                    .context(|| "cannot write the password to create-user".into())?;
            }
            let out = child
                .wait_with_output()
                .await
                .context(|| "create-user".into())?;
            if !out.status.success() {
                return Err(format!(
                    "create-user {} failed ({}): {}{}",
                    s.username,
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim(),
                    String::from_utf8_lossy(&out.stdout).trim()
                ));
            }
        }
        Ok(())
    }

    async fn start_server(
        &self,
        db: &Database,
        fake: &Fake,
        env: ServerEnv,
        label: &str,
    ) -> R<Server> {
        let port = free_port()?;
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let log = self.work.path().join(format!("server-{label}-{n}.log"));
        let file = std::fs::File::create(&log).context(|| format!("{}", log.display()))?;
        let file2 = file.try_clone().context(|| format!("{}", log.display()))?;
        let mut command = Command::new(&self.bin);
        command.env_clear();
        if let Some(port) = env.smtp_port {
            command
                .env("EMAIL_HOST", "127.0.0.1")
                .env("EMAIL_PORT", port.to_string())
                .env("EMAIL_USE_TLS", "false")
                .env("DEFAULT_FROM_EMAIL", "bench@example.com");
        }
        let child = command
            .arg("serve")
            .current_dir(self.work.path())
            .env("DATABASE_URL", &db.url)
            .env("DATABASE_MAX_CONNECTIONS", env.pool.to_string())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("SECRET_KEY", SECRET_KEY)
            .env("RUST_LOG", "warn")
            .env("TWILIO_ACCOUNT_SID", TWILIO_SID)
            .env("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
            .env("TWILIO_BASE_URL", &fake.url)
            .env("NOTIFY_WORKER", env.worker.to_string())
            .env("NOTIFY_RATE_PER_SECOND", env.rate.to_string())
            .env("NOTIFY_MAX_CONCURRENCY", env.concurrency.to_string())
            .env("NOTIFY_POLL_INTERVAL", "1s")
            .env("SHUTDOWN_GRACE", "5s")
            // Several replicas run at once: none binds the default private metrics port.
            .env("METRICS_ADDR", "off")
            // One client creates and comments on tickets as fast as it can.
            .env("TICKET_CREATE_RATE", "off")
            .env("COMMENT_RATE", "off")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file2)
            .kill_on_drop(true)
            .spawn()
            .context(|| format!("cannot start {} serve", self.bin.display()))?;
        let pid = child
            .id()
            .ok_or_else(|| "the server exited at once".to_string())?;
        let api = Api {
            http: self.http.clone(),
            base: format!("http://127.0.0.1:{port}"),
        };
        let mut server = Server {
            child,
            pid,
            api: api.clone(),
            log,
        };
        let every = Duration::from_millis(50);
        let ready = poll(&mut server, every, Duration::from_secs(30), async || {
            Ok(match api.call(Method::GET, "/healthz", None, None).await {
                Ok((200..=299, _)) => Ok(()),
                _ => Err("no answer to /healthz".to_string()),
            })
        })
        .await;
        match ready {
            Ok(()) => Ok(server),
            Err(e) => Err(server.explain(format!("{e} while starting"))),
        }
    }

    /// Runs `f` with a server started on `db`, and stops the server whatever happened; an error
    /// comes with the end of the server's log.
    async fn with_server<T>(
        &self,
        db: &Database,
        fake: &Fake,
        env: ServerEnv,
        label: &str,
        f: impl AsyncFnOnce(&mut Server) -> R<T>,
    ) -> R<T> {
        let mut server = self.start_server(db, fake, env, label).await?;
        let result = f(&mut server).await.map_err(|e| server.explain(e));
        let stopped = server.stop().await;
        let result = result?;
        stopped?;
        Ok(result)
    }
}

/// Runs `probe` every `every` until it answers `Ok(Ok(v))`, and returns `v`. `Ok(Err(status))`
/// means "not yet", and the last status is the error after `timeout`; a failing probe or an
/// exited server end the wait at once.
async fn poll<T>(
    server: &mut Server,
    every: Duration,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> R<Result<T, String>>,
) -> R<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let status = match probe().await? {
            Ok(v) => return Ok(v),
            Err(status) => status,
        };
        server.check_alive()?;
        if Instant::now() > deadline {
            return Err(format!("{status} after {} s", timeout.as_secs()));
        }
        tokio::time::sleep(every).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The fake Twilio

struct FakeState {
    delay: Duration,
    count: AtomicU64,
    arrivals: Mutex<Vec<Instant>>,
    malformed: AtomicU64,
}

impl FakeState {
    fn arrivals(&self) -> std::sync::MutexGuard<'_, Vec<Instant>> {
        self.arrivals.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Fake {
    url: String,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn fake_messages(
    State(s): State<Arc<FakeState>>,
    axum::extract::Path(sid): axum::extract::Path<String>,
    body: bytes::Bytes,
) -> (StatusCode, Json<Value>) {
    let n = s.count.fetch_add(1, Ordering::Relaxed) + 1;
    s.arrivals().push(Instant::now());
    if sid != TWILIO_SID || !form_urlencoded::parse(&body).any(|(k, _)| k == "To") {
        s.malformed.fetch_add(1, Ordering::Relaxed);
    }
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
    (
        StatusCode::CREATED,
        Json(json!({"sid": format!("SM{n:032x}"), "status": "queued"})),
    )
}

impl Fake {
    async fn start(delay: Duration) -> R<Fake> {
        let state = Arc::new(FakeState {
            delay,
            count: AtomicU64::new(0),
            arrivals: Mutex::new(Vec::new()),
            malformed: AtomicU64::new(0),
        });
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(fake_messages),
            )
            .with_state(state.clone());
        let failed = || "cannot start the fake Twilio".to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context(failed)?;
        let addr = listener.local_addr().context(failed)?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake Twilio stopped: {e}");
            }
        });
        Ok(Fake {
            url: format!("http://{addr}"),
            state,
            task,
        })
    }

    fn count(&self) -> u64 {
        self.state.count.load(Ordering::Relaxed)
    }

    fn malformed(&self) -> u64 {
        self.state.malformed.load(Ordering::Relaxed)
    }

    fn arrivals(&self) -> Vec<Instant> {
        let mut v = self.state.arrivals().clone();
        v.sort();
        v
    }

    fn reset(&self) {
        self.state.count.store(0, Ordering::Relaxed);
        self.state.malformed.store(0, Ordering::Relaxed);
        self.state.arrivals().clear();
    }

    /// Waits until `n` requests have arrived; returns when that was seen.
    async fn wait_for(&self, n: u64, server: &mut Server, timeout: Duration) -> R<Instant> {
        poll(server, Duration::from_millis(10), timeout, async || {
            let got = self.count();
            Ok(if got >= n {
                Ok(Instant::now())
            } else {
                Err(format!("the fake Twilio received {got} of {n} messages"))
            })
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// The HTTP API

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

#[derive(Clone)]
struct User {
    id: i64,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> R<(u16, Value)> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.context(|| format!("{method} {path}"))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .context(|| format!("{method} {path}: reading the answer"))?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, value))
    }

    /// The answer of a request that must succeed.
    async fn ok(&self, method: Method, path: &str, token: &str, body: Option<&Value>) -> R<Value> {
        let (status, value) = self.call(method.clone(), path, Some(token), body).await?;
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            Err(format!("{method} {path} answered {status}: {value}"))
        }
    }

    async fn login(&self, username: &str) -> R<User> {
        let body = json!({"username": username, "password": PASSWORD});
        let (status, v) = self
            .call(Method::POST, "/api/auth/login/", None, Some(&body))
            .await?;
        match (status, v["access"].as_str(), v["user"]["id"].as_i64()) {
            (200, Some(token), Some(id)) => Ok(User {
                id,
                token: token.to_string(),
            }),
            _ => Err(format!("login as {username} answered {status}: {v}")),
        }
    }

    /// How many WhatsApp rows have this status (the admin's delivery log).
    async fn whatsapp_count(&self, admin: &User, status: &str) -> R<i64> {
        let path = format!("/api/notifications/?notification_type=WHATSAPP&status={status}");
        let v = self.ok(Method::GET, &path, &admin.token, None).await?;
        v["count"]
            .as_i64()
            .ok_or_else(|| format!("GET {path} answered without a count: {v}"))
    }

    /// Polls until no WhatsApp row is PENDING; returns when that was seen.
    async fn wait_no_pending(
        &self,
        admin: &User,
        server: &mut Server,
        every: Duration,
        timeout: Duration,
    ) -> R<Instant> {
        poll(server, every, timeout, async || {
            let n = self.whatsapp_count(admin, "PENDING").await?;
            let at = Instant::now();
            Ok(if n == 0 {
                Ok(at)
            } else {
                Err(format!("{n} WhatsApp rows still PENDING"))
            })
        })
        .await
    }
}

/// The people of a scenario, logged in.
struct Cast {
    admin: User,
    client: User,
    devs: Vec<User>,
}

async fn login_cast(api: &Api, devs: usize) -> R<Cast> {
    let mut cast = Cast {
        admin: api.login("admin1").await?,
        client: api.login("client").await?,
        devs: Vec::new(),
    };
    for i in 1..=devs {
        cast.devs.push(api.login(&format!("dev{i}")).await?);
    }
    Ok(cast)
}

/// The step types; `finish_work` happens twice in a workflow.
const STEP_TYPES: [&str; 7] = [
    "create",
    "open_ticket",
    "assign",
    "start_work",
    "finish_work",
    "reject",
    "approve",
];
/// One workflow, as indexes into `STEP_TYPES`.
const WORKFLOW: [usize; 8] = [0, 1, 2, 3, 4, 5, 4, 6];

fn ticket_body(n: u64) -> Value {
    json!({
        "title": format!("Bench ticket {n}"),
        "description": format!("The login form fails on submit (case {n})"),
        "priority": "HIGH",
        "category": "BUG",
        "project_name": "Bench",
    })
}

async fn create_ticket(api: &Api, client: &User, n: u64) -> R<i64> {
    let v = api
        .ok(
            Method::POST,
            "/api/tickets/",
            &client.token,
            Some(&ticket_body(n)),
        )
        .await?;
    v["id"]
        .as_i64()
        .ok_or_else(|| format!("POST /api/tickets/ answered without an id: {v}"))
}

/// One workflow step on ticket `id`; a creation returns the new ticket's id.
async fn step(api: &Api, cast: &Cast, kind: usize, id: i64, n: u64) -> R<i64> {
    let dev = || {
        cast.devs
            .first()
            .ok_or_else(|| "this scenario has no developer".to_string())
    };
    let (action, who, body) = match kind {
        0 => return create_ticket(api, &cast.client, n).await,
        1 => ("open_ticket", &cast.admin, json!({})),
        2 => {
            let ids: Vec<i64> = cast.devs.iter().map(|d| d.id).collect();
            ("assign", &cast.admin, json!({ "assigned_to": ids }))
        }
        3 => ("start_work", dev()?, json!({})),
        4 => (
            "finish_work",
            dev()?,
            json!({"comment": "Fixed the login form"}),
        ),
        5 => (
            "reject",
            &cast.client,
            json!({"comment": "Still broken on Safari, please look again"}),
        ),
        _ => ("approve", &cast.client, json!({})),
    };
    let path = format!("/api/tickets/{id}/{action}/");
    api.ok(Method::POST, &path, &who.token, Some(&body)).await?;
    Ok(id)
}

/// Runs one workflow; `seen(step type, started, latency)` is told of every step and returns
/// false to stop. Returns whether the workflow ran to the end.
async fn workflow(
    api: &Api,
    cast: &Cast,
    n: u64,
    mut seen: impl FnMut(usize, Instant, Duration) -> bool,
) -> R<bool> {
    let mut id = 0;
    for kind in WORKFLOW {
        let started = Instant::now();
        id = step(api, cast, kind, id, n).await?;
        if !seen(kind, started, started.elapsed()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Creates `count` tickets as the client with `concurrency` requests at once.
async fn create_tickets(api: &Api, client: &User, count: usize, concurrency: usize) -> R<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks: JoinSet<R<()>> = JoinSet::new();
    for _ in 0..concurrency {
        let (api, client, next) = (api.clone(), client.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok(());
                }
                create_ticket(&api, &client, i as u64).await?;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.context(|| "a ticket-creating task failed".into())??;
    }
    Ok(started.elapsed())
}

// ---------------------------------------------------------------------------------------------
// Figures

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn per_second(v: f64) -> String {
    format!("{v:.0}/s")
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// From the first to the last of sorted arrivals.
fn span(arrivals: &[Instant]) -> Duration {
    match (arrivals.first(), arrivals.last()) {
        (Some(a), Some(z)) => *z - *a,
        _ => Duration::ZERO,
    }
}

/// Messages per second between the first and the last arrival.
fn rate(arrivals: &[Instant]) -> f64 {
    let span = span(arrivals);
    if span.is_zero() {
        0.0
    } else {
        (arrivals.len() - 1) as f64 / span.as_secs_f64()
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario A: step latency with a slow provider

struct AResult {
    all_p50: Duration,
    all_p99: Duration,
    drain: Duration,
    one_total: Duration,
    one_after_approve: Duration,
}

async fn scenario_a(b: &Bench, engine: Engine) -> R<AResult> {
    let workflows = env_usize("BENCH_WORKFLOWS", 200)?;
    let env = UNCAPPED;
    println!(
        "A  {workflows} sequential workflows x 8 steps; 2 admins, 1 client, 2 developers with numbers; \
         fake Twilio answers after 300 ms; {}",
        env.describe()
    );
    let fake = Fake::start(Duration::from_millis(300)).await?;
    b.with_database(engine, "a", &specs(2, 2), async |db| {
        b.with_server(db, &fake, env, "a", async |srv| {
            scenario_a_run(srv, &fake, workflows).await
        })
        .await
    })
    .await
}

async fn scenario_a_run(srv: &mut Server, fake: &Fake, workflows: usize) -> R<AResult> {
    let api = srv.api.clone();
    let cast = login_cast(&api, 2).await?;
    let poll = Duration::from_millis(20);
    for i in 0..3 {
        workflow(&api, &cast, i, |_, _, _| true).await?;
    }
    api.wait_no_pending(&cast.admin, srv, poll, Duration::from_secs(60))
        .await?;
    fake.reset();

    let mut latencies: Vec<Vec<Duration>> = vec![Vec::new(); STEP_TYPES.len()];
    let started = Instant::now();
    for i in 0..workflows {
        workflow(&api, &cast, 1000 + i as u64, |kind, _, took| {
            latencies[kind].push(took);
            true
        })
        .await?;
    }
    let last_approve = Instant::now();
    let done = api
        .wait_no_pending(&cast.admin, srv, poll, Duration::from_secs(300))
        .await?;
    let messages = fake.count();
    let failed = api.whatsapp_count(&cast.admin, "FAILED").await?;

    println!("   {:<12} {:>6} {:>10} {:>10}", "step", "n", "p50", "p99");
    let mut all = Vec::new();
    for (name, lat) in STEP_TYPES.iter().zip(latencies.iter_mut()) {
        lat.sort();
        println!(
            "   {:<12} {:>6} {:>10} {:>10}",
            name,
            lat.len(),
            ms(percentile(lat, 0.5)),
            ms(percentile(lat, 0.99))
        );
        all.extend_from_slice(lat);
    }
    all.sort();
    let (all_p50, all_p99) = (percentile(&all, 0.5), percentile(&all, 0.99));
    println!(
        "   {:<12} {:>6} {:>10} {:>10}   ({} steps in {}, {:.0} steps/s sequential)",
        "all steps",
        all.len(),
        ms(all_p50),
        ms(all_p99),
        all.len(),
        secs(last_approve - started),
        all.len() as f64 / (last_approve - started).as_secs_f64()
    );
    let drain = done - last_approve;
    println!(
        "   {messages} WhatsApp messages sent; last approve answered -> every row SENT: {} (polled every 20 ms); FAILED rows: {failed}; malformed requests: {}",
        secs(drain),
        fake.malformed()
    );
    if failed > 0 {
        return Err(format!("{failed} WhatsApp rows FAILED"));
    }

    // One workflow alone, on an idle queue.
    fake.reset();
    let started = Instant::now();
    let mut approved = started;
    workflow(&api, &cast, 999_999, |kind, at, took| {
        if kind == 6 {
            approved = at + took;
        }
        true
    })
    .await?;
    let done = api
        .wait_no_pending(
            &cast.admin,
            srv,
            Duration::from_millis(5),
            Duration::from_secs(60),
        )
        .await?;
    let last_arrival = fake.arrivals().last().copied().unwrap_or(approved);
    let (one_total, one_after_approve) = (done - started, done - approved);
    println!(
        "   one workflow alone ({} messages): first request -> all SENT {}; approve answered -> all SENT {} \
         (its last message reached the fake {} after the approve answer; polled every 5 ms)",
        fake.count(),
        secs(one_total),
        secs(one_after_approve),
        ms(last_arrival.saturating_duration_since(approved))
    );
    Ok(AResult {
        all_p50,
        all_p99,
        drain,
        one_total,
        one_after_approve,
    })
}

// ---------------------------------------------------------------------------------------------
// Scenario B: concurrent workflow throughput

struct BResult {
    steps_per_second: f64,
    p50: Duration,
    p99: Duration,
    /// The server's VmHWM at the end of the run.
    hwm_kb: u64,
}

impl BResult {
    fn p50_p99(&self) -> String {
        format!("{} / {}", ms(self.p50), ms(self.p99))
    }
}

async fn scenario_b(b: &Bench, engine: Engine, worker: bool) -> R<BResult> {
    let seconds = env_usize("BENCH_SECONDS", 10)?.max(1);
    let env = ServerEnv {
        worker,
        concurrency: 32,
        pool: 32,
        ..UNCAPPED
    };
    println!(
        "B  32 tasks, each driving its own tickets through the 8 steps for {seconds} s (after 1 s of warm-up); {}{}",
        env.describe(),
        if worker { "; fake Twilio answers at once" } else { "" }
    );
    let fake = Fake::start(Duration::ZERO).await?;
    b.with_database(engine, "b", &specs(2, 2), async |db| {
        b.with_server(db, &fake, env, "b", async |srv| {
            let r = scenario_b_run(srv, &fake, worker, seconds).await;
            if let Some(tls) = b.tls_report(db).await {
                println!("   {tls}");
            }
            r
        })
        .await
    })
    .await
}

async fn scenario_b_run(srv: &mut Server, fake: &Fake, worker: bool, seconds: usize) -> R<BResult> {
    const TASKS: usize = 32;
    let api = srv.api.clone();
    let cast = Arc::new(login_cast(&api, 2).await?);
    let counter = Arc::new(AtomicU64::new(0));
    let begin = Instant::now();
    let warm = begin + Duration::from_secs(1);
    let end = warm + Duration::from_secs(seconds as u64);
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let (api, cast, counter) = (api.clone(), cast.clone(), counter.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < end {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                workflow(&api, &cast, n, |_, at, took| {
                    let finished = at + took;
                    if finished >= warm && finished < end {
                        lat.push(took);
                    }
                    finished < end
                })
                .await?;
            }
            Ok::<_, String>(lat)
        });
    }
    let mut all = Vec::new();
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(lat)) => all.extend(lat),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("a load task failed: {e}")),
        }
    }
    if let Some(first) = errors.first() {
        return Err(format!(
            "{} of {TASKS} load tasks stopped on an error; the first: {first}",
            errors.len()
        ));
    }
    all.sort();
    let steps_per_second = all.len() as f64 / seconds as f64;
    let (p50, p99) = (percentile(&all, 0.5), percentile(&all, 0.99));
    let hwm_kb = proc_kb(srv.pid, "VmHWM").unwrap_or(0);
    println!(
        "   {} steps in {seconds} s: {steps_per_second:.0} steps/s, p50 {}, p99 {}, max {} ({} workflows started); server peak RSS {}",
        all.len(),
        ms(p50),
        ms(p99),
        ms(all.last().copied().unwrap_or_default()),
        counter.load(Ordering::Relaxed),
        mib(hwm_kb)
    );
    if worker {
        let pending = api.whatsapp_count(&cast.admin, "PENDING").await?;
        println!(
            "   the worker delivered {} messages during the run; {pending} still PENDING when it ended",
            fake.count()
        );
    }
    Ok(BResult {
        steps_per_second,
        p50,
        p99,
        hwm_kb,
    })
}

// ---------------------------------------------------------------------------------------------
// Scenarios C and D: draining a queue

struct Drain {
    arrivals: Vec<Instant>,
    /// From the restart (process spawned) until no row was PENDING.
    total: Duration,
    rss_start_kb: u64,
    rss_max_kb: u64,
    rss_samples: usize,
    hwm_kb: u64,
}

/// Queues `tickets` x 10 WhatsApp rows with the worker off, then restarts the server with `env`
/// and waits until a fake answering after 100 ms has them all and none is PENDING.
async fn drain(b: &Bench, engine: Engine, tag: &str, tickets: usize, env: ServerEnv) -> R<Drain> {
    let expected = tickets * 10;
    let fake = &Fake::start(Duration::from_millis(100)).await?;
    b.with_database(engine, tag, &specs(10, 0), async |db| {
        let off = ServerEnv {
            worker: false,
            ..env
        };
        b.with_server(db, fake, off, tag, async |srv| {
            let api = srv.api.clone();
            let cast = login_cast(&api, 0).await?;
            let took = create_tickets(&api, &cast.client, tickets, 16).await?;
            let pending = api.whatsapp_count(&cast.admin, "PENDING").await?;
            println!(
                "   queued {pending} WhatsApp rows ({tickets} tickets x 10 admins) in {} with the worker off",
                secs(took)
            );
            if pending != expected as i64 {
                return Err(format!("expected {expected} PENDING rows, found {pending}"));
            }
            Ok(())
        })
        .await?;

        fake.reset();
        let spawned = Instant::now();
        b.with_server(db, fake, env, tag, async |srv| {
            drain_run(srv, fake, expected as u64, spawned).await
        })
        .await
    })
    .await
}

async fn drain_run(srv: &mut Server, fake: &Fake, expected: u64, spawned: Instant) -> R<Drain> {
    let pid = srv.pid;
    let rss_start_kb = proc_kb(pid, "VmRSS").unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let (mut max, mut n) = (0u64, 0usize);
            while !stop.load(Ordering::Relaxed) {
                if let Some(kb) = proc_kb(pid, "VmRSS") {
                    max = max.max(kb);
                    n += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (max, n)
        })
    };
    let waited = async {
        // No API polling while the fake receives: only the worker loads the server.
        fake.wait_for(expected, srv, Duration::from_secs(240))
            .await?;
        let api = srv.api.clone();
        let admin = api.login("admin1").await?;
        let done = api
            .wait_no_pending(
                &admin,
                srv,
                Duration::from_millis(20),
                Duration::from_secs(60),
            )
            .await?;
        let failed = api.whatsapp_count(&admin, "FAILED").await?;
        if failed > 0 {
            return Err(format!("{failed} WhatsApp rows FAILED"));
        }
        Ok(done)
    }
    .await;
    let hwm_kb = proc_kb(pid, "VmHWM").unwrap_or(0);
    stop.store(true, Ordering::Relaxed);
    let (rss_max_kb, rss_samples) = sampler.await.unwrap_or((0, 0));
    let done = waited?;
    if fake.count() != expected || fake.malformed() > 0 {
        return Err(format!(
            "the fake Twilio received {} requests ({} malformed) for {expected} queued messages",
            fake.count(),
            fake.malformed()
        ));
    }
    Ok(Drain {
        arrivals: fake.arrivals(),
        total: done - spawned,
        rss_start_kb,
        rss_max_kb,
        rss_samples,
        hwm_kb,
    })
}

struct CResult {
    rate: f64,
    hwm_kb: u64,
}

async fn scenario_c(b: &Bench, engine: Engine) -> R<CResult> {
    let messages = env_usize("BENCH_MESSAGES", 10_000)?.max(10);
    let env = UNCAPPED;
    println!(
        "C  drain {messages} queued WhatsApp messages; fake Twilio answers after 100 ms; {}",
        env.describe()
    );
    let d = drain(b, engine, "c", messages / 10, env).await?;
    let r = rate(&d.arrivals);
    println!(
        "   {} messages: {r:.0} messages/s (fake arrivals, first to last: {}); restart -> none PENDING: {}",
        d.arrivals.len(),
        secs(span(&d.arrivals)),
        secs(d.total)
    );
    println!(
        "   server RSS: {} after start, {} sampled peak ({} samples, every 50 ms), VmHWM {}",
        mib(d.rss_start_kb),
        mib(d.rss_max_kb),
        d.rss_samples,
        mib(d.hwm_kb)
    );
    Ok(CResult {
        rate: r,
        hwm_kb: d.hwm_kb,
    })
}

struct DResult {
    steady: f64,
}

async fn scenario_d(b: &Bench, engine: Engine) -> R<DResult> {
    const CAP: f64 = 80.0;
    let env = ServerEnv {
        rate: CAP,
        concurrency: 32,
        ..UNCAPPED
    };
    println!(
        "D  drain 800 queued WhatsApp messages at a cap; fake Twilio answers after 100 ms; {}",
        env.describe()
    );
    let d = drain(b, engine, "d", 80, env).await?;
    let first = d.arrivals.first().copied().ok_or("no message arrived")?;
    let steady: Vec<Instant> = d
        .arrivals
        .iter()
        .copied()
        .filter(|t| *t >= first + Duration::from_secs(1))
        .collect();
    let r = rate(&steady);
    println!(
        "   {} messages: steady rate {r:.2}/s over {} arrivals after the first second ({:+.2}% from {CAP}); \
         first to last {:.2}/s",
        d.arrivals.len(),
        steady.len(),
        (r - CAP) / CAP * 100.0,
        rate(&d.arrivals)
    );
    Ok(DResult { steady: r })
}

// ---------------------------------------------------------------------------------------------
// The run and the summary

#[derive(Default)]
struct Report {
    a: Option<AResult>,
    b_api: Option<BResult>,
    b_full: Option<BResult>,
    c: Option<CResult>,
    d: Option<DResult>,
    e: Option<email::EResult>,
}

fn keep<T>(failures: &mut Vec<String>, what: String, r: R<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            println!("   FAILED: {e}");
            failures.push(format!("{what}: {}", e.lines().next().unwrap_or_default()));
            None
        }
    }
}

async fn run(engines: Vec<Engine>) -> R<Vec<String>> {
    let b = Bench::new()?;
    let only = std::env::var("BENCH_SCENARIOS")
        .unwrap_or_else(|_| "ABCDE".into())
        .to_ascii_uppercase();
    println!(
        "notify bench: {} serve, {} cores; server, database and load generator share the machine",
        b.bin.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut reports = Vec::new();
    for engine in engines {
        let e = engine.name();
        println!("\n== {e} (load average {}) ==", load_average());
        let mut r = Report::default();
        // One failure for the engine, not one a scenario, when PostgreSQL cannot be reached.
        let reachable = engine != Engine::Postgres || {
            let connected = b.admin_exec(&[]).await;
            keep(&mut failures, format!("{e} set-up"), connected).is_some()
        };
        let wants = |scenario| reachable && only.contains(scenario);
        if wants('A') {
            let res = scenario_a(&b, engine).await;
            r.a = keep(&mut failures, format!("{e} A"), res);
        }
        if wants('B') {
            let res = scenario_b(&b, engine, false).await;
            r.b_api = keep(&mut failures, format!("{e} B (worker off)"), res);
            let res = scenario_b(&b, engine, true).await;
            r.b_full = keep(&mut failures, format!("{e} B (worker on)"), res);
        }
        if wants('C') {
            let res = scenario_c(&b, engine).await;
            r.c = keep(&mut failures, format!("{e} C"), res);
        }
        if wants('D') {
            let res = scenario_d(&b, engine).await;
            r.d = keep(&mut failures, format!("{e} D"), res);
        }
        if wants('E') {
            let res = email::scenario_e(&b, engine).await;
            r.e = keep(&mut failures, format!("{e} E"), res);
        }
        reports.push((engine, r));
    }
    summary(&reports);
    println!(
        "\ntotal {} (load average at the end {})",
        secs(started.elapsed()),
        load_average()
    );
    Ok(failures)
}

/// A cell: the figure and, where there is a target, whether it is met.
fn cell(value: Option<String>, met: Option<bool>) -> String {
    match (value, met) {
        (None, _) => "n/a".into(),
        (Some(v), Some(true)) => format!("{v} ok"),
        (Some(v), Some(false)) => format!("{v} MISS"),
        (Some(v), None) => v,
    }
}

fn summary(reports: &[(Engine, Report)]) {
    type Row = (
        &'static str,
        &'static str,
        fn(Engine, &Report) -> (Option<String>, Option<bool>),
    );
    let rows: Vec<Row> = vec![
        ("A step p50 (fake 300 ms)", "< 15 ms", |_, r| {
            let v = r.a.as_ref().map(|a| a.all_p50);
            (v.map(ms), v.map(|d| d < Duration::from_millis(15)))
        }),
        ("A step p99", "", |_, r| {
            (r.a.as_ref().map(|a| ms(a.all_p99)), None)
        }),
        ("A last approve -> all SENT", "", |_, r| {
            (r.a.as_ref().map(|a| secs(a.drain)), None)
        }),
        ("A one workflow: start -> all SENT", "", |_, r| {
            (r.a.as_ref().map(|a| secs(a.one_total)), None)
        }),
        ("A one workflow: approve -> all SENT", "", |_, r| {
            (r.a.as_ref().map(|a| secs(a.one_after_approve)), None)
        }),
        (
            "B steps/s, 32 conc., worker off",
            ">= 1000/s (pg)",
            |e, r| {
                let v = r.b_api.as_ref().map(|b| b.steps_per_second);
                (
                    v.map(per_second),
                    v.filter(|_| e == Engine::Postgres).map(|s| s >= 1000.0),
                )
            },
        ),
        ("B p50 / p99, worker off", "", |_, r| {
            (r.b_api.as_ref().map(BResult::p50_p99), None)
        }),
        ("B server peak RSS, worker off", "", |_, r| {
            (r.b_api.as_ref().map(|b| mib(b.hwm_kb)), None)
        }),
        ("B steps/s, 32 conc., worker on", "", |_, r| {
            (
                r.b_full.as_ref().map(|b| per_second(b.steps_per_second)),
                None,
            )
        }),
        ("B p50 / p99, worker on", "", |_, r| {
            (r.b_full.as_ref().map(BResult::p50_p99), None)
        }),
        ("C delivered/s (100 ms, no cap)", ">= 500/s", |_, r| {
            let v = r.c.as_ref().map(|c| c.rate);
            (v.map(per_second), v.map(|s| s >= 500.0))
        }),
        ("C server peak RSS (VmHWM)", "", |_, r| {
            (r.c.as_ref().map(|c| mib(c.hwm_kb)), None)
        }),
        ("D steady rate at cap 80/s", "80/s +-5%", |_, r| {
            let v = r.d.as_ref().map(|d| d.steady);
            (
                v.map(|s| format!("{s:.1}/s ({:+.1}%)", (s - 80.0) / 0.8)),
                v.map(|s| (s - 80.0).abs() <= 4.0),
            )
        }),
        ("E e-mails/s (SMTP 50 ms, reuse)", ">= 300/s", |_, r| {
            let v = r.e.as_ref().map(|e| e.rate);
            (v.map(per_second), v.map(|s| s >= 300.0))
        }),
        ("E SMTP connections / e-mails", "", |_, r| {
            (
                r.e.as_ref()
                    .map(|e| format!("{} / {}", e.connections, e.emails)),
                None,
            )
        }),
        ("E step p50 / p99, e-mail on", "", |_, r| {
            (
                r.e.as_ref()
                    .map(|e| format!("{} / {}", ms(e.on.0), ms(e.on.1))),
                None,
            )
        }),
        ("E step p50 / p99, e-mail off", "", |_, r| {
            (
                r.e.as_ref()
                    .map(|e| format!("{} / {}", ms(e.off.0), ms(e.off.1))),
                None,
            )
        }),
    ];
    println!("\n== summary ==");
    let mut header = format!("{:<37} {:<15}", "metric", "target");
    for (e, _) in reports {
        header.push_str(&format!(" {:<22}", e.name()));
    }
    println!("{}", header.trim_end());
    for (name, target, f) in rows {
        let mut line = format!("{name:<37} {target:<15}");
        for (e, r) in reports {
            let (v, met) = f(*e, r);
            line.push_str(&format!(" {:<22}", cell(v, met)));
        }
        println!("{}", line.trim_end());
    }
    println!(
        "(the Django original answers a step in 350-1,300 ms because it sends WhatsApp inline)"
    );
}
