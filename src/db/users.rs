//! Users and their profiles: one function per use case.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::pool::{on_db, on_tx, Db};
use crate::domain::user::Role;

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> Result<Role, String> {
        Role::parse(&s).ok_or(s)
    }
}

/// What authentication needs on every request.
#[derive(Debug, FromRow)]
pub struct AuthRow {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Refresh tokens issued before this (a password change or a deactivation) are refused.
    pub tokens_valid_after: Option<DateTime<Utc>>,
    /// Access tokens issued before this (a deactivation) are refused, even after a re-activation.
    pub access_valid_after: Option<DateTime<Utc>>,
}

/// A user with their profile.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub date_joined: DateTime<Utc>,
    pub profile_id: i64,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    pub department: Option<String>,
    pub profile_created_at: DateTime<Utc>,
    pub profile_updated_at: DateTime<Utc>,
    /// When the user last wrote to us on WhatsApp (opens the 24-hour window); `default` for
    /// the queries that do not read it.
    #[sqlx(default)]
    pub whatsapp_last_inbound_at: Option<DateTime<Utc>>,
    /// When the user sent STOP (cleared by START).
    #[sqlx(default)]
    pub whatsapp_opted_out_at: Option<DateTime<Utc>>,
    /// `COUNT(*) OVER ()` in paginated listings.
    #[sqlx(default)]
    pub total_count: i64,
}

macro_rules! user_columns {
    () => {
        "u.id, u.username, u.email, u.first_name, u.last_name, u.is_active, u.last_login, \
         u.date_joined, p.id AS profile_id, p.role, p.phone_number, p.whatsapp_number, p.department, \
         p.created_at AS profile_created_at, p.updated_at AS profile_updated_at, \
         p.whatsapp_last_inbound_at, p.whatsapp_opted_out_at "
    };
}

macro_rules! user_select {
    () => {
        concat!(
            "SELECT ",
            user_columns!(),
            "FROM users u JOIN user_profiles p ON p.user_id = u.id "
        )
    };
}

/// For paginated listings: every row also carries the total.
macro_rules! user_page_select {
    () => {
        concat!(
            "SELECT ",
            user_columns!(),
            ", COUNT(*) OVER () AS total_count FROM users u JOIN user_profiles p ON p.user_id = u.id "
        )
    };
}

pub async fn auth_user(db: &Db, id: i64) -> Result<Option<AuthRow>, sqlx::Error> {
    const SQL: &str = "SELECT u.id, u.username, u.first_name, u.last_name, u.is_active, p.role, u.tokens_valid_after, \
                       u.access_valid_after FROM users u JOIN user_profiles p ON p.user_id = u.id WHERE u.id = $1";
    on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)
}

/// `(id, password hash, is_active)` for a login attempt (exact, case-sensitive username).
pub async fn login_lookup(
    db: &Db,
    username: &str,
) -> Result<Option<(i64, String, bool)>, sqlx::Error> {
    const SQL: &str = "SELECT id, password, is_active FROM users WHERE username = $1";
    on_db!(db, p => sqlx::query_as(SQL).bind(username).fetch_optional(p).await)
}

/// Records a successful login, upgrading the stored hash when one is given.
pub async fn record_login(
    db: &Db,
    id: i64,
    new_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    const SQL: &str =
        "UPDATE users SET last_login = $1, password = COALESCE($2, password) WHERE id = $3";
    crate::on_write!(db.write().await, p => sqlx::query(SQL).bind(now).bind(new_hash).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    const SQL: &str = concat!(user_select!(), "WHERE u.id = $1");
    on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)
}

/// Newest first, as the original orders by `date_joined` descending.
pub async fn list(db: &Db, offset: i64, limit: i64) -> Result<Vec<UserRow>, sqlx::Error> {
    const SQL: &str = concat!(
        user_page_select!(),
        "ORDER BY u.date_joined DESC, u.id DESC LIMIT $1 OFFSET $2"
    );
    on_db!(db, p => sqlx::query_as(SQL).bind(limit).bind(offset).fetch_all(p).await)
}

pub async fn by_role(db: &Db, role: Role) -> Result<Vec<UserRow>, sqlx::Error> {
    const SQL: &str = concat!(user_select!(), "WHERE p.role = $1 ORDER BY u.id");
    on_db!(db, p => sqlx::query_as(SQL).bind(role.as_str()).fetch_all(p).await)
}

