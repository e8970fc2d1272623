//! This process's live real-time sessions (WebSocket and SSE), by user, and how each learns that
//! it must end: its access token expires, the user's access ends (deactivation, deletion,
//! password change: `SessionsEnded`, sent to every replica by `push::end_sessions`), or the user
//! opened more than `MAX_REALTIME_SESSIONS_PER_USER` and it is the oldest.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Why a user's access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessEnded {
    Deactivated,
    Deleted,
    PasswordChanged,
}

/// "End every session of `user_id` opened with a token issued at or before `issued_up_to`"
/// (seconds, as tokens carry `iat`): a session opened afterwards with a new token survives the
/// message, which may reach a replica late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsEnded {
    pub user_id: i64,
    pub issued_up_to: i64,
    pub why: AccessEnded,
}

/// Why one session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    TokenExpired,
    AccessEnded(AccessEnded),
    /// The user opened more sessions than allowed and this is the oldest.
    TooManySessions,
}

impl EndReason {
    /// The WebSocket close code: 4001 for authentication, as the original closed a refused
    /// handshake; 4008 (after 1008, policy violation) for the session cap.
    pub fn close_code(self) -> u16 {
        match self {
            EndReason::TokenExpired | EndReason::AccessEnded(_) => 4001,
            EndReason::TooManySessions => 4008,
        }
    }

    /// The WebSocket close reason and the SSE stream's last event, in SimpleJWT's words where
    /// it has them.
    pub fn message(self) -> &'static str {
        match self {
            EndReason::TokenExpired => "Token is expired",
            EndReason::AccessEnded(AccessEnded::Deactivated) => "User is inactive",
            EndReason::AccessEnded(AccessEnded::Deleted) => "User not found",
            EndReason::AccessEnded(AccessEnded::PasswordChanged) => "Password changed",
            EndReason::TooManySessions => "Too many sessions for this user",
        }
    }
}

/// One live session as the registry holds it.
#[derive(Debug)]
struct Live {
    id: u64,
    token_issued_at: i64,
    end: watch::Sender<Option<EndReason>>,
}

/// The live sessions of this process, oldest first for each user.
#[derive(Debug)]
pub struct Sessions {
    max_per_user: usize,
    next_id: AtomicU64,
    live: Mutex<HashMap<i64, Vec<Live>>>,
}

impl Sessions {
    pub fn new(max_per_user: usize) -> Arc<Sessions> {
        Arc::new(Sessions {
            max_per_user: max_per_user.max(1),
            next_id: AtomicU64::new(1),
            live: Mutex::new(HashMap::new()),
        })
    }

    /// Registers a session of `user_id` whose access token was issued at `token_issued_at` and
    /// expires at `token_expires_at` (Unix seconds); ends the user's oldest sessions beyond the
    /// cap. The session is unregistered when the `Registration` is dropped.
    pub fn register(
        self: &Arc<Self>,
        user_id: i64,
        token_issued_at: i64,
        token_expires_at: i64,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (end, ended) = watch::channel(None);
        let mut live = self.lock();
        let sessions = live.entry(user_id).or_default();
        let excess = (sessions.len() + 1).saturating_sub(self.max_per_user);
        for oldest in sessions.drain(..excess) {
            oldest.end.send_replace(Some(EndReason::TooManySessions));
        }
        sessions.push(Live {
            id,
            token_issued_at,
            end,
        });
        Registration {
            sessions: self.clone(),
            user_id,
            id,
            ended,
            expires: deadline(token_expires_at),
        }
    }

    /// Ends the sessions `ended` names (none, when the user has none here).
    pub fn end(&self, ended: &SessionsEnded) {
        let mut live = self.lock();
        let Some(sessions) = live.get_mut(&ended.user_id) else {
            return;
        };
        sessions.retain(|s| {
            let ends = s.token_issued_at <= ended.issued_up_to;
            if ends {
                s.end.send_replace(Some(EndReason::AccessEnded(ended.why)));
            }
            !ends
        });
        if sessions.is_empty() {
            live.remove(&ended.user_id);
        }
    }

