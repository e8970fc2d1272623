//! Messages from users: Twilio's "A message comes in" webhook (`X-Twilio-Signature`, as the
//! status callback) and the `messages` of Meta's webhook events. Both go to
//! `service::whatsapp_inbound::receive`; a replay is acknowledged and ignored.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::ToSchema;

use crate::domain::datetime::now;
use crate::error::{Error, Result};
use crate::http::openapi::components::{Detail, FieldErrors};
use crate::service::whatsapp_inbound::{receive, Inbound};
use crate::state::AppState;

use super::signed::{MetaPayload, TwilioForm};

/// Twilio's inbound message webhook (form-encoded; other parameters are ignored but signed).
#[derive(ToSchema)]
#[schema(example = json!({"MessageSid": "SM0123456789abcdef0123456789abcdef", "From": "whatsapp:+201094402250",
                          "To": "whatsapp:+14155238886", "Body": "APPROVE 42", "ProfileName": "Mona", "WaId": "201094402250"}))]
pub struct TwilioInbound {
    #[schema(rename = "MessageSid")]
    pub message_sid: String,
    /// `whatsapp:+E164`.
    #[schema(rename = "From")]
    pub from: String,
    #[schema(rename = "Body")]
    pub body: Option<String>,
    /// A quick-reply button's payload.
    #[schema(rename = "ButtonPayload")]
    pub button_payload: Option<String>,
    /// `STOP`, `START` or `HELP` with Advanced Opt-Out.
    #[schema(rename = "OptOutType")]
    pub opt_out_type: Option<String>,
    #[schema(rename = "ProfileName")]
    pub profile_name: Option<String>,
}

/// An empty TwiML answer: nothing is said in the webhook's response; replies go through the
/// outbox, where their delivery is tracked.
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// A WhatsApp message from a user (Twilio). Stored once; the sender's command is acted on.
#[utoipa::path(post, path = "/api/webhooks/twilio/inbound/", tag = "webhooks", operation_id = "webhooks_twilio_inbound",
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's HMAC-SHA1 signature of the URL and parameters")),
    request_body(content((TwilioInbound = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Stored (or a replay, ignored): empty TwiML", body = String, content_type = "application/xml"),
        (status = 400, description = "No message id or sender", body = FieldErrors,
         example = json!({"MessageSid": ["This field is required."]})),
        (status = 403, description = "Missing or wrong signature, or Twilio not configured", body = Detail,
         example = json!({"detail": "Invalid or missing X-Twilio-Signature."})),
    ))]
pub async fn twilio_inbound(State(state): State<AppState>, form: TwilioForm) -> Result<Response> {
    let sid = form.get("MessageSid").or(form.get("SmsSid"));
    let (Some(sid), Some(from)) = (sid, form.get("From")) else {
        return Err(Error::field("MessageSid", "This field is required."));
    };
    let message = Inbound {
        provider: "twilio",
        message_id: sid,
        from,
        body: form.get("Body").unwrap_or_default(),
        button_payload: form.get("ButtonPayload"),
        opt_out_type: form.get("OptOutType"),
        profile_name: form.get("ProfileName"),
    };
    receive(&state, &message, now()).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml")], EMPTY_TWIML).into_response())
}

/// The user messages of a Meta webhook payload (`entry[].changes[].value.messages[]`): text,
/// a template's quick-reply button, or an interactive reply.
pub(super) async fn meta_messages(state: &AppState, payload: &MetaPayload) -> Result<()> {
    for m in payload.items("messages") {
        let (Some(id), Some(from)) = (m["id"].as_str(), m["from"].as_str()) else {
            continue;
        };
        let from = format!("+{}", from.trim_start_matches('+'));
        let reply = &m["interactive"]["button_reply"];
        let message = Inbound {
            provider: "meta",
            message_id: id,
            from: &from,
            body: m["text"]["body"]
                .as_str()
                .or(m["button"]["text"].as_str())
                .or(reply["title"].as_str())
                .unwrap_or_default(),
            button_payload: m["button"]["payload"].as_str().or(reply["id"].as_str()),
            opt_out_type: None,
            profile_name: None,
        };
        receive(state, &message, now()).await?;
    }
    Ok(())
}
