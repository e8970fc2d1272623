//! The connection to either database: `Db` (chosen at run time), write transactions and the
//! SQLite writer turn, and the macros that run one query text on whichever driver this is.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// The error of every storage call; callers above `db/` name it, never the driver.
pub type DbError = sqlx::Error;

/// Reads go through `on_db!`; every write goes through `Db::begin` (a transaction) or
/// `Db::write` (one statement, with `on_write!`), which on SQLite take this process's writer
/// turn. On SQLite that is enforced: the pool `on_db!` hands out is read-only
/// (`PRAGMA query_only`), so a write that skips the helpers fails on its first run.
#[derive(Clone, Debug)]
pub enum Db {
    Postgres(PgPool),
    /// The read-only pool, and the writer (see `SqliteWriter`).
    Sqlite(SqlitePool, Arc<SqliteWriter>),
}

/// SQLite's write side: one connection, reached only through the turn. SQLite has one writer per
/// database: writers waiting on its busy handler poll with sleeps of up to 100 ms and may lose
/// again and again (a step waited seconds with 32 at once), so this process's writers queue
/// first come, first served on a lock instead, and SQLite's lock is free when a turn begins.
#[derive(Debug)]
pub struct SqliteWriter {
    pool: SqlitePool,
    turn: Arc<tokio::sync::Mutex<()>>,
    limits: Arc<SqliteLimits>,
}

/// What stops a running SQLite statement: SQLite has no `statement_timeout`, so every connection
/// runs a progress handler (every `PROGRESS_STEPS` virtual machine steps) that interrupts the
/// statement once the time limit of its turn has passed, counted from when the connection was
/// handed out, or at once when the database is being closed (`Db::close`). A query whose
/// request timed out or went away (its future dropped, which leaves sqlx's worker thread
/// running it) stops at the latest at the limit, and shutdown does not wait for it.
#[derive(Debug, Default)]
struct SqliteLimits {
    statement_timeout: Option<Duration>,
    closing: AtomicBool,
}

/// Virtual machine steps between two checks of the limit: about a tenth of a millisecond.
const PROGRESS_STEPS: i32 = 10_000;

impl SqliteLimits {
    /// Starts the clock of this connection's turn: installs a handler with a new deadline.
    async fn arm(self: Arc<Self>, conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
        let deadline = self.statement_timeout.map(|t| Instant::now() + t);
        let limits = self;
        conn.lock_handle()
            .await?
            .set_progress_handler(PROGRESS_STEPS, move || {
                !limits.closing.load(Ordering::Relaxed)
                    && deadline.is_none_or(|d| Instant::now() < d)
            });
        Ok(())
    }

    /// Pool options whose connections are armed when opened and each time they are handed out.
    fn pool_options(self: &Arc<Self>, max_connections: u32) -> SqlitePoolOptions {
        let (on_connect, on_acquire) = (self.clone(), self.clone());
        SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .after_connect(move |c, _| -> BoxFuture<'_, Result<(), sqlx::Error>> {
                Box::pin(on_connect.clone().arm(c))
            })
            .before_acquire(move |c, _| -> BoxFuture<'_, Result<bool, sqlx::Error>> {
                let limits = on_acquire.clone();
                Box::pin(async move { limits.arm(c).await.map(|_| true) })
            })
    }
}

/// The right to run single write statements (see `Db::write`); on SQLite it holds the turn.
pub enum Writer<'a> {
    Postgres(&'a PgPool),
    Sqlite(&'a SqlitePool, tokio::sync::OwnedMutexGuard<()>),
}

/// A row of a paginated listing, which carries the listing's total (`COUNT(*) OVER ()`).
pub trait PageRow {
    fn total_count(&self) -> i64;
}

/// A write transaction on either database.
pub enum Tx {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(SqliteTx),
}

/// A SQLite write transaction, holding this process's writer turn (see `SqliteWriter`).
pub struct SqliteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl std::ops::Deref for SqliteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Runs the same body against whichever pool this is; each arm is type-checked for its driver.
/// For reads only: on SQLite this pool refuses writes (see `Db`).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite($pool, _) => $body,
        }
    };
}

