//! WhatsApp conversations: what a user's message asks for (`parse`), and how a message to a
//! user goes out given WhatsApp's 24-hour customer-service window and their opt-out (`route`).
//! Pure: the clock is a parameter.

use chrono::{DateTime, Duration, Utc};

/// Free-form messages reach a user only within this long after their last message to us;
/// outside it only an approved template is delivered (Twilio 63016).
pub const WINDOW_HOURS: i64 = 24;

/// What an inbound message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `APPROVE 42`; `None`: the sender's only ticket awaiting their approval.
    Approve {
        ticket: Option<i64>,
    },
    /// `REJECT 42 <reason>`; the reason may be empty (then refused, as the API refuses it).
    Reject {
        ticket: Option<i64>,
        reason: String,
    },
    /// `STATUS 42`.
    Status {
        ticket: i64,
    },
    Help,
    /// `STOP`, `UNSUBSCRIBE` (and Twilio's other opt-out words, or `OptOutType=STOP`).
    Stop,
    /// `START` (or `UNSTOP`, or `OptOutType=START`).
    Start,
    /// Anything else: answered with the help text.
    Unknown,
}

impl Command {
    /// The name stored with the message (`approve`, ..., `unknown`).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Approve { .. } => "approve",
            Command::Reject { .. } => "reject",
            Command::Status { .. } => "status",
            Command::Help => "help",
            Command::Stop => "stop",
            Command::Start => "start",
            Command::Unknown => "unknown",
        }
    }
}

/// Reads a message as a command: case-insensitive, with or without `#` before the word or the
/// ticket number. A quick-reply button's payload (`APPROVE 42`, `approve_42`, `REJECT`) is read
/// instead of the text when there is one; Twilio's `OptOutType` (STOP/START/HELP, with Advanced
/// Opt-Out on) decides before either.
pub fn parse(body: &str, button_payload: Option<&str>, opt_out_type: Option<&str>) -> Command {
    match opt_out_type
        .map(|t| t.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("STOP") => return Command::Stop,
        Some("START") => return Command::Start,
        Some("HELP") => return Command::Help,
        _ => {}
    }
    let text = button_payload
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(body)
        .trim();
    let text = text.strip_prefix('#').unwrap_or(text).trim_start();
    let word_end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (word, rest) = text.split_at(word_end);
    // `approve_42` and `approve:42` (button ids cannot hold spaces) read as `approve 42`.
    let rest = rest.strip_prefix(['_', ':']).unwrap_or(rest).trim();
    let (ticket, after) = leading_ticket(rest);
    match word.to_ascii_uppercase().as_str() {
        "APPROVE" if after.is_empty() => Command::Approve { ticket },
        "REJECT" => Command::Reject {
            ticket,
            reason: after.to_string(),
        },
        "STATUS" => match ticket {
            Some(ticket) if after.is_empty() => Command::Status { ticket },
            _ => Command::Unknown,
        },
        "HELP" | "INFO" if rest.is_empty() => Command::Help,
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" if rest.is_empty() => {
            Command::Stop
        }
        "START" | "UNSTOP" if rest.is_empty() => Command::Start,
        _ => Command::Unknown,
    }
}

/// A leading ticket number (`42` or `#42`) and what follows it.
fn leading_ticket(rest: &str) -> (Option<i64>, &str) {
    let candidate = rest.strip_prefix('#').unwrap_or(rest);
    let end = candidate
        .find(|c: char| c.is_whitespace())
        .unwrap_or(candidate.len());
    match crate::domain::id::parse(&candidate[..end]) {
        Some(id) => (Some(id), candidate[end..].trim()),
        None => (None, rest),
    }
}

/// The help text, sent for HELP and for anything that is not a command.
pub const HELP_TEXT: &str = "Commands: APPROVE <ticket> to close a resolved ticket, \
REJECT <ticket> <reason> to send it back (10 to 2000 characters), STATUS <ticket> to see where \
it stands, STOP to receive no more WhatsApp messages, START to receive them again. \
With a single ticket awaiting your approval, APPROVE or REJECT <reason> is enough.";

/// Until when the window of a user who last wrote at `last_inbound` is open.
pub fn window_open_until(last_inbound: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    last_inbound.map(|t| t + Duration::hours(WINDOW_HOURS))
}

/// True when a free-form message sent at `now` reaches the user.
pub fn window_is_open(last_inbound: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    window_open_until(last_inbound).is_some_and(|until| now < until)
}

/// `WHATSAPP_OUTSIDE_WINDOW`: what to do with a message due outside the window when no
/// template is configured for its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutsideWindow {
    /// The event's template when configured, else the text (which the provider may refuse).
    #[default]
    Template,
    /// The text, even when a template is configured (the window is not enforced).
    Send,
    /// The event's template when configured, else nothing: FAILED `outside_window`.
    Skip,
}

/// How a WhatsApp row goes out, and why; stored with the row as `whatsapp_path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    TextInWindow,
    TemplateOutsideWindow,
    TextOutsideWindowNoTemplate,
    TextOutsideWindowByPolicy,
    SkippedOutsideWindow,
    OptedOut,
}

