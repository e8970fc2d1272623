//! Notification preferences: reading and changing a user's channel choices per event, time zone
//! and quiet hours (your own, or anyone's for an admin). Changes merge into what is stored.

use chrono_tz::Tz;

use crate::auth::AuthUser;
use crate::db;
use crate::domain::datetime::now;
use crate::domain::preferences::{Preferences, QuietHours};
use crate::error::{Error, Result};
use crate::state::AppState;

/// A change of preferences, already checked; what is absent stays as it is.
#[derive(Debug, Clone, Default)]
pub struct PreferenceChanges {
    /// (event, channel, on) for WHATSAPP and EMAIL.
    pub channels: Vec<(String, String, bool)>,
    pub time_zone: Option<Tz>,
    /// `Some(None)` turns quiet hours off.
    pub quiet_hours: Option<Option<QuietHours>>,
}

impl PreferenceChanges {
    fn apply_to(&self, prefs: &mut Preferences) {
        for (event, channel, on) in &self.channels {
            prefs.set(event, channel, *on);
        }
        if let Some(zone) = self.time_zone {
            prefs.time_zone = zone;
        }
        if let Some(quiet) = self.quiet_hours {
            prefs.quiet_hours = quiet;
        }
    }
}

/// The user `user_id` (checked to exist: "No User matches the given query.").
async fn existing_user(state: &AppState, user_id: i64) -> Result<i64> {
    db::users::get(&state.db, user_id)
        .await?
        .map(|u| u.id)
        .ok_or(Error::NotFound("User"))
}

/// Your own preferences (the defaults when you never changed them).
pub async fn own(state: &AppState, actor: &AuthUser) -> Result<Preferences> {
    Ok(db::preferences::get(&state.db, actor.id).await?)
}

/// Anyone's preferences, for an admin.
pub async fn of_user(state: &AppState, actor: &AuthUser, user_id: i64) -> Result<Preferences> {
    actor.require_admin()?;
    let id = existing_user(state, user_id).await?;
    Ok(db::preferences::get(&state.db, id).await?)
}

async fn change(
    state: &AppState,
    user_id: i64,
    changes: &PreferenceChanges,
) -> Result<Preferences> {
    let mut prefs = db::preferences::get(&state.db, user_id).await?;
    changes.apply_to(&mut prefs);
    db::preferences::save(&state.db, user_id, &prefs, now()).await?;
    Ok(prefs)
}

/// Changes your own preferences; returns them as they now are.
pub async fn update_own(
    state: &AppState,
    actor: &AuthUser,
    changes: &PreferenceChanges,
) -> Result<Preferences> {
    change(state, actor.id, changes).await
}

/// Changes anyone's preferences, for an admin.
pub async fn update_user(
    state: &AppState,
    actor: &AuthUser,
    user_id: i64,
    changes: &PreferenceChanges,
) -> Result<Preferences> {
    actor.require_admin()?;
    let id = existing_user(state, user_id).await?;
    change(state, id, changes).await
}
