//! The catalogue of message templates: one file per event, audience, channel and part, with its
//! built-in text (`defaults/`), the variables it may use, the ones it must use and, for WhatsApp,
//! which variable is each `{{1}}`, `{{2}}`... of the event's Twilio Content template.

/// Which part of which channel a template renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    WhatsApp,
    SystemTitle,
    SystemMessage,
    EmailSubject,
    EmailText,
    EmailHtml,
}

impl Part {
    /// The notification channel (`notification_type`) the part belongs to.
    pub fn channel(self) -> &'static str {
        match self {
            Part::WhatsApp => "WHATSAPP",
            Part::SystemTitle | Part::SystemMessage => "SYSTEM",
            Part::EmailSubject | Part::EmailText | Part::EmailHtml => "EMAIL",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Part::WhatsApp => "the WhatsApp message",
            Part::SystemTitle => "the in-app (SYSTEM) notification's title",
            Part::SystemMessage => "the in-app (SYSTEM) notification's message",
            Part::EmailSubject => "the e-mail subject",
            Part::EmailText => "the e-mail's plain-text body",
            Part::EmailHtml => "the e-mail's HTML body (values are HTML-escaped)",
        }
    }
}

/// Who a WhatsApp or e-mail template speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every ADMIN.
    Admin,
    /// The ticket's creator.
    Client,
    /// The assigned (for `ticket_assigned`: newly assigned) developers.
    Developer,
}

impl Audience {
    fn describe(self) -> &'static str {
        match self {
            Audience::Admin => "each ADMIN",
            Audience::Client => "the client who created the ticket",
            Audience::Developer => "each assigned developer",
        }
    }
}

/// One template file.
#[derive(Debug)]
pub struct Spec {
    /// The file name, in the built-in set and in `TEMPLATES_DIR`.
    pub name: &'static str,
    /// The event code (`ticket_created` ...), as in `notification_log.event`.
    pub event: &'static str,
    /// `None` for SYSTEM parts, which every recipient gets alike.
    pub audience: Option<Audience>,
    pub part: Part,
    /// The built-in text.
    pub default: &'static str,
    /// WhatsApp only: the variables sent as the Content template's `{{1}}`, `{{2}}`... in order.
    pub content_variables: &'static [&'static str],
}

/// The facts every template may use, with their meaning.
pub const FACTS: &[(&str, &str)] = &[
    ("ticket_id", "the ticket's number"),
    ("title", "the ticket's title"),
    ("project", "the project name"),
    ("description", "the full description"),
    (
        "short_description",
        "the first 200 characters of the description, with ... when it is longer",
    ),
    ("priority", "HIGH, MEDIUM or LOW"),
    ("priority_label", "High, Medium or Low"),
    ("category", "BUG, PROBLEM, SERVICE_DOWN or NEW_FEATURE"),
    (
        "category_label",
        "Bug, Problem, Service Down or New Feature Request",
    ),
    (
        "status",
        "the status after the step (NEW, OPENED, IN_PROGRESS ...)",
    ),
    ("status_label", "its label (New, Opened, In Progress ...)"),
    (
        "creator_name",
        "the name of the client who created the ticket",
    ),
    (
        "dev_names",
        "the assigned developers' names joined with \", \", or Team when none",
    ),
    (
        "resolution_due",
        "the resolution deadline, YYYY-MM-DD HH:MM (UTC), or Not set",
    ),
    (
        "estimated_resolution",
        "the estimated resolution time, YYYY-MM-DD HH:MM (UTC), or Not set",
    ),
    (
        "recipient_name",
        "the name of the person this message goes to",
    ),
];

/// Only `ticket_rejected` knows why.
pub const REASON: (&str, &str) = ("reason", "the client's reason for rejecting the resolution");

/// Only e-mails carry links, built from `FRONTEND_URL`.
pub const LINKS: &[(&str, &str)] = &[
    ("ticket_url", "FRONTEND_URL/api/tickets/<ticket_id>/"),
    (
        "admin_url",
        "FRONTEND_URL/admin/core/ticket/<ticket_id>/change/",
    ),
];

/// The events, in workflow order, with when they happen.
pub const EVENTS: &[(&str, &str)] = &[
    ("ticket_created", "a client creates a ticket"),
    ("ticket_opened", "an admin opens the ticket"),
    ("ticket_assigned", "developers are newly assigned"),
    ("work_started", "a developer starts the work"),
    ("work_finished", "a developer finishes the work"),
    ("ticket_rejected", "the client rejects the resolution"),
    (
        "ticket_approved",
        "the client approves and the ticket is closed",
    ),
];

impl Spec {
    /// Every variable this template may use, with its meaning.
    pub fn variables(&self) -> Vec<(&'static str, &'static str)> {
        let mut vars = FACTS.to_vec();
        if self.event == "ticket_rejected" {
            vars.push(REASON);
        }
        if self.part.channel() == "EMAIL" {
            vars.extend_from_slice(LINKS);
        }
        vars
    }

