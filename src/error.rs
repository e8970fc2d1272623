//! The one error type of the HTTP layer; `IntoResponse` writes the DRF/SimpleJWT body shapes
//! the original's clients already parse (contract §1.3).

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401 "Authentication credentials were not provided."
    #[error("authentication credentials were not provided")]
    Unauthenticated,
    /// 401 for a bad access token; the message is "Token is invalid", "Token is expired" or
    /// "Token has wrong type".
    #[error("access token not valid: {0}")]
    AccessToken(&'static str),
    /// 401 `{"detail", "code"}` shapes: inactive or deleted user, bad header, refresh failures.
    #[error("{detail}")]
    TokenDetail {
        detail: &'static str,
        code: &'static str,
    },
    /// 401 `{"detail"}` without a code (refresh for an inactive user).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403 `{"detail": "You do not have permission to perform this action."}`.
    #[error("permission denied")]
    PermissionDenied,
    /// 403 with a custom `detail`.
    #[error("{0}")]
    ForbiddenDetail(String),
    /// 403 `{"error": ...}` from hand-written view checks.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `{"detail": "No <Model> matches the given query."}`.
    #[error("no {0} matches the given query")]
    NotFound(&'static str),
    /// 404 `{"detail": "Not found."}` (non-numeric ids, unknown routes).
    #[error("not found")]
    NotFoundPlain,
    /// 404 `{"error": ...}`.
    #[error("{0}")]
    NotFoundError(String),
    /// 404 `{"detail": "Invalid page."}`.
    #[error("invalid page")]
    InvalidPage,
    /// 400 `{"error": ...}`.
    #[error("{0}")]
    BadRequest(String),
    /// 400 `{"detail": ...}` (JSON parse errors).
    #[error("{0}")]
    BadRequestDetail(String),
    /// 400 with a field-error map (or any other body the contract spells out).
    #[error("validation failed: {0}")]
    Validation(Value),
    /// Any status with a body the contract spells out.
    #[error("{0}: {1}")]
    Custom(StatusCode, Value),
    #[error("method {0} not allowed")]
    MethodNotAllowed(Method),
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    #[error("request body too large")]
    PayloadTooLarge(String),
    /// 429 in DRF's words, with `Retry-After`.
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
    /// 409: a workflow step kept losing the optimistic-update race.
    #[error("the ticket kept changing under the request")]
    TicketBusy,
    /// 409: an admin edit lost to a concurrent change.
    #[error("the ticket was changed by someone else meanwhile")]
    TicketChangedMeanwhile,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }

    /// A single-field validation error: `{"field": ["message"]}`.
    pub fn field(field: &str, message: impl Into<String>) -> Error {
        let mut m = Map::new();
        m.insert(field.to_string(), json!([message.into()]));
        Error::Validation(Value::Object(m))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthenticated
            | Error::AccessToken(_)
            | Error::TokenDetail { .. }
            | Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::PermissionDenied | Error::ForbiddenDetail(_) | Error::Forbidden(_) => {
                StatusCode::FORBIDDEN
            }
            Error::NotFound(_)
            | Error::NotFoundPlain
            | Error::NotFoundError(_)
            | Error::InvalidPage => StatusCode::NOT_FOUND,
            Error::BadRequest(_) | Error::BadRequestDetail(_) | Error::Validation(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::Custom(s, _) => *s,
            Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::TicketBusy | Error::TicketChangedMeanwhile => StatusCode::CONFLICT,
        }
    }

    pub fn body(&self) -> Value {
        match self {
            Error::Unauthenticated => {
                json!({"detail": "Authentication credentials were not provided."})
            }
            Error::AccessToken(message) => json!({
                "detail": "Given token not valid for any token type",
                "code": "token_not_valid",
                "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
            }),
            Error::TokenDetail { detail, code } => json!({"detail": detail, "code": code}),
            Error::Unauthorized(detail) => json!({"detail": detail}),
            Error::PermissionDenied => {
                json!({"detail": "You do not have permission to perform this action."})
            }
            Error::ForbiddenDetail(d) => json!({"detail": d}),
            Error::Forbidden(e) | Error::BadRequest(e) | Error::NotFoundError(e) => {
                json!({"error": e})
            }
            Error::NotFound(model) => {
                json!({"detail": format!("No {model} matches the given query.")})
            }
            Error::NotFoundPlain => json!({"detail": "Not found."}),
            Error::InvalidPage => json!({"detail": "Invalid page."}),
            Error::BadRequestDetail(d) => json!({"detail": d}),
            Error::Validation(v) | Error::Custom(_, v) => v.clone(),
            Error::MethodNotAllowed(m) => {
                json!({"detail": format!("Method \"{}\" not allowed.", m.as_str().to_uppercase())})
            }
            Error::UnsupportedMediaType(t) => {
                json!({"detail": format!("Unsupported media type \"{t}\" in request.")})
            }
            Error::PayloadTooLarge(d) => json!({"detail": d}),
            Error::Throttled(wait) => json!({"detail": format!(
                "Request was throttled. Expected available in {wait} second{}.",
                if *wait == 1 { "" } else { "s" }
            )}),
            Error::Database(_) | Error::Internal(_) => {
                json!({"detail": "A server error occurred."})
            }
            Error::TicketBusy => {
                json!({"detail": "The ticket is being changed by others right now. Try again."})
            }
            Error::TicketChangedMeanwhile => json!({
                "detail": "The ticket was changed by someone else at the same time. Reload it and try again."
            }),
        }
    }
}

impl From<crate::domain::workflow::WorkflowError> for Error {
    fn from(e: crate::domain::workflow::WorkflowError) -> Error {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        Error::Custom(status, e.body())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The cause goes to the log; the client gets a generic body.
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let Error::Throttled(wait) = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            );
        }
        resp
    }
}
