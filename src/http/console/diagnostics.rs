//! Diagnostics: the configured WhatsApp provider and sender and the SMTP server, and a test
//! form for each channel whose result and fix are shown on the page (`service::diagnostics`,
//! the checks of `incident whatsapp test` and `incident email test`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::render::{page, ConsoleError};
use super::session::{Console, ConsoleForm};
use crate::service::console::ConsoleSession;
use crate::service::diagnostics::{self as service, TestResult};
use crate::state::AppState;

const DEFAULT_TEXT: &str = "Test message from the incident admin console.";

/// The page, with the test form of `channel` showing what was typed and its result.
fn diagnostics_page(
    state: &AppState,
    s: &ConsoleSession,
    channel: &str,
    form: &TestForm,
    result: Option<TestResult>,
) -> Result<Response, ConsoleError> {
    let ctx = json!({
        "channels": service::channels(state), "message": DEFAULT_TEXT,
        channel: { "to": form.to, "message": form.message, "result": result },
    });
    Ok(page(s, "diagnostics.html", "diagnostics", ctx)?.into_response())
}

/// `GET /admin/diagnostics/`
pub async fn show(
    State(state): State<AppState>,
    Console(s): Console,
) -> Result<Response, ConsoleError> {
    diagnostics_page(&state, &s, "none", &TestForm::default(), None)
}

#[derive(Debug, Default, Deserialize)]
pub struct TestForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    message: String,
}

/// `POST /admin/diagnostics/whatsapp/`: one real send, explained.
pub async fn whatsapp_test(
    State(state): State<AppState>,
    ConsoleForm(s, mut form): ConsoleForm<TestForm>,
) -> Result<Response, ConsoleError> {
    form.default_message();
    let region = state.config.default_phone_region.as_deref();
    let result = service::whatsapp_test(&state.provider, region, &form.to, &form.message).await;
    diagnostics_page(&state, &s, "whatsapp", &form, Some(result))
}

/// `POST /admin/diagnostics/email/`: one real e-mail, explained.
pub async fn email_test(
    State(state): State<AppState>,
    ConsoleForm(s, mut form): ConsoleForm<TestForm>,
) -> Result<Response, ConsoleError> {
    form.default_message();
    let result = service::email_test(&state.mailer, &form.to, &form.message).await;
    diagnostics_page(&state, &s, "email", &form, Some(result))
}

impl TestForm {
    fn default_message(&mut self) {
        if self.message.trim().is_empty() {
            self.message = DEFAULT_TEXT.to_string();
        }
    }
}
