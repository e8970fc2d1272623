//! The target side of `incident import-django`: is the database empty or a previous import,
//! multi-row INSERTs of each table inside the one import transaction (ids as the original had
//! them), the identity sequences moved past them, and the record of the import.

use chrono::{DateTime, Utc};

use super::pool::{on_db, on_tx, Db, DbError, Tx};

/// Rows per INSERT statement: 1,000 rows of the widest table (18 columns) stay far below either
/// engine's limit on parameters (SQLite 32,766; PostgreSQL 65,535).
pub const BATCH_ROWS: usize = 1000;

/// What the target holds before an import.
#[derive(Debug, Default)]
pub struct TargetState {
    /// (table, rows) of every table that is not empty.
    pub non_empty: Vec<(&'static str, i64)>,
    /// The fingerprints of earlier imports, with their times.
    pub imports: Vec<(String, DateTime<Utc>)>,
}

/// The tables an import fills, in the order it fills them.
pub const TARGET_TABLES: &[&str] = &[
    "users",
    "user_profiles",
    "tickets",
    "ticket_assignees",
    "ticket_history",
    "ticket_attachments",
    "notification_log",
    "outstanding_tokens",
    "blacklisted_tokens",
];

pub async fn target_state(db: &Db) -> Result<TargetState, DbError> {
    let mut state = TargetState::default();
    for table in TARGET_TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = on_db!(db, p => sqlx::query_scalar(&sql).fetch_one(p).await)?;
        if n > 0 {
            state.non_empty.push((table, n));
        }
    }
    const IMPORTS: &str = "SELECT fingerprint, imported_at FROM django_imports ORDER BY id";
    state.imports = on_db!(db, p => sqlx::query_as(IMPORTS).fetch_all(p).await)?;
    Ok(state)
}

pub struct User {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub date_joined: DateTime<Utc>,
}

