//! The console's doors: the session cookie, the extractors that find the session behind a page
//! (`Console`) or behind a form post (`ConsoleForm`: session, `Origin` check, CSRF token), and
//! the cookie's attributes.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use super::render::{refusal, ConsoleError};
use crate::config::Config;
use crate::service::console::{self, ConsoleSession};
use crate::state::AppState;

pub const COOKIE: &str = "incident_console";
/// The name of the CSRF field in every form.
pub const CSRF_FIELD: &str = "csrf_token";

/// The session cookie's value, if the request carries one.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

fn secure(config: &Config) -> bool {
    config
        .public_base_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, the console's path only, Secure
/// behind https. No expiry: the server ends sessions (idle and absolute limits).
pub fn set_cookie(config: &Config, value: &str) -> HeaderValue {
    let secure = if secure(config) { "; Secure" } else { "" };
    let text = format!("{COOKIE}={value}; Path=/admin/; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(config: &Config) -> HeaderValue {
    let secure = if secure(config) { "; Secure" } else { "" };
    let text = format!("{COOKIE}=; Path=/admin/; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in admin behind a console page; without a live session, a redirect to sign-in.
pub struct Console(pub ConsoleSession);

/// Not signed in (or the session ended): to the sign-in page, coming back here afterwards.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let next: String = form_urlencoded::byte_serialize(self.0.as_bytes()).collect();
        Redirect::to(&format!("/admin/login/?next={next}")).into_response()
    }
}

pub enum Rejected {
    SignIn(SignInFirst),
    Error(ConsoleError),
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        match self {
            Rejected::SignIn(s) => s.into_response(),
            Rejected::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Rejected> {
        if let Some(s) = parts.extensions.get::<ConsoleSession>() {
            return Ok(Console(s.clone()));
        }
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/admin/".into());
        let Some(value) = cookie(&parts.headers) else {
            return Err(Rejected::SignIn(SignInFirst(back)));
        };
        match console::session(state, &value).await {
            Ok(Some(s)) => {
                parts.extensions.insert(s.clone());
                Ok(Console(s))
            }
            Ok(None) => Err(Rejected::SignIn(SignInFirst(back))),
            Err(e) => Err(Rejected::Error(e.into())),
        }
    }
}

/// The origin this server is reached at: `PUBLIC_BASE_URL`'s, else the request's `Host`.
fn origin_matches(config: &Config, headers: &HeaderMap, origin: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    match config
        .public_base_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        Some(public) => public.origin() == url.origin(),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| h.eq_ignore_ascii_case(&authority)),
    }
}

/// A state-changing request must come from a page of this server: its `Origin` (or, when a
/// browser sends none, its `Referer`) names this server.
pub fn same_origin(config: &Config, headers: &HeaderMap) -> bool {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    claimed.is_some_and(|o| o != "null" && origin_matches(config, headers, o))
}

/// A form posted from a console page: the session, checked `Origin`, and the session's CSRF
/// token in the form's `csrf_token` field. Otherwise 403 and nothing is done.
pub struct ConsoleForm<T>(pub ConsoleSession, pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ConsoleForm<T> {
    type Rejection = Rejected;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Rejected> {
        let (mut parts, body) = req.into_parts();
        let Console(session) = Console::from_request_parts(&mut parts, state).await?;
        if !same_origin(&state.config, &parts.headers) {
            return Err(Rejected::Error(refusal(
                "This form did not come from a page of this console (its Origin header is missing or names another site). Nothing was changed.",
            )));
        }
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|_| Rejected::Error(refusal("The form could not be read.")))?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !session.csrf_matches(&token) {
            return Err(Rejected::Error(refusal(
                "This form has no valid security token (CSRF): reload the page and try again. Nothing was changed.",
            )));
        }
        let req = Request::from_parts(parts, Body::from(bytes));
        let axum::Form(value) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(|e| Rejected::Error(ConsoleError::bad_form(e.body_text())))?;
        Ok(ConsoleForm(session, value))
    }
}
