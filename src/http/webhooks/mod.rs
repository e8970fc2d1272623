//! Provider callbacks: Twilio message status (`X-Twilio-Signature`) and Meta's webhook
//! (verification challenge and `X-Hub-Signature-256`). The signatures are checked here
//! (`signature`); the statuses are recorded by `service::notifications` (they only move forward).
//! Messages from users (Twilio's inbound webhook, Meta's `messages`) are in `inbound`.

pub mod inbound;
pub mod signature;
mod signed;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{Error, Result};
use crate::http::openapi::components::{Detail, FieldErrors};
use crate::service::notifications::record_delivery_status;
use crate::state::AppState;
use signature::constant_time_eq;
use signed::{forbidden, MetaPayload, TwilioForm};

/// Twilio's status callback (form-encoded; other parameters Twilio sends are ignored).
#[derive(ToSchema)]
#[schema(example = json!({"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "delivered"}))]
pub struct TwilioStatusCallback {
    #[schema(rename = "MessageSid")]
    pub message_sid: String,
    /// `queued`, `sent`, `delivered`, `read`, `undelivered`, `failed`, ...
    #[schema(rename = "MessageStatus")]
    pub message_status: String,
    #[schema(rename = "ErrorCode")]
    pub error_code: Option<String>,
}

/// Twilio's message status callback (`X-Twilio-Signature` checked; statuses only move forward).
#[utoipa::path(post, path = "/api/webhooks/twilio/status/", tag = "webhooks", operation_id = "webhooks_twilio_status",
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's HMAC-SHA1 signature of the URL and parameters")),
    request_body(content((TwilioStatusCallback = "application/x-www-form-urlencoded"))),
    responses(
        (status = 204, description = "Recorded (or acknowledged for an unknown message)"),
        (status = 400, description = "No message id or status", body = FieldErrors,
         example = json!({"MessageSid": ["This field is required."]})),
        (status = 403, description = "Missing or wrong signature, or Twilio not configured", body = Detail,
         example = json!({"detail": "Invalid or missing X-Twilio-Signature."})),
    ))]
pub async fn twilio_status(State(state): State<AppState>, form: TwilioForm) -> Result<Response> {
    let (Some(sid), Some(status)) = (
        form.get("MessageSid").or(form.get("SmsSid")),
        form.get("MessageStatus").or(form.get("SmsStatus")),
    ) else {
        return Err(Error::field("MessageSid", "This field is required."));
    };
    let code = form.get("ErrorCode").filter(|c| !c.is_empty());
    let status = status.to_ascii_lowercase();
    record_delivery_status(&state, "twilio", sid, &status, code).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Meta's subscription challenge.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetaVerifyParams {
    /// `subscribe`.
    #[serde(rename = "hub.mode")]
    pub mode: Option<String>,
    /// Must equal `WHATSAPP_VERIFY_TOKEN`.
    #[serde(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    /// Echoed back.
    #[serde(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

/// Meta's webhook subscription challenge.
#[utoipa::path(get, path = "/api/webhooks/meta/", tag = "webhooks", operation_id = "webhooks_meta_verify",
    params(MetaVerifyParams),
    responses(
        (status = 200, description = "The challenge, echoed", body = String, content_type = "text/plain"),
        (status = 403, description = "Wrong verify token", body = Detail,
         example = json!({"detail": "Verification token mismatch."})),
    ))]
pub async fn meta_verify(
    State(state): State<AppState>,
    Query(q): Query<MetaVerifyParams>,
) -> Result<Response> {
    let expected = state.config.meta.verify_token.expose();
    let ok = !expected.is_empty()
        && q.mode.as_deref() == Some("subscribe")
        && q.verify_token
            .as_deref()
            .is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()));
    if !ok {
        return Err(forbidden("Verification token mismatch."));
    }
    Ok(q.challenge.unwrap_or_default().into_response())
}

/// Message statuses and users' messages from the WhatsApp Cloud API (`X-Hub-Signature-256`
/// checked).
#[utoipa::path(post, path = "/api/webhooks/meta/", tag = "webhooks", operation_id = "webhooks_meta_events",
    params(("X-Hub-Signature-256" = String, Header, description = "`sha256=` HMAC of the body with the app secret")),
    request_body(content(("application/json")), description = "Meta's webhook payload (`entry[].changes[].value.statuses[]` and `.messages[]`)"),
    responses(
        (status = 200, description = "Recorded"),
        (status = 400, description = "Not JSON", body = Detail),
        (status = 403, description = "Missing or wrong signature", body = Detail,
         example = json!({"detail": "Invalid or missing X-Hub-Signature-256."})),
    ))]
pub async fn meta_events(State(state): State<AppState>, payload: MetaPayload) -> Result<Response> {
    for s in payload.items("statuses") {
        let (Some(id), Some(status)) = (s["id"].as_str(), s["status"].as_str()) else {
            continue;
        };
        let code = s["errors"][0]["code"].as_i64().map(|c| c.to_string());
        record_delivery_status(&state, "meta", id, status, code.as_deref()).await?;
    }
    inbound::meta_messages(&state, &payload).await?;
    Ok(StatusCode::OK.into_response())
}
