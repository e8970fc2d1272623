//! The texts as the port wrote them in Rust before they became templates, kept as the reference
//! the built-in templates must reproduce byte for byte (`defaults_match_the_old_texts`).

use crate::domain::datetime::format_short;
use crate::notify::templates::{short_description, Rendered, TicketFacts, WhatsAppMessage};

fn rendered(body: String, variables: Vec<String>) -> Rendered {
    Rendered { body, variables }
}

/// Renders the message for `recipient_name` (`name(u)`).
pub fn whatsapp(kind: &WhatsAppMessage, t: &TicketFacts, recipient_name: &str) -> Rendered {
    match kind {
        WhatsAppMessage::AdminNewTicket => {
            let desc = short_description(&t.description);
            rendered(
                format!(
                    "🎫 *New Ticket Created*\n\n*Client:* {}\n*Title:* {}\n*Project:* {}\n*Priority:* {}\n*Category:* {}\n\n*Description:*\n{}\n\nPlease review and assign this ticket as soon as possible.\n\n_Incident Management System_",
                    t.creator_name, t.title, t.project, t.priority.as_str(), t.category.as_str(), desc
                ),
                vec![t.creator_name.clone(), t.title.clone(), t.project.clone(), t.priority.as_str().into(), t.category.as_str().into(), desc],
            )
        }
        WhatsAppMessage::ClientTicketOpened => rendered(
            format!(
                "✅ *Your Ticket Has Been Opened*\n\nHello {recipient_name},\n\nYour ticket has been acknowledged and opened by our support team.\n\n*Ticket:* {}\n*Project:* {}\n*Status:* Opened\n\nWe are reviewing your issue and will assign it to a developer shortly.\n\n_Support Team_",
                t.title, t.project
            ),
            vec![recipient_name.to_string(), t.title.clone(), t.project.clone()],
        ),
        WhatsAppMessage::DeveloperAssigned => {
            let desc = short_description(&t.description);
            let due = format_short(t.resolution_due_at.as_ref());
            rendered(
                format!(
                    "🔧 *New Task Assigned*\n\nHello {recipient_name},\n\nYou have been assigned to a ticket.\n\n*Title:* {}\n*Project:* {}\n*Priority:* {}\n*Category:* {}\n*Resolution Due:* {due}\n\n*Description:*\n{desc}\n\nPlease start working on it as soon as possible.\n\n_Incident Management System_",
                    t.title, t.project, t.priority.as_str(), t.category.as_str()
                ),
                vec![recipient_name.to_string(), t.title.clone(), t.project.clone(), t.priority.as_str().into(), t.category.as_str().into(), due, desc],
            )
        }
        WhatsAppMessage::ClientWorkStarted => rendered(
            format!(
                "🚀 *Work Started on Your Ticket*\n\nHello {recipient_name},\n\nA developer has started working on your ticket.\n\n*Ticket:* {}\n*Project:* {}\n*Developer(s):* {}\n*Status:* In Progress\n\nWe will notify you when the work is finished.\n\n_Support Team_",
                t.title, t.project, t.dev_names
            ),
            vec![recipient_name.to_string(), t.title.clone(), t.project.clone(), t.dev_names.clone()],
        ),
        WhatsAppMessage::ClientWorkFinished => rendered(
            format!(
                "🎉 *Your Ticket Has Been Resolved*\n\nHello {recipient_name},\n\nThe work on your ticket is finished and awaits your approval.\n\n*Ticket:* {}\n*Project:* {}\n*Resolved by:* {}\n\nPlease review the resolution and approve or reject it.\n\n_Support Team_",
                t.title, t.project, t.dev_names
            ),
            vec![recipient_name.to_string(), t.title.clone(), t.project.clone(), t.dev_names.clone()],
        ),
        WhatsAppMessage::AdminWorkFinished => rendered(
            format!(
                "📋 *Ticket Resolved - Awaiting Client Approval*\n\n*Title:* {}\n*Project:* {}\n*Client:* {}\n*Developer(s):* {}\n*Status:* Waiting for Approval\n\n_Incident Management System_",
                t.title, t.project, t.creator_name, t.dev_names
            ),
            vec![t.title.clone(), t.project.clone(), t.creator_name.clone(), t.dev_names.clone()],
        ),
        WhatsAppMessage::AdminTicketClosed => rendered(
            format!(
                "🔒 *Ticket Closed*\n\nThe client approved the resolution and the ticket is closed.\n\n*Title:* {}\n*Project:* {}\n*Client:* {}\n*Developer(s):* {}\n\n_Incident Management System_",
                t.title, t.project, t.creator_name, t.dev_names
            ),
            vec![t.title.clone(), t.project.clone(), t.creator_name.clone(), t.dev_names.clone()],
        ),
        WhatsAppMessage::DeveloperTicketClosed => rendered(
            format!(
                "✅ *Ticket Closed*\n\nHello {recipient_name},\n\nThe client approved your work and the ticket is closed. Thank you!\n\n*Title:* {}\n*Project:* {}\n*Client:* {}\n\n_Incident Management System_",
                t.title, t.project, t.creator_name
            ),
            vec![recipient_name.to_string(), t.title.clone(), t.project.clone(), t.creator_name.clone()],
        ),
        WhatsAppMessage::DeveloperTicketRejected { reason } => rendered(
            format!(
                "❌ *Ticket Rejected*\n\nHello {recipient_name},\n\nThe client rejected the resolution; the ticket is back in progress.\n\n*Title:* {}\n*Project:* {}\n*Client:* {}\n\n*Reason:*\n{reason}\n\n_Incident Management System_",
                t.title, t.project, t.creator_name
            ),
            vec![recipient_name.to_string(), t.title.clone(), t.project.clone(), t.creator_name.clone(), reason.clone()],
        ),
    }
}

/// The in-app (SYSTEM) message of each event (contract §8.2).
pub fn system_message(event_code: &str, t: &TicketFacts, reason: Option<&str>) -> String {
    match event_code {
        "ticket_created" => format!(
            "New {} priority ticket created: {}",
            t.priority.label(),
            t.title
        ),
        "ticket_opened" => format!(
            "Your ticket '{}' has been opened and acknowledged by admin",
            t.title
        ),
        "ticket_assigned" => format!("You have been assigned to ticket: {}", t.title),
        "work_started" => format!("Work has started on your ticket: {}", t.title),
        "work_finished" => format!(
            "Work completed on your ticket '{}'. Please review and approve.",
            t.title
        ),
        "ticket_rejected" => {
            format!(
                "Ticket '{}' has been rejected by client. Reason: {}",
                t.title,
                reason.unwrap_or_default()
            )
        }
        "ticket_approved" => format!(
            "Ticket '{}' has been approved and closed by client",
            t.title
        ),
        other => format!("{other}: {}", t.title),
    }
}
