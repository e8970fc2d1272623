//! `/api/users/` (admin user management, contract §9) and the user JSON shapes. Request bodies
//! are checked here; the use cases are `service::users`.

use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::db::users::UserRow;
use crate::domain::datetime::format_dt;
use crate::domain::phone::WhatsAppNumber;
use crate::domain::ticket::display_name;
use crate::domain::user::Role;
use crate::error::{Error, Result};
use crate::http::body::{is_valid_email, Body, Field, Fields, Str};
use crate::http::extract::{parse_id, Admin};
use crate::http::openapi::components::{
    DateTime, ErrorBody, ErrorOrFieldErrors, FieldErrors, InvalidFilter, InvalidPage, Message,
    NotAdmin, PageParams, Paginated, UserNotFound, UserPath,
};
use crate::http::pagination::PageRequest;
use crate::service::users::{self as service, NewUser, UserChanges};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Shapes

/// A user's identity and contact fields: a developer in `GET /api/tickets/developers/`, and the
/// base of the profile shape.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "username": "dev1", "email": "dev1@example.com", "first_name": "Omar", "last_name": "Dev",
                          "role": "SUPPORT", "phone_number": null, "whatsapp_number": "+201000000007", "department": "IT"}))]
pub struct UserBrief {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    #[schema(required = true)]
    pub whatsapp_number: Option<String>,
    #[schema(required = true)]
    pub department: Option<String>,
}

impl From<&UserRow> for UserBrief {
    fn from(u: &UserRow) -> UserBrief {
        UserBrief {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            role: u.role,
            phone_number: u.phone_number.clone(),
            whatsapp_number: u.whatsapp_number.clone(),
            department: u.department.clone(),
        }
    }
}

/// The `user` object of the login response: [`UserBrief`]'s fields (with `full_name` after the
/// names, as the original orders them) and the account's state.
#[derive(Serialize, ToSchema)]
pub struct LoginUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// First and last name, or the username when both are empty.
    pub full_name: String,
    pub role: Role,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    #[schema(required = true)]
    pub whatsapp_number: Option<String>,
    #[schema(required = true)]
    pub department: Option<String>,
    pub is_active: bool,
    #[schema(value_type = DateTime)]
    pub date_joined: String,
}

impl From<&UserRow> for LoginUser {
    fn from(u: &UserRow) -> LoginUser {
        LoginUser {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            full_name: display_name(&u.first_name, &u.last_name, &u.username),
            role: u.role,
            phone_number: u.phone_number.clone(),
            whatsapp_number: u.whatsapp_number.clone(),
            department: u.department.clone(),
            is_active: u.is_active,
            date_joined: format_dt(&u.date_joined),
        }
    }
}

/// A user's WhatsApp conversation: the 24-hour window their last message opened, and their
/// opt-out (STOP), as admins see them.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"whatsapp_last_inbound_at": "2025-12-25 14:37:35", "whatsapp_window_open": true,
                          "whatsapp_window_open_until": "2025-12-26 14:37:35", "whatsapp_opted_out_at": null}))]
pub struct WhatsAppConversation {
    /// When the user last wrote to us on WhatsApp (null: never).
    #[schema(value_type = Option<DateTime>, required = true)]
    pub whatsapp_last_inbound_at: Option<String>,
    /// True while free-form messages reach them (within 24 hours of their last message);
    /// outside it, the event's approved template is sent (`WHATSAPP_OUTSIDE_WINDOW`).
    pub whatsapp_window_open: bool,
    /// When the window closes, or closed (null: never opened).
    #[schema(value_type = Option<DateTime>, required = true)]
    pub whatsapp_window_open_until: Option<String>,
    /// When they sent STOP: no WhatsApp message reaches them until they send START (null: not
    /// opted out).
    #[schema(value_type = Option<DateTime>, required = true)]
    pub whatsapp_opted_out_at: Option<String>,
}

impl From<&UserRow> for WhatsAppConversation {
    fn from(u: &UserRow) -> WhatsAppConversation {
        use crate::domain::whatsapp::{window_is_open, window_open_until};
        let last = u.whatsapp_last_inbound_at;
        WhatsAppConversation {
            whatsapp_last_inbound_at: last.as_ref().map(format_dt),
            whatsapp_window_open: window_is_open(last, crate::domain::datetime::now()),
            whatsapp_window_open_until: window_open_until(last).as_ref().map(format_dt),
            whatsapp_opted_out_at: u.whatsapp_opted_out_at.as_ref().map(format_dt),
        }
    }
}

