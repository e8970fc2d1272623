//! Login throttling: the original had none (contract §17 item 12). Two limits, both counted over
//! `lockout`:
//!
//! - **per username and address:** after `max_failures` refused logins for one username from one
//!   address, further attempts for that pair, right or wrong, are refused until `lockout` has
//!   passed since the last failure; a successful login clears the pair's count;
//! - **per address, across usernames** (password spraying): after `max_failures_per_address`
//!   refused logins from one address, whatever the usernames, every login from it is refused
//!   until `lockout` has passed since its last failure. A success does not clear this count (an
//!   attacker with one valid account would reset it between guesses), and attempts still being
//!   checked count against it, so a burst cannot get more guesses in than the limit. IPv6
//!   addresses count per /64, the block one client usually holds.
//!
//! Refusals cost no password hash. Counts live in this process (each replica counts its own).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Beyond this many tracked keys, stale ones are dropped; beyond ten times it, all are.
const PRUNE_AT: usize = 10_000;

const MAX_USERNAME_CHARS: usize = 150;

/// How long a caller refused only because of attempts still in flight is told to wait.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);

type PairKey = (String, Option<IpAddr>);

/// Refused logins of one key: how many, and when the last was.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// The wait left when `count` has reached `max` and the lockout has not passed.
    fn locked(&self, max: u32, lockout: Duration, now: Instant) -> Option<Duration> {
        if self.count < max {
            return None;
        }
        let waited = now.saturating_duration_since(self.last);
        lockout.checked_sub(waited).filter(|w| !w.is_zero())
    }

    /// Counts one more; a count older than `lockout` starts again.
    fn add(&mut self, lockout: Duration, now: Instant) {
        if now.saturating_duration_since(self.last) >= lockout {
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.last = now;
    }
}

#[derive(Debug, Clone, Copy)]
struct AddressEntry {
    failures: Failures,
    /// Attempts admitted and not yet decided.
    in_flight: u32,
}

#[derive(Debug, Default)]
struct Counts {
    pairs: HashMap<PairKey, Failures>,
    addresses: HashMap<IpAddr, AddressEntry>,
}

#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    max_failures_per_address: u32,
    lockout: Duration,
    counts: Mutex<Counts>,
}

/// An admitted login attempt: tell the throttle how it ended with [`Attempt::failed`] or
/// [`Attempt::succeeded`]. Dropped undecided (an error on the way), it counts as neither.
#[must_use]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    username: String,
    ip: Option<IpAddr>,
}

impl Attempt<'_> {
    /// Counts a refused login. True when this failure locked the username and address out.
    pub fn failed(self) -> bool {
        self.throttle
            .record(&self.username, self.ip, false, Instant::now())
    }

    pub fn succeeded(self) {
        self.throttle
            .record(&self.username, self.ip, true, Instant::now());
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if let Some(address) = self.throttle.address_key(self.ip) {
            let mut counts = self.throttle.counts();
            if let Some(entry) = counts.addresses.get_mut(&address) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
            }
        }
    }
}

