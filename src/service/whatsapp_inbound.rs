//! Messages users send us on WhatsApp (Twilio's inbound webhook, Meta's `messages` events):
//! each stored once, the sender's 24-hour window opened, and the text read as a command
//! (`domain::whatsapp::parse`) taken as that user through the same ticket use cases as the API,
//! with a WhatsApp reply saying what happened. Unknown and inactive senders get no answer.

use chrono::{DateTime, Utc};

use crate::auth::AuthUser;
use crate::db::inbound::{self as store, Finished, InboundFilter, InboundRow, NewInbound, Reply};
use crate::domain::phone::WhatsAppNumber;
use crate::domain::whatsapp::{parse, Command, HELP_TEXT};
use crate::domain::workflow::{TextInput, WorkflowError};
use crate::error::{Error, Result};
use crate::service::tickets::{self, Step};
use crate::state::AppState;

/// One inbound message as a provider delivered it.
#[derive(Debug, Clone, Default)]
pub struct Inbound<'a> {
    /// `twilio` or `meta`.
    pub provider: &'a str,
    /// Twilio `SM...`/`MM...`, Meta `wamid...`: a replay carries the same.
    pub message_id: &'a str,
    /// `whatsapp:+E164` (Twilio) or digits (Meta).
    pub from: &'a str,
    pub body: &'a str,
    pub button_payload: Option<&'a str>,
    /// Twilio's `OptOutType` (`STOP`, `START`, `HELP`) with Advanced Opt-Out.
    pub opt_out_type: Option<&'a str>,
    pub profile_name: Option<&'a str>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Its id was stored before: ignored.
    Replay,
    /// Stored with this outcome.
    Stored { id: i64, outcome: &'static str },
}

/// Stores the message (once), opens the sender's window at `at`, and acts on its command.
pub async fn receive(state: &AppState, m: &Inbound<'_>, at: DateTime<Utc>) -> Result<Received> {
    let region = state.config.default_phone_region.as_deref();
    let number = WhatsAppNumber::parse(m.from, region).ok();
    let sender = match &number {
        Some(n) => store::sender(&state.db, n.as_str()).await?,
        None => None,
    };
    let outcome = match &sender {
        None => "unknown_sender",
        Some(s) if !s.is_active => "inactive_sender",
        Some(_) => "received",
    };
    let new = NewInbound {
        provider: m.provider,
        provider_message_id: m.message_id,
        sender: number.as_ref().map_or(m.from, |n| n.as_str()),
        user_id: sender.as_ref().map(|s| s.id),
        profile_name: m.profile_name.filter(|p| !p.is_empty()),
        body: m.body,
        button_payload: m.button_payload.filter(|p| !p.is_empty()),
        outcome,
    };
    let Some(id) = store::record(&state.db, &new, at).await? else {
        tracing::debug!(
            provider = m.provider,
            message_id = m.message_id,
            "WhatsApp message replayed: ignored"
        );
        return Ok(Received::Replay);
    };
    let sender = match sender {
        Some(s) if s.is_active => s,
        _ => {
            tracing::warn!(
                inbound_id = id,
                provider = m.provider,
                outcome,
                "WhatsApp message from a number of no active user: stored, not answered"
            );
            return Ok(Received::Stored { id, outcome });
        }
    };
    let user = AuthUser {
        id: sender.id,
        username: sender.username,
        first_name: sender.first_name,
        last_name: sender.last_name,
        role: sender.role,
    };
    let command = parse(m.body, m.button_payload, m.opt_out_type);
    let finished = act(state, &user, command, at).await?;
    let replied = store::finish(&state.db, id, user.id, &finished, at).await?;
    tracing::info!(
        inbound_id = id,
        user_id = user.id,
        command = finished.command,
        outcome = finished.outcome,
        "WhatsApp command from {}",
        user.username
    );
    if replied.is_some() {
        state.outbox.notify_one();
        crate::notify::push::publish(&state.db, &state.push, Vec::new(), true).await;
    }
    Ok(Received::Stored {
        id,
        outcome: finished.outcome,
    })
}

/// A finished command that answers `text`.
fn answered(
    user: &AuthUser,
    command: &'static str,
    ticket_id: Option<i64>,
    outcome: &'static str,
    text: String,
) -> Finished {
    Finished {
        command,
        ticket_id,
        outcome,
        detail: Some(text.clone()),
        reply: Some(Reply {
            recipient_id: user.id,
            ticket_id,
            text,
        }),
        opt_out: None,
    }
}

