//! Tickets, their assignees, history and attachments. A workflow step (status, stamps, SLA
//! flags, assignees, history row, notification rows) is written in one transaction, and only if
//! the ticket is still at the version the step was decided from.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::blob::{fetch_blob, release_buffers};
use super::notifications::{enqueue, NewNotification};
use super::pool::{bind_args, on_db, on_tx, placeholders, Arg, Db, Tx};
use crate::domain::ticket::{Category, Priority, Status};
use crate::domain::user::Role;
use crate::domain::workflow::{HistoryEntry, Transition};

macro_rules! enum_from_string {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<$t, String> {
                <$t>::parse(&s).ok_or(s)
            }
        }
    )*};
}
enum_from_string!(Status, Priority, Category);

#[derive(Debug, Clone, FromRow)]
pub struct TicketRow {
    pub id: i64,
    pub project_name: String,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    #[sqlx(try_from = "String")]
    pub category: Category,
    #[sqlx(try_from = "String")]
    pub status: Status,
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
    pub version: i64,
    pub creator_username: String,
    pub creator_first_name: String,
    pub creator_last_name: String,
    /// The listing's total, set by `ticket_list::list`.
    #[sqlx(default)]
    pub total_count: i64,
    /// See `assignees_column`.
    #[sqlx(default)]
    pub assignees_json: Option<String>,
}

impl TicketRow {
    /// The assigned developers, in id order.
    pub fn assignees(&self) -> Vec<Person> {
        let raw: Vec<(i64, String, String, String)> = self
            .assignees_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        raw.into_iter()
            .map(|(id, username, first_name, last_name)| Person {
                ticket_id: self.id,
                id,
                username,
                first_name,
                last_name,
            })
            .collect()
    }
}

/// A person as the ticket JSON names them.
#[derive(Debug, Clone, FromRow)]
pub struct Person {
    pub ticket_id: i64,
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct HistoryRow {
    pub id: i64,
    pub ticket_id: i64,
    pub changed_by_id: i64,
    pub status_from: Option<String>,
    pub status_to: String,
    pub comment: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, FromRow)]
/// An attachment without its bytes (`attachment_data` and `attachment_file` read those).
pub struct AttachmentRow {
    pub id: i64,
    pub ticket_id: i64,
    pub uploaded_by_id: i64,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size: i64,
    pub uploaded_at: DateTime<Utc>,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub uploader_role: Role,
}

/// The columns of `TicketRow` read from `tickets t JOIN users u` (the creator).
pub(super) const TICKET_COLUMNS: &str =
        "t.id, t.project_name, t.title, t.description, t.priority, t.category, t.status, t.created_by_id, \
         t.assigned_team, t.response_due_at, t.resolution_due_at, t.response_breached, t.resolution_breached, \
         t.estimated_resolution_time, t.created_at, t.updated_at, t.opened_at, t.started_at, t.resolved_at, \
         t.closed_at, t.version, u.username AS creator_username, u.first_name AS creator_first_name, \
         u.last_name AS creator_last_name ";

/// The ticket's assignees as a JSON array of `[id, username, first_name, last_name]` in id
/// order, built by the database so a ticket and its people come back in one query. The JSON
/// functions are the one dialect difference here.
pub(super) fn assignees_column(db: &Db) -> &'static str {
    match db {
        Db::Postgres(_) => {
            "(SELECT COALESCE(json_agg(json_build_array(au.id, au.username, au.first_name, au.last_name) ORDER BY au.id), '[]')::text \
             FROM ticket_assignees a JOIN users au ON au.id = a.user_id WHERE a.ticket_id = t.id) AS assignees_json"
        }
        Db::Sqlite(..) => {
            "(SELECT COALESCE(json_group_array(json(x.p)), '[]') FROM (SELECT json_array(au.id, au.username, au.first_name, au.last_name) AS p \
             FROM ticket_assignees a JOIN users au ON au.id = a.user_id WHERE a.ticket_id = t.id ORDER BY au.id) x) AS assignees_json"
        }
    }
}

/// Which tickets a caller may see (contract §5).
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    AssignedTo(i64),
    CreatedBy(i64),
}

impl Scope {
    pub fn of(user_id: i64, role: Role) -> Scope {
        match role {
            Role::Admin => Scope::All,
            Role::Support => Scope::AssignedTo(user_id),
            Role::Client => Scope::CreatedBy(user_id),
        }
    }
}

/// Appends the scope condition to `where_`, numbering placeholders after `args`.
/// How a condition on a developer's scope finds their tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Assigned {
    /// The set of their assignments, read from `ticket_assignees_user_idx` (SQLite does not
    /// turn an EXISTS into a join: it would probe once per ticket): for a few tickets.
    Set,
    /// One probe of each ticket's assignment by its primary key: for one ticket, or for a page
    /// read in index order among many of theirs (the walk stops at the page).
    Probe,
}

