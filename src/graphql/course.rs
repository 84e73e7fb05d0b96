//! Courses: the catalogue query, the `Course` object and the creator's course
//! mutations (lessons are in `lesson`).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::access;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::CourseStatus;
use crate::graphql::ids;
use crate::graphql::ids::type_name;
use crate::graphql::loaders::{CreatorById, LessonsOfCourse, RatingSummaryOfCourse};
use crate::graphql::money::Money;
use crate::graphql::objects::{Course, Creator, Lesson, Rating};
use crate::graphql::ordering::{CourseOrder, RatingOrder};
use crate::graphql::pagination::{self, Conn};
use crate::service::access::ProductRef;
use crate::service::{course_moderation, courses, ratings};

/// Stars given to a course by its buyers (verified purchases only).
///
/// Count and average come from the course's counters, which the rating writers keep
/// exact in the rating's transaction; only the distribution reads the ratings.
pub struct RatingSummary(std::sync::Arc<entity::course::Model>);

/// Stars given to a course by its buyers (verified purchases only).
#[Object]
impl RatingSummary {
    /// Mean stars, or null without ratings.
    async fn average(&self) -> Option<f64> {
        (self.0.rating_count > 0).then(|| self.0.rating_sum as f64 / self.0.rating_count as f64)
    }
    /// Number of ratings.
    async fn count(&self) -> i64 {
        self.0.rating_count
    }
    /// Ratings per star value: `distribution[0]` counts one-star ratings, `[4]` five-star.
    async fn distribution(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<i64>> {
        Ok(ctx
            .loader()?
            .load_one(RatingSummaryOfCourse(self.0.id))
            .await?
            .unwrap_or_default()
            .distribution
            .to_vec())
    }
}

/// A course: an ordered set of lessons sold as one product.
#[Object]
impl Course {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(type_name::COURSE, self.0.id)
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
    /// Its limited-time price, current or upcoming (null when none, or once it ended).
    async fn sale(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::graphql::pricing::Sale>> {
        crate::graphql::pricing::sale_of(ctx, &ProductRef::course(&self.0)).await
    }
    /// Coupons offered on this product's page, to claim (`claimCoupon`).
    async fn claimable_coupons(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::coupon::Coupon>> {
        crate::graphql::coupon::claimable(ctx, &ProductRef::course(&self.0)).await
    }
    /// What the viewer pays for the course now, and why (what `createOrder` charges).
    async fn viewer_price(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::pricing::ViewerPrice> {
        crate::graphql::pricing::viewer_price(ctx, &ProductRef::course(&self.0)).await
    }
    /// Lifecycle state.
    async fn status(&self) -> CourseStatus {
        self.0.status.into()
    }
    /// Paid orders of this course.
    async fn sales_count(&self) -> i64 {
        self.0.sales_count
    }
    /// When an admin suspended it; null unless suspended (only its creator and admins
    /// see a suspended course).
    async fn suspended_at(&self) -> Option<DateTime<Utc>> {
        self.0.suspended_at
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
                course: ProductRef::course(&self.0),
            })
            .collect())
    }
    /// Average, count and distribution of its ratings.
    async fn rating_summary(&self) -> RatingSummary {
        RatingSummary(self.0.clone())
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
            ctx.actor()?,
            filter,
            order.field.into(),
            order.direction.into(),
            &page,
        )
        .await?;
        Ok(pagination::connection(db, rows, Rating))
    }
    /// Courses on sale that its buyers also have, most telling first (the same item–item
    /// model as `recommendations`).
    #[graphql(complexity = "first.unwrap_or(10).max(0) as usize * child_complexity")]
    async fn similar_courses(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: Option<i32>,
    ) -> async_graphql::Result<Vec<Course>> {
        let first = first.unwrap_or(10);
        let rows = ctx
            .recommendations()?
            .similar_courses(ctx.db()?, self.0.id, first)
            .await?;
        Ok(rows.into_iter().map(Course).collect())
    }
    /// Whether the viewer may open every lesson (bought it, owns it, or it is free).
    async fn viewer_has_access(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        access::can_open(ctx, &ProductRef::course(&self.0)).await
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
                .map(|id| ids::decode(id, type_name::CREATOR))
                .transpose()?,
            category: self.category,
            status: self.status.map(Into::into),
            min_price_fen: self.min_price_fen,
            max_price_fen: self.max_price_fen,
            title_contains: self.title_contains,
        })
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
        let page = pagination::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().into_service()?;
        Course::page(ctx, &page, filter, order_by.unwrap_or_default()).await
    }
}

// ---------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------

use crate::graphql::payload::{input_id, payload};
use crate::service::courses::{CourseChanges, NewCourse};