/// A user (users list, retrieve, create response, `by_role` items).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 4, "username": "client1", "email": "client1@example.com", "first_name": "Mona",
                          "last_name": "Adel", "full_name": "Mona Adel", "role": "CLIENT", "phone_number": "",
                          "whatsapp_number": "+201094402250", "department": "", "is_active": true,
                          "date_joined": "2025-12-23 10:15:00", "last_login": null,
                          "whatsapp_last_inbound_at": null, "whatsapp_window_open": false,
                          "whatsapp_window_open_until": null, "whatsapp_opted_out_at": null}))]
pub struct UserList {
    #[serde(flatten)]
    pub user: LoginUser,
    #[schema(value_type = Option<DateTime>, required = true)]
    pub last_login: Option<String>,
    #[serde(flatten)]
    pub whatsapp: WhatsAppConversation,
}

impl From<&UserRow> for UserList {
    fn from(u: &UserRow) -> UserList {
        UserList {
            user: LoginUser::from(u),
            last_login: u.last_login.as_ref().map(format_dt),
            whatsapp: WhatsAppConversation::from(u),
        }
    }
}

/// The users PUT/PATCH answer (`is_active` after the names, as the original orders it).
#[derive(Serialize, ToSchema)]
pub struct UserUpdate {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub role: Role,
    #[schema(required = true)]
    pub phone_number: Option<String>,
    #[schema(required = true)]
    pub whatsapp_number: Option<String>,
    #[schema(required = true)]
    pub department: Option<String>,
}

impl From<&UserRow> for UserUpdate {
    fn from(u: &UserRow) -> UserUpdate {
        UserUpdate {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            is_active: u.is_active,
            role: u.role,
            phone_number: u.phone_number.clone(),
            whatsapp_number: u.whatsapp_number.clone(),
            department: u.department.clone(),
        }
    }
}

/// A new user.
#[derive(ToSchema)]
#[schema(example = json!({"username": "dev2", "email": "dev2@example.com", "first_name": "Sara", "last_name": "Dev",
                          "password": "s3cret-pass", "password_confirm": "s3cret-pass", "role": "SUPPORT",
                          "whatsapp_number": "+201000000008"}))]
pub struct UserCreate {
    /// Letters, digits and `@.+-_` only; unique.
    #[schema(max_length = 150)]
    pub username: String,
    /// Unique among users when not blank.
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Must equal `password`.
    pub password_confirm: String,
    pub role: Role,
    #[schema(max_length = 30)]
    pub phone_number: Option<String>,
    /// An international number (stored as `+E164`; local numbers need `DEFAULT_PHONE_REGION`).
    pub whatsapp_number: Option<String>,
    #[schema(max_length = 100)]
    pub department: Option<String>,
}

