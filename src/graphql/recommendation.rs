//! Recommendations, the home feed and the admin rebuild; the rules live in
//! `service::recommendations` and `service::feed`.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, Union};

use crate::graphql::context::ContextExt;
use crate::graphql::objects::{Course, GroupPost, Livestream};
use crate::graphql::payload::payload;
use crate::recommend::ModelStats;
use crate::service::access::ProductRef;
use crate::service::feed::{self, FeedEntry};
use crate::service::recommendations::{CourseRecommendation, Wanted};

/// A course recommended to the viewer, with why.
pub struct Recommendation(pub CourseRecommendation);

/// A course recommended to the viewer, with why.
// Serial: every field is already in memory, so resolving them concurrently would only
// add the cost of a futures set per recommendation.
#[Object(serial)]
impl Recommendation {
    /// The recommended course (on sale, not owned by the viewer, not their own).
    async fn course(&self) -> Course {
        Course(Arc::clone(&self.0.course))
    }
    /// Ranking score: higher is better; compare only within one answer.
    async fn score(&self) -> f64 {
        self.0.score
    }
    /// Stars (1 to 5) the viewer would likely give it; null while no course has ratings.
    async fn predicted_rating(&self) -> Option<f64> {
        self.0.predicted_rating
    }
    /// Courses the viewer has that led here, strongest first (empty for newcomers, who
    /// get the best rated and recently selling courses).
    async fn because(&self) -> Vec<Course> {
        self.0.because.iter().cloned().map(Course).collect()
    }
}

/// One entry of the home feed.
#[derive(Union)]
pub enum FeedItem {
    /// A recommended course.
    Recommendation(Recommendation),
    /// A live or upcoming livestream by a creator the viewer follows.
    Livestream(Livestream),
    /// A new post in one of the viewer's groups.
    GroupPost(GroupPost),
}

/// A feed entry with its cursor.
#[derive(SimpleObject)]
pub struct FeedEdge {
    /// Pass as `after` to continue after this entry.
    pub cursor: String,
    /// The entry.
    pub node: FeedItem,
}

/// Paging state of a feed page.
#[derive(SimpleObject)]
pub struct FeedPageInfo {
    /// Whether more entries follow.
    pub has_next_page: bool,
    /// Cursor of the last entry.
    pub end_cursor: Option<String>,
}

/// A page of the home feed.
#[derive(SimpleObject)]
pub struct FeedConnection {
    /// Entries in feed order.
    pub edges: Vec<FeedEdge>,
    /// Paging state.
    pub page_info: FeedPageInfo,
}

/// Figures of the recommendation model being served.
#[derive(SimpleObject)]
pub struct RecommendationStats {
    /// Items (courses, groups, livestreams) the model knows.
    pub items: i64,
    /// Users with at least one interaction.
    pub users: i64,
    /// Distinct (user, item) interactions.
    pub interactions: i64,
    /// Non-zero item–item similarities kept.
    pub non_zero_similarities: i64,
    /// Which item–item model was built (`ease`, `cosine`, `conditional-probability`).
    pub similarity: String,
    /// How long the build took, in seconds.
    pub build_seconds: f64,
}

impl From<ModelStats> for RecommendationStats {
    fn from(stats: ModelStats) -> Self {
        RecommendationStats {
            items: stats.items as i64,
            users: stats.users as i64,
            interactions: stats.interactions as i64,
            non_zero_similarities: stats.non_zero_similarities as i64,
            similarity: stats.similarity.to_owned(),
            build_seconds: stats.build_seconds,
        }
    }
}

/// Recommendation queries.
#[derive(Default)]
pub struct RecommendationQuery;

/// Recommendation queries.
#[Object]
impl RecommendationQuery {
    /// Courses picked for the viewer from what they and similar learners bought, joined,
    /// attended and rated; never one they have, one they sell, or one not on sale.
    /// Anonymous viewers and newcomers get the best rated, recently selling courses.
    #[graphql(complexity = "first.max(0) as usize * child_complexity")]
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
        category: Option<String>,
    ) -> async_graphql::Result<Vec<Recommendation>> {
        let selection = ctx.look_ahead();
        let wanted = Wanted {
            predicted_rating: selection.field("predictedRating").exists(),
            because: selection.field("because").exists(),
        };
        let rows = ctx
            .recommendations()?
            .recommend(ctx.db()?, ctx.actor()?, first, category.as_deref(), wanted)
            .await?;
        Ok(rows.into_iter().map(Recommendation).collect())
    }

    /// The mini-program home feed: recommended courses, upcoming livestreams of followed
    /// creators and new posts in the viewer's groups; no entry twice, stable across pages.
    #[graphql(complexity = "first.max(0) as usize * child_complexity")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<FeedConnection> {
        let page = feed::page(
            ctx.db()?,
            ctx.recommendations()?,
            ctx.actor()?,
            first,
            after.as_deref(),
        )
        .await?;
        let edges: Vec<FeedEdge> = page
            .entries
            .into_iter()
            .map(|(cursor, entry)| FeedEdge {
                cursor,
                node: match entry {
                    FeedEntry::Course(r) => FeedItem::Recommendation(Recommendation(r)),
                    FeedEntry::Livestream(l) => FeedItem::Livestream(Livestream(l)),
                    FeedEntry::Post { post, group } => FeedItem::GroupPost(GroupPost {
                        post,
                        group: ProductRef::group(&group),
                    }),
                },
            })
            .collect();
        Ok(FeedConnection {
            page_info: FeedPageInfo {
                has_next_page: page.has_next_page,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }
}

payload!(
    /// Result of `rebuildRecommendations`: the new model's figures.
    RebuildRecommendationsPayload, stats: RecommendationStats
);

/// Recommendation mutations.
#[derive(Default)]
pub struct RecommendationMutation;

/// Recommendation mutations.
#[Object]
impl RecommendationMutation {
    /// Admin (console only): rebuilds the recommendation model from the database now and
    /// swaps it in; requests keep being served meanwhile.
    async fn rebuild_recommendations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<RebuildRecommendationsPayload> {
        ctx.actor()?.require_console_admin()?;
        let result = ctx
            .recommendations()?
            .rebuild(ctx.db()?)
            .await
            .map(RecommendationStats::from);
        RebuildRecommendationsPayload::from_result(result)
    }
}