/// The caller's scope as a condition on `t`.
pub(super) fn scope_condition(
    scope: Scope,
    assigned: Assigned,
    where_: &mut Vec<String>,
    args: &mut Vec<Arg>,
) {
    match scope {
        Scope::All => {}
        Scope::AssignedTo(u) => {
            args.push(Arg::I64(u));
            where_.push(match assigned {
                Assigned::Set => format!(
                    "t.id IN (SELECT a.ticket_id FROM ticket_assignees a WHERE a.user_id = ${})",
                    args.len()
                ),
                Assigned::Probe => format!(
                    "EXISTS (SELECT 1 FROM ticket_assignees a WHERE a.ticket_id = t.id AND a.user_id = ${})",
                    args.len()
                ),
            });
        }
        Scope::CreatedBy(u) => {
            args.push(Arg::I64(u));
            where_.push(format!("t.created_by_id = ${}", args.len()));
        }
    }
}

/// One ticket if the scope lets the caller see it.
pub async fn get(db: &Db, id: i64, scope: Scope) -> Result<Option<TicketRow>, sqlx::Error> {
    let mut where_ = vec!["t.id = $1".to_string()];
    let mut args = vec![Arg::I64(id)];
    scope_condition(scope, Assigned::Probe, &mut where_, &mut args);
    let sql = format!(
        "SELECT {}, {} FROM tickets t JOIN users u ON u.id = t.created_by_id WHERE {}",
        TICKET_COLUMNS,
        assignees_column(db),
        where_.join(" AND ")
    );
    on_db!(db, p => bind_args!(sqlx::query_as(&sql), &args).fetch_optional(p).await)
}

pub async fn history(db: &Db, ticket_id: i64) -> Result<Vec<HistoryRow>, sqlx::Error> {
    const SQL: &str = "SELECT h.id, h.ticket_id, h.changed_by_id, h.status_from, h.status_to, h.comment, h.timestamp, \
                       u.username, u.first_name, u.last_name FROM ticket_history h JOIN users u ON u.id = h.changed_by_id \
                       WHERE h.ticket_id = $1 ORDER BY h.timestamp DESC, h.id DESC";
    on_db!(db, p => sqlx::query_as(SQL).bind(ticket_id).fetch_all(p).await)
}

macro_rules! attachment_select {
    () => {
        "SELECT a.id, a.ticket_id, a.uploaded_by_id, a.filename, a.content_type, a.size, a.uploaded_at, \
         u.first_name, u.last_name, p.role AS uploader_role FROM ticket_attachments a \
         JOIN users u ON u.id = a.uploaded_by_id JOIN user_profiles p ON p.user_id = u.id "
    };
}

pub async fn attachments(db: &Db, ticket_id: i64) -> Result<Vec<AttachmentRow>, sqlx::Error> {
    const SQL: &str = concat!(
        attachment_select!(),
        "WHERE a.ticket_id = $1 ORDER BY a.uploaded_at DESC, a.id DESC"
    );
    on_db!(db, p => sqlx::query_as(SQL).bind(ticket_id).fetch_all(p).await)
}

pub async fn attachment(
    db: &Db,
    ticket_id: i64,
    id: i64,
) -> Result<Option<AttachmentRow>, sqlx::Error> {
    const SQL: &str = concat!(attachment_select!(), "WHERE a.ticket_id = $1 AND a.id = $2");
    on_db!(db, p => sqlx::query_as(SQL).bind(ticket_id).bind(id).fetch_optional(p).await)
}

/// One attachment's bytes, as the driver read them (see `blob`).
pub async fn attachment_file(
    db: &Db,
    ticket_id: i64,
    id: i64,
) -> Result<Option<Bytes>, sqlx::Error> {
    const SQL: &str = "SELECT file_data FROM ticket_attachments WHERE ticket_id = $1 AND id = $2";
    fetch_blob(db, SQL, ticket_id, id).await
}

pub struct NewAttachment {
    pub ticket_id: i64,
    pub uploaded_by: i64,
    pub data: Vec<u8>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// What became of an upload under the ticket's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The new attachment's id.
    Added(i64),
    /// Refused: the ticket already holds `used` bytes and the file would pass the quota.
    OverQuota { used: i64 },
}

