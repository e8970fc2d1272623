//! Memory and liveness under hostile load (issue 10, item 5). It prints figures; it is not a test.
//!
//! ```sh
//! cargo build --release                                  # this benchmark runs that binary
//! cargo bench --bench hostile -- [sqlite|postgres|both]  # default: both
//! ```
//!
//! Per engine it runs `target/release/incident serve` against a fresh SQLite file (in a
//! temporary directory) or a fresh PostgreSQL database (created on `TEST_DATABASE_URL`, default
//! `postgres://root@127.0.0.1:5432/postgres`, dropped afterwards), with the default limits
//! (`MAX_UPLOAD_BYTES_IN_FLIGHT` 64 MiB, `MAX_TICKET_ATTACHMENT_BYTES` 25 MiB,
//! `MAX_INLINE_ATTACHMENT_RESPONSES` 4, `HEAVY_REQUEST_WAIT` 5 s) and the worker off. One ticket
//! is first filled to its attachment quota (five 5 MiB files). Then, all at once:
//!
//! - 1,000 hostile sockets, each having sent half a request line (`GET /healthz HT`), held open;
//! - 200 concurrent uploads of 5 MiB (5 to each of 40 tickets, so every ticket ends at its
//!   quota); a 503 is retried after its `Retry-After`, as a well-behaved client would;
//! - 20 concurrent reads of the ticket at its quota with the files inline (about 35 MB of JSON
//!   each), read to the end; 503s retried likewise;
//! - `GET /healthz` every 20 ms on a connection of its own, throughout.
//!
//! Printed: the server's peak RSS (`VmHWM` of `/proc/<pid>/status`) and its RSS before the load,
//! the `/healthz` p50/p99/max, the uploads' and reads' outcomes and durations, and how many
//! hostile sockets the server still held open at the end. Targets: peak RSS under 400 MB,
//! `/healthz` p99 under 50 ms. The benchmark needs about 1,300 open files (`ulimit -n`); the
//! server, started by it, inherits its limit.
//!
//! Knobs (environment): `INCIDENT_BIN`, `TEST_DATABASE_URL`, `BENCH_HOSTILE_SOCKETS` (1000),
//! `BENCH_UPLOADS` (200), `BENCH_READS` (20); `BENCH_SERVER_X=v` starts the server with `X=v`,
//! and `MIMALLOC_*` and `GLIBC_TUNABLES` are passed to it as they are.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

#[path = "common.rs"]
mod common;
use common::*;

type R<T> = Result<T, String>;

