//! Mutation results: every mutation returns a payload with its object (null when the
//! input was refused) and `userErrors` naming each refused field.

use async_graphql::{Enum, SimpleObject};

use crate::error::{AppError, AppResult};
use crate::service::validation::FieldError;

/// Why an input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::service::validation::UserErrorCode")]
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
    /// WeChat: the login code is invalid or already used.
    InvalidCode,
    /// WeChat: too many attempts.
    RateLimited,
    /// WeChat: risk control refused the user.
    RiskyUser,
    /// WeChat answered -1 (busy): retry shortly.
    WechatBusy,
    /// WeChat is unreachable or answered something unexpected.
    WechatUnavailable,
    /// The refresh token is unknown, spent, expired or revoked.
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

/// A refused input field.
#[derive(Debug, Clone, SimpleObject)]
pub struct UserError {
    /// Path to the field in the input, e.g. `["input", "title"]`.
    pub field: Option<Vec<String>>,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs.
    pub code: UserErrorCode,
}

impl From<FieldError> for UserError {
    fn from(error: FieldError) -> Self {
        UserError {
            field: Some(error.field),
            message: error.message,
            code: error.code.into(),
        }
    }
}

/// Splits a service result into (object, userErrors); other errors stay errors.
pub fn split<T>(result: AppResult<T>) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match result {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(AppError::Invalid(errors)) => {
            Ok((None, errors.into_iter().map(UserError::from).collect()))
        }
        Err(other) => Err(other.into()),
    }
}

/// Declares a payload type `$name { $field: $ty, userErrors }` built from a service result.
macro_rules! payload {
    ($(#[$doc:meta])* $name:ident, $field:ident: $ty:ty) => {
        $(#[$doc])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            #[doc = concat!("The ", stringify!($field), "; null when the input was refused.")]
            pub $field: Option<$ty>,
            /// Each refused input field; empty on success.
            pub user_errors: Vec<$crate::graphql::payload::UserError>,
        }

        impl $name {
            /// The payload of a service result.
            pub fn from_result(
                result: $crate::error::AppResult<$ty>,
            ) -> async_graphql::Result<Self> {
                let ($field, user_errors) = $crate::graphql::payload::split(result)?;
                Ok($name { $field, user_errors })
            }
        }
    };
}

pub(crate) use payload;

/// The database id in a global ID given as input field `field`; a wrong ID is a user
/// error on that field.
pub fn input_id(id: &async_graphql::ID, type_name: &str, field: &str) -> AppResult<i64> {
    crate::graphql::ids::decode(id, type_name).map_err(|error| {
        FieldError::new(
            field,
            crate::service::validation::UserErrorCode::Invalid,
            error.to_string(),
        )
        .into()
    })
}

/// The database ids in global IDs of `type_name` given as input field `field`; any
/// wrong ID is a user error on that field.
pub fn input_ids(ids: &[async_graphql::ID], type_name: &str, field: &str) -> AppResult<Vec<i64>> {
    ids.iter()
        .map(|id| input_id(id, type_name, field))
        .collect()
}
