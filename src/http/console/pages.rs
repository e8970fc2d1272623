//! Sign-in, sign-out, the dashboard and the stylesheet.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::render::{message_of, page, public_page, refusal, ConsoleError, STYLESHEET};
use super::session::{clear_cookie, same_origin, set_cookie, Console, ConsoleForm};
use crate::http::client_ip::ClientIp;
use crate::service::console as service;
use crate::state::AppState;

/// `GET /admin`
pub async fn to_console() -> Redirect {
    Redirect::permanent("/admin/")
}

/// `GET /admin/static/console.css`
pub async fn stylesheet() -> Response {
    let mut r = STYLESHEET.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    signed_out: Option<String>,
}

/// Only a path of the console is a place to go back to after signing in.
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with("/admin/") && !next.starts_with("//") && !next.contains('\\');
    if ok {
        next
    } else {
        "/admin/"
    }
}

/// `GET /admin/login/`
pub async fn login_form(Query(q): Query<LoginQuery>) -> Result<Response, ConsoleError> {
    let ctx = serde_json::json!({
        "next": safe_next(&q.next), "signed_out": q.signed_out.is_some(), "username": "",
    });
    Ok(public_page("login.html", StatusCode::OK, ctx)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /admin/login/`: the API login's throttled check, then ADMINs only.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, ConsoleError> {
    if !same_origin(&state.config, &headers) {
        return Err(refusal(
            "This sign-in did not come from this console's page.",
        ));
    }
    match service::sign_in(&state, &form.username, &form.password, ip).await {
        Ok(done) => {
            let mut r = Redirect::to(safe_next(&form.next)).into_response();
            let cookie = set_cookie(&state.config, &done.cookie);
            r.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(r)
        }
        Err(e) if e.status().is_client_error() => {
            let ctx = serde_json::json!({
                "next": safe_next(&form.next), "username": form.username, "error": message_of(&e),
            });
            Ok(public_page("login.html", e.status(), ctx)?.into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/logout/`
pub async fn logout(
    State(state): State<AppState>,
    ConsoleForm(s, _): ConsoleForm<std::collections::HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    service::sign_out(&state, &s).await?;
    let mut r = Redirect::to("/admin/login/?signed_out=1").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(&state.config));
    Ok(r)
}

/// `GET /admin/`
pub async fn dashboard(
    State(state): State<AppState>,
    Console(s): Console,
) -> Result<Response, ConsoleError> {
    let figures = crate::service::console_dashboard::figures(&state).await?;
    let chart = super::chart::draw(&figures.days);
    let mut ctx = serde_json::to_value(&figures).map_err(crate::error::Error::internal)?;
    ctx["chart"] = serde_json::to_value(chart).map_err(crate::error::Error::internal)?;
    Ok(page(&s, "dashboard.html", "dashboard", ctx)?.into_response())
}
