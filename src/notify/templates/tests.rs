mod legacy;

use chrono::TimeZone;

use super::load::{self, TemplateError};
use super::*;
use crate::domain::workflow::Event;

fn facts() -> TicketFacts {
    TicketFacts {
        id: 1,
        title: "Login page not working".into(),
        project: "Web Portal".into(),
        description: "Users cannot login to the portal...".into(),
        priority: Priority::High,
        category: Category::Bug,
        status: Status::New,
        creator_name: "John Doe".into(),
        dev_names: "Team".into(),
        resolution_due_at: None,
        estimated_resolution_at: None,
    }
}

fn builtin() -> Templates {
    Templates::builtin("https://support.example.com/")
}

fn all_whatsapp_kinds() -> Vec<WhatsAppMessage> {
    vec![
        WhatsAppMessage::AdminNewTicket,
        WhatsAppMessage::ClientTicketOpened,
        WhatsAppMessage::DeveloperAssigned,
        WhatsAppMessage::ClientWorkStarted,
        WhatsAppMessage::ClientWorkFinished,
        WhatsAppMessage::AdminWorkFinished,
        WhatsAppMessage::AdminTicketClosed,
        WhatsAppMessage::DeveloperTicketClosed,
        WhatsAppMessage::DeveloperTicketRejected {
            reason: "Still broken on Safari".into(),
        },
    ]
}

fn all_events() -> Vec<Event> {
    vec![
        Event::TicketCreated,
        Event::TicketOpened,
        Event::DevelopersAssigned {
            newly_added: vec![3],
        },
        Event::WorkStarted,
        Event::WorkFinished,
        Event::TicketClosed,
        Event::TicketRejected {
            reason: "Still broken".into(),
        },
    ]
}

fn reason_of(e: &Event) -> Option<&str> {
    match e {
        Event::TicketRejected { reason } => Some(reason),
        _ => None,
    }
}

#[test]
fn defaults_match_the_old_texts() {
    let templates = builtin();
    let mut long = facts();
    long.description = "é".repeat(250);
    long.resolution_due_at = Some(Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap());
    long.dev_names = "Dev One, Dev Two".into();
    long.priority = Priority::Low;
    long.category = Category::ServiceDown;
    for f in [facts(), long] {
        for kind in all_whatsapp_kinds() {
            let old = legacy::whatsapp(&kind, &f, "Rita Recipient");
            let new = templates.whatsapp(&kind, &f, "Rita Recipient");
            assert_eq!(new, old, "{kind:?}");
        }
        for event in all_events() {
            let text = templates.system(event.code(), &f, "Rita", reason_of(&event));
            assert_eq!(text.title, event.title());
            let old = legacy::system_message(event.code(), &f, reason_of(&event));
            assert_eq!(text.message, old, "{}", event.code());
        }
    }
}

#[test]
fn new_ticket_text_is_the_setup_guide_format() {
    let r = builtin().whatsapp(&WhatsAppMessage::AdminNewTicket, &facts(), "Admin");
    let expected = "🎫 *New Ticket Created*\n\n*Client:* John Doe\n*Title:* Login page not working\n*Project:* Web Portal\n*Priority:* HIGH\n*Category:* BUG\n\n*Description:*\nUsers cannot login to the portal...\n\nPlease review and assign this ticket as soon as possible.\n\n_Incident Management System_";
    assert_eq!(r.body, expected);
    assert_eq!(r.variables[0], "John Doe");
}

#[test]
fn ticket_opened_text_is_the_setup_guide_format() {
    let r = builtin().whatsapp(&WhatsAppMessage::ClientTicketOpened, &facts(), "John Doe");
    let expected = "✅ *Your Ticket Has Been Opened*\n\nHello John Doe,\n\nYour ticket has been acknowledged and opened by our support team.\n\n*Ticket:* Login page not working\n*Project:* Web Portal\n*Status:* Opened\n\nWe are reviewing your issue and will assign it to a developer shortly.\n\n_Support Team_";
    assert_eq!(r.body, expected);
}

#[test]
fn long_descriptions_are_cut_at_200_characters() {
    let mut f = facts();
    f.description = "é".repeat(250);
    let r = builtin().whatsapp(&WhatsAppMessage::DeveloperAssigned, &f, "Dev");
    assert!(r.body.contains(&format!("{}...", "é".repeat(200))));
    assert!(!r.body.contains(&"é".repeat(201)));
    assert!(r.body.contains("*Resolution Due:* Not set"));
}

