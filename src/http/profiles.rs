//! `/api/profiles/` (read-only, scoped) and `/api/profile/update/` (contract §10).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::AuthUser;
use crate::db::{self, users::UserPatch, users::UserRow};
use crate::domain::datetime::{format_dt, now};
use crate::error::{Error, Result};
use crate::http::body::{Body, Field, Fields, Str};
use crate::http::extract::parse_id;
use crate::http::pagination::PageRequest;
use crate::state::AppState;

fn profile_json(u: &UserRow) -> Value {
    json!({
        "id": u.profile_id, "username": u.username, "email": u.email, "first_name": u.first_name,
        "last_name": u.last_name, "role": u.role.as_str(), "phone_number": u.phone_number,
        "whatsapp_number": u.whatsapp_number, "department": u.department,
        "created_at": format_dt(&u.profile_created_at), "updated_at": format_dt(&u.profile_updated_at),
    })
}

/// Admins see every profile; everyone else only their own.
fn scope(user: &AuthUser) -> Option<i64> {
    (!user.is_admin()).then_some(user.id)
}

pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Value>> {
    let only = scope(&user);
    let db = &state.db;
    let (count, w, rows) = page
        .load(
            |offset, limit| db::users::list_profiles(db, only, offset, limit),
            || db::users::count_profiles(db, only),
        )
        .await?;
    Ok(Json(page.respond(
        count,
        w,
        rows.iter().map(profile_json).collect(),
    )))
}

pub async fn retrieve(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let id = parse_id(&id)?;
    match db::users::get_profile(&state.db, id).await? {
        Some(row) if scope(&user).is_none_or(|only| only == row.id) => Ok(Json(profile_json(&row))),
        _ => Err(Error::NotFound("UserProfile")),
    }
}

pub async fn update_self(
    State(state): State<AppState>,
    user: AuthUser,
    Body(data): Body,
) -> Result<Json<Value>> {
    let mut f = Fields::new(&data);
    let first_name = f.str("first_name", Str::optional().max(150));
    let last_name = f.str("last_name", Str::optional().max(150));
    let password = f.str("password", Str::optional().no_blank().min(8).max(128));
    let confirm = f.str("password_confirm", Str::optional());
    f.finish()?;
    let password_hash = match password {
        Field::Value(p) => {
            if confirm.value().as_deref() != Some(p.as_str()) {
                return Err(Error::field("password_confirm", "Passwords do not match."));
            }
            Some(crate::auth::hash_password(p).await?)
        }
        _ => None,
    };
    let patch = UserPatch {
        first_name: first_name.value(),
        last_name: last_name.value(),
        password_hash,
        ..UserPatch::default()
    };
    db::users::update(&state.db, user.id, &patch, now()).await?;
    state.auth_cache.invalidate(user.id);
    let row = db::users::get(&state.db, user.id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    Ok(Json(
        json!({"first_name": row.first_name, "last_name": row.last_name}),
    ))
}
