//! The worker's claim on a big notification log (issue 11): how long one
//! `db::notifications::claim_due` takes, the call the delivery worker makes. It prints figures; it
//! is not a test.
//!
//! ```sh
//! cargo build --release --bench claim
//! $CARGO_TARGET_DIR/release/deps/claim-* --bench <DATABASE_URL> [due rows]   # default 5000
//! ```
//!
//! `bench/scale.sh` runs it on the database it filled (1M/10M rows at `full`) once the server has
//! stopped; it works on any migrated database with users 4 to 50 (the fill's). It adds `due rows`
//! PENDING WhatsApp rows, due a minute ago, to the log, then claims them in batches of
//! `BENCH_CLAIM_BATCH` (32, the worker's default: `NOTIFY_MAX_CONCURRENCY`) until none is left,
//! timing each `claim_due` alone. After each claim the batch is marked sent (`mark_sent`, as the
//! worker does once the provider answers; not timed), so each claim finds the rows still due, as
//! a busy worker does. Printed: the claim's plan (`claim_plan`), the number of claims, p50, p99
//! and max per claim. Target (issue 11): under 5 ms per claim of a batch at 10M log rows.

use std::time::{Duration, Instant};

use chrono::Utc;
use incident::db::{notifications, Db};
use sqlx::Connection;

#[path = "common.rs"]
mod common;
use common::*;

type R<T> = Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs this without `--bench`: it has no database to work on.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let args: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(url) = args.first() else {
        eprintln!("usage: claim --bench <DATABASE_URL> [due rows]");
        std::process::exit(2);
    };
    let due = args.get(1).map_or(Ok(5000), |n| {
        n.parse::<usize>()
            .map_err(|_| format!("{n:?} is not a number of rows"))
    });
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = due.and_then(|due| rt.block_on(run(url, due)));
    if let Err(e) = result {
        eprintln!("claim bench failed: {e}");
        std::process::exit(1);
    }
}

/// Adds `due` PENDING WhatsApp rows, due a minute ago, to recipients 4 to 50.
async fn enqueue(url: &str, due: usize) -> R<()> {
    let due_at = Utc::now() - chrono::Duration::minutes(1);
    let select = "SELECT 4 + (x % 47), 'WHATSAPP', 'bench', 'Ticket moved on', 'PENDING', $1, $1, 'bench_claim', x, 0, $1 FROM series";
    let insert =
        "INSERT INTO notification_log (recipient_id, notification_type, subject, message, status, \
                  created_at, updated_at, event, step, attempts, next_attempt_at) ";
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        let sql = format!(
            "WITH RECURSIVE series(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM series WHERE x < $2) {insert}{select}"
        );
        sqlx::query(&sql)
            .bind(due_at)
            .bind(due as i64)
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
    } else {
        let mut c = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        let sql = format!("WITH series AS (SELECT generate_series(1, $2) AS x) {insert}{select}");
        sqlx::query(&sql)
            .bind(due_at)
            .bind(due as i64)
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn run(url: &str, due: usize) -> R<()> {
    let batch = env_usize("BENCH_CLAIM_BATCH", 32)? as i64;
    let db = Db::connect(url, 4).await.map_err(|e| e.to_string())?;
    enqueue(url, due).await?;
    let plan = notifications::claim_plan(&db, Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    println!("claim plan ({}):", db.engine());
    for line in &plan {
        println!("    {line}");
    }
    let mut took = Vec::new();
    let mut claimed = 0;
    loop {
        let now = Utc::now();
        let started = Instant::now();
        let rows = notifications::claim_due(&db, now, now + chrono::Duration::seconds(60), batch)
            .await
            .map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        if rows.is_empty() {
            break;
        }
        took.push(elapsed);
        claimed += rows.len();
        for row in rows {
            notifications::mark_sent(&db, row.id, "bench", "SMbench", None, None, Utc::now())
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    if claimed != due {
        return Err(format!("claimed {claimed} rows of {due}"));
    }
    took.sort();
    let p = |q| ms(percentile(&took, q));
    println!(
        "{:<58} {:>10} {:>10} {:>10}   ({} claims of up to {batch}; load {})",
        format!("worker claim_due, batch {batch} ({})", db.engine()),
        p(0.5),
        p(0.99),
        ms(*took.last().unwrap_or(&Duration::ZERO)),
        took.len(),
        load_average()
    );
    Ok(())
}
