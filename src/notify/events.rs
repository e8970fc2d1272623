//! Workflow events to notification rows: who hears of each event on which channel (contract
//! §8.2 for EMAIL, WHATSAPP and SYSTEM), with the original's defects fixed — inactive users are
//! skipped, each recipient gets one message per event and channel (the original's ×2 e-mails
//! are one), recipients without an address get no row, and the order is fixed (creator, then
//! admins, then developers, each by id).

use std::collections::HashSet;

use crate::db::notifications::NewNotification;
use crate::domain::workflow::Event;
use crate::notify::templates::{EmailMessage, Templates, TicketFacts, WhatsAppMessage};

/// A possible recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: i64,
    pub username: String,
    /// `name(u)`.
    pub name: String,
    pub whatsapp: Option<String>,
    /// The e-mail address (`None` when blank).
    pub email: Option<String>,
    pub is_active: bool,
}

/// Everyone an event may concern.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub creator: Option<Recipient>,
    /// Every ADMIN, by id.
    pub admins: Vec<Recipient>,
    /// The developers assigned after the step, by id.
    pub developers: Vec<Recipient>,
}

impl People {
    /// The creator, the admins and the developers (someone may appear twice).
    pub fn everyone(&self) -> impl Iterator<Item = &Recipient> {
        self.creator
            .iter()
            .chain(&self.admins)
            .chain(&self.developers)
    }
}

pub const WHATSAPP_SUBJECT: &str = "WhatsApp Notification";

struct Planner<'a> {
    templates: &'a Templates,
    facts: &'a TicketFacts,
    event: &'static str,
    rows: Vec<NewNotification>,
    seen: HashSet<(i64, &'static str)>,
}

impl Planner<'_> {
    fn fresh(&mut self, r: &Recipient, channel: &'static str) -> bool {
        r.is_active && self.seen.insert((r.id, channel))
    }

    fn whatsapp<'r>(
        &mut self,
        recipients: impl IntoIterator<Item = &'r Recipient>,
        kind: &WhatsAppMessage,
    ) {
        for r in recipients {
            if !self.fresh(r, "WHATSAPP") {
                continue;
            }
            if r.whatsapp.as_deref().unwrap_or("").is_empty() {
                tracing::warn!(user = %r.username, event = self.event, "User {} has no WhatsApp number configured", r.username);
                continue;
            }
            let text = self.templates.whatsapp(kind, self.facts, &r.name);
            self.rows.push(NewNotification {
                recipient_id: r.id,
                notification_type: "WHATSAPP",
                subject: WHATSAPP_SUBJECT.to_string(),
                message: text.body,
                variables: serde_json::to_string(&text.variables).ok(),
                html: None,
                status: "PENDING",
                event: self.event,
                hold: None,
            });
        }
    }

    fn email<'r>(
        &mut self,
        recipients: impl IntoIterator<Item = &'r Recipient>,
        kind: EmailMessage,
    ) {
        for r in recipients {
            if !self.fresh(r, "EMAIL") {
                continue;
            }
            if r.email.as_deref().unwrap_or("").is_empty() {
                tracing::warn!(user = %r.username, event = self.event, "User {} has no e-mail address: no e-mail", r.username);
                continue;
            }
            let text = self.templates.email(&kind, self.facts, &r.name);
            self.rows.push(NewNotification {
                recipient_id: r.id,
                notification_type: "EMAIL",
                subject: text.subject,
                message: text.text,
                variables: None,
                html: Some(text.html),
                status: "PENDING",
                event: self.event,
                hold: None,
            });
        }
    }

    fn system<'r>(
        &mut self,
        recipients: impl IntoIterator<Item = &'r Recipient>,
        reason: Option<&str>,
    ) {
        for r in recipients {
            if !self.fresh(r, "SYSTEM") {
                continue;
            }
            let text = self
                .templates
                .system(self.event, self.facts, &r.name, reason);
            self.rows.push(NewNotification {
                recipient_id: r.id,
                notification_type: "SYSTEM",
                subject: text.title,
                message: text.message,
                variables: None,
                html: None,
                status: "SENT",
                event: self.event,
                hold: None,
            });
        }
    }
}

