//! Ratings: stars and reviews of courses. Hidden ratings are neither listed nor counted.

use std::collections::HashMap;

use entity::rating;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};

use crate::error::AppResult;
use crate::service::Direction;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Filters of the rating list.
#[derive(Debug, Clone, Default)]
pub struct RatingFilter {
    /// Only ratings of this course.
    pub course_id: Option<i64>,
    /// Only ratings with this many stars.
    pub stars: Option<i32>,
    /// Only hidden ratings (moderation: admins on the console) instead of visible ones.
    pub hidden: bool,
}

/// Orderings of the rating list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RatingSort {
    /// By when it was written.
    #[default]
    Newest,
    /// By stars.
    Stars,
}

/// Aggregate of a course's visible ratings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingSummary {
    /// Number of ratings.
    pub count: i64,
    /// Mean stars; `None` without ratings.
    pub average: Option<f64>,
    /// Ratings per star value, index 0 holding one-star ratings.
    pub distribution: [i64; 5],
}

/// One page of visible ratings.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &crate::auth::Actor,
    filter: RatingFilter,
    sort: RatingSort,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<(Page<rating::Model>, Counted<rating::Entity>)> {
    let mut query = rating::Entity::find();
    if filter.hidden {
        actor.require_console_admin()?;
        query = query.filter(rating::Column::HiddenAt.is_not_null());
    } else {
        query = query.filter(rating::Column::HiddenAt.is_null());
    }
    if let Some(course_id) = filter.course_id {
        query = query.filter(rating::Column::CourseId.eq(course_id));
    }
    if let Some(stars) = filter.stars {
        query = query.filter(rating::Column::Stars.eq(stars));
    }
    let key: (_, fn(&rating::Model) -> SortValue) = match sort {
        RatingSort::Newest => (Expr::col(rating::Column::CreatedAt), |r| {
            SortValue::Time(r.created_at)
        }),
        RatingSort::Stars => (Expr::col(rating::Column::Stars), |r| {
            SortValue::Int(r.stars.into())
        }),
    };
    let sort = SortKey {
        key: Some(key),
        id: rating::Column::Id,
        descending: direction.descending(),
    };
    page::fetch(db, query, &sort, page, |r| r.id).await
}

/// One rating, unless hidden.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<rating::Model>> {
    Ok(rating::Entity::find_by_id(id)
        .filter(rating::Column::HiddenAt.is_null())
        .one(db)
        .await?)
}

#[derive(Debug, FromQueryResult)]
struct StarCount {
    course_id: i64,
    stars: i32,
    ratings: i64,
}

/// Rating summaries of several courses in one grouped query.
pub async fn summaries(
    db: &impl ConnectionTrait,
    course_ids: &[i64],
) -> AppResult<HashMap<i64, RatingSummary>> {
    let rows = rating::Entity::find()
        .select_only()
        .column(rating::Column::CourseId)
        .column(rating::Column::Stars)
        .column_as(rating::Column::Id.count(), "ratings")
        .filter(rating::Column::CourseId.is_in(course_ids.iter().copied()))
        .filter(rating::Column::HiddenAt.is_null())
        .group_by(rating::Column::CourseId)
        .group_by(rating::Column::Stars)
        .into_model::<StarCount>()
        .all(db)
        .await?;
    let mut summaries: HashMap<i64, RatingSummary> = HashMap::new();
    for row in rows {
        let summary = summaries.entry(row.course_id).or_default();
        // The CHECK constraint keeps stars in 1..=5.
        if let Some(slot) = summary.distribution.get_mut((row.stars - 1) as usize) {
            *slot += row.ratings;
        }
    }
    for summary in summaries.values_mut() {
        summary.count = summary.distribution.iter().sum();
        let total: i64 = (1..=5).zip(summary.distribution).map(|(s, n)| s * n).sum();
        summary.average = (summary.count > 0).then(|| total as f64 / summary.count as f64);
    }
    Ok(summaries)
}

// ---------------------------------------------------------------------------------
// Writes: rating, re-rating, deleting, hiding.
//
// Only buyers rate: a live entitlement to the course is required, so every rating is a
// verified purchase. The course's counters (rating_count, rating_sum, used to sort the
// catalogue) change in the same transaction as the rating, with the course row locked
// (PostgreSQL) or the database write-locked (SQLite IMMEDIATE), so they stay exact
// under concurrent rating. The summaries shown are computed from the ratings themselves.
// ---------------------------------------------------------------------------------

use chrono::Utc;
use entity::course;
use entity::enums::ProductKind;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, IntoActiveModel};

use crate::auth::Actor;
use crate::error::AppError;
use crate::service::effects::{Effects, Event};
use crate::service::validation::{Checks, FieldError, UserErrorCode};

/// Longest review, in characters.
pub const MAX_REVIEW: usize = 2_000;

