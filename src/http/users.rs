//! `/api/users/` (admin user management, contract §9) and the user JSON shapes.

use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::db::{self, users::UserPatch, users::UserRow};
use crate::domain::datetime::{format_dt, now};
use crate::domain::phone::WhatsAppNumber;
use crate::domain::ticket::display_name;
use crate::domain::user::Role;
use crate::error::{Error, Result};
use crate::http::body::{is_valid_email, Body, Field, Fields, Str};
use crate::http::extract::parse_id;
use crate::http::extract::Admin;
use crate::http::pagination::PageRequest;
use crate::state::AppState;

/// UserList: users list, retrieve, create response and `by_role` items.
pub fn user_list_json(u: &UserRow) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "first_name": u.first_name,
        "last_name": u.last_name, "full_name": display_name(&u.first_name, &u.last_name, &u.username),
        "role": u.role.as_str(), "phone_number": u.phone_number, "whatsapp_number": u.whatsapp_number,
        "department": u.department, "is_active": u.is_active, "date_joined": format_dt(&u.date_joined),
        "last_login": u.last_login.as_ref().map(format_dt),
    })
}

/// The `user` object of the login response.
pub fn login_user_json(u: &UserRow) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "first_name": u.first_name,
        "last_name": u.last_name, "full_name": display_name(&u.first_name, &u.last_name, &u.username),
        "role": u.role.as_str(), "phone_number": u.phone_number, "whatsapp_number": u.whatsapp_number,
        "department": u.department, "is_active": u.is_active, "date_joined": format_dt(&u.date_joined),
    })
}

/// UserBrief: `developers` items.
pub fn user_brief_json(u: &UserRow) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "first_name": u.first_name,
        "last_name": u.last_name, "role": u.role.as_str(), "phone_number": u.phone_number,
        "whatsapp_number": u.whatsapp_number, "department": u.department,
    })
}

fn user_update_json(u: &UserRow) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "first_name": u.first_name,
        "last_name": u.last_name, "is_active": u.is_active, "role": u.role.as_str(),
        "phone_number": u.phone_number, "whatsapp_number": u.whatsapp_number, "department": u.department,
    })
}

const ROLE_CHOICES: [&str; 3] = ["CLIENT", "ADMIN", "SUPPORT"];

fn valid_username(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || "_.@+-".contains(c))
}

/// Phone-like profile fields: blank allowed, null refused, bounded by their column sizes; the
/// WhatsApp number must be a real international number (stored as `+E164`).
fn contact_fields(
    f: &mut Fields,
    state: &AppState,
) -> (Field<String>, Field<String>, Field<String>) {
    let phone = f.str("phone_number", Str::optional().max(30));
    let whatsapp = match f.str("whatsapp_number", Str::optional().max(40)) {
        Field::Value(s) if !s.is_empty() => {
            match WhatsAppNumber::parse(&s, state.config.default_phone_region.as_deref()) {
                Ok(n) => Field::Value(n.as_str().to_string()),
                Err(e) => {
                    f.error("whatsapp_number", e.to_string());
                    Field::Invalid
                }
            }
        }
        other => other,
    };
    let department = f.str("department", Str::optional().max(100));
    (phone, whatsapp, department)
}

async fn load(state: &AppState, id: &str) -> Result<UserRow> {
    let id = parse_id(id)?;
    db::users::get(&state.db, id)
        .await?
        .ok_or(Error::NotFound("User"))
}

pub async fn list(
    State(state): State<AppState>,
    _: Admin,
    page: PageRequest,
) -> Result<Json<Value>> {
    let db = &state.db;
    let (count, w, rows) = page
        .load(
            |offset, limit| db::users::list(db, offset, limit),
            || db::users::count(db),
        )
        .await?;
    Ok(Json(page.respond(
        count,
        w,
        rows.iter().map(user_list_json).collect(),
    )))
}

pub async fn retrieve(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(user_list_json(&load(&state, &id).await?)))
}

