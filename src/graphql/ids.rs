//! Opaque global IDs: `base64("Course:42")`. Clients treat them as strings; the type
//! name inside lets `node(id:)` find the right table.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{AppError, AppResult};

/// The type names inside global IDs: the GraphQL names of the types that implement
/// `Node` (a test checks each is a type of the schema, so a rename cannot split them).
pub mod type_name {
    /// `User`.
    pub const USER: &str = "User";
    /// `Creator`.
    pub const CREATOR: &str = "Creator";
    /// `Course`.
    pub const COURSE: &str = "Course";
    /// `Lesson`.
    pub const LESSON: &str = "Lesson";
    /// `Livestream`.
    pub const LIVESTREAM: &str = "Livestream";
    /// `CommunityGroup`.
    pub const COMMUNITY_GROUP: &str = "CommunityGroup";
    /// `GroupPost`.
    pub const GROUP_POST: &str = "GroupPost";
    /// `Order`.
    pub const ORDER: &str = "Order";
    /// `Entitlement`.
    pub const ENTITLEMENT: &str = "Entitlement";
    /// `Rating`.
    pub const RATING: &str = "Rating";
    /// `Bundle`.
    pub const BUNDLE: &str = "Bundle";
    /// `MembershipPlan`.
    pub const MEMBERSHIP_PLAN: &str = "MembershipPlan";
    /// `Coupon`.
    pub const COUPON: &str = "Coupon";
    /// `UserCoupon` (a learner's copy of a coupon).
    pub const USER_COUPON: &str = "UserCoupon";
    /// `Notification` (an outbox message, admins only).
    pub const NOTIFICATION: &str = "Notification";
    /// `LivestreamMessage` (not a `Node`: messages are read through their livestream).
    pub const LIVESTREAM_MESSAGE: &str = "LivestreamMessage";
    /// `GroupReply` (not a `Node`: replies are read through their post).
    pub const GROUP_REPLY: &str = "GroupReply";
    /// `PaidQuestion`.
    pub const PAID_QUESTION: &str = "PaidQuestion";
    /// `PostReport` (not a `Node`: reports are read by admins through `postReports`).
    pub const POST_REPORT: &str = "PostReport";
    /// Every one of them.
    pub const ALL: [&str; 16] = [
        USER,
        CREATOR,
        COURSE,
        LESSON,
        LIVESTREAM,
        COMMUNITY_GROUP,
        GROUP_POST,
        ORDER,
        ENTITLEMENT,
        RATING,
        NOTIFICATION,
        COUPON,
        USER_COUPON,
        BUNDLE,
        MEMBERSHIP_PLAN,
        PAID_QUESTION,
    ];
}

/// The global ID of a row of type `type_name`.
pub fn encode(type_name: &str, id: i64) -> ID {
    // Assembled on the stack and encoded in one allocation: an answer can carry
    // hundreds of IDs, and `format!` would add an allocation and the formatting machinery.
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(id).as_bytes();
    let length = type_name.len() + 1 + digits.len();
    let mut plain = [0u8; 64];
    let Some(buffer) = plain.get_mut(..length) else {
        return ID(STANDARD.encode(format!("{type_name}:{id}")));
    };
    let (name, rest) = buffer.split_at_mut(type_name.len());
    name.copy_from_slice(type_name.as_bytes());
    rest[0] = b':';
    rest[1..].copy_from_slice(digits);
    ID(STANDARD.encode(buffer))
}

/// Splits a global ID into its type name and database id.
pub fn decode_any(id: &ID) -> AppResult<(String, i64)> {
    let invalid = || AppError::BadUserInput(format!("invalid ID {:?}", id.as_str()));
    let bytes = STANDARD.decode(id.as_str()).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (type_name, raw) = text.split_once(':').ok_or_else(invalid)?;
    let number: i64 = raw.parse().map_err(|_| invalid())?;
    if number <= 0 || type_name.is_empty() {
        return Err(invalid());
    }
    Ok((type_name.to_owned(), number))
}

/// The database id inside a global ID that must name a `type_name`.
pub fn decode(id: &ID, type_name: &str) -> AppResult<i64> {
    match decode_any(id)? {
        (found, number) if found == type_name => Ok(number),
        (found, _) => Err(AppError::BadUserInput(format!(
            "expected the ID of a {type_name}, got the ID of a {found}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let id = encode("Course", 42);
        assert_eq!(id.as_str(), "Q291cnNlOjQy");
        assert_eq!(decode(&id, "Course").unwrap(), 42);
        assert!(decode(&id, "User").is_err());
        let long_name = "X".repeat(100);
        assert_eq!(decode(&encode(&long_name, -7), &long_name).ok(), None);
        assert_eq!(decode_any(&encode(&long_name, 7)).unwrap(), (long_name, 7));
    }

    #[test]
    fn every_id_type_name_is_a_node_type_of_the_schema() {
        let sdl = crate::graphql::sdl();
        for name in type_name::ALL {
            assert!(
                sdl.contains(&format!("type {name} implements Node")),
                "{name} is not a Node type of the schema"
            );
        }
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in ["", "!!!", "Q291cnNl", "Q291cnNlOi0x", "Q291cnNlOmFi"] {
            assert!(decode_any(&ID(bad.into())).is_err(), "case {bad:?}");
        }
    }
}