/// The rows one event writes, in §8.2's order of channels (e-mail first but on approval), once
/// per recipient and channel.
pub fn plan(
    templates: &Templates,
    event: &Event,
    facts: &TicketFacts,
    people: &People,
) -> Vec<NewNotification> {
    let mut p = Planner {
        templates,
        facts,
        event: event.code(),
        rows: Vec::new(),
        seen: HashSet::new(),
    };
    let creator: Vec<&Recipient> = people.creator.iter().collect();
    let admins = &people.admins;
    let devs = &people.developers;
    match event {
        Event::TicketCreated => {
            p.email(admins, EmailMessage::AdminNewTicket);
            p.whatsapp(admins, &WhatsAppMessage::AdminNewTicket);
            p.system(admins, None);
        }
        Event::TicketOpened => {
            p.email(creator.iter().copied(), EmailMessage::ClientTicketOpened);
            p.whatsapp(
                creator.iter().copied(),
                &WhatsAppMessage::ClientTicketOpened,
            );
            p.system(creator.iter().copied(), None);
        }
        Event::DevelopersAssigned { newly_added } => {
            let new: Vec<&Recipient> = devs
                .iter()
                .filter(|d| newly_added.contains(&d.id))
                .collect();
            p.email(new.iter().copied(), EmailMessage::DeveloperAssigned);
            p.whatsapp(new.iter().copied(), &WhatsAppMessage::DeveloperAssigned);
            p.system(new.iter().copied(), None);
        }
        Event::WorkStarted => {
            p.email(creator.iter().copied(), EmailMessage::ClientWorkStarted);
            p.whatsapp(creator.iter().copied(), &WhatsAppMessage::ClientWorkStarted);
            p.system(creator.iter().copied(), None);
        }
        Event::WorkFinished => {
            p.email(creator.iter().copied(), EmailMessage::ClientWorkFinished);
            p.email(admins, EmailMessage::AdminWorkFinished);
            p.whatsapp(
                creator.iter().copied(),
                &WhatsAppMessage::ClientWorkFinished,
            );
            p.whatsapp(admins, &WhatsAppMessage::AdminWorkFinished);
            p.system(creator.iter().copied(), None);
        }
        Event::TicketClosed => {
            p.whatsapp(admins, &WhatsAppMessage::AdminTicketClosed);
            p.whatsapp(devs, &WhatsAppMessage::DeveloperTicketClosed);
            p.email(admins, EmailMessage::AdminTicketClosed);
            p.email(devs, EmailMessage::DeveloperTicketClosed);
            p.system(admins.iter().chain(devs), None);
        }
        Event::TicketRejected { reason } => {
            p.whatsapp(
                devs,
                &WhatsAppMessage::DeveloperTicketRejected {
                    reason: reason.clone(),
                },
            );
            p.system(admins.iter().chain(devs), Some(reason));
        }
    }
    p.rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::{Category, Priority, Status};

    fn person(id: i64, name: &str, whatsapp: Option<&str>, active: bool) -> Recipient {
        Recipient {
            id,
            username: name.to_lowercase(),
            name: name.into(),
            whatsapp: whatsapp.map(str::to_string),
            // Everyone but the numberless admin has an address.
            email: (id != 2).then(|| format!("user{id}@example.com")),
            is_active: active,
        }
    }

    fn facts() -> TicketFacts {
        TicketFacts {
            id: 7,
            title: "Printer on fire".into(),
            project: "Office".into(),
            description: "Smoke everywhere".into(),
            priority: Priority::High,
            category: Category::ServiceDown,
            status: Status::Resolved,
            creator_name: "Carla Client".into(),
            dev_names: "Dev One, Dev Two".into(),
            resolution_due_at: None,
            estimated_resolution_at: None,
        }
    }

    fn people() -> People {
        People {
            creator: Some(person(10, "Carla Client", Some("+201000000010"), true)),
            admins: vec![
                person(1, "Admin One", Some("+201000000001"), true),
                person(2, "Admin Two", None, true),
                person(3, "Admin Gone", Some("+201000000003"), false),
            ],
            developers: vec![
                person(20, "Dev One", Some("+201000000020"), true),
                person(21, "Dev Two", None, true),
            ],
        }
    }

    fn summary(rows: &[NewNotification]) -> Vec<(&'static str, i64)> {
        rows.iter()
            .map(|r| (r.notification_type, r.recipient_id))
            .collect()
    }

    #[test]
    fn approve_notifies_admins_then_developers_skipping_inactive_and_numberless() {
        let rows = plan(
            &Templates::builtin("http://localhost:8000"),
            &Event::TicketClosed,
            &facts(),
            &people(),
        );
        assert_eq!(
            summary(&rows),
            [
                ("WHATSAPP", 1),
                ("WHATSAPP", 20),
                ("EMAIL", 1),
                ("EMAIL", 20),
                ("EMAIL", 21),
                ("SYSTEM", 1),
                ("SYSTEM", 2),
                ("SYSTEM", 20),
                ("SYSTEM", 21)
            ]
        );
        assert!(rows.iter().all(|r| r.event == "ticket_approved"));
        assert_eq!(rows[0].subject, "WhatsApp Notification");
        assert_eq!(rows[0].status, "PENDING");
        assert_eq!(rows[2].subject, "Ticket Closed - Printer on fire");
        assert_eq!(rows[2].status, "PENDING");
        assert!(rows[2].html.as_deref().unwrap().contains("Printer on fire"));
        assert_eq!(rows[5].status, "SENT");
        assert_eq!(rows[5].subject, "Ticket Approved");
    }

    #[test]
    fn an_admin_who_is_also_the_creator_gets_one_message_per_channel() {
        let mut ppl = people();
        ppl.creator = Some(ppl.admins[0].clone());
        let rows = plan(
            &Templates::builtin("http://localhost:8000"),
            &Event::WorkFinished,
            &facts(),
            &ppl,
        );
        assert_eq!(
            summary(&rows),
            [("EMAIL", 1), ("WHATSAPP", 1), ("SYSTEM", 1)]
        );
        assert_eq!(
            rows[0].subject,
            "Your Ticket Has Been Resolved - Awaiting Approval"
        );
        assert!(rows[1].message.contains("Your Ticket Has Been Resolved"));
    }

    #[test]
    fn assignment_notifies_only_newly_added_developers() {
        let rows = plan(
            &Templates::builtin("http://localhost:8000"),
            &Event::DevelopersAssigned {
                newly_added: vec![20],
            },
            &facts(),
            &people(),
        );
        assert_eq!(
            summary(&rows),
            [("EMAIL", 20), ("WHATSAPP", 20), ("SYSTEM", 20)]
        );
        assert_eq!(rows[0].subject, "New Task Assigned - Printer on fire");
        assert!(rows[1].message.starts_with("🔧 *New Task Assigned*"));
    }

    #[test]
    fn rejection_tells_developers_the_reason() {
        let rows = plan(
            &Templates::builtin("http://localhost:8000"),
            &Event::TicketRejected {
                reason: "Still smoking".into(),
            },
            &facts(),
            &people(),
        );
        assert_eq!(
            summary(&rows),
            [
                ("WHATSAPP", 20),
                ("SYSTEM", 1),
                ("SYSTEM", 2),
                ("SYSTEM", 20),
                ("SYSTEM", 21)
            ]
        );
        assert!(rows[0].message.contains("Still smoking"));
        let vars: Vec<String> =
            serde_json::from_str(rows[0].variables.as_deref().unwrap()).unwrap();
        assert_eq!(vars.last().map(String::as_str), Some("Still smoking"));
    }
}