pub async fn username_taken(db: &Db, username: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM users WHERE username = $1";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).bind(username).fetch_one(p).await)?;
    Ok(n > 0)
}

/// Case-insensitive, since mail systems treat addresses so; `except` skips the user being edited.
pub async fn email_taken(db: &Db, email: &str, except: Option<i64>) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM users WHERE lower(email) = lower($1) AND id <> $2";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).bind(email).bind(except.unwrap_or(0)).fetch_one(p).await)?;
    Ok(n > 0)
}

pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    pub department: Option<String>,
}

/// Inserts the user and their profile together. A taken username is a unique violation.
pub async fn create(db: &Db, u: &NewUser, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    const USER: &str = "INSERT INTO users (username, password, email, first_name, last_name, is_active, date_joined) \
                        VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id";
    const PROFILE: &str = "INSERT INTO user_profiles (user_id, role, phone_number, whatsapp_number, department, created_at, updated_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $6)";
    let mut tx = db.begin().await?;
    let id: i64 = on_tx!(&mut tx, c => {
        let id: i64 = sqlx::query_scalar(USER)
            .bind(&u.username).bind(&u.password_hash).bind(&u.email)
            .bind(&u.first_name).bind(&u.last_name).bind(now)
            .fetch_one(&mut *c).await?;
        sqlx::query(PROFILE)
            .bind(id).bind(u.role.as_str()).bind(&u.phone_number).bind(&u.whatsapp_number)
            .bind(&u.department).bind(now)
            .execute(&mut *c).await?;
        id
    });
    tx.commit().await?;
    Ok(id)
}

/// A partial update of a user and their profile; `None` leaves a column unchanged. A new
/// password or a deactivation also ends the user's console sessions.
#[derive(Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: Option<bool>,
    pub password_hash: Option<String>,
    pub role: Option<Role>,
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    pub department: Option<String>,
}

pub async fn update(
    db: &Db,
    id: i64,
    patch: &UserPatch,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    const USER: &str =
        "UPDATE users SET email = COALESCE($1, email), first_name = COALESCE($2, first_name), \
                        last_name = COALESCE($3, last_name), is_active = COALESCE($4, is_active), \
                        password = COALESCE($5, password), \
                        tokens_valid_after = COALESCE($7, tokens_valid_after), \
                        access_valid_after = COALESCE($8, access_valid_after) WHERE id = $6";
    const PROFILE: &str = "UPDATE user_profiles SET role = COALESCE($1, role), phone_number = COALESCE($2, phone_number), \
                           whatsapp_number = COALESCE($3, whatsapp_number), department = COALESCE($4, department), \
                           updated_at = $5 WHERE user_id = $6";
    // A new password revokes the refresh tokens issued before it; a deactivation revokes every
    // token issued before it.
    let deactivated = patch.is_active == Some(false);
    let refresh_revoked = (patch.password_hash.is_some() || deactivated).then_some(now);
    let access_revoked = deactivated.then_some(now);
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => {
        // The user row first: it is the lock a concurrent refresh of their token waits on.
        sqlx::query(USER)
            .bind(&patch.email).bind(&patch.first_name).bind(&patch.last_name)
            .bind(patch.is_active).bind(&patch.password_hash).bind(id)
            .bind(refresh_revoked).bind(access_revoked)
            .execute(&mut *c).await?;
        sqlx::query(PROFILE)
            .bind(patch.role.map(Role::as_str)).bind(&patch.phone_number).bind(&patch.whatsapp_number)
            .bind(&patch.department).bind(now).bind(id)
            .execute(&mut *c).await?;
        if refresh_revoked.is_some() {
            sqlx::query(super::tokens::BLACKLIST_ALL_OF_USER).bind(id).bind(now).execute(&mut *c).await?;
            sqlx::query(super::console_sessions::END_ALL_OF_USER).bind(id).execute(&mut *c).await?;
        }
    });
    tx.commit().await
}

