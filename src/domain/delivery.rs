//! Delivery rules shared by every path that learns how a message went: the order of the
//! providers' delivery statuses (callbacks, reconciliation) and the guide's table of provider
//! error codes (a refusal answered at once, or a failure reported later by a callback).

/// Every delivery status a provider reports (Twilio's `MessageStatus`; Meta's are a subset).
pub const STATUSES: [&str; 9] = [
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "undelivered",
    "failed",
];

/// How far along a delivery status is: `queued < sending < sent < delivered < read`. The
/// failures (`failed`, `undelivered`) have no place in the order: see [`moves_forward`].
fn progress(status: &str) -> Option<u8> {
    Some(match status {
        "accepted" | "scheduled" | "queued" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" => 4,
        "read" => 5,
        _ => return None,
    })
}

/// A delivery failure reported by the provider: final, nothing moves it afterwards.
pub fn is_failure(status: &str) -> bool {
    matches!(status, "failed" | "undelivered")
}

/// True when a status the provider reports may replace the one we hold (`None`: nothing yet).
/// Statuses only move forward (`queued < sent < delivered < read`); a failure is final, and is
/// taken only while nothing later than `sent` was seen: a `failed` arriving after `delivered`
/// (callbacks come out of order) is ignored. Unknown statuses are ignored.
pub fn moves_forward(current: Option<&str>, reported: &str) -> bool {
    let current = current.filter(|c| !c.is_empty());
    if current.is_some_and(is_failure) {
        return false;
    }
    let held = current.and_then(progress).unwrap_or(0);
    if is_failure(reported) {
        return held <= progress("sent").unwrap_or(0);
    }
    progress(reported).is_some_and(|p| p > held)
}

/// The cause and the fix of a provider error code, in the words of the setup guide's
/// troubleshooting section; `None` for a code the guide does not know. The same text serves a
/// refusal answered at once and a failure a status callback reports later.
pub fn guide(code: &str) -> Option<&'static str> {
    Some(match code {
        "190" | "104" => {
            "The WhatsApp Cloud API access token is invalid or expired: replace WHATSAPP_ACCESS_TOKEN and restart."
        }
        "131047" => {
            "Outside the 24-hour window: WhatsApp only allows free-form messages within 24 hours of the user's last message. Configure an approved template (WHATSAPP_TEMPLATES) for this event."
        }
        "131026" => {
            "The message could not be delivered: the recipient's number is not on WhatsApp, or they have not accepted WhatsApp's latest terms."
        }
        "20003" | "http_401" => {
            "Authentication failed: the auth token is incorrect. Verify the Account SID and Auth Token in the Twilio Console (Dashboard → Account Info)."
        }
        "63015" => {
            "The recipient is not connected to the Twilio Sandbox. They must send \"join <your sandbox code>\" to +1 415 523 8886 (sandbox sessions expire after 3 days of inactivity)."
        }
        "21211" | "21614" | "100" => {
            "Invalid phone number format. Use the international format +1234567890 (country code + number, no spaces)."
        }
        "63016" => {
            "Outside the 24-hour window: WhatsApp only allows free-form messages within 24 hours of the user's last message. Configure an approved template (TWILIO_CONTENT_SIDS) for this event."
        }
        "63024" | "63003" => {
            "The recipient cannot receive WhatsApp messages on this number (not a WhatsApp account, or WhatsApp refused it). Check the user's WhatsApp number."
        }
        "63018" => {
            "The WhatsApp sender's rate or messaging limit was exceeded (the Sandbox allows one message every 3 seconds). Lower NOTIFY_RATE_PER_SECOND or wait for the limit to reset, then retry the failed rows."
        }
        "63049" => "WhatsApp chose not to deliver this marketing message to this user; nothing to fix on our side.",
        "21610" | "30004" => "The recipient opted out (replied STOP) or blocked the sender. They must send START to receive messages again.",
        "21408" => "This destination country is not enabled. Enable it in the Twilio Console under Messaging → Settings → Geo permissions.",
        "21608" => "Trial accounts can only send to verified numbers. Verify the number in the Twilio Console or upgrade the account.",
        "63007" => "The From number is not a WhatsApp sender on this account. Check TWILIO_WHATSAPP_FROM (the sandbox is whatsapp:+14155238886).",
        "30003" => "The recipient's phone is unreachable (switched off or without signal). Retry the failed rows later.",
        "30005" => "The destination number is unknown or no longer in service. Check the user's WhatsApp number.",
        "30006" => "The destination is a landline or its carrier cannot be reached. Ask the user for a mobile WhatsApp number.",
        "30007" => "The message was filtered as spam or against policy by the carrier or WhatsApp. Review the message text and the sender's compliance.",
        "30008" => "The provider reported an unknown delivery error. Retry the failed rows; if it persists, contact the provider's support with the message id.",
        "smtp_535" | "smtp_534" | "smtp_530" => {
            "SMTP authentication failed: the server refused EMAIL_HOST_USER and EMAIL_HOST_PASSWORD. With Gmail, use an app password (Google Account → Security → 2-Step Verification → App passwords; 2-Step Verification must be on), not the account's password, then restart."
        }
        "smtp_550" | "smtp_551" | "smtp_553" => {
            "The mail server refused the recipient's address (no such mailbox, or not accepted there). Check the user's e-mail address."
        }
        "smtp_552" => "The recipient's mailbox is full or the message is too large for the server. Retry the failed rows later.",
        "smtp_554" | "smtp_541" => "The mail server rejected the message (spam or policy). Check DEFAULT_FROM_EMAIL is an address the account may send from (SPF/DKIM), and the text.",
        "smtp_421" | "smtp_450" | "smtp_451" | "smtp_452" => {
            "The mail server is busy or refused the message for now (a temporary SMTP reply); it is retried automatically."
        }
        "smtp_connection" => "The SMTP server cannot be reached: check EMAIL_HOST and EMAIL_PORT (587 with EMAIL_USE_TLS, 465 with EMAIL_USE_SSL) and the firewall; it is retried automatically.",
        "smtp_tls" => "The TLS handshake with the SMTP server failed: port 587 wants EMAIL_USE_TLS=true, port 465 wants EMAIL_USE_SSL=true.",
        _ => return None,
    })
}

