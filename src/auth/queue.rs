//! The queue of login password checks. Hashing is limited to one per core, so a flood of logins
//! (120 concurrent unknown users) queues, and a real login behind it waits seconds. Instead, a
//! login that would wait longer than `max_wait` for its turn is refused at once with 429 and a
//! `Retry-After` of the estimated wait.
//!
//! The wait is estimated as (checks ahead / cores) × the cost of one check: a moving average of
//! the measured checks, seeded by one check measured when the process starts.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::password::{self, Verification};

/// How much of each new measurement the moving average takes (1/8).
const AVERAGE_WEIGHT: u64 = 8;

#[derive(Debug)]
pub struct HashQueue {
    /// 0: no bound.
    max_wait: Duration,
    /// How many checks run at once (the hashing slots: one per core).
    parallel: usize,
    /// Login checks admitted and not finished: waiting for a slot or running.
    queued: AtomicUsize,
    /// The moving average of one check's cost, in microseconds.
    cost_us: AtomicU64,
}

/// A place in the queue; the check it makes is measured into the average.
#[must_use]
pub struct Place<'a> {
    queue: &'a HashQueue,
}

impl HashQueue {
    pub fn new(max_wait: Duration) -> HashQueue {
        HashQueue::with(max_wait, super::hashing_parallelism(), measured_cost())
    }

    fn with(max_wait: Duration, parallel: usize, cost: Duration) -> HashQueue {
        HashQueue {
            max_wait,
            parallel: parallel.max(1),
            queued: AtomicUsize::new(0),
            cost_us: AtomicU64::new(micros(cost)),
        }
    }

    /// The average cost of one password check.
    pub fn cost(&self) -> Duration {
        Duration::from_micros(self.cost_us.load(Ordering::Relaxed))
    }

    /// How long a check waits for its turn behind `ahead` others.
    fn wait_behind(&self, ahead: usize) -> Duration {
        let rounds = (ahead / self.parallel) as u32;
        self.cost().saturating_mul(rounds)
    }

    /// A place in the queue, or `Err(wait)` when the estimated wait is over `max_wait`.
    pub fn admit(&self) -> Result<Place<'_>, Duration> {
        let ahead = self.queued.fetch_add(1, Ordering::SeqCst);
        let place = Place { queue: self };
        let wait = self.wait_behind(ahead);
        if !self.max_wait.is_zero() && wait > self.max_wait {
            return Err(wait);
        }
        Ok(place)
    }

    fn record(&self, cost: Duration) {
        let sample = micros(cost);
        let _ = self
            .cost_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                let next = (avg * (AVERAGE_WEIGHT - 1) + sample) / AVERAGE_WEIGHT;
                Some(next.max(1))
            });
    }
}

impl Place<'_> {
    /// Checks the password (see [`super::verify_password`]) and measures the check.
    pub async fn verify(self, password: String, stored: Option<String>) -> Verification {
        let (verdict, cost) = super::verify_timed(password, stored).await;
        if let Some(cost) = cost {
            self.queue.record(cost);
        }
        verdict
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.queue.queued.fetch_sub(1, Ordering::SeqCst);
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// One check of a wrong password against an argon2id hash, timed once per process.
fn measured_cost() -> Duration {
    static COST: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *COST.get_or_init(|| {
        let start = std::time::Instant::now();
        password::dummy_verify("a password nobody has");
        start.elapsed()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COST: Duration = Duration::from_millis(100);

    #[test]
    fn admits_while_the_estimated_wait_fits_then_refuses_with_it() {
        let q = HashQueue::with(Duration::from_millis(250), 2, COST);
        // Two run at once: places 0-5 wait at most 2 rounds (200 ms), place 6 would wait 300 ms.
        let places: Vec<_> = (0..6).map(|_| q.admit().expect("admitted")).collect();
        assert_eq!(q.admit().err(), Some(Duration::from_millis(300)));
        // A refusal takes no place; a finished check frees one.
        assert_eq!(q.queued.load(Ordering::SeqCst), 6);
        drop(places);
        assert!(q.admit().is_ok());
    }

    #[test]
    fn zero_max_wait_admits_everyone() {
        let q = HashQueue::with(Duration::ZERO, 1, COST);
        let _places: Vec<_> = (0..1000).map(|_| q.admit().expect("admitted")).collect();
    }

    #[test]
    fn the_cost_follows_the_measured_checks() {
        let q = HashQueue::with(Duration::ZERO, 1, COST);
        for _ in 0..100 {
            q.record(Duration::from_millis(20));
        }
        let cost = q.cost();
        assert!(
            (Duration::from_millis(19)..=Duration::from_millis(21)).contains(&cost),
            "{cost:?}"
        );
    }
}