const PASSWORD: &str = "bench-password-1";
const SECRET_KEY: &str = "hostile-bench-secret-key-0123456789";
const DEFAULT_PG: &str = "postgres://root@127.0.0.1:5432/postgres";
const FILE_BYTES: usize = 5 * 1024 * 1024;
const FILES_PER_TICKET: usize = 5;
const BOUNDARY: &str = "hostileBenchBoundary7MA4YWxk";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs this without `--bench`: that must not start minutes of load.
    if !args.iter().any(|a| a == "--bench") {
        println!("hostile: a benchmark; run it with `cargo bench --bench hostile -- [sqlite|postgres|both]`");
        return;
    }
    let engines: Vec<&str> = match args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str)
    {
        None | Some("both") => vec!["sqlite", "postgres"],
        Some("sqlite") => vec!["sqlite"],
        Some("postgres" | "postgresql") => vec!["postgres"],
        Some(other) => {
            eprintln!("unknown engine {other:?}: use sqlite, postgres or both");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("hostile bench: cannot start the tokio runtime: {e}");
            std::process::exit(1);
        });
    let mut failed = false;
    for engine in engines {
        if let Err(e) = runtime.block_on(run(engine)) {
            eprintln!("hostile bench on {engine} failed: {e}");
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// The soft open-file limit of this process (the server inherits it).
fn open_file_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Sockets the process holds (entries of `/proc/<pid>/fd` that are sockets).
fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

fn mb(kb: u64) -> String {
    format!("{:.0} MB", kb as f64 * 1024.0 / 1e6)
}

struct Server {
    child: Child,
    pid: u32,
    base: String,
    log: PathBuf,
}

impl Server {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// SIGTERM, then SIGKILL after 10 s.
    async fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

/// A fresh database for this run: its URL, and the PostgreSQL database to drop afterwards.
async fn database(engine: &str, work: &Path) -> R<(String, Option<String>)> {
    if engine == "sqlite" {
        return Ok((
            format!("sqlite://{}", work.join("hostile.db").display()),
            None,
        ));
    }
    let admin = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.into());
    let name = format!("incident_bench_hostile_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(&admin)
        .await
        .map_err(|e| format!("cannot connect to PostgreSQL (set TEST_DATABASE_URL): {e}"))?;
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(&sql)
            .execute(&mut c)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    let _ = c.close().await;
    let mut url = url::Url::parse(&admin).map_err(|e| format!("TEST_DATABASE_URL: {e}"))?;
    url.set_path(&format!("/{name}"));
    Ok((url.to_string(), Some(name)))
}

async fn drop_database(name: &str) {
    let admin = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.into());
    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = sqlx::query(&sql).execute(&mut c).await {
            eprintln!("warning: cannot drop database {name}: {e}");
        }
        let _ = c.close().await;
    }
}

async fn create_user(bin: &Path, work: &Path, url: &str, username: &str, role: &str) -> R<()> {
    let mut child = Command::new(bin)
        .args([
            "create-user",
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
        ])
        .current_dir(work)
        .env_clear()
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {} create-user: {e}", bin.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().await.map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "create-user {username}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// What the caller adds to the server's environment: `BENCH_SERVER_X=v` sets `X=v` (a setting
/// tried under this load, e.g. `BENCH_SERVER_DATABASE_MAX_CONNECTIONS=4`), and the allocators'
/// own tuning (`MIMALLOC_*`, `GLIBC_TUNABLES`) passes as it is.
fn server_env_overrides() -> Vec<(String, String)> {
    std::env::vars()
        .filter_map(|(k, v)| match k.strip_prefix("BENCH_SERVER_") {
            Some(name) => Some((name.to_string(), v)),
            None if k.starts_with("MIMALLOC_") || k == "GLIBC_TUNABLES" => Some((k, v)),
            None => None,
        })
        .collect()
}

async fn start_server(bin: &Path, work: &Path, url: &str) -> R<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))?;
    let log = work.join("server.log");
    let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let file2 = file.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new(bin)
        .arg("serve")
        .current_dir(work)
        .env_clear()
        .env("DATABASE_URL", url)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("SECRET_KEY", SECRET_KEY)
        .env("RUST_LOG", "warn")
        .env("NOTIFY_WORKER", "false")
        .env("SHUTDOWN_GRACE", "5s")
        // Set-up creates 40 tickets as one client at once; metrics are not measured here.
        .env("TICKET_CREATE_RATE", "off")
        .env("METRICS_ADDR", "off")
        .envs(server_env_overrides())
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(file2)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {} serve: {e}", bin.display()))?;
    let pid = child.id().ok_or("the server exited at once")?;
    let server = Server {
        child,
        pid,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await {
            if r.status().is_success() {
                return Ok(server);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "the server did not answer /healthz:\n{}",
        server.log_tail()
    ))
}

