//! The admin console (`/admin/`): server-rendered pages for the jobs the original did in Django
//! admin, on the same service functions as the JSON API. No script; plain forms, each carrying
//! its session's CSRF token and checked for its `Origin` (`session`). Not part of the API's
//! OpenAPI document.

mod chart;
mod diagnostics;
mod notifications;
mod pager;
mod pages;
mod render;
mod session;
mod ticket_view;
mod tickets;
mod users;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use session::COOKIE;

/// Every console route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(pages::to_console))
        .route("/admin/", get(pages::dashboard))
        .route("/admin/static/console.css", get(pages::stylesheet))
        .route("/admin/login/", get(pages::login_form).post(pages::login))
        .route("/admin/logout/", post(pages::logout))
        .route("/admin/users/", get(users::list))
        .route(
            "/admin/users/new/",
            get(users::new_form).post(users::create),
        )
        .route(
            "/admin/users/{id}/",
            get(users::retrieve).post(users::update),
        )
        .route("/admin/users/{id}/active/", post(users::set_active))
        .route("/admin/users/{id}/password/", post(users::set_password))
        .route("/admin/notifications/", get(notifications::list))
        .route(
            "/admin/notifications/export.csv",
            get(notifications::export),
        )
        .route(
            "/admin/notifications/retry_failed/",
            post(notifications::retry_failed),
        )
        .route(
            "/admin/notifications/{id}/retry/",
            post(notifications::retry),
        )
        .route("/admin/diagnostics/", get(diagnostics::show))
        .route(
            "/admin/diagnostics/whatsapp/",
            post(diagnostics::whatsapp_test),
        )
        .route("/admin/diagnostics/email/", post(diagnostics::email_test))
        .route("/admin/tickets/", get(tickets::list))
        .route("/admin/tickets/board/", get(tickets::board))
        .route("/admin/tickets/{id}/", get(tickets::retrieve))
        .route(
            "/admin/tickets/{id}/step/{action}/",
            post(tickets::take_step),
        )
        .route("/admin/tickets/{id}/comment/", post(tickets::comment))
        .route(
            "/admin/tickets/{id}/attachments/{attachment_id}/",
            get(tickets::download),
        )
}