impl Path {
    pub fn code(self) -> &'static str {
        match self {
            Path::TextInWindow => "text_in_window",
            Path::TemplateOutsideWindow => "template_outside_window",
            Path::TextOutsideWindowNoTemplate => "text_outside_window_no_template",
            Path::TextOutsideWindowByPolicy => "text_outside_window_by_policy",
            Path::SkippedOutsideWindow => "skipped_outside_window",
            Path::OptedOut => "opted_out",
        }
    }

    /// True when the provider sends the event's approved template rather than the text.
    pub fn uses_template(self) -> bool {
        self == Path::TemplateOutsideWindow
    }

    /// The error code and message of a row not sent at all.
    pub fn refusal(self) -> Option<(&'static str, &'static str)> {
        match self {
            Path::SkippedOutsideWindow => Some((
                "outside_window",
                "Not sent: the recipient has not written in the last 24 hours, no template is configured for this event (TWILIO_CONTENT_SIDS / WHATSAPP_TEMPLATES) and WHATSAPP_OUTSIDE_WINDOW=skip",
            )),
            Path::OptedOut => Some((
                "opted_out",
                "Not sent: the recipient opted out of WhatsApp (STOP); they receive messages again after sending START",
            )),
            _ => None,
        }
    }
}

/// The path of a message due at `now` to a user who last wrote at `last_inbound` (never:
/// `None`), opted out or not, whose event has a template or not.
pub fn route(
    opted_out: bool,
    last_inbound: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    has_template: bool,
    policy: OutsideWindow,
) -> Path {
    if opted_out {
        return Path::OptedOut;
    }
    if window_is_open(last_inbound, now) {
        return Path::TextInWindow;
    }
    match (policy, has_template) {
        (OutsideWindow::Send, _) => Path::TextOutsideWindowByPolicy,
        (_, true) => Path::TemplateOutsideWindow,
        (OutsideWindow::Template, false) => Path::TextOutsideWindowNoTemplate,
        (OutsideWindow::Skip, false) => Path::SkippedOutsideWindow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approve(ticket: Option<i64>) -> Command {
        Command::Approve { ticket }
    }

    fn reject(ticket: Option<i64>, reason: &str) -> Command {
        Command::Reject {
            ticket,
            reason: reason.into(),
        }
    }

    #[test]
    fn commands_read_case_insensitively_with_or_without_hash() {
        let cases = [
            ("APPROVE 42", approve(Some(42))),
            ("approve #42", approve(Some(42))),
            ("#Approve 42 ", approve(Some(42))),
            ("  approve", approve(None)),
            ("APPROVE please", Command::Unknown),
            (
                "REJECT 42 the printer still burns",
                reject(Some(42), "the printer still burns"),
            ),
            ("#reject #7 no", reject(Some(7), "no")),
            ("reject it does not work", reject(None, "it does not work")),
            ("reject", reject(None, "")),
            ("STATUS 42", Command::Status { ticket: 42 }),
            ("status", Command::Unknown),
            ("status 42 now", Command::Unknown),
            ("help", Command::Help),
            ("#HELP", Command::Help),
            ("stop", Command::Stop),
            ("Unsubscribe", Command::Stop),
            ("stop it", Command::Unknown),
            ("START", Command::Start),
            ("hello there", Command::Unknown),
            ("", Command::Unknown),
            ("42", Command::Unknown),
            ("approve +42", Command::Unknown),
            ("approve 99999999999999999999", Command::Unknown),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text, None, None), expected, "{text:?}");
        }
    }

    #[test]
    fn a_button_payload_and_twilio_opt_out_type_come_before_the_text() {
        assert_eq!(
            parse("Approve", Some("approve_42"), None),
            approve(Some(42))
        );
        assert_eq!(parse("Yes", Some("APPROVE"), None), approve(None));
        assert_eq!(parse("Reject", Some("reject:9"), None), reject(Some(9), ""));
        assert_eq!(parse("APPROVE 1", Some("  "), None), approve(Some(1)));
        assert_eq!(parse("arrêt", None, Some("stop")), Command::Stop);
        assert_eq!(parse("x", None, Some("START")), Command::Start);
        assert_eq!(parse("APPROVE 1", None, Some("HELP")), Command::Help);
        assert_eq!(parse("APPROVE 1", None, Some("")), approve(Some(1)));
    }

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::hours(h)
    }

    #[test]
    fn the_window_is_open_for_24_hours_after_the_last_inbound_message() {
        assert!(!window_is_open(None, at(0)));
        assert!(window_is_open(Some(at(0)), at(0)));
        assert!(window_is_open(Some(at(0)), at(23)));
        assert!(!window_is_open(Some(at(0)), at(24)));
        assert_eq!(window_open_until(Some(at(1))), Some(at(25)));
    }

    #[test]
    fn routes_by_opt_out_window_template_and_policy() {
        use OutsideWindow::*;
        let open = Some(at(0));
        let closed = Some(at(-30));
        let cases = [
            (true, open, true, Template, Path::OptedOut),
            (false, open, true, Template, Path::TextInWindow),
            (false, open, false, Skip, Path::TextInWindow),
            (false, closed, true, Template, Path::TemplateOutsideWindow),
            (false, None, true, Skip, Path::TemplateOutsideWindow),
            (
                false,
                None,
                false,
                Template,
                Path::TextOutsideWindowNoTemplate,
            ),
            (false, closed, false, Skip, Path::SkippedOutsideWindow),
            (false, closed, true, Send, Path::TextOutsideWindowByPolicy),
            (false, None, false, Send, Path::TextOutsideWindowByPolicy),
        ];
        for (opted_out, last, template, policy, expected) in cases {
            assert_eq!(
                route(opted_out, last, at(1), template, policy),
                expected,
                "{opted_out} {last:?} {template} {policy:?}"
            );
        }
        assert!(Path::TemplateOutsideWindow.uses_template());
        assert_eq!(Path::OptedOut.refusal().unwrap().0, "opted_out");
        assert!(Path::TextOutsideWindowNoTemplate.refusal().is_none());
    }
}
