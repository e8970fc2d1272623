//! `/api/profile/notifications/` (your own) and `/api/users/{id}/notifications/` (admin): which
//! channels each event uses, the time zone and the quiet hours. The body is checked here (field
//! errors in DRF's nested shape); the use cases are `service::preferences`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::domain::preferences::{
    event_codes, format_clock, parse_clock, parse_time_zone, Preferences, QuietHours,
    SWITCHABLE_CHANNELS, SYSTEM,
};
use crate::error::{Error, Result};
use crate::http::body::{python_type_name, Body};
use crate::http::extract::{parse_id, Admin};
use crate::http::openapi::components::{BadPreferences, NotAdmin, UserNotFound, UserPath};
use crate::service::preferences::{self as service, PreferenceChanges};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Shapes

/// Quiet hours on the user's wall clock; `start` after `end` wraps midnight.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"start": "22:00", "end": "07:00"}))]
pub struct QuietHoursShape {
    /// `HH:MM`, local time.
    pub start: String,
    /// `HH:MM`, local time; differs from `start`.
    pub end: String,
}

/// A user's notification preferences. In-app (SYSTEM) notifications are always on.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"events": {"ticket_created": {"EMAIL": true, "WHATSAPP": false}, "ticket_opened": {"EMAIL": true, "WHATSAPP": true}},
                          "time_zone": "Africa/Cairo", "quiet_hours": {"start": "22:00", "end": "07:00"}}))]
pub struct NotificationPreferences {
    /// Every event (`ticket_created`, `ticket_opened`, `ticket_assigned`, `work_started`,
    /// `work_finished`, `ticket_approved`, `ticket_rejected`) → channel (`WHATSAPP`, `EMAIL`) → on.
    pub events: BTreeMap<String, BTreeMap<String, bool>>,
    /// An IANA time zone name; quiet hours are read on its clock.
    pub time_zone: String,
    /// WhatsApp and e-mail due inside them wait until they end; `null`: none.
    #[schema(required = true)]
    pub quiet_hours: Option<QuietHoursShape>,
}

impl From<&Preferences> for NotificationPreferences {
    fn from(p: &Preferences) -> NotificationPreferences {
        let events = event_codes()
            .iter()
            .map(|event| {
                let channels = SWITCHABLE_CHANNELS
                    .iter()
                    .map(|channel| (channel.to_string(), p.wants(event, channel)))
                    .collect();
                (event.to_string(), channels)
            })
            .collect();
        NotificationPreferences {
            events,
            time_zone: p.time_zone.name().to_string(),
            quiet_hours: p.quiet_hours.map(|q| QuietHoursShape {
                start: format_clock(q.start),
                end: format_clock(q.end),
            }),
        }
    }
}

/// A change of preferences: every key is optional, and only the events and channels given
/// change.
#[derive(ToSchema)]
#[schema(example = json!({"events": {"ticket_created": {"WHATSAPP": false}}, "time_zone": "Africa/Cairo",
                          "quiet_hours": {"start": "22:00", "end": "07:00"}}))]
pub struct NotificationPreferencesUpdate {
    /// Event → channel → on. `SYSTEM` may be given only as `true`.
    pub events: Option<BTreeMap<String, BTreeMap<String, bool>>>,
    pub time_zone: Option<String>,
    /// `null` turns quiet hours off.
    pub quiet_hours: Option<QuietHoursInput>,
}

