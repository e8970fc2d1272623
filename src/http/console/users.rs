//! Users pages: the list (search, role filter, admins without WhatsApp flagged), create, edit
//! (the JSON API's field validation, messages shown beside the fields), activate/deactivate,
//! and a new password. Every change goes through `service::users`, as the API's do.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::pager::pager;
use super::render::{message_of, page, ConsoleError};
use super::session::{Console, ConsoleForm, CSRF_FIELD};
use crate::db::users::UserRow;
use crate::domain::datetime::format_short;
use crate::domain::user::Role;
use crate::error::Error;
use crate::service::console::ConsoleSession;
use crate::service::users as service;
use crate::state::AppState;

const PAGE_SIZE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    page: Option<i64>,
    saved: Option<String>,
}

/// A user as the pages show them.
#[derive(Debug, Serialize)]
struct UserView {
    id: i64,
    username: String,
    name: String,
    email: String,
    role: &'static str,
    role_label: &'static str,
    is_active: bool,
    whatsapp_number: String,
    /// An admin without a WhatsApp number.
    flagged: bool,
    date_joined: String,
    last_login: Option<String>,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> UserView {
        let whatsapp = u.whatsapp_number.clone().unwrap_or_default();
        UserView {
            id: u.id,
            username: u.username.clone(),
            name: format!("{} {}", u.first_name, u.last_name)
                .trim()
                .to_string(),
            email: u.email.clone(),
            role: u.role.as_str(),
            role_label: u.role.label(),
            is_active: u.is_active,
            flagged: u.role == Role::Admin && whatsapp.is_empty(),
            whatsapp_number: whatsapp,
            date_joined: format_short(Some(&u.date_joined)),
            last_login: u.last_login.as_ref().map(|t| format_short(Some(t))),
        }
    }
}

fn roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

