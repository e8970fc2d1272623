//! Large values (attachments' bytes) read and written without extra copies, and without leaving
//! PostgreSQL connections holding buffers the size of the largest value they ever carried.
//!
//! A blob read is handed out as `Bytes` that own the driver's row: the bytes are not copied out
//! of it (decoding to `Vec<u8>` would hold a second copy of every file being sent). On PostgreSQL
//! a connection's read buffer grows to the largest message it reads and its write buffer to the
//! largest statement it sends, and sqlx keeps both at that size: a pool of 16 connections that
//! each once carried a 5 MiB file then holds 80-160 MB. So after a blob crosses a connection,
//! its buffers are shrunk before it goes back to the pool (`release_buffers`).

use bytes::Bytes;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};

use super::pool::Db;

/// A row whose first column is a blob, as the driver read it.
enum BlobRow {
    Postgres(PgRow),
    Sqlite(SqliteRow),
}

impl BlobRow {
    fn bytes(&self) -> Result<&[u8], sqlx::Error> {
        match self {
            BlobRow::Postgres(r) => r.try_get(0),
            BlobRow::Sqlite(r) => r.try_get(0),
        }
    }
}

impl AsRef<[u8]> for BlobRow {
    fn as_ref(&self) -> &[u8] {
        // Checked when the row was read (`fetch_blob`), so this never falls back.
        self.bytes().unwrap_or_default()
    }
}

/// The blob in the first column of the row `sql` finds with `$1 = a` and `$2 = b`, or `None`.
pub async fn fetch_blob(
    db: &Db,
    sql: &'static str,
    a: i64,
    b: i64,
) -> Result<Option<Bytes>, sqlx::Error> {
    let row = match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let row = sqlx::query(sql)
                .bind(a)
                .bind(b)
                .fetch_optional(&mut *conn)
                .await;
            release_buffers(&mut conn).await;
            row?.map(BlobRow::Postgres)
        }
        Db::Sqlite(pool, _) => sqlx::query(sql)
            .bind(a)
            .bind(b)
            .fetch_optional(pool)
            .await?
            .map(BlobRow::Sqlite),
    };
    let Some(row) = row else {
        return Ok(None);
    };
    // A column that is not a blob fails here, not as an empty file later.
    row.bytes()?;
    Ok(Some(Bytes::from_owner(row)))
}

/// Gives back the buffers of a PostgreSQL connection that has just carried a large value. The
/// write buffer is shrunk at once; the read buffer's last message still points into the large
/// allocation, so a round trip (`ping`: a Sync, also inside a transaction) reads the next one
/// into the small buffer and lets the large one go.
pub async fn release_buffers(conn: &mut PgConnection) {
    conn.shrink_buffers();
    if let Err(e) = conn.ping().await {
        // The statement itself succeeded; a broken connection is found by its next user.
        tracing::debug!(error = %e, "ping after a large value failed");
    }
}
