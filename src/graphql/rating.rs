//! Ratings: the `Rating` object and the ratings list.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::UserById;
use crate::graphql::objects::{Course, Rating, User};
use crate::graphql::ordering::RatingOrder;
use crate::graphql::pagination::{self, Conn};
use crate::service::ratings;

/// A buyer's stars and review of a course. Only buyers can rate, so every rating is a
/// verified purchase.
#[Object]
impl Rating {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::RATING, self.0.id)
    }
    /// 1 to 5 stars.
    async fn stars(&self) -> i32 {
        self.0.stars
    }
    /// Review text, if any.
    async fn review(&self) -> Option<&str> {
        self.0.review.as_deref()
    }
    /// When it was first written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When a moderator hid it; null while visible. Only admins on the console see it
    /// (null for everyone else).
    async fn hidden_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DateTime<Utc>>> {
        Ok(if ctx.actor()?.is_console_admin() {
            self.0.hidden_at
        } else {
            None
        })
    }
    /// Who wrote it.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        ctx.loader()?
            .load_one(UserById(self.0.user_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::NotFound("user").into())
    }
    /// The course rated; null when the viewer may not see it (suspended, or archived
    /// and not theirs).
    async fn course(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Course>> {
        Course::load_visible(ctx, self.0.course_id).await
    }
}

/// Filters of the rating list.
#[derive(InputObject, Default)]
pub struct RatingFilter {
    /// Only ratings of this course.
    pub course: Option<ID>,
    /// Only ratings with this many stars.
    pub stars: Option<i32>,
    /// true: only hidden ratings (admins on the console, for moderation); otherwise
    /// only visible ones.
    pub hidden: Option<bool>,
}

/// Rating queries.
#[derive(Default)]
pub struct RatingQuery;

/// Rating queries.
#[Object]
impl RatingQuery {
    /// Visible ratings, newest first unless ordered otherwise.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn ratings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<RatingFilter>,
        order_by: Option<RatingOrder>,
    ) -> async_graphql::Result<Conn<Rating>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = ratings::RatingFilter {
            course_id: filter
                .course
                .as_ref()
                .map(|id| ids::decode(id, type_name::COURSE))
                .transpose()?,
            stars: filter.stars,
            hidden: filter.hidden.unwrap_or(false),
        };
        let order = order_by.unwrap_or_default();
        let rows = ratings::list(
            db,
            ctx.actor()?,
            filter,
            order.field.into(),
            order.direction.into(),
            &page,
        )
        .await?;
        Ok(pagination::connection(db, rows, Rating))
    }
}

// ---------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------

use crate::graphql::payload::{input_id, payload};

payload!(
    /// Result of `rateCourse` and `hideRating`.
    RatingPayload, rating: Rating
);
payload!(
    /// Result of `deleteRating`: the course it rated.
    DeleteRatingPayload, course: Course
);

/// Input of `rateCourse`.
#[derive(InputObject)]
pub struct RateCourseInput {
    /// The course (which the viewer must have bought).
    pub course: ID,
    /// 1 to 5 stars.
    pub stars: i32,
    /// Review, up to 2,000 characters.
    pub review: Option<String>,
}

/// Input naming one rating.
#[derive(InputObject)]
pub struct RatingRefInput {
    /// The rating.
    pub rating: ID,
}

/// Input of `hideRating`.
#[derive(InputObject)]
pub struct HideRatingInput {
    /// The rating.
    pub rating: ID,
    /// Hide (true) or show again (false).
    #[graphql(default = true)]
    pub hidden: bool,
}

/// Rating mutations.
#[derive(Default)]
pub struct RatingMutation;

/// Rating mutations: verified-purchase ratings and their moderation.
#[Object]
impl RatingMutation {
    /// Rates a course the viewer bought (ratings are verified purchases by
    /// construction); rating again changes the same rating.
    async fn rate_course(
        &self,
        ctx: &Context<'_>,
        input: RateCourseInput,
    ) -> async_graphql::Result<RatingPayload> {
        let result = async {
            let id = input_id(&input.course, type_name::COURSE, "course")?;
            ratings::rate_course(
                ctx.db()?,
                ctx.effects()?,
                ctx.actor()?,
                id,
                input.stars,
                input.review.as_deref(),
            )
            .await
        }
        .await;
        let result = result.map(Rating);
        RatingPayload::from_result(result)
    }

    /// Deletes a rating (its author, or an admin on the console).
    async fn delete_rating(
        &self,
        ctx: &Context<'_>,
        input: RatingRefInput,
    ) -> async_graphql::Result<DeleteRatingPayload> {
        let result = async {
            let id = input_id(&input.rating, type_name::RATING, "rating")?;
            let db = ctx.db()?;
            let deleted = ratings::delete_rating(db, ctx.effects()?, ctx.actor()?, id).await?;
            let course_id = deleted.course_id;
            crate::service::courses::by_ids(db, &[course_id])
                .await?
                .remove(&course_id)
                .map(Course::from)
                .ok_or(AppError::NotFound("course"))
        }
        .await;
        DeleteRatingPayload::from_result(result)
    }

    /// Admin (console only): hides a review from lists and summaries, or shows it again.
    async fn hide_rating(
        &self,
        ctx: &Context<'_>,
        input: HideRatingInput,
    ) -> async_graphql::Result<RatingPayload> {
        let result = async {
            let id = input_id(&input.rating, type_name::RATING, "rating")?;
            ratings::hide_rating(ctx.db()?, ctx.effects()?, ctx.actor()?, id, input.hidden)
                .await
                .map(Rating)
        }
        .await;
        RatingPayload::from_result(result)
    }
}