/// The row's error message for a failure a provider reported after accepting the message.
pub fn reported_failure_message(status: &str, code: Option<&str>) -> String {
    match code {
        Some(code) => {
            let fix = guide(code).map(|g| format!(" — {g}")).unwrap_or_default();
            format!("Provider reported the message {status} (error {code}){fix}")
        }
        None => format!("Provider reported the message {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What should happen, written out pair by pair rather than computed like the rule.
    fn expected(current: &str, reported: &str) -> bool {
        let order = ["", "queued", "sending", "sent", "delivered", "read"];
        fn norm(s: &str) -> &str {
            match s {
                "accepted" | "scheduled" => "queued",
                s => s,
            }
        }
        let at = |s: &str| order.iter().position(|o| *o == norm(s));
        match (current, reported) {
            (_, "bogus") => false,
            ("failed" | "undelivered", _) => false,
            (c, "failed" | "undelivered") => [
                "",
                "accepted",
                "scheduled",
                "queued",
                "sending",
                "sent",
                "bogus",
            ]
            .contains(&c),
            (c, r) => at(r).unwrap() > at(c).unwrap_or(0),
        }
    }

    #[test]
    fn every_pair_of_statuses_moves_only_forward() {
        let mut checked = 0;
        for current in std::iter::once("").chain(STATUSES).chain(["bogus"]) {
            for reported in STATUSES.into_iter().chain(["bogus"]) {
                let held = (!current.is_empty()).then_some(current);
                assert_eq!(
                    moves_forward(held, reported),
                    expected(current, reported),
                    "{current:?} then {reported:?}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 110);
        // The defect of the issue, spelled out.
        assert!(!moves_forward(Some("delivered"), "failed"));
        assert!(!moves_forward(Some("read"), "undelivered"));
        assert!(moves_forward(Some("sent"), "failed"));
        assert!(!moves_forward(Some("failed"), "delivered"));
        assert!(moves_forward(None, "read"));
    }

    #[test]
    fn a_reported_failure_carries_the_guides_fix() {
        let m = reported_failure_message("failed", Some("63015"));
        assert!(m.starts_with("Provider reported the message failed (error 63015)"));
        assert!(m.contains("join <your sandbox code>"), "{m}");
        for code in [
            "63016", "63024", "30003", "30004", "30005", "30006", "30007", "30008",
        ] {
            assert!(guide(code).is_some(), "{code}");
        }
        assert_eq!(
            reported_failure_message("undelivered", Some("99999")),
            "Provider reported the message undelivered (error 99999)"
        );
        assert_eq!(
            reported_failure_message("failed", None),
            "Provider reported the message failed"
        );
    }
}