/// The form's fields as the JSON API's validators read them (the CSRF token left out).
fn as_body(form: &HashMap<String, String>, only: &[&str]) -> Map<String, Value> {
    form.iter()
        .filter(|(k, _)| k.as_str() != CSRF_FIELD && only.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

const PROFILE_FIELDS: [&str; 7] = [
    "first_name",
    "last_name",
    "email",
    "role",
    "department",
    "phone_number",
    "whatsapp_number",
];
const NEW_FIELDS: [&str; 10] = [
    "username",
    "password",
    "password_confirm",
    "first_name",
    "last_name",
    "email",
    "role",
    "department",
    "phone_number",
    "whatsapp_number",
];

/// Field errors by field (joined), or the error's message under `""`.
fn field_errors(e: &Error) -> HashMap<String, String> {
    match e {
        Error::Validation(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let texts: Vec<&str> = v
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                (k.clone(), texts.join(" "))
            })
            .collect(),
        other => HashMap::from([(String::new(), message_of(other))]),
    }
}

/// `GET /admin/users/`
pub async fn list(
    State(state): State<AppState>,
    Console(s): Console,
    Query(q): Query<UserQuery>,
) -> Result<Response, ConsoleError> {
    let role = Role::parse(&q.role);
    let number = q.page.unwrap_or(1).max(1);
    let rows = service::search(
        &state,
        Some(&q.q),
        role,
        (number - 1) * PAGE_SIZE,
        PAGE_SIZE,
    );
    let (rows, unreached) = tokio::try_join!(rows, service::admins_without_whatsapp(&state))?;
    let total = rows.first().map_or(0, |r| r.total_count);
    let query = [("q", q.q.as_str()), ("role", q.role.as_str())];
    let pager = pager("/admin/users/", &query, number, PAGE_SIZE, total);
    let users: Vec<UserView> = rows.iter().map(UserView::from).collect();
    Ok(page(
        &s,
        "users.html",
        "users",
        serde_json::json!({
            "users": users, "total": total, "q": q.q, "role": q.role, "roles": roles(),
            "admins_without_whatsapp": unreached,
            "pager": pager,
        }),
    )?
    .into_response())
}

/// The user page (or the new-user form when `user` is `None`) with a form's values and errors.
fn user_page(
    s: &ConsoleSession,
    user: Option<&UserRow>,
    form: Value,
    errors: HashMap<String, String>,
    password_errors: HashMap<String, String>,
    saved: bool,
) -> Result<Response, ConsoleError> {
    let error = errors.get("").or_else(|| password_errors.get("")).cloned();
    let ctx = serde_json::json!({
        "user": user.map(UserView::from), "form": form, "errors": errors,
        "password_errors": password_errors, "error": error, "saved": saved, "roles": roles(),
    });
    Ok(page(s, "user.html", "users", ctx)?.into_response())
}

fn form_of(u: &UserRow) -> Value {
    serde_json::json!({
        "first_name": u.first_name, "last_name": u.last_name, "email": u.email,
        "role": u.role.as_str(), "department": u.department, "phone_number": u.phone_number,
        "whatsapp_number": u.whatsapp_number,
    })
}

/// `GET /admin/users/new/`
pub async fn new_form(Console(s): Console) -> Result<Response, ConsoleError> {
    let form = serde_json::json!({ "role": "CLIENT" });
    user_page(&s, None, form, HashMap::new(), HashMap::new(), false)
}

/// `POST /admin/users/new/`: the API's create, with its validation.
pub async fn create(
    State(state): State<AppState>,
    ConsoleForm(s, form): ConsoleForm<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let body = as_body(&form, &NEW_FIELDS);
    let created = match crate::http::users::new_user(&state, &body).await {
        Ok(new) => service::create(&state, &s.user, new).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(u) => Ok(Redirect::to(&format!("/admin/users/{}/?saved=1", u.id)).into_response()),
        Err(e) if e.status().is_client_error() => {
            let kept = Value::Object(
                as_body(&form, &PROFILE_FIELDS[..])
                    .into_iter()
                    .chain(as_body(&form, &["username"]))
                    .collect(),
            );
            user_page(&s, None, kept, field_errors(&e), HashMap::new(), false)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/users/{id}/`
pub async fn retrieve(
    State(state): State<AppState>,
    Console(s): Console,
    Path(id): Path<i64>,
    Query(q): Query<UserQuery>,
) -> Result<Response, ConsoleError> {
    let u = service::retrieve(&state, id).await?;
    user_page(
        &s,
        Some(&u),
        form_of(&u),
        HashMap::new(),
        HashMap::new(),
        q.saved.is_some(),
    )
}

/// `POST /admin/users/{id}/`: the API's partial update of the profile fields.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ConsoleForm(s, form): ConsoleForm<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let u = service::retrieve(&state, id).await?;
    let body = as_body(&form, &PROFILE_FIELDS);
    let done = match crate::http::users::user_changes(&state, &body) {
        Ok(changes) => service::update(&state, &s.user, id, changes).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}/?saved=1")).into_response()),
        Err(e) if e.status().is_client_error() => user_page(
            &s,
            Some(&u),
            Value::Object(body),
            field_errors(&e),
            HashMap::new(),
            false,
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    active: bool,
}

/// `POST /admin/users/{id}/active/`: activate or deactivate (the API's service function).
pub async fn set_active(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ConsoleForm(s, form): ConsoleForm<ActiveForm>,
) -> Result<Response, ConsoleError> {
    match service::set_active(&state, &s.user, id, form.active).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}/?saved=1")).into_response()),
        Err(e) if e.status().is_client_error() => {
            let u = service::retrieve(&state, id).await?;
            user_page(
                &s,
                Some(&u),
                form_of(&u),
                field_errors(&e),
                HashMap::new(),
                false,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/users/{id}/password/`: a new password (ends the user's sessions and tokens).
pub async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ConsoleForm(s, form): ConsoleForm<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let u = service::retrieve(&state, id).await?;
    let mut body = as_body(&form, &["password", "password_confirm"]);
    body.entry("password")
        .or_insert(Value::String(String::new()));
    let done = match crate::http::users::user_changes(&state, &body) {
        Ok(changes) => service::update(&state, &s.user, id, changes).await,
        Err(e) => Err(e),
    };
    match done {
        // One's own new password ends one's own session too: sign in again.
        Ok(_) if id == s.user.id => Ok(Redirect::to("/admin/login/").into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}/?saved=1")).into_response()),
        Err(e) if e.status().is_client_error() => user_page(
            &s,
            Some(&u),
            form_of(&u),
            HashMap::new(),
            field_errors(&e),
            false,
        ),
        Err(e) => Err(e.into()),
    }
}
