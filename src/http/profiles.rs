//! `/api/profiles/` (read-only, scoped) and `/api/profile/update/` (contract §10), with the
//! profile JSON shapes. The use cases are `service::users`.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::db::users::UserRow;
use crate::domain::datetime::format_dt;
use crate::error::{Error, Result};
use crate::http::body::{Body, Field, Fields, Str};
use crate::http::extract::parse_id;
use crate::http::openapi::components::{
    DateTime, Detail, FieldErrors, InvalidFilter, InvalidPage, PageParams, Paginated,
};
use crate::http::pagination::PageRequest;
use crate::http::users::{UserBrief, WhatsAppConversation};
use crate::service::users::{self as service, ProfileChanges};
use crate::state::AppState;

/// A profile (`id` is the profile id, not the user id).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 3, "username": "client1", "email": "client1@example.com", "first_name": "Mona",
                          "last_name": "Adel", "role": "CLIENT", "phone_number": "", "whatsapp_number": "+201094402250",
                          "department": "", "created_at": "2025-12-23 10:15:00", "updated_at": "2025-12-24 09:00:00",
                          "whatsapp_last_inbound_at": "2025-12-24 08:00:00", "whatsapp_window_open": true,
                          "whatsapp_window_open_until": "2025-12-25 08:00:00", "whatsapp_opted_out_at": null}))]
pub struct Profile {
    #[serde(flatten)]
    pub user: UserBrief,
    #[schema(value_type = DateTime)]
    pub created_at: String,
    #[schema(value_type = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub whatsapp: WhatsAppConversation,
}

/// Update yourself: names and password only (other keys are ignored).
#[derive(ToSchema)]
#[schema(example = json!({"first_name": "Mona", "last_name": "Adel"}))]
pub struct ProfileUpdate {
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// Must equal a non-empty `password`.
    pub password_confirm: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"first_name": "Mona", "last_name": "Adel"}))]
pub struct ProfileUpdated {
    pub first_name: String,
    pub last_name: String,
}

impl From<&UserRow> for Profile {
    fn from(u: &UserRow) -> Profile {
        Profile {
            user: UserBrief {
                id: u.profile_id,
                ..UserBrief::from(u)
            },
            created_at: format_dt(&u.profile_created_at),
            updated_at: format_dt(&u.profile_updated_at),
            whatsapp: WhatsAppConversation::from(u),
        }
    }
}

/// Profiles: all for admins, your own for everyone else.
#[utoipa::path(get, path = "/api/profiles/", tag = "profiles", operation_id = "profiles_list",
    params(PageParams),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A page of profiles", body = Paginated<Profile>),
        (status = 400, response = InvalidFilter),
        (status = 404, response = InvalidPage),
    ))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    page: PageRequest,
) -> Result<Json<Paginated<Profile>>> {
    let (st, u) = (&state, &user);
    let listed = page
        .load(
            |offset, limit| service::profiles_page(st, u, offset, limit),
            || service::profiles_count(st, u),
            |u: &UserRow| Profile::from(u),
        )
        .await?;
    Ok(Json(listed))
}

/// One profile (by profile id), within the same scope.
#[utoipa::path(get, path = "/api/profiles/{id}/", tag = "profiles", operation_id = "profiles_retrieve",
    params(("id" = i64, Path, description = "Profile id (not the user id)")),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The profile", body = Profile),
        (status = 404, description = "No such profile, or not yours", body = Detail,
         example = json!({"detail": "No UserProfile matches the given query."})),
    ))]
pub async fn retrieve(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Profile>> {
    let row = service::profile(&state, &user, parse_id(&id)?).await?;
    Ok(Json(Profile::from(&row)))
}

/// Names and password only; other keys are ignored.
fn profile_changes(data: &serde_json::Map<String, Value>) -> Result<ProfileChanges> {
    let mut f = Fields::new(data);
    let first_name = f.str("first_name", Str::optional().max(150));
    let last_name = f.str("last_name", Str::optional().max(150));
    let password = f.str("password", Str::optional().no_blank().min(8).max(128));
    let confirm = f.str("password_confirm", Str::optional());
    f.finish()?;
    let password = match password {
        Field::Value(p) if confirm.value().as_deref() != Some(p.as_str()) => {
            return Err(Error::field("password_confirm", "Passwords do not match."))
        }
        Field::Value(p) => Some(p),
        _ => None,
    };
    Ok(ProfileChanges {
        first_name: first_name.value(),
        last_name: last_name.value(),
        password,
    })
}

async fn edit_self(
    state: AppState,
    user: AuthUser,
    data: serde_json::Map<String, Value>,
) -> Result<Json<ProfileUpdated>> {
    let changes = profile_changes(&data)?;
    let row = service::update_self(&state, &user, changes).await?;
    Ok(Json(ProfileUpdated {
        first_name: row.first_name,
        last_name: row.last_name,
    }))
}

/// Update your own names or password.
#[utoipa::path(put, path = "/api/profile/update/", tag = "profiles", operation_id = "profile_update",
    request_body(content((ProfileUpdate = "application/json"), (ProfileUpdate = "application/x-www-form-urlencoded"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Updated", body = ProfileUpdated),
        (status = 400, description = "Field errors", body = FieldErrors,
         example = json!({"password_confirm": ["Passwords do not match."]})),
    ))]
pub async fn update_self(
    State(state): State<AppState>,
    user: AuthUser,
    Body(data): Body,
) -> Result<Json<ProfileUpdated>> {
    edit_self(state, user, data).await
}

/// Update your own names or password.
#[utoipa::path(patch, path = "/api/profile/update/", tag = "profiles", operation_id = "profile_partial_update",
    request_body(content((ProfileUpdate = "application/json"), (ProfileUpdate = "application/x-www-form-urlencoded"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Updated", body = ProfileUpdated),
        (status = 400, description = "Field errors", body = FieldErrors),
    ))]
pub async fn partial_update_self(
    State(state): State<AppState>,
    user: AuthUser,
    Body(data): Body,
) -> Result<Json<ProfileUpdated>> {
    edit_self(state, user, data).await
}
