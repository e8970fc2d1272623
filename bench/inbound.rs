//! Load benchmark of Twilio's inbound webhook (issue 15 item 8). It prints figures; it is not a
//! test.
//!
//! ```sh
//! cargo build --release                                # this benchmark runs that binary
//! cargo bench --bench inbound -- [sqlite|postgres|both]  # default: sqlite
//! ```
//!
//! Runs `target/release/incident serve` (worker off) on a fresh SQLite file or PostgreSQL
//! database with one client who has a WhatsApp number, then posts `BENCH_INBOUND` (default
//! 5,000) signed inbound webhooks from 32 connections at once, each with its own MessageSid, in
//! two rounds: from an unknown number (the signature checked, the message stored, nothing else)
//! and `HELP` from the client (also the window opened, the command read and a reply row queued).
//! Prints messages handled per second. Target: 2,000/s on SQLite with the signature checked.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use incident::http::webhooks::signature::twilio_signature;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::task::JoinSet;

#[path = "common.rs"]
mod common;
use common::*;

type R<T> = Result<T, String>;

const TOKEN: &str = "bench-twilio-token";
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const CLIENT: &str = "+12025550102";
const CONNECTIONS: usize = 32;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let engines: Vec<&str> = match args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str)
    {
        Some("both") => vec!["sqlite", "postgres"],
        Some("postgres") => vec!["postgres"],
        _ => vec!["sqlite"],
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for engine in engines {
        if let Err(e) = rt.block_on(run(engine)) {
            eprintln!("{engine}: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(engine: &str) -> R<()> {
    let bin = find_binary()?;
    let n = env_usize("BENCH_INBOUND", 5000)?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (url, pg_name) = match engine {
        "sqlite" => (
            format!("sqlite://{}", work.path().join("inbound.db").display()),
            None,
        ),
        _ => {
            let admin = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into());
            let name = format!("incident_bench_inbound_{}", std::process::id());
            pg(&admin, &format!("CREATE DATABASE {name}")).await?;
            let mut u = url::Url::parse(&admin).map_err(|e| e.to_string())?;
            u.set_path(&format!("/{name}"));
            (u.to_string(), Some((admin, name)))
        }
    };
    let result = measure(&bin, &url, work.path(), n, engine).await;
    if let Some((admin, name)) = pg_name {
        let _ = pg(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await;
    }
    result
}

async fn pg(admin: &str, sql: &str) -> R<()> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(admin)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query(sql)
        .execute(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn measure(
    bin: &std::path::Path,
    url: &str,
    dir: &std::path::Path,
    n: usize,
    engine: &str,
) -> R<()> {
    let mut create = Command::new(bin)
        .args([
            "create-user",
            "--username",
            "client",
            "--role",
            "CLIENT",
            "--whatsapp-number",
            CLIENT,
            "--password-stdin",
        ])
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(mut stdin) = create.stdin.take() {
        stdin
            .write_all(b"bench-password-1\n")
            .await
            .map_err(|e| e.to_string())?;
    }
    if !create.wait().await.map_err(|e| e.to_string())?.success() {
        return Err("create-user failed".into());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut server = Command::new(bin)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", url)
        .env("DATABASE_MAX_CONNECTIONS", "16")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("SECRET_KEY", "inbound-bench-secret-key-0123456789")
        .env("RUST_LOG", "warn")
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("NOTIFY_WORKER", "false")
        .env("METRICS_ADDR", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        return Err("the server did not answer /healthz".into());
    }
    println!(
        "{engine}: {n} signed inbound webhooks per round, {CONNECTIONS} connections ({})",
        load_average()
    );
    for (label, from, body) in [
        (
            "unknown sender (stored only)",
            "whatsapp:+447911123456",
            "hello",
        ),
        (
            "HELP from a user (stored, window, reply queued)",
            "whatsapp:+12025550102",
            "HELP",
        ),
    ] {
        let (elapsed, lat) = round(&http, &base, n, from, body, label).await?;
        println!(
            "  {label}: {:.0} messages/s ({n} in {:.2} s; p50 {}, p99 {})",
            n as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.99))
        );
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().unwrap_or(0).to_string())
        .status()
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(10), server.wait()).await;
    Ok(())
}

/// Posts `n` webhooks from `from` with `body` on `CONNECTIONS` tasks; the time and latencies.
async fn round(
    http: &reqwest::Client,
    base: &str,
    n: usize,
    from: &str,
    body: &str,
    tag: &str,
) -> R<(Duration, Vec<Duration>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("{base}/api/webhooks/twilio/inbound/");
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (http, next, url) = (http.clone(), next.clone(), url.clone());
        let (from, body, salt) = (from.to_string(), body.to_string(), tag.len());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, String>(lat);
                }
                let params: Vec<(String, String)> = [
                    ("MessageSid", format!("SM{salt:02x}{i:030x}")),
                    ("AccountSid", SID.into()),
                    ("From", from.clone()),
                    ("To", "whatsapp:+14155238886".into()),
                    ("Body", body.clone()),
                    ("NumMedia", "0".into()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                let signature = twilio_signature(TOKEN, &url, &params);
                let form = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&params)
                    .finish();
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", signature)
                    .body(form)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !r.status().is_success() {
                    return Err(format!(
                        "HTTP {}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    ));
                }
                lat.push(t.elapsed());
            }
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed();
    all.sort();
    Ok((elapsed, all))
}