pub struct Profile {
    pub id: i64,
    pub user_id: i64,
    pub role: &'static str,
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    pub department: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct Ticket {
    pub id: i64,
    pub project_name: String,
    pub title: String,
    pub description: String,
    pub priority: &'static str,
    pub category: &'static str,
    pub status: &'static str,
    pub created_by_id: i64,
    pub assigned_team: Option<String>,
    pub response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub response_breached: bool,
    pub resolution_breached: bool,
    pub estimated_resolution_time: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

pub struct Assignee {
    pub ticket_id: i64,
    pub user_id: i64,
}

pub struct History {
    pub id: i64,
    pub ticket_id: i64,
    pub changed_by_id: i64,
    pub status_from: Option<String>,
    pub status_to: String,
    pub comment: Option<String>,
    pub timestamp: DateTime<Utc>,
}

pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub uploaded_by_id: i64,
    pub data: Vec<u8>,
    pub filename: String,
    pub content_type: String,
    pub uploaded_at: DateTime<Utc>,
}

/// A notification row of the original: history, never delivered again. Its `provider` is
/// `django` (the server that sent it), and it has no `next_attempt_at`, so the worker never
/// claims it and "retry failed" leaves it alone.
pub struct Notification {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub recipient_id: i64,
    pub notification_type: &'static str,
    pub subject: String,
    pub message: String,
    pub status: &'static str,
    pub error_message: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub is_read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The `provider` of notification rows that the Django version sent.
pub const IMPORTED_PROVIDER: &str = "django";

pub struct OutstandingToken {
    pub id: i64,
    pub user_id: Option<i64>,
    pub jti: String,
    pub created_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

pub struct BlacklistedToken {
    pub id: i64,
    pub token_id: i64,
    pub blacklisted_at: DateTime<Utc>,
}

/// One multi-row INSERT of `$rows` into `$head` (the statement up to `VALUES`), binding each
/// row's fields with `$bind`, on whichever transaction this is.
macro_rules! insert_rows {
    ($tx:expr, $head:expr, $rows:expr, |$b:ident, $r:ident| $bind:expr) => {{
        if $rows.is_empty() {
            return Ok(());
        }
        on_tx!($tx, c => {
            let mut q = sqlx::QueryBuilder::new($head);
            q.push_values($rows, |mut $b, $r| {
                $bind;
            });
            q.build().execute(&mut *c).await?;
        });
        Ok(())
    }};
}

pub async fn insert_users(tx: &mut Tx, rows: &[User]) -> Result<(), DbError> {
    insert_rows!(tx, "INSERT INTO users (id, username, password, email, first_name, last_name, is_active, last_login, date_joined) ",
        rows, |b, r| b.push_bind(r.id).push_bind(&r.username).push_bind(&r.password).push_bind(&r.email)
            .push_bind(&r.first_name).push_bind(&r.last_name).push_bind(r.is_active).push_bind(r.last_login)
            .push_bind(r.date_joined))
}

pub async fn insert_profiles(tx: &mut Tx, rows: &[Profile]) -> Result<(), DbError> {
    insert_rows!(tx, "INSERT INTO user_profiles (id, user_id, role, phone_number, whatsapp_number, department, created_at, updated_at) ",
        rows, |b, r| b.push_bind(r.id).push_bind(r.user_id).push_bind(r.role).push_bind(&r.phone_number)
            .push_bind(&r.whatsapp_number).push_bind(&r.department).push_bind(r.created_at).push_bind(r.updated_at))
}

pub async fn insert_tickets(tx: &mut Tx, rows: &[Ticket]) -> Result<(), DbError> {
    insert_rows!(tx, "INSERT INTO tickets (id, project_name, title, description, priority, category, status, created_by_id, \
                      assigned_team, response_due_at, resolution_due_at, response_breached, resolution_breached, \
                      estimated_resolution_time, created_at, updated_at, opened_at, started_at, resolved_at, closed_at) ",
        rows, |b, r| b.push_bind(r.id).push_bind(&r.project_name).push_bind(&r.title).push_bind(&r.description)
            .push_bind(r.priority).push_bind(r.category).push_bind(r.status).push_bind(r.created_by_id)
            .push_bind(&r.assigned_team).push_bind(r.response_due_at).push_bind(r.resolution_due_at)
            .push_bind(r.response_breached).push_bind(r.resolution_breached).push_bind(r.estimated_resolution_time)
            .push_bind(r.created_at).push_bind(r.updated_at).push_bind(r.opened_at).push_bind(r.started_at)
            .push_bind(r.resolved_at).push_bind(r.closed_at))
}

pub async fn insert_assignees(tx: &mut Tx, rows: &[Assignee]) -> Result<(), DbError> {
    insert_rows!(
        tx,
        "INSERT INTO ticket_assignees (ticket_id, user_id) ",
        rows,
        |b, r| b.push_bind(r.ticket_id).push_bind(r.user_id)
    )
}

pub async fn insert_history(tx: &mut Tx, rows: &[History]) -> Result<(), DbError> {
    insert_rows!(tx, "INSERT INTO ticket_history (id, ticket_id, changed_by_id, status_from, status_to, comment, timestamp) ",
        rows, |b, r| b.push_bind(r.id).push_bind(r.ticket_id).push_bind(r.changed_by_id).push_bind(&r.status_from)
            .push_bind(&r.status_to).push_bind(&r.comment).push_bind(r.timestamp))
}

pub async fn insert_attachments(tx: &mut Tx, rows: &[Attachment]) -> Result<(), DbError> {
    insert_rows!(tx, "INSERT INTO ticket_attachments (id, ticket_id, uploaded_by_id, file_data, filename, content_type, size, uploaded_at) ",
        rows, |b, r| b.push_bind(r.id).push_bind(r.ticket_id).push_bind(r.uploaded_by_id).push_bind(&r.data)
            .push_bind(&r.filename).push_bind(&r.content_type).push_bind(r.data.len() as i64).push_bind(r.uploaded_at))
}

pub async fn insert_notifications(tx: &mut Tx, rows: &[Notification]) -> Result<(), DbError> {
    insert_rows!(tx, "INSERT INTO notification_log (id, ticket_id, recipient_id, notification_type, subject, message, status, \
                      error_message, sent_at, created_at, is_read, read_at, provider, attempts, updated_at) ",
        rows, |b, r| b.push_bind(r.id).push_bind(r.ticket_id).push_bind(r.recipient_id).push_bind(r.notification_type)
            .push_bind(&r.subject).push_bind(&r.message).push_bind(r.status).push_bind(&r.error_message)
            .push_bind(r.sent_at).push_bind(r.created_at).push_bind(r.is_read).push_bind(r.read_at)
            .push_bind(IMPORTED_PROVIDER).push_bind(0_i32).push_bind(r.updated_at))
}

pub async fn insert_outstanding_tokens(
    tx: &mut Tx,
    rows: &[OutstandingToken],
) -> Result<(), DbError> {
    insert_rows!(
        tx,
        "INSERT INTO outstanding_tokens (id, user_id, jti, created_at, expires_at) ",
        rows,
        |b, r| b
            .push_bind(r.id)
            .push_bind(r.user_id)
            .push_bind(&r.jti)
            .push_bind(r.created_at)
            .push_bind(r.expires_at)
    )
}

pub async fn insert_blacklisted_tokens(
    tx: &mut Tx,
    rows: &[BlacklistedToken],
) -> Result<(), DbError> {
    insert_rows!(
        tx,
        "INSERT INTO blacklisted_tokens (id, token_id, blacklisted_at) ",
        rows,
        |b, r| b
            .push_bind(r.id)
            .push_bind(r.token_id)
            .push_bind(r.blacklisted_at)
    )
}

/// A secondary index of the import's tables: (name, its `CREATE INDEX` statement).
pub type IndexDefinition = (String, String);

/// Drops the secondary indexes of the tables an import fills, in its transaction, and returns
/// their definitions for `rebuild_indexes`: building an index once from sorted rows is far
/// cheaper than updating it row by row (a million notification rows with seven indexes went
/// from 15,000 to over 50,000 rows/s). Primary keys and UNIQUE constraints stay: they check the
/// rows as they come.
pub async fn drop_secondary_indexes(tx: &mut Tx) -> Result<Vec<IndexDefinition>, DbError> {
    let tables = TARGET_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let indexes: Vec<IndexDefinition> = match tx {
        Tx::Postgres(t) => {
            let sql = format!(
                "SELECT CAST(i.relname AS TEXT), pg_get_indexdef(x.indexrelid) FROM pg_index x \
                 JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class r ON r.oid = x.indrelid \
                 JOIN pg_namespace n ON n.oid = r.relnamespace \
                 WHERE n.nspname = current_schema() AND r.relname IN ({tables}) \
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1"
            );
            sqlx::query_as(&sql).fetch_all(&mut **t).await?
        }
        Tx::Sqlite(t) => {
            let sql = format!(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                 AND tbl_name IN ({tables}) ORDER BY name"
            );
            sqlx::query_as(&sql).fetch_all(&mut **t).await?
        }
    };
    for (name, _) in &indexes {
        let sql = format!("DROP INDEX \"{name}\"");
        on_tx!(tx, c => sqlx::query(&sql).execute(&mut *c).await.map(|_| ()))?;
    }
    Ok(indexes)
}

/// A foreign key of the import's tables on PostgreSQL: (table, name, definition).
pub type ForeignKey = (String, String, String);

/// On PostgreSQL, drops the foreign keys of the tables an import fills, in its transaction, for
/// `restore_foreign_keys`: checking each one once over the loaded tables is far cheaper than a
/// trigger per row (the import has checked every reference in the source before writing). On
/// SQLite it does nothing: its foreign keys are part of the table and cost little.
pub async fn drop_foreign_keys(tx: &mut Tx) -> Result<Vec<ForeignKey>, DbError> {
    let Tx::Postgres(t) = tx else {
        return Ok(Vec::new());
    };
    let tables = TARGET_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT CAST(r.relname AS TEXT), CAST(c.conname AS TEXT), pg_get_constraintdef(c.oid) FROM pg_constraint c \
         JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = current_schema() AND r.relname IN ({tables}) ORDER BY 1, 2"
    );
    let keys: Vec<ForeignKey> = sqlx::query_as(&sql).fetch_all(&mut **t).await?;
    for (table, name, _) in &keys {
        let sql = format!("ALTER TABLE \"{table}\" DROP CONSTRAINT \"{name}\"");
        sqlx::query(&sql).execute(&mut **t).await?;
    }
    Ok(keys)
}

/// Adds back (and so checks, once) a foreign key `drop_foreign_keys` dropped.
pub async fn restore_foreign_key(tx: &mut Tx, key: &ForeignKey) -> Result<(), DbError> {
    let (table, name, definition) = key;
    let sql = format!("ALTER TABLE \"{table}\" ADD CONSTRAINT \"{name}\" {definition}");
    on_tx!(tx, c => sqlx::query(&sql).execute(&mut *c).await.map(|_| ()))
}

/// Builds again the indexes `drop_secondary_indexes` dropped, in the same transaction.
pub async fn rebuild_index(tx: &mut Tx, index: &IndexDefinition) -> Result<(), DbError> {
    on_tx!(tx, c => sqlx::query(&index.1).execute(&mut *c).await.map(|_| ()))
}

/// Moves every identity sequence past the highest imported id, so the next row created through
/// the API gets a fresh id. SQLite's AUTOINCREMENT already keeps the highest id ever inserted
/// (`sqlite_sequence`), explicit ones included; PostgreSQL's identity sequences do not.
pub async fn continue_sequences(tx: &mut Tx) -> Result<(), DbError> {
    let Tx::Postgres(t) = tx else {
        return Ok(());
    };
    for table in TARGET_TABLES.iter().filter(|t| **t != "ticket_assignees") {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        );
        sqlx::query(&sql).execute(&mut **t).await?;
    }
    Ok(())
}

/// Records a finished import, in its transaction.
pub async fn record(
    tx: &mut Tx,
    fingerprint: &str,
    source: &str,
    rows: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO django_imports (fingerprint, source, rows_imported, imported_at) VALUES ($1, $2, $3, $4)";
    on_tx!(tx, c => sqlx::query(SQL).bind(fingerprint).bind(source).bind(rows).bind(now).execute(&mut *c).await.map(|_| ()))?;
    Ok(())
}
