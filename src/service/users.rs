//! Users and their profiles: creating and editing a user together with their profile, password
//! changes (which revoke the refresh tokens issued before them), activation, deletion, the
//! listings by role, and a user's update of their own profile. A deactivation, a deletion or a
//! password change also ends the user's real-time sessions on every replica.

use crate::auth::AuthUser;
use crate::db::{self, users::UserPatch, users::UserRow};
use crate::domain::datetime::now;
use crate::domain::user::Role;
use crate::error::{Error, Result};
use crate::notify::sessions::AccessEnded;
use crate::service::realtime::ended_access;
use crate::state::AppState;

const USERNAME_TAKEN: &str = "A user with that username already exists.";
const EMAIL_TAKEN: &str = "Email already exists.";

/// A new user, its fields already checked one by one.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
    pub role: Role,
    pub phone_number: String,
    pub whatsapp_number: String,
    pub department: String,
}

/// An edit of a user and their profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: Option<bool>,
    pub password: Option<String>,
    pub role: Option<Role>,
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    pub department: Option<String>,
}

/// What a user may change of their own profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password: Option<String>,
}

/// Django's `normalize_email`: the domain part lower-cased.
pub fn normalize_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.to_string(),
    }
}

/// One user, or "No User matches the given query.".
pub async fn retrieve(state: &AppState, id: i64) -> Result<UserRow> {
    db::users::get(&state.db, id)
        .await?
        .ok_or(Error::NotFound("User"))
}

/// The user with this username, if any (the command line's way to name a user).
pub async fn by_username(state: &AppState, username: &str) -> Result<Option<UserRow>> {
    match db::users::login_lookup(&state.db, username).await? {
        Some((id, _, _)) => Ok(db::users::get(&state.db, id).await?),
        None => Ok(None),
    }
}

/// One page of users (the caller is an admin), with the listing's total on each row.
pub async fn page(state: &AppState, offset: i64, limit: i64) -> Result<Vec<UserRow>> {
    Ok(db::users::list(&state.db, offset, limit).await?)
}

/// How many users there are.
pub async fn count(state: &AppState) -> Result<i64> {
    Ok(db::users::count(&state.db).await?)
}

/// One page of users matching a search text and a role (the admin console's list), newest
/// first, each row with the total.
pub async fn search(
    state: &AppState,
    text: Option<&str>,
    role: Option<Role>,
    offset: i64,
    limit: i64,
) -> Result<Vec<UserRow>> {
    Ok(db::users::search(&state.db, text, role, offset, limit).await?)
}

/// Active admins without a WhatsApp number: they get no WhatsApp notification.
pub async fn admins_without_whatsapp(state: &AppState) -> Result<i64> {
    let admins = db::users::admins(&state.db).await?;
    Ok(admins
        .iter()
        .filter(|u| u.is_active && u.whatsapp_number.as_deref().unwrap_or("").is_empty())
        .count() as i64)
}

/// Every user with one role, by id.
pub async fn by_role(state: &AppState, role: Role) -> Result<Vec<UserRow>> {
    Ok(db::users::by_role(&state.db, role).await?)
}

/// Whether a username is taken. Asked while a new user's fields are checked, so that a taken
/// username is reported together with the other field errors, as DRF's validators do.
pub async fn username_taken(state: &AppState, username: &str) -> Result<bool> {
    Ok(db::users::username_taken(&state.db, username).await?)
}

async fn refuse_taken_email(state: &AppState, email: &str, except: Option<i64>) -> Result<()> {
    if !email.is_empty() && db::users::email_taken(&state.db, email, except).await? {
        return Err(Error::field("email", EMAIL_TAKEN));
    }
    Ok(())
}

async fn hash(password: Option<String>) -> Result<Option<String>> {
    match password {
        Some(p) => Ok(Some(crate::auth::hash_password(p).await?)),
        None => Ok(None),
    }
}

/// Creates a user and their profile. A taken e-mail (any case) or username is a field error.
pub async fn create(state: &AppState, actor: &AuthUser, new: NewUser) -> Result<UserRow> {
    let email = normalize_email(&new.email);
    refuse_taken_email(state, &email, None).await?;
    let row = db::users::NewUser {
        username: new.username,
        password_hash: crate::auth::hash_password(new.password).await?,
        email,
        first_name: new.first_name,
        last_name: new.last_name,
        role: new.role,
        phone_number: Some(new.phone_number),
        whatsapp_number: Some(new.whatsapp_number),
        department: Some(new.department),
    };
    let id = match db::users::create(&state.db, &row, now()).await {
        Ok(id) => id,
        // Two admins racing for one username: the database decides, the loser gets the 400.
        Err(e) if db::is_unique_violation(&e) => {
            return Err(Error::field("username", USERNAME_TAKEN))
        }
        Err(e) => return Err(e.into()),
    };
    let created = retrieve(state, id).await?;
    tracing::info!(user_id = id, role = %created.role, by = actor.id, "user created");
    Ok(created)
}

