//! Diagnostics: the configured provider and sender, and a "send a test WhatsApp" form whose
//! result and fix are shown on the page (`service::diagnostics`, the check of
//! `incident whatsapp test`). E-mail gets its own form here once e-mail delivery exists.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::render::{page, ConsoleError};
use super::session::{Console, ConsoleForm};
use crate::service::diagnostics as service;
use crate::state::AppState;

const DEFAULT_TEXT: &str = "Test message from the incident admin console.";

/// `GET /admin/diagnostics/`
pub async fn show(
    State(state): State<AppState>,
    Console(s): Console,
) -> Result<Response, ConsoleError> {
    let ctx = json!({ "channels": service::channels(&state), "to": "", "message": DEFAULT_TEXT });
    Ok(page(&s, "diagnostics.html", "diagnostics", ctx)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct TestForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    message: String,
}

/// `POST /admin/diagnostics/whatsapp/`: one real send, explained.
pub async fn whatsapp_test(
    State(state): State<AppState>,
    ConsoleForm(s, form): ConsoleForm<TestForm>,
) -> Result<Response, ConsoleError> {
    let message = if form.message.trim().is_empty() {
        DEFAULT_TEXT
    } else {
        form.message.as_str()
    };
    let result = service::whatsapp_test(&state, &form.to, message).await;
    let ctx = json!({ "channels": service::channels(&state), "to": form.to, "message": message, "result": result });
    Ok(page(&s, "diagnostics.html", "diagnostics", ctx)?.into_response())
}