/// Runs the same body (single write statements) against the pool of a `Writer` (`Db::write`).
#[macro_export]
macro_rules! on_write {
    ($writer:expr, $pool:ident => $body:expr) => {
        match $writer {
            $crate::db::Writer::Postgres($pool) => $body,
            $crate::db::Writer::Sqlite($pool, _turn) => $body,
        }
    };
}

/// Runs the same body against the connection of whichever transaction this is.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

pub use crate::{bind_args, on_db, on_tx, on_write};

/// A bind value of a query assembled at run time (filters, `IN` lists).
#[derive(Debug, Clone)]
pub enum Arg {
    I64(i64),
    Text(String),
    Time(chrono::DateTime<chrono::Utc>),
}

/// Binds `args` in order on either driver's query.
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                $crate::db::Arg::I64(v) => q.bind(*v),
                $crate::db::Arg::Text(s) => q.bind(s.clone()),
                $crate::db::Arg::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

/// `$1, $2, ... $n`.
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// Connects to `DATABASE_URL` with no time limit on statements; a SQLite file is created
    /// when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
        Db::connect_limited(url, max_connections, None).await
    }

    /// `connect`, where no statement runs longer than `statement_timeout`: PostgreSQL's
    /// `statement_timeout` on every connection, an interrupt on SQLite (see `SqliteLimits`).
    pub async fn connect_limited(
        url: &str,
        max_connections: u32,
        statement_timeout: Option<Duration>,
    ) -> Result<Db, sqlx::Error> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let limits = Arc::new(SqliteLimits {
                statement_timeout,
                closing: AtomicBool::new(false),
            });
            // The writer first: it creates the file and switches it to WAL.
            let writer = limits
                .pool_options(1)
                .min_connections(1)
                .connect_with(opts.clone())
                .await?;
            // Statistics for the planner, kept current at the cost SQLite recommends on open.
            sqlx::query("PRAGMA optimize = 0x10002")
                .execute(&writer)
                .await?;
            let read = limits
                .pool_options(max_connections)
                .min_connections(1)
                .connect_with(opts.pragma("query_only", "ON"))
                .await?;
            let writer = SqliteWriter {
                pool: writer,
                turn: Arc::default(),
                limits,
            };
            Ok(Db::Sqlite(read, Arc::new(writer)))
        } else {
            let mut opts = PgConnectOptions::from_str(url)?;
            if let Some(limit) = statement_timeout {
                opts = opts.options([("statement_timeout", format!("{}ms", limit.as_millis()))]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        }
    }

    /// A `Db` on the same database with pools of its own (`max_connections` for reads, and on
    /// PostgreSQL for writes too; SQLite's writer and its turn stay shared): the delivery
    /// worker's, so requests holding every connection of the main pool cannot starve it.
    pub fn dedicated(&self, max_connections: u32) -> Db {
        match self {
            Db::Postgres(p) => Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy_with((*p.connect_options()).clone()),
            ),
            Db::Sqlite(read, w) => Db::Sqlite(
                w.limits
                    .pool_options(max_connections)
                    .connect_lazy_with((*read.connect_options()).clone()),
                w.clone(),
            ),
        }
    }

    /// Keeps SQLite's planner statistics current (`PRAGMA optimize`, which analyzes only what
    /// changed enough and is cheap otherwise); run periodically by `app`. PostgreSQL's
    /// autovacuum does this itself.
    pub async fn optimize(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Postgres(_) => Ok(()),
            Db::Sqlite(..) => {
                on_write!(self.write().await, p => sqlx::query("PRAGMA optimize").execute(p).await.map(|_| ()))
            }
        }
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(..) => "sqlite",
        }
    }

    /// Applies the migrations of this engine (embedded in the binary at build time), without
    /// the statement time limit: building an index on a populated table takes longer.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Postgres(p) => {
                let mut conn = p.acquire().await?;
                sqlx::query("SET statement_timeout = 0")
                    .execute(&mut *conn)
                    .await?;
                let migrated = sqlx::migrate!("./migrations/postgres")
                    .run(&mut *conn)
                    .await;
                sqlx::query("RESET statement_timeout")
                    .execute(&mut *conn)
                    .await?;
                migrated
            }
            Db::Sqlite(_, w) => {
                let _turn = w.turn.clone().lock_owned().await;
                let mut conn = w.pool.acquire().await?;
                conn.lock_handle().await?.remove_progress_handler();
                sqlx::migrate!("./migrations/sqlite").run(&mut *conn).await
            }
        }
    }

    /// True when every embedded migration has been applied.
    pub async fn migrations_applied(&self) -> Result<bool, sqlx::Error> {
        let expected = match self {
            Db::Postgres(_) => sqlx::migrate!("./migrations/postgres").migrations.len(),
            Db::Sqlite(..) => sqlx::migrate!("./migrations/sqlite").migrations.len(),
        } as i64;
        let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        let n: i64 = on_db!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?);
        Ok(n >= expected)
    }

    /// Begins a write transaction. On SQLite it waits for this process's writer turn, then
    /// takes the write lock at once (`BEGIN IMMEDIATE`), so a writer of another process makes it
    /// wait on the busy timeout instead of failing on a lock upgrade.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
            Db::Sqlite(_, w) => {
                let turn = w.turn.clone().lock_owned().await;
                Tx::Sqlite(SqliteTx {
                    tx: w.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: turn,
                })
            }
        })
    }

    /// For single write statements outside a transaction (`on_write!`): on SQLite it waits for
    /// this process's writer turn; on PostgreSQL it costs nothing (no round trip).
    pub async fn write(&self) -> Writer<'_> {
        match self {
            Db::Postgres(p) => Writer::Postgres(p),
            Db::Sqlite(_, w) => Writer::Sqlite(&w.pool, w.turn.clone().lock_owned().await),
        }
    }

    /// The plan of `sql` with `args` bound (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on
    /// PostgreSQL), one line per step: tests and the benchmark check which indexes a query
    /// reads.
    pub async fn explain(&self, sql: &str, args: &[Arg]) -> Result<Vec<String>, sqlx::Error> {
        match self {
            Db::Postgres(p) => {
                let explain = format!("EXPLAIN {sql}");
                bind_args!(sqlx::query_scalar(&explain), args)
                    .fetch_all(p)
                    .await
            }
            Db::Sqlite(p, _) => {
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let rows: Vec<(i64, i64, i64, String)> = bind_args!(sqlx::query_as(&explain), args)
                    .fetch_all(p)
                    .await?;
                Ok(rows.into_iter().map(|r| r.3).collect())
            }
        }
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))
    }

    /// Closes the pools; on SQLite the statements still running (abandoned by their requests)
    /// are interrupted first, so closing does not wait for them.
    pub async fn close(&self) {
        match self {
            Db::Postgres(p) => p.close().await,
            Db::Sqlite(read, w) => {
                w.limits.closing.store(true, Ordering::Relaxed);
                read.close().await;
                w.pool.close().await;
            }
        }
    }

    /// (connections in use, idle connections, maximum) for metrics.
    pub fn pool_usage(&self) -> (u32, u32, u32) {
        on_db!(self, p => {
            let size = p.size();
            let idle = p.num_idle() as u32;
            (size.saturating_sub(idle), idle, p.options().get_max_connections())
        })
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.tx.commit().await,
        }
    }
}

/// True when the error is a unique-constraint violation (on either engine).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The write-turn rule holds by construction: on SQLite the pool `on_db!` hands out cannot
    /// write, so a write that skips `Db::write` / `Db::begin` fails on its first run.
    #[tokio::test]
    async fn sqlite_writes_only_pass_through_the_writer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 2).await.expect("connect");
        db.migrate().await.expect("migrate");
        const SQL: &str = "UPDATE users SET is_active = TRUE WHERE id = 0";
        let read = on_db!(&db, p => sqlx::query(SQL).execute(p).await.map(|_| ()));
        let refused = read.expect_err("a write through the read pool must fail");
        assert!(refused.to_string().contains("readonly"), "{refused}");
        let written =
            on_write!(db.write().await, p => sqlx::query(SQL).execute(p).await.map(|_| ()));
        assert!(written.is_ok(), "{written:?}");
        let mut tx = db.begin().await.expect("begin");
        on_tx!(&mut tx, c => sqlx::query(SQL).execute(&mut *c).await.map(|_| ()))
            .expect("in a transaction");
        tx.commit().await.expect("commit");
        let n: i64 =
            on_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)
                .expect("reads work");
        assert_eq!(n, 0);
    }
}