pub async fn create(
    State(state): State<AppState>,
    Admin(user): Admin,
    Body(data): Body,
) -> Result<Response> {
    let mut f = Fields::new(&data);
    let username = f.str("username", Str::required().max(150));
    if let Field::Value(u) = &username {
        if !valid_username(u) {
            f.error(
                "username",
                "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
            );
        } else if db::users::username_taken(&state.db, u).await? {
            f.error("username", "A user with that username already exists.");
        }
    }
    let email = f.str("email", Str::optional().max(254));
    if let Field::Value(e) = &email {
        if !e.is_empty() && !is_valid_email(e) {
            f.error("email", "Enter a valid email address.");
        }
    }
    let first_name = f.str("first_name", Str::optional().max(150));
    let last_name = f.str("last_name", Str::optional().max(150));
    let password = f.str("password", Str::required().min(8).max(128));
    let password_confirm = f.str("password_confirm", Str::required());
    let role = f.choice("role", true, &ROLE_CHOICES);
    let (phone, whatsapp, department) = contact_fields(&mut f, &state);
    f.finish()?;

    let password = password.value().unwrap_or_default();
    if password_confirm.value().as_deref() != Some(password.as_str()) {
        return Err(Error::field("password_confirm", "Passwords do not match."));
    }
    let email = normalize_email(&email.value().unwrap_or_default());
    if !email.is_empty() && db::users::email_taken(&state.db, &email, None).await? {
        return Err(Error::field("email", "Email already exists."));
    }
    let new = db::users::NewUser {
        username: username.value().unwrap_or_default(),
        password_hash: crate::auth::hash_password(password).await?,
        email,
        first_name: first_name.value().unwrap_or_default(),
        last_name: last_name.value().unwrap_or_default(),
        role: role
            .value()
            .and_then(|r| Role::parse(&r))
            .unwrap_or(Role::Client),
        phone_number: Some(phone.value().unwrap_or_default()),
        whatsapp_number: Some(whatsapp.value().unwrap_or_default()),
        department: Some(department.value().unwrap_or_default()),
    };
    let id = match db::users::create(&state.db, &new, now()).await {
        Ok(id) => id,
        // Two admins racing for one username: the database decides, the loser gets the 400.
        Err(e) if db::is_unique_violation(&e) => {
            return Err(Error::field(
                "username",
                "A user with that username already exists.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let created = db::users::get(&state.db, id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    tracing::info!(user_id = id, role = %created.role, by = user.id, "user created");
    Ok((StatusCode::CREATED, Json(user_list_json(&created))).into_response())
}

/// Django's `normalize_email`: the domain part lower-cased.
fn normalize_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.to_string(),
    }
}

/// PUT and PATCH behave alike: nothing is required (as in the original).
pub async fn update(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<Value>> {
    let target = load(&state, &id).await?;
    // DRF looks the user up before it parses the body: a missing user is a 404 whatever was sent.
    let Body(data) = Body::from_request(request, &state).await?;
    let mut f = Fields::new(&data);
    let email = f.str("email", Str::optional().max(254));
    if let Field::Value(e) = &email {
        if !e.is_empty() && !is_valid_email(e) {
            f.error("email", "Enter a valid email address.");
        }
    }
    let first_name = f.str("first_name", Str::optional().max(150));
    let last_name = f.str("last_name", Str::optional().max(150));
    let is_active = f.bool("is_active");
    let password = f.str("password", Str::optional().no_blank().min(8).max(128));
    let password_confirm = f.str("password_confirm", Str::optional().no_blank());
    let role = f.choice("role", false, &ROLE_CHOICES);
    let (phone, whatsapp, department) = contact_fields(&mut f, &state);
    f.finish()?;

    if let Field::Value(p) = &password {
        match password_confirm.value() {
            None => {
                return Err(Error::field(
                    "password_confirm",
                    "Password confirmation is required when changing password.",
                ))
            }
            Some(c) if &c != p => {
                return Err(Error::field("password_confirm", "Passwords do not match."))
            }
            Some(_) => {}
        }
    }
    let email = email.value().map(|e| normalize_email(&e));
    if let Some(e) = &email {
        if !e.is_empty() && db::users::email_taken(&state.db, e, Some(target.id)).await? {
            return Err(Error::field("email", "Email already exists."));
        }
    }
    let is_active = is_active.value();
    if target.id == user.id && is_active == Some(false) {
        return Err(Error::Invalid(
            "You cannot deactivate your own account".into(),
        ));
    }
    let password_hash = match password.value() {
        Some(p) => Some(crate::auth::hash_password(p).await?),
        None => None,
    };
    let patch = UserPatch {
        email,
        first_name: first_name.value(),
        last_name: last_name.value(),
        is_active,
        password_hash,
        role: role.value().and_then(|r| Role::parse(&r)),
        phone_number: phone.value(),
        whatsapp_number: whatsapp.value(),
        department: department.value(),
    };
    db::users::update(&state.db, target.id, &patch, now()).await?;
    state.auth_cache.invalidate(target.id);
    let updated = db::users::get(&state.db, target.id)
        .await?
        .ok_or(Error::NotFound("User"))?;
    Ok(Json(user_update_json(&updated)))
}

pub async fn destroy(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let target = load(&state, &id).await?;
    if target.id == user.id {
        return Err(Error::Invalid("You cannot delete your own account".into()));
    }
    db::users::delete(&state.db, target.id).await?;
    state.auth_cache.invalidate(target.id);
    tracing::info!(user_id = target.id, by = user.id, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn activate(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let target = load(&state, &id).await?;
    db::users::set_active(&state.db, target.id, true).await?;
    state.auth_cache.invalidate(target.id);
    Ok(Json(
        json!({"message": format!("User {} activated successfully", target.username)}),
    ))
}

pub async fn deactivate(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let target = load(&state, &id).await?;
    if target.id == user.id {
        return Err(Error::Invalid(
            "You cannot deactivate your own account".into(),
        ));
    }
    db::users::set_active(&state.db, target.id, false).await?;
    state.auth_cache.invalidate(target.id);
    Ok(Json(
        json!({"message": format!("User {} deactivated successfully", target.username)}),
    ))
}

pub async fn by_role(
    State(state): State<AppState>,
    _: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    // Django's `query_params.get` reads the last value of a repeated parameter.
    let role = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "role")
        .last()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if role.is_empty() {
        return Err(Error::Invalid("role parameter is required".into()));
    }
    let role = Role::parse(&role)
        .ok_or_else(|| Error::Invalid("Invalid role. Must be CLIENT, SUPPORT, or ADMIN".into()))?;
    let rows = db::users::by_role(&state.db, role).await?;
    Ok(Json(Value::Array(
        rows.iter().map(user_list_json).collect(),
    )))
}
