//! What the webhooks share, as extractors: a Twilio callback's form parameters once their
//! `X-Twilio-Signature` checks out (status and inbound), and a Meta payload once its
//! `X-Hub-Signature-256` does, with the walk to its `entry[].changes[].value` items.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Uri};
use serde_json::Value;

use super::signature::{validate_meta, validate_twilio};
use crate::error::{Error, Result};
use crate::http::body::RawBody;
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
pub struct TwilioForm(Vec<(String, String)>);

impl TwilioForm {
    /// The parameter `name` (the last one when repeated).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest<AppState> for TwilioForm {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let (headers, uri) = (req.headers().clone(), req.uri().clone());
        let body = RawBody::from_request(req, state).await?;
        signed_twilio_params(state, &headers, &uri, &body.bytes).map(TwilioForm)
    }
}

/// A Meta webhook payload whose `X-Hub-Signature-256` checks out.
pub struct MetaPayload(Value);

impl MetaPayload {
    /// The `key` items of every change (`statuses`, `messages`).
    pub(super) fn items<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.0["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["changes"].as_array().into_iter().flatten())
            .flat_map(move |c| c["value"][key].as_array().into_iter().flatten())
    }
}

impl FromRequest<AppState> for MetaPayload {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let signature = req
            .headers()
            .get("x-hub-signature-256")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = RawBody::from_request(req, state).await?;
        let secret = state.config.meta.app_secret.expose();
        if secret.is_empty() || !validate_meta(secret, &body.bytes, &signature) {
            return Err(forbidden("Invalid or missing X-Hub-Signature-256."));
        }
        serde_json::from_slice(&body.bytes)
            .map(MetaPayload)
            .map_err(|e| Error::MalformedBody(format!("JSON parse error - {e}")))
    }
}

fn signed_twilio_params(
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
