//! User roles: the three values of `core_userprofile.role` and their display labels.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_exact_and_case_sensitive() {
        assert_eq!(Role::parse("SUPPORT"), Some(Role::Support));
        assert_eq!(Role::parse("support"), None);
        assert_eq!(Role::parse("BOSS"), None);
        assert_eq!(Role::Support.label(), "Developer");
    }
}
