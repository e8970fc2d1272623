//! Every error's status and body, pinned: the one table of what the API answers when it refuses.

use axum::http::Method;
use serde_json::json;

use super::*;
use crate::domain::ticket::Status;
use crate::domain::workflow::ActionKind;

fn answer(e: Error) -> (u16, Value) {
    (e.status().as_u16(), e.body())
}

#[test]
fn each_error_answers_with_its_drf_status_and_body() {
    let cases = [
        (
            Error::Unauthenticated,
            401,
            json!({"detail": "Authentication credentials were not provided."}),
        ),
        (
            Error::InvalidAccessToken("Token is expired"),
            401,
            json!({"detail": "Given token not valid for any token type", "code": "token_not_valid",
                   "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is expired"}]}),
        ),
        (
            Error::TokenRefused {
                detail: "User is inactive",
                code: "user_inactive",
            },
            401,
            json!({"detail": "User is inactive", "code": "user_inactive"}),
        ),
        (
            Error::CredentialsRefused("No active account found for the given token."),
            401,
            json!({"detail": "No active account found for the given token."}),
        ),
        (
            Error::PermissionDenied,
            403,
            json!({"detail": "You do not have permission to perform this action."}),
        ),
        (
            Error::PermissionDeniedBecause("Invalid signature".into()),
            403,
            json!({"detail": "Invalid signature"}),
        ),
        (Error::Refused("no".into()), 403, json!({"error": "no"})),
        (
            Error::NotFound("Ticket"),
            404,
            json!({"detail": "No Ticket matches the given query."}),
        ),
        (Error::NoSuchRoute, 404, json!({"detail": "Not found."})),
        (
            Error::Missing("Attachment not found".into()),
            404,
            json!({"error": "Attachment not found"}),
        ),
        (Error::InvalidPage, 404, json!({"detail": "Invalid page."})),
        (Error::Invalid("bad".into()), 400, json!({"error": "bad"})),
        (
            Error::MalformedBody("JSON parse error - x".into()),
            400,
            json!({"detail": "JSON parse error - x"}),
        ),
        (
            Error::field("email", "Email already exists."),
            400,
            json!({"email": ["Email already exists."]}),
        ),
        (
            Error::MethodNotAllowed(Method::PATCH),
            405,
            json!({"detail": "Method \"PATCH\" not allowed."}),
        ),
        (
            Error::UnsupportedMediaType("text/plain".into()),
            415,
            json!({"detail": "Unsupported media type \"text/plain\" in request."}),
        ),
        (
            Error::PayloadTooLarge("Request body is too large.".into()),
            413,
            json!({"detail": "Request body is too large."}),
        ),
        (
            Error::Throttled(1),
            429,
            json!({"detail": "Request was throttled. Expected available in 1 second."}),
        ),
        (
            Error::Throttled(2),
            429,
            json!({"detail": "Request was throttled. Expected available in 2 seconds."}),
        ),
        (
            Error::TimedOut,
            408,
            json!({"detail": "Request timed out."}),
        ),
        (
            Error::internal("boom"),
            500,
            json!({"detail": "A server error occurred."}),
        ),
    ];
    for (error, status, body) in cases {
        let case = format!("{error:?}");
        assert_eq!(answer(error), (status, body), "{case}");
    }
}

#[test]
fn workflow_refusals_answer_as_the_original_views() {
    let cases = [
        (
            WorkflowError::DeveloperCannotCreate,
            403,
            json!({"detail": "Developers cannot create tickets. Only clients and admins can create tickets."}),
        ),
        (
            WorkflowError::NotAdmin {
                action: ActionKind::Assign,
            },
            403,
            json!({"error": "Only administrators can assign tickets to developers"}),
        ),
        (
            WorkflowError::NotAssigned {
                action: ActionKind::FinishWork,
            },
            403,
            json!({"error": "Only developers assigned to this ticket can finish work"}),
        ),
        (
            WorkflowError::NotCreator {
                action: ActionKind::Reject,
            },
            403,
            json!({"error": "Only the ticket creator can reject this ticket"}),
        ),
        (
            WorkflowError::WrongRole {
                action: ActionKind::Approve,
            },
            403,
            json!({"error": "Only clients or admins can approve tickets"}),
        ),
        (
            WorkflowError::WrongStatus {
                action: ActionKind::StartWork,
                current: Status::New,
                required: &[Status::Opened, Status::InProgress],
            },
            400,
            json!({"error": "Ticket cannot be started in current status"}),
        ),
        (
            WorkflowError::NotAwaitingApproval {
                current: Status::Opened,
            },
            400,
            json!({"error": "Ticket is not awaiting approval", "current_status": "OPENED",
                   "required_status": ["RESOLVED", "WAITING_APPROVAL"],
                   "message": "Developer must finish work before client can approve"}),
        ),
        (
            WorkflowError::NoDevelopers,
            400,
            json!({"assigned_to": ["At least one developer must be assigned"]}),
        ),
        (
            WorkflowError::CommentTooLong,
            400,
            json!({"comment": ["Ensure this field has no more than 2000 characters."]}),
        ),
    ];
    for (error, status, body) in cases {
        assert_eq!(answer(error.into()), (status, body), "{error:?}");
    }
}

#[test]
fn bodies_keep_the_contract_key_order() {
    let keys = |v: Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let e: Error = WorkflowError::NotAwaitingApproval {
        current: Status::New,
    }
    .into();
    assert_eq!(
        keys(e.body()),
        ["error", "current_status", "required_status", "message"]
    );
    assert_eq!(
        keys(Error::InvalidAccessToken("Token is invalid").body()),
        ["detail", "code", "messages"]
    );
}

#[test]
fn unauthorized_and_throttled_answers_carry_their_headers() {
    let resp = Error::Unauthenticated.into_response();
    assert_eq!(
        resp.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"api\""
    );
    let resp = Error::Throttled(7).into_response();
    assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
}