async fn login(http: &reqwest::Client, base: &str, username: &str) -> R<String> {
    let r = http
        .post(format!("{base}/api/auth/login/"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = r.json().await.map_err(|e| e.to_string())?;
    body["access"]
        .as_str()
        .map(str::to_string)
        .ok_or(format!("login {username}: {body}"))
}

async fn new_ticket(http: &reqwest::Client, base: &str, token: &str, n: usize) -> R<i64> {
    let r = http
        .post(format!("{base}/api/tickets/"))
        .bearer_auth(token)
        .json(&json!({"title": format!("Hostile {n}"), "description": "bench", "priority": "LOW"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = r.json().await.map_err(|e| e.to_string())?;
    body["id"].as_i64().ok_or(format!("create ticket: {body}"))
}

/// What a heavy request came to: its final status, how many 503s it met first, how long it took.
struct Outcome {
    status: Result<StatusCode, String>,
    refusals: usize,
    took: Duration,
    bytes: usize,
}

/// Sends a request (made by `make`) until it is not a 503, waiting `Retry-After` between.
async fn until_not_busy(make: impl Fn() -> reqwest::RequestBuilder) -> Outcome {
    let started = Instant::now();
    let mut refusals = 0;
    loop {
        let result = match make().send().await {
            Ok(r) => {
                let status = r.status();
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                match r.bytes().await {
                    Ok(body) => Ok((status, wait, body.len())),
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok((StatusCode::SERVICE_UNAVAILABLE, wait, _)) if refusals < 50 => {
                refusals += 1;
                tokio::time::sleep(Duration::from_secs(wait.unwrap_or(1))).await;
            }
            Ok((status, _, bytes)) => {
                return Outcome {
                    status: Ok(status),
                    refusals,
                    took: started.elapsed(),
                    bytes,
                }
            }
            Err(e) => {
                return Outcome {
                    status: Err(e),
                    refusals,
                    took: started.elapsed(),
                    bytes: 0,
                }
            }
        }
    }
}

fn multipart_file(data: &[u8]) -> Bytes {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file_data\"; filename=\"bench.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Bytes::from(body)
}

fn summarize(what: &str, outcomes: &[Outcome]) {
    let mut by_status = std::collections::BTreeMap::<String, usize>::new();
    for o in outcomes {
        let key = match &o.status {
            Ok(s) => s.as_u16().to_string(),
            Err(e) => format!("error ({e})"),
        };
        *by_status.entry(key).or_default() += 1;
    }
    let mut took: Vec<Duration> = outcomes.iter().map(|o| o.took).collect();
    took.sort();
    let refusals: usize = outcomes.iter().map(|o| o.refusals).sum();
    println!(
        "  {what}: {} done, final statuses {by_status:?}, {refusals} 503s retried; took p50 {}, max {}",
        outcomes.len(),
        ms(percentile(&took, 0.5)),
        ms(took.last().copied().unwrap_or_default()),
    );
}

async fn run(engine: &str) -> R<()> {
    let hostile = env_usize("BENCH_HOSTILE_SOCKETS", 1000)?;
    let uploads = env_usize("BENCH_UPLOADS", 200)?;
    let reads = env_usize("BENCH_READS", 20)?;
    let bin = find_binary()?;
    let work = tempfile::Builder::new()
        .prefix("incident-hostile-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let (url, pg_name) = database(engine, work.path()).await?;
    let result = async {
        create_user(&bin, work.path(), &url, "client", "CLIENT").await?;
        let server = start_server(&bin, work.path(), &url).await?;
        let measured = measure(engine, &server, (hostile, uploads, reads)).await;
        let tail = server.log_tail();
        server.stop().await;
        measured.map_err(|e| format!("{e}\n  server log:\n{tail}"))
    }
    .await;
    if let Some(name) = pg_name {
        drop_database(&name).await;
    }
    result
}

/// `GET /healthz` every 20 ms until `stop`: the answers' latencies, and how many failed.
async fn sample_healthz(url: &str, stop: &AtomicBool) -> R<(Vec<Duration>, usize)> {
    let probe = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut samples = Vec::new();
    let mut failures = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        match probe.get(url).timeout(Duration::from_secs(30)).send().await {
            Ok(r) if r.status().is_success() => samples.push(t.elapsed()),
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((samples, failures))
}

/// The load and the figures; `counts` are the hostile sockets, the uploads and the reads.
async fn measure(engine: &str, server: &Server, counts: (usize, usize, usize)) -> R<()> {
    let (hostile, uploads, reads) = counts;
    let base = server.base.clone();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| e.to_string())?;
    let token = login(&http, &base, "client").await?;
    let file: Vec<u8> = (0..FILE_BYTES).map(|i| (i * 7 % 251) as u8).collect();
    let body = multipart_file(&file);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let upload = |ticket: i64| {
        let (http, base, token, body, ct) = (
            http.clone(),
            base.clone(),
            token.clone(),
            body.clone(),
            content_type.clone(),
        );
        move || {
            http.post(format!("{base}/api/tickets/{ticket}/add_attachment/"))
                .bearer_auth(&token)
                .header("content-type", &ct)
                .body(body.clone())
        }
    };
    // The ticket the readers read, filled to its quota first.
    let full = new_ticket(&http, &base, &token, 0).await?;
    for _ in 0..FILES_PER_TICKET {
        let o = until_not_busy(upload(full)).await;
        if o.status != Ok(StatusCode::OK) {
            return Err(format!("filling the read ticket: {:?}", o.status));
        }
    }
    let mut targets = Vec::new();
    for n in 0..uploads.div_ceil(FILES_PER_TICKET) {
        targets.push(new_ticket(&http, &base, &token, n + 1).await?);
    }
    let rss_before = proc_kb(server.pid, "VmRSS").unwrap_or(0);
    let hwm_before = proc_kb(server.pid, "VmHWM").unwrap_or(0);

    // 1. The hostile sockets, each with half a request line.
    let addr = base.trim_start_matches("http://").to_string();
    let mut idle = Vec::with_capacity(hostile);
    let mut refused = 0;
    for _ in 0..hostile {
        match tokio::net::TcpStream::connect(&addr).await {
            Ok(mut s) => {
                let _ = s.write_all(b"GET /healthz HT").await;
                idle.push(s);
            }
            Err(_) => refused += 1,
        }
    }
    // 2. /healthz sampled throughout, on its own connection and its own thread: the load's
    // 200 uploads and 20 reads keep this process's runtime busy, and a probe queued behind them
    // would measure this client, not the server.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (stop, url) = (stop.clone(), format!("{base}/healthz"));
        std::thread::spawn(move || -> R<(Vec<Duration>, usize)> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(sample_healthz(&url, &stop))
        })
    };
    // 3 and 4. The uploads and the reads, all at once.
    let started = Instant::now();
    let upload_tasks: Vec<_> = (0..uploads)
        .map(|i| tokio::spawn(until_not_busy(upload(targets[i / FILES_PER_TICKET]))))
        .collect();
    let read_tasks: Vec<_> = (0..reads)
        .map(|_| {
            let (http, token) = (http.clone(), token.clone());
            let url = format!("{base}/api/tickets/{full}/");
            tokio::spawn(until_not_busy(move || http.get(&url).bearer_auth(&token)))
        })
        .collect();
    let mut upload_outcomes = Vec::new();
    for t in upload_tasks {
        upload_outcomes.push(t.await.map_err(|e| e.to_string())?);
    }
    let mut read_outcomes = Vec::new();
    for t in read_tasks {
        read_outcomes.push(t.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (mut samples, failures) = sampler
        .join()
        .map_err(|_| "the /healthz probe panicked".to_string())??;
    samples.sort();
    let peak = proc_kb(server.pid, "VmHWM").unwrap_or(0);
    let held = open_sockets(server.pid);
    drop(idle);

    let expected_json = 4 * (FILE_BYTES * FILES_PER_TICKET).div_ceil(3);
    let short_reads = read_outcomes
        .iter()
        .filter(|o| o.status == Ok(StatusCode::OK) && o.bytes < expected_json)
        .count();
    println!("\n== {engine} ==  (load average {})", load_average());
    println!(
        "  open-file limit {} (inherited by the server); {hostile} hostile sockets opened ({refused} refused)",
        open_file_limit()
    );
    println!(
        "  server RSS before the load {}, peak before it {}; PEAK RSS (VmHWM) {}  [target < 400 MB]",
        mb(rss_before),
        mb(hwm_before),
        mb(peak)
    );
    println!(
        "  /healthz: {} samples over {:.1} s, p50 {}, p99 {}, max {}, {failures} failed  [target p99 < 50 ms]",
        samples.len(),
        elapsed.as_secs_f64(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
        ms(samples.last().copied().unwrap_or_default()),
    );
    summarize(&format!("{uploads} uploads of 5 MiB"), &upload_outcomes);
    summarize(
        &format!(
            "{reads} reads of a ticket at its quota (~{} MB of JSON each)",
            expected_json / 1_000_000
        ),
        &read_outcomes,
    );
    if short_reads > 0 {
        println!("  warning: {short_reads} reads were shorter than the files' base64");
    }
    println!("  sockets the server still held at the end: {held} (idle ones are closed after HEADER_READ_TIMEOUT)");
    Ok(())
}
