//! Pages: the console's templates (minijinja, HTML autoescaping on, embedded in the binary),
//! the headers of every console answer, and errors as pages.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{context, Environment, Value};
use serde::Serialize;

use crate::error::Error;
use crate::service::console::ConsoleSession;

/// Scripts: none. Styles: the console's own stylesheet. Forms post only here.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

const TEMPLATES: [(&str, &str); 11] = templates!(
    "base.html",
    "macros.html",
    "error.html",
    "login.html",
    "dashboard.html",
    "users.html",
    "user.html",
    "tickets.html",
    "ticket.html",
    "notifications.html",
    "diagnostics.html",
);

/// The stylesheet at `/admin/static/console.css`.
pub const STYLESHEET: &str = include_str!("static/console.css");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `.html` templates escape every value (minijinja's default for the extension).
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "console template does not parse");
            }
        }
        env
    })
}

/// A rendered console page with the console's headers.
pub struct Page {
    status: StatusCode,
    html: String,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.html).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn render_value(name: &str, ctx: Value) -> Result<String, ConsoleError> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ConsoleError::from(Error::internal(format!("template {name}: {e:#}"))))
}

/// Renders a page for a signed-in admin: `ctx` plus who is signed in, the CSRF token, and the
/// navigation entry `nav`.
pub fn page<T: Serialize>(
    session: &ConsoleSession,
    name: &str,
    nav: &str,
    ctx: T,
) -> Result<Page, ConsoleError> {
    let ctx = context! {
        me => session.user.display_name(),
        csrf => session.csrf.clone(),
        nav,
        ..Value::from(Serde(ctx))
    };
    Ok(Page {
        status: StatusCode::OK,
        html: render_value(name, ctx)?,
    })
}

/// Renders a page nobody is signed in to (sign-in), with a status.
pub fn public_page<T: Serialize>(
    name: &str,
    status: StatusCode,
    ctx: T,
) -> Result<Page, ConsoleError> {
    Ok(Page {
        status,
        html: render_value(name, Value::from(Serde(ctx)))?,
    })
}

/// An error answered as a page with its status and a readable message.
#[derive(Debug)]
pub struct ConsoleError {
    status: StatusCode,
    message: String,
}

/// 403 with a message (the CSRF and `Origin` refusals).
pub fn refusal(message: &str) -> ConsoleError {
    ConsoleError {
        status: StatusCode::FORBIDDEN,
        message: message.to_string(),
    }
}

impl ConsoleError {
    pub fn bad_form(message: String) -> ConsoleError {
        ConsoleError {
            status: StatusCode::BAD_REQUEST,
            message,
        }
    }
}

/// The readable text of an error's body: its detail, error or field messages.
pub fn message_of(e: &Error) -> String {
    fn texts(v: &serde_json::Value, out: &mut Vec<String>, key: Option<&str>) {
        match v {
            serde_json::Value::String(s) => out.push(match key {
                Some(k) if k != "detail" && k != "error" && k != "non_field_errors" => {
                    format!("{k}: {s}")
                }
                _ => s.clone(),
            }),
            serde_json::Value::Array(a) => a.iter().for_each(|x| texts(x, out, key)),
            serde_json::Value::Object(m) => m
                .iter()
                .filter(|(k, _)| *k != "current_status" && *k != "required_status")
                .for_each(|(k, x)| texts(x, out, Some(k))),
            _ => {}
        }
    }
    let mut out = Vec::new();
    texts(&e.body(), &mut out, None);
    out.join(" ")
}

impl From<Error> for ConsoleError {
    fn from(e: Error) -> ConsoleError {
        if e.status().is_server_error() {
            tracing::error!(error = %e, "console request failed");
        }
        ConsoleError {
            status: e.status(),
            message: message_of(&e),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let html = render_value(
            "error.html",
            context! { status => self.status.as_u16(), message => self.message.clone() },
        )
        .unwrap_or_else(|_| "Error".to_string());
        Page {
            status: self.status,
            html,
        }
        .into_response()
    }
}
