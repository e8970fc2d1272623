//! `/api/whatsapp/messages/`: the WhatsApp messages users sent us, with what each command did
//! (admins). The use case is `service::whatsapp_inbound`.

use axum::extract::State;
use axum::Json;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::db::inbound::{InboundFilter, InboundRow};
use crate::domain::datetime::format_dt;
use crate::error::{Error, Result};
use crate::http::extract::Admin;
use crate::http::openapi::components::{
    DateTime, InvalidFilter, InvalidPage, NotAdmin, PageParams, Paginated,
};
use crate::http::pagination::PageRequest;
use crate::service::whatsapp_inbound as service;
use crate::state::AppState;

/// A message from a user on WhatsApp.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "provider": "twilio", "provider_message_id": "SM0123456789abcdef0123456789abcdef",
    "sender": "+201094402250", "user": 4, "username": "client1", "profile_name": "Mona",
    "body": "APPROVE 12", "button_payload": null, "received_at": "2025-12-25 14:37:35",
    "command": "approve", "ticket": 12, "outcome": "approved",
    "outcome_detail": "Ticket #12 \"Printer on fire\" is closed. Thank you!", "reply": 58
}))]
pub struct InboundMessage {
    pub id: i64,
    /// `twilio` or `meta`.
    pub provider: String,
    pub provider_message_id: String,
    /// E.164 when the number could be read, else as the provider sent it.
    pub sender: String,
    /// The user whose WhatsApp number matched (null: unknown sender).
    #[schema(required = true)]
    pub user: Option<i64>,
    #[schema(required = true)]
    pub username: Option<String>,
    #[schema(required = true)]
    pub profile_name: Option<String>,
    pub body: String,
    #[schema(required = true)]
    pub button_payload: Option<String>,
    #[schema(value_type = DateTime)]
    pub received_at: String,
    /// `approve`, `reject`, `status`, `help`, `stop`, `start` or `unknown` (null: not read as
    /// a command, the sender being unknown or inactive).
    #[schema(required = true)]
    pub command: Option<String>,
    /// The ticket the command acted on.
    #[schema(required = true)]
    pub ticket: Option<i64>,
    /// `approved`, `rejected`, `answered`, `refused`, `help`, `not_a_command`, `opted_out`,
    /// `opted_in`, `unknown_sender` or `inactive_sender`.
    pub outcome: String,
    /// What the sender was told, or why nothing was done.
    #[schema(required = true)]
    pub outcome_detail: Option<String>,
    /// The reply's row in the notification log.
    #[schema(required = true)]
    pub reply: Option<i64>,
}

impl From<&InboundRow> for InboundMessage {
    fn from(m: &InboundRow) -> InboundMessage {
        InboundMessage {
            id: m.id,
            provider: m.provider.clone(),
            provider_message_id: m.provider_message_id.clone(),
            sender: m.sender.clone(),
            user: m.user_id,
            username: m.username.clone(),
            profile_name: m.profile_name.clone(),
            body: m.body.clone(),
            button_payload: m.button_payload.clone(),
            received_at: format_dt(&m.received_at),
            command: m.command.clone(),
            ticket: m.ticket_id,
            outcome: m.outcome.clone(),
            outcome_detail: m.outcome_detail.clone(),
            reply: m.reply_id,
        }
    }
}

/// Filters of the inbound messages.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboundFilters {
    /// Only this user's messages.
    pub user: Option<i64>,
    /// Only the messages whose command acted on this ticket.
    pub ticket: Option<i64>,
    /// Only the messages received on this day (UTC), `YYYY-MM-DD`.
    pub date: Option<String>,
}

fn integer(page: &PageRequest, name: &str) -> Result<Option<i64>> {
    match page.param(name).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => crate::domain::id::parse(v)
            .map(Some)
            .ok_or_else(|| Error::field(name, "A valid integer is required.")),
    }
}

fn filter(page: &PageRequest) -> Result<InboundFilter> {
    let received = match page.param("date").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => {
            let day = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| Error::field("date", "Enter a valid date."))?;
            let from = Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN));
            Some((from, from + Duration::days(1)))
        }
    };
    Ok(InboundFilter {
        user: integer(page, "user")?,
        ticket: integer(page, "ticket")?,
        received,
    })
}

/// The WhatsApp messages users sent, newest first (admins).
#[utoipa::path(get, path = "/api/whatsapp/messages/", tag = "whatsapp", operation_id = "whatsapp_messages_list",
    params(PageParams, InboundFilters),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "A page of inbound messages", body = Paginated<InboundMessage>),
        (status = 400, response = InvalidFilter),
        (status = 403, response = NotAdmin),
        (status = 404, response = InvalidPage),
    ))]
pub async fn messages(
    State(state): State<AppState>,
    Admin(user): Admin,
    page: PageRequest,
) -> Result<Json<Paginated<InboundMessage>>> {
    let f = filter(&page)?;
    let (st, u) = (&state, &user);
    let listed = page
        .load(
            |offset, limit| service::page(st, u, &f, offset, limit),
            || service::count(st, u, &f),
            |m: &InboundRow| InboundMessage::from(m),
        )
        .await?;
    Ok(Json(listed))
}
