//! The one error type of the application, named by meaning, and the only place that turns an
//! error into the DRF/SimpleJWT status and body the original's clients already parse (contract
//! §1.3). The body shapes themselves are in [`shapes`], shared with the OpenAPI document.

pub mod responses;
pub mod shapes;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::db::DbError;
use crate::domain::workflow::{WorkflowError, APPROVE_TOO_EARLY, AWAITING_APPROVAL};
use shapes::{
    Detail, DetailCode, ErrorBody, FieldErrors, NotAwaitingApproval, TokenMessage, TokenNotValid,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401: no credentials came with a request that needs them.
    #[error("authentication credentials were not provided")]
    Unauthenticated,
    /// 401 for a bad access token; the message is "Token is invalid", "Token is expired" or
    /// "Token has wrong type".
    #[error("access token not valid: {0}")]
    InvalidAccessToken(&'static str),
    /// 401 with a reason and its code: inactive or deleted user, malformed `Authorization`
    /// header, a refresh token that is invalid, expired or blacklisted.
    #[error("{detail}")]
    TokenRefused {
        detail: &'static str,
        code: &'static str,
    },
    /// 401 with a reason and no code (refresh for an inactive or deleted user).
    #[error("{0}")]
    CredentialsRefused(&'static str),
    /// 403, DRF's default refusal of a permission class.
    #[error("permission denied")]
    PermissionDenied,
    /// 403 in DRF's permission shape with the check's own reason (webhook signatures).
    #[error("{0}")]
    PermissionDeniedBecause(String),
    /// 403 with a view's own message (hand-written checks in the views).
    #[error("{0}")]
    Refused(String),
    /// 404: no row of this model (its Django name) is visible to the caller.
    #[error("no {0} matches the given query")]
    NotFound(&'static str),
    /// 404 without a model: an unknown route, or a path id that is not a number (DRF answers
    /// both alike).
    #[error("not found")]
    NoSuchRoute,
    /// 404 with a view's own message.
    #[error("{0}")]
    Missing(String),
    /// 404 for a page number out of range or not a number.
    #[error("invalid page")]
    InvalidPage,
    /// 400 with a view's own message.
    #[error("{0}")]
    Invalid(String),
    /// 400: the request's `Host` is not in `ALLOWED_HOSTS` (Django's `DisallowedHost`).
    #[error("host {0:?} not allowed")]
    DisallowedHost(String),
    /// 400: the body could not be parsed (JSON or multipart); the parser's message.
    #[error("{0}")]
    MalformedBody(String),
    /// 400 with serializer field errors: `{"field": ["message", ...], ...}`.
    #[error("validation failed: {0}")]
    Validation(Value),
    /// A workflow step the state machine refused.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("method {0} not allowed")]
    MethodNotAllowed(Method),
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    #[error("request body too large")]
    PayloadTooLarge(String),
    /// 429 in DRF's words, with `Retry-After`.
    #[error("throttled for {0} s")]
    Throttled(u64),
    /// 408: the request outlived `REQUEST_TIMEOUT`.
    #[error("request timed out")]
    TimedOut,
    #[error("database error: {0}")]
    Database(#[from] DbError),
    #[error("internal error: {0}")]
    Internal(String),
    /// 409: a workflow step kept losing the optimistic-update race.
    #[error("the ticket kept changing under the request")]
    TicketBusy,
    /// 503 with `Retry-After`: too many heavy requests of this kind (`what`: "uploads",
    /// "attachment downloads") are in flight and none finished within the wait.
    #[error("busy with other {what}")]
    Busy {
        what: &'static str,
        retry_after: u64,
    },
    /// 409: an admin edit lost to a concurrent change.
    #[error("the ticket was changed by someone else meanwhile")]
    TicketChangedMeanwhile,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One of the body shapes of [`shapes`], as the response writes it.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Shape {
    Detail(Detail),
    DetailCode(DetailCode),
    TokenNotValid(TokenNotValid),
    Error(ErrorBody),
    NotAwaitingApproval(NotAwaitingApproval),
    Fields(FieldErrors),
}

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
            | Error::InvalidAccessToken(_)
            | Error::TokenRefused { .. }
            | Error::CredentialsRefused(_) => StatusCode::UNAUTHORIZED,
            Error::PermissionDenied | Error::PermissionDeniedBecause(_) | Error::Refused(_) => {
                StatusCode::FORBIDDEN
            }
            Error::NotFound(_) | Error::NoSuchRoute | Error::Missing(_) | Error::InvalidPage => {
                StatusCode::NOT_FOUND
            }
            Error::Invalid(_)
            | Error::MalformedBody(_)
            | Error::Validation(_)
            | Error::DisallowedHost(_) => StatusCode::BAD_REQUEST,
            Error::Workflow(e) if e.is_refusal() => StatusCode::FORBIDDEN,
            Error::Workflow(_) => StatusCode::BAD_REQUEST,
            Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::TimedOut => StatusCode::REQUEST_TIMEOUT,
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::TicketBusy | Error::TicketChangedMeanwhile => StatusCode::CONFLICT,
            Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The JSON body the original answered with.
    pub fn body(&self) -> Value {
        serde_json::to_value(self.shape()).unwrap_or(Value::Null)
    }

    fn shape(&self) -> Shape {
        let detail = |d: &str| Shape::Detail(Detail::new(d));
        match self {
            Error::Unauthenticated => detail("Authentication credentials were not provided."),
            Error::InvalidAccessToken(message) => Shape::TokenNotValid(TokenNotValid {
                detail: "Given token not valid for any token type".into(),
                code: "token_not_valid".into(),
                messages: vec![TokenMessage {
                    token_class: "AccessToken".into(),
                    token_type: "access".into(),
                    message: (*message).into(),
                }],
            }),
            Error::TokenRefused { detail, code } => Shape::DetailCode(DetailCode {
                detail: (*detail).into(),
                code: (*code).into(),
            }),
            Error::CredentialsRefused(d) => detail(d),
            Error::PermissionDenied => detail("You do not have permission to perform this action."),
            Error::PermissionDeniedBecause(d) | Error::MalformedBody(d) => detail(d),
            Error::PayloadTooLarge(d) => detail(d),
            Error::Refused(e) | Error::Invalid(e) | Error::Missing(e) => {
                Shape::Error(ErrorBody::new(e))
            }
            Error::NotFound(model) => detail(&format!("No {model} matches the given query.")),
            Error::NoSuchRoute => detail("Not found."),
            Error::InvalidPage => detail("Invalid page."),
            Error::Validation(v) => Shape::Fields(FieldErrors(v.clone())),
            Error::Workflow(e) => workflow_shape(e),
            Error::MethodNotAllowed(m) => detail(&format!(
                "Method \"{}\" not allowed.",
                m.as_str().to_uppercase()
            )),
            Error::UnsupportedMediaType(t) => {
                detail(&format!("Unsupported media type \"{t}\" in request."))
            }
            Error::Throttled(wait) => detail(&format!(
                "Request was throttled. Expected available in {wait} second{}.",
                if *wait == 1 { "" } else { "s" }
            )),
            Error::TimedOut => detail("Request timed out."),
            Error::DisallowedHost(host) => detail(&format!(
                "Invalid HTTP_HOST header: '{host}'. You may need to add it to ALLOWED_HOSTS."
            )),
            Error::Database(_) | Error::Internal(_) => detail("A server error occurred."),
            Error::Busy { what, retry_after } => detail(&format!(
                "The server is busy with other {what}. Try again in {retry_after} second{}.",
                if *retry_after == 1 { "" } else { "s" }
            )),
            Error::TicketBusy => {
                detail("The ticket is being changed by others right now. Try again.")
            }
            Error::TicketChangedMeanwhile => detail(
                "The ticket was changed by someone else at the same time. Reload it and try again.",
            ),
        }
    }
}

/// The state machine's refusals in the original's words: its own 403s and status 400s as
/// `{"error"}`, the developer's create refusal as `{"detail"}` (a DRF permission), approve's
/// four-key body, and body problems as serializer field errors.
fn workflow_shape(e: &WorkflowError) -> Shape {
    let text = e.to_string();
    if let Some(field) = e.field() {
        let mut m = Map::new();
        m.insert(field.to_string(), json!([text]));
        return Shape::Fields(FieldErrors(Value::Object(m)));
    }
    match e {
        WorkflowError::DeveloperCannotCreate => Shape::Detail(Detail::new(&text)),
        WorkflowError::NotAwaitingApproval { current } => {
            Shape::NotAwaitingApproval(NotAwaitingApproval {
                error: text,
                current_status: *current,
                required_status: AWAITING_APPROVAL.to_vec(),
                message: APPROVE_TOO_EARLY.into(),
            })
        }
        _ => Shape::Error(ErrorBody::new(&text)),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Error::Busy { what, .. } = &self {
            tracing::warn!(what, "refused: too many heavy requests in flight");
        } else if status.is_server_error() {
            // The cause goes to the log; the client gets a generic body.
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = (status, axum::Json(self.shape())).into_response();
        if let Error::Throttled(wait)
        | Error::Busy {
            retry_after: wait, ..
        } = self
        {
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

#[cfg(test)]
mod tests;
