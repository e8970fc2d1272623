//! What the Twilio webhooks share: the URL Twilio called, and its form parameters once their
//! `X-Twilio-Signature` checks out.

use axum::http::{HeaderMap, Uri};

use super::signature::validate_twilio;
use crate::error::{Error, Result};
use crate::state::AppState;

pub(super) fn forbidden(why: &str) -> Error {
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

/// The form parameters of a Twilio callback whose `X-Twilio-Signature` checks out.
pub(super) fn signed_twilio_params(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Vec<(String, String)>> {
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
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let url = called_url(state, headers, uri);
    if signature.is_empty() || !validate_twilio(token, &url, &params, signature) {
        tracing::warn!(url = %url, "Twilio callback with a missing or wrong X-Twilio-Signature refused");
        return Err(forbidden("Invalid or missing X-Twilio-Signature."));
    }
    Ok(params)
}
