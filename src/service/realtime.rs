//! Real-time sessions (the WebSocket and the SSE stream): opening one checks the access token as
//! every request does and registers the session under its user, and the session learns when it
//! must end (`notify::sessions`). The ends of access are announced after their commits in
//! `service::users` (`ended_access`).

use crate::auth::jwt::TokenType;
use crate::auth::AuthUser;
use crate::domain::datetime::now;
use crate::error::{Error, Result};
use crate::notify::sessions::{AccessEnded, EndReason, Registration, SessionsEnded};
use crate::service::login::authenticate;
use crate::state::AppState;

/// An open real-time session of `user`.
#[derive(Debug)]
pub struct Session {
    pub user: AuthUser,
    registration: Registration,
}

impl Session {
    /// Resolves when the session must end (cancel-safe).
    pub async fn ended(&mut self) -> EndReason {
        self.registration.ended().await
    }
}

/// Opens a session for an access token. The session is registered before the user is checked,
/// so an end of access committed after that check still finds it; a refused token drops it.
pub async fn open(state: &AppState, token: &str) -> Result<Session> {
    let claims = state
        .jwt
        .verify(token, TokenType::Access)
        .map_err(|e| Error::InvalidAccessToken(e.message()))?;
    let registration = state
        .sessions
        .register(claims.user_id, claims.iat, claims.exp);
    let user = authenticate(state, token).await?;
    Ok(Session { user, registration })
}

/// Ends `user_id`'s sessions on every replica (those opened with a token issued up to now), after
/// the commit that ended their access.
pub async fn ended_access(state: &AppState, user_id: i64, why: AccessEnded) {
    let ended = SessionsEnded {
        user_id,
        issued_up_to: now().timestamp(),
        why,
    };
    crate::notify::push::end_sessions(&state.db, &state.sessions, ended).await;
}