/// Adds `count` ratings totalling `sum` stars to a course's counters (negative to remove).
pub(crate) async fn adjust_counters(
    db: &impl ConnectionTrait,
    course_id: i64,
    count: i64,
    sum: i64,
) -> AppResult<()> {
    if count == 0 && sum == 0 {
        return Ok(());
    }
    course::Entity::update_many()
        .col_expr(
            course::Column::RatingCount,
            Expr::col(course::Column::RatingCount).add(count),
        )
        .col_expr(
            course::Column::RatingSum,
            Expr::col(course::Column::RatingSum).add(sum),
        )
        .filter(course::Column::Id.eq(course_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Rates a course the actor bought; a second call changes the same rating.
pub async fn rate_course(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    course_id: i64,
    stars: i32,
    review: Option<&str>,
) -> AppResult<rating::Model> {
    let user_id = actor.require_user()?;
    let mut checks = Checks::new();
    checks.range("stars", stars.into(), 1, 5);
    let review = checks.optional_text("review", review, MAX_REVIEW);
    checks.finish()?;
    let txn = crate::db::begin_write(db).await?;
    let saved = save_verified(&txn, user_id, course_id, stars, review, Utc::now()).await?;
    txn.commit().await?;
    rating_changed(db, effects, &saved).await;
    Ok(saved)
}

/// Writes a buyer's rating inside the caller's transaction: checks the purchase, then
/// inserts or changes the one (user, course) rating and moves the course's counters with
/// it, with the course row locked. The one writer of ratings, used by `rateCourse` and
/// the demo seed; the caller has validated stars and review and begun a write transaction.
pub async fn save_verified(
    txn: &impl ConnectionTrait,
    user_id: i64,
    course_id: i64,
    stars: i32,
    review: Option<String>,
    now: chrono::DateTime<Utc>,
) -> AppResult<rating::Model> {
    // Lock the course row: concurrent ratings of one course queue here.
    course::Entity::find_by_id(course_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| crate::service::not_found("course"))?;
    let bought =
        crate::service::access::entitled(txn, user_id, ProductKind::Course, &[course_id], now)
            .await?;
    if bought.is_empty() {
        return Err(FieldError::new(
            "course",
            UserErrorCode::InvalidState,
            "only learners who bought the course can rate it",
        )
        .into());
    }
    let existing = rating::Entity::find()
        .filter(rating::Column::UserId.eq(user_id))
        .filter(rating::Column::CourseId.eq(course_id))
        .one(txn)
        .await?;
    Ok(match existing {
        Some(previous) => {
            if previous.hidden_at.is_none() {
                adjust_counters(txn, course_id, 0, i64::from(stars - previous.stars)).await?;
            }
            let mut model = previous.into_active_model();
            model.stars = Set(stars);
            model.review = Set(review);
            model.updated_at = Set(now);
            model.update(txn).await?
        }
        None => {
            adjust_counters(txn, course_id, 1, stars.into()).await?;
            rating::ActiveModel {
                user_id: Set(user_id),
                course_id: Set(course_id),
                stars: Set(stars),
                review: Set(review),
                hidden_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?
        }
    })
}

/// Loads a rating for a change with its course row locked.
async fn rating_for_change(txn: &impl ConnectionTrait, rating_id: i64) -> AppResult<rating::Model> {
    let found = rating::Entity::find_by_id(rating_id)
        .one(txn)
        .await?
        .ok_or_else(|| crate::service::not_found("rating"))?;
    course::Entity::find_by_id(found.course_id)
        .lock_exclusive()
        .one(txn)
        .await?;
    // Read again under the lock: it may have changed while we waited.
    rating::Entity::find_by_id(rating_id)
        .one(txn)
        .await?
        .ok_or_else(|| crate::service::not_found("rating"))
}

/// Deletes a rating: its author, or an admin on the console. Answers the deleted row.
pub async fn delete_rating(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    rating_id: i64,
) -> AppResult<rating::Model> {
    let user_id = actor.require_user()?;
    let txn = crate::db::begin_write(db).await?;
    let found = rating_for_change(&txn, rating_id).await?;
    if found.user_id != user_id {
        actor
            .require_console_admin()
            .map_err(|_| AppError::Forbidden("only the author or an admin may delete a rating"))?;
    }
    if found.hidden_at.is_none() {
        adjust_counters(&txn, found.course_id, -1, -i64::from(found.stars)).await?;
    }
    rating::Entity::delete_by_id(found.id).exec(&txn).await?;
    txn.commit().await?;
    rating_changed(db, effects, &found).await;
    Ok(found)
}

/// Admin moderation: hides (or shows again) a review; hidden ratings are neither listed
/// nor counted.
pub async fn hide_rating(
    db: &DatabaseConnection,
    effects: &Effects,
    actor: &Actor,
    rating_id: i64,
    hidden: bool,
) -> AppResult<rating::Model> {
    actor.require_console_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let found = rating_for_change(&txn, rating_id).await?;
    let was_hidden = found.hidden_at.is_some();
    if was_hidden == hidden {
        txn.commit().await?;
        return Ok(found);
    }
    let stars = i64::from(found.stars);
    if hidden {
        adjust_counters(&txn, found.course_id, -1, -stars).await?;
    } else {
        adjust_counters(&txn, found.course_id, 1, stars).await?;
    }
    let mut model = found.into_active_model();
    model.hidden_at = Set(hidden.then(Utc::now));
    let saved = model.update(&txn).await?;
    txn.commit().await?;
    // The course's rating counters moved.
    rating_changed(db, effects, &saved).await;
    Ok(saved)
}

/// Tells the subscribers a rating was written, changed, hidden or deleted (its course's
/// counters moved; the recommendation model's view of its author changed).
async fn rating_changed(db: &DatabaseConnection, effects: &Effects, rating: &rating::Model) {
    effects
        .publish(
            db,
            Event::RatingChanged {
                user_id: rating.user_id,
                course_id: rating.course_id,
            },
        )
        .await;
}
