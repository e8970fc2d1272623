//! The kill loop of issue 15: `incident serve` (the real binary, SQLite) is killed with SIGKILL
//! several times while tickets are created and their WhatsApp messages are in flight at a fake
//! Twilio answering in 50 ms; at the end every message is SENT and the fake holds no message
//! twice. Before the fix every send cut off by a kill was sent again when its lease ran out
//! (31 duplicates in 7 kills in the issue); now a row whose attempt recorded no outcome is
//! looked up at Twilio first. Prints the figures.

#[path = "api/twilio_fake.rs"]
#[allow(dead_code)]
mod twilio_fake;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use twilio_fake::TwilioFake;

const PASSWORD: &str = "kill-loop-password";
const KILLS: usize = 7;
const ADMINS: usize = 4;

fn command(dir: &std::path::Path, twilio: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_incident"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("kill.db").display()),
        )
        .env("SECRET_KEY", "kill-loop-signing-key-1234567890")
        .env("METRICS_ADDR", "off")
        .env("RUST_LOG", "warn")
        .env("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
        .env("TWILIO_AUTH_TOKEN", "kill-loop-token")
        .env("TWILIO_BASE_URL", twilio)
        .env("NOTIFY_LEASE", "2s")
        .env("NOTIFY_POLL_INTERVAL", "200ms")
        .env("NOTIFY_RATE_PER_SECOND", "0")
        .env("NOTIFY_MAX_CONCURRENCY", "8")
        // The client creates tickets as fast as it can.
        .env("TICKET_CREATE_RATE", "0");
    cmd
}

fn create_user(
    dir: &std::path::Path,
    twilio: &str,
    username: &str,
    role: &str,
    number: Option<&str>,
) {
    let mut cmd = command(dir, twilio);
    cmd.args([
        "create-user",
        "--username",
        username,
        "--role",
        role,
        "--password-stdin",
    ]);
    if let Some(n) = number {
        cmd.args(["--whatsapp-number", n]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("create-user");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "create-user {username}");
}

/// Starts `serve` on a free port; returns the child and its base URL.
fn serve(dir: &std::path::Path, twilio: &str) -> (Child, String) {
    let mut child = command(dir, twilio)
        .arg("serve")
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("serve exited").unwrap();
        if let Some(i) = line.find("listening on http://") {
            break line[i + "listening on ".len()..]
                .split(['"', ' '])
                .next()
                .unwrap()
                .to_string();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

async fn login(http: &reqwest::Client, base: &str, username: &str) -> String {
    let body: Value = http
        .post(format!("{base}/api/auth/login/"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access"].as_str().expect("access token").to_string()
}

/// Creates tickets for `for_how_long` (or until the server dies); returns how many were
/// created (answered 201).
async fn create_tickets(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    first: usize,
    for_how_long: Duration,
) -> usize {
    let start = Instant::now();
    let mut created = 0;
    while start.elapsed() < for_how_long {
        let n = first + created;
        let answer = http
            .post(format!("{base}/api/tickets/"))
            .bearer_auth(token)
            .json(
                &json!({"title": format!("Kill loop ticket {n}"), "description": "Cut off mid-send",
                "priority": "HIGH", "category": "BUG"}),
            )
            .send()
            .await;
        match answer {
            Ok(r) if r.status() == reqwest::StatusCode::CREATED => created += 1,
            _ => break,
        }
    }
    created
}

async fn whatsapp_count(http: &reqwest::Client, base: &str, token: &str, status: &str) -> i64 {
    let body: Value = http
        .get(format!(
            "{base}/api/notifications/?notification_type=WHATSAPP&status={status}"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["count"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_delivery_sends_no_message_twice() {
    let fake = TwilioFake {
        delay: Duration::from_millis(50),
        ..TwilioFake::default()
    };
    let server = fake.start().await;
    let twilio = server.uri();
    let dir = tempfile::tempdir().unwrap();
    for i in 0..ADMINS {
        let number = format!("+1202555{:04}", 200 + i);
        create_user(
            dir.path(),
            &twilio,
            &format!("admin{i}"),
            "ADMIN",
            Some(&number),
        );
    }
    create_user(dir.path(), &twilio, "client", "CLIENT", None);
    let http = reqwest::Client::new();

    let mut tickets = 0;
    for _ in 0..KILLS {
        let (mut child, base) = serve(dir.path(), &twilio);
        let token = login(&http, &base, "client").await;
        tickets += create_tickets(&http, &base, &token, tickets, Duration::from_millis(1500)).await;
        // Kill while the messages of the last tickets are in flight.
        child.kill().unwrap();
        child.wait().unwrap();
    }

    let (mut child, base) = serve(dir.path(), &twilio);
    let admin = login(&http, &base, "admin0").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while whatsapp_count(&http, &base, &admin, "PENDING").await > 0 {
        assert!(Instant::now() < deadline, "rows still PENDING after 120 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = whatsapp_count(&http, &base, &admin, "SENT").await;
    child.kill().unwrap();
    child.wait().unwrap();

    let held = fake.held.lock().unwrap().clone();
    let distinct: HashSet<(String, String)> = held
        .iter()
        .map(|m| (m.to.clone(), m.body.clone()))
        .collect();
    let duplicates = held.len() - distinct.len();
    println!(
        "kill loop: {KILLS} SIGKILLs, {tickets} tickets, {sent} rows SENT, {} messages at the fake, {duplicates} duplicates",
        held.len()
    );
    assert_eq!(sent as usize, tickets * ADMINS, "every message SENT");
    assert_eq!(
        distinct.len(),
        tickets * ADMINS,
        "every message reached the fake"
    );
    assert_eq!(duplicates, 0, "no message twice");
}
