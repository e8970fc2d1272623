//! User roles (the three values of `core_userprofile.role` and their display labels) and the
//! rule that revokes a token issued before a password change or a deactivation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user's role: `CLIENT` (Client), `ADMIN` (Admin), `SUPPORT` (Developer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[schema(example = "CLIENT")]
pub enum Role {
    Client,
    Admin,
    /// Displayed as "Developer": the original's name for support engineers.
    Support,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Client, Role::Admin, Role::Support];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "CLIENT",
            Role::Admin => "ADMIN",
            Role::Support => "SUPPORT",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Client => "Client",
            Role::Admin => "Admin",
            Role::Support => "Developer",
        }
    }

    /// Exact, case-sensitive match, as the original's `by_role` filter and choice field.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a token issued at `issued_at` is revoked by `valid_after` (the user's last password
/// change or deactivation): it is when it was issued strictly before that instant.
pub fn revoked(issued_at: DateTime<Utc>, valid_after: Option<DateTime<Utc>>) -> bool {
    valid_after.is_some_and(|t| issued_at < t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_revoked_only_when_issued_before_the_instant() {
        let t = chrono::Utc::now();
        let us = chrono::Duration::microseconds(1);
        assert!(revoked(t - us, Some(t)));
        assert!(!revoked(t, Some(t)));
        assert!(!revoked(t + us, Some(t)));
        assert!(!revoked(t - us, None));
    }

    #[test]
    fn parse_is_exact_and_case_sensitive() {
        assert_eq!(Role::parse("SUPPORT"), Some(Role::Support));
        assert_eq!(Role::parse("support"), None);
        assert_eq!(Role::parse("BOSS"), None);
        assert_eq!(Role::Support.label(), "Developer");
    }
}
