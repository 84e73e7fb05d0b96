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
    Invalid(Vec<crate::service::validation::FieldError>),
    /// Anything unexpected; the cause is logged, never sent.
    #[error("internal error")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// The stable machine-readable code sent in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput(_) | AppError::Invalid(_) => "BAD_USER_INPUT",
            AppError::Internal(_) => "INTERNAL",
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
