//! Provider callbacks: Twilio message status (`X-Twilio-Signature`) and Meta's webhook
//! (verification challenge and `X-Hub-Signature-256`). Statuses only move forward.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::db::notifications::{apply_delivery_status, CallbackOutcome};
use crate::domain::datetime::now;
use crate::error::{Error, Result};
use crate::notify::signature::{validate_meta, validate_twilio};
use crate::state::AppState;

fn forbidden(why: &str) -> Error {
    Error::PermissionDeniedBecause(why.to_string())
}

/// The URL the provider called, as it signed it: `PUBLIC_BASE_URL` when set (the address given
/// to Twilio), else the scheme and Host the request came with.
fn called_url(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    let base = match &state.config.public_base_url {
        Some(b) => b.clone(),
        None => {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let scheme = headers
                .get("x-forwarded-proto")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("http");
            format!("{scheme}://{host}")
        }
    };
    match uri.query() {
        Some(q) => format!("{base}{}?{q}", uri.path()),
        None => format!("{base}{}", uri.path()),
    }
}

async fn record(
    provider: &str,
    state: &AppState,
    message_id: &str,
    status: &str,
    error_code: Option<&str>,
) -> Result<()> {
    let outcome = apply_delivery_status(&state.db, message_id, status, error_code, now()).await?;
    match outcome {
        CallbackOutcome::UnknownMessage => {
            tracing::info!(
                provider,
                message_id,
                status,
                "status callback for an unknown message: acknowledged"
            )
        }
        CallbackOutcome::Stale => tracing::debug!(
            provider,
            message_id,
            status,
            "status callback older than what we know: ignored"
        ),
        CallbackOutcome::Updated => tracing::info!(
            provider,
            message_id,
            status,
            error_code,
            "delivery status updated"
        ),
    }
    Ok(())
}

/// `POST /api/webhooks/twilio/status/`: Twilio's status callback (form-encoded).
pub async fn twilio_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response> {
    let token = state.config.twilio.webhook_auth_token.expose();
    if token.is_empty() {
        return Err(forbidden(
            "Twilio is not configured: status callbacks cannot be verified.",
        ));
    }
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let url = called_url(&state, &headers, &uri);
    if signature.is_empty() || !validate_twilio(token, &url, &params, signature) {
        tracing::warn!(url = %url, "Twilio callback with a missing or wrong X-Twilio-Signature refused");
        return Err(forbidden("Invalid or missing X-Twilio-Signature."));
    }
    let get = |k: &str| {
        params
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let (Some(sid), Some(status)) = (
        get("MessageSid").or(get("SmsSid")),
        get("MessageStatus").or(get("SmsStatus")),
    ) else {
        return Err(Error::Validation(
            serde_json::json!({"MessageSid": ["This field is required."]}),
        ));
    };
    record(
        "twilio",
        &state,
        sid,
        &status.to_ascii_lowercase(),
        get("ErrorCode").filter(|c| !c.is_empty()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct Verify {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// `GET /api/webhooks/meta/`: Meta's subscription challenge.
pub async fn meta_verify(
    State(state): State<AppState>,
    Query(q): Query<Verify>,
) -> Result<Response> {
    let expected = state.config.meta.verify_token.expose();
    let ok = !expected.is_empty()
        && q.mode.as_deref() == Some("subscribe")
        && q.verify_token.as_deref().is_some_and(|t| {
            crate::notify::signature::constant_time_eq(t.as_bytes(), expected.as_bytes())
        });
    if !ok {
        return Err(forbidden("Verification token mismatch."));
    }
    Ok(q.challenge.unwrap_or_default().into_response())
}

/// `POST /api/webhooks/meta/`: message statuses from the WhatsApp Cloud API.
pub async fn meta_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let secret = state.config.meta.app_secret.expose();
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if secret.is_empty() || !validate_meta(secret, &body, signature) {
        return Err(forbidden("Invalid or missing X-Hub-Signature-256."));
    }
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::MalformedBody(format!("JSON parse error - {e}")))?;
    let statuses = payload["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["changes"].as_array().into_iter().flatten())
        .flat_map(|c| c["value"]["statuses"].as_array().into_iter().flatten());
    for s in statuses {
        let (Some(id), Some(status)) = (s["id"].as_str(), s["status"].as_str()) else {
            continue;
        };
        let code = s["errors"][0]["code"].as_i64().map(|c| c.to_string());
        record("meta", &state, id, status, code.as_deref()).await?;
    }
    Ok(StatusCode::OK.into_response())
}