payload!(
    /// Result of `createCourse`.
    CreateCoursePayload, course: Course
);
payload!(
    /// Result of `updateCourse`.
    UpdateCoursePayload, course: Course
);
payload!(
    /// Result of `publishCourse`.
    PublishCoursePayload, course: Course
);
payload!(
    /// Result of `archiveCourse`.
    ArchiveCoursePayload, course: Course
);
payload!(
    /// Result of `suspendCourse`.
    SuspendCoursePayload, course: Course
);
payload!(
    /// Result of `restoreCourse`.
    RestoreCoursePayload, course: Course
);
/// Input of `createCourse`.
#[derive(InputObject)]
pub struct CreateCourseInput {
    /// Title, 1 to 128 characters.
    pub title: String,
    /// One-line pitch, up to 256 characters.
    pub subtitle: Option<String>,
    /// Description, up to 20,000 characters.
    pub description: Option<String>,
    /// Cover image, an http(s) URL (needed to publish).
    pub cover_url: Option<String>,
    /// Catalogue category, 1 to 64 characters.
    pub category: String,
    /// Price in fen, 0 (free) to 10,000,000.
    pub price_fen: i64,
}

/// Input of `updateCourse`; omitted fields stay as they are, empty texts clear.
#[derive(InputObject)]
pub struct UpdateCourseInput {
    /// The course.
    pub course: ID,
    /// New title.
    pub title: Option<String>,
    /// New pitch.
    pub subtitle: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New cover URL.
    pub cover_url: Option<String>,
    /// New category.
    pub category: Option<String>,
    /// New price in fen.
    pub price_fen: Option<i64>,
}

/// Input naming one course.
#[derive(InputObject)]
#[graphql(name = "CourseRefInput")]
pub struct CourseRefInput {
    /// The course.
    pub course: ID,
}

/// Course mutations.
#[derive(Default)]
pub struct CourseMutation;

/// Course mutations: the creator's catalogue and admin moderation.
#[Object]
impl CourseMutation {
    /// Creates a draft course owned by the viewer's creator profile.
    async fn create_course(
        &self,
        ctx: &Context<'_>,
        input: CreateCourseInput,
    ) -> async_graphql::Result<CreateCoursePayload> {
        let new = NewCourse {
            title: input.title,
            subtitle: input.subtitle,
            description: input.description,
            cover_url: input.cover_url,
            category: input.category,
            price_fen: input.price_fen,
        };
        let result = courses::create(ctx.db()?, ctx.effects()?, ctx.actor()?, new)
            .await
            .map(Course::from);
        CreateCoursePayload::from_result(result)
    }

    /// Changes a course's details (its creator or an admin).
    async fn update_course(
        &self,
        ctx: &Context<'_>,
        input: UpdateCourseInput,
    ) -> async_graphql::Result<UpdateCoursePayload> {
        let result = async {
            let id = input_id(&input.course, type_name::COURSE, "course")?;
            let changes = CourseChanges {
                title: input.title,
                subtitle: input.subtitle,
                description: input.description,
                cover_url: input.cover_url,
                category: input.category,
                price_fen: input.price_fen,
            };
            courses::update(ctx.db()?, ctx.effects()?, ctx.actor()?, id, changes)
                .await
                .map(Course::from)
        }
        .await;
        UpdateCoursePayload::from_result(result)
    }

    /// Puts a course on sale: it needs at least one lesson, a cover and valid details.
    async fn publish_course(
        &self,
        ctx: &Context<'_>,
        input: CourseRefInput,
    ) -> async_graphql::Result<PublishCoursePayload> {
        let result = async {
            let id = input_id(&input.course, type_name::COURSE, "course")?;
            courses::publish(ctx.db()?, ctx.effects()?, ctx.actor()?, id)
                .await
                .map(Course::from)
        }
        .await;
        PublishCoursePayload::from_result(result)
    }

    /// Withdraws a course from sale; buyers keep access.
    async fn archive_course(
        &self,
        ctx: &Context<'_>,
        input: CourseRefInput,
    ) -> async_graphql::Result<ArchiveCoursePayload> {
        let result = async {
            let id = input_id(&input.course, type_name::COURSE, "course")?;
            courses::archive(ctx.db()?, ctx.effects()?, ctx.actor()?, id)
                .await
                .map(Course::from)
        }
        .await;
        ArchiveCoursePayload::from_result(result)
    }

    /// Admin (console only): takes a course off sale for good; its creator cannot republish it.
    async fn suspend_course(
        &self,
        ctx: &Context<'_>,
        input: CourseRefInput,
    ) -> async_graphql::Result<SuspendCoursePayload> {
        let result = async {
            let id = input_id(&input.course, type_name::COURSE, "course")?;
            course_moderation::suspend(ctx.db()?, ctx.effects()?, ctx.actor()?, id)
                .await
                .map(Course::from)
        }
        .await;
        SuspendCoursePayload::from_result(result)
    }

    /// Admin (console only): lifts a suspension; the course stays archived and its
    /// creator may publish it again.
    async fn restore_course(
        &self,
        ctx: &Context<'_>,
        input: CourseRefInput,
    ) -> async_graphql::Result<RestoreCoursePayload> {
        let result = async {
            let id = input_id(&input.course, type_name::COURSE, "course")?;
            course_moderation::restore(ctx.db()?, ctx.effects()?, ctx.actor()?, id)
                .await
                .map(Course::from)
        }
        .await;
        RestoreCoursePayload::from_result(result)
    }
}