#[derive(ToSchema)]
pub struct QuietHoursInput {
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`, not the same as `start`.
    pub end: String,
}

// ---------------------------------------------------------------------------------------------
// The body

const TIME_FORMAT: &str = "Time has wrong format. Use one of these formats instead: hh:mm.";

fn not_a_dict(v: &Value) -> Value {
    json!([format!(
        "Expected a dictionary of items but got type \"{}\".",
        python_type_name(v)
    )])
}

/// `events`: errors keyed by event, then by channel, as DRF nests a dict field's errors.
fn channel_changes(events: &Value, out: &mut Vec<(String, String, bool)>) -> Option<Value> {
    let Value::Object(events) = events else {
        return Some(not_a_dict(events));
    };
    let known = event_codes();
    let mut errors = Map::new();
    for (event, channels) in events {
        if !known.contains(&event.as_str()) {
            errors.insert(
                event.clone(),
                json!([format!("\"{event}\" is not a valid event.")]),
            );
            continue;
        }
        let Value::Object(channels) = channels else {
            errors.insert(event.clone(), not_a_dict(channels));
            continue;
        };
        let mut channel_errors = Map::new();
        for (channel, on) in channels {
            let message = match on {
                _ if channel != SYSTEM && !SWITCHABLE_CHANNELS.contains(&channel.as_str()) => {
                    format!("\"{channel}\" is not a valid channel.")
                }
                Value::Bool(true) if channel == SYSTEM => continue,
                Value::Bool(false) if channel == SYSTEM => {
                    "In-app (SYSTEM) notifications cannot be turned off.".to_string()
                }
                Value::Bool(on) => {
                    out.push((event.clone(), channel.clone(), *on));
                    continue;
                }
                _ => "Must be a valid boolean.".to_string(),
            };
            channel_errors.insert(channel.clone(), json!([message]));
        }
        if !channel_errors.is_empty() {
            errors.insert(event.clone(), Value::Object(channel_errors));
        }
    }
    (!errors.is_empty()).then_some(Value::Object(errors))
}

/// `quiet_hours`: `null`, or `{"start": "HH:MM", "end": "HH:MM"}` with different times.
fn quiet_hours(v: &Value) -> Result<Option<QuietHours>, Value> {
    let Value::Object(m) = v else {
        return match v {
            Value::Null => Ok(None),
            other => Err(not_a_dict(other)),
        };
    };
    let mut errors = Map::new();
    let mut clock = |key: &str| {
        let Some(given) = m.get(key) else {
            errors.insert(key.into(), json!(["This field is required."]));
            return None;
        };
        let parsed = given.as_str().and_then(|s| parse_clock(s.trim()));
        if parsed.is_none() {
            errors.insert(key.into(), json!([TIME_FORMAT]));
        }
        parsed
    };
    let (start, end) = (clock("start"), clock("end"));
    if let (Some(start), Some(end)) = (start, end) {
        return QuietHours::new(start, end).map(Some).ok_or_else(
            || json!({"end": ["Quiet hours must end at another time than they start."]}),
        );
    }
    Err(Value::Object(errors))
}

/// The checked change; every bad field is reported at once.
fn preference_changes(data: &Map<String, Value>) -> Result<PreferenceChanges> {
    let mut changes = PreferenceChanges::default();
    let mut errors = Map::new();
    if let Some(events) = data.get("events") {
        if let Some(e) = channel_changes(events, &mut changes.channels) {
            errors.insert("events".into(), e);
        }
    }
    match data.get("time_zone") {
        None => {}
        Some(Value::String(name)) if parse_time_zone(name.trim()).is_some() => {
            changes.time_zone = parse_time_zone(name.trim());
        }
        Some(Value::Null) => {
            errors.insert("time_zone".into(), json!(["This field may not be null."]));
        }
        Some(_) => {
            errors.insert("time_zone".into(), json!(["A valid timezone is required."]));
        }
    }
    if let Some(v) = data.get("quiet_hours") {
        match quiet_hours(v) {
            Ok(q) => changes.quiet_hours = Some(q),
            Err(e) => {
                errors.insert("quiet_hours".into(), e);
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(Error::Validation(Value::Object(errors)))
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Your notification preferences.
#[utoipa::path(get, path = "/api/profile/notifications/", tag = "profiles", operation_id = "profile_notifications_retrieve",
    security(("bearerAuth" = [])),
    responses((status = 200, description = "Your preferences (the defaults until you change them)", body = NotificationPreferences)))]
pub async fn retrieve_own(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<NotificationPreferences>> {
    let prefs = service::own(&state, &user).await?;
    Ok(Json(NotificationPreferences::from(&prefs)))
}

/// Change your notification preferences (only what the body names).
#[utoipa::path(put, path = "/api/profile/notifications/", tag = "profiles", operation_id = "profile_notifications_update",
    request_body(content((NotificationPreferencesUpdate = "application/json"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Your preferences after the change", body = NotificationPreferences),
        (status = 400, response = BadPreferences),
    ))]
pub async fn update_own(
    State(state): State<AppState>,
    user: AuthUser,
    Body(data): Body,
) -> Result<Json<NotificationPreferences>> {
    let changes = preference_changes(&data)?;
    let prefs = service::update_own(&state, &user, &changes).await?;
    Ok(Json(NotificationPreferences::from(&prefs)))
}

/// A user's notification preferences (ADMIN).
#[utoipa::path(get, path = "/api/users/{id}/notifications/", tag = "users", operation_id = "users_notifications_retrieve",
    params(UserPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The user's preferences", body = NotificationPreferences),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn retrieve_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<NotificationPreferences>> {
    let prefs = service::of_user(&state, &admin, parse_id(&id)?).await?;
    Ok(Json(NotificationPreferences::from(&prefs)))
}

/// Change a user's notification preferences (ADMIN; only what the body names).
#[utoipa::path(put, path = "/api/users/{id}/notifications/", tag = "users", operation_id = "users_notifications_update",
    params(UserPath),
    request_body(content((NotificationPreferencesUpdate = "application/json"))),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The user's preferences after the change", body = NotificationPreferences),
        (status = 400, response = BadPreferences),
        (status = 403, response = NotAdmin),
        (status = 404, response = UserNotFound),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    Body(data): Body,
) -> Result<Json<NotificationPreferences>> {
    let id = parse_id(&id)?;
    let changes = preference_changes(&data)?;
    let prefs = service::update_user(&state, &admin, id, &changes).await?;
    Ok(Json(NotificationPreferences::from(&prefs)))
}
