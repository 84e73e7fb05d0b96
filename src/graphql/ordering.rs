//! How lists are ordered: the `orderBy` inputs, shared by the root lists and the
//! same lists nested under an object (`courses` and `creator.courses`).

use async_graphql::{Enum, InputObject};

use crate::graphql::enums::OrderDirection;
use crate::service::{courses, livestreams, ratings};

/// What the course list is ordered by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum CourseOrderField {
    /// Creation time.
    #[default]
    Newest,
    /// Price.
    Price,
    /// Bayesian-average rating (few ratings pull towards 3.5 stars).
    Rating,
    /// Paid orders.
    Sales,
}

/// Ordering of the course list.
#[derive(InputObject, Default)]
pub struct CourseOrder {
    /// Key to order by.
    #[graphql(default)]
    pub field: CourseOrderField,
    /// Direction (default DESC).
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl From<CourseOrderField> for courses::CourseSort {
    fn from(value: CourseOrderField) -> Self {
        match value {
            CourseOrderField::Newest => courses::CourseSort::Newest,
            CourseOrderField::Price => courses::CourseSort::Price,
            CourseOrderField::Rating => courses::CourseSort::Rating,
            CourseOrderField::Sales => courses::CourseSort::Sales,
        }
    }
}

/// What the creator list is ordered by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreatorOrderField {
    /// When the profile was created.
    #[default]
    Newest,
    /// Display name.
    Name,
}

/// Ordering of the creator list.
#[derive(InputObject, Default)]
pub struct CreatorOrder {
    /// Key to order by.
    #[graphql(default)]
    pub field: CreatorOrderField,
    /// Direction (default DESC).
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// What the livestream list is ordered by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum LivestreamOrderField {
    /// Scheduled start.
    #[default]
    ScheduledStart,
    /// Peak audience.
    PeakViewers,
}

impl From<LivestreamOrderField> for livestreams::LivestreamSort {
    fn from(value: LivestreamOrderField) -> Self {
        match value {
            LivestreamOrderField::ScheduledStart => livestreams::LivestreamSort::ScheduledStart,
            LivestreamOrderField::PeakViewers => livestreams::LivestreamSort::PeakViewers,
        }
    }
}

/// Ordering of the livestream list.
#[derive(InputObject)]
pub struct LivestreamOrder {
    /// Key to order by.
    #[graphql(default)]
    pub field: LivestreamOrderField,
    /// Direction (default ASC: soonest first).
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl Default for LivestreamOrder {
    fn default() -> Self {
        LivestreamOrder {
            field: LivestreamOrderField::ScheduledStart,
            direction: OrderDirection::Asc,
        }
    }
}

/// What a rating list is ordered by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum RatingOrderField {
    /// When written.
    #[default]
    Newest,
    /// Stars.
    Stars,
}

impl From<RatingOrderField> for ratings::RatingSort {
    fn from(value: RatingOrderField) -> Self {
        match value {
            RatingOrderField::Newest => ratings::RatingSort::Newest,
            RatingOrderField::Stars => ratings::RatingSort::Stars,
        }
    }
}

/// Ordering of a rating list.
#[derive(InputObject, Default)]
pub struct RatingOrder {
    /// Key to order by.
    #[graphql(default)]
    pub field: RatingOrderField,
    /// Direction (default DESC).
    #[graphql(default)]
    pub direction: OrderDirection,
}
