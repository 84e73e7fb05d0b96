//! GraphQL enums mirroring the stored ones (SCREAMING_CASE on the wire).

use async_graphql::Enum;

/// What a user may do on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::Role")]
pub enum Role {
    /// Buys and learns.
    Learner,
    /// Sells courses, livestreams and groups.
    Creator,
    /// Runs the platform.
    Admin,
}

/// Lifecycle of a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::CourseStatus")]
pub enum CourseStatus {
    /// Being written; visible to its creator and admins only.
    Draft,
    /// On sale and listed.
    Published,
    /// Withdrawn from sale; buyers keep access.
    Archived,
}

/// Medium of a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::LessonKind")]
pub enum LessonKind {
    /// A video.
    Video,
    /// An audio track.
    Audio,
    /// A text article.
    Article,
}

/// Lifecycle of a livestream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::LivestreamStatus")]
pub enum LivestreamStatus {
    /// Announced, not started.
    Scheduled,
    /// On air.
    Live,
    /// Finished; may have a replay.
    Ended,
    /// Called off.
    Cancelled,
}

/// Where a refund is at the payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::RefundStatus")]
pub enum RefundStatus {
    /// Accepted by the provider, not settled yet.
    Processing,
    /// Money returned to the buyer.
    Success,
    /// The provider could not return the money.
    Abnormal,
    /// The refund was closed without effect.
    Closed,
}

/// Lifecycle of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::OrderStatus")]
pub enum OrderStatus {
    /// Waiting for payment.
    Pending,
    /// Paid; access granted.
    Paid,
    /// A refund is in flight.
    Refunding,
    /// Refunded; access revoked.
    Refunded,
    /// Cancelled or expired unpaid.
    Closed,
}

/// A kind of product.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ProductKind")]
pub enum ProductKind {
    /// A course.
    Course,
    /// A livestream ticket.
    Livestream,
    /// A group membership.
    Group,
    /// A bundle of courses.
    Bundle,
    /// A period of a membership plan.
    Membership,
    /// A paid question to a group's creator.
    Question,
}

/// What a group post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[graphql(remote = "entity::enums::PostKind")]
pub enum PostKind {
    /// Conversation.
    #[default]
    Talk,
    /// A question to the group or its creator.
    Question,
    /// Homework or a check-in challenge.
    Task,
    /// The creator's announcement (the group's creator and admins only).
    Announcement,
}

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

impl From<OrderDirection> for crate::service::Direction {
    fn from(value: OrderDirection) -> Self {
        match value {
            OrderDirection::Asc => crate::service::Direction::Asc,
            OrderDirection::Desc => crate::service::Direction::Desc,
        }
    }
}
