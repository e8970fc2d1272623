//! One row of the original into one row of ours: date-times parsed, choices checked against
//! ours, phone numbers normalized, attachment types inferred from their bytes. A value that
//! cannot be carried over is an error naming the table and the row.

use chrono::{DateTime, Utc};

use super::report::{Attention, ImportError};
use crate::db::django as src;
use crate::db::import as dst;
use crate::domain::datetime::parse_datetime_input;
use crate::domain::phone::WhatsAppNumber;
use crate::domain::ticket::{Category, Priority, Status};
use crate::domain::user::Role;

fn datetime(
    table: &'static str,
    id: i64,
    column: &str,
    v: &str,
) -> Result<DateTime<Utc>, ImportError> {
    parse_datetime_input(v).ok_or_else(|| {
        ImportError::bad_row(table, id, format!("{column} {v:?} is not a date-time"))
    })
}

fn optional_datetime(
    table: &'static str,
    id: i64,
    column: &str,
    v: Option<&str>,
) -> Result<Option<DateTime<Utc>>, ImportError> {
    v.map(|v| datetime(table, id, column, v)).transpose()
}

fn choice<T>(
    table: &'static str,
    id: i64,
    column: &str,
    v: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, ImportError> {
    parse(v).ok_or_else(|| {
        ImportError::bad_row(table, id, format!("{column} {v:?} is not one of ours"))
    })
}

pub fn user(u: src::User) -> Result<dst::User, ImportError> {
    const T: &str = "auth_user";
    Ok(dst::User {
        last_login: optional_datetime(T, u.id, "last_login", u.last_login.as_deref())?,
        date_joined: datetime(T, u.id, "date_joined", &u.date_joined)?,
        id: u.id,
        username: u.username,
        password: u.password,
        email: u.email,
        first_name: u.first_name,
        last_name: u.last_name,
        is_active: u.is_active,
    })
}

/// True when `raw` is a national number (no `+` country code), which needs a region.
pub fn is_local_number(raw: Option<&str>) -> bool {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return false;
    };
    let raw = match raw.get(..9) {
        Some(p) if p.eq_ignore_ascii_case("whatsapp:") => raw[9..].trim(),
        _ => raw,
    };
    !raw.starts_with('+')
}

/// The number in E.164, `""` for an empty one, or `""` with a note when it does not parse.
fn number(
    p: &src::Profile,
    column: &str,
    raw: Option<&str>,
    region: Option<&str>,
    attention: &mut Vec<Attention>,
) -> Option<String> {
    let raw = raw?;
    if raw.trim().is_empty() {
        return Some(String::new());
    }
    match WhatsAppNumber::parse(raw, region) {
        Ok(n) => Some(n.into_inner()),
        Err(e) => {
            attention.push(Attention {
                user_id: p.user_id,
                username: p.username.clone(),
                reason: format!("{column} {raw:?} does not parse ({e}); imported empty"),
            });
            Some(String::new())
        }
    }
}

pub fn profile(
    p: src::Profile,
    region: Option<&str>,
    attention: &mut Vec<Attention>,
) -> Result<dst::Profile, ImportError> {
    const T: &str = "core_userprofile";
    let role = choice(T, p.id, "role", &p.role, Role::parse)?;
    let phone_number = number(
        &p,
        "phone_number",
        p.phone_number.as_deref(),
        region,
        attention,
    );
    let whatsapp_number = number(
        &p,
        "whatsapp_number",
        p.whatsapp_number.as_deref(),
        region,
        attention,
    );
    if whatsapp_number.as_deref().unwrap_or("").is_empty() {
        attention.push(Attention {
            user_id: p.user_id,
            username: p.username.clone(),
            reason: "no WhatsApp number: gets no WhatsApp notifications".to_string(),
        });
    }
    Ok(dst::Profile {
        created_at: datetime(T, p.id, "created_at", &p.created_at)?,
        updated_at: datetime(T, p.id, "updated_at", &p.updated_at)?,
        id: p.id,
        user_id: p.user_id,
        role: role.as_str(),
        phone_number,
        whatsapp_number,
        department: p.department,
    })
}

pub fn ticket(t: src::Ticket) -> Result<dst::Ticket, ImportError> {
    const T: &str = "core_ticket";
    let id = t.id;
    let opt = |column: &str, v: &Option<String>| optional_datetime(T, id, column, v.as_deref());
    Ok(dst::Ticket {
        priority: choice(T, id, "priority", &t.priority, Priority::parse)?.as_str(),
        category: choice(T, id, "category", &t.category, Category::parse)?.as_str(),
        status: choice(T, id, "status", &t.status, Status::parse)?.as_str(),
        response_due_at: opt("response_due_at", &t.response_due_at)?,
        resolution_due_at: opt("resolution_due_at", &t.resolution_due_at)?,
        estimated_resolution_time: opt("estimated_resolution_time", &t.estimated_resolution_time)?,
        created_at: datetime(T, id, "created_at", &t.created_at)?,
        updated_at: datetime(T, id, "updated_at", &t.updated_at)?,
        opened_at: opt("opened_at", &t.opened_at)?,
        started_at: opt("started_at", &t.started_at)?,
        resolved_at: opt("resolved_at", &t.resolved_at)?,
        closed_at: opt("closed_at", &t.closed_at)?,
        id,
        project_name: t.project_name,
        title: t.title,
        description: t.description,
        created_by_id: t.created_by_id,
        assigned_team: t.assigned_team,
        response_breached: t.response_breached,
        resolution_breached: t.resolution_breached,
    })
}

