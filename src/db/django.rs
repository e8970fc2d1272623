//! The Django original's database, read for `incident import-django`: opened read-only (SQLite
//! `mode=ro`; PostgreSQL `default_transaction_read_only`), its schema checked, its rows streamed
//! in id order. Every query is written once for both engines: ids are cast to BIGINT (Django's
//! PostgreSQL ids are INTEGER) and date-times read as text (SQLite holds them as naive text
//! with microseconds; PostgreSQL's text of a `timestamptz` in the session zone UTC), which the
//! caller parses.

use std::str::FromStr;

use futures::stream::BoxStream;
use futures::StreamExt;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, FromRow, PgPool, SqlitePool};

use super::pool::DbError;

/// The tables `import-django` reads and the columns it needs, as the original's migrations
/// 0001-0004 leave them (`shared/spec/django-schema.sql`).
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "auth_user",
        &[
            "id",
            "password",
            "last_login",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "date_joined",
        ],
    ),
    (
        "core_userprofile",
        &[
            "id",
            "user_id",
            "role",
            "phone_number",
            "whatsapp_number",
            "department",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "core_ticket",
        &[
            "id",
            "project_name",
            "title",
            "description",
            "priority",
            "category",
            "status",
            "created_by_id",
            "assigned_team",
            "response_due_at",
            "resolution_due_at",
            "response_breached",
            "resolution_breached",
            "estimated_resolution_time",
            "created_at",
            "updated_at",
            "opened_at",
            "started_at",
            "resolved_at",
            "closed_at",
        ],
    ),
    ("core_ticket_assigned_to", &["id", "ticket_id", "user_id"]),
    (
        "core_tickethistory",
        &[
            "id",
            "ticket_id",
            "changed_by_id",
            "status_from",
            "status_to",
            "comment",
            "timestamp",
        ],
    ),
    (
        "core_ticketattachment",
        &[
            "id",
            "ticket_id",
            "uploaded_by_id",
            "file_data",
            "uploaded_at",
        ],
    ),
    (
        "core_notificationlog",
        &[
            "id",
            "notification_type",
            "subject",
            "message",
            "status",
            "error_message",
            "sent_at",
            "created_at",
            "recipient_id",
            "ticket_id",
            "is_read",
            "read_at",
        ],
    ),
    (
        "token_blacklist_outstandingtoken",
        &["id", "user_id", "jti", "created_at", "expires_at"],
    ),
    (
        "token_blacklist_blacklistedtoken",
        &["id", "token_id", "blacklisted_at"],
    ),
];

/// Every foreign key the import relies on: (table, column, referenced table).
pub const FOREIGN_KEYS: &[(&str, &str, &str)] = &[
    ("core_userprofile", "user_id", "auth_user"),
    ("core_ticket", "created_by_id", "auth_user"),
    ("core_ticket_assigned_to", "ticket_id", "core_ticket"),
    ("core_ticket_assigned_to", "user_id", "auth_user"),
    ("core_tickethistory", "ticket_id", "core_ticket"),
    ("core_tickethistory", "changed_by_id", "auth_user"),
    ("core_ticketattachment", "ticket_id", "core_ticket"),
    ("core_ticketattachment", "uploaded_by_id", "auth_user"),
    ("core_notificationlog", "recipient_id", "auth_user"),
    ("core_notificationlog", "ticket_id", "core_ticket"),
    ("token_blacklist_outstandingtoken", "user_id", "auth_user"),
    (
        "token_blacklist_blacklistedtoken",
        "token_id",
        "token_blacklist_outstandingtoken",
    ),
];

/// The Django database, opened read-only.
pub enum Source {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// `--from`: a `postgres://` URL, a `sqlite:` URL or a file path.
pub async fn open(from: &str) -> Result<Source, DbError> {
    if from.starts_with("postgres://") || from.starts_with("postgresql://") {
        let opts = PgConnectOptions::from_str(from)?
            .options([("default_transaction_read_only", "on"), ("TimeZone", "UTC")]);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        return Ok(Source::Postgres(pool));
    }
    let opts = if from.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(from)?
    } else {
        SqliteConnectOptions::new().filename(from)
    };
    let opts = opts
        .read_only(true)
        .create_if_missing(false)
        .disable_statement_logging();
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(opts)
        .await?;
    // Opening is lazy about the file's content: read its header now.
    sqlx::query("SELECT COUNT(*) FROM sqlite_master")
        .execute(&pool)
        .await?;
    Ok(Source::Sqlite(pool))
}

macro_rules! on_source {
    ($src:expr, $pool:ident => $body:expr) => {
        match $src {
            Source::Postgres($pool) => $body,
            Source::Sqlite($pool) => $body,
        }
    };
}

/// Streams `sql`'s rows as `T` from either engine.
fn stream<'a, T>(src: &'a Source, sql: &'static str) -> BoxStream<'a, Result<T, DbError>>
where
    T: Send + Unpin + 'a,
    T: for<'r> FromRow<'r, sqlx::postgres::PgRow> + for<'r> FromRow<'r, sqlx::sqlite::SqliteRow>,
{
    on_source!(src, p => sqlx::query_as::<_, T>(sql).fetch(p).boxed())
}