impl LoginThrottle {
    /// `max_failures` 0 turns the per-username limit off, `max_failures_per_address` 0 the
    /// per-address one.
    pub fn new(
        max_failures: u32,
        max_failures_per_address: u32,
        lockout: Duration,
    ) -> LoginThrottle {
        LoginThrottle {
            max_failures,
            max_failures_per_address,
            lockout,
            counts: Mutex::new(Counts::default()),
        }
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Usernames are at most 150 characters (Django's limit); a longer guess is cut there, so an
    /// entry stays small whatever the request body holds.
    fn pair_key(username: &str, ip: Option<IpAddr>) -> PairKey {
        (username.chars().take(MAX_USERNAME_CHARS).collect(), ip)
    }

    /// The address an attempt counts against, when that limit is on: IPv6 by its /64.
    fn address_key(&self, ip: Option<IpAddr>) -> Option<IpAddr> {
        if self.max_failures_per_address == 0 {
            return None;
        }
        match ip? {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Some(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            v4 => Some(v4),
        }
    }

    /// Admits an attempt, or `Err(wait)` while the pair or the address is locked out.
    pub fn begin(&self, username: &str, ip: Option<IpAddr>) -> Result<Attempt<'_>, Duration> {
        self.begin_at(username, ip, Instant::now())
    }

    fn begin_at(
        &self,
        username: &str,
        ip: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt<'_>, Duration> {
        let mut counts = self.counts();
        if self.max_failures > 0 {
            let pair = counts.pairs.get(&Self::pair_key(username, ip));
            if let Some(wait) = pair.and_then(|f| f.locked(self.max_failures, self.lockout, now)) {
                return Err(wait);
            }
        }
        if let Some(address) = self.address_key(ip) {
            prune(&mut counts.addresses, |e| {
                e.in_flight == 0 && now.saturating_duration_since(e.failures.last) >= self.lockout
            });
            let entry = counts.addresses.entry(address).or_insert(AddressEntry {
                failures: Failures {
                    count: 0,
                    last: now,
                },
                in_flight: 0,
            });
            let recent = if now.saturating_duration_since(entry.failures.last) < self.lockout {
                entry.failures.count
            } else {
                0
            };
            if recent.saturating_add(entry.in_flight) >= self.max_failures_per_address {
                let locked =
                    entry
                        .failures
                        .locked(self.max_failures_per_address, self.lockout, now);
                return Err(locked.unwrap_or(IN_FLIGHT_WAIT));
            }
            entry.in_flight += 1;
        }
        Ok(Attempt {
            throttle: self,
            username: username.to_string(),
            ip,
        })
    }

    fn record(&self, username: &str, ip: Option<IpAddr>, success: bool, now: Instant) -> bool {
        let mut counts = self.counts();
        if let Some(address) = self.address_key(ip) {
            if let (false, Some(entry)) = (success, counts.addresses.get_mut(&address)) {
                entry.failures.add(self.lockout, now);
            }
        }
        if self.max_failures == 0 {
            return false;
        }
        let key = Self::pair_key(username, ip);
        if success {
            counts.pairs.remove(&key);
            return false;
        }
        let lockout = self.lockout;
        prune(&mut counts.pairs, |f| {
            now.saturating_duration_since(f.last) >= lockout
        });
        let entry = counts.pairs.entry(key).or_insert(Failures {
            count: 0,
            last: now,
        });
        entry.add(lockout, now);
        entry.count == self.max_failures
    }
}

/// Keeps a map small: past `PRUNE_AT` entries the `stale` ones go, past ten times it all do.
fn prune<K, V>(map: &mut HashMap<K, V>, stale: impl Fn(&V) -> bool) {
    if map.len() >= PRUNE_AT {
        map.retain(|_, v| !stale(v));
        if map.len() >= PRUNE_AT * 10 {
            map.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const MIN: Duration = Duration::from_secs(60);

    fn fail(t: &LoginThrottle, user: &str, ip: Option<IpAddr>, at: Instant) -> bool {
        t.begin_at(user, ip, at).expect("admitted").failed_at(at)
    }

    impl Attempt<'_> {
        fn failed_at(self, at: Instant) -> bool {
            self.throttle.record(&self.username, self.ip, false, at)
        }
    }

    #[test]
    fn locks_after_max_failures_until_lockout_passed_since_the_last() {
        let t = LoginThrottle::new(3, 0, MIN);
        let start = Instant::now();
        for i in 0..3 {
            let at = start + Duration::from_secs(i);
            assert_eq!(fail(&t, "bob", IP, at), i == 2, "attempt {i}");
        }
        let last = start + Duration::from_secs(2);
        assert_eq!(
            t.begin_at("bob", IP, last + Duration::from_secs(10)).err(),
            Some(Duration::from_secs(50))
        );
        assert!(t.begin_at("bob", IP, last + MIN).is_ok());
        // Another username or address is not affected.
        assert!(t.begin_at("alice", IP, last).is_ok());
        assert!(t.begin_at("bob", None, last).is_ok());
    }

    #[test]
    fn success_clears_and_old_failures_expire() {
        let t = LoginThrottle::new(2, 0, MIN);
        let start = Instant::now();
        fail(&t, "bob", IP, start);
        t.begin_at("bob", IP, start).unwrap().succeeded();
        fail(&t, "bob", IP, start);
        assert!(t.begin_at("bob", IP, start).is_ok());
        // A failure long after the previous one starts a new count.
        fail(&t, "bob", IP, start + MIN * 2);
        assert!(t.begin_at("bob", IP, start + MIN * 2).is_ok());
        fail(&t, "bob", IP, start + MIN * 2);
        assert!(t.begin_at("bob", IP, start + MIN * 2).is_err());
    }

    #[test]
    fn zero_turns_it_off() {
        let t = LoginThrottle::new(0, 0, MIN);
        let now = Instant::now();
        for i in 0..100 {
            fail(&t, &format!("user{}", i % 3), IP, now);
        }
        assert!(t.begin_at("user0", IP, now).is_ok());
    }

    #[test]
    fn one_address_is_limited_across_usernames_and_a_success_does_not_reset_it() {
        let t = LoginThrottle::new(10, 4, MIN);
        let start = Instant::now();
        for i in 0..3 {
            fail(&t, &format!("user{i}"), IP, start);
        }
        t.begin_at("mine", IP, start).unwrap().succeeded();
        fail(&t, "user3", IP, start + Duration::from_secs(5));
        assert_eq!(
            t.begin_at("anyone", IP, start + Duration::from_secs(15))
                .err(),
            Some(Duration::from_secs(50))
        );
        // Other addresses are not affected; the lock ends `lockout` after the last failure.
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
        assert!(t.begin_at("anyone", other, start).is_ok());
        assert!(t
            .begin_at("anyone", IP, start + Duration::from_secs(5) + MIN)
            .is_ok());
    }

    #[test]
    fn attempts_in_flight_count_against_the_address() {
        let t = LoginThrottle::new(10, 2, MIN);
        let now = Instant::now();
        let first = t.begin_at("a", IP, now).unwrap();
        let second = t.begin_at("b", IP, now).unwrap();
        assert_eq!(t.begin_at("c", IP, now).err(), Some(IN_FLIGHT_WAIT));
        first.succeeded();
        drop(second);
        assert!(t.begin_at("c", IP, now).is_ok());
    }

    #[test]
    fn ipv6_counts_per_64_block() {
        let t = LoginThrottle::new(10, 2, MIN);
        let now = Instant::now();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        fail(&t, "a", ip("2001:db8:1:2::1"), now);
        fail(&t, "b", ip("2001:db8:1:2:ffff::9"), now);
        assert!(t.begin_at("c", ip("2001:db8:1:2::77"), now).is_err());
        assert!(t.begin_at("c", ip("2001:db8:1:3::1"), now).is_ok());
        // An IPv4-mapped address is its IPv4 address.
        fail(&t, "a", ip("192.0.2.7"), now);
        fail(&t, "b", ip("::ffff:192.0.2.7"), now);
        assert!(t.begin_at("c", ip("192.0.2.7"), now).is_err());
    }
}
