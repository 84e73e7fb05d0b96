//! Livestreams: the schedule, filtered by status, creator and time window.

use chrono::{DateTime, Utc};
use entity::enums::LivestreamStatus;
use entity::livestream;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::AppResult;
use crate::service::Direction;
use crate::service::page::{self, Counted, Page, PageRequest, SortKey, SortValue};

/// Filters of the livestream list.
#[derive(Debug, Clone, Default)]
pub struct LivestreamFilter {
    /// Only these statuses (any of them).
    pub statuses: Option<Vec<LivestreamStatus>>,
    /// Only this creator's livestreams.
    pub creator_id: Option<i64>,
    /// Scheduled to start at or after this time.
    pub starts_after: Option<DateTime<Utc>>,
    /// Scheduled to start before this time.
    pub starts_before: Option<DateTime<Utc>>,
}

/// Orderings of the livestream list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LivestreamSort {
    /// By scheduled start.
    #[default]
    ScheduledStart,
    /// By peak audience.
    PeakViewers,
}

/// One page of livestreams.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: LivestreamFilter,
    sort: LivestreamSort,
    direction: Direction,
    page: &PageRequest,
) -> AppResult<(Page<livestream::Model>, Counted<livestream::Entity>)> {
    let mut query = livestream::Entity::find();
    if let Some(statuses) = filter.statuses.filter(|s| !s.is_empty()) {
        query = query.filter(livestream::Column::Status.is_in(statuses));
    }
    if let Some(creator_id) = filter.creator_id {
        query = query.filter(livestream::Column::CreatorId.eq(creator_id));
    }
    if let Some(after) = filter.starts_after {
        query = query.filter(livestream::Column::ScheduledStart.gte(after));
    }
    if let Some(before) = filter.starts_before {
        query = query.filter(livestream::Column::ScheduledStart.lt(before));
    }
    let key: (_, fn(&livestream::Model) -> SortValue) = match sort {
        LivestreamSort::ScheduledStart => (Expr::col(livestream::Column::ScheduledStart), |l| {
            SortValue::Time(l.scheduled_start)
        }),
        LivestreamSort::PeakViewers => (Expr::col(livestream::Column::PeakViewers), |l| {
            SortValue::Int(l.peak_viewers.into())
        }),
    };
    let sort = SortKey {
        key: Some(key),
        id: livestream::Column::Id,
        descending: direction.descending(),
    };
    page::fetch(db, query, &sort, page, |l| l.id).await
}

/// Livestreams by id in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, livestream::Model>> {
    Ok(livestream::Entity::find()
        .filter(livestream::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect())
}