impl Source {
    pub fn engine(&self) -> &'static str {
        match self {
            Source::Postgres(_) => "postgres",
            Source::Sqlite(_) => "sqlite",
        }
    }

    pub async fn close(&self) {
        on_source!(self, p => p.close().await)
    }

    /// The columns of `table` (empty when there is no such table).
    pub async fn columns(&self, table: &str) -> Result<Vec<String>, DbError> {
        match self {
            Source::Postgres(p) => {
                const SQL: &str =
                    "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                                   WHERE table_schema = current_schema() AND table_name = $1";
                sqlx::query_scalar(SQL).bind(table).fetch_all(p).await
            }
            Source::Sqlite(p) => {
                const SQL: &str = "SELECT name FROM pragma_table_info($1)";
                sqlx::query_scalar(SQL).bind(table).fetch_all(p).await
            }
        }
    }

    /// The names of the `core` app's applied Django migrations, when `django_migrations` exists.
    pub async fn core_migrations(&self) -> Result<Vec<String>, DbError> {
        if self.columns("django_migrations").await?.is_empty() {
            return Ok(Vec::new());
        }
        const SQL: &str = "SELECT name FROM django_migrations WHERE app = 'core' ORDER BY name";
        on_source!(self, p => sqlx::query_scalar(SQL).fetch_all(p).await)
    }

    /// (rows, highest id) of a table of `TABLES`.
    pub async fn table_size(&self, table: &str) -> Result<(i64, i64), DbError> {
        let sql = format!("SELECT COUNT(*), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM {table}");
        on_source!(self, p => sqlx::query_as(&sql).fetch_one(p).await)
    }

    /// The latest change times the source records, as text (part of its fingerprint).
    pub async fn latest_changes(&self) -> Result<Vec<Option<String>>, DbError> {
        const SQL: &str = "SELECT CAST((SELECT MAX(last_login) FROM auth_user) AS TEXT), \
                           CAST((SELECT MAX(updated_at) FROM core_ticket) AS TEXT), \
                           CAST((SELECT MAX(updated_at) FROM core_userprofile) AS TEXT), \
                           CAST((SELECT MAX(read_at) FROM core_notificationlog) AS TEXT)";
        let row: (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = on_source!(self, p => sqlx::query_as(SQL).fetch_one(p).await)?;
        Ok(vec![row.0, row.1, row.2, row.3])
    }

    /// The first row of `table` whose `column` names a missing row of `parent`: (id, value).
    pub async fn first_orphan(
        &self,
        table: &str,
        column: &str,
        parent: &str,
    ) -> Result<Option<(i64, i64)>, DbError> {
        let sql = format!(
            "SELECT CAST(c.id AS BIGINT), CAST(c.{column} AS BIGINT) FROM {table} c \
             LEFT JOIN {parent} p ON p.id = c.{column} \
             WHERE c.{column} IS NOT NULL AND p.id IS NULL ORDER BY c.id LIMIT 1"
        );
        on_source!(self, p => sqlx::query_as(&sql).fetch_optional(p).await)
    }

    /// Users without a profile row: (id, username, date_joined).
    pub async fn users_without_profile(&self) -> Result<Vec<(i64, String, String)>, DbError> {
        const SQL: &str = "SELECT CAST(u.id AS BIGINT), u.username, CAST(u.date_joined AS TEXT) FROM auth_user u \
                           LEFT JOIN core_userprofile p ON p.user_id = u.id WHERE p.id IS NULL ORDER BY u.id";
        on_source!(self, p => sqlx::query_as(SQL).fetch_all(p).await)
    }

    pub fn users(&self) -> BoxStream<'_, Result<User, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, password, CAST(last_login AS TEXT) AS last_login, username, \
             first_name, last_name, email, is_active, CAST(date_joined AS TEXT) AS date_joined \
             FROM auth_user ORDER BY id",
        )
    }

    pub fn profiles(&self) -> BoxStream<'_, Result<Profile, DbError>> {
        stream(
            self,
            "SELECT CAST(p.id AS BIGINT) AS id, CAST(p.user_id AS BIGINT) AS user_id, u.username, p.role, \
             p.phone_number, p.whatsapp_number, p.department, CAST(p.created_at AS TEXT) AS created_at, \
             CAST(p.updated_at AS TEXT) AS updated_at \
             FROM core_userprofile p JOIN auth_user u ON u.id = p.user_id ORDER BY p.id",
        )
    }

    pub fn tickets(&self) -> BoxStream<'_, Result<Ticket, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, project_name, title, description, priority, category, status, \
             CAST(created_by_id AS BIGINT) AS created_by_id, assigned_team, \
             CAST(response_due_at AS TEXT) AS response_due_at, CAST(resolution_due_at AS TEXT) AS resolution_due_at, \
             response_breached, resolution_breached, \
             CAST(estimated_resolution_time AS TEXT) AS estimated_resolution_time, \
             CAST(created_at AS TEXT) AS created_at, CAST(updated_at AS TEXT) AS updated_at, \
             CAST(opened_at AS TEXT) AS opened_at, CAST(started_at AS TEXT) AS started_at, \
             CAST(resolved_at AS TEXT) AS resolved_at, CAST(closed_at AS TEXT) AS closed_at \
             FROM core_ticket ORDER BY id",
        )
    }

    pub fn assignees(&self) -> BoxStream<'_, Result<Assignee, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, CAST(ticket_id AS BIGINT) AS ticket_id, \
             CAST(user_id AS BIGINT) AS user_id FROM core_ticket_assigned_to ORDER BY id",
        )
    }

    pub fn history(&self) -> BoxStream<'_, Result<History, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, CAST(ticket_id AS BIGINT) AS ticket_id, \
             CAST(changed_by_id AS BIGINT) AS changed_by_id, status_from, status_to, comment, \
             CAST(timestamp AS TEXT) AS timestamp FROM core_tickethistory ORDER BY id",
        )
    }

    pub fn attachments(&self) -> BoxStream<'_, Result<Attachment, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, CAST(ticket_id AS BIGINT) AS ticket_id, \
             CAST(uploaded_by_id AS BIGINT) AS uploaded_by_id, file_data, \
             CAST(uploaded_at AS TEXT) AS uploaded_at FROM core_ticketattachment ORDER BY id",
        )
    }

    pub fn notifications(&self) -> BoxStream<'_, Result<Notification, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, notification_type, subject, message, status, error_message, \
             CAST(sent_at AS TEXT) AS sent_at, CAST(created_at AS TEXT) AS created_at, \
             CAST(recipient_id AS BIGINT) AS recipient_id, CAST(ticket_id AS BIGINT) AS ticket_id, \
             is_read, CAST(read_at AS TEXT) AS read_at FROM core_notificationlog ORDER BY id",
        )
    }

    pub fn outstanding_tokens(&self) -> BoxStream<'_, Result<OutstandingToken, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, CAST(user_id AS BIGINT) AS user_id, jti, \
             CAST(created_at AS TEXT) AS created_at, CAST(expires_at AS TEXT) AS expires_at \
             FROM token_blacklist_outstandingtoken ORDER BY id",
        )
    }

    pub fn blacklisted_tokens(&self) -> BoxStream<'_, Result<BlacklistedToken, DbError>> {
        stream(
            self,
            "SELECT CAST(id AS BIGINT) AS id, CAST(token_id AS BIGINT) AS token_id, \
             CAST(blacklisted_at AS TEXT) AS blacklisted_at \
             FROM token_blacklist_blacklistedtoken ORDER BY id",
        )
    }
}