#[test]
fn rejection_reason_is_in_the_text_and_system_message() {
    let kind = WhatsAppMessage::DeveloperTicketRejected {
        reason: "Still broken on Safari".into(),
    };
    let templates = builtin();
    let r = templates.whatsapp(&kind, &facts(), "Dev");
    assert!(r.body.contains("Still broken on Safari"));
    assert_eq!(
        r.variables.last().map(String::as_str),
        Some("Still broken on Safari")
    );
    let text = templates.system(
        "ticket_rejected",
        &facts(),
        "Dev",
        Some("Still broken on Safari"),
    );
    assert_eq!(
        text.message,
        "Ticket 'Login page not working' has been rejected by client. Reason: Still broken on Safari"
    );
    assert_eq!(text.title, "Ticket Rejected");
}

#[test]
fn email_subjects_and_links_follow_the_contract() {
    let templates = builtin();
    let mut f = facts();
    f.id = 42;
    let cases = [
        (
            EmailMessage::AdminNewTicket,
            "New Ticket Created - Login page not working",
            "https://support.example.com/admin/core/ticket/42/change/",
        ),
        (
            EmailMessage::ClientTicketOpened,
            "Your Ticket Has Been Opened - Login page not working",
            "",
        ),
        (
            EmailMessage::DeveloperAssigned,
            "New Task Assigned - Login page not working",
            "https://support.example.com/api/tickets/42/",
        ),
        (
            EmailMessage::ClientWorkStarted,
            "Work Started on Your Ticket - Login page not working",
            "",
        ),
        (
            EmailMessage::ClientWorkFinished,
            "Your Ticket Has Been Resolved - Awaiting Approval",
            "https://support.example.com/api/tickets/42/",
        ),
        (
            EmailMessage::AdminWorkFinished,
            "Ticket Resolved - Awaiting Client Approval - Login page not working",
            "https://support.example.com/admin/core/ticket/42/change/",
        ),
        (
            EmailMessage::AdminTicketClosed,
            "Ticket Closed - Login page not working",
            "",
        ),
        (
            EmailMessage::DeveloperTicketClosed,
            "Ticket Closed - Login page not working",
            "",
        ),
    ];
    for (kind, subject, link) in cases {
        let e = templates.email(&kind, &f, "Rita Recipient");
        assert_eq!(e.subject, subject);
        assert!(
            e.text.starts_with("Hello Rita Recipient,\n"),
            "{kind:?}: {}",
            e.text
        );
        assert!(e.text.contains("Login page not working"), "{kind:?}");
        assert!(e.html.contains("Login page not working"), "{kind:?}");
        if link.is_empty() {
            assert!(!e.html.contains("href"), "{kind:?}: {}", e.html);
        } else {
            let href = format!("href=\"{link}\"");
            assert!(
                e.text.contains(link) && e.html.contains(&href),
                "{kind:?}: {}",
                e.html
            );
        }
    }
    let assigned = templates.email(&EmailMessage::DeveloperAssigned, &f, "Dev");
    assert!(assigned
        .text
        .contains("Resolution due: Not set\nEstimated resolution: Not set"));
    assert!(assigned
        .text
        .contains("Users cannot login to the portal..."));
}

#[test]
fn only_the_html_email_escapes_markup() {
    let mut f = facts();
    f.title = "<script>alert(1)</script> & co".into();
    let templates = builtin();
    let e = templates.email(&EmailMessage::AdminNewTicket, &f, "Ann");
    assert!(
        e.html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; co"),
        "{}",
        e.html
    );
    assert!(!e.html.contains("<script>"));
    assert!(e.subject.ends_with("<script>alert(1)</script> & co"));
    assert!(e.text.contains("<script>alert(1)</script> & co"));
    let w = templates.whatsapp(&WhatsAppMessage::AdminNewTicket, &f, "Ann");
    assert!(w.body.contains("*Title:* <script>alert(1)</script> & co"));
    let s = templates.system("ticket_created", &f, "Ann", None);
    assert!(s.message.ends_with("<script>alert(1)</script> & co"));
}