/// Stores the file unless the ticket's attachments would then exceed `quota` bytes. The sum is
/// read and the row written in one transaction that holds the ticket (PostgreSQL: its row lock;
/// SQLite: the writer turn), so concurrent uploads cannot both pass the quota.
/// The bytes are moved into the statement: on SQLite sqlx then binds them without a copy.
pub async fn add_attachment(
    db: &Db,
    a: NewAttachment,
    quota: i64,
    now: DateTime<Utc>,
) -> Result<Stored, sqlx::Error> {
    const LOCK: &str = "SELECT id FROM tickets WHERE id = $1 FOR NO KEY UPDATE";
    const USED: &str = "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM ticket_attachments WHERE ticket_id = $1";
    const SQL: &str = "INSERT INTO ticket_attachments (ticket_id, uploaded_by_id, file_data, filename, content_type, size, uploaded_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let size = a.data.len() as i64;
    let mut tx = db.begin().await?;
    if let Tx::Postgres(t) = &mut tx {
        sqlx::query(LOCK)
            .bind(a.ticket_id)
            .execute(&mut **t)
            .await?;
    }
    let used: i64 =
        on_tx!(&mut tx, c => sqlx::query_scalar(USED).bind(a.ticket_id).fetch_one(&mut *c).await)?;
    if used.saturating_add(size) > quota {
        return Ok(Stored::OverQuota { used });
    }
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(SQL)
        .bind(a.ticket_id).bind(a.uploaded_by).bind(a.data).bind(&a.filename).bind(&a.content_type)
        .bind(size).bind(now)
        .fetch_one(&mut *c).await)?;
    if let Tx::Postgres(t) = &mut tx {
        // The statement carried the file: its write buffer is the file's size (see `blob`).
        release_buffers(t).await;
    }
    tx.commit().await?;
    Ok(Stored::Added(id))
}

pub async fn delete_attachment(db: &Db, ticket_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str = "DELETE FROM ticket_attachments WHERE ticket_id = $1 AND id = $2";
    let n = crate::on_write!(db.write().await, p => sqlx::query(SQL).bind(ticket_id).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// SUPPORT users among `ids`, with their names, in ascending id order.
pub async fn developers_among(db: &Db, ids: &[i64]) -> Result<Vec<Person>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT CAST(0 AS BIGINT) AS ticket_id, u.id, u.username, u.first_name, u.last_name FROM users u \
         JOIN user_profiles p ON p.user_id = u.id WHERE p.role = 'SUPPORT' AND u.id IN ({}) ORDER BY u.id",
        placeholders(ids.len())
    );
    let args: Vec<Arg> = ids.iter().map(|i| Arg::I64(*i)).collect();
    on_db!(db, p => bind_args!(sqlx::query_as(&sql), &args).fetch_all(p).await)
}

/// The columns a create writes.
pub struct NewTicket {
    pub project_name: String,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub category: Category,
    pub created_by: i64,
    pub assigned_team: Option<String>,
    pub response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub estimated_resolution_time: Option<DateTime<Utc>>,
}

/// Inserts a ticket and the notifications of its creation together; `notifications` renders
/// them for the new ticket's id. Returns the id and the rows written.
pub async fn create(
    db: &Db,
    t: &NewTicket,
    notifications: impl FnOnce(i64) -> Vec<NewNotification>,
    now: DateTime<Utc>,
) -> Result<(i64, Vec<NewNotification>), sqlx::Error> {
    const SQL: &str = "INSERT INTO tickets (project_name, title, description, priority, category, status, created_by_id, \
                       assigned_team, response_due_at, resolution_due_at, response_breached, resolution_breached, \
                       estimated_resolution_time, created_at, updated_at, version) \
                       VALUES ($1, $2, $3, $4, $5, 'NEW', $6, $7, $8, $9, FALSE, FALSE, $10, $11, $11, 0) RETURNING id";
    let mut tx = db.begin().await?;
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(SQL)
        .bind(&t.project_name).bind(&t.title).bind(&t.description).bind(t.priority.as_str()).bind(t.category.as_str())
        .bind(t.created_by).bind(&t.assigned_team).bind(t.response_due_at).bind(t.resolution_due_at)
        .bind(t.estimated_resolution_time).bind(now)
        .fetch_one(&mut *c).await)?;
    let rows = notifications(id);
    enqueue(&mut tx, Some(id), Some(0), &rows, now).await?;
    tx.commit().await?;
    Ok((id, rows))
}

