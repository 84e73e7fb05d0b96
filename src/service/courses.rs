//! Courses: the catalogue, filters and orderings, visibility of drafts.

use std::collections::HashMap;

use entity::enums::CourseStatus;
use entity::{course, creator};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::Direction;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Prior used by the rating order: a course starts as if it had this many ratings of
/// [`RATING_PRIOR_MEAN_MILLI`], so one lucky 5-star review does not top the catalogue.
pub const RATING_PRIOR_COUNT: i64 = 5;
/// Prior mean of the rating order, in thousandths of a star (3.5 stars).
pub const RATING_PRIOR_MEAN_MILLI: i64 = 3500;

/// Filters of the course list; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    /// Only this creator's courses.
    pub creator_id: Option<i64>,
    /// Exact category.
    pub category: Option<String>,
    /// Status; anything other than published is for the owner and admins.
    pub status: Option<CourseStatus>,
    /// Lowest price in fen, inclusive.
    pub min_price_fen: Option<i64>,
    /// Highest price in fen, inclusive.
    pub max_price_fen: Option<i64>,
    /// Case-insensitive text contained in the title.
    pub title_contains: Option<String>,
}

/// Orderings of the course list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CourseSort {
    /// By creation time.
    #[default]
    Newest,
    /// By price.
    Price,
    /// By Bayesian-average rating.
    Rating,
    /// By paid orders.
    Sales,
}

/// Bayesian-average rating in thousandths of a star, computed by the database.
fn rating_milli_expr() -> SimpleExpr {
    Expr::cust(format!(
        "((rating_sum * 1000 + {}) / (rating_count + {}))",
        RATING_PRIOR_COUNT * RATING_PRIOR_MEAN_MILLI,
        RATING_PRIOR_COUNT
    ))
}

/// The same value as [`rating_milli_expr`], computed from a row.
pub fn rating_milli(row: &course::Model) -> i64 {
    (row.rating_sum * 1000 + RATING_PRIOR_COUNT * RATING_PRIOR_MEAN_MILLI)
        / (row.rating_count + RATING_PRIOR_COUNT)
}

fn sort_key(sort: CourseSort, direction: Direction) -> SortKey<course::Entity> {
    let key: (SimpleExpr, fn(&course::Model) -> SortValue) = match sort {
        CourseSort::Newest => (Expr::col(course::Column::CreatedAt), |c| {
            SortValue::Time(c.created_at)
        }),
        CourseSort::Price => (Expr::col(course::Column::PriceFen), |c| {
            SortValue::Int(c.price_fen)
        }),
        CourseSort::Rating => (rating_milli_expr(), |c| SortValue::Int(rating_milli(c))),
        CourseSort::Sales => (Expr::col(course::Column::SalesCount), |c| {
            SortValue::Int(c.sales_count)
        }),
    };
    SortKey {
        key: Some(key),
        id: course::Column::Id,
        descending: direction.descending(),
    }
}

/// The creator profile id of the actor, if they have one.
pub async fn creator_id_of(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<Option<i64>> {
    let Some(user_id) = actor.user_id() else {
        return Ok(None);
    };
    Ok(creator::Entity::find()
        .filter(creator::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(|c| c.id))
}

/// Whether the actor may see this course (published, or theirs, or they are an admin).
pub async fn visible(
    db: &impl ConnectionTrait,
    actor: &Actor,
    row: &course::Model,
) -> AppResult<bool> {
    can_see(db, actor, row.status, row.creator_id).await
}

/// Whether the actor may see a course in this state.
async fn can_see(
    db: &impl ConnectionTrait,
    actor: &Actor,
    status: CourseStatus,
    creator_id: i64,
) -> AppResult<bool> {
    if status == CourseStatus::Published || actor.is_admin() {
        return Ok(true);
    }
    Ok(creator_id_of(db, actor).await? == Some(creator_id))
}

/// One page of courses. Without a status filter only published courses are listed;
/// drafts and archived courses are listed for admins, and for their creator when the
/// list is filtered to that creator.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: CourseFilter,
    sort: CourseSort,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<(Page<course::Model>, Counted<course::Entity>)> {
    let status = filter.status.unwrap_or(CourseStatus::Published);
    if status != CourseStatus::Published {
        let owner = match filter.creator_id {
            Some(creator_id) => can_see(db, actor, status, creator_id).await?,
            None => actor.is_admin(),
        };
        if !owner {
            return Err(AppError::Forbidden(
                "only admins and the course's creator may list unpublished courses",
            ));
        }
    }
    let mut query = course::Entity::find().filter(course::Column::Status.eq(status));
    if let Some(creator_id) = filter.creator_id {
        query = query.filter(course::Column::CreatorId.eq(creator_id));
    }
    if let Some(category) = filter.category {
        query = query.filter(course::Column::Category.eq(category));
    }
    if let Some(min) = filter.min_price_fen {
        query = query.filter(course::Column::PriceFen.gte(min));
    }
    if let Some(max) = filter.max_price_fen {
        query = query.filter(course::Column::PriceFen.lte(max));
    }
    if let Some(text) = filter.title_contains.filter(|t| !t.trim().is_empty()) {
        query = query.filter(page::column_contains(course::Column::Title, text.trim()));
    }
    page::fetch(db, query, &sort_key(sort, direction), page, |c| c.id).await
}

/// One course, if it exists and the actor may see it.
pub async fn get(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<course::Model>> {
    let Some(row) = course::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(can_see(db, actor, row.status, row.creator_id)
        .await?
        .then_some(row))
}

/// Courses by id in one query (for DataLoaders); visibility is checked by the caller.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, course::Model>> {
    Ok(course::Entity::find()
        .filter(course::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// The lessons of several courses in one query, each list in course order.
pub async fn lessons_of(
    db: &impl ConnectionTrait,
    course_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<entity::lesson::Model>>> {
    use entity::lesson;
    use sea_orm::QueryOrder;
    let rows = lesson::Entity::find()
        .filter(lesson::Column::CourseId.is_in(course_ids.iter().copied()))
        .order_by_asc(lesson::Column::CourseId)
        .order_by_asc(lesson::Column::Position)
        .all(db)
        .await?;
    let mut by_course: HashMap<i64, Vec<lesson::Model>> = HashMap::new();
    for row in rows {
        by_course.entry(row.course_id).or_default().push(row);
    }
    Ok(by_course)
}

/// One lesson, if its course is visible to the actor.
pub async fn lesson(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<(entity::lesson::Model, course::Model)>> {
    let Some(row) = entity::lesson::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(get(db, actor, row.course_id)
        .await?
        .map(|course| (row, course)))
}
