//! `POST /api/auth/login/` and `POST /api/auth/refresh/` (SimpleJWT's views, contract §2): the
//! request bodies are read here, the rest is `service::login`.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Result;
use crate::http::body::{Body, Fields, Str};
use crate::http::client_ip::ClientIp;
use crate::http::openapi::components::{Detail, FieldErrors, RefreshRefused};
use crate::http::users::LoginUser;
use crate::service::login;
use crate::state::AppState;

/// `Cache-Control: no-store` on the token views' answers (every status): tokens must not be
/// kept by a browser or proxy cache.
pub fn no_store() -> tower_http::set_header::SetResponseHeaderLayer<axum::http::HeaderValue> {
    tower_http::set_header::SetResponseHeaderLayer::overriding(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    )
}

/// Login credentials (JSON, form or multipart; both values are trimmed).
#[derive(ToSchema)]
#[schema(example = json!({"username": "client1", "password": "s3cret-pass"}))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A refresh token (2 days) and an access token (2 hours), with the user.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
    "user": {"id": 4, "username": "client1", "email": "client1@example.com", "first_name": "Mona", "last_name": "Adel",
             "full_name": "Mona Adel", "role": "CLIENT", "phone_number": "", "whatsapp_number": "+201094402250",
             "department": "", "is_active": true, "date_joined": "2025-12-23 10:15:00"}
}))]
pub struct LoginResponse {
    pub refresh: String,
    pub access: String,
    pub user: LoginUser,
}

#[derive(ToSchema)]
#[schema(example = json!({"refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"}))]
pub struct RefreshRequest {
    pub refresh: String,
}

/// A new access token and a new refresh token (the presented one is blacklisted).
#[derive(Serialize, ToSchema)]
pub struct RefreshResponse {
    pub access: String,
    pub refresh: String,
}

/// Log in: tokens and the user.
#[utoipa::path(post, path = "/api/auth/login/", tag = "auth", operation_id = "auth_login",
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Missing or blank fields, wrong credentials or an inactive user, no profile, or an unparsable body", body = FieldErrors,
         examples(
             ("bad_credentials" = (value = json!({"non_field_errors": ["Unable to log in with provided credentials."]}))),
             ("missing_fields" = (value = json!({"username": ["This field is required."], "password": ["This field is required."]}))),
             ("no_profile" = (value = json!({"non_field_errors": ["User profile not found. Please contact administrator."]}))),
         )),
        (status = 429, description = "Throttled, before any password check: too many refused logins for this username from this address (`LOGIN_MAX_FAILURES` within `LOGIN_LOCKOUT`), or from this address whatever the usernames (`LOGIN_MAX_FAILURES_PER_ADDRESS`), or the password-check queue would make this login wait longer than `LOGIN_MAX_HASH_WAIT`. `Retry-After` gives the seconds to wait",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         body = Detail, example = json!({"detail": "Request was throttled. Expected available in 897 seconds."})),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Body(data): Body,
) -> Result<Json<LoginResponse>> {
    let mut f = Fields::new(&data);
    let username = f.str("username", Str::required());
    let password = f.str("password", Str::required());
    f.finish()?;
    let (username, password) = (
        username.value().unwrap_or_default(),
        password.value().unwrap_or_default(),
    );
    let done = login::login(&state, &username, &password, ip).await?;
    Ok(Json(LoginResponse {
        refresh: done.tokens.refresh,
        access: done.tokens.access,
        user: LoginUser::from(&done.user),
    }))
}

/// Exchange a refresh token for a new access token and a new (rotated) refresh token.
#[utoipa::path(post, path = "/api/auth/refresh/", tag = "auth", operation_id = "auth_refresh",
    request_body(content(
        (RefreshRequest = "application/json"),
        (RefreshRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "New tokens", body = RefreshResponse),
        (status = 400, description = "`refresh` missing", body = FieldErrors,
         example = json!({"refresh": ["This field is required."]})),
        (status = 401, description = "Invalid, expired, wrong-type or blacklisted token (rotated already, or issued before the user's last password change or deactivation), or an inactive user",
         content(
             (RefreshRefused = "application/json", examples(
                 ("invalid" = (value = json!({"detail": "Token is invalid", "code": "token_not_valid"}))),
                 ("expired" = (value = json!({"detail": "Token is expired", "code": "token_not_valid"}))),
                 ("wrong_type" = (value = json!({"detail": "Token has wrong type", "code": "token_not_valid"}))),
                 ("blacklisted" = (value = json!({"detail": "Token is blacklisted", "code": "token_not_valid"}))),
                 ("inactive_user" = (value = json!({"detail": "No active account found for the given token."}))),
             )),
         )),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    Body(data): Body,
) -> Result<Json<RefreshResponse>> {
    let mut f = Fields::new(&data);
    let token = f.str("refresh", Str::required());
    f.finish()?;
    let tokens = login::refresh(&state, &token.value().unwrap_or_default()).await?;
    Ok(Json(RefreshResponse {
        access: tokens.access,
        refresh: tokens.refresh,
    }))
}