async fn act(
    state: &AppState,
    user: &AuthUser,
    command: Command,
    at: DateTime<Utc>,
) -> Result<Finished> {
    let name = command.name();
    match command {
        Command::Stop => Ok(Finished {
            command: name,
            ticket_id: None,
            outcome: "opted_out",
            detail: Some("No WhatsApp messages until START".into()),
            reply: None,
            opt_out: Some(Some(at)),
        }),
        Command::Start => Ok(Finished {
            opt_out: Some(None),
            ..answered(
                user,
                name,
                None,
                "opted_in",
                "You will receive WhatsApp notifications again. Send HELP to see the commands."
                    .into(),
            )
        }),
        Command::Help => Ok(answered(user, name, None, "help", HELP_TEXT.into())),
        Command::Unknown => Ok(answered(
            user,
            name,
            None,
            "not_a_command",
            format!("Sorry, that is not a command. {HELP_TEXT}"),
        )),
        Command::Status { ticket } => match tickets::get(state, user, ticket).await {
            Ok(t) => Ok(answered(
                user,
                name,
                Some(t.id),
                "answered",
                format!("Ticket #{} \"{}\" is {}.", t.id, t.title, t.status.label()),
            )),
            Err(e) => refused(user, name, None, ticket, e),
        },
        Command::Approve { ticket } => {
            let id = match awaiting(state, user, ticket, "APPROVE").await? {
                Ok(id) => id,
                Err(why) => return Ok(answered(user, name, None, "refused", why)),
            };
            step(state, user, name, id, Step::Approve).await
        }
        Command::Reject { ticket, reason } => {
            let id = match awaiting(state, user, ticket, "REJECT").await? {
                Ok(id) => id,
                Err(why) => return Ok(answered(user, name, None, "refused", why)),
            };
            let reason = TextInput::from(reason.as_str());
            step(state, user, name, id, Step::Reject { reason }).await
        }
    }
}

/// The ticket a command names, or the sender's only ticket awaiting their approval; the
/// inner `Err` is the answer when there is none or several.
async fn awaiting(
    state: &AppState,
    user: &AuthUser,
    ticket: Option<i64>,
    word: &str,
) -> Result<Result<i64, String>> {
    if let Some(id) = ticket {
        return Ok(Ok(id));
    }
    let ids = store::awaiting_approval(&state.db, user.id).await?;
    Ok(match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err("You have no ticket awaiting your approval.".into()),
        many => {
            let list: Vec<String> = many.iter().map(|id| format!("#{id}")).collect();
            Err(format!(
                "You have several tickets awaiting your approval ({}): reply {word} <ticket number>.",
                list.join(", ")
            ))
        }
    })
}

/// Takes the step as `user`, exactly as the API's approve/reject handlers do.
async fn step(
    state: &AppState,
    user: &AuthUser,
    name: &'static str,
    id: i64,
    step: Step,
) -> Result<Finished> {
    let t = match tickets::get(state, user, id).await {
        Ok(t) => t,
        Err(e) => return refused(user, name, None, id, e),
    };
    let ticket_id = Some(t.id);
    match tickets::step(state, user, t, step).await {
        Ok(done) => {
            let (outcome, text) = match name {
                "approve" => (
                    "approved",
                    format!(
                        "Ticket #{} \"{}\" is closed. Thank you!",
                        id, done.ticket.title
                    ),
                ),
                _ => (
                    "rejected",
                    format!(
                        "Ticket #{} \"{}\" is back in progress; the developers have your reason.",
                        id, done.ticket.title
                    ),
                ),
            };
            Ok(answered(user, name, ticket_id, outcome, text))
        }
        Err(e) => refused(user, name, ticket_id, id, e),
    }
}

/// A refusal in plain words; errors that are not refusals (the database) are passed on.
fn refused(
    user: &AuthUser,
    name: &'static str,
    ticket_id: Option<i64>,
    id: i64,
    e: Error,
) -> Result<Finished> {
    let text = match e {
        Error::NotFound(_) => format!("Ticket #{id} was not found, or it is not yours."),
        Error::TicketBusy => {
            format!("Ticket #{id} is being changed by someone else; try again in a moment.")
        }
        Error::Workflow(w) => plain_words(id, &w),
        Error::Database(_) | Error::Internal(_) => return Err(e),
        other => format!("Ticket #{id}: {other}."),
    };
    Ok(answered(user, name, ticket_id, "refused", text))
}

fn plain_words(id: i64, e: &WorkflowError) -> String {
    use WorkflowError::*;
    match e {
        NotAwaitingApproval { current } | WrongStatus { current, .. } => format!(
            "Ticket #{id} is not awaiting your approval (it is {}).",
            current.label()
        ),
        NotCreator { .. } => {
            format!("Only the person who created ticket #{id} can approve or reject it.")
        }
        WrongRole { .. } => "Developers cannot approve or reject tickets.".into(),
        CommentRequired | CommentBlank | CommentNull | CommentNotAString => {
            format!("Say why: REJECT {id} <reason> (10 to 2000 characters).")
        }
        ReasonTooShort => {
            format!("The reason must be at least 10 characters: REJECT {id} <reason>.")
        }
        CommentTooLong => "The reason is too long: 2000 characters at most.".into(),
        other => format!("Ticket #{id}: {other}"),
    }
}

/// One page of stored messages, newest first (admins).
pub async fn page(
    state: &AppState,
    user: &AuthUser,
    f: &InboundFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<InboundRow>> {
    user.require_admin()?;
    Ok(store::list(&state.db, f, offset, limit).await?)
}

/// How many messages the filter covers (admins).
pub async fn count(state: &AppState, user: &AuthUser, f: &InboundFilter) -> Result<i64> {
    user.require_admin()?;
    Ok(store::count(&state.db, f).await?)
}
