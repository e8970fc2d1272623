//! Per-user request rates, as DRF's `UserRateThrottle` keeps them: the times of each user's
//! recent requests within the rate's period; a request beyond `requests` of them is refused with
//! DRF's wait (the time until the oldest leaves the window, spread over the requests left). Kept
//! in this process: with N replicas a user gets up to N times the rate.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Rate;

/// Beyond this many tracked users, idle ones are dropped; beyond ten times it, all are.
const PRUNE_AT: usize = 10_000;

#[derive(Debug)]
pub struct UserRate {
    rate: Option<Rate>,
    history: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

impl UserRate {
    /// `None` lets every request through.
    pub fn new(rate: Option<Rate>) -> UserRate {
        UserRate {
            rate,
            history: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `user`, or `Err(wait)` when it is over the rate (then not counted).
    pub fn allow(&self, user: i64) -> Result<(), Duration> {
        self.allow_at(user, Instant::now())
    }

    fn allow_at(&self, user: i64, now: Instant) -> Result<(), Duration> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if history.len() >= PRUNE_AT {
            history.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.saturating_duration_since(*last) < rate.per)
            });
            if history.len() >= PRUNE_AT * 10 {
                history.clear();
            }
        }
        let times = history.entry(user).or_default();
        while times
            .front()
            .is_some_and(|oldest| now.saturating_duration_since(*oldest) >= rate.per)
        {
            times.pop_front();
        }
        if times.len() >= rate.requests as usize {
            let oldest = times.front().copied().unwrap_or(now);
            let remaining = rate
                .per
                .saturating_sub(now.saturating_duration_since(oldest));
            // DRF: the remaining duration over the requests available then (here always 1, as
            // refused requests are not recorded).
            return Err(remaining.max(Duration::from_millis(1)));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_per_minute() -> UserRate {
        UserRate::new(Some(Rate {
            requests: 3,
            per: Duration::from_secs(60),
        }))
    }

    #[test]
    fn refuses_beyond_the_rate_until_the_oldest_leaves_the_window() {
        let r = three_per_minute();
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(r.allow_at(7, start + Duration::from_secs(i * 10)), Ok(()));
        }
        let at = start + Duration::from_secs(25);
        assert_eq!(r.allow_at(7, at), Err(Duration::from_secs(35)));
        // Another user has their own count; refusals are not counted.
        assert_eq!(r.allow_at(8, at), Ok(()));
        assert_eq!(r.allow_at(7, start + Duration::from_secs(60)), Ok(()));
        assert_eq!(
            r.allow_at(7, start + Duration::from_secs(61)),
            Err(Duration::from_secs(9))
        );
    }

    #[test]
    fn no_rate_allows_everything() {
        let r = UserRate::new(None);
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(r.allow_at(1, now), Ok(()));
        }
    }
}