/// An admin edit of a user (PUT behaves like PATCH: nothing is required).
#[derive(ToSchema)]
#[schema(example = json!({"whatsapp_number": "+201094402250", "is_active": true}))]
pub struct UserEdit {
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    /// Deactivating your own account is refused.
    pub is_active: Option<bool>,
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// Required with `password`, and must equal it.
    pub password_confirm: Option<String>,
    pub role: Option<Role>,
    #[schema(max_length = 30)]
    pub phone_number: Option<String>,
    pub whatsapp_number: Option<String>,
    #[schema(max_length = 100)]
    pub department: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Request bodies

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

fn email_field(f: &mut Fields) -> Field<String> {
    let email = f.str("email", Str::optional().max(254));
    if let Field::Value(e) = &email {
        if !e.is_empty() && !is_valid_email(e) {
            f.error("email", "Enter a valid email address.");
        }
    }
    email
}

/// The create body. A taken username is reported with the other field errors, as DRF's
/// validators do, so it is asked while the fields are read.
pub(crate) async fn new_user(state: &AppState, data: &Map<String, Value>) -> Result<NewUser> {
    let mut f = Fields::new(data);
    let username = f.str("username", Str::required().max(150));
    if let Field::Value(u) = &username {
        if !valid_username(u) {
            f.error(
                "username",
                "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
            );
        } else if service::username_taken(state, u).await? {
            f.error("username", "A user with that username already exists.");
        }
    }
    let email = email_field(&mut f);
    let first_name = f.str("first_name", Str::optional().max(150));
    let last_name = f.str("last_name", Str::optional().max(150));
    let password = f.str("password", Str::required().min(8).max(128));
    let password_confirm = f.str("password_confirm", Str::required());
    let role = f.choice("role", true, &ROLE_CHOICES);
    let (phone, whatsapp, department) = contact_fields(&mut f, state);
    f.finish()?;
    let password = password.value().unwrap_or_default();
    if password_confirm.value().as_deref() != Some(password.as_str()) {
        return Err(Error::field("password_confirm", "Passwords do not match."));
    }
    Ok(NewUser {
        username: username.value().unwrap_or_default(),
        email: email.value().unwrap_or_default(),
        first_name: first_name.value().unwrap_or_default(),
        last_name: last_name.value().unwrap_or_default(),
        password,
        role: role
            .value()
            .and_then(|r| Role::parse(&r))
            .unwrap_or(Role::Client),
        phone_number: phone.value().unwrap_or_default(),
        whatsapp_number: whatsapp.value().unwrap_or_default(),
        department: department.value().unwrap_or_default(),
    })
}

/// The edit body (PUT and PATCH alike: nothing is required).
pub(crate) fn user_changes(state: &AppState, data: &Map<String, Value>) -> Result<UserChanges> {
    let mut f = Fields::new(data);
    let email = email_field(&mut f);
    let first_name = f.str("first_name", Str::optional().max(150));
    let last_name = f.str("last_name", Str::optional().max(150));
    let is_active = f.bool("is_active");
    let password = f.str("password", Str::optional().no_blank().min(8).max(128));
    let password_confirm = f.str("password_confirm", Str::optional().no_blank());
    let role = f.choice("role", false, &ROLE_CHOICES);
    let (phone, whatsapp, department) = contact_fields(&mut f, state);
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
    Ok(UserChanges {
        email: email.value(),
        first_name: first_name.value(),
        last_name: last_name.value(),
        is_active: is_active.value(),
        password: password.value(),
        role: role.value().and_then(|r| Role::parse(&r)),
        phone_number: phone.value(),
        whatsapp_number: whatsapp.value(),
        department: department.value(),
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Every user, newest first (ADMIN).
#[utoipa::path(get, path = "/api/users/", tag = "users", operation_id = "users_list",
    params(PageParams),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A page of users", body = Paginated<UserList>),
        (status = 400, response = InvalidFilter),
        (status = 403, response = NotAdmin),
        (status = 404, response = InvalidPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _: Admin,
    page: PageRequest,
) -> Result<Json<Paginated<UserList>>> {
    let st = &state;
    let listed = page
        .load(
            |offset, limit| service::page(st, offset, limit),
            || service::count(st),
            |u: &UserRow| UserList::from(u),
        )
        .await?;
    Ok(Json(listed))
}

/// One user (ADMIN).
#[utoipa::path(get, path = "/api/users/{id}/", tag = "users", operation_id = "users_retrieve",
    params(UserPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The user", body = UserList),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn retrieve(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<UserList>> {
    let user = service::retrieve(&state, parse_id(&id)?).await?;
    Ok(Json(UserList::from(&user)))
}

/// Create a user (ADMIN).
#[utoipa::path(post, path = "/api/users/", tag = "users", operation_id = "users_create",
    request_body(content((UserCreate = "application/json"), (UserCreate = "application/x-www-form-urlencoded"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 201, description = "Created", body = UserList),
        (status = 400, description = "Field errors", body = FieldErrors,
         examples(
             ("mismatch" = (value = json!({"password_confirm": ["Passwords do not match."]}))),
             ("email_taken" = (value = json!({"email": ["Email already exists."]}))),
             ("bad_role" = (value = json!({"role": ["\"BOSS\" is not a valid choice."]}))),
         )),
        (status = 403, response = NotAdmin),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Admin(user): Admin,
    Body(data): Body,
) -> Result<(StatusCode, Json<UserList>)> {
    let new = new_user(&state, &data).await?;
    let created = service::create(&state, &user, new).await?;
    Ok((StatusCode::CREATED, Json(UserList::from(&created))))
}

/// PUT and PATCH: DRF looks the user up before it parses the body, so a missing user is a 404
/// whatever was sent.
async fn edit(
    state: AppState,
    user: AuthUser,
    id: String,
    request: Request,
) -> Result<Json<UserUpdate>> {
    let id = parse_id(&id)?;
    let changes = match Body::from_request(request, &state).await {
        Ok(Body(data)) => user_changes(&state, &data),
        Err(e) => Err(e),
    };
    let changes = match changes {
        Ok(c) => c,
        Err(e) => return Err(service::retrieve(&state, id).await.err().unwrap_or(e)),
    };
    let updated = service::update(&state, &user, id, changes).await?;
    Ok(Json(UserUpdate::from(&updated)))
}

/// Edit a user (ADMIN; like PATCH, nothing is required).
#[utoipa::path(put, path = "/api/users/{id}/", tag = "users", operation_id = "users_update",
    params(UserPath),
    request_body(content((UserEdit = "application/json"), (UserEdit = "application/x-www-form-urlencoded"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The edited user", body = UserUpdate),
        (status = 400, description = "Field errors, or deactivating yourself", body = ErrorOrFieldErrors,
         examples(
             ("confirm_required" = (value = json!({"password_confirm": ["Password confirmation is required when changing password."]}))),
             ("self_deactivation" = (value = json!({"error": "You cannot deactivate your own account"}))),
         )),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<UserUpdate>> {
    edit(state, user, id, request).await
}

/// Edit a user (ADMIN).
#[utoipa::path(patch, path = "/api/users/{id}/", tag = "users", operation_id = "users_partial_update",
    params(UserPath),
    request_body(content((UserEdit = "application/json"), (UserEdit = "application/x-www-form-urlencoded"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The edited user", body = UserUpdate),
        (status = 400, description = "Field errors, or deactivating yourself", body = ErrorOrFieldErrors),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn partial_update(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<UserUpdate>> {
    edit(state, user, id, request).await
}

/// Delete a user and everything they created (ADMIN; not yourself).
#[utoipa::path(delete, path = "/api/users/{id}/", tag = "users", operation_id = "users_destroy",
    params(UserPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Deleting yourself", body = ErrorBody,
         example = json!({"error": "You cannot delete your own account"})),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn destroy(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    service::destroy(&state, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activate a user (ADMIN; the body is ignored).
#[utoipa::path(post, path = "/api/users/{id}/activate/", tag = "users", operation_id = "users_activate",
    params(UserPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Activated", body = Message,
         example = json!({"message": "User dev1 activated successfully"})),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn activate(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
) -> Result<Json<Message>> {
    let target = service::set_active(&state, &user, parse_id(&id)?, true).await?;
    Ok(Json(Message {
        message: format!("User {} activated successfully", target.username),
    }))
}

/// Deactivate a user (ADMIN; not yourself). Their tokens stop working.
#[utoipa::path(post, path = "/api/users/{id}/deactivate/", tag = "users", operation_id = "users_deactivate",
    params(UserPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Deactivated", body = Message,
         example = json!({"message": "User dev1 deactivated successfully"})),
        (status = 400, description = "Deactivating yourself", body = ErrorBody,
         example = json!({"error": "You cannot deactivate your own account"})),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn deactivate(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
) -> Result<Json<Message>> {
    let target = service::set_active(&state, &user, parse_id(&id)?, false).await?;
    Ok(Json(Message {
        message: format!("User {} deactivated successfully", target.username),
    }))
}

/// The users with one role, as a plain array (ADMIN).
#[utoipa::path(get, path = "/api/users/by_role/", tag = "users", operation_id = "users_by_role",
    params(("role" = Role, Query, description = "`CLIENT`, `SUPPORT` or `ADMIN` (case-sensitive)")),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A plain array (not paginated), inactive users included", body = Vec<UserList>),
        (status = 400, description = "Missing or invalid role", body = ErrorBody,
         examples(
             ("missing" = (value = json!({"error": "role parameter is required"}))),
             ("invalid" = (value = json!({"error": "Invalid role. Must be CLIENT, SUPPORT, or ADMIN"}))),
         )),
        (status = 403, response = NotAdmin),
    ))]
pub async fn by_role(
    State(state): State<AppState>,
    _: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<UserList>>> {
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
    let rows = service::by_role(&state, role).await?;
    Ok(Json(rows.iter().map(UserList::from).collect()))
}
