//! A short-lived cache of authenticated users, so a request costs no extra query for the token's
//! user. Writes through this process invalidate their entry at once; other replicas see a
//! role change within `AUTH_CACHE_TTL` (default 1 s; 0 turns the cache off), and a
//! deactivation, deletion or password change as soon as its end of the user's sessions reaches
//! them (`notify::push::forward`, PostgreSQL), within that TTL at the latest.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::auth::AuthUser;

/// Entries beyond this are dropped wholesale; the cache refills from the database.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug)]
pub struct AuthCache {
    ttl: Duration,
    entries: RwLock<HashMap<i64, (AuthUser, bool, Instant)>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> AuthCache {
        AuthCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The user and whether they are active, if cached and fresh.
    pub fn get(&self, id: i64) -> Option<(AuthUser, bool)> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (user, active, at) = entries.get(&id)?;
        (at.elapsed() < self.ttl).then(|| (user.clone(), *active))
    }

    pub fn put(&self, user: &AuthUser, active: bool) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(user.id, (user.clone(), active, Instant::now()));
        }
    }

    /// Forgets a user whose account, role or name just changed.
    pub fn invalidate(&self, id: i64) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    fn user() -> AuthUser {
        AuthUser {
            id: 7,
            username: "u".into(),
            first_name: String::new(),
            last_name: String::new(),
            role: Role::Client,
        }
    }

    #[test]
    fn entries_expire_and_invalidate() {
        let c = AuthCache::new(Duration::from_millis(50));
        c.put(&user(), true);
        assert!(c.get(7).is_some());
        c.invalidate(7);
        assert!(c.get(7).is_none());
        c.put(&user(), true);
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.get(7).is_none());
        let off = AuthCache::new(Duration::ZERO);
        off.put(&user(), true);
        assert!(off.get(7).is_none());
    }
}
