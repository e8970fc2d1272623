//! Message texts as templates (minijinja): every WhatsApp body, SYSTEM title and message, e-mail
//! subject, plain text and HTML, per event. The built-in texts (`defaults/`, listed in `catalog`)
//! are the ones the port always sent; the two the setup guide shows ("New Ticket Created" to
//! admins, "Your Ticket Has Been Opened" to the client) are the original's exactly. A folder
//! (`TEMPLATES_DIR`) overrides them file by file, checked at start (`load`).

pub mod catalog;
pub mod load;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use minijinja::{Environment, Value};

use crate::domain::datetime::format_short;
use crate::domain::ticket::{Category, Priority, Status};
use catalog::{Audience, Part, Spec};
pub use load::{TemplateError, TemplateErrors};

/// What the texts say about a ticket.
#[derive(Debug, Clone)]
pub struct TicketFacts {
    pub id: i64,
    pub title: String,
    pub project: String,
    pub description: String,
    pub priority: Priority,
    pub category: Category,
    pub status: Status,
    /// `name(creator)`.
    pub creator_name: String,
    /// The assigned developers' names joined with ", ", or `Team` when none.
    pub dev_names: String,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub estimated_resolution_at: Option<DateTime<Utc>>,
}

/// A rendered WhatsApp message: the free-form text, and the same facts as template variables
/// (`{"1": ..., "2": ...}`) for providers configured with an approved template for the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    pub variables: Vec<String>,
}

/// Which WhatsApp message a recipient gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhatsAppMessage {
    AdminNewTicket,
    ClientTicketOpened,
    DeveloperAssigned,
    ClientWorkStarted,
    ClientWorkFinished,
    AdminWorkFinished,
    AdminTicketClosed,
    DeveloperTicketClosed,
    DeveloperTicketRejected { reason: String },
}

impl WhatsAppMessage {
    /// The event and audience whose template this is, and the rejection reason if any.
    fn template(&self) -> (&'static str, Audience, Option<&str>) {
        match self {
            WhatsAppMessage::AdminNewTicket => ("ticket_created", Audience::Admin, None),
            WhatsAppMessage::ClientTicketOpened => ("ticket_opened", Audience::Client, None),
            WhatsAppMessage::DeveloperAssigned => ("ticket_assigned", Audience::Developer, None),
            WhatsAppMessage::ClientWorkStarted => ("work_started", Audience::Client, None),
            WhatsAppMessage::ClientWorkFinished => ("work_finished", Audience::Client, None),
            WhatsAppMessage::AdminWorkFinished => ("work_finished", Audience::Admin, None),
            WhatsAppMessage::AdminTicketClosed => ("ticket_approved", Audience::Admin, None),
            WhatsAppMessage::DeveloperTicketClosed => {
                ("ticket_approved", Audience::Developer, None)
            }
            WhatsAppMessage::DeveloperTicketRejected { reason } => {
                ("ticket_rejected", Audience::Developer, Some(reason))
            }
        }
    }
}

/// Which e-mail a recipient gets (contract §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMessage {
    AdminNewTicket,
    ClientTicketOpened,
    DeveloperAssigned,
    ClientWorkStarted,
    ClientWorkFinished,
    AdminWorkFinished,
    AdminTicketClosed,
    DeveloperTicketClosed,
}

impl EmailMessage {
    fn template(self) -> (&'static str, Audience) {
        match self {
            EmailMessage::AdminNewTicket => ("ticket_created", Audience::Admin),
            EmailMessage::ClientTicketOpened => ("ticket_opened", Audience::Client),
            EmailMessage::DeveloperAssigned => ("ticket_assigned", Audience::Developer),
            EmailMessage::ClientWorkStarted => ("work_started", Audience::Client),
            EmailMessage::ClientWorkFinished => ("work_finished", Audience::Client),
            EmailMessage::AdminWorkFinished => ("work_finished", Audience::Admin),
            EmailMessage::AdminTicketClosed => ("ticket_approved", Audience::Admin),
            EmailMessage::DeveloperTicketClosed => ("ticket_approved", Audience::Developer),
        }
    }
}

/// A rendered e-mail: the subject, the plain text (stored in `message`, as the original) and
/// the HTML alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailText {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A rendered in-app (SYSTEM) notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemText {
    pub title: String,
    pub message: String,
}

/// The first 200 characters of the description, with `...` when it was longer.
pub fn short_description(text: &str) -> String {
    if text.chars().count() > 200 {
        format!("{}...", text.chars().take(200).collect::<String>())
    } else {
        text.to_string()
    }
}

/// The message texts in use: the built-in ones, with a folder's overrides. A value held by the
/// application state (not a global), so servers with different folders can run side by side.
pub struct Templates {
    active: Environment<'static>,
    /// The built-in texts, used if an override fails at run time (a filter given a bad value).
    builtin: Environment<'static>,
    /// `FRONTEND_URL` without its trailing slash: the links in e-mails.
    frontend_url: String,
    /// The file names `TEMPLATES_DIR` overrides.
    overridden: Vec<&'static str>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("frontend_url", &self.frontend_url)
            .field("overridden", &self.overridden)
            .finish()
    }
}

/// The variables of one message.
type Context = BTreeMap<&'static str, Value>;

impl Templates {
    /// The built-in texts only.
    pub fn builtin(frontend_url: &str) -> Templates {
        // The built-in texts are checked by the tests; an error here is a bug in the binary.
        let builtin = load::build(&[]).unwrap_or_else(|e| panic!("built-in templates: {e}"));
        Templates {
            active: builtin.clone(),
            builtin,
            frontend_url: frontend_url.trim_end_matches('/').to_string(),
            overridden: Vec::new(),
        }
    }

