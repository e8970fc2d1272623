//! Ticket vocabulary: status, priority and category with their display labels, the SLA clock and
//! breach rules, and the two ways the original renders a person's name.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Ticket status: `NEW` (New), `OPENED` (Opened), `IN_PROGRESS` (In Progress), `RESOLVED`
/// (Resolved), `WAITING_APPROVAL` (Waiting for Client Approval), `CLOSED` (Closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(example = "IN_PROGRESS")]
pub enum Status {
    #[default]
    New,
    Opened,
    InProgress,
    Resolved,
    /// Never set by the API (only by the Django admin or direct edits), but accepted as a source
    /// state by approve and reject, so imported tickets in it keep working.
    WaitingApproval,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::Opened,
        Status::InProgress,
        Status::Resolved,
        Status::WaitingApproval,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "NEW",
            Status::Opened => "OPENED",
            Status::InProgress => "IN_PROGRESS",
            Status::Resolved => "RESOLVED",
            Status::WaitingApproval => "WAITING_APPROVAL",
            Status::Closed => "CLOSED",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Opened => "Opened",
            Status::InProgress => "In Progress",
            Status::Resolved => "Resolved",
            Status::WaitingApproval => "Waiting for Client Approval",
            Status::Closed => "Closed",
        }
    }

    /// Exact, case-sensitive match, as Django's choice field.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// `status_display` of a stored value: Django renders an unknown value as itself.
    pub fn label_of(raw: &str) -> &str {
        match Status::parse(raw) {
            Some(v) => v.label(),
            None => raw,
        }
    }

    /// The states in which the work counts as delivered, so the resolution clock has stopped.
    pub fn is_resolved(self) -> bool {
        matches!(
            self,
            Status::Resolved | Status::WaitingApproval | Status::Closed
        )
    }
}

/// Ticket priority: `HIGH` (High), `MEDIUM` (Medium, the default), `LOW` (Low).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(example = "HIGH")]
pub enum Priority {
    High,
    #[default]
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "HIGH",
            Priority::Medium => "MEDIUM",
            Priority::Low => "LOW",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Priority::High => "High",
            Priority::Medium => "Medium",
            Priority::Low => "Low",
        }
    }

    /// Exact, case-sensitive match, as Django's choice field.
    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// `priority_display` of a stored value: a legacy value such as `CRITICAL` renders as itself.
    pub fn label_of(raw: &str) -> &str {
        match Priority::parse(raw) {
            Some(v) => v.label(),
            None => raw,
        }
    }

    pub fn response_sla_minutes(self) -> i64 {
        match self {
            Priority::High => 30,
            Priority::Medium => 120,
            Priority::Low => 1440,
        }
    }

    /// `response_sla_minutes` of a stored value; the original falls back to 120 for unknown ones.
    pub fn response_sla_minutes_of(raw: &str) -> i64 {
        Priority::parse(raw).map_or(120, Priority::response_sla_minutes)
    }
}

