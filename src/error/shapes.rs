//! The error body shapes (contract §1.3), written by [`crate::error::Error`]'s `IntoResponse`
//! and described by the same structs in the OpenAPI document.

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::schema::{AnyOfBuilder, Ref, Schema};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::domain::ticket::Status;

/// `{"detail": str}`: 401/403/404/405/406/408/413/415, parse errors, invalid page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"detail": "No Ticket matches the given query."}))]
pub struct Detail {
    pub detail: String,
}

impl Detail {
    pub fn new(detail: &str) -> Detail {
        Detail {
            detail: detail.to_string(),
        }
    }
}

/// `{"detail": str, "code": str}`: refresh token failures, inactive or deleted user, malformed
/// `Authorization` header.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"detail": "Token is blacklisted", "code": "token_not_valid"}))]
pub struct DetailCode {
    pub detail: String,
    pub code: String,
}

/// One entry of [`TokenNotValid::messages`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenMessage {
    #[schema(example = "AccessToken")]
    pub token_class: String,
    #[schema(example = "access")]
    pub token_type: String,
    /// `Token is invalid`, `Token is expired`, `Token has wrong type` or `Token is blacklisted`
    /// (issued before a deactivation).
    #[schema(example = "Token is invalid")]
    pub message: String,
}

/// An invalid, expired or wrong-type access token (SimpleJWT's shape).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"detail": "Given token not valid for any token type", "code": "token_not_valid", "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}]}))]
pub struct TokenNotValid {
    pub detail: String,
    pub code: String,
    pub messages: Vec<TokenMessage>,
}

/// Serializer field errors: each key is a field (or `non_field_errors`), each value the list of
/// messages; keys follow the serializer's field order. Per-item errors inside a list field are an
/// object keyed by the string index (`{"assigned_to": {"0": ["A valid integer is required."]}}`).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(pub Value);

impl PartialSchema for FieldErrors {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        let messages = || ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String));
        let keyed = |inner: Schema| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(inner))
        };
        let messages_or_keyed = |inner: Schema| {
            Schema::OneOf(
                OneOfBuilder::new()
                    .item(messages())
                    .item(keyed(inner))
                    .build(),
            )
        };
        // Two levels of keys at most: a dict of dicts (`{"events": {"ticket_created":
        // {"SYSTEM": [...]}}}`, the notification preferences) is the deepest body.
        let innermost = Schema::Array(messages().build());
        keyed(messages_or_keyed(messages_or_keyed(innermost)))
            .description(Some("Field errors: `{\"<field>\": [\"<message>\", ...], ...}`."))
            .examples([json!({"title": ["This field is required."], "description": ["This field is required."]})])
            .into()
    }
}

impl ToSchema for FieldErrors {}

/// `{"error": str}`: the hand-written errors of the views (exact strings per endpoint).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"error": "Ticket is not in NEW status"}))]
pub struct ErrorBody {
    pub error: String,
}

impl ErrorBody {
    pub fn new(error: &str) -> ErrorBody {
        ErrorBody {
            error: error.to_string(),
        }
    }
}

/// `approve` on a ticket that is not awaiting approval.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"error": "Ticket is not awaiting approval", "current_status": "IN_PROGRESS", "required_status": ["RESOLVED", "WAITING_APPROVAL"], "message": "Developer must finish work before client can approve"}))]
pub struct NotAwaitingApproval {
    pub error: String,
    pub current_status: Status,
    pub required_status: Vec<Status>,
    pub message: String,
}

/// A schema that is any of several components (a status with more than one body shape).
macro_rules! any_of {
    ($(#[$doc:meta])* $name:ident: $($part:ident)|+) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let mut any = AnyOfBuilder::new();
                $(any = any.item(Ref::from_schema_name(stringify!($part)));)+
                Schema::AnyOf(any.build()).into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                $(schemas.push(($part::name().into(), <$part as PartialSchema>::schema()));)+
            }
        }
    };
}

any_of!(
    /// `{"error": str}` from a view check, or serializer field errors.
    ErrorOrFieldErrors: ErrorBody | FieldErrors
);
any_of!(
    /// `{"detail": str}` (a body that does not parse) or field errors (a NUL byte in a field).
    DetailOrFieldErrors: Detail | FieldErrors
);
any_of!(
    /// `{"detail": str}` (no such ticket) or `{"error": str}` (no such attachment).
    DetailOrError: Detail | ErrorBody
);
any_of!(
    /// A refused refresh: `{"detail", "code"}`, or `{"detail"}` for an inactive user.
    RefreshRefused: DetailCode | Detail
);
any_of!(
    /// A 401 from the authentication layer.
    NotAuthenticated: Detail | DetailCode | TokenNotValid
);
