//! The rules of an assignment that know no request format: how an optional deadline is patched,
//! how many developers a ticket takes, and how far ahead each SLA deadline may be set
//! (contract §6.7). The request body's parsing lives in `http/tickets/assign.rs`.

use chrono::{DateTime, Duration, Utc};

/// The 400 `{"error": ...}` of ids that are not SUPPORT users (or that no database can hold).
pub const INVALID_DEVELOPERS: &str = "Some user IDs are invalid or not support users";
pub const MAX_DEVELOPERS: usize = 20;

/// The cross-field rule, checked only when both deadlines are set in the same request.
pub const ESTIMATE_AFTER_DUE: &str =
    "Estimated resolution time should not be after the resolution due date";

/// How a request changes an optional column: JSON `null` clears it, an absent key leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Unchanged,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    /// The column's value after the patch.
    pub fn apply_to(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Unchanged => current,
            Patch::Clear => None,
            Patch::Set(v) => Some(v),
        }
    }
}

/// The range rules of one SLA deadline.
pub struct DeadlineRules {
    pub field: &'static str,
    not_future: &'static str,
    too_far: &'static str,
    too_soon: &'static str,
    min_lead: Duration,
}

pub const RESOLUTION_DUE: DeadlineRules = DeadlineRules {
    field: "resolution_due_at",
    not_future: "Resolution due date must be in the future",
    too_far: "Resolution due date cannot be more than 1 year in the future",
    too_soon: "Resolution due date must be at least 30 minutes in the future",
    min_lead: Duration::minutes(30),
};

pub const ESTIMATED_RESOLUTION: DeadlineRules = DeadlineRules {
    field: "estimated_resolution_time",
    not_future: "Estimated resolution time must be in the future",
    too_far: "Estimated time cannot be more than 1 year in the future",
    too_soon: "Estimated time must be at least 15 minutes in the future",
    min_lead: Duration::minutes(15),
};

impl DeadlineRules {
    /// In the future, at most a year ahead and at least the minimum lead; the message otherwise.
    pub fn check(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), &'static str> {
        if at <= now {
            return Err(self.not_future);
        }
        if at > now + Duration::days(365) {
            return Err(self.too_far);
        }
        if at < now + self.min_lead {
            return Err(self.too_soon);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_applies_to_the_stored_value() {
        assert_eq!(Patch::Unchanged.apply_to(Some(1)), Some(1));
        assert_eq!(Patch::Clear.apply_to(Some(1)), None);
        assert_eq!(Patch::Set(2).apply_to(Some(1)), Some(2));
        assert_eq!(Patch::Set(2).apply_to(None), Some(2));
    }
}
