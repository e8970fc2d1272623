//! Logging in and staying logged in: the login (throttle, password check, hash upgrade, tokens),
//! the refresh-token rotation with its revocation rules, and the authentication of an access
//! token on every request.

use std::net::IpAddr;

use crate::auth::cache::Account;
use crate::auth::jwt::{Claims, TokenError, TokenType};
use crate::auth::password::Verification;
use crate::auth::AuthUser;
use crate::db::tokens::Rotation;
use crate::db::{self, users::UserRow};
use crate::domain::datetime::now;
use crate::domain::user::revoked;
use crate::error::{Error, Result};
use crate::state::AppState;

const BAD_CREDENTIALS: &str = "Unable to log in with provided credentials.";
const NO_PROFILE: &str = "User profile not found. Please contact administrator.";

/// A fresh pair of tokens.
#[derive(Debug)]
pub struct Tokens {
    pub refresh: String,
    pub access: String,
}

/// A successful login: the tokens and the user they were issued to.
#[derive(Debug)]
pub struct LoggedIn {
    pub tokens: Tokens,
    pub user: UserRow,
}

fn issued(c: &Claims) -> db::tokens::Issued<'_> {
    db::tokens::Issued {
        user_id: c.user_id,
        jti: &c.jti,
        created_at: c.issued_at(),
        expires_at: c.expires_at(),
    }
}

/// Checks the credentials. The throttle (per username and address, per address) and the
/// password-check queue are asked first, so a refused caller costs no hash; an unknown user
/// costs the same time as a wrong password.
async fn verify(
    state: &AppState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<(i64, Verification)> {
    let throttled = |wait: std::time::Duration| Error::Throttled(wait.as_secs_f64().ceil() as u64);
    let attempt = state
        .login_throttle
        .begin(username, ip)
        .map_err(throttled)?;
    let place = state.login_queue.admit().map_err(|wait| {
        tracing::warn!(
            wait_ms = wait.as_millis() as u64,
            "login refused: the password-check queue is full"
        );
        throttled(wait)
    })?;
    let found = db::users::login_lookup(&state.db, username).await?;
    let verdict = place
        .verify(
            password.to_string(),
            found.as_ref().map(|(_, hash, _)| hash.clone()),
        )
        .await;
    match found {
        Some((user_id, _, true)) if verdict != Verification::Invalid => {
            attempt.succeeded();
            Ok((user_id, verdict))
        }
        _ => {
            if attempt.failed() {
                tracing::warn!(username = %username, ip = ?ip, lockout_s = state.config.login_lockout.as_secs(),
                    "login locked out after {} refused attempts", state.config.login_max_failures);
            }
            Err(Error::field("non_field_errors", BAD_CREDENTIALS))
        }
    }
}

/// Checks a login's credentials (throttled) and records it: `last_login` is set and an
/// old-format hash upgraded. The API's login and the admin console's sign-in both start here.
pub async fn check_credentials(
    state: &AppState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<UserRow> {
    let (user_id, verdict) = verify(state, username, password, ip).await?;
    // A refused login (no profile) is not a login: it leaves last_login alone.
    let user = db::users::get(&state.db, user_id)
        .await?
        .ok_or_else(|| Error::field("non_field_errors", NO_PROFILE))?;
    let upgraded = match verdict {
        Verification::ValidNeedsRehash => {
            Some(crate::auth::hash_password(password.to_string()).await?)
        }
        _ => None,
    };
    db::users::record_login(&state.db, user_id, upgraded.as_deref(), now()).await?;
    Ok(user)
}

/// Logs a user in: on success `last_login` is recorded, an old-format hash is upgraded, and a
/// refresh token (recorded for rotation) and an access token are issued.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<LoggedIn> {
    let user = check_credentials(state, username, password, ip).await?;
    let user_id = user.id;
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
    Ok(LoggedIn {
        tokens: Tokens {
            refresh: refresh.token,
            access: access.token,
        },
        user,
    })
}

fn refresh_error(e: TokenError) -> Error {
    Error::TokenRefused {
        detail: e.message(),
        code: "token_not_valid",
    }
}

const BLACKLISTED: Error = Error::TokenRefused {
    detail: TokenError::Blacklisted.message(),
    code: "token_not_valid",
};

const NO_ACTIVE_ACCOUNT: Error =
    Error::CredentialsRefused("No active account found for the given token.");

/// Exchanges a refresh token for a new pair. Refused: a bad token, one already rotated, one
/// issued before the user's last password change or deactivation (to the microsecond for this
/// server's tokens, see `auth::jwt`), or an inactive or deleted user.
pub async fn refresh(state: &AppState, token: &str) -> Result<Tokens> {
    let claims = state
        .jwt
        .verify(token, TokenType::Refresh)
        .map_err(refresh_error)?;
    // An inactive user's tokens are all blacklisted (the deactivation did it); the contract's
    // answer for them names the account. The original answered 500 for a deleted user; both
    // cases get its inactive answer.
    let user = match db::users::auth_user(&state.db, claims.user_id).await? {
        Some(u) if u.is_active => u,
        _ => return Err(NO_ACTIVE_ACCOUNT),
    };
    if revoked(claims.issued_at(), user.tokens_valid_after)
        || db::tokens::is_blacklisted(&state.db, &claims.jti).await?
    {
        return Err(BLACKLISTED);
    }
    let new_refresh = state
        .jwt
        .issue(claims.user_id, TokenType::Refresh)
        .map_err(Error::internal)?;
    let access = state
        .jwt
        .issue(claims.user_id, TokenType::Access)
        .map_err(Error::internal)?;
    // The checks above answer most refusals without a write; the rotation repeats them under the
    // user row's lock, against a concurrent password change or deactivation.
    match db::tokens::rotate(
        &state.db,
        &issued(&claims),
        &issued(&new_refresh.claims),
        now(),
    )
    .await?
    {
        Rotation::Rotated => Ok(Tokens {
            access: access.token,
            refresh: new_refresh.token,
        }),
        Rotation::Blacklisted => Err(BLACKLISTED),
        Rotation::NoActiveUser => Err(NO_ACTIVE_ACCOUNT),
    }
}

/// Authenticates an access token: signature, expiry and type, then an existing, active user
/// (from the short-lived cache when fresh) who has not been deactivated since it was issued.
pub async fn authenticate(state: &AppState, token: &str) -> Result<AuthUser> {
    let claims = state
        .jwt
        .verify(token, TokenType::Access)
        .map_err(|e| Error::InvalidAccessToken(e.message()))?;
    let account = match state.auth_cache.get(claims.user_id) {
        Some(hit) => hit,
        None => {
            let row = db::users::auth_user(&state.db, claims.user_id)
                .await?
                .ok_or(Error::TokenRefused {
                    detail: "User not found",
                    code: "user_not_found",
                })?;
            let account = Account {
                user: AuthUser {
                    id: row.id,
                    username: row.username,
                    first_name: row.first_name,
                    last_name: row.last_name,
                    role: row.role,
                },
                is_active: row.is_active,
                access_valid_after: row.access_valid_after,
            };
            state.auth_cache.put(&account);
            account
        }
    };
    if !account.is_active {
        return Err(Error::TokenRefused {
            detail: "User is inactive",
            code: "user_inactive",
        });
    }
    // Issued before a deactivation: a re-activation does not bring it back.
    if revoked(claims.issued_at(), account.access_valid_after) {
        return Err(Error::InvalidAccessToken(TokenError::Blacklisted.message()));
    }
    Ok(account.user)
}
