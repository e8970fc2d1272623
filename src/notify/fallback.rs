//! E-mail when WhatsApp fails: a WhatsApp message that ends FAILED (refused, out of retries, or
//! reported `undelivered`/`failed` by the provider) goes out once by e-mail instead — if the
//! recipient has an address, e-mail is configured, and their preferences allow e-mail for that
//! event. The e-mail row names the failed one (`fallback_of`, unique: never twice, and an
//! e-mail never falls back, so never a loop).

use std::sync::Arc;

use chrono::Utc;

use crate::db::tickets::{Scope, TicketUpdate};
use crate::db::Db;
use crate::error::Result;
use crate::notify::templates::catalog::{self, Audience, Part};
use crate::notify::templates::{EmailText, Templates};

/// What deciding and rendering a fallback needs.
#[derive(Clone)]
pub struct Fallback {
    pub templates: Arc<Templates>,
    /// E-mail can be sent (`EMAIL_HOST` set).
    pub email_configured: bool,
}

/// Escapes text for HTML.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

impl Fallback {
    /// Falls back from WhatsApp row `failed` if it is a FAILED WhatsApp message and the rules
    /// allow; returns the e-mail row's id. Errors are logged, never raised: the failure itself
    /// is already recorded.
    pub async fn after_failure(&self, db: &Db, failed: i64) -> Option<i64> {
        match self.try_fallback(db, failed).await {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(notification_id = failed, error = %e, "cannot write the e-mail fallback of a failed WhatsApp message");
                None
            }
        }
    }

    async fn try_fallback(&self, db: &Db, failed: i64) -> Result<Option<i64>> {
        let Some(row) = crate::db::fallback::failed_whatsapp(db, failed).await? else {
            return Ok(None);
        };
        if let Some(id) = row.fallback_id {
            tracing::debug!(
                notification_id = failed,
                fallback = id,
                "already fell back to e-mail"
            );
            return Ok(None);
        }
        let skip = if row.email.trim().is_empty() {
            Some(format!("User {} has no e-mail address", row.username))
        } else if !self.email_configured {
            Some("e-mail is not configured (EMAIL_HOST)".to_string())
        } else if !crate::db::preferences::get(db, row.recipient_id)
            .await?
            .wants(&row.event, "EMAIL")
        {
            Some(format!(
                "User {} turned e-mail off for {}",
                row.username, row.event
            ))
        } else {
            None
        };
        if let Some(why) = skip {
            tracing::info!(
                notification_id = failed,
                "WhatsApp message failed; no e-mail fallback: {why}"
            );
            return Ok(None);
        }
        let Some(text) = self.render(db, &row).await? else {
            return Ok(None);
        };
        let id = crate::db::fallback::insert(
            db,
            failed,
            &text.subject,
            &text.text,
            &text.html,
            Utc::now(),
        )
        .await?;
        match id {
            Some(id) => tracing::warn!(notification_id = failed, fallback = id, user = %row.username,
                "WhatsApp message {failed} to {} failed: sending it by e-mail instead (notification {id})", row.username),
            None => tracing::info!(notification_id = failed,
                "WhatsApp message failed; no e-mail fallback: the step already e-mailed {} about {}", row.username, row.event),
        }
        Ok(id)
    }

    /// The event's e-mail to the recipient, from the ticket as it is now; for an event without
    /// an e-mail (a rejection), the WhatsApp text under the in-app title.
    async fn render(
        &self,
        db: &Db,
        row: &crate::db::fallback::FailedWhatsApp,
    ) -> Result<Option<EmailText>> {
        let Some(ticket) = crate::db::tickets::get(db, row.ticket_id, Scope::All).await? else {
            return Ok(None);
        };
        let assigned: Vec<i64> = ticket.assignees().iter().map(|p| p.id).collect();
        let people = crate::notify::people(db, ticket.created_by_id, &assigned).await?;
        let facts = crate::notify::facts_after(&ticket, &TicketUpdate::from_row(&ticket), &people);
        let is = |a: Audience| match a {
            Audience::Client => people
                .creator
                .as_ref()
                .is_some_and(|c| c.id == row.recipient_id),
            Audience::Admin => people.admins.iter().any(|u| u.id == row.recipient_id),
            Audience::Developer => people.developers.iter().any(|u| u.id == row.recipient_id),
        };
        let name = people
            .everyone()
            .find(|r| r.id == row.recipient_id)
            .map_or(row.username.clone(), |r| r.name.clone());
        let audience = [Audience::Client, Audience::Admin, Audience::Developer]
            .into_iter()
            .find(|a| is(*a) && catalog::find(&row.event, Some(*a), Part::EmailSubject).is_some());
        Ok(Some(match audience {
            Some(a) => self.templates.email_of(&row.event, a, &facts, &name),
            None => {
                let title = self.templates.system(&row.event, &facts, &name, None).title;
                EmailText {
                    subject: format!("{title} - {}", facts.title),
                    text: row.message.clone(),
                    html: format!(
                        "<html><body><pre style=\"font-family: sans-serif; white-space: pre-wrap\">{}</pre></body></html>",
                        escape_html(&row.message)
                    ),
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            super::escape_html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
