//! A short-lived cache of authenticated users, so a request costs no extra query for the token's
//! user. Writes through this process invalidate their entry at once; other replicas see a
//! role change within `AUTH_CACHE_TTL` (default 1 s; 0 turns the cache off), and a
//! deactivation, deletion or password change as soon as its end of the user's sessions reaches
//! them (`notify::push::forward`, PostgreSQL), within that TTL at the latest.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::auth::AuthUser;

/// What authentication needs to know of a token's user.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: AuthUser,
    pub is_active: bool,
    /// Access tokens issued before this (the last deactivation) are refused.
    pub access_valid_after: Option<DateTime<Utc>>,
}

/// Entries beyond this are dropped wholesale; the cache refills from the database.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug)]
pub struct AuthCache {
    ttl: Duration,
    entries: RwLock<HashMap<i64, (Account, Instant)>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> AuthCache {
        AuthCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The user's account, if cached and fresh.
    pub fn get(&self, id: i64) -> Option<Account> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (account, at) = entries.get(&id)?;
        (at.elapsed() < self.ttl).then(|| account.clone())
    }

    pub fn put(&self, account: &Account) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(account.user.id, (account.clone(), Instant::now()));
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

    fn user() -> Account {
        Account {
            user: AuthUser {
                id: 7,
                username: "u".into(),
                first_name: String::new(),
                last_name: String::new(),
                role: Role::Client,
            },
            is_active: true,
            access_valid_after: None,
        }
    }

    #[test]
    fn entries_expire_and_invalidate() {
        let c = AuthCache::new(Duration::from_millis(50));
        c.put(&user());
        assert!(c.get(7).is_some());
        c.invalidate(7);
        assert!(c.get(7).is_none());
        c.put(&user());
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.get(7).is_none());
        let off = AuthCache::new(Duration::ZERO);
        off.put(&user());
        assert!(off.get(7).is_none());
    }
}
