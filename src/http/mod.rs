//! The HTTP surface: the router with the original's paths, and the plumbing every route shares
//! (trailing slashes, JSON 404/405, ids in paths).

pub mod auth;
pub mod body;
pub mod client_ip;
pub mod console;
pub mod extract;
pub mod health;
pub mod hosts;
pub mod middleware;
pub mod notifications;
pub mod openapi;
pub mod pagination;
pub mod preferences;
pub mod profiles;
pub mod realtime;
pub mod tickets;
pub mod users;
pub mod webhooks;
pub mod whatsapp;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::error::Error;
use crate::state::AppState;

/// Every route of the API, with the original's trailing slashes.
pub fn api_router(_config: &crate::config::Config) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/api/auth/login/",
            post(auth::login).layer(auth::no_store()),
        )
        .route(
            "/api/auth/refresh/",
            post(auth::refresh).layer(auth::no_store()),
        )
        .route("/api/users/", get(users::list).post(users::create))
        .route("/api/users/by_role/", get(users::by_role))
        .route(
            "/api/users/{id}/",
            get(users::retrieve)
                .put(users::update)
                .patch(users::partial_update)
                .delete(users::destroy),
        )
        .route("/api/users/{id}/activate/", post(users::activate))
        .route("/api/users/{id}/deactivate/", post(users::deactivate))
        .route(
            "/api/users/{id}/notifications/",
            get(preferences::retrieve_user).put(preferences::update_user),
        )
        .route("/api/profiles/", get(profiles::list))
        .route("/api/profiles/{id}/", get(profiles::retrieve))
        .route(
            "/api/profile/update/",
            put(profiles::update_self).patch(profiles::partial_update_self),
        )
        .route(
            "/api/profile/notifications/",
            get(preferences::retrieve_own).put(preferences::update_own),
        )
        .merge(ticket_routes())
        .route("/api/notifications/", get(notifications::list))
        .route(
            "/api/notifications/unread_count/",
            get(notifications::unread_count),
        )
        .route("/api/notifications/unread/", get(notifications::unread))
        .route(
            "/api/notifications/mark_all_as_read/",
            post(notifications::mark_all_as_read),
        )
        .route("/api/notifications/stats/", get(notifications::stats))
        .route("/api/notifications/preview/", get(notifications::preview))
        .route("/api/notifications/stream/", get(realtime::stream))
        .route("/ws/notifications/", get(realtime::websocket))
        .route(
            "/api/notifications/retry_failed/",
            post(notifications::retry_failed),
        )
        .route("/api/notifications/{id}/", get(notifications::retrieve))
        .route(
            "/api/notifications/{id}/mark_as_read/",
            post(notifications::mark_as_read),
        )
        .route("/api/notifications/{id}/retry/", post(notifications::retry))
        .route(
            "/api/webhooks/twilio/status/",
            post(webhooks::twilio_status),
        )
        .route(
            "/api/webhooks/twilio/inbound/",
            post(webhooks::inbound::twilio_inbound),
        )
        .route("/api/whatsapp/messages/", get(whatsapp::messages))
        .route(
            "/api/webhooks/meta/",
            get(webhooks::meta_verify).post(webhooks::meta_events),
        )
        .merge(openapi::routes())
        .merge(console::routes())
}

/// The ticket viewset; the design card's short names are aliases of the DRF actions, each with
/// its own documented handler.
/// Uploads stream their file past the general body limit, within `MAX_ATTACHMENT_BYTES`
/// (`tickets::upload`).
fn ticket_routes() -> Router<AppState> {
    Router::new()
        .route("/api/tickets/", get(tickets::list).post(tickets::create))
        .route("/api/tickets/developers/", get(tickets::developers))
        .route(
            "/api/tickets/{id}/",
            get(tickets::retrieve)
                .put(tickets::update)
                .patch(tickets::partial_update)
                .delete(tickets::destroy),
        )
        .route(
            "/api/tickets/{id}/open_ticket/",
            post(tickets::actions::open_ticket),
        )
        .route("/api/tickets/{id}/open/", post(tickets::actions::open))
        .route("/api/tickets/{id}/assign/", post(tickets::actions::assign))
        .route(
            "/api/tickets/{id}/start_work/",
            post(tickets::actions::start_work),
        )
        .route("/api/tickets/{id}/start/", post(tickets::actions::start))
        .route(
            "/api/tickets/{id}/finish_work/",
            post(tickets::actions::finish_work),
        )
        .route("/api/tickets/{id}/finish/", post(tickets::actions::finish))
        .route(
            "/api/tickets/{id}/approve/",
            post(tickets::actions::approve),
        )
        .route("/api/tickets/{id}/close/", post(tickets::actions::close))
        .route("/api/tickets/{id}/reject/", post(tickets::actions::reject))
        .route(
            "/api/tickets/{id}/add_comment/",
            post(tickets::actions::add_comment),
        )
        .route(
            "/api/tickets/{id}/add_attachment/",
            post(tickets::attachments::add_attachment),
        )
        .route(
            "/api/tickets/{id}/get_attachments/",
            get(tickets::attachments::get_attachments),
        )
        .route(
            "/api/tickets/{id}/delete_attachment/{attachment_id}/",
            delete(tickets::attachments::delete_attachment),
        )
        .route(
            "/api/tickets/{id}/attachments/{attachment_id}/download/",
            get(tickets::attachments::download_attachment),
        )
}

/// Unknown routes answer JSON, not Django's HTML page.
pub async fn not_found() -> Error {
    Error::NoSuchRoute
}

/// DRF authenticates (and checks class permissions) before it answers 405, so an anonymous
/// caller learns nothing of the route. SimpleJWT's token views authenticate nobody.
pub async fn method_not_allowed(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Error {
    let path = uri.path();
    if path.starts_with("/api/auth/")
        || path.starts_with("/api/webhooks/")
        || !path.starts_with("/api/")
    {
        return Error::MethodNotAllowed(method);
    }
    let user = match crate::http::extract::bearer_token(&headers) {
        Err(e) => return e,
        Ok(None) => return Error::Unauthenticated,
        Ok(Some(token)) => match crate::http::extract::authenticate(&state, &token).await {
            Ok(user) => user,
            Err(e) => return e,
        },
    };
    // The users viewset's admin-only class permission runs before the handler lookup.
    if path.starts_with("/api/users/") && !user.is_admin() {
        return Error::PermissionDenied;
    }
    Error::MethodNotAllowed(method)
}

/// Serves `/api/x` as `/api/x/`: the original redirected (losing POST bodies); we just answer.
pub fn append_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    let needs = (path.starts_with("/api/") || path == "/api" || path.starts_with("/ws/") || path == "/ws")
            && !path.ends_with('/')
            // The docs page redirects to its slash: its relative URLs need it.
            && path != "/api/docs";
    if needs {
        let pq = match req.uri().query() {
            Some(q) => format!("{}/?{}", path, q),
            None => format!("{}/", path),
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}
