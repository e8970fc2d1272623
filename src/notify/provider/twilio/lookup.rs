//! Reading messages back from Twilio: the message list filtered by recipient and day (is a
//! message whose send left no outcome already there?) and one message by SID (its delivery
//! status, for reconciliation). Twilio has no idempotency key for creating messages, so these
//! are what keep a crash from sending a message twice.

use chrono::{DateTime, Utc};
use reqwest::header::ACCEPT;
use serde::Deserialize;

use super::{Sender, Twilio};
use crate::notify::provider::message::{Outgoing, Receipt, SendError};

/// How far before the attempt's start a message may be dated (clocks differ).
const CLOCK_SLACK_SECONDS: i64 = 120;
/// Messages read from the list: the recipient's messages of the day, newest first.
const PAGE_SIZE: &str = "100";

/// A message as the list and fetch endpoints answer it (the fields used here).
#[derive(Debug, Deserialize)]
pub(super) struct MessageResource {
    sid: Option<String>,
    body: Option<String>,
    from: Option<String>,
    status: Option<String>,
    error_code: Option<serde_json::Value>,
    /// RFC 2822, e.g. `Tue, 01 Dec 2026 01:33:19 +0000`.
    date_created: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessageList {
    #[serde(default)]
    messages: Vec<MessageResource>,
}

/// A message's delivery status as Twilio holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedStatus {
    pub status: String,
    pub error_code: Option<String>,
}

impl Twilio {
    /// The messages this row's earlier attempt (started at `since`) may have created, newest
    /// first: `GET Messages.json?To=...&DateSent>=<day>`, matched on the text sent, the sender
    /// and the time. Several rows may carry the same text to the same person, so the caller
    /// picks one no other row recorded. A template send (`ContentSid`) has no text of ours to
    /// match: nothing is found, and it is sent again (at least once).
    pub async fn find_sent(
        &self,
        msg: &Outgoing,
        since: DateTime<Utc>,
    ) -> Result<Vec<Receipt>, SendError> {
        let form = self.form(msg);
        let Some(body) = form.iter().find(|(k, _)| *k == "Body").map(|(_, v)| v) else {
            return Ok(Vec::new());
        };
        let to = form
            .iter()
            .find(|(k, _)| *k == "To")
            .map(|(_, v)| v.clone());
        let query = [
            ("To", to.unwrap_or_default()),
            ("DateSent>", since.format("%Y-%m-%d").to_string()),
            ("PageSize", PAGE_SIZE.to_string()),
        ];
        let text = self.get_json(&self.messages_url, &query).await?;
        let list: MessageList = serde_json::from_slice(&text).map_err(|_| unreadable(&text))?;
        let earliest = since - chrono::Duration::seconds(CLOCK_SLACK_SECONDS);
        let sender = match &self.sender {
            Sender::From(from) => Some(from.as_str()),
            Sender::MessagingService(_) => None,
        };
        let found = list.messages.into_iter().filter(|m| {
            m.body.as_deref() == Some(body.as_str())
                && sender.is_none_or(|s| m.from.as_deref().is_none_or(|f| f == s))
                && created(m).is_none_or(|at| at >= earliest)
        });
        Ok(found
            .filter_map(|m| {
                Some(Receipt {
                    provider_message_id: m.sid.filter(|s| !s.is_empty())?,
                    delivery_status: m.status,
                })
            })
            .collect())
    }

    /// One message's delivery status: `GET Messages/{sid}.json`.
    pub async fn fetch_status(&self, sid: &str) -> Result<FetchedStatus, SendError> {
        let url = format!("{}/{sid}.json", self.messages_url.trim_end_matches(".json"));
        let text = self.get_json(&url, &[]).await?;
        let m: MessageResource = serde_json::from_slice(&text).map_err(|_| unreadable(&text))?;
        let status = m
            .status
            .filter(|s| !s.is_empty())
            .ok_or_else(|| unreadable(&text))?;
        let error_code = match m.error_code {
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        Ok(FetchedStatus { status, error_code })
    }

    async fn get_json(&self, url: &str, query: &[(&str, String)]) -> Result<Vec<u8>, SendError> {
        let response = self
            .client
            .get(url)
            .basic_auth(&self.username, Some(self.password.expose()))
            .header(ACCEPT, "application/json")
            .query(query)
            .send()
            .await
            .map_err(|e| crate::notify::provider::transport::transport_error(e, "Twilio"))?;
        let status = response.status();
        let retry_after = crate::notify::provider::transport::retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| crate::notify::provider::transport::transport_error(e, "Twilio"))?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(super::classify(status, &body, retry_after))
        }
    }
}

fn created(m: &MessageResource) -> Option<DateTime<Utc>> {
    let at = m.date_created.as_deref()?;
    DateTime::parse_from_rfc2822(at)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn unreadable(body: &[u8]) -> SendError {
    SendError::Transient {
        code: Some("unreadable_answer".into()),
        message: format!(
            "Twilio's answer could not be read: {}",
            crate::notify::provider::transport::quote_body(body)
        ),
        retry_after: None,
    }
}
