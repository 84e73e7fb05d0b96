//! One error type for the whole service, mapped to a stable `extensions.code`.
//!
//! Only the messages written here reach clients. Internal causes (database errors
//! carrying SQL or connection strings, I/O errors) are logged where they are turned into
//! a GraphQL error and the client sees "internal error" with its request id.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

/// What went wrong, in terms a client can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// The acting user may not do or see this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The thing asked for does not exist (or is not visible to the actor).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// An argument is malformed (bad ID, bad cursor, page too large...).
    #[error("{0}")]
    BadUserInput(String),
    /// A mutation's input was refused field by field; mutations report these as
    /// `userErrors` and write nothing.
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("invalid input"))]
    Invalid(Vec<FieldError>),
    /// Anything unexpected; the cause is logged, never sent.
    #[error("internal error")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

/// The `extensions.code` strings clients see: one place, so the GraphQL layer, the HTTP
/// front and the docs cannot drift apart.
pub mod code {
    /// No valid credentials.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// Not allowed for this actor.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// No such thing (or not visible).
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// A malformed argument, or a value that does not coerce at a field.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// Anything unexpected; the answer carries a `requestId`.
    pub const INTERNAL: &str = "INTERNAL";
    /// The document did not parse or validate (or broke a limit).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// Refused before GraphQL ran: the body is not a GraphQL request.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// Refused before GraphQL ran: a JSON array of operations.
    pub const BATCH_NOT_SUPPORTED: &str = "BATCH_NOT_SUPPORTED";
    /// Refused before GraphQL ran: the server holds as many WebSockets as it may.
    pub const TOO_MANY_CONNECTIONS: &str = "TOO_MANY_CONNECTIONS";
    /// Refused before GraphQL ran: not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// Refused before GraphQL ran: `Accept` takes no media type we answer in.
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    /// Refused before GraphQL ran: a mutation over GET.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
}

impl AppError {
    /// The stable machine-readable code sent in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => code::UNAUTHENTICATED,
            AppError::Forbidden(_) => code::FORBIDDEN,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::BadUserInput(_) | AppError::Invalid(_) => code::BAD_USER_INPUT,
            AppError::Internal(_) => code::INTERNAL,
        }
    }

    /// Wraps any unexpected failure.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Arc::new(source))
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(source: sea_orm::DbErr) -> Self {
        AppError::internal(source)
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        if let AppError::Internal(source) = &error {
            // The span of the request carries its id, so the log line can be matched
            // with the `requestId` the client receives.
            tracing::error!(error = %source, "internal error");
        }
        let code = error.code();
        async_graphql::Error::new(error.to_string()).extend_with(|_, extensions| {
            extensions.set("code", code);
        })
    }
}

/// Result of domain and resolver code.
pub type AppResult<T> = Result<T, AppError>;

/// Why an input was refused, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserErrorCode {
    /// Malformed (bad URL, bad ID, wrong kind of thing).
    Invalid,
    /// A required value is missing or blank.
    Required,
    /// Too long.
    TooLong,
    /// A number or time outside its allowed range.
    OutOfRange,
    /// A referenced object does not exist.
    NotFound,
    /// The object is not in a state that allows this.
    InvalidState,
    /// The product must be bought, not joined.
    PaymentRequired,
    /// WeChat: the login code is invalid or used.
    InvalidCode,
    /// WeChat: too many attempts.
    RateLimited,
    /// WeChat: risk control refused the user.
    RiskyUser,
    /// WeChat answered -1 (busy): retry shortly.
    WechatBusy,
    /// WeChat is unreachable or answered something unexpected.
    WechatUnavailable,
    /// A refresh token is unknown, spent, expired or revoked.
    InvalidToken,
    /// The viewer already has access to the product.
    AlreadyOwned,
    /// The product cannot be bought (unpublished, ended, own product).
    NotForSale,
    /// The payment provider could not be reached; retry with the same idempotency key.
    PaymentUnavailable,
    /// The payment provider refused the refund; the order stays paid.
    RefundRefused,
    /// Too many requests in a short time (chat messages, WeChat logins): wait and retry.
    TooFast,
    /// A moderator muted the viewer in this live room.
    Muted,
    /// Two accounts of one person cannot be joined (both are creators, say); an admin
    /// has to look.
    AccountConflict,
    /// WeChat: the official-account sign-in code was used already.
    CodeUsed,
    /// WeChat: a page snapshot's virtual account, which is not the user.
    SnapshotUser,
    /// The console's QR sign-in found no admin or creator for this WeChat account.
    NotStaff,
    /// The coupon's validity window has passed.
    CouponExpired,
    /// The coupon does not apply to this product or amount (scope, minimum spend, not
    /// started, switched off, held by another order).
    CouponNotApplicable,
    /// Every copy of the coupon has been handed out.
    CouponExhausted,
    /// The learner already holds as many copies as the coupon allows per person.
    CouponLimitReached,
    /// The value is taken by another object (a coupon code).
    Taken,
    /// As many as allowed already (three pinned posts in a group).
    LimitReached,
    /// The time to change it has passed (a post is edited within 24 hours).
    EditWindowClosed,
    /// Checked in to this challenge today already: come back tomorrow.
    AlreadyCheckedIn,
}

/// One refused input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path to the field in the mutation's input, e.g. `["input", "title"]`.
    pub field: Vec<String>,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs.
    pub code: UserErrorCode,
}

impl FieldError {
    /// An error on `input.<field>`.
    pub fn new(field: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        FieldError {
            field: vec!["input".to_owned(), field.to_owned()],
            message: message.into(),
            code,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Invalid(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(error: AppError) -> (String, String) {
        let gql: async_graphql::Error = error.into();
        let code = gql
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|v| v.to_string())
            .unwrap_or_default();
        (gql.message, code)
    }

    #[test]
    fn each_variant_maps_to_its_code() {
        let cases = [
            (AppError::Unauthenticated, "\"UNAUTHENTICATED\""),
            (AppError::Forbidden("orders are private"), "\"FORBIDDEN\""),
            (AppError::NotFound("course"), "\"NOT_FOUND\""),
            (
                AppError::BadUserInput("bad id".into()),
                "\"BAD_USER_INPUT\"",
            ),
        ];
        for (error, expected) in cases {
            let name = format!("{error:?}");
            assert_eq!(code_of(error).1, expected, "case {name}");
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let db = sea_orm::DbErr::Custom("SELECT secret FROM users; password=hunter2".into());
        let (message, code) = code_of(AppError::from(db));
        assert_eq!(message, "internal error");
        assert_eq!(code, "\"INTERNAL\"");
    }
}
