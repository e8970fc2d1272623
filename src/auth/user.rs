//! `AuthUser`: the authenticated caller, as every layer below HTTP sees it.

use crate::domain::user::Role;
use crate::error::{Error, Result};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 with DRF's default detail unless the caller is an admin.
    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::PermissionDenied)
        }
    }

    pub fn display_name(&self) -> String {
        crate::domain::ticket::display_name(&self.first_name, &self.last_name, &self.username)
    }
}
