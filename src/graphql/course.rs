//! Courses and lessons: the catalogue query and the `Course` / `Lesson` objects.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{course, lesson};

use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::creator::Creator;
use crate::graphql::enums::{CourseStatus, LessonKind, OrderDirection};
use crate::graphql::loaders::{CourseById, CreatorById, LessonsOfCourse, RatingSummaryOfCourse};
use crate::graphql::money::Money;
use crate::graphql::pagination::{self, Conn};
use crate::graphql::rating::{Rating, RatingOrder};
use crate::graphql::{ids, prefetch};
use crate::service::{self, access, courses, ratings};

/// A course: an ordered set of lessons sold as one product.
pub struct Course(pub course::Model);

/// Stars given to a course by its buyers (verified purchases only).
#[derive(SimpleObject)]
pub struct RatingSummary {
    /// Mean stars, or null without ratings.
    pub average: Option<f64>,
    /// Number of ratings.
    pub count: i64,
    /// Ratings per star value: `distribution[0]` counts one-star ratings, `[4]` five-star.
    pub distribution: Vec<i64>,
}

impl From<service::ratings::RatingSummary> for RatingSummary {
    fn from(summary: service::ratings::RatingSummary) -> Self {
        RatingSummary {
            average: summary.average,
            count: summary.count,
            distribution: summary.distribution.to_vec(),
        }
    }
}

/// A course: an ordered set of lessons sold as one product.
#[Object]
impl Course {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode("Course", self.0.id)
    }
    /// Title shown in the catalogue.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// One-line pitch under the title.
    async fn subtitle(&self) -> Option<&str> {
        self.0.subtitle.as_deref()
    }
    /// Long description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Cover image URL.
    async fn cover_url(&self) -> Option<&str> {
        self.0.cover_url.as_deref()
    }
    /// Catalogue category.
    async fn category(&self) -> &str {
        &self.0.category
    }
    /// Price of the whole course.
    async fn price(&self) -> Money {
        Money::cny(self.0.price_fen)
    }
    /// Lifecycle state.
    async fn status(&self) -> CourseStatus {
        self.0.status.into()
    }
    /// Paid orders of this course.
    async fn sales_count(&self) -> i64 {
        self.0.sales_count
    }
    /// When it was first published.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who sells it.
    async fn creator(&self, ctx: &Context<'_>) -> async_graphql::Result<Creator> {
        ctx.loader()?
            .load_one(CreatorById(self.0.creator_id))
            .await?
            .map(Creator)
            .ok_or_else(|| AppError::NotFound("creator").into())
    }
    /// Lessons in course order; content is null where locked.
    async fn lessons(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Lesson>> {
        let rows = ctx
            .loader()?
            .load_one(LessonsOfCourse(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|lesson| Lesson {
                lesson,
                course_price_fen: self.0.price_fen,
            })
            .collect())
    }
    /// Average, count and distribution of its ratings.
    async fn rating_summary(&self, ctx: &Context<'_>) -> async_graphql::Result<RatingSummary> {
        Ok(ctx
            .loader()?
            .load_one(RatingSummaryOfCourse(self.0.id))
            .await?
            .unwrap_or_default()
            .into())
    }
    /// Ratings of this course, newest first unless ordered otherwise.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    async fn ratings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<RatingOrder>,
    ) -> async_graphql::Result<Conn<Rating>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let order = order_by.unwrap_or_default();
        let filter = ratings::RatingFilter {
            course_id: Some(self.0.id),
            ..Default::default()
        };
        let rows = ratings::list(
            db,
            filter,
            order.field.into(),
            order.direction.into(),
            &page,
        )
        .await?;
        Ok(pagination::connection(db, rows, Rating))
    }
    /// Whether the viewer may open every lesson.
    async fn viewer_has_access(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(access::can_see_paid_content(ctx.actor()?, self.0.price_fen))
    }
}

/// One part of a course.
pub struct Lesson {
    /// The lesson row.
    pub lesson: lesson::Model,
    /// Price of its course, which decides whether the content is locked.
    pub course_price_fen: i64,
}

/// One part of a course.
#[Object]
impl Lesson {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode("Lesson", self.lesson.id)
    }
    /// 1-based place in the course.
    async fn position(&self) -> i32 {
        self.lesson.position
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.lesson.title
    }
    /// Medium.
    async fn kind(&self) -> LessonKind {
        self.lesson.kind.into()
    }
    /// Length in seconds.
    async fn duration_seconds(&self) -> i32 {
        self.lesson.duration_seconds
    }
    /// Open to everyone as a taste of the course.
    async fn free_preview(&self) -> bool {
        self.lesson.free_preview
    }
    /// True when the viewer may not see the content.
    async fn locked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(!self.visible(ctx)?)
    }
    /// Media URL or article body; null when locked.
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(if self.visible(ctx)? {
            self.lesson.content.as_deref()
        } else {
            None
        })
    }
    /// The course it belongs to.
    async fn course(&self, ctx: &Context<'_>) -> async_graphql::Result<Course> {
        ctx.loader()?
            .load_one(CourseById(self.lesson.course_id))
            .await?
            .map(Course)
            .ok_or_else(|| AppError::NotFound("course").into())
    }
}

impl Lesson {
    fn visible(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(access::can_see_lesson(
            ctx.actor()?,
            self.lesson.free_preview,
            self.course_price_fen,
        ))
    }
}

/// Filters of the course list; all given filters must hold.
#[derive(InputObject, Default)]
pub struct CourseFilter {
    /// Only this creator's courses.
    pub creator: Option<ID>,
    /// Exact category.
    pub category: Option<String>,
    /// Status (default PUBLISHED; others only for the creator and admins).
    pub status: Option<CourseStatus>,
    /// Lowest price in fen, inclusive.
    pub min_price_fen: Option<i64>,
    /// Highest price in fen, inclusive.
    pub max_price_fen: Option<i64>,
    /// Text the title contains (case-insensitive).
    pub title_contains: Option<String>,
}

impl CourseFilter {
    /// The service filter, with IDs decoded.
    pub fn into_service(self) -> Result<courses::CourseFilter, AppError> {
        Ok(courses::CourseFilter {
            creator_id: self
                .creator
                .as_ref()
                .map(|id| ids::decode(id, "Creator"))
                .transpose()?,
            category: self.category,
            status: self.status.map(Into::into),
            min_price_fen: self.min_price_fen,
            max_price_fen: self.max_price_fen,
            title_contains: self.title_contains,
        })
    }
}

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

/// Course queries.
#[derive(Default)]
pub struct CourseQuery;

/// Course queries.
#[Object]
impl CourseQuery {
    /// The course catalogue.
    #[graphql(complexity = "pagination::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn courses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CourseFilter>,
        order_by: Option<CourseOrder>,
    ) -> async_graphql::Result<Conn<Course>> {
        let db = ctx.db()?;
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_service()?;
        let order = order_by.unwrap_or_default();
        let rows = courses::list(
            db,
            ctx.actor()?,
            filter,
            order.field.into(),
            order.direction.into(),
            &page,
        )
        .await?;
        let page_rows: Vec<_> = rows.0.items.iter().map(|(_, c)| c).collect();
        prefetch::courses(ctx, &page_rows).await?;
        Ok(pagination::connection(db, rows, Course))
    }
}