    /// The variables without which the message loses its point: which ticket (except in titles
    /// and subjects, one of which the original kept constant) and, on rejection, why.
    pub fn required(&self) -> Vec<&'static str> {
        let mut required = Vec::new();
        if !matches!(self.part, Part::SystemTitle | Part::EmailSubject) {
            required.push("title");
            if self.event == "ticket_rejected" {
                required.push(REASON.0);
            }
        }
        required
    }

    /// The comment `incident templates export` writes at the top of the file.
    pub fn header(&self) -> String {
        let when = EVENTS
            .iter()
            .find(|(code, _)| *code == self.event)
            .map_or("", |(_, when)| when);
        let to = self.audience.map_or("every recipient", |a| a.describe());
        let mut h = format!(
            "{{#- {}: {} to {to} when {when} ({}).\n   Variables (write {{{{ name }}}}):\n",
            self.name,
            self.part.describe(),
            self.event
        );
        for (name, meaning) in self.variables() {
            h.push_str(&format!("     {name:<21} {meaning}\n"));
        }
        let required = self.required();
        if !required.is_empty() {
            h.push_str(&format!("   Required: {}\n", required.join(", ")));
        }
        if !self.content_variables.is_empty() {
            h.push_str(&format!(
                "   Twilio Content template (TWILIO_CONTENT_SIDS {}=HX...) variables:\n",
                self.event
            ));
            for (i, v) in self.content_variables.iter().enumerate() {
                h.push_str(&format!("     {{{{{}}}}} {v}\n", i + 1));
            }
        }
        h.push_str("-#}\n");
        h
    }
}

macro_rules! spec {
    ($event:literal, $audience:expr, $part:ident, $file:literal $(, [$($var:literal),*])?) => {
        Spec {
            name: $file,
            event: $event,
            audience: $audience,
            part: Part::$part,
            default: include_str!(concat!("defaults/", $file)),
            content_variables: &[$($($var),*)?],
        }
    };
}

const ADMIN: Option<Audience> = Some(Audience::Admin);
const CLIENT: Option<Audience> = Some(Audience::Client);
const DEVELOPER: Option<Audience> = Some(Audience::Developer);