// Rows as the original stores them; date-times as text (see the module documentation).

#[derive(Debug, FromRow)]
pub struct User {
    pub id: i64,
    pub password: String,
    pub last_login: Option<String>,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub is_active: bool,
    pub date_joined: String,
}

#[derive(Debug, FromRow)]
pub struct Profile {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    pub department: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, FromRow)]
pub struct Ticket {
    pub id: i64,
    pub project_name: String,
    pub title: String,
    pub description: String,
    pub priority: String,
    pub category: String,
    pub status: String,
    pub created_by_id: i64,
    pub assigned_team: Option<String>,
    pub response_due_at: Option<String>,
    pub resolution_due_at: Option<String>,
    pub response_breached: bool,
    pub resolution_breached: bool,
    pub estimated_resolution_time: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub opened_at: Option<String>,
    pub started_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
}

#[derive(Debug, FromRow)]
pub struct Assignee {
    pub id: i64,
    pub ticket_id: i64,
    pub user_id: i64,
}

#[derive(Debug, FromRow)]
pub struct History {
    pub id: i64,
    pub ticket_id: i64,
    pub changed_by_id: i64,
    pub status_from: Option<String>,
    pub status_to: String,
    pub comment: Option<String>,
    pub timestamp: String,
}

#[derive(Debug, FromRow)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub uploaded_by_id: i64,
    pub file_data: Vec<u8>,
    pub uploaded_at: String,
}

#[derive(Debug, FromRow)]
pub struct Notification {
    pub id: i64,
    pub notification_type: String,
    pub subject: String,
    pub message: String,
    pub status: String,
    pub error_message: Option<String>,
    pub sent_at: Option<String>,
    pub created_at: String,
    pub recipient_id: i64,
    pub ticket_id: Option<i64>,
    pub is_read: bool,
    pub read_at: Option<String>,
}

#[derive(Debug, FromRow)]
pub struct OutstandingToken {
    pub id: i64,
    pub user_id: Option<i64>,
    pub jti: String,
    pub created_at: Option<String>,
    pub expires_at: String,
}

#[derive(Debug, FromRow)]
pub struct BlacklistedToken {
    pub id: i64,
    pub token_id: i64,
    pub blacklisted_at: String,
}