pub fn assignee(a: src::Assignee) -> Result<dst::Assignee, ImportError> {
    Ok(dst::Assignee {
        ticket_id: a.ticket_id,
        user_id: a.user_id,
    })
}

pub fn history(h: src::History) -> Result<dst::History, ImportError> {
    Ok(dst::History {
        timestamp: datetime("core_tickethistory", h.id, "timestamp", &h.timestamp)?,
        id: h.id,
        ticket_id: h.ticket_id,
        changed_by_id: h.changed_by_id,
        status_from: h.status_from,
        status_to: h.status_to,
        comment: h.comment,
    })
}

/// (content type, file extension) of stored bytes: their signature, else UTF-8 text, else
/// plain bytes.
pub fn file_type(bytes: &[u8]) -> (&'static str, &'static str) {
    if let Some(kind) = infer::get(bytes) {
        return (kind.mime_type(), kind.extension());
    }
    if !bytes.is_empty() && std::str::from_utf8(bytes).is_ok() {
        return ("text/plain", "txt");
    }
    ("application/octet-stream", "bin")
}

pub fn attachment(a: src::Attachment) -> Result<dst::Attachment, ImportError> {
    let (content_type, extension) = file_type(&a.file_data);
    Ok(dst::Attachment {
        uploaded_at: datetime("core_ticketattachment", a.id, "uploaded_at", &a.uploaded_at)?,
        filename: format!("attachment-{}.{extension}", a.id),
        content_type: content_type.to_string(),
        id: a.id,
        ticket_id: a.ticket_id,
        uploaded_by_id: a.uploaded_by_id,
        data: a.file_data,
    })
}

/// The original's error text for a row that was still waiting: it is history now, never sent.
pub const NEVER_SENT: &str = "Not sent by the Django version before the move; not sent since";

pub fn notification(n: src::Notification) -> Result<dst::Notification, ImportError> {
    const T: &str = "core_notificationlog";
    let id = n.id;
    let notification_type = match n.notification_type.as_str() {
        "EMAIL" => "EMAIL",
        "WHATSAPP" => "WHATSAPP",
        "SYSTEM" => "SYSTEM",
        other => {
            return Err(ImportError::bad_row(
                T,
                id,
                format!("notification_type {other:?} is not EMAIL, WHATSAPP or SYSTEM"),
            ))
        }
    };
    let (status, error_message) = match n.status.as_str() {
        "SENT" => ("SENT", n.error_message),
        "FAILED" => ("FAILED", n.error_message),
        "PENDING" => (
            "FAILED",
            Some(n.error_message.unwrap_or_else(|| NEVER_SENT.to_string())),
        ),
        other => {
            return Err(ImportError::bad_row(
                T,
                id,
                format!("status {other:?} is not SENT or FAILED"),
            ))
        }
    };
    let created_at = datetime(T, id, "created_at", &n.created_at)?;
    let sent_at = optional_datetime(T, id, "sent_at", n.sent_at.as_deref())?;
    let read_at = optional_datetime(T, id, "read_at", n.read_at.as_deref())?;
    let updated_at = [Some(created_at), sent_at, read_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created_at);
    Ok(dst::Notification {
        id,
        ticket_id: n.ticket_id,
        recipient_id: n.recipient_id,
        notification_type,
        subject: n.subject,
        message: n.message,
        status,
        error_message,
        sent_at,
        created_at,
        is_read: n.is_read,
        read_at,
        updated_at,
    })
}

pub fn outstanding_token(t: src::OutstandingToken) -> Result<dst::OutstandingToken, ImportError> {
    const T: &str = "token_blacklist_outstandingtoken";
    Ok(dst::OutstandingToken {
        created_at: optional_datetime(T, t.id, "created_at", t.created_at.as_deref())?,
        expires_at: datetime(T, t.id, "expires_at", &t.expires_at)?,
        id: t.id,
        user_id: t.user_id,
        jti: t.jti,
    })
}

pub fn blacklisted_token(t: src::BlacklistedToken) -> Result<dst::BlacklistedToken, ImportError> {
    Ok(dst::BlacklistedToken {
        blacklisted_at: datetime(
            "token_blacklist_blacklistedtoken",
            t.id,
            "blacklisted_at",
            &t.blacklisted_at,
        )?,
        id: t.id,
        token_id: t.token_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_come_from_the_bytes() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
        ];
        assert_eq!(file_type(&png), ("image/png", "png"));
        assert_eq!(file_type(b"%PDF-1.7\n"), ("application/pdf", "pdf"));
        assert_eq!(file_type(b"plain notes"), ("text/plain", "txt"));
        assert_eq!(
            file_type(&[0xff, 0x00, 0xfe]),
            ("application/octet-stream", "bin")
        );
        assert_eq!(file_type(b""), ("application/octet-stream", "bin"));
    }

    #[test]
    fn local_numbers_are_those_without_a_country_code() {
        assert!(is_local_number(Some("01094402250")));
        assert!(is_local_number(Some(" 010 9440 2250 ")));
        assert!(!is_local_number(Some("+201094402250")));
        assert!(!is_local_number(Some("whatsapp:+201094402250")));
        assert!(!is_local_number(Some("  ")));
        assert!(!is_local_number(None));
    }
}