/// Ticket category: `BUG` (Bug), `PROBLEM` (Problem, the default), `SERVICE_DOWN` (Service Down),
/// `NEW_FEATURE` (New Feature Request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(example = "BUG")]
pub enum Category {
    Bug,
    #[default]
    Problem,
    ServiceDown,
    NewFeature,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Bug,
        Category::Problem,
        Category::ServiceDown,
        Category::NewFeature,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Bug => "BUG",
            Category::Problem => "PROBLEM",
            Category::ServiceDown => "SERVICE_DOWN",
            Category::NewFeature => "NEW_FEATURE",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Bug => "Bug",
            Category::Problem => "Problem",
            Category::ServiceDown => "Service Down",
            Category::NewFeature => "New Feature Request",
        }
    }

    /// Exact, case-sensitive match, as Django's choice field.
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// `category_display` of a stored value: Django renders an unknown value as itself.
    pub fn label_of(raw: &str) -> &str {
        match Category::parse(raw) {
            Some(v) => v.label(),
            None => raw,
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(Status, Priority, Category);

/// When a ticket created now must first be answered. Set once on insert and never recomputed,
/// even if the priority changes later (as the original).
pub fn response_due_at(priority: Priority, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::minutes(priority.response_sla_minutes())
}

/// Whether the response SLA was missed: opened after the deadline, or still NEW past it.
///
/// The original only looked at "still NEW past the deadline" at save time, so a ticket opened
/// late was never flagged (contract §17 item 19); `opened_at` catches that. The result is what
/// the ticket deserves now; callers store `stored_flag || this` so a flag, once raised, stays.
pub fn response_breached(
    status: Status,
    response_due_at: Option<DateTime<Utc>>,
    opened_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let Some(due) = response_due_at else {
        return false;
    };
    opened_at.is_some_and(|t| t > due) || (status == Status::New && now > due)
}

/// Whether the resolution SLA was missed: resolved after the deadline, or still unresolved past
/// it. `resolved_at` keeps its first value across a reject, so a late first resolution stays
/// visible; WAITING_APPROVAL counts as resolved, which the original forgot (§17 item 19).
pub fn resolution_breached(
    status: Status,
    resolution_due_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let Some(due) = resolution_due_at else {
        return false;
    };
    resolved_at.is_some_and(|t| t > due) || (!status.is_resolved() && now > due)
}

/// `name(u)` of the contract: the trimmed "first last", or the username when that is empty.
pub fn display_name(first: &str, last: &str, username: &str) -> String {
    let full = full_name(first, last);
    if full.is_empty() {
        username.to_string()
    } else {
        full
    }
}

/// `full(u)` of the contract: the trimmed "first last" with no fallback, so it may be empty.
pub fn full_name(first: &str, last: &str) -> String {
    py_strip(&format!("{first} {last}")).to_string()
}

/// Python's `str.strip()`: Unicode whitespace plus the four ASCII separators U+001C..U+001F,
/// which Python counts as whitespace and Rust does not. Django trims every text input this way.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_whitespace)
}

pub fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, h, m, 0).unwrap()
    }

    #[test]
    fn labels_match_the_contract() {
        assert_eq!(Status::InProgress.label(), "In Progress");
        assert_eq!(
            Status::WaitingApproval.label(),
            "Waiting for Client Approval"
        );
        assert_eq!(Category::NewFeature.label(), "New Feature Request");
        assert_eq!(Category::ServiceDown.label(), "Service Down");
        assert_eq!(Priority::High.label(), "High");
    }

    #[test]
    fn every_value_round_trips_through_parse_and_serde() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(
                serde_json::from_value::<Status>(s.as_str().into()).unwrap(),
                s
            );
        }
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn parse_is_exact_and_case_sensitive() {
        assert_eq!(Status::parse("in_progress"), None);
        assert_eq!(Status::parse("IN PROGRESS"), None);
        assert_eq!(Priority::parse("CRITICAL"), None);
        assert_eq!(Category::parse(" BUG"), None);
    }

    #[test]
    fn defaults_are_new_medium_problem() {
        assert_eq!(Status::default(), Status::New);
        assert_eq!(Priority::default(), Priority::Medium);
        assert_eq!(Category::default(), Category::Problem);
    }

    #[test]
    fn unknown_stored_values_render_as_themselves() {
        assert_eq!(Priority::label_of("CRITICAL"), "CRITICAL");
        assert_eq!(Priority::label_of("LOW"), "Low");
        assert_eq!(
            Status::label_of("WAITING_APPROVAL"),
            "Waiting for Client Approval"
        );
        assert_eq!(Category::label_of("OTHER"), "OTHER");
        assert_eq!(Priority::response_sla_minutes_of("CRITICAL"), 120);
        assert_eq!(Priority::response_sla_minutes_of("HIGH"), 30);
    }

    #[test]
    fn response_sla_depends_on_priority() {
        assert_eq!(Priority::High.response_sla_minutes(), 30);
        assert_eq!(Priority::Medium.response_sla_minutes(), 120);
        assert_eq!(Priority::Low.response_sla_minutes(), 1440);
        assert_eq!(response_due_at(Priority::High, t(10, 0)), t(10, 30));
        assert_eq!(
            response_due_at(Priority::Low, t(10, 0)),
            t(10, 0) + Duration::days(1)
        );
    }

    #[test]
    fn opening_late_breaches_the_response_sla() {
        assert!(response_breached(
            Status::Opened,
            Some(t(10, 0)),
            Some(t(10, 1)),
            t(12, 0)
        ));
        assert!(response_breached(
            Status::Closed,
            Some(t(10, 0)),
            Some(t(10, 1)),
            t(12, 0)
        ));
    }

    #[test]
    fn opening_on_time_does_not_breach_the_response_sla() {
        assert!(!response_breached(
            Status::Opened,
            Some(t(10, 0)),
            Some(t(10, 0)),
            t(12, 0)
        ));
        assert!(!response_breached(
            Status::InProgress,
            Some(t(10, 0)),
            Some(t(9, 0)),
            t(12, 0)
        ));
    }

    #[test]
    fn a_ticket_still_new_past_its_deadline_is_breached() {
        assert!(response_breached(
            Status::New,
            Some(t(10, 0)),
            None,
            t(10, 1)
        ));
        assert!(!response_breached(
            Status::New,
            Some(t(10, 0)),
            None,
            t(10, 0)
        ));
        assert!(!response_breached(Status::New, None, None, t(23, 0)));
    }

    #[test]
    fn finishing_late_breaches_the_resolution_sla() {
        assert!(resolution_breached(
            Status::Resolved,
            Some(t(10, 0)),
            Some(t(11, 0)),
            t(11, 0)
        ));
        assert!(resolution_breached(
            Status::Closed,
            Some(t(10, 0)),
            Some(t(11, 0)),
            t(12, 0)
        ));
    }

    #[test]
    fn resolution_is_breached_while_unresolved_past_the_deadline() {
        for s in [Status::New, Status::Opened, Status::InProgress] {
            assert!(
                resolution_breached(s, Some(t(10, 0)), None, t(10, 1)),
                "{s}"
            );
            assert!(
                !resolution_breached(s, Some(t(10, 0)), None, t(10, 0)),
                "{s}"
            );
        }
    }

    #[test]
    fn waiting_approval_stops_the_resolution_clock() {
        assert!(!resolution_breached(
            Status::WaitingApproval,
            Some(t(10, 0)),
            Some(t(9, 0)),
            t(12, 0)
        ));
        assert!(!resolution_breached(
            Status::Resolved,
            Some(t(10, 0)),
            Some(t(9, 0)),
            t(12, 0)
        ));
        assert!(!resolution_breached(
            Status::InProgress,
            None,
            None,
            t(12, 0)
        ));
    }

    #[test]
    fn display_name_falls_back_to_the_username() {
        assert_eq!(display_name("Ada", "Lovelace", "ada"), "Ada Lovelace");
        assert_eq!(display_name("", "", "ada"), "ada");
        assert_eq!(display_name("  ", "\t", "ada"), "ada");
        assert_eq!(display_name("", "Lovelace", "ada"), "Lovelace");
        assert_eq!(display_name(" Ada ", "", "ada"), "Ada");
    }

    #[test]
    fn full_name_has_no_fallback() {
        assert_eq!(full_name("", ""), "");
        assert_eq!(full_name("Ada", ""), "Ada");
        assert_eq!(full_name("Ada", "Lovelace"), "Ada Lovelace");
    }

    #[test]
    fn py_strip_trims_what_python_trims() {
        assert_eq!(py_strip("\u{1f} x \u{a0}\u{3000}"), "x");
        assert_eq!(py_strip("\u{200b}x"), "\u{200b}x");
    }
}
