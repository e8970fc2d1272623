//! The admin preview: any event's message for a real ticket and recipient, rendered with the
//! templates in use and sent nowhere.

use crate::auth::AuthUser;
use crate::db::tickets::{TicketRow, TicketUpdate};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::notify::events::{People, Recipient, WHATSAPP_SUBJECT};
use crate::notify::templates::catalog::{self, Audience, Part};
use crate::notify::templates::Templates;
use crate::state::AppState;

/// The channels a message can be previewed on.
pub const CHANNELS: [&str; 3] = ["WHATSAPP", "EMAIL", "SYSTEM"];

/// What to preview; `event` and `channel` are already known to be valid.
pub struct PreviewRequest {
    pub event: String,
    pub channel: String,
    pub ticket: i64,
    /// The person it would go to; by default the first the event notifies on that channel.
    pub recipient: Option<i64>,
    /// `ticket_rejected` only: the reason the message quotes.
    pub reason: String,
}

/// A message as it would be written to the outbox.
pub struct Preview {
    pub recipient_id: i64,
    pub recipient_name: String,
    /// The template file the body comes from.
    pub template: &'static str,
    pub subject: String,
    pub body: String,
    /// E-mail only: the HTML alternative.
    pub html: Option<String>,
    /// WhatsApp only: the Twilio Content template variables `{{1}}`, `{{2}}`...
    pub variables: Vec<String>,
}

/// Who hears of each event in-app (as `events::plan` writes the SYSTEM rows).
fn system_audiences(event: &str) -> &'static [Audience] {
    match event {
        "ticket_created" => &[Audience::Admin],
        "ticket_assigned" => &[Audience::Developer],
        "ticket_rejected" | "ticket_approved" => &[Audience::Admin, Audience::Developer],
        _ => &[Audience::Client],
    }
}

fn members(people: &People, audience: Audience) -> Vec<&Recipient> {
    match audience {
        Audience::Admin => people.admins.iter().collect(),
        Audience::Client => people.creator.iter().collect(),
        Audience::Developer => people.developers.iter().collect(),
    }
}

/// The audiences of the event on the channel, in the order they are notified.
fn audiences(event: &str, channel: &str) -> Vec<Audience> {
    let part = match channel {
        "WHATSAPP" => Part::WhatsApp,
        "EMAIL" => Part::EmailSubject,
        _ => return system_audiences(event).to_vec(),
    };
    catalog::TEMPLATES
        .iter()
        .filter(|s| s.event == event && s.part == part)
        .filter_map(|s| s.audience)
        .collect()
}

/// The audience and recipient of the preview: the one asked for (400 if the event does not
/// notify them on that channel), or the first notified, or the admin asking.
fn choose(people: &People, r: &PreviewRequest, by: &AuthUser) -> Result<(Audience, Recipient)> {
    let audiences = audiences(&r.event, &r.channel);
    let Some(first) = audiences.first().copied() else {
        return Err(Error::field(
            "channel",
            format!("{} sends no {} message.", r.event, r.channel),
        ));
    };
    let found = audiences.iter().find_map(|a| {
        members(people, *a)
            .into_iter()
            .find(|m| r.recipient.is_none_or(|id| id == m.id))
            .map(|m| (*a, m.clone()))
    });
    match (found, r.recipient) {
        (Some(found), _) => Ok(found),
        (None, Some(id)) => Err(Error::field(
            "recipient",
            format!(
                "User {id} gets no {} message of {} for this ticket.",
                r.channel, r.event
            ),
        )),
        (None, None) => Ok((
            first,
            Recipient {
                id: by.id,
                username: by.username.clone(),
                name: by.display_name(),
                whatsapp: None,
                email: None,
                is_active: true,
            },
        )),
    }
}

/// Renders the message of `r.event` on `r.channel` for `ticket` as it stands now.
pub async fn preview(state: &AppState, by: &AuthUser, r: &PreviewRequest) -> Result<Preview> {
    let ticket = crate::service::tickets::get(state, by, r.ticket).await?;
    render(&state.db, &state.templates, &ticket, r, by).await
}

async fn render(
    db: &Db,
    templates: &Templates,
    ticket: &TicketRow,
    r: &PreviewRequest,
    by: &AuthUser,
) -> Result<Preview> {
    let assigned: Vec<i64> = ticket.assignees().iter().map(|p| p.id).collect();
    let people = crate::notify::people(db, ticket.created_by_id, &assigned).await?;
    let facts = crate::notify::facts_after(ticket, &TicketUpdate::from_row(ticket), &people);
    let (audience, to) = choose(&people, r, by)?;
    let reason = (r.event == "ticket_rejected").then_some(r.reason.as_str());
    let mut p = Preview {
        recipient_id: to.id,
        recipient_name: to.name.clone(),
        template: "",
        subject: String::new(),
        body: String::new(),
        html: None,
        variables: Vec::new(),
    };
    let template = |part| catalog::find(&r.event, Some(audience), part).map_or("", |s| s.name);
    match r.channel.as_str() {
        "WHATSAPP" => {
            let text = templates.whatsapp_of(&r.event, audience, reason, &facts, &to.name);
            p.template = template(Part::WhatsApp);
            p.subject = WHATSAPP_SUBJECT.to_string();
            (p.body, p.variables) = (text.body, text.variables);
        }
        "EMAIL" => {
            let text = templates.email_of(&r.event, audience, &facts, &to.name);
            p.template = template(Part::EmailText);
            (p.subject, p.body, p.html) = (text.subject, text.text, Some(text.html));
        }
        _ => {
            let text = templates.system(&r.event, &facts, &to.name, reason);
            p.template = catalog::find(&r.event, None, Part::SystemMessage).map_or("", |s| s.name);
            (p.subject, p.body) = (text.title, text.message);
        }
    }
    Ok(p)
}
