//! Courses: the catalogue, filters and orderings, visibility of drafts.

use std::collections::HashMap;

use entity::course;
use entity::enums::CourseStatus;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Select,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::Direction;
use crate::service::effects::{Effects, Event};
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Prior used by the rating order: a course starts as if it had this many ratings of
/// [`RATING_PRIOR_MEAN_MILLI`], so one lucky 5-star review does not top the catalogue.
pub const RATING_PRIOR_COUNT: i64 = 5;
/// Prior mean of the rating order, in thousandths of a star (3.5 stars).
pub const RATING_PRIOR_MEAN_MILLI: i64 = 3500;

/// Filters of the course list; all given filters must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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

/// Whether the actor may see this course: published courses are public; drafts belong
/// to their creator and admins; archived ones also to their buyers, who keep access.
pub async fn visible(
    db: &impl ConnectionTrait,
    actor: &Actor,
    row: &course::Model,
) -> AppResult<bool> {
    if row.status == CourseStatus::Published
        || actor.is_admin()
        || actor.creator_id() == Some(row.creator_id)
    {
        return Ok(true);
    }
    match (row.status, actor.user_id()) {
        (CourseStatus::Archived, Some(user_id)) => Ok(!crate::service::access::entitled(
            db,
            user_id,
            entity::enums::ProductKind::Course,
            &[row.id],
            chrono::Utc::now(),
        )
        .await?
        .is_empty()),
        _ => Ok(false),
    }
}

/// The courses a list with `filter` holds, if the actor may ask for it. Without a status
/// filter only published courses are listed; drafts and archived courses are listed for
/// admins, and for their creator when the list is filtered to that creator. What the
/// list holds does not depend on who asks, so its pages may be shared
/// (`service::read_cache`).
pub fn listed(actor: &Actor, filter: &CourseFilter) -> AppResult<Select<course::Entity>> {
    let status = filter.status.unwrap_or(CourseStatus::Published);
    if status != CourseStatus::Published {
        let owner = actor.is_admin()
            || (filter.creator_id.is_some() && filter.creator_id == actor.creator_id());
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
    if let Some(category) = &filter.category {
        query = query.filter(course::Column::Category.eq(category));
    }
    if let Some(min) = filter.min_price_fen {
        query = query.filter(course::Column::PriceFen.gte(min));
    }
    if let Some(max) = filter.max_price_fen {
        query = query.filter(course::Column::PriceFen.lte(max));
    }
    if let Some(text) = filter
        .title_contains
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        query = query.filter(page::column_contains(course::Column::Title, text.trim()));
    }
    Ok(query)
}

/// One page of a list [`listed`] allowed, in the given order.
pub async fn fetch_page(
    db: &impl ConnectionTrait,
    listed: Select<course::Entity>,
    sort: CourseSort,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<Page<course::Model>> {
    let (rows, _) = page::fetch(db, listed, &sort_key(sort, direction), page, |c| c.id).await?;
    Ok(rows)
}

/// The first page of published courses of each of `creator_ids`, in one statement:
/// a window function numbers each creator's courses in list order and the first
/// `limit + 1` of each come back (the extra row says whether there is a next page).
/// What `creator.courses(first:)` answers for a whole page of creators, so the page
/// costs one statement instead of one per creator. Same rows, order and cursors as
/// [`list`] with a creator filter.
pub async fn first_pages_by_creator(
    db: &impl ConnectionTrait,
    creator_ids: &[i64],
    sort: CourseSort,
    direction: Direction,
    limit: u64,
) -> AppResult<HashMap<i64, Page<course::Model>>> {
    use sea_orm::sea_query::{Alias, Asterisk, ExprTrait, Order, Query, WindowStatement};
    use sea_orm::{FromQueryResult, QueryTrait};

    let key = sort_key(sort, direction);
    let order = if key.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let mut window = WindowStatement::partition_by(course::Column::CreatorId);
    if let Some((expr, _)) = &key.key {
        window.order_by_expr(expr.clone(), order.clone());
    }
    window.order_by(course::Column::Id, order);
    let position = Alias::new("position_in_page");
    let mut ranked = course::Entity::find()
        .filter(course::Column::Status.eq(CourseStatus::Published))
        .filter(course::Column::CreatorId.is_in(creator_ids.iter().copied()))
        .into_query();
    ranked.expr_window_as(Expr::cust("ROW_NUMBER()"), window, position.clone());
    let statement = Query::select()
        .column(Asterisk)
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(position.clone()).lte(limit + 1))
        .order_by(course::Column::CreatorId, Order::Asc)
        .order_by(position, Order::Asc)
        .to_owned();
    let rows = course::Model::find_by_statement(db.get_database_backend().build(&statement))
        .all(db)
        .await?;
    let mut pages: HashMap<i64, Page<course::Model>> = creator_ids
        .iter()
        .map(|&id| (id, Page::default()))
        .collect();
    for row in rows {
        let Some(page) = pages.get_mut(&row.creator_id) else {
            continue;
        };
        if page.items.len() as u64 == limit {
            page.has_next_page = true;
            continue;
        }
        let cursor = page::Cursor {
            key: key.key.as_ref().map(|(_, read)| read(&row)),
            id: row.id,
        };
        page.items.push((cursor, row));
    }
    Ok(pages)
}

