//! Login throttling: the original had none (contract §17 item 12). After `max_failures` refused
//! logins for one username from one address, further attempts for that pair, right or wrong,
//! are refused with DRF's 429 until `lockout` has passed since the last failure; a successful
//! login clears the count. Counts live in this process (each replica counts its own).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Beyond this many tracked pairs, stale ones are dropped; beyond ten times it, all are.
const PRUNE_AT: usize = 10_000;

const MAX_USERNAME_CHARS: usize = 150;

type Key = (String, Option<IpAddr>);

#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
    failures: Mutex<HashMap<Key, (u32, Instant)>>,
}

impl LoginThrottle {
    /// `max_failures` 0 turns throttling off.
    pub fn new(max_failures: u32, lockout: Duration) -> LoginThrottle {
        LoginThrottle {
            max_failures,
            lockout,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Usernames are at most 150 characters (Django's limit); a longer guess is cut there, so an
    /// entry stays small whatever the request body holds.
    fn key(username: &str, ip: Option<IpAddr>) -> Key {
        (username.chars().take(MAX_USERNAME_CHARS).collect(), ip)
    }

    /// `Err(wait)` while the pair is locked out.
    pub fn check(&self, username: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        self.check_at(username, ip, Instant::now())
    }

    fn check_at(&self, username: &str, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        if self.max_failures == 0 {
            return Ok(());
        }
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(&Self::key(username, ip)) {
            Some(&(n, last)) if n >= self.max_failures => {
                let waited = now.saturating_duration_since(last);
                match self.lockout.checked_sub(waited) {
                    Some(wait) if !wait.is_zero() => Err(wait),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Counts a refused login; a count older than `lockout` starts again. True when this
    /// failure locked the pair out.
    pub fn failed(&self, username: &str, ip: Option<IpAddr>) -> bool {
        self.failed_at(username, ip, Instant::now())
    }

    fn failed_at(&self, username: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        if self.max_failures == 0 {
            return false;
        }
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= PRUNE_AT {
            let lockout = self.lockout;
            failures.retain(|_, (_, last)| now.saturating_duration_since(*last) < lockout);
            if failures.len() >= PRUNE_AT * 10 {
                failures.clear();
            }
        }
        let entry = failures.entry(Self::key(username, ip)).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= self.lockout {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        entry.0 == self.max_failures
    }

    pub fn succeeded(&self, username: &str, ip: Option<IpAddr>) {
        if self.max_failures == 0 {
            return;
        }
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&Self::key(username, ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn locks_after_max_failures_until_lockout_passed_since_the_last() {
        let t = LoginThrottle::new(3, MIN);
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(t.check_at("bob", IP, start), Ok(()), "attempt {i}");
            assert_eq!(
                t.failed_at("bob", IP, start + Duration::from_secs(i)),
                i == 2
            );
        }
        let last = start + Duration::from_secs(2);
        assert_eq!(
            t.check_at("bob", IP, last + Duration::from_secs(10)),
            Err(Duration::from_secs(50))
        );
        assert_eq!(t.check_at("bob", IP, last + MIN), Ok(()));
        // Another username or address is not affected.
        assert_eq!(t.check_at("alice", IP, last), Ok(()));
        assert_eq!(t.check_at("bob", None, last), Ok(()));
    }

    #[test]
    fn success_clears_and_old_failures_expire() {
        let t = LoginThrottle::new(2, MIN);
        let start = Instant::now();
        t.failed_at("bob", IP, start);
        t.succeeded("bob", IP);
        t.failed_at("bob", IP, start);
        assert_eq!(t.check_at("bob", IP, start), Ok(()));
        // A failure long after the previous one starts a new count.
        t.failed_at("bob", IP, start + MIN * 2);
        assert_eq!(t.check_at("bob", IP, start + MIN * 2), Ok(()));
        t.failed_at("bob", IP, start + MIN * 2);
        assert!(t.check_at("bob", IP, start + MIN * 2).is_err());
    }

    #[test]
    fn zero_turns_it_off() {
        let t = LoginThrottle::new(0, MIN);
        let now = Instant::now();
        for _ in 0..100 {
            t.failed_at("bob", IP, now);
        }
        assert_eq!(t.check_at("bob", IP, now), Ok(()));
    }
}