/// Edits a user and their profile. A new password revokes the refresh tokens issued before it;
/// nobody deactivates their own account.
pub async fn update(
    state: &AppState,
    actor: &AuthUser,
    id: i64,
    changes: UserChanges,
) -> Result<UserRow> {
    let target = retrieve(state, id).await?;
    let email = changes.email.map(|e| normalize_email(&e));
    if let Some(e) = &email {
        refuse_taken_email(state, e, Some(target.id)).await?;
    }
    if target.id == actor.id && changes.is_active == Some(false) {
        return Err(Error::Invalid(
            "You cannot deactivate your own account".into(),
        ));
    }
    let patch = UserPatch {
        email,
        first_name: changes.first_name,
        last_name: changes.last_name,
        is_active: changes.is_active,
        password_hash: hash(changes.password).await?,
        role: changes.role,
        phone_number: changes.phone_number,
        whatsapp_number: changes.whatsapp_number,
        department: changes.department,
    };
    db::users::update(&state.db, target.id, &patch, now()).await?;
    state.auth_cache.invalidate(target.id);
    let ended = if patch.is_active == Some(false) {
        Some(AccessEnded::Deactivated)
    } else {
        patch
            .password_hash
            .is_some()
            .then_some(AccessEnded::PasswordChanged)
    };
    if let Some(why) = ended {
        ended_access(state, target.id, why).await;
    }
    retrieve(state, target.id).await
}

/// Deletes a user and everything they created; nobody deletes their own account.
pub async fn destroy(state: &AppState, actor: &AuthUser, id: i64) -> Result<()> {
    let target = retrieve(state, id).await?;
    if target.id == actor.id {
        return Err(Error::Invalid("You cannot delete your own account".into()));
    }
    db::users::delete(&state.db, target.id).await?;
    state.auth_cache.invalidate(target.id);
    ended_access(state, target.id, AccessEnded::Deleted).await;
    tracing::info!(user_id = target.id, by = actor.id, "user deleted");
    Ok(())
}

/// Activates or deactivates a user (their tokens stop working and their real-time sessions end
/// at once); nobody deactivates
/// their own account. Returns the user as they were found.
pub async fn set_active(
    state: &AppState,
    actor: &AuthUser,
    id: i64,
    active: bool,
) -> Result<UserRow> {
    let target = retrieve(state, id).await?;
    if !active && target.id == actor.id {
        return Err(Error::Invalid(
            "You cannot deactivate your own account".into(),
        ));
    }
    db::users::set_active(&state.db, target.id, active).await?;
    state.auth_cache.invalidate(target.id);
    if !active {
        ended_access(state, target.id, AccessEnded::Deactivated).await;
    }
    Ok(target)
}

/// The profiles a user may see: every one for admins (`None`), else only their own.
pub fn profile_scope(user: &AuthUser) -> Option<i64> {
    (!user.is_admin()).then_some(user.id)
}

/// One page of the profiles `user` may see.
pub async fn profiles_page(
    state: &AppState,
    user: &AuthUser,
    offset: i64,
    limit: i64,
) -> Result<Vec<UserRow>> {
    Ok(db::users::list_profiles(&state.db, profile_scope(user), offset, limit).await?)
}

/// How many profiles `user` may see.
pub async fn profiles_count(state: &AppState, user: &AuthUser) -> Result<i64> {
    Ok(db::users::count_profiles(&state.db, profile_scope(user)).await?)
}

/// One profile by profile id, within the caller's scope.
pub async fn profile(state: &AppState, user: &AuthUser, profile_id: i64) -> Result<UserRow> {
    match db::users::get_profile(&state.db, profile_id).await? {
        Some(row) if profile_scope(user).is_none_or(|only| only == row.id) => Ok(row),
        _ => Err(Error::NotFound("UserProfile")),
    }
}

/// A user's update of their own names or password (a new password revokes older tokens).
pub async fn update_self(
    state: &AppState,
    user: &AuthUser,
    changes: ProfileChanges,
) -> Result<UserRow> {
    let patch = UserPatch {
        first_name: changes.first_name,
        last_name: changes.last_name,
        password_hash: hash(changes.password).await?,
        ..UserPatch::default()
    };
    db::users::update(&state.db, user.id, &patch, now()).await?;
    state.auth_cache.invalidate(user.id);
    if patch.password_hash.is_some() {
        ended_access(state, user.id, AccessEnded::PasswordChanged).await;
    }
    retrieve(state, user.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_email_lowers_the_domain_only() {
        assert_eq!(normalize_email("Eve@Example.COM"), "Eve@example.com");
        assert_eq!(normalize_email("no-at-sign"), "no-at-sign");
    }
}