    /// The built-in texts overridden by the files of `dir`, every one checked; the error names
    /// each bad file and line.
    pub fn load(dir: Option<&Path>, frontend_url: &str) -> Result<Templates, TemplateErrors> {
        let mut templates = Templates::builtin(frontend_url);
        if let Some(dir) = dir {
            let overrides = load::read_dir(dir)?;
            templates.active = load::build(&overrides)?;
            templates.overridden = overrides.iter().map(|(spec, _)| spec.name).collect();
            templates.overridden.sort();
        }
        Ok(templates)
    }

    /// The file names overridden by `TEMPLATES_DIR`.
    pub fn overridden(&self) -> &[&'static str] {
        &self.overridden
    }

    fn context(&self, t: &TicketFacts, recipient_name: &str, reason: Option<&str>) -> Context {
        let mut c = Context::new();
        let mut put = |name, value: String| c.insert(name, Value::from(value));
        put("ticket_id", t.id.to_string());
        put("title", t.title.clone());
        put("project", t.project.clone());
        put("description", t.description.clone());
        put("short_description", short_description(&t.description));
        put("priority", t.priority.as_str().into());
        put("priority_label", t.priority.label().into());
        put("category", t.category.as_str().into());
        put("category_label", t.category.label().into());
        put("status", t.status.as_str().into());
        put("status_label", t.status.label().into());
        put("creator_name", t.creator_name.clone());
        put("dev_names", t.dev_names.clone());
        put("resolution_due", format_short(t.resolution_due_at.as_ref()));
        put(
            "estimated_resolution",
            format_short(t.estimated_resolution_at.as_ref()),
        );
        put("recipient_name", recipient_name.to_string());
        if let Some(reason) = reason {
            put("reason", reason.to_string());
        }
        // Links are built from configuration (a parsed URL) and a number: safe in HTML as they
        // are, so `/` is not escaped to `&#x2f;` in an `href`.
        let base = &self.frontend_url;
        let ticket_url = format!("{base}/api/tickets/{}/", t.id);
        let admin_url = format!("{base}/admin/core/ticket/{}/change/", t.id);
        c.insert("ticket_url", Value::from_safe_string(ticket_url));
        c.insert("admin_url", Value::from_safe_string(admin_url));
        c
    }

    /// Renders one template; an override that fails at run time is logged and the built-in
    /// text sent instead, so a step never fails for a text.
    fn render(&self, event: &str, audience: Option<Audience>, part: Part, c: &Context) -> String {
        let Some(spec) = catalog::find(event, audience, part) else {
            tracing::error!(event, ?audience, ?part, "no template for this message");
            return String::new();
        };
        let with = |env: &Environment<'static>| {
            env.get_template(spec.name)
                .and_then(|t| t.render(Value::from(c.clone())))
        };
        with(&self.active).unwrap_or_else(|e| {
            tracing::error!(template = spec.name, line = e.line(), error = %e, "the template failed; the built-in text is sent instead");
            with(&self.builtin).unwrap_or_default()
        })
    }

    /// The WhatsApp message for `recipient_name` (`name(u)`), with the Content template's
    /// variables in their documented order.
    pub fn whatsapp(
        &self,
        kind: &WhatsAppMessage,
        t: &TicketFacts,
        recipient_name: &str,
    ) -> Rendered {
        let (event, audience, reason) = kind.template();
        self.whatsapp_of(event, audience, reason, t, recipient_name)
    }

    /// The WhatsApp message of an event to one audience (the preview names them so).
    pub fn whatsapp_of(
        &self,
        event: &str,
        audience: Audience,
        reason: Option<&str>,
        t: &TicketFacts,
        recipient_name: &str,
    ) -> Rendered {
        let c = self.context(t, recipient_name, reason);
        let order = catalog::find(event, Some(audience), Part::WhatsApp)
            .map_or(&[][..], |spec: &Spec| spec.content_variables);
        Rendered {
            body: self.render(event, Some(audience), Part::WhatsApp, &c),
            variables: order
                .iter()
                .map(|name| c.get(name).map(Value::to_string).unwrap_or_default())
                .collect(),
        }
    }

    /// The in-app notification of an event (the same for every recipient but the name).
    pub fn system(
        &self,
        event: &str,
        t: &TicketFacts,
        recipient_name: &str,
        reason: Option<&str>,
    ) -> SystemText {
        let c = self.context(t, recipient_name, reason);
        SystemText {
            title: self.render(event, None, Part::SystemTitle, &c),
            message: self.render(event, None, Part::SystemMessage, &c),
        }
    }

    /// The e-mail for `recipient_name`: subject, plain text and HTML, links from `FRONTEND_URL`.
    pub fn email(&self, kind: &EmailMessage, t: &TicketFacts, recipient_name: &str) -> EmailText {
        let (event, audience) = kind.template();
        self.email_of(event, audience, t, recipient_name)
    }

    /// The e-mail of an event to one audience.
    pub fn email_of(
        &self,
        event: &str,
        audience: Audience,
        t: &TicketFacts,
        recipient_name: &str,
    ) -> EmailText {
        let c = self.context(t, recipient_name, None);
        let part = |part| self.render(event, Some(audience), part, &c);
        EmailText {
            subject: part(Part::EmailSubject),
            text: part(Part::EmailText),
            html: part(Part::EmailHtml),
        }
    }
}

#[cfg(test)]
mod tests;