/// Every column a workflow step or an admin edit may change, already computed by the caller.
#[derive(Debug, Clone)]
pub struct TicketUpdate {
    pub project_name: String,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub category: Category,
    pub status: Status,
    pub assigned_team: Option<String>,
    pub response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub response_breached: bool,
    pub resolution_breached: bool,
    pub estimated_resolution_time: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl TicketUpdate {
    /// The row as it stands, to be modified.
    pub fn from_row(r: &TicketRow) -> TicketUpdate {
        TicketUpdate {
            project_name: r.project_name.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            priority: r.priority,
            category: r.category,
            status: r.status,
            assigned_team: r.assigned_team.clone(),
            response_due_at: r.response_due_at,
            resolution_due_at: r.resolution_due_at,
            response_breached: r.response_breached,
            resolution_breached: r.resolution_breached,
            estimated_resolution_time: r.estimated_resolution_time,
            opened_at: r.opened_at,
            started_at: r.started_at,
            resolved_at: r.resolved_at,
            closed_at: r.closed_at,
        }
    }
}

/// Why a conditional write did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// Another step changed the ticket since it was read: decide again from the new state.
    Stale,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> WriteError {
        WriteError::Db(e)
    }
}

async fn update_row(
    tx: &mut super::pool::Tx,
    id: i64,
    version: i64,
    u: &TicketUpdate,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE tickets SET project_name = $1, title = $2, description = $3, priority = $4, category = $5, \
                       status = $6, assigned_team = $7, response_due_at = $8, resolution_due_at = $9, response_breached = $10, \
                       resolution_breached = $11, estimated_resolution_time = $12, opened_at = $13, started_at = $14, \
                       resolved_at = $15, closed_at = $16, updated_at = $17, version = version + 1 \
                       WHERE id = $18 AND version = $19";
    let n = on_tx!(tx, c => sqlx::query(SQL)
        .bind(&u.project_name).bind(&u.title).bind(&u.description).bind(u.priority.as_str()).bind(u.category.as_str())
        .bind(u.status.as_str()).bind(&u.assigned_team).bind(u.response_due_at).bind(u.resolution_due_at)
        .bind(u.response_breached).bind(u.resolution_breached).bind(u.estimated_resolution_time)
        .bind(u.opened_at).bind(u.started_at).bind(u.resolved_at).bind(u.closed_at).bind(now)
        .bind(id).bind(version)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// An admin edit (PUT/PATCH): no history, no notification, but still conditional on the version.
pub async fn save(
    db: &Db,
    id: i64,
    version: i64,
    u: &TicketUpdate,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let mut tx = db.begin().await?;
    if !update_row(&mut tx, id, version, u, now).await? {
        return Err(WriteError::Stale);
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_history(
    tx: &mut super::pool::Tx,
    ticket_id: i64,
    actor: i64,
    h: &HistoryEntry,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO ticket_history (ticket_id, changed_by_id, status_from, status_to, comment, timestamp) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(ticket_id).bind(actor).bind(h.status_from.map(Status::as_str)).bind(h.status_to.as_str())
        .bind(&h.comment).bind(now)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes one workflow step: the ticket row, the assignee set, the history row and the
/// notification rows, all or nothing, and only if the ticket is still at `version`.
pub async fn commit_step(
    db: &Db,
    ticket: &TicketRow,
    actor: i64,
    transition: &Transition,
    update: &TicketUpdate,
    notifications: &[NewNotification],
) -> Result<(), WriteError> {
    const ADD: &str =
        "INSERT INTO ticket_assignees (ticket_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    const REMOVE: &str = "DELETE FROM ticket_assignees WHERE ticket_id = $1 AND user_id = $2";
    let now = transition.at;
    let mut tx = db.begin().await?;
    if !update_row(&mut tx, ticket.id, ticket.version, update, now).await? {
        return Err(WriteError::Stale);
    }
    if let Some(change) = &transition.assignment {
        for dev in &change.removed {
            on_tx!(&mut tx, c => sqlx::query(REMOVE).bind(ticket.id).bind(dev).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        }
        for dev in &change.newly_added {
            on_tx!(&mut tx, c => sqlx::query(ADD).bind(ticket.id).bind(dev).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        }
    }
    if let Some(h) = &transition.history {
        insert_history(&mut tx, ticket.id, actor, h, now).await?;
    }
    enqueue(
        &mut tx,
        Some(ticket.id),
        Some(ticket.version + 1),
        notifications,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A comment is a history row on the unchanged status; it does not touch the ticket row.
pub async fn add_comment(
    db: &Db,
    ticket_id: i64,
    actor: i64,
    h: &HistoryEntry,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    insert_history(&mut tx, ticket_id, actor, h, now).await?;
    tx.commit().await
}

pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let n = crate::on_write!(db.write().await, p => sqlx::query("DELETE FROM tickets WHERE id = $1").bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Every SUPPORT user (active or not) in id order: the `developers` endpoint.
pub async fn all_developers(db: &Db) -> Result<Vec<super::users::UserRow>, sqlx::Error> {
    super::users::by_role(db, Role::Support).await
}

impl super::pool::PageRow for TicketRow {
    fn total_count(&self) -> i64 {
        self.total_count
    }
}
