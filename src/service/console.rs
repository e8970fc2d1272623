//! The admin console's sessions: sign-in (the API login's throttled credential check, then
//! ADMINs only), the session behind each request (idle and absolute expiry, ended by a password
//! change or deactivation), its CSRF token, and sign-out. The cookie carries a random id; the
//! database keeps only its SHA-256 (`db/console_sessions.rs`), so every replica serves it.

use std::net::IpAddr;

use chrono::Duration as ChronoDuration;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::auth::AuthUser;
use crate::db;
use crate::domain::datetime::now;
use crate::domain::user::Role;
use crate::error::{Error, Result};
use crate::state::AppState;

/// What a signed-in non-admin is told.
pub const ADMINS_ONLY: &str =
    "Only administrators can use the console. Your account is not an administrator's.";

/// A session is touched (its idle clock restarted) at most this often, to spare writes.
const TOUCH_EVERY: ChronoDuration = ChronoDuration::seconds(60);

/// The session behind a console request.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub user: AuthUser,
    /// The token every state-changing form of this session must carry.
    pub csrf: String,
    id_hash: String,
}

/// A new session: the cookie's value and its user.
#[derive(Debug)]
pub struct SignedIn {
    pub cookie: String,
    pub user: AuthUser,
}

fn hash_id(id: &str) -> String {
    hex(&Sha256::digest(id.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The CSRF token of a session: a MAC of its id under `SECRET_KEY`, so it is bound to the
/// session and needs no storage.
fn csrf_token(state: &AppState, id: &str) -> Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(state.config.secret_key.expose().as_bytes())
        .map_err(Error::internal)?;
    mac.update(b"console-csrf:");
    mac.update(id.as_bytes());
    Ok(hex(&mac.finalize().into_bytes()))
}

fn chrono(d: std::time::Duration) -> ChronoDuration {
    ChronoDuration::from_std(d).unwrap_or(ChronoDuration::MAX)
}

/// Signs in with the API login's checks (throttle, password queue, hash upgrade); only ADMINs
/// get a session, others are refused with [`ADMINS_ONLY`].
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<SignedIn> {
    let row = crate::service::login::check_credentials(state, username, password, ip).await?;
    if row.role != Role::Admin {
        tracing::info!(user_id = row.id, "console sign-in refused: not an admin");
        return Err(Error::Refused(ADMINS_ONLY.into()));
    }
    let at = now();
    let config = &state.config;
    db::console_sessions::prune(
        &state.db,
        at - chrono(config.console_session_idle),
        at - chrono(config.console_session_lifetime),
    )
    .await?;
    let cookie = random_id();
    db::console_sessions::create(&state.db, &hash_id(&cookie), row.id, at).await?;
    tracing::info!(user_id = row.id, "console sign-in");
    let user = AuthUser {
        id: row.id,
        username: row.username,
        first_name: row.first_name,
        last_name: row.last_name,
        role: row.role,
    };
    Ok(SignedIn { cookie, user })
}

/// The live session of a cookie, if any: an active ADMIN's, within both expiries, created after
/// the user's last password change or deactivation. An expired one is deleted.
pub async fn session(state: &AppState, cookie: &str) -> Result<Option<ConsoleSession>> {
    let id_hash = hash_id(cookie);
    let Some(row) = db::console_sessions::get(&state.db, &id_hash).await? else {
        return Ok(None);
    };
    let at = now();
    let config = &state.config;
    let expired = at - row.last_seen_at >= chrono(config.console_session_idle)
        || at - row.created_at >= chrono(config.console_session_lifetime);
    let revoked = row.tokens_valid_after.is_some_and(|t| t > row.created_at);
    if expired || revoked || !row.is_active || row.role != Role::Admin {
        db::console_sessions::delete(&state.db, &id_hash).await?;
        return Ok(None);
    }
    if at - row.last_seen_at >= TOUCH_EVERY {
        db::console_sessions::touch(&state.db, &id_hash, at).await?;
    }
    Ok(Some(ConsoleSession {
        user: AuthUser {
            id: row.user_id,
            username: row.username,
            first_name: row.first_name,
            last_name: row.last_name,
            role: row.role,
        },
        csrf: csrf_token(state, cookie)?,
        id_hash,
    }))
}

impl ConsoleSession {
    /// Whether a form's token is this session's (compared in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        !token.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// Ends the session.
pub async fn sign_out(state: &AppState, session: &ConsoleSession) -> Result<()> {
    db::console_sessions::delete(&state.db, &session.id_hash).await?;
    tracing::info!(user_id = session.user.id, "console sign-out");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_stored_hashed() {
        let (a, b) = (random_id(), random_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(hash_id(&a), a);
        assert_eq!(hash_id(&a), hash_id(&a));
    }
}