/// The built-in texts with one file replaced.
fn with_override(name: &str, text: &str) -> Result<Environment<'static>, TemplateErrors> {
    let spec = catalog::named(name).expect("a template name");
    load::build(&[(spec, text.to_string())])
}

fn only_error(result: Result<Environment<'static>, TemplateErrors>) -> TemplateError {
    let errors = result.expect_err("the override is refused").0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn an_unknown_variable_is_refused_with_its_file_and_line() {
    let e = only_error(with_override(
        "ticket_opened.client.whatsapp.txt",
        "Hello {{ recipient_name }},\n\n{{ title }} is open.\nSee {{ ticket_url }}\n",
    ));
    assert_eq!(e.file, "ticket_opened.client.whatsapp.txt");
    assert_eq!(e.line, Some(4));
    assert!(
        e.message.contains("unknown variable `ticket_url`"),
        "{}",
        e.message
    );
    // The same variable is known to e-mails.
    assert!(with_override(
        "ticket_opened.client.email_text.txt",
        "{{ title }} {{ ticket_url }}"
    )
    .is_ok());
    // `reason` belongs to ticket_rejected only.
    let e = only_error(with_override(
        "ticket_created.system_message.txt",
        "{{ title }}: {{ reason }}",
    ));
    assert!(
        e.message.contains("unknown variable `reason`"),
        "{}",
        e.message
    );
}

#[test]
fn a_missing_required_variable_is_refused() {
    let e = only_error(with_override(
        "ticket_rejected.developer.whatsapp.txt",
        "Hello {{ recipient_name }}, {{ title }} was rejected.",
    ));
    assert_eq!(e.to_string(), "ticket_rejected.developer.whatsapp.txt: the template must use the variable `reason` ({{ reason }})");
}

#[test]
fn syntax_and_render_errors_name_the_line() {
    let e = only_error(with_override(
        "work_started.client.whatsapp.txt",
        "{{ title }}\n{% if %}\n",
    ));
    assert_eq!(e.line, Some(2));
    assert!(e.message.starts_with("syntax error"), "{}", e.message);
    let e = only_error(with_override(
        "work_started.client.whatsapp.txt",
        "\n\n{{ title.missing }}",
    ));
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("undefined"), "{}", e.message);
}

#[test]
fn export_then_check_round_trips_and_headers_document_the_variables() {
    let dir = tempfile::tempdir().unwrap();
    let written = load::export(dir.path(), false).unwrap();
    assert_eq!(written.len(), catalog::TEMPLATES.len());
    assert!(load::export(dir.path(), false)
        .unwrap_err()
        .contains("--force"));
    let templates = Templates::load(Some(dir.path()), "http://x").unwrap();
    assert_eq!(templates.overridden().len(), catalog::TEMPLATES.len());
    for kind in all_whatsapp_kinds() {
        assert_eq!(
            templates.whatsapp(&kind, &facts(), "R"),
            builtin().whatsapp(&kind, &facts(), "R")
        );
    }
    let header =
        std::fs::read_to_string(dir.path().join("ticket_created.admin.whatsapp.txt")).unwrap();
    assert!(
        header.starts_with(
            "{#- ticket_created.admin.whatsapp.txt: the WhatsApp message to each ADMIN"
        ),
        "{header}"
    );
    assert!(
        header.contains("     {{1}} creator_name\n     {{2}} title\n"),
        "{header}"
    );
    assert!(
        header.contains("     short_description     the first 200 characters"),
        "{header}"
    );
}

#[test]
fn a_folder_overrides_one_file_and_refuses_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ticket_opened.system_title.txt"),
        "Opened: {{ ticket_id }}\n",
    )
    .unwrap();
    let templates = Templates::load(Some(dir.path()), "http://x").unwrap();
    assert_eq!(templates.overridden(), ["ticket_opened.system_title.txt"]);
    assert_eq!(
        templates.system("ticket_opened", &facts(), "R", None).title,
        "Opened: 1"
    );
    assert_eq!(
        templates.system("work_started", &facts(), "R", None).title,
        "Work Started"
    );
    std::fs::write(dir.path().join("ticket_open.system_title.txt"), "x").unwrap();
    let e = Templates::load(Some(dir.path()), "http://x").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("ticket_open.system_title.txt: not a template name"),
        "{e}"
    );
}
