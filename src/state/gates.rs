//! Admission gates for heavy requests: a budget of bytes (uploads in flight) and a count (answers
//! that inline files). A request waits for room up to a bound, then is refused with 503 and
//! `Retry-After`, so a burst queues briefly instead of growing the process without limit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// Bytes are reserved in units of this size, so a budget of terabytes still fits in the
/// semaphore's `u32` permits.
const UNIT: usize = 1024;

/// A budget of bytes shared by concurrent requests (`MAX_UPLOAD_BYTES_IN_FLIGHT`).
#[derive(Debug)]
pub struct ByteBudget {
    units: Arc<Semaphore>,
    total_units: u32,
    wait: Duration,
}

/// Room held in a [`ByteBudget`] or a [`Gate`]; given back when dropped.
#[derive(Debug)]
pub struct Admitted(#[allow(dead_code)] OwnedSemaphorePermit);

impl ByteBudget {
    pub fn new(bytes: usize, wait: Duration) -> ByteBudget {
        let total_units = u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        ByteBudget {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
            wait,
        }
    }

    /// Reserves `bytes` (at most the whole budget, so one request larger than the budget still
    /// runs, alone), waiting up to the bound; then 503 with `what` in the message.
    pub async fn reserve(&self, bytes: usize, what: &'static str) -> Result<Admitted> {
        let wanted = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total_units);
        let acquire = self.units.clone().acquire_many_owned(wanted);
        admit(
            tokio::time::timeout(self.wait, acquire).await,
            self.wait,
            what,
        )
    }

    /// Bytes free right now (for metrics and tests).
    pub fn available_bytes(&self) -> usize {
        self.units.available_permits() * UNIT
    }
}

/// At most N requests of a kind at once (`MAX_INLINE_ATTACHMENT_RESPONSES`).
#[derive(Debug)]
pub struct Gate {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl Gate {
    pub fn new(slots: usize, wait: Duration) -> Gate {
        Gate {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            wait,
        }
    }

    /// Takes a slot, waiting up to the bound; then 503 with `what` in the message.
    pub async fn enter(&self, what: &'static str) -> Result<Admitted> {
        let acquire = self.slots.clone().acquire_owned();
        admit(
            tokio::time::timeout(self.wait, acquire).await,
            self.wait,
            what,
        )
    }
}

fn admit(
    waited: Result<
        Result<OwnedSemaphorePermit, tokio::sync::AcquireError>,
        tokio::time::error::Elapsed,
    >,
    wait: Duration,
    what: &'static str,
) -> Result<Admitted> {
    match waited {
        Ok(Ok(permit)) => Ok(Admitted(permit)),
        // The semaphores are never closed; a closed one would mean shutting down.
        Ok(Err(_)) | Err(_) => Err(Error::Busy {
            what,
            retry_after: wait.as_secs().max(1),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_budget_admits_up_to_its_bytes_then_refuses_after_the_wait() {
        let budget = ByteBudget::new(10 * UNIT, Duration::from_millis(50));
        let first = budget.reserve(6 * UNIT, "uploads").await.unwrap();
        let second = budget.reserve(4 * UNIT, "uploads").await.unwrap();
        assert_eq!(budget.available_bytes(), 0);
        let refused = budget.reserve(1, "uploads").await.unwrap_err();
        assert!(matches!(refused, Error::Busy { retry_after: 1, .. }));
        drop(first);
        // Larger than the whole budget: clamped, so it runs alone instead of never.
        drop(second);
        let whole = budget.reserve(100 * UNIT, "uploads").await.unwrap();
        assert_eq!(budget.available_bytes(), 0);
        drop(whole);
        assert_eq!(budget.available_bytes(), 10 * UNIT);
    }

    #[tokio::test]
    async fn a_gate_admits_n_at_once() {
        let gate = Gate::new(2, Duration::from_millis(50));
        let a = gate.enter("x").await.unwrap();
        let _b = gate.enter("x").await.unwrap();
        assert!(gate.enter("x").await.is_err());
        drop(a);
        assert!(gate.enter("x").await.is_ok());
    }
}