/// Activates or deactivates a user. A deactivation revokes every token issued before it, so a
/// re-activation does not bring back the sessions it ended.
pub async fn set_active(db: &Db, id: i64, active: bool) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE users SET is_active = $1, \
                       tokens_valid_after = COALESCE($3, tokens_valid_after), \
                       access_valid_after = COALESCE($3, access_valid_after) WHERE id = $2";
    let now = crate::domain::datetime::now();
    let revoked = (!active).then_some(now);
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => {
        sqlx::query(SQL).bind(active).bind(id).bind(revoked).execute(&mut *c).await?;
        if revoked.is_some() {
            sqlx::query(super::tokens::BLACKLIST_ALL_OF_USER).bind(id).bind(now).execute(&mut *c).await?;
            sqlx::query(super::console_sessions::END_ALL_OF_USER).bind(id).execute(&mut *c).await?;
        }
    });
    tx.commit().await
}

/// Deletes the user; the schema cascades to their profile, tickets, history, uploads and
/// notifications, as the original's application-level cascade did.
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let n = crate::on_write!(db.write().await, p => sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Profiles visible to a caller: all (`None`) or one user's.
pub async fn count_profiles(db: &Db, only_user: Option<i64>) -> Result<i64, sqlx::Error> {
    const ALL: &str = "SELECT COUNT(*) FROM user_profiles";
    const ONE: &str = "SELECT COUNT(*) FROM user_profiles WHERE user_id = $1";
    on_db!(db, p => match only_user {
        None => sqlx::query_scalar(ALL).fetch_one(p).await,
        Some(u) => sqlx::query_scalar(ONE).bind(u).fetch_one(p).await,
    })
}

pub async fn list_profiles(
    db: &Db,
    only_user: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    const ALL: &str = concat!(user_page_select!(), "ORDER BY p.id LIMIT $1 OFFSET $2");
    const ONE: &str = concat!(
        user_page_select!(),
        "WHERE u.id = $3 ORDER BY p.id LIMIT $1 OFFSET $2"
    );
    on_db!(db, p => match only_user {
        None => sqlx::query_as(ALL).bind(limit).bind(offset).fetch_all(p).await,
        Some(u) => sqlx::query_as(ONE).bind(limit).bind(offset).bind(u).fetch_all(p).await,
    })
}

pub async fn get_profile(db: &Db, profile_id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    const SQL: &str = concat!(user_select!(), "WHERE p.id = $1");
    on_db!(db, p => sqlx::query_as(SQL).bind(profile_id).fetch_optional(p).await)
}

/// Admins in id order (notification recipients and start-up diagnostics).
pub async fn admins(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    by_role(db, Role::Admin).await
}

/// Every admin plus the given users, by id: the people a notification may go to, in one query.
pub async fn admins_and(db: &Db, ids: &[i64]) -> Result<Vec<UserRow>, sqlx::Error> {
    let mut sql = String::from(user_select!());
    sql.push_str("WHERE p.role = 'ADMIN'");
    if !ids.is_empty() {
        sql.push_str(&format!(
            " OR u.id IN ({})",
            super::pool::placeholders(ids.len())
        ));
    }
    sql.push_str(" ORDER BY u.id");
    on_db!(db, p => {
        let mut q = sqlx::query_as(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })
}

impl super::pool::PageRow for UserRow {
    fn total_count(&self) -> i64 {
        self.total_count
    }
}

/// The admin console's user list: a case-insensitive substring of the username, names or
/// e-mail, and a role; newest first, each row with the total.
pub async fn search(
    db: &Db,
    text: Option<&str>,
    role: Option<Role>,
    offset: i64,
    limit: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let mut sql = String::from(user_page_select!());
    let mut args = vec![super::pool::Arg::I64(limit), super::pool::Arg::I64(offset)];
    let mut where_ = Vec::new();
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        let escaped = t
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(super::pool::Arg::Text(format!("%{escaped}%")));
        let n = args.len();
        where_.push(format!(
            "(lower(u.username) LIKE ${n} ESCAPE '\\' OR lower(u.first_name) LIKE ${n} ESCAPE '\\' \
             OR lower(u.last_name) LIKE ${n} ESCAPE '\\' OR lower(u.email) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if let Some(r) = role {
        args.push(super::pool::Arg::Text(r.as_str().to_string()));
        where_.push(format!("p.role = ${}", args.len()));
    }
    if !where_.is_empty() {
        sql.push_str("WHERE ");
        sql.push_str(&where_.join(" AND "));
    }
    sql.push_str(" ORDER BY u.date_joined DESC, u.id DESC LIMIT $1 OFFSET $2");
    on_db!(db, p => crate::bind_args!(sqlx::query_as(&sql), &args).fetch_all(p).await)
}