    /// How many sessions `user_id` has open here.
    pub fn count(&self, user_id: i64) -> usize {
        self.lock().get(&user_id).map_or(0, Vec::len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Vec<Live>>> {
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unregister(&self, user_id: i64, id: u64) {
        let mut live = self.lock();
        if let Some(sessions) = live.get_mut(&user_id) {
            sessions.retain(|s| s.id != id);
            if sessions.is_empty() {
                live.remove(&user_id);
            }
        }
    }
}

/// The instant of the Unix second `at` (SimpleJWT: a token is expired from its `exp` on); an
/// `exp` beyond what the clock can hold is a deadline a century away.
fn deadline(at: i64) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    let ms = at
        .saturating_mul(1000)
        .saturating_sub(chrono::Utc::now().timestamp_millis());
    now.checked_add(Duration::from_millis(ms.max(0) as u64))
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

/// One registered session; dropping it unregisters the session.
#[derive(Debug)]
pub struct Registration {
    sessions: Arc<Sessions>,
    user_id: i64,
    id: u64,
    ended: watch::Receiver<Option<EndReason>>,
    expires: tokio::time::Instant,
}

impl Registration {
    /// Resolves when the session must end, with the reason. Cancel-safe: call it in every turn
    /// of a `select!` loop.
    pub async fn ended(&mut self) -> EndReason {
        let told = async {
            match self.ended.wait_for(Option::is_some).await {
                Ok(reason) => *reason,
                // The registry never drops a sender without a reason.
                Err(_) => None,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep_until(self.expires) => EndReason::TokenExpired,
            Some(reason) = told => reason,
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.sessions.unregister(self.user_id, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> i64 {
        chrono::Utc::now().timestamp() + 3600
    }

    #[tokio::test]
    async fn the_oldest_session_beyond_the_cap_ends_and_dropped_ones_unregister() {
        let s = Sessions::new(2);
        let mut first = s.register(7, 0, far());
        let second = s.register(7, 0, far());
        let _other_user = s.register(8, 0, far());
        assert_eq!(s.count(7), 2);
        let _third = s.register(7, 0, far());
        assert_eq!(first.ended().await, EndReason::TooManySessions);
        assert_eq!(s.count(7), 2);
        drop(second);
        assert_eq!(s.count(7), 1);
        assert_eq!(s.count(8), 1);
    }

    #[tokio::test]
    async fn access_ends_for_tokens_issued_up_to_the_change_only() {
        let s = Sessions::new(5);
        let mut old = s.register(7, 100, far());
        let mut new = s.register(7, 200, far());
        s.end(&SessionsEnded {
            user_id: 7,
            issued_up_to: 150,
            why: AccessEnded::PasswordChanged,
        });
        assert_eq!(
            old.ended().await,
            EndReason::AccessEnded(AccessEnded::PasswordChanged)
        );
        assert_eq!(s.count(7), 1);
        let still_open = tokio::time::timeout(Duration::from_millis(20), new.ended()).await;
        assert!(still_open.is_err());
    }

    #[tokio::test]
    async fn a_token_with_a_huge_expiry_keeps_its_session_open() {
        let s = Sessions::new(5);
        let mut r = s.register(7, 0, i64::MAX);
        let open = tokio::time::timeout(Duration::from_millis(20), r.ended()).await;
        assert!(open.is_err());
    }

    #[tokio::test]
    async fn a_session_ends_when_its_token_expires() {
        let s = Sessions::new(5);
        let now = chrono::Utc::now().timestamp();
        let mut r = s.register(7, now, now + 1);
        let reason = tokio::time::timeout(Duration::from_secs(3), r.ended()).await;
        assert_eq!(reason, Ok(EndReason::TokenExpired));
    }
}