/// Every template, by event; within an event and channel, in the order the recipients are
/// notified (the creator before the admins, the admins before the developers).
pub const TEMPLATES: &[Spec] = &[
    spec!(
        "ticket_created",
        ADMIN,
        WhatsApp,
        "ticket_created.admin.whatsapp.txt",
        [
            "creator_name",
            "title",
            "project",
            "priority",
            "category",
            "short_description"
        ]
    ),
    spec!(
        "ticket_created",
        None,
        SystemTitle,
        "ticket_created.system_title.txt"
    ),
    spec!(
        "ticket_created",
        None,
        SystemMessage,
        "ticket_created.system_message.txt"
    ),
    spec!(
        "ticket_created",
        ADMIN,
        EmailSubject,
        "ticket_created.admin.email_subject.txt"
    ),
    spec!(
        "ticket_created",
        ADMIN,
        EmailText,
        "ticket_created.admin.email_text.txt"
    ),
    spec!(
        "ticket_created",
        ADMIN,
        EmailHtml,
        "ticket_created.admin.email.html"
    ),
    spec!(
        "ticket_opened",
        CLIENT,
        WhatsApp,
        "ticket_opened.client.whatsapp.txt",
        ["recipient_name", "title", "project"]
    ),
    spec!(
        "ticket_opened",
        None,
        SystemTitle,
        "ticket_opened.system_title.txt"
    ),
    spec!(
        "ticket_opened",
        None,
        SystemMessage,
        "ticket_opened.system_message.txt"
    ),
    spec!(
        "ticket_opened",
        CLIENT,
        EmailSubject,
        "ticket_opened.client.email_subject.txt"
    ),
    spec!(
        "ticket_opened",
        CLIENT,
        EmailText,
        "ticket_opened.client.email_text.txt"
    ),
    spec!(
        "ticket_opened",
        CLIENT,
        EmailHtml,
        "ticket_opened.client.email.html"
    ),
    spec!(
        "ticket_assigned",
        DEVELOPER,
        WhatsApp,
        "ticket_assigned.developer.whatsapp.txt",
        [
            "recipient_name",
            "title",
            "project",
            "priority",
            "category",
            "resolution_due",
            "short_description"
        ]
    ),
    spec!(
        "ticket_assigned",
        None,
        SystemTitle,
        "ticket_assigned.system_title.txt"
    ),
    spec!(
        "ticket_assigned",
        None,
        SystemMessage,
        "ticket_assigned.system_message.txt"
    ),
    spec!(
        "ticket_assigned",
        DEVELOPER,
        EmailSubject,
        "ticket_assigned.developer.email_subject.txt"
    ),
    spec!(
        "ticket_assigned",
        DEVELOPER,
        EmailText,
        "ticket_assigned.developer.email_text.txt"
    ),
    spec!(
        "ticket_assigned",
        DEVELOPER,
        EmailHtml,
        "ticket_assigned.developer.email.html"
    ),
    spec!(
        "work_started",
        CLIENT,
        WhatsApp,
        "work_started.client.whatsapp.txt",
        ["recipient_name", "title", "project", "dev_names"]
    ),
    spec!(
        "work_started",
        None,
        SystemTitle,
        "work_started.system_title.txt"
    ),
    spec!(
        "work_started",
        None,
        SystemMessage,
        "work_started.system_message.txt"
    ),
    spec!(
        "work_started",
        CLIENT,
        EmailSubject,
        "work_started.client.email_subject.txt"
    ),
    spec!(
        "work_started",
        CLIENT,
        EmailText,
        "work_started.client.email_text.txt"
    ),
    spec!(
        "work_started",
        CLIENT,
        EmailHtml,
        "work_started.client.email.html"
    ),
    spec!(
        "work_finished",
        CLIENT,
        WhatsApp,
        "work_finished.client.whatsapp.txt",
        ["recipient_name", "title", "project", "dev_names"]
    ),
    spec!(
        "work_finished",
        ADMIN,
        WhatsApp,
        "work_finished.admin.whatsapp.txt",
        ["title", "project", "creator_name", "dev_names"]
    ),
    spec!(
        "work_finished",
        None,
        SystemTitle,
        "work_finished.system_title.txt"
    ),
    spec!(
        "work_finished",
        None,
        SystemMessage,
        "work_finished.system_message.txt"
    ),
    spec!(
        "work_finished",
        CLIENT,
        EmailSubject,
        "work_finished.client.email_subject.txt"
    ),
    spec!(
        "work_finished",
        CLIENT,
        EmailText,
        "work_finished.client.email_text.txt"
    ),
    spec!(
        "work_finished",
        CLIENT,
        EmailHtml,
        "work_finished.client.email.html"
    ),
    spec!(
        "work_finished",
        ADMIN,
        EmailSubject,
        "work_finished.admin.email_subject.txt"
    ),
    spec!(
        "work_finished",
        ADMIN,
        EmailText,
        "work_finished.admin.email_text.txt"
    ),
    spec!(
        "work_finished",
        ADMIN,
        EmailHtml,
        "work_finished.admin.email.html"
    ),
    spec!(
        "ticket_rejected",
        DEVELOPER,
        WhatsApp,
        "ticket_rejected.developer.whatsapp.txt",
        [
            "recipient_name",
            "title",
            "project",
            "creator_name",
            "reason"
        ]
    ),
    spec!(
        "ticket_rejected",
        None,
        SystemTitle,
        "ticket_rejected.system_title.txt"
    ),
    spec!(
        "ticket_rejected",
        None,
        SystemMessage,
        "ticket_rejected.system_message.txt"
    ),
    spec!(
        "ticket_approved",
        ADMIN,
        WhatsApp,
        "ticket_approved.admin.whatsapp.txt",
        ["title", "project", "creator_name", "dev_names"]
    ),
    spec!(
        "ticket_approved",
        DEVELOPER,
        WhatsApp,
        "ticket_approved.developer.whatsapp.txt",
        ["recipient_name", "title", "project", "creator_name"]
    ),
    spec!(
        "ticket_approved",
        None,
        SystemTitle,
        "ticket_approved.system_title.txt"
    ),
    spec!(
        "ticket_approved",
        None,
        SystemMessage,
        "ticket_approved.system_message.txt"
    ),
    spec!(
        "ticket_approved",
        ADMIN,
        EmailSubject,
        "ticket_approved.admin.email_subject.txt"
    ),
    spec!(
        "ticket_approved",
        ADMIN,
        EmailText,
        "ticket_approved.admin.email_text.txt"
    ),
    spec!(
        "ticket_approved",
        ADMIN,
        EmailHtml,
        "ticket_approved.admin.email.html"
    ),
    spec!(
        "ticket_approved",
        DEVELOPER,
        EmailSubject,
        "ticket_approved.developer.email_subject.txt"
    ),
    spec!(
        "ticket_approved",
        DEVELOPER,
        EmailText,
        "ticket_approved.developer.email_text.txt"
    ),
    spec!(
        "ticket_approved",
        DEVELOPER,
        EmailHtml,
        "ticket_approved.developer.email.html"
    ),
];

/// The template of this event, audience and part.
pub fn find(event: &str, audience: Option<Audience>, part: Part) -> Option<&'static Spec> {
    TEMPLATES
        .iter()
        .find(|s| s.event == event && s.audience == audience && s.part == part)
}

/// The template with this file name.
pub fn named(name: &str) -> Option<&'static Spec> {
    TEMPLATES.iter().find(|s| s.name == name)
}
