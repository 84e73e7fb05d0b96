//! Recommendation engine settings.

use clap::{Args, ValueEnum};

use super::defaults;

/// Which item–item model the engine builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimilarityChoice {
    /// EASE up to `--recommend-ease-max-items` items, conditional probability above.
    Auto,
    /// EASE closed form (dense; cost grows with the cube of the catalogue).
    Ease,
    /// Cosine with shrinkage, top-K neighbours.
    Cosine,
    /// Conditional probability with popularity damping, top-K neighbours.
    ConditionalProbability,
}

/// Recommendation engine options, shared by `serve`, `eval`, `recommend-batch` and `predict`
/// so that offline figures describe the served model.
#[derive(Debug, Clone, Args)]
pub struct RecommendConfig {
    /// Item–item model.
    #[arg(long = "recommend-similarity", env = "ZHIKU_RECOMMEND_SIMILARITY", value_enum,
        default_value_t = SimilarityChoice::Auto, global = true)]
    pub similarity: SimilarityChoice,

    /// Neighbours kept per item by the sparse models.
    #[arg(
        long = "recommend-neighbours",
        env = "ZHIKU_RECOMMEND_NEIGHBOURS",
        default_value_t = 100,
        global = true
    )]
    pub neighbours: usize,

    /// Largest catalogue for which `auto` builds EASE.
    #[arg(
        long = "recommend-ease-max-items",
        env = "ZHIKU_RECOMMEND_EASE_MAX_ITEMS",
        default_value_t = 4000,
        global = true
    )]
    pub ease_max_items: usize,

    /// EASE's L2 regularisation.
    #[arg(
        long = "recommend-ease-lambda",
        env = "ZHIKU_RECOMMEND_EASE_LAMBDA",
        default_value_t = 300.0,
        global = true
    )]
    pub ease_lambda: f32,

    /// Weight of a group join relative to a purchase (1.0).
    #[arg(
        long = "recommend-group-join-weight",
        env = "ZHIKU_RECOMMEND_GROUP_JOIN_WEIGHT",
        default_value_t = 0.6,
        global = true
    )]
    pub group_join_weight: f32,

    /// Weight of livestream attendance relative to a purchase (1.0).
    #[arg(
        long = "recommend-attendance-weight",
        env = "ZHIKU_RECOMMEND_ATTENDANCE_WEIGHT",
        default_value_t = 0.6,
        global = true
    )]
    pub attendance_weight: f32,

    /// How much each star above or below the user's mean moves an item's weight.
    #[arg(
        long = "recommend-centred-rating-weight",
        env = "ZHIKU_RECOMMEND_CENTRED_RATING_WEIGHT",
        default_value_t = 0.1,
        global = true
    )]
    pub centred_rating_weight: f32,

    /// Weight of the user–user correction in rating prediction (0 turns it off).
    #[arg(
        long = "recommend-user-neighbourhood-weight",
        env = "ZHIKU_RECOMMEND_USER_NEIGHBOURHOOD_WEIGHT",
        default_value_t = 0.5,
        global = true
    )]
    pub user_neighbourhood_weight: f32,

    /// Seconds between full rebuilds in the server (0: only at startup and on demand).
    #[arg(
        long = "recommend-rebuild-seconds",
        env = "ZHIKU_RECOMMEND_REBUILD_SECONDS",
        default_value_t = 600,
        global = true
    )]
    pub rebuild_seconds: u64,
}

impl RecommendConfig {
    /// The engine configuration these options describe.
    pub fn engine(&self) -> crate::recommend::EngineConfig {
        use crate::recommend::SimilarityKind;
        crate::recommend::EngineConfig {
            similarity: match self.similarity {
                SimilarityChoice::Auto => SimilarityKind::Auto,
                SimilarityChoice::Ease => SimilarityKind::Ease,
                SimilarityChoice::Cosine => SimilarityKind::Cosine,
                SimilarityChoice::ConditionalProbability => SimilarityKind::ConditionalProbability,
            },
            neighbours: self.neighbours,
            ease_max_items: self.ease_max_items,
            ease_lambda: self.ease_lambda,
            group_join_weight: self.group_join_weight,
            attendance_weight: self.attendance_weight,
            centred_rating_weight: self.centred_rating_weight,
            user_neighbourhood_weight: self.user_neighbourhood_weight,
            ..Default::default()
        }
    }
}

impl Default for RecommendConfig {
    /// The defaults written on the options above (the environment is not read).
    fn default() -> Self {
        defaults()
    }
}