/// The published courses of a creator, to count (the `totalCount` beside
/// [`first_pages_by_creator`]).
pub fn published_of_creator(creator_id: i64) -> Counted<course::Entity> {
    Counted::new(
        course::Entity::find()
            .filter(course::Column::Status.eq(CourseStatus::Published))
            .filter(course::Column::CreatorId.eq(creator_id)),
    )
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
    Ok(visible(db, actor, &row).await?.then_some(row))
}

/// Whether a course can be bought and recommended now: published and not suspended.
pub fn is_on_sale(course: &course::Model) -> bool {
    course.status == CourseStatus::Published && course.suspended_at.is_none()
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

// ---------------------------------------------------------------------------------
// Writes: courses (their lessons are in `lessons`).
// ---------------------------------------------------------------------------------

use chrono::Utc;
use entity::lesson;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

use crate::service::validation::{Checks, FieldError, UserErrorCode};
use crate::service::{owned_for_change, require_creator};

/// Longest course description, in characters.
const MAX_DESCRIPTION: usize = 20_000;

/// A new course (fields as in `CreateCourseInput`).
#[derive(Debug, Clone)]
pub struct NewCourse {
    /// Title, 1..=128 characters.
    pub title: String,
    /// Optional pitch, up to 256 characters.
    pub subtitle: Option<String>,
    /// Optional description, up to 20,000 characters.
    pub description: Option<String>,
    /// Optional cover image URL (required to publish).
    pub cover_url: Option<String>,
    /// Category, 1..=64 characters.
    pub category: String,
    /// Price in fen.
    pub price_fen: i64,
}

/// Changes to a course; `None` leaves a field as it is, an empty text clears it.
#[derive(Debug, Clone, Default)]
pub struct CourseChanges {
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

/// Creates a draft course of the actor's creator profile.
pub async fn create(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    input: NewCourse,
) -> AppResult<course::Model> {
    let creator_id = require_creator(actor)?;
    let mut checks = Checks::new();
    let title = checks.text("title", &input.title, 128);
    let subtitle = checks.optional_text("subtitle", input.subtitle.as_deref(), 256);
    let description =
        checks.optional_text("description", input.description.as_deref(), MAX_DESCRIPTION);
    let cover_url = checks.optional_url("coverUrl", input.cover_url.as_deref());
    let category = checks.text("category", &input.category, 64);
    let price_fen = checks.price("priceFen", input.price_fen);
    checks.finish()?;
    let now = Utc::now();
    let created = course::ActiveModel {
        creator_id: Set(creator_id),
        title: Set(title),
        subtitle: Set(subtitle),
        description: Set(description),
        cover_url: Set(cover_url),
        category: Set(category),
        price_fen: Set(price_fen),
        status: Set(CourseStatus::Draft),
        sales_count: Set(0),
        rating_count: Set(0),
        rating_sum: Set(0),
        published_at: Set(None),
        suspended_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // The creator's draft list has a new row.
    effects
        .publish(
            db,
            Event::CourseChanged {
                course_id: created.id,
            },
        )
        .await;
    Ok(created)
}

pub(crate) fn invalid_state(field: &str, message: impl Into<String>) -> AppError {
    FieldError::new(field, UserErrorCode::InvalidState, message).into()
}

/// Loads a course for a change (row locked, owner checked).
pub(crate) async fn course_for_change(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    course_id: i64,
) -> AppResult<course::Model> {
    owned_for_change::<course::Entity>(txn, actor, course_id, "course", |c| c.creator_id).await
}

/// Updates a course's details.
pub async fn update(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
    changes: CourseChanges,
) -> AppResult<course::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = course_for_change(&txn, actor, course_id).await?;
    let mut checks = Checks::new();
    let mut model = row.into_active_model();
    if let Some(title) = changes.title {
        model.title = Set(checks.text("title", &title, 128));
    }
    if let Some(subtitle) = changes.subtitle {
        model.subtitle = Set(checks.optional_text("subtitle", Some(&subtitle), 256));
    }
    if let Some(description) = changes.description {
        model.description =
            Set(checks.optional_text("description", Some(&description), MAX_DESCRIPTION));
    }
    if let Some(cover_url) = changes.cover_url {
        model.cover_url = Set(checks.optional_url("coverUrl", Some(&cover_url)));
    }
    if let Some(category) = changes.category {
        model.category = Set(checks.text("category", &category, 64));
    }
    if let Some(price_fen) = changes.price_fen {
        model.price_fen = Set(checks.price("priceFen", price_fen));
    }
    checks.finish()?;
    model.updated_at = Set(Utc::now());
    save_and_announce(db, effects, txn, model).await
}

/// Publishes a draft or archived course: it needs a lesson, a cover and valid details,
/// and must not be suspended.
pub async fn publish(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
) -> AppResult<course::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = course_for_change(&txn, actor, course_id).await?;
    if row.suspended_at.is_some() {
        return Err(invalid_state(
            "course",
            "the course is suspended by an admin",
        ));
    }
    if row.status == CourseStatus::Published {
        return Err(invalid_state("course", "the course is already published"));
    }
    let lessons = lesson::Entity::find()
        .filter(lesson::Column::CourseId.eq(row.id))
        .count(&txn)
        .await?;
    let mut checks = Checks::new();
    checks.text("title", &row.title, 128);
    match &row.cover_url {
        Some(url) => {
            checks.url("coverUrl", url);
        }
        None => checks.fail(
            "coverUrl",
            UserErrorCode::Required,
            "a cover image is required to publish",
        ),
    }
    checks.price("priceFen", row.price_fen);
    if lessons == 0 {
        checks.fail(
            "course",
            UserErrorCode::InvalidState,
            "add at least one lesson before publishing",
        );
    }
    checks.finish()?;
    let now = Utc::now();
    let published_at = row.published_at.unwrap_or(now);
    let mut model = row.into_active_model();
    model.status = Set(CourseStatus::Published);
    model.published_at = Set(Some(published_at));
    model.updated_at = Set(now);
    save_and_announce(db, effects, txn, model).await
}

/// Withdraws a course from sale; buyers keep their access.
pub async fn archive(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
) -> AppResult<course::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = course_for_change(&txn, actor, course_id).await?;
    if row.status == CourseStatus::Archived {
        return Err(invalid_state("course", "the course is already archived"));
    }
    let mut model = row.into_active_model();
    model.status = Set(CourseStatus::Archived);
    model.updated_at = Set(Utc::now());
    save_and_announce(db, effects, txn, model).await
}

/// Writes a change to a course, commits the change's transaction, and then tells the
/// caches (the read cache, the recommendation model) that the course changed.
pub(crate) async fn save_and_announce(
    db: &DatabaseConnection,
    effects: &Effects,
    txn: sea_orm::DatabaseTransaction,
    model: course::ActiveModel,
) -> AppResult<course::Model> {
    let updated = model.update(&txn).await?;
    txn.commit().await?;
    effects
        .publish(
            db,
            Event::CourseChanged {
                course_id: updated.id,
            },
        )
        .await;
    Ok(updated)
}
