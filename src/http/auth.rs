//! `POST /api/auth/login/` and `POST /api/auth/refresh/` (SimpleJWT's views, contract §2).

use axum::extract::State;
use axum::Json;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use crate::auth::jwt::{Claims, TokenError, TokenType};
use crate::auth::password::Verification;
use crate::db;
use crate::domain::datetime::now;
use crate::error::{Error, Result};
use crate::http::body::{Body, Fields, Str};
use crate::http::client_ip::ClientIp;
use crate::http::users::login_user_json;
use crate::state::AppState;

const BAD_CREDENTIALS: &str = "Unable to log in with provided credentials.";

fn issued<'a>(c: &'a Claims) -> db::tokens::Issued<'a> {
    db::tokens::Issued {
        user_id: c.user_id,
        jti: &c.jti,
        created_at: Utc
            .timestamp_opt(c.iat, 0)
            .single()
            .unwrap_or_else(Utc::now),
        expires_at: Utc
            .timestamp_opt(c.exp, 0)
            .single()
            .unwrap_or_else(Utc::now),
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Body(data): Body,
) -> Result<Json<Value>> {
    let mut f = Fields::new(&data);
    let username = f.str("username", Str::required());
    let password = f.str("password", Str::required());
    f.finish()?;
    let (username, password) = (
        username.value().unwrap_or_default(),
        password.value().unwrap_or_default(),
    );
    let throttle = &state.login_throttle;
    if let Err(wait) = throttle.check(&username, ip) {
        return Err(Error::Throttled(wait.as_secs_f64().ceil() as u64));
    }

    let found = db::users::login_lookup(&state.db, &username).await?;
    let verdict = crate::auth::verify_password(
        password.clone(),
        found.as_ref().map(|(_, hash, _)| hash.clone()),
    )
    .await;
    let accepted = match found {
        Some((user_id, _, true)) if verdict != Verification::Invalid => Some(user_id),
        _ => None,
    };
    let Some(user_id) = accepted else {
        if throttle.failed(&username, ip) {
            tracing::warn!(username = %username, ip = ?ip, lockout_s = state.config.login_lockout.as_secs(),
                "login locked out after {} refused attempts", state.config.login_max_failures);
        }
        return Err(Error::Validation(
            json!({"non_field_errors": [BAD_CREDENTIALS]}),
        ));
    };
    throttle.succeeded(&username, ip);
    // A refused login (no profile) is not a login: it leaves last_login alone.
    let user = db::users::get(&state.db, user_id).await?.ok_or_else(|| {
        Error::Validation(
            json!({"non_field_errors": ["User profile not found. Please contact administrator."]}),
        )
    })?;
    let upgraded = match verdict {
        Verification::ValidNeedsRehash => Some(crate::auth::hash_password(password).await?),
        _ => None,
    };
    db::users::record_login(&state.db, user_id, upgraded.as_deref(), now()).await?;

    let refresh = state
        .jwt
        .issue(user_id, TokenType::Refresh)
        .map_err(Error::internal)?;
    let access = state
        .jwt
        .issue(user_id, TokenType::Access)
        .map_err(Error::internal)?;
    db::tokens::record(&state.db, &issued(&refresh.claims)).await?;
    tracing::info!(user_id, "login");
    Ok(Json(
        json!({"refresh": refresh.token, "access": access.token, "user": login_user_json(&user)}),
    ))
}

fn refresh_error(e: TokenError) -> Error {
    Error::TokenRefused {
        detail: e.message(),
        code: "token_not_valid",
    }
}

const BLACKLISTED: Error = Error::TokenRefused {
    detail: "Token is blacklisted",
    code: "token_not_valid",
};

pub async fn refresh(State(state): State<AppState>, Body(data): Body) -> Result<Json<Value>> {
    let mut f = Fields::new(&data);
    let token = f.str("refresh", Str::required());
    f.finish()?;
    let token = token.value().unwrap_or_default();

    let claims = state
        .jwt
        .verify(&token, TokenType::Refresh)
        .map_err(refresh_error)?;
    if db::tokens::is_blacklisted(&state.db, &claims.jti).await? {
        return Err(BLACKLISTED);
    }
    match db::users::auth_user(&state.db, claims.user_id).await? {
        // Issued before a password change (to the second: a login in the same second stays valid).
        Some(u)
            if u.tokens_valid_after
                .is_some_and(|t| claims.iat < t.timestamp()) =>
        {
            return Err(BLACKLISTED)
        }
        Some(u) if u.is_active => {}
        // The original answered 500 for a deleted user; both cases get its inactive answer.
        _ => {
            return Err(Error::CredentialsRefused(
                "No active account found for the given token.",
            ))
        }
    }
    let new_refresh = state
        .jwt
        .issue(claims.user_id, TokenType::Refresh)
        .map_err(Error::internal)?;
    let access = state
        .jwt
        .issue(claims.user_id, TokenType::Access)
        .map_err(Error::internal)?;
    if !db::tokens::rotate(
        &state.db,
        &issued(&claims),
        &issued(&new_refresh.claims),
        now(),
    )
    .await?
    {
        return Err(BLACKLISTED);
    }
    Ok(Json(
        json!({"access": access.token, "refresh": new_refresh.token}),
    ))
}
