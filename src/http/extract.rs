//! The `AuthUser` and `Admin` extractors: SimpleJWT's `JWTAuthentication` reads the Bearer header
//! here and authenticates its access token through `service::login::authenticate`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::auth::user::AuthUser;
use crate::error::{Error, Result};
use crate::state::AppState;

/// The raw token of a `Bearer` header: `Ok(None)` when the header is absent or another scheme
/// (anonymous), an error when it is `Bearer` with no value or more than one.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Error::InvalidAccessToken("Token is invalid"))?;
    let parts: Vec<&str> = value.split_whitespace().collect();
    match parts.as_slice() {
        [] => Ok(None),
        [scheme, ..] if *scheme != "Bearer" => Ok(None),
        [_, token] => Ok(Some((*token).to_string())),
        _ => Err(Error::TokenRefused {
            detail: "Authorization header must contain two space-delimited values",
            code: "bad_authorization_header",
        }),
    }
}

/// Authentication itself is a use case (`service::login::authenticate`); the name stays here
/// for the router's 405 answer, which authenticates before it refuses.
pub use crate::service::login::authenticate;

/// An authenticated admin. As an extractor it runs before the body is read, so a non-admin gets
/// 403 whatever the body holds: DRF parses bodies lazily, after the permission checks.
#[derive(Debug, Clone)]
pub struct Admin(pub AuthUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        user.require_admin()?;
        Ok(Admin(user))
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let token = bearer_token(&parts.headers)?.ok_or(Error::Unauthenticated)?;
        let user = authenticate(state, &token).await?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// A path id: a non-number is DRF's plain 404, like an unmatched route. Any integer, `0` and
/// negatives included, is a lookup that finds nothing: `No <Model> matches the given query.`.
/// Only digits (and a minus) make a number: `+1` is not ticket 1 (`domain::id`).
pub fn parse_id(raw: &str) -> Result<i64> {
    crate::domain::id::parse(raw).ok_or(Error::NoSuchRoute)
}
