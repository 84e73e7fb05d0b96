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
    filter: RatingFilter,
    sort: RatingSort,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<(Page<rating::Model>, Counted<rating::Entity>)> {
    let mut query = rating::Entity::find().filter(rating::Column::HiddenAt.is_null());
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
