//! The recommendation engine: interactions in, ranked item ids out.
//!
//! Nothing here knows GraphQL or the database; `service::recommendations` feeds it
//! the platform's interactions and maps its item keys back to courses. That keeps it
//! testable and benchmarkable alone (`zhiku eval`, `benches/recommend.rs`).
//!
//! - [`model`]: a [`Model`] built from interactions: the item–item model that ranks
//!   (EASE closed form for catalogues up to [`EngineConfig::ease_max_items`], sparse
//!   top-K neighbours above), the rating predictor, popularity for cold start.
//! - [`similarity`]: how the item–item weights are computed.
//! - [`rating`]: baseline + item and user neighbourhood rating prediction.
//! - [`live`]: the served model behind an atomic swap, with incremental updates.
//! - [`eval`]: the offline protocol (`zhiku eval`, `recommend-batch`, `predict`).

pub mod eval;
pub mod live;
pub mod model;
pub mod rating;
pub mod similarity;

#[cfg(test)]
mod tests;

pub use live::{Change, LiveRecommender};
pub use model::{Explanations, Model, ModelStats, Recommendation, UserHistory};

/// Identifies a user to the engine.
pub type UserKey = i64;
/// Identifies an item to the engine (the service encodes courses, groups and livestreams).
pub type ItemKey = i64;

/// What a user did with an item.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Signal {
    /// Bought it (a course).
    Purchase,
    /// Joined it (a community group).
    GroupJoin,
    /// Attended it (a livestream ticket).
    Attendance,
    /// Rated it, 1 to 5 stars.
    Rating(f32),
}

impl Signal {
    /// The kind, without the stars.
    pub fn kind(self) -> SignalKind {
        match self {
            Signal::Purchase => SignalKind::Purchase,
            Signal::GroupJoin => SignalKind::GroupJoin,
            Signal::Attendance => SignalKind::Attendance,
            Signal::Rating(_) => SignalKind::Rating,
        }
    }
}

/// The kinds of [`Signal`], as bit flags in a user's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalKind {
    /// A purchase.
    Purchase = 1,
    /// A group join.
    GroupJoin = 2,
    /// Livestream attendance.
    Attendance = 4,
    /// A rating.
    Rating = 8,
}

/// One interaction of a user with an item.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interaction {
    /// Who.
    pub user: UserKey,
    /// With what.
    pub item: ItemKey,
    /// What they did.
    pub signal: Signal,
    /// When, in Unix seconds.
    pub at: i64,
}

/// How item–item weights are computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SimilarityKind {
    /// EASE when the catalogue has at most `ease_max_items` items, else the sparse default.
    Auto,
    /// EASE (Steck 2019): a ridge regression of every item on all others, closed form.
    Ease,
    /// Cosine of the weighted co-occurrence, shrunk towards zero for rare pairs.
    Cosine,
    /// Conditional probability P(j | i) damped by the popularity of j (RP3β-style).
    ConditionalProbability,
}

/// Everything that tunes the engine. The defaults are the measured best (see README).
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// Which item–item model to build.
    pub similarity: SimilarityKind,
    /// Neighbours kept per item by the sparse models.
    pub neighbours: usize,
    /// EASE is used up to this many items (its cost grows with the cube of the catalogue).
    pub ease_max_items: usize,
    /// EASE's L2 regularisation.
    pub ease_lambda: f32,
    /// Cosine shrinkage: pairs seen together rarely count less.
    pub cosine_shrinkage: f32,
    /// Popularity damping exponent of the conditional-probability model.
    pub popularity_damping: f32,
    /// Weight of a purchase.
    pub purchase_weight: f32,
    /// Weight of a group join.
    pub group_join_weight: f32,
    /// Weight of a livestream attendance.
    pub attendance_weight: f32,
    /// Weight of a rating on its own (a rated item was at least consumed).
    pub rating_weight: f32,
    /// How much each star above or below the user's mean adds or removes.
    pub centred_rating_weight: f32,
    /// Rating neighbours used per prediction.
    pub rating_neighbours: usize,
    /// Pearson-baseline shrinkage for rating neighbours.
    pub rating_shrinkage: f32,
    /// Damping of the neighbourhood correction (added to the sum of similarities).
    pub rating_damping: f32,
    /// How much the user-neighbourhood correction adds to the item one.
    pub user_neighbourhood_weight: f32,
    /// Regularisation of item biases.
    pub item_bias_regularisation: f32,
    /// Regularisation of user biases.
    pub user_bias_regularisation: f32,
    /// Prior strength (in ratings) of the Bayesian average used for cold start.
    pub bayesian_prior_ratings: f32,
    /// Interactions newer than this many days count as recent sales for cold start.
    pub recent_days: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            similarity: SimilarityKind::Auto,
            neighbours: 100,
            ease_max_items: 4000,
            ease_lambda: 300.0,
            cosine_shrinkage: 10.0,
            popularity_damping: 0.3,
            purchase_weight: 1.0,
            group_join_weight: 0.6,
            attendance_weight: 0.6,
            rating_weight: 1.0,
            centred_rating_weight: 0.1,
            rating_neighbours: 40,
            rating_shrinkage: 100.0,
            rating_damping: 0.5,
            user_neighbourhood_weight: 0.5,
            item_bias_regularisation: 10.0,
            user_bias_regularisation: 15.0,
            bayesian_prior_ratings: 10.0,
            recent_days: 30,
        }
    }
}
